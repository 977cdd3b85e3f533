//! When an appointment's slots are: the schedule rule and the slot engine.
//!
//! A [`Schedule`] is a rule, not a list: dates, a daily window of wall-clock time in an IANA time
//! zone, a slot length, an optional buffer between slots and a set of weekdays. [`Schedule::slots`]
//! turns it into UTC instants lazily, one day at a time, without ever materialising the schedule.
//!
//! # Slots, exactly
//!
//! On every date from `start_date` to `end_date` (inclusive) whose weekday is in the set, slot `k`
//! starts at the wall-clock time `window_start + k × (slot + buffer)` and lasts `slot` minutes of
//! real (elapsed) time. A slot is offered while it ends no later than the window's end; the buffer
//! separates slots and is not needed after the last one, so a day holds
//! `floor((window + buffer) / (slot + buffer))` slots when no clock change touches it.
//!
//! # Daylight-saving time
//!
//! * **Spring gap**: a slot whose wall-clock start does not exist that day is skipped. A slot that
//!   starts just before the gap still lasts `slot` minutes of real time; a later slot that would
//!   overlap it is skipped.
//! * **Autumn overlap**: a wall-clock start that happens twice uses its first occurrence.
//! * **Window end**: the end of the window is the instant its wall-clock time denotes (the first
//!   occurrence when it is repeated; when it falls in a gap, the instant the clock would show had it
//!   not jumped, which is just after the gap). No slot ends past it.
//!
//! A party appointment has one event: the whole window on its start date (a start that falls in a
//! gap moves forward to the end of the gap instead of being skipped).

use std::fmt;
use std::str::FromStr;

use chrono::offset::LocalResult;
use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc, Weekday,
};
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

/// A set of weekdays (default: all seven).
///
/// ```
/// use appointment_core::Weekdays;
/// use chrono::Weekday;
/// let w: Weekdays = "mon,tue,wed,thu,fri".parse().unwrap();
/// assert!(w.contains(Weekday::Fri) && !w.contains(Weekday::Sat));
/// assert_eq!(w, Weekdays::WORKDAYS);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weekdays(u8);

impl Weekdays {
    /// Every day of the week.
    pub const ALL: Weekdays = Weekdays(0b111_1111);
    /// Monday to Friday.
    pub const WORKDAYS: Weekdays = Weekdays(0b001_1111);

    /// Builds a set from days; an empty set is refused.
    pub fn new(days: impl IntoIterator<Item = Weekday>) -> Result<Self> {
        let bits = days
            .into_iter()
            .fold(0u8, |acc, d| acc | (1 << d.num_days_from_monday()));
        Self::from_bits(bits)
    }
    /// Builds a set from a bit mask (bit 0 is Monday); an empty set is refused.
    pub fn from_bits(bits: u8) -> Result<Self> {
        let bits = bits & Self::ALL.0;
        if bits == 0 {
            return Err(Error::invalid("weekdays", "must name at least one day"));
        }
        Ok(Weekdays(bits))
    }
    /// The bit mask (bit 0 is Monday).
    pub fn bits(self) -> u8 {
        self.0
    }
    /// Whether the set holds `day`.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }
    /// The days in the set, Monday first.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        (0..7u8)
            .filter(move |i| self.0 & (1 << i) != 0)
            .filter_map(|i| Weekday::try_from(i).ok())
    }
    /// The three-letter lower-case names (`mon` … `sun`).
    pub fn names(self) -> Vec<&'static str> {
        const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        self.iter()
            .map(|d| NAMES[d.num_days_from_monday() as usize])
            .collect()
    }
}

impl Default for Weekdays {
    fn default() -> Self {
        Self::ALL
    }
}

