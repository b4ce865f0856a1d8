//! The `portcullis` binary, end to end: configuration errors, start-up with realm import,
//! the management interface, import/export commands and their failure modes, on SQLite and
//! PostgreSQL. Every test runs the real binary in a private folder.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::*;
use serde_json::Value;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

// ---------- configuration errors ----------

#[test]
fn unknown_option_is_named_with_a_suggestion() {
    let w = Workdir::new();
    let o = w.run(&["start-dev", "--http-prot=8080"], &[]);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(
        t.contains("--http-prot") && t.contains("--http-port"),
        "{t}"
    );
}

#[test]
fn malformed_values_are_rejected() {
    let w = Workdir::new();
    for (args, needle) in [
        (vec!["start-dev", "--http-port=abc"], "http-port"),
        (
            vec!["start-dev", "--hostname-strict=maybe"],
            "hostname-strict",
        ),
        (vec!["start-dev", "--proxy-headers=foo"], "proxy-headers"),
        (
            vec!["start-dev", "--db=postgres", "--db-url=jdbc:mysql://h/db"],
            "db-url",
        ),
        (
            vec!["start-dev", "--db=postgres", "--db-url=jdbc:postgresql://"],
            "db-url",
        ),
        (vec!["start-dev", "--log-level=chatty"], "chatty"),
    ] {
        let o = w.run(&args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
        assert!(!text(&o).contains("panicked"));
    }
}

#[test]
fn start_refuses_plain_http_and_missing_hostname() {
    let w = Workdir::new();
    let o = w.run(&["start", "--hostname-strict=false"], &[]);
    assert_ne!(o.status.code(), Some(0));
    assert!(text(&o).contains("--http-enabled=true"), "{}", text(&o));
    let o = w.run(&["start", "--http-enabled=true"], &[]);
    assert_ne!(o.status.code(), Some(0));
    assert!(text(&o).contains("hostname"), "{}", text(&o));
}

#[test]
fn unreachable_database_is_a_clear_error_not_a_panic() {
    let w = Workdir::new();
    let o = w.run(
        &[
            "start-dev",
            "--db=postgres",
            "--db-url=jdbc:postgresql://127.0.0.1:1/keycloak",
            "--db-password=topsecret",
            "--http-port=0",
            "--http-management-port=0",
            "--db-pool-acquire-timeout=2",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("cannot open the database"), "{t}");
    assert!(!t.contains("topsecret"), "password leaked: {t}");
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn show_config_masks_secrets_and_names_sources() {
    let w = Workdir::new();
    w.write("conf/portcullis.conf", "http-port=8181\n");
    let o = w.run(
        &["show-config", "--db-password=hunter2", "--log-level=debug"],
        &[("KC_HTTP_PORT", "8282")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    assert!(!t.contains("hunter2"), "{t}");
    assert!(t.contains("8282"), "env beats the file: {t}");
    assert!(t.contains("KC_HTTP_PORT"), "{t}");
}

// ---------- start-up ----------

#[tokio::test(flavor = "multi_thread")]
async fn start_dev_imports_the_example_realm_and_serves_health() {
    let w = Workdir::new();
    w.write("data/import/myrealm-realm.json", &Workdir::example_realm());
    let mut s = Server::start(
        w.path(),
        &[
            "start-dev",
            "--import-realm",
            "--http-relative-path=/auth",
            "--health-enabled=true",
            "--metrics-enabled=true",
        ],
        &[
            ("KC_BOOTSTRAP_ADMIN_USERNAME", "boss"),
            ("KC_BOOTSTRAP_ADMIN_PASSWORD", "b0ss-pw"),
        ],
    )
    .expect("server starts");
    let c = client();
    let root = c.get(format!("{}/", s.origin())).send().await.unwrap();
    assert!(root.status().is_redirection());
    assert_eq!(root.headers()["location"], "/auth/");
    let realm: Value = c
        .get(format!("{}/auth/realms/myrealm", s.origin()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(realm["realm"], "myrealm");
    let missing = c
        .get(format!("{}/auth/realms/nope", s.origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let m = s.management_origin();
    for path in [
        "/auth/health",
        "/auth/health/live",
        "/auth/health/ready",
        "/auth/health/started",
    ] {
        let r = c.get(format!("{m}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], "UP", "{path}");
    }
    let metrics = c
        .get(format!("{m}/auth/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("http_server_requests_seconds_count"),
        "{metrics}"
    );
    assert!(
        metrics.contains("uri=\"/auth/realms/{realm}\""),
        "{metrics}"
    );
    assert!(
        metrics.contains("portcullis_db_pool_connections"),
        "{metrics}"
    );
    assert!(
        metrics.contains("process_resident_memory_bytes"),
        "{metrics}"
    );
    assert!(s.stop(), "clean exit on SIGTERM");

    // Restart: the realm exists, the import is skipped, the bootstrap admin is not recreated.
    let mut s = Server::start(
        w.path(),
        &[
            "start-dev",
            "--import-realm",
            "--http-relative-path=/auth",
            "--health-enabled=true",
        ],
        &[
            ("KC_BOOTSTRAP_ADMIN_USERNAME", "other"),
            ("KC_BOOTSTRAP_ADMIN_PASSWORD", "x"),
        ],
    )
    .expect("restart");
    let log = s.all_log();
    assert!(
        log.contains("Realm 'myrealm' already exists. Import skipped"),
        "{log}"
    );
    assert!(!log.contains("Created temporary admin user"), "{log}");
    assert!(s.stop());

    // The export shows the bootstrap admin in master and the realm's management client.
    let o = w.run(&["export", "--file=out.json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let all: Value =
        serde_json::from_str(&std::fs::read_to_string(w.path().join("out.json")).unwrap()).unwrap();
    let master = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["realm"] == "master")
        .expect("master exported");
    assert!(
        master["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "boss")
    );
    assert!(
        !master["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "other")
    );
    assert!(
        master["clients"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["clientId"] == "myrealm-realm")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deprecated_admin_variables_still_work_with_a_warning() {
    let w = Workdir::new();
    let mut s = Server::start(
        w.path(),
        &["start-dev"],
        &[
            ("KEYCLOAK_ADMIN", "old"),
            ("KEYCLOAK_ADMIN_PASSWORD", "old-pw"),
        ],
    )
    .expect("server starts");
    let log = s.all_log();
    assert!(
        log.contains("KEYCLOAK_ADMIN"),
        "a deprecation warning names the variable: {log}"
    );
    assert!(
        log.contains("Created temporary admin user with username old"),
        "{log}"
    );
    assert!(s.stop());
}

#[tokio::test(flavor = "multi_thread")]
async fn start_on_postgres_with_a_jdbc_url_and_schema() {
    let w = Workdir::new();
    w.write("data/import/myrealm-realm.json", &Workdir::example_realm());
    let (jdbc, _schema) = pg_jdbc_with_fresh_schema();
    let args = [
        "start",
        "--http-enabled=true",
        "--hostname-strict=false",
        "--import-realm",
        "--health-enabled=true",
        "--db=postgres",
    ];
    let env = [
        ("KC_DB_URL", jdbc.as_str()),
        ("KC_DB_USERNAME", "postgres"),
        ("KC_BOOTSTRAP_ADMIN_USERNAME", "admin"),
        ("KC_BOOTSTRAP_ADMIN_PASSWORD", "pw"),
    ];
    let mut s = Server::start(w.path(), &args, &env).expect("server starts on PostgreSQL");
    let c = client();
    let ready = c
        .get(format!("{}/health/ready", s.management_origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let realm: Value = c
        .get(format!("{}/realms/myrealm", s.origin()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(realm["realm"], "myrealm");
    // A second node on the same database starts too (migrations under the advisory lock).
    let mut s2 = Server::start(w.path(), &args, &env).expect("second node starts");
    assert!(s2.all_log().contains("already exists. Import skipped"));
    assert!(s.stop());
    assert!(s2.stop());
}

// ---------- import errors: a bad file leaves nothing behind ----------

fn import_fails(realm_json: &str, needles: &[&str]) {
    let w = Workdir::new();
    let file = w.write("in/bad-realm.json", realm_json);
    let o = w.run(&["import", &format!("--file={}", file.display())], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    for n in needles {
        assert!(t.contains(n), "expected '{n}' in: {t}");
    }
    assert!(!t.contains("panicked"), "{t}");
    // Nothing of the realm was written.
    let o = w.run(&["export", "--file=after.json"], &[]);
    let after = std::fs::read_to_string(w.path().join("after.json")).unwrap_or_default();
    assert!(o.status.success(), "{}", text(&o));
    assert!(!after.contains("\"realm\": \"bad\""), "{after}");
}

#[test]
fn malformed_json_reports_file_line_and_column() {
    import_fails(
        "{\n  \"realm\": \"bad\",\n  \"enabled\": true,,\n}",
        &["bad-realm.json", "line 3", "column"],
    );
}

#[test]
fn wrong_type_reports_the_json_path() {
    import_fails(
        r#"{"realm": "bad", "users": [{"username": "a", "enabled": "yes"}]}"#,
        &["bad-realm.json", "users[0].enabled"],
    );
}

#[test]
fn unknown_composite_aborts_the_realm() {
    import_fails(
        r#"{"realm": "bad", "enabled": true, "users": [{"username": "a", "enabled": true}],
            "roles": {"realm": [{"name": "x", "composites": {"realm": ["nope"]}}]}}"#,
        &["realm role 'nope' does not exist"],
    );
}

#[test]
fn composite_cycle_aborts_the_realm() {
    import_fails(
        r#"{"realm": "bad", "roles": {"realm": [
            {"name": "a", "composites": {"realm": ["b"]}},
            {"name": "b", "composites": {"realm": ["c"]}},
            {"name": "c", "composites": {"realm": ["a"]}}]}}"#,
        &["cycle", "a -> b -> c -> a"],
    );
}

#[test]
fn duplicate_usernames_and_client_ids_abort_the_realm() {
    import_fails(
        r#"{"realm": "bad", "users": [{"username": "Ann"}, {"username": "ann"}]}"#,
        &["duplicate username 'ann'"],
    );
    import_fails(
        r#"{"realm": "bad", "clients": [{"clientId": "x"}, {"clientId": "x"}]}"#,
        &["duplicate clientId 'x'"],
    );
}

#[test]
fn unresolved_placeholder_in_a_secret_names_the_variable_and_file() {
    import_fails(
        r#"{"realm": "bad", "clients": [{"clientId": "app", "secret": "${PORTCULLIS_TEST_UNSET_SECRET}"}]}"#,
        &[
            "bad-realm.json",
            "PORTCULLIS_TEST_UNSET_SECRET",
            "client 'app' secret",
        ],
    );
    import_fails(
        r#"{"realm": "bad", "users": [{"username": "u", "credentials": [{"type": "password", "value": "${NOPE_PW}"}]}]}"#,
        &["NOPE_PW", "password"],
    );
}

#[test]
fn placeholders_resolve_from_the_environment_and_unset_ones_warn() {
    let w = Workdir::new();
    let file = w.write(
        "in/sub-realm.json",
        r#"{"realm": "sub", "enabled": true, "displayName": "${SUB_NAME:fallback}", "attributes": {"x": "${SUB_UNSET}", "i18n": "${role_uma_authorization}"},
            "clients": [{"clientId": "app", "secret": "${SUB_SECRET,OTHER:dflt}"}]}"#,
    );
    let o = w.run(
        &["import", &format!("--file={}", file.display())],
        &[("SUB_NAME", "From Env"), ("OTHER", "second")],
    );
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("SUB_UNSET"),
        "one warning lists unset variables: {t}"
    );
    assert!(
        !t.contains("role_uma_authorization"),
        "i18n keys are not warned about: {t}"
    );
    let o = w.run(&["export", "--realm=sub", "--file=sub.json"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let rep: Value =
        serde_json::from_str(&std::fs::read_to_string(w.path().join("sub.json")).unwrap()).unwrap();
    assert_eq!(rep["displayName"], "From Env");
    assert_eq!(rep["attributes"]["x"], "${SUB_UNSET}");
    let app = rep["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == "app")
        .unwrap();
    assert_eq!(app["secret"], "second");
}

#[test]
fn master_file_is_skipped_while_master_exists() {
    let w = Workdir::new();
    let master = w.write(
        "in/master-realm.json",
        r#"{"realm": "master", "enabled": true, "displayName": "From file"}"#,
    );
    // First import creates master from the file.
    let o = w.run(
        &[
            "import",
            &format!("--file={}", master.display()),
            "--override=false",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = w.run(
        &[
            "import",
            &format!("--file={}", master.display()),
            "--override=false",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("already exists. Import skipped"),
        "{}",
        text(&o)
    );
}

// ---------- export / import round trip ----------

fn round_trip(db_args: &[String]) {
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        v.extend(db_args.iter().cloned());
        v
    };
    let run = |w: &Workdir, a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = w.run(&refs, &[]);
        assert!(o.status.success(), "{refs:?}: {}", text(&o));
        o
    };
    let first = Workdir::new();
    let file = first.write("myrealm-realm.json", &Workdir::example_realm());
    run(
        &first,
        args(&["import", &format!("--file={}", file.display())]),
    );
    run(
        &first,
        args(&[
            "export",
            "--dir=out",
            "--users=different_files",
            "--users-per-file=2",
        ]),
    );
    let files: Vec<_> = std::fs::read_dir(first.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        files.contains(&"myrealm-realm.json".to_string()),
        "{files:?}"
    );
    assert!(
        files.contains(&"myrealm-users-0.json".to_string())
            && files.contains(&"myrealm-users-1.json".to_string()),
        "{files:?}"
    );
    run(
        &first,
        args(&["export", "--realm=myrealm", "--file=one.json"]),
    );

    // Into an empty database: a fresh folder (SQLite) or a fresh schema (PostgreSQL).
    let second = Workdir::new();
    let mut db2: Vec<String> = db_args.to_vec();
    if let Some(url) = db2.iter_mut().find(|a| a.starts_with("--db-url=")) {
        let (fresh, _) = pg_jdbc_with_fresh_schema();
        *url = format!("--db-url={fresh}");
    }
    let with2 = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        v.extend(db2.iter().cloned());
        v
    };
    let out = first.path().join("out");
    run(
        &second,
        with2(&["import", &format!("--dir={}", out.display())]),
    );
    run(
        &second,
        with2(&["export", "--realm=myrealm", "--file=two.json"]),
    );
    let a = std::fs::read_to_string(first.path().join("one.json")).unwrap();
    let b = std::fs::read_to_string(second.path().join("two.json")).unwrap();
    assert_eq!(a, b, "export -> import -> export changed the document");
    let rep: Value = serde_json::from_str(&a).unwrap();
    assert_eq!(rep["users"].as_array().unwrap().len(), 4);
    assert!(a.contains("secretData"), "passwords are exported hashed");
    assert!(!a.contains("\"value\""), "no plaintext values");
}

#[test]
fn export_import_export_is_identical_on_sqlite() {
    round_trip(&[]);
}

#[test]
fn export_import_export_is_identical_on_postgres() {
    let (jdbc, _) = pg_jdbc_with_fresh_schema();
    round_trip(&[
        "--db=postgres".into(),
        format!("--db-url={jdbc}"),
        "--db-username=postgres".into(),
    ]);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_works_while_the_server_runs() {
    let w = Workdir::new();
    w.write("data/import/myrealm-realm.json", &Workdir::example_realm());
    let mut s =
        Server::start(w.path(), &["start-dev", "--import-realm"], &[]).expect("server starts");
    let o = w.run(&["export", "--realm=myrealm", "--file=live.json"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let rep: Value =
        serde_json::from_str(&std::fs::read_to_string(w.path().join("live.json")).unwrap())
            .unwrap();
    assert_eq!(rep["realm"], "myrealm");
    let r = client()
        .get(format!("{}/realms/myrealm", s.origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the server keeps serving");
    assert!(s.stop());
}

#[test]
fn bootstrap_admin_user_command() {
    let w = Workdir::new();
    let o = w.run(
        &[
            "bootstrap-admin",
            "user",
            "--username=ops",
            "--password:env=OPS_PW",
            "--no-prompt",
        ],
        &[("OPS_PW", "s3cure!")],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = w.run(
        &[
            "bootstrap-admin",
            "user",
            "--username=ops",
            "--password:env=OPS_PW",
            "--no-prompt",
        ],
        &[("OPS_PW", "s3cure!")],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    let o = w.run(
        &[
            "bootstrap-admin",
            "user",
            "--username=x",
            "--password:env=MISSING",
            "--no-prompt",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("MISSING"), "{}", text(&o));
}

#[test]
fn bootstrap_admin_service_command() {
    let w = Workdir::new();
    let args = [
        "bootstrap-admin",
        "service",
        "--client-id=ops-bot",
        "--client-secret:env=BOT_SECRET",
        "--no-prompt",
    ];
    let o = w.run(&args, &[("BOT_SECRET", "bot-s3cret")]);
    assert!(o.status.success(), "{}", text(&o));
    let o = w.run(&args, &[("BOT_SECRET", "bot-s3cret")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    let o = w.run(&["export", "--realm=master", "--file=m.json"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(w.path().join("m.json")).unwrap()).unwrap();
    let c = m["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == "ops-bot")
        .expect("client exported");
    assert_eq!(c["secret"], "bot-s3cret");
    assert_eq!(c["serviceAccountsEnabled"], true);
    let sa = m["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "service-account-ops-bot")
        .expect("service account");
    assert!(
        sa["realmRoles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "admin")
    );
    assert!(
        c["defaultClientScopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "profile")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bootstrap_admin_client_from_the_environment() {
    let w = Workdir::new();
    let env = [
        ("KC_BOOTSTRAP_ADMIN_CLIENT_ID", "boot-svc"),
        ("KC_BOOTSTRAP_ADMIN_CLIENT_SECRET", "boot-secret"),
    ];
    let mut s = Server::start(w.path(), &["start-dev"], &env).expect("server starts");
    assert!(
        s.all_log()
            .contains("Created temporary admin service account with client id boot-svc")
    );
    assert!(s.stop());
    let mut s = Server::start(w.path(), &["start-dev"], &env).expect("restart");
    assert!(
        !s.all_log()
            .contains("Created temporary admin service account"),
        "created once"
    );
    assert!(s.stop());
}

/// REL-2: readiness follows the database; API calls fail fast while it is down; everything
/// recovers without a restart when it is back.
#[tokio::test(flavor = "multi_thread")]
async fn readiness_follows_a_database_outage() {
    let pg = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pg");
    let dir = tempfile::tempdir().unwrap();
    let pgdir = dir.path().join("pg");
    let pgdir_s = pgdir.to_str().unwrap().to_string();
    let start = |port: Option<&str>| {
        let mut cmd = std::process::Command::new(pg);
        cmd.args(["start", &pgdir_s]);
        if let Some(p) = port {
            cmd.arg(p);
        }
        let o = cmd.output().expect("scripts/pg");
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8(o.stdout).unwrap().trim().to_string()
    };
    let stop = || {
        let o = std::process::Command::new(pg)
            .args(["stop", &pgdir_s])
            .output()
            .expect("scripts/pg");
        assert!(o.status.success(), "{}", text(&o));
    };
    struct StopOnDrop<F: Fn()>(F);
    impl<F: Fn()> Drop for StopOnDrop<F> {
        fn drop(&mut self) {
            (self.0)()
        }
    }
    let url = start(None);
    let _guard = StopOnDrop(stop);
    let port = url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let jdbc = format!("jdbc:postgresql://127.0.0.1:{port}/postgres");
    let w = Workdir::new();
    w.write("data/import/myrealm-realm.json", &Workdir::example_realm());
    let mut s = Server::start(
        w.path(),
        &[
            "start-dev",
            "--import-realm",
            "--health-enabled=true",
            "--db=postgres",
            &format!("--db-url={jdbc}"),
            "--db-username=postgres",
            "--db-pool-acquire-timeout=2s",
        ],
        &[],
    )
    .expect("server starts");
    let c = client();
    let m = s.management_origin();
    let ready = |c: reqwest::Client, m: String| async move {
        c.get(format!("{m}/health/ready"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    assert_eq!(ready(c.clone(), m.clone()).await, 200);

    // Database down.
    let o = std::process::Command::new(pg)
        .args(["stop", &pgdir_s])
        .output()
        .unwrap();
    assert!(o.status.success());
    let t0 = std::time::Instant::now();
    while ready(c.clone(), m.clone()).await != 503 {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(5),
            "ready did not turn DOWN within 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let live = c.get(format!("{m}/health/live")).send().await.unwrap();
    assert_eq!(
        live.status(),
        200,
        "liveness does not depend on the database"
    );
    let t1 = std::time::Instant::now();
    let api = c
        .get(format!("{}/realms/myrealm", s.origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 503, "fail fast with 503");
    assert!(t1.elapsed() < std::time::Duration::from_secs(5));
    let body = api.text().await.unwrap();
    assert!(
        body.contains("correlation_id") && !body.contains("postgres"),
        "no internals: {body}"
    );

    // Database back on the same port: ready again without a restart.
    start(Some(&port));
    let t2 = std::time::Instant::now();
    while ready(c.clone(), m.clone()).await != 200 {
        assert!(
            t2.elapsed() < std::time::Duration::from_secs(10),
            "ready did not recover within 10 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let realm: Value = c
        .get(format!("{}/realms/myrealm", s.origin()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(realm["realm"], "myrealm", "no lost rows");
    assert!(!s.all_log().contains("panicked"));
    assert!(s.stop());
}
