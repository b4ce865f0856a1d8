//! The Keycloak-compatible admin REST API under `{relative-path}/admin/realms`, one module per
//! resource: `realms`, `users`, `memberships` (a user's groups), `role_mappings` (of users and
//! groups), `groups`, `roles`, `client_roles`, `composites` (and who holds a role),
//! `credentials`, `sessions`, `clients`. Shared pieces: `role_refs` (the role a path names), `auth` (who calls, what they may do), `http` (answers and bodies),
//! `params` (query parameters), `repr` (representations).
//!
//! Every handler has the same shape: [`context`] authenticates the bearer token, finds the
//! realm (404) and checks the one [`Action`] the endpoint needs (403); then parse, call the
//! store (each write one transaction), invalidate the read caches it touched, render.
//! Admin events are not recorded yet (a later slice of issue 4).

pub mod attack_detection;
pub mod auth;
pub mod client_roles;
pub mod clients;
pub mod composites;
pub mod credentials;
pub mod groups;
pub mod http;
pub mod memberships;
pub mod params;
pub mod realms;
pub mod repr;
pub mod role_mappings;
pub mod role_refs;
pub mod roles;
pub mod sessions;
pub mod users;

use crate::app::AppState;
use auth::{Access, Action, Caller};
use axum::Router;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use portcullis_model::records::RealmRecord;
use std::sync::Arc;

/// Routes under `/admin/realms`.
pub fn routes() -> Router<AppState> {
    let r = "/admin/realms/{realm}";
    Router::new()
        .route("/admin/realms", get(realms::list))
        .route(r, get(realms::get))
        .route(&format!("{r}/users"), get(users::list).post(users::create))
        .route(&format!("{r}/users/count"), get(users::count))
        .route(
            &format!("{r}/users/{{id}}"),
            get(users::get).put(users::update).delete(users::delete),
        )
        .route(
            &format!("{r}/users/{{id}}/reset-password"),
            put(users::reset_password),
        )
        .route(&format!("{r}/users/{{id}}/groups"), get(memberships::list))
        .route(
            &format!("{r}/users/{{id}}/groups/{{group_id}}"),
            put(memberships::join).delete(memberships::leave),
        )
        .route(
            &format!("{r}/users/{{id}}/role-mappings"),
            get(role_mappings::user_all),
        )
        .route(
            &format!("{r}/users/{{id}}/role-mappings/realm"),
            get(role_mappings::user_realm)
                .post(role_mappings::user_add_realm)
                .delete(role_mappings::user_remove_realm),
        )
        .route(
            &format!("{r}/users/{{id}}/role-mappings/realm/composite"),
            get(role_mappings::user_realm_composite),
        )
        .route(
            &format!("{r}/groups"),
            get(groups::list).post(groups::create),
        )
        .route(&format!("{r}/groups/count"), get(groups::count))
        .route(
            &format!("{r}/groups/{{id}}"),
            get(groups::get).put(groups::update).delete(groups::delete),
        )
        .route(
            &format!("{r}/groups/{{id}}/children"),
            get(groups::children).post(groups::add_child),
        )
        .route(&format!("{r}/groups/{{id}}/members"), get(groups::members))
        .route(&format!("{r}/roles"), get(roles::list).post(roles::create))
        .route(
            &format!("{r}/roles/{{role_name}}"),
            get(roles::get).put(roles::update).delete(roles::delete),
        )
        .route(
            &format!("{r}/clients"),
            get(clients::list).post(clients::create),
        )
        .route(
            &format!("{r}/clients/{{id}}"),
            get(clients::get)
                .put(clients::update)
                .delete(clients::delete),
        )
        .route(
            &format!("{r}/clients/{{id}}/client-secret"),
            get(clients::get_secret).post(clients::regenerate_secret),
        )
        .merge(role_routes(r))
        .merge(attack_detection_routes(r))
}

/// Brute-force detection state (`attack_detection`).
fn attack_detection_routes(r: &str) -> Router<AppState> {
    let users = format!("{r}/attack-detection/brute-force/users");
    Router::new()
        .route(&users, delete(attack_detection::clear_all))
        .route(
            &format!("{users}/{{id}}"),
            get(attack_detection::user_status).delete(attack_detection::clear_user),
        )
}

