//! Realm export: turn a stored [`RealmImage`] back into Keycloak's realm representation.
//!
//! Invariants: the output is deterministic (every collection is sorted by a stable key), so an
//! export → import → export round trip yields the same document; plaintext secrets never appear
//! (passwords are exported only as `secretData`/`credentialData`).

use crate::records::*;
use crate::repr::*;
use std::collections::{BTreeMap, HashMap};

/// How users are placed in an export (`kc.sh export --users`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsersInRealm {
    /// Users inside the realm document.
    Include,
    /// No users in the realm document (they are written elsewhere, or skipped).
    Exclude,
}

/// The realm representation of an image.
pub fn realm_representation(image: &RealmImage, users: UsersInRealm) -> RealmRepresentation {
    let names = Names::new(image);
    let mut rep = image.realm.settings.clone();
    rep.id = Some(image.realm.id.clone());
    rep.realm = Some(image.realm.name.clone());
    rep.enabled = Some(image.realm.enabled);

    // Roles.
    let mut realm_roles: Vec<RoleRepresentation> = Vec::new();
    let mut client_roles: BTreeMap<String, Vec<RoleRepresentation>> = BTreeMap::new();
    for r in &image.roles {
        let role = names.role_representation(r, image);
        match &r.client_id {
            None => realm_roles.push(role),
            Some(cid) => client_roles
                .entry(names.client_id(cid))
                .or_default()
                .push(role),
        }
    }
    realm_roles.sort_by(|a, b| a.name.cmp(&b.name));
    for v in client_roles.values_mut() {
        v.sort_by(|a, b| a.name.cmp(&b.name));
    }
    // Every client appears in `roles.client`, as in Keycloak's exports.
    for c in &image.clients {
        client_roles.entry(c.client_id.clone()).or_default();
    }
    rep.roles = Some(RolesRepresentation {
        realm: Some(realm_roles),
        client: Some(client_roles),
    });
    rep.default_role = image
        .roles
        .iter()
        .find(|r| r.id == image.realm.default_role_id)
        .map(|r| RoleRepresentation {
            id: Some(r.id.clone()),
            name: Some(r.name.clone()),
            description: r.description.clone(),
            composite: Some(image.composites.iter().any(|(p, _)| p == &r.id)),
            client_role: Some(false),
            container_id: Some(image.realm.id.clone()),
            ..Default::default()
        });

    // Groups as a tree.
    rep.groups = Some(group_tree(image, &names, None, ""));
    let mut default_groups: Vec<String> = image
        .default_group_ids
        .iter()
        .map(|g| names.group_path(g))
        .collect();
    default_groups.sort();
    rep.default_groups = Some(default_groups);

    // Client scopes and the realm default lists.
    let mut scopes: Vec<ClientScopeRepresentation> = image
        .client_scopes
        .iter()
        .map(|s| {
            let mut r = s.repr.clone();
            r.id = Some(s.id.clone());
            r.name = Some(s.name.clone());
            let m = mappers_of(image, &s.id);
            r.protocol_mappers = if m.is_empty() { None } else { Some(m) };
            r
        })
        .collect();
    scopes.sort_by(|a, b| a.name.cmp(&b.name));
    rep.client_scopes = Some(scopes);
    rep.default_default_client_scopes = Some(names.scope_list(image, &image.realm.id, true));
    rep.default_optional_client_scopes = Some(names.scope_list(image, &image.realm.id, false));

    // Scope mappings.
    let mut scope_mappings: Vec<ScopeMappingRepresentation> = Vec::new();
    let mut client_scope_mappings: BTreeMap<String, Vec<ScopeMappingRepresentation>> =
        BTreeMap::new();
    let mut by_owner: BTreeMap<(String, Option<String>), Vec<String>> = BTreeMap::new();
    for (owner, role) in &image.scope_mappings {
        let Some(r) = names.roles.get(role.as_str()) else {
            continue;
        };
        by_owner
            .entry((owner.clone(), r.client_id.clone()))
            .or_default()
            .push(r.name.clone());
    }
    for ((owner, role_client), mut roles) in by_owner {
        roles.sort();
        let (client, client_scope) = match names.clients.get(owner.as_str()) {
            Some(c) => (Some(c.client_id.clone()), None),
            None => (
                None,
                names.scopes.get(owner.as_str()).map(|s| s.name.clone()),
            ),
        };
        let m = ScopeMappingRepresentation {
            client,
            client_scope,
            roles: Some(roles),
        };
        match role_client {
            None => scope_mappings.push(m),
            Some(cid) => client_scope_mappings
                .entry(names.client_id(&cid))
                .or_default()
                .push(m),
        }
    }
    if !scope_mappings.is_empty() {
        rep.scope_mappings = Some(scope_mappings);
    }
    if !client_scope_mappings.is_empty() {
        rep.client_scope_mappings = Some(client_scope_mappings);
    }

    // Clients.
    let mut clients: Vec<ClientRepresentation> = image
        .clients
        .iter()
        .map(|c| {
            let mut r = c.repr.clone();
            r.id = Some(c.id.clone());
            r.client_id = Some(c.client_id.clone());
            r.secret = c.secret.as_ref().map(|s| s.to_string());
            let m = mappers_of(image, &c.id);
            r.protocol_mappers = if m.is_empty() { None } else { Some(m) };
            r.default_client_scopes = Some(names.scope_list(image, &c.id, true));
            r.optional_client_scopes = Some(names.scope_list(image, &c.id, false));
            r
        })
        .collect();
    clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    rep.clients = Some(clients);

    rep.users = match users {
        UsersInRealm::Include => {
            let mut users: Vec<&UserImage> = image.users.iter().collect();
            users.sort_by(|a, b| a.user.username.cmp(&b.user.username));
            Some(
                users
                    .into_iter()
                    .map(|u| user_representation(u, &names))
                    .collect(),
            )
        }
        UsersInRealm::Exclude => None,
    };
    rep
}

