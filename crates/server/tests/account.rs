//! The account console and the account REST API against the real server, without a browser:
//! sign-in as `account-console` with PKCE S256, cookie flags and headers, CSRF refusals,
//! profile updates (validation, `editUsernameAllowed`), password change (current password,
//! policy, history), TOTP set-up and removal, sessions and their sign-out, applications, and
//! the API's 401/403. The journey runs on SQLite and PostgreSQL (`PORTCULLIS_TEST_PG_URL`).
//! The browser journey is `tests/e2e/specs/09-account.test.js`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;
#[path = "support/admin_env.rs"]
mod support;

use common::{html_attr, html_form};
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use support::{Env, start};

const POLICY_MESSAGE: &str = "Invalid password: must contain at least 1 numerical digits.";

fn realm_json(edit_username: bool) -> String {
    json!({
        "realm": "acme",
        "enabled": true,
        "editUsernameAllowed": edit_username,
        "eventsEnabled": true,
        "passwordPolicy": "length(8) and digits(1) and passwordHistory(2)",
        "users": [
            {"username": "alice", "enabled": true, "email": "alice@example.com",
             "emailVerified": true, "firstName": "Alice", "lastName": "Liddell",
             "realmRoles": ["default-roles-acme"],
             "credentials": [{"type": "password", "value": "alice-pw1"}]},
            {"username": "viewer", "enabled": true, "email": "viewer@example.com",
             "firstName": "Vi", "lastName": "Ewer",
             "clientRoles": {"account": ["view-profile"]},
             "credentials": [{"type": "password", "value": "viewer-pw1"}]},
            {"username": "nobody", "enabled": true, "email": "nobody@example.com",
             "firstName": "No", "lastName": "Body",
             "credentials": [{"type": "password", "value": "nobody-pw1"}]},
        ],
    })
    .to_string()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(LOCATION)
        .expect("Location")
        .to_str()
        .unwrap()
        .to_owned()
}

fn account(env: &Env, rest: &str) -> String {
    format!("{}/auth/realms/acme/account{rest}", env.origin)
}

/// The CSRF value of a console page (the sign-out form carries it on every page).
fn csrf_of(page: &str) -> String {
    let (_, fields) = html_form(page, "sign-out").expect("sign-out form");
    fields.into_iter().find(|(k, _)| k == "csrf").unwrap().1
}

