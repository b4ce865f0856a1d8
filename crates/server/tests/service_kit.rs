//! The service kit end to end: the real Portcullis binary with the platform's realm template,
//! the demo service (`examples/service-a`, built only on `portcullis-kit`) in-process on
//! loopback, and an HTTP client playing the browser through the login form.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::{Server, Workdir, html_form};
use portcullis_kit::{GroupsSyncedHandler, Kit, KitConfig};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

const SECRET: &str = "kit-test-secret";

/// The example realm template (with its `myclient` audience mapper), pointed at the test
/// service's port, with direct access grants (to get tokens in the test) and a user without
/// groups.
fn realm(dir: &Path, svc_port: u16) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/import/myrealm-realm.json"),
    )
    .unwrap();
    let mut r: Value = serde_json::from_str(&text).unwrap();
    let client = r["clients"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["clientId"] == "myclient")
        .unwrap();
    client["redirectUris"] = json!([format!("http://127.0.0.1:{svc_port}/*")]);
    client["directAccessGrantsEnabled"] = json!(true);
    client["attributes"]["backchannel.logout.url"] =
        json!(format!("http://127.0.0.1:{svc_port}/backchannel-logout"));
    r["users"].as_array_mut().unwrap().push(json!({
        "username": "dave", "email": "dave@example.com", "emailVerified": true,
        "firstName": "Dave", "lastName": "Nogroup", "enabled": true,
        "credentials": [{"type": "password", "value": "password"}]
    }));
    std::fs::create_dir_all(dir.join("import")).unwrap();
    std::fs::write(
        dir.join("import/myrealm-realm.json"),
        serde_json::to_string_pretty(&r).unwrap(),
    )
    .unwrap();
}

fn start_idp(dir: &Path) -> Server {
    Server::start(
        dir,
        &[
            "start-dev",
            "--import-realm",
            "--import-dir=import",
            "--http-relative-path=/auth",
        ],
        &[
            ("KEYCLOAK_CLIENT_SECRET", SECRET),
            ("DEV_USER_PASSWORD", "password"),
            ("DEV_ADMIN_PASSWORD", "admin-password"),
        ],
    )
    .expect("identity server starts")
}

fn kit_config(idp: &str, svc: &str, db: &Path) -> KitConfig {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/service-a/service-a.json"),
    )
    .unwrap();
    let mut raw: portcullis_kit::config::RawConfig = serde_json::from_str(&text).unwrap();
    raw.issuer = Some(format!("{idp}/realms/myrealm"));
    raw.backchannel_url = Some(idp.to_owned());
    raw.client_secret = Some(SECRET.to_owned());
    raw.service_url = Some(svc.to_owned());
    raw.database_url = Some(format!("sqlite://{}", db.display()));
    KitConfig::validate(raw).unwrap()
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
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A `UserGroupsSynced` subscriber that records (username, added, removed).
#[derive(Default)]
struct Recorder(Mutex<Vec<Heard>>);

/// (username, groups added, groups removed)
type Heard = (String, Vec<String>, Vec<String>);

impl GroupsSyncedHandler for Recorder {
    fn on_groups_synced<'a>(
        &'a self,
        event: &'a portcullis_kit::UserGroupsSynced,
        _store: &'a portcullis_kit::UserStore,
    ) -> Pin<Box<dyn Future<Output = Result<(), portcullis_kit::KitError>> + Send + 'a>> {
        Box::pin(async move {
            self.0.lock().unwrap().push((
                event.user.username.clone(),
                event.added.iter().cloned().collect(),
                event.removed.iter().cloned().collect(),
            ));
            Ok(())
        })
    }
}

/// Log in to the service through the identity server's login form; returns where the
/// service sent the browser at the end.
async fn sso_login(b: &reqwest::Client, svc: &str, user: &str, password: &str) -> String {
    let r = b.get(format!("{svc}/login?next=/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login redirects");
    let auth_url = location(&r);
    assert!(
        auth_url.contains("code_challenge_method=S256"),
        "{auth_url}"
    );
    assert!(auth_url.contains("nonce="), "{auth_url}");
    let r = b.get(&auth_url).send().await.unwrap();
    let page = r.text().await.unwrap();
    let (action, mut fields) = html_form(&page, "kc-form-login").expect("login form");
    fields.push(("username".into(), user.into()));
    fields.push(("password".into(), password.into()));
    let r = b.post(&action).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND, "form post redirects");
    let cb = location(&r);
    assert!(cb.starts_with(&format!("{svc}/callback?")), "{cb}");
    let r = b.get(&cb).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "callback redirects");
    location(&r)
}

/// The value of a page's hidden `csrf` field (the service's own forms).
fn csrf_field(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a csrf field")
        .to_owned()
}

