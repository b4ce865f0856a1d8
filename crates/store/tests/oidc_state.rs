//! The OpenID Connect runtime state (sessions, refresh rotation, codes, logins, revocations,
//! keys) and the lookups token building needs: every test runs on SQLite and on PostgreSQL.
//!
//! PostgreSQL comes from `PORTCULLIS_TEST_PG_URL`; each test gets a fresh schema there, and a
//! fresh SQLite file here. A few tests change rows no store method changes yet (deleting a user
//! or a client) through a separate raw connection to the same database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use portcullis_model::import::{BuildContext, build};
use portcullis_model::records::*;
use portcullis_model::repr::*;
use portcullis_store::{
    CODE_RETENTION_MS, CodeRedemption, ConnectOptions, DbTarget, LoginEventQuery, LoginEventRecord,
    Page, RefreshOutcome, SessionLifespans, Store, StoreError,
};
use std::collections::BTreeSet;

struct Db {
    store: Store,
    /// URL of the same database for raw statements, and the statement that sets a connection up.
    raw_url: String,
    raw_setup: String,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("data/portcullis.db");
    let store = Store::connect(&ConnectOptions::new(DbTarget::SqliteFile(path.clone())))
        .await
        .expect("sqlite connect");
    Db {
        store,
        raw_url: format!("sqlite://{}", path.display()),
        raw_setup: "PRAGMA foreign_keys = ON".into(),
        _dir: Some(dir),
    }
}

fn pg_url() -> String {
    std::env::var("PORTCULLIS_TEST_PG_URL").expect(
        "PORTCULLIS_TEST_PG_URL is not set: run the suite with scripts/test, which starts PostgreSQL for it",
    )
}

async fn postgres() -> Db {
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let store = Store::connect(&ConnectOptions::new(DbTarget::Postgres {
        url: pg_url(),
        username: None,
        password: None,
        schema: Some(schema.clone()),
    }))
    .await
    .expect("postgres connect");
    Db {
        store,
        raw_url: pg_url(),
        raw_setup: format!("SET search_path TO \"{schema}\""),
        _dir: None,
    }
}

/// Run one statement on its own connection (test-only changes no store method makes).
async fn raw(db: &Db, sql: &str) {
    use sqlx::Connection as _;
    let mut c = sqlx::AnyConnection::connect(&db.raw_url)
        .await
        .expect("raw connect");
    sqlx::query(sqlx::AssertSqlSafe(db.raw_setup.clone()))
        .execute(&mut c)
        .await
        .expect("raw setup");
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut c)
        .await
        .expect("raw statement");
    c.close().await.expect("raw close");
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { super::$name(super::sqlite().await).await }) *
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() { super::$name(super::postgres().await).await }) *
        }
    };
}

suite!(
    user_sessions_round_trip,
    client_session_upsert_keeps_id_and_rotation_state,
    refresh_without_enforcement_accepts_older_generations,
    refresh_enforced_single_use,
    refresh_enforced_max_reuse_two,
    refresh_concurrent_single_use_rotates_once,
    refresh_on_a_missing_session,
    code_single_use_under_parallel_redemption,
    code_expiry_replay_and_unknown,
    deleting_a_user_session_removes_client_sessions_and_codes,
    deleting_user_client_or_realm_removes_sessions,
    auth_sessions_expire,
    revoked_token_ids,
    key_rotation_and_flags,
    active_key_or_add_has_one_winner,
    user_lookups_for_login,
    replace_password_swaps_the_password_credential,
    direct_groups_have_full_paths,
    clients_scopes_mappers_and_scope_mappings,
    purge_removes_only_expired_rows,
    purge_user_sessions_by_lifespans,
    login_events_filters_pages_and_expiry,
    session_counts_per_realm_and_client,
);

const NOW: i64 = 1_700_000_000_000;
const MIN: i64 = 60_000;

fn sample() -> RealmRepresentation {
    serde_json::from_value(serde_json::json!({
        "realm": "acme",
        "enabled": true,
        "roles": {
            "realm": [{"name": "viewer"}, {"name": "auditor"}],
            "client": {"app": [{"name": "app-admin"}, {"name": "app-user"}]}
        },
        "clients": [
            {"clientId": "app", "secret": "s3cret", "redirectUris": ["https://app.example/*"],
             "fullScopeAllowed": false,
             "protocolMappers": [
                {"name": "groups", "protocol": "openid-connect",
                 "protocolMapper": "oidc-group-membership-mapper",
                 "config": {"claim.name": "groups", "full.path": "true", "access.token.claim": "true"}},
                {"name": "aud", "protocol": "openid-connect",
                 "protocolMapper": "oidc-audience-mapper",
                 "config": {"included.client.audience": "worker"}}]},
            {"clientId": "worker", "secret": "w", "serviceAccountsEnabled": true}
        ],
        "scopeMappings": [{"client": "app", "roles": ["viewer"]}],
        "clientScopeMappings": {"app": [{"client": "app", "roles": ["app-user"]}]},
        "groups": [
            {"name": "staff", "attributes": {"site": ["hq"]}, "subGroups": [
                {"name": "admins", "attributes": {"level": ["2", "3"]}, "subGroups": [{"name": "root"}]}
            ]},
            {"name": "audit"}
        ],
        "users": [
            {"username": "Alice", "email": "Alice@Example.com", "enabled": true,
             "groups": ["/staff/admins/root"],
             "attributes": {"dept": ["eng"], "aliases": ["al", "ali"]},
             "credentials": [{"type": "password", "secretData": "{\"value\":\"AAAA\",\"salt\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"additionalParameters\":{}}",
                              "credentialData": "{\"hashIterations\":27500,\"algorithm\":\"pbkdf2-sha256\",\"additionalParameters\":{}}"}]},
            {"username": "bob", "email": "bob@example.com", "enabled": true,
             "groups": ["/audit", "/staff", "/staff/admins"],
             "requiredActions": ["UPDATE_PASSWORD", "VERIFY_EMAIL"]},
            {"username": "carol"}
        ]
    }))
    .expect("sample realm")
}

fn image_of(rep: RealmRepresentation) -> RealmImage {
    build(rep, &BuildContext { now_ms: NOW })
        .expect("valid sample")
        .image
}

/// The sample realm, stored, and the ids the tests use.
struct Fx {
    realm: RealmRecord,
    alice: UserRecord,
    bob: UserRecord,
    app: ClientRecord,
    worker: ClientRecord,
}

async fn fixture(store: &Store) -> Fx {
    store.create_realm(&image_of(sample()), NOW).await.unwrap();
    let realm = store.get_realm("acme").await.unwrap().unwrap();
    let user = |name: &'static str| {
        let realm_id = realm.id.clone();
        async move {
            store
                .find_user_by_username(&realm_id, name)
                .await
                .unwrap()
                .unwrap()
        }
    };
    let alice = user("alice").await;
    let bob = user("bob").await;
    let app = store
        .client_by_client_id(&realm.id, "app")
        .await
        .unwrap()
        .unwrap();
    let worker = store
        .client_by_client_id(&realm.id, "worker")
        .await
        .unwrap()
        .unwrap();
    Fx {
        realm,
        alice,
        bob,
        app,
        worker,
    }
}

