//! Reminder occurrences: one keyed row each (`INSERT IGNORE`), claimed with
//! `SKIP LOCKED`, finished `DONE` or `EXPIRED` in the sending transaction.

use chrono::{DateTime, Utc};
use moing_common::jobs::{DueQuery, claim_due};
use sqlx::{MySqlConnection, Row};
use uuid::Uuid;

use super::{Store, naive, utc};
use crate::domain::reminders::{Occurrence, Payload};

const DUE: DueQuery = DueQuery {
    table: "reminder",
    key: "reminder_key",
    due: "due_at",
    filter: "state = 'PENDING'",
};

/// A claimed occurrence.
#[derive(Debug, Clone)]
pub struct Due {
    pub key: String,
    pub kind: String,
    pub payload: Payload,
    pub due: DateTime<Utc>,
}

impl Store {
    /// Writes an occurrence once; returns 1 when it is new.
    pub async fn plan_reminder(&self, o: &Occurrence) -> Result<usize, sqlx::Error> {
        let done = sqlx::query(
            "INSERT IGNORE INTO reminder (reminder_key, kind, team_id, payload, state, due_at) \
             VALUES (?, ?, ?, ?, 'PENDING', ?)",
        )
        .bind(&o.key)
        .bind(o.kind)
        .bind(o.team)
        .bind(serde_json::to_string(&o.payload).unwrap_or_else(|_| "{}".into()))
        .bind(naive(o.due))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() as usize)
    }

    /// The active teams of the event-fed copy: id, name, time zone name.
    pub async fn active_teams(&self) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
        sqlx::query("SELECT team_id, name, time_zone FROM team WHERE active = TRUE")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    row.try_get("team_id")?,
                    row.try_get("name")?,
                    row.try_get("time_zone")?,
                ))
            })
            .collect()
    }
}

/// Claims up to `limit` due occurrences in the caller's transaction.
pub async fn claim_reminders(
    conn: &mut MySqlConnection,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Due>, sqlx::Error> {
    let keys: Vec<String> = claim_due(&mut *conn, DUE, now, limit).await?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let row = sqlx::query("SELECT kind, payload, due_at FROM reminder WHERE reminder_key = ?")
            .bind(&key)
            .fetch_one(&mut *conn)
            .await?;
        let payload: String = row.try_get("payload")?;
        out.push(Due {
            kind: row.try_get("kind")?,
            payload: serde_json::from_str(&payload).unwrap_or_default(),
            due: utc(row.try_get("due_at")?),
            key,
        });
    }
    Ok(out)
}

/// Marks an occurrence `DONE` or `EXPIRED` with its recipient count.
pub async fn finish_reminder(
    conn: &mut MySqlConnection,
    key: &str,
    state: &str,
    count: usize,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE reminder SET state = ?, done_at = ?, recipient_count = ? WHERE reminder_key = ?",
    )
    .bind(state)
    .bind(naive(now))
    .bind(count as i64)
    .bind(key)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
