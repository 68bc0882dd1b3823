//! Reading Clerk's two exports into [`User`]s: the Dashboard CSV (found by
//! header name, current and older layout) and the Backend API JSON array,
//! joined on the Clerk user id. Every refusal names the CSV line or the JSON
//! user, never a digest, TOTP secret or metadata value.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::ImportError;

/// Where a user was read first, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The line of the CSV record (1 is the header).
    CsvLine(u64),
    /// The position in the JSON array, from 1.
    JsonUser(usize),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::CsvLine(line) => write!(f, "CSV line {line}"),
            Origin::JsonUser(n) => write!(f, "JSON user {n}"),
        }
    }
}

/// One Clerk user, from the CSV, the JSON or both.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct User {
    pub id: String,
    pub origin: Option<Origin>,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub primary_email: Option<String>,
    /// Whether an export says the primary address is verified.
    pub email_verified: bool,
    /// Every other address, in the export's order.
    pub other_emails: Vec<String>,
    /// Every phone number, the primary one first.
    pub phones: Vec<String>,
    /// Milliseconds since the epoch.
    pub created_at: Option<i64>,
    /// `password_digest` and `password_hasher`.
    pub password: Option<(String, String)>,
    pub banned: bool,
    pub locked: bool,
    pub image_url: Option<String>,
    pub two_factor: bool,
    pub has_totp_secret: bool,
    /// Rendered metadata attributes (`clerk_public_<key>`, ...), in key order.
    pub metadata: Vec<(String, String)>,
    /// Users with private or unsafe metadata left out (no flag).
    pub skipped_private: bool,
    pub skipped_unsafe: bool,
    /// Read from the JSON export (to refuse an id twice there).
    pub from_json: bool,
}

/// Which metadata besides the public one become attributes.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetadataChoice {
    pub private: bool,
    pub unsafe_: bool,
}

/// Notes for stderr that are no errors: unknown columns, skipped data.
pub type Notes = Vec<String>;

/// The users of both exports in input order (CSV first, then JSON users the
/// CSV does not have), with their ids unique.
#[derive(Debug, Default)]
pub struct Users {
    pub users: Vec<User>,
    by_id: HashMap<String, usize>,
}

impl Users {
    fn add(&mut self, user: User) -> Result<(), ImportError> {
        if let Some(&first) = self.by_id.get(&user.id) {
            return Err(ImportError::input(
                user.origin,
                &user.id,
                format!(
                    "the same id twice (first at {})",
                    origin_text(self.users[first].origin)
                ),
            ));
        }
        self.by_id.insert(user.id.clone(), self.users.len());
        self.users.push(user);
        Ok(())
    }

    /// Adds a JSON user, or joins it with the CSV user of the same id.
    fn join(&mut self, user: User) -> Result<(), ImportError> {
        let Some(&at) = self.by_id.get(&user.id) else {
            return self.add(user);
        };
        let known = &mut self.users[at];
        if known.from_json {
            return Err(ImportError::input(
                user.origin,
                &user.id,
                format!("the same id twice (first at {})", origin_text(known.origin)),
            ));
        }
        merge(known, user);
        Ok(())
    }
}

fn origin_text(origin: Option<Origin>) -> String {
    origin.map_or_else(|| "an earlier user".to_owned(), |o| o.to_string())
}

/// The CSV user keeps what the CSV has (the digest, its addresses); the JSON
/// adds what only the Backend API knows and its verification states.
fn merge(csv: &mut User, json: User) {
    fill(&mut csv.username, json.username);
    fill(&mut csv.first_name, json.first_name);
    fill(&mut csv.last_name, json.last_name);
    match (&csv.primary_email, json.primary_email) {
        (None, Some(email)) => {
            csv.primary_email = Some(email);
            csv.email_verified = json.email_verified;
        }
        (Some(known), Some(email)) if known.eq_ignore_ascii_case(&email) => {
            csv.email_verified |= json.email_verified;
        }
        (Some(_), Some(email)) => push_new(&mut csv.other_emails, email),
        (_, None) => {}
    }
    for email in json.other_emails {
        if !csv
            .primary_email
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case(&email))
        {
            push_new(&mut csv.other_emails, email);
        }
    }
    for phone in json.phones {
        push_new(&mut csv.phones, phone);
    }
    if json.created_at.is_some() {
        csv.created_at = json.created_at;
    }
    if csv.password.is_none() {
        csv.password = json.password;
    }
    csv.banned |= json.banned;
    csv.locked |= json.locked;
    fill(&mut csv.image_url, json.image_url);
    csv.two_factor |= json.two_factor;
    csv.has_totp_secret |= json.has_totp_secret;
    if !json.metadata.is_empty() || json.skipped_private || json.skipped_unsafe {
        csv.metadata = json.metadata;
        csv.skipped_private = json.skipped_private;
        csv.skipped_unsafe = json.skipped_unsafe;
    }
    csv.from_json = true;
}

