//! Admin events: recorded centrally for the whole admin API, read and configured through
//! `GET/DELETE /admin-events` and `GET/PUT /events/config`.
//!
//! Recording is one middleware ([`record`]) around the admin router, not code in each handler:
//! every request that is not a read (`GET`, `HEAD`, `OPTIONS`) and is answered with a 2xx
//! becomes one event of the realm in its path, when that realm's `adminEventsEnabled` is on.
//! What the event says is derived from the request alone by pure functions ([`classify`],
//! [`redact`]): the operation from the method (or `ACTION` for action endpoints), the resource
//! type from the path segments, the resource path from the path (plus the new id from
//! `Location` for creations), the representation from the body (with
//! `adminEventsDetailsEnabled` only, credential values and secrets masked).
//!
//! Who acted is the caller the handler authenticated: [`auth::authenticate`] writes it into a
//! task-local slot the middleware provides ([`note_caller`]), so the token is verified once and
//! the event names exactly the identity the handler authorised (ADR 0013).
//!
//! [`auth::authenticate`]: crate::admin::auth::authenticate

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::params::{MAX_PAGE, Query};
use crate::admin::{context, db};
use crate::app::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use portcullis_model::records::new_id;
use portcullis_store::{AdminEventQuery, AdminEventRecord, Page};
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Who performed an admin request (Keycloak's `authDetails`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthDetails {
    pub realm_id: String,
    /// Internal id of the client the token was issued to.
    pub client_id: String,
    pub user_id: String,
    pub ip_address: Option<String>,
}

type Slot = Arc<Mutex<Option<AuthDetails>>>;

tokio::task_local! {
    static CALLER: Slot;
}

/// Remember the authenticated caller of the admin request being served (a no-op outside the
/// [`record`] middleware).
pub fn note_caller(details: AuthDetails) {
    let _ = CALLER.try_with(|slot| {
        if let Ok(mut guard) = slot.lock() {
            *guard = Some(details);
        }
    });
}

/// What an admin write did, as Keycloak names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub operation: &'static str,
    pub resource_type: &'static str,
}

/// Last path segments of endpoints that are actions rather than creations or changes.
const ACTIONS: &[&str] = &[
    "reset-password",
    "logout",
    "logout-all",
    "execute-actions-email",
    "send-verify-email",
    "client-secret",
    "push-revocation",
    "impersonation",
    "partialImport",
    "registration-access-token",
    "test-nodes-available",
];

/// Classify an admin write from its method and the path segments after
/// `/admin/realms/{realm}` (decoded). None for requests that are not recorded: reads, and
/// requests on events themselves (`admin-events`, `events`) or the partial export, which
/// change nothing.
pub fn classify(method: &Method, segments: &[&str]) -> Option<Classified> {
    let operation = match *method {
        Method::POST => "CREATE",
        Method::PUT => "UPDATE",
        Method::DELETE => "DELETE",
        _ => return None,
    };
    let first = segments.first().copied().unwrap_or("");
    if matches!(first, "admin-events" | "events" | "partial-export") && segments.len() == 1 {
        return None;
    }
    let operation = if segments.last().is_some_and(|l| ACTIONS.contains(l)) {
        "ACTION"
    } else {
        operation
    };
    let seg = |i: usize| segments.get(i).copied();
    let role_mapping = |at: usize| match seg(at) {
        Some("clients") => "CLIENT_ROLE_MAPPING",
        _ => "REALM_ROLE_MAPPING",
    };
    let resource_type = match first {
        "" => "REALM",
        "events" => "REALM",
        "users" => match seg(2) {
            Some("groups") => "GROUP_MEMBERSHIP",
            Some("role-mappings") => role_mapping(3),
            Some("sessions") => "USER_SESSION",
            _ => "USER",
        },
        "groups" => match seg(2) {
            Some("role-mappings") => role_mapping(3),
            _ => "GROUP",
        },
        "roles" | "roles-by-id" => "REALM_ROLE",
        "clients" => match seg(2) {
            Some("roles") => "CLIENT_ROLE",
            Some("protocol-mappers") => "PROTOCOL_MAPPER",
            Some("default-client-scopes") | Some("optional-client-scopes") => {
                "CLIENT_SCOPE_CLIENT_MAPPING"
            }
            Some("scope-mappings") => match seg(3) {
                Some("clients") => "CLIENT_SCOPE_MAPPING",
                _ => "REALM_SCOPE_MAPPING",
            },
            _ => "CLIENT",
        },
        "client-scopes" => match seg(2) {
            Some("protocol-mappers") => "PROTOCOL_MAPPER",
            Some("scope-mappings") => match seg(3) {
                Some("clients") => "CLIENT_SCOPE_MAPPING",
                _ => "REALM_SCOPE_MAPPING",
            },
            _ => "CLIENT_SCOPE",
        },
        "default-default-client-scopes" | "default-optional-client-scopes" => "REALM_SCOPE_MAPPING",
        "default-groups" => "GROUP",
        "sessions" => "USER_SESSION",
        "attack-detection" => "USER_LOGIN_FAILURE",
        "identity-provider" => "IDENTITY_PROVIDER",
        "components" => "COMPONENT",
        "authentication" => "AUTH_FLOW",
        "organizations" => "ORGANIZATION",
        _ => "REALM",
    };
    Some(Classified {
        operation,
        resource_type,
    })
}

