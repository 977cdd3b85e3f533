//! Three server processes on one Postgres, 256 concurrent clients.

use std::collections::HashMap;
use std::time::Duration;

use reliability::api::{self, guest_booking};
use reliability::db::{self, Db};
use reliability::env_usize;
use reliability::load::{self, Load};
use reliability::server::{ServerOptions, ServerProcess};

use crate::ONE_AT_A_TIME;

const CLIENTS: usize = 256;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_never_oversell_a_single_slot_a_party_or_a_group_slot() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(admin) = db::postgres_admin_url("three replicas on one Postgres") else {
        return;
    };
    let url = db::fresh_postgres_database(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions::new(url.clone(), dir.path());
    // The first one migrates the schema; the others start on it together.
    let first = ServerProcess::start(&opts).await;
    let (second, third) = tokio::join!(ServerProcess::start(&opts), ServerProcess::start(&opts));
    let replicas = [first, second, third];
    let targets: Vec<String> = replicas.iter().map(|s| s.base.clone()).collect();
    let client = api::client();
    let owner = api::user(&client, &targets[0], "owner").await;
    let load_on = |attempts| {
        Load::new(
            targets.clone(),
            "/appointments/book",
            CLIENTS,
            attempts,
            Duration::from_secs(120),
        )
    };

    // A single slot: exactly one booking.
    let single = api::appointment(&client, &targets[1], &owner, "single", 1, 1).await;
    let start = api::slot_starts(&client, &targets[2], &single, 1)
        .await
        .remove(0);
    let (c, s) = (single.clone(), start.clone());
    let out = load::run(&client, &load_on(CLIENTS), move |i| {
        guest_booking(&c, &s, i, 1)
    })
    .await;
    assert_eq!(out.count(201), 1, "single slot: {}", out.summary());
    assert_eq!(
        out.count(409),
        CLIENTS - 1,
        "single slot: {}",
        out.summary()
    );

    // A party: exactly its seats sold.
    let seats = env_usize("RELIABILITY_PARTY_SEATS", 1_000);
    let attempts = env_usize("RELIABILITY_PARTY_ATTEMPTS", 4 * seats);
    let party = api::appointment(&client, &targets[0], &owner, "party", seats as u32, 1).await;
    let start = api::slot_starts(&client, &targets[1], &party, 1)
        .await
        .remove(0);
    let (c, s) = (party.clone(), start.clone());
    let out = load::run(&client, &load_on(attempts), move |i| {
        guest_booking(&c, &s, i, 1)
    })
    .await;
    assert_eq!(out.attempts.len(), attempts, "every party attempt was made");
    assert_eq!(out.count(201), seats, "party: {}", out.summary());
    // A loser is told the party is full (409), or, when the database's connections are all busy
    // for longer than the pool waits (a loaded machine), that the store is unavailable (503:
    // nothing was applied, the client may retry). Shed load stays a small share.
    assert_eq!(
        out.count(409) + out.count(503),
        attempts - seats,
        "party: {}",
        out.summary()
    );
    assert!(
        out.count(503) * 20 <= attempts,
        "party: more than 5% shed: {}",
        out.summary()
    );
    println!(
        "party: {seats} seats, {attempts} attempts, {CLIENTS} clients on 3 replicas: sold out in {:?} ({})",
        out.last_created.unwrap_or_default(),
        out.summary()
    );

    // Group slots: 1 to 3 seats per booking on 4 slots of 10 seats; never above capacity.
    let group = api::appointment(&client, &targets[2], &owner, "group", 10, 1).await;
    let starts = api::slot_starts(&client, &targets[0], &group, 4).await;
    let c = group.clone();
    let st = starts.clone();
    let out = load::run(&client, &load_on(CLIENTS * 2), move |i| {
        guest_booking(&c, &st[i % st.len()], i, (i % 3) as u32 + 1)
    })
    .await;
    let mut per_slot: HashMap<String, u64> = HashMap::new();
    for a in out.created() {
        *per_slot.entry(a.start_time.clone().unwrap()).or_default() += u64::from(a.seats);
    }
    assert!(
        per_slot.values().all(|&n| n <= 10),
        "group slot above capacity: {per_slot:?}"
    );
    assert!(out.count(201) > 0, "group: {}", out.summary());
    assert_eq!(
        out.count(201) + out.count(409),
        CLIENTS * 2,
        "group: {}",
        out.summary()
    );

    // In the database: counters equal the sum of active bookings everywhere, and no counter is
    // above its capacity.
    let db = Db::open(&url).await;
    let facts = db.facts().await;
    assert_eq!(facts.mismatched_counters, 0, "{facts:?}");
    assert_eq!(facts.uncounted_bookings, 0, "{facts:?}");
    assert_eq!(facts.seats_taken, facts.seats_booked, "{facts:?}");
    let group_seats: u64 = per_slot.values().sum();
    assert_eq!(
        facts.seats_booked as u64,
        1 + seats as u64 + group_seats,
        "{facts:?}"
    );
    for (code, capacity, fullest) in db.fullest().await {
        assert!(fullest <= capacity, "{code}: {fullest} seats of {capacity}");
    }
    db.close().await;
}
