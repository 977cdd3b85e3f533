//! Waiting lists: places in line for a full slot. Freed seats are offered, in the transaction
//! that frees them, to the places in join order as holds in their name; an offer that runs out
//! passes to the next in line; every freed seat is offered once.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Fixture, at, guest_booking};
use crate::{
    AntiScalping, AppointmentKind, AttendeeCount, Duplicate, Email, Error, HoldStatus, Name,
    NewWaitlistEntry, Store, WaitlistPlace, WaitlistStatus,
};

impl<S: Store> Fixture<S> {
    /// Joins the waiting list of the slot at `start` for `seats` seats as `mail`.
    pub async fn join(
        &self,
        app: &crate::AppCode,
        start: DateTime<Utc>,
        seats: u32,
        mail: &str,
    ) -> crate::Result<WaitlistPlace> {
        self.sched
            .join_waitlist(NewWaitlistEntry {
                app_code: app.clone(),
                slot_start: start,
                seats: AttendeeCount::new(seats).expect("seats >= 1"),
                name: Name::parse("Waiting Guest").expect("a name"),
                email: Email::parse(mail).expect("an email"),
            })
            .await
    }

    /// A place as of now.
    pub async fn place(&self, p: &WaitlistPlace) -> WaitlistPlace {
        self.sched
            .waitlist_place(&p.entry.code)
            .await
            .expect("read the place")
    }
}

/// A group appointment of `seats` seats whose holds (and offers) last 10 minutes.
async fn group<S: Store>(f: &Fixture<S>, seats: u32, anti: AntiScalping) -> crate::Appointment {
    f.appointment(AppointmentKind::Group, Some(seats), anti)
        .await
}

/// A full slot takes places in line; a cancel offers the freed seats to the first in line at
/// once, as a hold in its name that books without a seat check; the others keep their order.
pub async fn waitlist_offers_freed_seats_in_order<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 2, AntiScalping::None).await;
    let start = at(7, 9);
    let a = f
        .guest(&app.code, start, 2, "a@example.com")
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
    let third = f
        .join(&app.code, start, 1, "w3@example.com")
        .await
        .expect("join");
    assert_eq!((first.position, second.position, third.position), (1, 2, 3));
    assert!(first.entry.code.as_str().starts_with("WL-"));
    assert_eq!(first.status, WaitlistStatus::Waiting);
    f.assert_counters_equal_facts(&app).await;

    f.clock.advance(TimeDelta::minutes(1));
    f.sched.cancel(&a.code).await.expect("cancel");
    // Two seats freed: the first two in line are offered one each, the third still waits.
    let one = f.place(&first).await;
    let two = f.place(&second).await;
    let three = f.place(&third).await;
    assert_eq!(one.status, WaitlistStatus::Offered);
    assert_eq!(two.status, WaitlistStatus::Offered);
    assert_eq!((three.status, three.position), (WaitlistStatus::Waiting, 1));
    let offer = one.offer.clone().expect("an offer");
    assert_eq!(offer.seats.get(), 1);
    assert_eq!(offer.status, HoldStatus::Held);
    assert_eq!(offer.expires_at, f.sched.now() + TimeDelta::minutes(10));
    assert_eq!(
        f.taken(&app.code, start).await,
        2,
        "the offers hold the seats"
    );
    assert_err!(
        f.guest(&app.code, start, 1, "newcomer@example.com").await,
        Error::SlotFull { .. }
    );
    f.assert_counters_equal_facts(&app).await;

    let b = f
        .book_hold(&offer, "w1@example.com")
        .await
        .expect("book the offer");
    assert_eq!(b.attendee_count.get(), 1);
    let one = f.place(&first).await;
    assert_eq!((one.status, one.position), (WaitlistStatus::Booked, 0));
    f.assert_counters_equal_facts(&app).await;
}

