//! The account console at `{relative-path}/realms/{realm}/account/` and Keycloak's account
//! REST API under the same path (ADR 0020).
//!
//! - **REST API** (`rest.rs`): JSON for a bearer token of the realm's `account-console`
//!   client; rights are the `account` client's roles held now.
//! - **Console** (`console.rs`, `pages.rs`): server-rendered pages in the admin console's
//!   style (ADR 0014): no script, CSP `default-src 'none'`, one CSRF value per session on
//!   every form, flash messages. The console signs in as `account-console` with the sign-in
//!   code shared with the admin console (`console/signin.rs`) and acts through the REST API in
//!   process (`tower::ServiceExt::oneshot`), so rights and validation live in one place.
//!
//! `GET /realms/{realm}/account/` and `GET .../applications` are both a page and an API
//! resource: a request whose `Accept` names `application/json` (or that carries a bearer
//! token) gets the JSON, as in Keycloak; a browser gets the page.

mod console;
mod pages;
pub mod rest;

use crate::app::AppState;
use crate::console::signin;
use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderMap, header};
use axum::routing::{delete, get, post};
use moka::sync::Cache;
use std::sync::Arc;

pub use console::Account;

/// The account console's shared state.
#[derive(Clone)]
pub struct AccountConsole(Arc<Inner>);

pub struct Inner {
    app: AppState,
    /// The OIDC and account API routes with the server's state: called in process.
    api: Router,
    /// Console sessions by SHA-256 of the cookie value (every realm's).
    sessions: Cache<String, Arc<signin::Session>>,
    /// Logins in progress by SHA-256 of the login cookie value.
    logins: Cache<String, Arc<signin::PendingLogin>>,
    views: crate::console::view::Views,
    /// The relative path without its trailing slash (`` or `/auth`).
    rel: String,
}

impl std::ops::Deref for AccountConsole {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl FromRef<AccountConsole> for AppState {
    fn from_ref(c: &AccountConsole) -> AppState {
        c.app.clone()
    }
}

/// The API routes that are only API (no page at the same path), for any state that holds the
/// server's state.
fn api_only_routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    AppState: FromRef<S>,
{
    Router::new()
        .route(
            "/realms/{realm}/account/sessions",
            get(rest::sessions).delete(rest::delete_sessions),
        )
        .route(
            "/realms/{realm}/account/sessions/devices",
            get(rest::devices),
        )
        .route(
            "/realms/{realm}/account/sessions/{id}",
            delete(rest::delete_session),
        )
        .route(
            "/realms/{realm}/account/credentials",
            get(rest::credentials),
        )
        .route(
            "/realms/{realm}/account/credentials/password",
            post(rest::password),
        )
        .route("/realms/{realm}/account/credentials/otp", post(rest::otp))
        .route(
            "/realms/{realm}/account/credentials/{id}",
            delete(rest::delete_credential),
        )
}

/// The account REST API alone (the console's in-process calls).
fn api_routes() -> Router<AppState> {
    api_only_routes()
        .route(
            "/realms/{realm}/account/",
            get(rest::profile).post(rest::update),
        )
        .route(
            "/realms/{realm}/account/applications",
            get(rest::applications),
        )
}

/// Whether a request asks for the API's JSON rather than a page.
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("application/json"))
}

/// The account console and API routes, with their own state; merged into the public router.
pub fn routes<S: Clone + Send + Sync + 'static>(app: AppState) -> Router<S> {
    let api = crate::oidc::routes()
        .merge(api_routes())
        .with_state(app.clone());
    let rel = app.hostname.relative_path.trim_end_matches('/').to_owned();
    let c = AccountConsole(Arc::new(Inner {
        api,
        sessions: signin::session_cache(),
        logins: signin::login_cache(),
        views: crate::console::view::Views::load(pages::TEMPLATES),
        rel,
        app,
    }));
    let p = |s: &str| format!("/realms/{{realm}}/account{s}");
    api_only_routes::<AccountConsole>()
        .route(
            "/realms/{realm}/account",
            get(pages::bare_root).post(rest::update),
        )
        .route(&p("/"), get(pages::personal_info).post(rest::update))
        .route(&p("/account.css"), get(pages::stylesheet))
        .route(&p("/callback"), get(console::callback))
        .route(&p("/logout"), post(console::logout))
        .route(&p("/personal-info"), post(pages::save_personal_info))
        .route(&p("/account-security/signing-in"), get(pages::signing_in))
        .route(
            &p("/account-security/password"),
            get(pages::password_form).post(pages::change_password),
        )
        .route(
            &p("/account-security/totp"),
            get(pages::totp_form).post(pages::save_totp),
        )
        .route(
            &p("/account-security/totp/{id}/remove"),
            get(pages::confirm_remove_totp).post(pages::remove_totp),
        )
        .route(
            &p("/account-security/device-activity"),
            get(pages::device_activity).post(pages::sign_out_sessions),
        )
        .route(&p("/applications"), get(pages::applications))
        .with_state(c)
}
