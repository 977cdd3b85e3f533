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

/// An email address, normalised so that one mailbox has one spelling.
///
/// [`Email::parse`] accepts what real mailboxes use and refuses the rest:
///
/// * the input is trimmed, put in Unicode NFKC form (fullwidth `ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ` and
///   other compatibility forms become their plain letters) and lower-cased;
/// * the domain is converted by IDNA (UTS #46, STD3 rules) to its ASCII form: `bücher.de` is
///   kept as `xn--bcher-kva.de`; it needs at least two labels and a top-level label that is not
///   a number, so bare IP addresses are refused;
/// * refused outright: spaces, control characters and invisible format characters (zero-width
///   space, joiners, bidirectional marks, soft hyphen), private-use and unassigned code points,
///   quoted local parts (`"john doe"@example.com`), address literals (`user@[127.0.0.1]`),
///   display names and comments, and non-ASCII symbols or punctuation in the local part;
/// * at most 64 bytes before the `@` and 254 in all (RFC 5321).
///
/// The address is kept as given, once normalised: [`Email::as_str`] is what mail is sent to.
/// Ban lists and anti-scalping compare the [canonical](Email::canonical) form instead, which also
/// drops a `+tag` sub-address (`jane+1@example.com` and `jane+2@example.com` reach the same
/// mailbox on the common providers, so they are one booker). Only `+` is folded: other
/// separators (`-`, `.`) are part of real, distinct addresses on too many providers.
///
/// ```
/// use appointment_core::Email;
/// let e = Email::parse("  Jane.Doe+Work@Example.COM ").unwrap();
/// assert_eq!(e.as_str(), "jane.doe+work@example.com");
/// assert_eq!(e.canonical(), "jane.doe@example.com");
/// assert_eq!(Email::parse("ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ").unwrap().as_str(), "jane@example.com");
/// assert_eq!(Email::parse("ana@Bücher.de").unwrap().as_str(), "ana@xn--bcher-kva.de");
/// assert!(Email::parse("ja\u{200B}ne@example.com").is_err());
/// assert!(Email::parse("\"jane\"@example.com").is_err());
/// assert!(Email::parse("jane@[127.0.0.1]").is_err());
/// assert!(Email::parse("not an email").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email {
    address: String,
    /// Byte offsets `(start, end)` of the `+tag` in `address` (equal when there is none).
    tag: (usize, usize),
}

/// The longest local part (before the `@`), in bytes.
const EMAIL_MAX_LOCAL: usize = 64;
/// The longest address, in bytes.
const EMAIL_MAX_LEN: usize = 254;
/// Inputs longer than this are refused before any normalisation work.
const EMAIL_MAX_INPUT: usize = 1024;

fn invalid_email(reason: &str) -> Error {
    Error::invalid("email", reason)
}

/// Whether `c` never appears in a real address: whitespace, controls, invisible format
/// characters, surrogates, private-use and unassigned code points.
fn is_hidden_or_control(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Other | GeneralCategoryGroup::Separator
    ) || c.is_whitespace()
}

