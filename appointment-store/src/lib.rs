//! # appointment-store
//!
//! Backends for [`appointment_core::Store`]:
//!
//! * [`MemoryStore`]: in process memory, always built; for tests, examples and embedding.
//!
//! Each also implements [`ServiceStore`], the extra state a REST service keeps (revoked tokens,
//! idempotency records). Every backend passes the same conformance suite
//! (`appointment_core::store_conformance_suite!`).

mod memory;
mod service;

pub use memory::MemoryStore;
pub use service::{IdempotencyClaim, ServiceStore};
