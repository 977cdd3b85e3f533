//! Opening hours: weekdays, wall-clock windows, the hours of a week, and closures.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveTime, Timelike, Weekday};

use crate::error::{Error, Result};

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
    /// Whether the set holds no day (only the open days of fully closed weekly hours are empty).
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The days in the set, Monday first.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        (0..7u8)
            .filter(move |i| self.0 & (1 << i) != 0)
            .filter_map(|i| Weekday::try_from(i).ok())
    }
    /// The three-letter lower-case names (`mon` … `sun`).
    pub fn names(self) -> Vec<&'static str> {
        self.iter()
            .map(|d| DAY_NAMES[d.num_days_from_monday() as usize])
            .collect()
    }
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

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

const DAY_SECONDS: u32 = 86_400;

/// A span of wall-clock time within a day, `[start, end)`, to the second. It may end at 24:00
/// (the next midnight) but never later: hours past midnight belong to the next day.
///
/// ```
/// use appointment_core::TimeWindow;
/// let w: TimeWindow = "09:00-12:30".parse().unwrap();
/// assert_eq!((w.start_seconds(), w.end_seconds()), (9 * 3600, 12 * 3600 + 1800));
/// assert_eq!(w.to_string(), "09:00-12:30");
/// let late: TimeWindow = "18:00-24:00".parse().unwrap();
/// assert_eq!(late.end_seconds(), 86_400);
/// assert!("12:00-09:00".parse::<TimeWindow>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeWindow {
    start: u32,
    end: u32,
}

impl TimeWindow {
    /// A window from seconds after midnight; `start < end <= 86_400` is required.
    pub fn from_seconds(start: u32, end: u32) -> Result<Self> {
        Self::checked("hours", start, end)
    }

    fn checked(field: &'static str, start: u32, end: u32) -> Result<Self> {
        if end > DAY_SECONDS {
            return Err(Error::invalid(
                field,
                format!("a window ends at 24:00 at the latest, not {}", clock(end)),
            ));
        }
        if start >= end {
            return Err(Error::invalid(
                field,
                format!(
                    "a window must end after it starts: {}-{}",
                    clock(start),
                    clock(end)
                ),
            ));
        }
        Ok(TimeWindow { start, end })
    }
    /// A window between two times of one day (`end` must be later than `start`).
    pub fn new(start: NaiveTime, end: NaiveTime) -> Result<Self> {
        Self::from_seconds(
            start.num_seconds_from_midnight(),
            end.num_seconds_from_midnight(),
        )
    }
    /// A window from `start` to the end of the day (24:00).
    pub fn until_midnight(start: NaiveTime) -> Result<Self> {
        Self::from_seconds(start.num_seconds_from_midnight(), DAY_SECONDS)
    }
    /// Seconds after midnight at which the window opens.
    pub fn start_seconds(self) -> u32 {
        self.start
    }
    /// Seconds after midnight at which the window closes (86 400 for 24:00).
    pub fn end_seconds(self) -> u32 {
        self.end
    }
    /// The wall-clock opening time.
    pub fn start_time(self) -> NaiveTime {
        NaiveTime::from_num_seconds_from_midnight_opt(self.start, 0).unwrap_or(NaiveTime::MIN)
    }
    /// The wall-clock closing time, `None` for 24:00.
    pub fn end_time(self) -> Option<NaiveTime> {
        NaiveTime::from_num_seconds_from_midnight_opt(self.end, 0)
            .filter(|_| self.end < DAY_SECONDS)
    }
    /// Length in seconds.
    pub fn seconds(self) -> u32 {
        self.end - self.start
    }
}

fn clock(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

fn parse_clock(field: &'static str, raw: &str) -> Result<u32> {
    let bad = || {
        Error::invalid(
            field,
            format!("{raw:?} is not a time of day (HH:MM, 00:00 to 24:00)"),
        )
    };
    let parts: Vec<&str> = raw.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.len() != 2) {
        return Err(bad());
    }
    let mut nums = [0u32; 3];
    for (n, p) in nums.iter_mut().zip(&parts) {
        if !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        *n = p.parse().map_err(|_| bad())?;
    }
    let [h, m, s] = nums;
    if m > 59 || s > 59 || h > 24 || (h == 24 && (m, s) != (0, 0)) {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60 + s)
}

