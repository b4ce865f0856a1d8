//! The engine's state and the core RBAC administrative functions: users, roles, user
//! assignment and permission assignment (ANSI INCITS 359-2004 §6.1.1).
//!
//! Invariants (hold after every public call, whether it succeeded or not; a failed call
//! changes nothing):
//! - this crate does no I/O;
//! - the inheritance graph is acyclic; `descendants[r]` is the reflexive-transitive set of
//!   roles `r` inherits (`r ≥ d`): the closure is materialised, its converse is derived on
//!   write by walking `seniors`;
//! - `effective[r]` = ⋃ `granted[d]` over `d ∈ descendants[r]`;
//! - `assigned[u]` and `users[r]` are the two directions of the same relation;
//! - every static SoD set is satisfied by every user's authorized roles, every dynamic SoD set
//!   by every session's roles in effect;
//! - every session's active roles are authorized for its user, and its cached role and
//!   permission sets equal what its active roles give (see `session.rs`).

use crate::bitset::BitSet;
use crate::error::{RbacError, Result};
use crate::hash::FastMap;
use crate::ids::{ObjectId, OperationId, PermissionId, RoleId, UserId};
use crate::intern::{Interner, NamePair, PairKey};
use crate::session::SessionSlot;
use crate::sod::SodSets;

