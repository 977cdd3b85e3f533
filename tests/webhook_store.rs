//! What webhooks keep, on every store: endpoints per owner; the fan-out cursor moved by one
//! replica at a time; deliveries claimed under a lease, one subject's in order, never twice at
//! once however many claimers race; outcomes that mark an endpoint failing and working again.

mod sql_support;

use std::collections::HashSet;
use std::sync::Arc;

use appointment_core::testing::new_user;
use appointment_core::{EventCursor, Page, Scheduler, UserId};
use appointment_master::store::{
    DeliveryAttempt, DeliveryStatus, MemoryStore, NewDelivery, ServiceStore, SqliteStore,
    WebhookEndpoint,
};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

fn t(s: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0)
        .single()
        .expect("an instant")
        + TimeDelta::seconds(s)
}

async fn owner<S: ServiceStore>(store: &Arc<S>, mail: &str) -> UserId {
    Scheduler::from_arc(store.clone())
        .register_user(new_user("Owner", mail, None))
        .await
        .expect("register")
        .id
}

fn endpoint(owner: UserId, types: &[&str]) -> WebhookEndpoint {
    WebhookEndpoint {
        id: Uuid::new_v4(),
        owner,
        url: "https://hooks.example.com/in".into(),
        event_types: types.iter().map(|s| (*s).to_owned()).collect(),
        description: "Front desk".into(),
        secret: "whsec_c2VjcmV0".into(),
        enabled: true,
        failing_since: None,
        last_error: None,
        created_at: t(0),
        updated_at: t(0),
    }
}

fn delivery(endpoint: Uuid, subject: Uuid, at: i64) -> NewDelivery {
    NewDelivery {
        id: Uuid::new_v4(),
        endpoint_id: endpoint,
        event_id: Uuid::new_v4(),
        event_type: "booking.created".into(),
        subject_id: subject,
        payload: format!("{{\"n\":{at}}}"),
        created_at: t(at),
    }
}

fn outcome(status: DeliveryStatus, at: i64, next: Option<i64>) -> DeliveryAttempt {
    DeliveryAttempt {
        status,
        next_attempt_at: next.map(t),
        status_code: Some(if status == DeliveryStatus::Delivered {
            204
        } else {
            500
        }),
        error: (status != DeliveryStatus::Delivered).then(|| "HTTP 500".to_owned()),
        latency_ms: 12,
        at: t(at),
    }
}

