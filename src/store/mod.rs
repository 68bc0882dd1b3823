//! The user store: the configured SQL for each read, run through the dialect
//! seam and turned into users, roles and credentials.

mod model;
mod queries;
mod rows;
mod search;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use crate::dialect::{DbError, Param, Pool, Record, Template};
use crate::metrics::Metrics;

pub use self::model::{Credentials, RoleCatalog, User};
pub use self::queries::{QueryName, MAX_SEARCH_TERMS};
use self::rows::{attribute, client_role, first_row, int, required_text, text, user_from_record};
pub use self::search::search_pattern;
use self::search::{search_params, Search};

/// Store failures. Messages name the query and column, never a value.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("query {query}: {source}")]
    Db {
        query: &'static str,
        #[source]
        source: DbError,
    },
    #[error("query {query} returned no column '{column}'")]
    MissingColumn {
        query: &'static str,
        column: &'static str,
    },
    #[error("query {query}: column '{column}' holds a value of the wrong kind")]
    BadValue {
        query: &'static str,
        column: &'static str,
    },
    #[error("query {query} matched more than one user; lookups must be unique")]
    Ambiguous { query: &'static str },
    #[error("[queries] {0}")]
    Config(String),
}

/// The configured queries over one read-only pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// Shared: the app state, and so the store, is cloned for every request.
    queries: Arc<HashMap<QueryName, Template>>,
    /// The default `search_users` and `count_users` per request shape, keyed
    /// by the number of words (0: everyone); only for those not configured.
    search_shapes: Arc<HashMap<(QueryName, usize), Template>>,
    /// False when `[queries]` configures search or count: then both get the
    /// whole text as one `:search` pattern, so that page and count agree.
    split_words: bool,
    metrics: Option<StoreMetrics>,
    deadline: Option<Duration>,
    /// `[hashing] bcrypt_pepper` is set (see [`User::has_usable_password`]).
    pepper_configured: bool,
}

#[derive(Clone)]
struct StoreMetrics(Metrics);

impl std::fmt::Debug for StoreMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreMetrics")
    }
}

/// The most rows a single-user lookup reads: one more than allowed, to see
/// ambiguity.
const LOOKUP_ROWS: usize = 2;

/// Cap on rows read by queries without their own limit (roles, attributes).
const LIST_ROWS: usize = 100_000;

impl Store {
    /// Builds the query set: defaults, then overrides from `[queries]`.
    /// With `change_log`, the dialect's queries over the shipped change log
    /// are among the defaults. Unknown keys, unknown parameters and a query
    /// configured without its partner are configuration errors.
    ///
    /// `enabled_column`: the default user queries read `users.enabled` too
    /// (`[database] enabled_column`).
    pub fn new(
        pool: Pool,
        overrides: &BTreeMap<String, String>,
        change_log: bool,
        enabled_column: bool,
        metrics: Option<Metrics>,
    ) -> Result<Self, StoreError> {
        let dialect = pool.dialect();
        let searches = [QueryName::SearchUsers, QueryName::CountUsers];
        // Searches and counts are planned for their own patterns.
        let template = |name: QueryName, sql: &str| match searches.contains(&name) {
            true => Template::parse(sql).planned_per_run(),
            false => Template::parse(sql),
        };
        let mut queries = HashMap::new();
        for name in QueryName::ALL {
            if let Some(sql) = name.default_sql(dialect, enabled_column) {
                queries.insert(name, template(name, &sql));
            }
        }
        let split_words = searches.iter().all(|q| !overrides.contains_key(q.key()));
        let mut search_shapes = HashMap::new();
        for name in searches {
            if overrides.contains_key(name.key()) {
                continue;
            }
            for terms in 0..=MAX_SEARCH_TERMS {
                if let Some(sql) = name.default_search_sql(dialect, terms, enabled_column) {
                    search_shapes.insert((name, terms), template(name, &sql));
                }
            }
        }
        if change_log {
            let (changes, bounds) = dialect.change_log_sql();
            queries.insert(QueryName::Changes, Template::parse(changes));
            queries.insert(QueryName::ChangeBounds, Template::parse(bounds));
        }
        for (key, sql) in overrides {
            let name = QueryName::from_key(key)
                .ok_or_else(|| StoreError::Config(format!("unknown query name '{key}'")))?;
            let template = template(name, sql);
            if let Some(bad) = template.param_names().find(|p| !name.params().contains(p)) {
                let allowed: Vec<String> = name.params().iter().map(|p| format!(":{p}")).collect();
                return Err(StoreError::Config(format!(
                    "{key} uses unknown parameter :{bad} (allowed: {})",
                    if allowed.is_empty() {
                        "none".to_owned()
                    } else {
                        allowed.join(", ")
                    }
                )));
            }
            queries.insert(name, template);
        }
        for (a, b) in [
            (QueryName::UserAttributes, QueryName::UserAttributesOfUsers),
            (QueryName::Changes, QueryName::ChangeBounds),
        ] {
            if queries.contains_key(&a) != queries.contains_key(&b) {
                return Err(StoreError::Config(format!(
                    "{} and {} must be configured together",
                    a.key(),
                    b.key()
                )));
            }
        }
        Ok(Self {
            pool,
            queries: Arc::new(queries),
            search_shapes: Arc::new(search_shapes),
            split_words,
            metrics: metrics.map(StoreMetrics),
            deadline: None,
            pepper_configured: false,
        })
    }

