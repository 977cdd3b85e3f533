//! The expiry sweeper: [`Store::appointments_with_expired`] finds the appointments with holds
//! and pending bookings past their deadline and not yet reclaimed, and only those, at most as
//! many as asked, the oldest deadline first; [`crate::Scheduler::reclaim_all_expired`] reclaims
//! them, which stores the expiries and appends their events (and passes a lapsed offer to the
//! next in line) with nothing else touching the appointment; sweepers racing each other expire
//! each hold and booking once.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Fixture, at};
use crate::{
    AntiScalping, AppointmentId, AppointmentKind, BookingStatus, Error, EventCursor, EventKind,
    HoldStatus, MAX_EXPIRY_SWEEP, Store, WaitlistStatus,
};

impl<S: Store> Fixture<S> {
    /// What the store lists as expired and not yet reclaimed at the fixture's `now`.
    pub async fn expired_appointments(&self, limit: u32) -> Vec<AppointmentId> {
        self.sched
            .store()
            .appointments_with_expired(self.sched.now(), limit)
            .await
            .expect("list the appointments with expired holds and bookings")
    }
}

/// A group appointment of `seats` seats whose holds last `hold_minutes` and whose bookings wait
/// `confirm_minutes` for the owner's confirmation (`None`: active at once).
async fn group<S: Store>(
    f: &Fixture<S>,
    seats: u32,
    hold_minutes: u32,
    confirm_minutes: Option<u32>,
) -> crate::Appointment {
    let schedule = super::fixture_schedule()
        .hold_minutes(hold_minutes)
        .confirm_within_minutes(confirm_minutes)
        .build()
        .expect("a valid schedule");
    f.appointment_with(
        AppointmentKind::Group,
        Some(seats),
        AntiScalping::None,
        schedule,
    )
    .await
}

/// A hold past its expiry and a pending booking past its deadline list their appointments
/// (from that microsecond on, the oldest deadline first, each once, at most `limit`); holds
/// released, bookings confirmed or active never list. A sweep stores both expiries, appends
/// `hold.expired` and `booking.expired` once, and gives the seats back; then nothing lists
/// and a second sweep finds nothing.
pub async fn expired_holds_and_pending_bookings_are_listed_until_swept<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let held = group(&f, 3, 10, None).await;
    let approved = group(&f, 3, 10, Some(60)).await;
    let hold = f.hold(&held.code, at(7, 9), 2).await.expect("hold");
    let released = f.hold(&held.code, at(7, 10), 1).await.expect("hold");
    f.sched
        .release_hold(&released.token)
        .await
        .expect("release");
    f.guest(&held.code, at(7, 11), 1, "active@example.com")
        .await
        .expect("book");
    let pending = f
        .guest(&approved.code, at(7, 9), 2, "pending@example.com")
        .await
        .expect("book");
    assert_eq!(pending.status, BookingStatus::Pending);
    let confirmed = f
        .guest(&approved.code, at(7, 10), 1, "confirmed@example.com")
        .await
        .expect("book");
    f.sched
        .confirm(f.owner.id, &confirmed.code)
        .await
        .expect("confirm");
    // 2 appointments, 2 holds and a release, 3 bookings and a confirmation.
    let mut cursor = EventCursor::START;
    f.new_events(&mut cursor, 9).await;

    assert_eq!(f.expired_appointments(10).await, vec![]);
    f.clock.set(hold.expires_at - TimeDelta::microseconds(1));
    assert_eq!(f.expired_appointments(10).await, vec![]);
    f.clock.set(hold.expires_at);
    assert_eq!(f.expired_appointments(10).await, vec![held.id]);
    let deadline = pending.confirm_by.expect("a deadline");
    assert!(deadline > hold.expires_at);
    f.clock.set(deadline - TimeDelta::microseconds(1));
    assert_eq!(f.expired_appointments(10).await, vec![held.id]);
    f.clock.set(deadline);
    assert_eq!(
        f.expired_appointments(10).await,
        vec![held.id, approved.id],
        "the oldest deadline first"
    );
    assert_eq!(f.expired_appointments(1).await, vec![held.id]);
    assert_eq!(f.expired_appointments(0).await, vec![]);
    // Listing changed nothing.
    assert_eq!(
        f.sched
            .store()
            .hold_by_id(hold.id)
            .await
            .expect("read")
            .expect("kept")
            .status,
        HoldStatus::Held
    );
    for bad in [0, MAX_EXPIRY_SWEEP + 1] {
        assert_err!(
            f.sched.reclaim_all_expired(bad).await,
            Error::InvalidInput { .. }
        );
    }

    let sweep = f.sched.reclaim_all_expired(10).await.expect("sweep");
    assert_eq!((sweep.appointments, sweep.seats), (2, 4), "{sweep:?}");
    assert!(sweep.failures.is_empty(), "{sweep:?}");
    assert_eq!(f.expired_appointments(10).await, vec![]);
    let stored_hold = f
        .sched
        .store()
        .hold_by_id(hold.id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(stored_hold.status, HoldStatus::Expired);
    let stored_booking = f
        .sched
        .store()
        .booking_by_code(&pending.code)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(stored_booking.status, BookingStatus::Expired);
    let events = f.new_events(&mut cursor, 2).await;
    let mut seen: Vec<(EventKind, uuid::Uuid)> =
        events.iter().map(|e| (e.kind, e.subject_id())).collect();
    seen.sort_by_key(|(k, _)| k.as_str());
    assert_eq!(
        seen,
        vec![
            (EventKind::BookingExpired, pending.id.0),
            (EventKind::HoldExpired, hold.id.0),
        ]
    );
    assert_eq!(f.taken(&held.code, at(7, 9)).await, 0);
    assert_eq!(f.taken(&approved.code, at(7, 9)).await, 0);

    let again = f.sched.reclaim_all_expired(10).await.expect("sweep");
    assert_eq!((again.appointments, again.seats), (0, 0), "{again:?}");
    assert!(again.failures.is_empty());
    // Released holds, confirmed and active bookings never expire, however late it gets.
    f.clock.advance(TimeDelta::days(30));
    assert_eq!(f.expired_appointments(10).await, vec![]);
    f.assert_counters_equal_facts(&held).await;
    f.assert_counters_equal_facts(&approved).await;
}

