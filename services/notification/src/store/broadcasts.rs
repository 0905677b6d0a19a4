//! Broadcasts (one row per idempotency key, with the result a retry returns)
//! and the delivery statistics over inbox and push rows.

use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::{Store, fan_out, naive};
use crate::domain::{
    Draft,
    broadcasts::{InboxTally, Outcome, PushTally, StatsFilter},
};

/// An earlier broadcast with a key.
#[derive(Debug, Clone)]
pub struct Earlier {
    pub id: Uuid,
    pub request_hash: Vec<u8>,
    /// Its result, once it finished.
    pub outcome: Option<Outcome>,
}

fn i32_of(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Store {
    /// The broadcast with this idempotency key, if any.
    pub async fn broadcast_by_key(&self, key: &str) -> Result<Option<Earlier>, sqlx::Error> {
        let row =
            sqlx::query("SELECT id, request_hash, result FROM broadcast WHERE idempotency_key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let result: Option<String> = row.try_get("result")?;
        Ok(Some(Earlier {
            id: row.try_get("id")?,
            request_hash: row.try_get("request_hash")?,
            outcome: result.and_then(|r| serde_json::from_str(&r).ok()),
        }))
    }

    /// Records the broadcast and writes its inbox and push rows in one
    /// transaction; false (nothing written) when the key is taken meanwhile.
    pub async fn create_broadcast(
        &self,
        id: Uuid,
        key: &str,
        hash: &[u8],
        groups: &[(Draft, Vec<Uuid>)],
        now: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT IGNORE INTO broadcast (id, idempotency_key, request_hash, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(key)
        .bind(hash)
        .bind(naive(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let source = format!("broadcast:{id}");
        for (draft, members) in groups {
            fan_out(&mut tx, &source, draft, members, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// What the broadcast's rows say now (`unknown`: the teams moim did not know).
    pub async fn broadcast_outcome(
        &self,
        id: Uuid,
        unknown: Vec<String>,
    ) -> Result<Outcome, sqlx::Error> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, \
             CAST(COALESCE(SUM(push_state = 'HELD' OR (push_state = 'NO_DEVICE' AND visible_at > created_at)), 0) AS SIGNED) AS held, \
             CAST(COALESCE(SUM(push_state = 'NO_DEVICE'), 0) AS SIGNED) AS no_device \
             FROM notification WHERE broadcast_id = ?",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let pushes = sqlx::query(
            "SELECT CAST(COALESCE(SUM(p.state = 'SENT'), 0) AS SIGNED) AS sent, \
             CAST(COALESCE(SUM(p.state IN ('FAILED', 'UNKNOWN', 'DROPPED')), 0) AS SIGNED) AS failed \
             FROM push p JOIN notification n ON n.id = p.notification_id WHERE n.broadcast_id = ?",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(Outcome {
            recipient_count: i32_of(row.try_get("n")?),
            push_sent_count: i32_of(pushes.try_get("sent")?),
            push_failed_count: i32_of(pushes.try_get("failed")?),
            push_held_count: i32_of(row.try_get("held")?),
            no_device_count: i32_of(row.try_get("no_device")?),
            unknown_ids: unknown,
        })
    }

    /// Keeps the result a retry with the same key returns.
    pub async fn save_broadcast_outcome(
        &self,
        id: Uuid,
        outcome: &Outcome,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE broadcast SET result = ? WHERE id = ?")
            .bind(serde_json::to_string(outcome).unwrap_or_default())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn broadcast_exists(&self, id: Uuid) -> Result<bool, sqlx::Error> {
        let found: Option<Uuid> = sqlx::query_scalar("SELECT id FROM broadcast WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Inbox and push rows per stored type (and push state) under `filter`.
    pub async fn delivery_tallies(
        &self,
        filter: StatsFilter,
    ) -> Result<(Vec<InboxTally>, Vec<PushTally>), sqlx::Error> {
        let (condition, window, broadcast) = match filter {
            StatsFilter::Broadcast(id) => ("n.broadcast_id = ?", None, Some(id)),
            StatsFilter::Window(s, e) => {
                ("n.created_at >= ? AND n.created_at < ?", Some((s, e)), None)
            }
        };
        let bind_all = |sql: String| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            if let Some((s, e)) = window {
                q = q.bind(naive(s)).bind(naive(e));
            }
            if let Some(id) = broadcast {
                q = q.bind(id.as_bytes().to_vec());
            }
            q
        };
        let inbox = bind_all(format!(
            "SELECT n.type, COUNT(*) AS inbox, \
             CAST(SUM(n.read_at IS NOT NULL) AS SIGNED) AS read_n, \
             CAST(SUM(n.push_state IN ('QUIET', 'OFF', 'NO_DEVICE')) AS SIGNED) AS suppressed \
             FROM notification n WHERE {condition} GROUP BY n.type"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(InboxTally {
                kind: row.try_get("type")?,
                inbox: row.try_get("inbox")?,
                read: row.try_get("read_n")?,
                suppressed: row.try_get("suppressed")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
        let pushes = bind_all(format!(
            "SELECT n.type, p.state, COUNT(*) AS c FROM push p \
             JOIN notification n ON n.id = p.notification_id WHERE {condition} GROUP BY n.type, p.state"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(PushTally {
                kind: row.try_get("type")?,
                state: row.try_get("state")?,
                count: row.try_get("c")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
        Ok((inbox, pushes))
    }
}
