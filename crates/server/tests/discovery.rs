//! Discovery, JWKS and the realm document over real HTTP, with the platform's hostname setup:
//! a public frontend behind a gateway and a direct backchannel on the internal host.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

mod common;

use common::*;
use serde_json::Value;

async fn get_json(url: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn issuer_stays_public_while_backchannel_endpoints_follow_the_request() {
    let w = Workdir::new();
    w.write("data/import/myrealm-realm.json", &Workdir::example_realm());
    let args = [
        "start-dev",
        "--import-realm",
        "--http-relative-path=/auth",
        "--hostname=https://public.example/auth",
        "--hostname-backchannel-dynamic=true",
        "--proxy-headers=xforwarded",
    ];
    let mut s = Server::start(w.path(), &args, &[]).expect("server starts");
    let base = format!("{}/auth/realms/myrealm", s.origin());
    let discovery = format!("{base}/.well-known/openid-configuration");

    // The service's backchannel: straight to the internal host name.
    let (status, d) = get_json(&discovery, &[("host", "keycloak.local:8080")]).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["issuer"], "https://public.example/auth/realms/myrealm");
    assert_eq!(
        d["authorization_endpoint"],
        "https://public.example/auth/realms/myrealm/protocol/openid-connect/auth"
    );
    assert_eq!(
        d["token_endpoint"],
        "http://keycloak.local:8080/auth/realms/myrealm/protocol/openid-connect/token"
    );
    assert_eq!(
        d["jwks_uri"],
        "http://keycloak.local:8080/auth/realms/myrealm/protocol/openid-connect/certs"
    );
    assert_eq!(
        d["userinfo_endpoint"],
        "http://keycloak.local:8080/auth/realms/myrealm/protocol/openid-connect/userinfo"
    );
    assert!(
        d["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "client_secret_post")
    );
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["plain", "S256"])
    );
    assert_eq!(d["id_token_signing_alg_values_supported"][0], "RS256");
    let scopes: Vec<&str> = d["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(scopes[0], "openid");
    for sc in ["profile", "email", "roles", "web-origins", "acr", "basic"] {
        assert!(scopes.contains(&sc), "{sc} in {scopes:?}");
    }

    // The browser's path through the gateway, which adds X-Forwarded-*.
    let (_, d2) = get_json(
        &discovery,
        &[
            ("host", "keycloak.local:8080"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "public.example"),
        ],
    )
    .await;
    assert_eq!(d2["issuer"], d["issuer"], "one issuer on both paths");
    assert_eq!(
        d2["token_endpoint"],
        "https://public.example/auth/realms/myrealm/protocol/openid-connect/token"
    );

    // JWKS: public keys only, each with kid, use and alg; the refresh-token HMAC key is not there.
    let (status, jwks) = get_json(&format!("{base}/protocol/openid-connect/certs"), &[]).await;
    assert_eq!(status, 200);
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks}");
    let k = &keys[0];
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["alg"], "RS256");
    assert_eq!(k["use"], "sig");
    assert_eq!(k["kid"].as_str().unwrap().len(), 43);
    for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        assert!(
            k.get(private).is_none(),
            "{private} must never be published"
        );
    }

    // The realm document carries the same key as python-keycloak expects it.
    let (_, realm) = get_json(&base, &[("host", "keycloak.local:8080")]).await;
    assert_eq!(realm["realm"], "myrealm");
    assert!(
        realm["public_key"]
            .as_str()
            .unwrap()
            .starts_with("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")
    );
    assert_eq!(
        realm["token-service"],
        "https://public.example/auth/realms/myrealm/protocol/openid-connect"
    );

    // Keys are stored: a restart publishes the same kid.
    let kid = k["kid"].clone();
    assert!(s.stop());
    let s2 = Server::start(w.path(), &args, &[]).expect("restart");
    let (_, jwks2) = get_json(
        &format!(
            "{}/auth/realms/myrealm/protocol/openid-connect/certs",
            s2.origin()
        ),
        &[],
    )
    .await;
    assert_eq!(jwks2["keys"][0]["kid"], kid);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_hostname_urls_come_from_the_request_and_untrusted_headers_are_ignored() {
    let w = Workdir::new();
    w.write("data/import/myrealm-realm.json", &Workdir::example_realm());
    let s = Server::start(w.path(), &["start-dev", "--import-realm"], &[]).expect("server starts");
    let url = format!(
        "{}/realms/myrealm/.well-known/openid-configuration",
        s.origin()
    );
    let (_, d) = get_json(
        &url,
        &[
            ("host", "sso.internal:8080"),
            ("x-forwarded-host", "evil.example"),
        ],
    )
    .await;
    assert_eq!(
        d["issuer"], "http://sso.internal:8080/realms/myrealm",
        "X-Forwarded-* ignored without --proxy-headers"
    );
    let (status, _) = get_json(
        &format!(
            "{}/realms/nope/.well-known/openid-configuration",
            s.origin()
        ),
        &[],
    )
    .await;
    assert_eq!(status, 404);
}

