//! Protocol mappers, client scopes and their links, client lookup and service-account users
//! through the admin API of the real server: Keycloak's paths, bodies and status codes, the
//! errors (400, 404, 409), the rights (401, 403), and every change visible in the next token
//! (the configuration caches are dropped on each write).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

#[path = "support/admin_env.rs"]
mod admin_env;
mod common;

use admin_env::*;
use serde_json::{Value, json};

fn acme_realm() -> String {
    json!({
        "realm": "acme",
        "enabled": true,
        "clients": [
            {"clientId": "app", "secret": "app-secret", "directAccessGrantsEnabled": true,
             "redirectUris": ["https://app.example/cb"]},
            {"clientId": "App2", "publicClient": true}
        ],
        "users": [
            {"username": "alice", "enabled": true, "email": "alice@example.com",
             "firstName": "Alice", "lastName": "L",
             "credentials": [{"type": "password", "value": "alice-pw"}]},
            {"username": "viewer", "enabled": true,
             "clientRoles": {"realm-management": ["view-clients"]},
             "credentials": [{"type": "password", "value": "viewer-pw"}]}
        ]
    })
    .to_string()
}

impl Env {
    /// An access token of alice through `app`, with an optional `scope`.
    async fn alice(&self, scope: Option<&str>) -> Value {
        let (s, body) = self
            .login_with(
                "acme",
                "app",
                Some("app-secret"),
                "alice",
                "alice-pw",
                scope,
            )
            .await;
        assert_eq!(s, 200, "{body}");
        claims(body["access_token"].as_str().unwrap())
    }
}

