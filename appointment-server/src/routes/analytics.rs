//! `GET /analytics`: an owner's figures.
//!
//! Reading the figures from the store is async; counting the seats offered walks the slots of
//! every appointment in the range, which is CPU work that grows with the schedules. It runs on the
//! blocking pool, at most [`AnalyticsWork`]'s number of computations at once (half the cores,
//! at least one), so that the async workers keep serving every other request; and when the
//! request deadline passes (its future is dropped), the computation is told to stop and ends
//! within a few thousand slots.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use appointment_core::Stopped;
use axum::Json;
use axum::extract::State;
use tokio::sync::Semaphore;

use crate::auth::AuthUser;
use crate::dto::{AnalyticsQuery, AnalyticsResponse, parse_date};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// The bound on concurrent analytics computations, and what they did.
#[derive(Debug)]
pub struct AnalyticsWork {
    permits: Arc<Semaphore>,
    size: usize,
    stopped: AtomicU64,
}

impl AnalyticsWork {
    /// At most `size` computations at once (at least one).
    pub fn new(size: usize) -> Self {
        let size = size.max(1);
        AnalyticsWork {
            permits: Arc::new(Semaphore::new(size)),
            size,
            stopped: AtomicU64::new(0),
        }
    }

    /// Half the cores, at least one.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from) / 2)
    }

    /// Computations running now.
    pub fn running(&self) -> usize {
        self.size - self.permits.available_permits()
    }

    /// Computations stopped at a deadline so far.
    pub fn stopped(&self) -> u64 {
        self.stopped.load(Ordering::Relaxed)
    }
}

/// Tells the computation to stop when the request is dropped (at its deadline).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The caller's figures over a range of UTC dates (inclusive).
#[utoipa::path(get, path = "/analytics", tag = "Analytics", params(AnalyticsQuery),
    responses(
        (status = 200, description = "OK", body = AnalyticsResponse),
        (status = 400, description = "Missing or malformed dates", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn analytics(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> ApiResult<Json<AnalyticsResponse>> {
    let start = q
        .start_date
        .as_deref()
        .ok_or_else(|| ApiError::invalid("start_date", "is required (YYYY-MM-DD)"))?;
    let end = q
        .end_date
        .as_deref()
        .ok_or_else(|| ApiError::invalid("end_date", "is required (YYYY-MM-DD)"))?;
    let inputs = state
        .scheduler
        .analytics_inputs(
            user.id,
            parse_date("start_date", start)?,
            parse_date("end_date", end)?,
        )
        .await?;
    let work = Arc::clone(&state.analytics_work);
    let permit = Arc::clone(&work.permits)
        .acquire_owned()
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_drop = StopOnDrop(Arc::clone(&stop));
    let computed = tokio::task::spawn_blocking(move || {
        let result = inputs.compute(&|| stop.load(Ordering::Relaxed));
        if result.is_err() {
            work.stopped.fetch_add(1, Ordering::Relaxed);
        }
        drop(permit);
        result
    })
    .await;
    match computed {
        Ok(Ok(a)) => Ok(Json(AnalyticsResponse::from(&a))),
        Ok(Err(Stopped)) => Err(ApiError::timeout()),
        Err(e) => Err(ApiError::internal(&e)),
    }
}
