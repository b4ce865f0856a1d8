//! The OpenID Provider metadata document (OIDC Discovery 1.0 §3, RFC 8414 §2) of a realm.
//!
//! Invariants:
//! - Members appear in Keycloak's order (compat §1.4), so diffs against a Keycloak document
//!   read line by line; members we do not implement are left out rather than listed empty.
//! - Nothing is advertised that does not work (JWT-1): each optional feature is switched on by
//!   the server through [`Capabilities`] as it gets implemented.
//! - `issuer`, `authorization_endpoint`, `end_session_endpoint` and `check_session_iframe` are
//!   frontend URLs; the other endpoints come from [`RealmUrls`] as the hostname rules chose.

use portcullis_model::records::KeyRecord;
use serde_json::{Map, Value, json};

use crate::jose::Algorithm;
use crate::urls::RealmUrls;

/// Grant types we implement (Keycloak also lists implicit, device, token exchange, UMA, CIBA).
pub const GRANT_TYPES: [&str; 4] = [
    "authorization_code",
    "client_credentials",
    "password",
    "refresh_token",
];
/// Only the authorization code flow.
pub const RESPONSE_TYPES: [&str; 1] = ["code"];
pub const RESPONSE_MODES: [&str; 3] = ["query", "fragment", "form_post"];
/// RFC 7636 §4.2, in Keycloak's order.
pub const CODE_CHALLENGE_METHODS: [&str; 2] = ["plain", "S256"];
/// Client authentication at token, introspection and revocation endpoints.
pub const CLIENT_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];
/// Keycloak's `claims_supported`, verbatim.
pub const CLAIMS: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "email",
    "acr",
    "azp",
    "nonce",
];

/// What the server implements today; each switch adds or removes members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// `id_token_signing_alg_values_supported`: see [`id_token_signing_algs`].
    pub id_token_signing_algs: Vec<Algorithm>,
    pub introspection: bool,
    pub userinfo: bool,
    pub end_session: bool,
    pub revocation: bool,
    /// `check_session_iframe` (OIDC Session Management).
    pub check_session_iframe: bool,
    /// `backchannel_logout_supported` and `backchannel_logout_session_supported` (`sid`).
    pub backchannel_logout: bool,
    /// `prompt_values_supported`; left out while empty.
    pub prompt_values: Vec<String>,
    /// `acr_values_supported`; left out while empty (Keycloak: `"0"`, `"1"`).
    pub acr_values: Vec<String>,
    /// `claims_parameter_supported` (OIDC Core §5.5).
    pub claims_parameter: bool,
}

impl Default for Capabilities {
    /// The endpoints and behaviours the first release ships: introspection, UserInfo,
    /// end-session, revocation and back-channel logout on; RS256 ID tokens.
    fn default() -> Self {
        Self {
            id_token_signing_algs: vec![Algorithm::RS256],
            introspection: true,
            userinfo: true,
            end_session: true,
            revocation: true,
            check_session_iframe: false,
            backchannel_logout: true,
            prompt_values: Vec::new(),
            acr_values: Vec::new(),
            claims_parameter: false,
        }
    }
}

/// The signing algorithms of the realm's enabled asymmetric keys, deduplicated, RS256 first
/// (the default realm algorithm; authlib and others take this list). HMAC algorithms are left
/// out: a relying party cannot verify a token MACed with the realm's secret.
pub fn id_token_signing_algs<'a>(algorithms: impl IntoIterator<Item = &'a str>) -> Vec<Algorithm> {
    let mut algs: Vec<Algorithm> = algorithms
        .into_iter()
        .filter_map(Algorithm::parse)
        .filter(|a| !a.is_symmetric())
        .collect();
    algs.sort_by_key(|a| (*a != Algorithm::RS256, *a));
    algs.dedup();
    algs
}

/// [`id_token_signing_algs`] over the realm's key records (enabled `sig` keys only).
pub fn id_token_signing_algs_of(keys: &[KeyRecord]) -> Vec<Algorithm> {
    id_token_signing_algs(
        keys.iter()
            .filter(|k| k.enabled && k.key_use == "sig")
            .map(|k| k.algorithm.as_str()),
    )
}

fn strings<S: AsRef<str>>(items: &[S]) -> Value {
    Value::Array(items.iter().map(|s| json!(s.as_ref())).collect())
}

