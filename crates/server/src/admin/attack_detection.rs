//! Brute-force detection state: `GET` and `DELETE /attack-detection/brute-force/users/{userId}`,
//! `DELETE /attack-detection/brute-force/users` (Keycloak's `AttackDetectionResource`).
//!
//! Reading needs `view-users`, clearing `manage-users`. The status body is Keycloak's
//! `{"numFailures", "disabled", "lastIPFailure", "lastFailure"}`; like Keycloak, a user without
//! failures (or an id no user has) reads as `0 / false / "n/a" / 0`, and so does everyone in a
//! realm without `bruteForceProtected`. Clearing forgets the failures and ends a temporary
//! lockout; a user disabled by permanent lockout stays disabled until enabled again.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::{context, db};
use crate::app::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use portcullis_model::brute_force::{self, Settings};
use serde_json::json;

/// GET `/attack-detection/brute-force/users/{userId}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/attack-detection/brute-force/users/{id}",
    tag = "attack detection",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = crate::admin::openapi::BruteForceStatus),
    )
)]
pub async fn user_status(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewUsers).await?;
    let settings = Settings::of(&c.realm.settings);
    let user = db(s.store.user_details(&c.realm.id, &id).await)?;
    let (record, enabled) = match &user {
        Some(u) => (
            db(s.store.login_failure(&c.realm.id, &u.user.id).await)?,
            u.user.enabled,
        ),
        None => (None, true),
    };
    let st = brute_force::status(&settings, record.as_ref(), enabled, crate::clock::now_ms());
    http::ok(json!({
        "numFailures": st.num_failures,
        "disabled": st.disabled,
        "lastIPFailure": st.last_ip_failure,
        "lastFailure": st.last_failure_ms,
    }))
}

/// DELETE `/attack-detection/brute-force/users/{userId}`: 204.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/attack-detection/brute-force/users/{id}",
    tag = "attack detection",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn clear_user(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    db(s.store.clear_login_failure(&c.realm.id, &id).await)?;
    http::no_content()
}

/// DELETE `/attack-detection/brute-force/users`: 204.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/attack-detection/brute-force/users",
    tag = "attack detection",
    params(crate::admin::openapi::RealmP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn clear_all(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    db(s.store.clear_realm_login_failures(&c.realm.id).await)?;
    http::no_content()
}
