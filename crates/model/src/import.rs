//! Realm import rules: parse a realm document and turn a representation into a validated
//! [`RealmImage`], applying Keycloak 26's import semantics (see `keycloak-compat.md` §3-4).
//!
//! Invariants: a document that fails any check yields an error and no image, so the store never
//! sees half a realm; every name a template refers to (composite roles, group paths, client ids,
//! client scopes) must exist, except client scope names, which Keycloak skips with a warning; a
//! secret-bearing field (password, client secret, SMTP password) never holds an unresolved
//! `${...}` placeholder.

use crate::defaults;
use crate::password::{HashPolicy, PasswordHash};
use crate::records::*;
use crate::repr::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use zeroize::Zeroizing;

/// A realm document could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// Not well-formed JSON.
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed JSON with a value of the wrong type.
    #[error("invalid value at {path} (line {line}, column {column}): {message}")]
    Type {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// A realm that could not be imported. The message names the offending element.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("{0}")]
    Invalid(String),
    #[error("duplicate {kind} '{name}'")]
    Duplicate { kind: &'static str, name: String },
    #[error("{0}")]
    UnknownReference(String),
    #[error("role composites form a cycle: {0}")]
    CompositeCycle(String),
    #[error(
        "{field} contains the unresolved placeholder ${{{variable}}}: set the environment variable {variable} (or give a default with ${{{variable}:default}})"
    )]
    UnresolvedSecret { field: String, variable: String },
}

/// The realms in one document, plus the JSON paths of fields Portcullis does not know.
#[derive(Debug)]
pub struct ParsedDocument {
    pub realms: Vec<RealmRepresentation>,
    pub unknown_fields: Vec<String>,
}

/// Parse a realm file: one realm object, or an array of them (Keycloak's multi-realm export).
pub fn parse_document(text: &str) -> Result<ParsedDocument, ParseError> {
    let mut unknown = Vec::new();
    let realms = {
        let mut json = serde_json::Deserializer::from_str(text);
        let mut record = |path: serde_ignored::Path<'_>| unknown.push(json_path(&path));
        let ignored = serde_ignored::Deserializer::new(&mut json, &mut record);
        // An array is Keycloak's multi-realm export; anything else must be one realm object.
        let many = text.trim_start().starts_with('[');
        let value = if many {
            serde_path_to_error::deserialize::<_, Vec<RealmRepresentation>>(ignored)
        } else {
            serde_path_to_error::deserialize::<_, RealmRepresentation>(ignored).map(|r| vec![r])
        };
        let value = value.map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            classify(&inner, path)
        })?;
        json.end().map_err(|e| classify(&e, String::new()))?;
        value
    };
    Ok(ParsedDocument {
        realms,
        unknown_fields: unknown,
    })
}

