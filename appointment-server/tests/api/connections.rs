//! Connections: the header-read and idle timeouts close what clients leave open, a connection
//! past the cap gets a defined answer, and the parser's own errors carry the JSON error body.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app_with};

/// A bound on every wait below, so that a server that never closes fails the test rather than
/// hanging it; the tests wait on the socket, not on this.
const SAFETY: Duration = Duration::from_secs(30);

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(SAFETY, stream.read(&mut buf)).await {
            Err(_) => panic!("the server kept the connection open; it sent {out:?}"),
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_client_that_sends_half_a_header_is_disconnected() {
    let Some(app) = spawn_app_with(|c| {
        c.connections.header_read_timeout = Duration::from_millis(200);
    })
    .await
    else {
        return;
    };
    let mut slow = connect(&app).await;
    slow.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaa")
        .await
        .unwrap();
    let sent = read_to_close(&mut slow).await;
    assert!(!sent.contains("200 OK"), "{sent}");
    // A connection that sends nothing at all is closed too.
    let mut silent = connect(&app).await;
    read_to_close(&mut silent).await;
    // The server still serves.
    let res = app.get("/").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let Some(app) = spawn_app_with(|c| {
        c.connections.idle_timeout = Duration::from_millis(300);
    })
    .await
    else {
        return;
    };
    let mut conn = connect(&app).await;
    conn.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    // The answer comes, the connection stays for the next request, then idles out.
    let sent = read_to_close(&mut conn).await;
    assert!(sent.starts_with("HTTP/1.1 200 OK"), "{sent}");
    assert!(sent.contains("Appointment Master API"), "{sent}");
}

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_gets_503_json_and_is_closed() {
    let Some(app) = spawn_app_with(|c| {
        c.connections.max_connections = 3;
        c.connections.header_read_timeout = Duration::from_secs(60);
    })
    .await
    else {
        return;
    };
    // Three connections hold every place (the server accepts in order, so they hold them before
    // the fourth is looked at).
    let mut holders = Vec::new();
    for _ in 0..3 {
        holders.push(connect(&app).await);
    }
    let mut extra = connect(&app).await;
    extra
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let sent = read_to_close(&mut extra).await;
    let (head, body) = sent.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 503 "), "{sent}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["code"], "too_many_connections");
    assert!(json["message"].is_string());
    assert_eq!(json["error"], json["message"]);

    // Once a holder leaves, a place frees.
    drop(holders.pop());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut attempts = 0;
    loop {
        let res = client.get(app.url("/")).send().await.unwrap();
        if res.status() == StatusCode::OK {
            break;
        }
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        attempts += 1;
        assert!(attempts < 1000, "no place freed");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn headers_too_large_are_431_with_the_json_error_body() {
    let Some(app) = spawn_app_with(|_| {}).await else {
        return;
    };
    let mut conn = connect(&app).await;
    let mut req = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ".to_vec();
    req.resize(req.len() + 600 * 1024, b'a');
    req.extend_from_slice(b"\r\n\r\n");
    // The server may answer and close before it has read everything.
    let _ = conn.write_all(&req).await;
    let sent = read_to_close(&mut conn).await;
    let (head, body) = sent.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 431 "), "{sent}");
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["code"], "headers_too_large");
    assert!(json["message"].is_string());
    assert_eq!(json["error"], json["message"]);
}

#[tokio::test]
async fn a_request_the_parser_cannot_read_is_400_with_the_json_error_body() {
    let Some(app) = spawn_app_with(|_| {}).await else {
        return;
    };
    let mut conn = connect(&app).await;
    conn.write_all(b"GET /\x01 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let sent = read_to_close(&mut conn).await;
    let (head, body) = sent.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 400 "), "{sent}");
    let json: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(json["code"], "bad_request");
    assert_eq!(json["error"], json["message"]);
}
