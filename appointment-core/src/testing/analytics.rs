//! Analytics: appointments created, bookings by status, seats booked versus offered.

use super::{Fixture, at, date};
use crate::{AntiScalping, AppointmentKind, Error, Store};

/// Analytics: appointments created, bookings by status, seats booked versus offered.
pub async fn analytics_counts_bookings_and_seats<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(4), AntiScalping::None)
        .await;
    let party = f
        .appointment(AppointmentKind::Party, Some(50), AntiScalping::None)
        .await;
    f.guest(&app.code, at(7, 9), 2, "a@example.com")
        .await
        .expect("book");
    let c = f
        .guest(&app.code, at(7, 10), 1, "b@example.com")
        .await
        .expect("book");
    let r = f
        .guest(&app.code, at(8, 10), 3, "c@example.com")
        .await
        .expect("book");
    f.guest(&party.code, at(7, 9), 7, "d@example.com")
        .await
        .expect("book");
    f.sched.cancel(&c.code).await.expect("cancel");
    // Seats held for a form count while the hold lives; an expired hold's do not.
    let live = f.hold(&app.code, at(7, 11), 3).await.expect("hold");
    f.clock.advance(chrono::TimeDelta::minutes(5));
    f.hold(&party.code, at(7, 9), 4).await.expect("hold");
    f.clock.set(live.expires_at);
    f.sched.reject(f.owner.id, &r.code).await.expect("reject");
    // Someone else's appointment does not count.
    let g = Fixture {
        sched: f.sched.clone(),
        clock: f.clock.clone(),
        owner: f.user("O2", "o2@example.com").await,
    };
    let foreign = g
        .appointment(AppointmentKind::Group, Some(4), AntiScalping::None)
        .await;
    g.guest(&foreign.code, at(7, 9), 1, "e@example.com")
        .await
        .expect("book");

    let a = f
        .sched
        .analytics(f.owner.id, date(2030, 1, 7), date(2030, 1, 7))
        .await
        .expect("analytics");
    assert_eq!(a.appointments_created, 0, "created on 2030-01-01");
    assert_eq!(
        (a.bookings.active, a.bookings.cancelled, a.bookings.rejected),
        (2, 1, 0)
    );
    assert_eq!(a.bookings.seats_booked, 9);
    assert_eq!(
        a.bookings.seats_held, 4,
        "the live hold, not the expired one"
    );
    assert_eq!(a.seats_offered, 3 * 4 + 50);
    let all = f
        .sched
        .analytics(f.owner.id, date(2030, 1, 1), date(2030, 1, 31))
        .await
        .expect("analytics");
    assert_eq!(all.appointments_created, 2);
    assert_eq!(all.total_bookings(), 4);
    assert_eq!(all.bookings.rejected, 1);
    assert_eq!(all.seats_offered, 9 * 4 + 50);
    assert_err!(
        f.sched
            .analytics(f.owner.id, date(2030, 2, 1), date(2030, 1, 1))
            .await,
        Error::InvalidInput { .. }
    );
}
