//! Server-side failures as HTTP answers: never a stack trace, SQL text or path; a 5xx carries
//! only a correlation id, and the details go to the log under the same id.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portcullis_store::StoreError;
use serde_json::json;

/// 503 when the database is unavailable, 500 otherwise; logged with a correlation id.
pub fn internal(e: StoreError) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let status = match e {
        StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    tracing::error!(correlation_id = %id, error = %e, "request failed");
    (
        status,
        axum::Json(json!({"error": "unknown_error", "correlation_id": id})),
    )
        .into_response()
}

/// A failure that is not the store's (key handling, tasks): 500 with a correlation id.
pub fn internal_any(e: anyhow::Error) -> Response {
    match e.downcast::<StoreError>() {
        Ok(store) => internal(store),
        Err(e) => {
            let id = uuid::Uuid::new_v4().to_string();
            tracing::error!(correlation_id = %id, error = %format!("{e:#}"), "request failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "unknown_error", "correlation_id": id})),
            )
                .into_response()
        }
    }
}
