//! Proto ⇄ domain of the mission service: the generated enums for the
//! domain's kinds, validated domain inputs from requests (field-level
//! violations), and the encoders (`…_pb`) of domain values and store rows into
//! `pb::` messages.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use moing_common::{
    Validator,
    convert::date,
    error::FieldViolation,
    outbox::timestamp,
    reports::{Standing, Visibility},
};
use moing_proto::moing::mission::v1 as pb;
use uuid::Uuid;

use crate::{
    domain::{
        Body, Comment, ContentKind, EndReason, Kind, Mission, NewMission, NewProof, NewUpload,
        Proof, Reactions, Sticker, UploadScope, Way,
        progress::{Counts, Span, Standing as MemberStanding},
        score, valid_link,
    },
    error::MissionError,
    storage::{MAX_BYTES, TYPES},
    store::reports::Moderated,
};

// ---- enums ----------------------------------------------------------------

impl From<Kind> for pb::MissionKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Once => Self::Once,
            Kind::Repeat => Self::Repeat,
        }
    }
}

impl From<Way> for pb::ProofWay {
    fn from(w: Way) -> Self {
        match w {
            Way::Text => Self::Text,
            Way::Photo => Self::Photo,
            Way::Link => Self::Link,
        }
    }
}

impl From<EndReason> for pb::MissionEndReason {
    fn from(r: EndReason) -> Self {
        match r {
            EndReason::Manual => Self::Manual,
            EndReason::Deadline => Self::Deadline,
            EndReason::TeamEnded => Self::TeamEnded,
        }
    }
}

impl From<Sticker> for pb::StickerKind {
    fn from(s: Sticker) -> Self {
        match s {
            Sticker::Clap => Self::Clap,
            Sticker::Fire => Self::Fire,
            Sticker::Muscle => Self::Muscle,
            Sticker::Party => Self::Party,
            Sticker::Love => Self::Love,
        }
    }
}

impl From<ContentKind> for pb::ReportedContentKind {
    fn from(k: ContentKind) -> Self {
        match k {
            ContentKind::Proof => Self::Proof,
            ContentKind::Comment => Self::ProofComment,
        }
    }
}

/// The mission kind of a wire number (None: unset or unknown).
pub fn kind_of(n: i32) -> Option<Kind> {
    match pb::MissionKind::try_from(n) {
        Ok(pb::MissionKind::Once) => Some(Kind::Once),
        Ok(pb::MissionKind::Repeat) => Some(Kind::Repeat),
        _ => None,
    }
}

/// The proof way of a wire number (None: unset or unknown).
pub fn way_of(n: i32) -> Option<Way> {
    match pb::ProofWay::try_from(n) {
        Ok(pb::ProofWay::Text) => Some(Way::Text),
        Ok(pb::ProofWay::Photo) => Some(Way::Photo),
        Ok(pb::ProofWay::Link) => Some(Way::Link),
        _ => None,
    }
}

/// The sticker of a wire number; a violation on `kind` otherwise.
pub fn sticker(kind: i32) -> Result<Sticker, MissionError> {
    let sticker = match pb::StickerKind::try_from(kind) {
        Ok(pb::StickerKind::Clap) => Some(Sticker::Clap),
        Ok(pb::StickerKind::Fire) => Some(Sticker::Fire),
        Ok(pb::StickerKind::Muscle) => Some(Sticker::Muscle),
        Ok(pb::StickerKind::Party) => Some(Sticker::Party),
        Ok(pb::StickerKind::Love) => Some(Sticker::Love),
        _ => None,
    };
    let mut v = Validator::new();
    v.check(
        sticker.is_some(),
        "kind",
        "must be CLAP, FIRE, MUSCLE, PARTY or LOVE",
    );
    v.finish()?;
    sticker.ok_or(MissionError::Invalid(vec![]))
}

