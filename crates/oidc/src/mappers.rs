//! Protocol mappers: turn a list of OpenID Connect `ProtocolMapperRecord`s into the claims of
//! one token kind ([`Target`]), the way Keycloak 26 does (`keycloak-compat.md` §3.8).
//!
//! Each mapper type decides which token kinds it can write to (the sub mapper never writes to
//! an ID token, the audience mappers never to UserInfo, ...); within those, the config flags
//! decide, tested as the exact string `"true"` — an absent flag is off, except that UserInfo
//! falls back to `id.token.claim` and introspection to `access.token.claim`, and that the
//! `audience resolve` and `allowed web origins` mappers treat absent flags as on. Mappers run in
//! Keycloak's priority order (sub first, audience resolve before the role mappers), stably.
//!
//! Claim names are paths: unescaped dots nest objects (`realm_access.roles`), a backslash
//! escapes the next character (`a\.b` is one claim named `a.b`). A few top-level names are
//! token fields rather than free claims: `sub`, `azp`, `acr`, `auth_time` and `aud` replace
//! those fields; `jti`, `typ`, `iat`, `exp`, `iss`, `scope`, `nonce` and `session_state` can
//! not be written by a mapper at all.
//!
//! Ordering: Keycloak keeps free claims, nested claim objects, role sets and
//! `resource_access` in Java hash maps and sets, so a token lists them in Java's `HashMap`
//! iteration order, not in the order mappers ran. [`java_hash_order`] reproduces that order
//! (String hash, bucket index, insertion order within a bucket) so our tokens list claims and
//! roles exactly as Keycloak's do.
//!
//! Invariant: pure functions over the data passed in; no clock, randomness or I/O.

use portcullis_model::records::{ClientRecord, ProtocolMapperRecord, RoleRecord, UserRecord};
use portcullis_model::redirect::allowed_origins;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The protocol name every mapper applied here must carry.
pub const OIDC_PROTOCOL: &str = "openid-connect";

/// The token kind claims are being produced for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// A full access token (`access.token.claim`).
    AccessToken,
    /// An ID token (`id.token.claim`).
    IdToken,
    /// The UserInfo response (`userinfo.token.claim`, falling back to `id.token.claim`).
    UserInfo,
    /// The introspection response (`introspection.token.claim`, falling back to
    /// `access.token.claim`).
    Introspection,
    /// A lightweight access token (`lightweight.claim`), issued to clients whose attribute
    /// `client.use.lightweight.access.token.enabled` is `"true"`.
    Lightweight,
}

impl Target {
    /// Tokens Keycloak represents as an `AccessToken` object: role mappers writing to
    /// `realm_access.roles` / `resource_access.<client>.roles` fill those fields directly.
    fn is_access_token_shaped(self) -> bool {
        !matches!(self, Target::IdToken)
    }
}

/// Mapper types (Keycloak provider ids) handled here.
pub mod types {
    pub const USER_ATTRIBUTE: &str = "oidc-usermodel-attribute-mapper";
    pub const USER_PROPERTY: &str = "oidc-usermodel-property-mapper";
    pub const FULL_NAME: &str = "oidc-full-name-mapper";
    pub const GROUP_MEMBERSHIP: &str = "oidc-group-membership-mapper";
    pub const REALM_ROLE: &str = "oidc-usermodel-realm-role-mapper";
    pub const CLIENT_ROLE: &str = "oidc-usermodel-client-role-mapper";
    pub const AUDIENCE: &str = "oidc-audience-mapper";
    pub const AUDIENCE_RESOLVE: &str = "oidc-audience-resolve-mapper";
    pub const HARDCODED_CLAIM: &str = "oidc-hardcoded-claim-mapper";
    pub const ALLOWED_ORIGINS: &str = "oidc-allowed-origins-mapper";
    pub const SUB: &str = "oidc-sub-mapper";
    pub const SESSION_NOTE: &str = "oidc-usersessionmodel-note-mapper";
    pub const ACR: &str = "oidc-acr-mapper";
    pub const ADDRESS: &str = "oidc-address-mapper";
}

/// Config keys shared by the mapper types.
mod keys {
    pub const CLAIM_NAME: &str = "claim.name";
    pub const JSON_TYPE: &str = "jsonType.label";
    pub const MULTIVALUED: &str = "multivalued";
    pub const ACCESS_TOKEN: &str = "access.token.claim";
    pub const ID_TOKEN: &str = "id.token.claim";
    pub const USERINFO: &str = "userinfo.token.claim";
    pub const INTROSPECTION: &str = "introspection.token.claim";
    pub const LIGHTWEIGHT: &str = "lightweight.claim";
    pub const USER_ATTRIBUTE: &str = "user.attribute";
    pub const AGGREGATE_ATTRS: &str = "aggregate.attrs";
    pub const FULL_PATH: &str = "full.path";
    pub const REALM_ROLE_PREFIX: &str = "usermodel.realmRoleMapping.rolePrefix";
    pub const CLIENT_ROLE_CLIENT_ID: &str = "usermodel.clientRoleMapping.clientId";
    pub const CLIENT_ROLE_PREFIX: &str = "usermodel.clientRoleMapping.rolePrefix";
    pub const INCLUDED_CLIENT_AUDIENCE: &str = "included.client.audience";
    pub const INCLUDED_CUSTOM_AUDIENCE: &str = "included.custom.audience";
    pub const CLAIM_VALUE: &str = "claim.value";
    pub const SESSION_NOTE: &str = "user.session.note";
}

