//! Every v1 route against a real database of each vendor, default queries.

use crate::support::gateway::{fixture_db, settings, spawn_app, spawn_app_with, usernames};
use crate::support::Vendor;
use serde_json::json;

mod feed;

on_every_vendor!(
    user_by_id_has_profile_and_roles,
    username_lookup_ignores_case,
    email_lookup_ignores_case,
    unknown_users_are_404_problems,
    search_is_a_prefix_match_by_default,
    search_star_is_a_wildcard,
    quoted_search_is_exact,
    like_metacharacters_in_search_are_literal,
    paging_happens_in_the_database_and_count_matches,
    page_size_is_capped_by_config,
    list_loads_roles_without_a_query_per_user,
    roles_lists_every_role_in_the_database,
    verify_password_accepts_only_the_right_password,
    verify_password_refuses_every_unusable_case,
    disabled_users_cannot_verify,
    bad_paging_parameters_are_400_problems,
    attributes_come_from_the_optional_queries,
);

async fn user_by_id_has_profile_and_roles(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let (status, user) = app.get("/v1/users/u1").await;

    assert_eq!(status, 200);
    assert_eq!(
        user,
        json!({
            "id": "u1", "username": "mmustermann", "email": "m.mustermann@example.test",
            "firstName": "Max", "lastName": "Mustermann", "enabled": true, "emailVerified": false,
            "hasUsablePassword": true, "createdTimestamp": 1_700_000_000_000_i64, "attributes": {},
            "realmRoles": ["testrole", "user"], "clientRoles": {"testclient": ["admin"]}
        })
    );
    let (_, alice) = app.get("/v1/users/u2").await;
    assert_eq!(alice["emailVerified"], true);
    assert_eq!(
        alice["clientRoles"],
        json!({"reports": ["reader"], "testclient": ["viewer"]})
    );
    let (_, albert) = app.get("/v1/users/u3").await;
    assert_eq!(albert["createdTimestamp"], serde_json::Value::Null);
    // u5 has no hash, u6 a malformed one: neither is a usable password.
    let (_, bob) = app.get("/v1/users/u5").await;
    assert_eq!(bob["hasUsablePassword"], false);
    let (_, carol) = app.get("/v1/users/u6").await;
    assert_eq!(carol["hasUsablePassword"], false);
    let (_, page) = app.get("/v1/users?search=*&max=100").await;
    let flags: Vec<(String, bool)> = page["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| {
            (
                u["id"].as_str().unwrap_or("").to_owned(),
                u["hasUsablePassword"] == true,
            )
        })
        .collect();
    assert!(
        flags.contains(&("u5".into(), false)) && flags.contains(&("u1".into(), true)),
        "{flags:?}"
    );
}

async fn username_lookup_ignores_case(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let (status, user) = app.get("/v1/users/by-username/MMusterMann").await;
    assert_eq!(status, 200);
    assert_eq!(user["id"], "u1");
    assert_eq!(user["realmRoles"], json!(["testrole", "user"]));

    let (status, user) = app.get("/v1/users/by-username/o'brien").await;
    assert_eq!(status, 200);
    assert_eq!(user["lastName"], "O'Brien");
}

async fn email_lookup_ignores_case(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let (status, user) = app.get("/v1/users/by-email/alice@example.TEST").await;

    assert_eq!(status, 200);
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], "Alice@Example.test");
}

async fn unknown_users_are_404_problems(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    for path in [
        "/v1/users/nope",
        "/v1/users/by-username/nobody",
        "/v1/users/by-email/no@example.test",
    ] {
        let response = app.send(reqwest::Method::GET, path, None).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: serde_json::Value = response.json().await.expect("problem body");
        assert_eq!(body["status"], 404);
    }
}

async fn search_is_a_prefix_match_by_default(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let (status, page) = app.get("/v1/users?search=AL").await;

    assert_eq!(status, 200);
    assert_eq!(usernames(&page), ["albert", "alfred", "alice"]);
    // Last names and emails count too: "Mustermann" is found by "muster".
    let (_, page) = app.get("/v1/users?search=muster").await;
    assert_eq!(usernames(&page), ["mmustermann"]);
    // A prefix does not match inside a word.
    let (_, page) = app.get("/v1/users?search=ice").await;
    assert!(usernames(&page).is_empty());
}

async fn search_star_is_a_wildcard(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let (_, page) = app.get("/v1/users?search=*ice").await;
    assert_eq!(usernames(&page), ["alice"]);
    let (_, page) = app.get("/v1/users?search=a*ert").await;
    assert_eq!(usernames(&page), ["albert"]);
    let (_, page) = app.get("/v1/users?search=*").await;
    assert_eq!(usernames(&page).len(), 11);
}

