//! `check` asks each database for the plans of the lookups and searches and
//! warns, with the reference schema's `CREATE INDEX`, when one reads the
//! whole users table; `--strict` turns that into a failure, and `serve` logs
//! the same warnings once at startup.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::faults::GatewayProcess;
use crate::support::gateway::{fixture_db, FIXTURE, TOKEN};
use crate::support::{TestDb, Vendor};
use userstore_gateway::dialect::Dialect;

const BIN: &str = env!("CARGO_BIN_EXE_userstore-gateway");

/// The reference schema with every `CREATE INDEX` left out (primary keys
/// stay), and the fixture users: a legacy database as it is often found.
async fn index_less_db(vendor: Vendor) -> TestDb {
    let db = TestDb::new(vendor).await;
    let schema: String = dialect(vendor)
        .reference_schema()
        .lines()
        .filter(|line| !line.trim_start().starts_with("CREATE INDEX"))
        .map(|line| format!("{line}\n"))
        .collect();
    db.run_script(&schema).await;
    db.run_script(FIXTURE).await;
    db
}

fn dialect(vendor: Vendor) -> Dialect {
    match vendor {
        Vendor::Postgres => Dialect::Postgres,
        Vendor::MariaDb => Dialect::MySql,
        Vendor::Sqlite => Dialect::Sqlite,
    }
}

fn config(dir: &Path, db: &TestDb, extra: &str) -> std::path::PathBuf {
    let path = dir.join("gateway.toml");
    let text = format!(
        "[database]\nurl = \"{}\"\n[auth]\napi_tokens = [\"{TOKEN}\"]\n{extra}",
        db.url()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

fn check(config: &Path, strict: bool) -> (i32, String) {
    let mut command = Command::new(BIN);
    command.args(["check", "--config"]).arg(config);
    if strict {
        command.arg("--strict");
    }
    let Output { status, stdout, .. } = command.output().expect("check runs");
    (
        status.code().expect("exit code"),
        String::from_utf8_lossy(&stdout).into_owned(),
    )
}

/// The report's WARN lines for `query`.
fn warnings<'a>(report: &'a str, query: &str) -> Vec<&'a str> {
    let subject = format!("[WARN] plan {query} ");
    report
        .lines()
        .filter(|line| line.starts_with(&subject))
        .collect()
}

on_every_vendor!(
    check_warns_with_the_missing_index_on_an_index_less_schema,
    check_is_quiet_about_plans_on_the_shipped_schema,
    check_names_only_the_missing_index
);

async fn check_warns_with_the_missing_index_on_an_index_less_schema(vendor: Vendor) {
    let db = index_less_db(vendor).await;
    let dialect = dialect(vendor);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path(), &db, "");

    let (code, report) = check(&config, false);
    let (strict_code, strict_report) = check(&config, true);

    assert_eq!(code, 0, "warnings alone pass without --strict:\n{report}");
    assert!(report.contains("check passed with"), "{report}");
    assert_eq!(
        strict_code, 1,
        "--strict fails on a warning:\n{strict_report}"
    );
    assert!(
        report.contains("[ok  ] plan user_by_id "),
        "the primary key serves lookups by id:\n{report}"
    );
    let index = |name: &str| {
        dialect
            .reference_index_sql(name)
            .unwrap_or_else(|| panic!("{name} in the reference schema"))
    };
    let username_index = index(&dialect.reference_index("username").expect("username index"));
    let email_index = index(&dialect.reference_index("email").expect("email index"));
    for (query, shape, statements) in [
        (
            "user_by_username",
            "lookup by username",
            vec![username_index],
        ),
        ("user_by_email", "lookup by email", vec![email_index]),
        ("search_users", "everyone", vec![index("users_username_id")]),
        (
            "search_users",
            "one-word prefix search",
            vec![username_index, email_index],
        ),
        (
            "count_users",
            "count of a one-word prefix search",
            vec![email_index],
        ),
    ] {
        let lines = warnings(&report, query);
        let line = lines
            .iter()
            .find(|line| line.contains(shape))
            .unwrap_or_else(|| panic!("no warning for {query} ({shape}):\n{report}"));
        assert!(
            line.contains("all of table users (about "),
            "names the table and its size: {line}"
        );
        for statement in statements {
            assert!(
                line.contains(statement),
                "{query} names {statement}: {line}"
            );
        }
    }
}

