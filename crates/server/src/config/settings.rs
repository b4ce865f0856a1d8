//! `Settings`: the typed, validated configuration the server runs with, built from the layered
//! raw values, plus the show-config rendering.
//!
//! Invariants: every value in `Settings` has passed its option's rule; the mode rules of `start`
//! and `start-dev` hold; secrets are `Secret`s and are masked by `Debug` and `show`. Error
//! messages name the option as the user wrote it.

use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::cli::Command;
use super::error::ConfigError;
use super::jdbc::{self, SqliteTarget};
use super::log::{self, LogOutput, LogSettings};
use super::net::{self, Hostname, IpNet};
use super::options::{self, DB_KINDS, Kind};
use super::secret::{MASK, Secret};
use super::source::{Given, Resolved, Source};

/// Development (`start-dev`) or production (every other command).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `start-dev`: development defaults apply.
    Dev,
    /// Production defaults.
    Prod,
}

/// The HTTP listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// `http-enabled`.
    pub enabled: bool,
    /// `http-host`: the bind address (brackets of an IPv6 literal removed).
    pub host: String,
    /// `http-port`.
    pub port: u16,
    /// `http-relative-path`, normalised: starts with `/`, no trailing slash unless root.
    pub relative_path: String,
}

/// Which forwarding headers to trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeaders {
    /// RFC 7239 `Forwarded`.
    Forwarded,
    /// `X-Forwarded-For`, `-Proto`, `-Host`, `-Port`.
    XForwarded,
}

/// Running behind a reverse proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySettings {
    /// `proxy-headers`; `None` ignores forwarding headers.
    pub headers: Option<ProxyHeaders>,
    /// `proxy-trusted-addresses`; empty means any peer.
    pub trusted: Vec<IpNet>,
}

/// The public address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostnameSettings {
    /// `hostname`.
    pub hostname: Option<Hostname>,
    /// `hostname-admin`.
    pub admin: Option<Url>,
    /// `hostname-strict`.
    pub strict: bool,
    /// `hostname-backchannel-dynamic` (only true with a full-URL hostname).
    pub backchannel_dynamic: bool,
    /// `hostname-debug`.
    pub debug: bool,
}

/// The management interface (health and metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagementSettings {
    /// `health-enabled`.
    pub health_enabled: bool,
    /// `metrics-enabled`.
    pub metrics_enabled: bool,
    /// `http-management-host`.
    pub host: String,
    /// `http-management-port`.
    pub port: u16,
    /// `http-management-relative-path`, normalised like the HTTP one.
    pub relative_path: String,
    /// `legacy-observability-interface`: serve health and metrics on the main port.
    pub legacy_observability_interface: bool,
    /// `event-metrics-user-*`: counting user events (only with `metrics-enabled`).
    pub event_metrics: Option<EventMetricsSettings>,
}

/// Which labels and events the user event metric (`keycloak_user_events_total`) has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMetricsSettings {
    /// The `realm` label.
    pub realm: bool,
    /// The `client_id` label.
    pub client_id: bool,
    /// The `idp` label (always empty: identity brokering is not supported).
    pub idp: bool,
    /// The event types counted; `None`: all.
    pub events: Option<Vec<portcullis_model::events::EventType>>,
}

/// Realm import at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSettings {
    /// `import-realm`.
    pub import_realm: bool,
    /// `import-dir`.
    pub dir: PathBuf,
    /// `theme-dir`: login page overrides (`login/*.html`).
    pub theme_dir: PathBuf,
}

/// Which database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbKind {
    /// Embedded SQLite in this file (`dev-file`).
    SqliteFile(PathBuf),
    /// In-memory SQLite (`dev-mem`), lost on exit.
    SqliteMemory,
    /// PostgreSQL at [`DbSettings::url`].
    Postgres,
}

/// The database connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSettings {
    /// Which database.
    pub kind: DbKind,
    /// For PostgreSQL: `postgres://host[:port]/db[?params]`, without credentials.
    pub url: Option<String>,
    /// `db-username`, else the URL's user.
    pub username: Option<String>,
    /// `db-password`, else the URL's password.
    pub password: Option<Secret>,
    /// `db-schema`, else the URL's `currentSchema`; `None` means `public`.
    pub schema: Option<String>,
    /// `db-pool-min-size`.
    pub pool_min: u32,
    /// `db-pool-max-size`.
    pub pool_max: u32,
    /// `db-pool-acquire-timeout`.
    pub acquire_timeout: Duration,
}

