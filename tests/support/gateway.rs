//! `spawn_app`: the real gateway on port 0 against a test database.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use reqwest::{Method, Response};
use serde_json::Value;
use tokio::sync::oneshot;
use userstore_gateway::settings::{
    AuthSettings, DatabaseSettings, HashingSettings, Secret, ServerSettings, Settings,
};

use super::{TestDb, Vendor};

/// The token every test app accepts.
pub const TOKEN: &str = "test-token-0123456789";

/// The fixture users (see tests/fixtures/users.sql).
pub const FIXTURE: &str = include_str!("../fixtures/users.sql");

/// A database with the reference schema and the fixture users.
pub async fn fixture_db(vendor: Vendor) -> TestDb {
    let db = TestDb::with_schema(vendor).await;
    db.run_script(FIXTURE).await;
    db
}

/// [`fixture_db`] with the optional change log (`0002_change_log.sql`)
/// installed first, so the fixture's own inserts are in the log too.
pub async fn fixture_db_with_change_log(vendor: Vendor) -> TestDb {
    let db = TestDb::with_schema(vendor).await;
    db.apply_migration("0002_change_log.sql").await;
    db.run_script(FIXTURE).await;
    db
}

/// [`settings`] with the change feed on (`[changes] enabled = true`) and a
/// short poll interval.
pub fn feed_settings(db: &TestDb, queries: &[(&str, &str)]) -> Settings {
    let mut settings = settings(db, queries);
    settings.changes.enabled = true;
    settings.changes.poll_interval_ms = 200;
    settings
}

/// Settings for a test app on `db` with `queries` overrides.
pub fn settings(db: &TestDb, queries: &[(&str, &str)]) -> Settings {
    Settings {
        server: ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..ServerSettings::default()
        },
        database: DatabaseSettings {
            url: Secret::new(db.url()),
            max_connections: 4,
            acquire_timeout_ms: 5_000,
            statement_timeout_ms: 5_000,
            enabled_column: false,
        },
        auth: AuthSettings {
            api_tokens: vec![Secret::new(TOKEN)],
        },
        queries: queries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        hashing: HashingSettings::default(),
        changes: Default::default(),
    }
}

/// A running gateway; stops when dropped.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts the gateway on `db` with the default queries.
pub async fn spawn_app(db: &TestDb) -> TestApp {
    spawn_app_with(settings(db, &[])).await
}

/// Starts the gateway with explicit settings.
pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let app = userstore_gateway::app::build(&settings).expect("app builds");
    let listener = tokio::net::TcpListener::bind(settings.server.listen)
        .await
        .expect("bind port 0");
    let address = listener.local_addr().expect("local address");
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        app.serve(listener, async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    let scheme = if settings.server.tls.is_some() {
        "https"
    } else {
        "http"
    };
    TestApp {
        base: format!("{scheme}://{address}"),
        client: reqwest::Client::new(),
        shutdown: Some(tx),
    }
}

impl TestApp {
    /// An authorized request.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request is answered")
    }

    /// Authorized GET returning status and JSON body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.send(Method::GET, path, None).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `verify-password` for `id`; the `valid` field.
    pub async fn verify(&self, id: &str, password: &str) -> bool {
        let response = self
            .send(
                Method::POST,
                &format!("/v1/users/{id}/verify-password"),
                Some(serde_json::json!({ "password": password })),
            )
            .await;
        assert_eq!(response.status(), 200, "verify-password for {id}");
        let body: Value = response.json().await.expect("json");
        body["valid"].as_bool().expect("valid is a boolean")
    }

    /// The value of one metric sample from `/metrics` (0 when absent).
    pub async fn metric(&self, name: &str, label: &str) -> f64 {
        let text = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .filter(|l| l.starts_with(name) && l.contains(label))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

/// The usernames of a `{"users": [...]}` page, in order.
pub fn usernames(page: &Value) -> Vec<String> {
    page["users"]
        .as_array()
        .expect("users array")
        .iter()
        .map(|u| u["username"].as_str().expect("username").to_owned())
        .collect()
}

/// Declares one `#[tokio::test]` per vendor for each scenario function
/// (`async fn scenario(Vendor)`), in modules `sqlite`, `postgres` and
/// `mariadb`, so the vendors run in parallel and fail independently.
/// Attributes in braces before a `;` go on every generated test:
/// `on_every_vendor!({ #[should_panic] }; scenario)`.
#[allow(unused_macros)]
macro_rules! on_every_vendor {
    (@test {$($attr:tt)*} $vendor:ident $scenario:ident) => {
        $($attr)*
        #[tokio::test]
        async fn $scenario() {
            super::$scenario(crate::support::Vendor::$vendor).await
        }
    };
    ($attrs:tt ; $($scenario:ident),+ $(,)?) => {
        mod sqlite {
            $(on_every_vendor!(@test $attrs Sqlite $scenario);)+
        }
        mod postgres {
            $(on_every_vendor!(@test $attrs Postgres $scenario);)+
        }
        mod mariadb {
            $(on_every_vendor!(@test $attrs MariaDb $scenario);)+
        }
    };
    ($($scenario:ident),+ $(,)?) => {
        on_every_vendor!({} ; $($scenario),+);
    };
}
