//! Every failure of the moim service, mapped to the wire in one exhaustive match.

use moing_common::error::{ApiError, FieldViolation};
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum MoimError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("team not found")]
    TeamNotFound,
    #[error("not the leader")]
    NotLeader,
    #[error("team is read-only")]
    ReadOnly,
    #[error("team limit reached")]
    TeamLimitReached,
    #[error("team full")]
    TeamFull,
    #[error("already a member")]
    AlreadyMember,
    #[error("invite not found")]
    InviteNotFound,
    #[error("invite expired")]
    InviteExpired,
    #[error("invite revoked")]
    InviteRevoked,
    #[error("invite used up")]
    InviteUsedUp,
    #[error("invite predates the caller's removal")]
    InvitePredatesRemoval,
    #[error("leader must hand over")]
    LeaderMustHandOver,
    #[error("member not in team")]
    TeamMemberNotFound,
    #[error("member not found")]
    MemberNotFound,
    #[error("database unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

moing_common::error_glue!(MoimError, MoimError::Unavailable);

impl From<MoimError> for Status {
    fn from(e: MoimError) -> Self {
        let api = match e {
            MoimError::Invalid(v) => ApiError::invalid(v),
            MoimError::TeamNotFound => {
                ApiError::new(Code::NotFound, "TEAM_NOT_FOUND", "no such team")
            }
            MoimError::NotLeader => ApiError::new(
                Code::PermissionDenied,
                "NOT_TEAM_LEADER",
                "only the team leader can do this",
            ),
            MoimError::ReadOnly => ApiError::new(
                Code::FailedPrecondition,
                "TEAM_READ_ONLY",
                "the team has finished or was disbanded",
            ),
            MoimError::TeamLimitReached => ApiError::new(
                Code::FailedPrecondition,
                "TEAM_LIMIT_REACHED",
                "you are already in 3 active teams",
            ),
            MoimError::TeamFull => {
                ApiError::new(Code::FailedPrecondition, "TEAM_FULL", "the team is full")
            }
            MoimError::AlreadyMember => ApiError::new(
                Code::AlreadyExists,
                "ALREADY_TEAM_MEMBER",
                "you are already in this team",
            ),
            MoimError::InviteNotFound => {
                ApiError::new(Code::NotFound, "INVITE_NOT_FOUND", "no such invite code")
            }
            MoimError::InviteExpired => ApiError::new(
                Code::FailedPrecondition,
                "INVITE_EXPIRED",
                "this invite code has expired",
            ),
            MoimError::InviteRevoked => ApiError::new(
                Code::FailedPrecondition,
                "INVITE_REVOKED",
                "this invite code was revoked",
            ),
            MoimError::InviteUsedUp => ApiError::new(
                Code::FailedPrecondition,
                "INVITE_USED_UP",
                "this invite code has been used up",
            ),
            MoimError::InvitePredatesRemoval => ApiError::new(
                Code::FailedPrecondition,
                "INVITE_PREDATES_REMOVAL",
                "you were removed from this team; ask the leader for a new invite code",
            ),
            MoimError::LeaderMustHandOver => ApiError::new(
                Code::FailedPrecondition,
                "LEADER_MUST_HAND_OVER",
                "hand leadership to another member before leaving",
            ),
            MoimError::TeamMemberNotFound => ApiError::new(
                Code::NotFound,
                "TEAM_MEMBER_NOT_FOUND",
                "that member is not in this team",
            ),
            MoimError::MemberNotFound => {
                ApiError::new(Code::NotFound, "MEMBER_NOT_FOUND", "no such member")
            }
            MoimError::Unavailable => ApiError::unavailable("the team database"),
            MoimError::Internal(e) => ApiError::from_internal(&e),
        };
        api.into()
    }
}
