//! Configuration of the `portcullis` binary, in the manner of Keycloak's `kc.sh`: commands
//! (`start-dev`, `start`, `import`, `export`, `bootstrap-admin`, `show-config`), options given as
//! `--name=value`, as `KC_NAME` environment variables or as `name=value` lines in
//! `conf/portcullis.conf`, with the same names and meanings as Keycloak's where they exist.
//!
//! [`parse`] is pure: it gets the arguments, the environment and the conf file's text, and
//! returns an [`Invocation`] or a [`ConfigError`] whose `Display` is the message for the user.
//! [`from_process`] gathers those three from the running process. Raw values (what was read,
//! `source`) are kept apart from [`Settings`] (what runs, typed and validated); every option is
//! declared once in [`OPTIONS`].
//!
//! Module map: `options` (the table), `cli` (command line), `source` (conf file, environment,
//! precedence), `settings` (typing, validation, mode rules, show-config), `jdbc` (database
//! URLs), `net` (paths, hostnames, IP ranges), `log` (log levels), `secret`, `error`.

mod cli;
mod error;
mod jdbc;
mod log;
mod net;
mod options;
mod secret;
mod settings;
mod source;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use cli::{COMMAND_OPTIONS, COMMANDS, Command, CommandOption, USERS_STRATEGIES};
pub use error::ConfigError;
pub use jdbc::mask_password;
pub use log::{LogLevel, LogOutput, LogSettings};
pub use net::{Hostname, IpNet, normalise_relative_path};
pub use options::{
    Category, DefaultValue, Kind, OPTIONS, OptionSpec, Scope, env_name, markdown_table, option,
};
pub use secret::{MASK, Secret};
pub use settings::{
    BootstrapSettings, DbKind, DbSettings, EventMetricsSettings, FeatureSettings, HostnameSettings,
    HttpSettings, ImportSettings, ManagementSettings, Mode, ProxyHeaders, ProxySettings, Settings,
};
pub use source::Source;

use cli::{CommandLine, Parsed};

/// The conf file read when neither `--config-file` nor `KC_CONFIG_FILE` names one.
pub const DEFAULT_CONFIG_FILE: &str = "conf/portcullis.conf";

/// What the command line asks the binary to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// `start-dev`.
    StartDev(Settings),
    /// `start`.
    Start(Settings),
    /// `import --dir DIR | --file FILE [--override BOOL]`.
    Import {
        /// Database and logging settings.
        settings: Settings,
        /// What to read.
        source: ImportSource,
        /// Replace realms that exist (default true).
        override_existing: bool,
    },
    /// `export --dir DIR | --file FILE [--realm NAME] [--users STRATEGY] [--users-per-file N]`.
    Export {
        /// Database and logging settings.
        settings: Settings,
        /// Where to write.
        target: ExportTarget,
        /// Only this realm; all realms when `None`.
        realm: Option<String>,
        /// Where users go.
        users: UsersStrategy,
        /// Users per file with [`UsersStrategy::DifferentFiles`] (default 50, never 0).
        users_per_file: u32,
    },
    /// `bootstrap-admin user [--username NAME] [--password:env VAR] [--no-prompt]`.
    BootstrapAdminUser {
        /// Database and logging settings.
        settings: Settings,
        /// `--username`; the caller defaults it (Keycloak: `temp-admin`) or prompts.
        username: Option<String>,
        /// `--password:env`: the environment variable holding the password.
        password_env: Option<String>,
        /// `--no-prompt`.
        no_prompt: bool,
    },
    /// `bootstrap-admin service [--client-id ID] [--client-secret:env VAR] [--no-prompt]`.
    BootstrapAdminService {
        /// Database and logging settings.
        settings: Settings,
        /// `--client-id`; the caller defaults it (Keycloak: `temp-admin`) or prompts.
        client_id: Option<String>,
        /// `--client-secret:env`: the environment variable holding the secret.
        client_secret_env: Option<String>,
        /// `--no-prompt`.
        no_prompt: bool,
    },
    /// `show-config [all]`: print [`Settings::show`].
    ShowConfig {
        /// Resolved with production defaults; combinations are not checked.
        settings: Settings,
        /// Include values that come from defaults.
        all: bool,
    },
    /// `--help`, `-h`, `--version`, or no arguments: print this text and exit successfully.
    Help(String),
}

