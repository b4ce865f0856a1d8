//! The admin API's role, mapping, credential and session storage (`src/admin_roles.rs`), every
//! test on SQLite and on PostgreSQL.
//!
//! PostgreSQL comes from `PORTCULLIS_TEST_PG_URL` (scripts/test starts a private server and sets
//! it); each test gets a fresh schema there and a fresh SQLite file here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use portcullis_model::import::{BuildContext, build};
use portcullis_model::records::*;
use portcullis_model::repr::*;
use portcullis_store::{
    CompositeCycle, ConnectOptions, DbTarget, LiveSince, Match, NameTaken, Page, Store, StoreError,
    TextFilter,
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
    client_roles_page_and_lookup,
    composites_add_list_remove_and_refuse_cycles,
    role_holders_are_paged,
    group_role_mappings,
    credentials_without_secrets,
    sessions_views_counts_and_logout,
);

fn sample() -> RealmRepresentation {
    serde_json::from_value(serde_json::json!({
        "realm": "acme",
        "enabled": true,
        "roles": {
            "realm": [
                {"name": "viewer"},
                {"name": "editor", "composites": {"realm": ["viewer"]}},
                {"name": "chief", "composites": {"realm": ["editor"]}}
            ],
            "client": {"app": [{"name": "read"}, {"name": "write"}, {"name": "admin"}]}
        },
        "clients": [
            {"clientId": "app", "publicClient": true},
            {"clientId": "other", "publicClient": true}
        ],
        "groups": [
            {"name": "staff", "realmRoles": ["viewer"], "subGroups": [{"name": "ops"}]},
            {"name": "audit"}
        ],
        "users": [
            {"username": "alice", "enabled": true, "realmRoles": ["editor"],
             "credentials": [{"type": "password", "secretData": "{\"value\":\"AAAA\",\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"additionalParameters\":{}}",
                              "credentialData": "{\"hashIterations\":27500,\"algorithm\":\"pbkdf2-sha256\",\"additionalParameters\":{}}"}]},
            {"username": "bob", "enabled": true, "realmRoles": ["editor"]},
            {"username": "carol", "enabled": true, "realmRoles": ["editor"]},
            {"username": "dave", "enabled": true}
        ]
    }))
    .expect("sample realm")
}

struct Fx {
    realm: RealmRecord,
    app: ClientRecord,
    other: ClientRecord,
}

async fn setup(store: &Store) -> Fx {
    let image = build(sample(), &BuildContext { now_ms: 1 })
        .expect("valid sample")
        .image;
    store.create_realm(&image, 1).await.unwrap();
    let realm = store.get_realm("acme").await.unwrap().unwrap();
    let app = store
        .client_by_client_id(&realm.id, "app")
        .await
        .unwrap()
        .unwrap();
    let other = store
        .client_by_client_id(&realm.id, "other")
        .await
        .unwrap()
        .unwrap();
    Fx { realm, app, other }
}

fn all() -> Page {
    Page { first: 0, max: 100 }
}

async fn realm_role(store: &Store, fx: &Fx, name: &str) -> String {
    store
        .realm_role_details(&fx.realm.id, name)
        .await
        .unwrap()
        .unwrap()
        .role
        .id
}

async fn user(store: &Store, fx: &Fx, name: &str) -> UserRecord {
    store
        .find_user_by_username(&fx.realm.id, name)
        .await
        .unwrap()
        .unwrap()
}

async fn group_id(store: &Store, fx: &Fx, name: &str) -> String {
    let found = store
        .groups_matching(&fx.realm.id, &TextFilter::new(name, Match::Exact), 10)
        .await
        .unwrap();
    found
        .into_iter()
        .find(|g| g.group.name == name)
        .unwrap()
        .group
        .id
}

