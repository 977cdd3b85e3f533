//! Calendars over HTTP: a booking's `.ics` (`GET /bookings/{code}/ics`) and an owner's secret
//! feed (`POST`/`DELETE /calendar-feed`, `GET /calendar-feed/{token}.ics`).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, expect_error, expect_json, setup, spawn_app};

/// The unfolded content lines of a calendar, checking that every line ends with CRLF.
fn lines(ics: &str) -> Vec<String> {
    assert!(ics.ends_with("\r\n"), "{ics}");
    let mut out: Vec<String> = Vec::new();
    for line in ics.trim_end_matches("\r\n").split("\r\n") {
        assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
        match line.strip_prefix(' ') {
            Some(rest) => out.last_mut().expect("a line to continue").push_str(rest),
            None => out.push(line.to_owned()),
        }
    }
    out
}

/// The value of the one `name` property among `lines`.
fn prop<'a>(lines: &'a [String], name: &str) -> &'a str {
    let found: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .collect();
    assert_eq!(found.len(), 1, "{name} in {lines:?}");
    found[0]
}

/// `2026-03-29T01:00:00Z` as iCalendar writes a UTC instant: `20260329T010000Z`.
fn ical_instant(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&chrono::Utc)
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

async fn ics(app: &TestApp, path: &str) -> Vec<String> {
    let res = app.get(path).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    lines(&res.text().await.unwrap())
}

async fn book(app: &TestApp, app_code: &str, start: &str, email: &str) -> Value {
    expect_json(
        app.book_guest(app_code, start, email).await,
        StatusCode::CREATED,
    )
    .await
}

async fn new_feed(app: &TestApp, owner: &TestUser) -> String {
    let res = app
        .client
        .post(app.url("/calendar-feed"))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    let body = expect_json(res, StatusCode::CREATED).await;
    let path = body["path"].as_str().unwrap().to_owned();
    assert!(
        path.starts_with("/calendar-feed/") && path.ends_with(".ics"),
        "{path}"
    );
    path
}

#[tokio::test]
async fn a_bookings_ics_has_a_stable_uid_its_slot_and_a_sequence_that_rises() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, starts) = setup(&app, json!({"title": "Haircut; wash, dry"})).await;
    let b = book(&app, &code, &starts[0], "a@example.com").await;
    let bk = b["booking_code"].as_str().unwrap();
    let path = format!("/bookings/{bk}/ics");

    let res = app.get(&path).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"booking.ics\""
    );
    let first = lines(&res.text().await.unwrap());
    assert_eq!(first.first().unwrap(), "BEGIN:VCALENDAR");
    assert_eq!(first.last().unwrap(), "END:VCALENDAR");
    assert_eq!(prop(&first, "VERSION"), "2.0");
    assert_eq!(prop(&first, "METHOD"), "PUBLISH");
    assert_eq!(
        first.iter().filter(|l| *l == "BEGIN:VEVENT").count(),
        1,
        "{first:?}"
    );
    let uid = prop(&first, "UID").to_owned();
    assert!(uid.ends_with("@appointment-master"), "{uid}");
    assert!(!uid.contains(bk), "the UID does not reveal the code");
    assert_eq!(prop(&first, "SEQUENCE"), "0");
    assert_eq!(prop(&first, "STATUS"), "CONFIRMED");
    assert_eq!(prop(&first, "SUMMARY"), "Haircut\\; wash\\, dry");
    assert_eq!(prop(&first, "DTSTART"), ical_instant(&starts[0]));
    assert_eq!(prop(&first, "DTEND"), ical_instant(&starts[1]));
    assert!(prop(&first, "DESCRIPTION").contains(bk));

    // Rescheduled: same UID, the new slot, a higher SEQUENCE.
    let res = app
        .client
        .put(app.url(&format!("/bookings/{bk}")))
        .json(&json!({"start_time": starts[1]}))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await;
    let moved = ics(&app, &path).await;
    assert_eq!(prop(&moved, "UID"), uid);
    assert_eq!(prop(&moved, "DTSTART"), ical_instant(&starts[1]));
    assert_eq!(prop(&moved, "DTEND"), ical_instant(&starts[2]));
    let seq = |l: &[String]| prop(l, "SEQUENCE").parse::<u32>().unwrap();
    assert!(seq(&moved) > seq(&first), "{moved:?}");

    // Cancelled: METHOD:CANCEL, STATUS:CANCELLED, the same UID, no lower SEQUENCE.
    let res = app
        .client
        .delete(app.url(&format!("/bookings/{bk}")))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await;
    let cancelled = ics(&app, &path).await;
    assert_eq!(prop(&cancelled, "METHOD"), "CANCEL");
    assert_eq!(prop(&cancelled, "STATUS"), "CANCELLED");
    assert_eq!(prop(&cancelled, "UID"), uid);
    assert!(seq(&cancelled) >= seq(&moved));
}

