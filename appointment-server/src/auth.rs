//! Authentication: JWTs (HS256) for users and devices, bcrypt passwords, and the extractors that
//! turn an `Authorization: Bearer …` header into a [`UserId`].
//!
//! User tokens and device tokens carry different audiences, so a device token can never
//! authenticate a user (and a user token is no device token). A device token is minted for a
//! logged-in user and names that user (`uid`): it vouches for a device of that user only. Every
//! token the service accepts has a non-empty `jti` (logging out revokes it in the store until it
//! expires), and its `exp` and, when present, `nbf` are honoured.

use std::net::IpAddr;
use std::num::NonZeroU32;

use appointment_core::{DeviceId, Email, UserId};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{DateTime, TimeDelta, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
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
/// The audience of email-verification tokens.
pub const EMAIL_AUDIENCE: &str = "appointment-master:email";
/// How long an email-verification link works.
pub const EMAIL_TOKEN_TTL: TimeDelta = TimeDelta::hours(48);
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
    /// Not valid before (seconds since the epoch). Issued tokens carry their issue time; a
    /// token whose `nbf` is in the future is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The token's unique id, for revocation; a token without one (or with an empty one) is
    /// refused.
    #[serde(default)]
    pub jti: String,
    /// Device tokens only: the user the device token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
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

    fn issue(
        &self,
        sub: String,
        aud: &str,
        ttl: TimeDelta,
        uid: Option<UserId>,
    ) -> Result<(String, Claims), ApiError> {
        let now = Utc::now();
        let claims = Claims {
            sub,
            aud: aud.to_owned(),
            iss: ISSUER.to_owned(),
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
            nbf: Some(now.timestamp()),
            jti: Uuid::new_v4().to_string(),
            uid: uid.map(|u| u.0.to_string()),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(&e))?;
        Ok((token, claims))
    }

    /// A 24-hour session token for `user`.
    pub fn issue_user_token(&self, user: UserId) -> Result<(String, Claims), ApiError> {
        self.issue(user.0.to_string(), USER_AUDIENCE, USER_TOKEN_TTL, None)
    }

    /// A 10-minute token vouching for `device`, a device of `user`.
    pub fn issue_device_token(
        &self,
        device: &DeviceId,
        user: UserId,
    ) -> Result<(String, Claims), ApiError> {
        self.issue(
            device.as_str().to_owned(),
            DEVICE_AUDIENCE,
            DEVICE_TOKEN_TTL,
            Some(user),
        )
    }

    /// A 48-hour token proving that whoever holds it receives mail at `email`, the address of
    /// `user` (sent in a link to that address).
    pub fn issue_email_token(
        &self,
        user: UserId,
        email: &Email,
    ) -> Result<(String, Claims), ApiError> {
        self.issue(
            email.as_str().to_owned(),
            EMAIL_AUDIENCE,
            EMAIL_TOKEN_TTL,
            Some(user),
        )
    }

    /// The user and address of a valid email-verification token.
    pub fn verify_email_token(&self, token: &str) -> Option<(UserId, Email)> {
        let claims = self.verify(token, EMAIL_AUDIENCE)?;
        let user = Uuid::parse_str(claims.uid.as_deref()?).ok()?;
        Some((UserId(user), Email::from_stored(&claims.sub).ok()?))
    }

    /// Verifies signature (HS256 only), issuer, audience, expiry, not-before (when the token has
    /// one) and a non-empty `jti`.
    fn verify(&self, token: &str, audience: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_audience(&[audience]);
        v.set_issuer(&[ISSUER]);
        v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        v.validate_nbf = true;
        v.leeway = 5;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()
            .map(|d| d.claims)
            .filter(|c| !c.jti.trim().is_empty())
    }

    /// The claims of a valid user token (signature, audience, expiry; not revocation).
    pub fn verify_user_token(&self, token: &str) -> Option<(UserId, Claims)> {
        let claims = self.verify(token, USER_AUDIENCE)?;
        let id = Uuid::parse_str(&claims.sub).ok()?;
        Some((UserId(id), claims))
    }

    /// The device of a valid device token, and the user it was issued to.
    pub fn verify_device_token(&self, token: &str) -> Option<VerifiedDevice> {
        let claims = self.verify(token, DEVICE_AUDIENCE)?;
        let user = Uuid::parse_str(claims.uid.as_deref()?).ok()?;
        Some(VerifiedDevice {
            device: DeviceId::parse(&claims.sub).ok()?,
            user: UserId(user),
        })
    }
}

/// What a valid device token vouches for: a device of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDevice {
    /// The device.
    pub device: DeviceId,
    /// The user the token was issued to.
    pub user: UserId,
}

impl VerifiedDevice {
    /// The device, if the token was issued to `booker`; 403 for a guest booking or another
    /// user's booking.
    pub fn for_booker(self, booker: Option<UserId>) -> Result<DeviceId, ApiError> {
        match booker {
            Some(user) if user == self.user => Ok(self.device),
            Some(_) => Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                "this device token was issued to another user",
            )
            .with_details("device_token")),
            None => Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                "a device token is accepted only from the user it was issued to: log in and book \
                 with POST /appointments/book/registered",
            )
            .with_details("device_token")),
        }
    }
}

