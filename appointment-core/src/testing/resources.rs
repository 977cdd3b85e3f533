//! Shared resources: appointments of one owner that name the same resource (a chair, a room, a
//! person) never have overlapping active bookings, buffers included; listings hide what the
//! resource cannot take; and concurrent bookings of overlapping slots on two appointments of one
//! resource never both succeed.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::{Fixture, at, date, guest_booking, time};
use crate::{
    AntiScalping, AppCode, Appointment, AppointmentChanges, AppointmentKind, Error, NewAppointment,
    Page, Reschedule, ResourceName, Schedule, SlotQuery, Store, UserId,
};

/// An appointment of `owner` on 2030-01-07 to 09, 09:00-12:00 UTC, with `slot` minute slots,
/// `buffer` minutes after each, on `resource`.
async fn on_resource<S: Store>(
    f: &Fixture<S>,
    owner: UserId,
    resource: Option<&str>,
    slot: u32,
    buffer: u32,
    kind: AppointmentKind,
    capacity: Option<u32>,
) -> Appointment {
    let schedule = Schedule::builder(
        date(2030, 1, 7),
        date(2030, 1, 9),
        time(9, 0),
        time(12, 0),
        slot,
    )
    .buffer_minutes(buffer)
    .build()
    .expect("a valid schedule");
    f.sched
        .create_appointment(
            owner,
            NewAppointment {
                title: "Shared".into(),
                description: String::new(),
                kind,
                capacity,
                anti_scalping: AntiScalping::None,
                schedule,
                resource: resource.map(|r| ResourceName::parse(r).expect("a valid resource")),
            },
        )
        .await
        .expect("create an appointment")
}

/// The free slot starts of 2030-01-07 as "HH:MM", and the listing's total for that day.
async fn free_on_the_7th<S: Store>(f: &Fixture<S>, code: &AppCode) -> (Vec<String>, u64) {
    let day: NaiveDate = date(2030, 1, 7);
    let page = f
        .sched
        .available_slots(
            code,
            SlotQuery {
                day: Some(day),
                page: Page::new(1, 100).expect("a page"),
            },
        )
        .await
        .expect("list slots");
    let times = page
        .items
        .iter()
        .map(|s| s.slot.start.format("%H:%M").to_string())
        .collect();
    (times, page.total)
}

fn hm(t: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    t + TimeDelta::minutes(minutes)
}

/// A booking on one appointment of a resource takes the overlapping slots of the owner's other
/// appointments on it (listings and bookings agree), only those, and gives them back when it
/// ends or moves; names compare without case; other owners' resources of the same name and
/// appointments without a resource are not affected; the resource is stored and can be changed.
pub async fn resource_blocks_overlapping_slots<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let owner = f.owner.id;
    let hour = on_resource(
        &f,
        owner,
        Some("Chair 1"),
        60,
        0,
        AppointmentKind::Single,
        None,
    )
    .await;
    let half = on_resource(
        &f,
        owner,
        Some("chair 1"),
        30,
        0,
        AppointmentKind::Single,
        None,
    )
    .await;
    let free = on_resource(&f, owner, None, 30, 0, AppointmentKind::Single, None).await;
    let other = f.user("Other", "other-owner@example.com").await;
    let theirs = on_resource(
        &f,
        other.id,
        Some("Chair 1"),
        30,
        0,
        AppointmentKind::Single,
        None,
    )
    .await;
    assert_eq!(
        f.sched
            .appointment(&half.code)
            .await
            .expect("read")
            .resource,
        Some(ResourceName::parse("chair 1").expect("name")),
        "the resource is stored"
    );

    let ten = at(7, 10);
    let haircut = f
        .guest(&hour.code, ten, 1, "a@example.com")
        .await
        .expect("book");
    let (times, total) = free_on_the_7th(&f, &half.code).await;
    assert_eq!(times, ["09:00", "09:30", "11:00", "11:30"]);
    assert_eq!(total, 4, "the total counts only what can be booked");
    for start in [ten, hm(ten, 30)] {
        assert_err!(
            f.guest(&half.code, start, 1, "b@example.com").await,
            Error::SlotFull { available: 0, .. }
        );
    }
    // Not affected: another owner's "Chair 1", and an appointment without a resource.
    f.guest(&theirs.code, ten, 1, "c@example.com")
        .await
        .expect("another owner's chair is another chair");
    f.guest(&free.code, ten, 1, "d@example.com")
        .await
        .expect("no resource, no clash");

    // Back to back is not a clash.
    let eleven = f
        .guest(&half.code, at(7, 11), 1, "e@example.com")
        .await
        .expect("book right after");
    let (times, _) = free_on_the_7th(&f, &hour.code).await;
    assert_eq!(times, ["09:00"], "10:00 is booked, 11:00 is the other's");

    // A move into the resource's busy time is refused and changes nothing.
    assert_err!(
        f.sched
            .reschedule(
                &eleven.code,
                Reschedule {
                    slot_start: hm(ten, 30),
                    attendee_count: None,
                },
            )
            .await,
        Error::SlotFull { .. }
    );
    let kept = f.sched.booking(&eleven.code).await.expect("read");
    assert_eq!(kept.slot_start, at(7, 11));

    // Cancelling gives the time back.
    f.sched.cancel(&haircut.code).await.expect("cancel");
    let (times, total) = free_on_the_7th(&f, &half.code).await;
    assert_eq!(times, ["09:00", "09:30", "10:00", "10:30", "11:30"]);
    assert_eq!(total, 5);
    let moved = f
        .sched
        .reschedule(
            &eleven.code,
            Reschedule {
                slot_start: hm(ten, 30),
                attendee_count: None,
            },
        )
        .await
        .expect("the time is free again");
    assert_eq!(moved.slot_start, hm(ten, 30));
    let (times, _) = free_on_the_7th(&f, &hour.code).await;
    assert_eq!(
        times,
        ["09:00", "11:00"],
        "the move took 10:00 and freed 11:00"
    );

    // Dropping the resource from an appointment frees its slots from the others' bookings.
    let edit = f
        .sched
        .update_appointment(
            owner,
            &hour.code,
            AppointmentChanges {
                resource: Some(None),
                ..AppointmentChanges::default()
            },
        )
        .await
        .expect("edit");
    assert_eq!(edit.appointment.resource, None);
    assert_eq!(
        f.sched
            .appointment(&hour.code)
            .await
            .expect("read")
            .resource,
        None
    );
    let (times, _) = free_on_the_7th(&f, &hour.code).await;
    assert_eq!(times, ["09:00", "10:00", "11:00"]);
    f.guest(&hour.code, ten, 1, "f@example.com")
        .await
        .expect("no longer on the chair");
}

