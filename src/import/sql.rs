//! The script per dialect: the reference schema, the `enabled` column (read
//! by the gateway's default queries with `[database] enabled_column = true`,
//! as docs/clerk/gateway.toml sets it), the `user_attributes` table, the rows
//! and the indexes; in one transaction where the database allows it, rows in
//! input order, written as they are made.
//!
//! Rows come before the indexes where DDL is transactional (PostgreSQL,
//! SQLite): building an index once is much cheaper than updating it per
//! row. PostgreSQL gets `COPY` in text format; the others multi-row
//! `INSERT`s.

use std::io::{self, Write};

use crate::dialect::Dialect;

use super::clerk::{username_of, User};
use super::{attributes, stored_password, Summary};

/// Rows per `INSERT` (MariaDB's default `max_allowed_packet` of 16 MiB and
/// SQLite's statement limits leave room for far more).
const ROWS_PER_INSERT: usize = 500;

const USER_COLUMNS: &str = "id, username, email, email_verified, firstname, lastname, \
                            createdtimestamp, password_hash, enabled";

/// The reference schema split into its tables and its indexes (the part
/// from the comment that introduces them on).
fn schema_parts(dialect: Dialect) -> (&'static str, &'static str) {
    let schema = dialect.reference_schema();
    match schema.find("-- Indexes for") {
        Some(at) => schema.split_at(at),
        None => (schema, ""),
    }
}

fn header(users: usize, dialect: Dialect, out: &mut dyn Write) -> io::Result<()> {
    let how = match dialect {
        Dialect::Postgres => "psql -v ON_ERROR_STOP=1 -d DATABASE -f THIS_FILE",
        Dialect::MySql => "mariadb DATABASE < THIS_FILE   (or: mysql DATABASE < THIS_FILE)",
        Dialect::Sqlite => "sqlite3 DATABASE_FILE < THIS_FILE",
    };
    writeln!(
        out,
        "-- Written by userstore-gateway import-clerk: {users} Clerk users for {}.\n\
         -- Review it, then run it into an empty database:\n--   {how}\n\
         -- It creates the reference schema (migrations/{}/0001_reference_schema.sql),\n\
         -- an enabled column and the user_attributes table, and\n\
         -- fills them. Password values are {{CLERK:<hasher>}}<digest> (docs/queries.md).\n\
         -- It holds password digests: treat it as a secret.\n",
        dialect.name(),
        dialect.migrations_dir()
    )
}

/// Writes the whole script; counts each user in `summary`.
pub fn write_script(
    users: &[User],
    dialect: Dialect,
    out: &mut dyn Write,
    summary: &mut Summary,
    progress: &mut dyn FnMut(usize),
) -> io::Result<()> {
    header(users.len(), dialect, out)?;
    match dialect {
        Dialect::Postgres => postgres(users, out, summary, progress),
        Dialect::MySql => mysql(users, out, summary, progress),
        Dialect::Sqlite => sqlite(users, out, summary, progress),
    }
}

