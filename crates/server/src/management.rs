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
use portcullis_store::{RealmSessionCounts, Store};
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
    let Some(m) = &s.metrics else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut text = m.render(Some(s.store.pool_stats()));
    // Live sessions are read at scrape time (two grouped counts); a slow or failing database
    // leaves them out of this scrape rather than holding the scrape up.
    match tokio::time::timeout(Duration::from_secs(2), s.store.session_counts()).await {
        Ok(Ok(counts)) => text.push_str(&session_exposition(&counts)),
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics: session counts unavailable"),
        Err(_) => tracing::warn!("metrics: session counts timed out"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// A Prometheus label value: backslash, double quote and line feed escaped.
fn label_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The live-session gauges in Prometheus text format: SSO sessions per realm and client
/// sessions per realm and client.
pub fn session_exposition(counts: &[RealmSessionCounts]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    out.push_str("# HELP portcullis_sessions_active SSO sessions stored, per realm\n");
    out.push_str("# TYPE portcullis_sessions_active gauge\n");
    for c in counts {
        let _ = writeln!(
            out,
            "portcullis_sessions_active{{realm=\"{}\"}} {}",
            label_value(&c.realm),
            c.sessions
        );
    }
    out.push_str(
        "# HELP portcullis_client_sessions_active Client sessions stored, per realm and client\n",
    );
    out.push_str("# TYPE portcullis_client_sessions_active gauge\n");
    for c in counts {
        for (client, n) in &c.clients {
            let _ = writeln!(
                out,
                "portcullis_client_sessions_active{{realm=\"{}\",client_id=\"{}\"}} {}",
                label_value(&c.realm),
                label_value(client),
                n
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_gauges_in_text_format() {
        let counts = vec![
            RealmSessionCounts {
                realm: "master".into(),
                sessions: 2,
                clients: vec![("security-admin-console".into(), 2)],
            },
            RealmSessionCounts {
                realm: "a\"b\\c\nd".into(),
                sessions: 0,
                clients: vec![],
            },
        ];
        let text = session_exposition(&counts);
        assert!(text.contains("# TYPE portcullis_sessions_active gauge\n"));
        assert!(text.contains("portcullis_sessions_active{realm=\"master\"} 2\n"));
        assert!(text.contains(
            "portcullis_client_sessions_active{realm=\"master\",client_id=\"security-admin-console\"} 2\n"
        ));
        assert!(
            text.contains("portcullis_sessions_active{realm=\"a\\\"b\\\\c\\nd\"} 0\n"),
            "{text}"
        );
    }
}
