//! The cancellation policy over HTTP (guests bound by the cut-off, the owner not), and the
//! owner's completed and no-show marks on an engine clock the test pins.

use std::sync::Arc;

use appointment_core::ManualClock;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, expect_error, expect_json, spawn_app, spawn_app_with};

async fn book(app: &TestApp, code: &str, start: &str, email: &str) -> String {
    let b = expect_json(
        app.book_guest(code, start, email).await,
        StatusCode::CREATED,
    )
    .await;
    b["booking_code"].as_str().unwrap().to_owned()
}

async fn cancel(app: &TestApp, booking: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app.client.delete(app.url(&format!("/bookings/{booking}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn mark(app: &TestApp, booking: &str, what: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&format!("/bookings/{booking}/{what}")));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

async fn status(app: &TestApp, booking: &str) -> Value {
    let b = expect_json(
        app.get(&format!("/bookings/{booking}"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    b["status"].clone()
}

fn starts(slots: &Value) -> Vec<String> {
    slots["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start_time"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn guests_are_bound_by_the_cutoff_and_the_owner_is_not() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    // Tomorrow's slots are all less than two days away.
    let a = app
        .appointment(
            &owner,
            1,
            json!({"type": "group", "max_attendees": 5, "cancel_cutoff_minutes": 2880}),
        )
        .await;
    assert_eq!(a["cancel_cutoff_minutes"], 2880);
    let code = a["app_code"].as_str().unwrap();
    let slots = starts(&app.slots(code, "").await);
    let first = book(&app, code, &slots[0], "a@example.com").await;

    let e = expect_error(cancel(&app, &first, None).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "too_late");
    let e = expect_error(
        app.client
            .put(app.url(&format!("/bookings/{first}")))
            .json(&json!({"start_time": slots[1]}))
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "too_late");
    assert_eq!(status(&app, &first).await, "active");

    // Another user's token is no owner's: the guest's rules apply.
    let stranger = app.user("stranger").await;
    let e = expect_error(
        cancel(&app, &first, Some(&stranger.token)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "too_late");
    // A token that is not valid is refused rather than ignored.
    expect_error(
        cancel(&app, &first, Some("not-a-token")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // The owner moves and cancels past the cut-off.
    let moved = expect_json(
        app.client
            .put(app.url(&format!("/bookings/{first}")))
            .bearer_auth(&owner.token)
            .json(&json!({"start_time": slots[1]}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["start_time"], slots[1].as_str());
    assert!(moved["date"].is_string(), "{moved}");
    let c = expect_json(
        cancel(&app, &first, Some(&owner.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(c["status"], "cancelled");
    assert!(c["date"].is_string(), "{c}");

    // The owner lifts the policy: the guest may cancel again.
    let second = book(&app, code, &slots[0], "b@example.com").await;
    let edited = expect_json(
        app.client
            .patch(app.url(&format!("/appointments/{code}")))
            .bearer_auth(&owner.token)
            .json(&json!({"cancel_cutoff_minutes": 0}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        edited["appointment"]["cancel_cutoff_minutes"], 0,
        "{edited}"
    );
    let c = expect_json(cancel(&app, &second, None).await, StatusCode::OK).await;
    assert_eq!(c["status"], "cancelled");
}

#[tokio::test]
async fn a_cutoff_beyond_a_year_is_refused() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app.appointment(&owner, 1, json!({})).await;
    let res = app
        .client
        .patch(app.url(&format!(
            "/appointments/{}",
            a["app_code"].as_str().unwrap()
        )))
        .bearer_auth(&owner.token)
        .json(&json!({"cancel_cutoff_minutes": 527_041}))
        .send()
        .await
        .unwrap();
    let e = expect_error(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["details"], "cancel_cutoff_minutes");
}

async fn owner_with_bookings(app: &TestApp) -> (TestUser, Vec<String>, Vec<DateTime<Utc>>) {
    let owner = app.user("owner").await;
    let a = app
        .appointment(&owner, 1, json!({"type": "group", "max_attendees": 5}))
        .await;
    let code = a["app_code"].as_str().unwrap();
    let slots = starts(&app.slots(code, "").await);
    let mut bookings = Vec::new();
    for (i, s) in slots.iter().take(2).enumerate() {
        bookings.push(book(app, code, s, &format!("g{i}@example.com")).await);
    }
    let at = slots
        .iter()
        .map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
        .collect();
    (owner, bookings, at)
}

#[tokio::test]
async fn the_owner_marks_started_bookings_completed_or_no_show() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let engine = clock.clone();
    let Some(app) = spawn_app_with(|c| c.clock = engine).await else {
        return;
    };
    let (owner, bookings, at) = owner_with_bookings(&app).await;
    let stranger = app.user("stranger").await;

    let e = expect_error(
        mark(&app, &bookings[0], "complete", Some(&owner.token)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "too_early");
    clock.set(at[0]);
    expect_error(
        mark(&app, &bookings[0], "complete", None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    expect_error(
        mark(&app, &bookings[0], "complete", Some(&stranger.token)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(status(&app, &bookings[0]).await, "active");
    // The guest can no longer cancel a started booking.
    let e = expect_error(cancel(&app, &bookings[0], None).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "too_late");

    let done = expect_json(
        mark(&app, &bookings[0], "complete", Some(&owner.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(done["status"], "completed");
    clock.set(at[1]);
    let missed = expect_json(
        mark(&app, &bookings[1], "no-show", Some(&owner.token)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(missed["status"], "no_show");
    let e = expect_error(
        mark(&app, &bookings[1], "complete", Some(&owner.token)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "invalid_transition");
    assert_eq!(status(&app, &bookings[1]).await, "no_show");

    let day = at[0].date_naive();
    let stats = expect_json(
        app.get(&format!("/analytics?start_date={day}&end_date={day}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["completed_bookings"], 1, "{stats}");
    assert_eq!(stats["no_show_bookings"], 1);
    assert_eq!(stats["no_show_rate"], 0.5);
    assert_eq!(stats["total_bookings"], 2);
    assert_eq!(stats["seats_booked"], 2);
}
