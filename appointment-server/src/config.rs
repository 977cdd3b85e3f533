//! Configuration from the environment, with the original service's variable names.
//!
//! The variables, their defaults and meanings are listed in [`ENVIRONMENT`] (and by
//! `appointment-server --help`).
//!
//! With no database configured the service uses the SQLite file `appointments.db` in the working
//! directory.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::connections::ConnectionLimits;

/// Every variable the service reads: (name, default, meaning). `appointment-server --help`
/// prints it; a test checks that every variable [`Config::from_lookup`] reads is here.
pub const ENVIRONMENT: &[(&str, &str, &str)] = &[
    ("PORT", "8888", "TCP port to listen on"),
    ("HOST", "0.0.0.0", "address to listen on"),
    (
        "ENV",
        "development",
        "production (or prod) refuses to start without a strong JWT_SECRET_KEY; development (or dev)",
    ),
    (
        "DATABASE_URL",
        "sqlite://appointments.db",
        "sqlite://…, postgres://… or memory:; wins over DB_*",
    ),
    (
        "DB_HOST",
        "",
        "a Postgres host, when DATABASE_URL is unset (with DB_PORT, DB_USER, DB_PASSWORD, DB_NAME, DB_SSLMODE)",
    ),
    ("DB_PORT", "5432", "Postgres port (with DB_HOST)"),
    ("DB_USER", "postgres", "Postgres user (with DB_HOST)"),
    ("DB_PASSWORD", "", "Postgres password (with DB_HOST)"),
    (
        "DB_NAME",
        "appointmentdb",
        "Postgres database (with DB_HOST)",
    ),
    ("DB_SSLMODE", "disable", "Postgres sslmode (with DB_HOST)"),
    (
        "JWT_SECRET_KEY",
        "generated in development",
        "HS256 signing key, at least 32 bytes in production",
    ),
    (
        "CORS_ORIGINS",
        "any origin",
        "comma-separated allowed origins, or *",
    ),
    ("BCRYPT_COST", "12", "bcrypt work factor (4 to 31)"),
    (
        "BCRYPT_THREADS",
        "the number of cores",
        "bcrypt jobs at once; registrations get at most half",
    ),
    (
        "LOGIN_RATE_PER_MINUTE",
        "10",
        "login attempts per minute per (email, client address); per address five times as many",
    ),
    (
        "REGISTRATION_RATE_PER_HOUR",
        "30",
        "registrations per hour per client address",
    ),
    (
        "DEVICE_TOKENS_PER_HOUR",
        "10",
        "device tokens a user may mint per hour",
    ),
    (
        "DEVICE_TOKENS_PER_HOUR_PER_IP",
        "30",
        "device tokens per hour per client address (IPv6: per /64)",
    ),
    (
        "OWNER_WRITE_RATE_PER_MINUTE",
        "60",
        "owner writes (appointments, bans, rejections) per minute per user",
    ),
    (
        "MAX_APPOINTMENTS_PER_OWNER",
        "1000",
        "appointments one owner may have; past it 409 limit_reached",
    ),
    (
        "TRUST_X_FORWARDED_FOR",
        "false",
        "take the client address from the last X-Forwarded-For entry (behind one proxy)",
    ),
    (
        "READ_CACHE_MS",
        "500",
        "how long slot listings and appointments may be served from this replica's cache (0: off)",
    ),
    (
        "REQUEST_TIMEOUT_MS",
        "30000",
        "a request's deadline; past it 504 timeout",
    ),
    (
        "EXPIRY_SWEEP_MS",
        "15000",
        "how often holds, pending bookings and waiting-list offers that ran out are written as expired (and their events sent) when nothing else touched them (0: off)",
    ),
    (
        "HEADER_READ_TIMEOUT_MS",
        "10000",
        "the longest a request's header may take to arrive",
    ),
    (
        "IDLE_TIMEOUT_MS",
        "75000",
        "an idle keep-alive connection is closed after this long",
    ),
    (
        "MAX_CONNECTIONS",
        "4096",
        "connections served at once; past it 503 too_many_connections",
    ),
    (
        "RATE_LIMIT_MAX_KEYS",
        "100000",
        "the most keys each rate limiter keeps",
    ),
    ("LOG_FORMAT", "json", "json or pretty"),
    (
        "METRICS_TOKEN",
        "",
        "serve GET /metrics (Prometheus text) to requests with `Authorization: Bearer` this token",
    ),
    (
        "METRICS_ADDR",
        "",
        "an address (e.g. 127.0.0.1:9464) that serves only GET /metrics; with it the main port does not (with neither, /metrics is off)",
    ),
    (
        "WEBHOOK_ALLOW_PRIVATE_TARGETS",
        "false",
        "let webhook endpoints be on loopback, private or link-local addresses",
    ),
    (
        "WEBHOOK_CONCURRENCY",
        "16",
        "the most webhook deliveries in flight at once (per replica)",
    ),
    (
        "WEBHOOK_TIMEOUT_MS",
        "10000",
        "how long one webhook request may take",
    ),
    (
        "WEBHOOK_RETRY_SCHEDULE",
        "5,300,1800,7200,18000,36000,36000",
        "seconds to wait after each failed webhook attempt (±20 % jitter); after the last, the delivery fails",
    ),
    (
        "EVENT_RETENTION_DAYS",
        "30",
        "how long events and finished webhook deliveries are kept (0: forever); events are kept until fanned out",
    ),
    (
        "WEBHOOK_POLL_MS",
        "200",
        "how often the outbox and due webhook deliveries are looked at",
    ),
    (
        "SMTP_URL",
        "",
        "the SMTP server email goes through, e.g. smtps://user:password@mail.example.com, smtp://host:587?tls=required, smtp://127.0.0.1:2525 (unset: email is off)",
    ),
    (
        "MAIL_FROM",
        crate::mail::DEFAULT_FROM,
        "the sender of every message",
    ),
    (
        "PUBLIC_URL",
        "",
        "where clients reach the service (e.g. https://book.example.com), for links in messages",
    ),
    (
        "MAIL_TEMPLATES_DIR",
        "",
        "a directory of templates that replace the built-in ones of the same name",
    ),
    (
        "MAIL_REMINDERS",
        "24h",
        "how long before a booked slot reminders are sent, comma-separated (e.g. 24h,1h), or off",
    ),
    (
        "MAIL_CONCURRENCY",
        "4",
        "the most messages being sent at once (per replica)",
    ),
    (
        "MAIL_TIMEOUT_MS",
        "30000",
        "how long one SMTP exchange may take",
    ),
    (
        "MAIL_RETRY_SCHEDULE",
        "5,300,1800,7200,18000,36000,36000",
        "seconds to wait after each failed attempt to send a message (±20 % jitter); after the last, it fails",
    ),
    (
        "MAIL_POLL_MS",
        "500",
        "how often the outbox and due messages are looked at",
    ),
    (
        "STRICT_REQUIRES_VERIFIED_EMAIL",
        "true with SMTP_URL",
        "strict anti-scalping takes bookings only from users whose email address is verified (the link mailed at registration)",
    ),
];

