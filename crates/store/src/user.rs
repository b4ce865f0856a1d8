//! Users: bulk insert and load (import/export), lookups, and effective roles.

use crate::bulk::{self, V};
use crate::{Result, Store, StoreError, flag};
use portcullis_model::records::*;
use sqlx::AnyConnection;
use sqlx::Row;
use std::collections::HashMap;

/// Users per batch when writing; bounds the memory of one multi-row statement.
const USER_BATCH: usize = 1000;

pub(crate) async fn insert_users(c: &mut AnyConnection, users: &[UserImage]) -> Result<()> {
    for chunk in users.chunks(USER_BATCH) {
        bulk::insert(
            c,
            "user_entity",
            &[
                "id",
                "realm_id",
                "username",
                "email",
                "first_name",
                "last_name",
                "enabled",
                "email_verified",
                "created_timestamp",
                "not_before",
                "federation_link",
                "service_account_client_id",
            ],
            chunk.iter().map(|u| {
                let r = &u.user;
                vec![
                    V::from(&r.id),
                    V::from(&r.realm_id),
                    V::from(&r.username),
                    V::from(&r.email),
                    V::from(&r.first_name),
                    V::from(&r.last_name),
                    V::from(r.enabled),
                    V::from(r.email_verified),
                    V::from(r.created_timestamp),
                    V::from(r.not_before),
                    V::from(&r.federation_link),
                    V::from(&r.service_account_client_id),
                ]
            }),
        )
        .await?;
        bulk::insert(
            c,
            "user_attribute",
            &["user_id", "name", "value", "position"],
            chunk.iter().flat_map(|u| {
                u.attributes.iter().enumerate().map(|(i, (k, v))| {
                    vec![
                        V::from(&u.user.id),
                        V::from(k),
                        V::from(v),
                        V::from(i as i64),
                    ]
                })
            }),
        )
        .await?;
        bulk::insert(
            c,
            "user_required_action",
            &["user_id", "action"],
            chunk.iter().flat_map(|u| {
                u.required_actions
                    .iter()
                    .map(|a| vec![V::from(&u.user.id), V::from(a)])
            }),
        )
        .await?;
        let mut creds = Vec::new();
        for u in chunk {
            for cr in &u.credentials {
                let CredentialSecret::Stored {
                    secret_data,
                    credential_data,
                } = &cr.secret
                else {
                    return Err(StoreError::Corrupt(format!(
                        "credential {} of user {} was not hashed before storing",
                        cr.id, u.user.username
                    )));
                };
                creds.push(vec![
                    V::from(&cr.id),
                    V::from(&u.user.id),
                    V::from(&cr.type_),
                    V::from(&cr.user_label),
                    V::from(cr.created_date),
                    V::from(cr.priority),
                    V::from(secret_data),
                    V::from(credential_data),
                ]);
            }
        }
        bulk::insert(
            c,
            "credential",
            &[
                "id",
                "user_id",
                "type",
                "user_label",
                "created_date",
                "priority",
                "secret_data",
                "credential_data",
            ],
            creds,
        )
        .await?;
        bulk::insert(
            c,
            "user_group",
            &["user_id", "group_id"],
            chunk.iter().flat_map(|u| {
                u.group_ids
                    .iter()
                    .map(|g| vec![V::from(&u.user.id), V::from(g)])
            }),
        )
        .await?;
        bulk::insert(
            c,
            "user_role",
            &["user_id", "role_id"],
            chunk.iter().flat_map(|u| {
                u.role_ids
                    .iter()
                    .map(|r| vec![V::from(&u.user.id), V::from(r)])
            }),
        )
        .await?;
    }
    Ok(())
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.realm_id, u.username, u.email, u.first_name, u.last_name, u.enabled, u.email_verified, u.created_timestamp, u.not_before, u.federation_link, u.service_account_client_id";

pub(crate) fn user_record(r: &sqlx::any::AnyRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: r.try_get(0)?,
        realm_id: r.try_get(1)?,
        username: r.try_get(2)?,
        email: r.try_get(3)?,
        first_name: r.try_get(4)?,
        last_name: r.try_get(5)?,
        enabled: flag(r.try_get(6)?),
        email_verified: flag(r.try_get(7)?),
        created_timestamp: r.try_get(8)?,
        not_before: r.try_get(9)?,
        federation_link: r.try_get(10)?,
        service_account_client_id: r.try_get(11)?,
    })
}

