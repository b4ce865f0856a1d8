//! Review functions (ANSI INCITS 359-2004 §6.1.3, §6.2.3 and the advanced review functions):
//! who is assigned or authorized, which permissions a role or user has, with inheritance.
//!
//! Invariants: this crate does no I/O; nothing here mutates; role and user lists come out in
//! creation order, permission lists in an unspecified but deterministic order; unknown
//! operations or objects are not errors (nothing holds them), unknown users and roles are.

use crate::PermissionRef;
use crate::bitset::BitSet;
use crate::engine::Rbac;
use crate::error::Result;

impl Rbac {
    /// All users, in creation order.
    pub fn users(&self) -> impl Iterator<Item = &str> + '_ {
        self.users.iter().map(|(_, name)| name)
    }

    /// All roles, in creation order.
    pub fn roles(&self) -> impl Iterator<Item = &str> + '_ {
        self.roles.iter().map(|(_, name)| name)
    }

    /// AssignedUsers: users directly assigned to `role`.
    pub fn assigned_users(&self, role: &str) -> Result<impl Iterator<Item = &str> + '_> {
        let r = self.role_index(role)?;
        let users = self.role_data.get(r).map(|data| data.users.iter());
        Ok(users
            .into_iter()
            .flatten()
            .filter_map(|user| self.users.name(user)))
    }

    /// AssignedRoles: roles `user` is directly assigned to.
    pub fn assigned_roles(&self, user: &str) -> Result<impl Iterator<Item = &str> + '_> {
        let u = self.user_index(user)?;
        let roles = self.user_data.get(u).map(|data| data.assigned.iter());
        Ok(roles
            .into_iter()
            .flatten()
            .filter_map(|role| self.roles.name(role)))
    }

    /// AuthorizedUsers: users assigned to `role` or to any role that inherits it.
    pub fn authorized_users(&self, role: &str) -> Result<impl Iterator<Item = &str> + '_> {
        let r = self.role_index(role)?;
        let mut users = BitSet::new();
        for ascendant in self.ascendants_of(r).iter() {
            if let Some(senior) = self.role_data.get(ascendant) {
                users.union_with(&senior.users);
            }
        }
        Ok(users.into_ones().filter_map(|user| self.users.name(user)))
    }

    /// AuthorizedRoles: roles `user` is assigned to and every role they inherit.
    pub fn authorized_roles(&self, user: &str) -> Result<impl Iterator<Item = &str> + '_> {
        let u = self.user_index(user)?;
        Ok(self
            .authorized_bits(u)
            .into_ones()
            .filter_map(|role| self.roles.name(role)))
    }

    /// The roles `role` inherits immediately.
    pub fn immediate_juniors(&self, role: &str) -> Result<impl Iterator<Item = &str> + '_> {
        let r = self.role_index(role)?;
        let juniors = self.role_data.get(r).map(|data| data.juniors.iter());
        Ok(juniors
            .into_iter()
            .flatten()
            .filter_map(|&junior| self.roles.name(junior)))
    }

    /// The roles that inherit `role` immediately.
    pub fn immediate_seniors(&self, role: &str) -> Result<impl Iterator<Item = &str> + '_> {
        let r = self.role_index(role)?;
        let seniors = self.role_data.get(r).map(|data| data.seniors.iter());
        Ok(seniors
            .into_iter()
            .flatten()
            .filter_map(|&senior| self.roles.name(senior)))
    }

    /// Whether `senior ≥ junior` (equal, or inheriting it through any path).
    pub fn inherits(&self, senior: &str, junior: &str) -> Result<bool> {
        let s = self.role_index(senior)?;
        let j = self.role_index(junior)?;
        Ok(self
            .role_data
            .get(s)
            .is_some_and(|data| data.descendants.contains(j)))
    }

    /// RolePermissions (hierarchical): permissions granted to `role` or to any role it
    /// inherits.
    pub fn role_permissions(
        &self,
        role: &str,
    ) -> Result<impl Iterator<Item = PermissionRef<'_>> + '_> {
        let r = self.role_index(role)?;
        let permissions = self.role_data.get(r).map(|data| data.effective.iter());
        Ok(permissions
            .into_iter()
            .flatten()
            .filter_map(|permission| self.permission_ref(permission)))
    }

    /// RolePermissions (core): permissions granted to `role` itself.
    pub fn role_granted_permissions(
        &self,
        role: &str,
    ) -> Result<impl Iterator<Item = PermissionRef<'_>> + '_> {
        let r = self.role_index(role)?;
        let permissions = self.role_data.get(r).map(|data| data.granted.iter());
        Ok(permissions
            .into_iter()
            .flatten()
            .filter_map(|permission| self.permission_ref(permission)))
    }

    fn user_permission_bits(&self, user: usize) -> BitSet {
        let mut permissions = BitSet::new();
        if let Some(data) = self.user_data.get(user) {
            for role in data.assigned.iter() {
                if let Some(role) = self.role_data.get(role) {
                    permissions.union_with(&role.effective);
                }
            }
        }
        permissions
    }

    /// UserPermissions: every permission of every role `user` is authorized for — what a
    /// session with all the user's assigned roles active would have (DSD aside).
    pub fn user_permissions(
        &self,
        user: &str,
    ) -> Result<impl Iterator<Item = PermissionRef<'_>> + '_> {
        let u = self.user_index(user)?;
        Ok(self
            .user_permission_bits(u)
            .into_ones()
            .filter_map(|permission| self.permission_ref(permission)))
    }

    /// Whether any role `user` is authorized for holds (operation, object), without a
    /// session: one look-up per assigned role. For services that do not model sessions.
    pub fn user_has_permission(&self, user: &str, operation: &str, object: &str) -> Result<bool> {
        let u = self.user_index(user)?;
        let Some(permission) = self.lookup_permission(operation, object) else {
            return Ok(false);
        };
        Ok(self.user_data.get(u).is_some_and(|data| {
            data.assigned.iter().any(|role| {
                self.role_data
                    .get(role)
                    .is_some_and(|role| role.effective.contains(permission))
            })
        }))
    }

    fn operations_on(&self, permissions: BitSet, object: &str) -> impl Iterator<Item = &str> + '_ {
        let object = self.objects.get(object);
        permissions.into_ones().filter_map(move |permission| {
            let &(operation, on) = self.permission_pairs.get(permission)?;
            if Some(on as usize) == object {
                self.operations.name(operation as usize)
            } else {
                None
            }
        })
    }

    /// RoleOperationsOnObject (hierarchical): operations `role` may perform on `object`,
    /// inherited ones included.
    pub fn role_operations_on_object(
        &self,
        role: &str,
        object: &str,
    ) -> Result<impl Iterator<Item = &str> + '_> {
        let r = self.role_index(role)?;
        let permissions = self
            .role_data
            .get(r)
            .map(|data| data.effective.clone())
            .unwrap_or_default();
        Ok(self.operations_on(permissions, object))
    }

    /// UserOperationsOnObject: operations `user` may perform on `object` through any role
    /// it is authorized for.
    pub fn user_operations_on_object(
        &self,
        user: &str,
        object: &str,
    ) -> Result<impl Iterator<Item = &str> + '_> {
        let u = self.user_index(user)?;
        Ok(self.operations_on(self.user_permission_bits(u), object))
    }
}
