//! The slot engine: examples across DST switches, and properties over random schedules.
#![allow(clippy::unwrap_used)]

use appointment_core::{Closure, Schedule, Slot, TimeWindow, TimeZoneName, Weekdays, WeeklyHours};
use chrono::offset::LocalResult;
use chrono::{
    DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc, Weekday,
};
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn one_day(
    zone: &str,
    day: NaiveDate,
    from: NaiveTime,
    to: NaiveTime,
    slot: u32,
    buffer: u32,
) -> Vec<String> {
    let s = Schedule::builder(day, day, from, to, slot)
        .time_zone(TimeZoneName::parse(zone).unwrap())
        .buffer_minutes(buffer)
        .build()
        .unwrap();
    s.all_slots()
        .map(|x| format!("{}-{}", x.start.format("%H:%M"), x.end.format("%H:%M")))
        .collect()
}

#[test]
fn berlin_spring_gap_skips_missing_starts() {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:00 and 02:30 do not exist.
    let slots = one_day("Europe/Berlin", d(2026, 3, 29), t(1, 0), t(4, 0), 30, 0);
    assert_eq!(
        slots,
        ["00:00-00:30", "00:30-01:00", "01:00-01:30", "01:30-02:00"]
    );
}

#[test]
fn berlin_autumn_overlap_uses_first_occurrence() {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:00 happens twice.
    let slots = one_day("Europe/Berlin", d(2026, 10, 25), t(1, 0), t(4, 0), 60, 0);
    // 01:00 CEST, 02:00 CEST (first occurrence), 03:00 CET.
    assert_eq!(slots, ["23:00-00:00", "00:00-01:00", "02:00-03:00"]);
}

#[test]
fn berlin_working_day_in_summer_and_winter() {
    let winter = one_day("Europe/Berlin", d(2026, 1, 12), t(9, 0), t(11, 0), 60, 0);
    let summer = one_day("Europe/Berlin", d(2026, 7, 13), t(9, 0), t(11, 0), 60, 0);
    assert_eq!(winter, ["08:00-09:00", "09:00-10:00"]);
    assert_eq!(summer, ["07:00-08:00", "08:00-09:00"]);
}

#[test]
fn new_york_spring_gap_never_overlaps() {
    // 2026-03-08: 02:00 EST becomes 03:00 EDT. 45-minute slots from 00:00: 01:30 EST lasts until
    // 03:15 EDT, so the 03:00 EDT slot would overlap it and is skipped; 02:15 does not exist;
    // 03:45 would end past the window.
    let slots = one_day("America/New_York", d(2026, 3, 8), t(0, 0), t(4, 0), 45, 0);
    assert_eq!(slots, ["05:00-05:45", "05:45-06:30", "06:30-07:15"]);
}

#[test]
fn new_york_autumn_overlap_and_window_end() {
    // 2026-11-01: 02:00 EDT becomes 01:00 EST.
    let slots = one_day("America/New_York", d(2026, 11, 1), t(0, 0), t(3, 0), 60, 0);
    // 00:00 EDT, 01:00 EDT (first occurrence), 02:00 EST ending at 03:00 EST, the window's end.
    assert_eq!(slots, ["04:00-05:00", "05:00-06:00", "07:00-08:00"]);
}

#[test]
fn lord_howe_half_hour_shift() {
    // 2026-10-04: 02:00 LHST (+10:30) becomes 02:30 LHDT (+11); only 02:00 is skipped.
    let spring = one_day(
        "Australia/Lord_Howe",
        d(2026, 10, 4),
        t(1, 0),
        t(4, 0),
        30,
        0,
    );
    assert_eq!(
        spring,
        [
            "14:30-15:00",
            "15:00-15:30",
            "15:30-16:00",
            "16:00-16:30",
            "16:30-17:00"
        ]
    );
    // 2026-04-05: 02:00 LHDT (+11) becomes 01:30 LHST (+10:30); 01:30 happens twice.
    let autumn = one_day(
        "Australia/Lord_Howe",
        d(2026, 4, 5),
        t(1, 0),
        t(3, 0),
        30,
        0,
    );
    // 01:00 and 01:30 (first, +11), then 02:00 and 02:30 at +10:30.
    assert_eq!(
        autumn,
        ["14:00-14:30", "14:30-15:00", "15:30-16:00", "16:00-16:30"]
    );
}

