//! Every hasher of issue 13 through `POST /v1/users/{id}/verify-password`, on every vendor:
//! values stored the way a DBA or an import stores them (the column is `varchar(255)`),
//! the pepper from `[hashing]`, the hash counter labelled by scheme, and unusable values
//! (unknown hashers, `awscognito`, malformed digests) refused and logged once per hasher.
//!
//! The reference vectors here were made with Python's hashlib (OpenSSL) or come from the
//! sources named beside them; the makers' output is verified too. The known-answer tests
//! of each scheme against its reference implementation are in `src/password/kat.rs`.

use crate::support::dba::Session;
use crate::support::faults::GatewayProcess;
use crate::support::gateway::{fixture_db, settings, spawn_app_with, TOKEN};
use crate::support::{TestDb, Vendor};
use userstore_gateway::password::{make_hash, Scheme};
use userstore_gateway::settings::Secret;

on_every_vendor!(
    every_hasher_verifies_through_the_api,
    unusable_values_are_refused_and_logged_once_per_hasher,
);

/// The password of every row below that is not from a named source.
const PASSWORD: &str = "hunter2-Wonderland";
const PEPPER: &str = "devise-pepper-9f2c";

/// (scheme label of the hash counter, stored value, password). Made with Python 3.11's
/// hashlib unless a source is named.
const VECTORS: &[(&str, &str, &str)] = &[
    // clerk/migration-tool samples/clerk.csv (its first line names the password).
    (
        "bcrypt",
        "{CLERK:bcrypt}$2b$10$U4C0ZY8OG8y41F9LusfKyu3HRMBL0rCZcKBVsXhgr.n8Ou6FPhzO2",
        "Kk4aPMeiaRpAs2OeX1NE",
    ),
    // Openwall phpass test.php.
    ("phpass", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "test12345"),
    // firebase/scrypt README sample, in Clerk's six-part form.
    (
        "scrypt_firebase",
        "{CLERK:scrypt_firebase}lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$42xEC+ixf3L2lw==$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$8$14",
        "user1password",
    ),
    // P-H-C/phc-winner-argon2 src/test.c.
    (
        "argon2i",
        "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
        "password",
    ),
    // Clerk's documentation examples of md5 and sha256 digests.
    ("md5", "{CLERK:md5}5f4dcc3b5aa765d61d8327deb882cf99", "password"),
    (
        "sha256",
        "{CLERK:sha256}9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "test",
    ),
    ("ldap_ssha", "{SSHA}Kr58PRzN2FSOrJfGizvVQDCxwh1zNGx0", PASSWORD),
    ("ldap_sha", "{SHA}Qxff8LBqYgLrztUFWRdbpHaFov0=", PASSWORD),
    (
        "ldap_ssha256",
        "{CLERK:ldap_ssha}{SSHA256}jCji6fRHqUhnuCPAsZr5/7LV1hBXZg7kZVVoBSLe8IFzNGx0",
        PASSWORD,
    ),
    (
        "ldap_ssha512",
        "{SSHA512}+g3JRNWg+pqcaXUY2E6gvarOZs4t2R/2nyfM2au0WJvvlM30a44qgPEnFGlefFjY0fdAMi0qJ9b92c7UJOsylXM0bHQ=",
        PASSWORD,
    ),
    (
        "md5_salted",
        "{CLERK:md5_salted}s4lt$32a753da7569ef0831e6dd864f706090",
        PASSWORD,
    ),
    (
        "sha256_salted",
        "{CLERK:sha256_salted}s4lt$8c28e2e9f447a94867b823c0b19af9ffb2d5d61057660ee46555680522def081",
        PASSWORD,
    ),
    (
        "sha512_symfony",
        "{CLERK:sha512_symfony}sha512_symfony$5000$s4lt$aNT9tEU+3RQJYALpwFbVCrIkecMXr0q2uSHcBeWuyjIIH6DCjE3cn87tX+IfNaj89Z77RYYcKMdGNUl7Noy5yg==",
        PASSWORD,
    ),
    (
        "pbkdf2_sha256_django",
        "{CLERK:pbkdf2_sha256_django}pbkdf2_sha256$100000$seasalt$IS//ukst0h2UaxFkA5cBVmhssiD8tm6aTr/gXNd7fcs=",
        PASSWORD,
    ),
    (
        "pbkdf2_sha256",
        "{CLERK:pbkdf2_sha256}pbkdf2_sha256$100000$c2Vhc2FsdA==$IS//ukst0h2UaxFkA5cBVmhssiD8tm6aTr/gXNd7fcs=",
        PASSWORD,
    ),
    (
        "pbkdf2_sha1",
        "{CLERK:pbkdf2_sha1}pbkdf2_sha1$100000$seasalt$f96aeefabf124156f6b83f6a120f2d91401e26dd",
        PASSWORD,
    ),
    (
        "pbkdf2_sha512",
        "{CLERK:pbkdf2_sha512}pbkdf2_sha512$100000$seasalt$05019f86ea0b64958633ccd3b30c28a43115d475614fb189fa82495bc3c033376739fd4948c5d813bc304d0b8027b5c350a6fbdc0c2371a2176f721afa1e97e7",
        PASSWORD,
    ),
    (
        "pbkdf2_sha512_hex",
        "{CLERK:pbkdf2_sha512_hex}pbkdf2_sha512_hex$100000$73656173616c74$05019f86ea0b64958633ccd3b30c28a43115d475614fb189fa82495bc3c033376739fd4948c5d813bc304d0b8027b5c350a6fbdc0c2371a2176f721afa1e97e7",
        PASSWORD,
    ),
    (
        "scrypt_werkzeug",
        "{CLERK:scrypt_werkzeug}scrypt:16384:8:1$seasalt$afa44bba9017208b42bc12e91a2cbb81e48bc61d433fa73c37eda11710f097414ae0a53414d7d91d72a89e7f55952c9973423b5e122f16a9cf6fbc369f1d562d",
        PASSWORD,
    ),
];

