//! The service's local users, their groups, browser sessions and logins in progress, on
//! SQLite or PostgreSQL (sqlx's `Any` driver, one set of portable migrations).
//!
//! Each public method is one transaction-sized use case; a failed call leaves nothing
//! half-written. Session ids and login `state`s are stored as SHA-256 hashes only.

use crate::error::KitError;
use crate::sync::{Identity, LinkPlan, SyncOutcome, plan_link};
use base64::Engine as _;
use sha2::Digest as _;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use std::collections::BTreeSet;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A local user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUser {
    pub id: String,
    pub subject: Option<String>,
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
}

/// A browser session of the service.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user_id: String,
    pub idp_sid: Option<String>,
    pub id_token: Option<String>,
    pub csrf: String,
    pub via: String,
    pub expires_at: i64,
}

/// A login in progress.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
    pub created_at: i64,
}

/// SHA-256, base64url: how ids from cookies and `state`s are stored.
pub fn digest(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(s.as_bytes()))
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

const USER_COLUMNS: &str = "id, subject, username, email, email_verified, first_name, last_name, is_active, is_staff, is_superuser";

fn user_row(r: &AnyRow) -> Result<LocalUser, sqlx::Error> {
    Ok(LocalUser {
        id: r.try_get(0)?,
        subject: r.try_get(1)?,
        username: r.try_get(2)?,
        email: r.try_get(3)?,
        email_verified: r.try_get::<i64, _>(4)? != 0,
        first_name: r.try_get(5)?,
        last_name: r.try_get(6)?,
        is_active: r.try_get::<i64, _>(7)? != 0,
        is_staff: r.try_get::<i64, _>(8)? != 0,
        is_superuser: r.try_get::<i64, _>(9)? != 0,
    })
}

/// The kit's storage (cheap to clone).
#[derive(Clone)]
pub struct UserStore {
    pool: AnyPool,
}

impl UserStore {
    /// Connect (`sqlite://file.db`, created when missing, or `postgres://…`) and migrate.
    pub async fn connect(url: &str) -> Result<UserStore, KitError> {
        sqlx::any::install_default_drivers();
        let url =
            if url.starts_with("sqlite:") && !url.contains("mode=") && !url.contains(":memory:") {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            } else {
                url.to_owned()
            };
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 4 } else { 8 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        use sqlx::Executor as _;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(UserStore { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn user(&self, id: &str) -> Result<Option<LocalUser>, KitError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM kit_user WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_row).transpose()?)
    }

