//! Users: `GET/POST /users`, `GET /users/count`, `GET/PUT/DELETE /users/{id}` and
//! `PUT /users/{id}/reset-password`.
//!
//! Reading needs `query-users` (lists, counts) or `view-users` (one user); every write needs
//! `manage-users`. A new user gets the realm's default role and default groups; groups named
//! in the body (`groups`: full paths) are joined only if the caller could grant what they
//! carry (see `role_mappings::check_grants`). Passwords are hashed with the realm's policy on
//! the hashing slots, never stored or echoed in clear.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::params::{self, Query};
use crate::admin::{Context, bad_field, bad_param, context, db, realm_url, repr, role_mappings};
use crate::app::AppState;
use crate::oidc::credentials::MAX_PASSWORD_BYTES;
use crate::oidc::http::now_ms;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_model::password::{Algorithm, HashPolicy};
use portcullis_model::records::{CredentialRecord, CredentialSecret, RealmRecord, new_id};
use portcullis_model::repr::{CredentialRepresentation, UserRepresentation};
use portcullis_store::{UserConflict, UserDetails};

/// Default page size of `GET /users` (Keycloak's).
const DEFAULT_MAX: i64 = 100;

/// GET `/users`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users",
    tag = "users",
    params(crate::admin::openapi::RealmP, crate::admin::openapi::UserFilters, crate::admin::openapi::Paging, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::UserRepresentation>),
    )
)]
pub async fn list(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::QueryUsers).await?;
    let q = Query::parse(raw.as_deref());
    let filter = params::user_query(&q).map_err(bad_param)?;
    let brief = q
        .flag("briefRepresentation")
        .map_err(bad_param)?
        .unwrap_or(false);
    let page = q.page(DEFAULT_MAX).map_err(bad_param)?;
    let users = db(s.store.search_users(&c.realm.id, &filter, page).await)?;
    http::ok(
        users
            .iter()
            .map(|u| repr::user_repr(u, brief, &c.access))
            .collect::<Vec<_>>(),
    )
}

/// GET `/users/count`: a bare number.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/count",
    tag = "users",
    params(crate::admin::openapi::RealmP, crate::admin::openapi::UserFilters),
    responses(
        (status = 200, description = "The number of matching users", body = i64, content_type = "application/json"),
    )
)]
pub async fn count(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::QueryUsers).await?;
    let filter = params::user_query(&Query::parse(raw.as_deref())).map_err(bad_param)?;
    http::ok(db(s
        .store
        .count_matching_users(&c.realm.id, &filter)
        .await)?)
}

/// The user `id` of the context's realm, or 404 `User not found`.
pub async fn find(s: &AppState, c: &Context, id: &str) -> Result<UserDetails, Response> {
    db(s.store.user_details(&c.realm.id, id).await)?
        .ok_or_else(|| http::not_found("User not found"))
}

fn conflict(c: UserConflict) -> Response {
    http::conflict(match c {
        UserConflict::Username => "User exists with same username",
        UserConflict::Email => "User exists with same email",
    })
}

/// POST `/users`: 201 with `Location: .../users/{id}`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/users",
    tag = "users",
    params(crate::admin::openapi::RealmP),
    request_body(content = portcullis_model::repr::UserRepresentation, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names the new resource", headers(("Location" = String, description = "URL of the new resource"))),
        (status = 409, description = "Name already taken", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn create(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    let rep: UserRepresentation = http::read_json(&headers, body).await?;
    let id = new_id();
    let mut image = repr::new_user(&c.realm, &rep, id.clone(), now_ms()).map_err(bad_field)?;
    let mut groups = Vec::new();
    for path in rep.groups.iter().flatten() {
        match crate::admin::groups::find_by_path(&s, &c.realm.id, path).await? {
            Some(g) => groups.push(g),
            None => return Err(http::bad_request(&format!("Group {path} not found"))),
        }
    }
    role_mappings::check_grants(&s, &c, &[], &groups).await?;
    groups.extend(db(s.store.default_group_ids(&c.realm.id).await)?);
    groups.sort();
    groups.dedup();
    image.group_ids = groups;
    if let Some(cred) = password_of(rep.credentials.as_deref())? {
        if cred.temporary == Some(true)
            && !image
                .required_actions
                .iter()
                .any(|a| a == "UPDATE_PASSWORD")
        {
            image.required_actions.push("UPDATE_PASSWORD".into());
        }
        let value = password_value(cred)?;
        image
            .credentials
            .push(hash(&s, &c.realm, &id, value).await?);
    }
    let unique_email = !c.realm.duplicate_emails_allowed();
    db(s.store.create_user(&image, unique_email).await)?.map_err(conflict)?;
    s.caches.invalidate_user(&id);
    http::created(&format!(
        "{}/users/{id}",
        realm_url(&s, &headers, &c.realm.name)
    ))
}

/// The one password credential of a create body (other types are not supported yet).
fn password_of(
    creds: Option<&[CredentialRepresentation]>,
) -> Result<Option<&CredentialRepresentation>, Response> {
    let mut found = None;
    for cred in creds.unwrap_or(&[]) {
        match cred.type_.as_deref().unwrap_or("password") {
            "password" if found.is_none() => found = Some(cred),
            "password" => {
                return Err(http::bad_request(
                    "Only one password credential is accepted",
                ));
            }
            other => {
                return Err(http::bad_request(&format!(
                    "Unsupported credential type: {other}"
                )));
            }
        }
    }
    Ok(found)
}

/// The plaintext of a password credential: present, not blank, not absurdly long.
fn password_value(cred: &CredentialRepresentation) -> Result<&str, Response> {
    let Some(v) = cred.value.as_deref() else {
        return Err(http::bad_request("No password provided"));
    };
    if v.trim().is_empty() {
        return Err(http::bad_request("Empty password"));
    }
    if v.len() > MAX_PASSWORD_BYTES {
        return Err(http::bad_request(
            "Invalid password: maximum length exceeded",
        ));
    }
    Ok(v)
}

/// Hash a password for `user_id` with the realm's policy, off the async threads.
async fn hash(
    s: &AppState,
    realm: &RealmRecord,
    user_id: &str,
    value: &str,
) -> Result<CredentialRecord, Response> {
    let policy = HashPolicy::parse(realm.password_policy())
        .unwrap_or_else(|_| HashPolicy::new(Algorithm::Argon2, None));
    let mut cred = CredentialRecord {
        id: new_id(),
        user_id: user_id.to_owned(),
        type_: "password".into(),
        user_label: None,
        created_date: now_ms(),
        priority: 10,
        secret: CredentialSecret::Plain(zeroize::Zeroizing::new(value.to_owned())),
    };
    s.hashing
        .run(move || cred.hash_if_plain(&policy).map(|_| cred))
        .await
        .map_err(crate::error::internal_any)?
        .map_err(|e| crate::error::internal_any(e.into()))
}

/// GET `/users/{id}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/{id}",
    tag = "users",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = portcullis_model::repr::UserRepresentation),
    )
)]
pub async fn get(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewUsers).await?;
    let user = find(&s, &c, &id).await?;
    http::ok(repr::user_repr(&user, false, &c.access))
}

