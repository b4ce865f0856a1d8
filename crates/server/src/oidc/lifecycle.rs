//! The account lifecycle in the browser: the one-time code of users with an OTP credential,
//! required actions after a login (`UPDATE_PASSWORD`, `UPDATE_PROFILE`, `VERIFY_EMAIL`,
//! `CONFIGURE_TOTP`), "forgot password" (`/login-actions/reset-credentials`),
//! self-registration (`/login-actions/registration`) and the links of the mails
//! (`/login-actions/action-token`).
//!
//! Every step is a form bound to a login in progress (`auth_session`: cookie + `tab_id`, CSRF
//! value compared in constant time, as in `authorize.rs`). A link opened from a mail continues
//! the login of the same browser tab when there is one (then the login ends with a code, as in
//! Keycloak); otherwise it starts a flow of its own (an `auth_session` whose `login_flow` row
//! lists the actions to run) that ends on an information page or the admin-given redirect URI.
//! Steps are run in Keycloak's priority order; a pending action this server cannot run stops
//! the login (UI-7). The answer to "forgot password" is the same whether or not the account
//! exists, and its mail is sent in the background so the timing is the same too.

use crate::app::{AppState, enabled_realm};
use crate::error::internal_any;
use crate::events::{self, Event};
use crate::mail::{self, MailKind, SmtpSettings};
use crate::oidc::action_token::{self, ActionToken, Checked};
use crate::oidc::authorize::{
    self, AUTH_SESSION_COOKIE, Frontend, LOGIN_LIFESPAN_S, Pending, csrf_ok, error_page,
    realm_display_name,
};
use crate::oidc::credentials::MAX_PASSWORD_BYTES;
use crate::oidc::http::{self, now_ms, now_s, sha256_b64};
use anyhow::{Context as _, Result};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use minijinja::context;
use portcullis_model::events::EventType;
use portcullis_model::password::{HashPolicy, PasswordHash};
use portcullis_model::password_policy::{PasswordPolicy, PolicyViolation};
use portcullis_model::records::{
    AuthSessionRecord, ClientRecord, CredentialRecord, CredentialSecret, RealmRecord, UserImage,
    UserRecord, new_id,
};
use portcullis_model::totp::{self, OtpPolicy};
use portcullis_oidc::authorize::{AuthRequest, Params};
use portcullis_store::{HistoryKeep, LoginFlowRecord, UserConflict};
use std::net::SocketAddr;

/// Flow kinds (`login_flow.kind`).
pub const KIND_LOGIN: &str = "login";
pub const KIND_RESET: &str = "reset-credentials";
pub const KIND_EXECUTE: &str = "execute-actions";

pub const UPDATE_PASSWORD: &str = "UPDATE_PASSWORD";
pub const UPDATE_PROFILE: &str = "UPDATE_PROFILE";
pub const VERIFY_EMAIL: &str = "VERIFY_EMAIL";
pub const CONFIGURE_TOTP: &str = "CONFIGURE_TOTP";
/// The required actions this server can run (and an administrator may send by mail).
pub const SUPPORTED_ACTIONS: &[&str] = &[
    UPDATE_PASSWORD,
    UPDATE_PROFILE,
    VERIFY_EMAIL,
    CONFIGURE_TOTP,
];
/// Prefix of a flow kind whose user still has to enter a one-time code; the rest is the kind
/// the flow continues as once the code is accepted.
const OTP_GATE: &str = "otp:";
pub(crate) const INVALID_OTP: &str = "Invalid authenticator code.";

const EXPIRED_LOGIN: &str = "Your login attempt timed out. Login will start from the beginning.";
const NOT_SET_UP: &str = "Account is not fully set up. Contact your administrator.";
/// A mail link past its expiry or already used. Keycloak's "Action expired. Please continue
/// with login now." names neither case nor the way forward.
pub const EXPIRED_ACTION: &str =
    "This link has expired or has already been used. If you still need it, request a new one.";
pub const INVALID_LINK: &str = "The link is invalid. Please request a new one.";
pub const EMAIL_SENT: &str = "You should receive an email shortly with further instructions.";
pub const EMAIL_SEND_ERROR: &str = "Failed to send email, please try again later.";
const ACCOUNT_UPDATED: &str = "Your account has been updated.";
const EMAIL_VERIFIED: &str = "Your email address has been verified.";

/// Keycloak's default priorities of the built-in required actions (lower runs first).
fn priority(action: &str) -> u32 {
    match action {
        "CONFIGURE_TOTP" => 10,
        "TERMS_AND_CONDITIONS" => 20,
        UPDATE_PASSWORD => 30,
        UPDATE_PROFILE => 40,
        VERIFY_EMAIL => 50,
        _ => 1000,
    }
}

/// A login-actions flow in progress: the login row, the authorization request when it
/// continues a login, and its extra state when a mail link started or joined it.
struct Flow {
    row: AuthSessionRecord,
    login: Option<AuthRequest>,
    client: ClientRecord,
    tab_id: String,
    extra: Option<LoginFlowRecord>,
}

impl Flow {
    fn from_pending(p: &Pending) -> Flow {
        Flow {
            row: p.row.clone(),
            login: Some(p.req.clone()),
            client: p.client.clone(),
            tab_id: p.tab_id.clone(),
            extra: None,
        }
    }

    fn pending(&self) -> Option<Pending> {
        self.login.as_ref().map(|req| Pending {
            row: self.row.clone(),
            req: req.clone(),
            client: self.client.clone(),
            tab_id: self.tab_id.clone(),
        })
    }

    fn kind(&self) -> &str {
        let k = self.extra.as_ref().map_or(KIND_LOGIN, |e| e.kind.as_str());
        k.strip_prefix(OTP_GATE).unwrap_or(k)
    }

    /// Whether the one-time code is still to be entered.
    fn otp_pending(&self) -> bool {
        self.extra
            .as_ref()
            .is_some_and(|e| e.kind.starts_with(OTP_GATE))
    }

    fn action_url(&self, fe: &Frontend) -> String {
        fe.login_action("required-action", &self.client.client_id, &self.tab_id)
    }
}

/// An event of this flow's user and client.
fn flow_event(kind: EventType, flow: &Flow, user: &UserRecord, ip: Option<&str>) -> Event {
    Event::new(kind)
        .client(&flow.client.client_id)
        .user(&user.id)
        .ip(ip)
}

/// The flow of this browser tab (cookie + `tab_id`), or the page to show instead.
async fn load_flow(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    headers: &HeaderMap,
    query: &Params,
) -> Result<std::result::Result<Flow, Response>> {
    let Some(root) = http::read_cookie(headers, AUTH_SESSION_COOKIE) else {
        return Ok(Err(error_page(
            s,
            fe,
            "Cookie not found. Please make sure cookies are enabled in your browser.",
        )));
    };
    let Ok(Some(tab_id)) = query.one("tab_id") else {
        return Ok(Err(error_page(s, fe, EXPIRED_LOGIN)));
    };
    let id = sha256_b64(&format!("{root}.{tab_id}"));
    let Some(row) = s.store.auth_session(&id, now_ms()).await? else {
        return Ok(Err(error_page(s, fe, EXPIRED_LOGIN)));
    };
    if row.realm_id != realm.id {
        return Ok(Err(error_page(s, fe, EXPIRED_LOGIN)));
    }
    let login = serde_json::from_str::<AuthRequest>(&row.request).ok();
    let extra = s.store.login_flow(&row.id).await?;
    if login.is_none() && extra.is_none() {
        return Ok(Err(error_page(s, fe, EXPIRED_LOGIN)));
    }
    let Some(client) = s.store.client_by_id(&realm.id, &row.client_id).await? else {
        return Ok(Err(error_page(s, fe, "Client not found.")));
    };
    if !client.enabled() {
        return Ok(Err(error_page(s, fe, "Client disabled.")));
    }
    Ok(Ok(Flow {
        row,
        login,
        client,
        tab_id: tab_id.to_owned(),
        extra,
    }))
}

