//! The identity server as the service sees it: discovery, the JWKS cache, the code exchange,
//! UserInfo, and local verification of ID, access and logout tokens.
//!
//! Invariants:
//! - every call to the identity server goes to its backchannel URL (token, JWKS, UserInfo);
//!   only the authorization and end-session endpoints are handed to the browser;
//! - the issuer check always uses the configured public issuer, whatever URL a document was
//!   fetched from;
//! - discovery is lazy: a service starts (and serves break-glass logins) while the identity
//!   server is down;
//! - an unknown `kid` refreshes the JWKS at most once per `jwks_min_refresh` (default 10 s),
//!   so forged tokens cannot make the service hammer the identity server.

use crate::config::KitConfig;
use crate::error::KitError;
use portcullis_oidc::jose::{self, Algorithm, JwtError, Verifier};
use serde_json::Value;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Clock skew tolerated on `exp`/`nbf`.
pub const LEEWAY_S: i64 = 30;
/// Signature algorithms accepted from the identity server.
const ALGS: &[Algorithm] = &[
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

/// The endpoints the kit uses, as the service must call them.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Browser-facing (public).
    pub authorization: String,
    /// Browser-facing (public); None when the server has no RP-initiated logout.
    pub end_session: Option<String>,
    /// Backchannel.
    pub token: String,
    pub jwks: String,
    pub userinfo: Option<String>,
}

struct Keys {
    verifier: Arc<Verifier>,
    fetched: Option<Instant>,
}