/// The temporary admin created when the master realm has none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootstrapSettings {
    /// `bootstrap-admin-username` (`temp-admin` when only the password is set).
    pub username: Option<String>,
    /// `bootstrap-admin-password`.
    pub password: Option<Secret>,
    /// `bootstrap-admin-client-id` (`temp-admin` when only the secret is set).
    pub client_id: Option<String>,
    /// `bootstrap-admin-client-secret`.
    pub client_secret: Option<Secret>,
}

/// Feature flags, kept as given (unknown names are not errors).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeatureSettings {
    /// `features`.
    pub enabled: Vec<String>,
    /// `features-disabled`.
    pub disabled: Vec<String>,
}

/// Everything the server runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Development or production.
    pub mode: Mode,
    /// HTTP listener.
    pub http: HttpSettings,
    /// Reverse proxy.
    pub proxy: ProxySettings,
    /// Public address.
    pub hostname: HostnameSettings,
    /// Health and metrics.
    pub management: ManagementSettings,
    /// Realm import at start-up.
    pub import: ImportSettings,
    /// Database.
    pub db: DbSettings,
    /// Logging.
    pub log: LogSettings,
    /// Bootstrap admin.
    pub bootstrap: BootstrapSettings,
    /// Feature flags.
    pub features: FeatureSettings,
    /// `data-dir`.
    pub data_dir: PathBuf,
    /// `config-file`.
    pub config_file: PathBuf,
    /// Things to log at start-up: deprecated names used, unknown `KC_*` variables, ignored values.
    pub warnings: Vec<String>,
    resolved: Resolved,
}

impl Settings {
    /// Where the effective value of option `name` came from; `None` when it has no value.
    pub fn source(&self, name: &str) -> Option<&Source> {
        self.resolved.get(name).map(|g| &g.source)
    }

    /// The effective value of option `name` as it was given (secrets and URL passwords masked),
    /// with its origin, in table order.
    pub fn values(&self) -> impl Iterator<Item = (&'static str, String, &Source)> {
        self.resolved
            .iter()
            .map(|g| (g.spec.name, display_value(g), &g.source))
    }

    /// The show-config text: the mode, then one line per option `name = value (source)`, secrets
    /// masked. Only values that do not come from a default unless `all`.
    pub fn show(&self, all: bool) -> String {
        let mode = match self.mode {
            Mode::Dev => "development (start-dev)",
            Mode::Prod => "production",
        };
        let mut out = format!("Current Mode: {mode}\nCurrent Configuration:\n");
        for g in self.resolved.iter() {
            if all || !g.source.is_default() {
                let _ = writeln!(
                    out,
                    "  {} = {} ({})",
                    g.spec.name,
                    display_value(g),
                    g.source
                );
            }
        }
        out
    }
}

fn display_value(g: &Given) -> String {
    if g.spec.secret {
        MASK.to_owned()
    } else if g.spec.name == "db-url" {
        jdbc::mask_password(&g.value)
    } else {
        g.value.clone()
    }
}

/// Typed access to the resolved values, producing errors that name the option.
struct Values<'a> {
    resolved: &'a Resolved,
}

impl<'a> Values<'a> {
    fn given(&self, name: &str) -> Option<&'a Given> {
        debug_assert!(options::option(name).is_some(), "no option {name}");
        self.resolved.get(name)
    }

    fn text(&self, name: &str) -> Option<&'a str> {
        self.given(name).map(|g| g.value.trim())
    }

    fn invalid(g: &Given, expected: impl Into<String>) -> ConfigError {
        ConfigError::InvalidValue {
            option: g.option_ref(),
            value: display_value(g),
            expected: expected.into(),
        }
    }

    fn parse<T>(
        &self,
        name: &str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.given(name) {
            None => Ok(None),
            Some(g) => f(g.value.trim()).map(Some).map_err(|e| Self::invalid(g, e)),
        }
    }

    fn bool(&self, name: &str) -> Result<bool, ConfigError> {
        Ok(self.parse(name, parse_bool)?.unwrap_or(false))
    }

    fn port(&self, name: &str) -> Result<Option<u16>, ConfigError> {
        self.parse(name, |v| {
            v.parse::<u16>()
                .map_err(|_| "Expected a port number from 0 to 65535.".to_owned())
        })
    }

    fn count(&self, name: &str) -> Result<Option<u32>, ConfigError> {
        self.parse(name, parse_count)
    }

    fn choice(&self, name: &str) -> Result<Option<&'a str>, ConfigError> {
        let Some(g) = self.given(name) else {
            return Ok(None);
        };
        let Kind::Choice(allowed) = g.spec.kind else {
            return Ok(Some(g.value.trim()));
        };
        let v = g.value.trim();
        match allowed.iter().find(|a| a.eq_ignore_ascii_case(v)) {
            Some(a) => Ok(Some(a)),
            None => Err(Self::invalid(g, expected_values(allowed))),
        }
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.text(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn secret(&self, name: &str) -> Option<Secret> {
        self.given(name).map(|g| Secret::new(g.value.clone()))
    }

    fn is_explicit(&self, name: &str) -> bool {
        self.given(name).is_some_and(|g| !g.source.is_default())
    }

    fn option_ref(&self, name: &str) -> String {
        match self.given(name) {
            Some(g) => g.option_ref(),
            None => format!("'--{name}'"),
        }
    }
}

