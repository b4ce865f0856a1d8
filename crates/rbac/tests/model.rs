//! Property test: the engine against a naive reference model.
//!
//! The model keeps plain lists (users, roles, assignment pairs, grant triples, edges, SoD
//! sets, sessions) and computes everything from scratch on every query: inheritance by
//! recursion over the edges, authorization, permissions. It states the constraints globally
//! — an operation is applied to a copy, sessions are pruned to authorized roles, and if any
//! user breaks an SSD set or any session a DSD set the copy is thrown away — rather than
//! checking the specific change as the engine does. Both are fed the same random operations
//! (random DAGs, assignments, grants, sessions, SoD sets); after each one they must agree on
//! success or failure and on every review function and access check over the whole universe.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use std::collections::BTreeSet;

use portcullis_rbac::{Rbac, SessionId};
use proptest::prelude::*;

const USERS: [&str; 4] = ["u0", "u1", "u2", "u3"];
const ROLES: [&str; 7] = ["r0", "r1", "r2", "r3", "r4", "r5", "r6"];
const OPS: [&str; 3] = ["o0", "o1", "o2"];
const OBJS: [&str; 2] = ["b0", "b1"];
const SETS: [&str; 2] = ["s0", "s1"];

#[derive(Debug, Clone)]
enum Op {
    AddUser(usize),
    DeleteUser(usize),
    AddRole(usize),
    DeleteRole(usize),
    Assign(usize, usize),
    Deassign(usize, usize),
    Grant(usize, usize, usize),
    Revoke(usize, usize, usize),
    AddInheritance(usize, usize),
    DeleteInheritance(usize, usize),
    AddAscendant(usize, usize),
    AddDescendant(usize, usize),
    CreateSession(usize, Vec<usize>),
    DeleteSession(usize),
    AddActiveRole(usize, usize),
    DropActiveRole(usize, usize),
    CreateSet(bool, usize, Vec<usize>, u32),
    AddMember(bool, usize, usize),
    DeleteMember(bool, usize, usize),
    DeleteSet(bool, usize),
    SetCardinality(bool, usize, u32),
    // Targeted forms, resolved against the model's state into the forms above so that
    // removals and activations hit existing entries often enough.
    DeassignExisting(usize),
    RevokeExisting(usize),
    DeleteExistingInheritance(usize),
    SessionWithAuthorizedRoles(usize, Vec<usize>),
    ActivateAuthorized(usize, usize),
    DropExistingActive(usize, usize),
    DeleteExistingMember(bool, usize, usize),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let user = 0..USERS.len();
    let role = || 0..ROLES.len();
    let set = 0..SETS.len();
    let roles = proptest::collection::vec(0..ROLES.len(), 0..3);
    let set_roles = proptest::collection::vec(0..ROLES.len(), 2..5);
    prop_oneof![
        1 => user.clone().prop_map(Op::AddUser),
        1 => user.clone().prop_map(Op::DeleteUser),
        1 => role().prop_map(Op::AddRole),
        1 => role().prop_map(Op::DeleteRole),
        12 => (user.clone(), role()).prop_map(|(u, r)| Op::Assign(u, r)),
        2 => (user.clone(), role()).prop_map(|(u, r)| Op::Deassign(u, r)),
        16 => (role(), 0..OPS.len(), 0..OBJS.len()).prop_map(|(r, o, b)| Op::Grant(r, o, b)),
        2 => (role(), 0..OPS.len(), 0..OBJS.len()).prop_map(|(r, o, b)| Op::Revoke(r, o, b)),
        12 => (role(), role()).prop_map(|(s, j)| Op::AddInheritance(s, j)),
        2 => (role(), role()).prop_map(|(s, j)| Op::DeleteInheritance(s, j)),
        1 => (role(), role()).prop_map(|(a, d)| Op::AddAscendant(a, d)),
        1 => (role(), role()).prop_map(|(a, d)| Op::AddDescendant(a, d)),
        5 => (user.clone(), roles.clone()).prop_map(|(u, rs)| Op::CreateSession(u, rs)),
        1 => any::<usize>().prop_map(Op::DeleteSession),
        5 => (any::<usize>(), role()).prop_map(|(s, r)| Op::AddActiveRole(s, r)),
        2 => (any::<usize>(), role()).prop_map(|(s, r)| Op::DropActiveRole(s, r)),
        3 => (any::<bool>(), set.clone(), set_roles, 1..5u32)
            .prop_map(|(k, s, rs, n)| Op::CreateSet(k, s, rs, n)),
        1 => (any::<bool>(), set.clone(), role()).prop_map(|(k, s, r)| Op::AddMember(k, s, r)),
        1 => (any::<bool>(), set.clone(), role()).prop_map(|(k, s, r)| Op::DeleteMember(k, s, r)),
        1 => (any::<bool>(), set.clone()).prop_map(|(k, s)| Op::DeleteSet(k, s)),
        1 => (any::<bool>(), set.clone(), 0..5u32).prop_map(|(k, s, n)| Op::SetCardinality(k, s, n)),
        2 => any::<usize>().prop_map(Op::DeassignExisting),
        2 => any::<usize>().prop_map(Op::RevokeExisting),
        2 => any::<usize>().prop_map(Op::DeleteExistingInheritance),
        8 => (user.clone(), proptest::collection::vec(any::<usize>(), 1..3))
            .prop_map(|(u, picks)| Op::SessionWithAuthorizedRoles(u, picks)),
        6 => (any::<usize>(), any::<usize>()).prop_map(|(s, k)| Op::ActivateAuthorized(s, k)),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(s, k)| Op::DropExistingActive(s, k)),
        1 => (any::<bool>(), set, any::<usize>())
            .prop_map(|(d, s, k)| Op::DeleteExistingMember(d, s, k)),
    ]
}

