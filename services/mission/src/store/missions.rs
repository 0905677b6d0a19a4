//! Missions: creation (at most 3 active REPEAT missions a team), edits, the
//! end, and the reads behind mission lists and the reminders.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use moing_common::outbox::timestamp;
use moing_proto::moing::{
    events::v1::{MissionCreated, MissionEnded, MissionUpdated, event::Payload},
    mission::v1 as pb,
};
use sqlx::Row;
use uuid::Uuid;

use super::{Store, mission};
use crate::{
    domain::{EndReason, Kind, Mission, week_start},
    error::MissionError,
};

impl Store {
    /// Inserts a mission; REPEAT missions are capped at 3 active per team
    /// (the count runs under a lock on the team's active REPEAT rows).
    pub async fn create(&self, m: &Mission, team_name: &str) -> Result<(), MissionError> {
        moing_common::transaction!("mission.create", Result<(), MissionError>, {
            let mut tx = self.pool.begin().await?;
            if m.kind == Kind::Repeat {
                let active: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM mission WHERE team_id = ? AND state = 'ACTIVE' AND kind = 'REPEAT' FOR UPDATE",
                )
                .bind(m.team_id)
                .fetch_one(&mut *tx)
                .await?;
                if active >= 3 {
                    return Err(MissionError::RepeatLimit);
                }
            }
            sqlx::query(
                "INSERT INTO mission (id, team_id, title, content, rule, kind, way, deadline, times_per_week, state, maker_id, time_zone, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?)",
            )
            .bind(m.id)
            .bind(m.team_id)
            .bind(&m.title)
            .bind(&m.content)
            .bind(&m.rule)
            .bind(m.kind.as_str())
            .bind(m.way.as_str())
            .bind(m.deadline.map(|d| d.naive_utc()))
            .bind(m.times_per_week)
            .bind(m.maker_id)
            .bind(&m.time_zone)
            .bind(m.created_at.naive_utc())
            .bind(m.updated_at.naive_utc())
            .execute(&mut *tx)
            .await?;
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(m.team_id),
                    Some(m.maker_id),
                    Payload::MissionCreated(MissionCreated {
                        mission_id: m.id.to_string(),
                        mission_title: m.title.clone(),
                        team_name: team_name.to_owned(),
                        kind: pb::MissionKind::from(m.kind) as i32,
                        way: pb::ProofWay::from(m.way) as i32,
                        deadline: m.deadline.map(timestamp),
                        times_per_week: m.times_per_week.unwrap_or(0),
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(())
        })
    }

    pub async fn mission(&self, team: Uuid, id: Uuid) -> Result<Option<Mission>, MissionError> {
        let row = sqlx::query("SELECT * FROM mission WHERE team_id = ? AND id = ?")
            .bind(team)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(mut m) = row.as_ref().map(mission).transpose()? else {
            return Ok(None);
        };
        if m.kind == Kind::Repeat {
            m.targets = self
                .targets(team, Some(id))
                .await?
                .remove(&id)
                .unwrap_or_default();
        }
        Ok(Some(m))
    }

    /// Earlier weekly targets of a team's REPEAT missions (of one, when
    /// given), per mission in date order.
    async fn targets(
        &self,
        team: Uuid,
        mission: Option<Uuid>,
    ) -> Result<HashMap<Uuid, Vec<(NaiveDate, i32)>>, MissionError> {
        let rows = sqlx::query(
            "SELECT mission_id, until_week, times_per_week FROM mission_target \
             WHERE team_id = ? AND (? IS NULL OR mission_id = ?) ORDER BY mission_id, until_week",
        )
        .bind(team)
        .bind(mission)
        .bind(mission)
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<Uuid, Vec<(NaiveDate, i32)>> = HashMap::new();
        for r in rows {
            out.entry(r.try_get("mission_id")?)
                .or_default()
                .push((r.try_get("until_week")?, r.try_get("times_per_week")?));
        }
        Ok(out)
    }

    /// The team's missions, newest first; `ended` filters by state when set.
    pub async fn missions(
        &self,
        team: Uuid,
        ended: Option<bool>,
    ) -> Result<Vec<Mission>, MissionError> {
        let rows = match ended {
            None => {
                sqlx::query("SELECT * FROM mission WHERE team_id = ? ORDER BY created_at DESC")
                    .bind(team)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(e) => sqlx::query(
                "SELECT * FROM mission WHERE team_id = ? AND state = ? ORDER BY created_at DESC",
            )
            .bind(team)
            .bind(if e { "ENDED" } else { "ACTIVE" })
            .fetch_all(&self.pool)
            .await?,
        };
        let mut missions: Vec<Mission> = rows.iter().map(mission).collect::<Result<_, _>>()?;
        if missions.iter().any(|m| m.kind == Kind::Repeat) {
            let mut targets = self.targets(team, None).await?;
            for m in &mut missions {
                m.targets = targets.remove(&m.id).unwrap_or_default();
            }
        }
        Ok(missions)
    }

    pub async fn update(
        &self,
        m: &Mission,
        actor: Uuid,
        changed: Vec<String>,
    ) -> Result<(), MissionError> {
        moing_common::transaction!("mission.update", Result<(), MissionError>, {
            let mut tx = self.pool.begin().await?;
            // A new weekly target applies from this week: the weeks before
            // keep the one they had (the first of this week's edits).
            let this_week = week_start(m.today(moing_common::clock::now()));
            sqlx::query(
                "INSERT INTO mission_target (team_id, mission_id, until_week, times_per_week) \
                 SELECT team_id, id, ?, times_per_week FROM mission \
                 WHERE id = ? AND kind = 'REPEAT' AND times_per_week <> ? \
                 ON DUPLICATE KEY UPDATE times_per_week = mission_target.times_per_week",
            )
            .bind(this_week)
            .bind(m.id)
            .bind(m.times_per_week)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE mission SET title = ?, content = ?, rule = ?, deadline = ?, times_per_week = ?, updated_at = ? WHERE id = ? AND state = 'ACTIVE'")
                .bind(&m.title)
                .bind(&m.content)
                .bind(&m.rule)
                .bind(m.deadline.map(|d| d.naive_utc()))
                .bind(m.times_per_week)
                .bind(moing_common::clock::now().naive_utc())
                .bind(m.id)
                .execute(&mut *tx)
                .await?;
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(m.team_id),
                    Some(actor),
                    Payload::MissionUpdated(MissionUpdated {
                        mission_id: m.id.to_string(),
                        mission_title: m.title.clone(),
                        changed_fields: changed.clone(),
                        deadline: m.deadline.map(timestamp),
                        times_per_week: m.times_per_week.unwrap_or(0),
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(())
        })
    }

    /// Ends a mission once; false when it had already ended.
    pub async fn end(
        &self,
        m: &Mission,
        actor: Option<Uuid>,
        reason: EndReason,
        now: DateTime<Utc>,
    ) -> Result<bool, MissionError> {
        moing_common::transaction!("mission.end", Result<bool, MissionError>, {
            let id = m.id;
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query("UPDATE mission SET state = 'ENDED', end_reason = ?, ended_at = ?, updated_at = ? WHERE id = ? AND state = 'ACTIVE'")
                .bind(reason.as_str())
                .bind(now.naive_utc())
                .bind(now.naive_utc())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let ended = done.rows_affected() == 1;
            if ended {
                self.outbox
                    .enqueue(
                        &mut tx,
                        Some(m.team_id),
                        actor,
                        Payload::MissionEnded(MissionEnded {
                            mission_id: id.to_string(),
                            mission_title: m.title.clone(),
                            kind: pb::MissionKind::from(m.kind) as i32,
                            reason: pb::MissionEndReason::from(reason) as i32,
                        }),
                    )
                    .await?;
            }
            tx.commit().await?;
            if ended {
                self.outbox.wake();
            }
            Ok(ended)
        })
    }

    /// Members with at least one done proof in the period (team progress).
    pub async fn done_members(
        &self,
        mission: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(i64, i64), MissionError> {
        let row = sqlx::query(
            "SELECT COUNT(DISTINCT member_id) AS members, COUNT(DISTINCT CASE WHEN day = ? THEN member_id END) AS today \
             FROM proof WHERE mission_id = ? AND deleted_at IS NULL AND status = 'DONE' AND day BETWEEN ? AND ?",
        )
        .bind(to)
        .bind(mission)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("members")?, row.try_get("today")?))
    }

    /// Active ONCE missions whose deadline falls in [from, to], earliest first.
    pub async fn due_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Mission>, MissionError> {
        let rows = sqlx::query("SELECT * FROM mission WHERE state = 'ACTIVE' AND deadline BETWEEN ? AND ? ORDER BY deadline, id")
            .bind(from.naive_utc())
            .bind(to.naive_utc())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(mission).collect()
    }
}
