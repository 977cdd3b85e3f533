//! Users: registration keeps emails (whatever their case) and phone numbers unique; a verified
//! address is kept, and strict anti-scalping can require one.

use super::{Fixture, at, email, guest_booking, new_user};
use crate::{AntiScalping, AppointmentKind, Booker, DeviceId, Duplicate, Entity, Error, Store};

/// Users: unique email (case-insensitive) and phone.
pub async fn users_are_unique_by_email_and_phone<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let u = f
        .sched
        .register_user(new_user("Ann", "ann@example.com", Some("+4915112345678")))
        .await
        .expect("register");
    assert_eq!(f.sched.user(u.id).await.expect("get").email, u.email);
    let found = f
        .sched
        .user_by_email(&email("ANN@example.com"))
        .await
        .expect("lookup");
    assert_eq!(found.map(|x| x.id), Some(u.id));
    assert_err!(
        f.sched
            .register_user(new_user("Ann 2", "Ann@Example.com", None))
            .await,
        Error::Duplicate(Duplicate::UserEmail)
    );
    assert_err!(
        f.sched
            .register_user(new_user(
                "Ann 3",
                "ann3@example.com",
                Some("+49 151 12345678")
            ))
            .await,
        Error::Duplicate(Duplicate::UserPhone)
    );
    // Two users without phones are fine.
    f.user("B", "b@example.com").await;
    f.user("C", "c@example.com").await;
    assert_err!(
        f.sched.user(crate::UserId::new()).await,
        Error::NotFound(Entity::User)
    );
}

/// Email verification: kept with its first time, only for the account's own address; strict
/// anti-scalping requires it where the scheduler says so, and only there.
pub async fn email_verification_is_kept_and_required_for_strict<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let ann = f.user("Ann", "ann@example.com").await;
    let bo = f.user("Bo", "bo@example.com").await;
    assert_eq!(ann.email_verified_at, None);
    let first = f.sched.now();
    let verified = f
        .sched
        .verify_email(ann.id, &email("ann@example.com"))
        .await
        .expect("verify");
    assert_eq!(verified.email_verified_at, Some(first));
    assert_eq!(
        f.sched.user(ann.id).await.expect("read").email_verified_at,
        Some(first)
    );
    f.clock.advance(chrono::TimeDelta::hours(1));
    let again = f
        .sched
        .verify_email(ann.id, &email("ann@example.com"))
        .await
        .expect("verify again");
    assert_eq!(
        again.email_verified_at,
        Some(first),
        "the first time is kept"
    );
    // A proof for another address verifies nothing.
    assert_err!(
        f.sched.verify_email(bo.id, &email("ann@example.com")).await,
        Error::InvalidInput { field: "email", .. }
    );
    assert_eq!(
        f.sched.user(bo.id).await.expect("read").email_verified_at,
        None
    );
    assert_err!(
        f.sched
            .verify_email(crate::UserId::new(), &email("x@example.com"))
            .await,
        Error::NotFound(Entity::User)
    );

    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::Strict)
        .await;
    let as_user = |id, device: &str| {
        let mut req = guest_booking(&app.code, at(7, 9), 1, "unused@example.com");
        req.booker = Booker::User(id);
        req.device_id = Some(DeviceId::parse(device).expect("device"));
        req
    };
    let strict = f.sched.clone().with_verified_email_required(true);
    assert_err!(
        strict.book(as_user(bo.id, "device-b")).await,
        Error::EmailNotVerified
    );
    strict
        .book(as_user(ann.id, "device-a"))
        .await
        .expect("a verified user books");
    // Without the requirement, strict anti-scalping is as it was.
    f.sched
        .book(as_user(bo.id, "device-b"))
        .await
        .expect("books where verification is not required");
}
