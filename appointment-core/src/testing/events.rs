//! The outbox: every change appends its event in the same atomic step, a step that fails
//! appends nothing, and readers going on from their cursor see every event exactly once, in
//! order, however many writers race.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::TimeDelta;

use super::{Fixture, all_bookings, at};
use crate::{
    AntiScalping, AppointmentChanges, AppointmentKind, AppointmentStatus, BookingStatus, Error,
    Event, EventCursor, EventKind, EventSubject, HoldStatus, Reschedule, Store, UserId,
    WaitlistStatus,
};

impl<S: Store> Fixture<S> {
    /// The `n` events after `cursor` (of every owner) and any already there beyond them, read
    /// in pages of 3 to exercise paging; moves `cursor` past them. See [`read_events`].
    pub async fn new_events(&self, cursor: &mut EventCursor, n: usize) -> Vec<Event> {
        read_events(&self.sched, None, cursor, n).await
    }

    /// The kinds of [`Fixture::new_events`], sorted (the events of one step are one atomic
    /// write, whose inner order a store may choose).
    pub async fn new_kinds(&self, cursor: &mut EventCursor, n: usize) -> Vec<EventKind> {
        sorted(
            self.new_events(cursor, n)
                .await
                .iter()
                .map(|e| e.kind)
                .collect(),
        )
    }
}

