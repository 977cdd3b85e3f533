use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestUser, expect_error, expect_json, setup, spawn_app, tomorrow};

#[tokio::test]
async fn guest_booking_is_201_and_can_be_read_back() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(&app, json!({})).await;
    let d = tomorrow();
    // The original's request shape: date and end_time agree with the slot.
    let res = app
        .post_json(
            "/appointments/book",
            &json!({
                "app_code": code, "start_time": starts[1], "end_time": format!("{d}T11:00:00Z"),
                "date": format!("{d}T00:00:00Z"), "name": "Jane Smith", "email": "jane@example.com",
                "phone": "+1987654321", "attendee_count": 1, "description": "Initial consultation"
            }),
        )
        .send()
        .await
        .unwrap();
    let b = expect_json(res, StatusCode::CREATED).await;
    let bk = b["booking_code"].as_str().unwrap();
    assert!(bk.starts_with("BK-"));
    assert_eq!(b["status"], "active");
    assert_eq!(b["start_time"], starts[1]);
    assert_eq!(b["attendee_count"], 1);
    assert_eq!(b["app_code"], code.as_str());
    assert!(b["user_id"].is_null());
    let got = expect_json(
        app.get(&format!("/bookings/{bk}")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(got, b);
    // The slot is full now, so it is no longer listed.
    let slots = app.slots(&code, "").await;
    assert_eq!(slots["total"], 2);
}

#[tokio::test]
async fn a_start_that_is_not_a_slot_is_400() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, _) = setup(&app, json!({})).await;
    let e = expect_error(
        app.book_guest(
            &code,
            &format!("{}T09:30:00Z", tomorrow()),
            "jane@example.com",
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "start_time");
}

#[tokio::test]
async fn end_time_or_date_that_disagree_with_the_slot_are_400() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(&app, json!({})).await;
    let d = tomorrow();
    for (patch, field) in [
        (json!({"end_time": format!("{d}T11:00:00Z")}), "end_time"),
        (json!({"date": "1999-01-01"}), "date"),
    ] {
        let mut body = json!({"app_code": code, "start_time": starts[0], "name": "Jane", "email": "j@example.com"});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let e = expect_error(
            app.post_json("/appointments/book", &body)
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["details"], field);
    }
}

#[tokio::test]
async fn guest_details_are_required_and_validated() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(&app, json!({})).await;
    for (body, field) in [
        (
            json!({"app_code": code, "start_time": starts[0], "email": "j@example.com"}),
            "name",
        ),
        (
            json!({"app_code": code, "start_time": starts[0], "name": "Jane"}),
            "email",
        ),
        (
            json!({"app_code": code, "start_time": starts[0], "name": "Jane", "email": "bad"}),
            "email",
        ),
        (
            json!({"app_code": code, "start_time": "tomorrow", "name": "Jane", "email": "j@example.com"}),
            "start_time",
        ),
        (
            json!({"app_code": code, "start_time": starts[0], "name": "Jane", "email": "j@example.com", "attendee_count": 0}),
            "attendee_count",
        ),
    ] {
        let e = expect_error(
            app.post_json("/appointments/book", &body)
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["details"], field, "{e}");
    }
}

