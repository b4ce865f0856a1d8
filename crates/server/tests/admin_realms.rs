//! Realms through the admin API of the real server: create from a full representation (the
//! import's rules, placeholders taken literally), read, update, partial export with masked
//! secrets, delete; who may do each (401, 403); and the answers to bad input (400, 409).

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
        "users": [
            {"username": "helper", "enabled": true,
             "clientRoles": {"realm-management": ["manage-users"]},
             "credentials": [{"type": "password", "value": "helper-pw"}]}
        ]
    })
    .to_string()
}

fn beta() -> Value {
    json!({
        "realm": "beta",
        "displayName": "Beta",
        "enabled": true,
        "accessTokenLifespan": 600,
        "adminEventsEnabled": true,
        "smtpServer": {"host": "mail.example", "from": "no-reply@example.com", "password": "smtp-pw"},
        "roles": {"realm": [{"name": "reader"}]},
        "groups": [{"name": "staff", "realmRoles": ["reader"]}],
        "clients": [
            {"clientId": "web", "secret": "${NOT_SUBSTITUTED}", "directAccessGrantsEnabled": true,
             "redirectUris": ["https://web.example/*"]}
        ],
        "users": [
            {"username": "bob", "enabled": true, "groups": ["/staff"],
             "clientRoles": {"realm-management": ["view-realm"]},
             "credentials": [{"type": "password", "value": "bob-pw"}]}
        ]
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn realm_create_read_update_export_delete() {
    let env = start(&acme_realm());
    let t = env.boss().await;

    let g = env.post("", &t, beta()).await;
    assert_eq!(g.status, 201, "{}", g.body);
    assert_eq!(g.location.as_deref(), Some(env.admin("/beta").as_str()));
    let g = env.post("", &t, beta()).await;
    assert_eq!(g.status, 409);
    assert_eq!(
        g.body["errorMessage"],
        "Conflict detected. See logs for details"
    );
    // Validation is the import's: no name, a bad value, a dangling reference, broken JSON.
    assert_eq!(env.post("", &t, json!({"enabled": true})).await.status, 400);
    let g = env
        .post("", &t, json!({"realm": "gamma", "accessTokenLifespan": -5}))
        .await;
    assert_eq!(g.status, 400);
    assert!(
        g.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("accessTokenLifespan"),
        "{}",
        g.body
    );
    let g = env
        .post(
            "",
            &t,
            json!({"realm": "gamma", "users": [{"username": "x", "groups": ["/nope"]}]}),
        )
        .await;
    assert_eq!(g.status, 400);
    assert_eq!(
        env.raw("POST", "", &t, "application/json", b"{\"realm\":".to_vec())
            .await
            .status,
        400
    );
    assert_eq!(
        env.get("/gamma", &t).await.status,
        404,
        "a refused realm leaves nothing"
    );

    // What was created: settings, the users (they can log in), the literal secret, the
    // management client in master.
    let g = env.get("/beta", &t).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body["displayName"], "Beta");
    assert_eq!(g.body["smtpServer"]["password"], "**********");
    let bob = env.token("beta", "bob", "bob-pw").await;
    let web = env.client_uuid(&t, "beta", "web").await;
    let g = env
        .get(&format!("/beta/clients/{web}/client-secret"), &t)
        .await;
    assert_eq!(g.body["value"], "${NOT_SUBSTITUTED}");
    assert_eq!(
        env.get("/master/clients?clientId=beta-realm", &t)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let g = env.get("/beta/events/config", &t).await;
    assert_eq!(g.body["adminEventsEnabled"], true);
    // Its creation is its first admin event (the body asked for admin events).
    let g = env.get("/beta/admin-events", &t).await;
    assert_eq!(g.body[0]["operationType"], "CREATE");
    assert_eq!(g.body[0]["resourceType"], "REALM");

    // Update: settings change, a masked SMTP password keeps the stored one.
    let g = env
        .put(
            "/beta",
            &t,
            json!({"displayName": "Beta 2", "accessTokenLifespan": 120, "registrationAllowed": true,
                   "resetPasswordAllowed": true, "verifyEmail": true, "loginWithEmailAllowed": false,
                   "sslRequired": "NONE", "bruteForceProtected": true, "failureFactor": 5,
                   "smtpServer": {"host": "mail2.example", "from": "x@example.com", "password": "**********"},
                   "attributes": {"frontendUrl": ""},
                   "users": [{"username": "ignored"}]}),
        )
        .await;
    assert_eq!(g.status, 204, "{}", g.body);
    let g = env.get("/beta", &t).await;
    assert_eq!(g.body["displayName"], "Beta 2");
    assert_eq!(g.body["accessTokenLifespan"], 120);
    assert_eq!(g.body["registrationAllowed"], true);
    assert_eq!(g.body["loginWithEmailAllowed"], false);
    assert_eq!(g.body["sslRequired"], "none");
    assert_eq!(g.body["bruteForceProtected"], true);
    assert_eq!(g.body["failureFactor"], 5);
    assert_eq!(g.body["smtpServer"]["host"], "mail2.example");
    assert_eq!(g.body["smtpServer"]["password"], "**********");
    assert_eq!(
        g.body["adminEventsEnabled"], true,
        "fields left out keep their values"
    );
    let (_, tok) = env.login("beta", "admin-cli", "bob", "bob-pw").await;
    let c = claims(tok["access_token"].as_str().unwrap());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 120);
    assert_eq!(
        env.get("/beta/users?username=ignored&exact=true", &t)
            .await
            .body,
        json!([])
    );
    // Refused: a rename onto a taken name, renaming master, bad values, broken JSON.
    let g = env.put("/beta", &t, json!({"realm": "acme"})).await;
    assert_eq!(g.status, 409);
    assert_eq!(g.body["errorMessage"], "Realm with same name exists");
    assert_eq!(
        env.put("/master", &t, json!({"realm": "boss"}))
            .await
            .status,
        400
    );
    assert_eq!(
        env.put("/beta", &t, json!({"realm": "a/b"})).await.status,
        400
    );
    assert_eq!(
        env.put("/beta", &t, json!({"accessTokenLifespan": -1}))
            .await
            .status,
        400
    );
    assert_eq!(
        env.put("/beta", &t, json!({"enabled": "yes"})).await.status,
        400
    );
    assert_eq!(
        env.put("/beta", &t, json!({"registrationAllowed": "yes"}))
            .await
            .status,
        400
    );
    assert_eq!(
        env.raw("PUT", "/beta", &t, "application/json", b"[".to_vec())
            .await
            .status,
        400
    );
    assert_eq!(env.put("/nope", &t, json!({})).await.status, 404);

    // Partial export: no users; clients and groups on request; secrets masked.
    let g = env
        .post(
            "/beta/partial-export?exportClients=true&exportGroupsAndRoles=true",
            &t,
            json!({}),
        )
        .await;
    assert_eq!(g.status, 200, "{}", g.body);
    let text = g.body.to_string();
    assert!(
        !text.contains("smtp-pw") && !text.contains("NOT_SUBSTITUTED"),
        "{text}"
    );
    assert!(g.body.get("users").is_none());
    let web_rep = g.body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == "web")
        .unwrap();
    assert_eq!(web_rep["secret"], "**********");
    assert_eq!(g.body["smtpServer"]["password"], "**********");
    assert_eq!(g.body["groups"][0]["name"], "staff");
    let g = env.post("/beta/partial-export", &t, json!({})).await;
    assert_eq!(g.status, 200);
    assert!(g.body.get("clients").is_none() && g.body.get("groups").is_none());
    assert_eq!(g.body["realm"], "beta");
    assert_eq!(
        env.post("/beta/partial-export?exportClients=maybe", &t, json!({}))
            .await
            .status,
        400
    );
    // bob has view-realm only: the realm yes, its clients no.
    assert_eq!(
        env.post("/beta/partial-export", &bob, json!({}))
            .await
            .status,
        200
    );
    assert_eq!(
        env.post("/beta/partial-export?exportClients=true", &bob, json!({}))
            .await
            .status,
        403
    );
    assert_eq!(
        env.put("/beta", &bob, json!({"displayName": "x"}))
            .await
            .status,
        403
    );
    assert_eq!(env.delete("/beta", &bob).await.status, 403);

    // Rename and back: the management client in master follows; the old name is free.
    assert_eq!(
        env.put("/beta", &t, json!({"realm": "beta2"})).await.status,
        204
    );
    assert_eq!(env.get("/beta", &t).await.status, 404);
    assert_eq!(env.get("/beta2", &t).await.body["displayName"], "Beta 2");
    assert_eq!(
        env.get("/master/clients?clientId=beta2-realm", &t)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        env.get("/master/clients?clientId=beta-realm", &t)
            .await
            .body,
        json!([])
    );
    assert_eq!(
        env.put("/beta2", &t, json!({"realm": "beta"})).await.status,
        204
    );
    let bob = env.token("beta", "bob", "bob-pw").await;

    // Delete: master stays; beta goes with its management client; its tokens stop working.
    let g = env.delete("/master", &t).await;
    assert_eq!(g.status, 400);
    assert_eq!(env.delete("/beta", &t).await.status, 204);
    assert_eq!(env.get("/beta", &t).await.status, 404);
    assert_eq!(
        env.get("/master/clients?clientId=beta-realm", &t)
            .await
            .body,
        json!([])
    );
    assert_eq!(env.get("/beta", &bob).await.status, 401);
    assert_eq!(env.delete("/beta", &t).await.status, 404);
    // The name is free again.
    assert_eq!(env.post("", &t, beta()).await.status, 201);
}

#[tokio::test(flavor = "multi_thread")]
async fn who_may_create_realms() {
    let env = start(&acme_realm());
    let t = env.boss().await;
    assert_eq!(
        env.call("POST", "", None, Some(json!({"realm": "x"})))
            .await
            .status,
        401
    );
    // A realm administrator of acme may not create realms.
    let helper = env.token("acme", "helper", "helper-pw").await;
    assert_eq!(
        env.post("", &helper, json!({"realm": "x"})).await.status,
        403
    );

    // A master user with `create-realm` only: may create, and then administers what it made.
    let g = env
        .post(
            "/master/users",
            &t,
            json!({"username": "maker", "enabled": true,
              "credentials": [{"type": "password", "value": "maker-pw", "temporary": false}]}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    let maker = id_from(&env, &g.location, "/master/users/");
    let role = env.get("/master/roles/create-realm", &t).await.body;
    let g = env
        .post(
            &format!("/master/users/{maker}/role-mappings/realm"),
            &t,
            json!([{"id": role["id"], "name": "create-realm"}]),
        )
        .await;
    assert_eq!(g.status, 204, "{}", g.body);
    let m = env.token("master", "maker", "maker-pw").await;
    assert_eq!(env.get("/acme", &m).await.status, 403);
    let g = env
        .post("", &m, json!({"realm": "made", "enabled": true}))
        .await;
    assert_eq!(g.status, 201, "{}", g.body);
    let g = env.get("/made", &m).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body["realm"], "made");
    assert_eq!(g.body["enabled"], true);
    assert_eq!(
        env.put("/made", &m, json!({"displayName": "Mine"}))
            .await
            .status,
        204
    );
    assert_eq!(
        env.get("/acme", &m).await.status,
        403,
        "no rights in other realms"
    );
}
