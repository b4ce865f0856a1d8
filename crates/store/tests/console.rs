//! The console's read queries (`src/console.rs`), every test on SQLite and on PostgreSQL.
//!
//! PostgreSQL comes from `PORTCULLIS_TEST_PG_URL` (scripts/test starts a private server and sets
//! it); each test gets a fresh schema there and a fresh SQLite file here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use portcullis_model::import::{BuildContext, build};
use portcullis_model::records::*;
use portcullis_model::repr::*;
use portcullis_store::{ConnectOptions, DbTarget, Store};

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
    realm_sessions_are_paged_newest_first_with_usernames,
    group_outline_lists_the_tree,
    role_outline_has_clients_and_composite_edges,
);

fn sample() -> RealmRepresentation {
    serde_json::from_value(serde_json::json!({
        "realm": "acme",
        "enabled": true,
        "roles": {
            "realm": [
                {"name": "viewer"},
                {"name": "editor", "composites": {"realm": ["viewer"], "client": {"worker": ["run"]}}}
            ],
            "client": {"worker": [{"name": "run"}]}
        },
        "clients": [{"clientId": "worker", "secret": "w"}],
        "groups": [
            {"name": "staff", "subGroups": [{"name": "admins"}, {"name": "ops"}]},
            {"name": "audit"}
        ],
        "users": [
            {"username": "alice", "enabled": true},
            {"username": "bob", "enabled": true}
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

async fn user(store: &Store, realm: &RealmRecord, name: &str) -> UserRecord {
    store
        .find_user_by_username(&realm.id, name)
        .await
        .unwrap()
        .unwrap()
}

fn session(realm: &RealmRecord, user: &UserRecord, id: &str, started: i64) -> UserSessionRecord {
    UserSessionRecord {
        id: id.to_owned(),
        realm_id: realm.id.clone(),
        user_id: user.id.clone(),
        auth_time_s: started / 1000,
        started,
        last_refresh: started,
        remember_me: false,
        ip_address: Some("192.0.2.7".into()),
    }
}

async fn realm_sessions_are_paged_newest_first_with_usernames(store: Store) {
    let realm = setup(&store).await;
    let alice = user(&store, &realm, "alice").await;
    let bob = user(&store, &realm, "bob").await;
    for (id, u, started) in [
        ("s1", &alice, 1_000),
        ("s2", &bob, 3_000),
        ("s3", &alice, 2_000),
    ] {
        store
            .create_user_session(&session(&realm, u, id, started))
            .await
            .unwrap();
    }
    let all = store.realm_sessions(&realm.id, 0, 10).await.unwrap();
    let got: Vec<(&str, &str)> = all
        .iter()
        .map(|l| (l.session.id.as_str(), l.username.as_str()))
        .collect();
    assert_eq!(got, [("s2", "bob"), ("s3", "alice"), ("s1", "alice")]);
    assert_eq!(all[0].session.ip_address.as_deref(), Some("192.0.2.7"));
    let page = store.realm_sessions(&realm.id, 1, 1).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].session.id, "s3");
    assert!(
        store
            .realm_sessions("no-such-realm", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Negative paging values are clamped, never passed through.
    assert_eq!(
        store.realm_sessions(&realm.id, -5, 2).await.unwrap().len(),
        2
    );
}

async fn group_outline_lists_the_tree(store: Store) {
    let realm = setup(&store).await;
    let groups = store.group_outline(&realm.id, 100).await.unwrap();
    let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["admins", "audit", "ops", "staff"]);
    let staff = groups.iter().find(|g| g.name == "staff").unwrap();
    assert_eq!(staff.parent_id, None);
    for child in ["admins", "ops"] {
        let g = groups.iter().find(|g| g.name == child).unwrap();
        assert_eq!(g.parent_id.as_deref(), Some(staff.id.as_str()));
    }
    assert_eq!(store.group_outline(&realm.id, 2).await.unwrap().len(), 2);
}

async fn role_outline_has_clients_and_composite_edges(store: Store) {
    let realm = setup(&store).await;
    let (roles, edges) = store.role_outline(&realm.id).await.unwrap();
    let id = |name: &str, client: Option<&str>| {
        roles
            .iter()
            .find(|r| r.name == name && r.client.as_deref() == client)
            .unwrap_or_else(|| panic!("role {name}"))
            .id
            .clone()
    };
    // Realm roles come first.
    assert!(
        roles
            .iter()
            .take_while(|r| r.client.is_none())
            .any(|r| r.name == "editor")
    );
    let editor = id("editor", None);
    let mut children: Vec<String> = edges
        .iter()
        .filter(|(p, _)| *p == editor)
        .map(|(_, c)| c.clone())
        .collect();
    children.sort();
    let mut expected = vec![id("viewer", None), id("run", Some("worker"))];
    expected.sort();
    assert_eq!(children, expected);
    let (none, no_edges) = store.role_outline("no-such-realm").await.unwrap();
    assert!(none.is_empty() && no_edges.is_empty());
}
