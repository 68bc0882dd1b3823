//! Password verification per scheme (issue 13): one verification of the right
//! password at the scheme's common cost, timed in this process on one thread,
//! against a reference implementation timed in the same run by
//! `benches/hash_reference.py` (libcrypt's `crypt()`, the `bcrypt` and
//! `argon2-cffi` packages, hashlib/OpenSSL; that file says which for each
//! scheme). Reported as the ratio of the medians, ours / reference, beside the
//! target of 1.2x; never as a pass/fail timing.
//!
//! Every case is also a cross-check of the two implementations: the stored
//! value is made by one of them (the reference's maker at the chosen cost, or
//! our `make_hash` where that makes the same cost) and both must accept the
//! right password and refuse a wrong one. And every value `make_hash` makes
//! must verify in the reference. Any disagreement is printed with the stored
//! value and fails the run.
//!
//! `cargo bench --bench hash_schemes` does the real run: for each case, ours
//! and then the reference, each with `HASH_SCHEMES_WARMUP` (default 2) untimed
//! verifications (and at least 0.2 s of them) and up to `HASH_SCHEMES_ITERATIONS` (default 20) timed ones,
//! fewer once `HASH_SCHEMES_SECONDS` (default 3) have passed and five are in;
//! `HASH_SCHEMES_ONLY=bcrypt,argon2id` limits it to some schemes. About a
//! minute and a half on 2 cores. The table goes to stdout, the JSON to
//! `target/bench/hash_schemes.json`. Without `--bench` on the command line, as
//! under `cargo test --all-targets`, it does a smoke run (one verification per
//! side, no warm-up) that checks only the answers.
//!
//! The reference runs in the Python of the virtual environment
//! `$USERSTORE_CI_VENV` (default `/opt/userstore-ci-venv`), which
//! `.ci/install-deps` fills with pinned `bcrypt`, `argon2-cffi` and
//! `cryptography`; without them the run fails, in CI and out of it.

#[path = "../tests/support/bench.rs"]
#[allow(dead_code)]
mod bench;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use bench::{load_average, machine, machine_ticks, number_from_env, real_run, write_json};
use serde_json::{json, Value};
use userstore_gateway::password::{make_hash, Limits, Scheme, StoredHash, Verdict};

/// The target of issue 13: ours at most this many times the reference's median.
const TARGET_RATIO: f64 = 1.2;
/// Right and wrong passwords of the same length: sha-crypt's work grows with it.
const PASSWORD: &str = "correct horse 42";
const WRONG_PASSWORD: &str = "correct horse 43";
const PEPPER: &str = "devise-pepper-0123456789";
/// Firebase's published sample (firebase/scrypt README): its project's default
/// parameters, mem_cost 14 and rounds 8; password `user1password`.
const FIREBASE_SAMPLE: &str = "{CLERK:scrypt_firebase}\
    lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$\
    42xEC+ixf3L2lw==$\
    jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$\
    Bw==$8$14";
const FIREBASE_PASSWORD: &str = "user1password";
const FIREBASE_WRONG_PASSWORD: &str = "user2password";
const INSTALL_HINT: &str = "run `bash .ci/install-deps` (as root; it installs the pinned \
    bcrypt, argon2-cffi and cryptography into $USERSTORE_CI_VENV, default \
    /opt/userstore-ci-venv), or point USERSTORE_CI_VENV at a virtual environment that has them";

/// One measured case: a scheme at one cost, and where that cost is common.
struct Case {
    scheme: Scheme,
    /// The reference maker's parameters (see `make` in hash_reference.py).
    params: Value,
    /// Whose default this cost is. The smoke run lowers it (`smoke_params`).
    why: &'static str,
}

fn case(scheme: Scheme, params: Value, why: &'static str) -> Case {
    Case {
        scheme,
        params,
        why,
    }
}

