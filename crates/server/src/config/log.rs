//! Logging options: Keycloak's `log-level` syntax (`info,org.keycloak.events:debug`) and the
//! console format, turned into a `tracing` filter directive.
//!
//! Levels are case-insensitive; Keycloak's extra names map onto `tracing`'s five (`all` and the
//! java.util.logging `finest`/`finer` → trace, `fine`/`config` → debug, `warning` → warn,
//! `fatal`/`severe` → error). Category names are kept as written, so `org.keycloak.events`
//! filters events logged under that target.

use std::fmt;

/// A log level as `tracing` understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected.
    Warn,
    /// A failure.
    Error,
    /// Nothing.
    Off,
}

/// The level names accepted, for error messages.
pub const LEVEL_NAMES: &str = "all, trace, debug, info, warn, error, fatal, off";

impl LogLevel {
    /// Parses a Keycloak level name.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw.trim().to_ascii_lowercase().as_str() {
            "all" | "trace" | "finest" | "finer" => LogLevel::Trace,
            "debug" | "fine" | "config" => LogLevel::Debug,
            "info" => LogLevel::Info,
            "warn" | "warning" => LogLevel::Warn,
            "error" | "fatal" | "severe" => LogLevel::Error,
            "off" => LogLevel::Off,
            _ => return None,
        })
    }

    /// The name in a `tracing` filter directive.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Off => "off",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Console log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOutput {
    /// Human-readable text.
    Default,
    /// One JSON object per line.
    Json,
}

/// The logging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// `log-level` as given.
    pub level: String,
    /// The root level.
    pub root: LogLevel,
    /// `category:level` overrides, in the order given.
    pub categories: Vec<(String, LogLevel)>,
    /// Console format.
    pub output: LogOutput,
}

impl LogSettings {
    /// The `tracing_subscriber::EnvFilter` directive: `info,org.keycloak.events=debug,...`.
    pub fn filter_directive(&self) -> String {
        let mut out = self.root.as_str().to_owned();
        for (category, level) in &self.categories {
            out.push(',');
            out.push_str(category);
            out.push('=');
            out.push_str(level.as_str());
        }
        out
    }
}

/// Parses `log-level`: comma-separated items, each a level (the root level; at most one) or
/// `category:level` (split at the last `:`, so Rust paths like `portcullis_store::pg:trace`
/// work). Returns the reason on error.
pub(crate) fn parse_level(raw: &str) -> Result<(LogLevel, Vec<(String, LogLevel)>), String> {
    let mut root = None;
    let mut categories = Vec::new();
    for item in raw.split(',').map(str::trim) {
        if item.is_empty() {
            continue;
        }
        let (category, level_name) = match item.rsplit_once(':') {
            Some((c, l)) if !c.ends_with(':') => (Some(c.trim()), l),
            _ => (None, item),
        };
        let level = LogLevel::parse(level_name).ok_or_else(|| {
            format!(
                "Unknown log level '{}'; expected one of: {LEVEL_NAMES}.",
                level_name.trim()
            )
        })?;
        match category {
            None if root.is_some() => {
                return Err(format!(
                    "The root level is given twice ('{item}'); give one bare level and 'category:level' pairs."
                ));
            }
            None => root = Some(level),
            Some(c)
                if c.is_empty()
                    || !c
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || "_.:-".contains(ch)) =>
            {
                return Err(format!(
                    "'{c}' is not a valid log category (letters, digits, '.', '_', '-' and ':')."
                ));
            }
            Some(c) => categories.push((c.to_owned(), level)),
        }
    }
    Ok((root.unwrap_or(LogLevel::Info), categories))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directive(raw: &str) -> Result<String, String> {
        parse_level(raw).map(|(root, categories)| {
            LogSettings {
                level: raw.to_owned(),
                root,
                categories,
                output: LogOutput::Default,
            }
            .filter_directive()
        })
    }

    #[test]
    fn levels() {
        let check = |raw: &str, want: Result<&str, &str>| match want {
            Ok(w) => assert_eq!(directive(raw).as_deref(), Ok(w), "{raw}"),
            Err(fragment) => {
                let msg = directive(raw).err().unwrap_or_default();
                assert!(msg.contains(fragment), "{raw}: {msg}");
            }
        };
        check("info", Ok("info"));
        check("DEBUG", Ok("debug"));
        check("all", Ok("trace"));
        check("fatal", Ok("error"));
        check("WARNING", Ok("warn"));
        check("off", Ok("off"));
        check(
            "info,org.keycloak.events:debug,portcullis_store:trace",
            Ok("info,org.keycloak.events=debug,portcullis_store=trace"),
        );
        check(
            "portcullis_store::pg:trace",
            Ok("info,portcullis_store::pg=trace"),
        );
        check("org.keycloak:debug", Ok("info,org.keycloak=debug"));
        check(" warn , a.b:ERROR ", Ok("warn,a.b=error"));
        check("verbose", Err("Unknown log level 'verbose'"));
        check("info,org.keycloak:loud", Err("Unknown log level 'loud'"));
        check("info,debug", Err("root level is given twice"));
        check("info,a b:debug", Err("'a b' is not a valid log category"));
    }

    #[test]
    fn directives_are_accepted_by_env_filter() {
        for raw in [
            "info,org.keycloak.events:debug,portcullis_store::pg:trace",
            "all,org.keycloak-x:off",
        ] {
            let d = directive(raw).unwrap_or_default();
            assert!(tracing_subscriber::EnvFilter::try_new(&d).is_ok(), "{d}");
        }
    }
}
