//! The push dispatcher: sends the push rows the fan-out queued.
//!
//! A round claims due `PENDING` rows with `SKIP LOCKED` and marks them
//! `SENDING` in a transaction that commits **before** any HTTP call: the
//! attempt is recorded first, so a crash (or a redelivered event, or a second
//! replica) never sends it again. After FCM answers, each row becomes `SENT`,
//! `FAILED` (after retries), `DROPPED` (the token is dead and deleted),
//! `SKIPPED` (no credentials) or `CANCELLED` (the device went away, or the
//! recipient switched the category off since it was queued). A row
//! left `SENDING` by a crash becomes `UNKNOWN` and is not retried: a missed
//! push beats a doubled one, and the inbox row is there either way.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use moing_common::jobs::{DueQuery, claim_due};
use sqlx::{MySqlPool, Row};
use uuid::Uuid;

use crate::{
    domain::{Category, MemberSettings},
    fcm::{FcmClient, Outcome, Platform, Push},
    store::{naive, settings_many, token_hash},
};

const DUE: DueQuery = DueQuery {
    table: "push",
    key: "id",
    due: "due_at",
    filter: "state = 'PENDING'",
};

/// What some rounds did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dispatched {
    pub sent: usize,
    pub failed: usize,
    pub dropped: usize,
    pub skipped: usize,
    pub cancelled: usize,
}

impl Dispatched {
    fn add(&mut self, o: Dispatched) {
        self.sent += o.sent;
        self.failed += o.failed;
        self.dropped += o.dropped;
        self.skipped += o.skipped;
        self.cancelled += o.cancelled;
    }

    pub fn total(&self) -> usize {
        self.sent + self.failed + self.dropped + self.skipped + self.cancelled
    }
}

#[derive(Debug, Clone)]
pub struct Dispatcher {
    pool: MySqlPool,
    fcm: Arc<FcmClient>,
}

struct Claimed {
    id: u64,
    session: Uuid,
    push: Option<Push>,
    /// The recipient has switched the notification's category off.
    off: bool,
}

fn list(n: usize) -> String {
    vec!["?"; n].join(",")
}

impl Dispatcher {
    pub fn new(pool: MySqlPool, fcm: Arc<FcmClient>) -> Self {
        Self { pool, fcm }
    }

    /// Rounds until nothing due is left (or `max_rounds`).
    pub async fn drain(&self, max_rounds: usize) -> Result<Dispatched, sqlx::Error> {
        self.drain_at(None, max_rounds).await
    }

    /// Like [`Dispatcher::drain`], sending what is due at `at` (default: now).
    pub async fn drain_at(
        &self,
        at: Option<DateTime<Utc>>,
        max_rounds: usize,
    ) -> Result<Dispatched, sqlx::Error> {
        let mut total = Dispatched::default();
        for _ in 0..max_rounds {
            let done = self
                .round(at.unwrap_or_else(moing_common::clock::now))
                .await?;
            if done.total() == 0 {
                break;
            }
            total.add(done);
        }
        Ok(total)
    }

