//! SSO sessions: `GET /users/{id}/sessions`, `POST /users/{id}/logout`,
//! `GET /clients/{id}/user-sessions`, `GET /clients/{id}/session-count`,
//! `GET /client-session-stats`, `DELETE /sessions/{session}`, `POST /logout-all`.
//!
//! Rights as in Keycloak: a user's sessions are read with `view-users`, a client's with
//! `view-clients`, the realm's statistics with `view-realm`; ending sessions (one, a user's,
//! all of the realm's) needs `manage-users`. Ending a session deletes it with its client
//! sessions, so its refresh tokens and the access tokens bound to it (`sid`) stop working at
//! once: the token endpoint and every bearer check read the session from the database.
//! Logging a user out also moves the user's `notBefore` to now, as Keycloak does. Listings and
//! counts show live sessions only (expired ones are stored until housekeeping purges them).
//! Offline sessions are not kept, so `offline` counts are always 0.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::params::Query;
use crate::admin::role_refs;
use crate::admin::{bad_param, context, db, users};
use crate::app::AppState;
use crate::oidc::http::now_ms;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use portcullis_model::records::RealmRecord;
use portcullis_store::{LiveSince, SessionView};
use serde_json::{Map, Value, json};

/// Default page size of `GET /clients/{id}/user-sessions` (Keycloak's).
const DEFAULT_MAX: i64 = 100;

/// The sessions alive now under the realm's idle timeout and maximum lifespan (the rule of
/// `oidc::issue::session_alive`): expired ones wait for housekeeping but are not shown.
fn live(realm: &RealmRecord) -> LiveSince {
    let now = now_ms();
    let idle = realm.sso_session_idle_timeout().max(1).saturating_mul(1000);
    let max = realm.sso_session_max_lifespan().max(1).saturating_mul(1000);
    LiveSince {
        last_refresh_after: now.saturating_sub(idle),
        started_after: now.saturating_sub(max),
    }
}

/// Keycloak's UserSessionRepresentation.
fn session_repr(v: &SessionView) -> Value {
    let s = &v.session;
    let clients: Map<String, Value> = v
        .clients
        .iter()
        .map(|(uuid, client_id)| (uuid.clone(), json!(client_id)))
        .collect();
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id));
    m.insert("username".into(), json!(v.username));
    m.insert("userId".into(), json!(s.user_id));
    if let Some(ip) = &s.ip_address {
        m.insert("ipAddress".into(), json!(ip));
    }
    m.insert("start".into(), json!(s.started));
    m.insert("lastAccess".into(), json!(s.last_refresh));
    m.insert("rememberMe".into(), json!(s.remember_me));
    m.insert("clients".into(), Value::Object(clients));
    m.insert("transientUser".into(), json!(false));
    Value::Object(m)
}

/// GET `/users/{id}/sessions`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/{id}/sessions",
    tag = "sessions",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<crate::admin::openapi::SessionBody>),
    )
)]
pub async fn of_user(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewUsers).await?;
    let user = users::find(&s, &c, &id).await?;
    let found = db(s
        .store
        .user_session_views(&c.realm.id, &user.user.id, live(&c.realm))
        .await)?;
    http::ok(found.iter().map(session_repr).collect::<Vec<_>>())
}

/// POST `/users/{id}/logout`: every session of the user ends; 204.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/users/{id}/logout",
    tag = "sessions",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn logout_user(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    let user = users::find(&s, &c, &id).await?;
    match s
        .store
        .logout_user(&c.realm.id, &user.user.id, now_ms() / 1000)
        .await
    {
        Ok(_) => {}
        Err(portcullis_store::StoreError::NotFound(_)) => {
            return Err(http::not_found("User not found"));
        }
        Err(e) => return Err(crate::error::internal(e)),
    }
    // A service account's record (with `notBefore`) is cached.
    s.caches.invalidate_user(&user.user.id);
    http::no_content()
}

/// GET `/clients/{id}/user-sessions` (`first`, `max` default 100).
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/user-sessions",
    tag = "sessions",
    params(crate::admin::openapi::IdP, crate::admin::openapi::Paging),
    responses(
        (status = 200, description = "OK", body = Vec<crate::admin::openapi::SessionBody>),
    )
)]
pub async fn of_client(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    let page = Query::parse(raw.as_deref())
        .page(DEFAULT_MAX)
        .map_err(bad_param)?;
    let client = role_refs::client(&s, &c.realm.id, &id).await?;
    let found = db(s
        .store
        .client_session_views(&client.id, live(&c.realm), page)
        .await)?;
    http::ok(found.iter().map(session_repr).collect::<Vec<_>>())
}

/// GET `/clients/{id}/session-count`: `{"count": n}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/session-count",
    tag = "sessions",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = crate::admin::openapi::CountBody),
    )
)]
pub async fn client_count(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    let client = role_refs::client(&s, &c.realm.id, &id).await?;
    let n = db(s
        .store
        .count_client_sessions(&client.id, live(&c.realm))
        .await)?;
    http::ok(json!({"count": n}))
}

/// GET `/client-session-stats`: per client with sessions, `id`, `clientId` and the `active`
/// and `offline` counts as strings (Keycloak's shape).
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/client-session-stats",
    tag = "sessions",
    params(crate::admin::openapi::RealmP),
    responses(
        (status = 200, description = "OK", body = Vec<crate::admin::openapi::SessionStat>),
    )
)]
pub async fn stats(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewRealm).await?;
    let found = db(s
        .store
        .client_session_stats(&c.realm.id, live(&c.realm))
        .await)?;
    http::ok(
        found
            .iter()
            .map(|(id, client_id, n)| {
                json!({"id": id, "clientId": client_id, "active": n.to_string(), "offline": "0"})
            })
            .collect::<Vec<_>>(),
    )
}

/// DELETE `/sessions/{session}`: 204, or 404 with Keycloak's `Sesssion not found`.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/sessions/{session}",
    tag = "sessions",
    params(crate::admin::openapi::SessionP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn delete(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    if !db(s.store.delete_realm_session(&c.realm.id, &id).await)? {
        // Keycloak's text, spelling included: clients match on it.
        return Err(http::not_found("Sesssion not found"));
    }
    http::no_content()
}

/// POST `/logout-all`: every session of the realm ends. Keycloak answers a
/// GlobalRequestResult; with no client to notify both of its lists are left out: `{}`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/logout-all",
    tag = "sessions",
    params(crate::admin::openapi::RealmP),
    responses(
        (status = 200, description = "OK", body = crate::admin::openapi::GlobalRequestResult),
    )
)]
pub async fn logout_all(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    db(s.store.delete_realm_sessions(&c.realm.id).await)?;
    http::ok(json!({}))
}
