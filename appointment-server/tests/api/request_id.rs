//! `X-Request-Id`: a client's id is echoed only when it is 1 to 64 characters of
//! `[A-Za-z0-9._-]`; any other is replaced by a fresh one.

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::spawn_app;

fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[tokio::test]
async fn a_well_formed_request_id_is_echoed() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let id = "req-1.2_3";
    let res = app
        .get("/")
        .header("x-request-id", id)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-request-id"], id);
    let res = app.get("/").send().await.unwrap();
    let fresh = res.headers()["x-request-id"].to_str().unwrap();
    assert!(acceptable(fresh), "{fresh}");
}

#[tokio::test]
async fn a_60_kb_or_odd_request_id_is_replaced_not_echoed() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let huge = "a".repeat(60 * 1024);
    let odd: Vec<reqwest::header::HeaderValue> = vec![
        huge.parse().unwrap(),
        "a".repeat(65).parse().unwrap(),
        "id with spaces".parse().unwrap(),
        "id\"};{".parse().unwrap(),
        reqwest::header::HeaderValue::from_bytes(b"id\xff\xfe").unwrap(),
        "id\tx".parse().unwrap(),
    ];
    for sent in odd {
        let res = app
            .get("/")
            .header("x-request-id", sent.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let got = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(acceptable(&got), "{got}");
        assert_ne!(got.as_bytes(), sent.as_bytes());
    }
}

#[tokio::test]
async fn control_characters_in_a_request_id_never_come_back() {
    let Some(app) = spawn_app().await else {
        return;
    };
    // Sent raw: an HTTP client library would refuse to send these bytes.
    let mut conn = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    conn.write_all(
        b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Request-Id: ab\x1b[31mcd\x07\r\n\r\n",
    )
    .await
    .unwrap();
    let mut sent = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        conn.read_to_end(&mut sent),
    )
    .await
    .expect("the server answers and closes")
    .unwrap();
    let text = String::from_utf8_lossy(&sent);
    assert!(!sent.contains(&0x1b) && !sent.contains(&0x07), "{text}");
    assert!(
        text.starts_with("HTTP/1.1 400 ") || text.starts_with("HTTP/1.1 200 "),
        "{text}"
    );
}
