//! Per-node read caches for what almost every OIDC request reads and almost nothing writes:
//! realms by name, clients by `clientId`, a client's attached scopes and its mappers, the
//! `clientId` of client UUIDs, and the claim sources of a user (effective roles, direct
//! groups, attributes) and of a service account.
//!
//! Invariants:
//! - an entry lives at most [`TTL`]; a write through this node invalidates what it touched at
//!   once (`invalidate_*`), writes through another node sharing the database are seen within
//!   the TTL (ADR 0009);
//! - nothing about a login's security state is cached: sessions, codes, credentials, revoked
//!   token ids and a user's `enabled` flag and `notBefore` are always read from the database,
//!   with one exception: service-account users (no password, no browser session), so that a
//!   `client_credentials` grant reads nothing;
//! - each cache is bounded by entry count, so unknown names sent from outside cannot grow
//!   memory without bound (negative answers are cached too, in the same bound).

use anyhow::Result;
use moka::sync::Cache;
use portcullis_model::records::{
    ClientRecord, ProtocolMapperRecord, RealmRecord, RoleRecord, UserRecord,
};
use portcullis_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// How long an entry is trusted without a local write invalidating it.
pub const TTL: Duration = Duration::from_secs(5);

/// What claims are made of, for one user (independent of the client).
#[derive(Debug, Clone)]
pub struct UserClaimSource {
    pub effective_roles: Vec<RoleRecord>,
    /// (name, path) of the groups the user is directly in.
    pub direct_groups: Vec<(String, String)>,
    pub attributes: Vec<(String, String)>,
    /// Attributes of the user's groups and their ancestors, by full group path.
    pub group_attributes: std::collections::BTreeMap<String, Vec<(String, String)>>,
}

/// A client scope as linked to one client: the scope record and whether it is a default one.
pub type LinkedScopes = Vec<(portcullis_model::records::ClientScopeRecord, bool)>;

pub struct Caches {
    realms: Cache<String, Option<Arc<RealmRecord>>>,
    clients: Cache<(String, String), Option<Arc<ClientRecord>>>,
    client_ids: Cache<String, Option<String>>,
    scopes: Cache<String, Arc<LinkedScopes>>,
    mappers: Cache<Vec<String>, Arc<Vec<ProtocolMapperRecord>>>,
    users: Cache<String, Arc<UserClaimSource>>,
    service_accounts: Cache<String, Option<Arc<UserRecord>>>,
    realm_scope_names: Cache<String, Arc<Vec<String>>>,
    /// Serialised discovery documents by (realm id, frontend base, backend base).
    pub discovery: Cache<(String, String, String), axum::body::Bytes>,
    /// Where walks through a group's members stand: (group id, offset) -> the username just
    /// before that offset, as the previous page ended. A request for the next page seeks past
    /// that username instead of counting off the offset (see `admin::groups::members`).
    pub member_cursors: Cache<(String, i64), String>,
}

/// How long a member-listing cursor is kept: a client walking a group asks for the next page
/// within moments; a stale cursor only means the next page is cut by offset again.
pub const CURSOR_TTL: Duration = Duration::from_secs(60);

impl Default for Caches {
    fn default() -> Self {
        Self::new()
    }
}

fn cache<K, V>(capacity: u64) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(capacity)
        .time_to_live(TTL)
        .build()
}

impl Caches {
    pub fn new() -> Caches {
        Caches {
            realms: cache(1_000),
            clients: cache(10_000),
            client_ids: cache(10_000),
            scopes: cache(10_000),
            mappers: cache(10_000),
            users: cache(100_000),
            service_accounts: cache(10_000),
            realm_scope_names: cache(1_000),
            discovery: cache(1_000),
            member_cursors: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(CURSOR_TTL)
                .build(),
        }
    }

    /// A realm by name (enabled or not), or None.
    pub async fn realm(&self, store: &Store, name: &str) -> Result<Option<Arc<RealmRecord>>> {
        if let Some(hit) = self.realms.get(name) {
            return Ok(hit);
        }
        let found = store.get_realm(name).await?.map(Arc::new);
        self.realms.insert(name.to_owned(), found.clone());
        Ok(found)
    }

    /// A client of a realm by `clientId`, or None.
    pub async fn client(
        &self,
        store: &Store,
        realm_id: &str,
        client_id: &str,
    ) -> Result<Option<Arc<ClientRecord>>> {
        let key = (realm_id.to_owned(), client_id.to_owned());
        if let Some(hit) = self.clients.get(&key) {
            return Ok(hit);
        }
        let found = store
            .client_by_client_id(realm_id, client_id)
            .await?
            .map(Arc::new);
        self.clients.insert(key, found.clone());
        Ok(found)
    }

