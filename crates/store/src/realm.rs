//! Realms as a whole: create (import), replace, delete, list, and read back as an image.

use crate::bulk::{self, V};
use crate::{Result, Store, StoreError, flag};
use portcullis_model::records::*;
use portcullis_model::repr::{
    ClientRepresentation, ClientScopeRepresentation, MultiAttributes, RealmRepresentation,
};
use sqlx::AnyConnection;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap, HashSet};
use zeroize::Zeroizing;

impl Store {
    /// Write a whole realm in one transaction. A realm with the same name or id is a conflict.
    pub async fn create_realm(&self, image: &RealmImage, now_ms: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_image(&mut tx, image, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replace the realm of the same name (if any) by `image`, in one transaction.
    pub async fn replace_realm(&self, image: &RealmImage, now_ms: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let existed = delete_by_name(&mut tx, &image.realm.name).await?;
        insert_image(&mut tx, image, now_ms).await?;
        tx.commit().await?;
        Ok(existed)
    }

    /// Delete a realm and everything in it. Returns false when there was none.
    pub async fn delete_realm(&self, name: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let existed = delete_by_name(&mut tx, name).await?;
        tx.commit().await?;
        Ok(existed)
    }

    pub async fn realm_names(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT name FROM realm ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    pub async fn get_realm(&self, name: &str) -> Result<Option<RealmRecord>> {
        let row = sqlx::query(
            "SELECT id, name, enabled, default_role_id, settings FROM realm WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| realm_record(&r)).transpose()
    }

    /// Add a realm's management client to master (Keycloak's `{realm}-realm` client).
    pub async fn link_realm_to_master(&self, link: &MasterLink) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_clients(&mut tx, std::slice::from_ref(&link.client)).await?;
        insert_roles(&mut tx, &link.roles).await?;
        insert_pairs(
            &mut tx,
            "role_composite",
            "parent_id",
            "child_id",
            &link.composites,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Add a client to an existing realm with its client scopes, and users that belong to it
    /// (its service account), in one transaction.
    pub async fn add_client(
        &self,
        client: &ClientRecord,
        scopes: &[ScopeLink],
        users: &[UserImage],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_clients(&mut tx, std::slice::from_ref(client)).await?;
        bulk::insert(
            &mut tx,
            "client_scope_link",
            &["client_uuid", "scope_id", "default_scope"],
            scopes.iter().map(|l| {
                vec![
                    V::from(&l.owner_id),
                    V::from(&l.scope_id),
                    V::from(l.default_scope),
                ]
            }),
        )
        .await?;
        crate::user::insert_users(&mut tx, users).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The realm's default client scopes: (scope, true for default / false for optional).
    pub async fn realm_default_scopes(
        &self,
        realm_id: &str,
    ) -> Result<Vec<(ClientScopeRecord, bool)>> {
        let rows = sqlx::query(
            "SELECT s.id, s.name, s.repr, d.default_scope FROM realm_default_scope d JOIN client_scope s ON s.id = d.scope_id WHERE d.realm_id = $1 ORDER BY s.name",
        )
        .bind(realm_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    ClientScopeRecord {
                        id: r.try_get(0)?,
                        realm_id: realm_id.to_string(),
                        name: r.try_get(1)?,
                        repr: serde_json::from_str::<ClientScopeRepresentation>(
                            &r.try_get::<String, _>(2)?,
                        )?,
                    },
                    flag(r.try_get(3)?),
                ))
            })
            .collect()
    }

    /// A client by its `clientId`.
    pub async fn client_by_client_id(
        &self,
        realm_id: &str,
        client_id: &str,
    ) -> Result<Option<ClientRecord>> {
        let row = sqlx::query(
            "SELECT id, client_id, secret, repr FROM client WHERE realm_id = $1 AND client_id = $2",
        )
        .bind(realm_id)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(ClientRecord {
                id: r.try_get(0)?,
                realm_id: realm_id.to_string(),
                client_id: r.try_get(1)?,
                secret: r.try_get::<Option<String>, _>(2)?.map(Zeroizing::new),
                repr: serde_json::from_str::<ClientRepresentation>(&r.try_get::<String, _>(3)?)?,
            })
        })
        .transpose()
    }

    /// Read a whole realm back (export). Collections come sorted by id; export orders them.
    pub async fn load_realm_image(&self, name: &str) -> Result<Option<RealmImage>> {
        let mut conn = self.pool.acquire().await?;
        let Some(realm) = self.get_realm(name).await? else {
            return Ok(None);
        };
        let rid = realm.id.clone();
        let c = &mut *conn;

        let roles = sqlx::query("SELECT id, client_id, name, description, attributes FROM role WHERE realm_id = $1 ORDER BY id")
            .bind(&rid)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| {
                Ok(RoleRecord {
                    id: r.try_get(0)?,
                    realm_id: rid.clone(),
                    client_id: r.try_get(1)?,
                    name: r.try_get(2)?,
                    description: r.try_get(3)?,
                    attributes: serde_json::from_str::<MultiAttributes>(&r.try_get::<String, _>(4)?)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let composites = pairs(
            c,
            "SELECT rc.parent_id, rc.child_id FROM role_composite rc JOIN role r ON r.id = rc.parent_id WHERE r.realm_id = $1 ORDER BY 1, 2",
            &rid,
        )
        .await?;
        let groups = sqlx::query("SELECT id, parent_id, name, description, attributes FROM grp WHERE realm_id = $1 ORDER BY id")
            .bind(&rid)
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| {
                Ok(GroupRecord {
                    id: r.try_get(0)?,
                    realm_id: rid.clone(),
                    parent_id: r.try_get(1)?,
                    name: r.try_get(2)?,
                    description: r.try_get(3)?,
                    attributes: serde_json::from_str::<MultiAttributes>(&r.try_get::<String, _>(4)?)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let group_roles = pairs(
            c,
            "SELECT gr.group_id, gr.role_id FROM group_role gr JOIN grp g ON g.id = gr.group_id WHERE g.realm_id = $1 ORDER BY 1, 2",
            &rid,
        )
        .await?;
        let default_group_ids = pairs(
            c,
            "SELECT realm_id, group_id FROM realm_default_group WHERE realm_id = $1 ORDER BY 2",
            &rid,
        )
        .await?
        .into_iter()
        .map(|(_, g)| g)
        .collect();
        let clients = sqlx::query(
            "SELECT id, client_id, secret, repr FROM client WHERE realm_id = $1 ORDER BY id",
        )
        .bind(&rid)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            Ok(ClientRecord {
                id: r.try_get(0)?,
                realm_id: rid.clone(),
                client_id: r.try_get(1)?,
                secret: r.try_get::<Option<String>, _>(2)?.map(Zeroizing::new),
                repr: serde_json::from_str::<ClientRepresentation>(&r.try_get::<String, _>(3)?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let client_scopes =
            sqlx::query("SELECT id, name, repr FROM client_scope WHERE realm_id = $1 ORDER BY id")
                .bind(&rid)
                .fetch_all(&mut *c)
                .await?
                .iter()
                .map(|r| {
                    Ok(ClientScopeRecord {
                        id: r.try_get(0)?,
                        realm_id: rid.clone(),
                        name: r.try_get(1)?,
                        repr: serde_json::from_str::<ClientScopeRepresentation>(
                            &r.try_get::<String, _>(2)?,
                        )?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
        let mappers = sqlx::query(
            "SELECT id, COALESCE(client_uuid, client_scope_id), name, protocol, mapper_type, config FROM protocol_mapper WHERE realm_id = $1 ORDER BY id",
        )
        .bind(&rid)
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(|r| {
            Ok(ProtocolMapperRecord {
                id: r.try_get(0)?,
                owner_id: r.try_get(1)?,
                name: r.try_get(2)?,
                protocol: r.try_get(3)?,
                mapper_type: r.try_get(4)?,
                config: serde_json::from_str::<BTreeMap<String, String>>(&r.try_get::<String, _>(5)?)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let mut scope_links = Vec::new();
        for (sql, _) in [
            (
                "SELECT realm_id, scope_id, default_scope FROM realm_default_scope WHERE realm_id = $1 ORDER BY 1, 2",
                (),
            ),
            (
                "SELECT l.client_uuid, l.scope_id, l.default_scope FROM client_scope_link l JOIN client c ON c.id = l.client_uuid WHERE c.realm_id = $1 ORDER BY 1, 2",
                (),
            ),
        ] {
            for r in sqlx::query(sql).bind(&rid).fetch_all(&mut *c).await? {
                scope_links.push(ScopeLink {
                    owner_id: r.try_get(0)?,
                    scope_id: r.try_get(1)?,
                    default_scope: flag(r.try_get(2)?),
                });
            }
        }
        let mut scope_mappings = pairs(
            c,
            "SELECT s.client_uuid, s.role_id FROM client_role_scope s JOIN client c ON c.id = s.client_uuid WHERE c.realm_id = $1 ORDER BY 1, 2",
            &rid,
        )
        .await?;
        scope_mappings.extend(
            pairs(
                c,
                "SELECT s.scope_id, s.role_id FROM client_scope_role_scope s JOIN client_scope cs ON cs.id = s.scope_id WHERE cs.realm_id = $1 ORDER BY 1, 2",
                &rid,
            )
            .await?,
        );
        let users = crate::user::load_users(c, &rid).await?;
        Ok(Some(RealmImage {
            realm,
            roles,
            composites,
            groups,
            group_roles,
            default_group_ids,
            clients,
            client_scopes,
            mappers,
            scope_links,
            scope_mappings,
            users,
        }))
    }
}

pub(crate) fn realm_record(r: &sqlx::any::AnyRow) -> Result<RealmRecord> {
    Ok(RealmRecord {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        enabled: flag(r.try_get(2)?),
        default_role_id: r.try_get(3)?,
        settings: serde_json::from_str::<RealmRepresentation>(&r.try_get::<String, _>(4)?)?,
    })
}

pub(crate) async fn pairs(
    c: &mut AnyConnection,
    sql: &'static str,
    realm_id: &str,
) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(sql).bind(realm_id).fetch_all(&mut *c).await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

async fn delete_by_name(c: &mut AnyConnection, name: &str) -> Result<bool> {
    let Some(id) = sqlx::query("SELECT id FROM realm WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *c)
        .await?
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?
    else {
        return Ok(false);
    };
    // Remove the realm's management client from master first (it is not inside the realm).
    sqlx::query("DELETE FROM client WHERE client_id = $1 AND realm_id = (SELECT id FROM realm WHERE name = 'master') AND $2 <> 'master'")
        .bind(format!("{name}-realm"))
        .bind(name)
        .execute(&mut *c)
        .await?;
    // Foreign keys cascade from the realm row to everything else.
    sqlx::query("DELETE FROM realm WHERE id = $1")
        .bind(&id)
        .execute(&mut *c)
        .await?;
    Ok(true)
}

pub(crate) async fn insert_image(
    c: &mut AnyConnection,
    image: &RealmImage,
    now_ms: i64,
) -> Result<()> {
    let realm = &image.realm;
    let exists: i64 = sqlx::query("SELECT COUNT(*) FROM realm WHERE name = $1 OR id = $2")
        .bind(&realm.name)
        .bind(&realm.id)
        .fetch_one(&mut *c)
        .await?
        .try_get(0)?;
    if exists > 0 {
        return Err(StoreError::Conflict(format!(
            "Realm {} already exists",
            realm.name
        )));
    }
    sqlx::query("INSERT INTO realm (id, name, enabled, default_role_id, settings, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&realm.id)
        .bind(&realm.name)
        .bind(i64::from(realm.enabled))
        .bind(&realm.default_role_id)
        .bind(serde_json::to_string(&realm.settings)?)
        .bind(now_ms)
        .execute(&mut *c)
        .await?;
    insert_clients(c, &image.clients).await?;
    insert_roles(c, &image.roles).await?;
    insert_pairs(
        c,
        "role_composite",
        "parent_id",
        "child_id",
        &image.composites,
    )
    .await?;
    // Parents before children, so the self-reference holds at every insert.
    let groups = parents_first(&image.groups);
    bulk::insert(
        c,
        "grp",
        &[
            "id",
            "realm_id",
            "parent_id",
            "name",
            "description",
            "attributes",
        ],
        groups
            .iter()
            .map(|g| {
                Ok(vec![
                    V::from(&g.id),
                    V::from(&g.realm_id),
                    V::from(&g.parent_id),
                    V::from(&g.name),
                    V::from(&g.description),
                    V::from(serde_json::to_string(&g.attributes)?),
                ])
            })
            .collect::<Result<Vec<_>>>()?,
    )
    .await?;
    insert_pairs(c, "group_role", "group_id", "role_id", &image.group_roles).await?;
    bulk::insert(
        c,
        "realm_default_group",
        &["realm_id", "group_id"],
        image
            .default_group_ids
            .iter()
            .map(|g| vec![V::from(&realm.id), V::from(g)]),
    )
    .await?;
    bulk::insert(
        c,
        "client_scope",
        &["id", "realm_id", "name", "repr"],
        image
            .client_scopes
            .iter()
            .map(|s| {
                Ok(vec![
                    V::from(&s.id),
                    V::from(&s.realm_id),
                    V::from(&s.name),
                    V::from(serde_json::to_string(&s.repr)?),
                ])
            })
            .collect::<Result<Vec<_>>>()?,
    )
    .await?;
    let client_ids: HashSet<&str> = image.clients.iter().map(|c| c.id.as_str()).collect();
    bulk::insert(
        c,
        "protocol_mapper",
        &[
            "id",
            "realm_id",
            "client_uuid",
            "client_scope_id",
            "name",
            "protocol",
            "mapper_type",
            "config",
        ],
        image
            .mappers
            .iter()
            .map(|m| {
                let (client, scope) = if client_ids.contains(m.owner_id.as_str()) {
                    (Some(m.owner_id.clone()), None)
                } else {
                    (None, Some(m.owner_id.clone()))
                };
                Ok(vec![
                    V::from(&m.id),
                    V::from(&realm.id),
                    V::from(client),
                    V::from(scope),
                    V::from(&m.name),
                    V::from(&m.protocol),
                    V::from(&m.mapper_type),
                    V::from(serde_json::to_string(&m.config)?),
                ])
            })
            .collect::<Result<Vec<_>>>()?,
    )
    .await?;
    let (realm_links, client_links): (Vec<&ScopeLink>, Vec<&ScopeLink>) = image
        .scope_links
        .iter()
        .partition(|l| l.owner_id == realm.id);
    bulk::insert(
        c,
        "realm_default_scope",
        &["realm_id", "scope_id", "default_scope"],
        realm_links.iter().map(|l| {
            vec![
                V::from(&l.owner_id),
                V::from(&l.scope_id),
                V::from(l.default_scope),
            ]
        }),
    )
    .await?;
    bulk::insert(
        c,
        "client_scope_link",
        &["client_uuid", "scope_id", "default_scope"],
        client_links.iter().map(|l| {
            vec![
                V::from(&l.owner_id),
                V::from(&l.scope_id),
                V::from(l.default_scope),
            ]
        }),
    )
    .await?;
    type Pairs = Vec<(String, String)>;
    let (client_scopes, scope_scopes): (Pairs, Pairs) = image
        .scope_mappings
        .iter()
        .cloned()
        .partition(|(owner, _)| client_ids.contains(owner.as_str()));
    insert_pairs(
        c,
        "client_role_scope",
        "client_uuid",
        "role_id",
        &client_scopes,
    )
    .await?;
    insert_pairs(
        c,
        "client_scope_role_scope",
        "scope_id",
        "role_id",
        &scope_scopes,
    )
    .await?;
    crate::user::insert_users(c, &image.users).await?;
    Ok(())
}

pub(crate) async fn insert_clients(c: &mut AnyConnection, clients: &[ClientRecord]) -> Result<()> {
    bulk::insert(
        c,
        "client",
        &["id", "realm_id", "client_id", "secret", "repr"],
        clients
            .iter()
            .map(|cl| {
                Ok(vec![
                    V::from(&cl.id),
                    V::from(&cl.realm_id),
                    V::from(&cl.client_id),
                    V::from(cl.secret.as_ref().map(|s| s.to_string())),
                    V::from(serde_json::to_string(&cl.repr)?),
                ])
            })
            .collect::<Result<Vec<_>>>()?,
    )
    .await
}

pub(crate) async fn insert_roles(c: &mut AnyConnection, roles: &[RoleRecord]) -> Result<()> {
    bulk::insert(
        c,
        "role",
        &[
            "id",
            "realm_id",
            "client_id",
            "container_id",
            "name",
            "description",
            "attributes",
        ],
        roles
            .iter()
            .map(|r| {
                Ok(vec![
                    V::from(&r.id),
                    V::from(&r.realm_id),
                    V::from(&r.client_id),
                    V::from(r.container_id()),
                    V::from(&r.name),
                    V::from(&r.description),
                    V::from(serde_json::to_string(&r.attributes)?),
                ])
            })
            .collect::<Result<Vec<_>>>()?,
    )
    .await
}

pub(crate) async fn insert_pairs(
    c: &mut AnyConnection,
    table: &str,
    a: &str,
    b: &str,
    rows: &[(String, String)],
) -> Result<()> {
    bulk::insert(
        c,
        table,
        &[a, b],
        rows.iter().map(|(x, y)| vec![V::from(x), V::from(y)]),
    )
    .await
}

fn parents_first(groups: &[GroupRecord]) -> Vec<&GroupRecord> {
    let by_id: HashMap<&str, &GroupRecord> = groups.iter().map(|g| (g.id.as_str(), g)).collect();
    let mut done: HashSet<&str> = HashSet::new();
    let mut out = Vec::with_capacity(groups.len());
    fn visit<'a>(
        g: &'a GroupRecord,
        by_id: &HashMap<&str, &'a GroupRecord>,
        done: &mut HashSet<&'a str>,
        out: &mut Vec<&'a GroupRecord>,
        depth: usize,
    ) {
        if done.contains(g.id.as_str()) || depth > 10_000 {
            return;
        }
        if let Some(p) = g.parent_id.as_deref().and_then(|p| by_id.get(p)) {
            visit(p, by_id, done, out, depth + 1);
        }
        if done.insert(g.id.as_str()) {
            out.push(g);
        }
    }
    for g in groups {
        visit(g, &by_id, &mut done, &mut out, 0);
    }
    out
}