/// Placeholder in client-role claim names, replaced by each client's clientId.
const CLIENT_ID_PLACEHOLDER: &str = "${client_id}";

/// Which token kinds a mapper type can write to at all, whatever its flags say.
#[derive(Clone, Copy)]
struct Supports {
    access: bool,
    id: bool,
    userinfo: bool,
    introspection: bool,
}

const ALL: Supports = Supports {
    access: true,
    id: true,
    userinfo: true,
    introspection: true,
};
const ACCESS_ID_INTROSPECTION: Supports = Supports {
    userinfo: false,
    ..ALL
};
const ACCESS_INTROSPECTION: Supports = Supports {
    id: false,
    userinfo: false,
    ..ALL
};

fn supports(mapper_type: &str) -> Option<Supports> {
    use types::*;
    Some(match mapper_type {
        USER_ATTRIBUTE | USER_PROPERTY | FULL_NAME | GROUP_MEMBERSHIP | REALM_ROLE
        | CLIENT_ROLE | HARDCODED_CLAIM | SESSION_NOTE | ADDRESS => ALL,
        AUDIENCE | ACR => ACCESS_ID_INTROSPECTION,
        AUDIENCE_RESOLVE | ALLOWED_ORIGINS | SUB => ACCESS_INTROSPECTION,
        _ => return None,
    })
}

/// Whether tokens apply mappers of this type (the OpenID Connect mapper types implemented here);
/// the admin API accepts no other OpenID Connect mapper.
pub fn implemented(mapper_type: &str) -> bool {
    supports(mapper_type).is_some()
}

/// Keycloak's mapper priorities: lower runs first, ties keep list order.
fn priority(mapper_type: &str) -> i32 {
    match mapper_type {
        types::SUB => -10,
        "oidc-role-name-mapper" => 10,
        "oidc-hardcoded-role-mapper" => 20,
        types::AUDIENCE_RESOLVE => 30,
        types::REALM_ROLE | types::CLIENT_ROLE => 40,
        "oidc-script-based-protocol-mapper" => 50,
        _ => 0,
    }
}

fn flag(mapper: &ProtocolMapperRecord, key: &str) -> Option<bool> {
    mapper.config.get(key).map(|v| v == "true")
}

fn config<'m>(mapper: &'m ProtocolMapperRecord, key: &str) -> Option<&'m str> {
    mapper.config.get(key).map(String::as_str)
}

/// Does `mapper` contribute to `target`? Combines what its type supports with its flags.
/// Unknown mapper types and non-OIDC mappers never do.
pub fn included(mapper: &ProtocolMapperRecord, target: Target) -> bool {
    if mapper.protocol != OIDC_PROTOCOL {
        return false;
    }
    let Some(s) = supports(&mapper.mapper_type) else {
        return false;
    };
    // These two keep their pre-flag behaviour: an absent flag means "on".
    let absent_is_on = matches!(
        mapper.mapper_type.as_str(),
        types::AUDIENCE_RESOLVE | types::ALLOWED_ORIGINS
    );
    let on = |key: &str| flag(mapper, key).unwrap_or(absent_is_on);
    match target {
        Target::AccessToken => s.access && on(keys::ACCESS_TOKEN),
        Target::Lightweight => s.access && flag(mapper, keys::LIGHTWEIGHT).unwrap_or(false),
        Target::IdToken => s.id && flag(mapper, keys::ID_TOKEN).unwrap_or(false),
        Target::UserInfo => {
            s.userinfo
                && flag(mapper, keys::USERINFO)
                    .unwrap_or_else(|| flag(mapper, keys::ID_TOKEN).unwrap_or(false))
        }
        Target::Introspection => {
            s.introspection
                && match flag(mapper, keys::INTROSPECTION) {
                    Some(v) => v,
                    None if absent_is_on => true,
                    None => flag(mapper, keys::ACCESS_TOKEN).unwrap_or(false),
                }
        }
    }
}

/// Everything the mappers read. Roles are the user's effective roles already limited by the
/// client's role scope; groups are the user's direct groups as (name, full path).
#[derive(Debug, Clone, Copy)]
pub struct MapperInput<'a> {
    pub user: &'a UserRecord,
    /// (name, value) pairs; a multi-valued attribute appears once per value, in order.
    pub user_attributes: &'a [(String, String)],
    /// Attributes of the user's groups and their ancestors, keyed by full group path; used
    /// when a user attribute is missing or `aggregate.attrs` is on.
    pub group_attributes: &'a BTreeMap<String, Vec<(String, String)>>,
    pub effective_roles: &'a [RoleRecord],
    /// The client the token is issued to.
    pub client: &'a ClientRecord,
    /// Internal client id -> clientId, for every client owning one of `effective_roles`.
    pub client_ids_by_uuid: &'a BTreeMap<String, String>,
    /// (name, full path such as `/parent/child`), in membership order.
    pub direct_groups: &'a [(String, String)],
    /// User session notes (`AUTH_TIME`, and for service accounts `client_id`, `clientHost`,
    /// `clientAddress`).
    pub session_notes: &'a BTreeMap<String, String>,
    /// The authentication context class: `"1"` after entering credentials, `"0"` on SSO.
    pub acr: &'a str,
}

