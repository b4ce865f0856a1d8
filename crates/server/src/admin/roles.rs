//! Realm roles: `GET/POST /roles`, `GET/PUT/DELETE /roles/{role-name}`,
//! `GET /roles-by-id/{id}`.
//!
//! As in Keycloak: listing needs `view-realm` or any `query-*` role, reading one role needs
//! `view-realm` (a client role by id: `view-clients`), and creating, changing or deleting
//! needs `manage-realm`. The realm's default role cannot be deleted. Every change drops the
//! configuration caches (roles feed every token).

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::params::{self, MAX_PAGE, Query};
use crate::admin::{Context, bad_field, bad_param, context, db, realm_url, repr};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_model::records::new_id;
use portcullis_model::repr::RoleRepresentation;
use portcullis_store::{NameTaken, RoleDetails};

async fn find(s: &AppState, c: &Context, name: &str) -> Result<RoleDetails, Response> {
    db(s.store.realm_role_details(&c.realm.id, name).await)?
        .ok_or_else(|| http::not_found("Could not find role"))
}

fn taken(name: &str) -> Response {
    http::conflict(&format!("Role with name {name} already exists"))
}

/// GET `/roles` (`search`, `first`, `max`, `briefRepresentation` default true).
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/roles",
    tag = "roles",
    params(crate::admin::openapi::RealmP, crate::admin::openapi::NameSearch, crate::admin::openapi::Paging, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn list(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ListRoles).await?;
    let q = Query::parse(raw.as_deref());
    let filter = params::name_filter(&q).map_err(bad_param)?;
    let page = q.page(MAX_PAGE).map_err(bad_param)?;
    let brief = q
        .flag("briefRepresentation")
        .map_err(bad_param)?
        .unwrap_or(true);
    let roles = db(s
        .store
        .realm_roles_page(&c.realm.id, filter.as_ref(), page)
        .await)?;
    http::ok(
        roles
            .iter()
            .map(|r| repr::role_repr(r, brief))
            .collect::<Vec<_>>(),
    )
}

/// POST `/roles`: 201 with `Location: .../roles/{name}`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/roles",
    tag = "roles",
    params(crate::admin::openapi::RealmP),
    request_body(content = portcullis_model::repr::RoleRepresentation, content_type = "application/json"),
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
    let c = context(&s, &headers, &realm, Action::ManageRoles).await?;
    let rep: RoleRepresentation = http::read_json(&headers, body).await?;
    let role = repr::new_role(&c.realm.id, &rep, new_id()).map_err(bad_field)?;
    db(s.store.create_role(&role).await)?.map_err(|NameTaken| taken(&role.name))?;
    s.caches.invalidate_config();
    http::created(&format!(
        "{}/roles/{}",
        realm_url(&s, &headers, &c.realm.name),
        http::segment(&role.name)
    ))
}

/// GET `/roles/{role-name}`: the full representation.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/roles/{role_name}",
    tag = "roles",
    params(crate::admin::openapi::RoleP),
    responses(
        (status = 200, description = "OK", body = portcullis_model::repr::RoleRepresentation),
    )
)]
pub async fn get(
    State(s): State<AppState>,
    Path((realm, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewRoles).await?;
    http::ok(repr::role_repr(&find(&s, &c, &name).await?, false))
}

/// PUT `/roles/{role-name}`: rename, describe, set attributes; 204.
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/roles/{role_name}",
    tag = "roles",
    params(crate::admin::openapi::RoleP),
    request_body(content = portcullis_model::repr::RoleRepresentation, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "Name already taken", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn update(
    State(s): State<AppState>,
    Path((realm, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageRoles).await?;
    let rep: RoleRepresentation = http::read_json(&headers, body).await?;
    let current = find(&s, &c, &name).await?;
    let role = repr::merge_role(&current.role, &rep).map_err(bad_field)?;
    match s.store.update_role(&role).await {
        Ok(Ok(())) => {}
        Ok(Err(NameTaken)) => return Err(taken(&role.name)),
        Err(portcullis_store::StoreError::NotFound(_)) => {
            return Err(http::not_found("Could not find role"));
        }
        Err(e) => return Err(crate::error::internal(e)),
    }
    s.caches.invalidate_config();
    http::no_content()
}

/// DELETE `/roles/{role-name}`: the role and every grant of it; 204. The default role stays
/// (400).
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/roles/{role_name}",
    tag = "roles",
    params(crate::admin::openapi::RoleP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn delete(
    State(s): State<AppState>,
    Path((realm, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageRoles).await?;
    let role = find(&s, &c, &name).await?;
    if role.role.id == c.realm.default_role_id {
        return Err(http::bad_request(&format!(
            "{name} is default role of the realm and cannot be removed."
        )));
    }
    if !db(s.store.delete_role(&c.realm.id, &role.role.id).await)? {
        return Err(http::not_found("Could not find role"));
    }
    s.caches.invalidate_config();
    http::no_content()
}

/// GET `/roles-by-id/{id}`: any role of the realm, realm or client role.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/roles-by-id/{id}",
    tag = "roles",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = portcullis_model::repr::RoleRepresentation),
    )
)]
pub async fn get_by_id(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::SeeRealm).await?;
    let role = db(s.store.role_details_by_id(&c.realm.id, &id).await)?;
    let needed = match &role {
        Some(d) if d.role.client_id.is_some() => Action::ViewClientRoles,
        _ => Action::ViewRoles,
    };
    c.require(needed)?;
    let role = role.ok_or_else(|| http::not_found("Could not find role with id"))?;
    http::ok(repr::role_repr(&role, false))
}