async fn me(b: &reqwest::Client, svc: &str) -> (StatusCode, Value) {
    let r = b.get(format!("{svc}/api/me")).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn status(b: &reqwest::Client, url: &str) -> StatusCode {
    b.get(url).send().await.unwrap().status()
}

async fn password_grant(idp: &str, client: &str, secret: Option<&str>, user: &str) -> String {
    let mut form = vec![
        ("grant_type", "password"),
        ("client_id", client),
        ("username", user),
        ("password", "password"),
    ];
    if let Some(s) = secret {
        form.push(("client_secret", s));
    }
    let r: Value = reqwest::Client::new()
        .post(format!(
            "{idp}/realms/myrealm/protocol/openid-connect/token"
        ))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("token: {r}"))
        .to_owned()
}

/// A master-realm admin token (the development admin of `start-dev`).
async fn admin_token(idp: &str) -> String {
    let r: Value = reqwest::Client::new()
        .post(format!("{idp}/realms/master/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", "admin"),
            ("password", "admin"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("admin token: {r}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_service_logs_users_in_syncs_groups_and_enforces_permissions() {
    let dir = Workdir::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let svc_port = listener.local_addr().unwrap().port();
    let svc = format!("http://127.0.0.1:{svc_port}");
    realm(dir.path(), svc_port);
    let mut idp = start_idp(dir.path());
    let idp_url = idp.http.clone();

    let kit = Kit::connect(kit_config(&idp_url, &svc, &dir.path().join("svc.db")))
        .await
        .unwrap();
    let events = Arc::new(Recorder::default());
    kit.subscribe(events.clone());
    let app = service_a::app(&kit);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // --- not signed in: pages go to /login, APIs answer 401
    let anon = browser();
    let r = anon.get(format!("{svc}/editor")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login?next=%2Feditor");
    assert_eq!(me(&anon, &svc).await.0, StatusCode::UNAUTHORIZED);

    // --- alice (group editors → role editor, inherits viewer)
    let alice = browser();
    assert_eq!(sso_login(&alice, &svc, "alice", "password").await, "/");
    let (st, body) = me(&alice, &svc).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "alice");
    assert_eq!(body["user_roles"], json!(["editor"]));
    assert_eq!(
        body["user_permissions"],
        json!(["article.edit", "article.view", "dashboard.view"])
    );
    assert_eq!(body["primary_role"], "editor");
    assert_eq!(body["is_staff"], true);
    assert_eq!(body["is_superuser"], false);
    assert_eq!(status(&alice, &format!("{svc}/")).await, StatusCode::OK);
    assert_eq!(
        status(&alice, &format!("{svc}/editor")).await,
        StatusCode::OK
    );
    let r = alice.get(format!("{svc}/admin")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("admin.access"));
    let r = alice
        .post(format!("{svc}/api/articles"))
        .json(&json!({"title": "Hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Subscribers heard of the sync.
    let heard = events.0.lock().unwrap().clone();
    assert_eq!(
        heard,
        vec![("alice".to_string(), vec!["editors".to_string()], vec![])]
    );
    // The local user and its groups are what the token said.
    let local = kit
        .store()
        .user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kit.store().groups(&local.id).await.unwrap(),
        ["editors".to_string()].into()
    );
    assert!(local.is_staff && !local.is_superuser);
    assert_eq!(local.email.as_deref(), Some("alice@example.com"));

    // --- bob (viewers): reads, cannot edit; the guard answers JSON to API callers
    let bob = browser();
    sso_login(&bob, &svc, "bob", "password").await;
    assert_eq!(
        status(&bob, &format!("{svc}/api/articles")).await,
        StatusCode::OK
    );
    assert_eq!(
        status(&bob, &format!("{svc}/editor")).await,
        StatusCode::FORBIDDEN
    );
    let r = bob
        .post(format!("{svc}/api/articles"))
        .json(&json!({"title": "Nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap()["required_permission"],
        "article.edit"
    );

    // --- dave (no groups): signed in, but no permission at all
    let dave = browser();
    sso_login(&dave, &svc, "dave", "password").await;
    assert_eq!(
        status(&dave, &format!("{svc}/")).await,
        StatusCode::FORBIDDEN
    );

    // --- an administrator puts dave in `editors` through the admin API: his next login
    // brings the group, the role and its permissions; taking him out removes them again.
    let admin_token = admin_token(&idp_url).await;
    let admin_api = format!("{idp_url}/admin/realms/myrealm");
    let http = reqwest::Client::new();
    let users: Value = http
        .get(format!("{admin_api}/users?username=dave&exact=true"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dave_id = users[0]["id"].as_str().expect("dave's id").to_owned();
    let groups: Value = http
        .get(format!("{admin_api}/groups?search=editors"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let editors = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "editors")
        .expect("editors group");
    let editors_id = editors["id"].as_str().unwrap().to_owned();
    let membership = format!("{admin_api}/users/{dave_id}/groups/{editors_id}");
    let r = http
        .put(&membership)
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let dave = browser();
    sso_login(&dave, &svc, "dave", "password").await;
    let (st, body) = me(&dave, &svc).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["user_roles"], json!(["editor"]));
    let local = kit.store().user_by_username("dave").await.unwrap().unwrap();
    assert_eq!(
        kit.store().groups(&local.id).await.unwrap(),
        ["editors".to_string()].into()
    );
    let r = http
        .delete(&membership)
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let dave = browser();
    sso_login(&dave, &svc, "dave", "password").await;
    assert_eq!(
        status(&dave, &format!("{svc}/")).await,
        StatusCode::FORBIDDEN
    );
    assert!(kit.store().groups(&local.id).await.unwrap().is_empty());

    // --- bearer tokens: verified locally (signature, issuer, audience, expiry)
    let token = password_grant(&idp_url, "myclient", Some(SECRET), "alice").await;
    let api = reqwest::Client::new();
    let r = api
        .get(format!("{svc}/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["user_roles"],
        json!(["editor"])
    );
    let mut forged = token.clone().into_bytes();
    let n = forged.len() - 3;
    forged[n] = if forged[n] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let r = api
        .get(format!("{svc}/api/me"))
        .bearer_auth(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "bad signature");
    // Another client's token (no myclient audience) is refused.
    let other = password_grant(&idp_url, "admin-cli", None, "alice").await;
    let r = api
        .get(format!("{svc}/api/me"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "wrong audience");
    // A token of another realm (another issuer) is refused.
    let r = api
        .get(format!("{svc}/api/me"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "wrong issuer");

    // --- back-channel logout: bob ends his SSO session at the identity server; the server
    // posts a logout token to the service, which ends bob's service session.
    let r = bob
        .get(format!(
            "{idp_url}/realms/myrealm/protocol/openid-connect/logout"
        ))
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    let (action, mut fields) = html_form(&page, "kc-logout-confirm").expect("confirmation");
    fields.push(("confirmLogout".into(), "yes".into()));
    let r = bob.post(&action).form(&fields).send().await.unwrap();
    assert!(
        r.status().is_success() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    let mut ended = false;
    for _ in 0..50 {
        if me(&bob, &svc).await.0 == StatusCode::UNAUTHORIZED {
            ended = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ended, "back-channel logout ended bob's service session");
    assert_eq!(
        me(&alice, &svc).await.0,
        StatusCode::OK,
        "alice is untouched"
    );

    // --- RP-initiated logout from the service: local session gone, browser sent to the
    // identity server's end-session endpoint with an id_token_hint.
    let page = alice
        .get(format!("{svc}/logout"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_field(&page);
    let r = alice
        .post(format!("{svc}/logout"))
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "logout needs the CSRF token"
    );
    let r = alice
        .post(format!("{svc}/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let end = location(&r);
    assert!(
        end.starts_with(&format!(
            "{idp_url}/realms/myrealm/protocol/openid-connect/logout?id_token_hint="
        )),
        "{end}"
    );
    assert_eq!(me(&alice, &svc).await.0, StatusCode::UNAUTHORIZED);
    let r = alice.get(&end).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(location(&r), format!("{svc}/"));

    // --- superuser via SSO, then break-glass with the identity server stopped
    let admin = browser();
    sso_login(&admin, &svc, "dev-admin", "admin-password").await;
    let (_, body) = me(&admin, &svc).await;
    assert_eq!(body["is_superuser"], true, "{body}");
    assert_eq!(
        status(&admin, &format!("{svc}/admin")).await,
        StatusCode::OK
    );
    kit.set_local_password("dev-admin", "break-glass-password-1")
        .await
        .unwrap();
    assert!(idp.stop(), "identity server stops");

    // A service that never reached the identity server says so and points to the
    // emergency sign-in (one that did keeps sending browsers to the identity server).
    let fresh_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fresh_url = format!("http://{}", fresh_listener.local_addr().unwrap());
    let fresh = Kit::connect(kit_config(
        &idp_url,
        &fresh_url,
        &dir.path().join("fresh.db"),
    ))
    .await
    .unwrap();
    let fresh_app = service_a::app(&fresh);
    tokio::spawn(async move { axum::serve(fresh_listener, fresh_app).await });
    let r = browser()
        .get(format!("{fresh_url}/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert!(r.text().await.unwrap().contains("/local-login"));

    let b = browser();
    let local_login = |user: &'static str, pw: &'static str| {
        let b = b.clone();
        let svc = svc.clone();
        async move {
            let page = b
                .get(format!("{svc}/local-login"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let csrf = csrf_field(&page);
            b.post(format!("{svc}/local-login"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("username", user),
                    ("password", pw),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // alice has no local password: refused with the same message as a wrong password.
    let r = local_login("alice", "password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let refused = r.text().await.unwrap();
    let r = local_login("dev-admin", "wrong-password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.text()
            .await
            .unwrap()
            .split("role=\"alert\"")
            .nth(1)
            .map(|s| s.split("</p>").next().map(str::to_owned)),
        refused
            .split("role=\"alert\"")
            .nth(1)
            .map(|s| s.split("</p>").next().map(str::to_owned))
    );
    let r = local_login("dev-admin", "break-glass-password-1").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(status(&b, &format!("{svc}/admin")).await, StatusCode::OK);
    // Without the CSRF cookie's token the form is refused.
    let r = browser()
        .post(format!("{svc}/local-login"))
        .form(&[
            ("csrf", "x"),
            ("username", "dev-admin"),
            ("password", "break-glass-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
