//! The option table: every configuration option of the `portcullis` binary, declared once.
//!
//! Each row names the option (`--name` on the command line, `name=` in the conf file), its
//! environment variable (`KC_` + upper snake case), its default (which may differ for
//! `start-dev`), the kind of value it takes, whether it is secret, which commands read it and a
//! one-line description. Help output, show-config, the README table ([`markdown_table`]) and
//! the parsers all read this table; nothing else declares an option.

use std::fmt::Write as _;

/// The kind of value an option takes (used for parsing the command line and for help).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false` (case-insensitive); a value is required.
    Bool,
    /// A boolean that may be given bare (`--import-realm` means `true`).
    Flag,
    /// A TCP port, 0-65535.
    Port,
    /// A non-negative whole number.
    Count,
    /// A duration: whole seconds, or a number with `ms`, `s` or `m`.
    Duration,
    /// Free text, validated by the option's own rule.
    Text,
    /// A file-system path.
    Path,
    /// One of a fixed set of values.
    Choice(&'static [&'static str]),
    /// A comma-separated list.
    List,
}

impl Kind {
    /// The placeholder shown after the option name in help output.
    pub fn value_name(self) -> &'static str {
        match self {
            Kind::Bool | Kind::Flag => "true|false",
            Kind::Port => "port",
            Kind::Count => "number",
            Kind::Duration => "duration",
            Kind::Text => "value",
            Kind::Path => "path",
            Kind::Choice(_) => "value",
            Kind::List => "list",
        }
    }
}

/// Where an option's default comes from when no source sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    /// No default: the option is unset.
    Unset,
    /// A fixed value.
    Value(&'static str),
    /// The effective value of another (earlier) option.
    SameAs(&'static str),
    /// A sub-path of another (earlier) path option.
    Under(&'static str, &'static str),
    /// A fixed value, applied only when another option is set.
    WhenSet {
        /// The option whose presence enables the default.
        option: &'static str,
        /// The default value.
        value: &'static str,
    },
}

/// Which commands read an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only the server commands (`start`, `start-dev`) and `show-config`.
    Server,
    /// Every command.
    All,
}

/// Groups options in help output, show-config and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// Where configuration is read from.
    Config,
    /// The HTTP listener.
    Http,
    /// Running behind a reverse proxy.
    Proxy,
    /// The public host name and the issuer.
    Hostname,
    /// Health, metrics and the management port.
    Management,
    /// Realm import at start-up.
    Import,
    /// The database.
    Database,
    /// Logging.
    Logging,
    /// The temporary bootstrap admin.
    Bootstrap,
    /// Feature flags.
    Features,
}

impl Category {
    /// The heading used in help and show-config.
    pub fn title(self) -> &'static str {
        match self {
            Category::Config => "Configuration",
            Category::Http => "HTTP",
            Category::Proxy => "Proxy",
            Category::Hostname => "Hostname",
            Category::Management => "Management",
            Category::Import => "Realm import",
            Category::Database => "Database",
            Category::Logging => "Logging",
            Category::Bootstrap => "Bootstrap admin",
            Category::Features => "Features",
        }
    }
}

/// One configuration option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// The option name: `--name` on the command line, `name=` in the conf file.
    pub name: &'static str,
    /// The environment variable (`KC_` + upper snake case of the name).
    pub env: &'static str,
    /// An older environment variable still honoured (with a warning) when the option is not set.
    pub legacy_env: Option<&'static str>,
    /// The default for every command.
    pub default: DefaultValue,
    /// The default under `start-dev`, when it differs.
    pub dev_default: Option<&'static str>,
    /// The value kind.
    pub kind: Kind,
    /// Secret values are masked wherever they are shown.
    pub secret: bool,
    /// Which commands read the option.
    pub scope: Scope,
    /// The group it is listed under.
    pub category: Category,
    /// One-line description.
    pub help: &'static str,
}

impl OptionSpec {
    /// The option as written on the command line: `--name`.
    pub fn flag(&self) -> String {
        format!("--{}", self.name)
    }

    /// The default rendered for people (help, README), empty when unset.
    pub fn default_text(&self) -> String {
        let base = match self.default {
            DefaultValue::Unset => String::new(),
            DefaultValue::Value(v) => format!("`{v}`"),
            DefaultValue::SameAs(other) => format!("value of `{other}`"),
            DefaultValue::Under(other, sub) => format!("`<{other}>/{sub}`"),
            DefaultValue::WhenSet { option, value } => format!("`{value}` when `{option}` is set"),
        };
        match self.dev_default {
            Some(dev) if base.is_empty() => format!("`{dev}` in start-dev"),
            Some(dev) => format!("{base} (`{dev}` in start-dev)"),
            None => base,
        }
    }
}