impl Email {
    /// Validates and normalises an email address (see the [type's documentation](Email) for
    /// what is accepted). `InvalidInput("email")` with the reason otherwise.
    pub fn parse(raw: &str) -> Result<Self> {
        use unicode_normalization::UnicodeNormalization;
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(invalid_email("must not be empty"));
        }
        if raw.len() > EMAIL_MAX_INPUT {
            return Err(invalid_email("must be at most 254 characters"));
        }
        if raw.chars().any(is_hidden_or_control) {
            return Err(invalid_email(
                "must not contain spaces, control characters or invisible characters",
            ));
        }
        let folded: String = raw
            .nfkc()
            .collect::<String>()
            .to_lowercase()
            .nfkc()
            .collect();
        if folded.chars().any(is_hidden_or_control) {
            return Err(invalid_email(
                "must not contain spaces, control characters or invisible characters",
            ));
        }
        if folded.contains('"') || folded.contains('\\') {
            return Err(invalid_email("must not have a quoted local part"));
        }
        if folded.contains('[') || folded.contains(']') {
            return Err(invalid_email(
                "must name a domain, not an address literal such as [127.0.0.1]",
            ));
        }
        if folded.contains(['<', '>', '(', ')', ',', ';', ':']) {
            return Err(invalid_email("must be a plain address, local@domain"));
        }
        let Some((local, domain)) = folded.split_once('@') else {
            return Err(invalid_email("is not a valid email address"));
        };
        if local.is_empty() || domain.contains('@') {
            return Err(invalid_email("is not a valid email address"));
        }
        if local.len() > EMAIL_MAX_LOCAL {
            return Err(invalid_email("must have at most 64 bytes before the @"));
        }
        if !email_address::EmailAddress::is_valid_local_part(local)
            || local
                .chars()
                .any(|c| !c.is_ascii() && !is_letter_mark_or_number(c))
        {
            return Err(invalid_email("is not a valid email address"));
        }
        let domain = idna::domain_to_ascii_strict(domain)
            .map_err(|_| invalid_email("does not have a valid domain"))?;
        let labels = domain.split('.').collect::<Vec<_>>();
        let numeric_tld = labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
        if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) || numeric_tld {
            return Err(invalid_email("must have a domain name such as example.com"));
        }
        let address = format!("{local}@{domain}");
        if address.len() > EMAIL_MAX_LEN {
            return Err(invalid_email("must be at most 254 characters"));
        }
        let options = email_address::Options::default()
            .without_display_text()
            .without_domain_literal()
            .with_required_tld();
        if email_address::EmailAddress::parse_with_options(&address, options).is_err() {
            return Err(invalid_email("is not a valid email address"));
        }
        Ok(Email::with_tag(address))
    }

    /// An address read back from storage, where it was written after [`Email::parse`] (or after
    /// the laxer rules of earlier versions). Only what every version guarantees is checked (one
    /// `@` with something on both sides), so rows written before a rule became stricter stay
    /// readable; they compare by their canonical form like new ones.
    pub fn from_stored(stored: &str) -> Result<Self> {
        match stored.rsplit_once('@') {
            Some((l, d)) if !l.is_empty() && !d.is_empty() && stored.len() <= EMAIL_MAX_INPUT => {
                Ok(Email::with_tag(stored.to_owned()))
            }
            _ => Err(invalid_email("is not a valid email address")),
        }
    }

    fn with_tag(address: String) -> Self {
        let at = address.rfind('@').unwrap_or(address.len());
        let tag = match address[..at].find('+') {
            Some(plus) if plus > 0 => (plus, at),
            _ => (at, at),
        };
        Email { address, tag }
    }

    /// The address, as normalised by [`Email::parse`].
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The mailbox the address reaches: the address without its `+tag` sub-address. Ban lists
    /// and anti-scalping compare this form.
    ///
    /// ```
    /// use appointment_core::Email;
    /// let a = Email::parse("ann+1@example.com").unwrap();
    /// let b = Email::parse("ANN+2@example.com").unwrap();
    /// assert_ne!(a, b);
    /// assert_eq!(a.canonical(), b.canonical());
    /// assert_eq!(Email::parse("+x@example.com").unwrap().canonical(), "+x@example.com");
    /// ```
    pub fn canonical(&self) -> std::borrow::Cow<'_, str> {
        let (start, end) = self.tag;
        if start == end {
            std::borrow::Cow::Borrowed(&self.address)
        } else {
            let mut s = String::with_capacity(self.address.len() - (end - start));
            s.push_str(&self.address[..start]);
            s.push_str(&self.address[end..]);
            std::borrow::Cow::Owned(s)
        }
    }

    /// The [canonical](Email::canonical) form as an `Email` of its own (what a ban is kept as).
    pub fn mailbox(&self) -> Email {
        if self.tag.0 == self.tag.1 {
            self.clone()
        } else {
            Email::with_tag(self.canonical().into_owned())
        }
    }

    /// Whether two addresses reach the same mailbox (equal [canonical](Email::canonical) forms).
    pub fn same_mailbox(&self, other: &Email) -> bool {
        self.canonical() == other.canonical()
    }
}

