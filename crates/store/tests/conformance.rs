//! The storage conformance suite: every test runs against SQLite and against PostgreSQL.
//!
//! PostgreSQL comes from `PORTCULLIS_TEST_PG_URL` (scripts/test starts a private server and sets
//! it); each test gets a fresh schema there, and a fresh SQLite file here, so tests are
//! independent and may run in parallel.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use portcullis_model::import::{BuildContext, build};
use portcullis_model::records::*;
use portcullis_model::repr::*;
use portcullis_store::{ConnectOptions, DbTarget, Store, StoreError};
use std::collections::BTreeSet;

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

fn pg_url() -> String {
    std::env::var("PORTCULLIS_TEST_PG_URL").expect(
        "PORTCULLIS_TEST_PG_URL is not set: run the suite with scripts/test, which starts PostgreSQL for it",
    )
}

fn pg_target(schema: &str) -> DbTarget {
    DbTarget::Postgres {
        url: pg_url(),
        username: None,
        password: None,
        schema: Some(schema.to_string()),
    }
}

fn fresh_schema() -> String {
    format!("t_{}", uuid::Uuid::new_v4().simple())
}

async fn postgres() -> Db {
    let store = Store::connect(&ConnectOptions::new(pg_target(&fresh_schema())))
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
    realm_round_trips,
    duplicate_realm_is_a_conflict_and_changes_nothing,
    failed_write_leaves_nothing,
    effective_roles_follow_groups_parents_and_composites,
    delete_removes_everything,
    replace_swaps_the_realm,
    users_lookups,
    role_holders_counted_through_groups_and_composites,
    pool_answers_ping,
    role_graph_agrees_with_the_recursive_query,
    keys_are_stored_and_one_first_key_wins,
);

fn sample() -> RealmRepresentation {
    serde_json::from_value(serde_json::json!({
        "realm": "acme",
        "enabled": true,
        "roles": {
            "realm": [
                {"name": "viewer"},
                {"name": "editor", "composites": {"realm": ["viewer"]}},
                {"name": "admin", "composites": {"realm": ["editor"], "client": {"app": ["app-admin"]}}},
                {"name": "auditor"}
            ],
            "client": {"app": [{"name": "app-admin"}, {"name": "app-user"}]}
        },
        "clients": [
            {"clientId": "app", "secret": "s3cret", "redirectUris": ["https://app.example/*"],
             "protocolMappers": [{"name": "groups", "protocol": "openid-connect",
                "protocolMapper": "oidc-group-membership-mapper",
                "config": {"claim.name": "groups", "full.path": "false", "access.token.claim": "true"}}]},
            {"clientId": "worker", "secret": "w", "serviceAccountsEnabled": true}
        ],
        "groups": [
            {"name": "staff", "realmRoles": ["viewer"], "subGroups": [
                {"name": "admins", "realmRoles": ["admin"], "subGroups": [{"name": "root"}]}
            ]},
            {"name": "audit", "realmRoles": ["auditor"], "attributes": {"k": ["v1", "v2"]}}
        ],
        "users": [
            {"username": "Alice", "email": "alice@example.com", "enabled": true,
             "groups": ["/staff/admins/root"], "attributes": {"dept": ["eng"]},
             "credentials": [{"type": "password", "secretData": "{\"value\":\"AAAA\",\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"additionalParameters\":{}}",
                              "credentialData": "{\"hashIterations\":27500,\"algorithm\":\"pbkdf2-sha256\",\"additionalParameters\":{}}"}]},
            {"username": "bob", "enabled": true, "realmRoles": ["auditor"], "clientRoles": {"app": ["app-user"]},
             "requiredActions": ["update_password"]},
            {"username": "carol", "groups": ["/audit"]}
        ]
    }))
    .expect("sample realm")
}

fn image_of(rep: RealmRepresentation) -> RealmImage {
    build(
        rep,
        &BuildContext {
            now_ms: 1_700_000_000_000,
        },
    )
    .expect("valid sample")
    .image
}

fn export_json(image: &RealmImage) -> serde_json::Value {
    serde_json::to_value(portcullis_model::export::realm_representation(
        image,
        portcullis_model::export::UsersInRealm::Include,
    ))
    .expect("json")
}

async fn realm_round_trips(store: Store) {
    let image = image_of(sample());
    store.create_realm(&image, 1).await.expect("create");
    assert_eq!(store.realm_names().await.unwrap(), vec!["acme".to_string()]);
    let realm = store
        .get_realm("acme")
        .await
        .unwrap()
        .expect("realm exists");
    assert_eq!(realm, image.realm);
    let loaded = store
        .load_realm_image("acme")
        .await
        .unwrap()
        .expect("image");
    assert_eq!(export_json(&loaded), export_json(&image));
    assert_eq!(
        loaded.users.len(),
        4,
        "three users and the worker's service account"
    );
    assert!(store.load_realm_image("nope").await.unwrap().is_none());
}

