//! What the admin REST API reads and writes: user search and paging, single-user changes,
//! groups (tree, children, members), realm roles and a user's role mappings.
//!
//! Invariants: every public method is one statement or one transaction (a failed write leaves
//! nothing behind); search and paging values are bound parameters, never spliced into SQL, and
//! `%`, `_` and `\` in search text are escaped before a `LIKE`; pages are cut by the database
//! (`LIMIT`/`OFFSET`), so no method loads a whole table. Uniqueness rules the API reports by
//! name (username, email, sibling group name, role name) come back as typed outcomes, not as
//! errors.

use crate::bulk::V;
use crate::user::{USER_COLUMNS, role_record, user_record};
use crate::{Backend, Result, Store, StoreError};
use portcullis_model::records::{CredentialSecret, GroupRecord, RoleRecord, UserImage, UserRecord};
use portcullis_model::repr::MultiAttributes;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::collections::HashMap;

/// How a text filter compares (case-insensitive in every mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The whole value.
    Exact,
    /// The value starts with the text.
    Prefix,
    /// The value ends with the text.
    Suffix,
    /// The value contains the text.
    Infix,
}

/// A text filter on one column (or, for [`UserQuery::any`], on several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFilter {
    pub text: String,
    pub mode: Match,
}

impl TextFilter {
    pub fn new(text: impl Into<String>, mode: Match) -> TextFilter {
        TextFilter {
            text: text.into(),
            mode,
        }
    }

    /// The lower-cased comparison value: the text itself for `Exact`, a `LIKE` pattern with
    /// `%`, `_` and `\` escaped otherwise.
    fn pattern(&self) -> String {
        let lower = self.text.to_lowercase();
        match self.mode {
            Match::Exact => lower,
            Match::Prefix => format!("{}%", escape_like(&lower)),
            Match::Suffix => format!("%{}", escape_like(&lower)),
            Match::Infix => format!("%{}%", escape_like(&lower)),
        }
    }

    /// The condition on a user column that an index can serve. `stored_lower`: the column
    /// is written lower-cased (username, email), so it is compared as it is; other columns
    /// are compared through `LOWER(column)`, which the migrations index.
    ///
    /// A prefix becomes a range on the column (`text <= value < text || U+10FFFF`) plus the
    /// exact `LIKE`: the range is what lets both databases seek in a B-tree instead of
    /// scanning the realm's users. PostgreSQL compares the range bytewise (`COLLATE "C"`,
    /// with indexes to match in migrations-postgres/) because a linguistic collation does not
    /// keep a prefix's matches between those bounds. Values beginning with the prefix followed
    /// by the noncharacter U+10FFFF are the only ones the range misses.
    fn indexed_condition(
        &self,
        column: &str,
        stored_lower: bool,
        backend: Backend,
        sql: &mut Sql,
    ) -> String {
        let expr = if stored_lower {
            column.to_string()
        } else {
            format!("LOWER({column})")
        };
        let lower = self.text.to_lowercase();
        let bytewise = match backend {
            Backend::Postgres => " COLLATE \"C\"",
            Backend::Sqlite => "",
        };
        match self.mode {
            Match::Exact => {
                let p = sql.bind(V::from(lower));
                format!("{expr}{bytewise} = {p}")
            }
            Match::Prefix => {
                let lo = sql.bind(V::from(lower.as_str()));
                let hi = sql.bind(V::from(format!("{lower}\u{10FFFF}")));
                let pat = sql.bind(V::from(self.pattern()));
                format!(
                    "({expr}{bytewise} >= {lo} AND {expr}{bytewise} < {hi} \
                     AND {expr} LIKE {pat} ESCAPE '\\')"
                )
            }
            Match::Suffix | Match::Infix => {
                let p = sql.bind(V::from(self.pattern()));
                format!("{expr} LIKE {p} ESCAPE '\\'")
            }
        }
    }

    /// `LOWER(column) = $n` or `LOWER(column) LIKE $n ESCAPE '\'`, binding the value.
    pub(crate) fn condition(&self, column: &str, sql: &mut Sql) -> String {
        let p = sql.bind(V::from(self.pattern()));
        match self.mode {
            Match::Exact => format!("LOWER({column}) = {p}"),
            _ => format!("LOWER({column}) LIKE {p} ESCAPE '\\'"),
        }
    }
}

/// `text` with the `LIKE` wildcards and the escape character escaped.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Up to this many members a group is listed by reading its members and sorting them; above,
/// by walking users in username order (SQLite; see `Store::members_page`). Where the two plans
/// cost the same is about the square root of 100 times the realm's users: 10,000 at a million.
pub const MEMBER_PLAN_THRESHOLD: i64 = 10_000;

/// A page: skip `first`, return at most `max` (both already validated, non-negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub first: i64,
    pub max: i64,
}

/// Filters of `GET /users` and `GET /users/count`; every filter given must match.
/// Service-account users are never listed (as in Keycloak).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// `search`: username, email, first name or last name.
    pub any: Option<TextFilter>,
    /// `search=id:<uuid>`: exactly this user.
    pub id: Option<String>,
    pub username: Option<TextFilter>,
    pub email: Option<TextFilter>,
    pub first_name: Option<TextFilter>,
    pub last_name: Option<TextFilter>,
    pub enabled: Option<bool>,
    pub email_verified: Option<bool>,
}

/// A user with the parts of the admin representation kept in other tables.
#[derive(Debug, Clone, PartialEq)]
pub struct UserDetails {
    pub user: UserRecord,
    /// (name, value) in stored order; a multi-valued attribute appears once per value.
    pub attributes: Vec<(String, String)>,
    /// Sorted.
    pub required_actions: Vec<String>,
}

/// Which uniqueness rule a user write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserConflict {
    Username,
    Email,
}

/// The name is already used where it must be unique (sibling groups, a realm's roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameTaken;

/// A group with its full path (`/parent/child`) and number of direct sub-groups.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDetails {
    pub group: GroupRecord,
    pub path: String,
    pub sub_group_count: i64,
}

