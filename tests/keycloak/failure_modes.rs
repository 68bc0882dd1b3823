//! What users see when things fail, on the real stack: Keycloak with the
//! provider, the gateway as a process, and a PostgreSQL of the test's own.
//! Scenarios run one at a time (a lock), so that the time bounds measure
//! the product and not a neighbour test.

use std::time::{Duration, Instant};

use crate::support::certs::{write, Ca};
use crate::support::faults::{FaultyPg, GatewayProcess};
use crate::support::gateway::{fixture_db, settings, spawn_app_with, FIXTURE, TOKEN};
use crate::support::keycloak::{keycloak, refused_login_status, Keycloak, Realm};
use crate::support::Vendor;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::Mutex;
use userstore_gateway::settings::TlsSettings;

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// The provider's request timeout in these tests.
const REQUEST_TIMEOUT: Duration = Duration::from_millis(2500);
/// The breaker's cool-down in these tests.
const COOLDOWN_MS: &str = "3000";

const SCHEMA: &str = include_str!("../../migrations/postgres/0001_reference_schema.sql");

struct Stack {
    pg: FaultyPg,
    gateway: GatewayProcess,
    kc: &'static Keycloak,
    realm: Realm,
}

async fn stack() -> Stack {
    let pg = FaultyPg::start_new();
    pg.run_script(SCHEMA).await;
    pg.run_script(FIXTURE).await;
    let gateway = GatewayProcess::start(&format!(
        "[database]\nurl = \"{}\"\nmax_connections = 4\nacquire_timeout_ms = 1000\nstatement_timeout_ms = 1000\n\
         [auth]\napi_tokens = [\"{TOKEN}\"]\n",
        pg.url()
    ));
    let kc = keycloak().await;
    let timeout = REQUEST_TIMEOUT.as_millis().to_string();
    let realm = kc
        .realm_with(
            &gateway.base(),
            TOKEN,
            &[
                ("connectTimeoutMs", "1000"),
                ("requestTimeoutMs", &timeout),
                ("breakerFailureThreshold", "2"),
                ("breakerCooldownMs", COOLDOWN_MS),
            ],
            json!({}),
        )
        .await;
    Stack {
        pg,
        gateway,
        kc,
        realm,
    }
}

impl Stack {
    /// A federated login: success and how long it took.
    async fn login(&self) -> (bool, Duration) {
        let started = Instant::now();
        let (status, _) = self
            .kc
            .login(&self.realm, "mmustermann", "B1Systems!")
            .await;
        (status == 200, started.elapsed())
    }

    /// Federated logins fail within the request timeout plus 1 s; once the
    /// breaker is open they fail in well under the timeout.
    async fn assert_fails_then_fails_fast(&self) {
        for attempt in 0..3 {
            let (ok, took) = self.login().await;
            assert!(
                !ok,
                "login {attempt} must fail while the dependency is down"
            );
            assert!(
                took < REQUEST_TIMEOUT + Duration::from_secs(1),
                "login {attempt} took {took:?}"
            );
        }
        let (ok, took) = self.login().await;
        assert!(!ok);
        assert!(
            took < REQUEST_TIMEOUT / 2,
            "with the breaker open a login fails fast, took {took:?}"
        );
        assert!(
            self.kc.log_text().lines().any(|l| l.contains("WARN")
                && l.contains("circuit")
                && l.contains(&self.gateway.base())),
            "Keycloak logs that the breaker opened"
        );
    }

    /// The local admin logs in and the Admin API answers.
    async fn assert_keycloak_itself_works(&self) {
        let realm = self
            .kc
            .admin(Method::GET, &format!("/{}", self.realm.name), None)
            .await;
        assert_eq!(realm.status, 200, "the Admin API answers");
    }

    /// After recovery, federated logins work again within 10 s.
    async fn assert_recovers_within_10_s(&self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if self.login().await.0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("federated logins did not work again within 10 s");
    }

    async fn ready(&self) -> u16 {
        reqwest::get(format!("{}/readyz", self.gateway.base()))
            .await
            .map_or(0, |r| r.status().as_u16())
    }
}

#[tokio::test]
async fn gateway_killed_then_restarted() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut s = stack().await;
    let before = s.pg.checksum().await;
    assert!(s.login().await.0, "works before the fault");

    s.gateway.kill();
    s.assert_fails_then_fails_fast().await;
    s.assert_keycloak_itself_works().await;
    s.gateway.restart();
    s.assert_recovers_within_10_s().await;

    assert_eq!(s.pg.checksum().await, before);
}

