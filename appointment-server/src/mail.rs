//! Email: confirmations with calendar invites, notices to owners, waiting-list offers and
//! reminders, sent over SMTP off the request path.
//!
//! A [`Mailer`] runs beside the server in every replica, with the outbox and retry machinery
//! webhooks use:
//!
//! 1. **Making messages.** It reads the outbox after the mail cursor and renders the messages
//!    each event calls for (templates in plain text and HTML, an iCalendar invite attached to
//!    what the booker receives), writing them together with the cursor's advance, conditional
//!    on the cursor not having moved: replicas never make one message twice. Reminders are
//!    made with the booking (one per lead time in [`MailConfig::reminders`]) and come due
//!    before the slot; one whose booking was cancelled or moved by then is skipped.
//! 2. **Sending.** A [`Courier`] claims due messages under a lease, sends them over SMTP at most
//!    [`MailConfig::concurrency`] at once, and retries a temporary failure on
//!    [`MailConfig::retry_schedule`]; a permanent refusal (an unknown mailbox) fails at once.
//!    A replica killed mid-send loses nothing (at least once; the `Message-ID` stays the same).
//!
//! Without `SMTP_URL` email is off: the cursor still moves past events (so that turning email
//! on later does not send a flood of old news, and events can be pruned), nothing is rendered
//! or sent, and the server says so once at start.
//!
//! | Event | To the booker | To the owner |
//! |-------|---------------|--------------|
//! | `booking.created` | confirmation (or "request received" while pending), invite | notice |
//! | `booking.rescheduled` | the new time, updated invite | |
//! | `booking.confirmed` / `declined` / `expired` | the owner's answer, invite or its withdrawal | |
//! | `booking.cancelled` / `rejected` | the cancellation, withdrawal of the invite | |
//! | `waitlist.offered` | the offer and until when it stands | |
//! | (a lead time before the slot) | reminder | |

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use appointment_core::{
    AppCode, Appointment, Booking, BookingCode, BookingStatus, Event, EventKind, EventSubject,
    Scheduler, User, UserId, WaitlistStatus,
};
use appointment_store::{DueMail, MailAttempt, MailStatus, NewMail, ServiceStore};
use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::courier::{Channel, Courier, next_attempt, repeat};

/// The default sender.
pub const DEFAULT_FROM: &str = "Appointment Master <no-reply@localhost>";

/// Events read from the outbox per round.
const BATCH: u32 = 200;

/// How email is sent.
#[derive(Clone)]
pub struct MailConfig {
    /// The SMTP server (`SMTP_URL`, e.g. `smtps://user:password@mail.example.com` or
    /// `smtp://127.0.0.1:2525`; `smtp://…?tls=required` for STARTTLS); `None`: email is off.
    /// It may carry a password: never logged.
    pub smtp_url: Option<String>,
    /// The sender (`MAIL_FROM`).
    pub from: String,
    /// Where the service is reached from outside (`PUBLIC_URL`), for links in messages; without
    /// it messages carry the booking code and no links.
    pub public_url: Option<String>,
    /// A directory of templates that replace the built-in ones of the same name
    /// (`MAIL_TEMPLATES_DIR`).
    pub templates_dir: Option<PathBuf>,
    /// How long before a booked slot its reminders are sent (`MAIL_REMINDERS`, e.g. `24h,1h`;
    /// `off` for none).
    pub reminders: Vec<Duration>,
    /// The most messages in flight at once (`MAIL_CONCURRENCY`).
    pub concurrency: usize,
    /// How long one SMTP exchange may take (`MAIL_TIMEOUT_MS`).
    pub timeout: Duration,
    /// The waits after each failed attempt (`MAIL_RETRY_SCHEDULE`, seconds, comma-separated).
    pub retry_schedule: Vec<Duration>,
    /// How often the outbox and the due messages are looked at (`MAIL_POLL_MS`).
    pub poll: Duration,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp", &self.smtp_url.as_ref().map(|_| "<set>"))
            .field("from", &self.from)
            .field("public_url", &self.public_url)
            .field("templates_dir", &self.templates_dir)
            .field("reminders", &self.reminders)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_url: None,
            from: DEFAULT_FROM.into(),
            public_url: None,
            templates_dir: None,
            reminders: vec![Duration::from_secs(24 * 3600)],
            concurrency: 4,
            timeout: Duration::from_secs(30),
            retry_schedule: crate::webhooks::DEFAULT_RETRY_SCHEDULE.to_vec(),
            poll: Duration::from_millis(500),
        }
    }
}

/// A duration such as `90s`, `15m`, `24h` or `2d` (a bare number is seconds).
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

