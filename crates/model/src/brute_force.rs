//! Brute-force detection decisions, with Keycloak's settings and semantics: given the realm's
//! settings, a user's stored failure record and "now", decide whether the user is locked
//! (until when, or permanently) and what the record becomes after a failure or a success.
//!
//! Invariant: no I/O and no clock; the caller passes `now` (milliseconds since the epoch) and
//! stores what these functions return.
//!
//! Keycloak's algorithm for one failed login (when not already locked):
//! 1. if the last failure is older than `maxDeltaTimeSeconds` (Failure Reset Time), the count
//!    starts again from zero;
//! 2. the count grows by one and the failure time and address are remembered;
//! 3. with permanent lockout and no temporary lockouts allowed, reaching `failureFactor`
//!    failures disables the user (Keycloak sets `enabled=false`);
//! 4. otherwise the wait follows the strategy: MULTIPLE waits `waitIncrementSeconds` times
//!    `count / failureFactor` when `count` is a multiple of `failureFactor`; LINEAR waits
//!    `waitIncrementSeconds` times `1 + count - failureFactor` once `count >= failureFactor`;
//! 5. when that gives no wait and this failure came less than `quickLoginCheckMilliSeconds`
//!    after the previous one, the wait is `minimumQuickLoginWaitSeconds`;
//! 6. a positive wait, capped at `maxFailureWaitSeconds`, locks the user temporarily and counts
//!    one temporary lockout; with permanent lockout and `maxTemporaryLockouts > 0`, more
//!    temporary lockouts than that disable the user.
//!
//! A successful login clears the record. Failures while locked are not counted.

use crate::repr::RealmRepresentation;

/// How the wait grows with the failure count (`bruteForceStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Wait only when the count is a multiple of the failure factor (Keycloak's default).
    Multiple,
    /// Wait after every failure from the failure factor on, one increment more each time.
    Linear,
}

/// A realm's brute-force settings with Keycloak's defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub protected: bool,
    pub permanent_lockout: bool,
    pub max_temporary_lockouts: i64,
    pub strategy: Strategy,
    pub failure_factor: i64,
    pub wait_increment_seconds: i64,
    pub max_failure_wait_seconds: i64,
    pub minimum_quick_login_wait_seconds: i64,
    pub quick_login_check_milli_seconds: i64,
    pub max_delta_time_seconds: i64,
}

impl Settings {
    /// Read the settings of a realm representation (absent fields take Keycloak's defaults).
    pub fn of(r: &RealmRepresentation) -> Settings {
        let strategy = match r.brute_force_strategy.as_deref() {
            Some(s) if s.eq_ignore_ascii_case("LINEAR") => Strategy::Linear,
            _ => Strategy::Multiple,
        };
        Settings {
            protected: r.brute_force_protected.unwrap_or(false),
            permanent_lockout: r.permanent_lockout.unwrap_or(false),
            max_temporary_lockouts: r.max_temporary_lockouts.unwrap_or(0).max(0),
            strategy,
            failure_factor: r.failure_factor.unwrap_or(30),
            wait_increment_seconds: r.wait_increment_seconds.unwrap_or(60).max(0),
            max_failure_wait_seconds: r.max_failure_wait_seconds.unwrap_or(900).max(0),
            minimum_quick_login_wait_seconds: r
                .minimum_quick_login_wait_seconds
                .unwrap_or(60)
                .max(0),
            quick_login_check_milli_seconds: r.quick_login_check_milli_seconds.unwrap_or(1000),
            max_delta_time_seconds: r.max_delta_time_seconds.unwrap_or(43200),
        }
    }
}

/// One user's stored failures (Keycloak's `UserLoginFailureModel`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FailureRecord {
    pub num_failures: i64,
    pub num_temporary_lockouts: i64,
    /// Time of the last counted failure (ms since the epoch; 0 = none).
    pub last_failure_ms: i64,
    /// The client address of the last counted failure.
    pub last_ip_failure: Option<String>,
    /// Locked until this time (ms since the epoch; 0 = not locked).
    pub locked_until_ms: i64,
    /// The user was disabled by permanent lockout (Keycloak's `disabledReason`).
    pub permanent: bool,
}

/// Whether a user may try a password now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    Open,
    /// Temporarily locked until this time (ms since the epoch).
    Until(i64),
    /// Disabled by permanent lockout until an administrator enables the user again.
    Permanent,
}

