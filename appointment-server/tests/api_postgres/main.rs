//! The end-to-end tests of `tests/api`, run against Postgres: a fresh database per test on the
//! server `TEST_POSTGRES_URL` names (e.g. `postgres://postgres@127.0.0.1:5432/postgres`). Without
//! it each test prints that it is skipped, unless `REQUIRE_POSTGRES=1`, which makes that a failure.
//!
//! Test code: a failed `unwrap` is a failed test.
#![allow(clippy::unwrap_used)]

#[path = "../api/appointments.rs"]
mod appointments;
#[path = "../api/auth.rs"]
mod auth;
#[path = "../api/bookings.rs"]
mod bookings;
#[path = "../api/calendars.rs"]
mod calendars;
#[path = "../api/concurrency.rs"]
mod concurrency;
#[path = "../api/errors.rs"]
mod errors;
#[path = "../api/health.rs"]
mod health;
#[path = "../api/helpers.rs"]
mod helpers;
#[path = "../api/holds.rs"]
mod holds;
#[path = "../api/idempotency.rs"]
mod idempotency;
#[path = "../api/identities.rs"]
mod identities;
#[path = "../api/lifecycle.rs"]
mod lifecycle;
#[path = "../api/metrics.rs"]
mod metrics;
#[path = "../api/openapi.rs"]
mod openapi;
#[path = "../api/reschedule.rs"]
mod reschedule;
#[path = "../api/sweeper.rs"]
mod sweeper;
#[path = "../api/users.rs"]
mod users;
#[path = "../api/webhooks.rs"]
mod webhooks;
