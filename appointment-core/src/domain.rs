//! Domain types that cannot be invalid once built.
//!
//! Each type validates in its constructor (`parse`, `new`) and keeps its field private, so a value
//! that exists is a valid one.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rand::Rng;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::schedule::Schedule;

macro_rules! string_newtype_common {
    ($name:ident) => {
        impl $name {
            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::parse(s)
            }
        }
    };
}

/// An email address: trimmed, lower-cased and syntactically valid.
///
/// ```
/// use appointment_core::Email;
/// let e = Email::parse("  Jane.Doe@Example.COM ").unwrap();
/// assert_eq!(e.as_str(), "jane.doe@example.com");
/// assert!(Email::parse("not an email").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// Validates and normalises an email address.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(Error::invalid("email", "must not be empty"));
        }
        if s.len() > 254 {
            return Err(Error::invalid("email", "must be at most 254 characters"));
        }
        // `email_address` accepts some RFC 5322 forms (display names, quoted parts) that no booking
        // form wants; insist on a plain `local@domain` with a dot in the domain as well.
        let plain = s
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'));
        if !plain || !email_address::EmailAddress::is_valid(&s) || s.contains(char::is_whitespace) {
            return Err(Error::invalid("email", "is not a valid email address"));
        }
        Ok(Email(s))
    }
}
string_newtype_common!(Email);

/// A phone number: digits with an optional leading `+`, 7 to 15 digits (E.164 length); spaces,
/// dashes, dots and parentheses are removed.
///
/// ```
/// use appointment_core::Phone;
/// assert_eq!(Phone::parse("+1 (234) 567-890").unwrap().as_str(), "+1234567890");
/// assert!(Phone::parse("12ab").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

impl Phone {
    /// Validates and normalises a phone number.
    pub fn parse(raw: &str) -> Result<Self> {
        let mut out = String::with_capacity(raw.len());
        for (i, c) in raw.trim().chars().enumerate() {
            match c {
                '+' if i == 0 => out.push(c),
                '0'..='9' => out.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(Error::invalid(
                        "phone",
                        "may hold only digits, a leading '+', spaces, dashes, dots and parentheses",
                    ));
                }
            }
        }
        let digits = out.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits) {
            return Err(Error::invalid("phone", "must have 7 to 15 digits"));
        }
        Ok(Phone(out))
    }
}
string_newtype_common!(Phone);

const CODE_ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// Characters after the prefix in a generated code: 36^12 ≈ 4.7 × 10^18 possibilities.
const CODE_LEN: usize = 12;
/// Fewest characters after the prefix that a parsed code may have.
const CODE_MIN_LEN: usize = 10;

fn random_code(prefix: &str) -> String {
    let mut rng = rand::rng();
    let mut s = String::with_capacity(prefix.len() + CODE_LEN);
    s.push_str(prefix);
    for _ in 0..CODE_LEN {
        s.push(char::from(
            CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())],
        ));
    }
    s
}

fn parse_code(raw: &str, prefix: &str, field: &'static str) -> Result<String> {
    let s = raw.trim().to_ascii_uppercase();
    let rest = s
        .strip_prefix(prefix)
        .ok_or_else(|| Error::invalid(field, format!("must start with {prefix}")))?;
    if rest.len() < CODE_MIN_LEN
        || rest.len() > 32
        || !rest.bytes().all(|b| CODE_ALPHABET.contains(&b))
    {
        return Err(Error::invalid(
            field,
            format!("must be {prefix} followed by {CODE_MIN_LEN} to 32 letters or digits"),
        ));
    }
    Ok(s)
}

/// An appointment's public code, `AP-` followed by random uppercase letters and digits.
///
/// ```
/// use appointment_core::AppCode;
/// let code = AppCode::generate();
/// assert!(code.as_str().starts_with("AP-"));
/// assert_eq!(AppCode::parse(&code.as_str().to_lowercase()).unwrap(), code);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppCode(String);

impl AppCode {
    /// A fresh random code from the thread's cryptographically secure generator.
    pub fn generate() -> Self {
        AppCode(random_code("AP-"))
    }
    /// Validates a code given by a caller (case-insensitive).
    pub fn parse(raw: &str) -> Result<Self> {
        parse_code(raw, "AP-", "app_code").map(AppCode)
    }
}
string_newtype_common!(AppCode);

