//! Keycloak's account REST API under `/realms/{realm}/account` (ADR 0020): the signed-in
//! user's own profile, SSO sessions, applications and credentials.
//!
//! A caller presents `Authorization: Bearer <access token>` issued by the realm for the
//! `account-console` client (or any client whose token names the `account` audience). The
//! token is checked like UserInfo's ([`crate::oidc::issue::check_access_token`]: signature,
//! issuer, not revoked, SSO session alive, user enabled). Rights are the `account` client's
//! roles the user holds *now* ([`Rights`]): reads need `view-profile` (or `manage-account`),
//! writes need `manage-account`, as in Keycloak.
//!
//! Two endpoints Keycloak no longer has are served as extensions, so the account console can
//! act through this API alone: `POST credentials/password` (Keycloak's former
//! `PasswordUpdate` body) and `POST credentials/otp` (a TOTP secret with a code proving the
//! app holds it). The writes are the named functions [`update_profile`], [`change_password`],
//! [`add_totp`], [`remove_credential`] and [`end_sessions`].

use crate::admin::http::{self, Answer};
use crate::app::{AppState, enabled_realm};
use crate::error::{internal, internal_any};
use crate::events::{self, Event};
use crate::oidc::credentials::PasswordCheck;
use crate::oidc::http::now_ms;
use crate::oidc::{issue, lifecycle, logout};
use anyhow::Result;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use portcullis_model::defaults::{ACCOUNT_CLIENT, ACCOUNT_CONSOLE_CLIENT};
use portcullis_model::events::EventType;
use portcullis_model::records::{RealmRecord, UserRecord};
use portcullis_store::{LiveSince, SessionView, UserConflict};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// Longest bearer token looked at; ours are far shorter.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The `account` client's role names (Keycloak's `AccountRoles`) this API checks.
pub mod role {
    pub const VIEW_PROFILE: &str = "view-profile";
    pub const MANAGE_ACCOUNT: &str = "manage-account";
    pub const VIEW_APPLICATIONS: &str = "view-applications";
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read the profile, sessions, credentials.
    View,
    /// Read the applications list.
    ViewApplications,
    /// Change anything.
    Manage,
}

/// The caller's rights: the `account` client's roles held now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rights {
    pub view_profile: bool,
    pub manage_account: bool,
    pub view_applications: bool,
}

impl Rights {
    /// The rights of these `account` client role names.
    pub fn from_roles<'a>(names: impl IntoIterator<Item = &'a str>) -> Rights {
        let mut r = Rights::default();
        for n in names {
            match n {
                role::VIEW_PROFILE => r.view_profile = true,
                role::MANAGE_ACCOUNT => r.manage_account = true,
                role::VIEW_APPLICATIONS => r.view_applications = true,
                _ => {}
            }
        }
        r
    }

    /// Keycloak's rule: `manage-account` allows everything, the view roles their reads.
    pub fn allows(&self, need: Need) -> bool {
        match need {
            Need::View => self.view_profile || self.manage_account,
            Need::ViewApplications => self.view_applications || self.manage_account,
            Need::Manage => self.manage_account,
        }
    }
}

/// Whether a token was issued for this API: by `account-console`, or naming `account` in its
/// audience.
pub fn audience_ok(claims: &Value) -> bool {
    if claims.get("azp").and_then(Value::as_str) == Some(ACCOUNT_CONSOLE_CLIENT) {
        return true;
    }
    match claims.get("aud") {
        Some(Value::String(a)) => a == ACCOUNT_CLIENT,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(ACCOUNT_CLIENT)),
        _ => false,
    }
}

/// An authenticated caller of the account API.
pub struct Caller {
    pub realm: Arc<RealmRecord>,
    pub user: UserRecord,
    /// The SSO session of the token (the "current" session).
    pub sid: Option<String>,
    pub rights: Rights,
    /// The client the token was issued to (`clientId`), for events.
    pub client_id: String,
    /// The caller's address when a trusted proxy names it, for events.
    pub ip: Option<String>,
}

impl Caller {
    /// An event about the caller, from the caller's client and session.
    pub fn event(&self, kind: EventType) -> Event {
        let mut e = Event::new(kind)
            .client(&self.client_id)
            .user(&self.user.id)
            .ip(self.ip.as_deref());
        if let Some(sid) = &self.sid {
            e = e.session(sid);
        }
        e
    }
}

