//! Missions (`missions.proto`): create, read, list (a team's and the caller's
//! across teams), edit and end; and the reads every handler shares (the
//! caller's access, a mission with it, a member's progress).

use chrono::{DateTime, NaiveDate, Utc};
use moing_common::{Validator, layer::principal};
use moing_proto::moing::mission::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Missions,
    wire::{self, ended_filter, ids, kind_matches, mission_fields, progress_pb},
};
use crate::{
    access::Access,
    domain::{
        self, EndReason, Kind, Mission,
        progress::{MissionSpan, Span, standing},
    },
    error::MissionError,
};

impl Missions {
    pub(super) async fn access(&self, team: Uuid, member: Uuid) -> Result<Access, MissionError> {
        self.members.check(team, member).await
    }

    /// The caller's access to `team` and its mission `id`.
    pub(super) async fn mission_for(
        &self,
        team: Uuid,
        id: Uuid,
        member: Uuid,
    ) -> Result<(Access, Mission), MissionError> {
        let access = self.access(team, member).await?;
        let m = self
            .store
            .mission(team, id)
            .await?
            .ok_or(MissionError::MissionNotFound)?;
        Ok((access, m))
    }

    /// A member's progress on a mission: the current period and the totals
    /// (`joined`: first day of their membership, when known).
    pub async fn progress(
        &self,
        m: &Mission,
        member: Uuid,
        joined: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<pb::MissionProgress, MissionError> {
        let rows = self.store.member_rows(m.team_id, m.id, member).await?;
        let spans = [Span {
            from: joined.unwrap_or(NaiveDate::MIN),
            to: None,
        }];
        Ok(progress_pb(m, &standing(m, &spans, &rows, now, None)))
    }

    /// A mission as `member` sees it, with their progress and the team's.
    pub(super) async fn mission_pb(
        &self,
        m: &Mission,
        access: &Access,
        member: Uuid,
        now: DateTime<Utc>,
    ) -> Result<pb::Mission, MissionError> {
        let today = m.today(now);
        let from = match m.kind {
            Kind::Once => MissionSpan::of(m, now).start,
            Kind::Repeat => domain::week_start(today),
        };
        let (done_members, done_today) = self.store.done_members(m.id, from, today).await?;
        let mut pb = mission_fields(m);
        pb.can_manage = access.leader || m.maker_id == member;
        pb.my_progress = Some(self.progress(m, member, access.joined_on, now).await?);
        pb.team_progress = Some(pb::TeamMissionProgress {
            member_count: self.members.team_size(m.team_id).await?,
            done_member_count: done_members as i32,
            done_today_member_count: done_today as i32,
        });
        Ok(pb)
    }

    pub(super) async fn create_mission_rpc(
        &self,
        req: Request<pb::CreateMissionRequest>,
    ) -> Result<Response<pb::CreateMissionResponse>, Status> {
        let who = principal(&req)?;
        let now = moing_common::clock::now();
        let new = wire::new_mission(req.get_ref(), now)?;
        let access = self.access(new.team, who.member_id).await?;
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        if new.kind == Kind::Repeat && !access.leader {
            return Err(MissionError::RepeatNeedsLeader.into());
        }
        let m = new.create(who.member_id, access.time_zone.clone(), now);
        self.store.create(&m, &access.team_name).await?;
        Ok(Response::new(pb::CreateMissionResponse {
            mission: Some(self.mission_pb(&m, &access, who.member_id, now).await?),
        }))
    }

    pub(super) async fn get_mission_rpc(
        &self,
        req: Request<pb::GetMissionRequest>,
    ) -> Result<Response<pb::GetMissionResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &req.get_ref().team_id, &req.get_ref().mission_id);
        v.finish().map_err(MissionError::from)?;
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        Ok(Response::new(pb::GetMissionResponse {
            mission: Some(
                self.mission_pb(&m, &access, who.member_id, moing_common::clock::now())
                    .await?,
            ),
        }))
    }

    pub(super) async fn list_missions_rpc(
        &self,
        req: Request<pb::ListMissionsRequest>,
    ) -> Result<Response<pb::ListMissionsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id).unwrap_or_default();
        let ended = ended_filter(&mut v, r.state);
        v.check(
            pb::MissionKind::try_from(r.kind).is_ok(),
            "kind",
            "must be ONCE or REPEAT",
        );
        v.finish().map_err(MissionError::from)?;
        let access = self.access(team, who.member_id).await?;
        let now = moing_common::clock::now();
        let all: Vec<Mission> = self
            .store
            .missions(team, ended)
            .await?
            .into_iter()
            .filter(|m| kind_matches(r.kind, m))
            .collect();
        let mut v = Validator::new();
        let (chunk, next) = v.page(&all, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        let mut missions = Vec::with_capacity(chunk.len());
        for m in &chunk {
            missions.push(self.mission_pb(m, &access, who.member_id, now).await?);
        }
        Ok(Response::new(pb::ListMissionsResponse {
            missions,
            next_page_token: next,
        }))
    }

    pub(super) async fn list_my_missions_rpc(
        &self,
        req: Request<pb::ListMyMissionsRequest>,
    ) -> Result<Response<pb::ListMyMissionsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let ended = ended_filter(&mut v, r.state);
        v.check(
            pb::MissionKind::try_from(r.kind).is_ok(),
            "kind",
            "must be ONCE or REPEAT",
        );
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let mut all = Vec::new();
        for team in self.members.member_teams(who.member_id).await? {
            let Ok(team_id) = Uuid::parse_str(&team.team_id) else {
                continue;
            };
            for m in self.store.missions(team_id, ended).await? {
                if kind_matches(r.kind, &m) {
                    all.push((team.name.clone(), m));
                }
            }
        }
        all.sort_by_key(|(_, m)| std::cmp::Reverse(m.created_at));
        let mut v = Validator::new();
        let (chunk, next) = v.page(&all, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        let mut missions = Vec::with_capacity(chunk.len());
        for (team_name, m) in &chunk {
            let access = self.access(m.team_id, who.member_id).await?;
            missions.push(pb::MyMission {
                mission: Some(self.mission_pb(m, &access, who.member_id, now).await?),
                team_name: team_name.clone(),
            });
        }
        Ok(Response::new(pb::ListMyMissionsResponse {
            missions,
            next_page_token: next,
        }))
    }

    pub(super) async fn update_mission_rpc(
        &self,
        req: Request<pb::UpdateMissionRequest>,
    ) -> Result<Response<pb::UpdateMissionResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let now = moing_common::clock::now();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        let paths = r.update_mask.map(|m| m.paths).unwrap_or_default();
        v.check(
            !paths.is_empty(),
            "update_mask",
            "list the fields to change",
        );
        v.finish().map_err(MissionError::from)?;
        let (access, mut m) = self.mission_for(team, id, who.member_id).await?;
        if !(access.leader || m.maker_id == who.member_id) {
            return Err(MissionError::NotMakerOrLeader.into());
        }
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        if m.ended {
            return Err(MissionError::MissionEnded.into());
        }
        let input = r.mission.unwrap_or_default();
        wire::apply_edit(&mut m, &paths, &input, now)?;
        self.store.update(&m, who.member_id, paths.clone()).await?;
        let m = self
            .store
            .mission(team, id)
            .await?
            .ok_or(MissionError::MissionNotFound)?;
        Ok(Response::new(pb::UpdateMissionResponse {
            mission: Some(self.mission_pb(&m, &access, who.member_id, now).await?),
        }))
    }

    pub(super) async fn end_mission_rpc(
        &self,
        req: Request<pb::EndMissionRequest>,
    ) -> Result<Response<pb::EndMissionResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &req.get_ref().team_id, &req.get_ref().mission_id);
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        if !(access.leader || m.maker_id == who.member_id) {
            return Err(MissionError::NotMakerOrLeader.into());
        }
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        if !self
            .store
            .end(&m, Some(who.member_id), EndReason::Manual, now)
            .await?
        {
            return Err(MissionError::MissionEnded.into());
        }
        let m = self
            .store
            .mission(team, id)
            .await?
            .ok_or(MissionError::MissionNotFound)?;
        Ok(Response::new(pb::EndMissionResponse {
            mission: Some(self.mission_pb(&m, &access, who.member_id, now).await?),
        }))
    }
}
