//! The clock of time-based security decisions (brute-force lockouts, password expiry, the
//! expiry of the links in mails, one-time codes).
//!
//! Production reads the system clock and nothing else. Builds with debug assertions (the test
//! and development builds) honour one test hook: when `PORTCULLIS_TEST_CLOCK_FILE` names a
//! file, the whole number of milliseconds it holds is added to the system time, read again at
//! every call, so integration tests move time forward by rewriting the file instead of
//! sleeping. The hook is compiled out of release builds (`cfg(debug_assertions)`): there, no
//! request, option or variable can move the clock. See docs/adr/0018-brute-force-detection.md.

/// Milliseconds since the epoch, as brute-force and action-token expiry decisions see them.
pub fn now_ms() -> i64 {
    crate::realms::now_ms().saturating_add(test_offset_ms())
}

#[cfg(debug_assertions)]
fn test_offset_ms() -> i64 {
    let Some(path) = std::env::var_os("PORTCULLIS_TEST_CLOCK_FILE") else {
        return 0;
    };
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!("PORTCULLIS_TEST_CLOCK_FILE is set: the security clock follows a test file");
    });
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(0)
}

#[cfg(not(debug_assertions))]
fn test_offset_ms() -> i64 {
    0
}