impl fmt::Debug for Weekdays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl FromStr for Weekdays {
    type Err = Error;
    /// Parses comma-separated English day names (`mon`, `Monday`, …).
    fn from_str(s: &str) -> Result<Self> {
        let days = s
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse::<Weekday>()
                    .map_err(|_| Error::invalid("weekdays", format!("unknown weekday {p:?}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Weekdays::new(days)
    }
}

/// One bookable slot: a half-open interval of UTC instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    /// First instant of the slot.
    pub start: DateTime<Utc>,
    /// First instant after the slot.
    pub end: DateTime<Utc>,
}

const MAX_SPAN_DAYS: i64 = 3660;
const MAX_MINUTES_PARAM: u32 = 24 * 60;

/// The rule that generates an appointment's slots. Build it with [`Schedule::builder`].
///
/// ```
/// use appointment_core::{Schedule, TimeZoneName};
/// use chrono::{NaiveDate, NaiveTime};
///
/// let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
/// let schedule = Schedule::builder(d, d, NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
///         NaiveTime::from_hms_opt(12, 0, 0).unwrap(), 50)
///     .time_zone(TimeZoneName::parse("Europe/Berlin").unwrap())
///     .buffer_minutes(10)
///     .build()
///     .unwrap();
/// let slots: Vec<_> = schedule.all_slots().collect();
/// assert_eq!(slots.len(), 3); // 09:00, 10:00, 11:00 local = 08:00, 09:00, 10:00 UTC
/// assert_eq!(slots[0].start.to_rfc3339(), "2026-03-02T08:00:00+00:00");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    start_date: NaiveDate,
    end_date: NaiveDate,
    window_start: NaiveTime,
    window_end: NaiveTime,
    slot_minutes: u32,
    buffer_minutes: u32,
    time_zone: TimeZoneName,
    weekdays: Weekdays,
    min_notice_minutes: u32,
    horizon_days: Option<u32>,
    single_event: bool,
}

/// Builds a [`Schedule`]; [`ScheduleBuilder::build`] validates everything at once.
#[derive(Debug, Clone)]
pub struct ScheduleBuilder {
    inner: Schedule,
}

impl ScheduleBuilder {
    /// The zone the window's wall-clock times are read in (default UTC).
    pub fn time_zone(mut self, tz: TimeZoneName) -> Self {
        self.inner.time_zone = tz;
        self
    }
    /// The weekdays that have slots (default all).
    pub fn weekdays(mut self, days: Weekdays) -> Self {
        self.inner.weekdays = days;
        self
    }
    /// Minutes between the end of a slot and the start of the next (default 0).
    pub fn buffer_minutes(mut self, minutes: u32) -> Self {
        self.inner.buffer_minutes = minutes;
        self
    }
    /// A slot can be booked only this many minutes before it starts, or earlier (default 0).
    pub fn min_notice_minutes(mut self, minutes: u32) -> Self {
        self.inner.min_notice_minutes = minutes;
        self
    }
    /// Slots more than this many days ahead cannot be booked yet (default: no limit).
    pub fn horizon_days(mut self, days: Option<u32>) -> Self {
        self.inner.horizon_days = days;
        self
    }
    /// One event instead of slots: the whole window on the start date (party appointments).
    pub fn single_event(mut self, yes: bool) -> Self {
        self.inner.single_event = yes;
        self
    }

    /// Validates the rule.
    pub fn build(self) -> Result<Schedule> {
        let s = self.inner;
        if s.end_date < s.start_date {
            return Err(Error::invalid("end_date", "must not be before start_date"));
        }
        if (s.end_date - s.start_date).num_days() >= MAX_SPAN_DAYS {
            return Err(Error::invalid(
                "end_date",
                "a schedule may span at most ten years",
            ));
        }
        if s.window_end <= s.window_start {
            return Err(Error::invalid(
                "end_time",
                "the daily window must end after it starts, on the same day",
            ));
        }
        if s.slot_minutes == 0 || s.slot_minutes > MAX_MINUTES_PARAM {
            return Err(Error::invalid(
                "booking_duration",
                "must be from 1 to 1440 minutes",
            ));
        }
        if !s.single_event && i64::from(s.slot_minutes) * 60 > s.window_seconds() {
            return Err(Error::invalid(
                "booking_duration",
                "a slot must fit in the daily window",
            ));
        }
        if s.buffer_minutes > MAX_MINUTES_PARAM {
            return Err(Error::invalid(
                "buffer_minutes",
                "must be at most 1440 minutes",
            ));
        }
        if s.min_notice_minutes > 366 * 24 * 60 {
            return Err(Error::invalid(
                "min_notice_minutes",
                "must be at most one year",
            ));
        }
        if let Some(h) = s.horizon_days
            && (h == 0 || h > 3660)
        {
            return Err(Error::invalid(
                "horizon_days",
                "must be from 1 to 3660 days",
            ));
        }
        if !s
            .start_date
            .iter_days()
            .take_while(|d| *d <= s.end_date)
            .take(7)
            .any(|d| s.weekdays.contains(d.weekday()))
        {
            return Err(Error::invalid(
                "weekdays",
                "no date in the range falls on these weekdays",
            ));
        }
        Ok(s)
    }
}

impl Schedule {
    /// Starts a schedule: dates (inclusive), the daily window in wall-clock time, and the slot
    /// length in minutes.
    pub fn builder(
        start_date: NaiveDate,
        end_date: NaiveDate,
        window_start: NaiveTime,
        window_end: NaiveTime,
        slot_minutes: u32,
    ) -> ScheduleBuilder {
        ScheduleBuilder {
            inner: Schedule {
                start_date,
                end_date,
                window_start,
                window_end,
                slot_minutes,
                buffer_minutes: 0,
                time_zone: TimeZoneName::UTC,
                weekdays: Weekdays::ALL,
                min_notice_minutes: 0,
                horizon_days: None,
                single_event: false,
            },
        }
    }