fn fill(slot: &mut Option<String>, value: Option<String>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// Appends `value` unless an equal one (ignoring case) is there already.
fn push_new(list: &mut Vec<String>, value: String) {
    if !list.iter().any(|v| v.eq_ignore_ascii_case(&value)) {
        list.push(value);
    }
}

/// Every column of the Dashboard CSV this import reads or knowingly leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Id,
    FirstName,
    LastName,
    Username,
    PrimaryEmail,
    PrimaryPhone,
    VerifiedEmails,
    UnverifiedEmails,
    VerifiedPhones,
    UnverifiedPhones,
    /// The older layout's addresses, without verification states.
    Emails,
    Phones,
    TotpSecret,
    Digest,
    Hasher,
    PublicMetadata,
    PrivateMetadata,
    UnsafeMetadata,
    CreatedAt,
    ImageUrl,
    Banned,
    Locked,
}

impl Column {
    fn from_header(name: &str) -> Option<Column> {
        Some(match name {
            "id" => Column::Id,
            "first_name" => Column::FirstName,
            "last_name" => Column::LastName,
            "username" => Column::Username,
            "primary_email_address" => Column::PrimaryEmail,
            "primary_phone_number" => Column::PrimaryPhone,
            "verified_email_addresses" => Column::VerifiedEmails,
            "unverified_email_addresses" => Column::UnverifiedEmails,
            "verified_phone_numbers" => Column::VerifiedPhones,
            "unverified_phone_numbers" => Column::UnverifiedPhones,
            "email_addresses" => Column::Emails,
            "phone_numbers" => Column::Phones,
            "totp_secret" => Column::TotpSecret,
            "password_digest" => Column::Digest,
            "password_hasher" => Column::Hasher,
            "public_metadata" => Column::PublicMetadata,
            "private_metadata" => Column::PrivateMetadata,
            "unsafe_metadata" => Column::UnsafeMetadata,
            "created_at" => Column::CreatedAt,
            "image_url" => Column::ImageUrl,
            "banned" => Column::Banned,
            "locked" => Column::Locked,
            _ => return None,
        })
    }
}

/// Reads the Dashboard CSV export. Lines starting with `#` are comments
/// (Clerk's own samples carry one above the header).
pub fn read_csv<R: Read>(
    input: R,
    choice: MetadataChoice,
    users: &mut Users,
    notes: &mut Notes,
    progress: &mut dyn FnMut(usize),
) -> Result<(), ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .flexible(false)
        .from_reader(input);
    let headers = reader.headers().map_err(csv_error)?.clone();
    let mut columns: Vec<Option<Column>> = Vec::with_capacity(headers.len());
    for name in headers.iter() {
        let name = name
            .trim()
            .trim_start_matches('\u{feff}')
            .to_ascii_lowercase();
        let column = Column::from_header(&name);
        if column.is_none() {
            notes.push(format!("CSV: column {name:?} is not imported"));
        } else if columns.contains(&column) {
            return Err(ImportError::Input(format!(
                "CSV line 1: the column {name:?} appears twice"
            )));
        }
        columns.push(column);
    }
    if !columns.contains(&Some(Column::Id)) {
        return Err(ImportError::Input(
            "CSV line 1: no id column; is this a Clerk Dashboard export?".to_owned(),
        ));
    }
    let mut record = csv::StringRecord::new();
    let mut count = 0;
    while reader.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, csv::Position::line);
        let user = csv_user(&columns, &record, line, choice)?;
        users.add(user)?;
        count += 1;
        progress(count);
    }
    Ok(())
}

fn csv_error(err: csv::Error) -> ImportError {
    let line = err.position().map(csv::Position::line);
    let what = match err.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "{len} fields where the header has {expected_len} (broken quoting or a stray comma?)"
        ),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
        csv::ErrorKind::Io(err) => format!("cannot read: {err}"),
        _ => "unreadable CSV".to_owned(),
    };
    match line {
        Some(line) => ImportError::Input(format!("CSV line {line}: {what}")),
        None => ImportError::Input(format!("CSV: {what}")),
    }
}

