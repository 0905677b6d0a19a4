//! Proofs and skips: the submit (slot rules decided by unique keys, the
//! completion bonus under the mission's row lock), deletion, and the reads
//! behind proof lists and progress.

use chrono::{DateTime, NaiveDate, Utc};
use moing_proto::moing::{
    events::v1::{MissionSkipped, ProofDeleted, ProofSubmitted, event::Payload},
    mission::v1 as pb,
};
use sqlx::MySqlConnection;
use uuid::Uuid;

use super::{PROOF_COLUMNS, Store, progress_row, proof};
use crate::{
    domain::{Body, Kind, Mission, Proof, progress::ProofRow, score, week_start},
    error::MissionError,
};

/// The range read of [`Store::team_rows`] (binds: team id, first day, last day):
/// one range of the covering index `ix_proof_progress`. `FORCE INDEX` pins that
/// plan whatever the table's statistics (MariaDB 10.11 also picks it unforced on
/// a small table). Public so that the EXPLAIN test and the benchmark read this
/// very text, not a copy.
pub const TEAM_ROWS_SQL: &str = "SELECT id, mission_id, member_id, day, status, created_at FROM proof FORCE INDEX (ix_proof_progress) \
     WHERE team_id = ? AND day BETWEEN ? AND ? AND deleted_at IS NULL";

/// One member's submit on one mission: the slot being filled.
struct Submit<'a> {
    m: &'a Mission,
    member: Uuid,
    day: NaiveDate,
    week: NaiveDate,
}

impl Store {
    /// Records a proof or skip. The unique keys decide races: a second proof the
    /// same day (or a second for a ONCE mission) fails with a clear error.
    #[allow(clippy::too_many_arguments)]
    pub async fn submit(
        &self,
        m: &Mission,
        team_name: &str,
        member: Uuid,
        body: Body,
        caption: &str,
        now: DateTime<Utc>,
        active_members: usize,
    ) -> Result<Proof, MissionError> {
        moing_common::transaction!("mission.submit", Result<Proof, MissionError>, {
            let day = m.today(now);
            let s = Submit { m, member, day, week: week_start(day) };
            let mut tx = self.pool.begin().await?;
            let slot = s.take_slot(&mut tx).await?;
            let id = Uuid::now_v7();
            s.insert(&mut tx, id, &body, caption, slot, now).await?;
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {PROOF_COLUMNS} FROM proof WHERE id = ?"
            )))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let p = proof(&row)?;
            let event = s.event(&mut tx, id, &body, team_name).await?;
            self.outbox
                .enqueue(&mut tx, Some(m.team_id), Some(member), event)
                .await?;
            if !matches!(body, Body::Skip(_)) {
                s.score(&mut tx, active_members).await?;
            }
            tx.commit().await?;
            self.outbox.wake();
            Ok(p)
        })
    }

    /// Whether a proof (live or deleted) already holds the photo at `key`. The
    /// unique key `uk_proof_photo` is what enforces it under concurrency.
    pub async fn photo_in_use(&self, key: &str) -> Result<bool, MissionError> {
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM proof WHERE photo_key = ? LIMIT 1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    pub async fn proof(&self, mission: Uuid, id: Uuid) -> Result<Option<Proof>, MissionError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PROOF_COLUMNS} FROM proof WHERE mission_id = ? AND id = ? AND deleted_at IS NULL")))
            .bind(mission)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(proof).transpose()
    }

    pub async fn delete_proof(&self, p: &Proof, now: DateTime<Utc>) -> Result<(), MissionError> {
        moing_common::transaction!("mission.delete_proof", Result<(), MissionError>, {
            let mut tx = self.pool.begin().await?;
            let done =
                sqlx::query("UPDATE proof SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL")
                    .bind(now.naive_utc())
                    .bind(p.id)
                    .execute(&mut *tx)
                    .await?;
            if done.rows_affected() == 1 {
                super::aggregates::unseal_for_proof(&mut tx, p.id).await?;
                let event = Payload::ProofDeleted(ProofDeleted {
                    proof_id: p.id.to_string(),
                    mission_id: p.mission_id.to_string(),
                    status: if p.skipped {
                        pb::ProofStatus::Skipped
                    } else {
                        pb::ProofStatus::Done
                    } as i32,
                    day: Some(moing_common::convert::date(p.day)),
                });
                self.outbox
                    .enqueue(&mut tx, Some(p.team_id), Some(p.member_id), event)
                    .await?;
            }
            tx.commit().await?;
            self.outbox.wake();
            Ok(())
        })
    }

    /// Live proofs of a mission, newest first.
    pub async fn proofs(
        &self,
        mission: Uuid,
        author: Option<(Uuid, bool)>,
    ) -> Result<Vec<Proof>, MissionError> {
        let rows = match author {
            None => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PROOF_COLUMNS} FROM proof WHERE mission_id = ? AND deleted_at IS NULL ORDER BY created_at DESC, id DESC")))
                .bind(mission)
                .fetch_all(&self.pool)
                .await?,
            Some((member, mine)) => {
                let op = if mine { "=" } else { "<>" };
                sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PROOF_COLUMNS} FROM proof WHERE mission_id = ? AND member_id {op} ? AND deleted_at IS NULL ORDER BY created_at DESC, id DESC")))
                    .bind(mission)
                    .bind(member)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(proof).collect()
    }

    /// Every live proof and skip of a member on a mission (for their standing).
    pub async fn member_rows(
        &self,
        team: Uuid,
        mission: Uuid,
        member: Uuid,
    ) -> Result<Vec<ProofRow>, MissionError> {
        let rows = sqlx::query(
            "SELECT id, mission_id, member_id, day, status, created_at FROM proof \
             WHERE mission_id = ? AND member_id = ? AND team_id = ? AND deleted_at IS NULL \
             AND NOT EXISTS (SELECT 1 FROM content_moderation c WHERE c.kind = 'PROOF' AND c.content_id = proof.id AND c.state = 'REMOVED')",
        )
        .bind(mission)
        .bind(member)
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(progress_row).collect()
    }

    /// Live proofs and skips of a team with `day` in [from, to], minus proofs a
    /// review removed. Reads one range of `ix_proof_progress`, which covers
    /// every column asked (InnoDB secondary indexes carry the primary key), plus
    /// the team's few removed proofs.
    pub async fn team_rows(
        &self,
        team: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ProofRow>, MissionError> {
        let removed: Vec<Uuid> = sqlx::query_scalar(
            "SELECT content_id FROM content_moderation WHERE team_id = ? AND state = 'REMOVED' AND kind = 'PROOF'",
        )
        .bind(team)
        .fetch_all(&self.pool)
        .await?;
        let rows = sqlx::query(TEAM_ROWS_SQL)
            .bind(team)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let p = progress_row(r)?;
            if !removed.contains(&p.id) {
                out.push(p);
            }
        }
        Ok(out)
    }
}