const fn opt(
    name: &'static str,
    env: &'static str,
    kind: Kind,
    category: Category,
    help: &'static str,
) -> OptionSpec {
    OptionSpec {
        name,
        env,
        legacy_env: None,
        default: DefaultValue::Unset,
        dev_default: None,
        kind,
        secret: false,
        scope: Scope::All,
        category,
        help,
    }
}

const fn server(spec: OptionSpec) -> OptionSpec {
    OptionSpec {
        scope: Scope::Server,
        ..spec
    }
}

const fn default(spec: OptionSpec, value: &'static str) -> OptionSpec {
    OptionSpec {
        default: DefaultValue::Value(value),
        ..spec
    }
}

const fn dev(spec: OptionSpec, value: &'static str) -> OptionSpec {
    OptionSpec {
        dev_default: Some(value),
        ..spec
    }
}

const fn secret(spec: OptionSpec) -> OptionSpec {
    OptionSpec {
        secret: true,
        ..spec
    }
}

use Category as C;
use Kind as K;

/// Accepted values of `proxy-headers`.
pub const PROXY_HEADERS: &[&str] = &["forwarded", "xforwarded"];
/// Accepted values of `db` (`sqlite` is accepted too, as another name for `dev-file`).
pub const DB_KINDS: &[&str] = &["dev-file", "dev-mem", "postgres"];
/// Accepted values of `log-console-output`.
pub const LOG_OUTPUTS: &[&str] = &["default", "json"];

