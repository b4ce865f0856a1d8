//! Review and advanced review functions: user and role permissions with inheritance,
//! operations on an object, the session-less check.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::{engine, names, perms};
use portcullis_rbac::{Rbac, RbacError};

fn library() -> Rbac {
    let mut rbac = engine(
        &["librarian", "reader", "archivist"],
        &["lena", "rick", "idle"],
    );
    rbac.add_inheritance("librarian", "reader").unwrap();
    rbac.grant_permission("reader", "borrow", "book").unwrap();
    rbac.grant_permission("reader", "read", "book").unwrap();
    rbac.grant_permission("librarian", "catalogue", "book")
        .unwrap();
    rbac.grant_permission("archivist", "restore", "scroll")
        .unwrap();
    rbac.grant_permission("archivist", "read", "scroll")
        .unwrap();
    rbac.assign_user("lena", "librarian").unwrap();
    rbac.assign_user("lena", "archivist").unwrap();
    rbac.assign_user("rick", "reader").unwrap();
    rbac
}

#[test]
fn role_permissions_with_and_without_inheritance() {
    let rbac = library();
    assert_eq!(
        perms(rbac.role_permissions("librarian").unwrap()),
        ["book.borrow", "book.catalogue", "book.read"]
    );
    assert_eq!(
        perms(rbac.role_granted_permissions("librarian").unwrap()),
        ["book.catalogue"]
    );
    assert!(matches!(
        rbac.role_permissions("x"),
        Err(RbacError::UnknownRole(_))
    ));
}

#[test]
fn user_permissions_union_all_authorized_roles() {
    let rbac = library();
    assert_eq!(
        perms(rbac.user_permissions("lena").unwrap()),
        [
            "book.borrow",
            "book.catalogue",
            "book.read",
            "scroll.read",
            "scroll.restore"
        ]
    );
    assert_eq!(
        perms(rbac.user_permissions("rick").unwrap()),
        ["book.borrow", "book.read"]
    );
    assert!(perms(rbac.user_permissions("idle").unwrap()).is_empty());
    assert!(matches!(
        rbac.user_permissions("x"),
        Err(RbacError::UnknownUser(_))
    ));
}

#[test]
fn operations_on_object() {
    let rbac = library();
    assert_eq!(
        names(rbac.role_operations_on_object("librarian", "book").unwrap()),
        ["borrow", "catalogue", "read"]
    );
    assert!(
        names(
            rbac.role_operations_on_object("librarian", "scroll")
                .unwrap()
        )
        .is_empty()
    );
    assert!(
        names(
            rbac.role_operations_on_object("librarian", "nothing")
                .unwrap()
        )
        .is_empty()
    );
    assert_eq!(
        names(rbac.user_operations_on_object("lena", "scroll").unwrap()),
        ["read", "restore"]
    );
    assert_eq!(
        names(rbac.user_operations_on_object("rick", "book").unwrap()),
        ["borrow", "read"]
    );
    assert!(matches!(
        rbac.user_operations_on_object("x", "book"),
        Err(RbacError::UnknownUser(_))
    ));
    assert!(matches!(
        rbac.role_operations_on_object("x", "book"),
        Err(RbacError::UnknownRole(_))
    ));
}

#[test]
fn user_has_permission_without_a_session() {
    let rbac = library();
    assert!(rbac.user_has_permission("lena", "borrow", "book").unwrap());
    assert!(
        rbac.user_has_permission("lena", "restore", "scroll")
            .unwrap()
    );
    assert!(
        !rbac
            .user_has_permission("rick", "catalogue", "book")
            .unwrap()
    );
    assert!(!rbac.user_has_permission("rick", "fly", "kite").unwrap());
    assert!(matches!(
        rbac.user_has_permission("x", "read", "book"),
        Err(RbacError::UnknownUser(_))
    ));
}

#[test]
fn listings_come_in_creation_order() {
    let rbac = library();
    assert_eq!(
        rbac.roles().collect::<Vec<_>>(),
        ["librarian", "reader", "archivist"]
    );
    assert_eq!(rbac.users().collect::<Vec<_>>(), ["lena", "rick", "idle"]);
    assert_eq!(
        rbac.assigned_roles("lena").unwrap().collect::<Vec<_>>(),
        ["librarian", "archivist"]
    );
}