fn user_session(fx: &Fx, user: &UserRecord, started: i64) -> UserSessionRecord {
    UserSessionRecord {
        id: new_id(),
        realm_id: fx.realm.id.clone(),
        user_id: user.id.clone(),
        auth_time_s: started / 1000,
        started,
        last_refresh: started,
        remember_me: false,
        ip_address: Some("192.0.2.7".into()),
    }
}

fn client_session(us: &UserSessionRecord, client: &ClientRecord) -> ClientSessionRecord {
    ClientSessionRecord {
        id: new_id(),
        user_session_id: us.id.clone(),
        client_id: client.id.clone(),
        scope: "openid profile".into(),
        redirect_uri: Some("https://app.example/cb".into()),
        started: us.started,
        refresh_generation: 0,
        refresh_uses: 0,
    }
}

fn code(fx: &Fx, cs: &ClientSessionRecord, expires_at: i64) -> AuthCodeRecord {
    AuthCodeRecord {
        code_hash: new_id(),
        realm_id: fx.realm.id.clone(),
        client_id: cs.client_id.clone(),
        user_session_id: cs.user_session_id.clone(),
        client_session_id: cs.id.clone(),
        redirect_uri: "https://app.example/cb".into(),
        scope: cs.scope.clone(),
        nonce: Some("n-1".into()),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some("S256".into()),
        auth_time_s: NOW / 1000,
        expires_at,
        used_at: None,
        acr: "1".into(),
    }
}

/// An SSO session of alice with a client session for app: (user session, client session).
async fn logged_in(store: &Store, fx: &Fx) -> (UserSessionRecord, ClientSessionRecord) {
    let us = user_session(fx, &fx.alice, NOW);
    store.create_user_session(&us).await.unwrap();
    let cs = store
        .upsert_client_session(&client_session(&us, &fx.app))
        .await
        .unwrap();
    (us, cs)
}

fn rotated(outcome: RefreshOutcome) -> i64 {
    match outcome {
        RefreshOutcome::Rotated { new_generation } => new_generation,
        other => panic!("expected Rotated, got {other:?}"),
    }
}

// ------------------------------------------------------------------------- user sessions

async fn user_sessions_round_trip(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let mut a1 = user_session(&fx, &fx.alice, NOW);
    a1.remember_me = true;
    let a2 = user_session(&fx, &fx.alice, NOW + 1000);
    let b1 = user_session(&fx, &fx.bob, NOW);
    for s in [&a1, &a2, &b1] {
        store.create_user_session(s).await.unwrap();
    }
    assert!(matches!(
        store.create_user_session(&a1).await,
        Err(StoreError::Conflict(_))
    ));
    let mut stray = user_session(&fx, &fx.alice, NOW);
    stray.user_id = new_id();
    assert!(
        matches!(
            store.create_user_session(&stray).await,
            Err(StoreError::Conflict(_))
        ),
        "an unknown user is a reference violation"
    );
    assert_eq!(store.user_session(&a1.id).await.unwrap(), Some(a1.clone()));
    assert_eq!(store.user_session("nope").await.unwrap(), None);
    assert_eq!(store.count_user_sessions(&fx.realm.id).await.unwrap(), 3);
    assert_eq!(
        store.user_sessions_of_user(&fx.alice.id).await.unwrap(),
        vec![a1.clone(), a2.clone()],
        "oldest first"
    );

    // Touch moves last_refresh forward, never back.
    assert!(store.touch_user_session(&a1.id, NOW + 5000).await.unwrap());
    assert!(store.touch_user_session(&a1.id, NOW + 10).await.unwrap());
    let touched = store.user_session(&a1.id).await.unwrap().unwrap();
    assert_eq!(touched.last_refresh, NOW + 5000);
    assert_eq!(touched.started, NOW);
    assert!(!store.touch_user_session("nope", NOW).await.unwrap());

    assert!(store.delete_user_session(&a2.id).await.unwrap());
    assert!(!store.delete_user_session(&a2.id).await.unwrap());
    assert_eq!(
        store
            .delete_user_sessions_of_user(&fx.realm.id, &fx.alice.id)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .delete_user_sessions_of_user(&fx.realm.id, &fx.alice.id)
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.count_user_sessions(&fx.realm.id).await.unwrap(), 1);
    assert_eq!(
        store.user_sessions_of_user(&fx.bob.id).await.unwrap(),
        vec![b1]
    );
}

// ----------------------------------------------------------------------- client sessions

async fn client_session_upsert_keeps_id_and_rotation_state(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let (us, cs) = logged_in(store, &fx).await;
    assert_eq!(cs.refresh_generation, 0);
    assert_eq!(
        store.client_session(&cs.id).await.unwrap(),
        Some(cs.clone())
    );
    assert_eq!(
        store.client_session_for(&us.id, &fx.app.id).await.unwrap(),
        Some(cs.clone())
    );
    assert_eq!(
        store
            .client_session_for(&us.id, &fx.worker.id)
            .await
            .unwrap(),
        None
    );
    rotated(store.use_refresh_token(&cs.id, 0, true, 0).await.unwrap());

    // A second login of the same client in the same SSO session: same row, new scope.
    let mut again = client_session(&us, &fx.app);
    again.scope = "openid email".into();
    again.redirect_uri = Some("https://app.example/other".into());
    again.started = NOW + 60_000;
    let kept = store.upsert_client_session(&again).await.unwrap();
    assert_eq!(kept.id, cs.id, "keeps its id");
    assert_eq!(kept.started, cs.started, "keeps its start");
    assert_eq!(
        (kept.refresh_generation, kept.refresh_uses),
        (1, 1),
        "keeps its rotation state"
    );
    assert_eq!(kept.scope, "openid email");
    assert_eq!(
        kept.redirect_uri.as_deref(),
        Some("https://app.example/other")
    );
    assert_eq!(
        store.client_session(&cs.id).await.unwrap(),
        Some(kept.clone())
    );
    assert_eq!(store.client_session(&again.id).await.unwrap(), None);

    // Concurrent first logins of one client end with one client session.
    let us2 = user_session(&fx, &fx.bob, NOW);
    store.create_user_session(&us2).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let rec = client_session(&us2, &fx.worker);
        tasks.push(tokio::spawn(async move {
            store.upsert_client_session(&rec).await.unwrap().id
        }));
    }
    let mut ids = BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "every upsert returns the one stored session");

    let other = store
        .upsert_client_session(&client_session(&us, &fx.worker))
        .await
        .unwrap();
    assert_eq!(
        store
            .client_sessions_of(&us.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect::<BTreeSet<_>>(),
        BTreeSet::from([kept.id.clone(), other.id.clone()])
    );
    assert!(store.delete_client_session(&other.id).await.unwrap());
    assert!(!store.delete_client_session(&other.id).await.unwrap());
    assert_eq!(store.client_sessions_of(&us.id).await.unwrap(), vec![kept]);
    assert!(
        store.user_session(&us.id).await.unwrap().is_some(),
        "the SSO session stays"
    );
}

// ---------------------------------------------------------------------- refresh rotation

