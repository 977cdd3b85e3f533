//! Limits per owner: appointments kept, and writes per minute.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{expect_error, spawn_app_with, tomorrow};

fn appointment_body(title: &str) -> serde_json::Value {
    let d = tomorrow();
    json!({
        "title": title,
        "start_time": format!("{d}T09:00:00Z"), "end_time": format!("{d}T12:00:00Z"),
        "start_date": format!("{d}T00:00:00Z"), "end_date": format!("{d}T00:00:00Z"),
        "booking_duration": 60, "type": "single",
    })
}

#[tokio::test]
async fn an_owner_past_the_appointment_limit_gets_409_limit_reached() {
    let Some(app) = spawn_app_with(|c| c.limits.max_appointments_per_owner = 3).await else {
        return;
    };
    let owner = app.user("owner").await;
    for i in 0..3 {
        let res = app
            .post_json("/appointments", &appointment_body(&format!("Session {i}")))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .post_json("/appointments", &appointment_body("One too many"))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    let e = expect_error(res, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "limit_reached");
    // Nothing was created; another owner is not affected.
    let mine: serde_json::Value = app
        .get("/appointments/my")
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 3);
    let other = app.user("other").await;
    let res = app
        .post_json("/appointments", &appointment_body("Mine"))
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn owner_writes_past_the_rate_get_429_with_retry_after() {
    let Some(app) = spawn_app_with(|c| c.limits.owner_write_rate_per_minute = 4).await else {
        return;
    };
    let owner = app.user("owner").await;
    for i in 0..2 {
        let res = app
            .post_json("/appointments", &appointment_body(&format!("Session {i}")))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    for i in 0..2 {
        let res = app
            .post_json("/ban-list", &json!({"email": format!("b{i}@example.com")}))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .post_json("/ban-list", &json!({"email": "b9@example.com"}))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("retry-after"));
    let e = expect_error(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(e["code"], "rate_limited");
    let res = app
        .post_json("/appointments", &appointment_body("Too fast"))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::TOO_MANY_REQUESTS).await;
    // Reads are not counted, and another owner writes freely.
    let res = app
        .get("/ban-list")
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let other = app.user("other").await;
    let res = app
        .post_json("/appointments", &appointment_body("Mine"))
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}
