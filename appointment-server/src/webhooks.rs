//! Webhook delivery, off the request path.
//!
//! A [`Dispatcher`] runs beside the server in every replica:
//!
//! 1. **Fan-out.** It reads the outbox after the shared fan-out cursor, makes one delivery per
//!    event and endpoint that wants it (the endpoint's owner's events, of the types it chose,
//!    that happened since it was registered), and writes them together with the cursor's
//!    advance, conditional on the cursor not having moved: replicas never fan an event out twice.
//! 2. **Delivery.** It claims due deliveries under a lease (Postgres: `FOR UPDATE SKIP LOCKED`,
//!    so replicas share the work), sends each as a [Standard Webhooks] request (`webhook-id`,
//!    `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`),
//!    at most [`WebhookConfig::concurrency`] at once, each with a timeout, and records the
//!    outcome. A failed attempt is retried on [`WebhookConfig::retry_schedule`] (about a day by
//!    default, with ±20 % jitter); after the last one the delivery fails and its endpoint is
//!    marked failing. A replica killed mid-delivery loses nothing: the lease runs out and a
//!    replica sends it again (at least once). A lease lasts twice the request timeout. One
//!    subject's deliveries to one endpoint go in order.
//!
//! Targets: deliveries go only to public addresses unless the operator allows private ones
//! ([`WebhookConfig::allow_private_targets`]): loopback, private, link-local, shared, unique-local
//! and unspecified addresses are refused when an endpoint is registered and again, through the
//! resolver, every time a request connects (a name that resolves to a private address later is
//! refused then).
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com/

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use appointment_core::{Event, EventKind, Scheduler, UserId};
use appointment_store::{
    DeliveryAttempt, DeliveryStatus, DueDelivery, NewDelivery, ServiceStore, WebhookEndpoint,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::Sha256;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::courier::{Channel, Courier, next_attempt, repeat};
use crate::routes::events::EventBody;

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// The type of the message [`test_delivery`] sends.
pub const TEST_EVENT: &str = "webhook.test";

/// The default retry schedule: the waits after each failed attempt (8 attempts over about 27
/// hours).
pub const DEFAULT_RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Whether endpoints may be on loopback, private or link-local addresses
    /// (`WEBHOOK_ALLOW_PRIVATE_TARGETS`).
    pub allow_private_targets: bool,
    /// The most deliveries in flight at once (`WEBHOOK_CONCURRENCY`).
    pub concurrency: usize,
    /// How long one request may take (`WEBHOOK_TIMEOUT_MS`).
    pub timeout: Duration,
    /// The waits after each failed attempt (`WEBHOOK_RETRY_SCHEDULE`, seconds, comma-separated).
    pub retry_schedule: Vec<Duration>,
    /// How often the outbox and the due deliveries are looked at (`WEBHOOK_POLL_MS`).
    pub poll: Duration,
    /// How long events and finished deliveries are kept (`EVENT_RETENTION_DAYS`; `None`:
    /// forever). Events are kept at least until they were fanned out into deliveries.
    pub retention: Option<Duration>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            allow_private_targets: false,
            concurrency: 16,
            timeout: Duration::from_secs(10),
            retry_schedule: DEFAULT_RETRY_SCHEDULE.to_vec(),
            poll: Duration::from_millis(200),
            retention: Some(Duration::from_secs(30 * 86_400)),
        }
    }
}

impl WebhookConfig {
    /// Reads the `WEBHOOK_*` variables through `get`.
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut c = WebhookConfig::default();
        if let Some(v) = get("WEBHOOK_ALLOW_PRIVATE_TARGETS") {
            c.allow_private_targets = matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            );
        }
        if let Some(v) = get("WEBHOOK_CONCURRENCY") {
            c.concurrency = v
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=1024).contains(n))
                .ok_or_else(|| format!("WEBHOOK_CONCURRENCY must be 1 to 1024, not {v:?}"))?;
        }
        let millis = |var: &str, v: &str, max: u64| {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .map(Duration::from_millis)
                .ok_or_else(|| format!("{var} must be 1 to {max} milliseconds, not {v:?}"))
        };
        if let Some(v) = get("WEBHOOK_TIMEOUT_MS") {
            c.timeout = millis("WEBHOOK_TIMEOUT_MS", &v, 120_000)?;
        }
        if let Some(v) = get("WEBHOOK_POLL_MS") {
            c.poll = millis("WEBHOOK_POLL_MS", &v, 60_000)?;
        }
        if let Some(v) = get("EVENT_RETENTION_DAYS") {
            let days: u64 = v
                .trim()
                .parse()
                .ok()
                .filter(|n| *n <= 36_500)
                .ok_or_else(|| format!("EVENT_RETENTION_DAYS must be 0 to 36500, not {v:?}"))?;
            c.retention = (days > 0).then(|| Duration::from_secs(days * 86_400));
        }
        if let Some(v) = get("WEBHOOK_RETRY_SCHEDULE") {
            c.retry_schedule = parse_retry_schedule("WEBHOOK_RETRY_SCHEDULE", &v)?;
        }
        Ok(c)
    }
}