/// The mask Keycloak shows in place of a secret.
pub const MASK: &str = "**********";

/// Keys whose values are secrets wherever they appear.
const SECRET_KEYS: &[&str] = &["secret", "password", "clientSecret", "secretData"];

/// A request body as an event may keep it: credential `value`s (objects with a `type` or
/// `temporary`, and everything in a `credentials` list) and secret fields masked.
pub fn redact(mut body: Value) -> Value {
    fn walk(v: &mut Value, in_credentials: bool) {
        match v {
            Value::Object(map) => {
                let credential =
                    in_credentials || map.contains_key("type") || map.contains_key("temporary");
                for (k, child) in map.iter_mut() {
                    let secret = SECRET_KEYS.contains(&k.as_str()) || (k == "value" && credential);
                    if secret && !child.is_null() {
                        *child = Value::String(MASK.to_owned());
                    } else {
                        walk(child, k == "credentials");
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, in_credentials);
                }
            }
            _ => {}
        }
    }
    walk(&mut body, false);
    body
}

/// `%XX` escapes of a path segment decoded (invalid escapes kept as they are).
pub fn decode_segment(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The realm name and the remaining segments of an admin path (`/admin/realms/{realm}/...`,
/// as the admin router sees it); None for `/admin/realms` itself.
pub fn split_path(path: &str) -> Option<(String, Vec<String>)> {
    let rest = path.strip_prefix("/admin/realms/")?;
    let mut parts = rest
        .split('/')
        .filter(|p| !p.is_empty())
        .map(decode_segment);
    let realm = parts.next()?;
    Some((realm, parts.collect()))
}

/// The middleware that records admin events (see the module header).
pub async fn record(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    // Reads are not events; without a bearer token the handler answers 401 and nothing is
    // recorded, so the body is not buffered for anonymous callers.
    if matches!(method, Method::GET | Method::HEAD | Method::OPTIONS)
        || crate::oidc::http::bearer(req.headers()).is_none()
    {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    // Keep the body for the representation; read here up to the server-wide limit, exactly
    // as `http::read_json` would (which then reads it again from memory).
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, crate::app::MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return http::too_large(true),
    };
    // `roles-by-id` names realm and client roles alike: which one it is must be read before
    // the handler runs (a deleted role is gone after it).
    let client_role = match split_path(&path) {
        Some((realm, segs)) if segs.first().map(String::as_str) == Some("roles-by-id") => {
            match (s.store.get_realm(&realm).await, segs.get(1)) {
                (Ok(Some(r)), Some(id)) => matches!(
                    s.store.role_details_by_id(&r.id, id).await,
                    Ok(Some(d)) if d.role.client_id.is_some()
                ),
                _ => false,
            }
        }
        _ => false,
    };
    let req = Request::from_parts(parts, Body::from(bytes.clone()));
    let slot: Slot = Arc::new(Mutex::new(None));
    let resp = CALLER.scope(slot.clone(), next.run(req)).await;
    if !resp.status().is_success() {
        return resp;
    }
    let caller = slot.lock().ok().and_then(|mut g| g.take());
    let location = resp
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let facts = Facts {
        location,
        caller,
        peer,
        client_role,
    };
    if let Err(e) = store_event(&s, &method, &path, &bytes, facts).await {
        tracing::warn!(error = %e, path = %path, "admin event could not be recorded");
    }
    resp
}

/// What the middleware learnt about a write besides its request.
struct Facts {
    /// The answer's `Location` (creations).
    location: Option<String>,
    caller: Option<AuthDetails>,
    peer: Option<String>,
    /// A `roles-by-id` write concerns a client role.
    client_role: bool,
}

/// `REALM_ROLE` becomes `CLIENT_ROLE` when the role written by id belongs to a client.
pub fn role_kind(kind: Classified, client_role: bool) -> Classified {
    if client_role && kind.resource_type == "REALM_ROLE" {
        Classified {
            resource_type: "CLIENT_ROLE",
            ..kind
        }
    } else {
        kind
    }
}

async fn store_event(
    s: &AppState,
    method: &Method,
    path: &str,
    body: &Bytes,
    facts: Facts,
) -> anyhow::Result<()> {
    let Facts {
        location,
        caller,
        peer,
        client_role,
    } = facts;
    let (realm_name, mut segments) = match split_path(path) {
        Some(v) => v,
        // `POST /admin/realms`: the event belongs to the new realm.
        None => match location.as_deref().and_then(|l| l.rsplit('/').next()) {
            Some(name) if *method == Method::POST => (decode_segment(name), Vec::new()),
            _ => return Ok(()),
        },
    };
    let refs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let Some(kind) = classify(method, &refs) else {
        return Ok(());
    };
    let kind = role_kind(kind, client_role);
    // Read fresh: the request may have just switched events on (or deleted the realm).
    let Some(realm) = s.store.get_realm(&realm_name).await? else {
        return Ok(());
    };
    if !realm.settings.admin_events_enabled.unwrap_or(false) {
        return Ok(());
    }
    if *method == Method::POST
        && !refs.is_empty()
        && let Some(id) = location.as_deref().and_then(|l| l.rsplit('/').next())
    {
        segments.push(decode_segment(id));
    }
    let representation = if realm.settings.admin_events_details_enabled.unwrap_or(false) {
        serde_json::from_slice::<Value>(body)
            .ok()
            .map(|v| redact(v).to_string())
    } else {
        None
    };
    let caller = caller.unwrap_or(AuthDetails {
        realm_id: String::new(),
        client_id: String::new(),
        user_id: String::new(),
        ip_address: None,
    });
    let event = AdminEventRecord {
        id: new_id(),
        realm_id: realm.id.clone(),
        time: crate::oidc::http::now_ms(),
        operation_type: kind.operation.to_owned(),
        resource_type: kind.resource_type.to_owned(),
        resource_path: segments.join("/"),
        auth_realm_id: Some(caller.realm_id).filter(|v| !v.is_empty()),
        auth_client_id: Some(caller.client_id).filter(|v| !v.is_empty()),
        auth_user_id: Some(caller.user_id).filter(|v| !v.is_empty()),
        ip_address: caller.ip_address.or(peer),
        representation,
        error: None,
    };
    s.store.add_admin_event(&event).await?;
    Ok(())
}

/// An event as `GET /admin-events` shows it.
pub fn event_repr(e: &AdminEventRecord) -> Value {
    let mut auth = Map::new();
    for (k, v) in [
        ("realmId", &e.auth_realm_id),
        ("clientId", &e.auth_client_id),
        ("userId", &e.auth_user_id),
        ("ipAddress", &e.ip_address),
    ] {
        if let Some(v) = v {
            auth.insert(k.into(), Value::String(v.clone()));
        }
    }
    let mut out = json!({
        "id": e.id,
        "time": e.time,
        "realmId": e.realm_id,
        "authDetails": auth,
        "operationType": e.operation_type,
        "resourceType": e.resource_type,
        "resourcePath": e.resource_path,
    });
    if let Some(r) = &e.representation {
        out["representation"] = Value::String(r.clone());
    }
    if let Some(err) = &e.error {
        out["error"] = Value::String(err.clone());
    }
    out
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `yyyy-MM-dd` as epoch milliseconds at the start of that day (UTC).
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=days_in).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400_000)
}