/// Reads the events after `cursor`, 3 at a time, until at least `n` have come (then whatever
/// else is already there), checking that cursors rise; moves `cursor` past them.
///
/// A store may answer an event a moment after its change committed (Postgres answers it once
/// every older writing transaction has ended, which other databases of the cluster can delay):
/// the reader asks again until the events it expects are there, for at most 30 seconds.
pub async fn read_events<S: Store>(
    sched: &crate::Scheduler<S>,
    owner: Option<UserId>,
    cursor: &mut EventCursor,
    n: usize,
) -> Vec<Event> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut out: Vec<Event> = Vec::new();
    loop {
        let page = sched.events(owner, *cursor, 3).await.expect("read events");
        for e in &page {
            assert!(
                e.cursor > *cursor,
                "cursors rise: {} after {}",
                e.cursor,
                cursor
            );
            *cursor = e.cursor;
        }
        let more = page.len() == 3;
        out.extend(page);
        if more {
            continue;
        }
        if out.len() >= n {
            return out;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} events came of the {n} expected: {:?}",
            out.len(),
            out.iter().map(|e| e.kind).collect::<Vec<_>>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

fn sorted(mut kinds: Vec<EventKind>) -> Vec<EventKind> {
    kinds.sort_by_key(|k| k.as_str());
    kinds
}

/// Each change appends its event, with the entity as the change left it: an appointment
/// created, edited, closed, reopened and deleted; a booking made, moved, cancelled, rejected,
/// completed; a hold taken, released, booked; a pending booking confirmed and declined.
pub async fn every_change_appends_its_event<S: Store>(store: S) {
    use EventKind::*;
    let f = Fixture::new(store).await;
    let mut c = EventCursor::START;
    let app = f
        .appointment(AppointmentKind::Group, Some(3), AntiScalping::None)
        .await;
    let events = f.new_events(&mut c, 1).await;
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.kind, AppointmentCreated);
    assert_eq!((e.owner, e.appointment_id), (f.owner.id, app.id));
    assert_eq!(e.app_code, app.code);
    assert_eq!(e.at, app.created_at);
    assert_eq!(
        e.subject,
        EventSubject::Appointment {
            status: AppointmentStatus::Active,
            revision: app.revision
        }
    );

    f.clock.advance(TimeDelta::minutes(1));
    let b = f
        .guest(&app.code, at(7, 9), 2, "a@example.com")
        .await
        .expect("book");
    let events = f.new_events(&mut c, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, BookingCreated);
    assert_eq!(events[0].at, b.created_at);
    match &events[0].subject {
        EventSubject::Booking {
            id,
            code,
            status,
            slot_start,
            slot_end,
            seats,
            name,
            email,
            confirm_by,
        } => {
            assert_eq!((*id, code), (b.id, &b.code));
            assert_eq!(*status, BookingStatus::Active);
            assert_eq!((*slot_start, *slot_end), (b.slot_start, b.slot_end));
            assert_eq!(seats.get(), 2);
            assert_eq!((name, email), (&b.name, &b.email));
            assert_eq!(*confirm_by, None);
        }
        other => panic!("a booking event, got {other:?}"),
    }

    f.clock.advance(TimeDelta::minutes(1));
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
    let events = f.new_events(&mut c, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, BookingRescheduled);
    assert_eq!(events[0].at, moved.updated_at);
    assert!(matches!(
        events[0].subject,
        EventSubject::Booking { slot_start, .. } if slot_start == at(7, 10)
    ));

    f.sched.cancel(&b.code).await.expect("cancel");
    assert_eq!(f.new_kinds(&mut c, 1).await, vec![BookingCancelled]);

    let r = f
        .guest(&app.code, at(7, 9), 1, "r@example.com")
        .await
        .expect("book");
    f.sched.reject(f.owner.id, &r.code).await.expect("reject");
    assert_eq!(
        f.new_kinds(&mut c, 2).await,
        sorted(vec![BookingCreated, BookingRejected])
    );

    let h = f.hold(&app.code, at(7, 11), 2).await.expect("hold");
    f.sched.release_hold(&h.token).await.expect("release");
    let events = f.new_events(&mut c, 2).await;
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![HoldCreated, HoldReleased],
        "two changes of one hold, in the order they were made"
    );
    assert!(matches!(
        events[1].subject,
        EventSubject::Hold { id, status: HoldStatus::Released, .. } if id == h.id
    ));
    let h = f.hold(&app.code, at(7, 11), 1).await.expect("hold");
    let booked = f.book_hold(&h, "h@example.com").await.expect("book it");
    let events = f.new_events(&mut c, 3).await;
    assert_eq!(
        sorted(events.iter().map(|e| e.kind).collect()),
        sorted(vec![HoldCreated, BookingCreated, HoldBooked])
    );
    assert!(events.iter().any(|e| matches!(
        e.subject,
        EventSubject::Hold { status: HoldStatus::Booked, booking_id: Some(id), .. }
            if id == booked.id
    )));

    let edit =
        |changes: AppointmentChanges| f.sched.update_appointment(f.owner.id, &app.code, changes);
    edit(AppointmentChanges {
        title: Some("Renamed".into()),
        ..AppointmentChanges::default()
    })
    .await
    .expect("edit");
    edit(AppointmentChanges {
        status: Some(AppointmentStatus::Closed),
        ..AppointmentChanges::default()
    })
    .await
    .expect("close");
    edit(AppointmentChanges {
        status: Some(AppointmentStatus::Active),
        ..AppointmentChanges::default()
    })
    .await
    .expect("reopen");
    let events = f.new_events(&mut c, 3).await;
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![AppointmentUpdated, AppointmentClosed, AppointmentReopened]
    );
    assert!(matches!(
        events[2].subject,
        EventSubject::Appointment { revision, .. } if revision == app.revision + 3
    ));

    // Past the slot: the owner marks what happened.
    let done = f
        .guest(&app.code, at(8, 9), 1, "done@example.com")
        .await
        .expect("book");
    let gone = f
        .guest(&app.code, at(8, 9), 1, "gone@example.com")
        .await
        .expect("book");
    f.clock.set(at(8, 10));
    f.sched
        .complete(f.owner.id, &done.code)
        .await
        .expect("complete");
    f.sched
        .mark_no_show(f.owner.id, &gone.code)
        .await
        .expect("no-show");
    assert_eq!(
        f.new_kinds(&mut c, 4).await,
        sorted(vec![
            BookingCreated,
            BookingCreated,
            BookingCompleted,
            BookingNoShow
        ])
    );

    f.sched
        .delete_appointment(f.owner.id, &app.code)
        .await
        .expect("delete");
    let events = f.new_events(&mut c, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, AppointmentDeleted);
    assert_eq!(events[0].at, f.sched.now());
    // Every event, read again from the start, is the same list.
    let mut again = EventCursor::START;
    let all = f.new_events(&mut again, 19).await;
    assert_eq!(again, c);
    assert_eq!(
        all.iter().map(|e| e.id).collect::<HashSet<_>>().len(),
        all.len(),
        "event ids are unique"
    );
}

