//! The statement timeout is enforced by the database itself on PostgreSQL
//! and MariaDB, and the gateway answers 503 instead of waiting.

use std::time::{Duration, Instant};

use crate::support::gateway::{fixture_db, settings, spawn_app_with};
use crate::support::Vendor;

const COLUMNS: &str =
    "id, username, email, firstname, lastname, email_verified, createdtimestamp, password_hash";

async fn slow_query_is_cancelled(vendor: Vendor, sleep: &str) {
    let db = fixture_db(vendor).await;
    let slow = format!("SELECT {COLUMNS} FROM users WHERE id = :id AND {sleep} IS NOT NULL");
    let mut config = settings(&db, &[("user_by_id", &slow)]);
    config.database.statement_timeout_ms = 500;
    config.database.acquire_timeout_ms = 500;
    let app = spawn_app_with(config).await;

    let started = Instant::now();
    let (status, body) = app.get("/v1/users/u1").await;
    let took = started.elapsed();

    assert_eq!(status, 503, "{body}");
    assert!(
        took < Duration::from_secs(3),
        "cancelled by the statement timeout, not after the 5 s sleep: {took:?}"
    );
    let (status, _) = app.get("/v1/users/by-username/mmustermann").await;
    assert_eq!(status, 200, "other queries are unaffected");
}

#[tokio::test]
async fn postgres_cancels_statements_over_the_timeout() {
    slow_query_is_cancelled(Vendor::Postgres, "pg_sleep(5)").await;
}

#[tokio::test]
async fn mariadb_cancels_statements_over_the_timeout() {
    slow_query_is_cancelled(Vendor::MariaDb, "SLEEP(5)").await;
}
