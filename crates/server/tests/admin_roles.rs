//! The admin REST API's roles, composites, role holders, user and group role mappings,
//! credentials and sessions against the real server: Keycloak's paths, bodies, status codes
//! and error bodies; the rights of each group of endpoints (401 without a token, 403 without
//! the management role, 2xx with it); composites refusing cycles; changes reaching freshly
//! issued tokens at once (the read caches are invalidated); ended sessions' refresh tokens
//! refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

const BOSS: (&str, &str) = ("boss", "b0ss-pw");

fn user(name: &str, mgmt: &[&str]) -> Value {
    json!({"username": name, "enabled": true,
           "clientRoles": {"realm-management": mgmt},
           "credentials": [{"type": "password", "value": format!("{name}-pw")}]})
}

fn acme_realm() -> String {
    json!({
        "realm": "acme",
        "enabled": true,
        "roles": {
            "realm": [{"name": "viewer"}, {"name": "editor", "composites": {"realm": ["viewer"]}}],
            "client": {"api": [{"name": "read"}, {"name": "write"}]}
        },
        "clients": [
            {"clientId": "app", "publicClient": true, "directAccessGrantsEnabled": true,
             "redirectUris": ["https://app.example/cb"]},
            {"clientId": "api", "publicClient": true, "directAccessGrantsEnabled": true}
        ],
        "groups": [
            {"name": "staff", "subGroups": [{"name": "ops"}]},
            {"name": "audit"}
        ],
        "users": [
            user("alice", &[]),
            user("bob", &[]),
            user("manager", &["manage-users"]),
            user("watcher", &["view-users"]),
            user("clientboss", &["manage-clients"]),
            user("clientwatch", &["view-clients"]),
            user("realmwatch", &["view-realm"]),
            user("plain", &[])
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
    start_with(&[])
}

fn start_with(extra: &[String]) -> Env {
    let w = Workdir::new();
    w.write("data/import/acme-realm.json", &acme_realm());
    let mut args = vec!["start-dev", "--import-realm", "--http-relative-path=/auth"];
    args.extend(extra.iter().map(String::as_str));
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

/// A response: status, `Location`, JSON body (Null when none).
struct Got {
    status: u16,
    location: Option<String>,
    body: Value,
}

impl Env {
    fn admin(&self, path: &str) -> String {
        format!("{}/auth/admin/realms{path}", self.origin)
    }

    fn token_url(&self, realm: &str) -> String {
        format!(
            "{}/auth/realms/{realm}/protocol/openid-connect/token",
            self.origin
        )
    }

    /// A password-grant token response (status, body).
    async fn login(&self, realm: &str, client: &str, user: &str, pw: &str) -> (u16, Value) {
        let r = self
            .http
            .post(self.token_url(realm))
            .form(&[
                ("grant_type", "password"),
                ("client_id", client),
                ("username", user),
                ("password", pw),
            ])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// A refresh-grant answer (status, body).
    async fn refresh(&self, client: &str, refresh_token: &str) -> (u16, Value) {
        let r = self
            .http
            .post(self.token_url("acme"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", client),
                ("refresh_token", refresh_token),
            ])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// An access token of an acme user (password grant on `admin-cli`).
    async fn acme(&self, user: &str) -> String {
        let (s, body) = self
            .login("acme", "admin-cli", user, &format!("{user}-pw"))
            .await;
        assert_eq!(s, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    async fn boss(&self) -> String {
        let (s, body) = self.login("master", "admin-cli", BOSS.0, BOSS.1).await;
        assert_eq!(s, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    async fn call(
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

    async fn get(&self, path: &str, t: &str) -> Got {
        self.call("GET", path, Some(t), None).await
    }
    async fn post(&self, path: &str, t: &str, body: Value) -> Got {
        self.call("POST", path, Some(t), Some(body)).await
    }
    async fn put(&self, path: &str, t: &str, body: Value) -> Got {
        self.call("PUT", path, Some(t), Some(body)).await
    }
    async fn delete(&self, path: &str, t: &str) -> Got {
        self.call("DELETE", path, Some(t), None).await
    }
    async fn delete_with(&self, path: &str, t: &str, body: Value) -> Got {
        self.call("DELETE", path, Some(t), Some(body)).await
    }

    /// Malformed JSON with a JSON content type.
    async fn broken(&self, method: &str, path: &str, t: &str) -> Got {
        let resp = self
            .http
            .request(method.parse().unwrap(), self.admin(path))
            .bearer_auth(t)
            .header("content-type", "application/json")
            .body("[{\"name\": ")
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body = serde_json::from_str(&resp.text().await.unwrap()).unwrap_or(Value::Null);
        Got {
            status,
            location: None,
            body,
        }
    }

    async fn user_id(&self, t: &str, name: &str) -> String {
        let g = self
            .get(&format!("/acme/users?username={name}&exact=true"), t)
            .await;
        assert_eq!(g.status, 200, "{}", g.body);
        g.body[0]["id"].as_str().unwrap().to_string()
    }

    async fn client_uuid(&self, t: &str, client_id: &str) -> String {
        let g = self
            .get(&format!("/acme/clients?clientId={client_id}"), t)
            .await;
        assert_eq!(g.status, 200, "{}", g.body);
        g.body[0]["id"].as_str().unwrap().to_string()
    }

    async fn group_id(&self, t: &str, name: &str) -> String {
        let g = self
            .get(&format!("/acme/groups?search={name}&exact=true"), t)
            .await;
        assert_eq!(g.status, 200, "{}", g.body);
        fn find(v: &Value, name: &str) -> Option<String> {
            for g in v.as_array()? {
                if g["name"] == name {
                    return g["id"].as_str().map(str::to_owned);
                }
                if let Some(found) = find(&g["subGroups"], name) {
                    return Some(found);
                }
            }
            None
        }
        find(&g.body, name).unwrap()
    }

    /// A role representation (with id) by path.
    async fn role(&self, t: &str, path: &str) -> Value {
        let g = self.get(path, t).await;
        assert_eq!(g.status, 200, "{path}: {}", g.body);
        g.body
    }
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Sorted `resource_access.{client}.roles` of a token response.
fn client_roles_in(body: &Value, client: &str) -> Vec<String> {
    let c = claims(body["access_token"].as_str().unwrap());
    let mut v: Vec<String> = c["resource_access"][client]["roles"]
        .as_array()
        .map(|a| a.iter().map(|r| r.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Sorted `realm_access.roles` of a token response.
fn realm_roles_in(body: &Value) -> Vec<String> {
    let c = claims(body["access_token"].as_str().unwrap());
    let mut v: Vec<String> = c["realm_access"]["roles"]
        .as_array()
        .map(|a| a.iter().map(|r| r.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("array expected: {v}"))
        .iter()
        .map(|x| x[key].as_str().unwrap().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn client_roles_crud_rights_and_errors() {
    let env = start();
    let t = env.boss().await;
    let api = env.client_uuid(&t, "api").await;
    let roles = format!("/acme/clients/{api}/roles");

    let list = env.get(&roles, &t).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(names(&list.body, "name"), ["read", "write"]);
    assert_eq!(list.body[0]["clientRole"], true);
    assert_eq!(list.body[0]["containerId"], api.as_str());
    assert!(list.body[0].get("attributes").is_none(), "brief by default");

    // Create: 201 + Location; duplicate 409; bad name 400; malformed JSON 400.
    let created = env
        .post(
            &roles,
            &t,
            json!({"name": "admin", "description": "All of it",
                                "attributes": {"level": ["9"]}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.location.as_deref(),
        Some(
            env.admin(&format!("/acme/clients/{api}/roles/admin"))
                .as_str()
        )
    );
    let dup = env.post(&roles, &t, json!({"name": "admin"})).await;
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.body,
        json!({"errorMessage": "Role with name admin already exists"})
    );
    assert_eq!(env.post(&roles, &t, json!({"name": " "})).await.status, 400);
    let bad = env.broken("POST", &roles, &t).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["errorMessage"].is_string(), "{}", bad.body);

    // Read, search, page.
    let admin = env.role(&t, &format!("{roles}/admin")).await;
    assert_eq!(admin["description"], "All of it");
    assert_eq!(admin["attributes"]["level"], json!(["9"]));
    assert_eq!(admin["composite"], false);
    let found = env.get(&format!("{roles}?search=RIT"), &t).await;
    assert_eq!(names(&found.body, "name"), ["write"]);
    let page = env.get(&format!("{roles}?first=1&max=1"), &t).await;
    assert_eq!(names(&page.body, "name"), ["read"]);
    let full = env
        .get(&format!("{roles}?briefRepresentation=false"), &t)
        .await;
    assert!(full.body[0].get("attributes").is_some());

    // Update (rename) with 409 on a taken name.
    let upd = env
        .put(
            &format!("{roles}/admin"),
            &t,
            json!({"name": "boss", "description": "d"}),
        )
        .await;
    assert_eq!(upd.status, 204, "{}", upd.body);
    assert_eq!(env.get(&format!("{roles}/admin"), &t).await.status, 404);
    let clash = env
        .put(&format!("{roles}/boss"), &t, json!({"name": "read"}))
        .await;
    assert_eq!(clash.status, 409);

    // roles-by-id: read, change, delete a client role and a realm role.
    let boss_role = env.role(&t, &format!("{roles}/boss")).await;
    let id = boss_role["id"].as_str().unwrap();
    let by_id = format!("/acme/roles-by-id/{id}");
    assert_eq!(env.get(&by_id, &t).await.body["name"], "boss");
    let upd = env.put(&by_id, &t, json!({"description": "changed"})).await;
    assert_eq!(upd.status, 204);
    assert_eq!(env.get(&by_id, &t).await.body["description"], "changed");
    assert_eq!(env.broken("PUT", &by_id, &t).await.status, 400);
    assert_eq!(env.delete(&by_id, &t).await.status, 204);
    let gone = env.get(&by_id, &t).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body, json!({"error": "Could not find role with id"}));
    assert_eq!(env.delete(&by_id, &t).await.status, 404);
    assert_eq!(
        env.put(&by_id, &t, json!({"description": "x"}))
            .await
            .status,
        404
    );
    let realm_role = env.post("/acme/roles", &t, json!({"name": "temp"})).await;
    assert_eq!(realm_role.status, 201);
    let temp = env.role(&t, "/acme/roles/temp").await;
    let temp_by_id = format!("/acme/roles-by-id/{}", temp["id"].as_str().unwrap());
    assert_eq!(
        env.put(&temp_by_id, &t, json!({"name": "viewer"}))
            .await
            .status,
        409
    );
    assert_eq!(env.delete(&temp_by_id, &t).await.status, 204);
    let default_role = env.role(&t, "/acme/roles/default-roles-acme").await;
    let refused = env
        .delete(
            &format!("/acme/roles-by-id/{}", default_role["id"].as_str().unwrap()),
            &t,
        )
        .await;
    assert_eq!(refused.status, 400);

    // 404s: unknown client, unknown role.
    let nowhere = env.get("/acme/clients/nope/roles", &t).await;
    assert_eq!(nowhere.status, 404);
    assert_eq!(nowhere.body, json!({"error": "Could not find client"}));
    assert_eq!(
        env.post("/acme/clients/nope/roles", &t, json!({"name": "x"}))
            .await
            .status,
        404
    );
    let missing = env.get(&format!("{roles}/nope"), &t).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, json!({"error": "Could not find role"}));
    assert_eq!(
        env.put(&format!("{roles}/nope"), &t, json!({}))
            .await
            .status,
        404
    );
    assert_eq!(env.delete(&format!("{roles}/nope"), &t).await.status, 404);

    // Rights: 401 without a token; view-clients reads but cannot write; manage-clients writes;
    // view-users reads nothing of a client's roles.
    assert_eq!(env.call("GET", &roles, None, None).await.status, 401);
    let cw = env.acme("clientwatch").await;
    assert_eq!(env.get(&format!("{roles}/read"), &cw).await.status, 200);
    assert_eq!(
        env.post(&roles, &cw, json!({"name": "x"})).await.status,
        403
    );
    assert_eq!(env.delete(&format!("{roles}/read"), &cw).await.status, 403);
    let watcher = env.acme("watcher").await;
    assert_eq!(
        env.get(&format!("{roles}/read"), &watcher).await.status,
        403
    );
    let plain = env.acme("plain").await;
    assert_eq!(env.get(&roles, &plain).await.status, 403);
    let cb = env.acme("clientboss").await;
    let created = env.post(&roles, &cb, json!({"name": "made-by-cb"})).await;
    assert_eq!(created.status, 201);
    assert_eq!(
        env.delete(&format!("{roles}/made-by-cb"), &cb).await.status,
        204
    );
    // A realm role is not a client administrator's to change.
    let editor = env.role(&t, "/acme/roles/editor").await;
    assert_eq!(
        env.delete(
            &format!("/acme/roles-by-id/{}", editor["id"].as_str().unwrap()),
            &cb
        )
        .await
        .status,
        403
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn composites_refuse_cycles_and_reach_tokens() {
    let env = start();
    let t = env.boss().await;
    let api = env.client_uuid(&t, "api").await;
    let roles = format!("/acme/clients/{api}/roles");
    assert_eq!(
        env.post(&roles, &t, json!({"name": "admin"})).await.status,
        201
    );
    let read = env.role(&t, &format!("{roles}/read")).await;
    let write = env.role(&t, &format!("{roles}/write")).await;
    let admin = env.role(&t, &format!("{roles}/admin")).await;
    let viewer = env.role(&t, "/acme/roles/viewer").await;
    let editor = env.role(&t, "/acme/roles/editor").await;

    // Client role composite by name: api/admin = {read, write, realm viewer}.
    let comp = format!("{roles}/admin/composites");
    let added = env
        .post(
            &comp,
            &t,
            json!([read.clone(), {"id": write["id"]}, {"name": "viewer"}]),
        )
        .await;
    assert_eq!(added.status, 204, "{}", added.body);
    let all = env.get(&comp, &t).await;
    assert_eq!(names(&all.body, "name"), ["viewer", "read", "write"]);
    assert_eq!(
        names(&env.get(&format!("{comp}/realm"), &t).await.body, "name"),
        ["viewer"]
    );
    assert_eq!(
        names(
            &env.get(&format!("{comp}/clients/{api}"), &t).await.body,
            "name"
        ),
        ["read", "write"]
    );
    assert_eq!(
        env.get(&format!("{comp}/clients/nope"), &t).await.status,
        404
    );
    assert_eq!(
        env.role(&t, &format!("{roles}/admin")).await["composite"],
        true
    );

    // The same through roles-by-id and the realm role's name.
    let admin_id = admin["id"].as_str().unwrap();
    let by_id = format!("/acme/roles-by-id/{admin_id}/composites");
    assert_eq!(env.get(&by_id, &t).await.body.as_array().unwrap().len(), 3);
    assert_eq!(
        names(&env.get(&format!("{by_id}/realm"), &t).await.body, "name"),
        ["viewer"]
    );
    assert_eq!(
        names(
            &env.get(&format!("{by_id}/clients/{api}"), &t).await.body,
            "name"
        ),
        ["read", "write"]
    );
    assert_eq!(
        names(
            &env.get("/acme/roles/editor/composites", &t).await.body,
            "name"
        ),
        ["viewer"]
    );
    assert_eq!(
        env.get("/acme/roles/editor/composites/realm", &t)
            .await
            .body,
        env.get("/acme/roles/editor/composites", &t).await.body
    );
    assert_eq!(
        env.get(&format!("/acme/roles/editor/composites/clients/{api}"), &t)
            .await
            .body,
        json!([])
    );

    // Cycles: itself, and a member that already contains the role. 400, nothing changed.
    let own = env.post(&comp, &t, json!([admin.clone()])).await;
    assert_eq!(own.status, 400);
    assert!(
        own.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("cannot be a composite of itself"),
        "{}",
        own.body
    );
    let (viewer_id, editor_id) = (
        viewer["id"].as_str().unwrap(),
        editor["id"].as_str().unwrap(),
    );
    let cycle = env
        .post(
            &format!("/acme/roles-by-id/{viewer_id}/composites"),
            &t,
            json!([{"id": write["id"]}, {"id": editor_id}]),
        )
        .await;
    assert_eq!(cycle.status, 400);
    assert!(
        cycle.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("cycle"),
        "{}",
        cycle.body
    );
    assert_eq!(
        env.get("/acme/roles/viewer/composites", &t).await.body,
        json!([])
    );
    // viewer <- editor, viewer <- api/admin: making viewer contain api/admin is a cycle too.
    let cycle = env
        .post(
            "/acme/roles/viewer/composites",
            &t,
            json!([{"id": admin_id}]),
        )
        .await;
    assert_eq!(cycle.status, 400);

    // Unknown roles, malformed bodies, unknown containers.
    let unknown = env.post(&comp, &t, json!([{"id": "nope"}])).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.body,
        json!({"error": "Could not find composite role"})
    );
    assert_eq!(env.broken("POST", &comp, &t).await.status, 400);
    assert_eq!(env.get("/acme/roles/nope/composites", &t).await.status, 404);
    assert_eq!(
        env.post("/acme/clients/nope/roles/admin/composites", &t, json!([]))
            .await
            .status,
        404
    );
    assert_eq!(
        env.get("/acme/roles-by-id/nope/composites", &t)
            .await
            .status,
        404
    );

    // A user in a group mapped to the composite client role gets its members in the token.
    let staff = env.group_id(&t, "staff").await;
    let ops = env.group_id(&t, "ops").await;
    let alice = env.user_id(&t, "alice").await;
    let mapped = env
        .post(
            &format!("/acme/groups/{staff}/role-mappings/clients/{api}"),
            &t,
            json!([admin.clone()]),
        )
        .await;
    assert_eq!(mapped.status, 204, "{}", mapped.body);
    // alice is in the sub-group: the parent's roles reach her too.
    assert_eq!(
        env.call(
            "PUT",
            &format!("/acme/users/{alice}/groups/{ops}"),
            Some(&t),
            None
        )
        .await
        .status,
        204
    );
    let (s, body) = env.login("acme", "app", "alice", "alice-pw").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(client_roles_in(&body, "api"), ["admin", "read", "write"]);
    assert!(realm_roles_in(&body).contains(&"viewer".to_string()));

    // Taking a member out of the composite shows in the next token at once.
    let removed = env
        .delete_with(&by_id, &t, json!([{"id": write["id"]}]))
        .await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    let (_, body) = env.login("acme", "app", "alice", "alice-pw").await;
    assert_eq!(client_roles_in(&body, "api"), ["admin", "read"]);
    // And adding one through the realm role's path too.
    let added = env
        .post("/acme/roles/viewer/composites", &t, json!([write.clone()]))
        .await;
    assert_eq!(added.status, 204, "{}", added.body);
    let (_, body) = env.login("acme", "app", "alice", "alice-pw").await;
    assert_eq!(client_roles_in(&body, "api"), ["admin", "read", "write"]);
    let removed = env
        .delete_with("/acme/roles/viewer/composites", &t, json!([write.clone()]))
        .await;
    assert_eq!(removed.status, 204);

    // Rights: view-clients reads a client role's composites but cannot change them;
    // manage-users alone cannot touch composites; no token is 401.
    assert_eq!(env.call("GET", &comp, None, None).await.status, 401);
    let cw = env.acme("clientwatch").await;
    assert_eq!(env.get(&comp, &cw).await.status, 200);
    assert_eq!(
        env.post(&comp, &cw, json!([read.clone()])).await.status,
        403
    );
    let manager = env.acme("manager").await;
    assert_eq!(
        env.post(
            "/acme/roles/editor/composites",
            &manager,
            json!([read.clone()])
        )
        .await
        .status,
        403
    );
    // A client administrator cannot make a role it edits carry administration rights.
    let cb = env.acme("clientboss").await;
    let rm = env.client_uuid(&t, "realm-management").await;
    let realm_admin = env
        .role(&t, &format!("/acme/clients/{rm}/roles/realm-admin"))
        .await;
    assert_eq!(env.post(&comp, &cb, json!([realm_admin])).await.status, 403);
    assert_eq!(
        env.post(&comp, &cb, json!([write.clone()])).await.status,
        204
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn role_holders_are_paged() {
    let env = start();
    let t = env.boss().await;
    let api = env.client_uuid(&t, "api").await;
    let read = env
        .role(&t, &format!("/acme/clients/{api}/roles/read"))
        .await;
    for name in ["alice", "bob", "plain"] {
        let id = env.user_id(&t, name).await;
        assert_eq!(
            env.post(
                &format!("/acme/users/{id}/role-mappings/realm"),
                &t,
                json!([{"name": "editor"}])
            )
            .await
            .status,
            204
        );
        assert_eq!(
            env.post(
                &format!("/acme/users/{id}/role-mappings/clients/{api}"),
                &t,
                json!([read.clone()])
            )
            .await
            .status,
            204
        );
    }
    let staff = env.group_id(&t, "staff").await;
    let audit = env.group_id(&t, "audit").await;
    for g in [&staff, &audit] {
        assert_eq!(
            env.post(
                &format!("/acme/groups/{g}/role-mappings/realm"),
                &t,
                json!([{"name": "editor"}])
            )
            .await
            .status,
            204
        );
    }

    let users = env.get("/acme/roles/editor/users", &t).await;
    assert_eq!(users.status, 200, "{}", users.body);
    assert_eq!(names(&users.body, "username"), ["alice", "bob", "plain"]);
    let page = env.get("/acme/roles/editor/users?first=1&max=1", &t).await;
    assert_eq!(names(&page.body, "username"), ["bob"]);
    let brief = env
        .get("/acme/roles/editor/users?briefRepresentation=true", &t)
        .await;
    assert_eq!(brief.body.as_array().unwrap().len(), 3);
    // Direct holders only: viewer comes through editor.
    assert_eq!(
        env.get("/acme/roles/viewer/users", &t).await.body,
        json!([])
    );
    assert_eq!(
        env.get("/acme/roles/editor/users?first=-5", &t)
            .await
            .status,
        400
    );

    let groups = env.get("/acme/roles/editor/groups", &t).await;
    assert_eq!(names(&groups.body, "path"), ["/audit", "/staff"]);
    let page = env.get("/acme/roles/editor/groups?first=1&max=5", &t).await;
    assert_eq!(names(&page.body, "name"), ["staff"]);
    let full = env
        .get("/acme/roles/editor/groups?briefRepresentation=false", &t)
        .await;
    assert_eq!(full.body[0]["realmRoles"], json!(["editor"]));

    let cusers = env
        .get(&format!("/acme/clients/{api}/roles/read/users?max=2"), &t)
        .await;
    assert_eq!(names(&cusers.body, "username"), ["alice", "bob"]);
    let cgroups = env
        .get(&format!("/acme/clients/{api}/roles/read/groups"), &t)
        .await;
    assert_eq!(cgroups.status, 200);
    assert_eq!(cgroups.body, json!([]));

    // 404s.
    let missing = env.get("/acme/roles/nope/users", &t).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, json!({"error": "Could not find role"}));
    assert_eq!(env.get("/acme/roles/nope/groups", &t).await.status, 404);
    assert_eq!(
        env.get("/acme/clients/nope/roles/read/users", &t)
            .await
            .status,
        404
    );
    assert_eq!(
        env.get(&format!("/acme/clients/{api}/roles/nope/groups"), &t)
            .await
            .status,
        404
    );

    // Rights: viewing a role's holders needs the role's view right and view-users.
    assert_eq!(
        env.call("GET", "/acme/roles/editor/users", None, None)
            .await
            .status,
        401
    );
    let rw = env.acme("realmwatch").await;
    assert_eq!(env.get("/acme/roles/editor/users", &rw).await.status, 403);
    let watcher = env.acme("watcher").await;
    assert_eq!(
        env.get("/acme/roles/editor/users", &watcher).await.status,
        403
    );
    let t_grant = env
        .post(
            &format!(
                "/acme/users/{}/role-mappings/clients/{}",
                env.user_id(&t, "realmwatch").await,
                env.client_uuid(&t, "realm-management").await
            ),
            &t,
            json!([env
                .role(
                    &t,
                    &format!(
                        "/acme/clients/{}/roles/view-users",
                        env.client_uuid(&t, "realm-management").await
                    )
                )
                .await]),
        )
        .await;
    assert_eq!(t_grant.status, 204, "{}", t_grant.body);
    assert_eq!(env.get("/acme/roles/editor/users", &rw).await.status, 200);
    assert_eq!(env.get("/acme/roles/editor/groups", &rw).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn user_role_mappings_for_clients() {
    let env = start();
    let t = env.boss().await;
    let api = env.client_uuid(&t, "api").await;
    let bob = env.user_id(&t, "bob").await;
    let read = env
        .role(&t, &format!("/acme/clients/{api}/roles/read"))
        .await;
    let write = env
        .role(&t, &format!("/acme/clients/{api}/roles/write"))
        .await;
    let base = format!("/acme/users/{bob}/role-mappings");
    let cm = format!("{base}/clients/{api}");

    let available = env.get(&format!("{cm}/available"), &t).await;
    assert_eq!(available.status, 200, "{}", available.body);
    assert_eq!(names(&available.body, "name"), ["read", "write"]);
    assert_eq!(env.get(&cm, &t).await.body, json!([]));

    // Add by full representation and by name only.
    assert_eq!(env.post(&cm, &t, json!([read.clone()])).await.status, 204);
    assert_eq!(
        env.post(&cm, &t, json!([{"name": "read"}])).await.status,
        204,
        "granting again changes nothing"
    );
    let direct = env.get(&cm, &t).await;
    assert_eq!(names(&direct.body, "name"), ["read"]);
    assert_eq!(
        names(&env.get(&format!("{cm}/available"), &t).await.body, "name"),
        ["write"]
    );
    // Composite: effective client roles, including through a composite and a group.
    let comp = env
        .post(
            &format!("/acme/clients/{api}/roles/read/composites"),
            &t,
            json!([write.clone()]),
        )
        .await;
    assert_eq!(comp.status, 204);
    let eff = env.get(&format!("{cm}/composite"), &t).await;
    assert_eq!(names(&eff.body, "name"), ["read", "write"]);
    assert_eq!(eff.body[0]["composite"], true);
    assert!(eff.body[0].get("attributes").is_none());
    let full = env
        .get(&format!("{cm}/composite?briefRepresentation=false"), &t)
        .await;
    assert!(full.body[0].get("attributes").is_some());
    assert_eq!(
        env.get(&format!("{cm}/available"), &t).await.body,
        json!([])
    );

    // The whole mapping: realm and per-clientId client mappings.
    assert_eq!(
        env.post(&format!("{base}/realm"), &t, json!([{"name": "editor"}]))
            .await
            .status,
        204
    );
    let all = env.get(&base, &t).await;
    assert_eq!(all.status, 200);
    assert!(names(&all.body["realmMappings"], "name").contains(&"editor".to_string()));
    assert_eq!(all.body["clientMappings"]["api"]["id"], api.as_str());
    assert_eq!(all.body["clientMappings"]["api"]["client"], "api");
    assert_eq!(
        names(&all.body["clientMappings"]["api"]["mappings"], "name"),
        ["read"]
    );
    // Realm available: realm roles not held (editor and viewer through it are held).
    let ra = env.get(&format!("{base}/realm/available"), &t).await;
    let ra = names(&ra.body, "name");
    assert!(!ra.contains(&"editor".to_string()), "{ra:?}");
    assert!(!ra.contains(&"viewer".to_string()), "{ra:?}");
    let plain = env.user_id(&t, "plain").await;
    let pa = names(
        &env.get(
            &format!("/acme/users/{plain}/role-mappings/realm/available"),
            &t,
        )
        .await
        .body,
        "name",
    );
    assert!(pa.contains(&"editor".to_string()), "{pa:?}");
    assert!(pa.contains(&"viewer".to_string()), "{pa:?}");

    // The token follows.
    let (s, body) = env.login("acme", "app", "bob", "bob-pw").await;
    assert_eq!(s, 200);
    assert_eq!(client_roles_in(&body, "api"), ["read", "write"]);

    // Errors: unknown role in the body, id not matching the name, another client's role,
    // unknown client, unknown user, malformed JSON.
    let unknown = env.post(&cm, &t, json!([{"name": "nope"}])).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body, json!({"error": "Role not found"}));
    assert_eq!(
        env.post(&cm, &t, json!([{"name": "read", "id": write["id"]}]))
            .await
            .status,
        404
    );
    assert_eq!(
        env.post(
            &cm,
            &t,
            json!([{"id": env.role(&t, "/acme/roles/viewer").await["id"]}])
        )
        .await
        .status,
        404
    );
    assert_eq!(
        env.get(&format!("{base}/clients/nope"), &t).await.status,
        404
    );
    assert_eq!(
        env.get(&format!("{base}/clients/nope/composite"), &t)
            .await
            .status,
        404
    );
    let nouser = env
        .get(&format!("/acme/users/nope/role-mappings/clients/{api}"), &t)
        .await;
    assert_eq!(nouser.status, 404);
    assert_eq!(nouser.body, json!({"error": "User not found"}));
    assert_eq!(env.broken("POST", &cm, &t).await.status, 400);

    // Remove.
    assert_eq!(
        env.delete_with(&cm, &t, json!([read.clone()])).await.status,
        204
    );
    assert_eq!(env.get(&cm, &t).await.body, json!([]));
    let (_, body) = env.login("acme", "app", "bob", "bob-pw").await;
    assert_eq!(client_roles_in(&body, "api"), Vec::<String>::new());

    // Rights: view-users reads, manage-users maps; plain users nothing; no token 401; a
    // user administrator cannot hand out realm-management roles it lacks.
    assert_eq!(env.call("GET", &cm, None, None).await.status, 401);
    let watcher = env.acme("watcher").await;
    assert_eq!(env.get(&cm, &watcher).await.status, 200);
    assert_eq!(
        env.get(&format!("{cm}/available"), &watcher).await.status,
        200
    );
    assert_eq!(
        env.post(&cm, &watcher, json!([read.clone()])).await.status,
        403
    );
    let plain_t = env.acme("plain").await;
    assert_eq!(env.get(&cm, &plain_t).await.status, 403);
    let manager = env.acme("manager").await;
    assert_eq!(
        env.post(&cm, &manager, json!([read.clone()])).await.status,
        204
    );
    let rm = env.client_uuid(&t, "realm-management").await;
    let manage_realm = env
        .role(&t, &format!("/acme/clients/{rm}/roles/manage-realm"))
        .await;
    assert_eq!(
        env.post(
            &format!("{base}/clients/{rm}"),
            &manager,
            json!([manage_realm])
        )
        .await
        .status,
        403
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn group_role_mappings_all_paths() {
    let env = start();
    let t = env.boss().await;
    let api = env.client_uuid(&t, "api").await;
    let staff = env.group_id(&t, "staff").await;
    let ops = env.group_id(&t, "ops").await;
    let base = format!("/acme/groups/{staff}/role-mappings");
    let ops_base = format!("/acme/groups/{ops}/role-mappings");

    assert_eq!(env.get(&base, &t).await.body, json!({}));
    let avail = names(
        &env.get(&format!("{base}/realm/available"), &t).await.body,
        "name",
    );
    assert!(avail.contains(&"editor".to_string()), "{avail:?}");

    // Realm mappings.
    let added = env
        .post(&format!("{base}/realm"), &t, json!([{"name": "editor"}]))
        .await;
    assert_eq!(added.status, 204, "{}", added.body);
    assert_eq!(
        names(&env.get(&format!("{base}/realm"), &t).await.body, "name"),
        ["editor"]
    );
    assert_eq!(
        sorted(names(
            &env.get(&format!("{base}/realm/composite"), &t).await.body,
            "name"
        )),
        ["editor", "viewer"]
    );
    let avail = names(
        &env.get(&format!("{base}/realm/available"), &t).await.body,
        "name",
    );
    assert!(!avail.contains(&"editor".to_string()), "{avail:?}");
    assert!(!avail.contains(&"viewer".to_string()), "{avail:?}");
    // A sub-group has them through its parent (composite), not directly.
    assert_eq!(
        env.get(&format!("{ops_base}/realm"), &t).await.body,
        json!([])
    );
    assert_eq!(
        sorted(names(
            &env.get(&format!("{ops_base}/realm/composite"), &t)
                .await
                .body,
            "name"
        )),
        ["editor", "viewer"]
    );

    // Client mappings.
    let cm = format!("{base}/clients/{api}");
    assert_eq!(
        names(&env.get(&format!("{cm}/available"), &t).await.body, "name"),
        ["read", "write"]
    );
    assert_eq!(
        env.post(&cm, &t, json!([{"name": "write"}])).await.status,
        204
    );
    assert_eq!(names(&env.get(&cm, &t).await.body, "name"), ["write"]);
    assert_eq!(
        names(&env.get(&format!("{cm}/composite"), &t).await.body, "name"),
        ["write"]
    );
    assert_eq!(
        names(&env.get(&format!("{cm}/available"), &t).await.body, "name"),
        ["read"]
    );
    assert_eq!(
        names(
            &env.get(&format!("{ops_base}/clients/{api}/composite"), &t)
                .await
                .body,
            "name"
        ),
        ["write"]
    );
    let all = env.get(&base, &t).await;
    assert_eq!(names(&all.body["realmMappings"], "name"), ["editor"]);
    assert_eq!(
        names(&all.body["clientMappings"]["api"]["mappings"], "name"),
        ["write"]
    );

    // Members' tokens follow at once (claim caches dropped).
    let bob = env.user_id(&t, "bob").await;
    let (_, before) = env.login("acme", "app", "bob", "bob-pw").await;
    assert!(!realm_roles_in(&before).contains(&"editor".to_string()));
    assert_eq!(
        env.call(
            "PUT",
            &format!("/acme/users/{bob}/groups/{ops}"),
            Some(&t),
            None
        )
        .await
        .status,
        204
    );
    let (_, body) = env.login("acme", "app", "bob", "bob-pw").await;
    assert!(realm_roles_in(&body).contains(&"editor".to_string()));
    assert_eq!(client_roles_in(&body, "api"), ["write"]);
    // bob's claims are now cached; a change to the group's mappings must still show.
    assert_eq!(
        env.delete_with(&cm, &t, json!([{"name": "write"}]))
            .await
            .status,
        204
    );
    assert_eq!(
        env.delete_with(&format!("{base}/realm"), &t, json!([{"name": "editor"}]))
            .await
            .status,
        204
    );
    let (_, body) = env.login("acme", "app", "bob", "bob-pw").await;
    assert!(!realm_roles_in(&body).contains(&"editor".to_string()));
    assert_eq!(client_roles_in(&body, "api"), Vec::<String>::new());
    assert_eq!(env.get(&base, &t).await.body, json!({}));

    // Errors.
    let nogroup = env.get("/acme/groups/nope/role-mappings", &t).await;
    assert_eq!(nogroup.status, 404);
    assert_eq!(nogroup.body, json!({"error": "Could not find group by id"}));
    assert_eq!(
        env.post("/acme/groups/nope/role-mappings/realm", &t, json!([]))
            .await
            .status,
        404
    );
    assert_eq!(
        env.get(&format!("{base}/clients/nope/available"), &t)
            .await
            .status,
        404
    );
    assert_eq!(
        env.post(&format!("{base}/realm"), &t, json!([{"name": "nope"}]))
            .await
            .status,
        404
    );
    assert_eq!(
        env.broken("DELETE", &format!("{base}/realm"), &t)
            .await
            .status,
        400
    );

    // Rights.
    assert_eq!(env.call("GET", &base, None, None).await.status, 401);
    let watcher = env.acme("watcher").await;
    assert_eq!(env.get(&base, &watcher).await.status, 200);
    assert_eq!(
        env.post(
            &format!("{base}/realm"),
            &watcher,
            json!([{"name": "viewer"}])
        )
        .await
        .status,
        403
    );
    let cw = env.acme("clientwatch").await;
    assert_eq!(env.get(&format!("{base}/realm"), &cw).await.status, 403);
    let manager = env.acme("manager").await;
    assert_eq!(
        env.post(
            &format!("{base}/realm"),
            &manager,
            json!([{"name": "viewer"}])
        )
        .await
        .status,
        204
    );
    // Giving a group a management role the caller lacks is refused.
    let rm = env.client_uuid(&t, "realm-management").await;
    assert_eq!(
        env.post(
            &format!("{base}/clients/{rm}"),
            &manager,
            json!([{"name": "realm-admin"}])
        )
        .await
        .status,
        403
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_listed_without_secrets_and_deleted() {
    let env = start();
    let t = env.boss().await;
    let alice = env.user_id(&t, "alice").await;
    let path = format!("/acme/users/{alice}/credentials");
    let list = env.get(&path, &t).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let creds = list.body.as_array().unwrap();
    assert_eq!(creds.len(), 1);
    let c = &creds[0];
    assert_eq!(c["type"], "password");
    assert!(c["id"].is_string());
    assert!(c["createdDate"].is_i64());
    let data: Value = serde_json::from_str(c["credentialData"].as_str().unwrap()).unwrap();
    assert!(data.get("algorithm").is_some(), "{data}");
    assert!(c.get("secretData").is_none());
    let text = list.body.to_string();
    assert!(
        !text.contains("salt") && !text.contains("\"value\""),
        "{text}"
    );

    // Rights: view-users lists, cannot delete; no token 401; plain users nothing.
    assert_eq!(env.call("GET", &path, None, None).await.status, 401);
    let watcher = env.acme("watcher").await;
    assert_eq!(env.get(&path, &watcher).await.status, 200);
    let id = c["id"].as_str().unwrap();
    assert_eq!(
        env.delete(&format!("{path}/{id}"), &watcher).await.status,
        403
    );
    let plain = env.acme("plain").await;
    assert_eq!(env.get(&path, &plain).await.status, 403);

    // 404s, then the deletion: the password no longer logs in.
    let missing = env.delete(&format!("{path}/nope"), &t).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, json!({"error": "Credential not found"}));
    let bob = env.user_id(&t, "bob").await;
    assert_eq!(
        env.delete(&format!("/acme/users/{bob}/credentials/{id}"), &t)
            .await
            .status,
        404,
        "another user's credential"
    );
    assert_eq!(
        env.get("/acme/users/nope/credentials", &t).await.status,
        404
    );
    let manager = env.acme("manager").await;
    assert_eq!(
        env.delete(&format!("{path}/{id}"), &manager).await.status,
        204
    );
    assert_eq!(env.get(&path, &t).await.body, json!([]));
    let (s, _) = env.login("acme", "app", "alice", "alice-pw").await;
    assert_eq!(s, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_listed_ended_and_refresh_refused() {
    let env = start();
    let t = env.boss().await;
    let alice = env.user_id(&t, "alice").await;
    let app = env.client_uuid(&t, "app").await;
    let api = env.client_uuid(&t, "api").await;

    let (_, a1) = env.login("acme", "app", "alice", "alice-pw").await;
    let (_, a2) = env.login("acme", "api", "alice", "alice-pw").await;
    let (_, b1) = env.login("acme", "app", "bob", "bob-pw").await;
    let sid1 = a1["session_state"].as_str().unwrap().to_string();
    let sid2 = a2["session_state"].as_str().unwrap().to_string();
    assert_ne!(sid1, sid2, "two logins, two sessions");

    let sessions = env.get(&format!("/acme/users/{alice}/sessions"), &t).await;
    assert_eq!(sessions.status, 200, "{}", sessions.body);
    let list = sessions.body.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let first = list.iter().find(|s| s["id"] == sid1.as_str()).unwrap();
    assert_eq!(first["username"], "alice");
    assert_eq!(first["userId"], alice.as_str());
    assert_eq!(first["clients"], json!({ app.clone(): "app" }));
    assert!(
        first["start"].as_i64().unwrap() > 1_000_000_000_000,
        "milliseconds"
    );
    assert!(first["lastAccess"].as_i64().unwrap() >= first["start"].as_i64().unwrap());
    assert_eq!(first["rememberMe"], false);
    assert!(first["ipAddress"].is_string(), "{first}");

    // A client's sessions, paged; counts; the realm's statistics.
    let of_app = env
        .get(&format!("/acme/clients/{app}/user-sessions"), &t)
        .await;
    assert_eq!(of_app.status, 200);
    assert_eq!(sorted(names(&of_app.body, "username")), ["alice", "bob"]);
    let page = env
        .get(
            &format!("/acme/clients/{app}/user-sessions?first=1&max=1"),
            &t,
        )
        .await;
    assert_eq!(page.body.as_array().unwrap().len(), 1);
    assert_eq!(
        env.get(&format!("/acme/clients/{app}/session-count"), &t)
            .await
            .body,
        json!({"count": 2})
    );
    assert_eq!(
        env.get(&format!("/acme/clients/{api}/session-count"), &t)
            .await
            .body,
        json!({"count": 1})
    );
    let stats = env.get("/acme/client-session-stats", &t).await;
    assert_eq!(stats.status, 200);
    let mut rows: Vec<(String, String, String)> = stats
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["offline"], "0");
            (
                r["clientId"].as_str().unwrap().to_string(),
                r["id"].as_str().unwrap().to_string(),
                r["active"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("api".to_string(), api.clone(), "1".to_string()),
            ("app".to_string(), app.clone(), "2".to_string())
        ]
    );
    assert_eq!(
        env.get("/acme/clients/nope/user-sessions", &t).await.status,
        404
    );
    assert_eq!(
        env.get("/acme/clients/nope/session-count", &t).await.status,
        404
    );
    assert_eq!(env.get("/acme/users/nope/sessions", &t).await.status, 404);

    // Rights before anything ends.
    assert_eq!(
        env.call("GET", &format!("/acme/users/{alice}/sessions"), None, None)
            .await
            .status,
        401
    );
    let watcher = env.acme("watcher").await;
    assert_eq!(
        env.get(&format!("/acme/users/{alice}/sessions"), &watcher)
            .await
            .status,
        200
    );
    assert_eq!(
        env.call(
            "POST",
            &format!("/acme/users/{alice}/logout"),
            Some(&watcher),
            None
        )
        .await
        .status,
        403
    );
    assert_eq!(
        env.delete(&format!("/acme/sessions/{sid1}"), &watcher)
            .await
            .status,
        403
    );
    assert_eq!(
        env.call("POST", "/acme/logout-all", Some(&watcher), None)
            .await
            .status,
        403
    );
    assert_eq!(
        env.get("/acme/client-session-stats", &watcher).await.status,
        403
    );
    let rw = env.acme("realmwatch").await;
    assert_eq!(env.get("/acme/client-session-stats", &rw).await.status, 200);
    let cw = env.acme("clientwatch").await;
    assert_eq!(
        env.get(&format!("/acme/clients/{app}/user-sessions"), &cw)
            .await
            .status,
        200
    );
    assert_eq!(
        env.get(&format!("/acme/users/{alice}/sessions"), &cw)
            .await
            .status,
        403
    );

    // Refresh works before, not after the session is deleted.
    let (s, _) = env
        .refresh("app", a1["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(s, 200);
    let del = env.delete(&format!("/acme/sessions/{sid1}"), &t).await;
    assert_eq!(del.status, 204, "{}", del.body);
    let (s, body) = env
        .refresh("app", a1["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    let again = env.delete(&format!("/acme/sessions/{sid1}"), &t).await;
    assert_eq!(again.status, 404);
    assert_eq!(again.body, json!({"error": "Sesssion not found"}));

    // Logging the user out ends the other session too.
    let manager = env.acme("manager").await;
    let out = env
        .call(
            "POST",
            &format!("/acme/users/{alice}/logout"),
            Some(&manager),
            None,
        )
        .await;
    assert_eq!(out.status, 204, "{}", out.body);
    let (s, body) = env
        .refresh("api", a2["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(
        env.get(&format!("/acme/users/{alice}/sessions"), &t)
            .await
            .body,
        json!([])
    );
    assert_eq!(
        env.call("POST", "/acme/users/nope/logout", Some(&t), None)
            .await
            .status,
        404
    );
    // A fresh login works after the logout.
    let (s, _) = env.login("acme", "app", "alice", "alice-pw").await;
    assert_eq!(s, 200);

    // Logout-all: every session of the realm, Keycloak's GlobalRequestResult body.
    let (s, _) = env
        .refresh("app", b1["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(s, 200);
    let all = env
        .call("POST", "/acme/logout-all", Some(&manager), None)
        .await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body, json!({}));
    let (s, _) = env
        .refresh("app", b1["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        env.get(&format!("/acme/clients/{app}/session-count"), &t)
            .await
            .body,
        json!({"count": 0})
    );
    assert_eq!(
        env.get("/acme/client-session-stats", &t).await.body,
        json!([])
    );
    // The manager's own session was one of them: its token no longer works.
    assert_eq!(
        env.get(&format!("/acme/users/{alice}/sessions"), &manager)
            .await
            .status,
        401
    );
}

/// The main paths once more on PostgreSQL: a composite client role through a group reaches the
/// token, a cycle is refused, a user's logout ends its refresh token.
#[tokio::test(flavor = "multi_thread")]
async fn the_role_journey_works_on_postgresql() {
    let (jdbc, _schema) = pg_jdbc_with_fresh_schema();
    let env = start_with(&[
        "--db=postgres".to_string(),
        format!("--db-url={jdbc}"),
        "--db-username=postgres".to_string(),
    ]);
    let t = env.boss().await;
    let api = env.client_uuid(&t, "api").await;
    let roles = format!("/acme/clients/{api}/roles");
    assert_eq!(
        env.post(&roles, &t, json!({"name": "admin"})).await.status,
        201
    );
    assert_eq!(
        env.post(&roles, &t, json!({"name": "admin"})).await.status,
        409
    );
    let read = env.role(&t, &format!("{roles}/read")).await;
    let admin = env.role(&t, &format!("{roles}/admin")).await;
    let comp = format!("{roles}/admin/composites");
    assert_eq!(env.post(&comp, &t, json!([read])).await.status, 204);
    let cycle = env
        .post(
            &format!("{roles}/read/composites"),
            &t,
            json!([admin.clone()]),
        )
        .await;
    assert_eq!(cycle.status, 400, "{}", cycle.body);
    let audit = env.group_id(&t, "audit").await;
    assert_eq!(
        env.post(
            &format!("/acme/groups/{audit}/role-mappings/clients/{api}"),
            &t,
            json!([admin])
        )
        .await
        .status,
        204
    );
    let bob = env.user_id(&t, "bob").await;
    assert_eq!(
        env.call(
            "PUT",
            &format!("/acme/users/{bob}/groups/{audit}"),
            Some(&t),
            None
        )
        .await
        .status,
        204
    );
    let (s, body) = env.login("acme", "app", "bob", "bob-pw").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(client_roles_in(&body, "api"), ["admin", "read"]);
    let holders = env.get(&format!("{roles}/admin/groups"), &t).await;
    assert_eq!(names(&holders.body, "name"), ["audit"]);
    let sessions = env.get(&format!("/acme/users/{bob}/sessions"), &t).await;
    assert_eq!(sessions.body.as_array().unwrap().len(), 1);
    assert_eq!(
        env.call("POST", &format!("/acme/users/{bob}/logout"), Some(&t), None)
            .await
            .status,
        204
    );
    let (s, _) = env
        .refresh("app", body["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(s, 400);
    let creds = env.get(&format!("/acme/users/{bob}/credentials"), &t).await;
    assert_eq!(creds.body[0]["type"], "password");
}
