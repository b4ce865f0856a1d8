//! The admin API's OpenAPI document as the real server serves it: no token needed, OpenAPI 3.1,
//! the server URL under `--http-relative-path`, every operation secured by the bearer scheme
//! and answering 401 and 403 with the error body, known operations present with their
//! parameters and bodies, and the document agreeing with the router (a documented operation is
//! routed; an undocumented method on a documented path is not).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::*;
use serde_json::Value;

const METHODS: [&str; 4] = ["get", "put", "post", "delete"];

#[tokio::test]
async fn the_document_is_served_and_complete() {
    let w = Workdir::new();
    let mut server = Server::start(w.path(), &["start-dev", "--http-relative-path=/auth"], &[])
        .expect("server starts");
    let origin = server.origin();
    let http = reqwest::Client::new();

    let resp = http
        .get(format!("{origin}/auth/admin/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let first = resp.bytes().await.unwrap();
    let doc: Value = serde_json::from_slice(&first).expect("the document is JSON");

    // OpenAPI 3.1, served under the relative path, bearer security declared.
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["servers"][0]["url"], "/auth");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["UserRepresentation"].is_object());
    assert!(doc["components"]["schemas"]["AdminError"].is_object());

    // Every operation: bearer security, 401 and 403 with the error body, an operation id.
    let paths = doc["paths"].as_object().unwrap();
    let mut ops = 0;
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in paths {
        assert!(path.starts_with("/admin/realms"), "{path}");
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            ops += 1;
            let what = format!("{m} {path}");
            assert_eq!(op["security"][0]["bearer"], Value::Array(vec![]), "{what}");
            for status in ["401", "403"] {
                let r = &op["responses"][status];
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/AdminError",
                    "{what} {status}"
                );
            }
            let id = op["operationId"].as_str().unwrap().to_owned();
            assert!(ids.insert(id.clone()), "{what}: operationId {id} repeats");
            // Path parameters are declared for every `{name}` of the template.
            for seg in path.split('/').filter(|s| s.starts_with('{')) {
                let name = seg.trim_matches(|c| c == '{' || c == '}');
                let declared = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["in"] == "path" && p["name"] == name);
                assert!(declared, "{what}: path parameter {name}");
            }
            if op.get("requestBody").is_some() {
                assert!(op["responses"]["415"].is_object(), "{what}");
            }
        }
    }
    assert!(ops >= 91, "{ops} operations");

    // A sample of known operations, with what they must say.
    let op = |m: &str, p: &str| -> Value { doc["paths"][format!("/admin/realms{p}")][m].clone() };
    let users = op("get", "/{realm}/users");
    let names: Vec<&str> = users["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for n in [
        "realm",
        "first",
        "max",
        "search",
        "briefRepresentation",
        "exact",
        "username",
    ] {
        assert!(names.contains(&n), "GET /users lacks {n}: {names:?}");
    }
    assert_eq!(
        users["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"],
        "#/components/schemas/UserRepresentation"
    );
    let create = op("post", "/{realm}/users");
    assert!(create["requestBody"]["content"]["application/json"].is_object());
    assert!(create["responses"]["201"]["headers"]["Location"].is_object());
    assert!(create["responses"]["409"].is_object());
    for (m, p) in [
        ("get", "/{realm}"),
        ("put", "/{realm}/users/{id}/reset-password"),
        ("delete", "/{realm}/groups/{id}"),
        ("post", "/{realm}/roles-by-id/{id}/composites"),
        (
            "get",
            "/{realm}/users/{id}/role-mappings/clients/{client}/available",
        ),
        ("post", "/{realm}/clients/{id}/client-secret"),
        ("get", "/{realm}/client-session-stats"),
        ("post", "/{realm}/logout-all"),
    ] {
        assert!(op(m, p).is_object(), "{m} {p} is not documented");
    }
    assert!(doc["paths"]["/admin/realms"]["get"].is_object());

    // The router agrees with the document: each documented operation is routed (401 without a
    // token, not 404/405), and a method the document does not list is not (405).
    for (path, item) in paths {
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let url = format!("{origin}/auth{concrete}");
        for m in METHODS {
            let method = reqwest::Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let status = http.request(method, &url).send().await.unwrap().status();
            if item.get(m).is_some() {
                assert_eq!(status, 401, "{m} {path}");
            } else {
                assert_eq!(status, 405, "{m} {path} is routed but not documented");
            }
        }
    }

    // The bytes are computed once: the same on every request.
    let again = http
        .get(format!("{origin}/auth/admin/openapi.json"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(first, again);
    assert!(server.stop());
}
