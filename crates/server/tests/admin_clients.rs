//! The admin REST API's clients slice against the real server: listing and reading clients
//! with Keycloak's paths and query parameters, no secret in any answer, and the rights each
//! endpoint needs (401 without a token, 403 without `query-clients`/`view-clients`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::*;
use serde_json::{Value, json};

const BOSS: (&str, &str) = ("boss", "b0ss-pw");

fn acme_realm() -> String {
    json!({
        "realm": "acme",
        "enabled": true,
        "roles": {"client": {"backend": [{"name": "reader"}]}},
        "clients": [
            {"clientId": "app", "publicClient": true, "directAccessGrantsEnabled": true,
             "redirectUris": ["https://app.example/cb"]},
            {"clientId": "backend", "secret": "backend-secret-1", "serviceAccountsEnabled": true}
        ],
        "users": [
            {"username": "lister", "enabled": true,
             "clientRoles": {"realm-management": ["query-clients"]},
             "credentials": [{"type": "password", "value": "lister-pw"}]},
            {"username": "viewer", "enabled": true,
             "clientRoles": {"realm-management": ["view-clients"]},
             "credentials": [{"type": "password", "value": "viewer-pw"}]},
            {"username": "nobody", "enabled": true,
             "clientRoles": {"realm-management": ["view-users"], "backend": ["reader"]},
             "credentials": [{"type": "password", "value": "nobody-pw"}]}
        ]
    })
    .to_string()
}

struct Env {
    _w: Workdir,
    _server: Server,
    origin: String,
    http: reqwest::Client,
}

