//! The account lifecycle against the real server and a real MailDev: registration with email
//! verification, "forgot password", mail links (single use, expiry, forgery), the required
//! actions, `execute-actions-email`, `testSMTPConnection`, the password policy on every path
//! that sets a password, and CSRF on every new form.
//!
//! MailDev comes from `PORTCULLIS_TEST_MAILDEV_SMTP` (`host:port`) and
//! `PORTCULLIS_TEST_MAILDEV_API` (`http://host:port`); scripts/test starts one
//! (`scripts/maildev start DIR`). Every test uses recipients of its own, so tests running at
//! once never read each other's mail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::*;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const CB: &str = "https://app.example/cb";
const POLICY: &str = "length(8) and digits(1) and notUsername(undefined) and passwordHistory(2)";
const EMAIL_SENT: &str = "You should receive an email shortly with further instructions.";
const EXPIRED: &str =
    "This link has expired or has already been used. If you still need it, request a new one.";
const INVALID: &str = "The link is invalid. Please request a new one.";

struct MailDev {
    smtp_host: String,
    smtp_port: String,
    api: String,
}

fn maildev() -> MailDev {
    let smtp = std::env::var("PORTCULLIS_TEST_MAILDEV_SMTP").expect(
        "PORTCULLIS_TEST_MAILDEV_SMTP is not set: run the suite with scripts/test, or `scripts/maildev start DIR` and export what it prints",
    );
    let api = std::env::var("PORTCULLIS_TEST_MAILDEV_API").expect(
        "PORTCULLIS_TEST_MAILDEV_API is not set: run the suite with scripts/test, or `scripts/maildev start DIR` and export what it prints",
    );
    let (host, port) = smtp
        .rsplit_once(':')
        .expect("PORTCULLIS_TEST_MAILDEV_SMTP is host:port");
    MailDev {
        smtp_host: host.to_string(),
        smtp_port: port.to_string(),
        api: api.trim_end_matches('/').to_string(),
    }
}

impl MailDev {
    /// The mails MailDev holds for `to`.
    async fn mails_to(&self, to: &str) -> Vec<Value> {
        let all: Vec<Value> = reqwest::get(format!("{}/email", self.api))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        all.into_iter()
            .filter(|m| {
                m["to"].as_array().is_some_and(|list| {
                    list.iter().any(|r| {
                        r["address"]
                            .as_str()
                            .is_some_and(|a| a.eq_ignore_ascii_case(to))
                    })
                })
            })
            .collect()
    }

    /// Wait (bounded) until `to` has `n` mails; returns the newest.
    async fn wait_for(&self, to: &str, n: usize) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mails = self.mails_to(to).await;
            if mails.len() >= n {
                return mails.last().cloned().unwrap();
            }
            assert!(Instant::now() < deadline, "no mail #{n} for {to} arrived");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The first `http...` link of a mail's text part.
fn link_in(mail: &Value) -> String {
    let text = mail["text"].as_str().unwrap();
    let i = text.find("http").expect("a link in the mail");
    text[i..].split_whitespace().next().unwrap().to_string()
}

fn unique(tag: &str) -> String {
    format!("{tag}-{}@example.test", uuid::Uuid::new_v4().simple())
}

struct Emails {
    alice: String,
    bob: String,
    admin: String,
    carol: String,
    dana: String,
}

fn realm_json(md: &MailDev, e: &Emails) -> String {
    json!({
        "realm": "life",
        "enabled": true,
        "registrationAllowed": true,
        "resetPasswordAllowed": true,
        "verifyEmail": true,
        "passwordPolicy": POLICY,
        "smtpServer": {"host": md.smtp_host, "port": md.smtp_port, "from": "noreply@portcullis.test",
                        "fromDisplayName": "Portcullis"},
        "clients": [
            {"clientId": "web", "enabled": true, "publicClient": false, "secret": "web-secret",
             "redirectUris": [CB], "directAccessGrantsEnabled": true}
        ],
        "users": [
            {"username": "alice", "enabled": true, "email": e.alice, "emailVerified": true,
             "firstName": "Alice", "lastName": "Liddell",
             "credentials": [{"type": "password", "value": "alice-pw-1"}]},
            {"username": "bob", "enabled": true, "email": e.bob, "emailVerified": true,
             "firstName": "Bob", "lastName": "Builder",
             "credentials": [{"type": "password", "value": "bob-pw-1"}]},
            {"username": "dana", "enabled": true, "email": e.dana, "emailVerified": false,
             "firstName": "Dana", "lastName": "D",
             "credentials": [{"type": "password", "value": "dana-pw-1"}]},
            {"username": "nomail", "enabled": true,
             "credentials": [{"type": "password", "value": "nomail-pw-1"}]},
            {"username": "root", "enabled": true, "email": e.admin, "emailVerified": true,
             "firstName": "Root", "lastName": "Admin",
             "clientRoles": {"realm-management": ["realm-admin"]},
             "credentials": [{"type": "password", "value": "root-pw-1"}]},
            {"username": "viewer", "enabled": true, "email": unique("viewer"), "emailVerified": true,
             "firstName": "V", "lastName": "V",
             "clientRoles": {"realm-management": ["view-realm", "manage-users"]},
             "credentials": [{"type": "password", "value": "viewer-pw-1"}]}
        ]
    })
    .to_string()
}

fn short_realm_json(md: &MailDev, email: &str) -> String {
    json!({
        "realm": "short",
        "enabled": true,
        "resetPasswordAllowed": true,
        "actionTokenGeneratedByUserLifespan": 1,
        "smtpServer": {"host": md.smtp_host, "port": md.smtp_port, "from": "noreply@portcullis.test"},
        "clients": [{"clientId": "web", "enabled": true, "publicClient": false, "secret": "web-secret",
                     "redirectUris": [CB]}],
        "users": [{"username": "carol", "enabled": true, "email": email, "emailVerified": true,
                   "firstName": "Carol", "lastName": "C",
                   "credentials": [{"type": "password", "value": "carol-pw-1"}]}]
    })
    .to_string()
}

/// A realm whose SMTP server does not answer (a port nobody listens on).
fn broken_realm_json() -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    json!({
        "realm": "broken",
        "enabled": true,
        "registrationAllowed": true,
        "verifyEmail": true,
        "smtpServer": {"host": "127.0.0.1", "port": port.to_string(), "from": "noreply@portcullis.test"},
        "clients": [{"clientId": "web", "enabled": true, "publicClient": false, "secret": "web-secret",
                     "redirectUris": [CB]}]
    })
    .to_string()
}

