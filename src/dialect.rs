//! Everything that differs between PostgreSQL, MariaDB/MySQL and SQLite:
//! placeholders, read-only session setup, and turning rows into [`Record`]s.

use std::str::FromStr;
use std::time::Duration;

use futures_util::TryStreamExt;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions, MySqlRow};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{Column, Executor, Row};

use crate::settings::DatabaseSettings;

/// The SQL dialect of the configured database, chosen by the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

impl Dialect {
    /// Picks the dialect from a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "mysql" | "mariadb" => Ok(Self::MySql),
            "sqlite" => Ok(Self::Sqlite),
            _ => Err(DbError::Config(format!(
                "database.url must start with postgres://, mysql://, mariadb:// or sqlite:// (got scheme '{scheme}')"
            ))),
        }
    }

    /// The default `changes` and `change_bounds` queries over the change log
    /// of `migrations/<dialect>/0002_change_log.sql`. Each dialect orders
    /// entries its own way (see that file): PostgreSQL by transaction id,
    /// read only below the oldest running transaction; MariaDB/MySQL and
    /// SQLite by a number handed out in commit order.
    pub fn change_log_sql(self) -> (&'static str, &'static str) {
        match self {
            Self::Postgres => (
                "SELECT txid AS cursor, user_id FROM userstore_change_log \
                 WHERE txid > :cursor \
                 AND txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
                 ORDER BY txid LIMIT :limit",
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1 AS head, \
                 purged_through AS horizon FROM userstore_change_log_state",
            ),
            // CURSOR is a reserved word in MariaDB and MySQL.
            Self::MySql => (
                "SELECT seq AS `cursor`, user_id FROM userstore_change_log \
                 WHERE seq > :cursor ORDER BY seq LIMIT :limit",
                "SELECT last_seq AS head, purged_through AS horizon \
                 FROM userstore_change_log_state WHERE id = 1",
            ),
            Self::Sqlite => (
                "SELECT seq AS cursor, user_id FROM userstore_change_log \
                 WHERE seq > :cursor ORDER BY seq LIMIT :limit",
                "SELECT coalesce((SELECT seq FROM sqlite_sequence \
                 WHERE name = 'userstore_change_log'), 0) AS head, \
                 purged_through AS horizon FROM userstore_change_log_state WHERE id = 1",
            ),
        }
    }

    /// The folder under `migrations/` with this dialect's schema files.
    pub fn migrations_dir(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }

    /// Name used in logs, metrics and `check` output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }
}

/// A value bound to a named parameter.
#[derive(Debug, Clone)]
pub enum Param {
    Text(String),
    Int(i64),
    /// Expands to a comma-separated placeholder list, for `IN (:user_ids)`.
    TextList(Vec<String>),
}

/// A column value, reduced to what the gateway needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
}

/// One result row, columns addressed by name (case-insensitively, because
/// PostgreSQL folds unquoted names to lower case and MySQL does not).
#[derive(Debug, Clone, Default)]
pub struct Record {
    columns: Vec<(String, Value)>,
}

impl Record {
    /// The value of a column, `None` when the query has no such column.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.columns
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Column names in result order.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|(n, _)| n.as_str())
    }
}

/// SQL with `:name` parameters, parsed once at startup.
#[derive(Debug, Clone)]
pub struct Template {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
enum Piece {
    Sql(String),
    Param(String),
}

impl Template {
    /// Finds `:name` parameters, skipping string literals, quoted
    /// identifiers, comments and PostgreSQL `::` casts.
    pub fn parse(sql: &str) -> Self {
        let chars: Vec<char> = sql.chars().collect();
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let next = chars.get(i + 1).copied();
            match c {
                '\'' | '"' | '`' => {
                    let end = closing_quote(&chars, i, c);
                    text.extend(&chars[i..end]);
                    i = end;
                }
                '-' if next == Some('-') => {
                    let end = chars[i..]
                        .iter()
                        .position(|&ch| ch == '\n')
                        .map_or(chars.len(), |p| i + p);
                    text.extend(&chars[i..end]);
                    i = end;
                }
                '/' if next == Some('*') => {
                    let end = (i + 2..chars.len().saturating_sub(1))
                        .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                        .map_or(chars.len(), |j| j + 2);
                    text.extend(&chars[i..end]);
                    i = end;
                }
                ':' if next == Some(':') => {
                    text.push_str("::");
                    i += 2;
                }
                ':' if next.is_some_and(|n| n.is_ascii_alphabetic() || n == '_') => {
                    let start = i + 1;
                    let end = (start..chars.len())
                        .find(|&j| !(chars[j].is_ascii_alphanumeric() || chars[j] == '_'))
                        .unwrap_or(chars.len());
                    if !text.is_empty() {
                        pieces.push(Piece::Sql(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Param(chars[start..end].iter().collect()));
                    i = end;
                }
                _ => {
                    text.push(c);
                    i += 1;
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Sql(text));
        }
        Self { pieces }
    }

    /// The parameter names used, in order of appearance (with repeats).
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Param(name) => Some(name.as_str()),
            Piece::Sql(_) => None,
        })
    }

