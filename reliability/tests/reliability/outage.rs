//! The database goes away under load and comes back: the server answers 503 in bounded time
//! (a booking cut while committing gets 500, its outcome unknown), reports unhealthy, and recovers
//! without a restart.

use std::time::{Duration, Instant};

use reliability::api::{self, guest_booking};
use reliability::cluster::PrivateCluster;
use reliability::db::Db;
use reliability::load::{self, Load};
use reliability::server::{ServerOptions, ServerProcess};

use crate::ONE_AT_A_TIME;

/// The longest a request may take while the database is down: the store tries for a connection
/// for at most 5 s before it answers that the database is unavailable, plus a margin for two
/// shared cores.
const BOUND: Duration = Duration::from_secs(8);

/// The answer that tells the client the service cannot do it now: 503 `unavailable`.
fn unavailable(status: u16, code: Option<&str>) -> bool {
    status == 503 && code == Some("unavailable")
}

/// The answer to a booking whose connection was lost while it committed: 500 `internal`, since
/// the server cannot know whether the commit was applied (a 503 would promise it was not).
fn outcome_unknown(status: u16, code: Option<&str>) -> bool {
    status == 500 && code == Some("internal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_in_bounded_time_and_the_server_recovers_by_itself() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(cluster) = PrivateCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions::new(cluster.url(), dir.path());
    let server = ServerProcess::start(&opts).await;
    let client = api::client();
    let owner = api::user(&client, &server.base, "owner").await;
    let party = api::appointment(&client, &server.base, &owner, "party", 1_000_000, 1).await;
    let start = api::slot_starts(&client, &server.base, &party, 1)
        .await
        .remove(0);
    let book = |attempts, limit| {
        Load::new(
            vec![server.base.clone()],
            "/appointments/book",
            32,
            attempts,
            limit,
        )
    };

    // Under load, the database stops.
    let during = book(100_000, Duration::from_secs(12));
    let running = {
        let (client, load, party, start) =
            (client.clone(), during.clone(), party.clone(), start.clone());
        tokio::spawn(async move {
            load::run(&client, &load, move |i| guest_booking(&party, &start, i, 1)).await
        })
    };
    assert!(during.wait_created(100, Duration::from_secs(30)).await);
    let stopped_at = Instant::now();
    cluster.stop_server();
    let stop_done = Instant::now();
    let out = running.await.unwrap();
    let before: usize = out.count(201);
    assert!(before >= 100);
    let refused = out
        .attempts
        .iter()
        .filter(|a| unavailable(a.status, a.error_code.as_deref()))
        .count();
    assert!(refused > 0, "no 503 during the outage: {}", out.summary());
    let mut unknown = 0;
    for a in &out.attempts {
        let code = a.error_code.as_deref();
        // Only a booking already under way when the database went down can be cut mid-commit.
        let cut = outcome_unknown(a.status, code) && a.sent_at < stop_done;
        unknown += usize::from(cut);
        assert!(
            a.status == 201 || unavailable(a.status, code) || cut,
            "attempt {} got {} ({:?}): {}",
            a.index,
            a.status,
            a.error_code,
            out.summary()
        );
        assert!(
            a.latency <= BOUND,
            "attempt {} took {:?}",
            a.index,
            a.latency
        );
    }
    assert!(
        unknown <= 32,
        "more commits cut than requests in flight: {}",
        out.summary()
    );
    println!(
        "outage: {} in {:?} after the stop; slowest answer {:?}",
        out.summary(),
        stopped_at.elapsed(),
        out.latency_quantile(1.0)
    );

    // A booking now is refused the same way, with a hint when to come back.
    let t0 = Instant::now();
    let retried = guest_booking(&party, &start, 999_999, 1);
    let res = client
        .post(format!("{}/appointments/book", server.base))
        .header("Idempotency-Key", "booked-during-the-outage")
        .json(&retried)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503, "a booking during the outage");
    let retry_after = res.headers().get("retry-after").cloned();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "unavailable", "{body}");
    assert!(
        retry_after
            .and_then(|v| v.to_str().ok()?.parse::<u32>().ok())
            .is_some_and(|secs| secs > 0),
        "503 without a Retry-After in seconds"
    );
    assert!(t0.elapsed() <= BOUND, "the refusal took {:?}", t0.elapsed());
    println!(
        "outage: a booking was refused with 503 in {:?}",
        t0.elapsed()
    );

    // Health says so, in bounded time.
    let t0 = Instant::now();
    let res = client
        .get(format!("{}/health", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503, "/health during the outage");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "unhealthy");
    assert!(t0.elapsed() <= BOUND, "/health took {:?}", t0.elapsed());
    println!("outage: /health answered 503 in {:?}", t0.elapsed());

    // The database comes back: the same process recovers.
    cluster.start_server();
    let recovered = server.wait_healthy_again(Duration::from_secs(60)).await;
    let after = load::run(&client, &book(200, Duration::from_secs(60)), move |i| {
        guest_booking(&party, &start, 1_000_000 + i, 1)
    })
    .await;
    assert_eq!(after.count(201), 200, "after recovery: {}", after.summary());

    // The 503 left nothing under its Idempotency-Key (nothing was done): the retry books.
    let res = client
        .post(format!("{}/appointments/book", server.base))
        .header("Idempotency-Key", "booked-during-the-outage")
        .json(&retried)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201, "the retry after the outage");
    assert!(res.headers().get("idempotent-replayed").is_none());
    println!("recovered {recovered:?} after the database came back");

    let db = Db::open(&cluster.url()).await;
    let facts = db.facts().await;
    assert_eq!(facts.mismatched_counters, 0, "{facts:?}");
    assert_eq!(facts.seats_taken, facts.seats_booked, "{facts:?}");
    assert!(facts.active_bookings as usize >= before + 201, "{facts:?}");
    db.close().await;
}
