//! End-to-end tests of [`super::parse`]: arguments, environment and conf file in, invocation or
//! error message out. Each test is a table run through a small helper.

use super::*;

const CONF: &str = "conf/portcullis.conf";

/// Environment variables of a case.
type Env<'a> = &'a [(&'a str, &'a str)];

fn run(args: &str, env: &[(&str, &str)], conf: Option<&str>) -> Result<Invocation, ConfigError> {
    let args: Vec<OsString> = args.split_whitespace().map(OsString::from).collect();
    let env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    parse(&args, &env, conf.map(|c| (Path::new(CONF), c)))
}

fn settings(args: &str, env: &[(&str, &str)], conf: Option<&str>) -> Settings {
    match run(args, env, conf) {
        Ok(inv) => match inv.settings() {
            Some(s) => s.clone(),
            None => panic!("{args}: no settings in {inv:?}"),
        },
        Err(e) => panic!("{args}: {e}"),
    }
}

fn error(args: &str, env: &[(&str, &str)], conf: Option<&str>) -> String {
    match run(args, env, conf) {
        Err(e) => e.to_string(),
        Ok(inv) => panic!("{args}: expected an error, got {inv:?}"),
    }
}

/// The effective value (as show-config renders it) and source of `name`.
fn value_of(s: &Settings, name: &str) -> Option<(String, String)> {
    s.values()
        .find(|(n, _, _)| *n == name)
        .map(|(_, v, src)| (v, src.to_string()))
}