fn postgres(
    users: &[User],
    out: &mut dyn Write,
    summary: &mut Summary,
    progress: &mut dyn FnMut(usize),
) -> io::Result<()> {
    let (tables, indexes) = schema_parts(Dialect::Postgres);
    writeln!(
        out,
        "\\set ON_ERROR_STOP on\nSET client_encoding = 'UTF8';\nBEGIN;\n"
    )?;
    out.write_all(tables.as_bytes())?;
    writeln!(
        out,
        "ALTER TABLE users ADD COLUMN enabled boolean NOT NULL DEFAULT true;\n\n\
         -- Attributes are multi-valued: several rows may share user_id and name.\n\
         CREATE TABLE user_attributes (\n    \
         user_id varchar(255) NOT NULL,\n    \
         name    varchar(255) NOT NULL,\n    \
         value   text NOT NULL\n);\n"
    )?;
    writeln!(out, "COPY users ({USER_COLUMNS}) FROM stdin;")?;
    let mut line = String::with_capacity(512);
    for (n, user) in users.iter().enumerate() {
        let stored = stored_password(user);
        summary.count(user, stored.as_deref());
        line.clear();
        copy_field(&mut line, Some(&user.id));
        copy_field(&mut line, Some(username_of(user)));
        copy_field(&mut line, user.primary_email.as_deref());
        copy_field(&mut line, Some(if user.email_verified { "t" } else { "f" }));
        copy_field(&mut line, user.first_name.as_deref());
        copy_field(&mut line, user.last_name.as_deref());
        copy_field(&mut line, user.created_at.map(|t| t.to_string()).as_deref());
        copy_field(&mut line, stored.as_deref());
        copy_field(&mut line, Some(if enabled(user) { "t" } else { "f" }));
        line.pop();
        line.push('\n');
        out.write_all(line.as_bytes())?;
        progress(n + 1);
    }
    writeln!(
        out,
        "\\.\n\nCOPY user_attributes (user_id, name, value) FROM stdin;"
    )?;
    for user in users {
        for (name, value) in attributes(user) {
            line.clear();
            copy_field(&mut line, Some(&user.id));
            copy_field(&mut line, Some(name));
            copy_field(&mut line, Some(value));
            line.pop();
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    writeln!(out, "\\.\n")?;
    out.write_all(indexes.as_bytes())?;
    writeln!(
        out,
        "CREATE INDEX user_attributes_user_id ON user_attributes (user_id);\n\
         -- Checked once for all rows, rather than row by row during COPY.\n\
         ALTER TABLE user_attributes ADD CONSTRAINT user_attributes_user_id_fkey\n    \
         FOREIGN KEY (user_id) REFERENCES users (id);\n"
    )?;
    writeln!(out, "\nANALYZE users;\nANALYZE user_attributes;\nCOMMIT;")
}

/// One field of a COPY text-format line, with its tab: `\N` for NULL,
/// backslash, tab, newline and carriage return escaped.
fn copy_field(line: &mut String, value: Option<&str>) {
    match value {
        None => line.push_str("\\N"),
        Some(text) => {
            for c in text.chars() {
                match c {
                    '\\' => line.push_str("\\\\"),
                    '\t' => line.push_str("\\t"),
                    '\n' => line.push_str("\\n"),
                    '\r' => line.push_str("\\r"),
                    c => line.push(c),
                }
            }
        }
    }
    line.push('\t');
}

fn mysql(
    users: &[User],
    out: &mut dyn Write,
    summary: &mut Summary,
    progress: &mut dyn FnMut(usize),
) -> io::Result<()> {
    writeln!(
        out,
        "SET NAMES utf8mb4;\n\
         -- The string literals below escape backslashes; make sure they are read so.\n\
         SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), \
         ',NO_BACKSLASH_ESCAPES,', ','));\n\n\
         -- MariaDB and MySQL commit each CREATE and ALTER on their own; the rows\n\
         -- below are one transaction.\n"
    )?;
    out.write_all(Dialect::MySql.reference_schema().as_bytes())?;
    writeln!(
        out,
        "\nALTER TABLE users ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;\n\n\
         -- Attributes are multi-valued: several rows may share user_id and name.\n\
         CREATE TABLE user_attributes (\n    \
         user_id VARCHAR(255) NOT NULL,\n    \
         name    VARCHAR(255) NOT NULL,\n    \
         value   TEXT NOT NULL,\n    \
         FOREIGN KEY (user_id) REFERENCES users (id)\n\
         ) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;\n\
         CREATE INDEX user_attributes_user_id ON user_attributes (user_id);\n"
    )?;
    writeln!(out, "\nSTART TRANSACTION;")?;
    inserts(users, Dialect::MySql, out, summary, progress)?;
    writeln!(out, "COMMIT;\n\nANALYZE TABLE users, user_attributes;")
}

fn sqlite(
    users: &[User],
    out: &mut dyn Write,
    summary: &mut Summary,
    progress: &mut dyn FnMut(usize),
) -> io::Result<()> {
    let (tables, indexes) = schema_parts(Dialect::Sqlite);
    writeln!(out, "BEGIN;\n")?;
    out.write_all(tables.as_bytes())?;
    writeln!(
        out,
        "ALTER TABLE users ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;\n\n\
         -- Attributes are multi-valued: several rows may share user_id and name.\n\
         CREATE TABLE user_attributes (\n    \
         user_id TEXT NOT NULL REFERENCES users (id),\n    \
         name    TEXT NOT NULL,\n    \
         value   TEXT NOT NULL\n);\n"
    )?;
    inserts(users, Dialect::Sqlite, out, summary, progress)?;
    writeln!(out)?;
    out.write_all(indexes.as_bytes())?;
    writeln!(
        out,
        "CREATE INDEX user_attributes_user_id ON user_attributes (user_id);\n"
    )?;
    writeln!(out, "\nCOMMIT;")
}

/// `INSERT`s of [`ROWS_PER_INSERT`] users, each batch followed by the
/// attributes of its users (they refer to them).
fn inserts(
    users: &[User],
    dialect: Dialect,
    out: &mut dyn Write,
    summary: &mut Summary,
    progress: &mut dyn FnMut(usize),
) -> io::Result<()> {
    let (yes, no) = match dialect {
        Dialect::Sqlite => ("1", "0"),
        _ => ("TRUE", "FALSE"),
    };
    let mut statement = String::with_capacity(ROWS_PER_INSERT * 300);
    let mut done = 0;
    for batch in users.chunks(ROWS_PER_INSERT) {
        statement.clear();
        statement.push_str("INSERT INTO users (");
        statement.push_str(USER_COLUMNS);
        statement.push_str(") VALUES\n");
        for (i, user) in batch.iter().enumerate() {
            let stored = stored_password(user);
            summary.count(user, stored.as_deref());
            statement.push_str(if i == 0 { "(" } else { ",\n(" });
            literal(&mut statement, dialect, Some(&user.id));
            statement.push_str(", ");
            literal(&mut statement, dialect, Some(username_of(user)));
            statement.push_str(", ");
            literal(&mut statement, dialect, user.primary_email.as_deref());
            statement.push_str(", ");
            statement.push_str(if user.email_verified { yes } else { no });
            statement.push_str(", ");
            literal(&mut statement, dialect, user.first_name.as_deref());
            statement.push_str(", ");
            literal(&mut statement, dialect, user.last_name.as_deref());
            statement.push_str(", ");
            match user.created_at {
                Some(ms) => statement.push_str(&ms.to_string()),
                None => statement.push_str("NULL"),
            }
            statement.push_str(", ");
            literal(&mut statement, dialect, stored.as_deref());
            statement.push_str(", ");
            statement.push_str(if enabled(user) { yes } else { no });
            statement.push(')');
        }
        statement.push_str(";\n");
        let mut first = true;
        let mut rows = 0;
        for user in batch {
            for (name, value) in attributes(user) {
                if first {
                    statement
                        .push_str("INSERT INTO user_attributes (user_id, name, value) VALUES\n(");
                    first = false;
                } else {
                    statement.push_str(",\n(");
                }
                literal(&mut statement, dialect, Some(&user.id));
                statement.push_str(", ");
                literal(&mut statement, dialect, Some(name));
                statement.push_str(", ");
                literal(&mut statement, dialect, Some(value));
                statement.push(')');
                rows += 1;
                if rows == ROWS_PER_INSERT * 4 {
                    statement.push_str(";\n");
                    first = true;
                    rows = 0;
                }
            }
        }
        if !first {
            statement.push_str(";\n");
        }
        out.write_all(statement.as_bytes())?;
        for _ in batch {
            done += 1;
            progress(done);
        }
    }
    Ok(())
}

/// A string literal: quotes doubled; on MariaDB/MySQL backslashes doubled
/// too (the script turns `NO_BACKSLASH_ESCAPES` off). NUL bytes never get
/// here (`clerk::validate` refuses them).
fn literal(out: &mut String, dialect: Dialect, value: Option<&str>) {
    let Some(text) = value else {
        out.push_str("NULL");
        return;
    };
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if dialect == Dialect::MySql => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

fn enabled(user: &User) -> bool {
    !(user.banned || user.locked)
}
