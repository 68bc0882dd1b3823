//! Keycloak stops promptly even while the gateway hangs, and its next start
//! has no transaction recovery to do: the provider holds no XA resources.

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

use crate::support::keycloak::dedicated;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keycloak_exits_on_sigterm_while_the_gateway_hangs() {
    // A "gateway" that accepts connections and never answers.
    let hung = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hung_url = format!("http://{}", hung.local_addr().expect("address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hung.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 1024];
            let _ = stream.set_read_timeout(Some(Duration::from_millis(10)));
            let _ = stream.read(&mut buf);
            held.push(stream);
        }
    });
    let mut kc = dedicated().await;
    let realm = kc
        .realm_with(
            &hung_url,
            "token",
            &[("requestTimeoutMs", "60000"), ("connectTimeoutMs", "60000")],
            json!({}),
        )
        .await;
    let logins: Vec<_> = (0..4)
        .map(|i| {
            let base = kc.base.clone();
            let realm = realm.name.clone();
            tokio::spawn(async move {
                let _ = reqwest::Client::new()
                    .post(format!(
                        "{base}/realms/{realm}/protocol/openid-connect/token"
                    ))
                    .form(&[
                        ("grant_type", "password"),
                        ("client_id", "testclient"),
                        ("username", &format!("user{i}")),
                        ("password", "x"),
                    ])
                    .send()
                    .await;
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;

    let took = tokio::task::block_in_place(|| kc.terminate(Duration::from_secs(15)));

    assert!(
        took.is_some(),
        "Keycloak must exit within 15 s of SIGTERM while the gateway hangs"
    );
    eprintln!("Keycloak exited {took:?} after SIGTERM");
    for login in logins {
        login.abort();
    }
    let first_log = std::fs::read_to_string(&kc.log).unwrap_or_default();
    let second_log = kc.log.with_file_name("keycloak-restart.log");
    kc.restart(second_log.clone()).await;
    let restart = std::fs::read_to_string(&second_log).unwrap_or_default();
    let recovery: Vec<&str> = restart
        .lines()
        .filter(|l| {
            let lower = l.to_lowercase();
            lower.contains("arjuna")
                || lower.contains("xa") && lower.contains("recover")
                || lower.contains("transaction recovery")
        })
        .collect();
    assert!(
        recovery.is_empty(),
        "no transaction recovery after the restart: {recovery:?}"
    );
    assert!(
        restart.contains("started in"),
        "Keycloak started again:\n{restart}"
    );
    assert!(
        first_log.contains("Keycloak"),
        "the first log is Keycloak's"
    );
    let _ = kc.terminate(Duration::from_secs(30));
}