/// The actions still to run for `user` in `flow`, in Keycloak's order: the user's own, the
/// flow's, and `VERIFY_EMAIL` when the realm asks for verified addresses.
async fn pending_actions(
    s: &AppState,
    realm: &RealmRecord,
    flow: &Flow,
    user: &UserRecord,
) -> Result<Vec<String>> {
    let mut actions: Vec<String> = s
        .store
        .required_actions(&user.id)
        .await?
        .into_iter()
        .map(|a| canonical(&a))
        .collect();
    if let Some(extra) = &flow.extra {
        actions.extend(extra.actions.iter().map(|a| canonical(a)));
    }
    if must_verify_email(realm, user) {
        actions.push(VERIFY_EMAIL.to_owned());
    }
    actions.sort_by_key(|a| priority(a));
    actions.dedup();
    Ok(actions)
}

/// Whether the realm's `verifyEmail` asks this user to verify the address first.
pub fn must_verify_email(realm: &RealmRecord, user: &UserRecord) -> bool {
    realm.settings.verify_email.unwrap_or(false) && !user.email_verified && user.email.is_some()
}

/// Built-in action names are matched case-insensitively (as import does).
fn canonical(action: &str) -> String {
    SUPPORTED_ACTIONS
        .iter()
        .chain(["TERMS_AND_CONDITIONS"].iter())
        .find(|k| k.eq_ignore_ascii_case(action))
        .map_or_else(|| action.to_owned(), |k| (*k).to_owned())
}

/// Credentials were accepted in the login `p`: run the user's required actions, then issue
/// the code.
pub(crate) async fn after_login(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    p: &Pending,
    user: &UserRecord,
    ip: Option<String>,
) -> Result<Response> {
    // An expired password (`forceExpiredPasswordChange`) becomes the user's UPDATE_PASSWORD
    // required action, which the new password clears.
    if password_expired(s, realm, user).await? {
        s.store
            .add_required_action(&user.id, UPDATE_PASSWORD)
            .await?;
    }
    let mut flow = Flow::from_pending(p);
    if !otp_keys(s, &user.id).await?.is_empty() {
        // A second factor first: nothing else runs until the code is accepted.
        let gate = LoginFlowRecord {
            auth_session_id: p.row.id.clone(),
            actions: Vec::new(),
            redirect_uri: None,
            kind: format!("{OTP_GATE}{KIND_LOGIN}"),
        };
        if !s
            .store
            .attach_login_flow(&p.row.id, &user.id, &gate)
            .await?
        {
            return Ok(error_page(s, fe, EXPIRED_LOGIN));
        }
        flow.extra = Some(gate);
        return Ok(otp_page(s, fe, realm, &flow, None));
    }
    if pending_actions(s, realm, &flow, user).await?.is_empty() {
        return authorize::complete_login(s, fe, realm, p, user, ip).await;
    }
    s.store
        .set_auth_session_user(&p.row.id, Some(&user.id))
        .await?;
    next_step(s, fe, realm, &flow, user, ip, true).await
}

/// Show the next required action, or end the flow. `entering` is true when the step is
/// reached now (a verification mail is sent then, not on a reload).
async fn next_step(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    user: &UserRecord,
    ip: Option<String>,
    entering: bool,
) -> Result<Response> {
    if flow.otp_pending() {
        return Ok(otp_page(s, fe, realm, flow, None));
    }
    let actions = pending_actions(s, realm, flow, user).await?;
    let Some(current) = actions.first() else {
        return finish(s, fe, realm, flow, user, ip).await;
    };
    Ok(match current.as_str() {
        UPDATE_PASSWORD => update_password_page(s, fe, realm, flow, None),
        CONFIGURE_TOTP => config_totp_page(s, fe, realm, flow, user, None, None),
        UPDATE_PROFILE => update_profile_page(s, fe, realm, flow, &profile_of(user), None),
        VERIFY_EMAIL => {
            let mut message = None;
            if entering && !send_verify_mail(s, fe, realm, flow, user, ip.as_deref()).await? {
                message = Some(EMAIL_SEND_ERROR);
            }
            verify_email_page(s, fe, realm, flow, user, message)
        }
        other => {
            // UI-7: a login with a step we cannot run never yields a code.
            tracing::warn!(realm = %realm.name, action = %other, "login refused: required action not supported");
            error_page(s, fe, NOT_SET_UP)
        }
    })
}

/// No action left: finish the login, or end a flow that has none.
async fn finish(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    user: &UserRecord,
    ip: Option<String>,
) -> Result<Response> {
    if let Some(p) = flow.pending() {
        return authorize::complete_login(s, fe, realm, &p, user, ip).await;
    }
    if !s.store.delete_auth_session(&flow.row.id).await? {
        return Ok(error_page(s, fe, EXPIRED_LOGIN));
    }
    if let Some(uri) = flow.extra.as_ref().and_then(|e| e.redirect_uri.as_deref()) {
        return Ok(redirect(uri).unwrap_or_else(|| error_page(s, fe, "Invalid redirect uri.")));
    }
    Ok(info_page(s, fe, realm, ACCOUNT_UPDATED, None))
}

fn redirect(uri: &str) -> Option<Response> {
    let v = HeaderValue::from_str(uri).ok()?;
    let mut resp = StatusCode::FOUND.into_response();
    resp.headers_mut().insert(header::LOCATION, v);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Some(resp)
}

fn info_page(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    message: &str,
    back_url: Option<&str>,
) -> Response {
    let html = s.themes.render(
        "info.html",
        context! { realm_display_name => realm_display_name(realm), message => message, back_url => back_url },
    );
    http::page(StatusCode::OK, html, fe.https)
}

fn update_password_page(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    message: Option<&str>,
) -> Response {
    let html = s.themes.render(
        "login-update-password.html",
        context! {
            realm_display_name => realm_display_name(realm),
            login_action => flow.action_url(fe),
            csrf_token => flow.row.csrf_token.as_str(),
            message => message,
            reset => flow.kind() == KIND_RESET,
        },
    );
    http::page(StatusCode::OK, html, fe.https)
}

