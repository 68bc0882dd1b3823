//! How long `POST /v1/users/{id}/verify-password` takes for an unknown user,
//! a user without a hash and a right password, compared with a wrong password
//! for an existing user measured in the same run; and, for every scheme in
//! `Scheme::ALL`, an unknown user right after a wrong password of that
//! scheme, compared with that wrong password.
//!
//! The gateway runs in this process on 127.0.0.1 (port 0) against a SQLite
//! database made from the reference schema and the demo seed, plus one user
//! per scheme (`scheme-<name>`). Results are medians and ratios of medians to
//! a baseline of the same run, never pass/fail timings.
//!
//! `cargo bench --bench verify_timing` does the real run: the demo cases with
//! `VERIFY_TIMING_ITERATIONS` (default 200) timed requests per case after
//! `VERIFY_TIMING_WARMUP` (default 20) warm-up rounds, then each scheme with
//! `VERIFY_TIMING_SCHEME_ITERATIONS` (default 40) and
//! `VERIFY_TIMING_SCHEME_WARMUP` (default 4); `VERIFY_TIMING_ONLY=bcrypt,md5`
//! limits the schemes. The schemes' users have today's common costs: what
//! `make_hash` makes, or published and hand-made values at their origin's
//! default (see [`KNOWN`]). Without `--bench` on the command line, as under
//! `cargo test --all-targets`, it does a smoke run with cheap costs and one
//! timed request per scheme and case, which checks the answers and, through
//! `userstore_gateway_hash_computations_total`, that the unknown user after
//! each scheme's user cost one hash of that scheme and cost.
//!
//! Both print a table and write `target/bench/verify_timing.json`
//! (`verify_timing_smoke.json` for the smoke run).

#[path = "../tests/support/bench.rs"]
#[allow(dead_code)]
mod bench;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use bench::{machine, number_from_env, real_run, toml_string, write_json, Percentiles};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use userstore_gateway::dialect::{Access, Pool};
use userstore_gateway::password::{make_hash, Scheme};
use userstore_gateway::settings::Settings;

const TOKEN: &str = "bench-token";
/// User 1's password in the demo seed, and the password of the schemes' users
/// unless their value in [`KNOWN`] says otherwise.
const RIGHT_PASSWORD: &str = "B1Systems!";
/// Wrong, but as long as the right one: sha-crypt's work grows with the password's length
/// (a 10-byte and a 27-byte password differ by a third here), which would blur case (d).
const WRONG_PASSWORD: &str = "B1Systems?";
const MAX_ITERATIONS: usize = 10_000;
const COMPUTATIONS: &str = "userstore_gateway_hash_computations_total";

/// What one timed request of the demo cases asks and which answer it must get.
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

    fn probe(self) -> Probe {
        let (user, password, valid) = match self {
            Case::WrongPassword => (Some("1"), WRONG_PASSWORD, false),
            Case::RightPassword => (Some("1"), RIGHT_PASSWORD, true),
            Case::NoHash => (Some("4"), WRONG_PASSWORD, false),
            Case::CostlyWrongPassword => (Some("2"), WRONG_PASSWORD, false),
            Case::UnknownUser | Case::UnknownAfterCostly => (None, WRONG_PASSWORD, false),
        };
        Probe {
            label: self.label().to_owned(),
            user: user.map(str::to_owned),
            password: password.to_owned(),
            valid,
        }
    }
}

/// One kind of request: whom it names, with which password, and the answer it must get.
#[derive(Clone)]
struct Probe {
    label: String,
    /// `None`: a fresh id that is not in the database, a new one each time.
    user: Option<String>,
    password: String,
    valid: bool,
}

/// Which runs a value of [`KNOWN`] is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Runs {
    /// The smoke run only: a cheap cost, standing in for `make_hash`'s.
    Smoke,
    /// The real run only.
    Real,
    Both,
}

/// A stored value made outside this crate, with its password.
struct Known {
    scheme: &'static str,
    runs: Runs,
    stored: &'static str,
    password: &'static str,
}

