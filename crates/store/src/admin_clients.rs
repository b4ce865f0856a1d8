//! Storage for the admin API's client-side resources and realm administration: protocol
//! mappers of clients and client scopes, client scopes, the client-scope links of clients and
//! of the realm (its default lists), realm settings, creating a realm linked to master in one
//! transaction, and admin events.
//!
//! Invariants: every public method is one transaction; a duplicate name comes back as
//! [`NameTaken`], never as a raw database error; events are only ever appended, read and
//! deleted in bulk (no update).

use crate::admin::{NameTaken, Page, Sql};
use crate::bulk::V;
use crate::{Result, Store, StoreError};
use portcullis_model::records::{
    ClientScopeRecord, MasterLink, ProtocolMapperRecord, RealmImage, RealmRecord,
};
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::collections::BTreeMap;

/// Who owns a protocol mapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapperOwner<'a> {
    /// A client, by internal id.
    Client(&'a str),
    /// A client scope, by id.
    Scope(&'a str),
}

impl MapperOwner<'_> {
    fn id(&self) -> &str {
        match self {
            MapperOwner::Client(id) | MapperOwner::Scope(id) => id,
        }
    }
    fn column(&self) -> &'static str {
        match self {
            MapperOwner::Client(_) => "client_uuid",
            MapperOwner::Scope(_) => "client_scope_id",
        }
    }
}

/// What deleting a client scope did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeRemoval {
    Removed,
    NotFound,
    /// A client still uses the scope (Keycloak refuses to remove it).
    InUse,
}

/// One admin event (Keycloak's `AdminEvent`). Times are epoch milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminEventRecord {
    pub id: String,
    pub realm_id: String,
    pub time: i64,
    pub operation_type: String,
    pub resource_type: String,
    pub resource_path: String,
    pub auth_realm_id: Option<String>,
    pub auth_client_id: Option<String>,
    pub auth_user_id: Option<String>,
    pub ip_address: Option<String>,
    /// The redacted request body (JSON text), when details are recorded.
    pub representation: Option<String>,
    pub error: Option<String>,
}

/// Filters of `GET /admin-events`; every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminEventQuery {
    /// Any of these operation types (none given: all).
    pub operation_types: Vec<String>,
    /// Any of these resource types (none given: all).
    pub resource_types: Vec<String>,
    /// `resourcePath` with `*` matching any run of characters.
    pub resource_path: Option<String>,
    pub auth_realm: Option<String>,
    pub auth_client: Option<String>,
    pub auth_user: Option<String>,
    pub auth_ip_address: Option<String>,
    /// Inclusive lower bound (epoch ms).
    pub from_ms: Option<i64>,
    /// Exclusive upper bound (epoch ms).
    pub to_ms: Option<i64>,
}

/// `*` wildcards of a resource path filter as a `LIKE` pattern (other wildcards escaped).
pub fn path_pattern(filter: &str) -> String {
    filter
        .split('*')
        .map(crate::escape_like)
        .collect::<Vec<_>>()
        .join("%")
}

fn mapper_record(r: &sqlx::any::AnyRow) -> Result<ProtocolMapperRecord> {
    Ok(ProtocolMapperRecord {
        id: r.try_get(0)?,
        owner_id: r.try_get(1)?,
        name: r.try_get(2)?,
        protocol: r.try_get(3)?,
        mapper_type: r.try_get(4)?,
        config: serde_json::from_str::<BTreeMap<String, String>>(&r.try_get::<String, _>(5)?)?,
    })
}

async fn mapper_name_taken(
    c: &mut AnyConnection,
    owner: MapperOwner<'_>,
    name: &str,
    except: &str,
) -> Result<bool> {
    let sql = format!(
        "SELECT COUNT(*) FROM protocol_mapper WHERE {} = $1 AND name = $2 AND id <> $3",
        owner.column()
    );
    let n: i64 = sqlx::query(AssertSqlSafe(sql))
        .bind(owner.id())
        .bind(name)
        .bind(except)
        .fetch_one(&mut *c)
        .await?
        .try_get(0)?;
    Ok(n > 0)
}

