//! Keycloak logins per second with the same users, the same `$6$` hashes,
//! the same clients and the same Keycloak, the users served from three
//! stores in five realms, side by side in one run, all on 127.0.0.1
//! (issue 15):
//!
//! - **(a) gateway, DEFAULT**: a realm with this provider (cache policy
//!   DEFAULT, change feed off, the rest at its defaults) on the gateway binary
//!   over a PostgreSQL database with the reference schema, every user with a
//!   realm role;
//! - **(n) gateway, NO_CACHE**: the same gateway with cache policy NO_CACHE,
//!   so that Keycloak asks the gateway for the user at every login;
//! - **(b) LDAP federation**: a realm with Keycloak's built-in LDAP federation
//!   (READ_ONLY, vendor "other", cache policy DEFAULT, import left at
//!   Keycloak's default) against a throwaway OpenLDAP `slapd` holding the
//!   users as `inetOrgPerson` with `userPassword: {CRYPT}$6$...`;
//! - **(c) local, argon2**: the users as Keycloak's own, imported with their
//!   plain passwords, which Keycloak stores with its default hash (it cannot
//!   take `$6$` hashes); the JSON names the algorithm Keycloak used;
//! - **(d) ceiling**: Keycloak's own users again, in a realm whose password
//!   policy `hashAlgorithm(pbkdf2-sha256) and hashIterations(1)` is set before
//!   the import, so that a password check costs next to nothing: what a login
//!   costs Keycloak itself, the most any user store can reach. The run stops
//!   unless the stored credential says pbkdf2-sha256 with 1 iteration.
//!
//! Every realm is measured in two modes: `grant`, the password grant of the
//! public client `testclient`, and `form`, Keycloak's browser login form as a
//! person uses it (the authorization endpoint's page, the form posted with the
//! page's cookies, the redirect's code exchanged at the token endpoint; one
//! login, and its latency, is the whole sequence).
//!
//! Each realm first logs every user in once (grant; caches warm, LDAP users
//! imported). Then in each round the modes take their turns, grant a n b c d
//! and then form a n b c d, each turn of a fixed length with the same number
//! of concurrent clients logging random users in.
//! Reported per realm and mode: logins/s, p50/p99, failures, the rate of each
//! turn, the CPU time per login of Keycloak, the gateway, PostgreSQL, slapd
//! and this process (from `/proc`), and for the gateway realms the gateway's
//! requests per login by route (from its `/metrics`). Then, per mode, the
//! targets of issue 15 with a verdict: logins/s a/d >= 0.65 and a/b >= 1.3,
//! Keycloak's CPU per login a/d <= 1.2, and the gateway's CPU per login in
//! (a) at most one sha512-crypt hash (timed here with the gateway's code) +
//! 0.5 ms; and n/d and a/n beside them. After the turns the backends are
//! measured alone at the same concurrency: the gateway's `verify-password`,
//! and slapd's simple binds over kept connections and over a new connection
//! each. A run in which any login failed is not a result: it is reported, and
//! the benchmark exits non-zero. The JSON goes to
//! `target/bench/keycloak_logins.json`.
//!
//! Keycloak is a server of the benchmark's own (`start-dev --db=dev-mem
//! --cache=local`) logging at plain INFO: the tests' debug logging of the
//! provider costs CPU per call to the gateway.
//!
//! `cargo bench --bench keycloak_logins` does the real run (about 11 minutes
//! on two cores). It needs the Keycloak distribution and the provider jar
//! (`mvn -B -ntp -f keycloak-provider/pom.xml -Pkeycloak-dist verify`),
//! PostgreSQL, and the Debian packages `slapd` and `ldap-utils`
//! (.ci/install-deps). Sizes come from `KEYCLOAK_LOGINS_USERS` (1000),
//! `KEYCLOAK_LOGINS_CLIENTS` (8), `KEYCLOAK_LOGINS_TURN_SECONDS` (20),
//! `KEYCLOAK_LOGINS_ROUNDS` (2), `KEYCLOAK_LOGINS_DIRECT_SECONDS` (5) and
//! `KEYCLOAK_LOGINS_WARMUP_SECONDS` (15: random logins per realm and mode
//! after the first pass, so that the JIT has compiled the hot code).
//! `KEYCLOAK_LOGINS_PROFILE=1` records the turns of round 1 (whose figures
//! then include the recorders' cost): Keycloak's, each into
//! `target/bench/keycloak_logins-<realm letter>-<mode>.jfr` (JFR, `profile`
//! settings, started and stopped with `jcmd` outside the timed window), and
//! the gateway's in (a) and (n) with `perf record -F 499 -g` into
//! `target/bench/keycloak_logins-gateway-<realm letter>-<mode>.perf.data`
//! where `perf record -p` gets samples of a running process (not in every VM
//! or container; the run says so and goes on without).
//! Without `--bench` on the command line, as under `cargo test --all-targets`,
//! it does a smoke run of under a second without Keycloak: slapd with three
//! users must accept a right password and refuse a wrong one with "invalid
//! credentials", through `ldapwhoami` and through the benchmark's own binds.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use reqwest::header::{COOKIE, LOCATION};
use reqwest::Method;
use serde_json::{json, Value};
use support::bench::{
    bench_dir, clock_ticks_per_second, cpu_ticks, cpus, keycloak_log_summary, keycloak_version,
    load_average, machine, ms, number_from_env, process_tree, real_run, thread_cpu_ticks,
    thread_ticks, toml_string, verdict, write_json, Percentiles, XorShift,
};
use support::faults::GatewayProcess;
use support::gateway::TOKEN;
use support::keycloak::{
    cookie_header, form_action, started_with, Keycloak, Realm, AUTHORIZATION_QUERY,
    BROWSER_REDIRECT,
};
use support::ldap::{
    slapd_version, Bind, BindConnection, LdapUser, Slapd, PEOPLE, ROOT_DN, ROOT_PASSWORD,
};
use support::{TestDb, Vendor};
use userstore_gateway::password::hash_sha512;

/// Positions in the list of realms, which is in the order of the turns.
const A: usize = 0;
const N: usize = 1;
const B: usize = 2;
const C: usize = 3;
const D: usize = 4;
/// The password policy of realm (d): a password check next to free.
const CEILING_POLICY: &str = "hashAlgorithm(pbkdf2-sha256) and hashIterations(1)";
/// The targets of issue 15: logins/s a/d at least this...
const TARGET_A_OVER_D: f64 = 0.65;
/// ... a/b at least this...
const TARGET_A_OVER_B: f64 = 1.3;
/// ... Keycloak's CPU per login a/d at most this...
const TARGET_KEYCLOAK_CPU_A_OVER_D: f64 = 1.2;
/// ... and the gateway's CPU per login in (a) at most one sha512-crypt hash
/// and this many milliseconds.
const TARGET_GATEWAY_MS_OVER_HASH: f64 = 0.5;
/// How Keycloak is started: as the tests' server, but at plain INFO.
const KEYCLOAK_ARGS: &[&str] = &[
    "start-dev",
    "--db=dev-mem",
    "--cache=local",
    "--log-level=INFO",
];
/// Users per partial import request of realms (c) and (d); Keycloak hashes each password.
const IMPORT_BATCH: usize = 50;
/// Hashes timed on one thread for the cost of one `$6$` check in the gateway's code.
const HASH_SAMPLES: usize = 300;

struct Plan {
    users: usize,
    clients: usize,
    turn: Duration,
    rounds: usize,
    direct: Duration,
    /// Random logins per realm and mode after the first pass, untimed: the
    /// JVM compiles Keycloak's and the provider's hot code for well over a
    /// minute of load, and a turn measured before that measures the JIT.
    jit_warmup: Duration,
    profile: bool,
}

impl Plan {
    fn from_environment() -> anyhow::Result<Self> {
        Ok(Self {
            users: number_from_env("KEYCLOAK_LOGINS_USERS", 1_000, 1, 100_000)?,
            clients: number_from_env("KEYCLOAK_LOGINS_CLIENTS", 8, 1, 64)?,
            turn: Duration::from_secs(
                number_from_env("KEYCLOAK_LOGINS_TURN_SECONDS", 20, 1, 600)? as u64
            ),
            rounds: number_from_env("KEYCLOAK_LOGINS_ROUNDS", 2, 1, 20)?,
            direct: Duration::from_secs(number_from_env(
                "KEYCLOAK_LOGINS_DIRECT_SECONDS",
                5,
                1,
                120,
            )? as u64),
            jit_warmup: Duration::from_secs(number_from_env(
                "KEYCLOAK_LOGINS_WARMUP_SECONDS",
                15,
                0,
                600,
            )? as u64),
            profile: number_from_env("KEYCLOAK_LOGINS_PROFILE", 0, 0, 1)? == 1,
        })
    }
}

/// One person, the same in all three stores.
struct User {
    id: String,
    username: String,
    password: String,
    /// `$6$` (sha512-crypt, 5000 rounds), the same in PostgreSQL and slapd.
    hash: String,
    first: String,
    last: String,
    email: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if !real_run() {
        return smoke().await;
    }
    let plan = Plan::from_environment()?;
    let started = Instant::now();
    let machine = machine();
    let load_at_start = load_average();
    // One client for all requests, connections kept: redirects are not
    // followed and there is no cookie store, the login form's cookies are
    // passed by hand.
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(64)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut rng = XorShift::seeded();