/// A retry schedule as configured in `var`: up to 20 comma-separated waits in seconds (0 to a
/// week each).
pub fn parse_retry_schedule(var: &str, v: &str) -> Result<Vec<Duration>, String> {
    v.split(',')
        .map(|s| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0 && *n <= 7.0 * 86_400.0)
                .map(Duration::from_secs_f64)
        })
        .collect::<Option<Vec<_>>>()
        .filter(|v| v.len() <= 20)
        .ok_or_else(|| {
            format!(
                "{var} must be up to 20 comma-separated waits in seconds (0 to 604800), not {v:?}"
            )
        })
}

/// A fresh signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill(&mut key);
    format!("{SECRET_PREFIX}{}", BASE64.encode(key))
}

/// The `webhook-signature` of a message: `v1,` and the base64 HMAC-SHA256, keyed with the
/// secret's decoded bytes, of `{id}.{timestamp}.{body}`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = BASE64
        .decode(key)
        .unwrap_or_else(|_| key.as_bytes().to_vec());
    #[allow(clippy::expect_used)]
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// Whether deliveries may go to `ip` when private targets are not allowed: not loopback,
/// private, link-local, shared (100.64/10), unique-local, multicast, broadcast or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Why a URL cannot be an endpoint, in words for the owner; `None` if it can.
pub async fn target_refusal(url: &str, allow_private: bool) -> Option<String> {
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return Some(format!("is not a URL ({e})")),
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return Some("must be an http:// or https:// URL".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some("must not carry credentials".into());
    }
    if url.len() > 2000 {
        return Some("must be at most 2000 characters".into());
    }
    let Some(host) = parsed.host_str() else {
        return Some("must name a host".into());
    };
    if allow_private {
        return None;
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => match tokio::net::lookup_host((host, port)).await {
            Ok(a) => a.collect(),
            Err(_) => return Some(format!("names a host that does not resolve ({host})")),
        },
    };
    if addrs.is_empty() || addrs.iter().any(|a| !is_public(a.ip())) {
        return Some(
            "resolves to a private, loopback or link-local address (the operator can allow \
             them with WEBHOOK_ALLOW_PRIVATE_TARGETS)"
                .into(),
        );
    }
    None
}

/// A resolver that answers only public addresses (used unless private targets are allowed), so
/// that a name cannot point a delivery at the operator's network after it was registered.
#[derive(Debug, Clone, Copy)]
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err("the host resolves to no public address".into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// The body of a test message for an endpoint.
pub fn test_delivery(endpoint: &WebhookEndpoint, now: DateTime<Utc>) -> NewDelivery {
    let id = Uuid::new_v4();
    let payload = serde_json::json!({
        "id": id.to_string(),
        "type": TEST_EVENT,
        "version": appointment_core::EVENT_VERSION,
        "timestamp": crate::dto::timestamp(now),
        "data": { "endpoint_id": endpoint.id.to_string() },
    });
    NewDelivery {
        id: Uuid::new_v4(),
        endpoint_id: endpoint.id,
        event_id: id,
        event_type: TEST_EVENT.into(),
        subject_id: endpoint.id,
        payload: payload.to_string(),
        created_at: now,
    }
}

/// Sends webhook deliveries: the [`Channel`] a [`Courier`] runs for the [`Dispatcher`].
#[derive(Clone)]
pub struct WebhookChannel {
    store: Arc<dyn ServiceStore>,
    client: reqwest::Client,
    retry_schedule: Arc<[Duration]>,
    metrics: crate::metrics::Metrics,
}

impl std::fmt::Debug for WebhookChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookChannel").finish_non_exhaustive()
    }
}

impl Channel for WebhookChannel {
    type Due = DueDelivery;
    type Outcome = DeliveryAttempt;
    const NAME: &'static str = "webhooks";

    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> appointment_core::Result<Vec<DueDelivery>> {
        self.store.claim_deliveries(now, lease_until, limit).await
    }

    async fn attempt(&self, due: &DueDelivery) -> DeliveryAttempt {
        self.send(due).await
    }

    async fn finish(
        &self,
        due: &DueDelivery,
        outcome: &DeliveryAttempt,
    ) -> appointment_core::Result<()> {
        self.store
            .finish_delivery(due.id, due.attempt, outcome)
            .await
    }