/// The values of a parameter given once or more (`operationTypes=CREATE&operationTypes=DELETE`),
/// each value also split on commas.
fn all_values(raw: Option<&str>, name: &str) -> Vec<String> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The filters of `GET /admin-events`.
pub fn event_query(raw: Option<&str>) -> Result<(AdminEventQuery, Page), String> {
    let q = Query::parse(raw);
    let text = |name: &str| q.text(name).map(|v| v.map(str::to_owned)).map_err(|e| e.0);
    let date = |name: &str, label: &str| -> Result<Option<i64>, String> {
        match q.text(name).map_err(|e| e.0)? {
            None => Ok(None),
            Some(v) => parse_date(v)
                .map(Some)
                .ok_or_else(|| format!("Invalid value for '{label}', must be 'yyyy-MM-dd'")),
        }
    };
    let query = AdminEventQuery {
        operation_types: all_values(raw, "operationTypes"),
        resource_types: all_values(raw, "resourceTypes"),
        resource_path: text("resourcePath")?,
        auth_realm: text("authRealm")?,
        auth_client: text("authClient")?,
        auth_user: text("authUser")?,
        auth_ip_address: text("authIpAddress")?,
        from_ms: date("dateFrom", "Date(From)")?,
        // dateTo names a whole day.
        to_ms: date("dateTo", "Date(To)")?.map(|d| d + 86_400_000),
    };
    let page = q.page(100).map_err(|e| e.0)?;
    Ok((query, page))
}

