//! What every handler shares.

use std::sync::Arc;

use appointment_core::Scheduler;
use appointment_store::ServiceStore;

use crate::auth::TokenKeys;
use crate::config::Limits;
use crate::throttle::{BcryptPermits, KeyedThrottle, LoginThrottle, address_key};

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
    /// Login attempts per (email, client address) and per client address.
    pub login_throttle: Arc<LoginThrottle>,
    /// Registrations per client address.
    pub registration_throttle: Arc<KeyedThrottle<std::net::IpAddr>>,
    /// Owner writes per user.
    pub owner_writes: Arc<KeyedThrottle<appointment_core::UserId>>,
    /// The bound on concurrent analytics computations.
    pub analytics_work: Arc<crate::routes::analytics::AnalyticsWork>,
    /// The bound on concurrent bcrypt jobs.
    pub bcrypt_permits: Arc<BcryptPermits>,
    /// Rate limits and bounds on work.
    pub limits: Limits,
    /// Whether the client IP comes from the last `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
    /// A bcrypt hash of a random password, verified against for unknown emails so that a login
    /// takes as long whether or not the account exists.
    pub dummy_hash: Arc<str>,
    /// The longest a request may run before it is answered with a 504.
    pub request_timeout: std::time::Duration,
    /// Device tokens minted per user and per client address.
    pub device_token_limits: Arc<crate::auth::DeviceTokenLimits>,
    /// The service's metrics (off unless configured).
    pub metrics: crate::metrics::Metrics,
    /// Webhook delivery (its loop runs beside the server).
    pub webhooks: crate::webhooks::Dispatcher,
    /// Email (its loop runs beside the server; off unless configured).
    pub mail: crate::mail::Mailer,
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
        let scheduler = Scheduler::from_arc(Arc::clone(&store));
        Ok(AppState {
            mail: crate::mail::Mailer::off(scheduler.clone(), Arc::clone(&store)),
            webhooks: crate::webhooks::Dispatcher::new(
                scheduler.clone(),
                Arc::clone(&store),
                crate::webhooks::WebhookConfig::default(),
            ),
            scheduler,
            store,
            keys: Arc::new(keys),
            bcrypt_cost,
            login_throttle: Arc::new(LoginThrottle::new(
                login_rate_per_minute,
                Limits::default().rate_limit_max_keys,
            )),
            registration_throttle: Arc::new(KeyedThrottle::per_hour(
                Limits::default().registration_rate_per_hour,
                Limits::default().rate_limit_max_keys,
            )),
            owner_writes: Arc::new(KeyedThrottle::per_minute(
                Limits::default().owner_write_rate_per_minute,
                Limits::default().rate_limit_max_keys,
            )),
            bcrypt_permits: Arc::new(BcryptPermits::new(Limits::default().bcrypt_threads)),
            analytics_work: Arc::new(crate::routes::analytics::AnalyticsWork::for_this_machine()),
            limits: Limits::default(),
            trust_forwarded_for: false,
            dummy_hash: dummy_hash.into(),
            request_timeout: crate::config::DEFAULT_REQUEST_TIMEOUT,
            device_token_limits: Arc::default(),
            metrics: crate::metrics::Metrics::off(),
        })
    }

    /// The state with `limits` and a login rate of `login_rate_per_minute` (fresh limiters).
    pub fn with_limits(self, login_rate_per_minute: u32, limits: Limits) -> Self {
        AppState {
            login_throttle: Arc::new(LoginThrottle::new(
                login_rate_per_minute,
                limits.rate_limit_max_keys,
            )),
            registration_throttle: Arc::new(KeyedThrottle::per_hour(
                limits.registration_rate_per_hour,
                limits.rate_limit_max_keys,
            )),
            owner_writes: Arc::new(KeyedThrottle::per_minute(
                limits.owner_write_rate_per_minute,
                limits.rate_limit_max_keys,
            )),
            bcrypt_permits: Arc::new(BcryptPermits::new(limits.bcrypt_threads)),
            limits,
            ..self
        }
    }

    /// Forgets the rate limiters' keys whose limits have recovered (run periodically).
    pub fn prune_limiters(&self) {
        self.login_throttle.prune();
        self.registration_throttle.prune();
        self.owner_writes.prune();
    }

    /// Counts a write of an owner (an appointment created, a ban added or lifted, a booking
    /// rejected): 429 with `Retry-After` past the per-minute rate.
    pub fn check_owner_write(
        &self,
        user: appointment_core::UserId,
    ) -> Result<(), crate::error::ApiError> {
        self.owner_writes
            .check(&user)
            .map_err(crate::throttle::too_many)
    }

    /// Counts a registration from `ip`: 429 with `Retry-After` past the hourly rate.
    pub fn check_registration(&self, ip: std::net::IpAddr) -> Result<(), crate::error::ApiError> {
        self.registration_throttle
            .check(&address_key(ip))
            .map_err(crate::throttle::too_many)
    }
}
