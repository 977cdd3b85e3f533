//! Crash consistency of the SQL stores (invariant 3): a seat-changing write abandoned between its
//! seat update and its commit — its future dropped, an error, or the whole process killed —
//! leaves every slot's seats taken equal to the seats of its active bookings, and the booking
//! as it was.
//!
//! The faults are injected by the stores' `test-hooks` feature, at the point after the last
//! statement of the transaction and before its commit.

mod sql_support;

use std::process::Command;
use std::sync::Arc;

use appointment_core::testing::{Fixture, all_bookings, epoch, guest_booking};
use appointment_core::{
    AntiScalping, AppointmentKind, BookingStatus, Error, ManualClock, Reschedule, Scheduler, Store,
};
use appointment_master::store::SqliteStore;
use appointment_master::store::hooks::Fault;
use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::Notify;

/// A store whose next seat-changing write can be made to fail.
trait Faulty: Store + Sized {
    fn arm(&self, fault: Fault);
    async fn reopen(url: &str) -> Self;
}

impl Faulty for SqliteStore {
    fn arm(&self, fault: Fault) {
        self.arm_fault(fault);
    }
    async fn reopen(url: &str) -> Self {
        SqliteStore::connect_without_migrating(url)
            .await
            .expect("reopen the SQLite store")
    }
}

#[cfg(feature = "postgres")]
impl Faulty for appointment_master::store::PostgresStore {
    fn arm(&self, fault: Fault) {
        self.arm_fault(fault);
    }
    async fn reopen(url: &str) -> Self {
        appointment_master::store::PostgresStore::connect_without_migrating(url)
            .await
            .expect("reopen the Postgres store")
    }
}

/// 2030-01-`d` at `h`:00 UTC (the fixture's appointment runs 2030-01-07 to 09, 09:00–12:00).
fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, d, h, 0, 0)
        .single()
        .expect("a valid instant")
}

/// Runs `write` with a `Hang` fault armed, waits until it reached the commit, drops it there.
async fn drop_at_commit<S, F, Fut, T>(f: &Arc<Fixture<S>>, arm: impl Fn(&S, Fault), write: F)
where
    S: Store,
    F: FnOnce(Arc<Fixture<S>>) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let reached = Arc::new(Notify::new());
    arm(
        f.sched.store(),
        Fault::Hang {
            reached: reached.clone(),
        },
    );
    let task = tokio::spawn(write(f.clone()));
    // A bound, not a synchronisation: the write signals when it reached the commit.
    tokio::time::timeout(std::time::Duration::from_secs(60), reached.notified())
        .await
        .expect("the write must reach its commit");
    task.abort();
    let outcome = task.await;
    assert!(
        outcome.is_err_and(|e| e.is_cancelled()),
        "the write must have been dropped before it finished"
    );
}