/// GET `/admin-events`: newest first, `max` 100 by default.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/admin-events",
    tag = "realms",
    params(crate::admin::openapi::RealmP, crate::admin::openapi::AdminEventFilters, crate::admin::openapi::Paging),
    responses(
        (status = 200, description = "Newest first", body = Vec<crate::admin::openapi::AdminEventBody>),
    )
)]
pub async fn list(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewEvents).await?;
    let (query, page) = event_query(raw.as_deref()).map_err(|m| http::bad_request(&m))?;
    let page = Page {
        max: page.max.min(MAX_PAGE),
        ..page
    };
    let events = db(s.store.admin_events(&c.realm.id, &query, page).await)?;
    http::ok(events.iter().map(event_repr).collect::<Vec<_>>())
}

/// DELETE `/admin-events`: all of the realm's admin events; 204.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/admin-events",
    tag = "realms",
    params(crate::admin::openapi::RealmP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn clear(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageEvents).await?;
    db(s.store.delete_admin_events(&c.realm.id, None).await)?;
    http::no_content()
}

/// A day (`yyyy-MM-dd`) or epoch milliseconds, as `GET /events` accepts for `dateFrom` and
/// `dateTo`: (start in epoch ms, whether a whole day was named).
pub fn parse_date_or_millis(s: &str) -> Option<(i64, bool)> {
    if !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok().map(|ms| (ms, false));
    }
    parse_date(s).map(|ms| (ms, true))
}

