//! Composite roles and who holds a role, under the three ways of naming a role
//! (`/roles/{role-name}`, `/roles-by-id/{role-id}`, `/clients/{id}/roles/{role-name}`):
//! `GET/POST/DELETE .../composites`, `GET .../composites/realm`,
//! `GET .../composites/clients/{client-uuid}`; and `GET .../users`, `GET .../groups` for named
//! roles.
//!
//! Reading a role's members needs the view right on the role; adding or removing members the
//! manage right on it, and for every role in the closure of the members added or removed the
//! right to grant it (`role_mappings::check_grants`): a composite already granted to someone
//! would otherwise hand out administration rights its editor does not hold. A member that
//! would make the role contain itself is refused with 400 and nothing changes. Every change
//! drops the configuration caches, which hold every user's effective roles.
//!
//! Who holds a role: the users and groups granted it directly (as Keycloak), a page at a time,
//! cut by the database; users also need `view-users`, groups `view-users` (groups are governed
//! by the user rights).

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::params::Query;
use crate::admin::role_mappings::check_grants;
use crate::admin::role_refs::{self, Intent, RoleAt};
use crate::admin::{Context, bad_param, db, repr};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_model::repr::RoleRepresentation;
use portcullis_store::CompositeCycle;

/// Default page size of the holder lists (Keycloak's).
const DEFAULT_MAX: i64 = 100;

/// Which members to list.
#[derive(Debug, Clone, Copy)]
enum Members<'a> {
    All,
    Realm,
    Client(&'a str),
}

async fn list_at(
    s: &AppState,
    headers: &HeaderMap,
    realm: &str,
    at: RoleAt<'_>,
    members: Members<'_>,
) -> Answer {
    let (c, role) = role_refs::open(s, headers, realm, at, Intent::View).await?;
    let client = match members {
        Members::Client(id) => Some(role_refs::client(s, &c.realm.id, id).await?.id),
        _ => None,
    };
    let found = db(s.store.role_composites(&role.role.id).await)?;
    http::ok(
        found
            .iter()
            .filter(|d| match members {
                Members::All => true,
                Members::Realm => d.role.client_id.is_none(),
                Members::Client(_) => d.role.client_id == client,
            })
            .map(|d| repr::role_repr(d, true))
            .collect::<Vec<_>>(),
    )
}

