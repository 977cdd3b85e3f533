//! The scheduler's optional read cache (see [`crate::Scheduler::with_read_cache`]).
//!
//! Two things are kept, each for at most the cache's time to live, measured on the scheduler's
//! clock:
//!
//! * appointment rows, by code and by id (the store never changes an appointment once written);
//! * pages of seat counters per appointment, each the answer of one `Store::seats_taken` call.
//!
//! A seat page is dropped as soon as this scheduler (or a clone of it) changes seats on that
//! appointment, so its own writes are always visible to its next read. A page loaded while such a
//! write ran is not kept: each appointment's pages carry an epoch that every write bumps, and a
//! page is stored only if the epoch it was loaded under is still current. Writes made elsewhere
//! (another process on the same database) show up once the page expires.

use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};
use quick_cache::sync::Cache;

use crate::domain::{AppCode, Appointment, AppointmentId};
use crate::store::SlotSeats;

/// Appointments kept (by code, and again by id).
const APPOINTMENTS: usize = 10_000;
/// Appointments whose seat pages are kept.
const SEAT_APPOINTMENTS: usize = 1_024;
/// Seat pages kept per appointment (a slot listing, a day, a single slot, …).
const PAGES_PER_APPOINTMENT: usize = 4;
/// Larger answers are not kept; together with the limits above this bounds the cache's memory.
const MAX_PAGE_ROWS: usize = 1_024;

/// A value and when it was read from the store.
#[derive(Clone)]
struct Stamped<T> {
    at: DateTime<Utc>,
    value: T,
}

/// The seat pages of one appointment.
#[derive(Default)]
struct SeatPages {
    /// Bumped by every write to the appointment's seats.
    epoch: u64,
    pages: Vec<SeatPage>,
}

struct SeatPage {
    /// The range the store was asked for.
    range: Range<DateTime<Utc>>,
    at: DateTime<Utc>,
    rows: Arc<[SlotSeats]>,
}

/// Permission to store a seat page read from the store, valid while no write intervenes.
pub(crate) struct SeatTicket {
    entry: Arc<Mutex<SeatPages>>,
    epoch: u64,
}

/// The cache itself; shared by a scheduler and its clones.
pub(crate) struct ReadCache {
    ttl: TimeDelta,
    by_code: Cache<AppCode, Stamped<Arc<Appointment>>>,
    by_id: Cache<AppointmentId, Stamped<Arc<Appointment>>>,
    seats: Cache<AppointmentId, Arc<Mutex<SeatPages>>>,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("ttl", &self.ttl)
            .field("appointments", &self.by_code.len())
            .field("seat_appointments", &self.seats.len())
            .finish()
    }
}

impl ReadCache {
    pub(crate) fn new(ttl: TimeDelta) -> Self {
        ReadCache {
            ttl,
            by_code: Cache::new(APPOINTMENTS),
            by_id: Cache::new(APPOINTMENTS),
            seats: Cache::new(SEAT_APPOINTMENTS),
        }
    }

    /// How long the cache may answer for the store.
    pub(crate) fn ttl(&self) -> TimeDelta {
        self.ttl
    }

    fn fresh(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        at <= now && now - at < self.ttl
    }

    pub(crate) fn appointment_by_code(
        &self,
        code: &AppCode,
        now: DateTime<Utc>,
    ) -> Option<Appointment> {
        self.by_code
            .get(code)
            .filter(|s| self.fresh(s.at, now))
            .map(|s| Appointment::clone(&s.value))
    }

    pub(crate) fn appointment_by_id(
        &self,
        id: AppointmentId,
        now: DateTime<Utc>,
    ) -> Option<Appointment> {
        self.by_id
            .get(&id)
            .filter(|s| self.fresh(s.at, now))
            .map(|s| Appointment::clone(&s.value))
    }

    /// Keeps an appointment just read from (or written to) the store at `at`, unless a later
    /// revision of it is already kept (a slow read must not put back what an edit replaced).
    pub(crate) fn put_appointment(&self, app: &Appointment, at: DateTime<Utc>) {
        if self
            .by_id
            .get(&app.id)
            .is_some_and(|kept| kept.value.revision > app.revision)
        {
            return;
        }
        let value = Arc::new(app.clone());
        self.by_id.insert(
            app.id,
            Stamped {
                at,
                value: Arc::clone(&value),
            },
        );
        self.by_code.insert(app.code.clone(), Stamped { at, value });
    }

    /// The counters of `app` in `range` from a fresh page that covers it; otherwise a ticket to
    /// store the page the caller is about to read.
    pub(crate) fn seats(
        &self,
        app: AppointmentId,
        range: &Range<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlotSeats>, SeatTicket> {
        let entry = self
            .seats
            .get_or_insert_with(&app, || {
                Ok::<_, std::convert::Infallible>(Arc::new(Mutex::new(SeatPages::default())))
            })
            .unwrap_or_else(|never| match never {});
        let pages = entry.lock().unwrap_or_else(PoisonError::into_inner);
        let hit = pages.pages.iter().find(|p| {
            p.range.start <= range.start && range.end <= p.range.end && self.fresh(p.at, now)
        });
        match hit {
            Some(page) => Ok(page
                .rows
                .iter()
                .filter(|s| range.contains(&s.slot_start))
                .copied()
                .collect()),
            None => {
                let epoch = pages.epoch;
                drop(pages);
                Err(SeatTicket { entry, epoch })
            }
        }
    }

    /// The range to ask the store for when `range` missed: `range` with its end pushed out by the
    /// time to live, so that the page also covers the same request made a little later (a
    /// listing's window moves with the clock).
    pub(crate) fn load_range(&self, range: &Range<DateTime<Utc>>) -> Range<DateTime<Utc>> {
        let end = range
            .end
            .checked_add_signed(self.ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        range.start..end
    }

    /// Stores a page read under `ticket`, unless a write to the appointment's seats happened
    /// since the ticket was issued.
    pub(crate) fn put_seats(
        &self,
        ticket: SeatTicket,
        range: Range<DateTime<Utc>>,
        rows: &[SlotSeats],
        at: DateTime<Utc>,
    ) {
        if rows.len() > MAX_PAGE_ROWS {
            return;
        }
        let mut pages = ticket.entry.lock().unwrap_or_else(PoisonError::into_inner);
        if pages.epoch != ticket.epoch {
            return;
        }
        let ttl = self.ttl;
        pages.pages.retain(|p| at.signed_duration_since(p.at) < ttl);
        if pages.pages.len() >= PAGES_PER_APPOINTMENT {
            pages.pages.remove(0);
        }
        pages.pages.push(SeatPage {
            range,
            at,
            rows: rows.into(),
        });
    }

    /// Forgets a deleted appointment.
    pub(crate) fn forget_appointment(&self, app: &Appointment) {
        self.by_id.remove(&app.id);
        self.by_code.remove(&app.code);
    }

    /// Forgets every seat page of `app`; called after each write to its seats.
    pub(crate) fn seats_changed(&self, app: AppointmentId) {
        if let Some(entry) = self.seats.get(&app) {
            let mut pages = entry.lock().unwrap_or_else(PoisonError::into_inner);
            pages.epoch += 1;
            pages.pages.clear();
        }
    }
}
