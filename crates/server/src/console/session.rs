//! The console's own sign-in and session (ADR 0014).
//!
//! - A GET without a console session starts a login: a random `PORTCULLIS_CONSOLE_LOGIN` cookie
//!   names the login in progress (`state`, `nonce`, PKCE verifier, the page asked for), and the
//!   browser goes to master's authorization endpoint as `security-admin-console`.
//! - The callback checks `state` (constant time) against that login, exchanges the code at this
//!   server's token endpoint in process (PKCE S256), checks the ID token's `nonce`, and starts
//!   a session under a new random `PORTCULLIS_CONSOLE` cookie (no fixation, UI-5). Both cookies
//!   are HttpOnly, SameSite=Lax, Secure on HTTPS, limited to the console's path.
//! - The session (tokens, CSRF value, one flash message) lives in this node's memory, bounded
//!   in number and by idle time; the browser holds only the random cookie. Losing it (restart,
//!   another node) costs one silent round trip through the SSO cookie.
//! - Logout (a CSRF-checked POST) forgets the session and goes through master's RP-initiated
//!   logout with the ID token as hint, back to the console.

use super::{BASE, Console};
use crate::oidc::http::{self, now_ms, sha256_b64};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use moka::sync::Cache;
use portcullis_model::defaults::{MASTER_REALM, SECURITY_ADMIN_CONSOLE_CLIENT};
use portcullis_oidc::authorize::Params;
use portcullis_oidc::client_auth::secret_matches;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The session cookie.
pub const SESSION_COOKIE: &str = "PORTCULLIS_CONSOLE";
/// The login-in-progress cookie.
pub const LOGIN_COOKIE: &str = "PORTCULLIS_CONSOLE_LOGIN";
/// A console session unused this long is forgotten.
const IDLE: Duration = Duration::from_secs(30 * 60);
/// A login not completed within this time is forgotten.
const LOGIN_TTL: Duration = Duration::from_secs(10 * 60);
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

/// A login in progress.
pub struct PendingLogin {
    state: String,
    nonce: String,
    verifier: String,
    /// The console page asked for (a path under the console, from our own request).
    return_to: String,
    redirect_uri: String,
}

/// The administrator's tokens (secrets: never printed).
pub struct Tokens {
    pub access: String,
    pub access_expires_ms: i64,
    refresh: String,
    id_token: String,
}

/// One signed-in administrator.
pub struct Session {
    pub username: String,
    /// The SSO session this console session rides on (the ID token's `sid`).
    pub sid: Option<String>,
    pub csrf: String,
    pub tokens: tokio::sync::Mutex<Tokens>,
    flash: Mutex<Option<Flash>>,
}

/// A message shown once on the next page (after a POST and its redirect).
#[derive(Clone, serde::Serialize)]
pub struct Flash {
    /// `success` or `error`.
    pub kind: &'static str,
    pub text: String,
}

/// A request of a signed-in administrator: the session, and what an in-process API call must
/// forward (host and forwarding headers, the peer address).
pub struct Admin {
    pub console: Console,
    pub session: Arc<Session>,
    session_key: String,
    pub forward: HeaderMap,
    pub peer: SocketAddr,
    pub https: bool,
}

impl Admin {
    /// Show `text` on the next page.
    pub fn flash(&self, kind: &'static str, text: impl Into<String>) {
        if let Ok(mut f) = self.session.flash.lock() {
            *f = Some(Flash {
                kind,
                text: text.into(),
            });
        }
    }

    /// The message set by the last POST, once.
    pub fn take_flash(&self) -> Option<Flash> {
        self.session.flash.lock().ok().and_then(|mut f| f.take())
    }

    /// Forget this session (its tokens are no longer usable from here).
    pub fn end(&self) {
        self.console.sessions.invalidate(&self.session_key);
    }

    /// The form of a POST, after its CSRF value matched the session's (403 page otherwise).
    pub fn form(&self, headers: &HeaderMap, body: &Bytes) -> Result<Params, Response> {
        let params = http::form(headers, body).map_err(|_| {
            self.console.error_page(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Forms must be sent as application/x-www-form-urlencoded.",
                self.https,
            )
        })?;
        match params.one("csrf") {
            Ok(Some(t)) if secret_matches(&self.session.csrf, t) => Ok(params),
            _ => Err(csrf_refused(&self.console, self.https)),
        }
    }
}

fn csrf_refused(c: &Console, https: bool) -> Response {
    c.error_page(
        StatusCode::FORBIDDEN,
        "This form was not sent by your console session (missing or wrong CSRF token). Reload the page and try again.",
        https,
    )
}