/// A path in the notation of type errors: `clients[0].bogus`.
fn json_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", json_path(parent)),
        Path::Map { parent, key } => {
            let p = json_path(parent);
            if p.is_empty() {
                key.clone()
            } else {
                format!("{p}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => json_path(parent),
    }
}

fn classify(e: &serde_json::Error, path: String) -> ParseError {
    use serde_json::error::Category;
    let message = strip_position(&e.to_string());
    match e.classify() {
        Category::Data if !path.is_empty() && path != "." => ParseError::Type {
            path,
            line: e.line(),
            column: e.column(),
            message,
        },
        _ => ParseError::Syntax {
            line: e.line(),
            column: e.column(),
            message,
        },
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// The name of the first `${NAME...}` placeholder in `s`, if any.
pub fn placeholder_in(s: &str) -> Option<String> {
    let mut from = 0;
    while let Some(i) = s[from..].find("${") {
        let start = from + i + 2;
        let rest = &s[start..];
        let end = rest.find('}')?;
        let inner = &rest[..end];
        let name = inner.split([':', ',']).next().unwrap_or(inner);
        if !name.is_empty() {
            return Some(name.to_string());
        }
        // `${}` (and `${:x}`) are not placeholders: substitution leaves them alone.
        from = start + end + 1;
    }
    None
}

/// Input that is not part of the document.
#[derive(Debug, Clone)]
pub struct BuildContext {
    /// Now, in milliseconds since the epoch (creation timestamps).
    pub now_ms: i64,
}

/// A validated realm, and the warnings a user should see.
#[derive(Debug)]
pub struct Built {
    pub image: RealmImage,
    pub warnings: Vec<String>,
}

/// Built-in required actions, matched case-insensitively and stored in canonical spelling.
const REQUIRED_ACTIONS: &[&str] = &[
    "VERIFY_EMAIL",
    "UPDATE_PROFILE",
    "CONFIGURE_TOTP",
    "UPDATE_PASSWORD",
    "TERMS_AND_CONDITIONS",
    "VERIFY_PROFILE",
    "UPDATE_EMAIL",
    "CONFIGURE_RECOVERY_AUTHN_CODES",
    "delete_account",
    "webauthn-register",
    "webauthn-register-passwordless",
    "update_user_locale",
    "delete_credential",
];

pub fn canonical_required_action(action: &str) -> String {
    REQUIRED_ACTIONS
        .iter()
        .find(|a| a.eq_ignore_ascii_case(action))
        .map(|a| a.to_string())
        .unwrap_or_else(|| action.to_string())
}

/// Realm names: what Keycloak accepts in a URL path segment without surprises.
pub fn validate_realm_name(name: &str) -> Result<(), ImportError> {
    if name.trim().is_empty() {
        return Err(ImportError::Invalid("realm name is empty".into()));
    }
    if name.len() > 255
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control() || c == '%')
    {
        return Err(ImportError::Invalid(format!(
            "realm name '{name}' is not allowed (no '/', '\\', '%' or control characters, at most 255 bytes)"
        )));
    }
    Ok(())
}

type RoleKey = (Option<String>, String); // (clientId or None for realm, role name)

struct Builder {
    placeholders: Placeholders,
    realm_id: String,
    now_ms: i64,
    warnings: Vec<String>,
    image_roles: Vec<RoleRecord>,
    role_ids: HashMap<RoleKey, String>,
    pending_composites: Vec<(String, CompositesRepresentation, String)>,
    client_ids: HashMap<String, String>, // clientId -> internal id
}

impl Builder {
    fn add_role(
        &mut self,
        client: Option<(&str, &str)>,
        rep: &RoleRepresentation,
    ) -> Result<String, ImportError> {
        let name = rep
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ImportError::Invalid("a role has no name".into()))?;
        let key = (client.map(|c| c.0.to_string()), name.clone());
        if self.role_ids.contains_key(&key) {
            let kind = if client.is_some() {
                "client role"
            } else {
                "realm role"
            };
            let shown = match client {
                Some((cid, _)) => format!("{cid}/{name}"),
                None => name.clone(),
            };
            return Err(ImportError::Duplicate { kind, name: shown });
        }
        let id = rep.id.clone().unwrap_or_else(new_id);
        self.role_ids.insert(key, id.clone());
        self.image_roles.push(RoleRecord {
            id: id.clone(),
            realm_id: self.realm_id.clone(),
            client_id: client.map(|c| c.1.to_string()),
            name: name.clone(),
            description: rep.description.clone(),
            attributes: rep.attributes.clone().unwrap_or_default(),
        });
        if let Some(c) = &rep.composites {
            let label = match client {
                Some((cid, _)) => format!("client role '{cid}/{name}'"),
                None => format!("realm role '{name}'"),
            };
            self.pending_composites.push((id.clone(), c.clone(), label));
        }
        Ok(id)
    }

    fn realm_role(&self, name: &str, context: &str) -> Result<String, ImportError> {
        self.role_ids
            .get(&(None, name.to_string()))
            .cloned()
            .ok_or_else(|| {
                ImportError::UnknownReference(format!(
                    "{context}: realm role '{name}' does not exist"
                ))
            })
    }

    fn client_role(
        &self,
        client_id: &str,
        name: &str,
        context: &str,
    ) -> Result<String, ImportError> {
        if !self.client_ids.contains_key(client_id) {
            return Err(ImportError::UnknownReference(format!(
                "{context}: client '{client_id}' does not exist"
            )));
        }
        self.role_ids
            .get(&(Some(client_id.to_string()), name.to_string()))
            .cloned()
            .ok_or_else(|| {
                ImportError::UnknownReference(format!(
                    "{context}: client role '{client_id}/{name}' does not exist"
                ))
            })
    }

    fn roles_of(
        &self,
        realm: Option<&Vec<String>>,
        client: Option<&BTreeMap<String, Vec<String>>>,
        context: &str,
    ) -> Result<Vec<String>, ImportError> {
        let mut out = Vec::new();
        for name in realm.into_iter().flatten() {
            out.push(self.realm_role(name, context)?);
        }
        for (cid, names) in client.into_iter().flatten() {
            for name in names {
                out.push(self.client_role(cid, name, context)?);
            }
        }
        dedup(&mut out);
        Ok(out)
    }
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

/// Whether `${...}` placeholders in secret fields are refused: yes for realm files (an unset
/// environment variable must not become a password), no for admin API bodies, which are taken
/// literally (Keycloak substitutes nothing there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    Refuse,
    Literal,
}

fn secret_check(
    mode: Placeholders,
    field: impl FnOnce() -> String,
    value: Option<&str>,
) -> Result<(), ImportError> {
    if mode == Placeholders::Literal {
        return Ok(());
    }
    if let Some(variable) = value.and_then(placeholder_in) {
        return Err(ImportError::UnresolvedSecret {
            field: field(),
            variable,
        });
    }
    Ok(())
}

fn check_non_negative(name: &str, v: Option<i64>) -> Result<(), ImportError> {
    match v {
        Some(n) if n < 0 => Err(ImportError::Invalid(format!(
            "{name} must not be negative (got {n})"
        ))),
        _ => Ok(()),
    }
}

/// A realm's settings as `PUT /admin/realms/{realm}` stores them: the same defaults and checks
/// as import, without the entity collections, placeholders taken literally.
pub fn settings_for_update(
    rep: &RealmRepresentation,
    master: bool,
) -> Result<RealmRepresentation, ImportError> {
    realm_settings(rep, master, Placeholders::Literal)
}

/// Apply Keycloak's realm-level defaults to absent settings, and validate the present ones.
fn realm_settings(
    rep: &RealmRepresentation,
    master: bool,
    placeholders: Placeholders,
) -> Result<RealmRepresentation, ImportError> {
    let mut s = rep.clone();
    s.id = None;
    s.realm = None;
    s.enabled = None;
    s.roles = None;
    s.groups = None;
    s.default_role = None;
    s.default_roles = None;
    s.default_groups = None;
    s.users = None;
    s.federated_users = None;
    s.scope_mappings = None;
    s.client_scope_mappings = None;
    s.clients = None;
    s.client_scopes = None;
    s.default_default_client_scopes = None;
    s.default_optional_client_scopes = None;
    s.keycloak_version = None;

    macro_rules! default {
        ($field:ident, $value:expr) => {
            if s.$field.is_none() {
                s.$field = Some($value);
            }
        };
    }
    default!(not_before, 0);
    default!(default_signature_algorithm, "RS256".to_string());
    default!(revoke_refresh_token, false);
    default!(refresh_token_max_reuse, 0);
    default!(access_token_lifespan, if master { 60 } else { 300 });
    default!(access_token_lifespan_for_implicit_flow, 900);
    default!(sso_session_idle_timeout, 1800);
    default!(sso_session_max_lifespan, 36000);
    default!(sso_session_idle_timeout_remember_me, 0);
    default!(sso_session_max_lifespan_remember_me, 0);
    default!(offline_session_idle_timeout, 2_592_000);
    default!(offline_session_max_lifespan_enabled, false);
    default!(offline_session_max_lifespan, 5_184_000);
    default!(client_session_idle_timeout, 0);
    default!(client_session_max_lifespan, 0);
    default!(client_offline_session_idle_timeout, 0);
    default!(client_offline_session_max_lifespan, 0);
    default!(access_code_lifespan, 60);
    default!(access_code_lifespan_user_action, 300);
    default!(access_code_lifespan_login, 1800);
    default!(action_token_generated_by_admin_lifespan, 43200);
    default!(action_token_generated_by_user_lifespan, 300);
    default!(oauth2_device_code_lifespan, 600);
    default!(oauth2_device_polling_interval, 5);
    if let Some(v) = &s.ssl_required {
        // Keycloak reads the value case-insensitively; store its canonical lower case.
        s.ssl_required = Some(v.to_ascii_lowercase());
    }
    default!(ssl_required, "external".to_string());
    default!(registration_allowed, false);
    default!(registration_email_as_username, false);
    default!(remember_me, false);
    default!(verify_email, false);
    default!(login_with_email_allowed, true);
    default!(duplicate_emails_allowed, false);
    default!(reset_password_allowed, false);
    default!(edit_username_allowed, false);
    default!(brute_force_protected, false);
    default!(permanent_lockout, false);
    default!(max_temporary_lockouts, 0);
    default!(brute_force_strategy, "MULTIPLE".to_string());
    default!(max_failure_wait_seconds, 900);
    default!(minimum_quick_login_wait_seconds, 60);
    default!(wait_increment_seconds, 60);
    default!(quick_login_check_milli_seconds, 1000);
    default!(max_delta_time_seconds, 43200);
    default!(failure_factor, 30);
    default!(required_credentials, vec!["password".to_string()]);
    default!(otp_policy_type, "totp".to_string());
    default!(otp_policy_algorithm, "HmacSHA1".to_string());
    default!(otp_policy_initial_counter, 0);
    default!(otp_policy_digits, 6);
    default!(otp_policy_look_ahead_window, 1);
    default!(otp_policy_period, 30);
    default!(otp_policy_code_reusable, false);
    default!(events_enabled, false);
    default!(events_listeners, vec!["jboss-logging".to_string()]);
    default!(enabled_event_types, Vec::new());
    default!(admin_events_enabled, false);
    default!(admin_events_details_enabled, false);
    default!(internationalization_enabled, false);
    default!(supported_locales, Vec::new());
    default!(smtp_server, BTreeMap::new());
    default!(user_managed_access_allowed, false);
    default!(organizations_enabled, false);
    default!(browser_flow, "browser".to_string());
    default!(registration_flow, "registration".to_string());
    default!(direct_grant_flow, "direct grant".to_string());
    default!(reset_credentials_flow, "reset credentials".to_string());
    default!(client_authentication_flow, "clients".to_string());
    default!(docker_authentication_flow, "docker auth".to_string());
    default!(first_broker_login_flow, "first broker login".to_string());
    default!(attributes, BTreeMap::new());
    let headers = s.browser_security_headers.get_or_insert_with(BTreeMap::new);
    for (k, v) in [
        ("contentSecurityPolicyReportOnly", ""),
        ("xContentTypeOptions", "nosniff"),
        ("referrerPolicy", "no-referrer"),
        ("xRobotsTag", "none"),
        ("xFrameOptions", "SAMEORIGIN"),
        (
            "contentSecurityPolicy",
            "frame-src 'self'; frame-ancestors 'self'; object-src 'none';",
        ),
        (
            "strictTransportSecurity",
            "max-age=31536000; includeSubDomains",
        ),
    ] {
        headers
            .entry(k.to_string())
            .or_insert_with(|| v.to_string());
    }

    for (name, v) in [
        ("accessTokenLifespan", s.access_token_lifespan),
        ("ssoSessionIdleTimeout", s.sso_session_idle_timeout),
        ("ssoSessionMaxLifespan", s.sso_session_max_lifespan),
        ("offlineSessionIdleTimeout", s.offline_session_idle_timeout),
        ("accessCodeLifespan", s.access_code_lifespan),
        (
            "accessCodeLifespanUserAction",
            s.access_code_lifespan_user_action,
        ),
        ("accessCodeLifespanLogin", s.access_code_lifespan_login),
        (
            "actionTokenGeneratedByAdminLifespan",
            s.action_token_generated_by_admin_lifespan,
        ),
        (
            "actionTokenGeneratedByUserLifespan",
            s.action_token_generated_by_user_lifespan,
        ),
        ("refreshTokenMaxReuse", s.refresh_token_max_reuse),
        ("failureFactor", s.failure_factor),
        ("waitIncrementSeconds", s.wait_increment_seconds),
        ("maxFailureWaitSeconds", s.max_failure_wait_seconds),
        ("maxDeltaTimeSeconds", s.max_delta_time_seconds),
        ("maxTemporaryLockouts", s.max_temporary_lockouts),
    ] {
        check_non_negative(name, v)?;
    }
    if let Some(v) = &s.ssl_required
        && !matches!(v.as_str(), "none" | "external" | "all")
    {
        return Err(ImportError::Invalid(format!(
            "sslRequired must be one of none, external, all (got '{v}')"
        )));
    }
    if let Some(v) = &s.brute_force_strategy
        && !matches!(v.as_str(), "MULTIPLE" | "LINEAR")
    {
        return Err(ImportError::Invalid(format!(
            "bruteForceStrategy must be MULTIPLE or LINEAR (got '{v}')"
        )));
    }
    if let Some(v) = &s.default_signature_algorithm
        && !matches!(
            v.as_str(),
            "RS256"
                | "RS384"
                | "RS512"
                | "PS256"
                | "PS384"
                | "PS512"
                | "ES256"
                | "ES384"
                | "ES512"
                | "EdDSA"
                | "HS256"
                | "HS384"
                | "HS512"
        )
    {
        return Err(ImportError::Invalid(format!(
            "defaultSignatureAlgorithm '{v}' is not supported"
        )));
    }
    if let Some(policy) = &s.password_policy {
        HashPolicy::parse(policy)
            .map_err(|e| ImportError::Invalid(format!("passwordPolicy: {e}")))?;
    }
    if let Some(smtp) = &s.smtp_server {
        secret_check(
            placeholders,
            || "smtpServer.password".to_string(),
            smtp.get("password").map(String::as_str),
        )?;
    }
    Ok(s)
}

/// Turn a realm representation into a validated image, with Keycloak's defaults applied.
pub fn build(rep: RealmRepresentation, ctx: &BuildContext) -> Result<Built, ImportError> {
    build_with(rep, ctx, Placeholders::Refuse)
}

/// [`build`] with a choice of placeholder rule: `POST /admin/realms` builds with
/// [`Placeholders::Literal`], through the same validation as a realm file.
pub fn build_with(
    mut rep: RealmRepresentation,
    ctx: &BuildContext,
    placeholders: Placeholders,
) -> Result<Built, ImportError> {
    // Users are the bulk of a large realm: take them out first so nothing below copies them,
    // and convert them one by one, dropping each representation as its record is made.
    let user_reps = rep.users.take().unwrap_or_default();
    let federated_reps = rep.federated_users.take().unwrap_or_default();
    let name = rep
        .realm
        .clone()
        .ok_or_else(|| ImportError::Invalid("the realm has no 'realm' name".into()))?;
    validate_realm_name(&name)?;
    let master = name == "master";
    let realm_id = rep
        .id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(new_id);
    let settings = realm_settings(&rep, master, placeholders)?;
    let mut b = Builder {
        placeholders,
        realm_id: realm_id.clone(),
        now_ms: ctx.now_ms,
        warnings: Vec::new(),
        image_roles: Vec::new(),
        role_ids: HashMap::new(),
        pending_composites: Vec::new(),
        client_ids: HashMap::new(),
    };

    // Clients first: roles and users refer to them by clientId.
    let mut client_reps: Vec<ClientRepresentation> = rep.clients.clone().unwrap_or_default();
    let builtin = if master {
        let mut v = defaults::builtin_clients(&name);
        v.retain(|c| c.client_id.as_deref() != Some("realm-management"));
        v.extend(defaults::master_realm_clients(&[name.as_str()]));
        v
    } else {
        defaults::builtin_clients(&name)
    };
    let mut added_builtins: HashSet<String> = HashSet::new();
    for c in builtin {
        if !client_reps.iter().any(|r| r.client_id == c.client_id) {
            added_builtins.insert(c.client_id.clone().unwrap_or_default());
            client_reps.push(c);
        }
    }
    let mut clients = Vec::new();
    let mut mappers = Vec::new();
    let mut client_scope_lists = Vec::new();
    for c in client_reps {
        let client_id = c
            .client_id
            .clone()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ImportError::Invalid("a client has no clientId".into()))?;
        if b.client_ids.contains_key(&client_id) {
            return Err(ImportError::Duplicate {
                kind: "clientId",
                name: client_id,
            });
        }
        let id =
            c.id.clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(new_id);
        b.client_ids.insert(client_id.clone(), id.clone());
        secret_check(
            b.placeholders,
            || format!("client '{client_id}' secret"),
            c.secret.as_deref(),
        )?;
        for uri in c.redirect_uris.iter().flatten() {
            if uri.trim().is_empty() {
                return Err(ImportError::Invalid(format!(
                    "client '{client_id}' has an empty redirect URI"
                )));
            }
        }
        let public = c.public_client.unwrap_or(false);
        let bearer = c.bearer_only.unwrap_or(false);
        let secret = match (&c.secret, public) {
            (_, true) => None,
            (Some(s), false) => Some(Zeroizing::new(s.clone())),
            (None, false) if bearer => None,
            (None, false) => Some(Zeroizing::new(generate_secret())),
        };
        for (i, m) in c.protocol_mappers.iter().flatten().enumerate() {
            mappers.push(mapper_record(
                m,
                &id,
                &format!("client '{client_id}' protocol mapper #{i}"),
            )?);
        }
        client_scope_lists.push((
            id.clone(),
            client_id.clone(),
            c.protocol
                .clone()
                .unwrap_or_else(|| "openid-connect".into()),
            c.default_client_scopes.clone(),
            c.optional_client_scopes.clone(),
        ));
        let mut stored = c;
        stored.id = None;
        stored.client_id = None;
        stored.secret = None;
        stored.protocol_mappers = None;
        stored.default_client_scopes = None;
        stored.optional_client_scopes = None;
        if stored.protocol.is_none() {
            stored.protocol = Some("openid-connect".into());
        }
        clients.push(ClientRecord {
            id,
            realm_id: realm_id.clone(),
            client_id,
            secret,
            repr: stored,
        });
    }
    check_mapper_names(&mappers)?;

    // Roles: the template's, then the built-ins it does not define.
    let roles_rep = rep.roles.clone().unwrap_or_default();
    for r in roles_rep.realm.iter().flatten() {
        b.add_role(None, r)?;
    }
    let mut builtin_realm_roles = defaults::builtin_realm_roles(&name);
    if master {
        builtin_realm_roles.extend(defaults::master_realm_roles());
    }
    let default_role_name = rep
        .default_role
        .as_ref()
        .and_then(|r| r.name.clone())
        .unwrap_or_else(|| format!("default-roles-{}", name.to_lowercase()));
    for r in builtin_realm_roles {
        let n = r.name.clone().unwrap_or_default();
        if b.role_ids.contains_key(&(None, n.clone())) {
            continue;
        }
        if n.starts_with("default-roles-") && n != default_role_name {
            continue;
        }
        b.add_role(None, &r)?;
    }
    if !b.role_ids.contains_key(&(None, default_role_name.clone())) {
        let mut r = rep
            .default_role
            .clone()
            .unwrap_or_else(|| defaults::default_role(&name));
        r.name = Some(default_role_name.clone());
        b.add_role(None, &r)?;
    }
    let client_uuid = |b: &Builder, cid: &str, ctx: &str| -> Result<String, ImportError> {
        b.client_ids.get(cid).cloned().ok_or_else(|| {
            ImportError::UnknownReference(format!("{ctx}: client '{cid}' does not exist"))
        })
    };
    for (cid, roles) in roles_rep.client.iter().flatten() {
        let uuid = client_uuid(&b, cid, "roles.client")?;
        for r in roles {
            b.add_role(Some((cid, &uuid)), r)?;
        }
    }
    let mut builtin_client_roles = defaults::builtin_client_roles(&name);
    if master {
        builtin_client_roles.remove("realm-management");
        builtin_client_roles.insert(
            format!("{name}-realm"),
            defaults::master_admin_client_roles(&name),
        );
    }
    for (cid, roles) in builtin_client_roles {
        let Some(uuid) = b.client_ids.get(&cid).cloned() else {
            continue;
        };
        for r in roles {
            let key = (Some(cid.clone()), r.name.clone().unwrap_or_default());
            if !b.role_ids.contains_key(&key) {
                b.add_role(Some((&cid, &uuid)), &r)?;
            }
        }
    }
    if master {
        // The master admin role holds every management role of the master realm's own client.
        let admin_id = b.realm_role("admin", "master admin role")?;
        let composites = defaults::master_admin_composites(&[name.as_str()]);
        b.pending_composites
            .push((admin_id, composites, "realm role 'admin'".into()));
    }
    // Legacy `defaultRoles` and the default role's own representation.
    let default_role_id = b.realm_role(&default_role_name, "defaultRole")?;
    if let Some(names) = &rep.default_roles {
        b.pending_composites.push((
            default_role_id.clone(),
            CompositesRepresentation {
                realm: Some(names.clone()),
                client: None,
            },
            "defaultRoles".into(),
        ));
    }
    let mut composites = Vec::new();
    for (parent, c, label) in std::mem::take(&mut b.pending_composites) {
        for child in b.roles_of(
            c.realm.as_ref(),
            c.client.as_ref(),
            &format!("composites of {label}"),
        )? {
            composites.push((parent.clone(), child));
        }
    }
    let mut seen = HashSet::new();
    composites.retain(|p| seen.insert(p.clone()));
    check_cycles(&b.image_roles, &composites)?;

    // Client scopes.
    let scope_reps = match &rep.client_scopes {
        Some(v) => v.clone(),
        None => defaults::builtin_client_scopes(),
    };
    let mut client_scopes = Vec::new();
    let mut scope_ids: HashMap<String, (String, String)> = HashMap::new(); // name -> (id, protocol)
    for s in scope_reps {
        let sname = s
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ImportError::Invalid("a client scope has no name".into()))?;
        if scope_ids.contains_key(&sname) {
            return Err(ImportError::Duplicate {
                kind: "client scope",
                name: sname,
            });
        }
        let id =
            s.id.clone()
                .filter(|x| !x.is_empty())
                .unwrap_or_else(new_id);
        let protocol = s
            .protocol
            .clone()
            .unwrap_or_else(|| "openid-connect".into());
        scope_ids.insert(sname.clone(), (id.clone(), protocol.clone()));
        for (i, m) in s.protocol_mappers.iter().flatten().enumerate() {
            mappers.push(mapper_record(
                m,
                &id,
                &format!("client scope '{sname}' protocol mapper #{i}"),
            )?);
        }
        let mut stored = s;
        stored.id = None;
        stored.name = None;
        stored.protocol_mappers = None;
        stored.protocol = Some(protocol);
        client_scopes.push(ClientScopeRecord {
            id,
            realm_id: realm_id.clone(),
            name: sname,
            repr: stored,
        });
    }
    check_mapper_names(&mappers)?;
    let (default_defaults, default_optionals) =
        match (&rep.client_scopes, &rep.default_default_client_scopes) {
            (_, Some(d)) => (
                d.clone(),
                rep.default_optional_client_scopes
                    .clone()
                    .unwrap_or_default(),
            ),
            (None, None) => (
                defaults::DEFAULT_DEFAULT_CLIENT_SCOPES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                rep.default_optional_client_scopes
                    .clone()
                    .unwrap_or_else(|| {
                        defaults::DEFAULT_OPTIONAL_CLIENT_SCOPES
                            .iter()
                            .map(|s| s.to_string())
                            .collect()
                    }),
            ),
            (Some(_), None) => (
                Vec::new(),
                rep.default_optional_client_scopes
                    .clone()
                    .unwrap_or_default(),
            ),
        };
    let mut scope_links = Vec::new();
    let mut link = |owner: &str,
                    names: &[String],
                    default_scope: bool,
                    protocol: Option<&str>,
                    warnings: &mut Vec<String>,
                    ctx: &str| {
        for n in names {
            match scope_ids.get(n) {
                Some((id, p)) if protocol.is_none_or(|want| want == p) => {
                    if !scope_links
                        .iter()
                        .any(|l: &ScopeLink| l.owner_id == owner && &l.scope_id == id)
                    {
                        scope_links.push(ScopeLink {
                            owner_id: owner.to_string(),
                            scope_id: id.clone(),
                            default_scope,
                        });
                    }
                }
                Some(_) => {}
                None => warnings.push(format!("{ctx}: client scope '{n}' does not exist; skipped")),
            }
        }
    };
    link(
        &realm_id,
        &default_defaults,
        true,
        None,
        &mut b.warnings,
        "defaultDefaultClientScopes",
    );
    link(
        &realm_id,
        &default_optionals,
        false,
        None,
        &mut b.warnings,
        "defaultOptionalClientScopes",
    );
    for (id, cid, protocol, defaults_list, optionals) in &client_scope_lists {
        let ctx = format!("client '{cid}'");
        if defaults_list.is_none() && optionals.is_none() {
            link(
                id,
                &default_defaults,
                true,
                Some(protocol),
                &mut b.warnings,
                &ctx,
            );
            link(
                id,
                &default_optionals,
                false,
                Some(protocol),
                &mut b.warnings,
                &ctx,
            );
        } else {
            link(
                id,
                defaults_list.as_deref().unwrap_or(&[]),
                true,
                None,
                &mut b.warnings,
                &ctx,
            );
            link(
                id,
                optionals.as_deref().unwrap_or(&[]),
                false,
                None,
                &mut b.warnings,
                &ctx,
            );
        }
    }

    // Role scope mappings.
    let mut scope_mappings = Vec::new();
    let owner_of = |m: &ScopeMappingRepresentation, b: &Builder| -> Result<String, ImportError> {
        match (&m.client, &m.client_scope) {
            (Some(c), _) => client_uuid(b, c, "scopeMappings"),
            (None, Some(s)) => scope_ids.get(s).map(|x| x.0.clone()).ok_or_else(|| {
                ImportError::UnknownReference(format!(
                    "scopeMappings: client scope '{s}' does not exist"
                ))
            }),
            (None, None) => Err(ImportError::Invalid(
                "a scope mapping names neither client nor clientScope".into(),
            )),
        }
    };
    // Keycloak's own mappings come with the built-ins it creates: the offline_access scope
    // carries the offline_access role; account-console (no full scope) carries account's roles.
    let mut realm_scope_mappings = rep.scope_mappings.clone().unwrap_or_default();
    if rep.client_scopes.is_none() {
        realm_scope_mappings.extend(defaults::builtin_scope_mappings());
    }
    let mut client_scope_mapping_reps = rep.client_scope_mappings.clone().unwrap_or_default();
    if added_builtins.contains("account-console") {
        for (cid, ms) in defaults::builtin_client_scope_mappings() {
            client_scope_mapping_reps.entry(cid).or_default().extend(ms);
        }
    }
    for m in &realm_scope_mappings {
        let owner = owner_of(m, &b)?;
        for r in b.roles_of(m.roles.as_ref(), None, "scopeMappings")? {
            scope_mappings.push((owner.clone(), r));
        }
    }
    for (cid, ms) in &client_scope_mapping_reps {
        for m in ms {
            let owner = owner_of(m, &b)?;
            let mut roles = BTreeMap::new();
            roles.insert(cid.clone(), m.roles.clone().unwrap_or_default());
            for r in b.roles_of(None, Some(&roles), "clientScopeMappings")? {
                scope_mappings.push((owner.clone(), r));
            }
        }
    }
    // Mappings are a set, as in Keycloak: repeated entries collapse.
    let mut seen_mappings = HashSet::new();
    scope_mappings.retain(|p| seen_mappings.insert(p.clone()));

    // Groups.
    let mut groups = Vec::new();
    let mut group_roles = Vec::new();
    let mut group_paths: HashMap<String, String> = HashMap::new();
    fn walk(
        b: &Builder,
        reps: &[GroupRepresentation],
        parent: Option<(&str, &str)>,
        out: &mut Vec<GroupRecord>,
        roles: &mut Vec<(String, String)>,
        paths: &mut HashMap<String, String>,
    ) -> Result<(), ImportError> {
        for g in reps {
            let gname = g
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| ImportError::Invalid("a group has no name".into()))?;
            let path = format!("{}/{}", parent.map(|p| p.1).unwrap_or(""), gname);
            if paths.contains_key(&path) {
                return Err(ImportError::Duplicate {
                    kind: "group",
                    name: path,
                });
            }
            let id =
                g.id.clone()
                    .filter(|x| !x.is_empty())
                    .unwrap_or_else(new_id);
            paths.insert(path.clone(), id.clone());
            for r in b.roles_of(
                g.realm_roles.as_ref(),
                g.client_roles.as_ref(),
                &format!("group '{path}'"),
            )? {
                roles.push((id.clone(), r));
            }
            out.push(GroupRecord {
                id: id.clone(),
                realm_id: b.realm_id.clone(),
                parent_id: parent.map(|p| p.0.to_string()),
                name: gname,
                description: g.description.clone(),
                attributes: g.attributes.clone().unwrap_or_default(),
            });
            walk(
                b,
                g.sub_groups.as_deref().unwrap_or(&[]),
                Some((&id, &path)),
                out,
                roles,
                paths,
            )?;
        }
        Ok(())
    }
    walk(
        &b,
        rep.groups.as_deref().unwrap_or(&[]),
        None,
        &mut groups,
        &mut group_roles,
        &mut group_paths,
    )?;
    let find_group = |path: &str, ctx: &str| -> Result<String, ImportError> {
        let normalised = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        group_paths.get(&normalised).cloned().ok_or_else(|| {
            ImportError::UnknownReference(format!("{ctx}: group '{path}' does not exist"))
        })
    };
    let mut default_group_ids = Vec::new();
    for p in rep.default_groups.iter().flatten() {
        default_group_ids.push(find_group(p, "defaultGroups")?);
    }
    dedup(&mut default_group_ids);

    // Users, then the service-account users the template did not list.
    let mut users = Vec::new();
    let mut usernames = HashSet::new();
    let mut emails = HashSet::new();
    let duplicate_emails = settings.duplicate_emails_allowed.unwrap_or(false);
    let mut service_accounts = HashSet::new();
    for u in user_reps.into_iter().chain(federated_reps) {
        let u = &u;
        let img = build_user(&b, u, &find_group)?;
        if !usernames.insert(img.user.username.clone()) {
            return Err(ImportError::Duplicate {
                kind: "username",
                name: img.user.username.clone(),
            });
        }
        if let Some(e) = &img.user.email
            && !duplicate_emails
            && !emails.insert(e.clone())
        {
            return Err(ImportError::Duplicate {
                kind: "email",
                name: e.clone(),
            });
        }
        if let Some(c) = &img.user.service_account_client_id {
            service_accounts.insert(c.clone());
        }
        users.push(img);
    }
    for c in &clients {
        if c.service_accounts_enabled() && !c.bearer_only() && !service_accounts.contains(&c.id) {
            let username = format!("service-account-{}", c.client_id.to_lowercase());
            if !usernames.insert(username.clone()) {
                return Err(ImportError::Duplicate {
                    kind: "username",
                    name: username,
                });
            }
            users.push(UserImage {
                user: UserRecord {
                    id: new_id(),
                    realm_id: realm_id.clone(),
                    username,
                    email: None,
                    first_name: None,
                    last_name: None,
                    enabled: true,
                    email_verified: false,
                    created_timestamp: ctx.now_ms,
                    not_before: 0,
                    federation_link: None,
                    service_account_client_id: Some(c.id.clone()),
                },
                attributes: Vec::new(),
                required_actions: Vec::new(),
                credentials: Vec::new(),
                group_ids: Vec::new(),
                role_ids: vec![default_role_id.clone()],
            });
        }
    }

    let realm = RealmRecord {
        id: realm_id,
        name: name.clone(),
        enabled: rep.enabled.unwrap_or(false),
        default_role_id,
        settings,
    };
    Ok(Built {
        image: RealmImage {
            realm,
            roles: b.image_roles,
            composites,
            groups,
            group_roles,
            default_group_ids,
            clients,
            client_scopes,
            mappers,
            scope_links,
            scope_mappings,
            users,
        },
        warnings: b.warnings,
    })
}

