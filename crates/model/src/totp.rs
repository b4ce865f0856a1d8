//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP) with a realm's OTP policy
//! (`otpPolicyAlgorithm`, `otpPolicyDigits`, `otpPolicyPeriod`, `otpPolicyLookAheadWindow`),
//! the `otpauth://` URI authenticator apps read, and the credential format Keycloak stores.
//! Pure: the caller passes the time.

use hmac::{Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;

/// The realm's OTP policy as it applies to TOTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpPolicy {
    /// `HmacSHA1`, `HmacSHA256` or `HmacSHA512`.
    pub algorithm: String,
    pub digits: u32,
    pub period: u64,
    /// Periods accepted before and after the current one.
    pub look_ahead: u64,
}

impl Default for OtpPolicy {
    /// Keycloak's defaults.
    fn default() -> Self {
        OtpPolicy {
            algorithm: "HmacSHA1".into(),
            digits: 6,
            period: 30,
            look_ahead: 1,
        }
    }
}

impl OtpPolicy {
    /// From the realm's settings; absent or out-of-range values take Keycloak's defaults.
    pub fn from_settings(
        algorithm: Option<&str>,
        digits: Option<i64>,
        period: Option<i64>,
        look_ahead: Option<i64>,
    ) -> OtpPolicy {
        let d = OtpPolicy::default();
        OtpPolicy {
            algorithm: algorithm
                .filter(|a| ["HmacSHA1", "HmacSHA256", "HmacSHA512"].contains(a))
                .map_or(d.algorithm, str::to_owned),
            digits: digits
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| (6..=8).contains(n))
                .unwrap_or(d.digits),
            period: period
                .and_then(|n| u64::try_from(n).ok())
                .filter(|n| (1..=600).contains(n))
                .unwrap_or(d.period),
            look_ahead: look_ahead
                .and_then(|n| u64::try_from(n).ok())
                .filter(|n| *n <= 10)
                .unwrap_or(d.look_ahead),
        }
    }

    /// The algorithm's name in `otpauth://` URIs.
    fn uri_algorithm(&self) -> &'static str {
        match self.algorithm.as_str() {
            "HmacSHA256" => "SHA256",
            "HmacSHA512" => "SHA512",
            _ => "SHA1",
        }
    }
}

fn mac(algorithm: &str, key: &[u8], msg: &[u8]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
        match <M as KeyInit>::new_from_slice(key) {
            Ok(mut m) => {
                m.update(msg);
                m.finalize().into_bytes().to_vec()
            }
            // HMAC takes keys of any length; unreachable in practice.
            Err(_) => Vec::new(),
        }
    }
    match algorithm {
        "HmacSHA256" => run::<Hmac<sha2::Sha256>>(key, msg),
        "HmacSHA512" => run::<Hmac<sha2::Sha512>>(key, msg),
        _ => run::<Hmac<sha1::Sha1>>(key, msg),
    }
}

/// HOTP (RFC 4226 §5.3) of `counter`, as a zero-padded decimal string.
pub fn hotp(policy: &OtpPolicy, key: &[u8], counter: u64) -> String {
    let h = mac(&policy.algorithm, key, &counter.to_be_bytes());
    let Some(last) = h.last() else {
        return String::new();
    };
    let offset = usize::from(last & 0x0f);
    let Some(bytes) = h.get(offset..offset + 4) else {
        return String::new();
    };
    let bin = (u32::from(bytes[0] & 0x7f) << 24)
        | (u32::from(bytes[1]) << 16)
        | (u32::from(bytes[2]) << 8)
        | u32::from(bytes[3]);
    let modulo = 10u32.pow(policy.digits);
    format!("{:0width$}", bin % modulo, width = policy.digits as usize)
}

/// The TOTP code at `now_s` (RFC 6238 §4).
pub fn totp(policy: &OtpPolicy, key: &[u8], now_s: u64) -> String {
    hotp(policy, key, now_s / policy.period)
}

/// Whether `code` is valid at `now_s`, within the look-ahead window, compared in constant
/// time.
pub fn verify(policy: &OtpPolicy, key: &[u8], code: &str, now_s: u64) -> bool {
    let code = code.trim();
    if code.len() != policy.digits as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let step = now_s / policy.period;
    let mut ok = false;
    for c in step.saturating_sub(policy.look_ahead)..=step.saturating_add(policy.look_ahead) {
        ok |= bool::from(hotp(policy, key, c).as_bytes().ct_eq(code.as_bytes()));
    }
    ok
}

