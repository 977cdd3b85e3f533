//! Appointments: one stored row with computed slots, and validated input.

use chrono::{DateTime, Utc};

use super::{Fixture, at, date, time};
use crate::{
    AntiScalping, AppCode, AppointmentChanges, AppointmentKind, AppointmentStatus, Closure, Entity,
    Error, NewAppointment, Page, Schedule, SlotQuery, Store, TimeWindow, TimeZoneName, WeeklyHours,
};

/// Creating a long appointment stores it once; its slots are computed.
pub async fn appointment_is_one_row_with_computed_slots<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let schedule = Schedule::builder(
        date(2030, 1, 1),
        date(2030, 12, 31),
        time(9, 0),
        time(17, 0),
        15,
    )
    .build()
    .expect("schedule");
    let app = f
        .appointment_with(
            AppointmentKind::Group,
            Some(3),
            AntiScalping::None,
            schedule,
        )
        .await;
    let got = f.sched.appointment(&app.code).await.expect("get");
    assert_eq!(got, app);
    let mine = f
        .sched
        .my_appointments(f.owner.id, Page::default())
        .await
        .expect("mine");
    assert_eq!(mine.total, 1);
    assert_eq!(mine.items[0].code, app.code);
    let slots = f
        .sched
        .available_slots(&app.code, SlotQuery::default())
        .await
        .expect("slots");
    assert_eq!(slots.total, 365 * 32);
    assert!(
        f.sched
            .store()
            .seats_taken(
                app.id,
                DateTime::<Utc>::MIN_UTC..DateTime::<Utc>::MAX_UTC,
                f.sched.now(),
            )
            .await
            .expect("seats")
            .is_empty()
    );
    assert_err!(
        f.sched.appointment(&AppCode::generate()).await,
        Error::NotFound(Entity::Appointment)
    );
}

/// Weekly hours, date overrides and closures come back from the store exactly as they were
/// created, and so do the slots they make; a date outside the years a schedule may use, or an
/// appointment wholly in the past, is refused before anything is written.
pub async fn opening_hours_round_trip<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let d = |m, day| date(2030, m, day);
    let window = |w: &str| w.parse::<TimeWindow>().expect("window");
    let schedule = Schedule::weekly(
        d(1, 1),
        d(12, 31),
        "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00; sun 20:00-24:00"
            .parse::<WeeklyHours>()
            .expect("hours"),
        30,
    )
    .time_zone(TimeZoneName::parse("Europe/Berlin").expect("zone"))
    .override_date(d(12, 24), vec![window("09:00-12:00")])
    .override_date(d(12, 31), vec![])
    .closure(Closure::new(d(8, 5), d(8, 18), Some("Summer; holidays".into())).expect("closure"))
    .closure(Closure::new(d(12, 25), d(12, 26), None).expect("closure"))
    .build()
    .expect("schedule");
    let app = f
        .appointment_with(AppointmentKind::Single, None, AntiScalping::None, schedule)
        .await;
    let got = f.sched.appointment(&app.code).await.expect("get");
    assert_eq!(got, app);
    assert_eq!(got.schedule.slots_on(d(1, 8)).count(), 6 + 9, "a Tuesday");
    assert_eq!(got.schedule.slots_on(d(8, 6)).count(), 0, "closed");
    assert_eq!(got.schedule.slots_on(d(12, 24)).count(), 6);
    let mine = f
        .sched
        .my_appointments(f.owner.id, Page::default())
        .await
        .expect("mine");
    assert_eq!(mine.items[0], app);
    // A year of hours: counted, not walked, and the same as walking.
    let slots = f
        .sched
        .available_slots(&app.code, SlotQuery::default())
        .await
        .expect("slots");
    assert_eq!(slots.total, got.schedule.all_slots().count() as u64);

    let past = Schedule::builder(
        date(2029, 12, 1),
        date(2029, 12, 31),
        time(9, 0),
        time(10, 0),
        30,
    )
    .build()
    .expect("schedule");
    assert_err!(
        f.sched
            .create_appointment(
                f.owner.id,
                NewAppointment {
                    title: "Past".into(),
                    description: String::new(),
                    kind: AppointmentKind::Single,
                    capacity: None,
                    anti_scalping: AntiScalping::None,
                    schedule: past,
                    resource: None,
                },
            )
            .await,
        Error::InvalidInput {
            field: "end_date",
            ..
        }
    );
    assert_eq!(
        f.sched
            .my_appointments(f.owner.id, Page::default())
            .await
            .expect("mine")
            .total,
        1
    );
}

