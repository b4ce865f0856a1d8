//! The admin API's OpenAPI 3.1 document, generated from the code (ADR 0017).
//!
//! Every admin handler carries a `#[utoipa::path]` annotation next to it (method, path,
//! parameters, body, success and resource-specific error responses); `admin::routes` registers
//! handlers only through `utoipa_axum::routes!`, which takes the method and path from that same
//! annotation, so the router and the document cannot diverge. This module holds what all
//! operations share: the schemas of the answers that are not model representations, the path
//! and query parameter sets, and [`finish`], which adds what every operation answers because of
//! `admin::context` (400, 401, 403, 404, plus 413/415 where a body is read) and the bearer
//! security requirement. The document is serialised once when the router is built and served
//! as static bytes at `{relative-path}/admin/openapi.json`, without authentication: it holds
//! no realm data, only the API's shape, which Keycloak publishes too.

use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, OpenApi as Document, Ref, RefOr, Response, ResponseBuilder, ServerBuilder,
};
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearer";

/// The document's fixed part; the operations come from the router.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portcullis admin REST API",
        description = "Keycloak-compatible admin REST API. Every operation needs a bearer access \
                       token of a user or service account holding the realm-management roles \
                       the operation names (as in Keycloak).",
    ),
    components(schemas(
        AdminError,
        CountBody,
        SecretBody,
        SessionBody,
        SessionStat,
        MappingsBody,
        ClientMappings,
        GlobalRequestResult,
        ScopeRef,
        AdminEventBody,
        AuthDetails,
        EventBody,
    )),
    tags(
        (name = "realms"), (name = "users"), (name = "groups"), (name = "roles"),
        (name = "clients"), (name = "client-scopes"), (name = "role-mappings"),
        (name = "sessions"),
    )
)]
struct Base;

/// An error answer. Keycloak's shapes: `{"error": ...}` (401, 403, 404, 413, 415),
/// `{"errorMessage": ...}` (409), both keys (400), or `field`/`errorMessage`/`params` for a
/// field validation failure (400).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminError {
    pub error: Option<String>,
    pub error_message: Option<String>,
    pub field: Option<String>,
    pub params: Option<Vec<String>>,
}

/// `{"count": n}`.
#[derive(Serialize, ToSchema)]
pub struct CountBody {
    pub count: i64,
}

/// A user's brute-force state (`GET .../attack-detection/brute-force/users/{id}`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BruteForceStatus {
    pub num_failures: i64,
    pub disabled: bool,
    #[serde(rename = "lastIPFailure")]
    pub last_ip_failure: String,
    pub last_failure: i64,
}

/// A client's secret: `{"type": "secret", "value": ...}` (no `value` when it has none).
#[derive(Serialize, ToSchema)]
pub struct SecretBody {
    #[serde(rename = "type")]
    pub type_: String,
    pub value: Option<String>,
}

/// Keycloak's `UserSessionRepresentation`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionBody {
    pub id: String,
    pub username: Option<String>,
    pub user_id: String,
    pub ip_address: Option<String>,
    pub start: i64,
    pub last_access: i64,
    pub remember_me: Option<bool>,
    /// client id (internal) → clientId
    pub clients: Option<BTreeMap<String, String>>,
    pub transient_user: Option<bool>,
}

/// One line of `GET /client-session-stats` (counts as strings, Keycloak's shape).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionStat {
    pub id: String,
    pub client_id: String,
    pub active: String,
    pub offline: String,
}

/// Keycloak's `MappingsRepresentation`: realm roles and, per clientId, client roles.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MappingsBody {
    pub realm_mappings: Option<Vec<portcullis_model::repr::RoleRepresentation>>,
    pub client_mappings: Option<BTreeMap<String, ClientMappings>>,
}

/// Keycloak's `ClientMappingsRepresentation`.
#[derive(Serialize, ToSchema)]
pub struct ClientMappings {
    pub id: Option<String>,
    pub client: Option<String>,
    pub mappings: Option<Vec<portcullis_model::repr::RoleRepresentation>>,
}

