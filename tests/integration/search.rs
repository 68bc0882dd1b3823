//! Search and count as Keycloak's user search does them (every word must
//! match some field), on every vendor; configured search queries as the
//! query contract documents them; and proof from each database's own
//! EXPLAIN that the default lookups, searches and pages use an index on a
//! table of 20,000 users.

use serde_json::json;
use userstore_gateway::dialect::{Access, Dialect, Param, Pool, Record, Template, Value};
use userstore_gateway::store::{QueryName, Store};

use crate::support::gateway::{fixture_db, settings, spawn_app, spawn_app_with, usernames};
use crate::support::{TestDb, Vendor};

on_every_vendor!(
    every_word_of_a_search_must_match_some_field,
    quoted_words_are_exact_and_quotes_do_not_group_words,
    star_and_empty_search_list_everyone_in_username_order_with_paging,
    count_of_everyone_and_of_a_multi_word_search,
    configured_search_and_count_get_the_whole_text_as_one_pattern,
    configuring_one_of_search_and_count_keeps_page_and_count_in_agreement,
    default_queries_use_indexes_on_a_large_table,
);

async fn every_word_of_a_search_must_match_some_field(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    // First name "Max", last name "Mustermann".
    let (status, page) = app.get("/v1/users?search=max%20muster").await;
    assert_eq!(status, 200);
    assert_eq!(usernames(&page), ["mmustermann"]);
    let (_, page) = app.get("/v1/users?search=Muster%20%20MAX").await;
    assert_eq!(usernames(&page), ["mmustermann"], "any order, any case");
    // Two users are called Zed; only one of them Letter.
    let (_, page) = app.get("/v1/users?search=zed").await;
    assert_eq!(page["users"].as_array().map(Vec::len), Some(2));
    let (_, page) = app.get("/v1/users?search=zed%20letter").await;
    assert_eq!(usernames(&page), ["zzxtop"]);
    let (_, page) = app.get("/v1/users?search=letter%20zed").await;
    assert_eq!(usernames(&page), ["zzxtop"]);
    // Words of the same user in different fields: username and email.
    let (_, page) = app.get("/v1/users?search=alice%20alice@").await;
    assert_eq!(usernames(&page), ["alice"]);
    // A word that matches no field finds nobody, whatever the others match.
    let (_, page) = app.get("/v1/users?search=zed%20nobody").await;
    assert!(usernames(&page).is_empty());
    // Wildcards per word; a lone star adds nothing.
    let (_, page) = app.get("/v1/users?search=*ed%20*tte*").await;
    assert_eq!(usernames(&page), ["zzxtop"]);
    let (_, page) = app.get("/v1/users?search=max%20*").await;
    assert_eq!(usernames(&page), ["mmustermann"]);
    // Many words still make one bounded statement.
    let many = vec!["z"; 40].join("%20");
    let (status, _) = app.get(&format!("/v1/users?search={many}")).await;
    assert_eq!(status, 200);
}

async fn quoted_words_are_exact_and_quotes_do_not_group_words(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let (_, page) = app.get("/v1/users?search=%22zed%22%20letter").await;
    assert_eq!(usernames(&page), ["zzxtop"]);
    let (_, page) = app.get("/v1/users?search=%22ze%22%20letter").await;
    assert!(usernames(&page).is_empty(), "a quoted word is exact");
    // As in Keycloak, the text is split on whitespace before quotes are
    // looked at: `"zed letter"` is the words `"zed` and `letter"`, whose
    // quote characters are literal.
    let (_, page) = app.get("/v1/users?search=%22zed%20letter%22").await;
    assert!(usernames(&page).is_empty());
}

