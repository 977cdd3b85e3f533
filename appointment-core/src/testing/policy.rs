//! The cancellation policy and the marks after the fact: guests cancel and reschedule only
//! before the appointment's cut-off (and never once the slot started), the owner is not bound by
//! the cut-off, and the owner marks started bookings completed or no-show. Every deadline is
//! exact on the engine's clock, and every end is decided on the slot the booking is on when the
//! store writes it.

use std::sync::Arc;

use chrono::TimeDelta;

use super::{Fixture, at, date};
use crate::{
    AntiScalping, AppointmentChanges, AppointmentKind, BookingStatus, Error, Reschedule, Store,
};

/// A move to the slot at `start`, keeping the seats.
fn to(start: chrono::DateTime<chrono::Utc>) -> Reschedule {
    Reschedule {
        slot_start: start,
        attendee_count: None,
    }
}

/// A group appointment of `seats` seats on 2030-01-07 to 2030-01-09, 09:00-12:00 UTC, hourly
/// slots, with a cancellation cut-off of `cutoff` minutes.
async fn with_cutoff<S: Store>(f: &Fixture<S>, seats: u32, cutoff: u32) -> crate::Appointment {
    let schedule = super::fixture_schedule()
        .cancel_cutoff_minutes(cutoff)
        .build()
        .expect("a valid schedule");
    f.appointment_with(
        AppointmentKind::Group,
        Some(seats),
        AntiScalping::Standard,
        schedule,
    )
    .await
}

/// Guests may cancel and reschedule until exactly the cut-off before the slot; from that instant
/// on they get `TooLate` naming the deadline and nothing changes, while the owner still can.
pub async fn guest_changes_stop_at_the_cutoff<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let day = TimeDelta::days(1);
    let app = with_cutoff(&f, 2, 24 * 60).await;
    assert_eq!(app.schedule.cancel_cutoff_minutes(), 24 * 60);
    let stored = f.sched.appointment(&app.code).await.expect("read back");
    assert_eq!(stored.schedule.cancel_cutoff_minutes(), 24 * 60);
    let b = f
        .guest(&app.code, at(8, 9), 1, "a@example.com")
        .await
        .expect("book");
    // One second before the deadline (2030-01-07 09:00) the guest moves the booking an hour on,
    // which moves the deadline with it.
    f.clock.set(at(7, 9) - TimeDelta::seconds(1));
    let moved = f
        .sched
        .reschedule(&b.code, to(at(8, 10)))
        .await
        .expect("before the cut-off");
    assert_eq!(moved.slot_start, at(8, 10));
    // At the deadline of the new slot exactly, neither works.
    f.clock.set(at(8, 10) - day);
    match f.sched.cancel(&b.code).await {
        Err(Error::TooLate { action, deadline }) => {
            assert_eq!(action, "cancel");
            assert_eq!(deadline, at(7, 10));
        }
        other => panic!("expected TooLate, got {other:?}"),
    }
    assert_err!(
        f.sched.reschedule(&b.code, to(at(9, 9))).await,
        Error::TooLate {
            action: "reschedule",
            ..
        }
    );
    let kept = f.sched.booking(&b.code).await.expect("get");
    assert_eq!(
        (kept.status, kept.slot_start),
        (BookingStatus::Active, at(8, 10))
    );
    f.assert_counters_equal_facts(&app).await;
    // Someone else's token does not make a guest an owner.
    let stranger = f.user("Stranger", "stranger@example.com").await;
    assert_err!(
        f.sched.owner_cancel(stranger.id, &b.code).await,
        Error::Forbidden(_)
    );
    assert_err!(
        f.sched
            .owner_reschedule(stranger.id, &b.code, to(at(9, 9)))
            .await,
        Error::Forbidden(_)
    );
    // The owner is not bound by the cut-off, only by the start.
    let by_owner = f
        .sched
        .owner_reschedule(f.owner.id, &b.code, to(at(9, 11)))
        .await
        .expect("the owner moves it");
    assert_eq!(by_owner.slot_start, at(9, 11));
    let cancelled = f
        .sched
        .owner_cancel(f.owner.id, &b.code)
        .await
        .expect("the owner cancels");
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    assert_eq!(cancelled.updated_at, at(7, 10));
    f.assert_counters_equal_facts(&app).await;

    // A shorter cut-off applies to the bookings already made.
    let c = f
        .guest(&app.code, at(9, 9), 1, "c@example.com")
        .await
        .expect("book");
    f.clock.set(at(8, 10));
    assert_err!(f.sched.cancel(&c.code).await, Error::TooLate { .. });
    f.sched
        .update_appointment(
            f.owner.id,
            &app.code,
            AppointmentChanges {
                cancel_cutoff_minutes: Some(60),
                ..AppointmentChanges::default()
            },
        )
        .await
        .expect("edit the policy");
    f.sched
        .cancel(&c.code)
        .await
        .expect("within the new policy");
    f.assert_counters_equal_facts(&app).await;
}

