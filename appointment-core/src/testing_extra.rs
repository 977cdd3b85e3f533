//! More conformance cases: the booking lifecycle's timestamps.
//!
//! A backend runs them beside the main suite with one more macro call:
//!
//! ```text
//! appointment_core::store_conformance_suite_extra!(new_store);
//! ```

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use crate::testing::{Fixture, assert_counters_equal_facts, epoch};
use crate::{
    AntiScalping, AppointmentKind, AttendeeCount, BookingStatus, BookingUpdate, Email, Error,
    Reschedule, Store,
};

/// Expands into one test per case of this module for the store made by `$new_store` (as
/// [`store_conformance_suite!`](crate::store_conformance_suite) does for the main suite).
#[macro_export]
macro_rules! store_conformance_suite_extra {
    ($new_store:path) => {
        $crate::store_conformance_suite_extra!(@cases $new_store;
            updated_at_follows_the_engine_clock,
            ban_applies_to_reschedule,
            reschedule_can_replace_the_description,
        );
    };
    (@cases $new_store:path; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::testing::run_case($new_store, $crate::testing_extra::cases::$case);
            }
        )*
    };
}

fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, d, h, 0, 0)
        .single()
        .expect("a valid instant")
}

/// The cases, each an `async fn(store)`.
pub mod cases {
    use super::*;

    /// A booking's `updated_at` is the engine's "now" of its last change (never the store's own
    /// wall clock): equal to `created_at` when booked, then the instant of each reschedule,
    /// cancellation or rejection, as the scheduler's clock shows it, and so never before
    /// `created_at`.
    pub async fn updated_at_follows_the_engine_clock<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
            .await;
        let b = f
            .guest(&app.code, at(7, 9), 1, "a@example.com")
            .await
            .expect("book");
        assert_eq!((b.created_at, b.updated_at), (epoch(), epoch()));

        f.clock.advance(TimeDelta::hours(1));
        let moved = f
            .sched
            .reschedule(
                &b.code,
                Reschedule {
                    slot_start: at(7, 10),
                    attendee_count: None,
                },
            )
            .await
            .expect("move");
        let one_hour = epoch() + TimeDelta::hours(1);
        assert_eq!((moved.created_at, moved.updated_at), (epoch(), one_hour));
        let read = f.sched.booking(&b.code).await.expect("read");
        assert_eq!((read.created_at, read.updated_at), (epoch(), one_hour));

        f.clock.advance(TimeDelta::hours(1));
        let cancelled = f.sched.cancel(&b.code).await.expect("cancel");
        assert_eq!(cancelled.status, BookingStatus::Cancelled);
        assert_eq!(cancelled.updated_at, epoch() + TimeDelta::hours(2));
        assert_eq!(
            f.sched.booking(&b.code).await.expect("read").updated_at,
            epoch() + TimeDelta::hours(2)
        );

        let other = f
            .guest(&app.code, at(7, 11), 1, "b@example.com")
            .await
            .expect("book");
        f.clock.advance(TimeDelta::minutes(30));
        let rejected = f
            .sched
            .reject(f.owner.id, &other.code)
            .await
            .expect("reject");
        assert_eq!(
            (rejected.created_at, rejected.updated_at),
            (
                epoch() + TimeDelta::hours(2),
                epoch() + TimeDelta::minutes(150)
            )
        );
    }

    /// A reschedule is checked like a new booking: a guest the owner banned after booking can
    /// neither move nor grow their booking (1 to 50 seats), whatever the slot, and nothing
    /// changes; once the ban is lifted, the same change goes through.
    pub async fn ban_applies_to_reschedule<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(50), AntiScalping::Standard)
            .await;
        let b = f
            .guest(&app.code, at(7, 9), 1, "late@example.com")
            .await
            .expect("book");
        let email = Email::parse("LATE@example.com").expect("an email");
        f.sched.ban(f.owner.id, email.clone()).await.expect("ban");
        let fifty = Some(AttendeeCount::new(50).expect("50"));
        for (slot_start, attendee_count) in
            [(at(7, 9), fifty), (at(7, 10), None), (at(8, 10), fifty)]
        {
            let change = Reschedule {
                slot_start,
                attendee_count,
            };
            match f.sched.reschedule(&b.code, change).await {
                Err(Error::Banned) => {}
                other => panic!("expected Banned for {change:?}, got {other:?}"),
            }
        }
        assert_eq!(f.sched.booking(&b.code).await.expect("read"), b);
        let counters = assert_counters_equal_facts(&f.sched, &app).await;
        assert_eq!(counters.get(&at(7, 9)), Some(&1));
        assert_eq!(counters.len(), 1);

        f.sched.unban(f.owner.id, &email).await.expect("unban");
        let grown = f
            .sched
            .reschedule(
                &b.code,
                Reschedule {
                    slot_start: at(7, 10),
                    attendee_count: fifty,
                },
            )
            .await
            .expect("move once unbanned");
        assert_eq!(
            (grown.slot_start, grown.attendee_count.get()),
            (at(7, 10), 50)
        );
        let counters = assert_counters_equal_facts(&f.sched, &app).await;
        assert_eq!(counters.get(&at(7, 10)), Some(&50));
        assert_eq!(counters.len(), 1);
    }

    /// A [`BookingUpdate`] with a description replaces the booking's free text in the same step
    /// as the move; without one the text stays; one too long is refused and changes nothing.
    pub async fn reschedule_can_replace_the_description<S: Store>(store: S) {
        let f = Fixture::new(store).await;
        let app = f
            .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
            .await;
        let b = f
            .guest(&app.code, at(7, 9), 1, "a@example.com")
            .await
            .expect("book");
        let moved = f
            .sched
            .reschedule(
                &b.code,
                BookingUpdate {
                    slot_start: at(7, 10),
                    attendee_count: None,
                    description: Some("Bring the X-rays".into()),
                },
            )
            .await
            .expect("move");
        assert_eq!(moved.description, "Bring the X-rays");
        assert_eq!(moved.slot_start, at(7, 10));
        let kept = f
            .sched
            .reschedule(
                &b.code,
                Reschedule {
                    slot_start: at(7, 11),
                    attendee_count: None,
                },
            )
            .await
            .expect("move again");
        assert_eq!(kept.description, "Bring the X-rays");
        assert_eq!(f.sched.booking(&b.code).await.expect("read"), kept);
        let too_long = BookingUpdate {
            slot_start: at(7, 9),
            attendee_count: None,
            description: Some("x".repeat(2001)),
        };
        match f.sched.reschedule(&b.code, too_long).await {
            Err(Error::InvalidInput {
                field: "description",
                ..
            }) => {}
            other => panic!("expected InvalidInput(description), got {other:?}"),
        }
        assert_eq!(f.sched.booking(&b.code).await.expect("read"), kept);
    }
}