    eprintln!(
        "[keycloak_logins] hashing {} passwords and starting Keycloak (about a minute on 2 cores)",
        plan.users
    );
    let count = plan.users;
    let hashing = tokio::task::spawn_blocking(move || make_users(count));
    // Exact method samples in the JFR recordings; JFR itself needs no flag.
    let java_options = if plan.profile {
        vec![(
            "JAVA_OPTS_APPEND",
            "-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints",
        )]
    } else {
        Vec::new()
    };
    let kc = started_with(KEYCLOAK_ARGS, &java_options).await;
    ensure!(
        kc.base.starts_with("http://127.0.0.1:"),
        "Keycloak at {}",
        kc.base
    );
    let users = hashing.await.context("hashing task")??;
    let credentials: Arc<Vec<(String, String)>> = Arc::new(
        users
            .iter()
            .map(|u| (u.username.clone(), u.password.clone()))
            .collect(),
    );

    eprintln!("[keycloak_logins] PostgreSQL, gateway and slapd with the users");
    let db = TestDb::with_schema(Vendor::Postgres).await;
    db.run_script(&users_sql(&users)).await;
    let gateway_toml = format!(
        "[database]\nurl = {}\n\n[auth]\napi_tokens = [\"{TOKEN}\"]\n",
        toml_string(db.url())
    );
    let gateway = tokio::task::spawn_blocking(move || GatewayProcess::start(&gateway_toml))
        .await
        .context("starting the gateway")?;
    let ldap_users = ldap_users(&users);
    let slapd = tokio::task::spawn_blocking(move || Slapd::start(&ldap_users))
        .await
        .context("starting slapd")?;
    let first = &users[0];
    ensure!(
        slapd.whoami(&Slapd::user_dn(&first.username), &first.password) == Bind::Accepted,
        "slapd refused {}'s password",
        first.username
    );

    eprintln!("[keycloak_logins] realms");
    let default_realm = kc
        .realm_with(
            &gateway.base(),
            TOKEN,
            &[("cachePolicy", "DEFAULT"), ("changeFeed", "false")],
            json!({}),
        )
        .await;
    let no_cache_realm = kc
        .realm_with(
            &gateway.base(),
            TOKEN,
            &[("cachePolicy", "NO_CACHE"), ("changeFeed", "false")],
            json!({}),
        )
        .await;
    let ldap_realm = ldap_realm(&kc, &slapd).await;
    let (local_realm_c, import_c) = local_realm(&kc, &users, json!({})).await?;
    // The policy comes with the new realm, so the import already uses it.
    let (ceiling_realm, import_d) =
        local_realm(&kc, &users, json!({"passwordPolicy": CEILING_POLICY})).await?;
    let local_hashes = [
        StoredHash::read(&kc, "(c)", &local_realm_c, &first.username, import_c).await,
        StoredHash::read(&kc, "(d)", &ceiling_realm, &first.username, import_d).await,
    ];
    let ceiling_hash = &local_hashes[1];
    let stored = &ceiling_hash.value["credential_data"];
    ensure!(
        stored["algorithm"] == "pbkdf2-sha256" && stored["hashIterations"] == 1,
        "realm (d) stores passwords as {}, not pbkdf2-sha256 with 1 iteration: {}",
        ceiling_hash.algorithm(),
        ceiling_hash.value
    );
    // In the order of the turns; see the A.. constants.
    let mut realms = vec![
        RealmRun::new(&kc, "(a) gateway, DEFAULT", "a", true, default_realm),
        RealmRun::new(&kc, "(n) gateway, NO_CACHE", "n", true, no_cache_realm),
        RealmRun::new(&kc, "(b) LDAP federation", "b", false, ldap_realm),
        RealmRun::new(&kc, "(c) local, argon2", "c", false, local_realm_c),
        RealmRun::new(
            &kc,
            "(d) ceiling: local, pbkdf2-sha256 1 iteration",
            "d",
            false,
            ceiling_realm,
        ),
    ];
    for realm in &realms {
        check_realm(&http, realm, first).await?;
    }

    for realm in &mut realms {
        eprintln!("[keycloak_logins] warm-up {}: every user once", realm.label);
        realm.warmup = Some(
            drive(
                &http,
                &realm.endpoints,
                Mode::Grant,
                &credentials,
                plan.clients,
                Pick::EveryUserOnce,
                &mut rng,
            )
            .await,
        );
    }
    if !plan.jit_warmup.is_zero() {
        for mode in Mode::ALL {
            for realm in &realms {
                eprintln!(
                    "[keycloak_logins] JIT warm-up {}, {}: {} s",
                    mode.name(),
                    realm.label,
                    plan.jit_warmup.as_secs()
                );
                let warm = drive(
                    &http,
                    &realm.endpoints,
                    mode,
                    &credentials,
                    plan.clients,
                    Pick::RandomFor(plan.jit_warmup),
                    &mut rng,
                )
                .await;
                ensure!(
                    warm.failures == 0,
                    "{} logins failed in the JIT warm-up of {} ({}): {:?}",
                    warm.failures,
                    realm.label,
                    mode.name(),
                    warm.failure_samples.first()
                );
            }
        }
    }

    let mut profiler = if plan.profile {
        Some(Profiler::new().await?)
    } else {
        None
    };
    let gateway_base = gateway.base();
    for round in 0..plan.rounds {
        for mode in Mode::ALL {
            for realm in &mut realms {
                eprintln!(
                    "[keycloak_logins] round {} of {}, {}: {}",
                    round + 1,
                    plan.rounds,
                    mode.name(),
                    realm.label
                );
                let recording = match profiler.as_mut() {
                    Some(profiler) if round == 0 => {
                        let gateway_pid = if realm.via_gateway {
                            gateway.pid()
                        } else {
                            None
                        };
                        Some(profiler.start(realm.letter, mode, gateway_pid).await)
                    }
                    _ => None,
                };
                let cpu_before = CpuSnapshot::take();
                let gateway_before = GatewayCounters::read(&http, &gateway_base).await;
                let turn = drive(
                    &http,
                    &realm.endpoints,
                    mode,
                    &credentials,
                    plan.clients,
                    Pick::RandomFor(plan.turn),
                    &mut rng,
                )
                .await;
                let cpu = CpuSnapshot::take().seconds_since(&cpu_before);
                let gateway_delta = GatewayCounters::read(&http, &gateway_base)
                    .await
                    .minus(&gateway_before);
                if let (Some(profiler), Some(recording)) = (profiler.as_mut(), recording) {
                    profiler.stop(recording).await;
                }
                realm.series_mut(mode).add_turn(turn, cpu, gateway_delta);
            }
        }
    }

    eprintln!("[keycloak_logins] the backends alone");
    let direct = vec![
        direct_verify(&http, &gateway_base, &users, &plan, &mut rng).await,
        direct_binds(&slapd, &users, &plan, false, &mut rng).await,
        direct_binds(&slapd, &users, &plan, true, &mut rng).await,
    ];
    let hash_ms = tokio::task::spawn_blocking(|| one_hash_ms(HASH_SAMPLES))
        .await
        .context("timing sha512-crypt")?;

    let report = Report {
        plan: &plan,
        realms: &realms,
        direct: &direct,
        local_hashes: &local_hashes,
        hash_ms,
        java: java_version(),
        log: keycloak_log_summary(&kc.log_text()),
        slapd: slapd_version(),
        machine,
        load_at_start,
        load_at_end: load_average(),
        profile: profiler.as_ref(),
        took: started.elapsed(),
    };
    report.print();
    let path = report.write_json()?;
    println!("JSON: {}", path.display());
    if let Some(profiler) = &profiler {
        profiler.print_files();
    }

