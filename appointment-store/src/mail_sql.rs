//! The mail methods of [`ServiceStore`](crate::ServiceStore), once for both SQL backends.

use appointment_core::{EventCursor, Result};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::mail::{DueMail, MailAttempt, MailRecord, MailStatus, NewMail};
use crate::sql_common::{ReadRow, corrupt, db_error, to_count, to_u32};
use crate::sql_store::{Arg, Conn, SqlBackend, rows_to};
use crate::webhooks_sql::{advance_cursor, read_cursor};

const CURSOR: &str = "SELECT tx, seq FROM mail_cursor WHERE id = 1";
const MOVE_CURSOR: &str =
    "UPDATE mail_cursor SET tx = $3, seq = $4 WHERE id = 1 AND tx = $1 AND seq = $2";
const INSERT_MAIL: &str = "INSERT INTO mail_messages (id, key, role, kind, recipient, \
     subject_id, message, status, attempts, next_attempt_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9) \
     ON CONFLICT (key, role) DO NOTHING";

/// Claims due messages (`$1` now, `$2` the lease's end, `$3` how many): of each (recipient,
/// subject), only the first pending message in the queue may go (`heads`: one pass over the
/// pending rows, whatever their number), and none while one of them is leased; of those, the
/// due ones, in order. A message is in the queue once it was first due: one made for later (a
/// reminder) holds nothing back until then. `$lock` is `FOR UPDATE SKIP LOCKED` where rows lock
/// (replicas claim different rows at once, and a row another replica leased meanwhile fails the
/// re-checked conditions), empty where one writer runs at a time.
macro_rules! claim_mail_sql {
    ($lock:literal) => {
        concat!(
            "WITH heads AS (SELECT MIN(seq) AS seq FROM mail_messages \
             WHERE status = 'pending' AND (attempts > 0 OR next_attempt_at <= $1) \
             GROUP BY recipient, subject_id \
             HAVING MAX(CASE WHEN locked_until > $1 THEN 1 ELSE 0 END) = 0), \
             picked AS (SELECT m.seq FROM mail_messages m \
             WHERE m.seq IN (SELECT seq FROM heads) AND m.status = 'pending' \
             AND m.next_attempt_at <= $1 AND (m.locked_until IS NULL OR m.locked_until <= $1) \
             ORDER BY m.seq LIMIT $3 ",
            $lock,
            ") UPDATE mail_messages SET attempts = attempts + 1, locked_until = $2 \
             WHERE seq IN (SELECT seq FROM picked) \
             RETURNING seq, id, key, role, kind, recipient, message, attempts"
        )
    };
}
pub(crate) use claim_mail_sql;

const FINISH_MAIL: &str = "UPDATE mail_messages SET status = $3, \
     next_attempt_at = COALESCE($4, next_attempt_at), locked_until = NULL, \
     last_error = $5, last_attempt_at = $6 \
     WHERE id = $1 AND attempts = $2 AND status = 'pending'";
const MAIL_FOR: &str = "SELECT id, key, role, kind, recipient, status, attempts, \
     next_attempt_at, last_error, created_at FROM mail_messages WHERE key = $1 ORDER BY seq";
const BACKLOG: &str = "SELECT COUNT(*) AS n, MIN(next_attempt_at) AS oldest FROM mail_messages \
     WHERE status = 'pending' AND next_attempt_at <= $1";
const PRUNE_MAIL: &str = "DELETE FROM mail_messages WHERE status <> 'pending' \
     AND created_at < $1";

fn mail_args(m: &NewMail) -> Vec<Arg> {
    vec![
        Arg::Id(m.id),
        Arg::Id(m.key),
        Arg::Text(m.role.clone()),
        Arg::Text(m.kind.clone()),
        Arg::Text(m.recipient.clone()),
        Arg::Id(m.subject_id),
        Arg::Text(m.message.clone()),
        Arg::Instant(m.due_at),
        Arg::Instant(m.created_at),
    ]
}

fn record_from(r: &impl ReadRow) -> Result<MailRecord> {
    let status = r.text("status")?;
    let status =
        MailStatus::parse(&status).ok_or_else(|| corrupt("mail_messages.status", status))?;
    Ok(MailRecord {
        id: r.uuid("id")?,
        key: r.uuid("key")?,
        role: r.text("role")?,
        kind: r.text("kind")?,
        recipient: r.text("recipient")?,
        status,
        attempts: to_u32("mail_messages.attempts", r.int("attempts")?)?,
        next_attempt_at: Some(r.instant("next_attempt_at")?)
            .filter(|_| status == MailStatus::Pending),
        last_error: r.opt_text("last_error")?,
        created_at: r.instant("created_at")?,
    })
}

pub(crate) async fn mail_cursor<B: SqlBackend + ?Sized>(backend: &B) -> Result<EventCursor> {
    read_cursor(backend, CURSOR, "mail_cursor").await
}

pub(crate) async fn enqueue_mail<B: SqlBackend + ?Sized>(
    backend: &B,
    from: EventCursor,
    to: EventCursor,
    mails: &[NewMail],
) -> Result<bool> {
    advance_cursor(
        backend,
        MOVE_CURSOR,
        from,
        to,
        INSERT_MAIL,
        mails.iter().map(mail_args),
    )
    .await
}

