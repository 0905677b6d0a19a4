//! Every failure of the board service, mapped to the wire in one exhaustive match.

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

impl From<BoardError> for Status {
    fn from(e: BoardError) -> Self {
        use Code::*;
        let api = match e {
            BoardError::Invalid(v) => ApiError::invalid(v),
            BoardError::TeamNotFound => ApiError::new(NotFound, "TEAM_NOT_FOUND", "no such team"),
            BoardError::ReadOnly => ApiError::new(
                FailedPrecondition,
                "TEAM_READ_ONLY",
                "the team has finished; its board is read-only",
            ),
            BoardError::PostNotFound => ApiError::new(NotFound, "POST_NOT_FOUND", "no such post"),
            BoardError::CommentNotFound => {
                ApiError::new(NotFound, "COMMENT_NOT_FOUND", "no such comment")
            }
            BoardError::VoteNotFound => ApiError::new(NotFound, "VOTE_NOT_FOUND", "no such vote"),
            BoardError::VoteClosed => {
                ApiError::new(FailedPrecondition, "VOTE_CLOSED", "the vote is closed")
            }
            BoardError::OptionInvalid => ApiError::new(
                InvalidArgument,
                "VOTE_OPTION_INVALID",
                "an option does not belong to this vote",
            ),
            BoardError::SingleChoice => ApiError::new(
                InvalidArgument,
                "VOTE_SINGLE_CHOICE",
                "this vote takes exactly one option",
            ),
            BoardError::NoticeNeedsLeader => ApiError::new(
                PermissionDenied,
                "NOTICE_NEEDS_LEADER",
                "only the leader marks notices",
            ),
            BoardError::NotAuthor => ApiError::new(
                PermissionDenied,
                "NOT_AUTHOR",
                "only the author may do this",
            ),
            BoardError::NotAuthorOrLeader => ApiError::new(
                PermissionDenied,
                "NOT_AUTHOR_OR_LEADER",
                "only the author or the leader may do this",
            ),
            BoardError::ContentHidden => ApiError::new(
                FailedPrecondition,
                "CONTENT_HIDDEN",
                "the content is hidden after reports",
            ),
            BoardError::CannotReportOwn => ApiError::new(
                FailedPrecondition,
                "CANNOT_REPORT_OWN",
                "you cannot report your own content",
            ),
            BoardError::AlreadyReported => ApiError::new(
                AlreadyExists,
                "ALREADY_REPORTED",
                "you already reported this",
            ),
            BoardError::ReviewNotPending => ApiError::new(
                FailedPrecondition,
                "REVIEW_NOT_PENDING",
                "the content is not under review",
            ),
            BoardError::ReviewNeedsLeader => ApiError::new(
                PermissionDenied,
                "NOT_TEAM_LEADER",
                "only the team leader reviews reported content",
            ),
            BoardError::CannotReviewOwn => ApiError::new(
                FailedPrecondition,
                "CANNOT_REVIEW_OWN",
                "the leader cannot review their own content; edit or delete it",
            ),
            BoardError::DependencyTimeout(what) => ApiError::new(
                DeadlineExceeded,
                "GOAL_BOARD_DEPENDENCY_TIMEOUT",
                format!("{what} did not answer in time"),
            )
            .with_metadata("dependency", what),
            BoardError::Unavailable(what) => ApiError::unavailable(what),
            BoardError::Internal(e) => ApiError::from_internal(&e),
        };
        api.into()
    }
}
