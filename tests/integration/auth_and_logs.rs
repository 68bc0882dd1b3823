//! Bearer tokens on every /v1 route, open health endpoints, an OpenAPI
//! document that matches the server, and logs that never carry a password,
//! a hash or a token.

use crate::support::faults::GatewayProcess;
use crate::support::gateway::{
    feed_settings, fixture_db, fixture_db_with_change_log, spawn_app, spawn_app_with, TestApp,
    TOKEN,
};
use crate::support::Vendor;
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

on_every_vendor!(
    every_v1_route_needs_a_valid_token,
    health_metrics_and_openapi_need_no_token,
    readiness_fails_while_the_database_is_unreachable,
    openapi_describes_every_route,
    documented_parameter_bounds_are_the_enforced_ones,
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
    let mut config = crate::support::gateway::settings(&db, &[]);
    let dead = match vendor {
        Vendor::Postgres => "postgres://nobody:pw@127.0.0.1:9/none".to_owned(),
        Vendor::MariaDb => "mysql://nobody:pw@127.0.0.1:9/none".to_owned(),
        Vendor::Sqlite => format!("{}-missing", db.url()),
    };
    config.database.url = userstore_gateway::settings::Secret::new(dead);
    config.database.acquire_timeout_ms = 500;
    let app = crate::support::gateway::spawn_app_with(config).await;

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

async fn openapi_document(app: &TestApp) -> Value {
    app.client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json")
}

/// Every error answer is problem+json (src/http/error.rs), so the document
/// must say so for every 4xx and 5xx it lists, and nothing else.
#[tokio::test]
async fn openapi_documents_every_error_as_problem_json_only() {
    let db = fixture_db(Vendor::Sqlite).await;
    let app = spawn_app(&db).await;

    let doc = openapi_document(&app).await;

    let paths = doc["paths"].as_object().expect("paths");
    assert!(
        paths.contains_key("/v1/changes"),
        "/v1/changes is documented"
    );
    let mut errors = 0;
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().expect("operations") {
            let responses = operation["responses"].as_object().expect("responses");
            if path.starts_with("/v1/") {
                for status in ["401", "500", "503"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} does not document {status}"
                    );
                }
            }
            for (status, response) in responses {
                if !(status.starts_with('4') || status.starts_with('5') || status == "default") {
                    continue;
                }
                errors += 1;
                let content = response["content"].as_object().unwrap_or_else(|| {
                    panic!("{method} {path} {status} documents no content: {response}")
                });
                let types: Vec<_> = content.keys().collect();
                assert_eq!(
                    types,
                    ["application/problem+json"],
                    "{method} {path} {status}"
                );
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
    }
    assert!(errors > 20, "only {errors} error answers documented");
}

/// The schema of a documented parameter.
fn parameter<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{method} {path} has no parameters"))
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| &p["schema"])
        .unwrap_or_else(|| panic!("{method} {path} does not document {name}"))
}

