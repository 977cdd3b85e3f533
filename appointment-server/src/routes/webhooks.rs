//! An owner's webhook endpoints: register, list, change, delete, rotate the secret, send a test
//! message, read the delivery log. Delivery itself runs off the request path
//! ([`crate::webhooks`]).

use appointment_store::{DeliveryRecord, DeliveryStatus, WebhookEndpoint};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::dto::{MessageResponse, PageQuery, paged, timestamp};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::state::AppState;
use crate::webhooks::{known_event_type, new_secret, target_refusal, test_delivery};

/// The most endpoints one owner may register.
pub const MAX_ENDPOINTS_PER_OWNER: usize = 20;
/// The longest description.
const MAX_DESCRIPTION: usize = 500;

/// `POST /webhooks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct WebhookRequest {
    /// Where to send events: an `https://` (or `http://`) URL on a public address.
    pub url: String,
    /// The event types wanted (`booking.created`, …); all of them when absent or empty.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// A note for the owner.
    #[serde(default)]
    pub description: String,
}

/// `PATCH /webhooks/{webhook_id}`: the fields to change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct WebhookChanges {
    /// A new URL.
    pub url: Option<String>,
    /// New event types (empty: all).
    pub event_types: Option<Vec<String>>,
    /// A new note.
    pub description: Option<String>,
    /// Pause (`false`) or resume (`true`) deliveries; paused deliveries wait.
    pub enabled: Option<bool>,
}

/// An endpoint (its secret is shown only when it is made or rotated).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookView {
    /// Id.
    pub id: String,
    /// Where events are sent.
    pub url: String,
    /// The event types it receives; empty for all.
    pub event_types: Vec<String>,
    /// The owner's note.
    pub description: String,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// Since when deliveries fail (a delivery ran out of retries), until one succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    /// Why the last failed delivery failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it was registered: it receives events from then on.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
}

impl From<&WebhookEndpoint> for WebhookView {
    fn from(e: &WebhookEndpoint) -> Self {
        WebhookView {
            id: e.id.to_string(),
            url: e.url.clone(),
            event_types: e.event_types.clone(),
            description: e.description.clone(),
            enabled: e.enabled,
            failing_since: e.failing_since.map(timestamp),
            last_error: e.last_error.clone(),
            created_at: timestamp(e.created_at),
            updated_at: timestamp(e.updated_at),
        }
    }
}

/// A new endpoint, with its signing secret: shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookCreated {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookView,
    /// The signing secret (`whsec_…`): verify each request's `webhook-signature` with it, as the
    /// Standard Webhooks libraries do. It is not shown again.
    pub secret: String,
}

/// A rotated secret: shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookSecret {
    /// The new signing secret; the old one stops signing at once.
    pub secret: String,
}

/// A test message queued.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TestQueued {
    /// The delivery, as the log shows it.
    pub delivery_id: String,
    /// Its `webhook-id`.
    pub event_id: String,
}

/// A delivery as the log shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    /// Id.
    pub id: String,
    /// The event's id (its `webhook-id`).
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// `pending` (to be tried at `next_attempt_at`), `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it is tried next, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<String>,
    /// The endpoint's last answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<u16>,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long the last attempt took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u32>,
    /// When the last attempt was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<String>,
    /// When the event was queued for this endpoint.
    pub created_at: String,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(d: DeliveryRecord) -> Self {
        DeliveryView {
            id: d.id.to_string(),
            event_id: d.event_id.to_string(),
            event_type: d.event_type,
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: d
                .next_attempt_at
                .filter(|_| d.status == DeliveryStatus::Pending)
                .map(timestamp),
            response_status: d.last_status_code,
            error: d.last_error,
            latency_ms: d.last_latency_ms,
            last_attempt_at: d.last_attempt_at.map(timestamp),
            created_at: timestamp(d.created_at),
        }
    }
}

paged!(
    /// A page of an endpoint's deliveries, newest first.
    DeliveryPage,
    DeliveryView
);

async fn check_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    let url = url.trim();
    match target_refusal(url, state.webhooks.allows_private_targets()).await {
        Some(why) => Err(ApiError::invalid("url", why)),
        None => Ok(url.to_owned()),
    }
}

fn check_types(types: &[String]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for t in types {
        let t = t.trim();
        if !known_event_type(t) {
            return Err(ApiError::invalid(
                "event_types",
                format!(
                    "{t:?} is not an event type (one of: {})",
                    appointment_core::EventKind::ALL
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

fn check_description(d: &str) -> Result<String, ApiError> {
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(ApiError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(d.trim().to_owned())
}

fn webhook_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::invalid("webhook_id", "must be a webhook's id"))
}

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such webhook")
}

async fn mine(state: &AppState, user: &AuthUser, raw: &str) -> Result<WebhookEndpoint, ApiError> {
    let id = webhook_id(raw)?;
    state
        .store
        .webhook(user.id, id)
        .await?
        .ok_or_else(not_found)
}

/// Registers an endpoint for the caller's events. The answer carries the signing secret, shown
/// this once. Requests are signed as the Standard Webhooks specification says (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`).
#[utoipa::path(post, path = "/webhooks", tag = "Webhooks", request_body = WebhookRequest,
    responses(
        (status = 201, description = "Created", body = WebhookCreated),
        (status = 400, description = "Invalid URL (or a private address), event type or description", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 409, description = "The owner has the most endpoints allowed", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<WebhookRequest>,
) -> ApiResult<(StatusCode, Json<WebhookCreated>)> {
    state.check_owner_write(user.id)?;
    let event_types = check_types(&req.event_types)?;
    let description = check_description(&req.description)?;
    let url = check_url(&state, &req.url).await?;
    if state.store.webhooks(user.id).await?.len() >= MAX_ENDPOINTS_PER_OWNER {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "too_many_webhooks",
            format!("an owner may have at most {MAX_ENDPOINTS_PER_OWNER} webhook endpoints"),
        ));
    }
    let now = state.scheduler.now();
    let endpoint = WebhookEndpoint {
        id: Uuid::new_v4(),
        owner: user.id,
        url,
        event_types,
        description,
        secret: new_secret(),
        enabled: true,
        failing_since: None,
        last_error: None,
        created_at: now,
        updated_at: now,
    };
    state.store.insert_webhook(&endpoint).await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookCreated {
            endpoint: WebhookView::from(&endpoint),
            secret: endpoint.secret,
        }),
    ))
}

