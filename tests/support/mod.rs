// Each of the two test binaries (and the benches) uses only part of this
// module. Nothing here is unused by all of them (`bench` only by the
// benches): compiling the binaries without this line shows which items one
// of them leaves out.
#![allow(dead_code)]

//! Integration-test databases for all supported vendors.
//!
//! ```ignore
//! mod support;
//! use support::{TestDb, Vendor};
//!
//! #[tokio::test]
//! async fn reads_users() {
//!     let db = TestDb::with_schema(Vendor::Postgres).await;
//!     db.run_script(include_str!("../migrations/seed/demo.sql")).await;
//!     let before = db.checksum().await;
//!     // ... start the gateway on db.url(), exercise it ...
//!     assert_eq!(db.checksum().await, before, "the gateway wrote to the database");
//! }
//! ```
//!
//! PostgreSQL and MariaDB: one throwaway server per vendor per test process,
//! started on first use (on 127.0.0.1, a free port, data in /dev/shm or the
//! temp dir) and stopped when the process exits; every [`TestDb`] gets a
//! database of its own on it, so tests can run in parallel. SQLite: a new
//! file in a temp dir per [`TestDb`]. Only the server's address is shared
//! between tests, never a connection pool: each `#[tokio::test]` has its own
//! runtime, and a pool must not outlive the runtime that created it.
//!
//! Anything that goes wrong panics with an explanation; in particular a
//! missing server binary fails the test and names the Debian package that
//! provides it (see .ci/install-deps) instead of skipping.

pub mod bench;
pub mod certs;
mod checksum;
pub mod clerk_export;
pub mod dba;
pub mod faults;
#[macro_use]
pub mod gateway;
pub mod keycloak;
pub mod ldap;
mod mariadb;
mod postgres;
mod process;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::{Connection, Executor, MySqlConnection, PgConnection, SqliteConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Sqlite,
    Postgres,
    MariaDb,
}

impl Vendor {
    /// Directory under `migrations/` holding this vendor's schema files.
    pub fn migrations_dir(self) -> &'static str {
        match self {
            Vendor::Sqlite => "sqlite",
            Vendor::Postgres => "postgres",
            Vendor::MariaDb => "mysql",
        }
    }
}

/// A database of its own for one test. See the module docs.
pub struct TestDb {
    vendor: Vendor,
    url: String,
    name: String,
    /// Server vendors: URL of a maintenance database, to drop ours on drop.
    admin_url: Option<String>,
    /// SQLite: the directory holding the database file.
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A fresh, empty database of its own on the vendor's shared throwaway
    /// server (SQLite: a new file in a temp dir).
    pub async fn new(vendor: Vendor) -> TestDb {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        match vendor {
            Vendor::Postgres => {
                let server = postgres::server().await;
                let admin_url = server.url("postgres");
                admin_execute::<PgConnection>(&admin_url, &format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL: CREATE DATABASE {name} failed: {e}"));
                TestDb {
                    vendor,
                    url: server.url(&name),
                    name,
                    admin_url: Some(admin_url),
                    _dir: None,
                }
            }
            Vendor::MariaDb => {
                let server = mariadb::server().await;
                let admin_url = server.url("mysql");
                admin_execute::<MySqlConnection>(&admin_url, &format!("CREATE DATABASE `{name}`"))
                    .await
                    .unwrap_or_else(|e| panic!("MariaDB: CREATE DATABASE {name} failed: {e}"));
                TestDb {
                    vendor,
                    url: server.url(&name),
                    name,
                    admin_url: Some(admin_url),
                    _dir: None,
                }
            }
            Vendor::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("db-")
                    .tempdir_in(sqlite_root())
                    .expect("SQLite: cannot create a temp dir");
                let file = dir.path().join(format!("{name}.db"));
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(&file)
                    .create_if_missing(true);
                let conn = SqliteConnection::connect_with(&options)
                    .await
                    .unwrap_or_else(|e| panic!("SQLite: cannot create {}: {e}", file.display()));
                let _ = conn.close().await;
                TestDb {
                    vendor,
                    // `sqlite://` + an absolute path gives the `sqlite:///...` form.
                    url: format!("sqlite://{}", file.display()),
                    name,
                    admin_url: None,
                    _dir: Some(dir),
                }
            }
        }
    }