    /// A builder holding this schedule's values, to derive a changed copy.
    pub fn to_builder(&self) -> ScheduleBuilder {
        ScheduleBuilder {
            inner: self.clone(),
        }
    }

    /// First date (inclusive).
    pub fn start_date(&self) -> NaiveDate {
        self.start_date
    }
    /// Last date (inclusive).
    pub fn end_date(&self) -> NaiveDate {
        self.end_date
    }
    /// Wall-clock start of the daily window.
    pub fn window_start(&self) -> NaiveTime {
        self.window_start
    }
    /// Wall-clock end of the daily window.
    pub fn window_end(&self) -> NaiveTime {
        self.window_end
    }
    /// Slot length in minutes.
    pub fn slot_minutes(&self) -> u32 {
        self.slot_minutes
    }
    /// Minutes between slots.
    pub fn buffer_minutes(&self) -> u32 {
        self.buffer_minutes
    }
    /// The zone of the window.
    pub fn time_zone(&self) -> TimeZoneName {
        self.time_zone
    }
    /// The weekdays with slots.
    pub fn weekdays(&self) -> Weekdays {
        self.weekdays
    }
    /// Minimum notice before a slot, in minutes.
    pub fn min_notice_minutes(&self) -> u32 {
        self.min_notice_minutes
    }
    /// How far ahead slots can be booked, in days.
    pub fn horizon_days(&self) -> Option<u32> {
        self.horizon_days
    }
    /// Whether this is one event (party) rather than slots.
    pub fn is_single_event(&self) -> bool {
        self.single_event
    }

    fn window_seconds(&self) -> i64 {
        (self.window_end - self.window_start).num_seconds()
    }

    /// Every slot, in order.
    pub fn all_slots(&self) -> Slots<'_> {
        self.slots(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC)
    }

    /// The slots that start in `[from, to)`, in order, generated lazily.
    pub fn slots(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Slots<'_> {
        // A local date's window lies within a day and a bit of that date's UTC midnight, whatever
        // the zone's offset (at most ±26 h), so dates outside this margin cannot hold a slot.
        let margin = TimeDelta::days(2);
        let first = from
            .checked_sub_signed(margin)
            .map_or(self.start_date, |t| t.date_naive().max(self.start_date));
        let last = to
            .checked_add_signed(margin)
            .map_or(self.end_date, |t| t.date_naive().min(self.end_date));
        Slots {
            schedule: self,
            from,
            to,
            next_date: Some(first),
            last_date: if self.single_event {
                self.start_date.min(last)
            } else {
                last
            },
            day: DayState::Empty,
            offset_hint: None,
        }
    }

