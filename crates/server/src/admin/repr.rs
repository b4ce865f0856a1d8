//! Records to Keycloak's admin representations and back, as pure functions: users (full and
//! brief, with the `access` map), groups (with paths, sub-group counts, and the search tree),
//! roles, role mappings and the realm; and the validation and merging of the user bodies of
//! `POST /users` and `PUT /users/{id}`.
//!
//! Invariants: nothing secret is ever put into a representation (no credentials, no client
//! secrets, the SMTP password masked); usernames and emails are stored trimmed and lower-cased
//! as import stores them.

use crate::admin::auth::Access;
use portcullis_model::import::canonical_required_action;
use portcullis_model::records::{GroupRecord, RealmRecord, RoleRecord, UserImage, UserRecord};
use portcullis_model::repr::{
    GroupRepresentation, MultiAttributes, RealmRepresentation, RoleRepresentation,
    UserRepresentation,
};
use portcullis_store::{GroupDetails, RoleDetails, UserDetails};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};

/// What Keycloak shows instead of a secret it will not send back.
pub const SECRET_MASK: &str = "**********";

/// A field that fails validation (Keycloak's `{"field", "errorMessage", "params"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: &'static str,
    pub params: Vec<String>,
}

impl FieldError {
    fn new(field: &'static str, message: &'static str, value: Option<&str>) -> FieldError {
        let mut params = vec![field.to_owned()];
        params.extend(value.map(str::to_owned));
        FieldError {
            field,
            message,
            params,
        }
    }
}

/// The `access` map Keycloak attaches to each user it returns.
pub fn user_access(access: &Access) -> BTreeMap<String, bool> {
    use crate::admin::auth::role::{MANAGE_USERS, VIEW_USERS};
    let manage = access.has(MANAGE_USERS);
    BTreeMap::from([
        ("manageGroupMembership".to_owned(), manage),
        ("view".to_owned(), manage || access.has(VIEW_USERS)),
        ("mapRoles".to_owned(), manage),
        ("impersonate".to_owned(), access.has("impersonation")),
        ("manage".to_owned(), manage),
    ])
}

/// A user as `GET /users` and `GET /users/{id}` return it. The brief form keeps the identity
/// fields and flags; the full form adds attributes, required actions and `notBefore`.
pub fn user_repr(d: &UserDetails, brief: bool, access: &Access) -> UserRepresentation {
    let u = &d.user;
    let mut rep = UserRepresentation {
        id: Some(u.id.clone()),
        username: Some(u.username.clone()),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        email: u.email.clone(),
        email_verified: Some(u.email_verified),
        enabled: Some(u.enabled),
        created_timestamp: Some(u.created_timestamp),
        federation_link: u.federation_link.clone(),
        access: Some(user_access(access)),
        ..Default::default()
    };
    if !brief {
        rep.attributes = (!d.attributes.is_empty()).then(|| multi(&d.attributes));
        rep.totp = Some(false);
        rep.disableable_credential_types = Some(Vec::new());
        rep.required_actions = Some(d.required_actions.clone());
        rep.not_before = Some(u.not_before);
    }
    rep
}

/// (name, value) pairs as a multi-valued map, values in order.
pub fn multi(pairs: &[(String, String)]) -> MultiAttributes {
    let mut out: MultiAttributes = BTreeMap::new();
    for (k, v) in pairs {
        out.entry(k.clone()).or_default().0.push(v.clone());
    }
    out
}

/// A multi-valued map as (name, value) pairs; names and values are kept as given.
pub fn pairs(attributes: &MultiAttributes) -> Vec<(String, String)> {
    attributes
        .iter()
        .flat_map(|(k, vs)| vs.0.iter().map(move |v| (k.clone(), v.clone())))
        .collect()
}