/// A handle to the identity server (cheap to clone).
#[derive(Clone)]
pub struct Provider {
    config: Arc<KitConfig>,
    http: reqwest::Client,
    endpoints: Arc<tokio::sync::OnceCell<Endpoints>>,
    keys: Arc<RwLock<Keys>>,
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

/// A token response's fields the kit uses.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub id_token: String,
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Provider {
    pub fn new(config: Arc<KitConfig>) -> Result<Provider, KitError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| KitError::Provider(e.to_string()))?;
        Ok(Provider {
            config,
            http,
            endpoints: Arc::new(tokio::sync::OnceCell::new()),
            keys: Arc::new(RwLock::new(Keys {
                verifier: Arc::new(Verifier::new()),
                fetched: None,
            })),
            refreshing: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    pub fn config(&self) -> &KitConfig {
        &self.config
    }

    /// The endpoints, from the discovery document (fetched over the backchannel once).
    pub async fn endpoints(&self) -> Result<&Endpoints, KitError> {
        self.endpoints.get_or_try_init(|| self.discover()).await
    }

    async fn discover(&self) -> Result<Endpoints, KitError> {
        let issuer = self.config.issuer_str();
        let url = self
            .config
            .to_backchannel(&format!("{issuer}/.well-known/openid-configuration"));
        let doc: Value = self.get_json(&url).await?;
        // OpenID Connect Discovery §4.3: the document's issuer must be the one configured.
        let doc_issuer = doc.get("issuer").and_then(Value::as_str).unwrap_or("");
        if doc_issuer != issuer {
            return Err(KitError::Provider(format!(
                "discovery names issuer {doc_issuer:?}, expected {issuer:?} (check --hostname)"
            )));
        }
        let field = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
        let need = |k: &'static str| {
            field(k).ok_or_else(|| KitError::Provider(format!("discovery without {k}")))
        };
        Ok(Endpoints {
            authorization: need("authorization_endpoint")?,
            end_session: field("end_session_endpoint"),
            token: self.config.to_backchannel(&need("token_endpoint")?),
            jwks: self.config.to_backchannel(&need("jwks_uri")?),
            userinfo: field("userinfo_endpoint").map(|u| self.config.to_backchannel(&u)),
        })
    }

    async fn get_json(&self, url: &str) -> Result<Value, KitError> {
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| KitError::Provider(format!("GET {url}: {e}")))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(KitError::Provider(format!("GET {url}: HTTP {status}")));
        }
        resp.json()
            .await
            .map_err(|e| KitError::Provider(format!("GET {url}: {e}")))
    }

    /// Exchange an authorization code (client_secret_basic, PKCE verifier) over the
    /// backchannel.
    pub async fn exchange_code(&self, code: &str, verifier: &str) -> Result<Tokens, KitError> {
        let ep = self.endpoints().await?;
        let redirect_uri = self.config.redirect_uri();
        let resp = self
            .http
            .post(&ep.token)
            .basic_auth(
                &self.config.client_id,
                Some(self.config.client_secret.expose()),
            )
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri.as_str()),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .map_err(|e| KitError::Provider(format!("token endpoint: {e}")))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let error = body.get("error").and_then(Value::as_str).unwrap_or("?");
            return Err(KitError::Login(format!(
                "code exchange refused: HTTP {status} {error}"
            )));
        }
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(Tokens {
            access_token: text("access_token")
                .ok_or_else(|| KitError::Provider("token response without access_token".into()))?,
            id_token: text("id_token")
                .ok_or_else(|| KitError::Provider("token response without id_token".into()))?,
        })
    }

    /// UserInfo over the backchannel (None when the server has no UserInfo endpoint).
    pub async fn userinfo(&self, access_token: &str) -> Result<Option<Value>, KitError> {
        let ep = self.endpoints().await?;
        let Some(url) = &ep.userinfo else {
            return Ok(None);
        };
        let resp = self
            .http
            .get(url)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| KitError::Provider(format!("userinfo: {e}")))?;
        if !resp.status().is_success() {
            return Err(KitError::Provider(format!(
                "userinfo: HTTP {}",
                resp.status()
            )));
        }
        resp.json()
            .await
            .map(Some)
            .map_err(|e| KitError::Provider(format!("userinfo: {e}")))
    }

    /// Verify a JWT's signature with the identity server's keys, refreshing them once when
    /// the `kid` is unknown.
    pub async fn verify_signature(&self, token: &str) -> Result<Value, KitError> {
        let current = self.verifier()?;
        match current.verify(token, ALGS) {
            Ok(v) => Ok(v.claims),
            Err(JwtError::UnknownKey) => {
                let refreshed = self.refresh_keys(&current).await?;
                refreshed
                    .verify(token, ALGS)
                    .map(|v| v.claims)
                    .map_err(|e| KitError::Token(e.to_string()))
            }
            Err(e) => Err(KitError::Token(e.to_string())),
        }
    }

    /// Verify with the keys in hand only (no network): for request-path bearer tokens once
    /// the keys are loaded. Falls back to [`Provider::verify_signature`] on an unknown key.
    pub fn verify_cached(&self, token: &str) -> Result<Value, JwtError> {
        let current = self.verifier().map_err(|_| JwtError::UnknownKey)?;
        current.verify(token, ALGS).map(|v| v.claims)
    }

    fn verifier(&self) -> Result<Arc<Verifier>, KitError> {
        self.keys
            .read()
            .map(|k| k.verifier.clone())
            .map_err(|_| KitError::Provider("key cache poisoned".into()))
    }

    async fn refresh_keys(&self, seen: &Arc<Verifier>) -> Result<Arc<Verifier>, KitError> {
        let _one = self.refreshing.lock().await;
        {
            let k = self
                .keys
                .read()
                .map_err(|_| KitError::Provider("key cache poisoned".into()))?;
            // Someone refreshed while we waited, or we refreshed a moment ago.
            if !Arc::ptr_eq(&k.verifier, seen)
                || k.fetched
                    .is_some_and(|t| t.elapsed() < self.config.jwks_min_refresh)
            {
                return Ok(k.verifier.clone());
            }
        }
        let url = self.endpoints().await?.jwks.clone();
        let doc = self.get_json(&url).await?;
        let verifier = Arc::new(
            Verifier::from_jwks(&doc).map_err(|e| KitError::Provider(format!("JWKS: {e}")))?,
        );
        let mut k = self
            .keys
            .write()
            .map_err(|_| KitError::Provider("key cache poisoned".into()))?;
        k.verifier = verifier.clone();
        k.fetched = Some(Instant::now());
        Ok(verifier)
    }

    /// OpenID Connect Core §3.1.3.7: an ID token from the code exchange.
    pub async fn verify_id_token(&self, token: &str, nonce: &str) -> Result<Value, KitError> {
        let claims = self.verify_signature(token).await?;
        check_id_token(&claims, &self.config, nonce, now_s())?;
        Ok(claims)
    }

    /// A bearer access token for the service's API: signature, issuer, audience, expiry.
    pub async fn verify_access_token(&self, token: &str) -> Result<Value, KitError> {
        let claims = match self.verify_cached(token) {
            Ok(c) => c,
            Err(JwtError::UnknownKey) => self.verify_signature(token).await?,
            Err(e) => return Err(KitError::Token(e.to_string())),
        };
        check_access_token(&claims, &self.config, now_s())?;
        Ok(claims)
    }

    /// OpenID Connect Back-Channel Logout 1.0 §2.6: a logout token.
    pub async fn verify_logout_token(&self, token: &str) -> Result<Value, KitError> {
        let claims = self.verify_signature(token).await?;
        check_logout_token(&claims, &self.config, now_s())?;
        Ok(claims)
    }
}

fn token_err(e: JwtError) -> KitError {
    KitError::Token(e.to_string())
}

