//! The router: every route, the middleware stack, and the OpenAPI document.

pub mod analytics;
pub mod appointments;
pub mod ban_list;
pub mod bookings;
pub mod calendars;
pub mod events;
pub mod health;
pub mod holds;
pub mod users;
pub mod waitlist;
pub mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::idempotency::idempotency;
use crate::state::AppState;

/// The OpenAPI document of the service, generated from the handlers.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Appointment Master API"),
    paths(
        health::root, health::health,
        users::create_user, users::verify_email, users::resend_verification, users::login,
        users::logout, users::device_token,
        appointments::create_appointment, appointments::my_appointments,
        appointments::update_appointment, appointments::close_appointment,
        appointments::reopen_appointment, appointments::delete_appointment,
        appointments::registered_bookings, appointments::appointment_bookings,
        appointments::public_appointment, appointments::slots, appointments::slots_by_day,
        bookings::book_guest, bookings::book_registered, bookings::get_booking,
        bookings::update_booking, bookings::cancel_booking, bookings::reject_booking,
        bookings::complete_booking, bookings::no_show_booking, bookings::confirm_booking,
        bookings::decline_booking,
        calendars::booking_ics, calendars::create_feed, calendars::delete_feed, calendars::feed,
        holds::create_hold, holds::get_hold, holds::release_hold,
        waitlist::join_waitlist, waitlist::get_place, waitlist::leave_waitlist,
        ban_list::add_ban, ban_list::remove_ban, ban_list::list_bans, analytics::analytics,
        events::list_events,
        webhooks::create_webhook, webhooks::list_webhooks, webhooks::get_webhook,
        webhooks::update_webhook, webhooks::delete_webhook, webhooks::rotate_secret,
        webhooks::test_webhook, webhooks::list_deliveries,
    ),
    modifiers(&BearerAuth, &DatabaseUnavailable, &EventWebhooks),
    tags(
        (name = "Authentication", description = "Tokens for users and devices"),
        (name = "Users", description = "Accounts"),
        (name = "Appointments", description = "Appointments and their owners' views"),
        (name = "Bookings", description = "Slots and bookings"),
        (name = "Calendars", description = "Bookings as iCalendar (RFC 5545): one booking, or an owner's subscription feed"),
        (name = "Ban list", description = "Emails an owner refuses"),
        (name = "Analytics", description = "An owner's figures"),
        (name = "Events", description = "What happened on an owner's appointments, in order"),
        (name = "Webhooks", description = "Events sent to an owner's endpoints, signed"),
        (name = "Health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

/// Documents what webhook endpoints receive (the OpenAPI 3.1 `webhooks` map): one request per
/// event type and the test message, each a signed `POST` of the event as `GET /events` shows
/// it.
struct EventWebhooks;

impl Modify for EventWebhooks {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
        use utoipa::openapi::request_body::RequestBodyBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{
            ContentBuilder, HttpMethod, PathItem, PathsBuilder, Ref, Required, ResponseBuilder,
        };
        let header = |name: &str, description: &str| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some(description))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        let kinds = appointment_core::EventKind::ALL
            .iter()
            .map(|k| k.as_str())
            .chain([crate::webhooks::TEST_EVENT]);
        let mut paths = PathsBuilder::new();
        for kind in kinds {
            let what = if kind == crate::webhooks::TEST_EVENT {
                "The test message `POST /webhooks/{webhook_id}/test` sends (`data` holds the \
                 endpoint's id)."
                    .to_owned()
            } else {
                format!(
                    "Sent for every `{kind}` event on the owner's appointments to each endpoint \
                     that wants it (all types when `event_types` is empty)."
                )
            };
            let operation = OperationBuilder::new()
                .tag("Webhooks")
                .summary(Some(format!("`{kind}`")))
                .description(Some(format!(
                    "{what} Signed as Standard Webhooks: verify `webhook-signature` over \
                     `webhook-id.webhook-timestamp.body` with the endpoint's secret. At least \
                     once; one subject's events in order."
                )))
                .parameter(header(
                    "webhook-id",
                    "The event's id: the same on every attempt (deduplicate on it)",
                ))
                .parameter(header(
                    "webhook-timestamp",
                    "Seconds since the Unix epoch when this attempt was signed",
                ))
                .parameter(header(
                    "webhook-signature",
                    "`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the \
                     secret's bytes after `whsec_`",
                ))
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("EventBody")))
                                .build(),
                        )
                        .build(),
                ))
                .response(
                    "2XX",
                    ResponseBuilder::new()
                        .description("Delivered. Any other answer, or none within the timeout, is retried later")
                        .build(),
                );
            paths = paths.path(kind, PathItem::new(HttpMethod::Post, operation));
        }
        openapi.webhooks = Some(paths.build());
    }
}

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Documents the 503 (with `Retry-After`) that every operation touching the database answers
/// while the database cannot be reached, and the 504 of a request that ran past the deadline.
/// `/` touches nothing; `/health` keeps its own 503 (its body is the health report).
struct DatabaseUnavailable;