/// A username as stored: trimmed, lower-cased, 1 to 255 characters, no control characters.
pub fn username(raw: Option<&str>) -> Result<String, FieldError> {
    let name = raw.map(|s| s.trim().to_lowercase()).unwrap_or_default();
    if name.is_empty() {
        return Err(FieldError::new(
            "username",
            "error-user-attribute-required",
            None,
        ));
    }
    if name.chars().count() > 255 || name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "username",
            "error-invalid-length",
            Some(&name),
        ));
    }
    Ok(name)
}

/// An email as stored (trimmed, lower-cased; empty means none), checked for the basic shape
/// `local@domain`.
pub fn email(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(e) = raw
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@'));
    if ok {
        Ok(Some(e))
    } else {
        Err(FieldError::new("email", "error-invalid-email", Some(&e)))
    }
}

fn required_actions(rep: &UserRepresentation) -> Option<Vec<String>> {
    rep.required_actions.as_ref().map(|v| {
        let mut out: Vec<String> = v
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .map(canonical_required_action)
            .collect();
        out.sort();
        out.dedup();
        out
    })
}

/// A new user from the body of `POST /users` (no credentials yet; the default role granted,
/// as Keycloak does). `enabled` and `emailVerified` default to false, as in Keycloak's API.
pub fn new_user(
    realm: &RealmRecord,
    rep: &UserRepresentation,
    id: String,
    now_ms: i64,
) -> Result<UserImage, FieldError> {
    let email = email(rep.email.as_deref())?;
    let username = match (&rep.username, realm.settings.registration_email_as_username) {
        (_, Some(true)) if email.is_some() => email.clone().unwrap_or_default(),
        (u, _) => username(u.as_deref())?,
    };
    Ok(UserImage {
        user: UserRecord {
            id,
            realm_id: realm.id.clone(),
            username,
            email,
            first_name: rep.first_name.clone().filter(|s| !s.is_empty()),
            last_name: rep.last_name.clone().filter(|s| !s.is_empty()),
            enabled: rep.enabled.unwrap_or(false),
            email_verified: rep.email_verified.unwrap_or(false),
            created_timestamp: now_ms,
            not_before: 0,
            federation_link: None,
            service_account_client_id: None,
        },
        attributes: rep.attributes.as_ref().map(pairs).unwrap_or_default(),
        required_actions: required_actions(rep).unwrap_or_default(),
        credentials: Vec::new(),
        group_ids: Vec::new(),
        role_ids: vec![realm.default_role_id.clone()],
    })
}

/// What `PUT /users/{id}` changes: the user's own fields, and its attributes and required
/// actions when the body has them.
#[derive(Debug, Clone, PartialEq)]
pub struct UserChange {
    pub user: UserRecord,
    pub attributes: Option<Vec<(String, String)>>,
    pub required_actions: Option<Vec<String>>,
}

/// Apply the body of `PUT /users/{id}` to a user: fields present are set, absent ones kept
/// (Keycloak's partial update). A different username needs the realm's `editUsernameAllowed`.
pub fn merge_user(
    realm: &RealmRecord,
    current: &UserRecord,
    rep: &UserRepresentation,
) -> Result<UserChange, FieldError> {
    let mut user = current.clone();
    if let Some(raw) = &rep.username {
        let name = username(Some(raw))?;
        if name != current.username {
            if !realm.settings.edit_username_allowed.unwrap_or(false) {
                return Err(FieldError::new(
                    "username",
                    "error-user-attribute-read-only",
                    None,
                ));
            }
            user.username = name;
        }
    }
    if rep.email.is_some() {
        user.email = email(rep.email.as_deref())?;
    }
    if let Some(v) = &rep.first_name {
        user.first_name = Some(v.clone()).filter(|s| !s.is_empty());
    }
    if let Some(v) = &rep.last_name {
        user.last_name = Some(v.clone()).filter(|s| !s.is_empty());
    }
    if let Some(v) = rep.enabled {
        user.enabled = v;
    }
    if let Some(v) = rep.email_verified {
        user.email_verified = v;
    }
    Ok(UserChange {
        user,
        attributes: rep.attributes.as_ref().map(pairs),
        required_actions: required_actions(rep),
    })
}

