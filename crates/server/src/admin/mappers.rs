//! Protocol mappers of clients and client scopes:
//! `.../protocol-mappers/models` (GET, POST), `.../models/{mapperId}` (GET, PUT, DELETE),
//! `.../add-models` (POST, an array, all or none), `.../protocol/{protocol}` (GET), under
//! `/clients/{id}` and `/client-scopes/{id}`.
//!
//! Reading needs `view-clients`, writing `manage-clients` (Keycloak governs client scopes with
//! the client roles too). A mapper must name a type tokens apply ([`validate`]; otherwise
//! Keycloak's 404 `ProtocolMapper provider not found`); a name used twice by one owner is a
//! 409. Every write drops the configuration caches, so the next token
//! carries the change.

use crate::admin::auth::Action;
use crate::admin::http::{self, Answer};
use crate::admin::{Context, context, db};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use portcullis_model::records::{ProtocolMapperRecord, new_id};
use portcullis_model::repr::ProtocolMapperRepresentation;
use portcullis_store::{MapperOwner, NameTaken};

pub const OIDC: &str = "openid-connect";
pub const SAML: &str = "saml";

/// SAML mapper types accepted and stored (Portcullis issues no SAML assertions; they are kept
/// so that SAML client scopes round-trip).
const SAML_TYPES: &[&str] = &[
    "saml-role-list-mapper",
    "saml-user-property-mapper",
    "saml-user-attribute-mapper",
    "saml-hardcode-attribute-mapper",
    "saml-organization-membership-mapper",
];

const DUPLICATE: &str = "Protocol mapper exists with same name";

/// Whose mappers a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Client,
    Scope,
}

/// The owner's id and protocol, or its 404.
async fn owner(s: &AppState, c: &Context, kind: Kind, id: &str) -> Result<String, Response> {
    match kind {
        Kind::Client => {
            let client = db(s.store.client_by_id(&c.realm.id, id).await)?
                .ok_or_else(|| http::not_found("Could not find client"))?;
            Ok(client.repr.protocol.unwrap_or_else(|| OIDC.into()))
        }
        Kind::Scope => {
            let scope = db(s.store.client_scope(&c.realm.id, id).await)?
                .ok_or_else(|| http::not_found("Could not find client scope"))?;
            Ok(scope.repr.protocol.unwrap_or_else(|| OIDC.into()))
        }
    }
}

fn owner_ref(kind: Kind, id: &str) -> MapperOwner<'_> {
    match kind {
        Kind::Client => MapperOwner::Client(id),
        Kind::Scope => MapperOwner::Scope(id),
    }
}

/// A mapper as the admin API shows it.
pub fn mapper_repr(m: &ProtocolMapperRecord) -> ProtocolMapperRepresentation {
    ProtocolMapperRepresentation {
        id: Some(m.id.clone()),
        name: Some(m.name.clone()),
        protocol: Some(m.protocol.clone()),
        protocol_mapper: Some(m.mapper_type.clone()),
        consent_required: Some(false),
        consent_text: None,
        config: Some(m.config.clone()),
    }
}

/// Why a mapper representation is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapperError {
    /// The `protocolMapper` type is missing or not one this server implements: Keycloak's 404
    /// `ProtocolMapper provider not found`, checked before anything else.
    Provider,
    /// Anything else (400).
    Invalid(String),
}

impl MapperError {
    pub fn response(&self) -> Response {
        match self {
            MapperError::Provider => http::not_found(PROVIDER_NOT_FOUND),
            MapperError::Invalid(m) => http::bad_request(m),
        }
    }
}

const PROVIDER_NOT_FOUND: &str = "ProtocolMapper provider not found";

/// Check a mapper representation and turn it into a record of `owner_id`: a mapper type tokens
/// apply, a name, a protocol this server knows (default: the owner's, and the type's own).
pub fn validate(
    rep: &ProtocolMapperRepresentation,
    owner_id: &str,
    owner_protocol: &str,
    id: Option<&str>,
) -> Result<ProtocolMapperRecord, MapperError> {
    let mapper_type = rep
        .protocol_mapper
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(MapperError::Provider)?;
    let type_protocol = if portcullis_oidc::mappers::implemented(mapper_type) {
        OIDC
    } else if SAML_TYPES.contains(&mapper_type) {
        SAML
    } else {
        return Err(MapperError::Provider);
    };
    let name = rep
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| MapperError::Invalid("Protocol mapper name is required".into()))?;
    if name.len() > 255 || name.chars().any(char::is_control) {
        return Err(MapperError::Invalid(format!(
            "Protocol mapper name '{name}' is not allowed"
        )));
    }
    let protocol = rep
        .protocol
        .as_deref()
        .filter(|p| !p.is_empty())
        .unwrap_or(owner_protocol);
    if protocol != type_protocol {
        return Err(MapperError::Invalid(format!(
            "Mapper type '{mapper_type}' is not a {protocol} mapper"
        )));
    }
    Ok(ProtocolMapperRecord {
        id: id
            .map(str::to_owned)
            .or_else(|| rep.id.clone().filter(|v| !v.trim().is_empty()))
            .unwrap_or_else(new_id),
        owner_id: owner_id.to_owned(),
        name: name.to_owned(),
        protocol: protocol.to_owned(),
        mapper_type: mapper_type.to_owned(),
        config: rep.config.clone().unwrap_or_default(),
    })
}

