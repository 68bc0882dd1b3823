//! Issue 14's import benchmark: `import-clerk` on a generated Clerk export of
//! N users, and the script loaded into a throwaway PostgreSQL.
//!
//! The benchmark writes a Dashboard CSV (current layout) and a Backend API
//! JSON array of N users to a temp dir: 85 % with a bcrypt digest (the same
//! well-formed `$2b$10$` string: the import does not hash), 5 % with an
//! argon2id PHC string, 10 % without a password; every tenth user with a
//! second, unverified address, every fourth with a phone number, every
//! user with an image and public metadata (a string and a number), every
//! hundredth banned. Then, timed separately:
//!
//! 1. **generation**: the built binary (`import-clerk --csv --json
//!    --dialect postgres`, stdout to a file), with its peak RSS (VmHWM,
//!    sampled every 20 ms while it runs);
//! 2. **loading**: `psql -v ON_ERROR_STOP=1 -f` of that file into a fresh
//!    database on the test harness's PostgreSQL (pgtemp).
//!
//! It reports both, their total against issue 14's target (under two
//! minutes for a million users), users/s and script rows/s, and checks the
//! loaded database: users, attributes, disabled users, one user's row.
//! JSON to `target/bench/clerk_import.json`.
//!
//! `cargo bench --bench clerk_import` runs 1,000,000 users;
//! `CLERK_IMPORT_USERS=100000` fewer. Without `--bench` (as under
//! `cargo test --all-targets`) it runs 2,000 users and asserts the checks
//! (`target/bench/clerk_import_smoke.json`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use serde_json::json;
use sqlx::{Connection, PgConnection, Row as _};
use support::bench::{machine, number_from_env, real_run, verdict, write_json};
use support::{TestDb, Vendor};

const BIN: &str = env!("CARGO_BIN_EXE_userstore-gateway");
const TARGET: Duration = Duration::from_secs(120);
const BCRYPT: &str = "$2b$10$U4C0ZY8OG8y41F9LusfKyu3HRMBL0rCZcKBVsXhgr.n8Ou6FPhzO2";
const ARGON2ID: &str =
    "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$Xz3K1cS0d2FyWqQ2t2b8l3Q9Yk0b3b8cS9a5a1b2c3d";
const FIRST: [&str; 8] = [
    "Max", "Anna", "Paul", "Lena", "O'Brien", "Zoë", "Jonas", "Mia",
];
const LAST: [&str; 6] = [
    "Mustermann",
    "Schmidt",
    "Back\\slash",
    "Weber",
    "Meyer",
    "Nguyen",
];

fn id(n: usize) -> String {
    format!("user_2b{n:024}")
}

fn email(n: usize) -> String {
    format!("user{n}@example.test")
}

fn banned(n: usize) -> bool {
    n % 100 == 7
}

fn password(n: usize) -> Option<(&'static str, &'static str)> {
    match n % 20 {
        0 | 1 => None,
        2 => Some((ARGON2ID, "argon2id")),
        _ => Some((BCRYPT, "bcrypt")),
    }
}

/// Attribute rows the import writes for user `n`.
fn attribute_rows(n: usize) -> usize {
    // clerk_id, migrated_from, image_url, two public metadata keys
    5 + usize::from(n % 10 == 3) + usize::from(n % 4 == 1)
}

