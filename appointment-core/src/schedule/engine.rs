//! The slot engine: turns a date's windows into UTC slots, one window at a time.

use chrono::offset::LocalResult;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};

use super::zone::offset_seconds;
use super::{Schedule, Slot, TimeWindow, local_at};

const DAY: i64 = 86_400;

fn from_ts(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// Turns Unix seconds into `DateTime<Utc>` cheaply for instants on two known UTC days (the ones a
/// window can touch), falling back to the general conversion elsewhere.
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

/// Where the engine is within one window.
#[derive(Debug, Clone)]
enum Window {
    Done,
    Event(Slot),
    /// No clock change inside the window: slot `k` starts at `base + k × step` (Unix seconds).
    Uniform {
        base: i64,
        step: i64,
        len: i64,
        next: i64,
        count: i64,
        days: Option<UtcDays>,
    },
    /// A clock change inside the window: each wall-clock start is resolved on its own.
    Shifted {
        local_start: NaiveDateTime,
        window: i64,
        step: i64,
        len: i64,
        next: i64,
        window_end: DateTime<Utc>,
    },
}

/// Plans one window of a date. `hint` carries the UTC offset of the previous uniform window,
/// which is almost always this one's too.
fn plan_window(
    schedule: &Schedule,
    date: NaiveDate,
    w: TimeWindow,
    hint: &mut Option<i32>,
) -> Window {
    let (Some(local_start), Some(local_end)) = (
        local_at(date, w.start_seconds()),
        local_at(date, w.end_seconds()),
    ) else {
        return Window::Done;
    };
    let tz = schedule.time_zone.tz();
    let len = i64::from(schedule.slot_minutes) * 60;
    let step = len + i64::from(schedule.buffer_minutes) * 60;
    let window = i64::from(w.seconds());
    let uniform = |offset: i32| {
        let base = local_start.and_utc().timestamp() - i64::from(offset);
        Window::Uniform {
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
    // offset from the first. First try the previous window's offset, checked with two cheap UTC
    // look-ups at the window's ends (with that offset, a repeated wall-clock start resolves to
    // its first occurrence, as the slow path does).
    if let Some(off) = *hint {
        let shift = TimeDelta::seconds(i64::from(off));
        if let (Some(start), Some(end)) = (
            local_start.checked_sub_signed(shift),
            local_end.checked_sub_signed(shift),
        ) && offset_seconds(&tz.offset_from_utc_datetime(&start)) == off
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
    Window::Shifted {
        local_start,
        window,
        step,
        len,
        next: 0,
        window_end: schedule.time_zone.resolve(local_end),
    }
}

impl Window {
    /// The window's next slot, if any.
    fn next(&mut self, schedule: &Schedule) -> Option<Slot> {
        match self {
            Window::Done => None,
            Window::Event(slot) => {
                let s = *slot;
                *self = Window::Done;
                Some(s)
            }
            Window::Uniform {
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
            Window::Shifted {
                local_start,
                window,
                step,
                len,
                next,
                window_end,
            } => {
                let tz = schedule.time_zone.tz();
                loop {
                    let offset = *next * *step;
                    if offset >= *window {
                        return None;
                    }
                    *next += 1;
                    let local = local_start.checked_add_signed(TimeDelta::seconds(offset))?;
                    let start = match tz.from_local_datetime(&local) {
                        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                            t.with_timezone(&Utc)
                        }
                        LocalResult::None => continue, // spring gap: no such wall-clock start
                    };
                    let end = start.checked_add_signed(TimeDelta::seconds(*len))?;
                    if end > *window_end {
                        return None; // starts only get later from here
                    }
                    return Some(Slot { start, end });
                }
            }
        }
    }
}

/// The slots of `date` that start in `[from, to)`, counted with arithmetic when every window of
/// the date is uniform on one offset, and walked otherwise.
pub(super) fn count_day(
    schedule: &Schedule,
    date: NaiveDate,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    hint: &mut Option<i32>,
) -> u64 {
    let windows = schedule.hours_on(date);
    if windows.is_empty() {
        return 0;
    }
    if !schedule.single_event {
        let (from_ts, to_ts) = (from.timestamp(), to.timestamp());
        let mut total = 0i64;
        let mut offset = None;
        let mut exact = true;
        for &w in windows {
            match plan_window(schedule, date, w, hint) {
                // After a uniform plan the hint holds the window's offset.
                Window::Uniform {
                    base, step, count, ..
                } if offset.is_none() || offset == *hint => {
                    offset = *hint;
                    // k in [0, count) with from <= base + k × step < to.
                    let lo = div_ceil(from_ts.saturating_sub(base), step).clamp(0, count);
                    let hi = div_ceil(to_ts.saturating_sub(base), step).clamp(0, count);
                    total += (hi - lo).max(0);
                }
                _ => {
                    exact = false;
                    break;
                }
            }
        }
        if exact {
            return u64::try_from(total).unwrap_or(0);
        }
    }
    Slots::new(schedule, from, to, date, date)
        .map(|_| 1u64)
        .sum()
}

fn div_ceil(a: i64, b: i64) -> i64 {
    let q = a.div_euclid(b);
    if a.rem_euclid(b) == 0 { q } else { q + 1 }
}

/// A lazy iterator over a schedule's slots, in order. See [`Schedule::slots`].
#[derive(Debug, Clone)]
pub struct Slots<'a> {
    schedule: &'a Schedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    next_date: Option<NaiveDate>,
    last_date: NaiveDate,
    date: NaiveDate,
    windows: &'a [TimeWindow],
    window: Window,
    offset_hint: Option<i32>,
    /// The end of the day's last slot: a slot that would overlap it (right after a spring gap,
    /// or in a window whose start a gap pushed back) is skipped.
    prev_end: Option<DateTime<Utc>>,
}

impl<'a> Slots<'a> {
    pub(super) fn new(
        schedule: &'a Schedule,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Self {
        Slots {
            schedule,
            from,
            to,
            next_date: Some(first),
            last_date: last,
            date: first,
            windows: &[],
            window: Window::Done,
            offset_hint: None,
            prev_end: None,
        }
    }

    pub(super) fn empty(schedule: &'a Schedule) -> Self {
        let mut s = Self::new(
            schedule,
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            schedule.start_date,
            schedule.start_date,
        );
        s.next_date = None;
        s
    }

    /// Counts the slots left, a whole day at once with arithmetic (see
    /// [`Schedule::count_slots`]), so that the work grows with the days rather than the slots.
    /// `stop` is asked before each day; as soon as it answers `true`, the count gives up with
    /// `None` (how a deadline ends a long count).
    pub fn count_days(mut self, stop: &dyn Fn() -> bool) -> Option<u64> {
        let mut total = 0u64;
        // The rest of the day in progress, slot by slot.
        while let Some(slot) = self.next_in_day() {
            if slot.start < self.from {
                continue;
            }
            if slot.start >= self.to {
                return Some(total);
            }
            total += 1;
        }
        let mut hint = self.offset_hint;
        while let Some(date) = self.next_date {
            if date > self.last_date {
                break;
            }
            if stop() {
                return None;
            }
            total += count_day(self.schedule, date, self.from, self.to, &mut hint);
            self.next_date = date.succ_opt();
        }
        Some(total)
    }

    /// The next slot of the current day, if any (without the `[from, to)` filter).
    fn next_in_day(&mut self) -> Option<Slot> {
        loop {
            if let Some(slot) = self.window.next(self.schedule) {
                if self.prev_end.is_some_and(|p| slot.start < p) {
                    continue;
                }
                self.prev_end = Some(slot.end);
                return Some(slot);
            }
            let (&w, rest) = self.windows.split_first()?;
            self.windows = rest;
            self.window = plan_window(self.schedule, self.date, w, &mut self.offset_hint);
            self.seek_in_window();
        }
    }

    /// Jumps over the slots of a uniform window that start before `from`, with arithmetic: a
    /// listing that starts deep in a long schedule does not walk the slots before it. Only when
    /// no earlier slot of the day can overlap the window, so that skipping decides nothing the
    /// walk would have decided differently.
    fn seek_in_window(&mut self) {
        let from = self.from.timestamp();
        if let Window::Uniform {
            base,
            step,
            len,
            next,
            count,
            days,
        } = &mut self.window
            && from > *base
            && self.prev_end.is_none_or(|p| p.timestamp() <= *base)
        {
            let k = div_ceil(from - *base, *step).clamp(0, *count);
            if k > 0 {
                *next = k;
                self.prev_end = UtcDays::at(*days, *base + (k - 1) * *step + *len);
            }
        }
    }

    fn start_day(&mut self, date: NaiveDate) {
        self.date = date;
        self.prev_end = None;
        self.windows = self.schedule.hours_on(date);
        self.window = Window::Done;
        if self.schedule.single_event {
            self.window = self
                .schedule
                .day_span(date)
                .map_or(Window::Done, Window::Event);
            self.windows = &[];
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
                    self.windows = &[];
                    self.window = Window::Done;
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
            self.start_day(date);
        }
    }
}
