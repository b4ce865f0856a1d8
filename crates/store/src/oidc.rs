//! Runtime state of the OpenID Connect provider: signing-key management, SSO and client
//! sessions with refresh-token rotation, authorization codes, logins in progress, revoked
//! access-token ids, the client and scope lookups token building needs, and housekeeping.
//!
//! Everything a request changes is one statement where the outcome must be decided atomically
//! (code redemption, refresh rotation, client-session upsert): the database serialises
//! concurrent requests on the row, on SQLite by its write lock, on PostgreSQL by the row lock
//! and the re-check of the `WHERE` clause on the newest row version. A transaction that both
//! writes and reads starts with its write, so SQLite takes its write lock (waiting through the
//! busy timeout) before the transaction has read anything.

use crate::{Result, Store, StoreError, flag};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_model::records::*;
use portcullis_model::repr::{ClientRepresentation, ClientScopeRepresentation};
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// How long a used or expired authorization code is kept after its expiry, so that a replay
/// is told apart from an unknown code (and the caller can revoke what the first use issued).
pub const CODE_RETENTION_MS: i64 = 10 * 60 * 1000;

/// Ids bound per `IN (...)` list: far below either database's parameter limit.
pub(crate) const IN_CHUNK: usize = 500;

/// The outcome of presenting a refresh token; see [`Store::use_refresh_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// Accepted: the new refresh token carries `new_generation`.
    Rotated { new_generation: i64 },
    /// Refused: an older token, a token used more often than allowed, or a generation never
    /// issued. With rotation enforced this is reuse detection: revoke the client session.
    Stale,
    /// The client session no longer exists (logged out, expired, user or client deleted).
    SessionGone,
}

/// The outcome of presenting an authorization code; see [`Store::redeem_code`].
#[derive(Debug, Clone, PartialEq)]
pub enum CodeRedemption {
    /// First use within its lifetime: the code is now spent. `used_at` is set.
    Redeemed(AuthCodeRecord),
    /// Already redeemed: a replay. The caller revokes the client session the first use fed.
    Replayed(AuthCodeRecord),
    /// Never redeemed and past its expiry.
    Expired,
    /// No such code (never issued, purged, or its session is gone).
    Unknown,
}

/// A realm's SSO session lifespans, in milliseconds, for [`Store::purge_expired_user_sessions`]
/// (Keycloak's `ssoSessionIdleTimeout`, `ssoSessionMaxLifespan` and their `RememberMe`
/// variants, converted by the caller, which also adds any grace window it applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifespans {
    pub idle_ms: i64,
    pub max_ms: i64,
    pub remember_me_idle_ms: i64,
    pub remember_me_max_ms: i64,
}

pub(crate) const USER_SESSION_COLUMNS: &str =
    "id, realm_id, user_id, auth_time_s, started, last_refresh, remember_me, ip_address";
const CLIENT_SESSION_COLUMNS: &str = "id, user_session_id, client_id, scope, redirect_uri, started, refresh_generation, refresh_uses";
const CODE_COLUMNS: &str = "code_hash, realm_id, client_id, user_session_id, client_session_id, redirect_uri, scope, nonce, code_challenge, code_challenge_method, auth_time_s, expires_at, used_at, acr";
const AUTH_SESSION_COLUMNS: &str =
    "id, realm_id, client_id, request, user_id, csrf_token, created, expires_at";

pub(crate) fn user_session_record(r: &sqlx::any::AnyRow) -> Result<UserSessionRecord> {
    Ok(UserSessionRecord {
        id: r.try_get(0)?,
        realm_id: r.try_get(1)?,
        user_id: r.try_get(2)?,
        auth_time_s: r.try_get(3)?,
        started: r.try_get(4)?,
        last_refresh: r.try_get(5)?,
        remember_me: flag(r.try_get(6)?),
        ip_address: r.try_get(7)?,
    })
}