fn is_letter_mark_or_number(c: char) -> bool {
    use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark | GeneralCategoryGroup::Number
    )
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.address
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}
impl FromStr for Email {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

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

/// A hold's token, `HD-` followed by random uppercase letters and digits. Whoever holds it can
/// book the held seats or release them, so it is as hard to guess as a booking code.
///
/// ```
/// use appointment_core::HoldToken;
/// let token = HoldToken::generate();
/// assert!(token.as_str().starts_with("HD-"));
/// assert!(HoldToken::parse("BK-ABCDEFGHJKLM").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HoldToken(String);

impl HoldToken {
    /// A fresh random token from the thread's cryptographically secure generator.
    pub fn generate() -> Self {
        HoldToken(random_code("HD-"))
    }
    /// Validates a token given by a caller (case-insensitive).
    pub fn parse(raw: &str) -> Result<Self> {
        parse_code(raw, "HD-", "hold_token").map(HoldToken)
    }
}
string_newtype_common!(HoldToken);

/// A place on a waiting list, `WL-` followed by random uppercase letters and digits. Whoever
/// holds it can see the place, take the seats offered to it, or leave the list.
///
/// ```
/// use appointment_core::WaitlistCode;
/// assert!(WaitlistCode::generate().as_str().starts_with("WL-"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WaitlistCode(String);

impl WaitlistCode {
    /// A fresh random code from the thread's cryptographically secure generator.
    pub fn generate() -> Self {
        WaitlistCode(random_code("WL-"))
    }
    /// Validates a code given by a caller (case-insensitive).
    pub fn parse(raw: &str) -> Result<Self> {
        parse_code(raw, "WL-", "waitlist_code").map(WaitlistCode)
    }
}
string_newtype_common!(WaitlistCode);

/// A device identifier that the caller has already verified (the server mints and checks device
/// tokens, each bound to a logged-in user; the engine only compares ids).
///
/// Normalised so that one device has one spelling: trimmed and lower-cased; 1 to 128 characters
/// of ASCII letters, digits and `-_.:+/=` (UUIDs, vendor ids, hex and base64 ids all fit).
///
/// ```
/// use appointment_core::DeviceId;
/// let a = DeviceId::parse(" 3F2504E0-4F89-11D3-9A0C-0305E82C3301 ").unwrap();
/// assert_eq!(a.as_str(), "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
/// assert!(DeviceId::parse("phone\u{200B}1").is_err());
/// assert!(DeviceId::parse("").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(String);

impl DeviceId {
    /// The longest device id, in characters.
    pub const MAX_LEN: usize = 128;

    /// Validates and normalises a device id.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-_.:+/=".contains(&b);
        if s.is_empty() || s.len() > Self::MAX_LEN || !s.bytes().all(allowed) {
            return Err(Error::invalid(
                "device_id",
                "must be 1 to 128 characters: ASCII letters, digits and - _ . : + / =",
            ));
        }
        Ok(DeviceId(s.to_ascii_lowercase()))
    }

