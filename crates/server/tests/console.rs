//! The web admin console against the real server, without a browser: the way in (redirects to
//! master's login as `security-admin-console` with PKCE S256), sign-in to a console session,
//! the security headers, CSRF refusals, and a non-administrator seeing nothing. The browser
//! tests of every page are in `tests/e2e` (`scripts/e2e`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::{Server, Workdir, html_form};
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};

const ADMIN: (&str, &str) = ("boss", "b0ss-pw");

struct Env {
    _w: Workdir,
    _server: Server,
    origin: String,
}

fn start() -> Env {
    let w = Workdir::new();
    let server = Server::start(
        w.path(),
        &["start-dev", "--http-relative-path=/auth"],
        &[
            ("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN.0),
            ("KC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN.1),
        ],
    )
    .expect("server starts");
    let origin = server.origin();
    Env {
        _w: w,
        _server: server,
        origin,
    }
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

/// Sign in to the console as `user`; answers the console page reached after the callback.
async fn sign_in(env: &Env, http: &reqwest::Client, user: (&str, &str)) -> reqwest::Response {
    let console = format!("{}/auth/admin/master/console/", env.origin);
    let r = http.get(&console).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let auth = location(&r);
    let u = url::Url::parse(&auth).unwrap();
    assert_eq!(u.path(), "/auth/realms/master/protocol/openid-connect/auth");
    let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "security-admin-console");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["redirect_uri"],
        format!("{}/auth/admin/master/console/callback", env.origin)
    );
    assert!(q["state"].len() >= 40 && q["nonce"].len() >= 40);
    let page = http.get(&auth).send().await.unwrap().text().await.unwrap();
    let (action, mut fields) = html_form(&page, "kc-form-login").expect("login form");
    fields.push(("username".into(), user.0.into()));
    fields.push(("password".into(), user.1.into()));
    let r = http.post(&action).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 302, "login accepted");
    let callback = location(&r);
    assert!(callback.starts_with(&format!(
        "{}/auth/admin/master/console/callback?",
        env.origin
    )));
    let r = http.get(&callback).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("PORTCULLIS_CONSOLE="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Path=/auth/admin/master/console/"));
    assert_eq!(location(&r), "/auth/admin/master/console/");
    http.get(&console).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_signs_in_checks_csrf_and_rights() {
    let env = start();
    let http = browser();

    // `/admin/` leads to the console.
    let r = http
        .get(format!("{}/auth/admin/", env.origin))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/auth/admin/master/console/");

    // A callback without a login in progress is refused; nothing is signed in.
    let r = http
        .get(format!(
            "{}/auth/admin/master/console/callback?code=x&state=y",
            env.origin
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let page = sign_in(&env, &http, ADMIN).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let body = page.text().await.unwrap();
    assert!(body.contains(">master</a>"), "{body}");

    // CSRF: the create-user form without and with a wrong token is refused, with it accepted.
    let users = format!(
        "{}/auth/admin/master/console/realms/master/users",
        env.origin
    );
    for form in [
        vec![("username", "victim")],
        vec![("username", "victim"), ("csrf", "wrong")],
    ] {
        let r = http.post(&users).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 403);
    }
    let list = http
        .get(format!("{users}?search=victim"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("No users."), "{list}");
    let new_form = http
        .get(format!("{users}/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (_, fields) = html_form(&new_form, "username").expect("create form");
    let csrf = fields.iter().find(|(k, _)| k == "csrf").unwrap().1.clone();
    let r = http
        .post(&users)
        .form(&[("username", "created"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // Without a session, a POST is refused and a GET goes to sign in.
    let stranger = browser();
    let r = stranger
        .post(&users)
        .form(&[("username", "x"), ("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = stranger.get(&users).send().await.unwrap();
    assert_eq!(r.status(), 302);

    // A master user without management roles signs in but sees no realm and no page.
    let token: serde_json::Value = http
        .post(format!(
            "{}/auth/realms/master/protocol/openid-connect/token",
            env.origin
        ))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", ADMIN.0),
            ("password", ADMIN.1),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http
        .post(format!("{}/auth/admin/realms/master/users", env.origin))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&serde_json::json!({
            "username": "nobody", "enabled": true,
            "credentials": [{"type": "password", "value": "nobody-pw", "temporary": false}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let nobody = browser();
    let page = sign_in(&env, &nobody, ("nobody", "nobody-pw")).await;
    let body = page.text().await.unwrap();
    assert!(body.contains("You do not administer any realm."), "{body}");
    let r = nobody.get(&users).send().await.unwrap();
    assert_eq!(r.status(), 403);
}
