//! Token signing throughput of `Signer::sign_jwt` for RS256, ES256 and EdDSA over a typical
//! Keycloak-shaped access-token claim set. Compare RS256 with `openssl speed rsa2048` (sign/s)
//! in BENCHMARKS.md: keys are parsed once, so this measures the signer itself.

use aws_lc_rs::rand::SystemRandom;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use portcullis_oidc::jose::{Algorithm, Signer};
use portcullis_oidc::keys::generate;
use serde_json::json;
use std::hint::black_box;

fn access_token_claims() -> serde_json::Value {
    json!({
        "exp": 1_900_000_300,
        "iat": 1_900_000_000,
        "auth_time": 1_899_999_990,
        "jti": "onrtac:6f2b1c9e-4c1a-4d38-9a53-0f7a2b1e8c11",
        "iss": "https://public.example/auth/realms/myrealm",
        "aud": "account",
        "sub": "2f6c3b52-8d0a-4a8e-9f3b-7c1d2e4f5a6b",
        "typ": "Bearer",
        "azp": "myclient",
        "sid": "0d6b8f0e-3c2a-4b7e-8a1d-5e9f4c3b2a10",
        "acr": "1",
        "allowed-origins": ["https://public.example"],
        "realm_access": {"roles": ["default-roles-myrealm", "offline_access", "uma_authorization"]},
        "resource_access": {"account": {"roles": ["manage-account", "manage-account-links", "view-profile"]}},
        "scope": "openid email profile",
        "email_verified": true,
        "name": "Dev User",
        "preferred_username": "dev-user",
        "given_name": "Dev",
        "family_name": "User",
        "email": "dev-user@example.com",
        "groups": ["/staff", "/staff/editors"]
    })
}

fn bench_sign(c: &mut Criterion) {
    let rng = SystemRandom::new();
    let claims = access_token_claims();
    let mut group = c.benchmark_group("sign_jwt");
    group.throughput(Throughput::Elements(1));
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let record = match generate(alg, &rng, 1_900_000_000_000, "myrealm", "bench") {
            Ok(r) => r,
            Err(e) => panic!("key generation failed: {e}"),
        };
        let signer = match Signer::from_record(&record) {
            Ok(s) => s,
            Err(e) => panic!("key parsing failed: {e}"),
        };
        group.bench_function(alg.as_str(), |b| {
            b.iter(|| signer.sign_jwt(black_box("JWT"), black_box(&claims), &rng))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_sign);
criterion_main!(benches);
