//! Booking, viewing, rescheduling, cancelling, rejecting, and marking completed or no-show.

use appointment_core::{
    AppCode, Appointment, AttendeeCount, Booker, Booking, BookingCode, BookingStatus,
    BookingUpdate, DeviceId, Email, Error as CoreError, HoldToken, Name, NewBooking, Phone,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};

use crate::auth::{self, AuthUser, HeaderDevice, MaybeAuthUser, VerifiedDevice};
use crate::dto::{
    BookingRequest, BookingResponse, BookingUpdateRequest, parse_date, parse_instant,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::present;
use crate::state::AppState;

/// Checks that `end_time` and `date`, when sent, agree with the slot that starts at `start`.
async fn check_slot_agrees(
    state: &AppState,
    app: &AppCode,
    start: DateTime<Utc>,
    end_time: Option<&str>,
    date: Option<&str>,
) -> ApiResult<()> {
    let end_time = end_time.filter(|s| !s.trim().is_empty());
    let date = date.filter(|s| !s.trim().is_empty());
    if end_time.is_none() && date.is_none() {
        return Ok(());
    }
    let seats = state.scheduler.slot_seats(app, start).await?;
    if let Some(end) = end_time
        && parse_instant("end_time", end)? != seats.slot.end
    {
        return Err(ApiError::invalid(
            "end_time",
            "does not match the end of the slot that starts at start_time",
        ));
    }
    if let Some(date) = date {
        let date = parse_date("date", date)?;
        if date != seats.local_date && date != start.date_naive() {
            return Err(ApiError::invalid(
                "date",
                "does not match the date of the slot that starts at start_time",
            ));
        }
    }
    Ok(())
}

fn attendees(n: Option<u32>) -> ApiResult<AttendeeCount> {
    Ok(AttendeeCount::new(n.unwrap_or(1))?)
}

/// The verified device of a booking request: the body's `device_token`, else the header's. The
/// token must have been issued to the booker (403 for a guest or another user).
fn device(
    state: &AppState,
    body: Option<&str>,
    header: Option<VerifiedDevice>,
    booker: &Booker,
) -> ApiResult<Option<DeviceId>> {
    let verified = match body.filter(|s| !s.trim().is_empty()) {
        Some(token) => Some(auth::verify_device(state, token)?),
        None => header,
    };
    let user = match booker {
        Booker::User(id) => Some(*id),
        _ => None,
    };
    verified.map(|v| v.for_booker(user)).transpose()
}

/// Books for `booker` (an error if the booker could not be read from the request), and counts
/// the outcome.
async fn book(
    state: &AppState,
    req: BookingRequest,
    booker: ApiResult<Booker>,
    header_device: Option<VerifiedDevice>,
) -> ApiResult<(StatusCode, Json<BookingResponse>)> {
    let result = match booker {
        Ok(booker) => make_booking(state, req, booker, header_device).await,
        Err(e) => Err(e),
    };
    state
        .metrics
        .count_booking(result.as_ref().map(|(booking, _)| booking.status));
    let (booking, app) = result?;
    Ok((
        StatusCode::CREATED,
        Json(present::booking_of(
            &booking,
            &app.schedule,
            state.scheduler.now(),
        )),
    ))
}

async fn make_booking(
    state: &AppState,
    req: BookingRequest,
    booker: Booker,
    header_device: Option<VerifiedDevice>,
) -> ApiResult<(Booking, Appointment)> {
    let app_code = AppCode::parse(&req.app_code)?;
    let slot_start = parse_instant("start_time", &req.start_time)?;
    let device_id = device(state, req.device_token.as_deref(), header_device, &booker)?;
    let attendee_count = attendees(req.attendee_count)?;
    check_slot_agrees(
        state,
        &app_code,
        slot_start,
        req.end_time.as_deref(),
        req.date.as_deref(),
    )
    .await?;
    // Read before booking, so that nothing after the commit needs the database: a failure there
    // would answer an error for a booking that was made.
    let app = state.scheduler.appointment(&app_code).await?;
    let new = NewBooking {
        app_code,
        slot_start,
        attendee_count,
        booker,
        description: req.description.unwrap_or_default(),
        device_id,
    };
    let booking = match req.hold_token.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(token) => {
            let token = HoldToken::parse(token)?;
            state.scheduler.book_hold(&token, new).await?
        }
        None => state.scheduler.book(new).await?,
    };
    Ok((booking, app))
}

