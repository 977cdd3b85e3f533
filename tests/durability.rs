//! Durability of the SQLite store: every booking it acknowledged is there after the store is
//! closed and reopened, and after the process that made it is killed.

mod sql_support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use appointment_core::testing::{Fixture, all_bookings, epoch, guest_booking};
use appointment_core::{
    AntiScalping, AppointmentKind, BookingCode, BookingStatus, ManualClock, Scheduler,
};
use appointment_master::store::SqliteStore;
use chrono::{DateTime, TimeZone, Utc};

/// 2030-01-`d` at `h`:00 UTC (the fixture's appointment runs 2030-01-07 to 09, 09:00–12:00).
fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, d, h, 0, 0)
        .single()
        .expect("a valid instant")
}

/// The nine slots of the fixture's appointment.
fn slots() -> Vec<DateTime<Utc>> {
    (7..=9)
        .flat_map(|d| (9..12).map(move |h| at(d, h)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bookings_survive_close_and_reopen() {
    let url = sql_support::fresh_sqlite_url();
    let f = Arc::new(Fixture::new(SqliteStore::connect(&url).await.expect("open")).await);
    let app = f
        .appointment(AppointmentKind::Group, Some(100), AntiScalping::None)
        .await;
    let mut tasks = Vec::new();
    for i in 0..90u32 {
        let f = f.clone();
        let code = app.code.clone();
        let start = slots()[(i % 9) as usize];
        tasks.push(tokio::spawn(async move {
            f.guest(&code, start, 1 + i % 3, &format!("guest{i}@example.com"))
                .await
                .expect("book")
        }));
    }
    let mut acknowledged = Vec::new();
    for t in tasks {
        acknowledged.push(t.await.expect("a booking task"));
    }
    let cancelled = acknowledged[0].code.clone();
    f.sched.cancel(&cancelled).await.expect("cancel");
    f.sched.store().close().await;
    drop(f);

    let sched = Scheduler::new(SqliteStore::connect(&url).await.expect("reopen"))
        .with_clock(Arc::new(ManualClock::new(epoch())));
    for b in &acknowledged {
        let stored = sched
            .booking(&b.code)
            .await
            .expect("an acknowledged booking");
        let expected_status = if b.code == cancelled {
            BookingStatus::Cancelled
        } else {
            BookingStatus::Active
        };
        assert_eq!(stored.status, expected_status);
        assert_eq!(
            (
                stored.id,
                stored.slot_start,
                stored.attendee_count,
                &stored.email
            ),
            (b.id, b.slot_start, b.attendee_count, &b.email)
        );
    }
    assert_eq!(all_bookings(&sched, &app).await.len(), acknowledged.len());
    appointment_core::testing::assert_counters_equal_facts(&sched, &app).await;
}

const CHILD_URL: &str = "AM_DURABILITY_CHILD_URL";
const CHILD_APP: &str = "AM_DURABILITY_CHILD_APP";
/// Bookings the child makes at most, if nobody stops it.
const CHILD_MAX_BOOKINGS: u32 = 5_000;
/// Acknowledgements the parent waits for before it kills the child.
const KILL_AFTER: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_bookings_survive_a_killed_process() {
    let url = sql_support::fresh_sqlite_url();
    let f = Fixture::new(SqliteStore::connect(&url).await.expect("open")).await;
    let app = f
        .appointment(
            AppointmentKind::Party,
            Some(CHILD_MAX_BOOKINGS),
            AntiScalping::None,
        )
        .await;
    f.sched.store().close().await;
    drop(f);

    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "durability_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL, &url)
        .env(CHILD_APP, app.code.as_str())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the child process");
    let stdout = child.stdout.take().expect("the child's stdout");
    let mut acknowledged = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read the child's output");
        if let Some(code) = line.strip_prefix("acknowledged ") {
            acknowledged.push(BookingCode::parse(code).expect("a booking code"));
            if acknowledged.len() == KILL_AFTER {
                // SIGKILL: no destructor, no flush, no orderly close of the database.
                child.kill().expect("kill the child");
                break;
            }
        }
    }
    child.wait().expect("reap the child");
    assert_eq!(acknowledged.len(), KILL_AFTER, "the child must have booked");

    let sched = Scheduler::new(SqliteStore::connect(&url).await.expect("reopen"));
    for code in &acknowledged {
        let b = sched.booking(code).await.expect("an acknowledged booking");
        assert_eq!(b.status, BookingStatus::Active);
    }
    let all = all_bookings(&sched, &app).await;
    assert!(all.len() >= KILL_AFTER, "{} bookings", all.len());
    appointment_core::testing::assert_counters_equal_facts(&sched, &app).await;
}

/// The child side of the kill test: books one seat after another on the party and prints each
/// acknowledged code; does nothing unless started by the test.
#[test]
#[ignore = "started by the kill test in a child process"]
fn durability_child() {
    let (Ok(url), Ok(app)) = (std::env::var(CHILD_URL), std::env::var(CHILD_APP)) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async move {
        let app = appointment_core::AppCode::parse(&app).expect("an appointment code");
        let store = SqliteStore::connect_without_migrating(&url)
            .await
            .expect("open");
        let sched = Scheduler::new(store).with_clock(Arc::new(ManualClock::new(epoch())));
        let mut out = std::io::stdout().lock();
        for i in 0..CHILD_MAX_BOOKINGS {
            let b = sched
                .book(guest_booking(
                    &app,
                    at(7, 9),
                    1,
                    &format!("g{i}@example.com"),
                ))
                .await
                .expect("book");
            // Printed only after the store acknowledged the booking.
            writeln!(out, "acknowledged {}", b.code).expect("write");
            out.flush().expect("flush");
        }
    });
}
