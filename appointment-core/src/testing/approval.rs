//! Approval: bookings of an appointment that requires confirmation start pending and hold their
//! seats until the owner confirms or declines them, or until their deadline, from which
//! microsecond on they hold nothing without anything having to run. Confirm, decline, cancel
//! and the deadline each have one winner, whatever races.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Fixture, at, guest_booking};
use crate::{
    AntiScalping, AppointmentChanges, AppointmentKind, BookingStatus, Duplicate, Entity, Error,
    Reschedule, Store,
};

/// A group appointment of `seats` seats (2030-01-07 to 09, 09:00-12:00 UTC, hourly) whose
/// bookings wait up to `minutes` for the owner's confirmation.
async fn approved<S: Store>(
    f: &Fixture<S>,
    seats: u32,
    minutes: u32,
    anti: AntiScalping,
) -> crate::Appointment {
    let schedule = super::fixture_schedule()
        .confirm_within_minutes(Some(minutes))
        .build()
        .expect("a valid schedule");
    f.appointment_with(AppointmentKind::Group, Some(seats), anti, schedule)
        .await
}

/// A pending booking holds its seats like an active one; the owner (only) confirms it, and it
/// keeps them.
pub async fn pending_booking_holds_seats_until_confirmed<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = approved(&f, 3, 60, AntiScalping::None).await;
    let stored = f.sched.appointment(&app.code).await.expect("read back");
    assert_eq!(stored.schedule.confirm_within_minutes(), Some(60));
    let b = f
        .guest(&app.code, at(7, 9), 2, "a@example.com")
        .await
        .expect("book");
    assert_eq!(b.status, BookingStatus::Pending);
    assert_eq!(b.confirm_by, Some(f.sched.now() + TimeDelta::minutes(60)));
    let read = f.sched.booking(&b.code).await.expect("read");
    assert_eq!(read.status, BookingStatus::Pending);
    assert_eq!(read.confirm_by, b.confirm_by);
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 2);
    assert_err!(
        f.guest(&app.code, at(7, 9), 2, "b@example.com").await,
        Error::SlotFull {
            requested: 2,
            available: 1
        }
    );
    f.assert_counters_equal_facts(&app).await;
    let stranger = f.user("Stranger", "stranger@example.com").await;
    assert_err!(
        f.sched.confirm(stranger.id, &b.code).await,
        Error::Forbidden(_)
    );
    assert_err!(
        f.sched.decline(stranger.id, &b.code).await,
        Error::Forbidden(_)
    );
    f.clock.advance(TimeDelta::minutes(59));
    let confirmed = f.sched.confirm(f.owner.id, &b.code).await.expect("confirm");
    assert_eq!(confirmed.status, BookingStatus::Active);
    assert_eq!(confirmed.updated_at, f.sched.now());
    // Confirmed, it holds its seats past the deadline it no longer has.
    f.clock.advance(TimeDelta::minutes(30));
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 2);
    assert_eq!(
        f.sched.booking(&b.code).await.expect("read").status,
        BookingStatus::Active
    );
    assert_err!(
        f.sched.confirm(f.owner.id, &b.code).await,
        Error::InvalidTransition {
            from: BookingStatus::Active,
            action: "confirm"
        }
    );
    assert_err!(
        f.sched.decline(f.owner.id, &b.code).await,
        Error::InvalidTransition {
            from: BookingStatus::Active,
            action: "decline"
        }
    );
    f.assert_counters_equal_facts(&app).await;
    // An appointment without approval books active at once.
    let plain = f
        .appointment(AppointmentKind::Group, Some(3), AntiScalping::None)
        .await;
    let b = f
        .guest(&plain.code, at(7, 9), 1, "a@example.com")
        .await
        .expect("book");
    assert_eq!((b.status, b.confirm_by), (BookingStatus::Active, None));
    assert_err!(
        f.sched.confirm(f.owner.id, &b.code).await,
        Error::InvalidTransition {
            from: BookingStatus::Active,
            ..
        }
    );
}