    /// A device id read back from storage, where an earlier version may have kept one that
    /// [`DeviceId::parse`] now refuses: kept as stored if it is 1 to 128 printable characters.
    pub fn from_stored(stored: &str) -> Result<Self> {
        if stored.is_empty()
            || stored.len() > 4 * Self::MAX_LEN
            || stored.chars().any(char::is_control)
        {
            return Err(Error::invalid(
                "device_id",
                "must be 1 to 128 printable characters",
            ));
        }
        Ok(DeviceId(stored.to_owned()))
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

/// The name of something several appointments of one owner share: a person, a room, a chair.
/// Trimmed, 1 to 100 printable characters. Names are compared without regard to case, and
/// belong to their owner: two owners' "Chair 1" are two chairs.
///
/// ```
/// use appointment_core::{ResourceName, UserId};
/// let owner = UserId::new();
/// let chair = ResourceName::parse(" Chair 1 ").unwrap();
/// assert_eq!(chair.as_str(), "Chair 1");
/// assert_eq!(chair.key(owner), ResourceName::parse("chair 1").unwrap().key(owner));
/// assert_ne!(chair.key(owner), chair.key(UserId::new()));
/// assert!(ResourceName::parse("   ").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceName(String);

impl ResourceName {
    /// Validates a resource name: `InvalidInput("resource")` unless it is 1 to 100 printable
    /// characters once trimmed.
    pub fn parse(raw: &str) -> Result<Self> {
        let s = raw.trim();
        let n = s.chars().count();
        if n == 0 || n > 100 || s.chars().any(char::is_control) {
            return Err(Error::invalid(
                "resource",
                "must be 1 to 100 printable characters",
            ));
        }
        Ok(ResourceName(s.to_owned()))
    }

    /// The key under which the stores keep this owner's claims on the resource: the same for
    /// every spelling that differs only in case, different for every owner.
    pub fn key(&self, owner: UserId) -> ResourceKey {
        ResourceKey(Uuid::new_v5(&owner.0, self.0.to_lowercase().as_bytes()))
    }
}
string_newtype_common!(ResourceName);

/// The identity of one owner's resource in the stores (see [`ResourceName::key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey(pub Uuid);

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
id_type!(
    /// The primary key of a hold.
    HoldId
);
id_type!(
    /// The primary key of a place on a waiting list.
    WaitlistId
);
id_type!(
    /// The id of an [event](crate::Event): stable, unique, the same wherever the event is
    /// delivered (a webhook's `webhook-id`).
    EventId
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

pub(crate) use str_enum;

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
        /// As standard, and only registered users may book, each with a verified device id:
        /// one active booking per user (their account's email) and one per device.
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
    /// Where a booking stands. `Active` and `Pending` hold seats (a pending booking only until
    /// its [`Booking::confirm_by`]); the others are final.
    BookingStatus {
        /// Holds its seats: booked, or confirmed by the owner.
        Active = "active",
        /// Waits for the owner's confirmation (the appointment requires it) and holds its seats
        /// until [`Booking::confirm_by`]; confirmed, it becomes active.
        Pending = "pending",
        /// A pending booking the owner declined; its seats went back to the slot.
        Declined = "declined",
        /// A pending booking nobody confirmed in time; its seats went back to the slot at
        /// [`Booking::confirm_by`], whether or not the status was written yet.
        Expired = "expired",
        /// Cancelled by its holder.
        Cancelled = "cancelled",
        /// Rejected by the appointment's owner.
        Rejected = "rejected",
        /// Marked by the owner, once its slot started, as attended.
        Completed = "completed",
        /// Marked by the owner, once its slot started, as not attended.
        NoShow = "no_show",
    },
    "status"
);

str_enum!(
    /// Where a hold stands. Only `Held` holds seats, and only until the hold's expiry.
    HoldStatus {
        /// Holds its seats until `expires_at` (after which they are free for any claim, whether
        /// or not the status was written yet: see [`Hold::is_live`]).
        Held = "held",
        /// Given back by whoever held the token.
        Released = "released",
        /// Ran out before it was booked; its seats went back to the slot.
        Expired = "expired",
        /// Turned into a booking, which took over its seats.
        Booked = "booked",
    },
    "status"
);

str_enum!(
    /// Where a place on a waiting list stands.
    WaitlistStatus {
        /// In line for the slot's seats.
        Waiting = "waiting",
        /// Seats freed up and are held for this place (a hold in its name, until the hold's
        /// expiry): book them with the hold's token.
        Offered = "offered",
        /// The offer was booked.
        Booked = "booked",
        /// The offer ran out unbooked; its seats went to the next in line.
        Expired = "expired",
        /// Left the list (or gave the offered seats back).
        Left = "left",
    },
    "status"
);

impl BookingStatus {
    /// The verb that ends an active booking with this status, as [`crate::Error::InvalidTransition`]
    /// names it (`"cancel"`, `"reject"`, `"complete"`, `"mark no-show"`).
    ///
    /// ```
    /// use appointment_core::BookingStatus;
    /// assert_eq!(BookingStatus::NoShow.end_action(), "mark no-show");
    /// ```
    pub fn end_action(self) -> &'static str {
        match self {
            BookingStatus::Rejected => "reject",
            BookingStatus::Completed => "complete",
            BookingStatus::NoShow => "mark no-show",
            BookingStatus::Declined => "decline",
            BookingStatus::Expired => "expire",
            BookingStatus::Active | BookingStatus::Pending | BookingStatus::Cancelled => "cancel",
        }
    }

    /// Whether a booking can end with this status at all: cancelled, rejected, declined,
    /// completed or no-show (not active, pending or expired, which no action sets).
    ///
    /// ```
    /// use appointment_core::BookingStatus;
    /// assert!(BookingStatus::Declined.is_end());
    /// assert!(!BookingStatus::Expired.is_end());
    /// ```
    pub fn is_end(self) -> bool {
        !matches!(
            self,
            BookingStatus::Active | BookingStatus::Pending | BookingStatus::Expired
        )
    }

    /// Whether a booking of this status holds seats (a pending one only until its
    /// [`Booking::confirm_by`]: see [`Booking::status_at`]).
    ///
    /// ```
    /// use appointment_core::BookingStatus;
    /// assert!(BookingStatus::Pending.holds_seats());
    /// assert!(!BookingStatus::Declined.holds_seats());
    /// ```
    pub fn holds_seats(self) -> bool {
        matches!(self, BookingStatus::Active | BookingStatus::Pending)
    }

    /// Whether a booking of this status can end as `end` (cancelled, rejected, declined,
    /// completed or no-show): an active booking ends in any of them but declined, a pending one
    /// as cancelled, rejected or declined; nothing else changes.
    ///
    /// ```
    /// use appointment_core::BookingStatus::*;
    /// assert!(Pending.can_end_as(Declined));
    /// assert!(!Active.can_end_as(Declined));
    /// assert!(!Pending.can_end_as(Completed));
    /// ```
    pub fn can_end_as(self, end: BookingStatus) -> bool {
        use BookingStatus::*;
        match self {
            Active => matches!(end, Cancelled | Rejected | Completed | NoShow),
            Pending => matches!(end, Cancelled | Rejected | Declined),
            _ => false,
        }
    }
}

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
    /// When the user proved they receive mail at [`User::email`] (see
    /// [`crate::Scheduler::verify_email`]); `None` until then.
    pub email_verified_at: Option<DateTime<Utc>>,
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
            .field("email_verified_at", &self.email_verified_at)
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
    /// The resource (person, room, chair) the appointment's bookings occupy, shared with the
    /// owner's other appointments that name it: a booking here makes the overlapping slots of
    /// those unavailable, buffer included.
    pub resource: Option<ResourceName>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last edited, closed or reopened (its creation time until then).
    pub updated_at: DateTime<Utc>,
    /// How many times it was edited, closed or reopened (0 when created). Every claim of seats
    /// names the revision its rules were checked against, and fails with
    /// [`crate::Error::Changed`] if the appointment changed since; every edit applies only to the
    /// revision it was made from.
    pub revision: u64,
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
    /// Booker's email, normalised (see [`Email`]); bans and anti-scalping compare its canonical
    /// form.
    pub email: Email,
    /// Booker's phone.
    pub phone: Option<Phone>,
    /// Start of the booked slot (UTC).
    pub slot_start: DateTime<Utc>,
    /// End of the booked slot (UTC).
    pub slot_end: DateTime<Utc>,
    /// Seats held.
    pub attendee_count: AttendeeCount,
    /// As stored: a `Pending` booking past its [`Booking::confirm_by`] holds nothing (see
    /// [`Booking::status_at`]).
    pub status: BookingStatus,
    /// While pending: the instant it expires unless the owner confirmed it (at the latest the
    /// slot's start). `None` for bookings that never waited for a confirmation.
    pub confirm_by: Option<DateTime<Utc>>,
    /// Free text from the booker.
    pub description: String,
    /// The verified device the booking came from, if any (strict anti-scalping requires one).
    pub device_id: Option<DeviceId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Seats of one slot kept for a short time (while a form is filled in or a payment made) by
/// whoever holds its token; see [`crate::Scheduler::hold`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// Primary key.
    pub id: HoldId,
    /// The token that books or releases it.
    pub token: HoldToken,
    /// The appointment whose seats are held.
    pub appointment_id: AppointmentId,
    /// The appointment's public code.
    pub app_code: AppCode,
    /// Start of the slot (UTC).
    pub slot_start: DateTime<Utc>,
    /// End of the slot (UTC).
    pub slot_end: DateTime<Utc>,
    /// Seats held.
    pub seats: AttendeeCount,
    /// As stored: a `Held` hold past its expiry holds nothing (see [`Hold::is_live`] and
    /// [`Hold::status_at`]).
    pub status: HoldStatus,
    /// When the seats go back to the slot unless the hold was booked or released first.
    pub expires_at: DateTime<Utc>,
    /// The booking the hold became, once booked.
    pub booking_id: Option<BookingId>,
    /// When it was taken.
    pub created_at: DateTime<Utc>,
    /// When its status last changed.
    pub updated_at: DateTime<Utc>,
}

