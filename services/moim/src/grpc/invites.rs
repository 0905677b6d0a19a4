//! Invite handlers: create, list and revoke codes, preview a team from a
//! code, join with it. Code lookups are rate-limited per member.

use chrono::Duration;
use moing_common::{Validator, layer::principal};
use moing_proto::moing::moim::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Moim,
    wire::{id_of, invite_pb, preview_pb, team_pb},
};
use crate::{
    domain::{self, Role, Status as TeamStatus},
    error::MoimError,
};

/// Code lookups (preview, join) a member may make per minute.
pub const CODE_ATTEMPTS_PER_MINUTE: u32 = 30;

impl Moim {
    /// Counts one invite-code attempt; RESOURCE_EXHAUSTED past the limit.
    fn code_attempt(&self, member: Uuid) -> Result<(), Status> {
        let now = moing_common::clock::now().timestamp();
        let window = now / 60;
        let count = match self.code_attempts.lock() {
            Ok(mut map) => {
                if map.len() > 10_000 {
                    map.retain(|_, (w, _)| *w == window);
                }
                let e = map.entry(member).or_insert((window, 0));
                if e.0 != window {
                    *e = (window, 0);
                }
                e.1 += 1;
                e.1
            }
            Err(_) => 0,
        };
        if count > CODE_ATTEMPTS_PER_MINUTE {
            let wait = (60 - now % 60).max(1);
            return Err(moing_common::ApiError::new(
                tonic::Code::ResourceExhausted,
                moing_common::error::reason::RATE_LIMITED,
                format!("too many invite code attempts, retry in {wait} seconds"),
            )
            .with_metadata("retry_after_seconds", wait.to_string())
            .into());
        }
        Ok(())
    }
}

pub(super) async fn create_invite(
    moim: &Moim,
    req: Request<pb::CreateInviteRequest>,
) -> Result<Response<pb::CreateInviteResponse>, Status> {
    let who = principal(&req)?;
    let r = req.into_inner();
    let now = moing_common::clock::now();
    let mut v = Validator::new();
    let id = id_of(&mut v, "team_id", &r.team_id);
    let hours = if r.valid_for_hours == 0 {
        168
    } else {
        r.valid_for_hours
    };
    v.check(
        (1..=720).contains(&hours),
        "valid_for_hours",
        "must be 1-720 (default 168)",
    );
    v.check(
        (0..=100).contains(&r.max_uses),
        "max_uses",
        "must be 0 (unlimited) to 100",
    );
    v.finish().map_err(MoimError::from)?;
    let (team, me) = moim.member_view(id, who.member_id, now).await?;
    if me.role != Role::Leader && !team.allow_member_invites {
        return Err(MoimError::NotLeader.into());
    }
    if !team.writable(now) {
        return Err(MoimError::ReadOnly.into());
    }
    let invite = moim
        .store
        .create_invite(
            id,
            who.member_id,
            now + Duration::hours(i64::from(hours)),
            r.max_uses,
        )
        .await?;
    Ok(Response::new(pb::CreateInviteResponse {
        invite: Some(invite_pb(&invite, now)),
    }))
}

pub(super) async fn list_invites(
    moim: &Moim,
    req: Request<pb::ListInvitesRequest>,
) -> Result<Response<pb::ListInvitesResponse>, Status> {
    let who = principal(&req)?;
    let r = req.into_inner();
    let now = moing_common::clock::now();
    let mut v = Validator::new();
    let id = id_of(&mut v, "team_id", &r.team_id);
    v.finish().map_err(MoimError::from)?;
    let (team, me) = moim.member_view(id, who.member_id, now).await?;
    if me.role != Role::Leader && !team.allow_member_invites {
        return Err(MoimError::NotLeader.into());
    }
    let mut invites: Vec<pb::Invite> = moim
        .store
        .invites(id)
        .await?
        .iter()
        .map(|i| invite_pb(i, now))
        .collect();
    if !r.include_inactive {
        invites.retain(|i| i.status == pb::InviteStatus::Active as i32);
    }
    // Members who may invite see only their own codes; the leader sees all.
    if me.role != Role::Leader {
        invites.retain(|i| i.created_by_member_id == who.member_id.to_string());
    }
    let mut v = Validator::new();
    let (chunk, next) = v.page(&invites, r.page_size, &r.page_token);
    v.finish().map_err(MoimError::from)?;
    Ok(Response::new(pb::ListInvitesResponse {
        invites: chunk,
        next_page_token: next,
    }))
}

