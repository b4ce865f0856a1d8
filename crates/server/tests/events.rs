//! User (login) events and the Prometheus figures against the real server: a browser login
//! with a wrong password, an unknown user and the right one, the code exchange, a refresh,
//! password grants and an API logout each leave Keycloak's event (type, client, user, session,
//! error, details) in the store per the realm's settings; `GET /events` applies Keycloak's
//! filters and `DELETE /events` clears them, each behind its right; `enabledEventTypes`
//! chooses what is stored; the management port's `/metrics` counts the events in
//! `keycloak_user_events_total` and reports live sessions per realm and client. Also on
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

#[path = "support/admin_env.rs"]
mod admin_env;
mod common;

use admin_env::*;
use common::{html_form, pg_jdbc_with_fresh_schema};
use serde_json::{Value, json};

const CB: &str = "https://app.example/cb";

fn acme_realm() -> String {
    json!({
        "realm": "acme",
        "enabled": true,
        "eventsEnabled": true,
        "clients": [
            {"clientId": "web", "secret": "web-secret", "redirectUris": [CB],
             "standardFlowEnabled": true, "directAccessGrantsEnabled": true}
        ],
        "users": [
            {"username": "alice", "enabled": true, "email": "alice@example.org",
             "credentials": [{"type": "password", "value": "alice-pw"}]},
            {"username": "auditor", "enabled": true,
             "clientRoles": {"realm-management": ["view-events"]},
             "credentials": [{"type": "password", "value": "auditor-pw"}]}
        ]
    })
    .to_string()
}

fn server_args() -> Vec<&'static str> {
    vec![
        "--metrics-enabled=true",
        "--event-metrics-user-enabled=true",
        "--event-metrics-user-tags=realm,clientId",
    ]
}

