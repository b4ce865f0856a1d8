//! Database URLs: Keycloak's JDBC form (`jdbc:postgresql://host:5432/db?prop=...`), native
//! `postgres://` URLs and `sqlite:` URLs, turned into what the store connects with.
//!
//! A PostgreSQL URL becomes a credential-free `postgres://host[:port]/db[?params]` URL with the
//! user, password and schema taken out; JDBC properties with an equivalent are translated
//! (`currentSchema` → schema, `ApplicationName` → `application_name`, `ssl=true` →
//! `sslmode=verify-full`), the others are reported as ignored. Error reasons never quote the
//! URL (the caller quotes it through [`mask_password`]).

use std::path::PathBuf;

use url::Url;

use super::secret::MASK;

/// A PostgreSQL connection target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PgTarget {
    /// `postgres://host[:port]/db[?params]`, without credentials.
    pub url: String,
    /// From the URL's user info or `user` property.
    pub user: Option<String>,
    /// From the URL's user info or `password` property.
    pub password: Option<String>,
    /// From `currentSchema`.
    pub schema: Option<String>,
    /// Properties with no equivalent, dropped.
    pub ignored: Vec<String>,
}

/// An embedded SQLite target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SqliteTarget {
    File(PathBuf),
    Memory,
}

/// The PostgreSQL libpq `sslmode` values (the same in the JDBC driver and in sqlx).
const SSL_MODES: &[&str] = &[
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// True when `raw` is meant for PostgreSQL (JDBC or native form).
pub(crate) fn is_postgres_url(raw: &str) -> bool {
    let lower = raw.to_ascii_lowercase();
    lower.starts_with("jdbc:postgresql:")
        || lower.starts_with("postgres://")
        || lower.starts_with("postgresql://")
}

/// Builds Keycloak's URL from `db-url-host`, `-port`, `-database` and `-properties`.
pub(crate) fn compose(
    host: &str,
    port: Option<u16>,
    database: Option<&str>,
    properties: Option<&str>,
) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    let props = match properties.map(str::trim) {
        None | Some("") => String::new(),
        Some(p) if p.starts_with('?') => p.to_owned(),
        Some(p) => format!("?{}", p.trim_start_matches(['&', ';'])),
    };
    format!(
        "jdbc:postgresql://{host}:{}/{}{props}",
        port.unwrap_or(5432),
        database.unwrap_or("keycloak")
    )
}

