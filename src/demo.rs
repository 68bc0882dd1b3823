//! `demo`: the gateway on an embedded SQLite database with the reference
//! schema and demo users, for a first look without any setup.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app;
use crate::dialect::{Access, Pool};
use crate::settings::{
    AuthSettings, DatabaseSettings, HashingSettings, Secret, ServerSettings, Settings,
};

/// The schema the demo database is created with.
pub const SCHEMA_SQL: &str = include_str!("../migrations/sqlite/0001_reference_schema.sql");
/// The demo users, roles and their links.
pub const SEED_SQL: &str = include_str!("../migrations/seed/demo.sql");
/// The demo's fixed API token; the demo listens on loopback only by default.
pub const DEMO_TOKEN: &str = "demo-token";

/// Creates the demo database in a temporary directory, serves it read-only
/// on `listen` and prints how to try it. Runs until SIGTERM or Ctrl-C.
pub async fn run(listen: SocketAddr) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("userstore-gateway-demo-")
        .tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let database = DatabaseSettings {
        url: Secret::new(url),
        max_connections: 4,
        acquire_timeout_ms: 3_000,
        statement_timeout_ms: 5_000,
        enabled_column: false,
    };
    seed(&database)
        .await
        .context("creating the demo database")?;

    let settings = Settings {
        server: ServerSettings {
            listen,
            ..ServerSettings::default()
        },
        database,
        auth: AuthSettings {
            api_tokens: vec![Secret::new(DEMO_TOKEN)],
        },
        queries: Default::default(),
        hashing: HashingSettings::default(),
        changes: Default::default(),
    };
    let app = app::build(&settings)?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    println!("{}", banner(address));
    app.serve(listener, app::shutdown_signal()).await?;
    Ok(())
}

async fn seed(database: &DatabaseSettings) -> anyhow::Result<()> {
    let pool = Pool::open(database, Access::Writable)?;
    pool.execute_raw(SCHEMA_SQL).await?;
    pool.execute_raw(SEED_SQL).await?;
    pool.close().await;
    Ok(())
}

/// What the demo prints on start: address, token and examples to paste.
pub fn banner(address: SocketAddr) -> String {
    let base = format!("http://{address}");
    let auth = format!("-H 'Authorization: Bearer {DEMO_TOKEN}'");
    [
        "userstore-gateway demo: an embedded SQLite database with the reference schema and 4 demo users.".to_owned(),
        format!("  listening on {base} (read-only)"),
        format!("  API token:   {DEMO_TOKEN}"),
        String::new(),
        "Try:".to_owned(),
        format!("  curl -s {auth} {base}/v1/users/by-username/mmustermann"),
        format!("  curl -s {auth} '{base}/v1/users?search=j&max=10'"),
        format!("  curl -s {auth} {base}/v1/users/count"),
        format!("  curl -s {auth} -H 'Content-Type: application/json' -d '{{\"password\":\"B1Systems!\"}}' {base}/v1/users/1/verify-password"),
        format!("  curl -s {auth} {base}/v1/roles"),
        String::new(),
        "Press Ctrl-C to stop.".to_owned(),
    ]
    .join("\n")
}
