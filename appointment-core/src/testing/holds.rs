//! Holds: seats kept for a token for a short time. A hold takes seats as a booking does; its
//! seats are free again from its expiry exactly, without anything having to run; booking it
//! never fails for seats; releasing it gives the seats back once; and races of holds, bookings
//! and the booking of holds at their expiry end with counters equal to the facts.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Fixture, at, guest_booking};
use crate::{
    AntiScalping, AppointmentChanges, AppointmentKind, AppointmentStatus, AttendeeCount,
    BookingStatus, DEFAULT_HOLD_MINUTES, Duplicate, Email, Entity, Error, Hold, HoldStatus,
    HoldToken, NewHold, Store,
};

impl<S: Store> Fixture<S> {
    /// Holds `seats` seats of the slot at `start`.
    pub async fn hold(
        &self,
        app: &crate::AppCode,
        start: DateTime<Utc>,
        seats: u32,
    ) -> crate::Result<Hold> {
        self.sched
            .hold(NewHold {
                app_code: app.clone(),
                slot_start: start,
                seats: AttendeeCount::new(seats).expect("seats >= 1"),
            })
            .await
    }

    /// Books a hold as a guest with `mail`.
    pub async fn book_hold(&self, hold: &Hold, mail: &str) -> crate::Result<crate::Booking> {
        self.sched
            .book_hold(
                &hold.token,
                guest_booking(&hold.app_code, hold.slot_start, hold.seats.get(), mail),
            )
            .await
    }

    /// Seats taken on one slot, as listings show them now.
    pub async fn taken(&self, app: &crate::AppCode, start: DateTime<Utc>) -> u32 {
        self.sched
            .slot_seats(app, start)
            .await
            .expect("slot seats")
            .seats_taken
    }
}

/// A group appointment of `seats` seats (2030-01-07 to 09, 09:00-12:00 UTC, hourly) whose holds
/// last `minutes`.
async fn group<S: Store>(
    f: &Fixture<S>,
    seats: u32,
    minutes: u32,
    anti: AntiScalping,
) -> crate::Appointment {
    let schedule = super::fixture_schedule()
        .hold_minutes(minutes)
        .build()
        .expect("a valid schedule");
    f.appointment_with(AppointmentKind::Group, Some(seats), anti, schedule)
        .await
}

/// A hold takes its seats like a booking, until its expiry exactly: from `expires_at` on, the
/// slot lists them as free and the next booking takes them, with no sweeper having run.
pub async fn hold_takes_seats_until_it_expires<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 3, 15, AntiScalping::None).await;
    assert_eq!(app.schedule.hold_minutes(), 15);
    let stored = f.sched.appointment(&app.code).await.expect("read back");
    assert_eq!(stored.schedule.hold_minutes(), 15);
    let h = f.hold(&app.code, at(7, 9), 2).await.expect("hold");
    assert_eq!(h.status, HoldStatus::Held);
    assert_eq!(h.expires_at, f.sched.now() + TimeDelta::minutes(15));
    assert!(h.token.as_str().starts_with("HD-"));
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 2);
    assert_err!(
        f.guest(&app.code, at(7, 9), 2, "a@example.com").await,
        Error::SlotFull {
            requested: 2,
            available: 1
        }
    );
    f.assert_counters_equal_facts(&app).await;
    // A microsecond before the expiry the seats are still held.
    f.clock.set(h.expires_at - TimeDelta::microseconds(1));
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 2);
    let read = f.sched.hold_by_token(&h.token).await.expect("read");
    assert_eq!(read.status, HoldStatus::Held);
    // At the expiry they are free, before anything wrote it.
    f.clock.set(h.expires_at);
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 0);
    let read = f.sched.hold_by_token(&h.token).await.expect("read");
    assert_eq!(read.status, HoldStatus::Expired);
    f.assert_counters_equal_facts(&app).await;
    let b = f
        .guest(&app.code, at(7, 9), 3, "a@example.com")
        .await
        .expect("the expired hold's seats are free");
    assert_eq!(b.attendee_count.get(), 3);
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 3);
    let stored = f
        .sched
        .store()
        .hold_by_token(&h.token)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(
        stored.status,
        HoldStatus::Expired,
        "the claim wrote the expiry"
    );
    f.assert_counters_equal_facts(&app).await;
}

