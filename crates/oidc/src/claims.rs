//! Claim sets of the tokens and responses the OpenID provider issues — access token, ID token,
//! UserInfo, introspection, refresh token and back-channel logout token — shaped like
//! Keycloak 26's (`keycloak-compat.md` §2).
//!
//! Claim order follows Keycloak's serialisation: first the token fields in the order its token
//! classes declare them (`exp, iat, auth_time, jti, iss, aud, sub, typ, azp, nonce, sid, at_hash,
//! acr, allowed-origins, realm_access, resource_access, scope`), then the free claims written by
//! mappers in Java `HashMap` order (see [`crate::mappers`]). UserInfo is one Java map, so all of
//! its claims come in that order.
//!
//! The protocol fields come from [`TokenInput`]; every other claim comes from the protocol
//! mappers of the granted client scopes and the client. So a client whose default scopes omit
//! `basic` gets access tokens without `sub` and `auth_time`, exactly like Keycloak; its ID token
//! still carries `sub` (Keycloak sets it there unconditionally) and UserInfo always has `sub`.
//!
//! Invariant: pure functions; the clock (`now_s`), identifiers (`jti`) and session data are
//! inputs.

use crate::mappers::{self, ClaimSet, MapperInput, Target, java_hash_order};
use portcullis_model::records::{
    ClientRecord, ProtocolMapperRecord, RealmRecord, RoleRecord, UserRecord,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// `typ` of access tokens.
pub const TYP_BEARER: &str = "Bearer";
/// `typ` of ID tokens.
pub const TYP_ID: &str = "ID";
/// `typ` of refresh tokens.
pub const TYP_REFRESH: &str = "Refresh";
/// `typ` of offline tokens (refresh tokens of the `offline_access` scope).
pub const TYP_OFFLINE: &str = "Offline";
/// `typ` of back-channel logout tokens.
pub const TYP_LOGOUT: &str = "Logout";
/// The event a back-channel logout token carries (OpenID Connect Back-Channel Logout §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Extra event member Keycloak adds when the client also wants offline sessions revoked.
pub const REVOKE_OFFLINE_ACCESS_EVENT: &str = "revoke_offline_access";
/// Logout tokens expire two minutes after issue, as Keycloak's do.
pub const LOGOUT_TOKEN_LIFESPAN_S: i64 = 120;
/// Session note holding the time the user authenticated (epoch seconds).
pub const AUTH_TIME_NOTE: &str = "AUTH_TIME";
/// Client attribute that makes a client's access tokens lightweight.
pub const LIGHTWEIGHT_ATTRIBUTE: &str = "client.use.lightweight.access.token.enabled";

/// Everything a claim set is made from.
#[derive(Debug, Clone, Copy)]
pub struct TokenInput<'a> {
    /// `iss`: `{frontend-base}/realms/{realm}`.
    pub issuer: &'a str,
    pub realm: &'a RealmRecord,
    /// The client the token is issued to (`azp`).
    pub client: &'a ClientRecord,
    /// The user (for client credentials, the client's service-account user).
    pub user: &'a UserRecord,
    /// The user's attributes as (name, value); multi-valued attributes repeat the name.
    pub user_attributes: &'a [(String, String)],
    /// Attributes of the user's groups and their ancestors, keyed by full group path
    /// (attribute mappers fall back to them; `aggregate.attrs` merges them).
    pub group_attributes: &'a BTreeMap<String, Vec<(String, String)>>,
    /// The user's effective roles, already limited by the client's role scope.
    pub effective_roles: &'a [RoleRecord],
    /// Internal client id -> clientId for every client owning one of `effective_roles`.
    pub client_ids_by_uuid: &'a BTreeMap<String, String>,
    /// The user's direct groups as (name, full path), in membership order.
    pub direct_groups: &'a [(String, String)],
    /// Protocol mappers of the granted client scopes and of the client, in application order.
    pub mappers: &'a [ProtocolMapperRecord],
    /// The `scope` claim: granted scopes that are included in the token scope, space separated.
    pub granted_scope: &'a str,
    /// `sid`: the SSO session id (empty for none).
    pub session_id: &'a str,
    /// Session notes besides `AUTH_TIME` (which comes from `auth_time_s`): for client
    /// credentials Keycloak's `client_id`, `clientHost` and `clientAddress`.
    pub session_notes: &'a BTreeMap<String, String>,
    /// When the user last entered credentials (epoch seconds).
    pub auth_time_s: i64,
    /// The authorization request's `nonce`, echoed in the ID token.
    pub nonce: Option<&'a str>,
    /// `acr`: `"1"` for a login with credentials, `"0"` when the SSO cookie satisfied it.
    pub acr: &'a str,
    /// Issue time (epoch seconds).
    pub now_s: i64,
    /// Seconds the access token (and ID token) lives; `exp = now_s + access_lifespan_s`.
    pub access_lifespan_s: i64,
    /// Token id, chosen by the caller.
    pub jti: &'a str,
}

