//! Role mappings of users and groups, the same endpoints under `/users/{id}` and
//! `/groups/{id}`: `GET .../role-mappings` (realm and per-client mappings),
//! `GET/POST/DELETE .../role-mappings/realm`, `.../realm/available`, `.../realm/composite`,
//! and the same under `.../role-mappings/clients/{client-uuid}`.
//!
//! Reading needs `view-users` (groups are governed by the user rights); adding and removing
//! need `manage-users` plus, for every role in the closure of what is granted, the right to
//! grant it ([`check_grants`]): nobody hands out (or takes away) administration rights they
//! do not hold themselves. `composite` lists the effective roles (composites expanded; for a
//! user also through its groups, for a group also through its ancestors), `available` the
//! roles of the realm or client not held effectively. A user's change drops that user's
//! claim cache; a group's drops every user's (members and sub-group members are affected).

use crate::admin::auth::{self, Action};
use crate::admin::http::{self, Answer};
use crate::admin::params::Query;
use crate::admin::role_refs;
use crate::admin::{Context, bad_param, context, db, repr, users};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_model::records::RoleRecord;
use portcullis_model::repr::RoleRepresentation;
use portcullis_store::RoleDetails;
use std::collections::{HashMap, HashSet};

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

/// Who the mappings belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Group,
}

/// A found user or group.
struct Holder {
    kind: Kind,
    id: String,
}

impl Holder {
    /// Authenticate with `action`, then find the user or group (404).
    async fn open(
        s: &AppState,
        headers: &HeaderMap,
        realm: &str,
        kind: Kind,
        id: &str,
        action: Action,
    ) -> Result<(Context, Holder), Response> {
        let c = context(s, headers, realm, action).await?;
        let id = match kind {
            Kind::User => users::find(s, &c, id).await?.user.id,
            Kind::Group => {
                db(s.store.group_details(&c.realm.id, id).await)?
                    .ok_or_else(|| http::not_found("Could not find group by id"))?
                    .group
                    .id
            }
        };
        Ok((c, Holder { kind, id }))
    }

    /// Roles granted directly, with the `clientId` of client roles.
    async fn direct(&self, s: &AppState) -> Result<Vec<(RoleDetails, Option<String>)>, Response> {
        match self.kind {
            Kind::User => db(s.store.user_direct_roles(&self.id).await),
            Kind::Group => db(s.store.group_direct_roles(&self.id).await),
        }
    }

    /// Every role held: composites expanded, through groups (user) or ancestors (group).
    async fn effective(&self, s: &AppState, c: &Context) -> Result<Vec<RoleRecord>, Response> {
        match self.kind {
            Kind::User => db(s.store.effective_roles(&self.id).await),
            Kind::Group => {
                let graph = db(s.store.role_graph(&c.realm.id).await)?;
                let none: [&str; 0] = [];
                Ok(graph
                    .effective(&none, &[self.id.as_str()])
                    .into_iter()
                    .cloned()
                    .collect())
            }
        }
    }

    async fn grant(&self, s: &AppState, ids: &[String]) -> Result<(), Response> {
        match self.kind {
            Kind::User => db(s.store.grant_roles(&self.id, ids).await)?,
            Kind::Group => db(s.store.grant_group_roles(&self.id, ids).await)?,
        }
        self.invalidate(s);
        Ok(())
    }

    async fn revoke(&self, s: &AppState, ids: &[String]) -> Result<(), Response> {
        match self.kind {
            Kind::User => db(s.store.revoke_roles(&self.id, ids).await)?,
            Kind::Group => db(s.store.revoke_group_roles(&self.id, ids).await)?,
        }
        self.invalidate(s);
        Ok(())
    }

    fn invalidate(&self, s: &AppState) {
        match self.kind {
            Kind::User => s.caches.invalidate_user(&self.id),
            // Members of the group and of its sub-groups: the claim caches of every user.
            Kind::Group => s.caches.invalidate_config(),
        }
    }
}

fn view_action(kind: Kind) -> Action {
    match kind {
        Kind::User => Action::ViewUsers,
        Kind::Group => Action::ViewGroups,
    }
}

/// Realm roles (`client` None) or one client's roles.
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    Realm,
    Client(&'a str),
}

/// The container's internal id: None for the realm, the client's id (404 when unknown).
async fn container(
    s: &AppState,
    c: &Context,
    scope: Scope<'_>,
) -> Result<Option<String>, Response> {
    match scope {
        Scope::Realm => Ok(None),
        Scope::Client(id) => Ok(Some(role_refs::client(s, &c.realm.id, id).await?.id)),
    }
}

