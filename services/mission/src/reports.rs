//! Reports on proofs and proof comments. A report hides the item for the
//! reporter at once; the third distinct reporter hides it for the whole team
//! pending the leader's review (restore or remove; the author may ask for it,
//! the leader decides). A restored item can be hidden again by new reporters.
//! Reports only add rows: the content itself is never overwritten.

use chrono::{DateTime, Utc};
use moing_common::{
    outbox::Outbox,
    reports::{self as shared, ReportError, Visibility},
};
use moing_proto::moing::{
    events::v1::{
        MissionContentHidden, MissionContentReported, MissionContentReviewed, event::Payload,
    },
    mission::v1 as pb,
};
use sqlx::MySqlPool;
use uuid::Uuid;

use crate::error::MissionError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Proof,
    Comment,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proof => "PROOF",
            Self::Comment => "COMMENT",
        }
    }
    pub fn number(self) -> i32 {
        match self {
            Self::Proof => 1,
            Self::Comment => 2,
        }
    }
}

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

#[derive(Debug, Clone)]
pub struct Reports {
    pub pool: MySqlPool,
    pub outbox: Outbox,
}

const REASONS: [&str; 6] = [
    "SPAM",
    "FAKE_PROOF",
    "INAPPROPRIATE",
    "ABUSE",
    "PRIVACY",
    "OTHER",
];

fn reason_name(n: i32) -> Option<&'static str> {
    REASONS
        .get(usize::try_from(n.checked_sub(1)?).ok()?)
        .copied()
}

impl Reports {
    /// What `viewer` sees of an item written by `author`.
    pub async fn view(
        &self,
        kind: Kind,
        id: Uuid,
        viewer: Uuid,
        author: Uuid,
        leader: bool,
    ) -> Result<View, MissionError> {
        let s = shared::standing(
            &self.pool,
            kind.as_str(),
            id,
            viewer,
            viewer == author || leader,
        )
        .await?;
        let visibility = match s.visibility {
            Visibility::Visible => pb::ContentVisibility::Visible,
            Visibility::HiddenForMe => pb::ContentVisibility::HiddenForMe,
            Visibility::PendingReview => pb::ContentVisibility::PendingReview,
            Visibility::Removed => pb::ContentVisibility::Removed,
        };
        Ok(View {
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
        })
    }

    /// Files a report; at the threshold the item goes under review for the team.
    #[allow(clippy::too_many_arguments)]
    pub async fn report(
        &self,
        kind: Kind,
        id: Uuid,
        team: Uuid,
        mission: Uuid,
        author: Uuid,
        reporter: Uuid,
        reason: i32,
        text: &str,
    ) -> Result<(), MissionError> {
        moing_common::transaction!("mission.report", Result<(), MissionError>, {
            let reason_number = reason;
            let reason = reason_name(reason).ok_or_else(|| {
                MissionError::Invalid(vec![moing_common::error::FieldViolation {
                    field: "reason".into(),
                    description: "choose a report reason".into(),
                }])
            })?;
            if author == reporter {
                return Err(MissionError::CannotReportOwn);
            }
            let mut tx = self.pool.begin().await?;
            let (count, hidden) = match shared::file(
                &mut tx,
                kind.as_str(),
                id,
                team,
                reporter,
                reason,
                text,
                moing_common::clock::now(),
            )
            .await
            {
                Err(ReportError::AlreadyReported) => return Err(MissionError::AlreadyReported),
                Err(ReportError::Db(e)) => return Err(e.into()),
                Ok(filed) => filed,
            };
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team),
                    Some(reporter),
                    Payload::MissionContentReported(MissionContentReported {
                        content_kind: kind.number(),
                        content_id: id.to_string(),
                        mission_id: mission.to_string(),
                        content_author_member_id: author.to_string(),
                        reason: reason_number,
                        ..Default::default()
                    }),
                )
                .await?;
            if hidden {
                self.outbox
                    .enqueue(
                        &mut tx,
                        Some(team),
                        None,
                        Payload::MissionContentHidden(MissionContentHidden {
                            content_kind: kind.number(),
                            content_id: id.to_string(),
                            mission_id: mission.to_string(),
                            content_author_member_id: author.to_string(),
                            report_count: count as i32,
                            ..Default::default()
                        }),
                    )
                    .await?;
            }
            tx.commit().await?;
            self.outbox.wake();
            Ok(())

        })
    }

    /// Restores or removes an item under review.
    pub async fn review(
        &self,
        kind: Kind,
        id: Uuid,
        team: Uuid,
        reviewer: Uuid,
        remove: bool,
    ) -> Result<(), MissionError> {
        moing_common::transaction!("mission.review", Result<(), MissionError>, {
            let mut tx = self.pool.begin().await?;
            if !shared::review(&mut tx, kind.as_str(), id, team, remove, moing_common::clock::now()).await? {
                return Err(MissionError::ReviewNotPending);
            }
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team),
                    Some(reviewer),
                    Payload::MissionContentReviewed(MissionContentReviewed {
                        content_kind: kind.number(),
                        content_id: id.to_string(),
                        decision: if remove { 2 } else { 1 },
                        ..Default::default()
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(())

        })
    }

    /// Items under moderation in a team: (kind, content id, state, hidden_at,
    /// reviewed_at, report counts by reason number), newest first.
    #[allow(clippy::type_complexity)]
    pub async fn moderated(
        &self,
        team: Uuid,
        state: Option<&str>,
    ) -> Result<
        Vec<(
            Kind,
            Uuid,
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Vec<(i32, i32)>,
        )>,
        MissionError,
    > {
        Ok(shared::moderated(&self.pool, team, state)
            .await?
            .into_iter()
            .map(|m| {
                let kind = if m.kind == "PROOF" {
                    Kind::Proof
                } else {
                    Kind::Comment
                };
                let counts = m
                    .reasons
                    .iter()
                    .map(|(name, n)| {
                        let number = REASONS
                            .iter()
                            .position(|r| r == name)
                            .map_or(6, |i| i as i32 + 1);
                        (number, *n as i32)
                    })
                    .collect();
                (
                    kind,
                    m.content_id,
                    m.state,
                    m.hidden_at,
                    m.reviewed_at,
                    counts,
                )
            })
            .collect())
    }
}