async fn duplicate_realm_is_a_conflict_and_changes_nothing(store: Store) {
    let image = image_of(sample());
    store.create_realm(&image, 1).await.unwrap();
    let before = export_json(&store.load_realm_image("acme").await.unwrap().unwrap());
    let again = image_of(sample());
    match store.create_realm(&again, 2).await {
        Err(StoreError::Conflict(m)) => assert!(m.contains("acme"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let after = export_json(&store.load_realm_image("acme").await.unwrap().unwrap());
    assert_eq!(before, after);
}

async fn failed_write_leaves_nothing(store: Store) {
    let mut image = image_of(sample());
    // Two users with one username: the unique index fails half-way through the write.
    let mut dup = image.users[0].clone();
    dup.user.id = new_id();
    dup.credentials.clear();
    image.users.push(dup);
    assert!(matches!(
        store.create_realm(&image, 1).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.realm_names().await.unwrap().is_empty());
    assert!(store.get_realm("acme").await.unwrap().is_none());
    // And the same realm, valid, can then be written.
    store.create_realm(&image_of(sample()), 1).await.unwrap();
}

async fn effective_roles_follow_groups_parents_and_composites(store: Store) {
    let image = image_of(sample());
    store.create_realm(&image, 1).await.unwrap();
    let realm = store.get_realm("acme").await.unwrap().unwrap();
    let alice = store
        .find_user_by_username(&realm.id, "alice")
        .await
        .unwrap()
        .unwrap();
    let names: BTreeSet<String> = store
        .effective_roles(&alice.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    // root (no roles) -> admins (admin -> editor -> viewer, app-admin) -> staff (viewer)
    let expected: BTreeSet<String> = ["admin", "editor", "viewer", "app-admin"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, expected);
    let bob = store
        .find_user_by_username(&realm.id, "bob")
        .await
        .unwrap()
        .unwrap();
    let names: BTreeSet<String> = store
        .effective_roles(&bob.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(
        names,
        ["auditor", "app-user"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
}

async fn delete_removes_everything(store: Store) {
    store.create_realm(&image_of(sample()), 1).await.unwrap();
    assert!(store.delete_realm("acme").await.unwrap());
    assert!(!store.delete_realm("acme").await.unwrap());
    assert!(store.get_realm("acme").await.unwrap().is_none());
    // Same ids can be written again: nothing of the old realm is left behind.
    store.create_realm(&image_of(sample()), 1).await.unwrap();
}

async fn replace_swaps_the_realm(store: Store) {
    store.create_realm(&image_of(sample()), 1).await.unwrap();
    let mut rep = sample();
    rep.users = Some(vec![]);
    rep.display_name = Some("Acme 2".into());
    let existed = store.replace_realm(&image_of(rep), 2).await.unwrap();
    assert!(existed);
    let realm = store.get_realm("acme").await.unwrap().unwrap();
    assert_eq!(realm.settings.display_name.as_deref(), Some("Acme 2"));
    // Only the service account remains.
    assert_eq!(store.count_users(&realm.id).await.unwrap(), 1);
}

async fn users_lookups(store: Store) {
    store.create_realm(&image_of(sample()), 1).await.unwrap();
    let realm = store.get_realm("acme").await.unwrap().unwrap();
    let alice = store
        .find_user_by_username(&realm.id, "ALICE")
        .await
        .unwrap()
        .expect("case-insensitive");
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.email.as_deref(), Some("alice@example.com"));
    assert!(alice.enabled);
    let carol = store
        .find_user_by_username(&realm.id, "carol")
        .await
        .unwrap()
        .unwrap();
    assert!(
        !carol.enabled,
        "imported users without enabled:true are disabled"
    );
    let creds = store.credentials(&alice.id).await.unwrap();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].type_, "password");
    assert!(
        store
            .find_user_by_username(&realm.id, "nobody")
            .await
            .unwrap()
            .is_none()
    );
    let sa = store
        .find_user_by_username(&realm.id, "service-account-worker")
        .await
        .unwrap()
        .expect("service account");
    assert!(sa.service_account_client_id.is_some());
    let app = store
        .client_by_client_id(&realm.id, "app")
        .await
        .unwrap()
        .expect("client");
    assert_eq!(app.secret.as_deref().map(String::as_str), Some("s3cret"));
    let role = store
        .realm_role(&realm.id, "editor")
        .await
        .unwrap()
        .expect("role");
    assert_eq!(role.name, "editor");
}

async fn role_holders_counted_through_groups_and_composites(store: Store) {
    store.create_realm(&image_of(sample()), 1).await.unwrap();
    let realm = store.get_realm("acme").await.unwrap().unwrap();
    let viewer = store
        .realm_role(&realm.id, "viewer")
        .await
        .unwrap()
        .unwrap();
    // alice through /staff (and admin composites); carol is disabled; bob has no viewer.
    assert_eq!(store.count_role_holders(&viewer.id).await.unwrap(), 1);
    let auditor = store
        .realm_role(&realm.id, "auditor")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.count_role_holders(&auditor.id).await.unwrap(),
        1,
        "bob; carol is disabled"
    );
}

async fn pool_answers_ping(store: Store) {
    store.ping().await.unwrap();
    let stats = store.pool_stats();
    assert!(stats.max >= 1);
    store.close().await;
    assert!(matches!(
        store.ping().await,
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_nodes_starting_together_migrate_once() {
    let schema = fresh_schema();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let target = pg_target(&schema);
        tasks.push(tokio::spawn(async move {
            Store::connect(&ConnectOptions::new(target))
                .await
                .map(|_| ())
        }));
    }
    for t in tasks {
        t.await
            .expect("task")
            .expect("every node connects and finds the schema migrated");
    }
    // A fifth start finds everything applied and changes nothing.
    let store = Store::connect(&ConnectOptions::new(pg_target(&schema)))
        .await
        .unwrap();
    store.create_realm(&image_of(sample()), 1).await.unwrap();
}

#[tokio::test]
async fn sqlite_restart_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let target = DbTarget::SqliteFile(dir.path().join("portcullis.db"));
    {
        let store = Store::connect(&ConnectOptions::new(target.clone()))
            .await
            .unwrap();
        store.create_realm(&image_of(sample()), 1).await.unwrap();
        store.close().await;
    }
    let store = Store::connect(&ConnectOptions::new(target)).await.unwrap();
    assert_eq!(store.realm_names().await.unwrap(), vec!["acme".to_string()]);
}

#[tokio::test]
async fn unreachable_postgres_is_reported_not_hung() {
    let mut opts = ConnectOptions::new(DbTarget::Postgres {
        url: "postgres://127.0.0.1:1/none".into(),
        username: Some("u".into()),
        password: Some("pw-not-shown".into()),
        schema: None,
    });
    opts.acquire_timeout = std::time::Duration::from_secs(2);
    let err = Store::connect(&opts)
        .await
        .expect_err("nothing listens on port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(!err.to_string().contains("pw-not-shown"));
}

async fn role_graph_agrees_with_the_recursive_query(store: Store) {
    store.create_realm(&image_of(sample()), 1).await.unwrap();
    let realm = store.get_realm("acme").await.unwrap().unwrap();
    let graph = store.role_graph(&realm.id).await.unwrap();
    for name in ["alice", "bob", "carol", "service-account-worker"] {
        let user = store
            .find_user_by_username(&realm.id, name)
            .await
            .unwrap()
            .unwrap();
        let (roles, groups) = store.user_memberships(&user.id).await.unwrap();
        let from_graph: Vec<String> = graph
            .effective(&roles, &groups)
            .into_iter()
            .map(|r| r.id.clone())
            .collect();
        let mut from_query: Vec<String> = store
            .effective_roles(&user.id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        let mut sorted_graph = from_graph.clone();
        sorted_graph.sort();
        from_query.sort();
        assert_eq!(sorted_graph, from_query, "{name}");
    }
}

fn key(realm_id: &str, kid: &str, created_at: i64) -> KeyRecord {
    KeyRecord {
        id: new_id(),
        realm_id: realm_id.to_string(),
        kid: kid.to_string(),
        algorithm: "RS256".into(),
        key_use: "sig".into(),
        private_der: zeroize::Zeroizing::new(vec![1, 2, 3, 0, 255]),
        certificate_der: Some(vec![9, 8, 7]),
        enabled: true,
        active: true,
        priority: 100,
        created_at,
    }
}

async fn keys_are_stored_and_one_first_key_wins(store: Store) {
    store.create_realm(&image_of(sample()), 1).await.unwrap();
    let realm = store.get_realm("acme").await.unwrap().unwrap();
    assert!(store.realm_keys(&realm.id).await.unwrap().is_empty());
    // Two nodes racing to create the realm's first RS256 key: one wins.
    let (ka, kb) = (key(&realm.id, "kid-a", 10), key(&realm.id, "kid-b", 11));
    let (a, b) = tokio::join!(store.add_key_if_none(&ka), store.add_key_if_none(&kb));
    assert_eq!(
        u8::from(a.unwrap()) + u8::from(b.unwrap()),
        1,
        "exactly one key stored"
    );
    let keys = store.realm_keys(&realm.id).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(*keys[0].private_der, vec![1, 2, 3, 0, 255]);
    assert_eq!(keys[0].certificate_der, Some(vec![9, 8, 7]));
    // Deleting the realm deletes its keys.
    assert!(store.delete_realm("acme").await.unwrap());
    assert!(store.realm_keys(&realm.id).await.unwrap().is_empty());
}
