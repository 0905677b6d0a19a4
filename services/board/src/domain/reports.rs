//! Reports and moderation as they apply to the board.

use chrono::{DateTime, Utc};
pub use moing_moderation::{ReportReason, ReviewState, Standing};
use uuid::Uuid;

use super::{Access, Page};
use crate::error::BoardError;

/// What a report is about (stored by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Post,
    Comment,
}

impl ContentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Comment => "COMMENT",
        }
    }

    /// Anything but a post is a comment.
    pub fn from_stored(s: &str) -> Self {
        if s == Self::Post.as_str() {
            Self::Post
        } else {
            Self::Comment
        }
    }

    pub fn not_found(self) -> BoardError {
        match self {
            Self::Post => BoardError::PostNotFound,
            Self::Comment => BoardError::CommentNotFound,
        }
    }
}

/// The reasons a post or comment may be reported for (FAKE_PROOF fits proofs only).
pub const REPORT_REASONS: [ReportReason; 5] = [
    ReportReason::Spam,
    ReportReason::Inappropriate,
    ReportReason::Abuse,
    ReportReason::Privacy,
    ReportReason::Other,
];

#[derive(Debug, Clone)]
pub struct NewReport {
    pub team: Uuid,
    pub post: Uuid,
    /// None: the post itself.
    pub comment: Option<Uuid>,
    pub reason: ReportReason,
    pub text: String,
}

/// The item a report files against.
#[derive(Debug, Clone, Copy)]
pub struct ReportTarget {
    pub kind: ContentKind,
    pub id: Uuid,
    pub post: Uuid,
    pub author: Uuid,
}

impl ReportTarget {
    /// Nobody reports their own content.
    pub fn check(&self, me: Uuid) -> Result<(), BoardError> {
        if self.author == me {
            Err(BoardError::CannotReportOwn)
        } else {
            Ok(())
        }
    }
}

/// A reportable item of a team (deleted ones too: moderation outlives deletion).
#[derive(Debug, Clone)]
pub struct ReportedItem {
    pub post_id: Uuid,
    pub author_id: Uuid,
    pub post_title: String,
}

#[derive(Debug, Clone)]
pub struct ReportQuery {
    pub team: Uuid,
    pub state: Option<ReviewState>,
    pub page: Page,
}

/// The leader's decision on reported content.
#[derive(Debug, Clone, Copy)]
pub struct Review {
    pub team: Uuid,
    pub kind: ContentKind,
    pub id: Uuid,
    pub remove: bool,
}

impl Review {
    /// The author may ask for a review; the leader decides, never on their own
    /// content (PRODUCT.md §6).
    pub fn check(&self, item: &ReportedItem, me: Uuid, access: &Access) -> Result<(), BoardError> {
        if !access.leader {
            return Err(BoardError::ReviewNeedsLeader);
        }
        if item.author_id == me {
            return Err(BoardError::CannotReviewOwn);
        }
        Ok(())
    }

    pub fn outcome(&self) -> ReviewState {
        if self.remove {
            ReviewState::Removed
        } else {
            ReviewState::Restored
        }
    }
}

/// The leader sees the whole moderation queue; authors see reports on their
/// own content.
pub fn sees_moderation(item: &ReportedItem, me: Uuid, access: &Access) -> bool {
    access.leader || item.author_id == me
}

/// What a member sees of a body: nothing while it is hidden for them or under
/// review (its author and the leader still see it).
pub fn shown(s: &Standing, body: &str) -> String {
    if s.withheld {
        String::new()
    } else {
        body.to_owned()
    }
}

/// A member's board data for a data export (named votes only: the database
/// cannot tell which anonymous votes a member took part in).
#[derive(Debug, Clone, Default)]
pub struct MemberExport {
    pub posts: Vec<ExportedPost>,
    pub comments: Vec<ExportedComment>,
    pub votes: Vec<ExportedVote>,
}

/// Export rows are read leniently: a column that cannot be read is left empty.
#[derive(Debug, Clone, Default)]
pub struct ExportedPost {
    pub id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub title: String,
    pub content: String,
    pub is_notice: bool,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct ExportedComment {
    pub id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub post_id: Option<Uuid>,
    pub content: String,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct ExportedVote {
    pub vote_id: Option<Uuid>,
    pub title: String,
    pub anonymous: bool,
    pub voted_at: Option<DateTime<Utc>>,
}
