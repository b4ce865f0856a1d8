//! The `portcullis` binary: parse the `kc.sh`-style command line and run it.

use std::process::ExitCode;

fn main() -> ExitCode {
    let invocation = match portcullis_server::config::from_process() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("ERROR: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(settings) = invocation.settings() {
        portcullis_server::telemetry::init_logging(&settings.log);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ERROR: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(portcullis_server::run::dispatch(invocation)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("ERROR: {e:#}");
            ExitCode::FAILURE
        }
    }
}
