//! The public HTTP interface (port 8080 by default), under `--http-relative-path`.
//!
//! This surface is small: the root redirect Keycloak 26 does (`/` → the relative path),
//! a welcome page, and the realm root document. OpenID Connect endpoints, the admin API and the
//! consoles are added by their own modules.

use crate::management::{self, ManagementState};
use crate::telemetry;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use portcullis_store::Store;
use serde_json::json;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// How URLs and the issuer are derived (`--hostname*`, `--proxy-headers`).
    pub hostname: portcullis_oidc::urls::HostnamePolicy,
    /// Parsed realm keys, per node.
    pub keys: std::sync::Arc<crate::oidc::keys::KeyCache>,
    /// Login page templates.
    pub themes: std::sync::Arc<crate::theme::Themes>,
    /// Outgoing HTTP (back-channel logout).
    pub http: reqwest::Client,
    /// Read caches of realm configuration and claim sources.
    pub caches: std::sync::Arc<crate::cache::Caches>,
    /// Password hashing slots: one per core.
    pub hashing: std::sync::Arc<HashingSlots>,
    /// Where user events go besides the store and the log (the event metric).
    pub events: std::sync::Arc<crate::events::EventSink>,
    /// `passwordBlacklist` files (`<data-dir>/password-blacklists/`).
    pub blacklists: std::sync::Arc<crate::password_blacklist::Blacklists>,
    /// Mails sent after the answer.
    pub background: std::sync::Arc<Background>,
}

/// Runs password hashes (argon2 / PBKDF2: CPU- and memory-bound, milliseconds each) on the
/// blocking pool, at most one per core at a time. Unbounded, 32 concurrent logins would run 32
/// argon2 instances of 7 MiB each side by side: no faster in total (the cores are the limit),
/// but 32 times the memory and a cache thrashed enough to halve the rate. Waiting requests
/// queue here in arrival order (tokio's semaphore is fair).
pub struct HashingSlots {
    slots: tokio::sync::Semaphore,
}

impl HashingSlots {
    /// One slot per core this process may run on (CPU affinity counts).
    pub fn per_core() -> HashingSlots {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        HashingSlots {
            slots: tokio::sync::Semaphore::new(n),
        }
    }

    /// Run `f` on the blocking pool once a slot is free.
    pub async fn run<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self
            .slots
            .acquire()
            .await
            .map_err(|_| anyhow::anyhow!("hashing slots closed"))?;
        Ok(tokio::task::spawn_blocking(f).await?)
    }
}

/// Work a request starts and does not wait for (mails sent after the answer): bounded, and
/// given a grace period at shutdown so a stopping server does not silently drop a mail it
/// already promised.
pub struct Background {
    tasks: std::sync::Mutex<tokio::task::JoinSet<()>>,
    limit: usize,
}

impl Background {
    /// At most `limit` tasks in flight; more are refused (the caller logs and drops them).
    pub fn new(limit: usize) -> Background {
        Background {
            tasks: std::sync::Mutex::new(tokio::task::JoinSet::new()),
            limit,
        }
    }

    /// Run `task` in the background; false (and nothing runs) when `limit` tasks are in
    /// flight already.
    pub fn spawn<F>(&self, task: F) -> bool
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let Ok(mut tasks) = self.tasks.lock() else {
            return false;
        };
        while tasks.try_join_next().is_some() {}
        if tasks.len() >= self.limit {
            return false;
        }
        tasks.spawn(task);
        true
    }

    /// Tasks still running.
    pub fn in_flight(&self) -> usize {
        self.tasks.lock().map_or(0, |mut t| {
            while t.try_join_next().is_some() {}
            t.len()
        })
    }

    /// Wait up to `grace` for the running tasks, then stop the rest; how many were stopped.
    pub async fn drain(&self, grace: Duration) -> usize {
        let mut tasks = match self.tasks.lock() {
            Ok(mut t) => std::mem::take(&mut *t),
            Err(_) => return 0,
        };
        let deadline = tokio::time::Instant::now() + grace;
        while !tasks.is_empty() {
            if tokio::time::timeout_at(deadline, tasks.join_next())
                .await
                .is_err()
            {
                break;
            }
        }
        let left = tasks.len();
        tasks.abort_all();
        left
    }
}

/// The enabled realm of that name, or the 404 answer Keycloak gives.
pub async fn enabled_realm(
    s: &AppState,
    name: &str,
) -> Result<std::sync::Arc<portcullis_model::records::RealmRecord>, Response> {
    match s.caches.realm(&s.store, name).await {
        Ok(Some(r)) if r.enabled => Ok(r),
        Ok(_) => Err((
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "Realm does not exist"})),
        )
            .into_response()),
        Err(e) => Err(crate::error::internal_any(e)),
    }
}

/// What the router needs to know about the deployment.
pub struct AppOptions {
    pub relative_path: String,
    /// Serve health and metrics here too (`--legacy-observability-interface`).
    pub legacy_observability: Option<(ManagementState, bool)>,
}

/// Largest request body accepted (realm representations can be large).
pub const MAX_BODY: usize = 10 * 1024 * 1024;

