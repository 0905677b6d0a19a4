//! Operator broadcasts (once per idempotency key; inbox rows in one
//! transaction, then pushes in bounded-concurrency batches of at most 500)
//! and delivery statistics.

use std::collections::HashMap;

use futures::{StreamExt, stream};
use moing_proto::moing::notification::v1 as pb;
use tonic::{Request, Response};
use uuid::Uuid;

use super::{Answer, Internal, wire};
use crate::{
    domain::broadcasts::{self, Audience, NewBroadcast, Outcome, Recipient, StatsFilter},
    error::NotificationError,
};

pub async fn send_broadcast(
    s: &Internal,
    request: Request<pb::SendBroadcastRequest>,
) -> Answer<pb::SendBroadcastResponse> {
    let req = request.into_inner();
    let (id, outcome) = moing_common::transaction!(
        "notification.broadcast",
        Result<(Uuid, Outcome), NotificationError>,
        { broadcast(s, &req).await }
    )?;
    Ok(Response::new(wire::broadcast_response(id, outcome)))
}

/// Validates, returns an earlier broadcast with the key, or sends a new one.
async fn broadcast(
    s: &Internal,
    req: &pb::SendBroadcastRequest,
) -> Result<(Uuid, Outcome), NotificationError> {
    let new = NewBroadcast::try_from(req)?;
    let hash = new.hash();
    if let Some((id, outcome)) = earlier(s, &new.key, &hash).await? {
        let outcome = match outcome {
            Some(o) => o,
            None => s.store.broadcast_outcome(id, vec![]).await?,
        };
        return Ok((id, outcome));
    }
    let (recipients, unknown) = match &new.audience {
        Audience::Members(members) => (broadcasts::distinct_members(members), vec![]),
        Audience::Teams(teams) => resolve_teams(s, teams).await?,
    };
    let id = Uuid::now_v7();
    let now = moing_common::clock::now();
    let groups: Vec<_> = broadcasts::by_team(recipients)
        .into_iter()
        .map(|(team, (name, members))| (new.draft(id, team, &name), members))
        .collect();
    if !s
        .store
        .create_broadcast(id, &new.key, &hash, &groups, now)
        .await?
    {
        // A concurrent call with the same key won the race.
        return match earlier(s, &new.key, &hash).await? {
            Some((id, outcome)) => Ok((id, outcome.unwrap_or_default())),
            None => Err(NotificationError::Unavailable("the notification database")),
        };
    }
    if let Err(e) = s.dispatcher.drain(100).await {
        tracing::warn!(broadcast_id = %id, error = %e, "broadcast pushes left to the push job");
    }
    let outcome = s.store.broadcast_outcome(id, unknown).await?;
    s.store.save_broadcast_outcome(id, &outcome).await?;
    tracing::info!(broadcast_id = %id, recipients = outcome.recipient_count, sent = outcome.push_sent_count, "broadcast sent");
    Ok((id, outcome))
}

/// The earlier broadcast with this key: its id, and its result when finished;
/// a conflict when it was a different request.
async fn earlier(
    s: &Internal,
    key: &str,
    hash: &[u8],
) -> Result<Option<(Uuid, Option<Outcome>)>, NotificationError> {
    let Some(earlier) = s.store.broadcast_by_key(key).await? else {
        return Ok(None);
    };
    if earlier.request_hash != hash {
        return Err(NotificationError::IdempotencyKeyConflict);
    }
    Ok(Some((earlier.id, earlier.outcome)))
}

/// Members of the requested teams (first listed team wins) and the unknown teams.
async fn resolve_teams(
    s: &Internal,
    teams: &[Uuid],
) -> Result<(Vec<Recipient>, Vec<String>), NotificationError> {
    let peers = s.peers.clone();
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

pub async fn delivery_stats(
    s: &Internal,
    request: Request<pb::GetDeliveryStatsRequest>,
) -> Answer<pb::GetDeliveryStatsResponse> {
    let filter = StatsFilter::try_from(request.get_ref())?;
    if let StatsFilter::Broadcast(id) = filter
        && !s
            .store
            .broadcast_exists(id)
            .await
            .map_err(NotificationError::from)?
    {
        return Err(NotificationError::BroadcastNotFound.into());
    }
    let (inbox, pushes) = s
        .store
        .delivery_tallies(filter)
        .await
        .map_err(NotificationError::from)?;
    let by_type = broadcasts::delivery_stats(&inbox, &pushes);
    Ok(Response::new(wire::stats_response(by_type)))
}

/// Everything notification holds about one member, for their data download.
pub async fn export_member(
    s: &Internal,
    request: Request<pb::ExportMemberNotificationDataRequest>,
) -> Answer<pb::ExportMemberNotificationDataResponse> {
    let mut v = moing_common::Validator::new();
    let member = v
        .id("member_id", &request.get_ref().member_id)
        .unwrap_or_default();
    v.finish().map_err(NotificationError::from)?;
    let json = s
        .store
        .export_member(member)
        .await
        .map_err(NotificationError::from)?;
    Ok(Response::new(pb::ExportMemberNotificationDataResponse {
        json,
        generated_at: Some(moing_common::convert::timestamp(moing_common::clock::now())),
    }))
}
