//! The availability model from Python values: weekly hours as text or a dict, date overrides as a
//! dict, closures as `Closure` objects or tuples. Every refusal is an `InvalidInputError` naming
//! the argument (`weekly_hours`, `overrides` or `closures`).

use appointment_core::chrono::NaiveDate;
use appointment_core::{self as core, Error, TimeWindow, WeeklyHours};
use pyo3::prelude::*;
use pyo3::types::{PyDate, PyMapping, PyString};

use crate::errors::{OrRaise, invalid_argument};
use crate::types::Closure;

/// An engine error, re-labelled with the argument the caller gave.
fn as_field(field: &'static str, err: Error) -> Error {
    match err {
        Error::InvalidInput { reason, .. } => Error::invalid(field, reason),
        other => other,
    }
}

fn refuse<T>(field: &'static str, reason: impl Into<String>) -> PyResult<T> {
    Err(invalid_argument(field, reason))
}

/// One window, `HH:MM-HH:MM`.
fn window(field: &'static str, raw: &str) -> PyResult<TimeWindow> {
    raw.parse::<TimeWindow>()
        .map_err(|e| as_field(field, e))
        .or_raise()
}

/// A list of windows: a sequence of `HH:MM-HH:MM` strings, or one string of comma-separated
/// windows (`"closed"` or `""` for none).
fn windows(field: &'static str, what: &str, ob: &Bound<'_, PyAny>) -> PyResult<Vec<TimeWindow>> {
    if let Ok(text) = ob.cast::<PyString>() {
        let text = text.to_cow()?;
        if text.trim() == "closed" {
            return Ok(Vec::new());
        }
        return text
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(|w| window(field, w))
            .collect();
    }
    let items = match ob.try_iter() {
        Ok(items) => items,
        Err(_) => {
            return refuse(
                field,
                format!("{what}: expected a list of windows like \"09:00-12:00\""),
            );
        }
    };
    let mut out = Vec::new();
    for item in items {
        let item = item?;
        match item.cast::<PyString>() {
            Ok(s) => out.push(window(field, &s.to_cow()?)?),
            Err(_) => {
                return refuse(
                    field,
                    format!("{what}: a window is a string like \"09:00-12:00\""),
                );
            }
        }
    }
    Ok(out)
}

/// A date: a `datetime.date` or an ISO `YYYY-MM-DD` string.
fn date(field: &'static str, ob: &Bound<'_, PyAny>) -> PyResult<NaiveDate> {
    if ob.cast::<PyDate>().is_ok() {
        return ob.extract::<NaiveDate>();
    }
    if let Ok(s) = ob.cast::<PyString>() {
        let s = s.to_cow()?;
        return match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            Ok(d) => Ok(d),
            Err(_) => refuse(field, format!("{s:?} is not a date YYYY-MM-DD")),
        };
    }
    refuse(field, "a date is a datetime.date or a string YYYY-MM-DD")
}

/// Weekly hours: the text form (`"mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"`) or a dict
/// from days (`"mon"`, `"monday"`, `"mon-fri"`, `"sat,sun"`) to their windows. Days not named are
/// closed; a later key replaces an earlier one for the days it names.
pub(crate) fn weekly_hours(ob: &Bound<'_, PyAny>) -> PyResult<WeeklyHours> {
    const FIELD: &str = "weekly_hours";
    if let Ok(text) = ob.cast::<PyString>() {
        return text
            .to_cow()?
            .parse::<WeeklyHours>()
            .map_err(|e| as_field(FIELD, e))
            .or_raise();
    }
    let Ok(map) = ob.cast::<PyMapping>() else {
        return refuse(
            FIELD,
            "expected text like \"mon-fri 09:00-17:00\" or a dict like {\"mon\": [\"09:00-17:00\"]}",
        );
    };
    let mut week = WeeklyHours::closed();
    for item in map.items()?.iter() {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let Ok(key) = key.cast::<PyString>() else {
            return refuse(FIELD, "a key is a day name like \"mon\" or \"mon-fri\"");
        };
        let key = key.to_cow()?;
        let key = key.trim();
        if key.is_empty() || key.contains(|c: char| c == ';' || c.is_whitespace()) {
            return refuse(
                FIELD,
                format!("{key:?} is not a day like \"mon\" or \"mon-fri\""),
            );
        }
        // The text form's parser reads the days (ranges and lists included).
        let days = format!("{key} 00:00-24:00")
            .parse::<WeeklyHours>()
            .map_err(|e| as_field(FIELD, e))
            .or_raise()?
            .open_days();
        let list = windows(FIELD, key, &value)?;
        for day in days.iter() {
            week = week
                .with_day(day, list.iter().copied())
                .map_err(|e| as_field(FIELD, e))
                .or_raise()?;
        }
    }
    Ok(week)
}

/// Date overrides: a dict from dates (`datetime.date` or `YYYY-MM-DD`) to their windows; an empty
/// list closes the date.
pub(crate) fn overrides(ob: &Bound<'_, PyAny>) -> PyResult<Vec<(NaiveDate, Vec<TimeWindow>)>> {
    const FIELD: &str = "overrides";
    let Ok(map) = ob.cast::<PyMapping>() else {
        return refuse(
            FIELD,
            "expected a dict like {date(2031, 12, 24): [\"09:00-12:00\"]}",
        );
    };
    let mut out = Vec::new();
    for item in map.items()?.iter() {
        let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
        let day = date(FIELD, &key)?;
        out.push((day, windows(FIELD, &day.to_string(), &value)?));
    }
    Ok(out)
}

/// Closures: a sequence of `Closure` objects or `(first, last)` / `(first, last, label)` tuples.
pub(crate) fn closures(ob: &Bound<'_, PyAny>) -> PyResult<Vec<core::Closure>> {
    const FIELD: &str = "closures";
    let shape = "a closure is a Closure or a tuple (first, last) or (first, last, label)";
    if ob.cast::<PyString>().is_ok() || ob.cast::<PyMapping>().is_ok() {
        return refuse(FIELD, format!("expected a list: {shape}"));
    }
    let Ok(items) = ob.try_iter() else {
        return refuse(FIELD, format!("expected a list: {shape}"));
    };
    let mut out = Vec::new();
    for item in items {
        let item = item?;
        if let Ok(c) = item.cast::<Closure>() {
            out.push(c.get().to_core()?);
            continue;
        }
        let parts: Vec<Bound<'_, PyAny>> = match item.extract() {
            Ok(parts) if item.cast::<PyString>().is_err() => parts,
            _ => return refuse(FIELD, shape),
        };
        let (first, last, label) = match parts.as_slice() {
            [first, last] => (first, last, None),
            [first, last, label] if label.is_none() => (first, last, None),
            [first, last, label] => match label.cast::<PyString>() {
                Ok(l) => (first, last, Some(l.to_cow()?.into_owned())),
                Err(_) => return refuse(FIELD, "a closure's label is a string"),
            },
            _ => return refuse(FIELD, shape),
        };
        out.push(
            core::Closure::new(date(FIELD, first)?, date(FIELD, last)?, label)
                .map_err(|e| as_field(FIELD, e))
                .or_raise()?,
        );
    }
    Ok(out)
}
