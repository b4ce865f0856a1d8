//! A user's credentials: `GET /users/{id}/credentials`, `DELETE /users/{id}/credentials/{credentialId}`.
//!
//! Reading needs `view-users`, deleting `manage-users`. The answer is Keycloak's
//! CredentialRepresentation without any secret: id, type, label, creation time and the
//! non-secret `credentialData` (algorithm, iterations); the hash and salt (`secretData`) are
//! never read by this module.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::{context, db, users};
use crate::app::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

fn credential_repr(c: &portcullis_store::CredentialInfo) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(c.id));
    m.insert("type".into(), json!(c.type_));
    if let Some(label) = &c.user_label {
        m.insert("userLabel".into(), json!(label));
    }
    m.insert("createdDate".into(), json!(c.created_date));
    m.insert("credentialData".into(), json!(c.credential_data));
    Value::Object(m)
}

/// GET `/users/{id}/credentials`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/{id}/credentials",
    tag = "users",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::CredentialRepresentation>),
    )
)]
pub async fn list(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewUsers).await?;
    let user = users::find(&s, &c, &id).await?;
    let found = db(s.store.credential_infos(&user.user.id).await)?;
    http::ok(found.iter().map(credential_repr).collect::<Vec<_>>())
}

/// DELETE `/users/{id}/credentials/{credentialId}`: 204, or 404 `Credential not found`.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/users/{id}/credentials/{credential}",
    tag = "users",
    params(crate::admin::openapi::CredentialP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn delete(
    State(s): State<AppState>,
    Path((realm, id, credential)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    let user = users::find(&s, &c, &id).await?;
    if !db(s.store.delete_credential(&user.user.id, &credential).await)? {
        return Err(http::not_found("Credential not found"));
    }
    http::no_content()
}