/// A claim value inside the free-claims tree: a final JSON value, or an object Keycloak keeps
/// as a Java `HashMap` (created by a dotted claim name), rendered in Java's order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Value(Value),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn to_json(&self) -> Value {
        match self {
            Node::Value(v) => v.clone(),
            Node::Object(entries) => Value::Object(
                java_hash_order(entries.iter().map(|(k, n)| (k.clone(), n)).collect())
                    .into_iter()
                    .map(|(k, n)| (k, n.to_json()))
                    .collect(),
            ),
        }
    }
}

/// The claims mappers produce for one token, before the protocol fields (`exp`, `iss`, ...)
/// are added. Fields mirror the token fields Keycloak's mappers can set directly; everything
/// else is a free claim.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimSet {
    /// `sub`, set by the sub mapper or a mapper writing the claim `sub`.
    pub sub: Option<String>,
    /// `azp` override (a mapper writing the claim `azp`).
    pub azp: Option<String>,
    pub acr: Option<String>,
    pub auth_time: Option<i64>,
    /// Audiences in the order added, without duplicates.
    pub aud: Vec<String>,
    /// `allowed-origins` as a set (rendered in Java's order).
    pub allowed_origins: Option<Vec<String>>,
    /// `realm_access.roles` as a set (rendered in Java's order).
    pub realm_access: Option<Vec<String>>,
    /// `resource_access`: (clientId, role set) in the order first seen.
    pub resource_access: Vec<(String, Vec<String>)>,
    pub(crate) other: Vec<(String, Node)>,
}

impl ClaimSet {
    /// Append an audience unless present (Keycloak's `addAudience`).
    pub fn add_audience(&mut self, aud: &str) {
        if !self.aud.iter().any(|a| a == aud) {
            self.aud.push(aud.to_string());
        }
    }

    /// `aud` as a token shows it: absent, a string, or an array.
    pub fn aud_json(&self) -> Option<Value> {
        string_or_array(&self.aud)
    }

    pub fn allowed_origins_json(&self) -> Option<Value> {
        self.allowed_origins.as_ref().map(|s| java_set_json(s))
    }

    /// `{"roles": [...]}` when a role mapper filled `realm_access.roles`.
    pub fn realm_access_json(&self) -> Option<Value> {
        self.realm_access.as_ref().map(|roles| {
            let mut m = Map::new();
            m.insert("roles".into(), java_set_json(roles));
            Value::Object(m)
        })
    }

    /// `{"<clientId>": {"roles": [...]}, ...}`, absent when no client roles were mapped.
    pub fn resource_access_json(&self) -> Option<Value> {
        if self.resource_access.is_empty() {
            return None;
        }
        let ordered = java_hash_order(
            self.resource_access
                .iter()
                .map(|(c, r)| (c.clone(), r))
                .collect(),
        );
        Some(Value::Object(
            ordered
                .into_iter()
                .map(|(client, roles)| {
                    let mut m = Map::new();
                    m.insert("roles".into(), java_set_json(roles));
                    (client, Value::Object(m))
                })
                .collect(),
        ))
    }

    /// The free claims, in the order Keycloak serialises them.
    pub fn other_claims(&self) -> Vec<(String, Value)> {
        java_hash_order(self.other.iter().map(|(k, n)| (k.clone(), n)).collect())
            .into_iter()
            .map(|(k, n)| (k, n.to_json()))
            .collect()
    }

    /// Is there a free claim with this top-level name?
    pub fn has_other(&self, name: &str) -> bool {
        self.other.iter().any(|(k, _)| k == name)
    }

    fn put_other(&mut self, key: &str, value: Value) {
        match self.other.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = Node::Value(value),
            None => self.other.push((key.to_string(), Node::Value(value))),
        }
    }

    fn add_roles(set: &mut Vec<String>, roles: &[String]) {
        for r in roles {
            if !set.contains(r) {
                set.push(r.clone());
            }
        }
    }
}

fn string_or_array(values: &[String]) -> Option<Value> {
    match values {
        [] => None,
        [one] => Some(Value::String(one.clone())),
        many => Some(Value::Array(
            many.iter().cloned().map(Value::String).collect(),
        )),
    }
}

fn java_set_json(set: &[String]) -> Value {
    Value::Array(java_set_order(set).into_iter().map(Value::String).collect())
}

// ---------------------------------------------------------------------------------------------
// Java HashMap / HashSet iteration order
// ---------------------------------------------------------------------------------------------

/// Java's `String.hashCode` (over UTF-16 code units, wrapping).
fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Table size of a default `HashMap` after `len` insertions (16, doubling past 3/4 full).
fn java_table_size(len: usize) -> usize {
    let mut cap = 16;
    while len > cap / 4 * 3 {
        cap *= 2;
    }
    cap
}

/// Reorder `entries` (unique keys, in insertion order) the way a `java.util.HashMap` built by
/// inserting them in that order iterates: by bucket (`(h ^ h >>> 16) & (n - 1)` of the key's
/// String hash), then insertion order within a bucket.
pub fn java_hash_order<T>(entries: Vec<(String, T)>) -> Vec<(String, T)> {
    let mask = java_table_size(entries.len()) - 1;
    let mut keyed: Vec<(usize, (String, T))> = entries
        .into_iter()
        .map(|e| {
            let h = java_string_hash(&e.0) as u32;
            (((h ^ (h >> 16)) as usize) & mask, e)
        })
        .collect();
    keyed.sort_by_key(|(bucket, _)| *bucket);
    keyed.into_iter().map(|(_, e)| e).collect()
}

