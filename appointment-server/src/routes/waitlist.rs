//! Waiting lists: places in line for a full slot. Freed seats are offered to the places in join
//! order as holds in their names, booked with the hold's token as any hold.

use appointment_core::{AppCode, AttendeeCount, Email, Name, NewWaitlistEntry, WaitlistCode};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::dto::{WaitlistRequest, WaitlistResponse, parse_instant};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// Joins the waiting list of a full slot. When seats free up (a cancel, a decline, a released or
/// expired hold, …), they are offered to the places in join order, each place whose seats fit
/// getting a hold of them in its name for the appointment's `hold_minutes`: `GET` the place to
/// see `status` `offered` and the `hold_token`, and book with it before `offer_expires_at`; an
/// offer not booked in time passes to the next in line. A slot with free seats takes no places
/// (400: book them). Bans and anti-scalping apply as to bookings. Send an `Idempotency-Key`
/// header to make retries safe.
#[utoipa::path(post, path = "/waitlist", tag = "Bookings",
    request_body = WaitlistRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, description = "In line", body = WaitlistResponse),
        (status = 400, description = "Invalid input (seats are free, a start that is not a slot, a closed appointment, …)", body = ErrorBody),
        (status = 403, description = "Banned by the owner", body = ErrorBody),
        (status = 404, description = "Unknown appointment", body = ErrorBody),
        (status = 409, description = "The email already books or waits on this appointment (anti-scalping), more seats than the slot has, or idempotency key in use", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "Idempotency key reused for another request", body = ErrorBody),
    ))]
pub async fn join_waitlist(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<WaitlistRequest>,
) -> ApiResult<(StatusCode, Json<WaitlistResponse>)> {
    let place = async {
        Ok(state
            .scheduler
            .join_waitlist(NewWaitlistEntry {
                app_code: AppCode::parse(&req.app_code)?,
                slot_start: parse_instant("start_time", &req.start_time)?,
                seats: AttendeeCount::new(req.attendee_count.unwrap_or(1))?,
                name: Name::parse(&req.name)?,
                email: Email::parse(&req.email)?,
            })
            .await?)
    }
    .await;
    state.metrics.count_waitlist_join(&place);
    Ok((StatusCode::CREATED, Json(WaitlistResponse::from(&place?))))
}

/// A place on a waiting list as of now: `waiting` with its `position` (1 is next), `offered`
/// with the `hold_token` to book and `offer_expires_at`, `booked`, `expired` (the offer ran out)
/// or `left`.
#[utoipa::path(get, path = "/waitlist/{waitlist_code}", tag = "Bookings",
    params(("waitlist_code" = String, Path, description = "Waiting-list code")),
    responses(
        (status = 200, description = "OK", body = WaitlistResponse),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 404, description = "Unknown place", body = ErrorBody),
    ))]
pub async fn get_place(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<WaitlistResponse>> {
    let place = state
        .scheduler
        .waitlist_place(&WaitlistCode::parse(&code)?)
        .await?;
    Ok(Json(WaitlistResponse::from(&place)))
}

/// Leaves a waiting list; a live offer's seats go to the next in line. A place already done
/// (booked, expired, left) is answered as it is.
#[utoipa::path(delete, path = "/waitlist/{waitlist_code}", tag = "Bookings",
    params(("waitlist_code" = String, Path, description = "Waiting-list code")),
    responses(
        (status = 200, description = "Left (or already done)", body = WaitlistResponse),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 404, description = "Unknown place", body = ErrorBody),
    ))]
pub async fn leave_waitlist(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<WaitlistResponse>> {
    let place = state
        .scheduler
        .leave_waitlist(&WaitlistCode::parse(&code)?)
        .await?;
    Ok(Json(WaitlistResponse::from(&place)))
}
