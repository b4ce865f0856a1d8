//! Groups: `GET/POST /groups`, `GET /groups/count`, `GET/PUT/DELETE /groups/{id}`,
//! `GET/POST /groups/{id}/children`, `GET /groups/{id}/members`.
//!
//! As in Keycloak, groups are governed by the user roles: listing and counting need
//! `query-groups` (or `view-users`), reading a group, its children and members needs
//! `view-users`, and creating, changing or deleting groups needs `manage-users`. Every change
//! to the group tree drops the configuration caches (group roles and paths feed every token).

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::params::{self, MAX_PAGE, Query};
use crate::admin::{Context, bad_field, bad_param, context, db, realm_url, repr};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portcullis_model::records::new_id;
use portcullis_model::repr::GroupRepresentation;
use portcullis_store::{GroupDetails, Match, NameTaken, Page, TextFilter};
use serde_json::json;

/// Default page size of `GET /groups/{id}/children` (Keycloak's).
const CHILDREN_MAX: i64 = 10;
/// Default page size of `GET /groups/{id}/members` (Keycloak's).
const MEMBERS_MAX: i64 = 100;

/// The group `id` of the context's realm, or 404 `Could not find group by id`.
async fn find(s: &AppState, c: &Context, id: &str) -> Result<GroupDetails, Response> {
    db(s.store.group_details(&c.realm.id, id).await)?
        .ok_or_else(|| http::not_found("Could not find group by id"))
}

/// The id of the group at a full path (`/parent/child`), walking down from the top.
pub async fn find_by_path(
    s: &AppState,
    realm_id: &str,
    path: &str,
) -> Result<Option<String>, Response> {
    let mut parent: Option<String> = None;
    let names: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if names.is_empty() {
        return Ok(None);
    }
    for name in names {
        let exact = TextFilter::new(name, Match::Exact);
        let found = db(s
            .store
            .groups_page(
                realm_id,
                parent.as_deref(),
                Some(&exact),
                Page { first: 0, max: 10 },
            )
            .await)?;
        match found.into_iter().find(|g| g.group.name == name) {
            Some(g) => parent = Some(g.group.id),
            None => return Ok(None),
        }
    }
    Ok(parent)
}

/// Representations of a page of groups; the full form loads each group's roles.
async fn reprs(
    s: &AppState,
    c: &Context,
    groups: &[GroupDetails],
    brief: bool,
) -> Result<Vec<GroupRepresentation>, Response> {
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let roles = if brief {
            None
        } else {
            Some(db(s.store.group_roles(&g.group.id).await)?)
        };
        out.push(repr::group_repr(g, brief, roles.as_deref(), &c.access));
    }
    Ok(out)
}

/// GET `/groups`: top-level groups (`first`, `max`, `briefRepresentation` default true), or
/// with `search` (`exact`) the matching groups at any level under their top-level ancestors.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups",
    tag = "groups",
    params(crate::admin::openapi::RealmP, crate::admin::openapi::NameSearch, crate::admin::openapi::Paging, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::GroupRepresentation>),
    )
)]
pub async fn list(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ListGroups).await?;
    let q = Query::parse(raw.as_deref());
    let page = q.page(MAX_PAGE).map_err(bad_param)?;
    let brief = q
        .flag("briefRepresentation")
        .map_err(bad_param)?
        .unwrap_or(true);
    if let Some(filter) = params::name_filter(&q).map_err(bad_param)? {
        let found = db(s
            .store
            .groups_matching(&c.realm.id, &filter, MAX_PAGE)
            .await)?;
        let tree: Vec<GroupRepresentation> = repr::group_tree(&found, &c.access)
            .into_iter()
            .skip(usize::try_from(page.first).unwrap_or(usize::MAX))
            .take(usize::try_from(page.max).unwrap_or(0))
            .collect();
        return http::ok(tree);
    }
    let groups = db(s.store.groups_page(&c.realm.id, None, None, page).await)?;
    http::ok(reprs(&s, &c, &groups, brief).await?)
}

