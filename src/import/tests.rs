//! The import on fixture exports written by each test: both CSV layouts,
//! the JSON, joined and alone, multi-valued cells, every refusal, and the
//! SQL text per dialect.

use std::io::Write as _;
use std::path::PathBuf;

use super::clerk::parse_time;
use super::*;

const DIGEST: &str = "$2b$10$U4C0ZY8OG8y41F9LusfKyu3HRMBL0rCZcKBVsXhgr.n8Ou6FPhzO2";
const CURRENT_HEADER: &str = "id,first_name,last_name,username,primary_email_address,\
    primary_phone_number,verified_email_addresses,unverified_email_addresses,\
    verified_phone_numbers,unverified_phone_numbers,totp_secret,password_digest,password_hasher";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        let mut file = std::fs::File::create(&path).expect("create fixture");
        file.write_all(text.as_bytes()).expect("write fixture");
        path
    }
}

fn options(csv: Option<PathBuf>, json: Option<PathBuf>) -> Options {
    Options {
        csv,
        json,
        dialect: Dialect::Postgres,
        metadata: MetadataChoice::default(),
    }
}

fn read_users(options: &Options) -> Result<(Vec<User>, Vec<String>), ImportError> {
    read(options, &mut |_| {})
}

fn script(users: &[User], dialect: Dialect) -> (String, Summary) {
    let mut out = Vec::new();
    let summary = write(users, dialect, &mut out, &mut |_| {}).expect("script");
    (String::from_utf8(out).expect("UTF-8 script"), summary)
}

fn refusal(options: &Options) -> String {
    match read_users(options) {
        Ok((users, _)) => panic!("accepted {} users", users.len()),
        Err(err) => err.to_string(),
    }
}

fn current_csv(rows: &[&str]) -> String {
    let mut text = format!("{CURRENT_HEADER}\n");
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text
}

fn attribute<'a>(user: &'a User, name: &str) -> Vec<&'a str> {
    attributes(user)
        .into_iter()
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .collect()
}

#[test]
fn current_csv_layout_maps_every_column_and_keeps_every_address() {
    let fx = Fixture::new();
    let csv = fx.file(
        "users.csv",
        &current_csv(&[
            &format!(
                "user_1,Jane,Doe,,jane@example.test,+4930111,jane@example.test|j.doe@example.test,\
                 old@example.test,+4930111|+4930222,+4930333,JBSWY3DPEHPK3PXP,{DIGEST},bcrypt"
            ),
            "user_2,John,,jdoe,john@example.test,,,john@example.test,,,,,",
        ]),
    );
    let (users, notes) = read_users(&options(Some(csv), None)).expect("read");
    assert_eq!(users.len(), 2);
    let jane = &users[0];
    assert_eq!(jane.id, "user_1");
    assert_eq!(
        clerk::username_of(jane),
        "jane@example.test",
        "no username: the primary email"
    );
    assert_eq!(jane.primary_email.as_deref(), Some("jane@example.test"));
    assert!(jane.email_verified);
    assert_eq!(
        jane.other_emails,
        ["j.doe@example.test", "old@example.test"]
    );
    assert_eq!(jane.phones, ["+4930111", "+4930222", "+4930333"]);
    assert_eq!(
        stored_password(jane).as_deref(),
        Some(format!("{{CLERK:bcrypt}}{DIGEST}").as_str())
    );
    assert_eq!(attribute(jane, "other_email").len(), 2);
    assert_eq!(attribute(jane, "phone").len(), 3);
    assert_eq!(attribute(jane, "clerk_id"), ["user_1"]);
    assert_eq!(attribute(jane, "migrated_from"), ["clerk"]);
    let john = &users[1];
    assert_eq!(clerk::username_of(john), "jdoe");
    assert!(!john.email_verified, "only unverified addresses");
    assert_eq!(john.last_name, None);
    assert_eq!(
        stored_password(john),
        None,
        "empty digest and hasher: no password"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("1 users have a TOTP secret")),
        "{notes:?}"
    );
    assert!(
        !notes.iter().any(|n| n.contains("JBSWY3DP")),
        "a secret in the notes"
    );
}