#[test]
fn berlin_year_of_quarter_hours() {
    let s = Schedule::builder(d(2026, 1, 1), d(2026, 12, 31), t(9, 0), t(17, 0), 15)
        .time_zone(TimeZoneName::parse("Europe/Berlin").unwrap())
        .build()
        .unwrap();
    assert_eq!(s.all_slots().count(), 365 * 32);
}

#[test]
fn weekdays_buffer_and_range() {
    // Mon 2026-01-05 .. Sun 2026-01-11, workdays only, 50 + 10 minutes from 09:00 to 12:00.
    let s = Schedule::builder(d(2026, 1, 5), d(2026, 1, 11), t(9, 0), t(12, 0), 50)
        .weekdays(Weekdays::WORKDAYS)
        .buffer_minutes(10)
        .build()
        .unwrap();
    let all: Vec<Slot> = s.all_slots().collect();
    assert_eq!(all.len(), 5 * 3);
    assert!(
        all.iter()
            .all(|x| x.start.weekday().num_days_from_monday() < 5)
    );
    let from = Utc.with_ymd_and_hms(2026, 1, 6, 10, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 1, 7, 10, 0, 0).unwrap();
    let some: Vec<Slot> = s.slots(from, to).collect();
    let expected: Vec<Slot> = all
        .iter()
        .copied()
        .filter(|x| x.start >= from && x.start < to)
        .collect();
    assert_eq!(some, expected);
    assert_eq!(some.len(), 3);
    assert_eq!(s.slots_on(d(2026, 1, 10)).count(), 0, "a Saturday");
}

#[test]
fn party_is_one_event() {
    let s = Schedule::builder(d(2026, 5, 1), d(2026, 5, 3), t(18, 0), t(23, 30), 60)
        .single_event(true)
        .build()
        .unwrap();
    let all: Vec<Slot> = s.all_slots().collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].end - all[0].start, TimeDelta::minutes(330));
    assert_eq!(s.slot_at(all[0].start), Some(all[0]));
    assert_eq!(s.slots_on(d(2026, 5, 2)).count(), 0);
}

#[test]
fn invalid_schedules_are_refused() {
    let b = |from, to, len| Schedule::builder(d(2026, 1, 1), d(2026, 1, 2), from, to, len);
    assert!(b(t(10, 0), t(9, 0), 30).build().is_err());
    assert!(b(t(9, 0), t(10, 0), 0).build().is_err());
    assert!(b(t(9, 0), t(10, 0), 61).build().is_err());
    assert!(
        Schedule::builder(d(2026, 1, 2), d(2026, 1, 1), t(9, 0), t(10, 0), 30)
            .build()
            .is_err()
    );
    // 2026-01-01 and 02 are a Thursday and a Friday.
    assert!(
        b(t(9, 0), t(10, 0), 30)
            .weekdays("sat,sun".parse().unwrap())
            .build()
            .is_err()
    );
    assert!(
        b(t(9, 0), t(10, 0), 30)
            .horizon_days(Some(0))
            .build()
            .is_err()
    );
}

