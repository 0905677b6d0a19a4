//! Push rows: claimed with `SKIP LOCKED` and marked `SENDING` before any
//! send, loaded with their notification and device, finished with an outcome.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use moing_common::jobs::{DueQuery, claim_due};
use sqlx::Row;
use uuid::Uuid;

use super::{Store, devices::drop_token, naive, placeholders};

const DUE: DueQuery = DueQuery {
    table: "push",
    key: "id",
    due: "due_at",
    filter: "state = 'PENDING'",
};

/// A claimed push row with its notification and the session's device.
#[derive(Debug, Clone)]
pub struct ClaimedPush {
    pub id: u64,
    pub session: Uuid,
    pub member: Uuid,
    /// The stored category name.
    pub category: String,
    pub title: String,
    pub body: String,
    /// The stored data map with `notification_id` added.
    pub data: BTreeMap<String, String>,
    /// The device's token and stored platform, when the device is still there.
    pub token: Option<String>,
    pub platform: Option<String>,
}

/// How one push row ended.
#[derive(Debug, Clone)]
pub struct Finished {
    pub id: u64,
    pub session: Uuid,
    pub state: &'static str,
    pub error: Option<String>,
    /// A dead token to delete from the session's device.
    pub dead_token: Option<String>,
}

impl Store {
    /// Claims up to `limit` due pushes and marks them `SENDING` (committed).
    pub async fn claim_pushes(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<u64>, sqlx::Error> {
        moing_common::transaction!(
            "notification.claim_pushes",
            Result<Vec<u64>, sqlx::Error>,
            {
                let mut tx = self.pool.begin().await?;
                let ids: Vec<u64> = claim_due(&mut tx, DUE, now, limit).await?;
                if !ids.is_empty() {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE push SET state = 'SENDING', attempted_at = ?, attempts = attempts + 1 \
                     WHERE id IN ({})",
                    placeholders(ids.len())
                )))
                .bind(naive(now));
                    for id in &ids {
                        q = q.bind(id);
                    }
                    q.execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(ids)
            }
        )
    }

    /// The claimed rows with what their sending needs.
    pub async fn load_pushes(&self, ids: &[u64]) -> Result<Vec<ClaimedPush>, sqlx::Error> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT p.id, p.session_id, n.id AS notification_id, n.member_id, n.category, \
             n.title, n.body, n.data, d.token, d.platform FROM push p \
             JOIN notification n ON n.id = p.notification_id \
             LEFT JOIN device d ON d.session_id = p.session_id AND d.member_id = n.member_id \
             WHERE p.id IN ({})",
            placeholders(ids.len())
        )));
        for id in ids {
            q = q.bind(id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let notification: Uuid = row.try_get("notification_id")?;
            let data: String = row.try_get("data")?;
            let mut data: BTreeMap<String, String> =
                serde_json::from_str(&data).unwrap_or_default();
            data.insert("notification_id".into(), notification.to_string());
            out.push(ClaimedPush {
                id: row.try_get("id")?,
                session: row.try_get("session_id")?,
                member: row.try_get("member_id")?,
                category: row.try_get("category")?,
                title: row.try_get("title").unwrap_or_default(),
                body: row.try_get("body").unwrap_or_default(),
                data,
                token: row.try_get("token")?,
                platform: row.try_get("platform")?,
            });
        }
        Ok(out)
    }

    /// Writes the outcomes (and deletes dead tokens) in one transaction.
    pub async fn finish_pushes(&self, finished: &[Finished]) -> Result<(), sqlx::Error> {
        moing_common::transaction!("notification.record", Result<(), sqlx::Error>, {
            let now = naive(moing_common::clock::now());
            let mut tx = self.pool.begin().await?;
            for f in finished {
                if let Some(token) = &f.dead_token {
                    drop_token(&mut tx, f.session, token).await?;
                }
                sqlx::query(
                    "UPDATE push SET state = ?, finished_at = ?, last_error = ? WHERE id = ? AND state = 'SENDING'",
                )
                .bind(f.state)
                .bind(now)
                .bind(f.error.as_ref().map(|e| e.chars().take(300).collect::<String>()))
                .bind(f.id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Rows left `SENDING` since before `cutoff` become `UNKNOWN` (never resent).
    pub async fn expire_sending(
        &self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE push SET state = 'UNKNOWN', finished_at = ? WHERE state = 'SENDING' AND attempted_at < ?",
        )
        .bind(naive(now))
        .bind(naive(cutoff))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}
