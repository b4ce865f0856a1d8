//! Helpers shared by the integration tests: sorted views of the engine's iterators.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // tests may panic on failure

use portcullis_rbac::{PermissionRef, Rbac};

pub fn names<'a>(iter: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut names: Vec<&str> = iter.collect();
    names.sort_unstable();
    names
}

/// Permissions as sorted `"object.operation"` strings.
pub fn perms<'a>(iter: impl Iterator<Item = PermissionRef<'a>>) -> Vec<String> {
    let mut perms: Vec<String> = iter
        .map(|p| format!("{}.{}", p.object, p.operation))
        .collect();
    perms.sort_unstable();
    perms
}

/// An engine with the given roles and users already created.
pub fn engine(roles: &[&str], users: &[&str]) -> Rbac {
    let mut rbac = Rbac::new();
    for role in roles {
        rbac.add_role(role).unwrap();
    }
    for user in users {
        rbac.add_user(user).unwrap();
    }
    rbac
}

/// A debug snapshot of everything observable, to assert "state unchanged".
pub fn snapshot(rbac: &Rbac) -> String {
    let mut out = String::new();
    for user in names(rbac.users()) {
        out += &format!(
            "user {user}: assigned {:?} authorized {:?} perms {:?}\n",
            names(rbac.assigned_roles(user).unwrap()),
            names(rbac.authorized_roles(user).unwrap()),
            perms(rbac.user_permissions(user).unwrap()),
        );
    }
    for role in names(rbac.roles()) {
        out += &format!(
            "role {role}: juniors {:?} seniors {:?} granted {:?} perms {:?} users {:?} authorized {:?}\n",
            names(rbac.immediate_juniors(role).unwrap()),
            names(rbac.immediate_seniors(role).unwrap()),
            perms(rbac.role_granted_permissions(role).unwrap()),
            perms(rbac.role_permissions(role).unwrap()),
            names(rbac.assigned_users(role).unwrap()),
            names(rbac.authorized_users(role).unwrap()),
        );
    }
    for set in rbac.ssd_role_sets() {
        out += &format!(
            "ssd {set}: {:?} {}\n",
            names(rbac.ssd_role_set_roles(set).unwrap()),
            rbac.ssd_role_set_cardinality(set).unwrap()
        );
    }
    for set in rbac.dsd_role_sets() {
        out += &format!(
            "dsd {set}: {:?} {}\n",
            names(rbac.dsd_role_set_roles(set).unwrap()),
            rbac.dsd_role_set_cardinality(set).unwrap()
        );
    }
    out
}