    /// Claims one batch of due pushes, records the attempt, sends, records the outcome.
    pub async fn round(&self, now: DateTime<Utc>) -> Result<Dispatched, sqlx::Error> {
        let ids = moing_common::transaction!(
            "notification.claim_pushes",
            Result<Vec<u64>, sqlx::Error>,
            {
                let mut tx = self.pool.begin().await?;
                let ids: Vec<u64> = claim_due(&mut tx, DUE, now, self.fcm.batch_size()).await?;
                if !ids.is_empty() {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE push SET state = 'SENDING', attempted_at = ?, attempts = attempts + 1 \
                     WHERE id IN ({})",
                    list(ids.len())
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
        )?;
        if ids.is_empty() {
            return Ok(Dispatched::default());
        }

        let claimed = self.load(&ids).await?;
        let fcm = self.fcm.clone();
        let outcomes: Vec<(u64, Uuid, Option<String>, Outcome)> = stream::iter(claimed)
            .map(|c| {
                let fcm = fcm.clone();
                async move {
                    match c.push {
                        _ if c.off => (
                            c.id,
                            c.session,
                            None,
                            Outcome::Failed("switched off".into()),
                        ),
                        None => (c.id, c.session, None, Outcome::Failed("no device".into())),
                        Some(p) => {
                            let outcome = fcm.send(&p).await;
                            (c.id, c.session, Some(p.token), outcome)
                        }
                    }
                }
            })
            .buffer_unordered(self.fcm.concurrency())
            .collect()
            .await;
        self.record(outcomes).await
    }

    async fn load(&self, ids: &[u64]) -> Result<Vec<Claimed>, sqlx::Error> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT p.id, p.session_id, n.id AS notification_id, n.member_id, n.category, \
             n.title, n.body, n.data, d.token, d.platform FROM push p \
             JOIN notification n ON n.id = p.notification_id \
             LEFT JOIN device d ON d.session_id = p.session_id AND d.member_id = n.member_id \
             WHERE p.id IN ({})",
            list(ids.len())
        )));
        for id in ids {
            q = q.bind(id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        // The switches as they are now, not as they were when the push was
        // queued: a reminder held for quiet hours is not pushed if its
        // category was switched off meanwhile.
        let mut members = rows
            .iter()
            .map(|r| r.try_get("member_id"))
            .collect::<Result<Vec<Uuid>, _>>()?;
        members.sort_unstable();
        members.dedup();
        let settings = settings_many(&mut *self.pool.acquire().await?, &members).await?;
        let default = MemberSettings::default();
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let member: Uuid = row.try_get("member_id")?;
            let category: String = row.try_get("category")?;
            let off = Category::parse(&category)
                .is_some_and(|c| !settings.get(&member).unwrap_or(&default).allows(c));
            let notification: Uuid = row.try_get("notification_id")?;
            let token: Option<String> = row.try_get("token")?;
            let platform: Option<String> = row.try_get("platform")?;
            let data: String = row.try_get("data")?;
            let mut data: BTreeMap<String, String> =
                serde_json::from_str(&data).unwrap_or_default();
            data.insert("notification_id".into(), notification.to_string());
            let push = token.map(|token| Push {
                token,
                platform: platform
                    .as_deref()
                    .and_then(Platform::parse)
                    .unwrap_or(Platform::Android),
                title: row.try_get("title").unwrap_or_default(),
                body: row.try_get("body").unwrap_or_default(),
                tag: data.get("type").cloned().unwrap_or_default(),
                data,
            });
            out.push(Claimed {
                id: row.try_get("id")?,
                session: row.try_get("session_id")?,
                push,
                off,
            });
        }
        Ok(out)
    }

    async fn record(
        &self,
        outcomes: Vec<(u64, Uuid, Option<String>, Outcome)>,
    ) -> Result<Dispatched, sqlx::Error> {
        moing_common::transaction!("notification.record", Result<Dispatched, sqlx::Error>, {
            let now = naive(moing_common::clock::now());
            let mut stats = Dispatched::default();
            let mut tx = self.pool.begin().await?;
            for (id, session, token, outcome) in outcomes.iter().cloned() {
                let (state, error) = match &outcome {
                    Outcome::Sent(_) => {
                        stats.sent += 1;
                        ("SENT", None)
                    }
                    Outcome::Skipped => {
                        stats.skipped += 1;
                        ("SKIPPED", None)
                    }
                    Outcome::TokenInvalid(code) => {
                        stats.dropped += 1;
                        if let Some(token) = &token {
                            // Only this token: the session may have registered a new one meanwhile.
                            sqlx::query("DELETE FROM device WHERE session_id = ? AND token_hash = ?")
                                .bind(session)
                                .bind(token_hash(token))
                                .execute(&mut *tx)
                                .await?;
                            tracing::info!(session_id = %session, code = %code, "fcm token dropped");
                        }
                        ("DROPPED", Some(code.clone()))
                    }
                    Outcome::Failed(e) if token.is_none() => {
                        stats.cancelled += 1;
                        ("CANCELLED", Some(e.clone()))
                    }
                    Outcome::Failed(e) => {
                        stats.failed += 1;
                        tracing::warn!(push_id = id, error = %e, "push failed");
                        ("FAILED", Some(e.clone()))
                    }
                };
                // Push results by FCM outcome, for /metrics.
                moing_common::metrics::push_result(match &outcome {
                    Outcome::TokenInvalid(code) => code.as_str(),
                    _ => state,
                });
                sqlx::query(
                    "UPDATE push SET state = ?, finished_at = ?, last_error = ? WHERE id = ? AND state = 'SENDING'",
                )
                .bind(state)
                .bind(now)
                .bind(error.map(|e| e.chars().take(300).collect::<String>()))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(stats)

        })
    }

    /// Rows a crashed dispatcher left `SENDING` become `UNKNOWN` (never resent).
    pub async fn expire_stale(&self, older_than: Duration) -> Result<u64, sqlx::Error> {
        let cutoff = moing_common::clock::now()
            - chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::minutes(10));
        Ok(sqlx::query(
            "UPDATE push SET state = 'UNKNOWN', finished_at = ? WHERE state = 'SENDING' AND attempted_at < ?",
        )
        .bind(naive(moing_common::clock::now()))
        .bind(naive(cutoff))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}
