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

    /// The slot `[start, start + len)` if both ends fall on the two days.
    #[inline]
    fn slot(&self, start: i64, len: i64) -> Option<Slot> {
        let rel = start - self.midnight;
        let end = rel + len;
        if !(0..2 * DAY).contains(&rel) || !(0..2 * DAY).contains(&end) {
            return None;
        }
        let at = |secs: i64| {
            let date = if secs < DAY { self.first } else { self.second? };
            let time =
                NaiveTime::from_num_seconds_from_midnight_opt(u32::try_from(secs % DAY).ok()?, 0)?;
            Some(date.and_time(time).and_utc())
        };
        Some(Slot {
            start: at(rel)?,
            end: at(end)?,
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

/// The slots of `date` that start in `[from, to)`, counted with arithmetic: a window on one
/// offset is `count` slots `step` apart; a window with a clock change in it is two such runs,
/// one on each side of the change, with the starts the change removes (spring gap) skipped and
/// a start that would overlap the slot before it (right after a spring gap) dropped, as the walk
/// does. Walked slot by slot only when the zone's offset changes more than once near the window.
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
        // Slots start on whole seconds: one starts at or after `from` (before `to`) exactly when
        // it does so for the whole second at or after it.
        let mut run = Runs {
            from: ceil_seconds(from),
            to: ceil_seconds(to),
            prev_end: None,
            total: 0,
        };
        let mut exact = true;
        for &w in windows {
            match plan_window(schedule, date, w, hint) {
                Window::Uniform {
                    base,
                    step,
                    count,
                    len,
                    ..
                } => {
                    run.add(base, step, len, 0, count, i64::MAX);
                }
                Window::Shifted {
                    local_start,
                    window,
                    step,
                    len,
                    window_end,
                    ..
                } => {
                    if !run.shifted(schedule, local_start, window, step, len, window_end) {
                        exact = false;
                        break;
                    }
                }
                _ => {
                    exact = false;
                    break;
                }
            }
        }
        if exact {
            return run.total;
        }
    }
    Slots::new(schedule, from, to, date, date)
        .map(|_| 1u64)
        .sum()
}

/// The first whole second at or after `t`, in Unix seconds.
fn ceil_seconds(t: DateTime<Utc>) -> i64 {
    t.timestamp()
        .saturating_add(i64::from(t.timestamp_subsec_nanos() > 0))
}

/// Counts runs of evenly spaced slots of one day in order, as the walk emits them.
struct Runs {
    from: i64,
    to: i64,
    /// The end of the last slot emitted (Unix seconds).
    prev_end: Option<i64>,
    /// Slots emitted that start in `[from, to)`.
    total: u64,
}

impl Runs {
    /// Slots `k` in `[lo, hi)` starting at `base + k × step`, `len` long, the run stopping at the
    /// first slot that would end after `end` (nothing after it is emitted either). Slots that
    /// start before the previous slot's end are dropped. Returns whether the run stopped.
    fn add(&mut self, base: i64, step: i64, len: i64, lo: i64, hi: i64, end: i64) -> bool {
        if lo >= hi {
            return false;
        }
        // The first slot of the run that ends after `end`.
        let stop = if end == i64::MAX {
            hi
        } else {
            (end - len - base)
                .div_euclid(step)
                .saturating_add(1)
                .clamp(lo, hi)
        };
        let first = match self.prev_end {
            Some(p) => div_ceil(p - base, step).clamp(lo, stop),
            None => lo,
        };
        if first < stop {
            let a = div_ceil(self.from.saturating_sub(base), step).clamp(first, stop);
            let b = div_ceil(self.to.saturating_sub(base), step).clamp(first, stop);
            self.total += u64::try_from(b - a).unwrap_or(0);
            self.prev_end = Some(base + (stop - 1) * step + len);
        }
        stop < hi
    }

    /// A window with a change of the zone's offset in it: the starts before the change on the
    /// old offset, those after it on the new one. `false` if the change cannot be told (more
    /// than one near the window), for the caller to walk the window instead.
    fn shifted(
        &mut self,
        schedule: &Schedule,
        local_start: NaiveDateTime,
        window: i64,
        step: i64,
        len: i64,
        window_end: DateTime<Utc>,
    ) -> bool {
        let local = local_start.and_utc().timestamp();
        // Wall-clock time is within about 14 hours of UTC.
        let slack = 15 * 3600;
        let table = super::zone::transitions(schedule.time_zone.tz());
        let lo = table.partition_point(|t| t.at < local - slack);
        let near: Vec<_> = table[lo..]
            .iter()
            .take_while(|t| t.at <= local + window + slack)
            .collect();
        let [t] = near.as_slice() else {
            return false;
        };
        let (before, after) = (i64::from(t.before), i64::from(t.after));
        let n = if window > 0 {
            div_ceil(window, step)
        } else {
            0
        };
        // Starts at wall-clock times before `t.at + before` keep the old offset (an autumn
        // repeat resolves to its first occurrence, on the old offset too); those from
        // `t.at + max(before, after)` on take the new one; a spring gap lies between.
        let k_old = div_ceil(t.at + before - local, step).clamp(0, n);
        let k_new = div_ceil(t.at + before.max(after) - local, step).clamp(0, n);
        let end = window_end.timestamp();
        if self.add(local - before, step, len, 0, k_old, end) {
            return true;
        }
        self.add(local - after, step, len, k_new, n, end);
        true
    }
}

/// Slots of the whole local dates `first..=last` (each counted in full, with no `[from, to)`
/// cut), with arithmetic over weeks: a date that keeps one UTC offset all day has, per window,
/// `(window − slot) / step + 1` slots, so only the dates that are not like that are counted one
/// by one: overrides, and dates next to a change of the zone's offset. Closures take their
/// dates' weekly counts away. The cost follows the number of overrides, closures and offset
/// changes in the range, not the number of days.
pub(super) fn count_whole_days(schedule: &Schedule, first: NaiveDate, last: NaiveDate) -> u64 {
    use chrono::Datelike;
    let (first, last) = (first.max(schedule.start_date), last.min(schedule.end_date));
    if first > last {
        return 0;
    }
    let len = i64::from(schedule.slot_minutes) * 60;
    let step = len + i64::from(schedule.buffer_minutes) * 60;
    // Slots of a regular day of each weekday (Monday first).
    let mut regular = [0i64; 7];
    for (i, n) in regular.iter_mut().enumerate() {
        let day = chrono::Weekday::try_from(i as u8).unwrap_or(chrono::Weekday::Mon);
        *n = schedule
            .hours
            .day(day)
            .iter()
            .map(|w| {
                let window = i64::from(w.seconds());
                if window >= len {
                    (window - len) / step + 1
                } else {
                    0
                }
            })
            .sum();
    }
    // Regular counts of the dates a..=b.
    let weeks_of = |a: NaiveDate, b: NaiveDate| -> i64 {
        let days = (b - a).num_days() + 1;
        let start = a.weekday().num_days_from_monday() as usize;
        let week: i64 = regular.iter().sum();
        (days / 7) * week
            + (0..(days % 7) as usize)
                .map(|i| regular[(start + i) % 7])
                .sum::<i64>()
    };
    let mut total = weeks_of(first, last);
    for &(a, b) in &schedule.closed {
        let (a, b) = (a.max(first), b.min(last));
        if a <= b {
            total -= weeks_of(a, b);
        }
    }
    // The dates that may not be regular, each counted as it is.
    let mut odd: Vec<NaiveDate> = schedule
        .overrides
        .range(first..=last)
        .map(|(d, _)| *d)
        .collect();
    let from = schedule.time_zone.resolve(first.and_time(NaiveTime::MIN)) - TimeDelta::days(2);
    let to = schedule.time_zone.resolve(last.and_time(NaiveTime::MIN)) + TimeDelta::days(3);
    let table = super::zone::transitions(schedule.time_zone.tz());
    let start = table.partition_point(|t| t.at < from.timestamp());
    for t in table[start..].iter().take_while(|t| t.at <= to.timestamp()) {
        for offset in [t.before, t.after] {
            if let Some(local) = DateTime::from_timestamp(t.at + i64::from(offset), 0) {
                let date = local.date_naive();
                odd.extend([date.pred_opt(), Some(date)].into_iter().flatten());
            }
        }
    }
    odd.sort_unstable();
    odd.dedup();
    let mut hint = None;
    for date in odd {
        if date < first || date > last || schedule.is_closed(date) {
            continue;
        }
        let counted = count_day(
            schedule,
            date,
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            &mut hint,
        );
        total += i64::try_from(counted).unwrap_or(i64::MAX)
            - regular[date.weekday().num_days_from_monday() as usize];
    }
    u64::try_from(total).unwrap_or(0)
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
    /// The end of the day's last slot, in Unix seconds (`i64::MIN` before the first): a slot
    /// that would overlap it (right after a spring gap, or in a window whose start a gap pushed
    /// back) is skipped. Every slot starts and ends on a whole second.
    prev_end: i64,
    /// `from` and `to` rounded up to whole seconds: for a slot's whole-second start `s`,
    /// `from <= s` exactly when `from_secs <= s`, and likewise for `to`.
    from_secs: i64,
    to_secs: i64,
}

/// Unix seconds of `t`, rounded up.
fn ceil_secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
        .saturating_add(i64::from(t.timestamp_subsec_nanos() > 0))
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
            prev_end: i64::MIN,
            from_secs: ceil_secs(from),
            to_secs: ceil_secs(to),
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
                if slot.start.timestamp() < self.prev_end {
                    continue;
                }
                self.prev_end = slot.end.timestamp();
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
            ..
        } = &mut self.window
            && from > *base
            && self.prev_end <= *base
        {
            let k = div_ceil(from - *base, *step).clamp(0, *count);
            if k > 0 {
                *next = k;
                self.prev_end = *base + (k - 1) * *step + *len;
            }
        }
    }

    fn start_day(&mut self, date: NaiveDate) {
        self.date = date;
        self.prev_end = i64::MIN;
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

    /// The common case inline: the next slot of a uniform window, inside `[from, to)`, after
    /// the previous slot, on the two UTC days the window touches. Everything else (a new
    /// window or day, a clock change, the ends of the range) takes `Slots::next_general`.
    #[inline]
    fn next(&mut self) -> Option<Slot> {
        if let Window::Uniform {
            base,
            step,
            len,
            next,
            count,
            days: Some(days),
        } = &mut self.window
            && *next < *count
        {
            let start = *base + *next * *step;
            if start >= self.prev_end
                && start >= self.from_secs
                && start < self.to_secs
                && let Some(slot) = days.slot(start, *len)
            {
                *next += 1;
                self.prev_end = start + *len;
                return Some(slot);
            }
        }
        self.next_general()
    }
}

impl Slots<'_> {
    fn next_general(&mut self) -> Option<Slot> {
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
