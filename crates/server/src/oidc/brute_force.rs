//! Brute-force detection around the password check, shared by the login form and the password
//! grant (Keycloak's brute-force protector). The decisions are `portcullis_model::brute_force`;
//! the clock is [`crate::clock`]; the records are the store's `brute_force_failure`.
//!
//! Invariants (no oracle between "locked", "wrong password" and "unknown user"):
//! - the password hash always runs, for locked, unknown and disabled users alike;
//! - a locked user gets [`PasswordCheck::Invalid`], exactly what a wrong password gets (only
//!   the event's reason differs), whether
//!   or not the submitted password was right; failures while locked are not counted;
//! - the user lookup and the failure-record read happen for every attempt (an unknown user
//!   reads a record that cannot exist).
//!
//! Only realms with `bruteForceProtected` pay for any of this.

use crate::app::AppState;
use crate::oidc::credentials::{self, PasswordCheck, Refusal};
use anyhow::Result;
use portcullis_model::brute_force::{self, Lock, Settings};
use portcullis_model::records::RealmRecord;

/// [`credentials::check_password`] with brute-force detection: count failures, lock, answer a
/// locked user like a wrong password, and clear the failures on success.
pub async fn check_password(
    state: &AppState,
    realm: &RealmRecord,
    login: &str,
    password: &str,
    ip: Option<&str>,
) -> Result<PasswordCheck> {
    let settings = Settings::of(&realm.settings);
    if !settings.protected {
        return credentials::check_password(state, realm, login, password).await;
    }
    let user = credentials::find_user(state, realm, login).await?;
    // Read for unknown users too (an id no user has), so both paths cost the same queries.
    let lookup_id = user.as_ref().map_or("", |u| u.id.as_str());
    let record = state.store.login_failure(&realm.id, lookup_id).await?;
    let now = crate::clock::now_ms();
    let lock = match &user {
        Some(u) => brute_force::lock_state(&settings, record.as_ref(), u.enabled, now),
        None => Lock::Open,
    };
    // The hash runs whatever the lock says (no timing difference for locked users).
    let check = credentials::check_password(state, realm, login, password).await?;
    if lock.is_locked() {
        return Ok(PasswordCheck::Invalid(Refusal::of(
            user.as_ref(),
            "user_temporarily_disabled",
        )));
    }
    match check {
        // The failures are cleared only when the whole login succeeds ([`succeeded`]): a right
        // password followed by a wrong one-time code must keep counting.
        PasswordCheck::Valid(u) => Ok(PasswordCheck::Valid(u)),
        PasswordCheck::Disabled(u) => Ok(PasswordCheck::Disabled(u)),
        PasswordCheck::Invalid(refusal) => {
            // Count a wrong password of an existing, enabled user (Keycloak checks `enabled`
            // before the password, so disabled users' attempts are not counted).
            if let Some(u) = user.as_ref().filter(|u| u.enabled) {
                count(state, realm, &settings, &u.id, ip, now).await?;
            }
            Ok(PasswordCheck::Invalid(refusal))
        }
    }
}

/// A login completed (every step passed): the user's failures are forgotten.
pub async fn succeeded(state: &AppState, realm: &RealmRecord, user_id: &str) -> Result<()> {
    // A read first: most logins have no failures to forget, and a read does not queue behind
    // other writers the way a delete does.
    if Settings::of(&realm.settings).protected
        && state
            .store
            .login_failure(&realm.id, user_id)
            .await?
            .is_some()
    {
        state.store.clear_login_failure(&realm.id, user_id).await?;
    }
    Ok(())
}

/// Count a failed second step (a wrong one-time code) of a user whose password was right: it
/// is a failed login like a wrong password (Keycloak counts both).
pub async fn record_failure(
    state: &AppState,
    realm: &RealmRecord,
    user: &portcullis_model::records::UserRecord,
    ip: Option<&str>,
) -> Result<()> {
    let settings = Settings::of(&realm.settings);
    if !settings.protected || !user.enabled {
        return Ok(());
    }
    count(
        state,
        realm,
        &settings,
        &user.id,
        ip,
        crate::clock::now_ms(),
    )
    .await
}

/// Whether brute-force detection holds `user` locked now (for steps after the password, such
/// as the one-time code, which a locked user must not get past either).
pub async fn locked(
    state: &AppState,
    realm: &RealmRecord,
    user: &portcullis_model::records::UserRecord,
) -> Result<bool> {
    let settings = Settings::of(&realm.settings);
    if !settings.protected {
        return Ok(false);
    }
    let record = state.store.login_failure(&realm.id, &user.id).await?;
    Ok(brute_force::lock_state(
        &settings,
        record.as_ref(),
        user.enabled,
        crate::clock::now_ms(),
    )
    .is_locked())
}

async fn count(
    state: &AppState,
    realm: &RealmRecord,
    settings: &Settings,
    user_id: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<()> {
    state
        .store
        .record_login_failure(&realm.id, user_id, |prev, enabled| {
            brute_force::after_failure(settings, prev, enabled, ip, now)
        })
        .await?;
    Ok(())
}
