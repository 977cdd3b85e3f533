//! Prometheus metrics: what `GET /metrics` answers, and the counting behind it.
//!
//! Metrics are recorded with the [`metrics`] facade into a Prometheus recorder of
//! `metrics-exporter-prometheus` that belongs to the service (it is not installed as the process's
//! global recorder, so that an embedding application keeps its own, and two services in one
//! process count apart). `/metrics` renders it from an axum handler; the exporter's own HTTP
//! listener is not built.
//!
//! Metrics are off unless `METRICS_TOKEN` or `METRICS_ADDR` is set: then nothing is recorded
//! and `/metrics` does not exist (404). The series, all with a `# HELP` line:
//!
//! | name | type | labels |
//! | --- | --- | --- |
//! | `http_requests_total` | counter | `method`, `route` (the route template, `unmatched` for none), `status` |
//! | `http_request_duration_seconds` | histogram (1 ms to 10 s) | as above |
//! | `appointment_bookings_total` | counter | `outcome`: `booked`, `pending`, or the error code |
//! | `appointment_holds_total` | counter | `outcome`: `held`, or the error code |
//! | `appointment_waitlist_joins_total` | counter | `outcome`: `joined`, or the error code |
//! | `appointment_store_pool_connections` | gauge | `pool`, `state` (`in_use`, `idle`) |
//! | `appointment_store_pool_max_connections` | gauge | `pool` |
//! | `process_start_time_seconds` | gauge | |
//! | `appointment_build_info` | gauge (1) | `version` |
//!
//! Routes are templates (`/bookings/{booking_code}`), never the requested path: codes in paths
//! are credentials, and the number of series stays bounded. Error codes are the fixed `code`s of
//! error answers ([`ApiError::code`]).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use appointment_core::BookingStatus;
use appointment_store::ServiceStore;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{
    Label, SharedString, counter, describe_counter, describe_gauge, describe_histogram, gauge,
    histogram,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Secret;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// HTTP requests answered.
pub const HTTP_REQUESTS: &str = "http_requests_total";
/// How long HTTP requests took to answer.
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
/// Booking requests by outcome.
pub const BOOKINGS: &str = "appointment_bookings_total";
/// Hold requests by outcome.
pub const HOLDS: &str = "appointment_holds_total";
/// Requests to join a waiting list, by outcome.
pub const WAITLIST_JOINS: &str = "appointment_waitlist_joins_total";
/// A store pool's open connections, by state.
pub const POOL_CONNECTIONS: &str = "appointment_store_pool_connections";
/// The most connections a store pool opens.
pub const POOL_MAX: &str = "appointment_store_pool_max_connections";
/// Webhook delivery attempts, by result.
pub const WEBHOOK_DELIVERIES: &str = "appointment_webhook_deliveries_total";
/// Webhook deliveries not yet delivered or failed.
pub const WEBHOOK_PENDING: &str = "appointment_webhook_deliveries_pending";
/// How long the oldest pending webhook delivery has waited.
pub const WEBHOOK_OLDEST: &str = "appointment_webhook_oldest_pending_age_seconds";
/// Email messages sent (or tried), by result.
pub const MAIL_MESSAGES: &str = "appointment_mail_messages_total";
/// Email messages due and not yet sent.
pub const MAIL_PENDING: &str = "appointment_mail_messages_pending";
/// How long the oldest due email message has waited.
pub const MAIL_OLDEST: &str = "appointment_mail_oldest_pending_age_seconds";
/// Outbox events not yet fanned out into deliveries (counted up to [`OUTBOX_COUNT_LIMIT`]).
pub const OUTBOX_BACKLOG: &str = "appointment_outbox_backlog_events";
/// How long the oldest event not yet fanned out has waited.
pub const OUTBOX_OLDEST: &str = "appointment_outbox_oldest_event_age_seconds";
/// The most outbox events a scrape counts.
pub const OUTBOX_COUNT_LIMIT: u32 = 1000;
/// When the service started.
pub const START_TIME: &str = "process_start_time_seconds";
/// The service's version, as a label of a gauge that is always 1.
pub const BUILD_INFO: &str = "appointment_build_info";

/// The upper bounds (seconds) of the request latency histogram's buckets.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `route` of a request that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// How often histogram samples are folded into their buckets between scrapes.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The service's metrics: off (every count a no-op), or a recorder and how `/metrics` is guarded.
/// Cheap to clone.
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// SHA-256 of the bearer token `/metrics` requires, if any.
    token_digest: Option<[u8; 32]>,
    /// Whether `/metrics` is served on the service's own port (else on `METRICS_ADDR` only).
    on_main_port: bool,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("on", &self.is_on())
            .field(
                "token",
                &self.inner.as_ref().map(|i| i.token_digest.is_some()),
            )
            .finish()
    }
}

