//! Client credentials as presented at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3.1): `Authorization: Basic` or `client_id`/`client_secret` form fields.
//!
//! Invariants:
//! - At most one authentication method per request (RFC 6749 §2.3): Basic plus a form
//!   `client_secret` is `invalid_request`.
//! - Secrets live in [`ClientSecret`], whose `Debug` never prints them.
//! - [`secret_matches`] takes time independent of where (or whether) the secrets differ,
//!   including when their lengths differ.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use sha2::{Digest as _, Sha256};
use subtle::{Choice, ConstantTimeEq as _};

use crate::error::OAuthError;

/// A client secret (presented or stored). `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for [`secret_matches`] only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(***)")
    }
}

/// How the client authenticated (the names of `token_endpoint_auth_methods_supported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// Only a `client_id`: a public client (or a confidential one that forgot its secret —
    /// the caller decides).
    None,
}

impl ClientAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::None => "none",
        }
    }
}

/// Who the request claims to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<ClientSecret>,
    pub method: ClientAuthMethod,
}

fn malformed_basic(detail: &str) -> OAuthError {
    OAuthError::invalid_request("Invalid Authorization header").with_detail(detail.to_owned())
}

/// `application/x-www-form-urlencoded` decoding of one value (RFC 6749 §2.3.1 / Appendix B):
/// `+` is a space, `%XX` a byte. A `%` not followed by two hex digits stays literal.
fn form_decode(value: &str) -> Result<String, OAuthError> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex);
                let lo = bytes.get(i + 2).copied().and_then(hex);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| malformed_basic("credentials are not UTF-8 once decoded"))
}

