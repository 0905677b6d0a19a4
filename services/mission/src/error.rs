//! Every failure of the mission service, mapped to the wire exhaustively (code,
//! reason, message), and the service's reason codes (`reason`).

use std::borrow::Cow;

use moing_common::error::{ApiError, FieldViolation, reason as shared};
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

/// The mission service's reason codes (the shared ones are in
/// `moing_common::error::reason`).
pub mod reason {
    pub const TEAM_NOT_FOUND: &str = "TEAM_NOT_FOUND";
    pub const TEAM_READ_ONLY: &str = "TEAM_READ_ONLY";
    pub const MISSION_NOT_FOUND: &str = "MISSION_NOT_FOUND";
    pub const MISSION_ENDED: &str = "MISSION_ENDED";
    pub const REPEAT_NEEDS_LEADER: &str = "REPEAT_NEEDS_LEADER";
    pub const REPEAT_MISSION_LIMIT: &str = "REPEAT_MISSION_LIMIT";
    pub const NOT_MISSION_MAKER_OR_LEADER: &str = "NOT_MISSION_MAKER_OR_LEADER";
    pub const PROOF_ALREADY_SUBMITTED: &str = "PROOF_ALREADY_SUBMITTED";
    pub const PROOF_ALREADY_TODAY: &str = "PROOF_ALREADY_TODAY";
    pub const WEEKLY_TARGET_REACHED: &str = "WEEKLY_TARGET_REACHED";
    pub const PROOF_WAY_MISMATCH: &str = "PROOF_WAY_MISMATCH";
    pub const PROOF_NOT_FOUND: &str = "PROOF_NOT_FOUND";
    pub const NOT_PROOF_AUTHOR: &str = "NOT_PROOF_AUTHOR";
    pub const PROOF_NOT_TODAY: &str = "PROOF_NOT_TODAY";
    pub const UPLOAD_NOT_FOUND: &str = "UPLOAD_NOT_FOUND";
    pub const UPLOAD_TOO_LARGE: &str = "UPLOAD_TOO_LARGE";
    pub const UPLOAD_TYPE_NOT_ALLOWED: &str = "UPLOAD_TYPE_NOT_ALLOWED";
    pub const UPLOAD_NOT_AN_IMAGE: &str = "UPLOAD_NOT_AN_IMAGE";
    pub const UPLOAD_ALREADY_USED: &str = "UPLOAD_ALREADY_USED";
    pub const UPLOAD_SCOPE_MISMATCH: &str = "UPLOAD_SCOPE_MISMATCH";
    pub const NOT_TEAM_LEADER: &str = "NOT_TEAM_LEADER";
    pub const CANNOT_POKE_SELF: &str = "CANNOT_POKE_SELF";
    pub const POKE_TARGET_NOT_FOUND: &str = "POKE_TARGET_NOT_FOUND";
    pub const POKE_TARGET_DONE: &str = "POKE_TARGET_DONE";
    pub const POKE_TOO_SOON: &str = "POKE_TOO_SOON";
    pub const CANNOT_REPORT_OWN: &str = "CANNOT_REPORT_OWN";
    pub const ALREADY_REPORTED: &str = "ALREADY_REPORTED";
    pub const REVIEW_NOT_PENDING: &str = "REVIEW_NOT_PENDING";
    pub const CANNOT_REVIEW_OWN: &str = "CANNOT_REVIEW_OWN";
    pub const CANNOT_REACT_OWN_PROOF: &str = "CANNOT_REACT_OWN_PROOF";
    pub const PROOF_COMMENT_NOT_FOUND: &str = "PROOF_COMMENT_NOT_FOUND";
    pub const NOT_COMMENT_AUTHOR_OR_LEADER: &str = "NOT_COMMENT_AUTHOR_OR_LEADER";
}

