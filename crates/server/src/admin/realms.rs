//! Realms: `GET/POST /admin/realms`, `GET/PUT/DELETE /admin/realms/{realm}`,
//! `POST /admin/realms/{realm}/partial-export`.
//!
//! A realm is listed when the caller holds any management role in it: with `view-realm` (or
//! `manage-realm`) as its representation without secrets (`briefRepresentation=true`: id,
//! name, display name, enabled), otherwise as its name only, as Keycloak does. A caller who
//! may see no realm at all gets 403.

use crate::admin::auth::{self, Action};
use crate::admin::http::{self, Answer};
use crate::admin::params::Query;
use crate::admin::repr::SECRET_MASK;
use crate::admin::{bad_param, context, db, realm_url, repr};
use crate::app::AppState;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use portcullis_model::defaults::{ADMIN_ROLE, MASTER_REALM};
use portcullis_model::export::{self, UsersInRealm};
use portcullis_model::import;
use portcullis_model::records::RealmRecord;
use portcullis_model::repr::RealmRepresentation;
use portcullis_store::{NameTaken, StoreError};
use serde_json::{Map, Value};

/// GET `/admin/realms`.
#[utoipa::path(
    get,
    path = "/admin/realms",
    tag = "realms",
    params(crate::admin::openapi::Brief),
    responses(
        (status = 200, description = "OK", body = Vec<portcullis_model::repr::RealmRepresentation>),
    )
)]
pub async fn list(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let caller = auth::authenticate(&s, &headers).await?;
    let brief = Query::parse(raw.as_deref())
        .flag("briefRepresentation")
        .map_err(bad_param)?
        .unwrap_or(false);
    let mut out = Vec::new();
    for name in db(s.store.realm_names().await)? {
        let Some(realm) = s
            .caches
            .realm(&s.store, &name)
            .await
            .map_err(crate::error::internal_any)?
        else {
            continue;
        };
        let access = auth::access_in(&s, &caller, &realm).await?;
        if access.allows(Action::ViewRealm) {
            out.push(if brief {
                repr::realm_brief(&realm)
            } else {
                repr::realm_repr(&realm)
            });
        } else if access.allows(Action::SeeRealm) {
            out.push(repr::realm_name_only(&realm));
        }
    }
    if out.is_empty() {
        return Err(http::forbidden());
    }
    http::ok(out)
}

/// GET `/admin/realms/{realm}`.
#[utoipa::path(
    get,
    path = "/admin/realms/{realm}",
    tag = "realms",
    params(crate::admin::openapi::RealmP),
    responses(
        (status = 200, description = "OK", body = portcullis_model::repr::RealmRepresentation),
    )
)]
pub async fn get(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::SeeRealm).await?;
    if c.access.allows(Action::ViewRealm) {
        http::ok(repr::realm_repr(&c.realm))
    } else {
        http::ok(repr::realm_name_only(&c.realm))
    }
}

// ------------------------------------------------------------- creating and changing realms

/// Keycloak's answer when a realm of that name (or id) exists.
const REALM_EXISTS: &str = "Conflict detected. See logs for details";

/// Top-level fields of a realm representation that are not settings: `PUT` ignores them, as
/// Keycloak's realm update does (they have their own endpoints).
const NOT_SETTINGS: &[&str] = &[
    "id",
    "realm",
    "enabled",
    "roles",
    "groups",
    "users",
    "federatedUsers",
    "clients",
    "clientScopes",
    "scopeMappings",
    "clientScopeMappings",
    "defaultRole",
    "defaultRoles",
    "defaultGroups",
    "defaultDefaultClientScopes",
    "defaultOptionalClientScopes",
];

