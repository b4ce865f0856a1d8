//! The kit's HTTP side: its routes (login, callback, logout, break-glass login, back-channel
//! logout), the [`Auth`] extractor and the [`require_permission`] guard.
//!
//! Security: the session cookie is random (256 bits), HttpOnly, SameSite=Lax, Secure when
//! the service is HTTPS, and stored only as a hash; `state`, nonce and PKCE verifier are
//! single use; `next` targets are local paths only; forms carry CSRF tokens compared in
//! constant time; failures of the local login all read the same.

use crate::authz::PermissionContext;
use crate::error::KitError;
use crate::store::{LocalUser, PendingLogin, digest, now_ms};
use crate::sync::Identity;
use crate::{Kit, ct_eq};
use aws_lc_rs::rand::SecureRandom as _;
use axum::extract::{Extension, Form, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{FromFnLayer, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

const SESSION_COOKIE: &str = "kit_session";
const CSRF_COOKIE: &str = "kit_csrf";
/// A login must come back within this time.
const LOGIN_MAX_AGE_MS: i64 = 10 * 60 * 1000;

/// What the session cache keeps per browser session.
#[derive(Debug)]
pub struct SessionInfo {
    pub user: LocalUser,
    pub context: Arc<PermissionContext>,
    pub csrf: String,
    pub via: String,
}

/// How a request was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthVia {
    /// A browser session from single sign-on.
    Sso,
    /// A browser session from the break-glass local login.
    Local,
    /// A bearer access token (no local session).
    Bearer { subject: String },
}

/// The authenticated caller of a request and what it may do.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The local user (None for bearer tokens: the API does not need the local record).
    pub user: Option<LocalUser>,
    pub context: Arc<PermissionContext>,
    pub via: AuthVia,
    /// The session's CSRF token, for forms the service renders (None for bearer).
    pub csrf: Option<String>,
}

fn random_token() -> Result<String, KitError> {
    let mut b = [0u8; 32];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| KitError::Login("random generator failed".into()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(kit: &Kit, name: &str, value: &str, max_age_s: i64) -> HeaderValue {
    let secure = if kit.config().secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let v = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether a caller wants JSON rather than a page.
fn wants_json(headers: &HeaderMap, path: &str) -> bool {
    path.starts_with("/api/")
        || headers.contains_key(header::AUTHORIZATION)
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

/// A local path to come back to after login (`/` when absent or not a plain local path).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control)
                && n.len() <= 2000 =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
<body><main><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    );
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; frame-ancestors 'none'",
            ),
        ],
        Html(html),
    )
        .into_response()
}

fn error_response(e: &KitError, json_wanted: bool) -> Response {
    // Details go to the log, never to the client.
    tracing::warn!(error = %e, "request failed");
    let status = e.status();
    let message = match e {
        KitError::Token(_) => "invalid token",
        KitError::Login(_) => "login failed; please try again",
        KitError::Provider(_) => "the identity server is unavailable",
        _ => "internal error",
    };
    if json_wanted {
        (status, axum::Json(json!({"error": message}))).into_response()
    } else {
        page(
            status,
            "Sign-in problem",
            &format!(
                "<p>{}</p><p><a href=\"/login\">Sign in again</a></p>",
                escape(message)
            ),
        )
    }
}

pub(crate) fn attach<S: Clone + Send + Sync + 'static>(
    kit: Kit,
    app: axum::Router<S>,
) -> axum::Router<S> {
    let routes: axum::Router<S> = axum::Router::new()
        .route("/login", get(login))
        .route("/callback", get(callback))
        .route("/logout", get(logout_page).post(logout))
        .route("/local-login", get(local_login_page).post(local_login))
        .route("/backchannel-logout", post(backchannel_logout))
        .with_state(kit.clone());
    app.merge(routes).layer(Extension(kit))
}

// --------------------------------------------------------------------------------- login

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login(State(kit): State<Kit>, Query(q): Query<LoginQuery>) -> Response {
    match start_login(&kit, q.next.as_deref()).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(KitError::Provider(e)) => {
            tracing::warn!(error = %e, "identity server unavailable for login");
            page(
                StatusCode::BAD_GATEWAY,
                "Sign-in unavailable",
                "<p>The identity server cannot be reached. Administrators can use the \
<a href=\"/local-login\">emergency sign-in</a>.</p>",
            )
        }
        Err(e) => error_response(&e, false),
    }
}

