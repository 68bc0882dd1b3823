//! What the store hands out: users, credentials and the role catalogue.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

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
    /// False when the row has no usable password: `password_hash` is NULL,
    /// names an unknown hasher or `awscognito`, or is malformed. Keycloak may
    /// then keep a password of its own for the user (the provider's
    /// `localPasswordsWithoutHash` setting); the hash itself is never shown.
    pub has_usable_password: bool,
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