/// A `java.util.HashSet` of these strings (duplicates dropped) in iteration order.
pub fn java_set_order(values: &[String]) -> Vec<String> {
    let mut unique: Vec<(String, ())> = Vec::new();
    for v in values {
        if !unique.iter().any(|(u, _)| u == v) {
            unique.push((v.clone(), ()));
        }
    }
    java_hash_order(unique)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Claim paths and values
// ---------------------------------------------------------------------------------------------

/// Split a `claim.name` into path components: unescaped dots separate components, a backslash
/// makes the next character literal. Like Keycloak, an empty component (`a..b`, or a name
/// starting with a dot) ends the splitting: the rest is one last component.
pub fn split_claim_path(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let mut i = start;
        let mut units = 0;
        let mut dot = None;
        while i < chars.len() {
            match chars[i] {
                '\\' if i + 1 < chars.len() => i += 2,
                '\\' => break,
                '.' => {
                    if units > 0 {
                        dot = Some(i);
                    }
                    break;
                }
                _ => i += 1,
            }
            units += 1;
        }
        match dot {
            Some(d) => {
                out.push(unescape(&chars[start..d]));
                start = d + 1;
            }
            None => break,
        }
    }
    if start < chars.len() {
        out.push(unescape(&chars[start..]));
    }
    out
}

fn unescape(chars: &[char]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            out.push(chars[i + 1]);
            i += 2;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Escape a clientId for use inside a claim path (`${client_id}` substitution).
fn escape_claim_component(s: &str) -> String {
    s.replace('\\', "\\\\").replace('.', "\\.")
}

/// A value could not be converted to the mapper's `jsonType.label` (Keycloak fails the whole
/// token request here; we drop the mapper and report it).
struct ConversionError;

fn convert(json_type: Option<&str>, raw: &str) -> Result<Value, ConversionError> {
    Ok(match json_type {
        Some("long") => Value::from(raw.parse::<i64>().map_err(|_| ConversionError)?),
        Some("int") => Value::from(raw.parse::<i32>().map_err(|_| ConversionError)?),
        Some("boolean") => Value::Bool(raw.eq_ignore_ascii_case("true")),
        Some("JSON") => serde_json::from_str(raw).map_err(|_| ConversionError)?,
        // "String", absent, or a label Keycloak does not know: the text itself.
        _ => Value::String(raw.to_string()),
    })
}

/// Keycloak's `mapAttributeValue` over a list of values: nothing when empty; an array when
/// `multivalued` is on; otherwise only the first value.
fn map_values(
    mapper: &ProtocolMapperRecord,
    values: &[String],
    multivalued: bool,
) -> Result<Option<Value>, ConversionError> {
    let json_type = config(mapper, keys::JSON_TYPE);
    match values {
        [] => Ok(None),
        _ if multivalued => Ok(Some(Value::Array(
            values
                .iter()
                .map(|v| convert(json_type, v))
                .collect::<Result<_, _>>()?,
        ))),
        [first, ..] => convert(json_type, first).map(Some),
    }
}

fn map_value(mapper: &ProtocolMapperRecord, value: &str) -> Result<Value, ConversionError> {
    convert(config(mapper, keys::JSON_TYPE), value)
}

/// Java's `toString` of a claim value, for the fields a mapper sets by name.
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Claims that are token fields a mapper may set (single-component names only).
const SETTABLE_FIELDS: &[&str] = &["sub", "azp", "acr", "auth_time", "aud"];
/// Claims only the server sets; mappers writing them are ignored.
const PROTECTED_FIELDS: &[&str] = &[
    "jti",
    "typ",
    "iat",
    "exp",
    "iss",
    "scope",
    "nonce",
    "session_state",
];

/// How a value meets an existing one at the end of a claim path.
#[derive(Clone, Copy, PartialEq)]
enum Merge {
    /// Replace what is there.
    Replace,
    /// Multi-valued attribute claims: add values not yet present.
    Union,
    /// Role claims: add to an existing array, otherwise replace.
    Roles,
}

/// A dotted claim path runs through a value that is not an object.
struct PathConflict;

fn insert_path(
    map: &mut Vec<(String, Node)>,
    path: &[String],
    value: Value,
    merge: Merge,
) -> Result<(), PathConflict> {
    let Some((key, rest)) = path.split_first() else {
        return Ok(());
    };
    let pos = map.iter().position(|(k, _)| k == key);
    if rest.is_empty() {
        match pos {
            None => map.push((key.clone(), Node::Value(value))),
            Some(i) => {
                let slot = &mut map[i].1;
                *slot = Node::Value(merged(slot, value, merge));
            }
        }
        return Ok(());
    }
    let i = match pos {
        Some(i) => i,
        None => {
            map.push((key.clone(), Node::Object(Vec::new())));
            map.len() - 1
        }
    };
    match &mut map[i].1 {
        Node::Object(inner) => insert_path(inner, rest, value, merge),
        Node::Value(_) => Err(PathConflict),
    }
}

fn merged(existing: &Node, new: Value, merge: Merge) -> Value {
    let Node::Value(old) = existing else {
        return new;
    };
    match (merge, old, new) {
        (Merge::Union, old, new) => {
            let mut items = match old {
                Value::Array(a) => a.clone(),
                single => vec![single.clone()],
            };
            let added = match new {
                Value::Array(a) => a,
                single => vec![single],
            };
            for v in added {
                if !items.contains(&v) {
                    items.push(v);
                }
            }
            Value::Array(items)
        }
        (Merge::Roles, Value::Array(a), Value::Array(b)) => {
            let mut items = a.clone();
            for v in b {
                if !items.contains(&v) {
                    items.push(v);
                }
            }
            Value::Array(items)
        }
        (_, _, new) => new,
    }
}

// ---------------------------------------------------------------------------------------------
// Applying mappers
// ---------------------------------------------------------------------------------------------

/// What [`apply`] produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// Names of mappers that were ignored: unknown or unsupported types (including
    /// `oidc-hardcoded-role-mapper`), non-OIDC mappers, values that do not convert to the
    /// mapper's `jsonType.label`, and claim paths running through a non-object value.
    pub skipped: Vec<String>,
}

