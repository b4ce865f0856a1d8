//! Realm keys: generation, `kid` thumbprints, public JWKs and the JWKS document.
//!
//! Invariants:
//! - Randomness comes from the `&dyn SecureRandom` the caller passes (in the server, one
//!   `aws_lc_rs::rand::SystemRandom`), except for RSA key generation, which aws-lc does with
//!   its own DRBG (the same generator `SystemRandom` draws from). All key operations are
//!   aws-lc's.
//! - Nothing private is ever published: JWKs carry public members only (RFC 7517 §4, JWT-2)
//!   and HMAC keys never appear in a JWK or in JWKS.
//! - `kid` of an asymmetric key = RFC 7638 JWK thumbprint (SHA-256, base64url, 43 chars). An
//!   HMAC key gets 32 random bytes instead: a thumbprint would be a hash of the secret, copied
//!   into the header of every token.

use aws_lc_rs::rand::SecureRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use portcullis_model::records::KeyRecord;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::der;
use crate::jose::{Algorithm, KeyFamily};

/// Modulus size of generated RSA keys (Keycloak's `rsa-generated` default).
pub const RSA_BITS: usize = 2048;
/// Validity of the self-signed certificate published as `x5c` (about ten years).
pub const CERTIFICATE_VALIDITY_S: i64 = 10 * 365 * 24 * 3600;
/// Priority of generated keys (Keycloak's default provider priority).
pub const DEFAULT_PRIORITY: i64 = 100;

/// A key could not be generated, parsed or published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("unsupported key algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    #[error("invalid key material: {0}")]
    InvalidKey(String),
    #[error("the random number generator failed")]
    Rng,
    #[error("certificate could not be built: {0}")]
    Certificate(String),
}

// ---------------------------------------------------------------------------------------------
// Public material
// ---------------------------------------------------------------------------------------------

/// The public half of a record, decoded once.
pub(crate) enum PublicMaterial {
    Rsa {
        /// `RSAPublicKey` DER (RFC 8017 §A.1.1).
        der: Vec<u8>,
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Ec {
        crv: &'static str,
        /// Uncompressed SEC1 point `04 || X || Y`.
        point: Vec<u8>,
    },
    Ed25519 {
        x: Vec<u8>,
    },
    Hmac,
}

/// OID contents of the named curves we accept.
const P256_OID: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384_OID: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

pub(crate) fn public_material(record: &KeyRecord) -> Result<PublicMaterial, KeyError> {
    let alg: Algorithm = record.algorithm.parse()?;
    let der: &[u8] = &record.private_der;
    match alg.family() {
        KeyFamily::Rsa => {
            let kp =
                RsaKeyPair::from_pkcs8(der).map_err(|e| KeyError::InvalidKey(e.to_string()))?;
            let c: aws_lc_rs::rsa::PublicKeyComponents<Vec<u8>> = kp.public_key().into();
            Ok(PublicMaterial::Rsa {
                der: kp.public_key().as_ref().to_vec(),
                n: c.n,
                e: c.e,
            })
        }
        KeyFamily::EcP256 | KeyFamily::EcP384 => {
            let (oid, point) = der::ec_pkcs8_public(der)
                .ok_or_else(|| KeyError::InvalidKey("EC PKCS#8 without a public key".into()))?;
            let (want_oid, crv, coord) = if alg.family() == KeyFamily::EcP256 {
                (P256_OID, "P-256", 32)
            } else {
                (P384_OID, "P-384", 48)
            };
            if oid != want_oid || point.len() != 1 + 2 * coord {
                return Err(KeyError::InvalidKey(format!("not a {crv} key")));
            }
            Ok(PublicMaterial::Ec {
                crv,
                point: point.to_vec(),
            })
        }
        KeyFamily::Ed25519 => {
            let kp = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                .map_err(|e| KeyError::InvalidKey(e.to_string()))?;
            Ok(PublicMaterial::Ed25519 {
                x: kp.public_key().as_ref().to_vec(),
            })
        }
        KeyFamily::Hmac => Ok(PublicMaterial::Hmac),
    }
}

fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace.
/// Base64url values need no JSON escaping, so the canonical form can be written directly.
fn thumbprint(material: &PublicMaterial) -> Option<String> {
    let canonical = match material {
        PublicMaterial::Rsa { n, e, .. } => {
            format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64u(e), b64u(n))
        }
        PublicMaterial::Ec { crv, point } => {
            let (x, y) = point[1..].split_at((point.len() - 1) / 2);
            format!(
                r#"{{"crv":"{crv}","kty":"EC","x":"{}","y":"{}"}}"#,
                b64u(x),
                b64u(y)
            )
        }
        PublicMaterial::Ed25519 { x } => {
            format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64u(x))
        }
        PublicMaterial::Hmac => return None,
    };
    Some(b64u(&Sha256::digest(canonical.as_bytes())))
}

