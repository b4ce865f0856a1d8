//! The Keycloak-compatible admin REST API under `{relative-path}/admin/realms`, one module per
//! resource: `realms`, `users`, `memberships` (a user's groups), `role_mappings`, `groups`,
//! `roles`, `clients`. Shared pieces: `auth` (who calls, what they may do), `http` (answers and bodies),
//! `params` (query parameters), `repr` (representations).
//!
//! Every handler has the same shape: [`context`] authenticates the bearer token, finds the
//! realm (404) and checks the one [`Action`] the endpoint needs (403); then parse, call the
//! store (each write one transaction), invalidate the read caches it touched, render.
//! Admin events are not recorded yet (a later slice of issue 4).

pub mod auth;
pub mod clients;
pub mod groups;
pub mod http;
pub mod lifecycle;
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
        // Account lifecycle (mail).
        .route(
            &format!("{r}/testSMTPConnection"),
            post(lifecycle::test_smtp_connection),
        )
        .route(
            &format!("{r}/users/{{id}}/execute-actions-email"),
            put(lifecycle::execute_actions_email),
        )
        .route(
            &format!("{r}/users/{{id}}/send-verify-email"),
            put(lifecycle::send_verify_email),
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