async fn check_is_quiet_about_plans_on_the_shipped_schema(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let dir = tempfile::tempdir().expect("temp dir");

    let (code, report) = check(&config(dir.path(), &db, ""), true);

    assert_eq!(code, 0, "{report}");
    assert!(!report.contains("[WARN]"), "{report}");
    for query in [
        "user_by_username",
        "user_by_email",
        "search_users",
        "count_users",
    ] {
        assert!(
            report.contains(&format!("[ok  ] plan {query} ")),
            "{query}:\n{report}"
        );
    }
    assert!(
        report.contains("two-word prefix search: index-driven"),
        "{report}"
    );
}

/// A configured query gets the warning, without a statement the gateway
/// cannot know.
#[tokio::test]
async fn check_warns_about_a_configured_query_that_scans() {
    let db = fixture_db(Vendor::Sqlite).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let extra = "[queries]\nuser_by_username = \"SELECT id, username, email, firstname, lastname, \
                 email_verified, createdtimestamp, password_hash FROM users \
                 WHERE trim(username) = :username\"\n";

    let (code, report) = check(&config(dir.path(), &db, extra), true);

    assert_eq!(code, 1, "{report}");
    let lines = warnings(&report, "user_by_username");
    let [line] = lines.as_slice() else {
        panic!("one warning for user_by_username:\n{report}");
    };
    assert!(line.contains("configured in [queries]"), "{line}");
    assert!(!line.contains("CREATE INDEX"), "{line}");
    assert!(warnings(&report, "user_by_email").is_empty(), "{report}");
}

/// `serve` logs each warning once, while it already answers.
#[tokio::test]
async fn serve_logs_each_plan_warning_once_at_startup() {
    let db = index_less_db(Vendor::Sqlite).await;
    let toml = format!(
        "[database]\nurl = \"{}\"\n[auth]\napi_tokens = [\"{TOKEN}\"]\n",
        db.url()
    );
    let gateway = GatewayProcess::start(&toml);
    let marker = "query plan reads a whole table";
    let deadline = Instant::now() + Duration::from_secs(20);
    while !gateway
        .log_text()
        .contains("count of a one-word prefix search")
    {
        assert!(
            Instant::now() < deadline,
            "no plan warnings logged:\n{}",
            gateway.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));

    let log = gateway.log_text();
    let about = |shape: &str| {
        log.lines()
            .filter(|line| line.contains(marker) && line.contains(shape))
            .count()
    };
    assert_eq!(about("lookup by username"), 1, "{log}");
    assert_eq!(about("lookup by email"), 1, "{log}");
    assert_eq!(about("lookup by id"), 0, "{log}");
    let users_index = Dialect::Sqlite
        .reference_index_sql("users_username_nocase")
        .expect("reference index");
    assert!(log.contains(users_index), "{log}");
}

/// With one of the shipped indexes dropped, the lookups and searches that
/// need it are named, with that one statement and no other.
async fn check_names_only_the_missing_index(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let dialect = dialect(vendor);
    let email = dialect.reference_index("email").expect("email index");
    db.run_script(&match vendor {
        Vendor::MariaDb => format!("DROP INDEX {email} ON users"),
        Vendor::Postgres | Vendor::Sqlite => format!("DROP INDEX {email}"),
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");

    let (code, report) = check(&config(dir.path(), &db, ""), true);
    eprintln!("{report}");

    assert_eq!(code, 1, "{report}");
    let statement = dialect.reference_index_sql(&email).expect("statement");
    let warned: Vec<&str> = report.lines().filter(|l| l.starts_with("[WARN]")).collect();
    for query in ["user_by_email", "search_users", "count_users"] {
        assert!(!warnings(&report, query).is_empty(), "{query}:\n{report}");
    }
    for line in &warned {
        assert!(line.contains(statement), "{line}");
        assert_eq!(line.matches("CREATE INDEX").count(), 1, "{line}");
    }
    assert!(warnings(&report, "user_by_username").is_empty(), "{report}");
    assert!(
        report.contains("everyone (search *), first page: index-driven"),
        "{report}"
    );
}