/// The RFC 7638 thumbprint of a record's public key (`None` for HMAC keys).
pub fn jwk_thumbprint(record: &KeyRecord) -> Result<Option<String>, KeyError> {
    Ok(thumbprint(&public_material(record)?))
}

// ---------------------------------------------------------------------------------------------
// JWK / JWKS
// ---------------------------------------------------------------------------------------------

/// The public JWK of a record, members in Keycloak's order (`kid, kty, alg, use`, then the key
/// members, then `x5c, x5t, x5t#S256` when a certificate exists). `None` for HMAC keys, which
/// are never published.
pub fn public_jwk(record: &KeyRecord) -> Result<Option<Value>, KeyError> {
    let alg: Algorithm = record.algorithm.parse()?;
    let material = public_material(record)?;
    let mut jwk = serde_json::Map::new();
    jwk.insert("kid".into(), json!(record.kid));
    let kty = match &material {
        PublicMaterial::Rsa { .. } => "RSA",
        PublicMaterial::Ec { .. } => "EC",
        PublicMaterial::Ed25519 { .. } => "OKP",
        PublicMaterial::Hmac => return Ok(None),
    };
    jwk.insert("kty".into(), json!(kty));
    jwk.insert("alg".into(), json!(alg.as_str()));
    jwk.insert("use".into(), json!(record.key_use));
    match &material {
        PublicMaterial::Rsa { n, e, .. } => {
            jwk.insert("n".into(), json!(b64u(n)));
            jwk.insert("e".into(), json!(b64u(e)));
        }
        PublicMaterial::Ec { crv, point } => {
            let (x, y) = point[1..].split_at((point.len() - 1) / 2);
            jwk.insert("crv".into(), json!(crv));
            jwk.insert("x".into(), json!(b64u(x)));
            jwk.insert("y".into(), json!(b64u(y)));
        }
        PublicMaterial::Ed25519 { x } => {
            jwk.insert("crv".into(), json!("Ed25519"));
            jwk.insert("x".into(), json!(b64u(x)));
        }
        PublicMaterial::Hmac => return Ok(None),
    }
    if let Some(cert) = &record.certificate_der {
        // RFC 7517 §4.7: x5c is standard base64 (not base64url) DER.
        jwk.insert("x5c".into(), json!([STANDARD.encode(cert)]));
        // RFC 7517 §4.8: x5t is the SHA-1 thumbprint of the DER certificate.
        let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, cert);
        jwk.insert("x5t".into(), json!(b64u(sha1.as_ref())));
        jwk.insert("x5t#S256".into(), json!(b64u(&Sha256::digest(cert))));
    }
    Ok(Some(Value::Object(jwk)))
}

/// `{"keys": [...]}` of the enabled asymmetric keys, in the given order. A record that fails to
/// decode is skipped (the server notices it when it builds its signers and verifier).
pub fn jwks(records: &[KeyRecord]) -> Value {
    let keys: Vec<Value> = records
        .iter()
        .filter(|r| r.enabled)
        .filter_map(|r| public_jwk(r).ok().flatten())
        .collect();
    json!({ "keys": keys })
}

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

/// Generates a new enabled, active signing key. RSA 2048 for RS*/PS*, P-256 for ES256, P-384
/// for ES384, Ed25519 for EdDSA, a random secret of the hash length for HS* (64 bytes for
/// HS512). RSA keys get a self-signed certificate (subject `CN={realm_id}`, valid from
/// `now_ms` for about ten years) published as `x5c`.
pub fn generate(
    alg: Algorithm,
    rng: &dyn SecureRandom,
    now_ms: i64,
    realm_id: &str,
    id: &str,
) -> Result<KeyRecord, KeyError> {
    let (private_der, certificate_der): (Vec<u8>, Option<Vec<u8>>) = match alg.family() {
        KeyFamily::Rsa => {
            let der = generate_rsa_pkcs8()?;
            let cert = self_signed_certificate(&der, realm_id, now_ms, rng)?;
            (der, Some(cert))
        }
        KeyFamily::EcP256 | KeyFamily::EcP384 => {
            let ring_alg = if alg.family() == KeyFamily::EcP256 {
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING
            } else {
                &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED_SIGNING
            };
            let doc = EcdsaKeyPair::generate_pkcs8(ring_alg, rng).map_err(|_| KeyError::Rng)?;
            (doc.as_ref().to_vec(), None)
        }
        KeyFamily::Ed25519 => {
            let doc = Ed25519KeyPair::generate_pkcs8(rng).map_err(|_| KeyError::Rng)?;
            (doc.as_ref().to_vec(), None)
        }
        KeyFamily::Hmac => {
            let mut secret = vec![0u8; alg.min_hmac_key_len()];
            rng.fill(&mut secret).map_err(|_| KeyError::Rng)?;
            (secret, None)
        }
    };
    let mut record = KeyRecord {
        id: id.to_owned(),
        realm_id: realm_id.to_owned(),
        kid: String::new(),
        algorithm: alg.as_str().to_owned(),
        key_use: "sig".to_owned(),
        private_der: private_der.into(),
        certificate_der,
        enabled: true,
        active: true,
        priority: DEFAULT_PRIORITY,
        created_at: now_ms,
    };
    record.kid = match thumbprint(&public_material(&record)?) {
        Some(t) => t,
        None => {
            let mut raw = [0u8; 32];
            rng.fill(&mut raw).map_err(|_| KeyError::Rng)?;
            b64u(&raw)
        }
    };
    Ok(record)
}

