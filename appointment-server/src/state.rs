//! What every handler shares.

use std::num::NonZeroU32;
use std::sync::Arc;

use appointment_core::Scheduler;
use appointment_store::ServiceStore;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::TokenKeys;

/// The state of the service: the engine, its store, the token keys and the login limiter.
#[derive(Clone)]
pub struct AppState {
    /// The booking engine (every business rule).
    pub scheduler: Scheduler<dyn ServiceStore>,
    /// The same store, for what the service keeps besides bookings (revoked tokens,
    /// idempotency records, health).
    pub store: Arc<dyn ServiceStore>,
    /// Signs and verifies tokens.
    pub keys: Arc<TokenKeys>,
    /// bcrypt work factor for new passwords.
    pub bcrypt_cost: u32,
    /// Login attempts per email.
    pub login_limiter: Arc<DefaultKeyedRateLimiter<String>>,
    /// Login attempts per client IP (five times the per-email rate).
    pub ip_limiter: Arc<DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// Whether the client IP comes from the last `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
    /// A bcrypt hash of a random password, verified against for unknown emails so that a login
    /// takes as long whether or not the account exists.
    pub dummy_hash: Arc<str>,
    /// The longest a request may run before it is answered with a 504.
    pub request_timeout: std::time::Duration,
    /// Device tokens minted per user and per client address.
    pub device_token_limits: Arc<crate::auth::DeviceTokenLimits>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("bcrypt_cost", &self.bcrypt_cost)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Builds the state. Hashing the dummy password takes one bcrypt run at `bcrypt_cost`.
    pub async fn new(
        store: Arc<dyn ServiceStore>,
        keys: TokenKeys,
        bcrypt_cost: u32,
        login_rate_per_minute: u32,
    ) -> Result<Self, crate::error::ApiError> {
        let dummy_password = uuid::Uuid::new_v4().to_string();
        let dummy_hash = crate::auth::hash_password(dummy_password, bcrypt_cost).await?;
        let rate = NonZeroU32::new(login_rate_per_minute).unwrap_or(NonZeroU32::MIN);
        let ip_rate = rate.saturating_mul(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN));
        Ok(AppState {
            scheduler: Scheduler::from_arc(Arc::clone(&store)),
            store,
            keys: Arc::new(keys),
            bcrypt_cost,
            login_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(rate))),
            ip_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(ip_rate))),
            trust_forwarded_for: false,
            dummy_hash: dummy_hash.into(),
            request_timeout: crate::config::DEFAULT_REQUEST_TIMEOUT,
            device_token_limits: Arc::default(),
        })
    }
}