async fn insert_mappers(
    c: &mut AnyConnection,
    realm_id: &str,
    owner: MapperOwner<'_>,
    mappers: &[ProtocolMapperRecord],
) -> Result<std::result::Result<(), NameTaken>> {
    for (i, m) in mappers.iter().enumerate() {
        if mappers[..i].iter().any(|o| o.name == m.name)
            || mapper_name_taken(c, owner, &m.name, "").await?
        {
            return Ok(Err(NameTaken));
        }
        let (client, scope) = match owner {
            MapperOwner::Client(id) => (Some(id.to_string()), None),
            MapperOwner::Scope(id) => (None, Some(id.to_string())),
        };
        let done = sqlx::query(
            "INSERT INTO protocol_mapper (id, realm_id, client_uuid, client_scope_id, name, protocol, mapper_type, config) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&m.id)
        .bind(realm_id)
        .bind(client)
        .bind(scope)
        .bind(&m.name)
        .bind(&m.protocol)
        .bind(&m.mapper_type)
        .bind(serde_json::to_string(&m.config)?)
        .execute(&mut *c)
        .await;
        match done {
            Ok(_) => {}
            Err(e) => {
                let e = StoreError::from(e);
                if e.is_duplicate() {
                    return Ok(Err(NameTaken));
                }
                return Err(e);
            }
        }
    }
    Ok(Ok(()))
}

fn event_record(r: &sqlx::any::AnyRow) -> Result<AdminEventRecord> {
    Ok(AdminEventRecord {
        id: r.try_get(0)?,
        realm_id: r.try_get(1)?,
        time: r.try_get(2)?,
        operation_type: r.try_get(3)?,
        resource_type: r.try_get(4)?,
        resource_path: r.try_get(5)?,
        auth_realm_id: r.try_get(6)?,
        auth_client_id: r.try_get(7)?,
        auth_user_id: r.try_get(8)?,
        ip_address: r.try_get(9)?,
        representation: r.try_get(10)?,
        error: r.try_get(11)?,
    })
}

impl Store {
    // ------------------------------------------------------------------ protocol mappers

    /// The mappers of one client or client scope, by name.
    pub async fn owner_mappers(&self, owner: MapperOwner<'_>) -> Result<Vec<ProtocolMapperRecord>> {
        let sql = format!(
            "SELECT id, COALESCE(client_uuid, client_scope_id), name, protocol, mapper_type, config \
             FROM protocol_mapper WHERE {} = $1 ORDER BY name, id",
            owner.column()
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(owner.id())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(mapper_record)
            .collect()
    }

    /// One mapper of a client or client scope.
    pub async fn owner_mapper(
        &self,
        owner: MapperOwner<'_>,
        id: &str,
    ) -> Result<Option<ProtocolMapperRecord>> {
        let sql = format!(
            "SELECT id, COALESCE(client_uuid, client_scope_id), name, protocol, mapper_type, config \
             FROM protocol_mapper WHERE {} = $1 AND id = $2",
            owner.column()
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(owner.id())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(mapper_record)
            .transpose()
    }

    /// Add mappers to a client or client scope, all or none. `NameTaken` when a name is used
    /// twice in `mappers` or already by the owner.
    pub async fn add_mappers(
        &self,
        realm_id: &str,
        owner: MapperOwner<'_>,
        mappers: &[ProtocolMapperRecord],
    ) -> Result<std::result::Result<(), NameTaken>> {
        let mut tx = self.begin().await?;
        if let Err(NameTaken) = insert_mappers(&mut tx, realm_id, owner, mappers).await? {
            return Ok(Err(NameTaken));
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Replace a mapper's name, protocol, type and config. `Ok(Ok(false))` when the owner has
    /// no such mapper; `NameTaken` when another mapper of the owner has the name.
    pub async fn update_mapper(
        &self,
        owner: MapperOwner<'_>,
        m: &ProtocolMapperRecord,
    ) -> Result<std::result::Result<bool, NameTaken>> {
        let mut tx = self.begin().await?;
        if mapper_name_taken(&mut tx, owner, &m.name, &m.id).await? {
            return Ok(Err(NameTaken));
        }
        let sql = format!(
            "UPDATE protocol_mapper SET name = $1, protocol = $2, mapper_type = $3, config = $4 \
             WHERE {} = $5 AND id = $6",
            owner.column()
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(&m.name)
            .bind(&m.protocol)
            .bind(&m.mapper_type)
            .bind(serde_json::to_string(&m.config)?)
            .bind(owner.id())
            .bind(&m.id)
            .execute(&mut *tx)
            .await;
        let done = match done {
            Ok(d) => d,
            Err(e) => {
                let e = StoreError::from(e);
                if e.is_duplicate() {
                    return Ok(Err(NameTaken));
                }
                return Err(e);
            }
        };
        tx.commit().await?;
        Ok(Ok(done.rows_affected() > 0))
    }

    /// Delete a mapper of a client or client scope; false when there was none.
    pub async fn delete_mapper(&self, owner: MapperOwner<'_>, id: &str) -> Result<bool> {
        let sql = format!(
            "DELETE FROM protocol_mapper WHERE {} = $1 AND id = $2",
            owner.column()
        );
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.id())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Create a client's protocol mappers together with the client: used by `POST /clients`
    /// right after [`Store::create_client`] would leave a client without its mappers on a
    /// failure, so this variant does both in one transaction.
    pub async fn create_client_with_mappers(
        &self,
        client: &portcullis_model::records::ClientRecord,
        scopes: &[portcullis_model::records::ScopeLink],
        service_account: Option<&portcullis_model::records::UserImage>,
        mappers: &[ProtocolMapperRecord],
    ) -> Result<std::result::Result<(), NameTaken>> {
        let links: Vec<Vec<V>> = scopes
            .iter()
            .map(|l| {
                vec![
                    V::from(&l.owner_id),
                    V::from(&l.scope_id),
                    V::from(l.default_scope),
                ]
            })
            .collect();
        let mut tx = self.begin().await?;
        match crate::realm::insert_clients(&mut tx, std::slice::from_ref(client)).await {
            Ok(()) => {}
            Err(e) if e.is_duplicate() => return Ok(Err(NameTaken)),
            Err(e) => return Err(e),
        }
        crate::bulk::insert(
            &mut tx,
            "client_scope_link",
            &["client_uuid", "scope_id", "default_scope"],
            links,
        )
        .await?;
        if let Some(account) = service_account {
            crate::admin::insert_one_user(&mut tx, account).await?;
        }
        if let Err(NameTaken) = insert_mappers(
            &mut tx,
            &client.realm_id,
            MapperOwner::Client(&client.id),
            mappers,
        )
        .await?
        {
            return Err(StoreError::Conflict(
                "duplicate protocol mapper name".into(),
            ));
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Add a client's service-account user (a client whose service account was switched on
    /// after its creation), in one transaction.
    pub async fn add_service_account(
        &self,
        account: &portcullis_model::records::UserImage,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        crate::admin::insert_one_user(&mut tx, account).await?;
        tx.commit().await?;
        Ok(())
    }

    // --------------------------------------------------------------------- client scopes

    /// A client scope of the realm by id.
    pub async fn client_scope(
        &self,
        realm_id: &str,
        id: &str,
    ) -> Result<Option<ClientScopeRecord>> {
        let row =
            sqlx::query("SELECT id, name, repr FROM client_scope WHERE realm_id = $1 AND id = $2")
                .bind(realm_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| {
            Ok(ClientScopeRecord {
                id: r.try_get(0)?,
                realm_id: realm_id.to_string(),
                name: r.try_get(1)?,
                repr: serde_json::from_str(&r.try_get::<String, _>(2)?)?,
            })
        })
        .transpose()
    }

    /// Create a client scope with its mappers. `NameTaken` when the realm has a scope of that
    /// name (or a mapper name repeats).
    pub async fn create_client_scope(
        &self,
        scope: &ClientScopeRecord,
        mappers: &[ProtocolMapperRecord],
    ) -> Result<std::result::Result<(), NameTaken>> {
        let mut tx = self.begin().await?;
        let n: i64 =
            sqlx::query("SELECT COUNT(*) FROM client_scope WHERE realm_id = $1 AND name = $2")
                .bind(&scope.realm_id)
                .bind(&scope.name)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        if n > 0 {
            return Ok(Err(NameTaken));
        }
        let done = sqlx::query(
            "INSERT INTO client_scope (id, realm_id, name, repr) VALUES ($1, $2, $3, $4)",
        )
        .bind(&scope.id)
        .bind(&scope.realm_id)
        .bind(&scope.name)
        .bind(serde_json::to_string(&scope.repr)?)
        .execute(&mut *tx)
        .await;
        if let Err(e) = done {
            let e = StoreError::from(e);
            return if e.is_duplicate() {
                Ok(Err(NameTaken))
            } else {
                Err(e)
            };
        }
        if let Err(NameTaken) = insert_mappers(
            &mut tx,
            &scope.realm_id,
            MapperOwner::Scope(&scope.id),
            mappers,
        )
        .await?
        {
            return Ok(Err(NameTaken));
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Replace a client scope's name and settings. `Ok(Ok(false))` when there is none;
    /// `NameTaken` when another scope of the realm has the name.
    pub async fn update_client_scope(
        &self,
        scope: &ClientScopeRecord,
    ) -> Result<std::result::Result<bool, NameTaken>> {
        let mut tx = self.begin().await?;
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) FROM client_scope WHERE realm_id = $1 AND name = $2 AND id <> $3",
        )
        .bind(&scope.realm_id)
        .bind(&scope.name)
        .bind(&scope.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if n > 0 {
            return Ok(Err(NameTaken));
        }
        let done = sqlx::query(
            "UPDATE client_scope SET name = $1, repr = $2 WHERE realm_id = $3 AND id = $4",
        )
        .bind(&scope.name)
        .bind(serde_json::to_string(&scope.repr)?)
        .bind(&scope.realm_id)
        .bind(&scope.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(done.rows_affected() > 0))
    }

    /// Delete a client scope with its mappers and its places in the realm's default lists, as
    /// Keycloak does: a scope still linked to a client stays (`InUse`).
    pub async fn delete_client_scope(&self, realm_id: &str, id: &str) -> Result<ScopeRemoval> {
        let mut tx = self.begin().await?;
        let used: i64 = sqlx::query("SELECT COUNT(*) FROM client_scope_link WHERE scope_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let exists: i64 =
            sqlx::query("SELECT COUNT(*) FROM client_scope WHERE realm_id = $1 AND id = $2")
                .bind(realm_id)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
        if exists == 0 {
            return Ok(ScopeRemoval::NotFound);
        }
        if used > 0 {
            return Ok(ScopeRemoval::InUse);
        }
        sqlx::query("DELETE FROM client_scope WHERE realm_id = $1 AND id = $2")
            .bind(realm_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ScopeRemoval::Removed)
    }

    /// Link a client scope to a client as default (`true`) or optional scope; a scope already
    /// linked keeps its link (as Keycloak does).
    pub async fn link_client_scope(
        &self,
        client_uuid: &str,
        scope_id: &str,
        default_scope: bool,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) FROM client_scope_link WHERE client_uuid = $1 AND scope_id = $2",
        )
        .bind(client_uuid)
        .bind(scope_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if n == 0 {
            sqlx::query(
                "INSERT INTO client_scope_link (client_uuid, scope_id, default_scope) VALUES ($1, $2, $3)",
            )
            .bind(client_uuid)
            .bind(scope_id)
            .bind(i64::from(default_scope))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Remove a client's link to a client scope of the given kind; false when there was none.
    pub async fn unlink_client_scope(
        &self,
        client_uuid: &str,
        scope_id: &str,
        default_scope: bool,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM client_scope_link WHERE client_uuid = $1 AND scope_id = $2 AND default_scope = $3",
        )
        .bind(client_uuid)
        .bind(scope_id)
        .bind(i64::from(default_scope))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Make a client scope one of the realm's default (`true`) or optional scopes for new
    /// clients; a scope in the other list moves.
    pub async fn set_realm_default_scope(
        &self,
        realm_id: &str,
        scope_id: &str,
        default_scope: bool,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM realm_default_scope WHERE realm_id = $1 AND scope_id = $2")
            .bind(realm_id)
            .bind(scope_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO realm_default_scope (realm_id, scope_id, default_scope) VALUES ($1, $2, $3)",
        )
        .bind(realm_id)
        .bind(scope_id)
        .bind(i64::from(default_scope))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Take a client scope out of the realm's default or optional list; false when it was not
    /// in that list.
    pub async fn remove_realm_default_scope(
        &self,
        realm_id: &str,
        scope_id: &str,
        default_scope: bool,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM realm_default_scope WHERE realm_id = $1 AND scope_id = $2 AND default_scope = $3",
        )
        .bind(realm_id)
        .bind(scope_id)
        .bind(i64::from(default_scope))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    // ----------------------------------------------------------------------------- realms

    /// Write a realm's `enabled` flag and settings (matched by id); false when there is none.
    pub async fn update_realm_settings(&self, realm: &RealmRecord) -> Result<bool> {
        let done = sqlx::query("UPDATE realm SET enabled = $1, settings = $2 WHERE id = $3")
            .bind(i64::from(realm.enabled))
            .bind(serde_json::to_string(&realm.settings)?)
            .bind(&realm.id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Rename a realm (with its settings written as in [`Store::update_realm_settings`]) and
    /// its management client in master (`{old}-realm` becomes `{new}-realm`), in one
    /// transaction. `NameTaken` when another realm has the name; false when there is none.
    pub async fn rename_realm(
        &self,
        realm: &RealmRecord,
        old_name: &str,
    ) -> Result<std::result::Result<bool, NameTaken>> {
        let mut tx = self.begin().await?;
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM realm WHERE name = $1 AND id <> $2")
            .bind(&realm.name)
            .bind(&realm.id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        if n > 0 {
            return Ok(Err(NameTaken));
        }
        let done =
            sqlx::query("UPDATE realm SET name = $1, enabled = $2, settings = $3 WHERE id = $4")
                .bind(&realm.name)
                .bind(i64::from(realm.enabled))
                .bind(serde_json::to_string(&realm.settings)?)
                .bind(&realm.id)
                .execute(&mut *tx)
                .await;
        let done = match done {
            Ok(d) => d,
            Err(e) => {
                let e = StoreError::from(e);
                return if e.is_duplicate() {
                    Ok(Err(NameTaken))
                } else {
                    Err(e)
                };
            }
        };
        if done.rows_affected() == 0 {
            return Ok(Ok(false));
        }
        sqlx::query(
            "UPDATE client SET client_id = $1 WHERE client_id = $2 \
             AND realm_id = (SELECT id FROM realm WHERE name = 'master')",
        )
        .bind(format!("{}-realm", realm.name))
        .bind(format!("{old_name}-realm"))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(true))
    }

    /// Create a realm, its management client in master (`link`) and the creator's grants of
    /// that client's roles (`grant_user`, for a creator without master's `admin` role), in one
    /// transaction. A realm with the same name or id is a `Conflict`.
    pub async fn create_realm_linked(
        &self,
        image: &RealmImage,
        link: Option<&MasterLink>,
        grant_user: Option<&str>,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        crate::realm::insert_image(&mut tx, image, now_ms).await?;
        if let Some(link) = link {
            crate::realm::insert_clients(&mut tx, std::slice::from_ref(&link.client)).await?;
            crate::realm::insert_roles(&mut tx, &link.roles).await?;
            crate::realm::insert_pairs(
                &mut tx,
                "role_composite",
                "parent_id",
                "child_id",
                &link.composites,
            )
            .await?;
            if let Some(user) = grant_user {
                let rows: Vec<Vec<V>> = link
                    .roles
                    .iter()
                    .map(|r| vec![V::from(user), V::from(&r.id)])
                    .collect();
                crate::bulk::insert(&mut tx, "user_role", &["user_id", "role_id"], rows).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    // ----------------------------------------------------------------------- admin events

    /// Append one admin event.
    pub async fn add_admin_event(&self, e: &AdminEventRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO admin_event (id, realm_id, time, operation_type, resource_type, resource_path, \
             auth_realm_id, auth_client_id, auth_user_id, ip_address, representation, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&e.id)
        .bind(&e.realm_id)
        .bind(e.time)
        .bind(&e.operation_type)
        .bind(&e.resource_type)
        .bind(&e.resource_path)
        .bind(&e.auth_realm_id)
        .bind(&e.auth_client_id)
        .bind(&e.auth_user_id)
        .bind(&e.ip_address)
        .bind(&e.representation)
        .bind(&e.error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A page of a realm's admin events matching `q`, newest first.
    pub async fn admin_events(
        &self,
        realm_id: &str,
        q: &AdminEventQuery,
        page: Page,
    ) -> Result<Vec<AdminEventRecord>> {
        let mut st = Sql::new(
            "SELECT id, realm_id, time, operation_type, resource_type, resource_path, \
             auth_realm_id, auth_client_id, auth_user_id, ip_address, representation, error \
             FROM admin_event WHERE realm_id = ",
        );
        let r = st.bind(V::from(realm_id));
        st.text.push_str(&r);
        for (column, values) in [
            ("operation_type", &q.operation_types),
            ("resource_type", &q.resource_types),
        ] {
            if !values.is_empty() {
                let list: Vec<String> = values.iter().map(|v| st.bind(V::from(v))).collect();
                st.text
                    .push_str(&format!(" AND {column} IN ({})", list.join(", ")));
            }
        }
        if let Some(p) = &q.resource_path {
            let b = st.bind(V::from(path_pattern(p)));
            st.text
                .push_str(&format!(" AND resource_path LIKE {b} ESCAPE '\\'"));
        }
        for (column, value) in [
            ("auth_realm_id", &q.auth_realm),
            ("auth_client_id", &q.auth_client),
            ("auth_user_id", &q.auth_user),
            ("ip_address", &q.auth_ip_address),
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
        st.text.push_str(" ORDER BY time DESC, id DESC");
        let limit = st.bind(V::from(page.max.max(0)));
        let offset = st.bind(V::from(page.first.max(0)));
        st.text.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
        st.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(event_record)
            .collect()
    }

    /// Delete a realm's admin events (all, or those older than `before_ms`); the number gone.
    pub async fn delete_admin_events(&self, realm_id: &str, before_ms: Option<i64>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM admin_event WHERE realm_id = $1 AND time < $2")
            .bind(realm_id)
            .bind(before_ms.unwrap_or(i64::MAX))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_path_wildcards() {
        assert_eq!(path_pattern("users/*"), "users/%");
        assert_eq!(path_pattern("*/a_b%"), "%/a\\_b\\%");
        assert_eq!(path_pattern("users"), "users");
    }
}