fn client_session_record(r: &sqlx::any::AnyRow) -> Result<ClientSessionRecord> {
    Ok(ClientSessionRecord {
        id: r.try_get(0)?,
        user_session_id: r.try_get(1)?,
        client_id: r.try_get(2)?,
        scope: r.try_get(3)?,
        redirect_uri: r.try_get(4)?,
        started: r.try_get(5)?,
        refresh_generation: r.try_get(6)?,
        refresh_uses: r.try_get(7)?,
    })
}

fn code_record(r: &sqlx::any::AnyRow) -> Result<AuthCodeRecord> {
    Ok(AuthCodeRecord {
        code_hash: r.try_get(0)?,
        realm_id: r.try_get(1)?,
        client_id: r.try_get(2)?,
        user_session_id: r.try_get(3)?,
        client_session_id: r.try_get(4)?,
        redirect_uri: r.try_get(5)?,
        scope: r.try_get(6)?,
        nonce: r.try_get(7)?,
        code_challenge: r.try_get(8)?,
        code_challenge_method: r.try_get(9)?,
        auth_time_s: r.try_get(10)?,
        expires_at: r.try_get(11)?,
        used_at: r.try_get(12)?,
        acr: r.try_get(13)?,
    })
}

fn auth_session_record(r: &sqlx::any::AnyRow) -> Result<AuthSessionRecord> {
    Ok(AuthSessionRecord {
        id: r.try_get(0)?,
        realm_id: r.try_get(1)?,
        client_id: r.try_get(2)?,
        request: r.try_get(3)?,
        user_id: r.try_get(4)?,
        csrf_token: r.try_get(5)?,
        created: r.try_get(6)?,
        expires_at: r.try_get(7)?,
    })
}

pub(crate) fn client_record(r: &sqlx::any::AnyRow) -> Result<ClientRecord> {
    Ok(ClientRecord {
        id: r.try_get(0)?,
        realm_id: r.try_get(1)?,
        client_id: r.try_get(2)?,
        secret: r.try_get::<Option<String>, _>(3)?.map(Zeroizing::new),
        repr: serde_json::from_str::<ClientRepresentation>(&r.try_get::<String, _>(4)?)?,
    })
}

/// `$from, $from+1, ...`: `n` placeholders for an `IN (...)` list.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Millisecond cut-off `now - span`, saturating (a huge lifespan never overflows).
fn cutoff(now_ms: i64, span_ms: i64) -> i64 {
    now_ms.saturating_sub(span_ms.max(0))
}

impl Store {
    // ----------------------------------------------------------------------------- keys

