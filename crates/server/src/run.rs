//! The commands of the `portcullis` binary: start the server, import, export, bootstrap an
//! admin, show the configuration. `main.rs` only parses and dispatches to these.

use crate::app::{self, AppOptions, AppState};
use crate::bootstrap;
use crate::config::{
    DbKind, DbSettings, ExportTarget, ImportSource, Invocation, Mode, Settings, UsersStrategy,
};
use crate::management::{self, ManagementState};
use crate::realms::{self, Existing, UsersExport};
use crate::telemetry::Metrics;
use anyhow::{Context, Result, anyhow, bail};
use portcullis_store::{ConnectOptions, DbTarget, Store};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tokio::net::TcpListener;

/// Run one invocation to completion.
pub async fn dispatch(inv: Invocation) -> Result<()> {
    match inv {
        Invocation::Help(text) => {
            use std::io::Write;
            // A closed pipe (`portcullis --help | head`) is not an error worth reporting.
            let _ = writeln!(std::io::stdout().lock(), "{text}");
            Ok(())
        }
        Invocation::StartDev(s) | Invocation::Start(s) => serve(s, shutdown_signal()).await,
        Invocation::ShowConfig { settings, all } => {
            print!("{}", settings.show(all));
            Ok(())
        }
        Invocation::Import {
            settings,
            source,
            override_existing,
        } => {
            warn_all(&settings);
            let store = connect(&settings.db).await?;
            let files = match &source {
                ImportSource::File(f) => {
                    if !f.is_file() {
                        bail!("import file {} does not exist", f.display());
                    }
                    vec![f.clone()]
                }
                ImportSource::Dir(d) => realms::json_files(d)?,
            };
            let existing = if override_existing {
                Existing::Override
            } else {
                Existing::Skip
            };
            let report = realms::import_files(&store, &files, existing, true).await;
            store.close().await;
            let report = report?;
            for w in &report.warnings {
                tracing::warn!("{w}");
            }
            println!(
                "Import finished: {} imported, {} replaced, {} skipped",
                report.imported.len(),
                report.replaced.len(),
                report.skipped.len()
            );
            Ok(())
        }
        Invocation::Export {
            settings,
            target,
            realm,
            users,
            users_per_file,
        } => {
            warn_all(&settings);
            let store = connect(&settings.db).await?;
            let target = match target {
                ExportTarget::File(f) => realms::ExportTarget::File(f),
                ExportTarget::Dir(d) => realms::ExportTarget::Dir(d),
            };
            let users = match users {
                UsersStrategy::DifferentFiles => UsersExport::DifferentFiles,
                UsersStrategy::SameFile => UsersExport::SameFile,
                UsersStrategy::RealmFile => UsersExport::RealmFile,
                UsersStrategy::Skip => UsersExport::Skip,
            };
            let written = realms::export(
                &store,
                &target,
                realm.as_deref(),
                users,
                users_per_file as usize,
            )
            .await;
            store.close().await;
            for f in written? {
                println!("Exported {}", f.display());
            }
            Ok(())
        }
        Invocation::BootstrapAdminUser {
            settings,
            username,
            password_env,
            no_prompt,
        } => {
            warn_all(&settings);
            let username = match username {
                Some(u) => u,
                None if no_prompt => "temp-admin".to_string(),
                None => prompt("Enter username [temp-admin]: ")?
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "temp-admin".into()),
            };
            let password = match password_env {
                Some(var) => std::env::var(&var).map_err(|_| {
                    anyhow!("environment variable {var} (from --password:env) is not set")
                })?,
                None if no_prompt => {
                    bail!("no password given: use --password:env VAR with --no-prompt")
                }
                None => {
                    let p = rpassword::prompt_password("Enter password: ")?;
                    let again = rpassword::prompt_password("Enter password again: ")?;
                    if p != again {
                        bail!("the passwords do not match");
                    }
                    p
                }
            };
            let store = connect(&settings.db).await?;
            realms::ensure_master(&store).await?;
            let result =
                bootstrap::create_admin(&store, &username, &password, realms::now_ms()).await;
            store.close().await;
            result?;
            println!("User '{username}' created in the master realm with the admin role");
            Ok(())
        }
        Invocation::BootstrapAdminService {
            settings,
            client_id,
            client_secret_env,
            no_prompt,
        } => {
            warn_all(&settings);
            let client_id = match client_id {
                Some(c) => c,
                None if no_prompt => "temp-admin".to_string(),
                None => prompt("Enter client ID [temp-admin]: ")?
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "temp-admin".into()),
            };
            let secret = match client_secret_env {
                Some(var) => std::env::var(&var).map_err(|_| {
                    anyhow!("environment variable {var} (from --client-secret:env) is not set")
                })?,
                None if no_prompt => {
                    bail!("no client secret given: use --client-secret:env VAR with --no-prompt")
                }
                None => rpassword::prompt_password("Enter client secret: ")?,
            };
            let store = connect(&settings.db).await?;
            realms::ensure_master(&store).await?;
            let result =
                bootstrap::create_admin_service(&store, &client_id, &secret, realms::now_ms())
                    .await;
            store.close().await;
            result?;
            println!(
                "Client '{client_id}' created in the master realm; its service account has the admin role"
            );
            Ok(())
        }
    }
}