/// Apply `mappers` for `target` onto `claims`, in Keycloak's priority order.
pub fn apply(
    mappers: &[ProtocolMapperRecord],
    target: Target,
    input: &MapperInput<'_>,
    claims: &mut ClaimSet,
) -> Applied {
    let mut order: Vec<&ProtocolMapperRecord> = mappers.iter().collect();
    order.sort_by_key(|m| priority(&m.mapper_type));
    let mut applied = Applied::default();
    for mapper in order {
        if mapper.protocol != OIDC_PROTOCOL || supports(&mapper.mapper_type).is_none() {
            applied.skipped.push(mapper.name.clone());
            continue;
        }
        if !included(mapper, target) {
            continue;
        }
        if apply_one(mapper, target, input, claims).is_err() {
            applied.skipped.push(mapper.name.clone());
        }
    }
    applied
}

/// A mapper failed; its claim was not written.
struct Failed;

impl From<ConversionError> for Failed {
    fn from(_: ConversionError) -> Failed {
        Failed
    }
}

impl From<PathConflict> for Failed {
    fn from(_: PathConflict) -> Failed {
        Failed
    }
}

fn apply_one(
    mapper: &ProtocolMapperRecord,
    target: Target,
    input: &MapperInput<'_>,
    claims: &mut ClaimSet,
) -> Result<(), Failed> {
    let multivalued = flag(mapper, keys::MULTIVALUED).unwrap_or(false);
    match mapper.mapper_type.as_str() {
        types::USER_ATTRIBUTE => {
            let name = config(mapper, keys::USER_ATTRIBUTE).unwrap_or("");
            let aggregate = config(mapper, keys::AGGREGATE_ATTRS)
                .is_some_and(|v| v.eq_ignore_ascii_case("true"));
            let values = attribute_values(input, name, aggregate);
            if let Some(v) = map_values(mapper, &values, multivalued)? {
                map_claim(claims, mapper, v, multivalued)?;
            }
        }
        types::USER_PROPERTY => {
            let name = config(mapper, keys::USER_ATTRIBUTE).unwrap_or("");
            if let Some(raw) = user_property(input.user, name) {
                let v = map_value(mapper, &raw)?;
                map_claim(claims, mapper, v, multivalued)?;
            }
        }
        types::SESSION_NOTE => {
            let note = config(mapper, keys::SESSION_NOTE).unwrap_or("");
            if let Some(raw) = input.session_notes.get(note) {
                let v = map_value(mapper, raw)?;
                map_claim(claims, mapper, v, multivalued)?;
            }
        }
        types::HARDCODED_CLAIM => {
            if let Some(raw) = config(mapper, keys::CLAIM_VALUE) {
                let v = map_value(mapper, raw)?;
                map_claim(claims, mapper, v, multivalued)?;
            }
        }
        types::FULL_NAME => {
            let parts: Vec<&str> = [&input.user.first_name, &input.user.last_name]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .filter(|s| !s.is_empty())
                .collect();
            if !parts.is_empty() {
                claims.put_other("name", Value::String(parts.join(" ")));
            }
        }
        types::ADDRESS => {
            claims.put_other("address", address(mapper, input));
        }
        types::GROUP_MEMBERSHIP => {
            // Keycloak 22+ goes through the generic claim code with `multivalued` forced on, so
            // a user without groups gets no claim at all (keycloak#22340).
            let full_path = config(mapper, keys::FULL_PATH) == Some("true");
            let groups: Vec<String> = input
                .direct_groups
                .iter()
                .map(|(name, path)| if full_path { path } else { name }.clone())
                .collect();
            if let Some(v) = map_values(mapper, &groups, true)? {
                map_claim(claims, mapper, v, true)?;
            }
        }
        types::REALM_ROLE => {
            let names: Vec<String> = input
                .effective_roles
                .iter()
                .filter(|r| r.client_id.is_none())
                .map(|r| r.name.clone())
                .collect();
            let prefix = config(mapper, keys::REALM_ROLE_PREFIX).unwrap_or("");
            role_claim(claims, mapper, target, &names, None, prefix, multivalued)?;
        }
        types::CLIENT_ROLE => {
            let prefix = config(mapper, keys::CLIENT_ROLE_PREFIX).unwrap_or("");
            let by_client = client_roles(input);
            match config(mapper, keys::CLIENT_ROLE_CLIENT_ID).filter(|c| !c.is_empty()) {
                Some(only) => {
                    if let Some((client_id, names)) = by_client.iter().find(|(c, _)| c == only) {
                        role_claim(
                            claims,
                            mapper,
                            target,
                            names,
                            Some(client_id),
                            prefix,
                            multivalued,
                        )?;
                    }
                }
                None => {
                    for (client_id, names) in &by_client {
                        role_claim(
                            claims,
                            mapper,
                            target,
                            names,
                            Some(client_id),
                            prefix,
                            multivalued,
                        )?;
                    }
                }
            }
        }
        types::AUDIENCE => {
            let nonempty = |k| config(mapper, k).filter(|v| !v.is_empty());
            // The client audience wins; the custom audience is only a fallback.
            if let Some(aud) = nonempty(keys::INCLUDED_CLIENT_AUDIENCE)
                .or_else(|| nonempty(keys::INCLUDED_CUSTOM_AUDIENCE))
            {
                claims.add_audience(aud);
            }
        }
        types::AUDIENCE_RESOLVE => {
            for (client_id, roles) in client_roles(input) {
                if client_id != input.client.client_id && !roles.is_empty() {
                    claims.add_audience(&client_id);
                }
            }
        }
        types::ALLOWED_ORIGINS => {
            let web_origins = input.client.web_origins();
            if !web_origins.is_empty() {
                claims.allowed_origins = Some(allowed_origins(
                    web_origins,
                    input.client.redirect_uris(),
                    input.client.repr.root_url.as_deref(),
                ));
            }
        }
        types::SUB => claims.sub = Some(input.user.id.clone()),
        types::ACR => claims.acr = Some(input.acr.to_string()),
        _ => return Err(Failed),
    }
    Ok(())
}