/// [`ENVIRONMENT`] as `--help` shows it.
pub fn environment_help() -> String {
    let width = ENVIRONMENT
        .iter()
        .map(|(n, _, _)| n.len())
        .max()
        .unwrap_or(0);
    let mut out = String::from("Environment variables (also read from .env):\n");
    for (name, default, meaning) in ENVIRONMENT {
        let default = if default.is_empty() {
            String::new()
        } else {
            format!(" [default: {default}]")
        };
        out.push_str(&format!("  {name:width$}  {meaning}{default}\n"));
    }
    out
}

/// Where the service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Local development: a missing secret is generated and kept beside the database.
    Development,
    /// Production: a missing or short secret is a startup error.
    Production,
}

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Everything the service needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub host: IpAddr,
    /// Port to listen on (`0` picks a free one).
    pub port: u16,
    /// Development or production.
    pub environment: Environment,
    /// The database (`sqlite://…`, `postgres://…`, `memory:`).
    pub database_url: String,
    /// The JWT signing key, if configured.
    pub jwt_secret: Option<Secret>,
    /// Allowed CORS origins; empty means any origin.
    pub cors_origins: Vec<String>,
    /// bcrypt work factor.
    pub bcrypt_cost: u32,
    /// Login attempts per minute per (email, client address); per client address five times as
    /// many.
    pub login_rate_per_minute: u32,
    /// Device tokens a user may mint per hour.
    pub device_tokens_per_hour: u32,
    /// Device tokens that may be minted per hour from one client address (IPv6: one /64).
    pub device_tokens_per_hour_per_ip: u32,
    /// Whether the client IP is the last entry of `X-Forwarded-For` (set only behind a proxy
    /// that appends it; otherwise clients could choose their IP).
    pub trust_forwarded_for: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// How long slot listings may be answered from memory (appointment rows and seat counters);
    /// zero turns the cache off. This server's own writes show at once; another replica's after
    /// at most this long.
    pub read_cache: std::time::Duration,
    /// The longest a request may run; past it the client gets a 504 (the work is abandoned).
    pub request_timeout: std::time::Duration,
    /// How often the expiry sweeper writes down the holds, pending bookings and waiting-list
    /// offers that ran out (see [`crate::sweeper`]); zero turns it off.
    pub expiry_sweep: std::time::Duration,
    /// Header-read and idle timeouts, and the cap on concurrent connections.
    pub connections: ConnectionLimits,
    /// Rate limits and bounds on work.
    pub limits: Limits,
    /// The bearer token `GET /metrics` requires (`METRICS_TOKEN`), if any.
    pub metrics_token: Option<Secret>,
    /// The separate address that serves only `GET /metrics` (`METRICS_ADDR`), if any. With
    /// neither this nor [`Config::metrics_token`], metrics are off.
    pub metrics_addr: Option<SocketAddr>,
    /// How webhooks are delivered (`WEBHOOK_*`).
    pub webhooks: crate::webhooks::WebhookConfig,
    /// How email is sent (`SMTP_URL`, `MAIL_*`, `PUBLIC_URL`).
    pub mail: crate::mail::MailConfig,
    /// Whether strict anti-scalping takes bookings only from users with a verified address
    /// (`STRICT_REQUIRES_VERIFIED_EMAIL`; `None`: when email is on).
    pub strict_requires_verified_email: Option<bool>,
    /// The engine's clock: the system's. An embedding application (a demo, a simulation, a
    /// test of deadlines) may pin it; tokens and rate limits keep the system's time.
    pub clock: std::sync::Arc<dyn appointment_core::Clock>,
}