fn expected_values(allowed: &[&str]) -> String {
    format!("Expected values are: {}.", allowed.join(", "))
}

fn parse_bool(v: &str) -> Result<bool, String> {
    if v.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(expected_values(&["true", "false"]))
    }
}

fn parse_count(v: &str) -> Result<u32, String> {
    v.parse::<u32>()
        .map_err(|_| "Expected a whole number from 0 to 4294967295.".to_owned())
}

/// Whole seconds, or a number followed by `ms`, `s` or `m`; must be more than zero.
fn parse_duration(v: &str) -> Result<Duration, String> {
    let expected = || "Expected a duration such as '5', '5s', '500ms' or '1m', more than zero.";
    let (digits, unit) = match v.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&v[..i], v[i..].trim()),
        None => (v, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| expected().to_owned())?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(expected().to_owned()),
    };
    if d.is_zero() {
        return Err(expected().to_owned());
    }
    Ok(d)
}

/// A bind address: an IP address (IPv6 with or without brackets) or a host name.
fn parse_bind_host(v: &str) -> Result<String, String> {
    let bare = v
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(v);
    if bare.parse::<IpAddr>().is_ok() {
        return Ok(bare.to_owned());
    }
    match url::Host::parse(v) {
        Ok(url::Host::Domain(d)) if !d.is_empty() => Ok(d),
        _ => Err("Expected an IP address or host name to bind to, e.g. '0.0.0.0'.".to_owned()),
    }
}

fn parse_schema(v: &str) -> Result<String, String> {
    let mut chars = v.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(v.to_owned())
    } else {
        Err(
            "Expected a schema name of letters, digits and '_', not starting with a digit."
                .to_owned(),
        )
    }
}