/// The buffer after a booking keeps the resource busy: a 60-minute appointment with a 30-minute
/// buffer booked at 09:00 holds the resource until 10:30; a group appointment of the resource
/// shares it between its own bookings of one slot.
pub async fn resource_buffers_and_groups<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let owner = f.owner.id;
    let long = on_resource(
        &f,
        owner,
        Some("Room"),
        60,
        30,
        AppointmentKind::Group,
        Some(3),
    )
    .await;
    let short = on_resource(
        &f,
        owner,
        Some("Room"),
        30,
        0,
        AppointmentKind::Single,
        None,
    )
    .await;
    f.guest(&long.code, at(7, 9), 2, "g1@example.com")
        .await
        .expect("book");
    f.guest(&long.code, at(7, 9), 1, "g2@example.com")
        .await
        .expect("the same appointment's slot shares the room");
    let (times, _) = free_on_the_7th(&f, &short.code).await;
    assert_eq!(times, ["10:30", "11:00", "11:30"]);
    assert_err!(
        f.guest(&short.code, at(7, 10), 1, "s@example.com").await,
        Error::SlotFull { .. }
    );
    f.guest(&short.code, hm(at(7, 10), 30), 1, "s@example.com")
        .await
        .expect("after the buffer");
    // The short booking at 10:30 now blocks the long appointment's 10:30 slot (its buffer
    // would run into it as well).
    let (times, _) = free_on_the_7th(&f, &long.code).await;
    assert!(
        times.is_empty(),
        "09:00 is full, 10:30 is the room's: {times:?}"
    );
}

/// Two appointments of one resource, 100 seats each; 100 tasks book the 60-minute one at 10:00
/// while 100 book the 30-minute one at 10:00 or 10:30, all at once. Whichever appointment
/// takes the resource first takes every booking: the other gets none, every loser fails with
/// `SlotFull`, and the counters equal the active bookings.
pub async fn race_resource_across_appointments<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let owner = f.owner.id;
    let hour = on_resource(
        &f,
        owner,
        Some("Stage"),
        60,
        0,
        AppointmentKind::Group,
        Some(100),
    )
    .await;
    let half = on_resource(
        &f,
        owner,
        Some("Stage"),
        30,
        0,
        AppointmentKind::Group,
        Some(100),
    )
    .await;
    let barrier = Arc::new(tokio::sync::Barrier::new(200));
    let mut handles = Vec::new();
    for i in 0..200u32 {
        let (code, start) = if i % 2 == 0 {
            (hour.code.clone(), at(7, 10))
        } else {
            (
                half.code.clone(),
                hm(at(7, 10), if i % 4 == 1 { 0 } else { 30 }),
            )
        };
        let sched = f.sched.clone();
        let barrier = barrier.clone();
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            let won = sched
                .book(guest_booking(&code, start, 1, &format!("r{i}@example.com")))
                .await;
            (i % 2 == 0, won)
        }));
    }
    let (mut hour_wins, mut half_wins) = (0, 0);
    for h in futures::future::join_all(handles).await {
        match h.expect("task") {
            (true, Ok(_)) => hour_wins += 1,
            (false, Ok(_)) => half_wins += 1,
            (_, Err(Error::SlotFull { .. })) => {}
            (_, Err(e)) => panic!("a losing booking must fail with SlotFull, got {e:?}"),
        }
    }
    assert!(
        (hour_wins, half_wins) == (100, 0) || (hour_wins, half_wins) == (0, 100),
        "one appointment takes the stage: {hour_wins} on the hour, {half_wins} on the half hour"
    );
    f.assert_counters_equal_facts(&hour).await;
    f.assert_counters_equal_facts(&half).await;
}
