//! Raw configuration: reading the conf file and the environment, and layering them with the
//! command line and the defaults into one value per option, each with its origin.
//!
//! Precedence: command line > environment (`KC_*`, then deprecated names) > conf file > default
//! (the `start-dev` default when the option has one). Nothing here interprets values beyond
//! `${VAR}` expansion in the conf file; typing and validation happen in `settings`.
//! Like Keycloak's configuration layer, an empty value in the environment or the conf file
//! counts as not set.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::options::{self, DefaultValue, KNOWN_NON_OPTION_ENV, OPTIONS, OptionSpec};
use super::secret::MASK;

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The command line.
    Cli,
    /// An environment variable (its name).
    Env(String),
    /// A line of the conf file.
    File {
        /// The conf file, as given.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// The option's default.
    Default,
    /// The option's `start-dev` default.
    DevDefault,
}

impl Source {
    /// True for the two default sources.
    pub fn is_default(&self) -> bool {
        matches!(self, Source::Default | Source::DevDefault)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Cli => f.write_str("cli"),
            Source::Env(var) => write!(f, "env {var}"),
            Source::File { path, line } => write!(f, "file {}:{line}", path.display()),
            Source::Default => f.write_str("default"),
            Source::DevDefault => f.write_str("default (start-dev)"),
        }
    }
}

/// One value for one option, with its origin.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Given {
    pub spec: &'static OptionSpec,
    pub value: String,
    pub source: Source,
}

impl fmt::Debug for Given {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.spec.secret {
            MASK.to_owned()
        } else {
            super::jdbc::mask_password(&self.value)
        };
        f.debug_struct("Given")
            .field("option", &self.spec.name)
            .field("value", &value)
            .field("source", &self.source)
            .finish()
    }
}

impl Given {
    /// The option as the user wrote it, quoted, with its origin: `'--http-port'`,
    /// `'KC_HTTP_PORT'`, `'http-port' (conf/portcullis.conf:3)` or `'http-port'`.
    pub fn option_ref(&self) -> String {
        option_ref(self.spec, &self.source)
    }
}

pub(crate) fn option_ref(spec: &OptionSpec, source: &Source) -> String {
    match source {
        Source::Cli => format!("'--{}'", spec.name),
        Source::Env(var) => format!("'{var}'"),
        Source::File { path, line } => format!("'{}' ({}:{line})", spec.name, path.display()),
        Source::Default | Source::DevDefault => format!("'{}'", spec.name),
    }
}

/// Reads `name=value` lines: `#` starts a comment line, blank lines are skipped, whitespace
/// around name and value is trimmed, values expand `${VAR}` / `${VAR:default}` from `env`.
/// Unknown names are errors; options that `accepts` rejects (server options under `export`,
/// say) are skipped.
pub(crate) fn conf_values(
    path: &Path,
    text: &str,
    env: &BTreeMap<String, String>,
    accepts: impl Fn(&OptionSpec) -> bool,
) -> Result<Vec<Given>, ConfigError> {
    let mut out = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw_line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let conf_error = |message: String| ConfigError::ConfFile {
            path: path.to_path_buf(),
            line,
            message,
        };
        let Some((key, value)) = trimmed.split_once('=') else {
            return Err(conf_error(format!(
                "expected 'name=value', found '{trimmed}'"
            )));
        };
        let key = key.trim();
        let Some(spec) = options::option(key) else {
            return Err(ConfigError::UnknownConfKey {
                path: path.to_path_buf(),
                line,
                key: key.to_owned(),
                suggestion: options::closest(key, OPTIONS.iter().map(|o| o.name))
                    .map(str::to_owned),
            });
        };
        if spec.name == "config-file" {
            return Err(conf_error(
                "'config-file' cannot be set inside the configuration file".to_owned(),
            ));
        }
        let value = expand(value.trim(), env).map_err(conf_error)?;
        if value.is_empty() || !accepts(spec) {
            continue;
        }
        out.push(Given {
            spec,
            value,
            source: Source::File {
                path: path.to_path_buf(),
                line,
            },
        });
    }
    Ok(out)
}

