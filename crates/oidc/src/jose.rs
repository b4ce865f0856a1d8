//! Compact JWS (RFC 7515) signing and verification over realm keys.
//!
//! Invariants:
//! - A [`Signer`] parses its private key once, at construction; signing never re-parses.
//! - [`Verifier::verify`] uses the algorithm *recorded for the key* named by `kid`, never the
//!   one the token's header claims (RFC 8725 §2.1, §3.1): `alg: none`, a header algorithm that
//!   differs from the key's (e.g. HS256 keyed with an RSA public key), an unknown `kid`, a
//!   `crit` header, a bad signature, malformed segments and tokens over [`MAX_TOKEN_LEN`] are
//!   all rejected before the payload is parsed.
//! - No clock and no RNG of our own: time checks are the separate pure [`check_times`], and
//!   the RNG ring needs (ECDSA nonces, PSS salts) is passed in by the caller.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SecureRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_model::records::KeyRecord;
use serde_json::{Map, Value};

use crate::error::OAuthError;
use crate::keys::{self, KeyError, PublicMaterial};

/// Tokens longer than this are rejected before any decoding (16 KiB).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

// ---------------------------------------------------------------------------------------------
// Algorithms
// ---------------------------------------------------------------------------------------------

/// JWS algorithms we sign and verify (RFC 7518 §3.1, RFC 8037 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(clippy::upper_case_acronyms)]
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
    HS256,
    HS384,
    HS512,
}

/// The kind of key an [`Algorithm`] needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
    Hmac,
}

impl Algorithm {
    pub const ALL: [Algorithm; 12] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
        Algorithm::HS256,
        Algorithm::HS384,
        Algorithm::HS512,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
        }
    }

    /// Exact, case-sensitive match (RFC 7515 §4.1.1: `alg` is case-sensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn family(self) -> KeyFamily {
        match self {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => KeyFamily::Rsa,
            Algorithm::ES256 => KeyFamily::EcP256,
            Algorithm::ES384 => KeyFamily::EcP384,
            Algorithm::EdDSA => KeyFamily::Ed25519,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => KeyFamily::Hmac,
        }
    }

    /// HMAC algorithms: their keys are secrets, never published.
    pub fn is_symmetric(self) -> bool {
        self.family() == KeyFamily::Hmac
    }

    fn rsa_signing(self) -> Option<&'static dyn signature::RsaEncoding> {
        Some(match self {
            Algorithm::RS256 => &signature::RSA_PKCS1_SHA256,
            Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
            Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
            Algorithm::PS256 => &signature::RSA_PSS_SHA256,
            Algorithm::PS384 => &signature::RSA_PSS_SHA384,
            Algorithm::PS512 => &signature::RSA_PSS_SHA512,
            _ => return None,
        })
    }

    fn ecdsa_signing(self) -> Option<&'static signature::EcdsaSigningAlgorithm> {
        match self {
            Algorithm::ES256 => Some(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
            Algorithm::ES384 => Some(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
            _ => None,
        }
    }

    fn hmac(self) -> Option<hmac::Algorithm> {
        match self {
            Algorithm::HS256 => Some(hmac::HMAC_SHA256),
            Algorithm::HS384 => Some(hmac::HMAC_SHA384),
            Algorithm::HS512 => Some(hmac::HMAC_SHA512),
            _ => None,
        }
    }

    /// RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
    pub(crate) fn min_hmac_key_len(self) -> usize {
        match self {
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            _ => 32,
        }
    }

    fn verification(self) -> Option<&'static dyn signature::VerificationAlgorithm> {
        Some(match self {
            Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
            Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
            Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
            Algorithm::EdDSA => &signature::ED25519,
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => return None,
        })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| KeyError::UnsupportedAlgorithm(s.to_owned()))
    }
}

// ---------------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------------

/// Signing failed (only an RNG or internal crypto failure can cause this).
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("signing failed in the crypto library")]
    Crypto,
    #[error("claims could not be serialised: {0}")]
    Encode(#[from] serde_json::Error),
}

enum SigningKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Hmac(Box<hmac::Key>),
}

/// A realm key, parsed once, ready to sign. Cheap to share behind an `Arc`.
pub struct Signer {
    kid: String,
    alg: Algorithm,
    key: SigningKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// The JOSE header, fields in Keycloak's order (compat §2.1).
#[derive(serde::Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    kid: &'a str,
}