fn start() -> Env {
    let w = Workdir::new();
    w.write("data/import/acme-realm.json", &acme_realm());
    let args = ["start-dev", "--import-realm", "--http-relative-path=/auth"];
    let vars = [
        ("KC_BOOTSTRAP_ADMIN_USERNAME", BOSS.0),
        ("KC_BOOTSTRAP_ADMIN_PASSWORD", BOSS.1),
    ];
    let server = Server::start(w.path(), &args, &vars).expect("server starts");
    let origin = server.origin();
    Env {
        _w: w,
        _server: server,
        origin,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

impl Env {
    async fn token(&self, realm: &str, user: &str, pw: &str) -> String {
        let r = self
            .http
            .post(format!(
                "{}/auth/realms/{realm}/protocol/openid-connect/token",
                self.origin
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", user),
                ("password", pw),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let body: Value = r.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    /// GET an admin path: (status, raw body text, JSON body or Null).
    async fn get(&self, path: &str, token: Option<&str>) -> (u16, String, Value) {
        let mut r = self
            .http
            .get(format!("{}/auth/admin/realms{path}", self.origin));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, text, body)
    }
}

impl Env {
    /// POST an admin path without a body: (status, JSON body or Null).
    async fn post_empty(&self, path: &str, token: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/auth/admin/realms{path}", self.origin))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// POST JSON to an admin path: (status, Location, JSON body or Null).
    async fn post_json(
        &self,
        path: &str,
        token: &str,
        body: Value,
    ) -> (u16, Option<String>, Value) {
        let resp = self
            .http
            .post(format!("{}/auth/admin/realms{path}", self.origin))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        (status, location, resp.json().await.unwrap_or(Value::Null))
    }

    /// PUT JSON to an admin path: (status, JSON body or Null).
    async fn put_json(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .put(format!("{}/auth/admin/realms{path}", self.origin))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The status of a DELETE on an admin path.
    async fn delete(&self, path: &str, token: &str) -> u16 {
        self.http
            .delete(format!("{}/auth/admin/realms{path}", self.origin))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// The status of a client_credentials grant.
    async fn client_credentials(&self, realm: &str, client: &str, secret: &str) -> u16 {
        self.http
            .post(format!(
                "{}/auth/realms/{realm}/protocol/openid-connect/token",
                self.origin
            ))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client),
                ("client_secret", secret),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

fn client_ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["clientId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_list_filter_page_and_get_without_secrets() {
    let env = start();
    let boss = env.token("master", BOSS.0, BOSS.1).await;

    let (s, text, all) = env.get("/acme/clients", Some(&boss)).await;
    assert_eq!(s, 200, "{text}");
    let ids = client_ids(&all);
    for expected in ["app", "backend", "realm-management", "admin-cli"] {
        assert!(ids.contains(&expected.to_string()), "{ids:?}");
    }
    assert!(!text.contains("backend-secret-1"), "{text}");
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|c| c.get("secret").is_none())
    );
    assert!(all.as_array().unwrap().iter().all(|c| c["id"].is_string()));

    let (s, _, exact) = env.get("/acme/clients?clientId=backend", Some(&boss)).await;
    assert_eq!(s, 200);
    assert_eq!(client_ids(&exact), ["backend"]);
    let (_, _, none) = env.get("/acme/clients?clientId=back", Some(&boss)).await;
    assert!(none.as_array().unwrap().is_empty(), "{none}");
    let (_, _, infix) = env
        .get("/acme/clients?clientId=ACKEN&search=true", Some(&boss))
        .await;
    assert_eq!(client_ids(&infix), ["backend"]);
    let (_, _, page) = env.get("/acme/clients?first=1&max=2", Some(&boss)).await;
    assert_eq!(client_ids(&page), ids[1..3].to_vec());
    let (s, _, _) = env.get("/acme/clients?max=abc", Some(&boss)).await;
    assert_eq!(s, 400);

    let id = exact[0]["id"].as_str().unwrap();
    let (s, text, one) = env.get(&format!("/acme/clients/{id}"), Some(&boss)).await;
    assert_eq!(s, 200, "{text}");
    assert_eq!(one["clientId"], "backend");
    assert_eq!(one["id"], id);
    assert_eq!(one["serviceAccountsEnabled"], true);
    assert!(!text.contains("backend-secret-1"), "{text}");
    let (s, _, body) = env.get("/acme/clients/no-such-id", Some(&boss)).await;
    assert_eq!(s, 404);
    assert_eq!(body["error"], "Could not find client");
    let (s, _, _) = env.get("/nowhere/clients", Some(&boss)).await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn clients_rights_query_and_view() {
    let env = start();
    let boss = env.token("master", BOSS.0, BOSS.1).await;
    let (_, _, backend) = env.get("/acme/clients?clientId=backend", Some(&boss)).await;
    let one = format!("/acme/clients/{}", backend[0]["id"].as_str().unwrap());

    assert_eq!(env.get("/acme/clients", None).await.0, 401);
    assert_eq!(env.get(&one, None).await.0, 401);

    let lister = env.token("acme", "lister", "lister-pw").await;
    assert_eq!(env.get("/acme/clients", Some(&lister)).await.0, 200);
    assert_eq!(env.get(&one, Some(&lister)).await.0, 403);

    let viewer = env.token("acme", "viewer", "viewer-pw").await;
    assert_eq!(env.get("/acme/clients", Some(&viewer)).await.0, 200);
    assert_eq!(env.get(&one, Some(&viewer)).await.0, 200);

    let nobody = env.token("acme", "nobody", "nobody-pw").await;
    assert_eq!(env.get("/acme/clients", Some(&nobody)).await.0, 403);
    assert_eq!(env.get(&one, Some(&nobody)).await.0, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_secret_read_and_regenerate_invalidates_the_old_one() {
    let env = start();
    let boss = env.token("master", BOSS.0, BOSS.1).await;
    let (_, _, backend) = env.get("/acme/clients?clientId=backend", Some(&boss)).await;
    let path = format!(
        "/acme/clients/{}/client-secret",
        backend[0]["id"].as_str().unwrap()
    );

    let (s, _, got) = env.get(&path, Some(&boss)).await;
    assert_eq!(s, 200);
    assert_eq!(got, json!({"type": "secret", "value": "backend-secret-1"}));
    assert_eq!(
        env.client_credentials("acme", "backend", "backend-secret-1")
            .await,
        200
    );

    let viewer = env.token("acme", "viewer", "viewer-pw").await;
    assert_eq!(env.get(&path, Some(&viewer)).await.0, 200);
    assert_eq!(env.post_empty(&path, &viewer).await.0, 403);
    let lister = env.token("acme", "lister", "lister-pw").await;
    assert_eq!(env.get(&path, Some(&lister)).await.0, 403);

    let (s, fresh) = env.post_empty(&path, &boss).await;
    assert_eq!(s, 200, "{fresh}");
    assert_eq!(fresh["type"], "secret");
    let new_secret = fresh["value"].as_str().unwrap().to_string();
    assert_eq!(new_secret.len(), 32);
    assert_ne!(new_secret, "backend-secret-1");
    assert_eq!(env.get(&path, Some(&boss)).await.2, fresh);

    assert_eq!(
        env.client_credentials("acme", "backend", "backend-secret-1")
            .await,
        401
    );
    assert_eq!(
        env.client_credentials("acme", "backend", &new_secret).await,
        200
    );

    let (_, _, app) = env.get("/acme/clients?clientId=app", Some(&boss)).await;
    let app_path = format!(
        "/acme/clients/{}/client-secret",
        app[0]["id"].as_str().unwrap()
    );
    assert_eq!(env.post_empty(&app_path, &boss).await.0, 400);
    assert_eq!(
        env.post_empty("/acme/clients/no-such-id/client-secret", &boss)
            .await
            .0,
        404
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn client_delete_removes_roles_mappings_and_service_account() {
    let env = start();
    let boss = env.token("master", BOSS.0, BOSS.1).await;
    let (_, _, backend) = env.get("/acme/clients?clientId=backend", Some(&boss)).await;
    let id = backend[0]["id"].as_str().unwrap().to_string();
    let one = format!("/acme/clients/{id}");
    let (_, _, users) = env
        .get("/acme/users?username=nobody&exact=true", Some(&boss))
        .await;
    let nobody_mappings = format!(
        "/acme/users/{}/role-mappings",
        users[0]["id"].as_str().unwrap()
    );
    let (s, _, before) = env.get(&nobody_mappings, Some(&boss)).await;
    assert_eq!(s, 200);
    assert!(before["clientMappings"]["backend"].is_object(), "{before}");
    assert_eq!(
        env.client_credentials("acme", "backend", "backend-secret-1")
            .await,
        200
    );

    let viewer = env.token("acme", "viewer", "viewer-pw").await;
    assert_eq!(env.delete(&one, &viewer).await, 403);
    let (_, _, rm) = env
        .get("/acme/clients?clientId=realm-management", Some(&boss))
        .await;
    let rm_path = format!("/acme/clients/{}", rm[0]["id"].as_str().unwrap());
    assert_eq!(env.delete(&rm_path, &boss).await, 400);

    assert_eq!(env.delete(&one, &boss).await, 204);
    assert_eq!(env.get(&one, Some(&boss)).await.0, 404);
    assert_eq!(env.delete(&one, &boss).await, 404);
    let (_, _, after) = env.get(&nobody_mappings, Some(&boss)).await;
    assert!(after["clientMappings"].get("backend").is_none(), "{after}");
    let (_, _, sa) = env
        .get(
            "/acme/users?username=service-account-backend&exact=true",
            Some(&boss),
        )
        .await;
    assert!(sa.as_array().unwrap().is_empty(), "{sa}");
    assert_eq!(
        env.client_credentials("acme", "backend", "backend-secret-1")
            .await,
        401
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn client_create_location_generated_secret_and_conflict() {
    let env = start();
    let boss = env.token("master", BOSS.0, BOSS.1).await;
    let body = json!({"clientId": "robot", "serviceAccountsEnabled": true,
                      "description": "made by the API"});

    let viewer = env.token("acme", "viewer", "viewer-pw").await;
    assert_eq!(
        env.post_json("/acme/clients", &viewer, body.clone())
            .await
            .0,
        403
    );

    let (s, location, text) = env.post_json("/acme/clients", &boss, body.clone()).await;
    assert_eq!(s, 201, "{text}");
    let location = location.unwrap();
    let prefix = format!("{}/auth/admin/realms/acme/clients/", env.origin);
    let id = location.strip_prefix(&prefix).unwrap().to_string();
    let (s, raw, got) = env.get(&format!("/acme/clients/{id}"), Some(&boss)).await;
    assert_eq!(s, 200, "{raw}");
    assert_eq!(got["clientId"], "robot");
    assert_eq!(got["description"], "made by the API");
    assert!(got.get("secret").is_none(), "{raw}");

    let (_, _, secret) = env
        .get(&format!("/acme/clients/{id}/client-secret"), Some(&boss))
        .await;
    let secret = secret["value"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 32);
    assert_eq!(env.client_credentials("acme", "robot", &secret).await, 200);
    let (_, _, sa) = env
        .get(
            "/acme/users?username=service-account-robot&exact=true",
            Some(&boss),
        )
        .await;
    assert_eq!(
        sa.as_array().unwrap().len(),
        0,
        "service accounts are not listed"
    );

    let (s, _, conflict) = env.post_json("/acme/clients", &boss, body).await;
    assert_eq!(s, 409);
    assert_eq!(
        conflict,
        json!({"errorMessage": "Client robot already exists"})
    );
    let (s, _, _) = env
        .post_json("/acme/clients", &boss, json!({"name": "x"}))
        .await;
    assert_eq!(s, 400);

    let (s, _, _) = env
        .post_json(
            "/acme/clients",
            &boss,
            json!({"clientId": "given", "secret": "given-secret"}),
        )
        .await;
    assert_eq!(s, 201);
    let (_, _, given) = env.get("/acme/clients?clientId=given", Some(&boss)).await;
    assert!(given[0].get("secret").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn client_update_is_partial_and_checks_the_client_id() {
    let env = start();
    let boss = env.token("master", BOSS.0, BOSS.1).await;
    let (_, _, app) = env.get("/acme/clients?clientId=app", Some(&boss)).await;
    let path = format!("/acme/clients/{}", app[0]["id"].as_str().unwrap());

    let viewer = env.token("acme", "viewer", "viewer-pw").await;
    assert_eq!(
        env.put_json(&path, &viewer, json!({"description": "x"}))
            .await
            .0,
        403
    );
    let (s, body) = env
        .put_json(
            &path,
            &boss,
            json!({"description": "The app", "redirectUris": ["https://new.example/cb"]}),
        )
        .await;
    assert_eq!(s, 204, "{body}");
    let (_, _, got) = env.get(&path, Some(&boss)).await;
    assert_eq!(got["description"], "The app");
    assert_eq!(got["redirectUris"], json!(["https://new.example/cb"]));
    assert_eq!(got["publicClient"], true);
    assert_eq!(got["directAccessGrantsEnabled"], true);
    assert_eq!(got["clientId"], "app");

    let (s, body) = env
        .put_json(&path, &boss, json!({"clientId": "backend"}))
        .await;
    assert_eq!(s, 409);
    assert_eq!(
        body,
        json!({"errorMessage": "Client backend already exists"})
    );
    assert_eq!(
        env.put_json(&path, &boss, json!({"clientId": "app2"}))
            .await
            .0,
        204
    );
    let (_, _, renamed) = env.get("/acme/clients?clientId=app2", Some(&boss)).await;
    assert_eq!(renamed.as_array().unwrap().len(), 1);
    assert_eq!(
        env.put_json("/acme/clients/no-such-id", &boss, json!({}))
            .await
            .0,
        404
    );

    // A secret given in the body becomes the secret.
    let (_, _, backend) = env.get("/acme/clients?clientId=backend", Some(&boss)).await;
    let backend_path = format!("/acme/clients/{}", backend[0]["id"].as_str().unwrap());
    assert_eq!(
        env.put_json(&backend_path, &boss, json!({"secret": "backend-secret-2"}))
            .await
            .0,
        204
    );
    assert_eq!(
        env.client_credentials("acme", "backend", "backend-secret-2")
            .await,
        200
    );
    assert_eq!(
        env.client_credentials("acme", "backend", "backend-secret-1")
            .await,
        401
    );
}
