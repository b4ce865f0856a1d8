//! `RealmRepresentation` and the realm-level pieces (roles, groups, SMTP settings).

use super::{ClientRepresentation, ClientScopeRepresentation, MultiAttributes, UserRepresentation};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A realm as found in `<realm>-realm.json`, in an export, or in `POST /admin/realms`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RealmRepresentation {
    pub id: Option<String>,
    pub realm: Option<String>,
    pub display_name: Option<String>,
    pub display_name_html: Option<String>,
    pub not_before: Option<i64>,
    pub default_signature_algorithm: Option<String>,
    pub revoke_refresh_token: Option<bool>,
    pub refresh_token_max_reuse: Option<i64>,
    pub access_token_lifespan: Option<i64>,
    pub access_token_lifespan_for_implicit_flow: Option<i64>,
    pub sso_session_idle_timeout: Option<i64>,
    pub sso_session_max_lifespan: Option<i64>,
    pub sso_session_idle_timeout_remember_me: Option<i64>,
    pub sso_session_max_lifespan_remember_me: Option<i64>,
    pub offline_session_idle_timeout: Option<i64>,
    pub offline_session_max_lifespan_enabled: Option<bool>,
    pub offline_session_max_lifespan: Option<i64>,
    pub client_session_idle_timeout: Option<i64>,
    pub client_session_max_lifespan: Option<i64>,
    pub client_offline_session_idle_timeout: Option<i64>,
    pub client_offline_session_max_lifespan: Option<i64>,
    pub access_code_lifespan: Option<i64>,
    pub access_code_lifespan_user_action: Option<i64>,
    pub access_code_lifespan_login: Option<i64>,
    pub action_token_generated_by_admin_lifespan: Option<i64>,
    pub action_token_generated_by_user_lifespan: Option<i64>,
    pub oauth2_device_code_lifespan: Option<i64>,
    pub oauth2_device_polling_interval: Option<i64>,
    pub enabled: Option<bool>,
    pub ssl_required: Option<String>,
    pub registration_allowed: Option<bool>,
    pub registration_email_as_username: Option<bool>,
    pub remember_me: Option<bool>,
    pub verify_email: Option<bool>,
    pub login_with_email_allowed: Option<bool>,
    pub duplicate_emails_allowed: Option<bool>,
    pub reset_password_allowed: Option<bool>,
    pub edit_username_allowed: Option<bool>,
    pub brute_force_protected: Option<bool>,
    pub permanent_lockout: Option<bool>,
    pub max_temporary_lockouts: Option<i64>,
    pub brute_force_strategy: Option<String>,
    pub max_failure_wait_seconds: Option<i64>,
    pub minimum_quick_login_wait_seconds: Option<i64>,
    pub wait_increment_seconds: Option<i64>,
    pub quick_login_check_milli_seconds: Option<i64>,
    pub max_delta_time_seconds: Option<i64>,
    pub failure_factor: Option<i64>,
    pub roles: Option<RolesRepresentation>,
    pub groups: Option<Vec<GroupRepresentation>>,
    pub default_role: Option<RoleRepresentation>,
    /// Legacy (pre-13) list of default realm role names; folded into `defaultRole` on import.
    pub default_roles: Option<Vec<String>>,
    pub default_groups: Option<Vec<String>>,
    pub required_credentials: Option<Vec<String>>,
    pub password_policy: Option<String>,
    pub otp_policy_type: Option<String>,
    pub otp_policy_algorithm: Option<String>,
    pub otp_policy_initial_counter: Option<i64>,
    pub otp_policy_digits: Option<i64>,
    pub otp_policy_look_ahead_window: Option<i64>,
    pub otp_policy_period: Option<i64>,
    pub otp_policy_code_reusable: Option<bool>,
    pub otp_supported_applications: Option<Vec<String>>,
    pub web_authn_policy_rp_entity_name: Option<String>,
    pub web_authn_policy_signature_algorithms: Option<Vec<String>>,
    pub browser_security_headers: Option<BTreeMap<String, String>>,
    pub smtp_server: Option<BTreeMap<String, String>>,
    pub login_theme: Option<String>,
    pub account_theme: Option<String>,
    pub admin_theme: Option<String>,
    pub email_theme: Option<String>,
    pub events_enabled: Option<bool>,
    pub events_expiration: Option<i64>,
    pub events_listeners: Option<Vec<String>>,
    pub enabled_event_types: Option<Vec<String>>,
    pub admin_events_enabled: Option<bool>,
    pub admin_events_details_enabled: Option<bool>,
    pub internationalization_enabled: Option<bool>,
    pub supported_locales: Option<Vec<String>>,
    pub default_locale: Option<String>,
    pub users: Option<Vec<UserRepresentation>>,
    pub federated_users: Option<Vec<UserRepresentation>>,
    pub scope_mappings: Option<Vec<ScopeMappingRepresentation>>,
    pub client_scope_mappings: Option<BTreeMap<String, Vec<ScopeMappingRepresentation>>>,
    pub clients: Option<Vec<ClientRepresentation>>,
    pub client_scopes: Option<Vec<ClientScopeRepresentation>>,
    pub default_default_client_scopes: Option<Vec<String>>,
    pub default_optional_client_scopes: Option<Vec<String>>,
    pub browser_flow: Option<String>,
    pub registration_flow: Option<String>,
    pub direct_grant_flow: Option<String>,
    pub reset_credentials_flow: Option<String>,
    pub client_authentication_flow: Option<String>,
    pub docker_authentication_flow: Option<String>,
    pub first_broker_login_flow: Option<String>,
    pub attributes: Option<BTreeMap<String, String>>,
    pub user_managed_access_allowed: Option<bool>,
    pub organizations_enabled: Option<bool>,
    pub keycloak_version: Option<String>,
    // Kept verbatim: Portcullis stores and exports these but does not act on them yet.
    pub required_actions: Option<Vec<Value>>,
    pub authentication_flows: Option<Vec<Value>>,
    pub authenticator_config: Option<Vec<Value>>,
    pub components: Option<Value>,
    pub identity_providers: Option<Vec<Value>>,
    pub identity_provider_mappers: Option<Vec<Value>>,
    pub client_policies: Option<Value>,
    pub client_profiles: Option<Value>,
    pub organizations: Option<Vec<Value>>,
    pub localization_texts: Option<Value>,
}

/// `roles` of a realm: realm roles and, per clientId, client roles.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RolesRepresentation {
    pub realm: Option<Vec<RoleRepresentation>>,
    pub client: Option<BTreeMap<String, Vec<RoleRepresentation>>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RoleRepresentation {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub composite: Option<bool>,
    pub composites: Option<CompositesRepresentation>,
    pub client_role: Option<bool>,
    pub container_id: Option<String>,
    pub attributes: Option<MultiAttributes>,
}

/// Composite members of a role: realm role names, and per clientId client role names.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompositesRepresentation {
    pub realm: Option<Vec<String>>,
    pub client: Option<BTreeMap<String, Vec<String>>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupRepresentation {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub path: Option<String>,
    pub parent_id: Option<String>,
    pub sub_group_count: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub sub_groups: Option<Vec<GroupRepresentation>>,
    pub attributes: Option<MultiAttributes>,
    pub realm_roles: Option<Vec<String>>,
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
    pub access: Option<BTreeMap<String, bool>>,
}

/// A role scope mapping of a client or client scope (`scopeMappings`, `clientScopeMappings`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ScopeMappingRepresentation {
    pub client: Option<String>,
    pub client_scope: Option<String>,
    pub roles: Option<Vec<String>>,
}
