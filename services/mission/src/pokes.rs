//! Pokes (불 던지기) and the team score (모잉불).
//!
//! Score rule (documented in ScoreRule): +10 for the first done proof of a slot
//! (mission, member, day — a deleted and redone proof does not score twice),
//! +30 when every active member completed a ONCE mission, +50 when every active
//! member met a REPEAT mission's weekly target; level L starts at 100·L(L−1)/2
//! points (level 1 at 0, 2 at 100, 3 at 300, ...). Points only go up and are
//! added with `points = points + ?` in SQL, never read-modify-write.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use moing_common::outbox::Outbox;
use moing_proto::moing::events::v1::{MemberPoked, event::Payload};
use sqlx::{MySqlConnection, MySqlPool, Row};
use uuid::Uuid;

use crate::{domain::Mission, error::MissionError};

pub const POINTS_PER_PROOF: i64 = 10;
pub const ONCE_BONUS: i64 = 30;
pub const WEEKLY_BONUS: i64 = 50;
pub const LEVEL_STEP: i64 = 100;

/// (level, level start points, next level points) for `points`.
pub fn level(points: i64) -> (i32, i64, i64) {
    let start = |l: i64| LEVEL_STEP * l * (l - 1) / 2;
    let mut l = 1;
    while start(l + 1) <= points {
        l += 1;
    }
    (l as i32, start(l), start(l + 1))
}

/// The team's score on the wire; `with_rule` adds the documented rule.
pub fn score_pb(
    team: Uuid,
    points: i64,
    updated: Option<DateTime<Utc>>,
    with_rule: bool,
) -> moing_proto::moing::mission::v1::TeamScore {
    use moing_proto::moing::mission::v1 as pb;
    let (level, start, next) = level(points);
    pb::TeamScore {
        team_id: team.to_string(),
        points,
        level,
        level_start_points: start,
        next_level_points: next,
        points_to_next_level: next - points,
        rule: with_rule.then(|| pb::ScoreRule {
            points_per_done_proof: POINTS_PER_PROOF as i32,
            once_all_done_bonus: ONCE_BONUS as i32,
            weekly_all_done_bonus: WEEKLY_BONUS as i32,
            level_step_points: LEVEL_STEP as i32,
            description: "+10 per first done proof of a day, +30 when every member completes a one-time mission, +50 when every member meets a weekly target; level L starts at 100·L(L−1)/2 points".into(),
        }),
        updated_at: updated.map(moing_common::convert::timestamp),
    }
}

/// Adds points for a done proof's slot (once per slot) inside the proof's transaction.
pub async fn score_proof(
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
pub async fn score_bonus(
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

pub async fn team_score(
    pool: &MySqlPool,
    team: Uuid,
) -> Result<(i64, Option<DateTime<Utc>>), MissionError> {
    let row = sqlx::query("SELECT points, updated_at FROM team_score WHERE team_id = ?")
        .bind(team)
        .fetch_optional(pool)
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
    pool: &MySqlPool,
    sender: Uuid,
    target: Uuid,
) -> Result<Option<DateTime<Utc>>, MissionError> {
    let at: Option<NaiveDateTime> =
        sqlx::query_scalar("SELECT last_at FROM poke_pair WHERE sender_id = ? AND target_id = ?")
            .bind(sender)
            .bind(target)
            .fetch_optional(pool)
            .await?;
    Ok(at.map(|t| DateTime::from_naive_utc_and_offset(t, Utc)))
}

/// Records a poke unless the pair poked within the last hour (decided atomically
/// on the pair row); returns the poke id, or None when it is too soon.
#[allow(clippy::too_many_arguments)]
pub async fn poke(
    pool: &MySqlPool,
    outbox: &Outbox,
    m: &Mission,
    team_name: &str,
    sender: Uuid,
    target: Uuid,
    message: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, MissionError> {
    moing_common::transaction!("mission.poke", Result<Option<Uuid>, MissionError>, {
        let mut tx = pool.begin().await?;
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
            kind: m.kind.number(),
            target_member_id: target.to_string(),
            message: message.to_owned(),
        });
        outbox
            .enqueue(&mut tx, Some(m.team_id), Some(sender), event)
            .await?;
        tx.commit().await?;
        outbox.wake();
        Ok(Some(id))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_rise_on_triangular_thresholds() {
        assert_eq!(level(0), (1, 0, 100));
        assert_eq!(level(99), (1, 0, 100));
        assert_eq!(level(100), (2, 100, 300));
        assert_eq!(level(300), (3, 300, 600));
        assert_eq!(level(1000), (5, 1000, 1500));
    }
}
