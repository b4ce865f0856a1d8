//! The admin API's storage methods (`src/admin.rs`), every test on SQLite and on PostgreSQL.
//!
//! PostgreSQL comes from `PORTCULLIS_TEST_PG_URL` (scripts/test starts a private server and sets
//! it); each test gets a fresh schema there and a fresh SQLite file here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use portcullis_model::import::{BuildContext, build};
use portcullis_model::records::*;
use portcullis_model::repr::*;
use portcullis_store::{
    ConnectOptions, DbTarget, Match, NameTaken, Page, Store, StoreError, TextFilter, UserConflict,
    UserQuery,
};

struct Db {
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&ConnectOptions::new(DbTarget::SqliteFile(
        dir.path().join("data/portcullis.db"),
    )))
    .await
    .expect("sqlite connect");
    Db {
        store,
        _dir: Some(dir),
    }
}

async fn postgres() -> Db {
    let url = std::env::var("PORTCULLIS_TEST_PG_URL").expect(
        "PORTCULLIS_TEST_PG_URL is not set: run the suite with scripts/test, which starts PostgreSQL for it",
    );
    let store = Store::connect(&ConnectOptions::new(DbTarget::Postgres {
        url,
        username: None,
        password: None,
        schema: Some(format!("t_{}", uuid::Uuid::new_v4().simple())),
    }))
    .await
    .expect("postgres connect");
    Db { store, _dir: None }
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::sqlite().await.store).await }) *
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::postgres().await.store).await }) *
        }
    };
}

suite!(
    user_search_filters_and_pages,
    user_search_escapes_like_wildcards,
    user_create_conflicts_and_rollback,
    user_update_replaces_attributes_and_actions,
    user_password_and_delete,
    group_tree_children_members_and_counts,
    group_create_update_conflicts_and_delete,
    realm_roles_crud_and_mappings,
    clients_page_filter_and_by_id,
    client_create_with_service_account_and_conflict,
    concurrent_updates_wait_for_each_other,
);

fn sample() -> RealmRepresentation {
    serde_json::from_value(serde_json::json!({
        "realm": "acme",
        "enabled": true,
        "roles": {
            "realm": [
                {"name": "viewer"},
                {"name": "editor", "composites": {"realm": ["viewer"]}}
            ]
        },
        "clients": [{"clientId": "worker", "secret": "w", "serviceAccountsEnabled": true}],
        "groups": [
            {"name": "staff", "realmRoles": ["viewer"], "subGroups": [
                {"name": "admins", "subGroups": [{"name": "root"}]},
                {"name": "ops"}
            ]},
            {"name": "audit", "attributes": {"k": ["v1", "v2"]}}
        ],
        "defaultGroups": ["/audit"],
        "users": [
            {"username": "alice", "email": "alice@example.com", "firstName": "Alice", "lastName": "Liddell",
             "enabled": true, "emailVerified": true, "groups": ["/staff/admins"],
             "attributes": {"dept": ["eng"]}, "requiredActions": ["VERIFY_EMAIL"]},
            {"username": "bob", "email": "bob@example.com", "firstName": "Bob", "lastName": "Builder",
             "enabled": true, "groups": ["/staff/admins", "/audit"]},
            {"username": "carol", "firstName": "Carol", "lastName": "Alison", "groups": ["/staff/admins"]},
            {"username": "dave_x", "email": "d%x@example.com", "enabled": true}
        ]
    }))
    .expect("sample realm")
}

async fn setup(store: &Store) -> RealmRecord {
    let image = build(sample(), &BuildContext { now_ms: 1 })
        .expect("valid sample")
        .image;
    store.create_realm(&image, 1).await.unwrap();
    store.get_realm("acme").await.unwrap().unwrap()
}

fn all() -> Page {
    Page { first: 0, max: 100 }
}

fn usernames(v: &[portcullis_store::UserDetails]) -> Vec<&str> {
    v.iter().map(|u| u.user.username.as_str()).collect()
}