/// The representation of one user, as exported (credentials as stored hashes).
pub fn user_representation(u: &UserImage, names: &Names<'_>) -> UserRepresentation {
    let mut attributes: MultiAttributes = BTreeMap::new();
    for (k, v) in &u.attributes {
        attributes.entry(k.clone()).or_default().0.push(v.clone());
    }
    let (realm_roles, client_roles) = names.role_names(u.role_ids.iter().map(String::as_str));
    let mut groups: Vec<String> = u.group_ids.iter().map(|g| names.group_path(g)).collect();
    groups.sort();
    let mut credentials: Vec<CredentialRepresentation> = u
        .credentials
        .iter()
        .filter_map(|c| match &c.secret {
            CredentialSecret::Stored {
                secret_data,
                credential_data,
            } => Some(CredentialRepresentation {
                id: Some(c.id.clone()),
                type_: Some(c.type_.clone()),
                user_label: c.user_label.clone(),
                created_date: Some(c.created_date),
                secret_data: Some(secret_data.clone()),
                credential_data: Some(credential_data.clone()),
                priority: Some(c.priority),
                ..Default::default()
            }),
            CredentialSecret::Plain(_) => None,
        })
        .collect();
    credentials.sort_by(|a, b| (a.priority, &a.id).cmp(&(b.priority, &b.id)));
    let mut required_actions = u.required_actions.clone();
    required_actions.sort();
    UserRepresentation {
        id: Some(u.user.id.clone()),
        username: Some(u.user.username.clone()),
        first_name: u.user.first_name.clone(),
        last_name: u.user.last_name.clone(),
        email: u.user.email.clone(),
        email_verified: Some(u.user.email_verified),
        enabled: Some(u.user.enabled),
        created_timestamp: Some(u.user.created_timestamp),
        attributes: if attributes.is_empty() {
            None
        } else {
            Some(attributes)
        },
        federation_link: u.user.federation_link.clone(),
        service_account_client_id: u
            .user
            .service_account_client_id
            .as_deref()
            .map(|c| names.client_id(c)),
        credentials: Some(credentials),
        disableable_credential_types: Some(Vec::new()),
        required_actions: Some(required_actions),
        realm_roles: Some(realm_roles),
        client_roles: if client_roles.is_empty() {
            None
        } else {
            Some(client_roles)
        },
        not_before: Some(u.user.not_before),
        groups: Some(groups),
        ..Default::default()
    }
}

