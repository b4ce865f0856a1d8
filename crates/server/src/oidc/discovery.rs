//! `GET /realms/{realm}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
//! The issuer and browser-facing endpoints use the frontend URL; backchannel endpoints follow
//! the request when `--hostname-backchannel-dynamic` is on.

use crate::app::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portcullis_oidc::discovery::{Capabilities, discovery_document, id_token_signing_algs_of};

pub async fn openid_configuration(
    State(s): State<AppState>,
    Path(realm): Path<String>,
    headers: HeaderMap,
) -> Response {
    let r = match crate::app::enabled_realm(&s, &realm).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let keys = match s.keys.get(&s.store, &r).await {
        Ok(k) => k,
        Err(e) => return crate::error::internal_any(e),
    };
    let scopes = match s.store.realm_client_scopes(&r.id).await {
        Ok(v) => v
            .into_iter()
            .filter(|sc| {
                sc.repr.protocol.as_deref().unwrap_or("openid-connect") == "openid-connect"
            })
            .map(|sc| sc.name)
            .collect::<Vec<_>>(),
        Err(e) => return crate::error::internal(e),
    };
    let urls = super::urls(&s, &headers, &r.name);
    let caps = Capabilities {
        id_token_signing_algs: id_token_signing_algs_of(&keys.records),
        ..Capabilities::default()
    };
    (
        StatusCode::OK,
        [(
            header::CACHE_CONTROL,
            "no-cache, must-revalidate, no-transform, no-store",
        )],
        axum::Json(discovery_document(&urls, &scopes, &caps)),
    )
        .into_response()
}
