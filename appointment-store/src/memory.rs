//! The in-memory store: for tests, examples and embedding where nothing needs to survive a restart.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use appointment_core::store::{
    BookingEnd, BookingMove, BookingStats, MAX_RESOURCE_CLAIM, ResourceClaim, SeatClaim, SlotSeats,
    Store,
};
use appointment_core::{
    AppCode, Appointment, AppointmentId, Ban, Booking, BookingCode, BookingId, BookingStatus,
    DeviceId, Duplicate, Email, Entity, Error, Event, EventCursor, EventKind, Hold, HoldId,
    HoldStatus, HoldToken, Page, Paged, Phone, ResourceKey, Result, User, UserId, WaitlistCode,
    WaitlistEntry, WaitlistId, WaitlistStatus,
};
use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use parking_lot::Mutex;

use crate::mail::{DueMail, MailAttempt, MailRecord, MailStatus, MailStore, NewMail};
use crate::service::{CalendarFeedStore, FeedBooking, IdempotencyClaim, ServiceStore};
use crate::webhooks::{
    DeliveryAttempt, DeliveryRecord, DeliveryStatus, DueDelivery, NewDelivery, WebhookEndpoint,
    WebhookStore,
};

/// A [`Store`] in process memory. Every operation runs under one lock, so each is atomic and the
/// store is linearizable; nothing is kept after it is dropped.
///
/// ```
/// use appointment_store::MemoryStore;
/// use appointment_core::Scheduler;
/// let scheduler = Scheduler::new(MemoryStore::new());
/// # let _ = scheduler;
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

/// One resource's claims: by (start, booking), the end and the appointment.
type ResourceClaims = BTreeMap<(DateTime<Utc>, BookingId), (DateTime<Utc>, AppointmentId)>;

#[derive(Debug, Default)]
struct Inner {
    users: HashMap<UserId, User>,
    user_emails: HashMap<Email, UserId>,
    user_phones: HashMap<Phone, UserId>,
    appointments: HashMap<AppointmentId, Appointment>,
    app_codes: HashMap<AppCode, AppointmentId>,
    /// Insertion order of appointments (for stable listings).
    app_order: Vec<AppointmentId>,
    bookings: HashMap<BookingId, Booking>,
    booking_codes: HashMap<BookingCode, BookingId>,
    /// Insertion order of bookings.
    booking_order: Vec<BookingId>,
    /// Seats taken per appointment and slot start.
    seats: HashMap<AppointmentId, BTreeMap<DateTime<Utc>, u32>>,
    /// Active bookings per appointment and canonical email, for anti-scalping.
    active_emails: HashMap<(AppointmentId, Email), BookingId>,
    /// Active bookings per appointment and device, for strict anti-scalping.
    active_devices: HashMap<(AppointmentId, DeviceId), BookingId>,
    bans: BTreeMap<(UserId, Email), Ban>,
    /// The time each active booking occupies its appointment's shared resource: per resource,
    /// by (start, booking), the end and the appointment.
    resources: HashMap<ResourceKey, ResourceClaims>,
    /// The resource claim of each active booking that has one: (resource, start).
    booking_resources: HashMap<BookingId, (ResourceKey, DateTime<Utc>)>,
    holds: HashMap<HoldId, Hold>,
    hold_tokens: HashMap<HoldToken, HoldId>,
    /// The holds whose stored status is held, per appointment and slot start.
    held: HashMap<(AppointmentId, DateTime<Utc>), Vec<HoldId>>,
    /// The bookings whose stored status is pending, per appointment and slot start.
    pending: HashMap<(AppointmentId, DateTime<Utc>), Vec<BookingId>>,
    waitlist: HashMap<WaitlistId, WaitlistEntry>,
    waitlist_codes: HashMap<WaitlistCode, WaitlistId>,
    /// The waiting places per appointment and slot start, in join order.
    waiting: HashMap<(AppointmentId, DateTime<Utc>), Vec<WaitlistId>>,
    revoked_tokens: HashMap<String, DateTime<Utc>>,
    idempotency: HashMap<String, IdempotencyRecord>,
    /// The owner of every appointment ever inserted (deleted ones included: their bookings'
    /// events still name it).
    app_owners: HashMap<AppointmentId, UserId>,
    /// The outbox, in order.
    events: Vec<Event>,
    /// The last event's insertion number (kept when old events are pruned).
    event_seq: u64,
    webhooks: Vec<WebhookEndpoint>,
    /// Webhook deliveries, in the order they were made.
    deliveries: Vec<MemoryDelivery>,
    webhook_cursor: EventCursor,
    /// Email messages, in the order they were made.
    mail: Vec<MemoryMail>,
    mail_cursor: EventCursor,
    /// Calendar feeds: each owner's token hash.
    calendar_feeds: HashMap<UserId, String>,
}

/// A webhook delivery and where it stands.
#[derive(Debug, Clone)]
struct MemoryDelivery {
    new: NewDelivery,
    status: DeliveryStatus,
    attempts: u32,
    next_attempt_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
    last: Option<DeliveryAttempt>,
}

