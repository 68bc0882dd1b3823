//! `import-clerk` end to end on every vendor: a generated Clerk export (see
//! `tests/support/clerk_export.rs`) becomes a script, the script is loaded
//! as a DBA would load it (`psql -f` on PostgreSQL; one multi-statement run
//! on MariaDB and SQLite), and the gateway serves it with
//! `docs/clerk/gateway.toml` as shipped, database URL and token from the
//! environment: `check --strict` passes (every lookup and search index
//! served), banned users are disabled in lookups and searches alike, the
//! imported attributes are served and the old passwords verify.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::clerk_export;
use crate::support::faults::GatewayProcess;
use crate::support::gateway::TOKEN;
use crate::support::{TestDb, Vendor};

const BIN: &str = env!("CARGO_BIN_EXE_userstore-gateway");
const CONFIG: &str = "docs/clerk/gateway.toml";

on_every_vendor!(an_imported_export_is_served_as_shipped);

fn dialect(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Postgres => "postgres",
        Vendor::MariaDb => "mysql",
        Vendor::Sqlite => "sqlite",
    }
}

async fn load(db: &TestDb, script: &str, dir: &Path) {
    match db.vendor() {
        Vendor::Postgres => clerk_export::load_with_psql(db.url(), script, dir),
        _ => db.run_script(script).await,
    }
}

async fn get(client: &reqwest::Client, url: String) -> Value {
    let response = client
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.expect("json")
}

async fn an_imported_export_is_served_as_shipped(vendor: Vendor) {
    // 200 users, as in the Keycloak test: at a few dozen analyzed rows
    // PostgreSQL prefers walking an index with a filter to combining the
    // reference indexes, and `check --strict` says so.
    let users = clerk_export::users(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let (sql, summary) = clerk_export::run_import(&users, dir.path(), dialect(vendor));
    assert!(summary.contains("200 users written"), "{summary}");
    assert!(
        summary.contains("without a usable password"),
        "the summary counts users without a usable password: {summary}"
    );
    let db = TestDb::new(vendor).await;
    load(&db, &sql, dir.path()).await;
    let before = db.checksum().await;
    let env = [
        ("USERSTORE_GATEWAY__DATABASE__URL", db.url()),
        ("USERSTORE_GATEWAY__AUTH__API_TOKENS", TOKEN),
    ];

    let check = Command::new(BIN)
        .args(["check", "--strict", "--config", CONFIG])
        .envs(env)
        .output()
        .expect("check runs");
    let report = String::from_utf8_lossy(&check.stdout).into_owned()
        + &String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "check --strict:\n{report}");
    assert!(!report.contains("WARN"), "{report}");

    let config = std::fs::read_to_string(CONFIG).expect("shipped config");
    let gateway = GatewayProcess::start_with_env(&config, &env);
    let base = gateway.base();
    let client = reqwest::Client::new();

    let banned = users.iter().find(|u| u.banned).expect("banned user");
    let looked_up = get(
        &client,
        format!("{base}/v1/users/by-username/{}", banned.login()),
    )
    .await;
    assert_eq!(looked_up["enabled"], false, "{looked_up}");
    assert_eq!(looked_up["attributes"]["clerk_id"][0], banned.id.as_str());
    assert_eq!(looked_up["attributes"]["migrated_from"][0], "clerk");
    let found = get(
        &client,
        format!("{base}/v1/users?search={}", banned.login()),
    )
    .await;
    let listed = &found["users"][0];
    assert_eq!(listed["id"], banned.id.as_str(), "{found}");
    assert_eq!(listed["enabled"], false, "a search shows the ban too");

    let two = users
        .iter()
        .find(|u| u.emails.len() == 2)
        .expect("two addresses");
    let by_email = get(
        &client,
        format!("{base}/v1/users/by-email/{}", two.emails[0]),
    )
    .await;
    assert_eq!(by_email["id"], two.id.as_str());
    let others = by_email["attributes"]["other_email"].to_string();
    assert!(others.contains(&two.emails[1]), "{by_email}");

    let counted = get(&client, format!("{base}/v1/users/count?search=*")).await;
    assert_eq!(counted["count"], 200);

    for user in users
        .iter()
        .filter(|u| u.password.is_some() && !u.banned)
        .take(24)
    {
        let answer: Value = client
            .post(format!("{base}/v1/users/{}/verify-password", user.id))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({"password": user.password}))
            .send()
            .await
            .expect("answered")
            .json()
            .await
            .expect("json");
        let hasher = &user.digest.as_ref().expect("digest").0;
        assert_eq!(answer["valid"], true, "{hasher} for {}", user.id);
    }
    let oauth = users
        .iter()
        .find(|u| u.digest.is_none())
        .expect("OAuth-only");
    let profile = get(&client, format!("{base}/v1/users/{}", oauth.id)).await;
    assert_eq!(profile["hasUsablePassword"], false);

    assert_eq!(
        db.checksum().await,
        before,
        "the gateway wrote to the database"
    );
}
