//! `NotificationInternalService`: operator broadcasts (once per idempotency
//! key; inbox rows in one transaction, then pushes in bounded-concurrency
//! batches of at most 500) and delivery statistics.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use moing_common::{Validator, convert::from_timestamp};
use moing_proto::moing::notification::v1::{
    DeliveryStats, GetDeliveryStatsRequest, GetDeliveryStatsResponse, SendBroadcastRequest,
    SendBroadcastResponse, notification_internal_service_server::NotificationInternalService,
    send_broadcast_request::Audience,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{MySqlPool, Row};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    domain::{Draft, Kind},
    error::NotificationError,
    peers::Peers,
    push::Dispatcher,
    store::{self, naive},
};

#[derive(Debug, Clone)]
pub struct Internal {
    pub pool: MySqlPool,
    pub peers: Arc<Peers>,
    pub dispatcher: Dispatcher,
}

/// What a broadcast returned, kept so a retry returns the same.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Outcome {
    recipient_count: i32,
    push_sent_count: i32,
    push_failed_count: i32,
    push_held_count: i32,
    no_device_count: i32,
    unknown_ids: Vec<String>,
}

impl Outcome {
    fn response(self, id: Uuid) -> SendBroadcastResponse {
        SendBroadcastResponse {
            broadcast_id: id.to_string(),
            recipient_count: self.recipient_count,
            push_sent_count: self.push_sent_count,
            push_failed_count: self.push_failed_count,
            push_held_count: self.push_held_count,
            no_device_count: self.no_device_count,
            unknown_ids: self.unknown_ids,
        }
    }
}

struct Valid {
    key: String,
    members: Vec<Uuid>,
    teams: Vec<Uuid>,
    title: String,
    body: String,
    path: String,
    hash: Vec<u8>,
}

