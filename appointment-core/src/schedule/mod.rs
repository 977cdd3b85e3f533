//! When an appointment's slots are: the availability model and the slot engine.
//!
//! A [`Schedule`] is a rule, not a list: a range of dates, the [`WeeklyHours`] of a typical week
//! (any number of windows per weekday, in an IANA time zone), dates whose hours differ (overrides,
//! e.g. 24 December 09:00-12:00, or closed), [`Closure`]s (holidays, vacations), a slot length
//! and an optional buffer. [`Schedule::slots`] turns it into UTC instants lazily, one day at a
//! time, without ever materialising the schedule, and [`Schedule::count_slots`] counts them with
//! arithmetic, a few operations per day whatever the slot length.
//!
//! # Slots, exactly
//!
//! A date's hours are: none if a closure covers it; else its override if it has one; else the
//! weekly hours of its weekday. In each window of those hours, slot `k` starts at the wall-clock
//! time `window_start + k × (slot + buffer)` and lasts `slot` minutes of real (elapsed) time. A
//! slot is offered while it ends no later than its window's end; the buffer separates slots and
//! is not needed after the last one, so a window holds `floor((window + buffer) / (slot +
//! buffer))` slots when no clock change touches it. Slots never cross a window's end: a lunch
//! break between two windows is never booked.
//!
//! # Daylight-saving time
//!
//! The rules hold per window:
//!
//! * **Spring gap**: a slot whose wall-clock start does not exist that day is skipped. A slot that
//!   starts just before the gap still lasts `slot` minutes of real time; a later slot that would
//!   overlap it is skipped.
//! * **Autumn overlap**: a wall-clock start that happens twice uses its first occurrence.
//! * **Window end**: the end of a window is the instant its wall-clock time denotes by
//!   [`TimeZoneName::resolve`]. No slot ends past it.
//!
//! A party appointment has one event: from the first window's start to the last window's end on
//! its start date (resolved by [`TimeZoneName::resolve`], so a start in a gap moves forward
//! instead of being skipped).
//!
//! # Bounds
//!
//! Dates lie in the years 2000 to 2199 and a schedule spans at most ten years, so no date
//! arithmetic on a valid schedule can overflow; every input is checked by
//! [`ScheduleBuilder::build`] before the engine sees it.

mod engine;
mod hours;
mod zone;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};

use crate::error::{Error, Result};

pub use engine::Slots;
pub use hours::{Closure, TimeWindow, Weekdays, WeeklyHours};
pub use zone::TimeZoneName;

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

/// The rule that generates an appointment's slots. Build it with [`Schedule::builder`] (the same
/// window on chosen weekdays) or [`Schedule::weekly`] (any weekly hours).
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
///
/// A barber's week, with a lunch break, short Saturdays, Christmas Eve morning only and two weeks
/// of summer holidays:
///
/// ```
/// use appointment_core::{Closure, Schedule, TimeZoneName};
/// use chrono::NaiveDate;
///
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let schedule = Schedule::weekly(d(1, 1), d(12, 31),
///         "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00".parse().unwrap(), 30)
///     .time_zone(TimeZoneName::parse("Europe/Paris").unwrap())
///     .override_date(d(12, 24), vec!["09:00-12:00".parse().unwrap()])
///     .closure(Closure::new(d(8, 3), d(8, 16), Some("Summer holidays".into())).unwrap())
///     .build()
///     .unwrap();
/// assert_eq!(schedule.slots_on(d(3, 3)).count(), 6 + 9); // a Tuesday
/// assert_eq!(schedule.slots_on(d(3, 7)).count(), 8); // a Saturday
/// assert_eq!(schedule.slots_on(d(3, 8)).count(), 0); // Sunday: closed
/// assert_eq!(schedule.slots_on(d(12, 24)).count(), 6); // a Thursday, mornings only
/// assert_eq!(schedule.slots_on(d(8, 10)).count(), 0); // holidays
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    start_date: NaiveDate,
    end_date: NaiveDate,
    hours: WeeklyHours,
    overrides: BTreeMap<NaiveDate, Vec<TimeWindow>>,
    /// As given, in order.
    closures: Vec<Closure>,
    /// The closures merged into disjoint, sorted ranges: what the engine looks dates up in.
    closed: Vec<(NaiveDate, NaiveDate)>,
    slot_minutes: u32,
    buffer_minutes: u32,
    time_zone: TimeZoneName,
    min_notice_minutes: u32,
    cancel_cutoff_minutes: u32,
    hold_minutes: u32,
    confirm_within_minutes: Option<u32>,
    horizon_days: Option<u32>,
    single_event: bool,
}

