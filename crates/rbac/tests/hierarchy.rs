//! General role hierarchy: inheritance edges, cycle rejection, closure maintenance,
//! authorized users and roles, inherited permissions.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::{engine, names, perms, snapshot};
use portcullis_rbac::RbacError;

#[test]
fn senior_inherits_permissions_of_all_juniors() {
    let mut rbac = engine(&["a", "b", "c", "d"], &[]);
    // a ≫ b ≫ d, a ≫ c ≫ d (a diamond)
    rbac.add_inheritance("a", "b").unwrap();
    rbac.add_inheritance("a", "c").unwrap();
    rbac.add_inheritance("b", "d").unwrap();
    rbac.add_inheritance("c", "d").unwrap();
    for (role, op) in [("a", "pa"), ("b", "pb"), ("c", "pc"), ("d", "pd")] {
        rbac.grant_permission(role, op, "o").unwrap();
    }
    assert_eq!(
        perms(rbac.role_permissions("a").unwrap()),
        ["o.pa", "o.pb", "o.pc", "o.pd"]
    );
    assert_eq!(perms(rbac.role_permissions("b").unwrap()), ["o.pb", "o.pd"]);
    assert_eq!(perms(rbac.role_permissions("d").unwrap()), ["o.pd"]);
    assert_eq!(perms(rbac.role_granted_permissions("a").unwrap()), ["o.pa"]);
    assert!(rbac.inherits("a", "d").unwrap());
    assert!(rbac.inherits("d", "d").unwrap());
    assert!(!rbac.inherits("d", "a").unwrap());
    assert!(!rbac.inherits("b", "c").unwrap());
}

#[test]
fn self_edge_and_cycles_are_rejected_and_change_nothing() {
    let mut rbac = engine(&["a", "b", "c"], &["u"]);
    rbac.add_inheritance("a", "b").unwrap();
    rbac.add_inheritance("b", "c").unwrap();
    rbac.grant_permission("c", "op", "obj").unwrap();
    rbac.assign_user("u", "a").unwrap();
    let before = snapshot(&rbac);
    assert_eq!(
        rbac.add_inheritance("a", "a"),
        Err(RbacError::Cycle {
            senior: "a".into(),
            junior: "a".into()
        })
    );
    assert_eq!(
        rbac.add_inheritance("c", "a"),
        Err(RbacError::Cycle {
            senior: "c".into(),
            junior: "a".into()
        })
    );
    assert!(matches!(
        rbac.add_inheritance("b", "a"),
        Err(RbacError::Cycle { .. })
    ));
    assert_eq!(
        rbac.add_inheritance("a", "b"),
        Err(RbacError::InheritanceExists {
            senior: "a".into(),
            junior: "b".into()
        })
    );
    assert_eq!(snapshot(&rbac), before);
    // A redundant edge (already implied) is allowed.
    rbac.add_inheritance("a", "c").unwrap();
}

#[test]
fn delete_inheritance_keeps_other_paths() {
    let mut rbac = engine(&["a", "b", "c"], &["u"]);
    rbac.add_inheritance("a", "b").unwrap();
    rbac.add_inheritance("b", "c").unwrap();
    rbac.add_inheritance("a", "c").unwrap();
    rbac.grant_permission("c", "op", "obj").unwrap();
    rbac.delete_inheritance("a", "c").unwrap();
    assert!(rbac.inherits("a", "c").unwrap());
    assert_eq!(perms(rbac.role_permissions("a").unwrap()), ["obj.op"]);
    rbac.delete_inheritance("b", "c").unwrap();
    assert!(!rbac.inherits("a", "c").unwrap());
    assert!(perms(rbac.role_permissions("a").unwrap()).is_empty());
    assert_eq!(
        rbac.delete_inheritance("b", "c"),
        Err(RbacError::NoInheritance {
            senior: "b".into(),
            junior: "c".into()
        })
    );
    assert!(matches!(
        rbac.delete_inheritance("x", "c"),
        Err(RbacError::UnknownRole(_))
    ));
}

#[test]
fn delete_inheritance_deactivates_roles_no_longer_authorized() {
    let mut rbac = engine(&["a", "b"], &["u"]);
    rbac.add_inheritance("a", "b").unwrap();
    rbac.grant_permission("b", "op", "obj").unwrap();
    rbac.assign_user("u", "a").unwrap();
    let junior_only = rbac.create_session("u", &["b"]).unwrap();
    let senior = rbac.create_session("u", &["a"]).unwrap();
    rbac.delete_inheritance("a", "b").unwrap();
    assert!(rbac.session_roles(junior_only).unwrap().next().is_none());
    assert!(!rbac.check_access(junior_only, "op", "obj").unwrap());
    assert_eq!(names(rbac.session_roles(senior).unwrap()), ["a"]);
    assert!(!rbac.check_access(senior, "op", "obj").unwrap());
}