pub(crate) async fn load_users(c: &mut AnyConnection, realm_id: &str) -> Result<Vec<UserImage>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM user_entity u WHERE u.realm_id = $1 ORDER BY u.username"
    )))
    .bind(realm_id)
    .fetch_all(&mut *c)
    .await?;
    let mut users: Vec<UserImage> = Vec::with_capacity(rows.len());
    let mut index: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    for r in &rows {
        let user = user_record(r)?;
        index.insert(user.id.clone(), users.len());
        users.push(UserImage {
            user,
            attributes: Vec::new(),
            required_actions: Vec::new(),
            credentials: Vec::new(),
            group_ids: Vec::new(),
            role_ids: Vec::new(),
        });
    }
    drop(rows);
    let scoped = "user_id IN (SELECT id FROM user_entity WHERE realm_id = $1)";
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT user_id, name, value FROM user_attribute WHERE {scoped} ORDER BY user_id, position"
    )))
    .bind(realm_id)
    .fetch_all(&mut *c)
    .await?
    {
        if let Some(&i) = index.get(&r.try_get::<String, _>(0)?) {
            users[i].attributes.push((r.try_get(1)?, r.try_get(2)?));
        }
    }
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT user_id, action FROM user_required_action WHERE {scoped} ORDER BY user_id, action"
    )))
    .bind(realm_id)
    .fetch_all(&mut *c)
    .await?
    {
        if let Some(&i) = index.get(&r.try_get::<String, _>(0)?) {
            users[i].required_actions.push(r.try_get(1)?);
        }
    }
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, user_id, type, user_label, created_date, priority, secret_data, credential_data FROM credential WHERE {scoped} ORDER BY user_id, priority, id"
    )))
    .bind(realm_id)
    .fetch_all(&mut *c)
    .await?
    {
        let user_id: String = r.try_get(1)?;
        if let Some(&i) = index.get(&user_id) {
            users[i].credentials.push(CredentialRecord {
                id: r.try_get(0)?,
                user_id,
                type_: r.try_get(2)?,
                user_label: r.try_get(3)?,
                created_date: r.try_get(4)?,
                priority: r.try_get(5)?,
                secret: CredentialSecret::Stored { secret_data: r.try_get(6)?, credential_data: r.try_get(7)? },
            });
        }
    }
    for (table, col) in [("user_group", "group_id"), ("user_role", "role_id")] {
        for r in sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT user_id, {col} FROM {table} WHERE {scoped} ORDER BY user_id, {col}"
        )))
        .bind(realm_id)
        .fetch_all(&mut *c)
        .await?
        {
            if let Some(&i) = index.get(&r.try_get::<String, _>(0)?) {
                let v: String = r.try_get(1)?;
                if table == "user_group" {
                    users[i].group_ids.push(v);
                } else {
                    users[i].role_ids.push(v);
                }
            }
        }
    }
    Ok(users)
}

/// Effective roles: direct roles, roles of the user's groups and of every ancestor group, and
/// everything those roles contain through composites, in one recursive query.
const EFFECTIVE_ROLES: &str = "
WITH RECURSIVE
  member_of(id) AS (
    SELECT group_id FROM user_group WHERE user_id = $1
    UNION
    SELECT g.parent_id FROM grp g JOIN member_of m ON g.id = m.id WHERE g.parent_id IS NOT NULL
  ),
  granted(id) AS (
    SELECT role_id FROM user_role WHERE user_id = $1
    UNION
    SELECT gr.role_id FROM group_role gr JOIN member_of m ON gr.group_id = m.id
    UNION
    SELECT rc.child_id FROM role_composite rc JOIN granted g ON rc.parent_id = g.id
  )
