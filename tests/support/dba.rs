//! A DBA's own session on a test database: writes outside the gateway, with
//! transactions that stay open across awaits (for commit-order tests).

use sqlx::{Connection, Executor, MySqlConnection, PgConnection, SqliteConnection};

use super::{TestDb, Vendor};

pub enum Session {
    Postgres(PgConnection),
    MariaDb(MySqlConnection),
    Sqlite(SqliteConnection),
}

impl Session {
    /// A writable connection with the harness's full-privilege account.
    pub async fn open(db: &TestDb) -> Session {
        let url = db.url();
        let opened = match db.vendor() {
            Vendor::Postgres => PgConnection::connect(url).await.map(Session::Postgres),
            Vendor::MariaDb => MySqlConnection::connect(url).await.map(Session::MariaDb),
            Vendor::Sqlite => SqliteConnection::connect(url).await.map(Session::Sqlite),
        };
        opened.unwrap_or_else(|e| panic!("{:?}: DBA session on {url}: {e}", db.vendor()))
    }

    /// Runs statements (no parameters) on this session; `BEGIN` without
    /// `COMMIT` leaves the transaction open for a later call.
    pub async fn run(&mut self, sql: &str) {
        let result = match self {
            Session::Postgres(c) => c.execute(sqlx::raw_sql(sql)).await.map(drop),
            Session::MariaDb(c) => c.execute(sqlx::raw_sql(sql)).await.map(drop),
            Session::Sqlite(c) => c.execute(sqlx::raw_sql(sql)).await.map(drop),
        };
        result.unwrap_or_else(|e| panic!("DBA session: {sql}: {e}"));
    }
}