    fn count(&self, outcome: &DeliveryAttempt) {
        self.metrics.count_delivery(match outcome.status {
            DeliveryStatus::Delivered => crate::metrics::DELIVERED,
            DeliveryStatus::Pending => crate::metrics::RETRY,
            DeliveryStatus::Failed => crate::metrics::FAILED,
        });
    }
}

impl WebhookChannel {
    /// Sends one delivery and says what came of it.
    async fn send(&self, d: &DueDelivery) -> DeliveryAttempt {
        let started = std::time::Instant::now();
        let timestamp = Utc::now().timestamp();
        let id = d.event_id.to_string();
        let result = self
            .client
            .post(&d.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                sign(&d.secret, &id, timestamp, &d.payload),
            )
            .body(d.payload.clone())
            .send()
            .await;
        let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        let at = Utc::now();
        let (status_code, error) = match result {
            Ok(res) if res.status().is_success() => {
                return DeliveryAttempt {
                    status: DeliveryStatus::Delivered,
                    next_attempt_at: None,
                    status_code: Some(res.status().as_u16()),
                    error: None,
                    latency_ms,
                    at,
                };
            }
            Ok(res) => (
                Some(res.status().as_u16()),
                format!("the endpoint answered HTTP {}", res.status().as_u16()),
            ),
            Err(e) if e.is_timeout() => (None, "the request timed out".to_owned()),
            Err(e) if e.is_connect() => (None, "could not connect to the endpoint".to_owned()),
            Err(_) => (None, "the request failed".to_owned()),
        };
        let next_attempt_at = next_attempt(&self.retry_schedule, d.attempt, at);
        DeliveryAttempt {
            status: if next_attempt_at.is_some() {
                DeliveryStatus::Pending
            } else {
                DeliveryStatus::Failed
            },
            next_attempt_at,
            status_code,
            error: Some(error),
            latency_ms,
            at,
        }
    }
}

/// Fans the outbox out and delivers; see the [module documentation](self).
#[derive(Clone)]
pub struct Dispatcher {
    store: Arc<dyn ServiceStore>,
    scheduler: Scheduler<dyn ServiceStore>,
    config: WebhookConfig,
    wake: Arc<Notify>,
    courier: Courier<WebhookChannel>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// How often old events and deliveries are pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Events read from the outbox per fan-out round.
const FAN_OUT_BATCH: u32 = 200;

impl Dispatcher {
    /// A dispatcher over the scheduler's store.
    pub fn new(
        scheduler: Scheduler<dyn ServiceStore>,
        store: Arc<dyn ServiceStore>,
        config: WebhookConfig,
    ) -> Self {
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "AppointmentMaster-Webhooks/",
                env!("CARGO_PKG_VERSION")
            ));
        if !config.allow_private_targets {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let client = builder.build().unwrap_or_default();
        let channel = WebhookChannel {
            store: store.clone(),
            client,
            retry_schedule: config.retry_schedule.clone().into(),
            metrics: crate::metrics::Metrics::off(),
        };
        Dispatcher {
            store,
            scheduler,
            courier: Courier::new(channel, config.concurrency, config.poll, config.timeout * 2),
            config,
            wake: Arc::new(Notify::new()),
        }
    }

