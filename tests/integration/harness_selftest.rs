//! Tests of the test-database harness itself (tests/support).

use crate::support::{TestDb, Vendor};
use sqlx::{Connection, MySqlConnection, PgConnection, SqliteConnection};

on_every_vendor!(
    starts_and_applies_migrations,
    checksum_tracks_writes_only,
    checksum_of_empty_database,
    test_dbs_are_isolated,
    dropping_removes_the_database,
);

const DEMO: &str = include_str!("../../migrations/seed/demo.sql");

/// Runs one query returning a single integer, on a connection of our own.
async fn scalar(db: &TestDb, sql: &str) -> i64 {
    let url = db.url();
    let result = match db.vendor() {
        Vendor::Postgres => {
            let mut c = PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await
        }
        Vendor::MariaDb => {
            let mut c = MySqlConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await
        }
        Vendor::Sqlite => {
            let mut c = SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut c).await
        }
    };
    result.unwrap_or_else(|e| panic!("{:?}: {sql}: {e}", db.vendor()))
}

async fn starts_and_applies_migrations(vendor: Vendor) {
    let db = TestDb::with_schema(vendor).await;
    assert_eq!(db.vendor(), vendor);
    let scheme = match vendor {
        Vendor::Postgres => "postgres://",
        Vendor::MariaDb => "mysql://",
        Vendor::Sqlite => "sqlite:///",
    };
    assert!(db.url().starts_with(scheme), "{}", db.url());
    if vendor != Vendor::Sqlite {
        assert!(db.url().contains("@127.0.0.1:"), "{}", db.url());
    }
    for table in [
        "users",
        "realm_roles",
        "users_to_realm_roles",
        "client_roles",
        "users_to_client_roles",
    ] {
        assert_eq!(
            scalar(&db, &format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    db.run_script(DEMO).await;
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM users").await, 4);
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM users_to_client_roles").await,
        4
    );
}

async fn checksum_tracks_writes_only(vendor: Vendor) {
    let db = TestDb::with_schema(vendor).await;
    db.run_script(DEMO).await;
    let original = db.checksum().await;
    assert_eq!(original.len(), 64, "sha-256 hex: {original}");
    assert_eq!(db.checksum().await, original, "checksum is not stable");

    // Reading does not change it.
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM users WHERE username = 'jdoe'").await,
        1
    );
    assert_eq!(db.checksum().await, original, "a read changed the checksum");

    // Any insert, update or delete does.
    db.run_script("INSERT INTO realm_roles (id, role) VALUES ('r9', 'extra')")
        .await;
    let inserted = db.checksum().await;
    assert_ne!(inserted, original, "insert not detected");
    db.run_script("UPDATE users SET firstname = '' WHERE id = '4'")
        .await;
    assert_ne!(db.checksum().await, inserted, "update not detected");
    db.run_script("UPDATE users SET firstname = NULL WHERE id = '4'")
        .await;
    let nulled = db.checksum().await;
    db.run_script("UPDATE users SET firstname = '' WHERE id = '4'")
        .await;
    assert_ne!(db.checksum().await, nulled, "NULL and '' must differ");

    // Content-based: undoing the changes restores the original digest.
    db.run_script(
        "UPDATE users SET firstname = 'Nora' WHERE id = '4';
         DELETE FROM realm_roles WHERE id = 'r9';",
    )
    .await;
    assert_eq!(
        db.checksum().await,
        original,
        "same content, different checksum"
    );

    // Tables come from the catalog: a new, empty table counts too.
    db.run_script("CREATE TABLE audit_log (id INTEGER PRIMARY KEY, note VARCHAR(20))")
        .await;
    let with_table = db.checksum().await;
    assert_ne!(with_table, original, "new table not detected");
    db.run_script("INSERT INTO audit_log (id, note) VALUES (1, NULL)")
        .await;
    assert_ne!(
        db.checksum().await,
        with_table,
        "row in new table not detected"
    );
}

async fn checksum_of_empty_database(vendor: Vendor) {
    let a = TestDb::new(vendor).await;
    let b = TestDb::new(vendor).await;
    assert_eq!(a.checksum().await, b.checksum().await);
}

async fn test_dbs_are_isolated(vendor: Vendor) {
    let a = TestDb::with_schema(vendor).await;
    let b = TestDb::with_schema(vendor).await;
    assert_ne!(a.url(), b.url());
    let empty = b.checksum().await;
    assert_eq!(
        a.checksum().await,
        empty,
        "same schema, no rows: same digest"
    );
    a.run_script(DEMO).await;
    assert_eq!(scalar(&a, "SELECT COUNT(*) FROM users").await, 4);
    assert_eq!(scalar(&b, "SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(
        b.checksum().await,
        empty,
        "writing to one TestDb changed another"
    );
}

mod failing {
    use super::failing_script_panics;
    on_every_vendor!({ #[should_panic(expected = "script failed")] }; failing_script_panics);
}
async fn failing_script_panics(vendor: Vendor) {
    let db = TestDb::with_schema(vendor).await;
    // The error is in the second statement: it must not be swallowed.
    db.run_script(
        "INSERT INTO realm_roles (id, role) VALUES ('r1', 'a');
         INSERT INTO no_such_table (id) VALUES ('x');",
    )
    .await;
}

/// The URL's account can create accounts, and passwords are really checked.
#[tokio::test]
async fn postgres_accounts_are_real() {
    let db = TestDb::with_schema(Vendor::Postgres).await;
    let role = format!("reader_{}", db.name());
    db.run_script(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'secret';
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};"
    ))
    .await;
    let url_for = |password: &str| {
        let rest = db.url().split_once('@').unwrap().1;
        format!("postgres://{role}:{password}@{rest}")
    };
    let mut reader = PgConnection::connect(&url_for("secret"))
        .await
        .expect("reader login");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut reader)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let denied = sqlx::query("INSERT INTO realm_roles (id, role) VALUES ('x', 'y')")
        .execute(&mut reader)
        .await;
    assert!(denied.is_err(), "a SELECT-only role could insert");
    assert!(
        PgConnection::connect(&url_for("wrong")).await.is_err(),
        "wrong password accepted"
    );
}

#[tokio::test]
async fn mariadb_accounts_are_real() {
    let db = TestDb::with_schema(Vendor::MariaDb).await;
    let user = format!("reader_{}", db.name());
    db.run_script(&format!(
        "CREATE USER '{user}'@'%' IDENTIFIED BY 'secret';
         GRANT SELECT ON `{}`.* TO '{user}'@'%';",
        db.name()
    ))
    .await;
    let url_for = |password: &str| {
        let rest = db.url().split_once('@').unwrap().1;
        format!("mysql://{user}:{password}@{rest}")
    };
    let mut reader = MySqlConnection::connect(&url_for("secret"))
        .await
        .expect("reader login");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut reader)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let denied = sqlx::query("INSERT INTO realm_roles (id, role) VALUES ('x', 'y')")
        .execute(&mut reader)
        .await;
    assert!(denied.is_err(), "a SELECT-only account could insert");
    assert!(
        MySqlConnection::connect(&url_for("wrong")).await.is_err(),
        "wrong password accepted"
    );
}

