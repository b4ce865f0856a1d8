//! Storage for Portcullis: one [`Store`] over SQLite (the embedded default) and PostgreSQL.
//!
//! Both backends are reached through sqlx's `Any` driver with one set of portable SQL
//! statements (see `docs/adr/0002-storage-any-driver.md`): `$n` placeholders, TEXT ids, BIGINT
//! numbers and flags. The only backend-specific code is connection set-up in [`connect`].
//!
//! Invariants: every public method is one transaction (a failure leaves nothing behind);
//! `sqlx::Error` never leaves this crate; migrations are embedded and applied at connect time,
//! under PostgreSQL's advisory lock, so several nodes may start at once.

mod admin;
mod admin_clients;
mod admin_roles;
mod brute_force;
mod bulk;
mod connect;
mod console;
mod events;
mod keys;
mod lifecycle;
mod oidc;
mod realm;
mod user;

pub use admin::{
    GroupDetails, Match, NameTaken, Page, RoleDetails, TextFilter, UserConflict, UserDetails,
    UserQuery, escape_like,
};
pub use admin_clients::{
    AdminEventQuery, AdminEventRecord, MapperOwner, ScopeRemoval, path_pattern,
};
pub use admin_roles::{ClientSessionCount, CompositeCycle, CredentialInfo, LiveSince, SessionView};
pub use connect::{Backend, ConnectOptions, Target as DbTarget};
pub use console::{GroupNode, RoleNode, SessionListing};
pub use events::{LoginEventQuery, LoginEventRecord, RealmSessionCounts};
pub use lifecycle::{LoginFlowRecord, StoredHash};
pub use oidc::{CODE_RETENTION_MS, CodeRedemption, RefreshOutcome, SessionLifespans};

use sqlx::AnyPool;

/// Storage failures, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated (duplicate name, id, ...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The thing to change does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The database cannot be reached or did not answer in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back (corrupt JSON column, bad value).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Schema migration failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// Anything else the database reported.
    #[error("database error: {0}")]
    Database(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_string())
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::Conflict(format!("{REFERENCE_VIOLATION}: {}", db.message()))
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_) => StoreError::Unavailable(e.to_string()),
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(e.to_string()),
            _ => StoreError::Database(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// How a foreign-key violation's `Conflict` message starts (a reference to a missing row,
/// as opposed to a duplicate).
pub(crate) const REFERENCE_VIOLATION: &str = "reference violation";

impl StoreError {
    /// A uniqueness conflict (not a reference to a missing row).
    pub(crate) fn is_duplicate(&self) -> bool {
        matches!(self, StoreError::Conflict(m) if !m.starts_with(REFERENCE_VIOLATION))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The storage handle: cheap to clone, shared by every request.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// Connection pool figures for metrics.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl Store {
    /// Which database this store writes to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`):
    /// a deferred transaction that reads and then writes fails with `SQLITE_BUSY_SNAPSHOT`
    /// ("database is locked", not retried by `busy_timeout`) when another connection wrote in
    /// between; an immediate one waits for the lock instead. PostgreSQL: a plain `BEGIN`.
    pub(crate) async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// One round trip to the database (readiness checks).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Refresh the planner's statistics (`ANALYZE`, the same statement on both databases):
    /// after a large import, so that the first searches already use the right indexes.
    pub async fn analyze(&self) -> Result<()> {
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    pub fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: self.pool.num_idle() as u32,
            max: self.pool.options().get_max_connections(),
        }
    }

    /// Close every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) fn flag(v: i64) -> bool {
    v != 0
}