#[test]
fn precedence_and_sources() {
    // (args, env, conf, expected http-port, expected source)
    let cases: &[(&str, Env<'_>, Option<&str>, &str, &str)] = &[
        (
            "start-dev --http-port=1",
            &[("KC_HTTP_PORT", "2")],
            Some("http-port=3"),
            "1",
            "cli",
        ),
        (
            "start-dev",
            &[("KC_HTTP_PORT", "2")],
            Some("http-port=3"),
            "2",
            "env KC_HTTP_PORT",
        ),
        (
            "start-dev",
            &[],
            Some("# port\n\nhttp-port=3"),
            "3",
            "file conf/portcullis.conf:3",
        ),
        ("start-dev", &[], None, "8080", "default"),
        // Empty values count as unset.
        (
            "start-dev",
            &[("KC_HTTP_PORT", "")],
            Some("http-port=3"),
            "3",
            "file conf/portcullis.conf:1",
        ),
        // The last occurrence on the command line wins.
        (
            "start-dev --http-port 1 --http-port=4",
            &[],
            None,
            "4",
            "cli",
        ),
        // Options may come before the command.
        ("--http-port=5 start-dev", &[], None, "5", "cli"),
    ];
    for (args, env, conf, want, source) in cases {
        let s = settings(args, env, *conf);
        assert_eq!(
            value_of(&s, "http-port"),
            Some(((*want).to_owned(), (*source).to_owned())),
            "{args}"
        );
        assert_eq!(s.http.port.to_string(), *want, "{args}");
    }
}

#[test]
fn dev_defaults() {
    let dev = settings("start-dev", &[], None);
    assert_eq!(dev.mode, Mode::Dev);
    assert!(dev.http.enabled);
    assert!(!dev.hostname.strict);
    assert_eq!(
        dev.db.kind,
        DbKind::SqliteFile(PathBuf::from("data/portcullis.db"))
    );
    let check = |s: &Settings, name: &str, value: &str, source: &str| {
        assert_eq!(
            value_of(s, name),
            Some((value.to_owned(), source.to_owned())),
            "{name}"
        );
    };
    check(&dev, "http-enabled", "true", "default (start-dev)");
    check(&dev, "hostname-strict", "false", "default (start-dev)");
    check(&dev, "db", "dev-file", "default");

    let prod = settings(
        "start --http-enabled=true --hostname-strict=false",
        &[],
        None,
    );
    assert_eq!(prod.mode, Mode::Prod);
    check(&prod, "http-enabled", "true", "cli");
    let prod = settings(
        "start --hostname=sso.example.com",
        &[("KC_HTTP_ENABLED", "TRUE")],
        None,
    );
    check(&prod, "hostname-strict", "true", "default");
    check(&prod, "http-enabled", "TRUE", "env KC_HTTP_ENABLED");
    assert!(prod.hostname.strict);

    // A source beats the start-dev default.
    let dev = settings("start-dev", &[("KC_HTTP_ENABLED", "false")], None);
    assert!(!dev.http.enabled);
    check(&dev, "http-enabled", "false", "env KC_HTTP_ENABLED");
}

#[test]
fn start_mode_rules() {
    let check = |args: &str, env: &[(&str, &str)], want: &str| {
        assert_eq!(error(args, env, None), want, "{args}");
    };
    check(
        "start --hostname=sso.example.com",
        &[],
        "Key material for HTTPS is not configured, and portcullis has no HTTPS listener: enable HTTP with --http-enabled=true (KC_HTTP_ENABLED=true) and end TLS at the gateway.",
    );
    check(
        "start --http-enabled=true",
        &[],
        "The hostname is not configured: set --hostname (KC_HOSTNAME), or set --hostname-strict=false (KC_HOSTNAME_STRICT=false) to take it from each request.",
    );
    check(
        "start-dev --hostname-strict=true",
        &[],
        "The hostname is not configured: set --hostname (KC_HOSTNAME), or set --hostname-strict=false (KC_HOSTNAME_STRICT=false) to take it from each request.",
    );
    check(
        "start-dev --hostname-backchannel-dynamic=true",
        &[],
        "'--hostname-backchannel-dynamic' is true, which needs --hostname (KC_HOSTNAME) to be a full URL such as 'https://sso.example.com/auth', but no hostname is set.",
    );
    check(
        "start-dev --hostname=sso.example.com",
        &[("KC_HOSTNAME_BACKCHANNEL_DYNAMIC", "true")],
        "'KC_HOSTNAME_BACKCHANNEL_DYNAMIC' is true, which needs --hostname (KC_HOSTNAME) to be a full URL such as 'https://sso.example.com/auth', but '--hostname' is the bare host 'sso.example.com'.",
    );
    check(
        "start-dev --proxy-trusted-addresses=10.0.0.0/8",
        &[],
        "'--proxy-trusted-addresses' is set but proxy-headers is not; set --proxy-headers (KC_PROXY_HEADERS) to 'forwarded' or 'xforwarded'.",
    );
    check(
        "start-dev",
        &[("KC_BOOTSTRAP_ADMIN_USERNAME", "admin")],
        "'KC_BOOTSTRAP_ADMIN_USERNAME' is set but no password is: set --bootstrap-admin-password (KC_BOOTSTRAP_ADMIN_PASSWORD) too.",
    );

    // The platform's production recipe.
    let s = settings(
        "start --hostname=https://public.example/auth --hostname-backchannel-dynamic=true --proxy-headers=xforwarded --http-enabled=true --http-relative-path=/auth --import-realm --health-enabled=true",
        &[],
        None,
    );
    assert_eq!(
        s.hostname.hostname,
        Some(Hostname::Url(
            url::Url::parse("https://public.example/auth").unwrap()
        ))
    );
    assert!(s.hostname.backchannel_dynamic);
    assert_eq!(s.proxy.headers, Some(ProxyHeaders::XForwarded));
    assert_eq!(s.http.relative_path, "/auth");
    assert_eq!(s.management.relative_path, "/auth");
    assert_eq!(s.management.port, 9000);
    assert!(s.import.import_realm);
    assert!(s.management.health_enabled);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("meant for development"))
    );

    // Keycloak's dev recipe, in the platform's compose file.
    let s = settings(
        "start-dev --http-enabled=true --proxy-headers=xforwarded --http-relative-path=/auth --hostname-strict=false --import-realm --health-enabled=true",
        &[
            ("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"),
            ("KC_BOOTSTRAP_ADMIN_PASSWORD", "admin"),
        ],
        None,
    );
    assert_eq!(s.bootstrap.username.as_deref(), Some("admin"));
    assert_eq!(
        s.bootstrap.password.as_ref().map(Secret::expose),
        Some("admin")
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn value_errors_name_the_option() {
    let cases: &[(&str, Env<'_>, Option<&str>, &str)] = &[
        (
            "start-dev --http-port=abc",
            &[],
            None,
            "Invalid value for option '--http-port': 'abc'. Expected a port number from 0 to 65535.",
        ),
        (
            "start-dev --http-port=70000",
            &[],
            None,
            "Invalid value for option '--http-port': '70000'. Expected a port number from 0 to 65535.",
        ),
        (
            "start-dev",
            &[("KC_HTTP_PORT", "abc")],
            None,
            "Invalid value for option 'KC_HTTP_PORT': 'abc'. Expected a port number from 0 to 65535.",
        ),
        (
            "start-dev",
            &[],
            Some("\nhttp-port=abc"),
            "Invalid value for option 'http-port' (conf/portcullis.conf:2): 'abc'. Expected a port number from 0 to 65535.",
        ),
        (
            "start-dev --hostname-strict=maybe",
            &[],
            None,
            "Invalid value for option '--hostname-strict': 'maybe'. Expected values are: true, false.",
        ),
        (
            "start-dev --proxy-headers=foo",
            &[],
            None,
            "Invalid value for option '--proxy-headers': 'foo'. Expected values are: forwarded, xforwarded.",
        ),
        (
            "start-dev --http-relative-path=auth",
            &[],
            None,
            "Invalid value for option '--http-relative-path': 'auth'. Expected a path starting with '/', e.g. '/' or '/auth'.",
        ),
        (
            "start-dev --http-management-relative-path=/a/../b",
            &[],
            None,
            "Invalid value for option '--http-management-relative-path': '/a/../b'. Expected a plain path; '.' and '..' segments are not allowed.",
        ),
        (
            "start-dev --hostname=ftp://x",
            &[],
            None,
            "Invalid value for option '--hostname': 'ftp://x'. Expected an http or https URL, not 'ftp'.",
        ),
        (
            "start-dev --hostname-admin=admin.example.com",
            &[],
            None,
            "Invalid value for option '--hostname-admin': 'admin.example.com'. Expected a full URL (relative URL without a base).",
        ),
        (
            "start-dev --proxy-headers=xforwarded --proxy-trusted-addresses=10.0.0.0/33",
            &[],
            None,
            "Invalid value for option '--proxy-trusted-addresses': '10.0.0.0/33'. '10.0.0.0/33' has an invalid prefix length (0-32). Expected IP addresses or CIDR ranges such as '10.0.0.0/8', separated by commas.",
        ),
        (
            "start-dev --db=mysql",
            &[],
            None,
            "Invalid value for option '--db': 'mysql'. Expected values are: dev-file, dev-mem, postgres. Portcullis stores its data in SQLite or PostgreSQL only.",
        ),
        (
            "start-dev --log=console,file",
            &[],
            None,
            "Invalid value for option '--log': 'console,file'. The 'file' log handler is not supported; only 'console' is (let the platform collect the console output).",
        ),
        (
            "start-dev --log-level=info,org.keycloak:loud",
            &[],
            None,
            "Invalid value for option '--log-level': 'info,org.keycloak:loud'. Unknown log level 'loud'; expected one of: all, trace, debug, info, warn, error, fatal, off.",
        ),
        (
            "start-dev --log-console-output=xml",
            &[],
            None,
            "Invalid value for option '--log-console-output': 'xml'. Expected values are: default, json.",
        ),
        (
            "start-dev --db=postgres --db-url=jdbc:postgresql://db/kc --db-schema=1bad",
            &[],
            None,
            "Invalid value for option '--db-schema': '1bad'. Expected a schema name of letters, digits and '_', not starting with a digit.",
        ),
        (
            "start-dev --db-pool-max-size=0",
            &[],
            None,
            "'--db-pool-max-size' must be at least 1.",
        ),
        (
            "start-dev --db-pool-min-size=30",
            &[],
            None,
            "'--db-pool-min-size' (30) is larger than 'db-pool-max-size' (20).",
        ),
        (
            "start-dev --db-pool-acquire-timeout=0",
            &[],
            None,
            "Invalid value for option '--db-pool-acquire-timeout': '0'. Expected a duration such as '5', '5s', '500ms' or '1m', more than zero.",
        ),
        (
            "start-dev --import-realm=yes",
            &[],
            None,
            "Invalid value for option '--import-realm': 'yes'. Expected values are: true, false.",
        ),
    ];
    for (args, env, conf, want) in cases {
        assert_eq!(error(args, env, *conf), *want, "{args}");
    }
}

#[test]
fn database_urls() {
    // (args, env, url, user, password, schema)
    type Row<'a> = (
        &'a str,
        Env<'a>,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );
    let cases: &[Row<'_>] = &[
        (
            "start-dev",
            &[
                ("KC_DB", "postgres"),
                ("KC_DB_URL", "jdbc:postgresql://db:5432/keycloak"),
            ],
            "postgres://db:5432/keycloak",
            None,
            None,
            None,
        ),
        (
            "start-dev",
            &[
                ("KC_DB", "postgres"),
                (
                    "KC_DB_URL",
                    "jdbc:postgresql://db:5432/keycloak?currentSchema=kc&sslmode=disable",
                ),
                ("KC_DB_USERNAME", "postgres"),
                ("KC_DB_PASSWORD", "pw"),
            ],
            "postgres://db:5432/keycloak?sslmode=disable",
            Some("postgres"),
            Some("pw"),
            Some("kc"),
        ),
        (
            // Options beat URL properties.
            "start-dev --db=postgres --db-username=opt --db-schema=s",
            &[(
                "KC_DB_URL",
                "jdbc:postgresql://[::1]/kc?user=url&password=urlpw&currentSchema=kc",
            )],
            "postgres://[::1]/kc",
            Some("opt"),
            Some("urlpw"),
            Some("s"),
        ),
        (
            "start-dev --db=postgres --db-url-host=db",
            &[
                ("KC_DB_URL_DATABASE", "kc"),
                ("KC_DB_URL_PROPERTIES", "?sslmode=require"),
            ],
            "postgres://db:5432/kc?sslmode=require",
            None,
            None,
            None,
        ),
        (
            "start-dev --db=postgres --db-url=postgres://u:p@db/kc",
            &[],
            "postgres://db/kc",
            Some("u"),
            Some("p"),
            None,
        ),
    ];
    for (args, env, url, user, password, schema) in cases {
        let s = settings(args, env, None);
        assert_eq!(s.db.kind, DbKind::Postgres, "{args}");
        assert_eq!(s.db.url.as_deref(), Some(*url), "{args}");
        assert_eq!(s.db.username.as_deref(), *user, "{args}");
        assert_eq!(
            s.db.password.as_ref().map(Secret::expose),
            *password,
            "{args}"
        );
        assert_eq!(s.db.schema.as_deref(), *schema, "{args}");
    }

    let errors: &[(&str, Env<'_>, &str)] = &[
        (
            "start-dev --db=postgres",
            &[],
            "The database is 'postgres' (cli) but no database URL is set: set KC_DB_URL (--db-url), e.g. 'jdbc:postgresql://HOST:5432/DATABASE', or KC_DB_URL_HOST (--db-url-host).",
        ),
        (
            "start-dev --db=postgres --db-url=mysql://db/kc",
            &[],
            "Invalid value for option '--db-url': 'mysql://db/kc'. Expected a PostgreSQL URL such as 'jdbc:postgresql://HOST:5432/DATABASE' or 'postgres://HOST:5432/DATABASE'.",
        ),
        (
            "start-dev",
            &[
                ("KC_DB", "postgres"),
                ("KC_DB_URL", "jdbc:mysql://db:3306/kc"),
            ],
            "Invalid value for option 'KC_DB_URL': 'jdbc:mysql://db:3306/kc'. JDBC sub-protocol 'mysql' is not supported; portcullis connects to PostgreSQL (jdbc:postgresql://HOST[:PORT]/DATABASE).",
        ),
        (
            "start-dev",
            &[
                ("KC_DB", "postgres"),
                ("KC_DB_URL", "jdbc:postgresql://db:abc/kc?password=s3cret"),
            ],
            "Invalid value for option 'KC_DB_URL': 'jdbc:postgresql://db:abc/kc?password=*******'. Malformed database URL: invalid port number.",
        ),
        (
            "start-dev",
            &[
                ("KC_DB", "postgres"),
                ("KC_DB_URL", "jdbc:postgresql://db:5432/"),
            ],
            "Invalid value for option 'KC_DB_URL': 'jdbc:postgresql://db:5432/'. Malformed database URL: it names no database; expected jdbc:postgresql://HOST[:PORT]/DATABASE.",
        ),
        (
            "start-dev",
            &[("KC_DB_URL", "jdbc:postgresql://db:5432/keycloak")],
            "'KC_DB_URL' is a PostgreSQL URL, but the database is 'dev-file' (default); set --db=postgres (KC_DB=postgres) to use PostgreSQL.",
        ),
        (
            "start-dev --db=postgres",
            &[("KC_DB_URL", "jdbc:postgresql://db/kc?currentSchema=a,b")],
            "The currentSchema property of the database URL is invalid: 'a,b'. Expected a schema name of letters, digits and '_', not starting with a digit.",
        ),
    ];
    for (args, env, want) in errors {
        assert_eq!(error(args, env, None), *want, "{args}");
    }

    // SQLite forms.
    let kind = |args: &str| settings(args, &[], None).db.kind;
    assert_eq!(kind("start-dev --db=dev-mem"), DbKind::SqliteMemory);
    assert_eq!(
        kind("start-dev --db=sqlite --data-dir=/var/lib/pc"),
        DbKind::SqliteFile(PathBuf::from("/var/lib/pc/portcullis.db"))
    );
    assert_eq!(
        kind("start-dev --db-url=sqlite://x/y.db"),
        DbKind::SqliteFile(PathBuf::from("x/y.db"))
    );

    // Unused JDBC properties are reported, not fatal.
    let s = settings(
        "start-dev --db=postgres --db-url=jdbc:postgresql://db/kc?tcpKeepAlive=true",
        &[],
        None,
    );
    assert_eq!(
        s.warnings,
        vec![
            "Ignoring database URL properties that have no equivalent here: tcpKeepAlive."
                .to_owned()
        ]
    );
}

#[test]
fn deprecated_admin_variables() {
    let s = settings(
        "start-dev",
        &[
            ("KEYCLOAK_ADMIN", "admin"),
            ("KEYCLOAK_ADMIN_PASSWORD", "pw"),
        ],
        None,
    );
    assert_eq!(s.bootstrap.username.as_deref(), Some("admin"));
    assert_eq!(
        s.bootstrap.password.as_ref().map(Secret::expose),
        Some("pw")
    );
    assert_eq!(
        s.source("bootstrap-admin-username"),
        Some(&Source::Env("KEYCLOAK_ADMIN".to_owned()))
    );
    assert_eq!(
        s.warnings,
        vec![
            "KEYCLOAK_ADMIN is deprecated; use KC_BOOTSTRAP_ADMIN_USERNAME instead.".to_owned(),
            "KEYCLOAK_ADMIN_PASSWORD is deprecated; use KC_BOOTSTRAP_ADMIN_PASSWORD instead."
                .to_owned(),
        ]
    );

    let s = settings(
        "start-dev",
        &[
            ("KEYCLOAK_ADMIN", "old"),
            ("KC_BOOTSTRAP_ADMIN_USERNAME", "new"),
            ("KC_BOOTSTRAP_ADMIN_PASSWORD", "pw"),
        ],
        None,
    );
    assert_eq!(s.bootstrap.username.as_deref(), Some("new"));
    assert_eq!(
        s.warnings,
        vec![
            "KEYCLOAK_ADMIN is deprecated and ignored because KC_BOOTSTRAP_ADMIN_USERNAME is set."
                .to_owned()
        ]
    );

    // Only a password: the user name defaults to temp-admin, as in Keycloak.
    let s = settings("start-dev", &[("KC_BOOTSTRAP_ADMIN_PASSWORD", "pw")], None);
    assert_eq!(s.bootstrap.username.as_deref(), Some("temp-admin"));
    assert_eq!(s.source("bootstrap-admin-username"), Some(&Source::Default));
    let s = settings("start-dev", &[], None);
    assert_eq!(s.bootstrap, BootstrapSettings::default());
}

#[test]
fn show_config_masks_secrets() {
    let inv = run(
        "show-config --db=postgres",
        &[
            (
                "KC_DB_URL",
                "jdbc:postgresql://db/kc?user=u&password=urlsecret",
            ),
            ("KC_DB_PASSWORD", "dbsecret"),
            ("KC_BOOTSTRAP_ADMIN_PASSWORD", "adminsecret"),
        ],
        Some("http-port=8081"),
    );
    let Ok(Invocation::ShowConfig {
        settings: shown,
        all,
    }) = inv
    else {
        panic!("{inv:?}");
    };
    assert!(!all);
    let text = shown.show(false);
    assert_eq!(
        text,
        "Current Mode: production\n\
         Current Configuration:\n  \
         http-port = 8081 (file conf/portcullis.conf:1)\n  \
         db = postgres (cli)\n  \
         db-url = jdbc:postgresql://db/kc?user=u&password=******* (env KC_DB_URL)\n  \
         db-password = ******* (env KC_DB_PASSWORD)\n  \
         bootstrap-admin-password = ******* (env KC_BOOTSTRAP_ADMIN_PASSWORD)\n"
    );
    let everything = shown.show(true);
    assert!(everything.contains("  http-enabled = false (default)\n"));
    assert!(everything.contains("  bootstrap-admin-username = temp-admin (default)\n"));
    assert!(everything.contains("  import-dir = data/import (default)\n"));
    for secret in ["urlsecret", "dbsecret", "adminsecret"] {
        assert!(!everything.contains(secret));
        assert!(
            !format!("{shown:?}").contains(secret),
            "Debug shows {secret}"
        );
    }
    assert!(matches!(
        run("show-config all", &[], None),
        Ok(Invocation::ShowConfig { all: true, .. })
    ));
    // show-config does not apply the start rules.
    assert!(run("show-config --hostname-backchannel-dynamic=true", &[], None).is_ok());

    let dev = settings("start-dev", &[], None);
    assert!(
        dev.show(true)
            .starts_with("Current Mode: development (start-dev)\n")
    );
    assert!(
        dev.show(true)
            .contains("  http-enabled = true (default (start-dev))\n")
    );
}

#[test]
fn conf_file_end_to_end() {
    let conf = "# Portcullis\n\
                db=postgres\n\
                db-url=jdbc:postgresql://${DB_HOST:localhost}:5432/${DB_NAME}\n\
                \n\
                db-password=${DB_PASSWORD}\n\
                hostname=https://${DOMAIN:sso.example.com}/auth\n";
    let s = settings(
        "start --http-enabled=true",
        &[("DB_NAME", "kc"), ("DB_PASSWORD", "pw")],
        Some(conf),
    );
    assert_eq!(s.db.url.as_deref(), Some("postgres://localhost:5432/kc"));
    assert_eq!(s.db.password.as_ref().map(Secret::expose), Some("pw"));
    assert_eq!(
        s.source("db-password").map(ToString::to_string).as_deref(),
        Some("file conf/portcullis.conf:5")
    );
    assert_eq!(
        s.hostname
            .hostname
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("https://sso.example.com/auth")
    );
    assert_eq!(
        error("start-dev", &[], Some("a=1\nhostnme=x")),
        "conf/portcullis.conf:1: unknown option 'a'."
    );
    assert_eq!(
        error("start-dev", &[], Some("hostnme=x")),
        "conf/portcullis.conf:1: unknown option 'hostnme'. Did you mean 'hostname'?"
    );
}

#[test]
fn environment_warnings_and_scopes() {
    let s = settings(
        "start-dev",
        &[("KC_HOSTNAME_URL", "x"), ("KC_RUN_IN_CONTAINER", "true")],
        None,
    );
    assert_eq!(
        s.warnings,
        vec![
            "Ignoring environment variables that are not portcullis options: KC_HOSTNAME_URL (did you mean KC_HOSTNAME?)"
                .to_owned()
        ]
    );
    // Server options in the environment or the file do not trouble other commands.
    let inv = run(
        "export --dir out",
        &[("KC_HOSTNAME", "not a host!"), ("KC_HTTP_PORT", "abc")],
        Some("http-relative-path=bad"),
    );
    let Ok(Invocation::Export { settings, .. }) = inv else {
        panic!("{inv:?}");
    };
    assert_eq!(settings.http.port, 8080);
    assert_eq!(settings.source("http-port"), Some(&Source::Default));
}

#[test]
fn import_export_bootstrap() {
    let check = |args: &str, want: &dyn Fn(&Invocation) -> bool| {
        let inv = run(args, &[], None).unwrap_or_else(|e| panic!("{args}: {e}"));
        assert!(want(&inv), "{args}: {inv:?}");
    };
    check(
        "import --dir data/import",
        &|i| matches!(i, Invocation::Import { source: ImportSource::Dir(d), override_existing: true, .. } if d == Path::new("data/import")),
    );
    check("import --file realm.json --override false", &|i| {
        matches!(
            i,
            Invocation::Import {
                source: ImportSource::File(_),
                override_existing: false,
                ..
            }
        )
    });
    check("import --file realm.json --override", &|i| {
        matches!(
            i,
            Invocation::Import {
                override_existing: true,
                ..
            }
        )
    });
    check("export --dir out", &|i| {
        matches!(
            i,
            Invocation::Export {
                target: ExportTarget::Dir(_),
                realm: None,
                users: UsersStrategy::DifferentFiles,
                users_per_file: 50,
                ..
            }
        )
    });
    check(
        "export --file all.json --realm myrealm",
        &|i| matches!(i, Invocation::Export { target: ExportTarget::File(_), realm: Some(r), users: UsersStrategy::RealmFile, .. } if r == "myrealm"),
    );
    check(
        "export --dir out --users different_files --users-per-file 10",
        &|i| {
            matches!(
                i,
                Invocation::Export {
                    users_per_file: 10,
                    ..
                }
            )
        },
    );
    check(
        "export --dir out --users same_file --db dev-mem",
        &|i| matches!(i, Invocation::Export { users: UsersStrategy::SameFile, settings, .. } if settings.db.kind == DbKind::SqliteMemory),
    );
    check(
        "bootstrap-admin user --username tmp --password:env PASS --no-prompt",
        &|i| matches!(i, Invocation::BootstrapAdminUser { username: Some(u), password_env: Some(p), no_prompt: true, .. } if u == "tmp" && p == "PASS"),
    );
    check(
        "bootstrap-admin service --client-secret:env=SECRET",
        &|i| matches!(i, Invocation::BootstrapAdminService { client_id: None, client_secret_env: Some(s), no_prompt: false, .. } if s == "SECRET"),
    );

    let errors: &[(&str, &str)] = &[
        (
            "import",
            "The 'import' command needs --dir <directory> or --file <file>.",
        ),
        (
            "import --dir a --file b",
            "The 'import' command takes either --dir or --file, not both.",
        ),
        (
            "import --dir a --override maybe",
            "Invalid value for option '--override': 'maybe'. Expected values are: true, false.",
        ),
        (
            "import --dir a --override=maybe",
            "Invalid value for option '--override': 'maybe'. Expected values are: true, false.",
        ),
        (
            "start-dev --import-realm maybe",
            "Invalid value for option '--import-realm': 'maybe'. Expected values are: true, false.",
        ),
        (
            "export --file a.json --users different_files",
            "--users=different_files writes separate user files and needs --dir; with --file use realm_file or skip.",
        ),
        (
            "export --dir a --users realm_file --users-per-file 5",
            "--users-per-file applies only with --users=different_files (here: realm_file).",
        ),
        (
            "export --dir a --users-per-file 0",
            "Invalid value for option '--users-per-file': '0'. Expected a whole number greater than 0.",
        ),
        (
            "export --dir a --users all",
            "Invalid value for option '--users': 'all'. Expected values are: different_files, skip, realm_file, same_file.",
        ),
        (
            "export --dir a --import-realm",
            "Option '--import-realm' is not available for the 'export' command; it applies to the start, start-dev and show-config commands.",
        ),
        (
            "start --file x",
            "Option '--file' is not available for the 'start' command; it applies to the import and export commands.",
        ),
        (
            "import --dir d --db=postgres",
            "The database is 'postgres' (cli) but no database URL is set: set KC_DB_URL (--db-url), e.g. 'jdbc:postgresql://HOST:5432/DATABASE', or KC_DB_URL_HOST (--db-url-host).",
        ),
    ];
    for (args, want) in errors {
        assert_eq!(error(args, &[], None), *want, "{args}");
    }
}

#[test]
fn typed_values() {
    let s = settings(
        "start-dev --http-relative-path=/auth/ --http-host=[::] --proxy-headers=FORWARDED --proxy-trusted-addresses=10.0.0.0/8,::1 --log-level=debug,org.keycloak.events:trace --log-console-output=json --features=token-exchange,,preview --db-pool-acquire-timeout=500ms --import-realm --data-dir=/srv/pc",
        &[],
        None,
    );
    assert_eq!(s.http.relative_path, "/auth");
    assert_eq!(s.http.host, "::");
    assert_eq!(s.management.host, "::");
    assert_eq!(s.management.relative_path, "/auth");
    assert_eq!(s.proxy.headers, Some(ProxyHeaders::Forwarded));
    assert_eq!(s.proxy.trusted.len(), 2);
    assert_eq!(s.log.filter_directive(), "debug,org.keycloak.events=trace");
    assert_eq!(s.log.output, LogOutput::Json);
    assert_eq!(s.features.enabled, vec!["token-exchange", "preview"]);
    assert_eq!(s.db.acquire_timeout, std::time::Duration::from_millis(500));
    assert!(s.import.import_realm);
    assert_eq!(s.import.dir, PathBuf::from("/srv/pc/import"));
    assert_eq!(s.data_dir, PathBuf::from("/srv/pc"));
    assert_eq!(s.config_file, PathBuf::from(DEFAULT_CONFIG_FILE));

    let s = settings(
        "start-dev --http-management-relative-path=/ --http-relative-path=/auth",
        &[],
        None,
    );
    assert_eq!(s.management.relative_path, "/");
}

#[test]
fn help_is_an_invocation() {
    for args in [
        "",
        "--help",
        "-h",
        "start --help",
        "export -h",
        "--version",
        "bootstrap-admin --help",
    ] {
        assert!(
            matches!(run(args, &[], None), Ok(Invocation::Help(_))),
            "{args}"
        );
    }
}

#[test]
fn config_file_location() {
    let args = |s: &str| -> Vec<OsString> { s.split_whitespace().map(OsString::from).collect() };
    let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        config_file_path(&args("start-dev"), &env(&[])),
        (PathBuf::from(DEFAULT_CONFIG_FILE), false)
    );
    assert_eq!(
        config_file_path(
            &args("start-dev"),
            &env(&[("KC_CONFIG_FILE", "/etc/pc.conf")])
        ),
        (PathBuf::from("/etc/pc.conf"), true)
    );
    assert_eq!(
        config_file_path(
            &args("-cf x.conf start-dev"),
            &env(&[("KC_CONFIG_FILE", "/etc/pc.conf")])
        ),
        (PathBuf::from("x.conf"), true)
    );
    assert_eq!(
        config_file_path(&args("start-dev --config-file=y.conf"), &env(&[])),
        (PathBuf::from("y.conf"), true)
    );
}