/// GET `/groups/count` (`search`, `top`): `{"count": n}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups/count",
    tag = "groups",
    params(crate::admin::openapi::RealmP, crate::admin::openapi::NameSearch, crate::admin::openapi::Top),
    responses(
        (status = 200, description = "OK", body = crate::admin::openapi::CountBody),
    )
)]
pub async fn count(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ListGroups).await?;
    let q = Query::parse(raw.as_deref());
    let filter = params::name_filter(&q).map_err(bad_param)?;
    let top = q.flag("top").map_err(bad_param)?.unwrap_or(false);
    let n = db(s
        .store
        .count_groups(&c.realm.id, filter.as_ref(), top)
        .await)?;
    http::ok(json!({"count": n}))
}

/// Create a group under `parent` (top level when None): the new group, or 409.
async fn create_in(
    s: &AppState,
    c: &Context,
    parent: Option<&str>,
    rep: &GroupRepresentation,
) -> Result<GroupDetails, Response> {
    if rep.id.as_deref().is_some_and(|i| !i.is_empty()) {
        return Err(http::bad_request(
            "Moving an existing group is not supported yet",
        ));
    }
    let g = repr::new_group(&c.realm.id, parent, rep, new_id()).map_err(bad_field)?;
    match s.store.create_group(&g).await {
        Ok(Ok(())) => {}
        Ok(Err(NameTaken)) => {
            return Err(http::conflict(&match parent {
                None => format!("Top level group named '{}' already exists.", g.name),
                Some(_) => format!("Sibling group named '{}' already exists.", g.name),
            }));
        }
        Err(portcullis_store::StoreError::NotFound(_)) => {
            return Err(http::not_found("Could not find group by id"));
        }
        Err(e) => return Err(crate::error::internal(e)),
    }
    s.caches.invalidate_config();
    find(s, c, &g.id).await
}

/// POST `/groups`: 201 with `Location: .../groups/{id}`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/groups",
    tag = "groups",
    params(crate::admin::openapi::RealmP),
    request_body(content = portcullis_model::repr::GroupRepresentation, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names the new resource", headers(("Location" = String, description = "URL of the new resource"))),
        (status = 409, description = "Name already taken", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn create(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageGroups).await?;
    let rep: GroupRepresentation = http::read_json(&headers, body).await?;
    let g = create_in(&s, &c, None, &rep).await?;
    http::created(&format!(
        "{}/groups/{}",
        realm_url(&s, &headers, &c.realm.name),
        g.group.id
    ))
}

/// GET `/groups/{id}`: the full representation.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups/{id}",
    tag = "groups",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = portcullis_model::repr::GroupRepresentation),
    )
)]
pub async fn get(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewGroups).await?;
    let g = find(&s, &c, &id).await?;
    let roles = db(s.store.group_roles(&g.group.id).await)?;
    http::ok(repr::group_repr(&g, false, Some(&roles), &c.access))
}

/// PUT `/groups/{id}`: rename, describe, set attributes; 204.
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/groups/{id}",
    tag = "groups",
    params(crate::admin::openapi::IdP),
    request_body(content = portcullis_model::repr::GroupRepresentation, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "Name already taken", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn update(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageGroups).await?;
    let rep: GroupRepresentation = http::read_json(&headers, body).await?;
    let current = find(&s, &c, &id).await?;
    let g = repr::merge_group(&current.group, &rep).map_err(bad_field)?;
    match s.store.update_group(&g).await {
        Ok(Ok(())) => {}
        Ok(Err(NameTaken)) => {
            return Err(http::conflict(&match g.parent_id {
                None => format!("Top level group named '{}' already exists.", g.name),
                Some(_) => format!("Sibling group named '{}' already exists.", g.name),
            }));
        }
        Err(portcullis_store::StoreError::NotFound(_)) => {
            return Err(http::not_found("Could not find group by id"));
        }
        Err(e) => return Err(crate::error::internal(e)),
    }
    s.caches.invalidate_config();
    http::no_content()
}