/// At its deadline exactly a pending booking holds nothing, before anything wrote it: listings
/// show the seats free, the next claim takes them (writing the expiry), and the owner can no
/// longer confirm or decline it, nor the guest cancel or move it. A deadline never lies past
/// the slot's start.
pub async fn pending_booking_expires_at_its_deadline<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = approved(&f, 3, 45, AntiScalping::None).await;
    let b = f
        .guest(&app.code, at(7, 9), 3, "a@example.com")
        .await
        .expect("book");
    let deadline = b.confirm_by.expect("pending");
    f.clock.set(deadline - TimeDelta::microseconds(1));
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 3);
    assert_eq!(
        f.sched
            .booking(&b.code)
            .await
            .expect("read")
            .status_at(f.sched.now()),
        BookingStatus::Pending
    );
    f.clock.set(deadline);
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 0);
    let read = f.sched.booking(&b.code).await.expect("read");
    assert_eq!(read.status_at(f.sched.now()), BookingStatus::Expired);
    f.assert_counters_equal_facts(&app).await;
    let expired = Error::InvalidTransition {
        from: BookingStatus::Expired,
        action: "",
    };
    for (result, action) in [
        (f.sched.confirm(f.owner.id, &b.code).await, "confirm"),
        (f.sched.decline(f.owner.id, &b.code).await, "decline"),
        (f.sched.cancel(&b.code).await, "cancel"),
        (f.sched.reject(f.owner.id, &b.code).await, "reject"),
    ] {
        match result {
            Err(Error::InvalidTransition {
                from: BookingStatus::Expired,
                action: a,
            }) => assert_eq!(a, action),
            other => panic!("{action}: expected {expired:?}, got {other:?}"),
        }
    }
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
        Error::InvalidTransition {
            from: BookingStatus::Expired,
            action: "reschedule"
        }
    );
    f.assert_counters_equal_facts(&app).await;
    let next = f
        .guest(&app.code, at(7, 9), 3, "b@example.com")
        .await
        .expect("the expired booking's seats are free");
    assert_eq!(next.status, BookingStatus::Pending);
    let stored = f
        .sched
        .store()
        .booking_by_code(&b.code)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(
        stored.status,
        BookingStatus::Expired,
        "the claim wrote the expiry"
    );
    f.assert_counters_equal_facts(&app).await;
    // Booked half an hour before its slot, a booking must be decided by the slot's start.
    f.clock.set(at(7, 10) - TimeDelta::minutes(30));
    let late = f
        .guest(&app.code, at(7, 10), 1, "c@example.com")
        .await
        .expect("book");
    assert_eq!(late.confirm_by, Some(at(7, 10)));
}

/// Declining frees the seats once; a guest may cancel (or move) a pending booking, which stays
/// pending; the owner may reject one as any booking; nothing else ends a pending booking.
pub async fn decline_cancel_and_move_a_pending_booking<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = approved(&f, 4, 120, AntiScalping::None).await;
    let one = f
        .guest(&app.code, at(7, 9), 2, "a@example.com")
        .await
        .expect("book");
    let two = f
        .guest(&app.code, at(7, 9), 2, "b@example.com")
        .await
        .expect("book");
    let declined = f
        .sched
        .decline(f.owner.id, &one.code)
        .await
        .expect("decline");
    assert_eq!(declined.status, BookingStatus::Declined);
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 2);
    assert_err!(
        f.sched.decline(f.owner.id, &one.code).await,
        Error::InvalidTransition {
            from: BookingStatus::Declined,
            ..
        }
    );
    assert_err!(
        f.sched.confirm(f.owner.id, &one.code).await,
        Error::InvalidTransition {
            from: BookingStatus::Declined,
            ..
        }
    );
    assert_err!(
        f.sched.complete(f.owner.id, &two.code).await,
        Error::InvalidTransition {
            from: BookingStatus::Pending,
            action: "complete"
        }
    );
    f.assert_counters_equal_facts(&app).await;
    // Moved, a pending booking stays pending with its deadline, its seats on the new slot.
    let moved = f
        .sched
        .reschedule(
            &two.code,
            Reschedule {
                slot_start: at(7, 10),
                attendee_count: None,
            },
        )
        .await
        .expect("move");
    assert_eq!(moved.status, BookingStatus::Pending);
    assert_eq!(moved.confirm_by, two.confirm_by);
    assert_eq!(f.taken(&app.code, at(7, 9)).await, 0);
    assert_eq!(f.taken(&app.code, at(7, 10)).await, 2);
    f.assert_counters_equal_facts(&app).await;
    // Its deadline still applies on the new slot.
    f.clock.set(two.confirm_by.expect("pending"));
    assert_eq!(f.taken(&app.code, at(7, 10)).await, 0);
    f.assert_counters_equal_facts(&app).await;
    f.clock.set(super::epoch());
    let three = f
        .guest(&app.code, at(7, 11), 1, "c@example.com")
        .await
        .expect("book");
    let cancelled = f.sched.cancel(&three.code).await.expect("guest cancel");
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    let four = f
        .guest(&app.code, at(7, 11), 1, "d@example.com")
        .await
        .expect("book");
    let rejected = f
        .sched
        .reject(f.owner.id, &four.code)
        .await
        .expect("reject");
    assert_eq!(rejected.status, BookingStatus::Rejected);
    assert_eq!(f.taken(&app.code, at(7, 11)).await, 0);
    f.assert_counters_equal_facts(&app).await;
    // Moved to an earlier slot, a pending booking must be decided by that slot's start.
    let month = approved(&f, 2, crate::MAX_CONFIRM_MINUTES, AntiScalping::None).await;
    let far = f
        .guest(&month.code, at(9, 11), 1, "far@example.com")
        .await
        .expect("book");
    assert_eq!(far.confirm_by, Some(at(9, 11)));
    let near = f
        .sched
        .reschedule(
            &far.code,
            Reschedule {
                slot_start: at(7, 9),
                attendee_count: None,
            },
        )
        .await
        .expect("move");
    assert_eq!(near.confirm_by, Some(at(7, 9)));
    assert_eq!(
        f.sched.booking(&far.code).await.expect("read").confirm_by,
        Some(at(7, 9))
    );
    // A slot that starts now is too late to ask the owner.
    let clock_was = f.sched.now();
    f.clock.set(at(7, 10));
    assert_err!(
        f.guest(&month.code, at(7, 10), 1, "now@example.com").await,
        Error::InvalidInput { .. }
    );
    f.clock.set(clock_was);
    f.assert_counters_equal_facts(&month).await;
    // Approval off again: new bookings are active, the pending ones still wait for a decision.
    let five = f
        .guest(&app.code, at(8, 9), 1, "e@example.com")
        .await
        .expect("book");
    f.sched
        .update_appointment(
            f.owner.id,
            &app.code,
            AppointmentChanges {
                confirm_within_minutes: Some(None),
                ..AppointmentChanges::default()
            },
        )
        .await
        .expect("approval off");
    let six = f
        .guest(&app.code, at(8, 9), 1, "f@example.com")
        .await
        .expect("book");
    assert_eq!(six.status, BookingStatus::Active);
    let five = f
        .sched
        .confirm(f.owner.id, &five.code)
        .await
        .expect("confirm");
    assert_eq!(five.status, BookingStatus::Active);
}

