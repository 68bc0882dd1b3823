//! Content digests of whole databases, read straight from the database.
//!
//! Every base table found in the catalog contributes its name, its column
//! names and types, and all of its rows. Each value is rendered as text by
//! the database itself (binary values as hex), rows are encoded without
//! ambiguity (length prefixes, explicit NULL marker) and sorted byte-wise in
//! Rust, so the result depends neither on physical row order nor on
//! collations, and tables need no primary key. All reads happen in one
//! read-only snapshot transaction.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use sqlx::{Connection, MySqlConnection, PgConnection, Row, SqliteConnection};

/// Columns of one table: (name, declared type), in table order.
type Columns = Vec<(String, String)>;
/// One row, each value as text/hex, `None` for SQL NULL.
type Values = Vec<Option<String>>;

#[derive(Default)]
struct Hasher {
    sha: Sha256,
}

impl Hasher {
    fn field(&mut self, bytes: &[u8]) {
        self.sha.update((bytes.len() as u64).to_le_bytes());
        self.sha.update(bytes);
    }

    fn table(&mut self, name: &str, columns: &Columns, rows: Vec<Values>) {
        self.field(b"table");
        self.field(name.as_bytes());
        self.field(&(columns.len() as u64).to_le_bytes());
        for (column, ty) in columns {
            self.field(column.as_bytes());
            self.field(ty.as_bytes());
        }
        let mut encoded: Vec<Vec<u8>> = rows.iter().map(encode_row).collect();
        encoded.sort_unstable();
        self.field(&(encoded.len() as u64).to_le_bytes());
        for row in &encoded {
            self.field(row);
        }
    }

    fn hex(self) -> String {
        self.sha
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn encode_row(row: &Values) -> Vec<u8> {
    let mut out = Vec::new();
    for value in row {
        match value {
            None => out.push(0),
            Some(text) => {
                out.push(1);
                out.extend_from_slice(&(text.len() as u64).to_le_bytes());
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
    out
}

fn values<R>(row: &R, width: usize) -> Result<Values, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..width)
        .map(|i| row.try_get::<Option<String>, _>(i))
        .collect()
}

/// Groups catalog rows (table, column, type) into ordered tables.
fn group(rows: Vec<(String, Option<String>, Option<String>)>) -> BTreeMap<String, Columns> {
    let mut tables: BTreeMap<String, Columns> = BTreeMap::new();
    for (table, column, ty) in rows {
        let columns = tables.entry(table).or_default();
        if let Some(column) = column {
            columns.push((column, ty.unwrap_or_default()));
        }
    }
    tables
}

// ---------------------------------------------------------------------------

pub(super) async fn postgres(url: &str) -> Result<String, sqlx::Error> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut conn)
        .await?;
    // Tables of every non-system schema, incl. partitioned parents; LEFT
    // JOIN keeps (legal in PostgreSQL) zero-column tables.
    let catalog: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text, a.attname::text,
                format_type(a.atttypid, a.atttypmod)
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attribute a
                  ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          WHERE c.relkind IN ('r', 'p')
            AND n.nspname <> 'information_schema'
            AND n.nspname NOT LIKE 'pg\\_%'
          ORDER BY 1, 2, a.attnum",
    )
    .fetch_all(&mut conn)
    .await?;
    let quote = |ident: &str| format!("\"{}\"", ident.replace('"', "\"\""));
    // Tables are keyed by their quoted, schema-qualified name: unambiguous,
    // and usable as is in the SELECT below.
    let catalog = catalog
        .into_iter()
        .map(|(schema, table, column, ty)| {
            let name = format!("{}.{}", quote(&schema), quote(&table));
            (name, column, ty)
        })
        .collect();

    let mut hasher = Hasher::default();
    for (name, columns) in group(catalog) {
        let select: Vec<String> = columns
            .iter()
            .map(|(column, _)| format!("{}::text", quote(column)))
            .collect();
        let sql = format!("SELECT {} FROM {name}", select.join(", "));
        let rows = sqlx::query(&sql).fetch_all(&mut conn).await?;
        let rows = rows
            .iter()
            .map(|r| values(r, columns.len()))
            .collect::<Result<_, _>>()?;
        hasher.table(&name, &columns, rows);
    }
    sqlx::raw_sql("ROLLBACK").execute(&mut conn).await?;
    conn.close().await?;
    Ok(hasher.hex())
}