SELECT r.id, r.realm_id, r.client_id, r.name, r.description, r.attributes
FROM role r JOIN granted g ON r.id = g.id
ORDER BY r.client_id, r.name";

impl Store {
    pub async fn find_user_by_username(
        &self,
        realm_id: &str,
        username: &str,
    ) -> Result<Option<UserRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM user_entity u WHERE u.realm_id = $1 AND u.username = $2"
        )))
        .bind(realm_id)
        .bind(username.to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| user_record(&r)).transpose()
    }

    pub async fn count_users(&self, realm_id: &str) -> Result<i64> {
        Ok(
            sqlx::query("SELECT COUNT(*) FROM user_entity WHERE realm_id = $1")
                .bind(realm_id)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?,
        )
    }

    /// Add users to an existing realm in one transaction (credentials must be hashed).
    pub async fn add_users(&self, users: &[UserImage]) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_users(&mut tx, users).await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many users hold the role (directly, through groups or composites): used to decide
    /// whether a bootstrap admin is needed.
    pub async fn count_role_holders(&self, role_id: &str) -> Result<i64> {
        let sql = "
WITH RECURSIVE
  holders(id) AS (
    SELECT $1
    UNION
    SELECT rc.parent_id FROM role_composite rc JOIN holders h ON rc.child_id = h.id
  ),
  groups_with(id) AS (
    SELECT gr.group_id FROM group_role gr JOIN holders h ON gr.role_id = h.id
    UNION
    SELECT g.id FROM grp g JOIN groups_with w ON g.parent_id = w.id
  )
SELECT COUNT(*) FROM user_entity u WHERE u.enabled = 1 AND (
  u.id IN (SELECT ur.user_id FROM user_role ur JOIN holders h ON ur.role_id = h.id)
  OR u.id IN (SELECT ug.user_id FROM user_group ug JOIN groups_with w ON ug.group_id = w.id))";
        Ok(sqlx::query(sql)
            .bind(role_id)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// Every role the user holds, through groups, ancestor groups and composites.
    pub async fn effective_roles(&self, user_id: &str) -> Result<Vec<RoleRecord>> {
        let rows = sqlx::query(EFFECTIVE_ROLES)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(role_record).collect()
    }

    /// The credentials of a user, highest priority first.
    pub async fn credentials(&self, user_id: &str) -> Result<Vec<CredentialRecord>> {
        let rows = sqlx::query(
            "SELECT id, type, user_label, created_date, priority, secret_data, credential_data FROM credential WHERE user_id = $1 ORDER BY priority, created_date",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CredentialRecord {
                    id: r.try_get(0)?,
                    user_id: user_id.to_string(),
                    type_: r.try_get(1)?,
                    user_label: r.try_get(2)?,
                    created_date: r.try_get(3)?,
                    priority: r.try_get(4)?,
                    secret: CredentialSecret::Stored {
                        secret_data: r.try_get(5)?,
                        credential_data: r.try_get(6)?,
                    },
                })
            })
            .collect()
    }

    /// A realm role by name.
    pub async fn realm_role(&self, realm_id: &str, name: &str) -> Result<Option<RoleRecord>> {
        let row = sqlx::query(
            "SELECT id, realm_id, client_id, name, description, attributes FROM role WHERE realm_id = $1 AND client_id IS NULL AND name = $2",
        )
        .bind(realm_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(role_record).transpose()
    }
}

