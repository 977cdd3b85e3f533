//! Slot generation throughput. `cargo bench --bench slots`
//!
//! Each case generates every slot of a schedule lazily and folds them, so the figure is the cost
//! per slot of the engine itself (criterion reports it as time per element).

use std::hint::black_box;

use appointment_master::{Schedule, TimeZoneName, Weekdays};
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
    let mut group = c.benchmark_group("slots");
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
