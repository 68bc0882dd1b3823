//! What the change feed buys and what it costs, with a real Keycloak and the
//! provider jar, all on 127.0.0.1:
//!
//! 1. **Staleness**: a user is cached (cache policy DEFAULT, a huge
//!    `maxStalenessMs`, so only the feed can explain a quick recovery), a DBA
//!    revokes (or gives back) a client role, and password-grant logins follow
//!    in a tight loop until a token reflects the change. Measured from the
//!    moment COMMIT is sent to the first reflecting answer, per vendor:
//!    PostgreSQL (LISTEN/NOTIFY), MariaDB and SQLite (polling every
//!    `poll_interval_ms`, the default 1000). Then the feed down (gateway
//!    without `[changes]`, `maxStalenessMs` 5000), where only the provider's
//!    staleness sweep evicts.
//! 2. **Login throughput**: 8 concurrent clients logging the fixture users in
//!    for a fixed time per realm, in rounds of turns A B C (A B C A B C by
//!    default): (A) DEFAULT with the feed followed, (B) DEFAULT with
//!    `changeFeed=false`, (C) NO_CACHE. Keycloak's WARN/ERROR lines are
//!    summarised at the end.
//! 3. **Idle CPU** of a gateway process with the feed on, first with nobody
//!    following it, then with several Keycloak components following it,
//!    from `/proc/<pid>/stat` over a quiet window.
//!
//! Results are percentiles, rates and ratios measured in the same run, never
//! pass/fail timings: the targets of issue 12 are printed next to them. The
//! JSON goes to `target/bench/change_feed.json`.
//!
//! `cargo bench --bench change_feed` does the real run (several minutes; the
//! Keycloak distribution and provider jar must have been built with
//! `mvn -B -ntp -f keycloak-provider/pom.xml -Pkeycloak-dist verify`).
//! Sizes come from `CHANGE_FEED_TRIALS` (20), `CHANGE_FEED_DOWN_TRIALS` (5),
//! `CHANGE_FEED_TURN_SECONDS` (15), `CHANGE_FEED_ROUNDS` (2),
//! `CHANGE_FEED_WARMUP_SECONDS` (5), `CHANGE_FEED_CLIENTS` (8),
//! `CHANGE_FEED_IDLE_SECONDS` (30) and `CHANGE_FEED_SUBSCRIBERS` (4). Without `--bench` on the command line, as
//! under `cargo test --all-targets`, it does a smoke run of a few seconds
//! without Keycloak: one change on SQLite must show up in `/v1/changes`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use reqwest::Method;
use serde_json::{json, Value};
use support::bench::{
    clock_ticks_per_second, cpu_ticks, cpus, keycloak_log_summary, keycloak_version, load_average,
    ms, number_from_env, real_run, toml_string, verdict, write_json, Percentiles, XorShift,
};
use support::dba::Session;
use support::faults::GatewayProcess;
use support::gateway::{
    feed_settings, fixture_db_with_change_log, settings, spawn_app_with, TOKEN,
};
use support::keycloak::{claims, keycloak, Keycloak, Realm};
use support::Vendor;
use userstore_gateway::settings::ChangeSettings;

/// Takes testclient/admin from mmustermann (u1), and gives it back.
const REVOKE: &str =
    "DELETE FROM users_to_client_roles WHERE user_id = 'u1' AND client_role_id = 'c1'";
const RESTORE: &str =
    "INSERT INTO users_to_client_roles (user_id, client_role_id) VALUES ('u1', 'c1')";
const WATCHED: (&str, &str) = ("mmustermann", "B1Systems!");

/// The fixture users that can log in (tests/fixtures/users.sql): `$6$`, `$5$`, `$1$`,
/// `$2b$`, `$6$rounds=2000$`, and two who share one `$6$` hash (whose password is `zz-pass`).
const USERS: &[(&str, &str)] = &[
    ("mmustermann", "B1Systems!"),
    ("alice", "alice-pass"),
    ("albert", "albert-pass"),
    ("alfred", "alfred-pass"),
    ("o'brien", "o'brien-pass"),
    ("zz_top", "zz-pass"),
    ("zzxtop", "zz-pass"),
];

/// Longest a trial waits for a reflecting login once the feed is on.
const FEED_TRIAL_LIMIT: Duration = Duration::from_secs(20);
/// How far past `maxStalenessMs` a trial without feed keeps trying.
const DOWN_TRIAL_SLACK: Duration = Duration::from_secs(10);
/// `maxStalenessMs` of the feed-down realm.
const DOWN_MAX_STALENESS_MS: u64 = 5_000;
/// `maxStalenessMs` of the feed-on realms: an hour, far beyond any trial.
const FEED_MAX_STALENESS_MS: u64 = 3_600_000;