impl Modify for DatabaseUnavailable {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, ResponseBuilder};
        let response = ResponseBuilder::new()
            .description(
                "The database cannot be reached right now; retry after `Retry-After` seconds",
            )
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                    .description(Some("Seconds to wait before retrying"))
                    .build(),
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        let timeout = ResponseBuilder::new()
            .description(
                "The request ran past the service's deadline and was abandoned; it may or may not have taken effect",
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        for (path, item) in &mut openapi.paths.paths {
            if path == "/" {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                op.responses
                    .responses
                    .entry("503".to_owned())
                    .or_insert_with(|| response.clone().into());
                op.responses
                    .responses
                    .entry("504".to_owned())
                    .or_insert_with(|| timeout.clone().into());
            }
        }
    }
}

/// The OpenAPI document as pretty JSON with a final newline (the committed `openapi.json`).
pub fn openapi_json() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// Answers 504 when a request runs past the deadline, abandoning its work (a store call waiting on a
/// database that went silent is dropped, and its transaction with it).
async fn deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::timeout().into_response(),
    }
}

/// How much longer than the handlers' deadline the whole request (with its `Idempotency-Key`
/// bookkeeping) may take before the outer deadline answers 504.
pub const OUTER_DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// Refuses a declared body over the limit before anything reads it.
async fn limit_declared_length(req: Request, next: Next) -> Response {
    let too_long = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > BODY_LIMIT as u64);
    if too_long {
        return ApiError::payload_too_large(BODY_LIMIT).into_response();
    }
    next.run(req).await
}

/// The request header carrying the request id.
pub const REQUEST_ID: &str = "x-request-id";
/// The longest request id kept from a client.
pub const MAX_REQUEST_ID: usize = 64;

/// Whether a client's request id is kept: 1 to [`MAX_REQUEST_ID`] characters of
/// `[A-Za-z0-9._-]`. Any other is replaced by a fresh one, so that what is echoed and logged is
/// never the client's raw bytes.
pub fn acceptable_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Drops an `X-Request-Id` that is not acceptable (or sent more than once), so that a fresh one
/// is made for the request.
async fn sanitize_request_id(mut req: Request) -> Request {
    let headers = req.headers_mut();
    let mut sent = headers.get_all(REQUEST_ID).iter();
    let keep = match (sent.next(), sent.next()) {
        (Some(id), None) => acceptable_request_id(id.as_bytes()),
        (None, _) => true,
        (Some(_), Some(_)) => false,
    };
    if !keep {
        headers.remove(REQUEST_ID);
    }
    req
}

