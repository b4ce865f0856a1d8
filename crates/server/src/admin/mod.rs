//! The Keycloak-compatible admin REST API under `{relative-path}/admin/realms`, one module per
//! resource: `realms`, `users`, `memberships` (a user's groups), `role_mappings` (of users and
//! groups), `groups`, `roles`, `client_roles`, `composites` (and who holds a role),
//! `credentials`, `sessions`, `clients`, `mappers` (protocol mappers of clients and client
//! scopes), `client_scopes`, `events` (admin events and their configuration). Shared pieces:
//! `role_refs` (the role a path names), `auth` (who calls, what they may do), `http` (answers and bodies),
//! `params` (query parameters), `repr` (representations).
//!
//! Every handler has the same shape: [`context`] authenticates the bearer token, finds the
//! realm (404) and checks the one [`Action`] the endpoint needs (403); then parse, call the
//! store (each write one transaction), invalidate the read caches it touched, render.
//! Admin events are recorded for the whole router by one middleware ([`events::record`],
//! applied in [`router`]), not by the handlers.

pub mod attack_detection;
pub mod auth;
pub mod client_roles;
pub mod client_scopes;
pub mod clients;
pub mod composites;
pub mod credentials;
pub mod events;
pub mod groups;
pub mod http;
pub mod lifecycle;
pub mod mappers;
pub mod memberships;
pub mod openapi;
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
use axum::routing::get;
use portcullis_model::records::RealmRecord;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under `/admin/realms`, and the OpenAPI document describing them at
/// `/admin/openapi.json` (`relative_path` is the server URL the document names).
pub fn routes(relative_path: &str) -> Router<AppState> {
    let (router, doc) = api().split_for_parts();
    let doc = openapi::finish(doc, relative_path);
    let bytes = match doc.to_json() {
        Ok(text) => axum::body::Bytes::from(text),
        Err(e) => {
            tracing::error!(error = %e, "the admin API's OpenAPI document did not serialise");
            axum::body::Bytes::from_static(b"{}")
        }
    };
    router.route(
        "/admin/openapi.json",
        get(move || {
            let bytes = bytes.clone();
            async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    bytes,
                )
            }
        }),
    )
}

/// The admin API's OpenAPI document, as served under `relative_path`.
pub fn document(relative_path: &str) -> utoipa::openapi::OpenApi {
    openapi::finish(api().into_openapi(), relative_path)
}