/// Stored values for the schemes `make_hash` has no maker for, and cheap ones
/// for the smoke run where the maker's cost would make it slow. The passwords
/// are [`RIGHT_PASSWORD`] unless given. Made with Python 3.11 in a virtual
/// environment with passlib 1.7.4, bcrypt 5.0.0, argon2-cffi 25.1.0 and
/// cryptography 50.0.2 (crypt(3) strings with passlib's `md5_crypt`,
/// `sha512_crypt`, `sha256_crypt` and `phpass`; bcrypt with `bcrypt.hashpw`;
/// argon2 with `argon2.low_level.hash_secret`; every other digest with hashlib
/// exactly as the form in docs/queries.md says), except where a comment names
/// the value's origin.
const KNOWN: &[Known] = &[
    // Smoke run: the lowest costs that are still everyday values of their forms.
    Known {
        scheme: "sha512-crypt",
        runs: Runs::Smoke,
        stored: "$6$rounds=1000$tmgwbnchsmoke$G.QXDDRolEyKZho5P/16o/iU3UXSWMxAc9.yim62xwwMY0rgXAnu1pvz7hAF07pJVEk42PmV7o/I38owcI0jt0",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "sha256-crypt",
        runs: Runs::Smoke,
        stored: "$5$rounds=1000$tmgwbnchsmoke$b8Zs7sIEU719/fyM.mx5UZkUnQHzFSP/dy881ZzZG3.",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "bcrypt",
        runs: Runs::Smoke,
        stored: "$2b$04$AniZgZUpvs7aDHlkmg301.0p2TDqOdl9l6kBRZx3EolUDzZ8KSYjS",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "bcrypt_sha256_django",
        runs: Runs::Smoke,
        stored: "{CLERK:bcrypt_sha256_django}bcrypt_sha256$$2b$04$/ZtEbs7vMhtSvNMADGhKqOxkT4DF1PG84E4CVA82NWDFCFINlWaOi",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "bcrypt_peppered",
        runs: Runs::Smoke,
        stored: "{CLERK:bcrypt_peppered}$2b$04$JFsZoU9s/1Xm4Du32bdacexehduqCnTrFZp4C4fd3wYKiMtBGTgAK$devisepepper",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "argon2i",
        runs: Runs::Smoke,
        stored: "$argon2i$v=19$m=256,t=1,p=1$dG1nd2JuY2hzbW9rZTEyMw$jZxViOYi0fI8Y3MEBW/4oyim2FYkyZqUEo8Id56vUIg",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "argon2id",
        runs: Runs::Smoke,
        stored: "$argon2id$v=19$m=256,t=1,p=1$dG1nd2JuY2hzbW9rZTEyMw$t5JYDoBE2i9qdMIprYAfq0gZHPobRYWvWGt89Sw2KJw",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "pbkdf2_sha1",
        runs: Runs::Smoke,
        stored: "{CLERK:pbkdf2_sha1}pbkdf2_sha1$1000$000102030405060708090a0b0c0d0e0f$b2d031b349f7afb6504a7c308f82687795e46cee",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "pbkdf2_sha256",
        runs: Runs::Smoke,
        stored: "{CLERK:pbkdf2_sha256}pbkdf2_sha256$1000$AAECAwQFBgcICQoLDA0ODw==$KQo2Ly9atzymlH4vokIMJ9RAtvqLbLhCBnAbPBWSaXQ=",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "pbkdf2_sha256_django",
        runs: Runs::Smoke,
        stored: "{CLERK:pbkdf2_sha256_django}pbkdf2_sha256$1000$tmgwbnchsmoke$5QATdpxpRS30WP4CY6WA952tHaGqyeLZXTnAO0in3zk=",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "pbkdf2_sha512",
        runs: Runs::Smoke,
        stored: "{CLERK:pbkdf2_sha512}pbkdf2_sha512$1000$tmgwbnchsmoke$7e7eb6d9c2b4eac0b6b05c023949b75cb5e689f863d6a5be1513af3eae157526b968c62c5ac80e43e5a7870ab85b1790552e97fc230f987cb5c1f76f96651eaf",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "pbkdf2_sha512_hex",
        runs: Runs::Smoke,
        stored: "{CLERK:pbkdf2_sha512_hex}pbkdf2_sha512_hex$1000$000102030405060708090a0b0c0d0e0f$fbb90472472d4bfe9bd9efd1a7e73adeb7bcd3a6754aa023793c98f0365dc1c803b289d0d7fa1eaa4bfbb1c85324b3bacf6fb922ecb1994733af92cc57501659",
        password: RIGHT_PASSWORD,
    },
    // From phpass's own test script (test.php), count 2^11.
    Known {
        scheme: "phpass",
        runs: Runs::Smoke,
        stored: "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0",
        password: "test12345",
    },
    Known {
        scheme: "scrypt_werkzeug",
        runs: Runs::Smoke,
        stored: "{CLERK:scrypt_werkzeug}scrypt:1024:8:1$tmgwbnchsmoke$dbe19f229c22b5d8d004763f0876be6d12fbb7fd4fab9ced2db7361044707973e4a7a1fbb442e26c6f8f9cbec6caf1c8213632902c68f187f2b27548ccb8c536",
        password: RIGHT_PASSWORD,
    },
    // Real run, for the schemes without a maker, at their origin's default cost.
    // md5-crypt has one cost (1000 rounds).
    Known {
        scheme: "md5-crypt",
        runs: Runs::Both,
        stored: "$1$tmgwbnch$pNUVWX21u5G.petGhVFUt.",
        password: RIGHT_PASSWORD,
    },
    // Devise's default stretches (12); bcrypt of password + pepper, the pepper in the digest.
    Known {
        scheme: "bcrypt_peppered",
        runs: Runs::Real,
        stored: "{CLERK:bcrypt_peppered}$2b$12$x086t/iPBb7LFIY3wUbMfOsanOr8MHsjgHJQKMxTha9/0y2DZRre.$devisepepper",
        password: RIGHT_PASSWORD,
    },
    // WordPress's and phpBB's portable hashes: count 2^13 (`B`).
    Known {
        scheme: "phpass",
        runs: Runs::Real,
        stored: "$P$BtmgwbnchlOXOvaVrI8EitHgr6iwb30",
        password: RIGHT_PASSWORD,
    },
    // Firebase's published sample (firebase/scrypt README): every project's
    // parameters are rounds 8 and mem_cost 14.
    Known {
        scheme: "scrypt_firebase",
        runs: Runs::Both,
        stored: "{CLERK:scrypt_firebase}\
                 lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$\
                 42xEC+ixf3L2lw==$\
                 jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$\
                 Bw==$8$14",
        password: "user1password",
    },
    Known {
        scheme: "ldap_sha",
        runs: Runs::Both,
        stored: "{SHA}UhM2w2hr6Ex7uMuOxBkIV5JMLKE=",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "ldap_ssha",
        runs: Runs::Both,
        stored: "{SSHA}3aG2ZnMTJkoz3rw+hsIVwIsRa9Z0bWd3Ym5jaA==",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "ldap_ssha256",
        runs: Runs::Both,
        stored: "{SSHA256}Xh0wFE46JicLGIrVOk1yu+rv4HJBAbBkQM5qqwtv2m50bWd3Ym5jaA==",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "ldap_ssha512",
        runs: Runs::Both,
        stored: "{SSHA512}M3l/9eA1u9gKOG+vCRwoSmMs7rPoRYIGw18qC55Unss7xm0isYviGYwj+7ppauvLEHXDf0Nw5mysEw52C4HfBXRtZ3dibmNo",
        password: RIGHT_PASSWORD,
    },
    // Symfony's MessageDigestPasswordEncoder defaults: sha512, 5000 iterations, base64.
    Known {
        scheme: "sha512_symfony",
        runs: Runs::Both,
        stored: "{CLERK:sha512_symfony}sha512_symfony$5000$tmgwbnchsalt$SvX8CjRRuJsJxOke75x0Elhk93HWI1ltto8EYxXh3xH0oWiAW/OMI/m57D/q0VbBiKKU8iJI6fCSObTbKh+DDQ==",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "md5",
        runs: Runs::Both,
        stored: "{CLERK:md5}a3550ce3f8beaf57650b620abdba46b3",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "md5_salted",
        runs: Runs::Both,
        stored: "{CLERK:md5_salted}tmgwbnch$b323ef188b202475176e5504522df698",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "sha256",
        runs: Runs::Both,
        stored: "{CLERK:sha256}c49aa8272b4a25df63d2666a8ecb0bf4d294e73e0b044d25b0f9eb211213e998",
        password: RIGHT_PASSWORD,
    },
    Known {
        scheme: "sha256_salted",
        runs: Runs::Both,
        stored: "{CLERK:sha256_salted}tmgwbnch$5e1d30144e3a26270b188ad53a4d72bbeaefe0724101b06440ce6aab0b6fda6e",
        password: RIGHT_PASSWORD,
    },
];

