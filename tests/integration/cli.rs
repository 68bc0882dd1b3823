//! The `check`, `hash` and `demo` subcommands, run as the real binary.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::gateway::{fixture_db, settings, TOKEN};
use crate::support::{TestDb, Vendor};
use userstore_gateway::check::{self, Report};
use userstore_gateway::dialect::{Access, Pool};

const BIN: &str = env!("CARGO_BIN_EXE_userstore-gateway");

fn write_config(dir: &Path, url: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("gateway.toml");
    let text = format!("[database]\nurl = \"{url}\"\n[auth]\napi_tokens = [\"{TOKEN}\"]\n{extra}");
    std::fs::write(&path, text).expect("write config");
    path
}

fn run_check(config: &Path) -> (i32, String) {
    let Output { status, stdout, .. } = Command::new(BIN)
        .args(["check", "--config"])
        .arg(config)
        .output()
        .expect("check runs");
    (
        status.code().expect("exit code"),
        String::from_utf8_lossy(&stdout).into_owned(),
    )
}

on_every_vendor!(
    check_passes_on_a_good_configuration,
    check_fails_on_a_query_missing_a_column
);

async fn check_passes_on_a_good_configuration(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let dir = tempfile::tempdir().expect("temp dir");

    let (code, report) = run_check(&write_config(dir.path(), db.url(), ""));

    assert_eq!(code, 0, "{report}");
    assert!(report.contains("[ok  ] read-only session"), "{report}");
    assert!(report.contains("[ok  ] query search_users"), "{report}");
    assert!(report.contains("[skip] query user_attributes"), "{report}");
    assert!(report.contains("check passed"), "{report}");
}

async fn check_fails_on_a_query_missing_a_column(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let extra = "[queries]\nuser_by_id = \"SELECT id, username, email, firstname, lastname, email_verified, createdtimestamp FROM users WHERE id = :id\"\n";

    let (code, report) = run_check(&write_config(dir.path(), db.url(), extra));

    assert_eq!(code, 1, "{report}");
    assert!(report.contains("[FAIL] query user_by_id"), "{report}");
    assert!(
        report.contains("missing column(s) password_hash"),
        "{report}"
    );
}

#[test]
fn check_fails_on_a_broken_config_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("gateway.toml");
    std::fs::write(&path, "[database\nurl = ").expect("write");

    let (code, report) = run_check(&path);

    assert_eq!(code, 2, "{report}");
    assert!(report.contains("[FAIL] configuration"), "{report}");
}

#[test]
fn check_fails_on_an_unreachable_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), "postgres://gw:secret-pw@127.0.0.1:9/users", "");

    let (code, report) = run_check(&config);

    assert_eq!(code, 1, "{report}");
    assert!(report.contains("[FAIL] connectivity"), "{report}");
    assert!(
        !report.contains("secret-pw"),
        "the report must not show the database password: {report}"
    );
}

#[tokio::test]
async fn check_fails_when_the_session_is_writable() {
    let db = TestDb::with_schema(Vendor::Sqlite).await;
    let config = settings(&db, &[]);
    let writable = Pool::open(&config.database, Access::Writable).expect("pool");

    let report = check::inspect(&config, writable, Report::default()).await;

    assert!(!report.passed(), "{}", report.render());
    assert!(
        report.render().contains("[FAIL] read-only session"),
        "{}",
        report.render()
    );
}

/// Runs `hash` with `args`, `password` and a newline on stdin: (exit code, stdout, stderr).
fn run_hash(args: &[&str], password: &str) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .arg("hash")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hash runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("finishes");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).expect("utf-8"),
        String::from_utf8(output.stderr).expect("utf-8"),
    )
}

fn verifies(stored: &str, password: &str) -> bool {
    use userstore_gateway::password::{Limits, StoredHash, Verdict};
    let hash = StoredHash::parse(stored).unwrap_or_else(|e| panic!("{stored}: {e}"));
    hash.verify(password, &Limits::default()) == Verdict::Match
}

#[test]
fn hash_prints_a_sha512_crypt_hash_of_stdin() {
    let (code, line, _) = run_hash(&[], "correct horse");

    assert_eq!(code, 0);
    assert!(verifies(line.trim(), "correct horse"));
    assert!(!verifies(line.trim(), "correct horse\n"));
    assert!(line.starts_with("$6$"));
}

#[test]
fn hash_scheme_makes_every_scheme_with_a_safe_maker() {
    use userstore_gateway::password::{make_hash, Scheme};
    let mut made = 0;
    for scheme in Scheme::ALL {
        if make_hash(scheme, "probe").is_err() {
            continue;
        }
        made += 1;
        let (code, line, stderr) = run_hash(&["--scheme", scheme.name()], "Wonderland-7");
        assert_eq!(code, 0, "{scheme}: {stderr}");
        let stored = line.trim();
        assert!(verifies(stored, "Wonderland-7"), "{scheme}: {stored}");
        assert!(!verifies(stored, "wonderland-7"), "{scheme}");
        let parsed = userstore_gateway::password::StoredHash::parse(stored).expect("parses");
        assert_eq!(parsed.scheme(), scheme, "{stored}");
    }
    assert_eq!(made, 12, "the documented makers");
}

#[test]
fn hash_scheme_refuses_weak_and_unknown_schemes_clearly() {
    for (scheme, says) in [
        ("md5", "md5 has no safe maker"),
        ("ldap_ssha", "ldap_ssha has no safe maker"),
        ("scrypt_firebase", "scrypt_firebase has no safe maker"),
        ("nosuch", "unknown scheme; known: sha512-crypt"),
    ] {
        let (code, line, stderr) = run_hash(&["--scheme", scheme], "Wonderland-7");
        assert_ne!(code, 0, "{scheme}");
        assert!(line.is_empty(), "{scheme}: nothing on stdout");
        assert!(stderr.contains(says), "{scheme}: {stderr}");
        assert!(
            !stderr.contains("Wonderland-7"),
            "the password is not echoed"
        );
    }
    let (code, _, stderr) = run_hash(&["--scheme", "bcrypt"], &"x".repeat(80));
    assert_ne!(code, 0);
    assert!(stderr.contains("72 bytes"), "{stderr}");
}

#[test]
fn demo_serves_and_its_printed_examples_answer() {
    let mut child = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("demo runs");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut examples = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(curl) = line.strip_prefix("  curl ") {
            examples.push(format!("curl {curl}"));
        }
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    assert_eq!(examples.len(), 5, "the demo prints five curl examples");

    let answers: Vec<serde_json::Value> = examples
        .iter()
        .map(|example| {
            let output = Command::new("sh")
                .arg("-c")
                .arg(example)
                .output()
                .expect("curl runs");
            assert!(output.status.success(), "{example} failed");
            serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|_| panic!("{example} printed no JSON"))
        })
        .collect();
    let _ = child.kill();
    let _ = child.wait();

    assert_eq!(answers[0]["username"], "mmustermann");
    assert_eq!(
        answers[0]["realmRoles"],
        serde_json::json!(["testrole", "user"])
    );
    assert_eq!(answers[1]["users"][0]["username"], "jdoe");
    assert_eq!(answers[2], serde_json::json!({"count": 4}));
    assert_eq!(answers[3], serde_json::json!({"valid": true}));
    assert_eq!(
        answers[4]["clientRoles"]["testclient"],
        serde_json::json!(["admin", "viewer"])
    );
}
