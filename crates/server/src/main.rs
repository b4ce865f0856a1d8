//! The `portcullis` binary: parse the `kc.sh`-style command line and run it.

use std::process::ExitCode;

fn main() -> ExitCode {
    tune_allocator();
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

/// Keep idle memory low after password hashing. Each argon2 hash allocates 7 MiB; glibc's
/// malloc raises its mmap threshold after the first such block is freed and then serves the
/// next ones from arenas it never returns, so a start-up import that hashes in parallel would
/// leave tens of megabytes resident. A fixed threshold keeps those blocks mmapped: freed at
/// once, back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: mallopt only changes allocator tuning; it is called first thing in main, before
    // any other thread exists, with a documented parameter and a valid value.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