struct Plan {
    trials: usize,
    down_trials: usize,
    turn: Duration,
    rounds: usize,
    warmup: Duration,
    clients: usize,
    idle: Duration,
    subscribers: usize,
}

impl Plan {
    fn from_environment() -> anyhow::Result<Self> {
        Ok(Self {
            trials: number_from_env("CHANGE_FEED_TRIALS", 20, 1, 1_000)?,
            down_trials: number_from_env("CHANGE_FEED_DOWN_TRIALS", 5, 1, 100)?,
            turn: Duration::from_secs(
                number_from_env("CHANGE_FEED_TURN_SECONDS", 15, 1, 600)? as u64
            ),
            rounds: number_from_env("CHANGE_FEED_ROUNDS", 2, 1, 100)?,
            warmup: Duration::from_secs(
                number_from_env("CHANGE_FEED_WARMUP_SECONDS", 5, 0, 600)? as u64
            ),
            clients: number_from_env("CHANGE_FEED_CLIENTS", 8, 1, 64)?,
            idle: Duration::from_secs(
                number_from_env("CHANGE_FEED_IDLE_SECONDS", 30, 5, 600)? as u64
            ),
            subscribers: number_from_env("CHANGE_FEED_SUBSCRIBERS", 4, 1, 32)?,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if !real_run() {
        return smoke().await;
    }
    let plan = Plan::from_environment()?;
    let started = Instant::now();
    let load_at_start = load_average();
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(10))
        .build()?;
    eprintln!("[change_feed] starting Keycloak (about a minute on 2 cores)");
    let kc = keycloak().await;
    ensure!(
        kc.base.starts_with("http://127.0.0.1:"),
        "Keycloak at {}",
        kc.base
    );
    let mut rng = XorShift::seeded();

    let mut staleness = Vec::new();
    for vendor in [Vendor::Postgres, Vendor::MariaDb, Vendor::Sqlite] {
        eprintln!("[change_feed] staleness with the feed on, {vendor:?}");
        staleness.push(staleness_case(kc, &http, vendor, true, plan.trials, &mut rng).await?);
    }
    eprintln!("[change_feed] staleness with the feed down (PostgreSQL)");
    staleness.push(
        staleness_case(
            kc,
            &http,
            Vendor::Postgres,
            false,
            plan.down_trials,
            &mut rng,
        )
        .await?,
    );

    eprintln!("[change_feed] login throughput");
    let throughput = throughput(kc, &http, &plan).await?;

    eprintln!("[change_feed] idle CPU of a gateway process");
    let idle = idle_cpu(kc, &http, &plan).await?;

    let load_at_end = load_average();
    let log = keycloak_log_summary(&kc.log_text());
    let report = Report {
        plan: &plan,
        staleness: &staleness,
        throughput: &throughput,
        idle: &idle,
        log: &log,
    };
    report.print(&load_at_start, &load_at_end, started.elapsed());
    let path = report.write_json(&load_at_start, &load_at_end, started.elapsed())?;
    println!("JSON: {}", path.display());
    Ok(())
}

// ---------------------------------------------------------------------------
// Smoke run

/// One change on SQLite must show up in the feed; no Keycloak, a few seconds.
async fn smoke() -> anyhow::Result<()> {
    let started = Instant::now();
    let db = fixture_db_with_change_log(Vendor::Sqlite).await;
    let app = spawn_app_with(feed_settings(&db, &[])).await;
    let (status, head) = app.get("/v1/changes").await;
    ensure!(status == 200, "GET /v1/changes: HTTP {status} {head}");
    let mut cursor = cursor_of(&head)?;

    let mut dba = Session::open(&db).await;
    dba.run(REVOKE).await;
    let committed = Instant::now();
    let mut reported = None;
    for _ in 0..5 {
        let (status, page) = app.get(&format!("/v1/changes?after={cursor}&wait=2")).await;
        ensure!(
            status == 200,
            "GET /v1/changes?after={cursor}: HTTP {status} {page}"
        );
        if page["changes"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|id| id == "u1"))
        {
            reported = Some(committed.elapsed());
            break;
        }
        cursor = cursor_of(&page)?;
    }
    let reported = reported.context("the feed did not report u1 within 5 answers")?;
    println!(
        "change_feed smoke run: SQLite feed reported u1 {} ms after the commit ({} ms in all; \
         numbers are not meaningful, use `cargo bench --bench change_feed`)",
        reported.as_millis(),
        started.elapsed().as_millis()
    );
    Ok(())
}

fn cursor_of(page: &Value) -> anyhow::Result<String> {
    page["cursor"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no cursor in {page}"))
}

// ---------------------------------------------------------------------------
// 1. Staleness

struct StalenessCase {
    label: String,
    feed: bool,
    /// `poll_interval_ms` of the gateway (feed on) or `maxStalenessMs` (feed down).
    setting_ms: u64,
    target: Duration,
    /// COMMIT sent -> first reflecting login answered, for the trials that got one.
    samples: Vec<Duration>,
    /// The login that cached the user -> first reflecting login.
    since_cached: Vec<Duration>,
    /// Logins that still showed the old state, per trial.
    stale_logins: Vec<usize>,
    timeouts: usize,
    limit: Duration,
    /// Things that should not happen, e.g. the caching login not showing the last state.
    anomalies: Vec<String>,
    /// `userstore_gateway_change_wakeups_total` by source, at the end.
    wakeups_notify: f64,
    wakeups_poll: f64,
}

/// User queries that also read the fixture's `enabled` column (as the end-to-end tests do).
fn with_enabled_column() -> Vec<(&'static str, String)> {
    let columns = "id, username, email, firstname, lastname, email_verified, createdtimestamp, password_hash, enabled";
    let search = "lower(username) LIKE :search ESCAPE '!' OR lower(email) LIKE :search ESCAPE '!' \
                  OR lower(firstname) LIKE :search ESCAPE '!' OR lower(lastname) LIKE :search ESCAPE '!'";
    vec![
        ("user_by_id", format!("SELECT {columns} FROM users WHERE id = :id")),
        (
            "user_by_username",
            format!("SELECT {columns} FROM users WHERE lower(username) = lower(:username)"),
        ),
        (
            "user_by_email",
            format!("SELECT {columns} FROM users WHERE lower(email) = lower(:email)"),
        ),
        (
            "search_users",
            format!(
                "SELECT {columns} FROM users WHERE {search} ORDER BY username, id LIMIT :limit OFFSET :offset"
            ),
        ),
    ]
}

async fn staleness_case(
    kc: &Keycloak,
    http: &reqwest::Client,
    vendor: Vendor,
    feed: bool,
    trials: usize,
    rng: &mut XorShift,
) -> anyhow::Result<StalenessCase> {
    let db = fixture_db_with_change_log(vendor).await;
    let queries = with_enabled_column();
    let pairs: Vec<(&str, &str)> = queries.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gateway_settings = if feed {
        let mut with_feed = feed_settings(&db, &pairs);
        // The harness polls fast for tests; the targets are for the default.
        with_feed.changes.poll_interval_ms = ChangeSettings::default().poll_interval_ms;
        with_feed
    } else {
        settings(&db, &pairs)
    };
    let poll = Duration::from_millis(gateway_settings.changes.poll_interval_ms);
    let gateway = spawn_app_with(gateway_settings).await;
    let max_staleness_ms = if feed {
        FEED_MAX_STALENESS_MS
    } else {
        DOWN_MAX_STALENESS_MS
    };
    let staleness = max_staleness_ms.to_string();
    let realm = kc
        .realm_with(
            &gateway.base,
            TOKEN,
            &[
                ("cachePolicy", "DEFAULT"),
                ("maxStalenessMs", &staleness),
                ("changeFeed", "true"),
            ],
            json!({}),
        )
        .await;
    let mut anomalies = Vec::new();
    if feed && !wait_for_feed_requests(&gateway.base, http, 1, Duration::from_secs(30)).await {
        anomalies.push("the subscriber had not asked /v1/changes within 30 s".to_owned());
    }

    let (label, setting_ms, target, limit) = if feed {
        let target = match vendor {
            Vendor::Postgres => Duration::from_secs(2),
            _ => poll + Duration::from_secs(1),
        };
        let how = match vendor {
            Vendor::Postgres => "NOTIFY",
            _ => "poll",
        };
        (
            format!("{vendor:?}, feed on ({how})"),
            poll.as_millis() as u64,
            target,
            FEED_TRIAL_LIMIT,
        )
    } else {
        let max = Duration::from_millis(max_staleness_ms);
        (
            format!("{vendor:?}, feed down"),
            max_staleness_ms,
            max + Duration::from_secs(1),
            max + DOWN_TRIAL_SLACK,
        )
    };

    let mut case = StalenessCase {
        label,
        feed,
        setting_ms,
        target,
        samples: Vec::new(),
        since_cached: Vec::new(),
        stale_logins: Vec::new(),
        timeouts: 0,
        limit,
        anomalies,
        wakeups_notify: 0.0,
        wakeups_poll: 0.0,
    };
    let mut dba = Session::open(&db).await;
    let mut has_admin = true;
    // The login that last loaded the user into the cache (the first one, then each reflecting one).
    let mut cached_by: Option<Instant> = None;
    for trial in 0..trials {
        let before = Instant::now();
        let (status, token) = login(http, kc, &realm, WATCHED.0, WATCHED.1).await?;
        ensure!(
            status == 200,
            "trial {trial}: caching login: HTTP {status} {token}"
        );
        if holds_admin(&token) != has_admin {
            case.anomalies.push(format!(
                "trial {trial}: the caching login showed admin={} instead of {has_admin}",
                !has_admin
            ));
        }
        let cached_at = *cached_by.get_or_insert(before);
        if feed {
            // Commits land anywhere in the gateway's poll period.
            tokio::time::sleep(rng.below_duration(poll)).await;
        }
        dba.run("BEGIN").await;
        dba.run(if has_admin { REVOKE } else { RESTORE }).await;
        let commit = Instant::now();
        dba.run("COMMIT").await;

        let mut stale = 0;
        let mut failures = 0;
        let reflected = loop {
            let asked = Instant::now();
            let (status, token) = login(http, kc, &realm, WATCHED.0, WATCHED.1).await?;
            let answered = Instant::now();
            if status == 200 && holds_admin(&token) != has_admin {
                cached_by = Some(asked);
                break Some(answered);
            }
            if status == 200 {
                stale += 1;
            } else {
                failures += 1;
            }
            if answered - commit > limit {
                break None;
            }
        };
        if failures > 0 {
            case.anomalies
                .push(format!("trial {trial}: {failures} logins failed"));
        }
        match reflected {
            Some(answered) => {
                case.samples.push(answered - commit);
                case.since_cached.push(answered - cached_at);
            }
            None => {
                case.timeouts += 1;
                cached_by = None;
            }
        }
        case.stale_logins.push(stale);
        has_admin = !has_admin;
    }
    case.wakeups_notify = metric(
        http,
        &gateway.base,
        "userstore_gateway_change_wakeups_total",
        "source=\"notify\"",
    )
    .await;
    case.wakeups_poll = metric(
        http,
        &gateway.base,
        "userstore_gateway_change_wakeups_total",
        "source=\"poll\"",
    )
    .await;
    delete_realm(kc, &realm).await;
    drop(dba);
    drop(gateway);
    Ok(case)
}

fn holds_admin(token: &Value) -> bool {
    claims(token)["resource_access"]["testclient"]["roles"]
        .as_array()
        .is_some_and(|roles| roles.iter().any(|r| r == "admin"))
}

/// The password grant of `testclient`, over a client that keeps connections.
async fn login(
    http: &reqwest::Client,
    kc: &Keycloak,
    realm: &Realm,
    username: &str,
    password: &str,
) -> anyhow::Result<(u16, Value)> {
    let response = http
        .post(token_endpoint(&kc.base, &realm.name))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "testclient"),
            ("username", username),
            ("password", password),
            ("scope", "openid"),
        ])
        .send()
        .await
        .context("Keycloak's token endpoint")?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