impl MailConfig {
    /// Reads `SMTP_URL`, `MAIL_*` and `PUBLIC_URL` through `get`.
    pub fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut c = MailConfig {
            smtp_url: get("SMTP_URL")
                .map(|u| u.trim().to_owned())
                .filter(|u| !u.is_empty()),
            ..MailConfig::default()
        };
        if let Some(from) = get("MAIL_FROM") {
            c.from = from.trim().to_owned();
        }
        if c.from.parse::<Mailbox>().is_err() {
            return Err(format!(
                "MAIL_FROM must be an address such as \"Shop <bookings@example.com>\", not {:?}",
                c.from
            ));
        }
        if let Some(url) = get("PUBLIC_URL") {
            let url = url.trim().trim_end_matches('/').to_owned();
            if !(url.starts_with("http://") || url.starts_with("https://"))
                || reqwest::Url::parse(&url).is_err()
            {
                return Err(format!(
                    "PUBLIC_URL must be an http:// or https:// URL, not {url:?}"
                ));
            }
            c.public_url = Some(url);
        }
        c.templates_dir = get("MAIL_TEMPLATES_DIR")
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty())
            .map(PathBuf::from);
        if let Some(v) = get("MAIL_REMINDERS") {
            let v = v.trim();
            c.reminders = if v.is_empty() || v.eq_ignore_ascii_case("off") {
                Vec::new()
            } else {
                v.split(',')
                    .map(|s| {
                        parse_duration(s).filter(|d| !d.is_zero() && d.as_secs() <= 30 * 86_400)
                    })
                    .collect::<Option<Vec<_>>>()
                    .filter(|r| r.len() <= 5)
                    .ok_or_else(|| {
                        format!(
                            "MAIL_REMINDERS must be up to 5 comma-separated lead times such as \
                             24h or 90m (at most 30d), or off, not {v:?}"
                        )
                    })?
            };
            c.reminders.sort_unstable_by(|a, b| b.cmp(a));
            c.reminders.dedup();
        }
        let number = |var: &str, v: &str, min: u64, max: u64| {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| format!("{var} must be {min} to {max}, not {v:?}"))
        };
        if let Some(v) = get("MAIL_CONCURRENCY") {
            c.concurrency = usize::try_from(number("MAIL_CONCURRENCY", &v, 1, 256)?).unwrap_or(1);
        }
        if let Some(v) = get("MAIL_TIMEOUT_MS") {
            c.timeout = Duration::from_millis(number("MAIL_TIMEOUT_MS", &v, 1, 300_000)?);
        }
        if let Some(v) = get("MAIL_POLL_MS") {
            c.poll = Duration::from_millis(number("MAIL_POLL_MS", &v, 1, 60_000)?);
        }
        if let Some(v) = get("MAIL_RETRY_SCHEDULE") {
            c.retry_schedule = crate::webhooks::parse_retry_schedule("MAIL_RETRY_SCHEDULE", &v)?;
        }
        Ok(c)
    }
}

/// The messages there are templates for: each has `NAME.txt` (blocks `subject` and `body`) and
/// `NAME.html` (the HTML body).
pub const MESSAGES: [&str; 11] = [
    "booking-created",
    "booking-created-owner",
    "booking-rescheduled",
    "booking-confirmed",
    "booking-declined",
    "booking-expired",
    "booking-cancelled",
    "booking-rejected",
    "booking-reminder",
    "waitlist-offered",
    "verify-email",
];

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("../templates/mail/", $name)))),*]
    };
}

/// The built-in templates, by file name.
const BUILTIN: [(&str, &str); 23] = builtin!(
    "layout.html",
    "booking-created.txt",
    "booking-created.html",
    "booking-created-owner.txt",
    "booking-created-owner.html",
    "booking-rescheduled.txt",
    "booking-rescheduled.html",
    "booking-confirmed.txt",
    "booking-confirmed.html",
    "booking-declined.txt",
    "booking-declined.html",
    "booking-expired.txt",
    "booking-expired.html",
    "booking-cancelled.txt",
    "booking-cancelled.html",
    "booking-rejected.txt",
    "booking-rejected.html",
    "booking-reminder.txt",
    "booking-reminder.html",
    "waitlist-offered.txt",
    "waitlist-offered.html",
    "verify-email.txt",
    "verify-email.html",
);

/// The templates messages are rendered with: the built-in ones, each replaced by a file of the
/// same name in the templates directory if there is one. `.html` templates escape what they
/// show; `.txt` ones do not.
#[derive(Debug)]
pub struct Templates {
    env: minijinja::Environment<'static>,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line (one line).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

impl Templates {
    /// The built-in templates, with those of `dir` in their place. Fails on a file of `dir`
    /// that is not a template's name (a typo would otherwise be ignored), or on a template
    /// that does not parse.
    pub fn load(dir: Option<&Path>) -> Result<Self, String> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        let mut sources: HashMap<String, String> = BUILTIN
            .iter()
            .map(|(n, s)| ((*n).to_owned(), (*s).to_owned()))
            .collect();
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| format!("MAIL_TEMPLATES_DIR {}: {e}", dir.display()))?;
            for entry in entries {
                let entry =
                    entry.map_err(|e| format!("MAIL_TEMPLATES_DIR {}: {e}", dir.display()))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if !sources.contains_key(&name) {
                    return Err(format!(
                        "MAIL_TEMPLATES_DIR holds {name}, which is no template's name (they are \
                         layout.html and, for each message, NAME.txt and NAME.html with NAME one \
                         of {})",
                        MESSAGES.join(", ")
                    ));
                }
                let text = std::fs::read_to_string(entry.path())
                    .map_err(|e| format!("MAIL_TEMPLATES_DIR {name}: {e}"))?;
                sources.insert(name, text);
            }
        }
        for (name, source) in sources {
            env.add_template_owned(name.clone(), source)
                .map_err(|e| format!("mail template {name}: {e}"))?;
        }
        Ok(Templates { env })
    }

    /// Renders message `name` (one of [`MESSAGES`]) with `context` (a [`MailContext`], or an
    /// [`AccountContext`] for `verify-email`).
    pub fn render(&self, name: &str, context: &impl Serialize) -> Result<Rendered, String> {
        let ctx = minijinja::Value::from(minijinja::value::Serde(context));
        let fail = |e: minijinja::Error| format!("mail template {name}: {e:#}");
        let text = self
            .env
            .get_template(&format!("{name}.txt"))
            .map_err(fail)?;
        let mut captured = text.render_captured(ctx.clone()).map_err(fail)?;
        let subject = captured
            .with_state_mut(|state| state.render_block("subject"))
            .map_err(fail)?;
        let body = captured
            .with_state_mut(|state| state.render_block("body"))
            .map_err(fail)?;
        let html = self
            .env
            .get_template(&format!("{name}.html"))
            .map_err(fail)?
            .render(ctx)
            .map_err(fail)?;
        Ok(Rendered {
            // One line, whatever the template or the data did.
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: body.trim().to_owned() + "\n",
            html,
        })
    }
}