/// What an in-process request needs from the browser's request: the headers URL rules read.
fn forwarded_headers(headers: &HeaderMap) -> HeaderMap {
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

fn peer_of(parts: &Parts) -> SocketAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
}

impl Console {
    fn https(&self, headers: &HeaderMap) -> bool {
        crate::oidc::urls(&self.app, headers, MASTER_REALM)
            .issuer
            .starts_with("https://")
    }

    fn cookie_path(&self) -> String {
        format!("{}/", self.prefix)
    }

    /// The console's error page.
    pub fn error_page(&self, status: StatusCode, message: &str, https: bool) -> Response {
        let body = self.views.render(
            "error.html",
            minijinja::context! { base => self.prefix.as_str(), message => message, status => status.as_u16() },
        );
        super::html(status, body, https)
    }

    /// Start a login: remember it under a new login cookie, send the browser to master's
    /// authorization endpoint.
    fn start_login(&self, headers: &HeaderMap, return_to: String) -> Response {
        let https = self.https(headers);
        let urls = crate::oidc::urls(&self.app, headers, MASTER_REALM);
        let redirect_uri = format!("{}{BASE}/callback", urls.frontend_base);
        let pending = PendingLogin {
            state: http::random_token(&self.app, 32),
            nonce: http::random_token(&self.app, 32),
            verifier: http::random_token(&self.app, 48),
            return_to,
            redirect_uri: redirect_uri.clone(),
        };
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", SECURITY_ADMIN_CONSOLE_CLIENT)
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
        let cookie = http::random_token(&self.app, 32);
        self.logins.insert(sha256_b64(&cookie), Arc::new(pending));
        let mut resp = super::see_other(&format!("{}?{query}", urls.authorization_endpoint), https);
        *resp.status_mut() = StatusCode::FOUND;
        if let Some(v) = http::cookie(
            LOGIN_COOKIE,
            &cookie,
            &self.cookie_path(),
            Some(LOGIN_TTL.as_secs() as i64),
            https,
        ) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
        resp
    }
}

impl FromRequestParts<Console> for Admin {
    type Rejection = Response;

    /// The signed-in administrator. Without a session a GET starts the login (and comes back
    /// to the same page); any other method is refused.
    async fn from_request_parts(parts: &mut Parts, c: &Console) -> Result<Admin, Response> {
        let https = c.https(&parts.headers);
        let found = http::read_cookie(&parts.headers, SESSION_COOKIE).and_then(|v| {
            let key = sha256_b64(&v);
            c.sessions.get(&key).map(|s| (key, s))
        });
        match found {
            Some((session_key, session)) => Ok(Admin {
                console: c.clone(),
                session,
                session_key,
                forward: forwarded_headers(&parts.headers),
                peer: peer_of(parts),
                https,
            }),
            None if parts.method == Method::GET || parts.method == Method::HEAD => {
                // The URI as the browser sent it (a nested router sees it without the
                // relative path).
                let uri = parts
                    .extensions
                    .get::<axum::extract::OriginalUri>()
                    .map_or(&parts.uri, |o| &o.0);
                let path = uri.path();
                let return_to = match uri.query() {
                    Some(q) if path.starts_with(&c.prefix) => format!("{path}?{q}"),
                    _ if path.starts_with(&c.prefix) => path.to_owned(),
                    _ => c.cookie_path(),
                };
                Err(c.start_login(&parts.headers, return_to))
            }
            None => Err(csrf_refused(c, https)),
        }
    }
}

struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// GET `{console}/callback`: finish the login.
pub async fn callback(
    State(c): State<Console>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let https = c.https(&headers);
    let q = CallbackQuery {
        code: q.get("code").cloned(),
        state: q.get("state").cloned(),
        error: q.get("error").cloned(),
    };
    let pending = http::read_cookie(&headers, LOGIN_COOKIE).and_then(|v| {
        let key = sha256_b64(&v);
        let p = c.logins.get(&key);
        c.logins.invalidate(&key);
        p
    });
    let Some(pending) = pending else {
        return retry_page(&c, "This sign-in is unknown or has expired.", https);
    };
    match q.state.as_deref() {
        Some(s) if secret_matches(&pending.state, s) => {}
        _ => return retry_page(&c, "The sign-in answer does not match this browser.", https),
    }
    if q.error.is_some() {
        return retry_page(&c, "The sign-in was not completed.", https);
    }
    let Some(code) = q
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 4096)
    else {
        return retry_page(&c, "The sign-in answer has no code.", https);
    };
    let forward = forwarded_headers(&headers);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", pending.redirect_uri.as_str()),
        ("client_id", SECURITY_ADMIN_CONSOLE_CLIENT),
        ("code_verifier", pending.verifier.as_str()),
    ];
    let answer = match super::api::token_request(&c, &forward, peer, &form).await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "console code exchange failed");
            return retry_page(&c, "The sign-in could not be completed.", https);
        }
    };
    let Some(tokens) = tokens_of(&answer) else {
        return retry_page(&c, "The sign-in could not be completed.", https);
    };
    let claims = id_token_claims(&tokens.id_token).unwrap_or(Value::Null);
    let nonce_ok = claims
        .get("nonce")
        .and_then(Value::as_str)
        .is_some_and(|n| secret_matches(&pending.nonce, n));
    if !nonce_ok {
        return retry_page(&c, "The sign-in answer does not match this browser.", https);
    }
    let username = claims
        .get("preferred_username")
        .and_then(Value::as_str)
        .unwrap_or("admin")
        .to_owned();
    let cookie = http::random_token(&c.app, 32);
    c.sessions.insert(
        sha256_b64(&cookie),
        Arc::new(Session {
            username,
            sid: claims.get("sid").and_then(Value::as_str).map(str::to_owned),
            csrf: http::random_token(&c.app, 32),
            tokens: tokio::sync::Mutex::new(tokens),
            flash: Mutex::new(None),
        }),
    );
    let mut resp = super::see_other(&pending.return_to, https);
    let path = c.cookie_path();
    for v in [
        http::cookie(SESSION_COOKIE, &cookie, &path, None, https),
        http::cookie(LOGIN_COOKIE, "", &path, Some(0), https),
    ]
    .into_iter()
    .flatten()
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn retry_page(c: &Console, message: &str, https: bool) -> Response {
    let body = c.views.render(
        "signin-failed.html",
        minijinja::context! { base => c.prefix.as_str(), message => message },
    );
    super::html(StatusCode::BAD_REQUEST, body, https)
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

impl Admin {
    /// A current access token, refreshed first when it is about to expire. A refusal ends the
    /// console session and sends the browser to sign in again.
    pub async fn access_token(&self) -> Result<String, Response> {
        let mut t = self.session.tokens.lock().await;
        if t.access_expires_ms - now_ms() > REFRESH_MARGIN_MS {
            return Ok(t.access.clone());
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", t.refresh.as_str()),
            ("client_id", SECURITY_ADMIN_CONSOLE_CLIENT),
        ];
        let answer = match super::api::token_request(&self.console, &self.forward, self.peer, &form)
            .await
        {
            Ok(a) => tokens_of(&a),
            Err(e) => {
                tracing::info!(user = %self.session.username, error = %format!("{e:#}"), "console token refresh refused; the console signs in again");
                None
            }
        };
        if answer.is_some() {
            tracing::debug!(user = %self.session.username, "console tokens refreshed");
        }
        match answer {
            Some(mut fresh) => {
                if fresh.id_token.is_empty() {
                    fresh.id_token = std::mem::take(&mut t.id_token);
                }
                *t = fresh;
                Ok(t.access.clone())
            }
            None => {
                drop(t);
                Err(self.signed_out())
            }
        }
    }

    /// The session is no longer valid at the provider: forget it, sign in again.
    pub fn signed_out(&self) -> Response {
        self.end();
        super::see_other(&self.console.cookie_path(), self.https)
    }
}

/// POST `{console}/logout`: forget the session, then master's RP-initiated logout.
pub async fn logout(admin: Admin, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(resp) = admin.form(&headers, &body) {
        return resp;
    }
    let c = &admin.console;
    let id_token = admin.session.tokens.lock().await.id_token.clone();
    admin.end();
    let urls = crate::oidc::urls(&c.app, &headers, MASTER_REALM);
    let back = format!("{}{BASE}/", urls.frontend_base);
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("client_id", SECURITY_ADMIN_CONSOLE_CLIENT);
    query.append_pair("post_logout_redirect_uri", &back);
    if !id_token.is_empty() {
        query.append_pair("id_token_hint", &id_token);
    }
    let mut resp = super::see_other(
        &format!("{}?{}", urls.end_session_endpoint, query.finish()),
        admin.https,
    );
    if let Some(v) = http::cookie(SESSION_COOKIE, "", &c.cookie_path(), Some(0), admin.https) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// A header value for an in-process request's `Authorization`.
pub fn bearer(token: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("Bearer {token}")).ok()
}
