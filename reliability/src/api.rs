//! Setting things up over the API: users, tokens, appointments, slots.

use std::time::Duration;

use chrono::{Duration as Days, NaiveDate, Utc};
use reqwest::Client;
use serde_json::{Value, json};

/// A client for many concurrent connections to loopback servers.
pub fn client() -> Client {
    Client::builder()
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client")
}

/// A registered user with a session token.
#[derive(Debug, Clone)]
pub struct User {
    /// The user id.
    pub id: String,
    /// The email.
    pub email: String,
    /// A bearer token.
    pub token: String,
}

/// The first date of the test appointments: tomorrow (UTC), so every slot is in the future.
pub fn tomorrow() -> NaiveDate {
    (Utc::now() + Days::days(1)).date_naive()
}

/// Registers a user and logs in.
pub async fn user(client: &Client, base: &str, name: &str) -> User {
    let email = format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple());
    let res = client
        .post(format!("{base}/users"))
        .json(&json!({"name": name, "email": email, "password": "securepass123"}))
        .send()
        .await
        .expect("POST /users");
    assert_eq!(
        res.status().as_u16(),
        201,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let res = client
        .post(format!("{base}/login"))
        .json(&json!({"email": email, "password": "securepass123"}))
        .send()
        .await
        .expect("POST /login");
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.expect("login JSON");
    User {
        id: body["user"]["id"].as_str().expect("user id").to_owned(),
        email,
        token: body["token"].as_str().expect("token").to_owned(),
    }
}

/// Creates an appointment from tomorrow on, `days` days long, window 09:00 to 17:00 UTC, 60-minute
/// slots (8 a day), of `kind` with `capacity` seats (per slot, or of the party), anti-scalping
/// off. Returns its code.
pub async fn appointment(
    client: &Client,
    base: &str,
    owner: &User,
    kind: &str,
    capacity: u32,
    days: i64,
) -> String {
    appointment_with(client, base, owner, kind, capacity, days, json!({})).await
}

/// As [`appointment`], with the fields of `extra` (an object, e.g. `{"hold_minutes": 1}`) added
/// to the request.
pub async fn appointment_with(
    client: &Client,
    base: &str,
    owner: &User,
    kind: &str,
    capacity: u32,
    days: i64,
    extra: Value,
) -> String {
    let start = tomorrow();
    let end = start + Days::days(days - 1);
    let mut body = json!({
        "title": format!("{kind} appointment"),
        "start_time": format!("{start}T09:00:00Z"),
        "end_time": format!("{start}T17:00:00Z"),
        "start_date": format!("{start}T00:00:00Z"),
        "end_date": format!("{end}T00:00:00Z"),
        "booking_duration": 60,
        "type": kind,
        "max_attendees": capacity,
        "anti_scalping_level": "none",
        "description": "load"
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let res = client
        .post(format!("{base}/appointments"))
        .bearer_auth(&owner.token)
        .json(&body)
        .send()
        .await
        .expect("POST /appointments");
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("appointment JSON");
    assert_eq!(status, 201, "{body}");
    body["app_code"].as_str().expect("app_code").to_owned()
}

/// The start times of the first `n` (at most 100) slots of an appointment.
pub async fn slot_starts(client: &Client, base: &str, code: &str, n: usize) -> Vec<String> {
    let res = client
        .get(format!(
            "{base}/appointments/slots/{code}?per_page={}",
            n.min(100)
        ))
        .send()
        .await
        .expect("GET slots");
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.expect("slots JSON");
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .take(n)
        .map(|s| s["start_time"].as_str().expect("start_time").to_owned())
        .collect()
}

/// The body of a guest booking.
pub fn guest_booking(code: &str, start: &str, i: usize, seats: u32) -> Value {
    json!({
        "app_code": code,
        "start_time": start,
        "name": "Guest",
        "email": format!("guest{i}@example.com"),
        "attendee_count": seats,
    })
}
