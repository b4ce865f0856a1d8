//! Token issuance and token checks shared by the endpoints: what a client may be granted
//! (scopes, role scope), the data claims are made from, signing, the token response, SSO
//! session lifetimes, and the verification of the tokens we issued.

use crate::app::AppState;
use crate::oidc::http::{now_ms, now_s};
use crate::oidc::keys::RealmKeys;
use anyhow::{Context as _, Result, anyhow};
use portcullis_model::records::{
    ClientRecord, ProtocolMapperRecord, RealmRecord, RoleRecord, UserRecord, UserSessionRecord,
};
use portcullis_oidc::OAuthError;
use portcullis_oidc::claims::{self, RefreshInput, TokenInput};
use portcullis_oidc::jose::{self, Algorithm, JwtError};
use portcullis_oidc::scopes::{self, AttachedScope, Granted};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Clock skew tolerated when checking our own tokens' times.
pub const LEEWAY_S: i64 = 0;

/// The client scopes attached to a client, for [`scopes::resolve`].
pub async fn attached_scopes(
    state: &AppState,
    client: &ClientRecord,
) -> Result<Vec<AttachedScope>> {
    let linked = state.caches.scopes_of(&state.store, &client.id).await?;
    Ok(linked
        .iter()
        .filter(|(s, _)| s.repr.protocol.as_deref().unwrap_or("openid-connect") == "openid-connect")
        .map(|(s, default)| AttachedScope {
            include_in_token_scope: s
                .repr
                .attributes
                .as_ref()
                .and_then(|a| a.get("include.in.token.scope"))
                .is_none_or(|v| v != "false"),
            id: s.id.clone(),
            name: s.name.clone(),
            default: *default,
        })
        .collect())
}

/// The service-account user of a client (UUID), from the cache (ADR 0009).
pub async fn service_account(
    state: &AppState,
    realm: &RealmRecord,
    client_uuid: &str,
) -> Result<Option<std::sync::Arc<UserRecord>>> {
    let user = state
        .caches
        .service_account(&state.store, client_uuid)
        .await?;
    Ok(user.filter(|u| {
        u.realm_id == realm.id && u.service_account_client_id.as_deref() == Some(client_uuid)
    }))
}

/// Resolve a `scope` parameter for a client.
pub async fn grant_scopes(
    state: &AppState,
    client: &ClientRecord,
    requested: &str,
    limit: Option<&[String]>,
) -> Result<std::result::Result<Granted, OAuthError>> {
    let attached = attached_scopes(state, client).await?;
    Ok(scopes::resolve(requested, &attached, limit))
}

/// Everything about the user and client that claims are made from.
pub struct ClaimData {
    /// The user's roles, groups and attributes (shared with the cache, never copied).
    pub source: std::sync::Arc<crate::cache::UserClaimSource>,
    /// The effective roles narrowed by the client's role scope, when it has no full scope.
    pub scoped_roles: Option<Vec<RoleRecord>>,
    pub client_ids_by_uuid: BTreeMap<String, String>,
    pub mappers: std::sync::Arc<Vec<ProtocolMapperRecord>>,
}

impl ClaimData {
    /// The roles the token may carry.
    pub fn effective_roles(&self) -> &[RoleRecord] {
        self.scoped_roles
            .as_deref()
            .unwrap_or(&self.source.effective_roles)
    }
}

