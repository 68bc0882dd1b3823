//! Connection pools whose every session is read-only at the database's own level.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{Column, Executor};

use super::decode::{decode_mysql, decode_pg, decode_sqlite};
use super::template::Bind;
use super::{DbError, Dialect, Param, Record, Template, Value};
use crate::settings::DatabaseSettings;

/// A connection pool whose every session is read-only at the database's own level.
#[derive(Debug, Clone)]
pub enum Pool {
    Postgres(PgPool),
    MySql(MySqlPool),
    Sqlite(SqlitePool),
}

/// Whether a pool may write; only the demo's seeding step asks for `Writable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    Writable,
}

impl Pool {
    /// Opens a lazily connecting pool; the first query shows whether the
    /// database is reachable.
    pub fn open(settings: &DatabaseSettings, access: Access) -> Result<Self, DbError> {
        let url = settings.url.expose();
        let acquire = Duration::from_millis(settings.acquire_timeout_ms);
        let read_only = access == Access::ReadOnly;
        let statement_ms = settings.statement_timeout_ms;
        Ok(match Dialect::from_url(url)? {
            Dialect::Postgres => {
                let mut options = PgConnectOptions::from_str(url)?;
                if read_only {
                    // A startup parameter, so it holds from the session's first statement on.
                    options = options.options([("default_transaction_read_only", "on")]);
                }
                if statement_ms > 0 {
                    options = options.options([("statement_timeout", statement_ms.to_string())]);
                }
                Self::Postgres(
                    PgPoolOptions::new()
                        // No ping before every statement: a round trip per
                        // query. A connection that died fails its statement,
                        // is closed, and that request answers 503.
                        .test_before_acquire(false)
                        .max_connections(settings.max_connections)
                        .acquire_timeout(acquire)
                        .connect_lazy_with(options),
                )
            }
            Dialect::MySql => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                let options = MySqlConnectOptions::from_str(&url)?;
                let flag = Arc::new(ReadOnlyFlag::default());
                Self::MySql(
                    MySqlPoolOptions::new()
                        // The read-only check below is a round trip already.
                        .test_before_acquire(false)
                        .max_connections(settings.max_connections)
                        .acquire_timeout(acquire)
                        .before_acquire(move |conn, _meta| {
                            let flag = Arc::clone(&flag);
                            Box::pin(async move {
                                if !read_only {
                                    return Ok(true);
                                }
                                // Set once per connection, so a configured query
                                // could lift it; a connection that lost it is dropped.
                                let still = flag.read(conn).await;
                                if !still {
                                    tracing::warn!(
                                        "a database connection is no longer read-only; dropping it"
                                    );
                                }
                                Ok(still)
                            })
                        })
                        .after_connect(move |conn, _meta| {
                            Box::pin(async move {
                                if read_only {
                                    conn.execute("SET SESSION TRANSACTION READ ONLY").await?;
                                }
                                if statement_ms > 0 {
                                    // MariaDB counts seconds, MySQL milliseconds (SELECTs only).
                                    let mariadb = format!(
                                        "SET SESSION max_statement_time = {}",
                                        statement_ms as f64 / 1000.0
                                    );
                                    if conn.execute(mariadb.as_str()).await.is_err() {
                                        let mysql = format!(
                                            "SET SESSION max_execution_time = {statement_ms}"
                                        );
                                        conn.execute(mysql.as_str()).await?;
                                    }
                                }
                                Ok(())
                            })
                        })
                        .connect_lazy_with(options),
                )
            }
            Dialect::Sqlite => {
                let mut options = SqliteConnectOptions::from_str(url)?;
                options = if read_only {
                    options.read_only(true).pragma("query_only", "ON")
                } else {
                    options.create_if_missing(true)
                };
                if statement_ms > 0 {
                    // SQLite has no statement timeout; this bounds waiting for locks.
                    options = options.busy_timeout(Duration::from_millis(statement_ms));
                }
                Self::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(settings.max_connections)
                        .acquire_timeout(acquire)
                        .connect_lazy_with(options),
                )
            }
        })
    }

    /// The pool's dialect.
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Postgres(_) => Dialect::Postgres,
            Self::MySql(_) => Dialect::MySql,
            Self::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Runs `template` and returns at most `max_rows` rows; later rows are
    /// not read, so a query that matches too much cannot flood memory.
    pub async fn fetch(
        &self,
        template: &Template,
        params: &[(&str, Param)],
        max_rows: usize,
    ) -> Result<Vec<Record>, DbError> {
        let (sql, binds) = template.render(self.dialect(), params)?;
        // Only PostgreSQL has generic plans; elsewhere a statement that is
        // not kept prepared would cost more round trips.
        let keep_prepared = !(template.is_planned_per_run() && self.dialect() == Dialect::Postgres);
        macro_rules! run {
            ($pool:expr, $decode:ident) => {{
                let query = bound!(&sql, &binds).persistent(keep_prepared);
                Ok(collect!(query.fetch($pool), $decode, max_rows))
            }};
        }
        match self {
            Self::Postgres(pool) => run!(pool, decode_pg),
            Self::MySql(pool) => run!(pool, decode_mysql),
            Self::Sqlite(pool) => run!(pool, decode_sqlite),
        }
    }

    /// Runs `template` once and returns the names of the columns it
    /// produces, whether or not any row matches.
    pub async fn column_names(
        &self,
        template: &Template,
        params: &[(&str, Param)],
    ) -> Result<Vec<String>, DbError> {
        self.fetch(template, params, 1).await?;
        let (sql, _) = template.render(self.dialect(), params)?;
        Ok(match self {
            Self::Postgres(pool) => names(pool.describe(&sql).await?.columns()),
            Self::MySql(pool) => names(pool.describe(&sql).await?.columns()),
            Self::Sqlite(pool) => names(pool.describe(&sql).await?.columns()),
        })
    }

    /// Runs a statement with no parameters and ignores its result (seeding, probes).
    pub async fn execute_raw(&self, sql: &str) -> Result<(), DbError> {
        match self {
            Self::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop)?,
            Self::MySql(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop)?,
            Self::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop)?,
        }
        Ok(())
    }

    /// Opens one connection outside the pool, so that a failure carries the
    /// database's own reason (refused, authentication, unknown database)
    /// rather than the pool's "timed out".
    pub async fn try_connect(&self) -> Result<(), DbError> {
        use sqlx::{ConnectOptions, Connection};
        let connect = async {
            match self {
                Self::Postgres(pool) => pool.connect_options().connect().await?.close().await,
                Self::MySql(pool) => pool.connect_options().connect().await?.close().await,
                Self::Sqlite(pool) => pool.connect_options().connect().await?.close().await,
            }
        };
        match tokio::time::timeout(Duration::from_secs(10), connect).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(DbError::Config(
                "no answer from the database within 10 s".into(),
            )),
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.fetch(&Template::parse("SELECT 1"), &[], 1)
            .await
            .map(drop)
    }

    /// Asks the database whether this pool's sessions are read-only, by the
    /// database's own flag. Each vendor has its own switch.
    pub async fn session_read_only(&self) -> Result<bool, DbError> {
        let (sql, column) = match self {
            Self::Postgres(_) => (
                "SELECT current_setting('transaction_read_only') AS ro",
                "ro",
            ),
            Self::MySql(_) => ("SELECT @@session.transaction_read_only AS ro", "ro"),
            Self::Sqlite(_) => ("PRAGMA query_only", "query_only"),
        };
        let rows = match self.fetch(&Template::parse(sql), &[], 1).await {
            // MariaDB before 11.1 only knows the older name of the variable.
            Err(_) if self.dialect() == Dialect::MySql => {
                let sql = "SELECT @@session.tx_read_only AS ro";
                self.fetch(&Template::parse(sql), &[], 1).await?
            }
            other => other?,
        };
        let value = rows.first().and_then(|r| r.get(column)).cloned();
        Ok(match value {
            Some(Value::Bool(b)) => b,
            Some(Value::Int(n)) => n != 0,
            Some(Value::Text(s)) => matches!(s.as_str(), "on" | "1" | "true"),
            _ => false,
        })
    }

    /// PostgreSQL only: a connection of its own, outside the pool, listening
    /// on `channel`. Its session is read-only like the pool's.
    pub async fn listen(
        &self,
        channel: &str,
    ) -> Option<Result<sqlx::postgres::PgListener, DbError>> {
        let Self::Postgres(pool) = self else {
            return None;
        };
        Some(
            async {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(channel).await?;
                Ok(listener)
            }
            .await,
        )
    }

    /// Open connections and how many of them are idle.
    pub fn connections(&self) -> (u32, usize) {
        match self {
            Self::Postgres(pool) => (pool.size(), pool.num_idle()),
            Self::MySql(pool) => (pool.size(), pool.num_idle()),
            Self::Sqlite(pool) => (pool.size(), pool.num_idle()),
        }
    }

    /// Closes every connection; in-flight queries finish first.
    pub async fn close(&self) {
        match self {
            Self::Postgres(pool) => pool.close().await,
            Self::MySql(pool) => pool.close().await,
            Self::Sqlite(pool) => pool.close().await,
        }
    }
}