/// Validate a list of mappers for one owner: each valid, names distinct. `embedded`: the list
/// is part of a client or client scope body, where an unknown type is a 400 naming the mapper
/// (`add-models` answers Keycloak's 404 instead).
pub fn validate_all(
    reps: &[ProtocolMapperRepresentation],
    owner_id: &str,
    owner_protocol: &str,
    embedded: bool,
) -> Result<Vec<ProtocolMapperRecord>, Response> {
    let mut out: Vec<ProtocolMapperRecord> = Vec::with_capacity(reps.len());
    for rep in reps {
        // Mappers inside a new client or scope get fresh ids: an id copied from another
        // realm or export must not collide with an existing mapper.
        let fresh = embedded.then(new_id);
        let m = match validate(rep, owner_id, owner_protocol, fresh.as_deref()) {
            Ok(m) => m,
            Err(MapperError::Provider) if embedded => {
                return Err(http::bad_request(&format!(
                    "{PROVIDER_NOT_FOUND}: '{}' (protocol mapper '{}')",
                    rep.protocol_mapper.as_deref().unwrap_or(""),
                    rep.name.as_deref().unwrap_or("")
                )));
            }
            Err(e) => return Err(e.response()),
        };
        if out.iter().any(|o| o.name == m.name) {
            return Err(http::conflict(DUPLICATE));
        }
        out.push(m);
    }
    Ok(out)
}

async fn list(
    s: AppState,
    realm: String,
    id: String,
    kind: Kind,
    protocol: Option<String>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    owner(&s, &c, kind, &id).await?;
    let found = db(s.store.owner_mappers(owner_ref(kind, &id)).await)?;
    http::ok(
        found
            .iter()
            .filter(|m| protocol.as_deref().is_none_or(|p| m.protocol == p))
            .map(mapper_repr)
            .collect::<Vec<_>>(),
    )
}

async fn get_one(
    s: AppState,
    realm: String,
    id: String,
    mapper: String,
    kind: Kind,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewClients).await?;
    owner(&s, &c, kind, &id).await?;
    let m = db(s.store.owner_mapper(owner_ref(kind, &id), &mapper).await)?
        .ok_or_else(|| http::not_found("Model not found"))?;
    http::ok(mapper_repr(&m))
}

async fn create(
    s: AppState,
    realm: String,
    id: String,
    kind: Kind,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    let protocol = owner(&s, &c, kind, &id).await?;
    let rep: ProtocolMapperRepresentation = http::read_json(&headers, body).await?;
    let m = validate(&rep, &id, &protocol, None).map_err(|e| e.response())?;
    store_new(&s, &c, kind, &id, std::slice::from_ref(&m)).await?;
    let base = crate::admin::realm_url(&s, &headers, &c.realm.name);
    let owner_path = match kind {
        Kind::Client => "clients",
        Kind::Scope => "client-scopes",
    };
    http::created(&format!(
        "{base}/{owner_path}/{}/protocol-mappers/models/{}",
        http::segment(&id),
        http::segment(&m.id)
    ))
}

async fn add_many(
    s: AppState,
    realm: String,
    id: String,
    kind: Kind,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    let protocol = owner(&s, &c, kind, &id).await?;
    let reps: Vec<ProtocolMapperRepresentation> = http::read_json(&headers, body).await?;
    let mappers = validate_all(&reps, &id, &protocol, false)?;
    store_new(&s, &c, kind, &id, &mappers).await?;
    http::no_content()
}

async fn store_new(
    s: &AppState,
    c: &Context,
    kind: Kind,
    id: &str,
    mappers: &[ProtocolMapperRecord],
) -> Result<(), Response> {
    match s
        .store
        .add_mappers(&c.realm.id, owner_ref(kind, id), mappers)
        .await
    {
        Ok(Ok(())) => {}
        Ok(Err(NameTaken)) => return Err(http::conflict(DUPLICATE)),
        // A mapper id given in the body that another mapper has.
        Err(portcullis_store::StoreError::Conflict(_)) => {
            return Err(http::conflict("Protocol mapper exists with same id"));
        }
        Err(e) => return Err(crate::error::internal(e)),
    }
    s.caches.invalidate_config();
    Ok(())
}

