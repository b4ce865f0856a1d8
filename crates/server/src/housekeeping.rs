//! Background housekeeping: expired authorization codes, logins in progress, revoked token ids,
//! used action-token ids and SSO sessions past their realm's lifespans are deleted in bounded batches (REL-8), and
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