    /// Gives up on any query that has not finished within `deadline`,
    /// however the database behaves (answering 503 instead of hanging).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Tells the store that `[hashing] bcrypt_pepper` is set, so that
    /// `bcrypt_peppered` values without a pepper of their own are usable.
    pub fn with_pepper_configured(mut self, configured: bool) -> Self {
        self.pepper_configured = configured;
        self
    }

    /// The pool the queries run on.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The template configured for `name`, if any.
    pub fn template(&self, name: QueryName) -> Option<&Template> {
        self.queries.get(&name)
    }

    /// Runs one configured query and records its count, duration and failures.
    pub async fn run(
        &self,
        name: QueryName,
        params: &[(&str, Param)],
        max_rows: usize,
    ) -> Result<Vec<Record>, StoreError> {
        match self.queries.get(&name) {
            Some(template) => self.run_template(name, template, params, max_rows).await,
            None => Ok(Vec::new()),
        }
    }

    /// Runs `template` on behalf of `name` (for its span, metrics and errors).
    async fn run_template(
        &self,
        name: QueryName,
        template: &Template,
        params: &[(&str, Param)],
        max_rows: usize,
    ) -> Result<Vec<Record>, StoreError> {
        let span = tracing::debug_span!(
            "db.query",
            query = name.key(),
            vendor = self.pool.dialect().name(),
            rows = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let fetch = self.pool.fetch(template, params, max_rows);
        let result = async {
            match self.deadline {
                // The database enforces the statement timeout itself, but a hung
                // or unreachable server cannot: this bounds the wait regardless.
                Some(deadline) => tokio::time::timeout(deadline, fetch)
                    .await
                    .unwrap_or(Err(DbError::TimedOut(deadline))),
                None => fetch.await,
            }
        }
        .instrument(span.clone())
        .await;
        let elapsed = started.elapsed();
        span.record("duration_ms", elapsed.as_secs_f64() * 1000.0);
        if let Ok(rows) = &result {
            span.record("rows", rows.len());
        }
        if let Some(StoreMetrics(m)) = &self.metrics {
            let labels = [("query", name.key())];
            m.counter("userstore_gateway_db_queries_total", &labels)
                .increment(1);
            m.histogram("userstore_gateway_db_query_seconds", &labels)
                .record(elapsed.as_secs_f64());
            if result.is_err() {
                m.counter("userstore_gateway_db_errors_total", &labels)
                    .increment(1);
            }
        }
        result.map_err(|source| StoreError::Db {
            query: name.key(),
            source,
        })
    }

    /// A user with roles and attributes, by id.
    pub async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.lookup(QueryName::UserById, "id", id).await
    }