/// Load the claim data for `user` logging in to `client` with the granted scopes. Roles are
/// limited by the client's role scope unless it has full scope; the client's own roles are
/// always in scope.
pub async fn claim_data(
    state: &AppState,
    client: &ClientRecord,
    user: &UserRecord,
    granted: &Granted,
) -> Result<ClaimData> {
    let store = &state.store;
    let source = state.caches.user_claims(store, &user.id).await?;
    let mut scoped_roles = None;
    if !client.repr.full_scope_allowed.unwrap_or(true) {
        let mut owners = granted.scope_ids.clone();
        owners.push(client.id.clone());
        let allowed: BTreeSet<String> = store
            .role_scope_mappings(&owners)
            .await?
            .into_iter()
            .collect();
        let mut roles = source.effective_roles.clone();
        roles.retain(|r| allowed.contains(&r.id) || r.client_id.as_deref() == Some(&client.id));
        scoped_roles = Some(roles);
    }
    let roles: &[RoleRecord] = scoped_roles.as_deref().unwrap_or(&source.effective_roles);
    let owner_uuids: Vec<String> = roles
        .iter()
        .filter_map(|r| r.client_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let client_ids_by_uuid = state
        .caches
        .client_ids(store, &owner_uuids)
        .await?
        .into_iter()
        .collect();
    let mut mapper_owners = granted.scope_ids.clone();
    mapper_owners.push(client.id.clone());
    let mappers = state.caches.mappers_of(store, &mapper_owners).await?;
    Ok(ClaimData {
        source,
        scoped_roles,
        client_ids_by_uuid,
        mappers,
    })
}

/// The signing algorithm of a client's access tokens / ID tokens.
pub fn algorithm(realm: &RealmRecord, client: &ClientRecord, attribute: &str) -> Algorithm {
    client
        .attribute(attribute)
        .and_then(Algorithm::parse)
        .or_else(|| {
            realm
                .settings
                .default_signature_algorithm
                .as_deref()
                .and_then(Algorithm::parse)
        })
        .filter(|a| !a.is_symmetric())
        .unwrap_or(Algorithm::RS256)
}

/// The realm's keys, with a signing key for each algorithm the client's tokens use.
pub async fn keys_for(
    state: &AppState,
    realm: &RealmRecord,
    client: &ClientRecord,
) -> Result<std::sync::Arc<RealmKeys>> {
    let mut keys = state.keys.get(&state.store, realm).await?;
    for attr in [
        "access.token.signed.response.alg",
        "id.token.signed.response.alg",
    ] {
        let alg = algorithm(realm, client, attr);
        if keys.signer(alg).is_none() {
            keys = state.keys.with_algorithm(&state.store, realm, alg).await?;
        }
    }
    Ok(keys)
}

/// The realm's SSO session expiry (ms): the earlier of idle and max.
pub fn session_expiry_ms(realm: &RealmRecord, s: &UserSessionRecord) -> i64 {
    let idle = realm.sso_session_idle_timeout().max(1).saturating_mul(1000);
    let max = realm.sso_session_max_lifespan().max(1).saturating_mul(1000);
    s.last_refresh
        .saturating_add(idle)
        .min(s.started.saturating_add(max))
}

pub fn session_alive(realm: &RealmRecord, s: &UserSessionRecord, now: i64) -> bool {
    now < session_expiry_ms(realm, s) && s.realm_id == realm.id
}

/// Whether a refresh should write the session's `last_refresh`. A session refreshed less than
/// a tenth of its idle timeout ago (at most a minute) is not written again: busy clients
/// refreshing every few seconds cost no writes, and the idle timeout ends at most that much
/// early. Tokens are dated from the stored value, so they never outlive the stored session.
pub fn needs_touch(realm: &RealmRecord, s: &UserSessionRecord, now: i64) -> bool {
    let idle_ms = realm.sso_session_idle_timeout().max(1).saturating_mul(1000);
    let window = (idle_ms / 10).min(60_000);
    now.saturating_sub(s.last_refresh) >= window
}

/// The session a token is issued within.
pub struct SessionRef<'a> {
    pub user_session: &'a UserSessionRecord,
    /// The refresh generation the new refresh token carries.
    pub generation: i64,
}

/// What a grant issues.
pub struct IssueInput<'a> {
    pub realm: &'a RealmRecord,
    pub client: &'a ClientRecord,
    pub user: &'a UserRecord,
    pub issuer: &'a str,
    pub granted: &'a Granted,
    pub data: &'a ClaimData,
    pub session: Option<SessionRef<'a>>,
    pub nonce: Option<&'a str>,
    pub auth_time_s: i64,
    pub acr: &'a str,
    pub notes: &'a BTreeMap<String, String>,
    /// Add a refresh token (needs a session).
    pub refresh: bool,
}

