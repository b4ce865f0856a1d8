//! `GET /realms/{realm}/protocol/openid-connect/certs`: the realm's public keys (RFC 7517),
//! every enabled asymmetric key with `kid`, `use` and `alg`; never private parts, never HMAC
//! keys.

use crate::app::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn jwks(State(s): State<AppState>, Path(realm): Path<String>) -> Response {
    let r = match crate::app::enabled_realm(&s, &realm).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    match s.keys.get(&s.store, &r).await {
        Ok(k) => (
            [
                (header::CACHE_CONTROL, "no-cache"),
                (header::CONTENT_TYPE, "application/json"),
            ],
            k.jwks_body.clone(),
        )
            .into_response(),
        Err(e) => crate::error::internal_any(e),
    }
}