/// An RBAC engine: users, roles, permissions, the role hierarchy, separation-of-duty sets and
/// sessions, all in memory. See the [crate documentation](crate) for the model.
///
/// Cloning gives an independent engine (handy for "what if" checks).
#[derive(Debug, Clone, Default)]
pub struct Rbac {
    pub(crate) users: Interner,
    pub(crate) user_data: Vec<UserData>,
    pub(crate) roles: Interner,
    pub(crate) role_data: Vec<RoleData>,
    pub(crate) operations: Interner,
    pub(crate) objects: Interner,
    /// (operation, object) names → permission index.
    pub(crate) permission_index: FastMap<NamePair, u32>,
    /// Permission index → (operation, object).
    pub(crate) permission_pairs: Vec<(u32, u32)>,
    pub(crate) ssd: SodSets,
    pub(crate) dsd: SodSets,
    pub(crate) sessions: Vec<SessionSlot>,
    pub(crate) free_slots: Vec<u32>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct UserData {
    /// Roles the user is directly assigned to.
    pub(crate) assigned: BitSet,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RoleData {
    /// Users directly assigned to the role.
    pub(crate) users: BitSet,
    /// Immediate juniors (this role inherits them).
    pub(crate) juniors: Vec<usize>,
    /// Immediate seniors (they inherit this role).
    pub(crate) seniors: Vec<usize>,
    /// Roles this role inherits, itself included.
    pub(crate) descendants: BitSet,
    /// Permissions granted to this role directly.
    pub(crate) granted: BitSet,
    /// Permissions granted to this role or to any of its descendants.
    pub(crate) effective: BitSet,
}

impl Rbac {
    /// An empty engine.
    pub fn new() -> Self {
        Self::default()
    }

    // ----- name resolution -------------------------------------------------------------

    pub(crate) fn user_index(&self, name: &str) -> Result<usize> {
        self.users
            .get(name)
            .ok_or_else(|| RbacError::UnknownUser(name.to_owned()))
    }

    pub(crate) fn role_index(&self, name: &str) -> Result<usize> {
        self.roles
            .get(name)
            .ok_or_else(|| RbacError::UnknownRole(name.to_owned()))
    }

    pub(crate) fn user_name_string(&self, user: usize) -> String {
        self.users.name(user).unwrap_or_default().to_owned()
    }

    pub(crate) fn role_name_string(&self, role: usize) -> String {
        self.roles.name(role).unwrap_or_default().to_owned()
    }

    /// The permission index of (operation, object), if that pair was ever granted.
    #[inline]
    pub(crate) fn lookup_permission(&self, operation: &str, object: &str) -> Option<usize> {
        self.permission_index
            .get(&(operation, object) as &dyn PairKey)
            .map(|&index| index as usize)
    }

    fn intern_permission(&mut self, operation: &str, object: &str) -> Result<usize> {
        if let Some(index) = self.lookup_permission(operation, object) {
            return Ok(index);
        }
        let index =
            u32::try_from(self.permission_pairs.len()).map_err(|_| RbacError::CapacityExceeded)?;
        let operation_index = self.operations.get_or_insert(operation)?;
        let object_index = self.objects.get_or_insert(object)?;
        self.permission_index
            .insert(NamePair::new(operation, object), index);
        // Interner indices fit in u32 by construction.
        self.permission_pairs
            .push((operation_index as u32, object_index as u32));
        Ok(index as usize)
    }

    /// The roles `user` is authorized for: those assigned and everything they inherit.
    pub(crate) fn authorized_bits(&self, user: usize) -> BitSet {
        let mut authorized = BitSet::new();
        if let Some(data) = self.user_data.get(user) {
            for role in data.assigned.iter() {
                if let Some(role) = self.role_data.get(role) {
                    authorized.union_with(&role.descendants);
                }
            }
        }
        authorized
    }

    /// Roles that inherit `role`, itself included (walks `seniors`; used on writes only).
    pub(crate) fn ascendants_of(&self, role: usize) -> BitSet {
        let mut found = BitSet::singleton(role);
        let mut pending = vec![role];
        while let Some(next) = pending.pop() {
            if let Some(data) = self.role_data.get(next) {
                for &senior in &data.seniors {
                    if found.insert(senior) {
                        pending.push(senior);
                    }
                }
            }
        }
        found
    }

    /// Recomputes `effective` of `roles` (the roles whose juniors or grants changed; every
    /// junior outside the set must be up to date) as `granted[r] ∪ ⋃ effective[j]` over
    /// immediate juniors `j`. A senior has strictly more descendants than any of its
    /// juniors, so sorting by closure size visits juniors first.
    pub(crate) fn recompute_effective(&mut self, roles: &BitSet) {
        let mut order: Vec<(usize, usize)> = roles
            .iter()
            .filter_map(|role| Some((self.role_data.get(role)?.descendants.len(), role)))
            .collect();
        order.sort_unstable();
        for (_, role) in order {
            let Some(data) = self.role_data.get(role) else {
                continue;
            };
            let mut effective = data.granted.clone();
            for &junior in &data.juniors {
                if let Some(junior) = self.role_data.get(junior) {
                    effective.union_with(&junior.effective);
                }
            }
            if let Some(data) = self.role_data.get_mut(role) {
                data.effective = effective;
            }
        }
    }

    // ----- ids for the fast path ------------------------------------------------------

    /// The id of a user, if it exists.
    pub fn user_id(&self, name: &str) -> Option<UserId> {
        self.users.get(name).map(|index| UserId(index as u32))
    }

    /// The id of a role, if it exists.
    pub fn role_id(&self, name: &str) -> Option<RoleId> {
        self.roles.get(name).map(|index| RoleId(index as u32))
    }

    /// The id of an operation, if any permission ever named it.
    pub fn operation_id(&self, name: &str) -> Option<OperationId> {
        self.operations
            .get(name)
            .map(|index| OperationId(index as u32))
    }

    /// The id of an object, if any permission ever named it.
    pub fn object_id(&self, name: &str) -> Option<ObjectId> {
        self.objects.get(name).map(|index| ObjectId(index as u32))
    }

    /// The id of the permission (operation, object), if it was ever granted. `None` means no
    /// role can hold it (yet), so any check of it is `false`.
    pub fn permission_id(&self, operation: &str, object: &str) -> Option<PermissionId> {
        self.lookup_permission(operation, object)
            .map(|index| PermissionId(index as u32))
    }

    /// The name of a user id (`None` if deleted or foreign).
    pub fn user_name(&self, user: UserId) -> Option<&str> {
        self.users.name(user.index())
    }

    /// The name of a role id (`None` if deleted or foreign).
    pub fn role_name(&self, role: RoleId) -> Option<&str> {
        self.roles.name(role.index())
    }

    /// The names of a permission id (`None` if foreign).
    pub fn permission_name(&self, permission: PermissionId) -> Option<crate::PermissionRef<'_>> {
        self.permission_ref(permission.index())
    }

    pub(crate) fn permission_ref(&self, index: usize) -> Option<crate::PermissionRef<'_>> {
        let &(operation, object) = self.permission_pairs.get(index)?;
        Some(crate::PermissionRef {
            operation: self.operations.name(operation as usize)?,
            object: self.objects.name(object as usize)?,
        })
    }