impl Metrics {
    /// Metrics off: nothing is recorded and `/metrics` is not served.
    pub fn off() -> Self {
        Metrics::default()
    }

    /// Metrics on, with a fresh recorder. `/metrics` requires `token` as a bearer token when
    /// given, and is served on the service's own port unless `separate_listener` (then only the
    /// listener of `METRICS_ADDR` serves it).
    pub fn on(token: Option<&Secret>, separate_listener: bool) -> Self {
        // The builder refuses empty buckets only, and LATENCY_BUCKETS is not empty (the API
        // tests read its buckets back).
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        metrics::with_local_recorder(&recorder, || {
            describe_counter!(
                HTTP_REQUESTS,
                "HTTP requests answered, by method, route template (unmatched: no route) and status code"
            );
            describe_histogram!(
                HTTP_DURATION,
                "Seconds from a request's arrival to its answer, by method, route template and status code"
            );
            describe_counter!(
                BOOKINGS,
                "Booking requests, by outcome: booked, pending (awaits the owner), or the error code (slot_full, duplicate, banned, invalid_input, ...)"
            );
            describe_counter!(HOLDS, "Hold requests, by outcome: held, or the error code");
            describe_counter!(
                WAITLIST_JOINS,
                "Requests to join a waiting list, by outcome: joined, or the error code"
            );
            describe_gauge!(
                POOL_CONNECTIONS,
                "Open connections of a store pool at scrape time, by state (in_use, idle)"
            );
            describe_gauge!(POOL_MAX, "The most connections a store pool opens");
            describe_counter!(
                WEBHOOK_DELIVERIES,
                "Webhook delivery attempts by this replica, by result: delivered, retry (failed, tried again later) or failed (no attempt left)"
            );
            describe_gauge!(
                WEBHOOK_PENDING,
                "Webhook deliveries not yet delivered or failed, at scrape time"
            );
            describe_gauge!(
                WEBHOOK_OLDEST,
                "Seconds the oldest pending webhook delivery has waited (0 when none waits)"
            );
            describe_counter!(
                MAIL_MESSAGES,
                "Email attempts by this replica, by result: sent, retry (failed, tried again later), failed (refused, or no attempt left) or skipped (a reminder of a booking cancelled or moved)"
            );
            describe_gauge!(
                MAIL_PENDING,
                "Email messages due and not yet sent, at scrape time (reminders for later are not counted)"
            );
            describe_gauge!(
                MAIL_OLDEST,
                "Seconds the oldest due email message has waited (0 when none waits)"
            );
            describe_gauge!(
                OUTBOX_BACKLOG,
                "Outbox events not yet fanned out into webhook deliveries (counted up to 1000)"
            );
            describe_gauge!(
                OUTBOX_OLDEST,
                "Seconds the oldest event not yet fanned out has waited (0 when none waits)"
            );
            describe_gauge!(
                START_TIME,
                "Start time of the service since the Unix epoch, in seconds"
            );
            describe_gauge!(
                BUILD_INFO,
                "Always 1; the version of the running service is its label"
            );
            gauge!(START_TIME).set(started);
            gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            // The successes exist from the start, so that a rate over the first one is right.
            for (name, outcome) in [
                (BOOKINGS, BOOKED),
                (BOOKINGS, PENDING),
                (HOLDS, HELD),
                (WAITLIST_JOINS, JOINED),
            ] {
                counter!(name, "outcome" => outcome).increment(0);
            }
            for result in [DELIVERED, RETRY, FAILED] {
                counter!(WEBHOOK_DELIVERIES, "result" => result).increment(0);
            }
            for result in [SENT, RETRY, FAILED, SKIPPED] {
                counter!(MAIL_MESSAGES, "result" => result).increment(0);
            }
        });
        let handle = recorder.handle();
        Metrics {
            inner: Some(Arc::new(Inner {
                recorder,
                handle,
                token_digest: token.map(|t| Sha256::digest(t.expose().as_bytes()).into()),
                on_main_port: !separate_listener,
            })),
        }
    }

    /// Whether metrics are recorded.
    pub fn is_on(&self) -> bool {
        self.inner.is_some()
    }