    for realm in &realms {
        let _ = kc
            .admin(Method::DELETE, &format!("/{}", realm.realm.name), None)
            .await;
    }
    drop(slapd);
    drop(gateway);
    drop(db);
    let failed = report.failures();
    if failed > 0 {
        bail!("{failed} logins failed: not a result (see the table)");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Smoke run

/// slapd with three users: right and wrong passwords, through ldapwhoami and
/// through [`BindConnection`]; no Keycloak, a few seconds.
async fn smoke() -> anyhow::Result<()> {
    let started = Instant::now();
    let users = make_users(3)?;
    let slapd = Slapd::start(&ldap_users(&users));
    for user in &users {
        let dn = Slapd::user_dn(&user.username);
        let right = slapd.whoami(&dn, &user.password);
        ensure!(
            right == Bind::Accepted,
            "ldapwhoami as {dn} with the right password: {right:?}; slapd log:\n{}",
            slapd.log_text()
        );
        let wrong = slapd.whoami(&dn, &format!("{}-wrong", user.password));
        ensure!(
            wrong == Bind::InvalidCredentials,
            "ldapwhoami as {dn} with a wrong password: {wrong:?}"
        );
    }
    let stranger = slapd.whoami(&Slapd::user_dn("nobody"), "whatever");
    ensure!(
        stranger == Bind::InvalidCredentials,
        "ldapwhoami as an unknown user: {stranger:?}"
    );
    ensure!(
        slapd.whoami(ROOT_DN, ROOT_PASSWORD) == Bind::Accepted,
        "ldapwhoami as the rootdn failed"
    );

    let mut connection = BindConnection::connect(slapd.port).await?;
    for user in &users {
        let dn = Slapd::user_dn(&user.username);
        let right = connection.bind(&dn, &user.password).await?;
        ensure!(right == Bind::Accepted, "bind as {dn}: {right:?}");
        let wrong = connection.bind(&dn, "not-the-password").await?;
        ensure!(
            wrong == Bind::InvalidCredentials,
            "bind as {dn} with a wrong password: {wrong:?}"
        );
    }
    println!(
        "keycloak_logins smoke run: slapd {} accepted 3 right passwords and refused wrong ones \
         ({} ms in all; no Keycloak, use `cargo bench --bench keycloak_logins`)",
        slapd_version(),
        started.elapsed().as_millis()
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Users and the three stores

/// `count` users with passwords of their own, each hashed once (`$6$`, a random
/// salt, 5000 rounds: what `userstore-gateway hash` makes), on every core.
fn make_users(count: usize) -> anyhow::Result<Vec<User>> {
    let passwords: Vec<String> = (0..count).map(|i| format!("pw-{i:05}-Kc7!")).collect();
    let chunk = count.div_ceil(cpus().max(1)).max(1);
    let hashes: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = passwords
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(|p| hash_sha512(p)).collect::<Vec<_>>())
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join())
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))?
    .into_iter()
    .flatten()
    .collect();
    Ok(passwords
        .into_iter()
        .zip(hashes)
        .enumerate()
        .map(|(i, (password, hash))| User {
            id: format!("k{i}"),
            username: format!("user{i:05}"),
            password,
            hash,
            first: format!("Given{i}"),
            last: format!("Family{i}"),
            email: format!("user{i:05}@example.test"),
        })
        .collect())
}

/// Wall-clock and CPU milliseconds per `$6$` hash (5000 rounds) with the
/// gateway's code, on this thread (CPU time at the resolution of a clock tick).
fn one_hash_ms(samples: usize) -> HashCost {
    let ticks_before = thread_cpu_ticks().ok();
    let started = Instant::now();
    for i in 0..samples {
        std::hint::black_box(hash_sha512(&format!("pw-{i:05}-Kc7!")));
    }
    let wall = ms(started.elapsed()) / samples.max(1) as f64;
    let cpu = match (ticks_before, thread_cpu_ticks().ok()) {
        (Some(before), Some(after)) => {
            Some((after - before) as f64 / clock_ticks_per_second() * 1e3 / samples.max(1) as f64)
        }
        _ => None,
    };
    HashCost { wall, cpu }
}

struct HashCost {
    wall: f64,
    cpu: Option<f64>,
}

/// The first line of `java -version`: the JVM that runs Keycloak.
fn java_version() -> String {
    std::process::Command::new("java")
        .arg("-version")
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn ldap_users(users: &[User]) -> Vec<LdapUser> {
    users
        .iter()
        .map(|u| LdapUser {
            uid: u.username.clone(),
            given_name: u.first.clone(),
            sn: u.last.clone(),
            mail: u.email.clone(),
            crypt_hash: u.hash.clone(),
        })
        .collect()
}

/// The users, each with the realm role `user`, for the reference schema.
fn users_sql(users: &[User]) -> String {
    let quote = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let rows: Vec<String> = users
        .iter()
        .map(|u| {
            format!(
                "({}, 1700000000000, {}, TRUE, {}, {}, {}, {})",
                quote(&u.id),
                quote(&u.email),
                quote(&u.first),
                quote(&u.last),
                quote(&u.hash),
                quote(&u.username)
            )
        })
        .collect();
    let roles: Vec<String> = users
        .iter()
        .map(|u| format!("({}, 'r-user')", quote(&u.id)))
        .collect();
    format!(
        "INSERT INTO realm_roles (id, role) VALUES ('r-user', 'user');\n\
         INSERT INTO users (id, createdtimestamp, email, email_verified, firstname, lastname, \
         password_hash, username) VALUES\n{};\n\
         INSERT INTO users_to_realm_roles (user_id, realm_role_id) VALUES\n{};\n",
        rows.join(",\n"),
        roles.join(",\n")
    )
}

/// A realm with Keycloak's LDAP federation on `slapd`: READ_ONLY, the same
/// cache policy as (a), import and everything else left at Keycloak's defaults.
async fn ldap_realm(kc: &Keycloak, slapd: &Slapd) -> Realm {
    let name = kc.realm_without_federation(json!({})).await;
    let url = slapd.url();
    let config = [
        ("enabled", "true"),
        ("priority", "0"),
        ("editMode", "READ_ONLY"),
        ("vendor", "other"),
        ("connectionUrl", url.as_str()),
        ("usersDn", PEOPLE),
        ("authType", "simple"),
        ("bindDn", ROOT_DN),
        ("bindCredential", ROOT_PASSWORD),
        ("usernameLDAPAttribute", "uid"),
        ("rdnLDAPAttribute", "uid"),
        ("uuidLDAPAttribute", "entryUUID"),
        ("userObjectClasses", "inetOrgPerson"),
        // javax.naming.directory.SearchControls.ONELEVEL_SCOPE
        ("searchScope", "1"),
        ("connectionPooling", "true"),
        ("cachePolicy", "DEFAULT"),
        // No periodic sync during the run.
        ("fullSyncPeriod", "-1"),
        ("changedSyncPeriod", "-1"),
    ];
    let config: serde_json::Map<String, Value> = config
        .iter()
        .map(|(key, value)| ((*key).to_owned(), json!([value])))
        .collect();
    let component = json!({
        "name": "openldap",
        "providerId": "ldap",
        "providerType": "org.keycloak.storage.UserStorageProvider",
        "config": config,
    });
    let component_id = kc.add_component(&name, component).await;
    Realm { name, component_id }
}

/// A realm holding the users itself, with the realm attributes `realm_extra`
/// (a password policy, say), imported with their plain passwords (Keycloak
/// hashes each); how long the import took.
async fn local_realm(
    kc: &Keycloak,
    users: &[User],
    realm_extra: Value,
) -> anyhow::Result<(Realm, Duration)> {
    let name = kc.realm_without_federation(realm_extra).await;
    let started = Instant::now();
    let batches: Vec<Value> = users
        .chunks(IMPORT_BATCH)
        .map(|batch| {
            let users: Vec<Value> = batch
                .iter()
                .map(|u| {
                    json!({
                        "username": u.username,
                        "enabled": true,
                        "email": u.email,
                        "emailVerified": true,
                        "firstName": u.first,
                        "lastName": u.last,
                        "realmRoles": ["user"],
                        "credentials": [{"type": "password", "value": u.password, "temporary": false}],
                    })
                })
                .collect();
            json!({"ifResourceExists": "FAIL", "users": users})
        })
        .collect();
    let path = format!("/{name}/partialImport");
    stream::iter(batches)
        .map(|batch| {
            let path = path.clone();
            async move {
                let expected = batch["users"].as_array().map_or(0, Vec::len);
                let answer = kc.admin(Method::POST, &path, Some(batch)).await;
                ensure!(
                    answer.status == 200 && answer.body["added"] == json!(expected),
                    "partial import: HTTP {} {}",
                    answer.status,
                    answer.body
                );
                Ok(())
            }
        })
        .buffer_unordered(cpus().max(1))
        .try_collect::<Vec<()>>()
        .await?;
    Ok((
        Realm {
            name,
            component_id: String::new(),
        },
        started.elapsed(),
    ))
}

/// How Keycloak stored a local user's password: the credential's
/// `credentialData` (algorithm, iterations, parameters) and the realm's password policy.
async fn local_password_hash(kc: &Keycloak, realm: &Realm, username: &str) -> Value {
    let found = kc
        .admin(
            Method::GET,
            &format!("/{}/users?username={username}&exact=true", realm.name),
            None,
        )
        .await;
    let Some(id) = found.body[0]["id"].as_str() else {
        return json!({"error": format!("user {username} not found: {}", found.body)});
    };
    let credentials = kc
        .admin(
            Method::GET,
            &format!("/{}/users/{id}/credentials", realm.name),
            None,
        )
        .await;
    let data = credentials.body[0]["credentialData"]
        .as_str()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .unwrap_or(Value::Null);
    let policy = kc
        .admin(Method::GET, &format!("/{}", realm.name), None)
        .await
        .body["passwordPolicy"]
        .clone();
    json!({"credential_data": data, "realm_password_policy": policy})
}

/// How a realm with local users stores their passwords, and how long
/// importing them took.
struct StoredHash {
    /// "(c)", "(d)"
    realm: &'static str,
    /// What [`local_password_hash`] found.
    value: Value,
    import_took: Duration,
}

impl StoredHash {
    async fn read(
        kc: &Keycloak,
        letter: &'static str,
        realm: &Realm,
        username: &str,
        import_took: Duration,
    ) -> Self {
        Self {
            realm: letter,
            value: local_password_hash(kc, realm, username).await,
            import_took,
        }
    }

    /// "argon2", "pbkdf2-sha256, 1 iterations", "unknown".
    fn algorithm(&self) -> String {
        let data = &self.value["credential_data"];
        match (data["algorithm"].as_str(), data["hashIterations"].as_i64()) {
            (Some(algorithm), Some(iterations)) => format!("{algorithm}, {iterations} iterations"),
            (Some(algorithm), None) => algorithm.to_owned(),
            _ => "unknown".to_owned(),
        }
    }

    fn policy(&self) -> &str {
        self.value["realm_password_policy"]
            .as_str()
            .unwrap_or("none, Keycloak's default")
    }
}

/// The first user logs in with the right password and not with a wrong
/// one, in both modes.
async fn check_realm(http: &reqwest::Client, realm: &RealmRun, user: &User) -> anyhow::Result<()> {
    for mode in Mode::ALL {
        let right = login(http, &realm.endpoints, mode, &user.username, &user.password).await;
        if let Err(why) = right {
            bail!(
                "{} ({}), {}: {} with the right password: {why}",
                realm.label,
                mode.name(),
                realm.realm.name,
                user.username
            );
        }
        let wrong = login(
            http,
            &realm.endpoints,
            mode,
            &user.username,
            "wrong-password",
        )
        .await;
        ensure!(
            wrong.is_err(),
            "{} ({}), {}: {} logged in with a wrong password",
            realm.label,
            mode.name(),
            realm.realm.name,
            user.username
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Logins

/// How a login is made.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The password grant of `testclient`.
    Grant,
    /// Keycloak's browser login form and the code exchange.
    Form,
}

impl Mode {
    /// In the order of the turns within a round.
    const ALL: [Mode; 2] = [Mode::Grant, Mode::Form];

    fn name(self) -> &'static str {
        match self {
            Mode::Grant => "grant",
            Mode::Form => "form",
        }
    }

    fn index(self) -> usize {
        match self {
            Mode::Grant => 0,
            Mode::Form => 1,
        }
    }
}

/// Where one realm's logins go.
struct Endpoints {
    token: String,
    auth: String,
}

impl Endpoints {
    fn of(base: &str, realm: &str) -> Self {
        let oidc = format!("{base}/realms/{realm}/protocol/openid-connect");
        Self {
            token: format!("{oidc}/token"),
            auth: format!("{oidc}/auth"),
        }
    }
}

/// One login of `testclient` in `mode`; Err with the reason unless a token came back.
async fn login(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    mode: Mode,
    username: &str,
    password: &str,
) -> Result<(), String> {
    match mode {
        Mode::Grant => password_grant(http, endpoints, username, password).await,
        Mode::Form => form_login(http, endpoints, username, password).await,
    }
}

async fn password_grant(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    username: &str,
    password: &str,
) -> Result<(), String> {
    let response = http
        .post(&endpoints.token)
        .form(&[
            ("grant_type", "password"),
            ("client_id", "testclient"),
            ("username", username),
            ("password", password),
            ("scope", "openid"),
        ])
        .send()
        .await
        .map_err(|e| format!("request: {e}"))?;
    token_answer(response).await
}

/// A login through Keycloak's browser login form, as
/// [`Keycloak::browser_login`] makes it, but on the benchmark's client (no
/// redirects followed, no cookie store: the page's cookies go back by hand)
/// and with the reason when it fails.
async fn form_login(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    username: &str,
    password: &str,
) -> Result<(), String> {
    let page = http
        .get(&endpoints.auth)
        .query(&AUTHORIZATION_QUERY)
        .send()
        .await
        .map_err(|e| format!("login page: {e}"))?;
    let status = page.status();
    let cookies = cookie_header(page.headers());
    let html = page
        .text()
        .await
        .map_err(|e| format!("reading the login page: {e}"))?;
    let Some(action) = form_action(&html) else {
        return Err(format!(
            "login page: HTTP {status} without the login form: {}",
            excerpt(html.as_bytes())
        ));
    };
    let posted = http
        .post(action)
        .header(COOKIE, cookies)
        .form(&[
            ("username", username),
            ("password", password),
            ("credentialId", ""),
        ])
        .send()
        .await
        .map_err(|e| format!("login form: {e}"))?;
    let status = posted.status();
    let location = posted
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Read to the end, so that the connection can be used again.
    let body = posted
        .bytes()
        .await
        .map_err(|e| format!("reading the login form's answer: {e}"))?;
    let code = location.as_deref().filter(|_| status == 302).and_then(|l| {
        l.split(['?', '&'])
            .find_map(|part| part.strip_prefix("code="))
    });
    let Some(code) = code else {
        let why = if status == 200 && form_action(&String::from_utf8_lossy(&body)).is_some() {
            "the login form again (credentials refused)".to_owned()
        } else {
            excerpt(&body)
        };
        return Err(format!(
            "login form: HTTP {status}, Location {location:?}: {why}"
        ));
    };
    let exchanged = http
        .post(&endpoints.token)
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "testclient"),
            ("code", code),
            ("redirect_uri", BROWSER_REDIRECT),
        ])
        .send()
        .await
        .map_err(|e| format!("code exchange: {e}"))?;
    token_answer(exchanged)
        .await
        .map_err(|why| format!("code exchange: {why}"))
}

