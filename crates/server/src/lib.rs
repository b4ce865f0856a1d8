//! The Portcullis server as a library (the `portcullis` binary is a thin `main` over it), so
//! integration tests and benchmarks can start the real server in-process or as a process.
//!
//! Module map: `config` (kc.sh-style options), `run` (the commands), `app` (public HTTP
//! routes), `admin` (the admin REST API), `console` (the web admin console), `account` (the account console and REST API), `management` (health and metrics port), `realms` (import/export I/O),
//! `bootstrap` (first admin), `telemetry` (logs, metrics), `error` (5xx answers), `mail` (SMTP).

// Handlers answer early with a ready `Response` as the error of a helper (`Result<T, Response>`);
// boxing it would only add an allocation on the error path.
#![allow(clippy::result_large_err)]

pub mod account;
pub mod admin;
pub mod app;
pub mod bootstrap;
pub mod cache;
pub mod clock;
pub mod config;
pub mod console;
pub mod error;
pub mod events;
pub mod housekeeping;
pub mod mail;
pub mod management;
pub mod oidc;
pub mod password_blacklist;
pub mod realms;
pub mod run;
pub mod telemetry;
pub mod theme;