fn validate(req: &SendBroadcastRequest) -> Result<Valid, NotificationError> {
    let mut v = Validator::new();
    let key = v.text("idempotency_key", &req.idempotency_key, 1, 100);
    let title = v.text("title", &req.title, 1, 100);
    let body = v.text("body", &req.body, 1, 500);
    let path = req.path.trim();
    let path = if path.is_empty() {
        "/notifications".to_owned()
    } else {
        if !path.starts_with('/') || path.chars().count() > 300 {
            v.violation(
                "path",
                "must start with \"/\" and be at most 300 characters",
            );
        }
        path.to_owned()
    };
    let (mut members, mut teams) = (Vec::new(), Vec::new());
    match &req.audience {
        None => v.violation("audience", "set members or teams"),
        Some(Audience::Members(m)) => {
            if m.member_ids.is_empty() || m.member_ids.len() > 1000 {
                v.violation("members.member_ids", "must list 1 to 1000 members");
            }
            for (i, id) in m.member_ids.iter().enumerate() {
                if let Some(id) = v.id(&format!("members.member_ids[{i}]"), id) {
                    members.push(id);
                }
            }
        }
        Some(Audience::Teams(t)) => {
            if t.team_ids.is_empty() || t.team_ids.len() > 100 {
                v.violation("teams.team_ids", "must list 1 to 100 teams");
            }
            for (i, id) in t.team_ids.iter().enumerate() {
                if let Some(id) = v.id(&format!("teams.team_ids[{i}]"), id) {
                    teams.push(id);
                }
            }
        }
    }
    v.finish()?;
    let mut h = Sha256::new();
    for part in [
        key.as_str(),
        if teams.is_empty() { "members" } else { "teams" },
        &title,
        &body,
        &path,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    for id in members.iter().chain(teams.iter()) {
        h.update(id.as_bytes());
    }
    Ok(Valid {
        key,
        members,
        teams,
        title,
        body,
        path,
        hash: h.finalize().to_vec(),
    })
}

fn i32_of(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Internal {
    /// The earlier broadcast with this key: its id, and its result when finished.
    async fn existing(
        &self,
        key: &str,
        hash: &[u8],
    ) -> Result<Option<(Uuid, Option<Outcome>)>, NotificationError> {
        let row =
            sqlx::query("SELECT id, request_hash, result FROM broadcast WHERE idempotency_key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let stored: Vec<u8> = row
            .try_get("request_hash")
            .map_err(NotificationError::from)?;
        if stored != hash {
            return Err(NotificationError::IdempotencyKeyConflict);
        }
        let id: Uuid = row.try_get("id").map_err(NotificationError::from)?;
        let result: Option<String> = row.try_get("result").map_err(NotificationError::from)?;
        Ok(Some((
            id,
            result.and_then(|r| serde_json::from_str(&r).ok()),
        )))
    }

    /// Members of the requested teams (first listed team wins) and the unknown teams.
    async fn resolve_teams(
        &self,
        teams: &[Uuid],
    ) -> Result<(Vec<(Uuid, Option<(Uuid, String)>)>, Vec<String>), NotificationError> {
        let peers = self.peers.clone();
        let answers: Vec<(Uuid, Result<_, _>)> = stream::iter(teams.iter().copied())
            .map(|t| {
                let peers = peers.clone();
                async move { (t, peers.team(t).await) }
            })
            .buffered(8)
            .collect()
            .await;
        let mut seen = HashMap::new();
        let mut out = Vec::new();
        let mut unknown = Vec::new();
        for (team, answer) in answers {
            match answer {
                Ok(Some(info)) => {
                    for m in info.members {
                        if seen.insert(m, team).is_none() {
                            out.push((m, Some((team, info.name.clone()))));
                        }
                    }
                }
                Ok(None) => unknown.push(team.to_string()),
                Err(e) => {
                    tracing::warn!(error = %e, "broadcast: moim could not resolve teams");
                    return Err(NotificationError::Unavailable("moim"));
                }
            }
        }
        Ok((out, unknown))
    }

    async fn outcome(&self, id: Uuid, unknown: Vec<String>) -> Result<Outcome, sqlx::Error> {
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

    async fn broadcast(
        &self,
        req: SendBroadcastRequest,
    ) -> Result<SendBroadcastResponse, NotificationError> {
        moing_common::transaction!("notification.broadcast", Result<SendBroadcastResponse, NotificationError>, {
            let valid = validate(&req)?;
            if let Some((id, result)) = self.existing(&valid.key, &valid.hash).await? {
                let outcome = match result {
                    Some(o) => o,
                    None => self.outcome(id, vec![]).await?,
                };
                return Ok(outcome.response(id));
            }
            let (recipients, unknown) = if valid.teams.is_empty() {
                let mut seen = std::collections::HashSet::new();
                let members = valid
                    .members
                    .iter()
                    .copied()
                    .filter(|m| seen.insert(*m))
                    .map(|m| (m, None))
                    .collect();
                (members, vec![])
            } else {
                self.resolve_teams(&valid.teams).await?
            };
            let id = Uuid::now_v7();
            let now = moing_common::clock::now();
            let mut tx = self.pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT IGNORE INTO broadcast (id, idempotency_key, request_hash, created_at) VALUES (?, ?, ?, ?)",
            )
            .bind(id)
            .bind(&valid.key)
            .bind(&valid.hash)
            .bind(naive(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                // A concurrent call with the same key won the race.
                tx.rollback().await?;
                return match self.existing(&valid.key, &valid.hash).await? {
                    Some((id, result)) => Ok(result.unwrap_or_default().response(id)),
                    None => Err(NotificationError::Unavailable("the notification database")),
                };
            }
            // One draft per team (the inbox row carries it); members-only has none.
            let mut groups: BTreeMap<Option<Uuid>, (String, Vec<Uuid>)> = BTreeMap::new();
            for (member, team) in recipients {
                let (team_id, name) = match team {
                    Some((t, n)) => (Some(t), n),
                    None => (None, String::new()),
                };
                groups
                    .entry(team_id)
                    .or_insert_with(|| (name, vec![]))
                    .1
                    .push(member);
            }
            let source = format!("broadcast:{id}");
            for (team, (name, members)) in groups {
                let mut draft = Draft::new(Kind::Broadcast, team, &name, None)
                    .text(valid.title.clone(), valid.body.clone())
                    .path(valid.path.clone())
                    .with("broadcast_id", id.to_string());
                draft.broadcast_id = Some(id);
                store::fan_out(&mut tx, &source, &draft, &members, now).await?;
            }
            tx.commit().await?;
            if let Err(e) = self.dispatcher.drain(100).await {
                tracing::warn!(broadcast_id = %id, error = %e, "broadcast pushes left to the push job");
            }
            let outcome = self.outcome(id, unknown).await?;
            sqlx::query("UPDATE broadcast SET result = ? WHERE id = ?")
                .bind(serde_json::to_string(&outcome).unwrap_or_default())
                .bind(id)
                .execute(&self.pool)
                .await?;
            tracing::info!(broadcast_id = %id, recipients = outcome.recipient_count, sent = outcome.push_sent_count, "broadcast sent");
            Ok(outcome.response(id))

        })
    }

    async fn stats(
        &self,
        req: GetDeliveryStatsRequest,
    ) -> Result<GetDeliveryStatsResponse, NotificationError> {
        let mut v = Validator::new();
        let (filter, binds): (&str, Vec<Vec<u8>>);
        let mut window: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
        if !req.broadcast_id.trim().is_empty() {
            let id = v.id("broadcast_id", &req.broadcast_id);
            v.finish()?;
            let Some(id) = id else {
                return Err(NotificationError::BroadcastNotFound);
            };
            let exists: Option<Uuid> = sqlx::query_scalar("SELECT id FROM broadcast WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
            if exists.is_none() {
                return Err(NotificationError::BroadcastNotFound);
            }
            filter = "n.broadcast_id = ?";
            binds = vec![id.as_bytes().to_vec()];
        } else {
            let start = req.start_time.as_ref().and_then(from_timestamp);
            let end = req.end_time.as_ref().and_then(from_timestamp);
            if start.is_none() {
                v.violation("start_time", "is required unless broadcast_id is set");
            }
            if end.is_none() {
                v.violation("end_time", "is required unless broadcast_id is set");
            }
            if let (Some(s), Some(e)) = (start, end) {
                if e <= s {
                    v.violation("end_time", "must be after start_time");
                } else if e - s > chrono::Duration::days(31) {
                    v.violation("end_time", "the window is at most 31 days");
                }
                window = Some((s, e));
            }
            v.finish()?;
            filter = "n.created_at >= ? AND n.created_at < ?";
            binds = vec![];
        }
        let bind_all = |sql: String| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            if let Some((s, e)) = window {
                q = q.bind(naive(s)).bind(naive(e));
            }
            for b in &binds {
                q = q.bind(b.clone());
            }
            q
        };
        let inbox = bind_all(format!(
            "SELECT n.type, COUNT(*) AS inbox, \
             CAST(SUM(n.read_at IS NOT NULL) AS SIGNED) AS read_n, \
             CAST(SUM(n.push_state IN ('QUIET', 'OFF', 'NO_DEVICE')) AS SIGNED) AS suppressed \
             FROM notification n WHERE {filter} GROUP BY n.type"
        ))
        .fetch_all(&self.pool)
        .await?;
        let pushes = bind_all(format!(
            "SELECT n.type, p.state, COUNT(*) AS c FROM push p \
             JOIN notification n ON n.id = p.notification_id WHERE {filter} GROUP BY n.type, p.state"
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut by: BTreeMap<i32, DeliveryStats> = BTreeMap::new();
        for row in &inbox {
            let kind: String = row.try_get("type")?;
            let number = Kind::parse(&kind).map(Kind::number).unwrap_or(0);
            let s = by.entry(number).or_insert_with(|| DeliveryStats {
                r#type: number,
                ..Default::default()
            });
            s.inbox_count += row.try_get::<i64, _>("inbox")?;
            s.read_count += row.try_get::<i64, _>("read_n")?;
            s.push_suppressed_count += row.try_get::<i64, _>("suppressed")?;
        }
        for row in &pushes {
            let kind: String = row.try_get("type")?;
            let number = Kind::parse(&kind).map(Kind::number).unwrap_or(0);
            let state: String = row.try_get("state")?;
            let c: i64 = row.try_get("c")?;
            let s = by.entry(number).or_insert_with(|| DeliveryStats {
                r#type: number,
                ..Default::default()
            });
            match state.as_str() {
                "SENT" => s.push_sent_count += c,
                "FAILED" | "UNKNOWN" => s.push_failed_count += c,
                "DROPPED" => s.token_dropped_count += c,
                "SKIPPED" | "CANCELLED" => s.push_suppressed_count += c,
                _ => s.push_pending_count += c,
            }
        }
        let mut total = DeliveryStats::default();
        for s in by.values() {
            total.inbox_count += s.inbox_count;
            total.read_count += s.read_count;
            total.push_sent_count += s.push_sent_count;
            total.push_failed_count += s.push_failed_count;
            total.push_suppressed_count += s.push_suppressed_count;
            total.push_pending_count += s.push_pending_count;
            total.token_dropped_count += s.token_dropped_count;
        }
        Ok(GetDeliveryStatsResponse {
            by_type: by.into_values().collect(),
            total: Some(total),
        })
    }
}

#[tonic::async_trait]
impl NotificationInternalService for Internal {
    async fn send_broadcast(
        &self,
        request: Request<SendBroadcastRequest>,
    ) -> Result<Response<SendBroadcastResponse>, Status> {
        Ok(Response::new(self.broadcast(request.into_inner()).await?))
    }

    async fn get_delivery_stats(
        &self,
        request: Request<GetDeliveryStatsRequest>,
    ) -> Result<Response<GetDeliveryStatsResponse>, Status> {
        Ok(Response::new(self.stats(request.into_inner()).await?))
    }
}
