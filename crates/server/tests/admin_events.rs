//! Admin events against the real server: recorded for successful admin writes only, with
//! Keycloak's operation and resource types, resource paths and caller details; the
//! representation only with details on and never with a password or secret; Keycloak's
//! filters of `GET /admin-events`; the events configuration (from the realm file and through
//! `PUT /events/config`); and the `view-events`/`manage-events` rights. Also on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

#[path = "support/admin_env.rs"]
mod admin_env;
mod common;

use admin_env::*;
use common::pg_jdbc_with_fresh_schema;
use serde_json::{Value, json};

fn acme_realm() -> String {
    json!({
        "realm": "acme",
        "enabled": true,
        "adminEventsEnabled": true,
        "eventsExpiration": 3600,
        "eventsListeners": ["jboss-logging"],
        "users": [
            {"username": "auditor", "enabled": true,
             "clientRoles": {"realm-management": ["view-events"]},
             "credentials": [{"type": "password", "value": "auditor-pw"}]},
            {"username": "helper", "enabled": true,
             "clientRoles": {"realm-management": ["manage-users"]},
             "credentials": [{"type": "password", "value": "helper-pw"}]}
        ]
    })
    .to_string()
}

fn ops(v: &Value) -> Vec<(String, String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["operationType"].as_str().unwrap().to_string(),
                e["resourceType"].as_str().unwrap().to_string(),
                e["resourcePath"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn journey(env: &Env) {
    let t = env.boss().await;
    // The realm file's events settings were imported.
    let g = env.get("/acme/events/config", &t).await;
    assert_eq!(g.status, 200);
    assert_eq!(g.body["adminEventsEnabled"], true);
    assert_eq!(g.body["adminEventsDetailsEnabled"], false);
    assert_eq!(g.body["eventsExpiration"], 3600);
    assert_eq!(g.body["eventsListeners"], json!(["jboss-logging"]));
    assert_eq!(g.body["eventsEnabled"], false);

    // A user's life: create, a refused duplicate, update, password, delete.
    let g = env
        .post(
            "/acme/users",
            &t,
            json!({"username": "carol", "enabled": true,
              "credentials": [{"type": "password", "value": "carol-secret-pw"}]}),
        )
        .await;
    assert_eq!(g.status, 201);
    let carol = id_from(env, &g.location, "/acme/users/");
    assert_eq!(
        env.post("/acme/users", &t, json!({"username": "carol"}))
            .await
            .status,
        409
    );
    assert_eq!(
        env.put(
            &format!("/acme/users/{carol}"),
            &t,
            json!({"firstName": "C"})
        )
        .await
        .status,
        204
    );
    let g = env
        .put(
            &format!("/acme/users/{carol}/reset-password"),
            &t,
            json!({"type": "password", "value": "n3w-pw", "temporary": false}),
        )
        .await;
    assert_eq!(g.status, 204);
    assert_eq!(
        env.delete(&format!("/acme/users/{carol}"), &t).await.status,
        204
    );
    // Reads are not events.
    assert_eq!(env.get("/acme/users", &t).await.status, 200);

    let g = env.get("/acme/admin-events", &t).await;
    assert_eq!(g.status, 200, "{}", g.body);
    let user_path = format!("users/{carol}");
    assert_eq!(
        ops(&g.body),
        vec![
            ("DELETE".into(), "USER".into(), user_path.clone()),
            (
                "ACTION".into(),
                "USER".into(),
                format!("{user_path}/reset-password")
            ),
            ("UPDATE".into(), "USER".into(), user_path.clone()),
            ("CREATE".into(), "USER".into(), user_path.clone()),
        ],
        "newest first, the refused duplicate not recorded"
    );
    let e = &g.body[3];
    let boss_id = env.user_id(&t, "master", BOSS.0).await;
    let master = env.get("/master", &t).await.body;
    let acme = env.get("/acme", &t).await.body;
    assert_eq!(e["realmId"], acme["id"]);
    assert_eq!(e["authDetails"]["userId"], boss_id.as_str());
    assert_eq!(e["authDetails"]["realmId"], master["id"]);
    let admin_cli = env.client_uuid(&t, "master", "admin-cli").await;
    assert_eq!(e["authDetails"]["clientId"], admin_cli.as_str());
    assert_eq!(e["authDetails"]["ipAddress"], "127.0.0.1");
    assert!(e["time"].as_i64().unwrap() > 0);
    assert!(e.get("representation").is_none(), "details are off");

    // Filters.
    let q = |query: &str| {
        let path = format!("/acme/admin-events?{query}");
        let t = t.clone();
        async move { env.get(&path, &t).await }
    };
    assert_eq!(ops(&q("operationTypes=CREATE").await.body).len(), 1);
    assert_eq!(
        ops(&q("operationTypes=CREATE&operationTypes=DELETE").await.body).len(),
        2
    );
    assert_eq!(ops(&q("resourceTypes=USER").await.body).len(), 4);
    assert_eq!(ops(&q("resourceTypes=GROUP").await.body).len(), 0);
    assert_eq!(
        ops(&q("resourcePath=users/*/reset-password").await.body).len(),
        1
    );
    assert_eq!(
        ops(&q(&format!("resourcePath={user_path}")).await.body).len(),
        3
    );
    assert_eq!(ops(&q(&format!("authUser={boss_id}")).await.body).len(), 4);
    assert_eq!(ops(&q("authUser=someone-else").await.body).len(), 0);
    assert_eq!(
        ops(&q(&format!("authRealm={}", master["id"].as_str().unwrap()))
            .await
            .body)
        .len(),
        4
    );
    assert_eq!(
        ops(&q(&format!("authClient={admin_cli}")).await.body).len(),
        4
    );
    assert_eq!(ops(&q("authIpAddress=127.0.0.1").await.body).len(), 4);
    assert_eq!(
        ops(&q("dateFrom=2000-01-01&dateTo=2999-12-31").await.body).len(),
        4
    );
    assert_eq!(ops(&q("dateFrom=2999-01-01").await.body).len(), 0);
    assert_eq!(ops(&q("dateTo=2000-01-01").await.body).len(), 0);
    let g = q("first=1&max=2").await;
    assert_eq!(ops(&g.body)[0].0, "ACTION");
    assert_eq!(ops(&g.body).len(), 2);
    let g = q("dateFrom=yesterday").await;
    assert_eq!(g.status, 400);
    assert!(
        g.body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("yyyy-MM-dd")
    );
    assert_eq!(q("max=-3").await.status, 400);

    // Details on: the body is kept, without passwords or secrets.
    let g = env
        .put(
            "/acme/events/config",
            &t,
            json!({"adminEventsEnabled": true, "adminEventsDetailsEnabled": true}),
        )
        .await;
    assert_eq!(g.status, 204);
    let g = env
        .post(
            "/acme/users",
            &t,
            json!({"username": "dave", "enabled": true,
              "credentials": [{"type": "password", "value": "dave-secret-pw"}]}),
        )
        .await;
    assert_eq!(g.status, 201);
    let g = env
        .post(
            "/acme/clients",
            &t,
            json!({"clientId": "svc", "secret": "client-s3cret-value"}),
        )
        .await;
    assert_eq!(g.status, 201);
    let g = q("max=3").await;
    let got = ops(&g.body);
    assert_eq!((got[0].0.as_str(), got[0].1.as_str()), ("CREATE", "CLIENT"));
    assert_eq!((got[1].0.as_str(), got[1].1.as_str()), ("CREATE", "USER"));
    assert_eq!(
        (got[2].0.as_str(), got[2].1.as_str(), got[2].2.as_str()),
        ("UPDATE", "REALM", "events/config")
    );
    let all = q("max=100").await.body.to_string();
    assert!(
        !all.contains("dave-secret-pw")
            && !all.contains("client-s3cret-value")
            && !all.contains("n3w-pw"),
        "{all}"
    );
    let rep: Value = serde_json::from_str(g.body[1]["representation"].as_str().unwrap()).unwrap();
    assert_eq!(rep["username"], "dave");
    assert_eq!(rep["credentials"][0]["value"], "**********");
    let rep: Value = serde_json::from_str(g.body[0]["representation"].as_str().unwrap()).unwrap();
    assert_eq!(rep["secret"], "**********");

    // Roles written by id keep their kind: a client role is a CLIENT_ROLE, also when deleted.
    let svc = env.client_uuid(&t, "acme", "svc").await;
    let g = env
        .post(
            &format!("/acme/clients/{svc}/roles"),
            &t,
            json!({"name": "reader"}),
        )
        .await;
    assert_eq!(g.status, 201);
    let role = env
        .get(&format!("/acme/clients/{svc}/roles/reader"), &t)
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let by_id = format!("/acme/roles-by-id/{role}");
    let g = env
        .put(
            &by_id,
            &t,
            json!({"name": "reader", "description": "reads"}),
        )
        .await;
    assert_eq!(g.status, 204);
    assert_eq!(env.delete(&by_id, &t).await.status, 204);
    let got = ops(&q("max=3").await.body);
    assert_eq!(
        (got[0].0.as_str(), got[0].1.as_str()),
        ("DELETE", "CLIENT_ROLE")
    );
    assert_eq!(
        (got[1].0.as_str(), got[1].1.as_str()),
        ("UPDATE", "CLIENT_ROLE")
    );
    assert_eq!(
        (got[2].0.as_str(), got[2].1.as_str()),
        ("CREATE", "CLIENT_ROLE")
    );

    // Rights: view-events reads; changing needs manage-events; other admins see nothing.
    let auditor = env.token("acme", "auditor", "auditor-pw").await;
    assert_eq!(env.get("/acme/admin-events", &auditor).await.status, 200);
    assert_eq!(env.get("/acme/events/config", &auditor).await.status, 200);
    assert_eq!(env.delete("/acme/admin-events", &auditor).await.status, 403);
    assert_eq!(
        env.put(
            "/acme/events/config",
            &auditor,
            json!({"adminEventsEnabled": false})
        )
        .await
        .status,
        403
    );
    let helper = env.token("acme", "helper", "helper-pw").await;
    assert_eq!(env.get("/acme/admin-events", &helper).await.status, 403);
    assert_eq!(
        env.call("GET", "/acme/admin-events", None, None)
            .await
            .status,
        401
    );
    // The realm administrator's own writes are recorded with its identity.
    let g = env
        .post("/acme/groups", &helper, json!({"name": "team"}))
        .await;
    assert_eq!(g.status, 201);
    let gid = id_from(env, &g.location, "/acme/groups/");
    let g = q("resourceTypes=GROUP").await;
    assert_eq!(
        ops(&g.body),
        vec![("CREATE".into(), "GROUP".into(), format!("groups/{gid}"))]
    );
    let helper_id = env.user_id(&t, "acme", "helper").await;
    assert_eq!(g.body[0]["authDetails"]["userId"], helper_id.as_str());

    // Bad configuration is refused; turning events off stops recording.
    assert_eq!(
        env.put("/acme/events/config", &t, json!({"eventsExpiration": -1}))
            .await
            .status,
        400
    );
    assert_eq!(
        env.put(
            "/acme/events/config",
            &t,
            json!({"adminEventsEnabled": "yes"})
        )
        .await
        .status,
        400
    );
    assert_eq!(
        env.put(
            "/acme/events/config",
            &t,
            json!({"adminEventsEnabled": false})
        )
        .await
        .status,
        204
    );
    let before = q("max=1000").await.body.as_array().unwrap().len();
    assert_eq!(
        env.post("/acme/groups", &t, json!({"name": "quiet"}))
            .await
            .status,
        201
    );
    assert_eq!(q("max=1000").await.body.as_array().unwrap().len(), before);

    // Clearing.
    assert_eq!(env.delete("/acme/admin-events", &t).await.status, 204);
    assert_eq!(q("").await.body, json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_events_on_sqlite() {
    let env = start(&acme_realm());
    journey(&env).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_events_on_postgresql() {
    let (jdbc, _schema) = pg_jdbc_with_fresh_schema();
    let url = format!("--db-url={jdbc}");
    let env = start_with(
        &acme_realm(),
        &["--db=postgres", &url, "--db-username=postgres"],
        &[],
    );
    journey(&env).await;
}