async fn star_and_empty_search_list_everyone_in_username_order_with_paging(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    for search in ["*", "", "%20*%20%20*"] {
        let (_, all) = app.get(&format!("/v1/users?search={search}&max=100")).await;
        let all = usernames(&all);
        let mut pages = Vec::new();
        for first in [0, 4, 8] {
            let (_, page) = app
                .get(&format!("/v1/users?search={search}&first={first}&max=4"))
                .await;
            pages.push(usernames(&page));
        }
        let (_, beyond) = app
            .get(&format!("/v1/users?search={search}&first=11&max=4"))
            .await;

        assert_eq!(all.len(), 11, "{search:?}: {all:?}");
        assert_eq!(pages[0], ["albert", "alfred", "alice", "bob"], "{search:?}");
        assert_eq!(
            pages[1],
            ["carol", "dave", "eve", "mmustermann"],
            "{search:?}"
        );
        // zz_top and zzxtop sort differently per collation ('_' against 'x').
        assert_eq!(pages[2].len(), 3, "{search:?}");
        assert_eq!(pages[2][0], "o'brien", "{search:?}");
        assert_eq!(pages.concat(), all, "{search:?}: pages make up the list");
        assert!(usernames(&beyond).is_empty(), "{search:?}");
    }
    // The everyone page loads roles like any other page.
    let (_, page) = app.get("/v1/users?first=7&max=1").await;
    assert_eq!(page["users"][0]["realmRoles"], json!(["testrole", "user"]));
}

async fn count_of_everyone_and_of_a_multi_word_search(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;
    let count = |search: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app.get(&format!("/v1/users/count?search={search}")).await;
            assert_eq!(status, 200, "{search}");
            body["count"].as_i64().expect("count")
        }
    };

    let (_, plain) = app.get("/v1/users/count").await;
    assert_eq!(plain, json!({"count": 11}));
    assert_eq!(count("").await, 11);
    assert_eq!(count("*").await, 11);
    assert_eq!(count("zed").await, 2);
    assert_eq!(count("zed%20letter").await, 1);
    assert_eq!(count("letter%20ZED").await, 1);
    assert_eq!(count("max%20muster").await, 1);
    assert_eq!(count("al%20*dd*").await, 1, "alice Liddell");
    assert_eq!(count("zed%20nobody").await, 0);
}

/// The search condition of the query contract, as a DBA writes it: one
/// lower-case pattern in `:search`.
const ONE_PATTERN: &str = "lower(username) LIKE :search ESCAPE '!' \
    OR lower(email) LIKE :search ESCAPE '!' \
    OR lower(firstname) LIKE :search ESCAPE '!' \
    OR lower(lastname) LIKE :search ESCAPE '!'";

const COLUMNS: &str =
    "id, username, email, firstname, lastname, email_verified, createdtimestamp, password_hash";

fn search_query(condition: &str) -> String {
    format!(
        "SELECT {COLUMNS} FROM users WHERE {condition} \
         ORDER BY username, id LIMIT :limit OFFSET :offset"
    )
}

fn count_query(condition: &str) -> String {
    format!("SELECT count(*) AS count FROM users WHERE {condition}")
}

async fn configured_search_and_count_get_the_whole_text_as_one_pattern(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let (search, count) = (search_query(ONE_PATTERN), count_query(ONE_PATTERN));
    let app = spawn_app_with(settings(
        &db,
        &[("search_users", &search), ("count_users", &count)],
    ))
    .await;

    let (_, page) = app.get("/v1/users?search=AL&first=1&max=5").await;
    assert_eq!(usernames(&page), ["alfred", "alice"]);
    let (_, page) = app.get("/v1/users?search=%22alice%22").await;
    assert_eq!(usernames(&page), ["alice"]);
    let (_, everyone) = app.get("/v1/users?search=*").await;
    assert_eq!(usernames(&everyone).len(), 11);
    let (_, counted) = app.get("/v1/users/count?search=al").await;
    assert_eq!(counted, json!({"count": 3}));
    let (_, counted) = app.get("/v1/users/count").await;
    assert_eq!(counted, json!({"count": 11}));
    // `:search` is the pattern of the whole text, `max muster%`: no single
    // column starts with that.
    let (_, page) = app.get("/v1/users?search=max%20muster").await;
    assert!(usernames(&page).is_empty());
    let (_, counted) = app.get("/v1/users/count?search=max%20muster").await;
    assert_eq!(counted, json!({"count": 0}));

    // Which a configured query can use, e.g. to match the full name.
    let full_name = "lower(concat(firstname, ' ', lastname)) LIKE :search ESCAPE '!'";
    let (search, count) = (search_query(full_name), count_query(full_name));
    let app = spawn_app_with(settings(
        &db,
        &[("search_users", &search), ("count_users", &count)],
    ))
    .await;
    let (_, page) = app.get("/v1/users?search=max%20muster").await;
    assert_eq!(usernames(&page), ["mmustermann"]);
    let (_, counted) = app.get("/v1/users/count?search=Max%20M").await;
    assert_eq!(counted, json!({"count": 1}));
}

