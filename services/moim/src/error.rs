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

/// The reason codes moim answers with (the `reason` of `google.rpc.ErrorInfo`);
/// the shared ones (validation, rate limits, availability) are in
/// `moing_common::error::reason`.
pub mod reason {
    pub const TEAM_NOT_FOUND: &str = "TEAM_NOT_FOUND";
    pub const NOT_TEAM_LEADER: &str = "NOT_TEAM_LEADER";
    pub const TEAM_READ_ONLY: &str = "TEAM_READ_ONLY";
    pub const TEAM_LIMIT_REACHED: &str = "TEAM_LIMIT_REACHED";
    pub const TEAM_FULL: &str = "TEAM_FULL";
    pub const ALREADY_TEAM_MEMBER: &str = "ALREADY_TEAM_MEMBER";
    pub const INVITE_NOT_FOUND: &str = "INVITE_NOT_FOUND";
    pub const INVITE_EXPIRED: &str = "INVITE_EXPIRED";
    pub const INVITE_REVOKED: &str = "INVITE_REVOKED";
    pub const INVITE_USED_UP: &str = "INVITE_USED_UP";
    pub const INVITE_PREDATES_REMOVAL: &str = "INVITE_PREDATES_REMOVAL";
    pub const LEADER_MUST_HAND_OVER: &str = "LEADER_MUST_HAND_OVER";
    pub const TEAM_MEMBER_NOT_FOUND: &str = "TEAM_MEMBER_NOT_FOUND";
    pub const MEMBER_NOT_FOUND: &str = "MEMBER_NOT_FOUND";
}

impl From<MoimError> for Status {
    fn from(e: MoimError) -> Self {
        let api = match e {
            MoimError::Invalid(v) => ApiError::invalid(v),
            MoimError::TeamNotFound => {
                ApiError::new(Code::NotFound, reason::TEAM_NOT_FOUND, "no such team")
            }
            MoimError::NotLeader => ApiError::new(
                Code::PermissionDenied,
                reason::NOT_TEAM_LEADER,
                "only the team leader can do this",
            ),
            MoimError::ReadOnly => ApiError::new(
                Code::FailedPrecondition,
                reason::TEAM_READ_ONLY,
                "the team has finished or was disbanded",
            ),
            MoimError::TeamLimitReached => ApiError::new(
                Code::FailedPrecondition,
                reason::TEAM_LIMIT_REACHED,
                "you are already in 3 active teams",
            ),
            MoimError::TeamFull => ApiError::new(
                Code::FailedPrecondition,
                reason::TEAM_FULL,
                "the team is full",
            ),
            MoimError::AlreadyMember => ApiError::new(
                Code::AlreadyExists,
                reason::ALREADY_TEAM_MEMBER,
                "you are already in this team",
            ),
            MoimError::InviteNotFound => ApiError::new(
                Code::NotFound,
                reason::INVITE_NOT_FOUND,
                "no such invite code",
            ),
            MoimError::InviteExpired => ApiError::new(
                Code::FailedPrecondition,
                reason::INVITE_EXPIRED,
                "this invite code has expired",
            ),
            MoimError::InviteRevoked => ApiError::new(
                Code::FailedPrecondition,
                reason::INVITE_REVOKED,
                "this invite code was revoked",
            ),
            MoimError::InviteUsedUp => ApiError::new(
                Code::FailedPrecondition,
                reason::INVITE_USED_UP,
                "this invite code has been used up",
            ),
            MoimError::InvitePredatesRemoval => ApiError::new(
                Code::FailedPrecondition,
                reason::INVITE_PREDATES_REMOVAL,
                "you were removed from this team; ask the leader for a new invite code",
            ),
            MoimError::LeaderMustHandOver => ApiError::new(
                Code::FailedPrecondition,
                reason::LEADER_MUST_HAND_OVER,
                "hand leadership to another member before leaving",
            ),
            MoimError::TeamMemberNotFound => ApiError::new(
                Code::NotFound,
                reason::TEAM_MEMBER_NOT_FOUND,
                "that member is not in this team",
            ),
            MoimError::MemberNotFound => {
                ApiError::new(Code::NotFound, reason::MEMBER_NOT_FOUND, "no such member")
            }
            MoimError::Unavailable => ApiError::unavailable("the team database"),
            MoimError::Internal(e) => ApiError::from_internal(&e),
        };
        api.into()
    }
}
