//! Background housekeeping: expired authorization codes, logins in progress, revoked token ids,
//! used action-token ids, SSO sessions past their realm's lifespans, user events older than the
//! realm's `eventsExpiration` and admin events older than its `adminEventsExpiration` attribute
//! are deleted in bounded batches (REL-8), and
//! password-hashing memory kept for reuse is freed after a round without logins. Every
//! node runs it; the store's purges are safe to run concurrently, and a failed round (a
//! PostgreSQL deadlock victim, the database briefly away) is logged and retried next round.

use portcullis_store::{SessionLifespans, Store};
use std::time::Duration;

/// Rows deleted per statement.
const BATCH: i64 = 1000;
/// Batches per kind per round, so one round never runs unbounded.
const MAX_BATCHES: usize = 100;

/// Run until `stop` turns true.
pub async fn run(store: Store, every: Duration, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut hashes_seen = u64::MAX;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|v| *v) => return,
        }
        // Password-hashing memory goes back to the system after a round without logins.
        hashes_seen = portcullis_model::password::release_idle_argon2_memory(hashes_seen);
        if let Err(e) = round(&store).await {
            tracing::warn!(error = %e, "housekeeping round failed; retrying next round");
        }
    }
}

/// One round; returns the rows deleted.
pub async fn round(store: &Store) -> Result<u64, portcullis_store::StoreError> {
    let now = crate::realms::now_ms();
    let mut total = 0;
    for _ in 0..MAX_BATCHES {
        let n = store.purge_expired(now, BATCH).await?;
        total += n;
        if n == 0 {
            break;
        }
    }
    for _ in 0..MAX_BATCHES {
        let n = store.purge_used_action_tokens(now, BATCH).await?;
        total += n;
        if n == 0 {
            break;
        }
    }
    for name in store.realm_names().await? {
        let Some(realm) = store.get_realm(&name).await? else {
            continue;
        };
        if let Some(expiry) = crate::admin::events::admin_events_expiry_ms(&realm.settings) {
            total += store
                .delete_admin_events(&realm.id, Some(now.saturating_sub(expiry)))
                .await?;
        }
        if let Some(expiry) = portcullis_model::events::expiry_ms(&realm.settings) {
            for _ in 0..MAX_BATCHES {
                let n = store
                    .expire_login_events(&realm.id, now.saturating_sub(expiry), BATCH)
                    .await?;
                total += n;
                if n < BATCH as u64 {
                    break;
                }
            }
        }
        let idle = realm.sso_session_idle_timeout().max(1) * 1000;
        let max = realm.sso_session_max_lifespan().max(1) * 1000;
        let lifespans = SessionLifespans {
            idle_ms: idle,
            max_ms: max,
            remember_me_idle_ms: idle,
            remember_me_max_ms: max,
        };
        for _ in 0..MAX_BATCHES {
            let n = store
                .purge_expired_user_sessions(&realm.id, now, &lifespans, BATCH)
                .await?;
            total += n;
            if n == 0 {
                break;
            }
        }
    }
    if total > 0 {
        tracing::debug!(rows = total, "housekeeping purged expired state");
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use portcullis_store::{AdminEventQuery, AdminEventRecord, ConnectOptions, DbTarget, Page};

    fn event(id: &str, realm_id: &str, time: i64) -> AdminEventRecord {
        AdminEventRecord {
            id: id.into(),
            realm_id: realm_id.into(),
            time,
            operation_type: "CREATE".into(),
            resource_type: "USER".into(),
            resource_path: "users/x".into(),
            auth_realm_id: None,
            auth_client_id: None,
            auth_user_id: None,
            ip_address: None,
            representation: None,
            error: None,
        }
    }

    /// A round deletes admin events older than the realm's `adminEventsExpiration` and user
    /// events older than its `eventsExpiration`, and keeps newer ones; a realm without them
    /// keeps everything.
    #[tokio::test]
    async fn events_expire() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&ConnectOptions::new(DbTarget::SqliteFile(
            dir.path().join("db.sqlite"),
        )))
        .await
        .unwrap();
        let mut ids = Vec::new();
        for (name, attrs) in [
            ("aging", serde_json::json!({"adminEventsExpiration": "60"})),
            ("keeping", serde_json::json!({})),
        ] {
            let rep = serde_json::from_value(serde_json::json!({
                "realm": name, "enabled": true, "attributes": attrs,
                "eventsEnabled": true,
                "eventsExpiration": if name == "aging" { 60 } else { 0 }
            }))
            .unwrap();
            let (image, _) = crate::realms::prepare(rep, 1).unwrap();
            store.create_realm(&image, 1).await.unwrap();
            ids.push(image.realm.id.clone());
        }
        let now = crate::realms::now_ms();
        for realm in &ids {
            store
                .add_admin_event(&event(&format!("{realm}-old"), realm, now - 120_000))
                .await
                .unwrap();
            store
                .add_admin_event(&event(&format!("{realm}-new"), realm, now))
                .await
                .unwrap();
            for (suffix, time) in [("old", now - 120_000), ("new", now)] {
                store
                    .add_login_event(&portcullis_store::LoginEventRecord {
                        id: format!("{realm}-{suffix}"),
                        realm_id: realm.clone(),
                        time,
                        type_: "LOGIN".into(),
                        client_id: None,
                        user_id: None,
                        session_id: None,
                        ip_address: None,
                        error: None,
                        details: Default::default(),
                    })
                    .await
                    .unwrap();
            }
        }
        round(&store).await.unwrap();
        let page = Page { first: 0, max: 10 };
        let left = |realm: String| {
            let store = store.clone();
            async move {
                store
                    .admin_events(&realm, &AdminEventQuery::default(), page)
                    .await
                    .unwrap()
                    .len()
            }
        };
        assert_eq!(left(ids[0].clone()).await, 1);
        assert_eq!(left(ids[1].clone()).await, 2);
        let user_events = |realm: String| {
            let store = store.clone();
            async move {
                store
                    .login_events(&realm, &Default::default(), page)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| e.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            user_events(ids[0].clone()).await,
            vec![format!("{}-new", ids[0])]
        );
        assert_eq!(
            user_events(ids[1].clone()).await.len(),
            2,
            "eventsExpiration 0 keeps"
        );
    }
}
