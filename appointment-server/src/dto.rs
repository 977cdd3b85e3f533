//! The JSON shapes of the API, with the original service's field names, and their conversions
//! from and to the engine's types. Instants are RFC 3339 in UTC.

use appointment_core::{
    Appointment, AvailableSlot, Ban, Booking, Closure, Page, TimeWindow, TimeZoneName, User,
    Weekdays, WeeklyHours,
};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// An instant as RFC 3339 in UTC with seconds (`2025-01-15T09:00:00Z`).
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// When a record was created or last changed, to the microsecond the stores keep (fractional
/// digits only when there are any, as the original's Go timestamps): two changes within one
/// second stay apart.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A date as the original service wrote dates: midnight UTC of that date.
pub fn date_string(d: NaiveDate) -> String {
    rfc3339(d.and_time(NaiveTime::MIN).and_utc())
}

/// Parses an RFC 3339 instant.
pub fn parse_instant(field: &str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 date-time"))
}

/// Parses a date: `YYYY-MM-DD`, or an RFC 3339 date-time whose date (as written) is taken.
pub fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, ApiError> {
    let raw = raw.trim();
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(d);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.naive_local().date());
    }
    if let Ok(t) = raw.parse::<NaiveDateTime>() {
        return Ok(t.date());
    }
    Err(ApiError::invalid(
        field,
        "must be a date (YYYY-MM-DD) or an RFC 3339 date-time",
    ))
}

/// Parses a wall-clock time of day in the appointment's `zone`: `HH:MM[:SS]`, a date-time
/// without offset, or an RFC 3339 date-time. In the last form, `Z` (or `+00:00`) means the time
/// as written, as the original service's requests send it; any other offset must be the zone's
/// own offset at that date and time (`09:00:00+01:00` is 09:00 in Berlin in January), and is
/// refused otherwise rather than silently reinterpreted.
pub fn parse_wall_time(field: &str, raw: &str, zone: TimeZoneName) -> Result<NaiveTime, ApiError> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::<FixedOffset>::parse_from_rfc3339(raw) {
        let written = t.offset().local_minus_utc();
        if written != 0 {
            use chrono::{Offset, TimeZone};
            let local = t.naive_local();
            // Either offset of a repeated hour (autumn) is the zone's.
            let fits = match zone.tz().offset_from_local_datetime(&local) {
                chrono::LocalResult::Single(o) => o.fix().local_minus_utc() == written,
                chrono::LocalResult::Ambiguous(a, b) => {
                    a.fix().local_minus_utc() == written || b.fix().local_minus_utc() == written
                }
                chrono::LocalResult::None => false,
            };
            if !fits {
                return Err(ApiError::invalid(
                    field,
                    format!(
                        "the offset {} is not the offset of {} at {local}; send the wall-clock \
                         time (HH:MM, or a date-time with Z or without an offset)",
                        t.offset(),
                        zone.name()
                    ),
                ));
            }
        }
        return Ok(t.naive_local().time());
    }
    if let Ok(t) = raw.parse::<NaiveDateTime>() {
        return Ok(t.time());
    }
    if let Ok(t) = NaiveTime::parse_from_str(raw, "%H:%M:%S") {
        return Ok(t);
    }
    if let Ok(t) = NaiveTime::parse_from_str(raw, "%H:%M") {
        return Ok(t);
    }
    Err(ApiError::invalid(
        field,
        "must be an RFC 3339 date-time or a time of day (HH:MM)",
    ))
}

// ------------------------------------------------------------------------------------ users

/// `POST /users`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UserRequest {
    /// Display name (at least 2 characters).
    pub name: String,
    /// Email, unique among users; normalised (NFKC, lower case, ASCII domain) and refused if it
    /// holds invisible characters, a quoted local part or an address literal.
    pub email: String,
    /// At least 8 characters and at most 72 bytes of UTF-8 (what bcrypt reads).
    pub password: String,
    /// Phone number (optional).
    #[serde(default)]
    pub phone_number: Option<String>,
    /// Accepted as a synonym of `phone_number`.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A user as shown to clients (never the password hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    /// The user's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Phone number, empty if none.
    pub phone_number: String,
    /// Creation time.
    pub created_at: String,
    /// Last update.
    pub updated_at: String,
    /// Whether the user proved they receive mail at `email` (the link mailed at registration,
    /// or `POST /users/me/verify-email` for a new one).
    pub email_verified: bool,
}

impl From<&User> for UserResponse {
    fn from(u: &User) -> Self {
        UserResponse {
            id: u.id.to_string(),
            name: u.name.to_string(),
            email: u.email.to_string(),
            phone_number: u
                .phone
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            created_at: timestamp(u.created_at),
            updated_at: timestamp(u.email_verified_at.unwrap_or(u.created_at)),
            email_verified: u.email_verified_at.is_some(),
        }
    }
}

/// `POST /login`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
}

/// A session token and its user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// A bearer token, valid 24 hours.
    pub token: String,
    /// The user.
    pub user: UserResponse,
}

/// `POST /auth/device-token`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DeviceTokenRequest {
    /// A stable identifier of the device: 1 to 128 ASCII letters, digits and `-_.:+/=`; trimmed
    /// and lower-cased.
    pub device_id: String,
}

/// A device token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceTokenResponse {
    /// Send it as `X-Device-Token` (or `device_token` in a booking body) with a registered
    /// booking of the user it was issued to; valid 10 minutes.
    pub device_token: String,
    /// When it expires.
    pub expires_at: String,
}

/// A message.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageResponse {
    /// What happened.
    pub message: String,
}

impl MessageResponse {
    /// A message.
    pub fn new(m: impl Into<String>) -> Self {
        MessageResponse { message: m.into() }
    }
}

