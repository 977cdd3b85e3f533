//! The SQL stores' migrations: up, down to zero, up again, and to a given version; after `up` the
//! schema is what the code expects (the tables and unique indexes are there, and conformance
//! flows pass on a database that went down and up again).

mod sql_support;

use appointment_core::testing::cases;
use appointment_master::store::SqliteStore;
use sqlx::Connection;

/// Tables of the full schema (besides the migrator's own).
const ALL_TABLES: &[&str] = &[
    "appointments",
    "bans",
    "bookings",
    "calendar_feeds",
    "holds",
    "idempotency_keys",
    "mail_cursor",
    "mail_messages",
    "outbox",
    "revoked_tokens",
    "slot_seats",
    "users",
    "waitlist",
    "webhook_cursor",
    "webhook_deliveries",
    "webhook_endpoints",
];

/// Tables present after migration 3.
const TABLES_AT_3: &[&str] = &["appointments", "bookings", "slot_seats", "users"];

/// Unique indexes that carry rules of the Store contract.
const RULE_INDEXES: &[&str] = &[
    "bookings_guard_email_key",
    "bookings_guard_device_key",
    "bookings_pending_slot_idx",
    "users_phone_key",
    // What the expiry sweeper reads (migration 18).
    "holds_held_expiry_idx",
    "bookings_pending_deadline_idx",
];

async fn sqlite_tables(url: &str) -> Vec<String> {
    let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
    sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut c)
    .await
    .expect("list tables")
}

