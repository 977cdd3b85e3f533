//! The one error type of the HTTP layer and its JSON body.
//!
//! Every error the service answers with is an [`ApiError`]: a status code and a body
//! `{"code", "message", "details"?, "error"}`, where `error` repeats `message` for clients written
//! for the original service, which answered `{"error": "..."}`. Engine errors are mapped once, in
//! `From<appointment_core::Error>`; storage failures are logged and answered with a generic 500
//! that tells the client nothing about the backend, and an unreachable database with a 503 and a
//! `Retry-After` header.

use appointment_core::{Duplicate, Error as CoreError};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The JSON body of every error answer (the original service's `errors.ApiErrorResponse`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code (`invalid_input`, `not_found`, `slot_full`, …).
    pub code: String,
    /// A sentence a person can read.
    pub message: String,
    /// More about the error; for invalid input, the name of the offending field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// The same sentence as `message`, under the name the original service used.
    pub error: String,
}

/// An error answer: a status and an [`ErrorBody`].
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    // Boxed: errors travel in every handler's `Result`, which stays small this way.
    body: Box<ErrorBody>,
    retry_after: Option<u32>,
}

/// Seconds a client is asked to wait before retrying when the database is unreachable.
pub const RETRY_AFTER_SECS: u32 = 2;

impl ApiError {
    /// An error with the given status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            status,
            code,
            body: Box::new(ErrorBody {
                code: code.to_owned(),
                error: message.clone(),
                message,
                details: None,
            }),
            retry_after: None,
        }
    }

    /// Adds `details` to the body.
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.body.details = Some(details.into());
        self
    }

    /// 400: an input is not acceptable; `field` goes into `details`.
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            format!("invalid {field}: {reason}"),
        )
        .with_details(field)
    }

    /// 400 for a request that cannot be read at all (malformed JSON, bad query string).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401 with a message that does not tell why the credentials were refused.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 404 for a route that does not exist.
    pub fn route_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such route")
    }

    /// 413: the request body is larger than the limit.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body must be at most {limit} bytes"),
        )
    }

    /// 429: too many attempts.
    pub fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many attempts, try again later",
        )
    }

    /// Asks the client to wait `secs` seconds before retrying (`Retry-After`).
    pub fn with_retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// 500 for a failure that is not the client's; `context` is logged, never sent.
    pub fn internal(context: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %context, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred",
        )
    }

    /// 503: the database cannot be reached right now; `context` is logged, never sent. The answer
    /// carries `Retry-After`.
    pub fn unavailable(context: &dyn std::fmt::Display) -> Self {
        tracing::warn!(error = %context, "storage unavailable");
        let mut err = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the service is temporarily unavailable, try again shortly",
        );
        err.retry_after = Some(RETRY_AFTER_SECS);
        err
    }

    /// 504: the request ran past the service's deadline (e.g. a database that stopped answering
    /// without closing its connections) and was abandoned; whether a write in it took effect is
    /// unknown.
    pub fn timeout() -> Self {
        tracing::warn!("request timed out");
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            "the request did not finish in time and was abandoned; it may or may not have taken effect",
        )
    }

    /// The `Retry-After` seconds sent with the answer, if any.
    pub fn retry_after(&self) -> Option<u32> {
        self.retry_after
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code (the body's `code`), one of a fixed set: what metrics count
    /// outcomes by.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status, self.body.code, self.body.message
        )
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        let message = err.to_string();
        let code = err.code();
        match err {
            CoreError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, code, message),
            CoreError::SlotFull { .. } => ApiError::new(StatusCode::CONFLICT, code, message),
            CoreError::Duplicate(d) => {
                let details = match d {
                    Duplicate::BookingEmail | Duplicate::WaitlistEmail => "email",
                    Duplicate::BookingDevice => "device_token",
                    Duplicate::UserEmail | Duplicate::Ban => "email",
                    Duplicate::UserPhone => "phone_number",
                    _ => "code",
                };
                ApiError::new(StatusCode::CONFLICT, code, message).with_details(details)
            }
            CoreError::Banned
            | CoreError::Forbidden(_)
            | CoreError::RegistrationRequired
            | CoreError::EmailNotVerified => ApiError::new(StatusCode::FORBIDDEN, code, message),
            CoreError::InvalidInput { field, .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, code, message).with_details(field)
            }
            CoreError::InvalidTransition { .. }
            | CoreError::TooLate { .. }
            | CoreError::TooEarly { .. }
            | CoreError::HoldEnded { .. }
            | CoreError::Changed(_) => ApiError::new(StatusCode::CONFLICT, code, message),
            e @ CoreError::Unavailable(_) => ApiError::unavailable(&DisplayChain(&e)),
            other => ApiError::internal(&DisplayChain(&other)),
        }
    }
}

/// Displays an error with its sources, for logs.
struct DisplayChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(*self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use appointment_core::{Entity, Error};

    #[test]
    fn core_errors_map_to_the_documented_statuses() {
        let cases = [
            (Error::NotFound(Entity::Booking), StatusCode::NOT_FOUND),
            (
                Error::SlotFull {
                    requested: 1,
                    available: 0,
                },
                StatusCode::CONFLICT,
            ),
            (Error::Duplicate(Duplicate::Ban), StatusCode::CONFLICT),
            (Error::Banned, StatusCode::FORBIDDEN),
            (Error::Forbidden("no"), StatusCode::FORBIDDEN),
            (Error::RegistrationRequired, StatusCode::FORBIDDEN),
            (Error::EmailNotVerified, StatusCode::FORBIDDEN),
            (Error::invalid("start_time", "no"), StatusCode::BAD_REQUEST),
            (
                Error::storage(std::io::Error::other("disk on fire")),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                Error::unavailable(std::io::Error::other("connection refused")),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
        ];
        for (err, status) in cases {
            let api = ApiError::from(err);
            assert_eq!(api.status(), status, "{api}");
        }
    }

    #[test]
    fn storage_details_never_reach_the_client() {
        let api = ApiError::from(Error::storage(std::io::Error::other("password=hunter2")));
        assert!(!api.body().message.contains("hunter2"));
        assert!(api.body().details.is_none());
    }

    #[test]
    fn an_unreachable_database_asks_the_client_to_retry() {
        let api = ApiError::from(Error::unavailable(std::io::Error::other(
            "connect to postgres://app:hunter2@db failed",
        )));
        assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(api.body().code, "unavailable");
        assert!(!api.body().message.contains("hunter2"));
        let response = api.into_response();
        assert_eq!(
            response.headers()[axum::http::header::RETRY_AFTER],
            RETRY_AFTER_SECS.to_string().as_str()
        );
    }

    #[test]
    fn every_body_carries_error_equal_to_message() {
        let api = ApiError::from(Error::invalid("start_time", "is not a slot"));
        let json = serde_json::to_value(api.body()).unwrap();
        assert_eq!(json["error"], json["message"]);
        assert_eq!(json["code"], "invalid_input");
        assert_eq!(json["details"], "start_time");
    }

    #[test]
    fn invalid_input_names_the_field() {
        let api = ApiError::from(Error::invalid("start_time", "is not a slot"));
        assert_eq!(api.body().details.as_deref(), Some("start_time"));
        assert_eq!(api.body().code, "invalid_input");
    }
}