/// Does this client get lightweight access tokens (only mappers with `lightweight.claim`)?
pub fn uses_lightweight_access_token(client: &ClientRecord) -> bool {
    client.attribute(LIGHTWEIGHT_ATTRIBUTE) == Some("true")
}

/// The target the client's access tokens are built for.
pub fn access_token_target(client: &ClientRecord) -> Target {
    if uses_lightweight_access_token(client) {
        Target::Lightweight
    } else {
        Target::AccessToken
    }
}

fn mapped(input: &TokenInput<'_>, target: Target, mut claims: ClaimSet) -> (ClaimSet, Vec<String>) {
    let mut notes = input.session_notes.clone();
    notes
        .entry(AUTH_TIME_NOTE.to_string())
        .or_insert_with(|| input.auth_time_s.to_string());
    let mapper_input = MapperInput {
        user: input.user,
        user_attributes: input.user_attributes,
        group_attributes: input.group_attributes,
        effective_roles: input.effective_roles,
        client: input.client,
        client_ids_by_uuid: input.client_ids_by_uuid,
        direct_groups: input.direct_groups,
        session_notes: &notes,
        acr: input.acr,
    };
    let applied = mappers::apply(input.mappers, target, &mapper_input, &mut claims);
    (claims, applied.skipped)
}

/// Names of the mappers ignored when building claims for `target` (for logging).
pub fn skipped_mappers(input: &TokenInput<'_>, target: Target) -> Vec<String> {
    mapped(input, target, ClaimSet::default()).1
}

/// Builds a claim object in order, skipping absent values.
#[derive(Default)]
struct Claims(Map<String, Value>);

impl Claims {
    fn put(&mut self, key: &str, value: impl Into<Value>) {
        self.0.insert(key.to_string(), value.into());
    }
    fn put_opt(&mut self, key: &str, value: Option<impl Into<Value>>) {
        if let Some(v) = value {
            self.put(key, v);
        }
    }
    fn put_nonempty(&mut self, key: &str, value: &str) {
        if !value.is_empty() {
            self.put(key, value);
        }
    }
    /// Mapper-written free claims; a name already emitted as a token field keeps the field.
    fn put_others(&mut self, claims: &ClaimSet) {
        for (k, v) in claims.other_claims() {
            if !self.0.contains_key(&k) {
                self.0.insert(k, v);
            }
        }
    }
    fn done(self) -> Value {
        Value::Object(self.0)
    }
}

/// The access token of a user or service-account login (`typ: Bearer`). Lightweight when the
/// client asks for it.
pub fn access_token(input: &TokenInput<'_>) -> Value {
    let (c, _) = mapped(
        input,
        access_token_target(input.client),
        ClaimSet::default(),
    );
    let mut out = Claims::default();
    out.put("exp", input.now_s + input.access_lifespan_s);
    out.put("iat", input.now_s);
    out.put_opt("auth_time", c.auth_time);
    out.put("jti", input.jti);
    out.put("iss", input.issuer);
    out.put_opt("aud", c.aud_json());
    out.put_opt("sub", c.sub.clone());
    out.put("typ", TYP_BEARER);
    out.put(
        "azp",
        c.azp
            .clone()
            .unwrap_or_else(|| input.client.client_id.clone()),
    );
    out.put_nonempty("sid", input.session_id);
    out.put_opt("acr", c.acr.clone());
    out.put_opt("allowed-origins", c.allowed_origins_json());
    out.put_opt("realm_access", c.realm_access_json());
    out.put_opt("resource_access", c.resource_access_json());
    out.put("scope", input.granted_scope);
    out.put_others(&c);
    out.done()
}

/// The ID token (`typ: ID`, `aud` = the client, plus audiences from audience mappers that are on
/// for ID tokens). `at_hash` when issued together with an access token.
pub fn id_token(input: &TokenInput<'_>, at_hash: Option<&str>) -> Value {
    let start = ClaimSet {
        sub: Some(input.user.id.clone()),
        aud: vec![input.client.client_id.clone()],
        ..ClaimSet::default()
    };
    let (c, _) = mapped(input, Target::IdToken, start);
    let mut out = Claims::default();
    out.put("exp", input.now_s + input.access_lifespan_s);
    out.put("iat", input.now_s);
    out.put_opt("auth_time", c.auth_time);
    out.put("jti", input.jti);
    out.put("iss", input.issuer);
    out.put_opt("aud", c.aud_json());
    out.put_opt("sub", c.sub.clone());
    out.put("typ", TYP_ID);
    out.put(
        "azp",
        c.azp
            .clone()
            .unwrap_or_else(|| input.client.client_id.clone()),
    );
    out.put_opt("nonce", input.nonce);
    out.put_nonempty("sid", input.session_id);
    out.put_opt("at_hash", at_hash);
    out.put_opt("acr", c.acr.clone());
    out.put_others(&c);
    out.done()
}

