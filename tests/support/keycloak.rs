//! A real Keycloak server for the end-to-end tests: the pinned
//! `keycloak-quarkus-dist` that Maven unpacked into `keycloak-provider/target`,
//! with the provider jar in `providers/`, on loopback, one per test process.
//! Each test makes a realm of its own through the Admin REST API.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::OnceCell;

use super::process::{free_port, new_base_dir, Watchdog};

/// The bootstrap admin of the test server (master realm).
const ADMIN: (&str, &str) = ("admin", "admin-test-password");

/// A running Keycloak.
pub struct Keycloak {
    pub base: String,
    pub log: PathBuf,
    client: reqwest::Client,
    home: PathBuf,
    port: u16,
    watchdog: &'static Watchdog,
    child: Mutex<Option<Child>>,
    /// What `kc.sh` is started with, beside the HTTP address.
    args: Vec<String>,
    env: Vec<(String, String)>,
}

static SERVER: OnceCell<Result<Keycloak, String>> = OnceCell::const_new();

/// The shared server, started on first use (about a minute on 2 cores).
pub async fn keycloak() -> &'static Keycloak {
    match SERVER.get_or_init(|| async { start().await }).await {
        Ok(kc) => kc,
        Err(message) => panic!("{message}"),
    }
}

/// A server of the calling test's own, for tests that stop it.
pub async fn dedicated() -> Keycloak {
    start().await.unwrap_or_else(|message| panic!("{message}"))
}

fn provider_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("keycloak-provider/target")
}

/// The realm import file of the docs and of docker-compose.yml, relative to
/// the repository root; the end-to-end tests import it too.
pub const REALM_IMPORT: &str = "docs/keycloak/realm-import.json";

/// The Keycloak version under test: `KEYCLOAK_VERSION` as `.ci/test` passes
/// it on to Maven, else the pom's.
pub fn version() -> String {
    match std::env::var("KEYCLOAK_VERSION") {
        Ok(version) if !version.is_empty() => version,
        _ => pom_version(),
    }
}

/// The Keycloak release the provider is shipped for: the pom's
/// `keycloak.version`.
pub fn pom_version() -> String {
    let pom = Path::new(env!("CARGO_MANIFEST_DIR")).join("keycloak-provider/pom.xml");
    let text = fs::read_to_string(&pom).unwrap_or_default();
    text.split("<keycloak.version>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no <keycloak.version> in {}", pom.display()))
}

/// The minor release of the Keycloak 26 under test (7 for 26.7.5).
pub fn keycloak_minor() -> u32 {
    let version = version();
    version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("Keycloak version {version} is not 26.x.y"))
}

/// The token endpoint's status for refused user credentials (`invalid_grant`):
/// 401 up to Keycloak 26.5, 400 from 26.6 on, as RFC 6749 section 5.2 has it.
pub fn refused_login_status() -> u16 {
    if keycloak_minor() >= 6 {
        400
    } else {
        401
    }
}

/// The provider jar and the unpacked distribution of [`version`], both made
/// by `mvn -f keycloak-provider/pom.xml -Pkeycloak-dist verify` (run by
/// .ci/test before cargo).
pub fn artifacts() -> Result<(PathBuf, PathBuf), String> {
    let target = provider_target();
    let hint = "run `mvn -B -f keycloak-provider/pom.xml -Pkeycloak-dist verify` first (the README's test command does)";
    let jar = fs::read_dir(&target)
        .map_err(|e| format!("{}: {e}; {hint}", target.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with("userstore-gateway-keycloak-")
                && name.ends_with(".jar")
                && !name.contains("sources")
                && !name.contains("tests")
        })
        .ok_or_else(|| format!("no provider jar in {}; {hint}", target.display()))?;
    // Earlier runs against other versions may have left theirs beside it.
    let dist = target.join(format!("keycloak-dist/keycloak-{}", version()));
    if !dist.join("bin/kc.sh").is_file() {
        return Err(format!(
            "no Keycloak distribution in {}; {hint}",
            dist.display()
        ));
    }
    Ok((jar, dist))
}