/// Splits a multi-valued cell on `|`.
fn values(cell: &str) -> impl Iterator<Item = String> + '_ {
    cell.split('|')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn nonempty(cell: &str) -> Option<String> {
    let cell = cell.trim();
    (!cell.is_empty()).then(|| cell.to_owned())
}

fn csv_user(
    columns: &[Option<Column>],
    record: &csv::StringRecord,
    line: u64,
    choice: MetadataChoice,
) -> Result<User, ImportError> {
    let origin = Some(Origin::CsvLine(line));
    let cell = |wanted: Column| -> &str {
        columns
            .iter()
            .position(|c| *c == Some(wanted))
            .and_then(|i| record.get(i))
            .unwrap_or("")
    };
    let id = cell(Column::Id).trim().to_owned();
    if id.is_empty() {
        return Err(ImportError::Input(format!("CSV line {line}: no id")));
    }
    let mut user = User {
        id,
        origin,
        username: nonempty(cell(Column::Username)),
        first_name: nonempty(cell(Column::FirstName)),
        last_name: nonempty(cell(Column::LastName)),
        image_url: nonempty(cell(Column::ImageUrl)),
        has_totp_secret: !cell(Column::TotpSecret).trim().is_empty(),
        ..User::default()
    };
    let verified: Vec<String> = values(cell(Column::VerifiedEmails)).collect();
    let all_emails = verified
        .iter()
        .cloned()
        .chain(values(cell(Column::UnverifiedEmails)))
        .chain(values(cell(Column::Emails)));
    user.primary_email = nonempty(cell(Column::PrimaryEmail));
    for email in all_emails {
        match &user.primary_email {
            None => user.primary_email = Some(email),
            Some(primary) if primary.eq_ignore_ascii_case(&email) => {}
            Some(_) => push_new(&mut user.other_emails, email),
        }
    }
    user.email_verified = user
        .primary_email
        .as_deref()
        .is_some_and(|p| verified.iter().any(|v| v.eq_ignore_ascii_case(p)));
    for phone in nonempty(cell(Column::PrimaryPhone))
        .into_iter()
        .chain(values(cell(Column::VerifiedPhones)))
        .chain(values(cell(Column::UnverifiedPhones)))
        .chain(values(cell(Column::Phones)))
    {
        push_new(&mut user.phones, phone);
    }
    user.password = password(
        nonempty(cell(Column::Digest)),
        nonempty(cell(Column::Hasher)),
    )
    .map_err(|why| ImportError::input(origin, &user.id, why))?;
    if let Some(text) = nonempty(cell(Column::CreatedAt)) {
        user.created_at = Some(
            parse_time(&text)
                .ok_or_else(|| ImportError::input(origin, &user.id, "created_at is no time"))?,
        );
    }
    user.banned = csv_flag(cell(Column::Banned), "banned", origin, &user.id)?;
    user.locked = csv_flag(cell(Column::Locked), "locked", origin, &user.id)?;
    let mut metadata = Metadata::default();
    for (column, slot) in [
        (Column::PublicMetadata, &mut metadata.public),
        (Column::PrivateMetadata, &mut metadata.private),
        (Column::UnsafeMetadata, &mut metadata.unsafe_),
    ] {
        let text = cell(column).trim();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => *slot = Some(map),
            Ok(Value::Null) => {}
            _ => {
                return Err(ImportError::input(
                    origin,
                    &user.id,
                    format!("{} is not a JSON object", column_name(column)),
                ))
            }
        }
    }
    metadata.render_into(&mut user, choice);
    Ok(user)
}

fn column_name(column: Column) -> &'static str {
    match column {
        Column::PublicMetadata => "public_metadata",
        Column::PrivateMetadata => "private_metadata",
        _ => "unsafe_metadata",
    }
}

fn csv_flag(cell: &str, name: &str, origin: Option<Origin>, id: &str) -> Result<bool, ImportError> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "f" | "0" | "no" => Ok(false),
        "true" | "t" | "1" | "yes" => Ok(true),
        _ => Err(ImportError::input(
            origin,
            id,
            format!("{name} is neither true nor false"),
        )),
    }
}

