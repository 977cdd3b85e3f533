//! The caller's ban list.

use appointment_core::Email;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::auth::AuthUser;
use crate::dto::{BanEntry, BanRequest, MessageResponse};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;

/// Bans a mailbox from all of the caller's appointments. The ban is kept on the normalised
/// address without its `+tag`, so it covers every alias of the mailbox (`ann+x@example.com` bans
/// `ann@example.com` and `ann+y@example.com`); the answer shows the address kept.
#[utoipa::path(post, path = "/ban-list", tag = "Ban list", request_body = BanRequest,
    responses(
        (status = 201, description = "Created", body = BanEntry),
        (status = 400, description = "Invalid email", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 409, description = "The mailbox is already banned (under this or another alias)", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn add_ban(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<BanRequest>,
) -> ApiResult<(StatusCode, Json<BanEntry>)> {
    state.check_owner_write(user.id)?;
    let ban = state
        .scheduler
        .ban(user.id, Email::parse(&req.email)?)
        .await?;
    Ok((StatusCode::CREATED, Json(BanEntry::from(&ban))))
}

/// Lifts the ban of a mailbox (any `+tag` alias of it names the same ban).
#[utoipa::path(delete, path = "/ban-list", tag = "Ban list", request_body = BanRequest,
    responses(
        (status = 200, description = "OK", body = MessageResponse),
        (status = 400, description = "Invalid email", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 404, description = "Not banned", body = ErrorBody),
        (status = 429, description = "Too many writes by this owner", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn remove_ban(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<BanRequest>,
) -> ApiResult<Json<MessageResponse>> {
    state.check_owner_write(user.id)?;
    let email = Email::parse(&req.email)?;
    state.scheduler.unban(user.id, &email).await?;
    Ok(Json(MessageResponse::new(format!(
        "{email} removed from the ban list"
    ))))
}

/// The caller's ban list, oldest first.
#[utoipa::path(get, path = "/ban-list", tag = "Ban list",
    responses(
        (status = 200, description = "OK", body = Vec<BanEntry>),
        (status = 401, description = "Authentication required", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list_bans(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<BanEntry>>> {
    let bans = state.scheduler.bans(user.id).await?;
    Ok(Json(bans.iter().map(BanEntry::from).collect()))
}
