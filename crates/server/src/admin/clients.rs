//! Clients: `GET/POST /clients`, `GET/PUT/DELETE /clients/{id}`, `GET/POST /clients/{id}/client-secret`.
//!
//! As in Keycloak: listing needs `query-clients` (or `view-clients`/`manage-clients`), reading
//! one client or its secret needs `view-clients`, regenerating the secret or deleting `manage-clients`.
//! Secrets appear only in the `client-secret` answers, and are never logged.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::params::{MAX_PAGE, Query};
use crate::admin::{bad_param, context, db, realm_url, repr};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_model::defaults::REALM_MANAGEMENT_CLIENT;
use portcullis_model::import::generate_secret;
use portcullis_model::records::{ClientRecord, ScopeLink, UserImage, UserRecord, new_id};
use portcullis_model::repr::ClientRepresentation;
use portcullis_store::{Match, NameTaken, TextFilter};
use serde_json::json;
use zeroize::Zeroizing;

/// GET `/clients` (`clientId`, `search`: infix instead of exact match, `first`, `max`).
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients",
    tag = "clients",
    params(crate::admin::openapi::RealmP, crate::admin::openapi::ClientFilter, crate::admin::openapi::Paging),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::ClientRepresentation>),
    )
)]
pub async fn list(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::QueryClients).await?;
    let q = Query::parse(raw.as_deref());
    let infix = q.flag("search").map_err(bad_param)?.unwrap_or(false);
    let filter = q
        .text("clientId")
        .map_err(bad_param)?
        .map(|v| TextFilter::new(v, if infix { Match::Infix } else { Match::Exact }));
    let page = q.page(MAX_PAGE).map_err(bad_param)?;
    let clients = db(s
        .store
        .clients_page(&c.realm.id, filter.as_ref(), page)
        .await)?;
    http::ok(clients.iter().map(repr::client_repr).collect::<Vec<_>>())
}

/// GET `/clients/{id}` (the internal id).
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}",
    tag = "clients",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = portcullis_model::repr::ClientRepresentation),
    )
)]
pub async fn get(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    http::ok(repr::client_repr(&find(&s, &c.realm.id, &id).await?))
}

async fn find(s: &AppState, realm_id: &str, id: &str) -> Result<ClientRecord, Response> {
    db(s.store.client_by_id(realm_id, id).await)?
        .ok_or_else(|| http::not_found("Could not find client"))
}

fn secret_body(secret: Option<&str>) -> serde_json::Value {
    match secret {
        Some(v) => json!({"type": "secret", "value": v}),
        None => json!({"type": "secret"}),
    }
}

/// GET `/clients/{id}/client-secret`: `{"type":"secret","value":...}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/client-secret",
    tag = "clients",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = crate::admin::openapi::SecretBody),
    )
)]
pub async fn get_secret(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    let client = find(&s, &c.realm.id, &id).await?;
    http::ok(secret_body(client.secret.as_deref().map(String::as_str)))
}

/// POST `/clients/{id}/client-secret`: a new secret; the old one stops working at once.
/// A public client has no secret (400).
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/clients/{id}/client-secret",
    tag = "clients",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "The new secret", body = crate::admin::openapi::SecretBody),
    )
)]
pub async fn regenerate_secret(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    let client = find(&s, &c.realm.id, &id).await?;
    if client.repr.public_client.unwrap_or(false) {
        return Err(http::bad_request("Client is public and has no secret"));
    }
    let secret = Zeroizing::new(generate_secret());
    if !db(s.store.set_client_secret(&c.realm.id, &id, &secret).await)? {
        return Err(http::not_found("Could not find client"));
    }
    s.caches.invalidate_config();
    http::ok(secret_body(Some(secret.as_str())))
}

/// DELETE `/clients/{id}`: the client, its roles and their grants, its mappers and its
/// service-account user, in one statement; 204. The realm's `realm-management` client stays
/// (400): without it nobody of the realm could administer it.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/clients/{id}",
    tag = "clients",
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
    let client = find(&s, &c.realm.id, &id).await?;
    if client.client_id == REALM_MANAGEMENT_CLIENT {
        return Err(http::bad_request(
            "Cannot delete the realm-management client",
        ));
    }
    if !db(s.store.delete_client(&c.realm.id, &id).await)? {
        return Err(http::not_found("Could not find client"));
    }
    s.caches.invalidate_config();
    http::no_content()
}