/// Sign in to the account console; `otp` computes a code when the login asks for one.
/// Answers the Personal info page.
async fn sign_in(
    env: &Env,
    http: &reqwest::Client,
    user: (&str, &str),
    otp: Option<&dyn Fn() -> String>,
) -> String {
    let r = http.get(account(env, "/")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let auth = location(&r);
    let login_cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("PORTCULLIS_ACCOUNT_LOGIN="))
        .expect("login cookie");
    assert!(login_cookie.contains("Path=/auth/realms/acme/account/"));
    let u = url::Url::parse(&auth).unwrap();
    assert_eq!(u.path(), "/auth/realms/acme/protocol/openid-connect/auth");
    let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "account-console");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert_eq!(q["redirect_uri"], account(env, "/callback"));
    assert!(q["state"].len() >= 40 && q["nonce"].len() >= 40);
    let page = http.get(&auth).send().await.unwrap().text().await.unwrap();
    let (action, mut fields) = html_form(&page, "kc-form-login").expect("login form");
    fields.push(("username".into(), user.0.into()));
    fields.push(("password".into(), user.1.into()));
    let mut r = http.post(&action).form(&fields).send().await.unwrap();
    if let Some(code) = otp {
        assert_eq!(r.status(), 200, "the OTP form");
        let page = r.text().await.unwrap();
        let (action, mut fields) = html_form(&page, "kc-otp-login-form").expect("otp form");
        fields.push(("otp".into(), code()));
        r = http.post(&action).form(&fields).send().await.unwrap();
    }
    assert_eq!(r.status(), 302, "login accepted");
    let callback = location(&r);
    assert!(
        callback.starts_with(&account(env, "/callback?")),
        "{callback}"
    );
    let r = http.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("PORTCULLIS_ACCOUNT="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Path=/auth/realms/acme/account/"));
    assert!(!cookie.contains("Secure"), "plain HTTP on loopback");
    assert_eq!(location(&r), "/auth/realms/acme/account/");
    let r = http.get(account(env, "/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// A token response of `account-console` (password grant, which [`allow_direct_grants`]
/// enables), each call a new SSO session.
async fn api_token(env: &Env, user: &str, pw: &str) -> (u16, Value) {
    env.login("acme", "account-console", user, pw).await
}

async fn api(
    env: &Env,
    method: &str,
    rest: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = env
        .http
        .request(method.parse().unwrap(), account(env, rest))
        .header("Accept", "application/json");
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Let `account-console` use the password grant (so the test can hold tokens of other
/// sessions).
async fn allow_direct_grants(env: &Env) {
    let boss = env.boss().await;
    let id = env.client_uuid(&boss, "acme", "account-console").await;
    let mut client = env.get(&format!("/acme/clients/{id}"), &boss).await.body;
    client["directAccessGrantsEnabled"] = json!(true);
    let r = env.put(&format!("/acme/clients/{id}"), &boss, client).await;
    assert_eq!(r.status, 204, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_console_journey_on_sqlite() {
    journey(start(&realm_json(false))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_console_journey_on_postgres() {
    let (jdbc, _schema) = common::pg_jdbc_with_fresh_schema();
    let url = format!("--db-url={jdbc}");
    journey(support::start_with(
        &realm_json(false),
        &["--db=postgres", &url, "--db-username=postgres"],
        &[],
    ))
    .await;
}

/// Sign-in, profile, password, TOTP, sessions, applications, TOTP removal, sign-out.
async fn journey(env: Env) {
    allow_direct_grants(&env).await;
    let http = browser();

    // The realm root document and the `account` client lead here; no slash redirects.
    let root: Value = env
        .http
        .get(format!("{}/auth/realms/acme", env.origin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root["account-service"], account(&env, ""));
    let r = http.get(account(&env, "")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(location(&r), "/auth/realms/acme/account/");

    // A callback without a login in progress is refused.
    let r = http
        .get(account(&env, "/callback?code=x&state=y"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let page = sign_in(&env, &http, ("alice", "alice-pw1"), None).await;
    assert!(page.contains("value=\"alice@example.com\""), "{page}");
    assert!(page.contains(" readonly"), "username read-only");
    let r = http.get(account(&env, "/")).send().await.unwrap();
    let csp = r.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    assert!(page.contains("href=\"#main\""), "skip link");
    assert!(!page.contains("<script"));
    let csrf = csrf_of(&page);

    // CSRF: without or with a wrong token the profile form is refused and nothing changes.
    for form in [
        vec![
            ("email", "evil@example.com"),
            ("firstName", "E"),
            ("lastName", "V"),
        ],
        vec![
            ("email", "evil@example.com"),
            ("firstName", "E"),
            ("lastName", "V"),
            ("csrf", "wrong"),
        ],
    ] {
        let r = http
            .post(account(&env, "/personal-info"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    // Without a session, a POST is refused and a GET goes to sign in.
    let stranger = browser();
    let r = stranger
        .post(account(&env, "/personal-info"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Profile: a validation error is shown in place with the values typed; a good one is saved and a
    // changed email is no longer verified; the username cannot be changed here.
    let r = http
        .post(account(&env, "/personal-info"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "not-an-email"),
            ("firstName", "Alice"),
            ("lastName", "L"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "shown in place with the values typed");
    let page = r.text().await.unwrap();
    assert!(page.contains("Invalid email address."), "{page}");
    assert!(page.contains("value=\"not-an-email\""));
    let r = http
        .post(account(&env, "/personal-info"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "alice2@example.com"),
            ("firstName", "Alicia"),
            ("lastName", "Liddell"),
            ("username", "mallory"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("read-only"),
        "username change refused: {page}"
    );
    let r = http
        .post(account(&env, "/personal-info"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "alice2@example.com"),
            ("firstName", "Alicia"),
            ("lastName", "Liddell"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = http
        .get(account(&env, "/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your account has been updated."), "{page}");
    assert!(page.contains("value=\"Alicia\"") && page.contains("not verified"));

    // The JSON API: 401 without a token, the profile with one.
    let (s, _) = api(&env, "GET", "/", None, None).await;
    assert_eq!(s, 401);
    let (s, tokens) = api_token(&env, "alice", "alice-pw1").await;
    assert_eq!(s, 200, "{tokens}");
    let other_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let t = tokens["access_token"].as_str().unwrap().to_owned();
    let (s, me) = api(&env, "GET", "/", Some(&t), None).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["username"], "alice");
    assert_eq!(me["email"], "alice2@example.com");
    assert_eq!(me["emailVerified"], false);
    assert!(me["attributes"].is_object() && me["id"].is_string());
    let (s, err) = api(
        &env,
        "POST",
        "/",
        Some(&t),
        Some(json!({"email": "x", "firstName": "A", "lastName": "B"})),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(err["errorMessage"], "Invalid email address.");
    assert_eq!(err["field"], "email");
    // A token of a client that names no `account` audience is refused.
    let boss = env.boss().await;
    let (s, _) = api(&env, "GET", "/", Some(&boss), None).await;
    assert_eq!(s, 401, "a master token is not for acme's account API");

    // Password: the wrong current password, a policy violation, then success.
    let page = http
        .get(account(&env, "/account-security/password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("name=\"logout-sessions\""));
    let change = |current: &'static str, new: &'static str| {
        let http = http.clone();
        let csrf = csrf.clone();
        let url = account(&env, "/account-security/password");
        async move {
            let r = http
                .post(&url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("password", current),
                    ("password-new", new),
                    ("password-confirm", new),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303);
            location(&r)
        }
    };
    assert!(
        change("wrong-pw1", "brand-new-pw2")
            .await
            .ends_with("/password")
    );
    let page = http
        .get(account(&env, "/account-security/password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Invalid existing password."), "{page}");
    assert!(
        change("alice-pw1", "no-digits-here")
            .await
            .ends_with("/password")
    );
    let page = http
        .get(account(&env, "/account-security/password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(POLICY_MESSAGE), "{page}");
    // The history refuses the current password as the new one.
    assert!(
        change("alice-pw1", "alice-pw1")
            .await
            .ends_with("/password")
    );
    let page = http
        .get(account(&env, "/account-security/password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Invalid password: must not be equal to any of last"),
        "{page}"
    );
    assert!(
        change("alice-pw1", "brand-new-pw2")
            .await
            .ends_with("/signing-in")
    );
    let (s, _) = env
        .login("acme", "account-console", "alice", "alice-pw1")
        .await;
    assert_eq!(s, 401, "the old password no longer works");
    let (s, fresh) = env
        .login("acme", "account-console", "alice", "brand-new-pw2")
        .await;
    assert_eq!(s, 200, "the new one does");
    // Without "sign out other devices" the API session is still alive.
    let (s, _) = api(&env, "GET", "/", Some(&t), None).await;
    assert_eq!(s, 200);
    let fresh_access = fresh["access_token"].as_str().unwrap().to_owned();

    // TOTP: the set-up page shows the secret; a wrong code is refused, the right one saved.
    let page = http
        .get(account(&env, "/account-security/totp"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<svg"), "QR code inline");
    let (_, fields) = html_form(&page, "totp").expect("totp form");
    let secret = fields
        .iter()
        .find(|(k, _)| k == "totpSecret")
        .unwrap()
        .1
        .clone();
    let key = portcullis_model::totp::base32_decode(&secret).unwrap();
    let policy = portcullis_model::totp::OtpPolicy::from_settings(None, None, None, None);
    let code_now = {
        let key = key.clone();
        move || {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            portcullis_model::totp::totp(&policy, &key, now)
        }
    };
    let post_totp = |code: String| {
        let http = http.clone();
        let csrf = csrf.clone();
        let secret = secret.clone();
        let url = account(&env, "/account-security/totp");
        async move {
            http.post(&url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("totpSecret", secret.as_str()),
                    ("totp", code.as_str()),
                    ("userLabel", "Phone"),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let r = post_totp("000000".into()).await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Invalid authenticator code."), "{page}");
    assert!(page.contains(&secret), "the same secret again");
    let setup_code = code_now();
    let r = post_totp(setup_code.clone()).await;
    assert_eq!(r.status(), 303);
    let page = http
        .get(account(&env, "/account-security/signing-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Phone"), "{page}");
    let (s, creds) = api(&env, "GET", "/credentials", Some(&fresh_access), None).await;
    assert_eq!(s, 200);
    let text = creds.to_string();
    assert!(!text.contains("secretData") && !text.contains("hashIterations"));
    let otp = creds
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "otp")
        .unwrap();
    let otp_id = otp["userCredentialMetadatas"][0]["credential"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        otp["userCredentialMetadatas"][0]["credential"]["userLabel"],
        "Phone"
    );
    assert_eq!(otp["createAction"], "CONFIGURE_TOTP");
    let (s, only) = api(
        &env,
        "GET",
        "/credentials?type=otp&user-credentials=false",
        Some(&fresh_access),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["type"], "otp");
    assert!(only[0].get("userCredentialMetadatas").is_none());

    // A second browser now needs password + OTP; the set-up code is spent, so another code of
    // the accepted window (one period either side) is used.
    let unspent = {
        let key = key.clone();
        let setup_code = setup_code.clone();
        let policy = portcullis_model::totp::OtpPolicy::from_settings(None, None, None, None);
        move || {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            [now, now + 30, now - 30]
                .iter()
                .map(|t| portcullis_model::totp::totp(&policy, &key, *t))
                .find(|c| *c != setup_code)
                .unwrap()
        }
    };
    let second = browser();
    sign_in(&env, &second, ("alice", "brand-new-pw2"), Some(&unspent)).await;

    // Sessions: three (this console, the API's two password grants, the second browser).
    let (s, sessions) = api(&env, "GET", "/sessions", Some(&fresh_access), None).await;
    assert_eq!(s, 200);
    let list = sessions.as_array().unwrap();
    assert!(list.len() >= 3, "{sessions}");
    assert_eq!(list[0]["current"], true, "current first");
    for k in ["id", "started", "lastAccess", "expires", "clients"] {
        assert!(!list[0][k].is_null(), "{k}");
    }
    let (s, devices) = api(&env, "GET", "/sessions/devices", Some(&fresh_access), None).await;
    assert_eq!(s, 200);
    assert!(devices[0]["sessions"].is_array());

    // The device activity page signs out the first API session: its refresh token fails.
    let page = http
        .get(account(&env, "/account-security/device-activity"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Current session"));
    let other_sid = support::claims(&t)["sid"].as_str().unwrap().to_owned();
    assert!(page.contains(&other_sid));
    let r = http
        .post(account(&env, "/account-security/device-activity"))
        .form(&[("csrf", csrf.as_str()), ("session", other_sid.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = env
        .http
        .post(format!(
            "{}/auth/realms/acme/protocol/openid-connect/token",
            env.origin
        ))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "account-console"),
            ("refresh_token", other_refresh.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "the ended session's refresh token fails");

    // Applications: account-console in use, with its link.
    let (s, apps) = api(&env, "GET", "/applications", Some(&fresh_access), None).await;
    assert_eq!(s, 200);
    let console = apps
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["clientId"] == "account-console")
        .expect("account-console listed");
    assert_eq!(console["inUse"], true);
    assert_eq!(console["effectiveUrl"], account(&env, "/"));
    let page = http
        .get(account(&env, "/applications"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Account Console") && page.contains("In use"),
        "{page}"
    );

    // TOTP removal with confirmation.
    let page = http
        .get(account(
            &env,
            &format!("/account-security/totp/{otp_id}/remove"),
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("confirm-remove"));
    let r = http
        .post(account(
            &env,
            &format!("/account-security/totp/{otp_id}/remove"),
        ))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = http
        .get(account(&env, "/account-security/signing-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("The authenticator has been removed."),
        "{page}"
    );
    assert!(page.contains("no-authenticator"));

    // "Sign out all other sessions": the second browser is sent to sign in again.
    let r = http
        .post(account(&env, "/account-security/device-activity"))
        .form(&[("csrf", csrf.as_str()), ("all-others", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = second
        .get(account(&env, "/applications"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        303,
        "ended elsewhere: the console signs in again"
    );
    let r = second.get(account(&env, "/")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert!(location(&r).contains("/protocol/openid-connect/auth"));

    // Sign-out ends the SSO session and the console session.
    let r = http
        .post(account(&env, "/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let end = location(&r);
    assert!(
        end.contains("/auth/realms/acme/protocol/openid-connect/logout?"),
        "{end}"
    );
    assert!(end.contains("id_token_hint="));
    let r = http.get(&end).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let r = http.get(account(&env, "/")).send().await.unwrap();
    assert_eq!(r.status(), 302, "signed out");
    let page = http
        .get(location(&r))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("kc-form-login"), "the SSO session ended too");

    // What the account console did is in the realm's events, as the account console's client.
    let boss = env.boss().await;
    let events = env
        .get("/acme/events?client=account-console&max=500", &boss)
        .await
        .body;
    let seen: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for kind in [
        "UPDATE_PROFILE",
        "UPDATE_PASSWORD_ERROR",
        "UPDATE_PASSWORD",
        "UPDATE_TOTP",
        "REMOVE_TOTP",
        "LOGOUT",
        "LOGIN",
    ] {
        assert!(seen.contains(&kind), "{kind} missing from {seen:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rights_and_username_editing() {
    let env = start(&realm_json(true));
    allow_direct_grants(&env).await;

    // Without any account role: 403 from the API and a clear page in the console.
    let (s, body) = api_token(&env, "nobody", "nobody-pw1").await;
    assert_eq!(s, 200, "{body}");
    let t = body["access_token"].as_str().unwrap();
    let (s, _) = api(&env, "GET", "/", Some(t), None).await;
    assert_eq!(s, 403);
    let http = browser();
    let r = http.get(account(&env, "/")).send().await.unwrap();
    let auth = location(&r);
    let page = http.get(&auth).send().await.unwrap().text().await.unwrap();
    let (action, mut fields) = html_form(&page, "kc-form-login").unwrap();
    fields.push(("username".into(), "nobody".into()));
    fields.push(("password".into(), "nobody-pw1".into()));
    let r = http.post(&action).form(&fields).send().await.unwrap();
    let r = http.get(location(&r)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let r = http.get(account(&env, "/")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(page.contains("does not have access"), "{page}");
    assert!(
        page.contains("id=\"sign-out\""),
        "the user can still sign out"
    );

    // view-profile only: reads work, writes are refused (API 403; the page is read-only).
    let (s, body) = api_token(&env, "viewer", "viewer-pw1").await;
    assert_eq!(s, 200, "{body}");
    let t = body["access_token"].as_str().unwrap();
    let (s, me) = api(&env, "GET", "/", Some(t), None).await;
    assert_eq!(s, 200);
    assert_eq!(me["username"], "viewer");
    let (s, _) = api(
        &env,
        "POST",
        "/",
        Some(t),
        Some(json!({"email": "v@example.com", "firstName": "V", "lastName": "W"})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = api(&env, "DELETE", "/sessions", Some(t), None).await;
    assert_eq!(s, 403);
    let viewer = browser();
    let page = sign_in(&env, &viewer, ("viewer", "viewer-pw1"), None).await;
    assert!(page.contains("id=\"read-only\""), "{page}");
    assert!(!page.contains("save-profile"));
    let r = viewer
        .get(account(&env, "/applications"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        403,
        "applications need view-applications or manage-account"
    );
    assert!(r.text().await.unwrap().contains("view-applications"));
    let r = viewer
        .get(account(&env, "/account-security/password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no password form without manage-account");
    let page = viewer
        .get(account(&env, "/account-security/device-activity"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Current session") && !page.contains("sign-out-others"));

    // editUsernameAllowed: alice renames herself through the API; a taken name is refused.
    let (s, body) = api_token(&env, "alice", "alice-pw1").await;
    assert_eq!(s, 200);
    let t = body["access_token"].as_str().unwrap();
    let profile = |u: &str| json!({"username": u, "email": "alice@example.com", "firstName": "Alice", "lastName": "L"});
    let (s, err) = api(&env, "POST", "/", Some(t), Some(profile("viewer"))).await;
    assert_eq!(s, 400);
    assert_eq!(err["errorMessage"], "Username already exists.");
    let (s, _) = api(&env, "POST", "/", Some(t), Some(profile("alice2"))).await;
    assert_eq!(s, 204);
    let (s, me) = api(&env, "GET", "/", Some(t), None).await;
    assert_eq!(s, 200);
    assert_eq!(me["username"], "alice2");
    assert_eq!(me["emailVerified"], true, "same email stays verified");
    // The console shows an editable username field.
    let http = browser();
    let page = sign_in(&env, &http, ("alice2", "alice-pw1"), None).await;
    let at = page.find("id=\"username\"").unwrap();
    let tag_start = page[..at].rfind('<').unwrap();
    let tag = &page[tag_start..at + page[at..].find('>').unwrap()];
    assert_eq!(html_attr(tag, "name").as_deref(), Some("username"), "{tag}");
    assert!(!tag.contains("readonly"));

    // Password change with "sign out other devices" ends the API session.
    let csrf = csrf_of(&page);
    let (_, other) = api_token(&env, "alice2", "alice-pw1").await;
    let other_access = other["access_token"].as_str().unwrap().to_owned();
    let r = http
        .post(account(&env, "/account-security/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("password", "alice-pw1"),
            ("password-new", "second-pw3"),
            ("password-confirm", "second-pw3"),
            ("logout-sessions", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).ends_with("/signing-in"));
    let (s, _) = api(&env, "GET", "/", Some(&other_access), None).await;
    assert_eq!(s, 401, "other sessions signed out");
    let r = http
        .get(account(&env, "/account-security/signing-in"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "this session stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_current_passwords_count_as_login_failures() {
    let mut realm: Value = serde_json::from_str(&realm_json(false)).unwrap();
    realm["bruteForceProtected"] = json!(true);
    realm["failureFactor"] = json!(2);
    realm["permanentLockout"] = json!(false);
    realm["waitIncrementSeconds"] = json!(600);
    realm["maxFailureWaitSeconds"] = json!(900);
    let env = start(&realm.to_string());
    allow_direct_grants(&env).await;
    let (s, body) = api_token(&env, "alice", "alice-pw1").await;
    assert_eq!(s, 200, "{body}");
    let t = body["access_token"].as_str().unwrap();
    let change = |current: &str| json!({"currentPassword": current, "newPassword": "other-pw9", "confirmation": "other-pw9"});
    for _ in 0..2 {
        let (s, err) = api(
            &env,
            "POST",
            "/credentials/password",
            Some(t),
            Some(change("nope-pw0")),
        )
        .await;
        assert_eq!(s, 400);
        assert_eq!(err["errorMessage"], "Invalid existing password.");
    }
    // Locked now: even the right current password is refused, and so is the login.
    let (s, err) = api(
        &env,
        "POST",
        "/credentials/password",
        Some(t),
        Some(change("alice-pw1")),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(err["errorMessage"], "Invalid existing password.");
    let (s, _) = env
        .login("acme", "account-console", "alice", "alice-pw1")
        .await;
    assert_eq!(
        s, 401,
        "the account console's failures locked the login too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_are_secure_behind_https() {
    let env = support::start_with(&realm_json(false), &["--proxy-headers=xforwarded"], &[]);
    let r = env
        .http
        .get(account(&env, "/"))
        .header("X-Forwarded-Proto", "https")
        .header("X-Forwarded-Host", "id.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let auth = location(&r);
    assert!(
        auth.starts_with("https://id.example.com/auth/realms/acme/protocol/openid-connect/auth?"),
        "{auth}"
    );
    let cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("PORTCULLIS_ACCOUNT_LOGIN="))
        .expect("login cookie");
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert!(r.headers().contains_key("strict-transport-security"));
}
