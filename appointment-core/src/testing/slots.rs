//! Slots: listing and pagination, one local day, notice and horizon, full slots hidden,
//! and the window in the appointment's time zone across a DST change.

use super::{Fixture, at, date, time};
use crate::{AntiScalping, AppointmentKind, Error, Page, Schedule, SlotQuery, Store, TimeZoneName};

/// Slots are listed in order, paginated, with capacity and seats left.
pub async fn slots_are_listed_and_paginated<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(4), AntiScalping::None)
        .await;
    // 3 days × 3 slots.
    let p1 = f
        .sched
        .available_slots(
            &app.code,
            SlotQuery {
                day: None,
                page: Page::new(1, 4).expect("page"),
            },
        )
        .await
        .expect("slots");
    assert_eq!((p1.total, p1.total_pages, p1.items.len()), (9, 3, 4));
    assert_eq!(p1.items[0].slot.start, at(7, 9));
    assert_eq!(p1.items[0].slot.end, at(7, 10));
    assert_eq!(p1.items[3].slot.start, at(8, 9));
    assert_eq!((p1.items[0].capacity, p1.items[0].seats_left), (4, 4));
    let p3 = f
        .sched
        .available_slots(
            &app.code,
            SlotQuery {
                day: None,
                page: Page::new(3, 4).expect("page"),
            },
        )
        .await
        .expect("slots");
    assert_eq!(p3.items.len(), 1);
    assert_eq!(p3.items[0].slot.start, at(9, 11));
    let p9 = f
        .sched
        .available_slots(
            &app.code,
            SlotQuery {
                day: None,
                page: Page::new(9, 4).expect("page"),
            },
        )
        .await
        .expect("slots");
    assert!(p9.items.is_empty());
    let mut paged = p1.items.clone();
    for page in 2..=3 {
        let q = SlotQuery {
            day: None,
            page: Page::new(page, 4).expect("page"),
        };
        paged.extend(
            f.sched
                .available_slots(&app.code, q)
                .await
                .expect("slots")
                .items,
        );
    }
    let all = f
        .sched
        .all_available_slots(&app.code, None)
        .await
        .expect("all slots");
    assert_eq!(all, paged, "the pages together are all the slots");
    f.guest(&app.code, at(7, 9), 3, "a@example.com")
        .await
        .expect("book");
    let p1 = f
        .sched
        .available_slots(&app.code, SlotQuery::default())
        .await
        .expect("slots");
    assert_eq!((p1.items[0].seats_taken, p1.items[0].seats_left), (3, 1));
}

/// Slots of one local day.
pub async fn slots_by_local_day<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Single, None, AntiScalping::None)
        .await;
    let day = f
        .sched
        .available_slots(
            &app.code,
            SlotQuery {
                day: Some(date(2030, 1, 8)),
                page: Page::default(),
            },
        )
        .await
        .expect("slots");
    let starts: Vec<_> = day.items.iter().map(|s| s.slot.start).collect();
    assert_eq!(starts, vec![at(8, 9), at(8, 10), at(8, 11)]);
    assert!(day.items.iter().all(|s| s.local_date == date(2030, 1, 8)));
    let none = f
        .sched
        .available_slots(
            &app.code,
            SlotQuery {
                day: Some(date(2030, 2, 1)),
                page: Page::default(),
            },
        )
        .await
        .expect("slots");
    assert_eq!(none.total, 0);
}

/// Only slots in the future, after the minimum notice and within the horizon are offered or
/// bookable.
pub async fn slots_respect_notice_horizon_and_past<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let schedule = Schedule::builder(
        date(2030, 1, 7),
        date(2030, 1, 12),
        time(9, 0),
        time(12, 0),
        60,
    )
    .min_notice_minutes(120)
    .horizon_days(Some(3))
    .build()
    .expect("schedule");
    let app = f
        .appointment_with(AppointmentKind::Single, None, AntiScalping::None, schedule)
        .await;
    // Now: 2030-01-07 08:00. Notice 2 h → from 10:00; horizon 3 days → before 01-10 08:00.
    f.clock.set(at(7, 8));
    let slots = f
        .sched
        .available_slots(&app.code, SlotQuery::default())
        .await
        .expect("slots");
    let starts: Vec<_> = slots.items.iter().map(|s| s.slot.start).collect();
    assert_eq!(starts.first(), Some(&at(7, 10)));
    assert_eq!(starts.last(), Some(&at(9, 11)));
    assert_eq!(slots.total, 2 + 3 + 3);
    assert_err!(
        f.guest(&app.code, at(7, 9), 1, "a@example.com").await,
        Error::InvalidInput {
            field: "start_time",
            ..
        }
    );
    assert_err!(
        f.guest(&app.code, at(10, 9), 1, "a@example.com").await,
        Error::InvalidInput {
            field: "start_time",
            ..
        }
    );
    f.clock.set(at(8, 0));
    f.guest(&app.code, at(10, 9), 1, "a@example.com")
        .await
        .expect("inside the horizon now");
    // Past slots are gone.
    f.clock.set(at(12, 13));
    let slots = f
        .sched
        .available_slots(&app.code, SlotQuery::default())
        .await
        .expect("slots");
    assert_eq!(slots.total, 0);
}

