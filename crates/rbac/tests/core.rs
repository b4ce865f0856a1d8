//! Core RBAC administrative functions: users, roles, assignment, grants, and their review
//! functions.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::{engine, names, perms, snapshot};
use portcullis_rbac::{Rbac, RbacError};

#[test]
fn add_user_and_duplicate() {
    let mut rbac = Rbac::new();
    let alice = rbac.add_user("alice").unwrap();
    assert_eq!(rbac.user_id("alice"), Some(alice));
    assert_eq!(rbac.user_name(alice), Some("alice"));
    assert_eq!(
        rbac.add_user("alice"),
        Err(RbacError::DuplicateUser("alice".into()))
    );
    assert_eq!(names(rbac.users()), ["alice"]);
}

#[test]
fn delete_user_removes_assignments_and_sessions() {
    let mut rbac = engine(&["r"], &["alice", "bob"]);
    rbac.assign_user("alice", "r").unwrap();
    rbac.assign_user("bob", "r").unwrap();
    let session = rbac.create_session("alice", &["r"]).unwrap();
    let alice = rbac.user_id("alice").unwrap();
    rbac.delete_user("alice").unwrap();
    assert_eq!(names(rbac.assigned_users("r").unwrap()), ["bob"]);
    assert_eq!(
        rbac.check_access(session, "x", "y"),
        Err(RbacError::UnknownSession(session))
    );
    assert_eq!(rbac.user_name(alice), None);
    assert_eq!(
        rbac.delete_user("alice"),
        Err(RbacError::UnknownUser("alice".into()))
    );
    // The name is free again, and the new user starts clean.
    rbac.add_user("alice").unwrap();
    assert!(rbac.assigned_roles("alice").unwrap().next().is_none());
}

#[test]
fn add_role_and_duplicate() {
    let mut rbac = Rbac::new();
    let editor = rbac.add_role("editor").unwrap();
    assert_eq!(rbac.role_id("editor"), Some(editor));
    assert_eq!(rbac.role_name(editor), Some("editor"));
    assert_eq!(
        rbac.add_role("editor"),
        Err(RbacError::DuplicateRole("editor".into()))
    );
}

#[test]
fn delete_role_cleans_assignments_grants_hierarchy_and_sod_sets() {
    let mut rbac = engine(&["top", "mid", "low", "other", "third"], &["alice"]);
    rbac.add_inheritance("top", "mid").unwrap();
    rbac.add_inheritance("mid", "low").unwrap();
    rbac.grant_permission("mid", "edit", "doc").unwrap();
    rbac.grant_permission("low", "view", "doc").unwrap();
    rbac.assign_user("alice", "mid").unwrap();
    rbac.create_ssd_set("pair", &["mid", "other"], 2).unwrap();
    rbac.create_ssd_set("triple", &["mid", "other", "third"], 2)
        .unwrap();
    rbac.create_dsd_set("dpair", &["mid", "other"], 2).unwrap();
    let mid = rbac.role_id("mid").unwrap();

    rbac.delete_role("mid").unwrap();

    assert_eq!(rbac.role_name(mid), None);
    assert!(rbac.assigned_roles("alice").unwrap().next().is_none());
    assert!(rbac.immediate_juniors("top").unwrap().next().is_none());
    assert!(rbac.immediate_seniors("low").unwrap().next().is_none());
    // "top" inherited "low" only through "mid": no longer.
    assert!(!rbac.inherits("top", "low").unwrap());
    assert!(perms(rbac.role_permissions("top").unwrap()).is_empty());
    assert_eq!(perms(rbac.role_permissions("low").unwrap()), ["doc.view"]);
    // Sets that can no longer be violated go; others just lose the role.
    assert_eq!(names(rbac.ssd_role_sets()), ["triple"]);
    assert_eq!(
        names(rbac.ssd_role_set_roles("triple").unwrap()),
        ["other", "third"]
    );
    assert!(rbac.dsd_role_sets().next().is_none());
    // A new role with the old name is a different role.
    let again = rbac.add_role("mid").unwrap();
    assert_ne!(again, mid);
    assert!(rbac.assigned_users("mid").unwrap().next().is_none());
    assert_eq!(
        rbac.delete_role("nope"),
        Err(RbacError::UnknownRole("nope".into()))
    );
}

