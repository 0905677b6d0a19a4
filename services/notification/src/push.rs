//! The push dispatcher: sends the push rows the fan-out queued, at least
//! once, each with its notification's collapse identity.
//!
//! A round claims rows with a **lease**: `SKIP LOCKED`, then marked `SENDING`
//! with this replica's id and an expiry, committed before any HTTP call; a
//! round claims only as many rows as it sends at once (`fcm.concurrency`).
//! After FCM answers, the lease holder finishes each row: `SENT`, `FAILED`
//! (after retries), `DROPPED` (the token is dead and deleted), `SKIPPED` (no
//! credentials) or `CANCELLED` (the device went away, or the recipient
//! switched the category off since it was queued). A row whose lease runs
//! out — its replica was killed, or hangs — is claimed again by any replica
//! and sent again: the only pushes that can reach a phone twice are those in
//! flight at a crash, and they carry the same collapse identity
//! (`android.notification.tag`, `apns-collapse-id`, `data.notification_id`),
//! so the phone replaces the notification instead of adding one. A row claimed
//! [`MAX_CLAIMS`](crate::store::pushes::MAX_CLAIMS) times without an
//! outcome ends `UNKNOWN`.
//!
//! Every replica runs one dispatcher loop ([`Dispatcher::run`]), woken when
//! the event sink commits new pushes and every `jobs.push_interval_secs`.

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use sqlx::MySqlPool;
use uuid::Uuid;

use crate::{
    domain::{Category, MemberSettings, Platform},
    fcm::{FcmClient, Outcome, Push},
    store::{
        Store,
        pushes::{ClaimedPush, Finished, Lease},
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
    /// Sends given up before their lease ran out, queued again.
    pub requeued: usize,
}

impl Dispatched {
    fn add(&mut self, o: Dispatched) {
        self.sent += o.sent;
        self.failed += o.failed;
        self.dropped += o.dropped;
        self.skipped += o.skipped;
        self.cancelled += o.cancelled;
        self.requeued += o.requeued;
    }

    pub fn total(&self) -> usize {
        self.sent + self.failed + self.dropped + self.skipped + self.cancelled + self.requeued
    }
}

#[derive(Debug, Clone)]
pub struct Dispatcher {
    store: Store,
    fcm: Arc<FcmClient>,
    /// This replica, as the holder of its leases.
    owner: Arc<str>,
    /// Rings the loop when new pushes are committed.
    wake: Arc<Notify>,
    /// One round at a time per replica (the loop, a reminder tick and a
    /// broadcast may all drain): at most `fcm.concurrency` claims in flight.
    rounds: Arc<tokio::sync::Mutex<()>>,
}

struct Claimed {
    id: u64,
    session: Uuid,
    push: Option<Push>,
    /// The recipient has switched the notification's category off.
    off: bool,
}

/// How a claimed push's send ended.
enum Answer {
    /// FCM's answer.
    Fcm(Outcome),
    /// The send would have outlasted the lease: queued again.
    Requeue(String),
}

/// One claimed push after its send: the token it went to, and the answer.
type Sent = (u64, Uuid, Option<String>, Answer);

impl Dispatcher {
    pub fn new(pool: MySqlPool, fcm: Arc<FcmClient>) -> Self {
        Self {
            store: Store::new(pool),
            fcm,
            owner: format!(
                "{}/{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "replica".into()),
                Uuid::now_v7().simple()
            )
            .chars()
            .take(64)
            .collect::<String>()
            .into(),
            wake: Arc::new(Notify::new()),
            rounds: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// New pushes are committed: the loop runs a round now (or right after
    /// the one in progress).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The replica's dispatcher loop: drains whenever woken and every `every`.
    pub fn run(&self, every: Duration, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        moing_common::jobs::every_or_woken("push", every, self.wake.clone(), stop, move || {
            let d = this.clone();
            async move {
                d.drain(usize::MAX).await?;
                Ok(())
            }
        })
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

    /// Claims what it can send at once under a lease, sends, records the outcomes.
    pub async fn round(&self, now: DateTime<Utc>) -> Result<Dispatched, sqlx::Error> {
        let _one_at_a_time = self.rounds.lock().await;
        let concurrency = self.fcm.concurrency();
        let lease = self.fcm.lease();
        let claim = Lease {
            owner: self.owner.to_string(),
            until: now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(1)),
        };
        let ids = self
            .store
            .claim_pushes(now, concurrency as u32, &claim)
            .await?;
        if ids.is_empty() {
            return Ok(Dispatched::default());
        }
        let claimed = self.load(&ids).await?;
        // A send must end well inside the lease, or another replica sends too.
        let limit = lease.mul_f64(0.8);
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
                            Answer::Fcm(Outcome::Failed("switched off".into())),
                        ),
                        None => (
                            c.id,
                            c.session,
                            None,
                            Answer::Fcm(Outcome::Failed("no device".into())),
                        ),
                        Some(p) => {
                            let answer = match tokio::time::timeout(limit, fcm.send(&p)).await {
                                Ok(outcome) => Answer::Fcm(outcome),
                                Err(_) => Answer::Requeue("send outlasted the lease".into()),
                            };
                            (c.id, c.session, Some(p.token), answer)
                        }
                    }
                }
            })
            .buffer_unordered(concurrency)
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
        self.store.finish_pushes(&self.owner, &finished).await?;
        Ok(stats)
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
fn finish((id, session, token, answer): Sent, stats: &mut Dispatched) -> Finished {
    let outcome = match answer {
        Answer::Fcm(outcome) => outcome,
        Answer::Requeue(why) => {
            tracing::warn!(push_id = id, error = %why, "push queued again");
            stats.requeued += 1;
            return Finished {
                id,
                session,
                state: "PENDING",
                error: Some(why),
                dead_token: None,
            };
        }
    };
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