pub fn router(state: AppState, opts: AppOptions) -> Router {
    let realm_routes = Router::new()
        .route("/", get(welcome))
        .route("/realms/{realm}", get(realm_root))
        .merge(crate::oidc::routes())
        .merge(crate::admin::router(&state, &opts.relative_path))
        .merge(crate::console::routes(state.clone()))
        .merge(crate::account::routes(state.clone()))
        .with_state(state);
    let mut app = if opts.relative_path == "/" {
        realm_routes
    } else {
        let target = format!("{}/", opts.relative_path);
        Router::new()
            .route("/", get(move || async move { Redirect::to(&target) }))
            .route(&format!("{}/", opts.relative_path), get(welcome))
            .nest(&opts.relative_path, realm_routes)
    };
    if let Some((mstate, health)) = opts.legacy_observability {
        app = app.merge(management::router(mstate, health, &opts.relative_path));
    }
    let app = app
        .fallback(not_found)
        .layer(axum::middleware::from_fn(telemetry::track_requests))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(60),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Request spans name the path only: query strings carry one-time values (the
        // `key` of mail links, codes, state) that must not reach the logs.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                tracing::debug_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        );
    // Routing sees the path after this rewrite (a layer inside the router would run after
    // routing), hence the outer router that only forwards.
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .map_request(trim_admin_trailing_slash)
            .service(app),
    )
}

/// Admin API paths are matched with or without one trailing slash, as Keycloak's are: the
/// official admin client creates users with `POST .../users/`.
fn trim_admin_trailing_slash(mut req: axum::extract::Request) -> axum::extract::Request {
    if let Some(uri) = without_admin_trailing_slash(req.uri()) {
        *req.uri_mut() = uri;
    }
    req
}

/// The URI without its path's trailing slash, when it is an admin API path that has one.
fn without_admin_trailing_slash(uri: &axum::http::Uri) -> Option<axum::http::Uri> {
    let path = uri.path();
    if !(path.len() > 1 && path.ends_with('/') && path.contains("/admin/realms")) {
        return None;
    }
    let trimmed = &path[..path.len() - 1];
    let pq = match uri.query() {
        Some(q) => format!("{trimmed}?{q}"),
        None => trimmed.to_string(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = pq.parse().ok();
    axum::http::Uri::from_parts(parts).ok()
}

async fn welcome() -> Response {
    let page = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Portcullis</title></head>\
<body><h1>Portcullis</h1><p>The identity server is running.</p></body></html>";
    (
        [
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            (
                header::CONTENT_SECURITY_POLICY,
                "frame-src 'self'; frame-ancestors 'self'; object-src 'none';",
            ),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        Html(page),
    )
        .into_response()
}

/// The realm root document Keycloak serves: python-keycloak reads `public_key` from it.
async fn realm_root(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let r = match enabled_realm(&s, &realm).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let keys = match s.keys.get(&s.store, &r).await {
        Ok(k) => k,
        Err(e) => return crate::error::internal_any(e),
    };
    let public_key = keys
        .records
        .iter()
        .find(|k| k.enabled && k.active && k.algorithm == "RS256")
        .and_then(|k| {
            portcullis_oidc::keys::public_key_spki_base64(k)
                .ok()
                .flatten()
        });
    let urls = crate::oidc::urls(&s, &headers, &r.name);
    axum::Json(json!({
        "realm": r.name,
        "public_key": public_key,
        "token-service": format!("{}/protocol/openid-connect", urls.issuer),
        "account-service": format!("{}/account", urls.issuer),
        "tokens-not-before": r.settings.not_before.unwrap_or(0),
    }))
    .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "Unable to find matching target resource method"})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::without_admin_trailing_slash;

    fn trim(s: &str) -> Option<String> {
        without_admin_trailing_slash(&s.parse().expect("uri")).map(|u| u.to_string())
    }

    #[test]
    fn admin_paths_lose_one_trailing_slash() {
        assert_eq!(
            trim("/auth/admin/realms/r/users/").as_deref(),
            Some("/auth/admin/realms/r/users")
        );
        assert_eq!(
            trim("/admin/realms/?briefRepresentation=true").as_deref(),
            Some("/admin/realms?briefRepresentation=true")
        );
        assert_eq!(trim("/auth/admin/realms/r/users"), None);
        assert_eq!(trim("/auth/"), None);
        assert_eq!(trim("/auth/realms/r/account/"), None);
        assert_eq!(trim("/"), None);
    }
}

#[cfg(test)]
mod background_tests {
    use super::Background;
    use std::time::Duration;

    #[tokio::test]
    async fn bounded_and_drained_at_shutdown() {
        let bg = Background::new(2);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        assert!(bg.spawn(async move {
            let _ = rx.await;
        }));
        assert!(bg.spawn(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }));
        assert!(!bg.spawn(async {}), "the third is refused");
        assert_eq!(bg.in_flight(), 2);
        let _ = tx.send(());
        // The first finishes within the grace period, the hour-long one is stopped.
        assert_eq!(bg.drain(Duration::from_millis(200)).await, 1);
        assert_eq!(bg.in_flight(), 0);
    }
}
