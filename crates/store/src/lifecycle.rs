//! Account lifecycle storage: single-use action tokens (email links), password changes with
//! the password history `passwordHistory(n)` needs, email verification, and the extra state of
//! a login-actions flow started from an email link (`login_flow`, tied to an `auth_session`).
//!
//! Each method is one transaction; a transaction that writes starts with its write (SQLite's
//! write lock first, see `oidc.rs`).

use crate::{Result, Store, StoreError};
use portcullis_model::records::{AuthSessionRecord, CredentialRecord, CredentialSecret};
use sqlx::Row;

/// The extra state of a login-actions flow (see the module header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFlowRecord {
    /// The `auth_session` it belongs to.
    pub auth_session_id: String,
    /// Required actions to run in this flow besides the user's own, in order.
    pub actions: Vec<String>,
    /// Where the flow ends when it does not continue a login (already validated).
    pub redirect_uri: Option<String>,
    /// What started it: `reset-credentials`, `execute-actions`, `verify-email`, `login`.
    pub kind: String,
}

/// Which replaced password hashes to keep in the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HistoryKeep {
    /// The newest this many (`passwordHistory(n)` keeps n - 1 besides the current one).
    pub newest: usize,
    /// And every one set at or after this time (`passwordAge`).
    pub since_ms: Option<i64>,
}

impl From<usize> for HistoryKeep {
    fn from(newest: usize) -> HistoryKeep {
        HistoryKeep {
            newest,
            since_ms: None,
        }
    }
}

/// A stored password hash (current or previous), for history checks.
#[derive(Clone)]
pub struct StoredHash {
    pub secret_data: String,
    pub credential_data: String,
}

impl std::fmt::Debug for StoredHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredHash(***)")
    }
}