impl Signer {
    /// Parses the record's private key (PKCS#8 DER, or the raw secret for HMAC) for its
    /// recorded algorithm.
    pub fn from_record(record: &KeyRecord) -> Result<Self, KeyError> {
        let alg: Algorithm = record.algorithm.parse()?;
        let der: &[u8] = &record.private_der;
        let key = match alg.family() {
            KeyFamily::Rsa => SigningKey::Rsa(
                RsaKeyPair::from_pkcs8(der).map_err(|e| KeyError::InvalidKey(e.to_string()))?,
            ),
            KeyFamily::EcP256 | KeyFamily::EcP384 => {
                let ring_alg = alg
                    .ecdsa_signing()
                    .ok_or_else(|| KeyError::UnsupportedAlgorithm(alg.to_string()))?;
                SigningKey::Ec(
                    EcdsaKeyPair::from_pkcs8(ring_alg, der)
                        .map_err(|e| KeyError::InvalidKey(e.to_string()))?,
                )
            }
            KeyFamily::Ed25519 => SigningKey::Ed(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    .map_err(|e| KeyError::InvalidKey(e.to_string()))?,
            ),
            KeyFamily::Hmac => {
                let ring_alg = alg
                    .hmac()
                    .ok_or_else(|| KeyError::UnsupportedAlgorithm(alg.to_string()))?;
                if der.len() < alg.min_hmac_key_len() {
                    return Err(KeyError::InvalidKey(format!(
                        "{alg} secret of {} bytes is shorter than {}",
                        der.len(),
                        alg.min_hmac_key_len()
                    )));
                }
                SigningKey::Hmac(Box::new(hmac::Key::new(ring_alg, der)))
            }
        };
        Ok(Self {
            kid: record.kid.clone(),
            alg,
            key,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Raw JWS signature over `message` (RFC 7515 §5.1 step 5). ECDSA signatures are the fixed
    /// `r || s` form JWS requires (RFC 7518 §3.4), not ASN.1.
    pub fn sign(&self, message: &[u8], rng: &dyn SecureRandom) -> Result<Vec<u8>, SignError> {
        match &self.key {
            SigningKey::Rsa(kp) => {
                let enc = self.alg.rsa_signing().ok_or(SignError::Crypto)?;
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(enc, rng, message, &mut sig)
                    .map_err(|_| SignError::Crypto)?;
                Ok(sig)
            }
            SigningKey::Ec(kp) => kp
                .sign(rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| SignError::Crypto),
            SigningKey::Ed(kp) => Ok(kp.sign(message).as_ref().to_vec()),
            SigningKey::Hmac(k) => Ok(hmac::sign(k, message).as_ref().to_vec()),
        }
    }

    /// A compact JWS with header `{"alg","typ","kid"}` (Keycloak's order) over `claims`
    /// serialised as compact JSON in their own order.
    pub fn sign_jwt(
        &self,
        header_typ: &str,
        claims: &Value,
        rng: &dyn SecureRandom,
    ) -> Result<String, SignError> {
        let header = serde_json::to_vec(&Header {
            alg: self.alg.as_str(),
            typ: header_typ,
            kid: &self.kid,
        })?;
        let payload = serde_json::to_vec(claims)?;
        let mut out = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 360);
        URL_SAFE_NO_PAD.encode_string(&header, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut out);
        let sig = self.sign(out.as_bytes(), rng)?;
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&sig, &mut out);
        Ok(out)
    }

    /// The key that verifies this signer's tokens (public part; the secret itself for HMAC).
    pub fn verification_key(&self) -> Result<VerificationKey, KeyError> {
        let material = match &self.key {
            SigningKey::Rsa(kp) => parsed_public(self.alg, kp.public_key().as_ref())?,
            SigningKey::Ec(kp) => parsed_public(self.alg, kp.public_key().as_ref())?,
            SigningKey::Ed(kp) => parsed_public(self.alg, kp.public_key().as_ref())?,
            SigningKey::Hmac(k) => VerifyMaterial::Hmac(k.clone()),
        };
        Ok(VerificationKey {
            alg: self.alg,
            material,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// Why a JWT was rejected. Public callers map this to `invalid_token` (see the `From` impl);
/// the variant is the private detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("token longer than {MAX_TOKEN_LEN} bytes")]
    Oversized,
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("unsecured JWS (alg none) rejected")]
    AlgNone,
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    #[error("critical header parameters are not supported")]
    CriticalHeader,
    #[error("no key with this kid")]
    UnknownKey,
    #[error("header alg {header} does not match the key's {key}")]
    AlgorithmMismatch { header: String, key: Algorithm },
    #[error("algorithm {0} not accepted here")]
    AlgorithmNotAllowed(Algorithm),
    #[error("signature does not verify")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("claim {0} missing or of the wrong type")]
    MissingClaim(&'static str),
    #[error("wrong issuer")]
    WrongIssuer,
    #[error("wrong audience")]
    WrongAudience,
    #[error("wrong token type")]
    WrongType,
}

impl From<JwtError> for OAuthError {
    fn from(e: JwtError) -> Self {
        OAuthError::token_verification_failed().with_detail(e.to_string())
    }
}

#[derive(Clone)]
enum VerifyMaterial {
    /// Parsed once (RSA: from `RSAPublicKey` DER; EC: the uncompressed point; Ed25519: 32
    /// bytes), so a verification does no key parsing.
    Public(Box<signature::ParsedPublicKey>),
    Hmac(Box<hmac::Key>),
}

fn parsed_public(alg: Algorithm, bytes: &[u8]) -> Result<VerifyMaterial, KeyError> {
    let ring_alg = alg
        .verification()
        .ok_or_else(|| KeyError::UnsupportedAlgorithm(alg.to_string()))?;
    let key = signature::ParsedPublicKey::new(ring_alg, bytes)
        .map_err(|e| KeyError::InvalidKey(e.to_string()))?;
    Ok(VerifyMaterial::Public(Box::new(key)))
}

/// A key that verifies one algorithm.
#[derive(Clone)]
pub struct VerificationKey {
    alg: Algorithm,
    material: VerifyMaterial,
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// Derives the verification key from a stored record (no RNG needed: EC public points are
    /// read from the PKCS#8 document).
    pub fn from_record(record: &KeyRecord) -> Result<Self, KeyError> {
        let alg: Algorithm = record.algorithm.parse()?;
        let material = match keys::public_material(record)? {
            PublicMaterial::Rsa { der, .. } => parsed_public(alg, &der)?,
            PublicMaterial::Ec { point, .. } => parsed_public(alg, &point)?,
            PublicMaterial::Ed25519 { x } => parsed_public(alg, &x)?,
            PublicMaterial::Hmac => {
                let ring_alg = alg
                    .hmac()
                    .ok_or_else(|| KeyError::UnsupportedAlgorithm(alg.to_string()))?;
                if record.private_der.len() < alg.min_hmac_key_len() {
                    return Err(KeyError::InvalidKey("HMAC secret too short".into()));
                }
                VerifyMaterial::Hmac(Box::new(hmac::Key::new(ring_alg, &record.private_der)))
            }
        };
        Ok(Self { alg, material })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// A public JWK (RFC 7517/7518: `RSA` with `n`/`e`, `EC` P-256/P-384 with `x`/`y`, `OKP`
    /// Ed25519 with `x`) and its `kid`. The algorithm is the JWK's `alg`, or the family's
    /// usual one when absent (RS256, ES256/ES384, EdDSA). Symmetric and private keys, and
    /// keys whose `use` is not `sig`, are refused.
    pub fn from_jwk(jwk: &Value) -> Result<(String, VerificationKey), KeyError> {
        let text = |k: &str| jwk.get(k).and_then(Value::as_str);
        let bytes = |k: &str| -> Result<Vec<u8>, KeyError> {
            let v = text(k).ok_or_else(|| KeyError::InvalidKey(format!("JWK without {k}")))?;
            URL_SAFE_NO_PAD
                .decode(v)
                .map_err(|_| KeyError::InvalidKey(format!("JWK {k} is not base64url")))
        };
        let kid = text("kid")
            .ok_or_else(|| KeyError::InvalidKey("JWK without kid".into()))?
            .to_owned();
        if text("use").is_some_and(|u| u != "sig") {
            return Err(KeyError::InvalidKey("JWK is not a signing key".into()));
        }
        if jwk.get("d").is_some() {
            return Err(KeyError::InvalidKey("JWK carries a private key".into()));
        }
        let named = text("alg").map(|a| {
            Algorithm::parse(a)
                .ok_or_else(|| KeyError::UnsupportedAlgorithm(a.chars().take(16).collect()))
        });
        let (alg, public) = match (text("kty"), text("crv")) {
            (Some("RSA"), _) => {
                let alg = named.transpose()?.unwrap_or(Algorithm::RS256);
                (alg, keys::rsa_public_der(&bytes("n")?, &bytes("e")?))
            }
            (Some("EC"), Some(crv @ ("P-256" | "P-384"))) => {
                let usual = if crv == "P-256" {
                    Algorithm::ES256
                } else {
                    Algorithm::ES384
                };
                let alg = named.transpose()?.unwrap_or(usual);
                if alg != usual {
                    return Err(KeyError::InvalidKey(format!("{alg} does not use {crv}")));
                }
                let mut point = vec![0x04];
                point.extend(bytes("x")?);
                point.extend(bytes("y")?);
                (alg, point)
            }
            (Some("OKP"), Some("Ed25519")) => {
                (named.transpose()?.unwrap_or(Algorithm::EdDSA), bytes("x")?)
            }
            (kty, crv) => {
                return Err(KeyError::UnsupportedAlgorithm(format!(
                    "kty {} crv {}",
                    kty.unwrap_or("-"),
                    crv.unwrap_or("-")
                )));
            }
        };
        if alg.is_symmetric()
            || !matches!(
                (alg.family(), text("kty")),
                (KeyFamily::Rsa, Some("RSA"))
                    | (KeyFamily::EcP256 | KeyFamily::EcP384, Some("EC"))
                    | (KeyFamily::Ed25519, Some("OKP"))
            )
        {
            return Err(KeyError::InvalidKey(format!(
                "{alg} does not fit this key type"
            )));
        }
        Ok((
            kid,
            VerificationKey {
                alg,
                material: parsed_public(alg, &public)?,
            },
        ))
    }

    fn verify(&self, message: &[u8], sig: &[u8]) -> Result<(), JwtError> {
        match &self.material {
            VerifyMaterial::Public(public) => public
                .verify_sig(message, sig)
                .map_err(|_| JwtError::BadSignature),
            // ring compares tags in constant time.
            VerifyMaterial::Hmac(key) => {
                hmac::verify(key, message, sig).map_err(|_| JwtError::BadSignature)
            }
        }
    }
}

/// A verified token: its header and claims (both JSON objects).
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJwt {
    pub header: Value,
    pub claims: Value,
}

/// The realm's verification keys by `kid`.
#[derive(Debug, Clone, Default)]
pub struct Verifier {
    keys: HashMap<String, VerificationKey>,
}

impl Verifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// All *enabled* records; a record that does not parse is an error (a realm with a broken
    /// key should be noticed at load time, not at the first token).
    pub fn from_records(records: &[KeyRecord]) -> Result<Self, KeyError> {
        let mut v = Self::new();
        for r in records.iter().filter(|r| r.enabled) {
            v.insert(r.kid.clone(), VerificationKey::from_record(r)?);
        }
        Ok(v)
    }

    /// From a JWKS document (`{"keys": [...]}`): every usable signing key; keys this verifier
    /// cannot use (encryption keys, unknown types) are skipped, as RFC 7517 §5 allows.
    pub fn from_jwks(jwks: &Value) -> Result<Self, KeyError> {
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| KeyError::InvalidKey("JWKS without a keys array".into()))?;
        let mut v = Self::new();
        for jwk in keys {
            if let Ok((kid, key)) = VerificationKey::from_jwk(jwk) {
                v.insert(kid, key);
            }
        }
        Ok(v)
    }

    /// Whether a key with this `kid` is known.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    /// From already-parsed signers (no re-parsing).
    pub fn from_signers<'a>(
        signers: impl IntoIterator<Item = &'a Signer>,
    ) -> Result<Self, KeyError> {
        let mut v = Self::new();
        for s in signers {
            v.insert(s.kid.clone(), s.verification_key()?);
        }
        Ok(v)
    }

    pub fn insert(&mut self, kid: String, key: VerificationKey) {
        self.keys.insert(kid, key);
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies a compact JWS signed by one of our keys with one of `expected_algs`.
    /// No time, issuer or audience checks: see [`check_times`], [`check_issuer`],
    /// [`check_audience`].
    pub fn verify(
        &self,
        token: &str,
        expected_algs: &[Algorithm],
    ) -> Result<VerifiedJwt, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::Oversized);
        }
        // RFC 7515 §7.1: exactly three base64url segments (five would be a JWE).
        let mut parts = token.split('.');
        let (Some(h64), Some(p64), Some(s64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed("not three segments"));
        };
        let header = decode_json_object(h64, "header")?;

        // RFC 8725 §3.1 / RFC 7518 §3.6: never accept an unsecured JWS.
        let alg_name = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(JwtError::Malformed("header without alg"))?;
        if alg_name.eq_ignore_ascii_case("none") {
            return Err(JwtError::AlgNone);
        }
        // RFC 7515 §4.1.11: we understand no extensions, so any `crit` is fatal.
        if header.contains_key("crit") {
            return Err(JwtError::CriticalHeader);
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or(JwtError::UnknownKey)?;
        let key = self.keys.get(kid).ok_or(JwtError::UnknownKey)?;

        // RFC 8725 §2.1: the key decides the algorithm. A header naming another algorithm
        // (HS256 "keyed" with our RSA public key, say) is an attack, not a negotiation.
        if Algorithm::parse(alg_name) != Some(key.alg) {
            return Err(JwtError::AlgorithmMismatch {
                header: alg_name.chars().take(16).collect(),
                key: key.alg,
            });
        }
        if !expected_algs.contains(&key.alg) {
            return Err(JwtError::AlgorithmNotAllowed(key.alg));
        }

        let sig = URL_SAFE_NO_PAD
            .decode(s64)
            .map_err(|_| JwtError::Malformed("signature is not base64url"))?;
        let signing_input_len = h64.len() + 1 + p64.len();
        key.verify(&token.as_bytes()[..signing_input_len], &sig)?;

        let claims = decode_json_object(p64, "payload")?;
        Ok(VerifiedJwt {
            header: Value::Object(header),
            claims: Value::Object(claims),
        })
    }
}

fn decode_json_object(segment: &str, what: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| {
        JwtError::Malformed(if what == "header" {
            "header is not base64url"
        } else {
            "payload is not base64url"
        })
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JwtError::Malformed(if what == "header" {
            "header is not a JSON object"
        } else {
            "payload is not a JSON object"
        })),
    }
}

