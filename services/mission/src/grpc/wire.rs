//! Proto ⇄ domain of the mission service: the generated enums for the
//! domain's kinds and validated domain inputs from requests (field-level
//! violations) here; the encoders (`…_pb`) of domain values and store rows
//! into `pb::` messages in `wire/encode.rs`.

mod encode;

pub use encode::*;

use chrono::{DateTime, Duration, Utc};
use moing_common::Validator;
use moing_moderation::{ReportReason, ReviewState};
use moing_proto::moing::{mission::v1 as pb, moderation::v1 as mpb};
use uuid::Uuid;

use crate::{
    domain::{
        Body, ContentKind, EndReason, Kind, Mission, NewMission, NewProof, NewUpload, Sticker,
        UploadScope, Way, valid_link,
    },
    error::MissionError,
    storage::{MAX_BYTES, TYPES},
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

/// A report reason other than UNSPECIFIED (proofs and their comments take
/// every reason); a violation on `reason` otherwise.
pub fn report_reason(n: i32) -> Result<ReportReason, MissionError> {
    let mut v = Validator::new();
    let reason = moing_moderation::wire::report_reason(&mut v, n, &ReportReason::ALL);
    v.finish()?;
    reason.ok_or(MissionError::Invalid(vec![]))
}

/// The review state of a stored state name (PENDING when none).
pub fn review_state(state: Option<&str>) -> mpb::ReviewState {
    state
        .map_or(ReviewState::Pending, ReviewState::from_stored)
        .into()
}

/// The stored state name a ListReportedContent filter asks for.
pub fn review_filter(v: &mut Validator, state: i32) -> Option<&'static str> {
    moing_moderation::wire::review_filter(v, state).map(ReviewState::as_str)
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

/// Whether a mission passes a list's kind filter (UNSPECIFIED: any).
pub fn kind_matches(filter: i32, m: &Mission) -> bool {
    filter == pb::MissionKind::Unspecified as i32 || pb::MissionKind::from(m.kind) as i32 == filter
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