/// Booking a hold moves its seats to the booking without a seat check that could fail: a full
/// slot stays full, the booking outlives the hold's expiry, and the token works once.
pub async fn booked_hold_keeps_its_seats<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 2, 10, AntiScalping::Standard).await;
    let h = f.hold(&app.code, at(7, 9), 2).await.expect("hold");
    assert_err!(
        f.guest(&app.code, at(7, 9), 1, "other@example.com").await,
        Error::SlotFull { .. }
    );
    f.clock.advance(TimeDelta::minutes(9));
    let b = f
        .book_hold(&h, "a@example.com")
        .await
        .expect("book the hold");
    assert_eq!(b.attendee_count.get(), 2);
    assert_eq!(b.status, BookingStatus::Active);
    assert_eq!(b.created_at, f.sched.now());
    let read = f.sched.hold_by_token(&h.token).await.expect("read");
    assert_eq!(read.status, HoldStatus::Booked);
    assert_eq!(read.booking_id, Some(b.id));
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 2);
    f.assert_counters_equal_facts(&app).await;
    // Past the hold's expiry the booking still holds the seats.
    f.clock.advance(TimeDelta::minutes(30));
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 2);
    assert_err!(
        f.guest(&app.code, at(7, 9), 1, "other@example.com").await,
        Error::SlotFull { .. }
    );
    assert_err!(
        f.book_hold(&h, "b@example.com").await,
        Error::HoldEnded {
            status: HoldStatus::Booked
        }
    );
    assert_err!(
        f.sched.release_hold(&h.token).await,
        Error::HoldEnded {
            status: HoldStatus::Booked
        }
    );
    f.assert_counters_equal_facts(&app).await;
    // Cancelling the booking frees the seats once.
    f.sched.cancel(&b.code).await.expect("cancel");
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 0);
    f.assert_counters_equal_facts(&app).await;
}

/// At its expiry exactly a hold can no longer be booked (and nothing is written); a microsecond
/// before, it can.
pub async fn booking_a_hold_at_its_expiry_fails<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 4, 10, AntiScalping::None).await;
    let late = f.hold(&app.code, at(7, 9), 2).await.expect("hold");
    f.clock.set(late.expires_at);
    assert_err!(
        f.book_hold(&late, "late@example.com").await,
        Error::HoldEnded {
            status: HoldStatus::Expired
        }
    );
    assert!(super::all_bookings(&f.sched, &app).await.is_empty());
    f.assert_counters_equal_facts(&app).await;
    // The expired hold's seats are free for a new hold, which is booked a microsecond before
    // its own expiry.
    let fresh = f
        .hold(&app.code, at(7, 9), 4)
        .await
        .expect("all seats are free");
    f.clock.set(fresh.expires_at - TimeDelta::microseconds(1));
    let b = f
        .book_hold(&fresh, "fresh@example.com")
        .await
        .expect("in time");
    assert_eq!(b.attendee_count.get(), 4);
    let stored = |token: HoldToken| {
        let store = f.sched.store();
        async move {
            store
                .hold_by_token(&token)
                .await
                .expect("read")
                .expect("kept")
                .status
        }
    };
    assert_eq!(stored(late.token.clone()).await, HoldStatus::Expired);
    assert_eq!(stored(fresh.token.clone()).await, HoldStatus::Booked);
    f.assert_counters_equal_facts(&app).await;
}

/// Releasing a hold gives its seats back once (a second release answers the same hold and
/// frees nothing); a release after the expiry answers it expired; and a reschedule onto a slot
/// whose seats only expired holds keep takes them.
pub async fn release_gives_seats_back_once<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 2, 10, AntiScalping::None).await;
    let h = f.hold(&app.code, at(7, 9), 2).await.expect("hold");
    let released = f.sched.release_hold(&h.token).await.expect("release");
    assert_eq!(released.status, HoldStatus::Released);
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 0);
    let again = f.sched.release_hold(&h.token).await.expect("release again");
    assert_eq!(again.status, HoldStatus::Released);
    f.guest(&app.code, at(7, 9), 2, "a@example.com")
        .await
        .expect("both seats are free");
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 2);
    assert_err!(
        f.book_hold(&h, "b@example.com").await,
        Error::HoldEnded {
            status: HoldStatus::Released
        }
    );
    f.assert_counters_equal_facts(&app).await;

    // A hold released after its expiry is expired.
    let late = f.hold(&app.code, at(7, 10), 1).await.expect("hold");
    f.clock.set(late.expires_at);
    let r = f.sched.release_hold(&late.token).await.expect("release");
    assert_eq!(r.status, HoldStatus::Expired);
    assert_eq!(f.taken(&app.code, at(7, 10)).await, 0);
    f.assert_counters_equal_facts(&app).await;

    // A move onto a slot held only by an expired hold reclaims its seats.
    let full = f.hold(&app.code, at(7, 11), 2).await.expect("hold");
    let b = f
        .guest(&app.code, at(8, 9), 2, "mover@example.com")
        .await
        .expect("book");
    assert_err!(
        f.sched
            .reschedule(
                &b.code,
                crate::Reschedule {
                    slot_start: at(7, 11),
                    attendee_count: None
                }
            )
            .await,
        Error::SlotFull { .. }
    );
    f.clock.set(full.expires_at);
    let moved = f
        .sched
        .reschedule(
            &b.code,
            crate::Reschedule {
                slot_start: at(7, 11),
                attendee_count: None,
            },
        )
        .await
        .expect("the expired hold no longer counts");
    assert_eq!(moved.slot_start, at(7, 11));
    assert_eq!(f.taken(&app.code, at(7, 11)).await, 2);
    f.assert_counters_equal_facts(&app).await;
}

