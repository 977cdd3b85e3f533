//! A clock that tests and simulations move by hand.

use std::sync::{Arc, Mutex};

use appointment_core::chrono::{DateTime, TimeDelta, TimeZone, Utc};
use appointment_core::{Clock, Error, ManualClock as CoreManualClock};
use pyo3::prelude::*;

use crate::errors::OrRaise;
use crate::types::aware_utc;

/// The instants the clock may show: those a Python `datetime` and every store can hold, from
/// 1970 to the end of 9999.
fn in_range(field: &'static str, at: DateTime<Utc>) -> appointment_core::Result<DateTime<Utc>> {
    let first = Utc.timestamp_opt(0, 0).single();
    let last = Utc
        .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .and_then(|t| t.checked_add_signed(TimeDelta::microseconds(999_999)));
    match (first, last) {
        (Some(first), Some(last)) if (first..=last).contains(&at) => Ok(at),
        _ => Err(Error::invalid(
            field,
            "must be between 1970-01-01 and 9999-12-31 (UTC)",
        )),
    }
}

/// A clock that stands still until moved, **for tests and simulations**: give it to
/// `Scheduler(url, clock=...)` and the engine reads "now" from it (bookable slots, cancellation
/// cut-offs, the start of a slot, creation and change times). A scheduler without one runs on
/// the system's clock, which is what a real application wants.
#[pyclass(frozen, module = "appointment_master")]
#[derive(Debug)]
pub struct ManualClock {
    clock: Arc<CoreManualClock>,
    /// Serialises `set` and `advance`, so an advance never adds to a stale time.
    moves: Mutex<()>,
}

impl ManualClock {
    /// The engine's clock behind it.
    pub(crate) fn engine_clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }
}

#[pymethods]
impl ManualClock {
    /// A clock showing `now`, a timezone-aware `datetime`.
    #[new]
    fn new(now: &Bound<'_, PyAny>) -> PyResult<Self> {
        let at = in_range("now", aware_utc(now, "now")?).or_raise()?;
        Ok(ManualClock {
            clock: Arc::new(CoreManualClock::new(at)),
            moves: Mutex::new(()),
        })
    }

    /// The instant the clock shows, in UTC.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Sets the clock to `now`, a timezone-aware `datetime` (earlier or later).
    fn set(&self, now: &Bound<'_, PyAny>) -> PyResult<()> {
        let at = in_range("now", aware_utc(now, "now")?).or_raise()?;
        let _moving = self.moves.lock().unwrap_or_else(|p| p.into_inner());
        self.clock.set(at);
        Ok(())
    }

    /// Moves the clock by `by`, a `timedelta` (negative moves it back).
    fn advance(&self, by: TimeDelta) -> PyResult<()> {
        let _moving = self.moves.lock().unwrap_or_else(|p| p.into_inner());
        let at = self
            .clock
            .now()
            .checked_add_signed(by)
            .ok_or_else(|| Error::invalid("by", "moves the clock out of range"))
            .and_then(|at| in_range("by", at))
            .or_raise()?;
        self.clock.set(at);
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("ManualClock({:?})", self.clock.now().to_rfc3339())
    }
}
