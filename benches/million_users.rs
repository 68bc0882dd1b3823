//! A million users (issue 7): what lookups, searches, counts and password
//! checks cost at a realistic size, on PostgreSQL and on MariaDB, with the
//! reference schema's indexes, all on 127.0.0.1.
//!
//! For each vendor the benchmark starts a throwaway server (the test
//! harness's), creates `migrations/<dialect>/0001_reference_schema.sql`,
//! loads N users with server-side SQL (`generate_series`, MariaDB's `seq_1_to_N`;
//! each user with a realm role, every tenth with a second one, every third
//! with a client role, all sharing one `$6$` hash of 5000 rounds), runs
//! `VACUUM ANALYZE` / `ANALYZE TABLE`, and starts the gateway binary as its
//! own process with 10 database connections. Then, side by side:
//!
//! 1. **Lookups** by random username and by random email, 8 concurrent
//!    clients for a fixed time: requests/s, p50, p99. Next to them the same
//!    three SELECTs the gateway sends for one lookup (the user, its realm
//!    roles, its client roles: the default SQL of `QueryName::default_sql`)
//!    straight to the database over 8 connections, and the ratio of the
//!    rates. By username also a third time as the gateway's pool sends them
//!    (read-only sessions, and on MariaDB the read-only check before each
//!    statement), which tells the pool's share of the difference from the
//!    process's. `GET /v1/users/{id}` for reference. Each fixed-time
//!    measurement also reports the CPUs the gateway and the whole machine
//!    used meanwhile, so that a busy machine shows.
//! 2. **Search and count**, one request at a time, page 1 of 20: everyone
//!    (`*`), the prefixes `user12345` and `max`, the exact `"user4242"`, the
//!    two words `Max Muster`, the infix `*ast99*`, and the counts of everyone
//!    and of `max`: p50 and p95. On PostgreSQL the infix again after
//!    installing the optional `0003_trigram_search.sql` (pg_trgm).
//! 3. **verify-password** with the right password at 1 and at 2 x cores
//!    concurrent connections: the rate against cores x the 1-connection rate.
//! 4. The gateway's **peak RSS** (VmHWM) after all of that, and its **time to
//!    ready** (spawn until `/readyz` answers 200).
//!
//! Results are rates, percentiles and ratios measured in the same run, never
//! pass/fail timings: the targets of issue 7 are printed next to them
//! (MariaDB: within 2x of the PostgreSQL targets: twice the time, half the
//! ratio, twice the memory). The JSON goes to
//! `target/bench/million_users.json`, with every percentile and the
//! database's plan (`EXPLAIN (ANALYZE, BUFFERS)`, MariaDB's `ANALYZE
//! FORMAT=JSON`) of each lookup statement and search, run once more at the
//! end of its measurement.
//!
//! `cargo bench --bench million_users` does the real run with 1,000,000 users
//! (about 7 minutes on 2 cores, a minute of it loading); fewer with
//! `cargo bench --bench million_users -- --users 100000` or
//! `MILLION_USERS_N=100000`. Other knobs: `MILLION_USERS_VENDORS`
//! (`postgres,mariadb`), `MILLION_USERS_SECONDS` (10, per throughput
//! measurement), `MILLION_USERS_WARMUP_SECONDS` (2), `MILLION_USERS_CLIENTS`
//! (8), `MILLION_USERS_SAMPLES` (200 per search) and
//! `MILLION_USERS_SEARCH_SECONDS` (20, the most one search may take in all).
//! Without `--bench` on the command line, as under `cargo test --all-targets`,
//! it does a smoke run of 2,000 users per vendor with short measurements that
//! checks the answers (count, lookups, roles, exact, two-word and infix
//! search, verify) and writes `target/bench/million_users_smoke.json`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, MySqlConnection, PgConnection, Row as _};
use support::bench::{
    cpu_ticks, cpus, load_average, machine, machine_ticks, ms, number_from_env, peak_rss_kib,
    real_run, toml_string, verdict, write_json, Percentiles, XorShift,
};
use support::{TestDb, Vendor};
use userstore_gateway::dialect::Dialect;
use userstore_gateway::store::{search_pattern, QueryName, MAX_SEARCH_TERMS};

const TOKEN: &str = "bench-token-0123456789";
/// The password of every loaded user, and its `$6$` hash (5000 rounds), the
/// one of `mmustermann` in tests/fixtures/users.sql.
const PASSWORD: &str = "B1Systems!";
const HASH: &str =
    "$6$xyz$C/vOVAshxi1VfgblFW220kcBCpZ7lihIohmNInE5M6wCQdxDaleG6LZzzGiRJ8sOWQHGwtYuz.8kcfZntV1OY/";

/// First names, picked by `n % 50`. Only `Max` starts with "max".
const FIRST_NAMES: [&str; 50] = [
    "Max",
    "Anna",
    "Paul",
    "Lena",
    "Felix",
    "Emma",
    "Jonas",
    "Mia",
    "Leon",
    "Hannah",
    "Lukas",
    "Sofia",
    "Finn",
    "Clara",
    "Elias",
    "Marie",
    "Noah",
    "Lea",
    "Ben",
    "Laura",
    "Tim",
    "Julia",
    "Jan",
    "Sarah",
    "David",
    "Lisa",
    "Tom",
    "Nina",
    "Erik",
    "Eva",
    "Karl",
    "Ida",
    "Oskar",
    "Greta",
    "Hugo",
    "Frieda",
    "Anton",
    "Ella",
    "Moritz",
    "Luise",
    "Simon",
    "Paula",
    "Jakob",
    "Rosa",
    "Sebastian",
    "Helena",
    "Vincent",
    "Alma",
    "Theo",
    "Johanna",
];

/// Last names, picked by `(n / 7) % 100`: `Max Mustermann` is every 700th
/// user. Three end in "ast", so that `*ast99*` finds the emails of users
/// whose number starts with 99.
const LAST_NAMES: [&str; 100] = [
    "Mustermann",
    "Gast",
    "Quast",
    "Rast",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schroeder",
    "Neumann",
    "Schwarz",
    "Braun",
    "Zimmermann",
    "Hartmann",
    "Krueger",
    "Hofmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Schmid",
    "Schulze",
    "Maier",
    "Koehler",
    "Herrmann",
    "Walter",
    "Koenig",
    "Mayer",
    "Huber",
    "Kaiser",
    "Fuchs",
    "Peters",
    "Lang",
    "Scholz",
    "Moeller",
    "Weiss",
    "Jung",
    "Hahn",
    "Schubert",
    "Vogel",
    "Friedrich",
    "Keller",
    "Guenther",
    "Frank",
    "Berger",
    "Winkler",
    "Roth",
    "Beck",
    "Lorenz",
    "Baumann",
    "Franke",
    "Albrecht",
    "Schuster",
    "Simon",
    "Ludwig",
    "Boehm",
    "Winter",
    "Kraus",
    "Martin",
    "Schumacher",
    "Kraemer",
    "Vogt",
    "Stein",
    "Jaeger",
    "Otto",
    "Sommer",
    "Gross",
    "Seidel",
    "Heinrich",
    "Brandt",
    "Haas",
    "Schreiber",
    "Graf",
    "Schulte",
    "Dietrich",
    "Ziegler",
    "Kuhn",
    "Kuehn",
    "Pohl",
    "Engel",
    "Horn",
    "Busch",
    "Bergmann",
    "Thomas",
    "Voigt",
    "Sauer",
    "Arnold",
    "Lindner",
    "Wolff",
];