    /// SQL in the dialect's placeholder syntax and the values to bind, in order.
    fn render(
        &self,
        dialect: Dialect,
        params: &[(&str, Param)],
    ) -> Result<(String, Vec<Bind>), DbError> {
        let mut sql = String::new();
        let mut binds = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Sql(text) => sql.push_str(text),
                Piece::Param(name) => {
                    let value = params
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v)
                        .ok_or_else(|| {
                            DbError::Config(format!("unknown query parameter :{name}"))
                        })?;
                    let values: Vec<Bind> = match value {
                        Param::Text(s) => vec![Bind::Text(s.clone())],
                        Param::Int(n) => vec![Bind::Int(*n)],
                        // An empty IN () is a syntax error; NULL matches nothing.
                        Param::TextList(list) if list.is_empty() => vec![Bind::Null],
                        Param::TextList(list) => list.iter().cloned().map(Bind::Text).collect(),
                    };
                    for (k, value) in values.into_iter().enumerate() {
                        if k > 0 {
                            sql.push_str(", ");
                        }
                        binds.push(value);
                        match dialect {
                            Dialect::Postgres => sql.push_str(&format!("${}", binds.len())),
                            Dialect::MySql | Dialect::Sqlite => sql.push('?'),
                        }
                    }
                }
            }
        }
        Ok((sql, binds))
    }
}

/// End index (exclusive) of a quoted run starting at `start`; a doubled
/// quote inside is an escaped quote.
fn closing_quote(chars: &[char], start: usize, quote: char) -> usize {
    let mut j = start + 1;
    while j < chars.len() {
        if chars[j] == quote {
            if chars.get(j + 1) == Some(&quote) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    chars.len()
}

#[derive(Debug)]
enum Bind {
    Null,
    Text(String),
    Int(i64),
}

/// Database failures, phrased for operators; never carries bound values.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Config(String),
    #[error("the database did not answer within {0:?}")]
    TimedOut(Duration),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("column '{column}' has a type the gateway cannot read ({type_name}); cast it to text, integer or boolean in the query")]
    UnsupportedType { column: String, type_name: String },
}