#[test]
fn a_window_that_starts_within_a_second_counts_only_the_slots_after_it() {
    // Saturdays 00:00-00:15 and 09:30-17:00, 8-minute slots: the last two start 16:42 and
    // 16:50. From a quarter-second past 16:42, only 16:50 is still to come; the count by days
    // must agree with the walk on every day it reaches.
    let hours: WeeklyHours = "sat 00:00-00:15,09:30-17:00".parse().unwrap();
    let s = Schedule::weekly(d(2020, 12, 20), d(2021, 1, 7), hours, 8)
        .build()
        .unwrap();
    let from = d(2021, 1, 2).and_time(t(16, 42)).and_utc() + TimeDelta::milliseconds(250);
    for to in [from + TimeDelta::days(17), from + TimeDelta::minutes(8)] {
        let starts: Vec<_> = s.slots(from, to).map(|x| x.start).collect();
        assert_eq!(starts, [d(2021, 1, 2).and_time(t(16, 50)).and_utc()]);
        assert_eq!(s.count_slots(from, to), 1);
        assert_eq!(s.slots(from, to).count_days(&|| false), Some(1));
    }
    // A window ending a quarter-second past a start takes that slot, as the walk does.
    let to = d(2021, 1, 2).and_time(t(16, 50)).and_utc() + TimeDelta::milliseconds(250);
    assert_eq!(
        s.count_slots(from - TimeDelta::hours(1), to),
        s.slots(from - TimeDelta::hours(1), to).count() as u64
    );
}

#[test]
fn lunch_break_is_never_booked_and_slots_align_to_each_window() {
    // Mon 2026-03-02, Paris: 09:00-12:00 and 13:30-17:00, 45-minute slots.
    let hours: WeeklyHours = "mon 09:00-12:00,13:30-17:00".parse().unwrap();
    let s = Schedule::weekly(d(2026, 3, 2), d(2026, 3, 2), hours, 45)
        .time_zone(TimeZoneName::parse("Europe/Paris").unwrap())
        .build()
        .unwrap();
    let local: Vec<String> = s
        .all_slots()
        .map(|x| {
            let tz = s.time_zone().tz();
            format!(
                "{}-{}",
                x.start.with_timezone(&tz).format("%H:%M"),
                x.end.with_timezone(&tz).format("%H:%M")
            )
        })
        .collect();
    assert_eq!(
        local,
        [
            "09:00-09:45",
            "09:45-10:30",
            "10:30-11:15", // 11:15 would end 12:00: fits
            "11:15-12:00",
            "13:30-14:15",
            "14:15-15:00",
            "15:00-15:45",
            "15:45-16:30"
        ]
    );
}

#[test]
fn overrides_and_closures_replace_the_week() {
    let hours: WeeklyHours = "mon-fri 09:00-17:00; sat 10:00-14:00".parse().unwrap();
    let s = Schedule::weekly(d(2026, 12, 1), d(2026, 12, 31), hours, 60)
        .time_zone(TimeZoneName::parse("Europe/Berlin").unwrap())
        .override_date(d(2026, 12, 24), vec!["09:00-12:00".parse().unwrap()])
        .override_date(d(2026, 12, 27), vec!["11:00-13:00".parse().unwrap()]) // a Sunday
        .override_date(d(2026, 12, 31), vec![])
        .closure(Closure::new(d(2026, 12, 25), d(2026, 12, 26), Some("Christmas".into())).unwrap())
        .closure(Closure::new(d(2026, 12, 26), d(2026, 12, 28), None).unwrap())
        .build()
        .unwrap();
    assert_eq!(s.slots_on(d(2026, 12, 23)).count(), 8);
    assert_eq!(s.slots_on(d(2026, 12, 24)).count(), 3);
    assert_eq!(s.slots_on(d(2026, 12, 25)).count(), 0);
    // A closure wins over an override.
    assert_eq!(s.slots_on(d(2026, 12, 27)).count(), 0);
    assert_eq!(s.slots_on(d(2026, 12, 29)).count(), 8);
    assert_eq!(s.slots_on(d(2026, 12, 31)).count(), 0);
    assert_eq!(s.closures()[0].label(), Some("Christmas"));
}

