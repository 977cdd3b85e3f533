//! `Idempotency-Key` on the booking POSTs: a retry with the same key gets the first answer and
//! books nothing more.
//!
//! Keys are scoped by endpoint and booker, so that one client's key never blocks or replays
//! another's: a logged-in user by their id; a guest by the email of the booking, the device of a
//! valid device token (if any) and the client address (a guest retrying from another address
//! starts afresh). A key is bound to a fingerprint of the request body: the same key with another
//! body is a 422; a key whose first request is still running is a 409, for at most the lease
//! ([`lease`]: the request deadline and a margin), after which the request is taken to have died
//! and a retry claims the key again. Answers are kept for 24 hours, server errors too (a 500 may
//! hide a booking that was made), except a 503: the database could not be reached, nothing was
//! done, and the request can be retried.

use axum::body::{Body, to_bytes};
use std::net::IpAddr;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{TimeDelta, Utc};
use sha2::{Digest, Sha256};
use tracing::Instrument;

use appointment_store::IdempotencyClaim;

use crate::auth::DEVICE_TOKEN_HEADER;
use crate::error::ApiError;
use crate::extract::{BODY_LIMIT, ClientIp};
use crate::state::AppState;

/// The request header.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Set on an answer replayed from an earlier request.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long an answer is kept.
pub const RETENTION: TimeDelta = TimeDelta::hours(24);
/// How much longer than the request deadline a key stays "in progress" without an answer.
pub const LEASE_MARGIN: TimeDelta = TimeDelta::seconds(30);

/// How long a claimed key stays "in progress" without an answer: longer than any request may run
/// (the request deadline, the idempotency bookkeeping's margin and [`LEASE_MARGIN`]), so that a
/// key is only claimed again once its first request can no longer answer.
pub fn lease(request_timeout: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(request_timeout + crate::routes::OUTER_DEADLINE_MARGIN)
        .unwrap_or(TimeDelta::hours(1))
        + LEASE_MARGIN
}

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    format!("{:x}", h.finalize())
}

/// The key under which a request's answer is stored: the client's key scoped by endpoint
/// (`"POST /appointments/book"`) and booker ([`user_caller`] or [`guest_caller`]).
pub fn scoped_key(endpoint: &str, caller: &str, key: &str) -> String {
    hex_sha256(&[endpoint.as_bytes(), caller.as_bytes(), key.as_bytes()])
}

/// The booker of a logged-in request.
pub fn user_caller(user: &impl std::fmt::Display) -> String {
    format!("user:{user}")
}

/// The booker of a guest request: the booking's email (trimmed, lower case), the device of a
/// valid device token, and the client address (IPv6 by its /64).
pub fn guest_caller(email: Option<&str>, device: Option<&str>, client: IpAddr) -> String {
    let email = email.map(|e| e.trim().to_lowercase()).unwrap_or_default();
    hex_sha256(&[
        b"guest",
        email.as_bytes(),
        device.unwrap_or("").as_bytes(),
        crate::throttle::address_key(client).to_string().as_bytes(),
    ])
}

fn caller(state: &AppState, headers: &HeaderMap, body: &[u8], client: IpAddr) -> String {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .and_then(|(_, t)| state.keys.verify_user_token(t.trim()));
    if let Some((user, _)) = bearer {
        return user_caller(&user);
    }
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let token = field("device_token")
        .filter(|t| !t.trim().is_empty())
        .or_else(|| {
            headers
                .get(DEVICE_TOKEN_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
    let device = token
        .and_then(|t| state.keys.verify_device_token(t.trim()))
        .map(|d| d.device.to_string());
    guest_caller(field("email").as_deref(), device.as_deref(), client)
}

/// The middleware.
pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(raw) = req.headers().get(IDEMPOTENCY_KEY) else {
        return next.run(req).await;
    };
    let key = match raw.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
            k.to_owned()
        }
        _ => {
            return ApiError::invalid(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };
    let scope = format!("{} {}", req.method(), req.uri().path());
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return ApiError::payload_too_large(BODY_LIMIT).into_response();
    };
    let Ok(ClientIp(client)) = ClientIp::from_request_parts(&mut parts, &state).await;
    let who = caller(&state, &parts.headers, &bytes, client);
    let scoped_key = scoped_key(&scope, &who, &key);
    let request_hash = hex_sha256(&[&bytes]);
    let now = Utc::now();
    let claim = state
        .store
        .claim_idempotency_key(
            &scoped_key,
            &request_hash,
            now,
            now - RETENTION,
            now - lease(state.request_timeout),
        )
        .await;
    match claim {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(IdempotencyClaim::Claimed) => {}
        Ok(IdempotencyClaim::InProgress { .. }) => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_in_progress",
                "a request with this Idempotency-Key is still being processed",
            )
            .into_response();
        }
        Ok(IdempotencyClaim::Completed {
            request_hash: first,
            status,
            body,
        }) => {
            if first != request_hash {
                return ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request",
                )
                .into_response();
            }
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut resp = (status, body).into_response();
            let headers = resp.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(REPLAYED, HeaderValue::from_static("true"));
            return resp;
        }
    }
    // The request runs in a task of its own, so that its answer is recorded (and the key not
    // left "in progress") even if the client goes away before it is sent.
    let req = Request::from_parts(parts, Body::from(bytes));
    let task_state = state.clone();
    let task_key = scoped_key.clone();
    let task = tokio::spawn(
        run_and_record(task_state, task_key, next, req).instrument(tracing::Span::current()),
    );
    match task.await {
        Ok(resp) => resp,
        Err(e) => {
            // The request died half way (a panic), perhaps after its commit: keep the answer
            // like any other 500, so that a retry cannot book twice.
            let err = ApiError::internal(&e);
            let body = serde_json::to_string(err.body()).unwrap_or_default();
            let kept = state
                .store
                .complete_idempotency_key(&scoped_key, err.status().as_u16(), &body)
                .await;
            if let Err(e) = kept {
                tracing::error!(error = %e, "could not record an idempotent answer");
            }
            err.into_response()
        }
    }
}

/// Runs the request and records its answer under `scoped_key`. A 503 releases the key instead,
/// so that the request can be retried: it promises that nothing was applied. Any other server
/// error is recorded like an answer, since the booking may have been made (a connection lost while
/// committing): retrying with the same key replays it rather than risking a second booking.
async fn run_and_record(state: AppState, scoped_key: String, next: Next, req: Request) -> Response {
    let resp = next.run(req).await;
    let (rparts, rbody) = resp.into_parts();
    let rbytes = match to_bytes(rbody, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            let _ = state.store.release_idempotency_key(&scoped_key).await;
            return ApiError::internal(&e).into_response();
        }
    };
    let kept = if rparts.status == StatusCode::SERVICE_UNAVAILABLE {
        state.store.release_idempotency_key(&scoped_key).await
    } else {
        let text = String::from_utf8_lossy(&rbytes);
        state
            .store
            .complete_idempotency_key(&scoped_key, rparts.status.as_u16(), &text)
            .await
    };
    if let Err(e) = kept {
        tracing::error!(error = %e, "could not record an idempotent answer");
    }
    Response::from_parts(rparts, Body::from(rbytes))
}
