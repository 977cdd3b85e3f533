//! Booking throughput of each store: N concurrent tasks book through the [`Scheduler`] (the full
//! path: appointment lookup, slot check, ban check, atomic seat claim), either spread over many
//! slots of a group appointment or all on the one event of a party (every claim on one counter).
//!
//! ```text
//! cargo bench --bench booking                        # memory and SQLite
//! TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo bench --bench booking --features postgres  # and Postgres
//! ```
//!
//! Prints bookings per second for each store, scenario and concurrency.

#[path = "../tests/sql_support/mod.rs"]
mod sql_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use appointment_core::testing::{epoch, guest_booking, new_user};
use appointment_core::{
    AntiScalping, AppointmentKind, ManualClock, NewAppointment, Schedule, Scheduler, Store,
};
use appointment_master::MemoryStore;
use appointment_master::store::SqliteStore;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// Concurrent tasks to try.
const CONCURRENCY: &[usize] = &[16, 64];

#[derive(Clone, Copy, Debug)]
enum Scenario {
    /// A group appointment over 60 days × 8 hourly slots; task `t` books slot `(t + k·N) mod 480`.
    ManySlots,
    /// A party: every booking claims a seat of the one event.
    OneParty,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn time(h: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, 0, 0).expect("a valid time")
}

/// Books `total` seats with `tasks` concurrent tasks and returns the elapsed time.
async fn run<S: Store>(store: S, scenario: Scenario, tasks: usize, total: usize) -> Duration {
    let sched = Arc::new(Scheduler::new(store).with_clock(Arc::new(ManualClock::new(epoch()))));
    let owner = sched
        .register_user(new_user("Owner", "owner@example.com", None))
        .await
        .expect("register");
    let (kind, end, capacity) = match scenario {
        Scenario::ManySlots => (AppointmentKind::Group, date(2030, 3, 7), 1_000),
        Scenario::OneParty => (AppointmentKind::Party, date(2030, 1, 7), total as u32),
    };
    let schedule = Schedule::builder(date(2030, 1, 7), end, time(9), time(17), 60)
        .single_event(matches!(scenario, Scenario::OneParty))
        .build()
        .expect("a schedule");
    let app = sched
        .create_appointment(
            owner.id,
            NewAppointment {
                title: "Bench".into(),
                description: String::new(),
                kind,
                capacity: Some(capacity),
                anti_scalping: AntiScalping::None,
                schedule,
                resource: None,
            },
        )
        .await
        .expect("an appointment");
    let slots: Vec<DateTime<Utc>> = app.schedule.all_slots().map(|s| s.start).collect();
    let per_task = total / tasks;
    let started = Instant::now();
    let mut handles = Vec::with_capacity(tasks);
    for t in 0..tasks {
        let sched = sched.clone();
        let code = app.code.clone();
        let slots = slots.clone();
        handles.push(tokio::spawn(async move {
            for k in 0..per_task {
                let i = t + k * tasks;
                let start = slots[i % slots.len()];
                sched
                    .book(guest_booking(&code, start, 1, &format!("g{i}@example.com")))
                    .await
                    .expect("a booking");
            }
        }));
    }
    for h in handles {
        h.await.expect("a booking task");
    }
    started.elapsed()
}

fn report(store: &str, scenario: Scenario, tasks: usize, total: usize, took: Duration) {
    println!(
        "{store:<9} {:<10} tasks={tasks:<3} bookings={total:<6} {:>9.0} bookings/s  ({:.2} s)",
        format!("{scenario:?}"),
        total as f64 / took.as_secs_f64(),
        took.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "booking throughput, {} cores available",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    rt.block_on(async {
        for scenario in [Scenario::ManySlots, Scenario::OneParty] {
            for &tasks in CONCURRENCY {
                let total = 64_000;
                let took = run(MemoryStore::new(), scenario, tasks, total).await;
                report("memory", scenario, tasks, total, took);

                let total = 6_400;
                let store = SqliteStore::connect(&sql_support::fresh_sqlite_url())
                    .await
                    .expect("a SQLite store");
                let took = run(store, scenario, tasks, total).await;
                report("sqlite", scenario, tasks, total, took);

                #[cfg(feature = "postgres")]
                if let Some(url) = sql_support::fresh_postgres_url().await {
                    let store = appointment_master::store::PostgresStore::connect(&url)
                        .await
                        .expect("a Postgres store");
                    let took = run(store, scenario, tasks, total).await;
                    report("postgres", scenario, tasks, total, took);
                }
            }
        }
    });
}