impl Submit<'_> {
    /// Locks the mission and finds the week slot (REPEAT: the next one, after
    /// the daily and weekly checks; ONCE: 1).
    async fn take_slot(&self, tx: &mut MySqlConnection) -> Result<i64, MissionError> {
        let (m, member) = (self.m, self.member);
        // Submits to one mission take turns, and this locking read comes before
        // any plain one, so the snapshot of the all-members-done count below
        // holds every earlier submit: concurrent last proofs cannot each miss
        // the others' and lose the completion bonus (write skew).
        sqlx::query("SELECT id FROM mission WHERE id = ? FOR UPDATE")
            .bind(m.id)
            .execute(&mut *tx)
            .await?;
        match m.kind {
            Kind::Once => Ok(1),
            Kind::Repeat => {
                let used: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM proof WHERE mission_id = ? AND member_id = ? AND week_start = ? AND deleted_at IS NULL",
                )
                .bind(m.id)
                .bind(member)
                .bind(self.week)
                .fetch_one(&mut *tx)
                .await?;
                let already_today: Option<i32> = sqlx::query_scalar(
                    "SELECT 1 FROM proof WHERE mission_id = ? AND member_id = ? AND live_day = ?",
                )
                .bind(m.id)
                .bind(member)
                .bind(self.day)
                .fetch_optional(&mut *tx)
                .await?;
                if already_today.is_some() {
                    return Err(MissionError::AlreadyToday);
                }
                if used >= i64::from(m.times_per_week.unwrap_or(1)) {
                    return Err(MissionError::WeeklyTargetReached);
                }
                Ok(used + 1)
            }
        }
    }

    /// Inserts the proof row; a duplicate key names the rule it broke.
    async fn insert(
        &self,
        tx: &mut MySqlConnection,
        id: Uuid,
        body: &Body,
        caption: &str,
        slot: i64,
        now: DateTime<Utc>,
    ) -> Result<(), MissionError> {
        let m = self.m;
        let (status, text, link, photo, skip) = match body {
            Body::Text(t) => ("DONE", Some(t.as_str()), None, None, None),
            Body::Link(l) => ("DONE", None, Some(l.as_str()), None, None),
            Body::Photo(p) => ("DONE", None, None, Some(p.as_str()), None),
            Body::Skip(r) => ("SKIPPED", None, None, None, Some(r.as_str())),
        };
        let inserted = sqlx::query(
            "INSERT INTO proof (id, team_id, mission_id, member_id, status, way, body_text, link_url, photo_key, skip_reason, caption, day, week_start, week_slot, is_once, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(m.team_id)
        .bind(m.id)
        .bind(self.member)
        .bind(status)
        .bind(m.way.as_str())
        .bind(text)
        .bind(link)
        .bind(photo)
        .bind(skip)
        .bind(caption)
        .bind(self.day)
        .bind(self.week)
        .bind(slot)
        .bind(m.kind == Kind::Once)
        .bind(now.naive_utc())
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23000") => {
                let msg = db.message();
                Err(if msg.contains("uk_proof_photo") {
                    MissionError::UploadAlreadyUsed
                } else if msg.contains("uk_proof_once") {
                    MissionError::AlreadySubmitted
                } else if msg.contains("uk_proof_day") {
                    MissionError::AlreadyToday
                } else {
                    MissionError::WeeklyTargetReached
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// MissionSkipped, or ProofSubmitted with the member's period counts.
    async fn event(
        &self,
        tx: &mut MySqlConnection,
        id: Uuid,
        body: &Body,
        team_name: &str,
    ) -> Result<Payload, MissionError> {
        let (m, day_pb) = (self.m, moing_common::convert::date(self.day));
        if let Body::Skip(reason) = body {
            return Ok(Payload::MissionSkipped(MissionSkipped {
                proof_id: id.to_string(),
                mission_id: m.id.to_string(),
                mission_title: m.title.clone(),
                team_name: team_name.to_owned(),
                kind: pb::MissionKind::from(m.kind) as i32,
                day: Some(day_pb),
                reason: reason.clone(),
            }));
        }
        let (from, required) = match m.kind {
            Kind::Once => (NaiveDate::default(), 1),
            Kind::Repeat => (self.week, m.times_per_week.unwrap_or(1)),
        };
        let done: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM proof WHERE mission_id = ? AND member_id = ? AND deleted_at IS NULL AND status = 'DONE' AND day >= ?",
        )
        .bind(m.id)
        .bind(self.member)
        .bind(from)
        .fetch_one(&mut *tx)
        .await?;
        Ok(Payload::ProofSubmitted(ProofSubmitted {
            proof_id: id.to_string(),
            mission_id: m.id.to_string(),
            mission_title: m.title.clone(),
            team_name: team_name.to_owned(),
            kind: pb::MissionKind::from(m.kind) as i32,
            way: pb::ProofWay::from(m.way) as i32,
            day: Some(day_pb),
            period_done_count: done as i32,
            period_required_count: required,
            period_complete: done >= i64::from(required),
        }))
    }

    /// The done proof's points, and the bonus when every active member
    /// completed the mission (ONCE) or met this week's target (REPEAT).
    async fn score(
        &self,
        tx: &mut MySqlConnection,
        active_members: usize,
    ) -> Result<(), MissionError> {
        let m = self.m;
        super::pokes::score_proof(tx, m.team_id, m.id, self.member, self.day).await?;
        let (period, required, bonus) = match m.kind {
            Kind::Once => (NaiveDate::default(), 1, score::ONCE_BONUS),
            Kind::Repeat => (
                self.week,
                i64::from(m.times_per_week.unwrap_or(1)),
                score::WEEKLY_BONUS,
            ),
        };
        let complete: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT member_id FROM proof WHERE mission_id = ? AND deleted_at IS NULL \
             AND status = 'DONE' AND day >= ? GROUP BY member_id HAVING COUNT(*) >= ?) done",
        )
        .bind(m.id)
        .bind(period)
        .bind(required)
        .fetch_one(&mut *tx)
        .await?;
        if active_members > 0 && complete as usize >= active_members {
            super::pokes::score_bonus(tx, m.team_id, m.id, period, bonus).await?;
        }
        Ok(())
    }
}