/// Email domains, picked by `(n / 3) % 5`.
const DOMAINS: [&str; 5] = [
    "example.com",
    "example.org",
    "mail.test",
    "corp.test",
    "users.test",
];

/// Rows per INSERT ... SELECT while loading.
const LOAD_CHUNK: u64 = 100_000;
/// The two words of the multi-word search, and what they must find.
const TWO_WORDS: &str = "Max Muster";

/// User number `n` (1..=N): id, username, names and email, as the load's SQL
/// makes them.
fn user_id(n: u64) -> String {
    format!("u{n}")
}

fn username(n: u64) -> String {
    format!("user{n}")
}

fn first_name(n: u64) -> &'static str {
    FIRST_NAMES[(n % FIRST_NAMES.len() as u64) as usize]
}

fn last_name(n: u64) -> &'static str {
    LAST_NAMES[((n / 7) % LAST_NAMES.len() as u64) as usize]
}

fn email(n: u64) -> String {
    let domain = DOMAINS[((n / 3) % DOMAINS.len() as u64) as usize];
    format!(
        "{}.{}{n}@{domain}",
        first_name(n).to_ascii_lowercase(),
        last_name(n).to_ascii_lowercase()
    )
}

/// Whether user `n` matches every word of a prefix search (lower-case words).
fn matches_prefixes(n: u64, words: &[String]) -> bool {
    let fields = [
        username(n),
        email(n),
        first_name(n).to_ascii_lowercase(),
        last_name(n).to_ascii_lowercase(),
    ];
    words
        .iter()
        .all(|word| fields.iter().any(|field| field.starts_with(word.as_str())))
}

struct Plan {
    smoke: bool,
    users: u64,
    vendors: Vec<Vendor>,
    clients: usize,
    measure: Duration,
    warmup: Duration,
    samples: usize,
    search_limit: Duration,
}

impl Plan {
    fn from_environment() -> anyhow::Result<Self> {
        let users = match users_flag()? {
            Some(users) => users,
            None => number_from_env("MILLION_USERS_N", 1_000_000, 100, 100_000_000)?,
        };
        let vendors = std::env::var("MILLION_USERS_VENDORS")
            .unwrap_or_else(|_| "postgres,mariadb".to_owned())
            .split(',')
            .map(|name| match name.trim().to_ascii_lowercase().as_str() {
                "postgres" | "postgresql" => Ok(Vendor::Postgres),
                "mariadb" | "mysql" => Ok(Vendor::MariaDb),
                other => {
                    bail!("MILLION_USERS_VENDORS: unknown vendor {other:?} (postgres, mariadb)")
                }
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let seconds = |name, default, max| -> anyhow::Result<Duration> {
            Ok(Duration::from_secs(
                number_from_env(name, default, 0, max)? as u64
            ))
        };
        Ok(Self {
            smoke: false,
            users: users as u64,
            vendors,
            clients: number_from_env("MILLION_USERS_CLIENTS", 8, 1, 256)?,
            measure: seconds("MILLION_USERS_SECONDS", 10, 3_600)?.max(Duration::from_secs(1)),
            warmup: seconds("MILLION_USERS_WARMUP_SECONDS", 2, 600)?,
            samples: number_from_env("MILLION_USERS_SAMPLES", 200, 1, 1_000_000)?,
            search_limit: seconds("MILLION_USERS_SEARCH_SECONDS", 20, 3_600)?
                .max(Duration::from_secs(1)),
        })
    }

    /// A few seconds per vendor: enough to see that every part still works.
    fn smoke() -> Self {
        Self {
            smoke: true,
            users: 2_000,
            vendors: vec![Vendor::Postgres, Vendor::MariaDb],
            clients: 8,
            measure: Duration::from_millis(500),
            warmup: Duration::from_millis(100),
            samples: 5,
            search_limit: Duration::from_secs(5),
        }
    }
}

/// `--users N` after `--` on the `cargo bench` command line.
fn users_flag() -> anyhow::Result<Option<usize>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(at) = args.iter().position(|arg| arg == "--users") else {
        return Ok(None);
    };
    let text = args.get(at + 1).context("--users needs a number")?;
    let users: usize = text
        .replace('_', "")
        .parse()
        .with_context(|| format!("--users {text:?} is not a whole number"))?;
    ensure!(users >= 100, "--users must be at least 100, not {users}");
    Ok(Some(users))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let plan = if real_run() {
        Plan::from_environment()?
    } else {
        Plan::smoke()
    };
    let started = Instant::now();
    let load_at_start = load_average();
    // Now, so that its load average is the one at the start.
    let machine = machine();
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(120))
        .build()?;
    let mut runs = Vec::new();
    for &vendor in &plan.vendors {
        eprintln!(
            "[million_users] {}: {} users",
            vendor_name(vendor),
            plan.users
        );
        runs.push(run_vendor(&plan, &http, vendor).await?);
    }
    let load_at_end = load_average();
    let took = started.elapsed();
    let document = json!({
        "benchmark": "million_users",
        "smoke": plan.smoke,
        "machine": machine,
        "load_average_at_end": load_at_end,
        "took_seconds": took.as_secs_f64(),
        "users": plan.users,
        "plan": {
            "clients": plan.clients,
            "measure_seconds": plan.measure.as_secs_f64(),
            "warmup_seconds": plan.warmup.as_secs_f64(),
            "search_samples": plan.samples,
            "search_limit_seconds": plan.search_limit.as_secs_f64(),
            "verify_connections": [1, 2 * cpus()],
            "gateway_max_connections": GATEWAY_CONNECTIONS,
        },
        "vendors": runs.iter().map(VendorRun::to_json).collect::<Vec<_>>(),
    });
    let name = if plan.smoke {
        "million_users_smoke"
    } else {
        "million_users"
    };
    let path = write_json(name, &document)?;
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
        .with_context(|| format!("reading back {}", path.display()))?;
    ensure!(
        written["vendors"].as_array().map(Vec::len) == Some(runs.len()),
        "{} does not hold every vendor",
        path.display()
    );
    if plan.smoke {
        for run in &runs {
            run.ensure_no_failures()?;
        }
        let vendors: Vec<&str> = runs.iter().map(|r| vendor_name(r.vendor)).collect();
        println!(
            "million_users smoke run: {} with {} users each, answers checked, JSON {} \
             ({} ms in all; numbers are not meaningful, use `cargo bench --bench million_users`)",
            vendors.join(" and "),
            plan.users,
            path.display(),
            took.as_millis()
        );
        return Ok(());
    }
    println!();
    println!(
        "million_users: {} users, 127.0.0.1, {} CPUs, load average at start {load_at_start}, \
         at end {load_at_end}; {:.0} s in all",
        plan.users,
        cpus(),
        took.as_secs_f64()
    );
    for run in &runs {
        run.print(&plan);
    }
    println!("JSON: {}", path.display());
    Ok(())
}

fn vendor_name(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Postgres => "PostgreSQL",
        Vendor::MariaDb => "MariaDB",
        Vendor::Sqlite => "SQLite",
    }
}

fn dialect(vendor: Vendor) -> Dialect {
    match vendor {
        Vendor::Postgres => Dialect::Postgres,
        Vendor::MariaDb => Dialect::MySql,
        Vendor::Sqlite => Dialect::Sqlite,
    }
}

