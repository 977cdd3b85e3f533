//! # appointment-store
//!
//! Backends for [`appointment_core::Store`]:
//!
//! * [`MemoryStore`]: in process memory, always built; for tests, examples and embedding.
//!
//! Every backend passes the same conformance suite (`appointment_core::store_conformance_suite!`).

mod memory;

pub use memory::MemoryStore;