/// The path for logs, with booking codes, hold tokens and calendar-feed tokens hidden: each
/// lets its holder read or change what it names, so it is a credential and stays out of the
/// logs.
pub fn redact_path(path: &str) -> String {
    let mut previous = "";
    path.split('/')
        .map(|seg| {
            let shown = match seg.get(..3) {
                _ if !seg.is_empty() && previous.eq_ignore_ascii_case("calendar-feed") => "***",
                Some(p) if seg.len() > 3 && p.eq_ignore_ascii_case("bk-") => "BK-***",
                Some(p) if seg.len() > 3 && p.eq_ignore_ascii_case("hd-") => "HD-***",
                Some(p) if seg.len() > 3 && p.eq_ignore_ascii_case("wl-") => "WL-***",
                _ => seg,
            };
            previous = seg;
            shown
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal(&"a handler panicked").into_response()
}

fn cors(origins: &[String]) -> CorsLayer {
    let allow_origin = if origins.is_empty() {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-device-token"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(Duration::from_secs(3600))
}

/// The whole service: routes, Swagger UI at `/swagger-ui`, the spec at `/openapi.json`, and the
/// middleware (request ids, logs, CORS, body limit, panics as JSON 500s). With metrics on, every
/// request is counted, and `/metrics` is served here unless it has a listener of its own.
pub fn app(state: AppState, cors_origins: &[String]) -> Router {
    // The handlers' deadline sits inside the idempotency middleware, so that a 504 is the answer
    // it records; the outer one also bounds that bookkeeping.
    let handler_deadline = middleware::from_fn_with_state(state.request_timeout, deadline);
    let outer_deadline =
        middleware::from_fn_with_state(state.request_timeout + OUTER_DEADLINE_MARGIN, deadline);
    let booking_posts = Router::new()
        .route("/appointments/book", post(bookings::book_guest))
        .route(
            "/appointments/book/registered",
            post(bookings::book_registered),
        )
        .route("/holds", post(holds::create_hold))
        .route("/waitlist", post(waitlist::join_waitlist))
        .route_layer(handler_deadline.clone())
        .route_layer(middleware::from_fn_with_state(state.clone(), idempotency));

    let mut api = Router::new()
        .route("/", get(health::root))
        .route("/health", get(health::health))
        .route("/users", post(users::create_user))
        .route("/users/verify-email", get(users::verify_email))
        .route("/users/me/verify-email", post(users::resend_verification))
        .route("/login", post(users::login))
        .route("/logout", post(users::logout))
        .route("/auth/device-token", post(users::device_token))
        .route("/appointments", post(appointments::create_appointment))
        .route("/appointments/my", get(appointments::my_appointments))
        .route(
            "/appointments/{app_code}",
            patch(appointments::update_appointment).delete(appointments::delete_appointment),
        )
        .route(
            "/appointments/{app_code}/close",
            post(appointments::close_appointment),
        )
        .route(
            "/appointments/{app_code}/reopen",
            post(appointments::reopen_appointment),
        )
        .route(
            "/appointments/registered",
            get(appointments::registered_bookings),
        )
        .route(
            "/appointments/users/{app_code}",
            get(appointments::appointment_bookings),
        )
        .route(
            "/appointments/{app_code}/public",
            get(appointments::public_appointment),
        )
        .route("/appointments/slots/{app_code}", get(appointments::slots))
        .route(
            "/appointments/slots/{app_code}/by-day",
            get(appointments::slots_by_day),
        )
        .route(
            "/bookings/{booking_code}",
            get(bookings::get_booking)
                .put(bookings::update_booking)
                .delete(bookings::cancel_booking),
        )
        .route("/bookings/{booking_code}/ics", get(calendars::booking_ics))
        .route(
            "/calendar-feed",
            post(calendars::create_feed).delete(calendars::delete_feed),
        )
        // `{token}.ics`: the router has no suffixes, the handler strips it.
        .route("/calendar-feed/{token}", get(calendars::feed))
        .route(
            "/bookings/{booking_code}/reject",
            post(bookings::reject_booking),
        )
        .route(
            "/bookings/{booking_code}/confirm",
            post(bookings::confirm_booking),
        )
        .route(
            "/bookings/{booking_code}/decline",
            post(bookings::decline_booking),
        )
        .route(
            "/bookings/{booking_code}/complete",
            post(bookings::complete_booking),
        )
        .route(
            "/bookings/{booking_code}/no-show",
            post(bookings::no_show_booking),
        )
        .route(
            "/holds/{hold_token}",
            get(holds::get_hold).delete(holds::release_hold),
        )
        .route(
            "/waitlist/{waitlist_code}",
            get(waitlist::get_place).delete(waitlist::leave_waitlist),
        )
        .route("/analytics", get(analytics::analytics))
        .route("/events", get(events::list_events))
        .route(
            "/webhooks",
            get(webhooks::list_webhooks).post(webhooks::create_webhook),
        )
        .route(
            "/webhooks/{webhook_id}",
            get(webhooks::get_webhook)
                .patch(webhooks::update_webhook)
                .delete(webhooks::delete_webhook),
        )
        .route(
            "/webhooks/{webhook_id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route("/webhooks/{webhook_id}/test", post(webhooks::test_webhook))
        .route(
            "/webhooks/{webhook_id}/deliveries",
            get(webhooks::list_deliveries),
        )
        .route(
            "/ban-list",
            get(ban_list::list_bans)
                .post(ban_list::add_ban)
                .delete(ban_list::remove_ban),
        );
    let metrics = state.metrics.clone();
    if metrics.on_main_port() {
        api = api.route("/metrics", get(crate::metrics::scrape));
    }
    let api = api
        .route_layer(handler_deadline)
        .merge(booking_posts)
        .merge(crate::pages::router())
        .merge(SwaggerUi::new("/swagger-ui").url("/openapi.json", ApiDoc::openapi()))
        .fallback(|| async { ApiError::route_not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not accept this method",
            )
        })
        .with_state(state);

    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            let request_id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!(
                "request",
                method = %req.method(),
                path = %redact_path(req.uri().path()),
                request_id = %request_id,
            )
        })
        .on_request(())
        .on_response(
            |res: &axum::http::Response<_>, latency: Duration, _span: &Span| {
                tracing::info!(
                    status = res.status().as_u16(),
                    latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
                    "request finished"
                );
            },
        )
        .on_failure(());

    let api = api.layer(
        ServiceBuilder::new()
            .layer(middleware::map_request(sanitize_request_id))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(trace)
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(cors(cors_origins))
            .layer(outer_deadline)
            .layer(middleware::from_fn(limit_declared_length))
            .layer(DefaultBodyLimit::max(BODY_LIMIT)),
    );
    // Outermost, so that every answer is counted (413s, 504s, panics); a layer of the router
    // runs once a route is chosen, so the route's template is known.
    if metrics.is_on() {
        api.layer(middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
    } else {
        api
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use appointment_store::{MemoryStore, ServiceStore};
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::auth::TokenKeys;

    async fn state(store: Arc<dyn ServiceStore>) -> AppState {
        AppState::new(store, TokenKeys::new(&[7; 32]), 4, 100)
            .await
            .unwrap()
    }

    #[test]
    fn booking_codes_hold_tokens_and_feed_tokens_are_redacted_from_logged_paths() {
        assert_eq!(
            redact_path("/bookings/BK-ABCDEFGHIJKL/reject"),
            "/bookings/BK-***/reject"
        );
        assert_eq!(redact_path("/holds/hd-abcdefghijkl"), "/holds/HD-***");
        assert_eq!(redact_path("/waitlist/WL-ABCDEFGHJKLM"), "/waitlist/WL-***");
        assert_eq!(
            redact_path("/appointments/slots/AP-ABCDEFGHIJKL"),
            "/appointments/slots/AP-ABCDEFGHIJKL"
        );
        assert_eq!(
            redact_path("/bookings/BK-ABCDEFGHIJKL/ics"),
            "/bookings/BK-***/ics"
        );
        assert_eq!(
            redact_path("/calendar-feed/s3cr3t-t0ken_x.ics"),
            "/calendar-feed/***"
        );
        assert_eq!(
            redact_path("/Calendar-Feed/s3cr3t/x"),
            "/Calendar-Feed/***/x"
        );
        assert_eq!(redact_path("/calendar-feed"), "/calendar-feed");
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn health_is_503_when_the_database_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("h.db").display());
        let store = Arc::new(appointment_store::SqliteStore::connect(&url).await.unwrap());
        let router = app(state(store.clone()).await, &[]);
        let req = || Request::get("/health").body(Body::empty()).unwrap();
        let res = router.clone().oneshot(req()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        store.close().await;
        let res = router.oneshot(req()).await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["status"], "unhealthy");
    }

    #[tokio::test]
    async fn a_large_body_without_content_length_is_413_json() {
        let router = app(state(Arc::new(MemoryStore::new())).await, &[]);
        let mut big = b"{\"name\":\"".to_vec();
        big.resize(2 * BODY_LIMIT, b'a');
        big.extend_from_slice(b"\"}");
        let req = Request::post("/users")
            .header("content-type", "application/json")
            .body(Body::new(http_body_util::Full::new(
                axum::body::Bytes::from(big),
            )))
            .unwrap();
        assert!(req.headers().get("content-length").is_none());
        let res = router.oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "payload_too_large");
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[tokio::test]
    async fn request_logs_carry_method_path_status_latency_and_id_but_no_secrets() {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(captured.clone())
            .with_max_level(tracing::Level::INFO)
            .finish();
        // The process-wide subscriber of this test binary (no other test installs one): a scoped
        // one can miss events that other tests' threads cached as uninteresting.
        tracing::subscriber::set_global_default(subscriber).unwrap();
        let router = app(state(Arc::new(MemoryStore::new())).await, &[]);
        let body = r#"{"name":"Ada","email":"ada@example.com","password":"hunter2-secret"}"#;
        let res = router
            .clone()
            .oneshot(
                Request::post("/users")
                    .header("content-type", "application/json")
                    .header("x-request-id", "req-123")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let res = router
            .clone()
            .oneshot(
                Request::get("/appointments/my")
                    .header("authorization", "Bearer super.secret.token")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // Request ids that are not 1 to 64 of [A-Za-z0-9._-] are replaced, in the answer and
        // in the logs.
        for hostile in [
            format!("hostile-id {}", "z".repeat(60 * 1024)).into_bytes(),
            b"hostile-id\xff\xfe\x80".to_vec(),
            b"hostile-id\"}, {\"status\": 200".to_vec(),
            b"hostile-id\tx".to_vec(),
        ] {
            let hostile = HeaderValue::from_bytes(&hostile).unwrap();
            let res = router
                .clone()
                .oneshot(
                    Request::get("/")
                        .header("x-request-id", hostile)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let id = res.headers()["x-request-id"].as_bytes();
            assert!(acceptable_request_id(id), "{id:?}");
            assert!(!id.starts_with(b"hostile"));
        }
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let line = logs
            .lines()
            .find(|l| l.contains("req-123"))
            .expect("a log line with the request id");
        let json: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(json["status"], 201);
        assert!(json["latency_ms"].is_u64());
        let span = &json["span"];
        assert_eq!(span["method"], "POST");
        assert_eq!(span["path"], "/users");
        assert!(!logs.contains("hunter2-secret"), "a password was logged");
        assert!(!logs.contains("hostile-id"), "a raw request id was logged");
        assert!(
            !logs.contains(&"z".repeat(100)),
            "a huge request id was logged"
        );
        assert!(!logs.contains("super.secret.token"), "a token was logged");
    }
}
