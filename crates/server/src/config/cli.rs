//! The command line: `portcullis [OPTIONS] COMMAND [ARGS] [OPTIONS]`, kc.sh style.
//!
//! Commands are `start-dev`, `start`, `import`, `export`, `bootstrap-admin user|service` and
//! `show-config [all]`. Options are written `--name=value` or `--name value`; flags may be bare
//! (`--import-realm`). Configuration options may also come before the command. Besides the
//! configuration options of the table, each command has its own command-line-only arguments
//! ([`COMMAND_OPTIONS`]). This module only splits and recognises; values are checked later.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;

use super::error::ConfigError;
use super::options::{self, Category, Kind, OPTIONS, OptionSpec, Scope};
use super::source::{Given, Source};

/// A command of the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// `start-dev`: development mode.
    StartDev,
    /// `start`: production mode.
    Start,
    /// `import`: load realms from files, server stopped.
    Import,
    /// `export`: write realms to files.
    Export,
    /// `bootstrap-admin user`: create a temporary admin user.
    BootstrapAdminUser,
    /// `bootstrap-admin service`: create a temporary admin service account.
    BootstrapAdminService,
    /// `show-config`: print the effective configuration.
    ShowConfig,
}

/// Every command with its one-line description, in help order.
pub const COMMANDS: &[(Command, &str)] = &[
    (
        Command::StartDev,
        "Start in development mode: HTTP on, hostname not strict, embedded SQLite database.",
    ),
    (
        Command::Start,
        "Start in production mode: needs --http-enabled=true and a hostname (or --hostname-strict=false).",
    ),
    (
        Command::Import,
        "Import realms from a directory (--dir) or a file (--file); run it with the server stopped.",
    ),
    (
        Command::Export,
        "Export realms to a directory (--dir) or a file (--file).",
    ),
    (
        Command::BootstrapAdminUser,
        "Create a temporary admin user in the master realm.",
    ),
    (
        Command::BootstrapAdminService,
        "Create a temporary admin service account (client) in the master realm.",
    ),
    (
        Command::ShowConfig,
        "Print the effective configuration and where each value comes from ('all' includes defaults).",
    ),
];

impl Command {
    /// The command as typed.
    pub fn name(self) -> &'static str {
        match self {
            Command::StartDev => "start-dev",
            Command::Start => "start",
            Command::Import => "import",
            Command::Export => "export",
            Command::BootstrapAdminUser => "bootstrap-admin user",
            Command::BootstrapAdminService => "bootstrap-admin service",
            Command::ShowConfig => "show-config",
        }
    }

    /// True when the command reads `spec` from any source.
    pub fn reads(self, spec: &OptionSpec) -> bool {
        spec.scope == Scope::All
            || matches!(
                self,
                Command::StartDev | Command::Start | Command::ShowConfig
            )
    }
}

/// A command-line-only argument of some commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandOption {
    /// The name after `--`.
    pub name: &'static str,
    /// The command that takes it.
    pub command: Command,
    /// Its value kind.
    pub kind: Kind,
    /// One-line description.
    pub help: &'static str,
}

const fn arg(
    name: &'static str,
    command: Command,
    kind: Kind,
    help: &'static str,
) -> CommandOption {
    CommandOption {
        name,
        command,
        kind,
        help,
    }
}

/// Accepted values of `export --users`.
pub const USERS_STRATEGIES: &[&str] = &["different_files", "skip", "realm_file", "same_file"];

