//! Every failure of the notification service, mapped to the wire in one exhaustive match.

use moing_common::error::{ApiError, FieldViolation};
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("notification not found")]
    NotificationNotFound,
    #[error("broadcast not found")]
    BroadcastNotFound,
    #[error("idempotency key conflict")]
    IdempotencyKeyConflict,
    #[error("dependency unavailable: {0}")]
    Unavailable(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for NotificationError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::Unavailable("the notification database")
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl From<ApiError> for NotificationError {
    fn from(e: ApiError) -> Self {
        Self::Invalid(e.violations)
    }
}

impl From<NotificationError> for Status {
    fn from(e: NotificationError) -> Self {
        let api = match e {
            NotificationError::Invalid(v) => ApiError::invalid(v),
            NotificationError::NotificationNotFound => ApiError::new(
                Code::NotFound,
                "NOTIFICATION_NOT_FOUND",
                "no such notification in your inbox",
            ),
            NotificationError::BroadcastNotFound => {
                ApiError::new(Code::NotFound, "BROADCAST_NOT_FOUND", "no such broadcast")
            }
            NotificationError::IdempotencyKeyConflict => ApiError::new(
                Code::AlreadyExists,
                "IDEMPOTENCY_KEY_CONFLICT",
                "that idempotency key was used for a different broadcast",
            ),
            NotificationError::Unavailable(what) => ApiError::unavailable(what),
            NotificationError::Internal(e) => ApiError::from_internal(&e),
        };
        api.into()
    }
}

impl moing_common::db::LockConflict for NotificationError {
    fn is_lock_conflict(&self) -> bool {
        matches!(self, Self::Internal(e) if moing_common::db::LockConflict::is_lock_conflict(e))
    }
}
