//! Whether a statement reads a whole table: each database's plan (`EXPLAIN`,
//! SQLite's `EXPLAIN QUERY PLAN`), asked so that any usable index is chosen,
//! and the scanned table's estimated size.
//!
//! A planner rightly prefers a full scan of a small table to an index, so a
//! plain `EXPLAIN` on a staging database with a hundred users would hide the
//! very index that a million users need. The plan is therefore asked with
//! full scans priced out where the database allows it: PostgreSQL with
//! `enable_seqscan = off` in a read-only transaction that is rolled back,
//! MariaDB/MySQL with `max_seeks_for_key = 1` on a connection that is closed
//! afterwards. SQLite without `ANALYZE` statistics already prefers indexes.
//! A full scan that remains then means that no index can serve the statement.

use futures_util::TryStreamExt;
use sqlx::Executor;

use super::decode::{decode_mysql, decode_pg, decode_sqlite};
use super::template::Bind;
use super::{DbError, Param, Pool, Record, Template, Value};

/// One step of a plan that reads every row of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullScan {
    /// The table as the statement names it (an alias resolved).
    pub table: String,
    /// The database's estimate of the table's rows, `None` when it cannot
    /// tell (a view, say).
    pub estimated_rows: Option<i64>,
    /// True when the table holds at least `estimated_rows` rows: counted up
    /// to [`COUNT_CAP`] because the database has no estimate yet.
    pub at_least: bool,
}

/// The most rows counted for a table without an estimate (a PostgreSQL
/// table before its first `ANALYZE`).
pub const COUNT_CAP: i64 = 100_000;

/// The indexes of a table of the current MariaDB/MySQL database.
const MYSQL_INDEXES: &str =
    "SELECT DISTINCT CAST(index_name AS CHAR) FROM information_schema.statistics \
     WHERE table_schema = DATABASE() AND table_name = ?";

/// The most plan lines read; a plan is a few lines per table.
const MAX_PLAN_LINES: usize = 1000;

