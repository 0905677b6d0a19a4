//! Meeting schedules: a team's weekly slots and single meetings (JSON
//! columns), their replacement with its event, and the teams in their period
//! with their schedules (ListTeamsMeetingOn).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use moing_proto::moing::events::v1::event::Payload;
use sqlx::Row;
use uuid::Uuid;

use super::{Store, joined_team_columns, team, utc};
use crate::{
    domain::{SingleMeeting, Team, WeeklySlot},
    error::MoimError,
};

impl Store {
    pub async fn schedule(
        &self,
        team: Uuid,
    ) -> Result<(Vec<WeeklySlot>, Vec<SingleMeeting>, Option<DateTime<Utc>>), MoimError> {
        let row = sqlx::query("SELECT weekly_slots, single_meetings, updated_at FROM meeting_schedule WHERE team_id = ?")
            .bind(team)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok((Vec::new(), Vec::new(), None));
        };
        let weekly: String = row.try_get("weekly_slots")?;
        let singles: String = row.try_get("single_meetings")?;
        let updated: NaiveDateTime = row.try_get("updated_at")?;
        Ok((
            serde_json::from_str(&weekly).map_err(anyhow::Error::from)?,
            serde_json::from_str(&singles).map_err(anyhow::Error::from)?,
            Some(utc(updated)),
        ))
    }

    pub async fn set_schedule(
        &self,
        team: &Team,
        actor: Uuid,
        weekly: &[WeeklySlot],
        singles: &[SingleMeeting],
        event: Payload,
    ) -> Result<(), MoimError> {
        moing_common::transaction!("moim.set_schedule", Result<(), MoimError>, {
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO meeting_schedule (team_id, weekly_slots, single_meetings, updated_at) VALUES (?, ?, ?, ?) \
                 ON DUPLICATE KEY UPDATE weekly_slots = VALUES(weekly_slots), single_meetings = VALUES(single_meetings), updated_at = VALUES(updated_at)",
            )
            .bind(team.id)
            .bind(serde_json::to_string(weekly).map_err(anyhow::Error::from)?)
            .bind(serde_json::to_string(singles).map_err(anyhow::Error::from)?)
            .bind(moing_common::clock::now().naive_utc())
            .execute(&mut *tx)
            .await?;
            self.outbox
                .enqueue(&mut tx, Some(team.id), Some(actor), event.clone())
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(())

        })
    }

    /// Active (not disbanded) teams whose period contains `date`, with their schedules,
    /// ordered by id, starting after `after` (keyset pagination).
    pub async fn teams_with_schedules(
        &self,
        date: NaiveDate,
        zone: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<(Team, Vec<WeeklySlot>, Vec<SingleMeeting>)>, MoimError> {
        let sql = format!(
            "SELECT {}, s.weekly_slots, s.single_meetings FROM team t JOIN meeting_schedule s ON s.team_id = t.id \
             WHERE t.disbanded_at IS NULL AND t.start_date <= ? AND t.end_date >= ? \
             AND (? IS NULL OR t.time_zone = ?) AND (? IS NULL OR t.id > ?) ORDER BY t.id LIMIT ?",
            joined_team_columns()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(date)
            .bind(date)
            .bind(zone)
            .bind(zone)
            .bind(after)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let weekly: String = r.try_get("weekly_slots")?;
                let singles: String = r.try_get("single_meetings")?;
                Ok((
                    team(r)?,
                    serde_json::from_str(&weekly).map_err(anyhow::Error::from)?,
                    serde_json::from_str(&singles).map_err(anyhow::Error::from)?,
                ))
            })
            .collect()
    }
}