/// Without a cut-off a guest may cancel until the slot starts, and not from its first instant;
/// nobody moves a booking whose slot has started.
pub async fn nobody_moves_a_started_booking<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = with_cutoff(&f, 2, 0).await;
    let a = f
        .guest(&app.code, at(7, 9), 1, "a@example.com")
        .await
        .expect("book");
    let b = f
        .guest(&app.code, at(7, 10), 1, "b@example.com")
        .await
        .expect("book");
    f.clock.set(at(7, 9) - TimeDelta::seconds(1));
    f.sched.cancel(&a.code).await.expect("one second before");
    f.clock.set(at(7, 10));
    match f.sched.cancel(&b.code).await {
        Err(Error::TooLate { deadline, .. }) => assert_eq!(deadline, at(7, 10)),
        other => panic!("expected TooLate, got {other:?}"),
    }
    assert_err!(
        f.sched.reschedule(&b.code, to(at(8, 9))).await,
        Error::TooLate { .. }
    );
    assert_err!(
        f.sched
            .owner_reschedule(f.owner.id, &b.code, to(at(8, 9)))
            .await,
        Error::TooLate { .. }
    );
    let kept = f.sched.booking(&b.code).await.expect("get");
    assert_eq!(
        (kept.status, kept.slot_start),
        (BookingStatus::Active, at(7, 10))
    );
    // The owner may still call it off.
    f.sched
        .owner_cancel(f.owner.id, &b.code)
        .await
        .expect("the owner cancels a started booking");
    f.assert_counters_equal_facts(&app).await;
}

/// The owner marks a booking completed or no-show from its slot's start on, never before and
/// never twice; the marks free the seats and the anti-scalping claim, and analytics count them.
pub async fn owner_marks_completed_and_no_show_after_the_start<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = with_cutoff(&f, 3, 0).await;
    let a = f
        .guest(&app.code, at(7, 9), 2, "a@example.com")
        .await
        .expect("book");
    let b = f
        .guest(&app.code, at(7, 10), 1, "b@example.com")
        .await
        .expect("book");
    f.clock.set(at(7, 9) - TimeDelta::seconds(1));
    match f.sched.complete(f.owner.id, &a.code).await {
        Err(Error::TooEarly { action, from }) => {
            assert_eq!(action, "complete");
            assert_eq!(from, at(7, 9));
        }
        other => panic!("expected TooEarly, got {other:?}"),
    }
    let stranger = f.user("Stranger", "stranger@example.com").await;
    f.clock.set(at(7, 9));
    assert_err!(
        f.sched.complete(stranger.id, &a.code).await,
        Error::Forbidden(_)
    );
    assert_err!(
        f.sched.mark_no_show(stranger.id, &a.code).await,
        Error::Forbidden(_)
    );
    let done = f
        .sched
        .complete(f.owner.id, &a.code)
        .await
        .expect("complete at the start");
    assert_eq!(done.status, BookingStatus::Completed);
    assert_eq!(done.updated_at, at(7, 9));
    assert_err!(
        f.sched.mark_no_show(f.owner.id, &b.code).await,
        Error::TooEarly {
            action: "mark no-show",
            ..
        }
    );
    f.clock.set(at(7, 11));
    let missed = f
        .sched
        .mark_no_show(f.owner.id, &b.code)
        .await
        .expect("no-show");
    assert_eq!(missed.status, BookingStatus::NoShow);
    // Final: no second mark, no cancel, no reject.
    assert_err!(
        f.sched.mark_no_show(f.owner.id, &a.code).await,
        Error::InvalidTransition {
            from: BookingStatus::Completed,
            ..
        }
    );
    assert_err!(
        f.sched.complete(f.owner.id, &b.code).await,
        Error::InvalidTransition {
            from: BookingStatus::NoShow,
            ..
        }
    );
    assert_err!(
        f.sched.reject(f.owner.id, &a.code).await,
        Error::InvalidTransition { .. }
    );
    assert_eq!(
        f.sched.booking(&a.code).await.expect("get").status,
        BookingStatus::Completed
    );
    f.assert_counters_equal_facts(&app).await;
    // Under standard anti-scalping the guest may book again once their booking is marked.
    f.guest(&app.code, at(8, 9), 1, "a@example.com")
        .await
        .expect("a marked booking no longer claims the email");
    let stats = f
        .sched
        .analytics(f.owner.id, date(2030, 1, 7), date(2030, 1, 9))
        .await
        .expect("analytics");
    assert_eq!(
        (
            stats.bookings.active,
            stats.bookings.completed,
            stats.bookings.no_show
        ),
        (1, 1, 1)
    );
    assert_eq!(stats.bookings.seats_booked, 2 + 1 + 1);
    assert_eq!(stats.total_bookings(), 3);
    assert_eq!(stats.no_show_rate(), Some(0.5));
}

