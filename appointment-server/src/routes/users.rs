//! Accounts and tokens: `POST /users`, `POST /login`, `POST /logout`, `POST /auth/device-token`.

use appointment_core::{DeviceId, Email, Name, NewUser, Phone};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::auth::{self, AuthUser, MaybeAuthUser};
use crate::dto::{
    DeviceTokenRequest, DeviceTokenResponse, LoginRequest, LoginResponse, MessageResponse,
    UserRequest, UserResponse, rfc3339,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD: usize = 8;
/// Longest password accepted, in bytes of UTF-8: bcrypt reads only the first 72 bytes, so a
/// longer password would log in with any other password that shares those 72 bytes (two
/// 40-character passwords of `é` are 80 bytes each and share their first 72). Longer passwords
/// are refused rather than cut.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// Registers a user.
#[utoipa::path(post, path = "/users", tag = "Users", request_body = UserRequest,
    responses(
        (status = 201, description = "Created", body = UserResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 409, description = "Email or phone already registered", body = ErrorBody),
        (status = 429, description = "Too many registrations from this address", body = ErrorBody),
    ))]
pub async fn create_user(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<UserRequest>,
) -> ApiResult<(StatusCode, Json<UserResponse>)> {
    state.check_registration(ip)?;
    let name = Name::parse(&req.name)?;
    if req.name.trim().chars().count() < 2 {
        return Err(ApiError::invalid("name", "must be at least 2 characters"));
    }
    let email = Email::parse(&req.email)?;
    let phone = req
        .phone_number
        .or(req.phone)
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            Phone::parse(&p)
                .map_err(|_| ApiError::invalid("phone_number", "is not a valid phone number"))
        })
        .transpose()?;
    if req.password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD} characters"),
        ));
    }
    if req.password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid(
            "password",
            format!(
                "must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8 (bcrypt reads no more); \
                 accented and other non-ASCII letters take 2 to 4 bytes each"
            ),
        ));
    }
    let permit = state.bcrypt_permits.for_registration().await?;
    let password_hash = auth::hash_password(req.password, state.bcrypt_cost).await?;
    drop(permit);
    let user = state
        .scheduler
        .register_user(NewUser {
            name,
            email,
            phone,
            password_hash,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(UserResponse::from(&user))))
}

/// Logs in: a 24-hour bearer token. The same 401 for an unknown email and a wrong password.
#[utoipa::path(post, path = "/login", tag = "Authentication", request_body = LoginRequest,
    responses(
        (status = 200, description = "OK", body = LoginResponse),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 401, description = "Invalid email or password", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    // An account registered before the email rules became stricter keeps its address as it was
    // stored (lower-cased); it can still log in with it.
    let email = Email::parse(&req.email).or_else(|e| legacy_login_email(&req.email).ok_or(e))?;
    state.login_throttle.check(email.as_str(), ip)?;
    let user = state.scheduler.user_by_email(&email).await?;
    let hash = user
        .as_ref()
        .map_or_else(|| state.dummy_hash.to_string(), |u| u.password_hash.clone());
    let permit = state.bcrypt_permits.for_login().await?;
    let matches = auth::verify_password(req.password, hash).await?;
    drop(permit);
    let user = match user {
        Some(u) if matches => u,
        _ => return Err(ApiError::unauthorized("invalid email or password")),
    };
    let (token, _) = state.keys.issue_user_token(user.id)?;
    Ok(Json(LoginResponse {
        token,
        user: UserResponse::from(&user),
    }))
}

/// The address a login names when it is not one [`Email::parse`] accepts any more: trimmed and
/// lower-cased as earlier versions stored it, for looking up accounts registered under their
/// rules. `None` if it is not even that.
fn legacy_login_email(raw: &str) -> Option<Email> {
    let s = raw.trim().to_lowercase();
    if s.chars().any(char::is_control) {
        return None;
    }
    Email::from_stored(&s).ok()
}

/// Logs out: the bearer token, if any, is revoked until it expires.
#[utoipa::path(post, path = "/logout", tag = "Authentication",
    responses(
        (status = 200, description = "OK", body = MessageResponse),
        (status = 401, description = "The token sent is not valid", body = ErrorBody),
    ),
    security((), ("bearer" = [])))]
pub async fn logout(
    State(state): State<AppState>,
    MaybeAuthUser(user): MaybeAuthUser,
) -> ApiResult<Json<MessageResponse>> {
    if let Some(user) = user {
        state
            .store
            .revoke_token(&user.claims.jti, user.claims.expires_at())
            .await?;
    }
    Ok(Json(MessageResponse::new("logged out")))
}

/// A device token (valid 10 minutes) for a device of the logged-in user, for strict
/// anti-scalping: send it as `X-Device-Token` (or `device_token`) with a registered booking of
/// the same user. Limited per user and per client address (`DEVICE_TOKENS_PER_HOUR`,
/// `DEVICE_TOKENS_PER_HOUR_PER_IP`).
#[utoipa::path(post, path = "/auth/device-token", tag = "Authentication",
    request_body = DeviceTokenRequest,
    responses(
        (status = 200, description = "OK", body = DeviceTokenResponse),
        (status = 400, description = "Invalid device id", body = ErrorBody),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 429, description = "Too many device tokens for this user or address", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn device_token(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<DeviceTokenRequest>,
) -> ApiResult<Json<DeviceTokenResponse>> {
    let device = DeviceId::parse(&req.device_id)?;
    state.device_token_limits.check(user.id, ip)?;
    let (device_token, claims) = state.keys.issue_device_token(&device, user.id)?;
    Ok(Json(DeviceTokenResponse {
        device_token,
        expires_at: rfc3339(claims.expires_at()),
    }))
}
