//! The transactional outbox and its relay, and the consumer side.
//!
//! **Producer.** [`Outbox::enqueue`] writes an event into the caller's
//! transaction: one `outbox` row plus one `outbox_pending` row per subscriber.
//! The change and its event commit together or not at all.
//!
//! **Relay.** One [`Relay`] task per subscriber locks that subscriber's row in
//! `outbox_relay_lock` with `FOR UPDATE SKIP LOCKED` (so of several replicas
//! exactly one relays at a time), reads the oldest pending events, calls the
//! subscriber's `EventSink.Deliver`, and deletes the pending rows only after the
//! acknowledgement. A failure leaves them pending and backs off; a crash between
//! delivery and delete means redelivery, never loss (at-least-once).
//!
//! **Consumer.** [`EventSinkService`] applies each event through an
//! [`EventHandler`] in a transaction that also inserts the event id into
//! `processed_event`; a redelivered event finds its id and is skipped, so the
//! effect happens exactly once.
//!
//! **Tracing.** Each event carries the W3C trace context of the span that
//! enqueued it (`Event.trace_context`). A relay round is its own `outbox.relay`
//! trace linked to every event it carries; the consumer applies each event in an
//! `event.consume` span that is a child of the enqueuing request and links to the
//! delivery, so a request's trace reaches the effects it caused in other services.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use moing_proto::moing::events::v1::{
    DeliverRequest, DeliverResponse, Event,
    event::Payload,
    event_sink_client::EventSinkClient,
    event_sink_server::{EventSink, EventSinkServer},
};
use opentelemetry::trace::TraceContextExt;
use prost::Message;
use sqlx::{MySqlConnection, MySqlPool, Row};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use uuid::Uuid;

use crate::{
    client::InternalChannel,
    error::{ApiError, FieldViolation},
};

