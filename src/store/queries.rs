//! The query catalogue: every read the gateway can make, its parameters,
//! required columns and default SQL for the reference schema.

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
}