/// The values of the profile form.
#[derive(Default)]
pub(crate) struct Profile {
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

impl Profile {
    /// The form's values for a template (`form.username`, `form.firstName`, ...).
    fn value(&self) -> minijinja::Value {
        context! {
            username => self.username.as_str(),
            email => self.email.as_str(),
            firstName => self.first_name.as_str(),
            lastName => self.last_name.as_str(),
        }
    }
}

fn profile_of(u: &UserRecord) -> Profile {
    Profile {
        username: u.username.clone(),
        email: u.email.clone().unwrap_or_default(),
        first_name: u.first_name.clone().unwrap_or_default(),
        last_name: u.last_name.clone().unwrap_or_default(),
    }
}

fn profile_from(form: &Params) -> Profile {
    let f = |k: &str| -> String {
        form.one(k)
            .ok()
            .flatten()
            .unwrap_or("")
            .trim()
            .chars()
            .take(256)
            .collect()
    };
    Profile {
        username: f("username"),
        email: f("email"),
        first_name: f("firstName"),
        last_name: f("lastName"),
    }
}

fn update_profile_page(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    form: &Profile,
    message: Option<&str>,
) -> Response {
    let html = s.themes.render(
        "login-update-profile.html",
        context! {
            realm_display_name => realm_display_name(realm),
            login_action => flow.action_url(fe),
            csrf_token => flow.row.csrf_token.as_str(),
            message => message,
            form => form.value(),
            edit_username => realm.settings.edit_username_allowed.unwrap_or(false)
                && !realm.settings.registration_email_as_username.unwrap_or(false),
        },
    );
    http::page(StatusCode::OK, html, fe.https)
}

fn verify_email_page(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    user: &UserRecord,
    message: Option<&str>,
) -> Response {
    let html = s.themes.render(
        "login-verify-email.html",
        context! {
            realm_display_name => realm_display_name(realm),
            login_action => flow.action_url(fe),
            csrf_token => flow.row.csrf_token.as_str(),
            email => user.email.as_deref().unwrap_or(""),
            message => message.unwrap_or("You need to verify your email address to activate your account."),
            message_type => if message.is_some() { "error" } else { "info" },
        },
    );
    http::page(StatusCode::OK, html, fe.https)
}

/// The realm's SMTP settings, or None (logged) when it has none or they are unusable.
fn smtp_of(realm: &RealmRecord) -> Option<SmtpSettings> {
    match SmtpSettings::of_realm(realm) {
        Ok(Some(s)) => Some(s),
        Ok(None) => {
            tracing::warn!(realm = %realm.name, "cannot send email: the realm has no SMTP server configured");
            None
        }
        Err(e) => {
            tracing::warn!(realm = %realm.name, problem = %e, "cannot send email: the realm's SMTP settings are invalid");
            None
        }
    }
}

/// Send the verification mail of this flow and wait for the SMTP answer.
async fn send_verify_mail(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    user: &UserRecord,
    ip: Option<&str>,
) -> Result<bool> {
    let (Some(settings), Some(email)) = (smtp_of(realm), user.email.as_deref()) else {
        let event =
            flow_event(EventType::SendVerifyEmail, flow, user, ip).error("email_send_failed");
        events::emit(s, realm, event).await;
        return Ok(false);
    };
    let lifespan = action_token::lifespan(realm, action_token::VERIFY_EMAIL, false);
    let token = ActionToken {
        jti: new_id(),
        typ: action_token::VERIFY_EMAIL.to_owned(),
        sub: user.id.clone(),
        exp: now_s() + lifespan,
        azp: Some(flow.client.client_id.clone()),
        email: Some(email.to_owned()),
        actions: Vec::new(),
        redirect_uri: None,
        password_stamp: None,
    };
    let key = action_token::issue(s, realm, &fe.urls.issuer, &token).await?;
    let link = action_token::link(
        &fe.urls.issuer,
        &key,
        Some(&flow.client.client_id),
        Some(&flow.tab_id),
    );
    let m = mail::render(
        s,
        realm,
        MailKind::EmailVerification,
        email,
        &link,
        lifespan,
        &[],
    )?;
    let sent = mail::send_logged(&settings, &realm.name, &m).await;
    let mut event = flow_event(EventType::SendVerifyEmail, flow, user, ip).detail("email", email);
    if !sent {
        event = event.error("email_send_failed");
    }
    events::emit(s, realm, event).await;
    Ok(sent)
}

// ------------------------------------------------------------------- password policy

/// Check a new password against the realm's policy and the user's password history. An
/// unusable policy string is logged and not applied.
pub async fn check_new_password(
    s: &AppState,
    realm: &RealmRecord,
    user: &UserRecord,
    password: &str,
) -> Result<std::result::Result<(), PolicyViolation>> {
    let policy = match PasswordPolicy::parse(realm.password_policy()) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(realm = %realm.name, error = %e, "password policy is invalid; not applied");
            return Ok(Ok(()));
        }
    };
    if let Err(v) = policy.check(password, &user.username, user.email.as_deref()) {
        return Ok(Err(v));
    }
    if let Some(file) = policy.blacklist() {
        match s.blacklists.contains(file, password).await {
            Ok(true) => return Ok(Err(policy.blacklist_violation())),
            Ok(false) => {}
            // A missing or unreadable list is the operator's to fix; like an unusable policy
            // string it is logged and not applied.
            Err(e) => {
                tracing::warn!(realm = %realm.name, error = %format!("{e:#}"), "password blacklist not applied")
            }
        }
    }
    if policy.history() > 0 {
        let mut hashes = s
            .store
            .password_hashes(&user.id, policy.history().saturating_sub(1))
            .await?;
        hashes.truncate(policy.history());
        if matches_any(s, hashes, password).await? {
            return Ok(Err(policy.history_violation()));
        }
    }
    if let Some(days) = policy.password_age_days() {
        let since =
            now_ms().saturating_sub(i64::try_from(days).unwrap_or(0).saturating_mul(86_400_000));
        let hashes = s.store.password_hashes_since(&user.id, since).await?;
        if matches_any(s, hashes, password).await? {
            return Ok(Err(policy.age_violation()));
        }
    }
    Ok(Ok(()))
}

