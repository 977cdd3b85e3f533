//! Rate limits that slow a client down without locking anyone else out.
//!
//! A [`KeyedThrottle`] is a keyed GCRA limiter (`governor`) whose state is bounded: at most
//! `max_keys` keys are kept. When the table is full, keys whose limit has fully recovered are
//! pruned; if it is still full, the table is started afresh (a client's throttle may then reset
//! early, which is better than refusing everyone once an attacker with many addresses has filled
//! it). [`KeyedThrottle::prune`] also runs periodically, so that memory comes back after a burst.
//!
//! Logins are throttled per (email, client address) and per client address, never per email
//! alone, so that no client can keep another from logging in.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use parking_lot::RwLock;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// The default of the most keys a throttle keeps (`RATE_LIMIT_MAX_KEYS`).
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// A keyed rate limiter with bounded state.
pub struct KeyedThrottle<K: Hash + Eq + Clone> {
    limiter: RwLock<Arc<DefaultKeyedRateLimiter<K>>>,
    quota: Quota,
    max_keys: usize,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for KeyedThrottle<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedThrottle")
            .field("quota", &self.quota)
            .field("max_keys", &self.max_keys)
            .field("keys", &self.len())
            .finish()
    }
}

impl<K: Hash + Eq + Clone> KeyedThrottle<K> {
    /// A throttle allowing `quota` per key, keeping at most `max_keys` keys (at least 1).
    pub fn new(quota: Quota, max_keys: usize) -> Self {
        KeyedThrottle {
            limiter: RwLock::new(Arc::new(RateLimiter::keyed(quota))),
            quota,
            max_keys: max_keys.max(1),
        }
    }

