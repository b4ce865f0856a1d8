//! Brute-force detection against the real server: the login form and the password grant lock
//! after `failureFactor` wrong passwords and then refuse even the right password with the
//! wrong-password answer; the controlled test clock (`PORTCULLIS_TEST_CLOCK_FILE`, debug builds
//! only) moves past the wait without sleeping; permanent lockout disables the user until an
//! administrator enables it again; the quick-login check locks rapid failures; the
//! attack-detection admin endpoints answer 401/403/200/204 with Keycloak's body.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::*;
use serde_json::{Value, json};

const BOSS: (&str, &str) = ("boss", "b0ss-pw");
const INVALID: &str = "Invalid username or password.";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const OTP_KEY: &[u8] = b"0123456789abcdefghij";

/// The current one-time code of `OTP_KEY` (real time: the code check uses the wall clock).
fn otp_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    portcullis_model::totp::totp(&portcullis_model::totp::OtpPolicy::default(), OTP_KEY, now)
}

/// A code that is not the current one (nor one step either side).
fn otp_wrong() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let policy = portcullis_model::totp::OtpPolicy::default();
    let near: Vec<String> = [now - 60, now - 30, now, now + 30, now + 60]
        .iter()
        .map(|t| portcullis_model::totp::totp(&policy, OTP_KEY, *t))
        .collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

fn user(name: &str, roles: &[&str]) -> Value {
    json!({"username": name, "enabled": true,
           "clientRoles": {"realm-management": roles},
           "credentials": [{"type": "password", "value": format!("{name}-pw")}]})
}

fn realm(name: &str, settings: Value, users: Vec<Value>) -> String {
    let mut r = json!({
        "realm": name,
        "enabled": true,
        "bruteForceProtected": true,
        "clients": [{
            "clientId": "app", "publicClient": true, "directAccessGrantsEnabled": true,
            "redirectUris": ["https://app.example/cb"]
        }],
        "users": users,
    });
    if let (Some(m), Some(s)) = (r.as_object_mut(), settings.as_object()) {
        m.extend(s.clone());
    }
    r.to_string()
}

struct Env {
    w: Workdir,
    _server: Server,
    origin: String,
    http: reqwest::Client,
}

impl Env {
    fn set_clock(&self, offset_ms: i64) {
        self.w.write("clock", &offset_ms.to_string());
    }

    /// One login-form attempt in a fresh browser: 302 to the client on success, else the page.
    async fn form_login(&self, realm: &str, username: &str, pw: &str) -> (u16, String) {
        let b = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let auth = format!(
            "{}/auth/realms/{realm}/protocol/openid-connect/auth?client_id=app&response_type=code\
             &redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid&state=st&nonce=no\
             &code_challenge={CHALLENGE}&code_challenge_method=S256",
            self.origin
        );
        let page = b.get(&auth).send().await.unwrap().text().await.unwrap();
        let (action, mut fields) = html_form(&page, "kc-form-login").expect("login form");
        fields.push(("username".into(), username.into()));
        fields.push(("password".into(), pw.into()));
        let r = b.post(&action).form(&fields).send().await.unwrap();
        let status = r.status().as_u16();
        let loc = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let text = r.text().await.unwrap();
        (status, loc.unwrap_or(text))
    }

