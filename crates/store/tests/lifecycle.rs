//! The account lifecycle's storage methods (`src/lifecycle.rs`): single-use action tokens,
//! password changes with history, email verification and login-actions flow state; every test
//! on SQLite and on PostgreSQL.
//!
//! PostgreSQL comes from `PORTCULLIS_TEST_PG_URL` (scripts/test starts a private server and sets
//! it); each test gets a fresh schema there and a fresh SQLite file here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use portcullis_model::import::{BuildContext, build};
use portcullis_model::records::*;
use portcullis_model::repr::*;
use portcullis_store::{ConnectOptions, DbTarget, LoginFlowRecord, Store, StoreError};

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
    action_tokens_are_single_use_and_purged,
    password_change_keeps_history,
    password_history_by_age,
    email_verification_needs_the_same_address,
    login_flow_state,
    otp_credential_is_added_and_clears_the_action,
);

async fn setup(store: &Store) -> RealmRecord {
    let rep: RealmRepresentation = serde_json::from_value(serde_json::json!({
        "realm": "acme",
        "enabled": true,
        "clients": [{"clientId": "web", "secret": "w", "redirectUris": ["https://app/cb"]}],
        "users": [
            {"username": "alice", "email": "Alice@Example.com", "enabled": true,
             "requiredActions": ["VERIFY_EMAIL", "UPDATE_PASSWORD"]}
        ]
    }))
    .unwrap();
    let image = build(rep, &BuildContext { now_ms: 1 }).unwrap().image;
    store.create_realm(&image, 1).await.unwrap();
    store.get_realm("acme").await.unwrap().unwrap()
}

