//! The OpenID Connect provider's HTTP surface, one module per endpoint. Handlers are thin:
//! they read the request, ask `portcullis_oidc` for the decision, load and save through the
//! store, and render.

pub mod action_token;
pub mod authorize;
pub mod brute_force;
pub mod certs;
pub mod credentials;
pub mod discovery;
pub mod http;
pub mod issue;
pub mod keys;
pub mod lifecycle;
pub mod logout;
pub mod token;
pub mod userinfo;

use crate::app::AppState;
use crate::config::{Hostname, ProxyHeaders, Settings};
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use portcullis_oidc::urls::{
    HostnamePolicy, HostnameSpec, ProxyHeaderMode, RealmUrls, RequestInfo,
};

/// Routes under `/realms/{realm}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/realms/{realm}/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/certs",
            get(certs::jwks),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/auth",
            get(authorize::auth).post(authorize::auth),
        )
        .route(
            "/realms/{realm}/login-actions/authenticate",
            get(authorize::authenticate).post(authorize::authenticate),
        )
        .route(
            "/realms/{realm}/login-actions/required-action",
            get(lifecycle::required_action).post(lifecycle::required_action),
        )
        .route(
            "/realms/{realm}/login-actions/reset-credentials",
            get(lifecycle::reset_credentials).post(lifecycle::reset_credentials),
        )
        .route(
            "/realms/{realm}/login-actions/registration",
            get(lifecycle::registration).post(lifecycle::registration),
        )
        .route(
            "/realms/{realm}/login-actions/action-token",
            get(lifecycle::action_token),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/token",
            post(token::token).options(http::preflight_handler),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/userinfo",
            get(userinfo::userinfo)
                .post(userinfo::userinfo)
                .options(http::preflight_handler),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/token/introspect",
            post(userinfo::introspect).options(http::preflight_handler),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/revoke",
            post(userinfo::revoke).options(http::preflight_handler),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/logout",
            get(logout::logout)
                .post(logout::logout)
                .options(http::preflight_handler),
        )
}

/// The hostname rules of the running server, from its settings.
pub fn hostname_policy(settings: &Settings) -> HostnamePolicy {
    HostnamePolicy {
        hostname: settings.hostname.hostname.as_ref().map(|h| match h {
            Hostname::Url(u) => HostnameSpec::FullUrl(u.clone()),
            Hostname::Host(h) => HostnameSpec::Host(h.clone()),
        }),
        strict: settings.hostname.strict,
        backchannel_dynamic: settings.hostname.backchannel_dynamic,
        proxy_headers: settings.proxy.headers.map(|p| match p {
            ProxyHeaders::Forwarded => ProxyHeaderMode::Forwarded,
            ProxyHeaders::XForwarded => ProxyHeaderMode::XForwarded,
        }),
        relative_path: settings.http.relative_path.clone(),
    }
}

/// What the request carried that URL rules may use (only plain HTTP is served here; TLS ends
/// at the gateway, which says so in forwarded headers when they are trusted).
pub fn request_info(headers: &HeaderMap) -> RequestInfo {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    RequestInfo {
        scheme: "http".to_string(),
        host_header: h("host"),
        forwarded: h("forwarded"),
        x_forwarded_proto: h("x-forwarded-proto"),
        x_forwarded_host: h("x-forwarded-host"),
        x_forwarded_port: h("x-forwarded-port"),
    }
}

/// The realm's URLs for this request.
pub fn urls(state: &AppState, headers: &HeaderMap, realm: &str) -> RealmUrls {
    portcullis_oidc::urls::realm_urls(&state.hostname, &request_info(headers), realm)
}

/// A client's `rootUrl` with Keycloak's placeholders resolved: `${authBaseUrl}` and
/// `${authAdminUrl}` (the built-in `account-console` and `security-admin-console` clients use
/// them) become this request's frontend base URL, so their relative redirect URIs match.
pub fn root_url(
    client: &portcullis_model::records::ClientRecord,
    urls: &RealmUrls,
) -> Option<String> {
    client.repr.root_url.as_deref().map(|r| {
        r.replace("${authBaseUrl}", &urls.frontend_base)
            .replace("${authAdminUrl}", &urls.frontend_base)
    })
}