async fn start_login(kit: &Kit, next: Option<&str>) -> Result<String, KitError> {
    let ep = kit.provider().endpoints().await?;
    let state = random_token()?;
    let nonce = random_token()?;
    let verifier = random_token()?;
    let challenge = portcullis_oidc::pkce::s256_challenge(&verifier);
    kit.store()
        .insert_login(
            &state,
            &PendingLogin {
                nonce: nonce.clone(),
                pkce_verifier: verifier,
                return_to: safe_next(next),
                created_at: now_ms(),
            },
        )
        .await?;
    let c = kit.config();
    let mut url = url::Url::parse(&ep.authorization)
        .map_err(|e| KitError::Provider(format!("authorization endpoint: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &c.client_id)
        .append_pair("redirect_uri", &c.redirect_uri())
        .append_pair("scope", &c.scopes)
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    Ok(url.into())
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(State(kit): State<Kit>, Query(q): Query<CallbackQuery>) -> Response {
    match finish_login(&kit, q).await {
        Ok((session_id, return_to)) => {
            let mut resp = Redirect::to(&return_to).into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    &kit,
                    SESSION_COOKIE,
                    &session_id,
                    kit.config().session_lifetime_s,
                ),
            );
            resp
        }
        Err(e) => error_response(&e, false),
    }
}

async fn finish_login(kit: &Kit, q: CallbackQuery) -> Result<(String, String), KitError> {
    let state = q
        .state
        .ok_or_else(|| KitError::Login("callback without state".into()))?;
    // Single use: the login is deleted whatever happens next.
    let pending = kit
        .store()
        .take_login(&state)
        .await?
        .ok_or_else(|| KitError::Login("unknown or used state".into()))?;
    if now_ms() - pending.created_at > LOGIN_MAX_AGE_MS {
        return Err(KitError::Login("login took too long".into()));
    }
    if let Some(err) = q.error {
        return Err(KitError::Login(format!("identity server answered {err}")));
    }
    let code = q
        .code
        .ok_or_else(|| KitError::Login("callback without code".into()))?;
    let provider = kit.provider();
    let tokens = provider
        .exchange_code(&code, &pending.pkce_verifier)
        .await?;
    let id_claims = provider
        .verify_id_token(&tokens.id_token, &pending.nonce)
        .await?;
    let userinfo = provider.userinfo(&tokens.access_token).await?;
    let identity = Identity::from_claims(&id_claims, userinfo.as_ref())
        .ok_or_else(|| KitError::Token("UserInfo names another subject".into()))?;
    let outcome = kit.store().sync_login(&identity).await?;
    let subscribers = kit
        .inner
        .subscribers
        .read()
        .map(|s| s.clone())
        .unwrap_or_default();
    for s in subscribers {
        s.on_groups_synced(&outcome, kit.store()).await?;
    }
    tracing::info!(
        user = %outcome.user.username,
        created = outcome.created,
        linked = outcome.linked,
        added = ?outcome.added,
        removed = ?outcome.removed,
        "login synced"
    );
    if !outcome.user.is_active {
        return Err(KitError::Login("local account is deactivated".into()));
    }
    let session_id = random_token()?;
    kit.store()
        .create_session(
            &session_id,
            &outcome.user.id,
            identity.sid.as_deref(),
            Some(&tokens.id_token),
            &random_token()?,
            "sso",
            kit.config().session_lifetime_s,
        )
        .await?;
    Ok((session_id, pending.return_to))
}

// --------------------------------------------------------------------------------- logout

async fn logout_page(auth: Option<Auth>) -> Response {
    match auth {
        Some(Auth {
            csrf: Some(csrf), ..
        }) => page(
            StatusCode::OK,
            "Sign out",
            &format!(
                "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<button type=\"submit\">Sign out</button></form>",
                escape(&csrf)
            ),
        ),
        _ => Redirect::to("/").into_response(),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

async fn logout(State(kit): State<Kit>, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    let Some(sid) = cookie(&headers, SESSION_COOKIE) else {
        return Redirect::to("/").into_response();
    };
    let session = match kit.store().session(&sid).await {
        Ok(s) => s,
        Err(e) => return error_response(&e, false),
    };
    let Some(session) = session else {
        return Redirect::to("/").into_response();
    };
    if !f.csrf.as_deref().is_some_and(|c| ct_eq(c, &session.csrf)) {
        return page(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "<p>Invalid form; reload and try again.</p>",
        );
    }
    if let Err(e) = kit.store().delete_session(&sid).await {
        return error_response(&e, false);
    }
    kit.inner.sessions.invalidate(&digest(&sid));
    let target = match (&session.id_token, session.via.as_str()) {
        (Some(hint), "sso") => match kit.provider().endpoints().await {
            Ok(ep) => ep.end_session.as_ref().and_then(|end| {
                let mut url = url::Url::parse(end).ok()?;
                url.query_pairs_mut()
                    .append_pair("id_token_hint", hint)
                    .append_pair(
                        "post_logout_redirect_uri",
                        &kit.config().post_logout_redirect_uri(),
                    )
                    .append_pair("client_id", &kit.config().client_id);
                Some(url.to_string())
            }),
            Err(_) => None,
        },
        _ => None,
    };
    let mut resp = Redirect::to(target.as_deref().unwrap_or("/")).into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&kit, SESSION_COOKIE, "", 0));
    resp
}

#[derive(Deserialize)]
struct LogoutTokenForm {
    logout_token: Option<String>,
}

/// OpenID Connect Back-Channel Logout 1.0 §2.8: 200 on success, 400 on a bad token.
async fn backchannel_logout(State(kit): State<Kit>, Form(f): Form<LogoutTokenForm>) -> Response {
    let no_store = [(header::CACHE_CONTROL, "no-store")];
    let Some(token) = f.logout_token else {
        return (
            StatusCode::BAD_REQUEST,
            no_store,
            axum::Json(json!({"error": "invalid_request"})),
        )
            .into_response();
    };
    let claims = match kit.provider().verify_logout_token(&token).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "logout token rejected");
            return (
                StatusCode::BAD_REQUEST,
                no_store,
                axum::Json(json!({"error": "invalid_request"})),
            )
                .into_response();
        }
    };
    let text = |k: &str| claims.get(k).and_then(|v| v.as_str());
    match kit.store().end_sessions(text("sid"), text("sub")).await {
        Ok(ended) => {
            for h in &ended {
                kit.inner.sessions.invalidate(h);
            }
            tracing::info!(sessions = ended.len(), "back-channel logout");
            (StatusCode::OK, no_store).into_response()
        }
        Err(e) => error_response(&e, true),
    }
}

