//! Bookings: guests and registered users book, a booking needs a real bookable slot, and only
//! the owner lists an appointment's bookings.

use chrono::TimeDelta;

use super::{Fixture, all_bookings, at, guest_booking, new_user};
use crate::{
    AntiScalping, AppCode, AppointmentKind, Booker, BookingCode, BookingStatus, Entity, Error,
    Page, Store,
};

/// A guest books; the booking is found by its code.
pub async fn guest_books_and_finds_by_code<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Single, None, AntiScalping::None)
        .await;
    let mut req = guest_booking(&app.code, at(7, 10), 1, "Jane@Example.com");
    req.description = "first visit".into();
    let b = f.sched.book(req).await.expect("book");
    assert!(b.code.as_str().starts_with("BK-") && b.code.as_str().len() >= 13);
    assert_eq!(b.status, BookingStatus::Active);
    assert_eq!((b.slot_start, b.slot_end), (at(7, 10), at(7, 11)));
    assert_eq!(b.email.as_str(), "jane@example.com");
    assert_eq!(b.user_id, None);
    let got = f.sched.booking(&b.code).await.expect("get");
    assert_eq!(got.id, b.id);
    assert_eq!(got.description, "first visit");
    assert_eq!(got.app_code, app.code);
    assert_err!(
        f.sched.booking(&BookingCode::generate()).await,
        Error::NotFound(Entity::Booking)
    );
    f.assert_counters_equal_facts(&app).await;
}

/// A registered user books with the profile's details and finds it among their bookings.
pub async fn registered_user_books_with_profile<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::Standard)
        .await;
    let u = f
        .sched
        .register_user(new_user("Uma", "uma@example.com", Some("+12025550123")))
        .await
        .expect("register");
    let mut req = guest_booking(&app.code, at(8, 9), 2, "ignored@example.com");
    req.booker = Booker::User(u.id);
    let b = f.sched.book(req).await.expect("book");
    assert_eq!(b.user_id, Some(u.id));
    assert_eq!(b.email, u.email);
    assert_eq!(b.name, u.name);
    assert_eq!(b.phone, u.phone);
    let mine = f
        .sched
        .user_bookings(u.id, Page::default())
        .await
        .expect("mine");
    assert_eq!(mine.total, 1);
    assert_eq!(mine.items[0].code, b.code);
    let mut ghost = guest_booking(&app.code, at(8, 10), 1, "x@example.com");
    ghost.booker = Booker::User(crate::UserId::new());
    assert_err!(f.sched.book(ghost).await, Error::NotFound(Entity::User));
}

/// A start that is not a slot, an unknown appointment, and bad counts are refused.
pub async fn booking_needs_a_real_bookable_slot<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(3), AntiScalping::None)
        .await;
    assert_err!(
        f.guest(
            &app.code,
            at(7, 9) + TimeDelta::minutes(30),
            1,
            "a@example.com"
        )
        .await,
        Error::InvalidInput {
            field: "start_time",
            ..
        }
    );
    assert_err!(
        f.guest(&app.code, at(7, 13), 1, "a@example.com").await,
        Error::InvalidInput {
            field: "start_time",
            ..
        }
    );
    assert_err!(
        f.guest(&app.code, at(20, 9), 1, "a@example.com").await,
        Error::InvalidInput {
            field: "start_time",
            ..
        }
    );
    assert_err!(
        f.guest(&AppCode::generate(), at(7, 9), 1, "a@example.com")
            .await,
        Error::NotFound(Entity::Appointment)
    );
    assert_err!(
        f.guest(&app.code, at(7, 9), 4, "a@example.com").await,
        Error::SlotFull { requested: 4, .. }
    );
    assert!(
        all_bookings(&f.sched, &app).await.is_empty(),
        "refused input writes nothing"
    );
}

/// Only the owner lists an appointment's bookings.
pub async fn appointment_bookings_are_owner_only<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(9), AntiScalping::None)
        .await;
    for i in 0..5 {
        f.guest(&app.code, at(7, 9), 1, &format!("g{i}@example.com"))
            .await
            .expect("book");
    }
    let stranger = f.user("S", "s@example.com").await;
    assert_err!(
        f.sched
            .appointment_bookings(stranger.id, &app.code, Page::default())
            .await,
        Error::Forbidden(_)
    );
    let p = f
        .sched
        .appointment_bookings(f.owner.id, &app.code, Page::new(2, 2).expect("page"))
        .await
        .expect("list");
    assert_eq!((p.total, p.total_pages, p.items.len()), (5, 3, 2));
}
