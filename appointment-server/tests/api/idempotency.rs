//! `Idempotency-Key` on the booking POSTs.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect_error, expect_json, spawn_app, spawn_app_with};

async fn group_slot(app: &TestApp) -> (crate::helpers::TestUser, String, String) {
    let owner = app.user("owner").await;
    let a = app
        .appointment(&owner, 1, json!({"type": "group", "max_attendees": 20}))
        .await;
    let code = a["app_code"].as_str().unwrap().to_owned();
    let start = app.slots(&code, "").await["items"][0]["start_time"]
        .as_str()
        .unwrap()
        .to_owned();
    (owner, code, start)
}

fn guest(code: &str, start: &str, email: &str) -> Value {
    json!({"app_code": code, "start_time": start, "name": "Jane", "email": email})
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_and_books_nothing_more() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (owner, code, start) = group_slot(&app).await;
    let body = guest(&code, &start, "jane@example.com");
    let send = || {
        app.post_json("/appointments/book", &body)
            .header("idempotency-key", "retry-1")
            .send()
    };
    let first = expect_json(send().await.unwrap(), StatusCode::CREATED).await;
    let res = send().await.unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let second = expect_json(res, StatusCode::CREATED).await;
    assert_eq!(first, second);
    let list = expect_json(
        app.get(&format!("/appointments/users/{code}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["total"], 1);
    // Without a key, the same body books again.
    expect_json(
        app.post_json("/appointments/book", &body)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, start) = group_slot(&app).await;
    let first = app
        .post_json("/appointments/book", &guest(&code, &start, "a@example.com"))
        .header("idempotency-key", "k")
        .send()
        .await
        .unwrap();
    expect_json(first, StatusCode::CREATED).await;
    let mut changed = guest(&code, &start, "a@example.com");
    changed["name"] = json!("Janet");
    let other = app
        .post_json("/appointments/book", &changed)
        .header("idempotency-key", "k")
        .send()
        .await
        .unwrap();
    let e = expect_error(other, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(e["code"], "idempotency_key_reused");
}

#[tokio::test]
async fn keys_are_scoped_by_caller_and_endpoint() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, start) = group_slot(&app).await;
    let u1 = app.user("one").await;
    let u2 = app.user("two").await;
    let body = json!({"app_code": code, "start_time": start});
    let mut codes = Vec::new();
    for u in [&u1, &u2] {
        let b = expect_json(
            app.post_json("/appointments/book/registered", &body)
                .bearer_auth(&u.token)
                .header("idempotency-key", "same-key")
                .send()
                .await
                .unwrap(),
            StatusCode::CREATED,
        )
        .await;
        codes.push(b["booking_code"].clone());
    }
    assert_ne!(codes[0], codes[1], "two callers' keys must not collide");
}

#[tokio::test]
async fn concurrent_retries_book_once() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (owner, code, start) = group_slot(&app).await;
    let body = guest(&code, &start, "jane@example.com");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            app.post_json("/appointments/book", &body)
                .header("idempotency-key", "burst")
                .send()
        })
        .collect();
    let mut codes = std::collections::HashSet::new();
    for res in futures_join(tasks).await {
        let res = res.unwrap();
        match res.status() {
            StatusCode::CREATED => {
                let b: Value = res.json().await.unwrap();
                codes.insert(b["booking_code"].as_str().unwrap().to_owned());
            }
            StatusCode::CONFLICT => {
                let e: Value = res.json().await.unwrap();
                assert_eq!(e["code"], "idempotency_in_progress");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(codes.len() <= 1);
    let list = expect_json(
        app.get(&format!("/appointments/users/{code}"))
            .bearer_auth(&owner.token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn a_malformed_key_is_400() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, start) = group_slot(&app).await;
    let res = app
        .post_json("/appointments/book", &guest(&code, &start, "a@example.com"))
        .header("idempotency-key", "x".repeat(300))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::BAD_REQUEST).await;
}

/// Runs futures concurrently on the test's runtime.
pub async fn futures_join<F, T>(futs: Vec<F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn a_key_whose_first_request_is_still_running_is_409() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, start) = group_slot(&app).await;
    // Another request with this key holds it (claimed, not yet answered).
    let key = appointment_server::idempotency::scoped_key(
        "POST /appointments/book",
        &appointment_server::idempotency::guest_caller(
            Some("a@example.com"),
            None,
            [127, 0, 0, 1].into(),
        ),
        "busy",
    );
    let now = chrono::Utc::now();
    let claim = app
        .state
        .store
        .claim_idempotency_key(
            &key,
            "another-request",
            now,
            now - chrono::Duration::hours(1),
            now - chrono::Duration::minutes(1),
        )
        .await
        .unwrap();
    assert_eq!(claim, appointment_store::IdempotencyClaim::Claimed);
    let res = app
        .post_json("/appointments/book", &guest(&code, &start, "a@example.com"))
        .header("idempotency-key", "busy")
        .send()
        .await
        .unwrap();
    let e = expect_error(res, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "idempotency_in_progress");
    // Once released, the key can be used.
    app.state.store.release_idempotency_key(&key).await.unwrap();
    let res = app
        .post_json("/appointments/book", &guest(&code, &start, "a@example.com"))
        .header("idempotency-key", "busy")
        .send()
        .await
        .unwrap();
    expect_json(res, StatusCode::CREATED).await;
}

#[tokio::test]
async fn a_guests_key_never_blocks_or_replays_another_guests_booking() {
    let Some(app) = spawn_app_with(|c| c.trust_forwarded_for = true).await else {
        return;
    };
    let (_, code, start) = group_slot(&app).await;
    let send = |body: Value, ip: &'static str| {
        app.post_json("/appointments/book", &body)
            .header("idempotency-key", "order-1")
            .header("x-forwarded-for", ip)
            .send()
    };
    // The attacker uses the victim's key first, with another body.
    let attacker = send(guest(&code, &start, "mallory@example.com"), "203.0.113.66")
        .await
        .unwrap();
    expect_json(attacker, StatusCode::CREATED).await;
    // The victim's booking with the same key is made, not refused with a 422.
    let victim_body = guest(&code, &start, "victim@example.com");
    let victim = send(victim_body.clone(), "198.51.100.7").await.unwrap();
    assert!(victim.headers().get("idempotent-replayed").is_none());
    let victim = expect_json(victim, StatusCode::CREATED).await;
    // The attacker sends the victim's very body with the key from elsewhere: not replayed, so
    // the victim's booking code does not leak.
    let res = send(victim_body.clone(), "203.0.113.66").await.unwrap();
    assert!(res.headers().get("idempotent-replayed").is_none());
    let text = res.text().await.unwrap();
    assert!(
        !text.contains(victim["booking_code"].as_str().unwrap()),
        "{text}"
    );
    // The victim's own retry is replayed.
    let retry = send(victim_body, "198.51.100.7").await.unwrap();
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(expect_json(retry, StatusCode::CREATED).await, victim);
}

