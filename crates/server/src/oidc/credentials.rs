//! Who is asking: client authentication (RFC 6749 §2.3.1) and user password checks, shared
//! by the token, introspection, revocation, logout and login endpoints; and the start of an
//! SSO session once a user is authenticated.

use crate::app::AppState;
use crate::oidc::http::now_ms;
use anyhow::{Context as _, Result};
use axum::http::{HeaderMap, header};
use portcullis_model::password::PasswordHash;
use portcullis_model::records::{
    ClientRecord, ClientSessionRecord, CredentialSecret, RealmRecord, UserRecord, UserSessionRecord,
};
use portcullis_oidc::OAuthError;
use portcullis_oidc::authorize::Params;
use portcullis_oidc::client_auth::{self, ClientAuthMethod};

/// Longest password accepted; longer input is refused before hashing (PW-2).
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// An authenticated client.
pub struct AuthedClient {
    pub client: std::sync::Arc<ClientRecord>,
    pub used_basic: bool,
}

fn bad_client() -> OAuthError {
    OAuthError::invalid_client("Invalid client or Invalid client credentials")
}

/// Authenticate the client of a back-channel request. Unknown client, disabled client, wrong
/// secret, a confidential client without a secret: one identical `invalid_client` answer
/// (TOK-3). Secrets are compared in constant time and never logged.
pub async fn authenticate_client(
    state: &AppState,
    realm: &RealmRecord,
    headers: &HeaderMap,
    params: &Params,
) -> Result<std::result::Result<AuthedClient, (OAuthError, bool)>> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let used_basic = authorization.is_some_and(|a| {
        a.trim_start()
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("basic "))
    });
    let fail = |e: OAuthError| Ok(Err((e, used_basic)));
    let (form_id, form_secret) = match (params.one("client_id"), params.one("client_secret")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let creds = match client_auth::parse_client_credentials(authorization, form_id, form_secret) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return fail(bad_client().with_detail("no client authentication in the request"));
        }
        Err(e) => return fail(e),
    };
    let Some(client) = state
        .caches
        .client(&state.store, &realm.id, &creds.client_id)
        .await?
    else {
        return fail(bad_client().with_detail("unknown client"));
    };
    if !client.enabled() {
        return fail(bad_client().with_detail("client disabled"));
    }
    if client.public_client() {
        return Ok(Ok(AuthedClient { client, used_basic }));
    }
    let authenticator = client
        .repr
        .client_authenticator_type
        .as_deref()
        .unwrap_or("client-secret");
    if authenticator != "client-secret" {
        return fail(bad_client().with_detail(format!(
            "client authenticator {authenticator} is not supported"
        )));
    }
    let ok = match (&client.secret, &creds.secret, creds.method) {
        (Some(stored), Some(presented), m) if m != ClientAuthMethod::None => {
            client_auth::secret_matches(stored, presented.expose())
        }
        _ => false,
    };
    if !ok {
        return fail(bad_client().with_detail("wrong or missing client secret"));
    }
    Ok(Ok(AuthedClient { client, used_basic }))
}

/// The outcome of a username/password check.
pub enum PasswordCheck {
    Valid(UserRecord),
    /// Unknown user, wrong password or an account locked by brute-force detection: one
    /// answer to the caller (UI-3). The refusal's reason is for events only.
    Invalid(Refusal),
    /// Right password, but the account is disabled.
    Disabled(UserRecord),
}

/// Why a password check failed, in Keycloak's event error codes; never shown to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The user the login named, when one exists.
    pub user_id: Option<String>,
    /// `user_not_found`, `invalid_user_credentials` or `user_temporarily_disabled`.
    pub error: &'static str,
}

impl PasswordCheck {
    /// Why the check failed (`None` when it passed); a disabled account is `user_disabled`.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            PasswordCheck::Valid(_) => None,
            PasswordCheck::Invalid(r) => Some(r.clone()),
            PasswordCheck::Disabled(u) => Some(Refusal::of(Some(u), "user_disabled")),
        }
    }
}