    /// The dispatcher, counting its attempts into `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        let channel = WebhookChannel {
            metrics,
            ..self.courier.channel().clone()
        };
        self.courier = Courier::new(
            channel,
            self.config.concurrency,
            self.config.poll,
            self.config.timeout * 2,
        );
        self
    }

    /// Whether private targets are allowed.
    pub fn allows_private_targets(&self) -> bool {
        self.config.allow_private_targets
    }

    /// Makes the dispatcher look at the outbox and the deliveries now rather than at its next
    /// poll.
    pub fn wake(&self) {
        self.wake.notify_one();
        self.courier.wake();
    }

    /// Runs until the task is dropped: two loops side by side, so that neither waits for the
    /// other under load. The fan-out loop turns the outbox into deliveries batch after batch
    /// while it is behind (then every poll, or when woken), and every [`PRUNE_EVERY`] prunes
    /// what is older than the retention; the delivery loop ([`Courier::run`]) claims as many
    /// due deliveries as it has free places for, and claims again as soon as a place frees up.
    pub async fn run(self) {
        let this = &self;
        let mut pruned_at: Option<std::time::Instant> = None;
        let fan_out = repeat(self.config.poll, &self.wake, "webhook fan-out", || {
            let prune = pruned_at.is_none_or(|t| t.elapsed() >= PRUNE_EVERY);
            if prune {
                pruned_at = Some(std::time::Instant::now());
            }
            async move {
                if prune && let Err(e) = this.prune().await {
                    tracing::warn!(error = %e, "pruning old events and deliveries failed");
                }
                let n = this.fan_out_once().await?;
                if n > 0 {
                    this.courier.wake();
                }
                Ok(n == FAN_OUT_BATCH as usize)
            }
        });
        tokio::join!(fan_out, self.courier.run());
    }

    /// Removes events, finished deliveries and finished email messages older than the retention
    /// on the wall clock (events only once they were fanned out into deliveries and made into
    /// messages); answers how many of each.
    pub async fn prune(&self) -> appointment_core::Result<(u64, u64, u64)> {
        let Some(keep) = self
            .config
            .retention
            .and_then(|r| chrono::TimeDelta::from_std(r).ok())
        else {
            return Ok((0, 0, 0));
        };
        let before = Utc::now() - keep;
        let (events, deliveries) = self.store.prune_before(before).await?;
        let messages = self.store.prune_mail_before(before).await?;
        if events + deliveries + messages > 0 {
            tracing::info!(
                events,
                deliveries,
                messages,
                "pruned old events, webhook deliveries and email messages"
            );
        }
        Ok((events, deliveries, messages))
    }

    /// Fans out everything the outbox holds after the cursor, batch after batch; answers how
    /// many events it fanned out.
    pub async fn fan_out(&self) -> appointment_core::Result<usize> {
        let mut fanned = 0;
        loop {
            let n = self.fan_out_once().await?;
            fanned += n;
            if n < FAN_OUT_BATCH as usize {
                return Ok(fanned);
            }
        }
    }

    /// Fans out one batch of events (at most [`FAN_OUT_BATCH`]); answers how many (0 also when
    /// another replica fanned them out first).
    pub async fn fan_out_once(&self) -> appointment_core::Result<usize> {
        let from = self.store.webhook_cursor().await?;
        let events = self.scheduler.events(None, from, FAN_OUT_BATCH).await?;
        let Some(last) = events.last().map(|e| e.cursor) else {
            return Ok(0);
        };
        let deliveries = self.deliveries_for(&events).await?;
        if !self
            .store
            .enqueue_deliveries(from, last, &deliveries)
            .await?
        {
            return Ok(0);
        }
        Ok(events.len())
    }

    async fn deliveries_for(&self, events: &[Event]) -> appointment_core::Result<Vec<NewDelivery>> {
        let mut endpoints: HashMap<UserId, Vec<WebhookEndpoint>> = HashMap::new();
        let mut out = Vec::new();
        // Deliveries are timed on the wall clock (due now), whatever clock the engine keeps.
        let queued = Utc::now();
        for e in events {
            if let std::collections::hash_map::Entry::Vacant(slot) = endpoints.entry(e.owner) {
                slot.insert(self.store.webhooks(e.owner).await?);
            }
            let wanted = endpoints
                .get(&e.owner)
                .into_iter()
                .flatten()
                .filter(|w| w.enabled && w.wants(e.kind.as_str()) && e.at >= w.created_at);
            let mut payload = None;
            for w in wanted {
                let body = payload
                    .get_or_insert_with(|| {
                        serde_json::to_string(&EventBody::from(e)).unwrap_or_default()
                    })
                    .clone();
                out.push(NewDelivery {
                    id: Uuid::new_v4(),
                    endpoint_id: w.id,
                    event_id: e.id.0,
                    event_type: e.kind.as_str().to_owned(),
                    subject_id: e.subject_id(),
                    payload: body,
                    created_at: queued,
                });
            }
        }
        Ok(out)
    }

    /// Claims what is due (as many as there are free places) and sends each on its own task;
    /// answers how many it claimed.
    pub async fn deliver_due(&self) -> appointment_core::Result<usize> {
        self.courier.deliver_due().await
    }
}

/// Whether an event type can be asked for (an outbox event type, or the test message).
pub fn known_event_type(kind: &str) -> bool {
    kind.parse::<EventKind>().is_ok_and(|k| k.as_str() == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_specification_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_fresh_and_prefixed() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with(SECRET_PREFIX));
        assert_ne!(a, b);
        assert_eq!(
            BASE64
                .decode(a.trim_start_matches(SECRET_PREFIX))
                .expect("base64")
                .len(),
            32
        );
    }

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn retry_schedule_is_read() {
        let c = WebhookConfig::from_lookup(&|k| {
            (k == "WEBHOOK_RETRY_SCHEDULE").then(|| "0.05, 1".to_owned())
        })
        .expect("config");
        assert_eq!(
            c.retry_schedule,
            vec![Duration::from_millis(50), Duration::from_secs(1)]
        );
        assert!(
            WebhookConfig::from_lookup(&|k| (k == "WEBHOOK_RETRY_SCHEDULE").then(|| "x".into()))
                .is_err()
        );
        assert!(
            WebhookConfig::from_lookup(&|k| (k == "WEBHOOK_CONCURRENCY").then(|| "0".into()))
                .is_err()
        );
    }
}