/// Keycloak's `GlobalRequestResult` (both lists left out when no client was notified).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GlobalRequestResult {
    pub success_requests: Option<Vec<String>>,
    pub failed_requests: Option<Vec<String>>,
}

/// A client scope in the default and optional lists: `{"id": ..., "name": ...}`.
#[derive(Serialize, ToSchema)]
pub struct ScopeRef {
    pub id: String,
    pub name: String,
}

/// Keycloak's `AdminEventRepresentation` (`representation` only when details are recorded).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminEventBody {
    pub id: String,
    /// Epoch milliseconds.
    pub time: i64,
    pub realm_id: String,
    pub auth_details: AuthDetails,
    pub operation_type: String,
    pub resource_type: String,
    pub resource_path: String,
    /// The redacted request body, as JSON text.
    pub representation: Option<String>,
    pub error: Option<String>,
}

/// Keycloak's `EventRepresentation`: one user (login) event.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventBody {
    pub id: String,
    /// Epoch milliseconds.
    pub time: i64,
    /// `LOGIN`, `LOGIN_ERROR`, `CODE_TO_TOKEN`, ...
    #[serde(rename = "type")]
    pub type_: String,
    pub realm_id: String,
    /// The client's `clientId`.
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub ip_address: Option<String>,
    /// Keycloak's error code (`invalid_user_credentials`, ...) on `_ERROR` events.
    pub error: Option<String>,
    pub details: Option<std::collections::BTreeMap<String, String>>,
}

/// Keycloak's `AuthDetailsRepresentation`: who made an admin event (absent fields unknown).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthDetails {
    pub realm_id: Option<String>,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
    pub ip_address: Option<String>,
}

// ----- Path parameter sets (names as in the route templates) -----

/// `{realm}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RealmP {
    /// Realm name.
    pub realm: String,
}

/// `{realm}`, `{id}` (a user, group or client id, or a role id under `roles-by-id`).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdP {
    /// Realm name.
    pub realm: String,
    /// The resource's id.
    pub id: String,
}

/// `{realm}`, `{role_name}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RoleP {
    /// Realm name.
    pub realm: String,
    /// Role name.
    pub role_name: String,
}

/// `{realm}`, `{id}` (a client), `{role_name}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClientRoleP {
    /// Realm name.
    pub realm: String,
    /// The client's id.
    pub id: String,
    /// Role name.
    pub role_name: String,
}

/// `{realm}`, `{id}`, `{client}` (a client's id).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdClientP {
    /// Realm name.
    pub realm: String,
    /// The resource's id.
    pub id: String,
    /// The client's id.
    pub client: String,
}

/// `{realm}`, `{role_name}`, `{client}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RoleClientP {
    /// Realm name.
    pub realm: String,
    /// Role name.
    pub role_name: String,
    /// The client's id.
    pub client: String,
}

/// `{realm}`, `{id}` (a client), `{role_name}`, `{client}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClientRoleClientP {
    /// Realm name.
    pub realm: String,
    /// The client's id.
    pub id: String,
    /// Role name.
    pub role_name: String,
    /// The other client's id.
    pub client: String,
}

/// `{realm}`, `{id}` (a user), `{group_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MembershipP {
    /// Realm name.
    pub realm: String,
    /// The user's id.
    pub id: String,
    /// The group's id.
    pub group_id: String,
}

/// `{realm}`, `{id}` (a user), `{credential}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CredentialP {
    /// Realm name.
    pub realm: String,
    /// The user's id.
    pub id: String,
    /// The credential's id.
    pub credential: String,
}

/// `{realm}`, `{session}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SessionP {
    /// Realm name.
    pub realm: String,
    /// The SSO session's id.
    pub session: String,
}

/// `{realm}`, `{id}` (a client or client scope), `{mapper_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MapperP {
    /// Realm name.
    pub realm: String,
    /// The client's or client scope's id.
    pub id: String,
    /// The protocol mapper's id.
    pub mapper_id: String,
}