#[test]
fn delete_role_deactivates_it_and_what_was_reached_through_it() {
    let mut rbac = engine(&["top", "mid", "low"], &["alice"]);
    rbac.add_inheritance("top", "mid").unwrap();
    rbac.add_inheritance("mid", "low").unwrap();
    rbac.grant_permission("low", "view", "doc").unwrap();
    rbac.assign_user("alice", "top").unwrap();
    let only_low = rbac.create_session("alice", &["low"]).unwrap();
    let with_mid = rbac.create_session("alice", &["mid", "top"]).unwrap();
    rbac.delete_role("mid").unwrap();
    // alice reached "low" only through "mid".
    assert!(rbac.session_roles(only_low).unwrap().next().is_none());
    assert!(!rbac.check_access(only_low, "view", "doc").unwrap());
    assert_eq!(names(rbac.session_roles(with_mid).unwrap()), ["top"]);
    assert!(!rbac.check_access(with_mid, "view", "doc").unwrap());
}

#[test]
fn assign_and_deassign_user() {
    let mut rbac = engine(&["r"], &["alice"]);
    rbac.assign_user("alice", "r").unwrap();
    assert_eq!(names(rbac.assigned_roles("alice").unwrap()), ["r"]);
    assert_eq!(names(rbac.assigned_users("r").unwrap()), ["alice"]);
    assert_eq!(
        rbac.assign_user("alice", "r"),
        Err(RbacError::AlreadyAssigned {
            user: "alice".into(),
            role: "r".into()
        })
    );
    assert_eq!(
        rbac.assign_user("bob", "r"),
        Err(RbacError::UnknownUser("bob".into()))
    );
    assert_eq!(
        rbac.assign_user("alice", "s"),
        Err(RbacError::UnknownRole("s".into()))
    );
    rbac.deassign_user("alice", "r").unwrap();
    assert!(rbac.assigned_roles("alice").unwrap().next().is_none());
    assert_eq!(
        rbac.deassign_user("alice", "r"),
        Err(RbacError::NotAssigned {
            user: "alice".into(),
            role: "r".into()
        })
    );
}

#[test]
fn deassign_deactivates_roles_no_longer_authorized() {
    let mut rbac = engine(&["senior", "junior"], &["alice"]);
    rbac.add_inheritance("senior", "junior").unwrap();
    rbac.grant_permission("junior", "read", "file").unwrap();
    rbac.assign_user("alice", "senior").unwrap();
    rbac.assign_user("alice", "junior").unwrap();
    let session = rbac.create_session("alice", &["senior", "junior"]).unwrap();
    // Still authorized for "junior" directly.
    rbac.deassign_user("alice", "senior").unwrap();
    assert_eq!(names(rbac.session_roles(session).unwrap()), ["junior"]);
    assert!(rbac.check_access(session, "read", "file").unwrap());
    rbac.deassign_user("alice", "junior").unwrap();
    assert!(rbac.session_roles(session).unwrap().next().is_none());
    assert!(!rbac.check_access(session, "read", "file").unwrap());
}