/// The filters of `GET /events`.
pub fn login_event_query(
    raw: Option<&str>,
) -> Result<(portcullis_store::LoginEventQuery, Page), String> {
    let q = Query::parse(raw);
    let text = |name: &str| q.text(name).map(|v| v.map(str::to_owned)).map_err(|e| e.0);
    let date = |name: &str, label: &str| -> Result<Option<(i64, bool)>, String> {
        match q.text(name).map_err(|e| e.0)? {
            None => Ok(None),
            Some(v) => parse_date_or_millis(v).map(Some).ok_or_else(|| {
                format!("Invalid value for '{label}', must be 'yyyy-MM-dd' or epoch milliseconds")
            }),
        }
    };
    let known = portcullis_model::events::all_names();
    let types = all_values(raw, "type");
    if let Some(bad) = types.iter().find(|t| !known.contains(t)) {
        return Err(format!("Invalid event type: {bad}"));
    }
    let ascending = match q.text("direction").map_err(|e| e.0)? {
        None => false,
        Some(d) if d.eq_ignore_ascii_case("desc") => false,
        Some(d) if d.eq_ignore_ascii_case("asc") => true,
        Some(_) => return Err("Invalid value for 'direction', must be 'asc' or 'desc'".into()),
    };
    let query = portcullis_store::LoginEventQuery {
        types,
        client: text("client")?,
        user: text("user")?,
        ip_address: text("ipAddress")?,
        from_ms: date("dateFrom", "Date(From)")?.map(|(ms, _)| ms),
        // A day is included whole; a time is included itself.
        to_ms: date("dateTo", "Date(To)")?
            .map(|(ms, day)| ms.saturating_add(if day { 86_400_000 } else { 1 })),
        ascending,
    };
    let page = q.page(100).map_err(|e| e.0)?;
    Ok((query, page))
}

/// A login event as `GET /events` shows it (absent fields left out).
pub fn login_event_repr(e: &portcullis_store::LoginEventRecord) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), Value::String(e.id.clone()));
    out.insert("time".into(), json!(e.time));
    out.insert("type".into(), Value::String(e.type_.clone()));
    out.insert("realmId".into(), Value::String(e.realm_id.clone()));
    for (k, v) in [
        ("clientId", &e.client_id),
        ("userId", &e.user_id),
        ("sessionId", &e.session_id),
        ("ipAddress", &e.ip_address),
        ("error", &e.error),
    ] {
        if let Some(v) = v {
            out.insert(k.into(), Value::String(v.clone()));
        }
    }
    if !e.details.is_empty() {
        out.insert("details".into(), json!(e.details));
    }
    Value::Object(out)
}

/// GET `/events`: the realm's user (login) events, newest first, `max` 100 by default.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/events",
    tag = "realms",
    params(crate::admin::openapi::RealmP, crate::admin::openapi::EventFilters, crate::admin::openapi::Paging),
    responses(
        (status = 200, description = "Newest first unless `direction=asc`", body = Vec<crate::admin::openapi::EventBody>),
    )
)]
pub async fn list_login(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewEvents).await?;
    let (query, page) = login_event_query(raw.as_deref()).map_err(|m| http::bad_request(&m))?;
    // Every event emitted before this request is written first.
    s.events.flush().await;
    let events = db(s.store.login_events(&c.realm.id, &query, page).await)?;
    http::ok(events.iter().map(login_event_repr).collect::<Vec<_>>())
}

/// DELETE `/events`: all of the realm's user events; 204.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/events",
    tag = "realms",
    params(crate::admin::openapi::RealmP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn clear_login(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageEvents).await?;
    s.events.flush().await;
    db(s.store.delete_login_events(&c.realm.id).await)?;
    http::no_content()
}

/// `RealmEventsConfigRepresentation`.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct EventsConfig {
    pub events_enabled: Option<bool>,
    pub events_expiration: Option<i64>,
    pub events_listeners: Option<Vec<String>>,
    pub enabled_event_types: Option<Vec<String>>,
    pub admin_events_enabled: Option<bool>,
    pub admin_events_details_enabled: Option<bool>,
}

