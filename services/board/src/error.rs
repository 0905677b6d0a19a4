//! Every failure of the board service, mapped to the wire in one exhaustive
//! match, and the reason codes the board service answers with.

use moing_common::error::{ApiError, FieldViolation};
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("team not found")]
    TeamNotFound,
    #[error("team read-only")]
    ReadOnly,
    #[error("post not found")]
    PostNotFound,
    #[error("comment not found")]
    CommentNotFound,
    #[error("vote not found")]
    VoteNotFound,
    #[error("vote closed")]
    VoteClosed,
    #[error("option not in the vote")]
    OptionInvalid,
    #[error("single choice")]
    SingleChoice,
    #[error("notice needs leader")]
    NoticeNeedsLeader,
    #[error("not author")]
    NotAuthor,
    #[error("not author or leader")]
    NotAuthorOrLeader,
    #[error("content hidden")]
    ContentHidden,
    #[error("cannot report own")]
    CannotReportOwn,
    #[error("already reported")]
    AlreadyReported,
    #[error("review not pending")]
    ReviewNotPending,
    #[error("review needs the leader")]
    ReviewNeedsLeader,
    #[error("cannot review own content")]
    CannotReviewOwn,
    #[error("dependency timeout: {0}")]
    DependencyTimeout(&'static str),
    #[error("dependency unavailable: {0}")]
    Unavailable(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

moing_common::error_glue!(BoardError, BoardError::Unavailable("the board database"));

/// The `ErrorInfo.reason` codes of the board service (the shared ones are in
/// `moing_common::error::reason`).
pub mod reason {
    pub const TEAM_NOT_FOUND: &str = "TEAM_NOT_FOUND";
    pub const TEAM_READ_ONLY: &str = "TEAM_READ_ONLY";
    pub const POST_NOT_FOUND: &str = "POST_NOT_FOUND";
    pub const COMMENT_NOT_FOUND: &str = "COMMENT_NOT_FOUND";
    pub const VOTE_NOT_FOUND: &str = "VOTE_NOT_FOUND";
    pub const VOTE_CLOSED: &str = "VOTE_CLOSED";
    pub const VOTE_OPTION_INVALID: &str = "VOTE_OPTION_INVALID";
    pub const VOTE_SINGLE_CHOICE: &str = "VOTE_SINGLE_CHOICE";
    pub const NOTICE_NEEDS_LEADER: &str = "NOTICE_NEEDS_LEADER";
    pub const NOT_AUTHOR: &str = "NOT_AUTHOR";
    pub const NOT_AUTHOR_OR_LEADER: &str = "NOT_AUTHOR_OR_LEADER";
    pub const CONTENT_HIDDEN: &str = "CONTENT_HIDDEN";
    pub const CANNOT_REPORT_OWN: &str = "CANNOT_REPORT_OWN";
    pub const ALREADY_REPORTED: &str = "ALREADY_REPORTED";
    pub const REVIEW_NOT_PENDING: &str = "REVIEW_NOT_PENDING";
    pub const NOT_TEAM_LEADER: &str = "NOT_TEAM_LEADER";
    pub const CANNOT_REVIEW_OWN: &str = "CANNOT_REVIEW_OWN";
    pub const GOAL_BOARD_DEPENDENCY_TIMEOUT: &str = "GOAL_BOARD_DEPENDENCY_TIMEOUT";
}

impl From<BoardError> for Status {
    fn from(e: BoardError) -> Self {
        let api = match e {
            BoardError::Invalid(v) => ApiError::invalid(v),
            BoardError::DependencyTimeout(what) => ApiError::new(
                Code::DeadlineExceeded,
                reason::GOAL_BOARD_DEPENDENCY_TIMEOUT,
                format!("{what} did not answer in time"),
            )
            .with_metadata("dependency", what),
            BoardError::Unavailable(what) => ApiError::unavailable(what),
            BoardError::Internal(e) => ApiError::from_internal(&e),
            rule => {
                let (code, reason, message) = rule.wire();
                ApiError::new(code, reason, message)
            }
        };
        api.into()
    }
}

impl BoardError {
    /// Code, reason and message of a broken rule (the variants without data).
    fn wire(&self) -> (Code, &'static str, &'static str) {
        use Code::*;
        use reason::*;
        match self {
            BoardError::TeamNotFound => (NotFound, TEAM_NOT_FOUND, "no such team"),
            BoardError::ReadOnly => (
                FailedPrecondition,
                TEAM_READ_ONLY,
                "the team has finished; its board is read-only",
            ),
            BoardError::PostNotFound => (NotFound, POST_NOT_FOUND, "no such post"),
            BoardError::CommentNotFound => (NotFound, COMMENT_NOT_FOUND, "no such comment"),
            BoardError::VoteNotFound => (NotFound, VOTE_NOT_FOUND, "no such vote"),
            BoardError::VoteClosed => (FailedPrecondition, VOTE_CLOSED, "the vote is closed"),
            BoardError::OptionInvalid => (
                InvalidArgument,
                VOTE_OPTION_INVALID,
                "an option does not belong to this vote",
            ),
            BoardError::SingleChoice => (
                InvalidArgument,
                VOTE_SINGLE_CHOICE,
                "this vote takes exactly one option",
            ),
            BoardError::NoticeNeedsLeader => (
                PermissionDenied,
                NOTICE_NEEDS_LEADER,
                "only the leader marks notices",
            ),
            BoardError::NotAuthor => (PermissionDenied, NOT_AUTHOR, "only the author may do this"),
            BoardError::NotAuthorOrLeader => (
                PermissionDenied,
                NOT_AUTHOR_OR_LEADER,
                "only the author or the leader may do this",
            ),
            BoardError::ContentHidden => (
                FailedPrecondition,
                CONTENT_HIDDEN,
                "the content is hidden after reports",
            ),
            BoardError::CannotReportOwn => (
                FailedPrecondition,
                CANNOT_REPORT_OWN,
                "you cannot report your own content",
            ),
            BoardError::AlreadyReported => {
                (AlreadyExists, ALREADY_REPORTED, "you already reported this")
            }
            BoardError::ReviewNotPending => (
                FailedPrecondition,
                REVIEW_NOT_PENDING,
                "the content is not under review",
            ),
            BoardError::ReviewNeedsLeader => (
                PermissionDenied,
                NOT_TEAM_LEADER,
                "only the team leader reviews reported content",
            ),
            BoardError::CannotReviewOwn => (
                FailedPrecondition,
                CANNOT_REVIEW_OWN,
                "the leader cannot review their own content; edit or delete it",
            ),
            // Variants with data are mapped in `From<BoardError> for Status`.
            BoardError::Invalid(_)
            | BoardError::DependencyTimeout(_)
            | BoardError::Unavailable(_)
            | BoardError::Internal(_) => (
                Internal,
                moing_common::error::reason::INTERNAL,
                "internal error",
            ),
        }
    }
}