/// The bearer token of a request, if it has an `Authorization: Bearer …` header.
/// `Err` if the header is there but is not a bearer token.
pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
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
        let token = bearer(&parts.headers)?
            .ok_or_else(|| ApiError::unauthorized("authentication required"))?;
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
        match bearer(&parts.headers)? {
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
pub struct HeaderDevice(pub Option<VerifiedDevice>);

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

/// The device (and its user) of a device token, or 401.
pub fn verify_device(state: &AppState, token: &str) -> Result<VerifiedDevice, ApiError> {
    state
        .keys
        .verify_device_token(token.trim())
        .ok_or_else(|| ApiError::unauthorized("invalid or expired device token"))
}

/// Limits on minting device tokens, so that one account or one client address cannot mint a
/// stream of device ids: per user and per client address (an IPv6 address counts by its /64,
/// which one client usually holds whole). Each is a budget of `n` tokens that refills over an
/// hour.
pub struct DeviceTokenLimits {
    per_user: DefaultKeyedRateLimiter<UserId>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl std::fmt::Debug for DeviceTokenLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceTokenLimits").finish_non_exhaustive()
    }
}

/// Keys kept by a limiter before the ones whose budget is full again are dropped.
const LIMITER_PRUNE_AT: usize = 10_000;

impl DeviceTokenLimits {
    /// The default tokens per hour per user.
    pub const DEFAULT_PER_USER: u32 = 10;
    /// The default tokens per hour per client address.
    pub const DEFAULT_PER_ADDRESS: u32 = 30;

    /// Limits of `per_user` and `per_address` tokens an hour (each at least 1).
    pub fn new(per_user: u32, per_address: u32) -> Self {
        let quota = |n: u32| Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        DeviceTokenLimits {
            per_user: RateLimiter::keyed(quota(per_user)),
            per_address: RateLimiter::keyed(quota(per_address)),
        }
    }

    /// Takes one token from `user`'s and `ip`'s budgets, or 429 if either is spent.
    pub fn check(&self, user: UserId, ip: IpAddr) -> Result<(), ApiError> {
        let address = match ip {
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(bits))
            }
            v4 @ IpAddr::V4(_) => v4,
        };
        if self.per_user.len() > LIMITER_PRUNE_AT {
            self.per_user.retain_recent();
        }
        if self.per_address.len() > LIMITER_PRUNE_AT {
            self.per_address.retain_recent();
        }
        // The user's budget first: a user past theirs does not spend their address's.
        if self.per_user.check_key(&user).is_err() || self.per_address.check_key(&address).is_err()
        {
            return Err(ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many device tokens for this account or address, try again later",
            ));
        }
        Ok(())
    }
}

impl Default for DeviceTokenLimits {
    fn default() -> Self {
        Self::new(Self::DEFAULT_PER_USER, Self::DEFAULT_PER_ADDRESS)
    }
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
        let owner = UserId::new();
        let (dt, _) = keys.issue_device_token(&device, owner).unwrap();
        assert!(keys.verify_user_token(&dt).is_none());
        assert_eq!(
            keys.verify_device_token(&dt),
            Some(VerifiedDevice {
                device,
                user: owner
            })
        );
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod claim_tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn sign(claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    fn user_claims(user: UserId) -> serde_json::Value {
        let now = Utc::now().timestamp();
        serde_json::json!({
            "sub": user.0.to_string(), "aud": USER_AUDIENCE, "iss": ISSUER,
            "iat": now, "exp": now + 600, "jti": "a-token-id",
        })
    }

    #[test]
    fn a_token_not_valid_yet_is_refused() {
        let keys = TokenKeys::new(SECRET);
        let user = UserId::new();
        let mut c = user_claims(user);
        assert!(keys.verify_user_token(&sign(&c)).is_some());
        c["nbf"] = (Utc::now().timestamp() + 3600).into();
        assert!(keys.verify_user_token(&sign(&c)).is_none());
        c["nbf"] = (Utc::now().timestamp() - 10).into();
        assert!(keys.verify_user_token(&sign(&c)).is_some());
    }

    #[test]
    fn a_token_without_a_jti_is_refused() {
        let keys = TokenKeys::new(SECRET);
        let mut c = user_claims(UserId::new());
        c["jti"] = "".into();
        assert!(keys.verify_user_token(&sign(&c)).is_none());
        c["jti"] = "   ".into();
        assert!(keys.verify_user_token(&sign(&c)).is_none());
        c.as_object_mut().unwrap().remove("jti");
        assert!(keys.verify_user_token(&sign(&c)).is_none());
    }

    #[test]
    fn issued_tokens_carry_nbf_and_jti() {
        let keys = TokenKeys::new(SECRET);
        let (_, c) = keys.issue_user_token(UserId::new()).unwrap();
        assert_eq!(c.nbf, Some(c.iat));
        assert!(!c.jti.is_empty());
    }

    #[test]
    fn a_device_token_without_its_user_is_refused() {
        let keys = TokenKeys::new(SECRET);
        let now = Utc::now().timestamp();
        let c = serde_json::json!({
            "sub": "phone-1", "aud": DEVICE_AUDIENCE, "iss": ISSUER,
            "iat": now, "exp": now + 600, "jti": "x",
        });
        assert!(keys.verify_device_token(&sign(&c)).is_none());
    }
}
