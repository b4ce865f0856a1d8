//! A running server with an `acme` realm and a bootstrap admin, and small admin API helpers,
//! shared by the admin tests of client scopes, realms and admin events.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // tests may panic on failure

use crate::common::*;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::LOCATION;
use serde_json::Value;

pub const BOSS: (&str, &str) = ("boss", "b0ss-pw");

pub struct Env {
    pub _w: Workdir,
    pub server: Server,
    pub origin: String,
    pub http: reqwest::Client,
}

/// A response: status, `Location`, JSON body (Null when none).
pub struct Got {
    pub status: u16,
    pub location: Option<String>,
    pub body: Value,
}

/// Start a server on SQLite with `realm_json` in the import folder.
pub fn start(realm_json: &str) -> Env {
    start_with(realm_json, &[], &[])
}

pub fn start_with(realm_json: &str, extra: &[&str], env: &[(&str, &str)]) -> Env {
    let w = Workdir::new();
    w.write("data/import/acme-realm.json", realm_json);
    let mut args = vec!["start-dev", "--import-realm", "--http-relative-path=/auth"];
    args.extend_from_slice(extra);
    let mut vars = vec![
        ("KC_BOOTSTRAP_ADMIN_USERNAME", BOSS.0),
        ("KC_BOOTSTRAP_ADMIN_PASSWORD", BOSS.1),
    ];
    vars.extend_from_slice(env);
    let server = Server::start(w.path(), &args, &vars).expect("server starts");
    let origin = server.origin();
    Env {
        _w: w,
        server,
        origin,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl Env {
    pub fn admin(&self, path: &str) -> String {
        format!("{}/auth/admin/realms{path}", self.origin)
    }

    /// A password-grant token response (status, body).
    pub async fn login(&self, realm: &str, client: &str, user: &str, pw: &str) -> (u16, Value) {
        self.login_with(realm, client, None, user, pw, None).await
    }

    pub async fn login_with(
        &self,
        realm: &str,
        client: &str,
        secret: Option<&str>,
        user: &str,
        pw: &str,
        scope: Option<&str>,
    ) -> (u16, Value) {
        let mut form = vec![
            ("grant_type", "password"),
            ("client_id", client),
            ("username", user),
            ("password", pw),
        ];
        if let Some(s) = secret {
            form.push(("client_secret", s));
        }
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        let r = self
            .http
            .post(format!(
                "{}/auth/realms/{realm}/protocol/openid-connect/token",
                self.origin
            ))
            .form(&form)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// An access token (password grant on `admin-cli`).
    pub async fn token(&self, realm: &str, user: &str, pw: &str) -> String {
        let (s, body) = self.login(realm, "admin-cli", user, pw).await;
        assert_eq!(s, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    pub async fn boss(&self) -> String {
        self.token("master", BOSS.0, BOSS.1).await
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Got {
        let mut r = self.http.request(method.parse().unwrap(), self.admin(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Got {
            status,
            location,
            body,
        }
    }

    pub async fn get(&self, path: &str, t: &str) -> Got {
        self.call("GET", path, Some(t), None).await
    }
    pub async fn post(&self, path: &str, t: &str, body: Value) -> Got {
        self.call("POST", path, Some(t), Some(body)).await
    }
    pub async fn put(&self, path: &str, t: &str, body: Value) -> Got {
        self.call("PUT", path, Some(t), Some(body)).await
    }
    pub async fn delete(&self, path: &str, t: &str) -> Got {
        self.call("DELETE", path, Some(t), None).await
    }

    /// Send raw bytes with a content type.
    pub async fn raw(&self, method: &str, path: &str, t: &str, ct: &str, body: Vec<u8>) -> Got {
        let resp = self
            .http
            .request(method.parse().unwrap(), self.admin(path))
            .bearer_auth(t)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        Got {
            status,
            location: None,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// The internal id of a client by `clientId`.
    pub async fn client_uuid(&self, t: &str, realm: &str, client_id: &str) -> String {
        let g = self
            .get(&format!("/{realm}/clients?clientId={client_id}"), t)
            .await;
        assert_eq!(g.status, 200, "{}", g.body);
        g.body[0]["id"].as_str().expect("client found").to_string()
    }

    /// The id of a user by exact username.
    pub async fn user_id(&self, t: &str, realm: &str, name: &str) -> String {
        let g = self
            .get(&format!("/{realm}/users?username={name}&exact=true"), t)
            .await;
        assert_eq!(g.status, 200, "{}", g.body);
        g.body[0]["id"].as_str().unwrap().to_string()
    }
}

/// The payload of a JWT.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The id at the end of a `Location` header, which must point into the admin API.
pub fn id_from(env: &Env, location: &Option<String>, prefix: &str) -> String {
    let loc = location.as_deref().expect("Location header");
    let expected = env.admin(prefix);
    assert!(loc.starts_with(&expected), "{loc} under {expected}");
    loc.rsplit('/').next().unwrap().to_string()
}

pub fn names(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap().to_string())
        .collect()
}