/// A report reason other than UNSPECIFIED; a violation on `reason` otherwise.
pub fn report_reason(n: i32) -> Result<pb::ReportReason, MissionError> {
    match pb::ReportReason::try_from(n) {
        Ok(r) if r != pb::ReportReason::Unspecified => Ok(r),
        _ => Err(MissionError::Invalid(vec![FieldViolation {
            field: "reason".into(),
            description: "choose a report reason".into(),
        }])),
    }
}

/// The review state of a stored state name (PENDING when none).
pub fn review_state(state: Option<&str>) -> pb::ReviewState {
    match state {
        Some("REMOVED") => pb::ReviewState::Removed,
        Some("RESTORED") => pb::ReviewState::Restored,
        _ => pb::ReviewState::Pending,
    }
}

/// The stored state name a ListReportedContent filter asks for.
pub fn review_filter(v: &mut Validator, state: i32) -> Option<&'static str> {
    match pb::ReviewState::try_from(state) {
        Ok(pb::ReviewState::Unspecified) => None,
        Ok(pb::ReviewState::Pending) => Some("PENDING"),
        Ok(pb::ReviewState::Restored) => Some("RESTORED"),
        Ok(pb::ReviewState::Removed) => Some("REMOVED"),
        Err(_) => {
            v.violation("state", "must be PENDING, RESTORED or REMOVED");
            None
        }
    }
}

/// The `ended` filter of a mission list (None: any state).
pub fn ended_filter(v: &mut Validator, state: i32) -> Option<bool> {
    match pb::MissionState::try_from(state) {
        Ok(pb::MissionState::Unspecified) => None,
        Ok(pb::MissionState::Active) => Some(false),
        Ok(pb::MissionState::Ended) => Some(true),
        Err(_) => {
            v.violation("state", "must be ACTIVE or ENDED");
            None
        }
    }
}

/// Whether a mission passes a list's kind filter (0: any).
pub fn kind_matches(filter: i32, m: &Mission) -> bool {
    filter == 0 || pb::MissionKind::from(m.kind) as i32 == filter
}

// ---- requests -------------------------------------------------------------

/// `team_id` and `mission_id`, each a violation when not an id.
pub fn ids(v: &mut Validator, team: &str, mission: &str) -> (Uuid, Uuid) {
    (
        v.id("team_id", team).unwrap_or_default(),
        v.id("mission_id", mission).unwrap_or_default(),
    )
}

fn check_schedule(
    v: &mut Validator,
    r: &pb::CreateMissionRequest,
    kind: Option<Kind>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let deadline = v.timestamp("deadline", r.deadline.as_ref());
    let deadline_valid = r.deadline.is_none() || deadline.is_some();
    match kind {
        Some(Kind::Once) => {
            v.check(
                !deadline_valid || deadline.is_some_and(|d| d > now),
                "deadline",
                "a ONCE mission needs a future deadline",
            );
            v.check(
                deadline.is_none_or(|d| d < now + Duration::days(366)),
                "deadline",
                "must be within a year",
            );
            v.check(
                r.times_per_week == 0,
                "times_per_week",
                "only REPEAT missions have a weekly target",
            );
        }
        Some(Kind::Repeat) => {
            v.check(
                (1..=7).contains(&r.times_per_week),
                "times_per_week",
                "must be 1..7",
            );
            v.check(
                r.deadline.is_none(),
                "deadline",
                "REPEAT missions end with the team or by hand",
            );
        }
        None => {}
    }
    deadline
}