async fn update(
    s: AppState,
    realm: String,
    id: String,
    mapper: String,
    kind: Kind,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    let protocol = owner(&s, &c, kind, &id).await?;
    let rep: ProtocolMapperRepresentation = http::read_json(&headers, body).await?;
    let current = db(s.store.owner_mapper(owner_ref(kind, &id), &mapper).await)?
        .ok_or_else(|| http::not_found("Model not found"))?;
    // Fields left out keep their values, as in Keycloak's update of a model.
    let merged = ProtocolMapperRepresentation {
        name: rep.name.clone().or(Some(current.name.clone())),
        protocol: rep.protocol.clone().or(Some(current.protocol.clone())),
        protocol_mapper: rep
            .protocol_mapper
            .clone()
            .or(Some(current.mapper_type.clone())),
        config: rep.config.clone().or(Some(current.config.clone())),
        ..rep
    };
    let m = validate(&merged, &id, &protocol, Some(&mapper)).map_err(|e| e.response())?;
    match db(s.store.update_mapper(owner_ref(kind, &id), &m).await)? {
        Ok(true) => {}
        Ok(false) => return Err(http::not_found("Model not found")),
        Err(NameTaken) => return Err(http::conflict(DUPLICATE)),
    }
    s.caches.invalidate_config();
    http::no_content()
}

async fn delete(
    s: AppState,
    realm: String,
    id: String,
    mapper: String,
    kind: Kind,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageClients).await?;
    owner(&s, &c, kind, &id).await?;
    if !db(s.store.delete_mapper(owner_ref(kind, &id), &mapper).await)? {
        return Err(http::not_found("Model not found"));
    }
    s.caches.invalidate_config();
    http::no_content()
}

// The routes: one thin handler per owner kind.

