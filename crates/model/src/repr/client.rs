//! `ClientRepresentation`, `ClientScopeRepresentation` and `ProtocolMapperRepresentation`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[serde_with::skip_serializing_none]
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClientRepresentation {
    pub id: Option<String>,
    pub client_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub root_url: Option<String>,
    pub admin_url: Option<String>,
    pub base_url: Option<String>,
    pub surrogate_auth_required: Option<bool>,
    pub enabled: Option<bool>,
    pub always_display_in_console: Option<bool>,
    pub client_authenticator_type: Option<String>,
    pub secret: Option<String>,
    pub registration_access_token: Option<String>,
    pub default_roles: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub web_origins: Option<Vec<String>>,
    pub not_before: Option<i64>,
    pub bearer_only: Option<bool>,
    pub consent_required: Option<bool>,
    pub standard_flow_enabled: Option<bool>,
    pub implicit_flow_enabled: Option<bool>,
    pub direct_access_grants_enabled: Option<bool>,
    pub service_accounts_enabled: Option<bool>,
    pub authorization_services_enabled: Option<bool>,
    pub direct_grants_only: Option<bool>,
    pub public_client: Option<bool>,
    pub frontchannel_logout: Option<bool>,
    pub protocol: Option<String>,
    pub attributes: Option<BTreeMap<String, String>>,
    pub authentication_flow_binding_overrides: Option<BTreeMap<String, String>>,
    pub full_scope_allowed: Option<bool>,
    pub node_re_registration_timeout: Option<i64>,
    pub registered_nodes: Option<BTreeMap<String, i64>>,
    pub protocol_mappers: Option<Vec<ProtocolMapperRepresentation>>,
    pub client_template: Option<String>,
    pub default_client_scopes: Option<Vec<String>>,
    pub optional_client_scopes: Option<Vec<String>>,
    pub authorization_settings: Option<Value>,
    pub access: Option<BTreeMap<String, bool>>,
    pub origin: Option<String>,
}

impl std::fmt::Debug for ClientRepresentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRepresentation")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .field("public_client", &self.public_client)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ClientScopeRepresentation {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub protocol: Option<String>,
    pub attributes: Option<BTreeMap<String, String>>,
    pub protocol_mappers: Option<Vec<ProtocolMapperRepresentation>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ProtocolMapperRepresentation {
    pub id: Option<String>,
    pub name: Option<String>,
    pub protocol: Option<String>,
    pub protocol_mapper: Option<String>,
    pub consent_required: Option<bool>,
    pub consent_text: Option<String>,
    pub config: Option<BTreeMap<String, String>>,
}
