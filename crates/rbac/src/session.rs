//! Sessions and access checks (ANSI INCITS 359-2004 §6.1.2 with the hierarchical and DSD
//! refinements of §6.2.2 and §6.4.2).
//!
//! A session belongs to one user and has a set of *active* roles. Its roles *in effect* are
//! the active roles and all they inherit; its permissions are theirs. Both are materialised
//! when a role is activated or dropped, and refreshed by every write that could change them,
//! so [`Rbac::check_access_id`] is an array index and one bit test, and [`Rbac::check_access`]
//! adds one hash look-up keyed by both names.
//!
//! Invariants: this crate does no I/O; a session's active roles are always authorized for its
//! user (writes that withdraw authorization deactivate the roles concerned); `roles` and
//! `permissions` always equal what the active roles give; no session violates a DSD set.
//! Slots are reused, with a generation counter so an old [`SessionId`] never reaches a newer
//! session.

use crate::PermissionRef;
use crate::bitset::BitSet;
use crate::engine::Rbac;
use crate::error::{RbacError, Result};
use crate::ids::{PermissionId, SessionId};

#[derive(Debug, Clone, Default)]
pub(crate) struct SessionSlot {
    pub(crate) generation: u32,
    pub(crate) session: Option<Session>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Session {
    pub(crate) user: usize,
    /// Roles activated explicitly.
    pub(crate) active: BitSet,
    /// Active roles and everything they inherit.
    pub(crate) roles: BitSet,
    /// Effective permissions of the active roles.
    pub(crate) permissions: BitSet,
}

impl Rbac {
    #[inline]
    fn session(&self, id: SessionId) -> Result<&Session> {
        self.sessions
            .get(id.slot as usize)
            .filter(|slot| slot.generation == id.generation)
            .and_then(|slot| slot.session.as_ref())
            .ok_or(RbacError::UnknownSession(id))
    }

    pub(crate) fn live_sessions(&self) -> impl Iterator<Item = (SessionId, &Session)> + '_ {
        self.sessions
            .iter()
            .enumerate()
            .filter_map(|(slot, entry)| {
                let session = entry.session.as_ref()?;
                Some((
                    SessionId {
                        slot: slot as u32,
                        generation: entry.generation,
                    },
                    session,
                ))
            })
    }

    /// Roles in effect and permissions of a set of active roles.
    fn effect_of(&self, active: &BitSet) -> (BitSet, BitSet) {
        let mut roles = BitSet::new();
        let mut permissions = BitSet::new();
        for role in active.iter() {
            if let Some(data) = self.role_data.get(role) {
                roles.union_with(&data.descendants);
                permissions.union_with(&data.effective);
            }
        }
        (roles, permissions)
    }

    /// Re-derives every session selected by `affected` (judged on its state before the
    /// write's effects): drops active roles its user is no longer authorized for, then
    /// recomputes the roles in effect and the permissions.
    pub(crate) fn refresh_sessions(&mut self, affected: impl Fn(&Session) -> bool) {
        for slot in 0..self.sessions.len() {
            let Some(session) = self.sessions.get(slot).and_then(|s| s.session.as_ref()) else {
                continue;
            };
            if !affected(session) {
                continue;
            }
            let mut active = session.active.clone();
            active.intersect_with(&self.authorized_bits(session.user));
            let (roles, permissions) = self.effect_of(&active);
            if let Some(session) = self.sessions.get_mut(slot).and_then(|s| s.session.as_mut()) {
                session.active = active;
                session.roles = roles;
                session.permissions = permissions;
            }
        }
    }

    pub(crate) fn end_sessions_of(&mut self, user: usize) {
        for slot in 0..self.sessions.len() {
            if let Some(entry) = self.sessions.get_mut(slot)
                && entry.session.as_ref().is_some_and(|s| s.user == user)
            {
                entry.session = None;
                entry.generation = entry.generation.wrapping_add(1);
                self.free_slots.push(slot as u32);
            }
        }
    }

    /// CreateSession: starts a session for `user` with `roles` active (duplicates count
    /// once). Each role must be one the user is authorized for ([`RbacError::NotAuthorized`]),
    /// and together, with what they inherit, they must not break a DSD set
    /// ([`RbacError::DsdViolation`] with `session: None`).
    pub fn create_session(&mut self, user: &str, roles: &[&str]) -> Result<SessionId> {
        let u = self.user_index(user)?;
        let mut active = BitSet::new();
        for role in roles {
            active.insert(self.role_index(role)?);
        }
        let authorized = self.authorized_bits(u);
        for role in active.iter() {
            if !authorized.contains(role) {
                return Err(RbacError::NotAuthorized {
                    user: user.to_owned(),
                    role: self.role_name_string(role),
                });
            }
        }
        let (effect_roles, permissions) = self.effect_of(&active);
        if let Some(set) = self.dsd.first_violation(&effect_roles) {
            return Err(RbacError::DsdViolation {
                set: set.to_owned(),
                user: user.to_owned(),
                session: None,
            });
        }
        let session = Session {
            user: u,
            active,
            roles: effect_roles,
            permissions,
        };
        if let Some(slot) = self.free_slots.pop()
            && let Some(entry) = self.sessions.get_mut(slot as usize)
        {
            entry.session = Some(session);
            return Ok(SessionId {
                slot,
                generation: entry.generation,
            });
        }
        let slot = u32::try_from(self.sessions.len()).map_err(|_| RbacError::CapacityExceeded)?;
        self.sessions.push(SessionSlot {
            generation: 0,
            session: Some(session),
        });
        Ok(SessionId {
            slot,
            generation: 0,
        })
    }

