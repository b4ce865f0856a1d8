//! The security checklist (`security-checklist.md`) items of the OpenID Connect endpoints,
//! checked from outside against the real server: authorization endpoint and redirect URIs
//! (AZ), codes and PKCE (CODE, PKCE), token endpoint (TOK), refresh tokens (RT), JWT checks
//! (JWT-4/5), UserInfo, introspection and revocation (API), login pages and cookies (UI) and
//! logout (OUT). Each test names the items it covers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const CB: &str = "https://app.example/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn realm_json(backchannel_url: &str) -> String {
    json!({
        "realm": "sec",
        "enabled": true,
        "revokeRefreshToken": true,
        "refreshTokenMaxReuse": 0,
        "clients": [
            {"clientId": "web", "enabled": true, "publicClient": false, "secret": "web-secret",
             "redirectUris": [CB, "https://wild.example/app/*"],
             "webOrigins": ["https://app.example"],
             "attributes": {"post.logout.redirect.uris": "+",
                            "backchannel.logout.url": backchannel_url,
                            "backchannel.logout.session.required": "true"}},
            {"clientId": "web2", "enabled": true, "publicClient": false, "secret": "web2-secret",
             "redirectUris": [CB]},
            {"clientId": "pkce", "enabled": true, "publicClient": false, "secret": "pkce-secret",
             "redirectUris": [CB], "attributes": {"pkce.code.challenge.method": "S256"}},
            {"clientId": "direct", "enabled": true, "publicClient": false, "secret": "direct-secret",
             "directAccessGrantsEnabled": true, "serviceAccountsEnabled": true,
             "redirectUris": [CB]},
            {"clientId": "spa", "enabled": true, "publicClient": true, "redirectUris": [CB]}
        ],
        "users": [
            {"username": "alice", "enabled": true, "email": "alice@example.com", "emailVerified": true,
             "firstName": "Alice", "lastName": "Liddell",
             "credentials": [{"type": "password", "value": "alice-pw"}]},
            {"username": "dora", "enabled": false,
             "credentials": [{"type": "password", "value": "dora-pw"}]},
            {"username": "tom", "enabled": true, "requiredActions": ["UPDATE_PASSWORD"],
             "credentials": [{"type": "password", "value": "temp-pw", "temporary": true}]},
            {"username": "service-account-direct", "enabled": true, "serviceAccountClientId": "direct"}
        ]
    })
    .to_string()
}

/// Receives back-channel logout tokens.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<String>>>,
}

async fn receiver() -> Receiver {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/backchannel",
        axum::routing::post(move |body: String| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url: format!("http://{addr}/backchannel"),
        got,
    }
}

struct Env {
    _w: Workdir,
    server: Server,
    base: String,
    rx: Receiver,
}

async fn start() -> Env {
    let rx = receiver().await;
    let w = Workdir::new();
    w.write("data/import/sec-realm.json", &realm_json(&rx.url));
    let server = Server::start(
        w.path(),
        &["start-dev", "--import-realm", "--http-relative-path=/auth"],
        &[],
    )
    .expect("server starts");
    let base = format!("{}/auth/realms/sec", server.origin());
    Env {
        _w: w,
        server,
        base,
        rx,
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A browser: keeps cookies by hand (name → value), never follows redirects.
#[derive(Default)]
struct Browser {
    cookies: BTreeMap<String, String>,
    set_cookie_lines: Vec<String>,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    fn absorb(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            let line = v.to_str().unwrap().to_string();
            let (name, rest) = line.split_once('=').unwrap();
            let value = rest.split(';').next().unwrap().to_string();
            if line.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value);
            }
            self.set_cookie_lines.push(line);
        }
    }
    async fn get(&mut self, url: &str) -> (StatusCode, HeaderMap, String) {
        let r = http()
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        let (s, h) = (r.status(), r.headers().clone());
        self.absorb(&h);
        (s, h, r.text().await.unwrap())
    }
    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
        let r = http()
            .post(url)
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        let (s, h) = (r.status(), r.headers().clone());
        self.absorb(&h);
        (s, h, r.text().await.unwrap())
    }
}

fn auth_url(base: &str, client: &str, extra: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", client)
        .append_pair("redirect_uri", CB)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("state", "st-1");
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("{base}/protocol/openid-connect/auth?{}", q.finish())
}

