//! The records a realm is stored as: one struct per table row, with ids already resolved.
//!
//! A [`RealmImage`] is a whole realm as rows; import builds one from a representation
//! ([`crate::import`]), export turns one back into a representation ([`crate::export`]), and the
//! store writes or reads one in a single transaction. Records hold no behaviour beyond small
//! accessors with Keycloak's defaults.

use crate::repr::{
    ClientRepresentation, ClientScopeRepresentation, MultiAttributes, RealmRepresentation,
};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// A fresh random identifier in Keycloak's format (a UUID string).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A realm row. `settings` is the realm representation without its entity collections
/// (roles, groups, users, clients, client scopes and the default lists), with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct RealmRecord {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub default_role_id: String,
    pub settings: RealmRepresentation,
}

impl RealmRecord {
    pub fn access_token_lifespan(&self) -> i64 {
        self.settings.access_token_lifespan.unwrap_or(300)
    }
    pub fn sso_session_idle_timeout(&self) -> i64 {
        self.settings.sso_session_idle_timeout.unwrap_or(1800)
    }
    pub fn sso_session_max_lifespan(&self) -> i64 {
        self.settings.sso_session_max_lifespan.unwrap_or(36000)
    }
    pub fn access_code_lifespan(&self) -> i64 {
        self.settings.access_code_lifespan.unwrap_or(60)
    }
    pub fn login_with_email_allowed(&self) -> bool {
        self.settings.login_with_email_allowed.unwrap_or(true)
    }
    pub fn duplicate_emails_allowed(&self) -> bool {
        self.settings.duplicate_emails_allowed.unwrap_or(false)
    }
    pub fn password_policy(&self) -> &str {
        self.settings.password_policy.as_deref().unwrap_or("")
    }
}

/// A realm role (`client_id` None) or a client role (`client_id` = the client's internal id).
#[derive(Debug, Clone, PartialEq)]
pub struct RoleRecord {
    pub id: String,
    pub realm_id: String,
    pub client_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub attributes: MultiAttributes,
}

impl RoleRecord {
    /// Keycloak's `containerId`: the realm id for realm roles, the client id for client roles.
    pub fn container_id(&self) -> &str {
        self.client_id.as_deref().unwrap_or(&self.realm_id)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupRecord {
    pub id: String,
    pub realm_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub attributes: MultiAttributes,
}

/// A client row. `repr` carries every representation field that is not stored relationally
/// (it has no `id`, `clientId`, `secret`, `protocolMappers` or scope lists).
#[derive(Clone, PartialEq)]
pub struct ClientRecord {
    pub id: String,
    pub realm_id: String,
    pub client_id: String,
    pub secret: Option<Zeroizing<String>>,
    pub repr: ClientRepresentation,
}

impl std::fmt::Debug for ClientRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRecord")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl ClientRecord {
    pub fn enabled(&self) -> bool {
        self.repr.enabled.unwrap_or(true)
    }
    pub fn public_client(&self) -> bool {
        self.repr.public_client.unwrap_or(false)
    }
    pub fn bearer_only(&self) -> bool {
        self.repr.bearer_only.unwrap_or(false)
    }
    pub fn service_accounts_enabled(&self) -> bool {
        self.repr.service_accounts_enabled.unwrap_or(false)
    }
    pub fn redirect_uris(&self) -> &[String] {
        self.repr.redirect_uris.as_deref().unwrap_or(&[])
    }
    pub fn web_origins(&self) -> &[String] {
        self.repr.web_origins.as_deref().unwrap_or(&[])
    }
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.repr.attributes.as_ref()?.get(key).map(String::as_str)
    }
}

/// A client scope row; `repr` has no `id`, `name` or `protocolMappers`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientScopeRecord {
    pub id: String,
    pub realm_id: String,
    pub name: String,
    pub repr: ClientScopeRepresentation,
}

/// A protocol mapper of a client or of a client scope (`owner_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolMapperRecord {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub protocol: String,
    pub mapper_type: String,
    pub config: BTreeMap<String, String>,
}

/// A client scope attached to a client (or a realm default when `owner_id` is the realm id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeLink {
    pub owner_id: String,
    pub scope_id: String,
    /// true: default scope (always applied); false: optional (applied when requested).
    pub default_scope: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: String,
    pub realm_id: String,
    pub username: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub enabled: bool,
    pub email_verified: bool,
    pub created_timestamp: i64,
    pub not_before: i64,
    pub federation_link: Option<String>,
    /// Internal id of the client whose service account this user is.
    pub service_account_client_id: Option<String>,
}

/// What a credential holds: a stored hash or, before import hashes it, a plaintext password.
#[derive(Clone, PartialEq)]
pub enum CredentialSecret {
    Stored {
        secret_data: String,
        credential_data: String,
    },
    Plain(Zeroizing<String>),
}

impl std::fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialSecret::Stored { .. } => f.write_str("Stored(***)"),
            CredentialSecret::Plain(_) => f.write_str("Plain(***)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CredentialRecord {
    pub id: String,
    pub user_id: String,
    pub type_: String,
    pub user_label: Option<String>,
    pub created_date: i64,
    pub priority: i64,
    pub secret: CredentialSecret,
}

