//! More conformance cases: the booking lifecycle's timestamps.
//!
//! A backend runs them beside the main suite with one more macro call:
//!
//! ```text
//! appointment_core::store_conformance_suite_extra!(new_store);
//! ```

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use crate::testing::{Fixture, epoch};
use crate::{AntiScalping, AppointmentKind, BookingStatus, Reschedule, Store};

/// Expands into one test per case of this module for the store made by `$new_store` (as
/// [`store_conformance_suite!`](crate::store_conformance_suite) does for the main suite).
#[macro_export]
macro_rules! store_conformance_suite_extra {
    ($new_store:path) => {
        $crate::store_conformance_suite_extra!(@cases $new_store;
            updated_at_follows_the_engine_clock,
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
}
