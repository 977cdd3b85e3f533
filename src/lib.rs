//! # Appointment Master
//!
//! A booking and ticketing engine: slots generated from rules in any IANA time zone, single, group
//! and party capacity that is never oversold, anti-scalping, ban lists, reschedule, reject and
//! analytics, over a storage backend of your choice.
//!
//! This facade re-exports the engine ([`core`], also glob-imported here) and the store backends
//! ([`store`]).
//!
//! ```
//! use appointment_master::{MemoryStore, Scheduler};
//! let scheduler = Scheduler::new(MemoryStore::new());
//! # let _ = scheduler;
//! ```

pub use appointment_core as core;
pub use appointment_core::*;
pub use appointment_store as store;
pub use appointment_store::MemoryStore;