/// Approval and waiting lists: a pending booking's confirmation, decline and expiry; a place
/// joining, the offer a cancel makes it (a hold in its name), leaving.
pub async fn lifecycle_and_waitlist_events<S: Store>(store: S) {
    use EventKind::*;
    let f = Fixture::new(store).await;
    let schedule = super::fixture_schedule()
        .confirm_within_minutes(Some(60))
        .build()
        .expect("a schedule");
    let app = f
        .appointment_with(
            AppointmentKind::Group,
            Some(2),
            AntiScalping::None,
            schedule,
        )
        .await;
    let mut c = EventCursor::START;
    f.new_events(&mut c, 1).await;

    let a = f
        .guest(&app.code, at(7, 9), 1, "a@example.com")
        .await
        .expect("book");
    let b = f
        .guest(&app.code, at(7, 9), 1, "b@example.com")
        .await
        .expect("book");
    let events = f.new_events(&mut c, 2).await;
    assert_eq!(events.len(), 2);
    assert!(matches!(
        events[0].subject,
        EventSubject::Booking { status: BookingStatus::Pending, confirm_by: Some(by), .. }
            if Some(by) == a.confirm_by
    ));
    f.sched.confirm(f.owner.id, &a.code).await.expect("confirm");
    f.sched.decline(f.owner.id, &b.code).await.expect("decline");
    assert_eq!(
        f.new_kinds(&mut c, 2).await,
        sorted(vec![BookingConfirmed, BookingDeclined])
    );

    // The slot is full; two places join its line.
    let x = f
        .guest(&app.code, at(7, 9), 1, "x@example.com")
        .await
        .expect("book");
    let w1 = f
        .join(&app.code, at(7, 9), 1, "w1@example.com")
        .await
        .expect("join");
    let w2 = f
        .join(&app.code, at(7, 9), 1, "w2@example.com")
        .await
        .expect("join");
    let events = f.new_events(&mut c, 3).await;
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![BookingCreated, WaitlistJoined, WaitlistJoined]
    );
    assert!(matches!(
        &events[1].subject,
        EventSubject::Waitlist { code, status: WaitlistStatus::Waiting, .. } if *code == w1.entry.code
    ));

    // The pending booking runs out; a reclaim expires it and offers its seat to the first place.
    f.clock.advance(TimeDelta::minutes(61));
    f.sched.reclaim_expired(&app.code).await.expect("reclaim");
    let events = f.new_events(&mut c, 3).await;
    assert_eq!(
        sorted(events.iter().map(|e| e.kind).collect()),
        sorted(vec![BookingExpired, HoldCreated, WaitlistOffered])
    );
    let offered = events
        .iter()
        .find_map(|e| match &e.subject {
            EventSubject::Waitlist {
                code,
                status: WaitlistStatus::Offered,
                hold_id,
                ..
            } => Some((code.clone(), *hold_id)),
            _ => None,
        })
        .expect("an offer");
    assert_eq!(offered.0, w1.entry.code);
    let hold = events
        .iter()
        .find(|e| e.kind == HoldCreated)
        .expect("a hold");
    assert_eq!(Some(hold.subject_id()), offered.1.map(|h| h.0));
    assert!(events.iter().any(|e| matches!(
        e.subject,
        EventSubject::Booking { id, status: BookingStatus::Expired, .. } if id == x.id
    )));

    // The first place leaves (its offer passes to the second), then the second leaves too.
    f.sched.leave_waitlist(&w1.entry.code).await.expect("leave");
    assert_eq!(
        f.new_kinds(&mut c, 4).await,
        sorted(vec![
            HoldReleased,
            WaitlistLeft,
            HoldCreated,
            WaitlistOffered
        ])
    );
    f.sched.leave_waitlist(&w2.entry.code).await.expect("leave");
    assert_eq!(
        f.new_kinds(&mut c, 2).await,
        sorted(vec![HoldReleased, WaitlistLeft])
    );
}