/// Rate limits and bounds on work (see the README's "Limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most keys each rate limiter keeps (`RATE_LIMIT_MAX_KEYS`).
    pub rate_limit_max_keys: usize,
    /// Registrations per hour per client address (`REGISTRATION_RATE_PER_HOUR`).
    pub registration_rate_per_hour: u32,
    /// The most bcrypt jobs at once (`BCRYPT_THREADS`); registrations get at most half.
    pub bcrypt_threads: usize,
    /// The most appointments an owner may have (`MAX_APPOINTMENTS_PER_OWNER`).
    pub max_appointments_per_owner: u64,
    /// Owner writes per minute per user (`OWNER_WRITE_RATE_PER_MINUTE`): creating appointments,
    /// banning and lifting bans, rejecting bookings.
    pub owner_write_rate_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate_limit_max_keys: crate::throttle::DEFAULT_MAX_KEYS,
            registration_rate_per_hour: 30,
            bcrypt_threads: std::thread::available_parallelism().map_or(1, usize::from),
            max_appointments_per_owner: 1000,
            owner_write_rate_per_minute: 60,
        }
    }
}

/// The default of [`Config::request_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The default of [`Config::expiry_sweep`].
pub const DEFAULT_EXPIRY_SWEEP: std::time::Duration = std::time::Duration::from_secs(15);

/// The default of [`Config::read_cache`].
pub const DEFAULT_READ_CACHE: std::time::Duration = std::time::Duration::from_millis(500);

/// The default SQLite database file.
pub const DEFAULT_SQLITE_FILE: &str = "appointments.db";
/// The least number of bytes of a production JWT secret.
pub const MIN_SECRET_BYTES: usize = 32;