    // ----- core administrative functions ---------------------------------------------

    /// AddUser: creates a user with no assignments.
    pub fn add_user(&mut self, name: &str) -> Result<UserId> {
        if self.users.get(name).is_some() {
            return Err(RbacError::DuplicateUser(name.to_owned()));
        }
        let index = self.users.insert(name)?;
        if self.user_data.len() <= index {
            self.user_data.resize_with(index + 1, UserData::default);
        }
        Ok(UserId(index as u32))
    }

    /// DeleteUser: removes the user, its assignments and all its sessions.
    pub fn delete_user(&mut self, name: &str) -> Result<()> {
        let user = self.user_index(name)?;
        let assigned = self
            .user_data
            .get_mut(user)
            .map(|data| std::mem::take(&mut data.assigned))
            .unwrap_or_default();
        for role in assigned.iter() {
            if let Some(role) = self.role_data.get_mut(role) {
                role.users.remove(user);
            }
        }
        self.end_sessions_of(user);
        self.users.remove(user);
        Ok(())
    }

    /// AddRole: creates a role with no users, permissions or relatives.
    pub fn add_role(&mut self, name: &str) -> Result<RoleId> {
        if self.roles.get(name).is_some() {
            return Err(RbacError::DuplicateRole(name.to_owned()));
        }
        let index = self.roles.insert(name)?;
        if self.role_data.len() <= index {
            self.role_data.resize_with(index + 1, RoleData::default);
        }
        if let Some(data) = self.role_data.get_mut(index) {
            *data = RoleData {
                descendants: BitSet::singleton(index),
                ..RoleData::default()
            };
        }
        Ok(RoleId(index as u32))
    }

    /// DeleteRole: removes the role with its user assignments, permission grants, immediate
    /// inheritance edges (seniors are *not* reconnected to its juniors: what they inherited
    /// only through it is lost) and SoD memberships (a set left with fewer roles than its
    /// cardinality can never be violated and is deleted). Sessions keep running without it;
    /// roles their users are no longer authorized for are deactivated too.
    pub fn delete_role(&mut self, name: &str) -> Result<()> {
        let role = self.role_index(name)?;
        let mut ascendants = self.ascendants_of(role);
        ascendants.remove(role);
        let Some(data) = self.role_data.get_mut(role).map(std::mem::take) else {
            return Err(RbacError::UnknownRole(name.to_owned()));
        };
        for user in data.users.iter() {
            if let Some(user) = self.user_data.get_mut(user) {
                user.assigned.remove(role);
            }
        }
        for &junior in &data.juniors {
            if let Some(junior) = self.role_data.get_mut(junior) {
                junior.seniors.retain(|&senior| senior != role);
            }
        }
        for &senior in &data.seniors {
            if let Some(senior) = self.role_data.get_mut(senior) {
                senior.juniors.retain(|&junior| junior != role);
            }
        }
        self.roles.remove(role);
        self.ssd.remove_role(role);
        self.dsd.remove_role(role);
        for slot in &mut self.sessions {
            if let Some(session) = slot.session.as_mut() {
                session.active.remove(role);
            }
        }
        self.rebuild_closure();
        self.recompute_effective(&ascendants);
        // Sessions that had the role in effect lose its permissions; users assigned to it or a
        // senior may lose authorization for roles they reached only through it.
        let mut losing_users = data.users.clone();
        for ascendant in ascendants.iter() {
            if let Some(senior) = self.role_data.get(ascendant) {
                losing_users.union_with(&senior.users);
            }
        }
        self.refresh_sessions(|session| {
            session.roles.contains(role) || losing_users.contains(session.user)
        });
        Ok(())
    }