async fn contract<S: ServiceStore>(store: S) {
    let store = Arc::new(store);
    let ann = owner(&store, "ann@example.com").await;
    let bob = owner(&store, "bob@example.com").await;
    let e = endpoint(ann, &[]);
    store.insert_webhook(&e).await.expect("insert");
    let other = endpoint(bob, &["booking.cancelled"]);
    store.insert_webhook(&other).await.expect("insert");
    assert_eq!(store.webhooks(ann).await.expect("list"), vec![e.clone()]);
    assert!(store.webhook(bob, e.id).await.expect("read").is_none());
    let mut changed = e.clone();
    changed.url = "https://hooks.example.com/v2".into();
    changed.event_types = vec!["booking.created".into(), "booking.cancelled".into()];
    changed.updated_at = t(5);
    assert!(store.update_webhook(&changed).await.expect("update"));
    assert_eq!(
        store.webhook(ann, e.id).await.expect("read"),
        Some(changed.clone())
    );
    let mut foreign = changed.clone();
    foreign.owner = bob;
    assert!(!store.update_webhook(&foreign).await.expect("update"));

    // The fan-out cursor moves once from a given place.
    assert_eq!(
        store.webhook_cursor().await.expect("cursor"),
        EventCursor::START
    );
    let subject = Uuid::new_v4();
    let (d1, d2) = (delivery(e.id, subject, 10), delivery(e.id, subject, 11));
    let to = EventCursor { tx: 0, seq: 7 };
    assert!(
        store
            .enqueue_deliveries(EventCursor::START, to, &[d1.clone(), d2.clone()])
            .await
            .expect("enqueue")
    );
    assert!(
        !store
            .enqueue_deliveries(EventCursor::START, EventCursor { tx: 0, seq: 9 }, &[])
            .await
            .expect("enqueue"),
        "a second fan-out from the same cursor loses"
    );
    assert_eq!(store.webhook_cursor().await.expect("cursor"), to);
    // The same event for the same endpoint is one delivery.
    store.insert_delivery(&d1).await.expect("insert again");
    assert_eq!(
        store.delivery_backlog().await.expect("backlog"),
        (2, Some(t(10)))
    );

    // One subject's deliveries go one at a time, in order; a lease keeps a claim.
    let claimed = store
        .claim_deliveries(t(20), t(50), 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].id, claimed[0].attempt), (d1.id, 1));
    assert_eq!(claimed[0].secret, changed.secret);
    assert_eq!(claimed[0].url, changed.url);
    assert!(
        store
            .claim_deliveries(t(21), t(50), 10)
            .await
            .expect("claim")
            .is_empty()
    );
    // The lease runs out: claimed again (attempt 2), and attempt 1's late outcome is ignored.
    let again = store
        .claim_deliveries(t(50), t(80), 10)
        .await
        .expect("claim");
    assert_eq!((again.len(), again[0].attempt), (1, 2));
    store
        .finish_delivery(d1.id, 1, &outcome(DeliveryStatus::Delivered, 51, None))
        .await
        .expect("finish");
    let log = store
        .deliveries(e.id, Page::new(1, 10).expect("page"))
        .await
        .expect("log");
    assert_eq!(log.total, 2);
    let first = log.items.iter().find(|r| r.id == d1.id).expect("d1");
    assert_eq!((first.status, first.attempts), (DeliveryStatus::Pending, 2));
    // Attempt 2 fails with a retry; then it fails for good: the endpoint is failing.
    store
        .finish_delivery(d1.id, 2, &outcome(DeliveryStatus::Pending, 52, Some(100)))
        .await
        .expect("finish");
    assert!(
        store
            .claim_deliveries(t(99), t(120), 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let third = store
        .claim_deliveries(t(100), t(130), 10)
        .await
        .expect("claim");
    assert_eq!((third[0].id, third[0].attempt), (d1.id, 3));
    store
        .finish_delivery(d1.id, 3, &outcome(DeliveryStatus::Failed, 101, None))
        .await
        .expect("finish");
    let failing = store
        .webhook(ann, e.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(failing.failing_since, Some(t(101)));
    assert_eq!(failing.last_error.as_deref(), Some("HTTP 500"));
    // The next delivery of the subject is free now; delivered, the endpoint works again.
    let next = store
        .claim_deliveries(t(102), t(130), 10)
        .await
        .expect("claim");
    assert_eq!(next.iter().map(|d| d.id).collect::<Vec<_>>(), vec![d2.id]);
    store
        .finish_delivery(d2.id, 1, &outcome(DeliveryStatus::Delivered, 103, None))
        .await
        .expect("finish");
    assert_eq!(
        store
            .webhook(ann, e.id)
            .await
            .expect("read")
            .expect("there")
            .failing_since,
        None
    );
    let log = store
        .deliveries(e.id, Page::new(1, 10).expect("page"))
        .await
        .expect("log");
    assert_eq!(
        log.items
            .iter()
            .map(|r| (r.id, r.status))
            .collect::<Vec<_>>(),
        vec![
            (d2.id, DeliveryStatus::Delivered),
            (d1.id, DeliveryStatus::Failed)
        ],
        "newest first"
    );
    assert_eq!(log.items[0].last_status_code, Some(204));
    assert_eq!(log.items[0].last_latency_ms, Some(12));
    assert_eq!(store.delivery_backlog().await.expect("backlog"), (0, None));

    // A disabled endpoint's deliveries wait; deleting it removes them.
    let mut off = store
        .webhook(bob, other.id)
        .await
        .expect("read")
        .expect("there");
    off.enabled = false;
    assert!(store.update_webhook(&off).await.expect("disable"));
    store
        .insert_delivery(&delivery(other.id, Uuid::new_v4(), 200))
        .await
        .expect("insert");
    assert!(
        store
            .claim_deliveries(t(300), t(330), 10)
            .await
            .expect("claim")
            .is_empty()
    );
    // Finished deliveries are pruned by age; a pending one never is.
    assert_eq!(store.prune_before(t(11)).await.expect("prune"), (0, 1));
    assert_eq!(store.prune_before(t(1000)).await.expect("prune"), (0, 1));
    assert_eq!(store.delivery_backlog().await.expect("backlog").0, 1);
    assert!(store.delete_webhook(bob, other.id).await.expect("delete"));
    assert!(!store.delete_webhook(bob, other.id).await.expect("delete"));
    assert_eq!(store.delivery_backlog().await.expect("backlog"), (0, None));
}

/// Claimers race over 300 due deliveries (30 subjects of 10): every delivery is claimed once,
/// and never while an earlier one of its subject is pending.
async fn racing_claims<S: ServiceStore>(store: S) {
    let store = Arc::new(store);
    let ann = owner(&store, "ann@example.com").await;
    let e = endpoint(ann, &[]);
    store.insert_webhook(&e).await.expect("insert");
    let subjects: Vec<Uuid> = (0..30).map(|_| Uuid::new_v4()).collect();
    let all: Vec<NewDelivery> = (0..300)
        .map(|i| delivery(e.id, subjects[i % 30], i64::try_from(i).expect("small")))
        .collect();
    assert!(
        store
            .enqueue_deliveries(EventCursor::START, EventCursor { tx: 0, seq: 300 }, &all)
            .await
            .expect("enqueue")
    );
    // Claims in the order they were made, across claimers: a subject's next delivery can be
    // claimed only after its previous one was finished, which is after it was recorded here.
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let order = order.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_deliveries(t(1000), t(5000), 7)
                    .await
                    .expect("claim");
                if got.is_empty() {
                    // Nothing due for this claimer: the others hold the heads of every subject
                    // or everything is delivered.
                    let (left, _) = store.delivery_backlog().await.expect("backlog");
                    if left == 0 {
                        return mine;
                    }
                    tokio::task::yield_now().await;
                    continue;
                }
                order.lock().expect("lock").extend(got.iter().map(|d| d.id));
                for d in got {
                    store
                        .finish_delivery(
                            d.id,
                            d.attempt,
                            &outcome(DeliveryStatus::Delivered, 1001, None),
                        )
                        .await
                        .expect("finish");
                    mine.push(d.id);
                }
            }
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.expect("claimer"));
    }
    let unique: HashSet<Uuid> = claimed.iter().copied().collect();
    assert_eq!(claimed.len(), 300, "every delivery claimed once");
    assert_eq!(unique.len(), 300);
    let by_id: std::collections::HashMap<Uuid, (Uuid, DateTime<Utc>)> = all
        .iter()
        .map(|d| (d.id, (d.subject_id, d.created_at)))
        .collect();
    let mut last: std::collections::HashMap<Uuid, DateTime<Utc>> = std::collections::HashMap::new();
    for id in order.lock().expect("lock").iter() {
        let (subject, at) = by_id[id];
        if let Some(prev) = last.insert(subject, at) {
            assert!(prev < at, "a subject's deliveries are claimed in order");
        }
    }
    for page in 1..=3 {
        let log = store
            .deliveries(e.id, Page::new(page, 100).expect("page"))
            .await
            .expect("log");
        assert_eq!(log.items.len(), 100);
        assert!(
            log.items
                .iter()
                .all(|r| r.status == DeliveryStatus::Delivered && r.attempts == 1)
        );
    }
}

