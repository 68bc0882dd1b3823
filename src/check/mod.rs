//! `check`: configuration, connectivity, every configured query, the
//! session's read-only flag and the plans of the lookups and searches, as a
//! readable report with an exit code.

mod plans;

pub use self::plans::{inspect as inspect_plans, log_full_scans, Finding, Outcome};

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use crate::dialect::{Access, Param, Pool};
use crate::settings::Settings;
use crate::store::{QueryName, Store};

/// The result of one check line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Skip,
    /// Works, but will not at scale: a plan that reads a whole table.
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Line {
    pub status: Status,
    pub subject: String,
    pub detail: String,
}

/// Everything `check` found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub lines: Vec<Line>,
}

impl Report {
    fn push(&mut self, status: Status, subject: impl Into<String>, detail: impl Into<String>) {
        self.lines.push(Line {
            status,
            subject: subject.into(),
            detail: detail.into(),
        });
    }

    /// True when nothing failed.
    pub fn passed(&self) -> bool {
        self.count(Status::Fail) == 0
    }

    /// How many lines have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.lines.iter().filter(|l| l.status == status).count()
    }

    /// The report as aligned text lines with a closing summary.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            let status = match line.status {
                Status::Ok => "ok  ",
                Status::Skip => "skip",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
            };
            let _ = writeln!(out, "[{status}] {:<32} {}", line.subject, line.detail);
        }
        let (failed, warned) = (self.count(Status::Fail), self.count(Status::Warn));
        let _ = match (failed, warned) {
            (0, 0) => writeln!(
                out,
                "check passed: the gateway can serve this database read-only"
            ),
            (0, warned) => writeln!(
                out,
                "check passed with {warned} warning(s): the gateway can serve this database \
                 read-only, but the plans marked WARN read a whole table on every request"
            ),
            (failed, _) => writeln!(out, "check failed: {failed} problem(s) above"),
        };
        out
    }
}

/// Exit code of `check` for a broken configuration file.
pub const EXIT_CONFIG: u8 = 2;
/// Exit code of `check` when the configuration loads but a check fails,
/// and of `check --strict` on a warning.
pub const EXIT_FAILED: u8 = 1;

/// Runs every check for the configuration at `path`, prints the report and
/// returns the process exit code; with `strict`, warnings fail too.
pub async fn run(path: &Path, strict: bool) -> u8 {
    let settings = match Settings::load(path) {
        Ok(settings) => settings,
        Err(err) => {
            let mut report = Report::default();
            report.push(
                Status::Fail,
                "configuration",
                format!("{}: {err}", path.display()),
            );
            print!("{}", report.render());
            return EXIT_CONFIG;
        }
    };
    let pool = match Pool::open(&settings.database, Access::ReadOnly) {
        Ok(pool) => pool,
        Err(err) => {
            let mut report = Report::default();
            report.push(Status::Fail, "configuration", err.to_string());
            print!("{}", report.render());
            return EXIT_CONFIG;
        }
    };
    let mut report = Report::default();
    report.push(
        Status::Ok,
        "configuration",
        format!("{} loaded", path.display()),
    );
    let report = inspect(&settings, pool, report).await;
    print!("{}", report.render());
    if report.passed() && !(strict && report.count(Status::Warn) > 0) {
        0
    } else {
        EXIT_FAILED
    }
}

/// Checks connectivity, the read-only flag and every query on `pool`,
/// appending to `report`.
pub async fn inspect(settings: &Settings, pool: Pool, mut report: Report) -> Report {
    let dialect = pool.dialect();
    let store = match Store::new(
        pool.clone(),
        &settings.queries,
        settings.changes.enabled,
        settings.database.enabled_column,
        None,
    ) {
        Ok(store) => store,
        Err(err) => {
            report.push(Status::Fail, "queries", err.to_string());
            return report;
        }
    };
    let started = Instant::now();
    if let Err(err) = pool.try_connect().await {
        report.push(
            Status::Fail,
            "connectivity",
            format!("cannot connect to the {} database: {err}", dialect.name()),
        );
        return report;
    }
    if let Err(err) = pool.ping().await {
        report.push(
            Status::Fail,
            "connectivity",
            format!("{} database does not answer: {err}", dialect.name()),
        );
        return report;
    }
    report.push(
        Status::Ok,
        "connectivity",
        format!(
            "{} database answered in {} ms",
            dialect.name(),
            started.elapsed().as_millis()
        ),
    );
    match pool.session_read_only().await {
        Ok(true) => report.push(Status::Ok, "read-only session", "the database reports the session as read-only"),
        Ok(false) => report.push(
            Status::Fail,
            "read-only session",
            "the database reports the session as WRITABLE; a proxy may be dropping session settings",
        ),
        Err(err) => report.push(Status::Fail, "read-only session", format!("cannot ask the database: {err}")),
    }
    for name in QueryName::ALL {
        let subject = format!("query {}", name.key());
        let Some(template) = store.template(name) else {
            report.push(Status::Skip, subject, "not configured (optional)");
            continue;
        };
        let origin = if settings.queries.contains_key(name.key()) {
            "configured"
        } else {
            "default"
        };
        let params = sample_params(name);
        match pool.column_names(template, &params).await {
            Ok(columns) => {
                let missing: Vec<&str> = name
                    .required_columns()
                    .iter()
                    .copied()
                    .filter(|c| !columns.iter().any(|have| have.eq_ignore_ascii_case(c)))
                    .collect();
                if missing.is_empty() {
                    report.push(
                        Status::Ok,
                        subject,
                        format!("{origin}; runs and returns {}", columns.join(", ")),
                    );
                } else {
                    report.push(
                        Status::Fail,
                        subject,
                        format!(
                            "{origin}; missing column(s) {} (returns {})",
                            missing.join(", "),
                            columns.join(", ")
                        ),
                    );
                }
            }
            Err(err) => report.push(Status::Fail, subject, format!("{origin}; {err}")),
        }
    }
    for outcome in plans::inspect(&store, &settings.queries).await {
        let subject = format!("plan {}", outcome.query.key());
        match outcome.result {
            Ok(findings) if findings.is_empty() => report.push(
                Status::Ok,
                subject,
                format!("{}: index-driven", outcome.shape),
            ),
            Ok(findings) => {
                for finding in findings {
                    report.push(Status::Warn, finding.subject(), finding.detail());
                }
            }
            Err(err) => report.push(
                Status::Skip,
                subject,
                format!("{}: the database did not explain it: {err}", outcome.shape),
            ),
        }
    }
    if store.has_change_log() {
        match store.change_bounds().await {
            Ok((head, horizon)) => report.push(
                Status::Ok,
                "change feed",
                format!("on; the log is at {head}, purged through {horizon}"),
            ),
            Err(err) => report.push(Status::Fail, "change feed", err.to_string()),
        }
    } else {
        report.push(
            Status::Skip,
            "change feed",
            format!(
                "off: /v1/changes answers 404 and Keycloak evicts cached users only after maxStalenessMs; \
                 install migrations/{}/0002_change_log.sql and set [changes] enabled = true",
                dialect.migrations_dir()
            ),
        );
    }
    report
}

/// Harmless values for running each query once.
fn sample_params(name: QueryName) -> Vec<(&'static str, Param)> {
    name.params()
        .iter()
        .map(|&p| {
            let value = match p {
                "offset" | "cursor" => Param::Int(0),
                "limit" => Param::Int(1),
                "user_ids" => Param::TextList(vec!["userstore-gateway-check".into()]),
                _ => Param::Text("userstore-gateway-check".into()),
            };
            (p, value)
        })
        .collect()
}
