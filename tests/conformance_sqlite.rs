//! The store conformance suite against the SQLite store, one fresh database file per test.

mod sql_support;

use appointment_master::store::SqliteStore;

async fn new_store() -> Option<SqliteStore> {
    Some(
        SqliteStore::connect(&sql_support::fresh_sqlite_url())
            .await
            .expect("open a fresh SQLite store"),
    )
}

appointment_core::store_conformance_suite!(new_store);