// ----------------------------------------------------------------------------- appointments

/// The hours of a typical week: for each day, its windows of wall-clock time (`HH:MM-HH:MM`, in
/// order, not overlapping; `24:00` may end a window). A day left out or empty is closed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHoursDto {
    /// Monday.
    #[serde(default)]
    #[schema(example = json!(["09:00-12:00", "13:00-17:30"]))]
    pub mon: Vec<String>,
    /// Tuesday.
    #[serde(default)]
    pub tue: Vec<String>,
    /// Wednesday.
    #[serde(default)]
    pub wed: Vec<String>,
    /// Thursday.
    #[serde(default)]
    pub thu: Vec<String>,
    /// Friday.
    #[serde(default)]
    pub fri: Vec<String>,
    /// Saturday.
    #[serde(default)]
    #[schema(example = json!(["10:00-14:00"]))]
    pub sat: Vec<String>,
    /// Sunday.
    #[serde(default)]
    pub sun: Vec<String>,
}

impl WeeklyHoursDto {
    fn days(&self) -> [(chrono::Weekday, &Vec<String>); 7] {
        use chrono::Weekday::*;
        [
            (Mon, &self.mon),
            (Tue, &self.tue),
            (Wed, &self.wed),
            (Thu, &self.thu),
            (Fri, &self.fri),
            (Sat, &self.sat),
            (Sun, &self.sun),
        ]
    }

    fn to_core(&self) -> Result<WeeklyHours, ApiError> {
        let mut week = WeeklyHours::closed();
        for (day, windows) in self.days() {
            week = week.with_day(day, windows_of("weekly_hours", windows)?)?;
        }
        Ok(week)
    }

    fn of(week: &WeeklyHours) -> Self {
        let list = |d| week.day(d).iter().map(ToString::to_string).collect();
        use chrono::Weekday::*;
        WeeklyHoursDto {
            mon: list(Mon),
            tue: list(Tue),
            wed: list(Wed),
            thu: list(Thu),
            fri: list(Fri),
            sat: list(Sat),
            sun: list(Sun),
        }
    }
}

fn windows_of(field: &'static str, raw: &[String]) -> Result<Vec<TimeWindow>, ApiError> {
    raw.iter()
        .map(|w| {
            w.parse::<TimeWindow>().map_err(|_| {
                ApiError::invalid(
                    field,
                    format!("{w:?} is not a window like 09:00-17:00 (24:00 may end one)"),
                )
            })
        })
        .collect()
}

/// A date whose hours differ from its weekday's.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DateOverrideDto {
    /// The local date.
    #[schema(example = "2030-12-24")]
    pub date: String,
    /// Its windows (`HH:MM-HH:MM`); empty closes the date.
    #[schema(example = json!(["09:00-12:00"]))]
    pub hours: Vec<String>,
}

/// Local dates with no slots at all: a holiday, a vacation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosureDto {
    /// First closed date.
    #[schema(example = "2030-08-05")]
    pub from: String,
    /// Last closed date (inclusive).
    #[schema(example = "2030-08-18")]
    pub to: String,
    /// What it is, shown to clients (optional, up to 200 characters).
    #[serde(default)]
    #[schema(example = "Summer holidays")]
    pub label: Option<String>,
}

/// `POST /appointments`. Opening hours are either the original service's one daily window (the
/// time of day of `start_time` and `end_time`) or `weekly_hours`, read as wall-clock time in
/// `timezone`; `overrides` and `closures` change given dates. Slots run on the dates from
/// `start_date` to `end_date` that have hours.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AppointmentRequest {
    /// Title.
    pub title: String,
    /// Start of the daily window (its time of day is used); required unless `weekly_hours`.
    #[serde(default)]
    #[schema(example = "2030-01-15T09:00:00Z")]
    pub start_time: Option<String>,
    /// End of the daily window (its time of day is used); required unless `weekly_hours`.
    #[serde(default)]
    #[schema(example = "2030-01-15T17:00:00Z")]
    pub end_time: Option<String>,
    /// The hours of a typical week, instead of `start_time` and `end_time`.
    #[serde(default)]
    pub weekly_hours: Option<WeeklyHoursDto>,
    /// Dates with hours of their own (at most 1000).
    #[serde(default)]
    pub overrides: Option<Vec<DateOverrideDto>>,
    /// Closed date ranges (at most 1000).
    #[serde(default)]
    pub closures: Option<Vec<ClosureDto>>,
    /// First date.
    #[schema(example = "2030-01-15T00:00:00Z")]
    pub start_date: String,
    /// Last date (inclusive).
    #[schema(example = "2030-01-20T00:00:00Z")]
    pub end_date: String,
    /// Slot length in minutes.
    pub booking_duration: u32,
    /// `single`, `group` or `party`.
    #[serde(rename = "type")]
    #[schema(example = "single")]
    pub kind: String,
    /// Seats per slot (group) or of the event (party); single appointments have 1.
    #[serde(default)]
    pub max_attendees: Option<u32>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// `none` (default), `standard` (one active booking per mailbox: `+tag` aliases count as one)
    /// or `strict` (registered users only, each with a device token: one active booking per user
    /// and per device).
    #[serde(default)]
    pub anti_scalping_level: Option<String>,
    /// IANA time zone of the window (default `UTC`).
    #[serde(default)]
    #[schema(example = "Europe/Berlin")]
    pub timezone: Option<String>,
    /// Days with slots (default all), e.g. `["mon","tue","wed","thu","fri"]`.
    #[serde(default)]
    pub weekdays: Option<Vec<String>>,
    /// Minutes between slots (default 0).
    #[serde(default)]
    pub buffer_minutes: Option<u32>,
    /// A slot can be booked only this many minutes ahead (default 0).
    #[serde(default)]
    pub min_notice_minutes: Option<u32>,
    /// Cancellation policy: guests cannot cancel or reschedule a booking less than this many
    /// minutes before its slot (default 0: until the slot starts; at most a year). The owner
    /// can.
    #[serde(default)]
    pub cancel_cutoff_minutes: Option<u32>,
    /// How long a hold of seats (`POST /holds`) lasts, in minutes: 1 to 120 (default 10).
    #[serde(default)]
    pub hold_minutes: Option<u32>,
    /// Approval: bookings start `pending` and hold their seats until the owner confirms
    /// (`POST /bookings/{code}/confirm`) or declines them, for at most this many minutes (1 to
    /// 43200, and never past the slot's start), after which they expire. Absent or `null`
    /// (default): bookings are active at once. Not with a `resource`.
    #[serde(default)]
    #[schema(example = 1440)]
    pub confirm_within_minutes: Option<u32>,
    /// Slots more than this many days ahead cannot be booked yet (default: no limit).
    #[serde(default)]
    pub horizon_days: Option<u32>,
    /// A resource (person, room, chair: 1 to 100 characters, case does not matter) that the
    /// owner's appointments naming it share: a booking of one makes the overlapping slots of the
    /// others unavailable, buffers included.
    #[serde(default)]
    #[schema(example = "Chair 1")]
    pub resource: Option<String>,
}