/// The discovery document. `scopes` are the realm's OIDC client-scope names; `openid` is put
/// first (and not repeated).
pub fn discovery_document(urls: &RealmUrls, scopes: &[String], caps: &Capabilities) -> Value {
    let mut d = Map::new();
    let mut put = |k: &str, v: Value| {
        d.insert(k.to_owned(), v);
    };
    put("issuer", json!(urls.issuer));
    put("authorization_endpoint", json!(urls.authorization_endpoint));
    put("token_endpoint", json!(urls.token_endpoint));
    if caps.introspection {
        put("introspection_endpoint", json!(urls.introspection_endpoint));
    }
    if caps.userinfo {
        put("userinfo_endpoint", json!(urls.userinfo_endpoint));
    }
    if caps.end_session {
        put("end_session_endpoint", json!(urls.end_session_endpoint));
    }
    put("frontchannel_logout_session_supported", json!(false));
    put("frontchannel_logout_supported", json!(false));
    put("jwks_uri", json!(urls.jwks_uri));
    if caps.check_session_iframe {
        put("check_session_iframe", json!(urls.check_session_iframe));
    }
    put("grant_types_supported", strings(&GRANT_TYPES));
    if !caps.acr_values.is_empty() {
        put("acr_values_supported", strings(&caps.acr_values));
    }
    put("response_types_supported", strings(&RESPONSE_TYPES));
    // OIDC Discovery §3: REQUIRED. No pairwise identifiers.
    put("subject_types_supported", json!(["public"]));
    if !caps.prompt_values.is_empty() {
        put("prompt_values_supported", strings(&caps.prompt_values));
    }
    // OIDC Discovery §3: REQUIRED, and must include RS256.
    let algs: Vec<&str> = caps
        .id_token_signing_algs
        .iter()
        .map(|a| a.as_str())
        .collect();
    put("id_token_signing_alg_values_supported", strings(&algs));
    put("response_modes_supported", strings(&RESPONSE_MODES));
    put(
        "token_endpoint_auth_methods_supported",
        strings(&CLIENT_AUTH_METHODS),
    );
    if caps.introspection {
        put(
            "introspection_endpoint_auth_methods_supported",
            strings(&CLIENT_AUTH_METHODS),
        );
    }
    put("claims_supported", strings(&CLAIMS));
    put("claim_types_supported", json!(["normal"]));
    put("claims_parameter_supported", json!(caps.claims_parameter));
    let mut scope_list: Vec<&str> = vec!["openid"];
    scope_list.extend(scopes.iter().map(String::as_str).filter(|s| *s != "openid"));
    put("scopes_supported", strings(&scope_list));
    put("request_parameter_supported", json!(false));
    put("request_uri_parameter_supported", json!(false));
    put(
        "code_challenge_methods_supported",
        strings(&CODE_CHALLENGE_METHODS),
    );
    if caps.revocation {
        put("revocation_endpoint", json!(urls.revocation_endpoint));
        put(
            "revocation_endpoint_auth_methods_supported",
            strings(&CLIENT_AUTH_METHODS),
        );
    }
    put(
        "backchannel_logout_supported",
        json!(caps.backchannel_logout),
    );
    put(
        "backchannel_logout_session_supported",
        json!(caps.backchannel_logout),
    );
    put("require_pushed_authorization_requests", json!(false));
    // RFC 9207: we send `iss` with every authorization response.
    put(
        "authorization_response_iss_parameter_supported",
        json!(true),
    );
    Value::Object(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::urls::{HostnamePolicy, HostnameSpec, ProxyHeaderMode, RequestInfo, realm_urls};

    fn urls() -> RealmUrls {
        let policy = HostnamePolicy {
            hostname: Some(HostnameSpec::parse("https://public.example/auth").unwrap()),
            strict: true,
            backchannel_dynamic: true,
            proxy_headers: Some(ProxyHeaderMode::XForwarded),
            relative_path: "/auth".into(),
        };
        let request = RequestInfo {
            scheme: "http".into(),
            host_header: Some("keycloak.local:8080".into()),
            ..Default::default()
        };
        realm_urls(&policy, &request, "myrealm")
    }

    #[test]
    fn snapshot_backchannel_request() {
        let scopes: Vec<String> = [
            "acr",
            "basic",
            "web-origins",
            "offline_access",
            "profile",
            "email",
            "roles",
            "openid",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let caps = Capabilities {
            id_token_signing_algs: id_token_signing_algs([
                "ES256", "HS512", "RS256", "EdDSA", "RS256",
            ]),
            ..Capabilities::default()
        };
        let doc = discovery_document(&urls(), &scopes, &caps);
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let expected = r#"{
  "issuer": "https://public.example/auth/realms/myrealm",
  "authorization_endpoint": "https://public.example/auth/realms/myrealm/protocol/openid-connect/auth",
  "token_endpoint": "http://keycloak.local:8080/auth/realms/myrealm/protocol/openid-connect/token",
  "introspection_endpoint": "http://keycloak.local:8080/auth/realms/myrealm/protocol/openid-connect/token/introspect",
  "userinfo_endpoint": "http://keycloak.local:8080/auth/realms/myrealm/protocol/openid-connect/userinfo",
  "end_session_endpoint": "https://public.example/auth/realms/myrealm/protocol/openid-connect/logout",
  "frontchannel_logout_session_supported": false,
  "frontchannel_logout_supported": false,
  "jwks_uri": "http://keycloak.local:8080/auth/realms/myrealm/protocol/openid-connect/certs",
  "grant_types_supported": [
    "authorization_code",
    "client_credentials",
    "password",
    "refresh_token"
  ],
  "response_types_supported": [
    "code"
  ],
  "subject_types_supported": [
    "public"
  ],
  "id_token_signing_alg_values_supported": [
    "RS256",
    "ES256",
    "EdDSA"
  ],
  "response_modes_supported": [
    "query",
    "fragment",
    "form_post"
  ],
  "token_endpoint_auth_methods_supported": [
    "client_secret_basic",
    "client_secret_post"
  ],
  "introspection_endpoint_auth_methods_supported": [
    "client_secret_basic",
    "client_secret_post"
  ],
  "claims_supported": [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "email",
    "acr",
    "azp",
    "nonce"
  ],
  "claim_types_supported": [
    "normal"
  ],
  "claims_parameter_supported": false,
  "scopes_supported": [
    "openid",
    "acr",
    "basic",
    "web-origins",
    "offline_access",
    "profile",
    "email",
    "roles"
  ],
  "request_parameter_supported": false,
  "request_uri_parameter_supported": false,
  "code_challenge_methods_supported": [
    "plain",
    "S256"
  ],
  "revocation_endpoint": "http://keycloak.local:8080/auth/realms/myrealm/protocol/openid-connect/revoke",
  "revocation_endpoint_auth_methods_supported": [
    "client_secret_basic",
    "client_secret_post"
  ],
  "backchannel_logout_supported": true,
  "backchannel_logout_session_supported": true,
  "require_pushed_authorization_requests": false,
  "authorization_response_iss_parameter_supported": true
}"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn optional_members_follow_capabilities() {
        let caps = Capabilities {
            introspection: false,
            userinfo: false,
            end_session: false,
            revocation: false,
            backchannel_logout: false,
            check_session_iframe: true,
            prompt_values: vec!["none".into(), "login".into()],
            acr_values: vec!["0".into(), "1".into()],
            claims_parameter: true,
            ..Capabilities::default()
        };
        let doc = discovery_document(&urls(), &[], &caps);
        for absent in [
            "introspection_endpoint",
            "introspection_endpoint_auth_methods_supported",
            "userinfo_endpoint",
            "end_session_endpoint",
            "revocation_endpoint",
            "revocation_endpoint_auth_methods_supported",
        ] {
            assert!(doc.get(absent).is_none(), "{absent}");
        }
        assert_eq!(doc["backchannel_logout_supported"], false);
        assert_eq!(
            doc["check_session_iframe"],
            "https://public.example/auth/realms/myrealm/protocol/openid-connect/login-status-iframe.html"
        );
        assert_eq!(doc["prompt_values_supported"], json!(["none", "login"]));
        assert_eq!(doc["acr_values_supported"], json!(["0", "1"]));
        assert_eq!(doc["claims_parameter_supported"], true);
        assert_eq!(doc["scopes_supported"], json!(["openid"]));
        // Keycloak's relative order is kept for the members that are present.
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        let pos = |k: &str| keys.iter().position(|x| *x == k).unwrap();
        assert!(pos("jwks_uri") < pos("check_session_iframe"));
        assert!(pos("check_session_iframe") < pos("grant_types_supported"));
        assert!(pos("grant_types_supported") < pos("acr_values_supported"));
        assert!(pos("subject_types_supported") < pos("prompt_values_supported"));
    }

    #[test]
    fn signing_algs_put_rs256_first_and_drop_hmac() {
        assert_eq!(
            id_token_signing_algs(["PS256", "HS256", "ES256", "RS256", "bogus", "ES256"]),
            [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256]
        );
        assert_eq!(id_token_signing_algs(["EdDSA"]), [Algorithm::EdDSA]);
    }

    #[test]
    fn signing_algs_of_records_use_enabled_sig_keys() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut ed = crate::keys::generate(Algorithm::EdDSA, &rng, 0, "r", "a").unwrap();
        let es = crate::keys::generate(Algorithm::ES256, &rng, 0, "r", "b").unwrap();
        let hs = crate::keys::generate(Algorithm::HS512, &rng, 0, "r", "c").unwrap();
        assert_eq!(
            id_token_signing_algs_of(&[ed.clone(), es.clone(), hs.clone()]),
            [Algorithm::ES256, Algorithm::EdDSA]
        );
        ed.enabled = false;
        let mut es_enc = es.clone();
        es_enc.key_use = "enc".into();
        assert_eq!(id_token_signing_algs_of(&[ed, es_enc, hs]), []);
    }
}