/// The UserInfo response: `sub` plus the claims of mappers on for UserInfo. Keycloak builds it
/// as one Java `HashMap`, so every claim comes in Java order.
pub fn userinfo(input: &TokenInput<'_>) -> Value {
    let (c, _) = mapped(input, Target::UserInfo, ClaimSet::default());
    let mut entries: Vec<(String, Value)> = vec![(
        "sub".into(),
        Value::String(c.sub.clone().unwrap_or_else(|| input.user.id.clone())),
    )];
    if let Some(aud) = c.aud_json() {
        entries.push(("aud".into(), aud));
    }
    for (k, v) in c.other_claims() {
        if !entries.iter().any(|(e, _)| *e == k) {
            entries.push((k, v));
        }
    }
    // Java's `put` on an existing key keeps the entry where it is.
    let mut replace = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            match entries.iter_mut().find(|(e, _)| e == key) {
                Some(entry) => entry.1 = v,
                None => entries.push((key.to_string(), v)),
            }
        }
    };
    replace("realm_access", c.realm_access_json());
    replace("resource_access", c.resource_access_json());
    Value::Object(java_hash_order(entries).into_iter().collect())
}

/// The introspection response for an active access token whose verified claims are `token`
/// (RFC 7662 §2.2): the token's own protocol claims, the claims of mappers on for
/// introspection (recomputed from current data), then `client_id`, `username`, `token_type`
/// and `active: true`. For an inactive token answer [`inactive_introspection`].
pub fn introspection(input: &TokenInput<'_>, token: &Value) -> Value {
    let t = |k: &str| token.get(k).cloned();
    let text = |k: &str| token.get(k).and_then(Value::as_str).map(str::to_string);
    let aud = match token.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    let start = ClaimSet {
        sub: text("sub"),
        azp: text("azp"),
        aud,
        ..ClaimSet::default()
    };
    let (c, _) = mapped(input, Target::Introspection, start);
    let azp = c
        .azp
        .clone()
        .unwrap_or_else(|| input.client.client_id.clone());
    let typ = text("typ").unwrap_or_else(|| TYP_BEARER.to_string());
    let mut out = Claims::default();
    out.put_opt("exp", t("exp"));
    out.put_opt("iat", t("iat"));
    out.put_opt("auth_time", c.auth_time);
    out.put_opt("jti", t("jti"));
    out.put_opt("iss", t("iss"));
    out.put_opt("aud", c.aud_json());
    out.put_opt("sub", c.sub.clone());
    out.put("typ", typ.clone());
    out.put("azp", azp.clone());
    out.put_opt("nonce", t("nonce"));
    out.put_opt("sid", t("sid"));
    out.put_opt("acr", c.acr.clone());
    out.put_opt("allowed-origins", c.allowed_origins_json());
    out.put_opt("realm_access", c.realm_access_json());
    out.put_opt("resource_access", c.resource_access_json());
    out.put_opt("cnf", t("cnf"));
    if let Some(scope) = text("scope").filter(|s| !s.trim().is_empty()) {
        out.put("scope", scope);
    }
    out.put_others(&c);
    // A claim of the same name keeps its position and takes the new value.
    out.put("client_id", azp);
    if !out.0.contains_key("username") {
        out.put("username", input.user.username.clone());
    }
    out.put("token_type", typ);
    out.put("active", true);
    out.done()
}

/// The introspection response for a token that is not active.
pub fn inactive_introspection() -> Value {
    serde_json::json!({ "active": false })
}

/// What a refresh token needs beyond [`TokenInput`].
#[derive(Debug, Clone, Copy)]
pub struct RefreshInput<'a> {
    /// The refresh token's own id.
    pub jti: &'a str,
    /// Expiry: the earlier of the session's idle and max expiry. `None` for offline tokens
    /// without a maximum lifespan, which Keycloak issues without `exp`.
    pub exp_s: Option<i64>,
    /// An offline token (`typ: Offline`) rather than a refresh token.
    pub offline: bool,
}