/// A resource name from the wire: `None` for absent or blank.
fn resource_of(raw: Option<&str>) -> Result<Option<appointment_core::ResourceName>, ApiError> {
    Ok(raw
        .filter(|r| !r.trim().is_empty())
        .map(appointment_core::ResourceName::parse)
        .transpose()?)
}

impl AppointmentRequest {
    /// The engine's request.
    pub fn into_new(self) -> Result<appointment_core::NewAppointment, ApiError> {
        let start_date = parse_date("start_date", &self.start_date)?;
        let end_date = parse_date("end_date", &self.end_date)?;
        let kind = self.kind.parse()?;
        let anti_scalping = match self.anti_scalping_level.as_deref() {
            None | Some("") => appointment_core::AntiScalping::None,
            Some(s) => s.parse()?,
        };
        let mut b = match (&self.weekly_hours, &self.start_time, &self.end_time) {
            (Some(week), None, None) => appointment_core::Schedule::weekly(
                start_date,
                end_date,
                week.to_core()?,
                self.booking_duration,
            ),
            (Some(_), _, _) => {
                return Err(ApiError::invalid(
                    "weekly_hours",
                    "give either weekly_hours or start_time and end_time, not both",
                ));
            }
            (None, start, end) => {
                let zone = match self.timezone.as_deref().filter(|s| !s.trim().is_empty()) {
                    Some(tz) => TimeZoneName::parse(tz)?,
                    None => TimeZoneName::UTC,
                };
                let required = |field: &'static str, v: &Option<String>| {
                    v.as_deref()
                        .map(|raw| parse_wall_time(field, raw, zone))
                        .unwrap_or_else(|| {
                            Err(ApiError::invalid(
                                field,
                                "is required (or give weekly_hours instead)",
                            ))
                        })
                };
                appointment_core::Schedule::builder(
                    start_date,
                    end_date,
                    required("start_time", start)?,
                    required("end_time", end)?,
                    self.booking_duration,
                )
            }
        };
        for o in self.overrides.iter().flatten() {
            b = b.override_date(
                parse_date("overrides", &o.date)?,
                windows_of("overrides", &o.hours)?,
            );
        }
        for c in self.closures.iter().flatten() {
            b = b.closure(Closure::new(
                parse_date("closures", &c.from)?,
                parse_date("closures", &c.to)?,
                c.label.clone(),
            )?);
        }
        if let Some(tz) = self.timezone.as_deref().filter(|s| !s.trim().is_empty()) {
            b = b.time_zone(TimeZoneName::parse(tz)?);
        }
        if let Some(days) = &self.weekdays {
            b = b.weekdays(days.join(",").parse::<Weekdays>()?);
        }
        if let Some(m) = self.buffer_minutes {
            b = b.buffer_minutes(m);
        }
        if let Some(m) = self.min_notice_minutes {
            b = b.min_notice_minutes(m);
        }
        if let Some(m) = self.cancel_cutoff_minutes {
            b = b.cancel_cutoff_minutes(m);
        }
        if let Some(m) = self.hold_minutes {
            b = b.hold_minutes(m);
        }
        b = b.confirm_within_minutes(self.confirm_within_minutes);
        b = b.horizon_days(self.horizon_days);
        Ok(appointment_core::NewAppointment {
            title: self.title,
            description: self.description.unwrap_or_default(),
            kind,
            capacity: self.max_attendees,
            anti_scalping,
            schedule: b.build()?,
            resource: resource_of(self.resource.as_deref())?,
        })
    }
}

/// `PATCH /appointments/{app_code}`: the fields to change, all optional; a field left out stays
/// as it is. Lists (`overrides`, `closures`) replace the whole list.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentPatch {
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New weekly hours.
    #[serde(default)]
    pub weekly_hours: Option<WeeklyHoursDto>,
    /// New date overrides (all of them).
    #[serde(default)]
    pub overrides: Option<Vec<DateOverrideDto>>,
    /// New closures (all of them).
    #[serde(default)]
    pub closures: Option<Vec<ClosureDto>>,
    /// New buffer between slots, in minutes.
    #[serde(default)]
    pub buffer_minutes: Option<u32>,
    /// New minimum notice, in minutes.
    #[serde(default)]
    pub min_notice_minutes: Option<u32>,
    /// New cancellation cut-off, in minutes; it applies to existing bookings too.
    #[serde(default)]
    pub cancel_cutoff_minutes: Option<u32>,
    /// New hold length, in minutes (1 to 120); holds already taken keep their expiry.
    #[serde(default)]
    pub hold_minutes: Option<u32>,
    /// Approval on (minutes the owner has to confirm a booking, 1 to 43200) or off (`null`).
    /// Bookings already pending keep their deadline.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<u32>, nullable)]
    pub confirm_within_minutes: Option<Option<u32>>,
    /// New horizon in days; `null` removes it.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<u32>, nullable)]
    pub horizon_days: Option<Option<u32>>,
    /// New shared resource; `null` or `""` removes it. Bookings already made keep occupying the
    /// resource they were made on.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<String>, nullable)]
    pub resource: Option<Option<String>>,
}

