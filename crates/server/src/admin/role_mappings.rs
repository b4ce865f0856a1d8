//! A user's role mappings: `GET /users/{id}/role-mappings`,
//! `GET/POST/DELETE /users/{id}/role-mappings/realm` and `.../realm/composite`.
//!
//! Reading needs `view-users`; adding and removing need `manage-users` plus, for every role
//! in the closure of what is granted, the right to grant it ([`check_grants`]): nobody hands
//! out (or takes away) administration rights they do not hold themselves.

use crate::admin::auth::{self, Action};
use crate::admin::http::{self, Answer};
use crate::admin::params::Query;
use crate::admin::{Context, bad_param, context, db, repr, users};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_model::repr::RoleRepresentation;
use portcullis_store::RoleDetails;
use std::collections::HashMap;

/// 403 unless the caller may grant `role_ids` and the roles of `group_ids` (with everything
/// they contain through composites and parent groups).
pub async fn check_grants(
    s: &AppState,
    c: &Context,
    role_ids: &[String],
    group_ids: &[String],
) -> Result<(), Response> {
    if role_ids.is_empty() && group_ids.is_empty() {
        return Ok(());
    }
    let graph = db(s.store.role_graph(&c.realm.id).await)?;
    let closure = graph.effective(role_ids, group_ids);
    let mut uuids: Vec<String> = closure.iter().filter_map(|r| r.client_id.clone()).collect();
    uuids.sort();
    uuids.dedup();
    let client_ids: HashMap<String, String> = s
        .caches
        .client_ids(&s.store, &uuids)
        .await
        .map_err(crate::error::internal_any)?
        .into_iter()
        .collect();
    let grants: Vec<auth::Grant<'_>> = closure
        .iter()
        .map(|r| {
            let client = r.client_id.as_ref().and_then(|u| client_ids.get(u));
            auth::classify(&c.realm.name, r, client.map(String::as_str))
        })
        .collect();
    if auth::may_grant(&c.access, &c.caller.role_ids(), &grants) {
        Ok(())
    } else {
        Err(http::forbidden())
    }
}

/// GET `/users/{id}/role-mappings`.
pub async fn all(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewUsers).await?;
    let user = users::find(&s, &c, &id).await?;
    let direct = db(s.store.user_direct_roles(&user.user.id).await)?;
    http::ok(repr::role_mappings(&direct))
}

/// GET `/users/{id}/role-mappings/realm`: the realm roles granted directly.
pub async fn realm(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewUsers).await?;
    let user = users::find(&s, &c, &id).await?;
    let direct = db(s.store.user_direct_roles(&user.user.id).await)?;
    http::ok(
        direct
            .iter()
            .filter(|(d, _)| d.role.client_id.is_none())
            .map(|(d, _)| repr::role_repr(d, true))
            .collect::<Vec<_>>(),
    )
}

/// GET `/users/{id}/role-mappings/realm/composite`: every realm role the user holds
/// (through composites and groups too); `briefRepresentation` defaults to true.
pub async fn realm_composite(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewUsers).await?;
    let brief = Query::parse(raw.as_deref())
        .flag("briefRepresentation")
        .map_err(bad_param)?
        .unwrap_or(true);
    let user = users::find(&s, &c, &id).await?;
    let roles: Vec<_> = db(s.store.effective_roles(&user.user.id).await)?
        .into_iter()
        .filter(|r| r.client_id.is_none())
        .collect();
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    let composite: std::collections::HashSet<String> = db(s.store.composite_roles(&ids).await)?
        .into_iter()
        .collect();
    http::ok(
        roles
            .into_iter()
            .map(|role| {
                let composite = composite.contains(&role.id);
                repr::role_repr(&RoleDetails { role, composite }, brief)
            })
            .collect::<Vec<_>>(),
    )
}

/// The realm roles a body names (by `name`, checked against `id` when given): 404
/// `Role not found` for any that does not exist.
async fn resolve(
    s: &AppState,
    c: &Context,
    reps: &[RoleRepresentation],
) -> Result<Vec<String>, Response> {
    let mut ids = Vec::with_capacity(reps.len());
    for rep in reps {
        let found = match (&rep.name, &rep.id) {
            (Some(name), _) => db(s.store.realm_role_details(&c.realm.id, name).await)?,
            (None, Some(id)) => db(s.store.role_details_by_id(&c.realm.id, id).await)?
                .filter(|d| d.role.client_id.is_none()),
            (None, None) => None,
        };
        match found {
            Some(d) if rep.id.as_ref().is_none_or(|id| *id == d.role.id) => ids.push(d.role.id),
            _ => return Err(http::not_found("Role not found")),
        }
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// POST `/users/{id}/role-mappings/realm` with an array of roles: 204.
pub async fn add_realm(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::MapRoles).await?;
    let reps: Vec<RoleRepresentation> = http::read_json(&headers, body).await?;
    let user = users::find(&s, &c, &id).await?;
    let ids = resolve(&s, &c, &reps).await?;
    check_grants(&s, &c, &ids, &[]).await?;
    db(s.store.grant_roles(&user.user.id, &ids).await)?;
    s.caches.invalidate_user(&user.user.id);
    http::no_content()
}

/// DELETE `/users/{id}/role-mappings/realm` with an array of roles: 204.
pub async fn remove_realm(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::MapRoles).await?;
    let reps: Vec<RoleRepresentation> = http::read_json(&headers, body).await?;
    let user = users::find(&s, &c, &id).await?;
    let ids = resolve(&s, &c, &reps).await?;
    check_grants(&s, &c, &ids, &[]).await?;
    db(s.store.revoke_roles(&user.user.id, &ids).await)?;
    s.caches.invalidate_user(&user.user.id);
    http::no_content()
}