impl fmt::Display for TimeWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", clock(self.start), clock(self.end))
    }
}

impl FromStr for TimeWindow {
    type Err = Error;
    /// Parses `HH:MM-HH:MM` (seconds optional, `24:00` allowed as an end).
    fn from_str(s: &str) -> Result<Self> {
        parse_window("hours", s)
    }
}

/// Parses `HH:MM-HH:MM`, naming `field` in errors.
pub(crate) fn parse_window(field: &'static str, s: &str) -> Result<TimeWindow> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| Error::invalid(field, format!("{s:?} is not a window like 09:00-17:00")))?;
    TimeWindow::checked(field, parse_clock(field, a)?, parse_clock(field, b)?)
}

/// Checks and orders the windows of one day: sorted, none overlapping another, at most
/// [`WeeklyHours::MAX_WINDOWS_PER_DAY`].
pub(crate) fn day_windows(
    field: &'static str,
    what: &dyn fmt::Display,
    mut windows: Vec<TimeWindow>,
) -> Result<Vec<TimeWindow>> {
    if windows.len() > WeeklyHours::MAX_WINDOWS_PER_DAY {
        return Err(Error::invalid(
            field,
            format!(
                "{what}: at most {} windows a day",
                WeeklyHours::MAX_WINDOWS_PER_DAY
            ),
        ));
    }
    windows.sort();
    for pair in windows.windows(2) {
        if pair[1].start < pair[0].end {
            return Err(Error::invalid(
                field,
                format!("{what}: windows {} and {} overlap", pair[0], pair[1]),
            ));
        }
    }
    Ok(windows)
}

/// The hours of a week: for each weekday, zero or more non-overlapping windows of wall-clock time
/// (e.g. 09:00-12:00 and 13:00-17:30, with a lunch break between).
///
/// ```
/// use appointment_core::WeeklyHours;
/// use chrono::Weekday;
/// let barber: WeeklyHours = "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00".parse().unwrap();
/// assert_eq!(barber.day(Weekday::Tue).len(), 2);
/// assert!(barber.day(Weekday::Sun).is_empty());
/// assert_eq!(barber.to_string(), "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct WeeklyHours {
    days: [Vec<TimeWindow>; 7],
}

impl WeeklyHours {
    /// The most windows one day may have.
    pub const MAX_WINDOWS_PER_DAY: usize = 48;

    /// A week with no hours at all (closed every day); add days with [`WeeklyHours::with_day`].
    pub fn closed() -> Self {
        Self::default()
    }
    /// The same one window on each of `days`, closed on the others: the original service's model.
    pub fn uniform(window: TimeWindow, days: Weekdays) -> Self {
        let mut w = Self::default();
        for d in days.iter() {
            w.days[d.num_days_from_monday() as usize] = vec![window];
        }
        w
    }
    /// This week with `day`'s windows replaced (an empty list closes the day).
    pub fn with_day(
        mut self,
        day: Weekday,
        windows: impl IntoIterator<Item = TimeWindow>,
    ) -> Result<Self> {
        let name = DAY_NAMES[day.num_days_from_monday() as usize];
        self.days[day.num_days_from_monday() as usize] =
            day_windows("weekly_hours", &name, windows.into_iter().collect())?;
        Ok(self)
    }
    /// The windows of `day`, in order.
    pub fn day(&self, day: Weekday) -> &[TimeWindow] {
        &self.days[day.num_days_from_monday() as usize]
    }
    /// The weekdays that have at least one window.
    pub fn open_days(&self) -> Weekdays {
        Weekdays(
            (0..7)
                .filter(|&i| !self.days[i].is_empty())
                .fold(0u8, |acc, i| acc | (1 << i)),
        )
    }
    /// Keeps only `days` open.
    pub fn restrict(mut self, days: Weekdays) -> Self {
        for (i, windows) in self.days.iter_mut().enumerate() {
            if days.0 & (1 << i) == 0 {
                windows.clear();
            }
        }
        self
    }
    /// The one window every open day shares, if the week is the original service's model.
    pub fn single_window(&self) -> Option<TimeWindow> {
        let mut found = None;
        for windows in self.days.iter().filter(|w| !w.is_empty()) {
            match (windows.as_slice(), found) {
                ([w], None) => found = Some(*w),
                ([w], Some(f)) if *w == f => {}
                _ => return None,
            }
        }
        found
    }
}