/// A field that is absent (`None`), `null` (`Some(None)`) or a value.
fn present_or_null<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl AppointmentPatch {
    /// The engine's changes.
    pub fn into_changes(self) -> Result<appointment_core::AppointmentChanges, ApiError> {
        Ok(appointment_core::AppointmentChanges {
            title: self.title,
            description: self.description,
            weekly_hours: self
                .weekly_hours
                .as_ref()
                .map(WeeklyHoursDto::to_core)
                .transpose()?,
            overrides: self
                .overrides
                .map(|list| {
                    list.iter()
                        .map(|o| {
                            Ok((
                                parse_date("overrides", &o.date)?,
                                windows_of("overrides", &o.hours)?,
                            ))
                        })
                        .collect::<Result<Vec<_>, ApiError>>()
                })
                .transpose()?,
            closures: self
                .closures
                .map(|list| {
                    list.iter()
                        .map(|c| {
                            Ok(Closure::new(
                                parse_date("closures", &c.from)?,
                                parse_date("closures", &c.to)?,
                                c.label.clone(),
                            )?)
                        })
                        .collect::<Result<Vec<_>, ApiError>>()
                })
                .transpose()?,
            buffer_minutes: self.buffer_minutes,
            min_notice_minutes: self.min_notice_minutes,
            cancel_cutoff_minutes: self.cancel_cutoff_minutes,
            hold_minutes: self.hold_minutes,
            confirm_within_minutes: self.confirm_within_minutes,
            horizon_days: self.horizon_days,
            status: None,
            resource: self
                .resource
                .map(|r| resource_of(r.as_deref()))
                .transpose()?,
            if_revision: None,
        })
    }
}

/// The answer to an edit, close or reopen: the appointment as it now is, and how many active
/// bookings of slots still to come fall outside its hours (an edit never cancels or moves one).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppointmentEditResponse {
    /// The appointment.
    pub appointment: AppointmentResponse,
    /// Active bookings still to come that the hours no longer offer.
    pub bookings_outside_hours: u64,
}

/// An appointment (the original's `responses.AppointmentResponse`, plus the schedule's extras).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppointmentResponse {
    /// Id.
    pub id: String,
    /// Public code (`AP-…`).
    pub app_code: String,
    /// Title.
    pub title: String,
    /// Free text.
    pub description: String,
    /// `single`, `group` or `party`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Seats per slot (party: of the event).
    pub max_attendees: u32,
    /// Seats held by active bookings, across all slots (the original's field).
    pub attendees_booked: u64,
    /// `none`, `standard` or `strict`.
    pub anti_scalping_level: String,
    /// Slot length in minutes.
    pub booking_duration: u32,
    /// First date.
    pub start_date: String,
    /// Last date.
    pub end_date: String,
    /// The window's start on the first date (UTC instant).
    pub start_time: String,
    /// The window's end on the first date (UTC instant).
    pub end_time: String,
    /// IANA zone of the window.
    pub timezone: String,
    /// Days with slots.
    pub weekdays: Vec<String>,
    /// The hours of a typical week.
    pub weekly_hours: WeeklyHoursDto,
    /// Dates with hours of their own, in date order.
    pub overrides: Vec<DateOverrideDto>,
    /// Closed date ranges, in date order.
    pub closures: Vec<ClosureDto>,
    /// Minutes between slots.
    pub buffer_minutes: u32,
    /// Minimum notice in minutes.
    pub min_notice_minutes: u32,
    /// Guests cannot cancel or reschedule less than this many minutes before a slot.
    pub cancel_cutoff_minutes: u32,
    /// How long a hold of seats lasts, in minutes.
    pub hold_minutes: u32,
    /// If bookings wait for the owner's confirmation: how many minutes the owner has to confirm
    /// one (`null`: bookings are active at once).
    pub confirm_within_minutes: Option<u32>,
    /// How many times it was edited, closed or reopened; send it as `If-Match` with an edit to
    /// apply the edit only to what you saw (`412` otherwise).
    pub revision: u64,
    /// Booking horizon in days, if any.
    pub horizon_days: Option<u32>,
    /// The shared resource its bookings occupy, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Owner's user id.
    pub owner_id: String,
    /// `active` or `closed`.
    pub status: String,
    /// Creation time.
    pub created_at: String,
    /// Last update.
    pub updated_at: String,
}

impl AppointmentResponse {
    /// The answer for `a` with `booked` seats held by active bookings.
    pub fn with_attendees_booked(a: &Appointment, booked: u64) -> Self {
        AppointmentResponse {
            attendees_booked: booked,
            ..AppointmentResponse::from(a)
        }
    }
}