/// Books a slot as a guest (name and email required). Send an `Idempotency-Key` header to make
/// retries safe.
#[utoipa::path(post, path = "/appointments/book", tag = "Bookings",
    request_body = BookingRequest,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
        ("X-Device-Token" = Option<String>, Header, description = "A device token"),
    ),
    responses(
        (status = 201, description = "Created", body = BookingResponse),
        (status = 400, description = "Invalid input (e.g. a start that is not a slot)", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 401, description = "Invalid device token", body = ErrorBody),
        (status = 403, description = "Banned by the owner (`banned`); the appointment takes registered bookings only (strict anti-scalping, `registration_required`); a device token was sent (device tokens belong to a user: book with `/appointments/book/registered`)", body = ErrorBody),
        (status = 404, description = "Unknown appointment or hold", body = ErrorBody),
        (status = 409, description = "Slot full, duplicate booking, the hold ended (`hold_ended`), or idempotency key in use", body = ErrorBody),
        (status = 422, description = "Idempotency key reused for another request", body = ErrorBody),
    ))]
pub async fn book_guest(
    State(state): State<AppState>,
    HeaderDevice(header_device): HeaderDevice,
    ApiJson(req): ApiJson<BookingRequest>,
) -> ApiResult<(StatusCode, Json<BookingResponse>)> {
    let booker = guest(&req);
    book(&state, req, booker, header_device).await
}

/// The guest a booking request names.
fn guest(req: &BookingRequest) -> ApiResult<Booker> {
    let name = Name::parse(
        req.name
            .as_deref()
            .ok_or_else(|| ApiError::invalid("name", "is required"))?,
    )?;
    let email = Email::parse(
        req.email
            .as_deref()
            .ok_or_else(|| ApiError::invalid("email", "is required"))?,
    )?;
    let phone = req
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(Phone::parse)
        .transpose()?;
    Ok(Booker::Guest { name, email, phone })
}

/// Books a slot as the caller; name, email and phone come from the profile.
#[utoipa::path(post, path = "/appointments/book/registered", tag = "Bookings",
    request_body = BookingRequest,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe"),
        ("X-Device-Token" = Option<String>, Header, description = "A device token"),
    ),
    responses(
        (status = 201, description = "Created", body = BookingResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 401, description = "Authentication required, or an invalid device token", body = ErrorBody),
        (status = 403, description = "Banned by the owner (`banned`), the device token was issued to another user (`forbidden`), or the appointment (strict anti-scalping, with email on) takes users with a verified address only (`email_not_verified`)", body = ErrorBody),
        (status = 404, description = "Unknown appointment or hold", body = ErrorBody),
        (status = 409, description = "Slot full, duplicate booking, the hold ended (`hold_ended`), or idempotency key in use", body = ErrorBody),
        (status = 422, description = "Idempotency key reused for another request", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn book_registered(
    State(state): State<AppState>,
    user: AuthUser,
    HeaderDevice(header_device): HeaderDevice,
    ApiJson(req): ApiJson<BookingRequest>,
) -> ApiResult<(StatusCode, Json<BookingResponse>)> {
    book(&state, req, Ok(Booker::User(user.id)), header_device).await
}

/// A booking by its code.
#[utoipa::path(get, path = "/bookings/{booking_code}", tag = "Bookings",
    params(("booking_code" = String, Path, description = "Booking code")),
    responses(
        (status = 200, description = "OK", body = BookingResponse),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 404, description = "Unknown booking", body = ErrorBody),
    ))]
