//! Keycloak's JSON representations (the realm file format and the admin API bodies).
//!
//! These types mirror Keycloak 26's `*Representation` classes field for field, for the fields a
//! realm template, an export or an admin client uses. Every field is optional, exactly as in
//! Keycloak, and absent fields are not written back, so a document survives a
//! parse/serialise round trip unchanged. Fields Keycloak has but Portcullis does not act on yet
//! (authentication flows, components, identity providers, ...) are kept as raw JSON so that they
//! are neither lost nor reported as unknown.
//!
//! Invariant: no defaults are applied here; [`crate::import`] decides what an absent field means.

mod client;
mod realm;
mod user;

pub use client::*;
pub use realm::*;
pub use user::*;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `attributes` of users and groups: every value is a list (a bare string is accepted on input).
pub type MultiAttributes = BTreeMap<String, StringList>;

/// A list of strings that also accepts a single bare string on input (Keycloak accepts both for
/// user attributes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "OneOrMany")]
pub struct StringList(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrMany> for StringList {
    fn from(v: OneOrMany) -> Self {
        match v {
            OneOrMany::One(s) => StringList(vec![s]),
            OneOrMany::Many(v) => StringList(v),
        }
    }
}
