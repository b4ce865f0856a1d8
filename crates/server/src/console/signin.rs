//! Sign-in of a server-rendered console as a relying party of one of its realm's built-in
//! public clients (authorization code flow with PKCE S256, `state` and `nonce`), shared by the
//! admin console (master's `security-admin-console`, ADR 0014) and the account console (each
//! realm's `account-console`, ADR 0020).
//!
//! - [`start_login`]: a random login cookie names the login in progress (`state`, `nonce`,
//!   PKCE verifier, the page asked for); the browser goes to the realm's authorization
//!   endpoint.
//! - [`finish_login`]: the callback checks `state` (constant time) against that login,
//!   exchanges the code at this server's token endpoint in process, checks the ID token's
//!   `nonce`, and answers a new [`Session`] (tokens, CSRF value, one flash message) that the
//!   caller keeps under a new random cookie (no fixation, UI-5).
//! - [`refresh`] renews the tokens; [`logout_location`] is the RP-initiated logout URL.
//!
//! Sessions and logins live in this node's memory, bounded in number and by idle time; the
//! browser holds only random cookies (HttpOnly, SameSite=Lax, Secure on HTTPS, limited to the
//! console's path).

use crate::app::AppState;
use crate::oidc::http::{self, now_ms, sha256_b64};
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use moka::sync::Cache;
use portcullis_oidc::client_auth::secret_matches;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A console session unused this long is forgotten.
const IDLE: Duration = Duration::from_secs(30 * 60);
/// A login not completed within this time is forgotten.
pub const LOGIN_TTL: Duration = Duration::from_secs(10 * 60);
/// At most this many console sessions (and as many logins in progress) per node.
const MAX_SESSIONS: u64 = 10_000;
/// An access token this close to expiry is refreshed before use.
const REFRESH_MARGIN_MS: i64 = 15_000;

pub fn session_cache() -> Cache<String, Arc<Session>> {
    Cache::builder()
        .max_capacity(MAX_SESSIONS)
        .time_to_idle(IDLE)
        .build()
}

pub fn login_cache() -> Cache<String, Arc<PendingLogin>> {
    Cache::builder()
        .max_capacity(MAX_SESSIONS)
        .time_to_live(LOGIN_TTL)
        .build()
}

/// Which console signs in, where.
pub struct RelyingParty<'a> {
    /// The realm the console signs in to.
    pub realm: &'a str,
    /// The built-in public client it signs in as.
    pub client_id: &'a str,
    /// The console's path after the frontend base URL (`/admin/master/console`,
    /// `/realms/{realm}/account`), no trailing slash.
    pub path: String,
    /// The name of the login-in-progress cookie.
    pub login_cookie: &'static str,
    /// The cookies' path (`{relative path}{path}/`).
    pub cookie_path: String,
}

impl RelyingParty<'_> {
    /// Whether the browser sees this realm over HTTPS (cookies get `Secure`).
    pub fn https(&self, app: &AppState, headers: &HeaderMap) -> bool {
        crate::oidc::urls(app, headers, self.realm)
            .issuer
            .starts_with("https://")
    }

    fn redirect_uri(&self, app: &AppState, headers: &HeaderMap) -> String {
        let urls = crate::oidc::urls(app, headers, self.realm);
        format!("{}{}/callback", urls.frontend_base, self.path)
    }
}

/// A login in progress.
pub struct PendingLogin {
    state: String,
    nonce: String,
    verifier: String,
    /// The console page asked for (a path under the console, from our own request).
    return_to: String,
    redirect_uri: String,
}

/// The signed-in user's tokens (secrets: never printed).
pub struct Tokens {
    pub access: String,
    pub access_expires_ms: i64,
    refresh: String,
    pub id_token: String,
}

/// One signed-in console user.
pub struct Session {
    /// The realm signed in to.
    pub realm: String,
    pub username: String,
    /// The SSO session this console session rides on (the ID token's `sid`).
    pub sid: Option<String>,
    pub csrf: String,
    pub tokens: tokio::sync::Mutex<Tokens>,
    flash: Mutex<Option<Flash>>,
}

impl Session {
    /// Show `text` on the next page.
    pub fn set_flash(&self, kind: &'static str, text: String) {
        if let Ok(mut f) = self.flash.lock() {
            *f = Some(Flash { kind, text });
        }
    }

