//! Capacity per kind: single takes one attendee, group shares seats across bookings, party has
//! one capacity for the whole event.

use super::{Fixture, assert_counters_equal_facts, at};
use crate::{AntiScalping, AppointmentKind, Error, SlotQuery, Store};

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
