//! How long `POST /v1/users/{id}/verify-password` takes for an unknown user,
//! a user without a hash and a right password, compared with a wrong password
//! for an existing user measured in the same run.
//!
//! The gateway runs in this process on 127.0.0.1 (port 0) against a SQLite
//! database made from the reference schema and the demo seed. Results are
//! medians and ratios of medians to the baseline, never pass/fail timings.
//!
//! `cargo bench --bench verify_timing` does the real run (iterations from
//! `VERIFY_TIMING_ITERATIONS`, default 200, and `VERIFY_TIMING_WARMUP`,
//! default 20). Without `--bench` on the command line, as under
//! `cargo test --all-targets`, it does a two-iteration smoke run that only
//! shows that every case answers as expected.

#[path = "../tests/support/bench.rs"]
#[allow(dead_code)]
mod bench;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use bench::{nearest_rank, number_from_env, real_run, toml_string};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use userstore_gateway::dialect::{Access, Pool};
use userstore_gateway::settings::Settings;

const TOKEN: &str = "bench-token";
/// User 1's password in the demo seed.
const RIGHT_PASSWORD: &str = "B1Systems!";
/// Wrong, but as long as the right one: sha-crypt's work grows with the password's length
/// (a 10-byte and a 27-byte password differ by a third here), which would blur case (d).
const WRONG_PASSWORD: &str = "B1Systems?";
const MAX_ITERATIONS: usize = 10_000;

/// What one timed request asks and which answer it must get.
#[derive(Clone, Copy)]
enum Case {
    /// User 1, `$6$` without `rounds=` (5000 rounds), wrong password: the baseline.
    WrongPassword,
    /// An id that is not in the database.
    UnknownUser,
    /// User 4, whose hash is NULL.
    NoHash,
    /// User 1 with the right password.
    RightPassword,
    /// User 2, `$6$rounds=10000$`, wrong password.
    CostlyWrongPassword,
    /// An unknown id after user 2's hash was the last one computed.
    UnknownAfterCostly,
}

impl Case {
    fn label(self) -> &'static str {
        match self {
            Case::WrongPassword => "(a) wrong password, user 1 ($6$, 5000) [baseline]",
            Case::UnknownUser => "(b) unknown user",
            Case::NoHash => "(c) user 4, NULL hash",
            Case::RightPassword => "(d) right password, user 1",
            Case::CostlyWrongPassword => "(e) wrong password, user 2 ($6$rounds=10000$)",
            Case::UnknownAfterCostly => "(f) unknown user, after (e)",
        }
    }

    /// User id, password and the expected `valid`; `serial` keeps unknown ids fresh.
    fn request(self, serial: usize) -> (String, &'static str, bool) {
        match self {
            Case::WrongPassword => ("1".to_owned(), WRONG_PASSWORD, false),
            Case::RightPassword => ("1".to_owned(), RIGHT_PASSWORD, true),
            Case::NoHash => ("4".to_owned(), WRONG_PASSWORD, false),
            Case::CostlyWrongPassword => ("2".to_owned(), WRONG_PASSWORD, false),
            Case::UnknownUser | Case::UnknownAfterCostly => {
                (format!("no-such-user-{serial}"), WRONG_PASSWORD, false)
            }
        }
    }
}

struct Plan {
    /// True for `cargo bench`; false for the smoke run under `cargo test`.
    full: bool,
    iterations: usize,
    warmup: usize,
}

impl Plan {
    fn from_environment() -> anyhow::Result<Self> {
        let full = real_run();
        if !full {
            return Ok(Self {
                full,
                iterations: 2,
                warmup: 1,
            });
        }
        Ok(Self {
            full,
            iterations: number_from_env("VERIFY_TIMING_ITERATIONS", 200, 1, MAX_ITERATIONS)?,
            warmup: number_from_env("VERIFY_TIMING_WARMUP", 20, 0, MAX_ITERATIONS)?,
        })
    }
}

/// The gateway on a loopback port, with its database in a temporary directory.
struct Gateway {
    base: String,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
    next_serial: usize,
}

