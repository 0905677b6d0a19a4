//! SQL of the mission service. Returns domain types; sqlx errors become
//! `MissionError` here (duplicate keys become the matching proof errors).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use moing_common::outbox::{Outbox, timestamp};
use moing_proto::moing::events::v1::{
    MissionCreated, MissionEnded, MissionSkipped, MissionUpdated, ProofDeleted, ProofSubmitted,
    event::Payload,
};
use sqlx::{MySqlPool, Row, mysql::MySqlRow};
use uuid::Uuid;

use crate::{
    domain::{Kind, Mission, Way, week_start},
    error::MissionError,
    progress::ProofRow,
};

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

fn mission(r: &MySqlRow) -> Result<Mission, MissionError> {
    let kind: String = r.try_get("kind")?;
    let way: String = r.try_get("way")?;
    let state: String = r.try_get("state")?;
    let deadline: Option<NaiveDateTime> = r.try_get("deadline")?;
    let ended_at: Option<NaiveDateTime> = r.try_get("ended_at")?;
    Ok(Mission {
        id: r.try_get("id")?,
        team_id: r.try_get("team_id")?,
        title: r.try_get("title")?,
        content: r.try_get("content")?,
        rule: r.try_get("rule")?,
        kind: Kind::parse(&kind),
        way: Way::parse(&way),
        deadline: deadline.map(utc),
        times_per_week: r.try_get("times_per_week")?,
        ended: state == "ENDED",
        end_reason: r.try_get("end_reason")?,
        ended_at: ended_at.map(utc),
        maker_id: r.try_get("maker_id")?,
        time_zone: r.try_get("time_zone")?,
        created_at: utc(r.try_get("created_at")?),
        updated_at: utc(r.try_get("updated_at")?),
    })
}

/// A stored proof (or skip).
#[derive(Debug, Clone)]
pub struct Proof {
    pub id: Uuid,
    pub team_id: Uuid,
    pub mission_id: Uuid,
    pub member_id: Uuid,
    pub skipped: bool,
    pub way: Way,
    pub text: Option<String>,
    pub link_url: Option<String>,
    pub photo_key: Option<String>,
    pub skip_reason: Option<String>,
    pub caption: String,
    pub day: NaiveDate,
    pub created_at: DateTime<Utc>,
}

fn proof(r: &MySqlRow) -> Result<Proof, MissionError> {
    let status: String = r.try_get("status")?;
    let way: String = r.try_get("way")?;
    Ok(Proof {
        id: r.try_get("id")?,
        team_id: r.try_get("team_id")?,
        mission_id: r.try_get("mission_id")?,
        member_id: r.try_get("member_id")?,
        skipped: status == "SKIPPED",
        way: Way::parse(&way),
        text: r.try_get("body_text")?,
        link_url: r.try_get("link_url")?,
        photo_key: r.try_get("photo_key")?,
        skip_reason: r.try_get("skip_reason")?,
        caption: r.try_get("caption")?,
        day: r.try_get("day")?,
        created_at: utc(r.try_get("created_at")?),
    })
}

fn progress_row(r: &MySqlRow) -> Result<ProofRow, MissionError> {
    let status: String = r.try_get("status")?;
    Ok(ProofRow {
        id: r.try_get("id")?,
        mission: r.try_get("mission_id")?,
        member: r.try_get("member_id")?,
        day: r.try_get("day")?,
        done: status == "DONE",
        at: utc(r.try_get("created_at")?),
    })
}

/// What a new proof carries.
#[derive(Debug, Clone)]
pub enum Body {
    Text(String),
    Link(String),
    Photo(String),
    Skip(String),
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: MySqlPool,
    outbox: Outbox,
}

const PROOF_COLUMNS: &str = "id, team_id, mission_id, member_id, status, way, body_text, link_url, photo_key, skip_reason, caption, day, created_at";

/// The range read of [`Store::team_rows`] (binds: team id, first day, last day):
/// one range of the covering index `ix_proof_progress`. `FORCE INDEX` pins that
/// plan whatever the table's statistics (MariaDB 10.11 also picks it unforced on
/// a small table). Public so that the EXPLAIN test and the benchmark read this
/// very text, not a copy.
pub const TEAM_ROWS_SQL: &str = "SELECT id, mission_id, member_id, day, status, created_at FROM proof FORCE INDEX (ix_proof_progress) \
     WHERE team_id = ? AND day BETWEEN ? AND ? AND deleted_at IS NULL";

impl Store {
    pub fn new(pool: MySqlPool, outbox: Outbox) -> Self {
        Self { pool, outbox }
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

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
                        kind: m.kind.number(),
                        way: m.way.number(),
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
        row.as_ref().map(mission).transpose()
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
        rows.iter().map(mission).collect()
    }