/// A group as the group endpoints return it. Brief: identity, description, path, parent and
/// sub-group count; full adds attributes and the group's own role names (`roles`: each role
/// with the `clientId` of client roles).
pub fn group_repr(
    d: &GroupDetails,
    brief: bool,
    roles: Option<&[(RoleRecord, Option<String>)]>,
    access: &Access,
) -> GroupRepresentation {
    use crate::admin::auth::role::{MANAGE_USERS, VIEW_USERS};
    let g = &d.group;
    let manage = access.has(MANAGE_USERS);
    let mut rep = GroupRepresentation {
        id: Some(g.id.clone()),
        name: Some(g.name.clone()),
        description: g.description.clone(),
        path: Some(d.path.clone()),
        parent_id: g.parent_id.clone(),
        sub_group_count: Some(d.sub_group_count),
        sub_groups: Some(Vec::new()),
        access: Some(BTreeMap::from([
            ("view".to_owned(), manage || access.has(VIEW_USERS)),
            ("viewMembers".to_owned(), manage || access.has(VIEW_USERS)),
            ("manageMembers".to_owned(), manage),
            ("manage".to_owned(), manage),
            ("manageMembership".to_owned(), manage),
        ])),
        ..Default::default()
    };
    if !brief {
        rep.attributes = Some(g.attributes.clone());
        let mut realm_roles = Vec::new();
        let mut client_roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (r, client) in roles.unwrap_or(&[]) {
            match client {
                None => realm_roles.push(r.name.clone()),
                Some(c) => client_roles
                    .entry(c.clone())
                    .or_default()
                    .push(r.name.clone()),
            }
        }
        rep.realm_roles = Some(realm_roles);
        rep.client_roles = Some(client_roles);
    }
    rep
}

/// The answer of `GET /groups?search=`: matching groups under their top-level ancestors, each
/// level holding only the branches that lead to a match. `found` holds the matches and all
/// their ancestors (as the store returns them); roots are ordered by name.
pub fn group_tree(found: &[GroupDetails], access: &Access) -> Vec<GroupRepresentation> {
    let mut children: HashMap<Option<&str>, Vec<&GroupDetails>> = HashMap::new();
    for d in found {
        children
            .entry(d.group.parent_id.as_deref())
            .or_default()
            .push(d);
    }
    fn build(
        d: &GroupDetails,
        children: &HashMap<Option<&str>, Vec<&GroupDetails>>,
        access: &Access,
        depth: usize,
    ) -> GroupRepresentation {
        let mut rep = group_repr(d, true, None, access);
        if depth < 1000 {
            let mut subs: Vec<GroupRepresentation> = children
                .get(&Some(d.group.id.as_str()))
                .into_iter()
                .flatten()
                .map(|c| build(c, children, access, depth + 1))
                .collect();
            subs.sort_by(|a, b| a.name.cmp(&b.name));
            rep.sub_groups = Some(subs);
        }
        rep
    }
    let mut roots: Vec<GroupRepresentation> = children
        .get(&None)
        .into_iter()
        .flatten()
        .map(|d| build(d, &children, access, 0))
        .collect();
    roots.sort_by(|a, b| a.name.cmp(&b.name));
    roots
}

/// A role as the role endpoints return it; the full form adds attributes.
/// A client as the admin API shows it: the stored settings with its ids. The secret is never
/// part of it (`GET /clients/{id}/client-secret` is the one place it is read).
pub fn client_repr(
    c: &portcullis_model::records::ClientRecord,
) -> portcullis_model::repr::ClientRepresentation {
    let mut r = c.repr.clone();
    r.id = Some(c.id.clone());
    r.client_id = Some(c.client_id.clone());
    r.secret = None;
    r
}

pub fn role_repr(d: &RoleDetails, brief: bool) -> RoleRepresentation {
    let r = &d.role;
    RoleRepresentation {
        id: Some(r.id.clone()),
        name: Some(r.name.clone()),
        description: r.description.clone(),
        composite: Some(d.composite),
        client_role: Some(r.client_id.is_some()),
        container_id: Some(r.container_id().to_owned()),
        attributes: (!brief).then(|| r.attributes.clone()),
        composites: None,
    }
}

