//! # reliability
//!
//! The harness behind the reliability tests and the load benchmark of `appointment-server`: it
//! runs the real server binary as child processes ([`server`]), drives many concurrent clients
//! against them ([`load`]), sets up users and appointments over the API ([`api`]), checks the
//! database afterwards ([`db`]), and runs a private Postgres cluster that a test may stop and
//! start ([`cluster`]).
//!
//! Every wait is bounded by a deadline; every load loop by a count and a time.

pub mod api;
pub mod cluster;
pub mod db;
pub mod load;
pub mod server;

/// The JWT secret every server started here signs with.
pub const SECRET: &str = "reliability-secret-0123456789-abcdefghijkl";

/// Whether the environment asks for the Postgres tests to run (`REQUIRE_POSTGRES=1`): then a
/// missing Postgres is a failure rather than a skip.
pub fn postgres_required() -> bool {
    std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A number from the environment, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}
