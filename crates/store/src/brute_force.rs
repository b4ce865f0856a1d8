//! Brute-force detection records (`brute_force_failure`, migration 0040): one row per user
//! with counted login failures. The decisions live in `portcullis_model::brute_force`; this
//! module only loads and saves their records.
//!
//! Invariant: a failure is recorded read-modify-write in one transaction, together with the
//! user's `enabled=false` when the decision is a permanent lockout.

use crate::{Result, Store, flag};
use portcullis_model::brute_force::{AfterFailure, FailureRecord};
use sqlx::Row;

const COLUMNS: &str = "num_failures, num_temporary_lockouts, last_failure, last_ip_failure, \
                       locked_until, permanent";

fn record(r: &sqlx::any::AnyRow) -> Result<FailureRecord> {
    Ok(FailureRecord {
        num_failures: r.try_get(0)?,
        num_temporary_lockouts: r.try_get(1)?,
        last_failure_ms: r.try_get(2)?,
        last_ip_failure: r.try_get(3)?,
        locked_until_ms: r.try_get(4)?,
        permanent: flag(r.try_get(5)?),
    })
}

impl Store {
    /// The failure record of a user of `realm_id` (None when the user has no counted failures
    /// or is not in that realm).
    pub async fn login_failure(
        &self,
        realm_id: &str,
        user_id: &str,
    ) -> Result<Option<FailureRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM brute_force_failure WHERE user_id = $1 AND realm_id = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(realm_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(record).transpose()
    }

    /// Record a failed login: `decide` gets the stored record (read in the same transaction)
    /// and returns the new one; when it says so the user is disabled in the same transaction.
    /// Returns what was decided, or None when the user is not in `realm_id`.
    pub async fn record_login_failure<F>(
        &self,
        realm_id: &str,
        user_id: &str,
        decide: F,
    ) -> Result<Option<AfterFailure>>
    where
        F: FnOnce(Option<&FailureRecord>, bool) -> AfterFailure,
    {
        let mut tx = self.begin().await?;
        let Some(enabled) =
            sqlx::query("SELECT enabled FROM user_entity WHERE id = $1 AND realm_id = $2")
                .bind(user_id)
                .bind(realm_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get::<i64, _>(0))
                .transpose()?
        else {
            return Ok(None);
        };
        let sql = format!("SELECT {COLUMNS} FROM brute_force_failure WHERE user_id = $1");
        let previous = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(record)
            .transpose()?;
        let out = decide(previous.as_ref(), flag(enabled));
        let r = &out.record;
        sqlx::query(
            "INSERT INTO brute_force_failure (user_id, realm_id, num_failures, \
             num_temporary_lockouts, last_failure, last_ip_failure, locked_until, permanent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (user_id) DO UPDATE SET num_failures = $3, \
             num_temporary_lockouts = $4, last_failure = $5, last_ip_failure = $6, \
             locked_until = $7, permanent = $8",
        )
        .bind(user_id)
        .bind(realm_id)
        .bind(r.num_failures)
        .bind(r.num_temporary_lockouts)
        .bind(r.last_failure_ms)
        .bind(r.last_ip_failure.clone())
        .bind(r.locked_until_ms)
        .bind(i64::from(r.permanent))
        .execute(&mut *tx)
        .await?;
        if out.disable_user {
            sqlx::query("UPDATE user_entity SET enabled = 0 WHERE id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(out))
    }

    /// Forget a user's failures (a successful login, or an administrator's clear). Returns
    /// whether there was a record.
    pub async fn clear_login_failure(&self, realm_id: &str, user_id: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM brute_force_failure WHERE user_id = $1 AND realm_id = $2")
                .bind(user_id)
                .bind(realm_id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Forget the failures of every user of a realm; returns how many records went.
    pub async fn clear_realm_login_failures(&self, realm_id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM brute_force_failure WHERE realm_id = $1")
            .bind(realm_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