#[tokio::test]
async fn a_key_whose_request_died_is_claimed_again_once_its_lease_ran_out() {
    let Some(app) = spawn_app().await else {
        return;
    };
    let (_, code, start) = group_slot(&app).await;
    let body = guest(&code, &start, "a@example.com");
    let key = appointment_server::idempotency::scoped_key(
        "POST /appointments/book",
        &appointment_server::idempotency::guest_caller(
            Some("a@example.com"),
            None,
            [127, 0, 0, 1].into(),
        ),
        "died",
    );
    // The first request claimed the key longer ago than the lease, and never answered (its
    // process died).
    let lease = appointment_server::idempotency::lease(app.state.request_timeout);
    let claimed_at = chrono::Utc::now() - lease - chrono::Duration::seconds(1);
    let claim = app
        .state
        .store
        .claim_idempotency_key(
            &key,
            "the-first-request",
            claimed_at,
            claimed_at - chrono::Duration::hours(1),
            claimed_at - lease,
        )
        .await
        .unwrap();
    assert_eq!(claim, appointment_store::IdempotencyClaim::Claimed);
    let res = app
        .post_json("/appointments/book", &body)
        .header("idempotency-key", "died")
        .send()
        .await
        .unwrap();
    let booked = expect_json(res, StatusCode::CREATED).await;
    // And the answer is now kept for retries.
    let res = app
        .post_json("/appointments/book", &body)
        .header("idempotency-key", "died")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(expect_json(res, StatusCode::CREATED).await, booked);
}