impl Invocation {
    /// The settings, for every variant but `Help`.
    pub fn settings(&self) -> Option<&Settings> {
        match self {
            Invocation::StartDev(s) | Invocation::Start(s) => Some(s),
            Invocation::Import { settings, .. }
            | Invocation::Export { settings, .. }
            | Invocation::BootstrapAdminUser { settings, .. }
            | Invocation::BootstrapAdminService { settings, .. }
            | Invocation::ShowConfig { settings, .. } => Some(settings),
            Invocation::Help(_) => None,
        }
    }
}

/// Where `import` reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportSource {
    /// One JSON file.
    File(PathBuf),
    /// A directory of `<realm>-realm.json` and `<realm>-users-<n>.json` files.
    Dir(PathBuf),
}

/// Where `export` writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportTarget {
    /// One JSON file.
    File(PathBuf),
    /// A directory.
    Dir(PathBuf),
}

/// `export --users`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsersStrategy {
    /// `<realm>-users-<n>.json` files of `users_per_file` users (default with `--dir`).
    DifferentFiles,
    /// No users.
    Skip,
    /// Users inside the realm file (default with `--file`).
    RealmFile,
    /// All users in `<realm>-users-0.json`.
    SameFile,
}

impl UsersStrategy {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            UsersStrategy::DifferentFiles => "different_files",
            UsersStrategy::Skip => "skip",
            UsersStrategy::RealmFile => "realm_file",
            UsersStrategy::SameFile => "same_file",
        }
    }
}

/// Reads the invocation from `args` (without the program name), the environment `env` and the
/// conf file (its path, for messages, and its text) when there is one.
pub fn parse(
    args: &[OsString],
    env: &BTreeMap<String, String>,
    conf_file: Option<(&Path, &str)>,
) -> Result<Invocation, ConfigError> {
    let line = match cli::parse_args(args)? {
        Parsed::Help(text) => return Ok(Invocation::Help(text)),
        Parsed::Run(line) => line,
    };
    let command = line.command;
    let accepts = |spec: &OptionSpec| command.reads(spec);
    let file = match conf_file {
        Some((path, text)) => source::conf_values(path, text, env, accepts)?,
        None => Vec::new(),
    };
    let (env_given, mut warnings) = source::env_values(env, accepts);
    let (resolved, deprecations) = source::resolve(
        line.options.clone(),
        env_given,
        file,
        env,
        command == Command::StartDev,
    );
    warnings.extend(deprecations);
    let settings = settings::build(command, resolved, warnings)?;
    invocation(&line, settings)
}

/// The conf file to read: `--config-file`/`-cf`, else `KC_CONFIG_FILE`, else
/// [`DEFAULT_CONFIG_FILE`]; the flag is true when it was named explicitly (then it must exist).
pub fn config_file_path(args: &[OsString], env: &BTreeMap<String, String>) -> (PathBuf, bool) {
    if let Some(path) = cli::config_file_arg(args) {
        return (PathBuf::from(path), true);
    }
    match env.get("KC_CONFIG_FILE").filter(|v| !v.is_empty()) {
        Some(path) => (PathBuf::from(path), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    }
}

/// [`parse`] over the running process: its arguments, its environment (variables that are not
/// UTF-8 are skipped) and the conf file, relative to the working directory.
pub fn from_process() -> Result<Invocation, ConfigError> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let (path, explicit) = config_file_path(&args, &env);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => None,
        Err(e) => {
            return Err(ConfigError::ReadConfFile {
                path,
                reason: e.to_string(),
            });
        }
    };
    parse(&args, &env, text.as_deref().map(|t| (path.as_path(), t)))
}

