//! Pokes (불 던지기) and the team score (모잉불): the pair row that spaces pokes
//! an hour apart, and the score rows (`domain::score` has the rule).

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use moing_proto::moing::{
    events::v1::{MemberPoked, event::Payload},
    mission::v1 as pb,
};
use sqlx::{MySqlConnection, Row};
use uuid::Uuid;

use super::Store;
use crate::{
    domain::{Mission, score::POINTS_PER_PROOF},
    error::MissionError,
};

/// Adds points for a done proof's slot (once per slot) inside the proof's transaction.
pub(super) async fn score_proof(
    conn: &mut MySqlConnection,
    team: Uuid,
    mission: Uuid,
    member: Uuid,
    day: chrono::NaiveDate,
) -> Result<(), sqlx::Error> {
    let first =
        sqlx::query("INSERT IGNORE INTO score_slot (mission_id, member_id, day) VALUES (?, ?, ?)")
            .bind(mission)
            .bind(member)
            .bind(day)
            .execute(&mut *conn)
            .await?;
    if first.rows_affected() == 1 {
        add(conn, team, POINTS_PER_PROOF).await?;
    }
    Ok(())
}

/// Adds a bonus once per (mission, period).
pub(super) async fn score_bonus(
    conn: &mut MySqlConnection,
    team: Uuid,
    mission: Uuid,
    period: chrono::NaiveDate,
    points: i64,
) -> Result<bool, sqlx::Error> {
    let first =
        sqlx::query("INSERT IGNORE INTO score_bonus (mission_id, period_start) VALUES (?, ?)")
            .bind(mission)
            .bind(period)
            .execute(&mut *conn)
            .await?;
    if first.rows_affected() == 1 {
        add(conn, team, points).await?;
    }
    Ok(first.rows_affected() == 1)
}

async fn add(conn: &mut MySqlConnection, team: Uuid, points: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO team_score (team_id, points, updated_at) VALUES (?, ?, ?) \
         ON DUPLICATE KEY UPDATE points = points + VALUES(points), updated_at = VALUES(updated_at)",
    )
    .bind(team)
    .bind(points)
    .bind(moing_common::clock::now().naive_utc())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A poke about to be recorded.
#[derive(Debug, Clone, Copy)]
pub struct NewPoke<'a> {
    pub mission: &'a Mission,
    pub team_name: &'a str,
    pub sender: Uuid,
    pub target: Uuid,
    pub message: &'a str,
    pub now: DateTime<Utc>,
}

impl Store {
    pub async fn team_score(
        &self,
        team: Uuid,
    ) -> Result<(i64, Option<DateTime<Utc>>), MissionError> {
        let row = sqlx::query("SELECT points, updated_at FROM team_score WHERE team_id = ?")
            .bind(team)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => {
                let at: NaiveDateTime = r.try_get("updated_at")?;
                Ok((
                    r.try_get("points")?,
                    Some(DateTime::from_naive_utc_and_offset(at, Utc)),
                ))
            }
            None => Ok((0, None)),
        }
    }

    /// When `sender` last poked `target`, if ever.
    pub async fn last_poke(
        &self,
        sender: Uuid,
        target: Uuid,
    ) -> Result<Option<DateTime<Utc>>, MissionError> {
        let at: Option<NaiveDateTime> = sqlx::query_scalar(
            "SELECT last_at FROM poke_pair WHERE sender_id = ? AND target_id = ?",
        )
        .bind(sender)
        .bind(target)
        .fetch_optional(&self.pool)
        .await?;
        Ok(at.map(|t| DateTime::from_naive_utc_and_offset(t, Utc)))
    }

    /// Records a poke unless the pair poked within the last hour (decided atomically
    /// on the pair row); returns the poke id, or None when it is too soon.
    pub async fn poke(&self, p: NewPoke<'_>) -> Result<Option<Uuid>, MissionError> {
        let NewPoke {
            mission: m,
            team_name,
            sender,
            target,
            message,
            now,
        } = p;
        moing_common::transaction!("mission.poke", Result<Option<Uuid>, MissionError>, {
            let mut tx = self.pool.begin().await?;
            let cutoff = (now - Duration::hours(1)).naive_utc();
            // The pair row is locked for the decision, so two concurrent pokes of the
            // same pair cannot both pass.
            sqlx::query(
                "INSERT IGNORE INTO poke_pair (sender_id, target_id, last_at) VALUES (?, ?, '1970-01-01')",
            )
            .bind(sender)
            .bind(target)
            .execute(&mut *tx)
            .await?;
            let last: NaiveDateTime = sqlx::query_scalar(
                "SELECT last_at FROM poke_pair WHERE sender_id = ? AND target_id = ? FOR UPDATE",
            )
            .bind(sender)
            .bind(target)
            .fetch_one(&mut *tx)
            .await?;
            if last > cutoff {
                return Ok(None);
            }
            sqlx::query("UPDATE poke_pair SET last_at = ? WHERE sender_id = ? AND target_id = ?")
                .bind(now.naive_utc())
                .bind(sender)
                .bind(target)
                .execute(&mut *tx)
                .await?;
            let id = Uuid::now_v7();
            sqlx::query("INSERT INTO poke (id, team_id, mission_id, sender_id, target_id, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(id)
                .bind(m.team_id)
                .bind(m.id)
                .bind(sender)
                .bind(target)
                .bind(message)
                .bind(now.naive_utc())
                .execute(&mut *tx)
                .await?;
            let event = Payload::MemberPoked(MemberPoked {
                poke_id: id.to_string(),
                mission_id: m.id.to_string(),
                mission_title: m.title.clone(),
                team_name: team_name.to_owned(),
                kind: pb::MissionKind::from(m.kind) as i32,
                target_member_id: target.to_string(),
                message: message.to_owned(),
            });
            self.outbox
                .enqueue(&mut tx, Some(m.team_id), Some(sender), event)
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(Some(id))
        })
    }
}