/// Sign the tokens of a grant and build Keycloak's token response.
pub async fn issue(state: &AppState, keys: &RealmKeys, input: &IssueInput<'_>) -> Result<Value> {
    let now = now_s();
    let lifespan = input
        .client
        .attribute("access.token.lifespan")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v > 0)
        .unwrap_or_else(|| input.realm.access_token_lifespan());
    let sid = input
        .session
        .as_ref()
        .map(|s| s.user_session.id.as_str())
        .unwrap_or("");
    let access_jti = format!("onrtac:{}", uuid::Uuid::new_v4());
    let group_pairs = &input.data.source.direct_groups;
    let mut token = TokenInput {
        issuer: input.issuer,
        realm: input.realm,
        client: input.client,
        user: input.user,
        user_attributes: &input.data.source.attributes,
        group_attributes: &input.data.source.group_attributes,
        effective_roles: input.data.effective_roles(),
        client_ids_by_uuid: &input.data.client_ids_by_uuid,
        direct_groups: group_pairs,
        mappers: &input.data.mappers,
        granted_scope: &input.granted.token_scope,
        session_id: sid,
        session_notes: input.notes,
        auth_time_s: input.auth_time_s,
        nonce: input.nonce,
        acr: input.acr,
        now_s: now,
        access_lifespan_s: lifespan,
        jti: &access_jti,
    };
    let at_alg = algorithm(
        input.realm,
        input.client,
        "access.token.signed.response.alg",
    );
    let at_signer = keys
        .signer(at_alg)
        .ok_or_else(|| anyhow!("realm has no active {} key", at_alg.as_str()))?;
    let header_typ = if input.client.attribute("access.token.header.type.rfc9068") == Some("true") {
        "at+jwt"
    } else {
        "JWT"
    };
    let rng = state.keys.rng();
    let access = at_signer
        .sign_jwt(header_typ, &claims::access_token(&token), rng)
        .context("signing the access token")?;

    let mut body = serde_json::Map::new();
    body.insert("access_token".into(), json!(access));
    body.insert("expires_in".into(), json!(lifespan));

    let mut refresh_expires_in = 0;
    let mut refresh_token = None;
    if input.refresh
        && let Some(s) = &input.session
    {
        let exp_s = session_expiry_ms(input.realm, s.user_session) / 1000;
        let jti = format!("{}.{}", s.generation, uuid::Uuid::new_v4());
        let rt = claims::refresh_token(
            &token,
            &RefreshInput {
                jti: &jti,
                exp_s: Some(exp_s),
                offline: false,
            },
        );
        let hs = keys
            .signer(Algorithm::HS512)
            .ok_or_else(|| anyhow!("realm has no active HS512 key"))?;
        refresh_token = Some(
            hs.sign_jwt("JWT", &rt, rng)
                .context("signing the refresh token")?,
        );
        refresh_expires_in = (exp_s - now).max(0);
    }
    body.insert("refresh_expires_in".into(), json!(refresh_expires_in));
    if let Some(rt) = refresh_token {
        body.insert("refresh_token".into(), json!(rt));
    }
    body.insert("token_type".into(), json!("Bearer"));
    if input.granted.names.iter().any(|n| n == "openid") {
        let id_alg = algorithm(input.realm, input.client, "id.token.signed.response.alg");
        let id_signer = keys
            .signer(id_alg)
            .ok_or_else(|| anyhow!("realm has no active {} key", id_alg.as_str()))?;
        let at_hash = claims::at_hash(&access, id_alg.as_str());
        let id_jti = format!("onrtid:{}", uuid::Uuid::new_v4());
        token.jti = &id_jti;
        let id = id_signer
            .sign_jwt("JWT", &claims::id_token(&token, Some(&at_hash)), rng)
            .context("signing the ID token")?;
        body.insert("id_token".into(), json!(id));
    }
    body.insert(
        "not-before-policy".into(),
        json!(input.realm.settings.not_before.unwrap_or(0)),
    );
    if !sid.is_empty() {
        body.insert("session_state".into(), json!(sid));
    }
    body.insert("scope".into(), json!(input.granted.token_scope));
    Ok(Value::Object(body))
}

/// Algorithms our own access and ID tokens may be signed with.
pub const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// An access token that passed every check.
pub struct ActiveToken {
    pub claims: Value,
    pub user: UserRecord,
    pub client: std::sync::Arc<ClientRecord>,
    pub user_session: Option<UserSessionRecord>,
}

/// Why a token is not active (private: logs only).
#[derive(Debug)]
pub enum Inactive {
    Jwt(JwtError),
    Revoked,
    NoSession,
    UserGone,
    ClientGone,
    NotBefore,
}