/// Builds the settings for `command` from the resolved values. `warnings` are carried over.
pub(crate) fn build(
    command: Command,
    resolved: Resolved,
    mut warnings: Vec<String>,
) -> Result<Settings, ConfigError> {
    let v = Values {
        resolved: &resolved,
    };
    let mode = if command == Command::StartDev {
        Mode::Dev
    } else {
        Mode::Prod
    };
    let server = matches!(command, Command::Start | Command::StartDev);

    let data_dir = PathBuf::from(v.text("data-dir").unwrap_or("data"));
    let config_file = PathBuf::from(v.text("config-file").unwrap_or("conf/portcullis.conf"));

    let http = HttpSettings {
        enabled: v.bool("http-enabled")?,
        host: v
            .parse("http-host", parse_bind_host)?
            .unwrap_or_else(|| "0.0.0.0".to_owned()),
        port: v.port("http-port")?.unwrap_or(8080),
        relative_path: v
            .parse("http-relative-path", net::normalise_relative_path)?
            .unwrap_or_else(|| "/".to_owned()),
    };

    let proxy = ProxySettings {
        headers: v.choice("proxy-headers")?.map(|h| match h {
            "forwarded" => ProxyHeaders::Forwarded,
            _ => ProxyHeaders::XForwarded,
        }),
        trusted: v
            .parse("proxy-trusted-addresses", |raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<IpNet>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("{e} Expected IP addresses or CIDR ranges such as '10.0.0.0/8', separated by commas."))
            })?
            .unwrap_or_default(),
    };

    let hostname = HostnameSettings {
        hostname: v.parse("hostname", Hostname::parse)?,
        admin: v.parse("hostname-admin", net::parse_public_url)?,
        strict: v.bool("hostname-strict")?,
        backchannel_dynamic: v.bool("hostname-backchannel-dynamic")?,
        debug: v.bool("hostname-debug")?,
    };

    let management = ManagementSettings {
        health_enabled: v.bool("health-enabled")?,
        metrics_enabled: v.bool("metrics-enabled")?,
        host: v
            .parse("http-management-host", parse_bind_host)?
            .unwrap_or_else(|| http.host.clone()),
        port: v.port("http-management-port")?.unwrap_or(9000),
        relative_path: v
            .parse(
                "http-management-relative-path",
                net::normalise_relative_path,
            )?
            .unwrap_or_else(|| http.relative_path.clone()),
        legacy_observability_interface: v.bool("legacy-observability-interface")?,
        event_metrics: None,
    };
    let event_metrics = if v.bool("event-metrics-user-enabled")? {
        let tags = v.list("event-metrics-user-tags");
        for t in &tags {
            if !matches!(t.as_str(), "realm" | "clientId" | "idp") {
                return Err(ConfigError::InvalidValue {
                    option: v.option_ref("event-metrics-user-tags"),
                    value: t.clone(),
                    expected: "Expected any of realm, clientId, idp, separated by commas.".into(),
                });
            }
        }
        let names = v.list("event-metrics-user-events");
        let mut events = Vec::with_capacity(names.len());
        for n in &names {
            match portcullis_model::events::EventType::from_metric_name(n) {
                Some(t) => events.push(t),
                None => {
                    return Err(ConfigError::InvalidValue {
                        option: v.option_ref("event-metrics-user-events"),
                        value: n.clone(),
                        expected: format!(
                            "Expected user event names such as login, code_to_token, refresh_token: {}.",
                            portcullis_model::events::EventType::all()
                                .map(|t| t.metric_name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
        }
        Some(EventMetricsSettings {
            realm: tags.iter().any(|t| t == "realm"),
            client_id: tags.iter().any(|t| t == "clientId"),
            idp: tags.iter().any(|t| t == "idp"),
            events: (!events.is_empty()).then_some(events),
        })
    } else {
        None
    };
    let management = ManagementSettings {
        event_metrics: if management.metrics_enabled {
            event_metrics
        } else {
            None
        },
        ..management
    };

    let import = ImportSettings {
        import_realm: v.bool("import-realm")?,
        dir: v
            .text("import-dir")
            .map_or_else(|| data_dir.join("import"), PathBuf::from),
        theme_dir: v
            .text("theme-dir")
            .map_or_else(|| PathBuf::from("themes"), PathBuf::from),
    };
    // Parsed for validation only: the flag has no effect.
    v.bool("optimized")?;

    let db = build_db(&v, &data_dir, command, &mut warnings)?;
    let log = build_log(&v)?;

    let bootstrap = BootstrapSettings {
        username: v.text("bootstrap-admin-username").map(str::to_owned),
        password: v.secret("bootstrap-admin-password"),
        client_id: v.text("bootstrap-admin-client-id").map(str::to_owned),
        client_secret: v.secret("bootstrap-admin-client-secret"),
    };
    let features = FeatureSettings {
        enabled: v.list("features"),
        disabled: v.list("features-disabled"),
    };

    if server {
        check_server_rules(&v, command, &http, &proxy, &hostname, &bootstrap)?;
        if command == Command::Start && !matches!(db.kind, DbKind::Postgres) {
            warnings.push(format!(
                "The embedded SQLite database (db={}) is meant for development; use db=postgres in production.",
                v.text("db").unwrap_or("dev-file")
            ));
        }
    }

    Ok(Settings {
        mode,
        http,
        proxy,
        hostname,
        management,
        import,
        db,
        log,
        bootstrap,
        features,
        data_dir,
        config_file,
        warnings,
        resolved,
    })
}

/// The rules `start` and `start-dev` enforce on combinations of options.
fn check_server_rules(
    v: &Values<'_>,
    command: Command,
    http: &HttpSettings,
    proxy: &ProxySettings,
    hostname: &HostnameSettings,
    bootstrap: &BootstrapSettings,
) -> Result<(), ConfigError> {
    if command == Command::Start && !http.enabled {
        return Err(ConfigError::Invalid(
            "Key material for HTTPS is not configured, and portcullis has no HTTPS listener: enable HTTP with --http-enabled=true (KC_HTTP_ENABLED=true) and end TLS at the gateway.".to_owned(),
        ));
    }
    // start-dev is not strict unless told so; told so, the same rule holds.
    if hostname.hostname.is_none() && hostname.strict {
        return Err(ConfigError::Invalid(
            "The hostname is not configured: set --hostname (KC_HOSTNAME), or set --hostname-strict=false (KC_HOSTNAME_STRICT=false) to take it from each request.".to_owned(),
        ));
    }
    if hostname.backchannel_dynamic {
        let why = match &hostname.hostname {
            Some(Hostname::Url(_)) => None,
            Some(Hostname::Host(h)) => Some(format!(
                "{} is the bare host '{h}'",
                v.option_ref("hostname")
            )),
            None => Some("no hostname is set".to_owned()),
        };
        if let Some(why) = why {
            return Err(ConfigError::Invalid(format!(
                "{} is true, which needs --hostname (KC_HOSTNAME) to be a full URL such as 'https://sso.example.com/auth', but {why}.",
                v.option_ref("hostname-backchannel-dynamic")
            )));
        }
    }
    if !proxy.trusted.is_empty() && proxy.headers.is_none() {
        return Err(ConfigError::Invalid(format!(
            "{} is set but proxy-headers is not; set --proxy-headers (KC_PROXY_HEADERS) to 'forwarded' or 'xforwarded'.",
            v.option_ref("proxy-trusted-addresses")
        )));
    }
    if bootstrap.password.is_none() && v.is_explicit("bootstrap-admin-username") {
        return Err(ConfigError::Invalid(format!(
            "{} is set but no password is: set --bootstrap-admin-password (KC_BOOTSTRAP_ADMIN_PASSWORD) too.",
            v.option_ref("bootstrap-admin-username")
        )));
    }
    if bootstrap.client_secret.is_none() && v.is_explicit("bootstrap-admin-client-id") {
        return Err(ConfigError::Invalid(format!(
            "{} is set but no client secret is: set --bootstrap-admin-client-secret (KC_BOOTSTRAP_ADMIN_CLIENT_SECRET) too.",
            v.option_ref("bootstrap-admin-client-id")
        )));
    }
    Ok(())
}

fn build_db(
    v: &Values<'_>,
    data_dir: &std::path::Path,
    command: Command,
    warnings: &mut Vec<String>,
) -> Result<DbSettings, ConfigError> {
    let kind_name = match v.given("db") {
        None => "dev-file",
        Some(g) => {
            let raw = g.value.trim().to_ascii_lowercase();
            match raw.as_str() {
                "dev-file" | "sqlite" => "dev-file",
                "dev-mem" => "dev-mem",
                "postgres" | "postgresql" => "postgres",
                other => {
                    let mut expected = expected_values(DB_KINDS);
                    if matches!(other, "mysql" | "mariadb" | "mssql" | "oracle" | "h2") {
                        expected
                            .push_str(" Portcullis stores its data in SQLite or PostgreSQL only.");
                    }
                    return Err(Values::invalid(g, expected));
                }
            }
        }
    };
    let url_given = v.given("db-url");
    let mut username = v.text("db-username").map(str::to_owned);
    let mut password = v.secret("db-password");
    let mut schema = v.parse("db-schema", parse_schema)?;
    let mut url = None;

    let kind = match kind_name {
        "dev-file" => match url_given {
            Some(g) if jdbc::is_postgres_url(&g.value) => {
                return Err(ConfigError::Invalid(format!(
                    "{} is a PostgreSQL URL, but the database is 'dev-file' ({}); set --db=postgres (KC_DB=postgres) to use PostgreSQL.",
                    g.option_ref(),
                    v.given("db").map_or(Source::Default, |d| d.source.clone())
                )));
            }
            Some(g) => match jdbc::parse_sqlite(g.value.trim()) {
                Ok(SqliteTarget::File(path)) => DbKind::SqliteFile(path),
                Ok(SqliteTarget::Memory) => DbKind::SqliteMemory,
                Err(e) => return Err(Values::invalid(g, e)),
            },
            None => DbKind::SqliteFile(data_dir.join("portcullis.db")),
        },
        "dev-mem" => {
            if let Some(g) = url_given {
                warnings.push(format!("{} is ignored with db=dev-mem.", g.option_ref()));
            }
            DbKind::SqliteMemory
        }
        _ => {
            let raw = match (url_given, v.text("db-url-host")) {
                (Some(g), host) => {
                    if host.is_some() {
                        warnings.push(format!(
                            "{} is ignored because {} is set.",
                            v.option_ref("db-url-host"),
                            g.option_ref()
                        ));
                    }
                    Some((g.value.trim().to_owned(), g.option_ref(), display_value(g)))
                }
                (None, Some(host)) => {
                    let composed = jdbc::compose(
                        host,
                        v.port("db-url-port")?,
                        v.text("db-url-database"),
                        v.text("db-url-properties"),
                    );
                    let shown = jdbc::mask_password(&composed);
                    Some((
                        composed,
                        "'db-url-host' (with db-url-port, db-url-database, db-url-properties)"
                            .to_owned(),
                        shown,
                    ))
                }
                (None, None) => None,
            };
            match raw {
                Some((raw, option, shown)) => {
                    let target =
                        jdbc::parse_postgres(&raw).map_err(|e| ConfigError::InvalidValue {
                            option,
                            value: shown,
                            expected: e,
                        })?;
                    if username.is_none() {
                        username = target.user;
                    }
                    if password.is_none() {
                        password = target.password.map(Secret::new);
                    }
                    if schema.is_none()
                        && let Some(s) = target.schema
                    {
                        schema = Some(parse_schema(&s).map_err(|e| {
                            ConfigError::Invalid(format!(
                                "The currentSchema property of the database URL is invalid: '{s}'. {e}"
                            ))
                        })?);
                    }
                    if !target.ignored.is_empty() {
                        warnings.push(format!(
                            "Ignoring database URL properties that have no equivalent here: {}.",
                            target.ignored.join(", ")
                        ));
                    }
                    url = Some(target.url);
                }
                None if command == Command::ShowConfig => {}
                None => {
                    return Err(ConfigError::Invalid(format!(
                        "The database is 'postgres' ({}) but no database URL is set: set KC_DB_URL (--db-url), e.g. 'jdbc:postgresql://HOST:5432/DATABASE', or KC_DB_URL_HOST (--db-url-host).",
                        v.given("db").map_or(Source::Default, |d| d.source.clone())
                    )));
                }
            }
            DbKind::Postgres
        }
    };
    if kind != DbKind::Postgres {
        schema = None;
    }

    let pool_min = v.count("db-pool-min-size")?.unwrap_or(0);
    let pool_max = v.count("db-pool-max-size")?.unwrap_or(20);
    if pool_max == 0 {
        return Err(ConfigError::Invalid(format!(
            "{} must be at least 1.",
            v.option_ref("db-pool-max-size")
        )));
    }
    if pool_min > pool_max {
        return Err(ConfigError::Invalid(format!(
            "{} ({pool_min}) is larger than {} ({pool_max}).",
            v.option_ref("db-pool-min-size"),
            v.option_ref("db-pool-max-size")
        )));
    }
    let acquire_timeout = v
        .parse("db-pool-acquire-timeout", parse_duration)?
        .unwrap_or(Duration::from_secs(5));

    Ok(DbSettings {
        kind,
        url,
        username,
        password,
        schema,
        pool_min,
        pool_max,
        acquire_timeout,
    })
}

fn build_log(v: &Values<'_>) -> Result<LogSettings, ConfigError> {
    if let Some(g) = v.given("log") {
        for handler in g.value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match handler.to_ascii_lowercase().as_str() {
                "console" => {}
                "file" | "syslog" => {
                    return Err(Values::invalid(
                        g,
                        format!(
                            "The '{handler}' log handler is not supported; only 'console' is (let the platform collect the console output)."
                        ),
                    ));
                }
                _ => return Err(Values::invalid(g, expected_values(&["console"]))),
            }
        }
    }
    let level = v.text("log-level").unwrap_or("info").to_owned();
    let (root, categories) = match v.given("log-level") {
        Some(g) => log::parse_level(&g.value).map_err(|e| Values::invalid(g, e))?,
        None => (log::LogLevel::Info, Vec::new()),
    };
    let output = match v.choice("log-console-output")? {
        Some("json") => LogOutput::Json,
        _ => LogOutput::Default,
    };
    Ok(LogSettings {
        level,
        root,
        categories,
        output,
    })
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Dev => "development",
            Mode::Prod => "production",
        })
    }
}
