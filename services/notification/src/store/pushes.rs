//! Push rows: claimed with a lease (`SKIP LOCKED`, marked `SENDING` with the
//! claiming replica and an expiry) before any send, loaded with their
//! notification and device, finished with an outcome by the lease holder.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use moing_common::jobs::{DueQuery, claim_due};
use sqlx::Row;
use uuid::Uuid;

use super::{Store, devices::drop_token, naive, placeholders};

/// Pending rows whose time has come.
const DUE: DueQuery = DueQuery {
    table: "push",
    key: "id",
    due: "due_at",
    filter: "state = 'PENDING'",
};

/// Rows whose claim ran out: the replica that held it died or hangs.
const LEASE_EXPIRED: DueQuery = DueQuery {
    table: "push",
    key: "id",
    due: "lease_until",
    filter: "state = 'SENDING'",
};

/// Claims a row may take before it is given up as `UNKNOWN`: a push whose
/// every send crashed its replica is not retried for ever.
pub const MAX_CLAIMS: i32 = 5;

/// A claim: who holds it and until when.
#[derive(Debug, Clone)]
pub struct Lease {
    pub owner: String,
    pub until: DateTime<Utc>,
}

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
    /// Claims up to `limit` rows, expired leases first, then due pending
    /// rows, under `lease` (committed before any send). Rows past
    /// [`MAX_CLAIMS`] become `UNKNOWN` instead of being claimed again.
    pub async fn claim_pushes(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: &Lease,
    ) -> Result<Vec<u64>, sqlx::Error> {
        moing_common::transaction!(
            "notification.claim_pushes",
            Result<Vec<u64>, sqlx::Error>,
            {
                let mut tx = self.pool.begin().await?;
                let mut ids: Vec<u64> = claim_due(&mut tx, LEASE_EXPIRED, now, limit).await?;
                if !ids.is_empty() {
                    let exhausted = give_up(&mut tx, &ids, now).await?;
                    if !exhausted.is_empty() {
                        tracing::warn!(
                            rows = exhausted.len(),
                            "pushes given up after repeated lost claims"
                        );
                        ids.retain(|id| !exhausted.contains(id));
                    }
                }
                let room = limit.saturating_sub(ids.len() as u32);
                if room > 0 {
                    ids.extend(claim_due::<u64>(&mut tx, DUE, now, room).await?);
                }
                if !ids.is_empty() {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE push SET state = 'SENDING', lease_owner = ?, lease_until = ?, \
                         attempted_at = ?, attempts = attempts + 1 \
                         WHERE state IN ('PENDING', 'SENDING') AND id IN ({})",
                        placeholders(ids.len())
                    )))
                    .bind(&lease.owner)
                    .bind(naive(lease.until))
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

    /// Writes the outcomes (and deletes dead tokens) in one transaction; only
    /// rows `owner` still holds (a lease that ran out belongs to whoever
    /// claimed the row again). Sent rows are finished in one statement.
    pub async fn finish_pushes(
        &self,
        owner: &str,
        finished: &[Finished],
    ) -> Result<(), sqlx::Error> {
        moing_common::transaction!("notification.record", Result<(), sqlx::Error>, {
            let now = moing_common::clock::now();
            let mut tx = self.pool.begin().await?;
            let sent: Vec<u64> = finished
                .iter()
                .filter(|f| f.state == "SENT" && f.error.is_none())
                .map(|f| f.id)
                .collect();
            if !sent.is_empty() {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE push SET state = 'SENT', finished_at = ?, last_error = NULL, \
                     lease_owner = NULL, lease_until = NULL \
                     WHERE state = 'SENDING' AND lease_owner = ? AND id IN ({})",
                    placeholders(sent.len())
                )))
                .bind(naive(now))
                .bind(owner);
                for id in &sent {
                    q = q.bind(id);
                }
                q.execute(&mut *tx).await?;
            }
            for f in finished.iter().filter(|f| !(f.state == "SENT" && f.error.is_none())) {
                if let Some(token) = &f.dead_token {
                    drop_token(&mut tx, f.session, token).await?;
                }
                let error = f.error.as_ref().map(|e| e.chars().take(300).collect::<String>());
                if f.state == "PENDING" {
                    // Given up before the lease ran out: queued again.
                    sqlx::query(
                        "UPDATE push SET state = 'PENDING', due_at = ?, last_error = ?, \
                         lease_owner = NULL, lease_until = NULL \
                         WHERE id = ? AND state = 'SENDING' AND lease_owner = ?",
                    )
                    .bind(naive(now + chrono::Duration::seconds(RETRY_AFTER_SECS)))
                    .bind(error)
                    .bind(f.id)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
                    continue;
                }
                sqlx::query(
                    "UPDATE push SET state = ?, finished_at = ?, last_error = ?, \
                     lease_owner = NULL, lease_until = NULL \
                     WHERE id = ? AND state = 'SENDING' AND lease_owner = ?",
                )
                .bind(f.state)
                .bind(naive(now))
                .bind(error)
                .bind(f.id)
                .bind(owner)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}

/// A send given up before its lease ran out is retried this much later.
const RETRY_AFTER_SECS: i64 = 5;

/// Of the expired claims `ids`, those claimed [`MAX_CLAIMS`] times already
/// become `UNKNOWN` (returned): a push whose every send was lost is not
/// retried for ever.
async fn give_up(
    conn: &mut sqlx::MySqlConnection,
    ids: &[u64],
    now: DateTime<Utc>,
) -> Result<Vec<u64>, sqlx::Error> {
    let mut q = sqlx::query_scalar::<_, u64>(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM push WHERE attempts >= ? AND id IN ({})",
        placeholders(ids.len())
    )))
    .bind(MAX_CLAIMS);
    for id in ids {
        q = q.bind(id);
    }
    let exhausted = q.fetch_all(&mut *conn).await?;
    if !exhausted.is_empty() {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE push SET state = 'UNKNOWN', finished_at = ?, lease_owner = NULL, \
             lease_until = NULL WHERE id IN ({})",
            placeholders(exhausted.len())
        )))
        .bind(naive(now));
        for id in &exhausted {
            q = q.bind(id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(exhausted)
}