/// The user of one scheme in the benchmark's database.
struct Fixture {
    scheme: Scheme,
    stored: String,
    password: String,
    /// `make_hash` or `known value`, for the JSON file.
    origin: &'static str,
}

impl Fixture {
    /// A value from [`KNOWN`] for this run if there is one, else `make_hash`'s.
    fn of(scheme: Scheme, real: bool) -> anyhow::Result<Self> {
        let runs_here = |runs: Runs| runs == Runs::Both || (runs == Runs::Real) == real;
        if let Some(known) = KNOWN
            .iter()
            .find(|k| k.scheme == scheme.name() && runs_here(k.runs))
        {
            return Ok(Self {
                scheme,
                stored: known.stored.to_owned(),
                password: known.password.to_owned(),
                origin: "known value",
            });
        }
        match make_hash(scheme, RIGHT_PASSWORD) {
            Ok(stored) => Ok(Self {
                scheme,
                stored,
                password: RIGHT_PASSWORD.to_owned(),
                origin: "make_hash",
            }),
            Err(error) => bail!(
                "no stored value for scheme {scheme} ({error}): add one to KNOWN in \
                 benches/verify_timing.rs, so that every scheme is measured"
            ),
        }
    }

    fn user_id(&self) -> String {
        format!("scheme-{}", self.scheme.name())
    }