/// A CreateMission request as of `now` (deadlines are checked against it).
pub fn new_mission(
    r: &pb::CreateMissionRequest,
    now: DateTime<Utc>,
) -> Result<NewMission, MissionError> {
    let mut v = Validator::new();
    let team = v.id("team_id", &r.team_id).unwrap_or_default();
    let title = v.text("title", &r.title, 1, 30);
    let content = v.text("content", &r.content, 0, 300);
    let rule = v.text("rule", &r.rule, 0, 100);
    let kind = kind_of(r.kind);
    v.check(kind.is_some(), "kind", "must be ONCE or REPEAT");
    let way = way_of(r.way);
    v.check(way.is_some(), "way", "must be TEXT, PHOTO or LINK");
    let deadline = check_schedule(&mut v, r, kind, now);
    v.finish()?;
    let (Some(kind), Some(way)) = (kind, way) else {
        return Err(MissionError::Invalid(vec![]));
    };
    Ok(NewMission {
        team,
        title,
        content,
        rule,
        kind,
        way,
        deadline,
        times_per_week: r.times_per_week,
    })
}

/// Applies an UpdateMission's masked fields to `m` (as of `now`).
pub fn apply_edit(
    m: &mut Mission,
    paths: &[String],
    input: &pb::Mission,
    now: DateTime<Utc>,
) -> Result<(), MissionError> {
    let mut v = Validator::new();
    for p in paths {
        match (p.as_str(), m.kind) {
            ("title", _) => m.title = v.text("mission.title", &input.title, 1, 30),
            ("content", _) => m.content = v.text("mission.content", &input.content, 0, 300),
            ("rule", _) => m.rule = v.text("mission.rule", &input.rule, 0, 100),
            ("deadline", Kind::Once) => {
                let d = v.timestamp("mission.deadline", input.deadline.as_ref());
                v.check(
                    input.deadline.is_some() && d.is_none_or(|d| d > now),
                    "mission.deadline",
                    "must be in the future",
                );
                v.check(
                    d.is_none_or(|d| d < now + Duration::days(366)),
                    "mission.deadline",
                    "must be within a year",
                );
                m.deadline = d.or(m.deadline);
            }
            ("times_per_week", Kind::Repeat) => {
                v.check(
                    (1..=7).contains(&input.times_per_week),
                    "mission.times_per_week",
                    "must be 1..7",
                );
                m.times_per_week = Some(input.times_per_week);
            }
            (other, _) => v.violation(
                "update_mask",
                format!("path {other:?} cannot be changed on this mission"),
            ),
        }
    }
    Ok(v.finish()?)
}

impl TryFrom<&pb::SubmitProofRequest> for NewProof {
    type Error = MissionError;

    fn try_from(r: &pb::SubmitProofRequest) -> Result<Self, MissionError> {
        use pb::submit_proof_request::Body as B;
        let mut v = Validator::new();
        let (team, mission) = ids(&mut v, &r.team_id, &r.mission_id);
        let caption = v.text("caption", &r.caption, 0, 300);
        let body = match &r.body {
            Some(B::Text(t)) => Some(Body::Text(v.text("text", t, 1, 1000))),
            Some(B::LinkUrl(l)) => {
                v.check(valid_link(l), "link_url", "must be an http(s) URL");
                Some(Body::Link(l.trim().to_owned()))
            }
            Some(B::PhotoKey(k)) => Some(Body::Photo(v.text("photo_key", k, 1, 300))),
            None => {
                v.violation("body", "one of text, link_url or photo_key is required");
                None
            }
        };
        v.finish()?;
        let body = body.ok_or(MissionError::Invalid(vec![]))?;
        Ok(NewProof {
            team,
            mission,
            body,
            caption,
        })
    }
}

impl TryFrom<&pb::SkipMissionRequest> for NewProof {
    type Error = MissionError;

    fn try_from(r: &pb::SkipMissionRequest) -> Result<Self, MissionError> {
        let mut v = Validator::new();
        let (team, mission) = ids(&mut v, &r.team_id, &r.mission_id);
        let reason = v.text("reason", &r.reason, 1, 300);
        v.finish()?;
        Ok(NewProof {
            team,
            mission,
            body: Body::Skip(reason),
            caption: String::new(),
        })
    }
}

/// An optional id field: None when empty, a violation when not an id.
fn optional_id(v: &mut Validator, field: &str, value: &str) -> Option<Uuid> {
    if value.is_empty() {
        None
    } else {
        v.id(field, value)
    }
}

