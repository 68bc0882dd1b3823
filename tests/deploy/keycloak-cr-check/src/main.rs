//! Reads a JSON array of Kubernetes objects on stdin and checks every
//! `k8s.keycloak.org/v2beta1` Keycloak and KeycloakRealmImport in it
//! against the operator's CRD schema (as typed by `kcr_k8s_keycloak_org`).
//!
//! A wrong type, a missing required field or an unknown enum value fails
//! deserialisation. Unknown fields are ignored by serde, so each object is
//! also serialised back and compared with the input: whatever the types
//! dropped is a field the CRD does not have. Other objects are skipped
//! (their names are printed). Exits 1 on any finding.

use std::io::Read;
use std::process::ExitCode;

use kcr_k8s_keycloak_org::v2beta1::keycloakrealmimports::KeycloakRealmImport;
use kcr_k8s_keycloak_org::v2beta1::keycloaks::Keycloak;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

fn main() -> ExitCode {
    let mut input = String::new();
    if let Err(err) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("keycloak-cr-check: cannot read stdin: {err}");
        return ExitCode::FAILURE;
    }
    let objects: Vec<Value> = match serde_json::from_str(&input) {
        Ok(objects) => objects,
        Err(err) => {
            eprintln!("keycloak-cr-check: stdin is not a JSON array of objects: {err}");
            return ExitCode::FAILURE;
        }
    };

    let mut checked = 0;
    let mut failures = 0;
    for object in &objects {
        let api_version = object["apiVersion"].as_str().unwrap_or("");
        let kind = object["kind"].as_str().unwrap_or("");
        let name = object["metadata"]["name"].as_str().unwrap_or("<unnamed>");
        let label = format!("{kind}/{name} ({api_version})");
        let problems = if api_version.starts_with("k8s.keycloak.org/") {
            match (api_version, kind) {
                ("k8s.keycloak.org/v2beta1", "Keycloak") => check::<Keycloak>(object),
                ("k8s.keycloak.org/v2beta1", "KeycloakRealmImport") => {
                    check::<KeycloakRealmImport>(object)
                }
                _ => vec![format!("no schema here for {api_version} {kind}")],
            }
        } else {
            println!("  skip {label}: not a Keycloak Operator resource");
            continue;
        };
        checked += 1;
        if problems.is_empty() {
            println!("  ok   {label}");
        } else {
            failures += 1;
            for problem in problems {
                println!("  FAIL {label}: {problem}");
            }
        }
    }
    println!("keycloak-cr-check: {checked} checked, {failures} failed");
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Deserialises `object` as `T`, then compares `T`'s serialisation with it.
fn check<T: DeserializeOwned + Serialize>(object: &Value) -> Vec<String> {
    let typed: T = match serde_path_to_error::deserialize(object.clone()) {
        Ok(typed) => typed,
        Err(err) => return vec![format!("at {}: {}", err.path(), err.inner())],
    };
    let back = match serde_json::to_value(&typed) {
        Ok(back) => back,
        Err(err) => return vec![format!("cannot serialise again: {err}")],
    };
    let mut problems = Vec::new();
    compare("", object, &back, &mut problems);
    problems
}

/// Records every place where `input` holds something that `back` lacks or
/// holds differently.
fn compare(path: &str, input: &Value, back: &Value, problems: &mut Vec<String>) {
    match (input, back) {
        (Value::Object(given), Value::Object(kept)) => {
            for (key, value) in given {
                let here = format!("{path}.{key}");
                match kept.get(key) {
                    Some(other) => compare(&here, value, other, problems),
                    None => problems.push(format!("unknown field {here}")),
                }
            }
        }
        (Value::Array(given), Value::Array(kept)) if given.len() == kept.len() => {
            for (i, (value, other)) in given.iter().zip(kept).enumerate() {
                compare(&format!("{path}[{i}]"), value, other, problems);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        _ if input == back => {}
        _ => problems.push(format!("{path} reads back as {back}, not {input}")),
    }
}
