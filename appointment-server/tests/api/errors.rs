//! Client mistakes are 4xx JSON errors, never 5xx or plain text.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_error, spawn_app};

#[tokio::test]
async fn a_5_mib_body_is_413() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let big = "x".repeat(5 * 1024 * 1024);
    let body =
        json!({"app_code": "AP-ZZZZZZZZZZZZ", "start_time": "2030-01-01T00:00:00Z", "name": big});
    let res = app
        .post_json("/appointments/book", &body)
        .send()
        .await
        .unwrap();
    let e = expect_error(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(e["code"], "payload_too_large");
    // Also on an endpoint that reads the body as raw bytes of JSON.
    let stream = big_json_bytes(5 * 1024 * 1024);
    let res = app
        .client
        .post(app.url("/users"))
        .header("content-type", "application/json")
        .body(reqwest::Body::from(stream))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::PAYLOAD_TOO_LARGE).await;
}

fn big_json_bytes(n: usize) -> Vec<u8> {
    let mut v = b"{\"name\":\"".to_vec();
    v.resize(n, b'a');
    v.extend_from_slice(b"\"}");
    v
}

#[tokio::test]
async fn malformed_json_is_400() {
    let Some(app) = spawn_app().await else {
        return;
    };
    // Minting a device token needs a login: the body is read once the caller is known.
    let user = app.user("mal").await;
    for path in [
        "/users",
        "/login",
        "/appointments/book",
        "/auth/device-token",
    ] {
        let res = app
            .client
            .post(app.url(path))
            .bearer_auth(&user.token)
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        let e = expect_error(res, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["code"], "bad_request", "{path}");
    }
}

#[tokio::test]
async fn wrong_field_types_are_400() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let res = app
        .post_json(
            "/users",
            &json!({"name": 42, "email": ["x"], "password": true}),
        )
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::BAD_REQUEST).await;
    let res = app
        .post_json(
            "/appointments/book",
            &json!({"app_code": "AP-ZZZZZZZZZZZZ", "start_time": "2030-01-01T00:00:00Z", "attendee_count": -1}),
        )
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let res = app
        .client
        .post(app.url("/users"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let res = app.client.post(app.url("/login")).send().await.unwrap();
    expect_error(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

#[tokio::test]
async fn odd_path_parameters_are_4xx() {
    let Some(app) = spawn_app().await else {
        return;
    };
    for path in [
        "/bookings/%FF%FE",
        "/bookings/BK-%00",
        "/appointments/slots/%F0%28%8C%28",
        "/bookings/'%20OR%201=1",
    ] {
        let res = app.get(path).send().await.unwrap();
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
        let body: serde_json::Value = res.json().await.expect("a JSON error");
        assert!(body["code"].is_string());
    }
}
