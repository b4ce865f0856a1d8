//! The kit's store, one suite on SQLite and on PostgreSQL (`PORTCULLIS_TEST_PG_URL`, set by
//! `scripts/test`; each run gets a fresh database).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use portcullis_kit::store::PendingLogin;
use portcullis_kit::{Identity, UserStore};
use std::collections::BTreeSet;

fn identity(
    sub: &str,
    user: &str,
    email: Option<&str>,
    verified: bool,
    groups: &[&str],
) -> Identity {
    Identity {
        subject: sub.into(),
        username: user.into(),
        email: email.map(Into::into),
        email_verified: verified,
        first_name: Some("First".into()),
        last_name: Some("Last".into()),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        sid: Some(format!("sid-{sub}")),
    }
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn suite(store: UserStore) {
    // A first login creates the user with exactly the token's groups.
    let a = store
        .sync_login(&identity(
            "s-alice",
            "alice",
            Some("alice@example.com"),
            true,
            &["editors", "viewers"],
        ))
        .await
        .unwrap();
    assert!(a.created && !a.linked);
    assert_eq!(a.added, set(&["editors", "viewers"]));
    assert_eq!(
        store.groups(&a.user.id).await.unwrap(),
        set(&["editors", "viewers"])
    );

    // The next login replaces the group set and the profile.
    let mut changed = identity(
        "s-alice",
        "alice",
        Some("alice@new.example"),
        true,
        &["viewers", "admins"],
    );
    changed.first_name = Some("Alice".into());
    let a2 = store.sync_login(&changed).await.unwrap();
    assert_eq!(a2.user.id, a.user.id);
    assert!(!a2.created);
    assert_eq!(a2.added, set(&["admins"]));
    assert_eq!(a2.removed, set(&["editors"]));
    assert_eq!(
        store.groups(&a.user.id).await.unwrap(),
        set(&["admins", "viewers"])
    );
    assert_eq!(a2.user.first_name.as_deref(), Some("Alice"));
    assert_eq!(a2.user.email.as_deref(), Some("alice@new.example"));

    // A local account (break-glass) with a verified email is linked once, not duplicated.
    let local = store.set_local_password("root", "{}", true).await.unwrap();
    assert!(local.is_superuser && local.subject.is_none());
    let mut ops = identity("s-root", "root-sso", Some("ops@example.com"), true, &[]);
    // Not linked while the email differs.
    let other = store.sync_login(&ops).await.unwrap();
    assert!(other.created);
    // An unverified email never links.
    let dave_local = store.set_local_password("dave", "{}", false).await.unwrap();
    assert!(!dave_local.is_superuser);
    ops = identity("s-dave", "dave-sso", None, false, &[]);
    let dave = store.sync_login(&ops).await.unwrap();
    assert!(dave.created && !dave.linked);

    // A username already used by a local-only account gets a unique variant.
    let clash = store
        .sync_login(&identity("abcdef123456", "dave", None, false, &[]))
        .await
        .unwrap();
    assert_eq!(clash.user.username, "dave-abcdef12");

    // Linking by verified email.
    let carol_local = store
        .set_local_password("carol-local", "{}", false)
        .await
        .unwrap();
    store
        .set_email(&carol_local.id, Some("carol@example.com"))
        .await
        .unwrap();
    let carol = store
        .sync_login(&identity(
            "s-carol",
            "carol",
            Some("CAROL@example.com"),
            true,
            &["viewers"],
        ))
        .await
        .unwrap();
    assert!(carol.linked && !carol.created);
    assert_eq!(carol.user.id, carol_local.id);
    assert_eq!(carol.user.subject.as_deref(), Some("s-carol"));

    // Flags.
    store.set_flags(&a.user.id, true, false).await.unwrap();
    let u = store.user(&a.user.id).await.unwrap().unwrap();
    assert!(u.is_staff && !u.is_superuser);

    // Logins in progress are single use.
    let p = PendingLogin {
        nonce: "n".into(),
        pkce_verifier: "v".into(),
        return_to: "/x".into(),
        created_at: portcullis_kit::store::now_ms(),
    };
    store.insert_login("state-1", &p).await.unwrap();
    assert!(
        store.insert_login("state-1", &p).await.is_err(),
        "duplicate state"
    );
    let got = store.take_login("state-1").await.unwrap().unwrap();
    assert_eq!(got.return_to, "/x");
    assert!(store.take_login("state-1").await.unwrap().is_none());

    // Sessions: by id, by the identity server's sid, by subject.
    store
        .create_session(
            "sess-1",
            &a.user.id,
            Some("sid-s-alice"),
            Some("idt"),
            "c1",
            "sso",
            3600,
        )
        .await
        .unwrap();
    store
        .create_session(
            "sess-2",
            &a.user.id,
            Some("sid-other"),
            None,
            "c2",
            "sso",
            3600,
        )
        .await
        .unwrap();
    store
        .create_session("sess-3", &local.id, None, None, "c3", "local", 3600)
        .await
        .unwrap();
    let s = store.session("sess-1").await.unwrap().unwrap();
    assert_eq!(
        (s.user_id.as_str(), s.csrf.as_str(), s.via.as_str()),
        (a.user.id.as_str(), "c1", "sso")
    );
    assert!(store.session("nope").await.unwrap().is_none());
    assert_eq!(
        store
            .end_sessions(Some("sid-s-alice"), None)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.session("sess-1").await.unwrap().is_none());
    assert!(store.session("sess-2").await.unwrap().is_some());
    assert_eq!(
        store
            .end_sessions(None, Some("s-alice"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store.session("sess-3").await.unwrap().is_some(),
        "local sessions untouched"
    );
    assert!(store.delete_session("sess-3").await.unwrap());
    assert!(!store.delete_session("sess-3").await.unwrap());
    // Expired sessions are not returned and are purged.
    store
        .create_session("old", &a.user.id, None, None, "c", "sso", -1)
        .await
        .unwrap();
    assert!(store.session("old").await.unwrap().is_none());
    assert!(store.purge(600_000).await.unwrap() >= 1);
    store.close().await;
}

#[tokio::test]
async fn on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("kit.db").display());
    suite(UserStore::connect(&url).await.unwrap()).await;
}

#[tokio::test]
async fn on_postgres() {
    let Ok(admin_url) = std::env::var("PORTCULLIS_TEST_PG_URL") else {
        // scripts/test always sets it; a bare `cargo test` without PostgreSQL says so.
        panic!("PORTCULLIS_TEST_PG_URL is not set: run scripts/test (it starts PostgreSQL)");
    };
    let db = format!("kit_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .unwrap();
    sqlx::Executor::execute(
        &mut admin,
        sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")),
    )
    .await
    .unwrap();
    let base = admin_url.rsplit_once('/').unwrap().0;
    suite(UserStore::connect(&format!("{base}/{db}")).await.unwrap()).await;
    sqlx::Executor::execute(
        &mut admin,
        sqlx::AssertSqlSafe(format!("DROP DATABASE {db}")),
    )
    .await
    .unwrap();
}
