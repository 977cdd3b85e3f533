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
//!
//! This module holds the harness (the macro and [`run_case`]), the [`Fixture`] and the shared
//! helpers; the cases live in one file per topic (users, appointments, slots, bookings,
//! capacity, bans, anti-scalping, lifecycle, holds, approval, waiting lists, events, analytics,
//! races, read cache, shared resources, the expiry sweeper) and are all reachable as
//! [`cases`]`::<name>`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};

use crate::{
    AntiScalping, AppCode, Appointment, AppointmentKind, AttendeeCount, Booker, Booking, Email,
    ManualClock, Name, NewAppointment, NewBooking, NewUser, Page, Schedule, Scheduler, Store, User,
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
            email_verification_is_kept_and_required_for_strict,
            appointment_is_one_row_with_computed_slots,
            opening_hours_round_trip,
            owner_edits_closes_and_deletes,
            appointment_input_is_validated,
            slots_are_listed_and_paginated,
            slots_by_local_day,
            slots_respect_notice_horizon_and_past,
            full_slots_are_hidden,
            pages_skip_full_slots_exactly,
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
            updated_at_follows_the_engine_clock,
            ban_applies_to_reschedule,
            reschedule_can_replace_the_description,
            resource_blocks_overlapping_slots,
            resource_buffers_and_groups,
            race_resource_across_appointments,
            guest_changes_stop_at_the_cutoff,
            nobody_moves_a_started_booking,
            owner_marks_completed_and_no_show_after_the_start,
            race_cancel_and_move_into_the_cutoff,
            race_guest_and_owner_moves_across_the_cutoff,
            hold_takes_seats_until_it_expires,
            booked_hold_keeps_its_seats,
            booking_a_hold_at_its_expiry_fails,
            release_gives_seats_back_once,
            holds_are_checked,
            race_holds_and_bookings_for_the_last_seats,
            race_booking_a_hold_and_reclaiming_expired_ones,
            a_stale_replica_cannot_book_a_closed_appointment,
            race_bookings_and_close,
            concurrent_edits_lose_nothing,
            pending_booking_holds_seats_until_confirmed,
            pending_booking_expires_at_its_deadline,
            decline_cancel_and_move_a_pending_booking,
            expired_pending_booking_frees_its_anti_scalping_place,
            race_confirm_decline_and_cancel,
            race_bookings_for_the_seats_of_expired_pending_ones,
            waitlist_offers_freed_seats_in_order,
            waitlist_offer_expires_to_the_next,
            waitlist_serves_the_first_request_that_fits_and_leaving,
            waitlist_joins_are_checked,
            race_cancellations_and_waitlist_joins,
            every_change_appends_its_event,
            lifecycle_and_waitlist_events,
            failed_changes_append_nothing,
            events_by_owner_and_page,
            race_events_match_rows,
            expired_holds_and_pending_bookings_are_listed_until_swept,
            expiry_sweep_respects_its_limit,
            expiry_sweep_passes_a_lapsed_offer_to_the_next_in_line,
            race_sweepers_expire_each_once,
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
        let schedule = fixture_schedule().build().expect("a valid schedule");
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
                    resource: None,
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

/// The schedule of [`Fixture::appointment`], to change before building: 2030-01-07 (a Monday)
/// to 2030-01-09, 09:00–12:00 UTC, 60-minute slots.
pub fn fixture_schedule() -> crate::ScheduleBuilder {
    Schedule::builder(
        date(2030, 1, 7),
        date(2030, 1, 9),
        time(9, 0),
        time(12, 0),
        60,
    )
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

/// Checks invariant 3 for one appointment: every slot's stored counter equals the seats of its
/// active and pending bookings plus those of its holds still stored as held, the seats taken at
/// the scheduler's `now` leave out the held holds and pending bookings expired by then, and no
/// slot holds more than the capacity. Returns the seats taken per slot at `now`.
pub async fn assert_counters_equal_facts<S: Store + ?Sized>(
    sched: &Scheduler<S>,
    app: &Appointment,
) -> HashMap<DateTime<Utc>, u32> {
    let now = sched.now();
    let mut stored_facts: HashMap<DateTime<Utc>, u32> = HashMap::new();
    let mut live_facts: HashMap<DateTime<Utc>, u32> = HashMap::new();
    for b in all_bookings(sched, app).await {
        if b.status.holds_seats() {
            *stored_facts.entry(b.slot_start).or_default() += b.attendee_count.get();
        }
        if b.status_at(now).holds_seats() {
            *live_facts.entry(b.slot_start).or_default() += b.attendee_count.get();
        }
    }
    for h in sched.store().held_holds(app.id).await.expect("read holds") {
        *stored_facts.entry(h.slot_start).or_default() += h.seats.get();
        if h.is_live(now) {
            *live_facts.entry(h.slot_start).or_default() += h.seats.get();
        }
    }
    let read = |at: DateTime<Utc>| async move {
        sched
            .store()
            .seats_taken(
                app.id,
                DateTime::<Utc>::MIN_UTC..DateTime::<Utc>::MAX_UTC,
                at,
            )
            .await
            .expect("read counters")
            .into_iter()
            .filter(|s| s.seats_taken > 0)
            .map(|s| (s.slot_start, s.seats_taken))
            .collect::<HashMap<DateTime<Utc>, u32>>()
    };
    // Read before any hold can have expired: the counters as stored.
    let stored = read(DateTime::<Utc>::UNIX_EPOCH).await;
    stored_facts.retain(|_, n| *n > 0);
    live_facts.retain(|_, n| *n > 0);
    assert_eq!(
        stored, stored_facts,
        "seat counters must equal the active and pending bookings and held holds"
    );
    let counters = read(now).await;
    assert_eq!(
        counters, live_facts,
        "seats taken must leave out the holds and pending bookings expired by now"
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

/// 2030-01-`d` at `h`:00 UTC.
pub fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, d, h, 0, 0)
        .single()
        .expect("a valid instant")
}

/// Asserts that a result is an error matching the pattern.
macro_rules! assert_err {
    ($e:expr, $p:pat) => {
        match $e {
            Err($p) => {}
            other => panic!("expected {}, got {:?}", stringify!($p), other),
        }
    };
}

// The cases by topic; `assert_err!` above is in scope in each.
mod analytics;
mod anti_scalping;
mod appointments;
mod approval;
mod bans;
mod bookings;
mod cache;
mod capacity;
mod events;
mod holds;
mod lifecycle;
mod policy;
mod races;
mod reschedule;
mod resources;
mod revisions;
mod slots;
mod sweeps;
mod users;
mod waitlist;

/// The conformance cases, each an `async fn(store)`. Run them through
/// [`store_conformance_suite!`](crate::store_conformance_suite).
pub mod cases {
    pub use super::analytics::*;
    pub use super::anti_scalping::*;
    pub use super::appointments::*;
    pub use super::approval::*;
    pub use super::bans::*;
    pub use super::bookings::*;
    pub use super::cache::*;
    pub use super::capacity::*;
    pub use super::events::*;
    pub use super::holds::*;
    pub use super::lifecycle::*;
    pub use super::policy::*;
    pub use super::races::*;
    pub use super::reschedule::*;
    pub use super::resources::*;
    pub use super::revisions::*;
    pub use super::slots::*;
    pub use super::sweeps::*;
    pub use super::users::*;
    pub use super::waitlist::*;
}