async fn client_roles_page_and_lookup(store: Store) {
    let fx = setup(&store).await;
    let page = store
        .client_roles_page(&fx.app.id, None, all())
        .await
        .unwrap();
    let names: Vec<&str> = page.iter().map(|r| r.role.name.as_str()).collect();
    assert_eq!(names, ["admin", "read", "write"]);
    assert!(
        page.iter()
            .all(|r| r.role.client_id.as_deref() == Some(fx.app.id.as_str()))
    );
    let page = store
        .client_roles_page(&fx.app.id, None, Page { first: 1, max: 1 })
        .await
        .unwrap();
    assert_eq!(page[0].role.name, "read");
    let found = store
        .client_roles_page(
            &fx.app.id,
            Some(&TextFilter::new("RIT", Match::Infix)),
            all(),
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].role.name, "write");
    assert!(
        store
            .client_roles_page(&fx.other.id, None, all())
            .await
            .unwrap()
            .is_empty()
    );

    let read = store
        .client_role_details(&fx.app.id, "read")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.role.name, "read");
    assert!(
        store
            .client_role_details(&fx.other.id, "read")
            .await
            .unwrap()
            .is_none()
    );

    // A client role with a realm role's name is fine; the same name in one client is taken.
    let role = RoleRecord {
        id: new_id(),
        realm_id: fx.realm.id.clone(),
        client_id: Some(fx.app.id.clone()),
        name: "viewer".into(),
        description: None,
        attributes: Default::default(),
    };
    assert_eq!(store.create_role(&role).await.unwrap(), Ok(()));
    let dup = RoleRecord {
        id: new_id(),
        ..role.clone()
    };
    assert_eq!(store.create_role(&dup).await.unwrap(), Err(NameTaken));
    let elsewhere = RoleRecord {
        id: new_id(),
        client_id: Some(fx.other.id.clone()),
        ..role.clone()
    };
    assert_eq!(store.create_role(&elsewhere).await.unwrap(), Ok(()));

    let realm_roles = store.container_roles(&fx.realm.id, None).await.unwrap();
    assert!(realm_roles.iter().all(|r| r.role.client_id.is_none()));
    assert!(realm_roles.iter().any(|r| r.role.name == "viewer"));
    let app_roles = store
        .container_roles(&fx.realm.id, Some(&fx.app.id))
        .await
        .unwrap();
    assert_eq!(app_roles.len(), 4);
}

async fn composites_add_list_remove_and_refuse_cycles(store: Store) {
    let fx = setup(&store).await;
    let viewer = realm_role(&store, &fx, "viewer").await;
    let editor = realm_role(&store, &fx, "editor").await;
    let chief = realm_role(&store, &fx, "chief").await;
    let read = store
        .client_role_details(&fx.app.id, "read")
        .await
        .unwrap()
        .unwrap()
        .role
        .id;

    let members = store.role_composites(&editor).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].role.id, viewer);

    // A client role joins; realm roles list first.
    assert_eq!(
        store
            .add_composites(&fx.realm.id, &editor, std::slice::from_ref(&read))
            .await
            .unwrap(),
        Ok(())
    );
    let ids: Vec<String> = store
        .role_composites(&editor)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.role.id)
        .collect();
    assert_eq!(ids, [viewer.clone(), read.clone()]);
    // Adding again changes nothing.
    assert_eq!(
        store
            .add_composites(&fx.realm.id, &editor, std::slice::from_ref(&read))
            .await
            .unwrap(),
        Ok(())
    );
    assert_eq!(store.role_composites(&editor).await.unwrap().len(), 2);

    // Cycles: itself, a direct parent, a grand-parent. Nothing is written, not even the
    // harmless members listed before the offending one.
    let outcome = store
        .add_composites(&fx.realm.id, &viewer, std::slice::from_ref(&viewer))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Err(CompositeCycle {
            role_id: viewer.clone()
        })
    );
    let outcome = store
        .add_composites(&fx.realm.id, &viewer, std::slice::from_ref(&editor))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Err(CompositeCycle {
            role_id: editor.clone()
        })
    );
    let write = store
        .client_role_details(&fx.app.id, "write")
        .await
        .unwrap()
        .unwrap()
        .role
        .id;
    let outcome = store
        .add_composites(&fx.realm.id, &read, &[write.clone(), chief.clone()])
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Err(CompositeCycle {
            role_id: chief.clone()
        })
    );
    assert!(store.role_composites(&read).await.unwrap().is_empty());
    assert!(store.role_composites(&viewer).await.unwrap().is_empty());

    // Roles of another realm (or none at all) are not members.
    assert!(matches!(
        store
            .add_composites(&fx.realm.id, &editor, &["nope".to_string()])
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Effective roles follow at once: bob (editor) now holds app's `read`.
    let bob = user(&store, &fx, "bob").await;
    let names: Vec<String> = store
        .effective_roles(&bob.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert!(names.contains(&"read".to_string()), "{names:?}");

    store
        .remove_composites(&editor, &[read.clone(), "not-a-member".into()])
        .await
        .unwrap();
    let ids: Vec<String> = store
        .role_composites(&editor)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.role.id)
        .collect();
    assert_eq!(ids, [viewer]);
    let names: Vec<String> = store
        .effective_roles(&bob.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert!(!names.contains(&"read".to_string()), "{names:?}");
}

async fn role_holders_are_paged(store: Store) {
    let fx = setup(&store).await;
    let editor = realm_role(&store, &fx, "editor").await;
    let viewer = realm_role(&store, &fx, "viewer").await;
    let users = store
        .role_users(&fx.realm.id, &editor, all())
        .await
        .unwrap();
    let names: Vec<&str> = users.iter().map(|u| u.user.username.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    let page = store
        .role_users(&fx.realm.id, &editor, Page { first: 1, max: 1 })
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].user.username, "bob");
    // Only direct holders: viewer comes to them through editor, not directly.
    assert!(
        store
            .role_users(&fx.realm.id, &viewer, all())
            .await
            .unwrap()
            .is_empty()
    );
    // Another realm's id finds nothing.
    assert!(
        store
            .role_users("x", &editor, all())
            .await
            .unwrap()
            .is_empty()
    );

    let groups = store
        .role_groups(&fx.realm.id, &viewer, all())
        .await
        .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].path, "/staff");
    assert!(
        store
            .role_groups(&fx.realm.id, &viewer, Page { first: 1, max: 10 })
            .await
            .unwrap()
            .is_empty()
    );
}