    pub async fn user_by_username(&self, username: &str) -> Result<Option<LocalUser>, KitError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM kit_user WHERE username = $1"
        )))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(user_row).transpose()?)
    }

    pub async fn groups(&self, user_id: &str) -> Result<BTreeSet<String>, KitError> {
        let rows = sqlx::query("SELECT group_name FROM kit_user_group WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(KitError::from))
            .collect()
    }

    /// Sync a login: find the user by subject, else link a local user with the same
    /// verified email (once), else create one; set the profile and the group set to exactly
    /// what the identity server says. One transaction.
    pub async fn sync_login(&self, id: &Identity) -> Result<SyncOutcome, KitError> {
        let mut tx = self.pool.begin().await?;
        let by_subject = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM kit_user WHERE subject = $1"
        )))
        .bind(&id.subject)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(user_row)
        .transpose()?;
        let by_email = match (&by_subject, &id.email) {
            (None, Some(email)) if id.email_verified => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM kit_user WHERE LOWER(email) = LOWER($1) AND subject IS NULL"
            )))
            .bind(email)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(user_row)
            .collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };
        let now = now_ms();
        let plan = plan_link(by_subject.as_ref(), &by_email, id);
        let (user_id, created, linked) = match plan {
            LinkPlan::Existing(uid) => (uid, false, false),
            LinkPlan::Link(uid) => {
                sqlx::query("UPDATE kit_user SET subject = $1 WHERE id = $2")
                    .bind(&id.subject)
                    .bind(&uid)
                    .execute(&mut *tx)
                    .await?;
                (uid, false, true)
            }
            LinkPlan::Create => {
                let uid = uuid::Uuid::new_v4().to_string();
                // The identity server's username, or a unique variant if a local-only
                // account already uses it.
                let taken = sqlx::query("SELECT 1 FROM kit_user WHERE username = $1")
                    .bind(&id.username)
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
                let username = if taken {
                    format!(
                        "{}-{}",
                        id.username,
                        &id.subject.chars().take(8).collect::<String>()
                    )
                } else {
                    id.username.clone()
                };
                sqlx::query(
                    "INSERT INTO kit_user (id, subject, username, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&uid)
                .bind(&id.subject)
                .bind(&username)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                (uid, true, false)
            }
        };
        sqlx::query(
            "UPDATE kit_user SET email = $1, email_verified = $2, first_name = $3, last_name = $4, last_login = $5 WHERE id = $6",
        )
        .bind(&id.email)
        .bind(i64::from(id.email_verified))
        .bind(&id.first_name)
        .bind(&id.last_name)
        .bind(now)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
        let before: BTreeSet<String> =
            sqlx::query("SELECT group_name FROM kit_user_group WHERE user_id = $1")
                .bind(&user_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?;
        let added: BTreeSet<String> = id.groups.difference(&before).cloned().collect();
        let removed: BTreeSet<String> = before.difference(&id.groups).cloned().collect();
        for g in &removed {
            sqlx::query("DELETE FROM kit_user_group WHERE user_id = $1 AND group_name = $2")
                .bind(&user_id)
                .bind(g)
                .execute(&mut *tx)
                .await?;
        }
        for g in &added {
            sqlx::query("INSERT INTO kit_user_group (user_id, group_name) VALUES ($1, $2)")
                .bind(&user_id)
                .bind(g)
                .execute(&mut *tx)
                .await?;
        }
        let user = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM kit_user WHERE id = $1"
        )))
        .bind(&user_id)
        .fetch_one(&mut *tx)
        .await
        .map(|r| user_row(&r))??;
        tx.commit().await?;
        Ok(SyncOutcome {
            user,
            groups: id.groups.clone(),
            added,
            removed,
            created,
            linked,
        })
    }

    /// Set the staff and superuser flags (the authorization module's answer to a sync).
    pub async fn set_flags(
        &self,
        user_id: &str,
        is_staff: bool,
        is_superuser: bool,
    ) -> Result<(), KitError> {
        sqlx::query("UPDATE kit_user SET is_staff = $1, is_superuser = $2 WHERE id = $3")
            .bind(i64::from(is_staff))
            .bind(i64::from(is_superuser))
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Set a local account's email (an operator's edit; SSO logins overwrite it with the
    /// identity server's).
    pub async fn set_email(&self, user_id: &str, email: Option<&str>) -> Result<(), KitError> {
        sqlx::query("UPDATE kit_user SET email = $1 WHERE id = $2")
            .bind(email)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Create or update a local account with a break-glass password (hash already made).
    /// Used by an operator command; such accounts must be superusers to log in locally.
    pub async fn set_local_password(
        &self,
        username: &str,
        password_hash: &str,
        superuser: bool,
    ) -> Result<LocalUser, KitError> {
        let mut tx = self.pool.begin().await?;
        let existing = sqlx::query("SELECT id FROM kit_user WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        let id = match existing {
            Some(r) => r.try_get::<String, _>(0)?,
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                sqlx::query("INSERT INTO kit_user (id, username, created_at) VALUES ($1, $2, $3)")
                    .bind(&id)
                    .bind(username)
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
                id
            }
        };
        sqlx::query(
            "UPDATE kit_user SET password_hash = $1, is_superuser = $2, is_staff = CASE WHEN $2 = 1 THEN 1 ELSE is_staff END WHERE id = $3",
        )
        .bind(password_hash)
        .bind(i64::from(superuser))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        let user = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM kit_user WHERE id = $1"
        )))
        .bind(&id)
        .fetch_one(&mut *tx)
        .await
        .map(|r| user_row(&r))??;
        tx.commit().await?;
        Ok(user)
    }

    /// The user and stored break-glass hash for a username.
    pub async fn local_credentials(
        &self,
        username: &str,
    ) -> Result<Option<(LocalUser, Option<String>)>, KitError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, password_hash FROM kit_user WHERE username = $1"
        )))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some((user_row(&r)?, r.try_get(10)?))),
            None => Ok(None),
        }
    }

    // ------------------------------------------------------------------ logins in progress

    pub async fn insert_login(&self, state: &str, p: &PendingLogin) -> Result<(), KitError> {
        sqlx::query(
            "INSERT INTO kit_login (state_hash, nonce, pkce_verifier, return_to, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(digest(state))
        .bind(&p.nonce)
        .bind(&p.pkce_verifier)
        .bind(&p.return_to)
        .bind(p.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Take (delete and return) a login in progress by its `state`: single use.
    pub async fn take_login(&self, state: &str) -> Result<Option<PendingLogin>, KitError> {
        let row = sqlx::query(
            "DELETE FROM kit_login WHERE state_hash = $1 RETURNING nonce, pkce_verifier, return_to, created_at",
        )
        .bind(digest(state))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(PendingLogin {
                nonce: r.try_get(0)?,
                pkce_verifier: r.try_get(1)?,
                return_to: r.try_get(2)?,
                created_at: r.try_get(3)?,
            })),
            None => Ok(None),
        }
    }

    // ------------------------------------------------------------------ sessions

    #[allow(clippy::too_many_arguments)]
    pub async fn create_session(
        &self,
        session_id: &str,
        user_id: &str,
        idp_sid: Option<&str>,
        id_token: Option<&str>,
        csrf: &str,
        via: &str,
        lifetime_s: i64,
    ) -> Result<(), KitError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO kit_session (id_hash, user_id, idp_sid, id_token, csrf, via, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(digest(session_id))
        .bind(user_id)
        .bind(idp_sid)
        .bind(id_token)
        .bind(csrf)
        .bind(via)
        .bind(now)
        .bind(now + lifetime_s * 1000)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A live session by the id from the cookie.
    pub async fn session(&self, session_id: &str) -> Result<Option<SessionRow>, KitError> {
        let row = sqlx::query(
            "SELECT user_id, idp_sid, id_token, csrf, via, expires_at FROM kit_session WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(digest(session_id))
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(SessionRow {
                user_id: r.try_get(0)?,
                idp_sid: r.try_get(1)?,
                id_token: r.try_get(2)?,
                csrf: r.try_get(3)?,
                via: r.try_get(4)?,
                expires_at: r.try_get(5)?,
            })),
            None => Ok(None),
        }
    }

    /// End one session (logout); returns whether it existed.
    pub async fn delete_session(&self, session_id: &str) -> Result<bool, KitError> {
        let done = sqlx::query("DELETE FROM kit_session WHERE id_hash = $1")
            .bind(digest(session_id))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// End the sessions a logout token names: by the identity server's `sid`, or every SSO
    /// session of the user with that subject. Returns the session-id hashes ended.
    pub async fn end_sessions(
        &self,
        idp_sid: Option<&str>,
        subject: Option<&str>,
    ) -> Result<Vec<String>, KitError> {
        let rows = match (idp_sid, subject) {
            (Some(sid), _) => {
                sqlx::query("DELETE FROM kit_session WHERE idp_sid = $1 RETURNING id_hash")
                    .bind(sid)
                    .fetch_all(&self.pool)
                    .await?
            }
            (None, Some(sub)) => sqlx::query(
                "DELETE FROM kit_session WHERE via = 'sso' AND user_id IN (SELECT id FROM kit_user WHERE subject = $1) RETURNING id_hash",
            )
            .bind(sub)
            .fetch_all(&self.pool)
            .await?,
            (None, None) => Vec::new(),
        };
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(KitError::from))
            .collect()
    }

    /// Delete expired sessions and logins older than `login_max_age_ms`.
    pub async fn purge(&self, login_max_age_ms: i64) -> Result<u64, KitError> {
        let now = now_ms();
        let a = sqlx::query("DELETE FROM kit_session WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        let b = sqlx::query("DELETE FROM kit_login WHERE created_at < $1")
            .bind(now - login_max_age_ms)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(a + b)
    }
}