/// A digest needs its hasher: nothing is guessed from its shape. A hasher
/// without a digest is no password.
fn password(
    digest: Option<String>,
    hasher: Option<String>,
) -> Result<Option<(String, String)>, String> {
    match (digest, hasher) {
        (None, _) => Ok(None),
        (Some(_), None) => Err("password_digest without password_hasher".to_owned()),
        (Some(_), Some(hasher))
            if hasher.contains(['{', '}']) || hasher.contains(char::is_whitespace) =>
        {
            Err("password_hasher is not a hasher name".to_owned())
        }
        (Some(digest), Some(hasher)) => Ok(Some((digest, hasher))),
    }
}

/// Milliseconds since the epoch from a whole number (milliseconds, as the
/// Backend API writes; ten digits or fewer are seconds) or an RFC 3339 time.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(number) = text.parse::<i64>() {
        return Some(if number.abs() < 100_000_000_000 {
            number * 1000
        } else {
            number
        });
    }
    rfc3339_ms(text)
}

fn rfc3339_ms(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let first3: String = fraction[..len]
            .chars()
            .chain("000".chars())
            .take(3)
            .collect();
        millis = first3.parse::<i64>().ok()?;
        rest = &fraction[len..];
    }
    let offset_minutes = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest[1..].split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The three metadata objects of one user, before they become attributes.
#[derive(Default)]
struct Metadata {
    public: Option<Map<String, Value>>,
    private: Option<Map<String, Value>>,
    unsafe_: Option<Map<String, Value>>,
}

impl Metadata {
    /// `clerk_public_<key>` for each top-level key (strings as they are,
    /// anything else as JSON text, nulls left out); private and unsafe keys
    /// only when chosen.
    fn render_into(self, user: &mut User, choice: MetadataChoice) {
        let mut out = Vec::new();
        let kinds = [
            ("clerk_public_", self.public, true),
            ("clerk_private_", self.private, choice.private),
            ("clerk_unsafe_", self.unsafe_, choice.unsafe_),
        ];
        for (prefix, map, wanted) in kinds {
            let Some(map) = map.filter(|m| !m.is_empty()) else {
                continue;
            };
            if !wanted {
                if prefix == "clerk_private_" {
                    user.skipped_private = true;
                } else {
                    user.skipped_unsafe = true;
                }
                continue;
            }
            for (key, value) in map {
                let text = match value {
                    Value::Null => continue,
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                out.push((format!("{prefix}{key}"), text));
            }
        }
        user.metadata = out;
    }
}

/// A user object of the Backend API (`GET /v1/users`), or of Clerk's CLI
/// export. Unknown fields are ignored. Digests are read when present (Clerk
/// support's JSON exports carry them), although the Backend API has none.
#[derive(Deserialize)]
struct JsonUser {
    id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    username: Option<String>,
    #[serde(default)]
    email_addresses: Option<Vec<Contact>>,
    primary_email_address_id: Option<String>,
    /// The flat form of Clerk support's exports.
    primary_email_address: Option<String>,
    #[serde(default)]
    phone_numbers: Option<Vec<Contact>>,
    primary_phone_number_id: Option<String>,
    primary_phone_number: Option<String>,
    image_url: Option<String>,
    created_at: Option<i64>,
    banned: Option<bool>,
    locked: Option<bool>,
    two_factor_enabled: Option<bool>,
    totp_secret: Option<String>,
    password_digest: Option<String>,
    password_hasher: Option<String>,
    public_metadata: Option<Map<String, Value>>,
    private_metadata: Option<Map<String, Value>>,
    unsafe_metadata: Option<Map<String, Value>>,
}

/// An entry of `email_addresses[]` or `phone_numbers[]`: an object as the
/// Backend API writes it, or a bare string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Contact {
    Plain(String),
    Object {
        id: Option<String>,
        email_address: Option<String>,
        phone_number: Option<String>,
        verification: Option<Verification>,
    },
}

#[derive(Deserialize)]
struct Verification {
    status: Option<String>,
}

struct Address {
    id: Option<String>,
    value: String,
    verified: bool,
}

fn addresses(list: Option<Vec<Contact>>) -> Vec<Address> {
    list.unwrap_or_default()
        .into_iter()
        .filter_map(|contact| match contact {
            Contact::Plain(value) => nonempty(&value).map(|value| Address {
                id: None,
                value,
                verified: false,
            }),
            Contact::Object {
                id,
                email_address,
                phone_number,
                verification,
            } => nonempty(email_address.or(phone_number).as_deref().unwrap_or("")).map(|value| {
                Address {
                    id,
                    value,
                    verified: verification
                        .and_then(|v| v.status)
                        .is_some_and(|s| s == "verified"),
                }
            }),
        })
        .collect()
}