/// The owner edits, closes, reopens and deletes; bookings are never touched, and the edit says
/// how many now fall outside the hours. Nobody else may do any of it.
pub async fn owner_edits_closes_and_deletes<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    // 7 to 9 January 2030, 09:00-12:00, three one-hour slots a day.
    let app = f
        .appointment(AppointmentKind::Group, Some(3), AntiScalping::None)
        .await;
    let kept = f
        .guest(&app.code, at(7, 9), 1, "a@example.com")
        .await
        .expect("book");
    let outside = f
        .guest(&app.code, at(8, 11), 2, "b@example.com")
        .await
        .expect("book");
    let other = f.user("Other", "other@example.com").await;
    let changes = || AppointmentChanges {
        title: Some("Mornings".into()),
        weekly_hours: Some("mon-sun 09:00-11:00".parse().expect("hours")),
        buffer_minutes: Some(0),
        ..AppointmentChanges::default()
    };
    assert_err!(
        f.sched
            .update_appointment(other.id, &app.code, changes())
            .await,
        Error::Forbidden(_)
    );
    f.clock.advance(chrono::TimeDelta::minutes(5));
    let edit = f
        .sched
        .update_appointment(f.owner.id, &app.code, changes())
        .await
        .expect("edit");
    assert_eq!(edit.bookings_outside_hours, 1, "the 11:00 booking");
    assert_eq!(edit.appointment.title, "Mornings");
    assert!(edit.appointment.updated_at > edit.appointment.created_at);
    let read = f.sched.appointment(&app.code).await.expect("read");
    assert_eq!(read, edit.appointment);
    assert_eq!(read.schedule.slots_on(date(2030, 1, 8)).count(), 2);
    // Bookings are untouched, the one outside the hours included.
    for b in [&kept, &outside] {
        let again = f.sched.booking(&b.code).await.expect("booking");
        assert_eq!(again.status, crate::BookingStatus::Active);
    }
    // Bad changes are refused and change nothing.
    assert_err!(
        f.sched
            .update_appointment(
                f.owner.id,
                &app.code,
                AppointmentChanges {
                    title: Some(" ".into()),
                    ..AppointmentChanges::default()
                },
            )
            .await,
        Error::InvalidInput { field: "title", .. }
    );
    assert_err!(
        f.sched
            .update_appointment(
                f.owner.id,
                &app.code,
                AppointmentChanges {
                    overrides: Some(vec![(date(2031, 1, 1), vec![])]),
                    ..AppointmentChanges::default()
                },
            )
            .await,
        Error::InvalidInput {
            field: "overrides",
            ..
        }
    );
    assert_eq!(f.sched.appointment(&app.code).await.expect("read"), read);

    // Closed: no slots, no bookings; reopened: both again.
    let close = AppointmentChanges {
        status: Some(AppointmentStatus::Closed),
        ..AppointmentChanges::default()
    };
    f.sched
        .update_appointment(f.owner.id, &app.code, close)
        .await
        .expect("close");
    assert_eq!(
        f.sched
            .available_slots(&app.code, SlotQuery::default())
            .await
            .expect("slots")
            .total,
        0
    );
    assert!(
        f.guest(&app.code, at(9, 9), 1, "c@example.com")
            .await
            .is_err()
    );
    let reopen = AppointmentChanges {
        status: Some(AppointmentStatus::Active),
        ..AppointmentChanges::default()
    };
    f.sched
        .update_appointment(f.owner.id, &app.code, reopen)
        .await
        .expect("reopen");
    f.guest(&app.code, at(9, 9), 1, "c@example.com")
        .await
        .expect("book after reopening");

    // Deleted: gone from lookups and listings; its bookings stay readable and cancellable.
    assert_err!(
        f.sched.delete_appointment(other.id, &app.code).await,
        Error::Forbidden(_)
    );
    f.sched
        .delete_appointment(f.owner.id, &app.code)
        .await
        .expect("delete");
    assert_err!(
        f.sched.appointment(&app.code).await,
        Error::NotFound(Entity::Appointment)
    );
    assert_eq!(
        f.sched
            .my_appointments(f.owner.id, Page::default())
            .await
            .expect("mine")
            .total,
        0
    );
    assert_err!(
        f.sched.delete_appointment(f.owner.id, &app.code).await,
        Error::NotFound(Entity::Appointment)
    );
    assert_eq!(
        f.sched.booking(&kept.code).await.expect("booking").status,
        crate::BookingStatus::Active
    );
    let cancelled = f.sched.cancel(&kept.code).await.expect("cancel");
    assert_eq!(cancelled.status, crate::BookingStatus::Cancelled);
}

/// Bad appointment input is refused with the field named, and nothing is written.
pub async fn appointment_input_is_validated<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let schedule = Schedule::builder(
        date(2030, 1, 7),
        date(2030, 1, 7),
        time(9, 0),
        time(10, 0),
        30,
    )
    .build()
    .expect("schedule");
    let mk = |kind, capacity, title: &str| NewAppointment {
        title: title.into(),
        description: String::new(),
        kind,
        capacity,
        anti_scalping: AntiScalping::None,
        schedule: schedule.clone(),
        resource: None,
    };
    assert_err!(
        f.sched
            .create_appointment(f.owner.id, mk(AppointmentKind::Single, Some(2), "x"))
            .await,
        Error::InvalidInput {
            field: "max_attendees",
            ..
        }
    );
    assert_err!(
        f.sched
            .create_appointment(f.owner.id, mk(AppointmentKind::Group, None, "x"))
            .await,
        Error::InvalidInput {
            field: "max_attendees",
            ..
        }
    );
    assert_err!(
        f.sched
            .create_appointment(f.owner.id, mk(AppointmentKind::Party, Some(0), "x"))
            .await,
        Error::InvalidInput {
            field: "max_attendees",
            ..
        }
    );
    assert_err!(
        f.sched
            .create_appointment(f.owner.id, mk(AppointmentKind::Group, Some(2), "  "))
            .await,
        Error::InvalidInput { field: "title", .. }
    );
    assert_err!(
        f.sched
            .create_appointment(crate::UserId::new(), mk(AppointmentKind::Single, None, "x"))
            .await,
        Error::NotFound(Entity::User)
    );
    let mine = f
        .sched
        .my_appointments(f.owner.id, Page::default())
        .await
        .expect("mine");
    assert_eq!(mine.total, 0, "refused input must write nothing");
}
