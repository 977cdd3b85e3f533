//! The store conformance suite against the Postgres store, one fresh database per test.
//!
//! Needs `TEST_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`); without it
//! every case is skipped, unless `REQUIRE_POSTGRES=1`.

mod sql_support;

use appointment_master::store::PostgresStore;

async fn new_store() -> Option<PostgresStore> {
    let url = sql_support::fresh_postgres_url().await?;
    Some(
        PostgresStore::connect(&url)
            .await
            .expect("open a fresh Postgres store"),
    )
}

appointment_core::store_conformance_suite!(new_store);
appointment_core::store_conformance_suite_extra!(new_store);
