//! Realm import and export as the server runs them: files in, files out, one transaction per
//! realm. The rules themselves live in `portcullis_model::import` / `export`; this module does
//! the I/O around them (reading files, placeholder substitution from the environment, parallel
//! password hashing, writing files atomically).

use anyhow::{Context, Result, anyhow, bail};
use portcullis_model::export::{self, Names, UsersInRealm};
use portcullis_model::import::{self, BuildContext};
use portcullis_model::password::HashPolicy;
use portcullis_model::records::{MasterLink, RealmImage};
use portcullis_model::repr::{RealmRepresentation, UserRepresentation};
use portcullis_model::subst;
use portcullis_store::{Store, StoreError};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What to do with a realm that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Leave it alone and log a line (`--import-realm`, `import --override false`).
    Skip,
    /// Replace it (`import --override true`, kc.sh's default).
    Override,
}

/// The outcome of an import run.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: Vec<String>,
    pub skipped: Vec<String>,
    pub replaced: Vec<String>,
    pub warnings: Vec<String>,
}

/// One realm read from disk, with the users of any `<realm>-users-<n>.json` files merged in.
struct Source {
    file: PathBuf,
    rep: RealmRepresentation,
}

/// The `*.json` files of a folder, sorted; sub-folders and other files are ignored (Keycloak).
pub fn json_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the import folder {}", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_file() && path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn is_users_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.contains("-users-") || n.contains("-federated-users-"))
}

#[derive(serde::Deserialize)]
struct UsersFile {
    realm: String,
    #[serde(default)]
    users: Vec<UserRepresentation>,
    #[serde(default, rename = "federatedUsers")]
    federated_users: Vec<UserRepresentation>,
}

/// Read, substitute and parse the files; every problem names the file (and line and column).
fn read_sources(
    files: &[PathBuf],
    substitute: bool,
    report: &mut ImportReport,
) -> Result<Vec<Source>> {
    let resolver = subst::env_resolver();
    let mut sources: Vec<Source> = Vec::new();
    let mut users_files = Vec::new();
    for file in files {
        let shown = file.display().to_string();
        let raw = std::fs::read_to_string(file)
            .with_context(|| format!("{shown}: cannot read the file"))?;
        let text = if substitute {
            let s = subst::substitute(&raw, &resolver);
            let upper: Vec<&String> = s
                .unresolved
                .iter()
                .filter(|n| looks_like_env_name(n))
                .collect();
            if !upper.is_empty() {
                report.warnings.push(format!(
                    "{shown}: placeholders left as text because these environment variables are not set: {}",
                    upper.iter().map(|n| format!("${{{n}}}")).collect::<Vec<_>>().join(", ")
                ));
            }
            match s.text {
                // Nothing replaced: keep the text read, do not copy a large file.
                std::borrow::Cow::Borrowed(_) => raw,
                std::borrow::Cow::Owned(replaced) => replaced,
            }
        } else {
            raw
        };
        if is_users_file(file) {
            let mut json = serde_json::Deserializer::from_str(&text);
            let users: UsersFile = serde_path_to_error::deserialize(&mut json).map_err(|e| {
                anyhow!("{shown}: invalid users file at {}: {}", e.path(), e.inner())
            })?;
            users_files.push((shown, users));
            continue;
        }
        let doc = import::parse_document(&text).map_err(|e| anyhow!("{shown}: {e}"))?;
        if !doc.unknown_fields.is_empty() {
            report.warnings.push(format!(
                "{shown}: ignored unknown fields: {}",
                doc.unknown_fields.join(", ")
            ));
        }
        for rep in doc.realms {
            sources.push(Source {
                file: file.clone(),
                rep,
            });
        }
    }
    for (shown, users) in users_files {
        let Some(src) = sources
            .iter_mut()
            .find(|s| s.rep.realm.as_deref() == Some(users.realm.as_str()))
        else {
            bail!(
                "{shown}: realm '{}' is not in the imported files",
                users.realm
            );
        };
        src.rep
            .users
            .get_or_insert_with(Vec::new)
            .extend(users.users);
        if !users.federated_users.is_empty() {
            src.rep
                .federated_users
                .get_or_insert_with(Vec::new)
                .extend(users.federated_users);
        }
    }
    // master first: other realms link their management clients into it.
    sources.sort_by_key(|s| s.rep.realm.as_deref() != Some("master"));
    Ok(sources)
}