impl Store {
    /// The realm's role graph (roles, composites, groups, group roles) for in-memory
    /// effective-role computation; callers cache it per realm.
    pub async fn role_graph(&self, realm_id: &str) -> Result<portcullis_model::roles::RoleGraph> {
        let mut conn = self.pool.acquire().await?;
        let c = &mut *conn;
        let roles = sqlx::query("SELECT id, realm_id, client_id, name, description, attributes FROM role WHERE realm_id = $1")
            .bind(realm_id)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(role_record)
            .collect::<Result<Vec<_>>>()?;
        let composites = crate::realm::pairs(
            c,
            "SELECT rc.parent_id, rc.child_id FROM role_composite rc JOIN role r ON r.id = rc.parent_id WHERE r.realm_id = $1",
            realm_id,
        )
        .await?;
        let groups = sqlx::query("SELECT id, parent_id FROM grp WHERE realm_id = $1")
            .bind(realm_id)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>(0)?,
                    r.try_get::<Option<String>, _>(1)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let group_roles = crate::realm::pairs(
            c,
            "SELECT gr.group_id, gr.role_id FROM group_role gr JOIN grp g ON g.id = gr.group_id WHERE g.realm_id = $1",
            realm_id,
        )
        .await?;
        Ok(portcullis_model::roles::RoleGraph::new(
            roles,
            &composites,
            &groups,
            &group_roles,
        ))
    }