async fn group_role_mappings(store: Store) {
    let fx = setup(&store).await;
    let audit = group_id(&store, &fx, "audit").await;
    let chief = realm_role(&store, &fx, "chief").await;
    let write = store
        .client_role_details(&fx.app.id, "write")
        .await
        .unwrap()
        .unwrap()
        .role
        .id;
    assert!(store.group_direct_roles(&audit).await.unwrap().is_empty());
    store
        .grant_group_roles(&audit, &[chief.clone(), write.clone()])
        .await
        .unwrap();
    store
        .grant_group_roles(&audit, std::slice::from_ref(&chief))
        .await
        .unwrap();
    let direct = store.group_direct_roles(&audit).await.unwrap();
    let seen: Vec<(&str, bool, Option<&str>)> = direct
        .iter()
        .map(|(d, c)| (d.role.name.as_str(), d.composite, c.as_deref()))
        .collect();
    assert_eq!(seen, [("chief", true, None), ("write", false, Some("app"))]);

    // A member gets the roles through the group, composites expanded.
    let dave = user(&store, &fx, "dave").await;
    store.join_group(&dave.id, &audit).await.unwrap();
    let names: Vec<String> = store
        .effective_roles(&dave.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    for n in ["chief", "editor", "viewer", "write"] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }

    store
        .revoke_group_roles(&audit, &[chief, "missing".into()])
        .await
        .unwrap();
    let direct = store.group_direct_roles(&audit).await.unwrap();
    assert_eq!(direct.len(), 1);
    assert_eq!(direct[0].0.role.name, "write");
}

async fn credentials_without_secrets(store: Store) {
    let fx = setup(&store).await;
    let alice = user(&store, &fx, "alice").await;
    let creds = store.credential_infos(&alice.id).await.unwrap();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].type_, "password");
    // The stored credential data names the algorithm; the secret part is not read at all.
    assert!(
        creds[0].credential_data.contains("algorithm"),
        "{:?}",
        creds[0]
    );
    let stored = store.credentials(&alice.id).await.unwrap();
    let CredentialSecret::Stored { secret_data, .. } = &stored[0].secret else {
        panic!("stored credential");
    };
    assert!(secret_data.contains("salt"));
    assert!(!creds[0].credential_data.contains("salt"), "{:?}", creds[0]);

    let bob = user(&store, &fx, "bob").await;
    // Another user's credential id is not this user's.
    assert!(
        !store
            .delete_credential(&bob.id, &creds[0].id)
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_credential(&alice.id, &creds[0].id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_credential(&alice.id, &creds[0].id)
            .await
            .unwrap()
    );
    assert!(store.credential_infos(&alice.id).await.unwrap().is_empty());
}

fn session(fx: &Fx, user: &UserRecord, started: i64) -> UserSessionRecord {
    UserSessionRecord {
        id: new_id(),
        realm_id: fx.realm.id.clone(),
        user_id: user.id.clone(),
        auth_time_s: started / 1000,
        started,
        last_refresh: started + 5,
        remember_me: false,
        ip_address: Some("192.0.2.7".into()),
    }
}

async fn join(store: &Store, us: &UserSessionRecord, client: &ClientRecord) {
    store
        .upsert_client_session(&ClientSessionRecord {
            id: new_id(),
            user_session_id: us.id.clone(),
            client_id: client.id.clone(),
            scope: "openid".into(),
            redirect_uri: None,
            started: us.started,
            refresh_generation: 0,
            refresh_uses: 0,
        })
        .await
        .unwrap();
}