impl MissionError {
    /// The gRPC code of this failure.
    pub fn code(&self) -> Code {
        match self {
            Self::Invalid(_) => Code::InvalidArgument,
            Self::TeamNotFound
            | Self::MissionNotFound
            | Self::ProofNotFound
            | Self::PokeTargetNotFound
            | Self::CommentNotFound => Code::NotFound,
            Self::ReadOnly
            | Self::MissionEnded
            | Self::RepeatLimit
            | Self::WeeklyTargetReached
            | Self::ProofNotToday
            | Self::UploadNotFound
            | Self::PokeTargetDone
            | Self::CannotReportOwn
            | Self::ReviewNotPending
            | Self::CannotReviewOwn
            | Self::OwnProof => Code::FailedPrecondition,
            Self::RepeatNeedsLeader
            | Self::NotMakerOrLeader
            | Self::NotProofAuthor
            | Self::UploadScope
            | Self::NotLeader
            | Self::NotCommentAuthorOrLeader => Code::PermissionDenied,
            Self::AlreadySubmitted
            | Self::AlreadyToday
            | Self::UploadAlreadyUsed
            | Self::AlreadyReported => Code::AlreadyExists,
            Self::WayMismatch(_)
            | Self::UploadTooLarge
            | Self::UploadType
            | Self::UploadNotImage
            | Self::PokeSelf => Code::InvalidArgument,
            Self::PokeTooSoon(_) => Code::ResourceExhausted,
            Self::Unavailable(_) => Code::Unavailable,
            Self::Internal(_) => Code::Internal,
        }
    }