#[tokio::test]
async fn database_stopped_then_started() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let s = stack().await;
    let before = s.pg.checksum().await;
    assert!(s.login().await.0);
    assert_eq!(s.ready().await, 200);

    s.pg.stop();
    assert_eq!(s.ready().await, 503, "readiness follows the database down");
    s.assert_fails_then_fails_fast().await;
    s.assert_keycloak_itself_works().await;
    s.pg.start();
    let started = Instant::now();
    while s.ready().await != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "readiness follows the database back up"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.assert_recovers_within_10_s().await;

    assert_eq!(s.pg.checksum().await, before);
}

#[tokio::test]
async fn database_hung_then_resumed() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let s = stack().await;
    let before = s.pg.checksum().await;
    assert!(s.login().await.0);

    s.pg.pause();
    // Direct requests: each ends within the gateway's own bound (acquire
    // 1 s + statement 1 s + 1 s margin), with 503, however many are waiting.
    let client = reqwest::Client::new();
    let started = Instant::now();
    let requests = (0..12).map(|i| {
        let client = client.clone();
        let url = format!("{}/v1/users/by-username/user{i}", s.gateway.base());
        async move {
            client
                .get(url)
                .bearer_auth(TOKEN)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    });
    let statuses = futures_util::future::join_all(requests).await;
    let took = started.elapsed();
    assert!(
        statuses.iter().all(|s| matches!(s, Ok(503))),
        "{statuses:?}"
    );
    assert!(
        took < Duration::from_secs(4) + Duration::from_secs(1),
        "took {took:?}"
    );
    let health = client
        .get(format!("{}/healthz", s.gateway.base()))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200, "the gateway itself stays responsive");
    let metrics = client
        .get(format!("{}/metrics", s.gateway.base()))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let open: f64 = metrics
        .lines()
        .find(|l| l.starts_with("userstore_gateway_db_connections{state=\"open\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .expect("connection gauge");
    assert!(
        open <= 4.0,
        "in-flight database work stays within the pool: {open}"
    );
    s.assert_fails_then_fails_fast().await;
    s.assert_keycloak_itself_works().await;

    s.pg.resume();
    s.assert_recovers_within_10_s().await;
    assert_eq!(s.pg.checksum().await, before);
}

#[tokio::test]
async fn gateway_drains_in_flight_requests_on_sigterm() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let pg = FaultyPg::start_new();
    pg.run_script(SCHEMA).await;
    pg.run_script(FIXTURE).await;
    let slow = "SELECT id, username, email, firstname, lastname, email_verified, createdtimestamp, password_hash \
                FROM users, pg_sleep(1.5) WHERE id = :id";
    let mut gateway = GatewayProcess::start(&format!(
        "[database]\nurl = \"{}\"\n[auth]\napi_tokens = [\"{TOKEN}\"]\n[queries]\nuser_by_id = \"{slow}\"\n",
        pg.url()
    ));
    let url = format!("{}/v1/users/u1", gateway.base());
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(TOKEN)
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let status = tokio::task::spawn_blocking(move || {
        let status = gateway.terminate();
        (status, gateway)
    })
    .await
    .expect("terminate");

    let response = in_flight
        .await
        .expect("task")
        .expect("the in-flight request is answered");
    assert_eq!(
        response.status(),
        200,
        "the request that was running when SIGTERM came completes"
    );
    assert!(
        status.0.is_some_and(|s| s.success()),
        "the gateway exits cleanly: {:?}",
        status.0
    );
    assert!(
        status.1.log_text().contains("draining"),
        "{}",
        status.1.log_text()
    );
}

