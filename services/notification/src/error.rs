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

moing_common::error_glue!(
    NotificationError,
    NotificationError::Unavailable("the notification database")
);

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
