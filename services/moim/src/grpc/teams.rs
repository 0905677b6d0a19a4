//! Team handlers (create, read, list, edit, extend, disband) and the views
//! every team RPC starts from: the member's view (NOT_FOUND for non-members and
//! vanished teams) and the leader's view.

use chrono::{DateTime, Utc};
use moing_common::{Validator, layer::principal};
use moing_proto::moing::moim::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Moim,
    wire::{self, id_of, status_pb, team_pb},
};
use crate::{
    domain::{self, Membership, NextMeeting, Role, Status as TeamStatus, Team},
    error::MoimError,
};

impl Moim {
    /// The team as seen by a member: NOT_FOUND for non-members and vanished teams.
    pub(super) async fn member_view(
        &self,
        team_id: Uuid,
        member: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Team, Membership), MoimError> {
        let team = self
            .store
            .team(team_id)
            .await?
            .filter(|t| t.visible(now))
            .ok_or(MoimError::TeamNotFound)?;
        let m = self
            .store
            .active_membership(team_id, member)
            .await?
            .ok_or(MoimError::TeamNotFound)?;
        Ok((team, m))
    }

    /// The team as seen by its leader: NOT_TEAM_LEADER for other members, and
    /// TEAM_READ_ONLY for a `write` on a team that is no longer active.
    pub(super) async fn leader_view(
        &self,
        team_id: Uuid,
        member: Uuid,
        now: DateTime<Utc>,
        write: bool,
    ) -> Result<Team, MoimError> {
        let (team, m) = self.member_view(team_id, member, now).await?;
        if m.role != Role::Leader {
            return Err(MoimError::NotLeader);
        }
        if write && !team.writable(now) {
            return Err(MoimError::ReadOnly);
        }
        Ok(team)
    }

    pub(super) async fn next_of(
        &self,
        team: &Team,
        now: DateTime<Utc>,
    ) -> Result<Option<NextMeeting>, MoimError> {
        let (weekly, singles, _) = self.store.schedule(team.id).await?;
        Ok(domain::next_meeting(team, &weekly, &singles, now))
    }

    /// The team as the caller sees it after a change.
    async fn my_view(
        &self,
        team: &Team,
        member: Uuid,
        now: DateTime<Utc>,
    ) -> Result<pb::Team, MoimError> {
        let me = self.store.active_membership(team.id, member).await?;
        Ok(team_pb(team, me.as_ref(), None, now))
    }
}

pub(super) async fn create_team(
    moim: &Moim,
    req: Request<pb::CreateTeamRequest>,
) -> Result<Response<pb::CreateTeamResponse>, Status> {
    let who = principal(&req)?;
    let now = moing_common::clock::now();
    let new = wire::new_team(req.get_ref(), who.member_id, now)?;
    let team = moim.store.create_team(who.member_id, new, now).await?;
    Ok(Response::new(pb::CreateTeamResponse {
        team: Some(moim.my_view(&team, who.member_id, now).await?),
    }))
}

pub(super) async fn get_team(
    moim: &Moim,
    req: Request<pb::GetTeamRequest>,
) -> Result<Response<pb::GetTeamResponse>, Status> {
    let who = principal(&req)?;
    let mut v = Validator::new();
    let id = id_of(&mut v, "team_id", &req.get_ref().team_id);
    v.finish().map_err(MoimError::from)?;
    let now = moing_common::clock::now();
    let (team, me) = moim.member_view(id, who.member_id, now).await?;
    let next = moim.next_of(&team, now).await?;
    Ok(Response::new(pb::GetTeamResponse {
        team: Some(team_pb(&team, Some(&me), next.as_ref(), now)),
    }))
}