// ---------------------------------------------------------------------------
// One vendor

/// Everything measured on one vendor.
struct VendorRun {
    vendor: Vendor,
    server_version: String,
    load: Duration,
    analyze: Duration,
    /// PostgreSQL: building the pg_trgm indexes (and analysing them).
    trigram: Option<Duration>,
    ready: Duration,
    peak_rss_kib: u64,
    lookups: Vec<Lookups>,
    /// The plans of the SELECTs of a lookup.
    lookup_plans: Vec<Value>,
    searches: Vec<(Search, Sampled)>,
    verify_one: Load,
    verify_many: Load,
    verify_connections: usize,
    checks: Value,
}

async fn run_vendor(
    plan: &Plan,
    http: &reqwest::Client,
    vendor: Vendor,
) -> anyhow::Result<VendorRun> {
    let db = TestDb::with_schema(vendor).await;
    let mut admin = Conn::open(vendor, db.url(), Session::Plain).await?;
    let server_version = admin.text("SELECT version()").await?;
    if vendor == Vendor::MariaDb {
        // The harness starts MariaDB with a 32 MB buffer pool and an 8 MB redo
        // log to keep tests small; a server for a million users has room for
        // them (both settings can change while the server runs).
        admin
            .run("SET GLOBAL innodb_buffer_pool_size = 1073741824")
            .await?;
        admin
            .run("SET GLOBAL innodb_log_file_size = 536870912")
            .await?;
    }

    let started = Instant::now();
    let mut from = 1;
    while from <= plan.users {
        let to = (from + LOAD_CHUNK - 1).min(plan.users);
        for statement in load_statements(vendor, from, to) {
            admin
                .run(&statement)
                .await
                .with_context(|| format!("loading users {from}..={to}"))?;
        }
        if !plan.smoke {
            eprintln!(
                "[million_users] {}: {to} users loaded ({:.0} s)",
                vendor_name(vendor),
                started.elapsed().as_secs_f64()
            );
        }
        from = to + 1;
    }
    let load = started.elapsed();
    let started = Instant::now();
    admin.run(analyze_statement(vendor)).await?;
    let analyze = started.elapsed();
    eprintln!(
        "[million_users] {}: loaded in {:.1} s, analysed in {:.1} s",
        vendor_name(vendor),
        load.as_secs_f64(),
        analyze.as_secs_f64()
    );

    let mut gateway = Gateway::start(db.url(), http).await?;
    let checks = check_answers(plan, http, &gateway.base).await?;

    let mut lookups = Vec::new();
    let statements = Arc::new(Statements::of(dialect(vendor))?);
    for (label, request, by, like_pool) in [
        (
            "by-username",
            Request::ByUsername,
            Some(LookupBy::Username),
            true,
        ),
        ("by-email", Request::ByEmail, Some(LookupBy::Email), false),
        ("by-id", Request::ById, None, false),
    ] {
        eprintln!("[million_users] {}: lookups {label}", vendor_name(vendor));
        let clients = (0..plan.clients)
            .map(|_| Client::gateway(http, &gateway.base, request))
            .collect();
        let mut set = Lookups {
            label,
            gateway: closed_loop(clients, plan, gateway.pid()).await?,
            direct: None,
            like_pool: None,
        };
        if let Some(by) = by {
            let sessions = if like_pool {
                &[Session::Plain, Session::LikePool][..]
            } else {
                &[Session::Plain][..]
            };
            for &session in sessions {
                let mut clients = Vec::new();
                for _ in 0..plan.clients {
                    clients.push(Client::Direct {
                        conn: Conn::open(vendor, db.url(), session).await?,
                        statements: Arc::clone(&statements),
                        by,
                        session,
                    });
                }
                let load = Some(closed_loop(clients, plan, None).await?);
                match session {
                    Session::Plain => set.direct = load,
                    Session::LikePool => set.like_pool = load,
                }
            }
        }
        lookups.push(set);
    }

    let k = plan.users / 2;
    let mut lookup_plans = Vec::new();
    for (query, param, value) in [
        (QueryName::UserByUsername, "username", username(k)),
        (QueryName::UserByEmail, "email", email(k)),
        (QueryName::RealmRolesOfUser, "user_id", user_id(k)),
        (QueryName::ClientRolesOfUser, "user_id", user_id(k)),
    ] {
        let sql = query
            .default_sql(dialect(vendor), false)
            .context("no default SQL")?
            .replace(&format!(":{param}"), &format!("'{value}'"));
        lookup_plans.push(json!({ "sql": sql, "plan": admin.explain(&sql).await? }));
    }

    eprintln!("[million_users] {}: searches", vendor_name(vendor));
    let mut searches = Vec::new();
    for search in Search::all() {
        let mut sampled = sequential(plan, http, &gateway.base, &search).await?;
        sampled.plan = admin.explain(&search.sql(dialect(vendor))?).await?;
        searches.push((search, sampled));
    }
    let mut trigram = None;
    if vendor == Vendor::Postgres {
        let started = Instant::now();
        admin
            .run(&format!(
                "SET maintenance_work_mem = '512MB';\n{}\nANALYZE users",
                include_str!("../migrations/postgres/0003_trigram_search.sql")
            ))
            .await
            .context("installing 0003_trigram_search.sql")?;
        trigram = Some(started.elapsed());
        eprintln!(
            "[million_users] {}: pg_trgm indexes built in {:.1} s",
            vendor_name(vendor),
            started.elapsed().as_secs_f64()
        );
        let search = Search::infix_with_trigrams();
        let mut sampled = sequential(plan, http, &gateway.base, &search).await?;
        sampled.plan = admin.explain(&search.sql(dialect(vendor))?).await?;
        searches.push((search, sampled));
    }

    eprintln!("[million_users] {}: verify-password", vendor_name(vendor));
    let verify_connections = 2 * cpus();
    let verify_one = closed_loop(
        vec![Client::gateway(http, &gateway.base, Request::Verify)],
        plan,
        gateway.pid(),
    )
    .await?;
    let verify_many = closed_loop(
        (0..verify_connections)
            .map(|_| Client::gateway(http, &gateway.base, Request::Verify))
            .collect(),
        plan,
        gateway.pid(),
    )
    .await?;

    let peak_rss_kib = gateway.peak_rss_kib()?;
    let ready = gateway.ready;
    gateway.stop();
    drop(admin);
    drop(db);
    Ok(VendorRun {
        vendor,
        server_version,
        load,
        analyze,
        trigram,
        ready,
        peak_rss_kib,
        lookups,
        lookup_plans,
        searches,
        verify_one,
        verify_many,
        verify_connections,
        checks,
    })
}