#[test]
fn older_csv_layout_reads_addresses_and_json_metadata_cells() {
    let fx = Fixture::new();
    let csv = fx.file(
        "old.csv",
        &format!(
            "id,first_name,last_name,username,email_addresses,phone_numbers,totp_secret,\
             password_digest,password_hasher,unsafe_metadata,public_metadata,private_metadata,\
             created_at,favourite_colour\n\
             user_9,Ada,Lovelace,ada,ada@example.test|countess@example.test,+441|+442,,{DIGEST},\
             bcrypt,\"{{\"\"theme\"\":\"\"dark\"\"}}\",\"{{\"\"plan\"\":\"\"pro\"\",\"\"seats\"\":3,\
             \"\"tags\"\":[\"\"a\"\"]}}\",\"{{\"\"vip\"\":true}}\",2024-01-02T03:04:05.678Z,blue\n"
        ),
    );
    let (users, notes) = read_users(&options(Some(csv), None)).expect("read");
    let ada = &users[0];
    assert_eq!(ada.primary_email.as_deref(), Some("ada@example.test"));
    assert!(
        !ada.email_verified,
        "the older layout has no verification state"
    );
    assert_eq!(ada.other_emails, ["countess@example.test"]);
    assert_eq!(ada.phones, ["+441", "+442"]);
    assert_eq!(ada.created_at, Some(1_704_164_645_678));
    assert_eq!(attribute(ada, "clerk_public_plan"), ["pro"]);
    assert_eq!(
        attribute(ada, "clerk_public_seats"),
        ["3"],
        "non-strings as JSON text"
    );
    assert_eq!(attribute(ada, "clerk_public_tags"), ["[\"a\"]"]);
    assert!(
        attribute(ada, "clerk_private_vip").is_empty(),
        "private only with the flag"
    );
    assert!(
        attribute(ada, "clerk_unsafe_theme").is_empty(),
        "unsafe only with the flag"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("\"favourite_colour\" is not imported")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("private_metadata")),
        "{notes:?}"
    );

    let mut with_flags = options(Some(fx.dir.path().join("old.csv")), None);
    with_flags.metadata = MetadataChoice {
        private: true,
        unsafe_: true,
    };
    let (users, _) = read_users(&with_flags).expect("read");
    assert_eq!(attribute(&users[0], "clerk_private_vip"), ["true"]);
    assert_eq!(attribute(&users[0], "clerk_unsafe_theme"), ["dark"]);
}

fn json_user(id: &str, email: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"{id}","first_name":"F","last_name":"L","username":null,
        "email_addresses":[{{"id":"idn_other","email_address":"other-{email}","verification":{{"status":"unverified"}}}},
                           {{"id":"idn_{id}","email_address":"{email}","verification":{{"status":"verified"}}}}],
        "primary_email_address_id":"idn_{id}",
        "phone_numbers":[{{"id":"phn_1","phone_number":"+15550100","verification":null}}],
        "primary_phone_number_id":"phn_1","image_url":"https://img.example.test/{id}",
        "created_at":1700000000123,"last_sign_in_at":1700000999000,"password_enabled":true,
        "two_factor_enabled":true,"external_accounts":[],
        "public_metadata":{{"role":"admin"}},"private_metadata":{{}},"unsafe_metadata":{{}}{extra}}}"#
    )
}