/// `GET /users/{id}/role-mappings`: `realmMappings` and, per `clientId`, `clientMappings`
/// (`{"id", "client", "mappings"}`); empty parts left out, as Keycloak does.
pub fn role_mappings(direct: &[(RoleDetails, Option<String>)]) -> Value {
    let mut realm = Vec::new();
    let mut clients: BTreeMap<String, (String, Vec<Value>)> = BTreeMap::new();
    for (d, client) in direct {
        let rep = serde_json::to_value(role_repr(d, true)).unwrap_or(Value::Null);
        match (client, &d.role.client_id) {
            (Some(cid), Some(uuid)) => clients
                .entry(cid.clone())
                .or_insert_with(|| (uuid.clone(), Vec::new()))
                .1
                .push(rep),
            _ => realm.push(rep),
        }
    }
    let mut out = Map::new();
    if !realm.is_empty() {
        out.insert("realmMappings".into(), Value::Array(realm));
    }
    if !clients.is_empty() {
        let m: Map<String, Value> = clients
            .into_iter()
            .map(|(cid, (uuid, mappings))| {
                (
                    cid.clone(),
                    json!({"id": uuid, "client": cid, "mappings": mappings}),
                )
            })
            .collect();
        out.insert("clientMappings".into(), Value::Object(m));
    }
    Value::Object(out)
}

/// The realm as `GET /admin/realms/{realm}` returns it to a caller with `view-realm`: its
/// settings with id, name and `enabled`, the SMTP password masked. No collections (users,
/// clients, roles, groups) and no secrets.
pub fn realm_repr(realm: &RealmRecord) -> RealmRepresentation {
    let mut rep = realm.settings.clone();
    rep.id = Some(realm.id.clone());
    rep.realm = Some(realm.name.clone());
    rep.enabled = Some(realm.enabled);
    if let Some(smtp) = rep.smtp_server.as_mut()
        && let Some(p) = smtp.get_mut("password")
        && !p.is_empty()
    {
        *p = SECRET_MASK.to_owned();
    }
    rep
}

/// The brief realm: what a caller with a management role but without `view-realm` sees
/// (Keycloak gives such callers the realm name only).
pub fn realm_name_only(realm: &RealmRecord) -> RealmRepresentation {
    RealmRepresentation {
        realm: Some(realm.name.clone()),
        ..Default::default()
    }
}

/// `briefRepresentation=true` of `GET /admin/realms` for callers with `view-realm`.
pub fn realm_brief(realm: &RealmRecord) -> RealmRepresentation {
    RealmRepresentation {
        id: Some(realm.id.clone()),
        realm: Some(realm.name.clone()),
        display_name: realm.settings.display_name.clone(),
        enabled: Some(realm.enabled),
        ..Default::default()
    }
}

/// A new group from a `POST /groups` or `POST /groups/{id}/children` body.
pub fn new_group(
    realm_id: &str,
    parent_id: Option<&str>,
    rep: &GroupRepresentation,
    id: String,
) -> Result<GroupRecord, FieldError> {
    Ok(GroupRecord {
        id,
        realm_id: realm_id.to_owned(),
        parent_id: parent_id.map(str::to_owned),
        name: group_name(rep.name.as_deref())?,
        description: rep.description.clone().filter(|s| !s.is_empty()),
        attributes: rep.attributes.clone().unwrap_or_default(),
    })
}

/// `PUT /groups/{id}`: name, description and attributes as given (absent ones kept).
pub fn merge_group(
    current: &GroupRecord,
    rep: &GroupRepresentation,
) -> Result<GroupRecord, FieldError> {
    let mut g = current.clone();
    if rep.name.is_some() {
        g.name = group_name(rep.name.as_deref())?;
    }
    if let Some(d) = &rep.description {
        g.description = Some(d.clone()).filter(|s| !s.is_empty());
    }
    if let Some(a) = &rep.attributes {
        g.attributes = a.clone();
    }
    Ok(g)
}

