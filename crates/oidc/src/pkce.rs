//! Proof Key for Code Exchange (RFC 7636): syntax of verifiers and challenges, and the check
//! at the token endpoint.
//!
//! Invariant: the comparison of the derived challenge with the stored one is constant-time;
//! a failure never says which part differed.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::error::OAuthError;

/// `code_challenge_method` (RFC 7636 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMethod {
    Plain,
    S256,
}

impl ChallengeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeMethod::Plain => "plain",
            ChallengeMethod::S256 => "S256",
        }
    }

    /// The parameter as sent; RFC 7636 §4.3: absent means `plain`. Names are case-sensitive.
    pub fn from_param(value: Option<&str>) -> Result<Self, OAuthError> {
        match value {
            None => Ok(ChallengeMethod::Plain),
            Some("plain") => Ok(ChallengeMethod::Plain),
            Some("S256") => Ok(ChallengeMethod::S256),
            Some(other) => Err(OAuthError::invalid_request(
                "Invalid parameter: code challenge method is not supported.",
            )
            .with_detail(format!("code_challenge_method={:.32}", other))),
        }
    }
}

/// RFC 7636 §4.1: `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"`, 43 to 128 characters.
fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// RFC 7636 §4.1: verifier syntax, checked at the token endpoint.
pub fn check_verifier_syntax(verifier: &str) -> Result<(), OAuthError> {
    if is_pkce_string(verifier) {
        Ok(())
    } else {
        Err(OAuthError::invalid_grant("PKCE invalid code verifier")
            .with_detail(format!("code_verifier of {} bytes", verifier.len())))
    }
}

/// RFC 7636 §4.2/§4.3: challenge syntax, checked at the authorization endpoint. An S256
/// challenge is the base64url of a SHA-256 digest, so exactly 43 characters.
pub fn check_challenge_syntax(method: ChallengeMethod, challenge: &str) -> Result<(), OAuthError> {
    let ok =
        is_pkce_string(challenge) && (method == ChallengeMethod::Plain || challenge.len() == 43);
    if ok {
        Ok(())
    } else {
        Err(
            OAuthError::invalid_request("Invalid parameter: code_challenge").with_detail(format!(
                "{} challenge of {} bytes",
                method.as_str(),
                challenge.len()
            )),
        )
    }
}

/// RFC 7636 §4.2: `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.6: derive the challenge from the presented verifier and compare it with the
/// one stored with the code. Any failure is `invalid_grant`; the caller burns the code.
pub fn verify(
    method: ChallengeMethod,
    stored_challenge: &str,
    verifier: Option<&str>,
) -> Result<(), OAuthError> {
    let verifier =
        verifier.ok_or_else(|| OAuthError::invalid_grant("PKCE code verifier not specified"))?;
    check_verifier_syntax(verifier)?;
    let derived = match method {
        ChallengeMethod::S256 => s256_challenge(verifier),
        ChallengeMethod::Plain => verifier.to_owned(),
    };
    if bool::from(derived.as_bytes().ct_eq(stored_challenge.as_bytes())) {
        Ok(())
    } else {
        Err(OAuthError::pkce_code_mismatch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn appendix_b_vector() {
        assert_eq!(s256_challenge(VERIFIER), CHALLENGE);
        assert_eq!(
            verify(ChallengeMethod::S256, CHALLENGE, Some(VERIFIER)),
            Ok(())
        );
    }

    #[test]
    fn s256_mismatch() {
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK";
        let e = verify(ChallengeMethod::S256, CHALLENGE, Some(other)).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidGrant);
        assert_eq!(e.description, "PKCE verification failed: Code mismatch");
        // The challenge itself is not a verifier for S256.
        assert!(verify(ChallengeMethod::S256, CHALLENGE, Some(CHALLENGE)).is_err());
    }

    #[test]
    fn plain() {
        assert_eq!(
            verify(ChallengeMethod::Plain, VERIFIER, Some(VERIFIER)),
            Ok(())
        );
        assert!(verify(ChallengeMethod::Plain, VERIFIER, Some(CHALLENGE)).is_err());
    }

    #[test]
    fn missing_and_malformed_verifiers() {
        let e = verify(ChallengeMethod::S256, CHALLENGE, None).unwrap_err();
        assert_eq!(e.description, "PKCE code verifier not specified");
        let too_short = "a".repeat(42);
        let too_long = "a".repeat(129);
        let bad_char = format!("{}+", "a".repeat(42));
        for v in [
            too_short.as_str(),
            too_long.as_str(),
            bad_char.as_str(),
            "",
            "é".repeat(30).as_str(),
        ] {
            let e = verify(ChallengeMethod::Plain, v, Some(v)).unwrap_err();
            assert_eq!(e.description, "PKCE invalid code verifier", "{v:?}");
        }
        assert!(check_verifier_syntax(&"~._-".repeat(11)).is_ok());
        assert!(check_verifier_syntax(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn challenge_syntax() {
        assert!(check_challenge_syntax(ChallengeMethod::S256, CHALLENGE).is_ok());
        assert!(check_challenge_syntax(ChallengeMethod::S256, &"a".repeat(44)).is_err());
        assert!(check_challenge_syntax(ChallengeMethod::Plain, &"a".repeat(44)).is_ok());
        assert!(check_challenge_syntax(ChallengeMethod::Plain, "short").is_err());
        let e = check_challenge_syntax(
            ChallengeMethod::S256,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw=cM",
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn methods() {
        assert_eq!(
            ChallengeMethod::from_param(None),
            Ok(ChallengeMethod::Plain)
        );
        assert_eq!(
            ChallengeMethod::from_param(Some("S256")),
            Ok(ChallengeMethod::S256)
        );
        assert_eq!(
            ChallengeMethod::from_param(Some("plain")),
            Ok(ChallengeMethod::Plain)
        );
        for bad in ["s256", "SHA256", "", "PLAIN"] {
            assert_eq!(
                ChallengeMethod::from_param(Some(bad)).unwrap_err().code,
                ErrorCode::InvalidRequest
            );
        }
    }
}