/// `limit` bounds the appointments listed and swept per round; an appointment with several
/// expired holds lists once; rounds go on, the oldest first, until nothing is left, and each
/// hold expires once.
pub async fn expiry_sweep_respects_its_limit<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let mut apps = Vec::new();
    for i in 0..5 {
        let app = group(&f, 3, 10, None).await;
        let holds = if i == 0 { 3 } else { 1 };
        for _ in 0..holds {
            f.hold(&app.code, at(7, 9), 1).await.expect("hold");
        }
        apps.push(app);
        // Each appointment's holds expire a minute after the previous one's.
        f.clock.advance(TimeDelta::minutes(1));
    }
    // 5 appointments and 7 holds.
    let mut cursor = EventCursor::START;
    f.new_events(&mut cursor, 12).await;
    f.clock.advance(TimeDelta::minutes(10));
    let ids: Vec<AppointmentId> = apps.iter().map(|a| a.id).collect();
    assert_eq!(f.expired_appointments(10).await, ids);
    assert_eq!(f.expired_appointments(2).await, ids[..2].to_vec());

    let first = f.sched.reclaim_all_expired(2).await.expect("sweep");
    assert_eq!((first.appointments, first.seats), (2, 4), "{first:?}");
    assert_eq!(f.expired_appointments(10).await, ids[2..].to_vec());
    let second = f.sched.reclaim_all_expired(2).await.expect("sweep");
    assert_eq!((second.appointments, second.seats), (2, 2), "{second:?}");
    let third = f.sched.reclaim_all_expired(2).await.expect("sweep");
    assert_eq!((third.appointments, third.seats), (1, 1), "{third:?}");
    let last = f.sched.reclaim_all_expired(2).await.expect("sweep");
    assert_eq!((last.appointments, last.seats), (0, 0), "{last:?}");
    assert_eq!(f.expired_appointments(10).await, vec![]);
    let kinds = f.new_kinds(&mut cursor, 7).await;
    assert_eq!(kinds, vec![EventKind::HoldExpired; 7]);
    for app in &apps {
        f.assert_counters_equal_facts(app).await;
    }
}