/// The common costs, each with its source. Schemes without a cost parameter
/// have one case.
fn cases() -> Vec<Case> {
    use Scheme::*;
    vec![
        case(
            Sha512Crypt,
            json!({"rounds": 5000}),
            "glibc default (no rounds=)",
        ),
        case(
            Sha256Crypt,
            json!({"rounds": 5000}),
            "glibc default (no rounds=)",
        ),
        case(Md5Crypt, json!({}), "fixed 1000 rounds"),
        case(
            Bcrypt,
            json!({"cost": 10}),
            "Clerk's sample, Go/Node default",
        ),
        case(Bcrypt, json!({"cost": 12}), "Python bcrypt, Laravel 11"),
        case(BcryptSha256Django, json!({"cost": 12}), "Django default"),
        case(
            BcryptPeppered,
            json!({"cost": 12, "pepper": PEPPER}),
            "Devise default stretches",
        ),
        case(
            Argon2i,
            json!({"m": 65536, "t": 4, "p": 1}),
            "PHP password_hash ARGON2I",
        ),
        case(
            Argon2id,
            json!({"m": 65536, "t": 3, "p": 4}),
            "argon2-cffi default (RFC 9106)",
        ),
        case(
            Argon2id,
            json!({"m": 19456, "t": 2, "p": 1}),
            "OWASP minimum",
        ),
        case(Pbkdf2Sha1, json!({"iterations": 1_300_000}), "OWASP"),
        case(Pbkdf2Sha256, json!({"iterations": 600_000}), "OWASP"),
        case(
            Pbkdf2Sha256Django,
            json!({"iterations": 1_000_000}),
            "Django 5.2",
        ),
        case(Pbkdf2Sha512, json!({"iterations": 210_000}), "OWASP"),
        case(Pbkdf2Sha512Hex, json!({"iterations": 210_000}), "OWASP"),
        case(Phpass, json!({"count_log2": 13}), "WordPress $P$B"),
        case(
            ScryptFirebase,
            json!({"mem_cost": 14, "r": 8}),
            "Firebase default",
        ),
        case(
            ScryptWerkzeug,
            json!({"n": 32768, "r": 8, "p": 1}),
            "werkzeug 3 default",
        ),
        case(LdapSha, json!({}), "unsalted"),
        case(LdapSsha, json!({}), "8-byte salt"),
        case(LdapSsha256, json!({}), "8-byte salt"),
        case(LdapSsha512, json!({}), "8-byte salt"),
        case(
            Sha512Symfony,
            json!({"iterations": 5000}),
            "Symfony default",
        ),
        case(Md5, json!({}), "unsalted"),
        case(Md5Salted, json!({}), "12-char salt"),
        case(Sha256, json!({}), "unsalted"),
        case(Sha256Salted, json!({}), "12-char salt"),
    ]
}

struct Plan {
    full: bool,
    iterations: usize,
    warmup: usize,
    seconds: f64,
    only: Option<HashSet<String>>,
}

impl Plan {
    fn from_environment() -> anyhow::Result<Self> {
        let full = real_run();
        let only = match std::env::var("HASH_SCHEMES_ONLY") {
            Ok(list) => {
                let names: HashSet<String> = list
                    .split(',')
                    .map(|name| name.trim().to_owned())
                    .filter(|name| !name.is_empty())
                    .collect();
                for name in &names {
                    ensure!(
                        Scheme::from_name(name).is_some(),
                        "HASH_SCHEMES_ONLY: no scheme {name:?}"
                    );
                }
                Some(names)
            }
            Err(_) => None,
        };
        if !full {
            return Ok(Self {
                full,
                iterations: 1,
                warmup: 0,
                seconds: 0.0,
                only,
            });
        }
        Ok(Self {
            full,
            iterations: number_from_env("HASH_SCHEMES_ITERATIONS", 20, 1, 10_000)?,
            warmup: number_from_env("HASH_SCHEMES_WARMUP", 2, 0, 1_000)?,
            seconds: number_from_env("HASH_SCHEMES_SECONDS", 3, 0, 600)? as f64,
            only,
        })
    }

    fn includes(&self, scheme: Scheme) -> bool {
        self.only
            .as_ref()
            .is_none_or(|names| names.contains(scheme.name()))
    }
}

