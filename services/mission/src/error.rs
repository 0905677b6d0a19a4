//! Every failure of the mission service, mapped to the wire in one exhaustive match.

use moing_common::error::{ApiError, FieldViolation};
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum MissionError {
    #[error("invalid request")]
    Invalid(Vec<FieldViolation>),
    #[error("team not found")]
    TeamNotFound,
    #[error("team read-only")]
    ReadOnly,
    #[error("mission not found")]
    MissionNotFound,
    #[error("mission ended")]
    MissionEnded,
    #[error("repeat needs leader")]
    RepeatNeedsLeader,
    #[error("repeat limit")]
    RepeatLimit,
    #[error("not maker or leader")]
    NotMakerOrLeader,
    #[error("proof already submitted")]
    AlreadySubmitted,
    #[error("proof already today")]
    AlreadyToday,
    #[error("weekly target reached")]
    WeeklyTargetReached,
    #[error("proof way mismatch")]
    WayMismatch(&'static str),
    #[error("proof not found")]
    ProofNotFound,
    #[error("not proof author")]
    NotProofAuthor,
    #[error("proof not today")]
    ProofNotToday,
    #[error("upload not found")]
    UploadNotFound,
    #[error("upload too large")]
    UploadTooLarge,
    #[error("upload type not allowed")]
    UploadType,
    #[error("upload is not an image")]
    UploadNotImage,
    #[error("upload already used")]
    UploadAlreadyUsed,
    #[error("upload scope mismatch")]
    UploadScope,
    #[error("not team leader")]
    NotLeader,
    #[error("cannot poke self")]
    PokeSelf,
    #[error("poke target not found")]
    PokeTargetNotFound,
    #[error("poke target done")]
    PokeTargetDone,
    #[error("poke too soon")]
    PokeTooSoon(i64),
    #[error("cannot report own")]
    CannotReportOwn,
    #[error("already reported")]
    AlreadyReported,
    #[error("review not pending")]
    ReviewNotPending,
    #[error("cannot review own content")]
    CannotReviewOwn,
    #[error("cannot react to own proof")]
    OwnProof,
    #[error("comment not found")]
    CommentNotFound,
    #[error("not comment author or leader")]
    NotCommentAuthorOrLeader,
    #[error("dependency unavailable: {0}")]
    Unavailable(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

moing_common::error_glue!(
    MissionError,
    MissionError::Unavailable("the mission database")
);

impl From<MissionError> for Status {
    fn from(e: MissionError) -> Self {
        let api = match e {
            MissionError::Invalid(v) => ApiError::invalid(v),
            MissionError::TeamNotFound => {
                ApiError::new(Code::NotFound, "TEAM_NOT_FOUND", "no such team")
            }
            MissionError::ReadOnly => ApiError::new(
                Code::FailedPrecondition,
                "TEAM_READ_ONLY",
                "the team has finished or was disbanded",
            ),
            MissionError::MissionNotFound => {
                ApiError::new(Code::NotFound, "MISSION_NOT_FOUND", "no such mission")
            }
            MissionError::MissionEnded => ApiError::new(
                Code::FailedPrecondition,
                "MISSION_ENDED",
                "the mission has ended",
            ),
            MissionError::RepeatNeedsLeader => ApiError::new(
                Code::PermissionDenied,
                "REPEAT_NEEDS_LEADER",
                "only the leader creates repeating missions",
            ),
            MissionError::RepeatLimit => ApiError::new(
                Code::FailedPrecondition,
                "REPEAT_MISSION_LIMIT",
                "the team already runs 3 repeating missions",
            ),
            MissionError::NotMakerOrLeader => ApiError::new(
                Code::PermissionDenied,
                "NOT_MISSION_MAKER_OR_LEADER",
                "only the mission's maker or the leader can do this",
            ),
            MissionError::AlreadySubmitted => ApiError::new(
                Code::AlreadyExists,
                "PROOF_ALREADY_SUBMITTED",
                "you already proved or skipped this mission",
            ),
            MissionError::AlreadyToday => ApiError::new(
                Code::AlreadyExists,
                "PROOF_ALREADY_TODAY",
                "you already proved or skipped this mission today",
            ),
            MissionError::WeeklyTargetReached => ApiError::new(
                Code::FailedPrecondition,
                "WEEKLY_TARGET_REACHED",
                "this week's target is already reached",
            ),
            MissionError::WayMismatch(why) => {
                ApiError::new(Code::InvalidArgument, "PROOF_WAY_MISMATCH", why)
            }
            MissionError::ProofNotFound => {
                ApiError::new(Code::NotFound, "PROOF_NOT_FOUND", "no such proof")
            }
            MissionError::NotProofAuthor => ApiError::new(
                Code::PermissionDenied,
                "NOT_PROOF_AUTHOR",
                "only the author can delete a proof",
            ),
            MissionError::ProofNotToday => ApiError::new(
                Code::FailedPrecondition,
                "PROOF_NOT_TODAY",
                "only today's proof can be deleted",
            ),
            MissionError::UploadNotFound => ApiError::new(
                Code::FailedPrecondition,
                "UPLOAD_NOT_FOUND",
                "no uploaded object at that key",
            ),
            MissionError::UploadTooLarge => ApiError::new(
                Code::InvalidArgument,
                "UPLOAD_TOO_LARGE",
                "images are limited to 10 MB",
            ),
            MissionError::UploadType => ApiError::new(
                Code::InvalidArgument,
                "UPLOAD_TYPE_NOT_ALLOWED",
                "only jpeg, png, webp and heic images are accepted",
            ),
            MissionError::UploadNotImage => ApiError::new(
                Code::InvalidArgument,
                "UPLOAD_NOT_AN_IMAGE",
                "the uploaded file is not a JPEG, PNG, WebP or HEIC image",
            ),
            MissionError::UploadAlreadyUsed => ApiError::new(
                Code::AlreadyExists,
                "UPLOAD_ALREADY_USED",
                "that photo already backs another proof; upload it again",
            ),
            MissionError::UploadScope => ApiError::new(
                Code::PermissionDenied,
                "UPLOAD_SCOPE_MISMATCH",
                "that key does not belong to you, this team and this mission",
            ),
            MissionError::NotLeader => ApiError::new(
                Code::PermissionDenied,
                "NOT_TEAM_LEADER",
                "only the team leader can do this",
            ),
            MissionError::PokeSelf => ApiError::new(
                Code::InvalidArgument,
                "CANNOT_POKE_SELF",
                "you cannot poke yourself",
            ),
            MissionError::PokeTargetNotFound => ApiError::new(
                Code::NotFound,
                "POKE_TARGET_NOT_FOUND",
                "that member cannot be poked here",
            ),
            MissionError::PokeTargetDone => ApiError::new(
                Code::FailedPrecondition,
                "POKE_TARGET_DONE",
                "that member already proved this mission",
            ),
            MissionError::PokeTooSoon(secs) => ApiError::new(
                Code::ResourceExhausted,
                "POKE_TOO_SOON",
                format!(
                    "you can poke this member again in {} minutes",
                    (secs + 59) / 60
                ),
            )
            .with_metadata("retry_after_seconds", secs.to_string()),
            MissionError::CannotReportOwn => ApiError::new(
                Code::FailedPrecondition,
                "CANNOT_REPORT_OWN",
                "you cannot report your own content",
            ),
            MissionError::AlreadyReported => ApiError::new(
                Code::AlreadyExists,
                "ALREADY_REPORTED",
                "you already reported this",
            ),
            MissionError::ReviewNotPending => ApiError::new(
                Code::FailedPrecondition,
                "REVIEW_NOT_PENDING",
                "this content is not waiting for review",
            ),
            MissionError::CannotReviewOwn => ApiError::new(
                Code::FailedPrecondition,
                "CANNOT_REVIEW_OWN",
                "the leader cannot review their own content; edit or delete it",
            ),
            MissionError::OwnProof => ApiError::new(
                Code::FailedPrecondition,
                "CANNOT_REACT_OWN_PROOF",
                "you cannot react to your own proof",
            ),
            MissionError::CommentNotFound => {
                ApiError::new(Code::NotFound, "PROOF_COMMENT_NOT_FOUND", "no such comment")
            }
            MissionError::NotCommentAuthorOrLeader => ApiError::new(
                Code::PermissionDenied,
                "NOT_COMMENT_AUTHOR_OR_LEADER",
                "only the author or the leader can delete a comment",
            ),
            MissionError::Unavailable(what) => ApiError::unavailable(what),
            MissionError::Internal(e) => ApiError::from_internal(&e),
        };
        api.into()
    }
}