/// A pending booking takes its booker's anti-scalping place; once it expired, the same booker
/// can book again (the engine gives the expired booking's place back when it is in the way).
pub async fn expired_pending_booking_frees_its_anti_scalping_place<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = approved(&f, 5, 30, AntiScalping::Standard).await;
    let first = f
        .guest(&app.code, at(7, 9), 1, "ada@example.com")
        .await
        .expect("book");
    assert_err!(
        f.guest(&app.code, at(7, 10), 1, "ada+again@example.com")
            .await,
        Error::Duplicate(Duplicate::BookingEmail)
    );
    f.clock.set(first.confirm_by.expect("pending"));
    let again = f
        .guest(&app.code, at(7, 10), 1, "ada@example.com")
        .await
        .expect("the expired booking no longer counts");
    assert_eq!(again.status, BookingStatus::Pending);
    let stored = f
        .sched
        .store()
        .booking_by_code(&first.code)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(stored.status, BookingStatus::Expired);
    assert_err!(
        f.guest(&app.code, at(7, 11), 1, "ada@example.com").await,
        Error::Duplicate(Duplicate::BookingEmail)
    );
    f.assert_counters_equal_facts(&app).await;
    // A sweep gives back what expired and reports it; a second finds nothing.
    let other = f
        .guest(&app.code, at(8, 9), 2, "bob@example.com")
        .await
        .expect("book");
    f.clock.set(other.confirm_by.expect("pending"));
    assert_eq!(f.sched.reclaim_expired(&app.code).await.expect("sweep"), 3);
    assert_eq!(f.sched.reclaim_expired(&app.code).await.expect("sweep"), 0);
    f.assert_counters_equal_facts(&app).await;
    // Approval and a shared resource do not combine.
    let schedule = super::fixture_schedule()
        .confirm_within_minutes(Some(30))
        .build()
        .expect("a valid schedule");
    let refused = f
        .sched
        .create_appointment(
            f.owner.id,
            crate::NewAppointment {
                title: "Chair".into(),
                description: String::new(),
                kind: AppointmentKind::Single,
                capacity: None,
                anti_scalping: AntiScalping::None,
                schedule,
                resource: Some(crate::ResourceName::parse("Chair 1").expect("a name")),
            },
        )
        .await;
    assert_err!(refused, Error::InvalidInput { .. });
    assert_err!(
        f.sched
            .update_appointment(
                f.owner.id,
                &app.code,
                AppointmentChanges {
                    resource: Some(Some(crate::ResourceName::parse("Chair 1").expect("a name"))),
                    ..AppointmentChanges::default()
                },
            )
            .await,
        Error::InvalidInput { .. }
    );
    assert_err!(
        f.sched
            .update_appointment(
                f.owner.id,
                &app.code,
                AppointmentChanges {
                    confirm_within_minutes: Some(Some(crate::MAX_CONFIRM_MINUTES + 1)),
                    ..AppointmentChanges::default()
                },
            )
            .await,
        Error::InvalidInput { .. }
    );
}

