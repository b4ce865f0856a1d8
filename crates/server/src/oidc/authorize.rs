//! The authorization endpoint and the browser login: the login form (required actions,
//! "forgot password" and registration follow in `lifecycle.rs`), SSO sessions carried by the `KEYCLOAK_IDENTITY` cookie, and the
//! authorization response (query, fragment or form_post).
//!
//! A login in progress lives in the database (`auth_session`), bound to the browser by the
//! `AUTH_SESSION_ID` cookie (a random root value) plus the `tab_id` in the form's action URL
//! (the row's id is the hash of both, so several tabs can log in at once) and to the form by a
//! one-time CSRF token (UI-1). The SSO cookie is an HS512-signed token naming the session; the
//! session id itself (the tokens' `sid`) is never enough to forge it.

use crate::app::{AppState, enabled_realm};
use crate::error::internal_any;
use crate::events::{self, Event};
use crate::oidc::brute_force;
use crate::oidc::credentials::{self, PasswordCheck};
use crate::oidc::http::{self, now_ms, now_s, sha256_b64};
use crate::oidc::issue;
use anyhow::{Context as _, Result};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use portcullis_model::events::EventType;
use portcullis_model::records::{
    AuthCodeRecord, AuthSessionRecord, ClientRecord, RealmRecord, UserRecord, UserSessionRecord,
};
use portcullis_oidc::OAuthError;
use portcullis_oidc::authorize::{self, AuthRequest, ClientFacts, Delivery, Params};
use portcullis_oidc::jose::{self, Algorithm};
use portcullis_oidc::urls::RealmUrls;
use serde_json::{Value, json};
use std::net::SocketAddr;

pub const AUTH_SESSION_COOKIE: &str = "AUTH_SESSION_ID";
pub const IDENTITY_COOKIE: &str = "KEYCLOAK_IDENTITY";
/// `typ` of the identity cookie's token.
const IDENTITY_TYP: &str = "Serialized-ID";
/// How long a login form stays usable (Keycloak's `accessCodeLifespanLogin` default).
pub(crate) const LOGIN_LIFESPAN_S: i64 = 1800;
const INVALID_CREDENTIALS: &str = "Invalid username or password.";

/// What a browser endpoint needs about the request's URLs.
pub struct Frontend {
    pub urls: RealmUrls,
    pub https: bool,
    pub cookie_path: String,
}

impl Frontend {
    pub fn new(s: &AppState, headers: &HeaderMap, realm: &str) -> Frontend {
        let urls = crate::oidc::urls(s, headers, realm);
        let https = urls.issuer.starts_with("https://");
        let cookie_path = url::Url::parse(&urls.issuer)
            .map(|u| format!("{}/", u.path().trim_end_matches('/')))
            .unwrap_or_else(|_| "/".to_string());
        Frontend {
            urls,
            https,
            cookie_path,
        }
    }

    pub(crate) fn login_action(&self, step: &str, client_id: &str, tab_id: &str) -> String {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .append_pair("tab_id", tab_id)
            .finish();
        format!("{}/login-actions/{step}?{q}", self.urls.issuer)
    }

