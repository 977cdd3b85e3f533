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

/// A guest whom the owner banned after they booked can neither move their booking nor raise its
/// seats (1 to 50): 403 `banned`, and the booking and the slot's seats stay as they were.
#[tokio::test]
async fn a_banned_guest_cannot_reschedule_or_grow_their_booking() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (owner, code, starts) = group_of_50(&app).await;
    let b = expect_json(
        app.book_guest(&code, &starts[0], "late@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let bk = b["booking_code"].as_str().unwrap();
    expect_json(
        app.post_json("/ban-list", &json!({"email": "Late@Example.com"}))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    for body in [
        json!({"start_time": starts[0], "attendee_count": 50}),
        json!({"start_time": starts[1]}),
        json!({"start_time": starts[1], "attendee_count": 50}),
    ] {
        let e = expect_error(put(&app, bk, &body).await, StatusCode::FORBIDDEN).await;
        assert_eq!(e["code"], "banned", "{body}");
    }
    let now = get(&app, bk).await;
    assert_eq!(now, b, "the booking must not change");
    let slots = app.slots(&code, "").await;
    let first = &slots["items"][0];
    assert_eq!(first["start_time"], starts[0].as_str());
    assert_eq!(first["seats_left"], 49, "{first}");
    // Once the ban is lifted, the same change goes through.
    expect_json(
        app.client
            .delete(app.url("/ban-list"))
            .json(&json!({"email": "late@example.com"}))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let grown = expect_json(
        put(
            &app,
            bk,
            &json!({"start_time": starts[0], "attendee_count": 50}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(grown["attendee_count"], 50);
}

/// `PUT /bookings/{code}` updates the description, as the original does; without one it keeps
/// it; one longer than 2000 characters is a 400 that changes nothing.
#[tokio::test]
async fn a_reschedule_updates_the_description() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = group_of_50(&app).await;
    let b = expect_json(
        app.book_guest(&code, &starts[0], "a@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["description"], "");
    let bk = b["booking_code"].as_str().unwrap();
    let moved = expect_json(
        put(
            &app,
            bk,
            &json!({"start_time": starts[1], "description": "Bring the X-rays"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["description"], "Bring the X-rays");
    assert_eq!(get(&app, bk).await["description"], "Bring the X-rays");
    let kept = expect_json(
        put(&app, bk, &json!({"start_time": starts[2]})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["description"], "Bring the X-rays");
    let e = expect_error(
        put(
            &app,
            bk,
            &json!({"start_time": starts[0], "description": "x".repeat(2001)}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "description", "{e}");
    assert_eq!(get(&app, bk).await, kept);
}
