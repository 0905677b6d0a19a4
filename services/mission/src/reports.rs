//! Reports on proofs and proof comments. A report hides the item for the
//! reporter at once; the third distinct reporter hides it for the whole team
//! pending the author's or the leader's review (restore or remove). Reports
//! only add rows: the content itself is never overwritten.

use chrono::{DateTime, NaiveDateTime, Utc};
use moing_common::{db::is_unique_violation, outbox::Outbox};
use moing_proto::moing::{
    events::v1::{
        MissionContentHidden, MissionContentReported, MissionContentReviewed, event::Payload,
    },
    mission::v1 as pb,
};
use sqlx::{MySqlPool, Row};
use uuid::Uuid;

use crate::error::MissionError;

pub const THRESHOLD: i64 = 3;

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

#[derive(Debug, Clone)]
pub struct Reports {
    pub pool: MySqlPool,
    pub outbox: Outbox,
}

fn reason_name(n: i32) -> Option<&'static str> {
    [
        "SPAM",
        "FAKE_PROOF",
        "INAPPROPRIATE",
        "ABUSE",
        "PRIVACY",
        "OTHER",
    ]
    .get(usize::try_from(n - 1).ok()?)
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
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM content_report WHERE kind = ? AND content_id = ?",
        )
        .bind(kind.as_str())
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let mine: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM content_report WHERE kind = ? AND content_id = ? AND reporter_id = ?",
        )
        .bind(kind.as_str())
        .bind(id)
        .bind(viewer)
        .fetch_optional(&self.pool)
        .await?;
        let row = sqlx::query("SELECT state, hidden_at, reviewed_at FROM content_moderation WHERE kind = ? AND content_id = ?")
            .bind(kind.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let (state, hidden_at, reviewed_at) = match row {
            Some(r) => {
                let h: NaiveDateTime = r.try_get("hidden_at")?;
                let rv: Option<NaiveDateTime> = r.try_get("reviewed_at")?;
                (
                    Some(r.try_get::<String, _>("state")?),
                    Some(DateTime::from_naive_utc_and_offset(h, Utc)),
                    rv.map(|t| DateTime::from_naive_utc_and_offset(t, Utc)),
                )
            }
            None => (None, None, None),
        };
        let reviewer = viewer == author || leader;
        let (visibility, withheld) = match state.as_deref() {
            Some("REMOVED") => (pb::ContentVisibility::Removed, true),
            Some("PENDING") => (pb::ContentVisibility::PendingReview, !reviewer),
            _ if mine.is_some() => (pb::ContentVisibility::HiddenForMe, true),
            _ => (pb::ContentVisibility::Visible, false),
        };
        Ok(View {
            moderation: pb::Moderation {
                visibility: visibility as i32,
                reported_by_me: mine.is_some(),
                content_withheld: withheld,
                report_count: if reviewer { count as i32 } else { 0 },
            },
            withheld,
            state,
            hidden_at,
            reviewed_at,
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
        let now = Utc::now().naive_utc();
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query("INSERT INTO content_report (kind, content_id, reporter_id, team_id, reason, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(kind.as_str())
            .bind(id)
            .bind(reporter)
            .bind(team)
            .bind(reason)
            .bind(text)
            .bind(now)
            .execute(&mut *tx)
            .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(MissionError::AlreadyReported),
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
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
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM content_report WHERE kind = ? AND content_id = ? FOR UPDATE",
        )
        .bind(kind.as_str())
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if count >= THRESHOLD {
            let hidden = sqlx::query("INSERT IGNORE INTO content_moderation (kind, content_id, team_id, state, hidden_at) VALUES (?, ?, ?, 'PENDING', ?)")
                .bind(kind.as_str())
                .bind(id)
                .bind(team)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            if hidden.rows_affected() == 1 {
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
        }
        tx.commit().await?;
        self.outbox.wake();
        Ok(())
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
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE content_moderation SET state = ?, reviewed_at = ? WHERE kind = ? AND content_id = ? AND team_id = ? AND state = 'PENDING'")
            .bind(if remove { "REMOVED" } else { "RESTORED" })
            .bind(Utc::now().naive_utc())
            .bind(kind.as_str())
            .bind(id)
            .bind(team)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
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
        let rows = sqlx::query(
            "SELECT kind, content_id, state, hidden_at, reviewed_at FROM content_moderation \
             WHERE team_id = ? AND (? IS NULL OR state = ?) ORDER BY hidden_at DESC",
        )
        .bind(team)
        .bind(state)
        .bind(state)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let kind: String = r.try_get("kind")?;
            let kind = if kind == "PROOF" {
                Kind::Proof
            } else {
                Kind::Comment
            };
            let id: Uuid = r.try_get("content_id")?;
            let hidden: NaiveDateTime = r.try_get("hidden_at")?;
            let reviewed: Option<NaiveDateTime> = r.try_get("reviewed_at")?;
            let reasons = sqlx::query("SELECT reason, COUNT(*) AS n FROM content_report WHERE kind = ? AND content_id = ? GROUP BY reason")
                .bind(kind.as_str())
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
            let mut counts = Vec::new();
            for row in reasons {
                let name: String = row.try_get("reason")?;
                let n: i64 = row.try_get("n")?;
                let number = [
                    "SPAM",
                    "FAKE_PROOF",
                    "INAPPROPRIATE",
                    "ABUSE",
                    "PRIVACY",
                    "OTHER",
                ]
                .iter()
                .position(|r| *r == name)
                .map_or(6, |i| i as i32 + 1);
                counts.push((number, n as i32));
            }
            out.push((
                kind,
                id,
                r.try_get("state")?,
                DateTime::from_naive_utc_and_offset(hidden, Utc),
                reviewed.map(|t| DateTime::from_naive_utc_and_offset(t, Utc)),
                counts,
            ));
        }
        Ok(out)
    }
}
