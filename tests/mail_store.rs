//! What email keeps, on every store: the mail cursor moved by one replica at a time together
//! with the messages it makes; one message per (key, role); messages claimed under a lease, one
//! (recipient, subject)'s in order, never twice at once however many claimers race; reminders
//! due later; outcomes that end a message or retry it; pruning of finished messages, and of
//! outbox events only once both the webhook and the mail cursor passed them.

mod sql_support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use appointment_core::testing::new_user;
use appointment_core::{EventCursor, Scheduler, UserId};
use appointment_master::store::{
    MailAttempt, MailRecord, MailStatus, MemoryStore, NewMail, ServiceStore, SqliteStore,
};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

const GUEST: &str = "guest@example.com";
const OWNER: &str = "owner@example.com";

fn t(s: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
        .single()
        .expect("an instant")
        + TimeDelta::seconds(s)
}

/// A message for `key` and `role` to `recipient` about `subject`, made at `made` and due at
/// `due`.
fn mail_at(key: Uuid, role: &str, recipient: &str, subject: Uuid, made: i64, due: i64) -> NewMail {
    NewMail {
        id: Uuid::new_v4(),
        key,
        role: role.to_owned(),
        kind: "booking.created".to_owned(),
        recipient: recipient.to_owned(),
        subject_id: subject,
        message: format!("Subject: made at {made}\r\n\r\nfor {role}"),
        due_at: t(due),
        created_at: t(made),
    }
}

/// A message due as soon as it is made.
fn mail(key: Uuid, role: &str, recipient: &str, subject: Uuid, made: i64) -> NewMail {
    mail_at(key, role, recipient, subject, made, made)
}

fn outcome(status: MailStatus, at: i64, next: Option<i64>, error: Option<&str>) -> MailAttempt {
    MailAttempt {
        status,
        next_attempt_at: next.map(t),
        error: error.map(str::to_owned),
        at: t(at),
    }
}

fn sent(at: i64) -> MailAttempt {
    outcome(MailStatus::Sent, at, None, None)
}

/// The ids and attempt numbers of a claim, in the order it answered them.
fn claimed(got: &[appointment_master::store::DueMail]) -> Vec<(Uuid, u32)> {
    got.iter().map(|m| (m.id, m.attempt)).collect()
}

async fn status_of<S: ServiceStore>(store: &S, m: &NewMail) -> MailRecord {
    store
        .mail_for(m.key)
        .await
        .expect("mail_for")
        .into_iter()
        .find(|r| r.id == m.id)
        .expect("the message is kept")
}