/// The ID token checks after the signature (pure).
pub fn check_id_token(
    claims: &Value,
    config: &KitConfig,
    nonce: &str,
    now: i64,
) -> Result<(), KitError> {
    jose::check_issuer(claims, config.issuer_str()).map_err(token_err)?;
    jose::check_audience(claims, &config.client_id).map_err(token_err)?;
    jose::check_times(claims, now, LEEWAY_S).map_err(token_err)?;
    // §3.1.3.7 (4, 5): several audiences need azp, and azp must be us.
    if let Some(azp) = claims.get("azp").and_then(Value::as_str)
        && azp != config.client_id
    {
        return Err(KitError::Token("azp is another client".into()));
    }
    let got = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !crate::ct_eq(got, nonce) || nonce.is_empty() {
        return Err(KitError::Token("nonce does not match the login".into()));
    }
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(KitError::Token("ID token without sub".into()));
    }
    Ok(())
}

/// The access token checks after the signature (pure): issuer, audience, expiry, type.
pub fn check_access_token(claims: &Value, config: &KitConfig, now: i64) -> Result<(), KitError> {
    jose::check_issuer(claims, config.issuer_str()).map_err(token_err)?;
    jose::check_times(claims, now, LEEWAY_S).map_err(token_err)?;
    jose::check_audience(claims, &config.api_audience).map_err(token_err)?;
    if claims
        .get("typ")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(KitError::Token("not an access token".into()));
    }
    Ok(())
}

/// The logout token checks after the signature (pure).
pub fn check_logout_token(claims: &Value, config: &KitConfig, now: i64) -> Result<(), KitError> {
    jose::check_issuer(claims, config.issuer_str()).map_err(token_err)?;
    jose::check_audience(claims, &config.client_id).map_err(token_err)?;
    let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(0);
    if iat > now + LEEWAY_S || iat < now - 600 {
        return Err(KitError::Token("logout token iat out of range".into()));
    }
    if claims.get("nonce").is_some() {
        return Err(KitError::Token(
            "logout token must not carry a nonce".into(),
        ));
    }
    let event = claims
        .get("events")
        .and_then(|e| e.get("http://schemas.openid.net/event/backchannel-logout"));
    if !event.is_some_and(Value::is_object) {
        return Err(KitError::Token(
            "logout token without the logout event".into(),
        ));
    }
    let has = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    if !has("sid") && !has("sub") {
        return Err(KitError::Token(
            "logout token names neither sid nor sub".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> KitConfig {
        KitConfig::from_sources(|k| {
            match k {
                "OIDC_ISSUER" => Some("https://idp.example/auth/realms/r"),
                "OIDC_CLIENT_ID" => Some("svc"),
                "OIDC_CLIENT_SECRET" => Some("x"),
                "SERVICE_URL" => Some("http://svc.example"),
                _ => None,
            }
            .map(str::to_owned)
        })
        .unwrap()
    }

    #[test]
    fn id_token_checks() {
        let c = config();
        let good = json!({"iss": "https://idp.example/auth/realms/r", "aud": "svc", "azp": "svc",
            "sub": "u1", "exp": 1000, "iat": 900, "nonce": "n1"});
        assert!(check_id_token(&good, &c, "n1", 950).is_ok());
        assert!(check_id_token(&good, &c, "n2", 950).is_err());
        assert!(check_id_token(&good, &c, "n1", 1100).is_err());
        let mut other = good.clone();
        other["iss"] = json!("http://keycloak.local:8080/auth/realms/r");
        assert!(check_id_token(&other, &c, "n1", 950).is_err());
        let mut other = good.clone();
        other["aud"] = json!(["account"]);
        assert!(check_id_token(&other, &c, "n1", 950).is_err());
        let mut other = good.clone();
        other["azp"] = json!("evil");
        assert!(check_id_token(&other, &c, "n1", 950).is_err());
    }

    #[test]
    fn access_and_logout_token_checks() {
        let c = config();
        let at = json!({"iss": "https://idp.example/auth/realms/r", "aud": ["svc", "account"],
            "typ": "Bearer", "exp": 1000});
        assert!(check_access_token(&at, &c, 950).is_ok());
        let mut id = at.clone();
        id["typ"] = json!("ID");
        assert!(check_access_token(&id, &c, 950).is_err());
        let mut wrong_aud = at.clone();
        wrong_aud["aud"] = json!("account");
        assert!(check_access_token(&wrong_aud, &c, 950).is_err());

        let lt = json!({"iss": "https://idp.example/auth/realms/r", "aud": "svc", "iat": 950,
            "jti": "j", "sid": "s1",
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}}});
        assert!(check_logout_token(&lt, &c, 960).is_ok());
        let mut with_nonce = lt.clone();
        with_nonce["nonce"] = json!("n");
        assert!(check_logout_token(&with_nonce, &c, 960).is_err());
        let mut no_event = lt.clone();
        no_event["events"] = json!({});
        assert!(check_logout_token(&no_event, &c, 960).is_err());
        assert!(check_logout_token(&lt, &c, 5000).is_err());
    }
}
