//! What one login asks of the gateway (issue 15): the requests of a password
//! grant, a login through the browser form and a token refresh, with cache
//! policy DEFAULT and NO_CACHE, counted by the gateway itself and held to
//! the numbers docs/performance.md promises ("Gateway requests per login").

use std::collections::BTreeMap;

use crate::support::gateway::{fixture_db, settings, spawn_app_with, TestApp, TOKEN};
use crate::support::keycloak::{claims, keycloak, Keycloak, Realm};
use crate::support::Vendor;

/// The gateway's requests so far, by kind and by route.
#[derive(Debug, Clone, Default, PartialEq)]
struct Requests {
    /// By id, username or email.
    lookups: u64,
    verifies: u64,
    /// Searches, counts, the role catalogue: none belongs in a login.
    other: u64,
    routes: BTreeMap<String, u64>,
}

impl Requests {
    async fn of(gateway: &TestApp) -> Self {
        let text = reqwest::get(format!("{}/metrics", gateway.base))
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("metrics text");
        let mut requests = Requests::default();
        for line in text
            .lines()
            .filter(|l| l.starts_with("userstore_gateway_http_requests_total{"))
        {
            let route = line
                .split("route=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_default();
            let count = line
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse::<f64>().ok())
                .unwrap_or_default() as u64;
            *requests.routes.entry(route.to_owned()).or_default() += count;
            match route {
                "/v1/users/{id}/verify-password" => requests.verifies += count,
                "/v1/users/{id}"
                | "/v1/users/by-username/{username}"
                | "/v1/users/by-email/{email}" => requests.lookups += count,
                // The change feed runs beside logins; health and metrics are not Keycloak's.
                "/v1/changes" | "/metrics" | "/healthz" | "/readyz" => {}
                _ => requests.other += count,
            }
        }
        requests
    }

    fn since(self, before: Requests) -> Requests {
        let mut routes = self.routes;
        for (route, count) in &before.routes {
            *routes.entry(route.clone()).or_default() -= count;
        }
        routes.retain(|_, count| *count > 0);
        Requests {
            lookups: self.lookups - before.lookups,
            verifies: self.verifies - before.verifies,
            other: self.other - before.other,
            routes,
        }
    }
}

/// The most one kind of login may ask: `lookups` at most, exactly `verifies`.
struct Budget {
    what: &'static str,
    lookups: u64,
    verifies: u64,
}

impl Budget {
    fn check(&self, made: Requests) {
        assert!(
            made.lookups <= self.lookups && made.verifies == self.verifies && made.other == 0,
            "{}: the gateway saw {made:?}; docs/performance.md promises at most {} lookups, \
             exactly {} password checks and nothing else",
            self.what,
            self.lookups,
            self.verifies
        );
    }
}

struct Setup {
    gateway: TestApp,
    kc: &'static Keycloak,
    realm: Realm,
    _db: crate::support::TestDb,
}

async fn setup(cache_policy: &str) -> Setup {
    let db = fixture_db(Vendor::Postgres).await;
    let gateway = spawn_app_with(settings(&db, &[])).await;
    let kc = keycloak().await;
    let realm = kc
        .realm_with(
            &gateway.base,
            TOKEN,
            &[("cachePolicy", cache_policy)],
            serde_json::json!({}),
        )
        .await;
    Setup {
        gateway,
        kc,
        realm,
        _db: db,
    }
}

impl Setup {
    async fn grant(&self, budget: Budget, username: &str, password: &str) -> serde_json::Value {
        let before = Requests::of(&self.gateway).await;
        let (status, token) = self.kc.login(&self.realm, username, password).await;
        assert_eq!(status, 200, "{}: {token}", budget.what);
        assert!(claims(&token)["preferred_username"] == username);
        budget.check(Requests::of(&self.gateway).await.since(before));
        token
    }

    async fn form(&self, budget: Budget, username: &str, password: &str) {
        let before = Requests::of(&self.gateway).await;
        let token = self
            .kc
            .browser_login(&self.realm, username, password)
            .await
            .unwrap_or_else(|| panic!("{}: the login form refused {username}", budget.what));
        assert!(claims(&token)["preferred_username"] == username);
        budget.check(Requests::of(&self.gateway).await.since(before));
    }

    async fn refresh(&self, budget: Budget, token: &serde_json::Value) {
        let before = Requests::of(&self.gateway).await;
        let (status, refreshed) = self.kc.refresh(&self.realm, token).await;
        assert_eq!(status, 200, "{}: {refreshed}", budget.what);
        budget.check(Requests::of(&self.gateway).await.since(before));
    }
}

#[tokio::test]
async fn a_login_with_the_user_cache_makes_one_lookup_at_most_and_one_password_check() {
    let s = setup("DEFAULT").await;
    let first = Budget {
        what: "DEFAULT, password grant, user not cached",
        lookups: 1,
        verifies: 1,
    };
    let token = s.grant(first, "mmustermann", "B1Systems!").await;
    let again = Budget {
        what: "DEFAULT, password grant, user cached",
        lookups: 0,
        verifies: 1,
    };
    s.grant(again, "mmustermann", "B1Systems!").await;
    let refresh = Budget {
        what: "DEFAULT, refresh, user cached",
        lookups: 0,
        verifies: 0,
    };
    s.refresh(refresh, &token).await;
    let form_cached = Budget {
        what: "DEFAULT, login form, user cached",
        lookups: 0,
        verifies: 1,
    };
    s.form(form_cached, "mmustermann", "B1Systems!").await;
    let form_first = Budget {
        what: "DEFAULT, login form, user not cached",
        lookups: 1,
        verifies: 1,
    };
    s.form(form_first, "alice", "alice-pass").await;
}

#[tokio::test]
async fn a_login_without_the_user_cache_looks_the_user_up_once_per_request() {
    let s = setup("NO_CACHE").await;
    for _ in 0..2 {
        let grant = Budget {
            what: "NO_CACHE, password grant",
            lookups: 1,
            verifies: 1,
        };
        let token = s.grant(grant, "mmustermann", "B1Systems!").await;
        let refresh = Budget {
            what: "NO_CACHE, refresh",
            lookups: 1,
            verifies: 0,
        };
        s.refresh(refresh, &token).await;
        // The form's POST finds the user by name; the code exchange, a
        // request of its own, by id.
        let form = Budget {
            what: "NO_CACHE, login form (form post and code exchange)",
            lookups: 2,
            verifies: 1,
        };
        s.form(form, "mmustermann", "B1Systems!").await;
    }
}