fn token_endpoint(base: &str, realm: &str) -> String {
    format!("{base}/realms/{realm}/protocol/openid-connect/token")
}

async fn delete_realm(kc: &Keycloak, realm: &Realm) {
    let answer = kc
        .admin(Method::DELETE, &format!("/{}", realm.name), None)
        .await;
    if answer.status != 204 {
        eprintln!(
            "[change_feed] warning: deleting realm {}: HTTP {}",
            realm.name, answer.status
        );
    }
}

/// The sum of a metric's samples whose line contains `label` (0 when absent or unreadable).
async fn metric(http: &reqwest::Client, base: &str, name: &str, label: &str) -> f64 {
    let Ok(response) = http.get(format!("{base}/metrics")).send().await else {
        return 0.0;
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |sum, value| sum + value)
}

/// Answered `/v1/changes` requests; a long-poll counts once it has answered.
async fn feed_requests(http: &reqwest::Client, base: &str) -> f64 {
    metric(
        http,
        base,
        "userstore_gateway_http_requests_total",
        "route=\"/v1/changes\"",
    )
    .await
}

/// Waits until at least `count` feed requests were answered (each subscriber
/// first asks for the head at once), at most `limit`.
async fn wait_for_feed_requests(
    base: &str,
    http: &reqwest::Client,
    count: usize,
    limit: Duration,
) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if feed_requests(http, base).await >= count as f64 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