/// The roles of `container` a body names (by `name`, checked against `id` when given): 404
/// `Role not found` for any that does not exist.
async fn resolve(
    s: &AppState,
    c: &Context,
    container: Option<&str>,
    reps: &[RoleRepresentation],
) -> Result<Vec<String>, Response> {
    let mut ids = Vec::with_capacity(reps.len());
    for rep in reps {
        let found = match (&rep.name, &rep.id, container) {
            (Some(name), _, None) => db(s.store.realm_role_details(&c.realm.id, name).await)?,
            (Some(name), _, Some(cl)) => db(s.store.client_role_details(cl, name).await)?,
            (None, Some(id), _) => db(s.store.role_details_by_id(&c.realm.id, id).await)?
                .filter(|d| d.role.client_id.as_deref() == container),
            (None, None, _) => None,
        };
        match found {
            Some(d) if rep.id.as_ref().is_none_or(|id| *id == d.role.id) => ids.push(d.role.id),
            _ => return Err(role_refs::body_role_missing()),
        }
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// `briefRepresentation`, default true.
fn brief(raw: Option<&str>) -> Result<bool, Response> {
    Ok(Query::parse(raw)
        .flag("briefRepresentation")
        .map_err(bad_param)?
        .unwrap_or(true))
}

/// Representations of roles with their composite flags (one query for the flags).
async fn with_flags(
    s: &AppState,
    roles: Vec<RoleRecord>,
    brief: bool,
) -> Result<Vec<RoleRepresentation>, Response> {
    let ids: Vec<String> = roles.iter().map(|r| r.id.clone()).collect();
    let composite: HashSet<String> = db(s.store.composite_roles(&ids).await)?
        .into_iter()
        .collect();
    Ok(roles
        .into_iter()
        .map(|role| {
            let composite = composite.contains(&role.id);
            repr::role_repr(&RoleDetails { role, composite }, brief)
        })
        .collect())
}

async fn all(s: &AppState, h: &HeaderMap, realm: &str, kind: Kind, id: &str) -> Answer {
    let (_, holder) = Holder::open(s, h, realm, kind, id, view_action(kind)).await?;
    http::ok(repr::role_mappings(&holder.direct(s).await?))
}

async fn direct_in(
    s: &AppState,
    h: &HeaderMap,
    realm: &str,
    kind: Kind,
    id: &str,
    scope: Scope<'_>,
) -> Answer {
    let (c, holder) = Holder::open(s, h, realm, kind, id, view_action(kind)).await?;
    let cont = container(s, &c, scope).await?;
    http::ok(
        holder
            .direct(s)
            .await?
            .iter()
            .filter(|(d, _)| d.role.client_id == cont)
            .map(|(d, _)| repr::role_repr(d, true))
            .collect::<Vec<_>>(),
    )
}

async fn composite_in(
    s: &AppState,
    h: &HeaderMap,
    realm: &str,
    kind: Kind,
    id: &str,
    scope: Scope<'_>,
    raw: Option<&str>,
) -> Answer {
    let (c, holder) = Holder::open(s, h, realm, kind, id, view_action(kind)).await?;
    let brief = brief(raw)?;
    let cont = container(s, &c, scope).await?;
    let roles: Vec<RoleRecord> = holder
        .effective(s, &c)
        .await?
        .into_iter()
        .filter(|r| r.client_id == cont)
        .collect();
    http::ok(with_flags(s, roles, brief).await?)
}

async fn available_in(
    s: &AppState,
    h: &HeaderMap,
    realm: &str,
    kind: Kind,
    id: &str,
    scope: Scope<'_>,
) -> Answer {
    let (c, holder) = Holder::open(s, h, realm, kind, id, view_action(kind)).await?;
    let cont = container(s, &c, scope).await?;
    let held: HashSet<String> = holder
        .effective(s, &c)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let roles = db(s.store.container_roles(&c.realm.id, cont.as_deref()).await)?;
    http::ok(
        roles
            .iter()
            .filter(|d| !held.contains(&d.role.id))
            .map(|d| repr::role_repr(d, true))
            .collect::<Vec<_>>(),
    )
}

/// Grant (`add`) or remove the roles of `scope` a body names.
async fn change_in(
    s: &AppState,
    h: &HeaderMap,
    realm: &str,
    (kind, id): (Kind, &str),
    scope: Scope<'_>,
    body: Body,
    add: bool,
) -> Answer {
    let (c, holder) = Holder::open(s, h, realm, kind, id, Action::MapRoles).await?;
    let cont = container(s, &c, scope).await?;
    let reps: Vec<RoleRepresentation> = http::read_json(h, body).await?;
    let ids = resolve(s, &c, cont.as_deref(), &reps).await?;
    check_grants(s, &c, &ids, &[]).await?;
    if add {
        holder.grant(s, &ids).await?;
    } else {
        holder.revoke(s, &ids).await?;
    }
    http::no_content()
}

// ---------------------------------------------------------------------- axum handlers

type Two = Path<(String, String)>;
type Three = Path<(String, String, String)>;

/// GET `/users/{id}/role-mappings`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/{id}/role-mappings",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = crate::admin::openapi::MappingsBody),
    )
)]
pub async fn user_all(State(s): State<AppState>, Path((r, i)): Two, h: HeaderMap) -> Answer {
    all(&s, &h, &r, Kind::User, &i).await
}
/// GET `/users/{id}/role-mappings/realm`: the realm roles granted directly.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/{id}/role-mappings/realm",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn user_realm(State(s): State<AppState>, Path((r, i)): Two, h: HeaderMap) -> Answer {
    direct_in(&s, &h, &r, Kind::User, &i, Scope::Realm).await
}
/// POST `/users/{id}/role-mappings/realm` with an array of roles: 204.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/users/{id}/role-mappings/realm",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn user_add_realm(
    State(s): State<AppState>,
    Path((r, i)): Two,
    h: HeaderMap,
    b: Body,
) -> Answer {
    change_in(&s, &h, &r, (Kind::User, &i), Scope::Realm, b, true).await
}
/// DELETE `/users/{id}/role-mappings/realm` with an array of roles: 204.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/users/{id}/role-mappings/realm",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn user_remove_realm(
    State(s): State<AppState>,
    Path((r, i)): Two,
    h: HeaderMap,
    b: Body,
) -> Answer {
    change_in(&s, &h, &r, (Kind::User, &i), Scope::Realm, b, false).await
}
/// GET `/users/{id}/role-mappings/realm/composite` (`briefRepresentation` default true).
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/{id}/role-mappings/realm/composite",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn user_realm_composite(
    State(s): State<AppState>,
    Path((r, i)): Two,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Answer {
    composite_in(&s, &h, &r, Kind::User, &i, Scope::Realm, q.as_deref()).await
}
/// GET `/users/{id}/role-mappings/realm/available`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/{id}/role-mappings/realm/available",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn user_realm_available(
    State(s): State<AppState>,
    Path((r, i)): Two,
    h: HeaderMap,
) -> Answer {
    available_in(&s, &h, &r, Kind::User, &i, Scope::Realm).await
}
/// GET `/users/{id}/role-mappings/clients/{client-uuid}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/{id}/role-mappings/clients/{client}",
    tag = "role-mappings",
    params(crate::admin::openapi::IdClientP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn user_client(
    State(s): State<AppState>,
    Path((r, i, c)): Three,
    h: HeaderMap,
) -> Answer {
    direct_in(&s, &h, &r, Kind::User, &i, Scope::Client(&c)).await
}
/// POST `/users/{id}/role-mappings/clients/{client-uuid}`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/users/{id}/role-mappings/clients/{client}",
    tag = "role-mappings",
    params(crate::admin::openapi::IdClientP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn user_add_client(
    State(s): State<AppState>,
    Path((r, i, c)): Three,
    h: HeaderMap,
    b: Body,
) -> Answer {
    change_in(&s, &h, &r, (Kind::User, &i), Scope::Client(&c), b, true).await
}
/// DELETE `/users/{id}/role-mappings/clients/{client-uuid}`.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/users/{id}/role-mappings/clients/{client}",
    tag = "role-mappings",
    params(crate::admin::openapi::IdClientP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn user_remove_client(
    State(s): State<AppState>,
    Path((r, i, c)): Three,
    h: HeaderMap,
    b: Body,
) -> Answer {
    change_in(&s, &h, &r, (Kind::User, &i), Scope::Client(&c), b, false).await
}
/// GET `/users/{id}/role-mappings/clients/{client-uuid}/composite`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/{id}/role-mappings/clients/{client}/composite",
    tag = "role-mappings",
    params(crate::admin::openapi::IdClientP, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn user_client_composite(
    State(s): State<AppState>,
    Path((r, i, c)): Three,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Answer {
    composite_in(&s, &h, &r, Kind::User, &i, Scope::Client(&c), q.as_deref()).await
}
/// GET `/users/{id}/role-mappings/clients/{client-uuid}/available`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/users/{id}/role-mappings/clients/{client}/available",
    tag = "role-mappings",
    params(crate::admin::openapi::IdClientP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn user_client_available(
    State(s): State<AppState>,
    Path((r, i, c)): Three,
    h: HeaderMap,
) -> Answer {
    available_in(&s, &h, &r, Kind::User, &i, Scope::Client(&c)).await
}

/// GET `/groups/{id}/role-mappings`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups/{id}/role-mappings",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = crate::admin::openapi::MappingsBody),
    )
)]
pub async fn group_all(State(s): State<AppState>, Path((r, i)): Two, h: HeaderMap) -> Answer {
    all(&s, &h, &r, Kind::Group, &i).await
}
/// GET `/groups/{id}/role-mappings/realm`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups/{id}/role-mappings/realm",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn group_realm(State(s): State<AppState>, Path((r, i)): Two, h: HeaderMap) -> Answer {
    direct_in(&s, &h, &r, Kind::Group, &i, Scope::Realm).await
}
/// POST `/groups/{id}/role-mappings/realm`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/groups/{id}/role-mappings/realm",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn group_add_realm(
    State(s): State<AppState>,
    Path((r, i)): Two,
    h: HeaderMap,
    b: Body,
) -> Answer {
    change_in(&s, &h, &r, (Kind::Group, &i), Scope::Realm, b, true).await
}
/// DELETE `/groups/{id}/role-mappings/realm`.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/groups/{id}/role-mappings/realm",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn group_remove_realm(
    State(s): State<AppState>,
    Path((r, i)): Two,
    h: HeaderMap,
    b: Body,
) -> Answer {
    change_in(&s, &h, &r, (Kind::Group, &i), Scope::Realm, b, false).await
}
/// GET `/groups/{id}/role-mappings/realm/composite`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups/{id}/role-mappings/realm/composite",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn group_realm_composite(
    State(s): State<AppState>,
    Path((r, i)): Two,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Answer {
    composite_in(&s, &h, &r, Kind::Group, &i, Scope::Realm, q.as_deref()).await
}
/// GET `/groups/{id}/role-mappings/realm/available`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups/{id}/role-mappings/realm/available",
    tag = "role-mappings",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn group_realm_available(
    State(s): State<AppState>,
    Path((r, i)): Two,
    h: HeaderMap,
) -> Answer {
    available_in(&s, &h, &r, Kind::Group, &i, Scope::Realm).await
}
/// GET `/groups/{id}/role-mappings/clients/{client-uuid}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}",
    tag = "role-mappings",
    params(crate::admin::openapi::IdClientP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn group_client(
    State(s): State<AppState>,
    Path((r, i, c)): Three,
    h: HeaderMap,
) -> Answer {
    direct_in(&s, &h, &r, Kind::Group, &i, Scope::Client(&c)).await
}
/// POST `/groups/{id}/role-mappings/clients/{client-uuid}`.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}",
    tag = "role-mappings",
    params(crate::admin::openapi::IdClientP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn group_add_client(
    State(s): State<AppState>,
    Path((r, i, c)): Three,
    h: HeaderMap,
    b: Body,
) -> Answer {
    change_in(&s, &h, &r, (Kind::Group, &i), Scope::Client(&c), b, true).await
}
/// DELETE `/groups/{id}/role-mappings/clients/{client-uuid}`.
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}",
    tag = "role-mappings",
    params(crate::admin::openapi::IdClientP),
    request_body(content = Vec<portcullis_model::repr::RoleRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn group_remove_client(
    State(s): State<AppState>,
    Path((r, i, c)): Three,
    h: HeaderMap,
    b: Body,
) -> Answer {
    change_in(&s, &h, &r, (Kind::Group, &i), Scope::Client(&c), b, false).await
}
/// GET `/groups/{id}/role-mappings/clients/{client-uuid}/composite`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}/composite",
    tag = "role-mappings",
    params(crate::admin::openapi::IdClientP, crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn group_client_composite(
    State(s): State<AppState>,
    Path((r, i, c)): Three,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Answer {
    composite_in(&s, &h, &r, Kind::Group, &i, Scope::Client(&c), q.as_deref()).await
}
/// GET `/groups/{id}/role-mappings/clients/{client-uuid}/available`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/groups/{id}/role-mappings/clients/{client}/available",
    tag = "role-mappings",
    params(crate::admin::openapi::IdClientP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RoleRepresentation>),
    )
)]
pub async fn group_client_available(
    State(s): State<AppState>,
    Path((r, i, c)): Three,
    h: HeaderMap,
) -> Answer {
    available_in(&s, &h, &r, Kind::Group, &i, Scope::Client(&c)).await
}
