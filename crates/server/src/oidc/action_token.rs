//! Action tokens: the `key` of the links in verification, password-reset and execute-actions
//! mails (`/realms/{realm}/login-actions/action-token?key=...`).
//!
//! A token is a JWT signed with the realm's HS512 key (the key of the identity cookie and the
//! refresh tokens; never published), naming the user (`sub`), the action (`typ`:
//! `verify-email`, `reset-credentials`, `execute-actions`), the client (`azp`) and, per type,
//! the address to verify (`eml`), the actions to run (`rqac`) and where to go afterwards
//! (`reduri`). Its `jti` is recorded when the link is used, until the token's expiry, so every
//! link works once. Lifespans are Keycloak's: `actionTokenGeneratedByUserLifespan` (300 s) for
//! what the user asked for, `actionTokenGeneratedByAdminLifespan` (43200 s) for what an
//! administrator sent, overridable per type with the realm attribute
//! `actionTokenGeneratedByUserLifespan.<typ>` / `actionTokenGeneratedByAdminLifespan.<typ>`.

use crate::app::AppState;
use crate::oidc::http::{now_s, sha256_b64};
use anyhow::{Context as _, Result};
use portcullis_model::records::RealmRecord;
use portcullis_oidc::jose::{self, Algorithm, JwtError};
use serde_json::{Value, json};

pub const VERIFY_EMAIL: &str = "verify-email";
pub const RESET_CREDENTIALS: &str = "reset-credentials";
pub const EXECUTE_ACTIONS: &str = "execute-actions";

/// What an action token says.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionToken {
    pub jti: String,
    pub typ: String,
    /// The user's id.
    pub sub: String,
    /// Expiry, epoch seconds.
    pub exp: i64,
    /// The client's `clientId`.
    pub azp: Option<String>,
    /// `verify-email`: the address the link was sent to.
    pub email: Option<String>,
    /// `execute-actions`: the required actions to run.
    pub actions: Vec<String>,
    /// `execute-actions`: where to go afterwards (validated when the token was made).
    pub redirect_uri: Option<String>,
    /// `reset-credentials`: the user's [`password_stamp`] when the link was made.
    pub password_stamp: Option<String>,
}

/// The outcome of reading a link's key.
#[derive(Debug)]
pub enum Checked {
    Valid(ActionToken),
    /// Genuine but past its expiry.
    Expired,
    /// Not ours, altered, of another realm or kind, or malformed.
    Invalid,
}

/// A digest of the user's password credential (its id and creation time, which every password
/// change renews; no secret): what binds a `reset-credentials` link to the password it
/// replaces.
pub async fn password_stamp(s: &AppState, user_id: &str) -> Result<String> {
    let mut ids: Vec<String> = s
        .store
        .credentials(user_id)
        .await?
        .into_iter()
        .filter(|c| c.type_ == "password")
        .map(|c| format!("{}.{}", c.id, c.created_date))
        .collect();
    ids.sort();
    Ok(sha256_b64(&format!("password-stamp.{}", ids.join(","))))
}

/// The lifespan in seconds of a token of `typ`, made by the user or by an administrator.
pub fn lifespan(realm: &RealmRecord, typ: &str, by_admin: bool) -> i64 {
    let (key, default) = if by_admin {
        (
            "actionTokenGeneratedByAdminLifespan",
            realm
                .settings
                .action_token_generated_by_admin_lifespan
                .unwrap_or(43_200),
        )
    } else {
        (
            "actionTokenGeneratedByUserLifespan",
            realm
                .settings
                .action_token_generated_by_user_lifespan
                .unwrap_or(300),
        )
    };
    realm
        .settings
        .attributes
        .as_ref()
        .and_then(|a| a.get(&format!("{key}.{typ}")))
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(default)
        .max(1)
}

/// Sign a token for `t` (its `jti` and `exp` as given).
pub async fn issue(
    s: &AppState,
    realm: &RealmRecord,
    issuer: &str,
    t: &ActionToken,
) -> Result<String> {
    let keys = s.keys.get(&s.store, realm).await?;
    let signer = keys
        .signer(Algorithm::HS512)
        .context("realm has no active HS512 key")?;
    let mut claims = json!({
        "exp": t.exp,
        "iat": now_s(),
        "jti": t.jti,
        "iss": issuer,
        "aud": issuer,
        "sub": t.sub,
        "typ": t.typ,
    });
    if let Some(azp) = &t.azp {
        claims["azp"] = json!(azp);
    }
    if let Some(e) = &t.email {
        claims["eml"] = json!(e);
    }
    if !t.actions.is_empty() {
        claims["rqac"] = json!(t.actions);
    }
    if let Some(r) = &t.redirect_uri {
        claims["reduri"] = json!(r);
    }
    if let Some(p) = &t.password_stamp {
        claims["cst"] = json!(p);
    }
    Ok(signer.sign_jwt("JWT", &claims, s.keys.rng())?)
}

/// Read a link's key: signature (HS512 only), issuer, audience and type first, then expiry, so
/// an expired token is reported as such only when it is genuine. A `reset-credentials` token
/// made for a password that has changed since counts as expired.
pub async fn verify(s: &AppState, realm: &RealmRecord, issuer: &str, key: &str) -> Result<Checked> {
    let keys = s.keys.get(&s.store, realm).await?;
    let Ok(v) = keys.verifier.verify(key, &[Algorithm::HS512]) else {
        return Ok(Checked::Invalid);
    };
    let c = &v.claims;
    if jose::check_issuer(c, issuer).is_err()
        || c.get("aud").and_then(Value::as_str) != Some(issuer)
        || jose::check_token_type(c, &[VERIFY_EMAIL, RESET_CREDENTIALS, EXECUTE_ACTIONS]).is_err()
    {
        return Ok(Checked::Invalid);
    }
    // The expiry follows the clock of security decisions (a test build's controllable clock).
    match jose::check_times(c, crate::clock::now_ms().div_euclid(1000), 0) {
        Ok(()) => {}
        Err(JwtError::Expired) => return Ok(Checked::Expired),
        Err(_) => return Ok(Checked::Invalid),
    }
    let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(jti), Some(sub), Some(typ), Some(exp)) = (
        text("jti"),
        text("sub"),
        text("typ"),
        c.get("exp").and_then(Value::as_i64),
    ) else {
        return Ok(Checked::Invalid);
    };
    let actions = match c.get("rqac") {
        None => Vec::new(),
        Some(Value::Array(a)) => {
            let list: Option<Vec<String>> =
                a.iter().map(|x| x.as_str().map(str::to_owned)).collect();
            match list {
                Some(l) => l,
                None => return Ok(Checked::Invalid),
            }
        }
        Some(_) => return Ok(Checked::Invalid),
    };
    let stamp = text("cst");
    if typ == RESET_CREDENTIALS && stamp.as_deref() != Some(&password_stamp(s, &sub).await?) {
        return Ok(Checked::Expired);
    }
    Ok(Checked::Valid(ActionToken {
        jti,
        typ,
        sub,
        exp,
        azp: text("azp"),
        email: text("eml"),
        actions,
        redirect_uri: text("reduri"),
        password_stamp: stamp,
    }))
}

/// The link carrying `key`: `{issuer}/login-actions/action-token?key=...&client_id=...&tab_id=...`.
pub fn link(issuer: &str, key: &str, client_id: Option<&str>, tab_id: Option<&str>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("key", key);
    if let Some(c) = client_id {
        q.append_pair("client_id", c);
    }
    if let Some(t) = tab_id {
        q.append_pair("tab_id", t);
    }
    format!("{issuer}/login-actions/action-token?{}", q.finish())
}