/// Producer side: knows its own name and who subscribes to its events.
#[derive(Debug, Clone)]
pub struct Outbox {
    producer: Arc<str>,
    subscribers: Arc<[String]>,
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new(producer: &str, subscribers: Vec<String>) -> Self {
        Self {
            producer: producer.into(),
            subscribers: subscribers.into(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Writes `payload` into the caller's transaction; returns the event id.
    /// Call [`Outbox::wake`] after the commit to deliver without waiting for a poll.
    pub async fn enqueue(
        &self,
        conn: &mut MySqlConnection,
        team_id: Option<Uuid>,
        actor: Option<Uuid>,
        payload: Payload,
    ) -> Result<Uuid, sqlx::Error> {
        let id = Uuid::now_v7();
        let now = crate::clock::now();
        if let Some(team) = team_id {
            crate::observe::record_team(&team);
        }
        let event = Event {
            id: id.to_string(),
            producer: self.producer.to_string(),
            occurred_at: Some(timestamp(now)),
            team_id: team_id.map(|t| t.to_string()).unwrap_or_default(),
            actor_member_id: actor.map(|a| a.to_string()).unwrap_or_default(),
            // The request that caused the event: its consumer's span continues it.
            trace_context: crate::observe::inject(),
            payload: Some(payload),
        };
        let seq = sqlx::query(
            "INSERT INTO outbox (event_id, team_id, payload, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(team_id)
        .bind(event.encode_to_vec())
        .bind(now.naive_utc())
        .execute(&mut *conn)
        .await?
        .last_insert_id();
        for subscriber in self.subscribers.iter() {
            sqlx::query("INSERT INTO outbox_pending (subscriber, seq) VALUES (?, ?)")
                .bind(subscriber)
                .bind(seq)
                .execute(&mut *conn)
                .await?;
        }
        Ok(id)
    }

    /// Nudges the local relays after a commit.
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    pub fn subscribers(&self) -> &[String] {
        &self.subscribers
    }
}

/// The sequence number of the team's latest event in this service's outbox
/// (0 when none is kept): every change a service makes to a team writes an
/// event in the same transaction, so a cache of anything derived from the
/// team's data is current exactly while this is unchanged. Retention only
/// removes events days old, far longer than any such cache lives.
pub async fn team_version(pool: &sqlx::MySqlPool, team: Uuid) -> Result<u64, sqlx::Error> {
    let v: Option<u64> = sqlx::query_scalar("SELECT MAX(seq) FROM outbox WHERE team_id = ?")
        .bind(team)
        .fetch_one(pool)
        .await?;
    Ok(v.unwrap_or(0))
}

/// Re-exported where producers already look for it.
pub use crate::convert::timestamp;

/// Delivery settings for one subscriber.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    pub batch_size: u32,
    /// How often to look for events when nobody woke the relay.
    pub poll_interval: Duration,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            batch_size: 100,
            poll_interval: Duration::from_millis(250),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Delivers one subscriber's pending events.
#[derive(Debug, Clone)]
pub struct Relay {
    pool: MySqlPool,
    subscriber: String,
    client: EventSinkClient<InternalChannel>,
    options: RelayOptions,
    wake: Arc<Notify>,
}

/// What one delivery round did.
#[derive(Debug, PartialEq, Eq)]
pub enum Round {
    /// Another replica holds this subscriber's lock.
    Busy,
    /// Delivered and acknowledged this many events (0: nothing pending).
    Delivered(usize),
}

impl Relay {
    pub fn new(
        pool: MySqlPool,
        outbox: &Outbox,
        subscriber: &str,
        channel: InternalChannel,
        options: RelayOptions,
    ) -> Self {
        Self {
            pool,
            subscriber: subscriber.to_owned(),
            client: EventSinkClient::new(channel),
            options,
            wake: outbox.wake.clone(),
        }
    }

    /// One round: lock, read a batch, deliver, acknowledge. Errors leave events pending.
    pub async fn deliver_once(&self) -> anyhow::Result<Round> {
        sqlx::query("INSERT IGNORE INTO outbox_relay_lock (subscriber) VALUES (?)")
            .bind(&self.subscriber)
            .execute(&self.pool)
            .await?;
        let mut tx = self.pool.begin().await?;
        let locked = sqlx::query(
            "SELECT subscriber FROM outbox_relay_lock WHERE subscriber = ? FOR UPDATE SKIP LOCKED",
        )
        .bind(&self.subscriber)
        .fetch_optional(&mut *tx)
        .await?;
        if locked.is_none() {
            return Ok(Round::Busy);
        }
        let (seqs, events) = self.read_batch(&mut tx).await?;
        if seqs.is_empty() {
            tx.commit().await?;
            return Ok(Round::Delivered(0));
        }
        let span = self.round_span(&events);
        let result = self
            .client
            .clone()
            .deliver(DeliverRequest { events })
            .instrument(span)
            .await;
        match result {
            Ok(_) => {
                self.acknowledge(&mut tx, &seqs).await?;
                tx.commit().await?;
                Ok(Round::Delivered(seqs.len()))
            }
            Err(status) => {
                self.record_failure(&mut tx, seqs[0], &status).await?;
                tx.commit().await?;
                Err(anyhow::anyhow!(
                    "delivery to {} failed: {:?} {}",
                    self.subscriber,
                    status.code(),
                    status.message()
                ))
            }
        }
    }

    /// The oldest pending events of this subscriber, with their sequence numbers.
    async fn read_batch(
        &self,
        tx: &mut sqlx::MySqlConnection,
    ) -> anyhow::Result<(Vec<u64>, Vec<Event>)> {
        let rows = sqlx::query(
            "SELECT p.seq, o.payload FROM outbox_pending p JOIN outbox o ON o.seq = p.seq \
             WHERE p.subscriber = ? ORDER BY p.seq LIMIT ?",
        )
        .bind(&self.subscriber)
        .bind(self.options.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        let mut seqs = Vec::with_capacity(rows.len());
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            let seq: u64 = row.try_get("seq")?;
            let payload: Vec<u8> = row.try_get("payload")?;
            seqs.push(seq);
            events.push(Event::decode(payload.as_slice())?);
        }
        Ok((seqs, events))
    }

    /// A round is its own trace, linked to the trace of each event it carries.
    fn round_span(&self, events: &[Event]) -> tracing::Span {
        let span = tracing::info_span!(
            "outbox.relay",
            otel.kind = "producer",
            messaging.system = "moing-outbox",
            messaging.destination.name = %self.subscriber,
            messaging.batch.message_count = events.len(),
        );
        for event in events {
            span.add_link(
                crate::observe::extract(&event.trace_context)
                    .span()
                    .span_context()
                    .clone(),
            );
        }
        span
    }

    /// Delivered: the events leave this subscriber's queue.
    async fn acknowledge(
        &self,
        tx: &mut sqlx::MySqlConnection,
        seqs: &[u64],
    ) -> anyhow::Result<()> {
        let placeholders = vec!["?"; seqs.len()].join(",");
        let sql =
            format!("DELETE FROM outbox_pending WHERE subscriber = ? AND seq IN ({placeholders})");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&self.subscriber);
        for seq in seqs {
            q = q.bind(seq);
        }
        q.execute(&mut *tx).await?;
        Ok(())
    }

    /// Not delivered: the first event of the batch counts the attempt and keeps the error.
    async fn record_failure(
        &self,
        tx: &mut sqlx::MySqlConnection,
        seq: u64,
        status: &tonic::Status,
    ) -> anyhow::Result<()> {
        let message: String = status.message().chars().take(400).collect();
        sqlx::query(
            "UPDATE outbox_pending SET attempts = attempts + 1, last_error = ? \
             WHERE subscriber = ? AND seq = ?",
        )
        .bind(format!("{:?}: {message}", status.code()))
        .bind(&self.subscriber)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    /// Runs until `shutdown`; on shutdown it finishes the round in progress (flush).
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = self.options.initial_backoff;
        loop {
            let wait = match self.deliver_once().await {
                Ok(Round::Delivered(n)) if n > 0 => {
                    backoff = self.options.initial_backoff;
                    continue;
                }
                Ok(_) => {
                    backoff = self.options.initial_backoff;
                    self.options.poll_interval
                }
                Err(e) => {
                    tracing::warn!(subscriber = %self.subscriber, error = %e, "outbox delivery failed");
                    let wait = backoff;
                    backoff = (backoff * 2).min(self.options.max_backoff);
                    wait
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// Pending events for a subscriber and the age of the oldest one (seconds).
pub async fn backlog(pool: &MySqlPool, subscriber: &str) -> Result<(i64, f64), sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, \
         COALESCE(TIMESTAMPDIFF(MICROSECOND, MIN(o.created_at), ?), 0) AS age \
         FROM outbox_pending p JOIN outbox o ON o.seq = p.seq WHERE p.subscriber = ?",
    )
    .bind(crate::clock::now().naive_utc())
    .bind(subscriber)
    .fetch_one(pool)
    .await?;
    let n: i64 = row.try_get("n")?;
    let age: i64 = row.try_get("age")?;
    Ok((n, age as f64 / 1e6))
}

/// Deletes delivered events older than `older_than`, at most `limit` rows per call.
pub async fn purge_delivered(
    pool: &MySqlPool,
    older_than: DateTime<Utc>,
    limit: u32,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM outbox WHERE created_at < ? \
         AND NOT EXISTS (SELECT 1 FROM outbox_pending p WHERE p.seq = outbox.seq) LIMIT ?",
    )
    .bind(older_than.naive_utc())
    .bind(limit)
    .execute(pool)
    .await?
    .rows_affected())
}

/// A failure while applying an event; the relay retries the batch.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Other(#[from] anyhow::Error),
}

impl crate::db::LockConflict for HandleError {
    fn is_lock_conflict(&self) -> bool {
        match self {
            Self::Database(e) => e.is_lock_conflict(),
            Self::Other(e) => e.is_lock_conflict(),
        }
    }
}

/// A consumer's effect for one event, applied inside the de-duplicating transaction.
#[tonic::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    async fn handle(&self, conn: &mut MySqlConnection, event: &Event) -> Result<(), HandleError>;
}

/// Records `event_id` as processed in the caller's transaction. Returns false if
/// it already was (a redelivery): the caller then skips the effect.
pub async fn mark_processed(
    conn: &mut MySqlConnection,
    event_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("INSERT IGNORE INTO processed_event (event_id, processed_at) VALUES (?, ?)")
            .bind(event_id)
            .bind(crate::clock::now().naive_utc())
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The `moing.events.v1.EventSink` server of a consuming service.
pub struct EventSinkService<H> {
    pool: MySqlPool,
    handler: Arc<H>,
    /// Events of one delivery applied at once (1: in order).
    concurrency: usize,
}

impl<H> std::fmt::Debug for EventSinkService<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSinkService").finish_non_exhaustive()
    }
}

impl<H: EventHandler> EventSinkService<H> {
    pub fn server(pool: MySqlPool, handler: Arc<H>) -> EventSinkServer<Self> {
        EventSinkServer::new(Self::new(pool, handler))
    }

