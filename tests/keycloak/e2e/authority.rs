//! The database stays authoritative while Keycloak caches (cache policy
//! DEFAULT): a DBA's revocation, deletion, email change and disable reach the
//! next login and the next token refresh, through the change feed within
//! about a second, and with the feed down within `maxStalenessMs`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{roles, with_enabled_column};
use crate::support::dba::Session;
use crate::support::gateway::{
    feed_settings, fixture_db_with_change_log, settings, spawn_app_with, TestApp, TOKEN,
};
use crate::support::keycloak::{claims, keycloak, refused_login_status, Keycloak, Realm};
use crate::support::{TestDb, Vendor};

struct Cached {
    db: TestDb,
    _gateway: TestApp,
    kc: &'static Keycloak,
    realm: Realm,
}

/// Fixture users on `vendor` with the change log installed, a gateway with
/// the feed on or off, and a realm that caches (DEFAULT) for `max_staleness_ms`.
async fn cached(vendor: Vendor, feed: bool, max_staleness_ms: u64) -> Cached {
    let db = fixture_db_with_change_log(vendor).await;
    let queries = with_enabled_column();
    let pairs: Vec<(&str, &str)> = queries.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gateway_settings = if feed {
        feed_settings(&db, &pairs)
    } else {
        settings(&db, &pairs)
    };
    let gateway = spawn_app_with(gateway_settings).await;
    let kc = keycloak().await;
    let staleness = max_staleness_ms.to_string();
    let realm = kc
        .realm_with(
            &gateway.base,
            TOKEN,
            &[("cachePolicy", "DEFAULT"), ("maxStalenessMs", &staleness)],
            json!({}),
        )
        .await;
    Cached {
        db,
        _gateway: gateway,
        kc,
        realm,
    }
}

/// Tokens of four users who logged in before the DBA's changes: mmustermann
/// (through the browser form) holds testclient/admin and testrole, alice will
/// get a new email, albert will be deleted, alfred disabled.
struct Sessions {
    mmustermann: Value,
    alice: Value,
    albert: Value,
    alfred: Value,
}

async fn log_in_four(c: &Cached) -> Sessions {
    let mmustermann =
        c.kc.browser_login(&c.realm, "mmustermann", "B1Systems!")
            .await
            .expect("mmustermann logs in through the login form");
    let mut password = Vec::new();
    for (user, pass) in [
        ("alice", "alice-pass"),
        ("albert", "albert-pass"),
        ("alfred", "alfred-pass"),
    ] {
        let (status, token) = c.kc.login(&c.realm, user, pass).await;
        assert_eq!(status, 200, "{user}: {token}");
        password.push(token);
    }
    let [alice, albert, alfred] = <[Value; 3]>::try_from(password).expect("three tokens");
    let admin = roles(
        &claims(&mmustermann),
        &["resource_access", "testclient", "roles"],
    );
    assert_eq!(admin, ["admin"], "before the change");
    Sessions {
        mmustermann,
        alice,
        albert,
        alfred,
    }
}

async fn dba_changes(db: &TestDb) {
    let mut dba = Session::open(db).await;
    dba.run("DELETE FROM users_to_client_roles WHERE user_id = 'u1' AND client_role_id = 'c1'")
        .await;
    dba.run("DELETE FROM users_to_realm_roles WHERE user_id = 'u1' AND realm_role_id = 'r1'")
        .await;
    dba.run("DELETE FROM users_to_realm_roles WHERE user_id = 'u3'")
        .await;
    dba.run("DELETE FROM users WHERE id = 'u3'").await;
    dba.run("UPDATE users SET email = 'alice.changed@example.test' WHERE id = 'u2'")
        .await;
    dba.run("UPDATE users SET enabled = FALSE WHERE id = 'u4'")
        .await;
}

/// What Keycloak issues now, one field per row of the table.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    login_has_admin: bool,
    login_has_testrole: bool,
    refresh_has_admin: bool,
    browser_login_has_admin: bool,
    deleted_login_status: u16,
    deleted_refresh_error: Option<String>,
    new_email_in_refresh: bool,
    new_email_in_admin_console: bool,
    disabled_refresh_error: Option<String>,
    disabled_login_error: Option<String>,
}

impl Seen {
    fn right() -> Seen {
        Seen {
            deleted_login_status: refused_login_status(),
            deleted_refresh_error: Some("invalid_grant".into()),
            new_email_in_refresh: true,
            new_email_in_admin_console: true,
            disabled_refresh_error: Some("invalid_grant".into()),
            disabled_login_error: Some("invalid_grant".into()),
            ..Seen::default()
        }
    }
}

fn has_client_admin(token: &Value) -> bool {
    roles(&claims(token), &["resource_access", "testclient", "roles"]).contains(&"admin".into())
}