fn invocation(line: &CommandLine, settings: Settings) -> Result<Invocation, ConfigError> {
    let arg = |name: &str| line.args.get(name).map(|v| v.trim().to_owned());
    let invalid = |name: &str, value: &str, expected: String| ConfigError::InvalidValue {
        option: format!("'--{name}'"),
        value: value.to_owned(),
        expected,
    };
    let flag = |name: &str, default: bool| -> Result<bool, ConfigError> {
        match arg(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(invalid(
                name,
                &v,
                "Expected values are: true, false.".to_owned(),
            )),
        }
    };
    let dir_or_file = || -> Result<Result<PathBuf, PathBuf>, ConfigError> {
        let verb = line.command.name();
        match (arg("dir"), arg("file")) {
            (Some(_), Some(_)) => Err(ConfigError::Invalid(format!(
                "The '{verb}' command takes either --dir or --file, not both."
            ))),
            (Some(dir), None) => Ok(Ok(PathBuf::from(dir))),
            (None, Some(file)) => Ok(Err(PathBuf::from(file))),
            (None, None) => Err(ConfigError::Invalid(format!(
                "The '{verb}' command needs --dir <directory> or --file <file>."
            ))),
        }
    };
    Ok(match line.command {
        Command::StartDev => Invocation::StartDev(settings),
        Command::Start => Invocation::Start(settings),
        Command::ShowConfig => Invocation::ShowConfig {
            settings,
            all: line.all,
        },
        Command::Import => Invocation::Import {
            source: match dir_or_file()? {
                Ok(dir) => ImportSource::Dir(dir),
                Err(file) => ImportSource::File(file),
            },
            override_existing: flag("override", true)?,
            settings,
        },
        Command::Export => {
            let target = match dir_or_file()? {
                Ok(dir) => ExportTarget::Dir(dir),
                Err(file) => ExportTarget::File(file),
            };
            let users = match arg("users") {
                None => match target {
                    ExportTarget::Dir(_) => UsersStrategy::DifferentFiles,
                    ExportTarget::File(_) => UsersStrategy::RealmFile,
                },
                Some(v) => match v.to_ascii_lowercase().as_str() {
                    "different_files" => UsersStrategy::DifferentFiles,
                    "skip" => UsersStrategy::Skip,
                    "realm_file" => UsersStrategy::RealmFile,
                    "same_file" => UsersStrategy::SameFile,
                    _ => {
                        return Err(invalid(
                            "users",
                            &v,
                            format!("Expected values are: {}.", USERS_STRATEGIES.join(", ")),
                        ));
                    }
                },
            };
            if matches!(target, ExportTarget::File(_))
                && matches!(
                    users,
                    UsersStrategy::DifferentFiles | UsersStrategy::SameFile
                )
            {
                return Err(ConfigError::Invalid(format!(
                    "--users={} writes separate user files and needs --dir; with --file use realm_file or skip.",
                    users.as_str()
                )));
            }
            let users_per_file = match arg("users-per-file") {
                None => 50,
                Some(v) => {
                    if users != UsersStrategy::DifferentFiles {
                        return Err(ConfigError::Invalid(format!(
                            "--users-per-file applies only with --users=different_files (here: {}).",
                            users.as_str()
                        )));
                    }
                    match v.parse::<u32>() {
                        Ok(n) if n > 0 => n,
                        _ => {
                            return Err(invalid(
                                "users-per-file",
                                &v,
                                "Expected a whole number greater than 0.".to_owned(),
                            ));
                        }
                    }
                }
            };
            Invocation::Export {
                settings,
                target,
                realm: arg("realm"),
                users,
                users_per_file,
            }
        }
        Command::BootstrapAdminUser => Invocation::BootstrapAdminUser {
            username: arg("username"),
            password_env: arg("password:env"),
            no_prompt: flag("no-prompt", false)?,
            settings,
        },
        Command::BootstrapAdminService => Invocation::BootstrapAdminService {
            client_id: arg("client-id"),
            client_secret_env: arg("client-secret:env"),
            no_prompt: flag("no-prompt", false)?,
            settings,
        },
    })
}

#[cfg(test)]
mod tests;
