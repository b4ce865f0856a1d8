//! Password credentials computed by an independent implementation (Python's hashlib and the
//! argon2 reference implementation; see `data/gen_password_vectors.py`) must verify exactly as
//! recorded, and must be written back byte for byte.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on failure

use portcullis_model::password::{HashPolicy, PasswordHash, hash_password};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Case {
    name: String,
    password: String,
    secret_data: String,
    credential_data: String,
    expect: bool,
}

fn cases() -> Vec<Case> {
    serde_json::from_str(include_str!("data/password-vectors.json"))
        .unwrap_or_else(|error| panic!("data/password-vectors.json: {error}"))
}

#[test]
fn vectors_verify_as_recorded() {
    let cases = cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    assert!(cases.iter().any(|case| !case.expect));
    // The PBKDF2 cases at Keycloak's real iteration counts take seconds unoptimised: spread
    // the cases over the available cores.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let failures: Vec<&str> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|first| {
                let cases = &cases;
                scope.spawn(move || {
                    cases
                        .iter()
                        .skip(first)
                        .step_by(threads)
                        .filter(|case| {
                            let hash = PasswordHash::from_keycloak(
                                &case.secret_data,
                                &case.credential_data,
                            )
                            .unwrap_or_else(|error| panic!("{}: {error}", case.name));
                            hash.verify(&case.password) != case.expect
                        })
                        .map(|case| case.name.as_str())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "verified differently: {failures:#?}");
}

#[test]
fn vectors_round_trip_byte_for_byte() {
    for case in cases() {
        let hash = PasswordHash::from_keycloak(&case.secret_data, &case.credential_data)
            .unwrap_or_else(|error| panic!("{}: {error}", case.name));
        assert_eq!(
            hash.to_keycloak(),
            (case.secret_data, case.credential_data),
            "{}",
            case.name
        );
    }
}

#[test]
fn default_policy_hash_has_keycloak_shape_and_verifies() {
    let hash = hash_password("pässwörd-日本", &HashPolicy::default()).unwrap();
    let (secret_data, credential_data) = hash.to_keycloak();
    assert_eq!(
        credential_data,
        r#"{"hashIterations":5,"algorithm":"argon2","additionalParameters":{"hashLength":["32"],"memory":["7168"],"type":["id"],"version":["1.3"],"parallelism":["1"]}}"#
    );
    let reread = PasswordHash::from_keycloak(&secret_data, &credential_data).unwrap();
    assert!(reread.verify("pässwörd-日本"));
    assert!(!reread.verify("pässwörd-日本 "));
    assert_eq!(reread.to_keycloak(), (secret_data, credential_data));
}