#[test]
fn json_alone_maps_the_backend_api_user() {
    let fx = Fixture::new();
    let json = fx.file(
        "users.json",
        &format!(
            "[{},{}]",
            json_user(
                "user_a",
                "a@example.test",
                r#","banned":true,"locked":false"#
            ),
            json_user(
                "user_b",
                "b@example.test",
                r#","banned":false,"locked":true"#
            )
        ),
    );
    let (users, _) = read_users(&options(None, Some(json))).expect("read");
    let a = &users[0];
    assert_eq!(a.primary_email.as_deref(), Some("a@example.test"));
    assert!(a.email_verified);
    assert_eq!(a.other_emails, ["other-a@example.test"]);
    assert_eq!(a.created_at, Some(1_700_000_000_123));
    assert_eq!(stored_password(a), None, "the Backend API has no digests");
    assert_eq!(attribute(a, "phone"), ["+15550100"]);
    assert_eq!(
        attribute(a, "image_url"),
        ["https://img.example.test/user_a"]
    );
    assert_eq!(attribute(a, "clerk_public_role"), ["admin"]);
    assert_eq!(attribute(a, "clerk_two_factor_enabled"), ["true"]);
    let (sql, summary) = script(&users, Dialect::Postgres);
    assert_eq!(summary.disabled, 2, "banned and locked users are disabled");
    assert!(
        sql.contains("user_a\ta@example.test\ta@example.test\tt\tF\tL\t1700000000123\t\\N\tf\n"),
        "{sql}"
    );
    assert!(
        sql.contains("user_b\tb@example.test\tb@example.test\tt\tF\tL\t1700000000123\t\\N\tf\n")
    );
}

#[test]
fn csv_and_json_join_on_the_clerk_id() {
    let fx = Fixture::new();
    let csv = fx.file(
        "users.csv",
        &current_csv(&[
            &format!("user_a,Anna,,anna,a@example.test,,,a@example.test,,,,{DIGEST},bcrypt"),
            &format!("user_c,Carl,,carl,c@example.test,,c@example.test,,,,,{DIGEST},argon2id"),
        ]),
    );
    let json = fx.file(
        "users.json",
        &format!(
            "[{},{}]",
            json_user("user_a", "a@example.test", r#","banned":true"#),
            json_user("user_j", "j@example.test", "")
        ),
    );
    let (users, notes) = read_users(&options(Some(csv), Some(json))).expect("read");
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(
        ids,
        ["user_a", "user_c", "user_j"],
        "CSV order, then JSON-only users"
    );
    let a = &users[0];
    assert_eq!(
        a.first_name.as_deref(),
        Some("Anna"),
        "the CSV's value stays"
    );
    assert!(a.email_verified, "the JSON's verification state joins in");
    assert!(a.banned);
    assert_eq!(a.created_at, Some(1_700_000_000_123));
    assert!(stored_password(a).is_some(), "the CSV's digest stays");
    assert_eq!(attribute(a, "clerk_public_role"), ["admin"]);
    assert_eq!(stored_password(&users[2]), None);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("1 users are in the CSV only")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("1 users are in the JSON only")),
        "{notes:?}"
    );

    let (_, summary) = script(&users, Dialect::Sqlite);
    assert_eq!(summary.users, 3);
    assert_eq!(summary.by_hasher.get("bcrypt"), Some(&1));
    // A bcrypt digest labelled argon2id is no usable password; no digest neither.
    assert_eq!(summary.unusable.get("argon2id"), Some(&1));
    assert_eq!(summary.unusable.get("none"), Some(&1));
    assert_eq!(summary.without_usable_password(), 2);
    let text = summary_text(&summary, Dialect::Sqlite);
    assert!(text.contains("3 users written for sqlite"), "{text}");
    assert!(
        text.contains("2 users without a usable password, by hasher: argon2id 1, none 1"),
        "{text}"
    );
}

#[test]
fn refuses_a_csv_row_without_id_naming_its_line() {
    let fx = Fixture::new();
    let csv = fx.file(
        "users.csv",
        &current_csv(&[
            "user_1,A,,a,a@example.test,,,,,,,,",
            ",B,,b,b@example.test,,,,,,,,",
        ]),
    );
    assert_eq!(refusal(&options(Some(csv), None)), "CSV line 3: no id");
}