/// The arguments of `import`, `export` and `bootstrap-admin`.
pub const COMMAND_OPTIONS: &[CommandOption] = &[
    arg(
        "dir",
        Command::Import,
        Kind::Path,
        "Directory of realm files (<realm>-realm.json, <realm>-users-<n>.json) to import.",
    ),
    arg(
        "file",
        Command::Import,
        Kind::Path,
        "A single JSON file holding one realm or an array of realms.",
    ),
    arg(
        "override",
        Command::Import,
        Kind::Flag,
        "Replace realms that already exist (default true); false skips them.",
    ),
    arg(
        "dir",
        Command::Export,
        Kind::Path,
        "Directory to write <realm>-realm.json and user files into.",
    ),
    arg(
        "file",
        Command::Export,
        Kind::Path,
        "A single file to write all exported realms into.",
    ),
    arg(
        "realm",
        Command::Export,
        Kind::Text,
        "Export only this realm (default: all realms).",
    ),
    arg(
        "users",
        Command::Export,
        Kind::Choice(USERS_STRATEGIES),
        "Where users go: different_files (default with --dir), skip, realm_file (default with --file), same_file.",
    ),
    arg(
        "users-per-file",
        Command::Export,
        Kind::Count,
        "Users per file with --users=different_files (default 50).",
    ),
    arg(
        "username",
        Command::BootstrapAdminUser,
        Kind::Text,
        "User name of the temporary admin (default temp-admin).",
    ),
    arg(
        "password:env",
        Command::BootstrapAdminUser,
        Kind::Text,
        "Name of the environment variable holding the password.",
    ),
    arg(
        "no-prompt",
        Command::BootstrapAdminUser,
        Kind::Flag,
        "Never ask on the terminal; fail when a value is missing.",
    ),
    arg(
        "client-id",
        Command::BootstrapAdminService,
        Kind::Text,
        "Client id of the temporary admin service account (default temp-admin).",
    ),
    arg(
        "client-secret:env",
        Command::BootstrapAdminService,
        Kind::Text,
        "Name of the environment variable holding the client secret.",
    ),
    arg(
        "no-prompt",
        Command::BootstrapAdminService,
        Kind::Flag,
        "Never ask on the terminal; fail when a value is missing.",
    ),
];

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// Print this text (help or version) and stop.
    Help(String),
    /// Run a command.
    Run(CommandLine),
}

/// A recognised command line.
#[derive(Debug)]
pub(crate) struct CommandLine {
    pub command: Command,
    /// Configuration options, in the order given.
    pub options: Vec<Given>,
    /// Command arguments by name (the last one given wins).
    pub args: BTreeMap<&'static str, String>,
    /// `show-config all`.
    pub all: bool,
}

/// Where `config-file` points according to the command line (`--config-file`, `-cf`), if given.
pub(crate) fn config_file_arg(args: &[OsString]) -> Option<String> {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut found = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if let Some(v) = a
            .strip_prefix("--config-file=")
            .or_else(|| a.strip_prefix("-cf="))
        {
            found = Some(v.to_owned());
        } else if (a == "--config-file" || a == "-cf") && i + 1 < args.len() {
            found = Some(args[i + 1].clone());
            i += 1;
        }
        i += 1;
    }
    found
}