/// hash_reference.py running in the venv's Python, one JSON line a request.
struct Reference {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Reference {
    fn start() -> anyhow::Result<Self> {
        let venv = std::env::var_os("USERSTORE_CI_VENV")
            .map_or_else(|| PathBuf::from("/opt/userstore-ci-venv"), PathBuf::from);
        let python = venv.join("bin/python");
        ensure!(
            python.exists(),
            "hash_schemes: no Python at {}; {INSTALL_HINT}",
            python.display()
        );
        let probe = Command::new(&python)
            .args(["-c", "import argon2, bcrypt, cryptography"])
            .output()
            .with_context(|| format!("starting {}", python.display()))?;
        ensure!(
            probe.status.success(),
            "hash_schemes: the reference packages are missing in {}: {}; {INSTALL_HINT}",
            venv.display(),
            String::from_utf8_lossy(&probe.stderr).trim()
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/hash_reference.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {} {}", python.display(), script.display()))?;
        let stdin = child.stdin.take().context("no stdin for the reference")?;
        let stdout = BufReader::new(child.stdout.take().context("no stdout for the reference")?);
        Ok(Self {
            child,
            stdin,
            stdout,
        })
    }

    /// One request, one answer per case.
    fn ask(&mut self, op: &str, cases: Vec<Value>) -> anyhow::Result<Vec<Value>> {
        let count = cases.len();
        let request = json!({"op": op, "cases": cases});
        writeln!(self.stdin, "{request}")?;
        self.stdin.flush()?;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        ensure!(
            !line.is_empty(),
            "hash_reference.py ended without answering"
        );
        let answer: Value = serde_json::from_str(&line)
            .with_context(|| format!("hash_reference.py answered {line:?}"))?;
        if let Some(error) = answer.get("error") {
            bail!("hash_reference.py {op}: {error}");
        }
        let answers = answer
            .as_array()
            .context("hash_reference.py answered no list")?
            .clone();
        ensure!(
            answers.len() == count,
            "hash_reference.py: wrong answer count"
        );
        Ok(answers)
    }

    fn stop(mut self) -> anyhow::Result<()> {
        drop(self.stdin);
        let status = self.child.wait()?;
        ensure!(status.success(), "hash_reference.py exited with {status}");
        Ok(())
    }
}

/// The reference's answer for one case.
struct Timing {
    median: Duration,
    p95: Duration,
    samples: usize,
}

impl Timing {
    fn from_reference(answer: &Value) -> anyhow::Result<Self> {
        let micros = |key: &str| -> anyhow::Result<Duration> {
            let value = answer[key]
                .as_f64()
                .with_context(|| format!("no {key} in {answer}"))?;
            Ok(Duration::from_secs_f64(value / 1e6))
        };
        Ok(Self {
            median: micros("median_us")?,
            p95: micros("p95_us")?,
            samples: answer["samples"].as_u64().unwrap_or(0) as usize,
        })
    }

    fn to_json(&self) -> Value {
        json!({
            "median_us": micros(self.median),
            "p95_us": micros(self.p95),
            "samples": self.samples,
        })
    }
}

/// The shortest warm-up of each side; `hash_reference.py` has the same `WARMUP_SECONDS`.
const WARMUP: Duration = Duration::from_millis(200);

fn micros(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e9).round() / 1e3
}

/// Times our verification of the right password with the same rule as the
/// reference: warm-up, then up to `iterations`, stopping after `seconds` once
/// five samples are in.
fn time_ours(hash: &StoredHash, limits: &Limits, plan: &Plan) -> Timing {
    // At least WARMUP_SECONDS too, as the reference does, so that a cheap scheme's first
    // timed call does not meet a cold cache or a core that has not clocked up.
    let least = if plan.full { WARMUP } else { Duration::ZERO };
    let warm_started = Instant::now();
    let mut done = 0;
    while done < plan.warmup || warm_started.elapsed() < least {
        std::hint::black_box(hash.verify(std::hint::black_box(PASSWORD), limits));
        done += 1;
    }
    let mut samples = Vec::with_capacity(plan.iterations);
    let started = Instant::now();
    for _ in 0..plan.iterations {
        let begin = Instant::now();
        std::hint::black_box(hash.verify(std::hint::black_box(PASSWORD), limits));
        samples.push(begin.elapsed());
        if samples.len() >= 5 && started.elapsed().as_secs_f64() > plan.seconds {
            break;
        }
    }
    samples.sort_unstable();
    Timing {
        median: bench::nearest_rank(&samples, 0.5),
        p95: bench::nearest_rank(&samples, 0.95),
        samples: samples.len(),
    }
}

/// A case whose two implementations do not agree.
struct Disagreement {
    scheme: Scheme,
    stored: String,
    password: String,
    ours: String,
    reference: String,
}

struct Row {
    scheme: Scheme,
    cost: String,
    why: &'static str,
    made_by: &'static str,
    reference_name: String,
    ours: Timing,
    reference: Timing,
    one_thread: Option<Timing>,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.ours.median.as_secs_f64() / self.reference.median.as_secs_f64()
    }
}