/// Schemes whose rows are made by `hash --scheme`'s maker in the test itself.
const MADE: &[Scheme] = &[Scheme::Argon2id, Scheme::BcryptSha256Django, Scheme::Bcrypt];

/// Inserts a user per stored value, ids `h0`, `h1`, ..., as a DBA would.
async fn insert_users(db: &TestDb, stored: &[String]) {
    let mut dba = Session::open(db).await;
    for (i, value) in stored.iter().enumerate() {
        assert!(value.len() <= 255, "fits the reference column: {value}");
        dba.run(&format!(
            "INSERT INTO users (id, createdtimestamp, email, email_verified, firstname, \
             lastname, password_hash, username, enabled) VALUES ('h{i}', 1700000000000, \
             'h{i}@example.test', TRUE, 'Hash', 'Row{i}', '{value}', 'hash{i}', TRUE)"
        ))
        .await;
    }
}

/// bcrypt of password + pepper at cost 4, as Devise stores it, with and without Clerk's
/// trailing `$<pepper>`.
fn peppered(inline: bool) -> String {
    let hash = bcrypt::hash_with_salt(format!("{PASSWORD}{PEPPER}"), 4, *b"0123456789abcdef")
        .expect("bcrypt")
        .format_for_version(bcrypt::Version::TwoB);
    if inline {
        format!("{{CLERK:bcrypt_peppered}}{hash}${PEPPER}")
    } else {
        format!("{{CLERK:bcrypt_peppered}}{hash}")
    }
}

async fn every_hasher_verifies_through_the_api(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let mut rows: Vec<(String, String, String)> = VECTORS
        .iter()
        .map(|(label, stored, password)| {
            (label.to_string(), stored.to_string(), password.to_string())
        })
        .collect();
    for scheme in MADE {
        let stored = make_hash(*scheme, PASSWORD).expect("a maker");
        rows.push((scheme.name().to_owned(), stored, PASSWORD.to_owned()));
    }
    rows.push(("bcrypt_peppered".into(), peppered(false), PASSWORD.into()));
    rows.push(("bcrypt_peppered".into(), peppered(true), PASSWORD.into()));
    let stored: Vec<String> = rows.iter().map(|(_, s, _)| s.clone()).collect();
    insert_users(&db, &stored).await;

    let mut config = settings(&db, &[]);
    config.hashing.bcrypt_pepper = Some(Secret::new(PEPPER));
    let app = spawn_app_with(config).await;

    for (i, (label, stored, password)) in rows.iter().enumerate() {
        let id = format!("h{i}");
        let (_, user) = app.get(&format!("/v1/users/{id}")).await;
        assert_eq!(user["hasUsablePassword"], true, "{label}");
        assert!(app.verify(&id, password).await, "{label}: {stored}");
        assert!(
            !app.verify(&id, &format!("{password}x")).await,
            "{label} with a wrong password"
        );
        let counted = app
            .metric(
                "userstore_gateway_hash_computations_total",
                &format!("scheme=\"{label}\""),
            )
            .await;
        assert!(counted >= 2.0, "{label} hashed twice, counted {counted}");
    }
    // An unknown user right after an argon2id check costs an argon2id hash.
    let argon2 = rows
        .iter()
        .position(|(l, _, _)| l == "argon2id")
        .expect("row");
    let before = app
        .metric(
            "userstore_gateway_hash_computations_total",
            "scheme=\"argon2id\"",
        )
        .await;
    assert!(!app.verify(&format!("h{argon2}"), "wrong").await);
    assert!(!app.verify("no-such-user", PASSWORD).await);
    let after = app
        .metric(
            "userstore_gateway_hash_computations_total",
            "scheme=\"argon2id\"",
        )
        .await;
    assert_eq!(
        after - before,
        2.0,
        "the unknown user was an argon2id decoy"
    );
}