#[test]
fn refuses_a_csv_without_id_column() {
    let fx = Fixture::new();
    let csv = fx.file("users.csv", "first_name,username\nA,a\n");
    assert!(refusal(&options(Some(csv), None)).starts_with("CSV line 1: no id column"));
}

#[test]
fn refuses_broken_csv_quoting_naming_the_line() {
    let fx = Fixture::new();
    let csv = fx.file(
        "users.csv",
        &current_csv(&[
            "user_1,A,,a,a@example.test,,,,,,,,",
            "user_2,\"Bo,b,,b@example.test,,,,,,,,",
            "user_3,C,,c,c@example.test,,,,,,,,",
        ]),
    );
    let message = refusal(&options(Some(csv), None));
    assert!(message.starts_with("CSV line 3: "), "{message}");
    assert!(message.contains("broken quoting"), "{message}");
}

#[test]
fn refuses_json_that_is_not_an_array() {
    let fx = Fixture::new();
    let json = fx.file("users.json", &json_user("user_a", "a@example.test", ""));
    let message = refusal(&options(None, Some(json)));
    assert!(
        message.contains("an array of Clerk user objects"),
        "{message}"
    );
}

#[test]
fn refuses_a_json_user_without_id_naming_its_position() {
    let fx = Fixture::new();
    let json = fx.file(
        "users.json",
        &format!(
            "[{},{{\"first_name\":\"x\"}}]",
            json_user("user_a", "a@example.test", "")
        ),
    );
    assert_eq!(refusal(&options(None, Some(json))), "JSON user 2: no id");
}

#[test]
fn refuses_an_email_claimed_by_two_users() {
    let fx = Fixture::new();
    let csv = fx.file(
        "users.csv",
        &current_csv(&[
            "user_1,A,,a,a@example.test,,,,,,,,",
            "user_2,B,,b,b@example.test,,,A@Example.test,,,,,",
        ]),
    );
    let message = refusal(&options(Some(csv), None));
    assert!(message.starts_with("CSV line 3 (user_2): the email A@Example.test is claimed by two users (also user_1 at CSV line 2)"), "{message}");
}

#[test]
fn refuses_the_same_id_twice_in_csv_and_in_json() {
    let fx = Fixture::new();
    let csv = fx.file(
        "users.csv",
        &current_csv(&[
            "user_1,A,,a,a@example.test,,,,,,,,",
            "user_1,B,,b,b@example.test,,,,,,,,",
        ]),
    );
    assert_eq!(
        refusal(&options(Some(csv), None)),
        "CSV line 3 (user_1): the same id twice (first at CSV line 2)"
    );
    let json = fx.file(
        "users.json",
        &format!(
            "[{},{}]",
            json_user("user_x", "x@example.test", ""),
            json_user("user_x", "y@example.test", "")
        ),
    );
    assert_eq!(
        refusal(&options(None, Some(json.clone()))),
        "JSON user 2 (user_x): the same id twice (first at JSON user 1)"
    );
    // Joined: once in each file is the join, twice in the JSON is not.
    let csv = fx.file(
        "one.csv",
        &current_csv(&["user_x,A,,a,x@example.test,,,,,,,,"]),
    );
    assert!(refusal(&options(Some(csv), Some(json))).contains("the same id twice"));
}

#[test]
fn refuses_a_nul_byte_naming_the_user_not_the_value() {
    let fx = Fixture::new();
    let json = fx.file(
        "users.json",
        r#"[{"id":"user_n","public_metadata":{"note":"secret\u0000value"}}]"#,
    );
    let message = refusal(&options(None, Some(json)));
    assert_eq!(
        message,
        "JSON user 1 (user_n): NUL byte in a metadata key or value"
    );
}

