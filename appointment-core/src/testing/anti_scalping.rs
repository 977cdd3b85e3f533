//! Anti-scalping: none allows repeats, standard allows one active booking per email, strict
//! needs a verified device and allows one per device; a duplicate is reported before a full slot.

use super::{Fixture, all_bookings, at, guest_booking};
use crate::{AntiScalping, AppointmentKind, DeviceId, Duplicate, Error, Store};

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

/// Strict: a verified device is required, one active booking per device and per email.
pub async fn anti_scalping_strict_needs_device_one_per_device<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::Strict)
        .await;
    assert_err!(
        f.guest(&app.code, at(7, 9), 1, "a@example.com").await,
        Error::InvalidInput {
            field: "device_token",
            ..
        }
    );
    let dev = DeviceId::parse("device-1").expect("device");
    let mut req = guest_booking(&app.code, at(7, 9), 1, "a@example.com");
    req.device_id = Some(dev.clone());
    let first = f.sched.book(req.clone()).await.expect("first");
    let mut same_device = guest_booking(&app.code, at(8, 9), 1, "b@example.com");
    same_device.device_id = Some(dev.clone());
    assert_err!(
        f.sched.book(same_device.clone()).await,
        Error::Duplicate(Duplicate::BookingDevice)
    );
    let mut same_email = guest_booking(&app.code, at(8, 9), 1, "a@example.com");
    same_email.device_id = Some(DeviceId::parse("device-2").expect("device"));
    assert_err!(
        f.sched.book(same_email).await,
        Error::Duplicate(Duplicate::BookingEmail)
    );
    f.sched.cancel(&first.code).await.expect("cancel");
    f.sched
        .book(same_device)
        .await
        .expect("device is free again");
}
