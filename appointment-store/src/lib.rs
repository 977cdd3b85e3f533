//! # appointment-store
//!
//! Backends for [`appointment_core::Store`]:
//!
//! * [`MemoryStore`]: in process memory, always built; for tests, examples and embedding.
//! * [`SqliteStore`] (feature `sqlite`, on by default): one database file, no server; the embedded
//!   default.
//! * [`PostgresStore`] (feature `postgres`): the production store; any number of service replicas
//!   can share one database.
//!
//! Each also implements [`ServiceStore`], the extra state a REST service keeps (revoked tokens,
//! idempotency records). Every backend passes the same conformance suite
//! (`appointment_core::store_conformance_suite!`). [`connect`] picks a backend from a URL.
//!
//! The SQL backends carry their schema as embedded, numbered, reversible migrations; `connect`
//! applies the pending ones, and `migrate_up`, `migrate_down_to`, `migrate_to` and
//! `applied_version` manage them by hand.
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::sync::Arc;

// The crate's README (its page on crates.io) is checked as documentation is.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod calendar_sql;
#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod hooks;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod hours_codec;
mod mail;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod mail_sql;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod service;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql_common;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql_store;
#[cfg(feature = "sqlite")]
mod sqlite;
mod webhooks;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod webhooks_sql;

pub use mail::{DueMail, MailAttempt, MailRecord, MailStatus, MailStore, NewMail};
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use service::{CalendarFeedStore, FeedBooking, IdempotencyClaim, PoolStatus, ServiceStore};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use webhooks::{
    DeliveryAttempt, DeliveryRecord, DeliveryStatus, DueDelivery, NewDelivery, WebhookEndpoint,
    WebhookStore,
};

/// The kind of store a database URL names, by its scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// `memory:`
    Memory,
    /// `sqlite:…` (e.g. `sqlite://data/app.db`, `sqlite::memory:`)
    Sqlite,
    /// `postgres://…` or `postgresql://…`
    Postgres,
}

impl Backend {
    /// The backend `url` names. Fails with [`appointment_core::Error::InvalidInput`] (field
    /// `database_url`) for another scheme, or one whose backend was not built in.
    pub fn of_url(url: &str) -> appointment_core::Result<Self> {
        let scheme = url
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default();
        let backend = match scheme.as_str() {
            "memory" => Backend::Memory,
            "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            _ => {
                return Err(appointment_core::Error::invalid(
                    "database_url",
                    "must start with memory:, sqlite:, postgres: or postgresql:",
                ));
            }
        };
        #[cfg(not(feature = "sqlite"))]
        if backend == Backend::Sqlite {
            return Err(not_built("sqlite"));
        }
        #[cfg(not(feature = "postgres"))]
        if backend == Backend::Postgres {
            return Err(not_built("postgres"));
        }
        Ok(backend)
    }
}

/// Opens the store that `url` names (see [`Backend::of_url`]), applying pending migrations:
///
/// * `memory:` — a fresh [`MemoryStore`];
/// * `sqlite:…` (e.g. `sqlite://data/app.db`) — a [`SqliteStore`] (feature `sqlite`);
/// * `postgres://…` or `postgresql://…` — a [`PostgresStore`] (feature `postgres`).
///
/// Fails with [`appointment_core::Error::InvalidInput`] (field `database_url`) for another scheme
/// or one whose backend was not built in, and with [`appointment_core::Error::Storage`] when the
/// database cannot be opened or migrated.
pub async fn connect(url: &str) -> appointment_core::Result<Arc<dyn ServiceStore>> {
    match Backend::of_url(url)? {
        Backend::Memory => Ok(Arc::new(MemoryStore::new())),
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => Ok(Arc::new(SqliteStore::connect(url).await?)),
        #[cfg(feature = "postgres")]
        Backend::Postgres => Ok(Arc::new(PostgresStore::connect(url).await?)),
        #[allow(unreachable_patterns)]
        other => Err(not_built(&format!("{other:?}").to_ascii_lowercase())),
    }
}

/// A [`Scheduler`](appointment_core::Scheduler) on whichever store a URL names: what [`open`]
/// answers.
pub type AnyScheduler = appointment_core::Scheduler<dyn ServiceStore>;

/// Opens the store that `url` names, as [`connect`] does, and a scheduler on it: the one call an
/// application that takes its database from configuration needs.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> appointment_core::Result<()> {
/// let scheduler = appointment_store::open("memory:").await?; // or "sqlite://app.db", "postgres://…"
/// let user = scheduler.user_by_email(&appointment_core::Email::parse("ada@example.com")?).await?;
/// assert!(user.is_none());
/// # Ok(()) }
/// ```
pub async fn open(url: &str) -> appointment_core::Result<AnyScheduler> {
    Ok(appointment_core::Scheduler::from_arc(connect(url).await?))
}

