//! moing-moderation: reports on member content, shared by the mission service
//! (proofs, proof comments) and the board service (posts, post comments), with
//! its messages defined once in `moing.moderation.v1`.
//!
//! The rule (PRODUCT.md §6): a report hides the item for the reporter at once;
//! the [`THRESHOLD`]th distinct reporter hides it for the whole team pending the
//! leader's review (restore or remove; the author may ask for it, the leader
//! decides). Reports only add rows: the content itself is never overwritten.
//!
//! A restore starts a new review *round*: only reports filed in the current
//! round count toward the threshold, so a restored item is hidden again when
//! `THRESHOLD` members who had not reported it do. A member reports an item
//! once, ever; their own report keeps it hidden for them after a restore.
//!
//! - this file: the types and the visibility rule;
//! - [`store`]: the SQL (standing, filing, review, the moderation queue);
//! - [`wire`]: the `moing.moderation.v1` messages of these types.

use chrono::{DateTime, Utc};

pub mod store;
pub mod wire;

pub use store::{file, moderated, review, standing};

/// Distinct reporters that put an item under review.
pub const THRESHOLD: i64 = 3;

/// What a viewer may see of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Visible,
    HiddenForMe,
    PendingReview,
    Removed,
}

impl Visibility {
    /// The visibility of an item in review `state` for a viewer who reported it
    /// (`mine`) or may review it (`reviewer`: its author or the team's leader),
    /// and whether its body is withheld from them.
    pub fn of(state: Option<&str>, mine: bool, reviewer: bool) -> (Self, bool) {
        match state.map(ReviewState::from_stored) {
            Some(ReviewState::Removed) => (Self::Removed, true),
            Some(ReviewState::Pending) => (Self::PendingReview, !reviewer),
            _ if mine => (Self::HiddenForMe, true),
            _ => (Self::Visible, false),
        }
    }
}

/// Reports and moderation of one item, as seen by one viewer.
#[derive(Debug, Clone)]
pub struct Standing {
    pub visibility: Visibility,
    /// The body must not be shown to this viewer.
    pub withheld: bool,
    pub reported_by_me: bool,
    /// Report count, given only to the author and the leader (0 otherwise).
    pub report_count: i64,
    pub state: Option<String>,
    pub hidden_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

/// An item under moderation.
#[derive(Debug, Clone)]
pub struct Moderated {
    pub kind: String,
    pub content_id: uuid::Uuid,
    pub state: String,
    pub hidden_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// (reason name, count).
    pub reasons: Vec<(String, i64)>,
}

/// Why filing a report failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("already reported")]
    AlreadyReported,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Where reported content stands in review (stored by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    Pending,
    Restored,
    Removed,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Restored => "RESTORED",
            Self::Removed => "REMOVED",
        }
    }

    /// Anything but PENDING and RESTORED is REMOVED.
    pub fn from_stored(s: &str) -> Self {
        match s {
            "PENDING" => Self::Pending,
            "RESTORED" => Self::Restored,
            _ => Self::Removed,
        }
    }
}

/// Why a member reported content (stored by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportReason {
    Spam,
    /// Proofs only.
    FakeProof,
    Inappropriate,
    Abuse,
    Privacy,
    Other,
}

impl ReportReason {
    /// Every reason (proofs take all of them; posts and comments all but FAKE_PROOF).
    pub const ALL: [Self; 6] = [
        Self::Spam,
        Self::FakeProof,
        Self::Inappropriate,
        Self::Abuse,
        Self::Privacy,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spam => "SPAM",
            Self::FakeProof => "FAKE_PROOF",
            Self::Inappropriate => "INAPPROPRIATE",
            Self::Abuse => "ABUSE",
            Self::Privacy => "PRIVACY",
            Self::Other => "OTHER",
        }
    }

    /// Unknown names count as OTHER.
    pub fn from_stored(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .unwrap_or(Self::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_follows_review_then_own_report() {
        assert_eq!(
            Visibility::of(None, false, false),
            (Visibility::Visible, false)
        );
        assert_eq!(
            Visibility::of(None, true, false),
            (Visibility::HiddenForMe, true)
        );
        assert_eq!(
            Visibility::of(Some("RESTORED"), true, true),
            (Visibility::HiddenForMe, true)
        );
        assert_eq!(
            Visibility::of(Some("PENDING"), false, true),
            (Visibility::PendingReview, false)
        );
        assert_eq!(
            Visibility::of(Some("PENDING"), false, false),
            (Visibility::PendingReview, true)
        );
        assert_eq!(
            Visibility::of(Some("REMOVED"), false, true),
            (Visibility::Removed, true)
        );
    }

    #[test]
    fn names_round_trip() {
        for r in ReportReason::ALL {
            assert_eq!(ReportReason::from_stored(r.as_str()), r);
        }
        for s in [
            ReviewState::Pending,
            ReviewState::Restored,
            ReviewState::Removed,
        ] {
            assert_eq!(ReviewState::from_stored(s.as_str()), s);
        }
    }
}
