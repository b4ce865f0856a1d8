//! Protocol errors: one RFC-shaped error for every OAuth/OIDC decision in this crate.
//!
//! Invariant: [`ErrorCode`] is closed — only codes registered by RFC 6749 §4.1.2.1/§5.2,
//! RFC 6750 §3.1, OIDC Core §3.1.2.6 and RFC 9101 §6.2 exist. The `description` is public (it
//! goes into `error_description`); the `detail` is private (logs only) and never appears in
//! [`Display`](std::fmt::Display) or in [`OAuthError::body`]. HTTP status codes and headers are
//! decided by the server, not here.

use std::fmt;

/// The closed set of error codes we send (`error` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// RFC 6749 §4.1.2.1, §5.2
    InvalidRequest,
    /// RFC 6749 §5.2
    InvalidClient,
    /// RFC 6749 §5.2
    InvalidGrant,
    /// RFC 6749 §4.1.2.1, §5.2
    UnauthorizedClient,
    /// RFC 6749 §5.2
    UnsupportedGrantType,
    /// RFC 6749 §4.1.2.1, §5.2
    InvalidScope,
    /// RFC 6749 §4.1.2.1
    AccessDenied,
    /// RFC 6749 §4.1.2.1
    UnsupportedResponseType,
    /// RFC 6749 §4.1.2.1
    ServerError,
    /// RFC 6749 §4.1.2.1
    TemporarilyUnavailable,
    /// OIDC Core §3.1.2.6
    LoginRequired,
    /// OIDC Core §3.1.2.6
    InteractionRequired,
    /// OIDC Core §3.1.2.6
    ConsentRequired,
    /// RFC 6750 §3.1
    InvalidToken,
    /// RFC 6750 §3.1
    InsufficientScope,
    /// OIDC Core §3.1.2.6 / RFC 9101
    InvalidRequestUri,
    /// OIDC Core §3.1.2.6
    RequestNotSupported,
}

impl ErrorCode {
    /// Every code, in declaration order (for tests and documentation).
    pub const ALL: [ErrorCode; 17] = [
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidClient,
        ErrorCode::InvalidGrant,
        ErrorCode::UnauthorizedClient,
        ErrorCode::UnsupportedGrantType,
        ErrorCode::InvalidScope,
        ErrorCode::AccessDenied,
        ErrorCode::UnsupportedResponseType,
        ErrorCode::ServerError,
        ErrorCode::TemporarilyUnavailable,
        ErrorCode::LoginRequired,
        ErrorCode::InteractionRequired,
        ErrorCode::ConsentRequired,
        ErrorCode::InvalidToken,
        ErrorCode::InsufficientScope,
        ErrorCode::InvalidRequestUri,
        ErrorCode::RequestNotSupported,
    ];

    /// The wire spelling of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::InvalidRequestUri => "invalid_request_uri",
            ErrorCode::RequestNotSupported => "request_not_supported",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth/OIDC protocol error: public code and description, private detail.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: ErrorCode,
    /// Public: sent as `error_description`.
    pub description: String,
    /// Private: for logs only, never sent to the peer.
    pub detail: Option<String>,
}

impl fmt::Debug for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthError")
            .field("code", &self.code.as_str())
            .field("description", &self.description)
            .field("detail", &self.detail)
            .finish()
    }
}

macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident => $code:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(description: impl Into<String>) -> Self {
                Self::new(ErrorCode::$code, description)
            }
        )*
    };
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            detail: None,
        }
    }

    /// Attaches a private detail (for logs; never sent).
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    constructors! {
        invalid_request => InvalidRequest;
        invalid_client => InvalidClient;
        invalid_grant => InvalidGrant;
        unauthorized_client => UnauthorizedClient;
        unsupported_grant_type => UnsupportedGrantType;
        invalid_scope => InvalidScope;
        access_denied => AccessDenied;
        unsupported_response_type => UnsupportedResponseType;
        server_error => ServerError;
        temporarily_unavailable => TemporarilyUnavailable;
        login_required => LoginRequired;
        interaction_required => InteractionRequired;
        consent_required => ConsentRequired;
        invalid_token => InvalidToken;
        insufficient_scope => InsufficientScope;
        invalid_request_uri => InvalidRequestUri;
        request_not_supported => RequestNotSupported;
    }

    // --- Keycloak's usual texts (compat §1.5), so clients matching on them keep working. ---

    /// `invalid_request` / "Missing parameter: {name}".
    pub fn missing_parameter(name: &str) -> Self {
        Self::invalid_request(format!("Missing parameter: {name}"))
    }

    /// `invalid_grant` / "Code not valid": unknown, expired, reused or mismatched code.
    pub fn code_not_valid() -> Self {
        Self::invalid_grant("Code not valid")
    }

    /// `invalid_grant` / "Invalid user credentials": wrong username or password.
    pub fn invalid_user_credentials() -> Self {
        Self::invalid_grant("Invalid user credentials")
    }

    /// `invalid_grant` / "Account disabled".
    pub fn account_disabled() -> Self {
        Self::invalid_grant("Account disabled")
    }

    /// `invalid_grant` / "Account is not fully set up": required actions pending (password grant).
    pub fn account_not_fully_set_up() -> Self {
        Self::invalid_grant("Account is not fully set up")
    }

    /// `invalid_grant` / "PKCE verification failed: Code mismatch".
    pub fn pkce_code_mismatch() -> Self {
        Self::invalid_grant("PKCE verification failed: Code mismatch")
    }

    /// `unauthorized_client` / "Invalid client or Invalid client credentials": wrong secret
    /// (Keycloak answers this code, not `invalid_client`, at the token endpoint).
    pub fn invalid_client_credentials() -> Self {
        Self::unauthorized_client("Invalid client or Invalid client credentials")
    }

    /// `invalid_scope` / "Invalid scopes: {scopes}".
    pub fn invalid_scopes(scopes: &str) -> Self {
        Self::invalid_scope(format!("Invalid scopes: {scopes}"))
    }

    /// `invalid_grant` / "Invalid refresh token".
    pub fn invalid_refresh_token() -> Self {
        Self::invalid_grant("Invalid refresh token")
    }

    /// `invalid_grant` / "Session not active".
    pub fn session_not_active() -> Self {
        Self::invalid_grant("Session not active")
    }

    /// `invalid_token` / "Token verification failed" (UserInfo, bearer checks).
    pub fn token_verification_failed() -> Self {
        Self::invalid_token("Token verification failed")
    }

    /// The RFC 6749 §5.2 JSON body: `{"error": ..., "error_description": ...}` (no detail).
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "error": self.code.as_str(),
            "error_description": self.description,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_spelled_as_in_the_rfcs() {
        let spelled: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            spelled,
            [
                "invalid_request",
                "invalid_client",
                "invalid_grant",
                "unauthorized_client",
                "unsupported_grant_type",
                "invalid_scope",
                "access_denied",
                "unsupported_response_type",
                "server_error",
                "temporarily_unavailable",
                "login_required",
                "interaction_required",
                "consent_required",
                "invalid_token",
                "insufficient_scope",
                "invalid_request_uri",
                "request_not_supported",
            ]
        );
    }

    #[test]
    fn display_hides_detail_debug_shows_it() {
        let e = OAuthError::code_not_valid().with_detail("code hash abc already redeemed");
        assert_eq!(e.to_string(), "invalid_grant: Code not valid");
        let dbg = format!("{e:?}");
        assert!(dbg.contains("already redeemed"), "{dbg}");
    }

    #[test]
    fn body_has_no_detail() {
        let e = OAuthError::invalid_client_credentials().with_detail("secret mismatch");
        assert_eq!(
            e.body(),
            serde_json::json!({
                "error": "unauthorized_client",
                "error_description": "Invalid client or Invalid client credentials",
            })
        );
        assert!(!e.body().to_string().contains("mismatch"));
    }

    #[test]
    fn keycloak_texts() {
        assert_eq!(
            OAuthError::missing_parameter("code_challenge_method").description,
            "Missing parameter: code_challenge_method"
        );
        assert_eq!(
            OAuthError::pkce_code_mismatch().code,
            ErrorCode::InvalidGrant
        );
        assert_eq!(
            OAuthError::invalid_scopes("openid foo").to_string(),
            "invalid_scope: Invalid scopes: openid foo"
        );
    }
}