async fn refresh_without_enforcement_accepts_older_generations(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let (_, cs) = logged_in(store, &fx).await;
    // Every use rotates; any generation already issued is accepted.
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 0, false, 0).await.unwrap()),
        1
    );
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 0, false, 0).await.unwrap()),
        2
    );
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 2, false, 0).await.unwrap()),
        3
    );
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 1, false, 0).await.unwrap()),
        4
    );
    // A generation never issued is refused even so.
    assert_eq!(
        store.use_refresh_token(&cs.id, 9, false, 0).await.unwrap(),
        RefreshOutcome::Stale
    );
    assert_eq!(
        store.use_refresh_token(&cs.id, -1, false, 0).await.unwrap(),
        RefreshOutcome::Stale
    );
    let now = store.client_session(&cs.id).await.unwrap().unwrap();
    assert_eq!((now.refresh_generation, now.refresh_uses), (4, 1));
    // Turning enforcement on later: the newest token works, older ones are stale.
    assert_eq!(
        store.use_refresh_token(&cs.id, 2, true, 0).await.unwrap(),
        RefreshOutcome::Stale
    );
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 4, true, 0).await.unwrap()),
        5
    );
}

async fn refresh_enforced_single_use(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let (_, cs) = logged_in(store, &fx).await;
    // max_reuse 0: each token is good for one use; the newest token always works.
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 0, true, 0).await.unwrap()),
        1
    );
    assert_eq!(
        store.use_refresh_token(&cs.id, 0, true, 0).await.unwrap(),
        RefreshOutcome::Stale,
        "a second use of token 0"
    );
    // The refusal changed nothing: the token issued by the first use still works.
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 1, true, 0).await.unwrap()),
        2
    );
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 2, true, 0).await.unwrap()),
        3
    );
    assert_eq!(
        store.use_refresh_token(&cs.id, 1, true, 0).await.unwrap(),
        RefreshOutcome::Stale,
        "an older token"
    );
    assert_eq!(
        store.use_refresh_token(&cs.id, 7, true, 0).await.unwrap(),
        RefreshOutcome::Stale,
        "a generation never issued"
    );
    let now = store.client_session(&cs.id).await.unwrap().unwrap();
    assert_eq!((now.refresh_generation, now.refresh_uses), (3, 1));
}

async fn refresh_enforced_max_reuse_two(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let (_, cs) = logged_in(store, &fx).await;
    // Token 0 may be used three times (max_reuse + 1); each use issues a new token.
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 0, true, 2).await.unwrap()),
        1
    );
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 0, true, 2).await.unwrap()),
        2
    );
    // Token 1, issued by the first use, is no longer the newest: stale.
    assert_eq!(
        store.use_refresh_token(&cs.id, 1, true, 2).await.unwrap(),
        RefreshOutcome::Stale
    );
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 0, true, 2).await.unwrap()),
        3
    );
    assert_eq!(
        store.use_refresh_token(&cs.id, 0, true, 2).await.unwrap(),
        RefreshOutcome::Stale,
        "a fourth use of token 0"
    );
    let s = store.client_session(&cs.id).await.unwrap().unwrap();
    assert_eq!((s.refresh_generation, s.refresh_uses), (3, 3));
    // The newest token (3) becomes current with a fresh budget; token 0 is then stale.
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 3, true, 2).await.unwrap()),
        4
    );
    assert_eq!(
        rotated(store.use_refresh_token(&cs.id, 3, true, 2).await.unwrap()),
        5
    );
    assert_eq!(
        store.use_refresh_token(&cs.id, 0, true, 2).await.unwrap(),
        RefreshOutcome::Stale
    );
    // A well-behaved client always presenting the newest token never runs out.
    let mut g = 5;
    for _ in 0..5 {
        g = rotated(store.use_refresh_token(&cs.id, g, true, 2).await.unwrap());
    }
    assert_eq!(g, 10);
    let s = store.client_session(&cs.id).await.unwrap().unwrap();
    assert_eq!((s.refresh_generation, s.refresh_uses), (10, 1));
}

async fn refresh_concurrent_single_use_rotates_once(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let (_, cs) = logged_in(store, &fx).await;
    for round in 0..3 {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            let id = cs.id.clone();
            tasks.push(tokio::spawn(async move {
                store.use_refresh_token(&id, round, true, 0).await.unwrap()
            }));
        }
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap());
        }
        let won: Vec<_> = outcomes
            .iter()
            .filter(|o| matches!(o, RefreshOutcome::Rotated { .. }))
            .collect();
        assert_eq!(won.len(), 1, "round {round}: {outcomes:?}");
        assert_eq!(
            *won[0],
            RefreshOutcome::Rotated {
                new_generation: round + 1
            }
        );
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, RefreshOutcome::Rotated { .. } | RefreshOutcome::Stale))
        );
    }
}

async fn refresh_on_a_missing_session(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let (us, cs) = logged_in(store, &fx).await;
    assert_eq!(
        store.use_refresh_token("nope", 0, true, 0).await.unwrap(),
        RefreshOutcome::SessionGone
    );
    assert!(store.delete_user_session(&us.id).await.unwrap());
    for enforce in [false, true] {
        assert_eq!(
            store
                .use_refresh_token(&cs.id, 0, enforce, 0)
                .await
                .unwrap(),
            RefreshOutcome::SessionGone
        );
    }
}

// ------------------------------------------------------------------------------- codes

