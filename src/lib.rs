#![doc = include_str!("../README.crate.md")]

pub use appointment_core as core;
pub use appointment_core::*;
pub use appointment_store as store;
#[cfg(feature = "postgres")]
pub use appointment_store::PostgresStore;
#[cfg(feature = "sqlite")]
pub use appointment_store::SqliteStore;
pub use appointment_store::{AnyScheduler, MemoryStore, connect, open};

// The workspace README's Rust examples are tests too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod workspace_readme {}