/// Keycloak's generic claim writer (`OIDCAttributeMapperHelper.mapClaim`).
fn map_claim(
    claims: &mut ClaimSet,
    mapper: &ProtocolMapperRecord,
    value: Value,
    multivalued: bool,
) -> Result<(), PathConflict> {
    let Some(name) = config(mapper, keys::CLAIM_NAME) else {
        return Ok(());
    };
    let path = split_claim_path(name);
    let Some(first) = path.first() else {
        return Ok(());
    };
    if SETTABLE_FIELDS.contains(&first.as_str()) {
        if path.len() == 1 {
            set_field(claims, first, &value);
        }
        return Ok(());
    }
    if PROTECTED_FIELDS.contains(&first.as_str()) {
        return Ok(());
    }
    let merge = if multivalued {
        Merge::Union
    } else {
        Merge::Replace
    };
    insert_path(&mut claims.other, &path, value, merge)
}

fn set_field(claims: &mut ClaimSet, field: &str, value: &Value) {
    match field {
        "sub" => claims.sub = Some(value_text(value)),
        "azp" => claims.azp = Some(value_text(value)),
        "acr" => claims.acr = Some(value_text(value)),
        "auth_time" => {
            if let Ok(t) = value_text(value).parse::<i64>() {
                claims.auth_time = Some(t);
            }
        }
        "aud" => {
            claims.aud = match value {
                Value::Array(items) => items.iter().map(value_text).collect(),
                single => vec![value_text(single)],
            }
        }
        _ => {}
    }
}

/// Keycloak's role claim writer: roles become a set (Java order), optionally prefixed; in
/// access-token-shaped targets the standard paths fill `realm_access` / `resource_access`.
fn role_claim(
    claims: &mut ClaimSet,
    mapper: &ProtocolMapperRecord,
    target: Target,
    names: &[String],
    client_id: Option<&str>,
    prefix: &str,
    multivalued: bool,
) -> Result<(), Failed> {
    let prefixed: Vec<String> = names.iter().map(|n| format!("{prefix}{n}")).collect();
    let set = java_set_order(&prefixed);
    let Some(value) = map_values(mapper, &set, multivalued)? else {
        return Ok(());
    };
    let Some(mut name) = config(mapper, keys::CLAIM_NAME).map(str::to_string) else {
        return Ok(());
    };
    if let Some(c) = client_id {
        name = name.replace(CLIENT_ID_PLACEHOLDER, &escape_claim_component(c));
    }
    let path = split_claim_path(&name);
    if target.is_access_token_shaped()
        && let Value::Array(items) = &value
    {
        let roles: Vec<String> = items.iter().map(value_text).collect();
        match path.as_slice() {
            [a, r] if a == "realm_access" && r == "roles" => {
                ClaimSet::add_roles(claims.realm_access.get_or_insert_with(Vec::new), &roles);
                return Ok(());
            }
            [a, client, r] if a == "resource_access" && r == "roles" => {
                let pos = match claims.resource_access.iter().position(|(c, _)| c == client) {
                    Some(p) => p,
                    None => {
                        claims.resource_access.push((client.clone(), Vec::new()));
                        claims.resource_access.len() - 1
                    }
                };
                ClaimSet::add_roles(&mut claims.resource_access[pos].1, &roles);
                return Ok(());
            }
            _ => {}
        }
    }
    insert_path(&mut claims.other, &path, value, Merge::Roles)?;
    Ok(())
}

/// Effective client roles grouped by clientId, clients in Java `HashMap` order (the order
/// Keycloak visits them in).
fn client_roles(input: &MapperInput<'_>) -> Vec<(String, Vec<String>)> {
    let mut by_client: Vec<(String, Vec<String>)> = Vec::new();
    for role in input.effective_roles {
        let Some(uuid) = &role.client_id else {
            continue;
        };
        let Some(client_id) = input.client_ids_by_uuid.get(uuid) else {
            continue;
        };
        match by_client.iter_mut().find(|(c, _)| c == client_id) {
            Some((_, names)) => names.push(role.name.clone()),
            None => by_client.push((client_id.clone(), vec![role.name.clone()])),
        }
    }
    java_hash_order(by_client)
}

