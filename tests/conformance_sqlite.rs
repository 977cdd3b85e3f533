//! The store conformance suite against the SQLite store, one fresh database file per test.

mod sql_support;

use appointment_master::store::SqliteStore;

async fn new_store() -> Option<SqliteStore> {
    Some(
        SqliteStore::connect(&sql_support::fresh_sqlite_url())
            .await
            .expect("open a fresh SQLite store"),
    )
}

appointment_core::store_conformance_suite!(new_store);
appointment_core::store_conformance_suite_extra!(new_store);

/// Two stores on one file (as two processes would be) race for one party's seats: SQLite's write
/// lock is waited for, never reported ("database is locked"), and exactly the capacity is sold.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_share_the_lock() {
    use std::sync::Arc;

    use appointment_core::testing::{Fixture, guest_booking};
    use appointment_core::{AntiScalping, AppointmentKind, Error, Scheduler};
    use chrono::{TimeZone, Utc};

    let url = sql_support::fresh_sqlite_url();
    let f = Fixture::new(SqliteStore::connect(&url).await.expect("open")).await;
    let app = f
        .appointment(AppointmentKind::Party, Some(40), AntiScalping::None)
        .await;
    let start = Utc
        .with_ymd_and_hms(2030, 1, 7, 9, 0, 0)
        .single()
        .expect("an instant");
    let other = Arc::new(
        Scheduler::new(SqliteStore::connect(&url).await.expect("open again"))
            .with_clock(f.clock.clone()),
    );
    let f = Arc::new(f);
    let mut tasks = Vec::new();
    for i in 0..64u32 {
        let (f, other, code) = (f.clone(), other.clone(), app.code.clone());
        tasks.push(tokio::spawn(async move {
            let req = guest_booking(&code, start, 1, &format!("g{i}@example.com"));
            if i % 2 == 0 {
                f.sched.book(req).await
            } else {
                other.book(req).await
            }
        }));
    }
    let mut booked = 0;
    for t in tasks {
        match t.await.expect("a booking task") {
            Ok(_) => booked += 1,
            Err(Error::SlotFull { .. }) => {}
            Err(e) => panic!("only capacity may refuse a booking, got {e:?}"),
        }
    }
    assert_eq!(booked, 40);
    f.assert_counters_equal_facts(&app).await;
}