impl Refusal {
    pub fn of(user: Option<&UserRecord>, error: &'static str) -> Refusal {
        Refusal {
            user_id: user.map(|u| u.id.clone()),
            error,
        }
    }
}

/// Find a user by username, or by email when the realm allows it.
pub async fn find_user(
    state: &AppState,
    realm: &RealmRecord,
    login: &str,
) -> Result<Option<UserRecord>> {
    let login = login.trim();
    if login.is_empty() || login.len() > 255 {
        return Ok(None);
    }
    if let Some(u) = state.store.find_user_by_username(&realm.id, login).await? {
        return Ok(Some(u));
    }
    if realm.login_with_email_allowed() && login.contains('@') {
        let found = state.store.find_user_by_email(&realm.id, login).await?;
        if found.len() == 1 {
            return Ok(found.into_iter().next());
        }
    }
    Ok(None)
}

/// Check a username (or email) and password. An unknown user costs the same hashing time as
/// a known one (UI-3); the hash runs off the async threads.
pub async fn check_password(
    state: &AppState,
    realm: &RealmRecord,
    login: &str,
    password: &str,
) -> Result<PasswordCheck> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(PasswordCheck::Invalid(Refusal::of(
            None,
            "invalid_user_credentials",
        )));
    }
    let user = find_user(state, realm, login).await?;
    let verified = password_matches(state, user.as_ref(), password).await?;
    Ok(match (user, verified) {
        (Some(u), true) if u.enabled => PasswordCheck::Valid(u),
        (Some(u), true) => PasswordCheck::Disabled(u),
        (Some(u), false) => {
            PasswordCheck::Invalid(Refusal::of(Some(&u), "invalid_user_credentials"))
        }
        (None, _) => PasswordCheck::Invalid(Refusal::of(None, "user_not_found")),
    })
}

/// Whether `password` is `user`'s password (no user, a service account or no password cost
/// the same hashing time, UI-3); the hash runs off the async threads.
pub async fn password_matches(
    state: &AppState,
    user: Option<&UserRecord>,
    password: &str,
) -> Result<bool> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    let hash = match user {
        Some(u) if u.service_account_client_id.is_none() => state
            .store
            .credentials(&u.id)
            .await?
            .into_iter()
            .filter(|c| c.type_ == "password")
            .find_map(|c| match c.secret {
                CredentialSecret::Stored {
                    secret_data,
                    credential_data,
                } => PasswordHash::from_keycloak(&secret_data, &credential_data).ok(),
                CredentialSecret::Plain(_) => None,
            }),
        _ => None,
    };
    let password = zeroize::Zeroizing::new(password.to_owned());
    state
        .hashing
        .run(move || match hash {
            Some(h) => h.verify(&password),
            None => {
                portcullis_model::password::verify_dummy(&password);
                false
            }
        })
        .await
        .context("password verification task")
}

/// Start an SSO session for `user` with a first client session for `client`. The session id
/// is fresh (no fixation, UI-5).
pub async fn start_session(
    state: &AppState,
    realm: &RealmRecord,
    user: &UserRecord,
    client: &ClientRecord,
    scope_names: &[String],
    redirect_uri: Option<&str>,
    ip: Option<String>,
) -> Result<(UserSessionRecord, ClientSessionRecord)> {
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
    state.store.create_user_session(&us).await?;
    let cs = add_client_session(state, &us, client, scope_names, redirect_uri).await?;
    Ok((us, cs))
}

/// The client session of `client` in an SSO session (created when new).
pub async fn add_client_session(
    state: &AppState,
    us: &UserSessionRecord,
    client: &ClientRecord,
    scope_names: &[String],
    redirect_uri: Option<&str>,
) -> Result<ClientSessionRecord> {
    let cs = ClientSessionRecord {
        id: uuid::Uuid::new_v4().to_string(),
        user_session_id: us.id.clone(),
        client_id: client.id.clone(),
        scope: scope_names.join(" "),
        redirect_uri: redirect_uri.map(str::to_owned),
        started: now_ms(),
        refresh_generation: 0,
        refresh_uses: 0,
    };
    Ok(state.store.upsert_client_session(&cs).await?)
}