    /// [`TestDb::new`] plus the schema files `migrations/<postgres|mysql|sqlite>/*.sql`
    /// applied in name order, without the optional ones ([`OPTIONAL_MIGRATIONS`]).
    pub async fn with_schema(vendor: Vendor) -> TestDb {
        let db = TestDb::new(vendor).await;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(vendor.migrations_dir());
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| entry.expect("read_dir entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
            .filter(|path| {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                !OPTIONAL_MIGRATIONS.contains(&name)
            })
            .collect();
        assert!(!files.is_empty(), "no *.sql files in {}", dir.display());
        files.sort();
        for file in files {
            db.apply_migration_file(&file).await;
        }
        db
    }

    /// Applies one file of `migrations/<vendor>/`, e.g. `0002_change_log.sql`.
    pub async fn apply_migration(&self, name: &str) {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(self.vendor.migrations_dir())
            .join(name);
        self.apply_migration_file(&file).await;
    }

    async fn apply_migration_file(&self, file: &Path) {
        let sql = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        self.run_script_named(&sql, &file.display().to_string())
            .await;
    }

    pub fn vendor(&self) -> Vendor {
        self.vendor
    }

    /// URL for sqlx / the gateway, with a full-privilege account:
    /// `postgres://harness:…@127.0.0.1:<port>/test_<n>`,
    /// `mysql://harness:…@127.0.0.1:<port>/test_<n>`, `sqlite:///abs/path/test_<n>.db`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Name of the database (server vendors) or file stem (SQLite); unique
    /// within the test process, handy for naming per-test accounts.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs a multi-statement SQL script (schema, seed data, fixtures) with
    /// a writable connection. Panics if any statement fails. PostgreSQL runs
    /// a script without explicit BEGIN/COMMIT as one transaction; MariaDB and
    /// SQLite commit statement by statement.
    pub async fn run_script(&self, sql: &str) {
        self.run_script_named(sql, "script").await;
    }

    async fn run_script_named(&self, sql: &str, what: &str) {
        let result = match self.vendor {
            Vendor::Postgres => admin_execute::<PgConnection>(&self.url, sql).await,
            Vendor::MariaDb => {
                let mut result = Ok(());
                for statement in split_mysql_script(sql) {
                    result = admin_execute::<MySqlConnection>(&self.url, &statement).await;
                    if result.is_err() {
                        break;
                    }
                }
                result
            }
            Vendor::Sqlite => admin_execute::<SqliteConnection>(&self.url, sql).await,
        };
        if let Err(e) = result {
            let excerpt: String = sql.chars().take(400).collect();
            panic!(
                "{:?}: {what} failed on {}: {e}\n--- start of the script ---\n{excerpt}",
                self.vendor, self.url
            );
        }
    }

    /// Digest of the content of every table in this database (found in the
    /// catalog; names, column names/types and all rows, in a deterministic
    /// order), read directly, not through the gateway. Equal before and after
    /// means nothing was written.
    pub async fn checksum(&self) -> String {
        let result = match self.vendor {
            Vendor::Postgres => checksum::postgres(&self.url).await,
            Vendor::MariaDb => checksum::mysql(&self.url).await,
            Vendor::Sqlite => checksum::sqlite(&self.url).await,
        };
        result.unwrap_or_else(|e| panic!("{:?}: checksum of {} failed: {e}", self.vendor, self.url))
    }
}

impl Drop for TestDb {
    /// Drops the database so that long test runs do not pile up data (an
    /// empty PostgreSQL database alone takes ~7.5 MB, in RAM when under
    /// /dev/shm). Best effort and bounded: runs on a thread with its own
    /// runtime (Drop cannot await, and the test's runtime may be shutting
    /// down), kicks out connections the test left open, and stops waiting
    /// after 15 s. SQLite: the TempDir field removes the file.
    fn drop(&mut self) {
        let Some(admin_url) = self.admin_url.take() else {
            return;
        };
        let (vendor, name) = (self.vendor, self.name.clone());
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let result = match runtime {
                Ok(rt) => rt.block_on(drop_database(vendor, &admin_url, &name)),
                Err(e) => Err(sqlx::Error::Io(e)),
            };
            if let Err(e) = result {
                eprintln!("[test-db] warning: could not drop {vendor:?} database {name}: {e}");
            }
            let _ = done_tx.send(());
        });
        let _ = done_rx.recv_timeout(Duration::from_secs(15));
    }
}