fn build_user(
    b: &Builder,
    u: &UserRepresentation,
    find_group: &dyn Fn(&str, &str) -> Result<String, ImportError>,
) -> Result<UserImage, ImportError> {
    let username = u
        .username
        .clone()
        .map(|s| s.trim().to_lowercase())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ImportError::Invalid("a user has no username".into()))?;
    if username.len() > 255 || username.chars().any(char::is_control) {
        return Err(ImportError::Invalid(format!(
            "username '{username}' is not allowed"
        )));
    }
    let ctx = format!("user '{username}'");
    let id =
        u.id.clone()
            .filter(|x| !x.is_empty())
            .unwrap_or_else(new_id);
    let service_account_client_id = match &u.service_account_client_id {
        Some(cid) => Some(b.client_ids.get(cid).cloned().ok_or_else(|| {
            ImportError::UnknownReference(format!(
                "{ctx}: serviceAccountClientId '{cid}' does not exist"
            ))
        })?),
        None => None,
    };
    let mut attributes = Vec::new();
    for (k, vs) in u.attributes.iter().flatten() {
        for v in &vs.0 {
            attributes.push((k.clone(), v.clone()));
        }
    }
    let mut required_actions: Vec<String> = u
        .required_actions
        .iter()
        .flatten()
        .map(|a| canonical_required_action(a))
        .collect();
    let mut credentials = Vec::new();
    for (i, c) in u.credentials.iter().flatten().enumerate() {
        let cctx = format!("{ctx} credential #{i}");
        let type_ = c.type_.clone().unwrap_or_else(|| "password".into());
        let secret = if let Some(value) = &c.value {
            if type_ != "password" {
                return Err(ImportError::Invalid(format!(
                    "{cctx}: a plaintext value is only accepted for type 'password'"
                )));
            }
            secret_check(b.placeholders, || format!("{ctx} password"), Some(value))?;
            CredentialSecret::Plain(Zeroizing::new(value.clone()))
        } else if let (Some(sd), Some(cd)) = (&c.secret_data, &c.credential_data) {
            if type_ == "password" {
                PasswordHash::from_keycloak(sd, cd)
                    .map_err(|e| ImportError::Invalid(format!("{cctx}: {e}")))?;
            }
            CredentialSecret::Stored {
                secret_data: sd.clone(),
                credential_data: cd.clone(),
            }
        } else if let Some(hv) = &c.hashed_salted_value {
            let hash = PasswordHash::from_legacy(
                hv,
                c.salt.as_deref().unwrap_or(""),
                c.hash_iterations.unwrap_or(0),
                c.algorithm.as_deref().unwrap_or("pbkdf2-sha256"),
            )
            .map_err(|e| ImportError::Invalid(format!("{cctx}: {e}")))?;
            let (secret_data, credential_data) = hash.to_keycloak();
            CredentialSecret::Stored {
                secret_data,
                credential_data,
            }
        } else {
            return Err(ImportError::Invalid(format!(
                "{cctx}: needs either 'value' or both 'secretData' and 'credentialData'"
            )));
        };
        if c.temporary == Some(true) && !required_actions.iter().any(|a| a == "UPDATE_PASSWORD") {
            required_actions.push("UPDATE_PASSWORD".into());
        }
        credentials.push(CredentialRecord {
            id: c
                .id
                .clone()
                .filter(|x| !x.is_empty())
                .unwrap_or_else(new_id),
            user_id: id.clone(),
            type_,
            user_label: c.user_label.clone(),
            created_date: c.created_date.unwrap_or(b.now_ms),
            priority: c.priority.unwrap_or(10),
            secret,
        });
    }
    dedup(&mut required_actions);
    let mut group_ids = Vec::new();
    for p in u.groups.iter().flatten() {
        group_ids.push(find_group(p, &ctx)?);
    }
    dedup(&mut group_ids);
    let role_ids = b.roles_of(u.realm_roles.as_ref(), u.client_roles.as_ref(), &ctx)?;
    Ok(UserImage {
        user: UserRecord {
            id,
            realm_id: b.realm_id.clone(),
            username,
            email: u
                .email
                .clone()
                .map(|e| e.trim().to_lowercase())
                .filter(|e| !e.is_empty()),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            enabled: u.enabled.unwrap_or(false),
            email_verified: u.email_verified.unwrap_or(false),
            created_timestamp: u.created_timestamp.unwrap_or(b.now_ms),
            not_before: u.not_before.unwrap_or(0),
            federation_link: u.federation_link.clone(),
            service_account_client_id,
        },
        attributes,
        required_actions,
        credentials,
        group_ids,
        role_ids,
    })
}