async fn sessions_views_counts_and_logout(store: Store) {
    let fx = setup(&store).await;
    let alice = user(&store, &fx, "alice").await;
    let bob = user(&store, &fx, "bob").await;
    let a1 = session(&fx, &alice, 1_000);
    let a2 = session(&fx, &alice, 2_000);
    let b1 = session(&fx, &bob, 3_000);
    for s in [&a1, &a2, &b1] {
        store.create_user_session(s).await.unwrap();
    }
    join(&store, &a1, &fx.app).await;
    join(&store, &a1, &fx.other).await;
    join(&store, &a2, &fx.app).await;
    join(&store, &b1, &fx.app).await;

    let views = store
        .user_session_views(&fx.realm.id, &alice.id, LiveSince::ALL)
        .await
        .unwrap();
    assert_eq!(views.len(), 2);
    assert_eq!(views[0].session, a1);
    assert_eq!(views[0].username, "alice");
    assert_eq!(
        views[0].clients,
        [
            (fx.app.id.clone(), "app".to_string()),
            (fx.other.id.clone(), "other".to_string())
        ]
    );
    assert_eq!(views[1].clients, [(fx.app.id.clone(), "app".to_string())]);
    assert!(
        store
            .user_session_views("x", &alice.id, LiveSince::ALL)
            .await
            .unwrap()
            .is_empty()
    );

    let page = store
        .client_session_views(&fx.app.id, LiveSince::ALL, all())
        .await
        .unwrap();
    let ids: Vec<&str> = page.iter().map(|v| v.session.id.as_str()).collect();
    assert_eq!(ids, [a1.id.as_str(), a2.id.as_str(), b1.id.as_str()]);
    let page = store
        .client_session_views(&fx.app.id, LiveSince::ALL, Page { first: 2, max: 5 })
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].username, "bob");
    assert_eq!(
        store
            .count_client_sessions(&fx.app.id, LiveSince::ALL)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .count_client_sessions(&fx.other.id, LiveSince::ALL)
            .await
            .unwrap(),
        1
    );
    let stats = store
        .client_session_stats(&fx.realm.id, LiveSince::ALL)
        .await
        .unwrap();
    assert_eq!(
        stats,
        [
            (fx.app.id.clone(), "app".to_string(), 3),
            (fx.other.id.clone(), "other".to_string(), 1)
        ]
    );

    // Expired sessions (idle: refreshed too long ago; max: started too long ago) are left out.
    let idle_cut = LiveSince {
        last_refresh_after: 1_005,
        started_after: i64::MIN,
    };
    let views = store
        .user_session_views(&fx.realm.id, &alice.id, idle_cut)
        .await
        .unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].session.id, a2.id);
    let max_cut = LiveSince {
        last_refresh_after: i64::MIN,
        started_after: 2_000,
    };
    let page = store
        .client_session_views(&fx.app.id, max_cut, all())
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].session.id, b1.id);
    assert_eq!(
        store
            .count_client_sessions(&fx.app.id, max_cut)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_client_sessions(&fx.other.id, idle_cut)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .client_session_stats(&fx.realm.id, max_cut)
            .await
            .unwrap(),
        [(fx.app.id.clone(), "app".to_string(), 1)]
    );

    // One session of another realm's id is not found; of this realm it ends with its
    // client sessions.
    assert!(!store.delete_realm_session("x", &b1.id).await.unwrap());
    assert!(
        store
            .delete_realm_session(&fx.realm.id, &b1.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_realm_session(&fx.realm.id, &b1.id)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .count_client_sessions(&fx.app.id, LiveSince::ALL)
            .await
            .unwrap(),
        2
    );

    // Logging alice out ends both sessions and moves her notBefore (never backwards).
    assert_eq!(
        store
            .logout_user(&fx.realm.id, &alice.id, 500)
            .await
            .unwrap(),
        2
    );
    assert!(store.user_session(&a1.id).await.unwrap().is_none());
    assert_eq!(user(&store, &fx, "alice").await.not_before, 500);
    assert_eq!(
        store
            .logout_user(&fx.realm.id, &alice.id, 400)
            .await
            .unwrap(),
        0
    );
    assert_eq!(user(&store, &fx, "alice").await.not_before, 500);
    assert!(matches!(
        store.logout_user(&fx.realm.id, "nobody", 1).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        store
            .client_session_stats(&fx.realm.id, LiveSince::ALL)
            .await
            .unwrap()
            .is_empty()
    );

    // The whole realm.
    let c1 = session(&fx, &bob, 4_000);
    let c2 = session(&fx, &alice, 5_000);
    store.create_user_session(&c1).await.unwrap();
    store.create_user_session(&c2).await.unwrap();
    assert_eq!(store.delete_realm_sessions(&fx.realm.id).await.unwrap(), 2);
    assert_eq!(store.count_user_sessions(&fx.realm.id).await.unwrap(), 0);
}