    /// The message set by the last POST, once.
    pub fn take_flash(&self) -> Option<Flash> {
        self.flash.lock().ok().and_then(|mut f| f.take())
    }
}

/// A message shown once on the next page (after a POST and its redirect).
#[derive(Clone, serde::Serialize)]
pub struct Flash {
    /// `success` or `error`.
    pub kind: &'static str,
    pub text: String,
}

/// Start a login: remember it under a new login cookie, send the browser to the realm's
/// authorization endpoint (302).
pub fn start_login(
    app: &AppState,
    logins: &Cache<String, Arc<PendingLogin>>,
    rp: &RelyingParty<'_>,
    headers: &HeaderMap,
    return_to: String,
) -> Response {
    let https = rp.https(app, headers);
    let urls = crate::oidc::urls(app, headers, rp.realm);
    let redirect_uri = rp.redirect_uri(app, headers);
    let pending = PendingLogin {
        state: http::random_token(app, 32),
        nonce: http::random_token(app, 32),
        verifier: http::random_token(app, 48),
        return_to,
        redirect_uri: redirect_uri.clone(),
    };
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", rp.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("state", &pending.state)
        .append_pair("nonce", &pending.nonce)
        .append_pair(
            "code_challenge",
            &portcullis_oidc::pkce::s256_challenge(&pending.verifier),
        )
        .append_pair("code_challenge_method", "S256")
        .finish();
    let cookie = http::random_token(app, 32);
    logins.insert(sha256_b64(&cookie), Arc::new(pending));
    let mut resp = super::see_other(&format!("{}?{query}", urls.authorization_endpoint), https);
    *resp.status_mut() = StatusCode::FOUND;
    if let Some(v) = http::cookie(
        rp.login_cookie,
        &cookie,
        &rp.cookie_path,
        Some(LOGIN_TTL.as_secs() as i64),
        https,
    ) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// A finished login: the new session and the page to return to.
pub struct SignedIn {
    pub session: Session,
    pub return_to: String,
}

/// Finish the login named by the login cookie with the callback's query: the new session, or
/// the message for the retry page.
pub async fn finish_login(
    app: &AppState,
    api: &Router,
    logins: &Cache<String, Arc<PendingLogin>>,
    rp: &RelyingParty<'_>,
    headers: &HeaderMap,
    peer: SocketAddr,
    q: &HashMap<String, String>,
) -> Result<SignedIn, &'static str> {
    let pending = http::read_cookie(headers, rp.login_cookie).and_then(|v| {
        let key = sha256_b64(&v);
        let p = logins.get(&key);
        logins.invalidate(&key);
        p
    });
    let Some(pending) = pending else {
        return Err("This sign-in is unknown or has expired.");
    };
    match q.get("state") {
        Some(s) if secret_matches(&pending.state, s) => {}
        _ => return Err("The sign-in answer does not match this browser."),
    }
    if q.contains_key("error") {
        return Err("The sign-in was not completed.");
    }
    let Some(code) = q.get("code").filter(|c| !c.is_empty() && c.len() <= 4096) else {
        return Err("The sign-in answer has no code.");
    };
    let forward = forwarded_headers(headers);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", pending.redirect_uri.as_str()),
        ("client_id", rp.client_id),
        ("code_verifier", pending.verifier.as_str()),
    ];
    let answer = match super::api::token_request(api, rp.realm, &forward, peer, &form).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(realm = %rp.realm, client = %rp.client_id, error = %e, "console code exchange failed");
            return Err("The sign-in could not be completed.");
        }
    };
    let Some(tokens) = tokens_of(&answer) else {
        return Err("The sign-in could not be completed.");
    };
    let claims = id_token_claims(&tokens.id_token).unwrap_or(Value::Null);
    let nonce_ok = claims
        .get("nonce")
        .and_then(Value::as_str)
        .is_some_and(|n| secret_matches(&pending.nonce, n));
    if !nonce_ok {
        return Err("The sign-in answer does not match this browser.");
    }
    let username = claims
        .get("preferred_username")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    Ok(SignedIn {
        session: Session {
            realm: rp.realm.to_owned(),
            username,
            sid: claims.get("sid").and_then(Value::as_str).map(str::to_owned),
            csrf: http::random_token(app, 32),
            tokens: tokio::sync::Mutex::new(tokens),
            flash: Mutex::new(None),
        },
        return_to: pending.return_to.clone(),
    })
}

