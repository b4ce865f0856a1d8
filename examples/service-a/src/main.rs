//! `service-a` — the demo service.
//!
//! ```text
//! service-a                          serve (SERVICE_ADDR, default 127.0.0.1:8000)
//! service-a set-local-password USER  set a superuser's break-glass password (read from
//!                                    the LOCAL_PASSWORD variable or the first line of stdin)
//! ```
//! Configuration: `KIT_CONFIG` (default `examples/service-a/service-a.json`) and the kit's
//! environment variables (see `portcullis_kit::config`).

use portcullis_kit::{Kit, KitConfig};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("service-a: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = KitConfig::from_sources(|k| match k {
        "KIT_CONFIG" => Some(
            std::env::var("KIT_CONFIG")
                .unwrap_or_else(|_| "examples/service-a/service-a.json".to_owned()),
        ),
        other => std::env::var(other).ok(),
    })?;
    let kit = Kit::connect(config).await?;
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["serve"] => serve(kit).await,
        ["set-local-password", user] => {
            let password = match std::env::var("LOCAL_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let u = kit.set_local_password(user, &password).await?;
            println!("break-glass password set for superuser {}", u.username);
            Ok(())
        }
        _ => Err("usage: service-a [serve | set-local-password USER]".into()),
    }
}

async fn serve(kit: Kit) -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::var("SERVICE_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("service-a listening on http://{addr}");
    let purge = kit.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(300)).await;
            if let Err(e) = purge.purge().await {
                tracing::warn!(error = %e, "purge failed");
            }
        }
    });
    axum::serve(listener, service_a::app(&kit))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