/// The refusal of a [`appointment_core::BookingEnd`] whose status is not an end.
pub(crate) fn not_an_end() -> appointment_core::Error {
    appointment_core::Error::invalid(
        "status",
        "a booking can only end as cancelled, rejected, declined, completed or no-show",
    )
}

/// What [`migrate`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migration {
    /// Applies every pending migration.
    Up,
    /// Reverts every migration.
    Down,
    /// Migrates up or down to this version.
    To(i64),
}

/// Runs `$migration` on a SQL store; evaluates to the version it is at afterwards.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! run_migration {
    ($store:expr, $migration:expr) => {{
        match $migration {
            Migration::Up => $store.migrate_up().await?,
            Migration::Down => $store.migrate_down_to(0).await?,
            Migration::To(v) => $store.migrate_to(v).await?,
        }
        $store.applied_version().await?
    }};
}

/// Runs migrations on the SQL database `url` names (without applying the others first) and
/// answers the version it is at afterwards. Fails with
/// [`appointment_core::Error::InvalidInput`] (field `database_url`) for a URL that [`connect`]
/// refuses, and for `memory:`, which has no schema.
pub async fn migrate(url: &str, migration: Migration) -> appointment_core::Result<i64> {
    #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
    let _ = migration;
    match Backend::of_url(url)? {
        #[cfg(feature = "sqlite")]
        Backend::Sqlite => {
            let store = SqliteStore::connect_without_migrating(url).await?;
            let version = run_migration!(store, migration);
            store.close().await;
            Ok(version)
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => {
            let store = PostgresStore::connect_without_migrating(url).await?;
            let version = run_migration!(store, migration);
            store.close().await;
            Ok(version)
        }
        _ => Err(appointment_core::Error::invalid(
            "database_url",
            "only a SQL database (sqlite: or postgres:) has migrations",
        )),
    }
}

fn not_built(feature: &str) -> appointment_core::Error {
    appointment_core::Error::invalid(
        "database_url",
        format!("this build has no {feature} backend (cargo feature `{feature}`)"),
    )
}

#[cfg(test)]
mod tests {
    use appointment_core::{Email, Error, Name, User, UserId};

    use super::{Backend, Migration, connect, migrate};

    fn user() -> User {
        User {
            id: UserId::new(),
            name: Name::parse("Ada").expect("name"),
            email: Email::parse("ada@example.com").expect("email"),
            phone: None,
            password_hash: "opaque".into(),
            created_at: chrono::DateTime::from_timestamp(1_900_000_000, 0).expect("instant"),
            email_verified_at: None,
        }
    }

    /// Inserts a user through a store opened by URL and reads it back.
    async fn round_trip(url: &str) {
        let store = connect(url).await.expect("connect");
        store.ping().await.expect("ping");
        let u = user();
        store.insert_user(&u).await.expect("insert");
        assert_eq!(store.user_by_email(&u.email).await.expect("read"), Some(u));
    }

    #[tokio::test]
    async fn memory_url() {
        round_trip("memory:").await;
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_urls() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        round_trip(&format!("sqlite://{}", dir.path().join("a.db").display())).await;
        round_trip("sqlite::memory:").await;
    }

    /// A database nobody answers for is a transient error, reported within the pool's bounded
    /// wait (nothing listens on port 1).
    #[cfg(feature = "postgres")]
    #[tokio::test]
    async fn an_unreachable_database_is_unavailable() {
        let err = connect("postgres://postgres@127.0.0.1:1/appointments")
            .await
            .err();
        assert!(matches!(err, Some(Error::Unavailable(_))), "{err:?}");
        assert!(err.is_some_and(|e| e.is_transient()));
    }

    #[test]
    fn urls_name_their_backend() {
        assert_eq!(Backend::of_url("memory:").ok(), Some(Backend::Memory));
        assert_eq!(Backend::of_url("MEMORY:").ok(), Some(Backend::Memory));
        #[cfg(feature = "sqlite")]
        assert_eq!(Backend::of_url("sqlite://a.db").ok(), Some(Backend::Sqlite));
        #[cfg(feature = "postgres")]
        for url in ["postgres://h/db", "postgresql://h/db"] {
            assert_eq!(Backend::of_url(url).ok(), Some(Backend::Postgres));
        }
    }

    /// `memory:` has no schema to migrate: a typed refusal, not a panic.
    #[tokio::test]
    async fn memory_has_no_migrations() {
        let err = migrate("memory:", Migration::Up).await.err();
        assert!(
            matches!(
                err,
                Some(Error::InvalidInput {
                    field: "database_url",
                    ..
                })
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn unknown_schemes_are_refused() {
        for url in ["mysql://localhost/db", "appointments.db", ""] {
            let err = connect(url).await.err();
            assert!(
                matches!(
                    err,
                    Some(Error::InvalidInput {
                        field: "database_url",
                        ..
                    })
                ),
                "{url}: {err:?}"
            );
        }
    }
}
