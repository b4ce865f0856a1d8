//! The management interface (port 9000 by default): `/health`, `/health/live`,
//! `/health/ready`, `/health/started` and `/metrics`, under the management relative path.
//!
//! Answers follow Keycloak's shape: `{"status":"UP"|"DOWN","checks":[...]}` with 200 or 503.
//! Readiness pings the database with a short timeout, so a database outage turns it DOWN
//! without hanging the probe.

use crate::telemetry::Metrics;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use portcullis_store::Store;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Clone)]
pub struct ManagementState {
    pub store: Store,
    pub metrics: Option<Metrics>,
    /// Set once start-up (migrations, imports) has finished.
    pub started: Arc<AtomicBool>,
}

/// Routes for `health_enabled` / `metrics_enabled`, nested under `prefix` (`/` for none).
pub fn router(state: ManagementState, health: bool, prefix: &str) -> Router {
    let mut r = Router::new();
    if health {
        r = r
            .route("/health", get(health_all))
            .route("/health/live", get(live))
            .route("/health/ready", get(ready))
            .route("/health/started", get(started));
    }
    if state.metrics.is_some() {
        r = r.route("/metrics", get(metrics));
    }
    let r = r.with_state(state);
    if prefix == "/" {
        r
    } else {
        Router::new().nest(prefix, r)
    }
}

fn answer(up: bool, checks: Vec<serde_json::Value>) -> Response {
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({"status": if up { "UP" } else { "DOWN" }, "checks": checks});
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

async fn database_check(store: &Store) -> serde_json::Value {
    let ok = matches!(
        tokio::time::timeout(Duration::from_secs(2), store.ping()).await,
        Ok(Ok(()))
    );
    json!({"name": "Database connections health check", "status": if ok { "UP" } else { "DOWN" }})
}

async fn live() -> Response {
    answer(true, vec![])
}

async fn started(State(s): State<ManagementState>) -> Response {
    answer(s.started.load(Ordering::Acquire), vec![])
}

async fn ready(State(s): State<ManagementState>) -> Response {
    let db = database_check(&s.store).await;
    let up = db["status"] == "UP" && s.started.load(Ordering::Acquire);
    answer(up, vec![db])
}

async fn health_all(State(s): State<ManagementState>) -> Response {
    ready(State(s)).await
}

async fn metrics(State(s): State<ManagementState>) -> Response {
    match &s.metrics {
        Some(m) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            m.render(Some(s.store.pool_stats())),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
