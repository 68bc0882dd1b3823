//! Passwords Keycloak keeps for users whose row has no usable hash (the
//! component setting `localPasswordsWithoutHash`): refused while it is off,
//! stored in Keycloak's own credential storage while it is on, and never
//! beyond what the database allows: once the row gets a hash, or the setting
//! goes off, the kept password no longer logs anyone in.
//!
//! The realm caches (DEFAULT) for ten minutes without a change feed, so a
//! kept password that stops working at once shows that the provider decides
//! on the row as it is now, not on Keycloak's cached copy.

use reqwest::Method;
use serde_json::{json, Value};

use super::with_enabled_column;
use crate::support::dba::Session;
use crate::support::gateway::{fixture_db, settings, spawn_app_with, TestApp, TOKEN};
use crate::support::keycloak::{keycloak, refused_login_status, Answer, Keycloak, Realm};
use crate::support::{TestDb, Vendor};

/// What an admin sets for bob, who has no hash in the database.
const KEPT: &str = "Kc-kept-Pa55!";

struct Stack {
    db: TestDb,
    _gateway: TestApp,
    kc: &'static Keycloak,
    realm: Realm,
}

async fn stack(local_passwords: bool) -> Stack {
    let db = fixture_db(Vendor::Postgres).await;
    let queries = with_enabled_column();
    let pairs: Vec<(&str, &str)> = queries.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gateway = spawn_app_with(settings(&db, &pairs)).await;
    let kc = keycloak().await;
    let realm = kc
        .realm_with(
            &gateway.base,
            TOKEN,
            &[
                ("cachePolicy", "DEFAULT"),
                ("changeFeed", "false"),
                ("maxStalenessMs", "600000"),
                (
                    "localPasswordsWithoutHash",
                    if local_passwords { "true" } else { "false" },
                ),
            ],
            json!({}),
        )
        .await;
    Stack {
        db,
        _gateway: gateway,
        kc,
        realm,
    }
}

impl Stack {
    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.kc
            .admin(method, &format!("/{}{path}", self.realm.name), body)
            .await
    }

    async fn id_of(&self, username: &str) -> String {
        self.kc.user_id(&self.realm.name, username).await
    }

    async fn reset_password(&self, username: &str, password: &str) -> Answer {
        let id = self.id_of(username).await;
        self.kc
            .reset_password(&self.realm.name, &id, password)
            .await
    }

    async fn login_status(&self, username: &str, password: &str) -> u16 {
        self.kc.login(&self.realm, username, password).await.0
    }

    /// The types of the credentials Keycloak lists for the user.
    async fn credential_types(&self, username: &str) -> Vec<String> {
        let id = self.id_of(username).await;
        let answer = self
            .admin(Method::GET, &format!("/users/{id}/credentials"), None)
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer
            .body
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["type"].as_str().map(str::to_owned))
            .collect()
    }

    /// Sets one setting of the realm's userstore-gateway component.
    async fn set_component(&self, key: &str, value: &str) {
        let path = format!("/components/{}", self.realm.component_id);
        let mut component = self.admin(Method::GET, &path, None).await.body;
        component["config"][key] = json!([value]);
        let updated = self.admin(Method::PUT, &path, Some(component)).await;
        assert!(updated.status < 300, "{} {}", updated.status, updated.body);
    }
}

fn is_read_only_refusal(answer: &Answer) -> bool {
    let text = answer.body.to_string().to_lowercase();
    answer.status == 400 && (text.contains("read only") || text.contains("read-only"))
}

#[tokio::test]
async fn with_the_setting_off_a_user_without_a_hash_gets_no_password() {
    let s = stack(false).await;
    let before = s.db.checksum().await;

    let reset = s.reset_password("bob", KEPT).await;

    assert!(
        is_read_only_refusal(&reset),
        "{} {}",
        reset.status,
        reset.body
    );
    assert_eq!(s.login_status("bob", KEPT).await, refused_login_status());
    assert!(s.credential_types("bob").await.is_empty());
    assert_eq!(
        s.db.checksum().await,
        before,
        "the user database is unchanged"
    );
}

