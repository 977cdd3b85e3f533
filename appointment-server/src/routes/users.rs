//! Accounts and tokens: `POST /users`, `GET /users/verify-email`, `POST /users/me/verify-email`,
//! `POST /login`, `POST /logout`, `POST /auth/device-token`.

use appointment_core::{DeviceId, Email, Name, NewUser, Phone, User};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{self, AuthUser, MaybeAuthUser};
use crate::dto::{
    DeviceTokenRequest, DeviceTokenResponse, LoginRequest, LoginResponse, MessageResponse,
    UserRequest, UserResponse, rfc3339,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, ClientIp};
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
    if state.mail.enabled() {
        // Registration does not fail for want of a message: `POST /users/me/verify-email` sends
        // another.
        if let Err(e) = queue_verification(&state, &user).await {
            tracing::warn!(error = %e, "queuing the verification message failed");
        }
    }
    Ok((StatusCode::CREATED, Json(UserResponse::from(&user))))
}

/// Queues the message with a link that verifies `user`'s address; `false` if one went out
/// within the hour.
async fn queue_verification(state: &AppState, user: &User) -> ApiResult<bool> {
    let (token, claims) = state.keys.issue_email_token(user.id, &user.email)?;
    Ok(state
        .mail
        .queue_verification(user, &token, claims.expires_at())
        .await?)
}

/// The token of an email-verification link.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyEmailQuery {
    /// The token the link carries.
    pub token: String,
}

/// Verifies the address of an account: the link mailed to it at registration (or by `POST
/// /users/me/verify-email`) comes here. Verifying again is harmless.
#[utoipa::path(get, path = "/users/verify-email", tag = "Users", params(VerifyEmailQuery),
    responses(
        (status = 200, description = "The address is verified", body = UserResponse),
        (status = 400, description = "The link is not valid, has expired, or is for an address the account no longer has", body = ErrorBody),
    ))]
pub async fn verify_email(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<VerifyEmailQuery>,
) -> ApiResult<Json<UserResponse>> {
    let invalid = || {
        ApiError::invalid(
            "token",
            "is not a valid verification link, or it has expired: ask for a new one",
        )
    };
    let (user, email) = state
        .keys
        .verify_email_token(&q.token)
        .ok_or_else(invalid)?;
    match state.scheduler.verify_email(user, &email).await {
        Ok(user) => Ok(Json(UserResponse::from(&user))),
        Err(
            appointment_core::Error::NotFound(_) | appointment_core::Error::InvalidInput { .. },
        ) => Err(invalid()),
        Err(e) => Err(e.into()),
    }
}

/// Mails the logged-in user a new link that verifies their address (at most one an hour).
#[utoipa::path(post, path = "/users/me/verify-email", tag = "Users",
    responses(
        (status = 202, description = "A message with a new link is on its way", body = MessageResponse),
        (status = 200, description = "Nothing sent: the address is verified already, or a link went out within the hour", body = MessageResponse),
        (status = 401, description = "Authentication required", body = ErrorBody),
        (status = 409, description = "Email is off on this server (no SMTP_URL)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn resend_verification(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<(StatusCode, Json<MessageResponse>)> {
    if !state.mail.enabled() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "email_off",
            "this server sends no email, so addresses cannot be verified",
        ));
    }
    let user = state.scheduler.user(user.id).await?;
    if user.email_verified_at.is_some() {
        return Ok((
            StatusCode::OK,
            Json(MessageResponse::new("the address is verified already")),
        ));
    }
    if queue_verification(&state, &user).await? {
        Ok((
            StatusCode::ACCEPTED,
            Json(MessageResponse::new(
                "a message with a new link is on its way",
            )),
        ))
    } else {
        Ok((
            StatusCode::OK,
            Json(MessageResponse::new(
                "a link went out within the hour: look for it (and in the spam folder)",
            )),
        ))
    }
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
