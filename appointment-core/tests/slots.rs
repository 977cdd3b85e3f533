//! The slot engine: examples across DST switches, and properties over random schedules.
#![allow(clippy::unwrap_used)]

use appointment_core::{Schedule, Slot, TimeZoneName, Weekdays};
use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
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

const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "America/St_Johns",
];

prop_compose! {
    fn schedules(zones: &'static [&'static str])(
        zone in proptest::sample::select(zones),
        start in 0i64..(365 * 15),
        span in 0i64..45,
        win_start in 0u32..(23 * 60),
        win_len in 1u32..(24 * 60),
        slot in 1u32..240,
        buffer in 0u32..90,
        weekdays in 1u8..128,
    ) -> Schedule {
        let start_date = d(2020, 1, 1) + TimeDelta::days(start);
        let ws = win_start;
        let we = (ws + win_len).min(24 * 60 - 1).max(ws + 1);
        let slot = slot.min(we - ws);
        Schedule::builder(
            start_date,
            start_date + TimeDelta::days(span),
            t(ws / 60, ws % 60),
            t(we / 60, we % 60),
            slot,
        )
        .time_zone(TimeZoneName::parse(zone).unwrap())
        .buffer_minutes(buffer)
        // Make sure at least one date is a day of the set.
        .weekdays(Weekdays::from_bits(weekdays | (1 << start_date.weekday().num_days_from_monday())).unwrap())
        .build()
        .unwrap()
    }
}

fn window_end_instant(s: &Schedule, date: NaiveDate) -> Option<DateTime<Utc>> {
    match s
        .time_zone()
        .tz()
        .from_local_datetime(&date.and_time(s.window_end()))
    {
        LocalResult::Single(x) | LocalResult::Ambiguous(x, _) => Some(x.with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn slots_are_sorted_aligned_disjoint_and_inside(s in schedules(ZONES)) {
        let tz = s.time_zone().tz();
        let step = i64::from(s.slot_minutes() + s.buffer_minutes()) * 60;
        let mut prev: Option<Slot> = None;
        for slot in s.all_slots() {
            prop_assert_eq!(slot.end - slot.start, TimeDelta::minutes(i64::from(s.slot_minutes())));
            if let Some(p) = prev {
                prop_assert!(p.start < slot.start, "sorted");
                prop_assert!(p.end <= slot.start, "non-overlapping");
            }
            let local = slot.start.with_timezone(&tz).naive_local();
            prop_assert!(local.date() >= s.start_date() && local.date() <= s.end_date());
            prop_assert!(s.weekdays().contains(local.date().weekday()));
            prop_assert!(local.time() >= s.window_start() && local.time() < s.window_end());
            prop_assert_eq!((local.time() - s.window_start()).num_seconds() % step, 0, "aligned");
            if let Some(end) = window_end_instant(&s, local.date()) {
                prop_assert!(slot.end <= end, "ends inside the window");
            }
            prop_assert_eq!(s.slot_at(slot.start), Some(slot));
            prev = Some(slot);
        }
    }

    #[test]
    fn counting_by_days_equals_counting_every_slot(
        s in schedules(ZONES),
        from_offset in -3i64 * 86_400..40 * 86_400,
        span in 0i64..30 * 86_400,
    ) {
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
    }

    #[test]
    fn utc_count_is_days_times_slots_per_day(s in schedules(&["UTC"])) {
        let window = (s.window_end() - s.window_start()).num_minutes();
        let per_day = (window + i64::from(s.buffer_minutes()))
            / i64::from(s.slot_minutes() + s.buffer_minutes());
        let days = s
            .start_date()
            .iter_days()
            .take_while(|x| *x <= s.end_date())
            .filter(|x| s.weekdays().contains(x.weekday()))
            .count() as i64;
        prop_assert_eq!(s.all_slots().count() as i64, days * per_day);
        if s.buffer_minutes() == 0 {
            prop_assert_eq!(per_day, window / i64::from(s.slot_minutes()));
        }
    }

    #[test]
    fn a_range_is_the_matching_part_of_all_slots(
        s in schedules(ZONES),
        a in 0i64..(50 * 24 * 60),
        len in 0i64..(10 * 24 * 60),
    ) {
        let base = s.start_date().and_time(NaiveTime::MIN).and_utc() - TimeDelta::days(2);
        let from = base + TimeDelta::minutes(a);
        let to = from + TimeDelta::minutes(len);
        let expected: Vec<Slot> = s.all_slots().filter(|x| x.start >= from && x.start < to).collect();
        prop_assert_eq!(s.slots(from, to).collect::<Vec<_>>(), expected);
        prop_assert_eq!(s.count_slots(from, to), s.slots(from, to).count() as u64);
    }
}