    pub async fn update(
        &self,
        m: &Mission,
        actor: Uuid,
        changed: Vec<String>,
    ) -> Result<(), MissionError> {
        moing_common::transaction!("mission.update", Result<(), MissionError>, {
            let mut tx = self.pool.begin().await?;
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
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, MissionError> {
        moing_common::transaction!("mission.end", Result<bool, MissionError>, {
            let id = m.id;
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query("UPDATE mission SET state = 'ENDED', end_reason = ?, ended_at = ?, updated_at = ? WHERE id = ? AND state = 'ACTIVE'")
                .bind(reason)
                .bind(now.naive_utc())
                .bind(now.naive_utc())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let ended = done.rows_affected() == 1;
            if ended {
                let reason_number = match reason {
                    "MANUAL" => 1,
                    "DEADLINE" => 2,
                    _ => 3,
                };
                self.outbox
                    .enqueue(
                        &mut tx,
                        Some(m.team_id),
                        actor,
                        Payload::MissionEnded(MissionEnded {
                            mission_id: id.to_string(),
                            mission_title: m.title.clone(),
                            kind: m.kind.number(),
                            reason: reason_number,
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
            let week = week_start(day);
            let mut tx = self.pool.begin().await?;
            // Submits to one mission take turns, and this locking read comes before
            // any plain one, so the snapshot of the all-members-done count below
            // holds every earlier submit: concurrent last proofs cannot each miss
            // the others' and lose the completion bonus (write skew).
            sqlx::query("SELECT id FROM mission WHERE id = ? FOR UPDATE")
                .bind(m.id)
                .execute(&mut *tx)
                .await?;
            let slot = match m.kind {
                Kind::Once => 1,
                Kind::Repeat => {
                    let used: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM proof WHERE mission_id = ? AND member_id = ? AND week_start = ? AND deleted_at IS NULL",
                    )
                    .bind(m.id)
                    .bind(member)
                    .bind(week)
                    .fetch_one(&mut *tx)
                    .await?;
                    let already_today: Option<i32> = sqlx::query_scalar(
                        "SELECT 1 FROM proof WHERE mission_id = ? AND member_id = ? AND live_day = ?",
                    )
                    .bind(m.id)
                    .bind(member)
                    .bind(day)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if already_today.is_some() {
                        return Err(MissionError::AlreadyToday);
                    }
                    if used >= i64::from(m.times_per_week.unwrap_or(1)) {
                        return Err(MissionError::WeeklyTargetReached);
                    }
                    used + 1
                }
            };
            let id = Uuid::now_v7();
            let (status, text, link, photo, skip) = match &body {
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
            .bind(member)
            .bind(status)
            .bind(m.way.as_str())
            .bind(text)
            .bind(link)
            .bind(photo)
            .bind(skip)
            .bind(caption)
            .bind(day)
            .bind(week)
            .bind(slot)
            .bind(m.kind == Kind::Once)
            .bind(now.naive_utc())
            .execute(&mut *tx)
            .await;
            if let Err(e) = inserted {
                if let sqlx::Error::Database(db) = &e
                    && db.code().as_deref() == Some("23000")
                {
                    let msg = db.message().to_owned();
                    return Err(if msg.contains("uk_proof_photo") {
                        MissionError::UploadAlreadyUsed
                    } else if msg.contains("uk_proof_once") {
                        MissionError::AlreadySubmitted
                    } else if msg.contains("uk_proof_day") {
                        MissionError::AlreadyToday
                    } else {
                        MissionError::WeeklyTargetReached
                    });
                }
                return Err(e.into());
            }
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {PROOF_COLUMNS} FROM proof WHERE id = ?"
            )))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let p = proof(&row)?;
            let day_pb = moing_common::convert::date(day);
            let event = match &body {
                Body::Skip(reason) => Payload::MissionSkipped(MissionSkipped {
                    proof_id: id.to_string(),
                    mission_id: m.id.to_string(),
                    mission_title: m.title.clone(),
                    team_name: team_name.to_owned(),
                    kind: m.kind.number(),
                    day: Some(day_pb),
                    reason: reason.clone(),
                }),
                _ => {
                    let (from, required) = match m.kind {
                        Kind::Once => (NaiveDate::default(), 1),
                        Kind::Repeat => (week, m.times_per_week.unwrap_or(1)),
                    };
                    let done: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM proof WHERE mission_id = ? AND member_id = ? AND deleted_at IS NULL AND status = 'DONE' AND day >= ?",
                    )
                    .bind(m.id)
                    .bind(member)
                    .bind(from)
                    .fetch_one(&mut *tx)
                    .await?;
                    Payload::ProofSubmitted(ProofSubmitted {
                        proof_id: id.to_string(),
                        mission_id: m.id.to_string(),
                        mission_title: m.title.clone(),
                        team_name: team_name.to_owned(),
                        kind: m.kind.number(),
                        way: m.way.number(),
                        day: Some(day_pb),
                        period_done_count: done as i32,
                        period_required_count: required,
                        period_complete: done >= i64::from(required),
                    })
                }
            };
            self.outbox
                .enqueue(&mut tx, Some(m.team_id), Some(member), event)
                .await?;
            if !matches!(body, Body::Skip(_)) {
                crate::pokes::score_proof(&mut tx, m.team_id, m.id, member, day).await?;
                // Bonus when every active member completed the mission (ONCE) or met
                // this week's target (REPEAT).
                let (period, required, bonus) = match m.kind {
                    Kind::Once => (NaiveDate::default(), 1, crate::pokes::ONCE_BONUS),
                    Kind::Repeat => (
                        week,
                        i64::from(m.times_per_week.unwrap_or(1)),
                        crate::pokes::WEEKLY_BONUS,
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
                    crate::pokes::score_bonus(&mut tx, m.team_id, m.id, period, bonus).await?;
                }
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
                let event = Payload::ProofDeleted(ProofDeleted {
                    proof_id: p.id.to_string(),
                    mission_id: p.mission_id.to_string(),
                    status: if p.skipped { 2 } else { 1 },
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