/// A private copy of the distribution with the provider jar in
/// `providers/`, under a new base directory; (base directory, home).
fn private_home(prefix: &str) -> Result<(PathBuf, PathBuf), String> {
    let (jar, dist) = artifacts()?;
    let base_dir = new_base_dir(prefix)?;
    let home = base_dir.join("keycloak");
    // A private copy: kc.sh build writes into the distribution.
    let status = Command::new("cp")
        .arg("-a")
        .arg(&dist)
        .arg(&home)
        .status()
        .map_err(|e| format!("cp: {e}"))?;
    if !status.success() {
        return Err(format!("copying {} failed", dist.display()));
    }
    fs::copy(&jar, home.join("providers/userstore-gateway-keycloak.jar"))
        .map_err(|e| format!("copying the provider jar: {e}"))?;
    Ok((base_dir, home))
}

/// A server of the caller's own, started like the shared one but with the
/// `kc.sh` arguments `args` (beside the HTTP address) and the environment
/// `env`: e.g. a benchmark's, logging at plain INFO.
pub async fn started_with(args: &[&str], env: &[(&str, &str)]) -> Keycloak {
    let started = async {
        let (base_dir, home) = private_home("keycloak")?;
        launch_on(base_dir, home, args, env).await
    };
    started.await.unwrap_or_else(|message| panic!("{message}"))
}

async fn start() -> Result<Keycloak, String> {
    let (base_dir, home) = private_home("keycloak")?;
    let args = [
        "start-dev",
        "--db=dev-mem",
        "--cache=local",
        "--log-level=INFO,org.userstoregateway:debug",
    ];
    launch_on(base_dir, home, &args, &[]).await
}