    /// The sink itself, for a consumer that wraps it (e.g. to act after the commit).
    pub fn new(pool: MySqlPool, handler: Arc<H>) -> Self {
        Self {
            pool,
            handler,
            concurrency: 1,
        }
    }

    /// Applies up to `n` events of a delivery at once, each in its own
    /// transaction, for a consumer whose effects do not depend on the order of
    /// events (notification's fan-out). The delivery answers once all are
    /// applied; any failure fails it, and the relay's retry skips those
    /// already applied.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Applies one event in its transaction: false when it was applied before.
    async fn apply(
        &self,
        event: &Event,
        id: Uuid,
        delivery: &opentelemetry::trace::SpanContext,
    ) -> Result<bool, HandleError> {
        // A child of the request that caused the event, linked to this delivery.
        let span = tracing::info_span!(
            "event.consume",
            otel.kind = "consumer",
            messaging.system = "moing-outbox",
            messaging.message.id = %id,
            event.producer = %event.producer,
            team_id = %event.team_id,
            trace_id = tracing::field::Empty,
        );
        crate::observe::adopt(&span, crate::observe::extract(&event.trace_context));
        span.add_link(delivery.clone());
        async {
            crate::transaction!("event_sink.apply", Result<bool, HandleError>, {
                let mut tx = self.pool.begin().await?;
                if !mark_processed(&mut tx, id).await? {
                    return Ok(false);
                }
                self.handler.handle(&mut tx, event).await?;
                tx.commit().await?;
                Ok(true)
            })
        }
        .instrument(span)
        .await
    }
}

#[tonic::async_trait]
impl<H: EventHandler> EventSink for EventSinkService<H> {
    async fn deliver(
        &self,
        request: Request<DeliverRequest>,
    ) -> Result<Response<DeliverResponse>, Status> {
        let events = request.into_inner().events;
        let mut ids = Vec::with_capacity(events.len());
        let mut violations = Vec::new();
        for (i, e) in events.iter().enumerate() {
            match Uuid::parse_str(&e.id) {
                Ok(id) if e.payload.is_some() => ids.push(id),
                _ => violations.push(FieldViolation {
                    field: format!("events[{i}]"),
                    description: "event needs an id and a payload".into(),
                }),
            }
        }
        if !violations.is_empty() {
            return Err(ApiError::invalid(violations).into());
        }
        let (mut applied, mut duplicates) = (0, 0);
        let delivery = tracing::Span::current()
            .context()
            .span()
            .span_context()
            .clone();
        let events: Vec<(&Event, Uuid)> = events.iter().zip(ids).collect();
        // In order, `concurrency` at a time; a failure stops the delivery
        // before the next events (in order when `concurrency` is 1).
        for chunk in events.chunks(self.concurrency) {
            let results = futures::future::join_all(
                chunk
                    .iter()
                    .map(|(event, id)| async { (*id, self.apply(event, *id, &delivery).await) }),
            )
            .await;
            for (id, result) in results {
                match result {
                    Ok(true) => applied += 1,
                    Ok(false) => duplicates += 1,
                    Err(HandleError::Database(e)) => {
                        tracing::warn!(event_id = %id, error = %e, "event not applied");
                        return Err(ApiError::unavailable("event consumer database").into());
                    }
                    Err(HandleError::Other(e)) => return Err(ApiError::internal(e).into()),
                }
            }
        }
        Ok(Response::new(DeliverResponse {
            applied,
            duplicates,
        }))
    }
}