/// A step that fails appends nothing: a full slot, a ban, a duplicate, a transition that is
/// not allowed, a stale edit.
pub async fn failed_changes_append_nothing<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Single, None, AntiScalping::Standard)
        .await;
    let b = f
        .guest(&app.code, at(7, 9), 1, "a@example.com")
        .await
        .expect("book");
    let mut c = EventCursor::START;
    f.new_events(&mut c, 2).await;

    assert_err!(
        f.guest(&app.code, at(7, 9), 1, "b@example.com").await,
        Error::SlotFull { .. }
    );
    assert_err!(
        f.guest(&app.code, at(7, 10), 1, "a@example.com").await,
        Error::Duplicate(_)
    );
    f.sched
        .ban(
            f.owner.id,
            crate::Email::parse("bad@example.com").expect("email"),
        )
        .await
        .expect("ban");
    assert_err!(
        f.guest(&app.code, at(7, 10), 1, "bad@example.com").await,
        Error::Banned
    );
    assert_err!(
        f.sched.confirm(f.owner.id, &b.code).await,
        Error::InvalidTransition { .. }
    );
    assert_err!(f.hold(&app.code, at(7, 9), 1).await, Error::SlotFull { .. });
    f.sched.cancel(&b.code).await.expect("cancel");
    assert_err!(
        f.sched.cancel(&b.code).await,
        Error::InvalidTransition { .. }
    );
    assert_err!(
        f.sched
            .update_appointment(
                f.owner.id,
                &app.code,
                AppointmentChanges {
                    title: Some("Stale".into()),
                    if_revision: Some(app.revision + 7),
                    ..AppointmentChanges::default()
                },
            )
            .await,
        Error::Changed(_)
    );
    assert_eq!(
        f.new_kinds(&mut c, 1).await,
        vec![EventKind::BookingCancelled],
        "only the cancel that happened is an event"
    );
}

/// Readers see their own owner's events only, pages join up, and a limit out of range is
/// refused.
pub async fn events_by_owner_and_page<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let other = f.user("Other", "other@example.com").await;
    let mine = f
        .appointment(AppointmentKind::Group, Some(5), AntiScalping::None)
        .await;
    let theirs = f
        .sched
        .create_appointment(
            other.id,
            crate::NewAppointment::group(
                "Theirs",
                5,
                super::fixture_schedule().build().expect("a schedule"),
            ),
        )
        .await
        .expect("create");
    for i in 0..4 {
        f.guest(&mine.code, at(7, 9), 1, &format!("m{i}@example.com"))
            .await
            .expect("book");
        f.guest(&theirs.code, at(7, 9), 1, &format!("t{i}@example.com"))
            .await
            .expect("book");
    }
    let mut c = EventCursor::START;
    let all = read_events(&f.sched, None, &mut c, 10).await;
    assert_eq!(all.len(), 10);
    let mut c = EventCursor::START;
    let own = read_events(&f.sched, Some(f.owner.id), &mut c, 5).await;
    assert_eq!(own.len(), 5);
    assert!(
        own.iter()
            .all(|e| e.owner == f.owner.id && e.appointment_id == mine.id)
    );
    let expected: Vec<_> = all
        .iter()
        .filter(|e| e.owner == f.owner.id)
        .cloned()
        .collect();
    assert_eq!(own, expected, "an owner's events are the outbox filtered");
    let one = f
        .sched
        .events(Some(other.id), EventCursor::START, 1)
        .await
        .expect("read");
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].kind, EventKind::AppointmentCreated);
    for bad in [0, crate::MAX_EVENT_PAGE + 1] {
        assert_err!(
            f.sched.events(None, EventCursor::START, bad).await,
            Error::InvalidInput { .. }
        );
    }
    let last = all.last().expect("events").cursor;
    assert!(
        f.sched
            .events(None, last, 10)
            .await
            .expect("read")
            .is_empty()
    );
}

