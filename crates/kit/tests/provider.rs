//! The provider's JWKS cache against a small identity server on loopback: an unknown `kid`
//! (key rotation) refreshes the keys; forged `kid`s cannot make the service fetch the JWKS
//! more than once per interval; discovery with another issuer is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use portcullis_kit::{KitConfig, Provider};
use portcullis_oidc::jose::{Algorithm, Signer};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Clone)]
struct Idp {
    issuer: String,
    jwks: Arc<RwLock<Value>>,
    fetches: Arc<AtomicUsize>,
}

async fn discovery(State(idp): State<Idp>) -> axum::Json<Value> {
    axum::Json(json!({
        "issuer": idp.issuer,
        "authorization_endpoint": format!("{}/protocol/openid-connect/auth", idp.issuer),
        "token_endpoint": format!("{}/protocol/openid-connect/token", idp.issuer),
        "jwks_uri": format!("{}/protocol/openid-connect/certs", idp.issuer),
    }))
}

async fn certs(State(idp): State<Idp>) -> axum::Json<Value> {
    idp.fetches.fetch_add(1, Ordering::SeqCst);
    axum::Json(idp.jwks.read().unwrap().clone())
}

async fn start(issuer_override: Option<&str>) -> (Idp, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = format!("{base}/realms/r");
    let idp = Idp {
        issuer: issuer_override.map_or(issuer.clone(), str::to_owned),
        jwks: Arc::new(RwLock::new(json!({"keys": []}))),
        fetches: Arc::new(AtomicUsize::new(0)),
    };
    let app = Router::new()
        .route("/realms/r/.well-known/openid-configuration", get(discovery))
        .route("/realms/r/protocol/openid-connect/certs", get(certs))
        .with_state(idp.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (idp, issuer)
}

fn provider(issuer: &str, min_refresh_s: u64) -> Provider {
    let raw: portcullis_kit::config::RawConfig = serde_json::from_value(json!({
        "issuer": issuer, "client_id": "svc", "client_secret": "s",
        "service_url": "http://svc.example", "jwks_min_refresh_s": min_refresh_s
    }))
    .unwrap();
    Provider::new(Arc::new(KitConfig::validate(raw).unwrap())).unwrap()
}

fn key(kid: &str) -> (portcullis_model::records::KeyRecord, Signer) {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut r = portcullis_oidc::keys::generate(Algorithm::ES256, &rng, 0, "r", "id").unwrap();
    r.kid = kid.to_owned();
    let s = Signer::from_record(&r).unwrap();
    (r, s)
}

fn token(signer: &Signer, issuer: &str) -> String {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({"iss": issuer, "aud": "svc", "typ": "Bearer", "sub": "u",
                        "exp": now + 300, "iat": now, "groups": ["editors"]});
    signer.sign_jwt("JWT", &claims, &rng).unwrap()
}

#[tokio::test]
async fn an_unknown_kid_refreshes_the_keys_once() {
    let (idp, issuer) = start(None).await;
    let (r1, s1) = key("k1");
    *idp.jwks.write().unwrap() = portcullis_oidc::keys::jwks(std::slice::from_ref(&r1));
    let p = provider(&issuer, 0);
    p.verify_access_token(&token(&s1, &issuer)).await.unwrap();
    p.verify_access_token(&token(&s1, &issuer)).await.unwrap();
    assert_eq!(idp.fetches.load(Ordering::SeqCst), 1, "keys cached");

    // Rotation: the identity server signs with k2; the service learns it on first sight.
    let (r2, s2) = key("k2");
    *idp.jwks.write().unwrap() = portcullis_oidc::keys::jwks(&[r1, r2]);
    p.verify_access_token(&token(&s2, &issuer)).await.unwrap();
    assert_eq!(idp.fetches.load(Ordering::SeqCst), 2);

    // A token from another issuer is refused even with a valid signature.
    assert!(
        p.verify_access_token(&token(&s2, "http://evil.example/realms/r"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn forged_kids_fetch_the_keys_at_most_once_per_interval() {
    let (idp, issuer) = start(None).await;
    let (r1, s1) = key("k1");
    *idp.jwks.write().unwrap() = portcullis_oidc::keys::jwks(std::slice::from_ref(&r1));
    let p = provider(&issuer, 60);
    p.verify_access_token(&token(&s1, &issuer)).await.unwrap();
    let (_, forged) = key("forged");
    for _ in 0..5 {
        assert!(
            p.verify_access_token(&token(&forged, &issuer))
                .await
                .is_err()
        );
    }
    assert_eq!(idp.fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn discovery_naming_another_issuer_is_refused() {
    let (_idp, issuer) = start(Some("http://other.example/realms/r")).await;
    let p = provider(&issuer, 0);
    let err = p.endpoints().await.unwrap_err().to_string();
    assert!(err.contains("discovery names issuer"), "{err}");
}