impl Booking {
    /// Its status as of `now`: a pending booking whose [`Booking::confirm_by`] has passed is
    /// `Expired`, whether or not a claim on its slot has written that yet.
    ///
    /// ```
    /// # use appointment_core::BookingStatus;
    /// # fn demo(booking: appointment_core::Booking, now: chrono::DateTime<chrono::Utc>) {
    /// if booking.status_at(now) == BookingStatus::Pending {
    ///     println!("waiting for the owner until {:?}", booking.confirm_by);
    /// }
    /// # }
    /// ```
    pub fn status_at(&self, now: DateTime<Utc>) -> BookingStatus {
        match (self.status, self.confirm_by) {
            (BookingStatus::Pending, Some(by)) if now >= by => BookingStatus::Expired,
            (status, _) => status,
        }
    }
}

impl Hold {
    /// A new held hold of `seats` seats of the slot `[slot_start, slot_end)`, taken at `now` for
    /// `hold_minutes` minutes, with a fresh token: what [`crate::Scheduler::hold`] asks a store
    /// to insert, and what a store offers a waiting place. Its expiry is kept to the microsecond,
    /// the precision every store keeps, so that every store ends it at the same instant.
    pub fn new(
        appointment_id: AppointmentId,
        app_code: AppCode,
        (slot_start, slot_end): (DateTime<Utc>, DateTime<Utc>),
        seats: AttendeeCount,
        hold_minutes: u32,
        now: DateTime<Utc>,
    ) -> Hold {
        use chrono::SubsecRound;
        Hold {
            id: HoldId::new(),
            token: HoldToken::generate(),
            appointment_id,
            app_code,
            slot_start,
            slot_end,
            seats,
            status: HoldStatus::Held,
            expires_at: (now + chrono::TimeDelta::minutes(i64::from(hold_minutes)))
                .trunc_subsecs(6),
            booking_id: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether the hold still holds its seats at `now`: held, and `now` is before its expiry.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.status == HoldStatus::Held && now < self.expires_at
    }

    /// Its status as of `now`: a held hold whose expiry has passed is `Expired`, whether or not
    /// a claim on its slot has written that yet.
    pub fn status_at(&self, now: DateTime<Utc>) -> HoldStatus {
        if self.status == HoldStatus::Held && now >= self.expires_at {
            HoldStatus::Expired
        } else {
            self.status
        }
    }
}

/// A place on a slot's waiting list: someone who wants `seats` seats of a full slot. When seats
/// free up, the first place in line whose seats fit is offered them as a [`Hold`] (see
/// [`crate::Scheduler::join_waitlist`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistEntry {
    /// Primary key.
    pub id: WaitlistId,
    /// Public code; whoever holds it sees the place and the offer, and can leave.
    pub code: WaitlistCode,
    /// The appointment.
    pub appointment_id: AppointmentId,
    /// The appointment's public code.
    pub app_code: AppCode,
    /// Start of the slot (UTC).
    pub slot_start: DateTime<Utc>,
    /// End of the slot (UTC).
    pub slot_end: DateTime<Utc>,
    /// Who waits.
    pub name: Name,
    /// Their email (bans and anti-scalping compare its canonical form).
    pub email: Email,
    /// Seats wanted.
    pub seats: AttendeeCount,
    /// As stored: `Waiting`, `Offered` or `Left`; an offer's outcome (booked, expired, given
    /// back) is its hold's (see [`WaitlistEntry::status_with`]).
    pub status: WaitlistStatus,
    /// The hold offered to this place, once offered.
    pub hold_id: Option<HoldId>,
    /// When it joined.
    pub created_at: DateTime<Utc>,
    /// When its status last changed.
    pub updated_at: DateTime<Utc>,
}

