//! The expiry sweeper over HTTP: a pending booking nobody confirms is stored as `expired` and its
//! `booking.expired` event reaches `GET /events` once its `confirm_by` passes, with no request
//! touching the appointment, on an engine clock the test pins and a sweeper that runs every few
//! milliseconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use appointment_core::{Booking, BookingCode, BookingStatus, ManualClock};
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, expect_json, spawn_app_with};

/// The owner's events after `after` (all of them from the start when `None`).
async fn events(app: &TestApp, owner: &TestUser, after: Option<&str>) -> Value {
    let query = after.map_or_else(String::new, |c| format!("?after={c}"));
    expect_json(
        app.get(&format!("/events{query}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

/// Reads the owner's events from `after` on until one is `kind`, for at most 10 seconds;
/// answers every event read, in order.
async fn wait_for_event(app: &TestApp, owner: &TestUser, after: &str, kind: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut cursor = after.to_owned();
    let mut seen: Vec<Value> = Vec::new();
    loop {
        let page = events(app, owner, Some(&cursor)).await;
        seen.extend(page["events"].as_array().unwrap().iter().cloned());
        cursor = page["next"].as_str().unwrap().to_owned();
        if seen.iter().any(|e| e["type"] == kind) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "no {kind} within 10 s; events after {after}: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The booking as stored (not as of now, as `GET /bookings/{code}` answers it).
async fn stored(app: &TestApp, code: &str) -> Booking {
    app.state
        .store
        .booking_by_code(&BookingCode::parse(code).unwrap())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn the_sweeper_expires_a_pending_booking_nobody_touches() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let engine = clock.clone();
    let Some(app) = spawn_app_with(move |c| {
        c.clock = engine;
        c.expiry_sweep = Duration::from_millis(20);
    })
    .await
    else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app
        .appointment(
            &owner,
            1,
            json!({"type": "group", "max_attendees": 3, "confirm_within_minutes": 60}),
        )
        .await;
    let code = a["app_code"].as_str().unwrap();
    let start = app.slots(code, "").await["items"][0]["start_time"]
        .as_str()
        .unwrap()
        .to_owned();
    let booked = expect_json(
        app.book_guest(code, &start, "late@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(booked["status"], "pending", "{booked}");
    let booking_code = booked["booking_code"].as_str().unwrap().to_owned();
    let deadline = DateTime::parse_from_rfc3339(booked["confirm_by"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    let created = wait_for_event(&app, &owner, "0.0", "booking.created").await;
    let after = created.last().unwrap()["cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        stored(&app, &booking_code).await.status,
        BookingStatus::Pending
    );

    // The deadline passes; from here on only `GET /events` is asked, which changes nothing.
    clock.set(deadline + TimeDelta::seconds(1));
    let seen = wait_for_event(&app, &owner, &after, "booking.expired").await;
    let kinds: Vec<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["booking.expired"], "told once: {seen:?}");
    let expired = &seen[0];
    assert_eq!(expired["data"]["booking_code"], booking_code.as_str());
    assert_eq!(expired["data"]["status"], "expired");
    assert_eq!(expired["data"]["email"], "late@example.com");
    let stored = stored(&app, &booking_code).await;
    assert_eq!(stored.status, BookingStatus::Expired, "{stored:?}");
    assert_eq!(stored.updated_at, deadline + TimeDelta::seconds(1));
}
