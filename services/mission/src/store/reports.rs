//! Reports on proofs and proof comments. A report hides the item for the
//! reporter at once; the third distinct reporter hides it for the whole team
//! pending the leader's review (restore or remove; the author may ask for it,
//! the leader decides). A restored item can be hidden again by new reporters.
//! Reports only add rows: the content itself is never overwritten.

use chrono::{DateTime, Utc};
use moing_moderation::{self as shared, ReportError, ReportReason, Standing};
use moing_proto::moing::{
    events::v1::{
        MissionContentHidden, MissionContentReported, MissionContentReviewed, event::Payload,
    },
    mission::v1 as pb,
    moderation::v1 as mpb,
};
use uuid::Uuid;

use super::Store;
use crate::{domain::ContentKind, error::MissionError};

/// A report about to be filed.
#[derive(Debug, Clone, Copy)]
pub struct NewReport<'a> {
    pub kind: ContentKind,
    pub id: Uuid,
    pub team: Uuid,
    pub mission: Uuid,
    pub author: Uuid,
    pub reporter: Uuid,
    pub reason: ReportReason,
    pub text: &'a str,
}

/// An item under moderation in a team.
#[derive(Debug, Clone)]
pub struct Moderated {
    pub kind: ContentKind,
    pub id: Uuid,
    pub state: String,
    pub hidden_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    /// Report counts by stored reason name.
    pub reasons: Vec<(String, i64)>,
}

impl Store {
    /// What `viewer` sees of an item (`privileged`: its author or the leader).
    pub async fn standing(
        &self,
        kind: ContentKind,
        id: Uuid,
        viewer: Uuid,
        privileged: bool,
    ) -> Result<Standing, MissionError> {
        Ok(shared::standing(&self.pool, kind.as_str(), id, viewer, privileged).await?)
    }

    /// Files a report; at the threshold the item goes under review for the team.
    pub async fn report(&self, r: NewReport<'_>) -> Result<(), MissionError> {
        moing_common::transaction!("mission.report", Result<(), MissionError>, {
            let mut tx = self.pool.begin().await?;
            let (count, hidden) = match shared::file(
                &mut tx,
                r.kind.as_str(),
                r.id,
                r.team,
                r.reporter,
                r.reason.as_str(),
                r.text,
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
                    Some(r.team),
                    Some(r.reporter),
                    Payload::MissionContentReported(MissionContentReported {
                        content_kind: pb::ReportedContentKind::from(r.kind) as i32,
                        content_id: r.id.to_string(),
                        mission_id: r.mission.to_string(),
                        content_author_member_id: r.author.to_string(),
                        reason: mpb::ReportReason::from(r.reason) as i32,
                        ..Default::default()
                    }),
                )
                .await?;
            if hidden {
                self.outbox
                    .enqueue(
                        &mut tx,
                        Some(r.team),
                        None,
                        Payload::MissionContentHidden(MissionContentHidden {
                            content_kind: pb::ReportedContentKind::from(r.kind) as i32,
                            content_id: r.id.to_string(),
                            mission_id: r.mission.to_string(),
                            content_author_member_id: r.author.to_string(),
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
        kind: ContentKind,
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
            if remove && kind == ContentKind::Proof {
                super::aggregates::unseal_for_proof(&mut tx, id).await?;
            }
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team),
                    Some(reviewer),
                    Payload::MissionContentReviewed(MissionContentReviewed {
                        content_kind: pb::ReportedContentKind::from(kind) as i32,
                        content_id: id.to_string(),
                        decision: if remove {
                            mpb::ReviewDecision::Remove
                        } else {
                            mpb::ReviewDecision::Restore
                        } as i32,
                        ..Default::default()
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(())
        })
    }

    /// Items under moderation in a team, newest first.
    pub async fn moderated(
        &self,
        team: Uuid,
        state: Option<&str>,
    ) -> Result<Vec<Moderated>, MissionError> {
        Ok(shared::moderated(&self.pool, team, state)
            .await?
            .into_iter()
            .map(|m| Moderated {
                kind: if m.kind == "PROOF" {
                    ContentKind::Proof
                } else {
                    ContentKind::Comment
                },
                id: m.content_id,
                reasons: m.reasons,
                state: m.state,
                hidden_at: m.hidden_at,
                reviewed_at: m.reviewed_at,
            })
            .collect())
    }

    /// The author and mission of a reported item, wherever it is.
    pub async fn reported_item(
        &self,
        kind: ContentKind,
        id: Uuid,
    ) -> Result<Option<(Uuid, Uuid)>, MissionError> {
        let sql = match kind {
            ContentKind::Proof => "SELECT member_id, mission_id FROM proof WHERE id = ?",
            ContentKind::Comment => {
                "SELECT c.member_id, p.mission_id FROM proof_comment c JOIN proof p ON p.id = c.proof_id WHERE c.id = ?"
            }
        };
        Ok(sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Who wrote an item of `team`: the proof's or the comment's author.
    pub async fn author_in_team(
        &self,
        kind: ContentKind,
        id: Uuid,
        team: Uuid,
    ) -> Result<Option<Uuid>, MissionError> {
        let sql = match kind {
            ContentKind::Proof => "SELECT member_id FROM proof WHERE id = ? AND team_id = ?",
            ContentKind::Comment => {
                "SELECT member_id FROM proof_comment WHERE id = ? AND team_id = ?"
            }
        };
        Ok(sqlx::query_scalar(sql)
            .bind(id)
            .bind(team)
            .fetch_optional(&self.pool)
            .await?)
    }
}