fn mapper_record(
    m: &ProtocolMapperRepresentation,
    owner: &str,
    ctx: &str,
) -> Result<ProtocolMapperRecord, ImportError> {
    let name = m
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ImportError::Invalid(format!("{ctx} has no name")))?;
    let mapper_type = m
        .protocol_mapper
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ImportError::Invalid(format!("{ctx} ('{name}') has no protocolMapper")))?;
    Ok(ProtocolMapperRecord {
        id: m
            .id
            .clone()
            .filter(|x| !x.is_empty())
            .unwrap_or_else(new_id),
        owner_id: owner.to_string(),
        name,
        protocol: m
            .protocol
            .clone()
            .unwrap_or_else(|| "openid-connect".into()),
        mapper_type,
        config: m.config.clone().unwrap_or_default(),
    })
}

fn check_mapper_names(mappers: &[ProtocolMapperRecord]) -> Result<(), ImportError> {
    let mut seen = HashSet::new();
    for m in mappers {
        if !seen.insert((m.owner_id.as_str(), m.protocol.as_str(), m.name.as_str())) {
            return Err(ImportError::Duplicate {
                kind: "protocol mapper",
                name: m.name.clone(),
            });
        }
    }
    Ok(())
}

/// Reject a composite graph with a cycle, naming the roles on it.
pub fn check_cycles(
    roles: &[RoleRecord],
    composites: &[(String, String)],
) -> Result<(), ImportError> {
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    for (p, c) in composites {
        edges.entry(p.as_str()).or_default().push(c.as_str());
    }
    let names: HashMap<&str, String> = roles
        .iter()
        .map(|r| {
            let n = match &r.client_id {
                Some(_) => format!("client role {}", r.name),
                None => r.name.clone(),
            };
            (r.id.as_str(), n)
        })
        .collect();
    // Iterative three-colour DFS.
    let mut state: HashMap<&str, u8> = HashMap::new(); // 1 = on stack, 2 = done
    let mut starts: Vec<&str> = edges.keys().copied().collect();
    starts.sort_unstable();
    for start in starts {
        if state.get(start).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        state.insert(start, 1);
        while let Some((node, idx)) = stack.pop() {
            let next = edges.get(node).and_then(|v| v.get(idx)).copied();
            match next {
                Some(child) => {
                    stack.push((node, idx + 1));
                    match state.get(child).copied().unwrap_or(0) {
                        0 => {
                            state.insert(child, 1);
                            stack.push((child, 0));
                        }
                        1 => {
                            let from = stack.iter().position(|(n, _)| *n == child).unwrap_or(0);
                            let mut cycle: Vec<String> = stack[from..]
                                .iter()
                                .map(|(n, _)| {
                                    names.get(n).cloned().unwrap_or_else(|| n.to_string())
                                })
                                .collect();
                            // Start the report at the smallest name, so it reads the same every time.
                            let min = (0..cycle.len()).min_by_key(|&i| &cycle[i]).unwrap_or(0);
                            cycle.rotate_left(min);
                            let first = cycle.first().cloned().unwrap_or_default();
                            cycle.push(first);
                            return Err(ImportError::CompositeCycle(cycle.join(" -> ")));
                        }
                        _ => {}
                    }
                }
                None => {
                    state.insert(node, 2);
                }
            }
        }
    }
    Ok(())
}

