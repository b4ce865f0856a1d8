//! Sessions: creation, deletion, role activation and deactivation, access checks.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::{engine, names, perms};
use portcullis_rbac::{Rbac, RbacError};

fn office() -> Rbac {
    let mut rbac = engine(&["manager", "staff", "guest"], &["ann", "ben"]);
    rbac.add_inheritance("manager", "staff").unwrap();
    rbac.grant_permission("staff", "read", "memo").unwrap();
    rbac.grant_permission("manager", "sign", "memo").unwrap();
    rbac.grant_permission("guest", "read", "lobby").unwrap();
    rbac.assign_user("ann", "manager").unwrap();
    rbac.assign_user("ben", "guest").unwrap();
    rbac
}

#[test]
fn create_session_and_check_access() {
    let mut rbac = office();
    let session = rbac.create_session("ann", &["manager"]).unwrap();
    assert_eq!(rbac.session_user(session).unwrap(), "ann");
    assert!(rbac.check_access(session, "sign", "memo").unwrap());
    assert!(rbac.check_access(session, "read", "memo").unwrap()); // inherited
    assert!(!rbac.check_access(session, "read", "lobby").unwrap());
    assert!(!rbac.check_access(session, "never", "named").unwrap());
    assert!(
        !rbac
            .check_access(session, "read", "unknown-object")
            .unwrap()
    );
    assert_eq!(names(rbac.session_roles(session).unwrap()), ["manager"]);
    assert_eq!(
        names(rbac.session_effective_roles(session).unwrap()),
        ["manager", "staff"]
    );
    assert_eq!(
        perms(rbac.session_permissions(session).unwrap()),
        ["memo.read", "memo.sign"]
    );
    let read_memo = rbac.permission_id("read", "memo").unwrap();
    let read_lobby = rbac.permission_id("read", "lobby").unwrap();
    assert!(rbac.check_access_id(session, read_memo).unwrap());
    assert!(!rbac.check_access_id(session, read_lobby).unwrap());
}

#[test]
fn a_session_may_start_with_no_roles_or_a_junior_only() {
    let mut rbac = office();
    let empty = rbac.create_session("ann", &[]).unwrap();
    assert!(rbac.session_roles(empty).unwrap().next().is_none());
    assert!(!rbac.check_access(empty, "read", "memo").unwrap());
    let junior = rbac.create_session("ann", &["staff", "staff"]).unwrap();
    assert!(rbac.check_access(junior, "read", "memo").unwrap());
    assert!(!rbac.check_access(junior, "sign", "memo").unwrap());
}

#[test]
fn create_session_requires_authorization() {
    let mut rbac = office();
    assert_eq!(
        rbac.create_session("ben", &["staff"]),
        Err(RbacError::NotAuthorized {
            user: "ben".into(),
            role: "staff".into()
        })
    );
    assert_eq!(
        rbac.create_session("nobody", &[]),
        Err(RbacError::UnknownUser("nobody".into()))
    );
    assert_eq!(
        rbac.create_session("ann", &["ghost"]),
        Err(RbacError::UnknownRole("ghost".into()))
    );
}

#[test]
fn delete_session_and_stale_ids() {
    let mut rbac = office();
    let first = rbac.create_session("ann", &["manager"]).unwrap();
    rbac.delete_session(first).unwrap();
    assert_eq!(
        rbac.delete_session(first),
        Err(RbacError::UnknownSession(first))
    );
    // The slot is reused, but the old id does not reach the new session.
    let second = rbac.create_session("ben", &["guest"]).unwrap();
    assert_ne!(first, second);
    assert_eq!(
        rbac.check_access(first, "read", "lobby"),
        Err(RbacError::UnknownSession(first))
    );
    assert!(rbac.check_access(second, "read", "lobby").unwrap());
    assert!(rbac.session_roles(first).is_err());
    assert!(rbac.session_permissions(first).is_err());
    assert!(rbac.session_user(first).is_err());
    let read = rbac.permission_id("read", "lobby").unwrap();
    assert!(rbac.check_access_id(first, read).is_err());
    // A session id from another engine is unknown here.
    let mut other = office();
    for _ in 0..3 {
        other.create_session("ann", &[]).unwrap();
    }
    let foreign = other.create_session("ann", &[]).unwrap();
    assert_eq!(
        rbac.check_access(foreign, "read", "lobby"),
        Err(RbacError::UnknownSession(foreign))
    );
}

#[test]
fn add_and_drop_active_role() {
    let mut rbac = office();
    rbac.assign_user("ann", "guest").unwrap();
    let session = rbac.create_session("ann", &["staff"]).unwrap();
    rbac.add_active_role(session, "guest").unwrap();
    assert!(rbac.check_access(session, "read", "lobby").unwrap());
    assert_eq!(
        rbac.add_active_role(session, "guest"),
        Err(RbacError::RoleAlreadyActive {
            session,
            role: "guest".into()
        })
    );
    rbac.add_active_role(session, "manager").unwrap();
    assert!(rbac.check_access(session, "sign", "memo").unwrap());
    rbac.drop_active_role(session, "manager").unwrap();
    assert!(!rbac.check_access(session, "sign", "memo").unwrap());
    // "staff" is still active explicitly.
    assert!(rbac.check_access(session, "read", "memo").unwrap());
    assert_eq!(
        rbac.drop_active_role(session, "manager"),
        Err(RbacError::RoleNotActive {
            session,
            role: "manager".into()
        })
    );
    assert!(matches!(
        rbac.add_active_role(session, "ghost"),
        Err(RbacError::UnknownRole(_))
    ));
}

#[test]
fn add_active_role_requires_authorization() {
    let mut rbac = office();
    let session = rbac.create_session("ben", &[]).unwrap();
    assert_eq!(
        rbac.add_active_role(session, "manager"),
        Err(RbacError::NotAuthorized {
            user: "ben".into(),
            role: "manager".into()
        })
    );
    rbac.assign_user("ben", "manager").unwrap();
    rbac.add_active_role(session, "staff").unwrap();
}

#[test]
fn dropping_a_senior_keeps_an_explicitly_active_junior() {
    let mut rbac = office();
    let session = rbac.create_session("ann", &["manager", "staff"]).unwrap();
    rbac.drop_active_role(session, "manager").unwrap();
    assert!(rbac.check_access(session, "read", "memo").unwrap());
    assert!(!rbac.check_access(session, "sign", "memo").unwrap());
    assert_eq!(
        names(rbac.session_effective_roles(session).unwrap()),
        ["staff"]
    );
}
