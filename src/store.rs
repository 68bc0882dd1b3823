//! The user store: the configured SQL for each read, run through the dialect
//! seam and turned into users, roles and credentials.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::Serialize;
use utoipa::ToSchema;

use crate::dialect::{DbError, Param, Pool, Record, Template, Value};
use crate::metrics::Metrics;

/// The columns every user query returns (plus the optional `enabled`).
const USER_COLUMNS: &str =
    "id, username, email, firstname, lastname, email_verified, createdtimestamp, password_hash";

/// The LIKE condition shared by search and count: `:search` is already
/// lower-cased and uses `!` as its escape character (see [`search_pattern`]).
const SEARCH_FILTER: &str = "lower(username) LIKE :search ESCAPE '!' \
    OR lower(email) LIKE :search ESCAPE '!' \
    OR lower(firstname) LIKE :search ESCAPE '!' \
    OR lower(lastname) LIKE :search ESCAPE '!'";

/// Every read the gateway can make, each one SQL statement that `[queries]`
/// may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryName {
    UserById,
    UserByUsername,
    UserByEmail,
    SearchUsers,
    CountUsers,
    RealmRolesOfUser,
    ClientRolesOfUser,
    RealmRolesOfUsers,
    ClientRolesOfUsers,
    AllRealmRoles,
    AllClientRoles,
    UserAttributes,
    UserAttributesOfUsers,
    Changes,
    ChangeBounds,
}

impl QueryName {
    /// All queries, in the order `check` reports them.
    pub const ALL: [QueryName; 15] = [
        Self::UserById,
        Self::UserByUsername,
        Self::UserByEmail,
        Self::SearchUsers,
        Self::CountUsers,
        Self::RealmRolesOfUser,
        Self::ClientRolesOfUser,
        Self::RealmRolesOfUsers,
        Self::ClientRolesOfUsers,
        Self::AllRealmRoles,
        Self::AllClientRoles,
        Self::UserAttributes,
        Self::UserAttributesOfUsers,
        Self::Changes,
        Self::ChangeBounds,
    ];