#[test]
fn windows_may_end_at_midnight() {
    let hours: WeeklyHours = "sat 20:00-24:00".parse().unwrap();
    // 2026-03-07 is a Saturday.
    let s = Schedule::weekly(d(2026, 3, 7), d(2026, 3, 7), hours, 120)
        .build()
        .unwrap();
    let all: Vec<Slot> = s.all_slots().collect();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].end.to_rfc3339(), "2026-03-08T00:00:00+00:00");
}

#[test]
fn a_party_spans_its_start_dates_hours() {
    let hours: WeeklyHours = "fri 18:00-20:00,21:00-24:00".parse().unwrap();
    // 2026-05-01 is a Friday.
    let s = Schedule::weekly(d(2026, 5, 1), d(2026, 5, 1), hours.clone(), 30)
        .single_event(true)
        .build()
        .unwrap();
    let all: Vec<Slot> = s.all_slots().collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].end - all[0].start, TimeDelta::hours(6));
    // A party whose start date has no hours is refused.
    assert!(
        Schedule::weekly(d(2026, 5, 2), d(2026, 5, 2), hours, 30)
            .single_event(true)
            .build()
            .is_err()
    );
}

#[test]
fn bad_hours_are_refused_with_the_field_named() {
    let field = |r: Result<Schedule, appointment_core::Error>| match r {
        Err(appointment_core::Error::InvalidInput { field, .. }) => field,
        other => panic!("expected an invalid input, got {other:?}"),
    };
    assert!(
        "mon 09:00-12:00,11:00-13:00"
            .parse::<WeeklyHours>()
            .is_err(),
        "overlap"
    );
    assert!("mon 09:00-24:30".parse::<WeeklyHours>().is_err());
    assert!("mon 9-12".parse::<WeeklyHours>().is_err());
    assert!("xyz 09:00-12:00".parse::<WeeklyHours>().is_err());
    let week: WeeklyHours = "mon-fri 09:00-09:20".parse().unwrap();
    assert_eq!(
        field(Schedule::weekly(d(2026, 1, 1), d(2026, 1, 31), week, 30).build()),
        "weekly_hours"
    );
    let week: WeeklyHours = "mon-fri 09:00-17:00".parse().unwrap();
    assert_eq!(
        field(
            Schedule::weekly(d(2026, 1, 1), d(2026, 1, 31), week.clone(), 30)
                .override_date(d(2026, 1, 5), vec!["09:00-09:10".parse().unwrap()])
                .build()
        ),
        "overrides"
    );
    assert_eq!(
        field(
            Schedule::weekly(d(2026, 1, 1), d(2026, 1, 31), week.clone(), 30)
                .closure(Closure::new(d(2025, 12, 1), d(2026, 2, 1), None).unwrap())
                .build()
        ),
        "weekly_hours",
        "nothing left open"
    );
    assert_eq!(
        field(Schedule::weekly(d(1999, 12, 31), d(2026, 1, 31), week.clone(), 30).build()),
        "start_date"
    );
    assert_eq!(
        field(Schedule::weekly(d(2026, 1, 1), d(2200, 1, 1), week, 30).build()),
        "end_date"
    );
    assert!(Closure::new(d(2026, 1, 2), d(2026, 1, 1), None).is_err());
}

#[test]
fn weekly_hours_text_round_trips() {
    for text in [
        "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00",
        "mon 08:00-24:00; wed 00:00-01:00; sun 10:00:30-11:00",
        "closed",
    ] {
        let hours: WeeklyHours = text.parse().unwrap();
        assert_eq!(hours.to_string(), text);
        assert_eq!(hours.to_string().parse::<WeeklyHours>().unwrap(), hours);
    }
    let wrap: WeeklyHours = "sat-mon 10:00-11:00".parse().unwrap();
    assert_eq!(wrap.open_days().names(), ["mon", "sat", "sun"]);
}

const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "America/St_Johns",
    "America/Santiago",
    "Asia/Beirut",
];

