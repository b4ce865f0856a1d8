//! A minimal DER reader: just enough to pull the public point out of an EC PKCS#8 document
//! without building a signing key (which in ring needs an RNG).
//!
//! Invariant: never panics and never reads past its input; anything unexpected is `None`.

/// One tag-length-value element: `(tag, contents, rest)`.
pub(crate) fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        // DER: long form only for lengths >= 128, at most 4 length bytes here.
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (len_bytes, rest) = rest.split_at(n);
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        if len < 0x80 {
            return None;
        }
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (contents, rest) = rest.split_at(len);
    Some((tag, contents, rest))
}

/// Reads one element and checks its tag.
pub(crate) fn expect(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (t, contents, rest) = read_tlv(input)?;
    (t == tag).then_some((contents, rest))
}

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OID: u8 = 0x06;

/// OID 1.2.840.10045.2.1 (id-ecPublicKey), contents only.
const ID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// From an EC PKCS#8 `PrivateKeyInfo` (RFC 5208 §5, RFC 5915 §3): the named-curve OID contents
/// and the uncompressed public point stored in the inner `ECPrivateKey`.
pub(crate) fn ec_pkcs8_public(pkcs8: &[u8]) -> Option<(&[u8], &[u8])> {
    let (info, trailing) = expect(pkcs8, SEQUENCE)?;
    if !trailing.is_empty() {
        return None;
    }
    let (_version, rest) = expect(info, INTEGER)?;
    let (alg_id, rest) = expect(rest, SEQUENCE)?;
    let (alg_oid, params) = expect(alg_id, OID)?;
    if alg_oid != ID_EC_PUBLIC_KEY {
        return None;
    }
    let (curve_oid, _) = expect(params, OID)?;
    let (private_key, _) = expect(rest, OCTET_STRING)?;
    // ECPrivateKey ::= SEQUENCE { version, privateKey, [0] parameters OPTIONAL, [1] publicKey OPTIONAL }
    let (ec, _) = expect(private_key, SEQUENCE)?;
    let (_v, mut rest) = expect(ec, INTEGER)?;
    let (_d, r) = expect(rest, OCTET_STRING)?;
    rest = r;
    while !rest.is_empty() {
        let (tag, contents, r) = read_tlv(rest)?;
        rest = r;
        if tag == 0xa1 {
            let (bits, _) = expect(contents, BIT_STRING)?;
            let (&unused, point) = bits.split_first()?;
            if unused != 0 || point.first() != Some(&0x04) {
                return None;
            }
            return Some((curve_oid, point));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_truncated_and_oversized_lengths() {
        assert_eq!(read_tlv(&[]), None);
        assert_eq!(read_tlv(&[0x30]), None);
        assert_eq!(read_tlv(&[0x30, 0x05, 0x01]), None);
        assert_eq!(read_tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        // Non-minimal long form.
        assert_eq!(read_tlv(&[0x30, 0x81, 0x01, 0x00]), None);
        assert_eq!(
            read_tlv(&[0x02, 0x01, 0x07, 0xff]),
            Some((0x02, &[0x07][..], &[0xff][..]))
        );
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(ec_pkcs8_public(b"not der at all"), None);
        assert_eq!(ec_pkcs8_public(&[0x30, 0x00]), None);
    }
}