/// Expands `${NAME}`, `${NAME:default}` and `${A,B:default}` (first set of A, B) from `env`;
/// defaults may themselves contain `${...}`; `$${` stands for a literal `${`.
pub(crate) fn expand(value: &str, env: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find("${") {
        if rest[..at].ends_with('$') {
            out.push_str(&rest[..at]);
            out.push('{');
            rest = &rest[at + 2..];
            continue;
        }
        out.push_str(&rest[..at]);
        let body_start = at + 2;
        let body_len = closing_brace(&rest[body_start..])
            .ok_or_else(|| format!("unterminated '${{' in '{value}'"))?;
        let body = &rest[body_start..body_start + body_len];
        let (names, default) = split_default(body);
        let found = names
            .split(',')
            .map(str::trim)
            .find_map(|name| env.get(name).filter(|v| !v.is_empty()));
        match (found, default) {
            (Some(v), _) => out.push_str(v),
            (None, Some(default)) => out.push_str(&expand(default, env)?),
            (None, None) => {
                return Err(format!(
                    "environment variable '{}' is not set and '${{{body}}}' has no default",
                    names.trim()
                ));
            }
        }
        rest = &rest[body_start + body_len + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Length of the text before the `}` that closes an already opened `${`.
fn closing_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Splits `NAME:default` at the first `:` outside a nested `${...}`.
fn split_default(body: &str) -> (&str, Option<&str>) {
    match body.find(':') {
        Some(i) if !body[..i].contains("${") => (&body[..i], Some(&body[i + 1..])),
        _ => (body, None),
    }
}

/// Option values from `KC_*` variables, plus one warning naming the `KC_*` variables that are
/// not options (with the closest option variable when one is near).
pub(crate) fn env_values(
    env: &BTreeMap<String, String>,
    accepts: impl Fn(&OptionSpec) -> bool,
) -> (Vec<Given>, Vec<String>) {
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for (var, value) in env {
        if !var.starts_with("KC_") {
            continue;
        }
        match options::option_by_env(var) {
            Some(spec) => {
                if !value.is_empty() && accepts(spec) {
                    out.push(Given {
                        spec,
                        value: value.clone(),
                        source: Source::Env(var.clone()),
                    });
                }
            }
            None if KNOWN_NON_OPTION_ENV.contains(&var.as_str()) => {}
            None => match options::closest(var, OPTIONS.iter().map(|o| o.env)) {
                Some(near) => unknown.push(format!("{var} (did you mean {near}?)")),
                None => unknown.push(var.clone()),
            },
        }
    }
    let mut warnings = Vec::new();
    if !unknown.is_empty() {
        warnings.push(format!(
            "Ignoring environment variables that are not portcullis options: {}",
            unknown.join(", ")
        ));
    }
    (out, warnings)
}

/// The effective value of every option that has one, with its origin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Resolved {
    entries: BTreeMap<&'static str, Given>,
}

impl Resolved {
    pub fn get(&self, name: &str) -> Option<&Given> {
        self.entries.get(name)
    }

    /// Entries in table order.
    pub fn iter(&self) -> impl Iterator<Item = &Given> {
        OPTIONS.iter().filter_map(|o| self.entries.get(o.name))
    }
}

/// Layers the sources. `cli`, `env` and `file` hold only options the command accepts; defaults
/// are filled for every option so that settings can always be built. Returns deprecation
/// warnings for the legacy environment names.
pub(crate) fn resolve(
    cli: Vec<Given>,
    env_given: Vec<Given>,
    file: Vec<Given>,
    env: &BTreeMap<String, String>,
    dev: bool,
) -> (Resolved, Vec<String>) {
    let mut entries: BTreeMap<&'static str, Given> = BTreeMap::new();
    // Lowest precedence first: later inserts win.
    for given in file.into_iter().chain(env_given).chain(cli) {
        entries.insert(given.spec.name, given);
    }
    let mut warnings = Vec::new();
    for spec in OPTIONS {
        let Some(legacy) = spec.legacy_env else {
            continue;
        };
        let Some(value) = env.get(legacy).filter(|v| !v.is_empty()) else {
            continue;
        };
        if entries.contains_key(spec.name) {
            warnings.push(format!(
                "{legacy} is deprecated and ignored because {} is set.",
                spec.env
            ));
        } else {
            warnings.push(format!("{legacy} is deprecated; use {} instead.", spec.env));
            entries.insert(
                spec.name,
                Given {
                    spec,
                    value: value.clone(),
                    source: Source::Env(legacy.to_owned()),
                },
            );
        }
    }
    for spec in OPTIONS {
        if entries.contains_key(spec.name) {
            continue;
        }
        let (value, source) = match (dev, spec.dev_default, spec.default) {
            (true, Some(v), _) => (v.to_owned(), Source::DevDefault),
            (_, _, DefaultValue::Unset) => continue,
            (_, _, DefaultValue::Value(v)) => (v.to_owned(), Source::Default),
            (_, _, DefaultValue::SameAs(other)) => match entries.get(other) {
                Some(g) => (g.value.clone(), Source::Default),
                None => continue,
            },
            (_, _, DefaultValue::Under(other, sub)) => match entries.get(other) {
                Some(g) => (
                    Path::new(&g.value).join(sub).display().to_string(),
                    Source::Default,
                ),
                None => continue,
            },
            (_, _, DefaultValue::WhenSet { option, value }) => {
                if entries.contains_key(option) {
                    (value.to_owned(), Source::Default)
                } else {
                    continue;
                }
            }
        };
        entries.insert(
            spec.name,
            Given {
                spec,
                value,
                source,
            },
        );
    }
    (Resolved { entries }, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn expansion() {
        let e = env(&[("HOST", "db"), ("EMPTY", ""), ("PORT", "6543")]);
        let check = |input: &str, want: Result<&str, &str>| {
            let got = expand(input, &e);
            match want {
                Ok(w) => assert_eq!(got.as_deref(), Ok(w), "{input}"),
                Err(fragment) => {
                    let msg = got.err().unwrap_or_default();
                    assert!(msg.contains(fragment), "{input}: {msg}");
                }
            }
        };
        check("plain", Ok("plain"));
        check("${HOST}", Ok("db"));
        check(
            "jdbc:postgresql://${HOST}:${PORT}/kc",
            Ok("jdbc:postgresql://db:6543/kc"),
        );
        check("${MISSING:fallback}", Ok("fallback"));
        check("${EMPTY:fallback}", Ok("fallback"));
        check("${MISSING:http://x:1/y}", Ok("http://x:1/y"));
        check("${MISSING,HOST}", Ok("db"));
        check("${MISSING:${HOST}}", Ok("db"));
        check("${MISSING:${OTHER:deep}}", Ok("deep"));
        check("$${HOST}", Ok("${HOST}"));
        check("${MISSING}", Err("'MISSING' is not set"));
        check("${HOST", Err("unterminated"));
    }

    #[test]
    fn conf_file_lines() {
        let text = "# comment\n\n  http-port = 8081 \nhostname=${H:sso.example.com}\ndb-password=a#b=c\nhttp-host=\n";
        let got = conf_values(Path::new("conf/portcullis.conf"), text, &env(&[]), |_| true);
        let got = got.unwrap_or_default();
        let pairs: Vec<(&str, &str, String)> = got
            .iter()
            .map(|g| (g.spec.name, g.value.as_str(), g.source.to_string()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                (
                    "http-port",
                    "8081",
                    "file conf/portcullis.conf:3".to_owned()
                ),
                (
                    "hostname",
                    "sso.example.com",
                    "file conf/portcullis.conf:4".to_owned()
                ),
                (
                    "db-password",
                    "a#b=c",
                    "file conf/portcullis.conf:5".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn conf_file_errors() {
        let check = |text: &str, want: &str| {
            let err = conf_values(Path::new("conf/portcullis.conf"), text, &env(&[]), |_| true)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert_eq!(err, want, "{text}");
        };
        check(
            "# c\nhttp-prot=1\n",
            "conf/portcullis.conf:2: unknown option 'http-prot'. Did you mean 'http-port'?",
        );
        check(
            "just words\n",
            "conf/portcullis.conf:1: expected 'name=value', found 'just words'",
        );
        check(
            "hostname=${NOPE}\n",
            "conf/portcullis.conf:1: environment variable 'NOPE' is not set and '${NOPE}' has no default",
        );
        check(
            "config-file=x\n",
            "conf/portcullis.conf:1: 'config-file' cannot be set inside the configuration file",
        );
    }

    #[test]
    fn unknown_kc_variables_make_one_warning() {
        let e = env(&[
            ("KC_HTTP_PROT", "1"),
            ("KC_CACHE", "local"),
            ("KC_RUN_IN_CONTAINER", "true"),
            ("KC_HTTP_PORT", "1"),
            ("PATH", "/bin"),
        ]);
        let (values, warnings) = env_values(&e, |_| true);
        assert_eq!(values.len(), 1);
        assert_eq!(
            warnings,
            vec![
                "Ignoring environment variables that are not portcullis options: KC_CACHE, KC_HTTP_PROT (did you mean KC_HTTP_PORT?)"
                    .to_owned()
            ]
        );
    }
}