/// Our verdicts for the right and the wrong password, as text if not as expected.
fn our_answers(hash: &StoredHash, right: &str, wrong: &str, limits: &Limits) -> (bool, bool) {
    (
        hash.verify(right, limits) == Verdict::Match,
        hash.verify(wrong, limits) == Verdict::Match,
    )
}

fn answers_text(right: bool, wrong: bool) -> String {
    format!("right password valid={right}, wrong password valid={wrong}")
}

fn main() -> anyhow::Result<()> {
    let plan = Plan::from_environment()?;
    let limits = Limits::default();
    let all_cases: Vec<Case> = cases()
        .into_iter()
        .filter(|case| plan.includes(case.scheme))
        .collect();
    // A scheme added to Scheme::ALL without a case here would go unmeasured.
    for scheme in Scheme::ALL {
        ensure!(
            cases().iter().any(|case| case.scheme == scheme),
            "hash_schemes: no case for {scheme}; add its common cost to cases()"
        );
    }

    let machine = machine();
    let (busy_start, total_start) = machine_ticks()?;
    let started = Instant::now();
    let mut reference = Reference::start()?;
    let mut disagreements = Vec::new();

    // Our makers, checked by the reference.
    let mut made_by_us = Vec::new();
    for scheme in Scheme::ALL.into_iter().filter(|s| plan.includes(*s)) {
        if let Ok(stored) = make_hash(scheme, PASSWORD) {
            made_by_us.push((scheme, stored));
        }
    }
    let requests = made_by_us
        .iter()
        .map(|(scheme, stored)| check_request(*scheme, stored, PASSWORD, WRONG_PASSWORD))
        .collect();
    let answers = reference.ask("time", requests)?;
    for ((scheme, stored), answer) in made_by_us.iter().zip(&answers) {
        let (right, wrong) = reference_answers(answer)?;
        if !right || wrong {
            disagreements.push(Disagreement {
                scheme: *scheme,
                stored: stored.clone(),
                password: PASSWORD.to_owned(),
                ours: "made by make_hash".to_owned(),
                reference: answers_text(right, wrong),
            });
        }
    }

    // The reference's values at the chosen costs; ours where make_hash makes the same cost.
    let requests = all_cases
        .iter()
        .map(|case| {
            let params = if plan.full {
                case.params.clone()
            } else {
                smoke_params(&case.params)
            };
            json!({"scheme": case.scheme.name(), "password": PASSWORD, "params": params})
        })
        .collect();
    let made = reference.ask("make", requests)?;
    let mut rows = Vec::new();
    for (case, made) in all_cases.iter().zip(&made) {
        let (mut stored, mut made_by) = (
            made["stored"]
                .as_str()
                .context("make answered no stored value")?
                .to_owned(),
            "reference",
        );
        let (mut password, mut wrong) = (PASSWORD, WRONG_PASSWORD);
        if case.scheme == Scheme::ScryptFirebase {
            (stored, made_by) = (FIREBASE_SAMPLE.to_owned(), "Firebase sample");
            (password, wrong) = (FIREBASE_PASSWORD, FIREBASE_WRONG_PASSWORD);
        }
        let parsed = match StoredHash::parse(&stored) {
            Ok(parsed) => parsed,
            Err(error) => {
                disagreements.push(Disagreement {
                    scheme: case.scheme,
                    stored: stored.clone(),
                    password: password.to_owned(),
                    ours: format!("parse error: {error}"),
                    reference: "made it".to_owned(),
                });
                continue;
            }
        };
        let ours_made = made_by_us
            .iter()
            .filter(|(scheme, _)| *scheme == case.scheme)
            .find_map(|(_, ours)| StoredHash::parse(ours).ok().map(|hash| (ours, hash)))
            .filter(|(_, hash)| hash.cost_label() == parsed.cost_label());
        let hash = match ours_made {
            Some((ours, hash)) => {
                (stored, made_by) = (ours.clone(), "make_hash");
                hash
            }
            None => parsed,
        };
        if hash.scheme() != case.scheme {
            disagreements.push(Disagreement {
                scheme: case.scheme,
                stored: stored.clone(),
                password: password.to_owned(),
                ours: format!("parsed as {}", hash.scheme()),
                reference: format!("made as {}", case.scheme),
            });
            continue;
        }

        let (our_right, our_wrong) = our_answers(&hash, password, wrong, &limits);
        let ours = time_ours(&hash, &limits, &plan);
        let mut request = check_request(case.scheme, &stored, password, wrong);
        request["iterations"] = json!(plan.iterations);
        request["warmup"] = json!(plan.warmup);
        request["warmup_seconds"] = json!(if plan.full { WARMUP.as_secs_f64() } else { 0.0 });
        request["seconds"] = json!(plan.seconds);
        let answer = reference.ask("time", vec![request])?.remove(0);
        let (ref_right, ref_wrong) = reference_answers(&answer)?;
        if (our_right, our_wrong) != (true, false) || (ref_right, ref_wrong) != (true, false) {
            disagreements.push(Disagreement {
                scheme: case.scheme,
                stored: stored.clone(),
                password: password.to_owned(),
                ours: format!(
                    "{} (verdicts {:?} / {:?})",
                    answers_text(our_right, our_wrong),
                    hash.verify(password, &limits),
                    hash.verify(wrong, &limits)
                ),
                reference: answers_text(ref_right, ref_wrong),
            });
        }
        rows.push(Row {
            scheme: case.scheme,
            cost: hash.cost_label(),
            why: case.why,
            made_by,
            reference_name: answer["reference"].as_str().unwrap_or("?").to_owned(),
            ours,
            reference: Timing::from_reference(&answer)?,
            one_thread: answer
                .get("one_thread")
                .map(Timing::from_reference)
                .transpose()?,
        });
    }
    reference.stop()?;
    let (busy_end, total_end) = machine_ticks()?;
    let busy_cores = machine["cores"].as_u64().unwrap_or(1) as f64 * (busy_end - busy_start) as f64
        / (total_end - total_start).max(1) as f64;

    print_table(&plan, &rows, made_by_us.len());
    println!(
        "machine: {} ({} cores), load average {} at the start, {} at the end; \
         {busy_cores:.2} cores busy on average over {:.0} s (this benchmark keeps about one busy)",
        machine["cpu"].as_str().unwrap_or("?"),
        machine["cores"],
        machine["load_average_at_start"].as_str().unwrap_or("?"),
        load_average(),
        started.elapsed().as_secs_f64()
    );

    let name = if plan.full {
        "hash_schemes"
    } else {
        "hash_schemes_smoke"
    };
    let document = json!({
        "benchmark": name,
        "machine": machine,
        "load_average_at_end": load_average(),
        "busy_cores_average": busy_cores,
        "seconds": started.elapsed().as_secs_f64(),
        "plan": {
            "iterations": plan.iterations,
            "warmup": plan.warmup,
            "seconds_per_side": plan.seconds,
        },
        "target_ratio": TARGET_RATIO,
        "makers_checked": made_by_us.iter().map(|(s, _)| s.name()).collect::<Vec<_>>(),
        "cases": rows.iter().map(|row| json!({
            "scheme": row.scheme.name(),
            "cost": row.cost,
            "why": row.why,
            "made_by": row.made_by,
            "reference": row.reference_name,
            "ours": row.ours.to_json(),
            "reference_timing": row.reference.to_json(),
            "reference_one_thread": row.one_thread.as_ref().map(Timing::to_json),
            "ratio": row.ratio(),
            "met": row.ratio() <= TARGET_RATIO,
        })).collect::<Vec<_>>(),
        "disagreements": disagreements.iter().map(|d| json!({
            "scheme": d.scheme.name(),
            "stored": d.stored,
            "password": d.password,
            "ours": d.ours,
            "reference": d.reference,
        })).collect::<Vec<_>>(),
    });
    let path = write_json(name, &document)?;
    println!("JSON: {}", path.display());

    if !disagreements.is_empty() {
        println!("DISAGREEMENTS between our verifier and the reference:");
        for d in &disagreements {
            println!(
                "  {}: stored {:?}, password {:?}\n    ours: {}\n    reference: {}",
                d.scheme, d.stored, d.password, d.ours, d.reference
            );
        }
        bail!(
            "hash_schemes: {} case(s) where our verifier and the reference disagree",
            disagreements.len()
        );
    }
    Ok(())
}