// ---------------------------------------------------------------------------
// 2. Login throughput

struct RealmThroughput {
    label: &'static str,
    logins: usize,
    failures: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    per_turn: Vec<f64>,
    /// Clients that saw failures, with the first failure of each (warm-up included).
    failure_samples: Vec<String>,
}

impl RealmThroughput {
    fn rate(&self) -> f64 {
        self.logins as f64 / self.elapsed.as_secs_f64()
    }
}

struct Throughput {
    realms: Vec<RealmThroughput>,
    vendor: Vendor,
}

async fn throughput(
    kc: &Keycloak,
    http: &reqwest::Client,
    plan: &Plan,
) -> anyhow::Result<Throughput> {
    let vendor = Vendor::Postgres;
    let db = fixture_db_with_change_log(vendor).await;
    let queries = with_enabled_column();
    let pairs: Vec<(&str, &str)> = queries.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut gateway_settings = feed_settings(&db, &pairs);
    gateway_settings.changes.poll_interval_ms = ChangeSettings::default().poll_interval_ms;
    let gateway = spawn_app_with(gateway_settings).await;
    let configs: [(&'static str, &[(&str, &str)]); 3] = [
        (
            "(A) DEFAULT, feed on",
            &[("cachePolicy", "DEFAULT"), ("changeFeed", "true")],
        ),
        (
            "(B) DEFAULT, changeFeed=false",
            &[("cachePolicy", "DEFAULT"), ("changeFeed", "false")],
        ),
        ("(C) NO_CACHE", &[("cachePolicy", "NO_CACHE")]),
    ];
    let mut realms = Vec::new();
    let mut results = Vec::new();
    for (label, config) in configs {
        realms.push(kc.realm_with(&gateway.base, TOKEN, config, json!({})).await);
        results.push(RealmThroughput {
            label,
            logins: 0,
            failures: 0,
            elapsed: Duration::ZERO,
            latencies: Vec::new(),
            per_turn: Vec::new(),
            failure_samples: Vec::new(),
        });
    }
    wait_for_feed_requests(&gateway.base, http, 1, Duration::from_secs(30)).await;
    for (realm, result) in realms.iter().zip(results.iter_mut()) {
        let warmup = turn(http, &kc.base, &realm.name, plan.clients, plan.warmup).await;
        for sample in warmup.failure_samples {
            result.failure_samples.push(format!("warm-up: {sample}"));
        }
    }
    for _round in 0..plan.rounds {
        for (realm, result) in realms.iter().zip(results.iter_mut()) {
            let t = turn(http, &kc.base, &realm.name, plan.clients, plan.turn).await;
            result
                .per_turn
                .push(t.logins as f64 / t.elapsed.as_secs_f64());
            result.logins += t.logins;
            result.failures += t.failures;
            result.elapsed += t.elapsed;
            result.latencies.extend(t.latencies);
            result.failure_samples.extend(t.failure_samples);
        }
    }
    for realm in &realms {
        delete_realm(kc, realm).await;
    }
    drop(gateway);
    drop(db);
    Ok(Throughput {
        realms: results,
        vendor,
    })
}

struct Turn {
    logins: usize,
    failures: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// Per client that failed: user, count and the first failure.
    failure_samples: Vec<String>,
}

/// `clients` concurrent clients, each logging one fixture user in after the
/// other until `duration` has passed.
async fn turn(
    http: &reqwest::Client,
    base: &str,
    realm: &str,
    clients: usize,
    duration: Duration,
) -> Turn {
    let started = Instant::now();
    let deadline = started + duration;
    let endpoint = token_endpoint(base, realm);
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (username, password) = USERS[client % USERS.len()];
        let http = http.clone();
        let endpoint = endpoint.clone();
        tasks.spawn(async move {
            let (mut ok, mut failed, mut latencies) = (0usize, 0usize, Vec::new());
            let mut first_failure: Option<String> = None;
            // Bounded by the deadline; the count cap only guards against a broken clock.
            for _ in 0..1_000_000 {
                if Instant::now() >= deadline {
                    break;
                }
                let asked = Instant::now();
                let answer = http
                    .post(&endpoint)
                    .form(&[
                        ("grant_type", "password"),
                        ("client_id", "testclient"),
                        ("username", username),
                        ("password", password),
                        ("scope", "openid"),
                    ])
                    .send()
                    .await;
                let failure = match answer {
                    Ok(response) => {
                        let status = response.status();
                        match response.bytes().await {
                            Ok(_) if status == 200 => None,
                            Ok(body) => Some(format!(
                                "HTTP {status} {}",
                                String::from_utf8_lossy(&body[..body.len().min(200)])
                            )),
                            Err(err) => Some(format!("reading the answer: {err}")),
                        }
                    }
                    Err(err) => Some(format!("request: {err}")),
                };
                match failure {
                    None => {
                        ok += 1;
                        latencies.push(asked.elapsed());
                    }
                    Some(why) => {
                        failed += 1;
                        first_failure.get_or_insert(why);
                    }
                }
            }
            (username, ok, failed, latencies, first_failure)
        });
    }
    let mut total = Turn {
        logins: 0,
        failures: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        failure_samples: Vec::new(),
    };
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((username, ok, failed, latencies, first_failure)) => {
                total.logins += ok;
                total.failures += failed;
                total.latencies.extend(latencies);
                if let Some(why) = first_failure {
                    total
                        .failure_samples
                        .push(format!("{username}: {failed} failed, first: {why}"));
                }
            }
            Err(err) => {
                total.failures += 1;
                total.failure_samples.push(format!("client task: {err}"));
            }
        }
    }
    total.elapsed = started.elapsed();
    total
}