/// Verify an access token we issued and check it against the database: not revoked, its
/// session alive and still holding the client, user and client enabled, not before the
/// realm's or user's `notBefore` (JWT-4, JWT-5).
pub async fn check_access_token(
    state: &AppState,
    realm: &RealmRecord,
    keys: &RealmKeys,
    issuer: &str,
    token: &str,
) -> Result<std::result::Result<ActiveToken, Inactive>> {
    let v = match keys.verifier.verify(token, ASYMMETRIC) {
        Ok(v) => v,
        Err(e) => return Ok(Err(Inactive::Jwt(e))),
    };
    let c = v.claims;
    let checks = jose::check_times(&c, now_s(), LEEWAY_S)
        .and_then(|_| jose::check_issuer(&c, issuer))
        .and_then(|_| jose::check_token_type(&c, &[claims::TYP_BEARER]));
    if let Err(e) = checks {
        return Ok(Err(Inactive::Jwt(e)));
    }
    let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(jti) = text("jti")
        && state.store.is_token_id_revoked(&jti).await?
    {
        return Ok(Err(Inactive::Revoked));
    }
    let Some(azp) = text("azp") else {
        return Ok(Err(Inactive::ClientGone));
    };
    let Some(client) = state.caches.client(&state.store, &realm.id, &azp).await? else {
        return Ok(Err(Inactive::ClientGone));
    };
    if !client.enabled() {
        return Ok(Err(Inactive::ClientGone));
    }
    let iat = c.get("iat").and_then(Value::as_i64).unwrap_or(0);
    let not_before = realm
        .settings
        .not_before
        .unwrap_or(0)
        .max(client.repr.not_before.unwrap_or(0));
    if iat < not_before {
        return Ok(Err(Inactive::NotBefore));
    }
    let (user, user_session) = match text("sid") {
        Some(sid) => {
            let Some(us) = state.store.user_session(&sid).await? else {
                return Ok(Err(Inactive::NoSession));
            };
            if !session_alive(realm, &us, now_ms())
                || state
                    .store
                    .client_session_for(&us.id, &client.id)
                    .await?
                    .is_none()
            {
                return Ok(Err(Inactive::NoSession));
            }
            let Some(user) = state.store.user_by_id(&realm.id, &us.user_id).await? else {
                return Ok(Err(Inactive::UserGone));
            };
            (user, Some(us))
        }
        None => {
            // Service-account tokens have no session: the user is the client's own.
            let Some(user) = service_account(state, realm, &client.id).await? else {
                return Ok(Err(Inactive::NoSession));
            };
            if text("sub").is_some_and(|s| s != user.id) {
                return Ok(Err(Inactive::UserGone));
            }
            (user.as_ref().clone(), None)
        }
    };
    if !user.enabled || iat < user.not_before {
        return Ok(Err(Inactive::UserGone));
    }
    Ok(Ok(ActiveToken {
        claims: c,
        user,
        client,
        user_session,
    }))
}

/// A refresh token we issued, verified (signature, issuer, type, expiry).
pub fn verify_refresh_token(
    keys: &RealmKeys,
    issuer: &str,
    token: &str,
) -> std::result::Result<Value, JwtError> {
    let v = keys.verifier.verify(token, &[Algorithm::HS512])?;
    jose::check_times(&v.claims, now_s(), LEEWAY_S)?;
    jose::check_issuer(&v.claims, issuer)?;
    jose::check_token_type(&v.claims, &[claims::TYP_REFRESH])?;
    Ok(v.claims)
}

/// The refresh generation carried in a refresh token's `jti` (`{generation}.{uuid}`).
pub fn refresh_generation(claims: &Value) -> Option<i64> {
    claims
        .get("jti")
        .and_then(Value::as_str)
        .and_then(|j| j.split_once('.'))
        .and_then(|(g, _)| g.parse().ok())
}

/// The user data a token for `user` is made from, and the token response.
#[allow(clippy::too_many_arguments)]
pub async fn issue_for(
    state: &AppState,
    keys: &RealmKeys,
    realm: &RealmRecord,
    client: &ClientRecord,
    user: &UserRecord,
    issuer: &str,
    granted: &Granted,
    session: Option<SessionRef<'_>>,
    nonce: Option<&str>,
    auth_time_s: i64,
    acr: &str,
    notes: &BTreeMap<String, String>,
) -> Result<Value> {
    let data = claim_data(state, client, user, granted).await?;
    let refresh = session.is_some();
    issue(
        state,
        keys,
        &IssueInput {
            realm,
            client,
            user,
            issuer,
            granted,
            data: &data,
            session,
            nonce,
            auth_time_s,
            acr,
            notes,
            refresh,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn realm(idle_s: i64) -> RealmRecord {
        let settings: portcullis_model::repr::RealmRepresentation =
            serde_json::from_value(json!({"realm": "r", "ssoSessionIdleTimeout": idle_s}))
                .expect("representation");
        RealmRecord {
            id: "r".into(),
            name: "r".into(),
            enabled: true,
            default_role_id: "d".into(),
            settings,
        }
    }

    fn session(last_refresh: i64) -> UserSessionRecord {
        UserSessionRecord {
            id: "s".into(),
            realm_id: "r".into(),
            user_id: "u".into(),
            auth_time_s: 0,
            started: 0,
            last_refresh,
            remember_me: false,
            ip_address: None,
        }
    }

    #[test]
    fn refresh_writes_the_session_at_most_once_a_minute() {
        let r = realm(1800);
        let s = session(1_000_000);
        assert!(!needs_touch(&r, &s, 1_000_000));
        assert!(!needs_touch(&r, &s, 1_059_999));
        assert!(needs_touch(&r, &s, 1_060_000));
        // A short idle timeout shortens the window to a tenth of it.
        let short = realm(60);
        assert!(!needs_touch(&short, &s, 1_005_999));
        assert!(needs_touch(&short, &s, 1_006_000));
        // A clock behind the stored value never writes an older time.
        assert!(!needs_touch(&r, &s, 999_000));
    }
}
