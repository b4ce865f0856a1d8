//! `GET /realms/{realm}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
//! The issuer and browser-facing endpoints use the frontend URL; backchannel endpoints follow
//! the request when `--hostname-backchannel-dynamic` is on.

use crate::app::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_model::records::RealmRecord;
use portcullis_oidc::discovery::{Capabilities, discovery_document, id_token_signing_algs_of};
use portcullis_oidc::urls::RealmUrls;

pub async fn openid_configuration(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Response {
    let r = match crate::app::enabled_realm(&s, &realm).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let urls = super::urls(&s, &headers, &r.name);
    let key = (
        r.id.clone(),
        urls.frontend_base.clone(),
        urls.backend_base.clone(),
    );
    let body = match s.caches.discovery.get(&key) {
        Some(b) => b,
        None => match document(&s, &r, &urls).await {
            Ok(b) => {
                s.caches.discovery.insert(key, b.clone());
                b
            }
            Err(e) => return crate::error::internal_any(e),
        },
    };
    (
        StatusCode::OK,
        [
            (
                header::CACHE_CONTROL,
                "no-cache, must-revalidate, no-transform, no-store",
            ),
            (header::CONTENT_TYPE, "application/json"),
        ],
        body,
    )
        .into_response()
}

/// The document for one realm as seen through one pair of base URLs, serialised.
async fn document(
    s: &AppState,
    r: &RealmRecord,
    urls: &RealmUrls,
) -> anyhow::Result<axum::body::Bytes> {
    let keys = s.keys.get(&s.store, r).await?;
    let scopes = s.caches.oidc_scope_names(&s.store, &r.id).await?;
    let caps = Capabilities {
        id_token_signing_algs: id_token_signing_algs_of(&keys.records),
        ..Capabilities::default()
    };
    Ok(serde_json::to_vec(&discovery_document(urls, &scopes, &caps))?.into())
}