/// PUT `/users/{id}`: a partial update; 204.
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/users/{id}",
    tag = "users",
    params(crate::admin::openapi::IdP),
    request_body(content = portcullis_model::repr::UserRepresentation, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "Name already taken", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn update(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    let rep: UserRepresentation = http::read_json(&headers, body).await?;
    let current = find(&s, &c, &id).await?;
    let change = repr::merge_user(&c.realm, &current.user, &rep).map_err(bad_field)?;
    let unique_email = !c.realm.duplicate_emails_allowed();
    let outcome = s
        .store
        .update_user(
            &change.user,
            change.attributes.as_deref(),
            change.required_actions.as_deref(),
            unique_email,
        )
        .await;
    match outcome {
        Ok(r) => r.map_err(conflict)?,
        Err(portcullis_store::StoreError::NotFound(_)) => {
            return Err(http::not_found("User not found"));
        }
        Err(e) => return Err(crate::error::internal(e)),
    }
    s.caches.invalidate_user(&id);
    http::no_content()
}

/// DELETE `/users/{id}`: 204.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/users/{id}",
    tag = "users",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn delete(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    if !db(s.store.delete_user(&c.realm.id, &id).await)? {
        return Err(http::not_found("User not found"));
    }
    s.caches.invalidate_user(&id);
    http::no_content()
}

/// PUT `/users/{id}/reset-password` with a `CredentialRepresentation`: the new password
/// replaces the old one; `temporary: true` makes the user change it at next login
/// (`UPDATE_PASSWORD`), `false` clears that action. 204.
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/users/{id}/reset-password",
    tag = "users",
    params(crate::admin::openapi::IdP),
    request_body(content = portcullis_model::repr::CredentialRepresentation, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn reset_password(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    let rep: CredentialRepresentation = http::read_json(&headers, body).await?;
    let user = find(&s, &c, &id).await?;
    if rep.type_.as_deref().is_some_and(|t| t != "password") {
        return Err(http::bad_request("Unsupported credential type"));
    }
    let value = password_value(&rep)?;
    // The realm's password policy (and history), with Keycloak's error body.
    let checked = crate::oidc::lifecycle::check_new_password(&s, &c.realm, &user.user, value)
        .await
        .map_err(crate::error::internal_any)?;
    if let Err(v) = checked {
        return Err(http::json(
            axum::http::StatusCode::BAD_REQUEST,
            serde_json::json!({"error": v.key, "error_description": v.message()}),
        ));
    }
    let cred = hash(&s, &c.realm, &user.user.id, value).await?;
    let keep = crate::oidc::lifecycle::history_to_keep(&c.realm);
    match s
        .store
        .change_password(&c.realm.id, &cred, keep, rep.temporary.unwrap_or(false))
        .await
    {
        Ok(()) => {}
        Err(portcullis_store::StoreError::NotFound(_)) => {
            return Err(http::not_found("User not found"));
        }
        Err(e) => return Err(crate::error::internal(e)),
    }
    s.caches.invalidate_user(&id);
    http::no_content()
}
