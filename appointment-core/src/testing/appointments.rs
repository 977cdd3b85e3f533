//! Appointments: one stored row with computed slots, and validated input.

use chrono::{DateTime, Utc};

use super::{Fixture, date, time};
use crate::{
    AntiScalping, AppCode, AppointmentKind, Entity, Error, NewAppointment, Page, Schedule,
    SlotQuery, Store,
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
            .seats_taken(app.id, DateTime::<Utc>::MIN_UTC..DateTime::<Utc>::MAX_UTC)
            .await
            .expect("seats")
            .is_empty()
    );
    assert_err!(
        f.sched.appointment(&AppCode::generate()).await,
        Error::NotFound(Entity::Appointment)
    );
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