impl Caller {
    /// 403 unless the caller may do what `need` says.
    pub fn require(&self, need: Need) -> Result<(), Response> {
        if self.rights.allows(need) {
            Ok(())
        } else {
            Err(http::forbidden())
        }
    }
}

fn unauthorized() -> Response {
    let mut resp = http::unauthorized();
    resp.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    resp
}

/// Authenticate (401), find the realm (404), check `need` (403).
pub async fn caller(
    s: &AppState,
    headers: &HeaderMap,
    realm: &str,
    need: Need,
) -> Result<Caller, Response> {
    let realm = enabled_realm(s, realm).await?;
    let Some(token) = crate::oidc::http::bearer(headers).filter(|t| t.len() <= MAX_TOKEN_BYTES)
    else {
        return Err(unauthorized());
    };
    let keys = s.keys.get(&s.store, &realm).await.map_err(internal_any)?;
    let issuer = crate::oidc::urls(s, headers, &realm.name).issuer;
    let active = match issue::check_access_token(s, &realm, &keys, &issuer, token).await {
        Ok(Ok(a)) => a,
        Ok(Err(why)) => {
            tracing::debug!(realm = %realm.name, reason = ?why, "account API token refused");
            return Err(unauthorized());
        }
        Err(e) => return Err(internal_any(e)),
    };
    if !audience_ok(&active.claims) {
        tracing::debug!(realm = %realm.name, "account API token without the account audience");
        return Err(unauthorized());
    }
    let rights = rights_of(s, &realm, &active.user.id)
        .await
        .map_err(internal_any)?;
    let c = Caller {
        realm,
        sid: active.user_session.map(|us| us.id),
        user: active.user,
        rights,
        client_id: active.client.client_id.clone(),
        ip: crate::oidc::http::client_address(s, headers),
    };
    c.require(need)?;
    Ok(c)
}

/// The `account` client roles the user holds now (composites and groups included).
async fn rights_of(s: &AppState, realm: &RealmRecord, user_id: &str) -> Result<Rights> {
    let Some(account) = s.caches.client(&s.store, &realm.id, ACCOUNT_CLIENT).await? else {
        return Ok(Rights::default());
    };
    let source = s.caches.user_claims(&s.store, user_id).await?;
    Ok(Rights::from_roles(
        source
            .effective_roles
            .iter()
            .filter(|r| r.client_id.as_deref() == Some(account.id.as_str()))
            .map(|r| r.name.as_str()),
    ))
}

// ------------------------------------------------------------------------------ profile

/// Keycloak's account `UserRepresentation`.
async fn profile_repr(s: &AppState, u: &UserRecord) -> Result<Value, Response> {
    let attrs = s.store.user_attributes(&u.id).await.map_err(internal)?;
    let mut attributes: Map<String, Value> = Map::new();
    for (name, value) in attrs {
        if let Value::Array(l) = attributes
            .entry(name)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            l.push(json!(value));
        }
    }
    let mut m = Map::new();
    m.insert("id".into(), json!(u.id));
    m.insert("username".into(), json!(u.username));
    if let Some(v) = &u.first_name {
        m.insert("firstName".into(), json!(v));
    }
    if let Some(v) = &u.last_name {
        m.insert("lastName".into(), json!(v));
    }
    if let Some(v) = &u.email {
        m.insert("email".into(), json!(v));
    }
    m.insert("emailVerified".into(), json!(u.email_verified));
    m.insert("attributes".into(), Value::Object(attributes));
    Ok(Value::Object(m))
}

/// GET `/realms/{realm}/account/` (JSON): the caller's profile.
pub async fn profile(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = caller(&s, &headers, &realm, Need::View).await?;
    http::ok(profile_repr(&s, &c.user).await?)
}

/// The body of a profile update (Keycloak's `UserRepresentation`, the fields a user may set).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProfileInput {
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Whether the realm lets users change their username.
pub fn username_editable(realm: &RealmRecord) -> bool {
    realm.settings.edit_username_allowed.unwrap_or(false)
        && !realm
            .settings
            .registration_email_as_username
            .unwrap_or(false)
}