/// An unresolved name worth a warning: shaped like an environment variable, not like the i18n
/// keys (`${role_uma_authorization}`) that exports carry on purpose.
fn looks_like_env_name(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Build a realm image from its representation and hash its plaintext passwords in parallel.
pub fn prepare(
    rep: RealmRepresentation,
    now_ms: i64,
) -> Result<(RealmImage, Vec<String>), import::ImportError> {
    prepare_with(rep, now_ms, import::Placeholders::Refuse)
}

/// [`prepare`] with a choice of placeholder rule (`POST /admin/realms` takes its body
/// literally).
pub fn prepare_with(
    rep: RealmRepresentation,
    now_ms: i64,
    placeholders: import::Placeholders,
) -> Result<(RealmImage, Vec<String>), import::ImportError> {
    let built = import::build_with(rep, &BuildContext { now_ms }, placeholders)?;
    let mut image = built.image;
    let policy = HashPolicy::parse(image.realm.password_policy())
        .map_err(|e| import::ImportError::Invalid(format!("passwordPolicy: {e}")))?;
    image
        .users
        .par_iter_mut()
        .flat_map_iter(|u| u.credentials.iter_mut())
        .try_for_each(|c| c.hash_if_plain(&policy))
        .map_err(|e| import::ImportError::Invalid(format!("hashing a password failed: {e}")))?;
    Ok((image, built.warnings))
}

/// Import realm files into the store.
pub async fn import_files(
    store: &Store,
    files: &[PathBuf],
    existing: Existing,
    substitute: bool,
) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let sources = read_sources(files, substitute, &mut report)?;
    let mut master_ready = false;
    for src in sources {
        let shown = src.file.display().to_string();
        let name = src.rep.realm.clone().unwrap_or_default();
        if name != "master" && !master_ready {
            // master (from a file, or with defaults) first: other realms link into it.
            ensure_master(store).await?;
            master_ready = true;
        }
        let exists = !name.is_empty() && store.get_realm(&name).await?.is_some();
        if exists && existing == Existing::Skip {
            tracing::info!(realm = %name, file = %shown, "Realm '{name}' already exists. Import skipped");
            report.skipped.push(name);
            continue;
        }
        let now = now_ms();
        let rep = src.rep;
        let (image, warnings) = tokio::task::spawn_blocking(move || prepare(rep, now))
            .await
            .map_err(|e| anyhow!("{shown}: import task failed: {e}"))?
            .map_err(|e| anyhow!("{shown}: realm '{name}': {e}"))?;
        report.warnings.extend(
            warnings
                .into_iter()
                .map(|w| format!("{shown}: realm '{name}': {w}")),
        );
        let result = if exists {
            store.replace_realm(&image, now).await.map(|_| ())
        } else {
            store.create_realm(&image, now).await
        };
        match result {
            Ok(()) => {}
            Err(StoreError::Conflict(m)) => bail!("{shown}: realm '{name}': {m}"),
            Err(e) => {
                return Err(anyhow!(e).context(format!("{shown}: realm '{name}' was not imported")));
            }
        }
        if name != "master" {
            link_to_master(store, &name).await?;
        }
        tracing::info!(realm = %name, file = %shown, users = image.users.len(), "Realm '{name}' imported");
        if exists {
            report.replaced.push(name);
        } else {
            report.imported.push(name);
        }
    }
    Ok(report)
}

/// Give master its `{realm}-realm` management client for a realm, unless it has one.
pub async fn link_to_master(store: &Store, realm: &str) -> Result<()> {
    let Some(master) = store.get_realm("master").await? else {
        return Ok(());
    };
    if store
        .client_by_client_id(&master.id, &format!("{realm}-realm"))
        .await?
        .is_some()
    {
        return Ok(());
    }
    let Some(admin) = store.realm_role(&master.id, "admin").await? else {
        return Ok(());
    };
    let link: MasterLink = import::master_link(&master.id, &admin.id, realm);
    store.link_realm_to_master(&link).await?;
    Ok(())
}