/// Confirm, decline and cancel of the same pending booking race: decline wins alone or not at
/// all, a confirmation and a decline never both succeed, and the booking ends in the state the
/// winners say, its seats counted once.
pub async fn race_confirm_decline_and_cancel<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = approved(&f, 64, 60, AntiScalping::None).await;
    for round in 0..24u32 {
        let b = f
            .guest(&app.code, at(7, 9), 1, &format!("r{round}@example.com"))
            .await
            .expect("book");
        let barrier = Arc::new(tokio::sync::Barrier::new(3));
        let spawn = |what: u8| {
            let sched = f.sched.clone();
            let code = b.code.clone();
            let owner = f.owner.id;
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                match what {
                    0 => sched.confirm(owner, &code).await,
                    1 => sched.decline(owner, &code).await,
                    _ => sched.cancel(&code).await,
                }
            })
        };
        let (confirm, decline, cancel) = (spawn(0), spawn(1), spawn(2));
        let confirm = confirm.await.expect("task");
        let decline = decline.await.expect("task");
        let cancel = cancel.await.expect("task");
        for r in [&confirm, &decline, &cancel] {
            match r {
                Ok(_) | Err(Error::InvalidTransition { .. }) => {}
                Err(e) => panic!("round {round}: {e:?}"),
            }
        }
        assert!(
            !(confirm.is_ok() && decline.is_ok()),
            "round {round}: confirmed and declined"
        );
        assert!(
            !(decline.is_ok() && cancel.is_ok()),
            "round {round}: declined and cancelled"
        );
        let fin = f.sched.booking(&b.code).await.expect("read").status;
        let expected = if decline.is_ok() {
            BookingStatus::Declined
        } else if cancel.is_ok() {
            BookingStatus::Cancelled
        } else {
            BookingStatus::Active
        };
        assert_eq!(
            fin, expected,
            "round {round}: {confirm:?} {decline:?} {cancel:?}"
        );
        assert!(
            cancel.is_ok() || decline.is_ok() || confirm.is_ok(),
            "round {round}: somebody wins"
        );
    }
    f.assert_counters_equal_facts(&app).await;
}

/// The slot is full of pending bookings that expired unconfirmed; 40 guests race for its 10
/// seats while the owner, too late, tries to confirm the expired ones: exactly 10 guests book,
/// no expired booking is confirmed, and every expired one ends stored as expired.
pub async fn race_bookings_for_the_seats_of_expired_pending_ones<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = approved(&f, 10, 20, AntiScalping::None).await;
    let start = at(7, 9);
    let mut old = Vec::new();
    for i in 0..10 {
        old.push(
            f.guest(&app.code, start, 1, &format!("old{i}@example.com"))
                .await
                .expect("book"),
        );
    }
    let deadline: DateTime<Utc> = old[0].confirm_by.expect("pending");
    f.clock.set(deadline);
    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let mut guests = Vec::new();
    for i in 0..40 {
        let sched = f.sched.clone();
        let barrier = barrier.clone();
        let code = app.code.clone();
        guests.push(tokio::spawn(async move {
            barrier.wait().await;
            sched
                .book(guest_booking(
                    &code,
                    start,
                    1,
                    &format!("new{i}@example.com"),
                ))
                .await
        }));
    }
    let mut confirms = Vec::new();
    for b in &old {
        let sched = f.sched.clone();
        let barrier = barrier.clone();
        let (owner, code) = (f.owner.id, b.code.clone());
        confirms.push(tokio::spawn(async move {
            barrier.wait().await;
            sched.confirm(owner, &code).await
        }));
    }
    let mut booked = 0;
    for g in futures::future::join_all(guests).await {
        match g.expect("task") {
            Ok(b) => {
                assert_eq!(b.status, BookingStatus::Pending);
                booked += 1;
            }
            Err(Error::SlotFull { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    for c in futures::future::join_all(confirms).await {
        assert_err!(
            c.expect("task"),
            Error::InvalidTransition {
                from: BookingStatus::Expired,
                ..
            }
        );
    }
    assert_eq!(booked, 10, "the 10 expired seats are sold once");
    for b in &old {
        let stored = f
            .sched
            .store()
            .booking_by_code(&b.code)
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(stored.status, BookingStatus::Expired);
    }
    assert_err!(
        f.sched
            .confirm(f.owner.id, &crate::BookingCode::generate())
            .await,
        Error::NotFound(Entity::Booking)
    );
    f.assert_counters_equal_facts(&app).await;
}
