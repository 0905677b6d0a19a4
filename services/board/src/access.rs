//! Who may act in a team (moim's CheckMembership, cached for a few seconds so an
//! ex-member loses access within the TTL) and whom a member blocked.

use std::{
    collections::{BTreeSet, HashSet},
    time::Duration,
};

use moing_common::{client::InternalChannel, membership::MembershipCache};
use moing_proto::moing::moim::v1::{
    FilterBlockedByRequest, TeamStatus, team_internal_service_client::TeamInternalServiceClient,
};
use uuid::Uuid;

use crate::error::BoardError;

/// Candidates moim's FilterBlockedBy takes per call.
const FILTER_CAP: usize = 500;

pub use crate::domain::Access;

#[derive(Debug)]
pub struct Members {
    pub client: TeamInternalServiceClient<InternalChannel>,
    checks: MembershipCache,
}

impl Members {
    pub fn new(client: TeamInternalServiceClient<InternalChannel>, ttl: Duration) -> Self {
        Self {
            checks: MembershipCache::new(client.clone(), ttl),
            client,
        }
    }

    /// The caller's access, or TEAM_NOT_FOUND for non-members.
    pub async fn check(&self, team: Uuid, member: Uuid) -> Result<Access, BoardError> {
        let resp = self
            .checks
            .check(team, member)
            .await
            .map_err(|_| BoardError::Unavailable("the team service"))?;
        if !(resp.team_found && resp.is_active_member) {
            return Err(BoardError::TeamNotFound);
        }
        Ok(Access {
            leader: resp.is_leader,
            writable: resp.team_status == TeamStatus::Active as i32,
            team_name: resp.team_name,
        })
    }

    /// Among `authors`: the ones `viewer` blocked (their content is hidden from the viewer).
    /// Authors are de-duplicated first, so a page of any length costs one call
    /// (a team has far fewer members than moim's 500-candidate cap; larger
    /// sets go in chunks).
    pub async fn blocked_by(
        &self,
        viewer: Uuid,
        authors: &[Uuid],
    ) -> Result<HashSet<Uuid>, BoardError> {
        let others: BTreeSet<Uuid> = authors.iter().copied().filter(|a| *a != viewer).collect();
        let others: Vec<String> = others.iter().map(Uuid::to_string).collect();
        let mut blocked = HashSet::new();
        for chunk in others.chunks(FILTER_CAP) {
            let resp = self
                .client
                .clone()
                .filter_blocked_by(FilterBlockedByRequest {
                    actor_member_id: viewer.to_string(),
                    candidate_member_ids: chunk.to_vec(),
                })
                .await
                .map_err(|_| BoardError::Unavailable("the team service"))?
                .into_inner();
            blocked.extend(
                resp.blocked_member_ids
                    .iter()
                    .filter_map(|m| Uuid::parse_str(m).ok()),
            );
        }
        Ok(blocked)
    }
}