// ---------------------------------------------------------------------------------------------
// Claim checks (pure; the caller passes the time)
// ---------------------------------------------------------------------------------------------

fn numeric(claims: &Value, name: &'static str) -> Result<Option<f64>, JwtError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or(JwtError::MissingClaim(name)),
    }
}

/// RFC 7519 §4.1.4/§4.1.5: `exp` is required and must lie in the future; `nbf`, when present,
/// must not. `leeway_s` absorbs clock skew between nodes. `iat` is not checked (Keycloak
/// does not either).
pub fn check_times(claims: &Value, now_s: i64, leeway_s: i64) -> Result<(), JwtError> {
    let now = now_s as f64;
    let leeway = leeway_s.max(0) as f64;
    let exp = numeric(claims, "exp")?.ok_or(JwtError::MissingClaim("exp"))?;
    if now >= exp + leeway {
        return Err(JwtError::Expired);
    }
    if let Some(nbf) = numeric(claims, "nbf")?
        && now + leeway < nbf
    {
        return Err(JwtError::NotYetValid);
    }
    Ok(())
}

/// OIDC Core §3.1.3.7 item 2: `iss` must equal the realm's issuer exactly.
pub fn check_issuer(claims: &Value, expected: &str) -> Result<(), JwtError> {
    match claims.get("iss").and_then(Value::as_str) {
        None => Err(JwtError::MissingClaim("iss")),
        Some(iss) if iss == expected => Ok(()),
        Some(_) => Err(JwtError::WrongIssuer),
    }
}