/// Client roles, composites, role holders, user and group role mappings, credentials and
/// sessions (one block, so other resources' routes merge without touching it).
fn role_routes(r: &str) -> Router<AppState> {
    use composites as co;
    use role_mappings as rm;
    let role = format!("{r}/roles/{{role_name}}");
    let by_id = format!("{r}/roles-by-id/{{id}}");
    let client_role = format!("{r}/clients/{{id}}/roles/{{role_name}}");
    let user_rm = format!("{r}/users/{{id}}/role-mappings");
    let group_rm = format!("{r}/groups/{{id}}/role-mappings");
    Router::new()
        // Client roles; realm and client roles by id.
        .route(
            &format!("{r}/clients/{{id}}/roles"),
            get(client_roles::list).post(client_roles::create),
        )
        .route(
            &client_role,
            get(client_roles::get)
                .put(client_roles::update)
                .delete(client_roles::delete),
        )
        .route(
            &by_id,
            get(roles::get_by_id)
                .put(client_roles::update_by_id)
                .delete(client_roles::delete_by_id),
        )
        // Composites.
        .route(
            &format!("{role}/composites"),
            get(co::realm_all)
                .post(co::realm_add)
                .delete(co::realm_remove),
        )
        .route(&format!("{role}/composites/realm"), get(co::realm_realm))
        .route(
            &format!("{role}/composites/clients/{{client}}"),
            get(co::realm_client),
        )
        .route(
            &format!("{by_id}/composites"),
            get(co::id_all).post(co::id_add).delete(co::id_remove),
        )
        .route(&format!("{by_id}/composites/realm"), get(co::id_realm))
        .route(
            &format!("{by_id}/composites/clients/{{client}}"),
            get(co::id_client),
        )
        .route(
            &format!("{client_role}/composites"),
            get(co::client_all)
                .post(co::client_add)
                .delete(co::client_remove),
        )
        .route(
            &format!("{client_role}/composites/realm"),
            get(co::client_realm),
        )
        .route(
            &format!("{client_role}/composites/clients/{{client}}"),
            get(co::client_client),
        )
        // Who holds a role.
        .route(&format!("{role}/users"), get(co::realm_users))
        .route(&format!("{role}/groups"), get(co::realm_groups))
        .route(&format!("{client_role}/users"), get(co::client_users))
        .route(&format!("{client_role}/groups"), get(co::client_groups))
        // User role mappings beyond the realm ones.
        .route(
            &format!("{user_rm}/realm/available"),
            get(rm::user_realm_available),
        )
        .route(
            &format!("{user_rm}/clients/{{client}}"),
            get(rm::user_client)
                .post(rm::user_add_client)
                .delete(rm::user_remove_client),
        )
        .route(
            &format!("{user_rm}/clients/{{client}}/available"),
            get(rm::user_client_available),
        )
        .route(
            &format!("{user_rm}/clients/{{client}}/composite"),
            get(rm::user_client_composite),
        )
        // Group role mappings.
        .route(&group_rm, get(rm::group_all))
        .route(
            &format!("{group_rm}/realm"),
            get(rm::group_realm)
                .post(rm::group_add_realm)
                .delete(rm::group_remove_realm),
        )
        .route(
            &format!("{group_rm}/realm/available"),
            get(rm::group_realm_available),
        )
        .route(
            &format!("{group_rm}/realm/composite"),
            get(rm::group_realm_composite),
        )
        .route(
            &format!("{group_rm}/clients/{{client}}"),
            get(rm::group_client)
                .post(rm::group_add_client)
                .delete(rm::group_remove_client),
        )
        .route(
            &format!("{group_rm}/clients/{{client}}/available"),
            get(rm::group_client_available),
        )
        .route(
            &format!("{group_rm}/clients/{{client}}/composite"),
            get(rm::group_client_composite),
        )
        // Credentials.
        .route(
            &format!("{r}/users/{{id}}/credentials"),
            get(credentials::list),
        )
        .route(
            &format!("{r}/users/{{id}}/credentials/{{credential}}"),
            delete(credentials::delete),
        )
        // Sessions.
        .route(
            &format!("{r}/users/{{id}}/sessions"),
            get(sessions::of_user),
        )
        .route(
            &format!("{r}/users/{{id}}/logout"),
            post(sessions::logout_user),
        )
        .route(
            &format!("{r}/clients/{{id}}/user-sessions"),
            get(sessions::of_client),
        )
        .route(
            &format!("{r}/clients/{{id}}/session-count"),
            get(sessions::client_count),
        )
        .route(&format!("{r}/client-session-stats"), get(sessions::stats))
        .route(
            &format!("{r}/sessions/{{session}}"),
            delete(sessions::delete),
        )
        .route(&format!("{r}/logout-all"), post(sessions::logout_all))
}

/// An authorised request: who calls, in which realm, with which rights.
pub struct Context {
    pub caller: Caller,
    pub realm: Arc<RealmRecord>,
    pub access: Access,
}

impl Context {
    /// 403 unless the caller may do `action` here.
    pub fn require(&self, action: Action) -> Result<(), Response> {
        if self.access.allows(action) {
            Ok(())
        } else {
            Err(http::forbidden())
        }
    }
}

/// Authenticate (401), find the realm (404 `Realm not found.`), check `action` (403).
pub async fn context(
    s: &AppState,
    headers: &HeaderMap,
    realm: &str,
    action: Action,
) -> Result<Context, Response> {
    let caller = auth::authenticate(s, headers).await?;
    let realm = match s.caches.realm(&s.store, realm).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(http::not_found("Realm not found.")),
        Err(e) => return Err(crate::error::internal_any(e)),
    };
    let access = auth::access_in(s, &caller, &realm).await?;
    let ctx = Context {
        caller,
        realm,
        access,
    };
    ctx.require(action)?;
    Ok(ctx)
}

/// A store result, or the 5xx answer for its failure.
pub fn db<T>(r: portcullis_store::Result<T>) -> Result<T, Response> {
    r.map_err(crate::error::internal)
}

/// A query parameter problem as a 400.
pub fn bad_param(e: params::ParamError) -> Response {
    http::bad_request(&e.0)
}

/// A field validation problem as a 400.
pub fn bad_field(e: repr::FieldError) -> Response {
    let params: Vec<&str> = e.params.iter().map(String::as_str).collect();
    http::field_error(e.field, e.message, &params)
}

/// `{backend base}/admin/realms/{realm}`: what `Location` headers start with.
pub fn realm_url(s: &AppState, headers: &HeaderMap, realm: &str) -> String {
    let urls = crate::oidc::urls(s, headers, realm);
    format!(
        "{}/admin/realms/{}",
        urls.backend_base,
        http::segment(realm)
    )
}
