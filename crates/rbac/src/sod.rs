//! Constrained RBAC (ANSI INCITS 359-2004 §6.3, §6.4): static and dynamic separation-of-duty
//! sets, their administrative and review functions.
//!
//! A set `(roles, n)` is *violated* by a role set `R` when `|R ∩ roles| ≥ n`.
//! - Static (SSD): `R` is each user's *authorized* roles (assigned roles and everything they
//!   inherit), so a user cannot collect conflicting roles through the hierarchy either.
//! - Dynamic (DSD): `R` is each session's roles *in effect*: the active roles and every role
//!   they inherit. Counting inherited juniors is stricter than the standard's formula over
//!   the active roles alone; without it one active senior role that inherits two conflicting
//!   duties would hold both duties' permissions in one session, which is what the set forbids.
//!
//! Invariants: this crate does no I/O; every set satisfies `2 ≤ n ≤ |roles|` (deleting a role
//! drops sets that can no longer be violated); no user and no session violates any set;
//! a call that would break either is rejected before anything changes.

use std::collections::BTreeMap;

use crate::bitset::BitSet;
use crate::engine::Rbac;
use crate::error::{RbacError, Result};
use crate::ids::SodKind;

#[derive(Debug, Clone, Default)]
pub(crate) struct SodSet {
    pub(crate) roles: BitSet,
    pub(crate) cardinality: u32,
}

impl SodSet {
    fn violated_by(&self, roles: &BitSet) -> bool {
        roles.intersection_len(&self.roles) >= self.cardinality as usize
    }
}

/// The SoD sets of one kind, by name (ordered, so reviews and errors are deterministic).
#[derive(Debug, Clone, Default)]
pub(crate) struct SodSets {
    sets: BTreeMap<String, SodSet>,
}

impl SodSets {
    pub(crate) fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The first set (by name) that `roles` violates.
    pub(crate) fn first_violation(&self, roles: &BitSet) -> Option<&str> {
        self.sets
            .iter()
            .find(|(_, set)| set.violated_by(roles))
            .map(|(name, _)| name.as_str())
    }

    /// Drops a deleted role from every set, and every set it leaves unable to be violated.
    pub(crate) fn remove_role(&mut self, role: usize) {
        for set in self.sets.values_mut() {
            set.roles.remove(role);
        }
        self.sets
            .retain(|_, set| set.roles.len() >= set.cardinality as usize);
    }
}

impl Rbac {
    fn sod(&self, kind: SodKind) -> &SodSets {
        match kind {
            SodKind::Static => &self.ssd,
            SodKind::Dynamic => &self.dsd,
        }
    }

    fn sod_mut(&mut self, kind: SodKind) -> &mut SodSets {
        match kind {
            SodKind::Static => &mut self.ssd,
            SodKind::Dynamic => &mut self.dsd,
        }
    }

    fn sod_set(&self, kind: SodKind, name: &str) -> Result<&SodSet> {
        self.sod(kind)
            .sets
            .get(name)
            .ok_or_else(|| RbacError::UnknownSet {
                kind,
                set: name.to_owned(),
            })
    }