#[tokio::test]
async fn with_the_setting_on_a_user_without_a_hash_gets_a_keycloak_password_until_a_dba_sets_one() {
    let s = stack(true).await;
    let before = s.db.checksum().await;

    // bob's row has a NULL hash, carol's a value no hasher can check.
    let bob = s.reset_password("bob", KEPT).await;
    let carol = s.reset_password("carol", "Carol-kept-Pa55!").await;
    let max = s.reset_password("mmustermann", "N3w-password!").await;

    assert_eq!(bob.status, 204, "{}", bob.body);
    assert_eq!(carol.status, 204, "{}", carol.body);
    assert_eq!(s.credential_types("bob").await, ["password"]);
    assert_eq!(s.login_status("bob", KEPT).await, 200, "password grant");
    assert!(
        s.kc.browser_login(&s.realm, "bob", KEPT).await.is_some(),
        "the login form lets bob in with the password Keycloak keeps"
    );
    assert_eq!(
        s.login_status("bob", "Kc-kept-Pa55?").await,
        refused_login_status()
    );
    assert!(s.kc.browser_login(&s.realm, "bob", "wrong").await.is_none());
    assert_eq!(s.login_status("carol", "Carol-kept-Pa55!").await, 200);
    assert!(is_read_only_refusal(&max), "{} {}", max.status, max.body);
    assert_eq!(
        s.login_status("mmustermann", "N3w-password!").await,
        refused_login_status()
    );
    assert_eq!(
        s.login_status("mmustermann", "B1Systems!").await,
        200,
        "a user with a hash keeps the database's password"
    );
    assert_eq!(
        s.db.checksum().await,
        before,
        "Keycloak kept the passwords; the user database is unchanged"
    );

    // The DBA gives bob a hash: mmustermann's, so bob's password is B1Systems! now.
    let mut dba = Session::open(&s.db).await;
    dba.run("UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = 'u1') WHERE id = 'u5'")
        .await;
    let after_dba = s.db.checksum().await;

    assert_eq!(
        s.login_status("bob", KEPT).await,
        refused_login_status(),
        "the password Keycloak kept stops working at once, cached or not"
    );
    assert!(s.kc.browser_login(&s.realm, "bob", KEPT).await.is_none());
    assert_eq!(
        s.login_status("bob", "B1Systems!").await,
        200,
        "the database's password applies"
    );
    assert!(
        s.credential_types("bob").await.is_empty(),
        "the kept password was removed"
    );
    let removed =
        s.kc.log_text()
            .lines()
            .filter(|l| {
                l.contains("INFO")
                    && l.contains("removed the password Keycloak kept for user 'bob'")
                    && l.contains(&s.realm.name)
            })
            .count();
    assert_eq!(removed, 1, "one INFO line says so");
    assert!(
        !s.kc.log_text().contains(KEPT),
        "no password in Keycloak's log"
    );
    let again = s.reset_password("bob", "An0ther-Pa55!").await;
    assert!(
        is_read_only_refusal(&again),
        "bob's password is the database's now: {} {}",
        again.status,
        again.body
    );
    assert_eq!(
        s.db.checksum().await,
        after_dba,
        "only the DBA wrote to the database"
    );
}

#[tokio::test]
async fn turning_the_setting_off_ends_keycloak_kept_passwords() {
    let s = stack(true).await;
    let before = s.db.checksum().await;
    let reset = s.reset_password("bob", KEPT).await;
    assert_eq!(reset.status, 204, "{}", reset.body);
    assert_eq!(s.login_status("bob", KEPT).await, 200);

    s.set_component("localPasswordsWithoutHash", "false").await;
    let with_setting_off = s.login_status("bob", KEPT).await;
    s.set_component("localPasswordsWithoutHash", "true").await;
    let with_setting_on_again = s.login_status("bob", KEPT).await;

    assert_eq!(with_setting_off, refused_login_status());
    assert_eq!(
        with_setting_on_again,
        refused_login_status(),
        "the kept password was removed, not just ignored"
    );
    assert!(s.credential_types("bob").await.is_empty());
    assert_eq!(
        s.db.checksum().await,
        before,
        "the user database is unchanged"
    );
}