/// Splits and recognises the arguments (without the program name).
pub(crate) fn parse_args(raw: &[OsString]) -> Result<Parsed, ConfigError> {
    let mut args = Vec::with_capacity(raw.len());
    for a in raw {
        match a.to_str() {
            Some(s) => args.push(s.to_owned()),
            None => {
                return Err(ConfigError::Invalid(format!(
                    "Argument '{}' is not valid UTF-8.",
                    a.to_string_lossy()
                )));
            }
        }
    }
    if args.is_empty() {
        return Ok(Parsed::Help(main_help()));
    }

    // Options before the command.
    let mut i = 0;
    let mut early: Vec<(String, &'static OptionSpec, String)> = Vec::new();
    let command = loop {
        let Some(token) = args.get(i) else {
            return Err(ConfigError::MissingCommand);
        };
        i += 1;
        match token.as_str() {
            "-h" | "--help" | "help" => return Ok(Parsed::Help(main_help())),
            "-V" | "--version" => return Ok(Parsed::Help(version())),
            t if t.starts_with('-') => {
                let (typed, name, inline) = split_option(t);
                let Some(spec) = options::option(name) else {
                    return Err(ConfigError::UnknownOption {
                        given: typed.clone(),
                        suggestion: options::closest(name, OPTIONS.iter().map(|o| o.name))
                            .map(|n| format!("--{n}")),
                    });
                };
                let value = take_value(&typed, inline, spec.kind, &args, &mut i)?;
                early.push((typed, spec, value));
            }
            word => match command_word(word, &args, &mut i)? {
                Some(command) => break command,
                None => return Ok(Parsed::Help(bootstrap_admin_help())),
            },
        }
    };

    let mut line = CommandLine {
        command,
        options: Vec::new(),
        args: BTreeMap::new(),
        all: false,
    };
    for (typed, spec, value) in early {
        line.options
            .push(config_option(command, typed, spec, value)?);
    }
    while let Some(token) = args.get(i) {
        i += 1;
        match token.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help(command_help(command))),
            "-V" | "--version" => return Ok(Parsed::Help(version())),
            t if t.starts_with('-') => {
                let (typed, name, inline) = split_option(t);
                if let Some(own) = COMMAND_OPTIONS
                    .iter()
                    .find(|o| o.name == name && o.command == command)
                {
                    let value = take_value(&typed, inline, own.kind, &args, &mut i)?;
                    line.args.insert(own.name, value);
                } else if let Some(spec) = options::option(name) {
                    let value = take_value(&typed, inline, spec.kind, &args, &mut i)?;
                    line.options
                        .push(config_option(command, typed, spec, value)?);
                } else {
                    return Err(unknown_for(command, typed, name));
                }
            }
            "all" if command == Command::ShowConfig && !line.all => line.all = true,
            other => {
                // `--flag maybe`: the word was meant as the flag's value.
                if let Some(flag) = i
                    .checked_sub(2)
                    .and_then(|p| args.get(p))
                    .filter(|p| p.starts_with("--") && !p.contains('='))
                    .filter(|p| kind_for(command, &p[2..]) == Some(Kind::Flag))
                {
                    return Err(ConfigError::InvalidValue {
                        option: format!("'{flag}'"),
                        value: other.to_owned(),
                        expected: "Expected values are: true, false.".to_owned(),
                    });
                }
                return Err(ConfigError::UnexpectedArgument {
                    given: other.to_owned(),
                    command: command.name().to_owned(),
                });
            }
        }
    }
    Ok(Parsed::Run(line))
}

/// The command named by `word` (reading `bootstrap-admin`'s sub-command); `None` asks for the
/// help of `bootstrap-admin`.
fn command_word(
    word: &str,
    args: &[String],
    i: &mut usize,
) -> Result<Option<Command>, ConfigError> {
    Ok(Some(match word {
        "start-dev" => Command::StartDev,
        "start" => Command::Start,
        "import" => Command::Import,
        "export" => Command::Export,
        "show-config" => Command::ShowConfig,
        "bootstrap-admin" => {
            let sub = args.get(*i).map(String::as_str);
            *i += 1;
            match sub {
                Some("user") => Command::BootstrapAdminUser,
                Some("service") => Command::BootstrapAdminService,
                Some("-h" | "--help") => return Ok(None),
                Some(other) => {
                    return Err(ConfigError::UnknownCommand {
                        given: format!("bootstrap-admin {other}"),
                        suggestion: options::closest(other, ["user", "service"])
                            .map(|s| format!("bootstrap-admin {s}")),
                    });
                }
                None => {
                    return Err(ConfigError::Invalid(
                        "The 'bootstrap-admin' command needs a sub-command: 'user' or 'service'."
                            .to_owned(),
                    ));
                }
            }
        }
        "build" => {
            return Err(ConfigError::UnsupportedCommand {
                command: "build".to_owned(),
                reason: "portcullis has no build step; run 'start' directly (the '--optimized' flag is accepted and ignored).".to_owned(),
            });
        }
        "tools" => {
            return Err(ConfigError::UnsupportedCommand {
                command: "tools".to_owned(),
                reason: "shell completion is not provided.".to_owned(),
            });
        }
        other => {
            let names = [
                "start-dev",
                "start",
                "import",
                "export",
                "bootstrap-admin",
                "show-config",
            ];
            return Err(ConfigError::UnknownCommand {
                given: other.to_owned(),
                suggestion: options::closest(other, names).map(str::to_owned),
            });
        }
    }))
}