/// The smoke run's cheaper costs: the answers do not depend on the cost, and
/// a debug build at the common costs would take most of a minute.
fn smoke_params(params: &Value) -> Value {
    let mut params = params.clone();
    let cheaper = [
        ("rounds", 1000),
        ("cost", 4),
        ("iterations", 1000),
        ("count_log2", 7),
        ("m", 1024),
        ("t", 1),
        ("n", 1024),
        ("mem_cost", 10),
    ];
    for (key, value) in cheaper {
        if let Some(slot) = params.get_mut(key) {
            *slot = json!(value);
        }
    }
    params
}

/// A "time" request that only checks: no warm-up, one timed verification.
fn check_request(scheme: Scheme, stored: &str, password: &str, wrong: &str) -> Value {
    json!({
        "scheme": scheme.name(),
        "stored": stored,
        "password": password,
        "wrong": wrong,
        "iterations": 1,
        "warmup": 0,
        "seconds": 0,
    })
}

fn reference_answers(answer: &Value) -> anyhow::Result<(bool, bool)> {
    Ok((
        answer["valid"].as_bool().context("no `valid` in answer")?,
        answer["wrong_valid"]
            .as_bool()
            .context("no `wrong_valid` in answer")?,
    ))
}

fn print_table(plan: &Plan, rows: &[Row], makers: usize) {
    if plan.full {
        println!(
            "one verification of the right password, median of up to {} after {} warm-up \
             (and at least 0.2 s) (at most ~{} s a side per case); ours on one thread in this \
             process",
            plan.iterations, plan.warmup, plan.seconds
        );
    } else {
        println!(
            "hash_schemes smoke run: one verification per side, numbers are not meaningful \
             (use `cargo bench --bench hash_schemes`); checks that both implementations \
             accept the right password and refuse a wrong one"
        );
    }
    println!(
        "{:<21} {:<16} {:>11} {:>11} {:>6} {:>6}  {:<6}  {:<10} reference",
        "scheme", "cost", "ours", "reference", "ratio", "target", "", "made by"
    );
    for row in rows {
        let ratio = row.ratio();
        println!(
            "{:<21} {:<16} {:>11} {:>11} {:>6.2} {:>6.1}  {:<6}  {:<10} {}",
            row.scheme.name(),
            row.cost,
            duration_text(row.ours.median),
            duration_text(row.reference.median),
            ratio,
            TARGET_RATIO,
            if plan.full {
                bench::verdict(ratio <= TARGET_RATIO)
            } else {
                "-"
            },
            row.made_by,
            row.reference_name,
        );
        if let Some(one_thread) = &row.one_thread {
            println!(
                "{:<21} {:<16} {:>11} {:>11} {:>6.2}  (reference held to one thread)",
                "",
                "",
                "",
                duration_text(one_thread.median),
                row.ours.median.as_secs_f64() / one_thread.median.as_secs_f64(),
            );
        }
    }
    println!(
        "ratio = our median / the reference's median; {makers} values from make_hash also \
         verified in the reference"
    );
}

fn duration_text(duration: Duration) -> String {
    let us = duration.as_secs_f64() * 1e6;
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1e3)
    } else if us >= 100.0 {
        format!("{:.0} us", us)
    } else {
        format!("{:.2} us", us)
    }
}
