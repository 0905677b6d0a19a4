//! Every failure of the notification service, mapped to the wire in one
//! exhaustive match, and the service's own reason codes.

use moing_common::error::{ApiError, FieldViolation};
use tonic::{Code, Status};

/// The `ErrorInfo.reason` codes of this service (the shared ones are in
/// `moing_common::error::reason`).
pub mod reason {
    pub const NOTIFICATION_NOT_FOUND: &str = "NOTIFICATION_NOT_FOUND";
    pub const BROADCAST_NOT_FOUND: &str = "BROADCAST_NOT_FOUND";
    pub const IDEMPOTENCY_KEY_CONFLICT: &str = "IDEMPOTENCY_KEY_CONFLICT";
}

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
                reason::NOTIFICATION_NOT_FOUND,
                "no such notification in your inbox",
            ),
            NotificationError::BroadcastNotFound => ApiError::new(
                Code::NotFound,
                reason::BROADCAST_NOT_FOUND,
                "no such broadcast",
            ),
            NotificationError::IdempotencyKeyConflict => ApiError::new(
                Code::AlreadyExists,
                reason::IDEMPOTENCY_KEY_CONFLICT,
                "that idempotency key was used for a different broadcast",
            ),
            NotificationError::Unavailable(what) => ApiError::unavailable(what),
            NotificationError::Internal(e) => ApiError::from_internal(&e),
        };
        api.into()
    }
}