/// A guest's cancel races the owner's move of the same booking into its cut-off, 64 times:
/// never do both succeed. Either the cancel came first (the move then finds it cancelled) or
/// the move did (the cancel is then decided again on the new slot, and is too late).
pub async fn race_cancel_and_move_into_the_cutoff<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = with_cutoff(&f, 64, 24 * 60).await;
    let mut bookings = Vec::new();
    for i in 0..64 {
        let b = f
            .guest(&app.code, at(9, 9), 1, &format!("r{i}@example.com"))
            .await
            .expect("book");
        bookings.push(b);
    }
    // 2030-01-07 08:30: 2030-01-09 09:00 is outside the cut-off, 2030-01-07 11:00 inside it.
    f.clock.set(at(7, 8) + TimeDelta::minutes(30));
    let barrier = Arc::new(tokio::sync::Barrier::new(2 * bookings.len()));
    let mut handles = Vec::new();
    for b in &bookings {
        let (sched, gate, code) = (f.sched.clone(), barrier.clone(), b.code.clone());
        handles.push(tokio::spawn(async move {
            gate.wait().await;
            (true, sched.cancel(&code).await)
        }));
        let (sched, gate, code, owner) =
            (f.sched.clone(), barrier.clone(), b.code.clone(), f.owner.id);
        handles.push(tokio::spawn(async move {
            gate.wait().await;
            (
                false,
                sched.owner_reschedule(owner, &code, to(at(7, 11))).await,
            )
        }));
    }
    let results: Vec<_> = futures::future::join_all(handles)
        .await
        .into_iter()
        .map(|h| h.expect("task"))
        .collect();
    let (mut cancelled, mut moved) = (0, 0);
    for pair in results.chunks(2) {
        let (cancel, moving) = (&pair[0].1, &pair[1].1);
        match (cancel, moving) {
            (Ok(c), Err(Error::InvalidTransition { .. })) => {
                assert_eq!(c.status, BookingStatus::Cancelled);
                cancelled += 1;
            }
            (Err(Error::TooLate { deadline, .. }), Ok(m)) => {
                assert_eq!(m.slot_start, at(7, 11));
                assert_eq!(*deadline, at(6, 11));
                moved += 1;
            }
            other => panic!("a cancel and a move of one booking both decided: {other:?}"),
        }
    }
    assert_eq!(cancelled + moved, 64);
    for b in &bookings {
        let now = f.sched.booking(&b.code).await.expect("get");
        assert!(
            (now.status == BookingStatus::Cancelled && now.slot_start == at(9, 9))
                || (now.status == BookingStatus::Active && now.slot_start == at(7, 11)),
            "{now:?}"
        );
    }
    f.assert_counters_equal_facts(&app).await;
}

/// A guest's reschedule races the owner's move of the same booking into its cut-off, 64 times.
/// The guest's move is decided on the slot the booking is on when the store writes it: either it
/// came first (and the owner's move then applies to the moved booking), or the owner's did and
/// the guest's is decided again on the new slot, too late. A guest never moves a booking out of
/// a slot whose cut-off has passed.
pub async fn race_guest_and_owner_moves_across_the_cutoff<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = with_cutoff(&f, 128, 24 * 60).await;
    let mut bookings = Vec::new();
    for i in 0..64 {
        let b = f
            .guest(&app.code, at(9, 9), 1, &format!("r{i}@example.com"))
            .await
            .expect("book");
        bookings.push(b);
    }
    // 2030-01-07 08:30: 2030-01-09 is outside the cut-off, 2030-01-07 11:00 inside it.
    f.clock.set(at(7, 8) + TimeDelta::minutes(30));
    let barrier = Arc::new(tokio::sync::Barrier::new(2 * bookings.len()));
    let mut handles = Vec::new();
    for b in &bookings {
        let (sched, gate, code) = (f.sched.clone(), barrier.clone(), b.code.clone());
        handles.push(tokio::spawn(async move {
            gate.wait().await;
            sched.reschedule(&code, to(at(9, 11))).await
        }));
        let (sched, gate, code, owner) =
            (f.sched.clone(), barrier.clone(), b.code.clone(), f.owner.id);
        handles.push(tokio::spawn(async move {
            gate.wait().await;
            sched.owner_reschedule(owner, &code, to(at(7, 11))).await
        }));
    }
    let results: Vec<_> = futures::future::join_all(handles)
        .await
        .into_iter()
        .map(|h| h.expect("task"))
        .collect();
    let (mut guest_first, mut owner_first) = (0, 0);
    for (pair, b) in results.chunks(2).zip(&bookings) {
        let owner = pair[1]
            .as_ref()
            .expect("the owner may always move it before the start");
        assert_eq!(owner.slot_start, at(7, 11));
        match &pair[0] {
            Ok(g) => {
                assert_eq!(g.slot_start, at(9, 11));
                guest_first += 1;
            }
            Err(Error::TooLate { deadline, .. }) => {
                assert_eq!(*deadline, at(6, 11));
                owner_first += 1;
            }
            other => panic!("unexpected guest outcome {other:?}"),
        }
        let now = f.sched.booking(&b.code).await.expect("get");
        assert_eq!(
            now.slot_start,
            at(7, 11),
            "the owner's move is never undone by a guest's move decided on the old slot"
        );
    }
    assert_eq!(guest_first + owner_first, 64);
    f.assert_counters_equal_facts(&app).await;
}
