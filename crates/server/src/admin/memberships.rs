//! A user's groups: `GET /users/{id}/groups`, `PUT/DELETE /users/{id}/groups/{groupId}`.
//!
//! Reading needs `view-users`; joining and leaving need `manage-users`, and joining a group
//! also needs the right to grant every role the group (with its ancestors) carries.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::params::{self, Query};
use crate::admin::{bad_param, context, db, repr, role_mappings, users};
use crate::app::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;

/// Default page size of `GET /users/{id}/groups` (Keycloak's).
const DEFAULT_MAX: i64 = 100;

/// GET `/users/{id}/groups` (`search`, `first`, `max`, `briefRepresentation`, default brief).
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/{id}/groups",
    tag = "users",
    params(crate::admin::openapi::IdP, crate::admin::openapi::NameSearch, crate::admin::openapi::Paging, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::GroupRepresentation>),
    )
)]
pub async fn list(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewUsers).await?;
    let q = Query::parse(raw.as_deref());
    let filter = params::name_filter(&q).map_err(bad_param)?;
    let page = q.page(DEFAULT_MAX).map_err(bad_param)?;
    let brief = q
        .flag("briefRepresentation")
        .map_err(bad_param)?
        .unwrap_or(true);
    let user = users::find(&s, &c, &id).await?;
    let groups = db(s
        .store
        .user_groups(&user.user.id, filter.as_ref(), page)
        .await)?;
    let mut out = Vec::with_capacity(groups.len());
    for g in &groups {
        let roles = if brief {
            None
        } else {
            Some(db(s.store.group_roles(&g.group.id).await)?)
        };
        out.push(repr::group_repr(g, brief, roles.as_deref(), &c.access));
    }
    http::ok(out)
}

/// PUT `/users/{id}/groups/{groupId}`: 204 (also when the user is in it already).
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/users/{id}/groups/{group_id}",
    tag = "users",
    params(crate::admin::openapi::MembershipP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn join(
    State(s): State<AppState>,
    Path((realm, id, group_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    let user = users::find(&s, &c, &id).await?;
    if db(s.store.group_details(&c.realm.id, &group_id).await)?.is_none() {
        return Err(http::not_found("Group not found"));
    }
    role_mappings::check_grants(&s, &c, &[], std::slice::from_ref(&group_id)).await?;
    db(s.store.join_group(&user.user.id, &group_id).await)?;
    s.caches.invalidate_user(&user.user.id);
    http::no_content()
}

/// DELETE `/users/{id}/groups/{groupId}`: 204 (also when the user was not in it).
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/users/{id}/groups/{group_id}",
    tag = "users",
    params(crate::admin::openapi::MembershipP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn leave(
    State(s): State<AppState>,
    Path((realm, id, group_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageUsers).await?;
    let user = users::find(&s, &c, &id).await?;
    if db(s.store.group_details(&c.realm.id, &group_id).await)?.is_none() {
        return Err(http::not_found("Group not found"));
    }
    db(s.store.leave_group(&user.user.id, &group_id).await)?;
    s.caches.invalidate_user(&user.user.id);
    http::no_content()
}
