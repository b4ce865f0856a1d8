//! Realm signing keys at run time: loaded from the store once per realm and cached parsed
//! (signing re-uses the parsed key), created on first use when a realm has none.
//!
//! A new realm gets an RS256 key (ID and access tokens) and an HS512 key (refresh tokens), as
//! in Keycloak. Two nodes creating a realm's first key at once end with one: the store keeps the
//! first writer's key and both nodes load it.

use anyhow::{Context, Result, anyhow};
use aws_lc_rs::rand::SystemRandom;
use portcullis_model::records::{KeyRecord, RealmRecord, new_id};
use portcullis_oidc::jose::{Algorithm, Signer, Verifier};
use portcullis_store::Store;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The parsed keys of one realm.
pub struct RealmKeys {
    pub records: Vec<KeyRecord>,
    /// Active signer per algorithm (newest active key wins).
    pub signers: HashMap<Algorithm, Arc<Signer>>,
    pub verifier: Verifier,
    /// `{"keys":[...]}` of the enabled public keys.
    pub jwks: serde_json::Value,
    /// The same, serialised once (the JWKS endpoint sends these bytes).
    pub jwks_body: axum::body::Bytes,
}

impl RealmKeys {
    pub fn signer(&self, alg: Algorithm) -> Option<&Arc<Signer>> {
        self.signers.get(&alg)
    }
}

/// Per-node cache of realm keys.
pub struct KeyCache {
    realms: RwLock<HashMap<String, Arc<RealmKeys>>>,
    /// Held while loading or creating keys, so a burst of first requests loads (and, for a
    /// new realm, generates) a realm's keys once rather than once per request.
    loading: tokio::sync::Mutex<()>,
    rng: SystemRandom,
}

/// Algorithms every realm has a key for.
const REQUIRED: &[Algorithm] = &[Algorithm::RS256, Algorithm::HS512];

impl Default for KeyCache {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyCache {
    pub fn new() -> KeyCache {
        KeyCache {
            realms: RwLock::new(HashMap::new()),
            loading: tokio::sync::Mutex::new(()),
            rng: SystemRandom::new(),
        }
    }

    pub fn rng(&self) -> &SystemRandom {
        &self.rng
    }

    /// The realm's keys, created if it has none yet.
    pub async fn get(&self, store: &Store, realm: &RealmRecord) -> Result<Arc<RealmKeys>> {
        if let Some(k) = self.cached(&realm.id)? {
            return Ok(k);
        }
        let _loading = self.loading.lock().await;
        if let Some(k) = self.cached(&realm.id)? {
            return Ok(k);
        }
        let mut records = store.realm_keys(&realm.id).await?;
        let mut wanted: Vec<Algorithm> = REQUIRED.to_vec();
        if let Some(alg) = realm
            .settings
            .default_signature_algorithm
            .as_deref()
            .and_then(Algorithm::parse)
            && !wanted.contains(&alg)
        {
            wanted.push(alg);
        }
        for alg in &wanted {
            let has = records
                .iter()
                .any(|r| r.active && r.algorithm == alg.as_str());
            if !has {
                let realm_id = realm.id.clone();
                let alg = *alg;
                let fresh = tokio::task::spawn_blocking(move || {
                    let rng = SystemRandom::new();
                    portcullis_oidc::keys::generate(
                        alg,
                        &rng,
                        crate::realms::now_ms(),
                        &realm_id,
                        &new_id(),
                    )
                })
                .await
                .context("key generation task")??;
                // Another node may have won the race; either way the store now has one.
                store.add_key_if_none(&fresh).await?;
                records = store.realm_keys(&realm.id).await?;
            }
        }
        let keys = Arc::new(self.build(records)?);
        self.realms
            .write()
            .map_err(|_| anyhow!("key cache poisoned"))?
            .insert(realm.id.clone(), keys.clone());
        Ok(keys)
    }

    fn cached(&self, realm_id: &str) -> Result<Option<Arc<RealmKeys>>> {
        Ok(self
            .realms
            .read()
            .map_err(|_| anyhow!("key cache poisoned"))?
            .get(realm_id)
            .cloned())
    }

    /// The realm's keys with an active key of `alg` (created when missing: a client may ask
    /// for ES256 or EdDSA tokens in a realm that signs with RS256).
    pub async fn with_algorithm(
        &self,
        store: &Store,
        realm: &RealmRecord,
        alg: Algorithm,
    ) -> Result<Arc<RealmKeys>> {
        let keys = self.get(store, realm).await?;
        if keys.signer(alg).is_some() {
            return Ok(keys);
        }
        let loading = self.loading.lock().await;
        if let Some(k) = self.cached(&realm.id)?
            && k.signer(alg).is_some()
        {
            return Ok(k);
        }
        let realm_id = realm.id.clone();
        let fresh = tokio::task::spawn_blocking(move || {
            let rng = SystemRandom::new();
            portcullis_oidc::keys::generate(
                alg,
                &rng,
                crate::realms::now_ms(),
                &realm_id,
                &new_id(),
            )
        })
        .await
        .context("key generation task")??;
        store.add_key_if_none(&fresh).await?;
        self.invalidate(&realm.id);
        drop(loading);
        self.get(store, realm).await
    }

    /// Forget a realm's keys (after rotation or deletion); the next use reloads them.
    pub fn invalidate(&self, realm_id: &str) {
        if let Ok(mut m) = self.realms.write() {
            m.remove(realm_id);
        }
    }

    fn build(&self, mut records: Vec<KeyRecord>) -> Result<RealmKeys> {
        // Newest first: the first active key of an algorithm signs.
        records.sort_by_key(|r| std::cmp::Reverse(r.created_at));
        let mut signers = HashMap::new();
        for r in records.iter().filter(|r| r.enabled && r.active) {
            let alg: Algorithm = r
                .algorithm
                .parse()
                .map_err(|e| anyhow!("key {}: {e}", r.kid))?;
            if let std::collections::hash_map::Entry::Vacant(slot) = signers.entry(alg) {
                let signer = Signer::from_record(r).map_err(|e| anyhow!("key {}: {e}", r.kid))?;
                slot.insert(Arc::new(signer));
            }
        }
        let verifier = Verifier::from_records(&records).map_err(|e| anyhow!("realm keys: {e}"))?;
        let jwks = portcullis_oidc::keys::jwks(&records);
        let jwks_body = serde_json::to_vec(&jwks)?.into();
        Ok(RealmKeys {
            records,
            signers,
            verifier,
            jwks,
            jwks_body,
        })
    }
}