async fn code_single_use_under_parallel_redemption(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let (_, cs) = logged_in(store, &fx).await;
    let c = code(&fx, &cs, NOW + MIN);
    store.insert_code(&c).await.unwrap();
    assert!(matches!(
        store.insert_code(&c).await,
        Err(StoreError::Conflict(_))
    ));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        let hash = c.code_hash.clone();
        tasks.push(tokio::spawn(async move {
            store.redeem_code(&hash, NOW + 1000 + i).await.unwrap()
        }));
    }
    let (mut redeemed, mut replayed) = (Vec::new(), 0);
    for t in tasks {
        match t.await.unwrap() {
            CodeRedemption::Redeemed(r) => redeemed.push(r),
            CodeRedemption::Replayed(r) => {
                assert!(r.used_at.is_some());
                assert_eq!(r.client_session_id, cs.id);
                replayed += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(redeemed.len(), 1, "exactly one redemption");
    assert_eq!(replayed, 15);
    let r = &redeemed[0];
    let used_at = r.used_at.expect("marked used");
    assert!((NOW + 1000..NOW + 1016).contains(&used_at));
    let mut expected = c.clone();
    expected.used_at = Some(used_at);
    assert_eq!(*r, expected, "the redeemed record is the stored code");
}

async fn code_expiry_replay_and_unknown(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let (_, cs) = logged_in(store, &fx).await;
    let fresh = code(&fx, &cs, NOW + MIN);
    let stale = code(&fx, &cs, NOW + MIN);
    store.insert_code(&fresh).await.unwrap();
    store.insert_code(&stale).await.unwrap();
    // Expiry is exclusive: at expires_at the code is no longer good.
    assert_eq!(
        store
            .redeem_code(&stale.code_hash, NOW + MIN)
            .await
            .unwrap(),
        CodeRedemption::Expired
    );
    assert!(matches!(
        store
            .redeem_code(&fresh.code_hash, NOW + MIN - 1)
            .await
            .unwrap(),
        CodeRedemption::Redeemed(_)
    ));
    // A replay is a replay, also after the code's expiry.
    for at in [NOW + MIN - 1, NOW + 5 * MIN] {
        match store.redeem_code(&fresh.code_hash, at).await.unwrap() {
            CodeRedemption::Replayed(r) => assert_eq!(r.used_at, Some(NOW + MIN - 1)),
            other => panic!("expected a replay, got {other:?}"),
        }
    }
    assert_eq!(
        store.redeem_code("no-such-code", NOW).await.unwrap(),
        CodeRedemption::Unknown
    );
    // A code for a session that does not exist cannot be stored.
    let mut orphan = code(&fx, &cs, NOW + MIN);
    orphan.client_session_id = new_id();
    assert!(matches!(
        store.insert_code(&orphan).await,
        Err(StoreError::Conflict(_))
    ));
}

// ------------------------------------------------------------------------------ cascades

async fn deleting_a_user_session_removes_client_sessions_and_codes(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let (us, cs) = logged_in(store, &fx).await;
    let cs2 = store
        .upsert_client_session(&client_session(&us, &fx.worker))
        .await
        .unwrap();
    let c1 = code(&fx, &cs, NOW + MIN);
    let c2 = code(&fx, &cs2, NOW + MIN);
    store.insert_code(&c1).await.unwrap();
    store.insert_code(&c2).await.unwrap();
    // Another session of alice's is untouched.
    let (other_us, other_cs) = logged_in(store, &fx).await;
    let c3 = code(&fx, &other_cs, NOW + MIN);
    store.insert_code(&c3).await.unwrap();

    // Deleting a client session takes its codes with it.
    assert!(store.delete_client_session(&cs2.id).await.unwrap());
    assert_eq!(
        store.redeem_code(&c2.code_hash, NOW).await.unwrap(),
        CodeRedemption::Unknown
    );

    assert!(store.delete_user_session(&us.id).await.unwrap());
    assert_eq!(store.client_session(&cs.id).await.unwrap(), None);
    assert!(store.client_sessions_of(&us.id).await.unwrap().is_empty());
    assert_eq!(
        store.redeem_code(&c1.code_hash, NOW).await.unwrap(),
        CodeRedemption::Unknown
    );
    assert!(store.user_session(&other_us.id).await.unwrap().is_some());
    assert!(matches!(
        store.redeem_code(&c3.code_hash, NOW).await.unwrap(),
        CodeRedemption::Redeemed(_)
    ));
}

async fn deleting_user_client_or_realm_removes_sessions(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let (alice_us, alice_cs) = logged_in(store, &fx).await;
    let alice_code = code(&fx, &alice_cs, NOW + MIN);
    store.insert_code(&alice_code).await.unwrap();
    let bob_us = user_session(&fx, &fx.bob, NOW);
    store.create_user_session(&bob_us).await.unwrap();
    let bob_app = store
        .upsert_client_session(&client_session(&bob_us, &fx.app))
        .await
        .unwrap();
    let bob_worker = store
        .upsert_client_session(&client_session(&bob_us, &fx.worker))
        .await
        .unwrap();
    let login = auth_session(&fx, Some(&fx.alice.id), NOW + MIN);
    store.create_auth_session(&login).await.unwrap();

    // Deleting alice deletes her sessions, codes and logins in progress, nothing of bob's.
    raw(
        &db,
        &format!("DELETE FROM user_entity WHERE id = '{}'", fx.alice.id),
    )
    .await;
    assert_eq!(store.user_session(&alice_us.id).await.unwrap(), None);
    assert_eq!(store.client_session(&alice_cs.id).await.unwrap(), None);
    assert_eq!(
        store.redeem_code(&alice_code.code_hash, NOW).await.unwrap(),
        CodeRedemption::Unknown
    );
    assert!(store.auth_session(&login.id, NOW).await.unwrap().is_none());
    assert_eq!(store.count_user_sessions(&fx.realm.id).await.unwrap(), 1);

    // Deleting a client deletes its client sessions; the SSO session stays.
    raw(
        &db,
        &format!("DELETE FROM client WHERE id = '{}'", fx.worker.id),
    )
    .await;
    assert_eq!(store.client_session(&bob_worker.id).await.unwrap(), None);
    assert_eq!(
        store
            .client_session(&bob_app.id)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(bob_app.id.clone())
    );

    // Deleting the realm deletes everything else.
    store
        .revoke_token_id(&fx.realm.id, "jti-1", NOW + MIN)
        .await
        .unwrap();
    assert!(store.delete_realm("acme").await.unwrap());
    assert_eq!(store.user_session(&bob_us.id).await.unwrap(), None);
    assert_eq!(store.client_session(&bob_app.id).await.unwrap(), None);
    assert_eq!(store.count_user_sessions(&fx.realm.id).await.unwrap(), 0);
    assert!(!store.is_token_id_revoked("jti-1").await.unwrap());
    // And the realm can be created again with the same ids.
    fixture(store).await;
}

// ------------------------------------------------------------------------ login sessions

fn auth_session(fx: &Fx, user_id: Option<&str>, expires_at: i64) -> AuthSessionRecord {
    AuthSessionRecord {
        id: new_id(),
        realm_id: fx.realm.id.clone(),
        client_id: fx.app.id.clone(),
        request: r#"{"response_type":"code","state":"xyz"}"#.into(),
        user_id: user_id.map(str::to_string),
        csrf_token: "csrf-1".into(),
        created: NOW,
        expires_at,
    }
}

async fn auth_sessions_expire(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let s = auth_session(&fx, None, NOW + 30 * MIN);
    store.create_auth_session(&s).await.unwrap();
    assert!(matches!(
        store.create_auth_session(&s).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.auth_session(&s.id, NOW).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(
        store.auth_session(&s.id, NOW + 30 * MIN - 1).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(
        store.auth_session(&s.id, NOW + 30 * MIN).await.unwrap(),
        None
    );
    assert_eq!(store.auth_session("nope", NOW).await.unwrap(), None);

    assert!(
        store
            .set_auth_session_user(&s.id, Some(&fx.bob.id))
            .await
            .unwrap()
    );
    let with_user = store.auth_session(&s.id, NOW).await.unwrap().unwrap();
    assert_eq!(with_user.user_id.as_deref(), Some(fx.bob.id.as_str()));
    assert_eq!(with_user.csrf_token, "csrf-1");
    assert!(store.set_auth_session_user(&s.id, None).await.unwrap());
    assert_eq!(
        store
            .auth_session(&s.id, NOW)
            .await
            .unwrap()
            .unwrap()
            .user_id,
        None
    );
    assert!(!store.set_auth_session_user("nope", None).await.unwrap());

    assert!(store.delete_auth_session(&s.id).await.unwrap());
    assert!(!store.delete_auth_session(&s.id).await.unwrap());
    assert_eq!(store.auth_session(&s.id, NOW).await.unwrap(), None);
}

async fn revoked_token_ids(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    assert!(!store.is_token_id_revoked("jti-1").await.unwrap());
    store
        .revoke_token_id(&fx.realm.id, "jti-1", NOW + MIN)
        .await
        .unwrap();
    store
        .revoke_token_id(&fx.realm.id, "jti-1", NOW + MIN)
        .await
        .unwrap();
    assert!(store.is_token_id_revoked("jti-1").await.unwrap());
    assert!(!store.is_token_id_revoked("jti-2").await.unwrap());
}

// ---------------------------------------------------------------------------------- keys

fn key(realm_id: &str, kid: &str, algorithm: &str, created_at: i64) -> KeyRecord {
    KeyRecord {
        id: new_id(),
        realm_id: realm_id.to_string(),
        kid: kid.to_string(),
        algorithm: algorithm.into(),
        key_use: "sig".into(),
        private_der: zeroize::Zeroizing::new(vec![1, 2, 3, 0, 255]),
        certificate_der: Some(vec![9, 8, 7]),
        enabled: true,
        active: true,
        priority: 100,
        created_at,
    }
}

/// (kid, enabled, active), newest first.
async fn key_flags(store: &Store, realm_id: &str) -> Vec<(String, bool, bool)> {
    store
        .realm_keys(realm_id)
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid, k.enabled, k.active))
        .collect()
}

fn flags(v: &[(&str, bool, bool)]) -> Vec<(String, bool, bool)> {
    v.iter().map(|(k, e, a)| (k.to_string(), *e, *a)).collect()
}

async fn key_rotation_and_flags(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let rid = fx.realm.id.clone();
    let k1 = key(&rid, "k1", "RS256", 10);
    store.add_key(&k1).await.unwrap();
    let stored = store.realm_keys(&rid).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(*stored[0].private_der, vec![1, 2, 3, 0, 255]);
    assert_eq!(stored[0].certificate_der, Some(vec![9, 8, 7]));
    assert_eq!(stored[0].id, k1.id);

    // A new active key takes over signing; the old one stays published.
    let k2 = key(&rid, "k2", "RS256", 20);
    store.add_key(&k2).await.unwrap();
    // Other algorithms are independent; a passive key changes nothing.
    store.add_key(&key(&rid, "e1", "ES256", 15)).await.unwrap();
    let mut passive = key(&rid, "k0", "RS256", 5);
    passive.active = false;
    store.add_key(&passive).await.unwrap();
    assert_eq!(
        key_flags(store, &rid).await,
        flags(&[
            ("k2", true, true),
            ("e1", true, true),
            ("k1", true, false),
            ("k0", true, false)
        ])
    );
    // Duplicate kid in the realm.
    assert!(matches!(
        store.add_key(&key(&rid, "k2", "RS256", 30)).await,
        Err(StoreError::Conflict(_))
    ));

    // Re-activating k1 makes k2 passive.
    assert!(store.set_key_flags(&rid, &k1.id, true, true).await.unwrap());
    assert_eq!(
        key_flags(store, &rid).await,
        flags(&[
            ("k2", true, false),
            ("e1", true, true),
            ("k1", true, true),
            ("k0", true, false)
        ])
    );
    // Disabling a key also deactivates it: the realm then has no active RS256 key.
    assert!(
        store
            .set_key_flags(&rid, &k1.id, false, true)
            .await
            .unwrap()
    );
    assert_eq!(
        key_flags(store, &rid).await,
        flags(&[
            ("k2", true, false),
            ("e1", true, true),
            ("k1", false, false),
            ("k0", true, false)
        ])
    );
    assert!(
        !store
            .set_key_flags(&rid, "no-such-key", true, true)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_key_flags("other-realm", &k2.id, true, true)
            .await
            .unwrap(),
        "a key is addressed within its realm"
    );
    // With no active RS256 key, active_key_or_add stores the offered one.
    let k3 = key(&rid, "k3", "RS256", 40);
    assert_eq!(store.active_key_or_add(&k3).await.unwrap().kid, "k3");
    assert_eq!(
        store
            .active_key_or_add(&key(&rid, "k4", "RS256", 50))
            .await
            .unwrap()
            .kid,
        "k3",
        "an active key exists: it is returned and nothing is stored"
    );
    assert_eq!(store.realm_keys(&rid).await.unwrap().len(), 5);
}

async fn active_key_or_add_has_one_winner(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let rid = fx.realm.id.clone();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let k = key(&rid, &format!("kid-{i}"), "RS256", 100 + i);
        tasks.push(tokio::spawn(async move {
            store.active_key_or_add(&k).await.unwrap()
        }));
    }
    let mut winners = BTreeSet::new();
    for t in tasks {
        let k = t.await.unwrap();
        assert!(k.enabled && k.active);
        assert_eq!(*k.private_der, vec![1, 2, 3, 0, 255]);
        winners.insert(k.kid);
    }
    assert_eq!(
        winners.len(),
        1,
        "every node gets the same key: {winners:?}"
    );
    let stored = store.realm_keys(&rid).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(winners.contains(&stored[0].kid));
}

// ------------------------------------------------------------------------------- users

async fn user_lookups_for_login(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let rid = &fx.realm.id;
    let found = store
        .find_user_by_email(rid, "  ALICE@example.COM ")
        .await
        .unwrap();
    assert_eq!(found, vec![fx.alice.clone()]);
    assert_eq!(fx.alice.email.as_deref(), Some("alice@example.com"));
    assert!(
        store
            .find_user_by_email(rid, "nobody@example.com")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .find_user_by_email("other-realm", "alice@example.com")
            .await
            .unwrap()
            .is_empty()
    );

    assert_eq!(
        store.user_by_id(rid, &fx.alice.id).await.unwrap(),
        Some(fx.alice.clone())
    );
    assert_eq!(
        store.user_by_id("other-realm", &fx.alice.id).await.unwrap(),
        None
    );
    assert_eq!(store.user_by_id(rid, "nope").await.unwrap(), None);

    let attrs = store.user_attributes(&fx.alice.id).await.unwrap();
    let expected_attrs: Vec<(String, String)> = store
        .load_realm_image("acme")
        .await
        .unwrap()
        .unwrap()
        .users
        .into_iter()
        .find(|u| u.user.id == fx.alice.id)
        .unwrap()
        .attributes;
    assert_eq!(attrs, expected_attrs, "stored order");
    let aliases: Vec<&str> = attrs
        .iter()
        .filter(|(k, _)| k == "aliases")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(aliases, vec!["al", "ali"]);
    assert!(attrs.contains(&("dept".to_string(), "eng".to_string())));
    assert!(store.user_attributes(&fx.bob.id).await.unwrap().is_empty());

    assert_eq!(
        store.required_actions(&fx.bob.id).await.unwrap(),
        vec!["UPDATE_PASSWORD".to_string(), "VERIFY_EMAIL".to_string()]
    );
    assert!(
        store
            .remove_required_action(&fx.bob.id, "UPDATE_PASSWORD")
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_required_action(&fx.bob.id, "UPDATE_PASSWORD")
            .await
            .unwrap()
    );
    assert_eq!(
        store.required_actions(&fx.bob.id).await.unwrap(),
        vec!["VERIFY_EMAIL".to_string()]
    );

    let sa = store
        .service_account_user(&fx.worker.id)
        .await
        .unwrap()
        .expect("worker has a service account");
    assert_eq!(sa.username, "service-account-worker");
    assert_eq!(
        sa.service_account_client_id.as_deref(),
        Some(fx.worker.id.as_str())
    );
    assert_eq!(store.service_account_user(&fx.app.id).await.unwrap(), None);
}

async fn replace_password_swaps_the_password_credential(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let before = store.credentials(&fx.alice.id).await.unwrap();
    assert_eq!(before.len(), 1);
    let fresh = CredentialRecord {
        id: new_id(),
        user_id: fx.alice.id.clone(),
        type_: "password".into(),
        user_label: Some("My password".into()),
        created_date: NOW + 1,
        priority: 10,
        secret: CredentialSecret::Stored {
            secret_data: r#"{"value":"BBBB","salt":"","additionalParameters":{}}"#.into(),
            credential_data:
                r#"{"hashIterations":1,"algorithm":"argon2","additionalParameters":{}}"#.into(),
        },
    };
    store.replace_password(&fx.alice.id, &fresh).await.unwrap();
    assert_eq!(
        store.credentials(&fx.alice.id).await.unwrap(),
        vec![fresh.clone()]
    );
    // Again: still one password.
    let mut third = fresh.clone();
    third.id = new_id();
    store.replace_password(&fx.alice.id, &third).await.unwrap();
    assert_eq!(
        store.credentials(&fx.alice.id).await.unwrap(),
        vec![third.clone()]
    );
    // Bob had none: now he has one.
    let mut bobs = fresh.clone();
    bobs.id = new_id();
    bobs.user_id = fx.bob.id.clone();
    store.replace_password(&fx.bob.id, &bobs).await.unwrap();
    assert_eq!(store.credentials(&fx.bob.id).await.unwrap().len(), 1);

    let mut plain = fresh.clone();
    plain.id = new_id();
    plain.secret = CredentialSecret::Plain(zeroize::Zeroizing::new("pw".into()));
    assert!(matches!(
        store.replace_password(&fx.alice.id, &plain).await,
        Err(StoreError::Corrupt(_))
    ));
    let mut ghost = fresh.clone();
    ghost.id = new_id();
    assert!(matches!(
        store.replace_password("no-such-user", &ghost).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.credentials(&fx.alice.id).await.unwrap(),
        vec![third],
        "failed replacements change nothing"
    );
}

async fn direct_groups_have_full_paths(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let paths = |v: Vec<(String, String, String)>| {
        v.into_iter().map(|(_, n, p)| (n, p)).collect::<Vec<_>>()
    };
    let pair = |n: &str, p: &str| (n.to_string(), p.to_string());
    assert_eq!(
        paths(store.direct_groups(&fx.alice.id).await.unwrap()),
        vec![pair("root", "/staff/admins/root")]
    );
    let bob = store.direct_groups(&fx.bob.id).await.unwrap();
    assert_eq!(
        paths(bob.clone()),
        vec![
            pair("audit", "/audit"),
            pair("staff", "/staff"),
            pair("admins", "/staff/admins")
        ]
    );
    // The ids are the groups' ids.
    let (_, bob_groups) = store.user_memberships(&fx.bob.id).await.unwrap();
    assert_eq!(
        bob.into_iter()
            .map(|(id, _, _)| id)
            .collect::<BTreeSet<_>>(),
        bob_groups.into_iter().collect::<BTreeSet<_>>()
    );
    let carol = store
        .find_user_by_username(&fx.realm.id, "carol")
        .await
        .unwrap()
        .unwrap();
    assert!(store.direct_groups(&carol.id).await.unwrap().is_empty());

    // Group attributes for mappers: the user's groups and their ancestors, by full path;
    // groups without attributes are left out.
    let expected: std::collections::BTreeMap<String, Vec<(String, String)>> = [
        ("/staff".to_string(), vec![pair("site", "hq")]),
        (
            "/staff/admins".to_string(),
            vec![pair("level", "2"), pair("level", "3")],
        ),
    ]
    .into();
    assert_eq!(
        store.group_attributes_of_user(&fx.alice.id).await.unwrap(),
        expected
    );
    assert_eq!(
        store.group_attributes_of_user(&fx.bob.id).await.unwrap(),
        expected
    );
    assert!(
        store
            .group_attributes_of_user(&carol.id)
            .await
            .unwrap()
            .is_empty()
    );
}

// ------------------------------------------------------------------ clients and scopes

async fn clients_scopes_mappers_and_scope_mappings(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let rid = &fx.realm.id;

    let scopes = store.client_scopes_of(&fx.app.id).await.unwrap();
    let names: Vec<(&str, bool)> = scopes.iter().map(|(s, d)| (s.name.as_str(), *d)).collect();
    assert!(names.contains(&("profile", true)), "{names:?}");
    assert!(names.contains(&("offline_access", false)), "{names:?}");
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(names, sorted, "by name");
    // Same links as the realm image holds for the client.
    let image = store.load_realm_image("acme").await.unwrap().unwrap();
    let linked: BTreeSet<(String, bool)> = image
        .scope_links
        .iter()
        .filter(|l| l.owner_id == fx.app.id)
        .map(|l| (l.scope_id.clone(), l.default_scope))
        .collect();
    assert_eq!(
        scopes
            .iter()
            .map(|(s, d)| (s.id.clone(), *d))
            .collect::<BTreeSet<_>>(),
        linked
    );
    assert!(store.client_scopes_of("nope").await.unwrap().is_empty());

    // Mappers of the client and of a scope, in the order of the owners asked for.
    let profile = scopes
        .iter()
        .find(|(s, _)| s.name == "profile")
        .unwrap()
        .0
        .clone();
    let mappers = store
        .mappers_of(&[profile.id.clone(), fx.app.id.clone()])
        .await
        .unwrap();
    let owners: Vec<&str> = mappers.iter().map(|m| m.owner_id.as_str()).collect();
    let first_app = owners.iter().position(|o| *o == fx.app.id).unwrap();
    assert!(first_app > 0, "profile's mappers first");
    assert!(owners[..first_app].iter().all(|o| *o == profile.id));
    assert!(owners[first_app..].iter().all(|o| *o == fx.app.id));
    let app_mappers: Vec<&ProtocolMapperRecord> =
        mappers.iter().filter(|m| m.owner_id == fx.app.id).collect();
    assert_eq!(
        app_mappers
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        vec!["aud", "groups"]
    );
    let groups = app_mappers[1];
    assert_eq!(groups.mapper_type, "oidc-group-membership-mapper");
    assert_eq!(
        groups.config.get("full.path").map(String::as_str),
        Some("true")
    );
    let expected: Vec<ProtocolMapperRecord> = image
        .mappers
        .iter()
        .filter(|m| m.owner_id == profile.id || m.owner_id == fx.app.id)
        .cloned()
        .collect();
    assert_eq!(mappers.len(), expected.len());
    assert!(expected.iter().all(|m| mappers.contains(m)));
    assert!(store.mappers_of(&[]).await.unwrap().is_empty());

    // Role scope mappings of the client and of the offline_access scope.
    let offline = scopes
        .iter()
        .find(|(s, _)| s.name == "offline_access")
        .unwrap()
        .0
        .clone();
    let role_id = |name: &str, client: Option<&str>| {
        image
            .roles
            .iter()
            .find(|r| r.name == name && r.client_id.as_deref() == client)
            .unwrap()
            .id
            .clone()
    };
    let viewer = role_id("viewer", None);
    let app_user = role_id("app-user", Some(&fx.app.id));
    let offline_role = role_id("offline_access", None);
    let mut want = vec![viewer.clone(), app_user.clone()];
    want.sort();
    assert_eq!(
        store
            .role_scope_mappings(std::slice::from_ref(&fx.app.id))
            .await
            .unwrap(),
        want
    );
    let mut want = vec![viewer, app_user, offline_role];
    want.sort();
    assert_eq!(
        store
            .role_scope_mappings(&[fx.app.id.clone(), offline.id.clone(), fx.app.id.clone()])
            .await
            .unwrap(),
        want,
        "distinct"
    );
    assert!(store.role_scope_mappings(&[]).await.unwrap().is_empty());

    // Clients by internal id.
    let app = store.client_by_id(rid, &fx.app.id).await.unwrap().unwrap();
    assert_eq!(app, fx.app);
    assert_eq!(
        store.client_by_id("other-realm", &fx.app.id).await.unwrap(),
        None
    );
    let both = store
        .clients_by_ids(&[fx.worker.id.clone(), "nope".into(), fx.app.id.clone()])
        .await
        .unwrap();
    assert_eq!(
        both.iter()
            .map(|c| c.client_id.as_str())
            .collect::<Vec<_>>(),
        vec!["app", "worker"]
    );
    assert_eq!(both[1], fx.worker);
    assert!(store.clients_by_ids(&[]).await.unwrap().is_empty());
    // Many ids at once (more than one IN list).
    let mut many: Vec<String> = (0..1200).map(|_| new_id()).collect();
    many.push(fx.app.id.clone());
    assert_eq!(store.clients_by_ids(&many).await.unwrap().len(), 1);
    assert!(store.mappers_of(&many).await.unwrap().len() >= 2);
}

// -------------------------------------------------------------------------- housekeeping

async fn purge_removes_only_expired_rows(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let (_, cs) = logged_in(store, &fx).await;
    let now = NOW + 60 * MIN;
    // Codes: kept until expires_at + CODE_RETENTION_MS, used or not.
    let gone_code = code(&fx, &cs, now - CODE_RETENTION_MS - 1);
    let mut gone_used = code(&fx, &cs, now - CODE_RETENTION_MS - 1);
    gone_used.used_at = Some(now - CODE_RETENTION_MS - 30_000);
    let kept_used = code(&fx, &cs, now - CODE_RETENTION_MS + 1);
    let kept_fresh = code(&fx, &cs, now + MIN);
    for c in [&gone_code, &gone_used, &kept_used, &kept_fresh] {
        store.insert_code(c).await.unwrap();
    }
    assert!(matches!(
        store
            .redeem_code(&kept_used.code_hash, now - CODE_RETENTION_MS)
            .await
            .unwrap(),
        CodeRedemption::Redeemed(_)
    ));
    // Logins in progress and revoked token ids: kept until their expiry.
    let gone_login = auth_session(&fx, None, now);
    let kept_login = auth_session(&fx, None, now + 1);
    store.create_auth_session(&gone_login).await.unwrap();
    store.create_auth_session(&kept_login).await.unwrap();
    store
        .revoke_token_id(&fx.realm.id, "old", now - 1)
        .await
        .unwrap();
    store
        .revoke_token_id(&fx.realm.id, "live", now + 1)
        .await
        .unwrap();

    // Bounded batches: one row per table per call.
    assert_eq!(store.purge_expired(now, 1).await.unwrap(), 3);
    assert_eq!(
        store.purge_expired(now, 1).await.unwrap(),
        1,
        "the second code"
    );
    assert_eq!(store.purge_expired(now, 100).await.unwrap(), 0);

    for c in [&gone_code, &gone_used] {
        assert_eq!(
            store.redeem_code(&c.code_hash, now).await.unwrap(),
            CodeRedemption::Unknown
        );
    }
    assert!(matches!(
        store.redeem_code(&kept_used.code_hash, now).await.unwrap(),
        CodeRedemption::Replayed(_)
    ));
    assert!(matches!(
        store.redeem_code(&kept_fresh.code_hash, now).await.unwrap(),
        CodeRedemption::Redeemed(_)
    ));
    assert!(
        store
            .auth_session(&gone_login.id, 0)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .auth_session(&kept_login.id, 0)
            .await
            .unwrap()
            .is_some()
    );
    assert!(!store.is_token_id_revoked("old").await.unwrap());
    assert!(store.is_token_id_revoked("live").await.unwrap());

    // Several nodes purging at once: every expired row goes, none twice, no error.
    for i in 0..40 {
        store
            .revoke_token_id(&fx.realm.id, &format!("bulk-{i}"), now - 1)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            loop {
                match store.purge_expired(now, 7).await {
                    Ok(0) => return n,
                    Ok(d) => n += d,
                    // Documented: PostgreSQL may pick an overlapping run as a deadlock victim;
                    // its batch is rolled back whole and the next call carries on.
                    Err(StoreError::Database(_)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 40);
    assert!(store.is_token_id_revoked("live").await.unwrap());
}

async fn purge_user_sessions_by_lifespans(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let now = NOW + 24 * 60 * MIN;
    let life = SessionLifespans {
        idle_ms: 30 * MIN,
        max_ms: 600 * MIN,
        remember_me_idle_ms: 120 * MIN,
        remember_me_max_ms: 1200 * MIN,
    };
    let mk = |started: i64, last: i64, remember: bool| {
        let mut s = user_session(&fx, &fx.alice, started);
        s.last_refresh = last;
        s.remember_me = remember;
        s
    };
    let idle_gone = mk(now - 60 * MIN, now - 30 * MIN, false);
    let idle_kept = mk(now - 60 * MIN, now - 30 * MIN + 1, false);
    let max_gone = mk(now - 600 * MIN, now, false);
    let max_kept = mk(now - 600 * MIN + 1, now, false);
    let rm_idle_kept = mk(now - 60 * MIN, now - 30 * MIN, true);
    let rm_idle_gone = mk(now - 180 * MIN, now - 120 * MIN, true);
    let rm_max_kept = mk(now - 1000 * MIN, now, true);
    let rm_max_gone = mk(now - 1200 * MIN, now, true);
    let all = [
        &idle_gone,
        &idle_kept,
        &max_gone,
        &max_kept,
        &rm_idle_kept,
        &rm_idle_gone,
        &rm_max_kept,
        &rm_max_gone,
    ];
    for s in all {
        store.create_user_session(s).await.unwrap();
    }
    // A client session and code of an expiring session go with it.
    let cs = store
        .upsert_client_session(&client_session(&idle_gone, &fx.app))
        .await
        .unwrap();
    let c = code(&fx, &cs, now + MIN);
    store.insert_code(&c).await.unwrap();

    // Another realm's lifespans do not apply.
    assert_eq!(
        store
            .purge_expired_user_sessions("other-realm", now, &life, 100)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .purge_expired_user_sessions(&fx.realm.id, now, &life, 3)
            .await
            .unwrap(),
        3,
        "bounded"
    );
    assert_eq!(
        store
            .purge_expired_user_sessions(&fx.realm.id, now, &life, 3)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .purge_expired_user_sessions(&fx.realm.id, now, &life, 3)
            .await
            .unwrap(),
        0
    );
    for s in [&idle_gone, &max_gone, &rm_idle_gone, &rm_max_gone] {
        assert_eq!(store.user_session(&s.id).await.unwrap(), None);
    }
    for s in [&idle_kept, &max_kept, &rm_idle_kept, &rm_max_kept] {
        assert!(store.user_session(&s.id).await.unwrap().is_some());
    }
    assert_eq!(store.client_session(&cs.id).await.unwrap(), None);
    assert_eq!(
        store.redeem_code(&c.code_hash, now).await.unwrap(),
        CodeRedemption::Unknown
    );
}

// ------------------------------------------------------------------------ login events

fn login_event(
    fx: &Fx,
    id: &str,
    time: i64,
    type_: &str,
    client: &str,
    user: &str,
) -> LoginEventRecord {
    LoginEventRecord {
        id: id.into(),
        realm_id: fx.realm.id.clone(),
        time,
        type_: type_.into(),
        client_id: Some(client.into()),
        user_id: Some(user.into()),
        session_id: None,
        ip_address: Some(
            if id == "e3" {
                "198.51.100.1"
            } else {
                "192.0.2.7"
            }
            .into(),
        ),
        error: type_
            .ends_with("_ERROR")
            .then(|| "invalid_user_credentials".to_string()),
        details: [("username".to_string(), "alice".to_string())].into(),
    }
}

async fn login_events_filters_pages_and_expiry(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let r = fx.realm.id.as_str();
    let all = Page { first: 0, max: 100 };
    let ids = |v: Vec<LoginEventRecord>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
    for e in [
        login_event(&fx, "e1", 1_000, "LOGIN_ERROR", "app", "u1"),
        login_event(&fx, "e2", 2_000, "LOGIN", "app", "u1"),
        login_event(&fx, "e3", 3_000, "CODE_TO_TOKEN", "app", "u1"),
        login_event(&fx, "e4", 4_000, "LOGIN", "worker", "u2"),
    ] {
        store.add_login_event(&e).await.unwrap();
    }
    let q = LoginEventQuery::default();
    let got = store.login_events(r, &q, all).await.unwrap();
    assert_eq!(ids(got.clone()), ["e4", "e3", "e2", "e1"], "newest first");
    let e1 = &got[3];
    assert_eq!(e1.error.as_deref(), Some("invalid_user_credentials"));
    assert_eq!(
        e1.details.get("username").map(String::as_str),
        Some("alice")
    );
    assert_eq!(e1.client_id.as_deref(), Some("app"));
    let asc = LoginEventQuery {
        ascending: true,
        ..q.clone()
    };
    assert_eq!(
        ids(store.login_events(r, &asc, all).await.unwrap()),
        ["e1", "e2", "e3", "e4"]
    );
    let by_type = LoginEventQuery {
        types: vec!["LOGIN".into(), "LOGIN_ERROR".into()],
        ..q.clone()
    };
    assert_eq!(
        ids(store.login_events(r, &by_type, all).await.unwrap()),
        ["e4", "e2", "e1"]
    );
    let by_client = LoginEventQuery {
        client: Some("worker".into()),
        ..q.clone()
    };
    assert_eq!(
        ids(store.login_events(r, &by_client, all).await.unwrap()),
        ["e4"]
    );
    let by_user = LoginEventQuery {
        user: Some("u1".into()),
        ..q.clone()
    };
    assert_eq!(
        ids(store.login_events(r, &by_user, all).await.unwrap()),
        ["e3", "e2", "e1"]
    );
    let by_ip = LoginEventQuery {
        ip_address: Some("198.51.100.1".into()),
        ..q.clone()
    };
    assert_eq!(
        ids(store.login_events(r, &by_ip, all).await.unwrap()),
        ["e3"]
    );
    let window = LoginEventQuery {
        from_ms: Some(2_000),
        to_ms: Some(4_000),
        ..q.clone()
    };
    assert_eq!(
        ids(store.login_events(r, &window, all).await.unwrap()),
        ["e3", "e2"]
    );
    let page = store
        .login_events(r, &q, Page { first: 1, max: 2 })
        .await
        .unwrap();
    assert_eq!(ids(page), ["e3", "e2"]);
    assert!(
        store
            .login_events("other", &q, all)
            .await
            .unwrap()
            .is_empty()
    );
    // Expiry in batches, oldest first.
    assert_eq!(store.expire_login_events(r, 3_500, 2).await.unwrap(), 2);
    assert_eq!(
        ids(store.login_events(r, &q, all).await.unwrap()),
        ["e4", "e3"]
    );
    assert_eq!(store.expire_login_events(r, 3_500, 2).await.unwrap(), 1);
    assert_eq!(store.expire_login_events(r, 3_500, 2).await.unwrap(), 0);
    assert_eq!(store.delete_login_events(r).await.unwrap(), 1);
    assert!(store.login_events(r, &q, all).await.unwrap().is_empty());
    // A batch is written whole (more rows than one statement takes), or not at all.
    let batch: Vec<LoginEventRecord> = (0..250)
        .map(|i| login_event(&fx, &format!("b{i:03}"), 10_000 + i, "LOGIN", "app", "u1"))
        .collect();
    store.add_login_events(&batch).await.unwrap();
    let got = store
        .login_events(
            r,
            &q,
            Page {
                first: 0,
                max: 1000,
            },
        )
        .await
        .unwrap();
    assert_eq!(got.len(), 250);
    assert_eq!(got[0].id, "b249");
    assert_eq!(
        got[0].details.get("username").map(String::as_str),
        Some("alice")
    );
    let clash = vec![
        login_event(&fx, "c1", 1, "LOGIN", "app", "u1"),
        login_event(&fx, "b000", 2, "LOGIN", "app", "u1"),
    ];
    assert!(store.add_login_events(&clash).await.is_err());
    let got = store
        .login_events(
            r,
            &q,
            Page {
                first: 0,
                max: 1000,
            },
        )
        .await
        .unwrap();
    assert_eq!(got.len(), 250, "the failed batch left nothing");
    store.add_login_events(&[]).await.unwrap();
}

async fn session_counts_per_realm_and_client(db: Db) {
    let store = &db.store;
    let fx = fixture(store).await;
    let count = |v: &[portcullis_store::RealmSessionCounts]| {
        v.iter().find(|c| c.realm == "acme").cloned().unwrap()
    };
    let before = count(&store.session_counts().await.unwrap());
    assert_eq!(before.sessions, 0);
    assert!(before.clients.is_empty());
    let (us, _) = logged_in(store, &fx).await;
    store
        .upsert_client_session(&client_session(&us, &fx.worker))
        .await
        .unwrap();
    let bob = user_session(&fx, &fx.bob, NOW);
    store.create_user_session(&bob).await.unwrap();
    store
        .upsert_client_session(&client_session(&bob, &fx.app))
        .await
        .unwrap();
    let now = count(&store.session_counts().await.unwrap());
    assert_eq!(now.sessions, 2);
    assert_eq!(
        now.clients,
        vec![("app".to_string(), 2), ("worker".to_string(), 1)]
    );
    store.delete_user_session(&us.id).await.unwrap();
    let after = count(&store.session_counts().await.unwrap());
    assert_eq!(after.sessions, 1);
    assert_eq!(after.clients, vec![("app".to_string(), 1)]);
}