/// (stored value, hasher it is counted under).
const UNUSABLE: &[(&str, &str)] = &[
    (
        "{CLERK:awscognito}awscognito#eu-west-1_Pool#client#alice",
        "awscognito",
    ),
    (
        "{CLERK:awscognito}awscognito#eu-west-1_Pool#client#bob",
        "awscognito",
    ),
    ("{CLERK:nosuch_hasher}abc$def", "unknown"),
    ("{CLERK:nosuch_hasher}ghi$jkl", "unknown"),
    ("{CLERK:nosuch_hasher}mno$pqr", "unknown"),
    (
        "{CLERK:pbkdf2_sha256}pbkdf2_sha256$1000$salt$!!notbase64!!",
        "pbkdf2_sha256",
    ),
    // Unprefixed digests are not guessed: 32 hex digits could be md5 or anything else.
    ("5f4dcc3b5aa765d61d8327deb882cf99", "unrecognised"),
    (
        "pbkdf2_sha256$100000$seasalt$IS//ukst0h2UaxFkA5cBVmhssiD8tm6aTr/gXNd7fcs=",
        "unrecognised",
    ),
    // A peppered value without a pepper anywhere: none is configured here.
    (
        "{CLERK:bcrypt_peppered}$2b$04$KRGxLBS0Lxe3KBCwKxOzLeYXYBt7VuKhvaC/sQFHUOLJHUxLL4ZUO",
        "bcrypt_peppered",
    ),
];

async fn unusable_values_are_refused_and_logged_once_per_hasher(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let stored: Vec<String> = UNUSABLE.iter().map(|(s, _)| s.to_string()).collect();
    insert_users(&db, &stored).await;
    let mut gateway = GatewayProcess::start_logging(
        &format!(
            "[database]\nurl = \"{}\"\n[auth]\napi_tokens = [\"{TOKEN}\"]\n",
            db.url()
        ),
        "info",
    );
    let client = reqwest::Client::new();
    let base = gateway.base();
    // Every row twice: the second time is counted, not logged again.
    for round in 0..2 {
        for i in 0..UNUSABLE.len() {
            let response = client
                .post(format!("{base}/v1/users/h{i}/verify-password"))
                .bearer_auth(TOKEN)
                .json(&serde_json::json!({ "password": "pw-Unusable-7" }))
                .send()
                .await
                .expect("answered");
            assert_eq!(response.status(), 200, "row h{i}, round {round}");
            let body: serde_json::Value = response.json().await.expect("json");
            assert_eq!(body, serde_json::json!({"valid": false}), "row h{i}");
            let user: serde_json::Value = client
                .get(format!("{base}/v1/users/h{i}"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("answered")
                .json()
                .await
                .expect("json");
            assert_eq!(user["hasUsablePassword"], false, "row h{i}");
        }
    }
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let _ = gateway.terminate();
    let logs = gateway.log_text();

    for hasher in [
        "awscognito",
        "unknown",
        "pbkdf2_sha256",
        "unrecognised",
        "bcrypt_peppered",
    ] {
        let rows = UNUSABLE.iter().filter(|(_, h)| *h == hasher).count();
        let logged: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains("WARN") && l.contains("no usable password"))
            .filter(|l| l.contains(&format!("hasher=\"{hasher}\"")))
            .collect();
        assert_eq!(logged.len(), 1, "{hasher} logged once:\n{logs}");
        let counter = format!(
            "userstore_gateway_unusable_hashes_total{{hasher=\"{hasher}\"}} {}",
            rows * 2
        );
        assert!(metrics.contains(&counter), "{counter} in\n{metrics}");
    }
    for (stored, _) in UNUSABLE {
        let digest = stored.rsplit(['}', '$', '#']).next().unwrap_or(stored);
        if digest.len() >= 10 {
            assert!(!logs.contains(digest), "the log shows {digest:?}");
        }
    }
    assert!(!logs.contains("pw-Unusable-7"));
}
