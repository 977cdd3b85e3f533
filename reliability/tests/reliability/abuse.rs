//! The attacks that once worked, re-run against the binary: a half-header flood, a huge
//! request id, a login lock-out attempt and a registration flood.

use std::time::Duration;

use reliability::api;
use reliability::server::{ServerOptions, ServerProcess};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::ONE_AT_A_TIME;

/// A bound on every wait, so that a server that never closes fails the test instead of hanging.
const SAFETY: Duration = Duration::from_secs(60);

async fn server(env: &[(&str, &str)]) -> (tempfile::TempDir, ServerProcess) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("abuse.db").display());
    let mut opts = ServerOptions::new(url, dir.path());
    opts.env = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let s = ServerProcess::start(&opts).await;
    (dir, s)
}

/// Reads until the server closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(SAFETY, stream.read(&mut buf)).await {
            Err(_) => panic!("the server kept a connection open"),
            Ok(Ok(0) | Err(_)) => return out,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_header_flood_is_cut_off_and_the_server_keeps_serving() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (_dir, s) = server(&[
        ("HEADER_READ_TIMEOUT_MS", "500"),
        ("MAX_CONNECTIONS", "100"),
    ])
    .await;
    let addr = format!("127.0.0.1:{}", s.port);
    let flood = reliability::env_usize("RELIABILITY_HALF_HEADER_FLOOD", 300);
    let mut tasks = Vec::new();
    for _ in 0..flood {
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = TcpStream::connect(&addr).await.unwrap();
            let _ = c
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaa")
                .await;
            let answer = read_to_close(&mut c).await;
            // Either closed after the header timeout with nothing, or refused past the cap.
            let text = String::from_utf8_lossy(&answer).into_owned();
            assert!(
                text.is_empty() || text.starts_with("HTTP/1.1 503 "),
                "{text}"
            );
        }));
    }
    // During the flood, a real client gets an answer (200, or a defined 503), never a hang.
    // Read over a raw connection: past the cap the server may answer 503 before the request
    // is written, which an HTTP client library reports as an error rather than an answer.
    let mut c = TcpStream::connect(&addr).await.unwrap();
    let _ = c
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    let answer = tokio::time::timeout(SAFETY, read_to_close(&mut c))
        .await
        .expect("an answer during the flood, not a hang");
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(
        text.starts_with("HTTP/1.1 200 ") || text.starts_with("HTTP/1.1 503 "),
        "{text}"
    );
    let client = reqwest::Client::builder().timeout(SAFETY).build().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    // Every flood connection was closed by the server; it serves as before.
    let res = client.get(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_request_id_is_neither_echoed_nor_logged() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (_dir, s) = server(&[]).await;
    let huge = format!("attack{}", "x".repeat(60 * 1024));
    let client = api::client();
    let res = client
        .get(format!("{}/", s.base))
        .header("x-request-id", &huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(id.len() <= 64 && !id.starts_with("attack"), "{id}");
    let res = client
        .get(format!("{}/health", s.base))
        .header("x-request-id", "fine-id-1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "fine-id-1");
    // The log has the request (by the id that was kept) but not the attack.
    let log = s.log();
    assert!(!log.contains("attackxxxx"), "the raw request id was logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_from_one_client_do_not_lock_the_user_out() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (_dir, s) = server(&[
        ("LOGIN_RATE_PER_MINUTE", "5"),
        ("TRUST_X_FORWARDED_FOR", "true"),
    ])
    .await;
    let client = api::client();
    let victim = api::user(&client, &s.base, "victim").await;
    let login = |password: &str, ip: &str| {
        client
            .post(format!("{}/login", s.base))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": victim.email, "password": password}))
            .send()
    };
    let mut throttled = 0;
    for _ in 0..20 {
        let status = login("wrong-password", "203.0.113.66")
            .await
            .unwrap()
            .status()
            .as_u16();
        assert!(matches!(status, 401 | 429), "{status}");
        throttled += usize::from(status == 429);
    }
    assert!(throttled > 0, "the attacker was never slowed down");
    let res = login("securepass123", "198.51.100.7").await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "the victim is locked out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_flood_is_limited_and_logins_go_on() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (_dir, s) = server(&[
        ("REGISTRATION_RATE_PER_HOUR", "5"),
        ("TRUST_X_FORWARDED_FOR", "true"),
        ("BCRYPT_COST", "8"),
    ])
    .await;
    let client = api::client();
    let steady = api::user(&client, &s.base, "steady").await;
    let flood: Vec<_> = (0..32)
        .map(|i| {
            let (client, base) = (client.clone(), s.base.clone());
            tokio::spawn(async move {
                client
                    .post(format!("{base}/users"))
                    .header("x-forwarded-for", "203.0.113.99")
                    .json(&json!({"name": "Flood", "email": format!("flood{i}-{}@example.com", uuid::Uuid::new_v4().simple()),
                                  "password": "securepass123"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let res = client
        .post(format!("{}/login", s.base))
        .json(&json!({"email": steady.email, "password": "securepass123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body["token"].is_string());
    let mut created = 0;
    for f in flood {
        let status = f.await.unwrap();
        assert!(matches!(status, 201 | 429), "{status}");
        created += usize::from(status == 201);
    }
    assert!(created <= 5, "{created} registrations from one address");
}