impl Pool {
    /// The steps of the plan of `template` with `params` that read a whole
    /// table, with full scans priced out (see the module documentation).
    /// `filtered` says that the statement filters rows (a lookup or search,
    /// not a page of everyone): then an index walked from end to end counts
    /// as a full read too, where the plan does not show the filter itself.
    /// Nothing is executed but the `EXPLAIN` itself and catalogue reads.
    pub async fn full_scans(
        &self,
        template: &Template,
        params: &[(&str, Param)],
        filtered: bool,
    ) -> Result<Vec<FullScan>, DbError> {
        let (sql, binds) = template.render(self.dialect(), params)?;
        match self {
            Self::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                tx.execute("SET LOCAL enable_seqscan = off").await?;
                let explain = format!("EXPLAIN {sql}");
                let lines = collect!(
                    bound!(&explain, &binds).fetch(&mut *tx),
                    decode_pg,
                    MAX_PLAN_LINES
                );
                let mut scans = Vec::new();
                for table in postgres_full_reads(&lines) {
                    let estimate = sqlx::query_scalar::<_, f32>(
                        "SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)",
                    )
                    .bind(&table)
                    .fetch_optional(&mut *tx)
                    .await?;
                    // reltuples is -1 until the table is first analyzed.
                    let (estimated_rows, at_least) = match estimate {
                        Some(n) if n >= 0.0 => (Some(n.round() as i64), false),
                        Some(_) => {
                            let counted: i64 = sqlx::query_scalar(&format!(
                                "SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT {COUNT_CAP}) AS sample"
                            ))
                            .fetch_one(&mut *tx)
                            .await?;
                            (Some(counted), counted == COUNT_CAP)
                        }
                        None => (None, false),
                    };
                    scans.push(FullScan {
                        table,
                        estimated_rows,
                        at_least,
                    });
                }
                tx.rollback().await?;
                Ok(scans)
            }
            Self::MySql(pool) => {
                let mut conn = pool.acquire().await?;
                // The setting must not stay with a pooled connection.
                conn.close_on_drop();
                conn.execute("SET SESSION max_seeks_for_key = 1").await?;
                let explain = format!("EXPLAIN {sql}");
                let rows = collect!(
                    bound!(&explain, &binds).fetch(&mut *conn),
                    decode_mysql,
                    MAX_PLAN_LINES
                );
                let mut scans = Vec::new();
                // Derived tables (<derived2>) are the statement's own subqueries.
                for alias in mysql_scans(&rows).filter(|alias| !alias.starts_with('<')) {
                    let table = table_of_alias(&sql, &alias);
                    // MariaDB picks a scan over an index for a small table
                    // whatever the session says; forced to use the table's
                    // indexes, it scans only when none of them can serve.
                    let indexes: Vec<String> = sqlx::query_scalar(MYSQL_INDEXES)
                        .bind(&table)
                        .fetch_all(&mut *conn)
                        .await?;
                    if !indexes.is_empty() {
                        let forced = format!("EXPLAIN {}", force_indexes(&sql, &table, &indexes));
                        let rows = collect!(
                            bound!(&forced, &binds).fetch(&mut *conn),
                            decode_mysql,
                            MAX_PLAN_LINES
                        );
                        if !mysql_scans(&rows).any(|scanned| scanned == alias) {
                            continue;
                        }
                    }
                    scans.push(FullScan {
                        table,
                        estimated_rows: int(rows_of(&rows, &alias)),
                        at_least: false,
                    });
                }
                Ok(scans)
            }
            Self::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                let explain = format!("EXPLAIN QUERY PLAN {sql}");
                let rows = collect!(
                    bound!(&explain, &binds).fetch(&mut *conn),
                    decode_sqlite,
                    MAX_PLAN_LINES
                );
                let mut scans = Vec::new();
                for alias in rows.iter().filter_map(|row| sqlite_scan(row, filtered)) {
                    let table = table_of_alias(&sql, &alias);
                    // A subquery's result, scanned by name, is no table.
                    let is_table: bool = sqlx::query_scalar(
                        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    )
                    .bind(&table)
                    .fetch_one(&mut *conn)
                    .await?;
                    if !is_table {
                        continue;
                    }
                    // O(log n), where count(*) would read the table it warns about.
                    let estimate = sqlx::query_scalar::<_, Option<i64>>(&format!(
                        "SELECT max(rowid) FROM {}",
                        quote_sqlite(&table)
                    ))
                    .fetch_one(&mut *conn)
                    .await
                    // None: the table is empty; an error: a view or a
                    // table without rowid, of unknown size.
                    .map(|max| max.unwrap_or(0))
                    .ok();
                    scans.push(FullScan {
                        table,
                        estimated_rows: estimate,
                        at_least: false,
                    });
                }
                Ok(scans)
            }
        }
    }

    /// The names of the indexes the database has on `table` (lower case).
    pub async fn index_names(&self, table: &str) -> Result<Vec<String>, DbError> {
        let names: Vec<String> =
            match self {
                Self::Postgres(pool) => {
                    sqlx::query_scalar(
                        "SELECT indexrelid::regclass::text FROM pg_index \
                     WHERE indrelid = to_regclass($1)",
                    )
                    .bind(table)
                    .fetch_all(pool)
                    .await?
                }
                Self::MySql(pool) => sqlx::query_scalar(
                    "SELECT DISTINCT CAST(index_name AS CHAR) FROM information_schema.statistics \
                     WHERE table_schema = DATABASE() AND table_name = ?",
                )
                .bind(table)
                .fetch_all(pool)
                .await?,
                Self::Sqlite(pool) => {
                    sqlx::query_scalar("SELECT name FROM pragma_index_list(?)")
                        .bind(table)
                        .fetch_all(pool)
                        .await?
                }
            };
        Ok(names.into_iter().map(|n| n.to_lowercase()).collect())
    }
}

fn text(row: &Record, column: &str) -> Option<String> {
    match row.get(column) {
        Some(Value::Text(s)) => Some(s.clone()),
        _ => None,
    }
}

fn int(value: Option<&Value>) -> Option<i64> {
    match value {
        Some(Value::Int(n)) => Some(*n),
        Some(Value::Text(s)) => s.parse().ok(),
        _ => None,
    }
}

/// The aliases MariaDB's plan reads in full: `type` ALL, or `index` (the
/// whole index walked) with a filter (`Using where`).
fn mysql_scans(rows: &[Record]) -> impl Iterator<Item = String> + '_ {
    rows.iter()
        .filter(|row| match text(row, "type").as_deref() {
            Some("ALL") => true,
            Some("index") => text(row, "Extra").is_some_and(|extra| extra.contains("Using where")),
            _ => false,
        })
        .filter_map(|row| text(row, "table"))
}