// --------------------------------------------------------------------------------- break-glass

async fn local_login_page(State(kit): State<Kit>) -> Response {
    local_form(&kit, StatusCode::OK, None)
}

fn local_form(kit: &Kit, status: StatusCode, message: Option<&str>) -> Response {
    let token = match random_token() {
        Ok(t) => t,
        Err(e) => return error_response(&e, false),
    };
    let msg = message
        .map(|m| format!("<p role=\"alert\">{}</p>", escape(m)))
        .unwrap_or_default();
    let mut resp = page(
        status,
        "Emergency sign-in",
        &format!(
            "<p>For administrators while single sign-on is unavailable. Everyone else: \
<a href=\"/login\">sign in</a>.</p>{msg}\
<form method=\"post\" action=\"/local-login\">\
<input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
<label>Username <input name=\"username\" autocomplete=\"username\" required></label>\
<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
<button type=\"submit\">Sign in</button></form>"
        ),
    );
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(kit, CSRF_COOKIE, &token, 600),
    );
    resp
}

#[derive(Deserialize)]
struct LocalLoginForm {
    csrf: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

const LOCAL_FAILURE: &str =
    "Invalid username or password, or this account must use single sign-on.";

async fn local_login(
    State(kit): State<Kit>,
    headers: HeaderMap,
    Form(f): Form<LocalLoginForm>,
) -> Response {
    let cookie_token = cookie(&headers, CSRF_COOKIE);
    let csrf_ok = matches!((&cookie_token, &f.csrf), (Some(a), Some(b)) if ct_eq(a, b));
    if !csrf_ok {
        return local_form(
            &kit,
            StatusCode::FORBIDDEN,
            Some("The form expired; try again."),
        );
    }
    let (Some(username), Some(password)) = (f.username, f.password) else {
        return local_form(&kit, StatusCode::BAD_REQUEST, Some(LOCAL_FAILURE));
    };
    if username.len() > 255 || password.len() > 4096 {
        return local_form(&kit, StatusCode::UNAUTHORIZED, Some(LOCAL_FAILURE));
    }
    let found = match kit.store().local_credentials(username.trim()).await {
        Ok(f) => f,
        Err(e) => return error_response(&e, false),
    };
    let (user, stored) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, None),
    };
    let hash = stored.as_deref().and_then(|s| {
        let v: serde_json::Value = serde_json::from_str(s).ok()?;
        portcullis_model::password::PasswordHash::from_keycloak(
            v.get("secretData")?.as_str()?,
            v.get("credentialData")?.as_str()?,
        )
        .ok()
    });
    let password = zeroize::Zeroizing::new(password);
    // Unknown users and users without a local password cost the same hashing time.
    let verified = tokio::task::spawn_blocking(move || match hash {
        Some(h) => h.verify(&password),
        None => {
            portcullis_model::password::verify_dummy(&password);
            false
        }
    })
    .await
    .unwrap_or(false);
    let Some(user) = user.filter(|u| verified && u.is_superuser && u.is_active) else {
        return local_form(&kit, StatusCode::UNAUTHORIZED, Some(LOCAL_FAILURE));
    };
    let session_id = match random_token() {
        Ok(t) => t,
        Err(e) => return error_response(&e, false),
    };
    let csrf = match random_token() {
        Ok(t) => t,
        Err(e) => return error_response(&e, false),
    };
    if let Err(e) = kit
        .store()
        .create_session(
            &session_id,
            &user.id,
            None,
            None,
            &csrf,
            "local",
            kit.config().session_lifetime_s,
        )
        .await
    {
        return error_response(&e, false);
    }
    tracing::warn!(user = %user.username, "break-glass local login");
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            &kit,
            SESSION_COOKIE,
            &session_id,
            kit.config().session_lifetime_s,
        ),
    );
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&kit, CSRF_COOKIE, "", 0));
    resp
}