#[derive(Debug, Clone)]
struct Set {
    name: String,
    roles: Vec<String>,
    cardinality: u32,
}

#[derive(Debug, Clone)]
struct Session {
    user: String,
    active: Vec<String>,
}

/// The naive model: lists, and recursion on every query.
#[derive(Debug, Clone, Default)]
struct Model {
    users: Vec<String>,
    roles: Vec<String>,
    assignments: Vec<(String, String)>,
    grants: Vec<(String, String, String)>,
    edges: Vec<(String, String)>,
    ssd: Vec<Set>,
    dsd: Vec<Set>,
    sessions: Vec<Option<Session>>,
}

impl Model {
    fn has_user(&self, user: &str) -> bool {
        self.users.iter().any(|u| u == user)
    }

    fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// `senior ≥ junior`.
    fn inherits(&self, senior: &str, junior: &str) -> bool {
        senior == junior
            || self
                .edges
                .iter()
                .any(|(s, j)| s == senior && self.inherits(j, junior))
    }

    fn authorized_roles(&self, user: &str) -> BTreeSet<String> {
        self.roles
            .iter()
            .filter(|role| {
                self.assignments
                    .iter()
                    .any(|(u, assigned)| u == user && self.inherits(assigned, role))
            })
            .cloned()
            .collect()
    }

    fn authorized_users(&self, role: &str) -> BTreeSet<String> {
        self.users
            .iter()
            .filter(|user| self.authorized_roles(user).contains(role))
            .cloned()
            .collect()
    }

    fn permissions_of_roles(&self, roles: &BTreeSet<String>) -> BTreeSet<(String, String)> {
        self.grants
            .iter()
            .filter(|(role, _, _)| roles.contains(role))
            .map(|(_, op, obj)| (op.clone(), obj.clone()))
            .collect()
    }

    fn role_permissions(&self, role: &str) -> BTreeSet<(String, String)> {
        let juniors = self
            .roles
            .iter()
            .filter(|r| self.inherits(role, r))
            .cloned()
            .collect();
        self.permissions_of_roles(&juniors)
    }