    /// `n` per minute per key, the whole minute's worth available at once.
    pub fn per_minute(n: u32, max_keys: usize) -> Self {
        Self::new(
            Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)),
            max_keys,
        )
    }

    /// `n` per hour per key, the whole hour's worth available at once.
    pub fn per_hour(n: u32, max_keys: usize) -> Self {
        Self::new(
            Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)),
            max_keys,
        )
    }

    /// Counts one attempt for `key`: `Ok`, or how long to wait before the next is allowed.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        let limiter = Arc::clone(&self.limiter.read());
        if limiter.len() >= self.max_keys {
            drop(limiter);
            self.prune();
            return self.check_in(&Arc::clone(&self.limiter.read()), key);
        }
        self.check_in(&limiter, key)
    }

    fn check_in(&self, limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Duration> {
        limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets the keys whose limit has fully recovered and releases their memory; if the table
    /// is still full, starts it afresh.
    pub fn prune(&self) {
        let mut guard = self.limiter.write();
        guard.retain_recent();
        guard.shrink_to_fit();
        if guard.len() >= self.max_keys {
            tracing::warn!(
                keys = guard.len(),
                "a rate limiter is full of active keys; starting it afresh"
            );
            *guard = Arc::new(RateLimiter::keyed(self.quota));
        }
    }

    /// The number of keys kept.
    pub fn len(&self) -> usize {
        self.limiter.read().len()
    }

    /// Whether no key is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A client address as a throttle key: IPv4 as is (also when mapped into IPv6), IPv6 by its
/// /64 network, since one host usually holds a whole /64.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

/// 429 with `Retry-After` for a throttle's answer.
pub fn too_many(wait: Duration) -> ApiError {
    let secs = u32::try_from(wait.as_secs().saturating_add(1)).unwrap_or(u32::MAX);
    ApiError::rate_limited().with_retry_after(secs)
}

/// The login throttle: per (normalised email, client address) and per client address.
#[derive(Debug)]
pub struct LoginThrottle {
    per_pair: KeyedThrottle<(String, IpAddr)>,
    per_address: KeyedThrottle<IpAddr>,
}

/// How many times the per-(email, address) rate one address may try across emails.
pub const ADDRESS_FACTOR: u32 = 5;

impl LoginThrottle {
    /// `rate_per_minute` attempts per (email, address), five times as many per address.
    pub fn new(rate_per_minute: u32, max_keys: usize) -> Self {
        LoginThrottle {
            per_pair: KeyedThrottle::per_minute(rate_per_minute, max_keys),
            per_address: KeyedThrottle::per_minute(
                rate_per_minute.saturating_mul(ADDRESS_FACTOR),
                max_keys,
            ),
        }
    }

    /// Counts a login attempt for `email` (already normalised) from `ip`; 429 with
    /// `Retry-After` when it comes too soon.
    pub fn check(&self, email: &str, ip: IpAddr) -> Result<(), ApiError> {
        let address = address_key(ip);
        self.per_address.check(&address).map_err(too_many)?;
        self.per_pair
            .check(&(email.to_owned(), address))
            .map_err(too_many)
    }

    /// Prunes both tables.
    pub fn prune(&self) {
        self.per_pair.prune();
        self.per_address.prune();
    }

    /// The keys kept, in both tables.
    pub fn len(&self) -> usize {
        self.per_pair.len() + self.per_address.len()
    }

    /// Whether no key is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The bound on concurrent bcrypt jobs (`BCRYPT_THREADS`). A login takes one permit; a
/// registration first takes one of the registrations' permits (half of all, at least one), then
/// one of all, so that registrations never hold more than half and logins keep a share. Waiters
/// are served in order, and the request deadline bounds the wait.
#[derive(Debug)]
pub struct BcryptPermits {
    all: Arc<Semaphore>,
    registrations: Arc<Semaphore>,
}

/// Permission to run one bcrypt job; dropping it frees the place.
#[derive(Debug)]
pub struct BcryptPermit {
    _permits: Vec<OwnedSemaphorePermit>,
}

impl BcryptPermits {
    /// `threads` jobs at once (at least 1); registrations at most half of them (at least 1).
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        BcryptPermits {
            all: Arc::new(Semaphore::new(threads)),
            registrations: Arc::new(Semaphore::new((threads / 2).max(1))),
        }
    }

    /// Waits for a place for a login's bcrypt job.
    pub async fn for_login(&self) -> Result<BcryptPermit, ApiError> {
        let p = Arc::clone(&self.all)
            .acquire_owned()
            .await
            .map_err(|e| ApiError::internal(&e))?;
        Ok(BcryptPermit { _permits: vec![p] })
    }

    /// Waits for a place for a registration's bcrypt job.
    pub async fn for_registration(&self) -> Result<BcryptPermit, ApiError> {
        let r = Arc::clone(&self.registrations)
            .acquire_owned()
            .await
            .map_err(|e| ApiError::internal(&e))?;
        let p = Arc::clone(&self.all)
            .acquire_owned()
            .await
            .map_err(|e| ApiError::internal(&e))?;
        Ok(BcryptPermit {
            _permits: vec![p, r],
        })
    }

    /// Places free for any bcrypt job.
    pub fn available(&self) -> usize {
        self.all.available_permits()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[tokio::test]
    async fn registrations_hold_at_most_half_of_the_bcrypt_places() {
        let permits = BcryptPermits::new(4);
        let r1 = permits.for_registration().await.unwrap();
        let r2 = permits.for_registration().await.unwrap();
        assert_eq!(permits.available(), 2);
        assert_eq!(permits.registrations.available_permits(), 0);
        // Logins still find a place at once.
        let l1 = permits.for_login().await.unwrap();
        let l2 = permits.for_login().await.unwrap();
        assert_eq!(permits.available(), 0);
        drop((r1, r2, l1, l2));
        assert_eq!(permits.available(), 4);
        assert_eq!(BcryptPermits::new(1).registrations.available_permits(), 1);
    }

    use super::*;

    #[test]
    fn the_state_stays_bounded_under_many_distinct_emails() {
        let t = LoginThrottle::new(10, 1000);
        let ip = IpAddr::from([203, 0, 113, 9]);
        for i in 0..20_000 {
            let other = IpAddr::from([10, 0, (i / 256) as u8, (i % 256) as u8]);
            let _ = t.check(&format!("user{i}@example.com"), other);
            let _ = t.check(&format!("user{i}@example.com"), ip);
            assert!(t.per_pair.len() <= 1000, "{}", t.per_pair.len());
            assert!(t.per_address.len() <= 1000, "{}", t.per_address.len());
        }
    }

    #[test]
    fn one_address_failing_does_not_throttle_another() {
        let t = LoginThrottle::new(3, 100);
        let a = IpAddr::from([203, 0, 113, 1]);
        let b = IpAddr::from([203, 0, 113, 2]);
        for _ in 0..3 {
            assert!(t.check("victim@example.com", a).is_ok());
        }
        let err = t.check("victim@example.com", a).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::TOO_MANY_REQUESTS);
        assert!(err.retry_after().is_some_and(|s| s >= 1));
        assert!(t.check("victim@example.com", b).is_ok());
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(address_key(mapped), IpAddr::from([192, 0, 2, 1]));
    }

    #[test]
    fn pruning_forgets_recovered_keys() {
        let t: KeyedThrottle<u32> = KeyedThrottle::new(
            Quota::with_period(Duration::from_nanos(1)).unwrap(),
            1_000_000,
        );
        for k in 0..100 {
            assert!(t.check(&k).is_ok());
        }
        std::thread::yield_now();
        t.prune();
        assert!(t.len() < 100, "{}", t.len());
    }
}