async fn dropping_removes_the_database(vendor: Vendor) {
    let witness = TestDb::new(vendor).await;
    let db = TestDb::with_schema(vendor).await;
    let (name, url) = (db.name().to_string(), db.url().to_string());
    // A session left inside a transaction (holding locks on the tables) must
    // not block the drop.
    let busy = "BEGIN; SELECT COUNT(*) FROM users;";
    let _pg;
    let _my;
    match vendor {
        Vendor::Postgres => {
            let mut c = PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(busy).execute(&mut c).await.unwrap();
            _pg = Some(c);
        }
        Vendor::MariaDb => {
            let mut c = MySqlConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(busy).execute(&mut c).await.unwrap();
            _my = Some(c);
        }
        Vendor::Sqlite => {}
    }
    drop(db);
    let exists = match vendor {
        Vendor::Postgres => {
            let sql = format!("SELECT COUNT(*) FROM pg_database WHERE datname = '{name}'");
            scalar(&witness, &sql).await != 0
        }
        Vendor::MariaDb => {
            let sql = format!(
                "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '{name}'"
            );
            scalar(&witness, &sql).await != 0
        }
        Vendor::Sqlite => std::path::Path::new(url.trim_start_matches("sqlite://")).exists(),
    };
    assert!(!exists, "{name} still exists after drop");
}
