//! Encoders of domain values and store rows into `pb::` messages (what each
//! viewer sees of proofs, comments and missions; progress, score, moderation).

use chrono::{DateTime, NaiveDate, Utc};
use moing_common::{convert::date, outbox::timestamp};
use moing_moderation::{
    Standing,
    wire::{moderation_pb, reason_counts},
};
use moing_proto::moing::{mission::v1 as pb, moderation::v1 as mpb};
use uuid::Uuid;

use super::review_state;
use crate::{
    domain::{
        Comment, Mission, Proof, Reactions,
        progress::{Counts, Span, Standing as MemberStanding},
        score,
    },
    store::reports::Moderated,
};

/// The moderation state of one item for one viewer.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub moderation: mpb::Moderation,
    /// The body must not be shown to this viewer.
    pub withheld: bool,
    pub state: Option<String>,
    pub hidden_at: Option<DateTime<Utc>>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl View {
    /// An item nobody reported (e.g. one just written).
    pub fn visible() -> Self {
        Self {
            moderation: mpb::Moderation {
                visibility: mpb::ContentVisibility::Visible as i32,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Withholds the item from this viewer alone (a block between the viewer
    /// and the author), unless reviews already withhold it more broadly.
    pub fn hide_for_me(&mut self) {
        if self.moderation.visibility == mpb::ContentVisibility::Visible as i32 {
            self.moderation.visibility = mpb::ContentVisibility::HiddenForMe as i32;
        }
        self.moderation.content_withheld = true;
        self.withheld = true;
    }
}

impl From<Standing> for View {
    fn from(s: Standing) -> Self {
        View {
            moderation: moderation_pb(&s),
            withheld: s.withheld,
            state: s.state,
            hidden_at: s.hidden_at,
            reviewed_at: s.reviewed_at,
        }
    }
}

fn member_pb(id: Uuid) -> pb::MemberSummary {
    pb::MemberSummary {
        member_id: id.to_string(),
        ..Default::default()
    }
}

fn proof_body_pb(p: &Proof, view: &View) -> Option<pb::proof::Body> {
    use pb::proof::Body as B;
    if view.withheld {
        None
    } else if p.skipped {
        p.skip_reason.clone().map(B::SkipReason)
    } else if let Some(t) = &p.text {
        Some(B::Text(t.clone()))
    } else if let Some(l) = &p.link_url {
        Some(B::LinkUrl(l.clone()))
    } else {
        p.photo_key.clone().map(|k| {
            B::Photo(moing_proto::moing::common::v1::ImageRef {
                key: k,
                url: String::new(),
            })
        })
    }
}

/// A proof as `me` sees it (`today`: the team's today, for `deletable`).
pub fn proof_pb(p: &Proof, me: Uuid, today: NaiveDate, r: &Reactions, view: &View) -> pb::Proof {
    pb::Proof {
        id: p.id.to_string(),
        team_id: p.team_id.to_string(),
        mission_id: p.mission_id.to_string(),
        author: Some(member_pb(p.member_id)),
        status: if p.skipped {
            pb::ProofStatus::Skipped
        } else {
            pb::ProofStatus::Done
        } as i32,
        way: pb::ProofWay::from(p.way) as i32,
        body: proof_body_pb(p, view),
        caption: if view.withheld {
            String::new()
        } else {
            p.caption.clone()
        },
        day: Some(date(p.day)),
        created_at: Some(timestamp(p.created_at)),
        moderation: Some(view.moderation),
        deletable: p.member_id == me && p.day == today,
        heart_count: r.hearts,
        hearted_by_me: r.hearted_by_me,
        stickers: stickers_pb(r),
        comment_count: r.comments,
    }
}

/// Sticker counts as sent to clients.
pub fn stickers_pb(r: &Reactions) -> Vec<pb::StickerCount> {
    r.stickers
        .iter()
        .map(|(sticker, count, mine)| pb::StickerCount {
            kind: pb::StickerKind::from(*sticker) as i32,
            count: *count,
            mine: *mine,
        })
        .collect()
}

/// Who looks at a comment: `me`, and whether `me` leads the team.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub me: Uuid,
    pub leader: bool,
}

/// A comment on a proof of `m`, as `viewer` sees it.
pub fn comment_pb(
    c: &Comment,
    m: &Mission,
    viewer: Viewer,
    author_is_leader: bool,
    view: &View,
) -> pb::ProofComment {
    pb::ProofComment {
        id: c.id.to_string(),
        team_id: m.team_id.to_string(),
        mission_id: m.id.to_string(),
        proof_id: c.proof_id.to_string(),
        author: Some(member_pb(c.member_id)),
        author_is_leader,
        content: if view.withheld {
            String::new()
        } else {
            c.content.clone()
        },
        created_at: Some(timestamp(c.created_at)),
        deletable: c.member_id == viewer.me || viewer.leader,
        moderation: Some(view.moderation),
    }
}

/// A mission's own fields; progress and `can_manage` are the caller's to fill.
pub fn mission_fields(m: &Mission) -> pb::Mission {
    pb::Mission {
        id: m.id.to_string(),
        team_id: m.team_id.to_string(),
        title: m.title.clone(),
        content: m.content.clone(),
        rule: m.rule.clone(),
        kind: pb::MissionKind::from(m.kind) as i32,
        way: pb::ProofWay::from(m.way) as i32,
        deadline: m.deadline.map(timestamp),
        times_per_week: m.times_per_week.unwrap_or(0),
        state: if m.ended {
            pb::MissionState::Ended
        } else {
            pb::MissionState::Active
        } as i32,
        end_reason: m.end_reason.map_or(
            pb::MissionEndReason::Unspecified,
            pb::MissionEndReason::from,
        ) as i32,
        ended_at: m.ended_at.map(timestamp),
        maker_member_id: m.maker_id.to_string(),
        created_at: Some(timestamp(m.created_at)),
        updated_at: Some(timestamp(m.updated_at)),
        ..Default::default()
    }
}

fn result_pb(m: &Mission, s: &MemberStanding) -> pb::MissionResult {
    if !m.ended {
        pb::MissionResult::Unspecified
    } else if s.totals.required == 0 {
        pb::MissionResult::NotRequired
    } else if s.totals.done >= s.totals.required {
        pb::MissionResult::Completed
    } else if s.totals.done > 0 {
        pb::MissionResult::Partial
    } else if s.totals.skipped > 0 {
        pb::MissionResult::Skipped
    } else {
        pb::MissionResult::Missed
    }
}

/// The wire form of a member's standing on a mission.
pub fn progress_pb(m: &Mission, s: &MemberStanding) -> pb::MissionProgress {
    let slot_status = match &s.slot {
        None => pb::ProofSlotStatus::Open,
        Some(p) if !p.done => pb::ProofSlotStatus::Skipped,
        Some(_) => pb::ProofSlotStatus::Done,
    };
    pb::MissionProgress {
        period_start: Some(date(s.period.0)),
        period_end: Some(date(s.period.1)),
        done_count: s.done,
        required_count: s.required,
        skipped_count: s.skipped,
        period_complete: s.done >= s.required,
        slot_status: slot_status as i32,
        slot_proof_id: s.slot.map(|p| p.id.to_string()).unwrap_or_default(),
        can_submit: s.can_submit,
        last_done_at: s.last_done_at.map(timestamp),
        total_done_count: s.totals.done,
        total_required_count: s.totals.required,
        result: result_pb(m, s) as i32,
    }
}

/// The team's score on the wire; `with_rule` adds the documented rule.
pub fn score_pb(
    team: Uuid,
    points: i64,
    updated: Option<DateTime<Utc>>,
    with_rule: bool,
) -> pb::TeamScore {
    let (level, start, next) = score::level(points);
    pb::TeamScore {
        team_id: team.to_string(),
        points,
        level,
        level_start_points: start,
        next_level_points: next,
        points_to_next_level: next - points,
        rule: with_rule.then(|| pb::ScoreRule {
            points_per_done_proof: score::POINTS_PER_PROOF as i32,
            once_all_done_bonus: score::ONCE_BONUS as i32,
            weekly_all_done_bonus: score::WEEKLY_BONUS as i32,
            level_step_points: score::LEVEL_STEP as i32,
            description: score::DESCRIPTION.into(),
        }),
        updated_at: updated.map(moing_common::convert::timestamp),
    }
}

/// An item under moderation (`mission`: the mission it belongs to, if known).
pub fn reported_pb(item: &Moderated, mission: Option<Uuid>) -> pb::ReportedContent {
    pb::ReportedContent {
        kind: pb::ReportedContentKind::from(item.kind) as i32,
        content_id: item.id.to_string(),
        mission_id: mission.map(|m| m.to_string()).unwrap_or_default(),
        report_count: item.reasons.iter().map(|(_, n)| *n as i32).sum(),
        reasons: reason_counts(&item.reasons),
        state: review_state(Some(item.state.as_str())) as i32,
        hidden_at: Some(timestamp(item.hidden_at)),
        reviewed_at: item.reviewed_at.map(timestamp),
        ..Default::default()
    }
}

pub fn counts_pb(c: Counts) -> pb::ProgressCounts {
    pb::ProgressCounts {
        done: c.done,
        required: c.required,
        skipped: c.skipped,
        pending: c.pending,
    }
}

pub fn span_pb(s: &Span) -> pb::MembershipSpan {
    pb::MembershipSpan {
        joined_on: Some(date(s.from)),
        left_on: s.to.map(date),
    }
}
