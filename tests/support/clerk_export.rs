//! A generated Clerk export: the Dashboard CSV (current layout) and the
//! Backend API JSON of the same users, with a digest of every hasher the
//! gateway verifies, users without a password, metadata, a user with two
//! email addresses and a banned user.
//!
//! The digests are in the forms Clerk documents. They come from the
//! reference sources named beside them, from Python's hashlib (as in
//! `tests/integration/hashes.rs`), or from the gateway's own makers.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use userstore_gateway::password::{make_hash, Scheme};

/// The password of the rows not from a named source.
pub const PASSWORD: &str = "hunter2-Wonderland";
/// Clerk's sample CSV (clerk/migration-tool samples/clerk.csv) and its password.
pub const SAMPLE_BCRYPT: &str = "$2b$10$U4C0ZY8OG8y41F9LusfKyu3HRMBL0rCZcKBVsXhgr.n8Ou6FPhzO2";
pub const SAMPLE_PASSWORD: &str = "Kk4aPMeiaRpAs2OeX1NE";

/// (Clerk `password_hasher`, `password_digest`, password).
const DIGESTS: &[(&str, &str, &str)] = &[
    ("bcrypt", SAMPLE_BCRYPT, SAMPLE_PASSWORD),
    // Openwall phpass test.php, as WordPress ($P$) and phpBB ($H$) write it.
    ("phpass", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "test12345"),
    ("md5_phpass", "$H$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "test12345"),
    // firebase/scrypt README sample.
    (
        "scrypt_firebase",
        "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$42xEC+ixf3L2lw==$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$8$14",
        "user1password",
    ),
    // P-H-C/phc-winner-argon2 src/test.c.
    (
        "argon2i",
        "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
        "password",
    ),
    // Clerk's documentation examples.
    ("md5", "5f4dcc3b5aa765d61d8327deb882cf99", "password"),
    (
        "sha256",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "test",
    ),
    ("ldap_ssha", "{SSHA}Kr58PRzN2FSOrJfGizvVQDCxwh1zNGx0", PASSWORD),
    ("md5_salted", "s4lt$32a753da7569ef0831e6dd864f706090", PASSWORD),
    (
        "sha256_salted",
        "s4lt$8c28e2e9f447a94867b823c0b19af9ffb2d5d61057660ee46555680522def081",
        PASSWORD,
    ),
    (
        "sha512_symfony",
        "sha512_symfony$5000$s4lt$aNT9tEU+3RQJYALpwFbVCrIkecMXr0q2uSHcBeWuyjIIH6DCjE3cn87tX+IfNaj89Z77RYYcKMdGNUl7Noy5yg==",
        PASSWORD,
    ),
    (
        "pbkdf2_sha256_django",
        "pbkdf2_sha256$100000$seasalt$IS//ukst0h2UaxFkA5cBVmhssiD8tm6aTr/gXNd7fcs=",
        PASSWORD,
    ),
    (
        "pbkdf2_sha256",
        "pbkdf2_sha256$100000$c2Vhc2FsdA==$IS//ukst0h2UaxFkA5cBVmhssiD8tm6aTr/gXNd7fcs=",
        PASSWORD,
    ),
    (
        "pbkdf2_sha1",
        "pbkdf2_sha1$100000$seasalt$f96aeefabf124156f6b83f6a120f2d91401e26dd",
        PASSWORD,
    ),
    (
        "pbkdf2_sha512",
        "pbkdf2_sha512$100000$seasalt$05019f86ea0b64958633ccd3b30c28a43115d475614fb189fa82495bc3c033376739fd4948c5d813bc304d0b8027b5c350a6fbdc0c2371a2176f721afa1e97e7",
        PASSWORD,
    ),
    (
        "pbkdf2_sha512_hex",
        "pbkdf2_sha512_hex$100000$73656173616c74$05019f86ea0b64958633ccd3b30c28a43115d475614fb189fa82495bc3c033376739fd4948c5d813bc304d0b8027b5c350a6fbdc0c2371a2176f721afa1e97e7",
        PASSWORD,
    ),
    (
        "scrypt_werkzeug",
        "scrypt:16384:8:1$seasalt$afa44bba9017208b42bc12e91a2cbb81e48bc61d433fa73c37eda11710f097414ae0a53414d7d91d72a89e7f55952c9973423b5e122f16a9cf6fbc369f1d562d",
        PASSWORD,
    ),
];

/// One user of the export.
#[derive(Clone, Debug)]
pub struct ClerkUser {
    pub id: String,
    pub username: Option<String>,
    pub emails: Vec<String>,
    pub first_name: String,
    pub last_name: String,
    /// (hasher, digest); None for a user without a password.
    pub digest: Option<(String, String)>,
    /// The password that logs this user in, when the digest is usable.
    pub password: Option<String>,
    pub banned: bool,
    pub public_metadata: Value,
    pub created_at: i64,
}

impl ClerkUser {
    /// What Keycloak knows the user by: the username, or the primary email.
    pub fn login(&self) -> String {
        self.username
            .clone()
            .unwrap_or_else(|| self.emails[0].clone())
    }
}

/// `total` users (at least 40): one per hasher (see [`DIGESTS`], plus the
/// makers' argon2id, bcrypt_sha256_django and a peppered bcrypt), an
/// `awscognito` user, OAuth-only users, a user with two addresses and no
/// username, a banned user, users with public metadata, and bcrypt users
/// (Clerk's sample digest) to fill up.
pub fn users(total: usize) -> Vec<ClerkUser> {
    assert!(total >= 40, "room for every kind of user");
    let mut digests: Vec<(String, String, String)> = DIGESTS
        .iter()
        .map(|(h, d, p)| (h.to_string(), d.to_string(), p.to_string()))
        .collect();
    let argon2 = make_hash(Scheme::Argon2id, PASSWORD).expect("argon2id maker");
    digests.push(("argon2id".into(), argon2, PASSWORD.into()));
    let django = make_hash(Scheme::BcryptSha256Django, PASSWORD).expect("django maker");
    let django = django
        .strip_prefix("{CLERK:bcrypt_sha256_django}")
        .expect("labelled")
        .to_owned();
    digests.push(("bcrypt_sha256_django".into(), django, PASSWORD.into()));
    let pepper = "devise-pepper-9f2c";
    let peppered = bcrypt::hash_with_salt(format!("{PASSWORD}{pepper}"), 4, *b"0123456789abcdef")
        .expect("bcrypt")
        .format_for_version(bcrypt::Version::TwoB);
    digests.push((
        "bcrypt_peppered".into(),
        format!("{peppered}${pepper}"),
        PASSWORD.into(),
    ));

    let mut users = Vec::with_capacity(total);
    let user = |i: usize| ClerkUser {
        id: format!("user_2{i:025}"),
        username: Some(format!("clerk{i:04}")),
        emails: vec![format!("clerk{i:04}@example.test")],
        first_name: format!("First{i}"),
        last_name: format!("Last{i}"),
        digest: None,
        password: None,
        banned: false,
        public_metadata: json!({}),
        created_at: 1_700_000_000_000 + i as i64,
    };
    for (i, (hasher, digest, password)) in digests.iter().enumerate() {
        let mut u = user(i);
        u.digest = Some((hasher.clone(), digest.clone()));
        u.password = Some(password.clone());
        users.push(u);
    }
    let mut next = users.len();
    let mut push = |users: &mut Vec<ClerkUser>, edit: &dyn Fn(&mut ClerkUser)| {
        let mut u = user(next);
        edit(&mut u);
        users.push(u);
        next += 1;
    };
    push(&mut users, &|u| {
        u.digest = Some((
            "awscognito".into(),
            "awscognito#eu-west-1_AbC#client123#alice".into(),
        ))
    });
    for _ in 0..3 {
        push(&mut users, &|_| {}); // OAuth-only: no digest
    }
    push(&mut users, &|u| {
        u.username = None;
        u.emails = vec![
            format!("{}.primary@example.test", u.first_name.to_lowercase()),
            format!("{}.second@example.test", u.first_name.to_lowercase()),
        ];
        u.digest = Some(("bcrypt".into(), SAMPLE_BCRYPT.into()));
        u.password = Some(SAMPLE_PASSWORD.into());
    });
    push(&mut users, &|u| {
        u.digest = Some(("bcrypt".into(), SAMPLE_BCRYPT.into()));
        u.password = Some(SAMPLE_PASSWORD.into());
        u.banned = true;
    });
    while users.len() < total {
        let i = users.len();
        push(&mut users, &|u| {
            u.digest = Some(("bcrypt".into(), SAMPLE_BCRYPT.into()));
            u.password = Some(SAMPLE_PASSWORD.into());
            if i % 3 == 0 {
                u.public_metadata = json!({"plan": "pro", "seats": i, "beta": true});
            }
        });
    }
    users
}

fn csv_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// The Dashboard CSV export (current layout).
pub fn csv(users: &[ClerkUser]) -> String {
    let mut out = String::from(
        "id,first_name,last_name,username,primary_email_address,primary_phone_number,\
         verified_email_addresses,unverified_email_addresses,verified_phone_numbers,\
         unverified_phone_numbers,totp_secret,password_digest,password_hasher\n",
    );
    for u in users {
        let (hasher, digest) = u.digest.clone().unwrap_or_default();
        let fields = [
            u.id.clone(),
            u.first_name.clone(),
            u.last_name.clone(),
            u.username.clone().unwrap_or_default(),
            u.emails[0].clone(),
            String::new(),
            u.emails.join("|"),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            digest,
            hasher,
        ];
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            csv_field(&mut out, field);
        }
        out.push('\n');
    }
    out
}

