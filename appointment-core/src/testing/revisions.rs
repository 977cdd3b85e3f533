//! Edits racing bookings and other edits: every claim of seats is decided on the appointment's
//! current revision (a replica with a stale cached appointment decides again on what is stored),
//! and concurrent edits never lose one another's changes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::TimeDelta;

use super::{Fixture, at, guest_booking};
use crate::{
    AntiScalping, AppointmentChanges, AppointmentKind, AppointmentStatus, AttendeeCount, Error,
    NewHold, Store,
};

fn close() -> AppointmentChanges {
    AppointmentChanges {
        status: Some(AppointmentStatus::Closed),
        ..AppointmentChanges::default()
    }
}

/// Another process (a scheduler with a long read cache) still holds the appointment as it was
/// before the owner closed it: its bookings, holds and reschedules are refused all the same,
/// because each claim names the revision it was decided on and the store refuses a stale one.
pub async fn a_stale_replica_cannot_book_a_closed_appointment<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(10), AntiScalping::None)
        .await;
    assert_eq!(app.revision, 0);
    let replica = f.cached(TimeDelta::hours(1));
    let b = replica
        .book(guest_booking(&app.code, at(7, 9), 1, "a@example.com"))
        .await
        .expect("book while open");
    let edit = f
        .sched
        .update_appointment(f.owner.id, &app.code, close())
        .await
        .expect("close");
    assert_eq!(edit.appointment.revision, 1);
    assert_err!(
        replica
            .book(guest_booking(&app.code, at(7, 9), 1, "b@example.com"))
            .await,
        Error::InvalidInput {
            field: "app_code",
            ..
        }
    );
    assert_err!(
        replica
            .hold(NewHold {
                app_code: app.code.clone(),
                slot_start: at(7, 10),
                seats: AttendeeCount::new(1).expect("one"),
            })
            .await,
        Error::InvalidInput {
            field: "app_code",
            ..
        }
    );
    assert_err!(
        replica
            .reschedule(
                &b.code,
                crate::Reschedule {
                    slot_start: at(7, 11),
                    attendee_count: None,
                }
            )
            .await,
        Error::InvalidInput {
            field: "app_code",
            ..
        }
    );
    assert_eq!(super::all_bookings(&f.sched, &app).await.len(), 1);
    // Reopened: a refusal on a stale cache is only ever conservative; the replica books again
    // once its cache has expired.
    f.sched
        .update_appointment(
            f.owner.id,
            &app.code,
            AppointmentChanges {
                status: Some(AppointmentStatus::Active),
                ..AppointmentChanges::default()
            },
        )
        .await
        .expect("reopen");
    f.clock.advance(TimeDelta::hours(1));
    replica
        .book(guest_booking(&app.code, at(7, 9), 1, "c@example.com"))
        .await
        .expect("open again");
    let stored = f.sched.appointment(&app.code).await.expect("read");
    assert_eq!(stored.revision, 2);
    f.assert_counters_equal_facts(&app).await;
}

/// 100 bookings race the owner closing the appointment: every booking that started after the
/// close returned is refused, and the counters equal the bookings that were made.
pub async fn race_bookings_and_close<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Party, Some(1000), AntiScalping::None)
        .await;
    let replica = f.cached(TimeDelta::hours(1));
    replica
        .appointment(&app.code)
        .await
        .expect("warm the cache");
    let closed = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(tokio::sync::Barrier::new(101));
    let mut handles = Vec::new();
    for i in 0..100 {
        let (sched, gate, closed) = (replica.clone(), barrier.clone(), closed.clone());
        let code = app.code.clone();
        handles.push(tokio::spawn(async move {
            gate.wait().await;
            tokio::task::yield_now().await;
            let after_close = closed.load(Ordering::SeqCst);
            let r = sched
                .book(guest_booking(
                    &code,
                    at(7, 9),
                    1,
                    &format!("r{i}@example.com"),
                ))
                .await;
            (after_close, r)
        }));
    }
    let (sched, gate, flag) = (f.sched.clone(), barrier.clone(), closed.clone());
    let (owner, code) = (f.owner.id, app.code.clone());
    let closer = tokio::spawn(async move {
        gate.wait().await;
        let r = sched.update_appointment(owner, &code, close()).await;
        flag.store(true, Ordering::SeqCst);
        r
    });
    let mut made = 0;
    for h in futures::future::join_all(handles).await {
        let (after_close, r) = h.expect("task");
        match r {
            Ok(_) => {
                assert!(!after_close, "a booking begun after the close succeeded");
                made += 1;
            }
            Err(Error::InvalidInput {
                field: "app_code", ..
            }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    closer.await.expect("task").expect("close");
    assert_eq!(super::all_bookings(&f.sched, &app).await.len(), made);
    assert_err!(
        replica
            .book(guest_booking(&app.code, at(7, 9), 1, "late@example.com"))
            .await,
        Error::InvalidInput {
            field: "app_code",
            ..
        }
    );
    f.assert_counters_equal_facts(&app).await;
}

/// 16 edits of different fields race: none is lost (each applies to the revision it read, or
/// is applied again to the one that won), and the revision counts them all.
pub async fn concurrent_edits_lose_nothing<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let app = f
        .appointment(AppointmentKind::Group, Some(10), AntiScalping::None)
        .await;
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let mut handles = Vec::new();
    for i in 0..16u32 {
        let (sched, gate, owner, code) = (
            f.sched.clone(),
            barrier.clone(),
            f.owner.id,
            app.code.clone(),
        );
        handles.push(tokio::spawn(async move {
            gate.wait().await;
            let changes = match i % 4 {
                0 => AppointmentChanges {
                    title: Some(format!("Title {i}")),
                    ..AppointmentChanges::default()
                },
                1 => AppointmentChanges {
                    description: Some(format!("Description {i}")),
                    ..AppointmentChanges::default()
                },
                2 => AppointmentChanges {
                    min_notice_minutes: Some(60 + i),
                    ..AppointmentChanges::default()
                },
                _ => AppointmentChanges {
                    hold_minutes: Some(20 + i),
                    ..AppointmentChanges::default()
                },
            };
            sched.update_appointment(owner, &code, changes).await
        }));
    }
    for h in futures::future::join_all(handles).await {
        h.expect("task").expect("every edit applies");
    }
    let now = f.sched.appointment(&app.code).await.expect("read");
    assert_eq!(now.revision, 16);
    assert!(now.title.starts_with("Title "), "{}", now.title);
    assert!(
        now.description.starts_with("Description "),
        "{}",
        now.description
    );
    assert!(now.schedule.min_notice_minutes() >= 60);
    assert!(now.schedule.hold_minutes() >= 20);
    // An edit made from what an editor saw applies only to that revision.
    let from = |rev: u64| AppointmentChanges {
        title: Some("Seen".into()),
        if_revision: Some(rev),
        ..AppointmentChanges::default()
    };
    assert_err!(
        f.sched
            .update_appointment(f.owner.id, &app.code, from(3))
            .await,
        Error::Changed(crate::Entity::Appointment)
    );
    let same = f.sched.appointment(&app.code).await.expect("read");
    assert_eq!((same.revision, &same.title), (16, &now.title));
    let edit = f
        .sched
        .update_appointment(f.owner.id, &app.code, from(16))
        .await
        .expect("the current revision");
    assert_eq!(
        (edit.appointment.revision, edit.appointment.title.as_str()),
        (17, "Seen")
    );
}