    /// A user's direct role ids and direct group ids, in one round trip.
    pub async fn user_memberships(&self, user_id: &str) -> Result<(Vec<String>, Vec<String>)> {
        let rows = sqlx::query(
            "SELECT 'r', role_id FROM user_role WHERE user_id = $1 UNION ALL SELECT 'g', group_id FROM user_group WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let (mut roles, mut groups) = (Vec::new(), Vec::new());
        for r in &rows {
            let kind: String = r.try_get(0)?;
            let id: String = r.try_get(1)?;
            if kind == "r" {
                roles.push(id);
            } else {
                groups.push(id);
            }
        }
        Ok((roles, groups))
    }
}

pub(crate) fn role_record(r: &sqlx::any::AnyRow) -> Result<RoleRecord> {
    Ok(RoleRecord {
        id: r.try_get(0)?,
        realm_id: r.try_get(1)?,
        client_id: r.try_get(2)?,
        name: r.try_get(3)?,
        description: r.try_get(4)?,
        attributes: serde_json::from_str(&r.try_get::<String, _>(5)?)?,
    })
}

// ---------------------------------------------------------------------------------------------
// Lookups and changes the login and token endpoints need.
// ---------------------------------------------------------------------------------------------

/// A user's direct groups with their full paths (`/parent/child`), walking up to the root.
const DIRECT_GROUPS: &str = "
WITH RECURSIVE up(group_id, parent_id, path) AS (
  SELECT g.id, g.parent_id, '/' || g.name FROM user_group ug JOIN grp g ON g.id = ug.group_id WHERE ug.user_id = $1
  UNION ALL
  SELECT u.group_id, g.parent_id, '/' || g.name || u.path FROM up u JOIN grp g ON g.id = u.parent_id
)
SELECT g.id, g.name, u.path FROM up u JOIN grp g ON g.id = u.group_id
WHERE u.parent_id IS NULL
ORDER BY u.path, g.id";

impl Store {
    /// The realm's users with this email. Stored emails are trimmed and lower-cased at import,
    /// so `email` is too before the comparison. More than one only when the realm allows
    /// duplicate emails; ordered by username.
    pub async fn find_user_by_email(&self, realm_id: &str, email: &str) -> Result<Vec<UserRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM user_entity u WHERE u.realm_id = $1 AND u.email = $2 ORDER BY u.username"
        )))
        .bind(realm_id)
        .bind(email.trim().to_lowercase())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_record).collect()
    }

    /// A user of the realm by id (None for another realm's user).
    pub async fn user_by_id(&self, realm_id: &str, id: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM user_entity u WHERE u.realm_id = $1 AND u.id = $2"
        )))
        .bind(realm_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_record).transpose()
    }

    /// The user's attributes as (name, value) pairs in stored order; a multi-valued attribute
    /// appears once per value.
    pub async fn user_attributes(&self, user_id: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT name, value FROM user_attribute WHERE user_id = $1 ORDER BY position",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// The user's pending required actions, sorted.
    pub async fn required_actions(&self, user_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT action FROM user_required_action WHERE user_id = $1 ORDER BY action",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Add a required action to an existing user (nothing when it is already pending). False
    /// when there is no such user.
    pub async fn add_required_action(&self, user_id: &str, action: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO user_required_action (user_id, action) SELECT id, $2 FROM user_entity \
             WHERE id = $1 ON CONFLICT (user_id, action) DO NOTHING",
        )
        .bind(user_id)
        .bind(action)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            return Ok(true);
        }
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM user_entity WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(n > 0)
    }

    /// Clear one required action (exact spelling, as stored). False when it was not pending.
    pub async fn remove_required_action(&self, user_id: &str, action: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM user_required_action WHERE user_id = $1 AND action = $2")
                .bind(user_id)
                .bind(action)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Replace the user's password: delete every `password` credential of `user_id` and store
    /// `cred` (which must be hashed: `CredentialSecret::Stored`, else `Corrupt`) under
    /// `user_id`, with its id, label, date and priority, in one transaction. `NotFound` when
    /// there is no such user.
    pub async fn replace_password(&self, user_id: &str, cred: &CredentialRecord) -> Result<()> {
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
        sqlx::query("DELETE FROM credential WHERE user_id = $1 AND type = 'password'")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO credential (id, user_id, type, user_label, created_date, priority, secret_data, credential_data) \
             VALUES ($1, $2, 'password', $3, $4, $5, $6, $7)",
        )
        .bind(&cred.id)
        .bind(user_id)
        .bind(&cred.user_label)
        .bind(cred.created_date)
        .bind(cred.priority)
        .bind(secret_data)
        .bind(credential_data)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
                return Err(StoreError::NotFound(format!("user {user_id}")));
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(())
    }

    /// The user's direct groups as (id, name, full path), e.g. `/staff/admins`, sorted by path.
    pub async fn direct_groups(&self, user_id: &str) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query(DIRECT_GROUPS)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Attributes of the user's groups and of their ancestors, keyed by full group path
    /// (`/parent/child`), each as (name, value) pairs in stored order. One query.
    pub async fn group_attributes_of_user(
        &self,
        user_id: &str,
    ) -> Result<std::collections::BTreeMap<String, Vec<(String, String)>>> {
        let rows = sqlx::query(
            "WITH RECURSIVE chain(group_id) AS (
               SELECT group_id FROM user_group WHERE user_id = $1
               UNION
               SELECT g.parent_id FROM chain c JOIN grp g ON g.id = c.group_id WHERE g.parent_id IS NOT NULL
             )
             SELECT g.id, g.parent_id, g.name, g.attributes FROM chain c JOIN grp g ON g.id = c.group_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let mut groups = std::collections::HashMap::new();
        for r in &rows {
            let id: String = r.try_get(0)?;
            let parent: Option<String> = r.try_get(1)?;
            let name: String = r.try_get(2)?;
            let attrs: portcullis_model::repr::MultiAttributes =
                serde_json::from_str(&r.try_get::<String, _>(3)?)?;
            groups.insert(id, (parent, name, attrs));
        }
        let mut out = std::collections::BTreeMap::new();
        for (id, (_, _, attrs)) in &groups {
            // Walk up to the root; the chain holds every ancestor (bounded by the group count,
            // so a corrupt cycle cannot loop forever).
            let mut names = Vec::new();
            let mut at = Some(id.as_str());
            while let Some(gid) = at {
                let Some((parent, name, _)) = groups.get(gid) else {
                    break;
                };
                names.push(name.as_str());
                if names.len() > groups.len() {
                    break;
                }
                at = parent.as_deref();
            }
            names.reverse();
            let path = format!("/{}", names.join("/"));
            let pairs: Vec<(String, String)> = attrs
                .iter()
                .flat_map(|(k, vs)| vs.0.iter().map(move |v| (k.clone(), v.clone())))
                .collect();
            if !pairs.is_empty() {
                out.insert(path, pairs);
            }
        }
        Ok(out)
    }

    /// The service-account user of a client (internal id), if it has one.
    pub async fn service_account_user(&self, client_uuid: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM user_entity u WHERE u.service_account_client_id = $1"
        )))
        .bind(client_uuid)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_record).transpose()
    }
}