/// Every configuration option, in the order help and show-config list them.
pub const OPTIONS: &[OptionSpec] = &[
    // Configuration sources.
    default(
        opt(
            "config-file",
            "KC_CONFIG_FILE",
            K::Path,
            C::Config,
            "Configuration file of `name=value` lines read at start-up (also `-cf`).",
        ),
        "conf/portcullis.conf",
    ),
    default(
        opt(
            "data-dir",
            "KC_DATA_DIR",
            K::Path,
            C::Config,
            "Directory for local state: the embedded SQLite database and the import folder.",
        ),
        "data",
    ),
    opt(
        "optimized",
        "KC_OPTIMIZED",
        K::Flag,
        C::Config,
        "Accepted for compatibility with kc.sh; there is no separate build step, so it has no effect.",
    ),
    // HTTP listener.
    server(dev(
        default(
            opt(
                "http-enabled",
                "KC_HTTP_ENABLED",
                K::Bool,
                C::Http,
                "Serve plain HTTP; required by `start` until an HTTPS listener exists (TLS ends at the gateway).",
            ),
            "false",
        ),
        "true",
    )),
    server(default(
        opt(
            "http-host",
            "KC_HTTP_HOST",
            K::Text,
            C::Http,
            "Address the HTTP listener binds to.",
        ),
        "0.0.0.0",
    )),
    server(default(
        opt(
            "http-port",
            "KC_HTTP_PORT",
            K::Port,
            C::Http,
            "Port of the HTTP listener (0 picks a free port).",
        ),
        "8080",
    )),
    server(default(
        opt(
            "http-relative-path",
            "KC_HTTP_RELATIVE_PATH",
            K::Text,
            C::Http,
            "Path prefix of every public endpoint, e.g. `/auth` for the legacy layout.",
        ),
        "/",
    )),
    // Proxy.
    server(opt(
        "proxy-headers",
        "KC_PROXY_HEADERS",
        K::Choice(PROXY_HEADERS),
        C::Proxy,
        "Trust forwarding headers from the proxy: `forwarded` (RFC 7239) or `xforwarded` (X-Forwarded-*).",
    )),
    server(opt(
        "proxy-trusted-addresses",
        "KC_PROXY_TRUSTED_ADDRESSES",
        K::List,
        C::Proxy,
        "Comma-separated IP addresses or CIDR ranges allowed to send forwarding headers (default: any).",
    )),
    // Hostname.
    server(opt(
        "hostname",
        "KC_HOSTNAME",
        K::Text,
        C::Hostname,
        "Public address: a host name, or a full URL such as `https://sso.example.com/auth` that fixes the issuer.",
    )),
    server(opt(
        "hostname-admin",
        "KC_HOSTNAME_ADMIN",
        K::Text,
        C::Hostname,
        "Full URL under which the admin console is reached, when it differs from `hostname`.",
    )),
    server(dev(
        default(
            opt(
                "hostname-strict",
                "KC_HOSTNAME_STRICT",
                K::Bool,
                C::Hostname,
                "Require `hostname`; when false the public address is taken from each request.",
            ),
            "true",
        ),
        "false",
    )),
    server(default(
        opt(
            "hostname-backchannel-dynamic",
            "KC_HOSTNAME_BACKCHANNEL_DYNAMIC",
            K::Bool,
            C::Hostname,
            "Derive back-channel URLs from the request while the issuer stays `hostname` (needs a full URL).",
        ),
        "false",
    )),
    server(default(
        opt(
            "hostname-debug",
            "KC_HOSTNAME_DEBUG",
            K::Bool,
            C::Hostname,
            "Serve a page per realm showing how the public and back-channel URLs were resolved.",
        ),
        "false",
    )),
    // Management interface.
    server(default(
        opt(
            "health-enabled",
            "KC_HEALTH_ENABLED",
            K::Bool,
            C::Management,
            "Serve `/health`, `/health/live`, `/health/ready` and `/health/started` on the management port.",
        ),
        "false",
    )),
    server(default(
        opt(
            "metrics-enabled",
            "KC_METRICS_ENABLED",
            K::Bool,
            C::Management,
            "Serve Prometheus metrics at `/metrics` on the management port.",
        ),
        "false",
    )),
    server(default(
        opt(
            "event-metrics-user-enabled",
            "KC_EVENT_METRICS_USER_ENABLED",
            K::Bool,
            C::Management,
            "Count user (login) events in the `keycloak_user_events_total` metric; needs `metrics-enabled`.",
        ),
        "false",
    )),
    server(default(
        opt(
            "event-metrics-user-tags",
            "KC_EVENT_METRICS_USER_TAGS",
            K::List,
            C::Management,
            "Labels of the user event metric besides `event` and `error`: any of `realm`, `clientId`, `idp`.",
        ),
        "realm",
    )),
    server(opt(
        "event-metrics-user-events",
        "KC_EVENT_METRICS_USER_EVENTS",
        K::List,
        C::Management,
        "User events counted by the metric, in lower case (`login`, `code_to_token`, ...); unset counts all.",
    )),
    server(default(
        opt(
            "http-management-port",
            "KC_HTTP_MANAGEMENT_PORT",
            K::Port,
            C::Management,
            "Port of the management interface (0 picks a free port).",
        ),
        "9000",
    )),
    server(OptionSpec {
        default: DefaultValue::SameAs("http-relative-path"),
        ..opt(
            "http-management-relative-path",
            "KC_HTTP_MANAGEMENT_RELATIVE_PATH",
            K::Text,
            C::Management,
            "Path prefix of the management endpoints.",
        )
    }),
    server(OptionSpec {
        default: DefaultValue::SameAs("http-host"),
        ..opt(
            "http-management-host",
            "KC_HTTP_MANAGEMENT_HOST",
            K::Text,
            C::Management,
            "Address the management interface binds to.",
        )
    }),
    server(default(
        opt(
            "legacy-observability-interface",
            "KC_LEGACY_OBSERVABILITY_INTERFACE",
            K::Bool,
            C::Management,
            "Serve health and metrics on the main HTTP port instead of the management port.",
        ),
        "false",
    )),
    // Realm import at start-up.
    server(default(
        opt(
            "import-realm",
            "KC_IMPORT_REALM",
            K::Flag,
            C::Import,
            "At start-up, import every `*.json` realm file of the import directory; existing realms are skipped.",
        ),
        "false",
    )),
    server(OptionSpec {
        default: DefaultValue::Under("data-dir", "import"),
        ..opt(
            "import-dir",
            "KC_IMPORT_DIR",
            K::Path,
            C::Import,
            "Directory read by `--import-realm`.",
        )
    }),
    server(default(
        opt(
            "theme-dir",
            "KC_THEME_DIR",
            K::Path,
            C::Http,
            "Folder whose `login/*.html`, `email/html/*.html` and `email/text/*.txt` templates replace the built-in pages and mails of the same name.",
        ),
        "themes",
    )),
    // Database.
    default(
        opt(
            "db",
            "KC_DB",
            K::Choice(DB_KINDS),
            C::Database,
            "Database: `dev-file` (embedded SQLite file, alias `sqlite`), `dev-mem` (in-memory SQLite) or `postgres`.",
        ),
        "dev-file",
    ),
    opt(
        "db-url",
        "KC_DB_URL",
        K::Text,
        C::Database,
        "Database URL: `jdbc:postgresql://host:5432/db?...`, `postgres://host/db`, or a `sqlite:` URL/path for dev-file.",
    ),
    opt(
        "db-url-host",
        "KC_DB_URL_HOST",
        K::Text,
        C::Database,
        "PostgreSQL host, to build the URL when `db-url` is not given.",
    ),
    opt(
        "db-url-port",
        "KC_DB_URL_PORT",
        K::Port,
        C::Database,
        "PostgreSQL port for the built URL (5432 when unset).",
    ),
    opt(
        "db-url-database",
        "KC_DB_URL_DATABASE",
        K::Text,
        C::Database,
        "PostgreSQL database for the built URL (`keycloak` when unset).",
    ),
    opt(
        "db-url-properties",
        "KC_DB_URL_PROPERTIES",
        K::Text,
        C::Database,
        "Query properties appended to the built URL, e.g. `?sslmode=require`.",
    ),
    opt(
        "db-username",
        "KC_DB_USERNAME",
        K::Text,
        C::Database,
        "Database user name.",
    ),
    secret(opt(
        "db-password",
        "KC_DB_PASSWORD",
        K::Text,
        C::Database,
        "Database password.",
    )),
    opt(
        "db-schema",
        "KC_DB_SCHEMA",
        K::Text,
        C::Database,
        "PostgreSQL schema holding the tables (`public` when unset).",
    ),
    default(
        opt(
            "db-pool-min-size",
            "KC_DB_POOL_MIN_SIZE",
            K::Count,
            C::Database,
            "Connections the pool keeps open when idle.",
        ),
        "0",
    ),
    default(
        opt(
            "db-pool-max-size",
            "KC_DB_POOL_MAX_SIZE",
            K::Count,
            C::Database,
            "Most connections the pool opens.",
        ),
        "20",
    ),
    default(
        opt(
            "db-pool-acquire-timeout",
            "KC_DB_POOL_ACQUIRE_TIMEOUT",
            K::Duration,
            C::Database,
            "How long a request waits for a free connection (seconds, or with `ms`/`s`/`m`).",
        ),
        "5s",
    ),
    // Logging.
    default(
        opt(
            "log",
            "KC_LOG",
            K::List,
            C::Logging,
            "Log handlers; only `console` is supported.",
        ),
        "console",
    ),
    default(
        opt(
            "log-level",
            "KC_LOG_LEVEL",
            K::Text,
            C::Logging,
            "Root level then `category:level` pairs, e.g. `info,org.keycloak.events:debug`.",
        ),
        "info",
    ),
    default(
        opt(
            "log-console-output",
            "KC_LOG_CONSOLE_OUTPUT",
            K::Choice(LOG_OUTPUTS),
            C::Logging,
            "Console log format: `default` (text) or `json`.",
        ),
        "default",
    ),
    // Bootstrap admin.
    OptionSpec {
        legacy_env: Some("KEYCLOAK_ADMIN"),
        default: DefaultValue::WhenSet {
            option: "bootstrap-admin-password",
            value: "temp-admin",
        },
        ..opt(
            "bootstrap-admin-username",
            "KC_BOOTSTRAP_ADMIN_USERNAME",
            K::Text,
            C::Bootstrap,
            "User name of the temporary master-realm admin created when the master realm has no admin.",
        )
    },
    OptionSpec {
        legacy_env: Some("KEYCLOAK_ADMIN_PASSWORD"),
        ..secret(opt(
            "bootstrap-admin-password",
            "KC_BOOTSTRAP_ADMIN_PASSWORD",
            K::Text,
            C::Bootstrap,
            "Password of the temporary master-realm admin.",
        ))
    },
    OptionSpec {
        default: DefaultValue::WhenSet {
            option: "bootstrap-admin-client-secret",
            value: "temp-admin",
        },
        ..opt(
            "bootstrap-admin-client-id",
            "KC_BOOTSTRAP_ADMIN_CLIENT_ID",
            K::Text,
            C::Bootstrap,
            "Client id of a temporary master-realm admin service account.",
        )
    },
    secret(opt(
        "bootstrap-admin-client-secret",
        "KC_BOOTSTRAP_ADMIN_CLIENT_SECRET",
        K::Text,
        C::Bootstrap,
        "Client secret of the temporary admin service account.",
    )),
    // Features.
    opt(
        "features",
        "KC_FEATURES",
        K::List,
        C::Features,
        "Comma-separated features to enable, e.g. `token-exchange`.",
    ),
    opt(
        "features-disabled",
        "KC_FEATURES_DISABLED",
        K::List,
        C::Features,
        "Comma-separated features to disable.",
    ),
];