// ---------------------------------------------------------------------------
// 3. Idle CPU

struct IdleCpu {
    window: Duration,
    without_subscribers: f64,
    with_subscribers: f64,
    subscribers: usize,
    subscribed: bool,
    /// `/v1/changes` answers during the window with subscribers.
    feed_answers_in_window: f64,
}

async fn idle_cpu(kc: &Keycloak, http: &reqwest::Client, plan: &Plan) -> anyhow::Result<IdleCpu> {
    let db = fixture_db_with_change_log(Vendor::Postgres).await;
    let toml = format!(
        "[database]\nurl = {}\nmax_connections = 4\n\n\
         [auth]\napi_tokens = [\"{TOKEN}\"]\n\n\
         [changes]\nenabled = true\n",
        toml_string(db.url())
    );
    let gateway = GatewayProcess::start(&toml);
    let pid = gateway.pid().context("the gateway process has no pid")?;
    let base = gateway.base();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let without_subscribers = cpu_share(pid, plan.idle).await?;

    let mut realms = Vec::new();
    for _ in 0..plan.subscribers {
        realms.push(
            kc.realm_with(
                &base,
                TOKEN,
                &[("cachePolicy", "DEFAULT"), ("changeFeed", "true")],
                json!({}),
            )
            .await,
        );
    }
    let subscribed =
        wait_for_feed_requests(&base, http, plan.subscribers, Duration::from_secs(60)).await;
    // Let every subscriber get from its first answer into its long-poll.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let answers_before = feed_requests(http, &base).await;
    let with_subscribers = cpu_share(pid, plan.idle).await?;
    let answers_after = feed_requests(http, &base).await;
    for realm in &realms {
        delete_realm(kc, realm).await;
    }
    drop(gateway);
    drop(db);
    Ok(IdleCpu {
        window: plan.idle,
        without_subscribers,
        with_subscribers,
        subscribers: plan.subscribers,
        subscribed,
        feed_answers_in_window: answers_after - answers_before,
    })
}