    fn user_permissions(&self, user: &str) -> BTreeSet<(String, String)> {
        self.permissions_of_roles(&self.authorized_roles(user))
    }

    fn session_effective_roles(&self, session: &Session) -> BTreeSet<String> {
        self.roles
            .iter()
            .filter(|role| session.active.iter().any(|a| self.inherits(a, role)))
            .cloned()
            .collect()
    }

    fn violates(set: &Set, roles: &BTreeSet<String>) -> bool {
        set.roles.iter().filter(|r| roles.contains(*r)).count() >= set.cardinality as usize
    }

    fn constraints_hold(&self) -> bool {
        let ssd_ok = self.users.iter().all(|user| {
            let authorized = self.authorized_roles(user);
            self.ssd.iter().all(|set| !Self::violates(set, &authorized))
        });
        let dsd_ok = self.sessions.iter().flatten().all(|session| {
            let roles = self.session_effective_roles(session);
            self.dsd.iter().all(|set| !Self::violates(set, &roles))
        });
        ssd_ok && dsd_ok
    }

    /// Sessions keep only roles their user is authorized for.
    fn prune(&mut self) {
        let snapshot = self.clone();
        for session in self.sessions.iter_mut().flatten() {
            let authorized = snapshot.authorized_roles(&session.user);
            session.active.retain(|role| authorized.contains(role));
        }
    }

    fn sets_mut(&mut self, dynamic: bool) -> &mut Vec<Set> {
        if dynamic {
            &mut self.dsd
        } else {
            &mut self.ssd
        }
    }

    /// Applies `op`; `false` (and no change) if the standard's preconditions fail or the
    /// result would break a constraint.
    fn apply(&mut self, op: &Op) -> bool {
        let mut next = self.clone();
        if !next.apply_unchecked(op) {
            return false;
        }
        next.prune();
        if !next.constraints_hold() {
            return false;
        }
        *self = next;
        true
    }