    /// The key under `[queries]`.
    pub fn key(self) -> &'static str {
        match self {
            Self::UserById => "user_by_id",
            Self::UserByUsername => "user_by_username",
            Self::UserByEmail => "user_by_email",
            Self::SearchUsers => "search_users",
            Self::CountUsers => "count_users",
            Self::RealmRolesOfUser => "realm_roles_of_user",
            Self::ClientRolesOfUser => "client_roles_of_user",
            Self::RealmRolesOfUsers => "realm_roles_of_users",
            Self::ClientRolesOfUsers => "client_roles_of_users",
            Self::AllRealmRoles => "all_realm_roles",
            Self::AllClientRoles => "all_client_roles",
            Self::UserAttributes => "user_attributes",
            Self::UserAttributesOfUsers => "user_attributes_of_users",
            Self::Changes => "changes",
            Self::ChangeBounds => "change_bounds",
        }
    }

    /// The named parameters the query may use.
    pub fn params(self) -> &'static [&'static str] {
        match self {
            Self::UserById => &["id"],
            Self::UserByUsername => &["username"],
            Self::UserByEmail => &["email"],
            Self::SearchUsers | Self::CountUsers => &["search", "offset", "limit"],
            Self::RealmRolesOfUser | Self::ClientRolesOfUser | Self::UserAttributes => &["user_id"],
            Self::RealmRolesOfUsers | Self::ClientRolesOfUsers | Self::UserAttributesOfUsers => {
                &["user_ids"]
            }
            Self::Changes => &["cursor", "limit"],
            Self::AllRealmRoles | Self::AllClientRoles | Self::ChangeBounds => &[],
        }
    }

    /// The columns the query must return.
    pub fn required_columns(self) -> &'static [&'static str] {
        const USER: &[&str] = &[
            "id",
            "username",
            "email",
            "firstname",
            "lastname",
            "email_verified",
            "createdtimestamp",
            "password_hash",
        ];
        match self {
            Self::UserById | Self::UserByUsername | Self::UserByEmail | Self::SearchUsers => USER,
            Self::CountUsers => &["count"],
            Self::RealmRolesOfUser | Self::AllRealmRoles => &["role"],
            Self::ClientRolesOfUser | Self::AllClientRoles => &["client", "role"],
            Self::RealmRolesOfUsers => &["user_id", "role"],
            Self::ClientRolesOfUsers => &["user_id", "client", "role"],
            Self::UserAttributes => &["name", "value"],
            Self::UserAttributesOfUsers => &["user_id", "name", "value"],
            Self::Changes => &["cursor", "user_id"],
            Self::ChangeBounds => &["head", "horizon"],
        }
    }

    /// The SQL used when `[queries]` does not name this query; `None` for
    /// the attribute queries, which the reference schema does not have, and
    /// for the change-log queries, whose SQL differs per dialect
    /// ([`crate::dialect::Dialect::change_log_sql`]).
    /// The defaults are plain SQL that PostgreSQL, MariaDB/MySQL and SQLite
    /// all accept.
    pub fn default_sql(self) -> Option<String> {
        let user = |filter: &str| format!("SELECT {USER_COLUMNS} FROM users WHERE {filter}");
        Some(match self {
            Self::UserById => user("id = :id"),
            Self::UserByUsername => user("lower(username) = lower(:username)"),
            Self::UserByEmail => user("lower(email) = lower(:email)"),
            Self::SearchUsers => format!(
                "SELECT {USER_COLUMNS} FROM users WHERE {SEARCH_FILTER} \
                 ORDER BY username, id LIMIT :limit OFFSET :offset"
            ),
            Self::CountUsers => {
                format!("SELECT count(*) AS count FROM users WHERE {SEARCH_FILTER}")
            }
            Self::RealmRolesOfUser => "SELECT r.role AS role FROM realm_roles r \
                 JOIN users_to_realm_roles ur ON ur.realm_role_id = r.id \
                 WHERE ur.user_id = :user_id ORDER BY r.role"
                .into(),
            Self::ClientRolesOfUser => {
                "SELECT c.client AS client, c.role AS role FROM client_roles c \
                 JOIN users_to_client_roles uc ON uc.client_role_id = c.id \
                 WHERE uc.user_id = :user_id ORDER BY c.client, c.role"
                    .into()
            }
            Self::RealmRolesOfUsers => {
                "SELECT ur.user_id AS user_id, r.role AS role FROM realm_roles r \
                 JOIN users_to_realm_roles ur ON ur.realm_role_id = r.id \
                 WHERE ur.user_id IN (:user_ids) ORDER BY r.role"
                    .into()
            }
            Self::ClientRolesOfUsers => {
                "SELECT uc.user_id AS user_id, c.client AS client, c.role AS role \
                 FROM client_roles c JOIN users_to_client_roles uc ON uc.client_role_id = c.id \
                 WHERE uc.user_id IN (:user_ids) ORDER BY c.client, c.role"
                    .into()
            }
            Self::AllRealmRoles => "SELECT DISTINCT role FROM realm_roles ORDER BY role".into(),
            Self::AllClientRoles => {
                "SELECT DISTINCT client, role FROM client_roles ORDER BY client, role".into()
            }
            Self::UserAttributes
            | Self::UserAttributesOfUsers
            | Self::Changes
            | Self::ChangeBounds => return None,
        })
    }

    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.key() == key)
    }
}

/// Turns Keycloak's admin search syntax into a lower-case LIKE pattern with
/// `!` as escape character: `foo` is a prefix match, `*` is a wildcard, a
/// value in double quotes matches exactly, and empty or `*` matches all.
pub fn search_pattern(search: &str) -> String {
    let search = search.trim();
    let (body, exact) = match search.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) => (inner, true),
        None => (search, false),
    };
    let mut pattern = String::with_capacity(body.len() + 1);
    let mut ends_with_wildcard = false;
    for c in body.chars() {
        ends_with_wildcard = false;
        match c {
            '!' | '%' | '_' => {
                pattern.push('!');
                pattern.push(c);
            }
            '*' if !exact => {
                pattern.push('%');
                ends_with_wildcard = true;
            }
            _ => pattern.extend(c.to_lowercase()),
        }
    }
    if !exact && !ends_with_wildcard {
        pattern.push('%');
    }
    pattern
}

/// A user as the API shows it. Roles and attributes are filled in by the
/// store; the password hash is never part of it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[schema(example = "1")]
    pub id: String,
    #[schema(example = "mmustermann")]
    pub username: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub enabled: bool,
    pub email_verified: bool,
    /// Milliseconds since the epoch.
    pub created_timestamp: Option<i64>,
    /// Extra attributes from the optional `user_attributes` query; multi-valued.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Realm role names.
    pub realm_roles: Vec<String>,
    /// Client role names by Keycloak clientId.
    pub client_roles: BTreeMap<String, Vec<String>>,
}