/// Parses an `Authorization` header value. `Ok(None)` when it is not the Basic scheme (a
/// Bearer header at the token endpoint is not client authentication).
pub fn parse_basic(header_value: &str) -> Result<Option<(String, ClientSecret)>, OAuthError> {
    let value = header_value.trim();
    let Some((scheme, token)) = value.split_once(' ') else {
        return if value.eq_ignore_ascii_case("basic") {
            Err(malformed_basic("Basic without credentials"))
        } else {
            Ok(None)
        };
    };
    // RFC 7617 §2 / RFC 9110 §11.1: the scheme name is case-insensitive.
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD_PAD_INDIFFERENT
        .decode(token.trim())
        .map_err(|_| malformed_basic("Basic credentials are not base64"))?;
    let decoded = String::from_utf8(decoded)
        .map_err(|_| malformed_basic("Basic credentials are not UTF-8"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| malformed_basic("Basic credentials without ':'"))?;
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    let id = form_decode(id)?;
    let secret = form_decode(secret)?;
    if id.is_empty() {
        return Err(malformed_basic("empty client id in Basic credentials"));
    }
    Ok(Some((id, ClientSecret::new(secret))))
}

/// Combines the `Authorization` header and the form fields into the one method the client
/// used. `Ok(None)` when the request names no client at all. Empty form fields count as absent.
pub fn parse_client_credentials(
    authorization: Option<&str>,
    form_client_id: Option<&str>,
    form_client_secret: Option<&str>,
) -> Result<Option<ClientCredentials>, OAuthError> {
    let form_id = form_client_id.filter(|s| !s.is_empty());
    let form_secret = form_client_secret.filter(|s| !s.is_empty());
    let basic = match authorization {
        Some(h) => parse_basic(h)?,
        None => None,
    };
    match (basic, form_id, form_secret) {
        (Some(_), _, Some(_)) => Err(OAuthError::invalid_request(
            "Multiple client authentication methods used",
        )
        .with_detail("Authorization: Basic and a client_secret form field")),
        (Some((id, _)), Some(fid), None) if fid != id => Err(OAuthError::invalid_request(
            "client_id does not match the authenticated client",
        )),
        (Some((id, secret)), _, None) => Ok(Some(ClientCredentials {
            client_id: id,
            secret: Some(secret),
            method: ClientAuthMethod::ClientSecretBasic,
        })),
        (None, Some(id), secret) => Ok(Some(ClientCredentials {
            client_id: id.to_owned(),
            method: if secret.is_some() {
                ClientAuthMethod::ClientSecretPost
            } else {
                ClientAuthMethod::None
            },
            secret: secret.map(ClientSecret::new),
        })),
        (None, None, Some(_)) => Err(OAuthError::missing_parameter("client_id")),
        (None, None, None) => Ok(None),
    }
}

/// Constant-time secret comparison. Both sides are hashed to fixed-length digests first, so
/// neither a content difference nor a length difference ends the comparison early.
pub fn secret_matches(stored: &str, presented: &str) -> bool {
    let a = Sha256::digest(stored.as_bytes());
    let b = Sha256::digest(presented.as_bytes());
    let same_len = Choice::from(u8::from(stored.len() == presented.len()));
    bool::from(a.as_slice().ct_eq(b.as_slice()) & same_len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use base64::engine::general_purpose::STANDARD;

    fn basic(raw: &str) -> String {
        format!("Basic {}", STANDARD.encode(raw))
    }

    #[test]
    fn basic_header() {
        let c = parse_client_credentials(Some(&basic("myclient:my-client-secret")), None, None)
            .unwrap()
            .unwrap();
        assert_eq!(c.client_id, "myclient");
        assert_eq!(c.secret.as_ref().unwrap().expose(), "my-client-secret");
        assert_eq!(c.method, ClientAuthMethod::ClientSecretBasic);
        assert_eq!(c.method.as_str(), "client_secret_basic");
    }

    #[test]
    fn basic_values_are_form_url_decoded() {
        // RFC 6749 §2.3.1: "a b" / "p:w+d%" encoded as a+b / p%3Aw%2Bd%25
        let (id, secret) = parse_basic(&basic("a+b:p%3Aw%2Bd%25")).unwrap().unwrap();
        assert_eq!(id, "a b");
        assert_eq!(secret.expose(), "p:w+d%");
        // The first ':' splits; later ones belong to the secret.
        let (id, secret) = parse_basic(&basic("c:s:t")).unwrap().unwrap();
        assert_eq!((id.as_str(), secret.expose()), ("c", "s:t"));
        // Stray '%' stays literal; UTF-8 escapes decode.
        let (_, secret) = parse_basic(&basic("c:50%_%zz_%C3%A9")).unwrap().unwrap();
        assert_eq!(secret.expose(), "50%_%zz_é");
        // Scheme is case-insensitive; padding optional.
        let token = STANDARD.encode("c:s").trim_end_matches('=').to_owned();
        assert!(parse_basic(&format!("bAsIc   {token}")).unwrap().is_some());
    }

    #[test]
    fn malformed_basic_is_invalid_request() {
        for h in [
            "Basic".to_owned(),
            "Basic !!!".to_owned(),
            basic("no-colon"),
            basic(":secret"),
            format!("Basic {}", STANDARD.encode([0xff, b':', b'x'])),
            basic("c:%FF"),
        ] {
            let e = parse_client_credentials(Some(&h), None, None).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{h}");
        }
    }

    #[test]
    fn other_schemes_are_not_client_auth() {
        assert_eq!(parse_basic("Bearer abc").unwrap(), None);
        assert_eq!(parse_basic("").unwrap(), None);
        let c = parse_client_credentials(Some("Bearer abc"), Some("c"), Some("s"))
            .unwrap()
            .unwrap();
        assert_eq!(c.method, ClientAuthMethod::ClientSecretPost);
    }

    #[test]
    fn form_fields() {
        let c = parse_client_credentials(None, Some("c"), Some("s"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.client_id.as_str(), c.method),
            ("c", ClientAuthMethod::ClientSecretPost)
        );
        let c = parse_client_credentials(None, Some("c"), None)
            .unwrap()
            .unwrap();
        assert_eq!((c.secret, c.method), (None, ClientAuthMethod::None));
        let c = parse_client_credentials(None, Some("c"), Some(""))
            .unwrap()
            .unwrap();
        assert_eq!(c.method, ClientAuthMethod::None);
        assert_eq!(parse_client_credentials(None, None, None).unwrap(), None);
        assert_eq!(
            parse_client_credentials(None, Some(""), None).unwrap(),
            None
        );
        let e = parse_client_credentials(None, None, Some("s")).unwrap_err();
        assert_eq!(e.description, "Missing parameter: client_id");
    }

    #[test]
    fn two_methods_at_once_is_invalid_request() {
        let e = parse_client_credentials(Some(&basic("c:s")), None, Some("s")).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        let e = parse_client_credentials(Some(&basic("c:s")), Some("c"), Some("s")).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        // A matching client_id next to Basic is fine (several libraries send it).
        let c = parse_client_credentials(Some(&basic("c:s")), Some("c"), None)
            .unwrap()
            .unwrap();
        assert_eq!(c.method, ClientAuthMethod::ClientSecretBasic);
        let e = parse_client_credentials(Some(&basic("c:s")), Some("other"), None).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn secrets_never_print() {
        let c = parse_client_credentials(None, Some("c"), Some("hunter2"))
            .unwrap()
            .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(dbg.contains("***"));
    }

    #[test]
    fn secret_comparison() {
        assert!(secret_matches("my-client-secret", "my-client-secret"));
        assert!(!secret_matches("my-client-secret", "my-client-secreT"));
        assert!(!secret_matches("my-client-secret", "my-client-secret "));
        assert!(!secret_matches("my-client-secret", ""));
        assert!(secret_matches("", ""));
    }
}
