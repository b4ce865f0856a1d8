//! Every OAuth 2.0 / OpenID Connect decision of Portcullis over plain data: the caller passes
//! in the time, the RNG, the loaded records and what the request carried; decisions, tokens and
//! records to save come out.
//!
//! Invariant: this crate does no I/O — no files, network, database, clock or global RNG, and
//! no HTTP framework types (`cargo tree -e normal -p portcullis-oidc` shows no sqlx, axum,
//! hyper or tokio).
//!
//! Modules: [`error`] (RFC error codes), [`jose`] (JWS sign/verify), [`keys`] (generation,
//! JWK, JWKS), [`discovery`] (provider metadata), [`urls`] (hostname and issuer rules),
//! [`pkce`] (RFC 7636), [`client_auth`] (RFC 6749 §2.3.1), [`claims`] and [`mappers`] (token
//! claim sets and protocol mappers).

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod jose;
pub mod keys;
pub mod mappers;
pub mod pkce;
pub mod scopes;
pub mod urls;

mod der;

pub use error::{ErrorCode, OAuthError};
pub use jose::{Algorithm, JwtError, Signer, VerifiedJwt, Verifier};
pub use keys::KeyError;
