//! The account console's sign-in, session and in-process API calls.
//!
//! The console is a relying party of the realm's own `account-console` client (the sign-in
//! code shared with the admin console, `console/signin.rs`). Its session lives in memory
//! under a random `PORTCULLIS_ACCOUNT` cookie limited to `/realms/{realm}/account/`; a session
//! is bound to its realm. Every read and write is a request to the account REST API with the
//! user's access token, handed to the API router in process; a 401 (the SSO session ended
//! elsewhere) ends the console session and signs in again.

use super::AccountConsole;
use super::rest::Rights;
use crate::console::api::{Origin, Reply, call_with_token, document, outcome};
use crate::console::signin::{self, RelyingParty, Session};
use crate::oidc::http::{self, sha256_b64};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use portcullis_model::defaults::ACCOUNT_CONSOLE_CLIENT;
use portcullis_oidc::authorize::Params;
use portcullis_oidc::client_auth::secret_matches;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// The session cookie.
pub const SESSION_COOKIE: &str = "PORTCULLIS_ACCOUNT";
/// The login-in-progress cookie.
pub const LOGIN_COOKIE: &str = "PORTCULLIS_ACCOUNT_LOGIN";

impl AccountConsole {
    /// `{relative path}/realms/{realm}/account`, no trailing slash.
    pub fn prefix(&self, realm: &str) -> String {
        format!(
            "{}/realms/{}/account",
            self.rel,
            crate::admin::http::segment(realm)
        )
    }

    /// The console of `realm` as a relying party of its `account-console` client.
    pub fn relying_party<'a>(&self, realm: &'a str) -> RelyingParty<'a> {
        RelyingParty {
            realm,
            client_id: ACCOUNT_CONSOLE_CLIENT,
            path: format!("/realms/{}/account", crate::admin::http::segment(realm)),
            login_cookie: LOGIN_COOKIE,
            cookie_path: format!("{}/", self.prefix(realm)),
        }
    }

    /// A message page (error, sign-in failed); with the session when there is one, so the
    /// navigation and "Sign out" stay.
    pub fn bare_page(
        &self,
        realm: &str,
        status: StatusCode,
        template: &str,
        message: &str,
        https: bool,
        session: Option<&Session>,
    ) -> Response {
        let body = self.views.render(
            template,
            minijinja::context! {
                base => self.prefix(realm),
                realm => realm,
                message => message,
                status => status.as_u16(),
                me => session.map(|s| s.username.as_str()),
                csrf => session.map(|s| s.csrf.as_str()),
                // No "read-only" note on a message page.
                can_manage => true,
            },
        );
        crate::console::html(status, body, https)
    }
}

/// A request of a signed-in user of the account console.
pub struct Account {
    pub console: AccountConsole,
    pub session: Arc<Session>,
    session_key: String,
    pub realm: String,
    /// `{relative path}/realms/{realm}/account`.
    pub base: String,
    pub params: HashMap<String, String>,
    pub forward: HeaderMap,
    pub peer: SocketAddr,
    pub https: bool,
}

fn peer_of(parts: &Parts) -> SocketAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)))
}

fn csrf_refused(c: &AccountConsole, realm: &str, https: bool) -> Response {
    c.bare_page(
        realm,
        StatusCode::FORBIDDEN,
        "error.html",
        "This form was not sent by your account console session (missing or wrong CSRF token). Reload the page and try again.",
        https,
        None,
    )
}

impl FromRequestParts<AccountConsole> for Account {
    type Rejection = Response;