pub(super) async fn revoke_invite(
    moim: &Moim,
    req: Request<pb::RevokeInviteRequest>,
) -> Result<Response<pb::RevokeInviteResponse>, Status> {
    let who = principal(&req)?;
    let r = req.into_inner();
    let now = moing_common::clock::now();
    let mut v = Validator::new();
    let team_id = id_of(&mut v, "team_id", &r.team_id);
    let invite_id = id_of(&mut v, "invite_id", &r.invite_id);
    v.finish().map_err(MoimError::from)?;
    let (_, me) = moim.member_view(team_id, who.member_id, now).await?;
    let invite = moim
        .store
        .invite_by_id(team_id, invite_id)
        .await?
        .ok_or(MoimError::InviteNotFound)?;
    if me.role != Role::Leader && invite.created_by != who.member_id {
        return Err(MoimError::NotLeader.into());
    }
    let revoked = moim
        .store
        .revoke_invite(team_id, invite_id)
        .await?
        .ok_or(MoimError::InviteNotFound)?;
    Ok(Response::new(pb::RevokeInviteResponse {
        invite: Some(invite_pb(&revoked, now)),
    }))
}

pub(super) async fn preview_invite(
    moim: &Moim,
    req: Request<pb::PreviewInviteRequest>,
) -> Result<Response<pb::PreviewInviteResponse>, Status> {
    let who = principal(&req)?;
    let now = moing_common::clock::now();
    moim.code_attempt(who.member_id)?;
    let code = domain::normalize_code(&req.get_ref().code).ok_or(MoimError::InviteNotFound)?;
    let invite = moim
        .store
        .invite_by_code(&code)
        .await?
        .ok_or(MoimError::InviteNotFound)?;
    let team = moim
        .store
        .team(invite.team_id)
        .await?
        .filter(|t| t.visible(now))
        .ok_or(MoimError::InviteNotFound)?;
    invite.check_usable(now)?;
    if team.writable(now)
        && moim
            .store
            .removed_since(team.id, who.member_id, invite.created_at)
            .await?
    {
        return Err(MoimError::InvitePredatesRemoval.into());
    }
    let already = moim
        .store
        .active_membership(team.id, who.member_id)
        .await?
        .is_some();
    let mine = moim
        .store
        .my_teams(who.member_id)
        .await?
        .iter()
        .filter(|(t, _)| t.status(now) == TeamStatus::Active)
        .count() as i64;
    let leader = moim
        .display(&[team.leader_id])
        .await
        .remove(&team.leader_id)
        .unwrap_or_default();
    Ok(Response::new(pb::PreviewInviteResponse {
        preview: Some(preview_pb(&team, &invite, leader, already, mine)),
    }))
}

pub(super) async fn join_team(
    moim: &Moim,
    req: Request<pb::JoinTeamRequest>,
) -> Result<Response<pb::JoinTeamResponse>, Status> {
    let who = principal(&req)?;
    let now = moing_common::clock::now();
    moim.code_attempt(who.member_id)?;
    let code = domain::normalize_code(&req.get_ref().code).ok_or(MoimError::InviteNotFound)?;
    let team = moim.store.join(&code, who.member_id, now).await?;
    let me = moim.store.active_membership(team.id, who.member_id).await?;
    Ok(Response::new(pb::JoinTeamResponse {
        team: Some(team_pb(&team, me.as_ref(), None, now)),
    }))
}
