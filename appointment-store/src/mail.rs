//! What email keeps: the messages to send, made from outbox events (and reminders), sent with
//! the same claim, lease and retry machinery as webhook deliveries.
//!
//! The REST server fans the outbox out into messages (rendered when they are made, written
//! together with the advance of a cursor of their own, so that replicas never make one message
//! twice), then claims due messages under a lease, sends them over SMTP, and records the outcome
//! ([`MailStore`]). A message may be due later than it is made (a reminder); one that no longer
//! applies when it comes due is skipped.

use appointment_core::{EventCursor, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A message to send.
#[derive(Clone, PartialEq, Eq)]
pub struct NewMail {
    /// The message's id.
    pub id: Uuid,
    /// What it is for: the event's id, or a reminder's id (derived from the booking and the
    /// time it reminds of). A second message with the same key and role is never added.
    pub key: Uuid,
    /// Whom it is for, among the messages of one key (e.g. `guest`, `owner`).
    pub role: String,
    /// What kind of message it is (the template's name, e.g. `booking.created`).
    pub kind: String,
    /// The address it goes to.
    pub recipient: String,
    /// What it is about: messages of one subject to one recipient are sent in order.
    pub subject_id: Uuid,
    /// The rendered message, as the sender reads it back (opaque to the store).
    pub message: String,
    /// When it is first due: at once, or later (a reminder).
    pub due_at: DateTime<Utc>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for NewMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewMail")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("role", &self.role)
            .field("kind", &self.kind)
            .field("due_at", &self.due_at)
            .finish_non_exhaustive()
    }
}

/// A message claimed for an attempt.
#[derive(Clone, PartialEq, Eq)]
pub struct DueMail {
    /// The message's id.
    pub id: Uuid,
    /// What it is for (see [`NewMail::key`]).
    pub key: Uuid,
    /// Whom it is for.
    pub role: String,
    /// What kind of message it is.
    pub kind: String,
    /// The address it goes to.
    pub recipient: String,
    /// The rendered message.
    pub message: String,
    /// This attempt's number (1 for the first).
    pub attempt: u32,
}

impl std::fmt::Debug for DueMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueMail")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("role", &self.role)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailStatus {
    /// Not sent yet: due at its next attempt.
    Pending,
    /// The SMTP server accepted it.
    Sent,
    /// Every attempt failed, or the server refused it for good.
    Failed,
    /// Not sent: it no longer applied when it came due (a reminder of a cancelled booking).
    Skipped,
}

impl MailStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MailStatus::Pending => "pending",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
            MailStatus::Skipped => "skipped",
        }
    }

    /// The status of a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(MailStatus::Pending),
            "sent" => Some(MailStatus::Sent),
            "failed" => Some(MailStatus::Failed),
            "skipped" => Some(MailStatus::Skipped),
            _ => None,
        }
    }
}

/// What an attempt gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAttempt {
    /// The status after it: sent, failed, skipped, or pending (retried at `next_attempt_at`).
    pub status: MailStatus,
    /// When to try again, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why it failed or was skipped, if it was.
    pub error: Option<String>,
    /// When it was made.
    pub at: DateTime<Utc>,
}

/// A message as it stands (what [`MailStore::mail_for`] answers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRecord {
    /// The message's id.
    pub id: Uuid,
    /// What it is for.
    pub key: Uuid,
    /// Whom it is for.
    pub role: String,
    /// What kind of message it is.
    pub kind: String,
    /// The address it goes to.
    pub recipient: String,
    /// Where it stands.
    pub status: MailStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last failure (or why it was skipped).
    pub last_error: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Where outgoing email is kept (a part of every [`ServiceStore`](crate::ServiceStore)). Each
/// method is atomic.
#[async_trait]
pub trait MailStore: Send + Sync {
    /// The outbox cursor up to which events were turned into messages ([`EventCursor::START`]
    /// at first). Outbox events are pruned only once they are behind it (and behind the webhook
    /// cursor): a service that sends no email still moves it on.
    async fn mail_cursor(&self) -> Result<EventCursor>;
    /// Atomically: moves the mail cursor from `from` to `to` and adds `mails` (a message whose
    /// key and role are already there is left as it is). Answers `false`, writing nothing, if
    /// the cursor is no longer at `from` (another replica made these messages).
    async fn enqueue_mail(
        &self,
        from: EventCursor,
        to: EventCursor,
        mails: &[NewMail],
    ) -> Result<bool>;
    /// Adds one message outside the outbox; `false` (and nothing written) if its key and role
    /// are already there.
    async fn insert_mail(&self, mail: &NewMail) -> Result<bool>;
    /// Atomically claims up to `limit` messages due at `now` (pending, next attempt due, no
    /// live lease), oldest first, leasing them until `lease_until` and counting the attempt.
    ///
    /// The messages of one (recipient, subject) go one at a time, in the order they were made:
    /// a message waits while an earlier pending one of its (recipient, subject) is in the
    /// queue (being sent, or waiting for a retry), and while any of them is leased. A message
    /// enters the queue when it is first due: one made for later (a reminder) holds back no
    /// message made after it until then. Concurrent callers (replicas) never claim one message
    /// twice within a lease.
    async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueMail>>;
    /// Records the outcome of attempt `attempt` of a message (ignored if it was claimed again
    /// since: its lease ran out).
    async fn finish_mail(&self, id: Uuid, attempt: u32, outcome: &MailAttempt) -> Result<()>;
    /// The messages made for `key`, oldest first.
    async fn mail_for(&self, key: Uuid) -> Result<Vec<MailRecord>>;
    /// Messages pending and due at `now`, and the due time of the oldest of them (a reminder
    /// for later is not backlog).
    async fn mail_backlog(&self, now: DateTime<Utc>) -> Result<(u64, Option<DateTime<Utc>>)>;
    /// Forgets messages sent, failed or skipped that were made before `before`; answers how many
    /// it removed.
    async fn prune_mail_before(&self, before: DateTime<Utc>) -> Result<u64>;
}