/// A role and whether it is a composite.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDetails {
    pub role: RoleRecord,
    pub composite: bool,
}

/// A statement under construction: text plus its bound values, numbered as they are added.
pub(crate) struct Sql {
    pub(crate) text: String,
    binds: Vec<V>,
}

impl Sql {
    pub(crate) fn new(text: impl Into<String>) -> Sql {
        Sql {
            text: text.into(),
            binds: Vec::new(),
        }
    }

    /// Add a bound value; returns its placeholder.
    pub(crate) fn bind(&mut self, v: V) -> String {
        self.binds.push(v);
        format!("${}", self.binds.len())
    }

    pub(crate) fn query(self) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(AssertSqlSafe(self.text));
        for v in self.binds {
            q = match v {
                V::T(t) => q.bind(t),
                V::I(i) => q.bind(i),
            };
        }
        q
    }
}

pub(crate) fn page_clause(sql: &mut Sql, page: Page) {
    let limit = sql.bind(V::from(page.max.max(0)));
    let offset = sql.bind(V::from(page.first.max(0)));
    sql.text
        .push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
}

// The searchable user columns: (column, stored lower-cased).
const USERNAME: (&str, bool) = ("u.username", true);
const EMAIL: (&str, bool) = ("u.email", true);
const FIRST_NAME: (&str, bool) = ("u.first_name", false);
const LAST_NAME: (&str, bool) = ("u.last_name", false);

/// Conditions of a user query over `user_entity u` in `realm_id`, except `search`
/// ([`UserQuery::any`]), which [`user_matches`] adds.
fn user_conditions(sql: &mut Sql, backend: Backend, realm_id: &str, q: &UserQuery) -> Vec<String> {
    let r = sql.bind(V::from(realm_id));
    let mut conds = vec![
        format!("u.realm_id = {r}"),
        "u.service_account_client_id IS NULL".to_string(),
    ];
    if let Some(id) = &q.id {
        let p = sql.bind(V::from(id.as_str()));
        conds.push(format!("u.id = {p}"));
    }
    for ((col, lower), f) in [
        (USERNAME, &q.username),
        (EMAIL, &q.email),
        (FIRST_NAME, &q.first_name),
        (LAST_NAME, &q.last_name),
    ] {
        if let Some(f) = f {
            conds.push(f.indexed_condition(col, lower, backend, sql));
        }
    }
    for (col, v) in [
        ("u.enabled", q.enabled),
        ("u.email_verified", q.email_verified),
    ] {
        if let Some(v) = v {
            let p = sql.bind(V::from(v));
            conds.push(format!("{col} = {p}"));
        }
    }
    conds
}

/// A derived table `(id, username)` of the users matching `q`.
///
/// `search` matches any of four columns. As a prefix or exact match it becomes a `UNION` of
/// one query per column, each a range (or point) in that column's own index, which the
/// migrations make covering (`id`, `username`) and partial (no service accounts): the cost
/// follows the number of matches, whatever the realm's size, and neither database's planner
/// has to guess between walking the username index and combining four indexes (it guessed
/// wrong both ways). Infix and suffix matches cannot use an index and stay one scan with `OR`.
fn user_matches(sql: &mut Sql, backend: Backend, realm_id: &str, q: &UserQuery) -> String {
    let select = |conds: Vec<String>| {
        format!(
            "SELECT u.id, u.username FROM user_entity u WHERE {}",
            conds.join(" AND ")
        )
    };
    match &q.any {
        Some(f) if matches!(f.mode, Match::Prefix | Match::Exact) => {
            let arms: Vec<String> = [USERNAME, EMAIL, FIRST_NAME, LAST_NAME]
                .iter()
                .map(|(c, lower)| {
                    let mut conds = user_conditions(sql, backend, realm_id, q);
                    conds.push(f.indexed_condition(c, *lower, backend, sql));
                    select(conds)
                })
                .collect();
            format!("({})", arms.join(" UNION "))
        }
        Some(f) => {
            let mut conds = user_conditions(sql, backend, realm_id, q);
            let any: Vec<String> = [USERNAME, EMAIL, FIRST_NAME, LAST_NAME]
                .iter()
                .map(|(c, lower)| f.indexed_condition(c, *lower, backend, sql))
                .collect();
            conds.push(format!("({})", any.join(" OR ")));
            format!("({})", select(conds))
        }
        None => {
            let conds = user_conditions(sql, backend, realm_id, q);
            format!("({})", select(conds))
        }
    }
}

pub(crate) const GROUP_COLUMNS: &str =
    "g.id, g.realm_id, g.parent_id, g.name, g.description, g.attributes";

pub(crate) fn group_record(r: &sqlx::any::AnyRow) -> Result<GroupRecord> {
    Ok(GroupRecord {
        id: r.try_get(0)?,
        realm_id: r.try_get(1)?,
        parent_id: r.try_get(2)?,
        name: r.try_get(3)?,
        description: r.try_get(4)?,
        attributes: serde_json::from_str::<MultiAttributes>(&r.try_get::<String, _>(5)?)?,
    })
}

/// Role columns plus a 0/1 composite flag, over `role r`.
pub(crate) const ROLE_DETAILS: &str = "r.id, r.realm_id, r.client_id, r.name, r.description, r.attributes, \
     CASE WHEN EXISTS (SELECT 1 FROM role_composite rc WHERE rc.parent_id = r.id) THEN 1 ELSE 0 END";

pub(crate) fn role_details(r: &sqlx::any::AnyRow) -> Result<RoleDetails> {
    Ok(RoleDetails {
        role: role_record(r)?,
        composite: crate::flag(r.try_get(6)?),
    })
}

/// The user ids of `rows` (first column), for loading what hangs off them.
fn ids_of(users: &[UserRecord]) -> Vec<String> {
    users.iter().map(|u| u.id.clone()).collect()
}

impl Store {
    // ------------------------------------------------------------------------------ users

