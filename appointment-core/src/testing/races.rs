//! Concurrency: real tasks race for seats (single, group, party), one email races under
//! standard anti-scalping, and reschedules and cancellations race new bookings; each ends with
//! exact outcomes and counters equal to the active bookings.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Fixture, at, guest_booking};
use crate::{
    AntiScalping, AppointmentKind, AttendeeCount, Booking, Duplicate, Error, NewBooking,
    Reschedule, Store,
};

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
                Ok(()) | Err(Error::SlotFull { .. }) | Err(Error::InvalidTransition { .. }) => {}
                Err(e) => panic!("seed {seed}: unexpected error {e:?}"),
            }
        }));
    }
    for h in futures::future::join_all(handles).await {
        h.expect("task");
    }
    f.assert_counters_equal_facts(&app).await;
}
