//! Bans: the ban list, bans on guests (case-insensitive) and registered users, and a ban
//! reported before a full slot.

use super::{Fixture, all_bookings, at, email, guest_booking};
use crate::{AntiScalping, AppointmentKind, Booker, Duplicate, Entity, Error, Store};

/// Ban list: add, list, duplicate, remove.
pub async fn ban_list_add_remove_list<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let other = f.user("Other", "other@example.com").await;
    let ban = f
        .sched
        .ban(f.owner.id, email("Bad@Example.com"))
        .await
        .expect("ban");
    assert_eq!(ban.email.as_str(), "bad@example.com");
    f.sched
        .ban(f.owner.id, email("worse@example.com"))
        .await
        .expect("ban 2");
    assert_err!(
        f.sched.ban(f.owner.id, email("BAD@example.com")).await,
        Error::Duplicate(Duplicate::Ban)
    );
    f.sched
        .ban(other.id, email("bad@example.com"))
        .await
        .expect("lists are per owner");
    let list = f.sched.bans(f.owner.id).await.expect("list");
    let emails: Vec<_> = list.iter().map(|b| b.email.as_str().to_owned()).collect();
    assert_eq!(emails.len(), 2);
    assert!(emails.contains(&"bad@example.com".to_owned()));
    f.sched
        .unban(f.owner.id, &email("bad@example.com"))
        .await
        .expect("unban");
    assert_err!(
        f.sched.unban(f.owner.id, &email("bad@example.com")).await,
        Error::NotFound(Entity::Ban)
    );
    assert_eq!(f.sched.bans(f.owner.id).await.expect("list").len(), 1);
    assert_eq!(f.sched.bans(other.id).await.expect("list").len(), 1);
}

/// A banned guest cannot book, whatever the email's case; after unbanning they can.
pub async fn ban_blocks_guests_case_insensitively<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
        .await;
    f.sched
        .ban(f.owner.id, email("spam@example.com"))
        .await
        .expect("ban");
    assert_err!(
        f.guest(&app.code, at(7, 9), 1, "  SPAM@Example.COM ").await,
        Error::Banned
    );
    assert!(all_bookings(&f.sched, &app).await.is_empty());
    f.sched
        .unban(f.owner.id, &email("spam@example.com"))
        .await
        .expect("unban");
    f.guest(&app.code, at(7, 9), 1, "spam@example.com")
        .await
        .expect("book after unban");
}

/// A banned registered user cannot book either.
pub async fn ban_blocks_registered_users<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
        .await;
    let u = f.user("Mallory", "mallory@example.com").await;
    f.sched
        .ban(f.owner.id, email("MALLORY@example.com"))
        .await
        .expect("ban");
    let mut req = guest_booking(&app.code, at(7, 9), 1, "someone-else@example.com");
    req.booker = Booker::User(u.id);
    assert_err!(f.sched.book(req).await, Error::Banned);
}

/// The store checks the ban in the booking's own atomic step, before the seats: a banned
/// email on a full slot is told it is banned, and nothing changes.
pub async fn ban_wins_over_a_full_slot<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Single, None, AntiScalping::None)
        .await;
    f.guest(&app.code, at(7, 9), 1, "first@example.com")
        .await
        .expect("book");
    f.sched
        .ban(f.owner.id, email("late@example.com"))
        .await
        .expect("ban");
    assert_err!(
        f.guest(&app.code, at(7, 9), 1, "late@example.com").await,
        Error::Banned
    );
    assert_err!(
        f.guest(&app.code, at(7, 10), 1, "late@example.com").await,
        Error::Banned
    );
    assert_eq!(all_bookings(&f.sched, &app).await.len(), 1);
    let seats = f
        .sched
        .slot_seats(&app.code, at(7, 10))
        .await
        .expect("seats");
    assert_eq!(seats.seats_taken, 0);
    f.assert_counters_equal_facts(&app).await;
}