pub async fn get_booking(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BookingResponse>> {
    let code = BookingCode::parse(&code)?;
    let booking = state.scheduler.booking(&code).await?;
    Ok(Json(present::booking(&state, &booking).await?))
}

/// Moves a booking to another slot and/or changes its seats (and, when given, its description),
/// atomically, checked as a new booking is. Whoever holds the code may, until the appointment's
/// cancellation cut-off before the current slot; the appointment's owner (with their bearer
/// token) until the slot starts.
#[utoipa::path(put, path = "/bookings/{booking_code}", tag = "Bookings",
    params(("booking_code" = String, Path, description = "Booking code")),
    request_body = BookingUpdateRequest,
    responses(
        (status = 200, description = "OK", body = BookingResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "A bearer token was sent and is not valid", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 404, description = "Unknown booking", body = ErrorBody),
        (status = 409, description = "Slot full, the booking is no longer active, or too late (`too_late`: past the cancellation cut-off, or the slot has started)", body = ErrorBody),
    ))]
pub async fn update_booking(
    State(state): State<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
    ApiPath(code): ApiPath<String>,
    ApiJson(req): ApiJson<BookingUpdateRequest>,
) -> ApiResult<Json<BookingResponse>> {
    let code = BookingCode::parse(&code)?;
    let slot_start = parse_instant("start_time", &req.start_time)?;
    let attendee_count = req.attendee_count.map(AttendeeCount::new).transpose()?;
    let current = state.scheduler.booking(&code).await?;
    if let Some(app) = req.app_code.as_deref().filter(|s| !s.trim().is_empty())
        && AppCode::parse(app)? != current.app_code
    {
        return Err(ApiError::invalid(
            "app_code",
            "is not the appointment of this booking",
        ));
    }
    check_slot_agrees(
        &state,
        &current.app_code,
        slot_start,
        req.end_time.as_deref(),
        req.date.as_deref(),
    )
    .await?;
    let schedule = present::schedule_of(&state, &current.app_code).await?;
    let change = BookingUpdate {
        slot_start,
        attendee_count,
        description: req.description,
    };
    let booking = match user {
        Some(user) => match state
            .scheduler
            .owner_reschedule(user.id, &code, change.clone())
            .await
        {
            // Not the owner: the booker's own token, rescheduling under the guest's rules.
            Err(CoreError::Forbidden(_)) => state.scheduler.reschedule(&code, change).await,
            other => other,
        },
        None => state.scheduler.reschedule(&code, change).await,
    }?;
    Ok(Json(present::changed_booking(
        &booking,
        schedule.as_ref(),
        state.scheduler.now(),
    )))
}

/// Cancels a booking and frees its seats. Whoever holds the code may, until the appointment's
/// cancellation cut-off before the slot (with none, until the slot starts); the appointment's
/// owner (with their bearer token) at any time.
#[utoipa::path(delete, path = "/bookings/{booking_code}", tag = "Bookings",
    params(("booking_code" = String, Path, description = "Booking code")),
    responses(
        (status = 200, description = "OK", body = BookingResponse),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 401, description = "A bearer token was sent and is not valid", body = ErrorBody),
        (status = 404, description = "Unknown booking", body = ErrorBody),
        (status = 409, description = "No longer active (`invalid_transition`), or too late (`too_late`: past the cancellation cut-off, or the slot has started)", body = ErrorBody),
    ))]
