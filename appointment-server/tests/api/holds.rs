//! Holds over HTTP: `POST /holds` keeps seats for a token, a booking that sends the token takes
//! them over, `DELETE /holds/{token}` gives them back, and from `expires_at` on (on an engine
//! clock the test pins) they are free again with nothing having run.

use std::sync::Arc;

use appointment_core::{Clock, ManualClock};
use chrono::{DateTime, SubsecRound, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json, spawn_app, spawn_app_with};

fn starts(slots: &Value) -> Vec<String> {
    slots["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start_time"].as_str().unwrap().to_owned())
        .collect()
}

/// Seats left on the slot at `start` as listings show it (0 when it is not listed: full).
async fn seats_left(app: &TestApp, code: &str, start: &str) -> u64 {
    let slots = app.slots(code, "?per_page=100").await;
    slots["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["start_time"] == start)
        .map_or(0, |s| s["seats_left"].as_u64().unwrap())
}

async fn hold(app: &TestApp, code: &str, start: &str, seats: u32) -> reqwest::Response {
    app.post_json(
        "/holds",
        &json!({"app_code": code, "start_time": start, "attendee_count": seats}),
    )
    .send()
    .await
    .unwrap()
}

async fn book_held(
    app: &TestApp,
    code: &str,
    start: &str,
    seats: u32,
    token: &str,
    email: &str,
) -> reqwest::Response {
    app.post_json(
        "/appointments/book",
        &json!({
            "app_code": code,
            "start_time": start,
            "attendee_count": seats,
            "name": "Jane Smith",
            "email": email,
            "hold_token": token,
        }),
    )
    .send()
    .await
    .unwrap()
}

async fn read_hold(app: &TestApp, token: &str) -> reqwest::Response {
    app.get(&format!("/holds/{token}")).send().await.unwrap()
}

async fn release(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .delete(app.url(&format!("/holds/{token}")))
        .send()
        .await
        .unwrap()
}

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_hold_keeps_seats_until_it_is_booked_or_expires() {
    // Whole seconds, as instants are answered.
    let clock = Arc::new(ManualClock::new(Utc::now().trunc_subsecs(0)));
    let engine = clock.clone();
    let Some(app) = spawn_app_with(|c| c.clock = engine).await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app
        .appointment(
            &owner,
            2,
            json!({"type": "group", "max_attendees": 3, "hold_minutes": 5}),
        )
        .await;
    assert_eq!(a["hold_minutes"], 5);
    let code = a["app_code"].as_str().unwrap();
    let slots = starts(&app.slots(code, "").await);

    let h = expect_json(hold(&app, code, &slots[0], 2).await, StatusCode::CREATED).await;
    let token = h["hold_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("HD-"), "{h}");
    assert_eq!(h["status"], "held");
    assert_eq!(h["attendee_count"], 2);
    assert_eq!(h["start_time"], slots[0].as_str());
    assert_eq!(
        instant(&h["expires_at"]),
        clock.now() + chrono::TimeDelta::minutes(5)
    );
    assert_eq!(seats_left(&app, code, &slots[0]).await, 1);
    let e = expect_error(
        app.post_json(
            "/appointments/book",
            &json!({"app_code": code, "start_time": slots[0], "attendee_count": 2,
                    "name": "Other", "email": "other@example.com"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "slot_full");

    // The booking that sends the token takes the held seats.
    let b = expect_json(
        book_held(&app, code, &slots[0], 2, &token, "a@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["attendee_count"], 2);
    assert_eq!(b["status"], "active");
    let read = expect_json(read_hold(&app, &token).await, StatusCode::OK).await;
    assert_eq!(read["status"], "booked");
    assert_eq!(read["booking_id"], b["id"]);
    assert_eq!(seats_left(&app, code, &slots[0]).await, 1);
    let e = expect_error(
        book_held(&app, code, &slots[0], 2, &token, "b@example.com").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "hold_ended");
    let e = expect_error(release(&app, &token).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "hold_ended");

    // A hold nobody books: at its expiry its seats are free, and the hold reads expired.
    let h = expect_json(hold(&app, code, &slots[1], 3).await, StatusCode::CREATED).await;
    let late = h["hold_token"].as_str().unwrap().to_owned();
    assert_eq!(seats_left(&app, code, &slots[1]).await, 0);
    clock.set(instant(&h["expires_at"]));
    let read = expect_json(read_hold(&app, &late).await, StatusCode::OK).await;
    assert_eq!(read["status"], "expired");
    assert_eq!(seats_left(&app, code, &slots[1]).await, 3);
    let e = expect_error(
        book_held(&app, code, &slots[1], 3, &late, "late@example.com").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "hold_ended");
    let b = expect_json(
        app.post_json(
            "/appointments/book",
            &json!({"app_code": code, "start_time": slots[1], "attendee_count": 3,
                    "name": "Next", "email": "next@example.com"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["attendee_count"], 3);
}

#[tokio::test]
async fn holds_are_checked_and_released_once() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app
        .appointment(&owner, 2, json!({"type": "group", "max_attendees": 2}))
        .await;
    assert_eq!(a["hold_minutes"], 10, "the default");
    let code = a["app_code"].as_str().unwrap();
    let slots = starts(&app.slots(code, "").await);

    let e = expect_error(hold(&app, code, &slots[0], 3).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "slot_full");
    let e = expect_error(
        hold(&app, code, "2001-01-01T09:00:00Z", 1).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "start_time");
    let e = expect_error(
        read_hold(&app, "BK-ABCDEFGHJKLM").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "hold_token");
    expect_error(
        read_hold(&app, "HD-ABCDEFGHJKLM").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        release(&app, "HD-ABCDEFGHJKLM").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let res = app
        .post_json(
            "/appointments",
            &json!({"title": "T", "start_time": "2031-01-01T09:00:00Z",
                    "end_time": "2031-01-01T12:00:00Z", "start_date": "2031-01-01T00:00:00Z",
                    "end_date": "2031-01-02T00:00:00Z", "booking_duration": 60,
                    "type": "group", "max_attendees": 2, "hold_minutes": 121}),
        )
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    let e = expect_error(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["details"], "hold_minutes", "{e}");

    let h = expect_json(hold(&app, code, &slots[0], 2).await, StatusCode::CREATED).await;
    let token = h["hold_token"].as_str().unwrap().to_owned();
    // A booking with the token must be for the hold's slot and seats; nothing changes if not.
    let e = expect_error(
        book_held(&app, code, &slots[1], 2, &token, "a@example.com").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "hold_token");
    assert_eq!(seats_left(&app, code, &slots[0]).await, 0);
    let r = expect_json(release(&app, &token).await, StatusCode::OK).await;
    assert_eq!(r["status"], "released");
    assert_eq!(seats_left(&app, code, &slots[0]).await, 2);
    let r = expect_json(release(&app, &token).await, StatusCode::OK).await;
    assert_eq!(r["status"], "released");
    assert_eq!(seats_left(&app, code, &slots[0]).await, 2, "released once");

    // The owner can change the hold length.
    let edited = expect_json(
        app.client
            .patch(app.url(&format!("/appointments/{code}")))
            .bearer_auth(&owner.token)
            .json(&json!({"hold_minutes": 30}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["appointment"]["hold_minutes"], 30, "{edited}");
}

#[tokio::test]
async fn a_retried_hold_with_one_idempotency_key_holds_once() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app
        .appointment(&owner, 1, json!({"type": "group", "max_attendees": 4}))
        .await;
    let code = a["app_code"].as_str().unwrap();
    let slots = starts(&app.slots(code, "").await);
    let body = json!({"app_code": code, "start_time": slots[0], "attendee_count": 2});
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let h = expect_json(
            app.post_json("/holds", &body)
                .header("idempotency-key", "hold-retry-1")
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        tokens.push(h["hold_token"].as_str().unwrap().to_owned());
    }
    assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
    assert_eq!(seats_left(&app, code, &slots[0]).await, 2);
}
