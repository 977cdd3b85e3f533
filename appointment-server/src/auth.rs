//! Authentication: JWTs (HS256) for users and devices, bcrypt passwords, and the extractors that
//! turn an `Authorization: Bearer …` header into a [`UserId`].
//!
//! User tokens and device tokens carry different audiences, so a device token can never
//! authenticate a user (and a user token is no device token). Every token has a `jti`; logging
//! out revokes it in the store until it expires.

use appointment_core::{DeviceId, UserId};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// The issuer of every token.
pub const ISSUER: &str = "appointment-master";
/// The audience of user (session) tokens.
pub const USER_AUDIENCE: &str = "appointment-master:user";
/// The audience of device tokens.
pub const DEVICE_AUDIENCE: &str = "appointment-master:device";
/// How long a user token is valid.
pub const USER_TOKEN_TTL: TimeDelta = TimeDelta::hours(24);
/// How long a device token is valid.
pub const DEVICE_TOKEN_TTL: TimeDelta = TimeDelta::minutes(10);
/// The header a device token may be sent in.
pub const DEVICE_TOKEN_HEADER: &str = "x-device-token";

/// The claims of every token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user id (user tokens) or the device id (device tokens).
    pub sub: String,
    /// [`USER_AUDIENCE`] or [`DEVICE_AUDIENCE`].
    pub aud: String,
    /// [`ISSUER`].
    pub iss: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// The token's unique id, for revocation.
    pub jti: String,
}

impl Claims {
    /// When the token expires.
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// The keys that sign and verify tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(<redacted>)")
    }
}

impl TokenKeys {
    /// Keys from a shared secret.
    pub fn new(secret: &[u8]) -> Self {
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    fn issue(&self, sub: String, aud: &str, ttl: TimeDelta) -> Result<(String, Claims), ApiError> {
        let now = Utc::now();
        let claims = Claims {
            sub,
            aud: aud.to_owned(),
            iss: ISSUER.to_owned(),
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
            jti: Uuid::new_v4().to_string(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(&e))?;
        Ok((token, claims))
    }

    /// A 24-hour session token for `user`.
    pub fn issue_user_token(&self, user: UserId) -> Result<(String, Claims), ApiError> {
        self.issue(user.0.to_string(), USER_AUDIENCE, USER_TOKEN_TTL)
    }

    /// A 10-minute token vouching for `device`.
    pub fn issue_device_token(&self, device: &DeviceId) -> Result<(String, Claims), ApiError> {
        self.issue(
            device.as_str().to_owned(),
            DEVICE_AUDIENCE,
            DEVICE_TOKEN_TTL,
        )
    }

    /// Verifies signature (HS256 only), issuer, audience and expiry.
    fn verify(&self, token: &str, audience: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_audience(&[audience]);
        v.set_issuer(&[ISSUER]);
        v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        v.leeway = 5;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()
            .map(|d| d.claims)
    }

    /// The claims of a valid user token (signature, audience, expiry; not revocation).
    pub fn verify_user_token(&self, token: &str) -> Option<(UserId, Claims)> {
        let claims = self.verify(token, USER_AUDIENCE)?;
        let id = Uuid::parse_str(&claims.sub).ok()?;
        Some((UserId(id), claims))
    }

    /// The device id of a valid device token.
    pub fn verify_device_token(&self, token: &str) -> Option<DeviceId> {
        let claims = self.verify(token, DEVICE_AUDIENCE)?;
        DeviceId::parse(&claims.sub).ok()
    }
}

/// The bearer token of a request, if it has an `Authorization: Bearer …` header.
/// `Err` if the header is there but is not a bearer token.
fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("expected a Bearer token"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized("expected a Bearer token"));
    }
    Ok(Some(token.trim()))
}

/// Checks a bearer token completely: signature, audience, expiry, revocation, and that its user
/// still exists.
pub async fn authenticate(state: &AppState, token: &str) -> Result<(UserId, Claims), ApiError> {
    let invalid = || ApiError::unauthorized("invalid or expired token");
    let (user, claims) = state.keys.verify_user_token(token).ok_or_else(invalid)?;
    if state.store.is_token_revoked(&claims.jti).await? {
        return Err(invalid());
    }
    match state.scheduler.user(user).await {
        Ok(_) => Ok((user, claims)),
        Err(appointment_core::Error::NotFound(_)) => Err(invalid()),
        Err(e) => Err(e.into()),
    }
}

/// An authenticated user: the request carried a valid, unrevoked user token of an existing user.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The user.
    pub id: UserId,
    /// The token's claims.
    pub claims: Claims,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token =
            bearer(parts)?.ok_or_else(|| ApiError::unauthorized("authentication required"))?;
        let (id, claims) = authenticate(state, token).await?;
        Ok(AuthUser { id, claims })
    }
}

/// An optional user: `None` without an `Authorization` header, an error if one is there but is
/// not valid.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match bearer(parts)? {
            None => Ok(MaybeAuthUser(None)),
            Some(token) => {
                let (id, claims) = authenticate(state, token).await?;
                Ok(MaybeAuthUser(Some(AuthUser { id, claims })))
            }
        }
    }
}

/// The verified device of a request, from an `X-Device-Token` header. `None` without the header;
/// 401 if it is there but is not a valid device token.
#[derive(Debug, Clone)]
pub struct HeaderDevice(pub Option<DeviceId>);

impl FromRequestParts<AppState> for HeaderDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(DEVICE_TOKEN_HEADER) else {
            return Ok(HeaderDevice(None));
        };
        let token = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("invalid or expired device token"))?;
        verify_device(state, token).map(|d| HeaderDevice(Some(d)))
    }
}

/// The device id of a device token, or 401.
pub fn verify_device(state: &AppState, token: &str) -> Result<DeviceId, ApiError> {
    state
        .keys
        .verify_device_token(token.trim())
        .ok_or_else(|| ApiError::unauthorized("invalid or expired device token"))
}

/// Hashes a password with bcrypt off the async runtime.
pub async fn hash_password(password: String, cost: u32) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || bcrypt::hash(password, cost))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))
}

/// Verifies a password against a bcrypt hash off the async runtime. A malformed hash is a
/// mismatch.
pub async fn verify_password(password: String, hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .map_err(|e| ApiError::internal(&e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn device_tokens_are_not_user_tokens_and_back() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let device = DeviceId::parse("phone-1").unwrap();
        let (dt, _) = keys.issue_device_token(&device).unwrap();
        assert!(keys.verify_user_token(&dt).is_none());
        assert_eq!(keys.verify_device_token(&dt), Some(device));
        let (ut, claims) = keys.issue_user_token(UserId::new()).unwrap();
        assert!(keys.verify_device_token(&ut).is_none());
        assert!(keys.verify_user_token(&ut).is_some());
        assert!(!claims.jti.is_empty());
    }

    #[test]
    fn a_foreign_key_is_refused() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
        let other = TokenKeys::new(b"fedcba9876543210fedcba9876543210");
        let (t, _) = other.issue_user_token(UserId::new()).unwrap();
        assert!(keys.verify_user_token(&t).is_none());
    }
}
