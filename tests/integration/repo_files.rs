//! Static checks of what users read and run but CI cannot execute here:
//! docker-compose.yml, the Dockerfiles, the example configuration and the
//! docs that list query names and settings. Plus one live check: the
//! SELECT-only account from the compose setup really serves the gateway.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::support::gateway::{feed_settings, fixture_db_with_change_log, spawn_app_with};
use crate::support::keycloak::{pom_version, REALM_IMPORT};
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

/// The Dockerfiles of deploy/docker, as (path, text).
fn dockerfiles() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(root().join("deploy/docker"))
        .expect("deploy/docker")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".Dockerfile"))
        .map(|name| {
            let path = format!("deploy/docker/{name}");
            let text = read(&path);
            (path, text)
        })
        .collect();
    files.sort();
    assert!(files.len() >= 2, "the gateway's and Keycloak's Dockerfiles");
    files
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    let service = &compose["services"][name];
    assert!(
        service.is_mapping(),
        "docker-compose.yml has no service {name}"
    );
    service
}

/// A service's `environment` map.
fn environment(compose: &Value, name: &str) -> HashMap<String, String> {
    service(compose, name)["environment"]
        .as_mapping()
        .unwrap_or_else(|| panic!("{name}: environment map"))
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().expect("key").to_owned(),
                v.as_str().expect("string value").to_owned(),
            )
        })
        .collect()
}

#[test]
fn compose_mounts_and_build_files_exist() {
    let compose = compose();
    let services = compose["services"].as_mapping().expect("services");
    for name in ["db", "gateway", "keycloak"] {
        service(&compose, name);
    }
    for (name, service) in services {
        for volume in service["volumes"].as_sequence().into_iter().flatten() {
            let spec = volume.as_str().expect("short volume syntax");
            let host = spec.split(':').next().expect("host path");
            assert!(
                root().join(host).exists(),
                "{name:?}: mounted file {host} is missing"
            );
        }
        let build = &service["build"];
        if build.is_mapping() {
            let context = root().join(build["context"].as_str().expect("context"));
            let dockerfile = build["dockerfile"].as_str().expect("dockerfile");
            assert!(context.join(dockerfile).is_file(), "{name:?}: {dockerfile}");
        }
    }
    // The database container applies schema, then seed, then the accounts, in name order.
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
    let env = environment(&compose, "gateway");
    let dockerfile = read("deploy/docker/gateway.Dockerfile");
    let baked = root().join("deploy/docker/gateway.toml");

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

/// Keycloak in compose imports the very file the end-to-end tests import,
/// and every placeholder in it is set: to the gateway service and a token
/// the gateway accepts.
#[test]
fn compose_keycloak_imports_the_realm_file_of_the_end_to_end_tests() {
    let compose = compose();
    let keycloak = service(&compose, "keycloak");
    let env = environment(&compose, "keycloak");
    let gateway = Settings::load_with_env(
        &root().join("deploy/docker/gateway.toml"),
        Some(environment(&compose, "gateway")),
    )
    .expect("gateway settings");
    let mounts: Vec<(&str, &str)> = keycloak["volumes"]
        .as_sequence()
        .expect("keycloak volumes")
        .iter()
        .filter_map(|v| {
            let mut parts = v.as_str()?.split(':');
            Some((parts.next()?, parts.next()?))
        })
        .collect();
    let command: Vec<&str> = keycloak["command"]
        .as_sequence()
        .expect("keycloak command")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let realm = read(REALM_IMPORT);
    let placeholders: Vec<&str> = realm
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split([':', '}']).next())
        .collect();

    assert!(
        mounts.iter().any(|(host, container)| {
            host.trim_start_matches("./") == REALM_IMPORT
                && container.starts_with("/opt/keycloak/data/import/")
                && container.ends_with(".json")
        }),
        "{mounts:?}"
    );
    assert!(command.contains(&"--import-realm"), "{command:?}");
    assert!(!placeholders.is_empty(), "the realm file has placeholders");
    for name in &placeholders {
        assert!(env.contains_key(*name), "compose does not set {name}");
    }
    assert_eq!(env["USERSTORE_GATEWAY_URL"], "http://gateway:8080");
    assert_eq!(gateway.server.listen.port(), 8080);
    assert!(gateway
        .auth
        .api_tokens
        .contains(&Secret::new(env["USERSTORE_GATEWAY_TOKEN"].as_str())));
}