    /// Whether the service's own router serves `/metrics`.
    pub fn on_main_port(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| i.on_main_port)
    }

    /// Runs `record` against the service's recorder (nothing when metrics are off).
    fn record(&self, record: impl FnOnce()) {
        if let Some(inner) = &self.inner {
            metrics::with_local_recorder(&inner.recorder, record);
        }
    }

    /// Counts an answered HTTP request.
    pub fn observe_request(
        &self,
        method: &Method,
        route: Option<&MatchedPath>,
        status: StatusCode,
        took: Duration,
    ) {
        if self.inner.is_none() {
            return;
        }
        let route = route.map_or(SharedString::const_str(UNMATCHED_ROUTE), |r| {
            SharedString::from(Arc::<str>::from(r.as_str()))
        });
        let labels = vec![
            Label::from_static_parts("method", method_label(method)),
            Label::new("route", route),
            Label::new("status", status_label(status)),
        ];
        self.record(|| {
            counter!(HTTP_REQUESTS, labels.iter()).increment(1);
            histogram!(HTTP_DURATION, labels).record(took);
        });
    }

    /// Counts a booking request by its result: `booked`, `pending` or the error's code.
    pub fn count_booking(&self, result: Result<BookingStatus, &ApiError>) {
        let outcome = match result {
            Ok(BookingStatus::Pending) => PENDING,
            Ok(_) => BOOKED,
            Err(e) => e.code(),
        };
        self.count(BOOKINGS, outcome);
    }

    /// Counts a hold request by its result: `held` or the error's code.
    pub fn count_hold<T>(&self, result: &ApiResult<T>) {
        self.count(HOLDS, outcome(result, HELD));
    }

    /// Counts a request to join a waiting list by its result: `joined` or the error's code.
    pub fn count_waitlist_join<T>(&self, result: &ApiResult<T>) {
        self.count(WAITLIST_JOINS, outcome(result, JOINED));
    }

    /// Counts a webhook delivery attempt by its result ([`DELIVERED`], [`RETRY`], [`FAILED`]).
    pub fn count_delivery(&self, result: &'static str) {
        self.record(|| counter!(WEBHOOK_DELIVERIES, "result" => result).increment(1));
    }

    /// Counts an email attempt by its result ([`SENT`], [`RETRY`], [`FAILED`], [`SKIPPED`]).
    pub fn count_mail(&self, result: &'static str) {
        self.record(|| counter!(MAIL_MESSAGES, "result" => result).increment(1));
    }

    fn count(&self, name: &'static str, outcome: &'static str) {
        self.record(|| counter!(name, "outcome" => outcome).increment(1));
    }

    /// Whether `headers` carry the bearer token `/metrics` requires (any request does when no
    /// token is configured). The comparison takes the same time wherever the tokens differ.
    pub fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(inner) = &self.inner else {
            return false;
        };
        let Some(expected) = &inner.token_digest else {
            return true;
        };
        match crate::auth::bearer(headers) {
            Ok(Some(sent)) => {
                let sent: [u8; 32] = Sha256::digest(sent.as_bytes()).into();
                sent[..].ct_eq(&expected[..]).into()
            }
            _ => false,
        }
    }

    /// The metrics in the Prometheus text format, with the store's pools, the webhook backlog
    /// and the outbox backlog sampled now.
    pub async fn render(&self, store: &dyn ServiceStore) -> String {
        let Some(inner) = &self.inner else {
            return String::new();
        };
        let now = chrono::Utc::now();
        let age = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map_or(0.0, |t| (now - t).as_seconds_f64().max(0.0))
        };
        let deliveries = store.delivery_backlog().await.ok();
        let mail = store.mail_backlog(now).await.ok();
        let outbox = match store.webhook_cursor().await {
            Ok(cursor) => store
                .events_after(None, cursor, OUTBOX_COUNT_LIMIT)
                .await
                .ok()
                .map(|events| (events.len(), events.first().map(|e| e.at))),
            Err(_) => None,
        };
        self.record(|| {
            if let Some((pending, oldest)) = deliveries {
                gauge!(WEBHOOK_PENDING).set(pending as f64);
                gauge!(WEBHOOK_OLDEST).set(age(oldest));
            }
            if let Some((pending, oldest)) = mail {
                gauge!(MAIL_PENDING).set(pending as f64);
                gauge!(MAIL_OLDEST).set(age(oldest));
            }
            if let Some((backlog, oldest)) = outbox {
                gauge!(OUTBOX_BACKLOG).set(backlog as f64);
                gauge!(OUTBOX_OLDEST).set(age(oldest));
            }
        });
        let pools = store.pool_status();
        self.record(|| {
            for p in pools {
                let pool = p.pool;
                gauge!(POOL_CONNECTIONS, "pool" => pool, "state" => "in_use")
                    .set(f64::from(p.in_use));
                gauge!(POOL_CONNECTIONS, "pool" => pool, "state" => "idle").set(f64::from(p.idle));
                gauge!(POOL_MAX, "pool" => pool).set(f64::from(p.max));
            }
        });
        inner.handle.render()
    }

    /// Folds recorded latencies into their buckets every [`UPKEEP_EVERY`] (bounding the memory
    /// they take between scrapes), on a task that ends when the last clone of these metrics is
    /// dropped. Call once, on a Tokio runtime.
    pub fn spawn_upkeep(&self) {
        let Some(inner) = &self.inner else {
            return;
        };
        let inner = Arc::downgrade(inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(UPKEEP_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(inner) = inner.upgrade() else {
                    return;
                };
                inner.handle.run_upkeep();
            }
        });
    }
}

