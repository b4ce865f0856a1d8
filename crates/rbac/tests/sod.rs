//! Static and dynamic separation of duty: set administration, review, and enforcement through
//! the hierarchy.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::{engine, names, snapshot};
use portcullis_rbac::{RbacError, SodKind};

#[test]
fn ssd_set_administration_and_review() {
    let mut rbac = engine(&["a", "b", "c"], &[]);
    rbac.create_ssd_set("s", &["a", "b", "b"], 2).unwrap();
    assert_eq!(names(rbac.ssd_role_sets()), ["s"]);
    assert_eq!(names(rbac.ssd_role_set_roles("s").unwrap()), ["a", "b"]);
    assert_eq!(rbac.ssd_role_set_cardinality("s").unwrap(), 2);
    assert_eq!(
        rbac.create_ssd_set("s", &["a", "b"], 2),
        Err(RbacError::DuplicateSet {
            kind: SodKind::Static,
            set: "s".into()
        })
    );
    assert_eq!(
        rbac.create_ssd_set("t", &["a", "x"], 2),
        Err(RbacError::UnknownRole("x".into()))
    );
    assert_eq!(
        rbac.create_ssd_set("t", &["a", "b"], 1),
        Err(RbacError::InvalidCardinality {
            kind: SodKind::Static,
            set: "t".into(),
            cardinality: 1,
            roles: 2
        })
    );
    assert!(matches!(
        rbac.create_ssd_set("t", &["a", "b"], 3),
        Err(RbacError::InvalidCardinality { .. })
    ));
    assert!(matches!(
        rbac.create_ssd_set("t", &[], 2),
        Err(RbacError::InvalidCardinality { roles: 0, .. })
    ));
    rbac.add_ssd_role_member("s", "c").unwrap();
    assert_eq!(
        rbac.add_ssd_role_member("s", "c"),
        Err(RbacError::AlreadyMember {
            kind: SodKind::Static,
            set: "s".into(),
            role: "c".into()
        })
    );
    rbac.set_ssd_set_cardinality("s", 3).unwrap();
    assert!(matches!(
        rbac.set_ssd_set_cardinality("s", 4),
        Err(RbacError::InvalidCardinality { .. })
    ));
    // Removing a member would leave 2 roles for cardinality 3.
    assert!(matches!(
        rbac.delete_ssd_role_member("s", "c"),
        Err(RbacError::InvalidCardinality { .. })
    ));
    rbac.set_ssd_set_cardinality("s", 2).unwrap();
    rbac.delete_ssd_role_member("s", "c").unwrap();
    assert_eq!(
        rbac.delete_ssd_role_member("s", "c"),
        Err(RbacError::NotMember {
            kind: SodKind::Static,
            set: "s".into(),
            role: "c".into()
        })
    );
    rbac.delete_ssd_set("s").unwrap();
    assert!(rbac.ssd_role_sets().next().is_none());
    let unknown = RbacError::UnknownSet {
        kind: SodKind::Static,
        set: "s".into(),
    };
    assert_eq!(rbac.delete_ssd_set("s"), Err(unknown.clone()));
    assert_eq!(rbac.ssd_role_set_cardinality("s"), Err(unknown.clone()));
    assert!(rbac.ssd_role_set_roles("s").is_err());
    assert_eq!(rbac.add_ssd_role_member("s", "a"), Err(unknown.clone()));
    assert_eq!(rbac.set_ssd_set_cardinality("s", 2), Err(unknown));
}

#[test]
fn ssd_blocks_direct_assignment() {
    let mut rbac = engine(&["clerk", "approver"], &["bob"]);
    rbac.create_ssd_set("pay", &["clerk", "approver"], 2)
        .unwrap();
    rbac.assign_user("bob", "clerk").unwrap();
    let before = snapshot(&rbac);
    assert_eq!(
        rbac.assign_user("bob", "approver"),
        Err(RbacError::SsdViolation {
            set: "pay".into(),
            user: "bob".into()
        })
    );
    assert_eq!(snapshot(&rbac), before);
}