/// Whether `password` is the one behind any of these stored hashes (each verified on the
/// hashing slots; unreadable hashes are skipped).
async fn matches_any(
    s: &AppState,
    hashes: Vec<portcullis_store::StoredHash>,
    password: &str,
) -> Result<bool> {
    for h in hashes {
        let Ok(hash) = PasswordHash::from_keycloak(&h.secret_data, &h.credential_data) else {
            continue;
        };
        let candidate = zeroize::Zeroizing::new(password.to_owned());
        let same = s
            .hashing
            .run(move || hash.verify(&candidate))
            .await
            .context("password reuse check")?;
        if same {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the realm's `forceExpiredPasswordChange` says the user's password must be changed
/// now.
pub async fn password_expired(
    s: &AppState,
    realm: &RealmRecord,
    user: &UserRecord,
) -> Result<bool> {
    let Ok(policy) = PasswordPolicy::parse(realm.password_policy()) else {
        return Ok(false);
    };
    if policy.force_expired_change_days().is_none() {
        return Ok(false);
    }
    Ok(match s.store.password_created(&user.id).await? {
        Some(created) => policy.password_expired(created, crate::clock::now_ms()),
        None => false,
    })
}

/// Which previous passwords to keep for the realm's `passwordHistory(n)` (the newest n - 1)
/// and `passwordAge(days)` (those set within the days).
pub fn history_to_keep(realm: &RealmRecord) -> HistoryKeep {
    match PasswordPolicy::parse(realm.password_policy()) {
        Ok(p) => HistoryKeep {
            newest: p.history().saturating_sub(1),
            since_ms: p.password_age_days().map(|d| {
                now_ms().saturating_sub(i64::try_from(d).unwrap_or(0).saturating_mul(86_400_000))
            }),
        },
        Err(_) => HistoryKeep::default(),
    }
}

/// Hash `password` for `user_id` with the realm's hashing policy, on the hashing slots.
pub async fn hash_password(
    s: &AppState,
    realm: &RealmRecord,
    user_id: &str,
    password: &str,
) -> Result<CredentialRecord> {
    let policy = HashPolicy::parse(realm.password_policy()).unwrap_or_default();
    let mut cred = CredentialRecord {
        id: new_id(),
        user_id: user_id.to_owned(),
        type_: "password".into(),
        user_label: None,
        created_date: now_ms(),
        priority: 10,
        secret: CredentialSecret::Plain(zeroize::Zeroizing::new(password.to_owned())),
    };
    Ok(s.hashing
        .run(move || cred.hash_if_plain(&policy).map(|_| cred))
        .await
        .context("password hashing task")??)
}

/// The first problem of a new password and its confirmation, in Keycloak's words.
pub(crate) fn password_problem(new: &str, confirm: &str) -> Option<&'static str> {
    if new.is_empty() {
        Some("Please specify password.")
    } else if new.len() > MAX_PASSWORD_BYTES {
        Some("Invalid password: maximum length exceeded.")
    } else if new != confirm {
        Some("Passwords don't match.")
    } else {
        None
    }
}

// ------------------------------------------------------------------- required actions

/// GET or POST `/realms/{realm}/login-actions/required-action`: show (GET) or submit (POST)
/// the current required action of a login or mail-link flow.
pub async fn required_action(
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
    match required_action_inner(&s, &fe, &realm, &method, &query, &headers, &body, ip).await {
        Ok(r) => r,
        Err(e) => internal_any(e),
    }
}

#[allow(clippy::too_many_arguments)]
async fn required_action_inner(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    method: &Method,
    query: &Params,
    headers: &HeaderMap,
    body: &[u8],
    ip: Option<String>,
) -> Result<Response> {
    let flow = match load_flow(s, fe, realm, headers, query).await? {
        Ok(f) => f,
        Err(resp) => return Ok(resp),
    };
    let Some(user_id) = flow.row.user_id.clone() else {
        return Ok(error_page(s, fe, EXPIRED_LOGIN));
    };
    let Some(user) = s.store.user_by_id(&realm.id, &user_id).await? else {
        return Ok(error_page(s, fe, EXPIRED_LOGIN));
    };
    if !user.enabled {
        return Ok(error_page(s, fe, EXPIRED_LOGIN));
    }
    if method != Method::POST {
        return next_step(s, fe, realm, &flow, &user, ip, false).await;
    }
    let form = match http::form(headers, body) {
        Ok(f) => f,
        Err(_) => return Ok(error_page(s, fe, "Invalid Request")),
    };
    if !csrf_ok(&flow.row, &form) {
        return Ok(error_page(s, fe, EXPIRED_LOGIN));
    }
    if flow.otp_pending() {
        return submit_otp(s, fe, realm, &flow, &user, &form, ip).await;
    }
    let actions = pending_actions(s, realm, &flow, &user).await?;
    let Some(current) = actions.first() else {
        return finish(s, fe, realm, &flow, &user, ip).await;
    };
    match current.as_str() {
        UPDATE_PASSWORD => submit_password(s, fe, realm, &flow, user, &form, ip).await,
        UPDATE_PROFILE => submit_profile(s, fe, realm, &flow, user, &form, ip).await,
        CONFIGURE_TOTP => submit_totp(s, fe, realm, &flow, user, &form, ip).await,
        VERIFY_EMAIL => {
            let message = if form.one("resend").ok().flatten().is_some() {
                if send_verify_mail(s, fe, realm, &flow, &user, ip.as_deref()).await? {
                    None
                } else {
                    Some(EMAIL_SEND_ERROR)
                }
            } else {
                None
            };
            Ok(verify_email_page(s, fe, realm, &flow, &user, message))
        }
        _ => next_step(s, fe, realm, &flow, &user, ip, false).await,
    }
}

async fn submit_password(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    user: UserRecord,
    form: &Params,
    ip: Option<String>,
) -> Result<Response> {
    let new = form.one("password-new").ok().flatten().unwrap_or("");
    let confirm = form.one("password-confirm").ok().flatten().unwrap_or("");
    if let Some(message) = password_problem(new, confirm) {
        return Ok(update_password_page(s, fe, realm, flow, Some(message)));
    }
    if let Err(v) = check_new_password(s, realm, &user, new).await? {
        return Ok(update_password_page(s, fe, realm, flow, Some(&v.message())));
    }
    let cred = hash_password(s, realm, &user.id, new).await?;
    s.store
        .change_password(&realm.id, &cred, history_to_keep(realm), false)
        .await?;
    events::emit(
        s,
        realm,
        flow_event(EventType::UpdatePassword, flow, &user, ip.as_deref()),
    )
    .await;
    if flow.kind() != KIND_LOGIN {
        // A password set from a mail link ends the user's sessions everywhere, as Keycloak
        // does after a credential reset.
        s.store
            .delete_user_sessions_of_user(&realm.id, &user.id)
            .await?;
    }
    s.store
        .finish_flow_action(&flow.row.id, UPDATE_PASSWORD)
        .await?;
    s.caches.invalidate_user(&user.id);
    let flow = reload(s, flow).await?;
    next_step(s, fe, realm, &flow, &user, ip, true).await
}

/// The flow with its extra state read again (after a step changed it).
async fn reload(s: &AppState, flow: &Flow) -> Result<Flow> {
    Ok(Flow {
        row: flow.row.clone(),
        login: flow.login.clone(),
        client: flow.client.clone(),
        tab_id: flow.tab_id.clone(),
        extra: s.store.login_flow(&flow.row.id).await?,
    })
}

/// Validate the profile form (Keycloak's messages); the cleaned values or the message.
/// Validate a profile (Keycloak's messages, shared with the account console); the cleaned
/// username (when it may change) and email, or the field and message of the first problem.
pub(crate) fn validate_profile(
    p: &Profile,
    with_username: bool,
) -> std::result::Result<(Option<String>, String), (&'static str, &'static str)> {
    let username = if with_username {
        if p.username.is_empty() {
            return Err(("username", "Please specify username."));
        }
        Some(
            crate::admin::repr::username(Some(&p.username))
                .map_err(|_| ("username", "Invalid username."))?,
        )
    } else {
        None
    };
    if p.email.is_empty() {
        return Err(("email", "Please specify email."));
    }
    let email = match crate::admin::repr::email(Some(&p.email)) {
        Ok(Some(e)) if e.parse::<lettre::Address>().is_ok() => e,
        _ => return Err(("email", "Invalid email address.")),
    };
    if p.first_name.is_empty() {
        return Err(("firstName", "Please specify first name."));
    }
    if p.last_name.is_empty() {
        return Err(("lastName", "Please specify last name."));
    }
    if p.first_name.chars().count() > 255 {
        return Err(("firstName", "Invalid length."));
    }
    if p.last_name.chars().count() > 255 {
        return Err(("lastName", "Invalid length."));
    }
    Ok((username, email))
}

async fn submit_profile(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    user: UserRecord,
    form: &Params,
    ip: Option<String>,
) -> Result<Response> {
    let p = profile_from(form);
    let edit_username = realm.settings.edit_username_allowed.unwrap_or(false)
        && !realm
            .settings
            .registration_email_as_username
            .unwrap_or(false);
    let (username, email) = match validate_profile(&p, edit_username) {
        Ok(v) => v,
        Err((_, message)) => {
            return Ok(update_profile_page(s, fe, realm, flow, &p, Some(message)));
        }
    };
    let mut updated = user.clone();
    if let Some(u) = username {
        updated.username = u;
    }
    if realm
        .settings
        .registration_email_as_username
        .unwrap_or(false)
    {
        updated.username = email.clone();
    }
    if user.email.as_deref() != Some(email.as_str()) {
        updated.email_verified = false;
    }
    updated.email = Some(email);
    updated.first_name = Some(p.first_name.clone());
    updated.last_name = Some(p.last_name.clone());
    let remaining: Vec<String> = s
        .store
        .required_actions(&user.id)
        .await?
        .into_iter()
        .filter(|a| !a.eq_ignore_ascii_case(UPDATE_PROFILE))
        .collect();
    match s
        .store
        .update_user(
            &updated,
            None,
            Some(&remaining),
            !realm.duplicate_emails_allowed(),
        )
        .await?
    {
        Ok(()) => {}
        Err(UserConflict::Username) => {
            return Ok(update_profile_page(
                s,
                fe,
                realm,
                flow,
                &p,
                Some("Username already exists."),
            ));
        }
        Err(UserConflict::Email) => {
            return Ok(update_profile_page(
                s,
                fe,
                realm,
                flow,
                &p,
                Some("Email already exists."),
            ));
        }
    }
    let mut event = flow_event(EventType::UpdateProfile, flow, &user, ip.as_deref());
    if user.email != updated.email {
        event = event
            .detail("previous_email", user.email.clone().unwrap_or_default())
            .detail("updated_email", updated.email.clone().unwrap_or_default());
    }
    events::emit(s, realm, event).await;
    s.store
        .finish_flow_action(&flow.row.id, UPDATE_PROFILE)
        .await?;
    s.caches.invalidate_user(&user.id);
    let flow = reload(s, flow).await?;
    next_step(s, fe, realm, &flow, &updated, ip, true).await
}

// ------------------------------------------------------------------- one-time codes

/// The realm's OTP policy.
pub fn otp_policy(realm: &RealmRecord) -> OtpPolicy {
    let r = &realm.settings;
    OtpPolicy::from_settings(
        r.otp_policy_algorithm.as_deref(),
        r.otp_policy_digits,
        r.otp_policy_period,
        r.otp_policy_look_ahead_window,
    )
}

/// The user's TOTP credentials (policy and key each).
pub async fn otp_keys(s: &AppState, user_id: &str) -> Result<Vec<(OtpPolicy, Vec<u8>)>> {
    Ok(s.store
        .credentials(user_id)
        .await?
        .into_iter()
        .filter(|c| c.type_ == "otp")
        .filter_map(|c| match c.secret {
            CredentialSecret::Stored {
                secret_data,
                credential_data,
            } => totp::from_credential(&secret_data, &credential_data),
            CredentialSecret::Plain(_) => None,
        })
        .collect())
}

/// Seconds since the epoch on the clock of security decisions (`crate::clock`), for codes.
pub(crate) fn otp_clock_s() -> u64 {
    u64::try_from(crate::clock::now_ms().div_euclid(1000)).unwrap_or(0)
}

/// Whether `code` is valid now for one of the user's TOTP credentials (with the realm's
/// look-ahead window). Unless the realm's `otpPolicyCodeReusable` says otherwise (Keycloak's
/// default is false), a code works once: it is marked used, with the single-use marks of the
/// mail links, until no window accepts it any more.
pub async fn otp_valid(
    s: &AppState,
    realm: &RealmRecord,
    user_id: &str,
    code: &str,
) -> Result<bool> {
    let window = otp_policy(realm).look_ahead;
    let now = otp_clock_s();
    let Some(period) = otp_keys(s, user_id)
        .await?
        .into_iter()
        .find_map(|(p, key)| {
            let p = OtpPolicy {
                look_ahead: window,
                ..p
            };
            totp::verify(&p, &key, code, now).then_some(p.period)
        })
    else {
        return Ok(false);
    };
    spend_otp_code(s, realm, user_id, code, period).await
}

/// Spend an accepted code: true the first time, false when it was used already (unless the
/// realm's `otpPolicyCodeReusable`). The mark lasts as long as any window accepts the code.
pub(crate) async fn spend_otp_code(
    s: &AppState,
    realm: &RealmRecord,
    user_id: &str,
    code: &str,
    period: u64,
) -> Result<bool> {
    if realm.settings.otp_policy_code_reusable.unwrap_or(false) {
        return Ok(true);
    }
    let window = otp_policy(realm).look_ahead;
    let lasts_ms = period
        .saturating_mul(window.saturating_mul(2).saturating_add(1))
        .saturating_mul(1000);
    let until = crate::clock::now_ms().saturating_add(i64::try_from(lasts_ms).unwrap_or(i64::MAX));
    let mark = sha256_b64(&format!("otp-used.{user_id}.{}", code.trim()));
    Ok(s.store.use_action_token(&realm.id, &mark, until).await?)
}

fn otp_page(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    message: Option<&str>,
) -> Response {
    let html = s.themes.render(
        "login-otp.html",
        context! {
            realm_display_name => realm_display_name(realm),
            login_action => flow.action_url(fe),
            csrf_token => flow.row.csrf_token.as_str(),
            message => message,
        },
    );
    http::page(StatusCode::OK, html, fe.https)
}

async fn submit_otp(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    user: &UserRecord,
    form: &Params,
    ip: Option<String>,
) -> Result<Response> {
    let code = form.one("otp").ok().flatten().unwrap_or("");
    // A locked user gets the wrong-code answer whatever the code (failures while locked are
    // not counted, as with passwords).
    let locked = crate::oidc::brute_force::locked(s, realm, user).await?;
    if locked || !otp_valid(s, realm, &user.id, code).await? {
        // A wrong code counts as a failed login, for brute-force detection too.
        if !locked {
            crate::oidc::brute_force::record_failure(s, realm, user, ip.as_deref()).await?;
        }
        let event = flow_event(EventType::Login, flow, user, ip.as_deref())
            .detail("username", user.username.as_str())
            .detail("auth_method", "openid-connect")
            .error(if locked {
                "user_temporarily_disabled"
            } else {
                "invalid_user_credentials"
            });
        events::emit(s, realm, event).await;
        return Ok(otp_page(s, fe, realm, flow, Some(INVALID_OTP)));
    }
    let Some(extra) = &flow.extra else {
        return Ok(error_page(s, fe, EXPIRED_LOGIN));
    };
    let opened = LoginFlowRecord {
        kind: flow.kind().to_owned(),
        ..extra.clone()
    };
    if !s
        .store
        .attach_login_flow(&flow.row.id, &user.id, &opened)
        .await?
    {
        return Ok(error_page(s, fe, EXPIRED_LOGIN));
    }
    let flow = reload(s, flow).await?;
    next_step(s, fe, realm, &flow, user, ip, true).await
}

/// What a TOTP set-up shows for a new key: the secret (plain and in groups of four), the
/// `otpauth://` QR code as SVG, the policy in words. Shared by `CONFIGURE_TOTP` and the
/// account console.
pub struct TotpSetup {
    pub secret: String,
    pub secret_spaced: String,
    /// The QR code of the `otpauth://` URI, an `<svg>` element (empty if it could not be made).
    pub qr_svg: String,
    pub policy_text: String,
}

impl TotpSetup {
    /// The QR code as a `data:` URI (for an `<img>`).
    pub fn qr_data_uri(&self) -> String {
        if self.qr_svg.is_empty() {
            return String::new();
        }
        format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&self.qr_svg)
        )
    }
}

