//! `Policy`: building an engine from a definition, in code and from JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::{names, perms};
use portcullis_rbac::{PermissionSpec, Policy, RbacError, split_permission};

#[test]
fn builder_builds_roles_hierarchy_users_and_sets() {
    let rbac = Policy::new()
        .role("viewer", ["article.view"], [])
        .role("editor", ["article.edit", "publish"], ["viewer"])
        .role("auditor", ["log.read"], [])
        .user("alice", ["editor"])
        .user("bob", ["auditor"])
        .ssd("edit-vs-audit", ["editor", "auditor"], 2)
        .dsd("view-vs-audit", ["viewer", "auditor"], 2)
        .build()
        .unwrap();
    assert_eq!(
        perms(rbac.role_permissions("editor").unwrap()),
        [".publish", "article.edit", "article.view"]
    );
    assert!(
        rbac.user_has_permission("alice", "view", "article")
            .unwrap()
    );
    assert!(rbac.user_has_permission("alice", "publish", "").unwrap());
    assert_eq!(names(rbac.ssd_role_sets()), ["edit-vs-audit"]);
    assert_eq!(names(rbac.dsd_role_sets()), ["view-vs-audit"]);
}

#[test]
fn build_rejects_bad_definitions() {
    assert_eq!(
        Policy::new().role("a", [], ["missing"]).build().err(),
        Some(RbacError::UnknownRole("missing".into()))
    );
    assert!(matches!(
        Policy::new()
            .role("a", [], ["b"])
            .role("b", [], ["a"])
            .build(),
        Err(RbacError::Cycle { .. })
    ));
    assert!(matches!(
        Policy::new()
            .role("a", [], [])
            .role("b", [], [])
            .role("both", [], ["a", "b"])
            .ssd("ab", ["a", "b"], 2)
            .user("u", ["both"])
            .build(),
        Err(RbacError::SsdViolation { .. })
    ));
    assert_eq!(
        Policy::new().user("u", ["nope"]).build().err(),
        Some(RbacError::UnknownRole("nope".into()))
    );
}

#[test]
fn repeats_are_harmless() {
    let rbac = Policy::new()
        .role("a", ["x.y", "x.y"], [])
        .role("b", [], ["a", "a"])
        .user("u", ["b", "b"])
        .build()
        .unwrap();
    assert_eq!(names(rbac.assigned_roles("u").unwrap()), ["b"]);
}

#[test]
fn permission_strings() {
    assert_eq!(split_permission("article.edit"), ("edit", "article"));
    assert_eq!(split_permission("a.b.c"), ("c", "a.b"));
    assert_eq!(split_permission("admin"), ("admin", ""));
    assert_eq!(split_permission(""), ("", ""));
    let explicit = PermissionSpec::Explicit {
        operation: "get.all".into(),
        object: "v1.users".into(),
    };
    assert_eq!(explicit.parts(), ("get.all", "v1.users"));
}

#[cfg(feature = "serde")]
#[test]
fn loads_from_json() {
    let policy: Policy = serde_json::from_str(
        r#"{
            "roles": {
                "viewer": { "permissions": ["article.view"] },
                "editor": {
                    "permissions": ["article.edit", { "operation": "export", "object": "v1.pdf" }],
                    "inherits": ["viewer"]
                },
                "author": {},
                "reviewer": {}
            },
            "users": { "alice": ["editor"], "rob": ["reviewer"] },
            "ssd": { "author-vs-reviewer": { "roles": ["author", "reviewer"], "cardinality": 2 } }
        }"#,
    )
    .unwrap();
    let mut rbac = policy.build().unwrap();
    let session = rbac.create_session("alice", &["editor"]).unwrap();
    assert!(rbac.check_access(session, "view", "article").unwrap());
    assert!(rbac.check_access(session, "export", "v1.pdf").unwrap());
    assert!(matches!(
        rbac.assign_user("rob", "author"),
        Err(RbacError::SsdViolation { .. })
    ));
    // Round trip.
    let text = serde_json::to_string(&policy).unwrap();
    assert_eq!(serde_json::from_str::<Policy>(&text).unwrap(), policy);
}

#[cfg(feature = "serde")]
#[test]
fn json_rejects_unknown_keys() {
    let error = serde_json::from_str::<Policy>(r#"{ "role": {} }"#).unwrap_err();
    assert!(error.to_string().contains("unknown field"), "{error}");
    let error = serde_json::from_str::<Policy>(r#"{ "roles": { "a": { "inherit": ["b"] } } }"#)
        .unwrap_err();
    assert!(error.to_string().contains("unknown field"), "{error}");
}
