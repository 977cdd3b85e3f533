//! Opens the store a database URL names, and runs migrations by hand.

use std::sync::Arc;

use appointment_core::{Error, Result};
use appointment_store::ServiceStore;

/// What `appointment-server migrate` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migration {
    /// Applies every pending migration.
    Up,
    /// Reverts every migration.
    Down,
    /// Migrates up or down to this version.
    To(i64),
}

/// Opens the store a URL names (`memory:`, `sqlite://…`, `postgres://…`), applying pending
/// migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn ServiceStore>> {
    appointment_store::connect(url).await
}

fn scheme(url: &str) -> String {
    url.split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Runs migrations on the database a URL names; returns the version it is at afterwards.
pub async fn migrate(url: &str, migration: Migration) -> Result<i64> {
    match scheme(url).as_str() {
        #[cfg(feature = "sqlite")]
        "sqlite" => {
            let store = appointment_store::SqliteStore::connect_without_migrating(url).await?;
            match migration {
                Migration::Up => store.migrate_up().await?,
                Migration::Down => store.migrate_down_to(0).await?,
                Migration::To(v) => store.migrate_to(v).await?,
            }
            let v = store.applied_version().await?;
            store.close().await;
            Ok(v)
        }
        #[cfg(feature = "postgres")]
        "postgres" | "postgresql" => {
            let store = appointment_store::PostgresStore::connect_without_migrating(url).await?;
            match migration {
                Migration::Up => store.migrate_up().await?,
                Migration::Down => store.migrate_down_to(0).await?,
                Migration::To(v) => store.migrate_to(v).await?,
            }
            let v = store.applied_version().await?;
            store.close().await;
            Ok(v)
        }
        other => Err(Error::invalid(
            "database_url",
            format!("cannot migrate a {other:?} database with this build"),
        )),
    }
}