/// Holds are checked like bookings, and a booking of a hold like a booking: nothing changes
/// when they are refused.
pub async fn holds_are_checked<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 3, 10, AntiScalping::Standard).await;
    assert_err!(f.hold(&app.code, at(7, 9), 4).await, Error::SlotFull { .. });
    assert_err!(
        f.hold(&app.code, at(7, 9) + TimeDelta::minutes(5), 1).await,
        Error::InvalidInput {
            field: "start_time",
            ..
        }
    );
    assert_err!(
        f.sched.hold_by_token(&HoldToken::generate()).await,
        Error::NotFound(Entity::Hold)
    );
    assert_err!(
        f.sched.release_hold(&HoldToken::generate()).await,
        Error::NotFound(Entity::Hold)
    );
    let single = f
        .appointment(AppointmentKind::Single, None, AntiScalping::None)
        .await;
    assert_eq!(single.schedule.hold_minutes(), DEFAULT_HOLD_MINUTES);
    assert_err!(
        f.hold(&single.code, at(7, 9), 2).await,
        Error::InvalidInput {
            field: "attendee_count",
            ..
        }
    );
    for minutes in [0, crate::MAX_HOLD_MINUTES + 1] {
        let built = super::fixture_schedule().hold_minutes(minutes).build();
        assert!(
            matches!(
                built,
                Err(Error::InvalidInput {
                    field: "hold_minutes",
                    ..
                })
            ),
            "{minutes} minutes: {built:?}"
        );
    }

    let h = f.hold(&app.code, at(7, 9), 2).await.expect("hold");
    // A booking of the hold must name its slot and seats.
    let wrong_slot = guest_booking(&app.code, at(7, 10), 2, "a@example.com");
    assert_err!(
        f.sched.book_hold(&h.token, wrong_slot).await,
        Error::InvalidInput {
            field: "hold_token",
            ..
        }
    );
    let wrong_count = guest_booking(&app.code, at(7, 9), 1, "a@example.com");
    assert_err!(
        f.sched.book_hold(&h.token, wrong_count).await,
        Error::InvalidInput {
            field: "hold_token",
            ..
        }
    );
    // Bans and anti-scalping apply to the booking of a hold.
    f.sched
        .ban(
            f.owner.id,
            Email::parse("banned@example.com").expect("an email"),
        )
        .await
        .expect("ban");
    assert_err!(f.book_hold(&h, "Banned+x@example.com").await, Error::Banned);
    f.guest(&app.code, at(7, 9), 1, "dup@example.com")
        .await
        .expect("book the last seat");
    assert_err!(
        f.book_hold(&h, "dup@example.com").await,
        Error::Duplicate(Duplicate::BookingEmail)
    );
    let read = f.sched.hold_by_token(&h.token).await.expect("read");
    assert_eq!(read.status, HoldStatus::Held, "refusals change nothing");
    assert_eq!(super::all_bookings(&f.sched, &app).await.len(), 1);
    f.assert_counters_equal_facts(&app).await;
    // A closed appointment takes no new holds; an existing hold is still honoured.
    f.sched
        .update_appointment(
            f.owner.id,
            &app.code,
            AppointmentChanges {
                status: Some(AppointmentStatus::Closed),
                hold_minutes: Some(30),
                ..AppointmentChanges::default()
            },
        )
        .await
        .expect("close");
    assert_err!(
        f.hold(&app.code, at(7, 10), 1).await,
        Error::InvalidInput {
            field: "app_code",
            ..
        }
    );
    let b = f
        .book_hold(&h, "a@example.com")
        .await
        .expect("a hold is a promise");
    assert_eq!(b.attendee_count.get(), 2);
    let stored = f.sched.appointment(&app.code).await.expect("read");
    assert_eq!(stored.schedule.hold_minutes(), 30);
    f.assert_counters_equal_facts(&app).await;
}

