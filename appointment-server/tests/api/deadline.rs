//! A request that runs past the deadline (here: a booking whose store call never returns, as on a
//! database that went silent) is answered 504 and abandoned, and the server goes on serving.

use std::sync::Arc;
use std::time::Duration;

use appointment_store::hooks::Fault;
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Notify;

use crate::helpers::{expect_error, expect_json, spawn_stoppable_app};

#[tokio::test]
async fn a_request_past_the_deadline_is_answered_504_and_abandoned() {
    let s = spawn_stoppable_app(|c| c.request_timeout = Duration::from_millis(300)).await;
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