impl From<&Appointment> for AppointmentResponse {
    fn from(a: &Appointment) -> Self {
        let s = &a.schedule;
        let (open, close) = opening_span(s);
        AppointmentResponse {
            id: a.id.to_string(),
            app_code: a.code.to_string(),
            title: a.title.clone(),
            description: a.description.clone(),
            kind: a.kind.to_string(),
            max_attendees: a.capacity,
            attendees_booked: 0,
            anti_scalping_level: a.anti_scalping.to_string(),
            booking_duration: s.slot_minutes(),
            start_date: date_string(s.start_date()),
            end_date: date_string(s.end_date()),
            start_time: rfc3339(open),
            end_time: rfc3339(close),
            timezone: s.time_zone().name().to_owned(),
            weekdays: s
                .weekdays()
                .names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            weekly_hours: WeeklyHoursDto::of(s.weekly_hours()),
            overrides: s
                .overrides()
                .map(|(date, windows)| DateOverrideDto {
                    date: date.to_string(),
                    hours: windows.iter().map(ToString::to_string).collect(),
                })
                .collect(),
            closures: s
                .closures()
                .iter()
                .map(|c| ClosureDto {
                    from: c.first().to_string(),
                    to: c.last().to_string(),
                    label: c.label().map(str::to_owned),
                })
                .collect(),
            buffer_minutes: s.buffer_minutes(),
            min_notice_minutes: s.min_notice_minutes(),
            cancel_cutoff_minutes: s.cancel_cutoff_minutes(),
            hold_minutes: s.hold_minutes(),
            confirm_within_minutes: s.confirm_within_minutes(),
            revision: a.revision,
            horizon_days: s.horizon_days(),
            resource: a.resource.as_ref().map(ToString::to_string),
            owner_id: a.owner.to_string(),
            status: a.status.to_string(),
            created_at: timestamp(a.created_at),
            updated_at: timestamp(a.updated_at),
        }
    }
}

/// `GET /appointments/{app_code}/public`: what anyone holding the code may read about an
/// appointment to book it (what a booking page shows), without its owner's settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicAppointment {
    /// Public code (`AP-…`).
    pub app_code: String,
    /// Title.
    pub title: String,
    /// Free text.
    pub description: String,
    /// `single`, `group` or `party`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Seats per slot (party: of the event).
    pub max_attendees: u32,
    /// Slot length in minutes.
    pub booking_duration: u32,
    /// IANA zone of the appointment's hours.
    pub timezone: String,
    /// `none`, `standard` or `strict`.
    pub anti_scalping_level: String,
    /// Guests cannot cancel or reschedule less than this many minutes before a slot.
    pub cancel_cutoff_minutes: u32,
    /// Slots starting sooner than this many minutes from now cannot be booked.
    pub min_notice_minutes: u32,
    /// If bookings wait for the owner's confirmation: how many minutes the owner has to confirm
    /// one (`null`: bookings are active at once).
    pub confirm_within_minutes: Option<u32>,
    /// `active` or `closed` (a closed appointment takes no bookings).
    pub status: String,
}

impl From<&Appointment> for PublicAppointment {
    fn from(a: &Appointment) -> Self {
        let s = &a.schedule;
        PublicAppointment {
            app_code: a.code.to_string(),
            title: a.title.clone(),
            description: a.description.clone(),
            kind: a.kind.to_string(),
            max_attendees: a.capacity,
            booking_duration: s.slot_minutes(),
            timezone: s.time_zone().name().to_owned(),
            anti_scalping_level: a.anti_scalping.to_string(),
            cancel_cutoff_minutes: s.cancel_cutoff_minutes(),
            min_notice_minutes: s.min_notice_minutes(),
            confirm_within_minutes: s.confirm_within_minutes(),
            status: a.status.to_string(),
        }
    }
}

/// The original's one daily window as instants on the first date; with richer hours, the week's
/// earliest opening and latest closing.
fn opening_span(s: &appointment_core::Schedule) -> (DateTime<Utc>, DateTime<Utc>) {
    let (open, close) = s
        .hours_span()
        .map_or((0, 86_400), |w| (w.start_seconds(), w.end_seconds()));
    let midnight = s.start_date().and_time(NaiveTime::MIN);
    let at = |secs: u32| {
        s.time_zone()
            .resolve(midnight + chrono::TimeDelta::seconds(i64::from(secs)))
    };
    (at(open), at(close))
}

// --------------------------------------------------------------------------------- bookings

/// `POST /appointments/book` and `POST /appointments/book/registered`. The slot is named by
/// `start_time`; `date` and `end_time` may be sent as the original did and must then agree with
/// the slot. A registered booking takes name, email and phone from the profile.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BookingRequest {
    /// The appointment's code.
    pub app_code: String,
    /// Start of the slot (RFC 3339).
    #[schema(example = "2030-01-15T10:00:00Z")]
    pub start_time: String,
    /// End of the slot (optional; must agree with the slot).
    #[serde(default)]
    pub end_time: Option<String>,
    /// Date of the slot (optional; must agree with the slot).
    #[serde(default)]
    pub date: Option<String>,
    /// Booker's name (guests).
    #[serde(default)]
    pub name: Option<String>,
    /// Booker's email (guests).
    #[serde(default)]
    pub email: Option<String>,
    /// Booker's phone (guests, optional).
    #[serde(default)]
    pub phone: Option<String>,
    /// Seats (default 1).
    #[serde(default)]
    pub attendee_count: Option<u32>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// A device token from `POST /auth/device-token` (or send it as `X-Device-Token`), issued to
    /// the user who books; required by strict appointments.
    #[serde(default)]
    pub device_token: Option<String>,
    /// A hold token from `POST /holds`: the booking takes over the hold's seats (it cannot find
    /// the slot full). `app_code`, `start_time` and `attendee_count` must be the hold's.
    #[serde(default)]
    #[schema(example = "HD-7K2M9Q4X8B3N")]
    pub hold_token: Option<String>,
}

