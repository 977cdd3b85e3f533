//! A whole booking flow on the in-memory store: `cargo run --example booking_flow`
//!
//! An owner opens a week of 30-minute consultations in Berlin; a guest books, moves and cancels;
//! a banned email is turned away; a full slot is refused; the owner reads the analytics.

use appointment_master::chrono::{Days, NaiveTime, Utc};
use appointment_master::{
    AntiScalping, AppointmentKind, AttendeeCount, Booker, Email, Error, MemoryStore, Name,
    NewAppointment, NewBooking, NewUser, Reschedule, Schedule, Scheduler, SlotQuery, TimeZoneName,
    Weekdays,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let scheduler = Scheduler::new(MemoryStore::new());

    let owner = scheduler
        .register_user(NewUser {
            name: Name::parse("Dr. Ada Berg")?,
            email: Email::parse("ada@clinic.example")?,
            phone: None,
            password_hash: "stored-by-your-auth-layer".into(),
        })
        .await?;

    // Next week, Monday to Friday, 09:00–12:00 Berlin time, 30-minute slots, 2 seats each.
    let today = Utc::now().date_naive();
    let schedule = Schedule::builder(
        today + Days::new(7),
        today + Days::new(13),
        NaiveTime::from_hms_opt(9, 0, 0).expect("09:00"),
        NaiveTime::from_hms_opt(12, 0, 0).expect("12:00"),
        30,
    )
    .time_zone(TimeZoneName::parse("Europe/Berlin")?)
    .weekdays(Weekdays::WORKDAYS)
    .min_notice_minutes(60)
    .build()?;
    let app = scheduler
        .create_appointment(
            owner.id,
            NewAppointment {
                title: "Consultation".into(),
                description: "Bring your questions".into(),
                kind: AppointmentKind::Group,
                capacity: Some(2),
                anti_scalping: AntiScalping::Standard,
                schedule,
                resource: None,
            },
        )
        .await?;
    println!("created {} ({})", app.code, app.title);

    let slots = scheduler
        .available_slots(&app.code, SlotQuery::default())
        .await?;
    println!(
        "{} bookable slots, first page of {}:",
        slots.total,
        slots.items.len()
    );
    for s in slots.items.iter().take(3) {
        println!(
            "  {} → {} ({} seats left)",
            s.slot.start, s.slot.end, s.seats_left
        );
    }

    let first = slots.items[0].slot.start;
    let guest = |email: &str| -> Result<Booker, Error> {
        Ok(Booker::Guest {
            name: Name::parse("Guest")?,
            email: Email::parse(email)?,
            phone: None,
        })
    };
    let booking = scheduler
        .book(NewBooking {
            app_code: app.code.clone(),
            slot_start: first,
            attendee_count: AttendeeCount::new(2)?,
            booker: guest("jane@example.com")?,
            description: "Two of us".into(),
            device_id: None,
        })
        .await?;
    println!(
        "booked {} for {} seats",
        booking.code,
        booking.attendee_count.get()
    );

    // The slot is full now.
    let full = scheduler
        .book(NewBooking {
            app_code: app.code.clone(),
            slot_start: first,
            attendee_count: AttendeeCount::ONE,
            booker: guest("late@example.com")?,
            description: String::new(),
            device_id: None,
        })
        .await;
    if let Err(e) = full {
        println!("a third seat on the same slot: {e}");
    }

    // Move to the next slot, then cancel.
    let moved = scheduler
        .reschedule(
            &booking.code,
            Reschedule {
                slot_start: slots.items[1].slot.start,
                attendee_count: None,
            },
        )
        .await?;
    println!("moved to {}", moved.slot_start);
    let cancelled = scheduler.cancel(&booking.code).await?;
    println!("now {}", cancelled.status);

    // Bans apply whatever the case of the email.
    scheduler
        .ban(owner.id, Email::parse("spam@example.com")?)
        .await?;
    let banned = scheduler
        .book(NewBooking {
            app_code: app.code.clone(),
            slot_start: first,
            attendee_count: AttendeeCount::ONE,
            booker: guest("SPAM@example.com")?,
            description: String::new(),
            device_id: None,
        })
        .await;
    if let Err(e) = banned {
        println!("a banned guest: {e}");
    }

    let stats = scheduler
        .analytics(owner.id, today, today + Days::new(31))
        .await?;
    println!(
        "analytics: {} appointment(s) created, {} booking(s) ({} cancelled), {} of {} seats booked",
        stats.appointments_created,
        stats.total_bookings(),
        stats.bookings.cancelled,
        stats.bookings.seats_booked,
        stats.seats_offered
    );
    Ok(())
}
