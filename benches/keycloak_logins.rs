//! Keycloak password-grant logins per second with the same users, the same
//! `$6$` hashes, the same clients and the same Keycloak, the users served
//! from three stores in four realms, side by side in one run, all on
//! 127.0.0.1:
//!
//! - **(a) gateway**: a realm with this provider (cache policy DEFAULT, the
//!   rest at its defaults) on the gateway binary over a PostgreSQL database
//!   with the reference schema, every user with a realm role;
//! - **(a') the same with `maxStalenessMs` of an hour**, so that its users
//!   stay cached after the warm-up as LDAP's do: what the provider's default
//!   staleness bound (60 s) costs, apart from what the gateway costs;
//! - **(b) LDAP**: a realm with Keycloak's built-in LDAP federation
//!   (READ_ONLY, vendor "other", cache policy DEFAULT, import left at
//!   Keycloak's default) against a throwaway OpenLDAP `slapd` holding the
//!   users as `inetOrgPerson` with `userPassword: {CRYPT}$6$...`;
//! - **(c) local**: the users as Keycloak's own, imported with their plain
//!   passwords, which Keycloak stores with its default hash (it cannot take
//!   `$6$` hashes); the JSON names the algorithm Keycloak used.
//!
//! Each realm first logs every user in once (caches warm, LDAP users
//! imported), then the realms take turns a a' b c a a' b c of a fixed length,
//! each turn with the same number of concurrent clients logging random users
//! in.
//! Reported per realm: logins/s, p50/p99, failures, and the CPU time per login
//! of Keycloak, the gateway, PostgreSQL, slapd and this process (from
//! `/proc`); then the ratios b/a, b/a' and c/a with the target of issue 7
//! (logins through the gateway >= 1.2x the LDAP federation rate, i.e.
//! b/a <= 0.83). After the turns the backends are measured alone at the same concurrency:
//! the gateway's `verify-password`, and slapd's simple binds over kept
//! connections and over a new connection each. A run in which any login
//! failed is not a result: it is reported, and the benchmark exits non-zero.
//! The JSON goes to `target/bench/keycloak_logins.json`.
//!
//! `cargo bench --bench keycloak_logins` does the real run (about nine
//! minutes on two cores). It needs the Keycloak distribution and the provider
//! jar (`mvn -B -ntp -f keycloak-provider/pom.xml -Pkeycloak-dist verify`),
//! PostgreSQL, and the Debian packages `slapd` and `ldap-utils`
//! (.ci/install-deps). Sizes come from `KEYCLOAK_LOGINS_USERS` (1000),
//! `KEYCLOAK_LOGINS_CLIENTS` (8), `KEYCLOAK_LOGINS_TURN_SECONDS` (20),
//! `KEYCLOAK_LOGINS_ROUNDS` (2) and `KEYCLOAK_LOGINS_DIRECT_SECONDS` (5).
//! Without `--bench` on the command line, as under `cargo test --all-targets`,
//! it does a smoke run of under a second without Keycloak: slapd with three
//! users must accept a right password and refuse a wrong one with "invalid
//! credentials", through `ldapwhoami` and through the benchmark's own binds.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use support::bench::{
    clock_ticks_per_second, cpu_ticks, cpus, keycloak_log_summary, keycloak_version, load_average,
    machine, ms, number_from_env, process_tree, real_run, thread_cpu_ticks, toml_string, verdict,
    write_json, Percentiles, XorShift,
};
use support::faults::GatewayProcess;
use support::gateway::TOKEN;
use support::keycloak::{keycloak, Keycloak, Realm};
use support::ldap::{
    slapd_version, Bind, BindConnection, LdapUser, Slapd, PEOPLE, ROOT_DN, ROOT_PASSWORD,
};
use support::{TestDb, Vendor};
use userstore_gateway::password::hash_sha512;