/// A refused profile update: the field and Keycloak's message.
#[derive(Debug, PartialEq)]
pub struct ProfileError {
    pub field: &'static str,
    pub message: &'static str,
}

/// The user after applying `input` (validated with the realm's rules), or the problem.
pub fn apply_profile(
    realm: &RealmRecord,
    user: &UserRecord,
    input: &ProfileInput,
) -> std::result::Result<UserRecord, ProfileError> {
    let clean = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_owned();
    let editable = username_editable(realm);
    let asked = clean(&input.username);
    if !editable
        && !realm
            .settings
            .registration_email_as_username
            .unwrap_or(false)
        && !asked.is_empty()
        && asked.to_lowercase() != user.username
    {
        return Err(ProfileError {
            field: "username",
            message: "You can't update your username as it is read-only.",
        });
    }
    let p = lifecycle::Profile {
        username: asked,
        email: clean(&input.email),
        first_name: clean(&input.first_name),
        last_name: clean(&input.last_name),
    };
    let (username, email) = lifecycle::validate_profile(&p, editable)
        .map_err(|(field, message)| ProfileError { field, message })?;
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
    updated.first_name = Some(p.first_name);
    updated.last_name = Some(p.last_name);
    Ok(updated)
}

/// Update the caller's profile (an `UPDATE_PROFILE` event): the problem for the user, or the
/// user as written.
pub async fn update_profile(
    s: &AppState,
    c: &Caller,
    input: &ProfileInput,
) -> Result<std::result::Result<UserRecord, ProfileError>> {
    let updated = match apply_profile(&c.realm, &c.user, input) {
        Ok(u) => u,
        Err(e) => return Ok(Err(e)),
    };
    let written = s
        .store
        .update_user(&updated, None, None, !c.realm.duplicate_emails_allowed())
        .await?;
    s.caches.invalidate_user(&c.user.id);
    if written.is_ok() {
        let mut event = c.event(EventType::UpdateProfile);
        if c.user.email != updated.email {
            event = event
                .detail("previous_email", c.user.email.clone().unwrap_or_default())
                .detail("updated_email", updated.email.clone().unwrap_or_default());
        }
        events::emit(s, &c.realm, event).await;
    }
    Ok(match written {
        Ok(()) => Ok(updated),
        Err(UserConflict::Username) => Err(ProfileError {
            field: "username",
            message: "Username already exists.",
        }),
        Err(UserConflict::Email) => Err(ProfileError {
            field: "email",
            message: "Email already exists.",
        }),
    })
}

/// POST `/realms/{realm}/account/`: update the caller's profile; 204, or 400 with
/// `{"field", "errorMessage", "params"}`.
pub async fn update(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = caller(&s, &headers, &realm, Need::Manage).await?;
    let input: ProfileInput = http::read_json(&headers, body).await?;
    match update_profile(&s, &c, &input).await.map_err(internal_any)? {
        Ok(_) => http::no_content(),
        Err(e) => Err(http::field_error(e.field, e.message, &[])),
    }
}

// ----------------------------------------------------------------------------- sessions

fn live(realm: &RealmRecord) -> LiveSince {
    let now = now_ms();
    let idle = realm.sso_session_idle_timeout().max(1).saturating_mul(1000);
    let max = realm.sso_session_max_lifespan().max(1).saturating_mul(1000);
    LiveSince {
        last_refresh_after: now.saturating_sub(idle),
        started_after: now.saturating_sub(max),
    }
}

/// Keycloak's account `SessionRepresentation` (times in seconds).
pub fn session_repr(realm: &RealmRecord, v: &SessionView, current: Option<&str>) -> Value {
    let s = &v.session;
    let clients: Vec<Value> = v
        .clients
        .iter()
        .map(|(_, client_id)| json!({"clientId": client_id, "clientName": client_id}))
        .collect();
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id));
    if let Some(ip) = &s.ip_address {
        m.insert("ipAddress".into(), json!(ip));
    }
    m.insert("started".into(), json!(s.started / 1000));
    m.insert("lastAccess".into(), json!(s.last_refresh / 1000));
    m.insert(
        "expires".into(),
        json!(issue::session_expiry_ms(realm, s) / 1000),
    );
    m.insert("clients".into(), Value::Array(clients));
    m.insert("browser".into(), json!("Other/Unknown"));
    m.insert("current".into(), json!(current == Some(s.id.as_str())));
    Value::Object(m)
}