/// `{realm}`, `{id}` (a client or client scope), `{protocol}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProtocolP {
    /// Realm name.
    pub realm: String,
    /// The client's or client scope's id.
    pub id: String,
    /// `openid-connect` or `saml`.
    pub protocol: String,
}

/// `{realm}`, `{id}` (a client), `{scope_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClientScopeLinkP {
    /// Realm name.
    pub realm: String,
    /// The client's id.
    pub id: String,
    /// The client scope's id.
    pub scope_id: String,
}

/// `{realm}`, `{scope_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RealmScopeP {
    /// Realm name.
    pub realm: String,
    /// The client scope's id.
    pub scope_id: String,
}

// ----- Query parameter sets (see `params.rs` for their rules) -----

/// `first`, `max` (`-1` means not given; `max` is capped at 1000).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Index of the first result.
    #[param(minimum = -1)]
    pub first: Option<i64>,
    /// Most results to return.
    #[param(minimum = -1)]
    pub max: Option<i64>,
}

/// `briefRepresentation`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct Brief {
    /// Only the essential fields of each result.
    pub brief_representation: Option<bool>,
}

/// `search` (a name, matched anywhere) and `exact`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NameSearch {
    /// Text to look for in the name.
    #[param(max_length = 255)]
    pub search: Option<String>,
    /// Match the whole name.
    pub exact: Option<bool>,
}

/// The user filters of `GET /users` and `GET /users/count`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct UserFilters {
    /// `"text"` exact, `*text*` anywhere, `*text` at the end, `text` at the start of username,
    /// email, first or last name; `id:<id>` one user.
    #[param(max_length = 255)]
    pub search: Option<String>,
    #[param(max_length = 255)]
    pub username: Option<String>,
    #[param(max_length = 255)]
    pub email: Option<String>,
    #[param(max_length = 255)]
    pub first_name: Option<String>,
    #[param(max_length = 255)]
    pub last_name: Option<String>,
    pub enabled: Option<bool>,
    pub email_verified: Option<bool>,
    /// Field filters match the whole value.
    pub exact: Option<bool>,
}

/// `GET /groups/count`'s `top`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Top {
    /// Count top-level groups only.
    pub top: Option<bool>,
}

/// `GET /clients`'s `clientId` and `search`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct ClientFilter {
    /// The clientId to find.
    #[param(max_length = 255)]
    pub client_id: Option<String>,
    /// `clientId` matches anywhere instead of exactly.
    pub search: Option<bool>,
}

/// `POST /partial-export`'s choices.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct ExportOptions {
    /// Include the clients (needs `view-clients`).
    pub export_clients: Option<bool>,
    /// Include groups and roles (needs `view-users`).
    pub export_groups_and_roles: Option<bool>,
}

/// The filters of `GET /admin-events`; every filter given must match.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct AdminEventFilters {
    /// Operation types (`CREATE`, `UPDATE`, `DELETE`, `ACTION`); repeated or comma-separated.
    #[param(style = Form, explode)]
    pub operation_types: Option<Vec<String>>,
    /// Resource types (`USER`, `CLIENT`, ...); repeated or comma-separated.
    #[param(style = Form, explode)]
    pub resource_types: Option<Vec<String>>,
    /// Resource path; `*` matches any characters.
    #[param(max_length = 255)]
    pub resource_path: Option<String>,
    /// Realm id of the caller.
    #[param(max_length = 255)]
    pub auth_realm: Option<String>,
    /// Client id (internal) of the caller.
    #[param(max_length = 255)]
    pub auth_client: Option<String>,
    /// User id of the caller.
    #[param(max_length = 255)]
    pub auth_user: Option<String>,
    /// IP address of the caller.
    #[param(max_length = 255)]
    pub auth_ip_address: Option<String>,
    /// First day, `yyyy-MM-dd` (UTC).
    #[param(format = Date)]
    pub date_from: Option<String>,
    /// Last day, `yyyy-MM-dd` (UTC), included.
    #[param(format = Date)]
    pub date_to: Option<String>,
}

