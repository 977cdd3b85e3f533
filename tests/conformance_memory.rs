//! The store conformance suite against the in-memory store.

use appointment_master::MemoryStore;

async fn new_store() -> Option<MemoryStore> {
    Some(MemoryStore::new())
}

appointment_core::store_conformance_suite!(new_store);
appointment_core::store_conformance_suite_extra!(new_store);