prop_compose! {
    fn windows_of_a_day(slot: u32)(
        cuts in proptest::collection::vec(0u32..=(24 * 4), 0..6),
    ) -> Vec<TimeWindow> {
        // Sorted quarter-hour cut points paired into disjoint windows, each long enough.
        let mut cuts: Vec<u32> = cuts.into_iter().map(|c| c * 900).collect();
        cuts.sort();
        cuts.dedup();
        cuts.chunks_exact(2)
            .filter(|p| p[1] - p[0] >= slot * 60)
            .map(|p| TimeWindow::from_seconds(p[0], p[1]).unwrap())
            .collect()
    }
}

/// Weekly windows, overrides (day offset, windows) and closures (day offset, length).
type Hours = (
    Vec<Vec<TimeWindow>>,
    Vec<(i64, Vec<TimeWindow>)>,
    Vec<(i64, i64)>,
);

fn week_and_overrides(slot: u32) -> impl Strategy<Value = Hours> {
    (
        proptest::collection::vec(windows_of_a_day(slot), 7),
        proptest::collection::vec((0i64..60, windows_of_a_day(slot)), 0..4),
        proptest::collection::vec((0i64..60, 0i64..5), 0..3),
    )
}

prop_compose! {
    fn schedules(zones: &'static [&'static str])(
        zone in proptest::sample::select(zones),
        start in 0i64..(365 * 15),
        span in 0i64..45,
        slot in prop_oneof![1u32..30, 30u32..240],
        buffer in prop_oneof![Just(0u32), 0u32..90],
    )(
        zone in Just(zone), start in Just(start), span in Just(span), slot in Just(slot),
        buffer in Just(buffer), (week, overrides, closures) in week_and_overrides(slot),
    ) -> Option<Schedule> {
        build(d(2020, 1, 1) + TimeDelta::days(start), span, zone, slot, buffer,
            (week, overrides, closures))
    }
}

/// A schedule from `start_date` for `span` more days with the generated hours (overrides and
/// closures placed by day offset); `None` when it has no open date at all (refused).
fn build(
    start_date: NaiveDate,
    span: i64,
    zone: &str,
    slot: u32,
    buffer: u32,
    (week, overrides, closures): Hours,
) -> Option<Schedule> {
    let mut hours = WeeklyHours::closed();
    for (i, w) in week.into_iter().enumerate() {
        hours = hours
            .with_day(Weekday::try_from(i as u8).unwrap(), w)
            .unwrap();
    }
    let mut b = Schedule::weekly(start_date, start_date + TimeDelta::days(span), hours, slot)
        .time_zone(TimeZoneName::parse(zone).unwrap())
        .buffer_minutes(buffer);
    for (offset, w) in overrides {
        b = b.override_date(start_date + TimeDelta::days(offset), w);
    }
    for (offset, len) in closures {
        let first = start_date + TimeDelta::days(offset);
        b = b.closure(Closure::new(first, first + TimeDelta::days(len), None).unwrap());
    }
    b.build().ok()
}

