//! # appointment-server
//!
//! The REST service of Appointment Master (axum), wire-compatible with the original Go service:
//! the same paths, JSON field names and status codes, with its unsafe behaviours fixed.
//!
//! Every business rule lives in [`appointment_core::Scheduler`]; handlers extract, authenticate,
//! call the scheduler and map the result. Start with [`startup::Application::build`], or build
//! the router alone with [`routes::app`].

pub mod auth;
pub mod calendar;
pub mod config;
pub mod connections;
pub mod courier;
pub mod dto;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod mail;
pub mod metrics;
pub mod pages;
pub mod present;
pub mod routes;
pub mod startup;
pub mod state;
pub mod storage;
pub mod sweeper;
pub mod telemetry;
pub mod throttle;
pub mod webhooks;

pub use config::Config;
pub use routes::{ApiDoc, app, openapi_json};
pub use startup::Application;
