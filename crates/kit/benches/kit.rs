//! The kit's request-path costs:
//! - `verify_access_token`: local verification of an RS256 access token (signature with the
//!   cached JWKS key, issuer, audience, expiry) — compare with `openssl speed rsa2048`'s
//!   verify/s on the same core (target: ≥ that rate ÷ 1.2);
//! - `guard`: a trivial axum route with and without `require_permission` + the `Auth`
//!   extractor for a browser session already in the session cache (target overhead ≤ 10 µs).
//!
//! `taskset -c 0 cargo bench -p portcullis-kit --bench kit` (figures in BENCHMARKS.md).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_kit::provider::check_access_token;
use portcullis_kit::{Kit, KitConfig, require_permission};
use portcullis_oidc::jose::{Algorithm, Signer, Verifier};
use serde_json::json;
use std::hint::black_box;
use tower::ServiceExt as _;

fn config(db: &std::path::Path) -> KitConfig {
    let raw: portcullis_kit::config::RawConfig = serde_json::from_value(json!({
        "issuer": "https://idp.example/auth/realms/myrealm",
        "client_id": "myclient", "client_secret": "s", "service_url": "http://svc.example",
        "database_url": format!("sqlite://{}", db.display()),
        "group_to_role": {"editors": "editor"},
        "roles": {"roles": {
            "viewer": {"permissions": ["article.view"]},
            "editor": {"permissions": ["article.edit"], "inherits": ["viewer"]}
        }}
    }))
    .unwrap();
    KitConfig::validate(raw).unwrap()
}

fn verify(c: &mut Criterion) {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let record = portcullis_oidc::keys::generate(Algorithm::RS256, &rng, 0, "r", "k").unwrap();
    let signer = Signer::from_record(&record).unwrap();
    let jwks = portcullis_oidc::keys::jwks(std::slice::from_ref(&record));
    let verifier = Verifier::from_jwks(&jwks).unwrap();
    let claims = json!({
        "exp": 4_000_000_000i64, "iat": 1_900_000_000, "jti": "onrtac:6f2b1c9e",
        "iss": "https://idp.example/auth/realms/myrealm", "aud": ["myclient", "account"],
        "sub": "2f6c3b52-8d0a-4a8e-9f3b-7c1d2e4f5a6b", "typ": "Bearer", "azp": "myclient",
        "sid": "0d6b8f0e-3c2a-4b7e-8a1d-5e9f4c3b2a10", "scope": "openid email profile",
        "realm_access": {"roles": ["default-roles-myrealm", "offline_access"]},
        "groups": ["editors"], "preferred_username": "alice", "email": "alice@example.com"
    });
    let token = signer.sign_jwt("JWT", &claims, &rng).unwrap();
    let cfg = config(std::path::Path::new("unused.db"));
    c.bench_function("verify_access_token/RS256", |b| {
        b.iter(|| {
            let v = verifier
                .verify(black_box(&token), &[Algorithm::RS256])
                .unwrap();
            check_access_token(&v.claims, &cfg, 1_900_000_100).unwrap();
        })
    });
}

fn guard(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kit = rt
        .block_on(Kit::connect(config(&dir.path().join("bench.db"))))
        .unwrap();
    // A synced user with a browser session.
    let cookie = rt.block_on(async {
        let outcome = kit
            .store()
            .sync_login(&portcullis_kit::Identity {
                subject: "s1".into(),
                username: "alice".into(),
                email: None,
                email_verified: false,
                first_name: None,
                last_name: None,
                groups: ["editors".to_string()].into(),
                sid: None,
            })
            .await
            .unwrap();
        kit.store()
            .create_session(
                "bench-session-id",
                &outcome.user.id,
                None,
                None,
                "csrf",
                "sso",
                3600,
            )
            .await
            .unwrap();
        "kit_session=bench-session-id"
    });
    let plain: Router = Router::new().route("/", get(|| async { "ok" }));
    let guarded: Router = kit.attach(
        Router::new()
            .route("/", get(|| async { "ok" }))
            .route_layer(require_permission("article.view")),
    );
    let request = || {
        Request::builder()
            .uri("/")
            .header("cookie", cookie)
            .body(Body::empty())
            .unwrap()
    };
    // Fill the session cache, and check the guard lets alice through.
    let first = rt.block_on(guarded.clone().oneshot(request())).unwrap();
    assert_eq!(first.status(), 200);
    let mut g = c.benchmark_group("guard");
    g.bench_function("trivial route", |b| {
        b.iter(|| rt.block_on(plain.clone().oneshot(request())).unwrap())
    });
    g.bench_function("trivial route + require_permission (cached session)", |b| {
        b.iter(|| rt.block_on(guarded.clone().oneshot(request())).unwrap())
    });
    g.finish();
}

criterion_group!(benches, verify, guard);
criterion_main!(benches);
