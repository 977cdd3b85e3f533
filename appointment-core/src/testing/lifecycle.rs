//! A booking's life after it is made: cancel, reject (owner only) and reschedule, each freeing
//! or moving its seats exactly once.

use super::{Fixture, assert_counters_equal_facts, at};
use crate::{
    AntiScalping, AppointmentKind, AttendeeCount, BookingCode, BookingStatus, Entity, Error,
    Reschedule, Store,
};

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