/// The caller's live sessions, the current one first, then the most recently used.
async fn own_sessions(s: &AppState, c: &Caller) -> Result<Vec<SessionView>, Response> {
    let mut found = s
        .store
        .user_session_views(&c.realm.id, &c.user.id, live(&c.realm))
        .await
        .map_err(internal)?;
    found.sort_by_key(|v| {
        (
            c.sid.as_deref() != Some(v.session.id.as_str()),
            -v.session.last_refresh,
        )
    });
    Ok(found)
}

/// GET `/realms/{realm}/account/sessions`.
pub async fn sessions(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = caller(&s, &headers, &realm, Need::View).await?;
    let found = own_sessions(&s, &c).await?;
    http::ok(
        found
            .iter()
            .map(|v| session_repr(&c.realm, v, c.sid.as_deref()))
            .collect::<Vec<_>>(),
    )
}

/// GET `/realms/{realm}/account/sessions/devices`: Keycloak's `DeviceRepresentation`s. The
/// server does not record user agents, so every session is its own unknown device.
pub async fn devices(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = caller(&s, &headers, &realm, Need::View).await?;
    let found = own_sessions(&s, &c).await?;
    http::ok(
        found
            .iter()
            .map(|v| {
                let current = c.sid.as_deref() == Some(v.session.id.as_str());
                json!({
                    "id": v.session.id,
                    "ipAddress": v.session.ip_address,
                    "os": "Other",
                    "osVersion": "Unknown",
                    "browser": "Other/Unknown",
                    "device": "Other",
                    "lastAccess": v.session.last_refresh / 1000,
                    "current": current,
                    "mobile": false,
                    "sessions": [session_repr(&c.realm, v, c.sid.as_deref())],
                })
            })
            .collect::<Vec<_>>(),
    )
}

/// Which of the caller's sessions to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending<'a> {
    /// One session (only if it is the caller's).
    One(&'a str),
    /// All but the current one.
    Others,
    /// All, the current one included.
    All,
}

/// Whether session `id` is ended by `ending` for a caller whose current session is
/// `current`.
pub fn ends(ending: Ending<'_>, id: &str, current: Option<&str>) -> bool {
    match ending {
        Ending::One(one) => one == id,
        Ending::Others => current != Some(id),
        Ending::All => true,
    }
}

/// End some of the caller's SSO sessions (a `LOGOUT` event each), with back-channel logout
/// tokens to their clients; how many ended.
pub async fn end_sessions(
    s: &AppState,
    c: &Caller,
    headers: &HeaderMap,
    ending: Ending<'_>,
) -> Result<usize> {
    let issuer = crate::oidc::urls(s, headers, &c.realm.name).issuer;
    let mut ended = 0;
    for us in s.store.user_sessions_of_user(&c.user.id).await? {
        if us.realm_id == c.realm.id && ends(ending, &us.id, c.sid.as_deref()) {
            logout::end_session(s, &c.realm, &issuer, &us).await?;
            let event = Event::new(EventType::Logout)
                .client(&c.client_id)
                .user(&c.user.id)
                .session(&us.id)
                .ip(c.ip.as_deref());
            events::emit(s, &c.realm, event).await;
            ended += 1;
        }
    }
    Ok(ended)
}

/// DELETE `/realms/{realm}/account/sessions` (`?current=true` ends the current one too).
pub async fn delete_sessions(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = caller(&s, &headers, &realm, Need::Manage).await?;
    let all = url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .any(|(k, v)| k == "current" && v == "true");
    let ending = if all { Ending::All } else { Ending::Others };
    end_sessions(&s, &c, &headers, ending)
        .await
        .map_err(internal_any)?;
    http::no_content()
}

/// DELETE `/realms/{realm}/account/sessions/{id}`: one of the caller's sessions (204 also when
/// there is none, as in Keycloak: nothing about others' sessions is revealed).
pub async fn delete_session(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = caller(&s, &headers, &realm, Need::Manage).await?;
    end_sessions(&s, &c, &headers, Ending::One(&id))
        .await
        .map_err(internal_any)?;
    http::no_content()
}

// ------------------------------------------------------------------------- applications

