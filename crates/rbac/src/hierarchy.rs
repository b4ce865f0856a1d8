//! General role hierarchies (ANSI INCITS 359-2004 §6.2.1): adding and removing immediate
//! inheritance, and keeping the transitive closure materialised.
//!
//! Invariants: this crate does no I/O; the graph stays acyclic (a self-edge or a cycle is
//! rejected before anything changes); after every call `descendants` is the exact
//! reflexive-transitive closure of the immediate edges and `effective` follows it. Adding an
//! edge updates both incrementally (only the senior and its ascendants change: they gain the
//! junior's closure and permissions); removing an edge or a role recomputes the closure from
//! the edges in topological order — linear in the edges times the closure's width in words —
//! and the permissions of the roles that were above it.

use crate::bitset::BitSet;
use crate::engine::Rbac;
use crate::error::{RbacError, Result};
use crate::ids::RoleId;

impl Rbac {
    /// AddInheritance: makes `senior` inherit `junior` immediately (`senior ≫ junior`), so
    /// `senior` gets all of `junior`'s permissions and users authorized for `senior` become
    /// authorized for `junior` and its juniors.
    ///
    /// Rejected, with nothing changed, if the roles are equal or `junior` already inherits
    /// `senior` ([`RbacError::Cycle`]), if the edge exists, if a user would become
    /// authorized for too many roles of a static SoD set ([`RbacError::SsdViolation`]), or if
    /// a running session would then have too many roles of a dynamic SoD set in effect
    /// ([`RbacError::DsdViolation`]).
    pub fn add_inheritance(&mut self, senior: &str, junior: &str) -> Result<()> {
        let s = self.role_index(senior)?;
        let j = self.role_index(junior)?;
        let (Some(senior_data), Some(junior_data)) = (self.role_data.get(s), self.role_data.get(j))
        else {
            return Err(RbacError::UnknownRole(senior.to_owned()));
        };
        if s == j || junior_data.descendants.contains(s) {
            return Err(RbacError::Cycle {
                senior: senior.to_owned(),
                junior: junior.to_owned(),
            });
        }
        if senior_data.juniors.contains(&j) {
            return Err(RbacError::InheritanceExists {
                senior: senior.to_owned(),
                junior: junior.to_owned(),
            });
        }
        let gained_roles = junior_data.descendants.clone();
        let gained_permissions = junior_data.effective.clone();
        let ascendants = self.ascendants_of(s);

        // Check every constraint against the state after the change before changing anything.
        if !self.ssd.is_empty() {
            for (user, data) in self.user_data.iter().enumerate() {
                if !self.users.is_live(user) || !data.assigned.intersects(&ascendants) {
                    continue;
                }
                let mut authorized = self.authorized_bits(user);
                authorized.union_with(&gained_roles);
                if let Some(set) = self.ssd.first_violation(&authorized) {
                    return Err(RbacError::SsdViolation {
                        set: set.to_owned(),
                        user: self.user_name_string(user),
                    });
                }
            }
        }
        if !self.dsd.is_empty() {
            for (id, session) in self.live_sessions() {
                if !session.roles.contains(s) {
                    continue;
                }
                let mut roles = session.roles.clone();
                roles.union_with(&gained_roles);
                if let Some(set) = self.dsd.first_violation(&roles) {
                    return Err(RbacError::DsdViolation {
                        set: set.to_owned(),
                        user: self.user_name_string(session.user),
                        session: Some(id),
                    });
                }
            }
        }

        if let Some(data) = self.role_data.get_mut(s) {
            data.juniors.push(j);
        }
        if let Some(data) = self.role_data.get_mut(j) {
            data.seniors.push(s);
        }
        for ascendant in ascendants.iter() {
            if let Some(data) = self.role_data.get_mut(ascendant) {
                data.descendants.union_with(&gained_roles);
                data.effective.union_with(&gained_permissions);
            }
        }
        for slot in &mut self.sessions {
            if let Some(session) = slot.session.as_mut()
                && session.roles.contains(s)
            {
                session.roles.union_with(&gained_roles);
                session.permissions.union_with(&gained_permissions);
            }
        }
        Ok(())
    }