    /// DeleteSession.
    pub fn delete_session(&mut self, session: SessionId) -> Result<()> {
        self.session(session)?;
        if let Some(entry) = self.sessions.get_mut(session.slot as usize) {
            entry.session = None;
            entry.generation = entry.generation.wrapping_add(1);
            self.free_slots.push(session.slot);
        }
        Ok(())
    }

    /// AddActiveRole: activates `role` in the session. The session's user must be authorized
    /// for it, it must not be active already, and the session's roles in effect must not then
    /// break a DSD set.
    pub fn add_active_role(&mut self, session: SessionId, role: &str) -> Result<()> {
        let current = self.session(session)?;
        let r = self.role_index(role)?;
        if current.active.contains(r) {
            return Err(RbacError::RoleAlreadyActive {
                session,
                role: role.to_owned(),
            });
        }
        if !self.authorized_bits(current.user).contains(r) {
            return Err(RbacError::NotAuthorized {
                user: self.user_name_string(current.user),
                role: role.to_owned(),
            });
        }
        let (mut roles, mut permissions) = (current.roles.clone(), current.permissions.clone());
        if let Some(data) = self.role_data.get(r) {
            roles.union_with(&data.descendants);
            permissions.union_with(&data.effective);
        }
        if let Some(set) = self.dsd.first_violation(&roles) {
            return Err(RbacError::DsdViolation {
                set: set.to_owned(),
                user: self.user_name_string(current.user),
                session: Some(session),
            });
        }
        if let Some(entry) = self.sessions.get_mut(session.slot as usize)
            && let Some(current) = entry.session.as_mut()
        {
            current.active.insert(r);
            current.roles = roles;
            current.permissions = permissions;
        }
        Ok(())
    }

    /// DropActiveRole: deactivates `role` (which must be active) in the session.
    pub fn drop_active_role(&mut self, session: SessionId, role: &str) -> Result<()> {
        let current = self.session(session)?;
        let r = self.role_index(role)?;
        if !current.active.contains(r) {
            return Err(RbacError::RoleNotActive {
                session,
                role: role.to_owned(),
            });
        }
        let mut active = current.active.clone();
        active.remove(r);
        let (roles, permissions) = self.effect_of(&active);
        if let Some(entry) = self.sessions.get_mut(session.slot as usize)
            && let Some(current) = entry.session.as_mut()
        {
            current.active = active;
            current.roles = roles;
            current.permissions = permissions;
        }
        Ok(())
    }

    /// CheckAccess: may the session perform `operation` on `object`? `Ok(false)` for names no
    /// grant ever mentioned; an error only for an unknown session.
    #[inline]
    pub fn check_access(&self, session: SessionId, operation: &str, object: &str) -> Result<bool> {
        let session = self.session(session)?;
        Ok(self
            .lookup_permission(operation, object)
            .is_some_and(|permission| session.permissions.contains(permission)))
    }

    /// CheckAccess with a permission resolved beforehand by [`Rbac::permission_id`]: one
    /// array index and one bit test.
    #[inline]
    pub fn check_access_id(&self, session: SessionId, permission: PermissionId) -> Result<bool> {
        Ok(self
            .session(session)?
            .permissions
            .contains(permission.index()))
    }

    /// SessionRoles: the roles activated in the session (not the ones they inherit).
    pub fn session_roles(&self, session: SessionId) -> Result<impl Iterator<Item = &str> + '_> {
        let session = self.session(session)?;
        Ok(session
            .active
            .iter()
            .filter_map(|role| self.roles.name(role)))
    }

    /// The session's roles in effect: the active roles and every role they inherit (what DSD
    /// sets are checked against).
    pub fn session_effective_roles(
        &self,
        session: SessionId,
    ) -> Result<impl Iterator<Item = &str> + '_> {
        let session = self.session(session)?;
        Ok(session
            .roles
            .iter()
            .filter_map(|role| self.roles.name(role)))
    }

    /// SessionPermissions: every permission available in the session, inherited ones
    /// included. Order unspecified.
    pub fn session_permissions(
        &self,
        session: SessionId,
    ) -> Result<impl Iterator<Item = PermissionRef<'_>> + '_> {
        let session = self.session(session)?;
        Ok(session
            .permissions
            .iter()
            .filter_map(|permission| self.permission_ref(permission)))
    }

    /// The user a session belongs to.
    pub fn session_user(&self, session: SessionId) -> Result<&str> {
        let session = self.session(session)?;
        Ok(self.users.name(session.user).unwrap_or_default())
    }
}