/// A group name: not blank, at most 255 characters, no `/` (paths use it) or control
/// characters.
pub fn group_name(raw: Option<&str>) -> Result<String, FieldError> {
    let name = raw.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(FieldError::new("name", "Group name is missing", None));
    }
    if name.chars().count() > 255 || name.contains('/') || name.chars().any(char::is_control) {
        return Err(FieldError::new("name", "Group name is invalid", Some(name)));
    }
    Ok(name.to_owned())
}

/// A role name: not blank, at most 255 characters, no `/` or control characters.
pub fn role_name(raw: Option<&str>) -> Result<String, FieldError> {
    let name = raw.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(FieldError::new("name", "Role name is missing", None));
    }
    if name.chars().count() > 255 || name.contains('/') || name.chars().any(char::is_control) {
        return Err(FieldError::new("name", "Role name is invalid", Some(name)));
    }
    Ok(name.to_owned())
}

/// A new realm role from a `POST /roles` body (composites are not part of this slice).
pub fn new_role(
    realm_id: &str,
    rep: &RoleRepresentation,
    id: String,
) -> Result<RoleRecord, FieldError> {
    Ok(RoleRecord {
        id,
        realm_id: realm_id.to_owned(),
        client_id: None,
        name: role_name(rep.name.as_deref())?,
        description: rep.description.clone(),
        attributes: rep.attributes.clone().unwrap_or_default(),
    })
}

