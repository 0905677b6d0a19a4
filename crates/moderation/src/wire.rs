//! The `moing.moderation.v1` messages of the moderation types: what mission
//! and board send in `moderation`, `reasons` and `state`, and read from
//! `reason`, `decision` and the queue's `state` filter.

use moing_common::Validator;
use moing_proto::moing::moderation::v1 as pb;

use crate::{ReportReason, ReviewState, Standing, Visibility};

impl From<Visibility> for pb::ContentVisibility {
    fn from(v: Visibility) -> Self {
        match v {
            Visibility::Visible => Self::Visible,
            Visibility::HiddenForMe => Self::HiddenForMe,
            Visibility::PendingReview => Self::PendingReview,
            Visibility::Removed => Self::Removed,
        }
    }
}

impl From<ReviewState> for pb::ReviewState {
    fn from(s: ReviewState) -> Self {
        match s {
            ReviewState::Pending => Self::Pending,
            ReviewState::Restored => Self::Restored,
            ReviewState::Removed => Self::Removed,
        }
    }
}

impl From<ReportReason> for pb::ReportReason {
    fn from(r: ReportReason) -> Self {
        match r {
            ReportReason::Spam => Self::Spam,
            ReportReason::FakeProof => Self::FakeProof,
            ReportReason::Inappropriate => Self::Inappropriate,
            ReportReason::Abuse => Self::Abuse,
            ReportReason::Privacy => Self::Privacy,
            ReportReason::Other => Self::Other,
        }
    }
}

/// The moderation state of an item as its viewer sees it.
pub fn moderation_pb(s: &Standing) -> pb::Moderation {
    pb::Moderation {
        visibility: pb::ContentVisibility::from(s.visibility) as i32,
        reported_by_me: s.reported_by_me,
        content_withheld: s.withheld,
        report_count: s.report_count as i32,
    }
}

/// Report counts by stored reason name.
pub fn reason_counts(reasons: &[(String, i64)]) -> Vec<pb::ReportReasonCount> {
    reasons
        .iter()
        .map(|(name, n)| pb::ReportReasonCount {
            reason: pb::ReportReason::from(ReportReason::from_stored(name)) as i32,
            count: *n as i32,
        })
        .collect()
}

/// A report reason from the wire: one of `allowed` (a violation on `reason`
/// otherwise; FAKE_PROOF fits proofs only).
pub fn report_reason(v: &mut Validator, n: i32, allowed: &[ReportReason]) -> Option<ReportReason> {
    let reason = match pb::ReportReason::try_from(n) {
        Ok(pb::ReportReason::Spam) => Some(ReportReason::Spam),
        Ok(pb::ReportReason::FakeProof) => Some(ReportReason::FakeProof),
        Ok(pb::ReportReason::Inappropriate) => Some(ReportReason::Inappropriate),
        Ok(pb::ReportReason::Abuse) => Some(ReportReason::Abuse),
        Ok(pb::ReportReason::Privacy) => Some(ReportReason::Privacy),
        Ok(pb::ReportReason::Other) => Some(ReportReason::Other),
        Ok(pb::ReportReason::Unspecified) | Err(_) => None,
    }
    .filter(|r| allowed.contains(r));
    if reason.is_none() {
        let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
        v.violation("reason", format!("must be one of {}", names.join(", ")));
    }
    reason
}

/// The queue's state filter: None for UNSPECIFIED (the caller's default), a
/// violation on `state` for a number outside the enum.
pub fn review_filter(v: &mut Validator, n: i32) -> Option<ReviewState> {
    match pb::ReviewState::try_from(n) {
        Ok(pb::ReviewState::Unspecified) => None,
        Ok(pb::ReviewState::Pending) => Some(ReviewState::Pending),
        Ok(pb::ReviewState::Restored) => Some(ReviewState::Restored),
        Ok(pb::ReviewState::Removed) => Some(ReviewState::Removed),
        Err(_) => {
            v.violation("state", "must be PENDING, RESTORED or REMOVED");
            None
        }
    }
}

/// The leader's decision from the wire: Some(true) to remove, Some(false) to
/// restore, None with a violation on `decision` otherwise.
pub fn review_decision(v: &mut Validator, n: i32) -> Option<bool> {
    let remove = match pb::ReviewDecision::try_from(n) {
        Ok(pb::ReviewDecision::Restore) => Some(false),
        Ok(pb::ReviewDecision::Remove) => Some(true),
        Ok(pb::ReviewDecision::Unspecified) | Err(_) => None,
    };
    v.check(remove.is_some(), "decision", "must be RESTORE or REMOVE");
    remove
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_outside_the_allowed_set_are_violations() {
        let posts = [ReportReason::Spam, ReportReason::Other];
        let mut v = Validator::new();
        let fake = pb::ReportReason::FakeProof as i32;
        assert_eq!(report_reason(&mut v, fake, &posts), None);
        assert!(v.finish().is_err());
        let mut v = Validator::new();
        assert_eq!(
            report_reason(&mut v, fake, &ReportReason::ALL),
            Some(ReportReason::FakeProof)
        );
        assert_eq!(report_reason(&mut v, 99, &ReportReason::ALL), None);
        assert_eq!(review_decision(&mut v, 0), None);
        assert_eq!(review_filter(&mut v, 2), Some(ReviewState::Restored));
        assert!(v.finish().is_err());
    }
}