    fn apply_unchecked(&mut self, op: &Op) -> bool {
        match op {
            Op::DeassignExisting(_)
            | Op::RevokeExisting(_)
            | Op::DeleteExistingInheritance(_)
            | Op::SessionWithAuthorizedRoles(..)
            | Op::ActivateAuthorized(..)
            | Op::DropExistingActive(..)
            | Op::DeleteExistingMember(..) => unreachable!("normalised away"),
            Op::AddUser(u) => {
                let user = USERS[*u];
                if self.has_user(user) {
                    return false;
                }
                self.users.push(user.into());
            }
            Op::DeleteUser(u) => {
                let user = USERS[*u];
                if !self.has_user(user) {
                    return false;
                }
                self.users.retain(|x| x != user);
                self.assignments.retain(|(x, _)| x != user);
                for slot in &mut self.sessions {
                    if slot.as_ref().is_some_and(|s| s.user == user) {
                        *slot = None;
                    }
                }
            }
            Op::AddRole(r) => {
                let role = ROLES[*r];
                if self.has_role(role) {
                    return false;
                }
                self.roles.push(role.into());
            }
            Op::DeleteRole(r) => {
                let role = ROLES[*r];
                if !self.has_role(role) {
                    return false;
                }
                self.roles.retain(|x| x != role);
                self.assignments.retain(|(_, x)| x != role);
                self.grants.retain(|(x, _, _)| x != role);
                self.edges.retain(|(s, j)| s != role && j != role);
                for set in self.ssd.iter_mut().chain(self.dsd.iter_mut()) {
                    set.roles.retain(|x| x != role);
                }
                self.ssd
                    .retain(|set| set.roles.len() >= set.cardinality as usize);
                self.dsd
                    .retain(|set| set.roles.len() >= set.cardinality as usize);
                for session in self.sessions.iter_mut().flatten() {
                    session.active.retain(|x| x != role);
                }
            }
            Op::Assign(u, r) => {
                let pair = (USERS[*u].to_owned(), ROLES[*r].to_owned());
                if !self.has_user(&pair.0)
                    || !self.has_role(&pair.1)
                    || self.assignments.contains(&pair)
                {
                    return false;
                }
                self.assignments.push(pair);
            }
            Op::Deassign(u, r) => {
                let pair = (USERS[*u].to_owned(), ROLES[*r].to_owned());
                if !self.assignments.contains(&pair) {
                    return false;
                }
                self.assignments.retain(|x| *x != pair);
            }
            Op::Grant(r, o, b) => {
                let grant = (
                    ROLES[*r].to_owned(),
                    OPS[*o].to_owned(),
                    OBJS[*b].to_owned(),
                );
                if !self.has_role(&grant.0) || self.grants.contains(&grant) {
                    return false;
                }
                self.grants.push(grant);
            }
            Op::Revoke(r, o, b) => {
                let grant = (
                    ROLES[*r].to_owned(),
                    OPS[*o].to_owned(),
                    OBJS[*b].to_owned(),
                );
                if !self.grants.contains(&grant) {
                    return false;
                }
                self.grants.retain(|x| *x != grant);
            }
            Op::AddInheritance(s, j) => {
                let edge = (ROLES[*s].to_owned(), ROLES[*j].to_owned());
                if !self.has_role(&edge.0)
                    || !self.has_role(&edge.1)
                    || self.inherits(&edge.1, &edge.0)
                    || self.edges.contains(&edge)
                {
                    return false;
                }
                self.edges.push(edge);
            }
            Op::DeleteInheritance(s, j) => {
                let edge = (ROLES[*s].to_owned(), ROLES[*j].to_owned());
                if !self.edges.contains(&edge) {
                    return false;
                }
                self.edges.retain(|x| *x != edge);
            }
            Op::AddAscendant(a, d) => {
                let (ascendant, descendant) = (ROLES[*a], ROLES[*d]);
                if !self.has_role(descendant) || self.has_role(ascendant) {
                    return false;
                }
                self.roles.push(ascendant.into());
                self.edges.push((ascendant.into(), descendant.into()));
            }
            Op::AddDescendant(a, d) => {
                let (ascendant, descendant) = (ROLES[*a], ROLES[*d]);
                if !self.has_role(ascendant) || self.has_role(descendant) {
                    return false;
                }
                self.roles.push(descendant.into());
                self.edges.push((ascendant.into(), descendant.into()));
            }
            Op::CreateSession(u, roles) => {
                let user = USERS[*u];
                if !self.has_user(user) {
                    return false;
                }
                let authorized = self.authorized_roles(user);
                let mut active: Vec<String> = Vec::new();
                for r in roles {
                    let role = ROLES[*r];
                    if !authorized.contains(role) {
                        return false; // unknown or not authorized
                    }
                    if !active.iter().any(|x| x == role) {
                        active.push(role.into());
                    }
                }
                self.sessions.push(Some(Session {
                    user: user.into(),
                    active,
                }));
            }
            Op::DeleteSession(index) => {
                let Some(slot) = self.sessions.get_mut(*index) else {
                    return false;
                };
                if slot.is_none() {
                    return false;
                }
                *slot = None;
            }
            Op::AddActiveRole(index, r) => {
                let role = ROLES[*r];
                let Some(Some(session)) = self.sessions.get(*index) else {
                    return false;
                };
                if session.active.iter().any(|x| x == role)
                    || !self.authorized_roles(&session.user).contains(role)
                {
                    return false;
                }
                if let Some(Some(session)) = self.sessions.get_mut(*index) {
                    session.active.push(role.into());
                }
            }
            Op::DropActiveRole(index, r) => {
                let role = ROLES[*r];
                let Some(Some(session)) = self.sessions.get_mut(*index) else {
                    return false;
                };
                if !session.active.iter().any(|x| x == role) {
                    return false;
                }
                session.active.retain(|x| x != role);
            }
            Op::CreateSet(dynamic, s, roles, n) => {
                let name = SETS[*s];
                if self.sets_mut(*dynamic).iter().any(|set| set.name == name) {
                    return false;
                }
                let mut members: Vec<String> = Vec::new();
                for r in roles {
                    let role = ROLES[*r];
                    if !self.has_role(role) {
                        return false;
                    }
                    if !members.iter().any(|x| x == role) {
                        members.push(role.into());
                    }
                }
                if *n < 2 || *n as usize > members.len() {
                    return false;
                }
                self.sets_mut(*dynamic).push(Set {
                    name: name.into(),
                    roles: members,
                    cardinality: *n,
                });
            }
            Op::AddMember(dynamic, s, r) => {
                let role = ROLES[*r];
                let known = self.has_role(role);
                let Some(set) = self
                    .sets_mut(*dynamic)
                    .iter_mut()
                    .find(|x| x.name == SETS[*s])
                else {
                    return false;
                };
                if !known || set.roles.iter().any(|x| x == role) {
                    return false;
                }
                set.roles.push(role.into());
            }
            Op::DeleteMember(dynamic, s, r) => {
                let role = ROLES[*r];
                let Some(set) = self
                    .sets_mut(*dynamic)
                    .iter_mut()
                    .find(|x| x.name == SETS[*s])
                else {
                    return false;
                };
                if !set.roles.iter().any(|x| x == role)
                    || set.roles.len() - 1 < set.cardinality as usize
                {
                    return false;
                }
                set.roles.retain(|x| x != role);
            }
            Op::DeleteSet(dynamic, s) => {
                let sets = self.sets_mut(*dynamic);
                let before = sets.len();
                sets.retain(|x| x.name != SETS[*s]);
                if sets.len() == before {
                    return false;
                }
            }
            Op::SetCardinality(dynamic, s, n) => {
                let Some(set) = self
                    .sets_mut(*dynamic)
                    .iter_mut()
                    .find(|x| x.name == SETS[*s])
                else {
                    return false;
                };
                if *n < 2 || *n as usize > set.roles.len() {
                    return false;
                }
                set.cardinality = *n;
            }
        }
        true
    }
}