/// Values of a user attribute as Keycloak resolves them: the user's own (the names
/// `username`, `email`, `firstName`, `lastName` read the user's fields), else those of the first
/// direct group (or its nearest ancestor) that has the attribute; with `aggregate` the union of
/// the user's and all groups' values.
fn attribute_values(input: &MapperInput<'_>, name: &str, aggregate: bool) -> Vec<String> {
    let own = own_attribute_values(input, name);
    if !own.is_empty() && !aggregate {
        return own;
    }
    let mut all = own;
    for (_, path) in input.direct_groups {
        let values = group_attribute_values(input.group_attributes, path, name, aggregate);
        if values.is_empty() {
            continue;
        }
        if !aggregate {
            return java_set_order(&values);
        }
        all.extend(values);
    }
    java_set_order(&all)
}

/// The user's own values of an attribute; `username`, `email`, `firstName` and `lastName` are
/// the user's fields, as Keycloak's user model exposes them as attributes.
fn own_attribute_values(input: &MapperInput<'_>, name: &str) -> Vec<String> {
    let user = input.user;
    match name {
        "username" => vec![user.username.clone()],
        "email" => user.email.iter().cloned().collect(),
        "firstName" => user.first_name.iter().cloned().collect(),
        "lastName" => user.last_name.iter().cloned().collect(),
        _ => input
            .user_attributes
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect(),
    }
}

/// A group's values of an attribute, inheriting from its parent when it has none (or always,
/// with `aggregate`).
fn group_attribute_values(
    attributes: &BTreeMap<String, Vec<(String, String)>>,
    path: &str,
    name: &str,
    aggregate: bool,
) -> Vec<String> {
    let mut values: Vec<String> = attributes
        .get(path)
        .into_iter()
        .flatten()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect();
    if (values.is_empty() || aggregate)
        && let Some(parent) = parent_path(path)
    {
        values.extend(group_attribute_values(attributes, parent, name, aggregate));
    }
    values
}

fn parent_path(path: &str) -> Option<&str> {
    match path.rfind('/') {
        Some(0) | None => None,
        Some(i) => Some(&path[..i]),
    }
}

/// A user model property by name (`user.attribute` of the property mapper); the first letter
/// may be either case, as Keycloak accepts both.
fn user_property(user: &UserRecord, name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first = chars.next()?;
    let name: String = first.to_lowercase().chain(chars).collect();
    match name.as_str() {
        "id" => Some(user.id.clone()),
        "username" => Some(user.username.clone()),
        "email" => user.email.clone(),
        "firstName" => user.first_name.clone(),
        "lastName" => user.last_name.clone(),
        "emailVerified" => Some(user.email_verified.to_string()),
        "enabled" => Some(user.enabled.to_string()),
        "createdTimestamp" => Some(user.created_timestamp.to_string()),
        "federationLink" => user.federation_link.clone(),
        "serviceAccountClientLink" => user.service_account_client_id.clone(),
        _ => None,
    }
}

