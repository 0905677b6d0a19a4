//! `moing.moim.v1.TeamInternalService` handlers: membership checks (an index
//! lookup on (team_id, active_member)), team summaries, the teams of a member,
//! blocks filtering, leadership, and the teams meeting on a day.

use chrono::{NaiveDate, TimeZone, Utc};
use moing_common::{Validator, outbox::timestamp};
use moing_proto::moing::moim::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Moim,
    wire::{self, meeting_pb, member_team_pb, role_pb, status_pb, summary_pb},
};
use crate::{
    domain::{self, Role, Status as TeamStatus},
    error::MoimError,
};

/// Teams read per scan of ListTeamsMeetingOn.
const SCAN_BATCH: u32 = 200;

impl Moim {
    async fn check(&self, team_id: Uuid, member: Uuid) -> Result<pb::MembershipCheck, MoimError> {
        let now = moing_common::clock::now();
        let team = self.store.team(team_id).await?.filter(|t| t.visible(now));
        let m = match &team {
            Some(_) => self.store.active_membership(team_id, member).await?,
            None => None,
        };
        Ok(pb::MembershipCheck {
            team_id: team_id.to_string(),
            member_id: member.to_string(),
            team_found: team.is_some(),
            is_active_member: m.is_some(),
            is_leader: m.as_ref().is_some_and(|m| m.role == Role::Leader),
            role: m.as_ref().map_or(0, |m| role_pb(m.role)),
            joined_at: m.as_ref().map(|m| timestamp(m.joined_at)),
            team_status: team.as_ref().map_or(0, |t| status_pb(t.status(now))),
            team_name: team.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
            time_zone: team.map(|t| t.time_zone).unwrap_or_default(),
        })
    }

    /// Teams (in the period, optionally in `zone`) meeting on `date`, by id
    /// after `after`, until `size` are found; with the last team id scanned.
    async fn meeting_days(
        &self,
        date: NaiveDate,
        zone: Option<&str>,
        after: Option<Uuid>,
        size: usize,
    ) -> Result<(Vec<pb::TeamMeetingDay>, Option<Uuid>), MoimError> {
        let mut cursor = after;
        let mut out = Vec::new();
        let mut exhausted = false;
        while out.len() < size && !exhausted {
            let batch = self
                .store
                .teams_with_schedules(date, zone, cursor, SCAN_BATCH)
                .await?;
            exhausted = batch.len() < SCAN_BATCH as usize;
            for (team, weekly, singles) in batch {
                cursor = Some(team.id);
                let day_start = domain::tz(&team.time_zone)
                    .from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
                    .earliest()
                    .map(|t| t.with_timezone(&Utc));
                let Some(day_start) = day_start else { continue };
                let meetings: Vec<pb::Meeting> =
                    domain::upcoming_meetings(&team, &weekly, &singles, day_start, 20)
                        .into_iter()
                        .filter(|m| m.date == date)
                        .map(|m| meeting_pb(&m))
                        .collect();
                if meetings.is_empty() {
                    continue;
                }
                let members = self.store.active_members(team.id).await?;
                out.push(pb::TeamMeetingDay {
                    team_id: team.id.to_string(),
                    team_name: team.name.clone(),
                    time_zone: team.time_zone.clone(),
                    meetings,
                    member_ids: members.iter().map(Uuid::to_string).collect(),
                });
                if out.len() >= size {
                    break;
                }
            }
        }
        Ok((out, cursor))
    }
}

pub(super) async fn check_membership(
    moim: &Moim,
    req: Request<pb::CheckMembershipRequest>,
) -> Result<Response<pb::CheckMembershipResponse>, Status> {
    let r = req.into_inner();
    let mut v = Validator::new();
    let team = v.id("team_id", &r.team_id).unwrap_or_default();
    let member = v.id("member_id", &r.member_id).unwrap_or_default();
    v.finish().map_err(MoimError::from)?;
    Ok(Response::new(pb::CheckMembershipResponse {
        membership: Some(moim.check(team, member).await?),
    }))
}

pub(super) async fn batch_check_membership(
    moim: &Moim,
    req: Request<pb::BatchCheckMembershipRequest>,
) -> Result<Response<pb::BatchCheckMembershipResponse>, Status> {
    let r = req.into_inner();
    let mut v = Validator::new();
    v.check(r.keys.len() <= 100, "keys", "at most 100 pairs per call");
    let keys: Vec<(Uuid, Uuid)> = r
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (
                v.id(&format!("keys[{i}].team_id"), &k.team_id)
                    .unwrap_or_default(),
                v.id(&format!("keys[{i}].member_id"), &k.member_id)
                    .unwrap_or_default(),
            )
        })
        .collect();
    v.finish().map_err(MoimError::from)?;
    let mut out = Vec::with_capacity(keys.len());
    for (t, m) in keys {
        out.push(moim.check(t, m).await?);
    }
    Ok(Response::new(pb::BatchCheckMembershipResponse {
        memberships: out,
    }))
}

