//! Authorization: groups from the identity server → roles (the group-to-role map) →
//! permissions with inheritance (the NIST RBAC engine) → a [`PermissionContext`] per request,
//! and the staff/superuser flags.
//!
//! Invariant: pure and in memory. A context is computed once per distinct role set and
//! shared, so a request pays a hash lookup.

use crate::config::KitConfig;
use crate::error::KitError;
use portcullis_rbac::Rbac;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

/// What a request may do: the platform's `user_roles`, `user_permissions`, `primary_role`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PermissionContext {
    pub user_roles: BTreeSet<String>,
    /// Permissions as `object.operation` strings, inherited ones included.
    pub user_permissions: BTreeSet<String>,
    /// The most important role held (`role_order`), or the one with the most permissions.
    pub primary_role: Option<String>,
    pub is_staff: bool,
    pub is_superuser: bool,
}

impl PermissionContext {
    pub fn has_permission(&self, permission: &str) -> bool {
        self.is_superuser || self.user_permissions.contains(permission)
    }
    pub fn has_role(&self, role: &str) -> bool {
        self.user_roles.contains(role)
    }
}

/// The authorization module.
pub struct Authorization {
    rbac: Rbac,
    group_to_role: BTreeMap<String, Vec<String>>,
    staff_roles: BTreeSet<String>,
    superuser_roles: BTreeSet<String>,
    role_order: Vec<String>,
    contexts: RwLock<HashMap<BTreeSet<String>, Arc<PermissionContext>>>,
}

/// Distinct role sets remembered (a service has a handful; the bound only guards memory).
const MAX_CONTEXTS: usize = 4096;

impl Authorization {
    pub fn new(config: &KitConfig) -> Result<Authorization, KitError> {
        Ok(Authorization {
            rbac: config.roles.build()?,
            group_to_role: config.group_to_role.clone(),
            staff_roles: config.staff_roles.iter().cloned().collect(),
            superuser_roles: config.superuser_roles.iter().cloned().collect(),
            role_order: config.role_order.clone(),
            contexts: RwLock::new(HashMap::new()),
        })
    }

    /// The roles a set of groups maps to (unknown groups map to nothing).
    pub fn roles_for_groups<'a>(
        &self,
        groups: impl IntoIterator<Item = &'a String>,
    ) -> BTreeSet<String> {
        groups
            .into_iter()
            .filter_map(|g| self.group_to_role.get(g))
            .flatten()
            .cloned()
            .collect()
    }

    /// The context of a user holding `roles` (cached per role set).
    pub fn context(&self, roles: BTreeSet<String>) -> Arc<PermissionContext> {
        if let Ok(map) = self.contexts.read()
            && let Some(c) = map.get(&roles)
        {
            return c.clone();
        }
        let ctx = Arc::new(self.compute(&roles));
        if let Ok(mut map) = self.contexts.write() {
            if map.len() >= MAX_CONTEXTS {
                map.clear();
            }
            map.insert(roles, ctx.clone());
        }
        ctx
    }

    /// The context for a set of groups.
    pub fn context_for_groups<'a>(
        &self,
        groups: impl IntoIterator<Item = &'a String>,
    ) -> Arc<PermissionContext> {
        self.context(self.roles_for_groups(groups))
    }

    fn compute(&self, roles: &BTreeSet<String>) -> PermissionContext {
        let mut permissions = BTreeSet::new();
        let mut sizes: Vec<(usize, &String)> = Vec::new();
        for role in roles {
            let Ok(perms) = self.rbac.role_permissions(role) else {
                continue;
            };
            let mut n = 0;
            for p in perms {
                n += 1;
                permissions.insert(if p.object.is_empty() {
                    p.operation.to_owned()
                } else {
                    format!("{}.{}", p.object, p.operation)
                });
            }
            sizes.push((n, role));
        }
        let primary_role = self
            .role_order
            .iter()
            .find(|r| roles.contains(*r))
            .cloned()
            .or_else(|| {
                sizes
                    .iter()
                    .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
                    .map(|(_, r)| (*r).clone())
            });
        let is_superuser = roles.iter().any(|r| self.superuser_roles.contains(r));
        let is_staff = is_superuser || roles.iter().any(|r| self.staff_roles.contains(r));
        PermissionContext {
            user_roles: roles.clone(),
            user_permissions: permissions,
            primary_role,
            is_staff,
            is_superuser,
        }
    }

    /// The RBAC engine (review functions, sessions) for services that want more.
    pub fn rbac(&self) -> &Rbac {
        &self.rbac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authz() -> Authorization {
        let raw: crate::config::RawConfig = serde_json::from_value(serde_json::json!({
            "issuer": "http://idp/auth/realms/r", "client_id": "c", "client_secret": "s",
            "service_url": "http://svc",
            "group_to_role": {"viewers": "viewer", "editors": "editor", "admins": ["admin"]},
            "roles": {"roles": {
                "viewer": {"permissions": ["article.view"]},
                "editor": {"permissions": ["article.edit"], "inherits": ["viewer"]},
                "admin": {"permissions": ["admin.access"], "inherits": ["editor"]}
            }},
            "staff_roles": ["editor"], "superuser_roles": ["admin"],
            "role_order": ["admin", "editor", "viewer"]
        }))
        .unwrap();
        Authorization::new(&KitConfig::validate(raw).unwrap()).unwrap()
    }

    #[test]
    fn groups_map_to_roles_and_inherited_permissions() {
        let a = authz();
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let editor = a.context_for_groups(&g(&["editors", "unknown"]));
        assert_eq!(editor.user_roles, BTreeSet::from(["editor".to_string()]));
        assert!(editor.has_permission("article.view"));
        assert!(editor.has_permission("article.edit"));
        assert!(!editor.has_permission("admin.access"));
        assert!(editor.is_staff && !editor.is_superuser);
        assert_eq!(editor.primary_role.as_deref(), Some("editor"));

        let admin = a.context_for_groups(&g(&["admins", "viewers"]));
        assert_eq!(admin.primary_role.as_deref(), Some("admin"));
        assert!(admin.is_superuser && admin.is_staff);

        let nobody = a.context_for_groups(&g(&[]));
        assert!(nobody.user_permissions.is_empty());
        assert_eq!(nobody.primary_role, None);
        // Same role set, same shared context.
        assert!(Arc::ptr_eq(&nobody, &a.context(BTreeSet::new())));
    }
}