impl Lock {
    pub fn is_locked(self) -> bool {
        self != Lock::Open
    }
}

/// The record as it stands for a user who is `enabled` now. A permanent-lockout record of a
/// user an administrator has enabled again no longer counts (Keycloak clears the failures when
/// a user is enabled).
pub fn effective(record: Option<&FailureRecord>, enabled: bool) -> Option<&FailureRecord> {
    record.filter(|r| !(r.permanent && enabled))
}

/// Is the user locked at `now_ms`?
pub fn lock_state(
    settings: &Settings,
    record: Option<&FailureRecord>,
    enabled: bool,
    now_ms: i64,
) -> Lock {
    if !settings.protected {
        return Lock::Open;
    }
    match effective(record, enabled) {
        None => Lock::Open,
        Some(r) if r.permanent => Lock::Permanent,
        Some(r) if now_ms < r.locked_until_ms => Lock::Until(r.locked_until_ms),
        Some(_) => Lock::Open,
    }
}

/// What a failed login changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterFailure {
    pub record: FailureRecord,
    /// Disable the user now (permanent lockout).
    pub disable_user: bool,
}

/// The wait in seconds the strategy gives for `count` failures (before quick-login and cap).
fn strategy_wait(settings: &Settings, count: i64) -> i64 {
    let factor = settings.failure_factor;
    if factor <= 0 {
        return 0;
    }
    match settings.strategy {
        Strategy::Multiple if count % factor == 0 => settings
            .wait_increment_seconds
            .saturating_mul(count / factor),
        Strategy::Multiple => 0,
        Strategy::Linear if count >= factor => settings
            .wait_increment_seconds
            .saturating_mul(1 + count - factor),
        Strategy::Linear => 0,
    }
}

/// The record after a failed login at `now_ms` from `ip`, for a user who is not locked.
pub fn after_failure(
    settings: &Settings,
    previous: Option<&FailureRecord>,
    enabled: bool,
    ip: Option<&str>,
    now_ms: i64,
) -> AfterFailure {
    let mut r = effective(previous, enabled).cloned().unwrap_or_default();
    let mut delta_ms = 0;
    if r.last_failure_ms > 0 {
        delta_ms = now_ms.saturating_sub(r.last_failure_ms);
        if delta_ms > settings.max_delta_time_seconds.saturating_mul(1000) {
            r = FailureRecord::default();
        }
    }
    r.num_failures = r.num_failures.saturating_add(1);
    r.last_failure_ms = now_ms;
    r.last_ip_failure = ip.map(str::to_owned);
    r.locked_until_ms = 0;
    r.permanent = false;

    if settings.permanent_lockout
        && settings.max_temporary_lockouts == 0
        && settings.failure_factor > 0
        && r.num_failures >= settings.failure_factor
    {
        r.permanent = true;
        return AfterFailure {
            record: r,
            disable_user: true,
        };
    }

    let mut wait = strategy_wait(settings, r.num_failures);
    if wait <= 0 && delta_ms > 0 && delta_ms < settings.quick_login_check_milli_seconds {
        wait = settings.minimum_quick_login_wait_seconds;
    }
    let wait = wait.min(settings.max_failure_wait_seconds);
    if wait > 0 {
        r.num_temporary_lockouts = r.num_temporary_lockouts.saturating_add(1);
        if settings.permanent_lockout
            && settings.max_temporary_lockouts > 0
            && r.num_temporary_lockouts > settings.max_temporary_lockouts
        {
            r.permanent = true;
            return AfterFailure {
                record: r,
                disable_user: true,
            };
        }
        r.locked_until_ms = now_ms.saturating_add(wait.saturating_mul(1000));
    }
    AfterFailure {
        record: r,
        disable_user: false,
    }
}

/// Keycloak's admin view of a user's brute-force state (`AttackDetectionResource`):
/// `numFailures`, `disabled`, `lastIPFailure` (`"n/a"` when none), `lastFailure` (ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub num_failures: i64,
    pub disabled: bool,
    pub last_ip_failure: String,
    pub last_failure_ms: i64,
}