    /// DeleteInheritance: removes the immediate edge `senior ≫ junior`. Inheritance that
    /// still holds through another path remains; the rest is lost, and sessions deactivate
    /// roles their users are no longer authorized for.
    pub fn delete_inheritance(&mut self, senior: &str, junior: &str) -> Result<()> {
        let s = self.role_index(senior)?;
        let j = self.role_index(junior)?;
        if !self
            .role_data
            .get(s)
            .is_some_and(|data| data.juniors.contains(&j))
        {
            return Err(RbacError::NoInheritance {
                senior: senior.to_owned(),
                junior: junior.to_owned(),
            });
        }
        let ascendants = self.ascendants_of(s);
        if let Some(data) = self.role_data.get_mut(s) {
            data.juniors.retain(|&role| role != j);
        }
        if let Some(data) = self.role_data.get_mut(j) {
            data.seniors.retain(|&role| role != s);
        }
        self.rebuild_closure();
        self.recompute_effective(&ascendants);
        let mut losing_users = BitSet::new();
        for ascendant in ascendants.iter() {
            if let Some(data) = self.role_data.get(ascendant) {
                losing_users.union_with(&data.users);
            }
        }
        // Sessions with the senior in effect may lose permissions; users assigned to the
        // senior or above may lose authorization for roles they reached only through the edge.
        self.refresh_sessions(|session| {
            session.roles.contains(s) || losing_users.contains(session.user)
        });
        Ok(())
    }

    /// AddAscendant: creates the role `ascendant` as an immediate senior of the existing role
    /// `descendant`.
    pub fn add_ascendant(&mut self, ascendant: &str, descendant: &str) -> Result<RoleId> {
        self.role_index(descendant)?;
        let id = self.add_role(ascendant)?;
        // A new role has no relatives, users or sessions: no cycle or constraint can break.
        if let Err(error) = self.add_inheritance(ascendant, descendant) {
            let _ = self.delete_role(ascendant);
            return Err(error);
        }
        Ok(id)
    }

    /// AddDescendant: creates the role `descendant` as an immediate junior of the existing
    /// role `ascendant`.
    pub fn add_descendant(&mut self, ascendant: &str, descendant: &str) -> Result<RoleId> {
        self.role_index(ascendant)?;
        let id = self.add_role(descendant)?;
        if let Err(error) = self.add_inheritance(ascendant, descendant) {
            let _ = self.delete_role(descendant);
            return Err(error);
        }
        Ok(id)
    }

    /// Recomputes `descendants` of every live role from the immediate edges: an iterative
    /// depth-first post-order (juniors before seniors, and no recursion, so deep hierarchies
    /// cannot overflow the stack), each role taking the union of its juniors' closures.
    pub(crate) fn rebuild_closure(&mut self) {
        const UNSEEN: u8 = 0;
        const OPEN: u8 = 1;
        const DONE: u8 = 2;
        let slots = self.role_data.len();
        let mut state = vec![UNSEEN; slots];
        let mut stack: Vec<(usize, usize)> = Vec::new();
        for root in 0..slots {
            if !self.roles.is_live(root) || state[root] != UNSEEN {
                continue;
            }
            state[root] = OPEN;
            stack.push((root, 0));
            while let Some(top) = stack.last_mut() {
                let (role, next_child) = *top;
                let child = self
                    .role_data
                    .get(role)
                    .and_then(|data| data.juniors.get(next_child))
                    .copied();
                if let Some(child) = child {
                    top.1 += 1;
                    if state.get(child) == Some(&UNSEEN) {
                        state[child] = OPEN;
                        stack.push((child, 0));
                    }
                    continue;
                }
                stack.pop();
                state[role] = DONE;
                let mut descendants = BitSet::singleton(role);
                if let Some(data) = self.role_data.get(role) {
                    for &junior in &data.juniors {
                        if let Some(junior) = self.role_data.get(junior) {
                            descendants.union_with(&junior.descendants);
                        }
                    }
                }
                if let Some(data) = self.role_data.get_mut(role) {
                    data.descendants = descendants;
                }
            }
        }
    }
}