/// An offer nobody books runs out at its expiry; its seats then go to the next in line (here
/// when the place is looked at, with nothing else having run) and the expired place is done.
pub async fn waitlist_offer_expires_to_the_next<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 1, AntiScalping::None).await;
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
    let offer = f.place(&first).await.offer.expect("offered");
    f.clock.set(offer.expires_at - TimeDelta::microseconds(1));
    assert_eq!(f.place(&first).await.status, WaitlistStatus::Offered);
    assert_eq!(f.place(&second).await.status, WaitlistStatus::Waiting);
    f.clock.set(offer.expires_at);
    assert_eq!(f.place(&first).await.status, WaitlistStatus::Expired);
    let next = f.place(&second).await;
    assert_eq!(next.status, WaitlistStatus::Offered, "{next:?}");
    let next_offer = next.offer.expect("offered");
    assert_eq!(
        next_offer.expires_at,
        offer.expires_at + TimeDelta::minutes(10)
    );
    assert_err!(
        f.book_hold(&offer, "w1@example.com").await,
        Error::HoldEnded {
            status: HoldStatus::Expired
        }
    );
    f.book_hold(&next_offer, "w2@example.com")
        .await
        .expect("the next in line books");
    f.assert_counters_equal_facts(&app).await;
}

/// Freed seats go to the first place whose seats fit: a larger request keeps its place (and
/// is served first when enough seats free up), smaller ones behind it are served meanwhile.
/// Leaving gives an offer's seats to the next in line.
pub async fn waitlist_serves_the_first_request_that_fits_and_leaving<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 3, AntiScalping::None).await;
    let start = at(7, 10);
    let a = f
        .guest(&app.code, start, 1, "a@example.com")
        .await
        .expect("book");
    let b = f
        .guest(&app.code, start, 2, "b@example.com")
        .await
        .expect("book");
    let big = f
        .join(&app.code, start, 3, "big@example.com")
        .await
        .expect("join");
    let small = f
        .join(&app.code, start, 1, "small@example.com")
        .await
        .expect("join");
    let gone = f
        .join(&app.code, start, 1, "gone@example.com")
        .await
        .expect("join");
    let left = f
        .sched
        .leave_waitlist(&gone.entry.code)
        .await
        .expect("leave");
    assert_eq!((left.status, left.position), (WaitlistStatus::Left, 0));
    f.sched.cancel(&a.code).await.expect("cancel");
    assert_eq!(f.place(&big).await.status, WaitlistStatus::Waiting);
    let offered = f.place(&small).await;
    assert_eq!(offered.status, WaitlistStatus::Offered);
    assert_eq!(f.place(&gone).await.status, WaitlistStatus::Left);
    // The small place gives its offer back: the seat is free again, the big one still waits.
    let back = f
        .sched
        .leave_waitlist(&small.entry.code)
        .await
        .expect("leave");
    assert_eq!(back.status, WaitlistStatus::Left);
    assert_eq!(f.taken(&app.code, start).await, 2);
    f.assert_counters_equal_facts(&app).await;
    // Two more seats free up: now the big request fits and is offered all three.
    f.sched.cancel(&b.code).await.expect("cancel");
    let served = f.place(&big).await;
    assert_eq!(served.status, WaitlistStatus::Offered);
    assert_eq!(served.offer.expect("offer").seats.get(), 3);
    assert_eq!(f.taken(&app.code, start).await, 3);
    f.assert_counters_equal_facts(&app).await;
    // Leaving again answers the place as it is.
    let again = f
        .sched
        .leave_waitlist(&small.entry.code)
        .await
        .expect("leave");
    assert_eq!(again.status, WaitlistStatus::Left);
}