/// The engine's rules, written the slow and obvious way: every date, every window, every step,
/// each wall-clock start resolved by chrono on its own, gaps found by walking minute by minute.
fn reference(s: &Schedule) -> Vec<Slot> {
    let tz = s.time_zone().tz();
    let first_instant = |local: NaiveDateTime| match tz.from_local_datetime(&local) {
        LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => Some(x.with_timezone(&Utc)),
        LocalResult::None => None,
    };
    let window_end = |local: NaiveDateTime| {
        first_instant(local).unwrap_or_else(|| {
            // In a gap: the offset in force just before it, found a minute at a time.
            let mut probe = local;
            loop {
                probe -= TimeDelta::minutes(1);
                if let Some(x) = first_instant(probe) {
                    let off = x.with_timezone(&tz).offset().fix().local_minus_utc();
                    return (local - TimeDelta::seconds(i64::from(off))).and_utc();
                }
            }
        })
    };
    let len = TimeDelta::minutes(i64::from(s.slot_minutes()));
    let step = len + TimeDelta::minutes(i64::from(s.buffer_minutes()));
    let mut out = Vec::new();
    for date in s
        .start_date()
        .iter_days()
        .take_while(|x| *x <= s.end_date())
    {
        let closed = s.closures().iter().any(|c| c.contains(date));
        let overridden = s
            .overrides()
            .find(|(o, _)| *o == date)
            .map(|(_, w)| w.to_vec());
        let windows = if closed {
            vec![]
        } else {
            overridden.unwrap_or_else(|| s.weekly_hours().day(date.weekday()).to_vec())
        };
        let midnight = date.and_time(NaiveTime::MIN);
        let mut prev_end: Option<DateTime<Utc>> = None;
        for w in windows {
            let start_local = midnight + TimeDelta::seconds(i64::from(w.start_seconds()));
            let end_local = midnight + TimeDelta::seconds(i64::from(w.end_seconds()));
            let end_instant = window_end(end_local);
            let mut local = start_local;
            while local < end_local {
                if let Some(start) = first_instant(local) {
                    let end = start + len;
                    if end > end_instant {
                        break;
                    }
                    if prev_end.is_none_or(|p| start >= p) {
                        out.push(Slot { start, end });
                        prev_end = Some(end);
                    }
                }
                local += step;
            }
        }
    }
    out
}

use chrono::Offset;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn slots_are_what_the_reference_computes(s in schedules(ZONES)) {
        let Some(s) = s else { return Ok(()) };
        let expected = reference(&s);
        let got: Vec<Slot> = s.all_slots().collect();
        prop_assert_eq!(&got, &expected);
        for pair in got.windows(2) {
            prop_assert!(pair[0].end <= pair[1].start, "sorted and disjoint");
        }
        for slot in got.iter().take(50).chain(got.iter().rev().take(20)) {
            prop_assert_eq!(s.slot_at(slot.start), Some(*slot));
            prop_assert_eq!(s.slot_at(slot.start + TimeDelta::seconds(1)), None);
            if slot.end - slot.start > TimeDelta::minutes(1) {
                prop_assert_eq!(s.slot_at(slot.start + TimeDelta::minutes(1)), None);
            }
        }
        prop_assert_eq!(
            s.count_slots(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC),
            got.len() as u64
        );
    }

    #[test]
    fn counting_by_days_equals_counting_every_slot(
        s in schedules(ZONES),
        from_offset in -3i64 * 86_400..40 * 86_400,
        span in 0i64..30 * 86_400,
    ) {
        let Some(s) = s else { return Ok(()) };
        let origin = s.start_date().and_time(NaiveTime::MIN).and_utc();
        let from = origin + TimeDelta::seconds(from_offset) + TimeDelta::milliseconds(250);
        let to = from + TimeDelta::seconds(span);
        let every = s.slots(from, to).count() as u64;
        prop_assert_eq!(s.slots(from, to).count_days(&|| false), Some(every));
        prop_assert_eq!(s.count_slots(from, to), every);
        let all = s.all_slots().count() as u64;
        prop_assert_eq!(s.all_slots().count_days(&|| false), Some(all));
        // Asked to stop, it gives up before the first day.
        prop_assert_eq!(s.all_slots().count_days(&|| true), None);
        // Partly consumed, it counts what is left.
        let mut some = s.slots(from, to);
        let taken = some.by_ref().take(3).count() as u64;
        prop_assert_eq!(some.count_days(&|| false), Some(every - taken));
    }

    #[test]
    fn a_range_is_the_matching_part_of_all_slots(
        s in schedules(ZONES),
        a in 0i64..(50 * 24 * 60),
        len in 0i64..(10 * 24 * 60),
    ) {
        let Some(s) = s else { return Ok(()) };
        let base = s.start_date().and_time(NaiveTime::MIN).and_utc() - TimeDelta::days(2);
        let from = base + TimeDelta::minutes(a);
        let to = from + TimeDelta::minutes(len);
        let expected: Vec<Slot> = s.all_slots().filter(|x| x.start >= from && x.start < to).collect();
        prop_assert_eq!(s.slots(from, to).collect::<Vec<_>>(), expected.clone());
        prop_assert_eq!(s.count_slots(from, to), expected.len() as u64);
        for index in [0, 1, expected.len() / 2, expected.len().saturating_sub(1), expected.len()] {
            prop_assert_eq!(
                s.slots_from_index(from, to, index as u64).collect::<Vec<_>>(),
                expected.get(index..).unwrap_or_default().to_vec()
            );
        }
    }

    #[test]
    fn the_original_model_is_one_window_on_chosen_weekdays(
        start in 0i64..(365 * 15),
        ws in 0u32..(23 * 60),
        wl in 1u32..(24 * 60),
        slot in 1u32..240,
        weekdays in 1u8..128,
    ) {
        let start_date = d(2020, 1, 1) + TimeDelta::days(start);
        let we = (ws + wl).min(24 * 60 - 1).max(ws + 1);
        let slot = slot.min(we - ws);
        let days = Weekdays::from_bits(weekdays | (1 << start_date.weekday().num_days_from_monday())).unwrap();
        let s = Schedule::builder(start_date, start_date + TimeDelta::days(20), t(ws / 60, ws % 60), t(we / 60, we % 60), slot)
            .weekdays(days)
            .build()
            .unwrap();
        let window = s.daily_window().unwrap();
        prop_assert_eq!(window, TimeWindow::new(t(ws / 60, ws % 60), t(we / 60, we % 60)).unwrap());
        prop_assert_eq!(s.weekdays(), days);
        let open = s.start_date().iter_days().take_while(|x| *x <= s.end_date())
            .filter(|x| days.contains(x.weekday())).count() as u64;
        prop_assert_eq!(s.all_slots().count() as u64, open * u64::from((we - ws) / slot));
    }
}