fn mappers_of(image: &RealmImage, owner: &str) -> Vec<ProtocolMapperRepresentation> {
    let mut v: Vec<ProtocolMapperRepresentation> = image
        .mappers
        .iter()
        .filter(|m| m.owner_id == owner)
        .map(|m| ProtocolMapperRepresentation {
            id: Some(m.id.clone()),
            name: Some(m.name.clone()),
            protocol: Some(m.protocol.clone()),
            protocol_mapper: Some(m.mapper_type.clone()),
            consent_required: Some(false),
            consent_text: None,
            config: Some(m.config.clone()),
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

fn group_tree(
    image: &RealmImage,
    names: &Names<'_>,
    parent: Option<&str>,
    prefix: &str,
) -> Vec<GroupRepresentation> {
    let mut out: Vec<GroupRepresentation> = image
        .groups
        .iter()
        .filter(|g| g.parent_id.as_deref() == parent)
        .map(|g| {
            let path = format!("{prefix}/{}", g.name);
            let (realm_roles, client_roles) = names.role_names(
                image
                    .group_roles
                    .iter()
                    .filter(|(gid, _)| gid == &g.id)
                    .map(|(_, rid)| rid.as_str()),
            );
            GroupRepresentation {
                id: Some(g.id.clone()),
                name: Some(g.name.clone()),
                description: g.description.clone(),
                path: Some(path.clone()),
                parent_id: g.parent_id.clone(),
                sub_groups: Some(group_tree(image, names, Some(&g.id), &path)),
                attributes: Some(g.attributes.clone()),
                realm_roles: Some(realm_roles),
                client_roles: Some(client_roles),
                ..Default::default()
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Lookups from ids to the records an export needs to name things.
pub struct Names<'a> {
    pub roles: HashMap<&'a str, &'a RoleRecord>,
    pub clients: HashMap<&'a str, &'a ClientRecord>,
    pub scopes: HashMap<&'a str, &'a ClientScopeRecord>,
    pub groups: HashMap<&'a str, &'a GroupRecord>,
}

impl<'a> Names<'a> {
    pub fn new(image: &'a RealmImage) -> Self {
        Names {
            roles: image.roles.iter().map(|r| (r.id.as_str(), r)).collect(),
            clients: image.clients.iter().map(|c| (c.id.as_str(), c)).collect(),
            scopes: image
                .client_scopes
                .iter()
                .map(|s| (s.id.as_str(), s))
                .collect(),
            groups: image.groups.iter().map(|g| (g.id.as_str(), g)).collect(),
        }
    }

    pub fn client_id(&self, internal: &str) -> String {
        self.clients
            .get(internal)
            .map(|c| c.client_id.clone())
            .unwrap_or_else(|| internal.to_string())
    }

    pub fn group_path(&self, id: &str) -> String {
        let mut parts = Vec::new();
        let mut cur = self.groups.get(id).copied();
        let mut guard = 0;
        while let Some(g) = cur {
            parts.push(g.name.as_str());
            cur = g
                .parent_id
                .as_deref()
                .and_then(|p| self.groups.get(p).copied());
            guard += 1;
            if guard > 10_000 {
                break;
            }
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    fn scope_list(&self, image: &RealmImage, owner: &str, default_scope: bool) -> Vec<String> {
        let mut v: Vec<String> = image
            .scope_links
            .iter()
            .filter(|l| l.owner_id == owner && l.default_scope == default_scope)
            .filter_map(|l| self.scopes.get(l.scope_id.as_str()).map(|s| s.name.clone()))
            .collect();
        v.sort();
        v
    }

    /// Role ids as Keycloak names them: realm role names, and client role names per clientId,
    /// each list sorted.
    pub fn role_names<'i>(
        &self,
        ids: impl Iterator<Item = &'i str>,
    ) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
        let mut realm = Vec::new();
        let mut client: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for id in ids {
            if let Some(r) = self.roles.get(id) {
                match &r.client_id {
                    None => realm.push(r.name.clone()),
                    Some(c) => client
                        .entry(self.client_id(c))
                        .or_default()
                        .push(r.name.clone()),
                }
            }
        }
        realm.sort();
        for v in client.values_mut() {
            v.sort();
        }
        (realm, client)
    }

    fn role_representation(&self, r: &RoleRecord, image: &RealmImage) -> RoleRepresentation {
        let (realm, client) = self.role_names(
            image
                .composites
                .iter()
                .filter(|(p, _)| p == &r.id)
                .map(|(_, c)| c.as_str()),
        );
        let composite = !realm.is_empty() || !client.is_empty();
        RoleRepresentation {
            id: Some(r.id.clone()),
            name: Some(r.name.clone()),
            description: r.description.clone(),
            composite: Some(composite),
            composites: composite.then(|| CompositesRepresentation {
                realm: (!realm.is_empty()).then_some(realm),
                client: (!client.is_empty()).then_some(client),
            }),
            client_role: Some(r.client_id.is_some()),
            container_id: Some(r.container_id().to_string()),
            attributes: Some(r.attributes.clone()),
        }
    }
}