    /// As long as the right password, which matters for sha-crypt and phpass.
    fn wrong_password(&self) -> String {
        let mut wrong = self.password.clone();
        let last = wrong.pop();
        wrong.push(if last == Some('?') { '!' } else { '?' });
        wrong
    }

    fn probe(&self, label: &str, password: String, valid: bool, known_user: bool) -> Probe {
        Probe {
            label: format!("{} {label}", self.scheme.name()),
            user: known_user.then(|| self.user_id()),
            password,
            valid,
        }
    }

    fn insert_sql(&self) -> String {
        let quoted = |text: &str| format!("'{}'", text.replace('\'', "''"));
        let id = self.user_id();
        format!(
            "INSERT INTO users (id, createdtimestamp, email, email_verified, firstname, \
             lastname, password_hash, username) VALUES ({}, 1700000400000, {}, TRUE, \
             'Scheme', {}, {}, {});\n",
            quoted(&id),
            quoted(&format!("{id}@example.test")),
            quoted(self.scheme.name()),
            quoted(&self.stored),
            quoted(&id),
        )
    }
}

struct Plan {
    /// True for `cargo bench`; false for the smoke run under `cargo test`.
    full: bool,
    iterations: usize,
    warmup: usize,
    scheme_iterations: usize,
    scheme_warmup: usize,
    schemes: Vec<Scheme>,
}

impl Plan {
    fn from_environment() -> anyhow::Result<Self> {
        let full = real_run();
        if !full {
            return Ok(Self {
                full,
                iterations: 2,
                warmup: 1,
                scheme_iterations: 1,
                scheme_warmup: 0,
                schemes: Scheme::ALL.to_vec(),
            });
        }
        Ok(Self {
            full,
            iterations: number_from_env("VERIFY_TIMING_ITERATIONS", 200, 1, MAX_ITERATIONS)?,
            warmup: number_from_env("VERIFY_TIMING_WARMUP", 20, 0, MAX_ITERATIONS)?,
            scheme_iterations: number_from_env(
                "VERIFY_TIMING_SCHEME_ITERATIONS",
                40,
                1,
                MAX_ITERATIONS,
            )?,
            scheme_warmup: number_from_env("VERIFY_TIMING_SCHEME_WARMUP", 4, 0, MAX_ITERATIONS)?,
            schemes: schemes_from_env()?,
        })
    }
}

