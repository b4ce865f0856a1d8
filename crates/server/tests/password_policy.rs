//! The password-policy items that need stored data, against the real server:
//! `passwordBlacklist(file)` (a list in `<data-dir>/password-blacklists/`, compared without
//! case), `passwordAge(days)` (no password set within the days again) and
//! `forceExpiredPasswordChange(days)` (an old password must be changed at the next login; the
//! password grant refuses until then), moved through time with the debug-only test clock.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::*;
use serde_json::{Value, json};

const BOSS: (&str, &str) = ("boss", "b0ss-pw");
const CB: &str = "https://app.example/cb";

struct Env {
    w: Workdir,
    _server: Server,
    origin: String,
    http: reqwest::Client,
}

impl Env {
    async fn token(&self, realm: &str, user: &str, pw: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!(
                "{}/auth/realms/{realm}/protocol/openid-connect/token",
                self.origin
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "app"),
                ("username", user),
                ("password", pw),
            ])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn boss(&self) -> String {
        let r: Value = self
            .http
            .post(format!(
                "{}/auth/realms/master/protocol/openid-connect/token",
                self.origin
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", BOSS.0),
                ("password", BOSS.1),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["access_token"].as_str().unwrap().to_string()
    }

    async fn reset(&self, token: &str, user: &str, pw: &str) -> (u16, Value) {
        let r = self
            .http
            .put(format!(
                "{}/auth/admin/realms/pol/users/{user}/reset-password",
                self.origin
            ))
            .bearer_auth(token)
            .json(&json!({"type": "password", "value": pw, "temporary": false}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn start() -> Env {
    let w = Workdir::new();
    w.write(
        "data/import/pol-realm.json",
        &json!({
            "realm": "pol",
            "enabled": true,
            "passwordPolicy": "length(6) and passwordBlacklist(common.txt) and passwordAge(30) and forceExpiredPasswordChange(10)",
            "clients": [{"clientId": "app", "publicClient": true,
                         "directAccessGrantsEnabled": true, "redirectUris": [CB]}],
            "users": [{"username": "uma", "enabled": true,
                       "credentials": [{"type": "password", "value": "first-pw-1"}]}]
        })
        .to_string(),
    );
    w.write(
        "data/password-blacklists/common.txt",
        "123456\nSummer2024\npassword1\n",
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
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blacklist_age_and_expiry() {
    let env = start();
    let boss = env.boss().await;
    let r: Value = env
        .http
        .get(format!(
            "{}/auth/admin/realms/pol/users?username=uma&exact=true",
            env.origin
        ))
        .bearer_auth(&boss)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let uma = r[0]["id"].as_str().unwrap().to_string();

    // The blacklist, whatever the case.
    let (s, v) = env.reset(&boss, &uma, "SUMMER2024").await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"], "invalidPasswordBlacklistedMessage");
    assert_eq!(
        v["error_description"],
        "Invalid password: password is blacklisted."
    );
    // Not blacklisted: accepted; the first password is then too recent to come back.
    assert_eq!(env.reset(&boss, &uma, "second-pw-2").await.0, 204);
    let (s, v) = env.reset(&boss, &uma, "first-pw-1").await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error"], "invalidPasswordGenericMessage");
    let (s, _) = env.reset(&boss, &uma, "second-pw-2").await;
    assert_eq!(s, 400, "the current password counts as recently used");
    assert_eq!(env.token("pol", "uma", "second-pw-2").await.0, 200);

    // Eleven days later the password has expired: the grant refuses, the browser login asks
    // for a new password first.
    env.w.write("clock", &(11 * 86_400_000i64).to_string());
    let (s, v) = env.token("pol", "uma", "second-pw-2").await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["error_description"], "Account is not fully set up");
    let r = env
        .http
        .get(format!(
            "{}/auth/realms/pol/protocol/openid-connect/auth?client_id=app&response_type=code&redirect_uri={CB}&scope=openid&state=st&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
            env.origin
        ))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let location = format!("{:?}", r.headers().get("location"));
    let page = r.text().await.unwrap();
    assert_eq!(status, 200, "{location} {page}");
    let (action, mut fields) =
        html_form(&page, "kc-form-login").unwrap_or_else(|| panic!("{page}"));
    fields.push(("username".into(), "uma".into()));
    fields.push(("password".into(), "second-pw-2".into()));
    let update = env
        .http
        .post(&action)
        .form(&fields)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (action, mut fields) =
        html_form(&update, "kc-passwd-update-form").unwrap_or_else(|| panic!("{update}"));
    fields.push(("password-new".into(), "third-pw-3".into()));
    fields.push(("password-confirm".into(), "third-pw-3".into()));
    let r = env.http.post(&action).form(&fields).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("{CB}?")), "{location}");
    assert!(location.contains("code="), "{location}");
    // Back to today: the new password works with the grant.
    env.w.write("clock", "0");
    assert_eq!(env.token("pol", "uma", "third-pw-3").await.0, 200);
}