/// DELETE `/groups/{id}`: the group, its sub-groups and their memberships; 204.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/groups/{id}",
    tag = "groups",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn delete(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageGroups).await?;
    if !db(s.store.delete_group(&c.realm.id, &id).await)? {
        return Err(http::not_found("Could not find group by id"));
    }
    s.caches.invalidate_config();
    http::no_content()
}

/// GET `/groups/{id}/children` (`search`, `exact`, `first`, `max` default 10,
/// `briefRepresentation` default false).
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups/{id}/children",
    tag = "groups",
    params(crate::admin::openapi::IdP, crate::admin::openapi::NameSearch, crate::admin::openapi::Paging, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::GroupRepresentation>),
    )
)]
pub async fn children(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewGroups).await?;
    let q = Query::parse(raw.as_deref());
    let filter = params::name_filter(&q).map_err(bad_param)?;
    let page = q.page(CHILDREN_MAX).map_err(bad_param)?;
    let brief = q
        .flag("briefRepresentation")
        .map_err(bad_param)?
        .unwrap_or(false);
    let parent = find(&s, &c, &id).await?;
    let groups = db(s
        .store
        .groups_page(&c.realm.id, Some(&parent.group.id), filter.as_ref(), page)
        .await)?;
    http::ok(reprs(&s, &c, &groups, brief).await?)
}

/// POST `/groups/{id}/children`: 201 with `Location` and the new group.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/groups/{id}/children",
    tag = "groups",
    params(crate::admin::openapi::IdP),
    request_body(content = portcullis_model::repr::GroupRepresentation, content_type = "application/json"),
    responses(
        (status = 201, description = "Created, with `Location` and the new group", body = portcullis_model::repr::GroupRepresentation, headers(("Location" = String, description = "URL of the new group"))),
        (status = 409, description = "Name already taken", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn add_child(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageGroups).await?;
    let rep: GroupRepresentation = http::read_json(&headers, body).await?;
    let parent = find(&s, &c, &id).await?;
    let g = create_in(&s, &c, Some(&parent.group.id), &rep).await?;
    let location = format!(
        "{}/groups/{}",
        realm_url(&s, &headers, &c.realm.name),
        g.group.id
    );
    let mut resp = http::json(
        StatusCode::CREATED,
        serde_json::to_value(repr::group_repr(&g, false, Some(&[]), &c.access)).unwrap_or_default(),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&location) {
        resp.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    Ok(resp)
}

/// GET `/groups/{id}/members` (`first`, `max` default 100, `briefRepresentation` default
/// false): cut by the database, never the whole membership. A client walking the group
/// (`first` += `max`) gets each next page by a seek past the last username it was sent
/// (a cursor kept for a minute), so deep pages cost what the first one does; any other
/// `first` is counted off as an offset.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups/{id}/members",
    tag = "groups",
    params(crate::admin::openapi::IdP, crate::admin::openapi::Paging, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::UserRepresentation>),
    )
)]
pub async fn members(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewGroups).await?;
    let q = Query::parse(raw.as_deref());
    let page = q.page(MEMBERS_MAX).map_err(bad_param)?;
    let brief = q
        .flag("briefRepresentation")
        .map_err(bad_param)?
        .unwrap_or(false);
    let g = find(&s, &c, &id).await?;
    let cursor = (page.first > 0)
        .then(|| {
            s.caches
                .member_cursors
                .get(&(g.group.id.clone(), page.first))
        })
        .flatten();
    let users = match cursor {
        Some(after) => db(s
            .store
            .group_members_after(&c.realm.id, &g.group.id, &after, page.max)
            .await)?,
        None => db(s.store.group_members(&c.realm.id, &g.group.id, page).await)?,
    };
    if let Some(last) = users.last() {
        let next = page.first.saturating_add(users.len() as i64);
        s.caches
            .member_cursors
            .insert((g.group.id.clone(), next), last.user.username.clone());
    }
    http::ok(
        users
            .iter()
            .map(|u| repr::user_repr(u, brief, &c.access))
            .collect::<Vec<_>>(),
    )
}