/// The roles a body names, by `id` (or, without one, a realm role by `name`): 404
/// `Could not find composite role` for any that is not a role of the realm.
async fn resolve(
    s: &AppState,
    c: &Context,
    reps: &[RoleRepresentation],
) -> Result<Vec<String>, Response> {
    let mut ids = Vec::with_capacity(reps.len());
    for rep in reps {
        let found = match (&rep.id, &rep.name) {
            (Some(id), _) => db(s.store.role_details_by_id(&c.realm.id, id).await)?,
            (None, Some(name)) => db(s.store.realm_role_details(&c.realm.id, name).await)?,
            (None, None) => None,
        };
        match found {
            Some(d) => ids.push(d.role.id),
            None => return Err(http::not_found("Could not find composite role")),
        }
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

async fn add_at(
    s: &AppState,
    headers: &HeaderMap,
    realm: &str,
    at: RoleAt<'_>,
    body: Body,
) -> Answer {
    let (c, role) = role_refs::open(s, headers, realm, at, Intent::Manage).await?;
    let reps: Vec<RoleRepresentation> = http::read_json(headers, body).await?;
    let ids = resolve(s, &c, &reps).await?;
    check_grants(s, &c, &ids, &[]).await?;
    match s
        .store
        .add_composites(&c.realm.id, &role.role.id, &ids)
        .await
    {
        Ok(Ok(())) => {}
        Ok(Err(CompositeCycle { role_id })) => {
            let what = if role_id == role.role.id {
                format!("Role '{}' cannot be a composite of itself", role.role.name)
            } else {
                format!(
                    "Adding role {role_id} as a composite of '{}' would create a cycle: it already contains '{}'",
                    role.role.name, role.role.name
                )
            };
            return Err(http::bad_request(&what));
        }
        Err(portcullis_store::StoreError::NotFound(_)) => {
            return Err(http::not_found("Could not find composite role"));
        }
        Err(e) => return Err(crate::error::internal(e)),
    }
    s.caches.invalidate_config();
    http::no_content()
}

async fn remove_at(
    s: &AppState,
    headers: &HeaderMap,
    realm: &str,
    at: RoleAt<'_>,
    body: Body,
) -> Answer {
    let (c, role) = role_refs::open(s, headers, realm, at, Intent::Manage).await?;
    let reps: Vec<RoleRepresentation> = http::read_json(headers, body).await?;
    let ids = resolve(s, &c, &reps).await?;
    check_grants(s, &c, &ids, &[]).await?;
    db(s.store.remove_composites(&role.role.id, &ids).await)?;
    s.caches.invalidate_config();
    http::no_content()
}

/// `first`, `max` (default 100) and `briefRepresentation` (default `brief`).
fn holder_params(
    raw: Option<&str>,
    brief: bool,
) -> Result<(portcullis_store::Page, bool), Response> {
    let q = Query::parse(raw);
    let page = q.page(DEFAULT_MAX).map_err(bad_param)?;
    let brief = q
        .flag("briefRepresentation")
        .map_err(bad_param)?
        .unwrap_or(brief);
    Ok((page, brief))
}

async fn users_at(
    s: &AppState,
    headers: &HeaderMap,
    realm: &str,
    at: RoleAt<'_>,
    raw: Option<&str>,
) -> Answer {
    let (c, role) = role_refs::open(s, headers, realm, at, Intent::View).await?;
    c.require(Action::ViewUsers)?;
    let (page, brief) = holder_params(raw, false)?;
    let users = db(s.store.role_users(&c.realm.id, &role.role.id, page).await)?;
    http::ok(
        users
            .iter()
            .map(|u| repr::user_repr(u, brief, &c.access))
            .collect::<Vec<_>>(),
    )
}

async fn groups_at(
    s: &AppState,
    headers: &HeaderMap,
    realm: &str,
    at: RoleAt<'_>,
    raw: Option<&str>,
) -> Answer {
    let (c, role) = role_refs::open(s, headers, realm, at, Intent::View).await?;
    c.require(Action::ViewGroups)?;
    let (page, brief) = holder_params(raw, true)?;
    let groups = db(s.store.role_groups(&c.realm.id, &role.role.id, page).await)?;
    let mut out = Vec::with_capacity(groups.len());
    for g in &groups {
        let roles = if brief {
            None
        } else {
            Some(db(s.store.group_roles(&g.group.id).await)?)
        };
        out.push(repr::group_repr(g, brief, roles.as_deref(), &c.access));
    }
    http::ok(out)
}

// ---------------------------------------------------------------------- axum handlers

type Two = Path<(String, String)>;
type Three = Path<(String, String, String)>;
type Four = Path<(String, String, String, String)>;

/// GET `/roles/{role-name}/composites`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/roles/{role_name}/composites",
    tag = "roles",
    params(crate::admin::openapi::RoleP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn realm_all(State(s): State<AppState>, Path((r, n)): Two, h: HeaderMap) -> Answer {
    list_at(&s, &h, &r, RoleAt::Realm(&n), Members::All).await
}
/// GET `/roles/{role-name}/composites/realm`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/roles/{role_name}/composites/realm",
    tag = "roles",
    params(crate::admin::openapi::RoleP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn realm_realm(State(s): State<AppState>, Path((r, n)): Two, h: HeaderMap) -> Answer {
    list_at(&s, &h, &r, RoleAt::Realm(&n), Members::Realm).await
}
/// GET `/roles/{role-name}/composites/clients/{client-uuid}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/roles/{role_name}/composites/clients/{client}",
    tag = "roles",
    params(crate::admin::openapi::RoleClientP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn realm_client(
    State(s): State<AppState>,
    Path((r, n, cl)): Three,
    h: HeaderMap,
) -> Answer {
    list_at(&s, &h, &r, RoleAt::Realm(&n), Members::Client(&cl)).await
}
/// POST `/roles/{role-name}/composites`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/roles/{role_name}/composites",
    tag = "roles",
    params(crate::admin::openapi::RoleP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn realm_add(
    State(s): State<AppState>,
    Path((r, n)): Two,
    h: HeaderMap,
    b: Body,
) -> Answer {
    add_at(&s, &h, &r, RoleAt::Realm(&n), b).await
}
/// DELETE `/roles/{role-name}/composites`.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/roles/{role_name}/composites",
    tag = "roles",
    params(crate::admin::openapi::RoleP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn realm_remove(
    State(s): State<AppState>,
    Path((r, n)): Two,
    h: HeaderMap,
    b: Body,
) -> Answer {
    remove_at(&s, &h, &r, RoleAt::Realm(&n), b).await
}

/// GET `/roles-by-id/{role-id}/composites`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/roles-by-id/{id}/composites",
    tag = "roles",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn id_all(State(s): State<AppState>, Path((r, i)): Two, h: HeaderMap) -> Answer {
    list_at(&s, &h, &r, RoleAt::Id(&i), Members::All).await
}
/// GET `/roles-by-id/{role-id}/composites/realm`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/roles-by-id/{id}/composites/realm",
    tag = "roles",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn id_realm(State(s): State<AppState>, Path((r, i)): Two, h: HeaderMap) -> Answer {
    list_at(&s, &h, &r, RoleAt::Id(&i), Members::Realm).await
}
/// GET `/roles-by-id/{role-id}/composites/clients/{clientUuid}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/roles-by-id/{id}/composites/clients/{client}",
    tag = "roles",
    params(crate::admin::openapi::IdClientP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn id_client(State(s): State<AppState>, Path((r, i, cl)): Three, h: HeaderMap) -> Answer {
    list_at(&s, &h, &r, RoleAt::Id(&i), Members::Client(&cl)).await
}
/// POST `/roles-by-id/{role-id}/composites`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/roles-by-id/{id}/composites",
    tag = "roles",
    params(crate::admin::openapi::IdP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn id_add(State(s): State<AppState>, Path((r, i)): Two, h: HeaderMap, b: Body) -> Answer {
    add_at(&s, &h, &r, RoleAt::Id(&i), b).await
}
/// DELETE `/roles-by-id/{role-id}/composites`.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/roles-by-id/{id}/composites",
    tag = "roles",
    params(crate::admin::openapi::IdP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn id_remove(
    State(s): State<AppState>,
    Path((r, i)): Two,
    h: HeaderMap,
    b: Body,
) -> Answer {
    remove_at(&s, &h, &r, RoleAt::Id(&i), b).await
}

/// GET `/clients/{id}/roles/{role-name}/composites`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/roles/{role_name}/composites",
    tag = "roles",
    params(crate::admin::openapi::ClientRoleP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn client_all(State(s): State<AppState>, Path((r, c, n)): Three, h: HeaderMap) -> Answer {
    list_at(&s, &h, &r, RoleAt::Client(&c, &n), Members::All).await
}
/// GET `/clients/{id}/roles/{role-name}/composites/realm`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/roles/{role_name}/composites/realm",
    tag = "roles",
    params(crate::admin::openapi::ClientRoleP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn client_realm(
    State(s): State<AppState>,
    Path((r, c, n)): Three,
    h: HeaderMap,
) -> Answer {
    list_at(&s, &h, &r, RoleAt::Client(&c, &n), Members::Realm).await
}
/// GET `/clients/{id}/roles/{role-name}/composites/clients/{client-uuid}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/roles/{role_name}/composites/clients/{client}",
    tag = "roles",
    params(crate::admin::openapi::ClientRoleClientP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn client_client(
    State(s): State<AppState>,
    Path((r, c, n, cl)): Four,
    h: HeaderMap,
) -> Answer {
    list_at(&s, &h, &r, RoleAt::Client(&c, &n), Members::Client(&cl)).await
}
/// POST `/clients/{id}/roles/{role-name}/composites`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/clients/{id}/roles/{role_name}/composites",
    tag = "roles",
    params(crate::admin::openapi::ClientRoleP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn client_add(
    State(s): State<AppState>,
    Path((r, c, n)): Three,
    h: HeaderMap,
    b: Body,
) -> Answer {
    add_at(&s, &h, &r, RoleAt::Client(&c, &n), b).await
}
/// DELETE `/clients/{id}/roles/{role-name}/composites`.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/clients/{id}/roles/{role_name}/composites",
    tag = "roles",
    params(crate::admin::openapi::ClientRoleP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn client_remove(
    State(s): State<AppState>,
    Path((r, c, n)): Three,
    h: HeaderMap,
    b: Body,
) -> Answer {
    remove_at(&s, &h, &r, RoleAt::Client(&c, &n), b).await
}

/// GET `/roles/{role-name}/users` (`first`, `max`, `briefRepresentation` default false).
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/roles/{role_name}/users",
    tag = "roles",
    params(crate::admin::openapi::RoleP, crate::admin::openapi::Paging, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::UserRepresentation>),
    )
)]
pub async fn realm_users(
    State(s): State<AppState>,
    Path((r, n)): Two,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Answer {
    users_at(&s, &h, &r, RoleAt::Realm(&n), q.as_deref()).await
}
/// GET `/roles/{role-name}/groups` (`first`, `max`, `briefRepresentation` default true).
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/roles/{role_name}/groups",
    tag = "roles",
    params(crate::admin::openapi::RoleP, crate::admin::openapi::Paging, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::GroupRepresentation>),
    )
)]
pub async fn realm_groups(
    State(s): State<AppState>,
    Path((r, n)): Two,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Answer {
    groups_at(&s, &h, &r, RoleAt::Realm(&n), q.as_deref()).await
}
/// GET `/clients/{id}/roles/{role-name}/users`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/roles/{role_name}/users",
    tag = "roles",
    params(crate::admin::openapi::ClientRoleP, crate::admin::openapi::Paging, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::UserRepresentation>),
    )
)]
pub async fn client_users(
    State(s): State<AppState>,
    Path((r, c, n)): Three,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Answer {
    users_at(&s, &h, &r, RoleAt::Client(&c, &n), q.as_deref()).await
}
/// GET `/clients/{id}/roles/{role-name}/groups`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/roles/{role_name}/groups",
    tag = "roles",
    params(crate::admin::openapi::ClientRoleP, crate::admin::openapi::Paging, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::GroupRepresentation>),
    )
)]
pub async fn client_groups(
    State(s): State<AppState>,
    Path((r, c, n)): Three,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Answer {
    groups_at(&s, &h, &r, RoleAt::Client(&c, &n), q.as_deref()).await
}