    /// AssignUser: assigns `user` to `role`. Rejected with [`RbacError::SsdViolation`] if the
    /// user would then be authorized (directly or through inheritance) for `cardinality` or
    /// more roles of a static SoD set.
    pub fn assign_user(&mut self, user: &str, role: &str) -> Result<()> {
        let u = self.user_index(user)?;
        let r = self.role_index(role)?;
        if self
            .user_data
            .get(u)
            .is_some_and(|data| data.assigned.contains(r))
        {
            return Err(RbacError::AlreadyAssigned {
                user: user.to_owned(),
                role: role.to_owned(),
            });
        }
        let mut authorized = self.authorized_bits(u);
        if let Some(data) = self.role_data.get(r) {
            authorized.union_with(&data.descendants);
        }
        if let Some(set) = self.ssd.first_violation(&authorized) {
            return Err(RbacError::SsdViolation {
                set: set.to_owned(),
                user: user.to_owned(),
            });
        }
        if let Some(data) = self.user_data.get_mut(u) {
            data.assigned.insert(r);
        }
        if let Some(data) = self.role_data.get_mut(r) {
            data.users.insert(u);
        }
        Ok(())
    }

    /// DeassignUser: removes the direct assignment. Roles the user's sessions had active and
    /// the user is no longer authorized for are deactivated.
    pub fn deassign_user(&mut self, user: &str, role: &str) -> Result<()> {
        let u = self.user_index(user)?;
        let r = self.role_index(role)?;
        if !self
            .user_data
            .get(u)
            .is_some_and(|data| data.assigned.contains(r))
        {
            return Err(RbacError::NotAssigned {
                user: user.to_owned(),
                role: role.to_owned(),
            });
        }
        if let Some(data) = self.user_data.get_mut(u) {
            data.assigned.remove(r);
        }
        if let Some(data) = self.role_data.get_mut(r) {
            data.users.remove(u);
        }
        self.refresh_sessions(|session| session.user == u);
        Ok(())
    }

    /// GrantPermission: grants (operation, object) to `role` (and so to every senior role).
    /// Operations and objects need no declaration; they exist once named in a grant.
    pub fn grant_permission(&mut self, role: &str, operation: &str, object: &str) -> Result<()> {
        let r = self.role_index(role)?;
        if let Some(permission) = self.lookup_permission(operation, object)
            && self
                .role_data
                .get(r)
                .is_some_and(|data| data.granted.contains(permission))
        {
            return Err(RbacError::AlreadyGranted {
                role: role.to_owned(),
                operation: operation.to_owned(),
                object: object.to_owned(),
            });
        }
        let permission = self.intern_permission(operation, object)?;
        if let Some(data) = self.role_data.get_mut(r) {
            data.granted.insert(permission);
        }
        for ascendant in self.ascendants_of(r).iter() {
            if let Some(data) = self.role_data.get_mut(ascendant) {
                data.effective.insert(permission);
            }
        }
        for slot in &mut self.sessions {
            if let Some(session) = slot.session.as_mut()
                && session.roles.contains(r)
            {
                session.permissions.insert(permission);
            }
        }
        Ok(())
    }

    /// RevokePermission: removes a direct grant. Seniors keep the permission only if another
    /// of their juniors (or they themselves) still holds it.
    pub fn revoke_permission(&mut self, role: &str, operation: &str, object: &str) -> Result<()> {
        let r = self.role_index(role)?;
        let not_granted = || RbacError::NotGranted {
            role: role.to_owned(),
            operation: operation.to_owned(),
            object: object.to_owned(),
        };
        let permission = self
            .lookup_permission(operation, object)
            .ok_or_else(not_granted)?;
        let Some(data) = self.role_data.get_mut(r) else {
            return Err(not_granted());
        };
        if !data.granted.remove(permission) {
            return Err(not_granted());
        }
        let ascendants = self.ascendants_of(r);
        self.recompute_effective(&ascendants);
        self.refresh_sessions(|session| session.roles.contains(r));
        Ok(())
    }
}
