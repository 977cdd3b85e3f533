//! What a service built on the engine stores besides bookings: revoked tokens, idempotency
//! records, webhook endpoints and deliveries, outgoing email, calendar feeds. The engine's rules
//! do not use these; the REST server does.

use appointment_core::store::Store;
use appointment_core::{Booking, Result, UserId};

use crate::mail::MailStore;
use crate::webhooks::WebhookStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The state of an idempotency key after [`ServiceStore::claim_idempotency_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key was free and is now held by the caller, who must later complete or release it.
    Claimed,
    /// Another request with this key is being processed right now.
    InProgress {
        /// The fingerprint that request gave.
        request_hash: String,
    },
    /// A request with this key already finished; here is its answer.
    Completed {
        /// The fingerprint that request gave (a different one means the key is being reused for
        /// another request).
        request_hash: String,
        /// The answer's status code.
        status: u16,
        /// The answer's body.
        body: String,
    },
}

/// The connections of one of a store's pools at one moment, as metrics report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Which pool: `"main"` (Postgres), `"writer"` or `"reader"` (SQLite).
    pub pool: &'static str,
    /// Open connections an operation is using.
    pub in_use: u32,
    /// Open connections waiting for an operation.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl PoolStatus {
    /// The status of `pool` now, named `name`.
    pub(crate) fn of<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>) -> Self {
        let size = pool.size();
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(size);
        PoolStatus {
            pool: name,
            in_use: size - idle,
            idle,
            max: pool.options().get_max_connections(),
        }
    }
}

/// A booking as an owner's calendar feed shows it: with its appointment's title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedBooking {
    /// The booking.
    pub booking: Booking,
    /// The title of its appointment.
    pub title: String,
}

/// Owners' calendar feeds: a secret token per owner (only its hash is kept) and the bookings a
/// feed shows. Each method is atomic.
#[async_trait]
pub trait CalendarFeedStore: Send + Sync {
    /// Sets the calendar feed of `owner` to the token whose SHA-256 hash (hex) is `token_hash`,
    /// replacing the one it had (whose URL stops working at once).
    async fn set_calendar_feed(
        &self,
        owner: UserId,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Revokes the calendar feed of `owner`; whether there was one.
    async fn delete_calendar_feed(&self, owner: UserId) -> Result<bool>;
    /// The owner of the calendar feed whose token hashes to `token_hash`, if any.
    async fn calendar_feed_owner(&self, token_hash: &str) -> Result<Option<UserId>>;
    /// The bookings an owner's calendar feed shows: those of the owner's appointments (not
    /// deleted) that are active, or pending and not expired at `now`, whose slot ends at or
    /// after `ends_from`; by slot start, at most `limit`.
    async fn calendar_feed_bookings(
        &self,
        owner: UserId,
        ends_from: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<FeedBooking>>;
}

/// A [`Store`] that also keeps what the REST service needs (webhooks: [`WebhookStore`];
/// outgoing email: [`MailStore`]; calendar feeds: [`CalendarFeedStore`]). Each method is atomic.
#[async_trait]
pub trait ServiceStore: Store + WebhookStore + MailStore + CalendarFeedStore {
    /// Checks that the backend answers (for health checks).
    async fn ping(&self) -> Result<()>;

    /// Records that the token with id `jti` is revoked until `expires_at` (idempotent).
    async fn revoke_token(&self, jti: &str, expires_at: DateTime<Utc>) -> Result<()>;
    /// Whether the token with id `jti` was revoked.
    async fn is_token_revoked(&self, jti: &str) -> Result<bool>;

    /// Claims `key` for a request with the given fingerprint, atomically: exactly one of any
    /// number of concurrent callers gets [`IdempotencyClaim::Claimed`]. Records older than
    /// `expire_before` count as absent, and so do records still in progress (no answer) that
    /// were claimed before `lease_before`: their request is taken to have died (the lease ran
    /// out), and the key may be claimed again.
    async fn claim_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
        expire_before: DateTime<Utc>,
        lease_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim>;
    /// Stores the answer of a claimed key.
    async fn complete_idempotency_key(&self, key: &str, status: u16, body: &str) -> Result<()>;
    /// Gives a claimed key up without an answer (the request failed in a way worth retrying).
    async fn release_idempotency_key(&self, key: &str) -> Result<()>;

    /// Its connection pools as they are now (read without touching the database); empty for a
    /// store without pools (the default).
    fn pool_status(&self) -> Vec<PoolStatus> {
        Vec::new()
    }
}
