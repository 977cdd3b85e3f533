//! How the SQL stores keep an appointment's opening hours: three text columns in the engine's own
//! notation, readable in a database shell and independent of any serialisation library.
//!
//! * `weekly_hours`: `mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00` (or `closed`).
//! * `date_overrides`: one date per line, `2026-12-24 09:00-12:00` or `2026-12-31 closed`.
//! * `closures`: one range per line, `2026-08-03 2026-08-16 Summer holidays` (label optional).
//!
//! A row written before these columns existed has them NULL: its hours are the original model's
//! window columns and weekday mask.

use appointment_core::{Closure, Error, Result, Schedule, TimeWindow, WeeklyHours};
use chrono::NaiveDate;

fn corrupt(column: &str, value: &str) -> Error {
    Error::storage(std::io::Error::other(format!(
        "appointments.{column} holds an unreadable value: {value:?}"
    )))
}

/// The `weekly_hours` column.
pub(crate) fn weekly_hours_text(s: &Schedule) -> String {
    s.weekly_hours().to_string()
}

/// Reads the `weekly_hours` column.
pub(crate) fn parse_weekly_hours(raw: &str) -> Result<WeeklyHours> {
    raw.parse().map_err(|_| corrupt("weekly_hours", raw))
}

/// The `date_overrides` column.
pub(crate) fn overrides_text(s: &Schedule) -> String {
    s.overrides()
        .map(|(date, windows)| {
            let hours = if windows.is_empty() {
                "closed".to_owned()
            } else {
                windows
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            };
            format!("{date} {hours}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads the `date_overrides` column.
pub(crate) fn parse_overrides(raw: &str) -> Result<Vec<(NaiveDate, Vec<TimeWindow>)>> {
    raw.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let bad = || corrupt("date_overrides", line);
            let (date, hours) = line.trim().split_once(' ').ok_or_else(bad)?;
            let date: NaiveDate = date.parse().map_err(|_| bad())?;
            let windows = if hours == "closed" {
                Vec::new()
            } else {
                hours
                    .split(',')
                    .map(|w| w.parse::<TimeWindow>().map_err(|_| bad()))
                    .collect::<Result<Vec<_>>>()?
            };
            Ok((date, windows))
        })
        .collect()
}

/// The `closures` column.
pub(crate) fn closures_text(s: &Schedule) -> String {
    s.closures()
        .iter()
        .map(|c| match c.label() {
            Some(label) => format!("{} {} {label}", c.first(), c.last()),
            None => format!("{} {}", c.first(), c.last()),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads the `closures` column.
pub(crate) fn parse_closures(raw: &str) -> Result<Vec<Closure>> {
    raw.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let bad = || corrupt("closures", line);
            let mut parts = line.trim().splitn(3, ' ');
            let first: NaiveDate = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
            let last: NaiveDate = parts.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
            Closure::new(first, last, parts.next().map(str::to_owned)).map_err(|_| bad())
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hours_round_trip_through_their_columns() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let s = Schedule::weekly(
            d(1, 1),
            d(12, 31),
            "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"
                .parse()
                .unwrap(),
            30,
        )
        .override_date(d(12, 24), vec!["09:00-12:00".parse().unwrap()])
        .override_date(d(12, 31), vec![])
        .closure(Closure::new(d(8, 3), d(8, 16), Some("Summer; and more".into())).unwrap())
        .closure(Closure::new(d(12, 25), d(12, 26), None).unwrap())
        .build()
        .unwrap();
        let back = Schedule::weekly(
            d(1, 1),
            d(12, 31),
            parse_weekly_hours(&weekly_hours_text(&s)).unwrap(),
            30,
        )
        .overrides(parse_overrides(&overrides_text(&s)).unwrap())
        .closures(parse_closures(&closures_text(&s)).unwrap())
        .build()
        .unwrap();
        assert_eq!(back, s);
        assert_eq!(
            overrides_text(&s),
            "2026-12-24 09:00-12:00\n2026-12-31 closed"
        );
        assert!(parse_overrides("2026-12-24 9-12").is_err());
        assert!(parse_closures("2026-12-24").is_err());
    }
}