/// GET `/events/config`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/events/config",
    tag = "realms",
    params(crate::admin::openapi::RealmP),
    responses(
        (status = 200, description = "OK", body = EventsConfig),
    )
)]
pub async fn get_config(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewEvents).await?;
    let st = &c.realm.settings;
    http::ok(EventsConfig {
        events_enabled: Some(st.events_enabled.unwrap_or(false)),
        events_expiration: st.events_expiration,
        events_listeners: Some(
            st.events_listeners
                .clone()
                .unwrap_or_else(|| vec!["jboss-logging".into()]),
        ),
        enabled_event_types: Some(st.enabled_event_types.clone().unwrap_or_default()),
        admin_events_enabled: Some(st.admin_events_enabled.unwrap_or(false)),
        admin_events_details_enabled: Some(st.admin_events_details_enabled.unwrap_or(false)),
    })
}

/// PUT `/events/config`: the fields given replace the stored ones; 204.
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/events/config",
    tag = "realms",
    params(crate::admin::openapi::RealmP),
    request_body(content = EventsConfig, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn put_config(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageEvents).await?;
    let rep: EventsConfig = http::read_json(&headers, body).await?;
    if rep.events_expiration.is_some_and(|v| v < 0) {
        return Err(http::bad_request("eventsExpiration must not be negative"));
    }
    let mut realm = (*c.realm).clone();
    let st = &mut realm.settings;
    if rep.events_enabled.is_some() {
        st.events_enabled = rep.events_enabled;
    }
    if rep.events_expiration.is_some() {
        st.events_expiration = rep.events_expiration;
    }
    if rep.events_listeners.is_some() {
        st.events_listeners = rep.events_listeners;
    }
    if rep.enabled_event_types.is_some() {
        st.enabled_event_types = rep.enabled_event_types;
    }
    if rep.admin_events_enabled.is_some() {
        st.admin_events_enabled = rep.admin_events_enabled;
    }
    if rep.admin_events_details_enabled.is_some() {
        st.admin_events_details_enabled = rep.admin_events_details_enabled;
    }
    if !db(s.store.update_realm_settings(&realm).await)? {
        return Err(http::not_found("Realm not found."));
    }
    s.caches.invalidate_config();
    http::no_content()
}