/// POST `/clients`: 201 with `Location: .../clients/{id}`; 409 when the `clientId` is taken. A
/// confidential client without a secret gets a generated one; the realm's default OpenID
/// Connect client scopes are linked, and a service-account user is created when enabled.
/// Protocol mappers in the body are not taken yet.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/clients",
    tag = "clients",
    params(crate::admin::openapi::RealmP),
    request_body(content = portcullis_model::repr::ClientRepresentation, content_type = "application/json"),
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
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    let rep: ClientRepresentation = http::read_json(&headers, body).await?;
    let client_id = rep
        .client_id
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| http::bad_request("clientId is required"))?
        .to_string();
    if db(s.store.client_by_client_id(&c.realm.id, &client_id).await)?.is_some() {
        return Err(http::conflict(&format!(
            "Client {client_id} already exists"
        )));
    }
    let id = rep
        .id
        .clone()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(new_id);
    let public = rep.public_client.unwrap_or(false);
    let secret = if public || rep.bearer_only.unwrap_or(false) {
        None
    } else {
        Some(Zeroizing::new(
            rep.secret
                .clone()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(generate_secret),
        ))
    };
    let mut stored = rep.clone();
    stored.id = None;
    stored.client_id = None;
    stored.secret = None;
    stored.protocol_mappers = None;
    if stored.protocol.is_none() {
        stored.protocol = Some("openid-connect".into());
    }
    let protocol = stored.protocol.clone().unwrap_or_default();
    let service_account = stored.service_accounts_enabled.unwrap_or(false);
    let client = ClientRecord {
        id: id.clone(),
        realm_id: c.realm.id.clone(),
        client_id: client_id.clone(),
        secret,
        repr: stored,
    };
    let scopes: Vec<ScopeLink> = db(s.store.realm_default_scopes(&c.realm.id).await)?
        .into_iter()
        .filter(|(sc, _)| sc.repr.protocol.as_deref().unwrap_or("openid-connect") == protocol)
        .map(|(sc, default_scope)| ScopeLink {
            owner_id: id.clone(),
            scope_id: sc.id,
            default_scope,
        })
        .collect();
    let account = service_account.then(|| UserImage {
        user: UserRecord {
            id: new_id(),
            realm_id: c.realm.id.clone(),
            username: format!("service-account-{}", client_id.to_lowercase()),
            email: None,
            first_name: None,
            last_name: None,
            enabled: true,
            email_verified: false,
            created_timestamp: crate::oidc::http::now_ms(),
            not_before: 0,
            federation_link: None,
            service_account_client_id: Some(id.clone()),
        },
        attributes: Vec::new(),
        required_actions: Vec::new(),
        credentials: Vec::new(),
        group_ids: Vec::new(),
        role_ids: vec![c.realm.default_role_id.clone()],
    });
    db(s.store
        .create_client(&client, &scopes, account.as_ref())
        .await)?
    .map_err(|NameTaken| http::conflict(&format!("Client {client_id} already exists")))?;
    s.caches.invalidate_config();
    http::created(&format!(
        "{}/clients/{}",
        realm_url(&s, &headers, &c.realm.name),
        http::segment(&id)
    ))
}

/// PUT `/clients/{id}`: a partial update as in Keycloak: every field the body gives replaces the
/// stored one, the others stay; 204. A new `clientId` must be free (409); a `secret` given is
/// the new secret. Protocol mappers in the body are not taken yet.
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/clients/{id}",
    tag = "clients",
    params(crate::admin::openapi::IdP),
    request_body(content = portcullis_model::repr::ClientRepresentation, content_type = "application/json"),
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
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    let patch: serde_json::Map<String, serde_json::Value> = http::read_json(&headers, body).await?;
    let current = find(&s, &c.realm.id, &id).await?;
    let mut merged = serde_json::to_value(&current.repr)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    for (k, v) in patch {
        if !v.is_null() {
            merged.insert(k, v);
        }
    }
    let rep: ClientRepresentation = serde_json::from_value(serde_json::Value::Object(merged))
        .map_err(|e| http::bad_request(&format!("Invalid client representation: {e}")))?;
    let client_id = match rep.client_id.as_deref().map(str::trim) {
        Some("") => return Err(http::bad_request("clientId is required")),
        Some(v) => v.to_string(),
        None => current.client_id.clone(),
    };
    let secret = match rep.secret.clone().filter(|v| !v.is_empty()) {
        Some(v) => Some(Zeroizing::new(v)),
        None => current.secret.clone(),
    };
    let mut stored = rep;
    stored.id = None;
    stored.client_id = None;
    stored.secret = None;
    stored.protocol_mappers = None;
    let client = ClientRecord {
        id: current.id.clone(),
        realm_id: c.realm.id.clone(),
        client_id: client_id.clone(),
        secret,
        repr: stored,
    };
    match s.store.update_client(&client).await {
        Ok(Ok(())) => {}
        Ok(Err(NameTaken)) => {
            return Err(http::conflict(&format!(
                "Client {client_id} already exists"
            )));
        }
        Err(portcullis_store::StoreError::NotFound(_)) => {
            return Err(http::not_found("Could not find client"));
        }
        Err(e) => return Err(crate::error::internal(e)),
    }
    s.caches.invalidate_config();
    http::no_content()
}