async fn user_id(store: &Store, realm: &RealmRecord, name: &str) -> String {
    store
        .find_user_by_username(&realm.id, name)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn group_id(store: &Store, realm: &RealmRecord, parent: Option<&str>, name: &str) -> String {
    store
        .groups_page(
            &realm.id,
            parent,
            Some(&TextFilter::new(name, Match::Exact)),
            all(),
        )
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("group")
        .group
        .id
}

async fn user_search_filters_and_pages(store: Store) {
    let realm = setup(&store).await;
    let q = UserQuery::default();
    let everyone = store.search_users(&realm.id, &q, all()).await.unwrap();
    // The service account is never listed.
    assert_eq!(usernames(&everyone), ["alice", "bob", "carol", "dave_x"]);
    assert_eq!(store.count_matching_users(&realm.id, &q).await.unwrap(), 4);
    let alice = &everyone[0];
    assert_eq!(alice.attributes, [("dept".to_string(), "eng".to_string())]);
    assert_eq!(alice.required_actions, ["VERIFY_EMAIL"]);

    // `search` looks at username, email, first and last name; prefix by default.
    let any = |text: &str, mode| UserQuery {
        any: Some(TextFilter::new(text, mode)),
        ..Default::default()
    };
    let found = store
        .search_users(&realm.id, &any("AL", Match::Prefix), all())
        .await
        .unwrap();
    assert_eq!(usernames(&found), ["alice", "carol"], "carol by last name");
    let found = store
        .search_users(&realm.id, &any("li", Match::Infix), all())
        .await
        .unwrap();
    assert_eq!(usernames(&found), ["alice", "carol"]);
    let found = store
        .search_users(&realm.id, &any("SON", Match::Suffix), all())
        .await
        .unwrap();
    assert_eq!(usernames(&found), ["carol"]);
    let found = store
        .search_users(&realm.id, &any("ice", Match::Prefix), all())
        .await
        .unwrap();
    assert!(found.is_empty());
    assert_eq!(
        store
            .count_matching_users(&realm.id, &any("bob@example.com", Match::Exact))
            .await
            .unwrap(),
        1
    );

    // Field filters combine with AND; flags filter too.
    let q = UserQuery {
        first_name: Some(TextFilter::new("a", Match::Infix)),
        enabled: Some(true),
        ..Default::default()
    };
    let found = store.search_users(&realm.id, &q, all()).await.unwrap();
    assert_eq!(usernames(&found), ["alice"], "carol is disabled");
    let q = UserQuery {
        email_verified: Some(false),
        ..Default::default()
    };
    assert_eq!(store.count_matching_users(&realm.id, &q).await.unwrap(), 3);
    let q = UserQuery {
        username: Some(TextFilter::new("ALICE", Match::Exact)),
        ..Default::default()
    };
    assert_eq!(store.count_matching_users(&realm.id, &q).await.unwrap(), 1);
    let q = UserQuery {
        id: Some(alice.user.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        usernames(&store.search_users(&realm.id, &q, all()).await.unwrap()),
        ["alice"]
    );

    // Pages are cut by the database.
    let page = store
        .search_users(&realm.id, &UserQuery::default(), Page { first: 1, max: 2 })
        .await
        .unwrap();
    assert_eq!(usernames(&page), ["bob", "carol"]);
    let page = store
        .search_users(&realm.id, &UserQuery::default(), Page { first: 10, max: 2 })
        .await
        .unwrap();
    assert!(page.is_empty());
    // Another realm's id finds nothing.
    assert!(
        store
            .search_users("nope", &UserQuery::default(), all())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn user_search_escapes_like_wildcards(store: Store) {
    let realm = setup(&store).await;
    let any = |text: &str| UserQuery {
        any: Some(TextFilter::new(text, Match::Infix)),
        ..Default::default()
    };
    // `_` and `%` are literal characters, not wildcards.
    let found = store
        .search_users(&realm.id, &any("e_x"), all())
        .await
        .unwrap();
    assert_eq!(usernames(&found), ["dave_x"]);
    let found = store
        .search_users(&realm.id, &any("e_"), all())
        .await
        .unwrap();
    assert_eq!(usernames(&found), ["dave_x"]);
    let found = store
        .search_users(&realm.id, &any("%"), all())
        .await
        .unwrap();
    assert_eq!(usernames(&found), ["dave_x"], "only the email with a %");
    let found = store
        .search_users(&realm.id, &any("'; DROP TABLE user_entity; --"), all())
        .await
        .unwrap();
    assert!(found.is_empty());
    assert_eq!(
        store
            .count_matching_users(&realm.id, &UserQuery::default())
            .await
            .unwrap(),
        4
    );
}

fn new_user(realm: &RealmRecord, username: &str, email: Option<&str>) -> UserImage {
    let id = new_id();
    UserImage {
        user: UserRecord {
            id: id.clone(),
            realm_id: realm.id.clone(),
            username: username.to_string(),
            email: email.map(str::to_string),
            first_name: Some("New".into()),
            last_name: None,
            enabled: true,
            email_verified: false,
            created_timestamp: 5,
            not_before: 0,
            federation_link: None,
            service_account_client_id: None,
        },
        attributes: vec![("a".into(), "1".into()), ("a".into(), "2".into())],
        required_actions: vec!["UPDATE_PROFILE".into()],
        credentials: Vec::new(),
        group_ids: Vec::new(),
        role_ids: vec![realm.default_role_id.clone()],
    }
}

async fn user_create_conflicts_and_rollback(store: Store) {
    let realm = setup(&store).await;
    let image = new_user(&realm, "erin", Some("erin@example.com"));
    assert_eq!(store.create_user(&image, true).await.unwrap(), Ok(()));
    let got = store
        .user_details(&realm.id, &image.user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.user, image.user);
    assert_eq!(got.attributes, image.attributes);
    assert_eq!(got.required_actions, ["UPDATE_PROFILE"]);

    let again = new_user(&realm, "erin", None);
    assert_eq!(
        store.create_user(&again, true).await.unwrap(),
        Err(UserConflict::Username)
    );
    let same_email = new_user(&realm, "erin2", Some("alice@example.com"));
    assert_eq!(
        store.create_user(&same_email, true).await.unwrap(),
        Err(UserConflict::Email)
    );
    // Allowed when the realm allows duplicate emails.
    assert_eq!(store.create_user(&same_email, false).await.unwrap(), Ok(()));

    // A failure half-way (a role that does not exist) leaves no user behind.
    let mut broken = new_user(&realm, "frank", None);
    broken.role_ids.push("no-such-role".into());
    assert!(store.create_user(&broken, true).await.is_err());
    assert!(
        store
            .find_user_by_username(&realm.id, "frank")
            .await
            .unwrap()
            .is_none()
    );
}

async fn user_update_replaces_attributes_and_actions(store: Store) {
    let realm = setup(&store).await;
    let id = user_id(&store, &realm, "alice").await;
    let mut d = store.user_details(&realm.id, &id).await.unwrap().unwrap();
    d.user.first_name = Some("Alicia".into());
    d.user.enabled = false;
    let attrs = vec![("team".to_string(), "blue".to_string())];
    store
        .update_user(
            &d.user,
            Some(&attrs),
            Some(&["UPDATE_PASSWORD".to_string()]),
            true,
        )
        .await
        .unwrap()
        .unwrap();
    let got = store.user_details(&realm.id, &id).await.unwrap().unwrap();
    assert_eq!(got.user.first_name.as_deref(), Some("Alicia"));
    assert!(!got.user.enabled);
    assert_eq!(got.attributes, attrs);
    assert_eq!(got.required_actions, ["UPDATE_PASSWORD"]);

    // None keeps attributes and actions.
    store
        .update_user(&got.user, None, None, true)
        .await
        .unwrap()
        .unwrap();
    let kept = store.user_details(&realm.id, &id).await.unwrap().unwrap();
    assert_eq!(kept.attributes, attrs);

    // Taking another user's email or username is refused, and nothing changes.
    let mut clash = kept.user.clone();
    clash.email = Some("bob@example.com".into());
    clash.first_name = Some("Changed".into());
    assert_eq!(
        store.update_user(&clash, None, None, true).await.unwrap(),
        Err(UserConflict::Email)
    );
    let mut clash = kept.user.clone();
    clash.username = "bob".into();
    assert_eq!(
        store.update_user(&clash, None, None, true).await.unwrap(),
        Err(UserConflict::Username)
    );
    let after = store.user_details(&realm.id, &id).await.unwrap().unwrap();
    assert_eq!(after, kept);

    // An unknown user, or a user of another realm, is NotFound.
    let mut ghost = kept.user.clone();
    ghost.id = "ghost".into();
    assert!(matches!(
        store.update_user(&ghost, None, None, true).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn user_password_and_delete(store: Store) {
    let realm = setup(&store).await;
    let id = user_id(&store, &realm, "bob").await;
    let cred = |n: &str| CredentialRecord {
        id: new_id(),
        user_id: id.clone(),
        type_: "password".into(),
        user_label: None,
        created_date: 7,
        priority: 10,
        secret: CredentialSecret::Stored {
            secret_data: format!("{{\"value\":\"{n}\"}}"),
            credential_data: "{}".into(),
        },
    };
    store
        .change_password(&realm.id, &cred("one"), 0, true)
        .await
        .unwrap();
    assert_eq!(
        store.required_actions(&id).await.unwrap(),
        ["UPDATE_PASSWORD"]
    );
    let c2 = cred("two");
    store
        .change_password(&realm.id, &c2, 0, false)
        .await
        .unwrap();
    assert!(store.required_actions(&id).await.unwrap().is_empty());
    let creds = store.credentials(&id).await.unwrap();
    assert_eq!(creds.len(), 1, "the old password is gone");
    assert_eq!(creds[0].id, c2.id);
    // A plaintext credential is never stored.
    let mut plain = cred("x");
    plain.secret = CredentialSecret::Plain(zeroize_string("pw"));
    assert!(matches!(
        store.change_password(&realm.id, &plain, 0, false).await,
        Err(StoreError::Corrupt(_))
    ));
    // Another realm's id does not reach the user.
    assert!(matches!(
        store.change_password("other", &cred("y"), 0, false).await,
        Err(StoreError::NotFound(_))
    ));

    assert!(store.delete_user(&realm.id, &id).await.unwrap());
    assert!(!store.delete_user(&realm.id, &id).await.unwrap());
    assert!(store.user_details(&realm.id, &id).await.unwrap().is_none());
    assert!(store.credentials(&id).await.unwrap().is_empty());
}

fn zeroize_string(s: &str) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(s.to_string())
}

async fn group_tree_children_members_and_counts(store: Store) {
    let realm = setup(&store).await;
    let top = store
        .groups_page(&realm.id, None, None, all())
        .await
        .unwrap();
    let names: Vec<(&str, &str, i64)> = top
        .iter()
        .map(|g| (g.group.name.as_str(), g.path.as_str(), g.sub_group_count))
        .collect();
    assert_eq!(names, [("audit", "/audit", 0), ("staff", "/staff", 2)]);
    assert_eq!(top[0].group.attributes["k"].0, ["v1", "v2"]);

    let staff = &top[1].group.id;
    let children = store
        .groups_page(&realm.id, Some(staff), None, all())
        .await
        .unwrap();
    let paths: Vec<&str> = children.iter().map(|g| g.path.as_str()).collect();
    assert_eq!(paths, ["/staff/admins", "/staff/ops"]);
    assert_eq!(children[0].sub_group_count, 1);
    let page = store
        .groups_page(&realm.id, Some(staff), None, Page { first: 1, max: 1 })
        .await
        .unwrap();
    assert_eq!(page[0].group.name, "ops");

    let admins = group_id(&store, &realm, Some(staff), "admins").await;
    let d = store
        .group_details(&realm.id, &admins)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.path, "/staff/admins");
    assert_eq!(d.group.parent_id.as_deref(), Some(staff.as_str()));
    assert!(
        store
            .group_details("other", &admins)
            .await
            .unwrap()
            .is_none()
    );

    // Search at any level brings the ancestors along.
    let found = store
        .groups_matching(&realm.id, &TextFilter::new("roo", Match::Infix), 100)
        .await
        .unwrap();
    let paths: Vec<&str> = found.iter().map(|g| g.path.as_str()).collect();
    assert_eq!(paths, ["/staff/admins", "/staff/admins/root", "/staff"]);

    assert_eq!(store.count_groups(&realm.id, None, false).await.unwrap(), 5);
    assert_eq!(store.count_groups(&realm.id, None, true).await.unwrap(), 2);
    assert_eq!(
        store
            .count_groups(&realm.id, Some(&TextFilter::new("S", Match::Infix)), false)
            .await
            .unwrap(),
        3,
        "staff, admins, ops"
    );

    assert_eq!(
        store.default_group_ids(&realm.id).await.unwrap(),
        [top[0].group.id.clone()]
    );

    // Members, paged in SQL.
    let members = store
        .group_members(&realm.id, &admins, all())
        .await
        .unwrap();
    assert_eq!(usernames(&members), ["alice", "bob", "carol"]);
    let page = store
        .group_members(&realm.id, &admins, Page { first: 1, max: 1 })
        .await
        .unwrap();
    assert_eq!(usernames(&page), ["bob"]);
    // Keyset paging continues after a username, whatever the offset would have been.
    let next = store
        .group_members_after(&realm.id, &admins, "bob", 5)
        .await
        .unwrap();
    assert_eq!(usernames(&next), ["carol"]);
    let from_start = store
        .group_members_after(&realm.id, &admins, "", 2)
        .await
        .unwrap();
    assert_eq!(usernames(&from_start), ["alice", "bob"]);
    assert!(
        store
            .group_members_after(&realm.id, &admins, "carol", 5)
            .await
            .unwrap()
            .is_empty()
    );

    // A user's groups; join and leave.
    let bob = user_id(&store, &realm, "bob").await;
    let groups = store.user_groups(&bob, None, all()).await.unwrap();
    let paths: Vec<&str> = groups.iter().map(|g| g.path.as_str()).collect();
    assert_eq!(paths, ["/staff/admins", "/audit"]);
    let ops = group_id(&store, &realm, Some(staff), "ops").await;
    store.join_group(&bob, &ops).await.unwrap();
    store.join_group(&bob, &ops).await.unwrap();
    assert_eq!(store.user_groups(&bob, None, all()).await.unwrap().len(), 3);
    let filtered = store
        .user_groups(&bob, Some(&TextFilter::new("op", Match::Infix)), all())
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
    assert!(store.leave_group(&bob, &ops).await.unwrap());
    assert!(!store.leave_group(&bob, &ops).await.unwrap());
}

/// Transactions that read and then write, run at once on several connections, all succeed: on
/// SQLite a deferred transaction would fail with "database is locked" (SQLITE_BUSY_SNAPSHOT)
/// when another one wrote between its read and its write.
async fn concurrent_updates_wait_for_each_other(store: Store) {
    let realm = setup(&store).await;
    let id = group_id(&store, &realm, None, "audit").await;
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let store = store.clone();
        let realm_id = realm.id.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..25 {
                let g = GroupRecord {
                    id: id.clone(),
                    realm_id: realm_id.clone(),
                    parent_id: None,
                    name: "audit".into(),
                    description: Some(format!("{worker}-{n}")),
                    attributes: Default::default(),
                };
                assert_eq!(store.update_group(&g).await.expect("update"), Ok(()));
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
}

async fn group_create_update_conflicts_and_delete(store: Store) {
    let realm = setup(&store).await;
    let group = |parent: Option<&str>, name: &str| GroupRecord {
        id: new_id(),
        realm_id: realm.id.clone(),
        parent_id: parent.map(str::to_string),
        name: name.to_string(),
        description: Some("d".into()),
        attributes: Default::default(),
    };
    let eng = group(None, "eng");
    assert_eq!(store.create_group(&eng).await.unwrap(), Ok(()));
    assert_eq!(
        store.create_group(&group(None, "eng")).await.unwrap(),
        Err(NameTaken)
    );
    assert_eq!(
        store.create_group(&group(None, "staff")).await.unwrap(),
        Err(NameTaken)
    );
    let child = group(Some(&eng.id), "backend");
    assert_eq!(store.create_group(&child).await.unwrap(), Ok(()));
    // The same name under another parent is fine; a missing parent is NotFound.
    assert_eq!(
        store
            .create_group(&group(Some(&eng.id), "eng"))
            .await
            .unwrap(),
        Ok(())
    );
    assert!(matches!(
        store.create_group(&group(Some("nope"), "x")).await,
        Err(StoreError::NotFound(_))
    ));

    let mut renamed = child.clone();
    renamed.name = "platform".into();
    renamed.description = None;
    assert_eq!(store.update_group(&renamed).await.unwrap(), Ok(()));
    let d = store
        .group_details(&realm.id, &child.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.path, "/eng/platform");
    assert_eq!(d.group.description, None);
    let mut clash = renamed.clone();
    clash.name = "eng".into();
    assert_eq!(store.update_group(&clash).await.unwrap(), Err(NameTaken));
    let mut ghost = renamed.clone();
    ghost.id = "ghost".into();
    assert!(matches!(
        store.update_group(&ghost).await,
        Err(StoreError::NotFound(_))
    ));

    // Deleting a group deletes its sub-groups and memberships.
    let alice = user_id(&store, &realm, "alice").await;
    store.join_group(&alice, &child.id).await.unwrap();
    assert!(store.delete_group(&realm.id, &eng.id).await.unwrap());
    assert!(
        store
            .group_details(&realm.id, &child.id)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.user_groups(&alice, None, all()).await.unwrap().len(),
        1
    );
    assert!(!store.delete_group(&realm.id, &eng.id).await.unwrap());
}

async fn realm_roles_crud_and_mappings(store: Store) {
    let realm = setup(&store).await;
    let roles = store
        .realm_roles_page(&realm.id, None, all())
        .await
        .unwrap();
    let names: Vec<(&str, bool)> = roles
        .iter()
        .map(|r| (r.role.name.as_str(), r.composite))
        .collect();
    assert_eq!(
        names,
        [
            ("default-roles-acme", true),
            ("editor", true),
            ("offline_access", false),
            ("uma_authorization", false),
            ("viewer", false)
        ]
    );
    let found = store
        .realm_roles_page(&realm.id, Some(&TextFilter::new("ED", Match::Infix)), all())
        .await
        .unwrap();
    assert_eq!(found.len(), 1);

    let role = RoleRecord {
        id: new_id(),
        realm_id: realm.id.clone(),
        client_id: None,
        name: "publisher".into(),
        description: Some("p".into()),
        attributes: Default::default(),
    };
    assert_eq!(store.create_role(&role).await.unwrap(), Ok(()));
    let mut dup = role.clone();
    dup.id = new_id();
    assert_eq!(store.create_role(&dup).await.unwrap(), Err(NameTaken));
    let got = store
        .realm_role_details(&realm.id, "publisher")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.role, role);
    assert!(!got.composite);
    assert_eq!(
        store
            .role_details_by_id(&realm.id, &role.id)
            .await
            .unwrap()
            .unwrap()
            .role
            .name,
        "publisher"
    );
    assert!(
        store
            .role_details_by_id("x", &role.id)
            .await
            .unwrap()
            .is_none()
    );

    let mut renamed = role.clone();
    renamed.name = "writer".into();
    assert_eq!(store.update_role(&renamed).await.unwrap(), Ok(()));
    let mut clash = renamed.clone();
    clash.name = "viewer".into();
    assert_eq!(store.update_role(&clash).await.unwrap(), Err(NameTaken));

    // Mappings: grant twice is one grant; effective roles follow composites.
    let carol = user_id(&store, &realm, "carol").await;
    let editor = store
        .realm_role(&realm.id, "editor")
        .await
        .unwrap()
        .unwrap();
    store
        .grant_roles(
            &carol,
            &[renamed.id.clone(), editor.id.clone(), editor.id.clone()],
        )
        .await
        .unwrap();
    let direct: Vec<String> = store
        .user_direct_roles(&carol)
        .await
        .unwrap()
        .into_iter()
        .map(|(r, _)| r.role.name)
        .collect();
    assert_eq!(direct, ["editor", "writer"]);
    let effective: Vec<String> = store
        .effective_roles(&carol)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.client_id.is_none())
        .map(|r| r.name)
        .collect();
    assert!(effective.contains(&"viewer".to_string()));
    let ids: Vec<String> = vec![editor.id.clone(), renamed.id.clone()];
    assert_eq!(
        store.composite_roles(&ids).await.unwrap(),
        vec![editor.id.clone()]
    );
    store
        .revoke_roles(&carol, &[editor.id.clone(), "not-held".into()])
        .await
        .unwrap();
    assert_eq!(store.user_direct_roles(&carol).await.unwrap().len(), 1);

    // Deleting a role removes its grants.
    assert!(store.delete_role(&realm.id, &renamed.id).await.unwrap());
    assert!(!store.delete_role(&realm.id, &renamed.id).await.unwrap());
    assert!(store.user_direct_roles(&carol).await.unwrap().is_empty());
}

async fn clients_page_filter_and_by_id(store: Store) {
    let realm = setup(&store).await;
    let all_clients = store.clients_page(&realm.id, None, all()).await.unwrap();
    let ids: Vec<&str> = all_clients.iter().map(|c| c.client_id.as_str()).collect();
    assert!(ids.contains(&"worker"), "{ids:?}");
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);

    let exact = TextFilter::new("WORKER", Match::Exact);
    let found = store
        .clients_page(&realm.id, Some(&exact), all())
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].client_id, "worker");
    assert_eq!(found[0].secret.as_deref().map(String::as_str), Some("w"));
    let infix = TextFilter::new("ork", Match::Infix);
    assert_eq!(
        store
            .clients_page(&realm.id, Some(&infix), all())
            .await
            .unwrap()
            .len(),
        1
    );
    let wild = TextFilter::new("%", Match::Infix);
    assert!(
        store
            .clients_page(&realm.id, Some(&wild), all())
            .await
            .unwrap()
            .is_empty()
    );
    let one = store
        .clients_page(&realm.id, None, Page { first: 1, max: 1 })
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].client_id, ids[1]);

    let by_id = store
        .client_by_id(&realm.id, &found[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_id.client_id, "worker");
    assert!(
        store
            .client_by_id(&realm.id, "nope")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .client_by_id("other-realm", &found[0].id)
            .await
            .unwrap()
            .is_none()
    );

    // Deleting the client removes its service-account user with it.
    let sa = format!("service-account-{}", found[0].client_id);
    assert!(
        store
            .find_user_by_username(&realm.id, &sa)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.delete_client(&realm.id, &found[0].id).await.unwrap());
    assert!(!store.delete_client(&realm.id, &found[0].id).await.unwrap());
    assert!(
        store
            .client_by_id(&realm.id, &found[0].id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .find_user_by_username(&realm.id, &sa)
            .await
            .unwrap()
            .is_none()
    );
}

async fn client_create_with_service_account_and_conflict(store: Store) {
    let realm = setup(&store).await;
    let id = new_id();
    let client = ClientRecord {
        id: id.clone(),
        realm_id: realm.id.clone(),
        client_id: "fresh".into(),
        secret: Some(zeroize::Zeroizing::new("s3".into())),
        repr: ClientRepresentation::default(),
    };
    let account = UserImage {
        user: UserRecord {
            id: new_id(),
            realm_id: realm.id.clone(),
            username: "service-account-fresh".into(),
            email: None,
            first_name: None,
            last_name: None,
            enabled: true,
            email_verified: false,
            created_timestamp: 1,
            not_before: 0,
            federation_link: None,
            service_account_client_id: Some(id.clone()),
        },
        attributes: Vec::new(),
        required_actions: Vec::new(),
        credentials: Vec::new(),
        group_ids: Vec::new(),
        role_ids: vec![realm.default_role_id.clone()],
    };
    store
        .create_client(&client, &[], Some(&account))
        .await
        .unwrap()
        .unwrap();
    let got = store.client_by_id(&realm.id, &id).await.unwrap().unwrap();
    assert_eq!(got.client_id, "fresh");
    assert!(
        store
            .find_user_by_username(&realm.id, "service-account-fresh")
            .await
            .unwrap()
            .is_some()
    );

    // Same clientId again: NameTaken, and nothing of the second attempt stays.
    let again = ClientRecord {
        id: new_id(),
        ..client
    };
    assert_eq!(
        store.create_client(&again, &[], None).await.unwrap(),
        Err(NameTaken)
    );
    assert!(
        store
            .client_by_id(&realm.id, &again.id)
            .await
            .unwrap()
            .is_none()
    );

    // Update: rename, new secret; a taken clientId is NameTaken; an unknown id NotFound.
    let mut changed = got.clone();
    changed.client_id = "fresher".into();
    changed.secret = Some(zeroize::Zeroizing::new("s4".into()));
    store.update_client(&changed).await.unwrap().unwrap();
    let back = store.client_by_id(&realm.id, &id).await.unwrap().unwrap();
    assert_eq!(back.client_id, "fresher");
    assert_eq!(back.secret.as_deref().map(String::as_str), Some("s4"));
    changed.client_id = "worker".into();
    assert_eq!(store.update_client(&changed).await.unwrap(), Err(NameTaken));
    changed.id = "nope".into();
    assert!(matches!(
        store.update_client(&changed).await,
        Err(StoreError::NotFound(_))
    ));
}
