//! The admin REST API against the real server: users, groups, realm roles and role mappings
//! with Keycloak's paths, bodies, status codes and headers; every authorization decision
//! (401 without or with a dead token, 403 without the role, 403 across realms, no handing out
//! of administration rights one does not hold); bad input (400, 404, 409, 413, 415); and
//! changes reaching freshly issued tokens at once (`realm_access.roles`, `groups`), which
//! proves the read caches are invalidated. Checklist items ADM-1, ADM-2, ADM-3.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

const BOSS: (&str, &str) = ("boss", "b0ss-pw");

fn acme_realm() -> String {
    json!({
        "realm": "acme",
        "enabled": true,
        "roles": {"realm": [{"name": "editor", "description": "Edits"}]},
        "clients": [{
            "clientId": "app", "publicClient": true, "directAccessGrantsEnabled": true,
            "redirectUris": ["https://app.example/cb"],
            "protocolMappers": [{
                "name": "groups", "protocol": "openid-connect",
                "protocolMapper": "oidc-group-membership-mapper",
                "config": {"claim.name": "groups", "full.path": "true",
                           "access.token.claim": "true", "id.token.claim": "true"}
            }]
        }],
        "groups": [
            {"name": "power", "clientRoles": {"realm-management": ["realm-admin"]}},
            {"name": "staff", "realmRoles": ["editor"]}
        ],
        "users": [
            {"username": "alice", "enabled": true, "email": "alice@example.com",
             "firstName": "Alice", "lastName": "Liddell",
             "credentials": [{"type": "password", "value": "alice-pw"}]},
            {"username": "manager", "enabled": true,
             "clientRoles": {"realm-management": ["manage-users"]},
             "credentials": [{"type": "password", "value": "manager-pw"}]},
            {"username": "watcher", "enabled": true,
             "clientRoles": {"realm-management": ["view-users"]},
             "credentials": [{"type": "password", "value": "watcher-pw"}]},
            {"username": "realmboss", "enabled": true,
             "clientRoles": {"realm-management": ["realm-admin"]},
             "credentials": [{"type": "password", "value": "realmboss-pw"}]}
        ]
    })
    .to_string()
}