impl fmt::Display for WeeklyHours {
    /// Groups runs of consecutive days with the same windows: `mon-fri 09:00-17:00; sat 10:00-14:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut i = 0;
        while i < 7 {
            if self.days[i].is_empty() {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < 7 && self.days[j + 1] == self.days[i] {
                j += 1;
            }
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            if j == i {
                f.write_str(DAY_NAMES[i])?;
            } else {
                write!(f, "{}-{}", DAY_NAMES[i], DAY_NAMES[j])?;
            }
            f.write_str(" ")?;
            for (k, w) in self.days[i].iter().enumerate() {
                if k > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{w}")?;
            }
            i = j + 1;
        }
        if first {
            f.write_str("closed")?;
        }
        Ok(())
    }
}

fn parse_day(raw: &str) -> Result<usize> {
    raw.trim()
        .parse::<Weekday>()
        .map(|d| d.num_days_from_monday() as usize)
        .map_err(|_| Error::invalid("weekly_hours", format!("unknown weekday {raw:?}")))
}

impl FromStr for WeeklyHours {
    type Err = Error;
    /// Parses `;`-separated entries `<days> <windows>`: days as `mon`, `mon-fri` or `mon,wed`;
    /// windows comma-separated, or `closed`. Days not named are closed; a later entry replaces
    /// an earlier one for the days it names.
    fn from_str(s: &str) -> Result<Self> {
        let mut week = WeeklyHours::default();
        if s.trim() == "closed" {
            return Ok(week);
        }
        for entry in s.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (days, windows) = entry.split_once(char::is_whitespace).ok_or_else(|| {
                Error::invalid(
                    "weekly_hours",
                    format!("{entry:?}: expected days then windows, e.g. \"mon-fri 09:00-17:00\""),
                )
            })?;
            let mut mask = 0u8;
            for part in days.split(',') {
                match part.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (parse_day(a)?, parse_day(b)?);
                        let mut d = a;
                        loop {
                            mask |= 1 << d;
                            if d == b {
                                break;
                            }
                            d = (d + 1) % 7;
                        }
                    }
                    None => mask |= 1 << parse_day(part)?,
                }
            }
            let windows = windows.trim();
            let list = if windows == "closed" {
                Vec::new()
            } else {
                windows
                    .split([',', ' '])
                    .filter(|w| !w.is_empty())
                    .map(|w| parse_window("weekly_hours", w))
                    .collect::<Result<Vec<_>>>()?
            };
            for d in Weekdays(mask).iter() {
                week = week.with_day(d, list.iter().copied())?;
            }
        }
        Ok(week)
    }
}

/// A range of local dates with no slots at all (a holiday, a vacation), with an optional label.
///
/// ```
/// use appointment_core::Closure;
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// let summer = Closure::new(d(8, 3), d(8, 16), Some("Summer holidays".into())).unwrap();
/// assert!(summer.contains(d(8, 10)) && !summer.contains(d(8, 17)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Closure {
    first: NaiveDate,
    last: NaiveDate,
    label: Option<String>,
}

impl Closure {
    /// The longest label, in characters.
    pub const MAX_LABEL_CHARS: usize = 200;

    /// Closes `first` to `last` (inclusive).
    pub fn new(first: NaiveDate, last: NaiveDate, label: Option<String>) -> Result<Self> {
        if last < first {
            return Err(Error::invalid(
                "closures",
                format!("{first} to {last}: the last date is before the first"),
            ));
        }
        let label = label.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
        if let Some(l) = &label
            && (l.chars().count() > Self::MAX_LABEL_CHARS || l.chars().any(char::is_control))
        {
            return Err(Error::invalid(
                "closures",
                format!(
                    "{first} to {last}: a label has at most {} characters and no control characters",
                    Self::MAX_LABEL_CHARS
                ),
            ));
        }
        Ok(Closure { first, last, label })
    }
    /// First closed date.
    pub fn first(&self) -> NaiveDate {
        self.first
    }
    /// Last closed date (inclusive).
    pub fn last(&self) -> NaiveDate {
        self.last
    }
    /// What the closure is, if given (e.g. "Christmas").
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }
    /// Whether `date` is closed by this closure.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }
}
