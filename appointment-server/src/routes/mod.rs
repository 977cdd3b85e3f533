//! The router: every route, the middleware stack, and the OpenAPI document.

pub mod appointments;
pub mod ban_list;
pub mod bookings;
pub mod health;
pub mod users;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
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
        users::create_user, users::login, users::logout, users::device_token,
        appointments::create_appointment, appointments::my_appointments,
        appointments::registered_bookings, appointments::appointment_bookings,
        appointments::slots, appointments::slots_by_day,
        bookings::book_guest, bookings::book_registered, bookings::get_booking,
        bookings::update_booking, bookings::cancel_booking, bookings::reject_booking,
        ban_list::add_ban, ban_list::remove_ban, ban_list::list_bans, ban_list::analytics,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "Authentication", description = "Tokens for users and devices"),
        (name = "Users", description = "Accounts"),
        (name = "Appointments", description = "Appointments and their owners' views"),
        (name = "Bookings", description = "Slots and bookings"),
        (name = "Ban list", description = "Emails an owner refuses"),
        (name = "Analytics", description = "An owner's figures"),
        (name = "Health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

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

/// The OpenAPI document as pretty JSON with a final newline (the committed `openapi.json`).
pub fn openapi_json() -> String {
    let mut s = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

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
/// middleware (request ids, logs, CORS, body limit, panics as JSON 500s).
pub fn app(state: AppState, cors_origins: &[String]) -> Router {
    let booking_posts = Router::new()
        .route("/appointments/book", post(bookings::book_guest))
        .route(
            "/appointments/book/registered",
            post(bookings::book_registered),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), idempotency));

    let api = Router::new()
        .route("/", get(health::root))
        .route("/health", get(health::health))
        .route("/users", post(users::create_user))
        .route("/login", post(users::login))
        .route("/logout", post(users::logout))
        .route("/auth/device-token", post(users::device_token))
        .route("/appointments", post(appointments::create_appointment))
        .route("/appointments/my", get(appointments::my_appointments))
        .route(
            "/appointments/registered",
            get(appointments::registered_bookings),
        )
        .route(
            "/appointments/users/{app_code}",
            get(appointments::appointment_bookings),
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
        .route(
            "/bookings/{booking_code}/reject",
            post(bookings::reject_booking),
        )
        .route("/analytics", get(ban_list::analytics))
        .route(
            "/ban-list",
            get(ban_list::list_bans)
                .post(ban_list::add_ban)
                .delete(ban_list::remove_ban),
        )
        .merge(booking_posts)
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
                path = %req.uri().path(),
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

    api.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(trace)
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(cors(cors_origins))
            .layer(middleware::from_fn(limit_declared_length))
            .layer(DefaultBodyLimit::max(BODY_LIMIT)),
    )
}