/// `POST /holds`: keep seats of a slot for a short time.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct HoldRequest {
    /// The appointment's code.
    pub app_code: String,
    /// Start of the slot (RFC 3339).
    #[schema(example = "2030-01-15T10:00:00Z")]
    pub start_time: String,
    /// Seats to hold (default 1).
    #[serde(default)]
    pub attendee_count: Option<u32>,
}

/// A hold of seats.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HoldResponse {
    /// The token that books (`hold_token` of a booking request) or releases the hold; whoever
    /// has it can, so keep it like a booking code.
    pub hold_token: String,
    /// The appointment's code.
    pub app_code: String,
    /// Start of the slot.
    pub start_time: String,
    /// End of the slot.
    pub end_time: String,
    /// Seats held.
    pub attendee_count: u32,
    /// `held`, `released`, `expired` (the seats went back to the slot) or `booked`.
    pub status: String,
    /// When the seats go back to the slot unless the hold is booked first, to the microsecond
    /// (the hold ends at exactly this instant).
    pub expires_at: String,
    /// The booking's id, once booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_id: Option<String>,
    /// When it was taken.
    pub created_at: String,
}

impl From<&appointment_core::Hold> for HoldResponse {
    fn from(h: &appointment_core::Hold) -> Self {
        HoldResponse {
            hold_token: h.token.to_string(),
            app_code: h.app_code.to_string(),
            start_time: rfc3339(h.slot_start),
            end_time: rfc3339(h.slot_end),
            attendee_count: h.seats.get(),
            status: h.status.to_string(),
            expires_at: timestamp(h.expires_at),
            booking_id: h.booking_id.map(|b| b.to_string()),
            created_at: timestamp(h.created_at),
        }
    }
}

/// `POST /waitlist`: a place in line for a full slot.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct WaitlistRequest {
    /// The appointment's code.
    pub app_code: String,
    /// Start of the full slot (RFC 3339).
    #[schema(example = "2030-01-15T10:00:00Z")]
    pub start_time: String,
    /// Seats wanted (default 1).
    #[serde(default)]
    pub attendee_count: Option<u32>,
    /// Who waits.
    #[schema(example = "Jane Smith")]
    pub name: String,
    /// Their email.
    #[schema(example = "jane@example.com")]
    pub email: String,
}

/// A place on a waiting list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WaitlistResponse {
    /// The code that shows the place or leaves the list (`WL-…`); keep it like a booking code.
    pub waitlist_code: String,
    /// The appointment's code.
    pub app_code: String,
    /// Start of the slot.
    pub start_time: String,
    /// End of the slot.
    pub end_time: String,
    /// Seats wanted.
    pub attendee_count: u32,
    /// Who waits.
    pub name: String,
    /// Their email.
    pub email: String,
    /// `waiting`, `offered` (book with `hold_token` before `offer_expires_at`), `booked`,
    /// `expired` (the offer ran out) or `left`.
    pub status: String,
    /// 1 for the next in line; 0 once no longer waiting.
    pub position: u64,
    /// While offered: the token of the hold kept for this place (send it as `hold_token` with a
    /// booking request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_token: Option<String>,
    /// While offered: when the offer passes to the next in line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_expires_at: Option<String>,
    /// When it joined.
    pub created_at: String,
}

impl From<&appointment_core::WaitlistPlace> for WaitlistResponse {
    fn from(p: &appointment_core::WaitlistPlace) -> Self {
        let e = &p.entry;
        let offered = p.status == appointment_core::WaitlistStatus::Offered;
        let offer = p.offer.as_ref().filter(|_| offered);
        WaitlistResponse {
            waitlist_code: e.code.to_string(),
            app_code: e.app_code.to_string(),
            start_time: rfc3339(e.slot_start),
            end_time: rfc3339(e.slot_end),
            attendee_count: e.seats.get(),
            name: e.name.to_string(),
            email: e.email.to_string(),
            status: p.status.to_string(),
            position: p.position,
            hold_token: offer.map(|h| h.token.to_string()),
            offer_expires_at: offer.map(|h| timestamp(h.expires_at)),
            created_at: timestamp(e.created_at),
        }
    }
}

/// `PUT /bookings/{booking_code}`: move to another slot and/or change the seats.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BookingUpdateRequest {
    /// The appointment's code (optional; must be the booking's).
    #[serde(default)]
    pub app_code: Option<String>,
    /// Start of the new slot (RFC 3339).
    pub start_time: String,
    /// End of the new slot (optional; must agree with the slot).
    #[serde(default)]
    pub end_time: Option<String>,
    /// Date of the new slot (optional; must agree with the slot).
    #[serde(default)]
    pub date: Option<String>,
    /// New number of seats (default: unchanged).
    #[serde(default)]
    pub attendee_count: Option<u32>,
    /// New free text, up to 2000 characters (default: unchanged).
    #[serde(default)]
    pub description: Option<String>,
}

/// A booking (the original's `entities.Booking`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BookingResponse {
    /// Id.
    pub id: String,
    /// The appointment's id.
    pub appointment_id: String,
    /// The appointment's code.
    pub app_code: String,
    /// Code (`BK-…`); whoever holds it can view, reschedule and cancel.
    pub booking_code: String,
    /// The registered user who booked, or null for a guest.
    pub user_id: Option<String>,
    /// Booker's name.
    pub name: String,
    /// Booker's email.
    pub email: String,
    /// Booker's phone, empty if none.
    pub phone: String,
    /// Date of the slot.
    pub date: String,
    /// Start of the slot.
    pub start_time: String,
    /// End of the slot.
    pub end_time: String,
    /// Seats held.
    pub attendee_count: u32,
    /// `active`, `pending` (waiting for the owner's confirmation until `confirm_by`),
    /// `declined`, `expired` (pending past `confirm_by`), `cancelled`, `rejected`, `completed` or
    /// `no_show`.
    pub status: String,
    /// While pending: when the booking expires unless the owner confirms it. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_by: Option<String>,
    /// Free text.
    pub description: String,
    /// Creation time.
    pub created_at: String,
    /// Last update.
    pub updated_at: String,
}