/// What templates see.
#[derive(Debug, Clone, Serialize)]
pub struct MailContext {
    /// The appointment.
    pub appointment: AppointmentView,
    /// Its owner.
    pub owner: PersonView,
    /// The booking the message is about, if it is about one.
    pub booking: Option<BookingView>,
    /// The waiting place the message is about, if it is about one.
    pub place: Option<PlaceView>,
    /// For a reminder: how long before the slot it is sent, in words (`24 hours`).
    pub reminder: Option<String>,
    /// Links, where `PUBLIC_URL` is set.
    pub links: LinksView,
}

/// What the templates of messages about an account (`verify-email`) see.
#[derive(Debug, Clone, Serialize)]
pub struct AccountContext {
    /// The account's holder.
    pub user: PersonView,
    /// The link that verifies the address (`None` without `PUBLIC_URL`).
    pub link: Option<String>,
    /// The token the link carries (for `GET /users/verify-email?token=…` by hand).
    pub token: String,
    /// Until when the link works.
    pub expires: String,
}

/// An appointment as templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct AppointmentView {
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// Its public code.
    pub code: String,
    /// Its IANA time zone, in which times are shown.
    pub time_zone: String,
}

/// A person as templates see them.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    /// Their name.
    pub name: String,
    /// Their email address.
    pub email: String,
}

/// A booking as templates see it; times in the appointment's zone.
#[derive(Debug, Clone, Serialize)]
pub struct BookingView {
    /// Its code.
    pub code: String,
    /// The booker's name.
    pub name: String,
    /// The booker's email address.
    pub email: String,
    /// Its seats.
    pub seats: u32,
    /// Its status (`active`, `pending`, `cancelled`, …).
    pub status: String,
    /// Whether it waits for the owner's confirmation.
    pub pending: bool,
    /// The slot's start, e.g. `Tuesday 8 December 2026, 09:00`.
    pub starts: String,
    /// The slot's end time of day, e.g. `10:00`.
    pub ends: String,
    /// The slot's start as an RFC 3339 UTC instant.
    pub starts_utc: String,
    /// While pending: until when the owner may confirm it.
    pub confirm_by: Option<String>,
}

/// A waiting place as templates see it.
#[derive(Debug, Clone, Serialize)]
pub struct PlaceView {
    /// Its code.
    pub code: String,
    /// The name of whoever waits.
    pub name: String,
    /// The seats wanted.
    pub seats: u32,
    /// The slot's start.
    pub starts: String,
    /// Until when the offer stands.
    pub offer_expires: Option<String>,
}

/// Links in messages (each `None` without `PUBLIC_URL`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinksView {
    /// The booking (what its code shows, changes and cancels).
    pub booking: Option<String>,
    /// The booking's calendar file.
    pub ics: Option<String>,
    /// The waiting place.
    pub place: Option<String>,
}

/// What the store keeps of a message: everything the sender needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredMessage {
    to_name: String,
    subject: String,
    text: String,
    html: String,
    /// The owner's address, for replies to what the booker receives.
    reply_to: Option<String>,
    /// The attached invite and its method.
    ics: Option<(String, String)>,
    /// A reminder's condition: the booking (its code), still on at this start (microseconds
    /// since the epoch).
    check: Option<(String, i64)>,
}

fn local(at: DateTime<Utc>, zone: chrono_tz::Tz, format: &str) -> String {
    at.with_timezone(&zone).format(format).to_string()
}

const DAY_FORMAT: &str = "%A %-d %B %Y, %H:%M";

