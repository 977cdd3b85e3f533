//! What webhooks keep: owners' endpoints, and the deliveries of outbox events to them.
//!
//! The REST server fans the outbox out into deliveries (one per event and endpoint that wants
//! it, written together with the advance of a shared cursor, so that replicas never fan out one
//! event twice), then claims due deliveries under a lease, sends them, and records the outcome
//! ([`WebhookStore`]).

use appointment_core::{EventCursor, Page, Paged, Result, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An owner's webhook endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: Uuid,
    /// The owner whose events it receives.
    pub owner: UserId,
    /// Where deliveries are sent.
    pub url: String,
    /// The event types it wants; empty for every type.
    pub event_types: Vec<String>,
    /// The owner's note.
    pub description: String,
    /// The signing secret (`whsec_` and base64): never logged.
    pub secret: String,
    /// Whether deliveries are made to it.
    pub enabled: bool,
    /// Since when its deliveries fail (the first delivery that ran out of retries), until one
    /// succeeds.
    pub failing_since: Option<DateTime<Utc>>,
    /// Why the last failed delivery failed.
    pub last_error: Option<String>,
    /// When it was registered; it receives events that happened from then on.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("url", &self.url)
            .field("event_types", &self.event_types)
            .field("enabled", &self.enabled)
            .field("secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl WebhookEndpoint {
    /// Whether it wants events of type `kind`.
    ///
    /// ```
    /// # use appointment_store::WebhookEndpoint;
    /// # let mut e = WebhookEndpoint {
    /// #     id: uuid::Uuid::nil(), owner: appointment_core::UserId(uuid::Uuid::nil()),
    /// #     url: "https://example.com/hook".into(), event_types: vec![], description: String::new(),
    /// #     secret: String::new(), enabled: true, failing_since: None, last_error: None,
    /// #     created_at: chrono::Utc::now(), updated_at: chrono::Utc::now(),
    /// # };
    /// assert!(e.wants("booking.created"));
    /// e.event_types = vec!["booking.cancelled".into()];
    /// assert!(!e.wants("booking.created"));
    /// ```
    pub fn wants(&self, kind: &str) -> bool {
        self.event_types.is_empty() || self.event_types.iter().any(|t| t == kind)
    }

    /// The event types as stored (comma-separated).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn types_text(&self) -> String {
        self.event_types.join(",")
    }

    /// Event types from their stored form.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn types_of(text: &str) -> Vec<String> {
        text.split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A delivery to make: an event (or a test message) for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The delivery's id.
    pub id: Uuid,
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// The event's id (the `webhook-id` header: the same on every attempt).
    pub event_id: Uuid,
    /// The event's type.
    pub event_type: String,
    /// What the event is about: deliveries of one subject to one endpoint are made in order.
    pub subject_id: Uuid,
    /// The body to send.
    pub payload: String,
    /// When it was made (and first due).
    pub created_at: DateTime<Utc>,
}

/// A delivery claimed for an attempt.
#[derive(Clone, PartialEq, Eq)]
pub struct DueDelivery {
    /// The delivery's id.
    pub id: Uuid,
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// Where to send it.
    pub url: String,
    /// The endpoint's signing secret.
    pub secret: String,
    /// The event's id.
    pub event_id: Uuid,
    /// The event's type.
    pub event_type: String,
    /// The body to send.
    pub payload: String,
    /// This attempt's number (1 for the first).
    pub attempt: u32,
}

impl std::fmt::Debug for DueDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueDelivery")
            .field("id", &self.id)
            .field("endpoint_id", &self.endpoint_id)
            .field("event_type", &self.event_type)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet: due at its next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed.
    Failed,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// What an attempt gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// The status after it: delivered, failed (no attempt left), or pending (retried at
    /// `next_attempt_at`).
    pub status: DeliveryStatus,
    /// When to try again, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The endpoint's answer, if it answered.
    pub status_code: Option<u16>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// How long the request took.
    pub latency_ms: u32,
    /// When it was made.
    pub at: DateTime<Utc>,
}

/// A delivery as its endpoint's log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The delivery's id.
    pub id: Uuid,
    /// The event's id.
    pub event_id: Uuid,
    /// The event's type.
    pub event_type: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last answer's status code.
    pub last_status_code: Option<u16>,
    /// The last failure.
    pub last_error: Option<String>,
    /// How long the last attempt took.
    pub last_latency_ms: Option<u32>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Where webhook endpoints and deliveries are kept (a part of every
/// [`ServiceStore`](crate::ServiceStore)). Each method is atomic.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Registers an endpoint.
    async fn insert_webhook(&self, endpoint: &WebhookEndpoint) -> Result<()>;
    /// An owner's endpoints, oldest first.
    async fn webhooks(&self, owner: UserId) -> Result<Vec<WebhookEndpoint>>;
    /// One of an owner's endpoints.
    async fn webhook(&self, owner: UserId, id: Uuid) -> Result<Option<WebhookEndpoint>>;
    /// Writes an endpoint's changeable fields (url, types, description, secret, enabled,
    /// failing state, `updated_at`); `false` if the owner has no such endpoint.
    async fn update_webhook(&self, endpoint: &WebhookEndpoint) -> Result<bool>;
    /// Removes an endpoint and its deliveries; `false` if the owner has no such endpoint.
    async fn delete_webhook(&self, owner: UserId, id: Uuid) -> Result<bool>;
    /// The outbox cursor up to which events were fanned out into deliveries.
    async fn webhook_cursor(&self) -> Result<EventCursor>;
    /// Atomically: moves the fan-out cursor from `from` to `to` and adds `deliveries` (one per
    /// endpoint and event; a pair already there is left as it is). Answers `false`, writing
    /// nothing, if the cursor is no longer at `from` (another replica fanned these events out).
    async fn enqueue_deliveries(
        &self,
        from: EventCursor,
        to: EventCursor,
        deliveries: &[NewDelivery],
    ) -> Result<bool>;
    /// Adds one delivery outside the outbox (a test message).
    async fn insert_delivery(&self, delivery: &NewDelivery) -> Result<()>;
    /// Atomically claims up to `limit` deliveries due at `now` (pending, next attempt due, no
    /// live lease) for an attempt, leasing them until `lease_until` and counting the attempt;
    /// a delivery whose subject has an earlier pending delivery to the same endpoint waits for
    /// it. Concurrent callers (replicas) never claim one delivery twice within a lease.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>>;
    /// Records the outcome of attempt `attempt` of a delivery (ignored if the delivery was
    /// claimed again since: its lease ran out). A failed delivery marks its endpoint failing; a
    /// delivered one ends that.
    async fn finish_delivery(
        &self,
        id: Uuid,
        attempt: u32,
        outcome: &DeliveryAttempt,
    ) -> Result<()>;
    /// An endpoint's deliveries, newest first.
    async fn deliveries(&self, endpoint: Uuid, page: Page) -> Result<Paged<DeliveryRecord>>;
    /// Deliveries not yet delivered or failed, and the creation time of the oldest of them.
    async fn delivery_backlog(&self) -> Result<(u64, Option<DateTime<Utc>>)>;
    /// Forgets what happened before `before`: outbox events already fanned out into deliveries
    /// and made into messages (behind both the webhook cursor and the
    /// [mail cursor](crate::MailStore::mail_cursor)), and deliveries delivered or failed.
    /// Answers how many of each it removed.
    async fn prune_before(&self, before: DateTime<Utc>) -> Result<(u64, u64)>;
}
