//! Webhooks over HTTP: an owner registers an endpoint (the secret shown once), bookings reach it
//! as signed Standard Webhooks requests in order, failures are retried and logged, the event
//! type filter and a rotated secret apply, and bad or private targets are refused.

use std::sync::Arc;
use std::time::Duration;

use appointment_server::webhooks::sign;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::helpers::{TestApp, TestUser, expect_error, expect_json, spawn_app, spawn_app_with};

/// A request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Checks the signature as a receiver does: HMAC of `id.timestamp.body` with the secret.
    fn signed_with(&self, secret: &str) -> bool {
        let ts: i64 = self.timestamp.parse().expect("a timestamp");
        self.signature == sign(secret, &self.id, ts, &self.body)
    }
}

/// A receiver on a random loopback port that answers the statuses of `script` in turn (then
/// 204) and hands every request to the test.
async fn receiver(script: Vec<u16>) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let script = Arc::new(parking_lot::Mutex::new(script.into_iter()));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let tx = tx.clone();
            let script = script.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let _ = tx.send(Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp"),
                    signature: header("webhook-signature"),
                    body,
                });
                let code = script.lock().next().unwrap_or(204);
                AxumStatus::from_u16(code).unwrap_or(AxumStatus::NO_CONTENT)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("a delivery within 20 s")
        .expect("the receiver runs")
}

async fn app_allowing_loopback() -> Option<TestApp> {
    spawn_app_with(|c| {
        c.webhooks.allow_private_targets = true;
        c.webhooks.poll = Duration::from_millis(20);
        c.webhooks.retry_schedule = vec![Duration::from_millis(50), Duration::from_millis(50)];
    })
    .await
}

