//! Domain model of Portcullis (see ARCHITECTURE.md): Keycloak's realm-JSON representations
//! ([`repr`]), the validated records a realm is stored as ([`records`]), the import rules that
//! turn one into the other ([`import`]) and back ([`export`]), Keycloak's built-in defaults
//! ([`defaults`]), placeholder substitution and password-hash formats.
//!
//! Invariant: this crate does no I/O (no files, network, database or clock reads except the OS
//! random generator for salts and ids).

pub mod brute_force;
pub mod defaults;
pub mod events;
pub mod export;
pub mod import;
pub mod password;
pub mod password_policy;
pub mod records;
pub mod redirect;
pub mod repr;
pub mod roles;
pub mod subst;
pub mod totp;