/// Environment variables starting with `KC_` that are not options but are known, so they raise
/// no "unknown variable" warning (the Keycloak container image sets the first).
pub const KNOWN_NON_OPTION_ENV: &[&str] = &["KC_RUN_IN_CONTAINER", "KC_HOME_DIR"];

/// The option called `name`.
pub fn option(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// The option read from environment variable `var`.
pub fn option_by_env(var: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.env == var)
}

/// `KC_` + upper snake case of an option name.
pub fn env_name(name: &str) -> String {
    format!("KC_{}", name.to_ascii_uppercase().replace('-', "_"))
}

/// The candidate closest to `given`, if any is close enough to be a likely typo: a similar
/// prefix (Jaro-Winkler), few edits relative to the length (Damerau-Levenshtein), or a single
/// edit. A `KC_` prefix shared by both is ignored.
pub(crate) fn closest<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(f64, &'a str)> = None;
    for candidate in candidates {
        let (g, c) = match (given.strip_prefix("KC_"), candidate.strip_prefix("KC_")) {
            (Some(g), Some(c)) => (g, c),
            _ => (given, candidate),
        };
        let mut score =
            strsim::jaro_winkler(g, c).max(strsim::normalized_damerau_levenshtein(g, c));
        if g.len() >= 3 && strsim::damerau_levenshtein(g, c) == 1 {
            score = score.max(0.8);
        }
        if score >= 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// The README's configuration table: `| option | env | default | description |`, one row per
/// option in table order.
pub fn markdown_table() -> String {
    let mut out = String::from("| option | env | default | description |\n|---|---|---|---|\n");
    for o in OPTIONS {
        let mut description = o.help.to_owned();
        if o.secret {
            description.push_str(" Secret: masked in show-config.");
        }
        if o.scope == Scope::Server {
            description.push_str(" Read by `start` and `start-dev`.");
        }
        let _ = writeln!(
            out,
            "| `--{}` | `{}` | {} | {} |",
            o.name,
            o.env,
            o.default_text().replace('|', "\\|"),
            description.replace('|', "\\|"),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_follow_the_rule() {
        for o in OPTIONS {
            assert_eq!(o.env, env_name(o.name), "{}", o.name);
        }
    }

    #[test]
    fn names_are_unique_and_defaults_refer_to_earlier_options() {
        for (i, o) in OPTIONS.iter().enumerate() {
            assert_eq!(
                OPTIONS.iter().filter(|p| p.name == o.name).count(),
                1,
                "{}",
                o.name
            );
            assert!(!o.help.is_empty(), "{} has no help", o.name);
            match o.default {
                DefaultValue::SameAs(other) | DefaultValue::Under(other, _) => {
                    let j = OPTIONS.iter().position(|p| p.name == other);
                    assert!(j.is_some_and(|j| j < i), "{} refers to {other}", o.name);
                }
                DefaultValue::WhenSet { option: other, .. } => {
                    assert!(option(other).is_some(), "{} refers to {other}", o.name);
                }
                DefaultValue::Unset | DefaultValue::Value(_) => {}
            }
        }
    }

    #[test]
    fn suggestions() {
        let names = || OPTIONS.iter().map(|o| o.name);
        let check =
            |given: &str, want: Option<&str>| assert_eq!(closest(given, names()), want, "{given}");
        check("http-prot", Some("http-port"));
        check("hostname-stict", Some("hostname-strict"));
        check("db-user", Some("db-username"));
        check("dri", None);
        check("ipmort-realm", Some("import-realm"));
        check("db-usrname", Some("db-username"));
        check("zzz", None);
    }

    #[test]
    fn markdown_has_a_row_per_option() {
        let table = markdown_table();
        assert_eq!(table.lines().count(), OPTIONS.len() + 2);
        assert!(
            table.contains(
                "| `--http-enabled` | `KC_HTTP_ENABLED` | `false` (`true` in start-dev) |"
            )
        );
        assert!(table.contains("| `--http-management-relative-path` | `KC_HTTP_MANAGEMENT_RELATIVE_PATH` | value of `http-relative-path` |"));
    }
}
