//! The admin console's own sign-in and session (ADR 0014), over the relying-party mechanics
//! shared with the account console (`signin.rs`).
//!
//! - A GET without a console session starts a login as master's `security-admin-console`
//!   under a random `PORTCULLIS_CONSOLE_LOGIN` cookie; the callback starts a session under a
//!   new random `PORTCULLIS_CONSOLE` cookie (no fixation, UI-5). Both cookies are HttpOnly,
//!   SameSite=Lax, Secure on HTTPS, limited to the console's path.
//! - The session (tokens, CSRF value, one flash message) lives in this node's memory, bounded
//!   in number and by idle time; the browser holds only the random cookie. Losing it (restart,
//!   another node) costs one silent round trip through the SSO cookie.
//! - Logout (a CSRF-checked POST) forgets the session and goes through master's RP-initiated
//!   logout with the ID token as hint, back to the console.

use super::signin::{self, RelyingParty};
use super::{BASE, Console};
use crate::oidc::http::{self, sha256_b64};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use portcullis_model::defaults::{MASTER_REALM, SECURITY_ADMIN_CONSOLE_CLIENT};
use portcullis_oidc::authorize::Params;
use portcullis_oidc::client_auth::secret_matches;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

pub use signin::Session;

/// The session cookie.
pub const SESSION_COOKIE: &str = "PORTCULLIS_CONSOLE";
/// The login-in-progress cookie.
pub const LOGIN_COOKIE: &str = "PORTCULLIS_CONSOLE_LOGIN";

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
        self.session.set_flash(kind, text.into());
    }

    /// The message set by the last POST, once.
    pub fn take_flash(&self) -> Option<signin::Flash> {
        self.session.take_flash()
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

fn peer_of(parts: &Parts) -> SocketAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
}

impl Console {
    /// The console as a relying party of master's `security-admin-console`.
    pub fn relying_party(&self) -> RelyingParty<'static> {
        RelyingParty {
            realm: MASTER_REALM,
            client_id: SECURITY_ADMIN_CONSOLE_CLIENT,
            path: BASE.to_owned(),
            login_cookie: LOGIN_COOKIE,
            cookie_path: self.cookie_path(),
        }
    }

    fn https(&self, headers: &HeaderMap) -> bool {
        self.relying_party().https(&self.app, headers)
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
                forward: signin::forwarded_headers(&parts.headers),
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
                let return_to = signin::return_to(uri, &c.prefix, &c.cookie_path());
                Err(signin::start_login(
                    &c.app,
                    &c.logins,
                    &c.relying_party(),
                    &parts.headers,
                    return_to,
                ))
            }
            None => Err(csrf_refused(c, https)),
        }
    }
}

/// GET `{console}/callback`: finish the login.
pub async fn callback(
    State(c): State<Console>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let https = c.https(&headers);
    let rp = c.relying_party();
    let done = match signin::finish_login(&c.app, &c.api, &c.logins, &rp, &headers, peer, &q).await
    {
        Ok(d) => d,
        Err(message) => return retry_page(&c, message, https),
    };
    let mut session = done.session;
    if session.username.is_empty() {
        session.username = "admin".to_owned();
    }
    let cookie = http::random_token(&c.app, 32);
    c.sessions.insert(sha256_b64(&cookie), Arc::new(session));
    let mut resp = super::see_other(&done.return_to, https);
    for v in signin::signed_in_cookies(&rp, SESSION_COOKIE, &cookie, https) {
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

impl Admin {
    /// A current access token, refreshed first when it is about to expire. A refusal ends the
    /// console session and sends the browser to sign in again.
    pub async fn access_token(&self) -> Result<String, Response> {
        let rp = self.console.relying_party();
        match signin::access_token(
            &self.console.api,
            &rp,
            &self.session,
            &self.forward,
            self.peer,
        )
        .await
        {
            Some(t) => Ok(t),
            None => Err(self.signed_out()),
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
    let rp = c.relying_party();
    let location = signin::logout_location(&c.app, &rp, &admin.session, &headers).await;
    admin.end();
    let mut resp = super::see_other(&location, admin.https);
    if let Some(v) = http::cookie(SESSION_COOKIE, "", &c.cookie_path(), Some(0), admin.https) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}