/// A full slot is not listed.
pub async fn full_slots_are_hidden<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(2), AntiScalping::None)
        .await;
    f.guest(&app.code, at(7, 9), 2, "a@example.com")
        .await
        .expect("book");
    let slots = f
        .sched
        .available_slots(&app.code, SlotQuery::default())
        .await
        .expect("slots");
    assert_eq!(slots.total, 8);
    assert!(slots.items.iter().all(|s| s.slot.start != at(7, 9)));
    let seats = f
        .sched
        .slot_seats(&app.code, at(7, 9))
        .await
        .expect("seats");
    assert_eq!((seats.seats_taken, seats.seats_left), (2, 0));
}

/// Every page size, with full slots at the start, in the middle and at the end of the schedule:
/// the pages together are exactly the walk's slots, and the total counts the same slots.
pub async fn pages_skip_full_slots_exactly<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Single, None, AntiScalping::None)
        .await;
    // 9 slots: 7th, 8th and 9th of January at 09:00, 10:00 and 11:00.
    for (i, start) in [at(7, 9), at(7, 10), at(8, 11), at(9, 9), at(9, 11)]
        .into_iter()
        .enumerate()
    {
        f.guest(&app.code, start, 1, &format!("g{i}@example.com"))
            .await
            .expect("book");
    }
    let walk = f
        .sched
        .all_available_slots(&app.code, None)
        .await
        .expect("all slots");
    let starts: Vec<_> = walk.iter().map(|s| s.slot.start).collect();
    assert_eq!(starts, [at(7, 11), at(8, 9), at(8, 10), at(9, 10)]);
    for per_page in 1..=5 {
        let mut paged = Vec::new();
        for page in 1..=5 {
            let got = f
                .sched
                .available_slots(
                    &app.code,
                    SlotQuery {
                        day: None,
                        page: Page::new(page, per_page).expect("page"),
                    },
                )
                .await
                .expect("slots");
            assert_eq!(got.total, 4, "per page {per_page}");
            paged.extend(got.items);
        }
        assert_eq!(paged, walk, "per page {per_page}");
    }
}

/// The window is wall-clock time in the appointment's zone, across a DST change.
pub async fn slots_follow_the_time_zone<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    // Berlin switches to summer time on 2030-03-31.
    let schedule = Schedule::builder(
        date(2030, 3, 30),
        date(2030, 3, 31),
        time(9, 0),
        time(10, 0),
        60,
    )
    .time_zone(TimeZoneName::parse("Europe/Berlin").expect("zone"))
    .build()
    .expect("schedule");
    let app = f
        .appointment_with(AppointmentKind::Single, None, AntiScalping::None, schedule)
        .await;
    let loaded = f.sched.appointment(&app.code).await.expect("get");
    assert_eq!(loaded.schedule.time_zone().name(), "Europe/Berlin");
    let slots = f
        .sched
        .available_slots(&app.code, SlotQuery::default())
        .await
        .expect("slots");
    let starts: Vec<_> = slots
        .items
        .iter()
        .map(|s| s.slot.start.to_rfc3339())
        .collect();
    assert_eq!(
        starts,
        ["2030-03-30T08:00:00+00:00", "2030-03-31T07:00:00+00:00"]
    );
    let b = f
        .guest(&app.code, slots.items[1].slot.start, 1, "a@example.com")
        .await
        .expect("book");
    assert_eq!(b.slot_end.to_rfc3339(), "2030-03-31T08:00:00+00:00");
}
