//! What the admin API's role, role-mapping, credential and session endpoints read and write:
//! client roles, composites (with cycle refusal), who holds a role, group role mappings, a
//! user's credentials without secrets, and the SSO sessions of a user, a client or a realm.
//!
//! Invariants (as in `admin.rs`): every public method is one statement or one transaction;
//! lists that can grow with the realm (a role's users and groups, a client's sessions) are cut
//! by the database with a stable `ORDER BY` and `LIMIT`/`OFFSET`; composite links never form a
//! cycle when written through [`Store::add_composites`] (checked and written in one
//! transaction that first takes the realm row's write lock, so two concurrent additions cannot
//! close a cycle between them); credential secrets never leave through these methods.

use crate::admin::{
    GROUP_COLUMNS, GroupDetails, Page, ROLE_DETAILS, RoleDetails, TextFilter, UserDetails,
    group_record, role_details,
};
use crate::oidc::{placeholders, user_session_record};
use crate::user::{USER_COLUMNS, user_record};
use crate::{Result, Store, StoreError};
use portcullis_model::records::UserSessionRecord;
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashMap;

/// Adding these composites would make a role contain itself (directly or through others).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeCycle {
    /// The member whose addition closes the cycle.
    pub role_id: String,
}

/// A user's credential as the admin API may show it: never the secret part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInfo {
    pub id: String,
    pub type_: String,
    pub user_label: Option<String>,
    pub created_date: i64,
    pub priority: i64,
    /// The non-secret parameters (algorithm, iterations, ...), as stored.
    pub credential_data: String,
}

/// An SSO session with its user's name and the clients (internal id, `clientId`) in it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    pub session: UserSessionRecord,
    pub username: String,
    /// Ordered by `clientId`.
    pub clients: Vec<(String, String)>,
}

/// Per client of a realm with sessions: (internal id, `clientId`, active client sessions).
pub type ClientSessionCount = (String, String, i64);

/// Which SSO sessions count as alive: refreshed after `last_refresh_after` and started after
/// `started_after` (milliseconds; the caller subtracts the realm's idle timeout and maximum
/// lifespan from now). Expired sessions stay stored until housekeeping purges them; listings
/// and counts leave them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSince {
    pub last_refresh_after: i64,
    pub started_after: i64,
}

impl LiveSince {
    /// Every stored session.
    pub const ALL: LiveSince = LiveSince {
        last_refresh_after: i64::MIN,
        started_after: i64::MIN,
    };
}

const SESSION_COLUMNS: &str = "us.id, us.realm_id, us.user_id, us.auth_time_s, us.started, us.last_refresh, us.remember_me, us.ip_address";

impl Store {
    // ----------------------------------------------------------------------- client roles

    /// A page of a client's roles, ordered by name, optionally filtered by name.
    pub async fn client_roles_page(
        &self,
        client_uuid: &str,
        name: Option<&TextFilter>,
        page: Page,
    ) -> Result<Vec<RoleDetails>> {
        self.roles_page("r.client_id", client_uuid, name, page)
            .await
    }

