//! Client scopes and who uses them: `GET/POST /client-scopes`, `GET/PUT/DELETE
//! /client-scopes/{id}`; a client's `default-client-scopes` and `optional-client-scopes`
//! (GET, PUT/DELETE `/{clientScopeId}`); the realm's lists for new clients,
//! `default-default-client-scopes` and `default-optional-client-scopes` (GET, PUT/DELETE
//! `/{id}`).
//!
//! Rights as in Keycloak: client scopes are read with `view-clients` and written with
//! `manage-clients`; the realm's default lists are changed with `manage-realm`. Every write
//! drops the configuration caches, so the next token reflects it.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::mappers::{OIDC, SAML, mapper_repr, validate_all};
use crate::admin::{context, db, realm_url};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_model::records::{ClientScopeRecord, ProtocolMapperRecord, new_id};
use portcullis_model::repr::ClientScopeRepresentation;
use portcullis_store::{MapperOwner, NameTaken, ScopeRemoval};
use serde_json::json;

const NOT_FOUND: &str = "Could not find client scope";

/// A client scope as the admin API shows it, with its mappers.
pub fn scope_repr(
    sc: &ClientScopeRecord,
    mappers: &[ProtocolMapperRecord],
) -> ClientScopeRepresentation {
    let mut r = sc.repr.clone();
    r.id = Some(sc.id.clone());
    r.name = Some(sc.name.clone());
    r.protocol_mappers = (!mappers.is_empty()).then(|| mappers.iter().map(mapper_repr).collect());
    r
}

/// Client scope names, as Keycloak checks them: OAuth 2.0 scope tokens (RFC 6749 §3.3:
/// printable ASCII without space, `"` and `\`), since they travel in the `scope` parameter.
pub fn scope_name(raw: Option<&str>) -> Result<String, String> {
    let name = raw.unwrap_or("");
    let token = |c: char| c == '!' || ('#'..='[').contains(&c) || (']'..='~').contains(&c);
    if name.is_empty() || name.len() > 255 || !name.chars().all(token) {
        return Err(format!("Unexpected name \"{name}\" for ClientScope"));
    }
    Ok(name.to_owned())
}

/// A client scope's protocol: `openid-connect` or `saml`, required (Keycloak's 400
/// `Unexpected protocol` for an absent or unknown one).
fn protocol_of(raw: Option<&str>) -> Result<String, String> {
    match raw {
        Some(p @ (OIDC | SAML)) => Ok(p.into()),
        _ => Err("Unexpected protocol".into()),
    }
}

async fn find(s: &AppState, realm_id: &str, id: &str) -> Result<ClientScopeRecord, Response> {
    db(s.store.client_scope(realm_id, id).await)?.ok_or_else(|| http::not_found(NOT_FOUND))
}

/// GET `/client-scopes`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/client-scopes",
    tag = "client-scopes",
    params(crate::admin::openapi::RealmP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::ClientScopeRepresentation>),
    )
)]
pub async fn list(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    let scopes = db(s.store.realm_client_scopes(&c.realm.id).await)?;
    let ids: Vec<String> = scopes.iter().map(|sc| sc.id.clone()).collect();
    let mappers = db(s.store.mappers_of(&ids).await)?;
    http::ok(
        scopes
            .iter()
            .map(|sc| {
                let own: Vec<ProtocolMapperRecord> = mappers
                    .iter()
                    .filter(|m| m.owner_id == sc.id)
                    .cloned()
                    .collect();
                scope_repr(sc, &own)
            })
            .collect::<Vec<_>>(),
    )
}

/// GET `/client-scopes/{id}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/client-scopes/{id}",
    tag = "client-scopes",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = portcullis_model::repr::ClientScopeRepresentation),
    )
)]
pub async fn get(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    let sc = find(&s, &c.realm.id, &id).await?;
    let mappers = db(s.store.owner_mappers(MapperOwner::Scope(&id)).await)?;
    http::ok(scope_repr(&sc, &mappers))
}

