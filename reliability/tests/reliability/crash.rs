//! `kill -9` under booking load, then a restart: every 201 is there, counters equal facts, and
//! the outbox holds one `booking.created` event per stored booking and none for any other.

use std::time::Duration;

use reliability::api::{self, guest_booking};
use reliability::db::{self, Db};
use reliability::load::{self, Load, Outcome};
use reliability::server::{ServerOptions, ServerProcess};

use crate::ONE_AT_A_TIME;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill_9_under_load_keeps_every_201_and_counters_equal_facts() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("crash.db").display());
    kill_9_under_load(&url, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kill_9_under_load_keeps_every_201_and_counters_equal_facts() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(admin) = db::postgres_admin_url("kill -9 on Postgres") else {
        return;
    };
    let url = db::fresh_postgres_database(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    kill_9_under_load(&url, dir.path()).await;
}

async fn kill_9_under_load(url: &str, dir: &std::path::Path) {
    let opts = ServerOptions::new(url, dir);
    let mut server = ServerProcess::start(&opts).await;
    let client = api::client();
    let owner = api::user(&client, &server.base, "owner").await;
    // Group slots of 5 seats and a party of 1,000, booked with 1 to 3 seats at a time.
    let group = api::appointment(&client, &server.base, &owner, "group", 5, 2).await;
    let party = api::appointment(&client, &server.base, &owner, "party", 1_000, 1).await;
    let group_starts = api::slot_starts(&client, &server.base, &group, 16).await;
    let party_start = api::slot_starts(&client, &server.base, &party, 1)
        .await
        .remove(0);

    let load = Load::new(
        vec![server.base.clone()],
        "/appointments/book",
        64,
        4_000,
        Duration::from_secs(30),
    );
    let running = {
        let (client, load) = (client.clone(), load.clone());
        tokio::spawn(async move {
            load::run(&client, &load, move |i| {
                let seats = (i % 3) as u32 + 1;
                if i % 2 == 0 {
                    guest_booking(&party, &party_start, i, seats)
                } else {
                    guest_booking(&group, &group_starts[i % group_starts.len()], i, seats)
                }
            })
            .await
        })
    };
    assert!(
        load.wait_created(150, Duration::from_secs(30)).await,
        "no bookings under load; server log:\n{}",
        server.log()
    );
    server.kill9();
    let out: Outcome = running.await.unwrap();
    let lost = out.count(0);
    assert!(lost > 0, "the kill cut no request: {}", out.summary());
    assert!(
        out.attempts
            .iter()
            .all(|a| matches!(a.status, 0 | 201 | 409)),
        "{}",
        out.summary()
    );

    // Restart on the same database.
    let server = ServerProcess::start(&opts).await;
    for a in out.created() {
        let code = a.booking_code.as_deref().unwrap();
        let res = client
            .get(format!("{}/bookings/{code}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            200,
            "booking {code} answered 201 but is gone"
        );
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], "active", "{body}");
    }
    let db = Db::open(url).await;
    let facts = db.facts().await;
    assert_eq!(facts.mismatched_counters, 0, "{facts:?}");
    assert_eq!(facts.uncounted_bookings, 0, "{facts:?}");
    assert_eq!(facts.seats_taken, facts.seats_booked, "{facts:?}");
    // The outbox: every stored booking has its event, and no event is without its booking.
    assert_eq!(facts.bookings_without_event, 0, "{facts:?}");
    assert_eq!(facts.events_without_booking, 0, "{facts:?}");
    assert_eq!(facts.extra_created_events, 0, "{facts:?}");
    let codes = db.active_codes().await;
    let acknowledged = out.count(201);
    assert!(codes.len() >= acknowledged, "{facts:?}");
    // Anything beyond the 201s is a whole booking whose answer the kill cut off.
    assert!(
        codes.len() - acknowledged <= lost,
        "{} bookings stored, {acknowledged} acknowledged, {lost} unanswered",
        codes.len()
    );
    for (code, capacity, fullest) in db.fullest().await {
        assert!(fullest <= capacity, "{code}: {fullest} seats of {capacity}");
    }
    db.close().await;
    println!(
        "kill -9 on {}: {} ({} stored)",
        url.split(':').next().unwrap_or(""),
        out.summary(),
        codes.len()
    );
}