fn prompt(text: &str) -> Result<Option<String>> {
    use std::io::Write;
    print!("{text}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(Some(line.trim().to_string()))
}

fn warn_all(settings: &Settings) {
    for w in &settings.warnings {
        tracing::warn!("{w}");
    }
}

/// Open the configured database (creating and migrating it as needed).
pub async fn connect(db: &DbSettings) -> Result<Store> {
    let target = match &db.kind {
        DbKind::SqliteFile(path) => DbTarget::SqliteFile(path.clone()),
        DbKind::SqliteMemory => DbTarget::SqliteMemory,
        DbKind::Postgres => DbTarget::Postgres {
            url: db
                .url
                .clone()
                .ok_or_else(|| anyhow!("no database URL configured (KC_DB_URL)"))?,
            username: db.username.clone(),
            password: db.password.as_ref().map(|p| p.expose().to_string()),
            schema: db.schema.clone(),
        },
    };
    let shown = format!("{target:?}");
    let mut opts = ConnectOptions::new(target);
    opts.pool_min = db.pool_min;
    opts.pool_max = db.pool_max;
    opts.acquire_timeout = db.acquire_timeout;
    Store::connect(&opts)
        .await
        .with_context(|| format!("cannot open the database {shown}"))
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn bind(host: &str, port: u16, what: &str) -> Result<TcpListener> {
    let addr = format!(
        "{}:{port}",
        if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        }
    );
    TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for {what} (is another server running?)"))
}

/// Mails sent after the answer that may be in flight at once.
const BACKGROUND_LIMIT: usize = 256;
/// How long a stopping server waits for them.
const BACKGROUND_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// `start` / `start-dev`: serve until `stop` resolves, then shut down gracefully.
pub async fn serve(
    settings: Settings,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let t0 = Instant::now();
    warn_all(&settings);
    if settings.mode == Mode::Dev {
        tracing::warn!(
            "Running the server in development mode. DO NOT use this configuration in production."
        );
    }
    let store = connect(&settings.db).await?;

    // Listen first, so a port clash is reported before any work is done.
    let http = bind(&settings.http.host, settings.http.port, "HTTP").await?;
    let m = &settings.management;
    let separate_management =
        (m.health_enabled || m.metrics_enabled) && !m.legacy_observability_interface;
    let mgmt = if separate_management {
        Some(bind(&m.host, m.port, "the management interface").await?)
    } else {
        None
    };

    let metrics = if m.metrics_enabled {
        Some(Metrics::install()?)
    } else {
        None
    };
    let started = Arc::new(AtomicBool::new(false));
    let mstate = ManagementState {
        store: store.clone(),
        metrics,
        started: started.clone(),
    };
    let background = Arc::new(app::Background::new(BACKGROUND_LIMIT));
    let events = Arc::new(crate::events::EventSink::new(
        store.clone(),
        m.event_metrics.clone(),
    ));
    let app = app::router(
        AppState {
            store: store.clone(),
            hostname: crate::oidc::hostname_policy(&settings),
            keys: Arc::new(crate::oidc::keys::KeyCache::new()),
            themes: Arc::new(crate::theme::Themes::load(Some(
                &settings.import.theme_dir,
            ))?),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            caches: Arc::new(crate::cache::Caches::new()),
            hashing: Arc::new(app::HashingSlots::per_core()),
            events: events.clone(),
            blacklists: Arc::new(crate::password_blacklist::Blacklists::new(
                settings.data_dir.join("password-blacklists"),
            )),
            background: background.clone(),
        },
        AppOptions {
            relative_path: settings.http.relative_path.clone(),
            legacy_observability: (m.legacy_observability_interface
                && (m.health_enabled || m.metrics_enabled))
                .then(|| (mstate.clone(), m.health_enabled)),
        },
    );

    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = tx.send(true);
    });
    let http_addr: SocketAddr = http.local_addr()?;
    let mut rx1 = rx.clone();
    let http_task = tokio::spawn(async move {
        axum::serve(
            http,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx1.wait_for(|v| *v).await;
        })
        .await
    });
    let mut mgmt_addr = None;
    let mgmt_task = match mgmt {
        Some(listener) => {
            mgmt_addr = Some(listener.local_addr()?);
            let router = management::router(mstate, m.health_enabled, &m.relative_path);
            let mut rx2 = rx.clone();
            Some(tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = rx2.wait_for(|v| *v).await;
                    })
                    .await
            }))
        }
        None => None,
    };

    // Start-up work: master realm, realm files, first admin.
    if let Err(e) = startup(&store, &settings).await {
        store.close().await;
        return Err(e);
    }
    started.store(true, Ordering::Release);
    tokio::spawn(crate::housekeeping::run(
        store.clone(),
        std::time::Duration::from_secs(60),
        rx.clone(),
    ));
    let rel = &settings.http.relative_path;
    match mgmt_addr {
        Some(a) => tracing::info!(
            "Listening on: http://{http_addr}{rel}. Management interface listening on http://{a}{}.",
            m.relative_path
        ),
        None => tracing::info!("Listening on: http://{http_addr}{rel}"),
    }
    tracing::info!(
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "Portcullis started in {} ms",
        t0.elapsed().as_millis()
    );

    let r = http_task.await;
    if let Some(t) = mgmt_task {
        let _ = t.await;
    }
    // Mails promised before the stop get a grace period.
    let pending = background.in_flight();
    if pending > 0 {
        tracing::info!(pending, "waiting for mails being sent");
        let dropped = background.drain(BACKGROUND_GRACE).await;
        if dropped > 0 {
            tracing::warn!(dropped, "stopped before these mails were sent");
        }
    }
    // Queued user events are written before the database closes.
    events.flush().await;
    store.close().await;
    tracing::info!("Portcullis stopped");
    r?.map_err(|e| anyhow!("HTTP server failed: {e}"))
}