/// Parses a PostgreSQL URL in JDBC or native form.
pub(crate) fn parse_postgres(raw: &str) -> Result<PgTarget, String> {
    let malformed = |why: &str| format!("Malformed database URL: {why}.");
    let lower = raw.to_ascii_lowercase();
    let after_scheme = if lower.starts_with("jdbc:") {
        let rest = &raw[5..];
        let Some((sub, after)) = rest.split_once(':') else {
            return Err(malformed("expected jdbc:postgresql://HOST[:PORT]/DATABASE"));
        };
        if !sub.eq_ignore_ascii_case("postgresql") {
            return Err(format!(
                "JDBC sub-protocol '{sub}' is not supported; portcullis connects to PostgreSQL (jdbc:postgresql://HOST[:PORT]/DATABASE)."
            ));
        }
        after
    } else if let Some(i) = lower.find("://").filter(|_| is_postgres_url(raw)) {
        &raw[i + 1..]
    } else {
        return Err(
            "Expected a PostgreSQL URL such as 'jdbc:postgresql://HOST:5432/DATABASE' or 'postgres://HOST:5432/DATABASE'."
                .to_owned(),
        );
    };

    // JDBC's short forms `jdbc:postgresql:DATABASE` and `jdbc:postgresql:/DATABASE` mean
    // localhost:5432.
    let normalised = match after_scheme.strip_prefix("//") {
        Some(rest) => {
            let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
            if rest[..authority_end].contains(',') {
                return Err(malformed("several hosts are not supported; give one host"));
            }
            format!("postgresql://{rest}")
        }
        None => format!(
            "postgresql://localhost/{}",
            after_scheme.trim_start_matches('/')
        ),
    };
    let url = Url::parse(&normalised).map_err(|e| malformed(&e.to_string()))?;

    let host = match url.host_str() {
        None | Some("") => "localhost".to_owned(),
        Some(h) if h.starts_with('[') => h.to_owned(),
        Some(h)
            if h.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) =>
        {
            h.to_owned()
        }
        Some(h) => return Err(malformed(&format!("'{h}' is not a valid host"))),
    };
    let database = percent_decode(url.path().trim_start_matches('/'))
        .ok_or_else(|| malformed("the database name is not valid UTF-8"))?;
    if database.is_empty() {
        return Err(malformed(
            "it names no database; expected jdbc:postgresql://HOST[:PORT]/DATABASE",
        ));
    }
    if database.contains('/') {
        return Err(malformed("the database name contains '/'"));
    }

    let mut user = (!url.username().is_empty())
        .then(|| percent_decode(url.username()))
        .flatten();
    let mut password = url.password().and_then(percent_decode);
    let mut schema = None;
    let mut ssl: Option<bool> = None;
    let mut params: Vec<(&'static str, String)> = Vec::new();
    let mut ignored = Vec::new();
    for (key, value) in url.query_pairs() {
        let value = value.into_owned();
        match key.as_ref() {
            "user" => user = Some(value),
            "password" => password = Some(value),
            "currentSchema" => schema = Some(value),
            "sslmode" => {
                if !SSL_MODES.contains(&value.as_str()) {
                    return Err(malformed(&format!(
                        "sslmode '{value}' is not one of {}",
                        SSL_MODES.join(", ")
                    )));
                }
                params.push(("sslmode", value));
            }
            "ssl" => ssl = Some(value.eq_ignore_ascii_case("true") || value.is_empty()),
            "sslrootcert" => params.push(("sslrootcert", value)),
            "sslcert" => params.push(("sslcert", value)),
            "sslkey" => params.push(("sslkey", value)),
            "ApplicationName" | "application_name" => params.push(("application_name", value)),
            "options" => params.push(("options", value)),
            "statement-cache-capacity" => params.push(("statement-cache-capacity", value)),
            other => ignored.push(other.to_owned()),
        }
    }
    if let Some(ssl) = ssl
        && !params.iter().any(|(k, _)| *k == "sslmode")
    {
        let mode = if ssl { "verify-full" } else { "disable" };
        params.push(("sslmode", mode.to_owned()));
    }

    let mut out = format!("postgres://{host}");
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push('/');
    out.push_str(&percent_encode(&database));
    if !params.is_empty() {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &params {
            query.append_pair(k, v);
        }
        out.push('?');
        out.push_str(&query.finish());
    }
    Ok(PgTarget {
        url: out,
        user,
        password,
        schema,
        ignored,
    })
}

/// Parses the `db-url` of `db=dev-file`: `sqlite://PATH`, `sqlite:PATH`, `sqlite::memory:`
/// or a plain path. A query (`?mode=rwc`) is dropped.
pub(crate) fn parse_sqlite(raw: &str) -> Result<SqliteTarget, String> {
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("jdbc:") {
        return Err(
            "JDBC URLs are understood for PostgreSQL only; with db=dev-file give a 'sqlite:' URL or a file path."
                .to_owned(),
        );
    }
    let rest = if lower.starts_with("sqlite://") {
        &raw[9..]
    } else if lower.starts_with("sqlite:") {
        &raw[7..]
    } else if raw.contains("://") {
        return Err("Expected a 'sqlite:' URL or a file path.".to_owned());
    } else {
        raw
    };
    let path = rest.split('?').next().unwrap_or_default();
    match path {
        "" => Err("Expected a 'sqlite:' URL or a file path; the path is empty.".to_owned()),
        ":memory:" => Ok(SqliteTarget::Memory),
        p => Ok(SqliteTarget::File(PathBuf::from(p))),
    }
}