struct Env {
    w: Workdir,
    server: Server,
    origin: String,
    md: MailDev,
    e: Emails,
}

fn start() -> Env {
    start_with(&[])
}

fn start_with(extra: &[&str]) -> Env {
    let md = maildev();
    let e = Emails {
        alice: unique("alice"),
        bob: unique("bob"),
        admin: unique("root"),
        carol: unique("carol"),
        dana: unique("dana"),
    };
    let w = Workdir::new();
    w.write("data/import/life-realm.json", &realm_json(&md, &e));
    w.write("data/import/broken-realm.json", &broken_realm_json());
    w.write(
        "data/import/short-realm.json",
        &short_realm_json(&md, &e.carol),
    );
    let mut args = vec!["start-dev", "--import-realm", "--http-relative-path=/auth"];
    args.extend_from_slice(extra);
    // The controllable clock of debug builds (crates/server/src/clock.rs): link expiry is
    // tested by moving it forward instead of sleeping.
    w.write("clock", "0");
    let clock = w.path().join("clock").display().to_string();
    let server = Server::start(w.path(), &args, &[("PORTCULLIS_TEST_CLOCK_FILE", &clock)])
        .expect("server starts");
    let origin = server.origin();
    Env {
        w,
        server,
        origin,
        md,
        e,
    }
}

/// A browser: its own cookie jar, redirects not followed.
struct Browser {
    http: reqwest::Client,
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
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

    async fn get(&self, url: &str) -> Page {
        page(self.http.get(url).send().await.unwrap()).await
    }

    async fn post(&self, url: &str, fields: &[(String, String)]) -> Page {
        page(self.http.post(url).form(fields).send().await.unwrap()).await
    }

    /// Submit the form `id` of `page` with its hidden fields plus `fields`.
    async fn submit(&self, p: &Page, id: &str, fields: &[(&str, &str)]) -> Page {
        let (action, mut all) =
            html_form(&p.body, id).unwrap_or_else(|| panic!("form {id} in page:\n{}", p.body));
        for (k, v) in fields {
            all.push((k.to_string(), v.to_string()));
        }
        self.post(&action, &all).await
    }
}

async fn page(r: reqwest::Response) -> Page {
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    Page {
        status,
        location,
        body: r.text().await.unwrap(),
    }
}

/// The `href` of the element with id `id`.
fn href(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("#{id} in page:\n{page}"));
    let open = page[..at].rfind('<').unwrap();
    let close = at + page[at..].find('>').unwrap();
    html_attr(&page[open..close], "href").unwrap()
}

impl Env {
    /// Move the server's security clock `offset_ms` ahead of the system time.
    fn set_clock(&self, offset_ms: i64) {
        self.w.write("clock", &offset_ms.to_string());
    }

    fn realm(&self, name: &str) -> String {
        format!("{}/auth/realms/{name}", self.origin)
    }

    /// Open the login page of `realm` for client `web`.
    async fn login_page(&self, b: &Browser, realm: &str) -> Page {
        let p = b
            .get(&format!(
                "{}/protocol/openid-connect/auth?client_id=web&redirect_uri={}&response_type=code&scope=openid&state=st",
                self.realm(realm),
                CB
            ))
            .await;
        assert_eq!(p.status, 200, "{}", p.body);
        p
    }

    /// A full browser login with a password; the final page.
    async fn browser_login(&self, realm: &str, user: &str, pw: &str) -> Page {
        let b = Browser::new();
        let p = self.login_page(&b, realm).await;
        b.submit(&p, "kc-form-login", &[("username", user), ("password", pw)])
            .await
    }

