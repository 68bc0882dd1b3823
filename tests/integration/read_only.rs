//! Read-only at every layer: the database refuses a configured write, and
//! hostile input through the whole API changes nothing.

use crate::support::gateway::{fixture_db, settings, spawn_app, spawn_app_with, TOKEN};
use crate::support::Vendor;
use reqwest::Method;
use serde_json::json;

on_every_vendor!(
    configured_write_query_is_refused_by_the_database,
    hostile_input_changes_nothing
);

async fn configured_write_query_is_refused_by_the_database(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let before = db.checksum().await;
    let write = "UPDATE users SET firstname = 'hacked' WHERE id = :id";
    let app = spawn_app_with(settings(&db, &[("user_by_id", write)])).await;

    let response = app.send(Method::GET, "/v1/users/u1", None).await;

    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body = response.text().await.expect("body");
    assert!(body.contains("errorId"), "{body}");
    assert!(
        !body.contains("UPDATE"),
        "SQL must not reach the client: {body}"
    );
    assert_eq!(
        db.checksum().await,
        before,
        "the database must be unchanged"
    );
    // The read paths that do not use the broken query still answer.
    let (status, user) = app.get("/v1/users/by-username/mmustermann").await;
    assert_eq!(status, 200);
    assert_eq!(user["firstName"], "Max");
}

/// Strings that would break naive SQL building.
const HOSTILE: &[&str] = &[
    "'; DROP TABLE users; --",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "u1'; UPDATE users SET username='owned' WHERE '1'='1",
    "%' OR 1=1 --",
    "\\'; DELETE FROM users; --",
    "*/ DROP TABLE realm_roles; /*",
    "\0",
    "💥 ünïcödé",
    "_%_%_%",
];

async fn hostile_input_changes_nothing(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let before = db.checksum().await;
    let app = spawn_app(&db).await;
    let huge = "x".repeat(8 * 1024);
    let mut statuses = Vec::new();

    for raw in HOSTILE.iter().copied().chain([huge.as_str()]) {
        let enc = urlencode(raw);
        for path in [
            format!("/v1/users/{enc}"),
            format!("/v1/users/by-username/{enc}"),
            format!("/v1/users/by-email/{enc}"),
            format!("/v1/users?search={enc}&first=0&max=5"),
            format!("/v1/users/count?search={enc}"),
        ] {
            statuses.push((
                path.clone(),
                app.send(Method::GET, &path, None).await.status().as_u16(),
            ));
        }
        let verify = format!("/v1/users/{enc}/verify-password");
        let status = app
            .send(Method::POST, &verify, Some(json!({ "password": raw })))
            .await
            .status();
        statuses.push((verify, status.as_u16()));
        let status = app
            .send(
                Method::POST,
                "/v1/users/u1/verify-password",
                Some(json!({ "password": raw })),
            )
            .await
            .status();
        statuses.push(("verify u1".into(), status.as_u16()));
    }
    for body in [
        "{",
        "[]",
        "{\"password\": 5}",
        "{\"password\": \"a\", \"extra\": 1}",
        "null",
        "\u{0}",
    ] {
        let response = app
            .client
            .post(format!("{}/v1/users/u1/verify-password", app.base))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("answered");
        assert!(
            response.status().is_client_error(),
            "malformed JSON {body:?}: {}",
            response.status()
        );
    }
    let oversized = json!({ "password": "p".repeat(1024 * 1024) });
    let response = app
        .send(
            Method::POST,
            "/v1/users/u1/verify-password",
            Some(oversized),
        )
        .await;
    assert_eq!(response.status(), 413);
    for method in [Method::PUT, Method::DELETE, Method::PATCH, Method::POST] {
        for path in [
            "/v1/users/u1",
            "/v1/users",
            "/v1/roles",
            "/v1/users/by-username/alice",
        ] {
            let status = app
                .send(method.clone(), path, Some(json!({"username": "owned"})))
                .await
                .status();
            assert_eq!(status, 405, "{method} {path}");
        }
    }
    for token in ["", "wrong", "' OR '1'='1", &format!("{TOKEN}x")] {
        let status = app
            .client
            .delete(format!("{}/v1/users/u1", app.base))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .expect("answered")
            .status();
        assert!(status == 401 || status == 405, "{status}");
    }

    let server_errors: Vec<_> = statuses.iter().filter(|(_, s)| *s >= 500).collect();
    assert!(
        server_errors.is_empty(),
        "hostile input must get 4xx, not 5xx: {server_errors:?}"
    );
    assert_eq!(
        db.checksum().await,
        before,
        "the database must be unchanged"
    );
    let (status, user) = app.get("/v1/users/by-username/mmustermann").await;
    assert_eq!(
        (status, user["username"].as_str()),
        (200, Some("mmustermann"))
    );
}

fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// MariaDB/MySQL make a session read-only once, per connection: a statement
/// that lifts it must not leave a writable connection in the pool.
#[tokio::test]
async fn a_mariadb_connection_that_lost_read_only_is_dropped() {
    let db = fixture_db(Vendor::MariaDb).await;
    let mut config = settings(&db, &[]);
    config.database.max_connections = 1;
    let pool = userstore_gateway::dialect::Pool::open(
        &config.database,
        userstore_gateway::dialect::Access::ReadOnly,
    )
    .expect("pool");
    let before = db.checksum().await;

    pool.execute_raw("SET SESSION TRANSACTION READ WRITE")
        .await
        .expect("the statement itself runs");
    let read_only = pool.session_read_only().await.expect("asks the database");
    let write = pool
        .execute_raw("UPDATE users SET firstname = 'hacked' WHERE id = 'u1'")
        .await;

    assert!(read_only, "the next connection taken is read-only again");
    assert!(write.is_err(), "and refuses the write");
    assert_eq!(db.checksum().await, before);
}