/// POST `/admin/realms`: a whole realm from a `RealmRepresentation`, through the same
/// validation and building as `--import-realm` (placeholders are taken literally), written
/// with its management client in master in one transaction; 201 with `Location`. 409 when the
/// realm exists. Master users with master's `admin` or `create-realm` role may create realms;
/// a creator without `admin` is granted the new realm's management roles, as in Keycloak.
#[utoipa::path(
    post,
    path = "/admin/realms",
    tag = "realms",
    request_body(content = portcullis_model::repr::RealmRepresentation, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names the new realm", headers(("Location" = String, description = "URL of the new realm"))),
        (status = 409, description = "The realm exists", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn create(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Answer {
    let caller = auth::authenticate(&s, &headers).await?;
    if !auth::may_create_realm(&caller.realm.name, &caller.roles) {
        return Err(http::forbidden());
    }
    let rep: RealmRepresentation =
        http::read_json_up_to(&headers, body, crate::app::MAX_BODY).await?;
    let name = rep
        .realm
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| http::bad_request("Realm name is required"))?;
    import::validate_realm_name(&name).map_err(|e| http::bad_request(&e.to_string()))?;
    if db(s.store.get_realm(&name).await)?.is_some() {
        return Err(http::conflict(REALM_EXISTS));
    }
    let now = crate::realms::now_ms();
    let (image, warnings) = tokio::task::spawn_blocking(move || {
        crate::realms::prepare_with(rep, now, import::Placeholders::Literal)
    })
    .await
    .map_err(|e| crate::error::internal_any(e.into()))?
    .map_err(|e| http::bad_request(&e.to_string()))?;
    for w in warnings {
        tracing::info!(realm = %name, "realm created through the admin API: {w}");
    }
    let link = if name == MASTER_REALM {
        None
    } else {
        match db(s.store.get_realm(MASTER_REALM).await)? {
            Some(master) => db(s.store.realm_role(&master.id, ADMIN_ROLE).await)?
                .map(|admin| import::master_link(&master.id, &admin.id, &name)),
            None => None,
        }
    };
    let full_admin = caller
        .roles
        .iter()
        .any(|r| r.client_id.is_none() && r.name == ADMIN_ROLE);
    let grant = (!full_admin).then(|| caller.user.id.clone());
    // The realm writer's statements borrow the image across awaits in a way the compiler
    // cannot prove `Send` for (rustc #100013); run it to completion on a blocking thread.
    let store = s.store.clone();
    let handle = tokio::runtime::Handle::current();
    let written = tokio::task::spawn_blocking(move || {
        handle.block_on(store.create_realm_linked(&image, link.as_ref(), grant.as_deref(), now))
    })
    .await
    .map_err(|e| crate::error::internal_any(e.into()))?;
    match written {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(http::conflict(REALM_EXISTS)),
        Err(e) => return Err(crate::error::internal(e)),
    }
    s.caches.invalidate_config();
    s.caches.invalidate_user(&caller.user.id);
    http::created(&realm_url(&s, &headers, &name))
}

/// PUT `/admin/realms/{realm}`: the settings the body gives replace the stored ones (with the
/// import's checks); collections (users, clients, roles, ...) are ignored; 204. A masked SMTP
/// password keeps the stored one. A new `realm` renames it (409 when taken; not `master`).
#[utoipa::path(
    put,
    path = "/admin/realms/{realm}",
    tag = "realms",
    params(crate::admin::openapi::RealmP),
    request_body(content = portcullis_model::repr::RealmRepresentation, content_type = "application/json"),
    responses(
        (status = 204, description = "Done"),
        (status = 409, description = "A realm of the new name exists", body = crate::admin::openapi::AdminError),
    )
)]
pub async fn update(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageRealm).await?;
    let patch: Map<String, Value> = http::read_json(&headers, body).await?;
    let new_name = match patch.get("realm") {
        None | Some(Value::Null) => None,
        Some(Value::String(n)) if *n == c.realm.name => None,
        Some(Value::String(n)) => {
            if c.realm.name == MASTER_REALM {
                return Err(http::bad_request("The master realm cannot be renamed"));
            }
            import::validate_realm_name(n).map_err(|e| http::bad_request(&e.to_string()))?;
            Some(n.clone())
        }
        Some(_) => return Err(http::bad_request("Invalid value for 'realm'")),
    };
    let enabled = match patch.get("enabled") {
        None | Some(Value::Null) => c.realm.enabled,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(http::bad_request("Invalid value for 'enabled'")),
    };
    if !enabled && c.realm.name == MASTER_REALM {
        return Err(http::bad_request("The master realm cannot be disabled"));
    }
    let mut merged = serde_json::to_value(&c.realm.settings)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    for (k, v) in patch {
        if !v.is_null() && !NOT_SETTINGS.contains(&k.as_str()) {
            merged.insert(k, v);
        }
    }
    let mut rep: RealmRepresentation = serde_json::from_value(Value::Object(merged))
        .map_err(|e| http::bad_request(&format!("Invalid realm representation: {e}")))?;
    if let Some(smtp) = rep.smtp_server.as_mut()
        && smtp.get("password").map(String::as_str) == Some(SECRET_MASK)
    {
        match c
            .realm
            .settings
            .smtp_server
            .as_ref()
            .and_then(|o| o.get("password"))
        {
            Some(old) => smtp.insert("password".into(), old.clone()),
            None => smtp.remove("password"),
        };
    }
    let settings = import::settings_for_update(&rep, c.realm.name == MASTER_REALM)
        .map_err(|e| http::bad_request(&e.to_string()))?;
    let record = RealmRecord {
        enabled,
        settings,
        name: new_name.clone().unwrap_or_else(|| c.realm.name.clone()),
        ..(*c.realm).clone()
    };
    let found = match new_name {
        None => db(s.store.update_realm_settings(&record).await)?,
        // Renaming, as Keycloak allows: its issuer changes, so tokens issued under the old
        // name stop working, and master's management client follows the new name.
        Some(_) => match db(s.store.rename_realm(&record, &c.realm.name).await)? {
            Ok(found) => found,
            Err(NameTaken) => return Err(http::conflict("Realm with same name exists")),
        },
    };
    if !found {
        return Err(http::not_found("Realm not found."));
    }
    s.caches.invalidate_config();
    http::no_content()
}