fn role_index(name: &str) -> usize {
    ROLES.iter().position(|r| *r == name).unwrap_or(0)
}

fn user_index(name: &str) -> usize {
    USERS.iter().position(|u| *u == name).unwrap_or(0)
}

fn nth<T: Clone>(items: &[T], index: usize) -> Option<T> {
    items.get(index.checked_rem(items.len())?).cloned()
}

/// Resolves session indices (drawn from all of `usize`) onto the sessions created so far,
/// live or deleted, and the targeted forms onto concrete names. With nothing to pick from,
/// an operation that must fail is produced (an index past the end, or a no-op pair).
fn normalise(op: &Op, model: &Model) -> Op {
    let sessions = model.sessions.len();
    let pick = |index: usize| index.checked_rem(sessions).unwrap_or(0);
    let session = |index: usize| model.sessions.get(pick(index)).cloned().flatten();
    match op {
        Op::DeleteSession(index) => Op::DeleteSession(pick(*index)),
        Op::AddActiveRole(index, r) => Op::AddActiveRole(pick(*index), *r),
        Op::DropActiveRole(index, r) => Op::DropActiveRole(pick(*index), *r),
        Op::DeassignExisting(k) => match nth(&model.assignments, *k) {
            Some((u, r)) => Op::Deassign(user_index(&u), role_index(&r)),
            None => Op::Deassign(0, 0),
        },
        Op::RevokeExisting(k) => match nth(&model.grants, *k) {
            Some((r, o, b)) => Op::Revoke(
                role_index(&r),
                OPS.iter().position(|x| *x == o).unwrap_or(0),
                OBJS.iter().position(|x| *x == b).unwrap_or(0),
            ),
            None => Op::Revoke(0, 0, 0),
        },
        Op::DeleteExistingInheritance(k) => match nth(&model.edges, *k) {
            Some((s, j)) => Op::DeleteInheritance(role_index(&s), role_index(&j)),
            None => Op::DeleteInheritance(0, 0),
        },
        Op::SessionWithAuthorizedRoles(u, picks) => {
            let authorized: Vec<String> = model.authorized_roles(USERS[*u]).into_iter().collect();
            let roles = picks
                .iter()
                .filter_map(|k| nth(&authorized, *k))
                .map(|r| role_index(&r))
                .collect();
            Op::CreateSession(*u, roles)
        }
        Op::ActivateAuthorized(index, k) => {
            let role = session(*index).and_then(|s| {
                let authorized: Vec<String> = model.authorized_roles(&s.user).into_iter().collect();
                nth(&authorized, *k)
            });
            Op::AddActiveRole(pick(*index), role.map_or(0, |r| role_index(&r)))
        }
        Op::DropExistingActive(index, k) => {
            let role = session(*index).and_then(|s| nth(&s.active, *k));
            Op::DropActiveRole(pick(*index), role.map_or(0, |r| role_index(&r)))
        }
        Op::DeleteExistingMember(dynamic, s, k) => {
            let sets = if *dynamic { &model.dsd } else { &model.ssd };
            let role = sets
                .iter()
                .find(|set| set.name == SETS[*s])
                .and_then(|set| nth(&set.roles, *k));
            Op::DeleteMember(*dynamic, *s, role.map_or(0, |r| role_index(&r)))
        }
        other => other.clone(),
    }
}

