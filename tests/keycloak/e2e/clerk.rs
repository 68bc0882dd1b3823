//! Leaving Clerk, end to end (issue 14): a generated Clerk export of 200 users
//! (every hasher, users without a password, public metadata, a user with two
//! addresses, a banned user) goes through `import-clerk`, into PostgreSQL
//! with `psql` as a DBA would load it, behind the gateway with
//! `docs/clerk/gateway.toml` as shipped (URL and token from the
//! environment), and into a real Keycloak. Users log in with their original
//! passwords through the password grant and the browser login form.

use reqwest::Method;
use serde_json::json;

use crate::support::clerk_export::{self, ClerkUser};
use crate::support::faults::GatewayProcess;
use crate::support::gateway::TOKEN;
use crate::support::keycloak::{claims, keycloak, refused_login_status, Keycloak, Realm};
use crate::support::{TestDb, Vendor};

/// The provider's setting for Keycloak-kept passwords of users without one.
const LOCAL_PASSWORDS: &str = "localPasswordsWithoutHash";

/// A User Attribute mapper that puts `clerk_id` into the tokens of testclient.
async fn map_clerk_id(kc: &Keycloak, realm: &Realm) {
    let clients = kc
        .admin(
            Method::GET,
            &format!("/{}/clients?clientId=testclient", realm.name),
            None,
        )
        .await;
    let id = clients.body[0]["id"]
        .as_str()
        .expect("testclient")
        .to_owned();
    let mapper = json!({
        "name": "clerk_id",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-usermodel-attribute-mapper",
        "config": {
            "user.attribute": "clerk_id", "claim.name": "clerk_id", "jsonType.label": "String",
            "id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"
        }
    });
    let created = kc
        .admin(
            Method::POST,
            &format!("/{}/clients/{id}/protocol-mappers/models", realm.name),
            Some(mapper),
        )
        .await;
    assert_eq!(created.status, 201, "mapper: {}", created.body);
}

#[tokio::test]
async fn a_clerk_export_logs_in_to_keycloak_with_the_original_passwords() {
    let users = clerk_export::users(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::new(Vendor::Postgres).await;
    let (script, summary) = clerk_export::run_import(&users, dir.path(), "postgres");
    clerk_export::load_with_psql(db.url(), &script, dir.path());
    assert!(
        summary.contains("200"),
        "the summary counts the users:\n{summary}"
    );
    let before = db.checksum().await;

    let config = std::fs::read_to_string("docs/clerk/gateway.toml").expect("shipped config");
    let gateway = GatewayProcess::start_with_env(
        &config,
        &[
            ("USERSTORE_GATEWAY__DATABASE__URL", db.url()),
            ("USERSTORE_GATEWAY__AUTH__API_TOKENS", TOKEN),
        ],
    );
    let kc = keycloak().await;
    let realm = kc
        .realm_with(
            &gateway.base(),
            TOKEN,
            &[("cachePolicy", "DEFAULT"), (LOCAL_PASSWORDS, "true")],
            json!({}),
        )
        .await;
    map_clerk_id(kc, &realm).await;

    // One user of every hasher (and the two-address user, who logs in by
    // primary email), through the password grant, then the login form.
    let with_password: Vec<&ClerkUser> = users
        .iter()
        .filter(|u| u.password.is_some() && !u.banned)
        .take(24)
        .collect();
    assert!(with_password.len() >= 21, "every hasher is there");
    for user in &with_password {
        let login = user.login();
        let password = user.password.as_deref().expect("password");
        let hasher = &user.digest.as_ref().expect("digest").0;
        let (status, token) = kc.login(&realm, &login, password).await;
        assert_eq!(status, 200, "{hasher}: {login}: {token}");
        assert_eq!(
            claims(&token)["clerk_id"],
            user.id,
            "{hasher}: clerk_id claim"
        );
        let (wrong, _) = kc.login(&realm, &login, &format!("{password}!")).await;
        assert_eq!(
            wrong,
            refused_login_status(),
            "{hasher}: a wrong password fails"
        );
        assert!(
            kc.browser_login(&realm, &login, password).await.is_some(),
            "{hasher}: the browser login form"
        );
    }

    // The banned user is refused, with the right password.
    let banned = users.iter().find(|u| u.banned).expect("banned user");
    let (status, body) = kc
        .login(
            &realm,
            &banned.login(),
            banned.password.as_deref().unwrap_or(""),
        )
        .await;
    assert_ne!(status, 200, "banned user refused: {body}");

    // An OAuth-only user gets a password from Keycloak and logs in with it.
    let oauth = users
        .iter()
        .find(|u| u.digest.is_none())
        .expect("OAuth-only user");
    let oauth_id = kc.user_id(&realm.name, &oauth.login()).await;
    assert_eq!(
        kc.reset_password(&realm.name, &oauth_id, "New-Keycloak-pw-1")
            .await
            .status,
        204
    );
    let (status, token) = kc.login(&realm, &oauth.login(), "New-Keycloak-pw-1").await;
    assert_eq!(
        status, 200,
        "OAuth-only user with a Keycloak password: {token}"
    );

    // With the setting off, another OAuth-only user is refused a password.
    let off = kc
        .realm_with(
            &gateway.base(),
            TOKEN,
            &[("cachePolicy", "DEFAULT")],
            json!({}),
        )
        .await;
    let second = users
        .iter()
        .filter(|u| u.digest.is_none())
        .nth(1)
        .expect("second OAuth-only user");
    let second_id = kc.user_id(&off.name, &second.login()).await;
    let refused = kc
        .reset_password(&off.name, &second_id, "New-Keycloak-pw-2")
        .await
        .status;
    assert!(
        (400..500).contains(&refused),
        "refused with the setting off: {refused}"
    );
    let (status, _) = kc.login(&off, &second.login(), "New-Keycloak-pw-2").await;
    assert_eq!(status, refused_login_status());

    // A user with a database hash cannot get another password from Keycloak.
    let hashed = with_password[0];
    let hashed_id = kc.user_id(&realm.name, &hashed.login()).await;
    let refused = kc
        .reset_password(&realm.name, &hashed_id, "Other-pw-3")
        .await
        .status;
    assert!((400..500).contains(&refused), "read-only hash: {refused}");

    assert_eq!(
        db.checksum().await,
        before,
        "nothing wrote to the user database"
    );
}
