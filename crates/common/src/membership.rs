//! moim's membership check (`TeamInternalService.CheckMembership`), cached per
//! (team, member) for a short TTL so hot paths do not call moim on every
//! request; an ex-member loses access within the TTL. Each service maps the
//! answer to its own notion of access and its own errors.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use moing_proto::moing::moim::v1::{
    CheckMembershipRequest, MembershipCheck,
    team_internal_service_client::TeamInternalServiceClient,
};
use uuid::Uuid;

use crate::client::InternalChannel;

/// Entries kept before the cache is cleared wholesale.
const MAX_ENTRIES: usize = 50_000;

#[derive(Debug)]
pub struct MembershipCache {
    client: TeamInternalServiceClient<InternalChannel>,
    cache: Mutex<HashMap<(Uuid, Uuid), (Instant, MembershipCheck)>>,
    ttl: Duration,
}

impl MembershipCache {
    pub fn new(client: TeamInternalServiceClient<InternalChannel>, ttl: Duration) -> Self {
        Self {
            client,
            cache: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// The team service's client, for other internal calls.
    pub fn client(&self) -> TeamInternalServiceClient<InternalChannel> {
        self.client.clone()
    }

    /// moim's answer for (team, member), from the cache while fresh.
    pub async fn check(&self, team: Uuid, member: Uuid) -> Result<MembershipCheck, tonic::Status> {
        if let Ok(cache) = self.cache.lock()
            && let Some((at, entry)) = cache.get(&(team, member))
            && at.elapsed() < self.ttl
        {
            return Ok(entry.clone());
        }
        let answer = self
            .client
            .clone()
            .check_membership(CheckMembershipRequest {
                team_id: team.to_string(),
                member_id: member.to_string(),
            })
            .await?
            .into_inner()
            .membership
            .unwrap_or_default();
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > MAX_ENTRIES {
                cache.clear();
            }
            cache.insert((team, member), (Instant::now(), answer.clone()));
        }
        Ok(answer)
    }
}