impl DbError {
    /// True when the database could not be reached or no connection was free
    /// in time, as opposed to a query that the database refused.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::TimedOut(_) => true,
            Self::Sqlx(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // Refused logins, unknown databases, servers shutting down and
            // SQLite files that cannot be opened mean "cannot use the
            // database", not "this query is wrong".
            Self::Sqlx(sqlx::Error::Database(err)) => err.code().is_some_and(|code| {
                code.starts_with("08")
                    || code.starts_with("28")
                    || code.starts_with("57P")
                    || code == "3D000"
                    // Statement cancelled by the timeout (PostgreSQL, MariaDB).
                    || code == "57014"
                    || code == "70100"
                    || code == "14"
            }),
            _ => false,
        }
    }
}

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
                        .max_connections(settings.max_connections)
                        .acquire_timeout(acquire)
                        .connect_lazy_with(options),
                )
            }
            Dialect::MySql => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                let options = MySqlConnectOptions::from_str(&url)?;
                Self::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(settings.max_connections)
                        .acquire_timeout(acquire)
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
        macro_rules! run {
            ($pool:expr, $decode:ident) => {{
                let mut query = sqlx::query(&sql);
                for bind in &binds {
                    query = match bind {
                        Bind::Null => query.bind(None::<String>),
                        Bind::Text(s) => query.bind(s.as_str()),
                        Bind::Int(n) => query.bind(*n),
                    };
                }
                let mut rows = query.fetch($pool);
                let mut records = Vec::new();
                while records.len() < max_rows {
                    match rows.try_next().await? {
                        Some(row) => records.push($decode(&row)?),
                        None => break,
                    }
                }
                Ok(records)
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

fn names<C: Column>(columns: &[C]) -> Vec<String> {
    columns.iter().map(|c| c.name().to_owned()).collect()
}

/// Tries each listed Rust type in turn until one fits the column, so that
/// legacy schemas with integer ids or tinyint flags read without casts.
macro_rules! decode_row {
    ($name:ident, $row:ty, [$($ty:ty => $wrap:expr),+ $(,)?]) => {
        fn $name(row: &$row) -> Result<Record, DbError> {
            let mut columns = Vec::with_capacity(row.columns().len());
            for column in row.columns() {
                let i = column.ordinal();
                let value = None
                    $(.or_else(|| row.try_get::<Option<$ty>, _>(i).ok().map(|v| v.map($wrap).unwrap_or(Value::Null))))+;
                let value = value.ok_or_else(|| DbError::UnsupportedType {
                    column: column.name().to_owned(),
                    type_name: sqlx::TypeInfo::name(column.type_info()).to_owned(),
                })?;
                columns.push((column.name().to_owned(), value));
            }
            Ok(Record { columns })
        }
    };
}

decode_row!(decode_pg, PgRow, [
    String => Value::Text,
    i64 => Value::Int,
    i32 => |v| Value::Int(v.into()),
    i16 => |v| Value::Int(v.into()),
    bool => Value::Bool,
]);

decode_row!(decode_mysql, MySqlRow, [
    String => Value::Text,
    i64 => Value::Int,
    bool => Value::Bool,
    i32 => |v| Value::Int(v.into()),
    i16 => |v| Value::Int(v.into()),
    i8 => |v| Value::Int(v.into()),
    u32 => |v| Value::Int(v.into()),
    u64 => |v| i64::try_from(v).map_or(Value::Null, Value::Int),
    Vec<u8> => |v| Value::Text(String::from_utf8_lossy(&v).into_owned()),
]);

decode_row!(decode_sqlite, SqliteRow, [
    String => Value::Text,
    i64 => Value::Int,
    bool => Value::Bool,
]);

#[cfg(test)]
mod tests {
    use super::*;

    fn render(sql: &str, dialect: Dialect, params: &[(&str, Param)]) -> String {
        Template::parse(sql)
            .render(dialect, params)
            .expect("renders")
            .0
    }

    #[test]
    fn named_parameters_become_numbered_placeholders_on_postgres() {
        let sql = render(
            "SELECT * FROM u WHERE a = :x OR b = :x LIMIT :n",
            Dialect::Postgres,
            &[("x", Param::Text("v".into())), ("n", Param::Int(3))],
        );
        assert_eq!(sql, "SELECT * FROM u WHERE a = $1 OR b = $2 LIMIT $3");
    }

    #[test]
    fn named_parameters_become_question_marks_on_mysql_and_sqlite() {
        for dialect in [Dialect::MySql, Dialect::Sqlite] {
            let sql = render("WHERE a = :x", dialect, &[("x", Param::Int(1))]);
            assert_eq!(sql, "WHERE a = ?");
        }
    }

    #[test]
    fn casts_literals_and_comments_are_not_parameters() {
        let sql =
            "SELECT id::text, ':no' AS \":nope\" -- :comment\n/* :block */ FROM t WHERE x = :yes";
        let template = Template::parse(sql);
        assert_eq!(template.param_names().collect::<Vec<_>>(), vec!["yes"]);
        let rendered = template
            .render(Dialect::Postgres, &[("yes", Param::Int(1))])
            .expect("renders")
            .0;
        assert_eq!(rendered, sql.replace(":yes", "$1"));
    }

    #[test]
    fn list_parameters_expand_to_one_placeholder_per_item() {
        let params = [(
            "ids",
            Param::TextList(vec!["a".into(), "b".into(), "c".into()]),
        )];
        assert_eq!(
            render("IN (:ids)", Dialect::Postgres, &params),
            "IN ($1, $2, $3)"
        );
        assert_eq!(render("IN (:ids)", Dialect::MySql, &params), "IN (?, ?, ?)");
    }

    #[test]
    fn an_empty_list_matches_nothing_instead_of_breaking_syntax() {
        let params = [("ids", Param::TextList(vec![]))];
        let (sql, binds) = Template::parse("IN (:ids)")
            .render(Dialect::Sqlite, &params)
            .expect("renders");
        assert_eq!(sql, "IN (?)");
        assert!(matches!(binds.as_slice(), [Bind::Null]));
    }

    #[test]
    fn an_unknown_parameter_is_an_error_naming_it() {
        let err = Template::parse("WHERE a = :mystery")
            .render(Dialect::Sqlite, &[])
            .expect_err("unknown parameter");
        assert!(err.to_string().contains(":mystery"));
    }

    #[test]
    fn dialect_follows_the_url_scheme() {
        assert_eq!(
            Dialect::from_url("postgresql://h/db").ok(),
            Some(Dialect::Postgres)
        );
        assert_eq!(
            Dialect::from_url("mariadb://h/db").ok(),
            Some(Dialect::MySql)
        );
        assert_eq!(
            Dialect::from_url("sqlite:///tmp/x.db").ok(),
            Some(Dialect::Sqlite)
        );
        assert!(Dialect::from_url("oracle://h/db").is_err());
    }
}