pub(super) async fn mysql(url: &str) -> Result<String, sqlx::Error> {
    let mut conn = MySqlConnection::connect(url).await?;
    sqlx::raw_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        .execute(&mut conn)
        .await?;
    let catalog: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(c.table_name AS CHAR), CAST(c.column_name AS CHAR),
                CAST(c.column_type AS CHAR), CAST(c.data_type AS CHAR)
           FROM information_schema.columns c
           JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name
          WHERE t.table_schema = DATABASE()
            AND t.table_type IN ('BASE TABLE', 'SYSTEM VERSIONED')
          ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut data_types = BTreeMap::new();
    let catalog = catalog
        .into_iter()
        .map(|(table, column, column_type, data_type)| {
            data_types.insert(
                (table.clone(), column.clone()),
                data_type.to_ascii_lowercase(),
            );
            (table, Some(column), Some(column_type))
        })
        .collect();

    let quote = |ident: &str| format!("`{}`", ident.replace('`', "``"));
    let mut hasher = Hasher::default();
    for (table, columns) in group(catalog) {
        let select: Vec<String> = columns
            .iter()
            .map(|(column, _)| {
                let binary = matches!(
                    data_types[&(table.clone(), column.clone())].as_str(),
                    "binary"
                        | "varbinary"
                        | "tinyblob"
                        | "blob"
                        | "mediumblob"
                        | "longblob"
                        | "bit"
                        | "geometry"
                        | "point"
                        | "linestring"
                        | "polygon"
                        | "multipoint"
                        | "multilinestring"
                        | "multipolygon"
                        | "geometrycollection"
                );
                if binary {
                    format!("HEX({})", quote(column))
                } else {
                    // Converted to the connection charset (utf8mb4).
                    format!("CAST({} AS CHAR)", quote(column))
                }
            })
            .collect();
        let sql = format!("SELECT {} FROM {}", select.join(", "), quote(&table));
        let rows = sqlx::query(&sql).fetch_all(&mut conn).await?;
        let rows = rows
            .iter()
            .map(|r| values(r, columns.len()))
            .collect::<Result<_, _>>()?;
        hasher.table(&table, &columns, rows);
    }
    sqlx::raw_sql("ROLLBACK").execute(&mut conn).await?;
    conn.close().await?;
    Ok(hasher.hex())
}

pub(super) async fn sqlite(url: &str) -> Result<String, sqlx::Error> {
    let mut conn = SqliteConnection::connect(url).await?;
    // A deferred transaction takes its read snapshot at the first SELECT.
    sqlx::raw_sql("BEGIN").execute(&mut conn).await?;
    let catalog: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT m.name, p.name, p.type
           FROM sqlite_master m
           LEFT JOIN pragma_table_info(m.name) p
          WHERE m.type = 'table'
          ORDER BY m.name, p.cid",
    )
    .fetch_all(&mut conn)
    .await?;

    let quote = |ident: &str| format!("\"{}\"", ident.replace('"', "\"\""));
    let mut hasher = Hasher::default();
    for (table, columns) in group(catalog) {
        // quote() renders a value as an SQL literal, which keeps the storage
        // class visible (1 vs '1' vs X'01') and NULL as NULL.
        let select: Vec<String> = columns
            .iter()
            .map(|(column, _)| format!("quote({})", quote(column)))
            .collect();
        let sql = format!("SELECT {} FROM {}", select.join(", "), quote(&table));
        let rows = sqlx::query(&sql).fetch_all(&mut conn).await?;
        let rows = rows
            .iter()
            .map(|r| values(r, columns.len()))
            .collect::<Result<_, _>>()?;
        hasher.table(&table, &columns, rows);
    }
    sqlx::raw_sql("ROLLBACK").execute(&mut conn).await?;
    conn.close().await?;
    Ok(hasher.hex())
}
