//! `GET /admin/realms` and `GET /admin/realms/{realm}`.
//!
//! A realm is listed when the caller holds any management role in it: with `view-realm` (or
//! `manage-realm`) as its representation without secrets (`briefRepresentation=true`: id,
//! name, display name, enabled), otherwise as its name only, as Keycloak does. A caller who
//! may see no realm at all gets 403.

use crate::admin::auth::{self, Action};
use crate::admin::http::{self, Answer};
use crate::admin::params::Query;
use crate::admin::{bad_param, context, db, repr};
use crate::app::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;

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