    /// The reason code of this failure.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Invalid(_) => shared::VALIDATION_FAILED,
            Self::TeamNotFound => reason::TEAM_NOT_FOUND,
            Self::ReadOnly => reason::TEAM_READ_ONLY,
            Self::MissionNotFound => reason::MISSION_NOT_FOUND,
            Self::MissionEnded => reason::MISSION_ENDED,
            Self::RepeatNeedsLeader => reason::REPEAT_NEEDS_LEADER,
            Self::RepeatLimit => reason::REPEAT_MISSION_LIMIT,
            Self::NotMakerOrLeader => reason::NOT_MISSION_MAKER_OR_LEADER,
            Self::AlreadySubmitted => reason::PROOF_ALREADY_SUBMITTED,
            Self::AlreadyToday => reason::PROOF_ALREADY_TODAY,
            Self::WeeklyTargetReached => reason::WEEKLY_TARGET_REACHED,
            Self::WayMismatch(_) => reason::PROOF_WAY_MISMATCH,
            Self::ProofNotFound => reason::PROOF_NOT_FOUND,
            Self::NotProofAuthor => reason::NOT_PROOF_AUTHOR,
            Self::ProofNotToday => reason::PROOF_NOT_TODAY,
            Self::UploadNotFound => reason::UPLOAD_NOT_FOUND,
            Self::UploadTooLarge => reason::UPLOAD_TOO_LARGE,
            Self::UploadType => reason::UPLOAD_TYPE_NOT_ALLOWED,
            Self::UploadNotImage => reason::UPLOAD_NOT_AN_IMAGE,
            Self::UploadAlreadyUsed => reason::UPLOAD_ALREADY_USED,
            Self::UploadScope => reason::UPLOAD_SCOPE_MISMATCH,
            Self::NotLeader => reason::NOT_TEAM_LEADER,
            Self::PokeSelf => reason::CANNOT_POKE_SELF,
            Self::PokeTargetNotFound => reason::POKE_TARGET_NOT_FOUND,
            Self::PokeTargetDone => reason::POKE_TARGET_DONE,
            Self::PokeTooSoon(_) => reason::POKE_TOO_SOON,
            Self::CannotReportOwn => reason::CANNOT_REPORT_OWN,
            Self::AlreadyReported => reason::ALREADY_REPORTED,
            Self::ReviewNotPending => reason::REVIEW_NOT_PENDING,
            Self::CannotReviewOwn => reason::CANNOT_REVIEW_OWN,
            Self::OwnProof => reason::CANNOT_REACT_OWN_PROOF,
            Self::CommentNotFound => reason::PROOF_COMMENT_NOT_FOUND,
            Self::NotCommentAuthorOrLeader => reason::NOT_COMMENT_AUTHOR_OR_LEADER,
            Self::Unavailable(_) => shared::DEPENDENCY_UNAVAILABLE,
            Self::Internal(_) => shared::INTERNAL,
        }
    }

    /// The message of a failure of this service's own (the shared failures —
    /// invalid, unavailable, internal — carry theirs).
    fn message(&self) -> Cow<'static, str> {
        match self {
            Self::TeamNotFound => Cow::Borrowed("no such team"),
            Self::ReadOnly => Cow::Borrowed("the team has finished or was disbanded"),
            Self::MissionNotFound => Cow::Borrowed("no such mission"),
            Self::MissionEnded => Cow::Borrowed("the mission has ended"),
            Self::RepeatNeedsLeader => Cow::Borrowed("only the leader creates repeating missions"),
            Self::RepeatLimit => Cow::Borrowed("the team already runs 3 repeating missions"),
            Self::NotMakerOrLeader => {
                Cow::Borrowed("only the mission's maker or the leader can do this")
            }
            Self::AlreadySubmitted => Cow::Borrowed("you already proved or skipped this mission"),
            Self::AlreadyToday => Cow::Borrowed("you already proved or skipped this mission today"),
            Self::WeeklyTargetReached => Cow::Borrowed("this week's target is already reached"),
            Self::WayMismatch(why) => Cow::Borrowed(why),
            Self::ProofNotFound => Cow::Borrowed("no such proof"),
            Self::NotProofAuthor => Cow::Borrowed("only the author can delete a proof"),
            Self::ProofNotToday => Cow::Borrowed("only today's proof can be deleted"),
            Self::UploadNotFound => Cow::Borrowed("no uploaded object at that key"),
            Self::UploadTooLarge => Cow::Borrowed("images are limited to 10 MB"),
            Self::UploadType => Cow::Borrowed("only jpeg, png, webp and heic images are accepted"),
            Self::UploadNotImage => {
                Cow::Borrowed("the uploaded file is not a JPEG, PNG, WebP or HEIC image")
            }
            Self::UploadAlreadyUsed => {
                Cow::Borrowed("that photo already backs another proof; upload it again")
            }
            Self::UploadScope => {
                Cow::Borrowed("that key does not belong to you, this team and this mission")
            }
            Self::NotLeader => Cow::Borrowed("only the team leader can do this"),
            Self::PokeSelf => Cow::Borrowed("you cannot poke yourself"),
            Self::PokeTargetNotFound => Cow::Borrowed("that member cannot be poked here"),
            Self::PokeTargetDone => Cow::Borrowed("that member already proved this mission"),
            Self::PokeTooSoon(secs) => Cow::Owned(format!(
                "you can poke this member again in {} minutes",
                (secs + 59) / 60
            )),
            Self::CannotReportOwn => Cow::Borrowed("you cannot report your own content"),
            Self::AlreadyReported => Cow::Borrowed("you already reported this"),
            Self::ReviewNotPending => Cow::Borrowed("this content is not waiting for review"),
            Self::CannotReviewOwn => {
                Cow::Borrowed("the leader cannot review their own content; edit or delete it")
            }
            Self::OwnProof => Cow::Borrowed("you cannot react to your own proof"),
            Self::CommentNotFound => Cow::Borrowed("no such comment"),
            Self::NotCommentAuthorOrLeader => {
                Cow::Borrowed("only the author or the leader can delete a comment")
            }
            Self::Invalid(_) | Self::Unavailable(_) | Self::Internal(_) => Cow::Borrowed(""),
        }
    }
}

impl From<MissionError> for Status {
    fn from(e: MissionError) -> Self {
        let api = match e {
            MissionError::Invalid(v) => ApiError::invalid(v),
            MissionError::Unavailable(what) => ApiError::unavailable(what),
            MissionError::Internal(e) => ApiError::from_internal(&e),
            MissionError::PokeTooSoon(secs) => ApiError::new(e.code(), e.reason(), e.message())
                .with_metadata("retry_after_seconds", secs.to_string()),
            e => ApiError::new(e.code(), e.reason(), e.message()),
        };
        api.into()
    }
}