/// A configuration value that cannot be used.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: IpAddr::from([0, 0, 0, 0]),
            port: 8888,
            environment: Environment::Development,
            database_url: format!("sqlite://{DEFAULT_SQLITE_FILE}"),
            jwt_secret: None,
            cors_origins: Vec::new(),
            bcrypt_cost: 12,
            login_rate_per_minute: 10,
            device_tokens_per_hour: crate::auth::DeviceTokenLimits::DEFAULT_PER_USER,
            device_tokens_per_hour_per_ip: crate::auth::DeviceTokenLimits::DEFAULT_PER_ADDRESS,
            trust_forwarded_for: false,
            log_format: LogFormat::Json,
            read_cache: DEFAULT_READ_CACHE,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            expiry_sweep: DEFAULT_EXPIRY_SWEEP,
            connections: ConnectionLimits::default(),
            limits: Limits::default(),
            metrics_token: None,
            metrics_addr: None,
            webhooks: crate::webhooks::WebhookConfig::default(),
            mail: crate::mail::MailConfig::default(),
            strict_requires_verified_email: None,
            clock: std::sync::Arc::new(appointment_core::SystemClock),
        }
    }
}

impl Config {
    /// Reads the configuration from the process environment (after loading `.env` if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads the configuration through `get` (a variable's value, if set and not empty).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut c = Config::default();
        if let Some(p) = get("PORT") {
            c.port = p
                .trim()
                .parse()
                .map_err(|_| ConfigError(format!("PORT must be a port number, not {p:?}")))?;
        }
        if let Some(h) = get("HOST") {
            c.host = h
                .trim()
                .parse()
                .map_err(|_| ConfigError(format!("HOST must be an IP address, not {h:?}")))?;
        }
        if let Some(e) = get("ENV") {
            c.environment = match e.trim().to_ascii_lowercase().as_str() {
                "production" | "prod" => Environment::Production,
                "development" | "dev" => Environment::Development,
                _ => {
                    return Err(ConfigError(format!(
                        "ENV must be one of production, prod, development, dev, not {e:?}"
                    )));
                }
            };
        }
        if let Some(url) = get("DATABASE_URL") {
            c.database_url = url.trim().to_owned();
        } else if let Some(host) = get("DB_HOST") {
            let user = get("DB_USER").unwrap_or_else(|| "postgres".into());
            let password = get("DB_PASSWORD");
            let port = get("DB_PORT").unwrap_or_else(|| "5432".into());
            let name = get("DB_NAME").unwrap_or_else(|| "appointmentdb".into());
            let sslmode = get("DB_SSLMODE").unwrap_or_else(|| "disable".into());
            let auth = match password {
                Some(pw) => format!("{}:{}", url_escape(&user), url_escape(&pw)),
                None => url_escape(&user),
            };
            c.database_url = format!(
                "postgres://{auth}@{}:{}/{}?sslmode={}",
                host.trim(),
                port.trim(),
                url_escape(&name),
                url_escape(&sslmode)
            );
        }
        c.jwt_secret = get("JWT_SECRET_KEY").map(Secret::new);
        if let Some(o) = get("CORS_ORIGINS") {
            c.cors_origins = o
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "*")
                .map(str::to_owned)
                .collect();
        }
        if let Some(b) = get("BCRYPT_COST") {
            c.bcrypt_cost = b
                .trim()
                .parse()
                .ok()
                .filter(|n| (4..=31).contains(n))
                .ok_or_else(|| ConfigError(format!("BCRYPT_COST must be 4 to 31, not {b:?}")))?;
        }
        if let Some(r) = get("LOGIN_RATE_PER_MINUTE") {
            c.login_rate_per_minute =
                r.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ConfigError(format!(
                        "LOGIN_RATE_PER_MINUTE must be a positive number, not {r:?}"
                    ))
                })?;
        }
        for (var, field) in [
            ("DEVICE_TOKENS_PER_HOUR", &mut c.device_tokens_per_hour),
            (
                "DEVICE_TOKENS_PER_HOUR_PER_IP",
                &mut c.device_tokens_per_hour_per_ip,
            ),
        ] {
            if let Some(n) = get(var) {
                *field = n.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ConfigError(format!("{var} must be a positive number, not {n:?}"))
                })?;
            }
        }
        if let Some(t) = get("TRUST_X_FORWARDED_FOR") {
            c.trust_forwarded_for = matches!(
                t.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            );
        }
        if let Some(ms) = get("READ_CACHE_MS") {
            c.read_cache = ms
                .trim()
                .parse()
                .ok()
                .filter(|n| *n <= 60_000)
                .map(std::time::Duration::from_millis)
                .ok_or_else(|| {
                    ConfigError(format!(
                        "READ_CACHE_MS must be 0 to 60000 milliseconds, not {ms:?}"
                    ))
                })?;
        }
        if let Some(ms) = get("REQUEST_TIMEOUT_MS") {
            c.request_timeout = ms
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=3_600_000).contains(n))
                .map(std::time::Duration::from_millis)
                .ok_or_else(|| {
                    ConfigError(format!(
                        "REQUEST_TIMEOUT_MS must be 1 to 3600000 milliseconds, not {ms:?}"
                    ))
                })?;
        }
        if let Some(ms) = get("EXPIRY_SWEEP_MS") {
            c.expiry_sweep = Duration::from_millis(number(&ms, "EXPIRY_SWEEP_MS", 0, 86_400_000)?);
        }
        if let Some(ms) = get("HEADER_READ_TIMEOUT_MS") {
            c.connections.header_read_timeout =
                Duration::from_millis(number(&ms, "HEADER_READ_TIMEOUT_MS", 1, 600_000)?);
        }
        if let Some(ms) = get("IDLE_TIMEOUT_MS") {
            c.connections.idle_timeout =
                Duration::from_millis(number(&ms, "IDLE_TIMEOUT_MS", 1, 3_600_000)?);
        }
        if let Some(n) = get("MAX_CONNECTIONS") {
            c.connections.max_connections =
                usize::try_from(number(&n, "MAX_CONNECTIONS", 1, 1_000_000)?).unwrap_or(1);
        }
        if let Some(n) = get("RATE_LIMIT_MAX_KEYS") {
            c.limits.rate_limit_max_keys =
                usize::try_from(number(&n, "RATE_LIMIT_MAX_KEYS", 100, 100_000_000)?)
                    .unwrap_or(usize::MAX);
        }
        if let Some(n) = get("REGISTRATION_RATE_PER_HOUR") {
            c.limits.registration_rate_per_hour =
                u32::try_from(number(&n, "REGISTRATION_RATE_PER_HOUR", 1, 1_000_000)?)
                    .unwrap_or(u32::MAX);
        }
        if let Some(n) = get("BCRYPT_THREADS") {
            c.limits.bcrypt_threads =
                usize::try_from(number(&n, "BCRYPT_THREADS", 1, 1024)?).unwrap_or(1);
        }
        if let Some(n) = get("MAX_APPOINTMENTS_PER_OWNER") {
            c.limits.max_appointments_per_owner =
                number(&n, "MAX_APPOINTMENTS_PER_OWNER", 1, 1_000_000_000)?;
        }
        if let Some(n) = get("OWNER_WRITE_RATE_PER_MINUTE") {
            c.limits.owner_write_rate_per_minute =
                u32::try_from(number(&n, "OWNER_WRITE_RATE_PER_MINUTE", 1, 1_000_000)?)
                    .unwrap_or(u32::MAX);
        }
        c.metrics_token = get("METRICS_TOKEN").map(|t| Secret::new(t.trim()));
        if let Some(a) = get("METRICS_ADDR") {
            c.metrics_addr = Some(a.trim().parse().map_err(|_| {
                ConfigError(format!(
                    "METRICS_ADDR must be an IP address and port (e.g. 127.0.0.1:9464), not {a:?}"
                ))
            })?);
        }
        c.webhooks = crate::webhooks::WebhookConfig::from_lookup(&get).map_err(ConfigError)?;
        c.mail = crate::mail::MailConfig::from_lookup(&get).map_err(ConfigError)?;
        if let Some(v) = get("STRICT_REQUIRES_VERIFIED_EMAIL") {
            c.strict_requires_verified_email = match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Some(true),
                "0" | "false" | "no" | "off" => Some(false),
                "" => None,
                _ => {
                    return Err(ConfigError(format!(
                        "STRICT_REQUIRES_VERIFIED_EMAIL must be true or false, not {v:?}"
                    )));
                }
            };
        }
        if let Some(f) = get("LOG_FORMAT") {
            c.log_format = match f.trim().to_ascii_lowercase().as_str() {
                "pretty" | "text" => LogFormat::Pretty,
                _ => LogFormat::Json,
            };
        }
        Ok(c)
    }

    /// The file a generated development secret is kept in: beside the SQLite database, or in
    /// the working directory for other databases.
    pub fn secret_file(&self) -> Option<PathBuf> {
        let url = self.database_url.as_str();
        if url.starts_with("memory:") {
            return None;
        }
        let db_file = sqlite_path(url).unwrap_or_else(|| DEFAULT_SQLITE_FILE.to_owned());
        Some(PathBuf::from(format!("{db_file}.jwt-secret")))
    }
}