/// The admin view at `now_ms`.
pub fn status(
    settings: &Settings,
    record: Option<&FailureRecord>,
    enabled: bool,
    now_ms: i64,
) -> Status {
    let blank = Status {
        num_failures: 0,
        disabled: false,
        last_ip_failure: "n/a".to_string(),
        last_failure_ms: 0,
    };
    if !settings.protected {
        return blank;
    }
    let disabled = lock_state(settings, record, enabled, now_ms).is_locked();
    match effective(record, enabled) {
        None => Status { disabled, ..blank },
        Some(r) => Status {
            num_failures: r.num_failures,
            disabled,
            last_ip_failure: r
                .last_ip_failure
                .clone()
                .unwrap_or_else(|| "n/a".to_string()),
            last_failure_ms: r.last_failure_ms,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    fn settings() -> Settings {
        Settings {
            protected: true,
            permanent_lockout: false,
            max_temporary_lockouts: 0,
            strategy: Strategy::Multiple,
            failure_factor: 3,
            wait_increment_seconds: 60,
            max_failure_wait_seconds: 900,
            minimum_quick_login_wait_seconds: 30,
            quick_login_check_milli_seconds: 1000,
            max_delta_time_seconds: 3600,
        }
    }

    /// Fail `n` times, `gap_ms` apart, starting at `start`; the record and outcome of the last.
    fn fail_n(s: &Settings, n: usize, start: i64, gap_ms: i64) -> (FailureRecord, AfterFailure) {
        let mut rec: Option<FailureRecord> = None;
        let mut last = None;
        for i in 0..n {
            let out = after_failure(
                s,
                rec.as_ref(),
                true,
                Some("10.0.0.1"),
                start + gap_ms * i as i64,
            );
            rec = Some(out.record.clone());
            last = Some(out);
        }
        let last = last.expect("n > 0");
        (last.record.clone(), last)
    }

    #[test]
    fn defaults_follow_keycloak() {
        let s = Settings::of(&RealmRepresentation::default());
        assert!(!s.protected);
        assert!(!s.permanent_lockout);
        assert_eq!(s.strategy, Strategy::Multiple);
        assert_eq!(s.failure_factor, 30);
        assert_eq!(s.wait_increment_seconds, 60);
        assert_eq!(s.max_failure_wait_seconds, 900);
        assert_eq!(s.minimum_quick_login_wait_seconds, 60);
        assert_eq!(s.quick_login_check_milli_seconds, 1000);
        assert_eq!(s.max_delta_time_seconds, 43200);
        assert_eq!(s.max_temporary_lockouts, 0);
    }

    #[test]
    fn settings_are_read_from_the_realm() {
        let r = RealmRepresentation {
            brute_force_protected: Some(true),
            permanent_lockout: Some(true),
            max_temporary_lockouts: Some(2),
            brute_force_strategy: Some("LINEAR".into()),
            failure_factor: Some(5),
            wait_increment_seconds: Some(10),
            max_failure_wait_seconds: Some(100),
            minimum_quick_login_wait_seconds: Some(7),
            quick_login_check_milli_seconds: Some(250),
            max_delta_time_seconds: Some(99),
            ..Default::default()
        };
        let s = Settings::of(&r);
        assert_eq!(
            s,
            Settings {
                protected: true,
                permanent_lockout: true,
                max_temporary_lockouts: 2,
                strategy: Strategy::Linear,
                failure_factor: 5,
                wait_increment_seconds: 10,
                max_failure_wait_seconds: 100,
                minimum_quick_login_wait_seconds: 7,
                quick_login_check_milli_seconds: 250,
                max_delta_time_seconds: 99,
            }
        );
    }

    #[test]
    fn unprotected_realms_never_lock() {
        let s = Settings {
            protected: false,
            ..settings()
        };
        let (rec, _) = fail_n(&s, 10, T0, 5000);
        assert_eq!(lock_state(&s, Some(&rec), true, T0 + 50_000), Lock::Open);
        assert_eq!(status(&s, Some(&rec), true, T0).num_failures, 0);
    }

    #[test]
    fn failures_below_the_factor_do_not_lock() {
        let s = settings();
        let (rec, out) = fail_n(&s, 2, T0, 5000);
        assert_eq!(rec.num_failures, 2);
        assert_eq!(rec.locked_until_ms, 0);
        assert!(!out.disable_user);
        assert_eq!(rec.last_failure_ms, T0 + 5000);
        assert_eq!(rec.last_ip_failure.as_deref(), Some("10.0.0.1"));
        assert_eq!(lock_state(&s, Some(&rec), true, T0 + 5001), Lock::Open);
    }

    #[test]
    fn multiple_strategy_locks_at_each_multiple_of_the_factor() {
        let s = settings();
        let (rec, _) = fail_n(&s, 3, T0, 5000);
        let now = T0 + 10_000;
        assert_eq!(rec.locked_until_ms, now + 60_000);
        assert_eq!(rec.num_temporary_lockouts, 1);
        assert_eq!(
            lock_state(&s, Some(&rec), true, now + 59_999),
            Lock::Until(now + 60_000)
        );
        assert_eq!(lock_state(&s, Some(&rec), true, now + 60_000), Lock::Open);
        // The 4th and 5th failure (after the wait) do not lock; the 6th locks for 2 increments.
        let r4 = after_failure(&s, Some(&rec), true, None, now + 70_000).record;
        assert_eq!(r4.locked_until_ms, 0);
        let r5 = after_failure(&s, Some(&r4), true, None, now + 80_000).record;
        assert_eq!(r5.locked_until_ms, 0);
        let r6 = after_failure(&s, Some(&r5), true, None, now + 90_000).record;
        assert_eq!(r6.locked_until_ms, now + 90_000 + 120_000);
        assert_eq!(r6.num_failures, 6);
        assert_eq!(r6.num_temporary_lockouts, 2);
    }

    #[test]
    fn linear_strategy_locks_after_every_failure_from_the_factor_on() {
        let s = Settings {
            strategy: Strategy::Linear,
            ..settings()
        };
        let (rec, _) = fail_n(&s, 3, T0, 5000);
        let now = T0 + 10_000;
        assert_eq!(rec.locked_until_ms, now + 60_000);
        let r4 = after_failure(&s, Some(&rec), true, None, now + 70_000).record;
        assert_eq!(r4.locked_until_ms, now + 70_000 + 120_000);
        let r5 = after_failure(&s, Some(&r4), true, None, now + 200_000).record;
        assert_eq!(r5.locked_until_ms, now + 200_000 + 180_000);
    }

    #[test]
    fn the_wait_is_capped_by_max_wait() {
        let s = Settings {
            max_failure_wait_seconds: 90,
            ..settings()
        };
        let (rec, _) = fail_n(&s, 6, T0, 5000);
        assert_eq!(rec.locked_until_ms, T0 + 25_000 + 90_000);
        let s = Settings {
            strategy: Strategy::Linear,
            wait_increment_seconds: 1000,
            ..s
        };
        let (rec, _) = fail_n(&s, 3, T0, 5000);
        assert_eq!(rec.locked_until_ms, T0 + 10_000 + 90_000);
    }

    #[test]
    fn max_delta_resets_the_count() {
        let s = settings();
        let (rec, _) = fail_n(&s, 2, T0, 5000);
        // Just inside the reset time: counts on, third failure locks.
        let inside = after_failure(&s, Some(&rec), true, None, T0 + 5000 + 3_600_000).record;
        assert_eq!(inside.num_failures, 3);
        assert!(inside.locked_until_ms > 0);
        // Past it: starts again from one.
        let past = after_failure(
            &s,
            Some(&rec),
            true,
            Some("10.9.9.9"),
            T0 + 5000 + 3_600_001,
        )
        .record;
        assert_eq!(past.num_failures, 1);
        assert_eq!(past.locked_until_ms, 0);
        assert_eq!(past.num_temporary_lockouts, 0);
        assert_eq!(past.last_ip_failure.as_deref(), Some("10.9.9.9"));
    }

    #[test]
    fn quick_login_check_locks_rapid_failures() {
        let s = settings();
        let first = after_failure(&s, None, true, None, T0).record;
        assert_eq!(
            first.locked_until_ms, 0,
            "the first failure has no previous one"
        );
        let second = after_failure(&s, Some(&first), true, None, T0 + 999).record;
        assert_eq!(second.locked_until_ms, T0 + 999 + 30_000);
        assert_eq!(second.num_temporary_lockouts, 1);
        // Exactly the check interval apart is not quick.
        let slow = after_failure(&s, Some(&first), true, None, T0 + 1000).record;
        assert_eq!(slow.locked_until_ms, 0);
    }

    #[test]
    fn quick_login_wait_is_capped_and_does_not_shorten_a_strategy_wait() {
        let s = Settings {
            minimum_quick_login_wait_seconds: 2000,
            ..settings()
        };
        let first = after_failure(&s, None, true, None, T0).record;
        let second = after_failure(&s, Some(&first), true, None, T0 + 10).record;
        assert_eq!(second.locked_until_ms, T0 + 10 + 900_000);
        // At the factor the strategy's wait applies even when the failure is quick.
        let s = Settings {
            minimum_quick_login_wait_seconds: 1,
            ..settings()
        };
        let (rec, _) = fail_n(&s, 3, T0, 2000);
        let r = after_failure(&s, Some(&rec), true, None, T0 + 4000 + 60_000).record;
        assert_eq!(r.num_failures, 4);
        let quick_third = {
            let a = after_failure(&s, None, true, None, T0).record;
            let b = after_failure(&s, Some(&a), true, None, T0 + 5000).record;
            after_failure(&s, Some(&b), true, None, T0 + 5100).record
        };
        assert_eq!(quick_third.locked_until_ms, T0 + 5100 + 60_000);
    }

    #[test]
    fn permanent_lockout_disables_at_the_factor() {
        let s = Settings {
            permanent_lockout: true,
            ..settings()
        };
        let (rec, out) = fail_n(&s, 2, T0, 5000);
        assert!(!out.disable_user);
        assert!(!rec.permanent);
        let out = after_failure(&s, Some(&rec), true, None, T0 + 20_000);
        assert!(out.disable_user);
        assert!(out.record.permanent);
        // The user is now disabled: locked for good, and the admin view says so.
        assert_eq!(
            lock_state(&s, Some(&out.record), false, T0 + 1_000_000_000),
            Lock::Permanent
        );
        let st = status(&s, Some(&out.record), false, T0 + 30_000);
        assert!(st.disabled);
        assert_eq!(st.num_failures, 3);
        // An administrator enables the user again: the record no longer counts.
        assert_eq!(
            lock_state(&s, Some(&out.record), true, T0 + 30_000),
            Lock::Open
        );
        let again = after_failure(&s, Some(&out.record), true, None, T0 + 40_000).record;
        assert_eq!(again.num_failures, 1);
        assert!(!again.permanent);
    }

    #[test]
    fn permanent_lockout_still_locks_quick_failures_temporarily() {
        let s = Settings {
            permanent_lockout: true,
            max_temporary_lockouts: 0,
            ..settings()
        };
        let a = after_failure(&s, None, true, None, T0).record;
        let b = after_failure(&s, Some(&a), true, None, T0 + 100);
        // Below the factor a quick failure locks for the quick-login wait only.
        assert!(!b.disable_user);
        assert_eq!(b.record.locked_until_ms, T0 + 100 + 30_000);
        assert_eq!(
            lock_state(&s, Some(&b.record), true, T0 + 200),
            Lock::Until(T0 + 30_100)
        );
    }

    #[test]
    fn permanent_after_more_temporary_lockouts_than_allowed() {
        let s = Settings {
            permanent_lockout: true,
            max_temporary_lockouts: 1,
            ..settings()
        };
        let (rec, out) = fail_n(&s, 3, T0, 5000);
        assert!(!out.disable_user);
        assert_eq!(rec.num_temporary_lockouts, 1);
        assert!(rec.locked_until_ms > 0);
        let mut r = rec;
        for i in 0..2 {
            r = after_failure(&s, Some(&r), true, None, T0 + 200_000 + i * 5000).record;
        }
        let out = after_failure(&s, Some(&r), true, None, T0 + 300_000);
        assert_eq!(out.record.num_failures, 6);
        assert!(out.disable_user);
        assert!(out.record.permanent);
    }

    #[test]
    fn status_of_a_user_without_failures() {
        let s = settings();
        let st = status(&s, None, true, T0);
        assert_eq!(
            st,
            Status {
                num_failures: 0,
                disabled: false,
                last_ip_failure: "n/a".into(),
                last_failure_ms: 0
            }
        );
        let (rec, _) = fail_n(&s, 3, T0, 5000);
        let st = status(&s, Some(&rec), true, T0 + 10_001);
        assert!(st.disabled);
        assert_eq!(st.last_ip_failure, "10.0.0.1");
        assert_eq!(st.last_failure_ms, T0 + 10_000);
        assert!(!status(&s, Some(&rec), true, T0 + 10_000 + 60_000).disabled);
    }

    #[test]
    fn a_zero_failure_factor_never_locks_by_count() {
        let s = Settings {
            failure_factor: 0,
            permanent_lockout: true,
            ..settings()
        };
        let (rec, out) = fail_n(&s, 5, T0, 5000);
        assert!(!out.disable_user);
        assert_eq!(rec.locked_until_ms, 0);
    }
}