/// An offer to a waiting place that nobody books lists its appointment once it runs out; a
/// sweep expires it and offers its seats to the next in line (`hold.expired`, `hold.created`,
/// `waitlist.offered`), with nothing else touching the appointment.
pub async fn expiry_sweep_passes_a_lapsed_offer_to_the_next_in_line<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 1, 10, None).await;
    let start = at(7, 9);
    let a = f
        .guest(&app.code, start, 1, "a@example.com")
        .await
        .expect("book");
    let first = f
        .join(&app.code, start, 1, "w1@example.com")
        .await
        .expect("join");
    let second = f
        .join(&app.code, start, 1, "w2@example.com")
        .await
        .expect("join");
    f.sched.cancel(&a.code).await.expect("cancel");
    // The appointment, the booking, 2 joins, the cancel, the offer's hold and the offer.
    let mut cursor = EventCursor::START;
    f.new_events(&mut cursor, 7).await;
    let read_place = |code: crate::WaitlistCode| {
        let sched = f.sched.clone();
        async move {
            sched
                .store()
                .waitlist_by_code(&code)
                .await
                .expect("read")
                .expect("kept")
        }
    };
    let offered = read_place(first.entry.code.clone()).await;
    assert_eq!(offered.status, WaitlistStatus::Offered);
    let offer = f
        .sched
        .store()
        .hold_by_id(offered.hold_id.expect("an offer"))
        .await
        .expect("read")
        .expect("kept");

    f.clock.set(offer.expires_at - TimeDelta::microseconds(1));
    assert_eq!(f.expired_appointments(10).await, vec![]);
    f.clock.set(offer.expires_at);
    assert_eq!(f.expired_appointments(10).await, vec![app.id]);
    let sweep = f.sched.reclaim_all_expired(10).await.expect("sweep");
    assert_eq!((sweep.appointments, sweep.seats), (1, 1), "{sweep:?}");
    assert!(sweep.failures.is_empty());

    let next = read_place(second.entry.code.clone()).await;
    assert_eq!(next.status, WaitlistStatus::Offered, "{next:?}");
    let next_offer = f
        .sched
        .store()
        .hold_by_id(next.hold_id.expect("an offer"))
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(next_offer.status, HoldStatus::Held);
    assert_eq!(
        next_offer.expires_at,
        offer.expires_at + TimeDelta::minutes(10)
    );
    let expired = f
        .sched
        .store()
        .hold_by_id(offer.id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(expired.status, HoldStatus::Expired);
    let events = f.new_events(&mut cursor, 3).await;
    let mut seen: Vec<(EventKind, uuid::Uuid)> =
        events.iter().map(|e| (e.kind, e.subject_id())).collect();
    seen.sort_by_key(|(k, _)| k.as_str());
    assert_eq!(
        seen,
        vec![
            (EventKind::HoldCreated, next_offer.id.0),
            (EventKind::HoldExpired, offer.id.0),
            (EventKind::WaitlistOffered, second.entry.id.0),
        ]
    );
    // The new offer is live: nothing to sweep until it runs out too.
    assert_eq!(f.expired_appointments(10).await, vec![]);
    f.assert_counters_equal_facts(&app).await;
}

/// Four sweepers (as four replicas would) race over appointments with expired holds and
/// pending bookings, in rounds of 2: every hold and booking is expired once (one event each),
/// the seats they gave back add up to the seats that expired, and nothing is left listed.
pub async fn race_sweepers_expire_each_once<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let mut apps = Vec::new();
    let mut expected: HashMap<uuid::Uuid, EventKind> = HashMap::new();
    let mut seats = 0u64;
    let slots: [DateTime<Utc>; 3] = [at(7, 9), at(7, 10), at(8, 11)];
    for i in 0..6u32 {
        if i % 2 == 0 {
            let app = group(&f, 4, 10, None).await;
            for (j, start) in slots.iter().enumerate() {
                let n = u32::try_from(j).expect("small") + 1;
                let h = f.hold(&app.code, *start, n).await.expect("hold");
                expected.insert(h.id.0, EventKind::HoldExpired);
                seats += u64::from(n);
            }
            apps.push(app);
        } else {
            let app = group(&f, 4, 10, Some(30)).await;
            for (j, start) in slots.iter().enumerate() {
                let n = u32::try_from(j).expect("small") + 1;
                let b = f
                    .guest(&app.code, *start, n, &format!("p{i}-{j}@example.com"))
                    .await
                    .expect("book");
                assert_eq!(b.status, BookingStatus::Pending);
                expected.insert(b.id.0, EventKind::BookingExpired);
                seats += u64::from(n);
            }
            apps.push(app);
        }
    }
    // 6 appointments, 9 holds and 9 bookings.
    let mut cursor = EventCursor::START;
    f.new_events(&mut cursor, 24).await;
    f.clock.advance(TimeDelta::minutes(30));

    let barrier = Arc::new(tokio::sync::Barrier::new(4));
    let mut handles = Vec::new();
    for _ in 0..4 {
        let sched = f.sched.clone();
        let barrier = barrier.clone();
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut given_back = 0u64;
            for _ in 0..20 {
                let round = sched.reclaim_all_expired(2).await.expect("sweep");
                assert!(round.failures.is_empty(), "{round:?}");
                given_back += round.seats;
                if round.appointments == 0 {
                    return given_back;
                }
            }
            panic!("a sweeper found expired appointments round after round");
        }));
    }
    let mut given_back = 0u64;
    for h in futures::future::join_all(handles).await {
        given_back += h.expect("task");
    }
    assert_eq!(given_back, seats, "every expired seat given back once");
    assert_eq!(f.expired_appointments(10).await, vec![]);
    let events = f.new_events(&mut cursor, expected.len()).await;
    let mut seen: HashMap<uuid::Uuid, EventKind> = HashMap::new();
    for e in &events {
        assert!(
            seen.insert(e.subject_id(), e.kind).is_none(),
            "{} expired twice: {events:?}",
            e.subject_id()
        );
    }
    assert_eq!(seen, expected);
    for app in &apps {
        f.assert_counters_equal_facts(app).await;
        assert!(
            f.sched
                .store()
                .held_holds(app.id)
                .await
                .expect("read holds")
                .is_empty()
        );
    }
}
