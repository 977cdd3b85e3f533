//! Answers that need more than the engine's value at hand: a booking's `date` is the date of its
//! slot in its appointment's time zone, as in slot listings.

use std::collections::HashMap;

use appointment_core::{AppCode, Booking, Paged, Schedule};

use crate::dto::{BookingPage, BookingResponse};
use crate::error::ApiResult;
use crate::state::AppState;

async fn schedules(
    state: &AppState,
    bookings: &[Booking],
) -> ApiResult<HashMap<AppCode, Schedule>> {
    let mut out = HashMap::new();
    for b in bookings {
        if !out.contains_key(&b.app_code) {
            let app = state.scheduler.appointment(&b.app_code).await?;
            out.insert(b.app_code.clone(), app.schedule);
        }
    }
    Ok(out)
}

/// One booking as answered, with its appointment's schedule at hand (no store read).
pub fn booking_of(b: &Booking, schedule: &Schedule) -> BookingResponse {
    BookingResponse::new(b, Some(schedule.local_date(b.slot_start)))
}

/// One booking as answered.
pub async fn booking(state: &AppState, b: &Booking) -> ApiResult<BookingResponse> {
    let zones = schedules(state, std::slice::from_ref(b)).await?;
    Ok(BookingResponse::new(
        b,
        zones.get(&b.app_code).map(|s| s.local_date(b.slot_start)),
    ))
}

/// A page of bookings as answered.
pub async fn booking_page(state: &AppState, page: Paged<Booking>) -> ApiResult<BookingPage> {
    let zones = schedules(state, &page.items).await?;
    Ok(BookingPage::from_paged(page, |b| {
        BookingResponse::new(
            &b,
            zones.get(&b.app_code).map(|s| s.local_date(b.slot_start)),
        )
    }))
}
