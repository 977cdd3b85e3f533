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

#[cfg(feature = "test-hooks")]
#[doc(hidden)]
pub mod hooks;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod hours_codec;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod service;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql_common;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use service::{IdempotencyClaim, ServiceStore};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Opens the store that `url` names, applying pending migrations:
///
/// * `memory:` — a fresh [`MemoryStore`];
/// * `sqlite:…` (e.g. `sqlite://data/app.db`) — a [`SqliteStore`] (feature `sqlite`);
/// * `postgres://…` or `postgresql://…` — a [`PostgresStore`] (feature `postgres`).
///
/// Fails with [`appointment_core::Error::InvalidInput`] (field `database_url`) for another scheme
/// or one whose backend was not built in, and with [`appointment_core::Error::Storage`] when the
/// database cannot be opened or migrated.
pub async fn connect(url: &str) -> appointment_core::Result<Arc<dyn ServiceStore>> {
    let scheme = url
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    match scheme.as_str() {
        "memory" => Ok(Arc::new(MemoryStore::new())),
        #[cfg(feature = "sqlite")]
        "sqlite" => Ok(Arc::new(SqliteStore::connect(url).await?)),
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => Ok(Arc::new(PostgresStore::connect(url).await?)),
        #[cfg(not(feature = "sqlite"))]
        "sqlite" => Err(not_built("sqlite")),
        #[cfg(not(feature = "postgres"))]
        "postgres" | "postgresql" => Err(not_built("postgres")),
        _ => Err(appointment_core::Error::invalid(
            "database_url",
            "must start with memory:, sqlite:, postgres: or postgresql:",
        )),
    }
}

#[cfg(not(all(feature = "sqlite", feature = "postgres")))]
fn not_built(feature: &str) -> appointment_core::Error {
    appointment_core::Error::invalid(
        "database_url",
        format!("this build has no {feature} backend (cargo feature `{feature}`)"),
    )
}

#[cfg(test)]
mod tests {
    use appointment_core::{Email, Error, Name, User, UserId};

    use super::connect;

    fn user() -> User {
        User {
            id: UserId::new(),
            name: Name::parse("Ada").expect("name"),
            email: Email::parse("ada@example.com").expect("email"),
            phone: None,
            password_hash: "opaque".into(),
            created_at: chrono::DateTime::from_timestamp(1_900_000_000, 0).expect("instant"),
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