async fn quoted_search_is_exact(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let (_, page) = app.get("/v1/users?search=%22alice%22").await;
    assert_eq!(usernames(&page), ["alice"]);
    let (_, page) = app.get("/v1/users?search=%22ali%22").await;
    assert!(usernames(&page).is_empty());
    let (_, count) = app.get("/v1/users/count?search=%22alice%22").await;
    assert_eq!(count["count"], 1);
}

async fn like_metacharacters_in_search_are_literal(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    // "_" would match any character in LIKE; here it matches only itself.
    let (_, page) = app.get("/v1/users?search=zz_").await;
    assert_eq!(usernames(&page), ["zz_top"]);
    let (_, page) = app.get("/v1/users?search=%25").await;
    assert!(usernames(&page).is_empty());
    let (_, page) = app.get("/v1/users?search=o'b").await;
    assert_eq!(usernames(&page), ["o'brien"]);
}

async fn paging_happens_in_the_database_and_count_matches(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let (_, first) = app.get("/v1/users?search=al&first=0&max=2").await;
    let (_, second) = app.get("/v1/users?search=al&first=2&max=2").await;
    let (_, beyond) = app.get("/v1/users?search=al&first=3&max=2").await;
    let (_, count) = app.get("/v1/users/count?search=al").await;
    let (_, all) = app.get("/v1/users/count").await;

    assert_eq!(usernames(&first), ["albert", "alfred"]);
    assert_eq!(usernames(&second), ["alice"]);
    assert!(usernames(&beyond).is_empty());
    assert_eq!(count, json!({"count": 3}));
    assert_eq!(all, json!({"count": 11}));
}

async fn page_size_is_capped_by_config(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let mut config = settings(&db, &[]);
    config.server.max_page_size = 4;
    let app = spawn_app_with(config).await;

    let (_, page) = app.get("/v1/users?max=1000").await;
    let (_, default_page) = app.get("/v1/users").await;

    assert_eq!(usernames(&page), ["albert", "alfred", "alice", "bob"]);
    assert_eq!(usernames(&default_page).len(), 4);
}

async fn list_loads_roles_without_a_query_per_user(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let (_, page) = app.get("/v1/users?search=*").await;

    let users = page["users"].as_array().expect("users");
    let alice = users
        .iter()
        .find(|u| u["id"] == "u2")
        .expect("alice listed");
    assert_eq!(alice["realmRoles"], json!(["auditor", "user"]));
    assert_eq!(
        alice["clientRoles"],
        json!({"reports": ["reader"], "testclient": ["viewer"]})
    );
    let bob = users.iter().find(|u| u["id"] == "u5").expect("bob listed");
    assert_eq!(bob["realmRoles"], json!([]));
    let queries = |q: &'static str| {
        let app = &app;
        async move {
            app.metric(
                "userstore_gateway_db_queries_total",
                &format!("query=\"{q}\""),
            )
            .await
        }
    };
    assert_eq!(queries("search_users").await, 1.0);
    assert_eq!(queries("realm_roles_of_users").await, 1.0);
    assert_eq!(queries("client_roles_of_users").await, 1.0);
    assert_eq!(queries("realm_roles_of_user").await, 0.0);
    assert_eq!(queries("client_roles_of_user").await, 0.0);
}

async fn roles_lists_every_role_in_the_database(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    let (status, roles) = app.get("/v1/roles").await;

    assert_eq!(status, 200);
    assert_eq!(
        roles,
        json!({
            "realmRoles": ["auditor", "testrole", "user"],
            "clientRoles": {"reports": ["reader"], "testclient": ["admin", "viewer"], "unused": ["ghost"]}
        })
    );
}

async fn verify_password_accepts_only_the_right_password(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    assert!(app.verify("u1", "B1Systems!").await, "sha512-crypt");
    assert!(!app.verify("u1", "b1systems!").await);
    assert!(!app.verify("u1", "").await);
    assert!(app.verify("u2", "alice-pass").await, "sha256-crypt");
    assert!(app.verify("u3", "albert-pass").await, "md5-crypt");
    assert!(app.verify("u4", "alfred-pass").await, "bcrypt");
    assert!(
        app.verify("u9", "o'brien-pass").await,
        "sha512-crypt with rounds="
    );
    assert!(!app.verify("u9", "o'brien-pass ").await);
}

