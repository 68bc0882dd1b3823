//! userstore-gateway: a strictly read-only HTTP gateway that lets Keycloak
//! federate users from an existing SQL database.
//!
//! A tour, from the outside in:

/// Startup: `build(settings)` and `App::serve(listener, shutdown)`.
pub mod app;
/// The `check` subcommand: config, connectivity, queries, read-only proof, plans that scan.
pub mod check;
/// The `demo` subcommand: an embedded SQLite database with demo users.
pub mod demo;
/// PostgreSQL / MariaDB / SQLite differences: placeholders, read-only sessions, row decoding, plans.
pub mod dialect;
/// The change feed: which users changed after a cursor, long-polled.
pub mod feed;
/// HTTP routes, auth, problem+json errors and the OpenAPI document.
pub mod http;
/// The `import-clerk` subcommand: Clerk's user exports as one SQL script for a DBA to run.
pub mod import;
/// Per-app Prometheus metrics.
pub mod metrics;
/// Stored password hashes of every scheme: parsing, constant-time verification, makers.
pub mod password;
/// Typed configuration from TOML and environment.
pub mod settings;
/// The configured queries and the user, role and credential reads built on them.
pub mod store;
/// Logging setup.
pub mod telemetry;
/// HTTPS and mutual TLS with rustls.
pub mod tls;
/// Password verification policy: dummy work, limits, bounded hashing threads.
pub mod verify;
