//! The Portcullis server as a library (the `portcullis` binary is a thin `main` over it), so
//! integration tests and benchmarks can start the real server in-process or as a process.
//!
//! Module map: `config` (kc.sh-style options), `run` (the commands), `app` (public HTTP
//! routes), `management` (health and metrics port), `realms` (import/export I/O),
//! `bootstrap` (first admin), `telemetry` (logs, metrics), `error` (5xx answers).

pub mod app;
pub mod bootstrap;
pub mod config;
pub mod error;
pub mod management;
pub mod oidc;
pub mod realms;
pub mod run;
pub mod telemetry;
pub mod theme;
