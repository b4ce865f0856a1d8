//! The Keycloak-compatible admin REST API under `{relative-path}/admin/realms`, one module per
//! resource: `realms`, `users`, `memberships` (a user's groups), `role_mappings`, `groups`,
//! `roles`, `clients`, `mappers` (protocol mappers of clients and client scopes),
//! `client_scopes`, `events` (admin events and their configuration). Shared pieces: `auth` (who calls, what they may do), `http` (answers and bodies),
//! `params` (query parameters), `repr` (representations).
//!
//! Every handler has the same shape: [`context`] authenticates the bearer token, finds the
//! realm (404) and checks the one [`Action`] the endpoint needs (403); then parse, call the
//! store (each write one transaction), invalidate the read caches it touched, render.
//! Admin events are recorded for the whole router by one middleware ([`events::record`],
//! applied in [`router`]), not by the handlers.

pub mod auth;
pub mod client_scopes;
pub mod clients;
pub mod events;
pub mod groups;
pub mod http;
pub mod mappers;
pub mod memberships;
pub mod params;
pub mod realms;
pub mod repr;
pub mod role_mappings;
pub mod roles;
pub mod users;

use crate::app::AppState;
use auth::{Access, Action, Caller};
use axum::Router;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post, put};
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
            get(role_mappings::all),
        )
        .route(
            &format!("{r}/users/{{id}}/role-mappings/realm"),
            get(role_mappings::realm)
                .post(role_mappings::add_realm)
                .delete(role_mappings::remove_realm),
        )
        .route(
            &format!("{r}/users/{{id}}/role-mappings/realm/composite"),
            get(role_mappings::realm_composite),
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
        .route(&format!("{r}/roles-by-id/{{id}}"), get(roles::get_by_id))
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
        .merge(client_and_realm_routes())
}

/// The admin router with admin-event recording around every route.
pub fn router(state: &AppState) -> Router<AppState> {
    routes().layer(axum::middleware::from_fn_with_state(
        state.clone(),
        events::record,
    ))
}

/// Protocol mappers, client scopes and their links, the service-account user, realm
/// creation, update, deletion and partial export, admin events and their configuration.
fn client_and_realm_routes() -> Router<AppState> {
    let r = "/admin/realms/{realm}";
    let c = "/admin/realms/{realm}/clients/{id}";
    let cs = "/admin/realms/{realm}/client-scopes/{id}";
    Router::new()
        .route("/admin/realms", post(realms::create))
        .route(r, put(realms::update).delete(realms::delete))
        .route(&format!("{r}/partial-export"), post(realms::partial_export))
        .route(
            &format!("{c}/service-account-user"),
            get(clients::service_account_user),
        )
        .route(
            &format!("{c}/protocol-mappers/models"),
            get(mappers::client_list).post(mappers::client_create),
        )
        .route(
            &format!("{c}/protocol-mappers/models/{{mapper_id}}"),
            get(mappers::client_get)
                .put(mappers::client_update)
                .delete(mappers::client_delete),
        )
        .route(
            &format!("{c}/protocol-mappers/add-models"),
            post(mappers::client_add_many),
        )
        .route(
            &format!("{c}/protocol-mappers/protocol/{{protocol}}"),
            get(mappers::client_by_protocol),
        )
        .route(
            &format!("{cs}/protocol-mappers/models"),
            get(mappers::scope_list).post(mappers::scope_create),
        )
        .route(
            &format!("{cs}/protocol-mappers/models/{{mapper_id}}"),
            get(mappers::scope_get)
                .put(mappers::scope_update)
                .delete(mappers::scope_delete),
        )
        .route(
            &format!("{cs}/protocol-mappers/add-models"),
            post(mappers::scope_add_many),
        )
        .route(
            &format!("{cs}/protocol-mappers/protocol/{{protocol}}"),
            get(mappers::scope_by_protocol),
        )
        .route(
            &format!("{r}/client-scopes"),
            get(client_scopes::list).post(client_scopes::create),
        )
        .route(
            cs,
            get(client_scopes::get)
                .put(client_scopes::update)
                .delete(client_scopes::delete),
        )
        .route(
            &format!("{c}/default-client-scopes"),
            get(client_scopes::client_defaults),
        )
        .route(
            &format!("{c}/default-client-scopes/{{scope_id}}"),
            put(client_scopes::add_client_default).delete(client_scopes::remove_client_default),
        )
        .route(
            &format!("{c}/optional-client-scopes"),
            get(client_scopes::client_optionals),
        )
        .route(
            &format!("{c}/optional-client-scopes/{{scope_id}}"),
            put(client_scopes::add_client_optional).delete(client_scopes::remove_client_optional),
        )
        .route(
            &format!("{r}/default-default-client-scopes"),
            get(client_scopes::realm_defaults),
        )
        .route(
            &format!("{r}/default-default-client-scopes/{{scope_id}}"),
            put(client_scopes::add_realm_default).delete(client_scopes::remove_realm_default),
        )
        .route(
            &format!("{r}/default-optional-client-scopes"),
            get(client_scopes::realm_optionals),
        )
        .route(
            &format!("{r}/default-optional-client-scopes/{{scope_id}}"),
            put(client_scopes::add_realm_optional).delete(client_scopes::remove_realm_optional),
        )
        .route(
            &format!("{r}/admin-events"),
            get(events::list).delete(events::clear),
        )
        .route(
            &format!("{r}/events/config"),
            get(events::get_config).put(events::put_config),
        )
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
