//! The store conformance suite: the behaviour every [`Store`] must show, written once.
//!
//! A backend runs it with one macro call in a test file:
//!
//! ```text
//! async fn new_store() -> Option<MyStore> {
//!     Some(MyStore::open_fresh().await)
//! }
//! appointment_core::store_conformance_suite!(new_store);
//! ```
//!
//! The macro expands into one `#[test]` per case, so the first failure does not hide the others.
//! Each case runs on its own multi-thread runtime with a fresh store from `new_store()`; `None`
//! skips the case (the caller says why). The concurrency cases race real tasks and check exact
//! outcomes, then check that every slot's seat counter equals the seats of its active bookings.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{
    AntiScalping, AppCode, Appointment, AppointmentKind, AttendeeCount, Booker, Booking,
    BookingCode, BookingStatus, DeviceId, Duplicate, Email, Entity, Error, ManualClock, Name,
    NewAppointment, NewBooking, NewUser, Page, Reschedule, Schedule, Scheduler, SlotQuery, Store,
    TimeZoneName, User,
};

/// Runs one case: builds a multi-thread runtime, makes a store and hands it to the case.
pub fn run_case<S, F, Fut, C, CFut>(new_store: F, case: C)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Option<S>>,
    C: FnOnce(S) -> CFut,
    CFut: Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        if let Some(store) = new_store().await {
            case(store).await;
        }
    });
}

/// Expands into one test per conformance case for the store made by `$new_store`, an
/// `async fn() -> Option<S>` where `S: Store`.
#[macro_export]
macro_rules! store_conformance_suite {
    ($new_store:path) => {
        $crate::store_conformance_suite!(@cases $new_store;
            users_are_unique_by_email_and_phone,
            appointment_is_one_row_with_computed_slots,
            appointment_input_is_validated,
            slots_are_listed_and_paginated,
            slots_by_local_day,
            slots_respect_notice_horizon_and_past,
            full_slots_are_hidden,
            guest_books_and_finds_by_code,
            registered_user_books_with_profile,
            booking_needs_a_real_bookable_slot,
            single_takes_one_attendee_per_slot,
            group_capacity_spans_bookings,
            party_has_one_shared_capacity,
            ban_list_add_remove_list,
            ban_blocks_guests_case_insensitively,
            ban_blocks_registered_users,
            ban_wins_over_a_full_slot,
            duplicate_wins_over_a_full_slot,
            anti_scalping_none_allows_repeats,
            anti_scalping_standard_one_per_email,
            anti_scalping_strict_needs_device_one_per_device,
            cancel_frees_seats_once,
            reject_is_owner_only_and_frees_seats,
            reschedule_moves_seats_atomically,
            appointment_bookings_are_owner_only,
            analytics_counts_bookings_and_seats,
            slots_follow_the_time_zone,
            race_single_slot_64_tasks,
            race_group_slot_random_sizes,
            race_party_500_tasks_100_seats,
            race_standard_same_email,
            race_reschedule_cancel_and_book,
            read_cache_shows_its_own_writes_at_once,
            read_cache_shows_other_writers_after_its_ttl,
            race_read_cache_listings_and_bookings,
        );
    };
    (@cases $new_store:path; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::testing::run_case($new_store, $crate::testing::cases::$case);
            }
        )*
    };
}

/// The instant the suite's clock shows: 2030-01-01 00:00 UTC (a Tuesday).
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid instant")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("a valid time")
}

fn email(s: &str) -> Email {
    Email::parse(s).expect("a valid email")
}

/// A scheduler on a pinned clock, with one registered owner.
pub struct Fixture<S: Store> {
    /// The scheduler under test.
    pub sched: Scheduler<S>,
    /// Its clock, at [`epoch`] to begin with.
    pub clock: Arc<ManualClock>,
    /// A registered user who owns the appointments made by [`Fixture::appointment`].
    pub owner: User,
}

impl<S: Store> std::fmt::Debug for Fixture<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("owner", &self.owner)
            .finish()
    }
}

impl<S: Store> Fixture<S> {
    /// Wraps a fresh store.
    pub async fn new(store: S) -> Self {
        let clock = Arc::new(ManualClock::new(epoch()));
        let sched = Scheduler::new(store).with_clock(clock.clone());
        let owner = sched
            .register_user(new_user("Owner", "owner@example.com", None))
            .await
            .expect("register the owner");
        Fixture {
            sched,
            clock,
            owner,
        }
    }

    /// Registers another user.
    pub async fn user(&self, name: &str, mail: &str) -> User {
        self.sched
            .register_user(new_user(name, mail, None))
            .await
            .expect("register a user")
    }

    /// Creates an appointment of the owner: 2030-01-07 (a Monday) to `days` days later,
    /// 09:00–12:00 UTC, 60-minute slots.
    pub async fn appointment(
        &self,
        kind: AppointmentKind,
        capacity: Option<u32>,
        anti_scalping: AntiScalping,
    ) -> Appointment {
        let schedule = Schedule::builder(
            date(2030, 1, 7),
            date(2030, 1, 9),
            time(9, 0),
            time(12, 0),
            60,
        )
        .build()
        .expect("a valid schedule");
        self.appointment_with(kind, capacity, anti_scalping, schedule)
            .await
    }

    /// Creates an appointment of the owner with the given schedule.
    pub async fn appointment_with(
        &self,
        kind: AppointmentKind,
        capacity: Option<u32>,
        anti_scalping: AntiScalping,
        schedule: Schedule,
    ) -> Appointment {
        self.sched
            .create_appointment(
                self.owner.id,
                NewAppointment {
                    title: "Consultation".into(),
                    description: "Conformance".into(),
                    kind,
                    capacity,
                    anti_scalping,
                    schedule,
                },
            )
            .await
            .expect("create an appointment")
    }

    /// Books as a guest.
    pub async fn guest(
        &self,
        app: &AppCode,
        start: DateTime<Utc>,
        count: u32,
        mail: &str,
    ) -> crate::Result<Booking> {
        self.sched
            .book(guest_booking(app, start, count, mail))
            .await
    }

    /// The fixture's scheduler with a read cache of its own that keeps pages for `ttl`; the
    /// fixture's own scheduler then stands for another process on the same store.
    pub fn cached(&self, ttl: TimeDelta) -> Scheduler<S> {
        self.sched
            .clone()
            .with_read_cache(ttl.to_std().expect("a positive time to live"))
    }

    /// Checks invariant 3: every slot's counter equals the seats of its active bookings.
    pub async fn assert_counters_equal_facts(&self, app: &Appointment) {
        assert_counters_equal_facts(&self.sched, app).await;
    }
}

/// A new user with a placeholder credential.
pub fn new_user(name: &str, mail: &str, phone: Option<&str>) -> NewUser {
    NewUser {
        name: Name::parse(name).expect("a valid name"),
        email: email(mail),
        phone: phone.map(|p| crate::Phone::parse(p).expect("a valid phone")),
        password_hash: "opaque".into(),
    }
}