    /// The slots whose wall-clock start falls on `date` in the schedule's zone.
    pub fn slots_on(&self, date: NaiveDate) -> Slots<'_> {
        let last = if self.single_event {
            self.start_date
        } else {
            self.end_date
        };
        let in_range = date >= self.start_date && date <= last;
        Slots {
            schedule: self,
            from: DateTime::<Utc>::MIN_UTC,
            to: DateTime::<Utc>::MAX_UTC,
            next_date: in_range.then_some(date),
            last_date: date,
            day: DayState::Empty,
            offset_hint: None,
        }
    }

    /// The slot that starts exactly at `start`, if the schedule has one.
    pub fn slot_at(&self, start: DateTime<Utc>) -> Option<Slot> {
        let local = start.with_timezone(&self.time_zone.tz()).date_naive();
        self.slots_on(local).find(|s| s.start == start)
    }

    /// The local date (in the schedule's zone) of an instant.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone.tz()).date_naive()
    }

    /// The number of slots that start in `[from, to)`, counted a day at a time (see
    /// [`Slots::count_days`]).
    pub fn count_slots(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
        self.slots(from, to).count_days(&|| false).unwrap_or(0)
    }

    /// Computes one date's slots into the iterator's day state. `hint` carries the UTC offset of
    /// the previous planned day's window, which is almost always today's too.
    fn plan_day(&self, date: NaiveDate, hint: &mut Option<i32>) -> DayState {
        if !self.weekdays.contains(date.weekday()) {
            return DayState::Empty;
        }
        let tz = self.time_zone.tz();
        let local_start = date.and_time(self.window_start);
        let local_end = date.and_time(self.window_end);
        if self.single_event {
            return DayState::Event(Slot {
                start: resolve_compatible(tz, local_start),
                end: resolve_compatible(tz, local_end),
            });
        }
        let len = i64::from(self.slot_minutes) * 60;
        let step = len + i64::from(self.buffer_minutes) * 60;
        let window = self.window_seconds();
        let uniform = |offset: i32| {
            let base = local_start.and_utc().timestamp() - i64::from(offset);
            DayState::Uniform {
                base,
                step,
                len,
                next: 0,
                count: if window >= len {
                    (window - len) / step + 1
                } else {
                    0
                },
                days: UtcDays::around(base),
            }
        };
        // Fast path: no clock change between the window's start and end, so every slot is a fixed
        // offset from the first. First try yesterday's offset, checked with two cheap UTC look-ups
        // at the window's ends (with yesterday's offset, a repeated wall-clock start resolves to
        // its first occurrence, as the slow path does).
        if let Some(off) = *hint {
            let start = local_start - TimeDelta::seconds(i64::from(off));
            let end = local_end - TimeDelta::seconds(i64::from(off));
            if offset_seconds(&tz.offset_from_utc_datetime(&start)) == off
                && offset_seconds(&tz.offset_from_utc_datetime(&end)) == off
            {
                return uniform(off);
            }
        }
        if let (LocalResult::Single(a), LocalResult::Single(b)) = (
            tz.offset_from_local_datetime(&local_start),
            tz.offset_from_local_datetime(&local_end),
        ) && a == b
        {
            let off = offset_seconds(&a);
            *hint = Some(off);
            return uniform(off);
        }
        *hint = None;
        DayState::Shifted {
            local_start,
            step,
            len,
            next: 0,
            window_end: resolve_compatible(tz, local_end),
            prev_end: None,
        }
    }
}

fn offset_seconds(o: &<Tz as TimeZone>::Offset) -> i32 {
    use chrono::Offset;
    o.fix().local_minus_utc()
}

/// Resolves a wall-clock time to an instant: the first occurrence when it is repeated, and the
/// instant it would denote with the offset in force before the jump when it falls in a gap.
fn resolve_compatible(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // Walk back to a wall-clock time before the gap and take its offset.
            let mut probe = local;
            for _ in 0..(4 * 48) {
                probe -= TimeDelta::minutes(15);
                if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) =
                    tz.from_local_datetime(&probe)
                {
                    let off = i64::from(offset_seconds(t.offset()));
                    return DateTime::<Utc>::from_naive_utc_and_offset(
                        local - TimeDelta::seconds(off),
                        Utc,
                    );
                }
            }
            local.and_utc()
        }
    }
}

fn from_ts(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

const DAY: i64 = 86_400;

/// Turns Unix seconds into `DateTime<Utc>` cheaply for instants on two known UTC days (the ones a
/// day's window can touch), falling back to the general conversion elsewhere.
#[derive(Debug, Clone, Copy)]
struct UtcDays {
    /// Unix seconds of the first day's midnight.
    midnight: i64,
    first: NaiveDate,
    second: Option<NaiveDate>,
}

impl UtcDays {
    fn around(ts: i64) -> Option<Self> {
        let midnight = ts.div_euclid(DAY) * DAY;
        let first = from_ts(midnight)?.date_naive();
        Some(UtcDays {
            midnight,
            first,
            second: first.succ_opt(),
        })
    }

    fn at(days: Option<Self>, ts: i64) -> Option<DateTime<Utc>> {
        if let Some(d) = days {
            let rel = ts - d.midnight;
            let date = if (0..DAY).contains(&rel) {
                Some(d.first)
            } else if (DAY..2 * DAY).contains(&rel) {
                d.second
            } else {
                None
            };
            if let Some(date) = date {
                // `rel % DAY` is in 0..86_400, which always fits a time of day.
                let secs = u32::try_from(rel % DAY).ok()?;
                let time = NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)?;
                return Some(date.and_time(time).and_utc());
            }
        }
        from_ts(ts)
    }
}

#[derive(Debug, Clone)]
enum DayState {
    Empty,
    Event(Slot),
    Uniform {
        base: i64,
        step: i64,
        len: i64,
        next: i64,
        count: i64,
        days: Option<UtcDays>,
    },
    Shifted {
        local_start: NaiveDateTime,
        step: i64,
        len: i64,
        next: i64,
        window_end: DateTime<Utc>,
        prev_end: Option<DateTime<Utc>>,
    },
}