/// Abandons a booking, a reschedule and a cancellation half way, in each of the ways a future can
/// be abandoned, and checks the counters and the bookings after each.
async fn abandoned_writes_change_nothing<S: Faulty>(store: S) {
    let f = Arc::new(Fixture::new(store).await);
    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
        .await;
    let code = app.code.clone();
    let kept = f
        .guest(&code, at(7, 9), 2, "kept@example.com")
        .await
        .expect("a first booking");

    // A booking whose future is dropped between the seat claim and the commit.
    let c = code.clone();
    drop_at_commit(&f, S::arm, move |f| async move {
        f.guest(&c, at(7, 9), 3, "dropped@example.com").await.ok();
    })
    .await;
    f.assert_counters_equal_facts(&app).await;
    assert_eq!(all_bookings(&f.sched, &app).await.len(), 1);

    // A booking that fails before its commit.
    f.sched.store().arm(Fault::Error);
    let failed = f.guest(&code, at(7, 9), 3, "failed@example.com").await;
    assert!(matches!(failed, Err(Error::Storage(_))), "{failed:?}");
    f.assert_counters_equal_facts(&app).await;
    assert_eq!(all_bookings(&f.sched, &app).await.len(), 1);

    // The seats those two would have taken are free: the slot still takes three more.
    let third = f
        .guest(&code, at(7, 9), 3, "third@example.com")
        .await
        .expect("the abandoned seats are free");

    // A reschedule dropped after releasing the old slot and claiming the new one.
    let k = kept.code.clone();
    drop_at_commit(&f, S::arm, move |f| async move {
        f.sched
            .reschedule(
                &k,
                Reschedule {
                    slot_start: at(8, 10),
                    attendee_count: None,
                },
            )
            .await
            .ok();
    })
    .await;
    f.assert_counters_equal_facts(&app).await;
    let still = f.sched.booking(&kept.code).await.expect("the booking");
    assert_eq!(
        (still.slot_start, still.attendee_count),
        (kept.slot_start, kept.attendee_count)
    );

    // A cancellation dropped after releasing the seats.
    let t = third.code.clone();
    drop_at_commit(&f, S::arm, move |f| async move {
        f.sched.cancel(&t).await.ok();
    })
    .await;
    f.assert_counters_equal_facts(&app).await;
    let active = f.sched.booking(&third.code).await.expect("the booking");
    assert_eq!(active.status, BookingStatus::Active);

    // The store goes on working: the slot is full, and a real cancellation frees seats.
    let full = f.guest(&code, at(7, 9), 1, "late@example.com").await;
    assert!(matches!(full, Err(Error::SlotFull { .. })), "{full:?}");
    f.sched.cancel(&third.code).await.expect("cancel");
    let late = f
        .guest(&code, at(7, 9), 3, "late@example.com")
        .await
        .expect("book the freed seats");
    f.assert_counters_equal_facts(&app).await;
    // The outbox holds the changes that committed, and only those.
    use appointment_core::EventKind::*;
    assert_events(
        &f.sched,
        &[
            (AppointmentCreated, app.id.0),
            (BookingCreated, kept.id.0),
            (BookingCreated, third.id.0),
            (BookingCancelled, third.id.0),
            (BookingCreated, late.id.0),
        ],
    )
    .await;
}