prop_compose! {
    /// Schedules of up to four years, in zones with offset changes, with overrides and
    /// closures anywhere in them: long enough for counting to take its arithmetic path.
    fn long_schedules()(
        zone in proptest::sample::select(ZONES),
        start in 0i64..(365 * 40),
        span in 20i64..(365 * 4),
        slot in 15u32..240,
        buffer in prop_oneof![Just(0u32), 0u32..90],
    )(
        zone in Just(zone), start in Just(start), span in Just(span), slot in Just(slot),
        buffer in Just(buffer),
        week in proptest::collection::vec(windows_of_a_day(slot), 7),
        overrides in proptest::collection::vec((0..=span, windows_of_a_day(slot)), 0..12),
        closures in proptest::collection::vec((0..=span, 0i64..40), 0..6),
    ) -> Option<Schedule> {
        build(d(2000, 1, 1) + TimeDelta::days(start), span, zone, slot, buffer,
            (week, overrides, closures))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Counting a long range with week arithmetic (and day by day only where overrides and
    /// offset changes make a date differ) gives what walking every slot gives.
    #[test]
    fn counting_years_equals_walking_them(
        s in long_schedules(),
        cut in (0.0f64..1.0, 0.0f64..1.0),
    ) {
        let Some(s) = s else { return Ok(()) };
        let all: Vec<Slot> = s.all_slots().collect();
        prop_assert_eq!(
            s.count_slots(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC),
            all.len() as u64
        );
        let first = s.start_date().and_time(NaiveTime::MIN).and_utc() - TimeDelta::days(1);
        let last = s.end_date().and_time(NaiveTime::MIN).and_utc() + TimeDelta::days(2);
        let at = |f: f64| first + TimeDelta::seconds(((last - first).num_seconds() as f64 * f) as i64);
        let (from, to) = (at(cut.0.min(cut.1)), at(cut.0.max(cut.1)));
        let inside = all.iter().filter(|x| x.start >= from && x.start < to).count() as u64;
        prop_assert_eq!(s.count_slots(from, to), inside);
    }
}