/// Hundreds of bookings and cancels race on one slot while a reader follows the outbox from
/// its cursor: the reader sees every event exactly once and in an order that keeps each
/// booking's changes in sequence; the events are exactly the rows (one `booking.created` per
/// booking, one `booking.cancelled` per cancelled one) and failed attempts left none.
pub async fn race_events_match_rows<S: Store>(store: S) {
    let f = Arc::new(Fixture::new(store).await);
    let app = f
        .appointment(AppointmentKind::Group, Some(40), AntiScalping::None)
        .await;
    let start = at(7, 9);
    let writers = 160;
    // The follower learns how many events to expect once the writers are done.
    let (expect_tx, mut expect_rx) = tokio::sync::watch::channel(None::<usize>);
    let reader = {
        let f = f.clone();
        tokio::spawn(async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            let mut cursor = EventCursor::START;
            let mut seen: Vec<Event> = Vec::new();
            loop {
                let page = f.sched.events(None, cursor, 50).await.expect("read events");
                if let Some(last) = page.last() {
                    assert!(last.cursor > cursor, "cursors rise");
                    cursor = last.cursor;
                }
                let empty = page.is_empty();
                seen.extend(page);
                if !empty {
                    continue;
                }
                if let Some(n) = *expect_rx.borrow_and_update()
                    && seen.len() >= n
                {
                    return seen;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "the follower waited too long"
                );
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        })
    };
    let mut tasks = Vec::new();
    for i in 0..writers {
        let f = f.clone();
        let code = app.code.clone();
        tasks.push(tokio::spawn(async move {
            let b = f.guest(&code, start, 1, &format!("g{i}@example.com")).await;
            match b {
                Ok(b) if i % 3 == 0 => {
                    f.sched.cancel(&b.code).await.expect("cancel");
                    (1, 1)
                }
                Ok(_) => (1, 0),
                Err(Error::SlotFull { .. }) => (0, 0),
                Err(e) => panic!("unexpected {e:?}"),
            }
        }));
    }
    let (mut booked, mut cancelled) = (0, 0);
    for t in tasks {
        let (b, c) = t.await.expect("task");
        booked += b;
        cancelled += c;
    }
    let expected = 1 + booked + cancelled;
    expect_tx
        .send(Some(expected))
        .expect("the follower listens");
    let seen = reader.await.expect("reader");

    let mut all_cursor = EventCursor::START;
    let all = read_events(&f.sched, None, &mut all_cursor, expected).await;
    assert_eq!(all.len(), expected, "one event per change");
    assert_eq!(
        seen, all,
        "the follower saw every event once, in the outbox's order"
    );
    let rows = all_bookings(&f.sched, &app).await;
    assert_eq!(rows.len(), booked);
    assert!(booked >= 40, "at least the capacity was booked ({booked})");
    let count = |k: EventKind| all.iter().filter(|e| e.kind == k).count();
    assert_eq!(count(EventKind::BookingCreated), booked);
    assert_eq!(count(EventKind::BookingCancelled), cancelled);
    assert_eq!(
        rows.iter()
            .filter(|b| b.status == BookingStatus::Cancelled)
            .count(),
        cancelled
    );
    // Per booking: created, then (if it was) cancelled, and nothing for anyone else.
    let ids: HashSet<_> = rows.iter().map(|b| b.id.0).collect();
    let mut per: HashMap<uuid::Uuid, Vec<EventKind>> = HashMap::new();
    for e in all
        .iter()
        .filter(|e| e.kind != EventKind::AppointmentCreated)
    {
        assert!(ids.contains(&e.subject_id()), "an event without its row");
        per.entry(e.subject_id()).or_default().push(e.kind);
    }
    for b in &rows {
        let expected = if b.status == BookingStatus::Cancelled {
            vec![EventKind::BookingCreated, EventKind::BookingCancelled]
        } else {
            vec![EventKind::BookingCreated]
        };
        assert_eq!(per.get(&b.id.0), Some(&expected), "events of {}", b.code);
    }
    f.assert_counters_equal_facts(&app).await;
}