async fn verify_password_refuses_every_unusable_case(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;
    let outcome = |o: &'static str| {
        let app = &app;
        async move {
            app.metric(
                "userstore_gateway_password_checks_total",
                &format!("outcome=\"{o}\""),
            )
            .await
        }
    };

    assert!(!app.verify("no-such-id", "whatever").await);
    assert!(!app.verify("u5", "").await, "NULL hash");
    assert!(
        !app.verify("u6", "not-a-crypt-hash").await,
        "malformed hash"
    );
    assert!(!app.verify("u7", "dave-pass").await, "rounds over the cap");
    assert!(
        !app.verify("u1", &"B1Systems!".repeat(100)).await,
        "over-long password"
    );

    assert_eq!(outcome("unknown_user").await, 1.0);
    assert_eq!(outcome("no_hash").await, 1.0);
    assert_eq!(outcome("unusable_hash").await, 1.0);
    assert_eq!(outcome("over_limit").await, 2.0);
}

async fn disabled_users_cannot_verify(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let with_enabled = "SELECT id, username, email, firstname, lastname, email_verified, \
        createdtimestamp, password_hash, enabled FROM users WHERE id = :id";
    let app = spawn_app_with(settings(&db, &[("user_by_id", with_enabled)])).await;

    assert!(!app.verify("u8", "eve-pass").await, "disabled user");
    assert!(
        app.verify("u1", "B1Systems!").await,
        "enabled user still works"
    );
    let (_, eve) = app.get("/v1/users/u8").await;
    assert_eq!(eve["enabled"], false);
    // Without the optional column every user counts as enabled.
    let plain = spawn_app(&db).await;
    assert!(plain.verify("u8", "eve-pass").await);
}

async fn bad_paging_parameters_are_400_problems(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    let app = spawn_app(&db).await;

    for query in ["first=-1", "max=-5", "first=abc", "max=99999999999"] {
        let response = app
            .send(reqwest::Method::GET, &format!("/v1/users?{query}"), None)
            .await;
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
}

async fn attributes_come_from_the_optional_queries(vendor: Vendor) {
    let db = fixture_db(vendor).await;
    db.run_script(
        "CREATE TABLE user_attributes (user_id VARCHAR(255) NOT NULL, name VARCHAR(255) NOT NULL, value VARCHAR(255));
         INSERT INTO user_attributes (user_id, name, value) VALUES
           ('u1', 'phone', '+49 30 1234'), ('u1', 'phone', '+49 171 5678'),
           ('u1', 'department', 'R&D'), ('u2', 'department', 'Wonderland');",
    )
    .await;
    let single =
        "SELECT name, value FROM user_attributes WHERE user_id = :user_id ORDER BY name, value";
    let batch = "SELECT user_id, name, value FROM user_attributes WHERE user_id IN (:user_ids) ORDER BY name, value";
    let app = spawn_app_with(settings(
        &db,
        &[
            ("user_attributes", single),
            ("user_attributes_of_users", batch),
        ],
    ))
    .await;
    let expected = json!({"department": ["R&D"], "phone": ["+49 171 5678", "+49 30 1234"]});

    let (_, by_id) = app.get("/v1/users/u1").await;
    let (_, by_name) = app.get("/v1/users/by-username/mmustermann").await;
    let (_, page) = app.get("/v1/users?search=*").await;

    assert_eq!(by_id["attributes"], expected);
    assert_eq!(by_name["attributes"], expected);
    let users = page["users"].as_array().expect("users");
    let listed =
        |id: &str| users.iter().find(|u| u["id"] == id).expect("listed")["attributes"].clone();
    assert_eq!(listed("u1"), expected);
    assert_eq!(listed("u2"), json!({"department": ["Wonderland"]}));
    assert_eq!(listed("u5"), json!({}));
}

mod dummy_work {
    use super::*;

    /// The unknown-user check hashes with the scheme and cost of the last
    /// real hash: shown by the hash counter's labels, not by timing.
    #[tokio::test]
    async fn unknown_users_cost_a_hash_of_the_same_scheme_and_cost() {
        let db = fixture_db(Vendor::Sqlite).await;
        let app = spawn_app(&db).await;
        let computed = |labels: &'static str| {
            let app = &app;
            async move {
                app.metric("userstore_gateway_hash_computations_total", labels)
                    .await
            }
        };

        assert!(!app.verify("u9", "wrong").await);
        assert!(!app.verify("no-such-user", "wrong").await);
        assert!(!app.verify("u5", "wrong").await);
        assert!(!app.verify("u2", "wrong").await);
        assert!(!app.verify("another-unknown", "wrong").await);

        // u9 is sha512-crypt with rounds=2000: the unknown user and bob (no
        // hash) after it are hashed the same way; alice (sha256-crypt, 5000)
        // sets the shape for the last unknown user.
        assert_eq!(computed("scheme=\"sha512-crypt\",cost=\"2000\"").await, 3.0);
        assert_eq!(computed("scheme=\"sha256-crypt\",cost=\"5000\"").await, 2.0);
        assert_eq!(
            computed("scheme=").await,
            5.0,
            "every check hashed exactly once"
        );
    }
}