/// A booking's code, `BK-` followed by random uppercase letters and digits. Whoever holds it can
/// view, reschedule and cancel the booking, so it is long and random enough not to be guessed.
///
/// ```
/// use appointment_core::BookingCode;
/// let code = BookingCode::generate();
/// assert_eq!(code.as_str().len(), 15);
/// assert!(BookingCode::parse("BK-123").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BookingCode(String);

impl BookingCode {
    /// A fresh random code from the thread's cryptographically secure generator.
    pub fn generate() -> Self {
        BookingCode(random_code("BK-"))
    }
    /// Validates a code given by a caller (case-insensitive).
    pub fn parse(raw: &str) -> Result<Self> {
        parse_code(raw, "BK-", "booking_code").map(BookingCode)
    }
}
string_newtype_common!(BookingCode);

/// A device identifier that the caller has already verified (the server mints and checks device
/// tokens; the engine only compares ids). 1 to 128 visible characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(String);

impl DeviceId {
    /// Validates a device id.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 128 || s.chars().any(char::is_control) {
            return Err(Error::invalid(
                "device_id",
                "must be 1 to 128 printable characters",
            ));
        }
        Ok(DeviceId(s.to_owned()))
    }
}
string_newtype_common!(DeviceId);

/// How many people a booking is for: at least one.
///
/// ```
/// use appointment_core::AttendeeCount;
/// assert_eq!(AttendeeCount::new(3).unwrap().get(), 3);
/// assert!(AttendeeCount::new(0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttendeeCount(NonZeroU32);

impl AttendeeCount {
    /// One attendee.
    pub const ONE: AttendeeCount = AttendeeCount(NonZeroU32::MIN);

    /// Validates a count (≥ 1).
    pub fn new(n: u32) -> Result<Self> {
        NonZeroU32::new(n)
            .map(AttendeeCount)
            .ok_or_else(|| Error::invalid("attendee_count", "must be at least 1"))
    }
    /// The count.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

/// A display name (of a user or of a guest booker): trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    /// Validates a name.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        let n = s.chars().count();
        if n == 0 || n > 200 || s.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "must be 1 to 200 printable characters",
            ));
        }
        Ok(Name(s.to_owned()))
    }
}
string_newtype_common!(Name);

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);
        impl $name {
            /// A fresh random (v4) id.
            pub fn new() -> Self {
                $name(Uuid::new_v4())
            }
        }
        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
id_type!(
    /// The primary key of a user.
    UserId
);
id_type!(
    /// The primary key of an appointment.
    AppointmentId
);
id_type!(
    /// The primary key of a booking.
    BookingId
);
id_type!(
    /// The primary key of a ban-list entry.
    BanId
);

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }, $field:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant),+ }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The lower-case name used on the wire and in storage.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($s => Ok($name::$variant),)+
                    _ => Err(Error::invalid($field, format!(
                        "must be one of: {}", [$($s),+].join(", ")))),
                }
            }
        }
    };
}

str_enum!(
    /// How seats are shared.
    AppointmentKind {
        /// One attendee per slot (a consultation).
        Single = "single",
        /// Up to the capacity per slot, across bookings (a class).
        Group = "group",
        /// One event (the window on the start date) with one shared capacity (a party).
        Party = "party",
    },
    "type"
);

str_enum!(
    /// How hard the engine makes it to hoard seats.
    AntiScalping {
        /// No limit per booker.
        None = "none",
        /// One active booking per email per appointment.
        Standard = "standard",
        /// As standard, and a verified device id is required, one active booking per device.
        Strict = "strict",
    },
    "anti_scalping_level"
);

str_enum!(
    /// Whether an appointment takes bookings.
    AppointmentStatus {
        /// Open for booking.
        Active = "active",
        /// Closed by its owner; existing bookings stay as they are.
        Closed = "closed",
    },
    "status"
);

str_enum!(
    /// Where a booking stands. Only `Active` holds seats; the others are final.
    BookingStatus {
        /// Holds its seats.
        Active = "active",
        /// Cancelled by its holder.
        Cancelled = "cancelled",
        /// Rejected by the appointment's owner.
        Rejected = "rejected",
    },
    "status"
);

