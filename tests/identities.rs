//! Identities across every store: bans and anti-scalping compare the canonical mailbox (`+tag`
//! aliases and compatibility spellings are one booker), strict appointments take one registered
//! booking per user and per device, and rows written under laxer rules stay readable.
//!
//! Memory and SQLite always run; Postgres runs when `TEST_POSTGRES_URL` is set.

mod sql_support;

use appointment_core::testing::{Fixture, guest_booking};
use appointment_core::{
    AntiScalping, AppointmentKind, AttendeeCount, Booker, DeviceId, Duplicate, Email, Error,
    Reschedule, Store,
};
use appointment_master::MemoryStore;
use appointment_master::store::SqliteStore;
use chrono::{DateTime, TimeZone, Utc};

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, d, h, 0, 0)
        .single()
        .expect("a valid instant")
}

fn email(s: &str) -> Email {
    Email::parse(s).expect("a valid email")
}

/// Spellings of `victim@example.com` that must count as the victim.
const SAME_MAILBOX: &[&str] = &[
    "victim@example.com",
    "victim+1@example.com",
    "Victim+promo@Example.COM",
    "ｖｉｃｔｉｍ@example.com",
    "victim＠ｅｘａｍｐｌｅ．ｃｏｍ",
];

async fn ban_covers_every_alias<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(50), AntiScalping::None)
        .await;
    let ban = f
        .sched
        .ban(f.owner.id, email("Victim+Spam@example.com"))
        .await
        .expect("ban");
    assert_eq!(ban.email.as_str(), "victim@example.com");
    for spelling in SAME_MAILBOX {
        match f.guest(&app.code, at(7, 9), 1, spelling).await {
            Err(Error::Banned) => {}
            other => panic!("{spelling}: expected Banned, got {other:?}"),
        }
    }
    // A registered user on an alias of the mailbox is banned too.
    let user = f.user("Vic", "victim+account@example.com").await;
    let mut req = guest_booking(&app.code, at(7, 9), 1, "unused@example.com");
    req.booker = Booker::User(user.id);
    assert!(matches!(f.sched.book(req).await, Err(Error::Banned)));
    // Another alias is the same ban.
    assert!(matches!(
        f.sched.ban(f.owner.id, email("victim+2@example.com")).await,
        Err(Error::Duplicate(Duplicate::Ban))
    ));
    f.sched
        .unban(f.owner.id, &email("VICTIM+3@example.com"))
        .await
        .expect("unban through an alias");
    f.guest(&app.code, at(7, 9), 1, "victim+1@example.com")
        .await
        .expect("no longer banned");
    f.assert_counters_equal_facts(&app).await;
}

async fn a_ban_on_the_mailbox_stops_an_alias_from_rescheduling<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(50), AntiScalping::Standard)
        .await;
    let booking = f
        .guest(&app.code, at(7, 9), 1, "victim+1@example.com")
        .await
        .expect("book");
    f.sched
        .ban(f.owner.id, email("ＶＩＣＴＩＭ@example.com"))
        .await
        .expect("ban");
    let change = Reschedule {
        slot_start: at(8, 9),
        attendee_count: Some(AttendeeCount::new(5).expect("count")),
    };
    assert!(matches!(
        f.sched.reschedule(&booking.code, change).await,
        Err(Error::Banned)
    ));
    f.assert_counters_equal_facts(&app).await;
}

async fn standard_anti_scalping_counts_aliases_once<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(50), AntiScalping::Standard)
        .await;
    let first = f
        .guest(&app.code, at(7, 9), 1, "victim+0@example.com")
        .await
        .expect("first");
    // The address is kept as given.
    assert_eq!(first.email.as_str(), "victim+0@example.com");
    for spelling in SAME_MAILBOX {
        match f.guest(&app.code, at(8, 9), 1, spelling).await {
            Err(Error::Duplicate(Duplicate::BookingEmail)) => {}
            other => panic!("{spelling}: expected a duplicate, got {other:?}"),
        }
    }
    let mut booked = 1;
    for n in 1..=20 {
        if f.guest(&app.code, at(8, 10), 1, &format!("victim+{n}@example.com"))
            .await
            .is_ok()
        {
            booked += 1;
        }
    }
    assert_eq!(booked, 1);
    f.sched.cancel(&first.code).await.expect("cancel");
    f.guest(&app.code, at(8, 9), 1, "victim+9@example.com")
        .await
        .expect("the mailbox may book again");
    f.assert_counters_equal_facts(&app).await;
}

async fn strict_takes_one_registered_booking_per_mailbox_and_device<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(20), AntiScalping::Strict)
        .await;
    let mut booked = 0;
    for n in 0..20 {
        // Guests with fresh devices: refused before anything is written.
        let mut guest = guest_booking(&app.code, at(7, 9), 1, &format!("scalper+{n}@example.com"));
        guest.device_id = Some(DeviceId::parse(&format!("dev-{n}")).expect("device"));
        assert!(matches!(
            f.sched.book(guest.clone()).await,
            Err(Error::RegistrationRequired)
        ));
        // Accounts on aliases of one mailbox, each with its own device: one booking.
        let user = f.user("Scalper", &format!("scalper+{n}@example.com")).await;
        guest.booker = Booker::User(user.id);
        match f.sched.book(guest).await {
            Ok(_) => booked += 1,
            Err(Error::Duplicate(Duplicate::BookingEmail)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(booked, 1);
    f.assert_counters_equal_facts(&app).await;
}

async fn memory() -> MemoryStore {
    MemoryStore::new()
}

async fn sqlite() -> SqliteStore {
    SqliteStore::connect(&sql_support::fresh_sqlite_url())
        .await
        .expect("open a fresh SQLite store")
}

macro_rules! on_every_store {
    ($($case:ident),* $(,)?) => {
        mod on_memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::memory().await).await;
            })*
        }
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::sqlite().await).await;
            })*
        }
        #[cfg(feature = "postgres")]
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(url) = super::sql_support::fresh_postgres_url().await else {
                    return;
                };
                let store = appointment_master::store::PostgresStore::connect(&url)
                    .await
                    .expect("open a fresh Postgres store");
                super::$case(store).await;
            })*
        }
    };
}

on_every_store!(
    ban_covers_every_alias,
    a_ban_on_the_mailbox_stops_an_alias_from_rescheduling,
    standard_anti_scalping_counts_aliases_once,
    strict_takes_one_registered_booking_per_mailbox_and_device,
);

/// Rows written before the stricter rules (an address literal, a quoted local part, a device id
/// with a space) are still read, and a ban written with a `+tag` still blocks its exact alias.
#[tokio::test]
async fn rows_written_under_laxer_rules_stay_readable() {
    let url = sql_support::fresh_sqlite_url();
    let store = SqliteStore::connect(&url).await.expect("open");
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
        .await;
    let booking = f
        .guest(&app.code, at(7, 9), 1, "plain@example.com")
        .await
        .expect("book");
    let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
    sqlx::query("UPDATE bookings SET email = '\"odd one\"@[127.0.0.1]', device_id = 'Old Device'")
        .execute(&pool)
        .await
        .expect("write an old-style row");
    pool.close().await;
    let read = f.sched.booking(&booking.code).await.expect("read back");
    assert_eq!(read.email.as_str(), "\"odd one\"@[127.0.0.1]");
    assert_eq!(read.device_id.expect("device").as_str(), "Old Device");
}