/// Ok if the token endpoint answered with a token.
async fn token_answer(response: reqwest::Response) -> Result<(), String> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    if status == 200 && body.windows(14).any(|w| w == b"\"access_token\"") {
        Ok(())
    } else {
        Err(format!("HTTP {status} {}", excerpt(&body)))
    }
}

/// The start of an answer's body, for a failure's reason.
fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
}

#[derive(Clone, Copy)]
enum Pick {
    /// Each user once, handed out in order to whichever client is free.
    EveryUserOnce,
    /// Random users until the time is up.
    RandomFor(Duration),
}

#[derive(Default)]
struct Turn {
    logins: usize,
    failures: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// Per client that failed: its count and first failure.
    failure_samples: Vec<String>,
}

impl Turn {
    fn rate(&self) -> f64 {
        self.logins as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `clients` concurrent clients, each logging in one user after the other.
async fn drive(
    http: &reqwest::Client,
    endpoints: &Arc<Endpoints>,
    mode: Mode,
    credentials: &Arc<Vec<(String, String)>>,
    clients: usize,
    pick: Pick,
    rng: &mut XorShift,
) -> Turn {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let mut rng = XorShift::from_seed(rng.next());
        let (http, endpoints) = (http.clone(), Arc::clone(endpoints));
        let (credentials, next) = (Arc::clone(credentials), Arc::clone(&next));
        tasks.spawn(async move {
            let mut turn = Turn::default();
            let mut first_failure = None;
            loop {
                let index = match pick {
                    Pick::EveryUserOnce => {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= credentials.len() {
                            break;
                        }
                        index
                    }
                    Pick::RandomFor(duration) => {
                        if started.elapsed() >= duration {
                            break;
                        }
                        rng.below(credentials.len() as u64) as usize
                    }
                };
                let (username, password) = &credentials[index];
                let asked = Instant::now();
                match login(&http, &endpoints, mode, username, password).await {
                    Ok(()) => {
                        turn.logins += 1;
                        turn.latencies.push(asked.elapsed());
                    }
                    Err(why) => {
                        turn.failures += 1;
                        first_failure.get_or_insert(format!("{username}: {why}"));
                    }
                }
            }
            if let Some(why) = first_failure {
                turn.failure_samples
                    .push(format!("{} failed, first: {why}", turn.failures));
            }
            turn
        });
    }
    collect(tasks, started).await
}

/// One realm's warm-up and its turns in each mode.
struct RealmRun {
    label: &'static str,
    /// "a", "n", ...: for file names.
    letter: &'static str,
    /// Whether its users come from the gateway.
    via_gateway: bool,
    realm: Realm,
    endpoints: Arc<Endpoints>,
    warmup: Option<Turn>,
    /// By [`Mode::index`].
    series: [Series; 2],
}

impl RealmRun {
    fn new(
        kc: &Keycloak,
        label: &'static str,
        letter: &'static str,
        via_gateway: bool,
        realm: Realm,
    ) -> Self {
        Self {
            label,
            letter,
            via_gateway,
            endpoints: Arc::new(Endpoints::of(&kc.base, &realm.name)),
            realm,
            warmup: None,
            series: [Series::default(), Series::default()],
        }
    }

    fn series(&self, mode: Mode) -> &Series {
        &self.series[mode.index()]
    }

    fn series_mut(&mut self, mode: Mode) -> &mut Series {
        &mut self.series[mode.index()]
    }

    /// Failed logins of the warm-up and of all turns.
    fn failures(&self) -> usize {
        self.series.iter().map(Series::failures).sum::<usize>()
            + self.warmup.as_ref().map_or(0, |w| w.failures)
    }
}

/// One realm's turns in one mode.
#[derive(Default)]
struct Series {
    turns: Vec<Turn>,
    /// CPU seconds by process group over all turns.
    cpu: BTreeMap<&'static str, f64>,
    /// The gateway's counters over all turns.
    gateway: GatewayCounters,
}

impl Series {
    fn add_turn(&mut self, turn: Turn, cpu: BTreeMap<&'static str, f64>, gateway: GatewayCounters) {
        for (group, seconds) in cpu {
            *self.cpu.entry(group).or_default() += seconds;
        }
        self.gateway.add(&gateway);
        self.turns.push(turn);
    }