#[test]
fn refusals_never_show_digests_or_metadata() {
    let fx = Fixture::new();
    let csv = fx.file(
        "users.csv",
        &current_csv(&[&format!("user_1,A,,a,a@example.test,,,,,,,{DIGEST},")]),
    );
    let message = refusal(&options(Some(csv), None));
    assert_eq!(
        message,
        "CSV line 2 (user_1): password_digest without password_hasher"
    );
    let json = fx.file(
        "users.json",
        r#"[{"id":"user_1","created_at":"top-secret-value"}]"#,
    );
    let message = refusal(&options(None, Some(json)));
    assert!(
        message.contains("JSON user 1 is not a Clerk user object"),
        "{message}"
    );
    assert!(!message.contains("top-secret-value"), "{message}");
}

#[test]
fn postgres_copy_escapes_backslash_tab_and_newline() {
    let user = User {
        id: "user_1".to_owned(),
        first_name: Some("Tab\there".to_owned()),
        last_name: Some("back\\slash\nnew\rline".to_owned()),
        metadata: vec![("clerk_public_note".to_owned(), "\\.".to_owned())],
        ..User::default()
    };
    let (sql, _) = script(&[user], Dialect::Postgres);
    assert!(
        sql.contains(
            "user_1\tuser_1\t\\N\tf\tTab\\there\tback\\\\slash\\nnew\\rline\t\\N\t\\N\tt\n"
        ),
        "{sql}"
    );
    assert!(
        sql.contains("user_1\tclerk_public_note\t\\\\.\n"),
        "end marker escaped"
    );
    assert!(sql.starts_with("-- Written by userstore-gateway import-clerk"));
    assert!(sql.contains("BEGIN;") && sql.trim_end().ends_with("COMMIT;"));
    let copy = sql.find("COPY users").expect("COPY");
    let index = sql
        .find("CREATE INDEX users_username_lower")
        .expect("index");
    assert!(copy < index, "indexes after the rows");
}

#[test]
fn insert_literals_double_quotes_and_mysql_backslashes() {
    let user = User {
        id: "user_1".to_owned(),
        first_name: Some("O'Brien".to_owned()),
        last_name: Some("back\\slash".to_owned()),
        primary_email: Some("o@example.test".to_owned()),
        email_verified: true,
        created_at: Some(42),
        ..User::default()
    };
    let (mysql, _) = script(std::slice::from_ref(&user), Dialect::MySql);
    assert!(
        mysql.contains("('user_1', 'o@example.test', 'o@example.test', TRUE, 'O''Brien', 'back\\\\slash', 42, NULL, TRUE)"),
        "{mysql}"
    );
    assert!(mysql.contains("NO_BACKSLASH_ESCAPES"));
    assert!(mysql.contains("START TRANSACTION;"));
    let (sqlite, _) = script(&[user], Dialect::Sqlite);
    assert!(
        sqlite.contains("('user_1', 'o@example.test', 'o@example.test', 1, 'O''Brien', 'back\\slash', 42, NULL, 1)"),
        "{sqlite}"
    );
    assert!(!sqlite.contains("CREATE VIEW"), "only tables and indexes");
}

#[test]
fn output_is_deterministic() {
    let fx = Fixture::new();
    let csv = fx.file(
        "users.csv",
        &current_csv(&[
            "user_2,B,,b,b@example.test,,,,,,,,",
            "user_1,A,,a,a@example.test,,,,,,,,",
        ]),
    );
    let opts = options(Some(csv), None);
    let (first, _) = script(&read_users(&opts).expect("read").0, Dialect::MySql);
    let (second, _) = script(&read_users(&opts).expect("read").0, Dialect::MySql);
    assert_eq!(first, second);
    assert!(
        first.find("'user_2'").expect("2") < first.find("'user_1'").expect("1"),
        "input order"
    );
}

#[test]
fn times_are_milliseconds_from_numbers_or_rfc3339() {
    assert_eq!(parse_time("1700000000123"), Some(1_700_000_000_123));
    assert_eq!(parse_time("1700000000"), Some(1_700_000_000_000), "seconds");
    assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(
        parse_time("2024-01-02T04:04:05.5+01:00"),
        Some(1_704_164_645_500)
    );
    assert_eq!(parse_time("yesterday"), None);
}
