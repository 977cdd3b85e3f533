//! Appointments and their slots.

use appointment_core::{
    AppCode, AppointmentChanges, AppointmentStatus, Error as CoreError, Page, SlotQuery,
};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};

use crate::auth::AuthUser;
use crate::dto::{
    AppointmentEditResponse, AppointmentPage, AppointmentPatch, AppointmentRequest,
    AppointmentResponse, BookingPage, DayQuery, PageQuery, PublicAppointment, SlotPage,
    SlotResponse, SlotsQuery, parse_date,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::present;
use crate::state::AppState;

/// Creates an appointment owned by the caller.
#[utoipa::path(post, path = "/appointments", tag = "Appointments",
    request_body = AppointmentRequest,
    responses(
        (status = 201, description = "Created", body = AppointmentResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 409, description = "The owner has as many appointments as allowed (`limit_reached`)", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create_appointment(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<AppointmentRequest>,
) -> ApiResult<(StatusCode, Json<AppointmentResponse>)> {
    state.check_owner_write(user.id)?;
    let new = req.into_new()?;
    // A bound on what one owner keeps (checked before the write, so concurrent creations may
    // pass it by a few).
    let owned = state
        .scheduler
        .my_appointments(user.id, Page::new(1, 1)?)
        .await?
        .total;
    if owned >= state.limits.max_appointments_per_owner {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "limit_reached",
            format!(
                "an owner may have at most {} appointments",
                state.limits.max_appointments_per_owner
            ),
        ));
    }
    let app = state.scheduler.create_appointment(user.id, new).await?;
    Ok((StatusCode::CREATED, Json(AppointmentResponse::from(&app))))
}

/// Changes the caller's appointment: title, description, hours, overrides, closures, buffer,
/// notice, horizon. Existing bookings are never cancelled or moved; the answer counts those that
/// now fall outside the hours.
#[utoipa::path(patch, path = "/appointments/{app_code}", tag = "Appointments",
    params(
        ("app_code" = String, Path, description = "Appointment code"),
        ("If-Match" = Option<String>, Header, description = "Apply only if the appointment is still at this revision (its `revision`), e.g. `\"3\"`"),
    ),
    request_body = AppointmentPatch,
    responses(
        (status = 200, description = "Changed", body = AppointmentEditResponse),
        (status = 400, description = "Invalid field or malformed code (named in `details`)", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "Unknown appointment", body = ErrorBody),
        (status = 412, description = "The appointment changed since the revision named by If-Match (`changed`)", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn update_appointment(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiPath(code): ApiPath<String>,
    ApiJson(req): ApiJson<AppointmentPatch>,
) -> ApiResult<Json<AppointmentEditResponse>> {
    let code = AppCode::parse(&code)?;
    state.check_owner_write(user.id)?;
    let mut changes = req.into_changes()?;
    changes.if_revision = if_match(&headers)?;
    edit(&state, user, &code, changes).await
}

/// The revision an `If-Match` header names (`"3"`, `W/"3"` or `3`), if one is sent.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or_default().trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
    raw.parse::<u64>().map(Some).map_err(|_| {
        ApiError::invalid("If-Match", "must be the appointment's revision, e.g. \"3\"")
    })
}

async fn edit(
    state: &AppState,
    user: AuthUser,
    code: &AppCode,
    changes: AppointmentChanges,
) -> ApiResult<Json<AppointmentEditResponse>> {
    let conditional = changes.if_revision.is_some();
    let edit = match state
        .scheduler
        .update_appointment(user.id, code, changes)
        .await
    {
        Err(CoreError::Changed(_)) if conditional => {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "changed",
                "the appointment changed since the revision named by If-Match; read it again",
            ));
        }
        other => other?,
    };
    let booked = state.scheduler.attendees_booked(&edit.appointment).await?;
    Ok(Json(AppointmentEditResponse {
        appointment: AppointmentResponse::with_attendees_booked(&edit.appointment, booked),
        bookings_outside_hours: edit.bookings_outside_hours,
    }))
}