async fn startup(store: &Store, settings: &Settings) -> Result<()> {
    if settings.import.import_realm {
        let dir = &settings.import.dir;
        if dir.is_dir() {
            let files = realms::json_files(dir)?;
            let report = realms::import_files(store, &files, Existing::Skip, true).await?;
            for w in &report.warnings {
                tracing::warn!("{w}");
            }
        } else {
            tracing::warn!(
                "--import-realm: the import folder {} does not exist; nothing imported",
                dir.display()
            );
        }
    }
    if realms::ensure_master(store).await? {
        tracing::info!("Created the master realm");
    }
    // Every realm has its signing keys before the first request (a realm created by an
    // import gets them here; a restart finds them stored and creates nothing).
    // Realms are independent: their keys are made side by side (RSA generation is ~50 ms).
    let mut making = tokio::task::JoinSet::new();
    for name in store.realm_names().await? {
        if let Some(realm) = store.get_realm(&name).await? {
            let store = store.clone();
            making.spawn(async move {
                crate::oidc::keys::KeyCache::new()
                    .get(&store, &realm)
                    .await
                    .map(|_| ())
            });
        }
    }
    while let Some(done) = making.join_next().await {
        done??;
    }
    let b = &settings.bootstrap;
    if let (Some(id), Some(secret)) = (&b.client_id, &b.client_secret) {
        let master = store
            .get_realm("master")
            .await?
            .ok_or_else(|| anyhow!("the master realm does not exist"))?;
        if store.client_by_client_id(&master.id, id).await?.is_none() {
            bootstrap::create_admin_service(store, id, secret.expose(), realms::now_ms()).await?;
            tracing::info!("Created temporary admin service account with client id {id}");
        }
    }
    if !bootstrap::has_admin(store).await? {
        match (&b.username, &b.password) {
            (_, Some(password)) => {
                let username = b.username.clone().unwrap_or_else(|| "temp-admin".into());
                bootstrap::create_admin(store, &username, password.expose(), realms::now_ms())
                    .await?;
                tracing::info!("Created temporary admin user with username {username}");
            }
            (_, None) if settings.mode == Mode::Dev => {
                bootstrap::create_admin(store, "admin", "admin", realms::now_ms()).await?;
                tracing::warn!(
                    "No admin was configured: created the DEVELOPMENT admin 'admin' with password 'admin' in the master realm. Set KC_BOOTSTRAP_ADMIN_USERNAME and KC_BOOTSTRAP_ADMIN_PASSWORD instead; never use this outside development."
                );
            }
            (_, None) => tracing::warn!(
                "The master realm has no administrator. Set KC_BOOTSTRAP_ADMIN_USERNAME and KC_BOOTSTRAP_ADMIN_PASSWORD, or run 'portcullis bootstrap-admin user'."
            ),
        }
    }
    Ok(())
}