    async fn grant(&self, realm: &str, client: &str, username: &str, pw: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!(
                "{}/auth/realms/{realm}/protocol/openid-connect/token",
                self.origin
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", client),
                ("username", username),
                ("password", pw),
            ])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn token(&self, realm: &str, username: &str, pw: &str) -> String {
        let (s, body) = self.grant(realm, "admin-cli", username, pw).await;
        assert_eq!(s, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self.http.request(
            method.parse().unwrap(),
            format!("{}/auth/admin/realms{path}", self.origin),
        );
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn user_id(&self, realm: &str, name: &str, token: &str) -> String {
        let (s, body) = self
            .call(
                "GET",
                &format!("/{realm}/users?username={name}&exact=true"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(s, 200, "{body}");
        body[0]["id"].as_str().unwrap().to_string()
    }

    async fn status(&self, realm: &str, id: &str, token: &str) -> Value {
        let (s, body) = self
            .call(
                "GET",
                &format!("/{realm}/attack-detection/brute-force/users/{id}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(s, 200, "{body}");
        body
    }
}

fn start() -> Env {
    let w = Workdir::new();
    let lock = json!({"failureFactor": 3, "waitIncrementSeconds": 60, "maxFailureWaitSeconds": 900,
                      "quickLoginCheckMilliSeconds": 1, "maxDeltaTimeSeconds": 43200});
    w.write(
        "data/import/acme-realm.json",
        &realm(
            "acme",
            lock,
            vec![
                user("alice", &[]),
                user("bob", &[]),
                user("nobody", &[]),
                user("watcher", &["view-users"]),
                user("manager", &["manage-users"]),
            ],
        ),
    );
    let perm =
        json!({"permanentLockout": true, "failureFactor": 2, "quickLoginCheckMilliSeconds": 1});
    w.write(
        "data/import/perm-realm.json",
        &realm("perm", perm, vec![user("carol", &[])]),
    );
    let quick = json!({"failureFactor": 30, "quickLoginCheckMilliSeconds": 60000,
                       "minimumQuickLoginWaitSeconds": 120});
    w.write(
        "data/import/quick-realm.json",
        &realm("quick", quick, vec![user("dave", &[])]),
    );
    let (secret, data) = portcullis_model::totp::credential_json(
        &portcullis_model::totp::OtpPolicy::default(),
        OTP_KEY,
    );
    let otto = json!({"username": "otto", "enabled": true, "credentials": [
        {"type": "password", "value": "otto-pw"},
        {"type": "otp", "secretData": secret, "credentialData": data}
    ]});
    w.write(
        "data/import/otp-realm.json",
        &realm(
            "otp",
            json!({"failureFactor": 3, "waitIncrementSeconds": 60, "quickLoginCheckMilliSeconds": 1}),
            vec![otto, user("viewer", &["view-users"])],
        ),
    );
    w.write("clock", "0");
    let clock = w.path().join("clock").display().to_string();
    let server = Server::start(
        w.path(),
        &["start-dev", "--import-realm", "--http-relative-path=/auth"],
        &[
            ("KC_BOOTSTRAP_ADMIN_USERNAME", BOSS.0),
            ("KC_BOOTSTRAP_ADMIN_PASSWORD", BOSS.1),
            ("PORTCULLIS_TEST_CLOCK_FILE", &clock),
        ],
    )
    .expect("server starts");
    let origin = server.origin();
    Env {
        w,
        _server: server,
        origin,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

fn is_code_redirect(r: &(u16, String)) -> bool {
    r.0 == 302 && r.1.starts_with("https://app.example/cb?")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brute_force_detection() {
    let env = start();
    let boss = env.token("master", BOSS.0, BOSS.1).await;
    let watcher = env.token("acme", "watcher", "watcher-pw").await;
    let manager = env.token("acme", "manager", "manager-pw").await;
    let nobody = env.token("acme", "nobody", "nobody-pw").await;
    let alice = env.user_id("acme", "alice", &boss).await;
    let bob = env.user_id("acme", "bob", &boss).await;

    // Login form: three wrong passwords lock alice; the right one then fails the same way.
    let blank =
        json!({"numFailures": 0, "disabled": false, "lastIPFailure": "n/a", "lastFailure": 0});
    assert_eq!(env.status("acme", &alice, &watcher).await, blank);
    for _ in 0..3 {
        let r = env.form_login("acme", "alice", "wrong").await;
        assert_eq!(r.0, 200);
        assert!(r.1.contains(INVALID));
    }
    let st = env.status("acme", &alice, &watcher).await;
    assert_eq!(st["numFailures"], 3);
    assert_eq!(st["disabled"], true);
    assert_eq!(st["lastIPFailure"], "127.0.0.1");
    assert!(st["lastFailure"].as_i64().unwrap() > 0);
    let r = env.form_login("acme", "alice", "alice-pw").await;
    assert_eq!(r.0, 200, "locked: the right password is refused");
    assert!(r.1.contains(INVALID));
    // An unknown user reads the same.
    let r = env.form_login("acme", "nosuchuser", "x").await;
    assert_eq!(r.0, 200);
    assert!(r.1.contains(INVALID));
    // Attempts while locked are not counted.
    assert_eq!(env.status("acme", &alice, &watcher).await["numFailures"], 3);

    // Password grant: bob locks the same way; a locked account answers like a wrong password.
    let mut wrong = Value::Null;
    for _ in 0..3 {
        let (s, body) = env.grant("acme", "app", "bob", "wrong").await;
        assert_eq!(s, 401);
        wrong = body;
    }
    assert_eq!(wrong["error"], "invalid_grant");
    assert_eq!(wrong["error_description"], "Invalid user credentials");
    let (s, body) = env.grant("acme", "app", "bob", "bob-pw").await;
    assert_eq!((s, &body), (401, &wrong));
    // The login form and the grant share the lock.
    assert!(!is_code_redirect(
        &env.form_login("acme", "bob", "bob-pw").await
    ));

    // Admin rights: 401 without a token, 403 without the role, 200/204 with it.
    let one = format!("/acme/attack-detection/brute-force/users/{bob}");
    let all = "/acme/attack-detection/brute-force/users";
    assert_eq!(env.call("GET", &one, None, None).await.0, 401);
    assert_eq!(env.call("DELETE", &one, None, None).await.0, 401);
    assert_eq!(env.call("DELETE", all, None, None).await.0, 401);
    assert_eq!(env.call("GET", &one, Some(&nobody), None).await.0, 403);
    assert_eq!(env.call("DELETE", &one, Some(&watcher), None).await.0, 403);
    assert_eq!(env.call("DELETE", all, Some(&watcher), None).await.0, 403);
    assert_eq!(env.call("GET", &one, Some(&manager), None).await.0, 200);
    assert_eq!(env.call("DELETE", &one, Some(&manager), None).await.0, 204);
    assert_eq!(env.status("acme", &bob, &watcher).await, blank);
    // Cleared: bob's right password works again, a success leaves no record.
    let (s, body) = env.grant("acme", "app", "bob", "bob-pw").await;
    assert_eq!(s, 200, "{body}");
    env.grant("acme", "app", "bob", "wrong").await;
    assert_eq!(env.status("acme", &bob, &watcher).await["numFailures"], 1);
    assert_eq!(env.grant("acme", "app", "bob", "bob-pw").await.0, 200);
    assert_eq!(env.status("acme", &bob, &watcher).await, blank);

    // The clock moves past alice's 60 s wait: her right password works and clears the count.
    env.set_clock(59_000);
    assert!(!is_code_redirect(
        &env.form_login("acme", "alice", "alice-pw").await
    ));
    env.set_clock(61_000);
    assert!(is_code_redirect(
        &env.form_login("acme", "alice", "alice-pw").await
    ));
    assert_eq!(env.status("acme", &alice, &watcher).await, blank);

    // Clear all: every record of the realm goes.
    for _ in 0..3 {
        env.grant("acme", "app", "alice", "wrong").await;
    }
    assert_eq!(env.status("acme", &alice, &watcher).await["disabled"], true);
    assert_eq!(env.call("DELETE", all, Some(&manager), None).await.0, 204);
    assert_eq!(env.status("acme", &alice, &watcher).await, blank);
    assert_eq!(env.grant("acme", "app", "alice", "alice-pw").await.0, 200);

    // Permanent lockout: the user is disabled; the admin endpoint shows it; re-enabling helps.
    let carol = env.user_id("perm", "carol", &boss).await;
    for _ in 0..2 {
        assert_eq!(env.grant("perm", "app", "carol", "wrong").await.0, 401);
    }
    let (s, body) = env.grant("perm", "app", "carol", "carol-pw").await;
    assert_eq!(
        (s, &body),
        (401, &wrong),
        "permanently locked answers like a wrong password"
    );
    let r = env.form_login("perm", "carol", "carol-pw").await;
    assert!(r.0 == 200 && r.1.contains(INVALID));
    let st = env.status("perm", &carol, &boss).await;
    assert_eq!(st["disabled"], true);
    assert_eq!(st["numFailures"], 2);
    let (s, u) = env
        .call("GET", &format!("/perm/users/{carol}"), Some(&boss), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(u["enabled"], false);
    env.set_clock(10_000_000);
    assert_eq!(
        env.grant("perm", "app", "carol", "carol-pw").await.0,
        401,
        "no wait ends it"
    );
    let (s, _) = env
        .call(
            "PUT",
            &format!("/perm/users/{carol}"),
            Some(&boss),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(env.status("perm", &carol, &boss).await, blank);
    assert_eq!(env.grant("perm", "app", "carol", "carol-pw").await.0, 200);

    // Quick-login check: two failures within the check interval lock for the minimum wait.
    let dave = env.user_id("quick", "dave", &boss).await;
    env.grant("quick", "app", "dave", "wrong").await;
    assert_eq!(env.status("quick", &dave, &boss).await["disabled"], false);
    env.grant("quick", "app", "dave", "wrong").await;
    let st = env.status("quick", &dave, &boss).await;
    assert_eq!(
        (st["disabled"].clone(), st["numFailures"].clone()),
        (json!(true), json!(2))
    );
    assert_eq!(env.grant("quick", "app", "dave", "dave-pw").await.0, 401);
    env.set_clock(10_000_000 + 119_000);
    assert_eq!(env.grant("quick", "app", "dave", "dave-pw").await.0, 401);
    env.set_clock(10_000_000 + 121_000);
    assert_eq!(env.grant("quick", "app", "dave", "dave-pw").await.0, 200);
}

/// Wrong one-time codes after a right password count as failed logins (Keycloak counts both):
/// through the password grant (`totp`) and the login form's code step; once locked, the right
/// password and code are refused alike, and a completed login clears the count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_one_time_codes_lock_the_account() {
    let env = start();
    let viewer = env.token("otp", "viewer", "viewer-pw").await;
    let otto = env.user_id("otp", "otto", &viewer).await;
    let grant = |code: String| {
        let env = &env;
        async move {
            let r = env
                .http
                .post(format!(
                    "{}/auth/realms/otp/protocol/openid-connect/token",
                    env.origin
                ))
                .form(&[
                    ("grant_type", "password"),
                    ("client_id", "app"),
                    ("username", "otto"),
                    ("password", "otto-pw"),
                    ("totp", code.as_str()),
                ])
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    // A right password with a right code works and leaves no record.
    assert_eq!(grant(otp_now()).await, 200);
    assert_eq!(env.status("otp", &otto, &viewer).await["numFailures"], 0);
    // Two wrong codes count although the password was right each time.
    assert_eq!(grant(otp_wrong()).await, 401);
    assert_eq!(grant(otp_wrong()).await, 401);
    assert_eq!(env.status("otp", &otto, &viewer).await["numFailures"], 2);

    // The login form: the right password leads to the code step; a wrong code there is the
    // third failure and locks the account.
    let b = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let auth = format!(
        "{}/auth/realms/otp/protocol/openid-connect/auth?client_id=app&response_type=code\
         &redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid&state=st\
         &code_challenge={CHALLENGE}&code_challenge_method=S256",
        env.origin
    );
    let page = b.get(&auth).send().await.unwrap().text().await.unwrap();
    let (action, mut fields) = html_form(&page, "kc-form-login").expect("login form");
    fields.push(("username".into(), "otto".into()));
    fields.push(("password".into(), "otto-pw".into()));
    let otp_page = b
        .post(&action)
        .form(&fields)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let submit_code = |page: String, code: String| {
        let b = b.clone();
        async move {
            let (action, mut fields) = html_form(&page, "kc-otp-login-form")
                .unwrap_or_else(|| panic!("code form in:\n{page}"));
            fields.push(("otp".into(), code));
            let r = b.post(&action).form(&fields).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, again) = submit_code(otp_page, otp_wrong()).await;
    assert_eq!(status, 200);
    let st = env.status("otp", &otto, &viewer).await;
    assert_eq!(
        (st["numFailures"].clone(), st["disabled"].clone()),
        (json!(3), json!(true))
    );
    // Locked: the right code on the same page is refused, and so is the grant.
    let (status, _) = submit_code(again, otp_now()).await;
    assert_eq!(status, 200, "locked: the right code is refused");
    assert_eq!(grant(otp_now()).await, 401);
    assert_eq!(
        env.status("otp", &otto, &viewer).await["numFailures"],
        3,
        "not counted while locked"
    );

    // After the wait, a complete login (password and code) clears the record.
    env.set_clock(61_000);
    assert_eq!(grant(otp_now()).await, 200);
    assert_eq!(env.status("otp", &otto, &viewer).await["numFailures"], 0);
}
