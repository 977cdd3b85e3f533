//! Webhooks across replicas: three servers on one Postgres deliver to one endpoint while a burst
//! of bookings runs and one of them is killed with `kill -9`; every event of the outbox reaches
//! the endpoint at least once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use reliability::api::{self, guest_booking};
use reliability::db;
use reliability::load::{self, Load};
use reliability::server::{ServerOptions, ServerProcess};
use serde_json::json;

use crate::ONE_AT_A_TIME;

const BOOKINGS: usize = 1_000;

/// A receiver on a random loopback port: counts the requests per `webhook-id`.
async fn receiver() -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                *record.lock().unwrap().entry(id).or_default() += 1;
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_deliver_every_event_though_one_is_killed() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(admin) = db::postgres_admin_url("webhooks across replicas") else {
        return;
    };
    let url = db::fresh_postgres_database(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = ServerOptions::new(url.clone(), dir.path());
    opts.env = vec![
        ("WEBHOOK_ALLOW_PRIVATE_TARGETS".into(), "1".into()),
        ("WEBHOOK_POLL_MS".into(), "20".into()),
        ("WEBHOOK_TIMEOUT_MS".into(), "2000".into()),
        ("WEBHOOK_RETRY_SCHEDULE".into(), "0.2,0.5,1,2,5,10".into()),
    ];
    let first = ServerProcess::start(&opts).await;
    let (second, third) = tokio::join!(ServerProcess::start(&opts), ServerProcess::start(&opts));
    let mut replicas = [first, second, third];
    let targets: Vec<String> = replicas.iter().map(|s| s.base.clone()).collect();
    let client = api::client();
    let owner = api::user(&client, &targets[0], "owner").await;
    let (hook, seen) = receiver().await;
    let res = client
        .post(format!("{}/webhooks", targets[0]))
        .bearer_auth(&owner.token)
        .json(&json!({"url": hook}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201, "{}", res.text().await.unwrap());

    let party = api::appointment(&client, &targets[1], &owner, "party", BOOKINGS as u32, 1).await;
    let start = api::slot_starts(&client, &targets[2], &party, 1)
        .await
        .remove(0);
    let load = Load::new(
        targets.clone(),
        "/appointments/book",
        64,
        BOOKINGS,
        Duration::from_secs(120),
    );
    let running = {
        let (client, load, party, start) = (client.clone(), load.clone(), party.clone(), start);
        tokio::spawn(async move {
            load::run(&client, &load, move |i| guest_booking(&party, &start, i, 1)).await
        })
    };
    assert!(
        load.wait_created(BOOKINGS / 3, Duration::from_secs(60))
            .await,
        "no bookings under load"
    );
    replicas[2].kill9();
    let out = running.await.unwrap();

    // Every event of the owner's outbox reaches the endpoint, at least once.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(o.id AS text) FROM outbox o JOIN users u ON u.id = o.owner_id \
         WHERE u.email = $1",
    )
    .bind(&owner.email)
    .fetch_all(&pool)
    .await
    .unwrap();
    let booked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bookings")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(booked as usize >= out.count(201), "{}", out.summary());
    assert_eq!(
        events.len(),
        booked as usize + 1,
        "one event per booking and the appointment's"
    );
    let started = Instant::now();
    let missing = loop {
        let missing: Vec<&String> = {
            let seen = seen.lock().unwrap();
            events.iter().filter(|id| !seen.contains_key(*id)).collect()
        };
        if missing.is_empty() || started.elapsed() > Duration::from_secs(120) {
            break missing.len();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let lag = started.elapsed();
    let (deliveries, twice) = {
        let seen = seen.lock().unwrap();
        (
            seen.values().sum::<usize>(),
            seen.values().filter(|n| **n > 1).count(),
        )
    };
    assert_eq!(
        missing,
        0,
        "{missing} of {} events never reached the endpoint; replica logs:\n{}\n{}",
        events.len(),
        replicas[0].log(),
        replicas[1].log()
    );
    pool.close().await;
    println!(
        "webhooks across replicas: {} events, {deliveries} requests ({twice} events sent more \
         than once), all delivered {:.1} s after the burst; bookings: {}",
        events.len(),
        lag.as_secs_f64(),
        out.summary()
    );
}
