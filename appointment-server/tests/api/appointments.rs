use appointment_core::chrono_tz::Tz;
use chrono::{Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{expect_error, expect_json, setup, spawn_app, tomorrow};

#[tokio::test]
async fn create_appointment_returns_201_with_the_originals_fields() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app.appointment(&owner, 3, json!({})).await;
    assert!(a["app_code"].as_str().unwrap().starts_with("AP-"));
    assert_eq!(a["type"], "single");
    assert_eq!(a["max_attendees"], 1);
    assert_eq!(a["booking_duration"], 60);
    assert_eq!(a["timezone"], "UTC");
    assert_eq!(a["anti_scalping_level"], "none");
    assert_eq!(a["owner_id"], owner.id.as_str());
    assert_eq!(a["start_time"], format!("{}T09:00:00Z", tomorrow()));
    assert_eq!(a["start_date"], format!("{}T00:00:00Z", tomorrow()));
}

#[tokio::test]
async fn invalid_appointments_are_400_with_the_field() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let d = tomorrow();
    let base = json!({
        "title": "X", "start_time": format!("{d}T09:00:00Z"), "end_time": format!("{d}T12:00:00Z"),
        "start_date": d.to_string(), "end_date": d.to_string(), "booking_duration": 60, "type": "single"
    });
    for (patch, field) in [
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (json!({"type": "rave"}), "type"),
        (json!({"end_time": format!("{d}T08:00:00Z")}), "end_time"),
        (json!({"start_date": "yesterday-ish"}), "start_date"),
        (json!({"weekdays": ["funday"]}), "weekdays"),
        (json!({"type": "group"}), "max_attendees"),
        (
            json!({"anti_scalping_level": "paranoid"}),
            "anti_scalping_level",
        ),
        (json!({"booking_duration": 0}), "booking_duration"),
        // Dates a booking system has no use for, which once overflowed the slot engine or the
        // database: refused before anything is stored.
        (
            json!({"start_date": "+262142-12-30", "end_date": "+262142-12-30", "timezone": "Etc/GMT+12"}),
            "start_date",
        ),
        (json!({"start_date": "-4713-01-01"}), "start_date"),
        (json!({"end_date": "2200-01-01"}), "end_date"),
        (
            json!({"start_date": "2020-01-01", "end_date": "2020-01-31"}),
            "end_date",
        ),
    ] {
        let mut body = base.clone();
        for (k, v) in patch.as_object().unwrap() {
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

#[tokio::test]
async fn the_window_is_wall_clock_time_in_the_appointments_zone() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app
        .appointment(&owner, 1, json!({"timezone": "Europe/Berlin"}))
        .await;
    let slots = app.slots(a["app_code"].as_str().unwrap(), "").await;
    let tz: Tz = "Europe/Berlin".parse().unwrap();
    let expected = tz
        .from_local_datetime(&tomorrow().and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap()))
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(
        slots["items"][0]["start_time"],
        expected.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(slots["total"], 3);
}

#[tokio::test]
async fn weekdays_limit_the_dates_with_slots() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app
        .appointment(&owner, 14, json!({"weekdays": ["mon"]}))
        .await;
    let slots = app
        .slots(a["app_code"].as_str().unwrap(), "?per_page=100")
        .await;
    assert_eq!(slots["total"], 6, "two Mondays in 14 days, 3 slots each");
    for s in slots["items"].as_array().unwrap() {
        let start =
            chrono::DateTime::parse_from_rfc3339(s["start_time"].as_str().unwrap()).unwrap();
        assert_eq!(start.weekday(), Weekday::Mon);
    }
}

#[tokio::test]
async fn buffer_and_notice_shape_the_slots() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    // 09:00-12:00, 50-minute slots with a 10-minute buffer: 09:00, 10:00, 11:00.
    let a = app
        .appointment(
            &owner,
            1,
            json!({"booking_duration": 50, "buffer_minutes": 10}),
        )
        .await;
    let slots = app.slots(a["app_code"].as_str().unwrap(), "").await;
    assert_eq!(slots["total"], 3);
    assert_eq!(
        slots["items"][1]["start_time"],
        format!("{}T10:00:00Z", tomorrow())
    );
    assert_eq!(
        slots["items"][0]["end_time"],
        format!("{}T09:50:00Z", tomorrow())
    );
    // A notice longer than the time to the last slot leaves nothing bookable.
    let b = app
        .appointment(&owner, 1, json!({"min_notice_minutes": 3 * 24 * 60}))
        .await;
    assert_eq!(
        app.slots(b["app_code"].as_str().unwrap(), "").await["total"],
        0
    );
}