/// A registered user. The credential is opaque to the engine (the server stores a bcrypt hash).
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Primary key.
    pub id: UserId,
    /// Display name.
    pub name: Name,
    /// Unique among users.
    pub email: Email,
    /// Unique among users when given.
    pub phone: Option<Phone>,
    /// An opaque credential (e.g. a password hash); never shown by `Debug`.
    pub password_hash: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("email", &self.email)
            .field("phone", &self.phone)
            .field("password_hash", &"<redacted>")
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// An appointment: a rule that generates slots, with a capacity and booking policies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointment {
    /// Primary key.
    pub id: AppointmentId,
    /// Public code.
    pub code: AppCode,
    /// The user who created it.
    pub owner: UserId,
    /// Title, 1 to 200 characters.
    pub title: String,
    /// Free text.
    pub description: String,
    /// Single, group or party.
    pub kind: AppointmentKind,
    /// Seats per slot (single: 1; party: seats of the one event).
    pub capacity: u32,
    /// Anti-scalping policy.
    pub anti_scalping: AntiScalping,
    /// Open or closed.
    pub status: AppointmentStatus,
    /// When the slots are.
    pub schedule: Schedule,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last edited, closed or reopened (its creation time until then).
    pub updated_at: DateTime<Utc>,
}

/// A booking of some seats on one slot of an appointment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Primary key.
    pub id: BookingId,
    /// Public code; whoever holds it can view, reschedule and cancel.
    pub code: BookingCode,
    /// The appointment booked.
    pub appointment_id: AppointmentId,
    /// The appointment's public code.
    pub app_code: AppCode,
    /// The registered user who booked, or `None` for a guest.
    pub user_id: Option<UserId>,
    /// Booker's name.
    pub name: Name,
    /// Booker's email (compared case-insensitively, stored lower-cased).
    pub email: Email,
    /// Booker's phone.
    pub phone: Option<Phone>,
    /// Start of the booked slot (UTC).
    pub slot_start: DateTime<Utc>,
    /// End of the booked slot (UTC).
    pub slot_end: DateTime<Utc>,
    /// Seats held.
    pub attendee_count: AttendeeCount,
    /// Active, cancelled or rejected.
    pub status: BookingStatus,
    /// Free text from the booker.
    pub description: String,
    /// The verified device the booking came from, if any (strict anti-scalping requires one).
    pub device_id: Option<DeviceId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An entry of an owner's ban list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    /// Primary key.
    pub id: BanId,
    /// The owner whose appointments the email may not book.
    pub owner: UserId,
    /// The banned email.
    pub email: Email,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// A page request: `page` from 1, `per_page` from 1 to [`Page::MAX_PER_PAGE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Page {
    page: u32,
    per_page: u32,
}

impl Page {
    /// The largest page size.
    pub const MAX_PER_PAGE: u32 = 100;
    /// The default page size.
    pub const DEFAULT_PER_PAGE: u32 = 20;

    /// Validates a page request.
    pub fn new(page: u32, per_page: u32) -> Result<Self> {
        if page == 0 {
            return Err(Error::invalid("page", "must be at least 1"));
        }
        if per_page == 0 || per_page > Self::MAX_PER_PAGE {
            return Err(Error::invalid(
                "per_page",
                format!("must be from 1 to {}", Self::MAX_PER_PAGE),
            ));
        }
        Ok(Page { page, per_page })
    }
    /// The 1-based page number.
    pub fn page(self) -> u32 {
        self.page
    }
    /// Items per page.
    pub fn per_page(self) -> u32 {
        self.per_page
    }
    /// How many items come before this page.
    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}

impl Default for Page {
    fn default() -> Self {
        Page {
            page: 1,
            per_page: Self::DEFAULT_PER_PAGE,
        }
    }
}

/// One page of a longer list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paged<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// The page number (from 1).
    pub page: u32,
    /// The page size asked for.
    pub per_page: u32,
    /// Items in the whole list.
    pub total: u64,
    /// Pages in the whole list.
    pub total_pages: u64,
}

impl<T> Paged<T> {
    /// Wraps one page's items with the totals.
    pub fn new(items: Vec<T>, page: Page, total: u64) -> Self {
        Paged {
            items,
            page: page.page,
            per_page: page.per_page,
            total,
            total_pages: total.div_ceil(u64::from(page.per_page)),
        }
    }
    /// Transforms the items, keeping the totals.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Paged<U> {
        Paged {
            items: self.items.into_iter().map(f).collect(),
            page: self.page,
            per_page: self.per_page,
            total: self.total,
            total_pages: self.total_pages,
        }
    }
}