fn csv_field(out: &mut String, text: &str) {
    if text.contains([',', '"', '\n']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

fn write_exports(dir: &Path, users: usize) -> anyhow::Result<()> {
    let mut csv = BufWriter::new(std::fs::File::create(dir.join("users.csv"))?);
    let mut json = BufWriter::new(std::fs::File::create(dir.join("users.json"))?);
    writeln!(
        csv,
        "id,first_name,last_name,username,primary_email_address,primary_phone_number,\
         verified_email_addresses,unverified_email_addresses,verified_phone_numbers,\
         unverified_phone_numbers,totp_secret,password_digest,password_hasher"
    )?;
    json.write_all(b"[")?;
    let mut line = String::with_capacity(512);
    for n in 0..users {
        let (first, last) = (FIRST[n % FIRST.len()], LAST[(n / 8) % LAST.len()]);
        let phone = (n % 4 == 1).then(|| format!("+4930{n:07}"));
        let second = (n % 10 == 3).then(|| format!("alt{n}@example.test"));
        let (digest, hasher) = password(n).unwrap_or(("", ""));
        // Half of the users have a username, the others sign in by email.
        let username = if n % 2 == 1 {
            format!("member{n}")
        } else {
            String::new()
        };
        line.clear();
        for (i, field) in [
            id(n).as_str(),
            first,
            last,
            &username,
            &email(n),
            phone.as_deref().unwrap_or(""),
            &email(n),
            second.as_deref().unwrap_or(""),
            phone.as_deref().unwrap_or(""),
            "",
            "",
            digest,
            hasher,
        ]
        .iter()
        .enumerate()
        {
            if i > 0 {
                line.push(',');
            }
            csv_field(&mut line, field);
        }
        line.push('\n');
        csv.write_all(line.as_bytes())?;
        let mut addresses = vec![json!({"id": format!("idn_{n}"), "object": "email_address",
            "email_address": email(n), "verification": {"status": "verified", "strategy": "email_code"}})];
        if let Some(second) = &second {
            addresses.push(
                json!({"id": format!("idn_{n}_2"), "object": "email_address",
                "email_address": second, "verification": {"status": "unverified"}}),
            );
        }
        let phones: Vec<_> = phone
            .iter()
            .map(|p| json!({"id": format!("idn_p{n}"), "phone_number": p, "verification": {"status": "verified"}}))
            .collect();
        let user = json!({
            "id": id(n), "object": "user", "first_name": first, "last_name": last,
            "username": (n % 2 == 1).then(|| format!("member{n}")),
            "email_addresses": addresses, "primary_email_address_id": format!("idn_{n}"),
            "phone_numbers": phones, "primary_phone_number_id": phone.as_ref().map(|_| format!("idn_p{n}")),
            "image_url": format!("https://img.clerk.com/{n}"), "has_image": true,
            "created_at": 1_650_000_000_000_i64 + n as i64 * 1000, "updated_at": 1_700_000_000_000_i64,
            "last_sign_in_at": 1_700_000_000_000_i64, "password_enabled": password(n).is_some(),
            "two_factor_enabled": false, "banned": banned(n), "locked": false,
            "external_accounts": [], "public_metadata": {"plan": "pro", "seats": n % 17},
            "private_metadata": {"stripe": "cus_x"}, "unsafe_metadata": {},
        });
        if n > 0 {
            json.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut json, &user)?;
    }
    json.write_all(b"]\n")?;
    csv.flush()?;
    json.flush()?;
    Ok(())
}

/// Runs `import-clerk`, stdout to `script`, sampling its peak RSS.
fn generate(dir: &Path, script: &Path) -> anyhow::Result<(Duration, u64, String)> {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .args(["import-clerk", "--dialect", "postgres", "--csv"])
        .arg(dir.join("users.csv"))
        .arg("--json")
        .arg(dir.join("users.json"))
        .stdout(std::fs::File::create(script)?)
        .stderr(Stdio::piped())
        .spawn()
        .context("starting import-clerk")?;
    let pid = child.id();
    let mut peak = 0;
    let stderr = child.stderr.take().context("stderr")?;
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if let Ok(kib) = support::bench::peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let log = reader.join().unwrap_or_default();
    ensure!(status.success(), "import-clerk failed: {log}");
    Ok((took, peak, log))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let smoke = !real_run();
    let users = if smoke {
        2_000
    } else {
        number_from_env("CLERK_IMPORT_USERS", 1_000_000, 100, 20_000_000)?
    };
    let machine = machine();
    let dir = tempfile::tempdir()?;
    eprintln!("[clerk_import] writing the exports of {users} users");
    let made = Instant::now();
    write_exports(dir.path(), users)?;
    let exports_took = made.elapsed();
    let csv_bytes = std::fs::metadata(dir.path().join("users.csv"))?.len();
    let json_bytes = std::fs::metadata(dir.path().join("users.json"))?.len();

    eprintln!("[clerk_import] import-clerk");
    let script = dir.path().join("users.sql");
    let (generation, peak_kib, log) = generate(dir.path(), &script)?;
    let script_bytes = std::fs::metadata(&script)?.len();
    ensure!(
        log.contains(&format!("{users} users written for postgres")),
        "no summary: {log}"
    );

    let db = TestDb::new(Vendor::Postgres).await;
    eprintln!("[clerk_import] psql -f ({} MB)", script_bytes / 1_000_000);
    let loading_started = Instant::now();
    let output = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", db.url(), "-f"])
        .arg(&script)
        .stdout(Stdio::null())
        .output()
        .context("psql (Debian package postgresql-client)")?;
    let loading = loading_started.elapsed();
    ensure!(
        output.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut conn = PgConnection::connect(db.url()).await?;
    let loaded: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut conn)
        .await?;
    let attributes: i64 = sqlx::query_scalar("SELECT count(*) FROM user_attributes")
        .fetch_one(&mut conn)
        .await?;
    let disabled: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE NOT enabled")
        .fetch_one(&mut conn)
        .await?;
    let sample = sqlx::query(
        "SELECT username, email, lastname, password_hash, email_verified, createdtimestamp \
         FROM users WHERE id = $1",
    )
    .bind(id(7))
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    let expected_attributes: usize = (0..users).map(attribute_rows).sum();
    let expected_disabled = (0..users).filter(|&n| banned(n)).count();
    let checks = [
        ("users loaded", loaded as usize == users),
        ("attribute rows", attributes as usize == expected_attributes),
        ("disabled users", disabled as usize == expected_disabled),
        (
            "user 7's row",
            sample.get::<String, _>("username") == "member7"
                && sample.get::<String, _>("email") == email(7)
                && sample.get::<String, _>("lastname") == LAST[0]
                && sample.get::<String, _>("password_hash") == format!("{{CLERK:bcrypt}}{BCRYPT}")
                && sample.get::<bool, _>("email_verified")
                && sample.get::<i64, _>("createdtimestamp") == 1_650_000_007_000,
        ),
    ];
    let total = generation + loading;
    let rows = users + expected_attributes;
    println!("clerk_import: {users} users ({rows} rows with attributes)");
    println!(
        "  exports      {:>8.1} s (not timed by the target)   CSV {} MB, JSON {} MB",
        exports_took.as_secs_f64(),
        csv_bytes / 1_000_000,
        json_bytes / 1_000_000
    );
    println!(
        "  generation   {:>8.1} s   {:>9.0} users/s   peak RSS {} MiB   script {} MB",
        generation.as_secs_f64(),
        users as f64 / generation.as_secs_f64(),
        peak_kib / 1024,
        script_bytes / 1_000_000
    );
    println!(
        "  loading      {:>8.1} s   {:>9.0} rows/s",
        loading.as_secs_f64(),
        rows as f64 / loading.as_secs_f64()
    );
    println!(
        "  total        {:>8.1} s   target < {} s for 1,000,000 users: {}",
        total.as_secs_f64(),
        TARGET.as_secs(),
        if users == 1_000_000 {
            verdict(total < TARGET)
        } else {
            "n/a (not 1,000,000 users)"
        }
    );
    for (check, ok) in &checks {
        println!("  check {check}: {}", if *ok { "ok" } else { "FAILED" });
    }
    let document = json!({
        "benchmark": "clerk_import",
        "smoke": smoke,
        "machine": machine,
        "users": users,
        "attribute_rows": expected_attributes,
        "exports_seconds": exports_took.as_secs_f64(),
        "csv_bytes": csv_bytes,
        "json_bytes": json_bytes,
        "generation_seconds": generation.as_secs_f64(),
        "generation_peak_rss_kib": peak_kib,
        "script_bytes": script_bytes,
        "loading_seconds": loading.as_secs_f64(),
        "total_seconds": total.as_secs_f64(),
        "target_seconds": TARGET.as_secs(),
        "users_per_second_generation": users as f64 / generation.as_secs_f64(),
        "rows_per_second_loading": rows as f64 / loading.as_secs_f64(),
        "checks": checks.iter().map(|(c, ok)| json!({"check": c, "ok": ok})).collect::<Vec<_>>(),
        "import_log": log,
    });
    let path = write_json(
        if smoke {
            "clerk_import_smoke"
        } else {
            "clerk_import"
        },
        &document,
    )?;
    eprintln!("[clerk_import] {}", path.display());
    for (check, ok) in checks {
        ensure!(ok, "check failed: {check}");
    }
    Ok(())
}