// --------------------------------------------------------------------------------- extractor

/// Why a request has no [`Auth`].
#[derive(Debug)]
pub struct AuthRejection {
    json: bool,
    path: String,
    error: Option<KitError>,
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        if let Some(e) = &self.error
            && !matches!(e, KitError::Token(_))
        {
            return error_response(e, self.json);
        }
        if self.json {
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                axum::Json(json!({"error": "unauthorized"})),
            )
                .into_response()
        } else {
            let next =
                url::form_urlencoded::byte_serialize(self.path.as_bytes()).collect::<String>();
            Redirect::to(&format!("/login?next={next}")).into_response()
        }
    }
}

impl Kit {
    /// Authenticate a request from its headers: bearer token, else session cookie.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Auth>, KitError> {
        if let Some(authz) = headers.get(header::AUTHORIZATION) {
            let value = authz.to_str().unwrap_or("");
            let token = value
                .get(..7)
                .filter(|p| p.eq_ignore_ascii_case("bearer "))
                .map(|_| value[7..].trim())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| KitError::Token("not a bearer token".into()))?;
            let claims = self.provider().verify_access_token(token).await?;
            let groups: BTreeSet<String> = claims
                .get("groups")
                .and_then(|g| g.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .map(|g| g.trim_start_matches('/').to_owned())
                        .collect()
                })
                .unwrap_or_default();
            let subject = claims
                .get("sub")
                .and_then(|s| s.as_str())
                .unwrap_or("")
                .to_owned();
            return Ok(Some(Auth {
                user: None,
                context: self.inner.authz.context_for_groups(&groups),
                via: AuthVia::Bearer { subject },
                csrf: None,
            }));
        }
        let Some(sid) = cookie(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let key = digest(&sid);
        if let Some(info) = self.inner.sessions.get(&key) {
            return Ok(Some(auth_of(&info)));
        }
        let Some(session) = self.store().session(&sid).await? else {
            return Ok(None);
        };
        let Some(user) = self.store().user(&session.user_id).await? else {
            return Ok(None);
        };
        if !user.is_active {
            return Ok(None);
        }
        let context = if session.via == "local" {
            // Break-glass sessions are superusers by definition of the local login.
            Arc::new(PermissionContext {
                user_roles: BTreeSet::new(),
                user_permissions: BTreeSet::new(),
                primary_role: None,
                is_staff: true,
                is_superuser: user.is_superuser,
            })
        } else {
            let groups = self.store().groups(&user.id).await?;
            self.inner.authz.context_for_groups(&groups)
        };
        let info = Arc::new(SessionInfo {
            user,
            context,
            csrf: session.csrf,
            via: session.via,
        });
        self.inner.sessions.insert(key, info.clone());
        Ok(Some(auth_of(&info)))
    }
}

