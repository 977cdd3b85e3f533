//! Reliability of `appointment-server` under load, run against the real binary: replicas on one
//! Postgres, `kill -9` under load, a database outage, hostile tokens and cross-owner access, and
//! abuse (half-header floods, huge request ids, login lock-out attempts, registration floods).
//!
//! Sizes fit CI; `RELIABILITY_PARTY_SEATS` and `RELIABILITY_PARTY_ATTEMPTS` scale the party drop
//! (5,000 seats and 20,000 attempts at full size).
#![allow(clippy::unwrap_used)]

mod abuse;
mod crash;
mod hostile;
mod outage;
mod replicas;
mod webhooks;

/// The tests load the machine; they run one at a time.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