fn bootstrap_admin_help() -> String {
    "Usage: portcullis bootstrap-admin user|service [OPTIONS]\n\n\
     user     Create a temporary admin user in the master realm.\n\
     service  Create a temporary admin service account (client) in the master realm.\n\n\
     Run 'portcullis bootstrap-admin user --help' for the options.\n"
        .to_owned()
}

/// The kind of option `name` as `command` reads it.
fn kind_for(command: Command, name: &str) -> Option<Kind> {
    COMMAND_OPTIONS
        .iter()
        .find(|o| o.name == name && o.command == command)
        .map(|o| o.kind)
        .or_else(|| options::option(name).map(|o| o.kind))
}

/// `--name=value` → (`--name`, `name`, Some(`value`)); `-cf` is `--config-file`.
fn split_option(token: &str) -> (String, &str, Option<&str>) {
    let (typed, inline) = match token.split_once('=') {
        Some((t, v)) => (t, Some(v)),
        None => (token, None),
    };
    let name = match typed {
        "-cf" => "config-file",
        t => t.strip_prefix("--").unwrap_or(t),
    };
    (typed.to_owned(), name, inline)
}

fn take_value(
    typed: &str,
    inline: Option<&str>,
    kind: Kind,
    args: &[String],
    i: &mut usize,
) -> Result<String, ConfigError> {
    let missing = || ConfigError::MissingValue {
        option: typed.to_owned(),
        expected: expected_for(kind),
    };
    if let Some(v) = inline {
        return if v.is_empty() {
            Err(missing())
        } else {
            Ok(v.to_owned())
        };
    }
    let next = args.get(*i);
    if kind == Kind::Flag {
        return Ok(match next {
            Some(v) if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") => {
                *i += 1;
                v.clone()
            }
            _ => "true".to_owned(),
        });
    }
    match next {
        Some(v) if !v.starts_with("--") && !v.is_empty() => {
            *i += 1;
            Ok(v.clone())
        }
        _ => Err(missing()),
    }
}

fn expected_for(kind: Kind) -> String {
    match kind {
        Kind::Choice(values) => format!("one of: {}", values.join(", ")),
        other => other.value_name().to_owned(),
    }
}

fn config_option(
    command: Command,
    typed: String,
    spec: &'static OptionSpec,
    value: String,
) -> Result<Given, ConfigError> {
    if !command.reads(spec) {
        return Err(ConfigError::OptionNotForCommand {
            option: typed,
            command: command.name().to_owned(),
            applies_to: "the start, start-dev and show-config commands".to_owned(),
        });
    }
    Ok(Given {
        spec,
        value,
        source: Source::Cli,
    })
}

fn unknown_for(command: Command, typed: String, name: &str) -> ConfigError {
    let owners: Vec<&str> = COMMAND_OPTIONS
        .iter()
        .filter(|o| o.name == name)
        .map(|o| o.command.name())
        .collect();
    if !owners.is_empty() {
        return ConfigError::OptionNotForCommand {
            option: typed,
            command: command.name().to_owned(),
            applies_to: format!(
                "the {} command{}",
                owners.join(" and "),
                plural(owners.len())
            ),
        };
    }
    let candidates = COMMAND_OPTIONS
        .iter()
        .filter(|o| o.command == command)
        .map(|o| o.name)
        .chain(OPTIONS.iter().filter(|o| command.reads(o)).map(|o| o.name));
    ConfigError::UnknownOption {
        given: typed,
        suggestion: options::closest(name, candidates).map(|n| format!("--{n}")),
    }
}

fn plural(n: usize) -> &'static str {
    if n > 1 { "s" } else { "" }
}

/// `portcullis <version>`.
pub(crate) fn version() -> String {
    format!("portcullis {}\n", env!("CARGO_PKG_VERSION"))
}