/// A client secret as Keycloak generates them: 32 alphanumeric characters.
pub fn generate_secret() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..32)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The names of groups, clients and roles a set of ids refers to (used by export and tests).
pub fn sorted_unique(v: impl IntoIterator<Item = String>) -> Vec<String> {
    v.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

/// The rows that make master's admins administrators of `realm`: a bearer-only `{realm}-realm`
/// client in master with the management roles, all of them composites of master's `admin` role.
pub fn master_link(master_id: &str, admin_role_id: &str, realm: &str) -> MasterLink {
    let client_rep = defaults::master_realm_clients(&[realm])
        .into_iter()
        .next()
        .unwrap_or_default();
    let client_id = format!("{realm}-realm");
    let id = new_id();
    let mut repr = client_rep;
    repr.id = None;
    repr.client_id = None;
    repr.secret = None;
    repr.protocol_mappers = None;
    repr.default_client_scopes = None;
    repr.optional_client_scopes = None;
    if repr.protocol.is_none() {
        repr.protocol = Some("openid-connect".into());
    }
    let mut roles = Vec::new();
    let mut by_name = HashMap::new();
    for r in defaults::master_admin_client_roles(realm) {
        let rid = new_id();
        let name = r.name.clone().unwrap_or_default();
        by_name.insert(name.clone(), rid.clone());
        roles.push(RoleRecord {
            id: rid,
            realm_id: master_id.to_string(),
            client_id: Some(id.clone()),
            name,
            description: r.description.clone(),
            attributes: r.attributes.clone().unwrap_or_default(),
        });
    }
    let mut composites: Vec<(String, String)> = roles
        .iter()
        .map(|r| (admin_role_id.to_string(), r.id.clone()))
        .collect();
    for r in defaults::master_admin_client_roles(realm) {
        let Some(parent) = r.name.as_ref().and_then(|n| by_name.get(n)) else {
            continue;
        };
        for child in r
            .composites
            .iter()
            .flat_map(|c| c.client.iter().flatten())
            .flat_map(|(_, names)| names)
        {
            if let Some(cid) = by_name.get(child) {
                composites.push((parent.clone(), cid.clone()));
            }
        }
    }
    MasterLink {
        client: ClientRecord {
            id,
            realm_id: master_id.to_string(),
            client_id,
            secret: None,
            repr,
        },
        roles,
        composites,
    }
}
