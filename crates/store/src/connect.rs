//! Connection set-up: the one place that knows which database is behind the store.

use crate::{Result, Store, StoreError};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AssertSqlSafe, Executor};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The database kinds Portcullis runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where and how to connect.
#[derive(Clone)]
pub enum Target {
    /// A SQLite file (created with its folder when missing).
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (lost at exit).
    SqliteMemory,
    /// A PostgreSQL URL (`postgres://host:port/db?...`), credentials given separately.
    Postgres {
        url: String,
        username: Option<String>,
        password: Option<String>,
        schema: Option<String>,
    },
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::SqliteFile(p) => write!(f, "SqliteFile({})", p.display()),
            Target::SqliteMemory => f.write_str("SqliteMemory"),
            Target::Postgres {
                url,
                username,
                schema,
                ..
            } => {
                write!(
                    f,
                    "Postgres({url}, user={username:?}, schema={schema:?}, password=***)"
                )
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub target: Target,
    pub pool_min: u32,
    pub pool_max: u32,
    pub acquire_timeout: Duration,
}

impl ConnectOptions {
    pub fn new(target: Target) -> Self {
        ConnectOptions {
            target,
            pool_min: 0,
            pool_max: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// What only one of the databases needs (indexes using a collation or covering columns the
/// other spells differently). Applied after [`MIGRATOR`] and tracked in a table of their own,
/// so neither set sees the other's versions as unknown; versions start at 10000 (PostgreSQL)
/// and 20000 (SQLite) to keep them apart for a reader.
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator {
    table_name: std::borrow::Cow::Borrowed("_sqlx_migrations_postgres"),
    ..sqlx::migrate!("./migrations-postgres")
};
static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate::Migrator {
    table_name: std::borrow::Cow::Borrowed("_sqlx_migrations_sqlite"),
    ..sqlx::migrate!("./migrations-sqlite")
};

impl Store {
    /// Connect, create what is missing (SQLite file, PostgreSQL schema) and apply migrations.
    pub async fn connect(opts: &ConnectOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url, setup): (Backend, String, Vec<String>) = match &opts.target {
            Target::SqliteFile(path) => {
                let shown = path.display().to_string();
                if shown.contains('?') || shown.contains('#') {
                    return Err(StoreError::Unavailable(format!(
                        "unsupported SQLite path '{shown}'"
                    )));
                }
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Unavailable(format!(
                            "cannot create the data folder {}: {e}",
                            dir.display()
                        ))
                    })?;
                }
                (
                    Backend::Sqlite,
                    format!("sqlite://{shown}?mode=rwc"),
                    sqlite_pragmas(true),
                )
            }
            Target::SqliteMemory => (
                Backend::Sqlite,
                "sqlite::memory:".to_string(),
                sqlite_pragmas(false),
            ),
            Target::Postgres {
                url,
                username,
                password,
                schema,
            } => {
                let mut u = url::Url::parse(url)
                    .map_err(|e| StoreError::Unavailable(format!("invalid database URL: {e}")))?;
                if let Some(user) = username {
                    u.set_username(user).map_err(|_| {
                        StoreError::Unavailable("invalid database user name".into())
                    })?;
                }
                if let Some(pw) = password {
                    u.set_password(Some(pw))
                        .map_err(|_| StoreError::Unavailable("invalid database password".into()))?;
                }
                let setup = match schema {
                    Some(s) => {
                        validate_identifier(s)?;
                        vec![format!("SET search_path TO \"{s}\"")]
                    }
                    None => Vec::new(),
                };
                (Backend::Postgres, u.to_string(), setup)
            }
        };
        let connect_opts = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Unavailable(redact(&e.to_string())))?;
        let in_memory = matches!(opts.target, Target::SqliteMemory);

        // PostgreSQL: create the schema before anything uses it as search path.
        if let Target::Postgres {
            schema: Some(schema),
            ..
        } = &opts.target
        {
            use sqlx::ConnectOptions as _;
            let mut conn = connect_opts.connect().await?;
            let created = conn
                .execute(AssertSqlSafe(format!(
                    "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
                )))
                .await;
            // Two nodes creating the schema at once: PostgreSQL's IF NOT EXISTS is not atomic,
            // the loser gets a unique violation on the catalog although the schema now exists.
            match created.map_err(StoreError::from) {
                Ok(_) | Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }

        let setup = Arc::new(setup);
        let mut pool = AnyPoolOptions::new()
            .max_connections(opts.pool_max.max(1))
            .min_connections(if in_memory { 1 } else { opts.pool_min })
            .acquire_timeout(opts.acquire_timeout)
            .after_connect(move |conn, _meta| {
                let setup = setup.clone();
                Box::pin(async move {
                    for stmt in setup.iter() {
                        conn.execute(AssertSqlSafe(stmt.clone())).await?;
                    }
                    Ok(())
                })
            });
        if in_memory {
            pool = pool.idle_timeout(None).max_lifetime(None);
        }
        let pool = pool.connect_with(connect_opts).await?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        let own = match backend {
            Backend::Postgres => &POSTGRES_MIGRATOR,
            Backend::Sqlite => &SQLITE_MIGRATOR,
        };
        own.run(&pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(Store { pool, backend })
    }
}

fn sqlite_pragmas(file: bool) -> Vec<String> {
    let mut v = vec![
        "PRAGMA foreign_keys = ON".to_string(),
        "PRAGMA busy_timeout = 10000".to_string(),
    ];
    if file {
        v.push("PRAGMA journal_mode = WAL".to_string());
        v.push("PRAGMA synchronous = NORMAL".to_string());
    }
    v
}

fn validate_identifier(s: &str) -> Result<()> {
    let mut chars = s.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 63;
    if ok {
        Ok(())
    } else {
        Err(StoreError::Unavailable(format!(
            "invalid schema name '{s}'"
        )))
    }
}

/// Hide a password that a driver error might quote from a URL.
fn redact(msg: &str) -> String {
    match (msg.find("://"), msg.find('@')) {
        (Some(a), Some(b)) if a < b => {
            let creds = &msg[a + 3..b];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &msg[..a + 3], &creds[..c], &msg[b..]),
                None => msg.to_string(),
            }
        }
        _ => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact("bad url postgres://u:secret@h/db"),
            "bad url postgres://u:***@h/db"
        );
        assert_eq!(redact("no creds here"), "no creds here");
    }

    #[test]
    fn schema_names_are_identifiers() {
        assert!(validate_identifier("keycloak").is_ok());
        assert!(validate_identifier("_k1").is_ok());
        assert!(validate_identifier("1k").is_err());
        assert!(validate_identifier("a\"; DROP").is_err());
        assert!(validate_identifier("").is_err());
    }
}
