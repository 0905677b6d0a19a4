//! Blocks between members.

use chrono::{DateTime, NaiveDateTime, Utc};
use moing_proto::moing::events::v1::{MemberBlocked, MemberUnblocked, event::Payload};
use sqlx::Row;
use uuid::Uuid;

use super::{Store, utc};
use crate::error::MoimError;

impl Store {
    pub async fn block(&self, blocker: Uuid, blocked: Uuid) -> Result<DateTime<Utc>, MoimError> {
        moing_common::transaction!("moim.block", Result<DateTime<Utc>, MoimError>, {
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query(
                "INSERT IGNORE INTO member_block (blocker_id, blocked_id, created_at) VALUES (?, ?, ?)",
            )
            .bind(blocker)
            .bind(blocked)
            .bind(moing_common::clock::now().naive_utc())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                self.outbox
                    .enqueue(
                        &mut tx,
                        None,
                        Some(blocker),
                        Payload::MemberBlocked(MemberBlocked {
                            blocker_member_id: blocker.to_string(),
                            blocked_member_id: blocked.to_string(),
                        }),
                    )
                    .await?;
            }
            let at: NaiveDateTime = sqlx::query_scalar(
                "SELECT created_at FROM member_block WHERE blocker_id = ? AND blocked_id = ?",
            )
            .bind(blocker)
            .bind(blocked)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(utc(at))
        })
    }

    pub async fn unblock(&self, blocker: Uuid, blocked: Uuid) -> Result<bool, MoimError> {
        moing_common::transaction!("moim.unblock", Result<bool, MoimError>, {
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query("DELETE FROM member_block WHERE blocker_id = ? AND blocked_id = ?")
                .bind(blocker)
                .bind(blocked)
                .execute(&mut *tx)
                .await?;
            let was = done.rows_affected() == 1;
            if was {
                self.outbox
                    .enqueue(
                        &mut tx,
                        None,
                        Some(blocker),
                        Payload::MemberUnblocked(MemberUnblocked {
                            blocker_member_id: blocker.to_string(),
                            blocked_member_id: blocked.to_string(),
                        }),
                    )
                    .await?;
            }
            tx.commit().await?;
            self.outbox.wake();
            Ok(was)

        })
    }

    pub async fn blocks_of(&self, blocker: Uuid) -> Result<Vec<(Uuid, DateTime<Utc>)>, MoimError> {
        let rows = sqlx::query("SELECT blocked_id, created_at FROM member_block WHERE blocker_id = ? ORDER BY created_at DESC")
            .bind(blocker)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("blocked_id")?, utc(r.try_get("created_at")?))))
            .collect()
    }

    /// Among `candidates`: who blocked `actor`, and whom `actor` blocked.
    pub async fn filter_blocked(
        &self,
        actor: Uuid,
        candidates: &[Uuid],
    ) -> Result<(Vec<Uuid>, Vec<Uuid>), MoimError> {
        if candidates.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let marks = vec!["?"; candidates.len()].join(",");
        let sql_a = format!(
            "SELECT blocker_id FROM member_block WHERE blocked_id = ? AND blocker_id IN ({marks})"
        );
        let sql_b = format!(
            "SELECT blocked_id FROM member_block WHERE blocker_id = ? AND blocked_id IN ({marks})"
        );
        let mut qa = sqlx::query_scalar(sqlx::AssertSqlSafe(sql_a)).bind(actor);
        let mut qb = sqlx::query_scalar(sqlx::AssertSqlSafe(sql_b)).bind(actor);
        for c in candidates {
            qa = qa.bind(c);
            qb = qb.bind(c);
        }
        Ok((
            qa.fetch_all(&self.pool).await?,
            qb.fetch_all(&self.pool).await?,
        ))
    }
}