async fn contract<S: ServiceStore>(store: S) {
    let subject = Uuid::new_v4();
    let (k1, k2) = (Uuid::new_v4(), Uuid::new_v4());
    let m1 = mail(k1, "guest", GUEST, subject, 10);
    let m1_owner = mail(k1, "owner", OWNER, subject, 10);
    let m2 = mail(k2, "guest", GUEST, subject, 11);

    // The cursor moves once from a given place, with the messages; a stale move writes nothing.
    assert_eq!(
        store.mail_cursor().await.expect("cursor"),
        EventCursor::START
    );
    let to = EventCursor { tx: 0, seq: 7 };
    assert!(
        store
            .enqueue_mail(
                EventCursor::START,
                to,
                &[m1.clone(), m1_owner.clone(), m2.clone()]
            )
            .await
            .expect("enqueue")
    );
    let lost = mail(Uuid::new_v4(), "guest", GUEST, Uuid::new_v4(), 12);
    assert!(
        !store
            .enqueue_mail(
                EventCursor::START,
                EventCursor { tx: 0, seq: 9 },
                std::slice::from_ref(&lost)
            )
            .await
            .expect("enqueue"),
        "a second enqueue from the same cursor loses"
    );
    assert_eq!(store.mail_cursor().await.expect("cursor"), to);
    assert!(
        store.mail_for(lost.key).await.expect("mail_for").is_empty(),
        "the losing enqueue wrote nothing"
    );

    // One message per key and role, whether enqueued again or inserted.
    let mut again = mail(k1, "guest", "someone@example.com", subject, 13);
    again.message = "another rendering".into();
    let to2 = EventCursor { tx: 0, seq: 8 };
    assert!(
        store
            .enqueue_mail(to, to2, std::slice::from_ref(&again))
            .await
            .expect("enqueue")
    );
    again.id = Uuid::new_v4();
    assert!(!store.insert_mail(&again).await.expect("insert again"));
    let records = store.mail_for(k1).await.expect("mail_for");
    assert_eq!(
        records,
        vec![
            MailRecord {
                id: m1.id,
                key: k1,
                role: "guest".into(),
                kind: "booking.created".into(),
                recipient: GUEST.into(),
                status: MailStatus::Pending,
                attempts: 0,
                next_attempt_at: Some(t(10)),
                last_error: None,
                created_at: t(10),
            },
            MailRecord {
                id: m1_owner.id,
                key: k1,
                role: "owner".into(),
                kind: "booking.created".into(),
                recipient: OWNER.into(),
                status: MailStatus::Pending,
                attempts: 0,
                next_attempt_at: Some(t(10)),
                last_error: None,
                created_at: t(10),
            },
        ],
        "the first message of a key and role is kept as it was, oldest first"
    );
    // Another subject of the same recipient, added outside the outbox.
    let other_subject = mail(Uuid::new_v4(), "guest", GUEST, Uuid::new_v4(), 12);
    assert!(store.insert_mail(&other_subject).await.expect("insert"));
    assert_eq!(
        store.mail_backlog(t(20)).await.expect("backlog"),
        (4, Some(t(10)))
    );

    // Oldest first, at most `limit`; m2 waits for m1 (same recipient and subject), the owner's
    // message (another recipient) and the other subject's do not.
    let first = store.claim_mail(t(20), t(50), 2).await.expect("claim");
    assert_eq!(claimed(&first), vec![(m1.id, 1), (m1_owner.id, 1)]);
    assert_eq!(first[0].message, m1.message);
    assert_eq!(
        (first[0].key, first[0].role.as_str(), first[0].kind.as_str()),
        (k1, "guest", "booking.created")
    );
    assert_eq!(first[0].recipient, GUEST);
    let second = store.claim_mail(t(21), t(50), 10).await.expect("claim");
    assert_eq!(claimed(&second), vec![(other_subject.id, 1)]);
    assert!(
        store
            .claim_mail(t(22), t(50), 10)
            .await
            .expect("claim")
            .is_empty(),
        "m1 is leased: nothing else of its subject goes"
    );
    store
        .finish_mail(m1_owner.id, 1, &sent(23))
        .await
        .expect("finish");
    store
        .finish_mail(
            other_subject.id,
            1,
            &outcome(MailStatus::Skipped, 24, None, Some("booking cancelled")),
        )
        .await
        .expect("finish");
    let skipped = status_of(&store, &other_subject).await;
    assert_eq!(
        (skipped.status, skipped.attempts, skipped.next_attempt_at),
        (MailStatus::Skipped, 1, None)
    );
    assert_eq!(skipped.last_error.as_deref(), Some("booking cancelled"));

    // The lease runs out: m1 is claimed again (attempt 2), and attempt 1's late outcome is
    // ignored.
    let retaken = store.claim_mail(t(50), t(80), 10).await.expect("claim");
    assert_eq!(claimed(&retaken), vec![(m1.id, 2)]);
    store
        .finish_mail(m1.id, 1, &sent(51))
        .await
        .expect("finish");
    let r = status_of(&store, &m1).await;
    assert_eq!((r.status, r.attempts), (MailStatus::Pending, 2));
    // Attempt 2 fails with a retry: m1 is not due until then, and m2 still waits for it.
    store
        .finish_mail(
            m1.id,
            2,
            &outcome(MailStatus::Pending, 52, Some(100), Some("421 try later")),
        )
        .await
        .expect("finish");
    let r = status_of(&store, &m1).await;
    assert_eq!(
        (r.status, r.attempts, r.next_attempt_at),
        (MailStatus::Pending, 2, Some(t(100)))
    );
    assert_eq!(r.last_error.as_deref(), Some("421 try later"));
    assert!(
        store
            .claim_mail(t(99), t(120), 10)
            .await
            .expect("claim")
            .is_empty(),
        "m1 retries later; m2 waits for it"
    );
    assert_eq!(
        store.mail_backlog(t(99)).await.expect("backlog"),
        (1, Some(t(11))),
        "m2 is due; m1 is not due until its retry"
    );
    let third = store.claim_mail(t(100), t(130), 10).await.expect("claim");
    assert_eq!(claimed(&third), vec![(m1.id, 3)]);
    store
        .finish_mail(
            m1.id,
            3,
            &outcome(MailStatus::Failed, 101, None, Some("550 no such user")),
        )
        .await
        .expect("finish");
    // A failed message ends: the next of its subject goes.
    let next = store.claim_mail(t(102), t(130), 10).await.expect("claim");
    assert_eq!(claimed(&next), vec![(m2.id, 1)]);
    store
        .finish_mail(m2.id, 1, &sent(103))
        .await
        .expect("finish");
    // A finished message takes no outcome any more.
    store
        .finish_mail(
            m2.id,
            1,
            &outcome(MailStatus::Failed, 104, None, Some("late")),
        )
        .await
        .expect("finish");
    let records = store.mail_for(k1).await.expect("mail_for");
    assert_eq!(
        records
            .iter()
            .map(|r| (
                r.id,
                r.status,
                r.attempts,
                r.next_attempt_at,
                r.last_error.as_deref()
            ))
            .collect::<Vec<_>>(),
        vec![
            (m1.id, MailStatus::Failed, 3, None, Some("550 no such user")),
            (m1_owner.id, MailStatus::Sent, 1, None, None),
        ]
    );
    let r2 = status_of(&store, &m2).await;
    assert_eq!((r2.status, r2.attempts), (MailStatus::Sent, 1));
    assert_eq!(
        store.mail_backlog(t(104)).await.expect("backlog"),
        (0, None)
    );

    // A reminder due later is neither claimed nor backlog until then, and holds back no message
    // of its subject made after it.
    let reminder = mail_at(Uuid::new_v4(), "guest", GUEST, subject, 105, 500);
    assert!(store.insert_mail(&reminder).await.expect("insert"));
    let m5 = mail(Uuid::new_v4(), "guest", GUEST, subject, 106);
    assert!(store.insert_mail(&m5).await.expect("insert"));
    assert_eq!(
        store.mail_backlog(t(110)).await.expect("backlog"),
        (1, Some(t(106)))
    );
    let got = store.claim_mail(t(110), t(140), 10).await.expect("claim");
    assert_eq!(claimed(&got), vec![(m5.id, 1)]);
    store
        .finish_mail(m5.id, 1, &sent(111))
        .await
        .expect("finish");
    assert!(
        store
            .claim_mail(t(499), t(530), 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(
        store.mail_backlog(t(499)).await.expect("backlog"),
        (0, None)
    );
    assert_eq!(
        store.mail_backlog(t(500)).await.expect("backlog"),
        (1, Some(t(500)))
    );
    let due = store.claim_mail(t(500), t(530), 10).await.expect("claim");
    assert_eq!(claimed(&due), vec![(reminder.id, 1)]);
    store
        .finish_mail(
            reminder.id,
            1,
            &outcome(MailStatus::Skipped, 501, None, Some("no longer applies")),
        )
        .await
        .expect("finish");

    // A reminder that comes due while a later message of its subject is leased waits for it.
    let reminder2 = mail_at(Uuid::new_v4(), "guest", GUEST, subject, 580, 600);
    assert!(store.insert_mail(&reminder2).await.expect("insert"));
    let m6 = mail(Uuid::new_v4(), "guest", GUEST, subject, 581);
    assert!(store.insert_mail(&m6).await.expect("insert"));
    let got = store.claim_mail(t(590), t(700), 10).await.expect("claim");
    assert_eq!(claimed(&got), vec![(m6.id, 1)]);
    assert!(
        store
            .claim_mail(t(600), t(700), 10)
            .await
            .expect("claim")
            .is_empty(),
        "one message of a (recipient, subject) at a time"
    );
    store
        .finish_mail(m6.id, 1, &sent(601))
        .await
        .expect("finish");
    let got = store.claim_mail(t(602), t(700), 10).await.expect("claim");
    assert_eq!(claimed(&got), vec![(reminder2.id, 1)]);
    store
        .finish_mail(reminder2.id, 1, &sent(603))
        .await
        .expect("finish");

    // Finished messages are pruned by age; a pending one never is.
    let far = mail_at(Uuid::new_v4(), "guest", GUEST, Uuid::new_v4(), 1, 10_000);
    assert!(store.insert_mail(&far).await.expect("insert"));
    assert_eq!(
        store.prune_mail_before(t(11)).await.expect("prune"),
        2,
        "m1 and the owner's message (made at 10)"
    );
    assert!(store.mail_for(k1).await.expect("mail_for").is_empty());
    assert_eq!(status_of(&store, &m2).await.status, MailStatus::Sent);
    assert_eq!(store.prune_mail_before(t(1000)).await.expect("prune"), 6);
    assert!(store.mail_for(m2.key).await.expect("mail_for").is_empty());
    assert_eq!(status_of(&store, &far).await.status, MailStatus::Pending);
    assert_eq!(store.prune_mail_before(t(20_000)).await.expect("prune"), 0);
    assert_eq!(
        store.mail_backlog(t(10_000)).await.expect("backlog"),
        (1, Some(t(10_000)))
    );
}

/// Claimers race: first, eight single claims at once over 100 messages of distinct subjects
/// share them out without overlap; then, over 300 messages (30 subjects of 10), claimers that
/// claim and send until nothing is left claim every message once, and a subject's messages only
/// one after the other.
async fn racing_claims<S: ServiceStore + 'static>(store: S) {
    let store = Arc::new(store);

    let spread: Vec<NewMail> = (0..100)
        .map(|i| mail(Uuid::new_v4(), "guest", GUEST, Uuid::new_v4(), i))
        .collect();
    assert!(
        store
            .enqueue_mail(EventCursor::START, EventCursor { tx: 0, seq: 1 }, &spread)
            .await
            .expect("enqueue")
    );
    let start = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (store, start) = (store.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            store.claim_mail(t(1000), t(5000), 20).await.expect("claim")
        }));
    }
    let mut once = Vec::new();
    for task in tasks {
        once.extend(task.await.expect("claimer"));
    }
    let ids: HashSet<Uuid> = once.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), once.len(), "no message claimed twice in a lease");
    assert!(once.iter().all(|m| m.attempt == 1));
    let rest = store
        .claim_mail(t(1001), t(5000), 200)
        .await
        .expect("claim");
    assert!(rest.iter().all(|m| !ids.contains(&m.id)));
    assert_eq!(once.len() + rest.len(), 100, "every message claimed");
    for m in once.iter().chain(&rest) {
        store
            .finish_mail(m.id, 1, &sent(1002))
            .await
            .expect("finish");
    }

    let subjects: Vec<(Uuid, &str)> = (0..30)
        .map(|i| (Uuid::new_v4(), if i % 2 == 0 { GUEST } else { OWNER }))
        .collect();
    let all: Vec<NewMail> = (0..300)
        .map(|i| {
            let (subject, to) = subjects[i % 30];
            mail(
                Uuid::new_v4(),
                "guest",
                to,
                subject,
                2000 + i64::try_from(i).expect("small"),
            )
        })
        .collect();
    assert!(
        store
            .enqueue_mail(
                EventCursor { tx: 0, seq: 1 },
                EventCursor { tx: 0, seq: 2 },
                &all
            )
            .await
            .expect("enqueue")
    );
    // Claims in the order they were made, across claimers: a subject's next message can be
    // claimed only after its previous one was finished, which is after it was recorded here.
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let order = order.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store.claim_mail(t(3000), t(9000), 7).await.expect("claim");
                if got.is_empty() {
                    // Nothing free for this claimer: the others hold the heads of every subject,
                    // or everything is sent.
                    let (left, _) = store.mail_backlog(t(3000)).await.expect("backlog");
                    if left == 0 {
                        return mine;
                    }
                    tokio::task::yield_now().await;
                    continue;
                }
                order.lock().expect("lock").extend(got.iter().map(|m| m.id));
                for m in got {
                    assert_eq!(m.attempt, 1);
                    store
                        .finish_mail(m.id, m.attempt, &sent(3001))
                        .await
                        .expect("finish");
                    mine.push(m.id);
                }
            }
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.expect("claimer"));
    }
    let unique: HashSet<Uuid> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), 300, "every message claimed once");
    assert_eq!(unique.len(), 300);
    let by_id: HashMap<Uuid, (Uuid, DateTime<Utc>)> = all
        .iter()
        .map(|m| (m.id, (m.subject_id, m.created_at)))
        .collect();
    let mut last: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for id in order.lock().expect("lock").iter() {
        let (subject, at) = by_id[id];
        if let Some(prev) = last.insert(subject, at) {
            assert!(prev < at, "a subject's messages are claimed in order");
        }
    }
    for m in &all {
        let r = status_of(&*store, m).await;
        assert_eq!((r.status, r.attempts), (MailStatus::Sent, 1));
    }
}