/// MariaDB's `rows` estimate of the full scan of `alias`: for a scan, the
/// table's size.
fn rows_of<'a>(rows: &'a [Record], alias: &str) -> Option<&'a Value> {
    rows.iter()
        .find(|row| text(row, "table").as_deref() == Some(alias))
        .and_then(|row| row.get("rows"))
}

/// Relations PostgreSQL's text plan reads in full: a `Seq Scan`, or an
/// index walked from end to end with a `Filter` (no `Index Cond`), which
/// stops early only when enough rows happen to match.
fn postgres_full_reads(lines: &[Record]) -> Vec<String> {
    struct Node {
        table: String,
        walk: bool,
        bounded: bool,
        filtered: bool,
    }
    fn node(header: &str) -> Option<Node> {
        let (kind, rest) = header
            .split_once("Seq Scan on ")
            .map(|(_, rest)| (false, rest))
            .or_else(|| {
                header
                    .contains("Index Scan")
                    .then(|| header.split_once(" on "))
                    .flatten()
                    .map(|(_, rest)| (true, rest))
            })?;
        Some(Node {
            table: rest.split_whitespace().next()?.to_owned(),
            walk: kind,
            bounded: false,
            filtered: false,
        })
    }
    let mut nodes: Vec<Node> = Vec::new();
    let mut current: Option<Node> = None;
    for (i, line) in lines
        .iter()
        .filter_map(|row| text(row, "QUERY PLAN"))
        .enumerate()
    {
        let trimmed = line.trim_start();
        if i == 0 || trimmed.starts_with("->") {
            nodes.extend(current.take());
            current = node(trimmed.trim_start_matches("->").trim_start());
        } else if let Some(node) = current.as_mut() {
            node.bounded |= trimmed.starts_with("Index Cond:");
            node.filtered |= trimmed.starts_with("Filter:");
        }
    }
    nodes.extend(current);
    let mut tables: Vec<String> = Vec::new();
    for node in nodes {
        let full = if node.walk {
            !node.bounded && node.filtered
        } else {
            true
        };
        if full && !tables.contains(&node.table) {
            tables.push(node.table);
        }
    }
    tables
}

/// The alias of a table SQLite reads in full: `SCAN users` or `SCAN u`;
/// with `filtered`, also an index walked from end to end
/// (`SCAN u USING INDEX ...`), since a filter may have to look at every row.
/// Not a subquery nor a temporary b-tree.
fn sqlite_scan(row: &Record, filtered: bool) -> Option<String> {
    let detail = text(row, "detail")?;
    let rest = detail.trim().strip_prefix("SCAN ")?;
    let mut words = rest.split_whitespace();
    let alias = words.next()?;
    let plain = words.next().is_none();
    ((plain || filtered) && !alias.starts_with('(') && alias != "CONSTANT")
        .then(|| alias.to_owned())
}

fn quote_sqlite(table: &str) -> String {
    format!("\"{}\"", table.replace('"', "\"\""))
}

/// A table named after `FROM` or `JOIN`, its alias, and the byte offset
/// just after both (where MariaDB takes an index hint).
#[derive(Debug, PartialEq, Eq)]
struct TableRef {
    table: String,
    alias: Option<String>,
    end: usize,
}

/// Words that follow a table where an alias could stand.
const NOT_ALIASES: [&str; 19] = [
    "where", "join", "on", "left", "right", "inner", "outer", "full", "cross", "natural", "order",
    "group", "limit", "union", "having", "using", "offset", "window", "force",
];

/// The words of `sql` with their byte ranges; quoted strings are skipped,
/// identifiers keep their quotes.
fn words(sql: &str) -> Vec<(usize, usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    let mut in_string = false;
    for (i, c) in sql.char_indices() {
        if in_string {
            in_string = c != '\'';
            continue;
        }
        let part_of_word = c.is_alphanumeric() || matches!(c, '_' | '$' | '.' | '`' | '"');
        match (part_of_word, start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                words.push((from, i, &sql[from..i]));
                start = None;
            }
            _ => {}
        }
        in_string = c == '\'';
    }
    if let Some(from) = start {
        words.push((from, sql.len(), &sql[from..]));
    }
    words
}