fn other_realm() -> String {
    json!({
        "realm": "other",
        "enabled": true,
        "users": [
            {"username": "oadmin", "enabled": true,
             "clientRoles": {"realm-management": ["realm-admin"]},
             "credentials": [{"type": "password", "value": "oadmin-pw"}]}
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

fn start_with(extra: &[String]) -> Env {
    start_with_env(extra, &[])
}

fn start_with_env(extra: &[String], env: &[(&str, &str)]) -> Env {
    let w = Workdir::new();
    w.write("data/import/acme-realm.json", &acme_realm());
    w.write("data/import/other-realm.json", &other_realm());
    let mut args = vec![
        "start-dev".to_string(),
        "--import-realm".to_string(),
        "--http-relative-path=/auth".to_string(),
    ];
    args.extend(extra.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut vars = vec![
        ("KC_BOOTSTRAP_ADMIN_USERNAME", BOSS.0),
        ("KC_BOOTSTRAP_ADMIN_PASSWORD", BOSS.1),
    ];
    vars.extend_from_slice(env);
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

fn start() -> Env {
    start_with(&[])
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

    /// A password-grant token response (status, body).
    async fn login(&self, realm: &str, client: &str, user: &str, pw: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!(
                "{}/auth/realms/{realm}/protocol/openid-connect/token",
                self.origin
            ))
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

    /// An access token (password grant on `admin-cli`).
    async fn token(&self, realm: &str, user: &str, pw: &str) -> String {
        let (s, body) = self.login(realm, "admin-cli", user, pw).await;
        assert_eq!(s, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    async fn boss(&self) -> String {
        self.token("master", BOSS.0, BOSS.1).await
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

    /// Send raw bytes with a content type.
    async fn raw(&self, method: &str, path: &str, t: &str, ct: &str, body: Vec<u8>) -> Got {
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

    /// The id of a user by exact username.
    async fn user_id(&self, t: &str, realm: &str, name: &str) -> String {
        let g = self
            .get(&format!("/{realm}/users?username={name}&exact=true"), t)
            .await;
        assert_eq!(g.status, 200, "{}", g.body);
        g.body[0]["id"].as_str().unwrap().to_string()
    }
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// `realm_access.roles` of an access token (empty when the claim is absent).
fn realm_roles(body: &Value) -> Vec<String> {
    let c = claims(body["access_token"].as_str().unwrap());
    c["realm_access"]["roles"]
        .as_array()
        .map(|a| a.iter().map(|r| r.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap().to_string())
        .collect()
}

/// The id at the end of a `Location` header, which must point into the admin API.
fn id_from(env: &Env, location: &Option<String>, prefix: &str) -> String {
    let loc = location.as_deref().expect("Location header");
    let expected = env.admin(prefix);
    assert!(loc.starts_with(&expected), "{loc} under {expected}");
    loc.rsplit('/').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn users_create_search_update_password_and_delete() {
    let env = start();
    let t = env.boss().await;

    // Create: 201, Location with the new id, no body.
    let created = env
        .post(
            "/acme/users",
            &t,
            json!({"username": "Bob", "email": "Bob@Example.com", "firstName": "Bob",
                   "lastName": "Builder", "enabled": true, "attributes": {"dept": ["eng"]}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body, Value::Null);
    let bob = id_from(&env, &created.location, "/acme/users/");
    let got = env.get(&format!("/acme/users/{bob}"), &t).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["username"], "bob");
    assert_eq!(got.body["email"], "bob@example.com");
    assert_eq!(got.body["attributes"]["dept"], json!(["eng"]));
    assert_eq!(got.body["enabled"], true);
    assert_eq!(got.body["access"]["manage"], true);
    assert!(got.body.get("credentials").is_none());

    // Duplicates: 409 with Keycloak's messages (the path also answers with a trailing slash,
    // as the official admin client sends it).
    let dup = env
        .post("/acme/users/", &t, json!({"username": "bob"}))
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.body,
        json!({"errorMessage": "User exists with same username"})
    );
    let dup = env
        .post(
            "/acme/users",
            &t,
            json!({"username": "bob2", "email": "alice@example.com"}),
        )
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.body,
        json!({"errorMessage": "User exists with same email"})
    );

    // Search and count.
    let found = env.get("/acme/users?search=b", &t).await;
    assert_eq!(names(&found.body, "username"), ["bob"]);
    let found = env.get("/acme/users?search=*lid*", &t).await;
    assert_eq!(names(&found.body, "username"), ["alice"]);
    let found = env.get("/acme/users?lastName=build", &t).await;
    assert_eq!(names(&found.body, "username"), ["bob"]);
    let found = env.get("/acme/users?username=bo&exact=true", &t).await;
    assert_eq!(found.body, json!([]));
    let all = env.get("/acme/users?briefRepresentation=true", &t).await;
    assert_eq!(
        names(&all.body, "username"),
        ["alice", "bob", "manager", "realmboss", "watcher"]
    );
    assert!(all.body[0].get("attributes").is_none());
    let page = env.get("/acme/users?first=1&max=2", &t).await;
    assert_eq!(names(&page.body, "username"), ["bob", "manager"]);
    assert_eq!(env.get("/acme/users/count", &t).await.body, json!(5));
    assert_eq!(
        env.get("/acme/users/count?search=a", &t).await.body,
        json!(1)
    );
    assert_eq!(
        env.get(&format!("/acme/users?search=id:{bob}"), &t)
            .await
            .body[0]["id"],
        bob
    );

    // Update: partial, 204.
    let upd = env
        .put(
            &format!("/acme/users/{bob}"),
            &t,
            json!({"firstName": "Robert", "requiredActions": ["UPDATE_PROFILE"]}),
        )
        .await;
    assert_eq!(upd.status, 204, "{}", upd.body);
    let got = env.get(&format!("/acme/users/{bob}"), &t).await;
    assert_eq!(got.body["firstName"], "Robert");
    assert_eq!(got.body["lastName"], "Builder");
    assert_eq!(got.body["requiredActions"], json!(["UPDATE_PROFILE"]));
    let clash = env
        .put(
            &format!("/acme/users/{bob}"),
            &t,
            json!({"email": "alice@example.com"}),
        )
        .await;
    assert_eq!(clash.status, 409);
    let rename = env
        .put(
            &format!("/acme/users/{bob}"),
            &t,
            json!({"username": "robert"}),
        )
        .await;
    assert_eq!(rename.status, 400, "usernames are read-only by default");
    assert_eq!(rename.body["field"], "username");
    env.put(
        &format!("/acme/users/{bob}"),
        &t,
        json!({"requiredActions": []}),
    )
    .await;

    // Reset password, then log in with it; temporary means "not fully set up".
    let reset = env
        .put(
            &format!("/acme/users/{bob}/reset-password"),
            &t,
            json!({"type": "password", "value": "n3w-pass", "temporary": false}),
        )
        .await;
    assert_eq!(reset.status, 204, "{}", reset.body);
    let (s, body) = env.login("acme", "app", "bob", "n3w-pass").await;
    assert_eq!(s, 200, "{body}");
    let (s, _) = env.login("acme", "app", "bob", "wrong").await;
    assert_eq!(s, 401);
    let reset = env
        .put(
            &format!("/acme/users/{bob}/reset-password"),
            &t,
            json!({"value": "t3mp-pass", "temporary": true}),
        )
        .await;
    assert_eq!(reset.status, 204);
    let (s, body) = env.login("acme", "app", "bob", "t3mp-pass").await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["error_description"], "Account is not fully set up");
    let empty = env
        .put(
            &format!("/acme/users/{bob}/reset-password"),
            &t,
            json!({"value": ""}),
        )
        .await;
    assert_eq!(empty.status, 400);

    // A user created with a password and a group can log in, and is in the group.
    let created = env
        .post(
            "/acme/users",
            &t,
            json!({"username": "carol", "enabled": true, "groups": ["/staff"],
                   "credentials": [{"type": "password", "value": "carol-pw"}]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let carol = id_from(&env, &created.location, "/acme/users/");
    let (s, body) = env.login("acme", "app", "carol", "carol-pw").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["groups"],
        json!(["/staff"])
    );
    let groups = env.get(&format!("/acme/users/{carol}/groups"), &t).await;
    assert_eq!(names(&groups.body, "path"), ["/staff"]);
    let unknown_group = env
        .post(
            "/acme/users",
            &t,
            json!({"username": "dan", "groups": ["/nope"]}),
        )
        .await;
    assert_eq!(unknown_group.status, 400);

    // Delete: 204, then 404 everywhere, and the user cannot log in.
    assert_eq!(
        env.delete(&format!("/acme/users/{carol}"), &t).await.status,
        204
    );
    let gone = env.get(&format!("/acme/users/{carol}"), &t).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body, json!({"error": "User not found"}));
    assert_eq!(
        env.delete(&format!("/acme/users/{carol}"), &t).await.status,
        404
    );
    let (s, _) = env.login("acme", "app", "carol", "carol-pw").await;
    assert_eq!(s, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_children_membership_and_members() {
    let env = start();
    let t = env.boss().await;
    let alice = env.user_id(&t, "acme", "alice").await;

    // A token before any change fills the claim caches.
    let (_, before) = env.login("acme", "app", "alice", "alice-pw").await;
    assert!(
        claims(before["access_token"].as_str().unwrap())
            .get("groups")
            .is_none()
            || claims(before["access_token"].as_str().unwrap())["groups"] == json!([])
    );

    let created = env.post("/acme/groups", &t, json!({"name": "eng"})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let eng = id_from(&env, &created.location, "/acme/groups/");
    let dup = env.post("/acme/groups", &t, json!({"name": "eng"})).await;
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.body,
        json!({"errorMessage": "Top level group named 'eng' already exists."})
    );

    // Children: 201 with Location and the new group in the body.
    let child = env
        .post(
            &format!("/acme/groups/{eng}/children"),
            &t,
            json!({"name": "backend", "attributes": {"floor": ["3"]}}),
        )
        .await;
    assert_eq!(child.status, 201, "{}", child.body);
    let backend = id_from(&env, &child.location, "/acme/groups/");
    assert_eq!(child.body["path"], "/eng/backend");
    assert_eq!(child.body["parentId"], eng);
    let sib = env
        .post(
            &format!("/acme/groups/{eng}/children"),
            &t,
            json!({"name": "backend"}),
        )
        .await;
    assert_eq!(sib.status, 409);
    assert_eq!(
        sib.body["errorMessage"],
        "Sibling group named 'backend' already exists."
    );
    env.post(
        &format!("/acme/groups/{eng}/children"),
        &t,
        json!({"name": "frontend"}),
    )
    .await;

    let top = env.get("/acme/groups", &t).await;
    assert_eq!(names(&top.body, "name"), ["eng", "power", "staff"]);
    assert_eq!(top.body[0]["subGroupCount"], 2);
    let kids = env.get(&format!("/acme/groups/{eng}/children"), &t).await;
    assert_eq!(names(&kids.body, "path"), ["/eng/backend", "/eng/frontend"]);
    let kids = env
        .get(&format!("/acme/groups/{eng}/children?first=1&max=1"), &t)
        .await;
    assert_eq!(names(&kids.body, "name"), ["frontend"]);
    let found = env.get("/acme/groups?search=back", &t).await;
    assert_eq!(names(&found.body, "name"), ["eng"]);
    assert_eq!(names(&found.body[0]["subGroups"], "path"), ["/eng/backend"]);
    assert_eq!(
        env.get("/acme/groups/count", &t).await.body,
        json!({"count": 5})
    );
    assert_eq!(
        env.get("/acme/groups/count?top=true", &t).await.body,
        json!({"count": 3})
    );
    let one = env.get(&format!("/acme/groups/{backend}"), &t).await;
    assert_eq!(one.body["attributes"]["floor"], json!(["3"]));
    assert_eq!(one.body["realmRoles"], json!([]));

    // Rename: 204, path follows.
    let upd = env
        .put(
            &format!("/acme/groups/{backend}"),
            &t,
            json!({"name": "platform"}),
        )
        .await;
    assert_eq!(upd.status, 204, "{}", upd.body);
    assert_eq!(
        env.get(&format!("/acme/groups/{backend}"), &t).await.body["path"],
        "/eng/platform"
    );

    // Join: 204; the token says so at once; members list is paged.
    let join = env
        .put(
            &format!("/acme/users/{alice}/groups/{backend}"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(join.status, 204, "{}", join.body);
    for user in ["manager", "watcher"] {
        let id = env.user_id(&t, "acme", user).await;
        env.put(&format!("/acme/users/{id}/groups/{backend}"), &t, json!({}))
            .await;
    }
    let (_, after) = env.login("acme", "app", "alice", "alice-pw").await;
    assert_eq!(
        claims(after["access_token"].as_str().unwrap())["groups"],
        json!(["/eng/platform"])
    );
    let members = env
        .get(&format!("/acme/groups/{backend}/members"), &t)
        .await;
    assert_eq!(
        names(&members.body, "username"),
        ["alice", "manager", "watcher"]
    );
    let members = env
        .get(&format!("/acme/groups/{backend}/members?first=1&max=1"), &t)
        .await;
    assert_eq!(names(&members.body, "username"), ["manager"]);
    // A walk (first += max) continues after the last member it was sent, even when the
    // membership changes in between: alice leaving does not make the walk skip manager.
    let page1 = env
        .get(&format!("/acme/groups/{backend}/members?first=0&max=1"), &t)
        .await;
    assert_eq!(names(&page1.body, "username"), ["alice"]);
    let mine = env.get(&format!("/acme/users/{alice}/groups"), &t).await;
    assert_eq!(names(&mine.body, "path"), ["/eng/platform"]);

    // Leave: 204; the token follows.
    let leave = env
        .delete(&format!("/acme/users/{alice}/groups/{backend}"), &t)
        .await;
    assert_eq!(leave.status, 204);
    let page2 = env
        .get(&format!("/acme/groups/{backend}/members?first=1&max=1"), &t)
        .await;
    assert_eq!(names(&page2.body, "username"), ["manager"]);
    let page3 = env
        .get(&format!("/acme/groups/{backend}/members?first=2&max=1"), &t)
        .await;
    assert_eq!(names(&page3.body, "username"), ["watcher"]);
    let (_, left) = env.login("acme", "app", "alice", "alice-pw").await;
    let g = claims(left["access_token"].as_str().unwrap());
    assert!(g.get("groups").is_none() || g["groups"] == json!([]), "{g}");

    // Delete the parent: children go too.
    assert_eq!(
        env.delete(&format!("/acme/groups/{eng}"), &t).await.status,
        204
    );
    let gone = env.get(&format!("/acme/groups/{backend}"), &t).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body, json!({"error": "Could not find group by id"}));
    let missing = env
        .put(
            &format!("/acme/users/{alice}/groups/{backend}"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn realm_roles_and_mappings_reach_tokens() {
    let env = start();
    let t = env.boss().await;
    let alice = env.user_id(&t, "acme", "alice").await;
    let (_, before) = env.login("acme", "app", "alice", "alice-pw").await;
    assert!(!realm_roles(&before).contains(&"publisher".to_string()));

    let created = env
        .post(
            "/acme/roles",
            &t,
            json!({"name": "publisher", "description": "Publishes", "attributes": {"tier": ["1"]}}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.location.as_deref(),
        Some(env.admin("/acme/roles/publisher").as_str())
    );
    let dup = env
        .post("/acme/roles", &t, json!({"name": "publisher"}))
        .await;
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.body,
        json!({"errorMessage": "Role with name publisher already exists"})
    );
    let role = env.get("/acme/roles/publisher", &t).await;
    assert_eq!(role.status, 200);
    assert_eq!(role.body["description"], "Publishes");
    assert_eq!(role.body["attributes"]["tier"], json!(["1"]));
    assert_eq!(role.body["composite"], false);
    assert_eq!(role.body["clientRole"], false);
    let role_id = role.body["id"].as_str().unwrap().to_string();
    let by_id = env.get(&format!("/acme/roles-by-id/{role_id}"), &t).await;
    assert_eq!(by_id.body["name"], "publisher");
    let list = env.get("/acme/roles", &t).await;
    let listed = names(&list.body, "name");
    assert!(listed.contains(&"publisher".to_string()));
    assert!(listed.contains(&"default-roles-acme".to_string()));
    assert!(list.body[0].get("attributes").is_none(), "brief by default");
    let found = env.get("/acme/roles?search=PUB", &t).await;
    assert_eq!(names(&found.body, "name"), ["publisher"]);

    // Map: 204; reflected in the mappings and in a fresh token at once.
    let map = env
        .post(
            &format!("/acme/users/{alice}/role-mappings/realm"),
            &t,
            json!([{"id": role_id, "name": "publisher"}]),
        )
        .await;
    assert_eq!(map.status, 204, "{}", map.body);
    let direct = env
        .get(&format!("/acme/users/{alice}/role-mappings/realm"), &t)
        .await;
    assert!(names(&direct.body, "name").contains(&"publisher".to_string()));
    let all = env
        .get(&format!("/acme/users/{alice}/role-mappings"), &t)
        .await;
    assert!(names(&all.body["realmMappings"], "name").contains(&"publisher".to_string()));
    let composite = env
        .get(
            &format!("/acme/users/{alice}/role-mappings/realm/composite"),
            &t,
        )
        .await;
    let effective = names(&composite.body, "name");
    assert!(
        effective.contains(&"publisher".to_string()),
        "{effective:?}"
    );
    assert!(!effective.contains(&"editor".to_string()), "{effective:?}");
    // Through a group: in the composite view and the token, not in the direct mappings.
    let staff = env.get("/acme/groups?search=staff&exact=true", &t).await;
    let staff = staff.body[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        env.put(
            &format!("/acme/users/{alice}/groups/{staff}"),
            &t,
            json!({})
        )
        .await
        .status,
        204
    );
    let composite = env
        .get(
            &format!("/acme/users/{alice}/role-mappings/realm/composite"),
            &t,
        )
        .await;
    assert!(names(&composite.body, "name").contains(&"editor".to_string()));
    let (_, after) = env.login("acme", "app", "alice", "alice-pw").await;
    assert!(realm_roles(&after).contains(&"publisher".to_string()));
    assert!(realm_roles(&after).contains(&"editor".to_string()));

    // Unknown roles in a mapping body: 404, nothing mapped.
    let bad = env
        .post(
            &format!("/acme/users/{alice}/role-mappings/realm"),
            &t,
            json!([{"name": "editor"}, {"name": "nope"}]),
        )
        .await;
    assert_eq!(bad.status, 404);
    assert_eq!(bad.body, json!({"error": "Role not found"}));
    let direct = env
        .get(&format!("/acme/users/{alice}/role-mappings/realm"), &t)
        .await;
    assert!(!names(&direct.body, "name").contains(&"editor".to_string()));

    // Rename and update.
    let upd = env
        .put(
            "/acme/roles/publisher",
            &t,
            json!({"name": "publisher", "description": "Pub"}),
        )
        .await;
    assert_eq!(upd.status, 204);
    assert_eq!(
        env.get("/acme/roles/publisher", &t).await.body["description"],
        "Pub"
    );
    let clash = env
        .put("/acme/roles/publisher", &t, json!({"name": "editor"}))
        .await;
    assert_eq!(clash.status, 409);

    // Unmap: 204; the token follows.
    let unmap = env
        .call(
            "DELETE",
            &format!("/acme/users/{alice}/role-mappings/realm"),
            Some(&t),
            Some(json!([{"name": "publisher"}])),
        )
        .await;
    assert_eq!(unmap.status, 204, "{}", unmap.body);
    let (_, later) = env.login("acme", "app", "alice", "alice-pw").await;
    assert!(!realm_roles(&later).contains(&"publisher".to_string()));

    // Delete; the default role cannot be deleted.
    assert_eq!(env.delete("/acme/roles/publisher", &t).await.status, 204);
    let gone = env.get("/acme/roles/publisher", &t).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body, json!({"error": "Could not find role"}));
    let gone = env.get(&format!("/acme/roles-by-id/{role_id}"), &t).await;
    assert_eq!(gone.status, 404);
    let default = env.delete("/acme/roles/default-roles-acme", &t).await;
    assert_eq!(default.status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn authorization_decisions() {
    let env = start();
    let boss = env.boss().await;
    let alice_t = env.token("acme", "alice", "alice-pw").await;
    let manager_t = env.token("acme", "manager", "manager-pw").await;
    let watcher_t = env.token("acme", "watcher", "watcher-pw").await;
    let realmboss_t = env.token("acme", "realmboss", "realmboss-pw").await;
    let oadmin_t = env.token("other", "oadmin", "oadmin-pw").await;

    // 401: no token, a malformed one, a forged one.
    for token in [None, Some("garbage"), Some("a.b.c")] {
        let g = env.call("GET", "/acme/users", token, None).await;
        assert_eq!(g.status, 401, "{token:?}");
        assert_eq!(g.body, json!({"error": "HTTP 401 Unauthorized"}));
    }
    let mut forged = manager_t.clone();
    forged.pop();
    forged.push(if manager_t.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(env.get("/acme/users", &forged).await.status, 401);
    assert_eq!(env.call("GET", "", None, None).await.status, 401);

    // 403: a realm user without management roles.
    for path in ["/acme/users", "/acme/groups", "/acme/roles", "/acme"] {
        let g = env.get(path, &alice_t).await;
        assert_eq!(g.status, 403, "{path}");
        assert_eq!(g.body, json!({"error": "HTTP 403 Forbidden"}));
    }
    assert_eq!(env.get("", &alice_t).await.status, 403);

    // 403: realm A's administrator against realm B (and master).
    assert_eq!(env.get("/acme/users", &oadmin_t).await.status, 403);
    assert_eq!(env.get("/master/users", &realmboss_t).await.status, 403);
    assert_eq!(env.get("/other/users", &oadmin_t).await.status, 200);
    // An unknown realm is 404 (after authentication).
    let g = env.get("/nope/users", &boss).await;
    assert_eq!(g.status, 404);
    assert_eq!(g.body, json!({"error": "Realm not found."}));

    // view-users reads but does not write.
    assert_eq!(env.get("/acme/users", &watcher_t).await.status, 200);
    assert_eq!(env.get("/acme/groups", &watcher_t).await.status, 200);
    let alice = env.user_id(&watcher_t, "acme", "alice").await;
    assert_eq!(
        env.get(&format!("/acme/users/{alice}"), &watcher_t)
            .await
            .status,
        200
    );
    assert_eq!(
        env.post("/acme/users", &watcher_t, json!({"username": "x"}))
            .await
            .status,
        403
    );
    // view-users includes query-users, which lists roles but does not read one.
    assert_eq!(env.get("/acme/roles", &watcher_t).await.status, 200);
    assert_eq!(env.get("/acme/roles/editor", &watcher_t).await.status, 403);
    // Reduced realm representation without view-realm; full with it.
    let r = env.get("/acme", &watcher_t).await;
    assert_eq!(r.body, json!({"realm": "acme"}));
    let r = env.get("/acme", &realmboss_t).await;
    assert_eq!(r.body["realm"], "acme");
    assert!(r.body.get("accessTokenLifespan").is_some() || r.body.get("id").is_some());

    // manage-users writes users and groups, but not roles.
    let created = env
        .post(
            "/acme/users",
            &manager_t,
            json!({"username": "made-by-manager"}),
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(
        env.post("/acme/groups", &manager_t, json!({"name": "mgr-group"}))
            .await
            .status,
        201
    );
    assert_eq!(
        env.post("/acme/roles", &manager_t, json!({"name": "r"}))
            .await
            .status,
        403
    );
    // ... and may grant ordinary roles, but not administration rights it lacks.
    let made = id_from(&env, &created.location, "/acme/users/");
    let ok = env
        .post(
            &format!("/acme/users/{made}/role-mappings/realm"),
            &manager_t,
            json!([{"name": "editor"}]),
        )
        .await;
    assert_eq!(ok.status, 204, "{}", ok.body);
    let staff = env
        .get("/acme/groups?search=staff&exact=true", &manager_t)
        .await;
    let staff = staff.body[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        env.put(
            &format!("/acme/users/{made}/groups/{staff}"),
            &manager_t,
            json!({})
        )
        .await
        .status,
        204
    );
    let power = env
        .get("/acme/groups?search=power&exact=true", &manager_t)
        .await;
    let power = power.body[0]["id"].as_str().unwrap().to_string();
    let escalate = env
        .put(
            &format!("/acme/users/{made}/groups/{power}"),
            &manager_t,
            json!({}),
        )
        .await;
    assert_eq!(escalate.status, 403, "a group carrying realm-admin");
    // The realm's own realm-admin may hand it out.
    assert_eq!(
        env.put(
            &format!("/acme/users/{made}/groups/{power}"),
            &realmboss_t,
            json!({})
        )
        .await
        .status,
        204
    );

    // Master's admin sees every realm; a realm administrator only its own.
    let realms = env.get("", &boss).await;
    assert_eq!(realms.status, 200);
    let listed = names(&realms.body, "realm");
    for r in ["acme", "master", "other"] {
        assert!(listed.contains(&r.to_string()), "{r}");
    }
    assert!(
        realms.body[0]
            .get("smtpServer")
            .is_none_or(|s| s.get("password").is_none_or(|p| p == "**********"))
    );
    let mine = env.get("", &oadmin_t).await;
    assert_eq!(names(&mine.body, "realm"), ["other"]);
    let brief = env.get("?briefRepresentation=true", &boss).await;
    assert!(brief.body[0].get("accessTokenLifespan").is_none());

    // A disabled administrator's token stops working at once.
    let manager = env.user_id(&boss, "acme", "manager").await;
    assert_eq!(
        env.put(
            &format!("/acme/users/{manager}"),
            &boss,
            json!({"enabled": false})
        )
        .await
        .status,
        204
    );
    assert_eq!(env.get("/acme/users", &manager_t).await.status, 401);
    // Removing a management role takes effect without waiting for the token to expire.
    let watcher = env.user_id(&boss, "acme", "watcher").await;
    let rm_roles = env
        .get(&format!("/acme/users/{watcher}/role-mappings"), &boss)
        .await;
    let mapping = &rm_roles.body["clientMappings"]["realm-management"];
    assert_eq!(names(&mapping["mappings"], "name"), ["view-users"]);
    assert_eq!(env.get("/acme/users", &watcher_t).await.status, 200);
    // (client role mappings are not writable yet: remove the user instead)
    assert_eq!(
        env.delete(&format!("/acme/users/{watcher}"), &boss)
            .await
            .status,
        204
    );
    assert_eq!(env.get("/acme/users", &watcher_t).await.status, 401);

    // A master user without administration roles manages nothing; master's `admin`, granted
    // by the boss (who holds it), manages every realm at once (no new token needed).
    let created = env
        .post(
            "/master/users",
            &boss,
            json!({"username": "delegate", "enabled": true,
             "credentials": [{"value": "delegate-pw"}]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let delegate = id_from(&env, &created.location, "/master/users/");
    let d_t = env.token("master", "delegate", "delegate-pw").await;
    assert_eq!(env.get("/acme/users", &d_t).await.status, 403);
    let grant_admin = env
        .post(
            &format!("/master/users/{delegate}/role-mappings/realm"),
            &boss,
            json!([{"name": "admin"}]),
        )
        .await;
    assert_eq!(grant_admin.status, 204, "{}", grant_admin.body);
    assert_eq!(env.get("/acme/users", &d_t).await.status, 200);
    assert_eq!(env.get("/other/groups", &d_t).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_cleanly() {
    let env = start();
    let t = env.boss().await;
    let alice = env.user_id(&t, "acme", "alice").await;

    // Malformed JSON: 400 with a message; a wrong type names the field.
    let g = env
        .raw(
            "POST",
            "/acme/users",
            &t,
            "application/json",
            b"{\"username\":".to_vec(),
        )
        .await;
    assert_eq!(g.status, 400);
    assert!(
        g.body["error"].as_str().unwrap().contains("JSON"),
        "{}",
        g.body
    );
    let g = env
        .raw(
            "PUT",
            &format!("/acme/users/{alice}"),
            &t,
            "application/json",
            br#"{"enabled":"yes"}"#.to_vec(),
        )
        .await;
    assert_eq!(g.status, 400);
    assert!(
        g.body["errorMessage"].as_str().unwrap().contains("enabled"),
        "{}",
        g.body
    );
    // Not JSON: 415; too large: 413.
    let g = env
        .raw("POST", "/acme/groups", &t, "text/plain", b"{}".to_vec())
        .await;
    assert_eq!(g.status, 415);
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let g = env
        .raw(
            "POST",
            "/acme/groups",
            &t,
            "application/json",
            big.into_bytes(),
        )
        .await;
    assert_eq!(g.status, 413);
    // Validation: no username, a bad email, a blank group name.
    let g = env.post("/acme/users", &t, json!({"email": "x@y.z"})).await;
    assert_eq!(g.status, 400);
    assert_eq!(g.body["field"], "username");
    let g = env
        .post(
            "/acme/users",
            &t,
            json!({"username": "e", "email": "not-an-email"}),
        )
        .await;
    assert_eq!(g.status, 400);
    assert_eq!(g.body["field"], "email");
    assert_eq!(
        env.post("/acme/groups", &t, json!({"name": " "}))
            .await
            .status,
        400
    );

    // Paging and flags: 400 for nonsense, never 5xx.
    for q in [
        "first=-5",
        "max=abc",
        "first=1.5",
        "enabled=maybe",
        "briefRepresentation=2",
    ] {
        let g = env.get(&format!("/acme/users?{q}"), &t).await;
        assert_eq!(g.status, 400, "{q}");
    }
    assert_eq!(env.get("/acme/users?first=-1&max=-1", &t).await.status, 200);
    // LIKE wildcards and quotes are literal text.
    assert_eq!(env.get("/acme/users?search=%25", &t).await.body, json!([]));
    assert_eq!(env.get("/acme/users?search=_", &t).await.body, json!([]));
    assert_eq!(
        env.get(
            "/acme/users?search=%27%3B%20DROP%20TABLE%20user_entity%3B--",
            &t
        )
        .await
        .body,
        json!([])
    );
    assert_eq!(env.get("/acme/users/count", &t).await.body, json!(4));

    // Unknown ids: 404 in Keycloak's words.
    let cases = [
        ("/acme/users/nope", "User not found"),
        ("/acme/users/nope/groups", "User not found"),
        ("/acme/users/nope/role-mappings", "User not found"),
        ("/acme/groups/nope", "Could not find group by id"),
        ("/acme/groups/nope/members", "Could not find group by id"),
        ("/acme/roles/nope", "Could not find role"),
        ("/acme/roles-by-id/nope", "Could not find role with id"),
    ];
    for (path, message) in cases {
        let g = env.get(path, &t).await;
        assert_eq!(g.status, 404, "{path}");
        assert_eq!(g.body, json!({"error": message}), "{path}");
    }
    // Another realm's user is unknown here.
    let oadmin = env.user_id(&t, "other", "oadmin").await;
    assert_eq!(
        env.get(&format!("/acme/users/{oadmin}"), &t).await.status,
        404
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_journey_works_on_postgresql() {
    let (jdbc, _schema) = pg_jdbc_with_fresh_schema();
    let env = start_with(&[
        "--db=postgres".to_string(),
        format!("--db-url={jdbc}"),
        "--db-username=postgres".to_string(),
    ]);
    let t = env.boss().await;
    let created = env
        .post(
            "/acme/users",
            &t,
            json!({"username": "pg-user", "enabled": true,
                   "credentials": [{"value": "pg-pass"}]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = id_from(&env, &created.location, "/acme/users/");
    let group = env
        .post("/acme/groups", &t, json!({"name": "pg-group"}))
        .await;
    let gid = id_from(&env, &group.location, "/acme/groups/");
    assert_eq!(
        env.put(&format!("/acme/users/{id}/groups/{gid}"), &t, json!({}))
            .await
            .status,
        204
    );
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
    let (s, body) = env.login("acme", "app", "pg-user", "pg-pass").await;
    assert_eq!(s, 200, "{body}");
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["groups"], json!(["/pg-group"]));
    assert!(
        c["realm_access"]["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("editor"))
    );
    assert_eq!(
        names(&env.get("/acme/users?search=pg", &t).await.body, "username"),
        ["pg-user"]
    );
    assert_eq!(
        names(
            &env.get(&format!("/acme/groups/{gid}/members?max=1"), &t)
                .await
                .body,
            "username"
        ),
        ["pg-user"]
    );
    assert_eq!(env.get("/acme/users?search=%25", &t).await.body, json!([]));
    assert_eq!(
        env.delete(&format!("/acme/users/{id}"), &t).await.status,
        204
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bootstrap_service_account_manages_realms() {
    let env = start_with_env(
        &[],
        &[
            ("KC_BOOTSTRAP_ADMIN_CLIENT_ID", "provisioner"),
            ("KC_BOOTSTRAP_ADMIN_CLIENT_SECRET", "provisioner-secret"),
        ],
    );
    let r = env
        .http
        .post(format!(
            "{}/auth/realms/master/protocol/openid-connect/token",
            env.origin
        ))
        .basic_auth("provisioner", Some("provisioner-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    let t = body["access_token"].as_str().unwrap().to_string();
    let realms = env.get("", &t).await;
    assert_eq!(realms.status, 200, "{}", realms.body);
    let created = env
        .post("/acme/users", &t, json!({"username": "from-a-script"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    // Any client's token counts, but only the user's management roles give rights.
    let (s, alice) = env.login("acme", "app", "alice", "alice-pw").await;
    assert_eq!(s, 200);
    let alice_t = alice["access_token"].as_str().unwrap();
    assert_eq!(env.get("/acme/users", alice_t).await.status, 403);
}