impl BookingResponse {
    /// A booking whose slot falls on `local_date` in its appointment's zone (`None`: the UTC
    /// date of its start).
    /// `now` (the engine's clock) decides whether a pending booking has expired.
    pub fn new(b: &Booking, local_date: Option<NaiveDate>, now: DateTime<Utc>) -> Self {
        let status = b.status_at(now);
        BookingResponse {
            id: b.id.to_string(),
            appointment_id: b.appointment_id.to_string(),
            app_code: b.app_code.to_string(),
            booking_code: b.code.to_string(),
            user_id: b.user_id.map(|u| u.to_string()),
            name: b.name.to_string(),
            email: b.email.to_string(),
            phone: b
                .phone
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            date: date_string(local_date.unwrap_or_else(|| b.slot_start.date_naive())),
            start_time: rfc3339(b.slot_start),
            end_time: rfc3339(b.slot_end),
            attendee_count: b.attendee_count.get(),
            status: status.to_string(),
            confirm_by: b
                .confirm_by
                .filter(|_| status == appointment_core::BookingStatus::Pending)
                .map(timestamp),
            description: b.description.clone(),
            created_at: timestamp(b.created_at),
            updated_at: timestamp(b.updated_at),
        }
    }
}

/// A slot with seats left.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SlotResponse {
    /// The appointment's code.
    pub app_code: String,
    /// Local date of the slot, in the appointment's zone.
    pub date: String,
    /// Start (UTC instant); book with this value.
    pub start_time: String,
    /// End (UTC instant).
    pub end_time: String,
    /// Whether seats are left (always true in listings).
    pub available: bool,
    /// Seats in all.
    pub capacity: u32,
    /// Seats taken.
    pub attendee_count: u32,
    /// Seats left.
    pub seats_left: u32,
}

impl SlotResponse {
    /// A slot of appointment `app_code`.
    pub fn new(app_code: &str, s: &AvailableSlot) -> Self {
        SlotResponse {
            app_code: app_code.to_owned(),
            date: date_string(s.local_date),
            start_time: rfc3339(s.slot.start),
            end_time: rfc3339(s.slot.end),
            available: s.seats_left > 0,
            capacity: s.capacity,
            attendee_count: s.seats_taken,
            seats_left: s.seats_left,
        }
    }
}

// ---------------------------------------------------------------------------- pagination

/// `page` (from 1) and `per_page` (default 20, at most 100).
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    pub per_page: Option<u32>,
}

impl PageQuery {
    /// The engine's page.
    pub fn page(self) -> Result<Page, ApiError> {
        Ok(Page::new(
            self.page.unwrap_or(1),
            self.per_page.unwrap_or(Page::DEFAULT_PER_PAGE),
        )?)
    }
}

/// `GET /appointments/slots/{app_code}`: a page of the bookable slots, optionally only those that
/// start in the window `[from, to)` (both RFC 3339 instants, or dates meaning midnight UTC; at
/// most 92 days apart).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    pub per_page: Option<u32>,
    /// Only slots that start at or after this instant (requires `to`).
    #[param(example = "2030-01-15T00:00:00Z")]
    pub from: Option<String>,
    /// Only slots that start before this instant (requires `from`).
    #[param(example = "2030-01-22T00:00:00Z")]
    pub to: Option<String>,
}

impl SlotsQuery {
    /// The engine's page.
    pub fn page(&self) -> Result<Page, ApiError> {
        PageQuery {
            page: self.page,
            per_page: self.per_page,
        }
        .page()
    }

    /// The window asked for, if any.
    pub fn window(&self) -> Result<Option<std::ops::Range<DateTime<Utc>>>, ApiError> {
        let instant = |field: &'static str, raw: &str| -> Result<DateTime<Utc>, ApiError> {
            if let Ok(t) = DateTime::parse_from_rfc3339(raw.trim()) {
                return Ok(t.with_timezone(&Utc));
            }
            parse_date(field, raw).map(|d| d.and_time(NaiveTime::MIN).and_utc())
        };
        match (&self.from, &self.to) {
            (None, None) => Ok(None),
            (Some(from), Some(to)) => Ok(Some(instant("from", from)?..instant("to", to)?)),
            (None, Some(_)) => Err(ApiError::invalid("from", "is required with to")),
            (Some(_), None) => Err(ApiError::invalid("to", "is required with from")),
        }
    }
}

/// `GET /appointments/slots/{app_code}/by-day`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// The local date (YYYY-MM-DD).
    pub date: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    pub per_page: Option<u32>,
}

macro_rules! paged {
    ($(#[$m:meta])* $name:ident, $item:ty) => {
        $(#[$m])*
        #[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
        pub struct $name {
            /// The items of this page.
            pub items: Vec<$item>,
            /// Page number, from 1.
            pub page: u32,
            /// Page size.
            pub per_page: u32,
            /// Items in all.
            pub total: u64,
            /// Pages in all.
            pub total_pages: u64,
        }
        impl $name {
            /// Wraps a page of the engine's.
            pub fn from_paged<T>(p: appointment_core::Paged<T>, f: impl FnMut(T) -> $item) -> Self {
                let p = p.map(f);
                $name {
                    items: p.items,
                    page: p.page,
                    per_page: p.per_page,
                    total: p.total,
                    total_pages: p.total_pages,
                }
            }
        }
    };
}

pub(crate) use paged;

paged!(
    /// A page of slots.
    SlotPage,
    SlotResponse
);
paged!(
    /// A page of appointments.
    AppointmentPage,
    AppointmentResponse
);
paged!(
    /// A page of bookings.
    BookingPage,
    BookingResponse
);

// ------------------------------------------------------------------------ bans, analytics

/// `POST /ban-list` and `DELETE /ban-list`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BanRequest {
    /// The email to ban or unban.
    pub email: String,
}

/// An entry of the caller's ban list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BanEntry {
    /// Id.
    pub id: String,
    /// The owner.
    pub user_id: String,
    /// The banned mailbox: the normalised address without its `+tag` (the ban covers every alias).
    pub banned_email: String,
    /// When it was added.
    pub created_at: String,
}