/// The `address` claim: Keycloak's address object, fields in its declaration order, each from
/// the first value of the configured user attribute (always present, possibly `{}`).
fn address(mapper: &ProtocolMapperRecord, input: &MapperInput<'_>) -> Value {
    // (claim field, config key suffix = default user attribute)
    const FIELDS: &[(&str, &str)] = &[
        ("formatted", "formatted"),
        ("street_address", "street"),
        ("locality", "locality"),
        ("region", "region"),
        ("postal_code", "postal_code"),
        ("country", "country"),
    ];
    let mut out = Map::new();
    for (field, key) in FIELDS {
        let attr = config(mapper, &format!("user.attribute.{key}")).unwrap_or(key);
        if let Some(v) = own_attribute_values(input, attr).into_iter().next() {
            out.insert((*field).to_string(), Value::String(v));
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn claim_paths_split_on_unescaped_dots() {
        let cases: &[(&str, &[&str])] = &[
            ("groups", &["groups"]),
            ("realm_access.roles", &["realm_access", "roles"]),
            ("a\\.b.c", &["a.b", "c"]),
            ("a\\\\.b", &["a\\", "b"]),
            ("a..b.c", &["a", ".b.c"]),
            (".a.b", &[".a.b"]),
            ("a.", &["a"]),
            ("", &[]),
            ("x\\", &["x\\"]),
        ];
        for (name, want) in cases {
            assert_eq!(split_claim_path(name), strings(want), "{name}");
        }
    }

    #[test]
    fn java_order_matches_keycloak_tokens() {
        // Orders observed in real Keycloak tokens.
        assert_eq!(
            java_set_order(&strings(&[
                "offline_access",
                "uma_authorization",
                "default-roles-myrealm"
            ])),
            strings(&[
                "default-roles-myrealm",
                "offline_access",
                "uma_authorization"
            ])
        );
        assert_eq!(
            java_set_order(&strings(&[
                "admin",
                "offline_access",
                "uma_authorization",
                "create-realm",
                "default-roles-master"
            ])),
            strings(&[
                "create-realm",
                "default-roles-master",
                "offline_access",
                "admin",
                "uma_authorization"
            ])
        );
        let claims = strings(&[
            "name",
            "family_name",
            "given_name",
            "preferred_username",
            "email",
            "email_verified",
        ]);
        let ordered: Vec<String> = java_hash_order(claims.into_iter().map(|c| (c, ())).collect())
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            ordered,
            strings(&[
                "email_verified",
                "name",
                "preferred_username",
                "given_name",
                "family_name",
                "email"
            ])
        );
    }

    #[test]
    fn java_hash_is_over_utf16_and_wraps() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE in Java.
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        // A character outside the BMP hashes as its two surrogates.
        assert_eq!(
            java_string_hash("\u{1F600}"),
            0xD83D_i32.wrapping_mul(31).wrapping_add(0xDE00)
        );
        assert_eq!(java_table_size(12), 16);
        assert_eq!(java_table_size(13), 32);
    }

    fn mapper(mapper_type: &str, config: &[(&str, &str)]) -> ProtocolMapperRecord {
        ProtocolMapperRecord {
            id: "m".into(),
            owner_id: "o".into(),
            name: "m".into(),
            protocol: OIDC_PROTOCOL.into(),
            mapper_type: mapper_type.into(),
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn inclusion_flags_and_fallbacks() {
        use Target::*;
        let check = |m: &ProtocolMapperRecord, want: [bool; 5]| {
            let got = [AccessToken, IdToken, UserInfo, Introspection, Lightweight]
                .map(|t| included(m, t));
            assert_eq!(got, want, "{} {:?}", m.mapper_type, m.config);
        };
        let groups = types::GROUP_MEMBERSHIP;
        check(&mapper(groups, &[]), [false; 5]);
        check(
            &mapper(groups, &[("id.token.claim", "true")]),
            [false, true, true, false, false],
        );
        check(
            &mapper(
                groups,
                &[
                    ("id.token.claim", "true"),
                    ("userinfo.token.claim", "false"),
                ],
            ),
            [false, true, false, false, false],
        );
        check(
            &mapper(groups, &[("access.token.claim", "true")]),
            [true, false, false, true, false],
        );
        check(
            &mapper(
                groups,
                &[
                    ("access.token.claim", "true"),
                    ("introspection.token.claim", "false"),
                ],
            ),
            [true, false, false, false, false],
        );
        check(
            &mapper(groups, &[("lightweight.claim", "true")]),
            [false, false, false, false, true],
        );
        check(
            &mapper(groups, &[("access.token.claim", "TRUE")]),
            [false; 5],
        );
        // The sub mapper never reaches ID tokens or UserInfo, whatever the flags.
        let all = [
            ("access.token.claim", "true"),
            ("id.token.claim", "true"),
            ("userinfo.token.claim", "true"),
            ("introspection.token.claim", "true"),
        ];
        check(&mapper(types::SUB, &all), [true, false, false, true, false]);
        check(&mapper(types::ACR, &all), [true, true, false, true, false]);
        // Audience resolve and allowed origins: absent flags mean on.
        check(
            &mapper(types::AUDIENCE_RESOLVE, &[]),
            [true, false, false, true, false],
        );
        check(
            &mapper(types::ALLOWED_ORIGINS, &[("access.token.claim", "false")]),
            [false, false, false, true, false],
        );
        check(&mapper("oidc-hardcoded-role-mapper", &all), [false; 5]);
        let mut saml = mapper(types::USER_ATTRIBUTE, &all);
        saml.protocol = "saml".into();
        check(&saml, [false; 5]);
    }

    #[test]
    fn conversions_follow_json_type() {
        let ok = |t: Option<&str>, raw: &str| convert(t, raw).ok();
        assert_eq!(ok(Some("long"), "42"), Some(Value::from(42)));
        assert_eq!(ok(Some("long"), "x"), None);
        assert_eq!(ok(Some("int"), "3000000000"), None);
        assert_eq!(ok(Some("boolean"), "TRUE"), Some(Value::Bool(true)));
        assert_eq!(ok(Some("boolean"), "yes"), Some(Value::Bool(false)));
        assert_eq!(
            ok(Some("JSON"), r#"{"b":1,"a":[2]}"#),
            Some(serde_json::json!({"b":1,"a":[2]}))
        );
        assert_eq!(ok(Some("JSON"), "{"), None);
        assert_eq!(ok(None, "7"), Some(Value::from("7")));
        assert_eq!(ok(Some("Integer"), "7"), Some(Value::from("7")));
    }

    #[test]
    fn nested_paths_merge_and_conflict() {
        let mut m = Vec::new();
        let p = |s: &str| split_claim_path(s);
        assert!(insert_path(&mut m, &p("a.b"), Value::from(1), Merge::Replace).is_ok());
        assert!(insert_path(&mut m, &p("a.c"), Value::from(2), Merge::Replace).is_ok());
        assert!(insert_path(&mut m, &p("a.b.x"), Value::from(3), Merge::Replace).is_err());
        assert!(insert_path(&mut m, &p("r"), serde_json::json!(["x", "y"]), Merge::Roles).is_ok());
        assert!(insert_path(&mut m, &p("r"), serde_json::json!(["y", "z"]), Merge::Roles).is_ok());
        assert!(insert_path(&mut m, &p("u"), Value::from("a"), Merge::Union).is_ok());
        assert!(insert_path(&mut m, &p("u"), serde_json::json!(["a", "b"]), Merge::Union).is_ok());
        let json: Map<String, Value> = m.iter().map(|(k, n)| (k.clone(), n.to_json())).collect();
        assert_eq!(
            Value::Object(json),
            serde_json::json!({"a": {"b": 1, "c": 2}, "r": ["x", "y", "z"], "u": ["a", "b"]})
        );
    }

    #[test]
    fn group_paths_have_parents() {
        assert_eq!(parent_path("/a/b/c"), Some("/a/b"));
        assert_eq!(parent_path("/a"), None);
        assert_eq!(parent_path("a"), None);
    }
}