/// The refresh (or offline) token: `aud` is the issuer; `sub` only when the access token it
/// comes with has one (Keycloak copies it from there).
pub fn refresh_token(input: &TokenInput<'_>, refresh: &RefreshInput<'_>) -> Value {
    let (c, _) = mapped(
        input,
        access_token_target(input.client),
        ClaimSet::default(),
    );
    let mut out = Claims::default();
    out.put_opt("exp", refresh.exp_s);
    out.put("iat", input.now_s);
    out.put("jti", refresh.jti);
    out.put("iss", input.issuer);
    out.put("aud", input.issuer);
    out.put_opt("sub", c.sub.clone());
    out.put(
        "typ",
        if refresh.offline {
            TYP_OFFLINE
        } else {
            TYP_REFRESH
        },
    );
    out.put(
        "azp",
        c.azp
            .clone()
            .unwrap_or_else(|| input.client.client_id.clone()),
    );
    out.put_nonempty("sid", input.session_id);
    out.put("scope", input.granted_scope);
    out.done()
}

/// A back-channel logout token (OpenID Connect Back-Channel Logout §2.4): no `nonce`, an
/// `events` member, `sid` when the client requires it (`backchannel.logout.session.required`).
pub fn logout_token(
    issuer: &str,
    client_id: &str,
    sub: &str,
    sid: Option<&str>,
    jti: &str,
    now_s: i64,
) -> Value {
    logout_token_with(issuer, client_id, sub, sid, jti, now_s, false)
}

/// [`logout_token`] for a client with `backchannel.logout.revoke.offline.tokens`: the events
/// member also carries `revoke_offline_access: true`.
pub fn logout_token_revoking_offline(
    issuer: &str,
    client_id: &str,
    sub: &str,
    sid: Option<&str>,
    jti: &str,
    now_s: i64,
) -> Value {
    logout_token_with(issuer, client_id, sub, sid, jti, now_s, true)
}

fn logout_token_with(
    issuer: &str,
    client_id: &str,
    sub: &str,
    sid: Option<&str>,
    jti: &str,
    now_s: i64,
    revoke_offline: bool,
) -> Value {
    let mut events = vec![(
        BACKCHANNEL_LOGOUT_EVENT.to_string(),
        Value::Object(Map::new()),
    )];
    if revoke_offline {
        events.push((REVOKE_OFFLINE_ACCESS_EVENT.to_string(), Value::Bool(true)));
    }
    let mut out = Claims::default();
    out.put("exp", now_s + LOGOUT_TOKEN_LIFESPAN_S);
    out.put("iat", now_s);
    out.put("jti", jti);
    out.put("iss", issuer);
    out.put("aud", client_id);
    out.put("sub", sub);
    out.put("typ", TYP_LOGOUT);
    out.put_opt("sid", sid);
    out.put(
        "events",
        Value::Object(java_hash_order(events).into_iter().collect()),
    );
    out.done()
}

/// `at_hash` (OpenID Connect Core §3.1.3.6): the left half of the hash of the access token's
/// ASCII text, base64url without padding. The hash follows the signing algorithm: SHA-384 for
/// `*384`, SHA-512 for `*512` and for `EdDSA` (Ed25519), SHA-256 otherwise.
pub fn at_hash(access_token: &str, alg: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest: Vec<u8> = if alg.ends_with("384") {
        sha2::Sha384::digest(access_token.as_bytes()).to_vec()
    } else if alg.ends_with("512") || alg == "EdDSA" {
        sha2::Sha512::digest(access_token.as_bytes()).to_vec()
    } else {
        sha2::Sha256::digest(access_token.as_bytes()).to_vec()
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_known_vector() {
        // OpenID Connect Core, Appendix A.3 (RS256).
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(at_hash(token, "RS256"), "77QmUPtjPfzWtF2AnpK9RQ");
        assert_eq!(at_hash(token, "RS384").len(), 32);
        assert_eq!(at_hash(token, "ES512").len(), 43);
        assert_eq!(at_hash(token, "EdDSA"), at_hash(token, "RS512"));
    }

    #[test]
    fn logout_token_shape() {
        let t = logout_token("https://i/realms/r", "app", "u1", Some("s1"), "j1", 1000);
        assert_eq!(
            serde_json::to_string(&t).ok(),
            Some(
                r#"{"exp":1120,"iat":1000,"jti":"j1","iss":"https://i/realms/r","aud":"app","sub":"u1","typ":"Logout","sid":"s1","events":{"http://schemas.openid.net/event/backchannel-logout":{}}}"#
                    .to_string()
            )
        );
        let t = logout_token_revoking_offline("i", "app", "u1", None, "j1", 0);
        assert!(t.get("sid").is_none() && t.get("nonce").is_none());
        assert_eq!(
            t.get("events")
                .and_then(|e| e.get(REVOKE_OFFLINE_ACCESS_EVENT)),
            Some(&Value::Bool(true))
        );
    }
}