/// Create the master realm with Keycloak's defaults if it does not exist. Returns true if made.
pub async fn ensure_master(store: &Store) -> Result<bool> {
    if store.get_realm("master").await?.is_some() {
        return Ok(false);
    }
    let rep = RealmRepresentation {
        realm: Some("master".into()),
        enabled: Some(true),
        display_name: Some("Keycloak".into()),
        display_name_html: Some("<div class=\"kc-logo-text\"><span>Keycloak</span></div>".into()),
        ..Default::default()
    };
    let now = now_ms();
    let (image, _) = tokio::task::spawn_blocking(move || prepare(rep, now)).await??;
    match store.create_realm(&image, now).await {
        Ok(()) => Ok(true),
        // Another node created it at the same moment.
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Users placement in an export (`--users`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsersExport {
    DifferentFiles,
    SameFile,
    RealmFile,
    Skip,
}

/// Where an export goes.
#[derive(Debug, Clone)]
pub enum ExportTarget {
    File(PathBuf),
    Dir(PathBuf),
}

/// Export realms (all, or one) to a file or a folder in Keycloak's format.
pub async fn export(
    store: &Store,
    target: &ExportTarget,
    realm: Option<&str>,
    users: UsersExport,
    users_per_file: usize,
) -> Result<Vec<PathBuf>> {
    let names = match realm {
        Some(r) => vec![r.to_string()],
        None => store.realm_names().await?,
    };
    let mut images = Vec::new();
    for name in &names {
        let image = store
            .load_realm_image(name)
            .await?
            .ok_or_else(|| anyhow!("realm '{name}' does not exist"))?;
        images.push(image);
    }
    let mut written = Vec::new();
    match target {
        ExportTarget::File(path) => {
            if matches!(users, UsersExport::DifferentFiles | UsersExport::SameFile) {
                bail!(
                    "--users different_files and same_file need --dir; with --file use realm_file or skip"
                );
            }
            let placement = if users == UsersExport::Skip {
                UsersInRealm::Exclude
            } else {
                UsersInRealm::Include
            };
            let reps: Vec<RealmRepresentation> = images
                .iter()
                .map(|i| export::realm_representation(i, placement))
                .collect();
            let json = if realm.is_some() && reps.len() == 1 {
                to_json(&reps[0])?
            } else {
                to_json(&reps)?
            };
            write_atomically(path, &json)?;
            written.push(path.clone());
        }
        ExportTarget::Dir(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            for image in &images {
                let name = &image.realm.name;
                let placement = if users == UsersExport::RealmFile {
                    UsersInRealm::Include
                } else {
                    UsersInRealm::Exclude
                };
                let rep = export::realm_representation(image, placement);
                let path = dir.join(format!("{name}-realm.json"));
                write_atomically(&path, &to_json(&rep)?)?;
                written.push(path);
                let chunk = match users {
                    UsersExport::DifferentFiles => users_per_file.max(1),
                    UsersExport::SameFile => usize::MAX,
                    _ => continue,
                };
                let lookup = Names::new(image);
                for (n, part) in image
                    .users
                    .chunks(chunk.min(image.users.len().max(1)))
                    .enumerate()
                {
                    let mut body = BTreeMap::new();
                    body.insert("realm", serde_json::Value::String(name.clone()));
                    let users: Vec<UserRepresentation> = part
                        .iter()
                        .map(|u| export::user_representation(u, &lookup))
                        .collect();
                    body.insert("users", serde_json::to_value(users)?);
                    let path = dir.join(format!("{name}-users-{n}.json"));
                    write_atomically(&path, &to_json(&body)?)?;
                    written.push(path);
                }
            }
        }
    }
    Ok(written)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

/// Write to a temporary file beside the target, then rename: a reader never sees half a file.
fn write_atomically(path: &Path, contents: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("export"),
        std::process::id()
    ));
    std::fs::write(&tmp, contents).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