/// The address that `primary_id` (or `primary_value`) names, then the rest.
fn split_primary(
    list: Vec<Address>,
    primary_id: Option<&str>,
    primary_value: Option<String>,
) -> (Option<Address>, Vec<Address>) {
    let at = list.iter().position(|a| {
        primary_id.is_some_and(|id| a.id.as_deref() == Some(id))
            || primary_value
                .as_deref()
                .is_some_and(|v| a.value.eq_ignore_ascii_case(v))
    });
    let mut rest = list;
    match at {
        Some(at) => {
            let primary = rest.remove(at);
            (Some(primary), rest)
        }
        None => (
            primary_value
                .and_then(|v| nonempty(&v))
                .map(|value| Address {
                    id: None,
                    value,
                    verified: false,
                }),
            rest,
        ),
    }
}

fn json_user(raw: JsonUser, n: usize, choice: MetadataChoice) -> Result<User, ImportError> {
    let origin = Some(Origin::JsonUser(n));
    let id = raw
        .id
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if id.is_empty() {
        return Err(ImportError::Input(format!("JSON user {n}: no id")));
    }
    let (primary, others) = split_primary(
        addresses(raw.email_addresses),
        raw.primary_email_address_id.as_deref(),
        raw.primary_email_address,
    );
    let (primary_phone, other_phones) = split_primary(
        addresses(raw.phone_numbers),
        raw.primary_phone_number_id.as_deref(),
        raw.primary_phone_number,
    );
    let mut user = User {
        origin,
        username: raw.username.as_deref().and_then(nonempty),
        first_name: raw.first_name.as_deref().and_then(nonempty),
        last_name: raw.last_name.as_deref().and_then(nonempty),
        email_verified: primary.as_ref().is_some_and(|a| a.verified),
        primary_email: primary.map(|a| a.value),
        created_at: raw.created_at,
        banned: raw.banned.unwrap_or(false),
        locked: raw.locked.unwrap_or(false),
        image_url: raw.image_url.as_deref().and_then(nonempty),
        two_factor: raw.two_factor_enabled.unwrap_or(false),
        has_totp_secret: raw.totp_secret.is_some_and(|s| !s.trim().is_empty()),
        from_json: true,
        ..User::default()
    };
    for address in others {
        push_new(&mut user.other_emails, address.value);
    }
    for phone in primary_phone.into_iter().chain(other_phones) {
        push_new(&mut user.phones, phone.value);
    }
    user.password = password(
        raw.password_digest.as_deref().and_then(nonempty),
        raw.password_hasher.as_deref().and_then(nonempty),
    )
    .map_err(|why| ImportError::input(origin, &id, why))?;
    user.id = id;
    Metadata {
        public: raw.public_metadata,
        private: raw.private_metadata,
        unsafe_: raw.unsafe_metadata,
    }
    .render_into(&mut user, choice);
    Ok(user)
}

/// Reads the JSON export, one array element at a time, joining each user
/// with the CSV user of the same id.
pub fn read_json<R: Read>(
    input: R,
    choice: MetadataChoice,
    users: &mut Users,
    progress: &mut dyn FnMut(usize),
) -> Result<(), ImportError> {
    let mut deserializer = serde_json::Deserializer::from_reader(input);
    let mut failure = None;
    let seed = ArraySeed {
        choice,
        users,
        failure: &mut failure,
        progress,
    };
    let result = seed
        .deserialize(&mut deserializer)
        .and_then(|_| deserializer.end());
    if let Some(err) = failure {
        return Err(err);
    }
    result.map_err(|err| {
        ImportError::Input(format!(
            "JSON: {} (line {}, column {})",
            without_quoted(&err.to_string()),
            err.line(),
            err.column()
        ))
    })
}

/// A serde message with quoted input left out: it could be a digest or a
/// metadata value. "at line .. column .." is added back by the caller.
fn without_quoted(message: &str) -> String {
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned();
    let mut out = String::new();
    let mut quoted = false;
    for c in message.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"…\"");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

struct ArraySeed<'a> {
    choice: MetadataChoice,
    users: &'a mut Users,
    failure: &'a mut Option<ImportError>,
    progress: &'a mut dyn FnMut(usize),
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of Clerk user objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0;
        loop {
            n += 1;
            let raw = match seq.next_element::<JsonUser>() {
                Ok(Some(raw)) => raw,
                Ok(None) => return Ok(()),
                Err(err) => {
                    return Err(de::Error::custom(format!(
                        "JSON user {n} is not a Clerk user object: {}",
                        without_quoted(&err.to_string())
                    )))
                }
            };
            let joined = json_user(raw, n, self.choice).and_then(|user| self.users.join(user));
            if let Err(err) = joined {
                *self.failure = Some(err);
                return Err(de::Error::custom("stopped"));
            }
            (self.progress)(n);
        }
    }
}