    /// The signed-in user. Without a session of this realm a GET starts the login (and comes
    /// back to the same page); any other method is refused.
    async fn from_request_parts(
        parts: &mut Parts,
        c: &AccountConsole,
    ) -> Result<Account, Response> {
        let Path(params): Path<HashMap<String, String>> = Path::from_request_parts(parts, c)
            .await
            .map_err(|_| crate::console::html(StatusCode::NOT_FOUND, String::new(), false))?;
        let realm = params.get("realm").cloned().unwrap_or_default();
        let rp = c.relying_party(&realm);
        let https = rp.https(&c.app, &parts.headers);
        crate::app::enabled_realm(&c.app, &realm).await?;
        let found = http::read_cookie(&parts.headers, SESSION_COOKIE).and_then(|v| {
            let key = sha256_b64(&v);
            c.sessions
                .get(&key)
                .filter(|s| s.realm == realm)
                .map(|s| (key, s))
        });
        match found {
            Some((session_key, session)) => Ok(Account {
                console: c.clone(),
                session,
                session_key,
                base: c.prefix(&realm),
                realm,
                params,
                forward: signin::forwarded_headers(&parts.headers),
                peer: peer_of(parts),
                https,
            }),
            None if parts.method == Method::GET || parts.method == Method::HEAD => {
                let uri = parts
                    .extensions
                    .get::<axum::extract::OriginalUri>()
                    .map_or(&parts.uri, |o| &o.0);
                let return_to = signin::return_to(uri, &c.prefix(&realm), &rp.cookie_path);
                Err(signin::start_login(
                    &c.app,
                    &c.logins,
                    &rp,
                    &parts.headers,
                    return_to,
                ))
            }
            None => Err(csrf_refused(c, &realm, https)),
        }
    }
}