async fn alice(store: &Store, realm: &RealmRecord) -> String {
    store
        .find_user_by_username(&realm.id, "alice")
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn action_tokens_are_single_use_and_purged(store: Store) {
    let realm = setup(&store).await;
    assert!(
        store
            .use_action_token(&realm.id, "j1", 1_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_action_token(&realm.id, "j1", 1_000)
            .await
            .unwrap()
    );
    assert!(store.action_token_used("j1").await.unwrap());
    assert!(
        store
            .use_action_token(&realm.id, "j2", 5_000)
            .await
            .unwrap()
    );
    // Concurrent uses of one id: exactly one wins.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = store.clone();
        let r = realm.id.clone();
        tasks.push(tokio::spawn(async move {
            s.use_action_token(&r, "race", 9_000).await.unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if t.await.unwrap() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
    // Expired ids go; live ones stay.
    assert_eq!(store.purge_used_action_tokens(2_000, 100).await.unwrap(), 1);
    assert!(!store.action_token_used("j1").await.unwrap());
    assert!(store.action_token_used("j2").await.unwrap());
}

fn cred(user_id: &str, n: &str, at: i64) -> CredentialRecord {
    CredentialRecord {
        id: new_id(),
        user_id: user_id.to_string(),
        type_: "password".into(),
        user_label: None,
        created_date: at,
        priority: 10,
        secret: CredentialSecret::Stored {
            secret_data: format!("{{\"value\":\"{n}\"}}"),
            credential_data: "{}".into(),
        },
    }
}

fn values(h: &[portcullis_store::StoredHash]) -> Vec<String> {
    h.iter().map(|h| h.secret_data.clone()).collect()
}

async fn password_change_keeps_history(store: Store) {
    let realm = setup(&store).await;
    let id = alice(&store, &realm).await;
    store
        .change_password(&realm.id, &cred(&id, "one", 10), 2, false)
        .await
        .unwrap();
    assert_eq!(store.required_actions(&id).await.unwrap(), ["VERIFY_EMAIL"]);
    store
        .change_password(&realm.id, &cred(&id, "two", 20), 2, false)
        .await
        .unwrap();
    store
        .change_password(&realm.id, &cred(&id, "three", 30), 2, false)
        .await
        .unwrap();
    store
        .change_password(&realm.id, &cred(&id, "four", 40), 2, true)
        .await
        .unwrap();
    // Current first, then at most `keep` older ones, newest first.
    let h = store.password_hashes(&id, 5).await.unwrap();
    assert_eq!(
        values(&h),
        [
            "{\"value\":\"four\"}",
            "{\"value\":\"three\"}",
            "{\"value\":\"two\"}"
        ]
    );
    assert_eq!(store.password_hashes(&id, 0).await.unwrap().len(), 1);
    assert_eq!(store.credentials(&id).await.unwrap().len(), 1);
    assert!(
        store
            .required_actions(&id)
            .await
            .unwrap()
            .contains(&"UPDATE_PASSWORD".to_string())
    );
    // keep 0 empties the history.
    store
        .change_password(&realm.id, &cred(&id, "five", 50), 0, false)
        .await
        .unwrap();
    assert_eq!(store.password_hashes(&id, 5).await.unwrap().len(), 1);
    // Plaintext is refused; another realm does not reach the user.
    let mut plain = cred(&id, "x", 60);
    plain.secret = CredentialSecret::Plain(zeroize::Zeroizing::new("pw".into()));
    assert!(matches!(
        store.change_password(&realm.id, &plain, 1, false).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store
            .change_password("other", &cred(&id, "y", 70), 1, false)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        values(&store.password_hashes(&id, 5).await.unwrap()),
        ["{\"value\":\"five\"}"]
    );
    // Deleting the user deletes the history.
    assert!(store.delete_user(&realm.id, &id).await.unwrap());
    assert!(store.password_hashes(&id, 5).await.unwrap().is_empty());
}

async fn password_history_by_age(store: Store) {
    use portcullis_store::HistoryKeep;
    let realm = setup(&store).await;
    let id = alice(&store, &realm).await;
    // Set at 10, 20, 30, 40; the history keeps one newest entry and everything set since 15.
    let keep = HistoryKeep {
        newest: 1,
        since_ms: Some(15),
    };
    for (pw, at) in [("one", 10), ("two", 20), ("three", 30), ("four", 40)] {
        store
            .change_password(&realm.id, &cred(&id, pw, at), keep, false)
            .await
            .unwrap();
    }
    assert_eq!(store.password_created(&id).await.unwrap(), Some(40));
    assert_eq!(
        values(&store.password_hashes_since(&id, 15).await.unwrap()),
        [
            "{\"value\":\"four\"}",
            "{\"value\":\"three\"}",
            "{\"value\":\"two\"}"
        ]
    );
    assert_eq!(
        values(&store.password_hashes_since(&id, 25).await.unwrap()),
        ["{\"value\":\"four\"}", "{\"value\":\"three\"}"]
    );
    // "one" (10) was older than 15 and not among the newest one: gone.
    assert_eq!(
        values(&store.password_hashes_since(&id, 0).await.unwrap()),
        [
            "{\"value\":\"four\"}",
            "{\"value\":\"three\"}",
            "{\"value\":\"two\"}"
        ]
    );
    assert_eq!(store.password_created("nobody").await.unwrap(), None);
    // An expired password becomes a required action, added once.
    for _ in 0..2 {
        assert!(
            store
                .add_required_action(&id, "UPDATE_PASSWORD")
                .await
                .unwrap()
        );
    }
    assert!(
        store
            .required_actions(&id)
            .await
            .unwrap()
            .iter()
            .filter(|a| *a == "UPDATE_PASSWORD")
            .count()
            == 1
    );
    assert!(
        !store
            .add_required_action("nobody", "UPDATE_PASSWORD")
            .await
            .unwrap()
    );
}

async fn email_verification_needs_the_same_address(store: Store) {
    let realm = setup(&store).await;
    let id = alice(&store, &realm).await;
    assert!(
        !store
            .verify_email(&realm.id, &id, "other@example.com")
            .await
            .unwrap()
    );
    let u = store.user_by_id(&realm.id, &id).await.unwrap().unwrap();
    assert!(!u.email_verified);
    assert!(
        store
            .verify_email(&realm.id, &id, "alice@example.com")
            .await
            .unwrap()
    );
    let u = store.user_by_id(&realm.id, &id).await.unwrap().unwrap();
    assert!(u.email_verified);
    assert_eq!(
        store.required_actions(&id).await.unwrap(),
        ["UPDATE_PASSWORD"]
    );
    assert!(
        !store
            .verify_email("other", &id, "alice@example.com")
            .await
            .unwrap()
    );
}

async fn login_flow_state(store: Store) {
    let realm = setup(&store).await;
    let id = alice(&store, &realm).await;
    let client = store
        .client_by_client_id(&realm.id, "web")
        .await
        .unwrap()
        .unwrap();
    let row = AuthSessionRecord {
        id: "s1".into(),
        realm_id: realm.id.clone(),
        client_id: client.id.clone(),
        request: "{}".into(),
        user_id: Some(id.clone()),
        csrf_token: "c".into(),
        created: 1,
        expires_at: i64::MAX,
    };
    let flow = LoginFlowRecord {
        auth_session_id: "s1".into(),
        actions: vec!["UPDATE_PASSWORD".into(), "UPDATE_PROFILE".into()],
        redirect_uri: Some("https://app/cb".into()),
        kind: "execute-actions".into(),
    };
    store.create_login_flow(&row, &flow).await.unwrap();
    assert_eq!(store.login_flow("s1").await.unwrap().unwrap(), flow);
    assert!(
        store
            .finish_flow_action("s1", "UPDATE_PASSWORD")
            .await
            .unwrap()
    );
    assert!(
        !store
            .finish_flow_action("s1", "UPDATE_PASSWORD")
            .await
            .unwrap()
    );
    assert_eq!(
        store.login_flow("s1").await.unwrap().unwrap().actions,
        ["UPDATE_PROFILE"]
    );
    // Attach to another login: replaces its flow state and sets the user.
    let other = AuthSessionRecord {
        id: "s2".into(),
        user_id: None,
        ..row.clone()
    };
    store.create_auth_session(&other).await.unwrap();
    let attached = LoginFlowRecord {
        auth_session_id: "s2".into(),
        actions: vec![],
        redirect_uri: None,
        kind: "login".into(),
    };
    assert!(store.attach_login_flow("s2", &id, &attached).await.unwrap());
    assert_eq!(
        store.auth_session("s2", 0).await.unwrap().unwrap().user_id,
        Some(id.clone())
    );
    assert!(
        !store
            .attach_login_flow("nope", &id, &attached)
            .await
            .unwrap()
    );
    // Ending the login ends its flow state.
    assert!(store.delete_auth_session("s1").await.unwrap());
    assert!(store.login_flow("s1").await.unwrap().is_none());
    assert!(
        !store
            .finish_flow_action("s1", "UPDATE_PROFILE")
            .await
            .unwrap()
    );
}

async fn otp_credential_is_added_and_clears_the_action(store: Store) {
    let realm = setup(&store).await;
    let id = alice(&store, &realm).await;
    store
        .update_user(
            &store.user_by_id(&realm.id, &id).await.unwrap().unwrap(),
            None,
            Some(&["CONFIGURE_TOTP".to_string()]),
            true,
        )
        .await
        .unwrap()
        .unwrap();
    let mut c = cred(&id, "otp-secret", 5);
    c.type_ = "otp".into();
    store.add_otp_credential(&realm.id, &c).await.unwrap();
    let creds = store.credentials(&id).await.unwrap();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].type_, "otp");
    assert!(store.required_actions(&id).await.unwrap().is_empty());
    // A password change leaves the OTP credential alone.
    store
        .change_password(&realm.id, &cred(&id, "pw", 6), 1, false)
        .await
        .unwrap();
    assert_eq!(store.credentials(&id).await.unwrap().len(), 2);
    assert!(matches!(
        store.add_otp_credential("other", &c).await,
        Err(StoreError::NotFound(_))
    ));
}