impl WaitlistEntry {
    /// Its status as of `now`, given its offer's hold (if offered): the hold live is
    /// `Offered`, booked is `Booked`, expired is `Expired`, released is `Left`.
    pub fn status_with(&self, offer: Option<&Hold>, now: DateTime<Utc>) -> WaitlistStatus {
        match (self.status, offer) {
            (WaitlistStatus::Offered, Some(h)) => match h.status_at(now) {
                HoldStatus::Held => WaitlistStatus::Offered,
                HoldStatus::Booked => WaitlistStatus::Booked,
                HoldStatus::Expired => WaitlistStatus::Expired,
                HoldStatus::Released => WaitlistStatus::Left,
            },
            (status, _) => status,
        }
    }
}

/// An entry of an owner's ban list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    /// Primary key.
    pub id: BanId,
    /// The owner whose appointments the email may not book.
    pub owner: UserId,
    /// The banned mailbox, in [canonical](Email::canonical) form: it covers every `+tag` alias.
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> String {
        match Email::parse(raw) {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "email");
                reason
            }
            other => panic!("{raw:?} should be refused, got {other:?}"),
        }
    }

    #[test]
    fn invisible_and_control_characters_are_refused() {
        for raw in [
            "ja\u{200B}ne@example.com", // zero-width space
            "ja\u{200C}ne@example.com", // zero-width non-joiner
            "ja\u{200D}ne@example.com", // zero-width joiner
            "jane\u{2060}@example.com", // word joiner
            "\u{FEFF}jane@example.com", // byte order mark
            "ja\u{00AD}ne@example.com", // soft hyphen
            "jane@exa\u{200B}mple.com", // in the domain
            "ja\u{202E}ne@example.com", // right-to-left override
            "ja\u{0007}ne@example.com", // bell
            "ja ne@example.com",
            "jane@example.com\u{0000}",
            "ja\u{E000}ne@example.com", // private use
            "ja\u{3000}ne@example.com", // ideographic space
        ] {
            let reason = refused(raw);
            assert!(reason.contains("invisible"), "{raw:?}: {reason}");
        }
    }

    #[test]
    fn compatibility_forms_fold_to_one_address() {
        let plain = Email::parse("jane@example.com").unwrap();
        for raw in [
            "ｊａｎｅ@example.com",
            "jane＠ｅｘａｍｐｌｅ．ｃｏｍ",
            "JANE@EXAMPLE.COM",
            "  Jane@Example.com\t",
        ] {
            assert_eq!(Email::parse(raw).unwrap(), plain, "{raw:?}");
        }
        // A ligature is its letters.
        assert_eq!(
            Email::parse("ﬁona@example.com").unwrap().as_str(),
            "fiona@example.com"
        );
    }

    #[test]
    fn quoted_local_parts_literals_and_display_names_are_refused() {
        assert!(refused("\"jane\"@example.com").contains("quoted"));
        assert!(refused("\"ja ne\"@example.com").contains("invisible"));
        assert!(refused("\"a@b\"@example.com").contains("quoted"));
        assert!(refused("jane@[127.0.0.1]").contains("literal"));
        assert!(refused("jane@[IPv6:::1]").contains("literal"));
        assert!(refused("Jane <jane@example.com>").contains("invisible"));
        assert!(refused("<jane@example.com>").contains("plain"));
        assert!(refused("jane(comment)@example.com").contains("plain"));
    }

    #[test]
    fn what_no_real_mailbox_uses_is_refused() {
        for raw in [
            "jane",
            "@example.com",
            "jane@",
            "jane@localhost",
            "jane@127.0.0.1",
            "jane@example.com.",
            "jane@.example.com",
            "jane@exa_mple.com",
            "jane@-example.com",
            "jane@@example.com",
            "a@b@example.com",
            "jane..doe@example.com",
            ".jane@example.com",
            "ja✓ne@example.com",
            "jane☃@example.com",
        ] {
            refused(raw);
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(refused(&long_local).contains("64 bytes"));
        let long = format!("a@{}.com", "b.".repeat(130));
        refused(&long);
        refused(&"a".repeat(5000));
    }

    #[test]
    fn international_addresses_keep_letters_and_take_the_ascii_domain() {
        assert_eq!(
            Email::parse("José@Bücher.DE").unwrap().as_str(),
            "josé@xn--bcher-kva.de"
        );
        // The same domain written in Unicode or in punycode is one address.
        assert_eq!(
            Email::parse("ana@bücher.de").unwrap(),
            Email::parse("ana@xn--bcher-kva.de").unwrap()
        );
        // A decomposed accent is composed.
        assert_eq!(
            Email::parse("jose\u{0301}@example.com").unwrap(),
            Email::parse("jos\u{00E9}@example.com").unwrap()
        );
        assert_eq!(
            Email::parse("o'brien+x@example.co.uk").unwrap().as_str(),
            "o'brien+x@example.co.uk"
        );
    }

    #[test]
    fn plus_aliases_share_the_canonical_mailbox() {
        let base = Email::parse("ann@example.com").unwrap();
        for n in 1..=20 {
            let alias = Email::parse(&format!("Ann+{n}@Example.com")).unwrap();
            assert_ne!(alias, base);
            assert_eq!(alias.canonical(), "ann@example.com");
            assert!(alias.same_mailbox(&base));
            assert_eq!(alias.mailbox(), base);
        }
        assert_eq!(
            Email::parse("ann+a+b@example.com").unwrap().canonical(),
            "ann@example.com"
        );
        assert!(
            !Email::parse("ann-1@example.com")
                .unwrap()
                .same_mailbox(&base)
        );
        assert!(
            !Email::parse("a.nn@example.com")
                .unwrap()
                .same_mailbox(&base)
        );
    }

    #[test]
    fn device_ids_are_normalised_and_bounded() {
        assert_eq!(
            DeviceId::parse("  Phone-1 ").unwrap(),
            DeviceId::parse("phone-1").unwrap()
        );
        for raw in [
            "",
            "   ",
            "ph one",
            "phone\u{200B}1",
            "ｐhone",
            "phone\n1",
            "é",
        ] {
            assert!(DeviceId::parse(raw).is_err(), "{raw:?}");
        }
        assert!(DeviceId::parse(&"a".repeat(128)).is_ok());
        assert!(DeviceId::parse(&"a".repeat(129)).is_err());
        assert!(DeviceId::parse("AbC+/=_.:-9").is_ok());
        assert_eq!(
            DeviceId::from_stored("Old Device").unwrap().as_str(),
            "Old Device"
        );
    }

    #[test]
    fn stored_addresses_stay_readable() {
        // Written by an earlier version that accepted them: still readable, compared canonically.
        let old = Email::from_stored("\"x+y\"@[127.0.0.1]").unwrap();
        assert_eq!(old.as_str(), "\"x+y\"@[127.0.0.1]");
        assert_eq!(
            Email::from_stored("ann+1@example.com").unwrap().canonical(),
            "ann@example.com"
        );
        assert!(Email::from_stored("no-at-sign").is_err());
    }
}
