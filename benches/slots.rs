//! Slot generation throughput. `cargo bench --bench slots`
//!
//! Each case generates every slot of a schedule lazily and folds them, so the figure is the cost
//! per slot of the engine itself (criterion reports it as time per element).

use std::hint::black_box;

use appointment_master::{Closure, Schedule, TimeZoneName, Weekdays, WeeklyHours};
use chrono::{NaiveDate, NaiveTime};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn schedule(zone: &str, days: u32, from: (u32, u32), to: (u32, u32), slot: u32) -> Schedule {
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let end = start + chrono::TimeDelta::days(i64::from(days) - 1);
    let t = |(h, m): (u32, u32)| NaiveTime::from_hms_opt(h, m, 0).expect("time");
    Schedule::builder(start, end, t(from), t(to), slot)
        .time_zone(TimeZoneName::parse(zone).expect("zone"))
        .build()
        .expect("schedule")
}

fn bench(c: &mut Criterion) {
    let cases = [
        (
            "berlin_year_15min_0900_1700",
            schedule("Europe/Berlin", 365, (9, 0), (17, 0), 15),
        ),
        (
            "utc_year_15min_0900_1700",
            schedule("UTC", 365, (9, 0), (17, 0), 15),
        ),
        (
            "new_york_year_5min_0000_2359",
            schedule("America/New_York", 365, (0, 0), (23, 59), 5),
        ),
        (
            "berlin_year_60min_workdays",
            schedule("Europe/Berlin", 365, (8, 0), (18, 0), 60)
                .to_builder()
                .weekdays(Weekdays::WORKDAYS)
                .build()
                .expect("schedule"),
        ),
    ];
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
    // A barber's real week: lunch break, short Saturdays, holidays and a vacation.
    let barber = Schedule::weekly(
        d(2026, 1, 1),
        d(2026, 12, 31),
        "mon-fri 09:00-12:00,13:00-17:30; sat 10:00-14:00"
            .parse::<WeeklyHours>()
            .expect("hours"),
        30,
    )
    .time_zone(TimeZoneName::parse("Europe/Berlin").expect("zone"))
    .override_date(
        d(2026, 12, 24),
        vec!["09:00-12:00".parse().expect("window")],
    )
    .closure(Closure::new(d(2026, 8, 3), d(2026, 8, 16), None).expect("closure"))
    .closure(Closure::new(d(2026, 12, 25), d(2026, 12, 26), None).expect("closure"))
    .build()
    .expect("schedule");
    let cases = cases
        .into_iter()
        .chain([("berlin_barber_year_30min", barber)]);
    let mut group = c.benchmark_group("slots");
    let cases: Vec<_> = cases.collect();
    for (name, s) in &cases {
        let n = s.all_slots().count() as u64;
        group.throughput(Throughput::Elements(n));
        group.bench_function(*name, |b| {
            b.iter(|| {
                for slot in black_box(s).all_slots() {
                    black_box(slot);
                }
            })
        });
    }
    group.finish();

    // Counting: what analytics and listing totals pay. Arithmetic per day, so a ten-year schedule
    // of one-minute slots (5 million of them) costs what its 3,650 days cost.
    let ten_years = schedule("Europe/Berlin", 3650, (0, 0), (23, 59), 1);
    let mut group = c.benchmark_group("count_slots");
    for (name, s) in [
        ("berlin_10y_1min", &ten_years),
        ("berlin_barber_year_30min", &cases[cases.len() - 1].1),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(s).count_slots(
                    chrono::DateTime::<chrono::Utc>::MIN_UTC,
                    chrono::DateTime::<chrono::Utc>::MAX_UTC,
                )
            })
        });
    }
    // Seeking: the first 50 slots from the middle of the ten years.
    let mid = ten_years.all_slots().nth(2_500_000).expect("a slot").start;
    group.bench_function("berlin_10y_1min_seek_take_50", |b| {
        b.iter(|| {
            black_box(&ten_years)
                .slots(black_box(mid), chrono::DateTime::<chrono::Utc>::MAX_UTC)
                .take(50)
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