/// `raw` with the password of its user info and of any `password=` property replaced by the
/// mask.
pub fn mask_password(raw: &str) -> String {
    let mut out = raw.to_owned();
    // user:password@ in the authority.
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = out[authority_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| authority_start + i);
        if let Some(at) = out[authority_start..authority_end].rfind('@') {
            let userinfo = &out[authority_start..authority_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(authority_start + colon + 1..authority_start + at, MASK);
            }
        }
    }
    // password=... properties (any case), separated by & or ;.
    let mut search_from = 0;
    while let Some(found) = out[search_from..].to_ascii_lowercase().find("password=") {
        let key_start = search_from + found;
        let preceded =
            key_start == 0 || matches!(out.as_bytes()[key_start - 1], b'?' | b'&' | b';');
        let value_start = key_start + "password=".len();
        if !preceded {
            search_from = value_start;
            continue;
        }
        let value_end = out[value_start..]
            .find(['&', ';'])
            .map_or(out.len(), |i| value_start + i);
        out.replace_range(value_start..value_end, MASK);
        search_from = value_start + MASK.len();
    }
    out
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected URL, user, password and schema, or a fragment of the error.
    type Want<'a> = Result<(&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>), &'a str>;

    fn check(raw: &str, want: Want<'_>) {
        let got = parse_postgres(raw);
        match want {
            Ok((url, user, password, schema)) => {
                let got = got.unwrap_or_else(|e| panic!("{raw}: {e}"));
                assert_eq!(got.url, url, "{raw}");
                assert_eq!(got.user.as_deref(), user, "{raw}");
                assert_eq!(got.password.as_deref(), password, "{raw}");
                assert_eq!(got.schema.as_deref(), schema, "{raw}");
            }
            Err(fragment) => {
                let msg = got.err().unwrap_or_default();
                assert!(msg.contains(fragment), "{raw}: {msg}");
                assert!(!msg.contains("s3cret"), "{raw}: password leaked in {msg}");
            }
        }
    }

    #[test]
    fn jdbc_forms() {
        check(
            "jdbc:postgresql://db:5432/keycloak",
            Ok(("postgres://db:5432/keycloak", None, None, None)),
        );
        check(
            "jdbc:postgresql://db:5432/keycloak?currentSchema=kc&sslmode=disable",
            Ok((
                "postgres://db:5432/keycloak?sslmode=disable",
                None,
                None,
                Some("kc"),
            )),
        );
        check(
            "jdbc:postgresql://db/kc?user=app&password=s%26cret&ApplicationName=portcullis",
            Ok((
                "postgres://db/kc?application_name=portcullis",
                Some("app"),
                Some("s&cret"),
                None,
            )),
        );
        check(
            "jdbc:postgresql://[::1]:5433/kc",
            Ok(("postgres://[::1]:5433/kc", None, None, None)),
        );
        check(
            "jdbc:postgresql://[2001:db8::7]/kc",
            Ok(("postgres://[2001:db8::7]/kc", None, None, None)),
        );
        check(
            "jdbc:postgresql:kc",
            Ok(("postgres://localhost/kc", None, None, None)),
        );
        check(
            "JDBC:PostgreSQL://DB/kc",
            Ok(("postgres://DB/kc", None, None, None)),
        );
        check(
            "jdbc:postgresql://db/kc?ssl=true",
            Ok(("postgres://db/kc?sslmode=verify-full", None, None, None)),
        );
        check(
            "jdbc:postgresql://db/my%20db",
            Ok(("postgres://db/my%20db", None, None, None)),
        );
    }

    #[test]
    fn native_forms() {
        check(
            "postgres://app:pw@db:5432/kc?sslmode=require",
            Ok((
                "postgres://db:5432/kc?sslmode=require",
                Some("app"),
                Some("pw"),
                None,
            )),
        );
        check(
            "postgresql://db/kc",
            Ok(("postgres://db/kc", None, None, None)),
        );
    }

    #[test]
    fn malformed() {
        check("jdbc:postgresql://db:5432/", Err("names no database"));
        check("jdbc:postgresql://db:5432", Err("names no database"));
        check(
            "jdbc:postgresql://db:abc/kc?password=s3cret",
            Err("invalid port"),
        );
        check("jdbc:postgresql://db:70000/kc", Err("invalid port"));
        check("jdbc:postgresql://a:1,b:2/kc", Err("several hosts"));
        check(
            "jdbc:mysql://db:3306/kc",
            Err("sub-protocol 'mysql' is not supported"),
        );
        check("jdbc:h2:file:./data/kc", Err("sub-protocol 'h2'"));
        check("jdbc:postgresql", Err("Malformed database URL: expected"));
        check("mysql://db/kc", Err("Expected a PostgreSQL URL"));
        check(
            "jdbc:postgresql://db/kc?sslmode=sometimes",
            Err("sslmode 'sometimes'"),
        );
        check("jdbc:postgresql://d!b/kc", Err("not a valid host"));
    }

    #[test]
    fn ignored_properties_are_reported() {
        let got = parse_postgres("jdbc:postgresql://db/kc?tcpKeepAlive=true&prepareThreshold=0");
        assert_eq!(
            got.map(|t| t.ignored),
            Ok(vec![
                "tcpKeepAlive".to_owned(),
                "prepareThreshold".to_owned()
            ])
        );
    }

    #[test]
    fn composition() {
        assert_eq!(
            compose("db", None, None, None),
            "jdbc:postgresql://db:5432/keycloak"
        );
        assert_eq!(
            compose("db", Some(6543), Some("kc"), Some("?sslmode=require")),
            "jdbc:postgresql://db:6543/kc?sslmode=require"
        );
        assert_eq!(
            compose("::1", None, Some("kc"), Some("sslmode=require")),
            "jdbc:postgresql://[::1]:5432/kc?sslmode=require"
        );
    }

    #[test]
    fn sqlite_forms() {
        let file = |p: &str| Ok(SqliteTarget::File(PathBuf::from(p)));
        assert_eq!(parse_sqlite("sqlite://data/x.db"), file("data/x.db"));
        assert_eq!(
            parse_sqlite("sqlite:///var/lib/x.db?mode=rwc"),
            file("/var/lib/x.db")
        );
        assert_eq!(parse_sqlite("sqlite:x.db"), file("x.db"));
        assert_eq!(parse_sqlite("/tmp/x.db"), file("/tmp/x.db"));
        assert_eq!(parse_sqlite("sqlite::memory:"), Ok(SqliteTarget::Memory));
        assert!(parse_sqlite("jdbc:h2:file:x").is_err());
        assert!(parse_sqlite("mysql://x").is_err());
        assert!(parse_sqlite("sqlite:").is_err());
    }

    #[test]
    fn masking() {
        let check = |raw: &str, want: &str| assert_eq!(mask_password(raw), want, "{raw}");
        check(
            "jdbc:postgresql://db/kc?user=a&password=s3cret&x=1",
            "jdbc:postgresql://db/kc?user=a&password=*******&x=1",
        );
        check("postgres://a:s3cret@db/kc", "postgres://a:*******@db/kc");
        check("postgres://a@db/kc", "postgres://a@db/kc");
        check(
            "jdbc:postgresql://db/kc?PASSWORD=s3cret",
            "jdbc:postgresql://db/kc?PASSWORD=*******",
        );
        check(
            "jdbc:postgresql://db/kc?mypassword=x",
            "jdbc:postgresql://db/kc?mypassword=x",
        );
    }
}