/// The names of MariaDB/MySQL's read-only session variable
/// (`transaction_read_only` since MariaDB 11.1 and MySQL 8, `tx_read_only`
/// before), in the order tried.
const READ_ONLY_VARIABLES: [&str; 2] = [
    "SELECT @@session.transaction_read_only",
    "SELECT @@session.tx_read_only",
];

/// Which of [`READ_ONLY_VARIABLES`] this server answers, learned on first
/// use, so that every later check is one round trip.
#[derive(Debug, Default)]
struct ReadOnlyFlag(AtomicUsize);

impl ReadOnlyFlag {
    /// The session's read-only flag; false when no variable answers.
    async fn read(&self, conn: &mut sqlx::MySqlConnection) -> bool {
        let known = self.0.load(Ordering::Relaxed);
        for i in (0..READ_ONLY_VARIABLES.len()).map(|k| (known + k) % READ_ONLY_VARIABLES.len()) {
            if let Ok(flag) = sqlx::query_scalar::<_, i64>(READ_ONLY_VARIABLES[i])
                .fetch_one(&mut *conn)
                .await
            {
                self.0.store(i, Ordering::Relaxed);
                return flag != 0;
            }
        }
        false
    }
}

fn names<C: Column>(columns: &[C]) -> Vec<String> {
    columns.iter().map(|c| c.name().to_owned()).collect()
}
