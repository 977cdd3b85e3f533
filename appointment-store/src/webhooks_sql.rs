//! The webhook methods of [`ServiceStore`](crate::ServiceStore), once for both SQL backends.

use appointment_core::{EventCursor, Page, Paged, Result, UserId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::sql_common::{ReadRow, corrupt, db_error, to_count, to_u32};
use crate::sql_store::{Arg, Conn, SqlBackend, paged, rows_to};
use crate::webhooks::{
    DeliveryAttempt, DeliveryRecord, DeliveryStatus, DueDelivery, NewDelivery, WebhookEndpoint,
};

macro_rules! endpoint_cols {
    () => {
        "id, owner_id, url, event_types, description, secret, enabled, failing_since, \
         last_error, created_at, updated_at"
    };
}

const INSERT_ENDPOINT: &str = concat!(
    "INSERT INTO webhook_endpoints (",
    endpoint_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
);
const OWNER_ENDPOINTS: &str = concat!(
    "SELECT ",
    endpoint_cols!(),
    " FROM webhook_endpoints WHERE owner_id = $1 ORDER BY created_at, id"
);
const ENDPOINT: &str = concat!(
    "SELECT ",
    endpoint_cols!(),
    " FROM webhook_endpoints WHERE owner_id = $1 AND id = $2"
);
const UPDATE_ENDPOINT: &str = "UPDATE webhook_endpoints SET url = $3, event_types = $4, \
     description = $5, secret = $6, enabled = $7, failing_since = $8, last_error = $9, \
     updated_at = $10 WHERE id = $1 AND owner_id = $2";
const DELETE_ENDPOINT: &str = "DELETE FROM webhook_endpoints WHERE id = $1 AND owner_id = $2";
const CURSOR: &str = "SELECT tx, seq FROM webhook_cursor WHERE id = 1";
const MOVE_CURSOR: &str =
    "UPDATE webhook_cursor SET tx = $3, seq = $4 WHERE id = 1 AND tx = $1 AND seq = $2";
const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, \
     event_type, subject_id, payload, status, attempts, next_attempt_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7) \
     ON CONFLICT (endpoint_id, event_id) DO NOTHING";

/// Claims due deliveries (`$1` now, `$2` the lease's end, `$3` how many): of each (endpoint,
/// subject), only the first pending delivery may go (`heads`: one pass over the pending rows,
/// whatever their number); of those, the due ones whose endpoint is enabled, in order. `$lock`
/// is `FOR UPDATE SKIP LOCKED` where rows lock (replicas claim different rows at once, and a row
/// another replica leased meanwhile fails the re-checked conditions), empty where one writer
/// runs at a time.
macro_rules! claim_deliveries_sql {
    ($lock:literal) => {
        concat!(
            "WITH heads AS (SELECT MIN(seq) AS seq FROM webhook_deliveries \
             WHERE status = 'pending' GROUP BY endpoint_id, subject_id), \
             picked AS (SELECT d.seq FROM webhook_deliveries d \
             WHERE d.seq IN (SELECT seq FROM heads) AND d.status = 'pending' \
             AND d.next_attempt_at <= $1 AND (d.locked_until IS NULL OR d.locked_until <= $1) \
             AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id \
             AND e.enabled) ORDER BY d.seq LIMIT $3 ",
            $lock,
            ") UPDATE webhook_deliveries SET attempts = attempts + 1, locked_until = $2 \
             WHERE seq IN (SELECT seq FROM picked) \
             RETURNING id, endpoint_id, event_id, event_type, payload, attempts, \
             (SELECT url FROM webhook_endpoints e WHERE e.id = endpoint_id) AS url, \
             (SELECT secret FROM webhook_endpoints e WHERE e.id = endpoint_id) AS secret"
        )
    };
}
pub(crate) use claim_deliveries_sql;

const FINISH_DELIVERY: &str = "UPDATE webhook_deliveries SET status = $3, \
     next_attempt_at = COALESCE($4, next_attempt_at), locked_until = NULL, \
     last_status_code = $5, last_error = $6, last_latency_ms = $7, last_attempt_at = $8 \
     WHERE id = $1 AND attempts = $2 AND status = 'pending' RETURNING endpoint_id";
