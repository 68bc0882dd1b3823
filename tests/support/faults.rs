//! Pieces for fault tests: a PostgreSQL server of the test's own that can be
//! stopped, started and frozen (SIGSTOP), and the gateway as a real process
//! that can be killed and restarted on the same port.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::process::{self, free_port, new_base_dir, Watchdog};

/// A PostgreSQL server owned by one test.
pub struct FaultyPg {
    base: PathBuf,
    data: PathBuf,
    bin: PathBuf,
    pub port: u16,
    watchdog: &'static Watchdog,
}

impl FaultyPg {
    /// initdb and start a server on a free loopback port.
    pub fn start_new() -> FaultyPg {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL is installed (Debian package `postgresql`)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .find(|b| b.join("pg_ctl").is_file())
            .expect("pg_ctl in /usr/lib/postgresql/*/bin");
        let base = new_base_dir("faulty-pg-").expect("base dir");
        let watchdog = Watchdog::spawn(&base, "QUIT").expect("watchdog");
        let data = base.join("data");
        if process::is_root() {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&base));
        }
        run(as_postgres(&bin.join("initdb")).arg("-D").arg(&data).args([
            "-U",
            "harness",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "-N",
        ]));
        let port = free_port();
        let settings = format!(
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             dynamic_shared_memory_type = mmap\nfsync = off\nlog_min_messages = fatal\n",
            base.display()
        );
        let conf = data.join("postgresql.auto.conf");
        let mut text = fs::read_to_string(&conf).unwrap_or_default();
        text.push_str(&settings);
        fs::write(&conf, text).expect("write postgresql.auto.conf");
        let pg = FaultyPg {
            base,
            data,
            bin,
            port,
            watchdog,
        };
        pg.start();
        pg
    }

    /// URL of the `postgres` database as the superuser `harness`.
    pub fn url(&self) -> String {
        format!("postgres://harness@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs a multi-statement script (schema, fixtures) as the superuser.
    pub async fn run_script(&self, sql: &str) {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.url())
            .await
            .expect("connect");
        sqlx::raw_sql(sql)
            .execute(&mut conn)
            .await
            .expect("script runs");
        let _ = conn.close().await;
    }

    /// Digest of every table (see `TestDb::checksum`).
    pub async fn checksum(&self) -> String {
        super::checksum::postgres(&self.url())
            .await
            .expect("checksum")
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) {
        run(as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.base.join("server.log"))
            .args(["-w", "-t", "60", "start"]));
        if let Some(pid) = self.postmaster_pid() {
            self.watchdog.watch_pid(pid);
        }
    }

    /// Stops the server (fast shutdown: sessions are disconnected).
    pub fn stop(&self) {
        self.resume();
        run(as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "-t", "60", "stop"]));
    }

    /// Freezes the server and all its backends with SIGSTOP: connections
    /// stay open but nothing answers.
    pub fn pause(&self) {
        self.signal_all("STOP");
    }

    /// Undoes [`FaultyPg::pause`].
    pub fn resume(&self) {
        self.signal_all("CONT");
    }

    fn postmaster_pid(&self) -> Option<u32> {
        fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    fn signal_all(&self, signal: &str) {
        let Some(postmaster) = self.postmaster_pid() else {
            return;
        };
        let mut pids = vec![postmaster];
        for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rsplit(") ")
                .next()
                .and_then(|rest| rest.split(' ').nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(postmaster) {
                pids.push(pid);
            }
        }
        for pid in pids {
            let _ = Command::new("kill")
                .args([&format!("-{signal}"), &pid.to_string()])
                .status();
        }
    }
}

impl Drop for FaultyPg {
    fn drop(&mut self) {
        // Never leave frozen processes behind; the watchdog removes the rest.
        self.resume();
        let _ = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = fs::remove_dir_all(&self.base);
    }
}

fn as_postgres(program: &Path) -> Command {
    if process::is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) {
    let output = command.output().expect("command starts");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The gateway binary running with a config file, restartable on its port.
pub struct GatewayProcess {
    config: PathBuf,
    pub port: u16,
    log: PathBuf,
    rust_log: String,
    /// Extra environment, e.g. `USERSTORE_GATEWAY__DATABASE__URL`.
    env: Vec<(String, String)>,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl GatewayProcess {
    /// Writes `toml` (which must not set server.listen) and starts the
    /// gateway, logging at `info`.
    pub fn start(toml: &str) -> GatewayProcess {
        Self::start_logging(toml, "info")
    }

    /// Like [`GatewayProcess::start`], with extra environment variables (a
    /// configuration that takes its database URL and token from there).
    pub fn start_with_env(toml: &str, env: &[(&str, &str)]) -> GatewayProcess {
        Self::start_inner(toml, "info", env)
    }

    /// Like [`GatewayProcess::start`], with `RUST_LOG` set to `rust_log`.
    pub fn start_logging(toml: &str, rust_log: &str) -> GatewayProcess {
        Self::start_inner(toml, rust_log, &[])
    }

    fn start_inner(toml: &str, rust_log: &str, env: &[(&str, &str)]) -> GatewayProcess {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("gateway.toml");
        fs::write(&config, toml).expect("write config");
        let mut gateway = GatewayProcess {
            config,
            port: free_port(),
            log: dir.path().join("gateway.log"),
            rust_log: rust_log.to_owned(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
            _dir: dir,
        };
        gateway.restart();
        gateway
    }

    /// `http://127.0.0.1:<port>`
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts (again) and waits until `/healthz` answers.
    pub fn restart(&mut self) {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_userstore-gateway"))
            .args(["serve", "--config"])
            .arg(&self.config)
            .env(
                "USERSTORE_GATEWAY__SERVER__LISTEN",
                format!("127.0.0.1:{}", self.port),
            )
            .env("RUST_LOG", &self.rust_log)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("gateway starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "gateway did not listen on {} within 30 s:\n{}",
            self.port,
            self.log_text()
        );
    }

    /// SIGKILL: the process is gone at once, connections drop.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().ok()
    }

    /// The process id while it runs, e.g. to read its CPU time from `/proc`.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the gateway logged so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
