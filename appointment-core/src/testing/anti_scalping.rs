//! Anti-scalping: none allows repeats, standard allows one active booking per email (its
//! canonical mailbox), strict takes registered users only, each with a verified device, one per
//! user and one per device; a duplicate is reported before a full slot.

use super::{Fixture, all_bookings, at, guest_booking};
use chrono::{DateTime, Utc};

use crate::{AntiScalping, AppointmentKind, Booker, DeviceId, Duplicate, Error, Store, User};

/// Under anti-scalping, a second booking of the same email is told it is a duplicate even
/// when the slot it asks for is full too, on every store.
pub async fn duplicate_wins_over_a_full_slot<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Single, None, AntiScalping::Standard)
        .await;
    f.guest(&app.code, at(7, 9), 1, "first@example.com")
        .await
        .expect("book");
    assert_err!(
        f.guest(&app.code, at(7, 9), 1, "first@example.com").await,
        Error::Duplicate(Duplicate::BookingEmail)
    );
    assert_err!(
        f.guest(&app.code, at(7, 9), 1, "second@example.com").await,
        Error::SlotFull { .. }
    );
    assert_eq!(all_bookings(&f.sched, &app).await.len(), 1);
    f.assert_counters_equal_facts(&app).await;
}

/// Without anti-scalping, one email may book many times.
pub async fn anti_scalping_none_allows_repeats<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
        .await;
    for h in [9, 10, 11] {
        f.guest(&app.code, at(7, h), 1, "a@example.com")
            .await
            .expect("book");
    }
    f.guest(&app.code, at(7, 9), 1, "a@example.com")
        .await
        .expect("same slot again");
}

/// Standard: one active booking per email per appointment; a cancelled one frees the email.
pub async fn anti_scalping_standard_one_per_email<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::Standard)
        .await;
    let other = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::Standard)
        .await;
    let b = f
        .guest(&app.code, at(7, 9), 1, "a@example.com")
        .await
        .expect("first");
    assert_err!(
        f.guest(&app.code, at(8, 9), 1, "A@EXAMPLE.com").await,
        Error::Duplicate(Duplicate::BookingEmail)
    );
    f.guest(&other.code, at(8, 9), 1, "a@example.com")
        .await
        .expect("another appointment");
    f.sched.cancel(&b.code).await.expect("cancel");
    f.guest(&app.code, at(8, 9), 1, "a@example.com")
        .await
        .expect("after cancelling");
    f.assert_counters_equal_facts(&app).await;
}

/// Strict: registered users only, each with a verified device; one active booking per user
/// (their account's email) and one per device.
pub async fn anti_scalping_strict_needs_device_one_per_device<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::Strict)
        .await;
    let dev = |s: &str| Some(DeviceId::parse(s).expect("device"));
    let mut guest = guest_booking(&app.code, at(7, 9), 1, "a@example.com");
    guest.device_id = dev("device-0");
    assert_err!(f.sched.book(guest).await, Error::RegistrationRequired);
    let ann = f.user("Ann", "a@example.com").await;
    let bo = f.user("Bo", "b@example.com").await;
    let as_user = |user: &User, start: DateTime<Utc>, device: Option<DeviceId>| {
        let mut req = guest_booking(&app.code, start, 1, "unused@example.com");
        req.booker = Booker::User(user.id);
        req.device_id = device;
        req
    };
    assert_err!(
        f.sched.book(as_user(&ann, at(7, 9), None)).await,
        Error::InvalidInput {
            field: "device_token",
            ..
        }
    );
    let first = f
        .sched
        .book(as_user(&ann, at(7, 9), dev("device-1")))
        .await
        .expect("first");
    let same_device = as_user(&bo, at(8, 9), dev("device-1"));
    assert_err!(
        f.sched.book(same_device.clone()).await,
        Error::Duplicate(Duplicate::BookingDevice)
    );
    assert_err!(
        f.sched.book(as_user(&ann, at(8, 9), dev("device-2"))).await,
        Error::Duplicate(Duplicate::BookingEmail)
    );
    f.sched.cancel(&first.code).await.expect("cancel");
    f.sched
        .book(same_device)
        .await
        .expect("device is free again");
}