    /// Store a realm key. Invariant kept here and by the unique index: a realm has at most one
    /// active key per algorithm, and an active key is enabled (`active` is stored as
    /// `enabled && active`). When `key` is active it takes over signing: in the same
    /// transaction the realm's previously active key of that algorithm is made passive (it stays
    /// enabled, so tokens it signed keep verifying). Two rotations racing on PostgreSQL may
    /// leave the loser with `Conflict`; a duplicate id or `kid` is a `Conflict` too.
    pub async fn add_key(&self, key: &KeyRecord) -> Result<()> {
        let active = key.enabled && key.active;
        let mut tx = self.begin().await?;
        if active {
            sqlx::query(
                "UPDATE realm_key SET active = 0 WHERE realm_id = $1 AND algorithm = $2 AND active = 1",
            )
            .bind(&key.realm_id)
            .bind(&key.algorithm)
            .execute(&mut *tx)
            .await?;
        }
        insert_key(&mut tx, key, key.enabled, active).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Set a key's flags; false when the realm has no key `key_id`. A disabled key is never
    /// active (`active` is stored as `enabled && active`). Activating a key makes the realm's
    /// other active key of the same algorithm passive, in the same transaction; a concurrent
    /// activation of another key of that algorithm on PostgreSQL may make this one `Conflict`.
    pub async fn set_key_flags(
        &self,
        realm_id: &str,
        key_id: &str,
        enabled: bool,
        active: bool,
    ) -> Result<bool> {
        let active = enabled && active;
        let mut tx = self.begin().await?;
        if active {
            sqlx::query(
                "UPDATE realm_key SET active = 0 WHERE realm_id = $1 AND id <> $2 AND active = 1 \
                 AND algorithm = (SELECT algorithm FROM realm_key WHERE realm_id = $1 AND id = $2)",
            )
            .bind(realm_id)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
        }
        let done = sqlx::query(
            "UPDATE realm_key SET enabled = $3, active = $4 WHERE realm_id = $1 AND id = $2",
        )
        .bind(realm_id)
        .bind(key_id)
        .bind(i64::from(enabled))
        .bind(i64::from(active))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// The realm's active key of `key.algorithm`, storing `key` (as enabled and active) first
    /// when there is none, and returning the winner: when several nodes create a realm's key at
    /// once, every caller gets the same stored key back. (The boolean form is
    /// [`Store::add_key_if_none`].)
    pub async fn active_key_or_add(&self, key: &KeyRecord) -> Result<KeyRecord> {
        let mut tx = self.begin().await?;
        // ON CONFLICT DO NOTHING: on PostgreSQL a racing insert that committed after this
        // statement's snapshot is caught by the unique active-key index, without aborting the
        // transaction. (The WHERE on the SELECT also keeps SQLite's upsert parse unambiguous.)
        sqlx::query(
            "INSERT INTO realm_key (id, realm_id, kid, algorithm, key_use, private_der, certificate_der, enabled, active, priority, created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, 1, 1, $8, $9 \
             WHERE NOT EXISTS (SELECT 1 FROM realm_key WHERE realm_id = $2 AND algorithm = $4 AND active = 1) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&key.id)
        .bind(&key.realm_id)
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(&key.key_use)
        .bind(STANDARD.encode(&*key.private_der))
        .bind(key.certificate_der.as_ref().map(|c| STANDARD.encode(c)))
        .bind(key.priority)
        .bind(key.created_at)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {} FROM realm_key WHERE realm_id = $1 AND algorithm = $2 AND active = 1",
            crate::keys::COLUMNS
        )))
        .bind(&key.realm_id)
        .bind(&key.algorithm)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        match row {
            Some(r) => crate::keys::key_record(&r),
            // Only when the key collided on id or kid with a stored passive key.
            None => Err(StoreError::Conflict(format!(
                "key {} could not be stored and the realm has no active {} key",
                key.kid, key.algorithm
            ))),
        }
    }

    // -------------------------------------------------------------------- user sessions