    /// A page of the realm's users matching `q`, ordered by username: the page of ids is cut
    /// from the matches first, then only those rows are read.
    pub async fn search_users(
        &self,
        realm_id: &str,
        q: &UserQuery,
        page: Page,
    ) -> Result<Vec<UserDetails>> {
        let mut sql = Sql::new(String::new());
        let matches = user_matches(&mut sql, self.backend(), realm_id, q);
        sql.text = format!(
            "SELECT {USER_COLUMNS} FROM user_entity u WHERE u.id IN \
             (SELECT m.id FROM {matches} m ORDER BY m.username"
        );
        page_clause(&mut sql, page);
        sql.text.push_str(") ORDER BY u.username");
        let users = sql
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_record)
            .collect::<Result<Vec<_>>>()?;
        self.with_details(users).await
    }

    /// How many of the realm's users match `q`.
    pub async fn count_matching_users(&self, realm_id: &str, q: &UserQuery) -> Result<i64> {
        let mut sql = Sql::new(String::new());
        let matches = user_matches(&mut sql, self.backend(), realm_id, q);
        sql.text = format!("SELECT COUNT(*) FROM {matches} m");
        Ok(sql.query().fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// One user of the realm with attributes and required actions.
    pub async fn user_details(&self, realm_id: &str, id: &str) -> Result<Option<UserDetails>> {
        let Some(user) = self.user_by_id(realm_id, id).await? else {
            return Ok(None);
        };
        Ok(self.with_details(vec![user]).await?.into_iter().next())
    }

    /// Attributes and required actions of `users`, in two statements.
    pub(crate) async fn with_details(&self, users: Vec<UserRecord>) -> Result<Vec<UserDetails>> {
        let ids = ids_of(&users);
        let mut attributes: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for r in self
            .fetch_in(&ids, |list| {
                format!("SELECT user_id, name, value FROM user_attribute WHERE user_id IN ({list}) ORDER BY user_id, position")
            })
            .await?
        {
            attributes
                .entry(r.try_get(0)?)
                .or_default()
                .push((r.try_get(1)?, r.try_get(2)?));
        }
        let mut actions: HashMap<String, Vec<String>> = HashMap::new();
        for r in self
            .fetch_in(&ids, |list| {
                format!("SELECT user_id, action FROM user_required_action WHERE user_id IN ({list}) ORDER BY user_id, action")
            })
            .await?
        {
            actions.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
        }
        Ok(users
            .into_iter()
            .map(|user| UserDetails {
                attributes: attributes.remove(&user.id).unwrap_or_default(),
                required_actions: actions.remove(&user.id).unwrap_or_default(),
                user,
            })
            .collect())
    }

    /// Create one user with everything that hangs off it (credentials must be hashed), in one
    /// transaction. Username (and email, when `unique_email`) must be free in the realm.
    pub async fn create_user(
        &self,
        image: &UserImage,
        unique_email: bool,
    ) -> Result<std::result::Result<(), UserConflict>> {
        let mut tx = self.begin().await?;
        let u = &image.user;
        if let Some(conflict) = taken(
            &mut tx,
            &u.realm_id,
            None,
            &u.username,
            u.email.as_deref(),
            unique_email,
        )
        .await?
        {
            return Ok(Err(conflict));
        }
        match insert_one_user(&mut tx, image).await {
            Ok(()) => {}
            // A concurrent create of the same username won the race.
            Err(e) if e.is_duplicate() => return Ok(Err(UserConflict::Username)),
            Err(e) => return Err(e),
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Write a user's own fields (`user`, matched by realm and id), and replace its attributes
    /// and required actions when given, in one transaction. `NotFound` when there is no such
    /// user in the realm.
    pub async fn update_user(
        &self,
        user: &UserRecord,
        attributes: Option<&[(String, String)]>,
        required_actions: Option<&[String]>,
        unique_email: bool,
    ) -> Result<std::result::Result<(), UserConflict>> {
        let mut tx = self.begin().await?;
        let exists: i64 =
            sqlx::query("SELECT COUNT(*) FROM user_entity WHERE realm_id = $1 AND id = $2")
                .bind(&user.realm_id)
                .bind(&user.id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        if exists == 0 {
            return Err(StoreError::NotFound(format!("user {}", user.id)));
        }
        if let Some(conflict) = taken(
            &mut tx,
            &user.realm_id,
            Some(&user.id),
            &user.username,
            user.email.as_deref(),
            unique_email,
        )
        .await?
        {
            return Ok(Err(conflict));
        }
        let done = sqlx::query(
            "UPDATE user_entity SET username = $1, email = $2, first_name = $3, last_name = $4, \
             enabled = $5, email_verified = $6 WHERE realm_id = $7 AND id = $8",
        )
        .bind(&user.username)
        .bind(&user.email)
        .bind(&user.first_name)
        .bind(&user.last_name)
        .bind(i64::from(user.enabled))
        .bind(i64::from(user.email_verified))
        .bind(&user.realm_id)
        .bind(&user.id)
        .execute(&mut *tx)
        .await;
        if let Err(e) = done {
            return match StoreError::from(e) {
                e if e.is_duplicate() => Ok(Err(UserConflict::Username)),
                e => Err(e),
            };
        }
        if let Some(attributes) = attributes {
            sqlx::query("DELETE FROM user_attribute WHERE user_id = $1")
                .bind(&user.id)
                .execute(&mut *tx)
                .await?;
            crate::bulk::insert(
                &mut tx,
                "user_attribute",
                &["user_id", "name", "value", "position"],
                attribute_rows(&user.id, attributes),
            )
            .await?;
        }
        if let Some(actions) = required_actions {
            sqlx::query("DELETE FROM user_required_action WHERE user_id = $1")
                .bind(&user.id)
                .execute(&mut *tx)
                .await?;
            crate::bulk::insert(
                &mut tx,
                "user_required_action",
                &["user_id", "action"],
                action_rows(&user.id, actions),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Delete a user of the realm and everything that hangs off it (sessions included).
    /// False when there was none.
    pub async fn delete_user(&self, realm_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM user_entity WHERE realm_id = $1 AND id = $2")
            .bind(realm_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    // ----------------------------------------------------------------------------- groups

    /// A page of the direct sub-groups of `parent` (top-level groups when None), ordered by
    /// name, optionally filtered by name.
    pub async fn groups_page(
        &self,
        realm_id: &str,
        parent: Option<&str>,
        name: Option<&TextFilter>,
        page: Page,
    ) -> Result<Vec<GroupDetails>> {
        let mut sql = Sql::new(format!(
            "SELECT {GROUP_COLUMNS} FROM grp g WHERE g.realm_id = "
        ));
        let r = sql.bind(V::from(realm_id));
        sql.text.push_str(&r);
        match parent {
            Some(p) => {
                let p = sql.bind(V::from(p));
                sql.text.push_str(&format!(" AND g.parent_id = {p}"));
            }
            None => sql.text.push_str(" AND g.parent_id IS NULL"),
        }
        if let Some(f) = name {
            let c = f.condition("g.name", &mut sql);
            sql.text.push_str(&format!(" AND {c}"));
        }
        sql.text.push_str(" ORDER BY g.name, g.id");
        page_clause(&mut sql, page);
        let groups = sql
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(group_record)
            .collect::<Result<Vec<_>>>()?;
        self.group_details_of(groups).await
    }

    /// Groups at any level whose name matches `name` (at most `limit` of them, by name), and
    /// every ancestor of those, so a caller can show where each match sits.
    pub async fn groups_matching(
        &self,
        realm_id: &str,
        name: &TextFilter,
        limit: i64,
    ) -> Result<Vec<GroupDetails>> {
        let mut sql = Sql::new(String::new());
        let r = sql.bind(V::from(realm_id));
        let c = name.condition("m.name", &mut sql);
        let l = sql.bind(V::from(limit.max(0)));
        sql.text = format!(
            "WITH RECURSIVE
               hit(id) AS (SELECT m.id FROM grp m WHERE m.realm_id = {r} AND {c} ORDER BY m.name, m.id LIMIT {l}),
               up(id) AS (SELECT id FROM hit UNION SELECT g.parent_id FROM grp g JOIN up ON g.id = up.id WHERE g.parent_id IS NOT NULL)
             SELECT {GROUP_COLUMNS} FROM grp g JOIN up ON g.id = up.id ORDER BY g.name, g.id"
        );
        let groups = sql
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(group_record)
            .collect::<Result<Vec<_>>>()?;
        self.group_details_of(groups).await
    }

    /// One group of the realm with its path and sub-group count.
    pub async fn group_details(&self, realm_id: &str, id: &str) -> Result<Option<GroupDetails>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {GROUP_COLUMNS} FROM grp g WHERE g.realm_id = $1 AND g.id = $2"
        )))
        .bind(realm_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(group) = row.as_ref().map(group_record).transpose()? else {
            return Ok(None);
        };
        Ok(self.group_details_of(vec![group]).await?.into_iter().next())
    }

    /// Paths and sub-group counts of `groups` (two statements), order kept.
    pub(crate) async fn group_details_of(
        &self,
        groups: Vec<GroupRecord>,
    ) -> Result<Vec<GroupDetails>> {
        let ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
        let mut paths: HashMap<String, String> = HashMap::new();
        for r in self
            .fetch_in(&ids, |list| {
                format!(
                    "WITH RECURSIVE up(gid, parent_id, path) AS (
                       SELECT g.id, g.parent_id, '/' || g.name FROM grp g WHERE g.id IN ({list})
                       UNION ALL
                       SELECT u.gid, p.parent_id, '/' || p.name || u.path FROM up u JOIN grp p ON p.id = u.parent_id
                     )
                     SELECT gid, path FROM up WHERE parent_id IS NULL"
                )
            })
            .await?
        {
            paths.insert(r.try_get(0)?, r.try_get(1)?);
        }
        let mut counts: HashMap<String, i64> = HashMap::new();
        for r in self
            .fetch_in(&ids, |list| {
                format!("SELECT parent_id, COUNT(*) FROM grp WHERE parent_id IN ({list}) GROUP BY parent_id")
            })
            .await?
        {
            counts.insert(r.try_get(0)?, r.try_get(1)?);
        }
        Ok(groups
            .into_iter()
            .map(|group| GroupDetails {
                path: paths
                    .remove(&group.id)
                    .unwrap_or_else(|| format!("/{}", group.name)),
                sub_group_count: counts.get(&group.id).copied().unwrap_or(0),
                group,
            })
            .collect())
    }

    /// The roles granted to a group directly, with the `clientId` of client roles.
    pub async fn group_roles(&self, group_id: &str) -> Result<Vec<(RoleRecord, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT r.id, r.realm_id, r.client_id, r.name, r.description, r.attributes, c.client_id \
             FROM group_role gr JOIN role r ON r.id = gr.role_id LEFT JOIN client c ON c.id = r.client_id \
             WHERE gr.group_id = $1 ORDER BY c.client_id, r.name",
        )
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((role_record(r)?, r.try_get(6)?)))
            .collect()
    }

    /// How many groups the realm has (only top-level ones when `top_only`), optionally those
    /// whose name matches.
    pub async fn count_groups(
        &self,
        realm_id: &str,
        name: Option<&TextFilter>,
        top_only: bool,
    ) -> Result<i64> {
        let mut sql = Sql::new("SELECT COUNT(*) FROM grp g WHERE g.realm_id = ");
        let r = sql.bind(V::from(realm_id));
        sql.text.push_str(&r);
        if top_only {
            sql.text.push_str(" AND g.parent_id IS NULL");
        }
        if let Some(f) = name {
            let c = f.condition("g.name", &mut sql);
            sql.text.push_str(&format!(" AND {c}"));
        }
        Ok(sql.query().fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// Create a group (top-level when `parent_id` is None). The parent must be a group of the
    /// same realm (`NotFound` otherwise) and the name free among its siblings.
    pub async fn create_group(
        &self,
        g: &GroupRecord,
    ) -> Result<std::result::Result<(), NameTaken>> {
        let mut tx = self.begin().await?;
        if let Some(parent) = &g.parent_id {
            let n: i64 = sqlx::query("SELECT COUNT(*) FROM grp WHERE realm_id = $1 AND id = $2")
                .bind(&g.realm_id)
                .bind(parent)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("group {parent}")));
            }
        }
        if sibling_taken(&mut tx, &g.realm_id, g.parent_id.as_deref(), &g.name, None).await? {
            return Ok(Err(NameTaken));
        }
        let inserted = sqlx::query(
            "INSERT INTO grp (id, realm_id, parent_id, name, description, attributes) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&g.id)
        .bind(&g.realm_id)
        .bind(&g.parent_id)
        .bind(&g.name)
        .bind(&g.description)
        .bind(serde_json::to_string(&g.attributes)?)
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            return match StoreError::from(e) {
                e if e.is_duplicate() => Ok(Err(NameTaken)),
                e => Err(e),
            };
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Rename a group and replace its description and attributes (its place in the tree stays).
    /// `NotFound` when the realm has no such group.
    pub async fn update_group(
        &self,
        g: &GroupRecord,
    ) -> Result<std::result::Result<(), NameTaken>> {
        let mut tx = self.begin().await?;
        let parent = sqlx::query("SELECT parent_id FROM grp WHERE realm_id = $1 AND id = $2")
            .bind(&g.realm_id)
            .bind(&g.id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(parent) = parent else {
            return Err(StoreError::NotFound(format!("group {}", g.id)));
        };
        let parent: Option<String> = parent.try_get(0)?;
        if sibling_taken(
            &mut tx,
            &g.realm_id,
            parent.as_deref(),
            &g.name,
            Some(&g.id),
        )
        .await?
        {
            return Ok(Err(NameTaken));
        }
        let done = sqlx::query(
            "UPDATE grp SET name = $1, description = $2, attributes = $3 WHERE realm_id = $4 AND id = $5",
        )
        .bind(&g.name)
        .bind(&g.description)
        .bind(serde_json::to_string(&g.attributes)?)
        .bind(&g.realm_id)
        .bind(&g.id)
        .execute(&mut *tx)
        .await;
        if let Err(e) = done {
            return match StoreError::from(e) {
                e if e.is_duplicate() => Ok(Err(NameTaken)),
                e => Err(e),
            };
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Delete a group, its sub-groups and their memberships. False when there was none.
    pub async fn delete_group(&self, realm_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM grp WHERE realm_id = $1 AND id = $2")
            .bind(realm_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// A page of a group's direct members, ordered by username.
    pub async fn group_members(
        &self,
        realm_id: &str,
        group_id: &str,
        page: Page,
    ) -> Result<Vec<UserDetails>> {
        self.members_page(realm_id, group_id, None, page).await
    }

    /// The `max` direct members of a group that come after `after_username` in username
    /// order: the next page of a walk, found by seeking in the username index (keyset
    /// paging) rather than by counting off an offset, so every page costs the same however
    /// deep the walk is.
    pub async fn group_members_after(
        &self,
        realm_id: &str,
        group_id: &str,
        after_username: &str,
        max: i64,
    ) -> Result<Vec<UserDetails>> {
        let page = Page { first: 0, max };
        self.members_page(realm_id, group_id, Some(after_username), page)
            .await
    }

    /// Members in username order, from the start or after a username. Two plans, each fast
    /// for one kind of group: walk the realm's users in username order probing membership
    /// (a large group: a page is found after a few hundred users), or read the group's
    /// members and sort them (a small group: the walk would cross the whole realm). PostgreSQL
    /// picks between them from its statistics; SQLite has none per group, so on SQLite a
    /// bounded count ([`MEMBER_PLAN_THRESHOLD`] entries of the group's index at most)
    /// decides, and `CROSS JOIN` fixes the join order SQLite then follows.
    async fn members_page(
        &self,
        realm_id: &str,
        group_id: &str,
        after: Option<&str>,
        page: Page,
    ) -> Result<Vec<UserDetails>> {
        let from = match self.backend() {
            Backend::Postgres => "user_entity u JOIN user_group ug ON ug.user_id = u.id",
            Backend::Sqlite => {
                let n: i64 = sqlx::query(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM user_group WHERE group_id = $1 LIMIT $2) s",
                )
                .bind(group_id)
                .bind(MEMBER_PLAN_THRESHOLD + 1)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
                if n <= MEMBER_PLAN_THRESHOLD {
                    "user_group ug CROSS JOIN user_entity u ON ug.user_id = u.id"
                } else {
                    "user_entity u CROSS JOIN user_group ug ON ug.user_id = u.id"
                }
            }
        };
        let mut sql = Sql::new(String::new());
        let r = sql.bind(V::from(realm_id));
        let g = sql.bind(V::from(group_id));
        let mut text = format!(
            "SELECT {USER_COLUMNS} FROM {from} WHERE u.realm_id = {r} AND ug.group_id = {g}"
        );
        if let Some(after) = after {
            let a = sql.bind(V::from(after));
            text.push_str(&format!(" AND u.username > {a}"));
        }
        text.push_str(" ORDER BY u.username");
        sql.text = text;
        page_clause(&mut sql, page);
        let users = sql
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_record)
            .collect::<Result<Vec<_>>>()?;
        self.with_details(users).await
    }

    /// A page of the groups a user is directly in, ordered by name, optionally filtered by name.
    pub async fn user_groups(
        &self,
        user_id: &str,
        name: Option<&TextFilter>,
        page: Page,
    ) -> Result<Vec<GroupDetails>> {
        let mut sql = Sql::new(format!(
            "SELECT {GROUP_COLUMNS} FROM grp g JOIN user_group ug ON ug.group_id = g.id WHERE ug.user_id = "
        ));
        let u = sql.bind(V::from(user_id));
        sql.text.push_str(&u);
        if let Some(f) = name {
            let c = f.condition("g.name", &mut sql);
            sql.text.push_str(&format!(" AND {c}"));
        }
        sql.text.push_str(" ORDER BY g.name, g.id");
        page_clause(&mut sql, page);
        let groups = sql
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(group_record)
            .collect::<Result<Vec<_>>>()?;
        self.group_details_of(groups).await
    }

    /// The realm's default groups (new users join them), sorted by id.
    pub async fn default_group_ids(&self, realm_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT group_id FROM realm_default_group WHERE realm_id = $1 ORDER BY group_id",
        )
        .bind(realm_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Put a user into a group (nothing changes when it already is).
    pub async fn join_group(&self, user_id: &str, group_id: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO user_group (user_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(group_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Take a user out of a group. False when it was not in it.
    pub async fn leave_group(&self, user_id: &str, group_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM user_group WHERE user_id = $1 AND group_id = $2")
            .bind(user_id)
            .bind(group_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    // ------------------------------------------------------------------------------ roles

    /// A page of the realm's realm roles, ordered by name, optionally filtered by name.
    pub async fn realm_roles_page(
        &self,
        realm_id: &str,
        name: Option<&TextFilter>,
        page: Page,
    ) -> Result<Vec<RoleDetails>> {
        self.roles_page("r.client_id IS NULL AND r.realm_id", realm_id, name, page)
            .await
    }

    /// A page of the roles whose `owner` column (a fixed condition on `role r`, never input)
    /// equals `id`, ordered by name, optionally filtered by name.
    pub(crate) async fn roles_page(
        &self,
        owner: &'static str,
        id: &str,
        name: Option<&TextFilter>,
        page: Page,
    ) -> Result<Vec<RoleDetails>> {
        let mut sql = Sql::new(format!(
            "SELECT {ROLE_DETAILS} FROM role r WHERE {owner} = "
        ));
        let r = sql.bind(V::from(id));
        sql.text.push_str(&r);
        if let Some(f) = name {
            let c = f.condition("r.name", &mut sql);
            sql.text.push_str(&format!(" AND {c}"));
        }
        sql.text.push_str(" ORDER BY r.name, r.id");
        page_clause(&mut sql, page);
        sql.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(role_details)
            .collect()
    }

    /// A realm role by name.
    pub async fn realm_role_details(
        &self,
        realm_id: &str,
        name: &str,
    ) -> Result<Option<RoleDetails>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ROLE_DETAILS} FROM role r WHERE r.realm_id = $1 AND r.client_id IS NULL AND r.name = $2"
        )))
        .bind(realm_id)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(role_details).transpose()
    }

    /// Any role of the realm (realm or client role) by id.
    pub async fn role_details_by_id(
        &self,
        realm_id: &str,
        id: &str,
    ) -> Result<Option<RoleDetails>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ROLE_DETAILS} FROM role r WHERE r.realm_id = $1 AND r.id = $2"
        )))
        .bind(realm_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(role_details).transpose()
    }

    /// Create a role; the name must be free in its container (realm or client).
    pub async fn create_role(
        &self,
        role: &RoleRecord,
    ) -> Result<std::result::Result<(), NameTaken>> {
        let mut tx = self.begin().await?;
        if role_name_taken(&mut tx, role.container_id(), &role.name, None).await? {
            return Ok(Err(NameTaken));
        }
        match crate::realm::insert_roles(&mut tx, std::slice::from_ref(role)).await {
            Ok(()) => {}
            Err(e) if e.is_duplicate() => return Ok(Err(NameTaken)),
            Err(e) => return Err(e),
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Rename a role and replace its description and attributes. `NotFound` when the realm has
    /// no role with that id.
    pub async fn update_role(
        &self,
        role: &RoleRecord,
    ) -> Result<std::result::Result<(), NameTaken>> {
        let mut tx = self.begin().await?;
        if role_name_taken(&mut tx, role.container_id(), &role.name, Some(&role.id)).await? {
            return Ok(Err(NameTaken));
        }
        let done = sqlx::query(
            "UPDATE role SET name = $1, description = $2, attributes = $3 WHERE realm_id = $4 AND id = $5",
        )
        .bind(&role.name)
        .bind(&role.description)
        .bind(serde_json::to_string(&role.attributes)?)
        .bind(&role.realm_id)
        .bind(&role.id)
        .execute(&mut *tx)
        .await;
        match done {
            Ok(d) if d.rows_affected() == 0 => {
                return Err(StoreError::NotFound(format!("role {}", role.id)));
            }
            Ok(_) => {}
            Err(e) => {
                return match StoreError::from(e) {
                    e if e.is_duplicate() => Ok(Err(NameTaken)),
                    e => Err(e),
                };
            }
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Delete a role with its composites links and every grant of it. False when the realm had
    /// no role with that id.
    pub async fn delete_role(&self, realm_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM role WHERE realm_id = $1 AND id = $2")
            .bind(realm_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The roles granted to a user directly (realm and client roles), with the `clientId` of
    /// client roles; realm roles first, then by client and name.
    pub async fn user_direct_roles(
        &self,
        user_id: &str,
    ) -> Result<Vec<(RoleDetails, Option<String>)>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ROLE_DETAILS}, c.client_id FROM user_role ur JOIN role r ON r.id = ur.role_id \
             LEFT JOIN client c ON c.id = r.client_id WHERE ur.user_id = $1 ORDER BY c.client_id, r.name"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((role_details(r)?, r.try_get(7)?)))
            .collect()
    }

    /// Which of `role_ids` are composites.
    pub async fn composite_roles(&self, role_ids: &[String]) -> Result<Vec<String>> {
        let rows = self
            .fetch_in(role_ids, |list| {
                format!("SELECT DISTINCT parent_id FROM role_composite WHERE parent_id IN ({list})")
            })
            .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// Grant roles to a user directly, in one transaction (roles it holds already stay).
    pub async fn grant_roles(&self, user_id: &str, role_ids: &[String]) -> Result<()> {
        let mut tx = self.begin().await?;
        for id in role_ids {
            sqlx::query(
                "INSERT INTO user_role (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(user_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Remove direct grants of roles from a user, in one transaction (roles it does not hold
    /// directly are ignored).
    pub async fn revoke_roles(&self, user_id: &str, role_ids: &[String]) -> Result<()> {
        let mut tx = self.begin().await?;
        for id in role_ids {
            sqlx::query("DELETE FROM user_role WHERE user_id = $1 AND role_id = $2")
                .bind(user_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

// Rows are collected before a statement runs: an iterator borrowing the input, held across
// an await, would make the caller's future not provably `Send` (rustc #100013).

fn attribute_rows(user_id: &str, attributes: &[(String, String)]) -> Vec<Vec<V>> {
    attributes
        .iter()
        .enumerate()
        .map(|(i, (k, v))| vec![V::from(user_id), V::from(k), V::from(v), V::from(i as i64)])
        .collect()
}

fn action_rows(user_id: &str, actions: &[String]) -> Vec<Vec<V>> {
    let mut actions: Vec<&String> = actions.iter().collect();
    actions.sort();
    actions.dedup();
    actions
        .into_iter()
        .map(|a| vec![V::from(user_id), V::from(a)])
        .collect()
}

fn id_rows(user_id: &str, ids: &[String]) -> Vec<Vec<V>> {
    ids.iter()
        .map(|id| vec![V::from(user_id), V::from(id)])
        .collect()
}

/// Insert one user and what hangs off it (credentials must be hashed).
pub(crate) async fn insert_one_user(c: &mut AnyConnection, image: &UserImage) -> Result<()> {
    let u = &image.user;
    sqlx::query(
        "INSERT INTO user_entity (id, realm_id, username, email, first_name, last_name, enabled, \
         email_verified, created_timestamp, not_before, federation_link, service_account_client_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&u.id)
    .bind(&u.realm_id)
    .bind(&u.username)
    .bind(&u.email)
    .bind(&u.first_name)
    .bind(&u.last_name)
    .bind(i64::from(u.enabled))
    .bind(i64::from(u.email_verified))
    .bind(u.created_timestamp)
    .bind(u.not_before)
    .bind(&u.federation_link)
    .bind(&u.service_account_client_id)
    .execute(&mut *c)
    .await?;
    let attributes = attribute_rows(&u.id, &image.attributes);
    crate::bulk::insert(
        c,
        "user_attribute",
        &["user_id", "name", "value", "position"],
        attributes,
    )
    .await?;
    let actions = action_rows(&u.id, &image.required_actions);
    crate::bulk::insert(c, "user_required_action", &["user_id", "action"], actions).await?;
    for cred in &image.credentials {
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
        sqlx::query(
            "INSERT INTO credential (id, user_id, type, user_label, created_date, priority, secret_data, credential_data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&cred.id)
        .bind(&u.id)
        .bind(&cred.type_)
        .bind(&cred.user_label)
        .bind(cred.created_date)
        .bind(cred.priority)
        .bind(secret_data)
        .bind(credential_data)
        .execute(&mut *c)
        .await?;
    }
    let groups = id_rows(&u.id, &image.group_ids);
    crate::bulk::insert(c, "user_group", &["user_id", "group_id"], groups).await?;
    let roles = id_rows(&u.id, &image.role_ids);
    crate::bulk::insert(c, "user_role", &["user_id", "role_id"], roles).await?;
    Ok(())
}

/// Whether `username` (or `email`, when emails must be unique) belongs to another user of the
/// realm than `except`.
async fn taken(
    c: &mut AnyConnection,
    realm_id: &str,
    except: Option<&str>,
    username: &str,
    email: Option<&str>,
    unique_email: bool,
) -> Result<Option<UserConflict>> {
    let other = except.unwrap_or("");
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) FROM user_entity WHERE realm_id = $1 AND username = $2 AND id <> $3",
    )
    .bind(realm_id)
    .bind(username)
    .bind(other)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    if n > 0 {
        return Ok(Some(UserConflict::Username));
    }
    if let (Some(email), true) = (email, unique_email) {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) FROM user_entity WHERE realm_id = $1 AND email = $2 AND id <> $3",
        )
        .bind(realm_id)
        .bind(email)
        .bind(other)
        .fetch_one(&mut *c)
        .await?
        .try_get(0)?;
        if n > 0 {
            return Ok(Some(UserConflict::Email));
        }
    }
    Ok(None)
}

/// Whether a sibling of a group (same realm and parent, other than `except`) has `name`.
async fn sibling_taken(
    c: &mut AnyConnection,
    realm_id: &str,
    parent: Option<&str>,
    name: &str,
    except: Option<&str>,
) -> Result<bool> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) FROM grp WHERE realm_id = $1 AND COALESCE(parent_id, '') = $2 AND name = $3 AND id <> $4",
    )
    .bind(realm_id)
    .bind(parent.unwrap_or(""))
    .bind(name)
    .bind(except.unwrap_or(""))
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    Ok(n > 0)
}

/// Whether another role of the container (realm id or client id) has `name`.
async fn role_name_taken(
    c: &mut AnyConnection,
    container_id: &str,
    name: &str,
    except: Option<&str>,
) -> Result<bool> {
    let n: i64 =
        sqlx::query("SELECT COUNT(*) FROM role WHERE container_id = $1 AND name = $2 AND id <> $3")
            .bind(container_id)
            .bind(name)
            .bind(except.unwrap_or(""))
            .fetch_one(&mut *c)
            .await?
            .try_get(0)?;
    Ok(n > 0)
}

// ------------------------------------------------------------------------------ clients

fn client_record(r: &sqlx::any::AnyRow) -> Result<portcullis_model::records::ClientRecord> {
    Ok(portcullis_model::records::ClientRecord {
        id: r.try_get(0)?,
        realm_id: r.try_get(1)?,
        client_id: r.try_get(2)?,
        secret: r
            .try_get::<Option<String>, _>(3)?
            .map(zeroize::Zeroizing::new),
        repr: serde_json::from_str(&r.try_get::<String, _>(4)?)?,
    })
}

impl Store {
    /// Replace a client's secret; false when the client is not in the realm.
    pub async fn set_client_secret(&self, realm_id: &str, id: &str, secret: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE client SET secret = $1 WHERE realm_id = $2 AND id = $3")
            .bind(secret)
            .bind(realm_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Delete a client with everything that hangs on it (its roles and their grants, its
    /// protocol mappers, scope links, sessions and its service-account user): one statement,
    /// the schema's cascades do the rest. False when the client is not in the realm.
    pub async fn delete_client(&self, realm_id: &str, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM client WHERE realm_id = $1 AND id = $2")
            .bind(realm_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Create a client with its client-scope links and its service-account user (when given),
    /// in one transaction. `NameTaken` when the realm already has the `clientId`.
    pub async fn create_client(
        &self,
        client: &portcullis_model::records::ClientRecord,
        scopes: &[portcullis_model::records::ScopeLink],
        service_account: Option<&UserImage>,
    ) -> Result<std::result::Result<(), NameTaken>> {
        self.create_client_with_mappers(client, scopes, service_account, &[])
            .await
    }

    /// Write a client's `clientId`, secret and settings (matched by realm and id): one
    /// statement. `NameTaken` when another client of the realm has the `clientId`; `NotFound`
    /// when there is no such client.
    pub async fn update_client(
        &self,
        client: &portcullis_model::records::ClientRecord,
    ) -> Result<std::result::Result<(), NameTaken>> {
        let done = sqlx::query(
            "UPDATE client SET client_id = $1, secret = $2, repr = $3 WHERE realm_id = $4 AND id = $5",
        )
        .bind(&client.client_id)
        .bind(client.secret.as_ref().map(|s| s.to_string()))
        .bind(serde_json::to_string(&client.repr)?)
        .bind(&client.realm_id)
        .bind(&client.id)
        .execute(&self.pool)
        .await;
        match done {
            Ok(d) if d.rows_affected() > 0 => Ok(Ok(())),
            Ok(_) => Err(StoreError::NotFound(format!("client {}", client.id))),
            Err(e) => {
                let e = StoreError::from(e);
                if e.is_duplicate() {
                    Ok(Err(NameTaken))
                } else {
                    Err(e)
                }
            }
        }
    }

    /// A page of the realm's clients, ordered by `clientId`, optionally filtered on it.
    pub async fn clients_page(
        &self,
        realm_id: &str,
        client_id: Option<&TextFilter>,
        page: Page,
    ) -> Result<Vec<portcullis_model::records::ClientRecord>> {
        let mut sql = Sql::new(
            "SELECT c.id, c.realm_id, c.client_id, c.secret, c.repr FROM client c WHERE c.realm_id = "
                .to_string(),
        );
        let r = sql.bind(V::from(realm_id));
        sql.text.push_str(&r);
        if let Some(f) = client_id {
            let c = f.condition("c.client_id", &mut sql);
            sql.text.push_str(&format!(" AND {c}"));
        }
        sql.text.push_str(" ORDER BY c.client_id");
        page_clause(&mut sql, page);
        sql.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(client_record)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(escape_like("a%b_c\\d"), "a\\%b\\_c\\\\d");
        assert_eq!(TextFilter::new("Jo%", Match::Prefix).pattern(), "jo\\%%");
        assert_eq!(TextFilter::new("X_y", Match::Infix).pattern(), "%x\\_y%");
        assert_eq!(TextFilter::new("Ab%", Match::Exact).pattern(), "ab%");
    }

    #[test]
    fn search_is_one_indexed_arm_per_column() {
        let mut sql = Sql::new("");
        let q = UserQuery {
            any: Some(TextFilter::new("a", Match::Prefix)),
            enabled: Some(true),
            ..Default::default()
        };
        let m = user_matches(&mut sql, Backend::Sqlite, "r1", &q);
        // per arm: realm, enabled, (low, high, pattern)
        assert_eq!(sql.binds.len(), 4 * 5);
        assert_eq!(m.matches(" UNION ").count(), 3);
        assert!(m.contains("u.realm_id = $1"));
        assert!(m.contains("u.enabled = $2"));
        assert!(
            m.contains("(u.username >= $3 AND u.username < $4 AND u.username LIKE $5 ESCAPE '\\')")
        );
        assert!(m.contains("LOWER(u.last_name) >= $18"));
        assert_eq!(m.matches("service_account_client_id IS NULL").count(), 4);
        assert!(!m.contains("COLLATE"));

        // Infix cannot use an index: one scan with OR.
        let mut sql = Sql::new("");
        let q = UserQuery {
            any: Some(TextFilter::new("a", Match::Infix)),
            ..Default::default()
        };
        let m = user_matches(&mut sql, Backend::Sqlite, "r1", &q);
        assert!(!m.contains("UNION"));
        assert_eq!(m.matches(" OR ").count(), 3);
    }

    #[test]
    fn prefixes_are_ranges_compared_bytewise_on_postgres() {
        let mut sql = Sql::new("");
        let q = UserQuery {
            username: Some(TextFilter::new("Al", Match::Prefix)),
            email: Some(TextFilter::new("A@B.c", Match::Exact)),
            first_name: Some(TextFilter::new("x", Match::Infix)),
            ..Default::default()
        };
        let conds = user_conditions(&mut sql, Backend::Postgres, "r1", &q).join(" AND ");
        assert!(conds.contains("u.username COLLATE \"C\" >= $2"));
        assert!(conds.contains("u.email COLLATE \"C\" = $5"));
        assert!(conds.contains("LOWER(u.first_name) LIKE $6"));
        let texts: Vec<Option<String>> = sql
            .binds
            .iter()
            .map(|v| match v {
                V::T(t) => t.clone(),
                V::I(_) => None,
            })
            .collect();
        assert_eq!(texts[1].as_deref(), Some("al"));
        assert_eq!(texts[2].as_deref(), Some("al\u{10FFFF}"));
        assert_eq!(texts[3].as_deref(), Some("al%"));
        assert_eq!(texts[4].as_deref(), Some("a@b.c"));
        assert_eq!(texts[5].as_deref(), Some("%x%"));
    }
}