async fn sqlite_indexes(url: &str) -> Vec<String> {
    let mut c = sqlx::SqliteConnection::connect(url).await.expect("connect");
    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
        .fetch_all(&mut c)
        .await
        .expect("list indexes")
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_up_down_up() {
    let url = sql_support::fresh_sqlite_url();
    let known = SqliteStore::known_migrations();
    assert_eq!(
        known,
        vec![
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18
        ]
    );
    let latest = *known.last().expect("migrations");

    let store = SqliteStore::connect_without_migrating(&url)
        .await
        .expect("open");
    assert_eq!(store.applied_version().await.expect("version"), 0);
    assert!(sqlite_tables(&url).await.is_empty());

    store.migrate_up().await.expect("up");
    assert_eq!(store.applied_version().await.expect("version"), latest);
    assert_eq!(sqlite_tables(&url).await, names(ALL_TABLES));
    let indexes = sqlite_indexes(&url).await;
    for ix in RULE_INDEXES {
        assert!(indexes.iter().any(|i| i == ix), "index {ix} in {indexes:?}");
    }

    store.migrate_down_to(0).await.expect("down");
    assert_eq!(store.applied_version().await.expect("version"), 0);
    assert!(sqlite_tables(&url).await.is_empty());

    store.migrate_to(3).await.expect("to 3");
    assert_eq!(store.applied_version().await.expect("version"), 3);
    assert_eq!(sqlite_tables(&url).await, names(TABLES_AT_3));
    store.migrate_to(latest).await.expect("to latest");
    store.migrate_to(1).await.expect("to 1");
    assert_eq!(sqlite_tables(&url).await, names(&["users"]));

    store.migrate_up().await.expect("up again");
    assert_eq!(store.applied_version().await.expect("version"), latest);
    assert_eq!(sqlite_tables(&url).await, names(ALL_TABLES));
    store.close().await;

    // The schema that went down and up again is the one the code expects.
    let store = || async { SqliteStore::connect(&url).await.expect("reopen") };
    cases::guest_books_and_finds_by_code(store().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_flows_after_down_and_up() {
    for case in 0..8 {
        let url = sql_support::fresh_sqlite_url();
        let store = SqliteStore::connect(&url).await.expect("open");
        store.migrate_down_to(0).await.expect("down");
        store.migrate_up().await.expect("up");
        match case {
            0 => cases::reschedule_moves_seats_atomically(store).await,
            1 => cases::anti_scalping_strict_needs_device_one_per_device(store).await,
            2 => cases::race_party_500_tasks_100_seats(store).await,
            3 => cases::analytics_counts_bookings_and_seats(store).await,
            // Migration 8 rebuilds the bookings table: its resource triggers and lifecycle
            // statuses must be there after a way down and up again.
            4 => cases::race_resource_across_appointments(store).await,
            5 => cases::owner_marks_completed_and_no_show_after_the_start(store).await,
            // Migration 11 rebuilds the bookings table again, and the holds that refer to it.
            6 => cases::race_bookings_for_the_seats_of_expired_pending_ones(store).await,
            _ => cases::race_holds_and_bookings_for_the_last_seats(store).await,
        }
    }
}

/// Going down from the holds migration gives the seats of held holds back to their slots, so
/// the counters of the earlier schema equal its active bookings again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_down_from_holds_gives_held_seats_back() {
    use appointment_core::testing::{Fixture, at};
    use appointment_core::{AntiScalping, AppointmentKind};
    let url = sql_support::fresh_sqlite_url();
    let store = SqliteStore::connect(&url).await.expect("open");
    let f = Fixture::new(store.clone()).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
        .await;
    f.guest(&app.code, at(7, 9), 2, "a@example.com")
        .await
        .expect("book");
    f.hold(&app.code, at(7, 9), 3).await.expect("hold");
    f.hold(&app.code, at(7, 10), 1).await.expect("hold");
    store.migrate_down_to(8).await.expect("down to 8");
    let mut c = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    let counters: Vec<i64> =
        sqlx::query_scalar("SELECT seats_taken FROM slot_seats ORDER BY slot_start")
            .fetch_all(&mut c)
            .await
            .expect("counters");
    assert_eq!(counters, vec![2, 0]);
    store.migrate_up().await.expect("up again");
    let holds: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM holds")
        .fetch_one(&mut c)
        .await
        .expect("holds");
    assert_eq!(holds, 0);
    // The slot's three freed seats can be booked again.
    f.guest(&app.code, at(7, 9), 3, "b@example.com")
        .await
        .expect("the held seats are back");
    f.assert_counters_equal_facts(&app).await;
}

/// Going down from the approval migration keeps the counters equal to the bookings of the
/// earlier schema: a pending booking still in time becomes active with its seats, a declined one
/// rejected; a booked hold keeps its booking through the rebuilt tables.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_down_from_approval_keeps_bookings_and_holds() {
    use appointment_core::testing::{Fixture, at};
    use appointment_core::{AntiScalping, AppointmentKind, BookingStatus};
    let url = sql_support::fresh_sqlite_url();
    let store = SqliteStore::connect(&url).await.expect("open");
    let f = Fixture::new(store.clone()).await;
    let schedule = appointment_core::testing::fixture_schedule()
        .confirm_within_minutes(Some(60))
        .build()
        .expect("schedule");
    let app = f
        .appointment_with(
            AppointmentKind::Group,
            Some(5),
            AntiScalping::None,
            schedule,
        )
        .await;
    let pending = f
        .guest(&app.code, at(7, 9), 2, "a@example.com")
        .await
        .expect("book");
    assert_eq!(pending.status, BookingStatus::Pending);
    let declined = f
        .guest(&app.code, at(7, 9), 1, "b@example.com")
        .await
        .expect("book");
    f.sched
        .decline(f.owner.id, &declined.code)
        .await
        .expect("decline");
    let hold = f.hold(&app.code, at(7, 10), 2).await.expect("hold");
    let from_hold = f
        .book_hold(&hold, "c@example.com")
        .await
        .expect("book hold");
    store
        .migrate_down_to(10)
        .await
        .expect("down to 10 (through 12 and 11)");
    let mut c = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    let statuses: Vec<(String, String)> =
        sqlx::query_as("SELECT email, status FROM bookings ORDER BY email")
            .fetch_all(&mut c)
            .await
            .expect("statuses");
    let expect = |e: &str, s: &str| (e.to_owned(), s.to_owned());
    // The booking made of the hold was pending too: in time, it is active now.
    assert_eq!(
        statuses,
        vec![
            expect("a@example.com", "active"),
            expect("b@example.com", "rejected"),
            expect("c@example.com", "active"),
        ]
    );
    let counters: Vec<i64> =
        sqlx::query_scalar("SELECT seats_taken FROM slot_seats ORDER BY slot_start")
            .fetch_all(&mut c)
            .await
            .expect("counters");
    assert_eq!(counters, vec![2, 2]);
    let booked: Option<String> = sqlx::query_scalar("SELECT booking_id FROM holds")
        .fetch_one(&mut c)
        .await
        .expect("the hold is kept");
    assert_eq!(booked, Some(from_hold.id.to_string()));
    store.migrate_up().await.expect("up again");
    f.assert_counters_equal_facts(&app).await;
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use appointment_master::store::PostgresStore;

    async fn tables(url: &str) -> Vec<String> {
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
             ORDER BY table_name",
        )
        .fetch_all(&mut c)
        .await
        .expect("list tables")
    }

    async fn indexes(url: &str) -> Vec<String> {
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect");
        sqlx::query_scalar(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
        )
        .fetch_all(&mut c)
        .await
        .expect("list indexes")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_up_down_up() {
        let Some(url) = sql_support::fresh_postgres_url().await else {
            return;
        };
        let known = PostgresStore::known_migrations();
        assert_eq!(
            known,
            vec![
                1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18
            ]
        );
        let latest = *known.last().expect("migrations");

        let store = PostgresStore::connect_without_migrating(&url)
            .await
            .expect("open");
        assert_eq!(store.applied_version().await.expect("version"), 0);
        assert!(tables(&url).await.is_empty());

        store.migrate_up().await.expect("up");
        assert_eq!(store.applied_version().await.expect("version"), latest);
        assert_eq!(tables(&url).await, names(ALL_TABLES));
        let ix = indexes(&url).await;
        for name in RULE_INDEXES {
            assert!(ix.iter().any(|i| i == name), "index {name} in {ix:?}");
        }

        store.migrate_down_to(0).await.expect("down");
        assert_eq!(store.applied_version().await.expect("version"), 0);
        assert!(tables(&url).await.is_empty());

        store.migrate_to(3).await.expect("to 3");
        assert_eq!(store.applied_version().await.expect("version"), 3);
        assert_eq!(tables(&url).await, names(TABLES_AT_3));
        store.migrate_to(1).await.expect("to 1");
        assert_eq!(tables(&url).await, names(&["users"]));

        store.migrate_up().await.expect("up again");
        assert_eq!(store.applied_version().await.expect("version"), latest);
        assert_eq!(tables(&url).await, names(ALL_TABLES));
        store.close().await;

        // Connecting to an up-to-date database applies nothing and keeps working.
        let store = PostgresStore::connect(&url).await.expect("reopen");
        cases::reschedule_moves_seats_atomically(store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_flows_after_down_and_up() {
        for case in 0..5 {
            let Some(url) = sql_support::fresh_postgres_url().await else {
                return;
            };
            let store = PostgresStore::connect(&url).await.expect("open");
            store.migrate_down_to(0).await.expect("down");
            store.migrate_up().await.expect("up");
            match case {
                0 => cases::guest_books_and_finds_by_code(store).await,
                1 => cases::race_standard_same_email(store).await,
                2 => cases::race_holds_and_bookings_for_the_last_seats(store).await,
                3 => cases::race_confirm_decline_and_cancel(store).await,
                _ => cases::race_reschedule_cancel_and_book(store).await,
            }
        }
    }

    /// Replicas starting at the same moment each apply pending migrations; the migrator's lock
    /// makes them take turns, and all of them end up on the latest version.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_concurrent_connects_migrate_once() {
        let Some(url) = sql_support::fresh_postgres_url().await else {
            return;
        };
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                PostgresStore::connect(&url).await.map(|_| ())
            }));
        }
        for t in tasks {
            t.await.expect("task").expect("connect and migrate");
        }
        let store = PostgresStore::connect_without_migrating(&url)
            .await
            .expect("open");
        assert_eq!(store.applied_version().await.expect("version"), 18);
        assert_eq!(tables(&url).await, names(ALL_TABLES));
    }
}