    /// Store a new SSO session. A duplicate id is `Conflict`; an unknown realm or user is
    /// `Conflict` (reference violation).
    pub async fn create_user_session(&self, s: &UserSessionRecord) -> Result<()> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO user_session ({USER_SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(&s.id)
        .bind(&s.realm_id)
        .bind(&s.user_id)
        .bind(s.auth_time_s)
        .bind(s.started)
        .bind(s.last_refresh)
        .bind(i64::from(s.remember_me))
        .bind(&s.ip_address)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// An SSO session by id, expired or not: the caller judges its lifespans against the realm.
    pub async fn user_session(&self, id: &str) -> Result<Option<UserSessionRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_SESSION_COLUMNS} FROM user_session WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_session_record).transpose()
    }

    /// Record activity on an SSO session: `last_refresh` becomes `now_ms` unless it is already
    /// later (it never goes back). False when there is no such session.
    pub async fn touch_user_session(&self, id: &str, now_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE user_session SET last_refresh = CASE WHEN last_refresh < $2 THEN $2 ELSE last_refresh END WHERE id = $1",
        )
        .bind(id)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Delete an SSO session with its client sessions and their codes (cascade). False when
    /// there was none.
    pub async fn delete_user_session(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM user_session WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Delete every SSO session of a user in a realm (with their client sessions and codes);
    /// returns how many SSO sessions were deleted.
    pub async fn delete_user_sessions_of_user(&self, realm_id: &str, user_id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM user_session WHERE realm_id = $1 AND user_id = $2")
            .bind(realm_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// A user's SSO sessions, oldest first.
    pub async fn user_sessions_of_user(&self, user_id: &str) -> Result<Vec<UserSessionRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_SESSION_COLUMNS} FROM user_session WHERE user_id = $1 ORDER BY started, id"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_session_record).collect()
    }

    /// How many SSO sessions the realm has stored (expired ones not yet purged included).
    pub async fn count_user_sessions(&self, realm_id: &str) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM user_session WHERE realm_id = $1")
                .bind(realm_id)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    // ------------------------------------------------------------------ client sessions

    /// The client session of `(s.user_session_id, s.client_id)`, created from `s` when there is
    /// none. An existing one keeps its id, `started` and refresh rotation state; only its
    /// `scope` and `redirect_uri` take `s`'s values. Returns the stored row. One statement, so
    /// two logins of one client in one SSO session at once end with one client session.
    pub async fn upsert_client_session(
        &self,
        s: &ClientSessionRecord,
    ) -> Result<ClientSessionRecord> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO client_session ({CLIENT_SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (user_session_id, client_id) DO UPDATE SET scope = excluded.scope, redirect_uri = excluded.redirect_uri \
             RETURNING {CLIENT_SESSION_COLUMNS}"
        )))
        .bind(&s.id)
        .bind(&s.user_session_id)
        .bind(&s.client_id)
        .bind(&s.scope)
        .bind(&s.redirect_uri)
        .bind(s.started)
        .bind(s.refresh_generation)
        .bind(s.refresh_uses)
        .fetch_one(&self.pool)
        .await?;
        client_session_record(&row)
    }

    /// A client session by id.
    pub async fn client_session(&self, id: &str) -> Result<Option<ClientSessionRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CLIENT_SESSION_COLUMNS} FROM client_session WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(client_session_record).transpose()
    }

    /// The client session of a client (internal id) in an SSO session.
    pub async fn client_session_for(
        &self,
        user_session_id: &str,
        client_id: &str,
    ) -> Result<Option<ClientSessionRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CLIENT_SESSION_COLUMNS} FROM client_session WHERE user_session_id = $1 AND client_id = $2"
        )))
        .bind(user_session_id)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(client_session_record).transpose()
    }

    /// Delete a client session and its codes (the SSO session stays). False when there was none.
    pub async fn delete_client_session(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM client_session WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The client sessions of an SSO session (for logout), oldest first.
    pub async fn client_sessions_of(
        &self,
        user_session_id: &str,
    ) -> Result<Vec<ClientSessionRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CLIENT_SESSION_COLUMNS} FROM client_session WHERE user_session_id = $1 ORDER BY started, id"
        )))
        .bind(user_session_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(client_session_record).collect()
    }

    // ------------------------------------------------------------------ refresh rotation

    /// Present the refresh token of generation `presented` for a client session, atomically.
    ///
    /// State: `G` = `refresh_generation`, the generation of the newest refresh token issued;
    /// `U` = `refresh_uses`, how often the *current* token was used, where the current token is
    /// the one most recently presented successfully and has generation `G − U` (a code exchange
    /// starts at `G = 0, U = 0`: token 0 issued, none used). Every accepted use issues a new
    /// refresh token of generation `G + 1`. Rules, with `M = max(max_reuse, 0)`:
    ///
    /// * `enforce == false` (Keycloak without `revokeRefreshToken`): any `0 ≤ p ≤ G` is
    ///   accepted; then `G := G + 1, U := 1` → `Rotated { new_generation: G + 1 }`.
    /// * `enforce == true` (`revokeRefreshToken`, `refreshTokenMaxReuse = M`):
    ///   - `p == G` (the newest token, first use): `G := G + 1, U := 1` → `Rotated`;
    ///   - `p == G − U` with `1 ≤ U ≤ M` (the current token used again, `U + 1 ≤ M + 1` uses
    ///     in all): `G := G + 1, U := U + 1` → `Rotated` (the token issued by the previous use,
    ///     `G`, becomes stale);
    ///   - anything else → `Stale`: a token older than the current one, the current token past
    ///     its `M + 1` uses, or a generation never issued. The caller revokes the client session.
    ///
    /// This is Keycloak's rule (a token may be used `refreshTokenMaxReuse + 1` times; the first
    /// use of the newest token makes it current and resets the count; any other token is stale),
    /// with generations in place of token ids and issue times. With `M = 0` each token is good
    /// for one use, and of two concurrent uses of one token exactly one is `Rotated`.
    /// `SessionGone` when the client session does not exist.
    ///
    /// The decision and the update are one `UPDATE ... RETURNING` (its own transaction: the
    /// accepted path is one round trip). Only when it changes nothing does a read tell `Stale`
    /// from `SessionGone`; it writes nothing, so a session deleted in between reads as gone.
    pub async fn use_refresh_token(
        &self,
        client_session_id: &str,
        presented: i64,
        enforce: bool,
        max_reuse: i64,
    ) -> Result<RefreshOutcome> {
        let row = sqlx::query(
            "UPDATE client_session SET \
               refresh_uses = CASE WHEN $3 = 0 OR refresh_generation = $2 THEN 1 ELSE refresh_uses + 1 END, \
               refresh_generation = refresh_generation + 1 \
             WHERE id = $1 AND $2 >= 0 AND ( \
                   ($3 = 0 AND $2 <= refresh_generation) \
                OR refresh_generation = $2 \
                OR (refresh_generation - refresh_uses = $2 AND refresh_uses >= 1 AND refresh_uses <= $4)) \
             RETURNING refresh_generation",
        )
        .bind(client_session_id)
        .bind(presented)
        .bind(i64::from(enforce))
        .bind(max_reuse.max(0))
        .fetch_optional(&self.pool)
        .await?;
        let outcome = match row {
            Some(r) => RefreshOutcome::Rotated {
                new_generation: r.try_get(0)?,
            },
            None => {
                let exists = sqlx::query("SELECT 1 FROM client_session WHERE id = $1")
                    .bind(client_session_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .is_some();
                if exists {
                    RefreshOutcome::Stale
                } else {
                    RefreshOutcome::SessionGone
                }
            }
        };
        Ok(outcome)
    }

    // -------------------------------------------------------------------------- codes

    /// Store an authorization code (by hash). `used_at` is stored as given (normally None).
    /// A duplicate hash is `Conflict`; an unknown session is `Conflict` (reference violation).
    pub async fn insert_code(&self, c: &AuthCodeRecord) -> Result<()> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO auth_code ({CODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )))
        .bind(&c.code_hash)
        .bind(&c.realm_id)
        .bind(&c.client_id)
        .bind(&c.user_session_id)
        .bind(&c.client_session_id)
        .bind(&c.redirect_uri)
        .bind(&c.scope)
        .bind(&c.nonce)
        .bind(&c.code_challenge)
        .bind(&c.code_challenge_method)
        .bind(c.auth_time_s)
        .bind(c.expires_at)
        .bind(c.used_at)
        .bind(&c.acr)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Spend an authorization code, atomically: the first redemption before `expires_at`
    /// (`now_ms < expires_at`) marks it used at `now_ms` and gets `Redeemed`; every later one
    /// gets `Replayed` (even after expiry, for as long as the code is kept:
    /// [`CODE_RETENTION_MS`] past its expiry); an unused code past its expiry is `Expired`;
    /// anything else `Unknown`. Of N concurrent redemptions exactly one is `Redeemed`.
    ///
    /// The decision is one `UPDATE ... WHERE used_at IS NULL ... RETURNING` (its own
    /// transaction); only a refusal is then classified by a read, which writes nothing.
    pub async fn redeem_code(&self, code_hash: &str, now_ms: i64) -> Result<CodeRedemption> {
        let spent = sqlx::query(AssertSqlSafe(format!(
            "UPDATE auth_code SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING {CODE_COLUMNS}"
        )))
        .bind(code_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        let outcome = match spent {
            Some(r) => CodeRedemption::Redeemed(code_record(&r)?),
            None => {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "SELECT {CODE_COLUMNS} FROM auth_code WHERE code_hash = $1"
                )))
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await?;
                match row.as_ref().map(code_record).transpose()? {
                    Some(c) if c.used_at.is_some() => CodeRedemption::Replayed(c),
                    Some(_) => CodeRedemption::Expired,
                    None => CodeRedemption::Unknown,
                }
            }
        };
        Ok(outcome)
    }

    // ------------------------------------------------------------------ login sessions

    /// Store a login in progress. A duplicate id is `Conflict`.
    pub async fn create_auth_session(&self, s: &AuthSessionRecord) -> Result<()> {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO auth_session ({AUTH_SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(&s.id)
        .bind(&s.realm_id)
        .bind(&s.client_id)
        .bind(&s.request)
        .bind(&s.user_id)
        .bind(&s.csrf_token)
        .bind(s.created)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A login in progress, unless it has expired (`expires_at <= now_ms` reads as None).
    pub async fn auth_session(&self, id: &str, now_ms: i64) -> Result<Option<AuthSessionRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {AUTH_SESSION_COLUMNS} FROM auth_session WHERE id = $1 AND expires_at > $2"
        )))
        .bind(id)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(auth_session_record).transpose()
    }

    /// Attach (or detach, with None) the user a login in progress authenticated. False when
    /// there is no such login (expired ones are not checked here: read them with
    /// [`Store::auth_session`]).
    pub async fn set_auth_session_user(&self, id: &str, user_id: Option<&str>) -> Result<bool> {
        let done = sqlx::query("UPDATE auth_session SET user_id = $2 WHERE id = $1")
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// End a login in progress. False when there was none.
    pub async fn delete_auth_session(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM auth_session WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    // ------------------------------------------------------------ revoked access tokens

    /// Remember that the access token `jti` is revoked until `expires_at_ms` (its `exp`).
    /// Idempotent: revoking a revoked id again changes nothing.
    pub async fn revoke_token_id(
        &self,
        realm_id: &str,
        jti: &str,
        expires_at_ms: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO revoked_token (jti, realm_id, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(realm_id)
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the access token `jti` was revoked (and not yet purged: it is kept until the
    /// token's own expiry, after which the token is refused anyway).
    pub async fn is_token_id_revoked(&self, jti: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM revoked_token WHERE jti = $1")
            .bind(jti)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    // ------------------------------------------------- clients and scopes for tokens

    /// The client scopes attached to a client (internal id) with `true` for default and
    /// `false` for optional scopes, by scope name.
    pub async fn client_scopes_of(
        &self,
        client_uuid: &str,
    ) -> Result<Vec<(ClientScopeRecord, bool)>> {
        let rows = sqlx::query(
            "SELECT s.id, s.realm_id, s.name, s.repr, l.default_scope FROM client_scope_link l \
             JOIN client_scope s ON s.id = l.scope_id WHERE l.client_uuid = $1 ORDER BY s.name",
        )
        .bind(client_uuid)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    ClientScopeRecord {
                        id: r.try_get(0)?,
                        realm_id: r.try_get(1)?,
                        name: r.try_get(2)?,
                        repr: serde_json::from_str::<ClientScopeRepresentation>(
                            &r.try_get::<String, _>(3)?,
                        )?,
                    },
                    flag(r.try_get(4)?),
                ))
            })
            .collect()
    }

    /// The protocol mappers of the given clients and client scopes (ids of either), in the
    /// order of `owner_ids`, each owner's by name. Unknown ids contribute nothing.
    pub async fn mappers_of(&self, owner_ids: &[String]) -> Result<Vec<ProtocolMapperRecord>> {
        let rows = self
            .fetch_in(owner_ids, |list| {
                format!(
                    "SELECT id, COALESCE(client_uuid, client_scope_id), name, protocol, mapper_type, config \
                     FROM protocol_mapper WHERE client_uuid IN ({list}) OR client_scope_id IN ({list})"
                )
            })
            .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(ProtocolMapperRecord {
                    id: r.try_get(0)?,
                    owner_id: r.try_get(1)?,
                    name: r.try_get(2)?,
                    protocol: r.try_get(3)?,
                    mapper_type: r.try_get(4)?,
                    config: serde_json::from_str::<BTreeMap<String, String>>(
                        &r.try_get::<String, _>(5)?,
                    )?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let rank = |owner: &str| owner_ids.iter().position(|o| o == owner);
        out.sort_by(|a, b| {
            (rank(&a.owner_id), &a.name, &a.id).cmp(&(rank(&b.owner_id), &b.name, &b.id))
        });
        out.dedup_by(|a, b| a.id == b.id);
        Ok(out)
    }

    /// The role ids in the role scope mappings of the given clients and client scopes (which
    /// roles a token for them may carry when full scope is off), distinct and sorted.
    pub async fn role_scope_mappings(&self, owner_ids: &[String]) -> Result<Vec<String>> {
        let rows = self
            .fetch_in(owner_ids, |list| {
                format!(
                    "SELECT role_id FROM client_role_scope WHERE client_uuid IN ({list}) \
                     UNION SELECT role_id FROM client_scope_role_scope WHERE scope_id IN ({list})"
                )
            })
            .await?;
        let out = rows
            .iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect::<Result<std::collections::BTreeSet<_>>>()?;
        Ok(out.into_iter().collect())
    }

    /// A client of the realm by its internal id.
    pub async fn client_by_id(&self, realm_id: &str, uuid: &str) -> Result<Option<ClientRecord>> {
        let row = sqlx::query(
            "SELECT id, realm_id, client_id, secret, repr FROM client WHERE realm_id = $1 AND id = $2",
        )
        .bind(realm_id)
        .bind(uuid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(client_record).transpose()
    }

    /// Clients by internal id (e.g. to name the clients in `resource_access`), ordered by
    /// `clientId`; unknown ids are left out.
    pub async fn clients_by_ids(&self, ids: &[String]) -> Result<Vec<ClientRecord>> {
        let rows = self
            .fetch_in(ids, |list| {
                format!(
                    "SELECT id, realm_id, client_id, secret, repr FROM client WHERE id IN ({list})"
                )
            })
            .await?;
        let mut out = rows.iter().map(client_record).collect::<Result<Vec<_>>>()?;
        out.sort_by(|a, b| (&a.client_id, &a.id).cmp(&(&b.client_id, &b.id)));
        out.dedup_by(|a, b| a.id == b.id);
        Ok(out)
    }

    /// Rows of a statement over an id list: `sql` gets the placeholder list (`$1, $2, ...`,
    /// which it may use more than once). Long lists are split into several statements, read in
    /// one transaction; a short one is a single statement.
    pub(crate) async fn fetch_in(
        &self,
        ids: &[String],
        sql: impl Fn(&str) -> String,
    ) -> Result<Vec<sqlx::any::AnyRow>> {
        let query = |chunk: &[String]| {
            let mut q = sqlx::query(AssertSqlSafe(sql(&placeholders(1, chunk.len()))));
            for id in chunk {
                q = q.bind(id.clone());
            }
            q
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() <= IN_CHUNK {
            return Ok(query(ids).fetch_all(&self.pool).await?);
        }
        let mut rows = Vec::new();
        let mut tx = self.begin().await?;
        for chunk in ids.chunks(IN_CHUNK) {
            rows.extend(query(chunk).fetch_all(&mut *tx).await?);
        }
        tx.commit().await?;
        Ok(rows)
    }

    // -------------------------------------------------------------------- housekeeping

    /// Delete, in one transaction, at most `batch` rows from each of: authorization codes
    /// [`CODE_RETENTION_MS`] past their expiry (used or not), logins in progress past their
    /// expiry, and revoked token ids past their token's expiry. Returns the rows deleted; call
    /// again while it returns more than zero. Several nodes may run it at once (each batch
    /// deletes what is still there); on PostgreSQL one of two overlapping runs can, rarely, be
    /// chosen as a deadlock victim and return an error, which leaves nothing half-done.
    /// SSO sessions depend on realm settings: [`Store::purge_expired_user_sessions`].
    pub async fn purge_expired(&self, now_ms: i64, batch: i64) -> Result<u64> {
        let batch = batch.max(1);
        let mut tx = self.begin().await?;
        let mut n = 0;
        n += sqlx::query(
            "DELETE FROM auth_code WHERE code_hash IN \
             (SELECT code_hash FROM auth_code WHERE expires_at < $1 ORDER BY expires_at, code_hash LIMIT $2)",
        )
        .bind(now_ms.saturating_sub(CODE_RETENTION_MS))
        .bind(batch)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        n += sqlx::query(
            "DELETE FROM auth_session WHERE id IN \
             (SELECT id FROM auth_session WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2)",
        )
        .bind(now_ms)
        .bind(batch)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        n += sqlx::query(
            "DELETE FROM revoked_token WHERE jti IN \
             (SELECT jti FROM revoked_token WHERE expires_at < $1 ORDER BY expires_at, jti LIMIT $2)",
        )
        .bind(now_ms)
        .bind(batch)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Delete at most `batch` SSO sessions of the realm (with their client sessions and codes)
    /// whose idle or maximum lifespan has passed: `last_refresh + idle <= now` or
    /// `started + max <= now`, with the remember-me lifespans for remember-me sessions. Returns
    /// how many SSO sessions were deleted; call again while it returns more than zero. Safe to
    /// run on several nodes at once (same caveat as [`Store::purge_expired`]).
    pub async fn purge_expired_user_sessions(
        &self,
        realm_id: &str,
        now_ms: i64,
        lifespans: &SessionLifespans,
        batch: i64,
    ) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM user_session WHERE id IN (SELECT id FROM user_session WHERE realm_id = $1 AND ( \
                (remember_me = 0 AND (last_refresh <= $2 OR started <= $3)) \
             OR (remember_me <> 0 AND (last_refresh <= $4 OR started <= $5))) \
             ORDER BY started, id LIMIT $6)",
        )
        .bind(realm_id)
        .bind(cutoff(now_ms, lifespans.idle_ms))
        .bind(cutoff(now_ms, lifespans.max_ms))
        .bind(cutoff(now_ms, lifespans.remember_me_idle_ms))
        .bind(cutoff(now_ms, lifespans.remember_me_max_ms))
        .bind(batch.max(1))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

async fn insert_key(
    c: &mut sqlx::AnyConnection,
    key: &KeyRecord,
    enabled: bool,
    active: bool,
) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO realm_key ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        crate::keys::COLUMNS
    )))
    .bind(&key.id)
    .bind(&key.realm_id)
    .bind(&key.kid)
    .bind(&key.algorithm)
    .bind(&key.key_use)
    .bind(STANDARD.encode(&*key.private_der))
    .bind(key.certificate_der.as_ref().map(|c| STANDARD.encode(c)))
    .bind(i64::from(enabled))
    .bind(i64::from(active))
    .bind(key.priority)
    .bind(key.created_at)
    .execute(&mut *c)
    .await?;
    Ok(())
}
