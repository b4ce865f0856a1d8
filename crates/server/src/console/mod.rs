//! The web admin console at `{relative-path}/admin/master/console/`: server-rendered HTML pages
//! (plain forms, no script) over the admin REST API.
//!
//! - **Sign-in** (`session.rs`): the console is a relying party of the master realm's built-in
//!   public client `security-admin-console` (authorization code flow with PKCE S256, `state`
//!   and `nonce`). The code is exchanged by calling this server's own token endpoint in
//!   process; the tokens stay in server memory, the browser holds only a random cookie naming
//!   them (ADR 0014).
//! - **Reads and writes** (`api.rs`): every action is a request to the admin REST API, made in
//!   process with the administrator's access token, so the console can never do more than the
//!   API allows (ADR 0010's rights, validation, one transaction per write, cache
//!   invalidation). The few reads the API does not offer yet (realm sessions, the group and
//!   role outlines, a client's mappers) go to the store after the same authorization check.
//! - **Pages** (`pages/*.rs`) render templates from `templates/console/` with minijinja,
//!   auto-escaped (UI-8).
//!
//! Invariants: GET never changes state; every POST carries the session's CSRF value (compared
//! in constant time) and is refused without it; every page has the console's security headers
//! (a CSP without scripts, no framing, no referrer, no caching).

pub(crate) mod api;
pub(crate) mod pages;
mod session;
pub(crate) mod signin;
pub(crate) mod view;

use crate::app::AppState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use moka::sync::Cache;
use std::sync::Arc;

pub use session::Admin;

/// Where the console lives under the relative path (Keycloak's URL).
pub const BASE: &str = "/admin/master/console";

/// The console's shared state: the server's own state, the in-process API router, the console
/// sessions and logins in progress, the templates.
#[derive(Clone)]
pub struct Console(Arc<Inner>);

pub struct Inner {
    app: AppState,
    /// The OIDC and admin API routes with the server's state: called in process.
    api: Router,
    /// Console sessions by SHA-256 of the cookie value.
    sessions: Cache<String, Arc<signin::Session>>,
    /// Logins in progress by SHA-256 of the login cookie value.
    logins: Cache<String, Arc<signin::PendingLogin>>,
    views: view::Views,
    /// `{relative path}/admin/master/console`, no trailing slash.
    prefix: String,
}

impl std::ops::Deref for Console {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The console's routes, with their own state; merged into the public router.
pub fn routes<S: Clone + Send + Sync + 'static>(app: AppState) -> Router<S> {
    // The admin router with its event recording: changes made here are admin events too.
    let api = crate::oidc::routes()
        .merge(crate::admin::router(&app, &app.hostname.relative_path))
        .with_state(app.clone());
    let rel = app.hostname.relative_path.trim_end_matches('/').to_owned();
    let console = Console(Arc::new(Inner {
        api,
        sessions: signin::session_cache(),
        logins: signin::login_cache(),
        views: view::Views::load(view::CONSOLE_TEMPLATES),
        prefix: format!("{rel}{BASE}"),
        app,
    }));
    let target = format!("{rel}{BASE}/");
    let to_console = move || async move { Redirect::to(&target) };
    let r = |p: &str| format!("{BASE}/realms/{{realm}}{p}");
    Router::new()
        .route("/admin", get(to_console.clone()))
        .route("/admin/", get(to_console.clone()))
        .route(BASE, get(to_console))
        .route(&format!("{BASE}/"), get(pages::realms::list))
        .route(&format!("{BASE}/console.css"), get(stylesheet))
        .route(&format!("{BASE}/callback"), get(session::callback))
        .route(&format!("{BASE}/logout"), post(session::logout))
        .route(&r("/"), get(pages::realms::overview))
        .route(
            &r("/users"),
            get(pages::users::list).post(pages::users::create),
        )
        .route(&r("/users/new"), get(pages::users::new_form))
        .route(
            &r("/users/{id}"),
            get(pages::users::detail).post(pages::users::update),
        )
        .route(
            &r("/users/{id}/reset-password"),
            post(pages::users::reset_password),
        )
        .route(
            &r("/users/{id}/groups"),
            get(pages::users::groups).post(pages::users::change_group),
        )
        .route(
            &r("/users/{id}/roles"),
            get(pages::users::roles).post(pages::users::change_role),
        )
        .route(
            &r("/users/{id}/sessions"),
            get(pages::users::sessions).post(pages::users::end_session),
        )
        .route(
            &r("/groups"),
            get(pages::groups::tree).post(pages::groups::create),
        )
        .route(
            &r("/groups/{id}"),
            get(pages::groups::detail).post(pages::groups::rename),
        )
        .route(&r("/groups/{id}/children"), post(pages::groups::add_child))
        .route(
            &r("/groups/{id}/delete"),
            get(pages::groups::confirm_delete).post(pages::groups::delete),
        )
        .route(&r("/roles"), get(pages::roles::list))
        .route(&r("/clients"), get(pages::clients::list))
        .route(
            &r("/clients/{id}"),
            get(pages::clients::detail).post(pages::clients::update),
        )
        .route(
            &r("/clients/{id}/secret"),
            get(pages::clients::confirm_secret).post(pages::clients::regenerate_secret),
        )
        .route(
            &r("/sessions"),
            get(pages::sessions::list).post(pages::sessions::end),
        )
        .route(&r("/events"), get(pages::events::list))
        .with_state(console)
}

/// The console's one stylesheet (compiled in; no build step).
async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../../templates/console/console.css"),
    )
        .into_response()
}

/// The security headers of every console page: no script at all, nothing framed, no
/// referrer, nothing cached (UI-2, stricter than the login pages).
pub fn security_headers(resp: &mut Response, https: bool) {
    crate::oidc::http::security_headers(resp, https);
    let h = resp.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
}

/// An HTML answer with the console's headers.
pub fn html(status: StatusCode, body: String, https: bool) -> Response {
    let mut resp = (status, axum::response::Html(body)).into_response();
    security_headers(&mut resp, https);
    resp
}

/// A `303 See Other` to `location` (after a POST) with the console's headers.
pub fn see_other(location: &str, https: bool) -> Response {
    let mut resp = Redirect::to(location).into_response();
    *resp.status_mut() = StatusCode::SEE_OTHER;
    security_headers(&mut resp, https);
    resp
}
