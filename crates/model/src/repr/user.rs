//! `UserRepresentation` and `CredentialRepresentation`.

use super::MultiAttributes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserRepresentation {
    pub id: Option<String>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub enabled: Option<bool>,
    pub created_timestamp: Option<i64>,
    pub totp: Option<bool>,
    pub attributes: Option<MultiAttributes>,
    #[serde(rename = "self")]
    pub self_: Option<String>,
    pub origin: Option<String>,
    pub federation_link: Option<String>,
    pub service_account_client_id: Option<String>,
    pub credentials: Option<Vec<CredentialRepresentation>>,
    pub disableable_credential_types: Option<Vec<String>>,
    pub required_actions: Option<Vec<String>>,
    pub federated_identities: Option<Vec<Value>>,
    pub realm_roles: Option<Vec<String>>,
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
    pub client_consents: Option<Vec<Value>>,
    pub not_before: Option<i64>,
    pub groups: Option<Vec<String>>,
    pub access: Option<BTreeMap<String, bool>>,
}

#[serde_with::skip_serializing_none]
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CredentialRepresentation {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub user_label: Option<String>,
    pub created_date: Option<i64>,
    pub secret_data: Option<String>,
    pub credential_data: Option<String>,
    pub priority: Option<i64>,
    /// Plaintext password; hashed on import, never exported.
    pub value: Option<String>,
    pub temporary: Option<bool>,
    // Deprecated pre-12 representation, still accepted on input.
    pub hashed_salted_value: Option<String>,
    pub salt: Option<String>,
    pub hash_iterations: Option<i64>,
    pub algorithm: Option<String>,
    pub counter: Option<i64>,
    pub digits: Option<i64>,
    pub period: Option<i64>,
    pub device: Option<String>,
    pub config: Option<Value>,
}

impl std::fmt::Debug for CredentialRepresentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialRepresentation")
            .field("id", &self.id)
            .field("type", &self.type_)
            .field("temporary", &self.temporary)
            .finish_non_exhaustive()
    }
}
