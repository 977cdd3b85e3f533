//! The read cache: a scheduler sees its own writes at once, other writers' after the time to
//! live, and listings racing bookings leave no stale page behind.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::{Fixture, at, guest_booking};
use crate::{AntiScalping, AppCode, AppointmentKind, Error, Reschedule, Scheduler, Store};

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
