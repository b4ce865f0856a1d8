//! Login (user) events and the live-session figures the metrics endpoint reports.
//!
//! Events are appended one row each, read newest first with Keycloak's filters, and expire in
//! bounded batches. Every method is one statement (so one transaction).

use crate::admin::{Page, Sql, page_clause};
use crate::bulk::V;
use crate::{Result, Store};
use sqlx::Row;
use std::collections::BTreeMap;

/// One login event (Keycloak's `Event`). Times are epoch milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginEventRecord {
    pub id: String,
    pub realm_id: String,
    pub time: i64,
    /// `LOGIN`, `LOGIN_ERROR`, `CODE_TO_TOKEN`, ...
    pub type_: String,
    /// The client's `clientId`.
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub ip_address: Option<String>,
    pub error: Option<String>,
    pub details: BTreeMap<String, String>,
}

/// Filters of `GET /events`; every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginEventQuery {
    /// Any of these types (none given: all).
    pub types: Vec<String>,
    /// The client's `clientId`.
    pub client: Option<String>,
    pub user: Option<String>,
    pub ip_address: Option<String>,
    /// Inclusive lower bound (epoch ms).
    pub from_ms: Option<i64>,
    /// Exclusive upper bound (epoch ms).
    pub to_ms: Option<i64>,
    /// Oldest first instead of newest first.
    pub ascending: bool,
}

/// Live SSO sessions of one realm, and client sessions per client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RealmSessionCounts {
    pub realm: String,
    pub sessions: i64,
    /// (clientId, client sessions), by clientId.
    pub clients: Vec<(String, i64)>,
}

fn event_record(r: &sqlx::any::AnyRow) -> Result<LoginEventRecord> {
    let details: Option<String> = r.try_get(9)?;
    Ok(LoginEventRecord {
        id: r.try_get(0)?,
        realm_id: r.try_get(1)?,
        time: r.try_get(2)?,
        type_: r.try_get(3)?,
        client_id: r.try_get(4)?,
        user_id: r.try_get(5)?,
        session_id: r.try_get(6)?,
        ip_address: r.try_get(7)?,
        error: r.try_get(8)?,
        details: match details {
            Some(text) => serde_json::from_str(&text)?,
            None => BTreeMap::new(),
        },
    })
}

impl Store {
    /// Append login events in one transaction (multi-row inserts): all or none.
    pub async fn add_login_events(&self, events: &[LoginEventRecord]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(events.len());
        for e in events {
            let details = if e.details.is_empty() {
                None
            } else {
                Some(serde_json::to_string(&e.details)?)
            };
            rows.push(vec![
                V::from(&e.id),
                V::from(&e.realm_id),
                V::from(e.time),
                V::from(&e.type_),
                V::from(&e.client_id),
                V::from(&e.user_id),
                V::from(&e.session_id),
                V::from(&e.ip_address),
                V::from(&e.error),
                V::from(details),
            ]);
        }
        let mut tx = self.begin().await?;
        crate::bulk::insert(
            &mut tx,
            "login_event",
            &[
                "id",
                "realm_id",
                "time",
                "type",
                "client_id",
                "user_id",
                "session_id",
                "ip_address",
                "error",
                "details",
            ],
            rows,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Append one login event.
    pub async fn add_login_event(&self, e: &LoginEventRecord) -> Result<()> {
        let details = if e.details.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&e.details)?)
        };
        sqlx::query(
            "INSERT INTO login_event (id, realm_id, time, type, client_id, user_id, session_id, \
             ip_address, error, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&e.id)
        .bind(&e.realm_id)
        .bind(e.time)
        .bind(&e.type_)
        .bind(&e.client_id)
        .bind(&e.user_id)
        .bind(&e.session_id)
        .bind(&e.ip_address)
        .bind(&e.error)
        .bind(details)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A page of a realm's login events matching `q`, newest first unless `q.ascending`.
    pub async fn login_events(
        &self,
        realm_id: &str,
        q: &LoginEventQuery,
        page: Page,
    ) -> Result<Vec<LoginEventRecord>> {
        let mut st = Sql::new(
            "SELECT id, realm_id, time, type, client_id, user_id, session_id, ip_address, error, \
             details FROM login_event WHERE realm_id = ",
        );
        let r = st.bind(V::from(realm_id));
        st.text.push_str(&r);
        if !q.types.is_empty() {
            let list: Vec<String> = q.types.iter().map(|v| st.bind(V::from(v))).collect();
            st.text
                .push_str(&format!(" AND type IN ({})", list.join(", ")));
        }
        for (column, value) in [
            ("client_id", &q.client),
            ("user_id", &q.user),
            ("ip_address", &q.ip_address),
        ] {
            if let Some(v) = value {
                let b = st.bind(V::from(v));
                st.text.push_str(&format!(" AND {column} = {b}"));
            }
        }
        if let Some(from) = q.from_ms {
            let b = st.bind(V::from(from));
            st.text.push_str(&format!(" AND time >= {b}"));
        }
        if let Some(to) = q.to_ms {
            let b = st.bind(V::from(to));
            st.text.push_str(&format!(" AND time < {b}"));
        }
        st.text.push_str(if q.ascending {
            " ORDER BY time ASC, id ASC"
        } else {
            " ORDER BY time DESC, id DESC"
        });
        page_clause(&mut st, page);
        st.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(event_record)
            .collect()
    }

    /// Delete all of a realm's login events; the number gone.
    pub async fn delete_login_events(&self, realm_id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM login_event WHERE realm_id = $1")
            .bind(realm_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Delete up to `batch` of a realm's login events older than `before_ms`, oldest first;
    /// the number gone (call again while it returns `batch`).
    pub async fn expire_login_events(
        &self,
        realm_id: &str,
        before_ms: i64,
        batch: i64,
    ) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM login_event WHERE id IN (SELECT id FROM login_event \
             WHERE realm_id = $1 AND time < $2 ORDER BY time, id LIMIT $3)",
        )
        .bind(realm_id)
        .bind(before_ms)
        .bind(batch.max(1))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Stored SSO sessions per realm and client sessions per (realm, client): what the
    /// metrics endpoint reports as active. Sessions past their lifespans count until the next
    /// housekeeping round removes them (at most a minute). Two grouped scans over indexed
    /// columns; realms without sessions are listed with zero.
    pub async fn session_counts(&self) -> Result<Vec<RealmSessionCounts>> {
        let mut out: BTreeMap<String, RealmSessionCounts> = BTreeMap::new();
        let realms = sqlx::query(
            "SELECT r.name, (SELECT COUNT(*) FROM user_session s WHERE s.realm_id = r.id) \
             FROM realm r",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in &realms {
            let name: String = row.try_get(0)?;
            let sessions: i64 = row.try_get(1)?;
            out.insert(
                name.clone(),
                RealmSessionCounts {
                    realm: name,
                    sessions,
                    clients: Vec::new(),
                },
            );
        }
        let clients = sqlx::query(
            "SELECT r.name, c.client_id, COUNT(*) FROM client_session cs \
             JOIN client c ON c.id = cs.client_id JOIN realm r ON r.id = c.realm_id \
             GROUP BY r.name, c.client_id ORDER BY r.name, c.client_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in &clients {
            let realm: String = row.try_get(0)?;
            let client: String = row.try_get(1)?;
            let n: i64 = row.try_get(2)?;
            if let Some(entry) = out.get_mut(&realm) {
                entry.clients.push((client, n));
            }
        }
        Ok(out.into_values().collect())
    }
}