/// Housekeeping: a realm's admin events older than its `adminEventsExpiration` attribute
/// (seconds, Keycloak's realm attribute; `eventsExpiration` applies to user events only).
pub fn admin_events_expiry_ms(
    settings: &portcullis_model::repr::RealmRepresentation,
) -> Option<i64> {
    settings
        .attributes
        .as_ref()?
        .get("adminEventsExpiration")?
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .map(|v| v.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Kinds = Option<(&'static str, &'static str)>;

    fn c(m: Method, path: &str) -> Kinds {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        classify(&m, &segs).map(|k| (k.operation, k.resource_type))
    }

    #[test]
    fn writes_are_classified_from_the_path() {
        use Method as M;
        let cases: &[(Method, &str, Kinds)] = &[
            (M::POST, "users", Some(("CREATE", "USER"))),
            (M::PUT, "users/u1", Some(("UPDATE", "USER"))),
            (M::DELETE, "users/u1", Some(("DELETE", "USER"))),
            (M::PUT, "users/u1/reset-password", Some(("ACTION", "USER"))),
            (M::POST, "users/u1/logout", Some(("ACTION", "USER"))),
            (
                M::PUT,
                "users/u1/groups/g1",
                Some(("UPDATE", "GROUP_MEMBERSHIP")),
            ),
            (
                M::DELETE,
                "users/u1/groups/g1",
                Some(("DELETE", "GROUP_MEMBERSHIP")),
            ),
            (
                M::POST,
                "users/u1/role-mappings/realm",
                Some(("CREATE", "REALM_ROLE_MAPPING")),
            ),
            (
                M::POST,
                "users/u1/role-mappings/clients/c1",
                Some(("CREATE", "CLIENT_ROLE_MAPPING")),
            ),
            (
                M::DELETE,
                "groups/g1/role-mappings/clients/c1",
                Some(("DELETE", "CLIENT_ROLE_MAPPING")),
            ),
            (
                M::POST,
                "groups/g1/role-mappings/realm",
                Some(("CREATE", "REALM_ROLE_MAPPING")),
            ),
            (M::POST, "groups", Some(("CREATE", "GROUP"))),
            (M::POST, "groups/g1/children", Some(("CREATE", "GROUP"))),
            (M::PUT, "roles/r", Some(("UPDATE", "REALM_ROLE"))),
            (
                M::POST,
                "roles/r/composites",
                Some(("CREATE", "REALM_ROLE")),
            ),
            (M::DELETE, "roles-by-id/r1", Some(("DELETE", "REALM_ROLE"))),
            (M::POST, "clients", Some(("CREATE", "CLIENT"))),
            (
                M::POST,
                "clients/c1/client-secret",
                Some(("ACTION", "CLIENT")),
            ),
            (M::POST, "clients/c1/roles", Some(("CREATE", "CLIENT_ROLE"))),
            (
                M::POST,
                "clients/c1/protocol-mappers/models",
                Some(("CREATE", "PROTOCOL_MAPPER")),
            ),
            (
                M::POST,
                "clients/c1/protocol-mappers/add-models",
                Some(("CREATE", "PROTOCOL_MAPPER")),
            ),
            (
                M::PUT,
                "clients/c1/default-client-scopes/s1",
                Some(("UPDATE", "CLIENT_SCOPE_CLIENT_MAPPING")),
            ),
            (M::POST, "client-scopes", Some(("CREATE", "CLIENT_SCOPE"))),
            (
                M::DELETE,
                "client-scopes/s1/protocol-mappers/models/m1",
                Some(("DELETE", "PROTOCOL_MAPPER")),
            ),
            (
                M::PUT,
                "default-default-client-scopes/s1",
                Some(("UPDATE", "REALM_SCOPE_MAPPING")),
            ),
            (M::DELETE, "sessions/x", Some(("DELETE", "USER_SESSION"))),
            (M::POST, "logout-all", Some(("ACTION", "REALM"))),
            (M::PUT, "", Some(("UPDATE", "REALM"))),
            (M::DELETE, "", Some(("DELETE", "REALM"))),
            (M::PUT, "events/config", Some(("UPDATE", "REALM"))),
            (M::DELETE, "admin-events", None),
            (M::DELETE, "events", None),
            (M::POST, "partial-export", None),
            (M::GET, "users", None),
            (M::PATCH, "users/u1", None),
        ];
        for (m, path, want) in cases {
            assert_eq!(c(m.clone(), path), *want, "{m} {path}");
        }
    }

    #[test]
    fn roles_written_by_id_keep_their_kind() {
        let k = classify(&Method::PUT, &["roles-by-id", "r1"]).unwrap();
        assert_eq!(role_kind(k.clone(), false).resource_type, "REALM_ROLE");
        assert_eq!(role_kind(k, true).resource_type, "CLIENT_ROLE");
        let user = classify(&Method::PUT, &["users", "u1"]).unwrap();
        assert_eq!(role_kind(user, true).resource_type, "USER");
    }

    #[test]
    fn secrets_never_reach_a_representation() {
        let body = json!({
            "username": "a",
            "credentials": [{"type": "password", "value": "pw", "temporary": false}],
            "secret": "s3cret",
            "smtpServer": {"host": "h", "password": "p"},
            "attributes": {"value": ["kept"]},
            "config": {"claim.value": "kept"}
        });
        let r = redact(body);
        let text = r.to_string();
        assert!(!text.contains("pw\""), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(!text.contains("\"p\""), "{text}");
        assert_eq!(r["credentials"][0]["value"], MASK);
        assert_eq!(r["smtpServer"]["host"], "h");
        assert_eq!(r["attributes"]["value"][0], "kept");
        assert_eq!(r["config"]["claim.value"], "kept");
        // reset-password's body is a credential.
        let r = redact(json!({"type": "password", "value": "pw", "temporary": true}));
        assert_eq!(r["value"], MASK);
    }

    #[test]
    fn admin_events_expire_by_the_realm_attribute() {
        let mut rep = portcullis_model::repr::RealmRepresentation::default();
        assert_eq!(admin_events_expiry_ms(&rep), None);
        rep.events_expiration = Some(60);
        assert_eq!(admin_events_expiry_ms(&rep), None, "user events only");
        for (v, want) in [
            ("120", Some(120_000)),
            (" 5 ", Some(5_000)),
            ("0", None),
            ("-1", None),
            ("x", None),
        ] {
            rep.attributes = Some([("adminEventsExpiration".to_string(), v.to_string())].into());
            assert_eq!(admin_events_expiry_ms(&rep), want, "{v}");
        }
    }

    #[test]
    fn login_event_filters() {
        let (q, page) = login_event_query(Some(
            "type=LOGIN&type=LOGIN_ERROR,CODE_TO_TOKEN&client=app&user=u1&ipAddress=192.0.2.1\
             &dateFrom=1970-01-02&dateTo=1970-01-02&first=5&max=7&direction=asc",
        ))
        .unwrap();
        assert_eq!(q.types, vec!["LOGIN", "LOGIN_ERROR", "CODE_TO_TOKEN"]);
        assert_eq!(q.client.as_deref(), Some("app"));
        assert_eq!(q.user.as_deref(), Some("u1"));
        assert_eq!(q.ip_address.as_deref(), Some("192.0.2.1"));
        assert_eq!(q.from_ms, Some(86_400_000));
        assert_eq!(q.to_ms, Some(2 * 86_400_000), "the whole day");
        assert!(q.ascending);
        assert_eq!((page.first, page.max), (5, 7));
        let (q, page) = login_event_query(Some("dateFrom=1000&dateTo=2000")).unwrap();
        assert_eq!(
            (q.from_ms, q.to_ms),
            (Some(1000), Some(2001)),
            "times included"
        );
        assert!(!q.ascending);
        assert_eq!(page.max, 100);
        assert!(login_event_query(Some("type=NOT_A_TYPE")).is_err());
        assert!(login_event_query(Some("direction=sideways")).is_err());
        assert!(login_event_query(Some("dateTo=tomorrow")).is_err());
        assert!(login_event_query(Some("max=many")).is_err());
        let e = portcullis_store::LoginEventRecord {
            id: "e1".into(),
            realm_id: "r".into(),
            time: 5,
            type_: "LOGIN".into(),
            client_id: Some("app".into()),
            user_id: None,
            session_id: None,
            ip_address: None,
            error: None,
            details: [("username".to_string(), "alice".to_string())].into(),
        };
        assert_eq!(
            login_event_repr(&e),
            json!({"id": "e1", "time": 5, "type": "LOGIN", "realmId": "r", "clientId": "app",
                   "details": {"username": "alice"}})
        );
    }

    #[test]
    fn paths_and_dates() {
        assert_eq!(
            split_path("/admin/realms/my%20realm/users/u1"),
            Some((
                "my realm".to_string(),
                vec!["users".to_string(), "u1".to_string()]
            ))
        );
        assert_eq!(
            split_path("/admin/realms/acme"),
            Some(("acme".into(), vec![]))
        );
        assert_eq!(split_path("/admin/realms"), None);
        assert_eq!(decode_segment("a%2Fb%zz%4"), "a/b%zz%4");
        assert_eq!(parse_date("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_date("2024-02-29"), Some(1_709_164_800_000));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "24-01-01",
            "2024-1-01",
            "x",
            "2024-01-01-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        let (q, page) = event_query(Some(
            "operationTypes=CREATE&operationTypes=DELETE&resourceTypes=USER&dateTo=1970-01-01&max=5",
        ))
        .unwrap();
        assert_eq!(q.operation_types, vec!["CREATE", "DELETE"]);
        assert_eq!(q.resource_types, vec!["USER"]);
        assert_eq!(q.to_ms, Some(86_400_000));
        assert_eq!(page.max, 5);
        assert!(event_query(Some("dateFrom=yesterday")).is_err());
        assert_eq!(event_query(None).unwrap().1.max, 100);
    }
}