/// A lazy iterator over a schedule's slots, in order. See [`Schedule::slots`].
#[derive(Debug, Clone)]
pub struct Slots<'a> {
    schedule: &'a Schedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    next_date: Option<NaiveDate>,
    last_date: NaiveDate,
    day: DayState,
    offset_hint: Option<i32>,
}

impl Slots<'_> {
    /// Counts the slots left, a whole day at once where the day's slots are evenly spaced and
    /// all inside the range (one at a time otherwise, e.g. on a day with a clock change), so that
    /// the work grows with the days rather than the slots. `stop` is asked before each day; as
    /// soon as it answers `true`, the count gives up with `None`.
    pub fn count_days(mut self, stop: &dyn Fn() -> bool) -> Option<u64> {
        let mut total = 0u64;
        loop {
            if let DayState::Uniform {
                base,
                step,
                len,
                next: 0,
                count,
                days,
            } = &self.day
                && *count > 0
            {
                let last = (*count - 1)
                    .checked_mul(*step)
                    .and_then(|d| base.checked_add(d));
                let bounds = last.and_then(|last| {
                    Some((
                        UtcDays::at(*days, *base)?,
                        UtcDays::at(*days, last)?,
                        UtcDays::at(*days, last.checked_add(*len)?)?,
                    ))
                });
                if let Some((first, last, _)) = bounds
                    && first >= self.from
                    && last < self.to
                {
                    total = total.saturating_add(u64::try_from(*count).unwrap_or(0));
                    self.day = DayState::Empty;
                }
            }
            while let Some(slot) = self.next_in_day() {
                if slot.start < self.from {
                    continue;
                }
                if slot.start >= self.to {
                    return Some(total);
                }
                total = total.saturating_add(1);
            }
            let Some(date) = self.next_date else {
                return Some(total);
            };
            if date > self.last_date {
                return Some(total);
            }
            if stop() {
                return None;
            }
            self.next_date = date.succ_opt();
            self.day = self.schedule.plan_day(date, &mut self.offset_hint);
        }
    }

    /// The next slot of the current day, if any (without the `[from, to)` filter).
    fn next_in_day(&mut self) -> Option<Slot> {
        match &mut self.day {
            DayState::Empty => None,
            DayState::Event(slot) => {
                let s = *slot;
                self.day = DayState::Empty;
                Some(s)
            }
            DayState::Uniform {
                base,
                step,
                len,
                next,
                count,
                days,
            } => {
                if *next >= *count {
                    return None;
                }
                let start = *base + *next * *step;
                *next += 1;
                Some(Slot {
                    start: UtcDays::at(*days, start)?,
                    end: UtcDays::at(*days, start + *len)?,
                })
            }
            DayState::Shifted {
                local_start,
                step,
                len,
                next,
                window_end,
                prev_end,
            } => {
                let tz = self.schedule.time_zone.tz();
                loop {
                    let local = *local_start + TimeDelta::seconds(*next * *step);
                    *next += 1;
                    if local.time() < self.schedule.window_start
                        || local.date() != local_start.date()
                        || local.time() >= self.schedule.window_end
                    {
                        return None;
                    }
                    let start = match tz.from_local_datetime(&local) {
                        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                            t.with_timezone(&Utc)
                        }
                        LocalResult::None => continue, // spring gap: no such wall-clock start
                    };
                    let end = start + TimeDelta::seconds(*len);
                    if end > *window_end {
                        return None; // starts only get later from here
                    }
                    if prev_end.is_some_and(|p| start < p) {
                        continue; // would overlap the slot before it, right after a gap
                    }
                    *prev_end = Some(end);
                    return Some(Slot { start, end });
                }
            }
        }
    }
}

impl Iterator for Slots<'_> {
    type Item = Slot;

    fn next(&mut self) -> Option<Slot> {
        loop {
            if let Some(slot) = self.next_in_day() {
                if slot.start < self.from {
                    continue;
                }
                if slot.start >= self.to {
                    // Later days only start later.
                    self.next_date = None;
                    self.day = DayState::Empty;
                    return None;
                }
                return Some(slot);
            }
            let date = self.next_date?;
            if date > self.last_date {
                self.next_date = None;
                return None;
            }
            self.next_date = date.succ_opt();
            self.day = self.schedule.plan_day(date, &mut self.offset_hint);
        }
    }
}
