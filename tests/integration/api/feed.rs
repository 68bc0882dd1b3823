//! The change feed (`GET /v1/changes`) over the shipped change log, on every
//! vendor: what is reported, cursors across restarts and retention, long
//! polls, commit order, bad input, and the feed switched off.

use std::time::{Duration, Instant};

use serde_json::Value;
use userstore_gateway::check::{inspect, Report, Status};
use userstore_gateway::dialect::{Access, Pool};

use crate::support::dba::Session;
use crate::support::gateway::{
    feed_settings, fixture_db, fixture_db_with_change_log, spawn_app, spawn_app_with, TestApp,
};
use crate::support::{TestDb, Vendor};

on_every_vendor!(
    without_a_cursor_the_answer_is_the_head_and_nothing_before_it,
    every_kind_of_user_change_is_reported_once,
    a_role_catalogue_change_is_reported_as_such,
    a_long_poll_answers_when_a_change_commits,
    the_cursor_survives_a_restart_of_the_gateway,
    a_cursor_older_than_the_retention_is_answered_with_a_resync,
    changes_committed_in_any_order_are_all_reported,
    bad_cursors_and_waits_are_400_problems,
    without_a_change_log_the_route_and_check_say_so,
    check_reads_the_change_log_when_it_is_on,
);

async fn feed_app(db: &TestDb) -> TestApp {
    spawn_app_with(feed_settings(db, &[])).await
}

async fn changes(app: &TestApp, query: &str) -> Value {
    let (status, body) = app.get(&format!("/v1/changes{query}")).await;
    assert_eq!(status, 200, "/v1/changes{query}: {body}");
    body
}

fn cursor(page: &Value) -> String {
    page["cursor"]
        .as_str()
        .expect("cursor is a string")
        .to_owned()
}

fn ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["changes"]
        .as_array()
        .expect("changes array")
        .iter()
        .map(|v| v.as_str().expect("user id").to_owned())
        .collect();
    ids.sort();
    ids
}

/// Reads from `after`, long-polling, until every id of `expected` was
/// reported or ten answers came back empty; returns every id seen (sorted,
/// each once) and the last cursor. (On PostgreSQL an entry shows once every
/// transaction that started before it has ended, on the whole server.)
async fn collect(app: &TestApp, mut after: String, expected: &[&str]) -> (Vec<String>, String) {
    let mut seen: Vec<String> = Vec::new();
    let mut empty = 0;
    while empty < 10 && !expected.iter().all(|e| seen.iter().any(|s| s == e)) {
        let page = changes(app, &format!("?after={after}&wait=2")).await;
        after = cursor(&page);
        let found = ids(&page);
        let listed = page["changes"].as_array().map_or(0, Vec::len);
        assert_eq!(
            found.len(),
            listed,
            "an answer lists each user once: {page}"
        );
        if found.is_empty() {
            empty += 1;
        }
        seen.extend(found);
    }
    seen.sort();
    seen.dedup();
    (seen, after)
}

/// `seen` is `expected`. On PostgreSQL the head is held back by the oldest
/// write transaction running anywhere on the server (other tests' too), so
/// entries committed just before the head may be reported once after it:
/// there, `seen` need only contain `expected`.
fn assert_reported(vendor: Vendor, seen: &[String], expected: &[&str]) {
    if vendor == Vendor::Postgres {
        let missing: Vec<_> = expected
            .iter()
            .filter(|e| !seen.iter().any(|s| s == *e))
            .collect();
        assert!(missing.is_empty(), "missing {missing:?} in {seen:?}");
    } else {
        assert_eq!(seen, expected);
    }
}

/// One more answer after `after`, waiting a little: must be empty.
async fn nothing_after(app: &TestApp, after: &str) -> Value {
    let page = changes(app, &format!("?after={after}&wait=1")).await;
    assert!(ids(&page).is_empty(), "nothing is reported twice: {page}");
    page
}

async fn without_a_cursor_the_answer_is_the_head_and_nothing_before_it(vendor: Vendor) {
    let db = fixture_db_with_change_log(vendor).await;
    let app = feed_app(&db).await;

    let head = changes(&app, "").await;
    let next = changes(&app, &format!("?after={}", cursor(&head))).await;

    assert_eq!(ids(&head), Vec::<String>::new());
    assert_eq!(
        (head["resync"].as_bool(), head["rolesChanged"].as_bool()),
        (Some(false), Some(false))
    );
    assert!(
        vendor == Vendor::Postgres || ids(&next).is_empty(),
        "the fixture's inserts came before the head: {next}"
    );
    if vendor != Vendor::Postgres {
        assert_eq!(cursor(&next), cursor(&head), "no change, no move");
    }
}