/// The file path of a `sqlite:` URL, without its query string.
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| path.to_owned())
}

/// `value` as a whole number from `min` to `max`, or an error naming `name`.
fn number(value: &str, name: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| ConfigError(format!("{name} must be {min} to {max}, not {value:?}")))
}

fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_read_is_documented() {
        let read = std::cell::RefCell::new(Vec::new());
        for with_host in [false, true] {
            let _ = Config::from_lookup(|k| {
                read.borrow_mut().push(k.to_owned());
                (with_host && k == "DB_HOST").then(|| "db".to_owned())
            });
        }
        let read = read.into_inner();
        assert!(read.len() > 20, "{read:?}");
        for k in read {
            assert!(
                ENVIRONMENT.iter().any(|(name, _, _)| *name == k),
                "{k} is read but not in ENVIRONMENT"
            );
        }
        assert!(environment_help().contains("READ_CACHE_MS"));
    }
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_originals() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.port, 8888);
        assert_eq!(c.database_url, "sqlite://appointments.db");
        assert_eq!(c.environment, Environment::Development);
        assert_eq!(
            c.secret_file().unwrap(),
            PathBuf::from("appointments.db.jwt-secret")
        );
    }

    #[test]
    fn db_variables_build_a_postgres_url_and_database_url_wins() {
        let c = cfg(&[
            ("DB_HOST", "db"),
            ("DB_USER", "app"),
            ("DB_PASSWORD", "p@ss word"),
            ("DB_NAME", "appointmentdb"),
        ])
        .unwrap();
        assert_eq!(
            c.database_url,
            "postgres://app:p%40ss%20word@db:5432/appointmentdb?sslmode=disable"
        );
        let c = cfg(&[("DB_HOST", "db"), ("DATABASE_URL", "memory:")]).unwrap();
        assert_eq!(c.database_url, "memory:");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(cfg(&[("PORT", "eighty")]).is_err());
        assert!(cfg(&[("BCRYPT_COST", "2")]).is_err());
        assert!(cfg(&[("DEVICE_TOKENS_PER_HOUR", "0")]).is_err());
        assert!(cfg(&[("DEVICE_TOKENS_PER_HOUR_PER_IP", "many")]).is_err());
        assert_eq!(
            cfg(&[("DEVICE_TOKENS_PER_HOUR", "3")])
                .unwrap()
                .device_tokens_per_hour,
            3
        );
        assert!(cfg(&[("READ_CACHE_MS", "soon")]).is_err());
        assert!(cfg(&[("REQUEST_TIMEOUT_MS", "0")]).is_err());
        assert_eq!(
            cfg(&[("REQUEST_TIMEOUT_MS", "1500")])
                .unwrap()
                .request_timeout,
            std::time::Duration::from_millis(1500)
        );
        assert!(cfg(&[("READ_CACHE_MS", "3600000")]).is_err());
        assert_eq!(cfg(&[]).unwrap().read_cache, DEFAULT_READ_CACHE);
        assert!(cfg(&[("READ_CACHE_MS", "0")]).unwrap().read_cache.is_zero());
        assert!(!cfg(&[]).unwrap().trust_forwarded_for);
        assert!(
            cfg(&[("TRUST_X_FORWARDED_FOR", "true")])
                .unwrap()
                .trust_forwarded_for
        );
    }

    #[test]
    fn expiry_sweep_is_read_and_zero_turns_it_off() {
        assert_eq!(cfg(&[]).unwrap().expiry_sweep, Duration::from_secs(15));
        assert_eq!(
            cfg(&[("EXPIRY_SWEEP_MS", "250")]).unwrap().expiry_sweep,
            Duration::from_millis(250)
        );
        assert!(
            cfg(&[("EXPIRY_SWEEP_MS", "0")])
                .unwrap()
                .expiry_sweep
                .is_zero()
        );
        for bad in ["soon", "-1", "86400001"] {
            let err = cfg(&[("EXPIRY_SWEEP_MS", bad)]).unwrap_err().to_string();
            assert!(err.contains("EXPIRY_SWEEP_MS"), "{err}");
        }
    }

    #[test]
    fn an_unknown_environment_is_refused_not_taken_for_development() {
        for bad in ["staging", "prodution", "test"] {
            let err = cfg(&[("ENV", bad)]).unwrap_err().to_string();
            assert!(err.contains("ENV"), "{err}");
            assert!(
                err.contains("production") && err.contains("development"),
                "{err}"
            );
        }
        assert_eq!(
            cfg(&[("ENV", "Production")]).unwrap().environment,
            Environment::Production
        );
        assert_eq!(
            cfg(&[("ENV", "dev")]).unwrap().environment,
            Environment::Development
        );
    }

    #[test]
    fn connection_limits_are_read_and_checked() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.connections, ConnectionLimits::default());
        assert_eq!(c.connections.header_read_timeout, Duration::from_secs(10));
        assert_eq!(c.connections.idle_timeout, Duration::from_secs(75));
        assert_eq!(c.connections.max_connections, 4096);
        let c = cfg(&[
            ("HEADER_READ_TIMEOUT_MS", "250"),
            ("IDLE_TIMEOUT_MS", "1000"),
            ("MAX_CONNECTIONS", "10"),
        ])
        .unwrap();
        assert_eq!(
            c.connections.header_read_timeout,
            Duration::from_millis(250)
        );
        assert_eq!(c.connections.idle_timeout, Duration::from_secs(1));
        assert_eq!(c.connections.max_connections, 10);
        for (k, v) in [
            ("HEADER_READ_TIMEOUT_MS", "0"),
            ("IDLE_TIMEOUT_MS", "forever"),
            ("MAX_CONNECTIONS", "0"),
        ] {
            let err = cfg(&[(k, v)]).unwrap_err().to_string();
            assert!(err.contains(k), "{err}");
        }
    }

    #[test]
    fn limits_are_read_and_checked() {
        let d = cfg(&[]).unwrap().limits;
        assert_eq!(d.rate_limit_max_keys, 100_000);
        assert_eq!(d.registration_rate_per_hour, 30);
        assert!(d.bcrypt_threads >= 1);
        assert_eq!(d.max_appointments_per_owner, 1000);
        assert_eq!(d.owner_write_rate_per_minute, 60);
        let l = cfg(&[
            ("RATE_LIMIT_MAX_KEYS", "500"),
            ("REGISTRATION_RATE_PER_HOUR", "5"),
            ("BCRYPT_THREADS", "3"),
            ("MAX_APPOINTMENTS_PER_OWNER", "7"),
            ("OWNER_WRITE_RATE_PER_MINUTE", "9"),
        ])
        .unwrap()
        .limits;
        assert_eq!(
            (
                l.rate_limit_max_keys,
                l.registration_rate_per_hour,
                l.bcrypt_threads,
                l.max_appointments_per_owner,
                l.owner_write_rate_per_minute
            ),
            (500, 5, 3, 7, 9)
        );
        for k in [
            "RATE_LIMIT_MAX_KEYS",
            "REGISTRATION_RATE_PER_HOUR",
            "BCRYPT_THREADS",
            "MAX_APPOINTMENTS_PER_OWNER",
            "OWNER_WRITE_RATE_PER_MINUTE",
        ] {
            let err = cfg(&[(k, "0")]).unwrap_err().to_string();
            assert!(err.contains(k), "{err}");
        }
    }

    #[test]
    fn secrets_are_redacted() {
        let c = cfg(&[
            ("JWT_SECRET_KEY", "super-secret-value"),
            ("METRICS_TOKEN", "scrape-secret-value"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("super-secret-value"));
        assert!(!format!("{c:?}").contains("scrape-secret-value"));
        assert_eq!(
            c.metrics_token.as_ref().map(Secret::expose),
            Some("scrape-secret-value")
        );
    }

    #[test]
    fn metrics_are_off_unless_configured_and_a_bad_address_is_refused() {
        let c = cfg(&[]).unwrap();
        assert!(c.metrics_token.is_none() && c.metrics_addr.is_none());
        let c = cfg(&[("METRICS_ADDR", "127.0.0.1:9464")]).unwrap();
        assert_eq!(
            c.metrics_addr,
            Some(SocketAddr::from(([127, 0, 0, 1], 9464)))
        );
        for bad in ["9464", "localhost:9464", "127.0.0.1"] {
            let err = cfg(&[("METRICS_ADDR", bad)]).unwrap_err().to_string();
            assert!(err.contains("METRICS_ADDR"), "{err}");
        }
    }
}
