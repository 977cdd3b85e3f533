//! What a slot listing costs the engine as the schedule grows: `Scheduler::available_slots` over
//! the in-memory store (the server's work for `GET /appointments/slots/{code}` minus HTTP and the
//! database round trip), for a one-week appointment and for a ten-year appointment of one-minute
//! slots, page 1 and page 1000, each with 200 booked slots spread over the first month.
//!
//! ```text
//! cargo bench --bench listing
//! ```
//!
//! criterion reports the time per listing; BENCHMARKS.md gives the ratios to the one-week case.

use std::hint::black_box;
use std::sync::Arc;

use appointment_core::testing::{epoch, guest_booking, new_user};
use appointment_core::{
    AntiScalping, AppCode, AppointmentKind, ManualClock, NewAppointment, Page, Schedule, Scheduler,
    SlotQuery,
};
use appointment_master::MemoryStore;
use chrono::{NaiveDate, NaiveTime, TimeDelta};
use criterion::{Criterion, criterion_group, criterion_main};

type Sched = Scheduler<MemoryStore>;

async fn appointment(sched: &Sched, days: i64, slot: u32, title: &str) -> AppCode {
    let owner = sched
        .register_user(new_user(title, &format!("{title}@example.com"), None))
        .await
        .expect("register");
    let start = NaiveDate::from_ymd_opt(2030, 1, 1).expect("date");
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("time");
    let schedule = Schedule::builder(start, start + TimeDelta::days(days - 1), t(0), t(23), slot)
        .build()
        .expect("schedule");
    let app = sched
        .create_appointment(
            owner.id,
            NewAppointment {
                title: title.into(),
                description: String::new(),
                kind: AppointmentKind::Group,
                capacity: Some(1),
                anti_scalping: AntiScalping::None,
                schedule,
            },
        )
        .await
        .expect("appointment");
    // 200 full slots in the first month: the listing must step over them.
    let starts: Vec<_> = app.schedule.all_slots().step_by(97).take(200).collect();
    for (i, s) in starts.iter().enumerate() {
        sched
            .book(guest_booking(
                &app.code,
                s.start,
                1,
                &format!("g{i}@example.com"),
            ))
            .await
            .expect("book");
    }
    app.code
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let sched = Scheduler::new(MemoryStore::new())
        .with_clock(Arc::new(ManualClock::new(epoch() - TimeDelta::days(1))));
    let week = rt.block_on(appointment(&sched, 7, 60, "week"));
    let decade = rt.block_on(appointment(&sched, 3650, 1, "decade"));
    let mut group = c.benchmark_group("listing");
    for (name, code, page) in [
        ("one_week_hourly_page_1", &week, 1),
        ("ten_years_1min_page_1", &decade, 1),
        ("ten_years_1min_page_1000", &decade, 1000),
    ] {
        let query = SlotQuery {
            day: None,
            page: Page::new(page, 20).expect("page"),
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(sched.available_slots(black_box(code), query))
                    .expect("slots")
                    .items
                    .len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