#[test]
fn ssd_through_inheritance_on_assignment() {
    // "lead" inherits "dev" and "qa"; "ops" is assigned. {dev, qa, ops} may hold at most 2.
    let mut rbac = engine(&["lead", "dev", "qa", "ops"], &["carol"]);
    rbac.add_inheritance("lead", "dev").unwrap();
    rbac.add_inheritance("lead", "qa").unwrap();
    rbac.create_ssd_set("three", &["dev", "qa", "ops"], 3)
        .unwrap();
    rbac.assign_user("carol", "ops").unwrap();
    let before = snapshot(&rbac);
    // Neither "dev" nor "qa" is in the assignment, only inherited through "lead".
    assert_eq!(
        rbac.assign_user("carol", "lead"),
        Err(RbacError::SsdViolation {
            set: "three".into(),
            user: "carol".into()
        })
    );
    assert_eq!(snapshot(&rbac), before);
    // Without "ops", "lead" alone is fine.
    rbac.deassign_user("carol", "ops").unwrap();
    rbac.assign_user("carol", "lead").unwrap();
}

#[test]
fn ssd_checked_on_hierarchy_changes() {
    let mut rbac = engine(&["top", "mid", "a", "b"], &["dave"]);
    rbac.create_ssd_set("ab", &["a", "b"], 2).unwrap();
    rbac.add_inheritance("top", "mid").unwrap();
    rbac.add_inheritance("top", "a").unwrap();
    rbac.assign_user("dave", "top").unwrap();
    let before = snapshot(&rbac);
    // Would authorize dave for "b" through top ≫ mid ≫ b while he already has "a".
    assert_eq!(
        rbac.add_inheritance("mid", "b"),
        Err(RbacError::SsdViolation {
            set: "ab".into(),
            user: "dave".into()
        })
    );
    assert_eq!(snapshot(&rbac), before);
    rbac.add_ascendant("boss", "top").unwrap();
    rbac.add_inheritance("boss", "b").unwrap();
    // Nobody is assigned to "boss", so that was fine; assigning dave to it is not.
    assert!(matches!(
        rbac.assign_user("dave", "boss"),
        Err(RbacError::SsdViolation { .. })
    ));
}

#[test]
fn ssd_checked_when_sets_change() {
    let mut rbac = engine(&["a", "b", "c"], &["erin"]);
    rbac.add_inheritance("a", "b").unwrap();
    rbac.assign_user("erin", "a").unwrap();
    let before = snapshot(&rbac);
    assert_eq!(
        rbac.create_ssd_set("ab", &["a", "b"], 2),
        Err(RbacError::SsdViolation {
            set: "ab".into(),
            user: "erin".into()
        })
    );
    rbac.create_ssd_set("bc", &["b", "c"], 2).unwrap();
    let with_set = snapshot(&rbac);
    assert!(matches!(
        rbac.add_ssd_role_member("bc", "a"),
        Err(RbacError::SsdViolation { .. })
    ));
    assert_eq!(snapshot(&rbac), with_set);
    rbac.delete_ssd_set("bc").unwrap();
    assert_eq!(snapshot(&rbac), before);
    rbac.create_ssd_set("abc", &["a", "b", "c"], 3).unwrap();
    assert!(matches!(
        rbac.set_ssd_set_cardinality("abc", 2),
        Err(RbacError::SsdViolation { .. })
    ));
    assert_eq!(rbac.ssd_role_set_cardinality("abc").unwrap(), 3);
}

#[test]
fn dsd_set_administration_and_review() {
    let mut rbac = engine(&["a", "b", "c"], &[]);
    rbac.create_dsd_set("d", &["a", "b", "c"], 3).unwrap();
    assert_eq!(names(rbac.dsd_role_sets()), ["d"]);
    assert_eq!(
        names(rbac.dsd_role_set_roles("d").unwrap()),
        ["a", "b", "c"]
    );
    assert_eq!(rbac.dsd_role_set_cardinality("d").unwrap(), 3);
    rbac.set_dsd_set_cardinality("d", 2).unwrap();
    rbac.delete_dsd_role_member("d", "c").unwrap();
    rbac.add_dsd_role_member("d", "c").unwrap();
    assert_eq!(
        rbac.create_dsd_set("d", &["a", "b"], 2),
        Err(RbacError::DuplicateSet {
            kind: SodKind::Dynamic,
            set: "d".into()
        })
    );
    rbac.delete_dsd_set("d").unwrap();
    assert_eq!(
        rbac.dsd_role_set_cardinality("d"),
        Err(RbacError::UnknownSet {
            kind: SodKind::Dynamic,
            set: "d".into()
        })
    );
    // SSD and DSD namespaces are separate.
    rbac.create_ssd_set("same", &["a", "b"], 2).unwrap();
    rbac.create_dsd_set("same", &["a", "b"], 2).unwrap();
}