#[tokio::test]
async fn the_provider_talks_https_and_mutual_tls_to_the_gateway() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = fixture_db(Vendor::Postgres).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("gateway CA");
    let server = ca.issue("gateway");
    let keycloak_cert = ca.issue("keycloak");
    let other_ca = Ca::new("unrelated CA");
    let tls = |client_ca: bool| TlsSettings {
        cert_file: write(dir.path(), "server.pem", &server.cert_pem),
        key_file: write(dir.path(), "server.key", &server.key_pem),
        client_ca_file: client_ca.then(|| write(dir.path(), "clients.pem", &ca.cert_pem)),
    };
    let mut https = settings(&db, &[]);
    https.server.tls = Some(tls(false));
    let https = spawn_app_with(https).await;
    let mut mtls = settings(&db, &[]);
    mtls.server.tls = Some(tls(true));
    let mtls = spawn_app_with(mtls).await;
    let kc = keycloak().await;
    let realm = |url: String, settings: Vec<(&'static str, String)>| async move {
        let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
        kc.realm_with(&url, TOKEN, &pairs, json!({})).await
    };
    let login = |realm: Realm| async move { kc.login(&realm, "mmustermann", "B1Systems!").await.0 };

    let trusted = realm(
        https.base.clone(),
        vec![("trustedCaPem", ca.cert_pem.clone())],
    )
    .await;
    assert_eq!(login(trusted).await, 200, "HTTPS with the configured CA");
    let with_cert = realm(
        mtls.base.clone(),
        vec![
            ("trustedCaPem", ca.cert_pem.clone()),
            ("clientCertificatePem", keycloak_cert.cert_pem.clone()),
            ("clientKeyPem", keycloak_cert.key_pem.clone()),
        ],
    )
    .await;
    assert_eq!(
        login(with_cert).await,
        200,
        "mutual TLS with a client certificate"
    );

    let wrong_ca = realm(
        https.base.clone(),
        vec![("trustedCaPem", other_ca.cert_pem.clone())],
    )
    .await;
    let wrong_ca_name = wrong_ca.name.clone();
    assert_ne!(
        login(wrong_ca).await,
        200,
        "a gateway certificate from another CA is refused"
    );
    let without_cert = realm(
        mtls.base.clone(),
        vec![("trustedCaPem", ca.cert_pem.clone())],
    )
    .await;
    let without_cert_name = without_cert.name.clone();
    assert_ne!(
        login(without_cert).await,
        200,
        "no client certificate, no service"
    );
    let log = kc.log_text();
    assert!(
        log.contains("not trusted (check trustedCaPem)"),
        "clear error for the wrong CA ({wrong_ca_name})"
    );
    assert!(
        log.contains("refused the TLS"),
        "clear error for the missing client certificate ({without_cert_name})"
    );
}

#[tokio::test]
async fn brute_force_detection_locks_and_unlocks_a_federated_user() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = fixture_db(Vendor::Postgres).await;
    let before = db.checksum().await;
    let gateway = spawn_app_with(settings(&db, &[])).await;
    let kc = keycloak().await;
    let realm = kc
        .realm_with(
            &gateway.base,
            TOKEN,
            &[],
            json!({
                "bruteForceProtected": true, "permanentLockout": false, "failureFactor": 3,
                "waitIncrementSeconds": 5, "maxFailureWaitSeconds": 5, "maxDeltaTimeSeconds": 600,
                "quickLoginCheckMilliSeconds": 1, "minimumQuickLoginWaitSeconds": 1
            }),
        )
        .await;
    let user_id = kc
        .admin(
            Method::GET,
            &format!("/{}/users?username=alice&exact=true", realm.name),
            None,
        )
        .await
        .body[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let state = || async {
        kc.admin(
            Method::GET,
            &format!(
                "/{}/attack-detection/brute-force/users/{user_id}",
                realm.name
            ),
            None,
        )
        .await
        .body
    };

    for _ in 0..3 {
        let (status, _) = kc.login(&realm, "alice", "wrong-password").await;
        assert_eq!(status, refused_login_status());
    }
    let locked: Value = state().await;
    let (status, _) = kc.login(&realm, "alice", "alice-pass").await;

    assert_eq!(locked["disabled"], true, "{locked}");
    assert_ne!(
        status, 200,
        "a locked user cannot log in even with the right password"
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (status, body) = kc.login(&realm, "alice", "alice-pass").await;
    assert_eq!(status, 200, "unlocked after the wait: {body}");
    let log = kc.log_text();
    let read_only_errors = log
        .lines()
        .filter(|l| l.contains(&realm.name) && l.to_lowercase().contains("read-only"))
        .count();
    assert_eq!(read_only_errors, 0, "no read-only error during lockout");
    assert!(
        !log.contains("ReadOnlyException"),
        "no ReadOnlyException in Keycloak's log"
    );
    assert_eq!(db.checksum().await, before);
}
