//! End-to-end tests: the real server on port 0 with a fresh database per test, driven by a real
//! HTTP client.
//!
//! Test code: a failed `unwrap` is a failed test.
#![allow(clippy::unwrap_used)]

mod helpers;

mod analytics_work;
mod appointments;
mod approval;
mod auth;
mod bookings;
mod calendars;
mod cli;
mod concurrency;
mod connections;
mod deadline;
mod errors;
mod events;
mod health;
mod holds;
mod idempotency;
mod identities;
mod lifecycle;
mod limits;
mod metrics;
mod openapi;
mod pages;
mod request_id;
mod reschedule;
mod shutdown;
mod sweeper;
mod users;
mod waitlist;
mod webhooks;