/// Joining is checked as booking is: a slot with free seats takes no places (book them), bans
/// apply, and under anti-scalping one email holds one booking or one place per appointment.
pub async fn waitlist_joins_are_checked<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 2, AntiScalping::Standard).await;
    let start = at(7, 9);
    assert_err!(
        f.join(&app.code, start, 1, "early@example.com").await,
        Error::InvalidInput { .. }
    );
    f.guest(&app.code, start, 1, "a@example.com")
        .await
        .expect("book");
    assert_err!(
        f.join(&app.code, start, 1, "early@example.com").await,
        Error::InvalidInput { .. }
    );
    f.guest(&app.code, start, 1, "b@example.com")
        .await
        .expect("book");
    assert_err!(
        f.join(&app.code, start, 1, "a+again@example.com").await,
        Error::Duplicate(Duplicate::BookingEmail)
    );
    f.join(&app.code, start, 1, "w@example.com")
        .await
        .expect("join");
    assert_err!(
        f.join(&app.code, at(7, 9), 1, "W@example.com").await,
        Error::Duplicate(Duplicate::WaitlistEmail)
    );
    f.sched
        .ban(
            f.owner.id,
            Email::parse("bad@example.com").expect("an email"),
        )
        .await
        .expect("ban");
    assert_err!(
        f.join(&app.code, start, 1, "bad@example.com").await,
        Error::Banned
    );
    assert_err!(
        f.join(&app.code, start, 3, "many@example.com").await,
        Error::SlotFull { .. }
    );
    assert_err!(
        f.sched
            .waitlist_place(&crate::WaitlistCode::generate())
            .await,
        Error::NotFound(crate::Entity::WaitlistEntry)
    );
    f.assert_counters_equal_facts(&app).await;
}

/// Cancellations race joins on one slot: 12 bookings fill it, 12 cancels and 24 joins run at
/// once. Every freed seat ends up offered to a place or free with nobody fitting in line, never
/// both; offers go to places in join order; counters equal the facts.
pub async fn race_cancellations_and_waitlist_joins<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = group(&f, 12, AntiScalping::None).await;
    let start = at(8, 11);
    let mut booked = Vec::new();
    for i in 0..12 {
        booked.push(
            f.guest(&app.code, start, 1, &format!("b{i}@example.com"))
                .await
                .expect("book"),
        );
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(36));
    let mut cancels = Vec::new();
    for b in &booked {
        let (sched, barrier, code) = (f.sched.clone(), barrier.clone(), b.code.clone());
        cancels.push(tokio::spawn(async move {
            barrier.wait().await;
            sched.cancel(&code).await
        }));
    }
    let mut joins = Vec::new();
    for i in 0..24 {
        let (sched, barrier, code) = (f.sched.clone(), barrier.clone(), app.code.clone());
        joins.push(tokio::spawn(async move {
            barrier.wait().await;
            sched
                .join_waitlist(NewWaitlistEntry {
                    app_code: code,
                    slot_start: start,
                    seats: AttendeeCount::ONE,
                    name: Name::parse("Racer").expect("a name"),
                    email: Email::parse(&format!("w{i}@example.com")).expect("an email"),
                })
                .await
        }));
    }
    for c in futures::future::join_all(cancels).await {
        c.expect("task").expect("cancel");
    }
    let mut places = Vec::new();
    for j in futures::future::join_all(joins).await {
        match j.expect("task") {
            Ok(p) => places.push(p),
            // Seats were free at that moment: the joiner would book instead.
            Err(Error::InvalidInput { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    let mut now_places = Vec::new();
    for p in &places {
        now_places.push(f.place(p).await);
    }
    now_places.sort_by_key(|p| (p.entry.created_at, p.entry.id));
    let offered = now_places
        .iter()
        .filter(|p| p.status == WaitlistStatus::Offered)
        .count();
    let waiting = now_places
        .iter()
        .filter(|p| p.status == WaitlistStatus::Waiting)
        .count();
    assert_eq!(offered + waiting, places.len());
    let taken = f.taken(&app.code, start).await;
    assert_eq!(taken as usize, offered, "every taken seat is an offer");
    if waiting > 0 {
        assert_eq!(taken, 12, "nobody waits while a seat is free");
    }
    // In line order, the offered places come before the waiting ones.
    let mut positions: Vec<u64> = now_places
        .iter()
        .filter(|p| p.status == WaitlistStatus::Waiting)
        .map(|p| p.position)
        .collect();
    positions.sort_unstable();
    assert_eq!(positions, (1..=waiting as u64).collect::<Vec<_>>());
    let _ = guest_booking;
    f.assert_counters_equal_facts(&app).await;
}
