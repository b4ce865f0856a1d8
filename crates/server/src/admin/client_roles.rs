//! Client roles: `GET/POST /clients/{id}/roles`, `GET/PUT/DELETE /clients/{id}/roles/{role-name}`,
//! and `PUT/DELETE /roles-by-id/{role-id}` for either kind of role.
//!
//! As in Keycloak: listing a client's roles takes the same rights as listing realm roles
//! (`view-realm` or any `query-*` role), reading one needs `view-clients`, creating, changing
//! and deleting need `manage-clients` (realm roles by id: `manage-realm`). A name is unique
//! within its client (409). Every change drops the configuration caches: roles feed every
//! token.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::params::{self, MAX_PAGE, Query};
use crate::admin::role_refs::{self, Intent, RoleAt};
use crate::admin::{bad_field, bad_param, context, db, realm_url, repr};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_model::records::{RoleRecord, new_id};
use portcullis_model::repr::RoleRepresentation;
use portcullis_store::{NameTaken, StoreError};

fn taken(name: &str) -> Response {
    http::conflict(&format!("Role with name {name} already exists"))
}

/// GET `/clients/{id}/roles` (`search`, `first`, `max`, `briefRepresentation` default true).
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/roles",
    tag = "roles",
    params(crate::admin::openapi::IdP, crate::admin::openapi::NameSearch, crate::admin::openapi::Paging, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn list(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
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
    let client = role_refs::client(&s, &c.realm.id, &id).await?;
    let roles = db(s
        .store
        .client_roles_page(&client.id, filter.as_ref(), page)
        .await)?;
    http::ok(
        roles
            .iter()
            .map(|r| repr::role_repr(r, brief))
            .collect::<Vec<_>>(),
    )
}

/// POST `/clients/{id}/roles`: 201 with `Location: .../clients/{id}/roles/{name}`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/clients/{id}/roles",
    tag = "roles",
    params(crate::admin::openapi::IdP),
    request_body(content = portcullis_model::repr::RoleRepresentation, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names the new resource", headers(("Location" = String, description = "URL of the new resource"))),
        (status = 409, description = "Name already taken", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn create(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    let rep: RoleRepresentation = http::read_json(&headers, body).await?;
    let client = role_refs::client(&s, &c.realm.id, &id).await?;
    let role = RoleRecord {
        client_id: Some(client.id.clone()),
        ..repr::new_role(&c.realm.id, &rep, new_id()).map_err(bad_field)?
    };
    db(s.store.create_role(&role).await)?.map_err(|NameTaken| taken(&role.name))?;
    s.caches.invalidate_config();
    http::created(&format!(
        "{}/clients/{}/roles/{}",
        realm_url(&s, &headers, &c.realm.name),
        http::segment(&client.id),
        http::segment(&role.name)
    ))
}

/// GET `/clients/{id}/roles/{role-name}`: the full representation.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/roles/{role_name}",
    tag = "roles",
    params(crate::admin::openapi::ClientRoleP),
    responses(
        (status = 200, description = "OK", body = portcullis_model::repr::RoleRepresentation),
    )
)]
pub async fn get(
    State(s): State<AppState>,
    Path((realm, id, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    let (_, role) = role_refs::open(
        &s,
        &headers,
        &realm,
        RoleAt::Client(&id, &name),
        Intent::View,
    )
    .await?;
    http::ok(repr::role_repr(&role, false))
}

/// Rename, describe, set attributes of the role `at`; 204.
async fn update_at(
    s: &AppState,
    headers: &HeaderMap,
    realm: &str,
    at: RoleAt<'_>,
    body: Body,
) -> Answer {
    let (_, current) = role_refs::open(s, headers, realm, at, Intent::Manage).await?;
    let rep: RoleRepresentation = http::read_json(headers, body).await?;
    let role = repr::merge_role(&current.role, &rep).map_err(bad_field)?;
    match s.store.update_role(&role).await {
        Ok(Ok(())) => {}
        Ok(Err(NameTaken)) => return Err(taken(&role.name)),
        Err(StoreError::NotFound(_)) => return Err(http::not_found("Could not find role")),
        Err(e) => return Err(crate::error::internal(e)),
    }
    s.caches.invalidate_config();
    http::no_content()
}

/// Delete the role `at` with every grant of it; 204. The realm's default role stays (400).
async fn delete_at(s: &AppState, headers: &HeaderMap, realm: &str, at: RoleAt<'_>) -> Answer {
    let (c, role) = role_refs::open(s, headers, realm, at, Intent::Manage).await?;
    if role.role.id == c.realm.default_role_id {
        return Err(http::bad_request(&format!(
            "{} is default role of the realm and cannot be removed.",
            role.role.name
        )));
    }
    if !db(s.store.delete_role(&c.realm.id, &role.role.id).await)? {
        return Err(http::not_found("Could not find role"));
    }
    s.caches.invalidate_config();
    http::no_content()
}

/// PUT `/clients/{id}/roles/{role-name}`.
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/clients/{id}/roles/{role_name}",
    tag = "roles",
    params(crate::admin::openapi::ClientRoleP),
    request_body(content = portcullis_model::repr::RoleRepresentation, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "Name already taken", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn update(
    State(s): State<AppState>,
    Path((realm, id, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    update_at(&s, &headers, &realm, RoleAt::Client(&id, &name), body).await
}

/// DELETE `/clients/{id}/roles/{role-name}`.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/clients/{id}/roles/{role_name}",
    tag = "roles",
    params(crate::admin::openapi::ClientRoleP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn delete(
    State(s): State<AppState>,
    Path((realm, id, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    delete_at(&s, &headers, &realm, RoleAt::Client(&id, &name)).await
}

/// PUT `/roles-by-id/{role-id}`.
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/roles-by-id/{id}",
    tag = "roles",
    params(crate::admin::openapi::IdP),
    request_body(content = portcullis_model::repr::RoleRepresentation, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "Name already taken", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn update_by_id(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    update_at(&s, &headers, &realm, RoleAt::Id(&id), body).await
}

/// DELETE `/roles-by-id/{role-id}`.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/roles-by-id/{id}",
    tag = "roles",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn delete_by_id(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    delete_at(&s, &headers, &realm, RoleAt::Id(&id)).await
}
