//! `import-clerk`: Clerk's user exports turned into one SQL script for a DBA
//! to review and run. The gateway itself still never writes; this only
//! prints.
//!
//! Reading and joining the exports is in [`clerk`], the script per dialect
//! in [`sql`]. All input is read and checked before the first line of SQL
//! is written, so a refused export leaves no half script behind.

pub mod clerk;
pub mod sql;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;

use crate::dialect::Dialect;
use crate::password;

pub use self::clerk::{MetadataChoice, Origin, User, Users};

/// Users between two progress lines on stderr.
const PROGRESS_EVERY: usize = 100_000;

/// What `import-clerk` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub csv: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub dialect: Dialect,
    pub metadata: MetadataChoice,
}

/// Why an import stopped. Messages name the line or user, never a digest,
/// TOTP secret or metadata value.
#[derive(Debug)]
pub enum ImportError {
    /// The exports are not what they should be.
    Input(String),
    /// A file could not be read or the script not written.
    Io(String),
}

impl ImportError {
    pub(crate) fn input(origin: Option<Origin>, id: &str, what: impl fmt::Display) -> Self {
        match origin {
            Some(origin) => ImportError::Input(format!("{origin} ({id}): {what}")),
            None => ImportError::Input(format!("user {id}: {what}")),
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Input(message) | ImportError::Io(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ImportError {}

/// What the summary on stderr reports.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub users: usize,
    pub disabled: usize,
    /// Password values written, by the hasher they name.
    pub by_hasher: BTreeMap<String, usize>,
    /// Users the gateway cannot verify a password for, by hasher (`none`:
    /// no digest at all).
    pub unusable: BTreeMap<String, usize>,
}

impl Summary {
    pub fn without_usable_password(&self) -> usize {
        self.unusable.values().sum()
    }

    fn count(&mut self, user: &User, stored: Option<&str>) {
        self.users += 1;
        if user.banned || user.locked {
            self.disabled += 1;
        }
        let Some(stored) = stored else {
            *self.unusable.entry("none".to_owned()).or_default() += 1;
            return;
        };
        let hasher = password::claimed_hasher(stored);
        *self.by_hasher.entry(hasher.to_owned()).or_default() += 1;
        // The import cannot know whether [hashing] bcrypt_pepper will be set.
        if !password::usable(stored, false) {
            *self.unusable.entry(hasher.to_owned()).or_default() += 1;
        }
    }
}

/// The value of `users.password_hash`: `{CLERK:<hasher>}<digest>` (see
/// docs/queries.md, "Password values"), none without a digest.
pub fn stored_password(user: &User) -> Option<String> {
    user.password
        .as_ref()
        .map(|(digest, hasher)| format!("{{CLERK:{hasher}}}{digest}"))
}

/// The `user_attributes` rows of a user, in a fixed order.
pub fn attributes(user: &User) -> Vec<(&str, &str)> {
    let mut out = vec![("clerk_id", user.id.as_str()), ("migrated_from", "clerk")];
    out.extend(
        user.other_emails
            .iter()
            .map(|e| ("other_email", e.as_str())),
    );
    out.extend(user.phones.iter().map(|p| ("phone", p.as_str())));
    if let Some(url) = &user.image_url {
        out.push(("image_url", url));
    }
    if user.two_factor {
        out.push(("clerk_two_factor_enabled", "true"));
    }
    out.extend(
        user.metadata
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    out
}

/// Reads the exports of `options`, checks them and returns the users with
/// the notes for stderr. `progress` hears about every
/// [`PROGRESS_EVERY`]th user read.
pub fn read(
    options: &Options,
    progress: &mut dyn FnMut(&str),
) -> Result<(Vec<User>, Vec<String>), ImportError> {
    let mut users = Users::default();
    let mut notes = Vec::new();
    if options.csv.is_none() && options.json.is_none() {
        return Err(ImportError::Input(
            "nothing to import: give --csv, --json or both".to_owned(),
        ));
    }
    if let Some(path) = &options.csv {
        let file = open(path)?;
        clerk::read_csv(
            BufReader::with_capacity(1 << 20, file),
            options.metadata,
            &mut users,
            &mut notes,
            &mut |n| every(n, "CSV users read", progress),
        )?;
    }
    if let Some(path) = &options.json {
        let file = open(path)?;
        clerk::read_json(
            BufReader::with_capacity(1 << 20, file),
            options.metadata,
            &mut users,
            &mut |n| every(n, "JSON users read", progress),
        )?;
    }
    let users = users.users;
    clerk::validate(&users)?;
    notes.extend(data_notes(&users, options));
    Ok((users, notes))
}

fn every(n: usize, what: &str, progress: &mut dyn FnMut(&str)) {
    if n % PROGRESS_EVERY == 0 {
        progress(&format!("{n} {what}"));
    }
}

fn open(path: &std::path::Path) -> Result<File, ImportError> {
    File::open(path)
        .map_err(|err| ImportError::Io(format!("cannot open {}: {err}", path.display())))
}

/// What was read but is not imported, and fallbacks taken, as counts.
fn data_notes(users: &[User], options: &Options) -> Vec<String> {
    let count = |f: &dyn Fn(&User) -> bool| users.iter().filter(|u| f(u)).count();
    let mut notes = Vec::new();
    let totp = count(&|u| u.has_totp_secret);
    if totp > 0 {
        notes.push(format!(
            "{totp} users have a TOTP secret; it is not imported (give them Keycloak's CONFIGURE_TOTP action)"
        ));
    }
    let private = count(&|u| u.skipped_private);
    if private > 0 {
        notes.push(format!(
            "{private} users have private_metadata; left out (--include-private-metadata imports it)"
        ));
    }
    let unsafe_ = count(&|u| u.skipped_unsafe);
    if unsafe_ > 0 {
        notes.push(format!(
            "{unsafe_} users have unsafe_metadata; left out (--include-unsafe-metadata imports it)"
        ));
    }
    let id_as_name = count(&|u| u.username.is_none() && u.primary_email.is_none());
    if id_as_name > 0 {
        notes.push(format!(
            "{id_as_name} users have neither username nor email; their Clerk id is their username"
        ));
    }
    if options.csv.is_some() && options.json.is_some() {
        let csv_only = count(&|u| !u.from_json);
        let json_only = count(&|u| matches!(u.origin, Some(Origin::JsonUser(_))));
        if csv_only > 0 {
            notes.push(format!(
                "{csv_only} users are in the CSV only (no metadata, image or ban state)"
            ));
        }
        if json_only > 0 {
            notes.push(format!(
                "{json_only} users are in the JSON only (no password)"
            ));
        }
    }
    notes
}

/// Writes the script for `users` to `out`, in input order.
pub fn write(
    users: &[User],
    dialect: Dialect,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(&str),
) -> Result<Summary, ImportError> {
    let mut summary = Summary::default();
    sql::write_script(users, dialect, out, &mut summary, &mut |n| {
        every(n, "users written", progress)
    })
    .map_err(|err| ImportError::Io(format!("cannot write the script: {err}")))?;
    Ok(summary)
}

/// The subcommand: the script on stdout, notes, progress and the summary on
/// stderr. Returns the process's exit code.
pub fn run(options: &Options) -> u8 {
    let mut progress = |line: &str| eprintln!("import-clerk: {line}");
    let result = read(options, &mut progress).and_then(|(users, notes)| {
        for note in &notes {
            eprintln!("import-clerk: note: {note}");
        }
        let stdout = io::stdout();
        let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
        let summary = write(&users, options.dialect, &mut out, &mut progress)?;
        out.flush()
            .map_err(|err| ImportError::Io(format!("cannot write the script: {err}")))?;
        Ok(summary)
    });
    match result {
        Ok(summary) => {
            eprint!("{}", summary_text(&summary, options.dialect));
            0
        }
        Err(err) => {
            eprintln!("import-clerk: error: {err}");
            1
        }
    }
}

/// The summary as printed on stderr.
pub fn summary_text(summary: &Summary, dialect: Dialect) -> String {
    let list = |counts: &BTreeMap<String, usize>| {
        counts
            .iter()
            .map(|(hasher, n)| format!("{hasher} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!(
        "import-clerk: {} users written for {} ({} disabled: banned or locked)\n",
        summary.users,
        dialect.name(),
        summary.disabled
    );
    if !summary.by_hasher.is_empty() {
        text.push_str(&format!(
            "import-clerk: passwords by hasher: {}\n",
            list(&summary.by_hasher)
        ));
    }
    text.push_str(&format!(
        "import-clerk: {} users without a usable password{}\n",
        summary.without_usable_password(),
        if summary.unusable.is_empty() {
            String::new()
        } else {
            format!(", by hasher: {}", list(&summary.unusable))
        }
    ));
    text
}

/// A `--dialect` value.
pub fn parse_dialect(name: &str) -> Result<Dialect, String> {
    match name {
        "postgres" | "postgresql" => Ok(Dialect::Postgres),
        "mysql" | "mariadb" => Ok(Dialect::MySql),
        "sqlite" => Ok(Dialect::Sqlite),
        _ => Err("one of postgres, mysql (MariaDB and MySQL), sqlite".to_owned()),
    }
}
