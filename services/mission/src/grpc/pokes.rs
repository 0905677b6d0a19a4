//! Pokes and the team score (`pokes.proto`): who can be poked on a mission
//! (not done, not blocked, not poked in the last hour), the poke itself, and
//! the team's score with its rule.

use chrono::{DateTime, Duration, Utc};
use moing_common::{Validator, layer::principal, outbox::timestamp};
use moing_proto::moing::mission::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Missions,
    wire::{ids, score_pb},
};
use crate::{domain::Mission, error::MissionError, store::pokes::NewPoke};

/// Whether a member's progress leaves nothing to poke about.
fn done(p: &pb::MissionProgress) -> bool {
    p.period_complete || p.slot_status == pb::ProofSlotStatus::Done as i32
}

impl Missions {
    /// The members `me` could poke on `m`, with when they can next be poked.
    async fn poke_targets(
        &self,
        m: &Mission,
        me: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<pb::PokeTarget>, MissionError> {
        let roster: Vec<_> = self
            .members
            .team_members(m.team_id)
            .await?
            .into_iter()
            .filter(|(x, _)| *x != me)
            .collect();
        let members: Vec<Uuid> = roster.iter().map(|(x, _)| *x).collect();
        let blocked = self.members.blocked_either_way(me, &members).await?;
        let mut targets = Vec::new();
        for (member, joined) in roster.into_iter().filter(|(x, _)| !blocked.contains(x)) {
            let progress = self.progress(m, member, Some(joined), now).await?;
            if done(&progress) {
                continue;
            }
            let last = self.store.last_poke(me, member).await?;
            let next = last.map(|t| t + Duration::hours(1)).filter(|t| *t > now);
            targets.push(pb::PokeTarget {
                member: Some(pb::MemberSummary {
                    member_id: member.to_string(),
                    ..Default::default()
                }),
                done_count: progress.done_count,
                required_count: progress.required_count,
                can_poke_now: next.is_none(),
                next_poke_at: next.map(timestamp),
                last_poked_by_me_at: last.map(timestamp),
            });
        }
        Ok(targets)
    }

    pub(super) async fn list_poke_targets_rpc(
        &self,
        req: Request<pb::ListPokeTargetsRequest>,
    ) -> Result<Response<pb::ListPokeTargetsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let (_, m) = self.mission_for(team, id, who.member_id).await?;
        if !m.open(now) {
            return Err(MissionError::MissionEnded.into());
        }
        let targets = self.poke_targets(&m, who.member_id, now).await?;
        let mut v = Validator::new();
        let (chunk, next) = v.page(&targets, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        Ok(Response::new(pb::ListPokeTargetsResponse {
            targets: chunk,
            next_page_token: next,
        }))
    }

    /// `target` must be an unblocked member of the team who has not done the
    /// mission yet.
    async fn check_poke_target(
        &self,
        m: &Mission,
        me: Uuid,
        target: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), MissionError> {
        let Ok(target_access) = self.members.check(m.team_id, target).await else {
            return Err(MissionError::PokeTargetNotFound);
        };
        if !self
            .members
            .blocked_either_way(me, &[target])
            .await?
            .is_empty()
        {
            return Err(MissionError::PokeTargetNotFound);
        }
        let progress = self
            .progress(m, target, target_access.joined_on, now)
            .await?;
        if done(&progress) {
            return Err(MissionError::PokeTargetDone);
        }
        Ok(())
    }

    pub(super) async fn poke_member_rpc(
        &self,
        req: Request<pb::PokeMemberRequest>,
    ) -> Result<Response<pb::PokeMemberResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        let target = v
            .id("target_member_id", &r.target_member_id)
            .unwrap_or_default();
        let message = v.text("message", &r.message, 0, 100);
        v.finish().map_err(MissionError::from)?;
        if target == who.member_id {
            return Err(MissionError::PokeSelf.into());
        }
        let now = moing_common::clock::now();
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        if !m.open(now) {
            return Err(MissionError::MissionEnded.into());
        }
        self.check_poke_target(&m, who.member_id, target, now)
            .await?;
        let poke = NewPoke {
            mission: &m,
            team_name: &access.team_name,
            sender: who.member_id,
            target,
            message: &message,
            now,
        };
        let Some(poke) = self.store.poke(poke).await? else {
            let last = self
                .store
                .last_poke(who.member_id, target)
                .await?
                .unwrap_or(now);
            let wait = (last + Duration::hours(1) - now).num_seconds().max(1);
            return Err(MissionError::PokeTooSoon(wait).into());
        };
        Ok(Response::new(pb::PokeMemberResponse {
            poke: Some(pb::Poke {
                id: poke.to_string(),
                team_id: team.to_string(),
                mission_id: id.to_string(),
                sender_member_id: who.member_id.to_string(),
                target_member_id: target.to_string(),
                message,
                created_at: Some(timestamp(now)),
            }),
            next_poke_at: Some(timestamp(now + Duration::hours(1))),
        }))
    }

    pub(super) async fn get_team_score_rpc(
        &self,
        req: Request<pb::GetTeamScoreRequest>,
    ) -> Result<Response<pb::GetTeamScoreResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let team = v.id("team_id", &req.get_ref().team_id).unwrap_or_default();
        v.finish().map_err(MissionError::from)?;
        self.access(team, who.member_id).await?;
        let (points, updated) = self.store.team_score(team).await?;
        Ok(Response::new(pb::GetTeamScoreResponse {
            score: Some(score_pb(team, points, updated, true)),
        }))
    }
}