async fn configuring_one_of_search_and_count_keeps_page_and_count_in_agreement(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let search = search_query(ONE_PATTERN);
    let app = spawn_app_with(settings(&db, &[("search_users", &search)])).await;
    let defaults = spawn_app(&db).await;

    // The default count gets the configured search's pattern too ...
    let (_, page) = app.get("/v1/users?search=max%20muster").await;
    let (_, counted) = app.get("/v1/users/count?search=max%20muster").await;
    assert!(usernames(&page).is_empty());
    assert_eq!(counted, json!({"count": 0}));
    let (_, counted) = app.get("/v1/users/count?search=zed").await;
    assert_eq!(counted, json!({"count": 2}));
    let (_, counted) = app.get("/v1/users/count").await;
    assert_eq!(counted, json!({"count": 11}));
    // ... where the defaults alone match word by word.
    let (_, counted) = defaults.get("/v1/users/count?search=max%20muster").await;
    assert_eq!(counted, json!({"count": 1}));
}

/// Users added to the fixture for the EXPLAIN tests.
const BULK_USERS: i64 = 20_000;

/// [`fixture_db`] plus [`BULK_USERS`] generated users in one statement, and
/// fresh planner statistics, as a production table would have.
async fn large_db(vendor: Vendor) -> TestDb {
    let db = fixture_db(vendor).await;
    let n = BULK_USERS;
    let script = match vendor {
        Vendor::Postgres => format!(
            "INSERT INTO users (id, createdtimestamp, email, firstname, lastname, username) \
             SELECT 'bulk' || i, 1700000000000 + i, 'bulk' || i || '@bulk.test', \
                    'First' || (i % 100), 'Last' || i, 'bulk' || i \
             FROM generate_series(1, {n}) AS i; \
             ANALYZE users;"
        ),
        Vendor::MariaDb => format!(
            "SET SESSION max_recursive_iterations = {n}; \
             INSERT INTO users (id, createdtimestamp, email, firstname, lastname, username) \
             WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n}) \
             SELECT CONCAT('bulk', i), 1700000000000 + i, CONCAT('bulk', i, '@bulk.test'), \
                    CONCAT('First', i % 100), CONCAT('Last', i), CONCAT('bulk', i) \
             FROM seq; \
             ANALYZE TABLE users;"
        ),
        Vendor::Sqlite => format!(
            "INSERT INTO users (id, createdtimestamp, email, firstname, lastname, username) \
             WITH RECURSIVE seq (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n}) \
             SELECT 'bulk' || i, 1700000000000 + i, 'bulk' || i || '@bulk.test', \
                    'First' || (i % 100), 'Last' || i, 'bulk' || i \
             FROM seq; \
             ANALYZE;"
        ),
    };
    db.run_script(&script).await;
    db
}

/// A pool with the gateway's own read-only sessions (one connection, so that
/// statements prepared on it can be looked at afterwards).
fn gateway_pool(db: &TestDb) -> Pool {
    let mut database = settings(db, &[]).database;
    database.max_connections = 1;
    Pool::open(&database, Access::ReadOnly).expect("pool opens")
}

/// The lines of the database's plan for `sql` with `params`, as EXPLAIN
/// shows them: PostgreSQL's text plan, SQLite's EXPLAIN QUERY PLAN details,
/// MariaDB's rows as `table type key`.
async fn explain(pool: &Pool, sql: &str, params: &[(&str, Param)]) -> Vec<String> {
    let prefix = match pool.dialect() {
        Dialect::Sqlite => "EXPLAIN QUERY PLAN",
        Dialect::Postgres | Dialect::MySql => "EXPLAIN",
    };
    let rows = pool
        .fetch(&Template::parse(&format!("{prefix} {sql}")), params, 1000)
        .await
        .unwrap_or_else(|e| panic!("EXPLAIN {sql}: {e}"));
    let column_text = |row: &Record, column: &str| match row.get(column) {
        Some(Value::Text(s)) => s.clone(),
        Some(Value::Int(n)) => n.to_string(),
        _ => "NULL".to_owned(),
    };
    rows.iter()
        .map(|row| match pool.dialect() {
            Dialect::Postgres => column_text(row, "QUERY PLAN"),
            Dialect::Sqlite => column_text(row, "detail"),
            Dialect::MySql => format!(
                "{} {} {}",
                column_text(row, "table"),
                column_text(row, "type"),
                column_text(row, "key")
            ),
        })
        .collect()
}