/// Applies `op` to the engine; session indices refer to `ids` (every session ever created).
fn apply_engine(rbac: &mut Rbac, ids: &mut Vec<SessionId>, op: &Op) -> bool {
    let session = |index: &usize| ids.get(*index).copied();
    match op {
        Op::DeassignExisting(_)
        | Op::RevokeExisting(_)
        | Op::DeleteExistingInheritance(_)
        | Op::SessionWithAuthorizedRoles(..)
        | Op::ActivateAuthorized(..)
        | Op::DropExistingActive(..)
        | Op::DeleteExistingMember(..) => unreachable!("normalised away"),
        Op::AddUser(u) => rbac.add_user(USERS[*u]).is_ok(),
        Op::DeleteUser(u) => rbac.delete_user(USERS[*u]).is_ok(),
        Op::AddRole(r) => rbac.add_role(ROLES[*r]).is_ok(),
        Op::DeleteRole(r) => rbac.delete_role(ROLES[*r]).is_ok(),
        Op::Assign(u, r) => rbac.assign_user(USERS[*u], ROLES[*r]).is_ok(),
        Op::Deassign(u, r) => rbac.deassign_user(USERS[*u], ROLES[*r]).is_ok(),
        Op::Grant(r, o, b) => rbac.grant_permission(ROLES[*r], OPS[*o], OBJS[*b]).is_ok(),
        Op::Revoke(r, o, b) => rbac.revoke_permission(ROLES[*r], OPS[*o], OBJS[*b]).is_ok(),
        Op::AddInheritance(s, j) => rbac.add_inheritance(ROLES[*s], ROLES[*j]).is_ok(),
        Op::DeleteInheritance(s, j) => rbac.delete_inheritance(ROLES[*s], ROLES[*j]).is_ok(),
        Op::AddAscendant(a, d) => rbac.add_ascendant(ROLES[*a], ROLES[*d]).is_ok(),
        Op::AddDescendant(a, d) => rbac.add_descendant(ROLES[*a], ROLES[*d]).is_ok(),
        Op::CreateSession(u, roles) => {
            let roles: Vec<&str> = roles.iter().map(|r| ROLES[*r]).collect();
            match rbac.create_session(USERS[*u], &roles) {
                Ok(id) => {
                    ids.push(id);
                    true
                }
                Err(_) => false,
            }
        }
        Op::DeleteSession(index) => {
            session(index).is_some_and(|id| rbac.delete_session(id).is_ok())
        }
        Op::AddActiveRole(index, r) => {
            session(index).is_some_and(|id| rbac.add_active_role(id, ROLES[*r]).is_ok())
        }
        Op::DropActiveRole(index, r) => {
            session(index).is_some_and(|id| rbac.drop_active_role(id, ROLES[*r]).is_ok())
        }
        Op::CreateSet(dynamic, s, roles, n) => {
            let roles: Vec<&str> = roles.iter().map(|r| ROLES[*r]).collect();
            if *dynamic {
                rbac.create_dsd_set(SETS[*s], &roles, *n).is_ok()
            } else {
                rbac.create_ssd_set(SETS[*s], &roles, *n).is_ok()
            }
        }
        Op::AddMember(true, s, r) => rbac.add_dsd_role_member(SETS[*s], ROLES[*r]).is_ok(),
        Op::AddMember(false, s, r) => rbac.add_ssd_role_member(SETS[*s], ROLES[*r]).is_ok(),
        Op::DeleteMember(true, s, r) => rbac.delete_dsd_role_member(SETS[*s], ROLES[*r]).is_ok(),
        Op::DeleteMember(false, s, r) => rbac.delete_ssd_role_member(SETS[*s], ROLES[*r]).is_ok(),
        Op::DeleteSet(true, s) => rbac.delete_dsd_set(SETS[*s]).is_ok(),
        Op::DeleteSet(false, s) => rbac.delete_ssd_set(SETS[*s]).is_ok(),
        Op::SetCardinality(true, s, n) => rbac.set_dsd_set_cardinality(SETS[*s], *n).is_ok(),
        Op::SetCardinality(false, s, n) => rbac.set_ssd_set_cardinality(SETS[*s], *n).is_ok(),
    }
}

