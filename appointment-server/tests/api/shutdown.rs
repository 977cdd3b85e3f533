//! Graceful shutdown: a booking in flight when the stop arrives completes and is kept, and the
//! server ends only after answering it.

use std::sync::Arc;

use appointment_store::hooks::Fault;
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Notify;

use crate::helpers::{expect_json, spawn_stoppable_app};

#[tokio::test]
async fn a_booking_in_flight_at_shutdown_is_answered_and_kept() {
    let s = spawn_stoppable_app(|_| {}).await;
    let app = &s.app;
    let owner = app.user("owner").await;
    let appointment = app.appointment(&owner, 1, json!({})).await;
    let code = appointment["app_code"].as_str().unwrap().to_owned();
    let start = app.slots(&code, "").await["items"][0]["start_time"]
        .as_str()
        .unwrap()
        .to_owned();

    // The next booking stops just before its commit until the test lets it go.
    let (reached, resume) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    s.store.arm_fault(Fault::Pause {
        reached: reached.clone(),
        resume: resume.clone(),
    });
    let in_flight = {
        let (client, url) = (app.client.clone(), app.url("/appointments/book"));
        let body = json!({
            "app_code": code, "start_time": start, "name": "Late Guest",
            "email": "late@example.com", "attendee_count": 1,
        });
        tokio::spawn(async move { client.post(url).json(&body).send().await })
    };
    reached.notified().await;

    // Stop the server while the booking is half way. Were the server to return now, its runtime
    // would be dropped with the booking unanswered.
    s.stop.send(()).unwrap();
    // Let the booking go only once the server has taken the stop (it refuses new connections).
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut attempts = 0;
    while tokio::net::TcpStream::connect(&address).await.is_ok() {
        attempts += 1;
        assert!(attempts < 100_000, "the server still accepts connections");
        tokio::task::yield_now().await;
    }
    resume.notify_one();

    let res = in_flight
        .await
        .unwrap()
        .expect("the booking in flight is answered");
    let booking = expect_json(res, StatusCode::CREATED).await;
    s.served.await.unwrap().expect("the server stops cleanly");

    // It is in the database, and the server no longer accepts connections.
    let code = booking["booking_code"].as_str().unwrap();
    let stored = appointment_core::BookingCode::parse(code).unwrap();
    let reopened = appointment_store::SqliteStore::connect(&s.database_url)
        .await
        .unwrap();
    let kept = appointment_core::Store::booking_by_code(&reopened, &stored)
        .await
        .unwrap();
    assert_eq!(
        kept.map(|b| b.email.as_str().to_owned()),
        Some("late@example.com".into())
    );
    assert!(app.client.get(app.url("/")).send().await.is_err());
}