    fn logins(&self) -> usize {
        self.turns.iter().map(|t| t.logins).sum()
    }

    fn failures(&self) -> usize {
        self.turns.iter().map(|t| t.failures).sum()
    }

    fn rate(&self) -> f64 {
        let seconds: f64 = self.turns.iter().map(|t| t.elapsed.as_secs_f64()).sum();
        self.logins() as f64 / seconds.max(1e-9)
    }

    fn latencies(&self) -> Option<Percentiles> {
        let all: Vec<Duration> = self
            .turns
            .iter()
            .flat_map(|t| t.latencies.iter().copied())
            .collect();
        Percentiles::of(&all)
    }

    /// CPU milliseconds per login of all processes over the turns.
    fn cpu_per_login_total(&self) -> f64 {
        GROUPS.iter().map(|g| self.cpu_per_login(g)).sum()
    }

    /// CPU milliseconds per login of a process group over the turns.
    fn cpu_per_login(&self, group: &str) -> f64 {
        self.cpu.get(group).copied().unwrap_or(0.0) * 1e3 / self.logins().max(1) as f64
    }

    /// Requests per login at the gateway over the turns: verify-password
    /// first, then the others by route.
    fn gateway_per_login(&self) -> Vec<(String, f64)> {
        let logins = self.logins().max(1) as f64;
        std::iter::once(("verify-password".to_owned(), self.gateway.verifies))
            .chain(self.gateway.requests.clone())
            .map(|(route, count)| (route, count / logins))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Readings: CPU from /proc, the gateway's /metrics

/// The process groups whose CPU time is read, by command name; the
/// profilers' (`perf`, `jcmd`) is left out of the totals.
const GROUPS: &[&str] = &["keycloak", "gateway", "postgres", "slapd", "bench", "other"];

fn group_of(pid: u32, comm: &str) -> &'static str {
    if pid == std::process::id() {
        "bench"
    } else if comm == "perf" || comm == "jcmd" {
        "profilers"
    } else if comm == "java" {
        "keycloak"
    } else if comm.starts_with("userstore-gate") {
        "gateway"
    } else if comm == "postgres" {
        "postgres"
    } else if comm == "slapd" {
        "slapd"
    } else {
        "other"
    }
}

/// Keycloak's threads, by name, in groups of their own (beside the process
/// groups, not in the totals): where its CPU goes besides its request threads.
fn thread_group_of(name: &str) -> &'static str {
    if name.starts_with("executor-thread") {
        "keycloak threads: request workers"
    } else if name.starts_with("HttpClient") {
        "keycloak threads: HTTP client to the gateway"
    } else if name.contains("CompilerThre") {
        "keycloak threads: JIT compiler"
    } else if name.starts_with("GC Thread") || name.starts_with("G1 ") {
        "keycloak threads: GC"
    } else if name.starts_with("vert.x-eventloo") {
        "keycloak threads: Vert.x event loops"
    } else {
        "keycloak threads: other"
    }
}

/// Keys of Keycloak's threads in a [`CpuSnapshot`], apart from process ids.
const THREAD_KEY: u64 = 1 << 40;

/// CPU ticks of this process and every process below it, and of Keycloak's threads.
struct CpuSnapshot(HashMap<u64, (&'static str, u64)>);

impl CpuSnapshot {
    fn take() -> Self {
        let mut ticks = HashMap::new();
        for (pid, comm) in process_tree(std::process::id()) {
            let group = group_of(pid, &comm);
            if let Ok(t) = cpu_ticks(pid) {
                ticks.insert(u64::from(pid), (group, t));
            }
            if group == "keycloak" {
                for (tid, name, t) in thread_ticks(pid) {
                    ticks.insert(THREAD_KEY | u64::from(tid), (thread_group_of(&name), t));
                }
            }
        }
        Self(ticks)
    }

    /// CPU seconds by group since `before`; a process born since counts from zero.
    fn seconds_since(&self, before: &CpuSnapshot) -> BTreeMap<&'static str, f64> {
        let per_second = clock_ticks_per_second();
        let mut out = BTreeMap::new();
        for (pid, (group, ticks)) in &self.0 {
            let earlier = before.0.get(pid).map_or(0, |(_, t)| *t);
            *out.entry(*group).or_default() += ticks.saturating_sub(earlier) as f64 / per_second;
        }
        out
    }
}

/// `verify-password` answers and the time they took, and the other answered
/// requests by route (lookups), as the gateway's `/metrics` counts them.
#[derive(Default, Clone)]
struct GatewayCounters {
    verifies: f64,
    verify_seconds: f64,
    requests: BTreeMap<String, f64>,
}

impl GatewayCounters {
    async fn read(http: &reqwest::Client, base: &str) -> Self {
        let text = match http.get(format!("{base}/metrics")).send().await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let value = |line: &str| {
            line.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let mut counters = Self::default();
        for line in text.lines() {
            let verify = line.contains("verify-password");
            if line.starts_with("userstore_gateway_http_request_seconds_sum") && verify {
                counters.verify_seconds += value(line);
            } else if line.starts_with("userstore_gateway_http_request_seconds_count") && verify {
                counters.verifies += value(line);
            } else if line.starts_with("userstore_gateway_http_requests_total") && !verify {
                let route = line
                    .split_once("route=\"")
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map_or("?", |(route, _)| route);
                if route.starts_with("/v1/") {
                    *counters.requests.entry(route.to_owned()).or_default() += value(line);
                }
            }
        }
        counters
    }

    fn minus(&self, earlier: &Self) -> Self {
        let mut requests = self.requests.clone();
        for (route, count) in &earlier.requests {
            *requests.entry(route.clone()).or_default() -= count;
        }
        requests.retain(|_, count| *count > 0.0);
        Self {
            verifies: self.verifies - earlier.verifies,
            verify_seconds: self.verify_seconds - earlier.verify_seconds,
            requests,
        }
    }

    fn add(&mut self, other: &Self) {
        self.verifies += other.verifies;
        self.verify_seconds += other.verify_seconds;
        for (route, count) in &other.requests {
            *self.requests.entry(route.clone()).or_default() += count;
        }
    }

    fn lookups(&self) -> f64 {
        // A sum would start at -0.0 and print as "-0" without requests.
        self.requests.values().fold(0.0, |sum, count| sum + count)
    }

    fn mean_verify_ms(&self) -> f64 {
        self.verify_seconds * 1e3 / self.verifies.max(1.0)
    }
}

// ---------------------------------------------------------------------------
// The backends alone

struct Direct {
    label: &'static str,
    turn: Turn,
    cpu: BTreeMap<&'static str, f64>,
}

/// `verify-password` for random users with their right passwords, straight
/// to the gateway, at the benchmark's concurrency.
async fn direct_verify(
    http: &reqwest::Client,
    base: &str,
    users: &[User],
    plan: &Plan,
    rng: &mut XorShift,
) -> Direct {
    let requests: Arc<Vec<(String, Value)>> = Arc::new(
        users
            .iter()
            .map(|u| {
                (
                    format!("{base}/v1/users/{}/verify-password", u.id),
                    json!({"password": u.password}),
                )
            })
            .collect(),
    );
    let http = http.clone();
    let cpu_before = CpuSnapshot::take();
    let turn = direct_loop(plan, rng, requests.len(), move |index| {
        let (http, requests) = (http.clone(), Arc::clone(&requests));
        async move {
            let (url, body) = &requests[index];
            let response = http
                .post(url)
                .bearer_auth(TOKEN)
                .json(body)
                .send()
                .await
                .map_err(|e| format!("request: {e}"))?;
            let answer: Value = response.json().await.map_err(|e| format!("answer: {e}"))?;
            if answer["valid"] == json!(true) {
                Ok(())
            } else {
                Err(format!("not valid: {answer}"))
            }
        }
    })
    .await;
    Direct {
        label: "gateway verify-password",
        turn,
        cpu: CpuSnapshot::take().seconds_since(&cpu_before),
    }
}

/// Simple binds as random users with their right passwords, straight to
/// slapd: over one kept connection per client, or over a new connection per
/// bind as Keycloak's LDAP federation does for a password check.
async fn direct_binds(
    slapd: &Slapd,
    users: &[User],
    plan: &Plan,
    connection_per_bind: bool,
    rng: &mut XorShift,
) -> Direct {
    let binds: Arc<Vec<(String, String)>> = Arc::new(
        users
            .iter()
            .map(|u| (Slapd::user_dn(&u.username), u.password.clone()))
            .collect(),
    );
    let port = slapd.port;
    let cpu_before = CpuSnapshot::take();
    let turn = if connection_per_bind {
        let all = Arc::clone(&binds);
        direct_loop(plan, rng, binds.len(), move |index| {
            let binds = Arc::clone(&all);
            async move {
                let (dn, password) = &binds[index];
                let mut connection = BindConnection::connect(port)
                    .await
                    .map_err(|e| format!("connect: {e}"))?;
                bound(connection.bind(dn, password).await)
            }
        })
        .await
    } else {
        direct_connections(plan, rng, &binds, port).await
    };
    Direct {
        label: if connection_per_bind {
            "slapd bind, new connection each"
        } else {
            "slapd bind, kept connection"
        },
        turn,
        cpu: CpuSnapshot::take().seconds_since(&cpu_before),
    }
}

fn bound(result: std::io::Result<Bind>) -> Result<(), String> {
    match result {
        Ok(Bind::Accepted) => Ok(()),
        Ok(other) => Err(format!("{other:?}")),
        Err(e) => Err(format!("bind: {e}")),
    }
}

/// `plan.clients` clients each binding over a connection of its own.
async fn direct_connections(
    plan: &Plan,
    rng: &mut XorShift,
    binds: &Arc<Vec<(String, String)>>,
    port: u16,
) -> Turn {
    let started = Instant::now();
    let duration = plan.direct;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..plan.clients {
        let mut rng = XorShift::from_seed(rng.next());
        let binds = Arc::clone(binds);
        tasks.spawn(async move {
            let mut turn = Turn::default();
            let mut connection = match BindConnection::connect(port).await {
                Ok(connection) => connection,
                Err(e) => {
                    turn.failures += 1;
                    turn.failure_samples.push(format!("connect: {e}"));
                    return turn;
                }
            };
            while started.elapsed() < duration {
                let (dn, password) = &binds[rng.below(binds.len() as u64) as usize];
                let asked = Instant::now();
                match bound(connection.bind(dn, password).await) {
                    Ok(()) => {
                        turn.logins += 1;
                        turn.latencies.push(asked.elapsed());
                    }
                    Err(why) => {
                        turn.failures += 1;
                        turn.failure_samples.push(why);
                        break;
                    }
                }
            }
            turn
        });
    }
    collect(tasks, started).await
}

/// `plan.clients` clients each running `one(index)` for random indexes below
/// `count` until `plan.direct` has passed.
async fn direct_loop<F, Fut>(plan: &Plan, rng: &mut XorShift, count: usize, one: F) -> Turn
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let started = Instant::now();
    let duration = plan.direct;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..plan.clients {
        let mut rng = XorShift::from_seed(rng.next());
        let one = one.clone();
        tasks.spawn(async move {
            let mut turn = Turn::default();
            while started.elapsed() < duration {
                let asked = Instant::now();
                match one(rng.below(count as u64) as usize).await {
                    Ok(()) => {
                        turn.logins += 1;
                        turn.latencies.push(asked.elapsed());
                    }
                    Err(why) => {
                        turn.failures += 1;
                        if turn.failure_samples.is_empty() {
                            turn.failure_samples.push(why);
                        }
                    }
                }
            }
            turn
        });
    }
    collect(tasks, started).await
}

async fn collect(mut tasks: tokio::task::JoinSet<Turn>, started: Instant) -> Turn {
    let mut total = Turn::default();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(turn) => {
                total.logins += turn.logins;
                total.failures += turn.failures;
                total.latencies.extend(turn.latencies);
                total.failure_samples.extend(turn.failure_samples);
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
// Profiling (KEYCLOAK_LOGINS_PROFILE=1)

/// How long `perf record` is given to attach before a turn starts.
const PERF_ATTACH: Duration = Duration::from_millis(500);

/// Records the turns of round 1: Keycloak's with JFR, the gateway's with perf.
struct Profiler {
    dir: PathBuf,
    /// Keycloak's JVM, if it was found.
    jvm: Option<u32>,
    /// Why the gateway is not recorded with perf, if it is not.
    no_perf: Option<String>,
    files: Vec<PathBuf>,
    notes: Vec<String>,
}

/// The recorders of one turn.
struct Recording {
    /// The JVM, the recording's name and its file.
    jfr: Option<(u32, String, PathBuf)>,
    perf: Option<(tokio::process::Child, PathBuf)>,
}

impl Profiler {
    async fn new() -> anyhow::Result<Self> {
        let dir = bench_dir()?;
        let mut profiler = Self {
            dir,
            jvm: None,
            no_perf: None,
            files: Vec::new(),
            notes: Vec::new(),
        };
        let jvms: Vec<u32> = process_tree(std::process::id())
            .into_iter()
            .filter(|(_, comm)| comm == "java")
            .map(|(pid, _)| pid)
            .collect();
        match jvms.as_slice() {
            [pid] => {
                profiler.jvm = Some(*pid);
                // JFR's first recording sets the recorder up, at a cost that
                // would otherwise fall into the first recorded turn.
                let name = "name=keycloak_logins-setup";
                let setup = jcmd(
                    *pid,
                    &["JFR.start", name, "settings=profile"],
                    "Started recording",
                )
                .await;
                if let Err(why) = setup {
                    profiler.note(format!("JFR.start: {why}"));
                }
                let _ = jcmd(*pid, &["JFR.stop", name], "Stopped recording").await;
            }
            other => profiler.note(format!(
                "no JFR recordings: {} JVMs below this process instead of Keycloak's one",
                other.len()
            )),
        }
        if let Err(why) = perf_attaches(&profiler.dir).await {
            profiler.note(format!("no perf recordings of the gateway: {why}"));
            profiler.no_perf = Some(why);
        }
        Ok(profiler)
    }

    fn note(&mut self, note: String) {
        eprintln!("[keycloak_logins] profiling: {note}");
        self.notes.push(note);
    }

    /// Starts the recorders of realm `letter`'s turn in `mode`, the gateway's
    /// when `gateway` (its pid) is given.
    async fn start(&mut self, letter: &str, mode: Mode, gateway: Option<u32>) -> Recording {
        let mut recording = Recording {
            jfr: None,
            perf: None,
        };
        if let Some(jvm) = self.jvm {
            let name = format!("keycloak_logins-{letter}-{}", mode.name());
            let file = self.dir.join(format!("{name}.jfr"));
            let _ = std::fs::remove_file(&file);
            let started = jcmd(
                jvm,
                &[
                    "JFR.start",
                    &format!("name={name}"),
                    "settings=profile",
                    &format!("filename={}", file.display()),
                ],
                "Started recording",
            )
            .await;
            match started {
                Ok(()) => recording.jfr = Some((jvm, name, file)),
                Err(why) => self.note(format!("JFR.start of {name}: {why}")),
            }
        }
        if let (Some(pid), None) = (gateway, &self.no_perf) {
            let file = self.dir.join(format!(
                "keycloak_logins-gateway-{letter}-{}.perf.data",
                mode.name()
            ));
            match perf_record(pid, &file) {
                Ok(child) => {
                    tokio::time::sleep(PERF_ATTACH).await;
                    recording.perf = Some((child, file));
                }
                Err(why) => self.note(format!("perf record of the gateway: {why}")),
            }
        }
        recording
    }

    /// Stops the recorders and keeps the files they wrote.
    async fn stop(&mut self, recording: Recording) {
        if let Some((jvm, name, file)) = recording.jfr {
            let stopped = jcmd(
                jvm,
                &["JFR.stop", &format!("name={name}")],
                "Stopped recording",
            )
            .await;
            match stopped {
                Ok(()) if written(&file) => self.files.push(file),
                Ok(()) => self.note(format!("JFR wrote no {}", file.display())),
                Err(why) => self.note(format!("JFR.stop of {name}: {why}")),
            }
        }
        if let Some((mut child, file)) = recording.perf {
            if !interrupt(&mut child).await {
                self.note(format!("perf record did not stop for {}", file.display()));
            } else if written(&file) {
                self.files.push(file);
            } else {
                self.note(format!("perf wrote no {}", file.display()));
            }
        }
    }

    fn print_files(&self) {
        println!("Profiles of round 1, {} files:", self.files.len());
        for file in &self.files {
            println!("  {}", file.display());
        }
        for note in &self.notes {
            println!("  note: {note}");
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "files": self.files,
            "notes": self.notes,
            "jfr_settings": "profile",
            "perf": "perf record -F 499 -g -p <gateway pid>",
        })
    }
}

fn written(file: &Path) -> bool {
    std::fs::metadata(file).is_ok_and(|m| m.len() > 0)
}

/// Runs `jcmd <pid> <args>`; Ok when its output says `expect`.
async fn jcmd(pid: u32, args: &[&str], expect: &str) -> Result<(), String> {
    let output = tokio::process::Command::new("jcmd")
        .arg(pid.to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("jcmd: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() && text.contains(expect) {
        Ok(())
    } else {
        Err(format!(
            "jcmd {}: {}",
            output.status,
            excerpt(text.trim().as_bytes())
        ))
    }
}

/// `perf record -F 499 -g` of the running process `pid` into `file`, until SIGINT.
fn perf_record(pid: u32, file: &Path) -> Result<tokio::process::Child, String> {
    let _ = std::fs::remove_file(file);
    tokio::process::Command::new("perf")
        .args(["record", "-F", "499", "-g", "-p", &pid.to_string(), "-o"])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("perf: {e}"))
}

/// Stops `perf record` with SIGINT, as Ctrl-C does, so that it writes its
/// file; false if it did not exit (then it is killed).
async fn interrupt(child: &mut tokio::process::Child) -> bool {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status();
    }
    match tokio::time::timeout(Duration::from_secs(60), child.wait()).await {
        Ok(Ok(_)) => true,
        _ => {
            let _ = child.kill().await;
            false
        }
    }
}

/// Whether `perf record -p` gets samples of a running process here: in some
/// VMs and containers it attaches and records nothing. It records this
/// process for a second while one of its threads spins.
async fn perf_attaches(dir: &Path) -> Result<(), String> {
    let file = dir.join("keycloak_logins-perf-probe.data");
    let mut perf = perf_record(std::process::id(), &file)?;
    let spin = tokio::task::spawn_blocking(|| {
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(1500) {
            std::hint::spin_loop();
        }
    });
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let stopped = interrupt(&mut perf).await;
    let _ = spin.await;
    let samples = if stopped && written(&file) {
        tokio::process::Command::new("perf")
            .args(["script", "-i"])
            .arg(&file)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .await
            .map(|out| !out.stdout.is_empty())
            .map_err(|e| format!("perf script: {e}"))
    } else {
        Err("perf record -p of this process wrote no file".to_owned())
    };
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(file.with_extension("data.old"));
    if samples? {
        Ok(())
    } else {
        Err(
            "`perf record -p` attaches but records no samples of a running process \
             here (it does of a command that it starts itself)"
                .to_owned(),
        )
    }
}

// ---------------------------------------------------------------------------
// Report

struct Report<'a> {
    plan: &'a Plan,
    realms: &'a [RealmRun],
    direct: &'a [Direct],
    /// Realms (c) and (d).
    local_hashes: &'a [StoredHash],
    /// sha512-crypt (5000 rounds) with the gateway's code, one thread, ms per hash.
    hash_ms: HashCost,
    java: String,
    log: Vec<(String, usize)>,
    slapd: String,
    machine: Value,
    load_at_start: String,
    load_at_end: String,
    profile: Option<&'a Profiler>,
    took: Duration,
}

/// One of issue 15's targets in one mode.
struct Check {
    mode: Mode,
    what: &'static str,
    value: f64,
    /// Whether `value` must be at least `bound` (else at most).
    at_least: bool,
    bound: f64,
    /// The value in each round, for the ratios of rates.
    per_round: Vec<f64>,
}

impl Check {
    fn met(&self) -> bool {
        if self.at_least {
            self.value >= self.bound
        } else {
            self.value <= self.bound
        }
    }