impl TryFrom<&pb::CreateUploadRequest> for NewUpload {
    type Error = MissionError;

    fn try_from(r: &pb::CreateUploadRequest) -> Result<Self, MissionError> {
        use pb::UploadPurpose as P;
        let mut v = Validator::new();
        let ext = TYPES
            .iter()
            .find(|(t, _)| *t == r.content_type.trim())
            .map(|(_, e)| *e);
        if r.content_length <= 0 {
            v.violation("content_length", "must be positive");
        }
        let purpose = P::try_from(r.purpose).ok().filter(|p| *p != P::Unspecified);
        v.check(
            purpose.is_some(),
            "purpose",
            "must be PROOF_PHOTO, PROFILE_IMAGE or TEAM_IMAGE",
        );
        let team = optional_id(&mut v, "team_id", &r.team_id);
        let mission = optional_id(&mut v, "mission_id", &r.mission_id);
        match purpose {
            Some(P::ProofPhoto) => {
                v.check(team.is_some(), "team_id", "is required for a proof photo");
                v.check(
                    mission.is_some(),
                    "mission_id",
                    "is required for a proof photo",
                );
            }
            Some(P::ProfileImage) => v.check(
                team.is_none() && mission.is_none(),
                "team_id",
                "a profile image belongs to no team",
            ),
            Some(P::TeamImage) => v.check(
                mission.is_none(),
                "mission_id",
                "a team image belongs to no mission",
            ),
            _ => {}
        }
        v.finish()?;
        let Some(ext) = ext else {
            return Err(MissionError::UploadType);
        };
        if r.content_length > MAX_BYTES {
            return Err(MissionError::UploadTooLarge);
        }
        let scope = match (purpose, team, mission) {
            (Some(P::ProofPhoto), Some(team), Some(mission)) => {
                UploadScope::ProofPhoto { team, mission }
            }
            (Some(P::ProfileImage), _, _) => UploadScope::ProfileImage,
            (Some(P::TeamImage), team, _) => UploadScope::TeamImage(team),
            _ => return Err(MissionError::Invalid(vec![])),
        };
        Ok(NewUpload {
            scope,
            content_type: r.content_type.trim().to_owned(),
            content_length: r.content_length,
            ext,
        })
    }
}

// ---- encoders -------------------------------------------------------------

/// The moderation state of one item for one viewer.
#[derive(Debug, Clone, Default)]
pub struct View {
    pub moderation: pb::Moderation,
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
            moderation: pb::Moderation {
                visibility: pb::ContentVisibility::Visible as i32,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Withholds the item from this viewer alone (a block between the viewer
    /// and the author), unless reviews already withhold it more broadly.
    pub fn hide_for_me(&mut self) {
        if self.moderation.visibility == pb::ContentVisibility::Visible as i32 {
            self.moderation.visibility = pb::ContentVisibility::HiddenForMe as i32;
        }
        self.moderation.content_withheld = true;
        self.withheld = true;
    }
}

impl From<Standing> for View {
    fn from(s: Standing) -> Self {
        let visibility = match s.visibility {
            Visibility::Visible => pb::ContentVisibility::Visible,
            Visibility::HiddenForMe => pb::ContentVisibility::HiddenForMe,
            Visibility::PendingReview => pb::ContentVisibility::PendingReview,
            Visibility::Removed => pb::ContentVisibility::Removed,
        };
        View {
            moderation: pb::Moderation {
                visibility: visibility as i32,
                reported_by_me: s.reported_by_me,
                content_withheld: s.withheld,
                report_count: s.report_count as i32,
            },
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
        report_count: item.reasons.iter().map(|(_, n)| n).sum(),
        reasons: item
            .reasons
            .iter()
            .map(|(reason, count)| pb::ReportReasonCount {
                reason: *reason as i32,
                count: *count,
            })
            .collect(),
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
