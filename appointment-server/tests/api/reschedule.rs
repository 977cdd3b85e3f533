//! `PUT /bookings/{code}`: what a reschedule checks and what it changes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json, spawn_app};

/// A group appointment of 50 seats a slot, its code and its slots' start times.
async fn group_of_50(app: &TestApp) -> (crate::helpers::TestUser, String, Vec<String>) {
    let owner = app.user("owner").await;
    let a = app
        .appointment(&owner, 1, json!({"type": "group", "max_attendees": 50}))
        .await;
    let code = a["app_code"].as_str().unwrap().to_owned();
    let starts = app.slots(&code, "").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start_time"].as_str().unwrap().to_owned())
        .collect();
    (owner, code, starts)
}

async fn put(app: &TestApp, booking_code: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/bookings/{booking_code}")))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get(app: &TestApp, booking_code: &str) -> Value {
    expect_json(
        app.get(&format!("/bookings/{booking_code}"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

/// A reschedule answers the instant of the change as `updated_at` (after `created_at`, which does
/// not change), and reading the booking back answers the same.
#[tokio::test]
async fn a_reschedule_answers_its_own_updated_at() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = group_of_50(&app).await;
    let b = expect_json(
        app.book_guest(&code, &starts[0], "a@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["updated_at"], b["created_at"]);
    let bk = b["booking_code"].as_str().unwrap();
    let moved = expect_json(
        put(&app, bk, &json!({"start_time": starts[1]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["created_at"], b["created_at"]);
    let instant = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert!(
        instant(&moved["updated_at"]) > instant(&b["created_at"]),
        "{moved}"
    );
    assert_eq!(get(&app, bk).await, moved);
}