/// The form's action and CSRF value from a login (or required-action) page.
fn form_of(html: &str) -> (String, String) {
    let action = html
        .split("action=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("form action");
    let action = unescape(action);
    let csrf = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf token");
    (action, unescape(csrf))
}

/// Undo the template's HTML escaping of an attribute value.
fn unescape(v: &str) -> String {
    v.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn location(h: &HeaderMap) -> String {
    h.get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Log in through the form; returns the redirect target.
async fn login(b: &mut Browser, url: &str, user: &str, pw: &str) -> String {
    let (s, _, html) = b.get(url).await;
    assert_eq!(s, 200, "{html}");
    let (action, csrf) = form_of(&html);
    let (s, h, body) = b
        .post(
            &action,
            &[("username", user), ("password", pw), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(s, 302, "{body}");
    location(&h)
}

async fn token(base: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
    let (s, _, v) = token_full(base, form, basic).await;
    (s, v)
}

async fn token_full(
    base: &str,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, HeaderMap, Value) {
    let mut r = http()
        .post(format!("{base}/protocol/openid-connect/token"))
        .form(form);
    if let Some((u, p)) = basic {
        r = r.basic_auth(u, Some(p));
    }
    let r = r.send().await.unwrap();
    let (s, h) = (r.status().as_u16(), r.headers().clone());
    (s, h, r.json().await.unwrap_or(Value::Null))
}

async fn exchange(base: &str, client: &str, secret: &str, code: &str) -> (u16, Value) {
    token(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
        ],
        Some((client, secret)),
    )
    .await
}

async fn introspect(base: &str, tok: &str) -> Value {
    http()
        .post(format!("{base}/protocol/openid-connect/token/introspect"))
        .basic_auth("web", Some("web-secret"))
        .form(&[("token", tok)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn claims(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

fn header(jwt: &str) -> Value {
    let p = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

/// A full login of alice to `web`: (browser, token response).
async fn alice_tokens(e: &Env) -> (Browser, Value) {
    let mut b = Browser::default();
    let to = login(&mut b, &auth_url(&e.base, "web", &[]), "alice", "alice-pw").await;
    let code = query_param(&to, "code").unwrap();
    let (s, t) = exchange(&e.base, "web", "web-secret", &code).await;
    assert_eq!(s, 200, "{t}");
    (b, t)
}

// AZ-1, AZ-2, AZ-3, AZ-4, AZ-5, AZ-6, AZ-8, AZ-9, UI-2, UI-8
#[tokio::test(flavor = "multi_thread")]
async fn authorization_requests_are_checked_before_anything_is_redirected() {
    let e = start().await;
    let mut b = Browser::default();
    let with_redirect = |r: &str| {
        format!(
            "{}/protocol/openid-connect/auth?client_id=web&response_type=code&scope=openid&state=s&redirect_uri={}",
            e.base,
            url::form_urlencoded::byte_serialize(r.as_bytes()).collect::<String>()
        )
    };
    for bad in [
        "https://app.example.evil.test/cb",
        "https://app.example@evil.test/cb",
        "http://app.example/cb",
        "https://app.example:8443/cb",
        "https://app.example/cb?x=1",
        "https://app.example/cb#f",
        "https://wild.example/other",
        "https://wild.example/app/../../x",
    ] {
        let (s, h, body) = b.get(&with_redirect(bad)).await;
        assert_eq!(s, 400, "{bad}");
        assert!(h.get(LOCATION).is_none(), "{bad} must not redirect");
        assert!(body.contains("Invalid parameter: redirect_uri"), "{bad}");
    }
    // The wildcard rule allows a longer path on the same origin.
    let (s, _, _) = b.get(&with_redirect("https://wild.example/app/x/y")).await;
    assert_eq!(s, 200);
    // Unknown client, missing client or redirect, a repeated client_id: pages, no redirect.
    for url in [
        auth_url(&e.base, "nobody", &[]),
        format!(
            "{}/protocol/openid-connect/auth?response_type=code&redirect_uri={CB}",
            e.base
        ),
        format!(
            "{}/protocol/openid-connect/auth?client_id=web&response_type=code",
            e.base
        ),
        format!("{}&client_id=web2", auth_url(&e.base, "web", &[])),
    ] {
        let (s, h, _) = b.get(&url).await;
        assert_eq!(s, 400, "{url}");
        assert!(h.get(LOCATION).is_none(), "{url}");
    }
    // After the redirect URI is trusted: error redirects with state byte for byte and iss.
    let long_state = "x".repeat(200) + "&=%";
    let url = format!(
        "{}/protocol/openid-connect/auth?client_id=web&redirect_uri={CB}&state={}",
        e.base,
        url::form_urlencoded::byte_serialize(long_state.as_bytes()).collect::<String>()
    );
    let (s, h, _) = b.get(&url).await;
    assert_eq!(s, 302);
    let to = location(&h);
    assert!(to.starts_with(CB));
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(
        query_param(&to, "state").as_deref(),
        Some(long_state.as_str())
    );
    assert_eq!(
        query_param(&to, "iss").as_deref(),
        Some(e.base.as_str()),
        "RFC 9207 iss"
    );
    // Implicit response types: refused, and no token in the URL.
    let (_, h, _) = b
        .get(&auth_url(&e.base, "web", &[]).replace("response_type=code", "response_type=token"))
        .await;
    let to = location(&h);
    assert_eq!(
        query_param(&to, "error").as_deref(),
        Some("unauthorized_client")
    );
    assert!(!to.contains("access_token"));
    // A duplicated parameter other than client/redirect: invalid_request redirect.
    let (_, h, _) = b
        .get(&format!("{}&scope=profile", auth_url(&e.base, "web", &[])))
        .await;
    assert_eq!(
        query_param(&location(&h), "error").as_deref(),
        Some("invalid_request")
    );
    // Unknown scope.
    let (_, h, _) = b
        .get(&auth_url(&e.base, "web", &[]).replace("scope=openid", "scope=openid+payroll"))
        .await;
    assert_eq!(
        query_param(&location(&h), "error").as_deref(),
        Some("invalid_scope")
    );
    // The login page: security headers, no CORS, escaped echo of login_hint.
    let r = http()
        .get(auth_url(
            &e.base,
            "web",
            &[("login_hint", "\"><script>alert(1)</script>")],
        ))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    let h = r.headers().clone();
    assert_eq!(h["x-frame-options"], "SAMEORIGIN");
    assert_eq!(
        h["content-security-policy"],
        "frame-src 'self'; frame-ancestors 'self'; object-src 'none';"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-robots-tag"], "none");
    assert!(h.get("access-control-allow-origin").is_none());
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;"));
    drop(e);
}

// UI-1, UI-3, UI-4, UI-5, AZ-10, UI-7 (form replay)
#[tokio::test(flavor = "multi_thread")]
async fn the_login_form_is_bound_to_the_browser_and_says_nothing_about_accounts() {
    let e = start().await;
    let mut b = Browser::default();
    let (_, h, html) = b.get(&auth_url(&e.base, "web", &[])).await;
    let auth_cookie = h
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("AUTH_SESSION_ID="))
        .expect("auth session cookie");
    assert!(auth_cookie.contains("HttpOnly") && auth_cookie.contains("SameSite=Lax"));
    assert!(auth_cookie.contains("Path=/auth/realms/sec/"));
    assert!(!auth_cookie.contains("Secure"), "plain-HTTP frontend");
    let (action, csrf) = form_of(&html);

    // The same POST without the cookie never signs in.
    let (s, h, _) = Browser::default()
        .post(
            &action,
            &[
                ("username", "alice"),
                ("password", "alice-pw"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert!(h.get(LOCATION).is_none());
    // With the cookie but a wrong CSRF value: refused too.
    let (s, h, _) = b
        .post(
            &action,
            &[
                ("username", "alice"),
                ("password", "alice-pw"),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert!(h.get(LOCATION).is_none());

    // Unknown user, wrong password, disabled user: one message, one status.
    let mut answers = Vec::new();
    for (u, p) in [("nobody", "x"), ("alice", "wrong"), ("dora", "dora-pw")] {
        let (s, h, body) = b
            .post(
                &action,
                &[("username", u), ("password", p), ("csrf_token", &csrf)],
            )
            .await;
        assert!(h.get(LOCATION).is_none());
        answers.push((s, body.contains("Invalid username or password.")));
    }
    assert!(
        answers.iter().all(|a| *a == (StatusCode::OK, true)),
        "{answers:?}"
    );
    // An oversized password is refused without hashing, with the same message.
    let huge = "p".repeat(5000);
    let (s, _, body) = b
        .post(
            &action,
            &[
                ("username", "alice"),
                ("password", &huge),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert!(body.contains("Invalid username or password."));

    // Success: 302 (never 307/308) with code, state, session_state, iss.
    let (s, h, _) = b
        .post(
            &action,
            &[
                ("username", "alice@example.com"),
                ("password", "alice-pw"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 302, "login with the email address");
    let to = location(&h);
    assert!(query_param(&to, "code").is_some());
    assert_eq!(query_param(&to, "state").as_deref(), Some("st-1"));
    let first_session = query_param(&to, "session_state").unwrap();
    let identity = b
        .set_cookie_lines
        .iter()
        .find(|c| c.starts_with("KEYCLOAK_IDENTITY="))
        .expect("identity cookie")
        .clone();
    assert!(identity.contains("HttpOnly") && identity.contains("SameSite=Lax"));
    assert!(
        !identity.contains(&first_session),
        "the cookie is not the session id"
    );
    // Replaying the successful form POST yields nothing.
    let (s, h, _) = b
        .post(
            &action,
            &[
                ("username", "alice"),
                ("password", "alice-pw"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 400);
    assert!(h.get(LOCATION).is_none());
    // A new login gets a new session id (no fixation).
    let mut b2 = Browser::default();
    let to2 = login(&mut b2, &auth_url(&e.base, "web", &[]), "alice", "alice-pw").await;
    assert_ne!(query_param(&to2, "session_state").unwrap(), first_session);
}

// AZ-11, AZ-12, SSO across clients
#[tokio::test(flavor = "multi_thread")]
async fn prompt_max_age_and_single_sign_on() {
    let e = start().await;
    let mut b = Browser::default();
    let (_, h, _) = b
        .get(&auth_url(&e.base, "web", &[("prompt", "none")]))
        .await;
    let to = location(&h);
    assert_eq!(query_param(&to, "error").as_deref(), Some("login_required"));
    assert_eq!(query_param(&to, "state").as_deref(), Some("st-1"));

    let to = login(&mut b, &auth_url(&e.base, "web", &[]), "alice", "alice-pw").await;
    let sid = query_param(&to, "session_state").unwrap();
    let (_, first) = exchange(
        &e.base,
        "web",
        "web-secret",
        &query_param(&to, "code").unwrap(),
    )
    .await;
    // Another client: a code without any page, same SSO session.
    let (s, h, _) = b.get(&auth_url(&e.base, "web2", &[])).await;
    assert_eq!(s, 302);
    let to = location(&h);
    assert_eq!(
        query_param(&to, "session_state").as_deref(),
        Some(sid.as_str())
    );
    let (s, t2) = exchange(
        &e.base,
        "web2",
        "web2-secret",
        &query_param(&to, "code").unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{t2}");
    let id2 = claims(t2["id_token"].as_str().unwrap());
    assert_eq!(id2["sid"], sid.as_str());
    assert_eq!(id2["acr"], "0", "satisfied by the SSO cookie");
    assert_eq!(claims(first["id_token"].as_str().unwrap())["acr"], "1");
    // prompt=none with a session: a code; with a hint for the same user too.
    let hint = first["id_token"].as_str().unwrap();
    let (_, h, _) = b
        .get(&auth_url(
            &e.base,
            "web",
            &[("prompt", "none"), ("id_token_hint", hint)],
        ))
        .await;
    assert!(query_param(&location(&h), "code").is_some());
    // prompt=login always shows the form.
    let (s, _, html) = b
        .get(&auth_url(&e.base, "web", &[("prompt", "login")]))
        .await;
    assert_eq!(s, 200);
    assert!(html.contains("kc-form-login"));
    // max_age older than the authentication forces the form; the new auth_time is later.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let to = login(
        &mut b,
        &auth_url(&e.base, "web", &[("max_age", "0")]),
        "alice",
        "alice-pw",
    )
    .await;
    let (_, t3) = exchange(
        &e.base,
        "web",
        "web-secret",
        &query_param(&to, "code").unwrap(),
    )
    .await;
    let a1 = claims(first["id_token"].as_str().unwrap())["auth_time"]
        .as_i64()
        .unwrap();
    let a3 = claims(t3["id_token"].as_str().unwrap())["auth_time"]
        .as_i64()
        .unwrap();
    assert!(a3 > a1, "{a3} > {a1}");
    // form_post and fragment response modes.
    let (s, _, html) = b
        .get(&auth_url(&e.base, "web", &[("response_mode", "form_post")]))
        .await;
    assert_eq!(s, 200);
    assert!(
        unescape(&html).contains(&format!("action=\"{CB}\"")) && html.contains("name=\"code\"")
    );
    let (_, h, _) = b
        .get(&auth_url(&e.base, "web", &[("response_mode", "fragment")]))
        .await;
    assert!(location(&h).starts_with(&format!("{CB}#code=")));
}

// CODE-2, CODE-3, CODE-4, PKCE-1..4, JWT-3
#[tokio::test(flavor = "multi_thread")]
async fn codes_are_single_use_and_bound_to_their_request() {
    let e = start().await;
    let mut b = Browser::default();
    let nonce_url = auth_url(&e.base, "web", &[("nonce", "n-0S6_WzA2Mj")]);
    let to = login(&mut b, &nonce_url, "alice", "alice-pw").await;
    let code = query_param(&to, "code").unwrap();
    let (s, t) = exchange(&e.base, "web", "web-secret", &code).await;
    assert_eq!(s, 200, "{t}");
    for k in [
        "access_token",
        "expires_in",
        "refresh_expires_in",
        "refresh_token",
        "token_type",
        "id_token",
        "not-before-policy",
        "session_state",
        "scope",
    ] {
        assert!(t.get(k).is_some(), "token response lacks {k}: {t}");
    }
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id["aud"], "web");
    assert_eq!(id["azp"], "web");
    assert_eq!(id["typ"], "ID");
    assert_eq!(id["iss"], e.base.as_str());
    assert!(id["at_hash"].is_string() && id["auth_time"].is_i64() && id["sid"].is_string());
    assert_eq!(header(t["id_token"].as_str().unwrap())["alg"], "RS256");
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(at["preferred_username"], "alice");
    assert_eq!(at["email"], "alice@example.com");
    assert_eq!(at["typ"], "Bearer");

    // Replay: invalid_grant, and the first exchange's tokens die.
    let (s, r) = exchange(&e.base, "web", "web-secret", &code).await;
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_grant")));
    let (s, r) = token(
        &e.base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
        Some(("web", "web-secret")),
    )
    .await;
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(
        introspect(&e.base, t["access_token"].as_str().unwrap()).await,
        json!({"active": false})
    );

    // Parallel redemptions: exactly one wins.
    let to = login(
        &mut Browser::default(),
        &auth_url(&e.base, "web", &[]),
        "alice",
        "alice-pw",
    )
    .await;
    let code = query_param(&to, "code").unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (base, code) = (e.base.clone(), code.clone());
            tokio::spawn(async move { exchange(&base, "web", "web-secret", &code).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );

    // Another client's code; a different redirect_uri.
    let to = login(
        &mut Browser::default(),
        &auth_url(&e.base, "web", &[]),
        "alice",
        "alice-pw",
    )
    .await;
    let (s, r) = exchange(
        &e.base,
        "web2",
        "web2-secret",
        &query_param(&to, "code").unwrap(),
    )
    .await;
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_grant")));
    let to = login(
        &mut Browser::default(),
        &auth_url(&e.base, "web", &[]),
        "alice",
        "alice-pw",
    )
    .await;
    let (s, r) = token(
        &e.base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &query_param(&to, "code").unwrap()),
            ("redirect_uri", "https://app.example/other"),
        ],
        Some(("web", "web-secret")),
    )
    .await;
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_grant")));

    // PKCE-3: the client requires S256.
    let mut pb = Browser::default();
    let (_, h, _) = pb.get(&auth_url(&e.base, "pkce", &[])).await;
    assert_eq!(
        query_param(&location(&h), "error").as_deref(),
        Some("invalid_request")
    );
    let (_, h, _) = pb
        .get(&auth_url(
            &e.base,
            "pkce",
            &[
                ("code_challenge", VERIFIER),
                ("code_challenge_method", "plain"),
            ],
        ))
        .await;
    assert_eq!(
        query_param(&location(&h), "error").as_deref(),
        Some("invalid_request")
    );
    // PKCE-1: a wrong or missing verifier fails; the right one works.
    let pkce_login = |v: &'static str| {
        let base = e.base.clone();
        async move {
            let url = auth_url(
                &base,
                "pkce",
                &[
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S256"),
                ],
            );
            let to = login(&mut Browser::default(), &url, "alice", "alice-pw").await;
            let code = query_param(&to, "code").unwrap();
            let mut form = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CB),
            ];
            if !v.is_empty() {
                form.push(("code_verifier", v));
            }
            token(&base, &form, Some(("pkce", "pkce-secret"))).await
        }
    };
    assert_eq!(pkce_login("").await.1["error"], "invalid_grant");
    assert_eq!(
        pkce_login("wrongwrongwrongwrongwrongwrongwrongwrongwrong")
            .await
            .1["error"],
        "invalid_grant"
    );
    assert_eq!(
        pkce_login("short").await.1["error"],
        "invalid_grant",
        "PKCE-4"
    );
    assert_eq!(pkce_login(VERIFIER).await.0, 200);
    // PKCE-2: a verifier for a code requested without a challenge.
    let to = login(
        &mut Browser::default(),
        &auth_url(&e.base, "web", &[]),
        "alice",
        "alice-pw",
    )
    .await;
    let (s, r) = token(
        &e.base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &query_param(&to, "code").unwrap()),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        Some(("web", "web-secret")),
    )
    .await;
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_grant")));
    // Public clients must use PKCE (S256).
    let (_, h, _) = Browser::default().get(&auth_url(&e.base, "spa", &[])).await;
    assert_eq!(
        query_param(&location(&h), "error").as_deref(),
        Some("invalid_request")
    );
}

// TOK-1, TOK-2, TOK-3, TOK-5, TOK-6, client credentials
#[tokio::test(flavor = "multi_thread")]
async fn the_token_endpoint_authenticates_clients_and_checks_grants() {
    let e = start().await;
    let url = format!("{}/protocol/openid-connect/token", e.base);
    let r = http().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 405);
    // client_secret_basic and client_secret_post.
    let cc = [("grant_type", "client_credentials")];
    let (s, h, t) = token_full(&e.base, &cc, Some(("direct", "direct-secret"))).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["pragma"], "no-cache");
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(at["preferred_username"], "service-account-direct");
    assert_eq!(at["azp"], "direct");
    assert!(t.get("refresh_token").is_none());
    assert_eq!(t["refresh_expires_in"], 0);
    let (s, _) = token(
        &e.base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "direct"),
            ("client_secret", "direct-secret"),
        ],
        None,
    )
    .await;
    assert_eq!(s, 200);
    // Both methods at once.
    let (s, r) = token(
        &e.base,
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", "direct-secret"),
        ],
        Some(("direct", "direct-secret")),
    )
    .await;
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_request")));
    // Wrong secret and unknown client: one answer, 401, WWW-Authenticate with Basic.
    let (s1, h1, r1) = token_full(&e.base, &cc, Some(("direct", "nope"))).await;
    let (s2, h2, r2) = token_full(&e.base, &cc, Some(("ghost", "nope"))).await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(r1, r2);
    assert_eq!(r1["error"], "invalid_client");
    assert!(h1.get("www-authenticate").is_some() && h2.get("www-authenticate").is_some());
    let (s, _, r) = token_full(
        &e.base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "direct"),
            ("client_secret", "nope"),
        ],
        None,
    )
    .await;
    assert_eq!((s, r["error"].as_str()), (401, Some("invalid_client")));
    // Grants.
    let (s, r) = token(
        &e.base,
        &[("grant_type", "urn:x")],
        Some(("direct", "direct-secret")),
    )
    .await;
    assert_eq!(
        (s, r["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (s, r) = token(&e.base, &[], Some(("direct", "direct-secret"))).await;
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_request")));
    let (s, r) = token(
        &e.base,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-pw"),
        ],
        Some(("web", "web-secret")),
    )
    .await;
    assert_eq!((s, r["error"].as_str()), (400, Some("unauthorized_client")));
    let (s, r) = token(&e.base, &cc, Some(("web", "web-secret"))).await;
    assert_eq!((s, r["error"].as_str()), (400, Some("unauthorized_client")));
    let (s, r) = token(
        &e.base,
        &[("grant_type", "password"), ("username", "alice")],
        Some(("direct", "direct-secret")),
    )
    .await;
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_request")));
    // Password grant: works; disabled user, pending action and bad password refused.
    let pw = |u: &'static str, p: &'static str| {
        let base = e.base.clone();
        async move {
            token(
                &base,
                &[
                    ("grant_type", "password"),
                    ("username", u),
                    ("password", p),
                    ("scope", "openid"),
                ],
                Some(("direct", "direct-secret")),
            )
            .await
        }
    };
    let (s, t) = pw("alice", "alice-pw").await;
    assert_eq!(s, 200, "{t}");
    assert!(t["refresh_token"].is_string() && t["id_token"].is_string());
    let (s, r) = pw("alice", "bad").await;
    assert_eq!(
        (s, r["error_description"].as_str()),
        (401, Some("Invalid user credentials"))
    );
    let (s, r) = pw("dora", "dora-pw").await;
    assert_eq!(
        (s, r["error_description"].as_str()),
        (400, Some("Account disabled"))
    );
    let (s, r) = pw("tom", "temp-pw").await;
    assert_eq!(
        (s, r["error_description"].as_str()),
        (400, Some("Account is not fully set up"))
    );
    // Form bodies only.
    let r = http()
        .post(&url)
        .basic_auth("direct", Some("direct-secret"))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
}

// RT-1, RT-2, RT-3, RT-5, RT-7
#[tokio::test(flavor = "multi_thread")]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let e = start().await;
    let (_, t) = alice_tokens(&e).await;
    let rt0 = t["refresh_token"].as_str().unwrap().to_string();
    let refresh = |rt: String, client: &'static str, secret: &'static str| {
        let base = e.base.clone();
        async move {
            token(
                &base,
                &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
                Some((client, secret)),
            )
            .await
        }
    };
    // Another client may not use it.
    let (s, r) = refresh(rt0.clone(), "web2", "web2-secret").await;
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_grant")));
    let (s, t1) = refresh(rt0.clone(), "web", "web-secret").await;
    assert_eq!(s, 200, "{t1}");
    let id0 = claims(t["id_token"].as_str().unwrap());
    let id1 = claims(t1["id_token"].as_str().unwrap());
    for k in ["iss", "sub", "aud", "auth_time", "sid"] {
        assert_eq!(id0[k], id1[k], "{k} kept on refresh");
    }
    let rt1 = t1["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt0);
    // The old token again: stale, and the whole family is revoked.
    let (s, r) = refresh(rt0, "web", "web-secret").await;
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_grant")));
    let (s, _) = refresh(rt1, "web", "web-secret").await;
    assert_eq!(s, 400, "the current token died with the family");
    assert_eq!(
        introspect(&e.base, t1["access_token"].as_str().unwrap()).await["active"],
        false
    );
    // Two concurrent uses of one token: exactly one succeeds.
    let (_, t) = alice_tokens(&e).await;
    let rt = t["refresh_token"].as_str().unwrap().to_string();
    let a = tokio::spawn(refresh(rt.clone(), "web", "web-secret"));
    let b = tokio::spawn(refresh(rt, "web", "web-secret"));
    let (a, b) = (a.await.unwrap().0, b.await.unwrap().0);
    assert_eq!([a, b].iter().filter(|s| **s == 200).count(), 1, "{a} {b}");
}

// API-1, API-2, API-3, API-4, JWT-4, JWT-5
#[tokio::test(flavor = "multi_thread")]
async fn userinfo_introspection_and_revocation() {
    let e = start().await;
    let (_, t) = alice_tokens(&e).await;
    let at = t["access_token"].as_str().unwrap().to_string();
    let ui = format!("{}/protocol/openid-connect/userinfo", e.base);
    let r = http().get(&ui).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    for (how, req) in [
        ("GET header", http().get(&ui).bearer_auth(&at)),
        ("POST header", http().post(&ui).bearer_auth(&at)),
        (
            "POST body",
            http().post(&ui).form(&[("access_token", at.as_str())]),
        ),
    ] {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200, "{how}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            v["sub"],
            claims(t["id_token"].as_str().unwrap())["sub"],
            "{how}"
        );
        assert_eq!(v["email"], "alice@example.com");
    }
    // Forged tokens: alg none, altered payload, wrong signature.
    let parts: Vec<&str> = at.split('.').collect();
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    let mut c = claims(&at);
    c["preferred_username"] = json!("mallory");
    let altered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(c.to_string()),
        parts[2]
    );
    for bad in [none.as_str(), altered.as_str(), "garbage"] {
        let r = http().get(&ui).bearer_auth(bad).send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert!(
            r.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("error=\"invalid_token\"")
        );
        assert_eq!(introspect(&e.base, bad).await, json!({"active": false}));
    }
    // Introspection needs client authentication.
    let intro = format!("{}/protocol/openid-connect/token/introspect", e.base);
    let r = http()
        .post(&intro)
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v = introspect(&e.base, &at).await;
    assert_eq!(v["active"], true);
    assert_eq!(v["client_id"], "web");
    assert_eq!(v["username"], "alice");
    // Revocation: needs authentication; garbage is fine; another client's token stays.
    let revoke = format!("{}/protocol/openid-connect/revoke", e.base);
    let r = http()
        .post(&revoke)
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http()
        .post(&revoke)
        .basic_auth("web", Some("web-secret"))
        .form(&[("token", "garbage")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http()
        .post(&revoke)
        .basic_auth("web2", Some("web2-secret"))
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        introspect(&e.base, &at).await["active"],
        true,
        "another client cannot revoke it"
    );
    // Revoking the access token: inactive at once, 401 at userinfo.
    let r = http()
        .post(&revoke)
        .basic_auth("web", Some("web-secret"))
        .form(&[("token", at.as_str()), ("token_type_hint", "access_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(introspect(&e.base, &at).await, json!({"active": false}));
    assert_eq!(
        http()
            .get(&ui)
            .bearer_auth(&at)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // Revoking the refresh token ends the client session: its access tokens die too.
    let (_, t) = alice_tokens(&e).await;
    let r = http()
        .post(&revoke)
        .basic_auth("web", Some("web-secret"))
        .form(&[("token", t["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        introspect(&e.base, t["access_token"].as_str().unwrap()).await["active"],
        false
    );
    // A token whose scope lacks openid: 403 at userinfo.
    let (_, cc) = token(
        &e.base,
        &[("grant_type", "client_credentials")],
        Some(("direct", "direct-secret")),
    )
    .await;
    let r = http()
        .get(&ui)
        .bearer_auth(cc["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

// OUT-1, OUT-2, OUT-3, OUT-4
#[tokio::test(flavor = "multi_thread")]
async fn browsers_get_cors_only_for_the_clients_web_origins() {
    let e = start().await;
    let (_, t) = alice_tokens(&e).await;
    let at = t["access_token"].as_str().unwrap().to_string();
    let oidc = format!("{}/protocol/openid-connect", e.base);
    // Preflights of the script-facing endpoints answer any origin (the client is unknown yet).
    for path in ["token", "userinfo", "token/introspect", "revoke", "logout"] {
        let r = http()
            .request(reqwest::Method::OPTIONS, format!("{oidc}/{path}"))
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert_eq!(
            h["access-control-allow-origin"], "https://app.example",
            "{path}"
        );
        assert!(
            h["access-control-allow-headers"]
                .to_str()
                .unwrap()
                .contains("Authorization"),
            "{path}"
        );
        assert_eq!(h["access-control-allow-credentials"], "true");
    }
    // The actual request carries the header only for the token's client's web origins.
    let ui = format!("{oidc}/userinfo");
    let r = http()
        .get(&ui)
        .bearer_auth(&at)
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example"
    );
    let r = http()
        .get(&ui)
        .bearer_auth(&at)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_checks_its_inputs_and_ends_everything() {
    let e = start().await;
    let (mut b, t) = alice_tokens(&e).await;
    let hint = t["id_token"].as_str().unwrap().to_string();
    let logout = format!("{}/protocol/openid-connect/logout", e.base);
    let with = |params: &[(&str, &str)]| {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        format!("{logout}?{q}")
    };
    // An unregistered post-logout URI, a tampered hint: error pages, no redirect.
    let (s, h, _) = b
        .get(&with(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", "https://evil.test/"),
        ]))
        .await;
    assert_eq!(s, 400);
    assert!(h.get(LOCATION).is_none());
    let mut parts: Vec<String> = hint.split('.').map(str::to_string).collect();
    let mut c = claims(&hint);
    c["sub"] = json!("someone-else");
    parts[1] = URL_SAFE_NO_PAD.encode(c.to_string());
    let (s, h, _) = b
        .get(&with(&[
            ("id_token_hint", &parts.join(".")),
            ("post_logout_redirect_uri", CB),
        ]))
        .await;
    assert_eq!(s, 400);
    assert!(h.get(LOCATION).is_none());
    // Without a hint: a confirmation page; a bare GET ends nothing.
    let (s, _, html) = b
        .get(&with(&[
            ("client_id", "web"),
            ("post_logout_redirect_uri", CB),
        ]))
        .await;
    assert_eq!(s, 200);
    assert!(html.contains("Do you want to log out?"));
    let (_, h, _) = b
        .get(&auth_url(&e.base, "web", &[("prompt", "none")]))
        .await;
    assert!(
        query_param(&location(&h), "code").is_some(),
        "still logged in"
    );
    // With the hint: logged out, redirected with state.
    let (s, h, _) = b
        .get(&with(&[
            ("id_token_hint", &hint),
            ("post_logout_redirect_uri", CB),
            ("state", "bye"),
        ]))
        .await;
    assert_eq!(s, 302);
    assert_eq!(location(&h), format!("{CB}?state=bye"));
    assert!(
        !b.cookies.contains_key("KEYCLOAK_IDENTITY"),
        "identity cookie cleared"
    );
    let (s, r) = token(
        &e.base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
        Some(("web", "web-secret")),
    )
    .await;
    assert_eq!((s, r["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(
        introspect(&e.base, t["access_token"].as_str().unwrap()).await["active"],
        false
    );
    let (_, h, _) = b
        .get(&auth_url(&e.base, "web", &[("prompt", "none")]))
        .await;
    assert_eq!(
        query_param(&location(&h), "error").as_deref(),
        Some("login_required")
    );
    // The back-channel logout token reached the client.
    let got = e.rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let lt = url::form_urlencoded::parse(got[0].as_bytes())
        .find(|(k, _)| k == "logout_token")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(header(&lt)["typ"], "logout+jwt");
    let lc = claims(&lt);
    assert_eq!(lc["sid"], claims(&hint)["sid"]);
    assert_eq!(lc["aud"], "web");
    assert!(lc["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(lc.get("nonce").is_none());
    // Confirmation POST with its CSRF value logs out without a hint.
    let (mut b, _) = alice_tokens(&e).await;
    let (_, _, html) = b.get(&with(&[("client_id", "web")])).await;
    let csrf = unescape(
        html.split("name=\"csrf_token\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap(),
    );
    let (s, _, _) = b
        .post(
            &logout,
            &[
                ("client_id", "web"),
                ("confirmLogout", "yes"),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(s, 200, "a forged confirmation shows the page again");
    let (_, h, _) = b
        .get(&auth_url(&e.base, "web", &[("prompt", "none")]))
        .await;
    assert!(query_param(&location(&h), "code").is_some());
    let (s, _, html) = b
        .post(
            &logout,
            &[
                ("client_id", "web"),
                ("confirmLogout", "yes"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert!(html.contains("You are logged out"));
    let (_, h, _) = b
        .get(&auth_url(&e.base, "web", &[("prompt", "none")]))
        .await;
    assert_eq!(
        query_param(&location(&h), "error").as_deref(),
        Some("login_required")
    );
    // The API logout with a refresh token: 204.
    let (_, t) = alice_tokens(&e).await;
    let r = http()
        .post(&logout)
        .basic_auth("web", Some("web-secret"))
        .form(&[("refresh_token", t["refresh_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        introspect(&e.base, t["access_token"].as_str().unwrap()).await["active"],
        false
    );
}

// UPDATE_PASSWORD required action, UI-7
#[tokio::test(flavor = "multi_thread")]
async fn a_temporary_password_must_be_changed_before_a_code_is_issued() {
    let e = start().await;
    let mut b = Browser::default();
    let (_, _, html) = b.get(&auth_url(&e.base, "web", &[])).await;
    let (action, csrf) = form_of(&html);
    let (s, h, html) = b
        .post(
            &action,
            &[
                ("username", "tom"),
                ("password", "temp-pw"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert!(h.get(LOCATION).is_none());
    assert!(html.contains("kc-passwd-update-form"));
    let (update, csrf) = form_of(&html);
    // The login form cannot be replayed to skip the step.
    let (s, h, _) = b
        .get(&auth_url(&e.base, "web", &[("prompt", "none")]))
        .await;
    assert_eq!(s, 302);
    assert_eq!(
        query_param(&location(&h), "error").as_deref(),
        Some("login_required")
    );
    let (s, _, html) = b
        .post(
            &update,
            &[
                ("password-new", "n3w-pass"),
                ("password-confirm", "other"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Passwords don&#x27;t match.") || html.contains("Passwords don't match.")
    );
    let (s, h, _) = b
        .post(
            &update,
            &[
                ("password-new", "n3w-pass"),
                ("password-confirm", "n3w-pass"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 302);
    assert!(query_param(&location(&h), "code").is_some());
    // The new password works, the old one does not.
    let direct = |p: &'static str| {
        let base = e.base.clone();
        async move {
            token(
                &base,
                &[
                    ("grant_type", "password"),
                    ("username", "tom"),
                    ("password", p),
                ],
                Some(("direct", "direct-secret")),
            )
            .await
            .0
        }
    };
    assert_eq!(direct("n3w-pass").await, 200);
    assert_eq!(direct("temp-pw").await, 401);
    drop(e.server);
}

// Login templates can be overridden from a theme folder (`themes/login/*.html` by default).
#[tokio::test(flavor = "multi_thread")]
async fn a_theme_folder_overrides_the_login_page() {
    let w = Workdir::new();
    w.write(
        "data/import/sec-realm.json",
        &realm_json("http://127.0.0.1:9/none"),
    );
    w.write(
        "themes/login/login.html",
        "<p>Acme sign-in for {{ realm_display_name }}</p><form id=\"kc-form-login\" action=\"{{ login_action }}\" method=\"post\"><input type=\"hidden\" name=\"csrf_token\" value=\"{{ csrf_token }}\"></form>",
    );
    let server = Server::start(
        w.path(),
        &["start-dev", "--import-realm", "--http-relative-path=/auth"],
        &[],
    )
    .expect("server starts");
    let base = format!("{}/auth/realms/sec", server.origin());
    let mut b = Browser::default();
    let (s, _, html) = b.get(&auth_url(&base, "web", &[])).await;
    assert_eq!(s, 200);
    assert!(html.contains("Acme sign-in for sec"), "{html}");
    // The overriding template still drives a working login.
    let to = login(
        &mut b,
        &auth_url(&base, "web", &[("prompt", "login")]),
        "alice",
        "alice-pw",
    )
    .await;
    assert!(query_param(&to, "code").is_some());
}

/// REL-1: a restart loses nothing — the SSO cookie still signs in, refresh tokens still work,
/// used codes stay used — on SQLite and on PostgreSQL.
async fn survives_restart(db_args: &[String]) {
    let w = Workdir::new();
    w.write(
        "data/import/sec-realm.json",
        &realm_json("http://127.0.0.1:9/none"),
    );
    let mut args: Vec<String> = [
        "start-dev",
        "--import-realm",
        "--http-relative-path=/auth",
        "--hostname=http://sso.test/auth",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(db_args.iter().cloned());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let public = "http://sso.test/auth/realms/sec";
    let mut server = Server::start(w.path(), &argv, &[]).expect("server starts");
    let base = format!("{}/auth/realms/sec", server.origin());
    let mut b = Browser::default();
    let (_, _, html) = b.get(&auth_url(&base, "web", &[])).await;
    let (action, csrf) = form_of(&html);
    let action = action.replace(public, &base);
    let (s, h, _) = b
        .post(
            &action,
            &[
                ("username", "alice"),
                ("password", "alice-pw"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(s, 302);
    let code = query_param(&location(&h), "code").unwrap();
    let (s, t) = exchange(&base, "web", "web-secret", &code).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(claims(t["access_token"].as_str().unwrap())["iss"], public);
    assert!(server.stop(), "clean stop");

    let server = Server::start(w.path(), &argv, &[]).expect("server restarts");
    let base = format!("{}/auth/realms/sec", server.origin());
    let (s, h, _) = b.get(&auth_url(&base, "web", &[("prompt", "none")])).await;
    assert_eq!(s, 302);
    assert!(
        query_param(&location(&h), "code").is_some(),
        "SSO survived: {}",
        location(&h)
    );
    let (s, r) = exchange(&base, "web", "web-secret", &code).await;
    assert_eq!(
        (s, r["error"].as_str()),
        (400, Some("invalid_grant")),
        "a used code stays used"
    );
    // (That replay revoked the first client session, as CODE-2 requires; log in again.)
    let (_, h, _) = b.get(&auth_url(&base, "web", &[])).await;
    let code = query_param(&location(&h), "code").unwrap();
    let (s, t) = exchange(&base, "web", "web-secret", &code).await;
    assert_eq!(s, 200, "{t}");
    let (s, t2) = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
        Some(("web", "web-secret")),
    )
    .await;
    assert_eq!(s, 200, "{t2}");
    assert_eq!(
        introspect(&base, t2["access_token"].as_str().unwrap()).await["active"],
        true
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread")]
async fn state_survives_a_restart_on_sqlite() {
    survives_restart(&[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn state_survives_a_restart_on_postgresql() {
    let (jdbc, _schema) = pg_jdbc_with_fresh_schema();
    survives_restart(&[
        "--db=postgres".to_string(),
        format!("--db-url={jdbc}"),
        "--db-username=postgres".to_string(),
    ])
    .await;
}

// Keys: a client may ask for ES256 or EdDSA tokens; the key is created on first use and
// published in the JWKS, and the tokens verify (introspection says active).
#[tokio::test(flavor = "multi_thread")]
async fn clients_may_use_es256_and_eddsa_keys() {
    let mut realm: Value = serde_json::from_str(&realm_json("http://127.0.0.1:9/none")).unwrap();
    realm["realm"] = json!("keys");
    realm["clients"] = json!([
        {"clientId": "ec", "secret": "ec-secret", "serviceAccountsEnabled": true, "publicClient": false,
         "attributes": {"access.token.signed.response.alg": "ES256"}},
        {"clientId": "ed", "secret": "ed-secret", "serviceAccountsEnabled": true, "publicClient": false,
         "directAccessGrantsEnabled": true,
         "attributes": {"access.token.signed.response.alg": "EdDSA", "id.token.signed.response.alg": "EdDSA"}}
    ]);
    realm["users"] = json!([
        {"username": "alice", "enabled": true, "credentials": [{"type": "password", "value": "alice-pw"}]},
        {"username": "service-account-ec", "enabled": true, "serviceAccountClientId": "ec"},
        {"username": "service-account-ed", "enabled": true, "serviceAccountClientId": "ed"}
    ]);
    let w = Workdir::new();
    w.write("data/import/keys-realm.json", &realm.to_string());
    let server = Server::start(
        w.path(),
        &["start-dev", "--import-realm", "--http-relative-path=/auth"],
        &[],
    )
    .expect("server starts");
    let base = format!("{}/auth/realms/keys", server.origin());
    let cc = [("grant_type", "client_credentials")];
    let (s, t) = token(&base, &cc, Some(("ec", "ec-secret"))).await;
    assert_eq!(s, 200, "{t}");
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(header(at)["alg"], "ES256");
    let (s, t) = token(
        &base,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-pw"),
            ("scope", "openid"),
        ],
        Some(("ed", "ed-secret")),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(header(t["access_token"].as_str().unwrap())["alg"], "EdDSA");
    assert_eq!(header(t["id_token"].as_str().unwrap())["alg"], "EdDSA");
    let jwks: Value = http()
        .get(format!("{base}/protocol/openid-connect/certs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["alg"].as_str())
        .collect();
    for alg in ["RS256", "ES256", "EdDSA"] {
        assert!(algs.contains(&alg), "{alg} in {algs:?}");
    }
    let kid = header(at)["kid"].as_str().unwrap().to_string();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid.as_str())
    );
    let v: Value = http()
        .post(format!("{base}/protocol/openid-connect/token/introspect"))
        .basic_auth("ec", Some("ec-secret"))
        .form(&[("token", at)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["active"], true, "{v}");
}
