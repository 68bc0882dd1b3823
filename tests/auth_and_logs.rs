//! Bearer tokens on every /v1 route, open health endpoints, and logs that
//! never carry a password, a hash or a token.

#[macro_use]
mod support;

use reqwest::Method;
use support::faults::GatewayProcess;
use support::gateway::{fixture_db, spawn_app, TOKEN};
use support::Vendor;

on_every_vendor!(
    every_v1_route_needs_a_valid_token,
    health_metrics_and_openapi_need_no_token,
    readiness_fails_while_the_database_is_unreachable,
    openapi_describes_every_route,
    logs_warn_about_limits_and_never_contain_secrets,
);

/// Every /v1 route with a method it accepts.
const V1_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/users/u1"),
    ("GET", "/v1/users/by-username/mmustermann"),
    ("GET", "/v1/users/by-email/m.mustermann@example.test"),
    ("GET", "/v1/users?search=m"),
    ("GET", "/v1/users/count"),
    ("POST", "/v1/users/u1/verify-password"),
    ("GET", "/v1/roles"),
];

async fn every_v1_route_needs_a_valid_token(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    for (method, path) in V1_ROUTES {
        let method: Method = method.parse().expect("method");
        let url = format!("{}{path}", app.base);
        let body = serde_json::json!({"password": "B1Systems!"});
        let cases = [
            (None, "Bearer"),
            (
                Some("Bearer wrong-token".to_owned()),
                "Bearer error=\"invalid_token\"",
            ),
            (Some(format!("Basic {TOKEN}")), "Bearer"),
            (
                Some(format!("Bearer {TOKEN}-and-more")),
                "Bearer error=\"invalid_token\"",
            ),
        ];
        for (header, challenge) in cases {
            let mut request = app.client.request(method.clone(), &url).json(&body);
            if let Some(header) = &header {
                request = request.header("authorization", header);
            }
            let response = request.send().await.expect("answered");
            assert_eq!(response.status(), 401, "{method} {path} with {header:?}");
            assert_eq!(response.headers()["www-authenticate"], challenge, "{path}");
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
        }
        let ok = app
            .client
            .request(method.clone(), &url)
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .expect("answered");
        assert_eq!(ok.status(), 200, "{method} {path} with the right token");
    }
}

async fn health_metrics_and_openapi_need_no_token(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 200, "{path}");
    }
}

async fn readiness_fails_while_the_database_is_unreachable(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let mut config = support::gateway::settings(&db, &[]);
    let dead = match vendor {
        Vendor::Postgres => "postgres://nobody:pw@127.0.0.1:9/none".to_owned(),
        Vendor::MariaDb => "mysql://nobody:pw@127.0.0.1:9/none".to_owned(),
        Vendor::Sqlite => format!("{}-missing", db.url()),
    };
    config.database.url = userstore_gateway::settings::Secret::new(dead);
    config.database.acquire_timeout_ms = 500;
    let app = support::gateway::spawn_app_with(config).await;

    let ready = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .expect("answered");
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("answered");
    let lookup = app.send(Method::GET, "/v1/users/u1", None).await;

    assert_eq!(ready.status(), 503);
    assert_eq!(health.status(), 200);
    assert_eq!(lookup.status(), 503);
}

async fn openapi_describes_every_route(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let doc: serde_json::Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");

    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    let paths = doc["paths"].as_object().expect("paths");
    for path in [
        "/v1/users/{id}",
        "/v1/users/by-username/{username}",
        "/v1/users/by-email/{email}",
        "/v1/users",
        "/v1/users/count",
        "/v1/users/{id}/verify-password",
        "/v1/roles",
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from /openapi.json"
        );
    }
    assert!(paths["/v1/users/{id}/verify-password"]["post"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

async fn logs_warn_about_limits_and_never_contain_secrets(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let mut gateway = GatewayProcess::start_logging(
        &format!(
            "[database]\nurl = \"{}\"\n[auth]\napi_tokens = [\"{TOKEN}\"]\n",
            db.url()
        ),
        "trace",
    );
    let base = gateway.base();
    let client = reqwest::Client::new();

    let long_password = "L0ng-secret-".repeat(30);
    let secrets = [
        "B1Systems!",
        "wrong-Passw0rd!",
        "alice-pass",
        "s3cr3t-unknown-user-pw",
        "dave-s3cret",
        "carol-s3cret",
        long_password.as_str(),
    ];
    for (id, password) in [
        ("u1", secrets[0]),
        ("u1", secrets[1]),
        ("u2", secrets[2]),
        ("nobody", secrets[3]),
        ("u7", secrets[4]),
        ("u6", secrets[5]),
        ("u1", secrets[6]),
    ] {
        let response = client
            .post(format!("{base}/v1/users/{id}/verify-password"))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({ "password": password }))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), 200);
    }
    let wrong_token = "this-token-is-wrong-and-secret";
    let refused = client
        .get(format!("{base}/v1/roles"))
        .bearer_auth(wrong_token)
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), 401);
    let looked_up = client
        .get(format!("{base}/v1/users/u1"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("answered");
    assert_eq!(looked_up.status(), 200);

    let _ = gateway.terminate();
    let logs = gateway.log_text();
    let warnings = |text: &str| {
        logs.lines()
            .filter(|l| l.contains("WARN") && l.contains(text))
            .count()
    };
    assert_eq!(
        warnings("over the configured limit"),
        2,
        "rounds cap and length cap are logged:\n{logs}"
    );
    assert_eq!(
        warnings("malformed or of an unsupported scheme"),
        1,
        "{logs}"
    );
    assert!(
        logs.contains("verify-password"),
        "the run must have logged requests:\n{logs}"
    );
    let hashes = ["$6$xyz$", "C/vOVAshxi1Vfg", "$5$alicesalt$"];
    for needle in secrets.iter().chain(&hashes).chain(&[TOKEN, wrong_token]) {
        assert!(!logs.contains(needle), "log output contains {needle:?}");
    }
}
