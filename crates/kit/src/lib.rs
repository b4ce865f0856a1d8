//! Portcullis service kit: what an axum service needs to use Portcullis (or Keycloak) the way
//! the platform's Django services use it with django-allauth and their authorization app.
//!
//! - **Login** (`/login`, `/callback`): the authorization-code flow with PKCE, `state` and
//!   `nonce`; the code is exchanged over the internal backchannel URL, the ID token verified
//!   against the public issuer with a JWKS cache that refreshes on an unknown `kid`.
//! - **Sync**: on every login the local user's profile and group set become exactly what the
//!   identity server says (a new user is created; a local user with the same *verified* email
//!   is linked once), then a [`UserGroupsSynced`] event goes to subscribers. The built-in
//!   authorization module maps groups to roles and updates the staff/superuser flags.
//! - **Authorization**: the [`Auth`] extractor gives every request a [`PermissionContext`]
//!   (`user_roles`, `user_permissions` with inheritance, `primary_role`), from the session
//!   cookie or a bearer token verified locally; [`require_permission`] answers 403 for pages
//!   and JSON alike.
//! - **Break-glass** (`/local-login`): superusers with a local password log in while the
//!   identity server is down; everyone else is sent to single sign-on.
//! - **Logout** (`/logout`: local, then RP-initiated at the identity server) and
//!   **back-channel logout** (`/backchannel-logout`: a verified logout token ends the
//!   matching sessions).
//!
//! # Example
//! ```no_run
//! use axum::{Router, routing::get};
//! use portcullis_kit::{Auth, Kit, KitConfig, require_permission};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let kit = Kit::connect(KitConfig::from_env()?).await?;
//! let app = Router::new()
//!     .route("/edit", get(|auth: Auth| async move {
//!         format!("hello {:?}, you may edit", auth.context.primary_role)
//!     }))
//!     .route_layer(require_permission("article.edit"));
//! let app = kit.attach(app); // adds /login, /callback, /logout, /local-login, ...
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

pub mod authz;
pub mod config;
pub mod error;
pub mod provider;
pub mod store;
pub mod sync;
mod web;

pub use authz::{Authorization, PermissionContext};
pub use config::{KitConfig, Secret};
pub use error::KitError;
pub use provider::Provider;
pub use store::{LocalUser, UserStore};
pub use sync::{Identity, SyncOutcome};
pub use web::{Auth, AuthVia, Required, require_permission};

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

/// The event a login's sync emits (the platform's `user_groups_synced` signal).
pub type UserGroupsSynced = SyncOutcome;

/// A subscriber to [`UserGroupsSynced`]. Called after the sync's transaction committed, in
/// subscription order; an error fails the login (the next login syncs again).
pub trait GroupsSyncedHandler: Send + Sync {
    fn on_groups_synced<'a>(
        &'a self,
        event: &'a UserGroupsSynced,
        store: &'a UserStore,
    ) -> Pin<Box<dyn Future<Output = Result<(), KitError>> + Send + 'a>>;
}

/// The authorization module's subscriber: staff/superuser flags from the mapped roles.
struct FlagUpdater {
    authz: Arc<Authorization>,
}

impl GroupsSyncedHandler for FlagUpdater {
    fn on_groups_synced<'a>(
        &'a self,
        event: &'a UserGroupsSynced,
        store: &'a UserStore,
    ) -> Pin<Box<dyn Future<Output = Result<(), KitError>> + Send + 'a>> {
        Box::pin(async move {
            let ctx = self.authz.context_for_groups(&event.groups);
            if ctx.is_staff != event.user.is_staff || ctx.is_superuser != event.user.is_superuser {
                store
                    .set_flags(&event.user.id, ctx.is_staff, ctx.is_superuser)
                    .await?;
            }
            Ok(())
        })
    }
}

pub(crate) struct Inner {
    pub config: Arc<KitConfig>,
    pub provider: Provider,
    pub store: UserStore,
    pub authz: Arc<Authorization>,
    pub subscribers: RwLock<Vec<Arc<dyn GroupsSyncedHandler>>>,
    pub sessions: moka::sync::Cache<String, Arc<web::SessionInfo>>,
}

/// The kit (cheap to clone): configuration, identity server, local store, authorization.
#[derive(Clone)]
pub struct Kit {
    pub(crate) inner: Arc<Inner>,
}

/// How long a session looked up from the database is trusted in memory. A logout through
/// this instance removes it at once; through another instance within this time.
pub const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

impl Kit {
    /// Connect the store (migrating it) and prepare the provider; the identity server is not
    /// contacted until the first login.
    pub async fn connect(config: KitConfig) -> Result<Kit, KitError> {
        let store = UserStore::connect(&config.database_url).await?;
        Self::with_store(config, store)
    }

    /// Build the kit on an existing store.
    pub fn with_store(config: KitConfig, store: UserStore) -> Result<Kit, KitError> {
        let config = Arc::new(config);
        let authz = Arc::new(Authorization::new(&config)?);
        let provider = Provider::new(config.clone())?;
        let flag_updater: Arc<dyn GroupsSyncedHandler> = Arc::new(FlagUpdater {
            authz: authz.clone(),
        });
        Ok(Kit {
            inner: Arc::new(Inner {
                config,
                provider,
                store,
                authz,
                subscribers: RwLock::new(vec![flag_updater]),
                sessions: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(SESSION_CACHE_TTL)
                    .build(),
            }),
        })
    }

    /// Subscribe to [`UserGroupsSynced`].
    pub fn subscribe(&self, handler: Arc<dyn GroupsSyncedHandler>) {
        if let Ok(mut subs) = self.inner.subscribers.write() {
            subs.push(handler);
        }
    }

    pub fn config(&self) -> &KitConfig {
        &self.inner.config
    }
    pub fn store(&self) -> &UserStore {
        &self.inner.store
    }
    pub fn provider(&self) -> &Provider {
        &self.inner.provider
    }
    pub fn authorization(&self) -> &Authorization {
        &self.inner.authz
    }

    /// Set (or create) a superuser's break-glass password.
    pub async fn set_local_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<LocalUser, KitError> {
        if username.trim().is_empty() || password.chars().count() < 12 {
            return Err(KitError::Config {
                field: "password",
                reason: "a username and a password of at least 12 characters".into(),
            });
        }
        let password = zeroize::Zeroizing::new(password.to_owned());
        let hash = tokio::task::spawn_blocking(move || {
            portcullis_model::password::hash_password(
                &password,
                &portcullis_model::password::HashPolicy::default(),
            )
        })
        .await
        .map_err(|e| KitError::Database(e.to_string()))?
        .map_err(|e| KitError::Database(e.to_string()))?;
        let (secret, cred) = hash.to_keycloak();
        let stored = serde_json::json!({"secretData": secret, "credentialData": cred}).to_string();
        self.inner
            .store
            .set_local_password(username.trim(), &stored, true)
            .await
    }

    /// The router with the kit's routes merged in and the kit attached for the extractors.
    pub fn attach<S: Clone + Send + Sync + 'static>(
        &self,
        app: axum::Router<S>,
    ) -> axum::Router<S> {
        web::attach(self.clone(), app)
    }

    /// Delete expired sessions and abandoned logins (call periodically).
    pub async fn purge(&self) -> Result<u64, KitError> {
        self.inner.store.purge(10 * 60 * 1000).await
    }
}

/// Constant-time string equality (secrets, CSRF tokens, nonces).
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