impl From<&Ban> for BanEntry {
    fn from(b: &Ban) -> Self {
        BanEntry {
            id: b.id.to_string(),
            user_id: b.owner.to_string(),
            banned_email: b.email.to_string(),
            created_at: timestamp(b.created_at),
        }
    }
}

/// `GET /analytics`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// First date (YYYY-MM-DD, UTC).
    pub start_date: Option<String>,
    /// Last date (YYYY-MM-DD, UTC, inclusive).
    pub end_date: Option<String>,
}

/// The caller's figures over a date range.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AnalyticsResponse {
    /// First date.
    pub start_date: String,
    /// Last date.
    pub end_date: String,
    /// Appointments created in the range.
    pub total_appointments: u64,
    /// Bookings whose slot starts in the range, any status.
    pub total_bookings: u64,
    /// Of which active.
    pub active_bookings: u64,
    /// Of which waiting for the owner's confirmation.
    pub pending_bookings: u64,
    /// Of which declined by the owner.
    pub declined_bookings: u64,
    /// Of which expired unconfirmed.
    pub expired_bookings: u64,
    /// Of which cancelled.
    pub cancelled_bookings: u64,
    /// Of which rejected.
    pub rejected_bookings: u64,
    /// Of which marked attended by the owner.
    pub completed_bookings: u64,
    /// Of which marked not attended by the owner.
    pub no_show_bookings: u64,
    /// `no_show / (completed + no_show)`; `null` when no booking was marked.
    pub no_show_rate: Option<f64>,
    /// Seats of the bookings not called off (active, completed, no-show).
    pub seats_booked: u64,
    /// Seats held by pending bookings, waiting for the owner's confirmation.
    pub seats_pending: u64,
    /// Seats kept by live holds (`POST /holds`) on the range's slots.
    pub seats_held: u64,
    /// Seats offered by the slots that start in the range.
    pub seats_offered: u64,
}

impl From<&appointment_core::Analytics> for AnalyticsResponse {
    fn from(a: &appointment_core::Analytics) -> Self {
        AnalyticsResponse {
            start_date: a.start_date.to_string(),
            end_date: a.end_date.to_string(),
            total_appointments: a.appointments_created,
            total_bookings: a.total_bookings(),
            active_bookings: a.bookings.active,
            pending_bookings: a.bookings.pending,
            declined_bookings: a.bookings.declined,
            expired_bookings: a.bookings.expired,
            cancelled_bookings: a.bookings.cancelled,
            rejected_bookings: a.bookings.rejected,
            completed_bookings: a.bookings.completed,
            no_show_bookings: a.bookings.no_show,
            no_show_rate: a.no_show_rate(),
            seats_booked: a.bookings.seats_booked,
            seats_pending: a.bookings.seats_pending,
            seats_held: a.bookings.seats_held,
            seats_offered: a.seats_offered,
        }
    }
}

/// `GET /health`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealthResponse {
    /// `healthy` or `unhealthy`.
    pub status: String,
}

/// `GET /`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RootResponse {
    /// The service's name.
    pub message: String,
    /// Its version.
    pub version: String,
    /// Where the interactive documentation is.
    pub docs: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wall_time_takes_z_as_written_and_checks_other_offsets() {
        let berlin = TimeZoneName::parse("Europe/Berlin").unwrap();
        let at = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        let wall = |raw| parse_wall_time("start_time", raw, berlin);
        assert_eq!(wall("2030-01-15T09:30:00Z").unwrap(), at(9, 30));
        assert_eq!(wall("2030-01-15T09:30:00+01:00").unwrap(), at(9, 30));
        assert_eq!(wall("2030-07-15T09:30:00+02:00").unwrap(), at(9, 30));
        for wrong in ["2030-01-15T09:30:00+05:00", "2030-07-15T09:30:00+01:00"] {
            let e = wall(wrong).unwrap_err();
            assert!(format!("{e:?}").contains("Europe/Berlin"), "{e:?}");
        }
        assert_eq!(wall("17:00").unwrap(), at(17, 0));
        assert!(wall("noon").is_err());
        let utc = parse_wall_time("start_time", "2030-01-15T09:30:00+01:00", TimeZoneName::UTC);
        assert!(utc.is_err(), "an offset with no zone given is refused");
    }

    #[test]
    fn dates_accept_both_forms() {
        let d = NaiveDate::from_ymd_opt(2025, 1, 15).unwrap();
        assert_eq!(parse_date("date", "2025-01-15").unwrap(), d);
        assert_eq!(parse_date("date", "2025-01-15T00:00:00Z").unwrap(), d);
        assert_eq!(date_string(d), "2025-01-15T00:00:00Z");
    }

    #[test]
    fn window_instants_follow_the_zone() {
        let tz = TimeZoneName::parse("Europe/Berlin").unwrap();
        let d = NaiveDate::from_ymd_opt(2030, 1, 7).unwrap();
        let t = tz.resolve(d.and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap()));
        assert_eq!(rfc3339(t), "2030-01-07T08:00:00Z");
    }
}