/// A guest booking request.
pub fn guest_booking(app: &AppCode, start: DateTime<Utc>, count: u32, mail: &str) -> NewBooking {
    NewBooking {
        app_code: app.clone(),
        slot_start: start,
        attendee_count: AttendeeCount::new(count).expect("count >= 1"),
        booker: Booker::Guest {
            name: Name::parse("Guest").expect("a valid name"),
            email: email(mail),
            phone: None,
        },
        description: String::new(),
        device_id: None,
    }
}

/// Every booking of an appointment, across pages.
pub async fn all_bookings<S: Store + ?Sized>(
    sched: &Scheduler<S>,
    app: &Appointment,
) -> Vec<Booking> {
    let mut out = Vec::new();
    let mut page = 1;
    loop {
        let p = sched
            .store()
            .bookings_for_appointment(app.id, Page::new(page, 100).expect("a page"))
            .await
            .expect("list bookings");
        let last = u64::from(page) >= p.total_pages;
        out.extend(p.items);
        if last {
            return out;
        }
        page += 1;
    }
}

/// Checks invariant 3 for one appointment: every slot's counter equals the seats of its active
/// bookings, and no slot holds more than the capacity. Returns the seats taken per slot.
pub async fn assert_counters_equal_facts<S: Store + ?Sized>(
    sched: &Scheduler<S>,
    app: &Appointment,
) -> HashMap<DateTime<Utc>, u32> {
    let mut facts: HashMap<DateTime<Utc>, u32> = HashMap::new();
    for b in all_bookings(sched, app).await {
        if b.status == BookingStatus::Active {
            *facts.entry(b.slot_start).or_default() += b.attendee_count.get();
        }
    }
    let counters: HashMap<DateTime<Utc>, u32> = sched
        .store()
        .seats_taken(app.id, DateTime::<Utc>::MIN_UTC..DateTime::<Utc>::MAX_UTC)
        .await
        .expect("read counters")
        .into_iter()
        .filter(|s| s.seats_taken > 0)
        .map(|s| (s.slot_start, s.seats_taken))
        .collect();
    assert_eq!(
        counters, facts,
        "seat counters must equal the active bookings"
    );
    for (slot, n) in &counters {
        assert!(
            *n <= app.capacity,
            "slot {slot} holds {n} > capacity {}",
            app.capacity
        );
    }
    counters
}

