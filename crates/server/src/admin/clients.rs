//! Clients: `GET/POST /clients`, `GET/PUT/DELETE /clients/{id}`, `GET/POST /clients/{id}/client-secret`,
//! `GET /clients/{id}/service-account-user`.
//!
//! As in Keycloak: listing needs `query-clients` (or `view-clients`/`manage-clients`), reading
//! one client or its secret needs `view-clients`, regenerating the secret or deleting `manage-clients`.
//! Secrets appear only in the `client-secret` answers, and are never logged.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::mappers::{mapper_repr, validate_all};
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
use portcullis_store::{MapperOwner, Match, NameTaken, TextFilter};
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
    let clients = match (&filter, infix) {
        // Exact lookup, as Keycloak's `getClientByClientId`: case-sensitive, then paged.
        (Some(f), false) => db(s
            .store
            .clients_page(
                &c.realm.id,
                Some(f),
                portcullis_store::Page {
                    first: 0,
                    max: MAX_PAGE,
                },
            )
            .await)?
        .into_iter()
        .filter(|cl| cl.client_id == f.text)
        .skip(page.first.max(0) as usize)
        .take(page.max.max(0) as usize)
        .collect(),
        _ => db(s
            .store
            .clients_page(&c.realm.id, filter.as_ref(), page)
            .await)?,
    };
    // Each client with its protocol mappers, as Keycloak lists them (one query for the page).
    let ids: Vec<String> = clients.iter().map(|cl| cl.id.clone()).collect();
    let mappers = db(s.store.mappers_of(&ids).await)?;
    http::ok(
        clients
            .iter()
            .map(|cl| {
                let mut rep = repr::client_repr(cl);
                let own: Vec<_> = mappers
                    .iter()
                    .filter(|m| m.owner_id == cl.id)
                    .map(mapper_repr)
                    .collect();
                if !own.is_empty() {
                    rep.protocol_mappers = Some(own);
                }
                rep
            })
            .collect::<Vec<_>>(),
    )
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
    let client = find(&s, &c.realm.id, &id).await?;
    let mappers = db(s.store.owner_mappers(MapperOwner::Client(&client.id)).await)?;
    let mut rep = repr::client_repr(&client);
    if !mappers.is_empty() {
        rep.protocol_mappers = Some(mappers.iter().map(mapper_repr).collect());
    }
    // The names of its client scopes, as Keycloak shows them.
    let linked = db(s.store.client_scopes_of(&client.id).await)?;
    let names = |default_scope: bool| -> Vec<String> {
        linked
            .iter()
            .filter(|(_, d)| *d == default_scope)
            .map(|(sc, _)| sc.name.clone())
            .collect()
    };
    rep.default_client_scopes = Some(names(true));
    rep.optional_client_scopes = Some(names(false));
    http::ok(rep)
}

/// GET `/clients/{id}/service-account-user`: the client's service-account user; 400 when the
/// client has no service account (as Keycloak). A client whose service account was switched on
/// after its creation gets its user now, as Keycloak does.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/service-account-user",
    tag = "clients",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = portcullis_model::repr::UserRepresentation),
    )
)]
pub async fn service_account_user(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    let client = find(&s, &c.realm.id, &id).await?;
    let user = match db(s.store.service_account_user(&client.id).await)? {
        Some(u) => u,
        None if client.service_accounts_enabled() => {
            let image = service_account_image(&c.realm, &client);
            match s.store.add_service_account(&image).await {
                Ok(()) => {}
                // Created by a concurrent request: read that one.
                Err(portcullis_store::StoreError::Conflict(_)) => {}
                Err(e) => return Err(crate::error::internal(e)),
            }
            s.caches.invalidate_config();
            db(s.store.service_account_user(&client.id).await)?
                .ok_or_else(|| http::not_found("User not found"))?
        }
        None => {
            return Err(http::bad_request(&format!(
                "Service account not enabled for the client '{}'",
                client.client_id
            )));
        }
    };
    let details = db(s.store.user_details(&c.realm.id, &user.id).await)?
        .ok_or_else(|| http::not_found("User not found"))?;
    http::ok(repr::user_repr(&details, false, &c.access))
}