    /// A user by username, case-insensitively with the default query.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.lookup(QueryName::UserByUsername, "username", username)
            .await
    }

    /// A user by email, case-insensitively with the default query.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.lookup(QueryName::UserByEmail, "email", email).await
    }

    async fn lookup(
        &self,
        name: QueryName,
        param: &str,
        value: &str,
    ) -> Result<Option<User>, StoreError> {
        let Some((user, _)) = self.single_user(name, param, value).await? else {
            return Ok(None);
        };
        let mut users = [user];
        self.attach_roles_and_attributes(&mut users, false).await?;
        let [user] = users;
        Ok(Some(user))
    }

    /// Whether the user may log in and their stored hash, by id; one query.
    pub async fn credentials(&self, id: &str) -> Result<Option<Credentials>, StoreError> {
        Ok(self
            .single_user(QueryName::UserById, "id", id)
            .await?
            .map(|(user, password_hash)| Credentials {
                enabled: user.enabled,
                password_hash,
            }))
    }

    async fn single_user(
        &self,
        name: QueryName,
        param: &str,
        value: &str,
    ) -> Result<Option<(User, Option<String>)>, StoreError> {
        let rows = self
            .run(name, &[(param, Param::Text(value.to_owned()))], LOOKUP_ROWS)
            .await?;
        match rows.as_slice() {
            [] => Ok(None),
            [row] => user_from_record(row, name, self.pepper_configured).map(Some),
            _ => Err(StoreError::Ambiguous { query: name.key() }),
        }
    }

    /// One page of users matching Keycloak's search syntax, ordered by
    /// username, with roles and attributes loaded for the whole page at once.
    pub async fn search(
        &self,
        search: &str,
        first: u32,
        max: u32,
    ) -> Result<Vec<User>, StoreError> {
        let rows = self
            .run_search(QueryName::SearchUsers, search, first, max, max as usize)
            .await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            users.push(user_from_record(row, QueryName::SearchUsers, self.pepper_configured)?.0);
        }
        self.attach_roles_and_attributes(&mut users, true).await?;
        Ok(users)
    }

    /// Runs `search_users` or `count_users` for Keycloak's search `text`
    /// (see [`Store::search_statement`]).
    async fn run_search(
        &self,
        name: QueryName,
        text: &str,
        first: u32,
        max: u32,
        max_rows: usize,
    ) -> Result<Vec<Record>, StoreError> {
        match self.search_statement(name, text, first, max) {
            Some((template, params)) => self.run_template(name, template, &params, max_rows).await,
            None => Ok(Vec::new()),
        }
    }

    /// The statement and parameters that `search_users` or `count_users`
    /// runs for Keycloak's search `text`: the default in the shape of the
    /// request (no filter for everyone, one pattern per word otherwise), or
    /// the configured query with the whole text as one pattern. See
    /// [`Search`].
    pub fn search_statement(
        &self,
        name: QueryName,
        text: &str,
        first: u32,
        max: u32,
    ) -> Option<(&Template, Vec<(&'static str, Param)>)> {
        let search = match Search::parse(text) {
            Search::Terms(_) if !self.split_words => Search::Terms(vec![search_pattern(text)]),
            search => search,
        };
        match self.search_shapes.get(&(name, search.terms())) {
            Some(template) => Some((template, search.params(first, max))),
            None => Some((self.queries.get(&name)?, search_params(text, first, max))),
        }
    }

    /// Fills in the roles and attributes of `users`: a lookup's one user with
    /// the single-user queries, a search page with their list twins (one
    /// statement per kind for the whole page). Rows of other users are ignored.
    async fn attach_roles_and_attributes(
        &self,
        users: &mut [User],
        page: bool,
    ) -> Result<(), StoreError> {
        let (realm_q, client_q, attributes_q, params) = match (page, &*users) {
            (_, []) => return Ok(()),
            (false, [user]) => (
                QueryName::RealmRolesOfUser,
                QueryName::ClientRolesOfUser,
                QueryName::UserAttributes,
                [("user_id", Param::Text(user.id.clone()))],
            ),
            _ => (
                QueryName::RealmRolesOfUsers,
                QueryName::ClientRolesOfUsers,
                QueryName::UserAttributesOfUsers,
                [(
                    "user_ids",
                    Param::TextList(users.iter().map(|u| u.id.clone()).collect()),
                )],
            ),
        };
        let (realm, client, attributes) = tokio::try_join!(
            self.run(realm_q, &params, LIST_ROWS),
            self.run(client_q, &params, LIST_ROWS),
            self.run(attributes_q, &params, LIST_ROWS),
        )?;
        let single = !page;
        let index: HashMap<String, usize> = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i))
            .collect();
        // The single-user queries return no user_id: every row is that user's.
        let owner = |row: &Record, query| -> Result<Option<usize>, StoreError> {
            if single {
                return Ok(Some(0));
            }
            Ok(index.get(&required_text(row, query, "user_id")?).copied())
        };
        for row in &realm {
            if let Some(i) = owner(row, realm_q)? {
                users[i]
                    .realm_roles
                    .push(required_text(row, realm_q, "role")?);
            }
        }
        for row in &client {
            if let Some(i) = owner(row, client_q)? {
                let (client, role) = client_role(row, client_q)?;
                users[i].client_roles.entry(client).or_default().push(role);
            }
        }
        for row in &attributes {
            if let Some(i) = owner(row, attributes_q)? {
                let (key, value) = attribute(row, attributes_q)?;
                users[i].attributes.entry(key).or_default().push(value);
            }
        }
        Ok(())
    }

    /// How many users match the search, counted by the database.
    pub async fn count(&self, search: &str) -> Result<i64, StoreError> {
        let rows = self
            .run_search(QueryName::CountUsers, search, 0, 0, 1)
            .await?;
        int(
            first_row(&rows, QueryName::CountUsers, "count")?,
            QueryName::CountUsers,
            "count",
        )
    }

    /// True when the change feed's queries are configured.
    pub fn has_change_log(&self) -> bool {
        self.queries.contains_key(&QueryName::Changes)
    }

    /// The change log's `(head, horizon)`: where a new reader starts, and
    /// the newest cursor whose entries may have been purged.
    pub async fn change_bounds(&self) -> Result<(i64, i64), StoreError> {
        let query = QueryName::ChangeBounds;
        let rows = self.run(query, &[], 1).await?;
        let row = first_row(&rows, query, "head")?;
        Ok((int(row, query, "head")?, int(row, query, "horizon")?))
    }

    /// At most `limit` change-log entries after `cursor`, in cursor order:
    /// `(cursor, user id)`, where no user id means the role catalogue changed.
    pub async fn changes_after(
        &self,
        cursor: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Option<String>)>, StoreError> {
        let query = QueryName::Changes;
        let params = [
            ("cursor", Param::Int(cursor)),
            ("limit", Param::Int(limit.into())),
        ];
        let rows = self.run(query, &params, limit as usize).await?;
        rows.iter()
            .map(|row| Ok((int(row, query, "cursor")?, text(row, query, "user_id")?)))
            .collect()
    }

    /// Every realm role and client role in the database.
    pub async fn all_roles(&self) -> Result<RoleCatalog, StoreError> {
        let (realm, client) = tokio::try_join!(
            self.run(QueryName::AllRealmRoles, &[], LIST_ROWS),
            self.run(QueryName::AllClientRoles, &[], LIST_ROWS),
        )?;
        let mut catalog = RoleCatalog::default();
        for row in &realm {
            catalog
                .realm_roles
                .push(required_text(row, QueryName::AllRealmRoles, "role")?);
        }
        for row in &client {
            let (client, role) = client_role(row, QueryName::AllClientRoles)?;
            catalog.client_roles.entry(client).or_default().push(role);
        }
        Ok(catalog)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_query_names_are_rejected() {
        let pool = test_pool();
        let overrides = BTreeMap::from([("user_by_nickname".to_owned(), "SELECT 1".to_owned())]);
        let err = Store::new(pool, &overrides, false, false, None).expect_err("unknown key");
        assert!(err.to_string().contains("user_by_nickname"));
    }

    #[tokio::test]
    async fn parameters_outside_the_query_contract_are_rejected() {
        let pool = test_pool();
        let overrides = BTreeMap::from([(
            "user_by_id".to_owned(),
            "SELECT * FROM u WHERE x = :username".to_owned(),
        )]);
        let err = Store::new(pool, &overrides, false, false, None).expect_err("wrong parameter");
        assert!(err.to_string().contains(":username"), "{err}");
        assert!(err.to_string().contains(":id"), "{err}");
    }

    #[tokio::test]
    async fn attribute_queries_come_in_pairs() {
        let pool = test_pool();
        let overrides = BTreeMap::from([(
            "user_attributes".to_owned(),
            "SELECT name, value FROM a WHERE user_id = :user_id".to_owned(),
        )]);
        assert!(Store::new(pool, &overrides, false, false, None).is_err());
    }

    fn test_pool() -> Pool {
        let settings = crate::settings::DatabaseSettings {
            url: crate::settings::Secret::new("sqlite::memory:"),
            max_connections: 1,
            acquire_timeout_ms: 1000,
            statement_timeout_ms: 0,
            enabled_column: false,
        };
        Pool::open(&settings, crate::dialect::Access::Writable).expect("pool")
    }
}