#[tokio::test]
async fn a_full_slot_is_409_and_unknown_appointment_404() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(&app, json!({"type": "group", "max_attendees": 3})).await;
    let res = app
        .post_json(
            "/appointments/book",
            &json!({"app_code": code, "start_time": starts[0], "name": "A", "email": "a@example.com", "attendee_count": 2}),
        )
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::CREATED).await;
    let res = app
        .post_json(
            "/appointments/book",
            &json!({"app_code": code, "start_time": starts[0], "name": "B", "email": "b@example.com", "attendee_count": 2}),
        )
        .send()
        .await
        .unwrap();
    let e = expect_error(res, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "slot_full");
    let slots = app.slots(&code, "").await;
    assert_eq!(slots["items"][0]["seats_left"], 1);
    expect_error(
        app.book_guest("AP-ZZZZZZZZZZZZ", &starts[0], "c@example.com")
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn reschedule_moves_the_booking_and_refuses_a_full_slot() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(&app, json!({})).await;
    let b = expect_json(
        app.book_guest(&code, &starts[0], "a@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let other = expect_json(
        app.book_guest(&code, &starts[2], "b@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let bk = b["booking_code"].as_str().unwrap();
    let moved = expect_json(
        app.client
            .put(app.url(&format!("/bookings/{bk}")))
            .json(&json!({"app_code": code, "start_time": starts[1]}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["start_time"], starts[1]);
    assert_eq!(moved["booking_code"], bk);
    let e = expect_error(
        app.client
            .put(app.url(&format!("/bookings/{bk}")))
            .json(&json!({"start_time": other["start_time"]}))
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "slot_full");
    expect_error(
        app.client
            .put(app.url("/bookings/BK-ZZZZZZZZZZZZ"))
            .json(&json!({"start_time": starts[0]}))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn cancel_frees_the_seat_and_twice_is_409() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(&app, json!({})).await;
    let b = expect_json(
        app.book_guest(&code, &starts[0], "a@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let bk = b["booking_code"].as_str().unwrap();
    assert_eq!(app.slots(&code, "").await["total"], 2);
    let c = expect_json(
        app.client
            .delete(app.url(&format!("/bookings/{bk}")))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(c["status"], "cancelled");
    assert_eq!(app.slots(&code, "").await["total"], 3);
    let e = expect_error(
        app.client
            .delete(app.url(&format!("/bookings/{bk}")))
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "invalid_transition");
    expect_error(
        app.client
            .delete(app.url("/bookings/BK-ZZZZZZZZZZZZ"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        app.get("/bookings/not-a-code").send().await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn only_the_owner_rejects_and_never_a_cancelled_booking() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (owner, code, starts) = setup(&app, json!({})).await;
    let stranger = app.user("stranger").await;
    let b1 = expect_json(
        app.book_guest(&code, &starts[0], "a@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let b2 = expect_json(
        app.book_guest(&code, &starts[1], "b@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let bk1 = b1["booking_code"].as_str().unwrap();
    let bk2 = b2["booking_code"].as_str().unwrap();
    expect_error(
        app.client
            .post(app.url(&format!("/bookings/{bk1}/reject")))
            .bearer_auth(&stranger.token)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let r = expect_json(
        app.client
            .post(app.url(&format!("/bookings/{bk1}/reject")))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["status"], "rejected");
    app.client
        .delete(app.url(&format!("/bookings/{bk2}")))
        .send()
        .await
        .unwrap();
    expect_error(
        app.client
            .post(app.url(&format!("/bookings/{bk2}/reject")))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    expect_error(
        app.client
            .post(app.url("/bookings/BK-ZZZZZZZZZZZZ/reject"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn registered_booking_takes_the_profile_and_is_listed() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(&app, json!({})).await;
    let me = app.user("me").await;
    let b = expect_json(
        app.post_json(
            "/appointments/book/registered",
            &json!({"app_code": code, "start_time": starts[0], "name": "Ignored", "email": "ignored@example.com"}),
        )
        .bearer_auth(&me.token)
        .send()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["email"], me.email.as_str());
    assert_eq!(b["name"], "me");
    assert_eq!(b["user_id"], me.id.as_str());
    let mine = expect_json(
        app.get("/appointments/registered")
            .bearer_auth(&me.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["booking_code"], b["booking_code"]);
}

#[tokio::test]
async fn standard_anti_scalping_refuses_a_second_booking_per_email() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(
        &app,
        json!({"type": "group", "max_attendees": 10, "anti_scalping_level": "standard"}),
    )
    .await;
    expect_json(
        app.book_guest(&code, &starts[0], "a@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let e = expect_error(
        app.book_guest(&code, &starts[1], "A@Example.com").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "duplicate");
}

#[tokio::test]
async fn strict_anti_scalping_needs_a_registered_user_with_a_verified_device_once() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(
        &app,
        json!({"type": "group", "max_attendees": 10, "anti_scalping_level": "strict"}),
    )
    .await;
    // A guest: registration required.
    let e = expect_error(
        app.book_guest(&code, &starts[0], "a@example.com").await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(e["code"], "registration_required");
    let ann = app.user("ann").await;
    let bo = app.user("bo").await;
    let registered = |user: &TestUser, start: &str| {
        app.post_json(
            "/appointments/book/registered",
            &json!({"app_code": code, "start_time": start}),
        )
        .bearer_auth(&user.token)
    };
    // A registered user without a device token.
    let e = expect_error(
        registered(&ann, &starts[0]).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "device_token");
    let token_of = |user: &TestUser, device: &str| {
        let req = app
            .post_json("/auth/device-token", &json!({"device_id": device}))
            .bearer_auth(&user.token);
        async move {
            expect_json(req.send().await.unwrap(), StatusCode::OK).await["device_token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let ann_phone = token_of(&ann, "phone-1").await;
    let ok = registered(&ann, &starts[0])
        .header("x-device-token", &ann_phone)
        .send()
        .await
        .unwrap();
    expect_json(ok, StatusCode::CREATED).await;
    // Ann again, from another device: one booking per user.
    let ann_tablet = token_of(&ann, "tablet-1").await;
    let e = expect_error(
        registered(&ann, &starts[1])
            .header("x-device-token", &ann_tablet)
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["details"], "email");
    // Bo cannot use Ann's device token.
    let e = expect_error(
        registered(&bo, &starts[1])
            .header("x-device-token", &ann_tablet)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(e["details"], "device_token");
    // Bo on the same device as Ann (its id written differently): one booking per device.
    let bo_on_anns_phone = token_of(&bo, "  PHONE-1 ").await;
    let mut body = json!({"app_code": code, "start_time": starts[1]});
    body["device_token"] = json!(bo_on_anns_phone);
    let e = expect_error(
        app.post_json("/appointments/book/registered", &body)
            .bearer_auth(&bo.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["details"], "device_token");
    // A guest with a device token is told to book as its user.
    let e = expect_error(
        app.post_json(
            "/appointments/book",
            &json!({"app_code": code, "start_time": starts[1], "name": "Bo", "email": bo.email}),
        )
        .header("x-device-token", &bo_on_anns_phone)
        .send()
        .await
        .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(e["details"], "device_token");
    // A forged device token: 401.
    let res = registered(&bo, &starts[1])
        .header("x-device-token", "not.a.token")
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn ban_list_round_trip_and_banned_guests_are_403() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (owner, code, starts) = setup(&app, json!({})).await;
    let entry = expect_json(
        app.post_json("/ban-list", &json!({"email": "Banned@Example.com"}))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(entry["banned_email"], "banned@example.com");
    assert_eq!(entry["user_id"], owner.id.as_str());
    expect_error(
        app.post_json("/ban-list", &json!({"email": "banned@example.com"}))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    let list = expect_json(
        app.get("/ban-list")
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let e = expect_error(
        app.book_guest(&code, &starts[0], "banned@example.com")
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(e["code"], "banned");
    let m = expect_json(
        app.client
            .delete(app.url("/ban-list"))
            .json(&json!({"email": "banned@example.com"}))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(m["message"].is_string());
    expect_json(
        app.book_guest(&code, &starts[0], "banned@example.com")
            .await,
        StatusCode::CREATED,
    )
    .await;
    expect_error(
        app.client
            .delete(app.url("/ban-list"))
            .json(&json!({"email": "banned@example.com"}))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_error(
        app.post_json("/ban-list", &json!({"email": "nope"}))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn a_bookings_date_is_the_slots_date_in_the_appointments_zone() {
    let Some(app) = spawn_app().await else {
        return;
    };
    // 09:00 in Auckland is the evening before in UTC (UTC+12 or +13). The day after tomorrow,
    // because tomorrow's morning in Auckland has already passed during the UTC evening.
    let day = tomorrow() + chrono::Duration::days(1);
    let (owner, code, starts) = setup(
        &app,
        json!({
            "timezone": "Pacific/Auckland",
            "start_date": format!("{day}T00:00:00Z"),
            "end_date": format!("{day}T00:00:00Z"),
        }),
    )
    .await;
    let slots = app.slots(&code, "").await;
    let slot_date = slots["items"][0]["date"].clone();
    assert_eq!(slot_date, format!("{day}T00:00:00Z"));
    assert!(
        !starts[0].starts_with(&day.to_string()),
        "the UTC start is the day before"
    );
    let b = expect_json(
        app.book_guest(&code, &starts[0], "a@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(b["date"], slot_date);
    let bk = b["booking_code"].as_str().unwrap();
    let got = expect_json(
        app.get(&format!("/bookings/{bk}")).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["date"], slot_date);
    let list = expect_json(
        app.get(&format!("/appointments/users/{code}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["items"][0]["date"], slot_date);
    // The original's request shape with the local date is accepted.
    let res = app
        .post_json(
            "/appointments/book",
            &json!({"app_code": code, "start_time": starts[1], "date": slot_date, "name": "B", "email": "b@example.com"}),
        )
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::CREATED).await;
}
