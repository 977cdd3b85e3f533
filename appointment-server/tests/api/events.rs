//! `GET /events`: an owner reads the changes on their appointments, in order, from a cursor;
//! nobody else's; bad cursors and limits are a 400.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, expect_error, expect_json, spawn_app};

async fn events(app: &TestApp, user: &TestUser, query: &str) -> Value {
    expect_json(
        app.get(&format!("/events{query}"))
            .bearer_auth(&user.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

fn kinds(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn owner_follows_the_changes_on_their_appointments() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let other = app.user("other").await;
    let a = app
        .appointment(&owner, 2, json!({"type": "group", "max_attendees": 3}))
        .await;
    let code = a["app_code"].as_str().unwrap();
    let slot = app.slots(code, "").await["items"][0]["start_time"]
        .as_str()
        .unwrap()
        .to_owned();
    let booking = expect_json(
        app.book_guest(code, &slot, "guest@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let booking_code = booking["booking_code"].as_str().unwrap();

    let page = events(&app, &owner, "").await;
    assert_eq!(kinds(&page), ["appointment.created", "booking.created"]);
    let created = &page["events"][1];
    assert_eq!(created["version"], 1);
    assert_eq!(created["data"]["app_code"], code);
    assert_eq!(created["data"]["booking_code"], booking_code);
    assert_eq!(created["data"]["status"], "active");
    assert_eq!(created["data"]["start_time"], slot);
    assert_eq!(created["data"]["email"], "guest@example.com");
    assert_eq!(created["data"]["attendee_count"], 1);
    assert_eq!(page["next"], created["cursor"]);
    uuid::Uuid::parse_str(created["id"].as_str().unwrap()).expect("a uuid id");

    // Going on from `next`: the cancel only.
    let next = page["next"].as_str().unwrap().to_owned();
    let res = app
        .client
        .delete(app.url(&format!("/bookings/{booking_code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = events(&app, &owner, &format!("?after={next}")).await;
    assert_eq!(kinds(&page), ["booking.cancelled"]);
    assert_eq!(page["events"][0]["data"]["status"], "cancelled");
    let last = page["next"].as_str().unwrap().to_owned();
    let page = events(&app, &owner, &format!("?after={last}")).await;
    assert_eq!(kinds(&page), Vec::<String>::new());
    assert_eq!(page["next"], last.as_str(), "no event: the cursor stays");

    // Pages join up; another owner sees none of it.
    let first = events(&app, &owner, "?limit=1").await;
    assert_eq!(kinds(&first), ["appointment.created"]);
    let rest = events(
        &app,
        &owner,
        &format!("?after={}&limit=1000", first["next"].as_str().unwrap()),
    )
    .await;
    assert_eq!(kinds(&rest), ["booking.created", "booking.cancelled"]);
    assert_eq!(kinds(&events(&app, &other, "").await), Vec::<String>::new());
}

#[tokio::test]
async fn bad_cursors_and_limits_are_refused() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    for (query, field) in [
        ("?after=12", "after"),
        ("?after=x.y", "after"),
        ("?limit=0", "limit"),
        ("?limit=1001", "limit"),
    ] {
        let body = expect_error(
            app.get(&format!("/events{query}"))
                .bearer_auth(&owner.token)
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            body.to_string().contains(field),
            "{query}: the error names {field}: {body}"
        );
    }
    expect_error(
        app.get("/events").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}
