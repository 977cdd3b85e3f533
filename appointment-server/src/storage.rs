//! Opens the store a database URL names, and runs migrations by hand: both as the store crate
//! reads the URL ([`appointment_store::Backend::of_url`]).

use std::sync::Arc;

use appointment_core::Result;
pub use appointment_store::Migration;
use appointment_store::ServiceStore;

/// Opens the store a URL names (`memory:`, `sqlite://…`, `postgres://…`), applying pending
/// migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn ServiceStore>> {
    appointment_store::connect(url).await
}

/// Runs migrations on the database a URL names; returns the version it is at afterwards.
pub async fn migrate(url: &str, migration: Migration) -> Result<i64> {
    appointment_store::migrate(url, migration).await
}