/// `VERIFY_TIMING_ONLY` (scheme names, comma-separated), or every scheme.
fn schemes_from_env() -> anyhow::Result<Vec<Scheme>> {
    let Ok(text) = std::env::var("VERIFY_TIMING_ONLY") else {
        return Ok(Scheme::ALL.to_vec());
    };
    text.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            Scheme::from_name(name)
                .with_context(|| format!("VERIFY_TIMING_ONLY: no scheme is called {name:?}"))
        })
        .collect()
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
    async fn start(fixtures: &[Fixture]) -> anyhow::Result<Self> {
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
        let users: String = fixtures.iter().map(Fixture::insert_sql).collect();
        if !users.is_empty() {
            seeding
                .execute_raw(&users)
                .await
                .context("adding the schemes' users")?;
        }
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

    /// One request for `probe`, timed from sending to the decoded answer.
    async fn time(&mut self, probe: &Probe) -> anyhow::Result<Duration> {
        self.next_serial += 1;
        let id = match &probe.user {
            Some(id) => id.clone(),
            None => format!("no-such-user-{}", self.next_serial),
        };
        let url = format!("{}/v1/users/{id}/verify-password", self.base);
        let body = json!({ "password": probe.password });

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
        ensure!(status == 200, "{}: HTTP {status}", probe.label);
        ensure!(
            answer["valid"] == probe.valid,
            "{}: expected valid={}, got {answer}",
            probe.label,
            probe.valid
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
            .filter(|line| line.starts_with(COMPUTATIONS))
            .map(str::to_owned)
            .collect())
    }

    /// The hash computation counters by their labels (`scheme="...",cost="..."`).
    async fn computation_counts(&self) -> anyhow::Result<BTreeMap<String, f64>> {
        let mut counts = BTreeMap::new();
        for line in self.hash_computations().await? {
            let (series, value) = line
                .rsplit_once(' ')
                .with_context(|| format!("unexpected metrics line {line:?}"))?;
            let labels = series
                .trim_start_matches(COMPUTATIONS)
                .trim_start_matches('{')
                .trim_end_matches('}');
            let value: f64 = value
                .parse()
                .with_context(|| format!("unexpected metrics line {line:?}"))?;
            counts.insert(labels.to_owned(), value);
        }
        Ok(counts)
    }

    /// Sends `probe` once and returns the labels of the one hash it computed; an error if it
    /// computed none or more than one.
    async fn hashed_once(&mut self, probe: &Probe) -> anyhow::Result<String> {
        let before = self.computation_counts().await?;
        self.time(probe).await?;
        let after = self.computation_counts().await?;
        let grown: Vec<(&String, f64)> = after
            .iter()
            .map(|(labels, count)| (labels, count - before.get(labels).copied().unwrap_or(0.0)))
            .filter(|(_, added)| *added != 0.0)
            .collect();
        match grown.as_slice() {
            [(labels, added)] if *added == 1.0 => Ok((*labels).clone()),
            _ => bail!(
                "{}: expected one hash computation, /metrics counted {grown:?}",
                probe.label
            ),
        }
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.server).await??;
        Ok(())
    }
}

/// Runs `rounds` rounds over `probes`, rotating the order each round so that no probe
/// always follows the same one; returns the samples per probe (in `probes` order).
async fn interleaved(
    gateway: &mut Gateway,
    probes: &[Probe],
    rounds: usize,
) -> anyhow::Result<Vec<Vec<Duration>>> {
    let mut samples = vec![Vec::with_capacity(rounds); probes.len()];
    for round in 0..rounds {
        for offset in 0..probes.len() {
            let slot = (round + offset) % probes.len();
            let elapsed = gateway.time(&probes[slot]).await?;
            samples[slot].push(elapsed);
        }
    }
    Ok(samples)
}

fn summaries(samples: Vec<Vec<Duration>>) -> anyhow::Result<Vec<Percentiles>> {
    samples
        .iter()
        .map(|s| Percentiles::of(s).context("no samples"))
        .collect()
}

/// One scheme's two timed cases.
struct SchemeRun {
    scheme: Scheme,
    origin: &'static str,
    /// The labels of the hash computation counter its requests increment.
    labels: String,
    /// (a): its user, wrong password.
    wrong: Percentiles,
    /// (b): an unknown user, with the scheme's hash as the last real one.
    unknown: Percentiles,
}

