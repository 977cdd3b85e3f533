//! Waiting lists over HTTP: join a full slot, get offered the seats a cancel frees, book them
//! with the offer's hold token; leave; a slot with free seats takes no places.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json, spawn_app};

async fn join(app: &TestApp, code: &str, start: &str, email: &str) -> reqwest::Response {
    app.post_json(
        "/waitlist",
        &json!({"app_code": code, "start_time": start, "name": "Wendy", "email": email}),
    )
    .send()
    .await
    .unwrap()
}

async fn place(app: &TestApp, code: &str) -> Value {
    expect_json(
        app.get(&format!("/waitlist/{code}")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await
}

#[tokio::test]
async fn freed_seats_are_offered_in_line_and_booked_with_the_offer() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app.appointment(&owner, 1, json!({})).await;
    let code = a["app_code"].as_str().unwrap();
    let slots = app.slots(code, "").await;
    let start = slots["items"][0]["start_time"].as_str().unwrap().to_owned();

    let e = expect_error(
        join(&app, code, &start, "early@example.com").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "attendee_count", "{e}");

    let booked = expect_json(
        app.book_guest(code, &start, "a@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let first = expect_json(
        join(&app, code, &start, "w1@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(first["status"], "waiting");
    assert_eq!(first["position"], 1);
    let first = first["waitlist_code"].as_str().unwrap().to_owned();
    assert!(first.starts_with("WL-"));
    let second = expect_json(
        join(&app, code, &start, "w2@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(second["position"], 2);
    let second = second["waitlist_code"].as_str().unwrap().to_owned();

    let booking = booked["booking_code"].as_str().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/bookings/{booking}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let offered = place(&app, &first).await;
    assert_eq!(offered["status"], "offered", "{offered}");
    assert_eq!(offered["position"], 0);
    let token = offered["hold_token"].as_str().unwrap();
    assert!(offered["offer_expires_at"].is_string());
    let waiting = place(&app, &second).await;
    assert_eq!(
        (waiting["status"].clone(), waiting["position"].clone()),
        (json!("waiting"), json!(1))
    );

    let b = expect_json(
        app.post_json(
            "/appointments/book",
            &json!({"app_code": code, "start_time": start, "name": "Wendy",
                    "email": "w1@example.com", "attendee_count": 1, "hold_token": token}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["status"], "active");
    let done = place(&app, &first).await;
    assert_eq!(done["status"], "booked");
    assert!(done.get("hold_token").is_none());

    let left = expect_json(
        app.client
            .delete(app.url(&format!("/waitlist/{second}")))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(left["status"], "left");
    expect_error(
        app.get("/waitlist/WL-AAAAAAAAAAAA").send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        app.get("/waitlist/not-a-code").send().await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
}
