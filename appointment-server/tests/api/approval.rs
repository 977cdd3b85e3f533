//! Approval over HTTP: an appointment with `confirm_within_minutes` takes bookings as `pending`
//! (seats held, `confirm_by` shown); the owner confirms or declines them; at `confirm_by` an
//! unconfirmed booking reads `expired` and its seats are free, on an engine clock the test pins.

use std::sync::Arc;

use appointment_core::{Clock, ManualClock};
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json, spawn_app, spawn_app_with};

async fn owner_action(app: &TestApp, booking: &str, what: &str, token: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/bookings/{booking}/{what}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn read(app: &TestApp, booking: &str) -> Value {
    expect_json(
        app.get(&format!("/bookings/{booking}"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

async fn seats_taken(app: &TestApp, code: &str, start: &str) -> u64 {
    let slots = app.slots(code, "").await;
    slots["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["start_time"] == start)
        .map_or(u64::MAX, |s| s["attendee_count"].as_u64().unwrap())
}

#[tokio::test]
async fn pending_bookings_are_confirmed_declined_or_expire() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let engine = clock.clone();
    let Some(app) = spawn_app_with(|c| c.clock = engine).await else {
        return;
    };
    let owner = app.user("owner").await;
    let stranger = app.user("stranger").await;
    let a = app
        .appointment(
            &owner,
            2,
            json!({"type": "group", "max_attendees": 3, "confirm_within_minutes": 60}),
        )
        .await;
    assert_eq!(a["confirm_within_minutes"], 60);
    let code = a["app_code"].as_str().unwrap();
    let slots = app.slots(code, "").await;
    let start = slots["items"][0]["start_time"].as_str().unwrap().to_owned();

    let first = expect_json(
        app.book_guest(code, &start, "a@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["status"], "pending", "{first}");
    let deadline = DateTime::parse_from_rfc3339(first["confirm_by"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    assert!(
        (deadline - clock.now() - TimeDelta::minutes(60)).abs() < TimeDelta::milliseconds(1),
        "an hour to decide, to the microsecond"
    );
    let first = first["booking_code"].as_str().unwrap().to_owned();
    assert_eq!(seats_taken(&app, code, &start).await, 1);

    let e = expect_error(
        owner_action(&app, &first, "confirm", &stranger.token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(e["code"], "forbidden");
    let confirmed = expect_json(
        owner_action(&app, &first, "confirm", &owner.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(confirmed["status"], "active");
    assert!(confirmed.get("confirm_by").is_none(), "{confirmed}");
    let e = expect_error(
        owner_action(&app, &first, "decline", &owner.token).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "invalid_transition");

    let second = expect_json(
        app.book_guest(code, &start, "b@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let second = second["booking_code"].as_str().unwrap().to_owned();
    let declined = expect_json(
        owner_action(&app, &second, "decline", &owner.token).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(declined["status"], "declined");
    assert_eq!(seats_taken(&app, code, &start).await, 1);

    let third = expect_json(
        app.book_guest(code, &start, "c@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let third_deadline = DateTime::parse_from_rfc3339(third["confirm_by"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let third = third["booking_code"].as_str().unwrap().to_owned();
    assert_eq!(seats_taken(&app, code, &start).await, 2);
    clock.set(third_deadline - TimeDelta::microseconds(1));
    assert_eq!(read(&app, &third).await["status"], "pending");
    clock.set(third_deadline);
    let expired = read(&app, &third).await;
    assert_eq!(expired["status"], "expired", "{expired}");
    assert!(expired.get("confirm_by").is_none());
    assert_eq!(seats_taken(&app, code, &start).await, 1);
    let e = expect_error(
        owner_action(&app, &third, "confirm", &owner.token).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "invalid_transition");
    assert!(e["message"].as_str().unwrap().contains("expired"), "{e}");

    let day = DateTime::parse_from_rfc3339(&start).unwrap().date_naive();
    let stats = expect_json(
        app.get(&format!("/analytics?start_date={day}&end_date={day}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["active_bookings"], 1, "{stats}");
    assert_eq!(stats["declined_bookings"], 1);
    assert_eq!(stats["expired_bookings"], 1);
    assert_eq!(stats["pending_bookings"], 0);
    assert_eq!(stats["total_bookings"], 3);

    // Approval off: bookings are active at once; `null` turns it off.
    let edited = expect_json(
        app.client
            .patch(app.url(&format!("/appointments/{code}")))
            .bearer_auth(&owner.token)
            .json(&json!({"confirm_within_minutes": null}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(edited["confirm_within_minutes"].is_null(), "{edited}");
    let plain = expect_json(
        app.book_guest(code, &start, "d@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(plain["status"], "active");
}

#[tokio::test]
async fn approval_input_is_checked() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    for (extra, field) in [
        (
            json!({"confirm_within_minutes": 0}),
            "confirm_within_minutes",
        ),
        (
            json!({"confirm_within_minutes": 43_201}),
            "confirm_within_minutes",
        ),
        (
            json!({"confirm_within_minutes": 60, "resource": "Chair 1"}),
            "confirm_within_minutes",
        ),
    ] {
        let mut body = json!({
            "title": "Consultation",
            "start_time": "2031-01-06T09:00:00Z",
            "end_time": "2031-01-06T12:00:00Z",
            "start_date": "2031-01-06T00:00:00Z",
            "end_date": "2031-01-07T00:00:00Z",
            "booking_duration": 60,
            "type": "single",
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let e = expect_error(
            app.post_json("/appointments", &body)
                .bearer_auth(&owner.token)
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["details"], field, "{e}");
    }
}