    /// Fails if the current users (static) or sessions (dynamic) violate `set`.
    fn check_candidate(&self, kind: SodKind, name: &str, set: &SodSet) -> Result<()> {
        match kind {
            SodKind::Static => {
                for (user, user_name) in self.users.iter() {
                    if set.violated_by(&self.authorized_bits(user)) {
                        return Err(RbacError::SsdViolation {
                            set: name.to_owned(),
                            user: user_name.to_owned(),
                        });
                    }
                }
            }
            SodKind::Dynamic => {
                for (id, session) in self.live_sessions() {
                    if set.violated_by(&session.roles) {
                        return Err(RbacError::DsdViolation {
                            set: name.to_owned(),
                            user: self.user_name_string(session.user),
                            session: Some(id),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    fn check_cardinality(kind: SodKind, name: &str, cardinality: u32, roles: usize) -> Result<()> {
        if cardinality < 2 || cardinality as usize > roles {
            return Err(RbacError::InvalidCardinality {
                kind,
                set: name.to_owned(),
                cardinality,
                roles,
            });
        }
        Ok(())
    }

    fn create_sod_set(
        &mut self,
        kind: SodKind,
        name: &str,
        roles: &[&str],
        cardinality: u32,
    ) -> Result<()> {
        if self.sod(kind).sets.contains_key(name) {
            return Err(RbacError::DuplicateSet {
                kind,
                set: name.to_owned(),
            });
        }
        let mut members = BitSet::new();
        for role in roles {
            members.insert(self.role_index(role)?);
        }
        Self::check_cardinality(kind, name, cardinality, members.len())?;
        let set = SodSet {
            roles: members,
            cardinality,
        };
        self.check_candidate(kind, name, &set)?;
        self.sod_mut(kind).sets.insert(name.to_owned(), set);
        Ok(())
    }

    fn add_sod_member(&mut self, kind: SodKind, name: &str, role: &str) -> Result<()> {
        let set = self.sod_set(kind, name)?;
        let r = self.role_index(role)?;
        if set.roles.contains(r) {
            return Err(RbacError::AlreadyMember {
                kind,
                set: name.to_owned(),
                role: role.to_owned(),
            });
        }
        let mut candidate = set.clone();
        candidate.roles.insert(r);
        self.check_candidate(kind, name, &candidate)?;
        if let Some(set) = self.sod_mut(kind).sets.get_mut(name) {
            *set = candidate;
        }
        Ok(())
    }

    fn delete_sod_member(&mut self, kind: SodKind, name: &str, role: &str) -> Result<()> {
        let set = self.sod_set(kind, name)?;
        let r = self.role_index(role)?;
        if !set.roles.contains(r) {
            return Err(RbacError::NotMember {
                kind,
                set: name.to_owned(),
                role: role.to_owned(),
            });
        }
        Self::check_cardinality(kind, name, set.cardinality, set.roles.len() - 1)?;
        if let Some(set) = self.sod_mut(kind).sets.get_mut(name) {
            set.roles.remove(r);
        }
        Ok(())
    }

    fn delete_sod_set(&mut self, kind: SodKind, name: &str) -> Result<()> {
        self.sod_mut(kind)
            .sets
            .remove(name)
            .map(drop)
            .ok_or_else(|| RbacError::UnknownSet {
                kind,
                set: name.to_owned(),
            })
    }

    fn set_sod_cardinality(&mut self, kind: SodKind, name: &str, cardinality: u32) -> Result<()> {
        let set = self.sod_set(kind, name)?;
        Self::check_cardinality(kind, name, cardinality, set.roles.len())?;
        let candidate = SodSet {
            roles: set.roles.clone(),
            cardinality,
        };
        if cardinality < set.cardinality {
            self.check_candidate(kind, name, &candidate)?;
        }
        if let Some(set) = self.sod_mut(kind).sets.get_mut(name) {
            *set = candidate;
        }
        Ok(())
    }

    fn sod_set_roles(&self, kind: SodKind, name: &str) -> Result<impl Iterator<Item = &str> + '_> {
        let set = self.sod_set(kind, name)?;
        Ok(set.roles.iter().filter_map(|role| self.roles.name(role)))
    }

    // ----- static SoD ----------------------------------------------------------------

    /// CreateSsdSet: no user may be authorized for `cardinality` or more of `roles`
    /// (`2 ≤ cardinality ≤ |roles|`; duplicate names in `roles` count once). Rejected if a
    /// user already is.
    pub fn create_ssd_set(&mut self, name: &str, roles: &[&str], cardinality: u32) -> Result<()> {
        self.create_sod_set(SodKind::Static, name, roles, cardinality)
    }

    /// AddSsdRoleMember: adds `role` to the set; rejected if a user would then violate it.
    pub fn add_ssd_role_member(&mut self, set: &str, role: &str) -> Result<()> {
        self.add_sod_member(SodKind::Static, set, role)
    }

    /// DeleteSsdRoleMember: removes `role` from the set; the set must keep at least
    /// `cardinality` roles.
    pub fn delete_ssd_role_member(&mut self, set: &str, role: &str) -> Result<()> {
        self.delete_sod_member(SodKind::Static, set, role)
    }

    /// DeleteSsdSet.
    pub fn delete_ssd_set(&mut self, set: &str) -> Result<()> {
        self.delete_sod_set(SodKind::Static, set)
    }

    /// SetSsdSetCardinality: `2 ≤ cardinality ≤ |roles|`; lowering it is rejected if a user
    /// would then violate the set.
    pub fn set_ssd_set_cardinality(&mut self, set: &str, cardinality: u32) -> Result<()> {
        self.set_sod_cardinality(SodKind::Static, set, cardinality)
    }

    /// SsdRoleSets: the names of all SSD sets, in name order.
    pub fn ssd_role_sets(&self) -> impl Iterator<Item = &str> + '_ {
        self.ssd.sets.keys().map(String::as_str)
    }

    /// SsdRoleSetRoles: the roles of an SSD set.
    pub fn ssd_role_set_roles(&self, set: &str) -> Result<impl Iterator<Item = &str> + '_> {
        self.sod_set_roles(SodKind::Static, set)
    }

    /// SsdRoleSetCardinality.
    pub fn ssd_role_set_cardinality(&self, set: &str) -> Result<u32> {
        Ok(self.sod_set(SodKind::Static, set)?.cardinality)
    }

    // ----- dynamic SoD ---------------------------------------------------------------

    /// CreateDsdSet: no session may have `cardinality` or more of `roles` in effect (active
    /// or inherited from an active role). Rejected if a running session already has.
    pub fn create_dsd_set(&mut self, name: &str, roles: &[&str], cardinality: u32) -> Result<()> {
        self.create_sod_set(SodKind::Dynamic, name, roles, cardinality)
    }

    /// AddDsdRoleMember: adds `role`; rejected if a running session would then violate the set.
    pub fn add_dsd_role_member(&mut self, set: &str, role: &str) -> Result<()> {
        self.add_sod_member(SodKind::Dynamic, set, role)
    }

    /// DeleteDsdRoleMember: the set must keep at least `cardinality` roles.
    pub fn delete_dsd_role_member(&mut self, set: &str, role: &str) -> Result<()> {
        self.delete_sod_member(SodKind::Dynamic, set, role)
    }

    /// DeleteDsdSet.
    pub fn delete_dsd_set(&mut self, set: &str) -> Result<()> {
        self.delete_sod_set(SodKind::Dynamic, set)
    }

    /// SetDsdSetCardinality: `2 ≤ cardinality ≤ |roles|`; lowering it is rejected if a
    /// running session would then violate the set.
    pub fn set_dsd_set_cardinality(&mut self, set: &str, cardinality: u32) -> Result<()> {
        self.set_sod_cardinality(SodKind::Dynamic, set, cardinality)
    }

    /// DsdRoleSets: the names of all DSD sets, in name order.
    pub fn dsd_role_sets(&self) -> impl Iterator<Item = &str> + '_ {
        self.dsd.sets.keys().map(String::as_str)
    }

    /// DsdRoleSetRoles: the roles of a DSD set.
    pub fn dsd_role_set_roles(&self, set: &str) -> Result<impl Iterator<Item = &str> + '_> {
        self.sod_set_roles(SodKind::Dynamic, set)
    }

    /// DsdRoleSetCardinality.
    pub fn dsd_role_set_cardinality(&self, set: &str) -> Result<u32> {
        Ok(self.sod_set(SodKind::Dynamic, set)?.cardinality)
    }
}