impl Store {
    /// Mark the action token `jti` used until `expires_at_ms`. True the first time, false when
    /// it was already used (a replay): the insert itself decides, so two concurrent uses of one
    /// link cannot both succeed.
    pub async fn use_action_token(
        &self,
        realm_id: &str,
        jti: &str,
        expires_at_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO action_token_used (jti, realm_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(realm_id)
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether the action token `jti` was used.
    pub async fn action_token_used(&self, jti: &str) -> Result<bool> {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM action_token_used WHERE jti = $1")
            .bind(jti)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(n > 0)
    }

    /// The user's current password hash and the older ones set at or after `since_ms`, newest
    /// first (`passwordAge`).
    pub async fn password_hashes_since(
        &self,
        user_id: &str,
        since_ms: i64,
    ) -> Result<Vec<StoredHash>> {
        let rows = sqlx::query(
            "SELECT secret_data, credential_data, created_date FROM credential \
             WHERE user_id = $1 AND type = 'password' \
             UNION ALL SELECT secret_data, credential_data, created_date FROM password_history \
             WHERE user_id = $1 AND created_date >= $2 ORDER BY 3 DESC",
        )
        .bind(user_id)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_hash).collect()
    }

    /// When the user's current password was set (epoch ms); `None` without one.
    pub async fn password_created(&self, user_id: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT MAX(created_date) FROM credential WHERE user_id = $1 AND type = 'password'",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// The user's current password hash and up to `previous` older ones, newest first.
    pub async fn password_hashes(&self, user_id: &str, previous: usize) -> Result<Vec<StoredHash>> {
        let mut out: Vec<StoredHash> = sqlx::query(
            "SELECT secret_data, credential_data FROM credential \
             WHERE user_id = $1 AND type = 'password' ORDER BY created_date DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(stored_hash)
        .collect::<Result<_>>()?;
        if previous > 0 {
            let rows = sqlx::query(
                "SELECT secret_data, credential_data FROM password_history \
                 WHERE user_id = $1 ORDER BY created_date DESC, id LIMIT $2",
            )
            .bind(user_id)
            .bind(i64::try_from(previous).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                out.push(stored_hash(r)?);
            }
        }
        Ok(out)
    }

    /// Replace the user's password with `cred` (hashed, else `Corrupt`) in one transaction:
    /// the current password hashes move to the history, which keeps what `keep` says (the
    /// newest entries, and those set since a time; a plain number keeps that many newest, 0
    /// none); `UPDATE_PASSWORD` is cleared, or set when `temporary`. `NotFound` when the realm
    /// has no such user.
    pub async fn change_password(
        &self,
        realm_id: &str,
        cred: &CredentialRecord,
        keep: impl Into<HistoryKeep>,
        temporary: bool,
    ) -> Result<()> {
        let keep: HistoryKeep = keep.into();
        let CredentialSecret::Stored {
            secret_data,
            credential_data,
        } = &cred.secret
        else {
            return Err(StoreError::Corrupt(format!(
                "credential {} was not hashed before storing",
                cred.id
            )));
        };
        let mut tx = self.begin().await?;
        // The write first (see the module header): it also proves the user exists.
        lock_user(&mut tx, realm_id, &cred.user_id).await?;
        if keep.newest > 0 || keep.since_ms.is_some() {
            sqlx::query(
                "INSERT INTO password_history (id, user_id, created_date, secret_data, credential_data) \
                 SELECT id, user_id, created_date, secret_data, credential_data FROM credential \
                 WHERE user_id = $1 AND type = 'password'",
            )
            .bind(&cred.user_id)
            .execute(&mut *tx)
            .await?;
        }
        let newest = i64::try_from(keep.newest).unwrap_or(i64::MAX);
        sqlx::query(
            "DELETE FROM password_history WHERE user_id = $1 AND created_date < $3 AND id NOT IN \
             (SELECT id FROM password_history WHERE user_id = $1 ORDER BY created_date DESC, id LIMIT $2)",
        )
        .bind(&cred.user_id)
        .bind(newest)
        .bind(keep.since_ms.unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM credential WHERE user_id = $1 AND type = 'password'")
            .bind(&cred.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO credential (id, user_id, type, user_label, created_date, priority, secret_data, credential_data) \
             VALUES ($1, $2, 'password', $3, $4, $5, $6, $7)",
        )
        .bind(&cred.id)
        .bind(&cred.user_id)
        .bind(&cred.user_label)
        .bind(cred.created_date)
        .bind(cred.priority)
        .bind(secret_data)
        .bind(credential_data)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM user_required_action WHERE user_id = $1 AND action = 'UPDATE_PASSWORD'",
        )
        .bind(&cred.user_id)
        .execute(&mut *tx)
        .await?;
        if temporary {
            sqlx::query(
                "INSERT INTO user_required_action (user_id, action) VALUES ($1, 'UPDATE_PASSWORD')",
            )
            .bind(&cred.user_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Add an OTP credential (`cred`, type `otp`, stored form) to a user of the realm and clear
    /// `CONFIGURE_TOTP`, in one transaction. `NotFound` when the realm has no such user.
    pub async fn add_otp_credential(&self, realm_id: &str, cred: &CredentialRecord) -> Result<()> {
        let CredentialSecret::Stored {
            secret_data,
            credential_data,
        } = &cred.secret
        else {
            return Err(StoreError::Corrupt(format!(
                "credential {} is not in stored form",
                cred.id
            )));
        };
        let mut tx = self.begin().await?;
        lock_user(&mut tx, realm_id, &cred.user_id).await?;
        sqlx::query(
            "INSERT INTO credential (id, user_id, type, user_label, created_date, priority, secret_data, credential_data) \
             VALUES ($1, $2, 'otp', $3, $4, $5, $6, $7)",
        )
        .bind(&cred.id)
        .bind(&cred.user_id)
        .bind(&cred.user_label)
        .bind(cred.created_date)
        .bind(cred.priority)
        .bind(secret_data)
        .bind(credential_data)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM user_required_action WHERE user_id = $1 AND action = 'CONFIGURE_TOTP'",
        )
        .bind(&cred.user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Mark the user's email verified, if it is still `email` (the address the link was sent
    /// to), and clear `VERIFY_EMAIL`; one transaction. False when the user is gone or the
    /// address changed since.
    pub async fn verify_email(&self, realm_id: &str, user_id: &str, email: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE user_entity SET email_verified = 1 WHERE realm_id = $1 AND id = $2 AND LOWER(email) = LOWER($3)",
        )
        .bind(realm_id)
        .bind(user_id)
        .bind(email)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM user_required_action WHERE user_id = $1 AND action = 'VERIFY_EMAIL'",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Start a login-actions flow: the `auth_session` row and its `login_flow` row together.
    pub async fn create_login_flow(
        &self,
        session: &AuthSessionRecord,
        flow: &LoginFlowRecord,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO auth_session (id, realm_id, client_id, request, user_id, csrf_token, created, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&session.id)
        .bind(&session.realm_id)
        .bind(&session.client_id)
        .bind(&session.request)
        .bind(&session.user_id)
        .bind(&session.csrf_token)
        .bind(session.created)
        .bind(session.expires_at)
        .execute(&mut *tx)
        .await?;
        insert_flow(&mut tx, &session.id, flow).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Attach flow state (and the user) to an existing login in progress, replacing any flow
    /// state it had. False when the login is gone.
    pub async fn attach_login_flow(
        &self,
        auth_session_id: &str,
        user_id: &str,
        flow: &LoginFlowRecord,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE auth_session SET user_id = $2 WHERE id = $1")
            .bind(auth_session_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM login_flow WHERE auth_session_id = $1")
            .bind(auth_session_id)
            .execute(&mut *tx)
            .await?;
        insert_flow(&mut tx, auth_session_id, flow).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The flow state of a login in progress, if it has any.
    pub async fn login_flow(&self, auth_session_id: &str) -> Result<Option<LoginFlowRecord>> {
        let row = sqlx::query(
            "SELECT auth_session_id, actions, redirect_uri, kind FROM login_flow WHERE auth_session_id = $1",
        )
        .bind(auth_session_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let actions: String = r.try_get(1)?;
        Ok(Some(LoginFlowRecord {
            auth_session_id: r.try_get(0)?,
            actions: serde_json::from_str(&actions)?,
            redirect_uri: r.try_get(2)?,
            kind: r.try_get(3)?,
        }))
    }

    /// Drop one action from a flow's list. False when the flow is gone or it was not listed.
    pub async fn finish_flow_action(&self, auth_session_id: &str, action: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        // Lock the row first (a no-op write), then read and rewrite it.
        let touched =
            sqlx::query("UPDATE login_flow SET actions = actions WHERE auth_session_id = $1")
                .bind(auth_session_id)
                .execute(&mut *tx)
                .await?;
        if touched.rows_affected() == 0 {
            return Ok(false);
        }
        let actions: String =
            sqlx::query("SELECT actions FROM login_flow WHERE auth_session_id = $1")
                .bind(auth_session_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        let mut list: Vec<String> = serde_json::from_str(&actions)?;
        let before = list.len();
        list.retain(|a| a != action);
        if list.len() == before {
            return Ok(false);
        }
        sqlx::query("UPDATE login_flow SET actions = $2 WHERE auth_session_id = $1")
            .bind(auth_session_id)
            .bind(serde_json::to_string(&list)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Delete at most `batch` used action-token ids whose token has expired; returns how many.
    pub async fn purge_used_action_tokens(&self, now_ms: i64, batch: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM action_token_used WHERE jti IN \
             (SELECT jti FROM action_token_used WHERE expires_at < $1 ORDER BY expires_at, jti LIMIT $2)",
        )
        .bind(now_ms)
        .bind(batch.max(1))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

async fn insert_flow(
    tx: &mut sqlx::AnyConnection,
    auth_session_id: &str,
    flow: &LoginFlowRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO login_flow (auth_session_id, actions, redirect_uri, kind) VALUES ($1, $2, $3, $4)",
    )
    .bind(auth_session_id)
    .bind(serde_json::to_string(&flow.actions)?)
    .bind(&flow.redirect_uri)
    .bind(&flow.kind)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Take the user's row for this transaction (a no-op write: the lock and the proof that the
/// realm has the user); `NotFound` when it has not.
async fn lock_user(tx: &mut sqlx::AnyConnection, realm_id: &str, user_id: &str) -> Result<()> {
    let touched = sqlx::query(
        "UPDATE user_entity SET not_before = not_before WHERE realm_id = $1 AND id = $2",
    )
    .bind(realm_id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    if touched.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("user {user_id}")));
    }
    Ok(())
}

fn stored_hash(r: &sqlx::any::AnyRow) -> Result<StoredHash> {
    Ok(StoredHash {
        secret_data: r.try_get(0)?,
        credential_data: r.try_get(1)?,
    })
}