/// The INSERT ... SELECT statements that load users `from..=to` and their roles
/// (the role tables first, with the first chunk).
fn load_statements(vendor: Vendor, from: u64, to: u64) -> Vec<String> {
    let quoted = |names: &[&str]| -> String {
        names
            .iter()
            .map(|name| format!("'{name}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (first, last, domains) = (quoted(&FIRST_NAMES), quoted(&LAST_NAMES), quoted(&DOMAINS));
    let (nf, nl, nd) = (FIRST_NAMES.len(), LAST_NAMES.len(), DOMAINS.len());
    let mut statements = Vec::new();
    if from == 1 {
        statements.push(
            "INSERT INTO realm_roles (id, role) VALUES ('r1', 'user'), ('r2', 'auditor')".into(),
        );
        statements.push(
            "INSERT INTO client_roles (id, client, role) VALUES \
             ('c1', 'account', 'manage-account'), ('c2', 'reports', 'reader')"
                .into(),
        );
    }
    let (numbers, id, generated) = match vendor {
        Vendor::Postgres => (
            format!("generate_series({from}::bigint, {to}) AS n"),
            "'u' || n",
            format!(
                "SELECT 'u' || n, 1700000000000 + n * 1000, \
                 lower(f) || '.' || lower(l) || n || '@' || d, n % 2 = 0, f, l, '{HASH}', 'user' || n \
                 FROM (SELECT n, (ARRAY[{first}])[1 + n % {nf}] AS f, \
                 (ARRAY[{last}])[1 + (n / 7) % {nl}] AS l, \
                 (ARRAY[{domains}])[1 + (n / 3) % {nd}] AS d \
                 FROM generate_series({from}::bigint, {to}) AS n) AS g"
            ),
        ),
        _ => (
            format!("(SELECT seq AS n FROM seq_{from}_to_{to}) AS s"),
            "CONCAT('u', n)",
            format!(
                "SELECT CONCAT('u', n), 1700000000000 + n * 1000, \
                 CONCAT(LOWER(f), '.', LOWER(l), n, '@', d), n % 2 = 0, f, l, '{HASH}', \
                 CONCAT('user', n) \
                 FROM (SELECT seq AS n, ELT(1 + seq % {nf}, {first}) AS f, \
                 ELT(1 + (seq DIV 7) % {nl}, {last}) AS l, \
                 ELT(1 + (seq DIV 3) % {nd}, {domains}) AS d \
                 FROM seq_{from}_to_{to}) AS g"
            ),
        ),
    };
    statements.push(format!(
        "INSERT INTO users (id, createdtimestamp, email, email_verified, firstname, lastname, \
         password_hash, username) {generated}"
    ));
    statements.push(format!(
        "INSERT INTO users_to_realm_roles (user_id, realm_role_id) SELECT {id}, 'r1' FROM {numbers}"
    ));
    statements.push(format!(
        "INSERT INTO users_to_realm_roles (user_id, realm_role_id) \
         SELECT {id}, 'r2' FROM {numbers} WHERE n % 10 = 0"
    ));
    statements.push(format!(
        "INSERT INTO users_to_client_roles (user_id, client_role_id) \
         SELECT {id}, CASE WHEN n % 2 = 0 THEN 'c1' ELSE 'c2' END FROM {numbers} WHERE n % 3 = 0"
    ));
    statements
}

/// What a DBA runs after a bulk load. On PostgreSQL VACUUM as well: it sets
/// the visibility map that an index-only scan (the count) needs, which
/// autovacuum would do on its own a little later.
fn analyze_statement(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Postgres => {
            "VACUUM (ANALYZE) users, users_to_realm_roles, users_to_client_roles, \
             realm_roles, client_roles"
        }
        _ => {
            "ANALYZE TABLE users, users_to_realm_roles, users_to_client_roles, \
             realm_roles, client_roles"
        }
    }
}

// ---------------------------------------------------------------------------
// Checks of the answers (not timed)

/// Asks the gateway things whose answers follow from the load, so that a
/// broken load, query or index shows up as an error instead of fast numbers.
async fn check_answers(plan: &Plan, http: &reqwest::Client, base: &str) -> anyhow::Result<Value> {
    let n = plan.users;
    let get = |path: String, query: Vec<(&'static str, String)>| async move {
        let response = http
            .get(format!("{base}{path}"))
            .query(&query)
            .bearer_auth(TOKEN)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        ensure!(status == 200, "GET {path} {query:?}: HTTP {status} {body}");
        anyhow::Ok(body)
    };

    let count = get("/v1/users/count".into(), vec![]).await?;
    ensure!(
        count["count"].as_u64() == Some(n),
        "count of everyone is {count}, not {n}"
    );

    // A user with both realm roles and a client role, in the middle.
    let k = ((n / 2) / 30 * 30).max(30).min(n / 30 * 30);
    ensure!(k >= 30, "at least 30 users are needed for the checks");
    let user = get(format!("/v1/users/by-username/{}", username(k)), vec![]).await?;
    ensure!(
        user["id"] == user_id(k).as_str()
            && user["email"] == email(k).as_str()
            && user["firstName"] == first_name(k)
            && user["lastName"] == last_name(k),
        "by-username {} answered {user}",
        username(k)
    );
    let mut realm_roles: Vec<&str> = user["realmRoles"]
        .as_array()
        .context("realmRoles")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    realm_roles.sort_unstable();
    ensure!(
        realm_roles == ["auditor", "user"],
        "realm roles of {}: {realm_roles:?}",
        username(k)
    );
    ensure!(
        user["clientRoles"]["account"] == json!(["manage-account"]),
        "client roles of {}: {}",
        username(k),
        user["clientRoles"]
    );
    let by_email = get(
        format!("/v1/users/by-email/{}", email(k).to_uppercase()),
        vec![],
    )
    .await?;
    ensure!(
        by_email["id"] == user_id(k).as_str(),
        "by-email {} (upper case) answered {by_email}",
        email(k)
    );

    let page = |search: String| {
        let get = &get;
        async move {
            let body = get(
                "/v1/users".into(),
                vec![
                    ("search", search),
                    ("first", "0".into()),
                    ("max", "20".into()),
                ],
            )
            .await?;
            let names: Vec<String> = body["users"]
                .as_array()
                .context("users")?
                .iter()
                .filter_map(|u| u["username"].as_str().map(str::to_owned))
                .collect();
            anyhow::Ok(names)
        }
    };
    let exact = page(format!("\"{}\"", username(k))).await?;
    ensure!(
        exact == [username(k)],
        "exact search for {}: {exact:?}",
        username(k)
    );
    let infix = format!("*{}{k}@*", last_name(k).to_ascii_lowercase());
    let found = page(infix.clone()).await?;
    ensure!(found == [username(k)], "infix search {infix}: {found:?}");
    let everyone = page("*".into()).await?;
    let mut sorted = everyone.clone();
    sorted.sort();
    ensure!(
        everyone.len() == 20.min(n as usize) && everyone == sorted,
        "search * answered {everyone:?}"
    );

    let words: Vec<String> = TWO_WORDS
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let expected = (1..=n).filter(|&i| matches_prefixes(i, &words)).count() as u64;
    ensure!(expected > 0, "no user matches {TWO_WORDS:?}");
    let counted = get(
        "/v1/users/count".into(),
        vec![("search", TWO_WORDS.to_owned())],
    )
    .await?;
    ensure!(
        counted["count"].as_u64() == Some(expected),
        "count of {TWO_WORDS:?} is {counted}, not {expected}"
    );
    let two_words = page(TWO_WORDS.to_owned()).await?;
    ensure!(
        two_words.len() as u64 == expected.min(20),
        "search {TWO_WORDS:?} found {two_words:?}, {expected} expected"
    );

    for (password, valid) in [(PASSWORD, true), ("wrong-password", false)] {
        let response = http
            .post(format!("{base}/v1/users/{}/verify-password", user_id(k)))
            .bearer_auth(TOKEN)
            .json(&json!({ "password": password }))
            .send()
            .await?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        ensure!(
            status == 200 && body["valid"] == valid,
            "verify-password of {} (valid {valid} expected): HTTP {status} {body}",
            user_id(k)
        );
    }
    Ok(json!({
        "count": n,
        "checked_user": username(k),
        "two_words": TWO_WORDS,
        "two_words_count": expected,
    }))
}

// ---------------------------------------------------------------------------
// The gateway process

/// Database connections of the gateway.
const GATEWAY_CONNECTIONS: u32 = 10;

/// The gateway binary (the optimized one under `cargo bench`) as its own
/// process, so that its memory can be read; killed on drop.
struct Gateway {
    child: Option<Child>,
    base: String,
    log: PathBuf,
    /// Spawn until the first 200 from `/readyz`.
    ready: Duration,
    _dir: tempfile::TempDir,
}

impl Gateway {
    async fn start(url: &str, http: &reqwest::Client) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("gateway.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nurl = {}\nmax_connections = {GATEWAY_CONNECTIONS}\n\
                 acquire_timeout_ms = 10000\nstatement_timeout_ms = 60000\n\n\
                 [auth]\napi_tokens = [{}]\n",
                toml_string(url),
                toml_string(TOKEN)
            ),
        )?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = dir.path().join("gateway.log");
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_userstore-gateway"))
            .args(["serve", "--config"])
            .arg(&config)
            .env(
                "USERSTORE_GATEWAY__SERVER__LISTEN",
                format!("127.0.0.1:{port}"),
            )
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting the gateway")?;
        let mut gateway = Self {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            log,
            ready: Duration::ZERO,
            _dir: dir,
        };
        let readyz = format!("{}/readyz", gateway.base);
        loop {
            let answer = http
                .get(&readyz)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status() == 200) {
                gateway.ready = started.elapsed();
                return Ok(gateway);
            }
            let exited = match gateway.child.as_mut() {
                Some(child) => child.try_wait()?.is_some(),
                None => true,
            };
            if exited || started.elapsed() > Duration::from_secs(60) {
                bail!(
                    "the gateway did not get ready ({}):\n{}",
                    if exited { "it exited" } else { "60 s" },
                    gateway.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        let child = self.child.as_ref().context("the gateway is not running")?;
        peak_rss_kib(child.id())
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------
// Straight to the database

/// One connection of our own, not the gateway's pool.
enum Conn {
    Postgres(PgConnection),
    MySql(MySqlConnection),
}

/// How a direct connection talks to the database.
#[derive(Clone, Copy, PartialEq)]
enum Session {
    /// Prepared statements on a plain session, as any client would send them.
    Plain,
    /// As the gateway's pool does (`src/dialect/pool.rs`): a read-only
    /// session, and on MariaDB, before each statement, the check that the
    /// session is still read-only (one query, with the variable the pool
    /// learned this server answers).
    LikePool,
}

impl Conn {
    async fn open(vendor: Vendor, url: &str, session: Session) -> anyhow::Result<Self> {
        let like_pool = session == Session::LikePool;
        Ok(match vendor {
            Vendor::Postgres => {
                let mut options = PgConnectOptions::from_str(url)?;
                if like_pool {
                    options = options.options([("default_transaction_read_only", "on")]);
                }
                Self::Postgres(PgConnection::connect_with(&options).await?)
            }
            Vendor::MariaDb => {
                let mut conn = MySqlConnection::connect(url).await?;
                if like_pool {
                    sqlx::raw_sql("SET SESSION TRANSACTION READ ONLY")
                        .execute(&mut conn)
                        .await?;
                }
                Self::MySql(conn)
            }
            Vendor::Sqlite => bail!("SQLite is not part of this benchmark"),
        })
    }

    /// What the gateway's pool sends before it hands out a connection.
    async fn as_pool_acquires(&mut self) -> anyhow::Result<()> {
        match self {
            Self::Postgres(_) => {}
            Self::MySql(conn) => {
                // The pool learns which name answers (MySQL 8 and MariaDB
                // 11.1+ the first, 10.11 here only the second) and asks it.
                let mut read_only = None;
                for sql in [
                    "SELECT @@session.tx_read_only",
                    "SELECT @@session.transaction_read_only",
                ] {
                    if let Ok(flag) = sqlx::query_scalar::<_, i64>(sql)
                        .fetch_one(&mut *conn)
                        .await
                    {
                        read_only = Some(flag);
                        break;
                    }
                }
                ensure!(read_only == Some(1), "the session is not read-only");
            }
        }
        Ok(())
    }

    /// Runs statements without parameters.
    async fn run(&mut self, sql: &str) -> anyhow::Result<()> {
        match self {
            Self::Postgres(conn) => {
                sqlx::raw_sql(sql).execute(conn).await?;
            }
            Self::MySql(conn) => {
                sqlx::raw_sql(sql).execute(conn).await?;
            }
        }
        Ok(())
    }

    async fn text(&mut self, sql: &str) -> anyhow::Result<String> {
        Ok(match self {
            Self::Postgres(conn) => sqlx::query_scalar(sql).fetch_one(conn).await?,
            Self::MySql(conn) => sqlx::query_scalar(sql).fetch_one(conn).await?,
        })
    }

    /// The plan of `sql` with what running it took: `EXPLAIN (ANALYZE,
    /// BUFFERS)` on PostgreSQL, `ANALYZE FORMAT=JSON` on MariaDB.
    async fn explain(&mut self, sql: &str) -> anyhow::Result<Vec<String>> {
        let rows: Vec<String> = match self {
            Self::Postgres(conn) => {
                let explain = format!("EXPLAIN (ANALYZE, BUFFERS) {sql}");
                let rows = sqlx::raw_sql(&explain).fetch_all(conn).await?;
                rows.iter()
                    .map(|row| row.try_get(0))
                    .collect::<Result<_, _>>()?
            }
            Self::MySql(conn) => {
                let explain = format!("ANALYZE FORMAT=JSON {sql}");
                let rows = sqlx::raw_sql(&explain).fetch_all(conn).await?;
                rows.iter()
                    .map(|row| row.try_get(0))
                    .collect::<Result<_, _>>()?
            }
        };
        Ok(rows
            .iter()
            .flat_map(|text| text.lines().map(str::to_owned))
            .collect())
    }

    /// Runs a prepared statement with one text parameter and reads every row.
    async fn rows(&mut self, sql: &str, value: &str) -> anyhow::Result<usize> {
        Ok(match self {
            Self::Postgres(conn) => sqlx::query(sql).bind(value).fetch_all(conn).await?.len(),
            Self::MySql(conn) => sqlx::query(sql).bind(value).fetch_all(conn).await?.len(),
        })
    }
}

/// The default SQL the gateway runs for a lookup, with the dialect's placeholder.
struct Statements {
    by_username: String,
    by_email: String,
    realm_roles: String,
    client_roles: String,
}

impl Statements {
    fn of(dialect: Dialect) -> anyhow::Result<Self> {
        let placeholder = match dialect {
            Dialect::Postgres => "$1",
            _ => "?",
        };
        let sql = |query: QueryName, param: &str| -> anyhow::Result<String> {
            let sql = query
                .default_sql(dialect, false)
                .with_context(|| format!("no default SQL for {}", query.key()))?;
            let named = format!(":{param}");
            ensure!(
                sql.matches(&named).count() == 1,
                "{} does not use {named} once: {sql}",
                query.key()
            );
            Ok(sql.replace(&named, placeholder))
        };
        Ok(Self {
            by_username: sql(QueryName::UserByUsername, "username")?,
            by_email: sql(QueryName::UserByEmail, "email")?,
            realm_roles: sql(QueryName::RealmRolesOfUser, "user_id")?,
            client_roles: sql(QueryName::ClientRolesOfUser, "user_id")?,
        })
    }
}

// ---------------------------------------------------------------------------
// Load: concurrent clients for a fixed time

#[derive(Clone, Copy)]
enum Request {
    ByUsername,
    ByEmail,
    ById,
    Verify,
}

#[derive(Clone, Copy)]
enum LookupBy {
    Username,
    Email,
}

enum Client {
    Gateway {
        http: reqwest::Client,
        base: String,
        request: Request,
    },
    Direct {
        conn: Conn,
        statements: Arc<Statements>,
        by: LookupBy,
        session: Session,
    },
}

impl Client {
    fn gateway(http: &reqwest::Client, base: &str, request: Request) -> Self {
        Self::Gateway {
            http: http.clone(),
            base: base.to_owned(),
            request,
        }
    }

    /// One lookup (or password check) of user `n`; an error is a failure.
    async fn once(&mut self, n: u64) -> anyhow::Result<()> {
        match self {
            Self::Gateway {
                http,
                base,
                request,
            } => {
                let builder = match request {
                    Request::ByUsername => {
                        http.get(format!("{base}/v1/users/by-username/{}", username(n)))
                    }
                    Request::ByEmail => http.get(format!("{base}/v1/users/by-email/{}", email(n))),
                    Request::ById => http.get(format!("{base}/v1/users/{}", user_id(n))),
                    Request::Verify => http
                        .post(format!("{base}/v1/users/{}/verify-password", user_id(n)))
                        .json(&json!({ "password": PASSWORD })),
                };
                let response = builder.bearer_auth(TOKEN).send().await?;
                let status = response.status().as_u16();
                let body = response.bytes().await?;
                ensure!(
                    status == 200,
                    "HTTP {status} {}",
                    String::from_utf8_lossy(&body)
                );
                if matches!(request, Request::Verify) {
                    ensure!(
                        body.as_ref() == br#"{"valid":true}"#,
                        "verify-password of {}: {}",
                        user_id(n),
                        String::from_utf8_lossy(&body)
                    );
                }
                Ok(())
            }
            Self::Direct {
                conn,
                statements,
                by,
                session,
            } => {
                let (sql, value) = match by {
                    LookupBy::Username => (&statements.by_username, username(n)),
                    LookupBy::Email => (&statements.by_email, email(n)),
                };
                let id = user_id(n);
                for (i, (sql, value)) in [
                    (sql, value.as_str()),
                    (&statements.realm_roles, id.as_str()),
                    (&statements.client_roles, id.as_str()),
                ]
                .into_iter()
                .enumerate()
                {
                    if *session == Session::LikePool {
                        conn.as_pool_acquires().await?;
                    }
                    let rows = conn.rows(sql, value).await?;
                    ensure!(i > 0 || rows == 1, "{value}: {rows} users");
                }
                Ok(())
            }
        }
    }
}

/// Lookups of one kind through the gateway and, by username and email, the
/// same SELECTs straight to the database.
struct Lookups {
    label: &'static str,
    gateway: Load,
    direct: Option<Load>,
    /// The SELECTs sent as the gateway's pool sends them ([`Session::LikePool`]).
    like_pool: Option<Load>,
}

impl Lookups {
    fn to_json(&self) -> Value {
        json!({
            "what": self.label,
            "gateway": self.gateway.to_json(),
            "direct": self.direct.as_ref().map(Load::to_json),
            "direct_like_gateway_pool": self.like_pool.as_ref().map(Load::to_json),
        })
    }
}

/// What a fixed-time run of concurrent clients did after its warm-up.
#[derive(Default)]
struct Load {
    clients: usize,
    window: Duration,
    latencies: Vec<Duration>,
    failures: usize,
    first_failure: Option<String>,
    /// CPUs the gateway process used during the window, on average.
    gateway_cores: Option<f64>,
    /// CPUs busy on the whole machine (everything: clients, database, others).
    machine_busy_cores: Option<f64>,
}

impl Load {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.window.as_secs_f64()
    }

    fn to_json(&self) -> Value {
        json!({
            "clients": self.clients,
            "seconds": self.window.as_secs_f64(),
            "completed": self.latencies.len(),
            "per_second": self.rate(),
            "failures": self.failures,
            "first_failure": self.first_failure,
            "gateway_cores": self.gateway_cores,
            "machine_busy_cores": self.machine_busy_cores,
            "latency": Percentiles::of(&self.latencies).map(Percentiles::to_json),
        })
    }
}

/// Each client asks for random users one after the other: a warm-up, then
/// `plan.measure` during which requests that start are counted.
async fn closed_loop(
    clients: Vec<Client>,
    plan: &Plan,
    gateway_pid: Option<u32>,
) -> anyhow::Result<Load> {
    let users = plan.users;
    let measure_from = Instant::now() + plan.warmup;
    let until = measure_from + plan.measure;
    let watcher = tokio::spawn(async move {
        let read = || -> anyhow::Result<(Option<u64>, (u64, u64))> {
            let gateway = gateway_pid.map(cpu_ticks).transpose()?;
            Ok((gateway, machine_ticks()?))
        };
        tokio::time::sleep_until(measure_from.into()).await;
        let before = read()?;
        tokio::time::sleep_until(until.into()).await;
        let after = read()?;
        anyhow::Ok((before, after))
    });
    let mut seeds = XorShift::seeded();
    let mut tasks = tokio::task::JoinSet::new();
    let count = clients.len();
    for mut client in clients {
        let mut rng = XorShift::from_seed(seeds.next());
        tasks.spawn(async move {
            let mut part = Load::default();
            loop {
                let asked = Instant::now();
                if asked >= until {
                    break;
                }
                let result = client.once(1 + rng.below(users)).await;
                if asked < measure_from {
                    continue;
                }
                match result {
                    Ok(()) => part.latencies.push(asked.elapsed()),
                    Err(e) => {
                        part.failures += 1;
                        part.first_failure.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            part
        });
    }
    let mut load = Load {
        clients: count,
        window: plan.measure,
        ..Load::default()
    };
    while let Some(part) = tasks.join_next().await {
        let part = part.context("a client task failed")?;
        load.latencies.extend(part.latencies);
        load.failures += part.failures;
        if load.first_failure.is_none() {
            load.first_failure = part.first_failure;
        }
    }
    let ((gateway_before, machine_before), (gateway_after, machine_after)) =
        watcher.await.context("the CPU watcher failed")??;
    // Ticks of all CPUs together over the window: the number of cores busy.
    let cores = (machine_after.1 - machine_before.1) as f64 / cpus().max(1) as f64;
    let per_core = |ticks: u64| ticks as f64 / cores.max(1.0);
    load.machine_busy_cores = Some(per_core(machine_after.0 - machine_before.0));
    if let (Some(before), Some(after)) = (gateway_before, gateway_after) {
        load.gateway_cores = Some(per_core(after - before));
    }
    Ok(load)
}

// ---------------------------------------------------------------------------
// Search and count: one request at a time

#[derive(Clone, Copy, PartialEq)]
enum Route {
    Page,
    Count,
}

#[derive(Clone)]
struct Search {
    label: &'static str,
    text: &'static str,
    route: Route,
    /// The issue's p95 target on PostgreSQL (MariaDB: twice that), if any.
    target: Option<Duration>,
    /// Only measured with the trigram indexes (PostgreSQL).
    trigram: bool,
}

impl Search {
    fn all() -> Vec<Self> {
        let millis = Duration::from_millis;
        let search = |label, text, route, target| Self {
            label,
            text,
            route,
            target,
            trigram: false,
        };
        vec![
            search("search everyone `*`", "*", Route::Page, Some(millis(50))),
            search(
                "search prefix `user12345`",
                "user12345",
                Route::Page,
                Some(millis(50)),
            ),
            search("search prefix `max`", "max", Route::Page, Some(millis(50))),
            search(
                "search exact `\"user4242\"`",
                "\"user4242\"",
                Route::Page,
                Some(millis(50)),
            ),
            search(
                "search two words `Max Muster`",
                TWO_WORDS,
                Route::Page,
                Some(millis(50)),
            ),
            // Only pg_trgm has a target; on MariaDB it is the one infix there is.
            search("search infix `*ast99*`", "*ast99*", Route::Page, None),
            search("count everyone", "", Route::Count, Some(millis(100))),
            search("count `max`", "max", Route::Count, None),
        ]
    }

    fn infix_with_trigrams() -> Self {
        Self {
            label: "search infix `*ast99*`, pg_trgm",
            text: "*ast99*",
            route: Route::Page,
            target: Some(Duration::from_millis(100)),
            trigram: true,
        }
    }

    /// The default SQL the gateway runs for this search, with the values
    /// written in (so the plan is made for them, as the gateway's are).
    fn sql(&self, dialect: Dialect) -> anyhow::Result<String> {
        let patterns: Vec<String> = self
            .text
            .split_whitespace()
            .map(search_pattern)
            .filter(|pattern| !pattern.chars().all(|c| c == '%'))
            .collect();
        ensure!(patterns.len() <= MAX_SEARCH_TERMS, "too many words");
        let query = match self.route {
            Route::Page => QueryName::SearchUsers,
            Route::Count => QueryName::CountUsers,
        };
        let mut sql = query
            .default_search_sql(dialect, patterns.len(), false)
            .context("no default search SQL")?;
        // Last word first: `:search` is the start of `:search2`.
        for (i, pattern) in patterns.iter().enumerate().rev() {
            let name = match i {
                0 => ":search".to_owned(),
                _ => format!(":search{}", i + 1),
            };
            sql = sql.replace(&name, &format!("'{}'", pattern.replace('\'', "''")));
        }
        Ok(sql.replace(":limit", "20").replace(":offset", "0"))
    }

    /// The p95 target on `vendor`.
    fn target_on(&self, vendor: Vendor) -> Option<Duration> {
        match vendor {
            Vendor::Postgres => self.target,
            // MariaDB has no trigram index: its infix gets the pg_trgm target, doubled.
            _ if self.text == "*ast99*" => Some(Duration::from_millis(200)),
            _ => self.target.map(|t| t * 2),
        }
    }
}

/// Samples of one search, and what it answered.
struct Sampled {
    latencies: Vec<Duration>,
    /// Users on the page, or the count.
    answer: u64,
    /// The database's account of the statement, run once more afterwards.
    plan: Vec<String>,
}

/// Three unmeasured requests, then up to `plan.samples` measured ones within
/// `plan.search_limit`.
async fn sequential(
    plan: &Plan,
    http: &reqwest::Client,
    base: &str,
    search: &Search,
) -> anyhow::Result<Sampled> {
    let (path, query) = match search.route {
        Route::Page => (
            "/v1/users",
            vec![("search", search.text), ("first", "0"), ("max", "20")],
        ),
        Route::Count => ("/v1/users/count", vec![("search", search.text)]),
    };
    let ask = || async {
        let response = http
            .get(format!("{base}{path}"))
            .query(&query)
            .bearer_auth(TOKEN)
            .send()
            .await?;
        let status = response.status().as_u16();
        let body = response.bytes().await?;
        ensure!(
            status == 200,
            "{}: HTTP {status} {}",
            search.label,
            String::from_utf8_lossy(&body)
        );
        anyhow::Ok(body)
    };
    let body: Value = serde_json::from_slice(&ask().await?)?;
    let answer = match search.route {
        Route::Page => body["users"].as_array().map_or(0, Vec::len) as u64,
        Route::Count => body["count"].as_u64().unwrap_or(0),
    };
    for _ in 0..2 {
        ask().await?;
    }
    let deadline = Instant::now() + plan.search_limit;
    let mut latencies = Vec::new();
    while latencies.len() < plan.samples && Instant::now() < deadline {
        let asked = Instant::now();
        ask().await?;
        latencies.push(asked.elapsed());
    }
    Ok(Sampled {
        latencies,
        answer,
        plan: Vec::new(),
    })
}

// ---------------------------------------------------------------------------
// Report

/// One line of the printed table.
struct Row {
    what: String,
    result: String,
    target: String,
    met: Option<bool>,
}

impl VendorRun {
    /// The issue's targets hold for PostgreSQL; MariaDB gets twice the room.
    fn slack(&self) -> f64 {
        match self.vendor {
            Vendor::Postgres => 1.0,
            _ => 2.0,
        }
    }

    fn verify_ideal(&self) -> f64 {
        cpus() as f64 * self.verify_one.rate()
    }

    fn rows(&self) -> Vec<Row> {
        let slack = self.slack();
        let mut rows = Vec::new();
        let p99_target = Duration::from_secs_f64(0.005 * slack);
        let ratio_target = 0.6 / slack;
        let rate = |load: &Load| {
            let p = Percentiles::of(&load.latencies);
            let mut result = format!(
                "{:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
                load.rate(),
                p.map_or(0.0, |p| ms(p.p50)),
                p.map_or(0.0, |p| ms(p.p99)),
            );
            if load.failures > 0 {
                result.push_str(&format!(", {} failed", load.failures));
            }
            if let (Some(gateway), Some(busy)) = (load.gateway_cores, load.machine_busy_cores) {
                result.push_str(&format!(" [CPU: gateway {gateway:.2}, all {busy:.2}]"));
            } else if let Some(busy) = load.machine_busy_cores {
                result.push_str(&format!(" [CPU: all {busy:.2}]"));
            }
            result
        };
        for set in &self.lookups {
            let gateway = &set.gateway;
            let (target, met) = if set.direct.is_some() {
                let p99 = Percentiles::of(&gateway.latencies).map(|p| p.p99);
                (
                    format!("p99 <= {:.0} ms", ms(p99_target)),
                    Some(p99.is_some_and(|p99| p99 <= p99_target) && gateway.failures == 0),
                )
            } else {
                ("(reference)".to_owned(), None)
            };
            rows.push(Row {
                what: format!("{} via gateway, {} clients", set.label, gateway.clients),
                result: rate(gateway),
                target,
                met,
            });
            if let Some(direct) = &set.direct {
                rows.push(Row {
                    what: format!(
                        "{}, same SELECTs direct, {} connections",
                        set.label, direct.clients
                    ),
                    result: rate(direct),
                    target: String::new(),
                    met: None,
                });
                let ratio = gateway.rate() / direct.rate();
                rows.push(Row {
                    what: format!("{}: gateway / direct rate", set.label),
                    result: format!("{ratio:.2}"),
                    target: format!(">= {ratio_target:.2}"),
                    met: Some(ratio >= ratio_target),
                });
            }
            if let Some(like_pool) = &set.like_pool {
                rows.push(Row {
                    what: format!(
                        "{}, direct as the gateway's pool, {} conns",
                        set.label, like_pool.clients
                    ),
                    result: rate(like_pool),
                    target: String::new(),
                    met: None,
                });
                rows.push(Row {
                    what: format!("{}: gateway / direct as the pool", set.label),
                    result: format!("{:.2}", gateway.rate() / like_pool.rate()),
                    target: String::new(),
                    met: None,
                });
            }
        }
        for (search, sampled) in &self.searches {
            let p = Percentiles::of(&sampled.latencies);
            let target = search.target_on(self.vendor);
            let answer = match search.route {
                Route::Page => format!("{} on page", sampled.answer),
                Route::Count => format!("count {}", sampled.answer),
            };
            rows.push(Row {
                what: search.label.to_owned(),
                result: format!(
                    "p50 {:.1} ms, p95 {:.1} ms ({} samples, {answer})",
                    p.map_or(0.0, |p| ms(p.p50)),
                    p.map_or(0.0, |p| ms(p.p95)),
                    sampled.latencies.len()
                ),
                target: target.map_or_else(String::new, |t| format!("p95 <= {:.0} ms", ms(t))),
                met: target.map(|t| p.is_some_and(|p| p.p95 <= t)),
            });
        }
        for load in [&self.verify_one, &self.verify_many] {
            rows.push(Row {
                what: format!("verify-password, {} connection(s)", load.clients),
                result: rate(load),
                target: String::new(),
                met: None,
            });
        }
        let ideal = self.verify_ideal();
        let ratio = self.verify_many.rate() / ideal;
        let verify_target = 0.9 / slack;
        rows.push(Row {
            what: format!(
                "verify-password, {} / ideal ({} x {:.1}/s)",
                self.verify_connections,
                cpus(),
                self.verify_one.rate()
            ),
            result: format!("{ratio:.2}"),
            target: format!(">= {verify_target:.2}"),
            met: Some(ratio >= verify_target),
        });
        let rss_mib = self.peak_rss_kib as f64 / 1024.0;
        rows.push(Row {
            what: "gateway peak RSS (VmHWM)".to_owned(),
            result: format!("{rss_mib:.1} MiB"),
            target: format!("<= {:.0} MiB", 50.0 * slack),
            met: Some(rss_mib <= 50.0 * slack),
        });
        rows.push(Row {
            what: "gateway time to ready".to_owned(),
            result: format!("{:.0} ms", ms(self.ready)),
            target: String::new(),
            met: None,
        });
        rows
    }

    fn print(&self, plan: &Plan) {
        println!();
        let trigram = self.trigram.map_or(String::new(), |t| {
            format!(", pg_trgm indexes {:.0} s", t.as_secs_f64())
        });
        println!(
            "{} ({}), {} users: load {:.0} s, {} {:.0} s{trigram}",
            vendor_name(self.vendor),
            // PostgreSQL appends the platform and compiler.
            self.server_version.split(" on ").next().unwrap_or_default(),
            plan.users,
            self.load.as_secs_f64(),
            analyze_statement(self.vendor)
                .split_whitespace()
                .next()
                .unwrap_or_default(),
            self.analyze.as_secs_f64()
        );
        let rows = self.rows();
        let width = |cell: fn(&Row) -> &str, title: &str| {
            rows.iter()
                .map(|row| cell(row).len())
                .chain([title.len()])
                .max()
                .unwrap_or(0)
        };
        let (w1, w2, w3) = (
            width(|r| &r.what, "measurement"),
            width(|r| &r.result, "result"),
            width(|r| &r.target, "target"),
        );
        println!(
            "{:<w1$}  {:<w2$}  {:<w3$}  verdict",
            "measurement", "result", "target"
        );
        for row in &rows {
            println!(
                "{:<w1$}  {:<w2$}  {:<w3$}  {}",
                row.what,
                row.result,
                row.target,
                row.met.map_or("", verdict)
            );
        }
        for (label, load) in self.loads() {
            if let Some(failure) = &load.first_failure {
                println!("  {label}: first failure: {failure}");
            }
        }
    }

    /// Every fixed-time measurement, named.
    fn loads(&self) -> Vec<(String, &Load)> {
        let mut loads = Vec::new();
        for set in &self.lookups {
            loads.push((format!("{} via gateway", set.label), &set.gateway));
            if let Some(direct) = &set.direct {
                loads.push((format!("{} direct", set.label), direct));
            }
            if let Some(like_pool) = &set.like_pool {
                loads.push((format!("{} direct as the pool", set.label), like_pool));
            }
        }
        loads.push(("verify-password, 1 connection".to_owned(), &self.verify_one));
        loads.push(("verify-password, many".to_owned(), &self.verify_many));
        loads
    }

    fn ensure_no_failures(&self) -> anyhow::Result<()> {
        for (label, load) in self.loads() {
            ensure!(
                load.failures == 0 && !load.latencies.is_empty(),
                "{}: {label}: {} failures, {} answers; first failure: {:?}",
                vendor_name(self.vendor),
                load.failures,
                load.latencies.len(),
                load.first_failure
            );
        }
        for (search, sampled) in &self.searches {
            ensure!(
                !sampled.latencies.is_empty(),
                "{}: {}: no samples",
                vendor_name(self.vendor),
                search.label
            );
        }
        Ok(())
    }

    fn to_json(&self) -> Value {
        json!({
            "vendor": vendor_name(self.vendor),
            "server_version": self.server_version,
            "load_seconds": self.load.as_secs_f64(),
            "analyze": analyze_statement(self.vendor),
            "analyze_seconds": self.analyze.as_secs_f64(),
            "trigram_index_seconds": self.trigram.map(|t| t.as_secs_f64()),
            "ready_ms": ms(self.ready),
            "peak_rss_kib": self.peak_rss_kib,
            "checks": self.checks,
            "lookups": self.lookups.iter().map(Lookups::to_json).collect::<Vec<_>>(),
            "lookup_plans": self.lookup_plans,
            "searches": self.searches.iter().map(|(search, sampled)| json!({
                "what": search.label,
                "search": search.text,
                "route": match search.route { Route::Page => "/v1/users", Route::Count => "/v1/users/count" },
                "pg_trgm": search.trigram,
                "answer": sampled.answer,
                "sql": search.sql(dialect(self.vendor)).ok(),
                "plan": sampled.plan,
                "target_p95_ms": search.target_on(self.vendor).map(ms),
                "latency": Percentiles::of(&sampled.latencies).map(Percentiles::to_json),
            })).collect::<Vec<_>>(),
            "verify": {
                "one": self.verify_one.to_json(),
                "many": self.verify_many.to_json(),
                "ideal_per_second": self.verify_ideal(),
                "ratio_to_ideal": self.verify_many.rate() / self.verify_ideal(),
            },
            "table": self.rows().iter().map(|row| json!({
                "what": row.what,
                "result": row.result,
                "target": row.target,
                "verdict": row.met.map(verdict),
            })).collect::<Vec<_>>(),
        })
    }
}