async fn owner<S: ServiceStore>(store: &Arc<S>, email: &str) -> UserId {
    Scheduler::from_arc(store.clone())
        .register_user(new_user("Owner", email, None))
        .await
        .expect("register")
        .id
}

/// An outbox event goes only once both the webhook and the mail cursor passed it.
async fn pruning_events_waits_for_both_cursors<S: ServiceStore>(store: S) {
    let store = Arc::new(store);
    let sched = Scheduler::from_arc(store.clone());
    let ann = owner(&store, "ann@example.com").await;
    let schedule = appointment_core::testing::fixture_schedule()
        .build()
        .expect("a schedule");
    sched
        .create_appointment(
            ann,
            appointment_core::NewAppointment::single("One", schedule),
        )
        .await
        .expect("create");
    let mut cursor = EventCursor::START;
    let events = appointment_core::testing::cases::read_events(&sched, None, &mut cursor, 1).await;
    assert_eq!(events.len(), 1);
    let later = sched.now() + TimeDelta::hours(1);
    assert!(
        store
            .enqueue_mail(EventCursor::START, cursor, &[])
            .await
            .expect("make mail")
    );
    assert_eq!(
        store.prune_before(later).await.expect("prune"),
        (0, 0),
        "made into mail but not fanned out to webhooks: kept"
    );
    assert!(
        store
            .enqueue_deliveries(EventCursor::START, cursor, &[])
            .await
            .expect("fan out")
    );
    assert_eq!(store.prune_before(later).await.expect("prune"), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_mail_store() {
    contract(MemoryStore::new()).await;
    racing_claims(MemoryStore::new()).await;
    pruning_events_waits_for_both_cursors(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_mail_store() {
    let open = || async {
        SqliteStore::connect(&sql_support::fresh_sqlite_url())
            .await
            .expect("open")
    };
    contract(open().await).await;
    racing_claims(open().await).await;
    pruning_events_waits_for_both_cursors(open().await).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_mail_store() {
    use appointment_master::store::PostgresStore;
    for case in 0..3 {
        let Some(url) = sql_support::fresh_postgres_url().await else {
            return;
        };
        let store = PostgresStore::connect(&url).await.expect("open");
        match case {
            0 => contract(store).await,
            1 => racing_claims(store).await,
            _ => pruning_events_waits_for_both_cursors(store).await,
        }
    }
}