fn words(d: Duration) -> String {
    let s = d.as_secs();
    let (n, unit) = if s.is_multiple_of(86_400) {
        (s / 86_400, "day")
    } else if s.is_multiple_of(3600) {
        (s / 3600, "hour")
    } else if s.is_multiple_of(60) {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Sends messages: the [`Channel`] a [`Courier`] runs for the [`Mailer`].
#[derive(Clone)]
pub struct MailChannel {
    store: Arc<dyn ServiceStore>,
    scheduler: Scheduler<dyn ServiceStore>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    retry_schedule: Arc<[Duration]>,
    metrics: crate::metrics::Metrics,
}

impl std::fmt::Debug for MailChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailChannel")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Channel for MailChannel {
    type Due = DueMail;
    type Outcome = MailAttempt;
    const NAME: &'static str = "mail";

    async fn claim(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> appointment_core::Result<Vec<DueMail>> {
        self.store.claim_mail(now, lease_until, limit).await
    }

    async fn attempt(&self, due: &DueMail) -> MailAttempt {
        let at = Utc::now();
        let outcome = |status, error: Option<String>| MailAttempt {
            status,
            next_attempt_at: None,
            error,
            at,
        };
        let Ok(stored) = serde_json::from_str::<StoredMessage>(&due.message) else {
            return outcome(
                MailStatus::Failed,
                Some("the stored message does not parse".into()),
            );
        };
        if let Some((code, start)) = &stored.check
            && let Some(why) = self.no_longer_applies(code, *start, at).await
        {
            return outcome(MailStatus::Skipped, Some(why));
        }
        let message = match self.build(due, &stored) {
            Ok(m) => m,
            Err(why) => return outcome(MailStatus::Failed, Some(why)),
        };
        match self.transport.send(message).await {
            Ok(_) => outcome(MailStatus::Sent, None),
            Err(e) if e.is_permanent() => outcome(
                MailStatus::Failed,
                Some(format!(
                    "the mail server refused the message ({})",
                    smtp_code(&e)
                )),
            ),
            Err(e) => {
                let error = if e.is_timeout() {
                    "the mail server did not answer in time".to_owned()
                } else if e.is_transient() {
                    format!("the mail server deferred the message ({})", smtp_code(&e))
                } else {
                    "could not reach the mail server".to_owned()
                };
                let next_attempt_at = next_attempt(&self.retry_schedule, due.attempt, at);
                MailAttempt {
                    status: if next_attempt_at.is_some() {
                        MailStatus::Pending
                    } else {
                        MailStatus::Failed
                    },
                    next_attempt_at,
                    error: Some(error),
                    at,
                }
            }
        }
    }

    async fn finish(&self, due: &DueMail, outcome: &MailAttempt) -> appointment_core::Result<()> {
        self.store.finish_mail(due.id, due.attempt, outcome).await
    }

    fn count(&self, outcome: &MailAttempt) {
        self.metrics.count_mail(match outcome.status {
            MailStatus::Sent => crate::metrics::SENT,
            MailStatus::Pending => crate::metrics::RETRY,
            MailStatus::Failed => crate::metrics::FAILED,
            MailStatus::Skipped => crate::metrics::SKIPPED,
        });
    }
}

/// An SMTP error's status code, for the log (never the server's text, which may echo data).
fn smtp_code(e: &lettre::transport::smtp::Error) -> String {
    e.status()
        .map(|c| format!("SMTP {c}"))
        .unwrap_or_else(|| "no SMTP status".into())
}

impl MailChannel {
    /// Why a reminder for the booking `code` starting at `start` no longer applies at `now`.
    async fn no_longer_applies(
        &self,
        code: &str,
        start_micros: i64,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let booking = match BookingCode::parse(code) {
            Ok(code) => self.scheduler.booking(&code).await,
            Err(e) => Err(e),
        };
        match booking {
            Ok(b) if b.slot_start.timestamp_micros() != start_micros => {
                Some("the booking was moved".into())
            }
            Ok(b) if b.status_at(now) != BookingStatus::Active => {
                Some(format!("the booking is {}", b.status_at(now).as_str()))
            }
            Ok(_) => None,
            Err(appointment_core::Error::NotFound(_)) => Some("the booking is gone".into()),
            // The store could not answer: send rather than miss a reminder.
            Err(_) => None,
        }
    }

    fn build(&self, due: &DueMail, m: &StoredMessage) -> Result<lettre::Message, String> {
        let address = due
            .recipient
            .parse()
            .map_err(|_| "the recipient's address cannot be written in a message".to_owned())?;
        let to = Mailbox::new(Some(m.to_name.clone()), address);
        let domain = self.from.email.domain().to_owned();
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            // The same on every attempt: a receiver can drop a message it already has.
            .message_id(Some(format!("<{}@{domain}>", due.id)));
        if let Some(reply) = m.reply_to.as_ref().and_then(|r| r.parse::<Mailbox>().ok()) {
            builder = builder.reply_to(reply);
        }
        let body = MultiPart::alternative_plain_html(m.text.clone(), m.html.clone());
        let result = match &m.ics {
            Some((method, ics)) => {
                let calendar =
                    ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                        .map_err(|e| e.to_string())?;
                builder.multipart(
                    MultiPart::mixed().multipart(body).singlepart(
                        Attachment::new("invite.ics".into()).body(ics.clone(), calendar),
                    ),
                )
            }
            None => builder.multipart(body),
        };
        result.map_err(|e| format!("the message could not be built ({e})"))
    }
}

/// Makes and sends email; see the [module documentation](self).
#[derive(Clone)]
pub struct Mailer {
    store: Arc<dyn ServiceStore>,
    scheduler: Scheduler<dyn ServiceStore>,
    config: MailConfig,
    templates: Arc<Templates>,
    wake: Arc<Notify>,
    courier: Option<Courier<MailChannel>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("config", &self.config)
            .field("enabled", &self.courier.is_some())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer over the scheduler's store. Fails on templates that do not load or an
    /// `SMTP_URL` that does not parse (without saying what it holds).
    pub fn new(
        scheduler: Scheduler<dyn ServiceStore>,
        store: Arc<dyn ServiceStore>,
        config: MailConfig,
    ) -> Result<Self, String> {
        let templates = Arc::new(Templates::load(config.templates_dir.as_deref())?);
        let courier = match &config.smtp_url {
            None => None,
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|_| {
                        "SMTP_URL must be a URL such as smtp://host:port, \
                         smtps://user:password@host or smtp://host?tls=required"
                            .to_owned()
                    })?
                    .timeout(Some(config.timeout))
                    .build();
                let channel = MailChannel {
                    store: store.clone(),
                    scheduler: scheduler.clone(),
                    transport,
                    from: config
                        .from
                        .parse()
                        .map_err(|_| "MAIL_FROM is not an address")?,
                    retry_schedule: config.retry_schedule.clone().into(),
                    metrics: crate::metrics::Metrics::off(),
                };
                Some(Courier::new(
                    channel,
                    config.concurrency,
                    config.poll,
                    config.timeout * 2,
                ))
            }
        };
        Ok(Mailer {
            store,
            scheduler,
            config,
            templates,
            wake: Arc::new(Notify::new()),
            courier,
        })
    }

    /// A mailer that sends nothing (email off), for states built without a configuration.
    pub fn off(scheduler: Scheduler<dyn ServiceStore>, store: Arc<dyn ServiceStore>) -> Self {
        Mailer {
            store,
            scheduler,
            config: MailConfig::default(),
            templates: Arc::new(Templates {
                env: minijinja::Environment::new(),
            }),
            wake: Arc::new(Notify::new()),
            courier: None,
        }
    }

    /// The mailer, counting its attempts into `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        if let Some(courier) = &self.courier {
            let channel = MailChannel {
                metrics,
                ..courier.channel().clone()
            };
            self.courier = Some(Courier::new(
                channel,
                self.config.concurrency,
                self.config.poll,
                self.config.timeout * 2,
            ));
        }
        self
    }

    /// Whether email is sent (`SMTP_URL` is set).
    pub fn enabled(&self) -> bool {
        self.courier.is_some()
    }

    /// Makes the mailer look at the outbox and the due messages now.
    pub fn wake(&self) {
        self.wake.notify_one();
        if let Some(c) = &self.courier {
            c.wake();
        }
    }

    /// Runs until the task is dropped: the loop that makes messages (or, with email off, moves
    /// the cursor past events), and beside it the courier that sends them.
    pub async fn run(self) {
        let this = &self;
        let make = repeat(
            self.config.poll,
            &self.wake,
            "making email messages",
            || async move {
                let n = this.fan_out_once().await?;
                if n > 0
                    && let Some(c) = &this.courier
                {
                    c.wake();
                }
                Ok(n == BATCH as usize)
            },
        );
        match &self.courier {
            Some(courier) => {
                tokio::join!(make, courier.run());
            }
            None => make.await,
        }
    }

    /// Makes the messages of one batch of events (at most [`BATCH`]); answers how many events
    /// it read (0 also when another replica made them first).
    pub async fn fan_out_once(&self) -> appointment_core::Result<usize> {
        let from = self.store.mail_cursor().await?;
        let events = self.scheduler.events(None, from, BATCH).await?;
        let Some(last) = events.last().map(|e| e.cursor) else {
            return Ok(0);
        };
        let mails = if self.enabled() {
            self.messages_for(&events).await?
        } else {
            Vec::new()
        };
        if !self.store.enqueue_mail(from, last, &mails).await? {
            return Ok(0);
        }
        Ok(events.len())
    }

    /// Makes everything the outbox holds after the cursor into messages; answers how many
    /// events it read.
    pub async fn fan_out(&self) -> appointment_core::Result<usize> {
        let mut read = 0;
        loop {
            let n = self.fan_out_once().await?;
            read += n;
            if n < BATCH as usize {
                return Ok(read);
            }
        }
    }

    /// Queues the message that lets `user` verify their address with `token` (valid until
    /// `expires`): at most one per address and hour. Answers whether one was queued (`false`:
    /// email is off, or one went out within the hour).
    pub async fn queue_verification(
        &self,
        user: &User,
        token: &str,
        expires: DateTime<Utc>,
    ) -> appointment_core::Result<bool> {
        if !self.enabled() {
            return Ok(false);
        }
        let ctx = AccountContext {
            user: PersonView {
                name: user.name.as_str().to_owned(),
                email: user.email.as_str().to_owned(),
            },
            link: self
                .config
                .public_url
                .as_ref()
                .map(|u| format!("{u}/users/verify-email?token={token}")),
            token: token.to_owned(),
            expires: expires.format("%A %-d %B %Y, %H:%M UTC").to_string(),
        };
        let r = self
            .templates
            .render("verify-email", &ctx)
            .map_err(|why| appointment_core::Error::storage(std::io::Error::other(why)))?;
        let now = Utc::now();
        let hour = now.timestamp() / 3600;
        let message = StoredMessage {
            to_name: user.name.as_str().to_owned(),
            subject: r.subject,
            text: r.text,
            html: r.html,
            reply_to: None,
            ics: None,
            check: None,
        };
        let queued = self
            .store
            .insert_mail(&NewMail {
                id: Uuid::new_v4(),
                key: Uuid::new_v5(
                    &user.id.0,
                    format!("verify {} {hour}", user.email.as_str()).as_bytes(),
                ),
                role: "account".into(),
                kind: "verify-email".into(),
                recipient: user.email.as_str().to_owned(),
                subject_id: user.id.0,
                message: serde_json::to_string(&message).unwrap_or_default(),
                due_at: now,
                created_at: now,
            })
            .await?;
        if queued && let Some(c) = &self.courier {
            c.wake();
        }
        Ok(queued)
    }

    /// Sends what is due now (as many as there are free places); answers how many it claimed.
    pub async fn deliver_due(&self) -> appointment_core::Result<usize> {
        match &self.courier {
            Some(c) => c.deliver_due().await,
            None => Ok(0),
        }
    }

    async fn messages_for(&self, events: &[Event]) -> appointment_core::Result<Vec<NewMail>> {
        let mut apps: HashMap<AppCode, Option<Appointment>> = HashMap::new();
        let mut owners: HashMap<UserId, Option<User>> = HashMap::new();
        let mut out = Vec::new();
        let now = Utc::now();
        for e in events {
            if !matches!(
                e.kind,
                EventKind::BookingCreated
                    | EventKind::BookingRescheduled
                    | EventKind::BookingConfirmed
                    | EventKind::BookingDeclined
                    | EventKind::BookingExpired
                    | EventKind::BookingCancelled
                    | EventKind::BookingRejected
                    | EventKind::WaitlistOffered
            ) {
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = apps.entry(e.app_code.clone())
            {
                slot.insert(found(self.scheduler.appointment(&e.app_code).await)?);
            }
            let Some(Some(app)) = apps.get(&e.app_code) else {
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(slot) = owners.entry(e.owner) {
                slot.insert(found(self.scheduler.user(e.owner).await)?);
            }
            let Some(Some(owner)) = owners.get(&e.owner) else {
                continue;
            };
            match self.event_messages(e, app, owner, now).await {
                Ok(mut mails) => out.append(&mut mails),
                // A template an operator broke: the event gets no message, the others do.
                Err(MakeError::Template(why)) => {
                    tracing::error!(error = %why, event = %e.kind.as_str(), "a message could not be rendered");
                }
                Err(MakeError::Store(e)) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn event_messages(
        &self,
        e: &Event,
        app: &Appointment,
        owner: &User,
        now: DateTime<Utc>,
    ) -> Result<Vec<NewMail>, MakeError> {
        let zone = app.schedule.time_zone().tz();
        let link = |path: String| {
            self.config
                .public_url
                .as_ref()
                .map(|u| format!("{u}{path}"))
        };
        let mut ctx = MailContext {
            appointment: AppointmentView {
                title: app.title.clone(),
                description: app.description.clone(),
                code: app.code.to_string(),
                time_zone: app.schedule.time_zone().name().to_owned(),
            },
            owner: PersonView {
                name: owner.name.as_str().to_owned(),
                email: owner.email.as_str().to_owned(),
            },
            booking: None,
            place: None,
            reminder: None,
            links: LinksView::default(),
        };
        let mail =
            |name: &str, role: &str, to: (&str, &str), subject_id: Uuid, ctx: &MailContext| {
                let r = self
                    .templates
                    .render(name, ctx)
                    .map_err(MakeError::Template)?;
                Ok::<_, MakeError>((
                    NewMail {
                        id: Uuid::new_v4(),
                        key: e.id.0,
                        role: role.to_owned(),
                        kind: name.to_owned(),
                        recipient: to.1.to_owned(),
                        subject_id,
                        message: String::new(),
                        due_at: now,
                        created_at: now,
                    },
                    StoredMessage {
                        to_name: to.0.to_owned(),
                        subject: r.subject,
                        text: r.text,
                        html: r.html,
                        reply_to: None,
                        ics: None,
                        check: None,
                    },
                ))
            };
        let seal = |(mut m, s): (NewMail, StoredMessage)| {
            m.message = serde_json::to_string(&s).unwrap_or_default();
            m
        };
        match &e.subject {
            EventSubject::Waitlist {
                code,
                name,
                email,
                seats,
                slot_start,
                ..
            } => {
                // The offer as it stands: none is sent for one already taken or gone.
                let Ok(place) = self.scheduler.waitlist_place(code).await else {
                    return Ok(Vec::new());
                };
                if place.status != WaitlistStatus::Offered {
                    return Ok(Vec::new());
                }
                ctx.place = Some(PlaceView {
                    code: code.to_string(),
                    name: name.as_str().to_owned(),
                    seats: seats.get(),
                    starts: local(*slot_start, zone, DAY_FORMAT),
                    offer_expires: place
                        .offer
                        .as_ref()
                        .map(|h| local(h.expires_at, zone, DAY_FORMAT)),
                });
                ctx.links.place = link(format!("/waitlist/{code}"));
                let (m, mut s) = mail(
                    "waitlist-offered",
                    "guest",
                    (name.as_str(), email.as_str()),
                    e.subject_id(),
                    &ctx,
                )?;
                s.reply_to = Some(owner.email.as_str().to_owned());
                Ok(vec![seal((m, s))])
            }
            EventSubject::Booking {
                code,
                status,
                slot_start,
                slot_end,
                seats,
                name,
                email,
                confirm_by,
                id,
            } => {
                let current = match self.scheduler.booking(code).await {
                    Ok(b) => b,
                    Err(appointment_core::Error::NotFound(_)) => return Ok(Vec::new()),
                    Err(e) => return Err(MakeError::Store(e)),
                };
                // The booking as the event left it (it may have changed since).
                let booking = Booking {
                    status: *status,
                    slot_start: *slot_start,
                    slot_end: *slot_end,
                    attendee_count: *seats,
                    confirm_by: *confirm_by,
                    updated_at: e.at,
                    ..current
                };
                ctx.booking = Some(BookingView {
                    code: code.to_string(),
                    name: name.as_str().to_owned(),
                    email: email.as_str().to_owned(),
                    seats: seats.get(),
                    status: status.as_str().to_owned(),
                    pending: *status == BookingStatus::Pending,
                    starts: local(*slot_start, zone, DAY_FORMAT),
                    ends: local(*slot_end, zone, "%H:%M"),
                    starts_utc: crate::dto::timestamp(*slot_start),
                    confirm_by: confirm_by.map(|t| local(t, zone, DAY_FORMAT)),
                });
                ctx.links.booking = link(format!("/bookings/{code}"));
                ctx.links.ics = link(format!("/bookings/{code}/ics"));
                let name_for = match e.kind {
                    EventKind::BookingCreated => "booking-created",
                    EventKind::BookingRescheduled => "booking-rescheduled",
                    EventKind::BookingConfirmed => "booking-confirmed",
                    EventKind::BookingDeclined => "booking-declined",
                    EventKind::BookingExpired => "booking-expired",
                    EventKind::BookingCancelled => "booking-cancelled",
                    _ => "booking-rejected",
                };
                let guest = (name.as_str(), email.as_str());
                let (method, ics) = crate::calendar::invite(
                    &booking,
                    &app.title,
                    (owner.name.as_str(), owner.email.as_str()),
                    e.at,
                );
                let (m, mut s) = mail(name_for, "guest", guest, id.0, &ctx)?;
                s.reply_to = Some(owner.email.as_str().to_owned());
                s.ics = Some((method.as_str().to_owned(), ics));
                let mut out = vec![seal((m, s))];
                if e.kind == EventKind::BookingCreated {
                    let to = (owner.name.as_str(), owner.email.as_str());
                    let (m, mut s) = mail("booking-created-owner", "owner", to, id.0, &ctx)?;
                    s.reply_to = Some(email.as_str().to_owned());
                    out.push(seal((m, s)));
                }
                let starts_on = matches!(
                    e.kind,
                    EventKind::BookingCreated
                        | EventKind::BookingRescheduled
                        | EventKind::BookingConfirmed
                ) && *status == BookingStatus::Active;
                if starts_on {
                    for lead in &self.config.reminders {
                        let Ok(lead_delta) = chrono::TimeDelta::from_std(*lead) else {
                            continue;
                        };
                        let due = *slot_start - lead_delta;
                        if due <= now {
                            continue;
                        }
                        ctx.reminder = Some(words(*lead));
                        let (mut m, mut s) = mail(
                            "booking-reminder",
                            "guest",
                            guest,
                            Uuid::new_v5(&id.0, b"reminders"),
                            &ctx,
                        )?;
                        m.key = Uuid::new_v5(
                            &id.0,
                            format!("reminder {} {}", slot_start.timestamp(), lead.as_secs())
                                .as_bytes(),
                        );
                        m.due_at = due;
                        s.reply_to = Some(owner.email.as_str().to_owned());
                        s.check = Some((code.to_string(), slot_start.timestamp_micros()));
                        out.push(seal((m, s)));
                    }
                }
                Ok(out)
            }
            EventSubject::Appointment { .. } | EventSubject::Hold { .. } => Ok(Vec::new()),
        }
    }
}

/// Why an event's messages could not be made.
enum MakeError {
    Template(String),
    Store(appointment_core::Error),
}

/// `None` for something that is gone, the error for anything else.
fn found<T>(r: appointment_core::Result<T>) -> appointment_core::Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(appointment_core::Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> MailContext {
        MailContext {
            appointment: AppointmentView {
                title: "Haircut <b>deluxe</b>".into(),
                description: "Wash & cut".into(),
                code: "AP-ABCDEFGHJKLM".into(),
                time_zone: "Europe/Berlin".into(),
            },
            owner: PersonView {
                name: "Bob".into(),
                email: "bob@example.com".into(),
            },
            booking: Some(BookingView {
                code: "BK-ABCDEFGHJKLM".into(),
                name: "Ada <script>".into(),
                email: "ada@example.com".into(),
                seats: 2,
                status: "active".into(),
                pending: false,
                starts: "Tuesday 8 December 2026, 09:00".into(),
                ends: "10:00".into(),
                starts_utc: "2026-12-08T08:00:00Z".into(),
                confirm_by: None,
            }),
            place: Some(PlaceView {
                code: "WL-ABCDEFGHJKLM".into(),
                name: "Ada".into(),
                seats: 1,
                starts: "Tuesday 8 December 2026, 09:00".into(),
                offer_expires: Some("Monday 7 December 2026, 10:10".into()),
            }),
            reminder: Some("24 hours".into()),
            links: LinksView {
                booking: Some("https://book.example.com/bookings/BK-ABCDEFGHJKLM".into()),
                ics: Some("https://book.example.com/bookings/BK-ABCDEFGHJKLM/ics".into()),
                place: Some("https://book.example.com/waitlist/WL-ABCDEFGHJKLM".into()),
            },
        }
    }

    #[test]
    fn the_verification_message_carries_its_link() {
        let t = Templates::load(None).expect("the built-in templates load");
        let ctx = AccountContext {
            user: PersonView {
                name: "Ada <b>".into(),
                email: "ada@example.com".into(),
            },
            link: Some("https://book.example.com/users/verify-email?token=abc.def".into()),
            token: "abc.def".into(),
            expires: "Friday 4 December 2026, 10:00 UTC".into(),
        };
        let r = t.render("verify-email", &ctx).expect("render");
        assert!(r.subject.contains("Verify"), "{r:?}");
        assert!(
            r.text
                .contains("https://book.example.com/users/verify-email?token=abc.def"),
            "{}",
            r.text
        );
        assert!(r.html.contains("Ada &lt;b&gt;"), "{}", r.html);
        let r = t
            .render("verify-email", &AccountContext { link: None, ..ctx })
            .expect("render");
        assert!(r.text.contains("token=abc.def"), "{}", r.text);
    }

    #[test]
    fn every_message_renders_and_html_escapes_what_it_shows() {
        let t = Templates::load(None).expect("the built-in templates load");
        for name in MESSAGES.iter().filter(|n| **n != "verify-email") {
            let r = t.render(name, &context()).expect(name);
            let name = *name;
            assert!(
                !r.subject.is_empty() && !r.subject.contains('\n'),
                "{name}: {r:?}"
            );
            assert!(
                r.text.contains("Haircut <b>deluxe</b>"),
                "{name}: {}",
                r.text
            );
            assert!(
                r.html.contains("Haircut &lt;b&gt;deluxe&lt;"),
                "{name}: {}",
                r.html
            );
            assert!(!r.html.contains("<b>deluxe"), "{name}: {}", r.html);
            assert!(!r.html.contains("<script>"), "{name}: {}", r.html);
        }
        let r = t.render("booking-created", &context()).expect("render");
        assert!(r.text.contains("BK-ABCDEFGHJKLM"), "{}", r.text);
        assert!(
            r.text.contains("Tuesday 8 December 2026, 09:00"),
            "{}",
            r.text
        );
        assert!(
            r.text
                .contains("https://book.example.com/bookings/BK-ABCDEFGHJKLM"),
            "{}",
            r.text
        );
    }

    #[test]
    fn templates_are_overridden_from_a_directory_and_typos_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("booking-created.txt"),
            "{% block subject %}Booked: {{ appointment.title }}{% endblock %}\
             {% block body %}See you, {{ booking.name }}.{% endblock %}",
        )
        .expect("write");
        let t = Templates::load(Some(dir.path())).expect("load");
        let r = t.render("booking-created", &context()).expect("render");
        assert_eq!(r.subject, "Booked: Haircut <b>deluxe</b>");
        assert_eq!(r.text, "See you, Ada <script>.\n");
        std::fs::write(dir.path().join("booking-creatd.txt"), "x").expect("write");
        let err = Templates::load(Some(dir.path())).expect_err("a typo is refused");
        assert!(err.contains("booking-creatd.txt"), "{err}");
    }

    #[test]
    fn a_template_that_names_what_is_not_there_is_an_error_not_a_blank() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("booking-created.txt"),
            "{% block subject %}{{ booking.nickname }}{% endblock %}{% block body %}{% endblock %}",
        )
        .expect("write");
        let t = Templates::load(Some(dir.path())).expect("load");
        assert!(t.render("booking-created", &context()).is_err());
    }

    #[test]
    fn configuration_is_read_and_checked() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let c = MailConfig::from_lookup(&env(&[
            ("SMTP_URL", "smtp://127.0.0.1:2525"),
            ("MAIL_FROM", "Shop <bookings@shop.example>"),
            ("PUBLIC_URL", "https://book.shop.example/"),
            ("MAIL_REMINDERS", "1h, 24h,90m"),
        ]))
        .expect("config");
        assert_eq!(c.public_url.as_deref(), Some("https://book.shop.example"));
        assert_eq!(
            c.reminders,
            vec![
                Duration::from_secs(86_400),
                Duration::from_secs(5_400),
                Duration::from_secs(3_600)
            ]
        );
        assert!(!format!("{c:?}").contains("127.0.0.1"), "{c:?}");
        assert!(MailConfig::from_lookup(&env(&[("MAIL_FROM", "not an address")])).is_err());
        assert!(MailConfig::from_lookup(&env(&[("MAIL_REMINDERS", "soon")])).is_err());
        assert!(MailConfig::from_lookup(&env(&[("PUBLIC_URL", "ftp://x")])).is_err());
        let off = MailConfig::from_lookup(&env(&[("MAIL_REMINDERS", "off")])).expect("off");
        assert!(off.reminders.is_empty() && off.smtp_url.is_none());
        assert_eq!(words(Duration::from_secs(86_400)), "1 day");
        assert_eq!(words(Duration::from_secs(5_400)), "90 minutes");
    }
}