/// Old events go once they were fanned out and made into mail (not before: both cursors must
/// pass them), and the outbox's order goes on after them.
async fn pruning_events<S: ServiceStore>(store: S) {
    let store = Arc::new(store);
    let sched = Scheduler::from_arc(store.clone());
    let ann = owner(&store, "ann@example.com").await;
    let schedule = appointment_core::testing::fixture_schedule()
        .build()
        .expect("a schedule");
    sched
        .create_appointment(
            ann,
            appointment_core::NewAppointment::single("One", schedule.clone()),
        )
        .await
        .expect("create");
    let mut cursor = EventCursor::START;
    let first = appointment_core::testing::cases::read_events(&sched, None, &mut cursor, 1).await;
    let later = sched.now() + TimeDelta::hours(1);
    assert_eq!(
        store.prune_before(later).await.expect("prune"),
        (0, 0),
        "not fanned out yet: kept"
    );
    assert!(
        store
            .enqueue_deliveries(EventCursor::START, cursor, &[])
            .await
            .expect("fan out")
    );
    assert_eq!(
        store.prune_before(later).await.expect("prune"),
        (0, 0),
        "fanned out but not made into mail yet: kept"
    );
    assert!(
        store
            .enqueue_mail(EventCursor::START, cursor, &[])
            .await
            .expect("make mail")
    );
    assert_eq!(store.prune_before(later).await.expect("prune"), (1, 0));
    sched
        .create_appointment(
            ann,
            appointment_core::NewAppointment::single("Two", schedule),
        )
        .await
        .expect("create");
    let mut again = EventCursor::START;
    let rest = appointment_core::testing::cases::read_events(&sched, None, &mut again, 1).await;
    assert_eq!(rest.len(), 1, "the pruned event is gone");
    assert!(rest[0].cursor > first[0].cursor, "the order goes on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_webhook_store() {
    contract(MemoryStore::new()).await;
    racing_claims(MemoryStore::new()).await;
    pruning_events(MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_webhook_store() {
    let open = || async {
        SqliteStore::connect(&sql_support::fresh_sqlite_url())
            .await
            .expect("open")
    };
    contract(open().await).await;
    racing_claims(open().await).await;
    pruning_events(open().await).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_webhook_store() {
    use appointment_master::store::PostgresStore;
    for case in 0..3 {
        let Some(url) = sql_support::fresh_postgres_url().await else {
            return;
        };
        let store = PostgresStore::connect(&url).await.expect("open");
        match case {
            0 => contract(store).await,
            1 => racing_claims(store).await,
            _ => pruning_events(store).await,
        }
    }
}