/// The `Set-Cookie` values after a sign-in: the new session cookie, the login cookie deleted.
pub fn signed_in_cookies(
    rp: &RelyingParty<'_>,
    session_cookie: &str,
    value: &str,
    https: bool,
) -> Vec<HeaderValue> {
    [
        http::cookie(session_cookie, value, &rp.cookie_path, None, https),
        http::cookie(rp.login_cookie, "", &rp.cookie_path, Some(0), https),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The tokens of a token endpoint answer.
pub fn tokens_of(answer: &Value) -> Option<Tokens> {
    let s = |k: &str| answer.get(k).and_then(Value::as_str).map(str::to_owned);
    let expires_in = answer.get("expires_in").and_then(Value::as_i64)?;
    Some(Tokens {
        access: s("access_token")?,
        access_expires_ms: now_ms() + expires_in.saturating_mul(1000),
        refresh: s("refresh_token")?,
        id_token: s("id_token").unwrap_or_default(),
    })
}

/// The claims of an ID token we just received from our own token endpoint in process (no
/// network in between, so the signature is not checked again here).
fn id_token_claims(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A current access token of `session`, refreshed first when it is about to expire; None when
/// the provider refused the refresh (the SSO session ended): the console signs in again.
pub async fn access_token(
    api: &Router,
    rp: &RelyingParty<'_>,
    session: &Session,
    forward: &HeaderMap,
    peer: SocketAddr,
) -> Option<String> {
    let mut t = session.tokens.lock().await;
    if t.access_expires_ms - now_ms() > REFRESH_MARGIN_MS {
        return Some(t.access.clone());
    }
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", t.refresh.as_str()),
        ("client_id", rp.client_id),
    ];
    let answer = match super::api::token_request(api, rp.realm, forward, peer, &form).await {
        Ok(a) => tokens_of(&a),
        Err(e) => {
            tracing::info!(realm = %rp.realm, user = %session.username, error = %format!("{e:#}"), "console token refresh refused; the console signs in again");
            None
        }
    };
    let mut fresh = answer?;
    tracing::debug!(user = %session.username, "console tokens refreshed");
    if fresh.id_token.is_empty() {
        fresh.id_token = std::mem::take(&mut t.id_token);
    }
    *t = fresh;
    Some(t.access.clone())
}

/// The realm's RP-initiated logout URL with the session's ID token as hint, coming back to the
/// console's root.
pub async fn logout_location(
    app: &AppState,
    rp: &RelyingParty<'_>,
    session: &Session,
    headers: &HeaderMap,
) -> String {
    let id_token = session.tokens.lock().await.id_token.clone();
    let urls = crate::oidc::urls(app, headers, rp.realm);
    let back = format!("{}{}/", urls.frontend_base, rp.path);
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("client_id", rp.client_id);
    query.append_pair("post_logout_redirect_uri", &back);
    if !id_token.is_empty() {
        query.append_pair("id_token_hint", &id_token);
    }
    format!("{}?{}", urls.end_session_endpoint, query.finish())
}

/// What an in-process request needs from the browser's request: the headers URL rules read.
pub fn forwarded_headers(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in [
        "host",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "x-forwarded-port",
    ] {
        if let Some(v) = headers.get(name) {
            out.insert(axum::http::HeaderName::from_static(name), v.clone());
        }
    }
    out
}

/// The page a login started from a GET returns to: the request's path (and query) when it is
/// under the console, the console's root otherwise.
pub fn return_to(uri: &axum::http::Uri, prefix: &str, root: &str) -> String {
    let path = uri.path();
    match uri.query() {
        Some(q) if path.starts_with(prefix) => format!("{path}?{q}"),
        _ if path.starts_with(prefix) => path.to_owned(),
        _ => root.to_owned(),
    }
}

/// A header value for an in-process request's `Authorization`.
pub fn bearer(token: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("Bearer {token}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_under_the_console() {
        let u: axum::http::Uri = "/auth/realms/a/account/applications?x=1".parse().unwrap();
        assert_eq!(
            return_to(&u, "/auth/realms/a/account", "/auth/realms/a/account/"),
            "/auth/realms/a/account/applications?x=1"
        );
        let u: axum::http::Uri = "/elsewhere".parse().unwrap();
        assert_eq!(
            return_to(&u, "/auth/realms/a/account", "/auth/realms/a/account/"),
            "/auth/realms/a/account/"
        );
    }
}