/// A real reverse proxy (nginx, standing in for the platform's Envoy gateway) adds
/// X-Forwarded-*; the service's backchannel goes around it. One issuer on both paths.
#[tokio::test(flavor = "multi_thread")]
async fn behind_nginx_the_gateway_and_the_backchannel_see_one_issuer() {
    let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("nginx is installed by scripts/deps");
    let w = Workdir::new();
    w.write("data/import/myrealm-realm.json", &Workdir::example_realm());
    let s = Server::start(
        w.path(),
        &[
            "start-dev",
            "--import-realm",
            "--http-relative-path=/auth",
            "--hostname=https://public.example/auth",
            "--hostname-backchannel-dynamic=true",
            "--proxy-headers=xforwarded",
        ],
        &[],
    )
    .expect("server starts");
    let upstream = s.origin().trim_start_matches("http://").to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let prefix = w.path().join("nginx");
    std::fs::create_dir_all(prefix.join("logs")).unwrap();
    let conf = format!(
        "daemon off;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log;\nevents {{ worker_connections 64; }}\n\
         http {{\n access_log off;\n client_body_temp_path {p}/body; proxy_temp_path {p}/proxy;\n\
         fastcgi_temp_path {p}/fcgi; uwsgi_temp_path {p}/uwsgi; scgi_temp_path {p}/scgi;\n\
         server {{\n  listen 127.0.0.1:{port};\n  location /auth/ {{\n   proxy_pass http://{upstream};\n\
         proxy_set_header Host $host;\n   proxy_set_header X-Forwarded-For $remote_addr;\n\
         proxy_set_header X-Forwarded-Proto https;\n   proxy_set_header X-Forwarded-Host public.example;\n\
         proxy_set_header X-Forwarded-Port 443;\n  }}\n }}\n}}\n",
        p = prefix.display()
    );
    std::fs::write(prefix.join("nginx.conf"), conf).unwrap();
    let proxy = std::process::Command::new(nginx)
        .args([
            "-p",
            prefix.to_str().unwrap(),
            "-c",
            prefix.join("nginx.conf").to_str().unwrap(),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start nginx");
    /// Stops nginx gracefully: SIGQUIT to the master, which stops its workers.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = std::process::Command::new("kill")
                .args(["-QUIT", &self.0.id().to_string()])
                .status();
            let _ = self.0.wait();
        }
    }
    let _guard = Stop(proxy);
    let via_gateway =
        format!("http://127.0.0.1:{port}/auth/realms/myrealm/.well-known/openid-configuration");
    let mut d = Value::Null;
    for _ in 0..50 {
        if let Ok(r) = reqwest::get(&via_gateway).await
            && r.status() == 200
        {
            d = r.json().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        d["issuer"], "https://public.example/auth/realms/myrealm",
        "through nginx: {d}"
    );
    assert_eq!(
        d["token_endpoint"],
        "https://public.example/auth/realms/myrealm/protocol/openid-connect/token"
    );
    // The same moment, the backchannel request straight to the server.
    let (_, direct) = get_json(
        &format!(
            "{}/auth/realms/myrealm/.well-known/openid-configuration",
            s.origin()
        ),
        &[("host", "keycloak.local:8080")],
    )
    .await;
    assert_eq!(direct["issuer"], d["issuer"]);
    assert_eq!(
        direct["token_endpoint"],
        "http://keycloak.local:8080/auth/realms/myrealm/protocol/openid-connect/token"
    );
}
