//! Clients: `GET /clients`, `GET/DELETE /clients/{id}`, `GET/POST /clients/{id}/client-secret`.
//!
//! As in Keycloak: listing needs `query-clients` (or `view-clients`/`manage-clients`), reading
//! one client or its secret needs `view-clients`, regenerating the secret or deleting `manage-clients`.
//! Secrets appear only in the `client-secret` answers, and are never logged.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::params::{MAX_PAGE, Query};
use crate::admin::{bad_param, context, db, repr};
use crate::app::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_model::defaults::REALM_MANAGEMENT_CLIENT;
use portcullis_model::import::generate_secret;
use portcullis_model::records::ClientRecord;
use portcullis_store::{Match, TextFilter};
use serde_json::json;
use zeroize::Zeroizing;

/// GET `/clients` (`clientId`, `search`: infix instead of exact match, `first`, `max`).
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
