//! Who may act in a team: moim's internal CheckMembership, cached for a few
//! seconds (an ex-member loses access within the TTL) so the hot path does not
//! call moim on every request.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use chrono::NaiveDate;
use moing_common::{client::InternalChannel, membership::MembershipCache};
use moing_proto::moing::moim::v1::{
    FilterBlockedByRequest, GetTeamSummaryRequest, ListMemberTeamsRequest, MemberTeam, TeamStatus,
    TeamSummary, team_internal_service_client::TeamInternalServiceClient,
};
use uuid::Uuid;

use crate::{
    domain::{progress::Span, tz},
    error::MissionError,
};

/// Membership spans per member in team-local days, in joined order (a member
/// who left and rejoined has several); an active period has no end.
pub fn spans(summary: &TeamSummary) -> Vec<(Uuid, Vec<Span>)> {
    let zone = tz(&summary.time_zone);
    let day = |t: Option<&prost_types::Timestamp>| {
        t.and_then(moing_common::convert::from_timestamp)
            .map(|t| t.with_timezone(&zone).date_naive())
    };
    let mut out: Vec<(Uuid, Vec<Span>)> = Vec::new();
    for m in &summary.memberships {
        let (Ok(id), Some(from)) = (Uuid::parse_str(&m.member_id), day(m.joined_at.as_ref()))
        else {
            continue;
        };
        let span = Span {
            from,
            to: day(m.left_at.as_ref()),
        };
        match out.iter_mut().find(|(x, _)| *x == id) {
            Some((_, v)) => v.push(span),
            None => out.push((id, vec![span])),
        }
    }
    out
}

/// The caller's standing in a team.
#[derive(Debug, Clone)]
pub struct Access {
    pub leader: bool,
    pub writable: bool,
    pub time_zone: String,
    /// First day of the current membership (team time zone).
    pub joined_on: Option<NaiveDate>,
    /// The team's name, carried in events for push texts.
    pub team_name: String,
}

#[derive(Debug)]
pub struct Memberships {
    client: TeamInternalServiceClient<InternalChannel>,
    checks: MembershipCache,
    sizes: Mutex<HashMap<Uuid, (Instant, i32)>>,
    ttl: Duration,
}

impl Memberships {
    pub fn new(client: TeamInternalServiceClient<InternalChannel>, ttl: Duration) -> Self {
        Self {
            checks: MembershipCache::new(client.clone(), ttl),
            client,
            sizes: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// The caller's access, or TEAM_NOT_FOUND for non-members (existence not revealed).
    pub async fn check(&self, team: Uuid, member: Uuid) -> Result<Access, MissionError> {
        let resp = self.checks.check(team, member).await.map_err(|s| {
            tracing::warn!(code = ?s.code(), "membership check failed");
            MissionError::Unavailable("the team service")
        })?;
        if !(resp.team_found && resp.is_active_member) {
            return Err(MissionError::TeamNotFound);
        }
        Ok(Access {
            leader: resp.is_leader,
            writable: resp.team_status == TeamStatus::Active as i32,
            joined_on: resp
                .joined_at
                .as_ref()
                .and_then(moing_common::convert::from_timestamp)
                .map(|t| t.with_timezone(&tz(&resp.time_zone)).date_naive()),
            time_zone: resp.time_zone,
            team_name: resp.team_name,
        })
    }

    /// The member's teams (active and read-only), for "my missions".
    pub async fn member_teams(&self, member: Uuid) -> Result<Vec<MemberTeam>, MissionError> {
        let mut out = Vec::new();
        let mut token = String::new();
        loop {
            let resp = self
                .client
                .clone()
                .list_member_teams(ListMemberTeamsRequest {
                    member_id: member.to_string(),
                    include_read_only: true,
                    page_size: 100,
                    page_token: token,
                })
                .await
                .map_err(|_| MissionError::Unavailable("the team service"))?
                .into_inner();
            out.extend(resp.teams);
            if resp.next_page_token.is_empty() {
                return Ok(out);
            }
            token = resp.next_page_token;
        }
    }

    /// The team's summary (one GetTeamSummary call); `past` adds ended
    /// membership periods. TEAM_NOT_FOUND when moim does not know the team.
    pub async fn summary(&self, team: Uuid, past: bool) -> Result<TeamSummary, MissionError> {
        self.client
            .clone()
            .get_team_summary(GetTeamSummaryRequest {
                team_id: team.to_string(),
                include_past_members: past,
                include_hidden: false,
            })
            .await
            .map_err(|s| {
                if s.code() == tonic::Code::NotFound {
                    MissionError::TeamNotFound
                } else {
                    MissionError::Unavailable("the team service")
                }
            })?
            .into_inner()
            .team
            .ok_or(MissionError::TeamNotFound)
    }

    /// Number of active members, cached like memberships.
    pub async fn team_size(&self, team: Uuid) -> Result<i32, MissionError> {
        if let Ok(sizes) = self.sizes.lock()
            && let Some((at, n)) = sizes.get(&team)
            && at.elapsed() < self.ttl
        {
            return Ok(*n);
        }
        let n = self.summary(team, false).await?.member_count;
        if let Ok(mut sizes) = self.sizes.lock() {
            if sizes.len() > 50_000 {
                sizes.clear();
            }
            sizes.insert(team, (Instant::now(), n));
        }
        Ok(n)
    }

    /// Active members of a team with the first day of their membership.
    pub async fn team_members(&self, team: Uuid) -> Result<Vec<(Uuid, NaiveDate)>, MissionError> {
        let summary = self.summary(team, false).await?;
        Ok(spans(&summary)
            .into_iter()
            .filter_map(|(id, s)| s.last().filter(|s| s.to.is_none()).map(|s| (id, s.from)))
            .collect())
    }

    /// Among `candidates`: those who blocked `actor` or whom `actor` blocked.
    pub async fn blocked_either_way(
        &self,
        actor: Uuid,
        candidates: &[Uuid],
    ) -> Result<Vec<Uuid>, MissionError> {
        let resp = self
            .client
            .clone()
            .filter_blocked_by(FilterBlockedByRequest {
                actor_member_id: actor.to_string(),
                candidate_member_ids: candidates.iter().map(Uuid::to_string).collect(),
            })
            .await
            .map_err(|_| MissionError::Unavailable("the team service"))?
            .into_inner();
        Ok(resp
            .blocker_member_ids
            .iter()
            .chain(resp.blocked_member_ids.iter())
            .filter_map(|m| Uuid::parse_str(m).ok())
            .collect())
    }
}
