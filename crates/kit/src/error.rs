//! The kit's one error type, and how each kind answers over HTTP (decided here only).

use axum::http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum KitError {
    #[error("configuration: {field}: {reason}")]
    Config { field: &'static str, reason: String },
    /// The identity server could not be reached or answered unexpectedly.
    #[error("identity server: {0}")]
    Provider(String),
    /// A token failed verification (signature, issuer, audience, expiry, nonce, type).
    #[error("token rejected: {0}")]
    Token(String),
    /// The login callback did not match a login in progress (state), or was refused.
    #[error("login failed: {0}")]
    Login(String),
    #[error("database: {0}")]
    Database(String),
    #[error("authorization: {0}")]
    Rbac(#[from] portcullis_rbac::RbacError),
}

impl From<sqlx::Error> for KitError {
    fn from(e: sqlx::Error) -> Self {
        KitError::Database(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for KitError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        KitError::Database(e.to_string())
    }
}

impl KitError {
    /// The status a request failing with this error gets.
    pub fn status(&self) -> StatusCode {
        match self {
            KitError::Token(_) => StatusCode::UNAUTHORIZED,
            KitError::Login(_) => StatusCode::BAD_REQUEST,
            KitError::Provider(_) => StatusCode::BAD_GATEWAY,
            KitError::Config { .. } | KitError::Database(_) | KitError::Rbac(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}
