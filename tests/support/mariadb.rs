//! The shared throwaway MariaDB server: `mariadb-install-db` into a temp dir,
//! then `mariadbd` on 127.0.0.1:<free port>.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection, MySqlConnection};
use tokio::sync::OnceCell;

use super::process::{self, Watchdog};

/// Account created at first start, with every privilege incl. GRANT OPTION.
pub(super) const USER: &str = "harness";
pub(super) const PASSWORD: &str = "harness-pw";

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const START_ATTEMPTS: usize = 3;

/// Service account the server runs as when the tests run as root.
const SERVICE_USER: &str = "mysql";

/// Options for both the bootstrap and the server. `--no-defaults` (which
/// must come first, added by the callers) keeps /etc/mysql out of it; the
/// rest trades durability for startup speed and a small footprint.
const COMMON_OPTIONS: &[&str] = &[
    "--skip-name-resolve",
    "--skip-log-bin",
    "--innodb-buffer-pool-size=32M",
    "--innodb-log-file-size=8M",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    // Debian's packaged config says utf8mb4; the compiled-in default is latin1.
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
];

pub(super) struct MariaDbServer {
    pub(super) port: u16,
}

impl MariaDbServer {
    pub(super) fn url(&self, database: &str) -> String {
        format!(
            "mysql://{USER}:{PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }
}

/// The server of this test process, started on first use. A failed start is
/// remembered, so every later test fails fast with the same message.
pub(super) async fn server() -> &'static MariaDbServer {
    static SERVER: OnceCell<Result<MariaDbServer, String>> = OnceCell::const_new();
    match SERVER.get_or_init(start).await {
        Ok(server) => server,
        Err(why) => panic!("MariaDB test server unavailable: {why}"),
    }
}

struct Paths {
    base: PathBuf,
    /// Owned by the service account: the server writes data, socket, pid here.
    server_dir: PathBuf,
    data_dir: PathBuf,
    init_file: PathBuf,
    log_file: PathBuf,
}

async fn start() -> Result<MariaDbServer, String> {
    let begun = Instant::now();
    let missing = |what: &str| {
        format!("`{what}` not found on PATH or in /usr/sbin, /usr/bin; install the Debian package `mariadb-server` (see install-deps.sh)")
    };
    let mariadbd = process::find_program("mariadbd", &["/usr/sbin", "/usr/bin"])
        .ok_or_else(|| missing("mariadbd"))?;
    let install_db = process::find_program("mariadb-install-db", &["/usr/bin", "/usr/sbin"])
        .ok_or_else(|| missing("mariadb-install-db"))?;
    let run_as = if process::is_root() {
        let ids = process::account_ids(SERVICE_USER).ok_or_else(|| {
            format!("running as root needs the system account `{SERVICE_USER}`; it is created by the Debian package `mariadb-server`")
        })?;
        Some(ids)
    } else {
        None
    };

    let base = process::new_base_dir("userstore-mariadb-")?;
    let watchdog = Watchdog::spawn(&base, "KILL")?;
    let paths = Paths {
        server_dir: base.join("server"),
        data_dir: base.join("server").join("data"),
        init_file: base.join("init.sql"),
        log_file: base.join("mariadbd.log"),
        base,
    };
    prepare_dirs(&paths, run_as)?;

    let install_started = Instant::now();
    let install = tokio::task::spawn_blocking({
        let (install_db, data_dir, cwd) = (install_db, paths.data_dir.clone(), paths.base.clone());
        move || install_system_tables(&install_db, &data_dir, &cwd, run_as.is_some())
    });
    install
        .await
        .map_err(|e| format!("mariadb-install-db task failed: {e}"))??;
    let install_time = install_started.elapsed();

    let mut last_error = String::new();
    for _ in 0..START_ATTEMPTS {
        let port = process::free_port();
        let mut child = spawn_server(&mariadbd, &paths, port, run_as.is_some())?;
        watchdog.watch_pid(child.id());
        let server = MariaDbServer { port };
        match wait_ready(&server, &mut child, &paths.log_file).await {
            Ok(()) => {
                eprintln!(
                    "[test-db] MariaDB ready on 127.0.0.1:{port} in {:.2?} (install-db {:.2?})",
                    begun.elapsed(),
                    install_time
                );
                // The data is throwaway: SIGKILL is fine. Reaping it here
                // keeps it from lingering as a zombie after we exit.
                process::at_exit(move || {
                    let _ = child.kill();
                    let _ = child.wait();
                });
                return Ok(server);
            }
            Err(Failure::PortTaken(why)) => last_error = why,
            Err(Failure::Fatal(why)) => return Err(why),
        }
    }
    Err(last_error)
}

fn prepare_dirs(paths: &Paths, run_as: Option<(u32, u32)>) -> Result<(), String> {
    std::fs::create_dir(&paths.server_dir)
        .map_err(|e| format!("mkdir {}: {e}", paths.server_dir.display()))?;
    if let Some((uid, gid)) = run_as {
        std::os::unix::fs::chown(&paths.server_dir, Some(uid), Some(gid))
            .map_err(|e| format!("chown {}: {e}", paths.server_dir.display()))?;
    }
    // Read by the server (after it switched to the service account) before
    // it accepts connections. The bootstrap cannot do this: it runs with
    // --skip-grant-tables, where account management is refused.
    let init_sql = format!(
        "CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';\n\
         GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%' WITH GRANT OPTION;\n"
    );
    std::fs::write(&paths.init_file, init_sql)
        .and_then(|()| {
            std::fs::set_permissions(&paths.init_file, std::fs::Permissions::from_mode(0o644))
        })
        .map_err(|e| format!("write {}: {e}", paths.init_file.display()))
}

fn install_system_tables(
    install_db: &Path,
    data_dir: &Path,
    cwd: &Path,
    as_service_user: bool,
) -> Result<(), String> {
    let mut cmd = Command::new(install_db);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data_dir.display()))
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db")
        .args(COMMON_OPTIONS)
        .current_dir(cwd)
        .stdin(Stdio::null());
    if as_service_user {
        cmd.arg(format!("--user={SERVICE_USER}"));
    }
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", install_db.display()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} failed ({}):\n{}{}",
            install_db.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn spawn_server(
    mariadbd: &Path,
    paths: &Paths,
    port: u16,
    as_service_user: bool,
) -> Result<Child, String> {
    let log = File::options()
        .create(true)
        .append(true)
        .open(&paths.log_file)
        .map_err(|e| format!("open {}: {e}", paths.log_file.display()))?;
    let log2 = log.try_clone().map_err(|e| format!("dup log fd: {e}"))?;
    let mut cmd = Command::new(mariadbd);
    cmd.arg("--no-defaults");
    if as_service_user {
        // mariadbd drops root itself; its pid stays our child's pid.
        cmd.arg(format!("--user={SERVICE_USER}"));
    }
    cmd.arg(format!("--datadir={}", paths.data_dir.display()))
        .arg(format!(
            "--socket={}",
            paths.server_dir.join("mariadbd.sock").display()
        ))
        .arg(format!(
            "--pid-file={}",
            paths.server_dir.join("mariadbd.pid").display()
        ))
        .arg(format!("--init-file={}", paths.init_file.display()))
        .arg("--skip-networking=0")
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg("--max-connections=300")
        .args(COMMON_OPTIONS)
        .current_dir(&paths.base)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2);
    cmd.spawn()
        .map_err(|e| format!("cannot start {}: {e}", mariadbd.display()))
}

enum Failure {
    /// Lost the race for the port: retry on another one.
    PortTaken(String),
    Fatal(String),
}

async fn wait_ready(
    server: &MariaDbServer,
    child: &mut Child,
    log_file: &Path,
) -> Result<(), Failure> {
    let url = server.url("mysql");
    let started = Instant::now();
    loop {
        let attempt = MySqlConnection::connect(&url).await;
        match attempt {
            Ok(conn) => {
                let _ = conn.close().await;
                return Ok(());
            }
            Err(e) => {
                if let Ok(Some(status)) = child.try_wait() {
                    let log = log_tail(log_file);
                    let why = format!("mariadbd exited ({status}) during startup; log:\n{log}");
                    return Err(if log.contains("Address already in use") {
                        Failure::PortTaken(why)
                    } else {
                        Failure::Fatal(why)
                    });
                }
                if started.elapsed() > READY_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(Failure::Fatal(format!(
                        "mariadbd did not accept connections within {READY_TIMEOUT:?}; last error: {e}; log:\n{}",
                        log_tail(log_file)
                    )));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