/// Checks that the outbox holds exactly `expected` (kind and subject), in order.
async fn assert_events<S: appointment_core::Store>(
    sched: &Scheduler<S>,
    expected: &[(appointment_core::EventKind, uuid::Uuid)],
) {
    let mut cursor = appointment_core::EventCursor::START;
    let events =
        appointment_core::testing::cases::read_events(sched, None, &mut cursor, expected.len())
            .await;
    let got: Vec<_> = events.iter().map(|e| (e.kind, e.subject_id())).collect();
    assert_eq!(got, expected, "the events are the committed changes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_abandoned_writes_change_nothing() {
    let store = SqliteStore::connect(&sql_support::fresh_sqlite_url())
        .await
        .expect("open");
    abandoned_writes_change_nothing(store).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_abandoned_writes_change_nothing() {
    let Some(url) = sql_support::fresh_postgres_url().await else {
        return;
    };
    let store = appointment_master::store::PostgresStore::connect(&url)
        .await
        .expect("open");
    abandoned_writes_change_nothing(store).await;
}

const CHILD_URL: &str = "AM_CRASH_CHILD_URL";
const CHILD_APP: &str = "AM_CRASH_CHILD_APP";

/// Sets up an appointment with one booking, then has a child process book on the same slot and
/// abort between the seat claim and the commit; the parent reopens the database and checks that
/// nothing of the crashed booking is left.
async fn process_crash_changes_nothing<S: Faulty>(url: &str) {
    let f = Fixture::new(S::reopen(url).await).await;
    let app = f
        .appointment(AppointmentKind::Party, Some(10), AntiScalping::None)
        .await;
    f.guest(&app.code, at(7, 9), 4, "before@example.com")
        .await
        .expect("a booking before the crash");
    drop(f);

    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL, url)
        .env(CHILD_APP, app.code.as_str())
        .output()
        .expect("run the child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("child: booking"),
        "the child must have reached the booking: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(6),
        "the child must have aborted at the commit, not ended otherwise ({:?})",
        out.status
    );

    let sched = Scheduler::new(S::reopen(url).await);
    let bookings = all_bookings(&sched, &app).await;
    assert_eq!(bookings.len(), 1, "the crashed booking must not exist");
    let counters = appointment_core::testing::assert_counters_equal_facts(&sched, &app).await;
    assert_eq!(counters.get(&at(7, 9)), Some(&4));
    assert_events(
        &sched,
        &[
            (appointment_core::EventKind::AppointmentCreated, app.id.0),
            (
                appointment_core::EventKind::BookingCreated,
                bookings[0].id.0,
            ),
        ],
    )
    .await;
}

/// The child side of the process-crash tests: does nothing unless started by one of them.
#[test]
#[ignore = "started by the process-crash tests in a child process"]
fn crash_child() {
    let (Ok(url), Ok(app)) = (std::env::var(CHILD_URL), std::env::var(CHILD_APP)) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async move {
        let app = appointment_core::AppCode::parse(&app).expect("an appointment code");
        let clock = Arc::new(ManualClock::new(epoch()));
        if url.starts_with("sqlite:") {
            let store = SqliteStore::reopen(&url).await;
            store.arm(Fault::Abort);
            let sched = Scheduler::new(store).with_clock(clock);
            println!("child: booking");
            let r = sched
                .book(guest_booking(&app, at(7, 9), 3, "crash@example.com"))
                .await;
            panic!("the booking should have crashed the process: {r:?}");
        }
        #[cfg(feature = "postgres")]
        {
            let store = appointment_master::store::PostgresStore::reopen(&url).await;
            store.arm(Fault::Abort);
            let sched = Scheduler::new(store).with_clock(clock);
            println!("child: booking");
            let r = sched
                .book(guest_booking(&app, at(7, 9), 3, "crash@example.com"))
                .await;
            panic!("the booking should have crashed the process: {r:?}");
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_process_crash_changes_nothing() {
    let url = sql_support::fresh_sqlite_url();
    SqliteStore::connect(&url).await.expect("create the schema");
    process_crash_changes_nothing::<SqliteStore>(&url).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_process_crash_changes_nothing() {
    let Some(url) = sql_support::fresh_postgres_url().await else {
        return;
    };
    appointment_master::store::PostgresStore::connect(&url)
        .await
        .expect("create the schema");
    process_crash_changes_nothing::<appointment_master::store::PostgresStore>(&url).await;
}

/// An edit of an appointment waits for a booking that was checked against the appointment's
/// revision before the edit and has not committed yet (Postgres locks the appointment row for
/// both), so the edit's count of bookings outside the new hours includes it: no booking commits
/// under hours that an edit has already replaced.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_an_edit_waits_for_a_booking_checked_before_it() {
    use appointment_core::chrono::NaiveDate;
    use appointment_core::{AppointmentChanges, Closure};

    let Some(url) = sql_support::fresh_postgres_url().await else {
        return;
    };
    let store = appointment_master::store::PostgresStore::connect(&url)
        .await
        .expect("open");
    let pool = store.pool().clone();
    let f = Arc::new(Fixture::new(store).await);
    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
        .await;
    let (reached, resume) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    f.sched.store().arm(Fault::Pause {
        reached: reached.clone(),
        resume: resume.clone(),
    });
    let booker = f.clone();
    let code = app.code.clone();
    let booking = tokio::spawn(async move {
        booker
            .sched
            .book(guest_booking(&code, at(7, 9), 1, "early@example.com"))
            .await
    });
    // A bound, not a synchronisation: the booking signals when it reached its commit.
    tokio::time::timeout(std::time::Duration::from_secs(60), reached.notified())
        .await
        .expect("the booking must reach its commit");

    // The owner closes 2030-01-07, the booking's day, while the booking is uncommitted.
    let editor = f.clone();
    let code = app.code.clone();
    let mut edit = tokio::spawn(async move {
        let day = NaiveDate::from_ymd_opt(2030, 1, 7).expect("a date");
        let changes = AppointmentChanges {
            closures: Some(vec![Closure::new(day, day, None).expect("a closure")]),
            ..AppointmentChanges::default()
        };
        editor
            .sched
            .update_appointment(editor.owner.id, &code, changes)
            .await
    });
    // The edit must be waiting for a lock (the booking's), not done.
    let waiting = async {
        loop {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .fetch_one(&pool)
            .await
            .expect("pg_stat_activity");
            if n > 0 {
                return;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::select! {
        () = waiting => {}
        done = &mut edit => panic!("the edit did not wait for the booking: {done:?}"),
    }
    resume.notify_one();
    let b = booking.await.expect("task").expect("the booking commits");
    assert_eq!(b.slot_start, at(7, 9));
    let edit = edit
        .await
        .expect("task")
        .expect("the edit applies after it");
    assert_eq!(
        edit.bookings_outside_hours, 1,
        "the edit sees the booking it waited for"
    );
    assert_eq!(edit.appointment.revision, 1);
}
