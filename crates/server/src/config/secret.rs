//! `Secret`: a configuration value (password, client secret) that never prints.
//!
//! Invariant: neither `Debug` nor `Display` reveals the value; only `expose()` does, and callers
//! use it at the single point where the value is handed to its consumer.

use std::fmt;

/// What a secret looks like wherever it is rendered (show-config, `Debug`, error messages).
pub const MASK: &str = "*******";

/// A secret string with redacting `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The plain value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({MASK})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), MASK);
        assert_eq!(format!("{s:?}"), format!("Secret({MASK})"));
        assert_eq!(s.expose(), "hunter2");
    }
}
