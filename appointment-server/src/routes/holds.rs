//! Holds: seats of a slot kept for a short time (while a form is filled in or a payment made),
//! then booked with the token, released, or left to expire.

use appointment_core::{AppCode, AttendeeCount, HoldToken, NewHold};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::dto::{HoldRequest, HoldResponse, parse_instant};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// Holds seats of a slot for the appointment's `hold_minutes` (default 10). The seats are taken
/// exactly as a booking takes them; book them by sending the `hold_token` with a booking request
/// (the booking cannot find the slot full), or release them. From `expires_at` on they are free
/// again, without anything having to run. Send an `Idempotency-Key` header to make retries safe.
#[utoipa::path(post, path = "/holds", tag = "Bookings",
    request_body = HoldRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses(
        (status = 201, description = "Held", body = HoldResponse),
        (status = 400, description = "Invalid input (e.g. a start that is not a slot, a closed appointment, or one that shares a resource)", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 404, description = "Unknown appointment", body = ErrorBody),
        (status = 409, description = "Slot full, or idempotency key in use", body = ErrorBody),
        (status = 422, description = "Idempotency key reused for another request", body = ErrorBody),
    ))]
pub async fn create_hold(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> ApiResult<(StatusCode, Json<HoldResponse>)> {
    let hold = async {
        Ok(state
            .scheduler
            .hold(NewHold {
                app_code: AppCode::parse(&req.app_code)?,
                slot_start: parse_instant("start_time", &req.start_time)?,
                seats: AttendeeCount::new(req.attendee_count.unwrap_or(1))?,
            })
            .await?)
    }
    .await;
    state.metrics.count_hold(&hold);
    Ok((StatusCode::CREATED, Json(HoldResponse::from(&hold?))))
}

/// A hold by its token, with its status now (`expired` from `expires_at` on).
#[utoipa::path(get, path = "/holds/{hold_token}", tag = "Bookings",
    params(("hold_token" = String, Path, description = "Hold token")),
    responses(
        (status = 200, description = "OK", body = HoldResponse),
        (status = 400, description = "Malformed token", body = ErrorBody),
        (status = 404, description = "Unknown hold", body = ErrorBody),
    ))]
pub async fn get_hold(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<HoldResponse>> {
    let hold = state
        .scheduler
        .hold_by_token(&HoldToken::parse(&token)?)
        .await?;
    Ok(Json(HoldResponse::from(&hold)))
}

/// Releases a hold: its seats go back to the slot at once. Releasing a hold that was released
/// or has expired answers it as it is; a booked hold answers 409 `hold_ended` (cancel the
/// booking instead).
#[utoipa::path(delete, path = "/holds/{hold_token}", tag = "Bookings",
    params(("hold_token" = String, Path, description = "Hold token")),
    responses(
        (status = 200, description = "Released (or already released or expired)", body = HoldResponse),
        (status = 400, description = "Malformed token", body = ErrorBody),
        (status = 404, description = "Unknown hold", body = ErrorBody),
        (status = 409, description = "The hold was booked (`hold_ended`)", body = ErrorBody),
    ))]
pub async fn release_hold(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<HoldResponse>> {
    let hold = state
        .scheduler
        .release_hold(&HoldToken::parse(&token)?)
        .await?;
    Ok(Json(HoldResponse::from(&hold)))
}