async fn drop_database(vendor: Vendor, admin_url: &str, name: &str) -> Result<(), sqlx::Error> {
    match vendor {
        Vendor::Postgres => {
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            admin_execute::<PgConnection>(admin_url, &sql).await
        }
        Vendor::MariaDb => {
            let mut conn = MySqlConnection::connect(admin_url).await?;
            // MariaDB has no FORCE: end the sessions still using the database
            // (one holding a transaction would block DROP on a metadata lock).
            let sessions: Vec<(i64,)> =
                sqlx::query_as("SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()")
                    .bind(name)
                    .fetch_all(&mut conn)
                    .await?;
            for (id,) in sessions {
                let _ = conn.execute(format!("KILL {id}").as_str()).await;
            }
            conn.execute("SET SESSION lock_wait_timeout = 5").await?;
            conn.execute(format!("DROP DATABASE IF EXISTS `{name}`").as_str())
                .await?;
            conn.close().await
        }
        Vendor::Sqlite => Ok(()),
    }
}

/// Migrations that [`TestDb::with_schema`] leaves out: a DBA installs them
/// by choice, and tests that need them apply them with [`TestDb::apply_migration`].
pub const OPTIONAL_MIGRATIONS: &[&str] = &["0002_change_log.sql", "0003_trigram_search.sql"];

/// Splits a script for the `mariadb` command-line client into what the
/// server takes at once, honouring its `DELIMITER` lines (the server itself
/// knows no such command). Scripts without them stay whole.
fn split_mysql_script(sql: &str) -> Vec<String> {
    if !sql
        .lines()
        .any(|l| l.trim_start().starts_with("DELIMITER "))
    {
        return vec![sql.to_owned()];
    }
    let (mut parts, mut current, mut delimiter) = (Vec::new(), String::new(), ";".to_owned());
    for line in sql.lines() {
        if let Some(new) = line.trim().strip_prefix("DELIMITER ") {
            delimiter = new.trim().to_owned();
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.trim_end().ends_with(delimiter.as_str()) {
            let statement = current
                .trim_end()
                .trim_end_matches(delimiter.as_str())
                .trim();
            if !statement.is_empty() && !is_only_comments(statement) {
                parts.push(statement.to_owned());
            }
            current.clear();
        }
    }
    if !is_only_comments(current.trim()) {
        parts.push(current);
    }
    parts
}

fn is_only_comments(sql: &str) -> bool {
    sql.lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with("--"))
}

/// Opens a connection, runs `sql` (any number of statements, no bind
/// parameters) and closes the connection.
async fn admin_execute<C>(url: &str, sql: &str) -> Result<(), sqlx::Error>
where
    C: Connection,
    for<'c> &'c mut C: Executor<'c, Database = C::Database>,
{
    let mut conn = C::connect(url).await?;
    sqlx::raw_sql(sql).execute(&mut conn).await?;
    conn.close().await
}

/// Parent directory of the per-TestDb SQLite dirs. Those are removed when
/// their TestDb drops; a watchdog removes the parent even after a crash.
fn sqlite_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir =
            process::new_base_dir("userstore-sqlite-").unwrap_or_else(|e| panic!("SQLite: {e}"));
        process::Watchdog::spawn(&dir, "KILL").unwrap_or_else(|e| panic!("SQLite: {e}"));
        dir
    })
}
