//! Result rows as [`Record`]s: columns by name, values reduced to what the
//! gateway needs.

use sqlx::mysql::MySqlRow;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Column, Row};

use super::{DbError, Value};

/// One result row, columns addressed by name (case-insensitively, because
/// PostgreSQL folds unquoted names to lower case and MySQL does not).
#[derive(Debug, Clone, Default)]
pub struct Record {
    columns: Vec<(String, Value)>,
}

impl Record {
    /// The value of a column, `None` when the query has no such column.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.columns
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// Tries each listed Rust type in turn until one fits the column, so that
/// legacy schemas with integer ids or tinyint flags read without casts.
macro_rules! decode_row {
    ($name:ident, $row:ty, [$($ty:ty => $wrap:expr),+ $(,)?]) => {
        pub(super) fn $name(row: &$row) -> Result<Record, DbError> {
            let mut columns = Vec::with_capacity(row.columns().len());
            for column in row.columns() {
                let i = column.ordinal();
                let value = None
                    $(.or_else(|| row.try_get::<Option<$ty>, _>(i).ok().map(|v| v.map($wrap).unwrap_or(Value::Null))))+;
                let value = value.ok_or_else(|| DbError::UnsupportedType {
                    column: column.name().to_owned(),
                    type_name: sqlx::TypeInfo::name(column.type_info()).to_owned(),
                })?;
                columns.push((column.name().to_owned(), value));
            }
            Ok(Record { columns })
        }
    };
}

decode_row!(decode_pg, PgRow, [
    String => Value::Text,
    i64 => Value::Int,
    i32 => |v| Value::Int(v.into()),
    i16 => |v| Value::Int(v.into()),
    bool => Value::Bool,
]);

decode_row!(decode_mysql, MySqlRow, [
    String => Value::Text,
    i64 => Value::Int,
    bool => Value::Bool,
    i32 => |v| Value::Int(v.into()),
    i16 => |v| Value::Int(v.into()),
    i8 => |v| Value::Int(v.into()),
    u32 => |v| Value::Int(v.into()),
    u64 => |v| i64::try_from(v).map_or(Value::Null, Value::Int),
    Vec<u8> => |v| Value::Text(String::from_utf8_lossy(&v).into_owned()),
]);

decode_row!(decode_sqlite, SqliteRow, [
    String => Value::Text,
    i64 => Value::Int,
    bool => Value::Bool,
]);