/// The Backend API JSON export of the same users (no digests).
pub fn json(users: &[ClerkUser]) -> String {
    let list: Vec<Value> = users
        .iter()
        .map(|u| {
            let emails: Vec<Value> = u
                .emails
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    json!({
                        "id": format!("idn_{}_{i}", u.id),
                        "email_address": e,
                        "verification": {"status": "verified", "strategy": "email_code"}
                    })
                })
                .collect();
            json!({
                "id": u.id,
                "first_name": u.first_name,
                "last_name": u.last_name,
                "username": u.username,
                "email_addresses": emails,
                "primary_email_address_id": format!("idn_{}_0", u.id),
                "phone_numbers": [],
                "primary_phone_number_id": null,
                "image_url": format!("https://img.example.test/{}.png", u.id),
                "created_at": u.created_at,
                "last_sign_in_at": u.created_at + 1000,
                "password_enabled": u.digest.is_some(),
                "two_factor_enabled": false,
                "banned": u.banned,
                "locked": false,
                "external_accounts": [],
                "public_metadata": u.public_metadata,
                "private_metadata": {"internal": "never-exported-by-default"},
                "unsafe_metadata": {}
            })
        })
        .collect();
    let mut out = String::new();
    let _ = write!(out, "{}", Value::Array(list));
    out
}