/// The built-in clients Keycloak's account console lists besides those in use.
pub const LISTED_BUILT_INS: [&str; 2] = [ACCOUNT_CLIENT, ACCOUNT_CONSOLE_CLIENT];

/// `base` resolved against `root` (Keycloak's `effectiveUrl`): an absolute base stays, a
/// relative one is appended to the root.
pub fn effective_url(root: Option<&str>, base: Option<&str>) -> Option<String> {
    let base = base.filter(|b| !b.is_empty());
    match (root.filter(|r| !r.is_empty()), base) {
        (_, Some(b)) if b.starts_with("http://") || b.starts_with("https://") => Some(b.to_owned()),
        (Some(r), Some(b)) => Some(format!("{}{b}", r.trim_end_matches('/'))),
        (Some(r), None) => Some(r.to_owned()),
        (None, b) => b.map(str::to_owned),
    }
}

/// GET `/realms/{realm}/account/applications`: the clients the user has sessions with, plus
/// the listed built-in ones (Keycloak's account `ClientRepresentation`).
pub async fn applications(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = caller(&s, &headers, &realm, Need::ViewApplications).await?;
    let sessions = own_sessions(&s, &c).await?;
    let mut in_use: Vec<String> = sessions
        .iter()
        .flat_map(|v| v.clients.iter().map(|(uuid, _)| uuid.clone()))
        .collect();
    in_use.sort();
    in_use.dedup();
    let mut clients = s.store.clients_by_ids(&in_use).await.map_err(internal)?;
    for id in LISTED_BUILT_INS {
        if clients.iter().any(|cl| cl.client_id == id) {
            continue;
        }
        if let Some(cl) = s
            .caches
            .client(&s.store, &c.realm.id, id)
            .await
            .map_err(internal_any)?
        {
            clients.push(cl.as_ref().clone());
        }
    }
    clients.retain(|cl| cl.realm_id == c.realm.id && cl.enabled());
    clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    let urls = crate::oidc::urls(&s, &headers, &c.realm.name);
    let list: Vec<Value> = clients
        .iter()
        .map(|cl| {
            let root = crate::oidc::root_url(cl, &urls);
            let mut m = Map::new();
            m.insert("clientId".into(), json!(cl.client_id));
            m.insert(
                "clientName".into(),
                json!(cl.repr.name.clone().unwrap_or_else(|| cl.client_id.clone())),
            );
            if let Some(d) = &cl.repr.description {
                m.insert("description".into(), json!(d));
            }
            m.insert("userConsentRequired".into(), json!(false));
            m.insert("inUse".into(), json!(in_use.contains(&cl.id)));
            m.insert("offlineAccess".into(), json!(false));
            if let Some(r) = &root {
                m.insert("rootUrl".into(), json!(r));
            }
            if let Some(b) = &cl.repr.base_url {
                m.insert("baseUrl".into(), json!(b));
            }
            if let Some(e) = effective_url(root.as_deref(), cl.repr.base_url.as_deref()) {
                m.insert("effectiveUrl".into(), json!(e));
            }
            Value::Object(m)
        })
        .collect();
    http::ok(list)
}

// -------------------------------------------------------------------------- credentials