/// Every admin route with its documentation. Routes are added only with `routes!`, which takes
/// each handler's method and path from its `#[utoipa::path]` annotation: a route cannot exist
/// without its operation in the document (a unit test refuses a bare `.route(` here). One
/// `routes!` per path; handlers of other resources go in their own block below.
fn api() -> OpenApiRouter<AppState> {
    use client_roles as cr;
    use client_scopes as cs;
    use composites as co;
    use role_mappings as rm;
    OpenApiRouter::new()
        .routes(routes!(realms::list, realms::create))
        .routes(routes!(realms::get, realms::update, realms::delete))
        .routes(routes!(realms::partial_export))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::count))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(users::reset_password))
        .routes(routes!(memberships::list))
        .routes(routes!(memberships::join, memberships::leave))
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::count))
        .routes(routes!(groups::get, groups::update, groups::delete))
        .routes(routes!(groups::children, groups::add_child))
        .routes(routes!(groups::members))
        .routes(routes!(roles::list, roles::create))
        .routes(routes!(roles::get, roles::update, roles::delete))
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::get, clients::update, clients::delete))
        .routes(routes!(clients::get_secret, clients::regenerate_secret))
        // Client roles; realm and client roles by id.
        .routes(routes!(cr::list, cr::create))
        .routes(routes!(cr::get, cr::update, cr::delete))
        .routes(routes!(
            roles::get_by_id,
            cr::update_by_id,
            cr::delete_by_id
        ))
        // Composites.
        .routes(routes!(co::realm_all, co::realm_add, co::realm_remove))
        .routes(routes!(co::realm_realm))
        .routes(routes!(co::realm_client))
        .routes(routes!(co::id_all, co::id_add, co::id_remove))
        .routes(routes!(co::id_realm))
        .routes(routes!(co::id_client))
        .routes(routes!(co::client_all, co::client_add, co::client_remove))
        .routes(routes!(co::client_realm))
        .routes(routes!(co::client_client))
        // Who holds a role.
        .routes(routes!(co::realm_users))
        .routes(routes!(co::realm_groups))
        .routes(routes!(co::client_users))
        .routes(routes!(co::client_groups))
        // User role mappings.
        .routes(routes!(rm::user_all))
        .routes(routes!(
            rm::user_realm,
            rm::user_add_realm,
            rm::user_remove_realm
        ))
        .routes(routes!(rm::user_realm_composite))
        .routes(routes!(rm::user_realm_available))
        .routes(routes!(
            rm::user_client,
            rm::user_add_client,
            rm::user_remove_client
        ))
        .routes(routes!(rm::user_client_available))
        .routes(routes!(rm::user_client_composite))
        // Group role mappings.
        .routes(routes!(rm::group_all))
        .routes(routes!(
            rm::group_realm,
            rm::group_add_realm,
            rm::group_remove_realm
        ))
        .routes(routes!(rm::group_realm_available))
        .routes(routes!(rm::group_realm_composite))
        .routes(routes!(
            rm::group_client,
            rm::group_add_client,
            rm::group_remove_client
        ))
        .routes(routes!(rm::group_client_available))
        .routes(routes!(rm::group_client_composite))
        // Credentials.
        .routes(routes!(credentials::list))
        .routes(routes!(credentials::delete))
        // Sessions.
        .routes(routes!(sessions::of_user))
        .routes(routes!(sessions::logout_user))
        .routes(routes!(sessions::of_client))
        .routes(routes!(sessions::client_count))
        .routes(routes!(sessions::stats))
        .routes(routes!(sessions::delete))
        .routes(routes!(sessions::logout_all))
        // Protocol mappers of clients and client scopes.
        .routes(routes!(mappers::client_list, mappers::client_create))
        .routes(routes!(
            mappers::client_get,
            mappers::client_update,
            mappers::client_delete
        ))
        .routes(routes!(mappers::client_add_many))
        .routes(routes!(mappers::client_by_protocol))
        .routes(routes!(mappers::scope_list, mappers::scope_create))
        .routes(routes!(
            mappers::scope_get,
            mappers::scope_update,
            mappers::scope_delete
        ))
        .routes(routes!(mappers::scope_add_many))
        .routes(routes!(mappers::scope_by_protocol))
        // Client scopes, a client's scopes, the realm's default lists.
        .routes(routes!(cs::list, cs::create))
        .routes(routes!(cs::get, cs::update, cs::delete))
        .routes(routes!(cs::client_defaults))
        .routes(routes!(cs::add_client_default, cs::remove_client_default))
        .routes(routes!(cs::client_optionals))
        .routes(routes!(cs::add_client_optional, cs::remove_client_optional))
        .routes(routes!(cs::realm_defaults))
        .routes(routes!(cs::add_realm_default, cs::remove_realm_default))
        .routes(routes!(cs::realm_optionals))
        .routes(routes!(cs::add_realm_optional, cs::remove_realm_optional))
        .routes(routes!(clients::service_account_user))
        // Admin events and the events configuration.
        .routes(routes!(events::list, events::clear))
        .routes(routes!(events::list_login, events::clear_login))
        .routes(routes!(events::get_config, events::put_config))
        // Brute-force detection state.
        .routes(routes!(attack_detection::clear_all))
        .routes(routes!(
            attack_detection::user_status,
            attack_detection::clear_user
        ))
        // Account lifecycle: the SMTP test and the mails an administrator sends.
        .routes(routes!(lifecycle::test_smtp_connection))
        .routes(routes!(lifecycle::execute_actions_email))
        .routes(routes!(lifecycle::send_verify_email))
}

/// The admin router: [`routes`] with admin-event recording around every route
/// ([`events::record`]).
pub fn router(state: &AppState, relative_path: &str) -> Router<AppState> {
    routes(relative_path).layer(axum::middleware::from_fn_with_state(
        state.clone(),
        events::record,
    ))
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

#[cfg(test)]
mod tests {
    /// Routes are registered only through `routes!` (documented by construction): a bare
    /// axum `.route(` in [`super::api`] would add an operation missing from the document.
    #[test]
    fn every_route_is_documented() {
        let src = include_str!("mod.rs");
        let Some(start) = src.find("fn api()") else {
            panic!("api() not found");
        };
        let body = &src[start..];
        let end = body.find("\n}\n").unwrap_or(body.len());
        let needle = [".", "route("].concat();
        assert!(
            !body[..end].contains(&needle),
            "admin::api registers a route without its documentation"
        );
        let doc = super::document("/auth");
        let ops: usize = doc
            .paths
            .paths
            .values()
            .map(|i| {
                [&i.get, &i.put, &i.post, &i.delete]
                    .iter()
                    .filter(|o| o.is_some())
                    .count()
            })
            .sum();
        assert!(ops >= 134, "{ops} operations");
    }
}