impl SchemeRun {
    fn cost(&self) -> &str {
        self.labels
            .split_once("cost=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map_or("?", |(cost, _)| cost)
    }

    fn ratio(&self) -> f64 {
        ratio(self.unknown.p50, self.wrong.p50)
    }
}

/// Checks the answers and the work for `fixture`'s scheme, then times (a) wrong password
/// and (b) unknown user, interleaved, with its hash as the last real one throughout.
async fn run_scheme(
    gateway: &mut Gateway,
    fixture: &Fixture,
    plan: &Plan,
) -> anyhow::Result<SchemeRun> {
    let name = fixture.scheme.name();
    let right = fixture.probe("right password", fixture.password.clone(), true, true);
    let wrong = fixture.probe("(a) wrong password", fixture.wrong_password(), false, true);
    let unknown = fixture.probe(
        "(b) unknown user after (a)",
        fixture.wrong_password(),
        false,
        false,
    );

    let labels = gateway.hashed_once(&right).await?;
    ensure!(
        labels.contains(&format!("scheme=\"{name}\"")),
        "{}: the hash computed was {labels}, not of scheme {name}",
        right.label
    );
    let wrong_labels = gateway.hashed_once(&wrong).await?;
    ensure!(
        wrong_labels == labels,
        "{}: computed {wrong_labels}, the right password {labels}",
        wrong.label
    );
    // The dummy work must be the same scheme and cost as the real check before it.
    let dummy_labels = gateway.hashed_once(&unknown).await?;
    ensure!(
        dummy_labels == labels,
        "{}: the dummy hash was {dummy_labels}, the real one before it {labels}",
        unknown.label
    );

    let probes = [wrong, unknown];
    interleaved(gateway, &probes, plan.scheme_warmup).await?;
    let samples = interleaved(gateway, &probes, plan.scheme_iterations).await?;
    let mut summary = summaries(samples)?.into_iter();
    let (Some(wrong), Some(unknown)) = (summary.next(), summary.next()) else {
        bail!("{name}: missing samples");
    };
    Ok(SchemeRun {
        scheme: fixture.scheme,
        origin: fixture.origin,
        labels,
        wrong,
        unknown,
    })
}

fn millis(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1e3)
}

fn ratio(value: Duration, reference: Duration) -> f64 {
    value.as_secs_f64() / reference.as_secs_f64()
}

fn print_row(label: &str, summary: &Percentiles, baseline: Duration) {
    println!(
        "{:<50} {:>10} {:>10} {:>7.2}",
        label,
        millis(summary.p50),
        millis(summary.p90),
        ratio(summary.p50, baseline)
    );
}