async fn register(app: &TestApp, owner: &TestUser, url: &str, types: &[&str]) -> Value {
    expect_json(
        app.post_json("/webhooks", &json!({"url": url, "event_types": types}))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await
}

async fn booked_slot(app: &TestApp, owner: &TestUser) -> (String, String) {
    let a = app
        .appointment(owner, 2, json!({"type": "group", "max_attendees": 5}))
        .await;
    let code = a["app_code"].as_str().unwrap().to_owned();
    let slot = app.slots(&code, "").await["items"][0]["start_time"]
        .as_str()
        .unwrap()
        .to_owned();
    (code, slot)
}

#[tokio::test]
async fn bookings_reach_the_endpoint_signed_and_in_order() {
    let Some(app) = app_allowing_loopback().await else {
        return;
    };
    let (url, mut rx) = receiver(vec![]).await;
    let owner = app.user("owner").await;
    let created = register(&app, &owner, &url, &[]).await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let id = created["id"].as_str().unwrap().to_owned();
    // The secret is shown once.
    let read = expect_json(
        app.get(&format!("/webhooks/{id}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(read.get("secret").is_none(), "{read}");
    assert_eq!(read["url"], url.as_str());

    let (code, slot) = booked_slot(&app, &owner).await;
    let booking = expect_json(
        app.book_guest(&code, &slot, "guest@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let booking_code = booking["booking_code"].as_str().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/bookings/{booking_code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // appointment.created, then the booking's two events, in order.
    let mut got = Vec::new();
    while got.len() < 3 {
        got.push(next(&mut rx).await);
    }
    for r in &got {
        assert!(r.signed_with(&secret), "a valid signature: {r:?}");
        assert_eq!(
            r.json()["id"],
            r.id.as_str(),
            "webhook-id is the event's id"
        );
    }
    let types: Vec<String> = got
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = types.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "appointment.created",
            "booking.cancelled",
            "booking.created"
        ]
    );
    // One subject's deliveries go in order (other subjects' may go side by side).
    let at = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(at("booking.created") < at("booking.cancelled"), "{types:?}");
    assert_eq!(
        got[at("booking.created")].json()["data"]["booking_code"],
        booking_code
    );
    assert_eq!(
        got[at("booking.cancelled")].json()["data"]["status"],
        "cancelled"
    );

    // The log shows each delivered once (recorded just after the endpoint answered).
    let log = wait_for_log(&app, &owner, &id, |log| {
        let items = log["items"].as_array().unwrap();
        items.len() == 3 && items.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    assert_eq!(log["total"], 3);
    for d in log["items"].as_array().unwrap() {
        assert_eq!(d["attempts"], 1, "{d}");
        assert_eq!(d["response_status"], 204);
        assert!(d["latency_ms"].is_u64());
    }
}

#[tokio::test]
async fn failures_are_retried_then_the_endpoint_is_failing() {
    let Some(app) = app_allowing_loopback().await else {
        return;
    };
    let owner = app.user("owner").await;
    // Two failures, then success: delivered on the third attempt.
    let (url, mut rx) = receiver(vec![500, 503]).await;
    let created = register(&app, &owner, &url, &[]).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let res = app
        .client
        .post(app.url(&format!("/webhooks/{id}/test")))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    let queued = expect_json(res, StatusCode::ACCEPTED).await;
    let attempts: Vec<Received> = vec![
        next(&mut rx).await,
        next(&mut rx).await,
        next(&mut rx).await,
    ];
    assert!(
        attempts
            .iter()
            .all(|r| r.id == queued["event_id"].as_str().unwrap()),
        "every attempt carries the same webhook-id"
    );
    assert_eq!(attempts[0].json()["type"], "webhook.test");
    let delivered = newest(wait_for_log(&app, &owner, &id, |l| newest_is(l, "delivered")).await);
    assert_eq!(delivered["attempts"], 3);

    // Always failing: two retries, then failed, and the endpoint says why.
    let (url, mut rx) = receiver(vec![500, 500, 500, 500]).await;
    let created = register(&app, &owner, &url, &[]).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let res = app
        .client
        .post(app.url(&format!("/webhooks/{id}/test")))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::ACCEPTED).await;
    for _ in 0..3 {
        next(&mut rx).await;
    }
    let failed = newest(wait_for_log(&app, &owner, &id, |l| newest_is(l, "failed")).await);
    assert_eq!(failed["attempts"], 3);
    assert_eq!(failed["response_status"], 500);
    let endpoint = expect_json(
        app.get(&format!("/webhooks/{id}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(endpoint["failing_since"].is_string(), "{endpoint}");
    assert_eq!(endpoint["last_error"], "the endpoint answered HTTP 500");
}

/// Whether the newest delivery of a log has `status`.
fn newest_is(log: &Value, status: &str) -> bool {
    log["items"][0]["status"] == status
}

/// The newest delivery of a log.
fn newest(log: Value) -> Value {
    log["items"][0].clone()
}

/// The endpoint's delivery log once `done` holds for it (deliveries are recorded just after
/// the endpoint answers).
async fn wait_for_log(
    app: &TestApp,
    owner: &TestUser,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let log = expect_json(
            app.get(&format!("/webhooks/{id}/deliveries"))
                .bearer_auth(&owner.token)
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        if done(&log) {
            return log;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the log never showed it: {log}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn type_filter_and_rotated_secret_apply() {
    let Some(app) = app_allowing_loopback().await else {
        return;
    };
    let (url, mut rx) = receiver(vec![]).await;
    let owner = app.user("owner").await;
    let created = register(&app, &owner, &url, &["booking.cancelled"]).await;
    assert_eq!(created["event_types"], json!(["booking.cancelled"]));
    let id = created["id"].as_str().unwrap().to_owned();
    let rotated = expect_json(
        app.client
            .post(app.url(&format!("/webhooks/{id}/rotate-secret")))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let secret = rotated["secret"].as_str().unwrap();
    assert_ne!(secret, created["secret"].as_str().unwrap());

    let (code, slot) = booked_slot(&app, &owner).await;
    let booking = expect_json(
        app.book_guest(&code, &slot, "guest@example.com").await,
        StatusCode::CREATED,
    )
    .await;
    let booking_code = booking["booking_code"].as_str().unwrap();
    app.client
        .delete(app.url(&format!("/bookings/{booking_code}")))
        .send()
        .await
        .unwrap();
    let only = next(&mut rx).await;
    assert_eq!(only.json()["type"], "booking.cancelled");
    assert!(only.signed_with(secret), "signed with the new secret");
    assert!(!only.signed_with(created["secret"].as_str().unwrap()));
}

#[tokio::test]
async fn endpoints_are_checked_and_private() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let owner = app.user("owner").await;
    let other = app.user("other").await;
    for (body, field) in [
        (json!({"url": "http://127.0.0.1:9/hook"}), "url"),
        (json!({"url": "http://10.0.0.5/hook"}), "url"),
        (json!({"url": "http://169.254.169.254/latest"}), "url"),
        (json!({"url": "http://[::1]/hook"}), "url"),
        (json!({"url": "ftp://example.com/hook"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (
            json!({"url": "https://93.184.216.34/hook", "event_types": ["booking.exploded"]}),
            "event_types",
        ),
    ] {
        let err = expect_error(
            app.post_json("/webhooks", &body)
                .bearer_auth(&owner.token)
                .send()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(err.to_string().contains(field), "{body}: {err}");
    }
    // A public address is taken (nothing is sent until an event happens).
    let created = register(&app, &owner, "https://93.184.216.34/hook", &[]).await;
    let id = created["id"].as_str().unwrap();
    // Nobody else sees, changes or deletes it.
    for res in [
        app.get(&format!("/webhooks/{id}"))
            .bearer_auth(&other.token)
            .send()
            .await
            .unwrap(),
        app.client
            .delete(app.url(&format!("/webhooks/{id}")))
            .bearer_auth(&other.token)
            .send()
            .await
            .unwrap(),
    ] {
        expect_error(res, StatusCode::NOT_FOUND).await;
    }
    let mine = expect_json(
        app.get("/webhooks")
            .bearer_auth(&other.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(mine, json!([]));
    expect_error(
        app.get("/webhooks/not-an-id")
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect_error(
        app.get("/webhooks").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Pause, then delete.
    let paused = expect_json(
        app.client
            .patch(app.url(&format!("/webhooks/{id}")))
            .bearer_auth(&owner.token)
            .json(&json!({"enabled": false}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(paused["enabled"], false);
    expect_json(
        app.client
            .delete(app.url(&format!("/webhooks/{id}")))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    expect_error(
        app.get(&format!("/webhooks/{id}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn metrics_count_attempts_and_show_the_backlog() {
    let Some(app) = spawn_app_with(|c| {
        c.webhooks.allow_private_targets = true;
        c.webhooks.poll = Duration::from_millis(20);
        c.webhooks.retry_schedule = vec![Duration::from_millis(50)];
        c.metrics_token = Some(appointment_server::config::Secret::new("hook-metrics"));
    })
    .await
    else {
        return;
    };
    let owner = app.user("owner").await;
    let (url, mut rx) = receiver(vec![500]).await;
    let created = register(&app, &owner, &url, &[]).await;
    let id = created["id"].as_str().unwrap().to_owned();
    app.client
        .post(app.url(&format!("/webhooks/{id}/test")))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    next(&mut rx).await;
    next(&mut rx).await;
    wait_for_log(&app, &owner, &id, |l| newest_is(l, "delivered")).await;
    let text = app
        .get("/metrics")
        .bearer_auth("hook-metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |series: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{series} in:\n{text}"))
    };
    assert_eq!(
        value("appointment_webhook_deliveries_total{result=\"retry\"}"),
        1.0
    );
    assert_eq!(
        value("appointment_webhook_deliveries_total{result=\"delivered\"}"),
        1.0
    );
    assert_eq!(value("appointment_webhook_deliveries_pending"), 0.0);
    assert_eq!(value("appointment_webhook_oldest_pending_age_seconds"), 0.0);
    assert_eq!(value("appointment_outbox_backlog_events"), 0.0);
}