fn text(value: &str) -> Param {
    Param::Text(value.to_owned())
}

/// Named parameters of one statement.
type Params = Vec<(&'static str, Param)>;

fn paging(offset: i64, limit: i64) -> [(&'static str, Param); 2] {
    [("offset", Param::Int(offset)), ("limit", Param::Int(limit))]
}

async fn default_queries_use_indexes_on_a_large_table(vendor: Vendor) {
    let db = large_db(vendor).await;
    let pool = gateway_pool(&db);
    let dialect = pool.dialect();
    let default = |name: QueryName| name.default_sql(dialect, false).expect("default sql");
    let search = |name: QueryName, terms| {
        name.default_search_sql(dialect, terms, false)
            .expect("search sql")
    };
    let [offset, limit] = paging(0, 10);
    let deep = paging(15_000, 10);
    let cases: Vec<(&str, String, Params)> = vec![
        (
            "lookup by username",
            default(QueryName::UserByUsername),
            vec![("username", text("MMusterMann"))],
        ),
        (
            "lookup by email",
            default(QueryName::UserByEmail),
            vec![("email", text("M.Mustermann@Example.test"))],
        ),
        (
            "prefix search page",
            search(QueryName::SearchUsers, 1),
            vec![("search", text("muster%")), offset.clone(), limit.clone()],
        ),
        (
            "two-word search page",
            search(QueryName::SearchUsers, 2),
            vec![
                ("search", text("max%")),
                ("search2", text("muster%")),
                offset.clone(),
                limit.clone(),
            ],
        ),
        (
            "count of a two-word search",
            search(QueryName::CountUsers, 2),
            vec![("search", text("max%")), ("search2", text("muster%"))],
        ),
        (
            "everyone, first page",
            search(QueryName::SearchUsers, 0),
            vec![offset, limit],
        ),
        (
            "everyone, deep page",
            search(QueryName::SearchUsers, 0),
            deep.to_vec(),
        ),
    ];

    for (what, sql, params) in &cases {
        let plan = explain(&pool, sql, params).await;
        eprintln!("[{vendor:?}] {what}:\n    {}", plan.join("\n    "));
        // What `check` looks at, here on a table of some size.
        let filtered = !what.starts_with("everyone");
        let scans = pool
            .full_scans(&Template::parse(sql), params, filtered)
            .await
            .expect("plan");
        assert!(
            scans.is_empty(),
            "{vendor:?} {what} reads the whole table ({scans:?}):\n{}",
            plan.join("\n")
        );
        let plan = plan.join("\n");
        match (dialect, *what) {
            // The prefix became a range of a lower() index.
            (Dialect::Postgres, w) if w.contains("search") => {
                assert!(plan.contains("~>=~"), "{what}:\n{plan}")
            }
            (Dialect::Postgres, "lookup by username") => {
                assert!(plan.contains("users_username_lower"), "{plan}")
            }
            (Dialect::Postgres, "lookup by email") => {
                assert!(plan.contains("users_email_lower"), "{plan}")
            }
            (Dialect::Sqlite, w) if w.contains("search") => {
                assert!(
                    plan.contains("users_username_nocase (username>?"),
                    "{what}:\n{plan}"
                )
            }
            // The page's ids come from the (username, id) index alone; only
            // those rows are read, by id.
            (Dialect::Postgres, w) if w.starts_with("everyone") => {
                assert!(
                    plan.contains("Index Only Scan using users_username_id"),
                    "{plan}"
                );
                assert!(
                    plan.contains("Index Scan using users_pkey on users u"),
                    "{plan}"
                );
            }
            (Dialect::MySql, w) if w.starts_with("everyone") => {
                assert!(plan.contains("users index users_username_id"), "{plan}");
                assert!(plan.contains("u eq_ref PRIMARY"), "{plan}");
            }
            (Dialect::Sqlite, w) if w.starts_with("everyone") => {
                assert!(
                    plan.contains("SCAN users USING COVERING INDEX users_username_id"),
                    "{plan}"
                );
                assert!(plan.contains("SEARCH u USING INDEX"), "{plan}");
            }
            _ => {}
        }
    }

    // And the answers are right on the large table.
    let app = spawn_app(&db).await;
    let (_, page) = app.get("/v1/users?search=max%20muster").await;
    assert_eq!(usernames(&page), ["mmustermann"]);
    let (_, page) = app.get("/v1/users?max=4").await;
    assert_eq!(usernames(&page), ["albert", "alfred", "alice", "bob"]);
    let (_, counted) = app.get("/v1/users/count").await;
    assert_eq!(counted["count"], BULK_USERS + 11);
    let (_, counted) = app.get("/v1/users/count?search=first7%20last17").await;
    let expected = (1..=BULK_USERS)
        .filter(|i| {
            format!("first{}", i % 100).starts_with("first7")
                && format!("last{i}").starts_with("last17")
        })
        .count();
    assert_eq!(counted["count"], expected as i64);
}

/// PostgreSQL only: prepared statements and the optional trigram indexes.
mod postgres_plans {
    use super::*;

    /// sqlx prepares each statement once per connection; after five runs
    /// PostgreSQL would be free to switch a prepared statement to a generic
    /// plan, which cannot use a prefix index for `LIKE $1`. The gateway sends
    /// searches unprepared, so each run is planned with its pattern, while
    /// lookups stay prepared.
    #[tokio::test]
    async fn searches_are_planned_per_run_and_lookups_stay_prepared() {
        let db = large_db(Vendor::Postgres).await;
        let pool = gateway_pool(&db);
        let store =
            Store::new(pool.clone(), &Default::default(), false, false, None).expect("store");

        for _ in 0..7 {
            let page = store.search("muster", 0, 10).await.expect("search");
            assert_eq!(page.len(), 1);
            let user = store.user_by_username("MMusterMann").await.expect("lookup");
            assert!(user.is_some());
        }

        let statements = pool
            .fetch(
                &Template::parse(
                    "SELECT statement FROM pg_prepared_statements \
                     WHERE statement NOT LIKE '%pg_prepared_statements%'",
                ),
                &[],
                100,
            )
            .await
            .expect("prepared statements");
        let texts: Vec<String> = statements
            .iter()
            .filter_map(|row| match row.get("statement") {
                Some(Value::Text(s)) => Some(s.clone()),
                _ => None,
            })
            .collect();
        assert!(
            texts.iter().any(|t| t.contains("lower(username) = lower(")),
            "the lookup is prepared once: {texts:?}"
        );
        assert!(
            !texts.iter().any(|t| t.contains(" LIKE ")),
            "no search is kept prepared: {texts:?}"
        );
    }

    /// `0003_trigram_search.sql` (optional) serves infix searches.
    #[tokio::test]
    async fn trigram_indexes_serve_infix_search() {
        let db = large_db(Vendor::Postgres).await;
        db.apply_migration("0003_trigram_search.sql").await;
        db.run_script("ANALYZE users;").await;
        let pool = gateway_pool(&db);

        for (name, terms) in [(QueryName::SearchUsers, 1), (QueryName::CountUsers, 1)] {
            let sql = name
                .default_search_sql(Dialect::Postgres, terms, false)
                .expect("search sql");
            let [offset, limit] = paging(0, 10);
            let params = [("search", text("%sterma%")), offset, limit];
            let plan = explain(&pool, &sql, &params).await;
            eprintln!(
                "[Postgres] infix {}:\n    {}",
                name.key(),
                plan.join("\n    ")
            );
            let plan = plan.join("\n");
            assert!(!plan.contains("Seq Scan on users"), "{plan}");
            assert!(plan.contains("_trgm"), "{plan}");
        }
        let app = spawn_app(&db).await;
        let (_, page) = app.get("/v1/users?search=*sterma*").await;
        assert_eq!(usernames(&page), ["mmustermann"]);
    }
}