/// GET `/realms/{realm}/account/credentials`: Keycloak's credential containers for the
/// password and OTP types, with the user's credentials (never their secrets). `?type=` keeps
/// one type; `?user-credentials=false` leaves the user's credentials out.
pub async fn credentials(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = caller(&s, &headers, &realm, Need::View).await?;
    let mut only_type = None;
    let mut with_user_credentials = true;
    for (k, v) in url::form_urlencoded::parse(q.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "type" => only_type = Some(v.into_owned()),
            "user-credentials" => with_user_credentials = v != "false",
            _ => {}
        }
    }
    let infos = s
        .store
        .credential_infos(&c.user.id)
        .await
        .map_err(internal)?;
    let metadata = |type_: &str| -> Vec<Value> {
        infos
            .iter()
            .filter(|i| i.type_ == type_)
            .map(|i| {
                let mut cred = Map::new();
                cred.insert("id".into(), json!(i.id));
                cred.insert("type".into(), json!(i.type_));
                if let Some(l) = &i.user_label {
                    cred.insert("userLabel".into(), json!(l));
                }
                cred.insert("createdDate".into(), json!(i.created_date));
                json!({"credential": Value::Object(cred)})
            })
            .collect()
    };
    let mut containers = json!([
        {
            "type": "password",
            "category": "basic-authentication",
            "displayName": "password-display-name",
            "helptext": "password-help-text",
            "iconCssClass": "kcAuthenticatorPasswordClass",
            "updateAction": "UPDATE_PASSWORD",
            "removeable": false,
            "userCredentialMetadatas": metadata("password"),
        },
        {
            "type": "otp",
            "category": "two-factor",
            "displayName": "otp-display-name",
            "helptext": "otp-help-text",
            "iconCssClass": "kcAuthenticatorOTPClass",
            "createAction": "CONFIGURE_TOTP",
            "removeable": true,
            "userCredentialMetadatas": metadata("otp"),
        },
    ]);
    if let Value::Array(list) = &mut containers {
        list.retain(|c| only_type.as_deref().is_none_or(|t| c["type"] == t));
        if !with_user_credentials {
            for c in list.iter_mut() {
                if let Value::Object(m) = c {
                    m.remove("userCredentialMetadatas");
                }
            }
        }
    }
    http::ok(containers)
}

/// Why a credential was not removed.
#[derive(Debug, PartialEq)]
pub enum RemoveRefused {
    NotFound,
    NotRemovable,
}

/// Remove one of the caller's OTP credentials (a `REMOVE_TOTP` event).
pub async fn remove_credential(
    s: &AppState,
    c: &Caller,
    id: &str,
) -> Result<std::result::Result<(), RemoveRefused>> {
    let infos = s.store.credential_infos(&c.user.id).await?;
    let Some(found) = infos.iter().find(|i| i.id == id) else {
        return Ok(Err(RemoveRefused::NotFound));
    };
    if found.type_ != "otp" {
        return Ok(Err(RemoveRefused::NotRemovable));
    }
    if !s.store.delete_credential(&c.user.id, id).await? {
        return Ok(Err(RemoveRefused::NotFound));
    }
    s.caches.invalidate_user(&c.user.id);
    events::emit(
        s,
        &c.realm,
        c.event(EventType::RemoveTotp).detail("credential_id", id),
    )
    .await;
    Ok(Ok(()))
}

/// DELETE `/realms/{realm}/account/credentials/{id}`.
pub async fn delete_credential(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = caller(&s, &headers, &realm, Need::Manage).await?;
    match remove_credential(&s, &c, &id).await.map_err(internal_any)? {
        Ok(()) => http::no_content(),
        Err(RemoveRefused::NotFound) => Err(http::json(
            StatusCode::NOT_FOUND,
            json!({"errorMessage": "Credential not found"}),
        )),
        Err(RemoveRefused::NotRemovable) => Err(http::json(
            StatusCode::BAD_REQUEST,
            json!({"errorMessage": "Credential of this type cannot be removed"}),
        )),
    }
}

/// The body of `POST credentials/password`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PasswordInput {
    pub current_password: Option<String>,
    pub new_password: Option<String>,
    pub confirmation: Option<String>,
    /// End the user's other sessions ("sign out other devices").
    #[serde(default)]
    pub logout_other_sessions: bool,
}