/// A webhook attempt's results, as labels.
pub const DELIVERED: &str = "delivered";
/// Failed, and tried again later.
pub const RETRY: &str = "retry";
/// Failed with no attempt left.
pub const FAILED: &str = "failed";
/// An email the SMTP server accepted.
pub const SENT: &str = "sent";
/// An email that no longer applied when it came due.
pub const SKIPPED: &str = "skipped";

const BOOKED: &str = "booked";
const PENDING: &str = "pending";
const HELD: &str = "held";
const JOINED: &str = "joined";

fn outcome<T>(result: &ApiResult<T>, ok: &'static str) -> &'static str {
    match result {
        Ok(_) => ok,
        Err(e) => e.code(),
    }
}

/// The method as a label: the standard ones by name, any other as `other` (methods are
/// client-chosen, and labels must stay few).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The status code as a label, without allocating for the codes the service answers.
fn status_label(status: StatusCode) -> SharedString {
    macro_rules! codes {
        ($($n:literal),*) => {
            match status.as_u16() {
                $($n => SharedString::const_str(stringify!($n)),)*
                _ => SharedString::from(status.as_str().to_owned()),
            }
        };
    }
    codes!(
        200, 201, 204, 304, 400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 500, 503, 504
    )
}

/// Counts every request the service answers (added around the router by
/// [`crate::routes::app`] when metrics are on).
pub async fn track(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let res = next.run(req).await;
    metrics.observe_request(&method, route.as_ref(), res.status(), started.elapsed());
    res
}

/// `GET /metrics`: the metrics in the Prometheus text format; 401 without the configured bearer
/// token.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !state.metrics.is_on() {
        return ApiError::route_not_found().into_response();
    }
    if !state.metrics.authorized(&headers) {
        let mut res = ApiError::unauthorized("a valid metrics token is required").into_response();
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return res;
    }
    let body = state.metrics.render(state.store.as_ref()).await;
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
}

/// The router of the `METRICS_ADDR` listener: `GET /metrics` and nothing else.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .fallback(|| async { ApiError::route_not_found() })
        .with_state(state)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_static_for_the_usual_codes_and_bounded_for_methods() {
        assert_eq!(&*status_label(StatusCode::CREATED), "201");
        assert_eq!(&*status_label(StatusCode::IM_A_TEAPOT), "418");
        assert_eq!(method_label(&Method::GET), "GET");
        let odd = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), "other");
    }

    #[test]
    fn the_token_is_required_exactly() {
        let metrics = Metrics::on(Some(&Secret::new("scrape-me")), false);
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            h
        };
        assert!(metrics.authorized(&with("Bearer scrape-me")));
        assert!(metrics.authorized(&with("bearer scrape-me")));
        assert!(!metrics.authorized(&with("Bearer scrape-m")));
        assert!(!metrics.authorized(&with("Bearer scrape-me2")));
        assert!(!metrics.authorized(&with("Basic scrape-me")));
        assert!(!metrics.authorized(&HeaderMap::new()));
        assert!(Metrics::on(None, true).authorized(&HeaderMap::new()));
        assert!(!Metrics::off().authorized(&with("Bearer scrape-me")));
        assert!(!format!("{metrics:?}").contains("scrape-me"));
    }
}