    /// A client role by name.
    pub async fn client_role_details(
        &self,
        client_uuid: &str,
        name: &str,
    ) -> Result<Option<RoleDetails>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ROLE_DETAILS} FROM role r WHERE r.client_id = $1 AND r.name = $2"
        )))
        .bind(client_uuid)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(role_details).transpose()
    }

    /// Every role of one container: the realm's realm roles (`client_uuid` None) or one
    /// client's roles, ordered by name. Containers hold tens of roles, not thousands; this
    /// serves the `available` mappings, which Keycloak does not page either.
    pub async fn container_roles(
        &self,
        realm_id: &str,
        client_uuid: Option<&str>,
    ) -> Result<Vec<RoleDetails>> {
        let rows = match client_uuid {
            None => sqlx::query(AssertSqlSafe(format!(
                "SELECT {ROLE_DETAILS} FROM role r WHERE r.realm_id = $1 AND r.client_id IS NULL ORDER BY r.name, r.id"
            )))
            .bind(realm_id)
            .fetch_all(&self.pool)
            .await?,
            Some(c) => sqlx::query(AssertSqlSafe(format!(
                "SELECT {ROLE_DETAILS} FROM role r WHERE r.realm_id = $1 AND r.client_id = $2 ORDER BY r.name, r.id"
            )))
            .bind(realm_id)
            .bind(c)
            .fetch_all(&self.pool)
            .await?,
        };
        rows.iter().map(role_details).collect()
    }

    // ------------------------------------------------------------------------- composites

    /// The direct members of a composite role, realm roles first, then by client and name.
    pub async fn role_composites(&self, role_id: &str) -> Result<Vec<RoleDetails>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ROLE_DETAILS} FROM role_composite rc JOIN role r ON r.id = rc.child_id \
             WHERE rc.parent_id = $1 ORDER BY COALESCE(r.client_id, ''), r.name, r.id"
        )))
        .bind(role_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(role_details).collect()
    }

    /// Make `child_ids` members of the composite `parent_id` (members it has already stay),
    /// in one transaction. Every role must belong to `realm_id` (`NotFound` otherwise). When a
    /// member is the parent itself or already contains it (through any chain of composites),
    /// nothing is written and the outcome names it.
    pub async fn add_composites(
        &self,
        realm_id: &str,
        parent_id: &str,
        child_ids: &[String],
    ) -> Result<std::result::Result<(), CompositeCycle>> {
        let mut tx = self.begin().await?;
        // The realm row's write lock serialises composite changes of a realm: two additions
        // racing cannot each pass the cycle check and together close a cycle.
        let locked = sqlx::query("UPDATE realm SET name = name WHERE id = $1")
            .bind(realm_id)
            .execute(&mut *tx)
            .await?;
        if locked.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("realm {realm_id}")));
        }
        let mut ids: Vec<String> = child_ids.to_vec();
        ids.push(parent_id.to_owned());
        ids.sort();
        ids.dedup();
        for chunk in ids.chunks(crate::oidc::IN_CHUNK) {
            let mut q = sqlx::query(AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM role WHERE realm_id = $1 AND id IN ({})",
                placeholders(2, chunk.len())
            )))
            .bind(realm_id);
            for id in chunk {
                q = q.bind(id.clone());
            }
            let n: i64 = q.fetch_one(&mut *tx).await?.try_get(0)?;
            if n != chunk.len() as i64 {
                return Err(StoreError::NotFound("role".into()));
            }
        }
        for child in child_ids {
            // The members of `child` (itself included), all the way down.
            let hit = sqlx::query(
                "WITH RECURSIVE down(id) AS ( \
                   SELECT $1 \
                   UNION \
                   SELECT rc.child_id FROM role_composite rc JOIN down d ON rc.parent_id = d.id \
                 ) SELECT COUNT(*) FROM down WHERE id = $2",
            )
            .bind(child)
            .bind(parent_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get::<i64, _>(0)?;
            if hit > 0 {
                return Ok(Err(CompositeCycle {
                    role_id: child.clone(),
                }));
            }
            sqlx::query(
                "INSERT INTO role_composite (parent_id, child_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(parent_id)
            .bind(child)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Remove members from a composite role, in one transaction (non-members are ignored).
    pub async fn remove_composites(&self, parent_id: &str, child_ids: &[String]) -> Result<()> {
        let mut tx = self.begin().await?;
        for child in child_ids {
            sqlx::query("DELETE FROM role_composite WHERE parent_id = $1 AND child_id = $2")
                .bind(parent_id)
                .bind(child)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // --------------------------------------------------------------------- role holders

    /// A page of the users granted a role directly, ordered by username.
    pub async fn role_users(
        &self,
        realm_id: &str,
        role_id: &str,
        page: Page,
    ) -> Result<Vec<UserDetails>> {
        let users = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM user_entity u JOIN user_role ur ON ur.user_id = u.id \
             WHERE u.realm_id = $1 AND ur.role_id = $2 ORDER BY u.username, u.id LIMIT $3 OFFSET $4"
        )))
        .bind(realm_id)
        .bind(role_id)
        .bind(page.max.max(0))
        .bind(page.first.max(0))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(user_record)
        .collect::<Result<Vec<_>>>()?;
        self.with_details(users).await
    }

    /// A page of the groups granted a role directly, ordered by name.
    pub async fn role_groups(
        &self,
        realm_id: &str,
        role_id: &str,
        page: Page,
    ) -> Result<Vec<GroupDetails>> {
        let groups = sqlx::query(AssertSqlSafe(format!(
            "SELECT {GROUP_COLUMNS} FROM grp g JOIN group_role gr ON gr.group_id = g.id \
             WHERE g.realm_id = $1 AND gr.role_id = $2 ORDER BY g.name, g.id LIMIT $3 OFFSET $4"
        )))
        .bind(realm_id)
        .bind(role_id)
        .bind(page.max.max(0))
        .bind(page.first.max(0))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(group_record)
        .collect::<Result<Vec<_>>>()?;
        self.group_details_of(groups).await
    }

    // -------------------------------------------------------------- group role mappings

    /// The roles granted to a group directly, with the `clientId` of client roles; realm roles
    /// first, then by client and name.
    pub async fn group_direct_roles(
        &self,
        group_id: &str,
    ) -> Result<Vec<(RoleDetails, Option<String>)>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ROLE_DETAILS}, c.client_id FROM group_role gr JOIN role r ON r.id = gr.role_id \
             LEFT JOIN client c ON c.id = r.client_id WHERE gr.group_id = $1 \
             ORDER BY COALESCE(c.client_id, ''), r.name, r.id"
        )))
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((role_details(r)?, r.try_get(7)?)))
            .collect()
    }

    /// Grant roles to a group, in one transaction (roles it has already stay).
    pub async fn grant_group_roles(&self, group_id: &str, role_ids: &[String]) -> Result<()> {
        let mut tx = self.begin().await?;
        for id in role_ids {
            sqlx::query(
                "INSERT INTO group_role (group_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(group_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Remove roles from a group, in one transaction (roles it does not have are ignored).
    pub async fn revoke_group_roles(&self, group_id: &str, role_ids: &[String]) -> Result<()> {
        let mut tx = self.begin().await?;
        for id in role_ids {
            sqlx::query("DELETE FROM group_role WHERE group_id = $1 AND role_id = $2")
                .bind(group_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // ------------------------------------------------------------------------ credentials

    /// A user's credentials without their secrets, by priority then creation.
    pub async fn credential_infos(&self, user_id: &str) -> Result<Vec<CredentialInfo>> {
        let rows = sqlx::query(
            "SELECT id, type, user_label, created_date, priority, credential_data FROM credential \
             WHERE user_id = $1 ORDER BY priority, created_date, id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CredentialInfo {
                    id: r.try_get(0)?,
                    type_: r.try_get(1)?,
                    user_label: r.try_get(2)?,
                    created_date: r.try_get(3)?,
                    priority: r.try_get(4)?,
                    credential_data: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Delete one credential of a user. False when the user has no such credential.
    pub async fn delete_credential(&self, user_id: &str, credential_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM credential WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(credential_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    // --------------------------------------------------------------------------- sessions

    /// The clients of each session, ordered by `clientId`.
    async fn with_clients(
        &self,
        sessions: Vec<(UserSessionRecord, String)>,
    ) -> Result<Vec<SessionView>> {
        let ids: Vec<String> = sessions.iter().map(|(s, _)| s.id.clone()).collect();
        let mut clients: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for r in self
            .fetch_in(&ids, |list| {
                format!(
                    "SELECT cs.user_session_id, c.id, c.client_id FROM client_session cs \
                     JOIN client c ON c.id = cs.client_id WHERE cs.user_session_id IN ({list}) \
                     ORDER BY c.client_id"
                )
            })
            .await?
        {
            clients
                .entry(r.try_get(0)?)
                .or_default()
                .push((r.try_get(1)?, r.try_get(2)?));
        }
        Ok(sessions
            .into_iter()
            .map(|(session, username)| SessionView {
                clients: clients.remove(&session.id).unwrap_or_default(),
                session,
                username,
            })
            .collect())
    }

    fn session_rows(rows: &[sqlx::any::AnyRow]) -> Result<Vec<(UserSessionRecord, String)>> {
        rows.iter()
            .map(|r| Ok((user_session_record(r)?, r.try_get(8)?)))
            .collect()
    }

    /// A user's live SSO sessions in a realm with their clients, oldest first.
    pub async fn user_session_views(
        &self,
        realm_id: &str,
        user_id: &str,
        live: LiveSince,
    ) -> Result<Vec<SessionView>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS}, u.username FROM user_session us JOIN user_entity u ON u.id = us.user_id \
             WHERE us.realm_id = $1 AND us.user_id = $2 AND us.last_refresh > $3 AND us.started > $4 \
             ORDER BY us.started, us.id"
        )))
        .bind(realm_id)
        .bind(user_id)
        .bind(live.last_refresh_after)
        .bind(live.started_after)
        .fetch_all(&self.pool)
        .await?;
        self.with_clients(Self::session_rows(&rows)?).await
    }

    /// A page of the live SSO sessions a client takes part in, oldest first.
    pub async fn client_session_views(
        &self,
        client_uuid: &str,
        live: LiveSince,
        page: Page,
    ) -> Result<Vec<SessionView>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS}, u.username FROM client_session cs \
             JOIN user_session us ON us.id = cs.user_session_id JOIN user_entity u ON u.id = us.user_id \
             WHERE cs.client_id = $1 AND us.last_refresh > $2 AND us.started > $3 \
             ORDER BY us.started, us.id LIMIT $4 OFFSET $5"
        )))
        .bind(client_uuid)
        .bind(live.last_refresh_after)
        .bind(live.started_after)
        .bind(page.max.max(0))
        .bind(page.first.max(0))
        .fetch_all(&self.pool)
        .await?;
        self.with_clients(Self::session_rows(&rows)?).await
    }

    /// How many live SSO sessions a client takes part in.
    pub async fn count_client_sessions(&self, client_uuid: &str, live: LiveSince) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM client_session cs JOIN user_session us ON us.id = cs.user_session_id \
             WHERE cs.client_id = $1 AND us.last_refresh > $2 AND us.started > $3",
        )
        .bind(client_uuid)
        .bind(live.last_refresh_after)
        .bind(live.started_after)
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?)
    }

    /// The realm's clients that have live sessions, with how many, ordered by `clientId`.
    pub async fn client_session_stats(
        &self,
        realm_id: &str,
        live: LiveSince,
    ) -> Result<Vec<ClientSessionCount>> {
        let rows = sqlx::query(
            "SELECT c.id, c.client_id, COUNT(*) FROM client_session cs JOIN client c ON c.id = cs.client_id \
             JOIN user_session us ON us.id = cs.user_session_id \
             WHERE c.realm_id = $1 AND us.last_refresh > $2 AND us.started > $3 \
             GROUP BY c.id, c.client_id ORDER BY c.client_id",
        )
        .bind(realm_id)
        .bind(live.last_refresh_after)
        .bind(live.started_after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// End one SSO session of the realm (its client sessions and codes go with it). False when
    /// the realm has no such session.
    pub async fn delete_realm_session(&self, realm_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM user_session WHERE realm_id = $1 AND id = $2")
            .bind(realm_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Log a user out everywhere, in one transaction: every SSO session of the user ends and
    /// the user's `notBefore` becomes `not_before_s` (tokens issued earlier stop being
    /// accepted). Returns how many sessions ended; `NotFound` when the realm has no such user.
    pub async fn logout_user(
        &self,
        realm_id: &str,
        user_id: &str,
        not_before_s: i64,
    ) -> Result<u64> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE user_entity SET not_before = CASE WHEN not_before < $1 THEN $1 ELSE not_before END \
             WHERE realm_id = $2 AND id = $3",
        )
        .bind(not_before_s)
        .bind(realm_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        let n = sqlx::query("DELETE FROM user_session WHERE realm_id = $1 AND user_id = $2")
            .bind(realm_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// End every SSO session of the realm; returns how many ended.
    pub async fn delete_realm_sessions(&self, realm_id: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM user_session WHERE realm_id = $1")
            .bind(realm_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