/// Refuses what would break the import or the gateway's lookups: an email
/// or username claimed by two users (ignoring case), a NUL byte, a value
/// longer than its column.
pub fn validate(users: &[User]) -> Result<(), ImportError> {
    let mut emails: HashMap<String, usize> = HashMap::with_capacity(users.len());
    let mut usernames: HashMap<String, usize> = HashMap::with_capacity(users.len());
    for (at, user) in users.iter().enumerate() {
        check_text(user)?;
        for email in user.primary_email.iter().chain(&user.other_emails) {
            match emails.get(&email.to_lowercase()) {
                Some(&other) if other != at => {
                    return Err(ImportError::input(
                        user.origin,
                        &user.id,
                        format!(
                            "the email {email} is claimed by two users (also {} at {})",
                            users[other].id,
                            origin_text(users[other].origin)
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    emails.insert(email.to_lowercase(), at);
                }
            }
        }
        let username = username_of(user).to_lowercase();
        if let Some(&other) = usernames.get(&username) {
            return Err(ImportError::input(
                user.origin,
                &user.id,
                format!(
                    "the username {username} is claimed by two users (also {} at {})",
                    users[other].id,
                    origin_text(users[other].origin)
                ),
            ));
        }
        usernames.insert(username, at);
    }
    Ok(())
}

/// `username`, else the primary email, else the Clerk id.
pub fn username_of(user: &User) -> &str {
    user.username
        .as_deref()
        .or(user.primary_email.as_deref())
        .unwrap_or(&user.id)
}

/// The longest value of a `varchar(255)` column, in characters.
pub const MAX_COLUMN_CHARS: usize = 255;

fn check_text(user: &User) -> Result<(), ImportError> {
    let stored = user
        .password
        .as_ref()
        .map(|(digest, hasher)| digest.chars().count() + hasher.chars().count() + 8);
    let short_fields: [(&str, Option<&str>); 7] = [
        ("id", Some(&user.id)),
        ("username", user.username.as_deref()),
        ("first_name", user.first_name.as_deref()),
        ("last_name", user.last_name.as_deref()),
        ("primary email", user.primary_email.as_deref()),
        (
            "password_hasher",
            user.password.as_ref().map(|(_, h)| h.as_str()),
        ),
        (
            "password_digest",
            user.password.as_ref().map(|(d, _)| d.as_str()),
        ),
    ];
    for (name, value) in short_fields {
        let Some(value) = value else { continue };
        if value.contains('\0') {
            return Err(ImportError::input(
                user.origin,
                &user.id,
                format!("NUL byte in {name}"),
            ));
        }
        if name != "password_digest" && value.chars().count() > MAX_COLUMN_CHARS {
            return Err(ImportError::input(
                user.origin,
                &user.id,
                format!("{name} is longer than {MAX_COLUMN_CHARS} characters"),
            ));
        }
    }
    if stored.is_some_and(|chars| chars > MAX_COLUMN_CHARS) {
        return Err(ImportError::input(
            user.origin,
            &user.id,
            format!("the password value is longer than {MAX_COLUMN_CHARS} characters"),
        ));
    }
    let attribute_values = user
        .other_emails
        .iter()
        .map(|v| ("an email address", v))
        .chain(user.phones.iter().map(|v| ("a phone number", v)))
        .chain(user.image_url.iter().map(|v| ("image_url", v)));
    for (name, value) in attribute_values {
        if value.contains('\0') {
            return Err(ImportError::input(
                user.origin,
                &user.id,
                format!("NUL byte in {name}"),
            ));
        }
    }
    for (name, value) in &user.metadata {
        if name.contains('\0') || value.contains('\0') {
            return Err(ImportError::input(
                user.origin,
                &user.id,
                "NUL byte in a metadata key or value",
            ));
        }
        if name.chars().count() > MAX_COLUMN_CHARS {
            return Err(ImportError::input(
                user.origin,
                &user.id,
                format!("a metadata key makes an attribute name longer than {MAX_COLUMN_CHARS} characters"),
            ));
        }
    }
    Ok(())
}