/// b/a at most this: logins through the gateway >= 1.2x the LDAP federation rate.
const TARGET_B_OVER_A: f64 = 1.0 / 1.2;
/// Positions in the list of realms.
const A: usize = 0;
const A_LONG: usize = 1;
const B: usize = 2;
const C: usize = 3;
/// `maxStalenessMs` of realm (a'): longer than any run, so its users stay cached
/// after the warm-up as LDAP's do; (a) has the provider's default (60 s).
const LONG_MAX_STALENESS_MS: u64 = 3_600_000;
/// Users per partial import request of realm (c); Keycloak hashes each password.
const IMPORT_BATCH: usize = 50;
/// Hashes timed on one thread for the cost of one `$6$` check in the gateway's code.
const HASH_SAMPLES: usize = 300;

struct Plan {
    users: usize,
    clients: usize,
    turn: Duration,
    rounds: usize,
    direct: Duration,
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
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut rng = XorShift::seeded();

    eprintln!(
        "[keycloak_logins] hashing {} passwords and starting Keycloak (about a minute on 2 cores)",
        plan.users
    );
    let count = plan.users;
    let hashing = tokio::task::spawn_blocking(move || make_users(count));
    let kc = keycloak().await;
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
    let gateway_realm = kc
        .realm_with(
            &gateway.base(),
            TOKEN,
            &[("cachePolicy", "DEFAULT"), ("changeFeed", "false")],
            json!({}),
        )
        .await;
    let long_cache = LONG_MAX_STALENESS_MS.to_string();
    let long_cache_realm = kc
        .realm_with(
            &gateway.base(),
            TOKEN,
            &[
                ("cachePolicy", "DEFAULT"),
                ("changeFeed", "false"),
                ("maxStalenessMs", &long_cache),
            ],
            json!({}),
        )
        .await;
    let ldap_realm = ldap_realm(kc, &slapd).await;
    let (local_realm, import_took) = local_realm(kc, &users).await?;
    let local_hash = local_password_hash(kc, &local_realm, &first.username).await;
    // In the order of the turns; see the A.. constants.
    let mut realms = vec![
        RealmRun::new("(a) gateway provider", gateway_realm),
        RealmRun::new("(a') gateway, maxStaleness 1 h", long_cache_realm),
        RealmRun::new("(b) LDAP federation", ldap_realm),
        RealmRun::new("(c) Keycloak-local users", local_realm),
    ];
    for realm in &realms {
        check_realm(&http, kc, &realm.realm, first).await?;
    }

    for realm in &mut realms {
        eprintln!("[keycloak_logins] warm-up {}: every user once", realm.label);
        let endpoint = token_endpoint(&kc.base, &realm.realm.name);
        realm.warmup = Some(
            drive(
                &http,
                &endpoint,
                &credentials,
                plan.clients,
                Pick::EveryUserOnce,
                &mut rng,
            )
            .await,
        );
    }

