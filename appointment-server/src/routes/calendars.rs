//! Calendars: a booking as an `.ics` file for whoever holds its code, and an owner's secret
//! subscription feed of the bookings of their appointments.

use appointment_core::{BookingCode, Error as CoreError};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::calendar;
use crate::dto::{MessageResponse, timestamp};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

/// The most events a feed serves (the earliest slots first).
pub const MAX_FEED_EVENTS: u32 = 5_000;
/// How far back a feed reaches: bookings whose slot ended up to this many days ago.
pub const FEED_PAST_DAYS: i64 = 30;
/// The path of the feed of a token.
const FEED_PREFIX: &str = "/calendar-feed/";

/// A new feed: its path, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CalendarFeed {
    /// The feed's path, `/calendar-feed/{token}.ics`, to be appended to the service's address
    /// and subscribed to. Whoever knows it can read the feed; it is not shown again, and making
    /// a new one ends this one.
    pub path: String,
    /// When it was made.
    pub created_at: String,
}

fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

fn calendar_response(body: String, attachment: Option<&'static str>) -> Response {
    let mut res = body.into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Some(disposition) = attachment {
        headers.insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static(disposition),
        );
    }
    res
}

/// A booking as an RFC 5545 calendar with one event: stable `UID`, a `SEQUENCE` that rises as
/// the booking changes, the slot as UTC instants, `STATUS` `CONFIRMED` (active, completed,
/// no-show), `TENTATIVE` (pending) or `CANCELLED`; `METHOD:CANCEL` once the booking was
/// cancelled, rejected, declined or expired, `METHOD:PUBLISH` otherwise. Whoever holds the code
/// may read it.
#[utoipa::path(get, path = "/bookings/{booking_code}/ics", tag = "Calendars",
    params(("booking_code" = String, Path, description = "Booking code")),
    responses(
        (status = 200, description = "The booking as `text/calendar`", body = String, content_type = "text/calendar"),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 404, description = "Unknown booking", body = ErrorBody),
    ))]
pub async fn booking_ics(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Response> {
    let code = BookingCode::parse(&code)?;
    let booking = state.scheduler.booking(&code).await?;
    let title = match state.scheduler.appointment(&booking.app_code).await {
        Ok(app) => app.title,
        Err(CoreError::NotFound(_)) => format!("Appointment {}", booking.app_code.as_str()),
        Err(e) => return Err(e.into()),
    };
    let body = calendar::booking_calendar(&booking, &title, state.scheduler.now());
    Ok(calendar_response(
        body,
        Some("attachment; filename=\"booking.ics\""),
    ))
}

/// Makes the caller's calendar feed, or replaces it (the old path stops working at once). The
/// answer holds the feed's path with its secret token, shown this once; only a hash of the
/// token is kept.
#[utoipa::path(post, path = "/calendar-feed", tag = "Calendars",
    responses(
        (status = 201, description = "Created", body = CalendarFeed),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create_feed(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<(StatusCode, Json<CalendarFeed>)> {
    state.check_owner_write(user.id)?;
    let mut secret = [0u8; 32];
    rand::rng().fill(&mut secret);
    let token = URL_SAFE_NO_PAD.encode(secret);
    let now = state.scheduler.now();
    state
        .store
        .set_calendar_feed(user.id, &token_hash(&token), now)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CalendarFeed {
            path: format!("{FEED_PREFIX}{token}.ics"),
            created_at: timestamp(now),
        }),
    ))
}

/// Revokes the caller's calendar feed: its path answers 404 from now on.
#[utoipa::path(delete, path = "/calendar-feed", tag = "Calendars",
    responses(
        (status = 200, description = "Revoked", body = MessageResponse),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 404, description = "The caller has no feed", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn delete_feed(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<MessageResponse>> {
    state.check_owner_write(user.id)?;
    if state.store.delete_calendar_feed(user.id).await? {
        Ok(Json(MessageResponse::new("calendar feed revoked")))
    } else {
        Err(feed_not_found())
    }
}

fn feed_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such calendar feed")
}

/// An owner's calendar feed, for calendar applications to subscribe to (no other
/// authentication: the token in the path is the secret). One event per active or pending
/// booking of the owner's appointments whose slot ended at most 30 days ago or is still to
/// come, earliest first, at most 5,000; `METHOD:PUBLISH`, `X-WR-CALNAME` set. Events carry who
/// booked and how many seats, never booking codes.
#[utoipa::path(get, path = "/calendar-feed/{token}.ics", tag = "Calendars",
    params(("token" = String, Path, description = "The feed's secret token")),
    responses(
        (status = 200, description = "The feed as `text/calendar`", body = String, content_type = "text/calendar"),
        (status = 404, description = "No such feed (never made, replaced or revoked)", body = ErrorBody),
    ))]
pub async fn feed(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
) -> ApiResult<Response> {
    let token = file.strip_suffix(".ics").ok_or_else(feed_not_found)?;
    let owner = state
        .store
        .calendar_feed_owner(&token_hash(token))
        .await?
        .ok_or_else(feed_not_found)?;
    let now = state.scheduler.now();
    let ends_from = now - chrono::TimeDelta::days(FEED_PAST_DAYS);
    let bookings = state
        .store
        .calendar_feed_bookings(owner, ends_from, now, MAX_FEED_EVENTS)
        .await?;
    let body =
        calendar::feed_calendar(bookings.iter().map(|f| (&f.booking, f.title.as_str())), now);
    Ok(calendar_response(body, None))
}