/// 200 tasks race for 50 seats of a party, half holding a seat and half booking one: exactly
/// 50 win. Once the holds expire, 100 more bookings race for what they held: exactly that many
/// win, and the counters end equal to the bookings.
pub async fn race_holds_and_bookings_for_the_last_seats<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Party, Some(50), AntiScalping::None)
        .await;
    let start = at(7, 9);
    let barrier = Arc::new(tokio::sync::Barrier::new(200));
    let mut handles = Vec::new();
    for i in 0..200 {
        let sched = f.sched.clone();
        let barrier = barrier.clone();
        let code = app.code.clone();
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            if i % 2 == 0 {
                sched
                    .hold(NewHold {
                        app_code: code,
                        slot_start: start,
                        seats: AttendeeCount::new(1).expect("one"),
                    })
                    .await
                    .map(|_| true)
            } else {
                sched
                    .book(guest_booking(&code, start, 1, &format!("r{i}@example.com")))
                    .await
                    .map(|_| false)
            }
        }));
    }
    let mut holds = 0;
    let mut bookings = 0;
    for h in futures::future::join_all(handles).await {
        match h.expect("task") {
            Ok(true) => holds += 1,
            Ok(false) => bookings += 1,
            Err(Error::SlotFull { .. }) => {}
            Err(e) => panic!("a losing claim must fail with SlotFull, got {e:?}"),
        }
    }
    assert_eq!(holds + bookings, 50, "{holds} holds, {bookings} bookings");
    assert_eq!(f.taken(&app.code, start).await, 50);
    f.assert_counters_equal_facts(&app).await;

    f.clock
        .advance(TimeDelta::minutes(i64::from(DEFAULT_HOLD_MINUTES)));
    assert_eq!(f.taken(&app.code, start).await, bookings);
    f.assert_counters_equal_facts(&app).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(100));
    let mut handles = Vec::new();
    for i in 0..100 {
        let sched = f.sched.clone();
        let barrier = barrier.clone();
        let code = app.code.clone();
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            sched
                .book(guest_booking(&code, start, 1, &format!("s{i}@example.com")))
                .await
        }));
    }
    let mut won = 0;
    for h in futures::future::join_all(handles).await {
        match h.expect("task") {
            Ok(_) => won += 1,
            Err(Error::SlotFull { .. }) => {}
            Err(e) => panic!("a losing booking must fail with SlotFull, got {e:?}"),
        }
    }
    assert_eq!(won, holds, "the expired holds' seats are sold exactly once");
    assert_eq!(f.taken(&app.code, start).await, 50);
    assert!(
        f.sched
            .store()
            .held_holds(app.id)
            .await
            .expect("holds")
            .is_empty(),
        "the claims wrote every expiry"
    );
    f.assert_counters_equal_facts(&app).await;
}

/// The booking of a live hold races bookings that reclaim another hold's expired seats: the
/// hold's booking never fails, the expired seats are sold exactly once, and nothing is
/// oversold.
pub async fn race_booking_a_hold_and_reclaiming_expired_ones<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 10, 5, AntiScalping::None).await;
    let start = at(7, 9);
    let old = f.hold(&app.code, start, 5).await.expect("hold");
    f.clock.advance(TimeDelta::minutes(3));
    let live = f.hold(&app.code, start, 5).await.expect("hold");
    f.clock.set(old.expires_at);
    let barrier = Arc::new(tokio::sync::Barrier::new(21));
    let mut handles = Vec::new();
    for i in 0..21 {
        let sched = f.sched.clone();
        let barrier = barrier.clone();
        let code = app.code.clone();
        let live = live.clone();
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            if i == 0 {
                let req = guest_booking(&code, start, 5, "holder@example.com");
                sched.book_hold(&live.token, req).await.map(|_| true)
            } else {
                let req = guest_booking(&code, start, 1, &format!("r{i}@example.com"));
                sched.book(req).await.map(|_| false)
            }
        }));
    }
    let mut others = 0;
    for (i, h) in futures::future::join_all(handles)
        .await
        .into_iter()
        .enumerate()
    {
        match h.expect("task") {
            Ok(true) => {}
            Ok(false) => others += 1,
            Err(Error::SlotFull { .. }) if i > 0 => {}
            Err(e) => panic!("task {i} failed: {e:?}"),
        }
    }
    assert_eq!(others, 5, "the expired hold's 5 seats are sold once");
    assert_eq!(f.taken(&app.code, start).await, 10);
    let read = f.sched.hold_by_token(&live.token).await.expect("read");
    assert_eq!(read.status, HoldStatus::Booked);
    f.assert_counters_equal_facts(&app).await;
}
