//! Realm signing keys. Key material is stored base64-encoded in TEXT columns (portable between
//! SQLite and PostgreSQL through the Any driver, see ADR 0002).

use crate::{Result, Store, StoreError, flag};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_model::records::KeyRecord;
use sqlx::Row;
use zeroize::Zeroizing;

pub(crate) const COLUMNS: &str = "id, realm_id, kid, algorithm, key_use, private_der, certificate_der, enabled, active, priority, created_at";

pub(crate) fn key_record(r: &sqlx::any::AnyRow) -> Result<KeyRecord> {
    let private: String = r.try_get(5)?;
    let cert: Option<String> = r.try_get(6)?;
    Ok(KeyRecord {
        id: r.try_get(0)?,
        realm_id: r.try_get(1)?,
        kid: r.try_get(2)?,
        algorithm: r.try_get(3)?,
        key_use: r.try_get(4)?,
        private_der: Zeroizing::new(
            STANDARD
                .decode(private)
                .map_err(|e| StoreError::Corrupt(format!("key material: {e}")))?,
        ),
        certificate_der: cert
            .map(|c| STANDARD.decode(c))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("key certificate: {e}")))?,
        enabled: flag(r.try_get(7)?),
        active: flag(r.try_get(8)?),
        priority: r.try_get(9)?,
        created_at: r.try_get(10)?,
    })
}

impl Store {
    /// Every key of the realm, newest first.
    pub async fn realm_keys(&self, realm_id: &str) -> Result<Vec<KeyRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM realm_key WHERE realm_id = $1 ORDER BY created_at DESC, id"
        )))
        .bind(realm_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(key_record).collect()
    }

    /// Insert `key` unless the realm already has an active key of its algorithm. Two nodes
    /// creating a realm's first key at once store one: the statement checks, and the unique
    /// index on active keys settles a race on PostgreSQL. Returns whether this key was stored.
    pub async fn add_key_if_none(&self, key: &KeyRecord) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO realm_key (id, realm_id, kid, algorithm, key_use, private_der, certificate_der, enabled, active, priority, created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 \
             WHERE NOT EXISTS (SELECT 1 FROM realm_key WHERE realm_id = $2 AND algorithm = $4 AND active = 1)",
        )
        .bind(&key.id)
        .bind(&key.realm_id)
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(&key.key_use)
        .bind(STANDARD.encode(&*key.private_der))
        .bind(key.certificate_der.as_ref().map(|c| STANDARD.encode(c)))
        .bind(i64::from(key.enabled))
        .bind(i64::from(key.active))
        .bind(key.priority)
        .bind(key.created_at)
        .execute(&self.pool)
        .await;
        match done {
            Ok(done) => Ok(done.rows_affected() == 1),
            // The other node's insert committed first (unique active key per algorithm).
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// The realm's client scopes (for `scopes_supported`).
    pub async fn realm_client_scopes(
        &self,
        realm_id: &str,
    ) -> Result<Vec<portcullis_model::records::ClientScopeRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, repr FROM client_scope WHERE realm_id = $1 ORDER BY name",
        )
        .bind(realm_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(portcullis_model::records::ClientScopeRecord {
                    id: r.try_get(0)?,
                    realm_id: realm_id.to_string(),
                    name: r.try_get(1)?,
                    repr: serde_json::from_str(&r.try_get::<String, _>(2)?)?,
                })
            })
            .collect()
    }
}