fn hardcoded(name: &str, value: &str) -> Value {
    json!({
        "name": name,
        "protocol": "openid-connect",
        "protocolMapper": "oidc-hardcoded-claim-mapper",
        "config": {"claim.name": name, "claim.value": value, "jsonType.label": "String",
                   "access.token.claim": "true", "id.token.claim": "true"}
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn client_mappers_reach_tokens_and_refuse_bad_input() {
    let env = start(&acme_realm());
    let t = env.boss().await;
    let app = env.client_uuid(&t, "acme", "app").await;
    let base = format!("/acme/clients/{app}/protocol-mappers");
    assert!(env.alice(None).await.get("team").is_none());

    let g = env
        .post(&format!("{base}/models"), &t, hardcoded("team", "blue"))
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    let mid = id_from(
        &env,
        &g.location,
        &format!("/acme/clients/{app}/protocol-mappers/models/"),
    );
    // The very next token carries the claim.
    assert_eq!(env.alice(None).await["team"], "blue");

    let g = env.get(&format!("{base}/models/{mid}"), &t).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body["name"], "team");
    assert_eq!(g.body["protocolMapper"], "oidc-hardcoded-claim-mapper");
    assert_eq!(g.body["config"]["claim.value"], "blue");
    let g = env.get(&format!("{base}/models"), &t).await;
    assert_eq!(names(&g.body, "name"), vec!["team"]);
    let g = env.get(&format!("/acme/clients/{app}"), &t).await;
    assert_eq!(g.body["protocolMappers"][0]["name"], "team");
    assert_eq!(
        env.get(&format!("{base}/protocol/openid-connect"), &t)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        env.get(&format!("{base}/protocol/saml"), &t).await.body,
        json!([])
    );

    // Same name again: 409 with Keycloak's message; nothing else changes.
    let g = env
        .post(&format!("{base}/models"), &t, hardcoded("team", "red"))
        .await;
    assert_eq!(g.status, 409);
    assert_eq!(
        g.body["errorMessage"],
        "Protocol mapper exists with same name"
    );
    // Types tokens do not apply: Keycloak's 404 (checked first, even for an empty body);
    // missing names, unknown protocols, broken JSON: 400.
    let mut bad = hardcoded("x", "1");
    bad["protocolMapper"] = json!("oidc-script-based-protocol-mapper");
    let g = env.post(&format!("{base}/models"), &t, bad).await;
    assert_eq!(g.status, 404);
    assert_eq!(g.body["error"], "ProtocolMapper provider not found");
    let g = env.post(&format!("{base}/models"), &t, json!({})).await;
    assert_eq!(g.status, 404);
    let mut bad = hardcoded("x", "1");
    bad["name"] = json!("");
    assert_eq!(
        env.post(&format!("{base}/models"), &t, bad).await.status,
        400
    );
    let mut bad = hardcoded("x", "1");
    bad["protocol"] = json!("cas");
    assert_eq!(
        env.post(&format!("{base}/models"), &t, bad).await.status,
        400
    );
    let g = env
        .raw(
            "POST",
            &format!("{base}/models"),
            &t,
            "application/json",
            b"{\"name\":".to_vec(),
        )
        .await;
    assert_eq!(g.status, 400);
    assert!(
        g.body["errorMessage"].as_str().unwrap().contains("JSON"),
        "{}",
        g.body
    );
    let g = env
        .raw(
            "POST",
            &format!("{base}/models"),
            &t,
            "application/json",
            vec![b' '; 2 * 1024 * 1024],
        )
        .await;
    assert_eq!(g.status, 413);

    // Update: the next token sees the new value; a rename onto a taken name is 409.
    let mut changed = hardcoded("team", "green");
    changed["id"] = json!(mid);
    assert_eq!(
        env.put(&format!("{base}/models/{mid}"), &t, changed)
            .await
            .status,
        204
    );
    assert_eq!(env.alice(None).await["team"], "green");

    // add-models: all or none.
    let g = env
        .post(
            &format!("{base}/add-models"),
            &t,
            json!([hardcoded("a", "1"), hardcoded("a", "2")]),
        )
        .await;
    assert_eq!(g.status, 409);
    let g = env
        .post(
            &format!("{base}/add-models"),
            &t,
            json!([hardcoded("a", "1"), hardcoded("team", "2")]),
        )
        .await;
    assert_eq!(g.status, 409);
    assert_eq!(
        env.get(&format!("{base}/models"), &t)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let g = env
        .post(
            &format!("{base}/add-models"),
            &t,
            json!([hardcoded("a", "1"), hardcoded("b", "2")]),
        )
        .await;
    assert_eq!(g.status, 204, "{}", g.body);
    let token = env.alice(None).await;
    assert_eq!(
        (token["a"].as_str(), token["b"].as_str()),
        (Some("1"), Some("2"))
    );
    let models = env.get(&format!("{base}/models"), &t).await.body;
    let a_id = models
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "a")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let g = env
        .put(
            &format!("{base}/models/{a_id}"),
            &t,
            json!({"name": "team"}),
        )
        .await;
    assert_eq!(g.status, 409);

    // Delete: gone from the next token; a second delete is 404.
    assert_eq!(
        env.delete(&format!("{base}/models/{mid}"), &t).await.status,
        204
    );
    assert!(env.alice(None).await.get("team").is_none());
    let g = env.delete(&format!("{base}/models/{mid}"), &t).await;
    assert_eq!(g.status, 404);
    assert_eq!(g.body["error"], "Model not found");
    assert_eq!(
        env.get(&format!("{base}/models/{mid}"), &t).await.status,
        404
    );
    let g = env
        .get("/acme/clients/nope/protocol-mappers/models", &t)
        .await;
    assert_eq!(g.status, 404);

    // Rights: view-clients reads, only manage-clients writes; no token is 401.
    let v = env.token("acme", "viewer", "viewer-pw").await;
    assert_eq!(env.get(&format!("{base}/models"), &v).await.status, 200);
    let g = env
        .post(&format!("{base}/models"), &v, hardcoded("v", "1"))
        .await;
    assert_eq!(g.status, 403);
    assert_eq!(g.body["error"], "HTTP 403 Forbidden");
    let g = env.call("GET", &format!("{base}/models"), None, None).await;
    assert_eq!(g.status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn client_scopes_crud_links_and_tokens() {
    let env = start(&acme_realm());
    let t = env.boss().await;
    let app = env.client_uuid(&t, "acme", "app").await;

    let g = env
        .post(
            "/acme/client-scopes",
            &t,
            json!({"name": "reports", "protocol": "openid-connect",
                   "attributes": {"include.in.token.scope": "true"},
                   "protocolMappers": [hardcoded("reports_claim", "yes")]}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    let sid = id_from(&env, &g.location, "/acme/client-scopes/");
    let g = env
        .post(
            "/acme/client-scopes",
            &t,
            json!({"name": "reports", "protocol": "openid-connect"}),
        )
        .await;
    assert_eq!(g.status, 409);
    assert_eq!(
        g.body["errorMessage"],
        "Client Scope reports already exists"
    );
    assert_eq!(
        env.post(
            "/acme/client-scopes",
            &t,
            json!({"name": "two words", "protocol": "openid-connect"})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        env.post("/acme/client-scopes", &t, json!({})).await.status,
        400
    );
    let g = env
        .post("/acme/client-scopes", &t, json!({"name": "noproto"}))
        .await;
    assert_eq!(
        (g.status, g.body["errorMessage"].as_str()),
        (400, Some("Unexpected protocol"))
    );
    let g = env
        .post(
            "/acme/client-scopes",
            &t,
            json!({"name": "マルチバイト", "protocol": "saml"}),
        )
        .await;
    assert_eq!(
        g.body["errorMessage"],
        "Unexpected name \"マルチバイト\" for ClientScope"
    );
    let mut bad = hardcoded("m", "1");
    bad["protocolMapper"] = json!("made-up");
    let g = env
        .post(
            "/acme/client-scopes",
            &t,
            json!({"name": "other", "protocol": "openid-connect", "protocolMappers": [bad]}),
        )
        .await;
    assert_eq!(g.status, 400);

    let g = env.get(&format!("/acme/client-scopes/{sid}"), &t).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body["name"], "reports");
    assert_eq!(g.body["protocolMappers"][0]["name"], "reports_claim");
    let all = env.get("/acme/client-scopes", &t).await.body;
    let listed = names(&all, "name");
    assert!(listed.contains(&"reports".to_string()) && listed.contains(&"profile".to_string()));
    assert!(
        !listed.contains(&"other".to_string()),
        "a refused scope left nothing behind"
    );

    // An optional scope: in the token only when asked for.
    let path = format!("/acme/clients/{app}/optional-client-scopes/{sid}");
    assert_eq!(env.put(&path, &t, json!({})).await.status, 204);
    let g = env
        .get(&format!("/acme/clients/{app}/optional-client-scopes"), &t)
        .await;
    assert!(names(&g.body, "name").contains(&"reports".to_string()));
    assert!(env.alice(None).await.get("reports_claim").is_none());
    let token = env.alice(Some("openid reports")).await;
    assert_eq!(token["reports_claim"], "yes");
    assert!(
        token["scope"]
            .as_str()
            .unwrap()
            .split(' ')
            .any(|s| s == "reports")
    );
    assert_eq!(env.delete(&path, &t).await.status, 204);
    // A default scope: always in the token.
    let path = format!("/acme/clients/{app}/default-client-scopes/{sid}");
    assert_eq!(env.put(&path, &t, json!({})).await.status, 204);
    let g = env
        .get(&format!("/acme/clients/{app}/default-client-scopes"), &t)
        .await;
    assert!(names(&g.body, "name").contains(&"reports".to_string()));
    let g = env.get(&format!("/acme/clients/{app}"), &t).await;
    assert!(
        g.body["defaultClientScopes"]
            .as_array()
            .unwrap()
            .contains(&json!("reports"))
    );
    assert_eq!(env.alice(None).await["reports_claim"], "yes");
    // A new mapper on the scope reaches the token too.
    let g = env
        .post(
            &format!("/acme/client-scopes/{sid}/protocol-mappers/models"),
            &t,
            hardcoded("more", "1"),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    assert_eq!(env.alice(None).await["more"], "1");
    assert_eq!(env.delete(&path, &t).await.status, 204);
    assert!(env.alice(None).await.get("reports_claim").is_none());
    assert_eq!(
        env.put(
            &format!("/acme/clients/{app}/default-client-scopes/nope"),
            &t,
            json!({})
        )
        .await
        .status,
        404
    );

    // Update: a rename, and a rename onto a taken name.
    let g = env
        .put(
            &format!("/acme/client-scopes/{sid}"),
            &t,
            json!({"name": "reporting", "description": "d"}),
        )
        .await;
    assert_eq!(g.status, 204);
    let g = env.get(&format!("/acme/client-scopes/{sid}"), &t).await;
    assert_eq!(
        (g.body["name"].as_str(), g.body["description"].as_str()),
        (Some("reporting"), Some("d"))
    );
    assert_eq!(g.body["attributes"]["include.in.token.scope"], "true");
    let g = env
        .put(
            &format!("/acme/client-scopes/{sid}"),
            &t,
            json!({"name": "profile"}),
        )
        .await;
    assert_eq!(g.status, 409);

    // The realm's lists for new clients.
    let g = env.get("/acme/default-default-client-scopes", &t).await;
    assert!(names(&g.body, "name").contains(&"profile".to_string()));
    let g = env
        .put(
            &format!("/acme/default-default-client-scopes/{sid}"),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(g.status, 204);
    let g = env.get("/acme/default-default-client-scopes", &t).await;
    assert!(names(&g.body, "name").contains(&"reporting".to_string()));
    let g = env
        .post("/acme/clients", &t, json!({"clientId": "fresh"}))
        .await;
    assert_eq!(g.status, 201);
    let fresh = id_from(&env, &g.location, "/acme/clients/");
    let g = env
        .get(&format!("/acme/clients/{fresh}/default-client-scopes"), &t)
        .await;
    assert!(names(&g.body, "name").contains(&"reporting".to_string()));
    // Moving it to the optional list.
    assert_eq!(
        env.put(
            &format!("/acme/default-optional-client-scopes/{sid}"),
            &t,
            json!({})
        )
        .await
        .status,
        204
    );
    let g = env.get("/acme/default-default-client-scopes", &t).await;
    assert!(!names(&g.body, "name").contains(&"reporting".to_string()));
    let g = env.get("/acme/default-optional-client-scopes", &t).await;
    assert!(names(&g.body, "name").contains(&"reporting".to_string()));
    assert_eq!(
        env.delete(&format!("/acme/default-optional-client-scopes/{sid}"), &t)
            .await
            .status,
        204
    );
    let g = env.get("/acme/default-optional-client-scopes", &t).await;
    assert!(!names(&g.body, "name").contains(&"reporting".to_string()));
    assert_eq!(
        env.put("/acme/default-default-client-scopes/nope", &t, json!({}))
            .await
            .status,
        404
    );

    // Rights: view-clients reads scopes; the realm lists need manage-realm to change.
    let v = env.token("acme", "viewer", "viewer-pw").await;
    assert_eq!(env.get("/acme/client-scopes", &v).await.status, 200);
    assert_eq!(
        env.post(
            "/acme/client-scopes",
            &v,
            json!({"name": "x", "protocol": "openid-connect"})
        )
        .await
        .status,
        403
    );
    assert_eq!(
        env.put(
            &format!("/acme/default-default-client-scopes/{sid}"),
            &v,
            json!({})
        )
        .await
        .status,
        403
    );

    // Delete: refused while a client uses the scope (as Keycloak), then gone with its mappers
    // and its places in the realm's lists.
    assert_eq!(
        env.put(
            &format!("/acme/default-default-client-scopes/{sid}"),
            &t,
            json!({})
        )
        .await
        .status,
        204
    );
    let g = env.delete(&format!("/acme/client-scopes/{sid}"), &t).await;
    assert_eq!(g.status, 400);
    assert_eq!(
        g.body["errorMessage"],
        "Cannot remove client scope, it is currently in use"
    );
    let path = format!("/acme/clients/{fresh}/default-client-scopes/{sid}");
    assert_eq!(env.delete(&path, &t).await.status, 204);
    assert_eq!(
        env.delete(&format!("/acme/client-scopes/{sid}"), &t)
            .await
            .status,
        204
    );
    assert_eq!(
        env.get(&format!("/acme/client-scopes/{sid}"), &t)
            .await
            .status,
        404
    );
    let g = env.get("/acme/default-default-client-scopes", &t).await;
    assert!(!names(&g.body, "name").contains(&"reporting".to_string()));
    assert_eq!(
        env.delete(&format!("/acme/client-scopes/{sid}"), &t)
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn client_lookup_service_accounts_and_mappers_on_create() {
    let env = start(&acme_realm());
    let t = env.boss().await;

    // Lookup: clientId is exact and case-sensitive; search=true matches anywhere.
    let g = env.get("/acme/clients?clientId=app", &t).await;
    assert_eq!(names(&g.body, "clientId"), vec!["app"]);
    assert!(g.body[0].get("protocolMappers").is_none());
    assert_eq!(
        env.get("/acme/clients?clientId=APP", &t).await.body,
        json!([])
    );
    assert_eq!(
        names(
            &env.get("/acme/clients?clientId=App2", &t).await.body,
            "clientId"
        ),
        vec!["App2"]
    );
    let g = env.get("/acme/clients?clientId=pp&search=true", &t).await;
    let found = names(&g.body, "clientId");
    let mut sorted = found.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["App2", "app"]);
    let g = env
        .get("/acme/clients?clientId=pp&search=true&first=1&max=1", &t)
        .await;
    assert_eq!(names(&g.body, "clientId"), vec![found[1].clone()]);
    assert_eq!(env.get("/acme/clients?first=-5", &t).await.status, 400);
    assert_eq!(
        env.get("/acme/clients?clientId=app&first=1", &t).await.body,
        json!([])
    );

    // A client created with mappers and a service account.
    let g = env
        .post(
            "/acme/clients",
            &t,
            json!({"clientId": "svc", "secret": "svc-secret", "serviceAccountsEnabled": true,
                   "protocolMappers": [hardcoded("svc_claim", "on")]}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    let svc = id_from(&env, &g.location, "/acme/clients/");
    let g = env.get(&format!("/acme/clients/{svc}"), &t).await;
    assert_eq!(g.body["protocolMappers"][0]["name"], "svc_claim");
    let g = env.get("/acme/clients?clientId=svc", &t).await;
    assert_eq!(
        g.body[0]["protocolMappers"][0]["config"]["claim.value"],
        "on"
    );
    let r = env
        .http
        .post(format!(
            "{}/auth/realms/acme/protocol/openid-connect/token",
            env.origin
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "svc"),
            ("client_secret", "svc-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["svc_claim"],
        "on"
    );
    let g = env
        .get(&format!("/acme/clients/{svc}/service-account-user"), &t)
        .await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert_eq!(g.body["username"], "service-account-svc");

    // No service account: 400; unknown client: 404.
    let app = env.client_uuid(&t, "acme", "app").await;
    let g = env
        .get(&format!("/acme/clients/{app}/service-account-user"), &t)
        .await;
    assert_eq!(g.status, 400);
    assert_eq!(
        g.body["errorMessage"],
        "Service account not enabled for the client 'app'"
    );
    assert_eq!(
        env.get("/acme/clients/nope/service-account-user", &t)
            .await
            .status,
        404
    );
    // Switched on later: the user is made on first request.
    let g = env
        .put(
            &format!("/acme/clients/{app}"),
            &t,
            json!({"serviceAccountsEnabled": true}),
        )
        .await;
    assert_eq!(g.status, 204);
    let g = env
        .get(&format!("/acme/clients/{app}/service-account-user"), &t)
        .await;
    assert_eq!(g.status, 200, "{}", g.body);
    assert_eq!(g.body["username"], "service-account-app");

    // A bad mapper refuses the whole client; duplicate mapper names too.
    let mut bad = hardcoded("m", "1");
    bad["protocolMapper"] = json!("made-up");
    let g = env
        .post(
            "/acme/clients",
            &t,
            json!({"clientId": "broken", "protocolMappers": [bad]}),
        )
        .await;
    assert_eq!(g.status, 400);
    let g = env
        .post("/acme/clients", &t, json!({"clientId": "broken", "protocolMappers": [hardcoded("m", "1"), hardcoded("m", "2")]}))
        .await;
    assert_eq!(g.status, 409);
    assert_eq!(
        env.get("/acme/clients?clientId=broken", &t).await.body,
        json!([])
    );

    // Scope lists in the body choose the client's scopes (unknown names skipped).
    let g = env
        .post(
            "/acme/clients",
            &t,
            json!({"clientId": "picky", "defaultClientScopes": ["email", "nope"],
                   "optionalClientScopes": ["phone"]}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    let picky = id_from(&env, &g.location, "/acme/clients/");
    let g = env.get(&format!("/acme/clients/{picky}"), &t).await;
    assert_eq!(g.body["defaultClientScopes"], json!(["email"]));
    assert_eq!(g.body["optionalClientScopes"], json!(["phone"]));
    // Rights: view-clients reads the service-account user.
    let v = env.token("acme", "viewer", "viewer-pw").await;
    assert_eq!(
        env.get(&format!("/acme/clients/{svc}/service-account-user"), &v)
            .await
            .status,
        200
    );
    assert_eq!(
        env.call(
            "GET",
            &format!("/acme/clients/{svc}/service-account-user"),
            None,
            None
        )
        .await
        .status,
        401
    );
}