/// The filters of `GET /events`; every filter given must match.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct EventFilters {
    /// Event types (`LOGIN`, `LOGIN_ERROR`, ...); repeated or comma-separated.
    #[param(style = Form, explode, rename = "type")]
    pub r#type: Option<Vec<String>>,
    /// The client's `clientId`.
    #[param(max_length = 255)]
    pub client: Option<String>,
    /// User id.
    #[param(max_length = 255)]
    pub user: Option<String>,
    /// IP address.
    #[param(max_length = 255)]
    pub ip_address: Option<String>,
    /// From this day (`yyyy-MM-dd`, UTC) or epoch milliseconds, included.
    #[param(max_length = 20)]
    pub date_from: Option<String>,
    /// To this day (`yyyy-MM-dd`, UTC, the whole day) or epoch milliseconds, included.
    #[param(max_length = 20)]
    pub date_to: Option<String>,
    /// `desc` (newest first, the default) or `asc`.
    #[param(pattern = "^(asc|desc)$")]
    pub direction: Option<String>,
}

/// The link of an administrator's mail: `lifespan`, `client_id`, `redirect_uri`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailLink {
    /// Seconds the link stays valid (the realm's setting when absent).
    pub lifespan: Option<i64>,
    /// The client the link returns to (needed with `redirect_uri`).
    #[param(max_length = 255)]
    pub client_id: Option<String>,
    /// Where the link leads after its actions; one of the client's redirect URIs.
    #[param(max_length = 255)]
    pub redirect_uri: Option<String>,
}

// ----- The finished document -----

/// The answer every operation may give, by status, with the shared error body.
fn error_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("AdminError")))
                    .build(),
            )
            .build(),
    )
}

/// Add the shared answers to one operation: 400 (parameters), 401, 403, 404 (`Realm not
/// found.` and the resource's own), and 413/415 where a body is read; plus the bearer
/// requirement.
fn complete(op: &mut Operation) {
    let mut shared = vec![
        ("400", "Unusable parameter or body"),
        ("401", "No valid bearer token"),
        ("403", "The caller lacks the right"),
        ("404", "Realm (or the resource) not found"),
    ];
    if op.request_body.is_some() {
        shared.push(("413", "Body over 1 MiB"));
        shared.push(("415", "Body is not JSON"));
    }
    for (status, description) in shared {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    }
    op.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
}

/// A unique operation id from the method and the path (handler names repeat across modules):
/// `GET /admin/realms/{realm}/users/{id}/groups` → `get_users_id_groups`.
fn operation_id(method: &str, path: &str) -> String {
    let rest = path
        .strip_prefix("/admin/realms/{realm}")
        .or_else(|| path.strip_prefix("/admin/"))
        .unwrap_or(path);
    let mut id = method.to_owned();
    for seg in rest.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        id.extend(
            seg.chars()
                .filter(|c| !matches!(c, '{' | '}'))
                .map(|c| if c == '-' { '_' } else { c }),
        );
    }
    if rest.is_empty() {
        id.push_str("_realm");
    }
    id
}

/// The fixed part merged with the router's operations, completed, with `relative_path` (the
/// server's `--http-relative-path`) as the server URL.
pub fn finish(paths: Document, relative_path: &str) -> Document {
    let mut doc = Base::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc.merge(paths);
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
            ("head", &mut item.head),
            ("options", &mut item.options),
            ("trace", &mut item.trace),
        ] {
            if let Some(op) = op {
                op.operation_id = Some(operation_id(method, path));
                complete(op);
            }
        }
    }
    if let Some(components) = doc.components.as_mut() {
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
    let base = if relative_path == "/" {
        "/"
    } else {
        relative_path
    };
    doc.servers = Some(vec![ServerBuilder::new().url(base).build()]);
    doc
}