    pub(crate) fn set_cookie(
        &self,
        resp: &mut Response,
        name: &str,
        value: &str,
        max_age: Option<i64>,
    ) {
        if let Some(v) = http::cookie(name, value, &self.cookie_path, max_age, self.https) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

pub(crate) fn error_page(s: &AppState, fe: &Frontend, message: &str) -> Response {
    http::error_page(s, StatusCode::BAD_REQUEST, message, fe.https)
}

pub(crate) fn realm_display_name(realm: &RealmRecord) -> String {
    realm
        .settings
        .display_name
        .clone()
        .unwrap_or_else(|| realm.name.clone())
}

/// Deliver an authorization response.
fn respond(s: &AppState, fe: &Frontend, d: Delivery) -> Response {
    match d {
        Delivery::Redirect(url) => match HeaderValue::from_str(&url) {
            Ok(v) => {
                let mut resp = StatusCode::FOUND.into_response();
                resp.headers_mut().insert(header::LOCATION, v);
                resp.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                resp
            }
            Err(_) => error_page(s, fe, "Invalid parameter: redirect_uri"),
        },
        Delivery::FormPost { action, fields } => {
            let html = s.themes.render(
                "form-post.html",
                context! { action => action, fields => fields },
            );
            let mut resp = http::page(StatusCode::OK, html, fe.https);
            // The auto-submitting page posts to the client's origin.
            resp.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'self'; object-src 'none';"),
            );
            resp
        }
    }
}

fn error_redirect(s: &AppState, fe: &Frontend, req: &AuthRequest, e: &OAuthError) -> Response {
    respond(
        s,
        fe,
        authorize::deliver(
            &req.redirect_uri,
            req.response_mode,
            authorize::error_fields(e),
            req.state.as_deref(),
            &fe.urls.issuer,
        ),
    )
}

fn client_facts(client: &ClientRecord) -> ClientFacts {
    ClientFacts {
        standard_flow_enabled: client.repr.standard_flow_enabled.unwrap_or(true),
        implicit_flow_enabled: client.repr.implicit_flow_enabled.unwrap_or(false),
        public_client: client.public_client(),
        pkce_method: ClientFacts::pkce_from_attribute(
            client.attribute("pkce.code.challenge.method"),
        ),
    }
}

/// GET or POST `/realms/{realm}/protocol/openid-connect/auth`.
pub async fn auth(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fe = Frontend::new(&s, &headers, &realm);
    let realm = match enabled_realm(&s, &realm).await {
        Ok(r) => r,
        Err(_) => return error_page(&s, &fe, "Realm does not exist"),
    };
    let params = if method == Method::POST {
        match http::form(&headers, &body) {
            Ok(p) => p,
            Err(_) => return error_page(&s, &fe, "Invalid Request"),
        }
    } else {
        Params::parse(query.unwrap_or_default().as_bytes())
    };
    match auth_inner(&s, &fe, &realm, &params, &headers, peer).await {
        Ok(r) => r,
        Err(e) => internal_any(e),
    }
}

async fn auth_inner(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    params: &Params,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Response> {
    let (client_id, redirect_uri) = match authorize::identify(params) {
        Ok(v) => v,
        Err(e) => {
            tracing::debug!(detail = %e.detail, "authorization request refused");
            return Ok(error_page(s, fe, e.message));
        }
    };
    let Some(client) = s.caches.client(&s.store, &realm.id, &client_id).await? else {
        return Ok(error_page(s, fe, "Client not found."));
    };
    if !client.enabled() {
        return Ok(error_page(s, fe, "Client disabled."));
    }
    if client.bearer_only() {
        return Ok(error_page(
            s,
            fe,
            "Bearer-only applications are not allowed to initiate browser login.",
        ));
    }
    if portcullis_model::redirect::match_redirect_uri(
        client.redirect_uris(),
        crate::oidc::root_url(&client, &fe.urls).as_deref(),
        &redirect_uri,
    )
    .is_none()
    {
        return Ok(error_page(s, fe, "Invalid parameter: redirect_uri"));
    }
    let req = match authorize::validate(params, &client_id, &redirect_uri, client_facts(&client)) {
        Ok(r) => r,
        Err(e) => {
            let partial = AuthRequest {
                client_id,
                redirect_uri,
                response_mode: e.mode,
                state: params.one("state").ok().flatten().map(str::to_owned),
                nonce: None,
                scope: String::new(),
                code_challenge: None,
                code_challenge_method: None,
                prompt: Default::default(),
                max_age: None,
                login_hint: None,
                id_token_hint: None,
            };
            return Ok(error_redirect(s, fe, &partial, &e.error));
        }
    };
    if let Err(e) = issue::grant_scopes(s, &client, &req.scope, None).await? {
        return Ok(error_redirect(s, fe, &req, &e));
    }

    // An SSO session satisfies the request unless a new login is asked for.
    let sso = current_session(s, fe, realm, headers).await?;
    let hint_sub = match &req.id_token_hint {
        Some(hint) => match verify_id_token_hint(s, realm, &fe.urls.issuer, hint).await? {
            Some(claims) => claims.get("sub").and_then(Value::as_str).map(str::to_owned),
            None => {
                return Ok(error_redirect(
                    s,
                    fe,
                    &req,
                    &OAuthError::invalid_request("Invalid IDToken"),
                ));
            }
        },
        None => None,
    };
    if let Some((us, user)) = &sso {
        let fresh_enough = req
            .max_age
            .is_none_or(|max| now_s() - us.auth_time_s <= max);
        let same_user = hint_sub.as_deref().is_none_or(|sub| sub == user.id);
        if !req.prompt.login && fresh_enough && same_user {
            // The identity cookie stays as set at login: the logout confirmation's CSRF value
            // is derived from it.
            let ip = http::client_address(s, headers).or_else(|| Some(peer.ip().to_string()));
            return finish(s, fe, realm, &client, &req, us, user, "0", ip.as_deref()).await;
        }
    }
    if req.prompt.none {
        return Ok(error_redirect(
            s,
            fe,
            &req,
            &OAuthError::login_required("Login required"),
        ));
    }

    // Start a login: reuse the browser's auth-session root, one row per tab.
    let root = http::read_cookie(headers, AUTH_SESSION_COOKIE)
        .filter(|v| v.len() >= 22 && v.len() <= 128)
        .unwrap_or_else(|| http::random_token(s, 32));
    let tab_id = http::random_token(s, 9);
    let now = now_ms();
    let row = AuthSessionRecord {
        id: sha256_b64(&format!("{root}.{tab_id}")),
        realm_id: realm.id.clone(),
        client_id: client.id.clone(),
        request: serde_json::to_string(&req)?,
        user_id: None,
        csrf_token: http::random_token(s, 32),
        created: now,
        expires_at: now + LOGIN_LIFESPAN_S * 1000,
    };
    s.store.create_auth_session(&row).await?;
    let mut resp = login_page(
        s,
        fe,
        realm,
        &fe.login_action("authenticate", &client.client_id, &tab_id),
        &row.csrf_token,
        req.login_hint.as_deref().unwrap_or(""),
        None,
    );
    fe.set_cookie(&mut resp, AUTH_SESSION_COOKIE, &root, None);
    Ok(resp)
}

fn login_page(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    action: &str,
    csrf: &str,
    username: &str,
    message: Option<&str>,
) -> Response {
    login_page_full(s, fe, realm, action, csrf, username, message, "error")
}

/// The login form of the login `p` with a message of `message_type` (`error`, `success`).
pub(crate) fn login_page_with(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    p: &Pending,
    username: &str,
    message: Option<&str>,
    message_type: &str,
) -> Response {
    let action = fe.login_action("authenticate", &p.client.client_id, &p.tab_id);
    login_page_full(
        s,
        fe,
        realm,
        &action,
        &p.row.csrf_token,
        username,
        message,
        message_type,
    )
}

#[allow(clippy::too_many_arguments)]
fn login_page_full(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    action: &str,
    csrf: &str,
    username: &str,
    message: Option<&str>,
    message_type: &str,
) -> Response {
    // The other forms of the same login share the action URL's query (client_id, tab_id).
    let sibling = |step: &str| {
        action
            .split_once("/login-actions/authenticate?")
            .map(|(base, q)| format!("{base}/login-actions/{step}?{q}"))
    };
    let reset_url = realm
        .settings
        .reset_password_allowed
        .unwrap_or(false)
        .then(|| sibling("reset-credentials"))
        .flatten();
    let registration_url = realm
        .settings
        .registration_allowed
        .unwrap_or(false)
        .then(|| sibling("registration"))
        .flatten();
    let html = s.themes.render(
        "login.html",
        context! {
            realm_display_name => realm_display_name(realm),
            login_action => action,
            csrf_token => csrf,
            username => username,
            message => message,
            message_type => message_type,
            login_with_email_allowed => realm.login_with_email_allowed(),
            reset_url => reset_url,
            registration_url => registration_url,
        },
    );
    http::page(StatusCode::OK, html, fe.https)
}

/// The SSO session the browser's identity cookie names, when it is valid and alive.
pub async fn current_session(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    headers: &HeaderMap,
) -> Result<Option<(UserSessionRecord, UserRecord)>> {
    let Some(cookie) = http::read_cookie(headers, IDENTITY_COOKIE) else {
        return Ok(None);
    };
    let keys = s.keys.get(&s.store, realm).await?;
    let Ok(v) = keys.verifier.verify(&cookie, &[Algorithm::HS512]) else {
        return Ok(None);
    };
    let c = &v.claims;
    if jose::check_times(c, now_s(), 0).is_err()
        || jose::check_issuer(c, &fe.urls.issuer).is_err()
        || jose::check_token_type(c, &[IDENTITY_TYP]).is_err()
    {
        return Ok(None);
    }
    let Some(sid) = c.get("sid").and_then(Value::as_str) else {
        return Ok(None);
    };
    let Some(us) = s.store.user_session(sid).await? else {
        return Ok(None);
    };
    if !issue::session_alive(realm, &us, now_ms()) {
        return Ok(None);
    }
    let Some(user) = s.store.user_by_id(&realm.id, &us.user_id).await? else {
        return Ok(None);
    };
    if !user.enabled || c.get("sub").and_then(Value::as_str) != Some(user.id.as_str()) {
        return Ok(None);
    }
    Ok(Some((us, user)))
}

/// An `id_token_hint`: one of our ID tokens for this realm (signature and issuer checked;
/// expiry tolerated, as OIDC allows). None when it is not.
pub async fn verify_id_token_hint(
    s: &AppState,
    realm: &RealmRecord,
    issuer: &str,
    hint: &str,
) -> Result<Option<Value>> {
    let keys = s.keys.get(&s.store, realm).await?;
    let Ok(v) = keys.verifier.verify(hint, issue::ASYMMETRIC) else {
        return Ok(None);
    };
    if jose::check_issuer(&v.claims, issuer).is_err()
        || jose::check_token_type(&v.claims, &[portcullis_oidc::claims::TYP_ID]).is_err()
    {
        return Ok(None);
    }
    Ok(Some(v.claims))
}

/// Set (or refresh) the identity cookie for an SSO session.
async fn touch_identity(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    us: &UserSessionRecord,
    resp: &mut Response,
) -> Result<()> {
    let keys = s.keys.get(&s.store, realm).await?;
    let signer = keys
        .signer(Algorithm::HS512)
        .context("realm has no active HS512 key")?;
    let now = now_s();
    let claims = json!({
        "exp": now + realm.sso_session_max_lifespan(),
        "iat": now,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iss": fe.urls.issuer,
        "sub": us.user_id,
        "typ": IDENTITY_TYP,
        "sid": us.id,
    });
    let token = signer.sign_jwt("JWT", &claims, s.keys.rng())?;
    fe.set_cookie(resp, IDENTITY_COOKIE, &token, None);
    Ok(())
}

/// The `LOGIN` event of a browser login for `req` (success or, with `.error(..)`, failure).
pub(crate) fn login_event(client: &ClientRecord, req: &AuthRequest, ip: Option<&str>) -> Event {
    Event::new(EventType::Login)
        .client(&client.client_id)
        .ip(ip)
        .detail("auth_method", "openid-connect")
        .detail("auth_type", "code")
        .detail("redirect_uri", req.redirect_uri.as_str())
}

/// Issue the code for an authenticated session and answer the client.
#[allow(clippy::too_many_arguments)]
async fn finish(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    client: &ClientRecord,
    req: &AuthRequest,
    us: &UserSessionRecord,
    user: &UserRecord,
    acr: &str,
    ip: Option<&str>,
) -> Result<Response> {
    let granted = match issue::grant_scopes(s, client, &req.scope, None).await? {
        Ok(g) => g,
        Err(e) => return Ok(error_redirect(s, fe, req, &e)),
    };
    let cs =
        credentials::add_client_session(s, us, client, &granted.names, Some(&req.redirect_uri))
            .await?;
    let code = http::random_token(s, 32);
    let now = now_ms();
    s.store
        .insert_code(&AuthCodeRecord {
            code_hash: sha256_b64(&code),
            realm_id: realm.id.clone(),
            client_id: client.id.clone(),
            user_session_id: us.id.clone(),
            client_session_id: cs.id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            scope: req.scope.clone(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            code_challenge_method: req.code_challenge_method.clone(),
            auth_time_s: us.auth_time_s,
            expires_at: now + realm.access_code_lifespan().clamp(1, 600) * 1000,
            used_at: None,
            acr: acr.to_owned(),
        })
        .await?;
    tracing::debug!(realm = %realm.name, client = %client.client_id, user = %user.id, "authorization code issued");
    let event = login_event(client, req, ip)
        .user(&user.id)
        .session(&us.id)
        .detail("username", user.username.as_str())
        .detail("consent", "no_consent_required")
        .detail("code_id", cs.id.as_str());
    events::emit(s, realm, event).await;
    Ok(respond(
        s,
        fe,
        authorize::deliver(
            &req.redirect_uri,
            req.response_mode,
            vec![
                ("code".into(), code),
                ("session_state".into(), us.id.clone()),
            ],
            req.state.as_deref(),
            &fe.urls.issuer,
        ),
    ))
}

/// A login in progress, found from the cookie and the `tab_id`.
pub(crate) struct Pending {
    pub(crate) row: AuthSessionRecord,
    pub(crate) req: AuthRequest,
    pub(crate) client: ClientRecord,
    pub(crate) tab_id: String,
}

pub(crate) async fn pending(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    headers: &HeaderMap,
    query: &Params,
) -> Result<std::result::Result<Pending, Response>> {
    let Some(root) = http::read_cookie(headers, AUTH_SESSION_COOKIE) else {
        return Ok(Err(error_page(
            s,
            fe,
            "Cookie not found. Please make sure cookies are enabled in your browser.",
        )));
    };
    let expired = || {
        error_page(
            s,
            fe,
            "Your login attempt timed out. Login will start from the beginning.",
        )
    };
    let Ok(Some(tab_id)) = query.one("tab_id") else {
        return Ok(Err(expired()));
    };
    let id = sha256_b64(&format!("{root}.{tab_id}"));
    let Some(row) = s.store.auth_session(&id, now_ms()).await? else {
        return Ok(Err(expired()));
    };
    if row.realm_id != realm.id {
        return Ok(Err(expired()));
    }
    let Ok(req) = serde_json::from_str::<AuthRequest>(&row.request) else {
        return Ok(Err(expired()));
    };
    let Some(client) = s.store.client_by_id(&realm.id, &row.client_id).await? else {
        return Ok(Err(error_page(s, fe, "Client not found.")));
    };
    if !client.enabled() {
        return Ok(Err(error_page(s, fe, "Client disabled.")));
    }
    Ok(Ok(Pending {
        row,
        req,
        client,
        tab_id: tab_id.to_owned(),
    }))
}

pub(crate) fn csrf_ok(row: &AuthSessionRecord, form: &Params) -> bool {
    match form.one("csrf_token") {
        Ok(Some(t)) => portcullis_oidc::client_auth::secret_matches(&row.csrf_token, t),
        _ => false,
    }
}

/// GET `/realms/{realm}/login-actions/authenticate`: show the form of a login in progress
/// again (a reload); POST: check the credentials.
pub async fn authenticate(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fe = Frontend::new(&s, &headers, &realm);
    let realm = match enabled_realm(&s, &realm).await {
        Ok(r) => r,
        Err(_) => return error_page(&s, &fe, "Realm does not exist"),
    };
    let query = Params::parse(query.unwrap_or_default().as_bytes());
    let ip = http::client_address(&s, &headers).or_else(|| Some(peer.ip().to_string()));
    match authenticate_inner(&s, &fe, &realm, &method, &query, &headers, &body, ip).await {
        Ok(r) => r,
        Err(e) => internal_any(e),
    }
}

#[allow(clippy::too_many_arguments)]
async fn authenticate_inner(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    method: &Method,
    query: &Params,
    headers: &HeaderMap,
    body: &[u8],
    ip: Option<String>,
) -> Result<Response> {
    let p = match pending(s, fe, realm, headers, query).await? {
        Ok(p) => p,
        Err(resp) => return Ok(resp),
    };
    let action = fe.login_action("authenticate", &p.client.client_id, &p.tab_id);
    if method != Method::POST {
        return Ok(login_page(
            s,
            fe,
            realm,
            &action,
            &p.row.csrf_token,
            p.req.login_hint.as_deref().unwrap_or(""),
            None,
        ));
    }
    let form = match http::form(headers, body) {
        Ok(f) => f,
        Err(_) => return Ok(error_page(s, fe, "Invalid Request")),
    };
    if !csrf_ok(&p.row, &form) {
        return Ok(error_page(
            s,
            fe,
            "Your login attempt timed out. Login will start from the beginning.",
        ));
    }
    let username = form.one("username").ok().flatten().unwrap_or("");
    let password = form.one("password").ok().flatten().unwrap_or("");
    let echo: String = username.chars().take(255).collect();
    if username.is_empty() || password.is_empty() {
        return Ok(login_page(
            s,
            fe,
            realm,
            &action,
            &p.row.csrf_token,
            &echo,
            Some(INVALID_CREDENTIALS),
        ));
    }
    let checked = brute_force::check_password(s, realm, username, password, ip.as_deref()).await?;
    let user = match checked {
        PasswordCheck::Valid(u) => u,
        refused => {
            if let Some(r) = refused.refusal() {
                let mut e = login_event(&p.client, &p.req, ip.as_deref())
                    .detail("username", echo.as_str())
                    .error(r.error);
                e.user_id = r.user_id;
                events::emit(s, realm, e).await;
            }
            // UI-3: the same answer for unknown users, wrong passwords and disabled accounts.
            return Ok(login_page(
                s,
                fe,
                realm,
                &action,
                &p.row.csrf_token,
                &echo,
                Some(INVALID_CREDENTIALS),
            ));
        }
    };
    crate::oidc::lifecycle::after_login(s, fe, realm, &p, &user, ip).await
}

pub(crate) async fn complete_login(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    p: &Pending,
    user: &UserRecord,
    ip: Option<String>,
) -> Result<Response> {
    // The login is spent before anything is issued: a replayed form POST finds nothing.
    if !s.store.delete_auth_session(&p.row.id).await? {
        return Ok(error_page(
            s,
            fe,
            "Your login attempt timed out. Login will start from the beginning.",
        ));
    }
    brute_force::succeeded(s, realm, &user.id).await?;
    let now = now_ms();
    let us = UserSessionRecord {
        id: uuid::Uuid::new_v4().to_string(),
        realm_id: realm.id.clone(),
        user_id: user.id.clone(),
        auth_time_s: now / 1000,
        started: now,
        last_refresh: now,
        remember_me: false,
        ip_address: ip,
    };
    s.store.create_user_session(&us).await?;
    let mut resp = finish(
        s,
        fe,
        realm,
        &p.client,
        &p.req,
        &us,
        user,
        "1",
        us.ip_address.as_deref(),
    )
    .await?;
    touch_identity(s, fe, realm, &us, &mut resp).await?;
    Ok(resp)
}