pub async fn cancel_booking(
    State(state): State<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BookingResponse>> {
    let code = BookingCode::parse(&code)?;
    let schedule = present::schedule_before_change(&state, &code).await?;
    let booking = match user {
        Some(user) => match state.scheduler.owner_cancel(user.id, &code).await {
            Err(CoreError::Forbidden(_)) => state.scheduler.cancel(&code).await,
            other => other,
        },
        None => state.scheduler.cancel(&code).await,
    }?;
    Ok(Json(present::changed_booking(
        &booking,
        schedule.as_ref(),
        state.scheduler.now(),
    )))
}

/// Rejects a booking of one of the caller's appointments (owner only).
#[utoipa::path(post, path = "/bookings/{booking_code}/reject", tag = "Bookings",
    params(("booking_code" = String, Path, description = "Booking code")),
    responses(
        (status = 200, description = "OK", body = BookingResponse),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 403, description = "Not the appointment's owner", body = ErrorBody),
        (status = 404, description = "Unknown booking", body = ErrorBody),
        (status = 409, description = "No longer active", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn reject_booking(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BookingResponse>> {
    owner_ends(&state, user, &code, BookingStatus::Rejected).await
}

/// Confirms a pending booking of one of the caller's appointments (owner only): it becomes
/// `active` and keeps its seats. `409 invalid_transition` once it is no longer pending (expired
/// at its `confirm_by`, cancelled, declined).
#[utoipa::path(post, path = "/bookings/{booking_code}/confirm", tag = "Bookings",
    params(("booking_code" = String, Path, description = "Booking code")),
    responses(
        (status = 200, description = "OK", body = BookingResponse),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 403, description = "Not the appointment's owner", body = ErrorBody),
        (status = 404, description = "Unknown booking", body = ErrorBody),
        (status = 409, description = "No longer pending", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn confirm_booking(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BookingResponse>> {
    owner_ends(&state, user, &code, BookingStatus::Active).await
}

/// Declines a pending booking of one of the caller's appointments (owner only); its seats are
/// freed. `409 invalid_transition` once it is no longer pending.
#[utoipa::path(post, path = "/bookings/{booking_code}/decline", tag = "Bookings",
    params(("booking_code" = String, Path, description = "Booking code")),
    responses(
        (status = 200, description = "OK", body = BookingResponse),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 403, description = "Not the appointment's owner", body = ErrorBody),
        (status = 404, description = "Unknown booking", body = ErrorBody),
        (status = 409, description = "No longer pending", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn decline_booking(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BookingResponse>> {
    owner_ends(&state, user, &code, BookingStatus::Declined).await
}

/// Marks a booking whose slot has started as attended (owner only). Its seats are released.
#[utoipa::path(post, path = "/bookings/{booking_code}/complete", tag = "Bookings",
    params(("booking_code" = String, Path, description = "Booking code")),
    responses(
        (status = 200, description = "OK", body = BookingResponse),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 403, description = "Not the appointment's owner", body = ErrorBody),
        (status = 404, description = "Unknown booking", body = ErrorBody),
        (status = 409, description = "No longer active (`invalid_transition`), or the slot has not started (`too_early`)", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn complete_booking(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BookingResponse>> {
    owner_ends(&state, user, &code, BookingStatus::Completed).await
}

/// Marks a booking whose slot has started as not attended (owner only). Its seats are released.
#[utoipa::path(post, path = "/bookings/{booking_code}/no-show", tag = "Bookings",
    params(("booking_code" = String, Path, description = "Booking code")),
    responses(
        (status = 200, description = "OK", body = BookingResponse),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 403, description = "Not the appointment's owner", body = ErrorBody),
        (status = 404, description = "Unknown booking", body = ErrorBody),
        (status = 409, description = "No longer active (`invalid_transition`), or the slot has not started (`too_early`)", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn no_show_booking(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BookingResponse>> {
    owner_ends(&state, user, &code, BookingStatus::NoShow).await
}

/// The owner confirms (`Active`) or ends a booking as declined, rejected, completed or no-show,
/// answering from the write.
async fn owner_ends(
    state: &AppState,
    user: AuthUser,
    code: &str,
    status: BookingStatus,
) -> ApiResult<Json<BookingResponse>> {
    state.check_owner_write(user.id)?;
    let code = BookingCode::parse(code)?;
    let schedule = present::schedule_before_change(state, &code).await?;
    let s = &state.scheduler;
    let booking = match status {
        BookingStatus::Completed => s.complete(user.id, &code).await,
        BookingStatus::NoShow => s.mark_no_show(user.id, &code).await,
        BookingStatus::Active => s.confirm(user.id, &code).await,
        BookingStatus::Declined => s.decline(user.id, &code).await,
        _ => s.reject(user.id, &code).await,
    }?;
    Ok(Json(present::changed_booking(
        &booking,
        schedule.as_ref(),
        state.scheduler.now(),
    )))
}
