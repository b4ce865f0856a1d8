//! Brute-force failure records (`src/brute_force.rs`), every test on SQLite and on PostgreSQL.
//!
//! PostgreSQL comes from `PORTCULLIS_TEST_PG_URL` (scripts/test starts a private server and sets
//! it); each test gets a fresh schema there and a fresh SQLite file here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use portcullis_model::brute_force::{
    AfterFailure, FailureRecord, Settings, Strategy, after_failure,
};
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
    failures_accumulate_and_clear,
    permanent_lockout_disables_in_the_same_transaction,
    realm_clear_and_scoping,
    deleting_the_user_drops_the_record,
);

fn realm(name: &str) -> RealmRepresentation {
    serde_json::from_value(serde_json::json!({
        "realm": name,
        "enabled": true,
        "bruteForceProtected": true,
        "users": [
            {"username": "alice", "enabled": true},
            {"username": "bob", "enabled": true}
        ]
    }))
    .expect("realm")
}

async fn setup(store: &Store, name: &str) -> RealmRecord {
    let image = build(realm(name), &BuildContext { now_ms: 1 })
        .expect("valid realm")
        .image;
    store.create_realm(&image, 1).await.unwrap();
    store.get_realm(name).await.unwrap().unwrap()
}

async fn user(store: &Store, realm: &RealmRecord, name: &str) -> UserRecord {
    store
        .find_user_by_username(&realm.id, name)
        .await
        .unwrap()
        .unwrap()
}

fn settings(permanent: bool) -> Settings {
    Settings {
        protected: true,
        permanent_lockout: permanent,
        max_temporary_lockouts: 0,
        strategy: Strategy::Multiple,
        failure_factor: 2,
        wait_increment_seconds: 60,
        max_failure_wait_seconds: 900,
        minimum_quick_login_wait_seconds: 60,
        quick_login_check_milli_seconds: 1000,
        max_delta_time_seconds: 43200,
    }
}

async fn fail(
    store: &Store,
    s: &Settings,
    realm: &RealmRecord,
    id: &str,
    now: i64,
) -> AfterFailure {
    store
        .record_login_failure(&realm.id, id, |prev, enabled| {
            after_failure(s, prev, enabled, Some("192.0.2.7"), now)
        })
        .await
        .unwrap()
        .expect("user in realm")
}

async fn failures_accumulate_and_clear(store: Store) {
    let realm = setup(&store, "acme").await;
    let alice = user(&store, &realm, "alice").await;
    let s = settings(false);
    assert_eq!(
        store.login_failure(&realm.id, &alice.id).await.unwrap(),
        None
    );
    fail(&store, &s, &realm, &alice.id, 10_000).await;
    let out = fail(&store, &s, &realm, &alice.id, 20_000).await;
    let stored = store.login_failure(&realm.id, &alice.id).await.unwrap();
    assert_eq!(stored.as_ref(), Some(&out.record));
    assert_eq!(
        stored,
        Some(FailureRecord {
            num_failures: 2,
            num_temporary_lockouts: 1,
            last_failure_ms: 20_000,
            last_ip_failure: Some("192.0.2.7".into()),
            locked_until_ms: 80_000,
            permanent: false,
        })
    );
    assert!(
        store
            .clear_login_failure(&realm.id, &alice.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .clear_login_failure(&realm.id, &alice.id)
            .await
            .unwrap()
    );
    assert_eq!(
        store.login_failure(&realm.id, &alice.id).await.unwrap(),
        None
    );
    assert!(user(&store, &realm, "alice").await.enabled);
}

async fn permanent_lockout_disables_in_the_same_transaction(store: Store) {
    let realm = setup(&store, "acme").await;
    let bob = user(&store, &realm, "bob").await;
    let s = settings(true);
    let first = fail(&store, &s, &realm, &bob.id, 10_000).await;
    assert!(!first.disable_user);
    assert!(user(&store, &realm, "bob").await.enabled);
    let second = fail(&store, &s, &realm, &bob.id, 20_000).await;
    assert!(second.disable_user);
    assert!(!user(&store, &realm, "bob").await.enabled);
    let stored = store
        .login_failure(&realm.id, &bob.id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.permanent);
    assert_eq!(stored.num_failures, 2);
    // The decision sees the user's current enabled flag.
    let seen = store
        .record_login_failure(&realm.id, &bob.id, |prev, enabled| {
            assert!(!enabled);
            assert!(prev.is_some_and(|p| p.permanent));
            AfterFailure {
                record: prev.cloned().unwrap_or_default(),
                disable_user: false,
            }
        })
        .await
        .unwrap();
    assert!(seen.is_some());
}

async fn realm_clear_and_scoping(store: Store) {
    let acme = setup(&store, "acme").await;
    let other = setup(&store, "other").await;
    let s = settings(false);
    let a1 = user(&store, &acme, "alice").await;
    let a2 = user(&store, &acme, "bob").await;
    let o1 = user(&store, &other, "alice").await;
    for (r, u) in [(&acme, &a1), (&acme, &a2), (&other, &o1)] {
        fail(&store, &s, r, &u.id, 5_000).await;
    }
    // A user id of another realm is neither read nor written through this realm.
    assert_eq!(store.login_failure(&acme.id, &o1.id).await.unwrap(), None);
    assert!(
        store
            .record_login_failure(&acme.id, &o1.id, |_, _| unreachable!("wrong realm"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(!store.clear_login_failure(&acme.id, &o1.id).await.unwrap());
    assert_eq!(store.clear_realm_login_failures(&acme.id).await.unwrap(), 2);
    assert_eq!(store.login_failure(&acme.id, &a1.id).await.unwrap(), None);
    assert_eq!(store.login_failure(&acme.id, &a2.id).await.unwrap(), None);
    assert!(
        store
            .login_failure(&other.id, &o1.id)
            .await
            .unwrap()
            .is_some()
    );
}

async fn deleting_the_user_drops_the_record(store: Store) {
    let realm = setup(&store, "acme").await;
    let alice = user(&store, &realm, "alice").await;
    fail(&store, &settings(false), &realm, &alice.id, 5_000).await;
    store.delete_user(&realm.id, &alice.id).await.unwrap();
    assert_eq!(
        store.login_failure(&realm.id, &alice.id).await.unwrap(),
        None
    );
    assert_eq!(
        store.clear_realm_login_failures(&realm.id).await.unwrap(),
        0
    );
}
