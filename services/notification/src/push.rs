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

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use sqlx::MySqlPool;
use uuid::Uuid;

use crate::{
    domain::{Category, MemberSettings, Platform},
    fcm::{FcmClient, Outcome, Push},
    store::{
        Store,
        pushes::{ClaimedPush, Finished},
        settings_many,
    },
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
    store: Store,
    fcm: Arc<FcmClient>,
}

struct Claimed {
    id: u64,
    session: Uuid,
    push: Option<Push>,
    /// The recipient has switched the notification's category off.
    off: bool,
}

/// One claimed push after its send: the token it went to, and FCM's answer.
type Sent = (u64, Uuid, Option<String>, Outcome);

impl Dispatcher {
    pub fn new(pool: MySqlPool, fcm: Arc<FcmClient>) -> Self {
        Self {
            store: Store::new(pool),
            fcm,
        }
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
        let ids = self.store.claim_pushes(now, self.fcm.batch_size()).await?;
        if ids.is_empty() {
            return Ok(Dispatched::default());
        }
        let claimed = self.load(&ids).await?;
        let fcm = self.fcm.clone();
        let outcomes: Vec<Sent> = stream::iter(claimed)
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
        let rows = self.store.load_pushes(ids).await?;
        // The switches as they are now, not as they were when the push was
        // queued: a reminder held for quiet hours is not pushed if its
        // category was switched off meanwhile.
        let mut members: Vec<Uuid> = rows.iter().map(|r| r.member).collect();
        members.sort_unstable();
        members.dedup();
        let settings = settings_many(&mut *self.store.acquire().await?, &members).await?;
        let default = MemberSettings::default();
        Ok(rows
            .into_iter()
            .map(|row| {
                let off = Category::parse(&row.category)
                    .is_some_and(|c| !settings.get(&row.member).unwrap_or(&default).allows(c));
                claimed(row, off)
            })
            .collect())
    }

    async fn record(&self, outcomes: Vec<Sent>) -> Result<Dispatched, sqlx::Error> {
        let mut stats = Dispatched::default();
        let finished: Vec<Finished> = outcomes
            .into_iter()
            .map(|sent| finish(sent, &mut stats))
            .collect();
        self.store.finish_pushes(&finished).await?;
        Ok(stats)
    }

    /// Rows a crashed dispatcher left `SENDING` become `UNKNOWN` (never resent).
    pub async fn expire_stale(&self, older_than: Duration) -> Result<u64, sqlx::Error> {
        let now = moing_common::clock::now();
        let cutoff =
            now - chrono::Duration::from_std(older_than).unwrap_or(chrono::Duration::minutes(10));
        self.store.expire_sending(cutoff, now).await
    }
}

/// The push of a claimed row (none when the device went away).
fn claimed(row: ClaimedPush, off: bool) -> Claimed {
    let ClaimedPush {
        id,
        session,
        title,
        body,
        data,
        token,
        platform,
        ..
    } = row;
    let push = token.map(|token| Push {
        token,
        platform: platform
            .as_deref()
            .and_then(Platform::parse)
            .unwrap_or(Platform::Android),
        title,
        body,
        tag: data.get("type").cloned().unwrap_or_default(),
        // One notification on one device: the same identity on every attempt.
        collapse_id: data
            .get("notification_id")
            .cloned()
            .unwrap_or_else(|| format!("push-{id}")),
        data,
    });
    Claimed {
        id,
        session,
        push,
        off,
    }
}

/// How a send ends: the row's state, and the counts and metrics of it.
fn finish((id, session, token, outcome): Sent, stats: &mut Dispatched) -> Finished {
    let mut dead_token = None;
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
                tracing::info!(session_id = %session, code = %code, "fcm token dropped");
                dead_token = Some(token.clone());
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
    Finished {
        id,
        session,
        state,
        error,
        dead_token,
    }
}
