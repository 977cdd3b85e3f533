//! Store failures as clients see them, on a server whose store the test can fail on purpose (SQLite
//! with fault injection): a request that runs past the deadline (a booking whose store call never
//! returns, as on a database that went silent) is answered 504 and abandoned; and what an
//! `Idempotency-Key` keeps of a 503 and of a 500.

use std::sync::Arc;
use std::time::Duration;

use appointment_store::hooks::Fault;
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Notify;

use crate::helpers::{expect_error, expect_json, spawn_stoppable_app};

#[tokio::test]
async fn a_request_past_the_deadline_is_answered_504_and_abandoned() {
    let s = spawn_stoppable_app(|c| c.request_timeout = Duration::from_secs(2)).await;
    let app = &s.app;
    let owner = app.user("owner").await;
    let appointment = app.appointment(&owner, 1, json!({})).await;
    let code = appointment["app_code"].as_str().unwrap().to_owned();
    let start = app.slots(&code, "").await["items"][0]["start_time"]
        .as_str()
        .unwrap()
        .to_owned();

    // The next booking never gets past its commit point.
    let reached = Arc::new(Notify::new());
    s.store.arm_fault(Fault::Hang {
        reached: reached.clone(),
    });
    let res = app
        .post_json(
            "/appointments/book",
            &json!({"app_code": code, "start_time": start, "name": "Stuck",
                    "email": "stuck@example.com"}),
        )
        // Without the server's deadline this request would never end; fail instead.
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("an answer before the client gives up");
    let body = expect_error(res, StatusCode::GATEWAY_TIMEOUT).await;
    assert_eq!(body["code"], "timeout");
    reached.notified().await;

    // The abandoned booking left nothing behind: the single slot is still free, and the store's
    // one writer connection was given back.
    let res = app.book_guest(&code, &start, "next@example.com").await;
    let booking = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(booking["email"], "next@example.com");
    let slots = app.slots(&code, "").await;
    assert_ne!(slots["items"][0]["start_time"], start.as_str());
}

/// A 503 promises that nothing was done, so it leaves the key free: the retry with the same key
/// books. A 500 may hide a booking that was made (a commit whose answer was lost), so it is kept:
/// the retry gets the same 500 back, marked as replayed, and books nothing.
#[tokio::test]
async fn a_503_frees_the_key_and_a_500_is_kept() {
    let s = spawn_stoppable_app(|_| {}).await;
    let app = &s.app;
    let owner = app.user("owner").await;
    let a = app
        .appointment(&owner, 1, json!({"type": "group", "max_attendees": 20}))
        .await;
    let code = a["app_code"].as_str().unwrap().to_owned();
    let start = app.slots(&code, "").await["items"][0]["start_time"]
        .as_str()
        .unwrap()
        .to_owned();
    let guest = |email: &str| json!({"app_code": code, "start_time": start, "name": "Jane", "email": email});
    let send = |key: &'static str, email: &str| {
        app.post_json("/appointments/book", &guest(email))
            .header("idempotency-key", key)
            .send()
    };

    s.store.arm_fault(Fault::Unavailable);
    let res = send("after-503", "a@example.com").await.unwrap();
    let refused = expect_error(res, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(refused["code"], "unavailable");
    let res = send("after-503", "a@example.com").await.unwrap();
    assert!(res.headers().get("idempotent-replayed").is_none());
    expect_json(res, StatusCode::CREATED).await;

    s.store.arm_fault(Fault::Error);
    let res = send("after-500", "b@example.com").await.unwrap();
    expect_error(res, StatusCode::INTERNAL_SERVER_ERROR).await;
    let res = send("after-500", "b@example.com").await.unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let replayed = expect_error(res, StatusCode::INTERNAL_SERVER_ERROR).await;
    assert_eq!(replayed["code"], "internal");

    // One booking in all: the one retried after the 503.
    let seats = app.slots(&code, "").await["items"][0]["attendee_count"].clone();
    assert_eq!(seats, 1);
}
