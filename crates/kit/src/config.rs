//! The kit's configuration: read from a JSON file and/or the environment, validated once
//! into [`KitConfig`].
//!
//! Environment variables (each overrides the file's field of the same meaning):
//!
//! | variable | meaning |
//! |---|---|
//! | `KIT_CONFIG` | path of a JSON file with the fields below (snake case) |
//! | `OIDC_ISSUER` | public issuer URL, e.g. `https://example.com/auth/realms/myrealm` |
//! | `OIDC_BACKCHANNEL_URL` | internal base URL replacing the issuer's base for token, JWKS and UserInfo calls, e.g. `http://keycloak.local:8080/auth` |
//! | `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET` | the service's confidential client |
//! | `OIDC_SCOPES` | space-separated scopes (default `openid profile email`) |
//! | `SERVICE_URL` | the service's own public base URL (callback and post-logout URLs derive from it) |
//! | `DATABASE_URL` | `sqlite://file.db` (created) or `postgres://...` |
//! | `GROUP_TO_ROLE` | JSON object: group name → role name or list of role names |
//!
//! Role definitions (`roles`), `staff_roles`, `superuser_roles` and `role_order` come from the
//! file.

use crate::error::KitError;
use portcullis_rbac::Policy;
use serde::Deserialize;
use std::collections::BTreeMap;
use url::Url;
use zeroize::Zeroizing;

/// A client secret that never prints.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(Zeroizing::new(s.into()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One group maps to one role or to several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RoleNames {
    One(String),
    Many(Vec<String>),
}

impl RoleNames {
    pub fn names(&self) -> Vec<String> {
        match self {
            RoleNames::One(s) => vec![s.clone()],
            RoleNames::Many(v) => v.clone(),
        }
    }
}

/// The file as read (every field optional; the environment may supply it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub issuer: Option<String>,
    pub backchannel_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scopes: Option<String>,
    pub service_url: Option<String>,
    pub database_url: Option<String>,
    #[serde(default)]
    pub group_to_role: BTreeMap<String, RoleNames>,
    /// Role definitions (permissions `object.operation`, `inherits`), NIST RBAC.
    #[serde(default)]
    pub roles: Policy,
    #[serde(default)]
    pub staff_roles: Vec<String>,
    #[serde(default)]
    pub superuser_roles: Vec<String>,
    /// Roles from most to least important; the first one a user holds is its primary role.
    #[serde(default)]
    pub role_order: Vec<String>,
    /// Audience bearer tokens must carry (default: the client id).
    pub api_audience: Option<String>,
    /// Lifetime of a service session in seconds (default 8 hours).
    pub session_lifetime_s: Option<i64>,
    /// Shortest interval between JWKS fetches caused by unknown key ids (default 10 s).
    pub jwks_min_refresh_s: Option<u64>,
}

/// What runs, validated.
#[derive(Debug, Clone)]
pub struct KitConfig {
    /// The public issuer, exactly as tokens carry it.
    pub issuer: Url,
    /// Internal base for backchannel calls, if different from the issuer's base.
    pub backchannel_base: Option<Url>,
    pub client_id: String,
    pub client_secret: Secret,
    pub scopes: String,
    /// The service's public base URL (no trailing slash).
    pub service_url: Url,
    pub database_url: String,
    pub group_to_role: BTreeMap<String, Vec<String>>,
    pub roles: Policy,
    pub staff_roles: Vec<String>,
    pub superuser_roles: Vec<String>,
    pub role_order: Vec<String>,
    pub api_audience: String,
    pub session_lifetime_s: i64,
    pub jwks_min_refresh: std::time::Duration,
}

fn bad(field: &'static str, why: impl Into<String>) -> KitError {
    KitError::Config {
        field,
        reason: why.into(),
    }
}