/// What password verification needs to know about a user.
pub struct Credentials {
    pub enabled: bool,
    pub password_hash: Option<String>,
}

/// Every role the database knows.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleCatalog {
    pub realm_roles: Vec<String>,
    pub client_roles: BTreeMap<String, Vec<String>>,
}

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
    queries: HashMap<QueryName, Template>,
    metrics: Option<StoreMetrics>,
    deadline: Option<Duration>,
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
    pub fn new(
        pool: Pool,
        overrides: &BTreeMap<String, String>,
        change_log: bool,
        metrics: Option<Metrics>,
    ) -> Result<Self, StoreError> {
        let mut queries = HashMap::new();
        for name in QueryName::ALL {
            if let Some(sql) = name.default_sql() {
                queries.insert(name, Template::parse(&sql));
            }
        }
        if change_log {
            let (changes, bounds) = pool.dialect().change_log_sql();
            queries.insert(QueryName::Changes, Template::parse(changes));
            queries.insert(QueryName::ChangeBounds, Template::parse(bounds));
        }
        for (key, sql) in overrides {
            let name = QueryName::from_key(key)
                .ok_or_else(|| StoreError::Config(format!("unknown query name '{key}'")))?;
            let template = Template::parse(sql);
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
            queries,
            metrics: metrics.map(StoreMetrics),
            deadline: None,
        })
    }

    /// Gives up on any query that has not finished within `deadline`,
    /// however the database behaves (answering 503 instead of hanging).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
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
        let Some(template) = self.queries.get(&name) else {
            return Ok(Vec::new());
        };
        let started = Instant::now();
        let fetch = self.pool.fetch(template, params, max_rows);
        let result = match self.deadline {
            // The database enforces the statement timeout itself, but a hung
            // or unreachable server cannot: this bounds the wait regardless.
            Some(deadline) => tokio::time::timeout(deadline, fetch)
                .await
                .unwrap_or(Err(DbError::TimedOut(deadline))),
            None => fetch.await,
        };
        if let Some(StoreMetrics(m)) = &self.metrics {
            let labels = [("query", name.key())];
            m.counter("userstore_gateway_db_queries_total", &labels)
                .increment(1);
            m.histogram("userstore_gateway_db_query_seconds", &labels)
                .record(started.elapsed().as_secs_f64());
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
        let Some((mut user, _)) = self.single_user(name, param, value).await? else {
            return Ok(None);
        };
        let id = [("user_id", Param::Text(user.id.clone()))];
        let (realm, client, attributes) = tokio::try_join!(
            self.run(QueryName::RealmRolesOfUser, &id, LIST_ROWS),
            self.run(QueryName::ClientRolesOfUser, &id, LIST_ROWS),
            self.run(QueryName::UserAttributes, &id, LIST_ROWS),
        )?;
        for row in &realm {
            user.realm_roles
                .push(required_text(row, QueryName::RealmRolesOfUser, "role")?);
        }
        for row in &client {
            let (client, role) = client_role(row, QueryName::ClientRolesOfUser)?;
            user.client_roles.entry(client).or_default().push(role);
        }
        for row in &attributes {
            let (key, value) = attribute(row, QueryName::UserAttributes)?;
            user.attributes.entry(key).or_default().push(value);
        }
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
            [row] => user_from_record(row, name).map(Some),
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
        let params = search_params(search, first, max);
        let rows = self
            .run(QueryName::SearchUsers, &params, max as usize)
            .await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            users.push(user_from_record(row, QueryName::SearchUsers)?.0);
        }
        if users.is_empty() {
            return Ok(users);
        }
        let ids = [(
            "user_ids",
            Param::TextList(users.iter().map(|u| u.id.clone()).collect()),
        )];
        let (realm, client, attributes) = tokio::try_join!(
            self.run(QueryName::RealmRolesOfUsers, &ids, LIST_ROWS),
            self.run(QueryName::ClientRolesOfUsers, &ids, LIST_ROWS),
            self.run(QueryName::UserAttributesOfUsers, &ids, LIST_ROWS),
        )?;
        let index: HashMap<String, usize> = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i))
            .collect();
        let owner = |row: &Record, query| -> Result<Option<usize>, StoreError> {
            Ok(index.get(&required_text(row, query, "user_id")?).copied())
        };
        for row in &realm {
            if let Some(i) = owner(row, QueryName::RealmRolesOfUsers)? {
                let role = required_text(row, QueryName::RealmRolesOfUsers, "role")?;
                users[i].realm_roles.push(role);
            }
        }
        for row in &client {
            if let Some(i) = owner(row, QueryName::ClientRolesOfUsers)? {
                let (client, role) = client_role(row, QueryName::ClientRolesOfUsers)?;
                users[i].client_roles.entry(client).or_default().push(role);
            }
        }
        for row in &attributes {
            if let Some(i) = owner(row, QueryName::UserAttributesOfUsers)? {
                let (key, value) = attribute(row, QueryName::UserAttributesOfUsers)?;
                users[i].attributes.entry(key).or_default().push(value);
            }
        }
        Ok(users)
    }

    /// How many users match the search, counted by the database.
    pub async fn count(&self, search: &str) -> Result<i64, StoreError> {
        let params = search_params(search, 0, 0);
        let rows = self.run(QueryName::CountUsers, &params, 1).await?;
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

fn search_params(search: &str, first: u32, max: u32) -> [(&'static str, Param); 3] {
    [
        ("search", Param::Text(search_pattern(search))),
        ("offset", Param::Int(first.into())),
        ("limit", Param::Int(max.into())),
    ]
}

fn first_row<'a>(
    rows: &'a [Record],
    query: QueryName,
    column: &'static str,
) -> Result<&'a Record, StoreError> {
    rows.first().ok_or(StoreError::MissingColumn {
        query: query.key(),
        column,
    })
}