    let gateway_base = gateway.base();
    for round in 0..plan.rounds {
        for realm in &mut realms {
            eprintln!(
                "[keycloak_logins] round {} of {}: {}",
                round + 1,
                plan.rounds,
                realm.label
            );
            let endpoint = token_endpoint(&kc.base, &realm.realm.name);
            let cpu_before = CpuSnapshot::take();
            let gateway_before = GatewayCounters::read(&http, &gateway_base).await;
            let turn = drive(
                &http,
                &endpoint,
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
            realm.add_turn(turn, cpu, gateway_delta);
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
        local_hash: &local_hash,
        import_took,
        hash_ms,
        java: java_version(),
        log: keycloak_log_summary(&kc.log_text()),
        slapd: slapd_version(),
        machine,
        load_at_start,
        load_at_end: load_average(),
        took: started.elapsed(),
    };
    report.print();
    let path = report.write_json()?;
    println!("JSON: {}", path.display());

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

/// A realm holding the users itself, imported with their plain passwords
/// (Keycloak hashes each); how long the import took.
async fn local_realm(kc: &Keycloak, users: &[User]) -> anyhow::Result<(Realm, Duration)> {
    let name = kc.realm_without_federation(json!({})).await;
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

/// The first user logs in with the right password and not with a wrong one.
async fn check_realm(
    http: &reqwest::Client,
    kc: &Keycloak,
    realm: &Realm,
    user: &User,
) -> anyhow::Result<()> {
    let endpoint = token_endpoint(&kc.base, &realm.name);
    if let Err(why) = login(http, &endpoint, &user.username, &user.password).await {
        bail!(
            "realm {}: {} with the right password: {why}",
            realm.name,
            user.username
        );
    }
    ensure!(
        login(http, &endpoint, &user.username, "wrong-password")
            .await
            .is_err(),
        "realm {}: {} logged in with a wrong password",
        realm.name,
        user.username
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Logins

fn token_endpoint(base: &str, realm: &str) -> String {
    format!("{base}/realms/{realm}/protocol/openid-connect/token")
}

/// One password grant of `testclient`; Err with the reason unless a token came back.
async fn login(
    http: &reqwest::Client,
    endpoint: &str,
    username: &str,
    password: &str,
) -> Result<(), String> {
    let response = http
        .post(endpoint)
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
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    if status == 200 && body.windows(14).any(|w| w == b"\"access_token\"") {
        Ok(())
    } else {
        Err(format!(
            "HTTP {status} {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    }
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
    endpoint: &str,
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
        let (http, endpoint) = (http.clone(), endpoint.to_owned());
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
                match login(&http, &endpoint, username, password).await {
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

/// One realm's warm-up and turns.
struct RealmRun {
    label: &'static str,
    realm: Realm,
    warmup: Option<Turn>,
    turns: Vec<Turn>,
    /// CPU seconds by process group over all turns.
    cpu: BTreeMap<&'static str, f64>,
    /// The gateway's counters over all turns.
    gateway: GatewayCounters,
}

impl RealmRun {
    fn new(label: &'static str, realm: Realm) -> Self {
        Self {
            label,
            realm,
            warmup: None,
            turns: Vec::new(),
            cpu: BTreeMap::new(),
            gateway: GatewayCounters::default(),
        }
    }

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
        self.turns.iter().map(|t| t.failures).sum::<usize>()
            + self.warmup.as_ref().map_or(0, |w| w.failures)
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
}

// ---------------------------------------------------------------------------
// Readings: CPU from /proc, the gateway's /metrics

/// The process groups whose CPU time is read, by command name.
const GROUPS: &[&str] = &["keycloak", "gateway", "postgres", "slapd", "bench", "other"];

fn group_of(pid: u32, comm: &str) -> &'static str {
    if pid == std::process::id() {
        "bench"
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

/// CPU ticks of this process and every process below it.
struct CpuSnapshot(HashMap<u32, (&'static str, u64)>);

impl CpuSnapshot {
    fn take() -> Self {
        Self(
            process_tree(std::process::id())
                .into_iter()
                .filter_map(|(pid, comm)| Some((pid, (group_of(pid, &comm), cpu_ticks(pid).ok()?))))
                .collect(),
        )
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
// Report

struct Report<'a> {
    plan: &'a Plan,
    realms: &'a [RealmRun],
    direct: &'a [Direct],
    local_hash: &'a Value,
    import_took: Duration,
    /// sha512-crypt (5000 rounds) with the gateway's code, one thread, ms per hash.
    hash_ms: HashCost,
    java: String,
    log: Vec<(String, usize)>,
    slapd: String,
    machine: Value,
    load_at_start: String,
    load_at_end: String,
    took: Duration,
}

impl Report<'_> {
    fn failures(&self) -> usize {
        self.realms.iter().map(RealmRun::failures).sum()
    }

    /// `realms[top]` / `realms[bottom]` of the rates over all turns.
    fn ratio(&self, top: usize, bottom: usize) -> f64 {
        self.realms[top].rate() / self.realms[bottom].rate()
    }

    /// b/a and c/a of the rates over all turns.
    fn ratios(&self) -> (f64, f64) {
        (self.ratio(B, A), self.ratio(C, A))
    }

    /// b/a of each round's turns, which ran next to each other.
    fn round_ratios(&self) -> Vec<f64> {
        let (a, b) = (&self.realms[A], &self.realms[B]);
        a.turns
            .iter()
            .zip(&b.turns)
            .map(|(a, b)| b.rate() / a.rate())
            .collect()
    }

    fn met(&self) -> bool {
        self.failures() == 0 && self.ratios().0 <= TARGET_B_OVER_A
    }

    fn local_algorithm(&self) -> String {
        let data = &self.local_hash["credential_data"];
        match (data["algorithm"].as_str(), data["hashIterations"].as_i64()) {
            (Some(algorithm), Some(iterations)) => format!("{algorithm}, {iterations} iterations"),
            (Some(algorithm), None) => algorithm.to_owned(),
            _ => "unknown".to_owned(),
        }
    }

    fn print(&self) {
        println!();
        println!(
            "keycloak_logins: Keycloak {} on {}, slapd {}, {} users ($6$, 5000 rounds), \
             {} clients, {} rounds of {} s turns a a' b c; {} CPUs, load average at start {}, \
             at end {}; {:.0} s in all",
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
        println!();
        println!(
            "{:<28} {:>9} {:>8} {:>8} {:>8}  {:<15}  CPU ms per login: {} = total",
            "realm",
            "logins/s",
            "p50 ms",
            "p99 ms",
            "failures",
            "per turn",
            GROUPS.join(" / ")
        );
        for realm in self.realms {
            let p = realm.latencies();
            let turns: Vec<String> = realm
                .turns
                .iter()
                .map(|t| format!("{:.1}", t.rate()))
                .collect();
            let cpu: Vec<String> = GROUPS
                .iter()
                .map(|g| format!("{:.2}", realm.cpu_per_login(g)))
                .collect();
            println!(
                "{:<28} {:>9.1} {:>8.1} {:>8.1} {:>8}  {:<15}  {} = {:.2}",
                realm.label,
                realm.rate(),
                p.map_or(0.0, |p| ms(p.p50)),
                p.map_or(0.0, |p| ms(p.p99)),
                realm.failures(),
                turns.join(" / "),
                cpu.join(" / "),
                realm.cpu_per_login_total()
            );
        }
        let (ba, ca) = self.ratios();
        let per_round: Vec<String> = self
            .round_ratios()
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect();
        println!(
            "b/a = {ba:.3} (target <= {TARGET_B_OVER_A:.3}, i.e. a >= 1.2 x b: {}; a/b = {:.3}; \
             per round {}), c/a = {ca:.3}",
            if self.failures() > 0 {
                "NO RESULT, logins failed"
            } else {
                verdict(self.met())
            },
            1.0 / ba,
            per_round.join(" ")
        );
        println!(
            "b/a' = {:.3} (the gateway with users cached as long as LDAP's: {})",
            self.ratio(B, A_LONG),
            verdict(self.failures() == 0 && self.ratio(B, A_LONG) <= TARGET_B_OVER_A)
        );
        for realm in &self.realms[A..=A_LONG] {
            let routes: Vec<String> = realm
                .gateway
                .requests
                .iter()
                .map(|(route, count)| format!("{route} {count}"))
                .collect();
            println!(
                "{} at the gateway during the turns: {} verify-password, mean {:.2} ms each; \
                 {} lookups ({:.2} per login: {})",
                realm.label.split(' ').next().unwrap_or_default(),
                realm.gateway.verifies,
                realm.gateway.mean_verify_ms(),
                realm.gateway.lookups(),
                realm.gateway.lookups() / realm.logins().max(1) as f64,
                if routes.is_empty() {
                    "none".to_owned()
                } else {
                    routes.join(", ")
                }
            );
        }
        println!(
            "(c) Keycloak stores local passwords as {} (realm password policy: {}); importing \
             {} users took {:.1} s",
            self.local_algorithm(),
            self.local_hash["realm_password_policy"]
                .as_str()
                .unwrap_or("none, Keycloak's default"),
            self.plan.users,
            self.import_took.as_secs_f64()
        );
        let warmups: Vec<String> = self
            .realms
            .iter()
            .filter_map(|r| {
                let w = r.warmup.as_ref()?;
                Some(format!(
                    "{} {:.1} s ({:.1}/s)",
                    r.label.split(' ').next().unwrap_or_default(),
                    w.elapsed.as_secs_f64(),
                    w.rate()
                ))
            })
            .collect();
        println!("Warm-up, every user once: {}", warmups.join(", "));
        for realm in self.realms {
            let samples = realm
                .warmup
                .iter()
                .flat_map(|w| w.failure_samples.iter().map(|s| format!("warm-up: {s}")))
                .chain(realm.turns.iter().flat_map(|t| t.failure_samples.clone()));
            for sample in samples.take(10) {
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
            "Keycloak log: {total} WARN/ERROR lines, by shape (digits masked; one LOGIN_ERROR \
             per realm is the wrong-password check before the warm-up):"
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
        let realms: Vec<Value> = self
            .realms
            .iter()
            .map(|r| {
                json!({
                    "realm": r.label,
                    "keycloak_realm": r.realm.name,
                    "logins": r.logins(),
                    "failures": r.failures(),
                    "logins_per_second": r.rate(),
                    "latency": r.latencies().map(Percentiles::to_json),
                    "turns": r.turns.iter().map(turn_json).collect::<Vec<_>>(),
                    "warmup": r.warmup.as_ref().map(turn_json),
                    "cpu_seconds": r.cpu,
                    "cpu_ms_per_login": GROUPS
                        .iter()
                        .map(|g| ((*g).to_owned(), json!(r.cpu_per_login(g))))
                        .collect::<serde_json::Map<_, _>>(),
                    "cpu_ms_per_login_total": r.cpu_per_login_total(),
                    "gateway": {
                        "verify_password_calls": r.gateway.verifies,
                        "verify_password_mean_ms": r.gateway.mean_verify_ms(),
                        "lookups": r.gateway.lookups(),
                        "requests_by_route": r.gateway.requests,
                    },
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
        let (ba, ca) = self.ratios();
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
                "hash": "$6$ (sha512-crypt), 5000 rounds, 16-character random salt",
                "gateway": "release binary, default settings, PostgreSQL with the reference schema",
                "gateway_realm": {"cachePolicy": "DEFAULT", "changeFeed": false,
                                  "maxStalenessMs": "the provider's default (60000)"},
                "gateway_long_cache_realm": {"cachePolicy": "DEFAULT", "changeFeed": false,
                                             "maxStalenessMs": LONG_MAX_STALENESS_MS},
                "ldap_realm": {"editMode": "READ_ONLY", "vendor": "other", "cachePolicy": "DEFAULT",
                               "importEnabled": "Keycloak's default", "searchScope": "one level"},
                "keycloak": "start-dev --db=dev-mem --cache=local",
            },
            "local_password_hash": self.local_hash,
            "local_import_seconds": self.import_took.as_secs_f64(),
            "realms": realms,
            "ratio_b_a": ba,
            "ratio_b_a_per_round": self.round_ratios(),
            "ratio_c_a": ca,
            "ratio_b_a_long_cache": self.ratio(B, A_LONG),
            "target_b_a_at_most": TARGET_B_OVER_A,
            "target_met": self.met(),
            "failures": self.failures(),
            "direct": direct,
            "keycloak_log_warnings": self
                .log
                .iter()
                .map(|(shape, count)| json!({"count": count, "line": shape}))
                .collect::<Vec<_>>(),
        });
        write_json("keycloak_logins", &document)
    }
}