/// The caller's endpoints, oldest first (without their secrets).
#[utoipa::path(get, path = "/webhooks", tag = "Webhooks",
    responses(
        (status = 200, description = "OK", body = Vec<WebhookView>),
        (status = 401, description = "Authentication required", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<WebhookView>>> {
    let all = state.store.webhooks(user.id).await?;
    Ok(Json(all.iter().map(WebhookView::from).collect()))
}

/// One of the caller's endpoints.
#[utoipa::path(get, path = "/webhooks/{webhook_id}", tag = "Webhooks",
    params(("webhook_id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "OK", body = WebhookView),
        (status = 400, description = "Not an id", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn get_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(WebhookView::from(&mine(&state, &user, &id).await?)))
}

/// Changes an endpoint: its URL, event types, note, or whether it receives deliveries.
#[utoipa::path(patch, path = "/webhooks/{webhook_id}", tag = "Webhooks",
    params(("webhook_id" = String, Path, description = "The endpoint's id")),
    request_body = WebhookChanges,
    responses(
        (status = 200, description = "OK", body = WebhookView),
        (status = 400, description = "Invalid URL, event type or description", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn update_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<WebhookChanges>,
) -> ApiResult<Json<WebhookView>> {
    state.check_owner_write(user.id)?;
    let mut e = mine(&state, &user, &id).await?;
    if let Some(t) = &req.event_types {
        e.event_types = check_types(t)?;
    }
    if let Some(d) = &req.description {
        e.description = check_description(d)?;
    }
    if let Some(u) = &req.url {
        e.url = check_url(&state, u).await?;
    }
    if let Some(on) = req.enabled {
        e.enabled = on;
    }
    e.updated_at = state.scheduler.now();
    if !state.store.update_webhook(&e).await? {
        return Err(not_found());
    }
    state.webhooks.wake();
    Ok(Json(WebhookView::from(&e)))
}

/// Deletes an endpoint and its deliveries.
#[utoipa::path(delete, path = "/webhooks/{webhook_id}", tag = "Webhooks",
    params(("webhook_id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "OK", body = MessageResponse),
        (status = 400, description = "Not an id", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<MessageResponse>> {
    let id = webhook_id(&id)?;
    if !state.store.delete_webhook(user.id, id).await? {
        return Err(not_found());
    }
    Ok(Json(MessageResponse::new("webhook deleted")))
}

/// Replaces an endpoint's signing secret; the answer shows the new one, this once.
#[utoipa::path(post, path = "/webhooks/{webhook_id}/rotate-secret", tag = "Webhooks",
    params(("webhook_id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "OK", body = WebhookSecret),
        (status = 400, description = "Not an id", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookSecret>> {
    state.check_owner_write(user.id)?;
    let mut e = mine(&state, &user, &id).await?;
    e.secret = new_secret();
    e.updated_at = state.scheduler.now();
    if !state.store.update_webhook(&e).await? {
        return Err(not_found());
    }
    Ok(Json(WebhookSecret { secret: e.secret }))
}

/// Queues a `webhook.test` message to the endpoint (signed as every delivery is); its outcome
/// shows in the delivery log.
#[utoipa::path(post, path = "/webhooks/{webhook_id}/test", tag = "Webhooks",
    params(("webhook_id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 202, description = "Queued", body = TestQueued),
        (status = 400, description = "Not an id", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn test_webhook(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<TestQueued>)> {
    state.check_owner_write(user.id)?;
    let e = mine(&state, &user, &id).await?;
    let d = test_delivery(&e, chrono::Utc::now());
    state.store.insert_delivery(&d).await?;
    state.webhooks.wake();
    Ok((
        StatusCode::ACCEPTED,
        Json(TestQueued {
            delivery_id: d.id.to_string(),
            event_id: d.event_id.to_string(),
        }),
    ))
}

/// An endpoint's deliveries, newest first: status, attempts, last answer and latency, next
/// attempt.
#[utoipa::path(get, path = "/webhooks/{webhook_id}/deliveries", tag = "Webhooks",
    params(("webhook_id" = String, Path, description = "The endpoint's id"), PageQuery),
    responses(
        (status = 200, description = "OK", body = DeliveryPage),
        (status = 400, description = "Not an id, or a bad page", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 404, description = "No such endpoint of the caller's", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<DeliveryPage>> {
    let page = q.page()?;
    let e = mine(&state, &user, &id).await?;
    let p = state.store.deliveries(e.id, page).await?;
    Ok(Json(DeliveryPage::from_paged(p, DeliveryView::from)))
}