const ENDPOINT_FAILING: &str = "UPDATE webhook_endpoints SET \
     failing_since = COALESCE(failing_since, $2), last_error = $3 WHERE id = $1";
const ENDPOINT_WORKING: &str = "UPDATE webhook_endpoints SET failing_since = NULL \
     WHERE id = $1 AND failing_since IS NOT NULL";
const COUNT_DELIVERIES: &str =
    "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = $1";
const DELIVERIES: &str = "SELECT id, event_id, event_type, status, attempts, next_attempt_at, \
     last_status_code, last_error, last_latency_ms, last_attempt_at, created_at \
     FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3";
const PRUNE_DELIVERIES: &str = "DELETE FROM webhook_deliveries WHERE status <> 'pending' \
     AND created_at < $1";

/// Removes outbox events from before `$1` that are behind both the webhook fan-out cursor and
/// the mail cursor (every reader of the outbox is done with them); `$behind` is the backend's
/// condition that an event `outbox` is at or before a cursor `c`.
macro_rules! prune_events_sql {
    ($behind:literal) => {
        concat!(
            "DELETE FROM outbox WHERE occurred_at < $1 AND EXISTS (SELECT 1 FROM webhook_cursor c \
             WHERE c.id = 1 AND ",
            $behind,
            ") AND EXISTS (SELECT 1 FROM mail_cursor c WHERE c.id = 1 AND ",
            $behind,
            ")"
        )
    };
}
pub(crate) use prune_events_sql;

const BACKLOG: &str = "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM webhook_deliveries \
     WHERE status = 'pending'";

fn endpoint_from(r: &impl ReadRow) -> Result<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: r.uuid("id")?,
        owner: UserId(r.uuid("owner_id")?),
        url: r.text("url")?,
        event_types: WebhookEndpoint::types_of(&r.text("event_types")?),
        description: r.text("description")?,
        secret: r.text("secret")?,
        enabled: r.flag("enabled")?,
        failing_since: r.opt_instant("failing_since")?,
        last_error: r.opt_text("last_error")?,
        created_at: r.instant("created_at")?,
        updated_at: r.instant("updated_at")?,
    })
}

fn endpoint_args(e: &WebhookEndpoint) -> Vec<Arg> {
    vec![
        Arg::Id(e.id),
        Arg::Id(e.owner.0),
        Arg::Text(e.url.clone()),
        Arg::Text(e.types_text()),
        Arg::Text(e.description.clone()),
        Arg::Text(e.secret.clone()),
        Arg::Flag(e.enabled),
        Arg::OptInstant(e.failing_since),
        Arg::OptText(e.last_error.clone()),
        Arg::Instant(e.created_at),
        Arg::Instant(e.updated_at),
    ]
}

fn opt_u32(what: &str, v: Option<i64>) -> Result<Option<u32>> {
    v.map(|n| to_u32(what, n)).transpose()
}

fn record_from(r: &impl ReadRow) -> Result<DeliveryRecord> {
    let status = r.text("status")?;
    let status = DeliveryStatus::parse(&status)
        .ok_or_else(|| corrupt("webhook_deliveries.status", status))?;
    Ok(DeliveryRecord {
        id: r.uuid("id")?,
        event_id: r.uuid("event_id")?,
        event_type: r.text("event_type")?,
        status,
        attempts: to_u32("webhook_deliveries.attempts", r.int("attempts")?)?,
        next_attempt_at: Some(r.instant("next_attempt_at")?)
            .filter(|_| status == DeliveryStatus::Pending),
        last_status_code: opt_u32("last_status_code", r.opt_int("last_status_code")?)?
            .map(|c| u16::try_from(c).unwrap_or(u16::MAX)),
        last_error: r.opt_text("last_error")?,
        last_latency_ms: opt_u32("last_latency_ms", r.opt_int("last_latency_ms")?)?,
        last_attempt_at: r.opt_instant("last_attempt_at")?,
        created_at: r.instant("created_at")?,
    })
}