/// Percent of one core the process used (user + system) over `window`.
async fn cpu_share(pid: u32, window: Duration) -> anyhow::Result<f64> {
    let ticks_per_second = clock_ticks_per_second();
    let (before, start) = (cpu_ticks(pid)?, Instant::now());
    tokio::time::sleep(window).await;
    let (after, wall) = (cpu_ticks(pid)?, start.elapsed());
    Ok((after - before) as f64 / ticks_per_second / wall.as_secs_f64() * 100.0)
}

// ---------------------------------------------------------------------------
// Report

struct Report<'a> {
    plan: &'a Plan,
    staleness: &'a [StalenessCase],
    throughput: &'a Throughput,
    idle: &'a IdleCpu,
    log: &'a [(String, usize)],
}

impl StalenessCase {
    /// p99 of COMMIT -> reflecting login, a timed-out trial counting as endless.
    fn p99_with_timeouts(&self) -> Option<Duration> {
        let mut all = self.samples.clone();
        all.extend(std::iter::repeat_n(Duration::MAX, self.timeouts));
        Percentiles::of(&all).map(|p| p.p99)
    }

    fn met(&self) -> bool {
        self.p99_with_timeouts()
            .is_some_and(|p99| p99 <= self.target)
    }
}

impl Report<'_> {
    fn print(&self, load_start: &str, load_end: &str, took: Duration) {
        println!();
        println!(
            "change_feed: Keycloak {}, 127.0.0.1, {} CPUs, load average at start {load_start}, \
             at end {load_end}; {:.0} s in all",
            keycloak_version(),
            cpus(),
            took.as_secs_f64()
        );
        println!();
        println!(
            "1. COMMIT -> first login whose token reflects it (password grant, DEFAULT cache)"
        );
        println!(
            "{:<28} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9}  target",
            "case", "trials", "p50 ms", "p99 ms", "max ms", "timeouts", "stale/tr"
        );
        for case in self.staleness {
            let p = Percentiles::of(&case.samples);
            let cell = |f: fn(&Percentiles) -> Duration| {
                p.as_ref()
                    .map_or("-".to_owned(), |p| format!("{:.0}", ms(f(p))))
            };
            let stale = case.stale_logins.iter().sum::<usize>() as f64
                / case.stale_logins.len().max(1) as f64;
            println!(
                "{:<28} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9.1}  p99 <= {:.0} ms: {}",
                case.label,
                case.samples.len() + case.timeouts,
                cell(|p| p.p50),
                cell(|p| p.p99),
                cell(|p| p.max),
                case.timeouts,
                stale,
                ms(case.target),
                verdict(case.met())
            );
        }
        for case in self.staleness {
            if !case.feed {
                if let Some(p) = Percentiles::of(&case.since_cached) {
                    println!(
                        "  {}: caching login -> reflecting login p50 {:.0} ms, max {:.0} ms \
                         (maxStalenessMs {})",
                        case.label,
                        ms(p.p50),
                        ms(p.max),
                        case.setting_ms
                    );
                }
            }
            println!(
                "  {}: gateway wake-ups notify {} poll {}",
                case.label, case.wakeups_notify, case.wakeups_poll
            );
            for anomaly in &case.anomalies {
                println!("  {}: ODD: {anomaly}", case.label);
            }
        }
        println!();
        println!(
            "2. Login throughput: {} clients, {} s per turn, {} rounds of turns A B C, gateway on {:?}",
            self.plan.clients,
            self.plan.turn.as_secs(),
            self.plan.rounds,
            self.throughput.vendor
        );
        println!(
            "{:<32} {:>9} {:>9} {:>9} {:>9}  per turn",
            "realm", "logins/s", "p50 ms", "p99 ms", "failures"
        );
        for realm in &self.throughput.realms {
            let p = Percentiles::of(&realm.latencies);
            let turns: Vec<String> = realm.per_turn.iter().map(|r| format!("{r:.1}")).collect();
            println!(
                "{:<32} {:>9.1} {:>9.1} {:>9.1} {:>9}  {}",
                realm.label,
                realm.rate(),
                p.as_ref().map_or(0.0, |p| ms(p.p50)),
                p.as_ref().map_or(0.0, |p| ms(p.p99)),
                realm.failures,
                turns.join(" / ")
            );
        }
        for realm in &self.throughput.realms {
            for sample in &realm.failure_samples {
                println!("  {}: ODD: {sample}", realm.label);
            }
        }
        let (ab, ac) = self.ratios();
        let per_round: Vec<String> = self
            .round_ratios()
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect();
        println!(
            "A/B = {ab:.3} (target >= 0.95: {}; per round {}), A/C = {ac:.2} \
             (DEFAULT with feed vs NO_CACHE)",
            verdict(ab >= 0.95),
            per_round.join(" ")
        );
        println!();
        println!(
            "3. Gateway process CPU over {} s without traffic (PostgreSQL, feed on)",
            self.idle.window.as_secs()
        );
        println!(
            "  no subscribers:        {:.3} % of one core",
            self.idle.without_subscribers
        );
        println!(
            "  {} subscribers{}: {:.3} % of one core ({} long-polls answered in the window; \
             target < 1 %: {})",
            self.idle.subscribers,
            if self.idle.subscribed {
                ""
            } else {
                " (NOT confirmed)"
            },
            self.idle.with_subscribers,
            self.idle.feed_answers_in_window,
            verdict(self.idle.with_subscribers < 1.0)
        );
        println!();
        let total: usize = self.log.iter().map(|(_, n)| n).sum();
        println!("Keycloak log: {total} WARN/ERROR lines, by shape (digits masked):");
        for (shape, count) in self.log.iter().take(12) {
            println!("  {count:>5}  {shape}");
        }
    }

    /// A/B of each round's turns, which ran next to each other.
    fn round_ratios(&self) -> Vec<f64> {
        let (a, b) = (&self.throughput.realms[0], &self.throughput.realms[1]);
        a.per_turn
            .iter()
            .zip(&b.per_turn)
            .map(|(a, b)| a / b)
            .collect()
    }

    fn ratios(&self) -> (f64, f64) {
        let rate = |i: usize| self.throughput.realms[i].rate();
        (rate(0) / rate(1), rate(0) / rate(2))
    }

    fn write_json(
        &self,
        load_start: &str,
        load_end: &str,
        took: Duration,
    ) -> anyhow::Result<PathBuf> {
        let staleness: Vec<Value> = self
            .staleness
            .iter()
            .map(|case| {
                let p = Percentiles::of(&case.samples);
                json!({
                    "case": case.label,
                    "feed": case.feed,
                    "setting_ms": case.setting_ms,
                    "trials": case.samples.len() + case.timeouts,
                    "timeouts": case.timeouts,
                    "trial_limit_ms": ms(case.limit),
                    "p50_ms": p.as_ref().map(|p| ms(p.p50)),
                    "p99_ms": p.as_ref().map(|p| ms(p.p99)),
                    "max_ms": p.as_ref().map(|p| ms(p.max)),
                    "target_ms": ms(case.target),
                    "target_met": case.met(),
                    "samples_ms": case.samples.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
                    "since_cached_ms": case.since_cached.iter().map(|d| ms(*d)).collect::<Vec<_>>(),
                    "stale_logins": case.stale_logins,
                    "wakeups": {"notify": case.wakeups_notify, "poll": case.wakeups_poll},
                    "anomalies": case.anomalies,
                })
            })
            .collect();
        let realms: Vec<Value> = self
            .throughput
            .realms
            .iter()
            .map(|realm| {
                let p = Percentiles::of(&realm.latencies);
                json!({
                    "realm": realm.label,
                    "logins": realm.logins,
                    "failures": realm.failures,
                    "seconds": realm.elapsed.as_secs_f64(),
                    "logins_per_second": realm.rate(),
                    "per_turn_logins_per_second": realm.per_turn,
                    "p50_ms": p.as_ref().map(|p| ms(p.p50)),
                    "p99_ms": p.as_ref().map(|p| ms(p.p99)),
                    "failure_samples": realm.failure_samples,
                })
            })
            .collect();
        let (ab, ac) = self.ratios();
        let document = json!({
            "keycloak": keycloak_version(),
            "cpus": cpus(),
            "load_average": {"start": load_start, "end": load_end},
            "seconds": took.as_secs_f64(),
            "staleness": staleness,
            "throughput": {
                "vendor": format!("{:?}", self.throughput.vendor),
                "clients": self.plan.clients,
                "turn_seconds": self.plan.turn.as_secs(),
                "warmup_seconds": self.plan.warmup.as_secs(),
                "realms": realms,
                "ratio_a_b": ab,
                "ratio_a_b_per_round": self.round_ratios(),
                "rounds": self.plan.rounds,
                "ratio_a_c": ac,
                "target_a_b_met": ab >= 0.95,
            },
            "keycloak_log_warnings": self
                .log
                .iter()
                .map(|(shape, count)| json!({"count": count, "line": shape}))
                .collect::<Vec<_>>(),
            "idle_cpu": {
                "window_seconds": self.idle.window.as_secs(),
                "percent_of_core_without_subscribers": self.idle.without_subscribers,
                "percent_of_core_with_subscribers": self.idle.with_subscribers,
                "subscribers": self.idle.subscribers,
                "subscribed_confirmed": self.idle.subscribed,
                "feed_answers_in_window": self.idle.feed_answers_in_window,
                "target_met": self.idle.with_subscribers < 1.0,
            },
        });
        write_json("change_feed", &document)
    }
}
