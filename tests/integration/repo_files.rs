//! Static checks of what users read and run but CI cannot execute here:
//! docker-compose.yml, the Dockerfile, the example configuration and the
//! docs that list query names and settings. Plus one live check: the
//! SELECT-only account from the compose setup really serves the gateway.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::support::gateway::{feed_settings, fixture_db_with_change_log, spawn_app_with};
use crate::support::Vendor;
use serde_yaml_ng::Value;
use userstore_gateway::settings::{Secret, Settings};
use userstore_gateway::store::QueryName;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn compose() -> Value {
    serde_yaml_ng::from_str(&read("docker-compose.yml")).expect("docker-compose.yml is YAML")
}

#[test]
fn compose_mounts_and_build_files_exist() {
    let compose = compose();
    let services = compose["services"].as_mapping().expect("services");
    assert!(services.contains_key("db") && services.contains_key("gateway"));
    for (name, service) in services {
        for volume in service["volumes"].as_sequence().into_iter().flatten() {
            let spec = volume.as_str().expect("short volume syntax");
            let host = spec.split(':').next().expect("host path");
            assert!(
                root().join(host).exists(),
                "{name:?}: mounted file {host} is missing"
            );
        }
    }
    let build = &compose["services"]["gateway"]["build"];
    let context = root().join(build["context"].as_str().expect("context"));
    assert!(context
        .join(build["dockerfile"].as_str().expect("dockerfile"))
        .is_file());
    // The database container applies schema, then seed, then the account, in name order.
    let mounts: Vec<&str> = compose["services"]["db"]["volumes"]
        .as_sequence()
        .expect("db volumes")
        .iter()
        .filter_map(|v| v.as_str()?.split(':').nth(1))
        .collect();
    let mut sorted = mounts.clone();
    sorted.sort_unstable();
    assert_eq!(mounts, sorted);
}

#[test]
fn compose_environment_yields_a_valid_gateway_configuration() {
    let compose = compose();
    let env: HashMap<String, String> = compose["services"]["gateway"]["environment"]
        .as_mapping()
        .expect("environment map")
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().expect("key").to_owned(),
                v.as_str().expect("value").to_owned(),
            )
        })
        .collect();
    let dockerfile = read("docs/docker/Dockerfile");
    let baked = root().join("docs/docker/gateway.toml");

    let settings = Settings::load_with_env(&baked, Some(env))
        .expect("image config plus compose environment load");

    assert_eq!(settings.server.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(settings.auth.api_tokens, vec![Secret::new("demo-token")]);
    assert!(settings.database.url.expose().contains("@db:5432/userdb"));
    let port = compose["services"]["gateway"]["ports"][0]
        .as_str()
        .expect("port mapping");
    assert!(port.ends_with(":8080"), "{port}");
    assert!(dockerfile.contains("EXPOSE 8080"));
    assert!(dockerfile.contains("/etc/userstore-gateway/gateway.toml"));
}

#[test]
fn dockerfile_copies_every_cargo_target_directory() {
    // cargo refuses a manifest whose [[bench]] or [[bin]] files are missing.
    let dockerfile = read("docs/docker/Dockerfile");
    for dir in ["src", "benches", "migrations"] {
        assert!(
            dockerfile.contains(&format!("COPY {dir} ./{dir}")),
            "Dockerfile must copy {dir}/"
        );
    }
}

#[test]
fn dockerfile_copies_only_existing_paths() {
    for line in read("docs/docker/Dockerfile").lines() {
        let Some(args) = line.strip_prefix("COPY ") else {
            continue;
        };
        if args.starts_with("--from") {
            continue;
        }
        let parts: Vec<&str> = args.split_whitespace().collect();
        for source in &parts[..parts.len() - 1] {
            assert!(
                root().join(source).exists(),
                "Dockerfile copies missing {source}"
            );
        }
    }
}

#[test]
fn example_configuration_loads_and_lists_every_section() {
    let example = root().join("docs/gateway.example.toml");
    let settings = Settings::load_with_env(&example, Some(HashMap::new())).expect("example loads");
    assert_eq!(settings.server.max_page_size, 100);
    let text = read("docs/gateway.example.toml");
    for key in [
        "listen",
        "max_page_size",
        "body_limit_bytes",
        "url",
        "max_connections",
        "acquire_timeout_ms",
        "statement_timeout_ms",
        "api_tokens",
        "max_rounds",
        "max_bcrypt_cost",
        "max_password_bytes",
        "max_concurrent",
        "enabled",
        "poll_interval_ms",
        "max_wait_seconds",
        "batch_limit",
        "notify_channel",
    ] {
        assert!(text.contains(&format!("{key} =")), "example lacks {key}");
        assert!(
            read("README.md").contains(&format!(".{key}`")),
            "README's table lacks {key}"
        );
    }
}

#[test]
fn query_docs_name_every_query() {
    let docs = read("docs/queries.md");
    for name in QueryName::ALL {
        assert!(
            docs.contains(&format!("`{}`", name.key())),
            "docs/queries.md lacks {}",
            name.key()
        );
    }
}

#[test]
fn account_script_grants_nothing_but_select() {
    let script = read("docs/docker/03-gateway-account.sql").to_uppercase();
    for word in [
        "INSERT",
        "UPDATE",
        "DELETE",
        "ALL PRIVILEGES",
        "TRUNCATE",
        "SUPERUSER",
    ] {
        assert!(!script.contains(word), "account script mentions {word}");
    }
}

#[tokio::test]
async fn the_select_only_account_serves_the_gateway() {
    let db = fixture_db_with_change_log(Vendor::Postgres).await;
    db.run_script(&read("docs/docker/03-gateway-account.sql"))
        .await;
    let url = account_url(db.url(), "userstore_gateway", "gateway-password");
    let mut config = feed_settings(&db, &[]);
    config.database.url = Secret::new(url);

    let app = spawn_app_with(config).await;
    let (status, user) = app.get("/v1/users/by-username/mmustermann").await;
    let (feed_status, head) = app.get("/v1/changes").await;
    let (_, waited) = app
        .get(&format!(
            "/v1/changes?after={}&wait=1",
            head["cursor"].as_str().unwrap_or("0")
        ))
        .await;

    assert_eq!(status, 200);
    assert_eq!(user["realmRoles"], serde_json::json!(["testrole", "user"]));
    assert!(app.verify("u1", "B1Systems!").await);
    assert_eq!(feed_status, 200, "the account reads the change log: {head}");
    assert!(waited["cursor"].is_string(), "and long-polls it: {waited}");
}

/// `postgres://user:pw@host:port/db` with another user and password.
fn account_url(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let (_, host_and_db) = rest.split_once('@').expect("credentials");
    format!("{scheme}://{user}:{password}@{host_and_db}")
}

/// Nothing a build makes is in git: no path under `target/` (or the Maven
/// module's), and no file that `.gitignore` excludes.
#[test]
fn no_build_output_or_ignored_file_is_tracked() {
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .args(args)
            .current_dir(root())
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {args:?} failed");
        String::from_utf8(output.stdout).expect("UTF-8 paths")
    };
    let built = git(&["ls-files", "--", "target", "keycloak-provider/target"]);
    let ignored = git(&["ls-files", "--cached", "--ignored", "--exclude-standard"]);

    assert!(built.is_empty(), "build output is tracked:\n{built}");
    assert!(ignored.is_empty(), "ignored files are tracked:\n{ignored}");
}