#[tokio::test]
async fn a_pending_booking_is_tentative_and_a_declined_one_cancelled() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (owner, code, starts) = setup(
        &app,
        json!({"type": "group", "max_attendees": 3, "confirm_within_minutes": 60}),
    )
    .await;
    let b = book(&app, &code, &starts[0], "p@example.com").await;
    assert_eq!(b["status"], "pending");
    let bk = b["booking_code"].as_str().unwrap();
    let path = format!("/bookings/{bk}/ics");
    let pending = ics(&app, &path).await;
    assert_eq!(prop(&pending, "STATUS"), "TENTATIVE");
    assert_eq!(prop(&pending, "METHOD"), "PUBLISH");
    let res = app
        .client
        .post(app.url(&format!("/bookings/{bk}/decline")))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await;
    let declined = ics(&app, &path).await;
    assert_eq!(prop(&declined, "STATUS"), "CANCELLED");
    assert_eq!(prop(&declined, "METHOD"), "CANCEL");
}

#[tokio::test]
async fn an_unknown_or_malformed_booking_has_no_ics() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let res = app
        .get("/bookings/BK-ABCDEFGHJKLM/ics")
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::NOT_FOUND).await;
    let res = app.get("/bookings/nonsense/ics").send().await.unwrap();
    expect_error(res, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn an_owners_feed_shows_their_live_bookings_and_ends_when_rotated_or_revoked() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (owner, code, starts) = setup(&app, json!({"title": "Mine"})).await;
    let (other, other_code, other_starts) = setup(&app, json!({"title": "Theirs"})).await;
    let kept = book(&app, &code, &starts[0], "k@example.com").await;
    let gone = book(&app, &code, &starts[1], "g@example.com").await;
    let gone_code = gone["booking_code"].as_str().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/bookings/{gone_code}")))
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::OK).await;
    book(&app, &other_code, &other_starts[0], "o@example.com").await;

    // Without a token: 401; with one, a path to read without authentication.
    let res = app
        .client
        .post(app.url("/calendar-feed"))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::UNAUTHORIZED).await;
    let path = new_feed(&app, &owner).await;
    let feed = ics(&app, &path).await;
    assert_eq!(prop(&feed, "METHOD"), "PUBLISH");
    assert_eq!(prop(&feed, "X-WR-CALNAME"), "Appointment Master bookings");
    let summaries: Vec<&str> = feed
        .iter()
        .filter_map(|l| l.strip_prefix("SUMMARY:"))
        .collect();
    assert_eq!(summaries, ["Mine"], "{feed:?}");
    assert_eq!(prop(&feed, "DTSTART"), ical_instant(&starts[0]));
    assert_eq!(prop(&feed, "STATUS"), "CONFIRMED");
    let ics_text = feed.join("\n");
    let kept_code = kept["booking_code"].as_str().unwrap();
    assert!(
        !ics_text.contains(kept_code),
        "a feed never shows booking codes"
    );
    // The other owner's feed has only their booking.
    let other_path = new_feed(&app, &other).await;
    let theirs = ics(&app, &other_path).await;
    assert_eq!(prop(&theirs, "SUMMARY"), "Theirs");

    // Rotated: the old path is gone, the new one works.
    let rotated = new_feed(&app, &owner).await;
    assert_ne!(rotated, path);
    let res = app.get(&path).send().await.unwrap();
    expect_error(res, StatusCode::NOT_FOUND).await;
    assert_eq!(prop(&ics(&app, &rotated).await, "SUMMARY"), "Mine");

    // Revoked: 404, and revoking again is 404 too.
    let revoke = || {
        app.client
            .delete(app.url("/calendar-feed"))
            .bearer_auth(&owner.token)
            .send()
    };
    expect_json(revoke().await.unwrap(), StatusCode::OK).await;
    let res = app.get(&rotated).send().await.unwrap();
    expect_error(res, StatusCode::NOT_FOUND).await;
    expect_error(revoke().await.unwrap(), StatusCode::NOT_FOUND).await;
    // The other owner's feed is untouched.
    assert_eq!(prop(&ics(&app, &other_path).await, "SUMMARY"), "Theirs");

    // Wrong tokens: 404.
    for wrong in [
        "/calendar-feed/not-a-token.ics",
        "/calendar-feed/x",
        &other_path.replace(".ics", ""),
    ] {
        let res = app.get(wrong).send().await.unwrap();
        expect_error(res, StatusCode::NOT_FOUND).await;
    }
}