fn case_json(round: u32, probe: &Probe, summary: &Percentiles, baseline: Duration) -> Value {
    json!({
        "round": round,
        "case": probe.label,
        "percentiles": summary.to_json(),
        "ratio_to_baseline": ratio(summary.p50, baseline),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let plan = Plan::from_environment()?;
    let started = Instant::now();
    let machine = machine();
    let fixtures = plan
        .schemes
        .iter()
        .map(|&scheme| Fixture::of(scheme, plan.full))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut gateway = Gateway::start(&fixtures).await?;

    // Round 1: the only real hash verified is user 1's, so the dummy has its shape.
    let first: Vec<Probe> = [
        Case::WrongPassword,
        Case::UnknownUser,
        Case::NoHash,
        Case::RightPassword,
    ]
    .map(Case::probe)
    .to_vec();
    interleaved(&mut gateway, &first, plan.warmup).await?;
    let first_summaries = summaries(interleaved(&mut gateway, &first, plan.iterations).await?)?;
    let baseline = first_summaries[0].p50;

    // Round 2: user 2's costlier hash is computed first; from then on the unknown users'
    // dummy hashes copy it. No other real hash is verified in this round.
    let second: Vec<Probe> = [Case::CostlyWrongPassword, Case::UnknownAfterCostly]
        .map(Case::probe)
        .to_vec();
    gateway.time(&second[0]).await?;
    interleaved(&mut gateway, &second, plan.warmup).await?;
    let second_summaries = summaries(interleaved(&mut gateway, &second, plan.iterations).await?)?;

    // Round 3: each scheme in turn, its user's hash the last real one while it is timed.
    let mut schemes = Vec::with_capacity(fixtures.len());
    for fixture in &fixtures {
        let run = run_scheme(&mut gateway, fixture, &plan)
            .await
            .with_context(|| format!("scheme {}", fixture.scheme))?;
        if plan.full {
            eprintln!(
                "[verify_timing] {:<22} b/a {:.3}",
                run.scheme.name(),
                run.ratio()
            );
        }
        schemes.push(run);
    }

    let computations = gateway.hash_computations().await?;
    gateway.stop().await?;

    if plan.full {
        println!(
            "verify-password over loopback HTTP, SQLite demo database: {} timed requests per case \
             after {} warm-up rounds, cases interleaved; per scheme {} after {}",
            plan.iterations, plan.warmup, plan.scheme_iterations, plan.scheme_warmup
        );
    } else {
        println!(
            "verify_timing smoke run ({} requests per case, {} per scheme; numbers are not \
             meaningful, use `cargo bench --bench verify_timing`)",
            plan.iterations, plan.scheme_iterations
        );
    }
    println!(
        "{:<50} {:>10} {:>10} {:>7}",
        "case", "median", "p90", "ratio"
    );
    println!("round 1: the last real hash is user 1's ($6$, 5000 rounds)");
    for (probe, summary) in first.iter().zip(&first_summaries) {
        print_row(&probe.label, summary, baseline);
    }
    println!("round 2: user 2's $6$rounds=10000$ hash verified before the unknown users");
    for (probe, summary) in second.iter().zip(&second_summaries) {
        print_row(&probe.label, summary, baseline);
    }
    let costly_ratio = ratio(second_summaries[1].p50, second_summaries[0].p50);
    println!(
        "(f)/(e) = {costly_ratio:.2}: the unknown-user dummy costs what the last real hash cost"
    );
    println!("ratio = median / median of (a); hash computations from /metrics:");
    if computations.is_empty() {
        println!("  (no userstore_gateway_hash_computations_total samples)");
    }
    for line in &computations {
        println!("  {line}");
    }

    println!(
        "round 3, per scheme: (a) wrong password for its user, (b) unknown user with that \
         hash the last real one; b/a = median (b) / median (a); (a)/base = median (a) / \
         round 1's (a)"
    );
    println!(
        "{:<22} {:<16} {:>11} {:>11} {:>11} {:>11} {:>6} {:>8}",
        "scheme", "cost", "(a) median", "(a) p90", "(b) median", "(b) p90", "b/a", "(a)/base"
    );
    for run in &schemes {
        println!(
            "{:<22} {:<16} {:>11} {:>11} {:>11} {:>11} {:>6.3} {:>8.2}",
            run.scheme.name(),
            run.cost(),
            millis(run.wrong.p50),
            millis(run.wrong.p90),
            millis(run.unknown.p50),
            millis(run.unknown.p90),
            run.ratio(),
            ratio(run.wrong.p50, baseline),
        );
    }

    let mut cases: Vec<Value> = first
        .iter()
        .zip(&first_summaries)
        .map(|(probe, summary)| case_json(1, probe, summary, baseline))
        .collect();
    cases.extend(
        second
            .iter()
            .zip(&second_summaries)
            .map(|(probe, summary)| case_json(2, probe, summary, baseline)),
    );
    let document = json!({
        "benchmark": "verify_timing",
        "smoke": !plan.full,
        "machine": machine,
        "took_seconds": started.elapsed().as_secs_f64(),
        "plan": {
            "iterations": plan.iterations,
            "warmup_rounds": plan.warmup,
            "scheme_iterations": plan.scheme_iterations,
            "scheme_warmup_rounds": plan.scheme_warmup,
        },
        "baseline_case": first[0].label,
        "cases": cases,
        "ratio_f_e": costly_ratio,
        "schemes": schemes.iter().map(|run| json!({
            "scheme": run.scheme.name(),
            "hash_computation_labels": run.labels,
            "cost": run.cost(),
            "stored_value_from": run.origin,
            "wrong_password": run.wrong.to_json(),
            "unknown_user": run.unknown.to_json(),
            "ratio_unknown_to_wrong": run.ratio(),
            "ratio_wrong_to_baseline": ratio(run.wrong.p50, baseline),
        })).collect::<Vec<_>>(),
        "hash_computations": computations,
    });
    let name = if plan.full {
        "verify_timing"
    } else {
        "verify_timing_smoke"
    };
    let path = write_json(name, &document)?;
    println!("wrote {}", path.display());
    Ok(())
}