/// The conformance cases, each an `async fn(store)`. Run them through
/// [`store_conformance_suite!`](crate::store_conformance_suite).
pub mod cases {
    use super::*;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, d, h, 0, 0)
            .single()
            .expect("a valid instant")
    }

    macro_rules! assert_err {
        ($e:expr, $p:pat) => {
            match $e {
                Err($p) => {}
                other => panic!("expected {}, got {:?}", stringify!($p), other),
            }
        };
    }

    /// Users: unique email (case-insensitive) and phone.
    pub async fn users_are_unique_by_email_and_phone<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let u = f
            .sched
            .register_user(new_user("Ann", "ann@example.com", Some("+4915112345678")))
            .await
            .expect("register");
        assert_eq!(f.sched.user(u.id).await.expect("get").email, u.email);
        let found = f
            .sched
            .user_by_email(&email("ANN@example.com"))
            .await
            .expect("lookup");
        assert_eq!(found.map(|x| x.id), Some(u.id));
        assert_err!(
            f.sched
                .register_user(new_user("Ann 2", "Ann@Example.com", None))
                .await,
            Error::Duplicate(Duplicate::UserEmail)
        );
        assert_err!(
            f.sched
                .register_user(new_user(
                    "Ann 3",
                    "ann3@example.com",
                    Some("+49 151 12345678")
                ))
                .await,
            Error::Duplicate(Duplicate::UserPhone)
        );
        // Two users without phones are fine.
        f.user("B", "b@example.com").await;
        f.user("C", "c@example.com").await;
        assert_err!(
            f.sched.user(crate::UserId::new()).await,
            Error::NotFound(Entity::User)
        );
    }

    /// Creating a long appointment stores it once; its slots are computed.
    pub async fn appointment_is_one_row_with_computed_slots<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let schedule = Schedule::builder(
            date(2030, 1, 1),
            date(2030, 12, 31),
            time(9, 0),
            time(17, 0),
            15,
        )
        .build()
        .expect("schedule");
        let app = f
            .appointment_with(
                AppointmentKind::Group,
                Some(3),
                AntiScalping::None,
                schedule,
            )
            .await;
        let got = f.sched.appointment(&app.code).await.expect("get");
        assert_eq!(got, app);
        let mine = f
            .sched
            .my_appointments(f.owner.id, Page::default())
            .await
            .expect("mine");
        assert_eq!(mine.total, 1);
        assert_eq!(mine.items[0].code, app.code);
        let slots = f
            .sched
            .available_slots(&app.code, SlotQuery::default())
            .await
            .expect("slots");
        assert_eq!(slots.total, 365 * 32);
        assert!(
            f.sched
                .store()
                .seats_taken(app.id, DateTime::<Utc>::MIN_UTC..DateTime::<Utc>::MAX_UTC)
                .await
                .expect("seats")
                .is_empty()
        );
        assert_err!(
            f.sched.appointment(&AppCode::generate()).await,
            Error::NotFound(Entity::Appointment)
        );
    }

    /// Bad appointment input is refused with the field named, and nothing is written.
    pub async fn appointment_input_is_validated<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let schedule = Schedule::builder(
            date(2030, 1, 7),
            date(2030, 1, 7),
            time(9, 0),
            time(10, 0),
            30,
        )
        .build()
        .expect("schedule");
        let mk = |kind, capacity, title: &str| NewAppointment {
            title: title.into(),
            description: String::new(),
            kind,
            capacity,
            anti_scalping: AntiScalping::None,
            schedule: schedule.clone(),
        };
        assert_err!(
            f.sched
                .create_appointment(f.owner.id, mk(AppointmentKind::Single, Some(2), "x"))
                .await,
            Error::InvalidInput {
                field: "max_attendees",
                ..
            }
        );
        assert_err!(
            f.sched
                .create_appointment(f.owner.id, mk(AppointmentKind::Group, None, "x"))
                .await,
            Error::InvalidInput {
                field: "max_attendees",
                ..
            }
        );
        assert_err!(
            f.sched
                .create_appointment(f.owner.id, mk(AppointmentKind::Party, Some(0), "x"))
                .await,
            Error::InvalidInput {
                field: "max_attendees",
                ..
            }
        );
        assert_err!(
            f.sched
                .create_appointment(f.owner.id, mk(AppointmentKind::Group, Some(2), "  "))
                .await,
            Error::InvalidInput { field: "title", .. }
        );
        assert_err!(
            f.sched
                .create_appointment(crate::UserId::new(), mk(AppointmentKind::Single, None, "x"))
                .await,
            Error::NotFound(Entity::User)
        );
        let mine = f
            .sched
            .my_appointments(f.owner.id, Page::default())
            .await
            .expect("mine");
        assert_eq!(mine.total, 0, "refused input must write nothing");
    }

    /// Slots are listed in order, paginated, with capacity and seats left.
    pub async fn slots_are_listed_and_paginated<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(4), AntiScalping::None)
            .await;
        // 3 days × 3 slots.
        let p1 = f
            .sched
            .available_slots(
                &app.code,
                SlotQuery {
                    day: None,
                    page: Page::new(1, 4).expect("page"),
                },
            )
            .await
            .expect("slots");
        assert_eq!((p1.total, p1.total_pages, p1.items.len()), (9, 3, 4));
        assert_eq!(p1.items[0].slot.start, at(7, 9));
        assert_eq!(p1.items[0].slot.end, at(7, 10));
        assert_eq!(p1.items[3].slot.start, at(8, 9));
        assert_eq!((p1.items[0].capacity, p1.items[0].seats_left), (4, 4));
        let p3 = f
            .sched
            .available_slots(
                &app.code,
                SlotQuery {
                    day: None,
                    page: Page::new(3, 4).expect("page"),
                },
            )
            .await
            .expect("slots");
        assert_eq!(p3.items.len(), 1);
        assert_eq!(p3.items[0].slot.start, at(9, 11));
        let p9 = f
            .sched
            .available_slots(
                &app.code,
                SlotQuery {
                    day: None,
                    page: Page::new(9, 4).expect("page"),
                },
            )
            .await
            .expect("slots");
        assert!(p9.items.is_empty());
        let mut paged = p1.items.clone();
        for page in 2..=3 {
            let q = SlotQuery {
                day: None,
                page: Page::new(page, 4).expect("page"),
            };
            paged.extend(
                f.sched
                    .available_slots(&app.code, q)
                    .await
                    .expect("slots")
                    .items,
            );
        }
        let all = f
            .sched
            .all_available_slots(&app.code, None)
            .await
            .expect("all slots");
        assert_eq!(all, paged, "the pages together are all the slots");
        f.guest(&app.code, at(7, 9), 3, "a@example.com")
            .await
            .expect("book");
        let p1 = f
            .sched
            .available_slots(&app.code, SlotQuery::default())
            .await
            .expect("slots");
        assert_eq!((p1.items[0].seats_taken, p1.items[0].seats_left), (3, 1));
    }

    /// Slots of one local day.
    pub async fn slots_by_local_day<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Single, None, AntiScalping::None)
            .await;
        let day = f
            .sched
            .available_slots(
                &app.code,
                SlotQuery {
                    day: Some(date(2030, 1, 8)),
                    page: Page::default(),
                },
            )
            .await
            .expect("slots");
        let starts: Vec<_> = day.items.iter().map(|s| s.slot.start).collect();
        assert_eq!(starts, vec![at(8, 9), at(8, 10), at(8, 11)]);
        assert!(day.items.iter().all(|s| s.local_date == date(2030, 1, 8)));
        let none = f
            .sched
            .available_slots(
                &app.code,
                SlotQuery {
                    day: Some(date(2030, 2, 1)),
                    page: Page::default(),
                },
            )
            .await
            .expect("slots");
        assert_eq!(none.total, 0);
    }

    /// Only slots in the future, after the minimum notice and within the horizon are offered or
    /// bookable.
    pub async fn slots_respect_notice_horizon_and_past<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let schedule = Schedule::builder(
            date(2030, 1, 7),
            date(2030, 1, 12),
            time(9, 0),
            time(12, 0),
            60,
        )
        .min_notice_minutes(120)
        .horizon_days(Some(3))
        .build()
        .expect("schedule");
        let app = f
            .appointment_with(AppointmentKind::Single, None, AntiScalping::None, schedule)
            .await;
        // Now: 2030-01-07 08:00. Notice 2 h → from 10:00; horizon 3 days → before 01-10 08:00.
        f.clock.set(at(7, 8));
        let slots = f
            .sched
            .available_slots(&app.code, SlotQuery::default())
            .await
            .expect("slots");
        let starts: Vec<_> = slots.items.iter().map(|s| s.slot.start).collect();
        assert_eq!(starts.first(), Some(&at(7, 10)));
        assert_eq!(starts.last(), Some(&at(9, 11)));
        assert_eq!(slots.total, 2 + 3 + 3);
        assert_err!(
            f.guest(&app.code, at(7, 9), 1, "a@example.com").await,
            Error::InvalidInput {
                field: "start_time",
                ..
            }
        );
        assert_err!(
            f.guest(&app.code, at(10, 9), 1, "a@example.com").await,
            Error::InvalidInput {
                field: "start_time",
                ..
            }
        );
        f.clock.set(at(8, 0));
        f.guest(&app.code, at(10, 9), 1, "a@example.com")
            .await
            .expect("inside the horizon now");
        // Past slots are gone.
        f.clock.set(at(12, 13));
        let slots = f
            .sched
            .available_slots(&app.code, SlotQuery::default())
            .await
            .expect("slots");
        assert_eq!(slots.total, 0);
    }

    /// A full slot is not listed.
    pub async fn full_slots_are_hidden<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(2), AntiScalping::None)
            .await;
        f.guest(&app.code, at(7, 9), 2, "a@example.com")
            .await
            .expect("book");
        let slots = f
            .sched
            .available_slots(&app.code, SlotQuery::default())
            .await
            .expect("slots");
        assert_eq!(slots.total, 8);
        assert!(slots.items.iter().all(|s| s.slot.start != at(7, 9)));
        let seats = f
            .sched
            .slot_seats(&app.code, at(7, 9))
            .await
            .expect("seats");
        assert_eq!((seats.seats_taken, seats.seats_left), (2, 0));
    }

    /// A guest books; the booking is found by its code.
    pub async fn guest_books_and_finds_by_code<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Single, None, AntiScalping::None)
            .await;
        let mut req = guest_booking(&app.code, at(7, 10), 1, "Jane@Example.com");
        req.description = "first visit".into();
        let b = f.sched.book(req).await.expect("book");
        assert!(b.code.as_str().starts_with("BK-") && b.code.as_str().len() >= 13);
        assert_eq!(b.status, BookingStatus::Active);
        assert_eq!((b.slot_start, b.slot_end), (at(7, 10), at(7, 11)));
        assert_eq!(b.email.as_str(), "jane@example.com");
        assert_eq!(b.user_id, None);
        let got = f.sched.booking(&b.code).await.expect("get");
        assert_eq!(got.id, b.id);
        assert_eq!(got.description, "first visit");
        assert_eq!(got.app_code, app.code);
        assert_err!(
            f.sched.booking(&BookingCode::generate()).await,
            Error::NotFound(Entity::Booking)
        );
        f.assert_counters_equal_facts(&app).await;
    }

    /// A registered user books with the profile's details and finds it among their bookings.
    pub async fn registered_user_books_with_profile<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::Standard)
            .await;
        let u = f
            .sched
            .register_user(new_user("Uma", "uma@example.com", Some("+12025550123")))
            .await
            .expect("register");
        let mut req = guest_booking(&app.code, at(8, 9), 2, "ignored@example.com");
        req.booker = Booker::User(u.id);
        let b = f.sched.book(req).await.expect("book");
        assert_eq!(b.user_id, Some(u.id));
        assert_eq!(b.email, u.email);
        assert_eq!(b.name, u.name);
        assert_eq!(b.phone, u.phone);
        let mine = f
            .sched
            .user_bookings(u.id, Page::default())
            .await
            .expect("mine");
        assert_eq!(mine.total, 1);
        assert_eq!(mine.items[0].code, b.code);
        let mut ghost = guest_booking(&app.code, at(8, 10), 1, "x@example.com");
        ghost.booker = Booker::User(crate::UserId::new());
        assert_err!(f.sched.book(ghost).await, Error::NotFound(Entity::User));
    }

    /// A start that is not a slot, an unknown appointment, and bad counts are refused.
    pub async fn booking_needs_a_real_bookable_slot<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(3), AntiScalping::None)
            .await;
        assert_err!(
            f.guest(
                &app.code,
                at(7, 9) + TimeDelta::minutes(30),
                1,
                "a@example.com"
            )
            .await,
            Error::InvalidInput {
                field: "start_time",
                ..
            }
        );
        assert_err!(
            f.guest(&app.code, at(7, 13), 1, "a@example.com").await,
            Error::InvalidInput {
                field: "start_time",
                ..
            }
        );
        assert_err!(
            f.guest(&app.code, at(20, 9), 1, "a@example.com").await,
            Error::InvalidInput {
                field: "start_time",
                ..
            }
        );
        assert_err!(
            f.guest(&AppCode::generate(), at(7, 9), 1, "a@example.com")
                .await,
            Error::NotFound(Entity::Appointment)
        );
        assert_err!(
            f.guest(&app.code, at(7, 9), 4, "a@example.com").await,
            Error::SlotFull { requested: 4, .. }
        );
        assert!(
            all_bookings(&f.sched, &app).await.is_empty(),
            "refused input writes nothing"
        );
    }

    /// Single: one attendee per slot.
    pub async fn single_takes_one_attendee_per_slot<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Single, None, AntiScalping::None)
            .await;
        assert_err!(
            f.guest(&app.code, at(7, 9), 2, "a@example.com").await,
            Error::InvalidInput {
                field: "attendee_count",
                ..
            }
        );
        f.guest(&app.code, at(7, 9), 1, "a@example.com")
            .await
            .expect("first");
        assert_err!(
            f.guest(&app.code, at(7, 9), 1, "b@example.com").await,
            Error::SlotFull {
                requested: 1,
                available: 0
            }
        );
        f.guest(&app.code, at(7, 10), 1, "b@example.com")
            .await
            .expect("other slot");
        f.assert_counters_equal_facts(&app).await;
    }

    /// Group: up to capacity per slot, across bookings.
    pub async fn group_capacity_spans_bookings<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
            .await;
        f.guest(&app.code, at(7, 9), 3, "a@example.com")
            .await
            .expect("3");
        assert_err!(
            f.guest(&app.code, at(7, 9), 3, "b@example.com").await,
            Error::SlotFull {
                requested: 3,
                available: 2
            }
        );
        f.guest(&app.code, at(7, 9), 2, "b@example.com")
            .await
            .expect("2 more");
        assert_err!(
            f.guest(&app.code, at(7, 9), 1, "c@example.com").await,
            Error::SlotFull { .. }
        );
        f.guest(&app.code, at(7, 10), 5, "c@example.com")
            .await
            .expect("another slot");
        let counters = assert_counters_equal_facts(&f.sched, &app).await;
        assert_eq!(counters.get(&at(7, 9)), Some(&5));
    }

    /// Party: one event, one shared capacity.
    pub async fn party_has_one_shared_capacity<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Party, Some(10), AntiScalping::None)
            .await;
        let slots = f
            .sched
            .available_slots(&app.code, SlotQuery::default())
            .await
            .expect("slots");
        assert_eq!(slots.total, 1, "a party is one event");
        let event = slots.items[0].slot;
        assert_eq!((event.start, event.end), (at(7, 9), at(7, 12)));
        f.guest(&app.code, event.start, 6, "a@example.com")
            .await
            .expect("6");
        assert_err!(
            f.guest(&app.code, event.start, 5, "b@example.com").await,
            Error::SlotFull {
                requested: 5,
                available: 4
            }
        );
        f.guest(&app.code, event.start, 4, "b@example.com")
            .await
            .expect("4");
        assert_err!(
            f.guest(&app.code, at(8, 9), 1, "c@example.com").await,
            Error::InvalidInput {
                field: "start_time",
                ..
            }
        );
        let slots = f
            .sched
            .available_slots(&app.code, SlotQuery::default())
            .await
            .expect("slots");
        assert_eq!(slots.total, 0, "a sold-out party offers nothing");
        f.assert_counters_equal_facts(&app).await;
    }

    /// Ban list: add, list, duplicate, remove.
    pub async fn ban_list_add_remove_list<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let other = f.user("Other", "other@example.com").await;
        let ban = f
            .sched
            .ban(f.owner.id, email("Bad@Example.com"))
            .await
            .expect("ban");
        assert_eq!(ban.email.as_str(), "bad@example.com");
        f.sched
            .ban(f.owner.id, email("worse@example.com"))
            .await
            .expect("ban 2");
        assert_err!(
            f.sched.ban(f.owner.id, email("BAD@example.com")).await,
            Error::Duplicate(Duplicate::Ban)
        );
        f.sched
            .ban(other.id, email("bad@example.com"))
            .await
            .expect("lists are per owner");
        let list = f.sched.bans(f.owner.id).await.expect("list");
        let emails: Vec<_> = list.iter().map(|b| b.email.as_str().to_owned()).collect();
        assert_eq!(emails.len(), 2);
        assert!(emails.contains(&"bad@example.com".to_owned()));
        f.sched
            .unban(f.owner.id, &email("bad@example.com"))
            .await
            .expect("unban");
        assert_err!(
            f.sched.unban(f.owner.id, &email("bad@example.com")).await,
            Error::NotFound(Entity::Ban)
        );
        assert_eq!(f.sched.bans(f.owner.id).await.expect("list").len(), 1);
        assert_eq!(f.sched.bans(other.id).await.expect("list").len(), 1);
    }

    /// A banned guest cannot book, whatever the email's case; after unbanning they can.
    pub async fn ban_blocks_guests_case_insensitively<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
            .await;
        f.sched
            .ban(f.owner.id, email("spam@example.com"))
            .await
            .expect("ban");
        assert_err!(
            f.guest(&app.code, at(7, 9), 1, "  SPAM@Example.COM ").await,
            Error::Banned
        );
        assert!(all_bookings(&f.sched, &app).await.is_empty());
        f.sched
            .unban(f.owner.id, &email("spam@example.com"))
            .await
            .expect("unban");
        f.guest(&app.code, at(7, 9), 1, "spam@example.com")
            .await
            .expect("book after unban");
    }

    /// A banned registered user cannot book either.
    pub async fn ban_blocks_registered_users<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
            .await;
        let u = f.user("Mallory", "mallory@example.com").await;
        f.sched
            .ban(f.owner.id, email("MALLORY@example.com"))
            .await
            .expect("ban");
        let mut req = guest_booking(&app.code, at(7, 9), 1, "someone-else@example.com");
        req.booker = Booker::User(u.id);
        assert_err!(f.sched.book(req).await, Error::Banned);
    }

    /// The store checks the ban in the booking's own atomic step, before the seats: a banned
    /// email on a full slot is told it is banned, and nothing changes.
    pub async fn ban_wins_over_a_full_slot<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Single, None, AntiScalping::None)
            .await;
        f.guest(&app.code, at(7, 9), 1, "first@example.com")
            .await
            .expect("book");
        f.sched
            .ban(f.owner.id, email("late@example.com"))
            .await
            .expect("ban");
        assert_err!(
            f.guest(&app.code, at(7, 9), 1, "late@example.com").await,
            Error::Banned
        );
        assert_err!(
            f.guest(&app.code, at(7, 10), 1, "late@example.com").await,
            Error::Banned
        );
        assert_eq!(all_bookings(&f.sched, &app).await.len(), 1);
        let seats = f
            .sched
            .slot_seats(&app.code, at(7, 10))
            .await
            .expect("seats");
        assert_eq!(seats.seats_taken, 0);
        f.assert_counters_equal_facts(&app).await;
    }

    /// Under anti-scalping, a second booking of the same email is told it is a duplicate even
    /// when the slot it asks for is full too, on every store.
    pub async fn duplicate_wins_over_a_full_slot<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Single, None, AntiScalping::Standard)
            .await;
        f.guest(&app.code, at(7, 9), 1, "first@example.com")
            .await
            .expect("book");
        assert_err!(
            f.guest(&app.code, at(7, 9), 1, "first@example.com").await,
            Error::Duplicate(Duplicate::BookingEmail)
        );
        assert_err!(
            f.guest(&app.code, at(7, 9), 1, "second@example.com").await,
            Error::SlotFull { .. }
        );
        assert_eq!(all_bookings(&f.sched, &app).await.len(), 1);
        f.assert_counters_equal_facts(&app).await;
    }

    /// Without anti-scalping, one email may book many times.
    pub async fn anti_scalping_none_allows_repeats<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
            .await;
        for h in [9, 10, 11] {
            f.guest(&app.code, at(7, h), 1, "a@example.com")
                .await
                .expect("book");
        }
        f.guest(&app.code, at(7, 9), 1, "a@example.com")
            .await
            .expect("same slot again");
    }

    /// Standard: one active booking per email per appointment; a cancelled one frees the email.
    pub async fn anti_scalping_standard_one_per_email<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::Standard)
            .await;
        let other = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::Standard)
            .await;
        let b = f
            .guest(&app.code, at(7, 9), 1, "a@example.com")
            .await
            .expect("first");
        assert_err!(
            f.guest(&app.code, at(8, 9), 1, "A@EXAMPLE.com").await,
            Error::Duplicate(Duplicate::BookingEmail)
        );
        f.guest(&other.code, at(8, 9), 1, "a@example.com")
            .await
            .expect("another appointment");
        f.sched.cancel(&b.code).await.expect("cancel");
        f.guest(&app.code, at(8, 9), 1, "a@example.com")
            .await
            .expect("after cancelling");
        f.assert_counters_equal_facts(&app).await;
    }

    /// Strict: registered users only, each with a verified device; one active booking per user
    /// (their account's email) and one per device.
    pub async fn anti_scalping_strict_needs_device_one_per_device<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::Strict)
            .await;
        let dev = |s: &str| Some(DeviceId::parse(s).expect("device"));
        let mut guest = guest_booking(&app.code, at(7, 9), 1, "a@example.com");
        guest.device_id = dev("device-0");
        assert_err!(f.sched.book(guest).await, Error::RegistrationRequired);
        let ann = f.user("Ann", "a@example.com").await;
        let bo = f.user("Bo", "b@example.com").await;
        let as_user = |user: &User, start: DateTime<Utc>, device: Option<DeviceId>| {
            let mut req = guest_booking(&app.code, start, 1, "unused@example.com");
            req.booker = Booker::User(user.id);
            req.device_id = device;
            req
        };
        assert_err!(
            f.sched.book(as_user(&ann, at(7, 9), None)).await,
            Error::InvalidInput {
                field: "device_token",
                ..
            }
        );
        let first = f
            .sched
            .book(as_user(&ann, at(7, 9), dev("device-1")))
            .await
            .expect("first");
        let same_device = as_user(&bo, at(8, 9), dev("device-1"));
        assert_err!(
            f.sched.book(same_device.clone()).await,
            Error::Duplicate(Duplicate::BookingDevice)
        );
        assert_err!(
            f.sched.book(as_user(&ann, at(8, 9), dev("device-2"))).await,
            Error::Duplicate(Duplicate::BookingEmail)
        );
        f.sched.cancel(&first.code).await.expect("cancel");
        f.sched
            .book(same_device)
            .await
            .expect("device is free again");
    }

    /// Cancelling frees the seats; a second cancel is an invalid transition.
    pub async fn cancel_frees_seats_once<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(3), AntiScalping::None)
            .await;
        let b = f
            .guest(&app.code, at(7, 9), 3, "a@example.com")
            .await
            .expect("book");
        let c = f.sched.cancel(&b.code).await.expect("cancel");
        assert_eq!(c.status, BookingStatus::Cancelled);
        assert_eq!(
            f.sched.booking(&b.code).await.expect("get").status,
            BookingStatus::Cancelled
        );
        assert_err!(
            f.sched.cancel(&b.code).await,
            Error::InvalidTransition {
                from: BookingStatus::Cancelled,
                ..
            }
        );
        f.guest(&app.code, at(7, 9), 3, "b@example.com")
            .await
            .expect("seats are free");
        assert_err!(
            f.sched.cancel(&BookingCode::generate()).await,
            Error::NotFound(Entity::Booking)
        );
        f.assert_counters_equal_facts(&app).await;
    }

    /// Only the owner rejects; rejecting frees the seats; final statuses stay final.
    pub async fn reject_is_owner_only_and_frees_seats<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Single, None, AntiScalping::None)
            .await;
        let stranger = f.user("Stranger", "stranger@example.com").await;
        let b = f
            .guest(&app.code, at(7, 9), 1, "a@example.com")
            .await
            .expect("book");
        assert_err!(
            f.sched.reject(stranger.id, &b.code).await,
            Error::Forbidden(_)
        );
        assert_eq!(
            f.sched.booking(&b.code).await.expect("get").status,
            BookingStatus::Active
        );
        let r = f.sched.reject(f.owner.id, &b.code).await.expect("reject");
        assert_eq!(r.status, BookingStatus::Rejected);
        assert_err!(
            f.sched.reject(f.owner.id, &b.code).await,
            Error::InvalidTransition {
                from: BookingStatus::Rejected,
                ..
            }
        );
        assert_err!(
            f.sched.cancel(&b.code).await,
            Error::InvalidTransition {
                from: BookingStatus::Rejected,
                ..
            }
        );
        f.guest(&app.code, at(7, 9), 1, "b@example.com")
            .await
            .expect("slot free again");
        let c = f
            .guest(&app.code, at(7, 10), 1, "c@example.com")
            .await
            .expect("book");
        f.sched.cancel(&c.code).await.expect("cancel");
        assert_err!(
            f.sched.reject(f.owner.id, &c.code).await,
            Error::InvalidTransition {
                from: BookingStatus::Cancelled,
                ..
            }
        );
        f.assert_counters_equal_facts(&app).await;
    }

    /// Rescheduling moves the seats in one step, or leaves everything as it was.
    pub async fn reschedule_moves_seats_atomically<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(4), AntiScalping::Standard)
            .await;
        let b = f
            .guest(&app.code, at(7, 9), 2, "a@example.com")
            .await
            .expect("book");
        f.guest(&app.code, at(7, 10), 3, "b@example.com")
            .await
            .expect("book");
        // Into a slot with too few seats: refused, unchanged.
        assert_err!(
            f.sched
                .reschedule(
                    &b.code,
                    Reschedule {
                        slot_start: at(7, 10),
                        attendee_count: None
                    }
                )
                .await,
            Error::SlotFull {
                requested: 2,
                available: 1
            }
        );
        assert_eq!(
            f.sched.booking(&b.code).await.expect("get").slot_start,
            at(7, 9)
        );
        // To a free slot (the email's anti-scalping claim does not block its own move).
        let moved = f
            .sched
            .reschedule(
                &b.code,
                Reschedule {
                    slot_start: at(8, 11),
                    attendee_count: None,
                },
            )
            .await
            .expect("move");
        assert_eq!((moved.slot_start, moved.slot_end), (at(8, 11), at(8, 12)));
        assert_eq!(moved.code, b.code);
        // Grow within the same slot, up to the capacity.
        let grown = f
            .sched
            .reschedule(
                &b.code,
                Reschedule {
                    slot_start: at(8, 11),
                    attendee_count: Some(AttendeeCount::new(4).expect("4")),
                },
            )
            .await
            .expect("grow");
        assert_eq!(grown.attendee_count.get(), 4);
        assert_err!(
            f.sched
                .reschedule(
                    &b.code,
                    Reschedule {
                        slot_start: at(8, 11),
                        attendee_count: Some(AttendeeCount::new(5).expect("5")),
                    },
                )
                .await,
            Error::SlotFull { .. }
        );
        // Not a slot.
        assert_err!(
            f.sched
                .reschedule(
                    &b.code,
                    Reschedule {
                        slot_start: at(8, 13),
                        attendee_count: None
                    }
                )
                .await,
            Error::InvalidInput {
                field: "start_time",
                ..
            }
        );
        let counters = assert_counters_equal_facts(&f.sched, &app).await;
        assert_eq!(counters.get(&at(7, 9)), None);
        assert_eq!(counters.get(&at(8, 11)), Some(&4));
        f.sched.cancel(&b.code).await.expect("cancel");
        assert_err!(
            f.sched
                .reschedule(
                    &b.code,
                    Reschedule {
                        slot_start: at(9, 9),
                        attendee_count: None
                    }
                )
                .await,
            Error::InvalidTransition {
                from: BookingStatus::Cancelled,
                ..
            }
        );
        f.assert_counters_equal_facts(&app).await;
    }

    /// Only the owner lists an appointment's bookings.
    pub async fn appointment_bookings_are_owner_only<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(9), AntiScalping::None)
            .await;
        for i in 0..5 {
            f.guest(&app.code, at(7, 9), 1, &format!("g{i}@example.com"))
                .await
                .expect("book");
        }
        let stranger = f.user("S", "s@example.com").await;
        assert_err!(
            f.sched
                .appointment_bookings(stranger.id, &app.code, Page::default())
                .await,
            Error::Forbidden(_)
        );
        let p = f
            .sched
            .appointment_bookings(f.owner.id, &app.code, Page::new(2, 2).expect("page"))
            .await
            .expect("list");
        assert_eq!((p.total, p.total_pages, p.items.len()), (5, 3, 2));
    }

    /// Analytics: appointments created, bookings by status, seats booked versus offered.
    pub async fn analytics_counts_bookings_and_seats<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(4), AntiScalping::None)
            .await;
        let party = f
            .appointment(AppointmentKind::Party, Some(50), AntiScalping::None)
            .await;
        f.guest(&app.code, at(7, 9), 2, "a@example.com")
            .await
            .expect("book");
        let c = f
            .guest(&app.code, at(7, 10), 1, "b@example.com")
            .await
            .expect("book");
        let r = f
            .guest(&app.code, at(8, 10), 3, "c@example.com")
            .await
            .expect("book");
        f.guest(&party.code, at(7, 9), 7, "d@example.com")
            .await
            .expect("book");
        f.sched.cancel(&c.code).await.expect("cancel");
        f.sched.reject(f.owner.id, &r.code).await.expect("reject");
        // Someone else's appointment does not count.
        let g = Fixture {
            sched: f.sched.clone(),
            clock: f.clock.clone(),
            owner: f.user("O2", "o2@example.com").await,
        };
        let foreign = g
            .appointment(AppointmentKind::Group, Some(4), AntiScalping::None)
            .await;
        g.guest(&foreign.code, at(7, 9), 1, "e@example.com")
            .await
            .expect("book");

        let a = f
            .sched
            .analytics(f.owner.id, date(2030, 1, 7), date(2030, 1, 7))
            .await
            .expect("analytics");
        assert_eq!(a.appointments_created, 0, "created on 2030-01-01");
        assert_eq!(
            (a.bookings.active, a.bookings.cancelled, a.bookings.rejected),
            (2, 1, 0)
        );
        assert_eq!(a.bookings.seats_booked, 9);
        assert_eq!(a.seats_offered, 3 * 4 + 50);
        let all = f
            .sched
            .analytics(f.owner.id, date(2030, 1, 1), date(2030, 1, 31))
            .await
            .expect("analytics");
        assert_eq!(all.appointments_created, 2);
        assert_eq!(all.total_bookings(), 4);
        assert_eq!(all.bookings.rejected, 1);
        assert_eq!(all.seats_offered, 9 * 4 + 50);
        assert_err!(
            f.sched
                .analytics(f.owner.id, date(2030, 2, 1), date(2030, 1, 1))
                .await,
            Error::InvalidInput { .. }
        );
    }

    /// The window is wall-clock time in the appointment's zone, across a DST change.
    pub async fn slots_follow_the_time_zone<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        // Berlin switches to summer time on 2030-03-31.
        let schedule = Schedule::builder(
            date(2030, 3, 30),
            date(2030, 3, 31),
            time(9, 0),
            time(10, 0),
            60,
        )
        .time_zone(TimeZoneName::parse("Europe/Berlin").expect("zone"))
        .build()
        .expect("schedule");
        let app = f
            .appointment_with(AppointmentKind::Single, None, AntiScalping::None, schedule)
            .await;
        let loaded = f.sched.appointment(&app.code).await.expect("get");
        assert_eq!(loaded.schedule.time_zone().name(), "Europe/Berlin");
        let slots = f
            .sched
            .available_slots(&app.code, SlotQuery::default())
            .await
            .expect("slots");
        let starts: Vec<_> = slots
            .items
            .iter()
            .map(|s| s.slot.start.to_rfc3339())
            .collect();
        assert_eq!(
            starts,
            ["2030-03-30T08:00:00+00:00", "2030-03-31T07:00:00+00:00"]
        );
        let b = f
            .guest(&app.code, slots.items[1].slot.start, 1, "a@example.com")
            .await
            .expect("book");
        assert_eq!(b.slot_end.to_rfc3339(), "2030-03-31T08:00:00+00:00");
    }

    async fn race<S: Store, T: Send + 'static>(
        f: &Fixture<S>,
        reqs: Vec<NewBooking>,
        tag: impl Fn(&NewBooking) -> T,
    ) -> Vec<(T, crate::Result<Booking>)> {
        let barrier = Arc::new(tokio::sync::Barrier::new(reqs.len()));
        let mut handles = Vec::with_capacity(reqs.len());
        for req in reqs {
            let sched = f.sched.clone();
            let barrier = barrier.clone();
            let t = tag(&req);
            handles.push(tokio::spawn(async move {
                barrier.wait().await;
                (t, sched.book(req).await)
            }));
        }
        let mut out = Vec::with_capacity(handles.len());
        for h in futures::future::join_all(handles).await {
            out.push(h.expect("task"));
        }
        out
    }

    fn assert_only_capacity_errors(results: &[(u32, crate::Result<Booking>)]) {
        for (_, r) in results {
            if let Err(e) = r {
                assert!(
                    matches!(e, Error::SlotFull { .. }),
                    "a losing booking must fail with SlotFull, got {e:?}"
                );
            }
        }
    }

    /// 64 tasks race for one single slot: exactly one wins.
    pub async fn race_single_slot_64_tasks<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Single, None, AntiScalping::None)
            .await;
        let reqs = (0..64)
            .map(|i| guest_booking(&app.code, at(7, 9), 1, &format!("r{i}@example.com")))
            .collect();
        let results = race(&f, reqs, |r| r.attendee_count.get()).await;
        assert_only_capacity_errors(&results);
        assert_eq!(results.iter().filter(|(_, r)| r.is_ok()).count(), 1);
        let counters = f
            .sched
            .slot_seats(&app.code, at(7, 9))
            .await
            .expect("seats");
        assert_eq!(counters.seats_taken, 1);
        f.assert_counters_equal_facts(&app).await;
    }

    /// 50 tasks of random sizes race for a 5-seat group slot: never more than 5, and the seats
    /// taken equal the winners' sizes.
    pub async fn race_group_slot_random_sizes<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
            .await;
        let seed: u64 = rand::rng().random();
        let mut rng = StdRng::seed_from_u64(seed);
        let reqs = (0..50)
            .map(|i| {
                guest_booking(
                    &app.code,
                    at(7, 9),
                    rng.random_range(1..=5),
                    &format!("r{i}@example.com"),
                )
            })
            .collect();
        let results = race(&f, reqs, |r| r.attendee_count.get()).await;
        assert_only_capacity_errors(&results);
        let won: u32 = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(n, _)| *n)
            .sum();
        assert!(won <= 5, "seed {seed}: {won} seats sold on a 5-seat slot");
        assert!(won >= 1, "seed {seed}: someone must win");
        let seats = f
            .sched
            .slot_seats(&app.code, at(7, 9))
            .await
            .expect("seats");
        assert_eq!(seats.seats_taken, won, "seed {seed}");
        f.assert_counters_equal_facts(&app).await;
    }

    /// 500 tasks race for a 100-seat party: exactly 100 seats are sold.
    pub async fn race_party_500_tasks_100_seats<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Party, Some(100), AntiScalping::None)
            .await;
        let reqs = (0..500)
            .map(|i| guest_booking(&app.code, at(7, 9), 1, &format!("r{i}@example.com")))
            .collect();
        let results = race(&f, reqs, |r| r.attendee_count.get()).await;
        assert_only_capacity_errors(&results);
        assert_eq!(results.iter().filter(|(_, r)| r.is_ok()).count(), 100);
        let seats = f
            .sched
            .slot_seats(&app.code, at(7, 9))
            .await
            .expect("seats");
        assert_eq!(seats.seats_taken, 100);
        f.assert_counters_equal_facts(&app).await;
    }

    /// 20 tasks with one email race under standard anti-scalping: exactly one booking.
    pub async fn race_standard_same_email<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(100), AntiScalping::Standard)
            .await;
        let reqs = (0..20)
            .map(|i| guest_booking(&app.code, at(7, 9 + (i % 3)), 1, "same@example.com"))
            .collect();
        let results = race(&f, reqs, |_| 0u32).await;
        assert_eq!(results.iter().filter(|(_, r)| r.is_ok()).count(), 1);
        for (_, r) in &results {
            if let Err(e) = r {
                assert!(
                    matches!(e, Error::Duplicate(Duplicate::BookingEmail)),
                    "got {e:?}"
                );
            }
        }
        f.assert_counters_equal_facts(&app).await;
    }

    /// Reschedules and cancellations race new bookings: at the end every counter equals the sum
    /// of its active bookings, and no slot is over capacity.
    pub async fn race_reschedule_cancel_and_book<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(3), AntiScalping::None)
            .await;
        let slots: Vec<DateTime<Utc>> = [7, 8]
            .iter()
            .flat_map(|d| [9, 10, 11].map(|h| at(*d, h)))
            .collect();
        let mut existing = Vec::new();
        for (i, s) in slots.iter().enumerate() {
            existing.push(
                f.guest(&app.code, *s, 1, &format!("e{i}@example.com"))
                    .await
                    .expect("seed"),
            );
            existing.push(
                f.guest(&app.code, *s, 1, &format!("f{i}@example.com"))
                    .await
                    .expect("seed"),
            );
        }
        let seed: u64 = rand::rng().random();
        let mut rng = StdRng::seed_from_u64(seed);
        let barrier = Arc::new(tokio::sync::Barrier::new(120));
        let mut handles = Vec::new();
        for i in 0..120 {
            let sched = f.sched.clone();
            let barrier = barrier.clone();
            let slot = slots[rng.random_range(0..slots.len())];
            let count = rng.random_range(1..=2);
            let target = existing[rng.random_range(0..existing.len())].code.clone();
            let code = app.code.clone();
            handles.push(tokio::spawn(async move {
                barrier.wait().await;
                let r = match i % 3 {
                    0 => sched
                        .book(guest_booking(
                            &code,
                            slot,
                            count,
                            &format!("n{i}@example.com"),
                        ))
                        .await
                        .map(drop),
                    1 => sched
                        .reschedule(
                            &target,
                            Reschedule {
                                slot_start: slot,
                                attendee_count: Some(AttendeeCount::new(count).expect("count")),
                            },
                        )
                        .await
                        .map(drop),
                    _ => sched.cancel(&target).await.map(drop),
                };
                match r {
                    Ok(()) | Err(Error::SlotFull { .. }) | Err(Error::InvalidTransition { .. }) => {
                    }
                    Err(e) => panic!("seed {seed}: unexpected error {e:?}"),
                }
            }));
        }
        for h in futures::future::join_all(handles).await {
            h.expect("task");
        }
        f.assert_counters_equal_facts(&app).await;
    }

    /// Seats of each bookable slot as a listing shows them.
    async fn listed<S: Store>(sched: &Scheduler<S>, app: &AppCode) -> HashMap<DateTime<Utc>, u32> {
        sched
            .all_available_slots(app, None)
            .await
            .expect("list slots")
            .into_iter()
            .map(|s| (s.slot.start, s.seats_taken))
            .collect()
    }

    /// A scheduler with a read cache sees its own bookings, cancellations, reschedules and
    /// rejections in its very next listing, however long its cache keeps pages.
    pub async fn read_cache_shows_its_own_writes_at_once<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let cached = f.cached(TimeDelta::hours(1));
        let app = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
            .await;
        assert_eq!(listed(&cached, &app.code).await[&at(7, 9)], 0);
        let b = cached
            .book(guest_booking(&app.code, at(7, 9), 2, "a@example.com"))
            .await
            .expect("book");
        assert_eq!(listed(&cached, &app.code).await[&at(7, 9)], 2);
        assert_eq!(
            cached
                .slot_seats(&app.code, at(7, 9))
                .await
                .expect("seats")
                .seats_taken,
            2
        );
        let b = cached
            .reschedule(
                &b.code,
                Reschedule {
                    slot_start: at(7, 10),
                    attendee_count: None,
                },
            )
            .await
            .expect("reschedule");
        let seats = listed(&cached, &app.code).await;
        assert_eq!((seats[&at(7, 9)], seats[&at(7, 10)]), (0, 2));
        cached.cancel(&b.code).await.expect("cancel");
        assert_eq!(listed(&cached, &app.code).await[&at(7, 10)], 0);
        let c = cached
            .book(guest_booking(&app.code, at(7, 11), 5, "c@example.com"))
            .await
            .expect("book");
        assert!(
            !listed(&cached, &app.code).await.contains_key(&at(7, 11)),
            "a full slot is not listed"
        );
        cached.reject(f.owner.id, &c.code).await.expect("reject");
        assert_eq!(listed(&cached, &app.code).await[&at(7, 11)], 0);
        f.assert_counters_equal_facts(&app).await;
    }

    /// Writes made elsewhere (here: a scheduler without the cache, standing for another server
    /// process) show in a cached listing once its time to live has passed, and a booking refused
    /// for lack of seats drops the stale counters at once.
    pub async fn read_cache_shows_other_writers_after_its_ttl<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let ttl = TimeDelta::seconds(2);
        let cached = f.cached(ttl);
        let app = f
            .appointment(AppointmentKind::Single, None, AntiScalping::None)
            .await;
        assert_eq!(listed(&cached, &app.code).await[&at(7, 9)], 0);
        f.guest(&app.code, at(7, 9), 1, "elsewhere@example.com")
            .await
            .expect("book elsewhere");
        f.clock.advance(ttl - TimeDelta::milliseconds(1));
        assert_eq!(
            listed(&cached, &app.code).await.get(&at(7, 9)),
            Some(&0),
            "within its ttl the cache answers"
        );
        f.clock.advance(TimeDelta::milliseconds(1));
        assert!(
            !listed(&cached, &app.code).await.contains_key(&at(7, 9)),
            "after its ttl the full slot is gone"
        );

        // A stale page is also dropped when a booking finds the slot full.
        assert_eq!(listed(&cached, &app.code).await[&at(7, 10)], 0);
        f.guest(&app.code, at(7, 10), 1, "elsewhere2@example.com")
            .await
            .expect("book elsewhere");
        assert_err!(
            cached
                .book(guest_booking(&app.code, at(7, 10), 1, "late@example.com"))
                .await,
            Error::SlotFull { .. }
        );
        assert!(!listed(&cached, &app.code).await.contains_key(&at(7, 10)));
    }

    /// Listings and bookings race on one cached scheduler: once the bookings are done, the cached
    /// listing equals the store's counters (no page read before a booking outlives it).
    pub async fn race_read_cache_listings_and_bookings<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let cached = f.cached(TimeDelta::hours(1));
        let app = f
            .appointment(AppointmentKind::Group, Some(1000), AntiScalping::None)
            .await;
        let starts = [at(7, 9), at(7, 10), at(8, 9)];
        let barrier = Arc::new(tokio::sync::Barrier::new(48));
        let mut handles = Vec::new();
        for i in 0..24usize {
            let (sched, gate) = (cached.clone(), barrier.clone());
            let req = guest_booking(&app.code, starts[i % 3], 1, &format!("c{i}@example.com"));
            handles.push(tokio::spawn(async move {
                gate.wait().await;
                sched.book(req).await.map(|_| ()).expect("book");
            }));
            let (sched, barrier, code) = (cached.clone(), barrier.clone(), app.code.clone());
            handles.push(tokio::spawn(async move {
                barrier.wait().await;
                for _ in 0..4 {
                    sched
                        .all_available_slots(&code, None)
                        .await
                        .expect("list slots");
                }
            }));
        }
        for h in futures::future::join_all(handles).await {
            h.expect("task");
        }
        let seats = listed(&cached, &app.code).await;
        assert_eq!(seats, listed(&f.sched, &app.code).await);
        assert_eq!(
            starts.iter().map(|s| seats[s]).collect::<Vec<_>>(),
            vec![8, 8, 8]
        );
        f.assert_counters_equal_facts(&app).await;
    }
}
