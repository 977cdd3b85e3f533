#![doc = include_str!("../README.md")]

pub use appointment_core as core;
pub use appointment_core::*;
pub use appointment_store as store;
pub use appointment_store::MemoryStore;