impl CredentialRecord {
    /// Hash a plaintext password with `policy`; stored credentials are left alone.
    pub fn hash_if_plain(
        &mut self,
        policy: &crate::password::HashPolicy,
    ) -> Result<(), crate::password::HashError> {
        if let CredentialSecret::Plain(value) = &self.secret {
            let hash = crate::password::hash_password(value, policy)?;
            let (secret_data, credential_data) = hash.to_keycloak();
            self.secret = CredentialSecret::Stored {
                secret_data,
                credential_data,
            };
        }
        Ok(())
    }
}

/// A user with everything that hangs off it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserImage {
    pub user: UserRecord,
    /// (name, value) pairs in order; a multi-valued attribute appears once per value.
    pub attributes: Vec<(String, String)>,
    pub required_actions: Vec<String>,
    pub credentials: Vec<CredentialRecord>,
    pub group_ids: Vec<String>,
    pub role_ids: Vec<String>,
}

/// A whole realm as rows, ready to be written in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct RealmImage {
    pub realm: RealmRecord,
    pub roles: Vec<RoleRecord>,
    /// (composite role id, member role id)
    pub composites: Vec<(String, String)>,
    pub groups: Vec<GroupRecord>,
    /// (group id, role id)
    pub group_roles: Vec<(String, String)>,
    pub default_group_ids: Vec<String>,
    pub clients: Vec<ClientRecord>,
    pub client_scopes: Vec<ClientScopeRecord>,
    pub mappers: Vec<ProtocolMapperRecord>,
    /// Client scopes of clients, and the realm's default lists (owner = realm id).
    pub scope_links: Vec<ScopeLink>,
    /// Role scope mappings: (client or client scope id, role id).
    pub scope_mappings: Vec<(String, String)>,
    pub users: Vec<UserImage>,
}

/// A realm's management client in master (`{realm}-realm`), its roles, and the composites that
/// give master's `admin` role all of them.
#[derive(Debug, Clone, PartialEq)]
pub struct MasterLink {
    pub client: ClientRecord,
    pub roles: Vec<RoleRecord>,
    pub composites: Vec<(String, String)>,
}

// ---------------------------------------------------------------------------------------------
// Runtime state of the OpenID Connect provider (all in the database; nodes are stateless).
// Times are epoch milliseconds unless named `_s` (seconds, as in JWT claims).
// ---------------------------------------------------------------------------------------------

/// A realm signing key. `private_der` is PKCS#8 DER (RSA, EC P-256, Ed25519) or the raw secret
/// for HMAC keys; it never leaves the server.
#[derive(Clone, PartialEq)]
pub struct KeyRecord {
    pub id: String,
    pub realm_id: String,
    /// JWS `kid` (RFC 7638 thumbprint, base64url; 43 characters).
    pub kid: String,
    /// `RS256`, `ES256`, `EdDSA`, `HS512`, ...
    pub algorithm: String,
    /// `sig` (or `enc`).
    pub key_use: String,
    pub private_der: Zeroizing<Vec<u8>>,
    /// Self-signed certificate (DER) published as `x5c` for RSA keys, when present.
    pub certificate_der: Option<Vec<u8>>,
    /// Published in JWKS and accepted for verification.
    pub enabled: bool,
    /// Used to sign new tokens (the newest active key of an algorithm wins).
    pub active: bool,
    pub priority: i64,
    pub created_at: i64,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("enabled", &self.enabled)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// An SSO session (`sid`): one per browser login, shared by every client the user signs in to.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSessionRecord {
    pub id: String,
    pub realm_id: String,
    pub user_id: String,
    /// `auth_time` claim: when the user last entered credentials (seconds).
    pub auth_time_s: i64,
    pub started: i64,
    pub last_refresh: i64,
    pub remember_me: bool,
    pub ip_address: Option<String>,
}

/// A client's part of an SSO session; refresh-token rotation state lives here.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSessionRecord {
    pub id: String,
    pub user_session_id: String,
    /// Internal id of the client.
    pub client_id: String,
    /// Space-separated granted scope.
    pub scope: String,
    pub redirect_uri: Option<String>,
    pub started: i64,
    /// Generation of the current refresh token (incremented on every refresh).
    pub refresh_generation: i64,
    /// How many times the current generation was used (for `refreshTokenMaxReuse`).
    pub refresh_uses: i64,
}

/// An authorization code. Only the SHA-256 of the code is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthCodeRecord {
    pub code_hash: String,
    pub realm_id: String,
    pub client_id: String,
    pub user_session_id: String,
    pub client_session_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub auth_time_s: i64,
    pub expires_at: i64,
    /// Set when redeemed; a second redemption finds it set (replay).
    pub used_at: Option<i64>,
    /// Level of assurance: "1" after entering credentials, "0" from the SSO cookie.
    pub acr: String,
}

/// A login in progress (between the authorization request and the code): bound to the
/// browser by an unguessable id in a cookie, and to the form by a CSRF token.
#[derive(Clone, PartialEq)]
pub struct AuthSessionRecord {
    pub id: String,
    pub realm_id: String,
    pub client_id: String,
    /// The validated authorization request, as JSON (what to do once the user is known).
    pub request: String,
    /// Set once credentials were accepted and required actions remain.
    pub user_id: Option<String>,
    pub csrf_token: String,
    pub created: i64,
    pub expires_at: i64,
}

impl std::fmt::Debug for AuthSessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSessionRecord")
            .field("id", &"***")
            .field("realm_id", &self.realm_id)
            .field("client_id", &self.client_id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}