/// POST `/client-scopes`: 201 with `Location`; 409 when the name is taken.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/client-scopes",
    tag = "client-scopes",
    params(crate::admin::openapi::RealmP),
    request_body(content = portcullis_model::repr::ClientScopeRepresentation, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names the new resource", headers(("Location" = String, description = "URL of the new resource"))),
        (status = 409, description = "A client scope of that name exists", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn create(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    let rep: ClientScopeRepresentation = http::read_json(&headers, body).await?;
    // Keycloak's order: the protocol first, then the name.
    let protocol = protocol_of(rep.protocol.as_deref()).map_err(|m| http::bad_request(&m))?;
    let name = scope_name(rep.name.as_deref()).map_err(|m| http::bad_request(&m))?;
    let id = rep
        .id
        .clone()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(new_id);
    let mappers = validate_all(
        rep.protocol_mappers.as_deref().unwrap_or(&[]),
        &id,
        &protocol,
        true,
    )?;
    let mut stored = rep.clone();
    stored.id = None;
    stored.name = None;
    stored.protocol_mappers = None;
    stored.protocol = Some(protocol);
    let scope = ClientScopeRecord {
        id: id.clone(),
        realm_id: c.realm.id.clone(),
        name: name.clone(),
        repr: stored,
    };
    let exists = || http::conflict(&format!("Client Scope {name} already exists"));
    match s.store.create_client_scope(&scope, &mappers).await {
        Ok(Ok(())) => {}
        Ok(Err(NameTaken)) => return Err(exists()),
        Err(portcullis_store::StoreError::Conflict(_)) => return Err(exists()),
        Err(e) => return Err(crate::error::internal(e)),
    }
    s.caches.invalidate_config();
    http::created(&format!(
        "{}/client-scopes/{}",
        realm_url(&s, &headers, &c.realm.name),
        http::segment(&id)
    ))
}

/// PUT `/client-scopes/{id}`: the fields given replace the stored ones (attributes entry by
/// entry); mappers are changed through their own endpoints; 204.
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/client-scopes/{id}",
    tag = "client-scopes",
    params(crate::admin::openapi::IdP),
    request_body(content = portcullis_model::repr::ClientScopeRepresentation, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "A client scope of that name exists", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn update(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    let rep: ClientScopeRepresentation = http::read_json(&headers, body).await?;
    let mut sc = find(&s, &c.realm.id, &id).await?;
    if rep.name.is_some() {
        sc.name = scope_name(rep.name.as_deref()).map_err(|m| http::bad_request(&m))?;
    }
    if rep.protocol.is_some() {
        sc.repr.protocol =
            Some(protocol_of(rep.protocol.as_deref()).map_err(|m| http::bad_request(&m))?);
    }
    if rep.description.is_some() {
        sc.repr.description = rep.description;
    }
    if let Some(attrs) = rep.attributes {
        sc.repr
            .attributes
            .get_or_insert_with(Default::default)
            .extend(attrs);
    }
    match db(s.store.update_client_scope(&sc).await)? {
        Ok(true) => {}
        Ok(false) => return Err(http::not_found(NOT_FOUND)),
        Err(NameTaken) => {
            return Err(http::conflict(&format!(
                "Client Scope {} already exists",
                sc.name
            )));
        }
    }
    s.caches.invalidate_config();
    http::no_content()
}

/// DELETE `/client-scopes/{id}`: the scope, its mappers and its places in the realm's lists;
/// 204. A scope a client still uses stays (400, as Keycloak).
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/client-scopes/{id}",
    tag = "client-scopes",
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
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    match db(s.store.delete_client_scope(&c.realm.id, &id).await)? {
        ScopeRemoval::Removed => {}
        ScopeRemoval::NotFound => return Err(http::not_found(NOT_FOUND)),
        ScopeRemoval::InUse => {
            return Err(http::bad_request(
                "Cannot remove client scope, it is currently in use",
            ));
        }
    }
    s.caches.invalidate_config();
    http::no_content()
}

fn brief(list: impl Iterator<Item = ClientScopeRecord>) -> Vec<serde_json::Value> {
    list.map(|sc| json!({"id": sc.id, "name": sc.name}))
        .collect()
}

// ------------------------------------------------------------------ a client's scopes

async fn client_scopes(
    s: AppState,
    realm: String,
    id: String,
    default_scope: bool,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    db(s.store.client_by_id(&c.realm.id, &id).await)?
        .ok_or_else(|| http::not_found("Could not find client"))?;
    let linked = db(s.store.client_scopes_of(&id).await)?;
    http::ok(brief(
        linked
            .into_iter()
            .filter(|(_, d)| *d == default_scope)
            .map(|(sc, _)| sc),
    ))
}

async fn link(
    s: AppState,
    realm: String,
    id: String,
    scope_id: String,
    default_scope: bool,
    add: bool,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    let client = db(s.store.client_by_id(&c.realm.id, &id).await)?
        .ok_or_else(|| http::not_found("Could not find client"))?;
    let sc = db(s.store.client_scope(&c.realm.id, &scope_id).await)?
        .ok_or_else(|| http::not_found("Client scope not found"))?;
    if add {
        let client_protocol = client.repr.protocol.as_deref().unwrap_or(OIDC);
        let scope_protocol = sc.repr.protocol.as_deref().unwrap_or(OIDC);
        if client_protocol != scope_protocol {
            return Err(http::bad_request(&format!(
                "Client scope {} has protocol {scope_protocol}, the client {client_protocol}",
                sc.name
            )));
        }
        db(s.store
            .link_client_scope(&id, &scope_id, default_scope)
            .await)?;
    } else {
        db(s.store
            .unlink_client_scope(&id, &scope_id, default_scope)
            .await)?;
    }
    s.caches.invalidate_config();
    http::no_content()
}

#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/default-client-scopes",
    tag = "clients",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<crate::admin::openapi::ScopeRef>),
    )
)]
pub async fn client_defaults(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    client_scopes(s, realm, id, true, headers).await
}
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/optional-client-scopes",
    tag = "clients",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<crate::admin::openapi::ScopeRef>),
    )
)]
pub async fn client_optionals(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    client_scopes(s, realm, id, false, headers).await
}
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/clients/{id}/default-client-scopes/{scope_id}",
    tag = "clients",
    params(crate::admin::openapi::ClientScopeLinkP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn add_client_default(
    State(s): State<AppState>,
    Path((realm, id, sc)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    link(s, realm, id, sc, true, true, headers).await
}
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/clients/{id}/optional-client-scopes/{scope_id}",
    tag = "clients",
    params(crate::admin::openapi::ClientScopeLinkP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn add_client_optional(
    State(s): State<AppState>,
    Path((realm, id, sc)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    link(s, realm, id, sc, false, true, headers).await
}
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/clients/{id}/default-client-scopes/{scope_id}",
    tag = "clients",
    params(crate::admin::openapi::ClientScopeLinkP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn remove_client_default(
    State(s): State<AppState>,
    Path((realm, id, sc)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    link(s, realm, id, sc, true, false, headers).await
}
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/clients/{id}/optional-client-scopes/{scope_id}",
    tag = "clients",
    params(crate::admin::openapi::ClientScopeLinkP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn remove_client_optional(
    State(s): State<AppState>,
    Path((realm, id, sc)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    link(s, realm, id, sc, false, false, headers).await
}

// ------------------------------------------------------------ the realm's default lists

async fn realm_list(s: AppState, realm: String, default_scope: bool, headers: HeaderMap) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    let all = db(s.store.realm_default_scopes(&c.realm.id).await)?;
    http::ok(brief(
        all.into_iter()
            .filter(|(_, d)| *d == default_scope)
            .map(|(sc, _)| sc),
    ))
}

async fn realm_set(
    s: AppState,
    realm: String,
    scope_id: String,
    default_scope: bool,
    add: bool,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageRealm).await?;
    find(&s, &c.realm.id, &scope_id).await?;
    if add {
        db(s.store
            .set_realm_default_scope(&c.realm.id, &scope_id, default_scope)
            .await)?;
    } else {
        db(s.store
            .remove_realm_default_scope(&c.realm.id, &scope_id, default_scope)
            .await)?;
    }
    s.caches.invalidate_config();
    http::no_content()
}

#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/default-default-client-scopes",
    tag = "realms",
    params(crate::admin::openapi::RealmP),
    responses(
        (status = 200, description = "OK", body = Vec<crate::admin::openapi::ScopeRef>),
    )
)]
pub async fn realm_defaults(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    realm_list(s, realm, true, headers).await
}
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/default-optional-client-scopes",
    tag = "realms",
    params(crate::admin::openapi::RealmP),
    responses(
        (status = 200, description = "OK", body = Vec<crate::admin::openapi::ScopeRef>),
    )
)]
pub async fn realm_optionals(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    realm_list(s, realm, false, headers).await
}
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/default-default-client-scopes/{scope_id}",
    tag = "realms",
    params(crate::admin::openapi::RealmScopeP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn add_realm_default(
    State(s): State<AppState>,
    Path((realm, sc)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    realm_set(s, realm, sc, true, true, headers).await
}
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/default-optional-client-scopes/{scope_id}",
    tag = "realms",
    params(crate::admin::openapi::RealmScopeP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn add_realm_optional(
    State(s): State<AppState>,
    Path((realm, sc)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    realm_set(s, realm, sc, false, true, headers).await
}
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/default-default-client-scopes/{scope_id}",
    tag = "realms",
    params(crate::admin::openapi::RealmScopeP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn remove_realm_default(
    State(s): State<AppState>,
    Path((realm, sc)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    realm_set(s, realm, sc, true, false, headers).await
}
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/default-optional-client-scopes/{scope_id}",
    tag = "realms",
    params(crate::admin::openapi::RealmScopeP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn remove_realm_optional(
    State(s): State<AppState>,
    Path((realm, sc)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    realm_set(s, realm, sc, false, false, headers).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_and_protocols() {
        assert_eq!(scope_name(Some("profile")), Ok("profile".into()));
        assert_eq!(
            scope_name(Some("api:read/x@y!#[]~")),
            Ok("api:read/x@y!#[]~".into())
        );
        for bad in [
            None,
            Some(""),
            Some("two words"),
            Some(" lead"),
            Some("tab\there"),
            Some("quo\"te"),
            Some("back\\slash"),
            Some("マルチバイト"),
        ] {
            assert_eq!(
                scope_name(bad),
                Err(format!(
                    "Unexpected name \"{}\" for ClientScope",
                    bad.unwrap_or("")
                )),
                "{bad:?}"
            );
        }
        assert_eq!(protocol_of(Some("openid-connect")), Ok(OIDC.into()));
        assert_eq!(protocol_of(Some("saml")), Ok(SAML.into()));
        assert!(protocol_of(Some("cas")).is_err());
        assert_eq!(protocol_of(None), Err("Unexpected protocol".into()));
    }
}