fn http_url(field: &'static str, value: &str) -> Result<Url, KitError> {
    let url = Url::parse(value.trim_end_matches('/')).map_err(|e| bad(field, e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad(field, "must be an http(s) URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(field, "must not have a query or fragment"));
    }
    Ok(url)
}

impl KitConfig {
    /// Read `KIT_CONFIG` (if set) and the environment variables above.
    pub fn from_env() -> Result<KitConfig, KitError> {
        Self::from_sources(|k| std::env::var(k).ok())
    }

    /// Same as [`KitConfig::from_env`] with a custom variable lookup (tests).
    pub fn from_sources(env: impl Fn(&str) -> Option<String>) -> Result<KitConfig, KitError> {
        let mut raw = match env("KIT_CONFIG") {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| bad("KIT_CONFIG", format!("{path}: {e}")))?;
                serde_json::from_str::<RawConfig>(&text)
                    .map_err(|e| bad("KIT_CONFIG", format!("{path}: {e}")))?
            }
            None => RawConfig::default(),
        };
        let set = |slot: &mut Option<String>, var: &str| {
            if let Some(v) = env(var).filter(|v| !v.is_empty()) {
                *slot = Some(v);
            }
        };
        set(&mut raw.issuer, "OIDC_ISSUER");
        set(&mut raw.backchannel_url, "OIDC_BACKCHANNEL_URL");
        set(&mut raw.client_id, "OIDC_CLIENT_ID");
        set(&mut raw.client_secret, "OIDC_CLIENT_SECRET");
        set(&mut raw.scopes, "OIDC_SCOPES");
        set(&mut raw.service_url, "SERVICE_URL");
        set(&mut raw.database_url, "DATABASE_URL");
        if let Some(map) = env("GROUP_TO_ROLE").filter(|v| !v.is_empty()) {
            raw.group_to_role = serde_json::from_str(&map).map_err(|e| {
                bad(
                    "GROUP_TO_ROLE",
                    format!("a JSON object of group → role(s): {e}"),
                )
            })?;
        }
        Self::validate(raw)
    }

    /// Check a raw configuration and turn it into settings.
    pub fn validate(raw: RawConfig) -> Result<KitConfig, KitError> {
        let issuer = http_url(
            "issuer",
            raw.issuer
                .as_deref()
                .ok_or_else(|| bad("issuer", "required (OIDC_ISSUER)"))?,
        )?;
        if !issuer.path().contains("/realms/") {
            return Err(bad(
                "issuer",
                "expected …/realms/{realm} (the identity server's issuer)",
            ));
        }
        let backchannel_base = raw
            .backchannel_url
            .as_deref()
            .map(|u| http_url("backchannel_url", u))
            .transpose()?;
        let client_id = raw
            .client_id
            .filter(|c| !c.is_empty())
            .ok_or_else(|| bad("client_id", "required (OIDC_CLIENT_ID)"))?;
        let client_secret = Secret::new(
            raw.client_secret
                .filter(|c| !c.is_empty())
                .ok_or_else(|| bad("client_secret", "required (OIDC_CLIENT_SECRET)"))?,
        );
        let scopes = raw
            .scopes
            .unwrap_or_else(|| "openid profile email".to_owned());
        if !scopes.split_ascii_whitespace().any(|s| s == "openid") {
            return Err(bad("scopes", "must include openid"));
        }
        let service_url = http_url(
            "service_url",
            raw.service_url
                .as_deref()
                .ok_or_else(|| bad("service_url", "required (SERVICE_URL)"))?,
        )?;
        let database_url = raw
            .database_url
            .unwrap_or_else(|| "sqlite://service.db".to_owned());
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            return Err(bad("database_url", "sqlite:… or postgres://…"));
        }
        // Every role named anywhere must be defined.
        let known = |r: &String| raw.roles.roles.contains_key(r);
        let group_to_role: BTreeMap<String, Vec<String>> = raw
            .group_to_role
            .into_iter()
            .map(|(g, r)| (g, r.names()))
            .collect();
        for (what, names) in [
            (
                "group_to_role",
                group_to_role.values().flatten().collect::<Vec<_>>(),
            ),
            ("staff_roles", raw.staff_roles.iter().collect()),
            ("superuser_roles", raw.superuser_roles.iter().collect()),
            ("role_order", raw.role_order.iter().collect()),
        ] {
            if let Some(unknown) = names.into_iter().find(|r| !known(r)) {
                return Err(bad(
                    what,
                    format!("role {unknown:?} is not defined in roles"),
                ));
            }
        }
        // The definitions themselves must build (no cycles, known juniors).
        raw.roles.build().map_err(|e| bad("roles", e.to_string()))?;
        let session_lifetime_s = raw.session_lifetime_s.unwrap_or(8 * 3600);
        if !(60..=30 * 86400).contains(&session_lifetime_s) {
            return Err(bad("session_lifetime_s", "between 60 s and 30 days"));
        }
        Ok(KitConfig {
            api_audience: raw.api_audience.unwrap_or_else(|| client_id.clone()),
            issuer,
            backchannel_base,
            client_id,
            client_secret,
            scopes,
            service_url,
            database_url,
            group_to_role,
            roles: raw.roles,
            staff_roles: raw.staff_roles,
            superuser_roles: raw.superuser_roles,
            role_order: raw.role_order,
            session_lifetime_s,
            jwks_min_refresh: std::time::Duration::from_secs(
                raw.jwks_min_refresh_s.unwrap_or(10).min(3600),
            ),
        })
    }

    /// The service's callback URL (`{service_url}/callback`).
    pub fn redirect_uri(&self) -> String {
        format!(
            "{}/callback",
            self.service_url.as_str().trim_end_matches('/')
        )
    }

    /// Where the identity server sends the browser after logout (`{service_url}/`).
    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/", self.service_url.as_str().trim_end_matches('/'))
    }

    /// Whether cookies get the `Secure` flag (the service is served over HTTPS).
    pub fn secure_cookies(&self) -> bool {
        self.service_url.scheme() == "https"
    }

    /// The issuer as a string without a trailing slash (as tokens carry it).
    pub fn issuer_str(&self) -> &str {
        self.issuer.as_str().trim_end_matches('/')
    }

    /// A URL of the identity server for a backchannel call: the public `url` with its
    /// issuer base replaced by the backchannel base (when configured and when `url` is under
    /// the public base).
    pub fn to_backchannel(&self, url: &str) -> String {
        let Some(back) = &self.backchannel_base else {
            return url.to_owned();
        };
        let issuer = self.issuer_str();
        let public_base = issuer.find("/realms/").map_or(issuer, |i| &issuer[..i]);
        match url.strip_prefix(public_base) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                format!("{}{rest}", back.as_str().trim_end_matches('/'))
            }
            _ => url.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const BASE: &[(&str, &str)] = &[
        ("OIDC_ISSUER", "https://example.com/auth/realms/myrealm"),
        ("OIDC_BACKCHANNEL_URL", "http://keycloak.local:8080/auth"),
        ("OIDC_CLIENT_ID", "myclient"),
        ("OIDC_CLIENT_SECRET", "s3cret"),
        ("SERVICE_URL", "https://app.example.com"),
    ];

    #[test]
    fn backchannel_urls_replace_the_public_base_only() {
        let c = KitConfig::from_sources(env(BASE)).unwrap();
        assert_eq!(
            c.to_backchannel(
                "https://example.com/auth/realms/myrealm/protocol/openid-connect/token"
            ),
            "http://keycloak.local:8080/auth/realms/myrealm/protocol/openid-connect/token"
        );
        // Already internal, or another host: unchanged.
        assert_eq!(
            c.to_backchannel("http://keycloak.local:8080/auth/realms/myrealm/x"),
            "http://keycloak.local:8080/auth/realms/myrealm/x"
        );
        assert_eq!(
            c.to_backchannel("https://example.com/authx"),
            "https://example.com/authx"
        );
        assert_eq!(c.redirect_uri(), "https://app.example.com/callback");
        assert!(c.secure_cookies());
        assert_eq!(c.api_audience, "myclient");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn missing_and_malformed_settings_are_named() {
        let err =
            |vars: &[(&str, &str)]| KitConfig::from_sources(env(vars)).unwrap_err().to_string();
        assert!(err(&BASE[1..]).contains("issuer"));
        let mut v = BASE.to_vec();
        v[0] = ("OIDC_ISSUER", "ftp://x/realms/r");
        assert!(err(&v).contains("http(s)"));
        let mut v = BASE.to_vec();
        v.push(("GROUP_TO_ROLE", "{\"editors\": \"editor\"}"));
        assert!(err(&v).contains("\"editor\" is not defined"));
        let mut v = BASE.to_vec();
        v.push(("GROUP_TO_ROLE", "[1,2]"));
        assert!(err(&v).contains("GROUP_TO_ROLE"));
        let mut v = BASE.to_vec();
        v.push(("OIDC_SCOPES", "profile"));
        assert!(err(&v).contains("openid"));
    }
}
