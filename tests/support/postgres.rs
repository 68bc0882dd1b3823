//! The shared throwaway PostgreSQL server, started with `pgtemp`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pgtemp::{PgTempDB, PgTempDBBuilder};
use sqlx::{Connection, PgConnection};
use tokio::sync::OnceCell;

use super::process::{self, Watchdog};

/// Superuser created by initdb; every TestDb URL uses it.
pub(super) const USER: &str = "harness";
pub(super) const PASSWORD: &str = "harness-pw";

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const START_ATTEMPTS: usize = 3;

pub(super) struct PgServer {
    pub(super) port: u16,
}

impl PgServer {
    pub(super) fn url(&self, database: &str) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }
}

/// The server of this test process, started on first use. A failed start is
/// remembered, so every later test fails fast with the same message.
pub(super) async fn server() -> &'static PgServer {
    static SERVER: OnceCell<Result<PgServer, String>> = OnceCell::const_new();
    match SERVER.get_or_init(start).await {
        Ok(server) => server,
        Err(why) => panic!("PostgreSQL test server unavailable: {why}"),
    }
}

async fn start() -> Result<PgServer, String> {
    let begun = Instant::now();
    let bin_dir = find_bin_dir().ok_or_else(|| {
        "PostgreSQL server binaries (initdb, postgres) not found in \
         /usr/lib/postgresql/*/bin or on PATH; install the Debian package \
         `postgresql` (see install-deps.sh)"
            .to_string()
    })?;
    if process::is_root() {
        // pgtemp runs initdb and postgres through `sudo -u postgres` as root.
        if process::find_program("sudo", &["/usr/bin"]).is_none() {
            return Err("running as root needs `sudo` (pgtemp starts postgres via \
                        `sudo -u postgres`); install the Debian package `sudo`"
                .into());
        }
        if process::account_ids("postgres").is_none() {
            return Err(
                "running as root needs the system account `postgres`; it is \
                        created by the Debian package `postgresql`"
                    .into(),
            );
        }
    }

    // pgtemp makes its own temp dir inside `base`; the watchdog removes `base`.
    let base = process::new_base_dir("userstore-pg-")?;
    Watchdog::spawn(&base, "QUIT")?;

    let mut last_error = String::new();
    for _ in 0..START_ATTEMPTS {
        let port = process::free_port();
        let builder = builder(&bin_dir, &base, port);
        let db = tokio::task::spawn_blocking(move || builder.start())
            .await
            .map_err(|e| match e.try_into_panic() {
                Ok(payload) => format!("pgtemp failed: {}", process::panic_message(&*payload)),
                Err(e) => format!("pgtemp start task failed: {e}"),
            })?;
        let server = PgServer { port };
        match wait_ready(&server, &db.data_dir()).await {
            Ok(()) => {
                eprintln!(
                    "[test-db] PostgreSQL ({}) ready on 127.0.0.1:{port} in {:.2?}",
                    bin_dir.display(),
                    begun.elapsed()
                );
                // Dropping the PgTempDB stops postgres (fast shutdown), reaps
                // it and deletes its data dir; do that when the process exits.
                process::at_exit(move || drop(db));
                return Ok(server);
            }
            Err(why) => {
                last_error = why;
                // Run pgtemp's shutdown off the async runtime: it blocks.
                let _ = tokio::task::spawn_blocking(move || drop(db)).await;
            }
        }
    }
    Err(last_error)
}

fn builder(bin_dir: &Path, base: &Path, port: u16) -> PgTempDBBuilder {
    // C.UTF-8 gives UTF-8 aware lower()/upper(); without --locale, a root
    // run (sudo resets the environment) would get SQL_ASCII databases.
    let locale = if Path::new("/usr/lib/locale/C.utf8").exists() {
        "C.UTF-8"
    } else {
        "C"
    };
    PgTempDB::builder()
        .with_bin_path(bin_dir)
        .with_data_dir_prefix(base)
        .with_username(USER)
        .with_password(PASSWORD)
        .with_port(port)
        .with_initdb_arg("encoding", "UTF8")
        .with_initdb_arg("locale", locale)
        // Real password checks over TCP (initdb's default is `trust`).
        .with_initdb_arg("auth-host", "scram-sha-256")
        .with_initdb_arg("auth-local", "trust")
        .with_config_param("listen_addresses", "127.0.0.1")
        .with_config_param("max_connections", "200")
        // Dynamic shared memory as files in the data dir rather than POSIX
        // segments in /dev/shm: a killed server leaves nothing outside it.
        .with_config_param("dynamic_shared_memory_type", "mmap")
        // pgtemp pipes the server's stdout/stderr and never reads them: once
        // the 64 KiB pipe is full postgres would block on its next log line.
        // Tests run failing statements on purpose, so log (almost) nothing.
        .with_config_param("log_min_messages", "panic")
        .with_config_param("log_min_error_statement", "panic")
        .with_config_param("log_checkpoints", "off")
        .with_config_param("log_autovacuum_min_duration", "-1")
}

/// Polls until the server accepts our password over TCP. Fails early when
/// postgres exits (e.g. the port was taken meanwhile): it removes
/// `postmaster.pid` on the way out.
async fn wait_ready(server: &PgServer, data_dir: &Path) -> Result<(), String> {
    let url = server.url("postgres");
    let pid_file = data_dir.join("postmaster.pid");
    let started = Instant::now();
    let mut seen_pid_file = false;
    loop {
        match PgConnection::connect(&url).await {
            Ok(conn) => {
                let _ = conn.close().await;
                return Ok(());
            }
            Err(e) => {
                let pid_file_exists = pid_file.exists();
                seen_pid_file |= pid_file_exists;
                let exited = (seen_pid_file && !pid_file_exists)
                    || (!seen_pid_file && started.elapsed() > Duration::from_secs(15));
                if exited || started.elapsed() > READY_TIMEOUT {
                    return Err(format!(
                        "postgres on port {} did not accept connections within {:.1?} \
                         (server {}); last error: {e}",
                        server.port,
                        started.elapsed(),
                        if exited { "exited" } else { "still starting" },
                    ));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Debian keeps the server binaries out of PATH, in
/// /usr/lib/postgresql/<major>/bin; take the newest. Fall back to PATH for
/// other layouts.
fn find_bin_dir() -> Option<PathBuf> {
    let has_server = |dir: &Path| {
        process::is_executable(&dir.join("initdb")) && process::is_executable(&dir.join("postgres"))
    };
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin);
    debian.or_else(|| {
        let initdb = process::find_program("initdb", &[])?;
        let dir = initdb.parent()?.to_path_buf();
        has_server(&dir).then_some(dir)
    })
}