/// GET `/realms/{realm}/account/callback`: finish the login.
pub async fn callback(
    State(c): State<AccountConsole>,
    Path(realm): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let rp = c.relying_party(&realm);
    let https = rp.https(&c.app, &headers);
    if let Err(resp) = crate::app::enabled_realm(&c.app, &realm).await {
        return resp;
    }
    let done = match signin::finish_login(&c.app, &c.api, &c.logins, &rp, &headers, peer, &q).await
    {
        Ok(d) => d,
        Err(message) => {
            return c.bare_page(
                &realm,
                StatusCode::BAD_REQUEST,
                "signin-failed.html",
                message,
                https,
                None,
            );
        }
    };
    let cookie = http::random_token(&c.app, 32);
    c.sessions
        .insert(sha256_b64(&cookie), Arc::new(done.session));
    let mut resp = crate::console::see_other(&done.return_to, https);
    for v in signin::signed_in_cookies(&rp, SESSION_COOKIE, &cookie, https) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// POST `/realms/{realm}/account/logout`: forget the console session, then the realm's
/// RP-initiated logout (which ends the SSO session), back to the console.
pub async fn logout(a: Account, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(resp) = a.form(&headers, &body) {
        return resp;
    }
    let rp = a.console.relying_party(&a.realm);
    let location = signin::logout_location(&a.console.app, &rp, &a.session, &headers).await;
    a.end();
    let mut resp = crate::console::see_other(&location, a.https);
    if let Some(v) = http::cookie(SESSION_COOKIE, "", &rp.cookie_path, Some(0), a.https) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

impl Account {
    /// Show `text` on the next page.
    pub fn flash(&self, kind: &'static str, text: impl Into<String>) {
        self.session.set_flash(kind, text.into());
    }

    /// Forget this console session.
    pub fn end(&self) {
        self.console.sessions.invalidate(&self.session_key);
    }

    /// The form of a POST, after its CSRF value matched the session's (403 page otherwise).
    pub fn form(&self, headers: &HeaderMap, body: &Bytes) -> Result<Params, Response> {
        let params = http::form(headers, body).map_err(|_| {
            self.error_page(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Forms must be sent as application/x-www-form-urlencoded.",
            )
        })?;
        match params.one("csrf") {
            Ok(Some(t)) if secret_matches(&self.session.csrf, t) => Ok(params),
            _ => Err(csrf_refused(&self.console, &self.realm, self.https)),
        }
    }

    /// The console's error page.
    pub fn error_page(&self, status: StatusCode, message: &str) -> Response {
        self.console.bare_page(
            &self.realm,
            status,
            "error.html",
            message,
            self.https,
            Some(&self.session),
        )
    }

    /// The session ended at the provider: forget it, sign in again.
    pub fn signed_out(&self) -> Response {
        self.end();
        crate::console::see_other(&format!("{}/", self.base), self.https)
    }

    fn internal(&self) -> Response {
        self.error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal error occurred.",
        )
    }

    /// A current access token (refreshed when about to expire), or the sign-in redirect.
    pub async fn access_token(&self) -> Result<String, Response> {
        let rp = self.console.relying_party(&self.realm);
        signin::access_token(
            &self.console.api,
            &rp,
            &self.session,
            &self.forward,
            self.peer,
        )
        .await
        .ok_or_else(|| self.signed_out())
    }

    /// `/realms/{realm}/account{rest}`: an account API path.
    pub fn api_path(&self, rest: &str) -> String {
        format!(
            "/realms/{}/account{rest}",
            crate::admin::http::segment(&self.realm)
        )
    }

    /// Call the account API as this user. A 401 ends the console session and answers the
    /// sign-in redirect; a 5xx or an internal failure answers the error page.
    pub async fn call(
        &self,
        method: Method,
        rest: &str,
        body: Option<Value>,
    ) -> Result<Reply, Response> {
        let token = self.access_token().await?;
        let origin = Origin {
            forward: &self.forward,
            peer: self.peer,
        };
        let reply = call_with_token(
            &self.console.api,
            origin,
            method,
            &self.api_path(rest),
            &token,
            body.as_ref(),
            true,
        )
        .await;
        match reply {
            Ok(r) if r.status == StatusCode::UNAUTHORIZED => Err(self.signed_out()),
            Ok(r) if r.status.is_server_error() => Err(self.internal()),
            Ok(r) => Ok(r),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "account console API call failed");
                Err(self.internal())
            }
        }
    }

    /// GET a JSON document; a refusal becomes the error page (403: the clear no-access page).
    pub async fn get(&self, rest: &str) -> Result<Value, Response> {
        let r = self.call(Method::GET, rest, None).await?;
        document(r, |r| self.refused(r))
    }

    /// A write: Ok(reply) on 2xx, Err(Ok(message)) when the API refused it with a message
    /// for the user, Err(Err(page)) when the page itself must answer.
    pub async fn write(
        &self,
        method: Method,
        rest: &str,
        body: Option<Value>,
    ) -> Result<Result<Reply, String>, Response> {
        let r = self.call(method, rest, body).await?;
        outcome(r, |r| self.refused(r))
    }

    /// The error page for an API refusal.
    pub fn refused(&self, r: &Reply) -> Response {
        if r.status == StatusCode::FORBIDDEN {
            return self.error_page(
                StatusCode::FORBIDDEN,
                "Your account does not have access to the account console. Ask an administrator for the “view-profile” or “manage-account” role of the “account” client.",
            );
        }
        let status = if r.status.is_client_error() {
            r.status
        } else {
            StatusCode::BAD_GATEWAY
        };
        self.error_page(status, &r.message())
    }

    /// The user's rights (the API's own decision, asked in process); the error page when the
    /// user may not even view.
    pub async fn rights(&self) -> Result<Rights, Response> {
        let token = self.access_token().await?;
        let mut headers = self.forward.clone();
        if let Some(v) = signin::bearer(&token) {
            headers.insert(header::AUTHORIZATION, v);
        }
        match super::rest::caller(
            &self.console.app,
            &headers,
            &self.realm,
            super::rest::Need::View,
        )
        .await
        {
            Ok(c) => Ok(c.rights),
            Err(resp) if resp.status() == StatusCode::UNAUTHORIZED => Err(self.signed_out()),
            Err(resp) => Err(self.refused(&Reply {
                status: resp.status(),
                body: Value::Null,
                location: None,
            })),
        }
    }
}