/// Every image is a named release: compose's `image:` and every `FROM` of
/// the Dockerfiles (with their `ARG` defaults) carry a tag with at least
/// major.minor, never `latest` nor a bare major. (A digest cannot be looked
/// up from here; the tags are the pin.)
#[test]
fn every_image_is_pinned_to_a_release() {
    let compose = compose();
    let mut images: Vec<String> = compose["services"]
        .as_mapping()
        .expect("services")
        .values()
        .filter_map(|s| s["image"].as_str().map(str::to_owned))
        .collect();
    for (path, text) in dockerfiles() {
        let args = dockerfile_args(&text);
        let stages: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("FROM "))
            .filter_map(|l| l.split(" AS ").nth(1).map(str::to_owned))
            .collect();
        for line in text.lines().filter_map(|l| l.strip_prefix("FROM ")) {
            let image = line.split_whitespace().next().expect("FROM image");
            if stages.iter().any(|s| s == image) {
                continue;
            }
            let image = substitute(image, &args);
            assert!(!image.contains('$'), "{path}: unresolved {image}");
            images.push(image);
        }
    }

    assert!(images.len() >= 5, "{images:?}");
    for image in &images {
        let tag = image
            .rsplit_once(':')
            .map(|(_, tag)| tag)
            .filter(|tag| !tag.contains('/'))
            .unwrap_or_else(|| panic!("{image} has no tag"));
        let release: Vec<&str> = tag.split('-').next().unwrap_or(tag).split('.').collect();
        assert!(
            release.len() >= 2 && release.iter().all(|p| p.parse::<u32>().is_ok()),
            "{image} is not pinned to a release"
        );
    }
}

#[test]
fn the_keycloak_image_is_the_release_the_provider_is_built_for() {
    let text = read("deploy/docker/keycloak.Dockerfile");
    let args = dockerfile_args(&text);

    assert_eq!(args.get("KEYCLOAK_VERSION"), Some(&pom_version()));
    assert!(text.contains("FROM quay.io/keycloak/keycloak:${KEYCLOAK_VERSION}"));
    assert!(
        text.contains("COPY keycloak-provider/src"),
        "built from source"
    );
    assert!(text.contains("/opt/keycloak/providers/"));
}

/// `ARG NAME=default` lines of a Dockerfile.
fn dockerfile_args(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("ARG "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn substitute(image: &str, args: &HashMap<String, String>) -> String {
    args.iter().fold(image.to_owned(), |image, (name, value)| {
        image.replace(&format!("${{{name}}}"), value)
    })
}

#[test]
fn dockerfile_copies_every_cargo_target_directory() {
    // cargo refuses a manifest whose [[bench]] or [[bin]] files are missing.
    let dockerfile = read("deploy/docker/gateway.Dockerfile");
    for dir in ["src", "benches", "migrations"] {
        assert!(
            dockerfile.contains(&format!("COPY {dir} ./{dir}")),
            "Dockerfile must copy {dir}/"
        );
    }
}

#[test]
fn dockerfiles_copy_only_existing_paths() {
    for (path, text) in dockerfiles() {
        for line in text.lines() {
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
                    "{path} copies missing {source}"
                );
            }
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
    let script = read("deploy/docker/03-gateway-account.sql").to_uppercase();
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
    db.run_script(&read("deploy/docker/03-gateway-account.sql"))
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
