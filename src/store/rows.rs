//! Reading named columns of result rows into the store's types.

use std::collections::BTreeMap;

use super::{QueryName, StoreError, User};
use crate::dialect::{Record, Value};

pub(super) fn first_row<'a>(
    rows: &'a [Record],
    query: QueryName,
    column: &'static str,
) -> Result<&'a Record, StoreError> {
    rows.first().ok_or(StoreError::MissingColumn {
        query: query.key(),
        column,
    })
}

pub(super) fn int(row: &Record, query: QueryName, column: &'static str) -> Result<i64, StoreError> {
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

pub(super) fn text(
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

pub(super) fn required_text(
    row: &Record,
    query: QueryName,
    column: &'static str,
) -> Result<String, StoreError> {
    text(row, query, column)?.ok_or(StoreError::BadValue {
        query: query.key(),
        column,
    })
}

pub(super) fn flag(
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

/// The user of a row and its `password_hash`; `pepper_configured` tells
/// whether `bcrypt_peppered` values without their own pepper are usable.
pub(super) fn user_from_record(
    row: &Record,
    query: QueryName,
    pepper_configured: bool,
) -> Result<(User, Option<String>), StoreError> {
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
    let hash = text(row, query, "password_hash")?;
    let has_usable_password = hash
        .as_deref()
        .is_some_and(|stored| crate::password::usable(stored, pepper_configured));
    let user = User {
        id: required_text(row, query, "id")?,
        username: required_text(row, query, "username")?,
        email: text(row, query, "email")?,
        first_name: text(row, query, "firstname")?,
        last_name: text(row, query, "lastname")?,
        enabled: flag(row, query, "enabled", true)?,
        email_verified: flag(row, query, "email_verified", false)?,
        has_usable_password,
        created_timestamp: created,
        attributes: BTreeMap::new(),
        realm_roles: Vec::new(),
        client_roles: BTreeMap::new(),
    };
    Ok((user, hash))
}

pub(super) fn client_role(row: &Record, query: QueryName) -> Result<(String, String), StoreError> {
    Ok((
        required_text(row, query, "client")?,
        required_text(row, query, "role")?,
    ))
}

pub(super) fn attribute(row: &Record, query: QueryName) -> Result<(String, String), StoreError> {
    Ok((
        required_text(row, query, "name")?,
        text(row, query, "value")?.unwrap_or_default(),
    ))
}