fn auth_of(info: &SessionInfo) -> Auth {
    Auth {
        user: Some(info.user.clone()),
        context: info.context.clone(),
        via: if info.via == "local" {
            AuthVia::Local
        } else {
            AuthVia::Sso
        },
        csrf: Some(info.csrf.clone()),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let json = wants_json(&parts.headers, parts.uri.path());
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(auth.clone());
        }
        let Some(kit) = parts.extensions.get::<Kit>().cloned() else {
            return Err(AuthRejection {
                json,
                path,
                error: Some(KitError::Config {
                    field: "router",
                    reason: "Kit::attach was not applied to this router".into(),
                }),
            });
        };
        match kit.authenticate(&parts.headers).await {
            Ok(Some(auth)) => {
                parts.extensions.insert(auth.clone());
                Ok(auth)
            }
            Ok(None) => Err(AuthRejection {
                json,
                path,
                error: None,
            }),
            Err(e) => Err(AuthRejection {
                json,
                path,
                error: Some(e),
            }),
        }
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for Auth {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(
            <Auth as FromRequestParts<S>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

// --------------------------------------------------------------------------------- guard

/// The permission a route requires (state of the [`require_permission`] middleware).
#[derive(Debug, Clone, Copy)]
pub struct Required(pub &'static str);

type GuardFuture = std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send>>;
type GuardFn = fn(State<Required>, Request, Next) -> GuardFuture;

fn guard(State(required): State<Required>, req: Request, next: Next) -> GuardFuture {
    Box::pin(async move {
        let (mut parts, body) = req.into_parts();
        let auth = match <Auth as FromRequestParts<()>>::from_request_parts(&mut parts, &()).await {
            Ok(a) => a,
            Err(rejection) => return rejection.into_response(),
        };
        if !auth.context.has_permission(required.0) {
            let json = wants_json(&parts.headers, parts.uri.path());
            return if json {
                (
                    StatusCode::FORBIDDEN,
                    axum::Json(json!({"error": "forbidden", "required_permission": required.0})),
                )
                    .into_response()
            } else {
                page(
                    StatusCode::FORBIDDEN,
                    "Forbidden",
                    &format!(
                        "<p>This page needs the permission <code>{}</code>.</p>",
                        escape(required.0)
                    ),
                )
            };
        }
        next.run(Request::from_parts(parts, body)).await
    })
}

/// A route layer answering 401/redirect without authentication and 403 without
/// `permission` (`object.operation`; superusers pass every check), JSON for API callers and
/// a page for browsers: `.route_layer(require_permission("article.edit"))`.
pub fn require_permission(
    permission: &'static str,
) -> FromFnLayer<GuardFn, Required, (State<Required>, Request)> {
    axum::middleware::from_fn_with_state(Required(permission), guard as GuardFn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets_stay_local() {
        assert_eq!(safe_next(Some("/editor?x=1")), "/editor?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("/a\nb")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("xkit_session=no; kit_session=yes; other=1"),
        );
        assert_eq!(cookie(&h, "kit_session").as_deref(), Some("yes"));
        assert_eq!(cookie(&h, "missing"), None);
    }
}
