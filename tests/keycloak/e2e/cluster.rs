//! Two Keycloak nodes clustered the way Keycloak 26 clusters by default
//! (production `start`, one PostgreSQL database for both, Infinispan with
//! jdbc-ping discovery) in front of the gateway, with the documented realm
//! file imported at startup.

use std::path::Path;
use std::time::{Duration, Instant};

use super::roles;
use crate::support::gateway::{fixture_db, settings, spawn_app_with, TOKEN};
use crate::support::keycloak::{
    claims, cluster_node, production_home, Keycloak, Realm, REALM_IMPORT,
};
use crate::support::{TestDb, Vendor};
use reqwest::Method;
use serde_json::{json, Value};

/// The gateway's request counter, labelled by route, method and status.
const REQUESTS: &str = "userstore_gateway_http_requests_total";

/// `postgres://user:password@host:port/name` as (JDBC URL, user, password).
fn jdbc(url: &str) -> (String, String, String) {
    let url = reqwest::Url::parse(url).expect("database URL");
    (
        format!(
            "jdbc:postgresql://{}:{}{}",
            url.host_str().expect("host"),
            url.port().unwrap_or(5432),
            url.path()
        ),
        url.username().to_owned(),
        url.password().unwrap_or_default().to_owned(),
    )
}

/// Waits up to 90 s until the node's log shows a cluster view of two members.
async fn wait_for_two_members(node: &Keycloak, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let joined = node
            .log_text()
            .lines()
            .any(|l| l.contains("ISPN000094") && l.contains("(2)"));
        if joined {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name} saw no cluster view of two members:\n{}",
            node.log_text()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Polls a password-grant login of mmustermann through `node` until its
/// success is `want`, for at most 60 s.
async fn until_login_is(node: &Keycloak, realm: &Realm, want: bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, _) = node.login(realm, "mmustermann", "B1Systems!").await;
        if (status == 200) == want {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still {status}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn logs_in_both_ways(node: &Keycloak, realm: &Realm, name: &str) -> Value {
    let (status, token) = node.login(realm, "mmustermann", "B1Systems!").await;
    assert_eq!(status, 200, "{name}: {token}");
    assert_eq!(
        roles(&claims(&token), &["resource_access", "testclient", "roles"]),
        ["admin"],
        "{name}"
    );
    let browser = node
        .browser_login(realm, "mmustermann", "B1Systems!")
        .await
        .unwrap_or_else(|| panic!("{name}: the login form did not let mmustermann in"));
    assert_eq!(
        roles(
            &claims(&browser),
            &["resource_access", "testclient", "roles"]
        ),
        ["admin"],
        "{name}"
    );
    token
}

/// Refreshes `token`, issued by `issuer`, through `node`, as a load balancer
/// in front of both would: with the issuer's Host header, so that both
/// nodes derive the same issuer from the request (no fixed hostname is
/// configured); the new tokens.
async fn refresh_through(node: &Keycloak, issuer: &Keycloak, token: &Value) -> Value {
    let host = issuer
        .base
        .strip_prefix("http://")
        .expect("an http:// base URL");
    let response = reqwest::Client::new()
        .post(format!(
            "{}/realms/legacy/protocol/openid-connect/token",
            node.base
        ))
        .header(reqwest::header::HOST, host)
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "testclient"),
            (
                "refresh_token",
                token["refresh_token"].as_str().expect("refresh_token"),
            ),
        ])
        .send()
        .await
        .expect("token endpoint answers");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "refresh through the other node: {body}");
    body
}

#[tokio::test]
async fn two_clustered_nodes_share_the_realm_its_sessions_and_its_component() {
    let db = fixture_db(Vendor::Postgres).await;
    let before = db.checksum().await;
    let gateway = spawn_app_with(settings(&db, &[])).await;
    let keycloak_db = TestDb::new(Vendor::Postgres).await;
    let (url, user, password) = jdbc(keycloak_db.url());
    let built = tokio::task::spawn_blocking(production_home)
        .await
        .expect("build");
    let realm_file = Path::new(env!("CARGO_MANIFEST_DIR")).join(REALM_IMPORT);
    let env = [
        ("USERSTORE_GATEWAY_URL", gateway.base.as_str()),
        ("USERSTORE_GATEWAY_TOKEN", TOKEN),
    ];
    // The first node makes Keycloak's schema and imports the realm; the
    // second joins it.
    let a = cluster_node(&built, (&url, &user, &password), &[realm_file], &env).await;
    let b = cluster_node(&built, (&url, &user, &password), &[], &env).await;
    wait_for_two_members(&a, "node A").await;
    wait_for_two_members(&b, "node B").await;
    let realm = Realm {
        name: "legacy".to_owned(),
        component_id: String::new(),
    };

    // Logins through either node; a session made on one is known to the
    // other and usable there.
    let token_a = logs_in_both_ways(&a, &realm, "node A").await;
    logs_in_both_ways(&b, &realm, "node B").await;
    let sid = claims(&token_a)["sid"]
        .as_str()
        .expect("session id")
        .to_owned();
    let user_id = b.user_id("legacy", "mmustermann").await;
    let sessions = b
        .admin(
            Method::GET,
            &format!("/legacy/users/{user_id}/sessions"),
            None,
        )
        .await;
    assert!(
        sessions
            .body
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["id"] == json!(sid)),
        "node B knows node A's session {sid}: {}",
        sessions.body
    );
    let refreshed = refresh_through(&b, &a, &token_a).await;
    assert_eq!(
        claims(&refreshed)["sid"],
        json!(sid),
        "node B refreshes node A's session"
    );

    // The missing role is warned about once per node.
    for node in [&a, &b] {
        for _ in 0..3 {
            let (status, token) = node.login(&realm, "alice", "alice-pass").await;
            assert_eq!(status, 200, "{token}");
        }
    }
    for (node, name) in [(&a, "node A"), (&b, "node B")] {
        let warnings = node
            .log_text()
            .lines()
            .filter(|l| l.contains("WARN") && l.contains("'alice'") && l.contains("'auditor'"))
            .count();
        assert_eq!(warnings, 1, "{name} warns once of the missing role");
    }

    // A component change made on node A is in effect on node B.
    let components = a
        .admin(
            Method::GET,
            "/legacy/components?type=org.keycloak.storage.UserStorageProvider",
            None,
        )
        .await;
    let mut component = components.body[0].clone();
    let id = component["id"].as_str().expect("component id").to_owned();
    assert_eq!(component["config"]["gatewayUrl"], json!([gateway.base]));
    component["config"]["apiToken"] = json!(["not-the-token"]);
    let changed = a
        .admin(
            Method::PUT,
            &format!("/legacy/components/{id}"),
            Some(component.clone()),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    let refused_before = gateway.metric(REQUESTS, "status=\"401\"").await;
    until_login_is(&b, &realm, false, "node B with the wrong token").await;
    assert!(
        gateway.metric(REQUESTS, "status=\"401\"").await > refused_before,
        "the gateway refused node B's calls with the wrong token"
    );
    component["config"]["apiToken"] = json!([TOKEN]);
    let restored = a
        .admin(
            Method::PUT,
            &format!("/legacy/components/{id}"),
            Some(component),
        )
        .await;
    assert_eq!(restored.status, 204, "{}", restored.body);
    until_login_is(&b, &realm, true, "node B with the token back").await;

    assert_eq!(
        db.checksum().await,
        before,
        "the user database is unchanged"
    );
}