#[test]
fn add_inheritance_reaches_running_sessions() {
    let mut rbac = engine(&["a", "b", "c"], &["u"]);
    rbac.grant_permission("c", "op", "obj").unwrap();
    rbac.assign_user("u", "a").unwrap();
    let session = rbac.create_session("u", &["a"]).unwrap();
    rbac.add_inheritance("b", "c").unwrap();
    assert!(!rbac.check_access(session, "op", "obj").unwrap());
    rbac.add_inheritance("a", "b").unwrap();
    assert!(rbac.check_access(session, "op", "obj").unwrap());
    assert_eq!(
        names(rbac.session_effective_roles(session).unwrap()),
        ["a", "b", "c"]
    );
}

#[test]
fn authorized_users_and_roles() {
    let mut rbac = engine(&["a", "b", "c", "lone"], &["u", "v", "w"]);
    rbac.add_inheritance("a", "b").unwrap();
    rbac.add_inheritance("b", "c").unwrap();
    rbac.assign_user("u", "a").unwrap();
    rbac.assign_user("v", "b").unwrap();
    rbac.assign_user("w", "lone").unwrap();
    assert_eq!(names(rbac.authorized_roles("u").unwrap()), ["a", "b", "c"]);
    assert_eq!(names(rbac.authorized_roles("v").unwrap()), ["b", "c"]);
    assert_eq!(names(rbac.authorized_users("c").unwrap()), ["u", "v"]);
    assert_eq!(names(rbac.authorized_users("a").unwrap()), ["u"]);
    assert_eq!(names(rbac.authorized_users("lone").unwrap()), ["w"]);
    assert_eq!(names(rbac.assigned_users("c").unwrap()), Vec::<&str>::new());
    assert!(matches!(
        rbac.authorized_roles("x"),
        Err(RbacError::UnknownUser(_))
    ));
    assert!(matches!(
        rbac.authorized_users("x"),
        Err(RbacError::UnknownRole(_))
    ));
}

#[test]
fn add_ascendant_and_descendant() {
    let mut rbac = engine(&["mid"], &[]);
    rbac.grant_permission("mid", "op", "obj").unwrap();
    let top = rbac.add_ascendant("top", "mid").unwrap();
    assert_eq!(rbac.role_name(top), Some("top"));
    rbac.add_descendant("mid", "bottom").unwrap();
    rbac.grant_permission("bottom", "low", "obj").unwrap();
    assert_eq!(
        perms(rbac.role_permissions("top").unwrap()),
        ["obj.low", "obj.op"]
    );
    assert_eq!(names(rbac.immediate_juniors("top").unwrap()), ["mid"]);
    assert_eq!(names(rbac.immediate_seniors("bottom").unwrap()), ["mid"]);
    let before = snapshot(&rbac);
    assert_eq!(
        rbac.add_ascendant("top", "mid"),
        Err(RbacError::DuplicateRole("top".into()))
    );
    assert_eq!(
        rbac.add_ascendant("new", "missing"),
        Err(RbacError::UnknownRole("missing".into()))
    );
    assert_eq!(
        rbac.add_descendant("missing", "new"),
        Err(RbacError::UnknownRole("missing".into()))
    );
    assert_eq!(
        rbac.add_descendant("top", "mid"),
        Err(RbacError::DuplicateRole("mid".into()))
    );
    assert_eq!(snapshot(&rbac), before);
    assert!(rbac.role_id("new").is_none());
}

#[test]
fn deep_chain_does_not_overflow_the_stack() {
    let mut rbac = engine(&[], &[]);
    rbac.add_role("r0").unwrap();
    for i in 1..20_000 {
        rbac.add_ascendant(&format!("r{i}"), &format!("r{}", i - 1))
            .unwrap();
    }
    rbac.grant_permission("r0", "op", "obj").unwrap();
    // Forces a full closure rebuild over the whole chain.
    rbac.delete_inheritance("r1", "r0").unwrap();
    assert!(rbac.inherits("r19999", "r1").unwrap());
    assert!(!rbac.inherits("r19999", "r0").unwrap());
}