/// Every table of `sql` named after `FROM` or `JOIN` (not subqueries).
fn table_refs(sql: &str) -> Vec<TableRef> {
    let words = words(sql);
    let unquote = |t: &str| t.replace(['"', '`'], "");
    let mut refs = Vec::new();
    for (i, (_, _, word)) in words.iter().enumerate() {
        if !(word.eq_ignore_ascii_case("from") || word.eq_ignore_ascii_case("join")) {
            continue;
        }
        // A subquery's "(" is not a word: the next word must follow at once.
        let Some(&(start, end, table)) = words.get(i + 1) else {
            continue;
        };
        if sql[words[i].1..start].contains('(') {
            continue;
        }
        let mut next = i + 2;
        if words
            .get(next)
            .is_some_and(|(_, _, w)| w.eq_ignore_ascii_case("as"))
        {
            next += 1;
        }
        let alias = words.get(next).filter(|(from, _, w)| {
            let between = sql[end..*from].trim();
            (between.is_empty() || between.eq_ignore_ascii_case("as"))
                && !NOT_ALIASES.iter().any(|k| w.eq_ignore_ascii_case(k))
        });
        refs.push(TableRef {
            table: unquote(table),
            alias: alias.map(|(_, _, w)| unquote(w)),
            end: alias.map_or(end, |(_, alias_end, _)| *alias_end),
        });
    }
    refs
}

/// The table that `alias` stands for in `sql` (`FROM users u`,
/// `JOIN users AS u`), or `alias` itself when it is a table name.
pub(crate) fn table_of_alias(sql: &str, alias: &str) -> String {
    table_refs(sql)
        .into_iter()
        .find(|r| r.alias.as_deref() == Some(alias))
        .map_or_else(|| alias.to_owned(), |r| r.table)
}

/// `sql` with MariaDB's index hints after every reference to `table`: rows
/// found through one of `indexes` wherever one can serve (a scan only when
/// none can), and none of them walked merely for the `ORDER BY`, which
/// would hide a filter that no index serves.
fn force_indexes(sql: &str, table: &str, indexes: &[String]) -> String {
    let list = indexes
        .iter()
        .map(|name| format!("`{}`", name.replace('`', "``")))
        .collect::<Vec<_>>()
        .join(", ");
    let hint = format!(" FORCE INDEX FOR JOIN ({list}) IGNORE INDEX FOR ORDER BY ({list})");
    let mut out = sql.to_owned();
    for r in table_refs(sql).iter().rev() {
        if r.table.eq_ignore_ascii_case(table) {
            out.insert_str(r.end, &hint);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{force_indexes, table_of_alias};

    #[test]
    fn force_indexes_follows_each_reference_to_the_table() {
        let sql = "SELECT u.id FROM (SELECT id FROM users WHERE a = 'from x' ORDER BY username \
                   LIMIT ?) page JOIN users AS u ON u.id = page.id";
        let names = ["users_username_id".to_owned(), "PRIMARY".to_owned()];
        let hint = "FORCE INDEX FOR JOIN (`users_username_id`, `PRIMARY`) \
                    IGNORE INDEX FOR ORDER BY (`users_username_id`, `PRIMARY`)";
        assert_eq!(
            force_indexes(sql, "users", &names),
            format!(
                "SELECT u.id FROM (SELECT id FROM users {hint} WHERE a = 'from x' \
                 ORDER BY username LIMIT ?) page JOIN users AS u {hint} ON u.id = page.id"
            )
        );
        assert_eq!(
            force_indexes("SELECT 1 FROM roles WHERE id = ?", "users", &names),
            "SELECT 1 FROM roles WHERE id = ?"
        );
    }

    #[test]
    fn table_of_alias_resolves_from_and_join_aliases() {
        let sql = "SELECT u.id FROM (SELECT id FROM users ORDER BY username, id LIMIT 2) AS page \
                   JOIN users u ON u.id = page.id";
        assert_eq!(table_of_alias(sql, "u"), "users");
        assert_eq!(table_of_alias(sql, "users"), "users");
        assert_eq!(
            table_of_alias(sql, "page"),
            "page",
            "a subquery is no table"
        );
        assert_eq!(
            table_of_alias("SELECT * FROM `legacy`.`accounts` AS a WHERE a.x = 1", "a"),
            "legacy.accounts"
        );
        assert_eq!(
            table_of_alias("SELECT * FROM accounts WHERE login = ?", "accounts"),
            "accounts"
        );
    }
}
