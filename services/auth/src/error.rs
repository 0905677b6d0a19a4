//! Every failure of the auth service, mapped to the wire in one exhaustive match.

use moing_common::error::{ApiError, FieldViolation, reason as shared};
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("provider credential rejected: {0}")]
    ProviderTokenInvalid(String),
    #[error("provider unreachable: {0}")]
    ProviderUnavailable(String),
    #[error("development sign-in is disabled")]
    DevSignInDisabled,
    #[error("nickname taken")]
    NicknameTaken,
    #[error("already signed up")]
    AlreadySignedUp,
    #[error("refresh token invalid")]
    RefreshTokenInvalid,
    #[error("refresh token expired")]
    RefreshTokenExpired,
    #[error("refresh token reused")]
    RefreshTokenReused,
    #[error("session not found")]
    SessionNotFound,
    #[error("member leads an active team")]
    LeadsActiveTeam,
    #[error("member not found")]
    MemberNotFound,
    #[error("member withdrawn")]
    MemberWithdrawn,
    #[error("rate limited, retry after {0}s")]
    RateLimited(u64),
    #[error("session store unavailable: {0}")]
    SessionStoreUnavailable(String),
    #[error("dependency unavailable: {0}")]
    DependencyUnavailable(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<redis::RedisError> for AuthError {
    fn from(e: redis::RedisError) -> Self {
        Self::SessionStoreUnavailable(e.to_string())
    }
}

moing_common::error_glue!(
    AuthError,
    AuthError::DependencyUnavailable("member database")
);

/// The reason codes auth answers with (the `reason` of `google.rpc.ErrorInfo`);
/// the shared ones (token, validation, rate limits, availability) are in
/// `moing_common::error::reason`.
pub mod reason {
    pub const PROVIDER_TOKEN_INVALID: &str = "PROVIDER_TOKEN_INVALID";
    pub const DEV_SIGN_IN_DISABLED: &str = "DEV_SIGN_IN_DISABLED";
    pub const NICKNAME_TAKEN: &str = "NICKNAME_TAKEN";
    pub const ALREADY_SIGNED_UP: &str = "ALREADY_SIGNED_UP";
    pub const REFRESH_TOKEN_INVALID: &str = "REFRESH_TOKEN_INVALID";
    pub const REFRESH_TOKEN_EXPIRED: &str = "REFRESH_TOKEN_EXPIRED";
    pub const REFRESH_TOKEN_REUSED: &str = "REFRESH_TOKEN_REUSED";
    pub const SESSION_NOT_FOUND: &str = "SESSION_NOT_FOUND";
    pub const LEADS_ACTIVE_TEAM: &str = "LEADS_ACTIVE_TEAM";
    pub const MEMBER_NOT_FOUND: &str = "MEMBER_NOT_FOUND";
}

impl From<AuthError> for Status {
    fn from(e: AuthError) -> Self {
        let api = match e {
            AuthError::Invalid(v) => ApiError::invalid(v),
            AuthError::ProviderTokenInvalid(why) => {
                tracing::info!(%why, "provider credential rejected");
                ApiError::new(
                    Code::Unauthenticated,
                    reason::PROVIDER_TOKEN_INVALID,
                    "the sign-in credential was rejected by the provider",
                )
            }
            AuthError::ProviderUnavailable(why) => {
                tracing::warn!(%why, "provider unavailable");
                ApiError::unavailable("the sign-in provider")
            }
            AuthError::DevSignInDisabled => ApiError::new(
                Code::PermissionDenied,
                reason::DEV_SIGN_IN_DISABLED,
                "development sign-in is disabled here",
            ),
            AuthError::NicknameTaken => ApiError::new(
                Code::AlreadyExists,
                reason::NICKNAME_TAKEN,
                "this nickname is already taken",
            ),
            AuthError::AlreadySignedUp => ApiError::new(
                Code::FailedPrecondition,
                reason::ALREADY_SIGNED_UP,
                "this account has already signed up",
            ),
            AuthError::RefreshTokenInvalid => ApiError::new(
                Code::Unauthenticated,
                reason::REFRESH_TOKEN_INVALID,
                "the refresh token is not valid; sign in again",
            ),
            AuthError::RefreshTokenExpired => ApiError::new(
                Code::Unauthenticated,
                reason::REFRESH_TOKEN_EXPIRED,
                "the refresh token has expired; sign in again",
            ),
            AuthError::RefreshTokenReused => ApiError::new(
                Code::Unauthenticated,
                reason::REFRESH_TOKEN_REUSED,
                "this refresh token was already used; the session was signed out for safety",
            ),
            AuthError::SessionNotFound => {
                ApiError::new(Code::NotFound, reason::SESSION_NOT_FOUND, "no such session")
            }
            AuthError::LeadsActiveTeam => ApiError::new(
                Code::FailedPrecondition,
                reason::LEADS_ACTIVE_TEAM,
                "hand over leadership or disband your active teams before withdrawing",
            ),
            AuthError::MemberNotFound => {
                ApiError::new(Code::NotFound, reason::MEMBER_NOT_FOUND, "no such member")
            }
            AuthError::MemberWithdrawn => {
                ApiError::unauthenticated(shared::TOKEN_INVALID, "this account has been withdrawn")
            }
            AuthError::RateLimited(secs) => ApiError::new(
                Code::ResourceExhausted,
                shared::RATE_LIMITED,
                format!("too many attempts, retry in {secs} seconds"),
            )
            .with_metadata("retry_after_seconds", secs.to_string()),
            AuthError::SessionStoreUnavailable(why) => {
                tracing::warn!(%why, "session store unavailable");
                ApiError::unavailable("the session store")
            }
            AuthError::DependencyUnavailable(what) => ApiError::unavailable(what),
            AuthError::Internal(e) => ApiError::from_internal(&e),
        };
        api.into()
    }
}