async fn every_kind_of_user_change_is_reported_once(vendor: Vendor) {
    let db = fixture_db_with_change_log(vendor).await;
    let app = feed_app(&db).await;
    let head = cursor(&changes(&app, "").await);

    let mut dba = Session::open(&db).await;
    dba.run("DELETE FROM users_to_client_roles WHERE user_id = 'u1' AND client_role_id = 'c1'")
        .await;
    dba.run("UPDATE users SET email = 'alice.new@example.test' WHERE id = 'u2'")
        .await;
    dba.run("DELETE FROM users_to_realm_roles WHERE user_id = 'u3'")
        .await;
    dba.run("DELETE FROM users WHERE id = 'u3'").await;
    dba.run("INSERT INTO users_to_realm_roles (user_id, realm_role_id) VALUES ('u4', 'r1')")
        .await;
    dba.run("UPDATE users SET firstname = 'Alice' WHERE id = 'u2'")
        .await;
    let before = db.checksum().await;

    let expected = ["u1", "u2", "u3", "u4"];
    let (seen, last) = collect(&app, head, &expected).await;
    let again = nothing_after(&app, &last).await;

    assert_reported(vendor, &seen, &expected);
    assert_eq!(again["rolesChanged"], false);
    assert_eq!(
        db.checksum().await,
        before,
        "reading the feed writes nothing"
    );
}

async fn a_role_catalogue_change_is_reported_as_such(vendor: Vendor) {
    let db = fixture_db_with_change_log(vendor).await;
    let app = feed_app(&db).await;
    let mut after = cursor(&changes(&app, "").await);

    Session::open(&db)
        .await
        .run("UPDATE realm_roles SET role = 'auditors' WHERE id = 'r3'")
        .await;
    let mut page = Value::Null;
    for _ in 0..10 {
        page = changes(&app, &format!("?after={after}&wait=2")).await;
        after = cursor(&page);
        if page["rolesChanged"] == true {
            break;
        }
    }

    assert_eq!(page["rolesChanged"], true, "{page}");
    assert!(ids(&page).is_empty(), "{page}");
}

async fn a_long_poll_answers_when_a_change_commits(vendor: Vendor) {
    let db = fixture_db_with_change_log(vendor).await;
    let app = feed_app(&db).await;
    let head = cursor(&changes(&app, "").await);
    let started = Instant::now();

    let query = format!("?after={head}&wait=30");
    let poll = changes(&app, &query);
    let write = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        Session::open(&db)
            .await
            .run("UPDATE users SET lastname = 'Later' WHERE id = 'u5'")
            .await;
    };
    let (page, ()) = tokio::join!(poll, write);
    let mut seen = ids(&page);
    let mut last = page;
    // PostgreSQL may first answer with entries committed just before the
    // head (see `assert_reported`); the next long poll then waits for ours.
    while vendor == Vendor::Postgres
        && !seen.contains(&"u5".to_owned())
        && started.elapsed() < Duration::from_secs(25)
    {
        last = changes(&app, &format!("?after={}&wait=30", cursor(&last))).await;
        seen.extend(ids(&last));
    }
    seen.sort();
    seen.dedup();

    assert_reported(vendor, &seen, &["u5"]);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "the long poll ended with the change, not with its 30 s wait"
    );
}

async fn the_cursor_survives_a_restart_of_the_gateway(vendor: Vendor) {
    let db = fixture_db_with_change_log(vendor).await;
    let first = feed_app(&db).await;
    let head = cursor(&changes(&first, "").await);
    drop(first);

    let mut dba = Session::open(&db).await;
    dba.run("UPDATE users SET firstname = 'Maximilian' WHERE id = 'u1'")
        .await;
    let second = feed_app(&db).await;
    let (first_change, cursor_1) = collect(&second, head, &["u1"]).await;
    drop(second);
    dba.run("UPDATE users SET firstname = 'Moritz' WHERE id = 'u9'")
        .await;
    let third = feed_app(&db).await;
    let (next_change, cursor_2) = collect(&third, cursor_1, &["u9"]).await;

    assert_reported(vendor, &first_change, &["u1"]);
    assert!(
        !next_change.contains(&"u1".to_owned()),
        "the earlier change not again"
    );
    assert_reported(vendor, &next_change, &["u9"]);
    nothing_after(&third, &cursor_2).await;
}