/// An RSA private key as PKCS#8 DER, generated by aws-lc (FIPS 186-4 key generation from its
/// own DRBG, the one behind `SystemRandom`), checked by parsing it back for signing.
fn generate_rsa_pkcs8() -> Result<Vec<u8>, KeyError> {
    use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
    let size = match RSA_BITS {
        3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
        4096 => aws_lc_rs::rsa::KeySize::Rsa4096,
        _ => aws_lc_rs::rsa::KeySize::Rsa2048,
    };
    let key = aws_lc_rs::rsa::KeyPair::generate(size).map_err(|_| KeyError::Rng)?;
    let doc: Pkcs8V1Der<'static> = key
        .as_der()
        .map_err(|e| KeyError::InvalidKey(e.to_string()))?;
    let der = doc.as_ref().to_vec();
    RsaKeyPair::from_pkcs8(&der).map_err(|e| KeyError::InvalidKey(e.to_string()))?;
    Ok(der)
}

// ---------------------------------------------------------------------------------------------
// Self-signed certificate (x5c)
// ---------------------------------------------------------------------------------------------

/// The RSA key as rcgen sees it: rcgen lays out the certificate, ring signs it with the
/// caller's RNG (rcgen is built without a crypto backend of its own).
struct CertSigner<'a> {
    key: &'a RsaKeyPair,
    rng: &'a dyn SecureRandom,
}

impl rcgen::PublicKeyData for CertSigner<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

impl rcgen::SigningKey for CertSigner<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                self.rng,
                msg,
                &mut sig,
            )
            .map_err(|_| rcgen::Error::RemoteKeyError)?;
        Ok(sig)
    }
}

