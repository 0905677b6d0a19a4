//! Member handlers: list a team's members (with display names from auth),
//! leave, remove a member, hand over leadership.

use std::collections::HashMap;

use moing_common::{Validator, layer::principal};
use moing_proto::moing::moim::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Moim,
    wire::{id_of, team_member_pb, team_pb},
};
use crate::error::MoimError;

impl Moim {
    /// Nicknames and image keys in one batch call; empty when auth is unavailable
    /// (the lists still work, names fill in again when auth answers).
    pub(super) async fn display(&self, ids: &[Uuid]) -> HashMap<Uuid, (String, String)> {
        match &self.auth {
            Some(client) => moing_common::display::names(client, ids).await,
            None => HashMap::new(),
        }
    }
}

pub(super) async fn list_team_members(
    moim: &Moim,
    req: Request<pb::ListTeamMembersRequest>,
) -> Result<Response<pb::ListTeamMembersResponse>, Status> {
    let who = principal(&req)?;
    let r = req.into_inner();
    let now = moing_common::clock::now();
    let mut v = Validator::new();
    let id = id_of(&mut v, "team_id", &r.team_id);
    v.finish().map_err(MoimError::from)?;
    moim.member_view(id, who.member_id, now).await?;
    let members = moim.store.memberships(id, false).await?;
    let ids: Vec<Uuid> = members.iter().map(|m| m.member_id).collect();
    let (_, blocked) = moim.store.filter_blocked(who.member_id, &ids).await?;
    let mut v = Validator::new();
    let (chunk, next) = v.page(&members, r.page_size, &r.page_token);
    v.finish().map_err(MoimError::from)?;
    let names = moim
        .display(&chunk.iter().map(|m| m.member_id).collect::<Vec<_>>())
        .await;
    Ok(Response::new(pb::ListTeamMembersResponse {
        members: chunk
            .iter()
            .map(|m| team_member_pb(m, names.get(&m.member_id), blocked.contains(&m.member_id)))
            .collect(),
        next_page_token: next,
    }))
}

pub(super) async fn leave_team(
    moim: &Moim,
    req: Request<pb::LeaveTeamRequest>,
) -> Result<Response<pb::LeaveTeamResponse>, Status> {
    let who = principal(&req)?;
    let mut v = Validator::new();
    let id = id_of(&mut v, "team_id", &req.get_ref().team_id);
    v.finish().map_err(MoimError::from)?;
    let now = moing_common::clock::now();
    moim.member_view(id, who.member_id, now).await?;
    let disbanded = moim.store.leave(id, who.member_id, now).await?;
    Ok(Response::new(pb::LeaveTeamResponse {
        team_disbanded: disbanded,
    }))
}

pub(super) async fn remove_team_member(
    moim: &Moim,
    req: Request<pb::RemoveTeamMemberRequest>,
) -> Result<Response<pb::RemoveTeamMemberResponse>, Status> {
    let who = principal(&req)?;
    let r = req.into_inner();
    let mut v = Validator::new();
    let id = id_of(&mut v, "team_id", &r.team_id);
    let target = id_of(&mut v, "member_id", &r.member_id);
    v.finish().map_err(MoimError::from)?;
    let now = moing_common::clock::now();
    moim.leader_view(id, who.member_id, now, true).await?;
    let member_count = moim.store.remove(id, who.member_id, target, now).await?;
    Ok(Response::new(pb::RemoveTeamMemberResponse { member_count }))
}

pub(super) async fn transfer_leadership(
    moim: &Moim,
    req: Request<pb::TransferLeadershipRequest>,
) -> Result<Response<pb::TransferLeadershipResponse>, Status> {
    let who = principal(&req)?;
    let r = req.into_inner();
    let mut v = Validator::new();
    let id = id_of(&mut v, "team_id", &r.team_id);
    let next = id_of(&mut v, "new_leader_member_id", &r.new_leader_member_id);
    v.finish().map_err(MoimError::from)?;
    let now = moing_common::clock::now();
    moim.leader_view(id, who.member_id, now, true).await?;
    let team = moim.store.transfer(id, who.member_id, next).await?;
    let me = moim.store.active_membership(id, who.member_id).await?;
    Ok(Response::new(pb::TransferLeadershipResponse {
        team: Some(team_pb(&team, me.as_ref(), None, now)),
    }))
}