/// Writes the export of `users` into `dir` and runs the gateway binary's
/// `import-clerk --csv --json --dialect` on it: (script, stderr).
pub fn run_import(users: &[ClerkUser], dir: &Path, dialect: &str) -> (String, String) {
    let csv_file = dir.join("users.csv");
    let json_file = dir.join("users.json");
    std::fs::write(&csv_file, csv(users)).expect("csv");
    std::fs::write(&json_file, json(users)).expect("json");
    let output = Command::new(env!("CARGO_BIN_EXE_userstore-gateway"))
        .args(["import-clerk", "--csv"])
        .arg(&csv_file)
        .arg("--json")
        .arg(&json_file)
        .args(["--dialect", dialect])
        .output()
        .expect("import-clerk runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "import-clerk failed:\n{stderr}");
    (
        String::from_utf8(output.stdout).expect("UTF-8 script"),
        stderr,
    )
}

/// Loads a PostgreSQL script as a DBA would: `psql -v ON_ERROR_STOP=1 -f`.
pub fn load_with_psql(url: &str, script: &str, dir: &Path) {
    let file = dir.join("clerk.sql");
    std::fs::write(&file, script).expect("script file");
    let loaded = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
        .arg(&file)
        .output()
        .expect("psql runs (Debian package postgresql-client)");
    assert!(
        loaded.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&loaded.stderr)
    );
}
