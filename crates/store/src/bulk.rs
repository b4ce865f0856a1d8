//! Multi-row inserts: large imports write thousands of rows per statement instead of one
//! round trip per row (what makes a 100,000-user import fast on PostgreSQL).

use crate::Result;
use sqlx::AnyConnection;
use sqlx::AssertSqlSafe;

/// One bound value.
pub(crate) enum V {
    T(Option<String>),
    I(i64),
}

impl From<&str> for V {
    fn from(s: &str) -> Self {
        V::T(Some(s.to_string()))
    }
}
impl From<String> for V {
    fn from(s: String) -> Self {
        V::T(Some(s))
    }
}
impl From<&String> for V {
    fn from(s: &String) -> Self {
        V::T(Some(s.clone()))
    }
}
impl From<Option<String>> for V {
    fn from(s: Option<String>) -> Self {
        V::T(s)
    }
}
impl From<&Option<String>> for V {
    fn from(s: &Option<String>) -> Self {
        V::T(s.clone())
    }
}
impl From<i64> for V {
    fn from(i: i64) -> Self {
        V::I(i)
    }
}
impl From<bool> for V {
    fn from(b: bool) -> Self {
        V::I(i64::from(b))
    }
}

/// Bound parameters per statement. Far below both databases' limits on purpose: SQLite looks
/// up each `$n` by scanning the statement's parameter list, so binding costs grow with the
/// square of the parameters per statement (at 8,000 that lookup was two thirds of a
/// 100,000-user import); at 1,000 it is negligible and PostgreSQL still gets few round trips.
const MAX_PARAMS: usize = 1000;

/// Insert `rows` into `table` (`columns` in order), batching as many rows per statement as fit.
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = Vec<V>>,
) -> Result<()> {
    let per_stmt = (MAX_PARAMS / columns.len().max(1)).max(1);
    let mut batch: Vec<Vec<V>> = Vec::with_capacity(per_stmt);
    for row in rows {
        debug_assert_eq!(row.len(), columns.len());
        batch.push(row);
        if batch.len() == per_stmt {
            flush(conn, table, columns, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        flush(conn, table, columns, batch).await?;
    }
    Ok(())
}

async fn flush(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<V>>,
) -> Result<()> {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 0usize;
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for j in 0..row.len() {
            if j > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push('$');
            sql.push_str(&n.to_string());
        }
        sql.push(')');
    }
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for row in rows {
        for v in row {
            q = match v {
                V::T(t) => q.bind(t),
                V::I(i) => q.bind(i),
            };
        }
    }
    q.execute(&mut *conn).await?;
    Ok(())
}