#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/protocol-mappers/models",
    tag = "clients",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::ProtocolMapperRepresentation>),
    )
)]
pub async fn client_list(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    list(s, realm, id, Kind::Client, None, headers).await
}
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models",
    tag = "client-scopes",
    params(crate::admin::openapi::IdP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::ProtocolMapperRepresentation>),
    )
)]
pub async fn scope_list(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    list(s, realm, id, Kind::Scope, None, headers).await
}
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/protocol-mappers/protocol/{protocol}",
    tag = "clients",
    params(crate::admin::openapi::ProtocolP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::ProtocolMapperRepresentation>),
    )
)]
pub async fn client_by_protocol(
    State(s): State<AppState>,
    Path((realm, id, p)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    list(s, realm, id, Kind::Client, Some(p), headers).await
}
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/protocol/{protocol}",
    tag = "client-scopes",
    params(crate::admin::openapi::ProtocolP),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::ProtocolMapperRepresentation>),
    )
)]
pub async fn scope_by_protocol(
    State(s): State<AppState>,
    Path((realm, id, p)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    list(s, realm, id, Kind::Scope, Some(p), headers).await
}
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/clients/{id}/protocol-mappers/models/{mapper_id}",
    tag = "clients",
    params(crate::admin::openapi::MapperP),
    responses(
        (status = 200, description = "OK", body = portcullis_model::repr::ProtocolMapperRepresentation),
    )
)]
pub async fn client_get(
    State(s): State<AppState>,
    Path((realm, id, m)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    get_one(s, realm, id, m, Kind::Client, headers).await
}
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models/{mapper_id}",
    tag = "client-scopes",
    params(crate::admin::openapi::MapperP),
    responses(
        (status = 200, description = "OK", body = portcullis_model::repr::ProtocolMapperRepresentation),
    )
)]
pub async fn scope_get(
    State(s): State<AppState>,
    Path((realm, id, m)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    get_one(s, realm, id, m, Kind::Scope, headers).await
}
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/clients/{id}/protocol-mappers/models",
    tag = "clients",
    params(crate::admin::openapi::IdP),
    request_body(content = portcullis_model::repr::ProtocolMapperRepresentation, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names the new resource", headers(("Location" = String, description = "URL of the new resource"))),
        (status = 409, description = "A mapper of that name exists", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn client_create(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    create(s, realm, id, Kind::Client, headers, body).await
}
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models",
    tag = "client-scopes",
    params(crate::admin::openapi::IdP),
    request_body(content = portcullis_model::repr::ProtocolMapperRepresentation, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names the new resource", headers(("Location" = String, description = "URL of the new resource"))),
        (status = 409, description = "A mapper of that name exists", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn scope_create(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    create(s, realm, id, Kind::Scope, headers, body).await
}
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/clients/{id}/protocol-mappers/add-models",
    tag = "clients",
    params(crate::admin::openapi::IdP),
    request_body(content = Vec<portcullis_model::repr::ProtocolMapperRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "A mapper of that name exists", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn client_add_many(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    add_many(s, realm, id, Kind::Client, headers, body).await
}
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/add-models",
    tag = "client-scopes",
    params(crate::admin::openapi::IdP),
    request_body(content = Vec<portcullis_model::repr::ProtocolMapperRepresentation>, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "A mapper of that name exists", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn scope_add_many(
    State(s): State<AppState>,
    Path((realm, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    add_many(s, realm, id, Kind::Scope, headers, body).await
}
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/clients/{id}/protocol-mappers/models/{mapper_id}",
    tag = "clients",
    params(crate::admin::openapi::MapperP),
    request_body(content = portcullis_model::repr::ProtocolMapperRepresentation, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "A mapper of that name exists", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn client_update(
    State(s): State<AppState>,
    Path((realm, id, m)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    update(s, realm, id, m, Kind::Client, headers, body).await
}
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models/{mapper_id}",
    tag = "client-scopes",
    params(crate::admin::openapi::MapperP),
    request_body(content = portcullis_model::repr::ProtocolMapperRepresentation, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "A mapper of that name exists", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn scope_update(
    State(s): State<AppState>,
    Path((realm, id, m)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    update(s, realm, id, m, Kind::Scope, headers, body).await
}
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/clients/{id}/protocol-mappers/models/{mapper_id}",
    tag = "clients",
    params(crate::admin::openapi::MapperP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn client_delete(
    State(s): State<AppState>,
    Path((realm, id, m)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    delete(s, realm, id, m, Kind::Client, headers).await
}
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}/client-scopes/{id}/protocol-mappers/models/{mapper_id}",
    tag = "client-scopes",
    params(crate::admin::openapi::MapperP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn scope_delete(
    State(s): State<AppState>,
    Path((realm, id, m)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Answer {
    delete(s, realm, id, m, Kind::Scope, headers).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(
        name: Option<&str>,
        protocol: Option<&str>,
        t: Option<&str>,
    ) -> ProtocolMapperRepresentation {
        ProtocolMapperRepresentation {
            name: name.map(str::to_owned),
            protocol: protocol.map(str::to_owned),
            protocol_mapper: t.map(str::to_owned),
            ..Default::default()
        }
    }

    #[test]
    fn mappers_must_be_implemented_types() {
        let ok = validate(
            &rep(Some("c"), None, Some("oidc-hardcoded-claim-mapper")),
            "o",
            OIDC,
            None,
        )
        .unwrap();
        assert_eq!((ok.protocol.as_str(), ok.owner_id.as_str()), (OIDC, "o"));
        let fixed = validate(
            &rep(Some("c"), None, Some("oidc-sub-mapper")),
            "o",
            OIDC,
            Some("m1"),
        )
        .unwrap();
        assert_eq!(fixed.id, "m1");
        let saml = validate(
            &rep(Some("r"), None, Some("saml-role-list-mapper")),
            "o",
            SAML,
            None,
        );
        assert_eq!(saml.map(|m| m.protocol), Ok(SAML.to_string()));
        // The provider is checked first, as Keycloak does: a 404 even without a name.
        let provider = Err(MapperError::Provider);
        for t in [
            None,
            Some(""),
            Some("nope"),
            Some("oidc-script-based-protocol-mapper"),
        ] {
            assert_eq!(
                validate(&rep(None, None, t), "o", OIDC, None),
                provider,
                "{t:?}"
            );
        }
        let invalid = |r: ProtocolMapperRepresentation, owner: &str| {
            matches!(validate(&r, "o", owner, None), Err(MapperError::Invalid(_)))
        };
        assert!(invalid(rep(None, None, Some("oidc-sub-mapper")), OIDC));
        assert!(invalid(rep(Some(" "), None, Some("oidc-sub-mapper")), OIDC));
        assert!(invalid(
            rep(Some("c"), Some("cas"), Some("oidc-sub-mapper")),
            OIDC
        ));
        assert!(invalid(
            rep(Some("r"), Some(SAML), Some("oidc-sub-mapper")),
            OIDC
        ));
        assert!(invalid(
            rep(Some("r"), None, Some("saml-role-list-mapper")),
            OIDC
        ));
    }
}
