//! Who may act in a team (moim's CheckMembership, cached for a few seconds so an
//! ex-member loses access within the TTL) and whom a member blocked.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use moing_common::client::InternalChannel;
use moing_proto::moing::moim::v1::{
    CheckMembershipRequest, FilterBlockedByRequest, TeamStatus,
    team_internal_service_client::TeamInternalServiceClient,
};
use uuid::Uuid;

use crate::error::BoardError;

/// The caller's standing in a team.
#[derive(Debug, Clone)]
pub struct Access {
    pub leader: bool,
    pub writable: bool,
    pub team_name: String,
}

type Cache = HashMap<(Uuid, Uuid), (Instant, Option<Access>)>;

#[derive(Debug)]
pub struct Members {
    pub client: TeamInternalServiceClient<InternalChannel>,
    cache: Mutex<Cache>,
    ttl: Duration,
}

impl Members {
    pub fn new(client: TeamInternalServiceClient<InternalChannel>, ttl: Duration) -> Self {
        Self {
            client,
            cache: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// The caller's access, or TEAM_NOT_FOUND for non-members.
    pub async fn check(&self, team: Uuid, member: Uuid) -> Result<Access, BoardError> {
        if let Ok(cache) = self.cache.lock()
            && let Some((at, entry)) = cache.get(&(team, member))
            && at.elapsed() < self.ttl
        {
            return entry.clone().ok_or(BoardError::TeamNotFound);
        }
        let resp = self
            .client
            .clone()
            .check_membership(CheckMembershipRequest {
                team_id: team.to_string(),
                member_id: member.to_string(),
            })
            .await
            .map_err(|_| BoardError::Unavailable("the team service"))?
            .into_inner()
            .membership
            .unwrap_or_default();
        let entry = (resp.team_found && resp.is_active_member).then_some(Access {
            leader: resp.is_leader,
            writable: resp.team_status == TeamStatus::Active as i32,
            team_name: resp.team_name,
        });
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 50_000 {
                cache.clear();
            }
            cache.insert((team, member), (Instant::now(), entry.clone()));
        }
        entry.ok_or(BoardError::TeamNotFound)
    }

    /// Among `authors`: the ones `viewer` blocked (their content is hidden from the viewer).
    pub async fn blocked_by(
        &self,
        viewer: Uuid,
        authors: &[Uuid],
    ) -> Result<Vec<Uuid>, BoardError> {
        let others: Vec<String> = authors
            .iter()
            .filter(|a| **a != viewer)
            .map(Uuid::to_string)
            .collect();
        if others.is_empty() {
            return Ok(Vec::new());
        }
        let resp = self
            .client
            .clone()
            .filter_blocked_by(FilterBlockedByRequest {
                actor_member_id: viewer.to_string(),
                candidate_member_ids: others,
            })
            .await
            .map_err(|_| BoardError::Unavailable("the team service"))?
            .into_inner();
        Ok(resp
            .blocked_member_ids
            .iter()
            .filter_map(|m| Uuid::parse_str(m).ok())
            .collect())
    }
}
