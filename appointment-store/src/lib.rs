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
