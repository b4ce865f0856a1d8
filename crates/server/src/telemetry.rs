//! Logs and metrics: the tracing subscriber from `--log-level` / `--log-console-output`, and the
//! Prometheus recorder behind `/metrics` (process, HTTP requests by route and status, database
//! pool).

use crate::config::{LogOutput, LogSettings};
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::time::Instant;
use tracing_subscriber::EnvFilter;

/// Install the global subscriber. Safe to call once per process; later calls are ignored.
pub fn init_logging(log: &LogSettings) {
    let filter =
        EnvFilter::try_new(log.filter_directive()).unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match log.output {
        LogOutput::Json => builder.json().flatten_event(true).try_init(),
        LogOutput::Default => builder.try_init(),
    };
}

/// The Prometheus recorder; `None` when metrics are disabled.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    process: std::sync::Arc<metrics_process::Collector>,
}

impl Metrics {
    /// Install the global recorder (once per process).
    pub fn install() -> anyhow::Result<Metrics> {
        static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
        let handle = match HANDLE.get() {
            Some(h) => h.clone(),
            None => {
                let h = PrometheusBuilder::new()
                    .set_buckets_for_metric(
                        metrics_exporter_prometheus::Matcher::Full(
                            "http_server_requests_seconds".into(),
                        ),
                        &[
                            0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                        ],
                    )?
                    .install_recorder()?;
                let _ = HANDLE.set(h.clone());
                h
            }
        };
        let process = metrics_process::Collector::default();
        process.describe();
        Ok(Metrics {
            handle,
            process: std::sync::Arc::new(process),
        })
    }

    /// The Prometheus text exposition, with process and pool figures taken now.
    pub fn render(&self, pool: Option<portcullis_store::PoolStats>) -> String {
        self.process.collect();
        if let Some(p) = pool {
            metrics::gauge!("portcullis_db_pool_connections", "state" => "idle")
                .set(f64::from(p.idle));
            metrics::gauge!("portcullis_db_pool_connections", "state" => "active")
                .set(f64::from(p.size.saturating_sub(p.idle)));
            metrics::gauge!("portcullis_db_pool_connections_max").set(f64::from(p.max));
        }
        self.handle.render()
    }
}

/// Middleware: one histogram sample per request, labelled by route template and status.
pub async fn track_requests(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "UNKNOWN".to_owned());
    let response = next.run(req).await;
    let status = response.status();
    let outcome = match status.as_u16() {
        100..=199 => "INFORMATIONAL",
        200..=299 => "SUCCESS",
        300..=399 => "REDIRECTION",
        400..=499 => "CLIENT_ERROR",
        _ => "SERVER_ERROR",
    };
    metrics::histogram!(
        "http_server_requests_seconds",
        "method" => method,
        "uri" => route,
        "status" => status.as_u16().to_string(),
        "outcome" => outcome
    )
    .record(start.elapsed().as_secs_f64());
    response
}
