//! Two gateway processes behind one component (`gatewayUrl` lists both):
//! logins spread over them, and go on without a failure while one is
//! killed and restarted.

use std::time::{Duration, Instant};

use super::roles;
use crate::support::faults::GatewayProcess;
use crate::support::gateway::{fixture_db, TOKEN};
use crate::support::keycloak::{claims, keycloak, Keycloak, Realm};
use crate::support::Vendor;
use serde_json::json;

/// The breaker's cool-down in this test.
const COOLDOWN: Duration = Duration::from_millis(2000);

/// Password checks a gateway answered as valid so far (its own counter, so
/// it starts from 0 again after a restart).
async fn valid_checks(gateway: &GatewayProcess) -> f64 {
    let text = reqwest::get(format!("{}/metrics", gateway.base()))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .filter(|l| l.starts_with("userstore_gateway_password_checks_total{"))
        .filter(|l| l.contains("outcome=\"valid\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `count` password-grant logins of mmustermann, each of which must succeed
/// with the roles from the database.
async fn logins(kc: &Keycloak, realm: &Realm, count: usize, phase: &str) {
    for i in 0..count {
        let (status, token) = kc.login(realm, "mmustermann", "B1Systems!").await;
        assert_eq!(status, 200, "{phase}: login {i} failed: {token}");
        assert_eq!(
            roles(&claims(&token), &["resource_access", "testclient", "roles"]),
            ["admin"],
            "{phase}: login {i}"
        );
    }
}

async fn browser_login(kc: &Keycloak, realm: &Realm, phase: &str) {
    let token = kc
        .browser_login(realm, "mmustermann", "B1Systems!")
        .await
        .unwrap_or_else(|| panic!("{phase}: the login form did not let mmustermann in"));
    let realm_roles = roles(&claims(&token), &["realm_access", "roles"]);
    assert!(
        realm_roles.contains(&"testrole".to_owned()) && realm_roles.contains(&"user".to_owned()),
        "{phase}: {realm_roles:?}"
    );
}

#[tokio::test]
async fn logins_go_on_while_one_of_two_gateways_is_killed_and_restarted() {
    let db = fixture_db(Vendor::Postgres).await;
    let before = db.checksum().await;
    let toml = format!(
        "[database]\nurl = \"{}\"\nmax_connections = 4\n[auth]\napi_tokens = [\"{TOKEN}\"]\n",
        db.url()
    );
    let mut first = GatewayProcess::start(&toml);
    let second = GatewayProcess::start(&toml);
    let kc = keycloak().await;
    let urls = format!("{}, {}", first.base(), second.base());
    let cooldown = COOLDOWN.as_millis().to_string();
    let realm = kc
        .realm_with(
            &urls,
            TOKEN,
            &[
                ("connectTimeoutMs", "1000"),
                ("breakerFailureThreshold", "2"),
                ("breakerCooldownMs", &cooldown),
            ],
            json!({}),
        )
        .await;

    // Both up: each serves a share of 20 logins.
    logins(kc, &realm, 20, "both up").await;
    browser_login(kc, &realm, "both up").await;
    let (a, b) = (valid_checks(&first).await, valid_checks(&second).await);
    assert_eq!(a + b, 21.0, "every login checked its password once");
    assert!(a >= 5.0 && b >= 5.0, "shares: {a} and {b}");

    // The first one killed: no login fails, the breaker opens for it and
    // the second one serves them all.
    first.kill();
    let served_before = valid_checks(&second).await;
    logins(kc, &realm, 20, "first gateway killed").await;
    browser_login(kc, &realm, "first gateway killed").await;
    assert_eq!(valid_checks(&second).await - served_before, 21.0);
    let opened = kc
        .log_text()
        .lines()
        .any(|l| l.contains("WARN") && l.contains("circuit") && l.contains(&first.base()));
    assert!(
        opened,
        "Keycloak logs that the first gateway's circuit opened"
    );

    // Restarted: after the cool-down its probe closes the circuit and it
    // serves again, and still no login fails meanwhile.
    first.restart();
    let deadline = Instant::now() + COOLDOWN + Duration::from_secs(20);
    while valid_checks(&first).await == 0.0 {
        assert!(
            Instant::now() < deadline,
            "the restarted gateway gets no logins again"
        );
        logins(kc, &realm, 1, "first gateway restarted").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (a0, b0) = (valid_checks(&first).await, valid_checks(&second).await);
    logins(kc, &realm, 20, "both up again").await;
    let (a1, b1) = (valid_checks(&first).await, valid_checks(&second).await);
    assert!(
        a1 - a0 >= 5.0 && b1 - b0 >= 5.0,
        "shares again: {} and {}",
        a1 - a0,
        b1 - b0
    );
    assert_eq!(
        db.checksum().await,
        before,
        "the user database is unchanged"
    );
}