/// A client's service-account user (`service-account-{clientId}`), with the realm's default
/// role.
fn service_account_image(
    realm: &portcullis_model::records::RealmRecord,
    client: &ClientRecord,
) -> UserImage {
    UserImage {
        user: UserRecord {
            id: new_id(),
            realm_id: realm.id.clone(),
            username: format!("service-account-{}", client.client_id.to_lowercase()),
            email: None,
            first_name: None,
            last_name: None,
            enabled: true,
            email_verified: false,
            created_timestamp: crate::oidc::http::now_ms(),
            not_before: 0,
            federation_link: None,
            service_account_client_id: Some(client.id.clone()),
        },
        attributes: Vec::new(),
        required_actions: Vec::new(),
        credentials: Vec::new(),
        group_ids: Vec::new(),
        role_ids: vec![realm.default_role_id.clone()],
    }
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
/// Connect client scopes are linked, a service-account user is created when enabled, and the
/// body's `protocolMappers` are stored (each checked as `POST .../protocol-mappers/models`
/// checks it), all in one transaction.
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
    stored.default_client_scopes = None;
    stored.optional_client_scopes = None;
    if stored.protocol.is_none() {
        stored.protocol = Some("openid-connect".into());
    }
    let protocol = stored.protocol.clone().unwrap_or_default();
    let mappers = validate_all(
        rep.protocol_mappers.as_deref().unwrap_or(&[]),
        &id,
        &protocol,
        true,
    )?;
    let service_account = stored.service_accounts_enabled.unwrap_or(false);
    let client = ClientRecord {
        id: id.clone(),
        realm_id: c.realm.id.clone(),
        client_id: client_id.clone(),
        secret,
        repr: stored,
    };
    // `defaultClientScopes` / `optionalClientScopes` in the body name the scopes to link (as
    // Keycloak does on create; unknown names are skipped with a log line); a list not given
    // falls back to the realm's list of that kind.
    let same_protocol = |sc: &portcullis_model::records::ClientScopeRecord| {
        sc.repr.protocol.as_deref().unwrap_or("openid-connect") == protocol
    };
    let realm_scopes = db(s.store.realm_client_scopes(&c.realm.id).await)?;
    let realm_lists = db(s.store.realm_default_scopes(&c.realm.id).await)?;
    let mut scopes: Vec<ScopeLink> = Vec::new();
    for (default_scope, given) in [
        (true, rep.default_client_scopes.as_ref()),
        (false, rep.optional_client_scopes.as_ref()),
    ] {
        let chosen: Vec<String> = match given {
            Some(names) => names
                .iter()
                .filter_map(|n| {
                    let found = realm_scopes.iter().find(|sc| &sc.name == n && same_protocol(sc));
                    if found.is_none() {
                        tracing::info!(client = %client_id, scope = %n, "client scope not found; skipped");
                    }
                    found.map(|sc| sc.id.clone())
                })
                .collect(),
            None => realm_lists
                .iter()
                .filter(|(sc, d)| *d == default_scope && same_protocol(sc))
                .map(|(sc, _)| sc.id.clone())
                .collect(),
        };
        for scope_id in chosen {
            if !scopes.iter().any(|l| l.scope_id == scope_id) {
                scopes.push(ScopeLink {
                    owner_id: id.clone(),
                    scope_id,
                    default_scope,
                });
            }
        }
    }
    let account = service_account.then(|| service_account_image(&c.realm, &client));
    db(s.store
        .create_client_with_mappers(&client, &scopes, account.as_ref(), &mappers)
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
    stored.default_client_scopes = None;
    stored.optional_client_scopes = None;
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