/// `PUT /roles/{name}`: name, description and attributes as given (absent ones kept).
pub fn merge_role(
    current: &RoleRecord,
    rep: &RoleRepresentation,
) -> Result<RoleRecord, FieldError> {
    let mut r = current.clone();
    if rep.name.is_some() {
        r.name = role_name(rep.name.as_deref())?;
    }
    if rep.description.is_some() {
        r.description = rep.description.clone();
    }
    if let Some(a) = &rep.attributes {
        r.attributes = a.clone();
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_model::records::RoleRecord;

    fn realm(edit_username: bool) -> RealmRecord {
        let settings: RealmRepresentation = serde_json::from_value(json!({
            "realm": "acme",
            "editUsernameAllowed": edit_username,
            "smtpServer": {"host": "h", "password": "hunter2"}
        }))
        .expect("settings");
        RealmRecord {
            id: "rid".into(),
            name: "acme".into(),
            enabled: true,
            default_role_id: "default-role".into(),
            settings,
        }
    }

    fn details() -> UserDetails {
        UserDetails {
            user: UserRecord {
                id: "u1".into(),
                realm_id: "rid".into(),
                username: "alice".into(),
                email: Some("alice@example.com".into()),
                first_name: Some("Alice".into()),
                last_name: None,
                enabled: true,
                email_verified: false,
                created_timestamp: 42,
                not_before: 0,
                federation_link: None,
                service_account_client_id: None,
            },
            attributes: vec![("dept".into(), "eng".into()), ("dept".into(), "ops".into())],
            required_actions: vec!["UPDATE_PASSWORD".into()],
        }
    }

    #[test]
    fn user_full_and_brief() {
        let a = Access::from_roles(["view-users"]);
        let full = serde_json::to_value(user_repr(&details(), false, &a)).unwrap();
        assert_eq!(full["username"], "alice");
        assert_eq!(full["attributes"]["dept"], json!(["eng", "ops"]));
        assert_eq!(full["requiredActions"], json!(["UPDATE_PASSWORD"]));
        assert_eq!(full["access"]["view"], true);
        assert_eq!(full["access"]["manage"], false);
        assert!(full.get("credentials").is_none());
        let brief = serde_json::to_value(user_repr(&details(), true, &a)).unwrap();
        assert!(brief.get("attributes").is_none());
        assert!(brief.get("requiredActions").is_none());
        assert_eq!(brief["createdTimestamp"], 42);
    }

    #[test]
    fn new_users_are_validated_and_normalised() {
        let r = realm(false);
        let rep: UserRepresentation = serde_json::from_value(json!({
            "username": "  Bob ", "email": " Bob@Example.COM ", "enabled": true,
            "attributes": {"k": "v"}, "requiredActions": ["update_password", "UPDATE_PASSWORD", ""]
        }))
        .unwrap();
        let img = new_user(&r, &rep, "id".into(), 7).unwrap();
        assert_eq!(img.user.username, "bob");
        assert_eq!(img.user.email.as_deref(), Some("bob@example.com"));
        assert!(img.user.enabled);
        assert!(!img.user.email_verified);
        assert_eq!(img.attributes, [("k".to_string(), "v".to_string())]);
        assert_eq!(img.required_actions, ["UPDATE_PASSWORD"]);
        assert_eq!(img.role_ids, ["default-role"]);
        let no_name = UserRepresentation::default();
        assert_eq!(
            new_user(&r, &no_name, "id".into(), 7).unwrap_err().field,
            "username"
        );
        for bad in ["nope", "a@", "@b", "a b@c", "a@b@c"] {
            let rep = UserRepresentation {
                username: Some("x".into()),
                email: Some(bad.into()),
                ..Default::default()
            };
            assert_eq!(
                new_user(&r, &rep, "id".into(), 7).unwrap_err().field,
                "email",
                "{bad}"
            );
        }
        let defaults = UserRepresentation {
            username: Some("x".into()),
            ..Default::default()
        };
        assert!(
            !new_user(&r, &defaults, "id".into(), 7)
                .unwrap()
                .user
                .enabled
        );
    }

    #[test]
    fn updates_are_partial_and_username_is_guarded() {
        let d = details();
        let rep: UserRepresentation =
            serde_json::from_value(json!({"firstName": "Alicia", "enabled": false})).unwrap();
        let c = merge_user(&realm(false), &d.user, &rep).unwrap();
        assert_eq!(c.user.first_name.as_deref(), Some("Alicia"));
        assert!(!c.user.enabled);
        assert_eq!(c.user.email, d.user.email);
        assert_eq!(c.attributes, None);
        assert_eq!(c.required_actions, None);
        // Same username (any case) is fine; another needs editUsernameAllowed.
        let same: UserRepresentation =
            serde_json::from_value(json!({"username": "ALICE"})).unwrap();
        assert!(merge_user(&realm(false), &d.user, &same).is_ok());
        let other: UserRepresentation = serde_json::from_value(json!({"username": "al"})).unwrap();
        assert_eq!(
            merge_user(&realm(false), &d.user, &other)
                .unwrap_err()
                .message,
            "error-user-attribute-read-only"
        );
        assert_eq!(
            merge_user(&realm(true), &d.user, &other)
                .unwrap()
                .user
                .username,
            "al"
        );
        // An empty email removes it; attributes and actions replace.
        let rep: UserRepresentation =
            serde_json::from_value(json!({"email": "", "attributes": {}, "requiredActions": []}))
                .unwrap();
        let c = merge_user(&realm(false), &d.user, &rep).unwrap();
        assert_eq!(c.user.email, None);
        assert_eq!(c.attributes, Some(vec![]));
        assert_eq!(c.required_actions, Some(vec![]));
    }

    fn group(id: &str, parent: Option<&str>, name: &str, path: &str) -> GroupDetails {
        GroupDetails {
            group: GroupRecord {
                id: id.into(),
                realm_id: "rid".into(),
                parent_id: parent.map(str::to_owned),
                name: name.into(),
                description: None,
                attributes: Default::default(),
            },
            path: path.into(),
            sub_group_count: 0,
        }
    }

    #[test]
    fn search_results_become_a_tree() {
        let found = vec![
            group("b", Some("a"), "admins", "/staff/admins"),
            group("c", Some("b"), "root", "/staff/admins/root"),
            group("a", None, "staff", "/staff"),
            group("z", None, "audit", "/audit"),
        ];
        let tree = group_tree(&found, &Access::none());
        let v = serde_json::to_value(&tree).unwrap();
        assert_eq!(v[0]["name"], "audit");
        assert_eq!(v[1]["path"], "/staff");
        assert_eq!(v[1]["subGroups"][0]["path"], "/staff/admins");
        assert_eq!(v[1]["subGroups"][0]["subGroups"][0]["name"], "root");
        assert_eq!(v[0]["subGroups"], json!([]));
    }

    #[test]
    fn group_full_form_names_its_roles() {
        let d = group("g", None, "staff", "/staff");
        let role = |name: &str, client: Option<&str>| RoleRecord {
            id: name.into(),
            realm_id: "rid".into(),
            client_id: client.map(str::to_owned),
            name: name.into(),
            description: None,
            attributes: Default::default(),
        };
        let roles = vec![
            (role("viewer", None), None),
            (role("x", Some("c-uuid")), Some("app".to_string())),
        ];
        let v = serde_json::to_value(group_repr(
            &d,
            false,
            Some(&roles),
            &Access::from_roles(["manage-users"]),
        ))
        .unwrap();
        assert_eq!(v["realmRoles"], json!(["viewer"]));
        assert_eq!(v["clientRoles"], json!({"app": ["x"]}));
        assert_eq!(v["subGroupCount"], 0);
        assert_eq!(v["access"]["manage"], true);
        let brief = serde_json::to_value(group_repr(&d, true, None, &Access::none())).unwrap();
        assert!(brief.get("realmRoles").is_none());
        assert!(brief.get("attributes").is_none());
    }

    #[test]
    fn names_are_validated() {
        assert_eq!(group_name(Some(" eng ")).unwrap(), "eng");
        assert!(group_name(Some("")).is_err());
        assert!(group_name(Some("a/b")).is_err());
        assert!(role_name(None).is_err());
        assert!(role_name(Some("x\u{0}")).is_err());
    }

    #[test]
    fn roles_and_mappings() {
        let d = RoleDetails {
            role: RoleRecord {
                id: "r1".into(),
                realm_id: "rid".into(),
                client_id: None,
                name: "editor".into(),
                description: Some("d".into()),
                attributes: Default::default(),
            },
            composite: true,
        };
        let v = serde_json::to_value(role_repr(&d, false)).unwrap();
        assert_eq!(
            v,
            json!({"id": "r1", "name": "editor", "description": "d", "composite": true,
                   "clientRole": false, "containerId": "rid", "attributes": {}})
        );
        assert!(
            serde_json::to_value(role_repr(&d, true))
                .unwrap()
                .get("attributes")
                .is_none()
        );
        let mut client_role = d.clone();
        client_role.role.client_id = Some("c-uuid".into());
        client_role.role.name = "x".into();
        let m = role_mappings(&[(d.clone(), None), (client_role, Some("app".into()))]);
        assert_eq!(m["realmMappings"][0]["name"], "editor");
        assert_eq!(m["clientMappings"]["app"]["id"], "c-uuid");
        assert_eq!(m["clientMappings"]["app"]["client"], "app");
        assert_eq!(
            m["clientMappings"]["app"]["mappings"][0]["containerId"],
            "c-uuid"
        );
        assert_eq!(role_mappings(&[]), json!({}));
    }

    #[test]
    fn realm_without_secrets() {
        let v = serde_json::to_value(realm_repr(&realm(false))).unwrap();
        assert_eq!(v["realm"], "acme");
        assert_eq!(v["id"], "rid");
        assert_eq!(v["smtpServer"]["password"], SECRET_MASK);
        assert_eq!(v["smtpServer"]["host"], "h");
        assert!(v.get("users").is_none());
        let only = serde_json::to_value(realm_name_only(&realm(false))).unwrap();
        assert_eq!(only, json!({"realm": "acme"}));
    }
}