/// A self-signed X.509 certificate (sha256WithRSAEncryption, `CN={subject_cn}`, random
/// serial, valid from `now_ms` for [`CERTIFICATE_VALIDITY_S`]) for an RSA PKCS#8 key, as DER.
/// Published as `x5c`; nothing in the server relies on it.
pub fn self_signed_certificate(
    rsa_pkcs8: &[u8],
    subject_cn: &str,
    now_ms: i64,
    rng: &dyn SecureRandom,
) -> Result<Vec<u8>, KeyError> {
    let key = RsaKeyPair::from_pkcs8(rsa_pkcs8).map_err(|e| KeyError::InvalidKey(e.to_string()))?;
    let now_s = now_ms.div_euclid(1000);
    let not_before = time::OffsetDateTime::from_unix_timestamp(now_s)
        .map_err(|e| KeyError::Certificate(e.to_string()))?;
    let not_after = time::OffsetDateTime::from_unix_timestamp(now_s + CERTIFICATE_VALIDITY_S)
        .map_err(|e| KeyError::Certificate(e.to_string()))?;
    // RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random bytes with the top bit clear.
    let mut serial = [0u8; 16];
    rng.fill(&mut serial).map_err(|_| KeyError::Rng)?;
    serial[0] &= 0x7f;
    serial[0] |= 0x01;

    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, subject_cn);
    params.distinguished_name = dn;
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(serial.to_vec().into());

    let signer = CertSigner { key: &key, rng };
    let cert = params
        .self_signed(&signer)
        .map_err(|e| KeyError::Certificate(e.to_string()))?;
    Ok(cert.der().to_vec())
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use std::sync::OnceLock;

    /// One RSA key per test binary: generation is slow in unoptimised builds.
    pub(crate) fn rsa_record() -> KeyRecord {
        static KEY: OnceLock<KeyRecord> = OnceLock::new();
        KEY.get_or_init(|| {
            generate(
                Algorithm::RS256,
                &aws_lc_rs::rand::SystemRandom::new(),
                1_700_000_000_000,
                "myrealm",
                "rsa-1",
            )
            .unwrap()
        })
        .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::rsa_record;
    use super::*;
    use aws_lc_rs::rand::SystemRandom;

    const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

    fn assert_public_only(jwk: &Value) {
        for m in PRIVATE_MEMBERS {
            assert!(jwk.get(m).is_none(), "private member {m} in {jwk}");
        }
    }

    fn keys_of(jwk: &Value) -> Vec<&str> {
        jwk.as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn rsa_record_shape_and_jwk() {
        let rec = rsa_record();
        assert_eq!(rec.algorithm, "RS256");
        assert_eq!(rec.key_use, "sig");
        assert!(rec.enabled && rec.active);
        assert_eq!(rec.kid.len(), 43);
        assert_eq!(rec.created_at, 1_700_000_000_000);
        let jwk = public_jwk(&rec).unwrap().unwrap();
        assert_eq!(
            keys_of(&jwk),
            [
                "kid", "kty", "alg", "use", "n", "e", "x5c", "x5t", "x5t#S256"
            ]
        );
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(jwk["kid"], rec.kid.as_str());
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(jwk["n"].as_str().unwrap())
                .unwrap()
                .len(),
            256
        );
        assert_eq!(jwk["x5t"].as_str().unwrap().len(), 27);
        assert_eq!(jwk["x5t#S256"].as_str().unwrap().len(), 43);
        assert_public_only(&jwk);
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint_of_the_published_jwk() {
        let rng = SystemRandom::new();
        let mut recs = vec![rsa_record()];
        for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA] {
            recs.push(generate(alg, &rng, 0, "r", "k").unwrap());
        }
        for rec in recs {
            let jwk = public_jwk(&rec).unwrap().unwrap();
            let required: &[&str] = match jwk["kty"].as_str().unwrap() {
                "RSA" => &["e", "kty", "n"],
                "EC" => &["crv", "kty", "x", "y"],
                _ => &["crv", "kty", "x"],
            };
            // Recompute independently with serde_json (sorted keys, no whitespace).
            let canonical: std::collections::BTreeMap<&str, &Value> =
                required.iter().map(|k| (*k, &jwk[*k])).collect();
            let text = serde_json::to_string(&canonical).unwrap();
            let expect = URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()));
            assert_eq!(rec.kid, expect, "{}", rec.algorithm);
            assert_eq!(
                jwk_thumbprint(&rec).unwrap().as_deref(),
                Some(expect.as_str())
            );
        }
    }

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1 example key and its published thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let material = PublicMaterial::Rsa {
            der: vec![],
            n: URL_SAFE_NO_PAD.decode(n).unwrap(),
            e: vec![1, 0, 1],
        };
        assert_eq!(
            thumbprint(&material).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn ec_and_okp_jwks() {
        let rng = SystemRandom::new();
        let ec = generate(Algorithm::ES256, &rng, 0, "r", "k").unwrap();
        let jwk = public_jwk(&ec).unwrap().unwrap();
        assert_eq!(keys_of(&jwk), ["kid", "kty", "alg", "use", "crv", "x", "y"]);
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["x"].as_str().unwrap().len(), 43);
        assert_public_only(&jwk);

        let ec384 = generate(Algorithm::ES384, &rng, 0, "r", "k").unwrap();
        let jwk = public_jwk(&ec384).unwrap().unwrap();
        assert_eq!(jwk["crv"], "P-384");
        assert_eq!(jwk["y"].as_str().unwrap().len(), 64);

        let ed = generate(Algorithm::EdDSA, &rng, 0, "r", "k").unwrap();
        let jwk = public_jwk(&ed).unwrap().unwrap();
        assert_eq!(keys_of(&jwk), ["kid", "kty", "alg", "use", "crv", "x"]);
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_public_only(&jwk);
    }

    #[test]
    fn ec_key_recorded_under_the_wrong_curve_is_refused() {
        let rng = SystemRandom::new();
        let mut ec = generate(Algorithm::ES256, &rng, 0, "r", "k").unwrap();
        ec.algorithm = "ES384".into();
        assert!(matches!(public_jwk(&ec), Err(KeyError::InvalidKey(_))));
    }

    #[test]
    fn hmac_keys_are_never_published() {
        let rng = SystemRandom::new();
        let hs = generate(Algorithm::HS512, &rng, 0, "r", "k").unwrap();
        assert_eq!(hs.private_der.len(), 64);
        assert_eq!(hs.kid.len(), 43);
        assert_eq!(public_jwk(&hs).unwrap(), None);
        assert_eq!(jwk_thumbprint(&hs).unwrap(), None);
        let doc = jwks(std::slice::from_ref(&hs));
        assert_eq!(doc, json!({"keys": []}));
        // The kid is not derived from the secret.
        assert_ne!(hs.kid, b64u(&Sha256::digest(&*hs.private_der)));
        assert_eq!(
            generate(Algorithm::HS256, &rng, 0, "r", "k")
                .unwrap()
                .private_der
                .len(),
            32
        );
    }

    #[test]
    fn jwks_lists_enabled_asymmetric_keys_only() {
        let rng = SystemRandom::new();
        let rsa = rsa_record();
        let ec = generate(Algorithm::ES256, &rng, 0, "r", "e").unwrap();
        let mut disabled = generate(Algorithm::EdDSA, &rng, 0, "r", "d").unwrap();
        disabled.enabled = false;
        let mut inactive = generate(Algorithm::EdDSA, &rng, 0, "r", "i").unwrap();
        inactive.active = false; // rotated out of signing but still published (JWT-2)
        let hs = generate(Algorithm::HS512, &rng, 0, "r", "h").unwrap();
        let mut broken = generate(Algorithm::ES256, &rng, 0, "r", "b").unwrap();
        broken.private_der = vec![1, 2, 3].into();
        let doc = jwks(&[
            rsa.clone(),
            ec.clone(),
            disabled,
            inactive.clone(),
            hs,
            broken,
        ]);
        let kids: Vec<&str> = doc["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(
            kids,
            [rsa.kid.as_str(), ec.kid.as_str(), inactive.kid.as_str()]
        );
        for k in doc["keys"].as_array().unwrap() {
            assert_public_only(k);
            assert!(k.get("use").is_some() && k.get("alg").is_some());
        }
    }

    #[test]
    fn certificate_is_self_signed_by_the_key() {
        let rec = rsa_record();
        let cert = rec.certificate_der.clone().unwrap();
        // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
        let (body, rest) = der::expect(&cert, der::SEQUENCE).unwrap();
        assert!(rest.is_empty());
        let (_, _, after_tbs) = der::read_tlv(body).unwrap();
        let tbs = &body[..body.len() - after_tbs.len()];
        let (_alg, after_alg) = der::expect(after_tbs, der::SEQUENCE).unwrap();
        let (sig_bits, _) = der::expect(after_alg, der::BIT_STRING).unwrap();
        let public = match public_material(&rec).unwrap() {
            PublicMaterial::Rsa { der, .. } => der,
            _ => unreachable!(),
        };
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            &public,
        )
        .verify(tbs, &sig_bits[1..])
        .unwrap();
        // The certificate carries the same public key (its DER appears inside the SPKI).
        assert!(tbs.windows(public.len()).any(|w| w == public.as_slice()));
        // And the subject names the realm.
        assert!(tbs.windows(7).any(|w| w == b"myrealm"));
    }
}

