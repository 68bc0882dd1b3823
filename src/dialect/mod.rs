//! Everything that differs between PostgreSQL, MariaDB/MySQL and SQLite, in
//! one seam: `:name` templates rendered to each placeholder syntax
//! ([`Template`]), read-only pools ([`Pool`]), rows decoded into [`Record`]s.

/// `sqlx::query(sql)` with each [`template::Bind`] bound in order.
macro_rules! bound {
    ($sql:expr, $binds:expr) => {{
        let mut query = sqlx::query($sql);
        for bind in $binds {
            query = match bind {
                Bind::Null => query.bind(None::<String>),
                Bind::Text(s) => query.bind(s.as_str()),
                Bind::Int(n) => query.bind(*n),
            };
        }
        query
    }};
}

/// The first `$max` rows of the stream `$rows`, decoded with `$decode`;
/// later rows are never read.
macro_rules! collect {
    ($rows:expr, $decode:ident, $max:expr) => {{
        let mut rows = $rows;
        let mut records = Vec::new();
        while records.len() < $max {
            match rows.try_next().await? {
                Some(row) => records.push($decode(&row)?),
                None => break,
            }
        }
        records
    }};
}

mod decode;
mod explain;
mod pool;
mod template;

use std::time::Duration;

pub use self::decode::Record;
pub use self::explain::FullScan;
pub use self::pool::{Access, Pool};
pub use self::template::Template;

/// The SQL dialect of the configured database, chosen by the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

impl Dialect {
    /// Every dialect.
    pub const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

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

    /// `column = :param`, ignoring case, in the form the reference schema's
    /// indexes serve (`migrations/<dialect>/0001_reference_schema.sql`):
    /// PostgreSQL compares `lower()` against an expression index; MariaDB and
    /// MySQL compare plainly, because their default collations ignore case
    /// already and an index on `lower(column)` is not possible in MariaDB;
    /// SQLite compares under `NOCASE`, the collation of its indexes.
    pub fn equals_ignoring_case(self, column: &str, param: &str) -> String {
        match self {
            Self::Postgres => format!("lower({column}) = lower(:{param})"),
            Self::MySql => format!("{column} = :{param}"),
            Self::Sqlite => format!("{column} = :{param} COLLATE NOCASE"),
        }
    }

    /// `column LIKE :param ESCAPE '!'` for a lower-case pattern, ignoring the
    /// column's case, in the form the reference schema's indexes serve for
    /// a prefix pattern. PostgreSQL matches `lower(column)` (expression index
    /// with `text_pattern_ops`); MariaDB/MySQL match the column under its
    /// case-insensitive collation; SQLite's LIKE ignores ASCII case by itself
    /// and uses an index only on the bare column, declared `COLLATE NOCASE`.
    pub fn like_ignoring_case(self, column: &str, param: &str) -> String {
        match self {
            Self::Postgres => format!("lower({column}) LIKE :{param} ESCAPE '!'"),
            Self::MySql | Self::Sqlite => format!("{column} LIKE :{param} ESCAPE '!'"),
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

    /// `migrations/<dialect>/0001_reference_schema.sql`.
    pub fn reference_schema(self) -> &'static str {
        match self {
            Self::Postgres => include_str!("../../migrations/postgres/0001_reference_schema.sql"),
            Self::MySql => include_str!("../../migrations/mysql/0001_reference_schema.sql"),
            Self::Sqlite => include_str!("../../migrations/sqlite/0001_reference_schema.sql"),
        }
    }

    /// The index of the reference schema that serves the default queries'
    /// comparisons of `column` of `users` (`None` for `id`: the primary key).
    pub fn reference_index(self, column: &str) -> Option<String> {
        match (self, column) {
            (_, "id") => None,
            (Self::Postgres, column) => Some(format!("users_{column}_lower")),
            (Self::MySql, "username") => Some("users_username_id".to_owned()),
            (Self::MySql, column) => Some(format!("users_{column}")),
            (Self::Sqlite, column) => Some(format!("users_{column}_nocase")),
        }
    }

    /// The reference schema's `CREATE INDEX` statement for the index `name`.
    pub fn reference_index_sql(self, name: &str) -> Option<&'static str> {
        let start = format!("CREATE INDEX {name} ON ");
        self.reference_schema()
            .lines()
            .map(str::trim)
            .find(|line| line.starts_with(&start))
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

#[cfg(test)]
mod tests {
    use super::*;

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