    fn target(&self) -> String {
        format!(
            "{} {:.2}",
            if self.at_least { ">=" } else { "<=" },
            self.bound
        )
    }
}

impl Report<'_> {
    fn failures(&self) -> usize {
        self.realms.iter().map(RealmRun::failures).sum()
    }

    /// `realms[top]` / `realms[bottom]` of the rates over all turns in `mode`.
    fn ratio(&self, mode: Mode, top: usize, bottom: usize) -> f64 {
        self.realms[top].series(mode).rate() / self.realms[bottom].series(mode).rate()
    }

    /// The same of each round's turns, which ran close together.
    fn round_ratios(&self, mode: Mode, top: usize, bottom: usize) -> Vec<f64> {
        let (top, bottom) = (
            self.realms[top].series(mode),
            self.realms[bottom].series(mode),
        );
        top.turns
            .iter()
            .zip(&bottom.turns)
            .map(|(t, b)| t.rate() / b.rate())
            .collect()
    }

    /// What the gateway may spend per login in (a): one hash and a little.
    fn gateway_budget_ms(&self) -> f64 {
        self.hash_ms.cpu.unwrap_or(self.hash_ms.wall) + TARGET_GATEWAY_MS_OVER_HASH
    }

    fn checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        for mode in Mode::ALL {
            let (a, d) = (self.realms[A].series(mode), self.realms[D].series(mode));
            checks.push(Check {
                mode,
                what: "logins/s a/d",
                value: self.ratio(mode, A, D),
                at_least: true,
                bound: TARGET_A_OVER_D,
                per_round: self.round_ratios(mode, A, D),
            });
            checks.push(Check {
                mode,
                what: "logins/s a/b",
                value: self.ratio(mode, A, B),
                at_least: true,
                bound: TARGET_A_OVER_B,
                per_round: self.round_ratios(mode, A, B),
            });
            checks.push(Check {
                mode,
                what: "Keycloak CPU per login a/d",
                value: a.cpu_per_login("keycloak") / d.cpu_per_login("keycloak"),
                at_least: false,
                bound: TARGET_KEYCLOAK_CPU_A_OVER_D,
                per_round: Vec::new(),
            });
            checks.push(Check {
                mode,
                what: "gateway CPU ms per login in (a)",
                value: a.cpu_per_login("gateway"),
                at_least: false,
                bound: self.gateway_budget_ms(),
                per_round: Vec::new(),
            });
        }
        checks
    }

    /// The ratios without a target: n/d and a/n.
    fn other_ratios(&self, mode: Mode) -> [(&'static str, f64); 2] {
        [
            ("n/d", self.ratio(mode, N, D)),
            ("a/n", self.ratio(mode, A, N)),
        ]
    }

    fn met(&self) -> bool {
        self.failures() == 0 && self.checks().iter().all(Check::met)
    }

    fn print(&self) {
        println!();
        println!(
            "keycloak_logins: Keycloak {} on {}, slapd {}, {} users ($6$, 5000 rounds), \
             {} clients, {} rounds of {} s turns (grant a n b c d, form a n b c d); {} CPUs, \
             load average at start {}, at end {}; {:.0} s in all",
            keycloak_version(),
            self.java,
            self.slapd,
            self.plan.users,
            self.plan.clients,
            self.plan.rounds,
            self.plan.turn.as_secs(),
            cpus(),
            self.load_at_start,
            self.load_at_end,
            self.took.as_secs_f64()
        );
        if self.profile.is_some() {
            println!("Profiled: round 1's figures include JFR's cost in Keycloak.");
        }
        println!();
        println!(
            "{:<5} {:<46} {:>9} {:>8} {:>8} {:>8}  {:<13}  CPU ms per login: {} = total",
            "mode",
            "realm",
            "logins/s",
            "p50 ms",
            "p99 ms",
            "failures",
            "per turn",
            GROUPS.join(" / ")
        );
        for mode in Mode::ALL {
            for realm in self.realms {
                let series = realm.series(mode);
                let p = series.latencies();
                let turns: Vec<String> = series
                    .turns
                    .iter()
                    .map(|t| format!("{:.1}", t.rate()))
                    .collect();
                let cpu: Vec<String> = GROUPS
                    .iter()
                    .map(|g| format!("{:.2}", series.cpu_per_login(g)))
                    .collect();
                println!(
                    "{:<5} {:<46} {:>9.1} {:>8.1} {:>8.1} {:>8}  {:<13}  {} = {:.2}",
                    mode.name(),
                    realm.label,
                    series.rate(),
                    p.map_or(0.0, |p| ms(p.p50)),
                    p.map_or(0.0, |p| ms(p.p99)),
                    series.failures(),
                    turns.join(" / "),
                    cpu.join(" / "),
                    series.cpu_per_login_total()
                );
            }
        }
        println!();
        println!("Keycloak's CPU ms per login by thread during the turns:");
        for mode in Mode::ALL {
            for realm in self.realms {
                let series = realm.series(mode);
                let threads: Vec<String> = series
                    .cpu
                    .keys()
                    .filter_map(|group| {
                        let name = group.strip_prefix("keycloak threads: ")?;
                        Some(format!("{name} {:.2}", series.cpu_per_login(group)))
                    })
                    .collect();
                println!("{:<5} {}: {}", mode.name(), realm.label, threads.join(", "));
            }
        }
        println!();
        println!("Requests at the gateway per login during the turns:");
        for mode in Mode::ALL {
            for realm in self.realms.iter().filter(|r| r.via_gateway) {
                let series = realm.series(mode);
                let routes: Vec<String> = series
                    .gateway_per_login()
                    .iter()
                    .map(|(route, per_login)| format!("{route} {per_login:.2}"))
                    .collect();
                println!(
                    "{:<5} {}: {}; a verify-password took {:.2} ms on average",
                    mode.name(),
                    realm.label,
                    routes.join(", "),
                    series.gateway.mean_verify_ms()
                );
            }
        }
        println!();
        println!(
            "Targets of issue 15 (gateway budget: one sha512-crypt hash, {:.2} ms, + {} ms):",
            self.hash_ms.cpu.unwrap_or(self.hash_ms.wall),
            TARGET_GATEWAY_MS_OVER_HASH
        );
        println!(
            "{:<5} {:<32} {:>8}  {:<9} {:<9}  per round",
            "mode", "", "value", "target", "verdict"
        );
        let failed = self.failures() > 0;
        for check in self.checks() {
            let rounds: Vec<String> = check.per_round.iter().map(|r| format!("{r:.3}")).collect();
            println!(
                "{:<5} {:<32} {:>8.3}  {:<9} {:<9}  {}",
                check.mode.name(),
                check.what,
                check.value,
                check.target(),
                if failed {
                    "NO RESULT"
                } else {
                    verdict(check.met())
                },
                rounds.join(" ")
            );
        }
        for mode in Mode::ALL {
            let others: Vec<String> = self
                .other_ratios(mode)
                .iter()
                .map(|(name, value)| format!("{name} = {value:.3}"))
                .collect();
            println!("{:<5} logins/s {}", mode.name(), others.join(", "));
        }
        println!(
            "All targets: {}",
            if failed {
                "NO RESULT, logins failed"
            } else {
                verdict(self.met())
            }
        );
        println!();
        for hash in self.local_hashes {
            println!(
                "{} Keycloak stores local passwords as {} (realm password policy: {}); \
                 importing {} users took {:.1} s",
                hash.realm,
                hash.algorithm(),
                hash.policy(),
                self.plan.users,
                hash.import_took.as_secs_f64()
            );
        }
        let warmups: Vec<String> = self
            .realms
            .iter()
            .filter_map(|r| {
                let w = r.warmup.as_ref()?;
                Some(format!(
                    "({}) {:.1} s ({:.1}/s)",
                    r.letter,
                    w.elapsed.as_secs_f64(),
                    w.rate()
                ))
            })
            .collect();
        println!("Warm-up, every user once: {}", warmups.join(", "));
        for realm in self.realms {
            let warmup = realm
                .warmup
                .iter()
                .flat_map(|w| w.failure_samples.iter().map(|s| format!("warm-up: {s}")));
            let turns = Mode::ALL.into_iter().flat_map(|mode| {
                realm
                    .series(mode)
                    .turns
                    .iter()
                    .flat_map(move |t| t.failure_samples.iter().map(move |s| (mode, s)))
                    .map(|(mode, s)| format!("{}: {s}", mode.name()))
            });
            for sample in warmup.chain(turns).take(10) {
                println!("  {}: FAILED: {sample}", realm.label);
            }
        }
        println!(
            "sha512-crypt, 5000 rounds, with the gateway's code on one thread: {:.2} ms per hash \
             ({} ms of CPU)",
            self.hash_ms.wall,
            self.hash_ms
                .cpu
                .map_or("?".to_owned(), |cpu| format!("{cpu:.2}"))
        );
        println!();
        println!(
            "The backends alone, {} clients, {} s each:",
            self.plan.clients,
            self.plan.direct.as_secs()
        );
        println!(
            "{:<32} {:>9} {:>8} {:>8} {:>8}  CPU ms per call: gateway / postgres / slapd / bench",
            "", "calls/s", "p50 ms", "p99 ms", "failures"
        );
        for direct in self.direct {
            let p = Percentiles::of(&direct.turn.latencies);
            let per = |g: &str| {
                direct.cpu.get(g).copied().unwrap_or(0.0) * 1e3 / direct.turn.logins.max(1) as f64
            };
            println!(
                "{:<32} {:>9.1} {:>8.2} {:>8.2} {:>8}  {:.2} / {:.2} / {:.2} / {:.2}",
                direct.label,
                direct.turn.rate(),
                p.map_or(0.0, |p| ms(p.p50)),
                p.map_or(0.0, |p| ms(p.p99)),
                direct.turn.failures,
                per("gateway"),
                per("postgres"),
                per("slapd"),
                per("bench")
            );
            for sample in direct.turn.failure_samples.iter().take(3) {
                println!("  {}: FAILED: {sample}", direct.label);
            }
        }
        println!();
        let total: usize = self.log.iter().map(|(_, n)| n).sum();
        println!(
            "Keycloak log: {total} WARN/ERROR lines, by shape (digits masked; two LOGIN_ERROR \
             per realm are the wrong-password checks, grant and form, before the warm-up):"
        );
        for (shape, count) in self.log.iter().take(12) {
            println!("  {count:>5}  {shape}");
        }
    }

    fn write_json(&self) -> anyhow::Result<PathBuf> {
        let turn_json = |t: &Turn| {
            json!({
                "logins": t.logins,
                "failures": t.failures,
                "seconds": t.elapsed.as_secs_f64(),
                "logins_per_second": t.rate(),
                "latency": Percentiles::of(&t.latencies).map(Percentiles::to_json),
                "failure_samples": t.failure_samples,
            })
        };
        let series_json = |s: &Series, via_gateway: bool| {
            json!({
                "logins": s.logins(),
                "failures": s.failures(),
                "logins_per_second": s.rate(),
                "latency": s.latencies().map(Percentiles::to_json),
                "turns": s.turns.iter().map(turn_json).collect::<Vec<_>>(),
                "cpu_seconds": s.cpu,
                "cpu_ms_per_login": GROUPS
                    .iter()
                    .map(|g| ((*g).to_owned(), json!(s.cpu_per_login(g))))
                    .collect::<serde_json::Map<_, _>>(),
                "cpu_ms_per_login_total": s.cpu_per_login_total(),
                "gateway": via_gateway.then(|| json!({
                    "verify_password_calls": s.gateway.verifies,
                    "verify_password_mean_ms": s.gateway.mean_verify_ms(),
                    "lookups": s.gateway.lookups(),
                    "requests_by_route": s.gateway.requests,
                    "requests_per_login": s
                        .gateway_per_login()
                        .into_iter()
                        .collect::<BTreeMap<_, _>>(),
                })),
            })
        };
        let realms: Vec<Value> = self
            .realms
            .iter()
            .map(|r| {
                json!({
                    "realm": r.label,
                    "letter": r.letter,
                    "keycloak_realm": r.realm.name,
                    "failures": r.failures(),
                    "warmup": r.warmup.as_ref().map(turn_json),
                    "modes": Mode::ALL
                        .iter()
                        .map(|m| (m.name().to_owned(), series_json(r.series(*m), r.via_gateway)))
                        .collect::<serde_json::Map<_, _>>(),
                })
            })
            .collect();
        let direct: Vec<Value> = self
            .direct
            .iter()
            .map(|d| {
                let mut value = turn_json(&d.turn);
                value["what"] = json!(d.label);
                value["cpu_seconds"] = json!(d.cpu);
                value
            })
            .collect();
        let failed = self.failures() > 0;
        let targets: Vec<Value> = self
            .checks()
            .iter()
            .map(|c| {
                json!({
                    "mode": c.mode.name(),
                    "what": c.what,
                    "value": c.value,
                    "target": c.target(),
                    "per_round": c.per_round,
                    "met": !failed && c.met(),
                })
            })
            .collect();
        let ratios: serde_json::Map<String, Value> = Mode::ALL
            .iter()
            .map(|m| {
                let mut ratios = json!({
                    "a_d": self.ratio(*m, A, D),
                    "a_b": self.ratio(*m, A, B),
                    "c_d": self.ratio(*m, C, D),
                });
                for (name, value) in self.other_ratios(*m) {
                    ratios[name.replace('/', "_")] = json!(value);
                }
                (m.name().to_owned(), ratios)
            })
            .collect();
        let document = json!({
            "machine": self.machine,
            "load_average": {"start": self.load_at_start, "end": self.load_at_end},
            "seconds": self.took.as_secs_f64(),
            "keycloak": keycloak_version(),
            "slapd": self.slapd,
            "java": self.java,
            "sha512_crypt_one_thread": {"wall_ms_per_hash": self.hash_ms.wall,
                                        "cpu_ms_per_hash": self.hash_ms.cpu,
                                        "hashes": HASH_SAMPLES},
            "settings": {
                "users": self.plan.users,
                "clients": self.plan.clients,
                "turn_seconds": self.plan.turn.as_secs(),
                "rounds": self.plan.rounds,
                "direct_seconds": self.plan.direct.as_secs(),
                "jit_warmup_seconds": self.plan.jit_warmup.as_secs(),
                "turn_order": "per round: grant a n b c d, then form a n b c d",
                "modes": {
                    "grant": "password grant of the public client testclient",
                    "form": "authorization endpoint's login page, the form posted with its \
                             cookies, the code exchanged at the token endpoint",
                },
                "hash": "$6$ (sha512-crypt), 5000 rounds, 16-character random salt",
                "gateway": "release binary, default settings, PostgreSQL with the reference schema",
                "gateway_realm": {"cachePolicy": "DEFAULT", "changeFeed": false,
                                  "maxStalenessMs": "the provider's default"},
                "gateway_no_cache_realm": {"cachePolicy": "NO_CACHE", "changeFeed": false},
                "ldap_realm": {"editMode": "READ_ONLY", "vendor": "other", "cachePolicy": "DEFAULT",
                               "importEnabled": "Keycloak's default", "searchScope": "one level"},
                "ceiling_realm": {"passwordPolicy": CEILING_POLICY},
                "keycloak": KEYCLOAK_ARGS.join(" "),
                "profile": self.plan.profile,
            },
            "local_password_hashes": self
                .local_hashes
                .iter()
                .map(|h| json!({
                    "realm": h.realm,
                    "stored": h.value,
                    "algorithm": h.algorithm(),
                    "import_seconds": h.import_took.as_secs_f64(),
                }))
                .collect::<Vec<_>>(),
            "realms": realms,
            "ratios": ratios,
            "targets": targets,
            "gateway_budget_ms": self.gateway_budget_ms(),
            "targets_met": self.met(),
            "failures": self.failures(),
            "direct": direct,
            "profile": self.profile.map(Profiler::to_json),
            "keycloak_log_warnings": self
                .log
                .iter()
                .map(|(shape, count)| json!({"count": count, "line": shape}))
                .collect::<Vec<_>>(),
        });
        write_json("keycloak_logins", &document)
    }
}