/// The RSA public key of a record as Keycloak's realm document shows it (`public_key`):
/// base64 (standard, padded) of the X.509 `SubjectPublicKeyInfo` DER. `None` for other keys.
pub fn public_key_spki_base64(record: &KeyRecord) -> Result<Option<String>, KeyError> {
    use base64::Engine as _;
    let PublicMaterial::Rsa { der, .. } = public_material(record)? else {
        return Ok(None);
    };
    // AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
    const RSA_ALGORITHM_ID: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bit_string = vec![0u8]; // no unused bits
    bit_string.extend_from_slice(&der);
    let mut body = RSA_ALGORITHM_ID.to_vec();
    body.extend(der_tlv(crate::der::BIT_STRING, &bit_string));
    let spki = der_tlv(crate::der::SEQUENCE, &body);
    Ok(Some(base64::engine::general_purpose::STANDARD.encode(spki)))
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// PKCS#1 `RSAPublicKey` DER (`SEQUENCE { INTEGER n, INTEGER e }`) from a JWK's unsigned
/// big-endian `n` and `e`.
pub(crate) fn rsa_public_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn unsigned_integer(bytes: &[u8]) -> Vec<u8> {
        let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
            Some(i) => &bytes[i..],
            None => &[0],
        };
        let mut content = Vec::with_capacity(trimmed.len() + 1);
        if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend_from_slice(trimmed);
        der_tlv(crate::der::INTEGER, &content)
    }
    let mut body = unsigned_integer(n);
    body.extend(unsigned_integer(e));
    der_tlv(crate::der::SEQUENCE, &body)
}