fn delivery_args(d: &NewDelivery) -> Vec<Arg> {
    vec![
        Arg::Id(d.id),
        Arg::Id(d.endpoint_id),
        Arg::Id(d.event_id),
        Arg::Text(d.event_type.clone()),
        Arg::Id(d.subject_id),
        Arg::Text(d.payload.clone()),
        Arg::Instant(d.created_at),
    ]
}

/// A cursor's part as an argument (saturating: a cursor is never that far).
pub(crate) fn cursor_arg(n: u64) -> Arg {
    Arg::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

pub(crate) async fn insert_webhook<B: SqlBackend + ?Sized>(
    backend: &B,
    e: &WebhookEndpoint,
) -> Result<()> {
    backend
        .writes()
        .execute(INSERT_ENDPOINT, endpoint_args(e))
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn webhooks<B: SqlBackend + ?Sized>(
    backend: &B,
    owner: UserId,
) -> Result<Vec<WebhookEndpoint>> {
    let rows = backend
        .reads()
        .all(OWNER_ENDPOINTS, vec![Arg::Id(owner.0)])
        .await
        .map_err(db_error)?;
    rows_to(&rows, endpoint_from)
}

pub(crate) async fn webhook<B: SqlBackend + ?Sized>(
    backend: &B,
    owner: UserId,
    id: Uuid,
) -> Result<Option<WebhookEndpoint>> {
    let row = backend
        .reads()
        .optional(ENDPOINT, vec![Arg::Id(owner.0), Arg::Id(id)])
        .await
        .map_err(db_error)?;
    row.as_ref().map(endpoint_from).transpose()
}

pub(crate) async fn update_webhook<B: SqlBackend + ?Sized>(
    backend: &B,
    e: &WebhookEndpoint,
) -> Result<bool> {
    let mut args = endpoint_args(e);
    // UPDATE_ENDPOINT takes the insert's arguments less `created_at`.
    args.remove(9);
    let n = backend
        .writes()
        .execute(UPDATE_ENDPOINT, args)
        .await
        .map_err(db_error)?;
    Ok(n == 1)
}

pub(crate) async fn delete_webhook<B: SqlBackend + ?Sized>(
    backend: &B,
    owner: UserId,
    id: Uuid,
) -> Result<bool> {
    let n = backend
        .writes()
        .execute(DELETE_ENDPOINT, vec![Arg::Id(id), Arg::Id(owner.0)])
        .await
        .map_err(db_error)?;
    Ok(n == 1)
}

/// An outbox cursor kept in a one-row table (`sql` reads its `tx` and `seq`).
pub(crate) async fn read_cursor<B: SqlBackend + ?Sized>(
    backend: &B,
    sql: &'static str,
    table: &'static str,
) -> Result<EventCursor> {
    let row = backend
        .reads()
        .optional(sql, vec![])
        .await
        .map_err(db_error)?
        .ok_or_else(|| corrupt(table, "the row is missing"))?;
    let number = |col: &str| -> Result<u64> {
        u64::try_from(row.int(col)?).map_err(|_| corrupt(table, "negative"))
    };
    Ok(EventCursor {
        tx: number("tx")?,
        seq: number("seq")?,
    })
}

/// Atomically moves an outbox cursor from `from` to `to` (`move_sql`, conditional on it being
/// at `from`) and runs `insert_sql` once per row of `rows`; `false`, writing nothing, if the
/// cursor had moved.
pub(crate) async fn advance_cursor<B: SqlBackend + ?Sized>(
    backend: &B,
    move_sql: &'static str,
    from: EventCursor,
    to: EventCursor,
    insert_sql: &'static str,
    rows: impl Iterator<Item = Vec<Arg>>,
) -> Result<bool> {
    let mut tx = backend.begin().await?;
    let moved = tx
        .execute(
            move_sql,
            vec![
                cursor_arg(from.tx),
                cursor_arg(from.seq),
                cursor_arg(to.tx),
                cursor_arg(to.seq),
            ],
        )
        .await
        .map_err(db_error)?;
    if moved != 1 {
        return Ok(false);
    }
    for args in rows {
        tx.execute(insert_sql, args).await.map_err(db_error)?;
    }
    backend.commit(tx).await?;
    Ok(true)
}

pub(crate) async fn webhook_cursor<B: SqlBackend + ?Sized>(backend: &B) -> Result<EventCursor> {
    read_cursor(backend, CURSOR, "webhook_cursor").await
}

pub(crate) async fn enqueue_deliveries<B: SqlBackend + ?Sized>(
    backend: &B,
    from: EventCursor,
    to: EventCursor,
    deliveries: &[NewDelivery],
) -> Result<bool> {
    advance_cursor(
        backend,
        MOVE_CURSOR,
        from,
        to,
        INSERT_DELIVERY,
        deliveries.iter().map(delivery_args),
    )
    .await
}

pub(crate) async fn insert_delivery<B: SqlBackend + ?Sized>(
    backend: &B,
    d: &NewDelivery,
) -> Result<()> {
    backend
        .writes()
        .execute(INSERT_DELIVERY, delivery_args(d))
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn claim_deliveries<B: SqlBackend + ?Sized>(
    backend: &B,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<DueDelivery>> {
    let rows = backend
        .writes()
        .all(
            B::CLAIM_DELIVERIES,
            vec![
                Arg::Instant(now),
                Arg::Instant(lease_until),
                Arg::Int(i64::from(limit)),
            ],
        )
        .await
        .map_err(db_error)?;
    rows_to(&rows, |r| {
        Ok(DueDelivery {
            id: r.uuid("id")?,
            endpoint_id: r.uuid("endpoint_id")?,
            url: r.text("url")?,
            secret: r.text("secret")?,
            event_id: r.uuid("event_id")?,
            event_type: r.text("event_type")?,
            payload: r.text("payload")?,
            attempt: to_u32("webhook_deliveries.attempts", r.int("attempts")?)?,
        })
    })
}

pub(crate) async fn finish_delivery<B: SqlBackend + ?Sized>(
    backend: &B,
    id: Uuid,
    attempt: u32,
    o: &DeliveryAttempt,
) -> Result<()> {
    let mut tx = backend.begin().await?;
    let row = tx
        .optional(
            FINISH_DELIVERY,
            vec![
                Arg::Id(id),
                Arg::Int(i64::from(attempt)),
                Arg::Text(o.status.as_str().to_owned()),
                Arg::OptInstant(o.next_attempt_at),
                Arg::OptInt(o.status_code.map(i64::from)),
                Arg::OptText(o.error.clone()),
                Arg::Int(i64::from(o.latency_ms)),
                Arg::Instant(o.at),
            ],
        )
        .await
        .map_err(db_error)?;
    if let Some(r) = row {
        let endpoint = r.uuid("endpoint_id")?;
        drop(r);
        match o.status {
            DeliveryStatus::Failed => {
                tx.execute(
                    ENDPOINT_FAILING,
                    vec![
                        Arg::Id(endpoint),
                        Arg::Instant(o.at),
                        Arg::OptText(o.error.clone()),
                    ],
                )
                .await
                .map_err(db_error)?;
            }
            DeliveryStatus::Delivered => {
                tx.execute(ENDPOINT_WORKING, vec![Arg::Id(endpoint)])
                    .await
                    .map_err(db_error)?;
            }
            DeliveryStatus::Pending => {}
        }
    }
    backend.commit(tx).await
}

pub(crate) async fn deliveries<B: SqlBackend + ?Sized>(
    backend: &B,
    endpoint: Uuid,
    page: Page,
) -> Result<Paged<DeliveryRecord>> {
    paged(
        backend,
        COUNT_DELIVERIES,
        DELIVERIES,
        endpoint,
        page,
        record_from,
    )
    .await
}

pub(crate) async fn delivery_backlog<B: SqlBackend + ?Sized>(
    backend: &B,
) -> Result<(u64, Option<DateTime<Utc>>)> {
    let row = backend
        .reads()
        .optional(BACKLOG, vec![])
        .await
        .map_err(db_error)?
        .ok_or_else(|| corrupt("webhook_deliveries", "no backlog row"))?;
    Ok((to_count(row.int("n")?), row.opt_instant("oldest")?))
}

pub(crate) async fn prune_before<B: SqlBackend + ?Sized>(
    backend: &B,
    before: DateTime<Utc>,
) -> Result<(u64, u64)> {
    let mut w = backend.writes();
    let events = w
        .execute(B::PRUNE_EVENTS, vec![Arg::Instant(before)])
        .await
        .map_err(db_error)?;
    let deliveries = w
        .execute(PRUNE_DELIVERIES, vec![Arg::Instant(before)])
        .await
        .map_err(db_error)?;
    Ok((events, deliveries))
}

/// Implements [`WebhookStore`](crate::WebhookStore) for a [`SqlBackend`] with the functions
/// of this module.
macro_rules! impl_webhooks {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::WebhookStore for $store {
            async fn insert_webhook(
                &self,
                endpoint: &$crate::WebhookEndpoint,
            ) -> appointment_core::Result<()> {
                $crate::webhooks_sql::insert_webhook(self, endpoint).await
            }
            async fn webhooks(
                &self,
                owner: appointment_core::UserId,
            ) -> appointment_core::Result<Vec<$crate::WebhookEndpoint>> {
                $crate::webhooks_sql::webhooks(self, owner).await
            }
            async fn webhook(
                &self,
                owner: appointment_core::UserId,
                id: uuid::Uuid,
            ) -> appointment_core::Result<Option<$crate::WebhookEndpoint>> {
                $crate::webhooks_sql::webhook(self, owner, id).await
            }
            async fn update_webhook(
                &self,
                endpoint: &$crate::WebhookEndpoint,
            ) -> appointment_core::Result<bool> {
                $crate::webhooks_sql::update_webhook(self, endpoint).await
            }
            async fn delete_webhook(
                &self,
                owner: appointment_core::UserId,
                id: uuid::Uuid,
            ) -> appointment_core::Result<bool> {
                $crate::webhooks_sql::delete_webhook(self, owner, id).await
            }
            async fn webhook_cursor(
                &self,
            ) -> appointment_core::Result<appointment_core::EventCursor> {
                $crate::webhooks_sql::webhook_cursor(self).await
            }
            async fn enqueue_deliveries(
                &self,
                from: appointment_core::EventCursor,
                to: appointment_core::EventCursor,
                deliveries: &[$crate::NewDelivery],
            ) -> appointment_core::Result<bool> {
                $crate::webhooks_sql::enqueue_deliveries(self, from, to, deliveries).await
            }
            async fn insert_delivery(
                &self,
                delivery: &$crate::NewDelivery,
            ) -> appointment_core::Result<()> {
                $crate::webhooks_sql::insert_delivery(self, delivery).await
            }
            async fn claim_deliveries(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                lease_until: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> appointment_core::Result<Vec<$crate::DueDelivery>> {
                $crate::webhooks_sql::claim_deliveries(self, now, lease_until, limit).await
            }
            async fn finish_delivery(
                &self,
                id: uuid::Uuid,
                attempt: u32,
                outcome: &$crate::DeliveryAttempt,
            ) -> appointment_core::Result<()> {
                $crate::webhooks_sql::finish_delivery(self, id, attempt, outcome).await
            }
            async fn deliveries(
                &self,
                endpoint: uuid::Uuid,
                page: appointment_core::Page,
            ) -> appointment_core::Result<appointment_core::Paged<$crate::DeliveryRecord>> {
                $crate::webhooks_sql::deliveries(self, endpoint, page).await
            }
            async fn delivery_backlog(
                &self,
            ) -> appointment_core::Result<(u64, Option<chrono::DateTime<chrono::Utc>>)> {
                $crate::webhooks_sql::delivery_backlog(self).await
            }
            async fn prune_before(
                &self,
                before: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<(u64, u64)> {
                $crate::webhooks_sql::prune_before(self, before).await
            }
        }
    };
}
pub(crate) use impl_webhooks;