    /// `clientId` by client UUID for each UUID that names a client.
    pub async fn client_ids(
        &self,
        store: &Store,
        uuids: &[String],
    ) -> Result<Vec<(String, String)>> {
        let mut out = Vec::with_capacity(uuids.len());
        let mut missing = Vec::new();
        for u in uuids {
            match self.client_ids.get(u) {
                Some(Some(cid)) => out.push((u.clone(), cid)),
                Some(None) => {}
                None => missing.push(u.clone()),
            }
        }
        if !missing.is_empty() {
            let found = store.clients_by_ids(&missing).await?;
            for u in missing {
                let cid = found
                    .iter()
                    .find(|c| c.id == u)
                    .map(|c| c.client_id.clone());
                self.client_ids.insert(u.clone(), cid.clone());
                if let Some(cid) = cid {
                    out.push((u, cid));
                }
            }
        }
        Ok(out)
    }

    /// The client scopes linked to a client (UUID), with their default flag.
    pub async fn scopes_of(&self, store: &Store, client_uuid: &str) -> Result<Arc<LinkedScopes>> {
        if let Some(hit) = self.scopes.get(client_uuid) {
            return Ok(hit);
        }
        let found = Arc::new(store.client_scopes_of(client_uuid).await?);
        self.scopes.insert(client_uuid.to_owned(), found.clone());
        Ok(found)
    }

    /// The protocol mappers of a set of owners (a client and its granted scopes).
    pub async fn mappers_of(
        &self,
        store: &Store,
        owners: &[String],
    ) -> Result<Arc<Vec<ProtocolMapperRecord>>> {
        let key = owners.to_vec();
        if let Some(hit) = self.mappers.get(&key) {
            return Ok(hit);
        }
        let found = Arc::new(store.mappers_of(owners).await?);
        self.mappers.insert(key, found.clone());
        Ok(found)
    }

    /// Names of a realm's OpenID Connect client scopes (discovery's `scopes_supported`).
    pub async fn oidc_scope_names(
        &self,
        store: &Store,
        realm_id: &str,
    ) -> Result<Arc<Vec<String>>> {
        if let Some(hit) = self.realm_scope_names.get(realm_id) {
            return Ok(hit);
        }
        let names: Vec<String> = store
            .realm_client_scopes(realm_id)
            .await?
            .into_iter()
            .filter(|sc| {
                sc.repr.protocol.as_deref().unwrap_or("openid-connect") == "openid-connect"
            })
            .map(|sc| sc.name)
            .collect();
        let names = Arc::new(names);
        self.realm_scope_names
            .insert(realm_id.to_owned(), names.clone());
        Ok(names)
    }

    /// Roles, groups and attributes of a user.
    pub async fn user_claims(&self, store: &Store, user_id: &str) -> Result<Arc<UserClaimSource>> {
        if let Some(hit) = self.users.get(user_id) {
            return Ok(hit);
        }
        let source = Arc::new(UserClaimSource {
            effective_roles: store.effective_roles(user_id).await?,
            direct_groups: store
                .direct_groups(user_id)
                .await?
                .into_iter()
                .map(|(_, name, path)| (name, path))
                .collect(),
            attributes: store.user_attributes(user_id).await?,
            group_attributes: store.group_attributes_of_user(user_id).await?,
        });
        self.users.insert(user_id.to_owned(), source.clone());
        Ok(source)
    }

    /// A client's service-account user. The one user record that is cached: a
    /// `client_credentials` grant then needs no database read at all (ADR 0009). Disabling
    /// the account through this node takes effect at once (`invalidate_user`), through
    /// another node within the TTL.
    pub async fn service_account(
        &self,
        store: &Store,
        client_uuid: &str,
    ) -> Result<Option<Arc<UserRecord>>> {
        if let Some(hit) = self.service_accounts.get(client_uuid) {
            return Ok(hit);
        }
        let found = store.service_account_user(client_uuid).await?.map(Arc::new);
        self.service_accounts
            .insert(client_uuid.to_owned(), found.clone());
        Ok(found)
    }

    /// Forget everything about a realm's configuration (realm, clients, scopes, mappers).
    /// Realm-wide changes are rare; dropping all configuration entries keeps this simple and
    /// obviously correct.
    pub fn invalidate_config(&self) {
        self.realms.invalidate_all();
        self.clients.invalidate_all();
        self.client_ids.invalidate_all();
        self.scopes.invalidate_all();
        self.mappers.invalidate_all();
        self.service_accounts.invalidate_all();
        self.realm_scope_names.invalidate_all();
        self.discovery.invalidate_all();
        // Role and group definitions feed every user's claims.
        self.users.invalidate_all();
    }

    /// Forget one user's roles, groups and attributes (and the user record, if it is a
    /// service account).
    pub fn invalidate_user(&self, user_id: &str) {
        self.users.invalidate(user_id);
        let id = user_id.to_owned();
        // Service accounts are few; a predicate scan is cheap and keeps one index.
        let _ = self
            .service_accounts
            .invalidate_entries_if(move |_, v| v.as_ref().is_some_and(|u| u.id == id));
    }
}