/// The set-up of `key` for `username` under the realm's OTP policy.
pub fn totp_setup(realm: &RealmRecord, username: &str, key: &[u8]) -> TotpSetup {
    let policy = otp_policy(realm);
    let secret = totp::base32(key);
    let uri = totp::otpauth_uri(&policy, &realm_display_name(realm), username, key);
    let qr_svg = match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .build();
            // The element only (the renderer starts with an XML declaration).
            svg.find("<svg")
                .map(|i| svg[i..].to_owned())
                .unwrap_or_default()
        }
        Err(_) => String::new(),
    };
    let secret_spaced = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    TotpSetup {
        secret,
        secret_spaced,
        qr_svg,
        policy_text: format!(
            "{} digits, every {} seconds, {}",
            policy.digits, policy.period, policy.algorithm
        ),
    }
}

/// The outcome of a TOTP set-up submission.
#[derive(Debug, PartialEq)]
pub enum TotpSetupCheck {
    /// The secret is not one we could have shown (not base32, wrong size).
    BadSecret,
    /// The code is missing or wrong (Keycloak's message); the key to show again.
    Refused(Vec<u8>, &'static str),
    /// The code proves the app holds the key.
    Accepted(Vec<u8>),
}

/// Check a TOTP set-up: the secret shown (base32) and the code the app computed, at `now`
/// (seconds).
pub fn check_totp_setup(policy: &OtpPolicy, secret: &str, code: &str, now: u64) -> TotpSetupCheck {
    let key = match totp::base32_decode(secret) {
        Some(k) if (16..=64).contains(&k.len()) => k,
        _ => return TotpSetupCheck::BadSecret,
    };
    let code = code.trim();
    if code.is_empty() {
        TotpSetupCheck::Refused(key, "Please specify authenticator code.")
    } else if !totp::verify(policy, &key, code, now) {
        TotpSetupCheck::Refused(key, INVALID_OTP)
    } else {
        TotpSetupCheck::Accepted(key)
    }
}

/// A new OTP credential of `key` under `policy` (label trimmed, at most 255 characters).
pub fn otp_credential(
    user_id: &str,
    policy: &OtpPolicy,
    key: &[u8],
    label: &str,
) -> CredentialRecord {
    let label: String = label.trim().chars().take(255).collect();
    let (secret_data, credential_data) = totp::credential_json(policy, key);
    CredentialRecord {
        id: new_id(),
        user_id: user_id.to_owned(),
        type_: "otp".into(),
        user_label: (!label.is_empty()).then_some(label),
        created_date: now_ms(),
        priority: 20,
        secret: CredentialSecret::Stored {
            secret_data,
            credential_data,
        },
    }
}

/// The set-up page of a new TOTP credential. The secret travels in the form (bound to this
/// login by the CSRF value), as in Keycloak; it is stored only once a code proves the app has
/// it.
fn config_totp_page(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    user: &UserRecord,
    key: Option<Vec<u8>>,
    message: Option<&str>,
) -> Response {
    let key = key.unwrap_or_else(totp::new_secret);
    let setup = totp_setup(realm, &user.username, &key);
    let html = s.themes.render(
        "login-config-totp.html",
        context! {
            realm_display_name => realm_display_name(realm),
            login_action => flow.action_url(fe),
            csrf_token => flow.row.csrf_token.as_str(),
            message => message,
            qr_data_uri => setup.qr_data_uri(),
            secret => setup.secret,
            secret_spaced => setup.secret_spaced,
            policy_text => setup.policy_text,
        },
    );
    http::page(StatusCode::OK, html, fe.https)
}

async fn submit_totp(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    flow: &Flow,
    user: UserRecord,
    form: &Params,
    ip: Option<String>,
) -> Result<Response> {
    let secret = form.one("totpSecret").ok().flatten().unwrap_or("");
    let code = form.one("totp").ok().flatten().unwrap_or("");
    let label = form.one("userLabel").ok().flatten().unwrap_or("");
    let policy = otp_policy(realm);
    let key = match check_totp_setup(&policy, secret, code, otp_clock_s()) {
        TotpSetupCheck::BadSecret => return Ok(error_page(s, fe, "Invalid Request")),
        TotpSetupCheck::Refused(key, message) => {
            return Ok(config_totp_page(
                s,
                fe,
                realm,
                flow,
                &user,
                Some(key),
                Some(message),
            ));
        }
        TotpSetupCheck::Accepted(key) => key,
    };
    // The code that proved the set-up is spent: it cannot also pass the next login's step.
    spend_otp_code(s, realm, &user.id, code, policy.period).await?;
    let cred = otp_credential(&user.id, &policy, &key, label);
    s.store.add_otp_credential(&realm.id, &cred).await?;
    events::emit(
        s,
        realm,
        flow_event(EventType::UpdateTotp, flow, &user, ip.as_deref()),
    )
    .await;
    s.store
        .finish_flow_action(&flow.row.id, CONFIGURE_TOTP)
        .await?;
    s.caches.invalidate_user(&user.id);
    let flow = reload(s, flow).await?;
    next_step(s, fe, realm, &flow, &user, ip, true).await
}

// ------------------------------------------------------------------- forgot password

fn reset_page(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    p: &Pending,
    username: &str,
    message: Option<&str>,
) -> Response {
    let html = s.themes.render(
        "login-reset-password.html",
        context! {
            realm_display_name => realm_display_name(realm),
            login_action => fe.login_action("reset-credentials", &p.client.client_id, &p.tab_id),
            login_url => fe.login_action("authenticate", &p.client.client_id, &p.tab_id),
            csrf_token => p.row.csrf_token.as_str(),
            username => username,
            message => message,
            login_with_email_allowed => realm.login_with_email_allowed(),
        },
    );
    http::page(StatusCode::OK, html, fe.https)
}

/// GET or POST `/realms/{realm}/login-actions/reset-credentials`: the "forgot password" form
/// of a login in progress.
pub async fn reset_credentials(
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
    match reset_inner(&s, &fe, &realm, &method, &query, &headers, &body, ip).await {
        Ok(r) => r,
        Err(e) => internal_any(e),
    }
}

#[allow(clippy::too_many_arguments)]
async fn reset_inner(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    method: &Method,
    query: &Params,
    headers: &HeaderMap,
    body: &[u8],
    ip: Option<String>,
) -> Result<Response> {
    if !realm.settings.reset_password_allowed.unwrap_or(false) {
        return Ok(error_page(s, fe, "Reset password is not allowed."));
    }
    let p = match authorize::pending(s, fe, realm, headers, query).await? {
        Ok(p) => p,
        Err(resp) => return Ok(resp),
    };
    if method != Method::POST {
        return Ok(reset_page(s, fe, realm, &p, "", None));
    }
    let form = match http::form(headers, body) {
        Ok(f) => f,
        Err(_) => return Ok(error_page(s, fe, "Invalid Request")),
    };
    if !csrf_ok(&p.row, &form) {
        return Ok(error_page(s, fe, EXPIRED_LOGIN));
    }
    let login: String = form
        .one("username")
        .ok()
        .flatten()
        .unwrap_or("")
        .trim()
        .chars()
        .take(255)
        .collect();
    if login.is_empty() {
        return Ok(reset_page(
            s,
            fe,
            realm,
            &p,
            "",
            Some("Please specify username."),
        ));
    }
    // The same page follows whether or not the account exists; the mail goes out in the
    // background so the answer takes the same time either way.
    let mut user = s.store.find_user_by_username(&realm.id, &login).await?;
    if user.is_none() && login.contains('@') {
        let found = s.store.find_user_by_email(&realm.id, &login).await?;
        if found.len() == 1 {
            user = found.into_iter().next();
        }
    }
    let usable = user
        .as_ref()
        .filter(|u| u.enabled && u.service_account_client_id.is_none() && u.email.is_some());
    let event = Event::new(EventType::SendResetPassword)
        .client(&p.client.client_id)
        .ip(ip.as_deref())
        .detail("username", login.as_str());
    let event = match usable {
        Some(u) => event
            .user(&u.id)
            .detail("email", u.email.clone().unwrap_or_default()),
        None => event.error("user_not_found"),
    };
    events::emit(s, realm, event).await;
    match user {
        Some(u) if u.enabled && u.service_account_client_id.is_none() && u.email.is_some() => {
            // Signing, rendering and sending all happen off the request path.
            let (s, realm) = (s.clone(), realm.clone());
            let issuer = fe.urls.issuer.clone();
            let (client_id, tab_id) = (p.client.client_id.clone(), p.tab_id.clone());
            let bg = s.background.clone();
            let realm_name = realm.name.clone();
            let queued = bg.spawn(async move {
                if let Err(e) = send_reset_mail(&s, &realm, &issuer, &u, &client_id, &tab_id).await
                {
                    tracing::warn!(realm = %realm.name, error = %e, "password reset mail not sent");
                }
            });
            if !queued {
                tracing::warn!(realm = %realm_name, "password reset mail not sent: too many mails in flight");
            }
        }
        _ => tracing::debug!(realm = %realm.name, "password reset asked for no usable account"),
    }
    Ok(authorize::login_page_with(
        s,
        fe,
        realm,
        &p,
        "",
        Some(EMAIL_SENT),
        "success",
    ))
}

/// Make, render and send the "forgot password" mail of `u` (runs in the background).
async fn send_reset_mail(
    s: &AppState,
    realm: &RealmRecord,
    issuer: &str,
    u: &UserRecord,
    client_id: &str,
    tab_id: &str,
) -> Result<()> {
    let (Some(email), Some(settings)) = (u.email.as_deref(), smtp_of(realm)) else {
        return Ok(());
    };
    let lifespan = action_token::lifespan(realm, action_token::RESET_CREDENTIALS, false);
    let token = ActionToken {
        jti: new_id(),
        typ: action_token::RESET_CREDENTIALS.to_owned(),
        sub: u.id.clone(),
        exp: now_s() + lifespan,
        azp: Some(client_id.to_owned()),
        email: None,
        actions: Vec::new(),
        redirect_uri: None,
        password_stamp: Some(action_token::password_stamp(s, &u.id).await?),
    };
    let key = action_token::issue(s, realm, issuer, &token).await?;
    let link = action_token::link(issuer, &key, Some(client_id), Some(tab_id));
    let m = mail::render(
        s,
        realm,
        MailKind::PasswordReset,
        email,
        &link,
        lifespan,
        &[],
    )?;
    mail::send_logged(&settings, &realm.name, &m).await;
    Ok(())
}

// ------------------------------------------------------------------- registration

/// GET or POST `/realms/{realm}/login-actions/registration`: self-registration from a login
/// in progress (realm `registrationAllowed`).
pub async fn registration(
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
    match registration_inner(&s, &fe, &realm, &method, &query, &headers, &body, ip).await {
        Ok(r) => r,
        Err(e) => internal_any(e),
    }
}

fn register_page(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    p: &Pending,
    form: &Profile,
    message: Option<&str>,
) -> Response {
    let html = s.themes.render(
        "register.html",
        context! {
            realm_display_name => realm_display_name(realm),
            login_action => fe.login_action("registration", &p.client.client_id, &p.tab_id),
            login_url => fe.login_action("authenticate", &p.client.client_id, &p.tab_id),
            csrf_token => p.row.csrf_token.as_str(),
            form => form.value(),
            message => message,
            email_as_username => realm.settings.registration_email_as_username.unwrap_or(false),
        },
    );
    http::page(StatusCode::OK, html, fe.https)
}

#[allow(clippy::too_many_arguments)]
async fn registration_inner(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    method: &Method,
    query: &Params,
    headers: &HeaderMap,
    body: &[u8],
    ip: Option<String>,
) -> Result<Response> {
    if !realm.settings.registration_allowed.unwrap_or(false) {
        return Ok(error_page(s, fe, "Registration not allowed"));
    }
    let p = match authorize::pending(s, fe, realm, headers, query).await? {
        Ok(p) => p,
        Err(resp) => return Ok(resp),
    };
    if method != Method::POST {
        return Ok(register_page(s, fe, realm, &p, &Profile::default(), None));
    }
    let form = match http::form(headers, body) {
        Ok(f) => f,
        Err(_) => return Ok(error_page(s, fe, "Invalid Request")),
    };
    if !csrf_ok(&p.row, &form) {
        return Ok(error_page(s, fe, EXPIRED_LOGIN));
    }
    let email_as_username = realm
        .settings
        .registration_email_as_username
        .unwrap_or(false);
    let profile = profile_from(&form);
    let again = |message: &str| Ok(register_page(s, fe, realm, &p, &profile, Some(message)));
    let (username, email) = match validate_profile(&profile, !email_as_username) {
        Ok(v) => v,
        Err((_, message)) => return again(message),
    };
    let username = username.unwrap_or_else(|| email.clone());
    let password = form.one("password").ok().flatten().unwrap_or("");
    let confirm = form.one("password-confirm").ok().flatten().unwrap_or("");
    if let Some(message) = password_problem(password, confirm) {
        return again(message);
    }
    let mut user = UserRecord {
        id: new_id(),
        realm_id: realm.id.clone(),
        username,
        email: Some(email),
        first_name: Some(profile.first_name.clone()),
        last_name: Some(profile.last_name.clone()),
        enabled: true,
        email_verified: false,
        created_timestamp: now_ms(),
        not_before: 0,
        federation_link: None,
        service_account_client_id: None,
    };
    if let Err(v) = check_new_password(s, realm, &user, password).await? {
        return again(&v.message());
    }
    let taken = if email_as_username {
        "Email already exists."
    } else {
        "Username already exists."
    };
    if s.store
        .find_user_by_username(&realm.id, &user.username)
        .await?
        .is_some()
    {
        return again(taken);
    }
    let cred = hash_password(s, realm, &user.id, password).await?;
    let image = UserImage {
        user: user.clone(),
        attributes: Vec::new(),
        required_actions: Vec::new(),
        credentials: vec![cred],
        group_ids: s.store.default_group_ids(&realm.id).await?,
        role_ids: vec![realm.default_role_id.clone()],
    };
    match s
        .store
        .create_user(&image, !realm.duplicate_emails_allowed())
        .await?
    {
        Ok(()) => {}
        Err(UserConflict::Username) => return again(taken),
        Err(UserConflict::Email) => return again("Email already exists."),
    }
    tracing::info!(realm = %realm.name, user = %user.id, "user registered");
    let event = Event::new(EventType::Register)
        .client(&p.client.client_id)
        .user(&user.id)
        .ip(ip.as_deref())
        .detail("username", user.username.as_str())
        .detail("email", user.email.clone().unwrap_or_default())
        .detail("register_method", "form")
        .detail("redirect_uri", p.req.redirect_uri.as_str());
    events::emit(s, realm, event).await;
    user.email_verified = false;
    after_login(s, fe, realm, &p, &user, ip).await
}

// ------------------------------------------------------------------- mail links

/// GET `/realms/{realm}/login-actions/action-token?key=...`: a link from a mail.
pub async fn action_token(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let fe = Frontend::new(&s, &headers, &realm);
    let realm = match enabled_realm(&s, &realm).await {
        Ok(r) => r,
        Err(_) => return error_page(&s, &fe, "Realm does not exist"),
    };
    let query = Params::parse(query.unwrap_or_default().as_bytes());
    let ip = http::client_address(&s, &headers).or_else(|| Some(peer.ip().to_string()));
    match action_token_inner(&s, &fe, &realm, &query, &headers, ip).await {
        Ok(r) => r,
        Err(e) => internal_any(e),
    }
}

/// The login of this browser tab that a link may continue: same client, same (or no) user.
async fn browser_login(
    s: &AppState,
    realm: &RealmRecord,
    headers: &HeaderMap,
    query: &Params,
    client: &ClientRecord,
    user_id: &str,
) -> Result<Option<Pending>> {
    let (Some(root), Ok(Some(tab_id))) = (
        http::read_cookie(headers, AUTH_SESSION_COOKIE),
        query.one("tab_id"),
    ) else {
        return Ok(None);
    };
    let id = sha256_b64(&format!("{root}.{tab_id}"));
    let Some(row) = s.store.auth_session(&id, now_ms()).await? else {
        return Ok(None);
    };
    if row.realm_id != realm.id
        || row.client_id != client.id
        || row.user_id.as_deref().is_some_and(|u| u != user_id)
    {
        return Ok(None);
    }
    let Ok(req) = serde_json::from_str::<AuthRequest>(&row.request) else {
        return Ok(None);
    };
    Ok(Some(Pending {
        row,
        req,
        client: client.clone(),
        tab_id: tab_id.to_owned(),
    }))
}

async fn action_token_inner(
    s: &AppState,
    fe: &Frontend,
    realm: &RealmRecord,
    query: &Params,
    headers: &HeaderMap,
    ip: Option<String>,
) -> Result<Response> {
    let Ok(Some(key)) = query.one("key") else {
        return Ok(error_page(s, fe, INVALID_LINK));
    };
    let t = match action_token::verify(s, realm, &fe.urls.issuer, key).await? {
        Checked::Valid(t) => t,
        Checked::Expired => return Ok(error_page(s, fe, EXPIRED_ACTION)),
        Checked::Invalid => {
            tracing::debug!(realm = %realm.name, "action token refused: invalid");
            return Ok(error_page(s, fe, INVALID_LINK));
        }
    };
    let Some(user) = s.store.user_by_id(&realm.id, &t.sub).await? else {
        return Ok(error_page(s, fe, INVALID_LINK));
    };
    if !user.enabled {
        return Ok(error_page(s, fe, INVALID_LINK));
    }
    if t.typ == action_token::VERIFY_EMAIL
        && !matches!((&t.email, &user.email), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
    {
        return Ok(error_page(s, fe, INVALID_LINK));
    }
    let client_id = t
        .azp
        .clone()
        .unwrap_or_else(|| portcullis_model::defaults::ACCOUNT_CLIENT.to_owned());
    let client = match s.caches.client(&s.store, &realm.id, &client_id).await? {
        Some(c) if c.enabled() => c,
        _ => return Ok(error_page(s, fe, INVALID_LINK)),
    };
    // Single use: the insert decides, so a replayed link (even a concurrent one) changes
    // nothing.
    if !s
        .store
        .use_action_token(&realm.id, &t.jti, t.exp.saturating_mul(1000))
        .await?
    {
        return Ok(error_page(s, fe, EXPIRED_ACTION));
    }
    let login = browser_login(s, realm, headers, query, &client, &user.id).await?;
    let mut user = user;
    let (kind, mut actions, redirect_uri, login) = match t.typ.as_str() {
        action_token::VERIFY_EMAIL => {
            let email = t.email.clone().unwrap_or_default();
            if !s.store.verify_email(&realm.id, &user.id, &email).await? {
                return Ok(error_page(s, fe, INVALID_LINK));
            }
            s.caches.invalidate_user(&user.id);
            user.email_verified = true;
            let event = Event::new(EventType::VerifyEmail)
                .client(&client.client_id)
                .user(&user.id)
                .ip(ip.as_deref())
                .detail("email", email.as_str());
            events::emit(s, realm, event).await;
            let Some(p) = login else {
                // Sent by an administrator with a redirect URI: go there.
                if let Some(uri) = t.redirect_uri.as_deref() {
                    return Ok(
                        redirect(uri).unwrap_or_else(|| error_page(s, fe, "Invalid redirect uri."))
                    );
                }
                return Ok(info_page(s, fe, realm, EMAIL_VERIFIED, None));
            };
            // Continue the login of this tab.
            (KIND_LOGIN, Vec::new(), None, Some(p))
        }
        action_token::RESET_CREDENTIALS => {
            (KIND_RESET, vec![UPDATE_PASSWORD.to_owned()], None, login)
        }
        _ => {
            let event = Event::new(EventType::ExecuteActionToken)
                .client(&client.client_id)
                .user(&user.id)
                .ip(ip.as_deref())
                .detail("action", t.typ.as_str());
            events::emit(s, realm, event).await;
            let mut actions: Vec<String> = t.actions.iter().map(|a| canonical(a)).collect();
            // The link itself proves the address works.
            if actions.iter().any(|a| a == VERIFY_EMAIL)
                && let Some(email) = user.email.clone()
                && s.store.verify_email(&realm.id, &user.id, &email).await?
            {
                user.email_verified = true;
                s.caches.invalidate_user(&user.id);
                actions.retain(|a| a != VERIFY_EMAIL);
            }
            (KIND_EXECUTE, actions, t.redirect_uri.clone(), None)
        }
    };
    actions.dedup();
    let flow_row = LoginFlowRecord {
        auth_session_id: String::new(),
        actions,
        redirect_uri,
        kind: kind.to_owned(),
    };
    if let Some(p) = login {
        // Continuing a login signs the user in: a second factor the tab has not seen yet is
        // asked for first.
        let gate_open = match s.store.login_flow(&p.row.id).await? {
            Some(f) => !f.kind.starts_with(OTP_GATE) && p.row.user_id.is_some(),
            None => p.row.user_id.is_some(),
        };
        let kind = if !gate_open && !otp_keys(s, &user.id).await?.is_empty() {
            format!("{OTP_GATE}{}", flow_row.kind)
        } else {
            flow_row.kind.clone()
        };
        let flow_row = LoginFlowRecord {
            auth_session_id: p.row.id.clone(),
            kind,
            ..flow_row
        };
        if !s
            .store
            .attach_login_flow(&p.row.id, &user.id, &flow_row)
            .await?
        {
            return Ok(error_page(s, fe, EXPIRED_LOGIN));
        }
        let mut flow = Flow::from_pending(&p);
        flow.extra = Some(flow_row);
        return next_step(s, fe, realm, &flow, &user, ip, true).await;
    }
    // A flow of its own, in this browser.
    let root = http::read_cookie(headers, AUTH_SESSION_COOKIE)
        .filter(|v| v.len() >= 22 && v.len() <= 128)
        .unwrap_or_else(|| http::random_token(s, 32));
    let tab_id = http::random_token(s, 9);
    let now = now_ms();
    let row = AuthSessionRecord {
        id: sha256_b64(&format!("{root}.{tab_id}")),
        realm_id: realm.id.clone(),
        client_id: client.id.clone(),
        request: "{}".to_owned(),
        user_id: Some(user.id.clone()),
        csrf_token: http::random_token(s, 32),
        created: now,
        expires_at: now + LOGIN_LIFESPAN_S * 1000,
    };
    let flow_row = LoginFlowRecord {
        auth_session_id: row.id.clone(),
        ..flow_row
    };
    s.store.create_login_flow(&row, &flow_row).await?;
    let flow = Flow {
        row,
        login: None,
        client: (*client).clone(),
        tab_id,
        extra: Some(flow_row),
    };
    let mut resp = next_step(s, fe, realm, &flow, &user, ip, true).await?;
    fe.set_cookie(&mut resp, AUTH_SESSION_COOKIE, &root, None);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_setup_checks_secret_and_code() {
        let policy = OtpPolicy::from_settings(None, None, None, None);
        let key = vec![7u8; 20];
        let secret = totp::base32(&key);
        let now = 1_700_000_000;
        let good = totp::totp(&policy, &key, now);
        assert_eq!(
            check_totp_setup(&policy, &secret, &good, now),
            TotpSetupCheck::Accepted(key.clone())
        );
        assert_eq!(
            check_totp_setup(&policy, &secret, " ", now),
            TotpSetupCheck::Refused(key.clone(), "Please specify authenticator code.")
        );
        let wrong = if good == "000000" { "111111" } else { "000000" };
        assert_eq!(
            check_totp_setup(&policy, &secret, wrong, now),
            TotpSetupCheck::Refused(key, INVALID_OTP)
        );
        assert_eq!(
            check_totp_setup(&policy, "not base32!", &good, now),
            TotpSetupCheck::BadSecret
        );
        assert_eq!(
            check_totp_setup(&policy, &totp::base32(&[1u8; 4]), &good, now),
            TotpSetupCheck::BadSecret,
            "too short a key"
        );
        let cred = otp_credential("u", &policy, &[7u8; 20], "  Phone  ");
        assert_eq!(cred.user_label.as_deref(), Some("Phone"));
        assert_eq!(cred.type_, "otp");
        assert!(
            otp_credential("u", &policy, &[7u8; 20], " ")
                .user_label
                .is_none()
        );
    }
}
