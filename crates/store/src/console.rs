//! What the web admin console reads beyond the admin API's own queries: a realm's SSO sessions
//! with their users' names (paged), the outline of the group tree, and the role graph's
//! composite edges with each role's client, so the console can draw the group tree and the
//! composite hierarchy from one query each.
//!
//! Invariants: read-only; paging values reach SQL only as bound parameters; every list has a
//! deterministic order.

use crate::Result;
use crate::Store;
use crate::oidc::{USER_SESSION_COLUMNS, user_session_record};
use portcullis_model::records::UserSessionRecord;
use sqlx::{AssertSqlSafe, Row};

/// One SSO session of a realm and the username of its user.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionListing {
    pub session: UserSessionRecord,
    pub username: String,
}

/// One group of the tree: id, name, parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupNode {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
}

/// One role of a realm for the composite hierarchy: the `clientId` of its client, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleNode {
    pub id: String,
    pub name: String,
    pub client: Option<String>,
    pub description: Option<String>,
}

impl Store {
    /// A page of the realm's SSO sessions, most recent first, with the usernames.
    pub async fn realm_sessions(
        &self,
        realm_id: &str,
        first: i64,
        max: i64,
    ) -> Result<Vec<SessionListing>> {
        let columns = USER_SESSION_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {columns}, u.username FROM user_session s JOIN user_entity u ON u.id = s.user_id \
             WHERE s.realm_id = $1 ORDER BY s.started DESC, s.id LIMIT $2 OFFSET $3"
        )))
        .bind(realm_id)
        .bind(max.max(0))
        .bind(first.max(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionListing {
                    session: user_session_record(r)?,
                    username: r.try_get(8)?,
                })
            })
            .collect()
    }

    /// The realm's groups (at most `limit`, by name), for drawing the tree.
    pub async fn group_outline(&self, realm_id: &str, limit: i64) -> Result<Vec<GroupNode>> {
        let rows = sqlx::query(
            "SELECT id, name, parent_id FROM grp WHERE realm_id = $1 ORDER BY name, id LIMIT $2",
        )
        .bind(realm_id)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(GroupNode {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    parent_id: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Every role of the realm (realm roles first, then by client and name) and every
    /// composite edge (composite id, member id) among them.
    pub async fn role_outline(
        &self,
        realm_id: &str,
    ) -> Result<(Vec<RoleNode>, Vec<(String, String)>)> {
        let mut conn = self.pool.acquire().await?;
        let roles = sqlx::query(
            "SELECT r.id, r.name, c.client_id, r.description FROM role r \
             LEFT JOIN client c ON c.id = r.client_id WHERE r.realm_id = $1 \
             ORDER BY CASE WHEN r.client_id IS NULL THEN 0 ELSE 1 END, c.client_id, r.name, r.id",
        )
        .bind(realm_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(RoleNode {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                client: r.try_get(2)?,
                description: r.try_get(3)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let edges = sqlx::query(
            "SELECT rc.parent_id, rc.child_id FROM role_composite rc JOIN role r ON r.id = rc.parent_id \
             WHERE r.realm_id = $1 ORDER BY rc.parent_id, rc.child_id",
        )
        .bind(realm_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<Vec<_>>>()?;
        Ok((roles, edges))
    }
}