pub(super) async fn get_team_summary(
    moim: &Moim,
    req: Request<pb::GetTeamSummaryRequest>,
) -> Result<Response<pb::GetTeamSummaryResponse>, Status> {
    let r = req.into_inner();
    let mut v = Validator::new();
    let id = v.id("team_id", &r.team_id).unwrap_or_default();
    v.finish().map_err(MoimError::from)?;
    let now = moing_common::clock::now();
    let team = moim
        .store
        .team(id)
        .await?
        .filter(|t| r.include_hidden || t.visible(now))
        .ok_or(MoimError::TeamNotFound)?;
    let memberships = moim.store.memberships(id, r.include_past_members).await?;
    let (weekly, singles, _) = moim.store.schedule(id).await?;
    let next = domain::next_meeting(&team, &weekly, &singles, now);
    Ok(Response::new(pb::GetTeamSummaryResponse {
        team: Some(summary_pb(&team, &memberships, next.as_ref(), now)),
    }))
}

pub(super) async fn list_member_teams(
    moim: &Moim,
    req: Request<pb::ListMemberTeamsRequest>,
) -> Result<Response<pb::ListMemberTeamsResponse>, Status> {
    let r = req.into_inner();
    let mut v = Validator::new();
    let member = v.id("member_id", &r.member_id).unwrap_or_default();
    v.finish().map_err(MoimError::from)?;
    let now = moing_common::clock::now();
    let all: Vec<pb::MemberTeam> = moim
        .store
        .my_teams(member)
        .await?
        .into_iter()
        .filter(|(t, _)| {
            t.visible(now) && (r.include_read_only || t.status(now) == TeamStatus::Active)
        })
        .map(|(t, m)| member_team_pb(&t, &m, now))
        .collect();
    let mut v = Validator::new();
    let (chunk, next) = v.page(&all, r.page_size, &r.page_token);
    v.finish().map_err(MoimError::from)?;
    Ok(Response::new(pb::ListMemberTeamsResponse {
        teams: chunk,
        next_page_token: next,
    }))
}

pub(super) async fn filter_blocked_by(
    moim: &Moim,
    req: Request<pb::FilterBlockedByRequest>,
) -> Result<Response<pb::FilterBlockedByResponse>, Status> {
    let r = req.into_inner();
    let mut v = Validator::new();
    let actor = v
        .id("actor_member_id", &r.actor_member_id)
        .unwrap_or_default();
    v.check(
        r.candidate_member_ids.len() <= 500,
        "candidate_member_ids",
        "at most 500 ids per call",
    );
    let candidates: Vec<Uuid> = v.ids("candidate_member_ids", &r.candidate_member_ids);
    v.finish().map_err(MoimError::from)?;
    let (blockers, blocked) = moim.store.filter_blocked(actor, &candidates).await?;
    Ok(Response::new(pb::FilterBlockedByResponse {
        blocker_member_ids: blockers.iter().map(Uuid::to_string).collect(),
        blocked_member_ids: blocked.iter().map(Uuid::to_string).collect(),
    }))
}

pub(super) async fn member_leads_active_team(
    moim: &Moim,
    req: Request<pb::MemberLeadsActiveTeamRequest>,
) -> Result<Response<pb::MemberLeadsActiveTeamResponse>, Status> {
    let mut v = Validator::new();
    let member = v
        .id("member_id", &req.get_ref().member_id)
        .unwrap_or_default();
    v.finish().map_err(MoimError::from)?;
    let now = moing_common::clock::now();
    let led: Vec<String> = moim
        .store
        .my_teams(member)
        .await?
        .into_iter()
        .filter(|(t, m)| m.role == Role::Leader && t.status(now) == TeamStatus::Active)
        .map(|(t, _)| t.id.to_string())
        .collect();
    Ok(Response::new(pb::MemberLeadsActiveTeamResponse {
        leads_active_team: !led.is_empty(),
        team_ids: led,
    }))
}

pub(super) async fn list_teams_meeting_on(
    moim: &Moim,
    req: Request<pb::ListTeamsMeetingOnRequest>,
) -> Result<Response<pb::ListTeamsMeetingOnResponse>, Status> {
    let r = req.into_inner();
    let mut v = Validator::new();
    let date = wire::date(&mut v, "date", r.date.as_ref());
    let zone = r.time_zone.trim().to_owned();
    if !zone.is_empty() {
        domain::time_zone(&mut v, "time_zone", &zone);
    }
    let size = v.page_size("page_size", r.page_size, 20, 100);
    let after = if r.page_token.is_empty() {
        None
    } else {
        v.id("page_token", &r.page_token)
    };
    v.finish().map_err(MoimError::from)?;
    let Some(date) = date else {
        return Err(MoimError::Invalid(vec![]).into());
    };
    let zone = (!zone.is_empty()).then_some(zone);
    // Scan pages of teams in the period; keep those meeting on `date`.
    let (out, cursor) = moim
        .meeting_days(date, zone.as_deref(), after, size as usize)
        .await?;
    let next = if out.len() >= size as usize {
        cursor.map(|c| c.to_string()).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(Response::new(pb::ListTeamsMeetingOnResponse {
        teams: out,
        next_page_token: next,
    }))
}

/// Everything moim holds about one member, for their data download.
pub(super) async fn export_member_team_data(
    moim: &Moim,
    req: Request<pb::ExportMemberTeamDataRequest>,
) -> Result<Response<pb::ExportMemberTeamDataResponse>, Status> {
    let mut v = Validator::new();
    let member = v
        .id("member_id", &req.get_ref().member_id)
        .unwrap_or_default();
    v.finish().map_err(MoimError::from)?;
    Ok(Response::new(pb::ExportMemberTeamDataResponse {
        json: moim.store.export_member(member).await?,
        generated_at: Some(moing_common::convert::timestamp(moing_common::clock::now())),
    }))
}
