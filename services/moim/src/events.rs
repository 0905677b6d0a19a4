//! Events moim consumes (`moing.events.v1.EventSink`): auth's MemberWithdrawn
//! ends the member's remaining memberships. Applied in the de-duplicating
//! transaction of moing-common's sink, so a redelivery has no second effect.

use moing_common::outbox::{EventHandler, HandleError, Outbox};
use moing_proto::moing::events::v1::{Event, MemberLeft, event::Payload};
use sqlx::{MySqlConnection, Row};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Consumer {
    pub outbox: Outbox,
}

#[tonic::async_trait]
impl EventHandler for Consumer {
    async fn handle(&self, conn: &mut MySqlConnection, event: &Event) -> Result<(), HandleError> {
        let Some(Payload::MemberWithdrawn(_)) = &event.payload else {
            return Ok(());
        };
        let Ok(member) = Uuid::parse_str(&event.actor_member_id) else {
            tracing::warn!(event_id = %event.id, "MemberWithdrawn without a member id ignored");
            return Ok(());
        };
        let now = moing_common::clock::now().naive_utc();
        let rows = sqlx::query(
            "SELECT m.team_id, t.name, t.member_count FROM membership m JOIN team t ON t.id = m.team_id \
             WHERE m.active_member = ? FOR UPDATE",
        )
        .bind(member)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let team: Uuid = row.try_get("team_id")?;
            let name: String = row.try_get("name")?;
            let count: i32 = row.try_get("member_count")?;
            sqlx::query("UPDATE membership SET state = 'WITHDRAWN', left_at = ? WHERE team_id = ? AND active_member = ?")
                .bind(now)
                .bind(team)
                .bind(member)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "UPDATE team SET member_count = member_count - 1 WHERE id = ? AND member_count > 0",
            )
            .bind(team)
            .execute(&mut *conn)
            .await?;
            self.outbox
                .enqueue(
                    conn,
                    Some(team),
                    Some(member),
                    Payload::MemberLeft(MemberLeft {
                        member_id: member.to_string(),
                        team_name: name,
                        member_count: (count - 1).max(0),
                        account_withdrawn: true,
                    }),
                )
                .await?;
        }
        Ok(())
    }
}