/// Closes the caller's appointment: it lists no slots and takes no bookings; existing bookings
/// stay valid.
#[utoipa::path(post, path = "/appointments/{app_code}/close", tag = "Appointments",
    params(
        ("app_code" = String, Path, description = "Appointment code"),
        ("If-Match" = Option<String>, Header, description = "Apply only if the appointment is still at this revision (its `revision`), e.g. `\"3\"`"),
    ),
    responses(
        (status = 200, description = "Closed", body = AppointmentEditResponse),
        (status = 400, description = "Malformed code or If-Match", body = ErrorBody),
        (status = 412, description = "The appointment changed since the revision named by If-Match (`changed`)", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "Unknown appointment", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn close_appointment(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<AppointmentEditResponse>> {
    set_status(state, user, &headers, code, AppointmentStatus::Closed).await
}

/// Reopens the caller's closed appointment.
#[utoipa::path(post, path = "/appointments/{app_code}/reopen", tag = "Appointments",
    params(
        ("app_code" = String, Path, description = "Appointment code"),
        ("If-Match" = Option<String>, Header, description = "Apply only if the appointment is still at this revision (its `revision`), e.g. `\"3\"`"),
    ),
    responses(
        (status = 200, description = "Open", body = AppointmentEditResponse),
        (status = 400, description = "Malformed code or If-Match", body = ErrorBody),
        (status = 412, description = "The appointment changed since the revision named by If-Match (`changed`)", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "Unknown appointment", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn reopen_appointment(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<AppointmentEditResponse>> {
    set_status(state, user, &headers, code, AppointmentStatus::Active).await
}

async fn set_status(
    state: AppState,
    user: AuthUser,
    headers: &HeaderMap,
    code: String,
    status: AppointmentStatus,
) -> ApiResult<Json<AppointmentEditResponse>> {
    let code = AppCode::parse(&code)?;
    state.check_owner_write(user.id)?;
    let changes = AppointmentChanges {
        status: Some(status),
        if_revision: if_match(headers)?,
        ..AppointmentChanges::default()
    };
    edit(&state, user, &code, changes).await
}

/// Deletes the caller's appointment: gone from every listing; its bookings stay readable by
/// their codes.
#[utoipa::path(delete, path = "/appointments/{app_code}", tag = "Appointments",
    params(("app_code" = String, Path, description = "Appointment code")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "Unknown appointment", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn delete_appointment(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let code = AppCode::parse(&code)?;
    state.check_owner_write(user.id)?;
    state.scheduler.delete_appointment(user.id, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The appointments the caller created, newest first.
#[utoipa::path(get, path = "/appointments/my", tag = "Appointments", params(PageQuery),
    responses(
        (status = 200, description = "OK", body = AppointmentPage),
        (status = 400, description = "Malformed page", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn my_appointments(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<AppointmentPage>> {
    let page = state.scheduler.my_appointments(user.id, q.page()?).await?;
    let mut booked = Vec::with_capacity(page.items.len());
    for a in &page.items {
        booked.push(state.scheduler.attendees_booked(a).await?);
    }
    let mut booked = booked.into_iter();
    Ok(Json(AppointmentPage::from_paged(page, |a| {
        AppointmentResponse::with_attendees_booked(&a, booked.next().unwrap_or(0))
    })))
}

/// The bookings the caller made as a registered user.
#[utoipa::path(get, path = "/appointments/registered", tag = "Bookings", params(PageQuery),
    responses(
        (status = 200, description = "OK", body = BookingPage),
        (status = 400, description = "Malformed page", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn registered_bookings(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<BookingPage>> {
    let page = state.scheduler.user_bookings(user.id, q.page()?).await?;
    Ok(Json(present::booking_page(&state, page).await?))
}

/// The bookings of one of the caller's appointments (owner only).
#[utoipa::path(get, path = "/appointments/users/{app_code}", tag = "Appointments",
    params(("app_code" = String, Path, description = "Appointment code"), PageQuery),
    responses(
        (status = 200, description = "OK", body = BookingPage),
        (status = 400, description = "Malformed code or page", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 403, description = "Not the owner", body = ErrorBody),
        (status = 404, description = "Unknown appointment", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn appointment_bookings(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<BookingPage>> {
    let code = AppCode::parse(&code)?;
    let page = state
        .scheduler
        .appointment_bookings(user.id, &code, q.page()?)
        .await?;
    Ok(Json(present::booking_page(&state, page).await?))
}

/// What a client may read about an appointment to book it: title, description, duration, time
/// zone, seats and the rules a booking meets (cancellation cut-off, the owner's confirmation).
/// Public, like its slots: whoever has the code may book it.
#[utoipa::path(get, path = "/appointments/{app_code}/public", tag = "Bookings",
    params(("app_code" = String, Path, description = "Appointment code")),
    responses(
        (status = 200, description = "OK", body = PublicAppointment),
        (status = 400, description = "Malformed code", body = ErrorBody),
        (status = 404, description = "Unknown appointment", body = ErrorBody),
    ))]
pub async fn public_appointment(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<PublicAppointment>> {
    let code = AppCode::parse(&code)?;
    let appointment = state.scheduler.appointment(&code).await?;
    Ok(Json(PublicAppointment::from(&appointment)))
}

/// The bookable slots of an appointment (future, with seats left), in time order.
#[utoipa::path(get, path = "/appointments/slots/{app_code}", tag = "Bookings",
    params(("app_code" = String, Path, description = "Appointment code"), SlotsQuery),
    responses(
        (status = 200, description = "OK", body = SlotPage),
        (status = 400, description = "Malformed code, page or window (named in `details`)", body = ErrorBody),
        (status = 404, description = "Unknown appointment", body = ErrorBody),
    ))]
pub async fn slots(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<SlotsQuery>,
) -> ApiResult<Json<SlotPage>> {
    let code = AppCode::parse(&code)?;
    let page = match q.window()? {
        Some(window) => {
            state
                .scheduler
                .slots_between(&code, window.start, window.end, q.page()?)
                .await?
        }
        None => {
            let query = SlotQuery {
                day: None,
                page: q.page()?,
            };
            state.scheduler.available_slots(&code, query).await?
        }
    };
    Ok(Json(SlotPage::from_paged(page, |s| {
        SlotResponse::new(code.as_str(), &s)
    })))
}

/// The bookable slots of an appointment on one local date.
#[utoipa::path(get, path = "/appointments/slots/{app_code}/by-day", tag = "Bookings",
    params(("app_code" = String, Path, description = "Appointment code"), DayQuery),
    responses(
        (status = 200, description = "OK", body = SlotPage),
        (status = 400, description = "Missing or malformed date", body = ErrorBody),
        (status = 404, description = "Unknown appointment", body = ErrorBody),
    ))]
pub async fn slots_by_day(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> ApiResult<Json<SlotPage>> {
    let code = AppCode::parse(&code)?;
    let date = q
        .date
        .as_deref()
        .ok_or_else(|| ApiError::invalid("date", "is required (YYYY-MM-DD)"))?;
    let query = SlotQuery {
        day: Some(parse_date("date", date)?),
        page: PageQuery {
            page: q.page,
            per_page: q.per_page,
        }
        .page()?,
    };
    let page = state.scheduler.available_slots(&code, query).await?;
    Ok(Json(SlotPage::from_paged(page, |s| {
        SlotResponse::new(code.as_str(), &s)
    })))
}