async fn a_cursor_older_than_the_retention_is_answered_with_a_resync(vendor: Vendor) {
    let db = fixture_db_with_change_log(vendor).await;
    let app = feed_app(&db).await;
    let old = cursor(&changes(&app, "").await);
    let mut dba = Session::open(&db).await;
    dba.run("UPDATE users SET firstname = 'Maximilian' WHERE id = 'u1'")
        .await;
    let (_, recent) = collect(&app, old.clone(), &["u1"]).await;

    // The retention statement of the docs, with an age every entry has.
    dba.run(match vendor {
        Vendor::Postgres => "DELETE FROM userstore_change_log WHERE changed_at < now() + interval '1 day'",
        Vendor::MariaDb => "DELETE FROM userstore_change_log WHERE changed_at < NOW() + INTERVAL 1 DAY",
        Vendor::Sqlite => "DELETE FROM userstore_change_log WHERE changed_at < (CAST(strftime('%s', 'now') AS INTEGER) + 86400) * 1000",
    })
    .await;
    let stale = changes(&app, &format!("?after={old}")).await;
    let fine = changes(&app, &format!("?after={recent}")).await;

    assert_eq!(stale["resync"], true, "{stale}");
    assert!(ids(&stale).is_empty());
    let resumed = changes(&app, &format!("?after={}", cursor(&stale))).await;
    assert_eq!(
        resumed["resync"], false,
        "the resync's cursor is good: {resumed}"
    );
    assert_eq!(
        fine["resync"], false,
        "nothing after this cursor was purged: {fine}"
    );
}

async fn changes_committed_in_any_order_are_all_reported(vendor: Vendor) {
    let db = fixture_db_with_change_log(vendor).await;
    let app = feed_app(&db).await;
    let head = cursor(&changes(&app, "").await);

    // The first transaction writes first and commits last.
    let mut early = Session::open(&db).await;
    early.run("BEGIN").await;
    early
        .run("UPDATE users SET firstname = 'Early' WHERE id = 'u1'")
        .await;
    let mut late = Session::open(&db).await;
    let late_write = tokio::spawn(async move {
        late.run("UPDATE users SET firstname = 'Late' WHERE id = 'u2'")
            .await;
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let during = changes(&app, &format!("?after={head}")).await;
    early.run("COMMIT").await;
    late_write.await.expect("the late write commits");
    let (after, last) = collect(&app, cursor(&during), &["u1", "u2"]).await;

    let mut all = ids(&during);
    all.extend(after);
    all.sort();
    all.dedup();
    assert_reported(vendor, &all, &["u1", "u2"]);
    assert!(
        all.len() >= 2,
        "read while the early one was open: {during}"
    );
    nothing_after(&app, &last).await;
}

async fn bad_cursors_and_waits_are_400_problems(vendor: Vendor) {
    let db = fixture_db_with_change_log(vendor).await;
    let app = feed_app(&db).await;

    for query in [
        "?after=abc",
        "?after=-1",
        "?after=1.5",
        "?after=99999999999999999999",
        "?after=1&wait=x",
        "?after=1&wait=-5",
        "?wait=soon",
    ] {
        let response = app
            .send(reqwest::Method::GET, &format!("/v1/changes{query}"), None)
            .await;
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(kind, "application/problem+json", "{query}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("whole number"),
            "{query}: {body}"
        );
    }
}

async fn without_a_change_log_the_route_and_check_say_so(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let (status, body) = app.get("/v1/changes").await;
    let report = inspect(
        &crate::support::gateway::settings(&db, &[]),
        Pool::open(
            &crate::support::gateway::settings(&db, &[]).database,
            Access::ReadOnly,
        )
        .expect("pool"),
        Report::default(),
    )
    .await;

    assert_eq!(status, 404, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("no change log is configured"),
        "{body}"
    );
    let line = report
        .lines
        .iter()
        .find(|l| l.subject == "change feed")
        .expect("a change feed line");
    assert_eq!(line.status, Status::Skip, "{}", line.detail);
    assert!(
        line.detail.contains("0002_change_log.sql"),
        "{}",
        line.detail
    );
    assert!(report.passed(), "an absent feed is not a failure");
}

async fn check_reads_the_change_log_when_it_is_on(vendor: Vendor) {
    let db = fixture_db_with_change_log(vendor).await;
    let settings = feed_settings(&db, &[]);
    let pool = Pool::open(&settings.database, Access::ReadOnly).expect("pool");

    let report = inspect(&settings, pool, Report::default()).await;

    let line = report
        .lines
        .iter()
        .find(|l| l.subject == "change feed")
        .expect("a change feed line");
    assert_eq!(line.status, Status::Ok, "{}", line.detail);
    for query in ["query changes", "query change_bounds"] {
        let line = report
            .lines
            .iter()
            .find(|l| l.subject == query)
            .expect(query);
        assert_eq!(line.status, Status::Ok, "{query}: {}", line.detail);
    }
    assert!(report.passed(), "{}", report.render());
}