/// RFC 7519 §4.1.3: `aud` (a string or an array of strings) must contain `expected`.
pub fn check_audience(claims: &Value, expected: &str) -> Result<(), JwtError> {
    match claims.get("aud") {
        Some(Value::String(a)) if a == expected => Ok(()),
        Some(Value::Array(list)) if list.iter().any(|a| a.as_str() == Some(expected)) => Ok(()),
        Some(Value::String(_)) | Some(Value::Array(_)) => Err(JwtError::WrongAudience),
        _ => Err(JwtError::MissingClaim("aud")),
    }
}

/// Keycloak's `typ` claim (`Bearer`, `ID`, `Refresh`, `Offline`, `Logout`) must be one of
/// `expected`, so that one kind of token cannot be replayed as another.
pub fn check_token_type(claims: &Value, expected: &[&str]) -> Result<(), JwtError> {
    match claims.get("typ").and_then(Value::as_str) {
        None => Err(JwtError::MissingClaim("typ")),
        Some(t) if expected.contains(&t) => Ok(()),
        Some(_) => Err(JwtError::WrongType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{generate, test_support::rsa_record};
    use aws_lc_rs::rand::SystemRandom;
    use serde_json::json;

    fn claims() -> Value {
        json!({"exp": 2_000, "iat": 1_700, "iss": "https://sso.example/realms/r", "aud": ["a", "account"], "sub": "u1", "typ": "Bearer"})
    }

    fn setup(alg: Algorithm) -> (Signer, Verifier) {
        let rng = SystemRandom::new();
        let rec = if alg.family() == KeyFamily::Rsa {
            let mut r = rsa_record();
            r.algorithm = alg.as_str().to_owned();
            r
        } else {
            generate(alg, &rng, 0, "realm", "k1").unwrap()
        };
        let signer = Signer::from_record(&rec).unwrap();
        let verifier = Verifier::from_records(std::slice::from_ref(&rec)).unwrap();
        (signer, verifier)
    }

    #[test]
    fn a_jwks_document_verifies_tokens_of_every_key_type() {
        let rng = SystemRandom::new();
        for alg in [
            Algorithm::RS256,
            Algorithm::PS256,
            Algorithm::ES256,
            Algorithm::ES384,
            Algorithm::EdDSA,
        ] {
            let rec = if alg.family() == KeyFamily::Rsa {
                let mut r = rsa_record();
                r.algorithm = alg.as_str().to_owned();
                r
            } else {
                generate(alg, &rng, 0, "realm", "k1").unwrap()
            };
            let signer = Signer::from_record(&rec).unwrap();
            let jwks = crate::keys::jwks(std::slice::from_ref(&rec));
            let verifier = Verifier::from_jwks(&jwks).unwrap();
            assert!(verifier.has_kid(signer.kid()), "{alg}");
            let token = signer.sign_jwt("JWT", &claims(), &rng).unwrap();
            let ok = verifier.verify(&token, &[alg]).unwrap();
            assert_eq!(ok.claims, claims(), "{alg}");
            // A flipped signature byte fails.
            let mut bad = token.into_bytes();
            let last = bad.len() - 2;
            bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
            let bad = String::from_utf8(bad).unwrap();
            assert!(verifier.verify(&bad, &[alg]).is_err(), "{alg}");
        }
    }

    #[test]
    fn jwks_keys_that_cannot_verify_are_skipped_or_refused() {
        let jwks = json!({"keys": [
            {"kid": "enc", "kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
            {"kid": "oct", "kty": "oct", "k": "c2VjcmV0"},
            {"kid": "priv", "kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"},
            {"kid": "mismatch", "kty": "EC", "crv": "P-256", "alg": "ES384", "x": "AA", "y": "AA"}
        ]});
        let v = Verifier::from_jwks(&jwks).unwrap();
        assert!(v.is_empty());
        assert!(Verifier::from_jwks(&json!({"nokeys": []})).is_err());
    }

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    fn seg(token: &str, i: usize) -> &str {
        token.split('.').nth(i).unwrap()
    }

    #[test]
    fn every_algorithm_round_trips() {
        let rng = SystemRandom::new();
        for alg in Algorithm::ALL {
            let (signer, verifier) = setup(alg);
            let token = signer.sign_jwt("JWT", &claims(), &rng).unwrap();
            let v = verifier.verify(&token, &[alg]).unwrap();
            assert_eq!(v.claims, claims(), "{alg}");
            assert_eq!(v.header["alg"], alg.as_str());
            // Built from the signer directly, too.
            let v2 = Verifier::from_signers([&signer]).unwrap();
            assert!(v2.verify(&token, &[alg]).is_ok(), "{alg}");
        }
    }

    #[test]
    fn header_is_alg_typ_kid_in_that_order() {
        let rng = SystemRandom::new();
        let (signer, _) = setup(Algorithm::RS256);
        let token = signer.sign_jwt("JWT", &claims(), &rng).unwrap();
        let header = URL_SAFE_NO_PAD.decode(seg(&token, 0)).unwrap();
        assert_eq!(
            String::from_utf8(header).unwrap(),
            format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{}"}}"#, signer.kid())
        );
        // Claims keep their insertion order.
        let payload = URL_SAFE_NO_PAD.decode(seg(&token, 1)).unwrap();
        assert!(
            String::from_utf8(payload)
                .unwrap()
                .starts_with(r#"{"exp":2000,"iat":1700,"#)
        );
    }

    #[test]
    fn rs256_signature_is_deterministic_and_ps256_is_not() {
        let rng = SystemRandom::new();
        let (s, _) = setup(Algorithm::RS256);
        assert_eq!(
            s.sign_jwt("JWT", &claims(), &rng).unwrap(),
            s.sign_jwt("JWT", &claims(), &rng).unwrap()
        );
        let (p, _) = setup(Algorithm::PS256);
        assert_ne!(
            p.sign_jwt("JWT", &claims(), &rng).unwrap(),
            p.sign_jwt("JWT", &claims(), &rng).unwrap()
        );
    }

    // --- JWT-4: every rejection ---------------------------------------------------------

    #[test]
    fn rejects_alg_none() {
        let (signer, verifier) = setup(Algorithm::RS256);
        for alg in ["none", "None", "NONE"] {
            let h = json!({"alg": alg, "typ": "JWT", "kid": signer.kid()});
            let token = format!("{}.{}.", b64(&h), b64(&claims()));
            assert_eq!(
                verifier.verify(&token, &[Algorithm::RS256]),
                Err(JwtError::AlgNone)
            );
        }
    }

    #[test]
    fn rejects_hs256_keyed_with_the_rsa_public_key() {
        let rng = SystemRandom::new();
        let (signer, verifier) = setup(Algorithm::RS256);
        let public_der = match signer.verification_key().unwrap().material {
            VerifyMaterial::Public(p) => p.as_ref().as_ref().to_vec(),
            VerifyMaterial::Hmac(_) => unreachable!(),
        };
        let h = json!({"alg": "HS256", "typ": "JWT", "kid": signer.kid()});
        let input = format!("{}.{}", b64(&h), b64(&claims()));
        let key = hmac::Key::new(hmac::HMAC_SHA256, &public_der);
        let tag = hmac::sign(&key, input.as_bytes());
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        let err = verifier
            .verify(&token, &[Algorithm::RS256, Algorithm::HS256])
            .unwrap_err();
        assert!(
            matches!(
                err,
                JwtError::AlgorithmMismatch {
                    key: Algorithm::RS256,
                    ..
                }
            ),
            "{err:?}"
        );
        // And a genuine token still passes.
        let ok = signer.sign_jwt("JWT", &claims(), &rng).unwrap();
        assert!(verifier.verify(&ok, &[Algorithm::RS256]).is_ok());
    }

    #[test]
    fn rejects_unknown_or_missing_kid() {
        let rng = SystemRandom::new();
        let (signer, verifier) = setup(Algorithm::ES256);
        let (other, _) = setup(Algorithm::ES256);
        let token = other.sign_jwt("JWT", &claims(), &rng).unwrap();
        assert_eq!(
            verifier.verify(&token, &[Algorithm::ES256]),
            Err(JwtError::UnknownKey)
        );
        let h = json!({"alg": "ES256", "typ": "JWT"});
        let input = format!("{}.{}", b64(&h), b64(&claims()));
        let sig = signer.sign(input.as_bytes(), &rng).unwrap();
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
        assert_eq!(
            verifier.verify(&token, &[Algorithm::ES256]),
            Err(JwtError::UnknownKey)
        );
    }

    #[test]
    fn rejects_altered_payload_and_bad_signature() {
        let rng = SystemRandom::new();
        for alg in [
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
            Algorithm::HS512,
        ] {
            let (signer, verifier) = setup(alg);
            let token = signer.sign_jwt("JWT", &claims(), &rng).unwrap();
            let mut forged = claims();
            forged["sub"] = json!("admin");
            let altered = format!("{}.{}.{}", seg(&token, 0), b64(&forged), seg(&token, 2));
            assert_eq!(
                verifier.verify(&altered, &[alg]),
                Err(JwtError::BadSignature),
                "{alg}"
            );
            let zero_sig = format!("{}.{}.{}", seg(&token, 0), seg(&token, 1), "AAAA");
            assert_eq!(
                verifier.verify(&zero_sig, &[alg]),
                Err(JwtError::BadSignature),
                "{alg}"
            );
            let empty_sig = format!("{}.{}.", seg(&token, 0), seg(&token, 1));
            assert_eq!(
                verifier.verify(&empty_sig, &[alg]),
                Err(JwtError::BadSignature),
                "{alg}"
            );
        }
    }

    #[test]
    fn rejects_a_key_of_another_realm() {
        let rng = SystemRandom::new();
        let (other_realm, _) = setup(Algorithm::RS256);
        let (_, verifier) = setup(Algorithm::ES256);
        let token = other_realm.sign_jwt("JWT", &claims(), &rng).unwrap();
        assert_eq!(
            verifier.verify(&token, &[Algorithm::RS256]),
            Err(JwtError::UnknownKey)
        );
    }

    #[test]
    fn rejects_algorithm_not_expected_here() {
        let rng = SystemRandom::new();
        let (signer, verifier) = setup(Algorithm::HS512);
        let token = signer.sign_jwt("JWT", &claims(), &rng).unwrap();
        assert_eq!(
            verifier.verify(&token, &[Algorithm::RS256]),
            Err(JwtError::AlgorithmNotAllowed(Algorithm::HS512))
        );
        assert_eq!(
            verifier.verify(&token, &[]),
            Err(JwtError::AlgorithmNotAllowed(Algorithm::HS512))
        );
    }

    #[test]
    fn rejects_unknown_alg_name_and_crit() {
        let (signer, verifier) = setup(Algorithm::RS256);
        let h = json!({"alg": "rs256", "kid": signer.kid()});
        let token = format!("{}.{}.AAAA", b64(&h), b64(&claims()));
        assert!(matches!(
            verifier.verify(&token, &[Algorithm::RS256]),
            Err(JwtError::AlgorithmMismatch { .. })
        ));
        let h = json!({"alg": "RS256", "kid": signer.kid(), "crit": ["b64"], "b64": false});
        let token = format!("{}.{}.AAAA", b64(&h), b64(&claims()));
        assert_eq!(
            verifier.verify(&token, &[Algorithm::RS256]),
            Err(JwtError::CriticalHeader)
        );
    }

    #[test]
    fn rejects_malformed_segments() {
        let rng = SystemRandom::new();
        let (signer, verifier) = setup(Algorithm::EdDSA);
        let good = signer.sign_jwt("JWT", &claims(), &rng).unwrap();
        let algs = [Algorithm::EdDSA];
        let cases: Vec<String> = vec![
            String::new(),
            "abc".into(),
            "a.b".into(),
            format!("{good}.extra"),
            format!("{good}.x.y"), // JWE-like, five segments
            format!("{}=.{}.{}", seg(&good, 0), seg(&good, 1), seg(&good, 2)), // padding
            format!("{}.{}.{}", "!!!", seg(&good, 1), seg(&good, 2)),
            format!(
                "{}.{}.{}",
                b64(&json!([1, 2])),
                seg(&good, 1),
                seg(&good, 2)
            ),
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode("not json"),
                seg(&good, 1),
                seg(&good, 2)
            ),
            format!(
                "{}.{}.{}",
                b64(&json!({"kid": signer.kid()})),
                seg(&good, 1),
                seg(&good, 2)
            ),
            format!("{}.{}.{}", seg(&good, 0), seg(&good, 1), "%%%"),
        ];
        for case in cases {
            let err = verifier.verify(&case, &algs).unwrap_err();
            assert!(matches!(err, JwtError::Malformed(_)), "{case:?}: {err:?}");
        }
        // A payload that verifies but is not an object.
        let h = json!({"alg": "EdDSA", "typ": "JWT", "kid": signer.kid()});
        let input = format!("{}.{}", b64(&h), URL_SAFE_NO_PAD.encode("[1]"));
        let sig = signer.sign(input.as_bytes(), &rng).unwrap();
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
        assert_eq!(
            verifier.verify(&token, &algs),
            Err(JwtError::Malformed("payload is not a JSON object"))
        );
    }

    #[test]
    fn rejects_oversized_tokens() {
        let rng = SystemRandom::new();
        let (signer, verifier) = setup(Algorithm::HS256);
        let big = json!({"exp": 1, "pad": "x".repeat(MAX_TOKEN_LEN)});
        let token = signer.sign_jwt("JWT", &big, &rng).unwrap();
        assert_eq!(
            verifier.verify(&token, &[Algorithm::HS256]),
            Err(JwtError::Oversized)
        );
        let small = json!({"exp": 1, "pad": "x".repeat(MAX_TOKEN_LEN / 2)});
        let token = signer.sign_jwt("JWT", &small, &rng).unwrap();
        assert!(verifier.verify(&token, &[Algorithm::HS256]).is_ok());
    }

    #[test]
    fn disabled_keys_do_not_verify() {
        let rng = SystemRandom::new();
        let mut rec = generate(Algorithm::ES256, &rng, 0, "r", "k").unwrap();
        let signer = Signer::from_record(&rec).unwrap();
        let token = signer.sign_jwt("JWT", &claims(), &rng).unwrap();
        rec.enabled = false;
        let verifier = Verifier::from_records(&[rec]).unwrap();
        assert!(verifier.is_empty());
        assert_eq!(
            verifier.verify(&token, &[Algorithm::ES256]),
            Err(JwtError::UnknownKey)
        );
    }

    #[test]
    fn short_hmac_secret_is_refused() {
        let rng = SystemRandom::new();
        let mut rec = generate(Algorithm::HS512, &rng, 0, "r", "k").unwrap();
        rec.private_der = vec![7u8; 32].into();
        assert!(matches!(
            Signer::from_record(&rec),
            Err(KeyError::InvalidKey(_))
        ));
        assert!(matches!(
            VerificationKey::from_record(&rec),
            Err(KeyError::InvalidKey(_))
        ));
    }

    #[test]
    fn unknown_record_algorithm_is_refused() {
        let rng = SystemRandom::new();
        let mut rec = generate(Algorithm::ES256, &rng, 0, "r", "k").unwrap();
        rec.algorithm = "RSA-OAEP".into();
        assert!(matches!(
            Signer::from_record(&rec),
            Err(KeyError::UnsupportedAlgorithm(_))
        ));
        // A key of the wrong family for its recorded algorithm.
        rec.algorithm = "RS256".into();
        assert!(matches!(
            Signer::from_record(&rec),
            Err(KeyError::InvalidKey(_))
        ));
    }

    #[test]
    fn jwt_error_maps_to_invalid_token_with_private_detail() {
        let e: OAuthError = JwtError::BadSignature.into();
        assert_eq!(e.code, crate::error::ErrorCode::InvalidToken);
        assert_eq!(e.description, "Token verification failed");
        assert_eq!(e.detail.as_deref(), Some("signature does not verify"));
    }

    // --- claim checks ------------------------------------------------------------------

    #[test]
    fn time_checks() {
        let c = json!({"exp": 1000, "nbf": 900});
        assert_eq!(check_times(&c, 999, 0), Ok(()));
        assert_eq!(check_times(&c, 1000, 0), Err(JwtError::Expired));
        assert_eq!(check_times(&c, 1009, 10), Ok(()));
        assert_eq!(check_times(&c, 1010, 10), Err(JwtError::Expired));
        assert_eq!(check_times(&c, 899, 0), Err(JwtError::NotYetValid));
        assert_eq!(check_times(&c, 895, 5), Ok(()));
        assert_eq!(
            check_times(&json!({}), 0, 0),
            Err(JwtError::MissingClaim("exp"))
        );
        assert_eq!(
            check_times(&json!({"exp": "1000"}), 0, 0),
            Err(JwtError::MissingClaim("exp"))
        );
        assert_eq!(
            check_times(&json!({"exp": 1000, "nbf": true}), 0, 0),
            Err(JwtError::MissingClaim("nbf"))
        );
    }

    #[test]
    fn issuer_audience_and_type_checks() {
        let c = claims();
        assert_eq!(check_issuer(&c, "https://sso.example/realms/r"), Ok(()));
        assert_eq!(
            check_issuer(&c, "https://sso.example/realms/other"),
            Err(JwtError::WrongIssuer)
        );
        assert_eq!(
            check_issuer(&c, "https://sso.example/realms/r/"),
            Err(JwtError::WrongIssuer)
        );
        assert_eq!(
            check_issuer(&json!({}), "x"),
            Err(JwtError::MissingClaim("iss"))
        );
        assert_eq!(check_audience(&c, "account"), Ok(()));
        assert_eq!(check_audience(&c, "b"), Err(JwtError::WrongAudience));
        assert_eq!(check_audience(&json!({"aud": "b"}), "b"), Ok(()));
        assert_eq!(
            check_audience(&json!({"aud": 1}), "b"),
            Err(JwtError::MissingClaim("aud"))
        );
        assert_eq!(check_token_type(&c, &["Bearer"]), Ok(()));
        assert_eq!(
            check_token_type(&c, &["Refresh", "Offline"]),
            Err(JwtError::WrongType)
        );
    }
}