async fn look(c: &Cached, s: &Sessions) -> Seen {
    let (status, login) = c.kc.login(&c.realm, "mmustermann", "B1Systems!").await;
    assert_eq!(status, 200, "mmustermann still logs in: {login}");
    let (status, refreshed) = c.kc.refresh(&c.realm, &s.mmustermann).await;
    assert_eq!(status, 200, "mmustermann's session goes on: {refreshed}");
    let browser =
        c.kc.browser_login(&c.realm, "mmustermann", "B1Systems!")
            .await
            .expect("the login form lets mmustermann in");
    let (deleted_login_status, _) = c.kc.login(&c.realm, "albert", "albert-pass").await;
    let (_, deleted_refresh) = c.kc.refresh(&c.realm, &s.albert).await;
    let (_, alice) = c.kc.refresh(&c.realm, &s.alice).await;
    let console =
        c.kc.admin(
            reqwest::Method::GET,
            &format!("/{}/users?username=alice&exact=true", c.realm.name),
            None,
        )
        .await;
    let (_, disabled_refresh) = c.kc.refresh(&c.realm, &s.alfred).await;
    let (_, disabled_login) = c.kc.login(&c.realm, "alfred", "alfred-pass").await;
    let error = |v: &Value| v["error"].as_str().map(str::to_owned);
    let new_email = "alice.changed@example.test";
    Seen {
        login_has_admin: has_client_admin(&login),
        login_has_testrole: roles(&claims(&login), &["realm_access", "roles"])
            .contains(&"testrole".into()),
        refresh_has_admin: has_client_admin(&refreshed),
        browser_login_has_admin: has_client_admin(&browser),
        deleted_login_status,
        deleted_refresh_error: error(&deleted_refresh),
        new_email_in_refresh: alice.get("access_token").is_some()
            && claims(&alice)["email"] == new_email,
        new_email_in_admin_console: console.body[0]["email"] == new_email,
        disabled_refresh_error: error(&disabled_refresh),
        disabled_login_error: error(&disabled_login),
    }
}

/// Looks again and again until everything is right or `limit` has passed
/// since `since`; returns how long it took and the last look.
async fn until_right(
    c: &Cached,
    s: &Sessions,
    since: Instant,
    limit: Duration,
) -> (Duration, Seen) {
    loop {
        let seen = look(c, s).await;
        if seen == Seen::right() || since.elapsed() > limit {
            return (since.elapsed(), seen);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn the_feed_makes_every_change_count_at_once(vendor: Vendor) {
    // Ten minutes of staleness: only the feed can explain a quick recovery.
    let c = cached(vendor, true, 600_000).await;
    let sessions = log_in_four(&c).await;

    dba_changes(&c.db).await;
    let changed = Instant::now();
    let before = c.db.checksum().await;
    let (took, seen) = until_right(&c, &sessions, changed, Duration::from_secs(20)).await;

    eprintln!(
        "{vendor:?}: every change seen by logins and refreshes {} ms after the commit",
        took.as_millis()
    );
    assert_eq!(
        seen,
        Seen::right(),
        "{vendor:?}, after {} ms",
        took.as_millis()
    );
    assert_eq!(
        c.db.checksum().await,
        before,
        "Keycloak and the gateway wrote nothing"
    );
}

#[tokio::test]
async fn on_postgres_the_feed_makes_every_change_count_at_once() {
    the_feed_makes_every_change_count_at_once(Vendor::Postgres).await;
}

#[tokio::test]
async fn on_mariadb_the_feed_makes_every_change_count_at_once() {
    the_feed_makes_every_change_count_at_once(Vendor::MariaDb).await;
}

#[tokio::test]
async fn with_the_feed_down_no_cached_user_outlives_max_staleness() {
    let max_staleness = Duration::from_secs(8);
    let c = cached(Vendor::Postgres, false, max_staleness.as_millis() as u64).await;
    let sessions = log_in_four(&c).await;
    let cached_at = Instant::now();

    dba_changes(&c.db).await;
    let before = c.db.checksum().await;
    let stale = look(&c, &sessions).await;
    let looked_within = cached_at.elapsed();
    let limit = max_staleness + Duration::from_secs(6);
    let (took, seen) = until_right(&c, &sessions, cached_at, limit).await;

    eprintln!(
        "without a feed: stale for {} ms after caching (maxStalenessMs {})",
        took.as_millis(),
        max_staleness.as_millis()
    );
    if looked_within < max_staleness {
        // The table: cached users outlive the change for now.
        assert!(
            stale.login_has_admin && stale.refresh_has_admin,
            "{stale:?}"
        );
        assert_eq!(stale.deleted_refresh_error, None, "{stale:?}");
        assert!(!stale.new_email_in_refresh, "{stale:?}");
    }
    assert_eq!(seen, Seen::right(), "after {} ms", took.as_millis());
    assert!(
        took <= limit,
        "right within maxStalenessMs, plus the sweep and the looks themselves: {} ms",
        took.as_millis()
    );
    assert_eq!(
        c.db.checksum().await,
        before,
        "Keycloak and the gateway wrote nothing"
    );
}