/// The top-level help.
pub(crate) fn main_help() -> String {
    let mut out = String::from(
        "Portcullis: a Keycloak-compatible identity server.\n\n\
         Usage: portcullis [OPTIONS] COMMAND [ARGS]\n\nCommands:\n",
    );
    for (command, help) in COMMANDS {
        let _ = writeln!(out, "  {:<25} {help}", command.name());
    }
    out.push_str(
        "\nOptions:\n  -cf, --config-file <path>  Configuration file (default conf/portcullis.conf).\n  \
         -h, --help                 Show help; 'portcullis COMMAND --help' lists a command's options.\n  \
         -V, --version              Show the version.\n\n\
         Every configuration option --name can also be set as the environment variable KC_NAME\n\
         (upper case, '-' as '_') or as a 'name=value' line in the configuration file.\n\
         Precedence: command line, then environment, then file, then defaults.\n",
    );
    out
}

/// The help of one command: its arguments, then the configuration options it reads.
pub(crate) fn command_help(command: Command) -> String {
    let mut out = String::new();
    let about = COMMANDS
        .iter()
        .find(|(c, _)| *c == command)
        .map_or("", |(_, h)| *h);
    let positional = if command == Command::ShowConfig {
        " [all]"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "Usage: portcullis {}{positional} [OPTIONS]\n\n{about}\n",
        command.name()
    );
    let own: Vec<&CommandOption> = COMMAND_OPTIONS
        .iter()
        .filter(|o| o.command == command)
        .collect();
    if !own.is_empty() {
        out.push_str("Command options:\n");
        for o in own {
            let usage = match o.kind {
                Kind::Flag => format!("--{}[=true|false]", o.name),
                Kind::Choice(v) => format!("--{} <{}>", o.name, v.join("|")),
                k => format!("--{} <{}>", o.name, k.value_name()),
            };
            let _ = writeln!(out, "  {usage}\n        {}", o.help);
        }
        out.push('\n');
    }
    out.push_str(
        "Configuration options (also KC_NAME in the environment, or name=value in the configuration file):\n",
    );
    let mut category: Option<Category> = None;
    for o in OPTIONS.iter().filter(|o| command.reads(o)) {
        if category != Some(o.category) {
            category = Some(o.category);
            let _ = writeln!(out, "\n{}:", o.category.title());
        }
        let usage = match o.kind {
            Kind::Flag => format!("--{}[=true|false]", o.name),
            Kind::Choice(v) => format!("--{} <{}>", o.name, v.join("|")),
            k => format!("--{} <{}>", o.name, k.value_name()),
        };
        let _ = write!(
            out,
            "  {usage}\n        {} Env: {}.",
            o.help.replace('`', "'"),
            o.env
        );
        let default = o.default_text().replace('`', "");
        if !default.is_empty() {
            let _ = write!(out, " Default: {default}.");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Parsed, ConfigError> {
        let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
        parse_args(&args)
    }

    fn run(line: &str) -> CommandLine {
        match parse(line) {
            Ok(Parsed::Run(l)) => l,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn error(line: &str) -> String {
        match parse(line) {
            Err(e) => e.to_string(),
            other => panic!("{line}: expected an error, got {other:?}"),
        }
    }

    fn values(l: &CommandLine) -> Vec<(&str, &str)> {
        l.options
            .iter()
            .map(|g| (g.spec.name, g.value.as_str()))
            .collect()
    }

    #[test]
    fn option_forms() {
        let l = run(
            "start --http-port=8081 --hostname sso.example.com --import-realm --http-enabled true",
        );
        assert_eq!(l.command, Command::Start);
        assert_eq!(
            values(&l),
            vec![
                ("http-port", "8081"),
                ("hostname", "sso.example.com"),
                ("import-realm", "true"),
                ("http-enabled", "true"),
            ]
        );
        let l = run("start-dev --import-realm=false --import-realm FALSE");
        assert_eq!(
            values(&l),
            vec![("import-realm", "false"), ("import-realm", "FALSE")]
        );
        let l = run("--config-file=x.conf start-dev -cf y.conf");
        assert_eq!(
            values(&l),
            vec![("config-file", "x.conf"), ("config-file", "y.conf")]
        );
        let l = run("start-dev --import-realm --http-port 1");
        assert_eq!(
            values(&l),
            vec![("import-realm", "true"), ("http-port", "1")]
        );
    }

    #[test]
    fn command_arguments() {
        let l = run("export --dir out --realm myrealm --users realm_file");
        assert_eq!(l.command, Command::Export);
        assert_eq!(l.args.get("dir").map(String::as_str), Some("out"));
        assert_eq!(l.args.get("users").map(String::as_str), Some("realm_file"));
        let l = run("bootstrap-admin user --username tmp --password:env=PASS --no-prompt");
        assert_eq!(l.command, Command::BootstrapAdminUser);
        assert_eq!(l.args.get("password:env").map(String::as_str), Some("PASS"));
        assert_eq!(l.args.get("no-prompt").map(String::as_str), Some("true"));
        let l = run("show-config all");
        assert!(l.all);
        assert!(!run("show-config").all);
    }

    #[test]
    fn errors() {
        let check = |line: &str, want: &str| assert_eq!(error(line), want, "{line}");
        check(
            "start --http-prot=1",
            "Unknown option: '--http-prot'. Did you mean '--http-port'?",
        );
        check(
            "start --http-port",
            "Option '--http-port' needs a value (port).",
        );
        check(
            "start --http-port --hostname x",
            "Option '--http-port' needs a value (port).",
        );
        check(
            "start --http-port=",
            "Option '--http-port' needs a value (port).",
        );
        check(
            "start --proxy-headers",
            "Option '--proxy-headers' needs a value (one of: forwarded, xforwarded).",
        );
        check(
            "start --file x.json",
            "Option '--file' is not available for the 'start' command; it applies to the import and export commands.",
        );
        check(
            "export --dir d --import-realm",
            "Option '--import-realm' is not available for the 'export' command; it applies to the start, start-dev and show-config commands.",
        );
        check(
            "--hostname=x import --dir d",
            "Option '--hostname' is not available for the 'import' command; it applies to the start, start-dev and show-config commands.",
        );
        check("strat", "Unknown command: 'strat'. Did you mean 'start'?");
        check("frobnicate", "Unknown command: 'frobnicate'.");
        check(
            "--http-port=1",
            "No command given. Run 'portcullis --help' for the list of commands.",
        );
        check(
            "start extra",
            "Unexpected argument 'extra' for the 'start' command.",
        );
        check(
            "bootstrap-admin usr",
            "Unknown command: 'bootstrap-admin usr'. Did you mean 'bootstrap-admin user'?",
        );
        check(
            "bootstrap-admin user --client-id x",
            "Option '--client-id' is not available for the 'bootstrap-admin user' command; it applies to the bootstrap-admin service command.",
        );
        check(
            "import --dri d",
            "Unknown option: '--dri'. Did you mean '--dir'?",
        );
        check(
            "build",
            "The 'build' command is not available: portcullis has no build step; run 'start' directly (the '--optimized' flag is accepted and ignored).",
        );
    }

    #[test]
    fn help_and_version() {
        let text = |line: &str| match parse(line) {
            Ok(Parsed::Help(t)) => t,
            other => panic!("{line}: {other:?}"),
        };
        assert!(text("").contains("Usage: portcullis [OPTIONS] COMMAND"));
        assert!(text("--help").contains("start-dev"));
        assert!(text("-h").contains("show-config"));
        assert!(text("--version").starts_with("portcullis "));
        let start = text("start --help");
        assert!(start.contains("--http-relative-path <value>"));
        assert!(start.contains("Env: KC_HTTP_RELATIVE_PATH."));
        assert!(start.contains("Default: false (true in start-dev)."));
        let export = text("export -h");
        assert!(export.contains("--users <different_files|skip|realm_file|same_file>"));
        assert!(start.contains("--import-realm[=true|false]"));
        assert!(!export.contains("--hostname "));
        assert!(export.contains("--db <dev-file|dev-mem|postgres>"));
    }
}