    /// A password-grant token response (client `web`).
    async fn grant(&self, user: &str, pw: &str) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!(
                "{}/protocol/openid-connect/token",
                self.realm("life")
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "web"),
                ("client_secret", "web-secret"),
                ("username", user),
                ("password", pw),
            ])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn refresh(&self, refresh_token: &str) -> u16 {
        reqwest::Client::new()
            .post(format!(
                "{}/protocol/openid-connect/token",
                self.realm("life")
            ))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", "web"),
                ("client_secret", "web-secret"),
                ("refresh_token", refresh_token),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// An admin token of `user` in realm `life` (`admin-cli`).
    async fn admin_token(&self, user: &str, pw: &str) -> String {
        let r: Value = reqwest::Client::new()
            .post(format!(
                "{}/protocol/openid-connect/token",
                self.realm("life")
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", user),
                ("password", pw),
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
            .to_string()
    }

    async fn admin(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = reqwest::Client::new()
            .request(
                method.parse().unwrap(),
                format!("{}/auth/admin/realms/life{path}", self.origin),
            )
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn user_id(&self, token: &str, username: &str) -> String {
        let (s, v) = self
            .admin(
                "GET",
                &format!("/users?username={username}&exact=true"),
                token,
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v[0]["id"].as_str().unwrap().to_string()
    }
}

/// The `tab_id` in the action URL of form `id`.
fn tab_of(p: &Page, id: &str) -> String {
    let (action, _) = html_form(&p.body, id).unwrap();
    let i = action.find("tab_id=").unwrap() + 7;
    action[i..].split('&').next().unwrap().to_string()
}

fn assert_code(p: &Page) {
    assert_eq!(p.status, 302, "{}", p.body);
    let loc = p.location.as_deref().unwrap();
    assert!(
        loc.starts_with(CB) && loc.contains("code="),
        "redirect to the client with a code: {loc}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_policy_duplicates_then_verification_link_logs_in() {
    let env = start();
    let b = Browser::new();
    let login = env.login_page(&b, "life").await;
    let register = b.get(&href(&login.body, "kc-register-link")).await;
    assert_eq!(register.status, 200);
    let email = unique("newbie");
    let mut fields = vec![
        ("username", "newbie"),
        ("email", email.as_str()),
        ("firstName", "New"),
        ("lastName", "Bie"),
        ("password", "short1"),
        ("password-confirm", "short1"),
    ];
    // Policy first, with Keycloak's message.
    let p = b.submit(&register, "kc-register-form", &fields).await;
    assert!(
        p.body.contains("Invalid password: minimum length 8."),
        "{}",
        p.body
    );
    fields[4] = ("password", "longenough");
    fields[5] = ("password-confirm", "longenough");
    let p = b.submit(&register, "kc-register-form", &fields).await;
    assert!(p.body.contains("must contain at least 1 numerical digits"));
    fields[4] = ("password", "newbie-pw-1");
    fields[5] = ("password-confirm", "newbie-pw-2");
    let p = b.submit(&register, "kc-register-form", &fields).await;
    assert!(
        p.body.contains("Passwords don&#x27;t match.") || p.body.contains("Passwords don't match.")
    );
    fields[5] = ("password-confirm", "newbie-pw-1");
    // Duplicates.
    fields[0] = ("username", "alice");
    let p = b.submit(&register, "kc-register-form", &fields).await;
    assert!(p.body.contains("Username already exists."), "{}", p.body);
    fields[0] = ("username", "newbie");
    fields[1] = ("email", env.e.alice.as_str());
    let p = b.submit(&register, "kc-register-form", &fields).await;
    assert!(p.body.contains("Email already exists."), "{}", p.body);
    fields[1] = ("email", "not-an-address");
    let p = b.submit(&register, "kc-register-form", &fields).await;
    assert!(p.body.contains("Invalid email address."), "{}", p.body);
    fields[1] = ("email", email.as_str());
    // Registered: the realm wants verified addresses.
    let p = b.submit(&register, "kc-register-form", &fields).await;
    assert_eq!(p.status, 200);
    assert!(
        p.body
            .contains("You need to verify your email address to activate your account."),
        "{}",
        p.body
    );
    // Until verified, the password grant refuses and a browser login stops at the same step.
    let (s, v) = env.grant("newbie", "newbie-pw-1").await;
    assert_ne!(s, 200);
    assert_eq!(v["error_description"], "Account is not fully set up", "{v}");
    let other = env.browser_login("life", "newbie", "newbie-pw-1").await;
    assert_eq!(other.status, 200);
    assert!(other.body.contains("You need to verify your email address"));
    // Two mails (one per browser); this browser's link carries its tab.
    env.md.wait_for(&email, 2).await;
    let tab = tab_of(&register, "kc-register-form");
    let mail = env
        .md
        .mails_to(&email)
        .await
        .into_iter()
        .find(|m| link_in(m).contains(&format!("tab_id={tab}")))
        .expect("the mail of this browser's login");
    assert_eq!(mail["subject"], "Verify email");
    assert!(mail["html"].as_str().unwrap().contains("<a href="));
    let link = link_in(&mail);
    assert!(link.contains("/auth/realms/life/login-actions/action-token?key="));
    // The link continues the registration's login in this browser: a code for the client.
    let done = b.get(&link).await;
    assert_code(&done);
    // Used once: the second click changes nothing.
    let again = b.get(&link).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains(EXPIRED));
    // Now a plain login goes straight through.
    assert_code(&env.browser_login("life", "newbie", "newbie-pw-1").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_resets_with_policy_and_ends_sessions() {
    let env = start();
    // A session from before the reset.
    let (s, tokens) = env.grant("bob", "bob-pw-1").await;
    assert_eq!(s, 200, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();

    let b = Browser::new();
    let login = env.login_page(&b, "life").await;
    let form = b.get(&href(&login.body, "kc-forgot-password")).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("kc-reset-password-form"));
    let p = b
        .submit(&form, "kc-reset-password-form", &[("username", "bob")])
        .await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains(EMAIL_SENT), "{}", p.body);
    let mail = env.md.wait_for(&env.e.bob, 1).await;
    assert_eq!(mail["subject"], "Reset password");
    let link = link_in(&mail);

    // Opened in another browser: a flow of its own, ending on an information page.
    let other = Browser::new();
    let form = other.get(&link).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("kc-passwd-update-form"));
    let p = other
        .submit(
            &form,
            "kc-passwd-update-form",
            &[("password-new", "bob"), ("password-confirm", "bob")],
        )
        .await;
    assert!(p.body.contains("Invalid password: minimum length 8."));
    let p = other
        .submit(
            &form,
            "kc-passwd-update-form",
            &[
                ("password-new", "bob-pw-2x"),
                ("password-confirm", "bob-pw-3x"),
            ],
        )
        .await;
    assert!(p.body.contains("match"));
    // passwordHistory(2): the current password is refused.
    let p = other
        .submit(
            &form,
            "kc-passwd-update-form",
            &[
                ("password-new", "bob-pw-1"),
                ("password-confirm", "bob-pw-1"),
            ],
        )
        .await;
    assert!(
        p.body
            .contains("Invalid password: must not be equal to any of last 2 passwords."),
        "{}",
        p.body
    );
    let p = other
        .submit(
            &form,
            "kc-passwd-update-form",
            &[
                ("password-new", "bob-pw-2"),
                ("password-confirm", "bob-pw-2"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("Your account has been updated."),
        "{}",
        p.body
    );
    // The old session is over, the old password too; the new one works.
    assert_eq!(env.refresh(&refresh).await, 400);
    assert_eq!(env.grant("bob", "bob-pw-1").await.0, 401);
    assert_eq!(env.grant("bob", "bob-pw-2").await.0, 200);
    // The link is spent.
    let again = other.get(&link).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains(EXPIRED));
}

/// A fresh "forgot password" form in browser `b`.
async fn form_of(b: &Browser, env: &Env) -> Page {
    let login = env.login_page(b, "life").await;
    b.get(&href(&login.body, "kc-forgot-password")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_link_continues_the_login_of_the_same_browser() {
    let env = start();
    let b = Browser::new();
    let form = form_of(&b, &env).await;
    let p = b
        .submit(
            &form,
            "kc-reset-password-form",
            &[("username", env.e.alice.as_str())],
        )
        .await;
    assert!(p.body.contains(EMAIL_SENT));
    let link = link_in(&env.md.wait_for(&env.e.alice, 1).await);
    let form = b.get(&link).await;
    assert!(form.body.contains("kc-passwd-update-form"), "{}", form.body);
    let p = b
        .submit(
            &form,
            "kc-passwd-update-form",
            &[
                ("password-new", "alice-pw-2"),
                ("password-confirm", "alice-pw-2"),
            ],
        )
        .await;
    assert_code(&p);
}

/// REC-1: a reset link is bound to the password it replaces. Found by the browser suite: an
/// older, unused "forgot password" link still set a new password after a newer link (or an
/// administrator) had changed it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_reset_link_dies_when_the_password_changes() {
    let env = start();
    let b = Browser::new();
    for n in 1..=2 {
        let form = form_of(&b, &env).await;
        let p = b
            .submit(&form, "kc-reset-password-form", &[("username", "alice")])
            .await;
        assert!(p.body.contains(EMAIL_SENT));
        env.md.wait_for(&env.e.alice, n).await;
    }
    let links: Vec<String> = env
        .md
        .mails_to(&env.e.alice)
        .await
        .iter()
        .map(link_in)
        .collect();
    assert_eq!(links.len(), 2);
    // The newer link sets the password (in a browser of its own).
    let other = Browser::new();
    let form = other.get(&links[1]).await;
    let p = other
        .submit(
            &form,
            "kc-passwd-update-form",
            &[
                ("password-new", "alice-pw-2"),
                ("password-confirm", "alice-pw-2"),
            ],
        )
        .await;
    assert!(
        p.body.contains("Your account has been updated."),
        "{}",
        p.body
    );
    // The older one, never used, is refused and changes nothing.
    let p = other.get(&links[0]).await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains(EXPIRED), "{}", p.body);
    assert!(!p.body.contains("kc-passwd-update-form"));

    // The same after an administrator sets the password.
    let form = form_of(&b, &env).await;
    b.submit(&form, "kc-reset-password-form", &[("username", "alice")])
        .await;
    let link = link_in(&env.md.wait_for(&env.e.alice, 3).await);
    let token = env.admin_token("root", "root-pw-1").await;
    let alice = env.user_id(&token, "alice").await;
    let (s, v) = env
        .admin(
            "PUT",
            &format!("/users/{alice}/reset-password"),
            &token,
            Some(json!({"type": "password", "value": "alice-pw-3", "temporary": false})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let p = Browser::new().get(&link).await;
    assert_eq!(p.status, 400, "{}", p.body);
    assert!(p.body.contains(EXPIRED), "{}", p.body);
    assert_eq!(env.grant("alice", "alice-pw-3").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_account_gets_the_same_page_and_no_mail() {
    let env = start();
    let b = Browser::new();
    let form = form_of(&b, &env).await;
    let nobody = unique("nobody");
    let unknown = b
        .submit(
            &form,
            "kc-reset-password-form",
            &[("username", nobody.as_str())],
        )
        .await;
    let known = b
        .submit(
            &form,
            "kc-reset-password-form",
            &[("username", env.e.alice.as_str())],
        )
        .await;
    assert_eq!(unknown.status, known.status);
    assert_eq!(unknown.body, known.body, "the same page either way");
    assert!(unknown.body.contains(EMAIL_SENT));
    // A user without an address gets the same page too.
    let nomail = b
        .submit(&form, "kc-reset-password-form", &[("username", "nomail")])
        .await;
    assert_eq!(nomail.body, known.body);
    // The known account's mail arrives; none was sent for the unknown one.
    env.md.wait_for(&env.e.alice, 1).await;
    assert!(env.md.mails_to(&nobody).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_forged_links_change_nothing() {
    let env = start();
    // Realm `short` gives user-made links a 1-second life.
    let b = Browser::new();
    let login = env.login_page(&b, "short").await;
    let form = b.get(&href(&login.body, "kc-forgot-password")).await;
    let p = b
        .submit(&form, "kc-reset-password-form", &[("username", "carol")])
        .await;
    assert!(p.body.contains(EMAIL_SENT));
    let to = env.md.wait_for(&env.e.carol, 1).await;
    let link = link_in(&to);
    // Past the 1-second lifespan: the server's clock moves on (no sleep).
    env.set_clock(5_000);
    let p = b.get(&link).await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains(EXPIRED), "{}", p.body);
    assert!(!p.body.contains("kc-passwd-update-form"));

    // Forged: a changed signature, a changed payload, no signature, garbage.
    let key_start = link.find("key=").unwrap() + 4;
    let key_end = link[key_start..]
        .find('&')
        .map_or(link.len(), |i| key_start + i);
    let key = &link[key_start..key_end];
    let mut parts: Vec<String> = key.split('.').map(str::to_string).collect();
    let sig = parts[2].clone();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    parts[2] = format!("{flipped}{}", &sig[1..]);
    let bad_sig = parts.join(".");
    let none = format!("{}.{}.", "eyJhbGciOiJub25lIn0", parts[1]);
    for forged in [bad_sig.as_str(), none.as_str(), "garbage", ""] {
        let url = format!("{}{}{}", &link[..key_start], forged, &link[key_end..]);
        let p = b.get(&url).await;
        assert_eq!(p.status, 400, "{forged}");
        assert!(p.body.contains(INVALID), "{forged}: {}", p.body);
    }
    // carol's password is unchanged.
    let p = env.browser_login("short", "carol", "carol-pw-1").await;
    assert_code(&p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_actions_email_runs_profile_and_password() {
    let env = start();
    let token = env.admin_token("root", "root-pw-1").await;
    let bob = env.user_id(&token, "bob").await;
    let nomail = env.user_id(&token, "nomail").await;
    let path = format!("/users/{bob}/execute-actions-email");
    // Refusals first.
    let (s, v) = env
        .admin("PUT", &path, &token, Some(json!(["DANCE"])))
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["errorMessage"], "Provided invalid required actions");
    let (s, v) = env
        .admin(
            "PUT",
            &format!("/users/{nomail}/execute-actions-email"),
            &token,
            Some(json!(["UPDATE_PASSWORD"])),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["errorMessage"], "User email missing");
    let (s, v) = env
        .admin(
            "PUT",
            &format!("{path}?client_id=web&redirect_uri=https://evil.example/"),
            &token,
            Some(json!(["UPDATE_PASSWORD"])),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = env
        .admin(
            "PUT",
            &format!("/users/{}/execute-actions-email", uuid::Uuid::new_v4()),
            &token,
            Some(json!(["UPDATE_PASSWORD"])),
        )
        .await;
    assert_eq!(s, 404);
    assert!(env.md.mails_to(&env.e.bob).await.is_empty());

    let (s, v) = env
        .admin(
            "PUT",
            &path,
            &token,
            Some(json!(["UPDATE_PROFILE", "UPDATE_PASSWORD"])),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let mail = env.md.wait_for(&env.e.bob, 1).await;
    assert_eq!(mail["subject"], "Update Your Account");
    assert!(mail["text"].as_str().unwrap().contains("12 hours"));
    let link = link_in(&mail);
    let b = Browser::new();
    // Keycloak's order: the password first, then the profile.
    let p = b.get(&link).await;
    assert!(p.body.contains("kc-passwd-update-form"), "{}", p.body);
    let p = b
        .submit(
            &p,
            "kc-passwd-update-form",
            &[
                ("password-new", "bob-pw-9"),
                ("password-confirm", "bob-pw-9"),
            ],
        )
        .await;
    assert!(p.body.contains("kc-update-profile-form"), "{}", p.body);
    let q = b
        .submit(
            &p,
            "kc-update-profile-form",
            &[
                ("email", env.e.bob.as_str()),
                ("firstName", ""),
                ("lastName", "B"),
            ],
        )
        .await;
    assert!(q.body.contains("Please specify first name."), "{}", q.body);
    let q = b
        .submit(
            &p,
            "kc-update-profile-form",
            &[
                ("email", env.e.alice.as_str()),
                ("firstName", "Robert"),
                ("lastName", "B"),
            ],
        )
        .await;
    assert!(q.body.contains("Email already exists."), "{}", q.body);
    let q = b
        .submit(
            &p,
            "kc-update-profile-form",
            &[
                ("email", env.e.bob.as_str()),
                ("firstName", "Robert"),
                ("lastName", "Builder"),
            ],
        )
        .await;
    assert_eq!(q.status, 200, "{}", q.body);
    assert!(
        q.body.contains("Your account has been updated."),
        "{}",
        q.body
    );
    let (_, user) = env
        .admin("GET", &format!("/users/{bob}"), &token, None)
        .await;
    assert_eq!(user["firstName"], "Robert");
    assert_eq!(user["emailVerified"], true);
    assert_eq!(env.grant("bob", "bob-pw-9").await.0, 200);
    assert_eq!(b.get(&link).await.status, 400, "the link works once");

    // With a redirect URI of the client: the flow ends there.
    let (s, v) = env
        .admin(
            "PUT",
            &format!("{path}?client_id=web&redirect_uri={CB}&lifespan=600"),
            &token,
            Some(json!(["UPDATE_PROFILE"])),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let mail = env.md.wait_for(&env.e.bob, 2).await;
    assert!(mail["text"].as_str().unwrap().contains("10 minutes"));
    let b = Browser::new();
    let p = b.get(&link_in(&mail)).await;
    let q = b
        .submit(
            &p,
            "kc-update-profile-form",
            &[
                ("email", env.e.bob.as_str()),
                ("firstName", "Bob"),
                ("lastName", "Builder"),
            ],
        )
        .await;
    assert_eq!(q.status, 302, "{}", q.body);
    assert_eq!(q.location.as_deref(), Some(CB));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_smtp_connection_sends_to_the_admin() {
    let env = start();
    let token = env.admin_token("root", "root-pw-1").await;
    let settings = json!({"host": env.md.smtp_host, "port": env.md.smtp_port,
                          "from": "tester@portcullis.test", "fromDisplayName": "Tester",
                          "replyTo": "help@portcullis.test", "envelopeFrom": "bounce@portcullis.test",
                          "ssl": "false", "starttls": "false", "auth": "false"});
    let (s, v) = env
        .admin(
            "POST",
            "/testSMTPConnection",
            &token,
            Some(settings.clone()),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let mail = env.md.wait_for(&env.e.admin, 1).await;
    assert_eq!(mail["subject"], "[life] - SMTP test message");
    assert_eq!(mail["from"][0]["address"], "tester@portcullis.test");
    assert!(
        mail["text"]
            .as_str()
            .unwrap()
            .contains("This is a test message")
    );

    // A port where nothing listens: 500 with Keycloak's errorMessage.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mut bad = settings.clone();
    bad["port"] = json!(port.to_string());
    let (s, v) = env
        .admin("POST", "/testSMTPConnection", &token, Some(bad))
        .await;
    assert_eq!(s, 500, "{v}");
    assert!(v["errorMessage"].is_string());
    let mut bad = settings.clone();
    bad["from"] = json!("not an address");
    let (s, _) = env
        .admin("POST", "/testSMTPConnection", &token, Some(bad))
        .await;
    assert_eq!(s, 500);
    // manage-realm is needed.
    let viewer = env.admin_token("viewer", "viewer-pw-1").await;
    let (s, _) = env
        .admin("POST", "/testSMTPConnection", &viewer, Some(settings))
        .await;
    assert_eq!(s, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_reset_password_applies_the_policy() {
    let env = start();
    let token = env.admin_token("root", "root-pw-1").await;
    let alice = env.user_id(&token, "alice").await;
    let path = format!("/users/{alice}/reset-password");
    let (s, v) = env
        .admin(
            "PUT",
            &path,
            &token,
            Some(json!({"type": "password", "value": "short", "temporary": false})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"], "invalidPasswordMinLengthMessage");
    assert_eq!(
        v["error_description"],
        "Invalid password: minimum length 8."
    );
    let (s, v) = env
        .admin(
            "PUT",
            &path,
            &token,
            Some(json!({"type": "password", "value": "alice-pw-1", "temporary": false})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"], "invalidPasswordHistoryMessage");
    let (s, v) = env
        .admin(
            "PUT",
            &path,
            &token,
            Some(json!({"type": "password", "value": "alice", "temporary": false})),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"], "invalidPasswordMinLengthMessage", "{v}");
    let (s, v) = env
        .admin(
            "PUT",
            &path,
            &token,
            Some(json!({"type": "password", "value": "alice-pw-2", "temporary": true})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    // Temporary: the browser login asks for a new one, and the history covers the last two.
    let p = env.browser_login("life", "alice", "alice-pw-2").await;
    assert!(p.body.contains("kc-passwd-update-form"), "{}", p.body);
    let b = Browser::new();
    let login = env.login_page(&b, "life").await;
    let p = b
        .submit(
            &login,
            "kc-form-login",
            &[("username", "alice"), ("password", "alice-pw-2")],
        )
        .await;
    let q = b
        .submit(
            &p,
            "kc-passwd-update-form",
            &[
                ("password-new", "alice-pw-1"),
                ("password-confirm", "alice-pw-1"),
            ],
        )
        .await;
    assert!(
        q.body
            .contains("must not be equal to any of last 2 passwords"),
        "{}",
        q.body
    );
    let q = b
        .submit(
            &p,
            "kc-passwd-update-form",
            &[
                ("password-new", "alice-pw-3"),
                ("password-confirm", "alice-pw-3"),
            ],
        )
        .await;
    assert_code(&q);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_new_form_refuses_a_wrong_csrf_value() {
    let env = start();
    let b = Browser::new();
    let login = env.login_page(&b, "life").await;
    let wrong = |page: &Page, id: &str, extra: &[(&str, &str)]| {
        let (action, fields) = html_form(&page.body, id).unwrap();
        let mut all: Vec<(String, String)> = fields
            .into_iter()
            .map(|(k, v)| {
                if k == "csrf_token" {
                    (k, "forged".into())
                } else {
                    (k, v)
                }
            })
            .collect();
        all.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        (action, all)
    };
    // Registration: nothing is created.
    let register = b.get(&href(&login.body, "kc-register-link")).await;
    let email = unique("csrf");
    let (action, fields) = wrong(
        &register,
        "kc-register-form",
        &[
            ("username", "csrfuser"),
            ("email", email.as_str()),
            ("firstName", "C"),
            ("lastName", "S"),
            ("password", "csrf-pw-1"),
            ("password-confirm", "csrf-pw-1"),
        ],
    );
    let p = b.post(&action, &fields).await;
    assert_eq!(p.status, 400);
    let token = env.admin_token("root", "root-pw-1").await;
    let (_, v) = env
        .admin("GET", "/users?username=csrfuser&exact=true", &token, None)
        .await;
    assert_eq!(v, json!([]));
    // Forgot password: no mail.
    let form = b.get(&href(&login.body, "kc-forgot-password")).await;
    let (action, fields) = wrong(&form, "kc-reset-password-form", &[("username", "bob")]);
    let p = b.post(&action, &fields).await;
    assert_eq!(p.status, 400);
    // Required action (the verify-email page of a fresh registration): no re-send.
    let newbie = unique("fresh");
    let p = b
        .submit(
            &register,
            "kc-register-form",
            &[
                ("username", "fresh"),
                ("email", newbie.as_str()),
                ("firstName", "F"),
                ("lastName", "R"),
                ("password", "fresh-pw-1"),
                ("password-confirm", "fresh-pw-1"),
            ],
        )
        .await;
    assert!(p.body.contains("kc-verify-email-form"), "{}", p.body);
    env.md.wait_for(&newbie, 1).await;
    let (action, fields) = wrong(&p, "kc-verify-email-form", &[]);
    let q = b.post(&action, &fields).await;
    assert_eq!(q.status, 400);
    // The real form re-sends.
    let q = b.submit(&p, "kc-verify-email-form", &[]).await;
    assert_eq!(q.status, 200);
    env.md.wait_for(&newbie, 2).await;
    assert!(env.md.mails_to(&env.e.bob).await.is_empty());
    // The password form of a mail link.
    let (s, _) = env
        .admin(
            "PUT",
            &format!(
                "/users/{}/execute-actions-email",
                env.user_id(&token, "bob").await
            ),
            &token,
            Some(json!(["UPDATE_PASSWORD"])),
        )
        .await;
    assert_eq!(s, 204);
    let other = Browser::new();
    let p = other
        .get(&link_in(&env.md.wait_for(&env.e.bob, 1).await))
        .await;
    let (action, fields) = wrong(
        &p,
        "kc-passwd-update-form",
        &[
            ("password-new", "bob-pw-7"),
            ("password-confirm", "bob-pw-7"),
        ],
    );
    assert_eq!(other.post(&action, &fields).await.status, 400);
    assert_eq!(
        env.grant("bob", "bob-pw-1").await.0,
        200,
        "password unchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_verify_email_link_verifies_and_redirects() {
    let env = start();
    let token = env.admin_token("root", "root-pw-1").await;
    let dana = env.user_id(&token, "dana").await;
    assert_ne!(env.grant("dana", "dana-pw-1").await.0, 200);
    let (s, v) = env
        .admin(
            "PUT",
            &format!("/users/{dana}/send-verify-email?client_id=web&redirect_uri={CB}"),
            &token,
            None,
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let mail = env.md.wait_for(&env.e.dana, 1).await;
    assert_eq!(mail["subject"], "Verify email");
    assert!(mail["text"].as_str().unwrap().contains("12 hours"));
    let p = Browser::new().get(&link_in(&mail)).await;
    assert_eq!(p.status, 302, "{}", p.body);
    assert_eq!(p.location.as_deref(), Some(CB));
    let (_, user) = env
        .admin("GET", &format!("/users/{dana}"), &token, None)
        .await;
    assert_eq!(user["emailVerified"], true);
    assert_eq!(env.grant("dana", "dana-pw-1").await.0, 200);
    // Without a redirect URI: the information page.
    let (s, _) = env
        .admin(
            "PUT",
            &format!("/users/{dana}/send-verify-email"),
            &token,
            None,
        )
        .await;
    assert_eq!(s, 204);
    let p = Browser::new()
        .get(&link_in(&env.md.wait_for(&env.e.dana, 2).await))
        .await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Your email address has been verified."));
}

/// The current TOTP code for a base32 secret with Keycloak's default policy.
fn otp_now(secret_b32: &str) -> String {
    otp_at(secret_b32, 0)
}

/// The code `offset_ms` after the system time (where `Env::set_clock` puts the server).
fn otp_at(secret_b32: &str, offset_ms: u64) -> String {
    let key = portcullis_model::totp::base32_decode(secret_b32).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + offset_ms;
    portcullis_model::totp::totp(
        &portcullis_model::totp::OtpPolicy::default(),
        &key,
        now / 1000,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configure_totp_then_the_login_asks_for_the_code() {
    let env = start();
    let token = env.admin_token("root", "root-pw-1").await;
    let alice = env.user_id(&token, "alice").await;
    let (s, v) = env
        .admin(
            "PUT",
            &format!("/users/{alice}/execute-actions-email"),
            &token,
            Some(json!(["CONFIGURE_TOTP"])),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let b = Browser::new();
    let setup = b
        .get(&link_in(&env.md.wait_for(&env.e.alice, 1).await))
        .await;
    assert!(
        setup.body.contains("kc-totp-settings-form"),
        "{}",
        setup.body
    );
    assert!(
        setup.body.contains("data:image&#x2f;svg+xml;base64,")
            || setup.body.contains("data:image/svg+xml;base64,")
    );
    let (_, hidden) = html_form(&setup.body, "kc-totp-settings-form").unwrap();
    let secret = hidden
        .iter()
        .find(|(k, _)| k == "totpSecret")
        .map(|(_, v)| v.clone())
        .unwrap();
    let p = b
        .submit(&setup, "kc-totp-settings-form", &[("totp", "000000x")])
        .await;
    assert!(p.body.contains("Invalid authenticator code."), "{}", p.body);
    let p = b
        .submit(
            &setup,
            "kc-totp-settings-form",
            &[("totp", otp_now(&secret).as_str()), ("userLabel", "phone")],
        )
        .await;
    assert!(
        p.body.contains("Your account has been updated."),
        "{}",
        p.body
    );

    // The browser login now asks for the code after the password; nothing else gets past it.
    let b = Browser::new();
    let login = env.login_page(&b, "life").await;
    let otp = b
        .submit(
            &login,
            "kc-form-login",
            &[("username", "alice"), ("password", "alice-pw-1")],
        )
        .await;
    assert!(otp.body.contains("kc-otp-login-form"), "{}", otp.body);
    let (action, _) = html_form(&otp.body, "kc-otp-login-form").unwrap();
    let reload = b.get(&action).await;
    assert_eq!(reload.status, 200);
    assert!(
        reload.body.contains("kc-otp-login-form"),
        "a reload shows the same step"
    );
    let wrong = b
        .submit(&otp, "kc-otp-login-form", &[("otp", "123456")])
        .await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.body.contains("Invalid authenticator code."));
    // The code that proved the set-up is spent: it does not pass the login step.
    let spent = b
        .submit(
            &otp,
            "kc-otp-login-form",
            &[("otp", otp_now(&secret).as_str())],
        )
        .await;
    assert!(
        spent.body.contains("Invalid authenticator code."),
        "{}",
        spent.body
    );
    // One period later on the server's clock, the next code works.
    env.set_clock(30_000);
    let code = otp_at(&secret, 30_000);
    let done = b
        .submit(&otp, "kc-otp-login-form", &[("otp", code.as_str())])
        .await;
    assert_code(&done);
    // A code works once (otpPolicyCodeReusable false): another login cannot replay it.
    let b = Browser::new();
    let login = env.login_page(&b, "life").await;
    let otp = b
        .submit(
            &login,
            "kc-form-login",
            &[("username", "alice"), ("password", "alice-pw-1")],
        )
        .await;
    let replay = b
        .submit(&otp, "kc-otp-login-form", &[("otp", code.as_str())])
        .await;
    assert!(
        replay.body.contains("Invalid authenticator code."),
        "{}",
        replay.body
    );
    // The password grant wants the code too (two periods later on the server's clock).
    assert_eq!(env.grant("alice", "alice-pw-1").await.0, 401);
    env.set_clock(60_000);
    let code = otp_at(&secret, 60_000);
    let grant = |code: String| {
        let url = format!("{}/protocol/openid-connect/token", env.realm("life"));
        async move {
            reqwest::Client::new()
                .post(url)
                .form(&[
                    ("grant_type", "password"),
                    ("client_id", "web"),
                    ("client_secret", "web-secret"),
                    ("username", "alice"),
                    ("password", "alice-pw-1"),
                    ("totp", code.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(grant(code.clone()).await, 200);
    assert_eq!(grant(code).await, 401, "a code works once in the grant too");
    // A reset link continuing a login still asks for the code before the new password.
    env.set_clock(120_000);
    let b = Browser::new();
    let form = form_of(&b, &env).await;
    b.submit(&form, "kc-reset-password-form", &[("username", "alice")])
        .await;
    let p = b
        .get(&link_in(&env.md.wait_for(&env.e.alice, 2).await))
        .await;
    assert!(p.body.contains("kc-otp-login-form"), "{}", p.body);
    let p = b
        .submit(
            &p,
            "kc-otp-login-form",
            &[("otp", otp_at(&secret, 120_000).as_str())],
        )
        .await;
    assert!(p.body.contains("kc-passwd-update-form"), "{}", p.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_and_passwords_stay_out_of_debug_logs() {
    let mut env = start_with(&["--log-level=debug"]);
    let b = Browser::new();
    let form = form_of(&b, &env).await;
    b.submit(&form, "kc-reset-password-form", &[("username", "bob")])
        .await;
    let link = link_in(&env.md.wait_for(&env.e.bob, 1).await);
    let p = b.get(&link).await;
    b.submit(
        &p,
        "kc-passwd-update-form",
        &[
            ("password-new", "bob-secret-77"),
            ("password-confirm", "bob-secret-77"),
        ],
    )
    .await;
    let key_start = link.find("key=").unwrap() + 4;
    let key: String = link[key_start..].split('&').next().unwrap().to_string();
    // The signature part alone would be enough to recognise a leaked token.
    let signature = key.rsplit('.').next().unwrap().to_string();
    let log = env.server.all_log();
    assert!(log.contains("mail sent"), "the send is logged");
    assert!(!log.contains(&signature), "no token in the log");
    assert!(!log.contains("bob-secret-77"), "no password in the log");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_send_is_shown_and_logged_without_secrets() {
    let mut env = start();
    let b = Browser::new();
    let login = env.login_page(&b, "broken").await;
    let register = b.get(&href(&login.body, "kc-register-link")).await;
    let email = unique("unlucky");
    let p = b
        .submit(
            &register,
            "kc-register-form",
            &[
                ("username", "unlucky"),
                ("email", email.as_str()),
                ("firstName", "U"),
                ("lastName", "L"),
                ("password", "unlucky-pw-1"),
                ("password-confirm", "unlucky-pw-1"),
            ],
        )
        .await;
    assert_eq!(p.status, 200);
    assert!(
        p.body
            .contains("Failed to send email, please try again later."),
        "{}",
        p.body
    );
    assert!(!p.body.contains("code="));
    // The log line is written before the page; its pipe may lag a little.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = env.server.all_log();
        if log.contains("failed to send email") {
            assert!(!log.contains("unlucky-pw-1"));
            assert!(log.contains("smtp_host"), "{log}");
            break;
        }
        assert!(Instant::now() < deadline, "no failure logged:\n{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