#[test]
fn dsd_at_session_creation_and_activation() {
    let mut rbac = engine(&["cashier", "auditor", "other"], &["frank"]);
    for role in ["cashier", "auditor", "other"] {
        rbac.assign_user("frank", role).unwrap();
    }
    rbac.create_dsd_set("till", &["cashier", "auditor"], 2)
        .unwrap();
    assert_eq!(
        rbac.create_session("frank", &["cashier", "auditor"]),
        Err(RbacError::DsdViolation {
            set: "till".into(),
            user: "frank".into(),
            session: None
        })
    );
    let session = rbac.create_session("frank", &["cashier", "other"]).unwrap();
    assert_eq!(
        rbac.add_active_role(session, "auditor"),
        Err(RbacError::DsdViolation {
            set: "till".into(),
            user: "frank".into(),
            session: Some(session)
        })
    );
    assert_eq!(
        names(rbac.session_roles(session).unwrap()),
        ["cashier", "other"]
    );
    rbac.drop_active_role(session, "cashier").unwrap();
    rbac.add_active_role(session, "auditor").unwrap();
    // Another session of the same user may hold the other role: DSD is per session.
    let second = rbac.create_session("frank", &["cashier"]).unwrap();
    assert_ne!(second, session);
}

#[test]
fn dsd_counts_roles_inherited_by_an_active_role() {
    let mut rbac = engine(&["supervisor", "cashier", "auditor"], &["gina"]);
    rbac.add_inheritance("supervisor", "cashier").unwrap();
    rbac.add_inheritance("supervisor", "auditor").unwrap();
    rbac.assign_user("gina", "supervisor").unwrap();
    rbac.create_dsd_set("till", &["cashier", "auditor"], 2)
        .unwrap();
    // One active role, but it carries both duties.
    assert!(matches!(
        rbac.create_session("gina", &["supervisor"]),
        Err(RbacError::DsdViolation { .. })
    ));
    let session = rbac.create_session("gina", &["cashier"]).unwrap();
    assert!(matches!(
        rbac.add_active_role(session, "supervisor"),
        Err(RbacError::DsdViolation { .. })
    ));
}

#[test]
fn dsd_checked_on_hierarchy_and_set_changes_against_running_sessions() {
    let mut rbac = engine(&["senior", "a", "b"], &["hank"]);
    rbac.add_inheritance("senior", "a").unwrap();
    rbac.assign_user("hank", "senior").unwrap();
    rbac.assign_user("hank", "b").unwrap();
    let session = rbac.create_session("hank", &["senior", "b"]).unwrap();
    let before = snapshot(&rbac);
    assert_eq!(
        rbac.create_dsd_set("ab", &["a", "b"], 2),
        Err(RbacError::DsdViolation {
            set: "ab".into(),
            user: "hank".into(),
            session: Some(session)
        })
    );
    assert_eq!(snapshot(&rbac), before);
    rbac.drop_active_role(session, "b").unwrap();
    rbac.create_dsd_set("ab", &["a", "b"], 2).unwrap();
    // Making the active senior inherit "b" would put both in effect.
    assert!(matches!(
        rbac.add_inheritance("senior", "b"),
        Err(RbacError::DsdViolation { .. })
    ));
    rbac.create_dsd_set("sb", &["senior", "b"], 2).unwrap();
    rbac.delete_dsd_set("sb").unwrap();
    rbac.create_dsd_set("wide", &["senior", "a", "b"], 3)
        .unwrap();
    assert!(matches!(
        rbac.set_dsd_set_cardinality("wide", 2),
        Err(RbacError::DsdViolation { .. })
    ));
    rbac.delete_dsd_set("wide").unwrap();
    rbac.create_dsd_set("sb", &["senior", "b"], 2).unwrap();
    rbac.delete_dsd_role_member("ab", "a").unwrap_err(); // would leave 1 role for cardinality 2
    assert!(matches!(
        rbac.add_dsd_role_member("sb", "a"),
        Err(RbacError::DsdViolation { .. })
    ));
}