/// DELETE `/admin/realms/{realm}`: the realm and everything in it, and its management client
/// in master, in one transaction; 204. `master` stays (400).
#[utoipa::path(
    delete,
    path = "/admin/realms/{realm}",
    tag = "realms",
    params(crate::admin::openapi::RealmP),
    responses(
        (status = 204, description = "Done"),
    )
)]
pub async fn delete(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ManageRealm).await?;
    if c.realm.name == MASTER_REALM {
        return Err(http::bad_request("Can't delete master realm"));
    }
    if !db(s.store.delete_realm(&c.realm.name).await)? {
        return Err(http::not_found("Realm not found."));
    }
    s.caches.invalidate_config();
    http::no_content()
}

/// POST `/admin/realms/{realm}/partial-export?exportClients=&exportGroupsAndRoles=`: the realm
/// without users; clients (with `view-clients`) and groups and roles (with `view-users`) on
/// request; every secret replaced by `**********`, as Keycloak does.
#[utoipa::path(
    post,
    path = "/admin/realms/{realm}/partial-export",
    tag = "realms",
    params(crate::admin::openapi::RealmP, crate::admin::openapi::ExportOptions),
    responses(
        (status = 200, description = "The realm without users; secrets masked", body = portcullis_model::repr::RealmRepresentation),
    )
)]
pub async fn partial_export(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let c = context(&s, &headers, &realm, Action::ViewRealm).await?;
    let q = Query::parse(raw.as_deref());
    let clients = q.flag("exportClients").map_err(bad_param)?.unwrap_or(false);
    let groups = q
        .flag("exportGroupsAndRoles")
        .map_err(bad_param)?
        .unwrap_or(false);
    if clients {
        c.require(Action::ViewClients)?;
    }
    if groups {
        c.require(Action::ViewUsers)?;
    }
    let image = db(s.store.load_realm_image(&c.realm.name).await)?
        .ok_or_else(|| http::not_found("Realm not found."))?;
    let mut rep = export::realm_representation(&image, UsersInRealm::Exclude);
    if clients {
        for client in rep.clients.iter_mut().flatten() {
            if client.secret.is_some() {
                client.secret = Some(SECRET_MASK.to_owned());
            }
        }
    } else {
        rep.clients = None;
    }
    if !groups {
        rep.roles = None;
        rep.groups = None;
        rep.default_groups = None;
    }
    mask_secrets(&mut rep);
    http::ok(rep)
}

/// Secrets in a realm's settings masked: the SMTP password, identity providers' client
/// secrets.
fn mask_secrets(rep: &mut RealmRepresentation) {
    if let Some(p) = rep
        .smtp_server
        .as_mut()
        .and_then(|smtp| smtp.get_mut("password"))
        .filter(|p| !p.is_empty())
    {
        *p = SECRET_MASK.to_owned();
    }
    for idp in rep.identity_providers.iter_mut().flatten() {
        if let Some(secret) = idp
            .get_mut("config")
            .and_then(|c| c.get_mut("clientSecret"))
            .filter(|v| !v.is_null())
        {
            *secret = Value::String(SECRET_MASK.to_owned());
        }
    }
}
