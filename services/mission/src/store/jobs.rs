//! Background work of the mission service: ONCE missions end at their deadline
//! (claimed with SKIP LOCKED so two replicas never double-end), and team
//! endings arriving as events end the team's REPEAT missions.

use chrono::{DateTime, Utc};
use moing_common::{
    jobs::{DueQuery, claim_due},
    outbox::{EventHandler, HandleError, Outbox},
};
use moing_proto::moing::{
    events::v1::{Event, MissionEnded, event::Payload},
    mission::v1 as pb,
};
use sqlx::{MySqlConnection, MySqlPool, Row};
use uuid::Uuid;

use crate::domain::{EndReason, Kind};

const DUE: DueQuery = DueQuery {
    table: "mission",
    key: "id",
    due: "deadline",
    filter: "state = 'ACTIVE' AND kind = 'ONCE'",
};

async fn end_in(
    conn: &mut MySqlConnection,
    outbox: &Outbox,
    ids: &[Uuid],
    reason: EndReason,
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let mut ended = 0;
    for id in ids {
        let row = sqlx::query(
            "SELECT team_id, title, kind FROM mission WHERE id = ? AND state = 'ACTIVE'",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { continue };
        let team: Uuid = row.try_get("team_id")?;
        let title: String = row.try_get("title")?;
        let kind: String = row.try_get("kind")?;
        sqlx::query("UPDATE mission SET state = 'ENDED', end_reason = ?, ended_at = ?, updated_at = ? WHERE id = ?")
            .bind(reason.as_str())
            .bind(now.naive_utc())
            .bind(now.naive_utc())
            .bind(id)
            .execute(&mut *conn)
            .await?;
        outbox
            .enqueue(
                conn,
                Some(team),
                None,
                Payload::MissionEnded(MissionEnded {
                    mission_id: id.to_string(),
                    mission_title: title,
                    kind: pb::MissionKind::from(Kind::parse(&kind)) as i32,
                    reason: pb::MissionEndReason::from(reason) as i32,
                }),
            )
            .await?;
        ended += 1;
    }
    Ok(ended)
}

/// Ends ONCE missions whose deadline passed; returns how many this replica ended.
pub async fn end_due(
    pool: &MySqlPool,
    outbox: &Outbox,
    now: DateTime<Utc>,
    batch: u32,
) -> Result<usize, sqlx::Error> {
    moing_common::transaction!("mission.end_due", Result<usize, sqlx::Error>, {
        let mut tx = pool.begin().await?;
        let ids: Vec<Uuid> = claim_due(&mut tx, DUE, now, batch).await?;
        let ended = end_in(&mut tx, outbox, &ids, EndReason::Deadline, now).await?;
        tx.commit().await?;
        if ended > 0 {
            outbox.wake();
        }
        Ok(ended)
    })
}

/// moim's TeamFinished / TeamDisbanded end the team's active missions.
#[derive(Debug, Clone)]
pub struct TeamEvents {
    pub outbox: Outbox,
}

#[tonic::async_trait]
impl EventHandler for TeamEvents {
    async fn handle(&self, conn: &mut MySqlConnection, event: &Event) -> Result<(), HandleError> {
        if !matches!(
            event.payload,
            Some(Payload::TeamFinished(_)) | Some(Payload::TeamDisbanded(_))
        ) {
            return Ok(());
        }
        let Ok(team) = Uuid::parse_str(&event.team_id) else {
            return Ok(());
        };
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM mission WHERE team_id = ? AND state = 'ACTIVE' FOR UPDATE",
        )
        .bind(team)
        .fetch_all(&mut *conn)
        .await?;
        end_in(
            conn,
            &self.outbox,
            &ids,
            EndReason::TeamEnded,
            moing_common::clock::now(),
        )
        .await?;
        Ok(())
    }
}
