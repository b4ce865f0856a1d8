//! A small multiplicative hasher for the engine's internal maps (names to dense indices and
//! permission pairs to permission indices).
//!
//! Invariants: no I/O, no dependency. Keys in these maps are names written by whoever
//! administers the policy (roles, users, operations, objects), never request data, so a
//! non-keyed hash is acceptable: a request can only *look up* a string, and a lookup cannot
//! lengthen a probe sequence. `std`'s SipHash would be the choice for maps keyed by
//! untrusted input.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Odd 64-bit multiplier (the fractional part of the golden ratio).
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// Word-at-a-time multiply-rotate hasher. Not collision resistant against adversarial keys.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher {
    state: u64,
}

impl FastHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.mix(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        }
        // The last 1..=7 bytes as one word, without a call to `memcpy`: two overlapping 4-byte
        // reads, or first, middle and last byte.
        let rest = chunks.remainder();
        let len = rest.len();
        if len >= 4 {
            let low = u32::from_le_bytes(rest[..4].try_into().unwrap_or_default());
            let high = u32::from_le_bytes(rest[len - 4..].try_into().unwrap_or_default());
            self.mix(u64::from(low) | u64::from(high) << 32);
        } else if len > 0 {
            self.mix(
                u64::from(rest[0]) | u64::from(rest[len / 2]) << 8 | u64::from(rest[len - 1]) << 16,
            );
        }
    }

    #[inline]
    fn write_u8(&mut self, value: u8) {
        self.mix(u64::from(value));
    }

    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.mix(u64::from(value));
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }

    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.mix(value as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The product's high bits are well mixed, its low bits are not; the table indexes
        // buckets with the low bits, so fold the high half down.
        self.state ^ (self.state >> 32)
    }
}

/// A `HashMap` using [`FastHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash_of<T: Hash>(value: &T) -> u64 {
        BuildHasherDefault::<FastHasher>::default().hash_one(value)
    }

    #[test]
    fn different_short_strings_hash_differently() {
        let names = [
            "", "a", "b", "ab", "ba", "editor", "viewer", "article", "articles",
        ];
        let mut seen = std::collections::HashSet::new();
        for name in names {
            assert!(seen.insert(hash_of(&name)), "collision for {name:?}");
        }
    }

    #[test]
    fn packed_pairs_spread_over_low_bits() {
        // Pairs differing only in the high half must still land in different buckets.
        let buckets: std::collections::HashSet<u64> =
            (0u64..64).map(|op| hash_of(&(op << 32)) & 63).collect();
        assert!(buckets.len() > 32, "{} buckets", buckets.len());
    }
}
