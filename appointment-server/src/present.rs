//! Answers that need more than the engine's value at hand: a booking's `date` is the date of its
//! slot in its appointment's time zone, as in slot listings.

use std::collections::HashMap;

use appointment_core::{AppCode, Booking, Paged, Schedule};
use chrono::{DateTime, Utc};

use crate::dto::{BookingPage, BookingResponse};
use crate::error::ApiResult;
use crate::state::AppState;

async fn schedules(
    state: &AppState,
    bookings: &[Booking],
) -> ApiResult<HashMap<AppCode, Schedule>> {
    let mut out = HashMap::new();
    for b in bookings {
        if !out.contains_key(&b.app_code)
            && let Some(schedule) = schedule_of(state, &b.app_code).await?
        {
            out.insert(b.app_code.clone(), schedule);
        }
    }
    Ok(out)
}

/// The schedule of an appointment, or `None` if it was deleted (its bookings stay readable,
/// without a local date).
pub async fn schedule_of(state: &AppState, code: &AppCode) -> ApiResult<Option<Schedule>> {
    match state.scheduler.appointment(code).await {
        Ok(app) => Ok(Some(app.schedule)),
        Err(appointment_core::Error::NotFound(appointment_core::Entity::Appointment)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The schedule of a booking's appointment, read before a change to the booking so that the
/// answer to the change comes from what the write returned, with no read after it (a read that
/// failed after a committed change would answer an error for a change that was applied).
pub async fn schedule_before_change(
    state: &AppState,
    code: &appointment_core::BookingCode,
) -> ApiResult<Option<Schedule>> {
    let booking = state.scheduler.booking(code).await?;
    schedule_of(state, &booking.app_code).await
}

/// A booking as answered after a change, with the schedule read before it.
pub fn changed_booking(
    b: &Booking,
    schedule: Option<&Schedule>,
    now: DateTime<Utc>,
) -> BookingResponse {
    BookingResponse::new(b, schedule.map(|s| s.local_date(b.slot_start)), now)
}

/// One booking as answered, with its appointment's schedule at hand (no store read).
pub fn booking_of(b: &Booking, schedule: &Schedule, now: DateTime<Utc>) -> BookingResponse {
    BookingResponse::new(b, Some(schedule.local_date(b.slot_start)), now)
}

/// One booking as answered.
pub async fn booking(state: &AppState, b: &Booking) -> ApiResult<BookingResponse> {
    let zones = schedules(state, std::slice::from_ref(b)).await?;
    Ok(BookingResponse::new(
        b,
        zones.get(&b.app_code).map(|s| s.local_date(b.slot_start)),
        state.scheduler.now(),
    ))
}

/// A page of bookings as answered.
pub async fn booking_page(state: &AppState, page: Paged<Booking>) -> ApiResult<BookingPage> {
    let zones = schedules(state, &page.items).await?;
    let now = state.scheduler.now();
    Ok(BookingPage::from_paged(page, |b| {
        BookingResponse::new(
            &b,
            zones.get(&b.app_code).map(|s| s.local_date(b.slot_start)),
            now,
        )
    }))
}