/// How long a hold of seats lasts unless the appointment says otherwise, in minutes.
pub const DEFAULT_HOLD_MINUTES: u32 = 10;
/// The longest a hold of seats may last, in minutes.
pub const MAX_HOLD_MINUTES: u32 = 120;

/// The longest an owner may take to confirm a booking, in minutes (30 days).
pub const MAX_CONFIRM_MINUTES: u32 = 30 * 24 * 60;

/// Builds a [`Schedule`]; [`ScheduleBuilder::build`] validates everything at once.
#[derive(Debug, Clone)]
pub struct ScheduleBuilder {
    inner: Schedule,
    window: Option<(NaiveTime, NaiveTime)>,
    weekdays: Weekdays,
    overrides: Vec<(NaiveDate, Vec<TimeWindow>)>,
}

impl ScheduleBuilder {
    /// The zone the windows' wall-clock times are read in (default UTC).
    pub fn time_zone(mut self, tz: TimeZoneName) -> Self {
        self.inner.time_zone = tz;
        self
    }
    /// Keeps only these weekdays open (default all).
    pub fn weekdays(mut self, days: Weekdays) -> Self {
        self.weekdays = days;
        self
    }
    /// The hours of a typical week, replacing the builder's daily window.
    pub fn weekly_hours(mut self, hours: WeeklyHours) -> Self {
        self.window = None;
        self.inner.hours = hours;
        self
    }
    /// Gives `date` its own windows instead of its weekday's (an empty list closes the date).
    /// A later override of the same date replaces an earlier one.
    pub fn override_date(mut self, date: NaiveDate, windows: Vec<TimeWindow>) -> Self {
        self.overrides.retain(|(d, _)| *d != date);
        self.overrides.push((date, windows));
        self
    }
    /// Replaces every date override.
    pub fn overrides(
        mut self,
        overrides: impl IntoIterator<Item = (NaiveDate, Vec<TimeWindow>)>,
    ) -> Self {
        self.overrides.clear();
        for (date, windows) in overrides {
            self = self.override_date(date, windows);
        }
        self
    }
    /// Adds a closure.
    pub fn closure(mut self, closure: Closure) -> Self {
        self.inner.closures.push(closure);
        self
    }
    /// Replaces every closure.
    pub fn closures(mut self, closures: impl IntoIterator<Item = Closure>) -> Self {
        self.inner.closures = closures.into_iter().collect();
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
    /// The cancellation policy: guests may cancel or reschedule a booking only until this many
    /// minutes before its slot starts (default 0: until the start). The owner is not bound by
    /// it; nobody moves a booking whose slot has started.
    pub fn cancel_cutoff_minutes(mut self, minutes: u32) -> Self {
        self.inner.cancel_cutoff_minutes = minutes;
        self
    }
    /// How long a hold of seats lasts before it expires, in minutes: from 1 to
    /// [`MAX_HOLD_MINUTES`] (default [`DEFAULT_HOLD_MINUTES`]). See [`crate::Scheduler::hold`].
    pub fn hold_minutes(mut self, minutes: u32) -> Self {
        self.inner.hold_minutes = minutes;
        self
    }
    /// Approval: with `Some(minutes)` (1 to [`MAX_CONFIRM_MINUTES`]), every booking starts
    /// [pending](crate::BookingStatus::Pending) and holds its seats until the owner confirms or
    /// declines it, for at most that long (and never past its slot's start), after which it
    /// expires and its seats are free. `None` (the default): bookings are active at once. See
    /// [`crate::Scheduler::confirm`].
    pub fn confirm_within_minutes(mut self, minutes: Option<u32>) -> Self {
        self.inner.confirm_within_minutes = minutes;
        self
    }
    /// Slots more than this many days ahead cannot be booked yet (default: no limit).
    pub fn horizon_days(mut self, days: Option<u32>) -> Self {
        self.inner.horizon_days = days;
        self
    }
    /// One event instead of slots: the start date's hours, from the first window's start to the
    /// last window's end (party appointments).
    pub fn single_event(mut self, yes: bool) -> Self {
        self.inner.single_event = yes;
        self
    }

    /// Validates the rule.
    pub fn build(self) -> Result<Schedule> {
        let ScheduleBuilder {
            mut inner,
            window,
            weekdays,
            overrides,
        } = self;
        let s = &mut inner;
        check_date("start_date", s.start_date)?;
        check_date("end_date", s.end_date)?;
        if s.end_date < s.start_date {
            return Err(Error::invalid("end_date", "must not be before start_date"));
        }
        if (s.end_date - s.start_date).num_days() >= MAX_SPAN_DAYS {
            return Err(Error::invalid(
                "end_date",
                "a schedule may span at most ten years",
            ));
        }
        if let Some((start, end)) = window {
            if end <= start {
                return Err(Error::invalid(
                    "end_time",
                    "the daily window must end after it starts, on the same day",
                ));
            }
            s.hours = WeeklyHours::uniform(TimeWindow::new(start, end)?, Weekdays::ALL);
        }
        s.hours = std::mem::take(&mut s.hours).restrict(weekdays);
        if s.slot_minutes == 0 || s.slot_minutes > MAX_MINUTES_PARAM {
            return Err(Error::invalid(
                "booking_duration",
                "must be from 1 to 1440 minutes",
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
        if s.cancel_cutoff_minutes > 366 * 24 * 60 {
            return Err(Error::invalid(
                "cancel_cutoff_minutes",
                "must be at most one year",
            ));
        }
        if !(1..=MAX_HOLD_MINUTES).contains(&s.hold_minutes) {
            return Err(Error::invalid(
                "hold_minutes",
                format!("must be from 1 to {MAX_HOLD_MINUTES} minutes"),
            ));
        }
        if let Some(m) = s.confirm_within_minutes
            && !(1..=MAX_CONFIRM_MINUTES).contains(&m)
        {
            return Err(Error::invalid(
                "confirm_within_minutes",
                format!("must be from 1 to {MAX_CONFIRM_MINUTES} minutes (30 days)"),
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
        if overrides.len() > Schedule::MAX_OVERRIDES {
            return Err(Error::invalid(
                "overrides",
                format!("at most {} dates", Schedule::MAX_OVERRIDES),
            ));
        }
        s.overrides.clear();
        for (date, windows) in overrides {
            if date < s.start_date || date > s.end_date {
                return Err(Error::invalid(
                    "overrides",
                    format!("{date} is outside the appointment's dates"),
                ));
            }
            let windows = hours::day_windows("overrides", &date, windows)?;
            s.overrides.insert(date, windows);
        }
        if s.closures.len() > Schedule::MAX_CLOSURES {
            return Err(Error::invalid(
                "closures",
                format!("at most {} closures", Schedule::MAX_CLOSURES),
            ));
        }
        for c in &s.closures {
            check_date("closures", c.first())?;
            check_date("closures", c.last())?;
        }
        s.closures.sort();
        s.closed = merge_closures(&s.closures);
        if !s.single_event {
            let slot = s.slot_minutes * 60;
            let mut weekly = Weekdays::ALL.iter().flat_map(|d| s.hours.day(d));
            let short = |w: &&TimeWindow| w.seconds() < slot;
            let found = match weekly.find(short) {
                Some(w) if window.is_some() => Some(("booking_duration", *w)),
                Some(w) => Some(("weekly_hours", *w)),
                None => s
                    .overrides
                    .values()
                    .flatten()
                    .find(short)
                    .map(|w| ("overrides", *w)),
            };
            if let Some((field, w)) = found {
                return Err(Error::invalid(
                    field,
                    format!(
                        "a {}-minute slot must fit in every window, and {w} is shorter",
                        s.slot_minutes
                    ),
                ));
            }
        }
        if s.single_event {
            if s.hours_on(s.start_date).is_empty() {
                return Err(Error::invalid(
                    "start_date",
                    "a party's start date must have opening hours",
                ));
            }
        } else if !s
            .start_date
            .iter_days()
            .take_while(|d| *d <= s.end_date)
            .any(|d| !s.hours_on(d).is_empty())
        {
            return Err(
                if window.is_some() && s.overrides.is_empty() && s.closed.is_empty() {
                    Error::invalid("weekdays", "no date in the range falls on these weekdays")
                } else {
                    Error::invalid("weekly_hours", "no date in the range has opening hours")
                },
            );
        }
        Ok(inner)
    }
}

/// The first date a schedule may use.
pub const MIN_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};
/// The last date a schedule may use.
pub const MAX_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

fn check_date(field: &'static str, date: NaiveDate) -> Result<()> {
    if date < MIN_DATE || date > MAX_DATE {
        return Err(Error::invalid(
            field,
            format!("{date} is outside the years 2000 to 2199"),
        ));
    }
    Ok(())
}

fn merge_closures(sorted: &[Closure]) -> Vec<(NaiveDate, NaiveDate)> {
    let mut out: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for c in sorted {
        match out.last_mut() {
            Some(last) if c.first() <= last.1.succ_opt().unwrap_or(last.1) => {
                last.1 = last.1.max(c.last());
            }
            _ => out.push((c.first(), c.last())),
        }
    }
    out
}

impl Schedule {
    /// The most date overrides a schedule may have.
    pub const MAX_OVERRIDES: usize = 1000;
    /// The most closures a schedule may have.
    pub const MAX_CLOSURES: usize = 1000;

    /// Starts a schedule with the original service's model: dates (inclusive), one daily window
    /// in wall-clock time (on every weekday unless [`ScheduleBuilder::weekdays`] narrows it), and
    /// the slot length in minutes.
    pub fn builder(
        start_date: NaiveDate,
        end_date: NaiveDate,
        window_start: NaiveTime,
        window_end: NaiveTime,
        slot_minutes: u32,
    ) -> ScheduleBuilder {
        let mut b = Self::weekly(start_date, end_date, WeeklyHours::closed(), slot_minutes);
        b.window = Some((window_start, window_end));
        b
    }

    /// Starts a schedule from weekly hours: dates (inclusive), the hours of a typical week, and
    /// the slot length in minutes.
    pub fn weekly(
        start_date: NaiveDate,
        end_date: NaiveDate,
        hours: WeeklyHours,
        slot_minutes: u32,
    ) -> ScheduleBuilder {
        ScheduleBuilder {
            inner: Schedule {
                start_date,
                end_date,
                hours,
                overrides: BTreeMap::new(),
                closures: Vec::new(),
                closed: Vec::new(),
                slot_minutes,
                buffer_minutes: 0,
                time_zone: TimeZoneName::UTC,
                min_notice_minutes: 0,
                cancel_cutoff_minutes: 0,
                hold_minutes: DEFAULT_HOLD_MINUTES,
                confirm_within_minutes: None,
                horizon_days: None,
                single_event: false,
            },
            window: None,
            weekdays: Weekdays::ALL,
            overrides: Vec::new(),
        }
    }

    /// A builder holding this schedule's values, to derive a changed copy.
    pub fn to_builder(&self) -> ScheduleBuilder {
        ScheduleBuilder {
            inner: self.clone(),
            window: None,
            weekdays: Weekdays::ALL,
            overrides: self
                .overrides
                .iter()
                .map(|(d, w)| (*d, w.clone()))
                .collect(),
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
    /// The hours of a typical week.
    pub fn weekly_hours(&self) -> &WeeklyHours {
        &self.hours
    }
    /// The dates with hours of their own, in date order (an empty list is a closed date).
    pub fn overrides(&self) -> impl Iterator<Item = (NaiveDate, &[TimeWindow])> {
        self.overrides.iter().map(|(d, w)| (*d, w.as_slice()))
    }
    /// The closures, in date order.
    pub fn closures(&self) -> &[Closure] {
        &self.closures
    }
    /// The one daily window of a schedule in the original service's model (the same single
    /// window on every open weekday, with no override), `None` otherwise.
    pub fn daily_window(&self) -> Option<TimeWindow> {
        self.hours.single_window()
    }
    /// From the earliest opening to the latest closing of the weekly hours (overrides aside),
    /// `None` when every weekday is closed: the original service's one window, which answers
    /// in its shape show.
    pub fn hours_span(&self) -> Option<TimeWindow> {
        let mut all = Weekdays::ALL.iter().flat_map(|d| self.hours.day(d));
        let first = *all.next()?;
        all.try_fold(first, |acc, w| {
            TimeWindow::from_seconds(
                acc.start_seconds().min(w.start_seconds()),
                acc.end_seconds().max(w.end_seconds()),
            )
        })
        .ok()
    }
    /// Slot length in minutes.
    pub fn slot_minutes(&self) -> u32 {
        self.slot_minutes
    }
    /// Minutes between slots.
    pub fn buffer_minutes(&self) -> u32 {
        self.buffer_minutes
    }
    /// The zone of the windows.
    pub fn time_zone(&self) -> TimeZoneName {
        self.time_zone
    }
    /// The weekdays with hours in the weekly hours (overrides aside).
    pub fn weekdays(&self) -> Weekdays {
        self.hours.open_days()
    }
    /// Minimum notice before a slot, in minutes.
    pub fn min_notice_minutes(&self) -> u32 {
        self.min_notice_minutes
    }
    /// How long before a slot's start guests can no longer cancel or reschedule, in minutes
    /// (see [`ScheduleBuilder::cancel_cutoff_minutes`]).
    pub fn cancel_cutoff_minutes(&self) -> u32 {
        self.cancel_cutoff_minutes
    }
    /// How long a hold of seats lasts, in minutes (see [`ScheduleBuilder::hold_minutes`]).
    pub fn hold_minutes(&self) -> u32 {
        self.hold_minutes
    }
    /// How long the owner has to confirm a booking, in minutes, if bookings wait for a
    /// confirmation (see [`ScheduleBuilder::confirm_within_minutes`]).
    pub fn confirm_within_minutes(&self) -> Option<u32> {
        self.confirm_within_minutes
    }
    /// How far ahead slots can be booked, in days.
    pub fn horizon_days(&self) -> Option<u32> {
        self.horizon_days
    }
    /// Whether this is one event (party) rather than slots.
    pub fn is_single_event(&self) -> bool {
        self.single_event
    }

    /// The windows of `date`: none outside the schedule's dates or in a closure, the override's
    /// if the date has one, else its weekday's.
    pub fn hours_on(&self, date: NaiveDate) -> &[TimeWindow] {
        if date < self.start_date || date > self.end_date || self.is_closed(date) {
            return &[];
        }
        if !self.overrides.is_empty()
            && let Some(w) = self.overrides.get(&date)
        {
            return w;
        }
        self.hours.day(date.weekday())
    }

    fn is_closed(&self, date: NaiveDate) -> bool {
        if self.closed.is_empty() {
            return false;
        }
        let i = self.closed.partition_point(|(first, _)| *first <= date);
        i > 0 && self.closed[i - 1].1 >= date
    }

    /// The instants from the first window's start to the last window's end on `date`, if the
    /// date has hours: a party's event, or the span a day's slots lie in.
    pub fn day_span(&self, date: NaiveDate) -> Option<Slot> {
        let windows = self.hours_on(date);
        let (first, last) = (windows.first()?, windows.last()?);
        Some(Slot {
            start: self
                .time_zone
                .resolve(local_at(date, first.start_seconds())?),
            end: self.time_zone.resolve(local_at(date, last.end_seconds())?),
        })
    }

    /// Every slot, in order.
    pub fn all_slots(&self) -> Slots<'_> {
        self.slots(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC)
    }

    /// The dates whose slots can start in `[from, to)`: a local date's windows lie within a day
    /// and a bit of that date's UTC midnight, whatever the zone's offset (at most ±26 h).
    fn date_range(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
        let margin = TimeDelta::days(2);
        let first = from
            .checked_sub_signed(margin)
            .map_or(self.start_date, |t| t.date_naive().max(self.start_date));
        let last = to
            .checked_add_signed(margin)
            .map_or(self.end_date, |t| t.date_naive().min(self.end_date));
        let last = if self.single_event {
            self.start_date.min(last)
        } else {
            last
        };
        (first, last)
    }

    /// The slots that start in `[from, to)`, in order, generated lazily.
    pub fn slots(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Slots<'_> {
        let (first, last) = self.date_range(from, to);
        Slots::new(self, from, to, first, last)
    }

    /// The slots that start in `[from, to)`, from the `index`-th on (0 is the first): whole days
    /// before it are counted with arithmetic, not walked, so a page deep into a long schedule
    /// costs what its days cost, not what its slots cost.
    ///
    /// ```
    /// use appointment_core::Schedule;
    /// use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
    /// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    /// let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    /// let s = Schedule::builder(d(2026, 1, 1), d(2035, 12, 31), t(8), t(20), 1).build().unwrap();
    /// let (from, to) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    /// let deep = s.slots_from_index(from, to, 2_000_000).next().unwrap();
    /// assert_eq!(Some(deep), s.all_slots().nth(2_000_000));
    /// ```
    pub fn slots_from_index(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        index: u64,
    ) -> Slots<'_> {
        if from >= to {
            return Slots::empty(self);
        }
        let (first, last) = self.date_range(from, to);
        let mut hint = None;
        let mut remaining = index;
        for date in first.iter_days().take_while(|d| *d <= last) {
            let here = engine::count_day(self, date, from, to, &mut hint);
            if here > remaining {
                let mut slots = Slots::new(self, from, to, date, last);
                for _ in 0..remaining {
                    slots.next();
                }
                return slots;
            }
            remaining -= here;
        }
        Slots::empty(self)
    }

    /// The slots whose wall-clock start falls on `date` in the schedule's zone.
    pub fn slots_on(&self, date: NaiveDate) -> Slots<'_> {
        let last = if self.single_event {
            self.start_date
        } else {
            self.end_date
        };
        if date < self.start_date || date > last {
            return Slots::empty(self);
        }
        Slots::new(
            self,
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            date,
            date,
        )
    }

    /// The slot that starts exactly at `start`, if the schedule has one.
    pub fn slot_at(&self, start: DateTime<Utc>) -> Option<Slot> {
        let date = self.local_date(start);
        if self.single_event {
            return self
                .slots_on(date)
                .find(|s| s.start >= start)
                .filter(|s| s.start == start);
        }
        // Seeks to `start` within its date's windows instead of walking the date's slots.
        let to = start.checked_add_signed(TimeDelta::seconds(1))?;
        Slots::new(self, start, to, date, date)
            .next()
            .filter(|s| s.start == start)
    }

    /// The local date (in the schedule's zone) of an instant.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.time_zone.tz()).date_naive()
    }

    /// The number of slots that start in `[from, to)`, whatever the slot length: weeks are counted
    /// with arithmetic, and only the dates that differ from their weekday (overrides, and those
    /// next to a change of the zone's offset) one by one, each with a few operations per window.
    ///
    /// ```
    /// use appointment_core::Schedule;
    /// use chrono::{NaiveDate, NaiveTime};
    /// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    /// let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    /// let s = Schedule::builder(d(2026, 1, 1), d(2035, 12, 31), t(0), t(23), 1).build().unwrap();
    /// assert_eq!(s.count_slots(chrono::DateTime::<chrono::Utc>::MIN_UTC,
    ///     chrono::DateTime::<chrono::Utc>::MAX_UTC), 3652 * 23 * 60);
    /// ```
    pub fn count_slots(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
        if from >= to {
            return 0;
        }
        let (first, last) = self.date_range(from, to);
        // Dates at least this far inside `first..=last` have all their slots in `[from, to)`
        // (the date range has two days of margin on each side, and no zone is more than a day
        // away from UTC).
        let inner = TimeDelta::days(5);
        if self.single_event || last - first < inner * 3 {
            return self.slots(from, to).count_days(&|| false).unwrap_or(0);
        }
        let (inner_first, inner_last) = (first + inner, last - inner);
        let days = |a: NaiveDate, b: NaiveDate| {
            Slots::new(self, from, to, a, b)
                .count_days(&|| false)
                .unwrap_or(0)
        };
        let edges = days(first, inner_first - TimeDelta::days(1))
            + days(inner_last + TimeDelta::days(1), last);
        edges + engine::count_whole_days(self, inner_first, inner_last)
    }
}

/// The wall-clock time `secs` seconds after `date`'s midnight (86 400 is the next midnight).
fn local_at(date: NaiveDate, secs: u32) -> Option<NaiveDateTime> {
    date.and_time(NaiveTime::MIN)
        .checked_add_signed(TimeDelta::seconds(i64::from(secs)))
}