pub(super) async fn list_my_teams(
    moim: &Moim,
    req: Request<pb::ListMyTeamsRequest>,
) -> Result<Response<pb::ListMyTeamsResponse>, Status> {
    let who = principal(&req)?;
    let r = req.into_inner();
    let now = moing_common::clock::now();
    let mut v = Validator::new();
    for (i, s) in r.statuses.iter().enumerate() {
        v.check(
            wire::is_status(*s),
            &format!("statuses[{i}]"),
            "must be ACTIVE, FINISHED or DISBANDED",
        );
    }
    let all: Vec<(Team, Membership)> = moim
        .store
        .my_teams(who.member_id)
        .await?
        .into_iter()
        .filter(|(t, _)| t.visible(now))
        .filter(|(t, _)| r.statuses.is_empty() || r.statuses.contains(&status_pb(t.status(now))))
        .collect();
    let active = moim
        .store
        .my_teams(who.member_id)
        .await?
        .iter()
        .filter(|(t, _)| t.status(now) == TeamStatus::Active)
        .count();
    let (chunk, next) = v.page(&all, r.page_size, &r.page_token);
    v.finish().map_err(MoimError::from)?;
    let mut teams = Vec::with_capacity(chunk.len());
    for (t, m) in &chunk {
        let next_meeting = moim.next_of(t, now).await?;
        teams.push(team_pb(t, Some(m), next_meeting.as_ref(), now));
    }
    Ok(Response::new(pb::ListMyTeamsResponse {
        teams,
        next_page_token: next,
        active_team_count: active as i32,
        active_team_limit: domain::ACTIVE_TEAM_LIMIT as i32,
    }))
}

pub(super) async fn update_team(
    moim: &Moim,
    req: Request<pb::UpdateTeamRequest>,
) -> Result<Response<pb::UpdateTeamResponse>, Status> {
    let who = principal(&req)?;
    let r = req.into_inner();
    let now = moing_common::clock::now();
    let mut v = Validator::new();
    let id = id_of(&mut v, "team_id", &r.team_id);
    let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
    v.check(
        !paths.is_empty(),
        "update_mask",
        "list the fields to change",
    );
    v.finish().map_err(MoimError::from)?;
    let mut team = moim.leader_view(id, who.member_id, now, true).await?;
    let input = r.team.unwrap_or_default();
    let mut v = Validator::new();
    wire::apply_team_update(&mut v, &mut team, &input, &paths, who.member_id);
    v.finish().map_err(MoimError::from)?;
    let updated = moim.store.update_team(&team, who.member_id, paths).await?;
    Ok(Response::new(pb::UpdateTeamResponse {
        team: Some(moim.my_view(&updated, who.member_id, now).await?),
    }))
}

pub(super) async fn extend_team_end_date(
    moim: &Moim,
    req: Request<pb::ExtendTeamEndDateRequest>,
) -> Result<Response<pb::ExtendTeamEndDateResponse>, Status> {
    let who = principal(&req)?;
    let r = req.into_inner();
    let now = moing_common::clock::now();
    let mut v = Validator::new();
    let id = id_of(&mut v, "team_id", &r.team_id);
    let end = wire::date(&mut v, "new_end_date", r.new_end_date.as_ref());
    v.finish().map_err(MoimError::from)?;
    let mut team = moim.leader_view(id, who.member_id, now, true).await?;
    let mut v = Validator::new();
    if let Some(end) = end {
        domain::check_extension(&mut v, &team, end);
        team.end_date = end;
    }
    v.finish().map_err(MoimError::from)?;
    let updated = moim
        .store
        .update_team(&team, who.member_id, vec!["end_date".into()])
        .await?;
    Ok(Response::new(pb::ExtendTeamEndDateResponse {
        team: Some(moim.my_view(&updated, who.member_id, now).await?),
    }))
}

pub(super) async fn disband_team(
    moim: &Moim,
    req: Request<pb::DisbandTeamRequest>,
) -> Result<Response<pb::DisbandTeamResponse>, Status> {
    let who = principal(&req)?;
    let mut v = Validator::new();
    let id = id_of(&mut v, "team_id", &req.get_ref().team_id);
    v.finish().map_err(MoimError::from)?;
    let now = moing_common::clock::now();
    let team = moim.leader_view(id, who.member_id, now, false).await?;
    if team.disbanded_at.is_some() {
        return Err(MoimError::ReadOnly.into());
    }
    let done = moim.store.disband(&team, who.member_id, now).await?;
    Ok(Response::new(pb::DisbandTeamResponse {
        team: Some(moim.my_view(&done, who.member_id, now).await?),
    }))
}