/// An email message and where it stands.
#[derive(Debug, Clone)]
struct MemoryMail {
    new: NewMail,
    status: MailStatus,
    attempts: u32,
    next_attempt_at: DateTime<Utc>,
    locked_until: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

#[derive(Debug, Clone)]
struct IdempotencyRecord {
    request_hash: String,
    created_at: DateTime<Utc>,
    answer: Option<(u16, String)>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn page_of<T: Clone>(all: Vec<&T>, page: Page) -> Paged<T> {
    let total = all.len() as u64;
    let items = all
        .into_iter()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(page.per_page() as usize)
        .cloned()
        .collect();
    Paged::new(items, page, total)
}

impl Inner {
    /// Adds a pending webhook delivery, unless its endpoint already has one for the event.
    fn add_delivery(&mut self, d: &NewDelivery) {
        if self
            .deliveries
            .iter()
            .any(|x| x.new.endpoint_id == d.endpoint_id && x.new.event_id == d.event_id)
        {
            return;
        }
        self.deliveries.push(MemoryDelivery {
            new: d.clone(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: d.created_at,
            locked_until: None,
            last: None,
        });
    }

    /// Adds a pending email message, unless one with its key and role is there; whether it
    /// was added.
    fn add_mail(&mut self, m: &NewMail) -> bool {
        if self
            .mail
            .iter()
            .any(|x| x.new.key == m.key && x.new.role == m.role)
        {
            return false;
        }
        self.mail.push(MemoryMail {
            new: m.clone(),
            status: MailStatus::Pending,
            attempts: 0,
            next_attempt_at: m.due_at,
            locked_until: None,
            last_error: None,
        });
        true
    }

    /// Appends an event to the outbox, giving it the next cursor.
    fn emit(&mut self, mut e: Event) {
        self.event_seq += 1;
        e.cursor = EventCursor {
            tx: 0,
            seq: self.event_seq,
        };
        self.events.push(e);
    }

    fn owner_of(&self, app: AppointmentId) -> UserId {
        self.app_owners
            .get(&app)
            .copied()
            .unwrap_or(UserId(uuid::Uuid::nil()))
    }

    /// Appends the event of a booking's change from `before` (`None`: new) to its stored state.
    fn emit_booking(&mut self, before: Option<&Booking>, id: BookingId) {
        let Some(after) = self.bookings.get(&id) else {
            return;
        };
        let moved = before.is_some_and(|b| {
            b.slot_start != after.slot_start || b.attendee_count != after.attendee_count
        });
        if let Some(kind) = EventKind::of_booking(before.map(|b| b.status), after.status, moved) {
            let e = Event::booking(kind, after, self.owner_of(after.appointment_id));
            self.emit(e);
        }
    }

    /// Appends the event of a hold's change from `before` (`None`: new) to its stored state.
    fn emit_hold(&mut self, before: Option<HoldStatus>, id: HoldId) {
        let Some(after) = self.holds.get(&id) else {
            return;
        };
        if let Some(kind) = EventKind::of_hold(before, after.status) {
            let e = Event::hold(kind, after, self.owner_of(after.appointment_id));
            self.emit(e);
        }
    }

    /// Appends the event of a waiting place's change from `before` (`None`: new).
    fn emit_waitlist(&mut self, before: Option<WaitlistStatus>, id: WaitlistId) {
        let Some(after) = self.waitlist.get(&id) else {
            return;
        };
        if let Some(kind) = EventKind::of_waitlist(before, after.status) {
            let e = Event::waitlist(kind, after, self.owner_of(after.appointment_id));
            self.emit(e);
        }
    }

    fn taken(&self, app: AppointmentId, start: DateTime<Utc>) -> u32 {
        self.seats
            .get(&app)
            .and_then(|m| m.get(&start))
            .copied()
            .unwrap_or(0)
    }

    fn add_seats(&mut self, app: AppointmentId, start: DateTime<Utc>, delta: i64) {
        let m = self.seats.entry(app).or_default();
        let v = m.entry(start).or_insert(0);
        *v = u32::try_from(i64::from(*v) + delta).unwrap_or(0);
        if *v == 0 {
            m.remove(&start);
        }
    }

    /// Seats of the slot's held holds and pending bookings that expired at `now` (still counted
    /// until reclaimed).
    fn expired_seats(&self, app: AppointmentId, start: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
        let holds: u32 = self
            .held
            .get(&(app, start))
            .into_iter()
            .flatten()
            .filter_map(|id| self.holds.get(id))
            .filter(|h| !h.is_live(now))
            .map(|h| h.seats.get())
            .sum();
        let pending: u32 = self
            .pending
            .get(&(app, start))
            .into_iter()
            .flatten()
            .filter_map(|id| self.bookings.get(id))
            .filter(|b| b.status_at(now) == BookingStatus::Expired)
            .map(|b| b.attendee_count.get())
            .sum();
        holds + pending
    }

    /// `SlotFull` unless `n` more seats fit in `capacity` on the slot, once the slot's holds
    /// expired at `now` gave their seats back.
    fn fits(
        &mut self,
        app: AppointmentId,
        start: DateTime<Utc>,
        n: u32,
        capacity: u32,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.reclaim_slot(app, start, now);
        let taken = self.taken(app, start);
        if u64::from(taken) + u64::from(n) > u64::from(capacity) {
            return Err(Error::SlotFull {
                requested: n,
                available: capacity.saturating_sub(taken),
            });
        }
        Ok(())
    }

    /// Gives back the seats of the slot's holds and pending bookings that expired at `now`,
    /// marking them expired; answers how many seats that gave back.
    fn reclaim_slot(
        &mut self,
        app: AppointmentId,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> u64 {
        let mut expired = 0;
        for id in self.held.get(&(app, start)).cloned().unwrap_or_default() {
            if self.holds.get(&id).is_some_and(|h| !h.is_live(now))
                && let Some(h) = self.end_hold(id, HoldStatus::Expired, now)
            {
                expired += u64::from(h.seats.get());
            }
        }
        for id in self.pending.get(&(app, start)).cloned().unwrap_or_default() {
            if self
                .bookings
                .get(&id)
                .is_some_and(|b| b.status_at(now) == BookingStatus::Expired)
                && let Some(b) = self.end_seats(id, BookingStatus::Expired, now)
            {
                expired += u64::from(b.attendee_count.get());
            }
        }
        if expired > 0 {
            self.offer(app, start, now);
        }
        expired
    }

    /// Offers the free seats of a slot that has not started to its waiting places in join
    /// order: each place whose seats fit gets a hold of them and becomes offered.
    fn offer(&mut self, app: AppointmentId, start: DateTime<Utc>, now: DateTime<Utc>) {
        if start <= now {
            return;
        }
        let Some(a) = self.appointments.get(&app) else {
            return;
        };
        let (capacity, minutes, code) = (a.capacity, a.schedule.hold_minutes(), a.code.clone());
        for id in self.waiting.get(&(app, start)).cloned().unwrap_or_default() {
            let Some(w) = self.waitlist.get(&id) else {
                continue;
            };
            let n = w.seats.get();
            if u64::from(self.taken(app, start)) + u64::from(n) > u64::from(capacity) {
                continue;
            }
            let hold = Hold::new(
                app,
                code.clone(),
                (start, w.slot_end),
                w.seats,
                minutes,
                now,
            );
            let hold_id = hold.id;
            self.record_hold(hold);
            if let Some(w) = self.waitlist.get_mut(&id) {
                w.status = WaitlistStatus::Offered;
                w.hold_id = Some(hold_id);
                w.updated_at = now;
            }
            self.emit_waitlist(Some(WaitlistStatus::Waiting), id);
            self.unlist_waiting(app, start, id);
        }
    }

    /// Stores a new held hold and takes its seats (that they fit was checked).
    fn record_hold(&mut self, hold: Hold) {
        let (app, start) = (hold.appointment_id, hold.slot_start);
        self.add_seats(app, start, i64::from(hold.seats.get()));
        self.hold_tokens.insert(hold.token.clone(), hold.id);
        self.held.entry((app, start)).or_default().push(hold.id);
        let id = hold.id;
        self.holds.insert(id, hold);
        self.emit_hold(None, id);
    }

    fn unlist_waiting(&mut self, app: AppointmentId, start: DateTime<Utc>, id: WaitlistId) {
        if let Some(ids) = self.waiting.get_mut(&(app, start)) {
            ids.retain(|other| *other != id);
            if ids.is_empty() {
                self.waiting.remove(&(app, start));
            }
        }
    }

    /// Ends a booking that holds seats as `status`: gives its seats and claims back and writes
    /// the status.
    fn end_seats(
        &mut self,
        id: BookingId,
        status: BookingStatus,
        now: DateTime<Utc>,
    ) -> Option<Booking> {
        let b = self.bookings.get(&id)?.clone();
        self.add_seats(
            b.appointment_id,
            b.slot_start,
            -i64::from(b.attendee_count.get()),
        );
        self.release_claims(&b);
        self.unlist_pending(&b);
        let stored = self.bookings.get_mut(&id)?;
        stored.status = status;
        stored.updated_at = now;
        let ended = stored.clone();
        self.emit_booking(Some(&b), id);
        Some(ended)
    }

    /// Drops a booking from the pending index (where it is listed under its slot).
    fn unlist_pending(&mut self, b: &Booking) {
        let key = (b.appointment_id, b.slot_start);
        if let Some(ids) = self.pending.get_mut(&key) {
            ids.retain(|other| *other != b.id);
            if ids.is_empty() {
                self.pending.remove(&key);
            }
        }
    }

    /// Ends a held hold: writes its status and gives its seats back unless `status` is booked
    /// (a booking takes them over).
    fn end_hold(&mut self, id: HoldId, status: HoldStatus, now: DateTime<Utc>) -> Option<Hold> {
        let h = self.holds.get_mut(&id)?;
        let before = h.status;
        h.status = status;
        h.updated_at = now;
        let h = h.clone();
        self.emit_hold(Some(before), id);
        let key = (h.appointment_id, h.slot_start);
        if let Some(ids) = self.held.get_mut(&key) {
            ids.retain(|other| *other != id);
            if ids.is_empty() {
                self.held.remove(&key);
            }
        }
        if status != HoldStatus::Booked {
            self.add_seats(h.appointment_id, h.slot_start, -i64::from(h.seats.get()));
        }
        Some(h)
    }

    /// `Changed(Appointment)` unless the appointment exists with `revision`.
    fn current(&self, app: AppointmentId, revision: u64) -> Result<()> {
        if self
            .appointments
            .get(&app)
            .is_some_and(|a| a.revision == revision)
        {
            Ok(())
        } else {
            Err(Error::Changed(Entity::Appointment))
        }
    }

    /// Refuses `b` (a new booking, or one made of a hold) if the owner banned its email or an
    /// anti-scalping uniqueness that `claim` asks for is taken or its code is taken.
    fn check_booker(&self, b: &Booking, claim: SeatClaim) -> Result<()> {
        if self.bans.contains_key(&(claim.owner, b.email.mailbox())) {
            return Err(Error::Banned);
        }
        if self.booking_codes.contains_key(&b.code) {
            return Err(Error::Duplicate(Duplicate::Code));
        }
        if claim.unique_email
            && self
                .active_emails
                .contains_key(&(b.appointment_id, b.email.mailbox()))
        {
            return Err(Error::Duplicate(Duplicate::BookingEmail));
        }
        if claim.unique_device
            && let Some(d) = &b.device_id
            && self
                .active_devices
                .contains_key(&(b.appointment_id, d.clone()))
        {
            return Err(Error::Duplicate(Duplicate::BookingDevice));
        }
        Ok(())
    }

    /// Stores a new booking (active or pending) whose seats are already counted, with its claims.
    fn record_booking(&mut self, b: &Booking, claim: SeatClaim) {
        let app = b.appointment_id;
        if let Some(r) = claim.resource {
            self.occupy(r, app, b.slot_start, b.id);
        }
        if claim.unique_email {
            self.active_emails.insert((app, b.email.mailbox()), b.id);
        }
        if claim.unique_device
            && let Some(d) = &b.device_id
        {
            self.active_devices.insert((app, d.clone()), b.id);
        }
        let stored = b.clone();
        if stored.status == BookingStatus::Pending {
            self.pending
                .entry((app, b.slot_start))
                .or_default()
                .push(b.id);
        }
        self.booking_codes.insert(b.code.clone(), b.id);
        self.booking_order.push(b.id);
        self.bookings.insert(b.id, stored);
        self.emit_booking(None, b.id);
    }

    /// The claims on `key` that overlap `[start, until)`: (start, end, appointment, booking).
    fn resource_overlaps(
        &self,
        key: ResourceKey,
        range: Range<DateTime<Utc>>,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>, AppointmentId, BookingId)> + '_ {
        let earliest = range
            .start
            .checked_sub_signed(MAX_RESOURCE_CLAIM)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let lo = (earliest, BookingId(uuid::Uuid::nil()));
        let hi = (range.end, BookingId(uuid::Uuid::nil()));
        self.resources
            .get(&key)
            .into_iter()
            .flat_map(move |m| m.range(lo..hi))
            .filter(move |(_, (end, _))| *end > range.start)
            .map(|((start, id), (end, app))| (*start, *end, *app, *id))
    }

    /// Whether an active booking of an appointment other than `app` (and other than `me`)
    /// occupies the resource over part of `[start, claim.until)`.
    fn resource_taken(
        &self,
        claim: ResourceClaim,
        app: AppointmentId,
        start: DateTime<Utc>,
        me: BookingId,
    ) -> bool {
        self.resource_overlaps(claim.key, start..claim.until)
            .any(|(_, _, other_app, id)| other_app != app && id != me)
    }

    fn occupy(
        &mut self,
        claim: ResourceClaim,
        app: AppointmentId,
        start: DateTime<Utc>,
        id: BookingId,
    ) {
        self.resources
            .entry(claim.key)
            .or_default()
            .insert((start, id), (claim.until, app));
        self.booking_resources.insert(id, (claim.key, start));
    }

    /// Drops the anti-scalping and resource claims of a booking that stops being active.
    fn release_claims(&mut self, b: &Booking) {
        if let Some((key, start)) = self.booking_resources.remove(&b.id)
            && let Some(m) = self.resources.get_mut(&key)
        {
            m.remove(&(start, b.id));
        }
        let key = (b.appointment_id, b.email.mailbox());
        if self.active_emails.get(&key) == Some(&b.id) {
            self.active_emails.remove(&key);
        }
        if let Some(d) = &b.device_id {
            let key = (b.appointment_id, d.clone());
            if self.active_devices.get(&key) == Some(&b.id) {
                self.active_devices.remove(&key);
            }
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn insert_user(&self, user: &User) -> Result<()> {
        let mut g = self.inner.lock();
        if g.user_emails.contains_key(&user.email) {
            return Err(Error::Duplicate(Duplicate::UserEmail));
        }
        if let Some(p) = &user.phone
            && g.user_phones.contains_key(p)
        {
            return Err(Error::Duplicate(Duplicate::UserPhone));
        }
        g.user_emails.insert(user.email.clone(), user.id);
        if let Some(p) = &user.phone {
            g.user_phones.insert(p.clone(), user.id);
        }
        g.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.inner.lock().users.get(&id).cloned())
    }

    async fn mark_email_verified(
        &self,
        user: UserId,
        email: &Email,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let mut g = self.inner.lock();
        match g.users.get_mut(&user) {
            Some(u) if u.email == *email => {
                u.email_verified_at.get_or_insert(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let g = self.inner.lock();
        Ok(g.user_emails
            .get(email)
            .and_then(|id| g.users.get(id))
            .cloned())
    }

    async fn insert_appointment(&self, appointment: &Appointment) -> Result<()> {
        let mut g = self.inner.lock();
        if g.app_codes.contains_key(&appointment.code) {
            return Err(Error::Duplicate(Duplicate::Code));
        }
        g.app_codes.insert(appointment.code.clone(), appointment.id);
        g.app_order.push(appointment.id);
        g.app_owners.insert(appointment.id, appointment.owner);
        g.appointments.insert(appointment.id, appointment.clone());
        g.emit(Event::appointment(
            EventKind::AppointmentCreated,
            appointment,
            appointment.created_at,
        ));
        Ok(())
    }

    async fn update_appointment(&self, appointment: &Appointment) -> Result<bool> {
        let mut g = self.inner.lock();
        let stored = g
            .appointments
            .get_mut(&appointment.id)
            .ok_or(Error::NotFound(Entity::Appointment))?;
        if stored.revision.checked_add(1) != Some(appointment.revision) {
            return Ok(false);
        }
        let before = (stored.status, stored.revision);
        stored.revision = appointment.revision;
        stored.title.clone_from(&appointment.title);
        stored.description.clone_from(&appointment.description);
        stored.status = appointment.status;
        stored.schedule = appointment.schedule.clone();
        stored.resource.clone_from(&appointment.resource);
        stored.updated_at = appointment.updated_at;
        let after = stored.clone();
        if let Some(kind) =
            EventKind::of_appointment(Some(before), (after.status, after.revision), false)
        {
            g.emit(Event::appointment(kind, &after, after.updated_at));
        }
        Ok(true)
    }

    async fn delete_appointment(&self, id: AppointmentId, at: DateTime<Utc>) -> Result<()> {
        let mut g = self.inner.lock();
        let app = g
            .appointments
            .remove(&id)
            .ok_or(Error::NotFound(Entity::Appointment))?;
        g.app_codes.remove(&app.code);
        g.app_order.retain(|a| *a != id);
        g.emit(Event::appointment(EventKind::AppointmentDeleted, &app, at));
        Ok(())
    }

    async fn appointment_by_code(&self, code: &AppCode) -> Result<Option<Appointment>> {
        let g = self.inner.lock();
        Ok(g.app_codes
            .get(code)
            .and_then(|id| g.appointments.get(id))
            .cloned())
    }

    async fn appointment_by_id(&self, id: AppointmentId) -> Result<Option<Appointment>> {
        Ok(self.inner.lock().appointments.get(&id).cloned())
    }

    async fn appointments_by_owner(&self, owner: UserId, page: Page) -> Result<Paged<Appointment>> {
        let g = self.inner.lock();
        let all = g
            .app_order
            .iter()
            .rev()
            .filter_map(|id| g.appointments.get(id))
            .filter(|a| a.owner == owner)
            .collect();
        Ok(page_of(all, page))
    }

    async fn appointments_created(
        &self,
        owner: UserId,
        range: Range<DateTime<Utc>>,
    ) -> Result<Vec<Appointment>> {
        let g = self.inner.lock();
        Ok(g.app_order
            .iter()
            .filter_map(|id| g.appointments.get(id))
            .filter(|a| a.owner == owner && range.contains(&a.created_at))
            .cloned()
            .collect())
    }

    async fn resource_claims(
        &self,
        key: ResourceKey,
        except: AppointmentId,
        range: Range<DateTime<Utc>>,
    ) -> Result<Vec<Range<DateTime<Utc>>>> {
        let g = self.inner.lock();
        Ok(g.resource_overlaps(key, range)
            .filter(|(_, _, app, _)| *app != except)
            .map(|(start, end, _, _)| start..end)
            .collect())
    }

    async fn seats_taken(
        &self,
        appointment: AppointmentId,
        range: Range<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlotSeats>> {
        let g = self.inner.lock();
        Ok(g.seats
            .get(&appointment)
            .map(|m| {
                m.range(range)
                    .map(|(s, n)| SlotSeats {
                        slot_start: *s,
                        seats_taken: n.saturating_sub(g.expired_seats(appointment, *s, now)),
                    })
                    .filter(|s| s.seats_taken > 0)
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn insert_booking(&self, booking: &Booking, claim: SeatClaim) -> Result<()> {
        let mut g = self.inner.lock();
        let app = booking.appointment_id;
        g.current(app, claim.revision)?;
        g.check_booker(booking, claim)?;
        let n = booking.attendee_count.get();
        g.fits(
            app,
            booking.slot_start,
            n,
            claim.capacity,
            booking.created_at,
        )?;
        if let Some(r) = claim.resource
            && g.resource_taken(r, app, booking.slot_start, booking.id)
        {
            return Err(Error::SlotFull {
                requested: n,
                available: 0,
            });
        }
        g.add_seats(app, booking.slot_start, i64::from(n));
        g.record_booking(booking, claim);
        Ok(())
    }

    async fn move_booking(&self, id: BookingId, to: &BookingMove) -> Result<Option<Booking>> {
        let (new_start, new_count, capacity) =
            (to.slot_start, to.attendee_count.get(), to.claim.capacity);
        let mut g = self.inner.lock();
        let b = g
            .bookings
            .get(&id)
            .cloned()
            .ok_or(Error::NotFound(Entity::Booking))?;
        let from = b.status_at(to.now);
        if !from.holds_seats() {
            return Err(Error::InvalidTransition {
                from,
                action: "reschedule",
            });
        }
        // In the order the SQL stores decide: the ban, then whether it moved, then the
        // appointment's revision.
        if g.bans.contains_key(&(to.claim.owner, b.email.mailbox())) {
            return Err(Error::Banned);
        }
        if b.slot_start != to.from {
            return Ok(None);
        }
        let app = b.appointment_id;
        g.current(app, to.claim.revision)?;
        let email_key = (app, b.email.mailbox());
        if to.claim.unique_email
            && g.active_emails
                .get(&email_key)
                .is_some_and(|other| *other != id)
        {
            return Err(Error::Duplicate(Duplicate::BookingEmail));
        }
        let device_key = b.device_id.clone().map(|d| (app, d));
        if to.claim.unique_device
            && let Some(k) = &device_key
            && g.active_devices.get(k).is_some_and(|other| *other != id)
        {
            return Err(Error::Duplicate(Duplicate::BookingDevice));
        }
        g.reclaim_slot(app, new_start, to.now);
        let old = b.attendee_count.get();
        let taken_after_release = if b.slot_start == new_start {
            g.taken(app, new_start) - old
        } else {
            g.taken(app, new_start)
        };
        if u64::from(taken_after_release) + u64::from(new_count) > u64::from(capacity) {
            return Err(Error::SlotFull {
                requested: new_count,
                available: capacity.saturating_sub(taken_after_release),
            });
        }
        if let Some(r) = to.claim.resource
            && g.resource_taken(r, app, new_start, id)
        {
            return Err(Error::SlotFull {
                requested: new_count,
                available: 0,
            });
        }
        g.add_seats(app, b.slot_start, -i64::from(old));
        g.add_seats(app, new_start, i64::from(new_count));
        if b.slot_start != new_start {
            g.offer(app, b.slot_start, to.now);
        }
        g.release_claims(&b);
        if b.status == BookingStatus::Pending {
            g.unlist_pending(&b);
            g.pending.entry((app, new_start)).or_default().push(id);
        }
        if let Some(r) = to.claim.resource {
            g.occupy(r, app, new_start, id);
        }
        if to.claim.unique_email {
            g.active_emails.insert(email_key, id);
        }
        if to.claim.unique_device
            && let Some(k) = device_key
        {
            g.active_devices.insert(k, id);
        }
        let stored = g
            .bookings
            .get_mut(&id)
            .ok_or(Error::NotFound(Entity::Booking))?;
        stored.slot_start = new_start;
        stored.slot_end = to.slot_end;
        // A pending booking must still be decided by its slot's start.
        if stored.status == BookingStatus::Pending {
            stored.confirm_by = stored.confirm_by.map(|by| by.min(new_start));
        }
        stored.attendee_count = to.attendee_count;
        if let Some(d) = &to.description {
            stored.description.clone_from(d);
        }
        stored.updated_at = to.now;
        let moved = stored.clone();
        g.emit_booking(Some(&b), id);
        Ok(Some(moved))
    }

    async fn end_booking(&self, id: BookingId, end: BookingEnd) -> Result<Option<Booking>> {
        let mut g = self.inner.lock();
        let b = g
            .bookings
            .get(&id)
            .cloned()
            .ok_or(Error::NotFound(Entity::Booking))?;
        if !end.status.is_end() {
            return Err(crate::not_an_end());
        }
        let from = b.status_at(end.now);
        if !from.can_end_as(end.status) {
            return Err(Error::InvalidTransition {
                from,
                action: end.status.end_action(),
            });
        }
        if b.slot_start != end.slot_start {
            return Ok(None);
        }
        let ended = g
            .end_seats(id, end.status, end.now)
            .ok_or(Error::NotFound(Entity::Booking))?;
        g.offer(ended.appointment_id, ended.slot_start, end.now);
        Ok(Some(ended))
    }

    async fn confirm_booking(&self, id: BookingId, now: DateTime<Utc>) -> Result<Booking> {
        let mut g = self.inner.lock();
        let b = g
            .bookings
            .get(&id)
            .cloned()
            .ok_or(Error::NotFound(Entity::Booking))?;
        let from = b.status_at(now);
        if from != BookingStatus::Pending {
            return Err(Error::InvalidTransition {
                from,
                action: "confirm",
            });
        }
        g.unlist_pending(&b);
        let stored = g
            .bookings
            .get_mut(&id)
            .ok_or(Error::NotFound(Entity::Booking))?;
        stored.status = BookingStatus::Active;
        stored.updated_at = now;
        let confirmed = stored.clone();
        g.emit_booking(Some(&b), id);
        Ok(confirmed)
    }

    async fn reclaim_expired(&self, appointment: AppointmentId, now: DateTime<Utc>) -> Result<u64> {
        let mut g = self.inner.lock();
        let mut slots: Vec<DateTime<Utc>> = g
            .held
            .keys()
            .chain(g.pending.keys())
            .filter(|(app, _)| *app == appointment)
            .map(|(_, start)| *start)
            .collect();
        slots.sort();
        slots.dedup();
        Ok(slots
            .into_iter()
            .map(|start| g.reclaim_slot(appointment, start, now))
            .sum())
    }

    async fn appointments_with_expired(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AppointmentId>> {
        let g = self.inner.lock();
        // The held and pending indexes hold only what may still expire: no finished row is read.
        let holds = g
            .held
            .values()
            .flatten()
            .filter_map(|id| g.holds.get(id))
            .filter(|h| !h.is_live(now))
            .map(|h| (h.appointment_id, h.expires_at));
        let pending = g
            .pending
            .values()
            .flatten()
            .filter_map(|id| g.bookings.get(id))
            .filter(|b| b.status_at(now) == BookingStatus::Expired)
            .filter_map(|b| b.confirm_by.map(|by| (b.appointment_id, by)));
        let mut oldest: HashMap<AppointmentId, DateTime<Utc>> = HashMap::new();
        for (app, due) in holds.chain(pending) {
            oldest
                .entry(app)
                .and_modify(|d| *d = (*d).min(due))
                .or_insert(due);
        }
        let mut found: Vec<(DateTime<Utc>, AppointmentId)> =
            oldest.into_iter().map(|(app, due)| (due, app)).collect();
        found.sort();
        Ok(found
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(_, app)| app)
            .collect())
    }

    async fn insert_hold(&self, hold: &Hold, capacity: u32, revision: u64) -> Result<()> {
        let mut g = self.inner.lock();
        g.current(hold.appointment_id, revision)?;
        if g.hold_tokens.contains_key(&hold.token) {
            return Err(Error::Duplicate(Duplicate::Code));
        }
        let (app, start) = (hold.appointment_id, hold.slot_start);
        let n = hold.seats.get();
        g.fits(app, start, n, capacity, hold.created_at)?;
        let mut stored = hold.clone();
        stored.status = HoldStatus::Held;
        stored.booking_id = None;
        g.record_hold(stored);
        Ok(())
    }

    async fn book_hold(&self, hold: HoldId, booking: &Booking, claim: SeatClaim) -> Result<Hold> {
        let mut g = self.inner.lock();
        let h = g
            .holds
            .get(&hold)
            .cloned()
            .ok_or(Error::NotFound(Entity::Hold))?;
        let now = booking.created_at;
        // The booker first, then the hold, as the SQL stores decide.
        g.current(booking.appointment_id, claim.revision)?;
        g.check_booker(booking, claim)?;
        if h.status != HoldStatus::Held {
            return Err(Error::HoldEnded { status: h.status });
        }
        if !h.is_live(now) {
            return Err(Error::HoldEnded {
                status: HoldStatus::Expired,
            });
        }
        if booking.appointment_id != h.appointment_id
            || booking.slot_start != h.slot_start
            || booking.attendee_count != h.seats
        {
            return Err(Error::invalid(
                "hold_token",
                "the hold is for another appointment, slot or number of seats",
            ));
        }
        if let Some(r) = claim.resource
            && g.resource_taken(r, h.appointment_id, h.slot_start, booking.id)
        {
            return Err(Error::SlotFull {
                requested: h.seats.get(),
                available: 0,
            });
        }
        g.record_booking(booking, claim);
        if let Some(stored) = g.holds.get_mut(&hold) {
            stored.booking_id = Some(booking.id);
        }
        g.end_hold(hold, HoldStatus::Booked, now)
            .ok_or(Error::NotFound(Entity::Hold))
    }

    async fn release_hold(&self, hold: HoldId, now: DateTime<Utc>) -> Result<Hold> {
        let mut g = self.inner.lock();
        let h = g
            .holds
            .get(&hold)
            .cloned()
            .ok_or(Error::NotFound(Entity::Hold))?;
        match h.status {
            HoldStatus::Held => {
                let status = if h.is_live(now) {
                    HoldStatus::Released
                } else {
                    HoldStatus::Expired
                };
                let ended = g
                    .end_hold(hold, status, now)
                    .ok_or(Error::NotFound(Entity::Hold))?;
                g.offer(ended.appointment_id, ended.slot_start, now);
                Ok(ended)
            }
            HoldStatus::Booked => Err(Error::HoldEnded { status: h.status }),
            HoldStatus::Released | HoldStatus::Expired => Ok(h),
        }
    }

    async fn held_holds(&self, appointment: AppointmentId) -> Result<Vec<Hold>> {
        let g = self.inner.lock();
        let mut out: Vec<Hold> = g
            .held
            .iter()
            .filter(|((app, _), _)| *app == appointment)
            .flat_map(|(_, ids)| ids.iter().filter_map(|id| g.holds.get(id).cloned()))
            .collect();
        out.sort_by_key(|h| (h.slot_start, h.created_at));
        Ok(out)
    }

    async fn hold_by_token(&self, token: &HoldToken) -> Result<Option<Hold>> {
        let g = self.inner.lock();
        Ok(g.hold_tokens
            .get(token)
            .and_then(|id| g.holds.get(id))
            .cloned())
    }

    async fn hold_by_id(&self, id: HoldId) -> Result<Option<Hold>> {
        Ok(self.inner.lock().holds.get(&id).cloned())
    }

    async fn insert_waitlist(&self, entry: &WaitlistEntry, claim: SeatClaim) -> Result<u64> {
        let mut g = self.inner.lock();
        let (app, start, now) = (entry.appointment_id, entry.slot_start, entry.created_at);
        g.current(app, claim.revision)?;
        let mailbox = entry.email.mailbox();
        if g.bans.contains_key(&(claim.owner, mailbox.clone())) {
            return Err(Error::Banned);
        }
        if claim.unique_email {
            if g.active_emails.contains_key(&(app, mailbox.clone())) {
                return Err(Error::Duplicate(Duplicate::BookingEmail));
            }
            let waits = g.waitlist.values().any(|w| {
                w.appointment_id == app
                    && w.email.mailbox() == mailbox
                    && match w.status {
                        WaitlistStatus::Waiting => true,
                        WaitlistStatus::Offered => w
                            .hold_id
                            .and_then(|h| g.holds.get(&h))
                            .is_some_and(|h| h.is_live(now)),
                        _ => false,
                    }
            });
            if waits {
                return Err(Error::Duplicate(Duplicate::WaitlistEmail));
            }
        }
        if g.waitlist_codes.contains_key(&entry.code) {
            return Err(Error::Duplicate(Duplicate::Code));
        }
        g.reclaim_slot(app, start, now);
        let taken = g.taken(app, start);
        let n = entry.seats.get();
        if u64::from(taken) + u64::from(n) <= u64::from(claim.capacity) {
            return Err(appointment_core::store::seats_free(claim.capacity - taken));
        }
        let mut stored = entry.clone();
        stored.status = WaitlistStatus::Waiting;
        stored.hold_id = None;
        g.waitlist_codes.insert(entry.code.clone(), entry.id);
        g.waitlist.insert(entry.id, stored);
        g.emit_waitlist(None, entry.id);
        let line = g.waiting.entry((app, start)).or_default();
        line.push(entry.id);
        Ok(line.len() as u64)
    }

    async fn leave_waitlist(&self, id: WaitlistId, now: DateTime<Utc>) -> Result<WaitlistEntry> {
        let mut g = self.inner.lock();
        let w = g
            .waitlist
            .get(&id)
            .cloned()
            .ok_or(Error::NotFound(Entity::WaitlistEntry))?;
        match (w.status, w.hold_id) {
            (WaitlistStatus::Waiting, _) => g.unlist_waiting(w.appointment_id, w.slot_start, id),
            (WaitlistStatus::Offered, Some(hold))
                if g.holds.get(&hold).is_some_and(|h| h.is_live(now)) =>
            {
                g.end_hold(hold, HoldStatus::Released, now);
                g.offer(w.appointment_id, w.slot_start, now);
            }
            _ => return Ok(w),
        }
        let stored = g
            .waitlist
            .get_mut(&id)
            .ok_or(Error::NotFound(Entity::WaitlistEntry))?;
        let before = stored.status;
        stored.status = WaitlistStatus::Left;
        stored.updated_at = now;
        let left = stored.clone();
        g.emit_waitlist(Some(before), id);
        Ok(left)
    }

    async fn waitlist_by_code(&self, code: &WaitlistCode) -> Result<Option<WaitlistEntry>> {
        let g = self.inner.lock();
        Ok(g.waitlist_codes
            .get(code)
            .and_then(|id| g.waitlist.get(id))
            .cloned())
    }

    async fn waitlist_position(&self, entry: &WaitlistEntry) -> Result<u64> {
        let g = self.inner.lock();
        let line = g.waiting.get(&(entry.appointment_id, entry.slot_start));
        Ok(line
            .and_then(|l| l.iter().position(|id| *id == entry.id))
            .map_or(0, |i| i as u64 + 1))
    }

    async fn booking_by_code(&self, code: &BookingCode) -> Result<Option<Booking>> {
        let g = self.inner.lock();
        Ok(g.booking_codes
            .get(code)
            .and_then(|id| g.bookings.get(id))
            .cloned())
    }

    async fn bookings_for_appointment(
        &self,
        appointment: AppointmentId,
        page: Page,
    ) -> Result<Paged<Booking>> {
        let g = self.inner.lock();
        let all = g
            .booking_order
            .iter()
            .filter_map(|id| g.bookings.get(id))
            .filter(|b| b.appointment_id == appointment)
            .collect();
        Ok(page_of(all, page))
    }

    async fn bookings_for_user(&self, user: UserId, page: Page) -> Result<Paged<Booking>> {
        let g = self.inner.lock();
        let mut all: Vec<&Booking> = g
            .booking_order
            .iter()
            .filter_map(|id| g.bookings.get(id))
            .filter(|b| b.user_id == Some(user))
            .collect();
        all.sort_by_key(|b| std::cmp::Reverse(b.slot_start));
        Ok(page_of(all, page))
    }

    async fn booking_stats(
        &self,
        owner: UserId,
        range: Range<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<BookingStats> {
        let g = self.inner.lock();
        let mut stats = BookingStats::default();
        for b in g.bookings.values() {
            let owned = g
                .appointments
                .get(&b.appointment_id)
                .is_some_and(|a| a.owner == owner);
            if !owned || !range.contains(&b.slot_start) {
                continue;
            }
            stats.add(b.status_at(now), 1, u64::from(b.attendee_count.get()));
        }
        stats.seats_held = g
            .held
            .values()
            .flatten()
            .filter_map(|id| g.holds.get(id))
            .filter(|h| h.is_live(now) && range.contains(&h.slot_start))
            .filter(|h| {
                g.appointments
                    .get(&h.appointment_id)
                    .is_some_and(|a| a.owner == owner)
            })
            .map(|h| u64::from(h.seats.get()))
            .sum();
        Ok(stats)
    }

    async fn events_after(
        &self,
        owner: Option<UserId>,
        after: EventCursor,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let g = self.inner.lock();
        let from = g.events.partition_point(|e| e.cursor <= after);
        Ok(g.events[from..]
            .iter()
            .filter(|e| owner.is_none_or(|o| e.owner == o))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn insert_ban(&self, ban: &Ban) -> Result<()> {
        let mut g = self.inner.lock();
        let key = (ban.owner, ban.email.mailbox());
        if g.bans.contains_key(&key) {
            return Err(Error::Duplicate(Duplicate::Ban));
        }
        g.bans.insert(key, ban.clone());
        Ok(())
    }

    async fn delete_ban(&self, owner: UserId, email: &Email) -> Result<bool> {
        Ok(self
            .inner
            .lock()
            .bans
            .remove(&(owner, email.mailbox()))
            .is_some())
    }

    async fn bans(&self, owner: UserId) -> Result<Vec<Ban>> {
        let g = self.inner.lock();
        let mut v: Vec<Ban> = g
            .bans
            .values()
            .filter(|b| b.owner == owner)
            .cloned()
            .collect();
        v.sort_by_key(|b| b.created_at);
        Ok(v)
    }
}

#[async_trait]
impl ServiceStore for MemoryStore {
    async fn ping(&self) -> Result<()> {
        Ok(())
    }

    async fn revoke_token(&self, jti: &str, expires_at: DateTime<Utc>) -> Result<()> {
        let mut g = self.inner.lock();
        let now = Utc::now().trunc_subsecs(6);
        g.revoked_tokens.retain(|_, exp| *exp > now);
        g.revoked_tokens.insert(jti.to_owned(), expires_at);
        Ok(())
    }

    async fn is_token_revoked(&self, jti: &str) -> Result<bool> {
        Ok(self.inner.lock().revoked_tokens.contains_key(jti))
    }

    async fn claim_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
        expire_before: DateTime<Utc>,
        lease_before: DateTime<Utc>,
    ) -> Result<IdempotencyClaim> {
        let mut g = self.inner.lock();
        g.idempotency.retain(|_, r| {
            r.created_at >= expire_before && (r.answer.is_some() || r.created_at >= lease_before)
        });
        if let Some(r) = g.idempotency.get(key) {
            return Ok(match &r.answer {
                None => IdempotencyClaim::InProgress {
                    request_hash: r.request_hash.clone(),
                },
                Some((status, body)) => IdempotencyClaim::Completed {
                    request_hash: r.request_hash.clone(),
                    status: *status,
                    body: body.clone(),
                },
            });
        }
        g.idempotency.insert(
            key.to_owned(),
            IdempotencyRecord {
                request_hash: request_hash.to_owned(),
                created_at: now,
                answer: None,
            },
        );
        Ok(IdempotencyClaim::Claimed)
    }

    async fn complete_idempotency_key(&self, key: &str, status: u16, body: &str) -> Result<()> {
        if let Some(r) = self.inner.lock().idempotency.get_mut(key) {
            r.answer = Some((status, body.to_owned()));
        }
        Ok(())
    }

    async fn release_idempotency_key(&self, key: &str) -> Result<()> {
        let mut g = self.inner.lock();
        if g.idempotency.get(key).is_some_and(|r| r.answer.is_none()) {
            g.idempotency.remove(key);
        }
        Ok(())
    }
}

#[async_trait]
impl CalendarFeedStore for MemoryStore {
    async fn set_calendar_feed(
        &self,
        owner: UserId,
        token_hash: &str,
        _now: DateTime<Utc>,
    ) -> Result<()> {
        self.inner
            .lock()
            .calendar_feeds
            .insert(owner, token_hash.to_owned());
        Ok(())
    }

    async fn delete_calendar_feed(&self, owner: UserId) -> Result<bool> {
        Ok(self.inner.lock().calendar_feeds.remove(&owner).is_some())
    }

    async fn calendar_feed_owner(&self, token_hash: &str) -> Result<Option<UserId>> {
        let g = self.inner.lock();
        Ok(g.calendar_feeds
            .iter()
            .find(|(_, hash)| hash.as_str() == token_hash)
            .map(|(owner, _)| *owner))
    }

    async fn calendar_feed_bookings(
        &self,
        owner: UserId,
        ends_from: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<FeedBooking>> {
        let g = self.inner.lock();
        let mut out: Vec<FeedBooking> = g
            .bookings
            .values()
            .filter(|b| {
                b.slot_end >= ends_from
                    && matches!(
                        b.status_at(now),
                        BookingStatus::Active | BookingStatus::Pending
                    )
            })
            .filter_map(|b| {
                let app = g.appointments.get(&b.appointment_id)?;
                (app.owner == owner).then(|| FeedBooking {
                    booking: b.clone(),
                    title: app.title.clone(),
                })
            })
            .collect();
        out.sort_by_key(|f| (f.booking.slot_start, f.booking.id.0));
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(out)
    }
}

#[async_trait]
impl WebhookStore for MemoryStore {
    async fn insert_webhook(&self, endpoint: &WebhookEndpoint) -> Result<()> {
        self.inner.lock().webhooks.push(endpoint.clone());
        Ok(())
    }

    async fn webhooks(&self, owner: UserId) -> Result<Vec<WebhookEndpoint>> {
        let g = self.inner.lock();
        Ok(g.webhooks
            .iter()
            .filter(|e| e.owner == owner)
            .cloned()
            .collect())
    }

    async fn webhook(&self, owner: UserId, id: uuid::Uuid) -> Result<Option<WebhookEndpoint>> {
        let g = self.inner.lock();
        Ok(g.webhooks
            .iter()
            .find(|e| e.owner == owner && e.id == id)
            .cloned())
    }

    async fn update_webhook(&self, endpoint: &WebhookEndpoint) -> Result<bool> {
        let mut g = self.inner.lock();
        let Some(stored) = g
            .webhooks
            .iter_mut()
            .find(|e| e.owner == endpoint.owner && e.id == endpoint.id)
        else {
            return Ok(false);
        };
        let created_at = stored.created_at;
        *stored = endpoint.clone();
        stored.created_at = created_at;
        Ok(true)
    }

    async fn delete_webhook(&self, owner: UserId, id: uuid::Uuid) -> Result<bool> {
        let mut g = self.inner.lock();
        let before = g.webhooks.len();
        g.webhooks.retain(|e| !(e.owner == owner && e.id == id));
        if g.webhooks.len() == before {
            return Ok(false);
        }
        g.deliveries.retain(|d| d.new.endpoint_id != id);
        Ok(true)
    }

    async fn webhook_cursor(&self) -> Result<EventCursor> {
        Ok(self.inner.lock().webhook_cursor)
    }

    async fn enqueue_deliveries(
        &self,
        from: EventCursor,
        to: EventCursor,
        deliveries: &[NewDelivery],
    ) -> Result<bool> {
        let mut g = self.inner.lock();
        if g.webhook_cursor != from {
            return Ok(false);
        }
        g.webhook_cursor = to;
        for d in deliveries {
            g.add_delivery(d);
        }
        Ok(true)
    }

    async fn insert_delivery(&self, delivery: &NewDelivery) -> Result<()> {
        self.inner.lock().add_delivery(delivery);
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>> {
        let mut g = self.inner.lock();
        let Inner {
            deliveries,
            webhooks,
            ..
        } = &mut *g;
        let mut out = Vec::new();
        // (endpoint, subject) pairs with an earlier pending delivery: later ones wait.
        let mut waiting: std::collections::HashSet<(uuid::Uuid, uuid::Uuid)> =
            std::collections::HashSet::new();
        for d in deliveries.iter_mut() {
            if out.len() >= limit as usize {
                break;
            }
            if d.status != DeliveryStatus::Pending {
                continue;
            }
            let key = (d.new.endpoint_id, d.new.subject_id);
            if !waiting.insert(key) {
                continue;
            }
            let due = d.next_attempt_at <= now && d.locked_until.is_none_or(|l| l <= now);
            let Some(e) = webhooks
                .iter()
                .find(|e| e.id == d.new.endpoint_id && e.enabled)
            else {
                continue;
            };
            if !due {
                continue;
            }
            d.attempts += 1;
            d.locked_until = Some(lease_until);
            out.push(DueDelivery {
                id: d.new.id,
                endpoint_id: e.id,
                url: e.url.clone(),
                secret: e.secret.clone(),
                event_id: d.new.event_id,
                event_type: d.new.event_type.clone(),
                payload: d.new.payload.clone(),
                attempt: d.attempts,
            });
        }
        Ok(out)
    }

    async fn finish_delivery(
        &self,
        id: uuid::Uuid,
        attempt: u32,
        outcome: &DeliveryAttempt,
    ) -> Result<()> {
        let mut g = self.inner.lock();
        let Some(d) = g.deliveries.iter_mut().find(|d| {
            d.new.id == id && d.attempts == attempt && d.status == DeliveryStatus::Pending
        }) else {
            return Ok(());
        };
        d.status = outcome.status;
        if let Some(next) = outcome.next_attempt_at {
            d.next_attempt_at = next;
        }
        d.locked_until = None;
        d.last = Some(outcome.clone());
        let endpoint = d.new.endpoint_id;
        if let Some(e) = g.webhooks.iter_mut().find(|e| e.id == endpoint) {
            match outcome.status {
                DeliveryStatus::Failed => {
                    e.failing_since = e.failing_since.or(Some(outcome.at));
                    e.last_error.clone_from(&outcome.error);
                }
                DeliveryStatus::Delivered => e.failing_since = None,
                DeliveryStatus::Pending => {}
            }
        }
        Ok(())
    }

    async fn deliveries(&self, endpoint: uuid::Uuid, page: Page) -> Result<Paged<DeliveryRecord>> {
        let g = self.inner.lock();
        let records: Vec<DeliveryRecord> = g
            .deliveries
            .iter()
            .rev()
            .filter(|d| d.new.endpoint_id == endpoint)
            .map(|d| DeliveryRecord {
                id: d.new.id,
                event_id: d.new.event_id,
                event_type: d.new.event_type.clone(),
                status: d.status,
                attempts: d.attempts,
                next_attempt_at: Some(d.next_attempt_at)
                    .filter(|_| d.status == DeliveryStatus::Pending),
                last_status_code: d.last.as_ref().and_then(|a| a.status_code),
                last_error: d.last.as_ref().and_then(|a| a.error.clone()),
                last_latency_ms: d.last.as_ref().map(|a| a.latency_ms),
                last_attempt_at: d.last.as_ref().map(|a| a.at),
                created_at: d.new.created_at,
            })
            .collect();
        Ok(page_of(records.iter().collect(), page))
    }

    async fn prune_before(&self, before: DateTime<Utc>) -> Result<(u64, u64)> {
        let mut g = self.inner.lock();
        // Both readers of the outbox must be done with an event.
        let cursor = g.webhook_cursor.min(g.mail_cursor);
        let events = g.events.len();
        g.events.retain(|e| !(e.at < before && e.cursor <= cursor));
        let deliveries = g.deliveries.len();
        g.deliveries
            .retain(|d| d.status == DeliveryStatus::Pending || d.new.created_at >= before);
        Ok((
            (events - g.events.len()) as u64,
            (deliveries - g.deliveries.len()) as u64,
        ))
    }

    async fn delivery_backlog(&self) -> Result<(u64, Option<DateTime<Utc>>)> {
        let g = self.inner.lock();
        let pending = g
            .deliveries
            .iter()
            .filter(|d| d.status == DeliveryStatus::Pending);
        Ok((
            pending.clone().count() as u64,
            pending.map(|d| d.new.created_at).min(),
        ))
    }
}

#[async_trait]
impl MailStore for MemoryStore {
    async fn mail_cursor(&self) -> Result<EventCursor> {
        Ok(self.inner.lock().mail_cursor)
    }

    async fn enqueue_mail(
        &self,
        from: EventCursor,
        to: EventCursor,
        mails: &[NewMail],
    ) -> Result<bool> {
        let mut g = self.inner.lock();
        if g.mail_cursor != from {
            return Ok(false);
        }
        g.mail_cursor = to;
        for m in mails {
            g.add_mail(m);
        }
        Ok(true)
    }

    async fn insert_mail(&self, mail: &NewMail) -> Result<bool> {
        Ok(self.inner.lock().add_mail(mail))
    }

    async fn claim_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueMail>> {
        let mut g = self.inner.lock();
        // (recipient, subject) pairs that wait: one of their messages is leased, or an earlier
        // one is in the queue (it was due once).
        let mut waiting: std::collections::HashSet<(String, uuid::Uuid)> = g
            .mail
            .iter()
            .filter(|m| m.status == MailStatus::Pending && m.locked_until.is_some_and(|l| l > now))
            .map(|m| (m.new.recipient.clone(), m.new.subject_id))
            .collect();
        let mut out = Vec::new();
        for m in g.mail.iter_mut() {
            if out.len() >= limit as usize {
                break;
            }
            let queued = m.attempts > 0 || m.next_attempt_at <= now;
            if m.status != MailStatus::Pending || !queued {
                continue;
            }
            if !waiting.insert((m.new.recipient.clone(), m.new.subject_id)) {
                continue;
            }
            if m.next_attempt_at > now {
                continue;
            }
            m.attempts += 1;
            m.locked_until = Some(lease_until);
            out.push(DueMail {
                id: m.new.id,
                key: m.new.key,
                role: m.new.role.clone(),
                kind: m.new.kind.clone(),
                recipient: m.new.recipient.clone(),
                message: m.new.message.clone(),
                attempt: m.attempts,
            });
        }
        Ok(out)
    }

    async fn finish_mail(&self, id: uuid::Uuid, attempt: u32, outcome: &MailAttempt) -> Result<()> {
        let mut g = self.inner.lock();
        if let Some(m) = g
            .mail
            .iter_mut()
            .find(|m| m.new.id == id && m.attempts == attempt && m.status == MailStatus::Pending)
        {
            m.status = outcome.status;
            if let Some(next) = outcome.next_attempt_at {
                m.next_attempt_at = next;
            }
            m.locked_until = None;
            m.last_error.clone_from(&outcome.error);
        }
        Ok(())
    }

    async fn mail_for(&self, key: uuid::Uuid) -> Result<Vec<MailRecord>> {
        let g = self.inner.lock();
        Ok(g.mail
            .iter()
            .filter(|m| m.new.key == key)
            .map(|m| MailRecord {
                id: m.new.id,
                key: m.new.key,
                role: m.new.role.clone(),
                kind: m.new.kind.clone(),
                recipient: m.new.recipient.clone(),
                status: m.status,
                attempts: m.attempts,
                next_attempt_at: Some(m.next_attempt_at)
                    .filter(|_| m.status == MailStatus::Pending),
                last_error: m.last_error.clone(),
                created_at: m.new.created_at,
            })
            .collect())
    }

    async fn mail_backlog(&self, now: DateTime<Utc>) -> Result<(u64, Option<DateTime<Utc>>)> {
        let g = self.inner.lock();
        let due = g
            .mail
            .iter()
            .filter(|m| m.status == MailStatus::Pending && m.next_attempt_at <= now);
        Ok((
            due.clone().count() as u64,
            due.map(|m| m.next_attempt_at).min(),
        ))
    }

    async fn prune_mail_before(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut g = self.inner.lock();
        let n = g.mail.len();
        g.mail
            .retain(|m| m.status == MailStatus::Pending || m.new.created_at >= before);
        Ok((n - g.mail.len()) as u64)
    }
}