/// Change the caller's password (an `UPDATE_PASSWORD` event): the current password must be
/// right (checked like a login, with brute-force detection), the new one must pass the realm's policy and history; the other sessions end when
/// asked. The message for the user when refused.
pub async fn change_password(
    s: &AppState,
    c: &Caller,
    headers: &HeaderMap,
    input: &PasswordInput,
) -> Result<std::result::Result<(), String>> {
    let current = input.current_password.as_deref().unwrap_or("");
    let new = input.new_password.as_deref().unwrap_or("");
    let confirm = input.confirmation.as_deref().unwrap_or("");
    if current.is_empty() {
        return Ok(Err("Please specify password.".into()));
    }
    // The login's check, brute-force detection included (BF-2): wrong current passwords count
    // as failures, and a locked account's right password is refused like a wrong one.
    let ip = crate::oidc::http::client_address(s, headers);
    let checked = crate::oidc::brute_force::check_password(
        s,
        &c.realm,
        &c.user.username,
        current,
        ip.as_deref(),
    )
    .await?;
    if !matches!(&checked, PasswordCheck::Valid(u) if u.id == c.user.id) {
        let event = c
            .event(EventType::UpdatePassword)
            .error("invalid_user_credentials");
        events::emit(s, &c.realm, event).await;
        return Ok(Err("Invalid existing password.".into()));
    }
    // The check is complete in itself (no second step): the failures are forgotten.
    crate::oidc::brute_force::succeeded(s, &c.realm, &c.user.id).await?;
    if let Some(problem) = lifecycle::password_problem(new, confirm) {
        return Ok(Err(problem.into()));
    }
    if let Err(v) = lifecycle::check_new_password(s, &c.realm, &c.user, new).await? {
        return Ok(Err(v.message()));
    }
    let cred = lifecycle::hash_password(s, &c.realm, &c.user.id, new).await?;
    s.store
        .change_password(
            &c.realm.id,
            &cred,
            lifecycle::history_to_keep(&c.realm),
            false,
        )
        .await?;
    s.caches.invalidate_user(&c.user.id);
    events::emit(s, &c.realm, c.event(EventType::UpdatePassword)).await;
    if input.logout_other_sessions {
        end_sessions(s, c, headers, Ending::Others).await?;
    }
    Ok(Ok(()))
}

/// POST `/realms/{realm}/account/credentials/password` (extension): 204, or 400 with
/// `{"errorMessage"}`.
pub async fn password(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = caller(&s, &headers, &realm, Need::Manage).await?;
    let input: PasswordInput = http::read_json(&headers, body).await?;
    match change_password(&s, &c, &headers, &input)
        .await
        .map_err(internal_any)?
    {
        Ok(()) => http::no_content(),
        Err(m) => Err(error_message(&m)),
    }
}

fn error_message(m: &str) -> Response {
    http::json(StatusCode::BAD_REQUEST, json!({"errorMessage": m}))
}

/// The body of `POST credentials/otp`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct OtpInput {
    /// The base32 secret shown at set-up.
    pub secret: Option<String>,
    /// A code computed from it now.
    pub code: Option<String>,
    pub user_label: Option<String>,
}

/// Add a TOTP credential to the caller (an `UPDATE_TOTP` event) once `code` proves the app
/// holds `secret`, under the realm's OTP policy. The message for the user when refused.
pub async fn add_totp(
    s: &AppState,
    c: &Caller,
    input: &OtpInput,
) -> Result<std::result::Result<(), &'static str>> {
    let policy = lifecycle::otp_policy(&c.realm);
    let key = match lifecycle::check_totp_setup(
        &policy,
        input.secret.as_deref().unwrap_or(""),
        input.code.as_deref().unwrap_or(""),
        lifecycle::otp_clock_s(),
    ) {
        lifecycle::TotpSetupCheck::BadSecret => return Ok(Err("Invalid secret.")),
        lifecycle::TotpSetupCheck::Refused(_, m) => return Ok(Err(m)),
        lifecycle::TotpSetupCheck::Accepted(k) => k,
    };
    // The code that proved the set-up is spent, as at login.
    lifecycle::spend_otp_code(
        s,
        &c.realm,
        &c.user.id,
        input.code.as_deref().unwrap_or(""),
        policy.period,
    )
    .await?;
    let cred = lifecycle::otp_credential(
        &c.user.id,
        &policy,
        &key,
        input.user_label.as_deref().unwrap_or(""),
    );
    s.store.add_otp_credential(&c.realm.id, &cred).await?;
    s.caches.invalidate_user(&c.user.id);
    events::emit(s, &c.realm, c.event(EventType::UpdateTotp)).await;
    Ok(Ok(()))
}

