//! HTTPS and mutual TLS with certificates made in the test.

use crate::support::certs::{write, Ca};
use crate::support::gateway::{fixture_db, settings, spawn_app_with, TOKEN};
use crate::support::Vendor;
use userstore_gateway::settings::TlsSettings;

fn client(ca_pem: Option<&str>, identity: Option<(&str, &str)>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().use_rustls_tls();
    if let Some(ca) = ca_pem {
        builder = builder
            .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA"));
    }
    if let Some((cert, key)) = identity {
        let pem = format!("{cert}{key}");
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("identity"));
    }
    builder.build().expect("client")
}

#[tokio::test]
async fn https_serves_the_api_to_clients_that_trust_its_ca() {
    let db = fixture_db(Vendor::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("gateway test CA");
    let server = ca.issue("gateway");
    let mut config = settings(&db, &[]);
    config.server.tls = Some(TlsSettings {
        cert_file: write(dir.path(), "server.pem", &server.cert_pem),
        key_file: write(dir.path(), "server.key", &server.key_pem),
        client_ca_file: None,
    });
    let app = spawn_app_with(config).await;
    assert!(app.base.starts_with("https://"));

    let trusting = client(Some(&ca.cert_pem), None);
    let response = trusting
        .get(format!("{}/v1/users/u1", app.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);

    let other_ca = Ca::new("some other CA");
    let distrusting = client(Some(&other_ca.cert_pem), None);
    let err = distrusting
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect_err("untrusted certificate");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
    let plain = reqwest::Client::new()
        .get(format!("{}/healthz", app.base.replace("https", "http")))
        .send()
        .await;
    assert!(
        plain.is_err() || !plain.expect("answer").status().is_success(),
        "plain HTTP must not be served"
    );
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate_from_the_configured_ca() {
    let db = fixture_db(Vendor::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("gateway test CA");
    let server = ca.issue("gateway");
    let keycloak = ca.issue("keycloak");
    let stranger = Ca::new("stranger CA").issue("stranger");
    let mut config = settings(&db, &[]);
    config.server.tls = Some(TlsSettings {
        cert_file: write(dir.path(), "server.pem", &server.cert_pem),
        key_file: write(dir.path(), "server.key", &server.key_pem),
        client_ca_file: Some(write(dir.path(), "clients-ca.pem", &ca.cert_pem)),
    });
    let app = spawn_app_with(config).await;
    let url = format!("{}/v1/users/u1", app.base);

    let with_cert = client(
        Some(&ca.cert_pem),
        Some((&keycloak.cert_pem, &keycloak.key_pem)),
    );
    let response = with_cert
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);

    let without_cert = client(Some(&ca.cert_pem), None);
    assert!(
        without_cert
            .get(&url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .is_err(),
        "no client certificate"
    );
    let foreign_cert = client(
        Some(&ca.cert_pem),
        Some((&stranger.cert_pem, &stranger.key_pem)),
    );
    assert!(
        foreign_cert
            .get(&url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .is_err(),
        "certificate from another CA"
    );
}

#[tokio::test]
async fn unusable_tls_files_stop_the_build_with_the_file_named() {
    let db = fixture_db(Vendor::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = settings(&db, &[]);
    let missing = dir.path().join("missing.pem");
    config.server.tls = Some(TlsSettings {
        cert_file: missing.clone(),
        key_file: write(dir.path(), "server.key", "not a key"),
        client_ca_file: None,
    });

    let err = userstore_gateway::app::build(&config)
        .err()
        .expect("build fails");

    assert!(err.to_string().contains("missing.pem"), "{err}");
}