/// RFC 4648 base32 without padding (the secret as authenticator apps take it).
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// A new random secret for a TOTP credential (20 bytes, as the RFC's SHA-1 examples).
pub fn new_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut key = vec![0u8; 20];
    rand::rng().fill_bytes(&mut key);
    key
}

fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `otpauth://totp/...` URI of the Key URI format authenticator apps scan.
pub fn otpauth_uri(policy: &OtpPolicy, issuer: &str, account: &str, key: &[u8]) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&digits={}&algorithm={}&issuer={}&period={}",
        pct(issuer),
        pct(account),
        base32(key),
        policy.digits,
        policy.uri_algorithm(),
        pct(issuer),
        policy.period
    )
}

/// Keycloak's stored form of a TOTP credential: (`secretData`, `credentialData`).
pub fn credential_json(policy: &OtpPolicy, key: &[u8]) -> (String, String) {
    // Keycloak keeps the secret as the text the user typed or scanned (base32 here).
    let secret = serde_json::json!({ "value": base32(key) }).to_string();
    let data = serde_json::json!({
        "subType": "totp",
        "digits": policy.digits,
        "counter": 0,
        "period": policy.period,
        "algorithm": policy.algorithm,
    })
    .to_string();
    (secret, data)
}

/// RFC 4648 base32 decoding (upper or lower case, padding and spaces ignored).
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u32 - 'A' as u32,
            c @ '2'..='7' => c as u32 - '2' as u32 + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The key of a stored TOTP credential (Keycloak's `secretData.value`, our base32 text), with
/// the policy its `credentialData` names.
pub fn from_credential(secret_data: &str, credential_data: &str) -> Option<(OtpPolicy, Vec<u8>)> {
    let s: serde_json::Value = serde_json::from_str(secret_data).ok()?;
    let d: serde_json::Value = serde_json::from_str(credential_data).ok()?;
    if d.get("subType").and_then(|v| v.as_str()) != Some("totp") {
        return None;
    }
    let value = s.get("value")?.as_str()?;
    // Keycloak stores the secret as raw text; ours is base32 of the random key.
    let key = base32_decode(value)
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| value.as_bytes().to_vec());
    let policy = OtpPolicy::from_settings(
        d.get("algorithm").and_then(|v| v.as_str()),
        d.get("digits").and_then(|v| v.as_i64()),
        d.get("period").and_then(|v| v.as_i64()),
        None,
    );
    Some((policy, key))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn policy(alg: &str) -> OtpPolicy {
        OtpPolicy {
            algorithm: alg.into(),
            digits: 8,
            period: 30,
            look_ahead: 0,
        }
    }

    /// RFC 6238 Appendix B test vectors.
    #[test]
    fn rfc6238_vectors() {
        let k1 = b"12345678901234567890";
        let k256 = b"12345678901234567890123456789012";
        let k512 = b"1234567890123456789012345678901234567890123456789012345678901234";
        let cases: [(u64, &str, &str, &str); 4] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1234567890, "89005924", "91819424", "93441116"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (t, sha1, sha256, sha512) in cases {
            assert_eq!(totp(&policy("HmacSHA1"), k1, t), sha1, "{t}");
            assert_eq!(totp(&policy("HmacSHA256"), k256, t), sha256, "{t}");
            assert_eq!(totp(&policy("HmacSHA512"), k512, t), sha512, "{t}");
        }
    }

    #[test]
    fn verification_window_and_format() {
        let p = OtpPolicy::default();
        let key = new_secret();
        let code = totp(&p, &key, 1_000_000);
        assert!(verify(&p, &key, &code, 1_000_000));
        assert!(verify(&p, &key, &code, 1_000_000 + 30));
        assert!(!verify(&p, &key, &code, 1_000_000 + 90));
        assert!(!verify(&p, &key, "12345", 1_000_000));
        assert!(!verify(&p, &key, "abcdef", 1_000_000));
    }

    #[test]
    fn base32_round_trip_and_uri() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        let key = new_secret();
        assert_eq!(base32_decode(&base32(&key)).unwrap(), key);
        let uri = otpauth_uri(&OtpPolicy::default(), "My Realm", "alice", b"foobar");
        assert_eq!(
            uri,
            "otpauth://totp/My%20Realm:alice?secret=MZXW6YTBOI&digits=6&algorithm=SHA1&issuer=My%20Realm&period=30"
        );
        let (s, d) = credential_json(&OtpPolicy::default(), &key);
        let (p, k) = from_credential(&s, &d).unwrap();
        assert_eq!(p, OtpPolicy::default());
        assert_eq!(k, key);
        assert!(
            OtpPolicy::from_settings(Some("MD5"), Some(3), Some(0), Some(99))
                == OtpPolicy::default()
        );
    }
}
