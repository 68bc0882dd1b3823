//! The plans of the lookups and searches: which of them read a whole table,
//! and, for the default queries, the reference schema's `CREATE INDEX` that
//! a DBA can run so that they do not. The gateway itself never runs it.

use std::collections::BTreeMap;

use crate::dialect::{DbError, Dialect, FullScan, Param};
use crate::store::{QueryName, Store};

/// One request shape whose plan is looked at.
#[derive(Debug, Clone, Copy)]
struct Probe {
    query: QueryName,
    /// What Keycloak asks, in words.
    shape: &'static str,
    /// Keycloak's search text for searches and counts.
    search: Option<&'static str>,
    /// The columns of `users` whose indexes serve the default query.
    columns: &'static [&'static str],
}

/// The columns every default search compares.
const SEARCHED: &[&str] = &["username", "email", "firstname", "lastname"];

/// Every lookup and search a login or the admin console makes. Counting
/// everyone is left out: it reads every row (or a whole index) by nature.
const PROBES: [Probe; 7] = [
    Probe {
        query: QueryName::UserById,
        shape: "lookup by id",
        search: None,
        columns: &["id"],
    },
    Probe {
        query: QueryName::UserByUsername,
        shape: "lookup by username",
        search: None,
        columns: &["username"],
    },
    Probe {
        query: QueryName::UserByEmail,
        shape: "lookup by email",
        search: None,
        columns: &["email"],
    },
    Probe {
        query: QueryName::SearchUsers,
        shape: "everyone (search *), first page",
        search: Some("*"),
        columns: &[],
    },
    Probe {
        query: QueryName::SearchUsers,
        shape: "one-word prefix search",
        search: Some("userstore"),
        columns: SEARCHED,
    },
    Probe {
        query: QueryName::SearchUsers,
        shape: "two-word prefix search",
        search: Some("userstore gateway"),
        columns: SEARCHED,
    },
    Probe {
        query: QueryName::CountUsers,
        shape: "count of a one-word prefix search",
        search: Some("userstore"),
        columns: SEARCHED,
    },
];

/// The index that gives the default pages their order.
const PAGE_INDEX: &str = "users_username_id";

/// A request shape whose plan reads a whole table.
#[derive(Debug, Clone)]
pub struct Finding {
    pub query: QueryName,
    pub shape: &'static str,
    /// True when `[queries]` configures the statement.
    pub configured: bool,
    pub scan: FullScan,
    /// For a default query: the reference schema's statements for the
    /// missing indexes; empty when they all exist.
    pub create_index: Vec<&'static str>,
    /// The reference indexes that exist although the plan does not use them.
    pub unused: Vec<String>,
    pub dialect: Dialect,
}

impl Finding {
    /// `check`'s subject for the finding.
    pub fn subject(&self) -> String {
        format!("plan {}", self.query.key())
    }

    /// What the finding means and what a DBA can do, in one paragraph.
    pub fn detail(&self) -> String {
        let size = match (self.scan.estimated_rows, self.scan.at_least) {
            (Some(rows), false) => format!("about {rows} rows"),
            (Some(rows), true) => format!("{rows} rows or more"),
            (None, _) => "size unknown".to_owned(),
        };
        let head = format!(
            "{}: every request reads all of table {} ({size})",
            self.shape, self.scan.table
        );
        if self.configured {
            return format!(
                "{head}; this query is configured in [queries]: index the expression its WHERE \
                 clause compares, with the same function and collation (docs/queries.md)"
            );
        }
        if self.create_index.is_empty() {
            return format!(
                "{head} although the reference indexes ({}) exist; refresh the planner's \
                 statistics (ANALYZE) and compare them with migrations/{}/0001_reference_schema.sql",
                self.unused.join(", "),
                self.dialect.migrations_dir()
            );
        }
        format!(
            "{head}; the reference schema's index is missing, a DBA can run: {}",
            self.create_index.join(" ")
        )
    }
}

/// The plans of one request shape: its full scans, or why it could not be
/// explained.
#[derive(Debug)]
pub struct Outcome {
    pub query: QueryName,
    pub shape: &'static str,
    pub result: Result<Vec<Finding>, DbError>,
}

/// Asks the database for the plan of every lookup and search shape with
/// sample parameters. Queries configured away (none are optional here) are
/// skipped.
pub async fn inspect(store: &Store, configured: &BTreeMap<String, String>) -> Vec<Outcome> {
    let dialect = store.pool().dialect();
    let mut indexes: Option<Vec<String>> = None;
    let mut outcomes = Vec::new();
    for probe in PROBES {
        let statement = match probe.search {
            Some(text) => store.search_statement(probe.query, text, 0, 20),
            None => store
                .template(probe.query)
                .map(|template| (template, lookup_params(probe.query))),
        };
        let Some((template, params)) = statement else {
            continue;
        };
        let is_configured = configured.contains_key(probe.query.key());
        let filtered = probe.search != Some("*");
        let result = match store.pool().full_scans(template, &params, filtered).await {
            Ok(scans) if scans.is_empty() => Ok(Vec::new()),
            Ok(scans) => {
                if indexes.is_none() && !is_configured {
                    indexes = Some(store.pool().index_names("users").await.unwrap_or_default());
                }
                let existing = indexes.as_deref().unwrap_or_default();
                Ok(scans
                    .into_iter()
                    .map(|scan| finding(probe, dialect, is_configured, scan, existing))
                    .collect())
            }
            Err(err) => Err(err),
        };
        outcomes.push(Outcome {
            query: probe.query,
            shape: probe.shape,
            result,
        });
    }
    outcomes
}

fn finding(
    probe: Probe,
    dialect: Dialect,
    configured: bool,
    scan: FullScan,
    existing: &[String],
) -> Finding {
    let mut wanted: Vec<String> = probe
        .columns
        .iter()
        .filter_map(|column| dialect.reference_index(column))
        .collect();
    if probe.search.is_some() && !wanted.iter().any(|name| name == PAGE_INDEX) {
        wanted.push(PAGE_INDEX.to_owned());
    }
    let (present, missing): (Vec<String>, Vec<String>) = wanted
        .into_iter()
        .partition(|name| existing.iter().any(|have| have == name));
    Finding {
        query: probe.query,
        shape: probe.shape,
        configured,
        create_index: if configured || scan.table != "users" {
            Vec::new()
        } else {
            missing
                .iter()
                .filter_map(|name| dialect.reference_index_sql(name))
                .collect()
        },
        unused: present,
        scan,
        dialect,
    }
}

/// A value for each parameter of a single-user lookup that no user has.
fn lookup_params(query: QueryName) -> Vec<(&'static str, Param)> {
    query
        .params()
        .iter()
        .map(|&name| (name, Param::Text("userstore-gateway-check".into())))
        .collect()
}

/// Logs each full scan of [`inspect`] as a warning, once (at startup, while
/// the gateway already serves). A database that cannot be asked now is
/// noted at info level: `check` tells more.
pub async fn log_full_scans(store: Store, configured: BTreeMap<String, String>) {
    for outcome in inspect(&store, &configured).await {
        match outcome.result {
            Ok(findings) => {
                for finding in findings {
                    tracing::warn!(
                        query = finding.query.key(),
                        table = %finding.scan.table,
                        estimated_rows = finding.scan.estimated_rows,
                        "query plan reads a whole table: {}",
                        finding.detail()
                    );
                }
            }
            Err(err) => tracing::info!(
                query = outcome.query.key(),
                error = %err,
                "query plan not checked; run `userstore-gateway check`"
            ),
        }
    }
}