struct Browser {
    http: reqwest::Client,
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// Open the login page, submit `user`/`pw`; the answer's (status, Location, body).
    async fn login(&self, env: &Env, user: &str, pw: &str) -> (u16, Option<String>, String) {
        let page = self
            .http
            .get(format!(
                "{}/auth/realms/acme/protocol/openid-connect/auth?client_id=web&redirect_uri={CB}&response_type=code&scope=openid&state=st",
                env.origin
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (action, mut fields) = html_form(&page, "kc-form-login").expect("login form");
        fields.push(("username".into(), user.into()));
        fields.push(("password".into(), pw.into()));
        let r = self.http.post(action).form(&fields).send().await.unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        (status, location, r.text().await.unwrap())
    }
}

async fn token_call(env: &Env, form: &[(&str, &str)]) -> (u16, Value) {
    let r = env
        .http
        .post(format!(
            "{}/auth/realms/acme/protocol/openid-connect/token",
            env.origin
        ))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn types(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// The value of the first sample of `name` whose labels include every `labels` pair.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn journey(env: &Env) {
    let boss = env.boss().await;
    let alice = env.user_id(&boss, "acme", "alice").await;

    // The browser: a wrong password, an unknown user, then the right password.
    let b = Browser::new();
    let (status, _, _) = b.login(env, "alice", "wrong-pw").await;
    assert_eq!(status, 200);
    let (status, _, _) = b.login(env, "nobody", "whatever").await;
    assert_eq!(status, 200);
    let (status, location, body) = b.login(env, "alice", "alice-pw").await;
    assert_eq!(status, 302, "{body}");
    let location = location.unwrap();
    let code = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();

    // The code exchange, a refresh (not stored by default), password grants.
    let (status, tokens) = token_call(
        env,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "web"),
            ("client_secret", "web-secret"),
            ("code", &code),
            ("redirect_uri", CB),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let sid = claims(tokens["access_token"].as_str().unwrap())["sid"]
        .as_str()
        .unwrap()
        .to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let (status, _) = token_call(
        env,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web"),
            ("client_secret", "web-secret"),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = token_call(
        env,
        &[
            ("grant_type", "password"),
            ("client_id", "web"),
            ("client_secret", "web-secret"),
            ("username", "alice"),
            ("password", "nope"),
        ],
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = token_call(
        env,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "web"),
            ("client_secret", "wrong-secret"),
            ("code", "whatever"),
            ("redirect_uri", CB),
        ],
    )
    .await;
    assert_eq!(status, 401);

    // Live sessions before the logout: alice's browser session with `web`.
    let metrics = env
        .http
        .get(format!("{}/auth/metrics", env.server.management_origin()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(&metrics, "portcullis_sessions_active", &[("realm", "acme")]),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "portcullis_client_sessions_active",
            &[("realm", "acme"), ("client_id", "web")]
        ),
        Some(1.0)
    );

    // API logout with the refresh token.
    let r = env
        .http
        .post(format!(
            "{}/auth/realms/acme/protocol/openid-connect/logout",
            env.origin
        ))
        .form(&[
            ("client_id", "web"),
            ("client_secret", "web-secret"),
            ("refresh_token", refresh.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);

    // What the store kept, newest first.
    let g = env.get("/acme/events", &boss).await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert_eq!(
        types(&g.body),
        [
            "LOGOUT",
            "CODE_TO_TOKEN_ERROR",
            "LOGIN_ERROR",
            "CODE_TO_TOKEN",
            "LOGIN",
            "LOGIN_ERROR",
            "LOGIN_ERROR"
        ],
        "{}",
        g.body
    );
    let ev = |i: usize| g.body[i].clone();
    let logout = ev(0);
    assert_eq!(logout["userId"], alice.as_str());
    assert_eq!(logout["sessionId"], sid.as_str());
    assert_eq!(logout["clientId"], "web");
    let bad_client = ev(1);
    assert_eq!(bad_client["error"], "invalid_client_credentials");
    assert_eq!(bad_client["clientId"], "web");
    let grant_error = ev(2);
    assert_eq!(grant_error["error"], "invalid_user_credentials");
    assert_eq!(grant_error["userId"], alice.as_str());
    assert_eq!(grant_error["details"]["grant_type"], "password");
    let exchange = ev(3);
    assert_eq!(exchange["userId"], alice.as_str());
    assert_eq!(exchange["sessionId"], sid.as_str());
    assert_eq!(exchange["details"]["grant_type"], "authorization_code");
    assert_eq!(exchange["details"]["client_auth_method"], "client-secret");
    let login = ev(4);
    assert_eq!(login["userId"], alice.as_str());
    assert_eq!(login["sessionId"], sid.as_str());
    assert_eq!(login["details"]["username"], "alice");
    assert_eq!(login["details"]["auth_method"], "openid-connect");
    assert_eq!(login["details"]["redirect_uri"], CB);
    assert_eq!(login["ipAddress"], "127.0.0.1");
    assert!(login["time"].as_i64().unwrap() > 1_700_000_000_000);
    assert!(login["id"].as_str().is_some());
    let unknown = ev(5);
    assert_eq!(unknown["error"], "user_not_found");
    assert!(unknown.get("userId").is_none());
    assert_eq!(unknown["details"]["username"], "nobody");
    let wrong = ev(6);
    assert_eq!(wrong["error"], "invalid_user_credentials");
    assert_eq!(wrong["userId"], alice.as_str());
    // No event carries a secret.
    let text = g.body.to_string();
    for secret in ["alice-pw", "wrong-pw", "web-secret", "wrong-secret", &code] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    // Keycloak's filters.
    let q = |query: &str| {
        let path = format!("/acme/events?{query}");
        let boss = boss.clone();
        async move { env.get(&path, &boss).await }
    };
    let g = q("type=LOGIN_ERROR").await;
    assert_eq!(types(&g.body), ["LOGIN_ERROR"; 3]);
    let g = q("type=LOGIN&type=LOGOUT").await;
    assert_eq!(types(&g.body), ["LOGOUT", "LOGIN"]);
    let g = q(&format!("user={alice}&type=LOGIN_ERROR")).await;
    assert_eq!(g.body.as_array().unwrap().len(), 2);
    let g = q("client=web&max=2&first=1").await;
    assert_eq!(types(&g.body), ["CODE_TO_TOKEN_ERROR", "LOGIN_ERROR"]);
    let g = q("direction=asc&max=1").await;
    assert_eq!(types(&g.body), ["LOGIN_ERROR"]);
    assert_eq!(g.body[0]["error"], "invalid_user_credentials");
    let g = q("ipAddress=127.0.0.1").await;
    assert_eq!(g.body.as_array().unwrap().len(), 7);
    let g = q("dateFrom=2000-01-01&dateTo=2000-01-02").await;
    assert_eq!(g.body, json!([]));
    let now = now_ms();
    let g = q(&format!("dateFrom={}", now - 600_000)).await;
    assert_eq!(g.body.as_array().unwrap().len(), 7);
    for bad in ["type=NOPE", "dateFrom=yesterday", "direction=up", "max=x"] {
        assert_eq!(q(bad).await.status, 400, "{bad}");
    }

    // Rights: view-events reads, only manage-events clears.
    let auditor = env.token("acme", "auditor", "auditor-pw").await;
    assert_eq!(env.get("/acme/events", &auditor).await.status, 200);
    assert_eq!(env.delete("/acme/events", &auditor).await.status, 403);
    assert_eq!(
        env.call("GET", "/acme/events", None, None).await.status,
        401
    );

    // enabledEventTypes chooses what is stored: now refreshes, and no longer logins.
    let g = env
        .put(
            "/acme/events/config",
            &boss,
            json!({"enabledEventTypes": ["REFRESH_TOKEN", "CLIENT_LOGIN_ERROR"]}),
        )
        .await;
    assert_eq!(g.status, 204);
    assert_eq!(env.delete("/acme/events", &boss).await.status, 204);
    let (status, t2) = token_call(
        env,
        &[
            ("grant_type", "password"),
            ("client_id", "web"),
            ("client_secret", "web-secret"),
            ("username", "alice"),
            ("password", "alice-pw"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = token_call(
        env,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "web"),
            ("client_secret", "web-secret"),
            ("refresh_token", t2["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let g = env.get("/acme/events", &boss).await;
    assert_eq!(types(&g.body), ["REFRESH_TOKEN"], "{}", g.body);
    assert_eq!(g.body[0]["details"]["grant_type"], "refresh_token");
    assert_eq!(g.body[0]["userId"], alice.as_str());

    // Events switched off: nothing more is stored.
    let g = env
        .put(
            "/acme/events/config",
            &boss,
            json!({"eventsEnabled": false}),
        )
        .await;
    assert_eq!(g.status, 204);
    let (status, _) = env
        .login_with("acme", "web", Some("web-secret"), "alice", "nope", None)
        .await;
    assert_eq!(status, 401);
    assert_eq!(
        types(&env.get("/acme/events", &boss).await.body),
        ["REFRESH_TOKEN"]
    );

    // The counters, whatever the store keeps.
    let metrics = env
        .http
        .get(format!("{}/auth/metrics", env.server.management_origin()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |event: &str, error: &str| {
        sample(
            &metrics,
            "keycloak_user_events_total",
            &[
                ("realm", "acme"),
                ("client_id", "web"),
                ("event", event),
                ("error", error),
            ],
        )
        .unwrap_or(0.0)
    };
    assert_eq!(count("login", "invalid_user_credentials"), 3.0, "{metrics}");
    assert_eq!(count("login", "user_not_found"), 1.0);
    assert_eq!(count("login", ""), 2.0);
    assert_eq!(count("code_to_token", ""), 1.0);
    assert_eq!(count("code_to_token", "invalid_client_credentials"), 1.0);
    assert_eq!(count("refresh_token", ""), 2.0);
    assert_eq!(count("logout", ""), 1.0);
    assert!(
        !metrics.contains("idp=\""),
        "the idp label is off unless asked for"
    );
    assert!(metrics.contains("# TYPE keycloak_user_events_total counter"));
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread")]
async fn user_events_on_sqlite() {
    let mut env = start_with(&acme_realm(), &server_args(), &[]);
    journey(&env).await;
    // The log listener: failures at WARN under Keycloak's category, never a password.
    let log = env.server.all_log();
    let failure = log
        .lines()
        .find(|l| l.contains("\"target\":\"org.keycloak.events\"") && l.contains("LOGIN_ERROR"))
        .unwrap_or_else(|| panic!("no LOGIN_ERROR in the log:\n{log}"));
    assert!(failure.contains("\"level\":\"WARN\""), "{failure}");
    assert!(failure.contains("invalid_user_credentials") || failure.contains("user_not_found"));
    for secret in ["alice-pw", "wrong-pw", "web-secret"] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn user_events_on_postgresql() {
    let (jdbc, _schema) = pg_jdbc_with_fresh_schema();
    let url = format!("--db-url={jdbc}");
    let mut args = server_args();
    args.extend(["--db=postgres", &url, "--db-username=postgres"]);
    let env = start_with(&acme_realm(), &args, &[]);
    journey(&env).await;
}

/// An unknown event name in the metric options stops the server with a clear message.
#[test]
fn unknown_metric_events_are_refused() {
    let w = common::Workdir::new();
    let out = w.run(
        &[
            "start-dev",
            "--metrics-enabled=true",
            "--event-metrics-user-enabled=true",
            "--event-metrics-user-events=login,teleport",
        ],
        &[],
    );
    assert!(!out.status.success());
    let text = common::text(&out);
    assert!(text.contains("teleport"), "{text}");
    assert!(text.contains("event-metrics-user-events"), "{text}");
}