fn bound(schema: &Value, key: &str) -> u64 {
    schema[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in {schema}"))
}

async fn status_of(app: &TestApp, url: Url) -> StatusCode {
    app.client
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("answered")
        .status()
}

fn url_with_query(app: &TestApp, path: &str, query: &[(&str, String)]) -> Url {
    let mut url = Url::parse(&format!("{}{path}", app.base)).expect("url");
    url.query_pairs_mut().extend_pairs(query);
    url
}

fn url_with_segment(app: &TestApp, prefix: &[&str], segment: &str) -> Url {
    let mut url = Url::parse(&app.base).expect("url");
    url.path_segments_mut()
        .expect("base")
        .clear()
        .extend(prefix)
        .push(segment);
    url
}

/// Probes the server just inside and just outside every bound that
/// /openapi.json states, so the document cannot drift from the handlers.
/// Strings at the limit are made of two-byte characters: `maxLength`
/// counts characters.
async fn documented_parameter_bounds_are_the_enforced_ones(vendor: Vendor) {
    let db = fixture_db_with_change_log(vendor).await;
    let app = spawn_app_with(feed_settings(&db, &[])).await;
    let doc = openapi_document(&app).await;
    let no_nul = "^[^\\u0000]*$";

    for path in ["/v1/users", "/v1/users/count"] {
        let search = parameter(&doc, path, "get", "search");
        assert_eq!(search["pattern"], no_nul, "{path}");
        let longest = bound(search, "maxLength") as usize;
        for (value, expected) in [
            ("ü".repeat(longest), StatusCode::OK),
            ("ü".repeat(longest + 1), StatusCode::BAD_REQUEST),
            ("a\0b".to_owned(), StatusCode::BAD_REQUEST),
        ] {
            let url = url_with_query(&app, path, &[("search", value.clone())]);
            assert_eq!(
                status_of(&app, url).await,
                expected,
                "{path} search of {} characters",
                value.chars().count()
            );
        }
    }
    for name in ["first", "max"] {
        let schema = parameter(&doc, "/v1/users", "get", name);
        assert_eq!(bound(schema, "minimum"), 0, "{name}");
        let largest = bound(schema, "maximum");
        for (value, expected) in [
            (largest.to_string(), StatusCode::OK),
            (
                (u128::from(largest) + 1).to_string(),
                StatusCode::BAD_REQUEST,
            ),
            ("-1".to_owned(), StatusCode::BAD_REQUEST),
        ] {
            let url = url_with_query(&app, "/v1/users", &[(name, value.clone())]);
            assert_eq!(status_of(&app, url).await, expected, "{name}={value}");
        }
    }
    for name in ["after", "wait"] {
        let schema = parameter(&doc, "/v1/changes", "get", name);
        assert_eq!(bound(schema, "minimum"), 0, "{name}");
        let largest = bound(schema, "maximum");
        for (value, expected) in [
            (largest.to_string(), StatusCode::OK),
            (
                (u128::from(largest) + 1).to_string(),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            // `after` far ahead of the log answers at once (resync), so
            // the largest `wait` is not waited for.
            let mut query = vec![(name, value.clone())];
            if name == "wait" {
                query.push(("after", largest.to_string()));
            }
            let url = url_with_query(&app, "/v1/changes", &query);
            assert_eq!(status_of(&app, url).await, expected, "{name}={value}");
        }
    }
    for (path, prefix, name) in [
        ("/v1/users/{id}", &["v1", "users"][..], "id"),
        (
            "/v1/users/by-username/{username}",
            &["v1", "users", "by-username"][..],
            "username",
        ),
        (
            "/v1/users/by-email/{email}",
            &["v1", "users", "by-email"][..],
            "email",
        ),
    ] {
        let schema = parameter(&doc, path, "get", name);
        assert_eq!(schema["pattern"], no_nul, "{path}");
        let longest = bound(schema, "maxLength") as usize;
        for (value, expected) in [
            ("ü".repeat(longest), StatusCode::NOT_FOUND),
            ("ü".repeat(longest + 1), StatusCode::BAD_REQUEST),
            ("a\0b".to_owned(), StatusCode::BAD_REQUEST),
        ] {
            let url = url_with_segment(&app, prefix, &value);
            assert_eq!(
                status_of(&app, url).await,
                expected,
                "{path} with {} characters",
                value.chars().count()
            );
        }
    }
}

/// `[hashing] bcrypt_pepper`: a secret like the token.
const PEPPER: &str = "pepper-never-logged-4711";

async fn logs_warn_about_limits_and_never_contain_secrets(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let mut gateway = GatewayProcess::start_logging(
        &format!(
            "[database]\nurl = \"{}\"\n[auth]\napi_tokens = [\"{TOKEN}\"]\n\
             [hashing]\nbcrypt_pepper = \"{PEPPER}\"\n",
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
        warnings("over its [hashing] cap"),
        1,
        "the rounds cap is logged:\n{logs}"
    );
    assert_eq!(
        warnings("longer than the configured limit"),
        1,
        "the length cap is logged:\n{logs}"
    );
    assert_eq!(warnings("no usable password"), 1, "{logs}");
    assert!(
        logs.contains("verify-password"),
        "the run must have logged requests:\n{logs}"
    );
    let hashes = ["$6$xyz$", "C/vOVAshxi1Vfg", "$5$alicesalt$"];
    for needle in secrets
        .iter()
        .chain(&hashes)
        .chain(&[TOKEN, wrong_token, PEPPER])
    {
        assert!(!logs.contains(needle), "log output contains {needle:?}");
    }
}