fn int(row: &Record, query: QueryName, column: &'static str) -> Result<i64, StoreError> {
    let bad = || StoreError::BadValue {
        query: query.key(),
        column,
    };
    match row.get(column) {
        Some(Value::Int(n)) => Ok(*n),
        Some(Value::Text(s)) => s.trim().parse().map_err(|_| bad()),
        Some(_) => Err(bad()),
        None => Err(StoreError::MissingColumn {
            query: query.key(),
            column,
        }),
    }
}

fn text(
    row: &Record,
    query: QueryName,
    column: &'static str,
) -> Result<Option<String>, StoreError> {
    match row.get(column) {
        None => Err(StoreError::MissingColumn {
            query: query.key(),
            column,
        }),
        Some(Value::Null) => Ok(None),
        Some(Value::Text(s)) => Ok(Some(s.clone())),
        Some(Value::Int(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
    }
}

fn required_text(
    row: &Record,
    query: QueryName,
    column: &'static str,
) -> Result<String, StoreError> {
    text(row, query, column)?.ok_or(StoreError::BadValue {
        query: query.key(),
        column,
    })
}

fn flag(
    row: &Record,
    query: QueryName,
    column: &'static str,
    default: bool,
) -> Result<bool, StoreError> {
    let bad = || StoreError::BadValue {
        query: query.key(),
        column,
    };
    match row.get(column) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Int(n)) => Ok(*n != 0),
        Some(Value::Text(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "t" | "true" | "y" | "yes" | "on" => Ok(true),
            "0" | "f" | "false" | "n" | "no" | "off" => Ok(false),
            _ => Err(bad()),
        },
    }
}

fn user_from_record(row: &Record, query: QueryName) -> Result<(User, Option<String>), StoreError> {
    let created = match row.get("createdtimestamp") {
        None => {
            return Err(StoreError::MissingColumn {
                query: query.key(),
                column: "createdtimestamp",
            })
        }
        Some(Value::Null) => None,
        Some(Value::Int(n)) => Some(*n),
        Some(Value::Text(s)) => Some(s.trim().parse().map_err(|_| StoreError::BadValue {
            query: query.key(),
            column: "createdtimestamp",
        })?),
        Some(Value::Bool(_)) => {
            return Err(StoreError::BadValue {
                query: query.key(),
                column: "createdtimestamp",
            })
        }
    };
    if row.get("email_verified").is_none() {
        return Err(StoreError::MissingColumn {
            query: query.key(),
            column: "email_verified",
        });
    }
    let user = User {
        id: required_text(row, query, "id")?,
        username: required_text(row, query, "username")?,
        email: text(row, query, "email")?,
        first_name: text(row, query, "firstname")?,
        last_name: text(row, query, "lastname")?,
        enabled: flag(row, query, "enabled", true)?,
        email_verified: flag(row, query, "email_verified", false)?,
        created_timestamp: created,
        attributes: BTreeMap::new(),
        realm_roles: Vec::new(),
        client_roles: BTreeMap::new(),
    };
    let hash = text(row, query, "password_hash")?;
    Ok((user, hash))
}

fn client_role(row: &Record, query: QueryName) -> Result<(String, String), StoreError> {
    Ok((
        required_text(row, query, "client")?,
        required_text(row, query, "role")?,
    ))
}

fn attribute(row: &Record, query: QueryName) -> Result<(String, String), StoreError> {
    Ok((
        required_text(row, query, "name")?,
        text(row, query, "value")?.unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_search_is_a_case_insensitive_prefix_match() {
        assert_eq!(search_pattern("MuSter"), "muster%");
    }

    #[test]
    fn star_is_a_wildcard() {
        assert_eq!(search_pattern("*ster"), "%ster%");
        assert_eq!(search_pattern("m*n"), "m%n%");
        assert_eq!(search_pattern("mus*"), "mus%");
    }

    #[test]
    fn quoted_search_is_exact() {
        assert_eq!(search_pattern("\"mmustermann\""), "mmustermann");
        assert_eq!(search_pattern("\"a*b\""), "a*b");
    }

    #[test]
    fn empty_and_star_match_everything() {
        assert_eq!(search_pattern(""), "%");
        assert_eq!(search_pattern("   "), "%");
        assert_eq!(search_pattern("*"), "%");
    }

    #[test]
    fn like_metacharacters_in_input_are_escaped() {
        assert_eq!(search_pattern("50%_off!"), "50!%!_off!!%");
        assert_eq!(
            search_pattern("50%"),
            "50!%%",
            "an escaped % is not a wildcard"
        );
        assert_eq!(search_pattern("\"a_b\""), "a!_b");
    }

    #[tokio::test]
    async fn unknown_query_names_are_rejected() {
        let pool = test_pool();
        let overrides = BTreeMap::from([("user_by_nickname".to_owned(), "SELECT 1".to_owned())]);
        let err = Store::new(pool, &overrides, false, None).expect_err("unknown key");
        assert!(err.to_string().contains("user_by_nickname"));
    }

    #[tokio::test]
    async fn parameters_outside_the_query_contract_are_rejected() {
        let pool = test_pool();
        let overrides = BTreeMap::from([(
            "user_by_id".to_owned(),
            "SELECT * FROM u WHERE x = :username".to_owned(),
        )]);
        let err = Store::new(pool, &overrides, false, None).expect_err("wrong parameter");
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
        assert!(Store::new(pool, &overrides, false, None).is_err());
    }

    #[test]
    fn default_queries_only_use_their_own_parameters() {
        for name in QueryName::ALL {
            if let Some(sql) = name.default_sql() {
                for param in Template::parse(&sql).param_names() {
                    assert!(
                        name.params().contains(&param),
                        "{} uses :{param}",
                        name.key()
                    );
                }
            }
        }
    }

    /// Splits a pattern into literal text and wildcards, honouring `!` escapes.
    fn unescape(pattern: &str) -> (String, usize) {
        let (mut literal, mut wildcards) = (String::new(), 0);
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '!' => literal.push(chars.next().expect("escape is followed by a character")),
                '%' => wildcards += 1,
                '_' => panic!("unescaped _ in {pattern:?}"),
                other => literal.push(other),
            }
        }
        (literal, wildcards)
    }

    proptest::proptest! {
        #[test]
        fn quoted_search_matches_exactly_the_lowercased_text(text in "[^\"]{0,40}") {
            let pattern = search_pattern(&format!("\"{text}\""));
            let (literal, wildcards) = unescape(&pattern);
            proptest::prop_assert_eq!(wildcards, 0);
            proptest::prop_assert_eq!(literal, text.to_lowercase());
        }

        #[test]
        fn unquoted_search_is_a_prefix_with_stars_as_the_only_wildcards(text in "[^\"*]{0,40}") {
            let pattern = search_pattern(&text);
            proptest::prop_assert!(pattern.ends_with('%'));
            let (literal, wildcards) = unescape(&pattern);
            proptest::prop_assert_eq!(wildcards, 1);
            proptest::prop_assert_eq!(literal, text.trim().to_lowercase());
        }

        #[test]
        fn any_search_gives_a_well_formed_pattern(text in ".{0,60}") {
            // Every `!` escapes something and no `_` is left unescaped.
            let _ = unescape(&search_pattern(&text));
        }
    }

    fn test_pool() -> Pool {
        let settings = crate::settings::DatabaseSettings {
            url: crate::settings::Secret::new("sqlite::memory:"),
            max_connections: 1,
            acquire_timeout_ms: 1000,
            statement_timeout_ms: 0,
        };
        Pool::open(&settings, crate::dialect::Access::Writable).expect("pool")
    }
}
