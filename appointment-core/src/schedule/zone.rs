//! Time zones and the one rule that turns a wall-clock time into an instant.

use std::fmt;
use std::str::FromStr;

use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};

/// An IANA time zone, e.g. `Europe/Berlin`. The zone database is compiled in; nothing is read or
/// downloaded at run time.
///
/// ```
/// use appointment_core::TimeZoneName;
/// let tz: TimeZoneName = "Europe/Berlin".parse().unwrap();
/// assert_eq!(tz.name(), "Europe/Berlin");
/// assert!("Mars/Olympus".parse::<TimeZoneName>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZoneName(Tz);

impl TimeZoneName {
    /// Coordinated Universal Time, the default.
    pub const UTC: TimeZoneName = TimeZoneName(Tz::UTC);

    /// Looks a zone up by its IANA name (exact spelling, e.g. `America/New_York`).
    pub fn parse(raw: &str) -> Result<Self> {
        raw.trim()
            .parse::<Tz>()
            .map(TimeZoneName)
            .map_err(|_| Error::invalid("timezone", format!("unknown IANA time zone {raw:?}")))
    }
    /// The IANA name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
    /// The `chrono-tz` zone.
    pub fn tz(self) -> Tz {
        self.0
    }

    /// The instant a wall-clock time denotes in this zone: the engine's one rule, used for window
    /// ends, party events and every answer that shows a wall-clock time as an instant.
    ///
    /// * A time that happens once is that instant.
    /// * A time that happens twice (autumn overlap) is its **first** occurrence.
    /// * A time that does not happen (spring gap) is the instant it would denote with the offset
    ///   in force **before** the jump: 02:30 on a day Berlin jumps from 02:00 to 03:00 is 03:30
    ///   summer time, and 02:15 on a day Lord Howe jumps 30 minutes is 02:45.
    ///
    /// ```
    /// use appointment_core::TimeZoneName;
    /// use chrono::NaiveDate;
    /// let berlin = TimeZoneName::parse("Europe/Berlin").unwrap();
    /// let gap = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap().and_hms_opt(2, 30, 0).unwrap();
    /// assert_eq!(berlin.resolve(gap).to_rfc3339(), "2026-03-29T01:30:00+00:00");
    /// let twice = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap().and_hms_opt(2, 30, 0).unwrap();
    /// assert_eq!(berlin.resolve(twice).to_rfc3339(), "2026-10-25T00:30:00+00:00");
    /// ```
    pub fn resolve(self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                // The offset in force before the jump is the one of any wall-clock time shortly
                // before the gap; gaps last at most a few hours, so step back until one exists.
                let mut probe = local;
                for _ in 0..(4 * 48) {
                    let Some(p) = probe.checked_sub_signed(TimeDelta::minutes(15)) else {
                        break;
                    };
                    probe = p;
                    if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) =
                        self.0.from_local_datetime(&probe)
                    {
                        let off = i64::from(offset_seconds(t.offset()));
                        if let Some(utc) = local.checked_sub_signed(TimeDelta::seconds(off)) {
                            return utc.and_utc();
                        }
                        break;
                    }
                }
                local.and_utc()
            }
        }
    }
}

pub(super) fn offset_seconds(o: &<Tz as TimeZone>::Offset) -> i32 {
    o.fix().local_minus_utc()
}

impl Default for TimeZoneName {
    fn default() -> Self {
        Self::UTC
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TimeZoneName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// One change of a zone's UTC offset: the instant (Unix seconds) and the offsets before and
/// after it, in seconds east of UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Transition {
    pub at: i64,
    pub before: i32,
    pub after: i32,
}

/// The offset changes of `tz` from 1999 to 2201 (a margin around the engine's dates), in order.
/// Computed once per zone and process (the zone database has no list to read them from): the
/// offset is sampled at every UTC midnight, and each day whose ends differ is bisected to the
/// second. Offsets that change and change back within one UTC day would be missed; no zone
/// does that.
pub(super) fn transitions(tz: Tz) -> std::sync::Arc<[Transition]> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static TABLES: OnceLock<Mutex<HashMap<Tz, Arc<[Transition]>>>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(t) = tables.lock().unwrap_or_else(|e| e.into_inner()).get(&tz) {
        return Arc::clone(t);
    }
    let offset_at = |secs: i64| {
        DateTime::from_timestamp(secs, 0).map_or(0, |t| {
            offset_seconds(&tz.offset_from_utc_datetime(&t.naive_utc()))
        })
    };
    const DAY: i64 = 86_400;
    // 1999-01-01 and 2201-01-01, UTC.
    let (first, last) = (915_148_800_i64, 7_289_654_400_i64);
    let mut found = Vec::new();
    let mut day = first;
    let mut before = offset_at(day);
    while day < last {
        let after = offset_at(day + DAY);
        if after != before {
            // The first second whose offset is `after`.
            let (mut lo, mut hi) = (day, day + DAY);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(mid) == before {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            found.push(Transition {
                at: hi,
                before,
                after,
            });
        }
        before = after;
        day += DAY;
    }
    let table: Arc<[Transition]> = found.into();
    tables
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(tz, Arc::clone(&table));
    table
}