#[tokio::test]
async fn my_appointments_are_paginated() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let other = app.user("other").await;
    for _ in 0..3 {
        app.appointment(&owner, 1, json!({})).await;
    }
    app.appointment(&other, 1, json!({})).await;
    let p1 = expect_json(
        app.get("/appointments/my?page=1&per_page=2")
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(p1["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        (p1["page"].clone(), p1["per_page"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(
        (p1["total"].clone(), p1["total_pages"].clone()),
        (json!(3), json!(2))
    );
    let p2 = expect_json(
        app.get("/appointments/my?page=2&per_page=2")
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(p2["items"].as_array().unwrap().len(), 1);
    for q in ["?per_page=101", "?page=0", "?page=abc"] {
        expect_error(
            app.get(&format!("/appointments/my{q}"))
                .bearer_auth(&owner.token)
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let d = expect_json(
        app.get("/appointments/my")
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["per_page"], 20);
}

#[tokio::test]
async fn slots_are_paginated_and_listed_by_day() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app
        .appointment(&owner, 3, json!({"type": "group", "max_attendees": 5}))
        .await;
    let code = a["app_code"].as_str().unwrap();
    let p = app.slots(code, "?per_page=4&page=3").await;
    assert_eq!(p["total"], 9);
    assert_eq!(p["total_pages"], 3);
    assert_eq!(p["items"].as_array().unwrap().len(), 1);
    let item = &p["items"][0];
    for f in [
        "date",
        "start_time",
        "end_time",
        "available",
        "capacity",
        "seats_left",
    ] {
        assert!(!item[f].is_null(), "slot item lacks {f}: {item}");
    }
    assert_eq!(item["capacity"], 5);
    assert_eq!(item["seats_left"], 5);
    assert_eq!(item["available"], true);
    let day = tomorrow() + Duration::days(1);
    let by_day = app.slots(code, &format!("/by-day?date={day}")).await;
    assert_eq!(by_day["total"], 3);
    for s in by_day["items"].as_array().unwrap() {
        assert!(
            s["start_time"]
                .as_str()
                .unwrap()
                .starts_with(&day.to_string())
        );
    }
    expect_error(
        app.get(&format!("/appointments/slots/{code}/by-day"))
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        app.get(&format!(
            "/appointments/slots/{code}/by-day?date=31-12-2025"
        ))
        .send()
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn unknown_codes_are_404_and_malformed_ones_400() {
    let Some(app) = spawn_app().await else {
        return;
    };
    expect_error(
        app.get("/appointments/slots/AP-ZZZZZZZZZZZZ")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let e = expect_error(
        app.get("/appointments/slots/not-a-code")
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "app_code");
}

#[tokio::test]
async fn only_the_owner_lists_an_appointments_bookings() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let other = app.user("other").await;
    let a = app.appointment(&owner, 1, json!({})).await;
    let code = a["app_code"].as_str().unwrap();
    let slot = app.slots(code, "").await["items"][0]["start_time"].clone();
    let res = app
        .book_guest(code, slot.as_str().unwrap(), "jane@example.com")
        .await;
    expect_json(res, StatusCode::CREATED).await;
    let e = expect_error(
        app.get(&format!("/appointments/users/{code}"))
            .bearer_auth(&other.token)
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(e["code"], "forbidden");
    let list: Value = expect_json(
        app.get(&format!("/appointments/users/{code}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["email"], "jane@example.com");
    expect_error(
        app.get("/appointments/users/AP-ZZZZZZZZZZZZ")
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn analytics_counts_the_owners_figures() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app.appointment(&owner, 1, json!({})).await;
    let code = a["app_code"].as_str().unwrap();
    let slots = app.slots(code, "").await;
    for (i, s) in slots["items"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .enumerate()
    {
        let res = app
            .book_guest(
                code,
                s["start_time"].as_str().unwrap(),
                &format!("g{i}@example.com"),
            )
            .await;
        expect_json(res, StatusCode::CREATED).await;
    }
    let today = Utc::now().date_naive();
    let end = today + Duration::days(7);
    let body = expect_json(
        app.get(&format!("/analytics?start_date={today}&end_date={end}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["total_appointments"], 1);
    assert_eq!(body["total_bookings"], 2);
    assert_eq!(body["seats_offered"], 3);
    assert_eq!(body["start_date"], today.to_string());
    expect_error(
        app.get("/analytics?start_date=2025-01-01")
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        app.get("/analytics?start_date=2025-02-01&end_date=2025-01-01")
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn a_party_is_one_event_with_a_shared_capacity() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app
        .appointment(&owner, 3, json!({"type": "party", "max_attendees": 100}))
        .await;
    assert_eq!(a["type"], "party");
    let code = a["app_code"].as_str().unwrap();
    let slots = app.slots(code, "").await;
    assert_eq!(slots["total"], 1, "a party has one event: {slots}");
    let event = &slots["items"][0];
    assert_eq!(event["start_time"], format!("{}T09:00:00Z", tomorrow()));
    assert_eq!(event["end_time"], format!("{}T12:00:00Z", tomorrow()));
    let res = app
        .post_json(
            "/appointments/book",
            &json!({"app_code": code, "start_time": event["start_time"], "name": "Crew",
                    "email": "crew@example.com", "attendee_count": 3}),
        )
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::CREATED).await;
    let slots = app.slots(code, "").await;
    assert_eq!(slots["items"][0]["seats_left"], 97);
}

#[tokio::test]
async fn slots_in_the_past_are_never_listed() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let yesterday = Utc::now().date_naive() - Duration::days(1);
    let tomorrow = Utc::now().date_naive() + Duration::days(1);
    let res = app
        .post_json(
            "/appointments",
            &json!({"title": "All day", "start_time": "00:00", "end_time": "23:00",
                    "start_date": yesterday.to_string(), "end_date": tomorrow.to_string(),
                    "booking_duration": 60, "type": "single"}),
        )
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    let a = expect_json(res, StatusCode::CREATED).await;
    let slots = app
        .slots(a["app_code"].as_str().unwrap(), "?per_page=100")
        .await;
    let now = Utc::now();
    let items = slots["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for s in items {
        let start =
            chrono::DateTime::parse_from_rfc3339(s["start_time"].as_str().unwrap()).unwrap();
        assert!(start > now, "a past slot was listed: {s}");
    }
    // Booking a past slot is refused.
    let past = format!("{yesterday}T10:00:00Z");
    let e = expect_error(
        app.book_guest(a["app_code"].as_str().unwrap(), &past, "late@example.com")
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "start_time");
}

#[tokio::test]
async fn weekly_hours_overrides_and_closures_shape_the_slots() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    // Two weeks from the next Monday.
    let mut monday = tomorrow();
    while monday.weekday() != Weekday::Mon {
        monday += Duration::days(1);
    }
    let sunday = monday + Duration::days(13);
    let tuesday = monday + Duration::days(1);
    let wednesday = monday + Duration::days(2);
    let body = json!({
        "title": "Barber", "type": "single", "booking_duration": 30,
        "start_date": monday.to_string(), "end_date": sunday.to_string(),
        "timezone": "Europe/Berlin",
        "weekly_hours": {
            "mon": ["09:00-12:00", "13:00-17:30"], "tue": ["09:00-12:00", "13:00-17:30"],
            "wed": ["09:00-12:00", "13:00-17:30"], "thu": ["09:00-12:00", "13:00-17:30"],
            "fri": ["09:00-12:00", "13:00-17:30"], "sat": ["10:00-14:00"]
        },
        "overrides": [{"date": tuesday.to_string(), "hours": ["09:00-10:00"]}],
        "closures": [{"from": wednesday.to_string(), "to": wednesday.to_string(), "label": "Training"}]
    });
    let a = expect_json(
        app.post_json("/appointments", &body)
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        a["weekly_hours"]["mon"],
        json!(["09:00-12:00", "13:00-17:30"])
    );
    assert_eq!(a["weekly_hours"]["sun"], json!([]));
    assert_eq!(a["overrides"][0]["hours"], json!(["09:00-10:00"]));
    assert_eq!(a["closures"][0]["label"], "Training");
    assert_eq!(
        a["weekdays"],
        json!(["mon", "tue", "wed", "thu", "fri", "sat"])
    );
    let code = a["app_code"].as_str().unwrap();
    // Read back as stored.
    let mine = expect_json(
        app.get("/appointments/my")
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let again = &mine["items"][0];
    assert_eq!(again["weekly_hours"], a["weekly_hours"]);
    assert_eq!(again["closures"], a["closures"]);
    let app = &app;
    let day = |d: chrono::NaiveDate| async move {
        expect_json(
            app.get(&format!(
                "/appointments/slots/{code}/by-day?date={d}&per_page=100"
            ))
            .send()
            .await
            .unwrap(),
            StatusCode::OK,
        )
        .await
    };
    let mon = day(monday).await;
    assert_eq!(mon["total"], 6 + 9);
    let tz: Tz = "Europe/Berlin".parse().unwrap();
    let local = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap())
            .unwrap()
            .with_timezone(&tz)
            .format("%H:%M")
            .to_string()
    };
    let starts: Vec<String> = mon["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| local(&s["start_time"]))
        .collect();
    assert!(
        !starts.contains(&"12:00".to_owned()),
        "lunch is never booked: {starts:?}"
    );
    assert_eq!(starts[6], "13:00");
    assert_eq!(day(tuesday).await["total"], 2);
    assert_eq!(day(wednesday).await["total"], 0);
    assert_eq!(day(sunday).await["total"], 0);
    // Two weeks: 10 weekdays of 15 slots and 2 Saturdays of 8, less Tuesday's 13 and
    // Wednesday's 15.
    assert_eq!(
        app.slots(code, "").await["total"],
        10 * 15 + 2 * 8 - 13 - 15
    );

    // Bad hours are a 400 naming the field, and nothing is created.
    for (patch, field) in [
        (
            json!({"weekly_hours": {"mon": ["12:00-09:00"]}}),
            "weekly_hours",
        ),
        (
            json!({"weekly_hours": {"mon": ["09:00-12:00", "11:00-13:00"]}}),
            "weekly_hours",
        ),
        (
            json!({"weekly_hours": {"mon": ["09:00-09:10"]}}),
            "weekly_hours",
        ),
        (
            json!({"overrides": [{"date": "soon", "hours": []}]}),
            "overrides",
        ),
        (
            json!({"closures": [{"from": sunday.to_string(), "to": monday.to_string()}]}),
            "closures",
        ),
        (
            json!({"start_time": "09:00", "end_time": "10:00"}),
            "weekly_hours",
        ),
    ] {
        let mut b = body.clone();
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        let e = expect_error(
            app.post_json("/appointments", &b)
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

#[tokio::test]
async fn appointments_carry_attendees_booked_like_the_original() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app
        .appointment(&owner, 2, json!({"type": "group", "max_attendees": 5}))
        .await;
    assert_eq!(a["attendees_booked"], 0);
    let code = a["app_code"].as_str().unwrap();
    let slots = app.slots(code, "").await;
    let (first, second) = (
        slots["items"][0]["start_time"].as_str().unwrap().to_owned(),
        slots["items"][4]["start_time"].as_str().unwrap().to_owned(),
    );
    for (start, mail) in [
        (&first, "a@example.com"),
        (&first, "b@example.com"),
        (&second, "c@example.com"),
    ] {
        expect_json(app.book_guest(code, start, mail).await, StatusCode::CREATED).await;
    }
    let cancelled = expect_json(
        app.book_guest(code, &second, "d@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    expect_json(
        app.client
            .delete(app.url(&format!(
                "/bookings/{}",
                cancelled["booking_code"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let mine = expect_json(
        app.get("/appointments/my")
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        mine["items"][0]["attendees_booked"], 3,
        "a cancelled booking holds no seat"
    );
}

#[tokio::test]
async fn the_owner_edits_closes_reopens_and_deletes() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let other = app.user("other").await;
    // Tomorrow and the day after, 09:00-12:00 UTC, three slots a day.
    let a = app.appointment(&owner, 2, json!({})).await;
    let code = a["app_code"].as_str().unwrap().to_owned();
    let d = tomorrow();
    let eleven = format!("{d}T11:00:00Z");
    expect_json(
        app.book_guest(&code, &eleven, "late@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let patch = |who: &crate::helpers::TestUser, body: Value| {
        app.client
            .patch(app.url(&format!("/appointments/{code}")))
            .bearer_auth(&who.token)
            .json(&body)
            .send()
    };
    let mornings = json!({"title": "Mornings", "weekly_hours": {
        "mon": ["09:00-11:00"], "tue": ["09:00-11:00"], "wed": ["09:00-11:00"], "thu": ["09:00-11:00"],
        "fri": ["09:00-11:00"], "sat": ["09:00-11:00"], "sun": ["09:00-11:00"]}});
    expect_error(
        patch(&other, mornings.clone()).await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let edited = expect_json(patch(&owner, mornings).await.unwrap(), StatusCode::OK).await;
    assert_eq!(edited["bookings_outside_hours"], 1, "{edited}");
    assert_eq!(edited["appointment"]["title"], "Mornings");
    assert_eq!(edited["appointment"]["attendees_booked"], 1);
    assert_ne!(
        edited["appointment"]["updated_at"],
        edited["appointment"]["created_at"]
    );
    assert_eq!(app.slots(&code, "").await["total"], 4);
    for (body, field) in [
        (
            json!({"weekly_hours": {"mon": ["11:00-10:00"]}}),
            "weekly_hours",
        ),
        (
            json!({"overrides": [{"date": "2199-01-01", "hours": []}]}),
            "overrides",
        ),
        (json!({"title": ""}), "title"),
    ] {
        let e = expect_error(patch(&owner, body).await.unwrap(), StatusCode::BAD_REQUEST).await;
        assert_eq!(e["details"], field, "{e}");
    }
    expect_error(
        patch(&owner, json!({"capacity": 3})).await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let post = |path: &str| {
        app.client
            .post(app.url(&format!("/appointments/{code}/{path}")))
            .bearer_auth(&owner.token)
            .send()
    };
    let closed = expect_json(post("close").await.unwrap(), StatusCode::OK).await;
    assert_eq!(closed["appointment"]["status"], "closed");
    assert_eq!(app.slots(&code, "").await["total"], 0);
    expect_error(
        app.book_guest(&code, &format!("{d}T09:00:00Z"), "x@example.com")
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_json(post("reopen").await.unwrap(), StatusCode::OK).await;
    assert_eq!(app.slots(&code, "").await["total"], 4);
    let delete = |who: &crate::helpers::TestUser| {
        app.client
            .delete(app.url(&format!("/appointments/{code}")))
            .bearer_auth(&who.token)
            .send()
    };
    expect_error(delete(&other).await.unwrap(), StatusCode::FORBIDDEN).await;
    assert_eq!(
        delete(&owner).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    expect_error(delete(&owner).await.unwrap(), StatusCode::NOT_FOUND).await;
    expect_error(
        app.get(&format!("/appointments/slots/{code}"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let mine = expect_json(
        app.get("/appointments/my")
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine["total"], 0);
}

#[tokio::test]
async fn a_barbers_week_across_a_holiday_and_a_dst_switch_lists_right_by_window() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    // Berlin springs forward on Sunday 28 March 2027; Friday 26 March is a holiday.
    let week: Vec<String> = vec!["09:00-12:00".into(), "13:00-17:30".into()];
    let body = json!({
        "title": "Barber", "type": "single", "booking_duration": 30, "timezone": "Europe/Berlin",
        "start_date": "2027-03-01", "end_date": "2027-04-30",
        "weekly_hours": {"mon": week, "tue": week, "wed": week, "thu": week, "fri": week,
                         "sat": ["10:00-14:00"]},
        "closures": [{"from": "2027-03-26", "to": "2027-03-26", "label": "Holiday"}]
    });
    let a = expect_json(
        app.post_json("/appointments", &body)
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let code = a["app_code"].as_str().unwrap();
    let app = &app;
    let window = |from: &str, to: &str, page: u32| {
        let url =
            format!("/appointments/slots/{code}?from={from}&to={to}&per_page=100&page={page}");
        async move { expect_json(app.get(&url).send().await.unwrap(), StatusCode::OK).await }
    };
    // Monday 22 to Monday 29 March: four working days of 15 slots (Friday closed), a Saturday
    // of 8, and Monday 29 on summer time.
    let w = window("2027-03-22", "2027-03-30", 1).await;
    assert_eq!(w["total"], 4 * 15 + 8 + 15, "{w}");
    let starts: Vec<&str> = w["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start_time"].as_str().unwrap())
        .collect();
    assert_eq!(starts[0], "2027-03-22T08:00:00Z", "09:00 CET");
    assert!(
        !starts.iter().any(|s| s.starts_with("2027-03-26")),
        "the holiday"
    );
    assert!(
        starts.contains(&"2027-03-29T07:00:00Z"),
        "09:00 CEST on the Monday after"
    );
    assert!(
        !starts.contains(&"2027-03-22T11:00:00Z"),
        "12:00 CET is lunch"
    );
    // Pages of a window add up to the window.
    let mut paged = 0;
    for page in 1..=4 {
        let p = app
            .get(&format!("/appointments/slots/{code}?from=2027-03-22T00:00:00Z&to=2027-03-30T00:00:00Z&per_page=25&page={page}"))
            .send()
            .await
            .unwrap();
        paged += expect_json(p, StatusCode::OK).await["items"]
            .as_array()
            .unwrap()
            .len();
    }
    assert_eq!(paged, 83);
    // Windows are bounded and well-formed.
    for (q, field) in [
        ("from=2027-03-22", "to"),
        ("to=2027-03-22", "from"),
        ("from=2027-03-22&to=2027-03-21", "to"),
        ("from=2027-01-01&to=2027-06-01", "to"),
        ("from=soon&to=2027-03-22", "from"),
    ] {
        let e = expect_error(
            app.get(&format!("/appointments/slots/{code}?{q}"))
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(e["details"], field, "{q}: {e}");
    }
}

/// A barber's haircuts (60 minutes) and beard trims (30 minutes) share one chair: a haircut at
/// 10:00 takes the trims at 10:00 and 10:30 off the listing and refuses them with 409; the
/// answers name the resource; a bad name is a 400 naming the field; a PATCH that removes the
/// resource frees the trims.
#[tokio::test]
async fn appointments_on_one_chair_never_overlap() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("barber").await;
    let haircut = app
        .appointment(
            &owner,
            1,
            json!({"title": "Haircut", "resource": "Chair 1"}),
        )
        .await;
    assert_eq!(haircut["resource"], "Chair 1");
    let trim = app
        .appointment(
            &owner,
            1,
            json!({"title": "Beard trim", "booking_duration": 30, "resource": "chair 1"}),
        )
        .await;
    let plain = app.appointment(&owner, 1, json!({})).await;
    assert!(plain.get("resource").is_none(), "{plain}");
    let (haircut, trim) = (
        haircut["app_code"].as_str().unwrap().to_owned(),
        trim["app_code"].as_str().unwrap().to_owned(),
    );
    let d = tomorrow();
    expect_json(
        app.book_guest(&haircut, &format!("{d}T10:00:00Z"), "ana@example.com")
            .await,
        StatusCode::CREATED,
    )
    .await;
    let starts = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["start_time"].as_str().unwrap()[11..16].to_owned())
            .collect()
    };
    let listed = app.slots(&trim, "").await;
    assert_eq!(starts(&listed), ["09:00", "09:30", "11:00", "11:30"]);
    assert_eq!(listed["total"], 4);
    let e = expect_error(
        app.book_guest(&trim, &format!("{d}T10:30:00Z"), "bo@example.com")
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(e["code"], "slot_full", "{e}");
    let long = "x".repeat(101);
    let e = expect_error(
        app.post_json(
            "/appointments",
            &json!({"title": "T", "start_time": format!("{d}T09:00:00Z"),
                "end_time": format!("{d}T12:00:00Z"), "start_date": format!("{d}T00:00:00Z"),
                "end_date": format!("{d}T00:00:00Z"), "booking_duration": 60, "type": "single",
                "resource": long}),
        )
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "resource", "{e}");
    let edited = expect_json(
        app.client
            .patch(app.url(&format!("/appointments/{trim}")))
            .bearer_auth(&owner.token)
            .json(&json!({"resource": null}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(edited["appointment"].get("resource").is_none(), "{edited}");
    assert_eq!(app.slots(&trim, "").await["total"], 6);
    expect_json(
        app.book_guest(&trim, &format!("{d}T10:30:00Z"), "bo@example.com")
            .await,
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn if_match_applies_an_edit_only_to_the_revision_it_names() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let a = app.appointment(&owner, 1, json!({})).await;
    assert_eq!(a["revision"], 0);
    let code = a["app_code"].as_str().unwrap();
    let patch = |title: &str, tag: Option<&str>| {
        let mut req = app
            .client
            .patch(app.url(&format!("/appointments/{code}")))
            .bearer_auth(&owner.token)
            .json(&json!({"title": title}));
        if let Some(t) = tag {
            req = req.header("If-Match", t);
        }
        req.send()
    };
    let first = expect_json(patch("First", Some("\"0\"")).await.unwrap(), StatusCode::OK).await;
    assert_eq!(first["appointment"]["revision"], 1);
    assert_eq!(first["appointment"]["title"], "First");
    // A second tab that still shows revision 0 is refused and changes nothing.
    let e = expect_error(
        patch("Stale", Some("W/\"0\"")).await.unwrap(),
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(e["code"], "changed");
    let e = expect_error(
        patch("Bad", Some("yesterday")).await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["details"], "If-Match");
    let closed = expect_json(
        app.client
            .post(app.url(&format!("/appointments/{code}/close")))
            .bearer_auth(&owner.token)
            .header("If-Match", "1")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(closed["appointment"]["revision"], 2);
    assert_eq!(closed["appointment"]["title"], "First");
    assert_eq!(closed["appointment"]["status"], "closed");
    // Without If-Match an edit applies to whatever is current.
    let last = expect_json(patch("Last", None).await.unwrap(), StatusCode::OK).await;
    assert_eq!(last["appointment"]["revision"], 3);
}

#[tokio::test]
async fn the_public_view_of_an_appointment_has_what_a_booking_page_shows() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_owner, code, _starts) = setup(
        &app,
        json!({"type": "group", "max_attendees": 4, "timezone": "Europe/Paris",
               "cancel_cutoff_minutes": 120}),
    )
    .await;
    let view = expect_json(
        app.get(&format!("/appointments/{code}/public"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(view["app_code"], code.as_str());
    assert_eq!(view["title"], "Consultation Session");
    assert_eq!(view["description"], "Professional consultation");
    assert_eq!(view["type"], "group");
    assert_eq!(view["max_attendees"], 4);
    assert_eq!(view["booking_duration"], 60);
    assert_eq!(view["timezone"], "Europe/Paris");
    assert_eq!(view["cancel_cutoff_minutes"], 120);
    assert_eq!(view["confirm_within_minutes"], Value::Null);
    assert_eq!(view["status"], "active");
    // The owner's settings and identity are not public.
    for private in [
        "owner_id",
        "id",
        "weekly_hours",
        "revision",
        "attendees_booked",
    ] {
        assert!(view.get(private).is_none(), "{private} is public");
    }
    let res = app
        .get("/appointments/AP-ZZZZZZZZZZZZ/public")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_error(res, StatusCode::NOT_FOUND).await["code"],
        "not_found"
    );
    let res = app.get("/appointments/nope/public").send().await.unwrap();
    expect_error(res, StatusCode::BAD_REQUEST).await;
}
