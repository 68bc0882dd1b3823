//! The query catalogue: every read the gateway can make, its parameters,
//! required columns and default SQL for the reference schema.

use crate::dialect::Dialect;

/// The columns every user query returns (plus the optional `enabled`).
const USER_COLUMNS: &str =
    "id, username, email, firstname, lastname, email_verified, createdtimestamp, password_hash";

/// The same columns of the table aliased `u`, for a query that joins it.
const USER_COLUMNS_OF_U: &str = "u.id AS id, u.username AS username, u.email AS email, \
    u.firstname AS firstname, u.lastname AS lastname, u.email_verified AS email_verified, \
    u.createdtimestamp AS createdtimestamp, u.password_hash AS password_hash";

fn user_columns(enabled: bool) -> String {
    match enabled {
        true => format!("{USER_COLUMNS}, enabled"),
        false => USER_COLUMNS.to_owned(),
    }
}

fn user_columns_of_u(enabled: bool) -> String {
    match enabled {
        true => format!("{USER_COLUMNS_OF_U}, u.enabled AS enabled"),
        false => USER_COLUMNS_OF_U.to_owned(),
    }
}

/// The columns a search looks at.
const SEARCHED_COLUMNS: [&str; 4] = ["username", "email", "firstname", "lastname"];

/// The most words of a search that the default search and count match one
/// by one; later words stay in the last one (see docs/queries.md).
pub const MAX_SEARCH_TERMS: usize = 5;

/// The parameter holding the pattern of each word: `:search` for the first,
/// so that the one-word default is the query the contract documents.
pub(super) const TERM_PARAMS: [&str; MAX_SEARCH_TERMS] =
    ["search", "search2", "search3", "search4", "search5"];

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
    /// ([`crate::dialect::Dialect::change_log_sql`]). Lookups compare in the
    /// form the dialect's indexes serve ([`Dialect::equals_ignoring_case`]).
    /// For `search_users` and `count_users` this is the one-word search on
    /// `:search`; the store runs [`QueryName::default_search_sql`] per
    /// request shape.
    /// With `enabled`, the user queries also read the `enabled` column
    /// (`[database] enabled_column`).
    pub fn default_sql(self, dialect: Dialect, enabled: bool) -> Option<String> {
        let columns = user_columns(enabled);
        let user = |filter: &str| format!("SELECT {columns} FROM users WHERE {filter}");
        Some(match self {
            Self::UserById => user("id = :id"),
            Self::UserByUsername => user(&dialect.equals_ignoring_case("username", "username")),
            Self::UserByEmail => user(&dialect.equals_ignoring_case("email", "email")),
            Self::SearchUsers | Self::CountUsers => {
                return self.default_search_sql(dialect, 1, enabled)
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

    /// The default `search_users` or `count_users` for a search of `terms`
    /// words (`None` for the other queries). Each word binds its own pattern
    /// ([`TERM_PARAMS`]: `:search`, `:search2`, ...) and must match one of
    /// the searched columns. With no words (everyone) there is no filter:
    /// the count is a plain `count(*)`, and the page takes its ids from the
    /// `(username, id)` index alone before it reads those rows, so a deep
    /// page does not read the rows before it. `terms` above
    /// [`MAX_SEARCH_TERMS`] counts as that many.
    pub fn default_search_sql(
        self,
        dialect: Dialect,
        terms: usize,
        enabled: bool,
    ) -> Option<String> {
        let (columns, columns_of_u) = (user_columns(enabled), user_columns_of_u(enabled));
        let filter = TERM_PARAMS[..terms.min(MAX_SEARCH_TERMS)]
            .iter()
            .map(|param| {
                let any_column: Vec<String> = SEARCHED_COLUMNS
                    .iter()
                    .map(|column| dialect.like_ignoring_case(column, param))
                    .collect();
                format!("({})", any_column.join(" OR "))
            })
            .collect::<Vec<_>>()
            .join(" AND ");
        Some(match (self, terms) {
            // CROSS JOIN: SQLite keeps the page as the outer loop (an inner
            // join may walk all of `users` in order and probe the page).
            (Self::SearchUsers, 0) => format!(
                "SELECT {columns_of_u} \
                 FROM (SELECT id FROM users ORDER BY username, id LIMIT :limit OFFSET :offset) page \
                 CROSS JOIN users u WHERE u.id = page.id ORDER BY u.username, u.id"
            ),
            (Self::SearchUsers, _) => format!(
                "SELECT {columns} FROM users WHERE {filter} \
                 ORDER BY username, id LIMIT :limit OFFSET :offset"
            ),
            (Self::CountUsers, 0) => "SELECT count(*) AS count FROM users".into(),
            (Self::CountUsers, _) => {
                format!("SELECT count(*) AS count FROM users WHERE {filter}")
            }
            _ => return None,
        })
    }

    pub(super) fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.key() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Template;

    #[test]
    fn default_queries_only_use_their_own_parameters() {
        for dialect in Dialect::ALL {
            for name in QueryName::ALL {
                if let Some(sql) = name.default_sql(dialect, false) {
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
    }

    #[test]
    fn each_word_of_a_default_search_binds_its_own_pattern() {
        for dialect in Dialect::ALL {
            for name in [QueryName::SearchUsers, QueryName::CountUsers] {
                for terms in 1..=MAX_SEARCH_TERMS {
                    let sql = name
                        .default_search_sql(dialect, terms, false)
                        .expect("search sql");
                    let template = Template::parse(&sql);
                    let mut used: Vec<&str> = template
                        .param_names()
                        .filter(|p| p.starts_with("search"))
                        .collect();
                    used.dedup();
                    assert_eq!(used, TERM_PARAMS[..terms], "{sql}");
                    // One LIKE per searched column and word.
                    assert_eq!(sql.matches(" LIKE ").count(), 4 * terms, "{sql}");
                }
            }
        }
    }

    #[test]
    fn searching_everyone_has_no_filter() {
        for dialect in Dialect::ALL {
            let count = QueryName::CountUsers.default_search_sql(dialect, 0, false);
            assert_eq!(
                count.as_deref(),
                Some("SELECT count(*) AS count FROM users")
            );
            let page = QueryName::SearchUsers
                .default_search_sql(dialect, 0, false)
                .expect("search sql");
            assert!(!page.contains("LIKE"), "{page}");
            let template = Template::parse(&page);
            let params: Vec<&str> = template.param_names().collect();
            assert_eq!(params, ["limit", "offset"]);
        }
    }

    #[test]
    fn the_one_word_default_is_the_documented_query_on_postgres() {
        let sql = QueryName::SearchUsers
            .default_sql(Dialect::Postgres, false)
            .expect("search sql");
        assert!(sql.contains(
            "WHERE (lower(username) LIKE :search ESCAPE '!' OR lower(email) LIKE :search ESCAPE '!' \
             OR lower(firstname) LIKE :search ESCAPE '!' OR lower(lastname) LIKE :search ESCAPE '!') \
             ORDER BY username, id LIMIT :limit OFFSET :offset"
        ), "{sql}");
        assert_eq!(
            QueryName::UserById.default_search_sql(Dialect::Postgres, 1, false),
            None
        );
    }
}