/// POST `/realms/{realm}/account/credentials/otp` (extension): 204, or 400 with
/// `{"errorMessage"}`.
pub async fn otp(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = caller(&s, &headers, &realm, Need::Manage).await?;
    let input: OtpInput = http::read_json(&headers, body).await?;
    match add_totp(&s, &c, &input).await.map_err(internal_any)? {
        Ok(()) => http::no_content(),
        Err(m) => Err(error_message(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_follow_keycloak() {
        let none = Rights::from_roles([]);
        assert!(!none.allows(Need::View) && !none.allows(Need::Manage));
        let view = Rights::from_roles(["view-profile", "other"]);
        assert!(view.allows(Need::View));
        assert!(!view.allows(Need::Manage) && !view.allows(Need::ViewApplications));
        let manage = Rights::from_roles(["manage-account"]);
        assert!(manage.allows(Need::View) && manage.allows(Need::Manage));
        assert!(manage.allows(Need::ViewApplications));
        assert!(Rights::from_roles(["view-applications"]).allows(Need::ViewApplications));
    }

    #[test]
    fn audience() {
        assert!(audience_ok(&json!({"azp": "account-console"})));
        assert!(audience_ok(&json!({"azp": "app", "aud": ["x", "account"]})));
        assert!(audience_ok(&json!({"azp": "app", "aud": "account"})));
        assert!(!audience_ok(&json!({"azp": "app", "aud": ["x"]})));
        assert!(!audience_ok(&json!({"azp": "app"})));
    }

    #[test]
    fn session_endings() {
        assert!(ends(Ending::One("a"), "a", Some("a")));
        assert!(!ends(Ending::One("a"), "b", Some("a")));
        assert!(!ends(Ending::Others, "a", Some("a")));
        assert!(ends(Ending::Others, "b", Some("a")));
        assert!(ends(Ending::All, "a", Some("a")));
    }

    #[test]
    fn effective_urls() {
        assert_eq!(
            effective_url(Some("http://h/auth"), Some("/realms/r/account/")).as_deref(),
            Some("http://h/auth/realms/r/account/")
        );
        assert_eq!(
            effective_url(Some("http://h"), Some("https://app/")).as_deref(),
            Some("https://app/")
        );
        assert_eq!(effective_url(None, None), None);
        assert_eq!(
            effective_url(Some("http://h/"), None).as_deref(),
            Some("http://h/")
        );
    }

    fn realm(edit: bool, email_as_username: bool) -> RealmRecord {
        let settings: portcullis_model::repr::RealmRepresentation =
            serde_json::from_value(json!({"realm": "r", "editUsernameAllowed": edit,
                   "registrationEmailAsUsername": email_as_username}))
            .expect("representation");
        RealmRecord {
            id: "r".into(),
            name: "r".into(),
            enabled: true,
            default_role_id: "d".into(),
            settings,
        }
    }

    fn user() -> UserRecord {
        UserRecord {
            id: "u".into(),
            realm_id: "r".into(),
            username: "alice".into(),
            email: Some("alice@example.com".into()),
            first_name: Some("Alice".into()),
            last_name: Some("A".into()),
            enabled: true,
            email_verified: true,
            created_timestamp: 0,
            not_before: 0,
            federation_link: None,
            service_account_client_id: None,
        }
    }

    fn input(username: &str, email: &str) -> ProfileInput {
        ProfileInput {
            username: Some(username.into()),
            email: Some(email.into()),
            first_name: Some("Alice".into()),
            last_name: Some("Liddell".into()),
        }
    }

    #[test]
    fn profile_rules() {
        // The username is read-only unless the realm allows editing it.
        let fixed = realm(false, false);
        let e = apply_profile(&fixed, &user(), &input("bob", "alice@example.com")).unwrap_err();
        assert_eq!(e.field, "username");
        let same = apply_profile(&fixed, &user(), &input("alice", "alice@example.com")).unwrap();
        assert_eq!(same.last_name.as_deref(), Some("Liddell"));
        assert!(same.email_verified, "same email stays verified");
        let edit = realm(true, false);
        let renamed = apply_profile(&edit, &user(), &input("Bob", "alice@example.com")).unwrap();
        assert_eq!(renamed.username, "bob");
        // A new email is not verified; a bad one is refused with Keycloak's message.
        let moved = apply_profile(&fixed, &user(), &input("", "new@example.com")).unwrap();
        assert!(!moved.email_verified);
        let bad = apply_profile(&fixed, &user(), &input("", "not-an-email")).unwrap_err();
        assert_eq!(
            (bad.field, bad.message),
            ("email", "Invalid email address.")
        );
        // The email is the username when the realm says so.
        let by_email = realm(true, true);
        let u = apply_profile(&by_email, &user(), &input("ignored", "c@example.com")).unwrap();
        assert_eq!(u.username, "c@example.com");
        assert!(!username_editable(&by_email));
    }
}