impl Gateway {
    async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("verify-timing-")
            .tempdir()?;
        let database = dir.path().join("bench.db");
        let config = dir.path().join("gateway.toml");
        // A configuration file goes through the same loading and defaults as in production.
        let url = format!("sqlite://{}", database.display());
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"127.0.0.1:0\"\n\n\
                 [database]\nurl = {}\nmax_connections = 4\n\n\
                 [auth]\napi_tokens = [\"{TOKEN}\"]\n",
                toml_string(&url)
            ),
        )?;
        let settings = Settings::load_with_env(&config, Some(HashMap::new()))
            .context("loading the benchmark configuration")?;

        let seeding = Pool::open(&settings.database, Access::Writable)?;
        seeding
            .execute_raw(userstore_gateway::demo::SCHEMA_SQL)
            .await?;
        seeding
            .execute_raw(userstore_gateway::demo::SEED_SQL)
            .await?;
        seeding.close().await;

        let app = userstore_gateway::app::build(&settings)?;
        let listener = TcpListener::bind(settings.server.listen).await?;
        let address = listener.local_addr()?;
        ensure!(address.ip().is_loopback(), "listening on {address}");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(listener, async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder().no_proxy().build()?;
        Ok(Self {
            base: format!("http://{address}"),
            client,
            stop: Some(stop),
            server,
            _dir: dir,
            next_serial: 0,
        })
    }

    /// One request for `case`, timed from sending to the decoded answer.
    async fn time(&mut self, case: Case) -> anyhow::Result<Duration> {
        self.next_serial += 1;
        let (id, password, expected) = case.request(self.next_serial);
        let url = format!("{}/v1/users/{id}/verify-password", self.base);
        let body = json!({ "password": password });

        let started = Instant::now();
        let response = self
            .client
            .post(url)
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        let elapsed = started.elapsed();

        // A benchmark of an error path would measure nothing useful.
        ensure!(status == 200, "{}: HTTP {status}", case.label());
        ensure!(
            answer["valid"] == expected,
            "{}: expected valid={expected}, got {answer}",
            case.label()
        );
        Ok(elapsed)
    }

    /// The `userstore_gateway_hash_computations_total` samples from `/metrics`.
    async fn hash_computations(&self) -> anyhow::Result<Vec<String>> {
        let text = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await?
            .text()
            .await?;
        Ok(text
            .lines()
            .filter(|line| line.starts_with("userstore_gateway_hash_computations_total"))
            .map(str::to_owned)
            .collect())
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await??;
        Ok(())
    }
}

/// Runs `rounds` rounds over `cases`, rotating the order each round so that no case
/// always follows the same one; returns the samples per case (in `cases` order).
async fn interleaved(
    gateway: &mut Gateway,
    cases: &[Case],
    rounds: usize,
) -> anyhow::Result<Vec<Vec<Duration>>> {
    let mut samples = vec![Vec::with_capacity(rounds); cases.len()];
    for round in 0..rounds {
        for offset in 0..cases.len() {
            let slot = (round + offset) % cases.len();
            let elapsed = gateway.time(cases[slot]).await?;
            samples[slot].push(elapsed);
        }
    }
    Ok(samples)
}

struct Summary {
    median: Duration,
    p90: Duration,
}

impl Summary {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        Self {
            median: nearest_rank(&samples, 0.5),
            p90: nearest_rank(&samples, 0.9),
        }
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1e3)
}

fn ratio(value: Duration, reference: Duration) -> f64 {
    value.as_secs_f64() / reference.as_secs_f64()
}

fn print_row(case: Case, summary: &Summary, baseline: Duration) {
    println!(
        "{:<50} {:>10} {:>10} {:>7.2}",
        case.label(),
        millis(summary.median),
        millis(summary.p90),
        ratio(summary.median, baseline)
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let plan = Plan::from_environment()?;
    let mut gateway = Gateway::start().await?;

    // Round 1: the only real hash verified is user 1's, so the dummy has its shape.
    let first = [
        Case::WrongPassword,
        Case::UnknownUser,
        Case::NoHash,
        Case::RightPassword,
    ];
    interleaved(&mut gateway, &first, plan.warmup).await?;
    let first_samples = interleaved(&mut gateway, &first, plan.iterations).await?;
    let first_summaries: Vec<Summary> = first_samples.into_iter().map(Summary::of).collect();
    let baseline = first_summaries[0].median;

    // Round 2: user 2's costlier hash is computed first; from then on the unknown users'
    // dummy hashes copy it. No other real hash is verified in this round.
    let second = [Case::CostlyWrongPassword, Case::UnknownAfterCostly];
    gateway.time(Case::CostlyWrongPassword).await?;
    interleaved(&mut gateway, &second, plan.warmup).await?;
    let second_samples = interleaved(&mut gateway, &second, plan.iterations).await?;
    let second_summaries: Vec<Summary> = second_samples.into_iter().map(Summary::of).collect();

    let computations = gateway.hash_computations().await?;
    gateway.stop().await?;

    if plan.full {
        println!(
            "verify-password over loopback HTTP, SQLite demo database: {} timed requests per case \
             after {} warm-up rounds, cases interleaved",
            plan.iterations, plan.warmup
        );
    } else {
        println!(
            "verify_timing smoke run ({} requests per case; numbers are not meaningful, \
             use `cargo bench --bench verify_timing`)",
            plan.iterations
        );
    }
    println!(
        "{:<50} {:>10} {:>10} {:>7}",
        "case", "median", "p90", "ratio"
    );
    println!("round 1: the last real hash is user 1's ($6$, 5000 rounds)");
    for (case, summary) in first.iter().zip(&first_summaries) {
        print_row(*case, summary, baseline);
    }
    println!("round 2: user 2's $6$rounds=10000$ hash verified before the unknown users");
    for (case, summary) in second.iter().zip(&second_summaries) {
        print_row(*case, summary, baseline);
    }
    println!(
        "(f)/(e) = {:.2}: the unknown-user dummy costs what the last real hash cost",
        ratio(second_summaries[1].median, second_summaries[0].median)
    );
    println!("ratio = median / median of (a); hash computations from /metrics:");
    if computations.is_empty() {
        println!("  (no userstore_gateway_hash_computations_total samples)");
    }
    for line in computations {
        println!("  {line}");
    }
    Ok(())
}