async fn launch_on(
    base_dir: PathBuf,
    home: PathBuf,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Keycloak, String> {
    let watchdog = Watchdog::spawn(&base_dir, "TERM")?;
    let port = free_port();
    let mut kc = Keycloak {
        base: format!("http://127.0.0.1:{port}"),
        log: base_dir.join("keycloak.log"),
        // No idle connections are kept: the server is shared by tests that
        // each run their own tokio runtime, and a pooled connection dies
        // with the runtime that opened it.
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| e.to_string())?,
        home,
        port,
        watchdog,
        child: Mutex::new(None),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    kc.launch().await?;
    Ok(kc)
}

/// A home built for production mode (`kc.sh build --db=postgres`, caches
/// clustered, the default), for [`cluster_node`]; its path.
pub fn production_home() -> PathBuf {
    let (base_dir, home) = private_home("keycloak-build").unwrap_or_else(|m| panic!("{m}"));
    // Nothing runs there; the watchdog only removes the copy (some 170 MB,
    // in RAM under /dev/shm) when the test process is gone.
    Watchdog::spawn(&base_dir, "TERM").unwrap_or_else(|m| panic!("{m}"));
    let output = Command::new(home.join("bin/kc.sh"))
        .args(["build", "--db=postgres", "--health-enabled=true"])
        .stdin(Stdio::null())
        .output()
        .expect("kc.sh build runs");
    assert!(
        output.status.success(),
        "kc.sh build failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    home
}

/// One node of a Keycloak cluster: a copy of `built` ([`production_home`])
/// started with `kc.sh start --optimized` on Keycloak's database `jdbc_url`
/// (user, password), Infinispan clustered with its default discovery
/// (jdbc-ping through that database), JGroups on loopback; realm files in
/// `import` are imported at startup with `env` for their placeholders.
pub async fn cluster_node(
    built: &Path,
    db: (&str, &str, &str),
    import: &[PathBuf],
    env: &[(&str, &str)],
) -> Keycloak {
    let base_dir = new_base_dir("keycloak-node").unwrap_or_else(|m| panic!("{m}"));
    let home = base_dir.join("keycloak");
    let status = Command::new("cp")
        .arg("-a")
        .arg(built)
        .arg(&home)
        .status()
        .expect("cp");
    assert!(status.success(), "copying {}", built.display());
    let import_dir = home.join("data/import");
    fs::create_dir_all(&import_dir).expect("data/import");
    for file in import {
        let name = file.file_name().expect("file name");
        fs::copy(file, import_dir.join(name)).expect("copy the realm file");
    }
    let (url, user, password) = db;
    let management = format!("--http-management-port={}", free_port());
    let db_url = format!("--db-url={url}");
    let db_user = format!("--db-username={user}");
    let db_password = format!("--db-password={password}");
    let jgroups = format!(
        "-Xms128m -Xmx768m -Djava.net.preferIPv4Stack=true -Djgroups.bind.address=127.0.0.1 -Djgroups.bind.port={}",
        free_port()
    );
    let mut args = vec![
        "start",
        "--optimized",
        "--http-enabled=true",
        "--hostname-strict=false",
        management.as_str(),
        db_url.as_str(),
        db_user.as_str(),
        db_password.as_str(),
        "--log-level=INFO,org.userstoregateway:debug",
    ];
    if !import.is_empty() {
        args.push("--import-realm");
    }
    let mut all_env = vec![("JAVA_OPTS_APPEND", jgroups.as_str())];
    all_env.extend_from_slice(env);
    launch_on(base_dir, home, &args, &all_env)
        .await
        .unwrap_or_else(|m| panic!("{m}"))
}

impl Keycloak {
    /// Starts kc.sh (again) on the same home and port, logging to `self.log`,
    /// and waits until the master realm answers.
    async fn launch(&mut self) -> Result<(), String> {
        let log_file = fs::File::create(&self.log).map_err(|e| e.to_string())?;
        let child = Command::new(self.home.join("bin/kc.sh"))
            .args(&self.args)
            .args([
                "--http-host=127.0.0.1".to_owned(),
                format!("--http-port={}", self.port),
            ])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN.0)
            .env("KC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN.1)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e}",
                    self.home.join("bin/kc.sh").display()
                )
            })?;
        self.watchdog.watch_pid(child.id());
        *self.child.lock().unwrap_or_else(PoisonError::into_inner) = Some(child);
        let deadline = Instant::now() + Duration::from_secs(300);
        while Instant::now() < deadline {
            if let Ok(response) = self
                .client
                .get(format!("{}/realms/master", self.base))
                .send()
                .await
            {
                if response.status() == 200 {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        Err(format!(
            "Keycloak did not start within 300 s; last log lines:\n{tail}"
        ))
    }

    /// Sends SIGTERM and waits up to `limit` for the process to exit;
    /// returns how long it took, or `None` if it was still running.
    pub fn terminate(&self, limit: Duration) -> Option<Duration> {
        let mut guard = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        let child = guard.as_mut()?;
        let started = Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        while started.elapsed() < limit {
            if let Ok(Some(_)) = child.try_wait() {
                guard.take();
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    /// Starts the stopped server again, logging to `log`.
    pub async fn restart(&mut self, log: PathBuf) {
        self.log = log;
        self.launch()
            .await
            .unwrap_or_else(|message| panic!("{message}"));
    }
}

/// A realm of one test, federated to one gateway.
pub struct Realm {
    pub name: String,
    pub component_id: String,
}

/// An answer: status, JSON body (Null when none) and the Location header.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub location: Option<String>,
}

impl Keycloak {
    async fn admin_token(&self) -> String {
        let response = self
            .client
            .post(format!(
                "{}/realms/master/protocol/openid-connect/token",
                self.base
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", ADMIN.0),
                ("password", ADMIN.1),
            ])
            .send()
            .await
            .expect("admin token request");
        let body: Value = response.json().await.expect("token json");
        body["access_token"]
            .as_str()
            .expect("admin access token")
            .to_owned()
    }

    /// A call to the Admin REST API under `/admin/realms`.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}/admin/realms{path}", self.base))
            .bearer_auth(self.admin_token().await);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin API answers");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            location,
        }
    }

    /// Server info (provider descriptions), as the admin console reads it.
    pub async fn server_info(&self) -> Value {
        self.client
            .get(format!("{}/admin/serverinfo", self.base))
            .bearer_auth(self.admin_token().await)
            .send()
            .await
            .expect("serverinfo")
            .json()
            .await
            .expect("serverinfo json")
    }

    /// A realm with the roles and client the tests expect (but not
    /// `auditor` nor the client `reports`), federated to `gateway_url`.
    pub async fn realm(&self, gateway_url: &str, token: &str) -> Realm {
        self.realm_with(gateway_url, token, &[], json!({})).await
    }

    /// Like [`Keycloak::realm`], with extra component settings and extra
    /// realm attributes (e.g. brute-force detection).
    pub async fn realm_with(
        &self,
        gateway_url: &str,
        token: &str,
        settings: &[(&str, &str)],
        realm_extra: Value,
    ) -> Realm {
        let name = self.realm_without_federation(realm_extra).await;
        let mut component = json!({
            "name": "legacy users",
            "providerId": "userstore-gateway",
            "providerType": "org.keycloak.storage.UserStorageProvider",
            "config": {
                "gatewayUrl": [gateway_url],
                "apiToken": [token],
                "connectTimeoutMs": ["2000"],
                "requestTimeoutMs": ["5000"],
                "enabled": ["true"],
                "priority": ["0"],
                "cachePolicy": ["NO_CACHE"]
            }
        });
        for (key, value) in settings {
            component["config"][*key] = json!([value]);
        }
        let component_id = self.add_component(&name, component).await;
        Realm { name, component_id }
    }

    /// A realm with the roles and client the tests expect (as in
    /// [`Keycloak::realm`]) and no user federation; its name.
    pub async fn realm_without_federation(&self, realm_extra: Value) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let name = format!(
            "e2e-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut realm = json!({"realm": name, "enabled": true});
        if let (Some(realm), Some(extra)) = (realm.as_object_mut(), realm_extra.as_object()) {
            realm.extend(extra.clone());
        }
        let created = self.admin(Method::POST, "", Some(realm)).await;
        assert_eq!(created.status, 201, "create realm");
        for role in ["testrole", "user", "kc-only"] {
            let r = self
                .admin(
                    Method::POST,
                    &format!("/{name}/roles"),
                    Some(json!({"name": role})),
                )
                .await;
            assert_eq!(r.status, 201, "create role {role}");
        }
        let client = self
            .admin(
                Method::POST,
                &format!("/{name}/clients"),
                Some(json!({"clientId": "testclient", "publicClient": true, "directAccessGrantsEnabled": true,
                            "redirectUris": [BROWSER_REDIRECT]})),
            )
            .await;
        assert_eq!(client.status, 201, "create client");
        let client_id = last_segment(client.location.as_deref());
        for role in ["admin", "viewer"] {
            let r = self
                .admin(
                    Method::POST,
                    &format!("/{name}/clients/{client_id}/roles"),
                    Some(json!({"name": role})),
                )
                .await;
            assert_eq!(r.status, 201, "create client role {role}");
        }
        name
    }

    /// Adds `component` (a user federation provider, say) to the realm
    /// `realm`, whose id goes into its `parentId`; the component's id.
    /// Keycloak's id of the user `username` of `realm` (panics if not found).
    pub async fn user_id(&self, realm: &str, username: &str) -> String {
        let found = self
            .admin(
                Method::GET,
                &format!("/{realm}/users?username={username}&exact=true"),
                None,
            )
            .await;
        found.body[0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{username} in {realm}: {}", found.body))
            .to_owned()
    }

    /// The admin's "reset password" (not temporary) for the user with
    /// Keycloak id `id`.
    pub async fn reset_password(&self, realm: &str, id: &str, password: &str) -> Answer {
        self.admin(
            Method::PUT,
            &format!("/{realm}/users/{id}/reset-password"),
            Some(json!({"type": "password", "value": password, "temporary": false})),
        )
        .await
    }

    pub async fn add_component(&self, realm: &str, mut component: Value) -> String {
        let realm_id = self
            .admin(Method::GET, &format!("/{realm}"), None)
            .await
            .body["id"]
            .as_str()
            .expect("realm id")
            .to_owned();
        component["parentId"] = json!(realm_id);
        let component = self
            .admin(
                Method::POST,
                &format!("/{realm}/components"),
                Some(component),
            )
            .await;
        assert_eq!(
            component.status, 201,
            "create the user federation component: {}",
            component.body
        );
        last_segment(component.location.as_deref())
    }

    /// The password grant for `testclient`: status and body.
    pub async fn login(&self, realm: &Realm, username: &str, password: &str) -> (u16, Value) {
        let response = self
            .client
            .post(format!(
                "{}/realms/{}/protocol/openid-connect/token",
                self.base, realm.name
            ))
            .form(&[
                ("grant_type", "password"),
                ("client_id", "testclient"),
                ("username", username),
                ("password", password),
                ("scope", "openid"),
            ])
            .send()
            .await
            .expect("token endpoint answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A refresh of an earlier login's session: status and body.
    pub async fn refresh(&self, realm: &Realm, token: &Value) -> (u16, Value) {
        let refresh_token = token["refresh_token"].as_str().expect("refresh_token");
        let response = self
            .client
            .post(self.token_endpoint(realm))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", "testclient"),
                ("refresh_token", refresh_token),
            ])
            .send()
            .await
            .expect("token endpoint answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A login through Keycloak's browser login form, as a person does it:
    /// the authorization endpoint's login page, the form posted with its
    /// cookies, the redirect's code exchanged for tokens. `None` when the
    /// form did not let the user in (it shows the page again).
    pub async fn browser_login(
        &self,
        realm: &Realm,
        username: &str,
        password: &str,
    ) -> Option<Value> {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(0)
            .build()
            .expect("browser client");
        let page = browser
            .get(format!(
                "{}/realms/{}/protocol/openid-connect/auth",
                self.base, realm.name
            ))
            .query(&AUTHORIZATION_QUERY)
            .send()
            .await
            .expect("login page");
        let cookies = cookie_header(page.headers());
        let html = page.text().await.expect("login page HTML");
        let action = form_action(&html).unwrap_or_else(|| panic!("no login form in: {html}"));
        let posted = browser
            .post(action)
            .header("Cookie", cookies)
            .form(&[
                ("username", username),
                ("password", password),
                ("credentialId", ""),
            ])
            .send()
            .await
            .expect("login form answers");
        let location = posted.headers().get("location")?.to_str().ok()?.to_owned();
        let code = location
            .split(['?', '&'])
            .find_map(|part| part.strip_prefix("code="))?
            .to_owned();
        let response = self
            .client
            .post(self.token_endpoint(realm))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", "testclient"),
                ("code", code.as_str()),
                ("redirect_uri", BROWSER_REDIRECT),
            ])
            .send()
            .await
            .expect("token endpoint answers");
        assert_eq!(response.status(), 200, "code exchange");
        Some(response.json().await.expect("token JSON"))
    }

    fn token_endpoint(&self, realm: &Realm) -> String {
        format!(
            "{}/realms/{}/protocol/openid-connect/token",
            self.base, realm.name
        )
    }

    /// Keycloak's log so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Where the test client's browser logins return to; nothing listens there,
/// the test reads the code from the redirect itself.
pub const BROWSER_REDIRECT: &str = "http://127.0.0.1/e2e-callback";

/// The query of the authorization request that opens the login form of
/// `testclient`.
pub const AUTHORIZATION_QUERY: [(&str, &str); 4] = [
    ("client_id", "testclient"),
    ("response_type", "code"),
    ("scope", "openid"),
    ("redirect_uri", BROWSER_REDIRECT),
];

/// The `Cookie` header a browser would send back for these `Set-Cookie`s.
pub fn cookie_header(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The login form's action URL, HTML entities undone.
pub fn form_action(html: &str) -> Option<String> {
    let form = &html[html.find("id=\"kc-form-login\"")?..];
    let start = form.find("action=\"")? + "action=\"".len();
    let end = start + form[start..].find('"')?;
    Some(form[start..end].replace("&amp;", "&"))
}

/// The claims of a JWT (not verified: the test talks to the issuer directly).
pub fn claims(token: &Value) -> Value {
    let jwt = token["access_token"].as_str().expect("access_token");
    let payload = jwt.split('.').nth(1).expect("JWT payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

fn last_segment(location: Option<&str>) -> String {
    location
        .and_then(|l| l.rsplit('/').next())
        .expect("Location header")
        .to_owned()
}
