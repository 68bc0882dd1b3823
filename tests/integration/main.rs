//! The integration tests, one binary (each binary links the whole dependency
//! tree): every route on SQLite, PostgreSQL and MariaDB, read-only proofs,
//! auth and logs, the CLI, TLS, timeouts, the repository's own files, and the
//! test harness itself. Each module is one area.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod api;
mod auth_and_logs;
mod cli;
mod harness_selftest;
mod hashes;
mod import_clerk;
mod plans;
mod read_only;
mod repo_files;
mod search;
mod timeouts;
mod tls;