#[test]
fn grant_and_revoke_permission() {
    let mut rbac = engine(&["r"], &[]);
    assert_eq!(rbac.permission_id("edit", "doc"), None);
    rbac.grant_permission("r", "edit", "doc").unwrap();
    rbac.grant_permission("r", "view", "doc").unwrap();
    assert!(rbac.permission_id("edit", "doc").is_some());
    assert!(rbac.operation_id("edit").is_some());
    assert!(rbac.object_id("doc").is_some());
    assert_eq!(
        perms(rbac.role_granted_permissions("r").unwrap()),
        ["doc.edit", "doc.view"]
    );
    assert_eq!(
        rbac.grant_permission("r", "edit", "doc"),
        Err(RbacError::AlreadyGranted {
            role: "r".into(),
            operation: "edit".into(),
            object: "doc".into()
        })
    );
    assert_eq!(
        rbac.grant_permission("nope", "edit", "doc"),
        Err(RbacError::UnknownRole("nope".into()))
    );
    rbac.revoke_permission("r", "edit", "doc").unwrap();
    assert_eq!(perms(rbac.role_permissions("r").unwrap()), ["doc.view"]);
    let not_granted = RbacError::NotGranted {
        role: "r".into(),
        operation: "edit".into(),
        object: "doc".into(),
    };
    assert_eq!(rbac.revoke_permission("r", "edit", "doc"), Err(not_granted));
    assert!(matches!(
        rbac.revoke_permission("r", "never", "named"),
        Err(RbacError::NotGranted { .. })
    ));
}

#[test]
fn failed_grant_interns_nothing() {
    let mut rbac = engine(&["r"], &[]);
    assert!(rbac.grant_permission("missing", "fly", "kite").is_err());
    assert_eq!(rbac.operation_id("fly"), None);
    assert_eq!(rbac.object_id("kite"), None);
}

#[test]
fn grant_and_revoke_reach_running_sessions_through_the_hierarchy() {
    let mut rbac = engine(&["senior", "junior"], &["alice"]);
    rbac.add_inheritance("senior", "junior").unwrap();
    rbac.assign_user("alice", "senior").unwrap();
    let session = rbac.create_session("alice", &["senior"]).unwrap();
    assert!(!rbac.check_access(session, "view", "doc").unwrap());
    rbac.grant_permission("junior", "view", "doc").unwrap();
    assert!(rbac.check_access(session, "view", "doc").unwrap());
    rbac.grant_permission("senior", "view", "doc").unwrap();
    rbac.revoke_permission("junior", "view", "doc").unwrap();
    // Still held directly by the senior.
    assert!(rbac.check_access(session, "view", "doc").unwrap());
    rbac.revoke_permission("senior", "view", "doc").unwrap();
    assert!(!rbac.check_access(session, "view", "doc").unwrap());
}

#[test]
fn foreign_and_stale_ids_resolve_to_nothing() {
    let mut other = engine(&["a", "b", "c"], &["x", "y"]);
    other.grant_permission("c", "op", "obj").unwrap();
    let rbac = Rbac::new();
    assert_eq!(rbac.role_name(other.role_id("c").unwrap()), None);
    assert_eq!(rbac.user_name(other.user_id("y").unwrap()), None);
    assert_eq!(
        rbac.permission_name(other.permission_id("op", "obj").unwrap()),
        None
    );
    let permission = other.permission_id("op", "obj").unwrap();
    assert_eq!(
        other
            .permission_name(permission)
            .map(|p| (p.operation, p.object)),
        Some(("op", "obj"))
    );
}

#[test]
fn failed_calls_leave_state_unchanged() {
    let mut rbac = engine(&["a", "b"], &["u"]);
    rbac.assign_user("u", "a").unwrap();
    rbac.grant_permission("a", "op", "obj").unwrap();
    let before = snapshot(&rbac);
    assert!(rbac.add_user("u").is_err());
    assert!(rbac.add_role("a").is_err());
    assert!(rbac.assign_user("u", "a").is_err());
    assert!(rbac.deassign_user("u", "b").is_err());
    assert!(rbac.grant_permission("a", "op", "obj").is_err());
    assert!(rbac.revoke_permission("b", "op", "obj").is_err());
    assert!(rbac.delete_user("nobody").is_err());
    assert!(rbac.delete_role("nothing").is_err());
    assert_eq!(snapshot(&rbac), before);
}

#[test]
fn engine_is_send_and_sync() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Rbac>();
    shareable::<RbacError>();
}

#[test]
fn errors_display_names() {
    let error = RbacError::SsdViolation {
        set: "payments".into(),
        user: "bob".into(),
    };
    assert_eq!(
        error.to_string(),
        "static separation of duty: set \"payments\" forbids this for user \"bob\""
    );
}