pub(crate) async fn insert_mail<B: SqlBackend + ?Sized>(backend: &B, m: &NewMail) -> Result<bool> {
    let n = backend
        .writes()
        .execute(INSERT_MAIL, mail_args(m))
        .await
        .map_err(db_error)?;
    Ok(n == 1)
}

pub(crate) async fn claim_mail<B: SqlBackend + ?Sized>(
    backend: &B,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<DueMail>> {
    let rows = backend
        .writes()
        .all(
            B::CLAIM_MAIL,
            vec![
                Arg::Instant(now),
                Arg::Instant(lease_until),
                Arg::Int(i64::from(limit)),
            ],
        )
        .await
        .map_err(db_error)?;
    // RETURNING follows no order: the claim's is the queue's.
    let mut claimed = rows_to(&rows, |r| {
        Ok((
            r.int("seq")?,
            DueMail {
                id: r.uuid("id")?,
                key: r.uuid("key")?,
                role: r.text("role")?,
                kind: r.text("kind")?,
                recipient: r.text("recipient")?,
                message: r.text("message")?,
                attempt: to_u32("mail_messages.attempts", r.int("attempts")?)?,
            },
        ))
    })?;
    claimed.sort_by_key(|(seq, _)| *seq);
    Ok(claimed.into_iter().map(|(_, m)| m).collect())
}

pub(crate) async fn finish_mail<B: SqlBackend + ?Sized>(
    backend: &B,
    id: Uuid,
    attempt: u32,
    o: &MailAttempt,
) -> Result<()> {
    backend
        .writes()
        .execute(
            FINISH_MAIL,
            vec![
                Arg::Id(id),
                Arg::Int(i64::from(attempt)),
                Arg::Text(o.status.as_str().to_owned()),
                Arg::OptInstant(o.next_attempt_at),
                Arg::OptText(o.error.clone()),
                Arg::Instant(o.at),
            ],
        )
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(crate) async fn mail_for<B: SqlBackend + ?Sized>(
    backend: &B,
    key: Uuid,
) -> Result<Vec<MailRecord>> {
    let rows = backend
        .reads()
        .all(MAIL_FOR, vec![Arg::Id(key)])
        .await
        .map_err(db_error)?;
    rows_to(&rows, record_from)
}

pub(crate) async fn mail_backlog<B: SqlBackend + ?Sized>(
    backend: &B,
    now: DateTime<Utc>,
) -> Result<(u64, Option<DateTime<Utc>>)> {
    let row = backend
        .reads()
        .optional(BACKLOG, vec![Arg::Instant(now)])
        .await
        .map_err(db_error)?
        .ok_or_else(|| corrupt("mail_messages", "no backlog row"))?;
    Ok((to_count(row.int("n")?), row.opt_instant("oldest")?))
}

pub(crate) async fn prune_mail_before<B: SqlBackend + ?Sized>(
    backend: &B,
    before: DateTime<Utc>,
) -> Result<u64> {
    backend
        .writes()
        .execute(PRUNE_MAIL, vec![Arg::Instant(before)])
        .await
        .map_err(db_error)
}

/// Implements [`MailStore`](crate::MailStore) for a [`SqlBackend`] with the functions of this
/// module.
macro_rules! impl_mail {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::MailStore for $store {
            async fn mail_cursor(&self) -> appointment_core::Result<appointment_core::EventCursor> {
                $crate::mail_sql::mail_cursor(self).await
            }
            async fn enqueue_mail(
                &self,
                from: appointment_core::EventCursor,
                to: appointment_core::EventCursor,
                mails: &[$crate::NewMail],
            ) -> appointment_core::Result<bool> {
                $crate::mail_sql::enqueue_mail(self, from, to, mails).await
            }
            async fn insert_mail(&self, mail: &$crate::NewMail) -> appointment_core::Result<bool> {
                $crate::mail_sql::insert_mail(self, mail).await
            }
            async fn claim_mail(
                &self,
                now: chrono::DateTime<chrono::Utc>,
                lease_until: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> appointment_core::Result<Vec<$crate::DueMail>> {
                $crate::mail_sql::claim_mail(self, now, lease_until, limit).await
            }
            async fn finish_mail(
                &self,
                id: uuid::Uuid,
                attempt: u32,
                outcome: &$crate::MailAttempt,
            ) -> appointment_core::Result<()> {
                $crate::mail_sql::finish_mail(self, id, attempt, outcome).await
            }
            async fn mail_for(
                &self,
                key: uuid::Uuid,
            ) -> appointment_core::Result<Vec<$crate::MailRecord>> {
                $crate::mail_sql::mail_for(self, key).await
            }
            async fn mail_backlog(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<(u64, Option<chrono::DateTime<chrono::Utc>>)> {
                $crate::mail_sql::mail_backlog(self, now).await
            }
            async fn prune_mail_before(
                &self,
                before: chrono::DateTime<chrono::Utc>,
            ) -> appointment_core::Result<u64> {
                $crate::mail_sql::prune_mail_before(self, before).await
            }
        }
    };
}
pub(crate) use impl_mail;