fn set_of<'a>(iter: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    iter.map(str::to_owned).collect()
}

fn perm_set<'a>(
    iter: impl Iterator<Item = portcullis_rbac::PermissionRef<'a>>,
) -> BTreeSet<(String, String)> {
    iter.map(|p| (p.operation.to_owned(), p.object.to_owned()))
        .collect()
}

/// Every observable answer of the engine and the model must agree.
fn compare(rbac: &Rbac, model: &Model, ids: &[SessionId]) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        set_of(rbac.users()),
        model.users.iter().cloned().collect::<BTreeSet<_>>()
    );
    prop_assert_eq!(
        set_of(rbac.roles()),
        model.roles.iter().cloned().collect::<BTreeSet<_>>()
    );
    for user in USERS {
        let known = model.has_user(user);
        prop_assert_eq!(rbac.authorized_roles(user).is_ok(), known);
        if !known {
            continue;
        }
        prop_assert_eq!(
            set_of(rbac.authorized_roles(user).unwrap()),
            model.authorized_roles(user)
        );
        let assigned: BTreeSet<String> = model
            .assignments
            .iter()
            .filter(|(u, _)| u == user)
            .map(|(_, r)| r.clone())
            .collect();
        prop_assert_eq!(set_of(rbac.assigned_roles(user).unwrap()), assigned);
        let permissions = model.user_permissions(user);
        prop_assert_eq!(
            perm_set(rbac.user_permissions(user).unwrap()),
            permissions.clone()
        );
        for op in OPS {
            for obj in OBJS {
                let expected = permissions.contains(&(op.to_owned(), obj.to_owned()));
                prop_assert_eq!(rbac.user_has_permission(user, op, obj).unwrap(), expected);
            }
        }
    }
    for role in ROLES {
        let known = model.has_role(role);
        prop_assert_eq!(rbac.role_permissions(role).is_ok(), known);
        if !known {
            continue;
        }
        prop_assert_eq!(
            perm_set(rbac.role_permissions(role).unwrap()),
            model.role_permissions(role)
        );
        prop_assert_eq!(
            set_of(rbac.authorized_users(role).unwrap()),
            model.authorized_users(role)
        );
        let assigned: BTreeSet<String> = model
            .assignments
            .iter()
            .filter(|(_, r)| r == role)
            .map(|(u, _)| u.clone())
            .collect();
        prop_assert_eq!(set_of(rbac.assigned_users(role).unwrap()), assigned);
        for junior in ROLES {
            if model.has_role(junior) {
                prop_assert_eq!(
                    rbac.inherits(role, junior).unwrap(),
                    model.inherits(role, junior)
                );
            }
        }
    }
    prop_assert_eq!(ids.len(), model.sessions.len());
    for (id, session) in ids.iter().zip(&model.sessions) {
        let Some(session) = session else {
            prop_assert!(rbac.session_roles(*id).is_err());
            prop_assert!(rbac.check_access(*id, OPS[0], OBJS[0]).is_err());
            continue;
        };
        prop_assert_eq!(
            set_of(rbac.session_roles(*id).unwrap()),
            session.active.iter().cloned().collect::<BTreeSet<_>>()
        );
        let effective = model.session_effective_roles(session);
        prop_assert_eq!(
            set_of(rbac.session_effective_roles(*id).unwrap()),
            effective.clone()
        );
        let permissions = model.permissions_of_roles(&effective);
        prop_assert_eq!(
            perm_set(rbac.session_permissions(*id).unwrap()),
            permissions.clone()
        );
        for op in OPS.iter().chain(&["never"]) {
            for obj in OBJS.iter().chain(&["nothing"]) {
                let expected = permissions.contains(&((*op).to_owned(), (*obj).to_owned()));
                prop_assert_eq!(rbac.check_access(*id, op, obj).unwrap(), expected);
                if let Some(permission) = rbac.permission_id(op, obj) {
                    prop_assert_eq!(rbac.check_access_id(*id, permission).unwrap(), expected);
                }
            }
        }
    }
    for (dynamic, sets) in [(false, &model.ssd), (true, &model.dsd)] {
        let names: BTreeSet<String> = sets.iter().map(|s| s.name.clone()).collect();
        let engine_names = if dynamic {
            set_of(rbac.dsd_role_sets())
        } else {
            set_of(rbac.ssd_role_sets())
        };
        prop_assert_eq!(engine_names, names);
        for set in sets {
            let (roles, cardinality) = if dynamic {
                (
                    set_of(rbac.dsd_role_set_roles(&set.name).unwrap()),
                    rbac.dsd_role_set_cardinality(&set.name).unwrap(),
                )
            } else {
                (
                    set_of(rbac.ssd_role_set_roles(&set.name).unwrap()),
                    rbac.ssd_role_set_cardinality(&set.name).unwrap(),
                )
            };
            prop_assert_eq!(roles, set.roles.iter().cloned().collect::<BTreeSet<_>>());
            prop_assert_eq!(cardinality, set.cardinality);
        }
    }
    Ok(())
}

// 256 cases by default (proptest's default); more with e.g. `PROPTEST_CASES=5000`.
proptest! {

    #[test]
    fn engine_agrees_with_naive_model(ops in proptest::collection::vec(op_strategy(), 1..150)) {
        let mut rbac = Rbac::new();
        let mut model = Model::default();
        let mut ids = Vec::new();
        // Start with every user and role present; the random operations delete and re-add some.
        let setup = (0..USERS.len()).map(Op::AddUser).chain((0..ROLES.len()).map(Op::AddRole));
        for op in setup {
            prop_assert!(model.apply(&op) && apply_engine(&mut rbac, &mut ids, &op));
        }
        for (step, op) in ops.iter().enumerate() {
            let op = &normalise(op, &model);
            let expected = model.apply(op);
            let got = apply_engine(&mut rbac, &mut ids, op);
            prop_assert_eq!(got, expected, "step {}: {:?}", step, op);
            compare(&rbac, &model, &ids)?;
        }
    }
}
