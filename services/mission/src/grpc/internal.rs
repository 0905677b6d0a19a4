//! `moing.mission.v1.MissionInternalService` (`internal.proto`, service
//! credential only): what notification's reminders and other services need —
//! missions due or unproven, team scores, and storage helpers for images owned
//! by other services. GetTeamProgress (the goal board's feed) is in `goal`.

use moing_common::{Validator, outbox::timestamp};
use moing_proto::moing::mission::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{Missions, wire::score_pb};
use crate::{
    domain::Kind,
    error::MissionError,
    storage::{MAX_BYTES, TYPES},
};

fn keys(v: &mut Validator, keys: &[String]) {
    v.check(
        !keys.is_empty() && keys.len() <= 100,
        "keys",
        "give 1 to 100 keys",
    );
    for (i, k) in keys.iter().enumerate() {
        v.check(
            !k.is_empty() && k.len() <= 300 && !k.contains(".."),
            &format!("keys[{i}]"),
            "is not an object key",
        );
    }
}

impl Missions {
    pub(super) async fn batch_get_team_scores_rpc(
        &self,
        req: Request<pb::BatchGetTeamScoresRequest>,
    ) -> Result<Response<pb::BatchGetTeamScoresResponse>, Status> {
        let r = req.into_inner();
        let mut v = Validator::new();
        v.check(
            r.team_ids.len() <= 100,
            "team_ids",
            "at most 100 teams per call",
        );
        let teams: Vec<Uuid> = v.ids("team_ids", &r.team_ids);
        v.finish().map_err(MissionError::from)?;
        let mut scores = Vec::with_capacity(teams.len());
        for team in teams {
            let (points, updated) = self.store.team_score(team).await?;
            scores.push(score_pb(team, points, updated, false));
        }
        Ok(Response::new(pb::BatchGetTeamScoresResponse { scores }))
    }

    pub(super) async fn presign_download_urls_rpc(
        &self,
        req: Request<pb::PresignDownloadUrlsRequest>,
    ) -> Result<Response<pb::PresignDownloadUrlsResponse>, Status> {
        let r = req.into_inner();
        let mut v = Validator::new();
        keys(&mut v, &r.keys);
        v.finish().map_err(MissionError::from)?;
        let expires = moing_common::clock::now()
            + chrono::Duration::seconds(self.storage.get_ttl().as_secs() as i64);
        let mut urls = Vec::with_capacity(r.keys.len());
        for key in r.keys {
            let url = self.storage.presign_get(&key).await?;
            urls.push(pb::DownloadUrl {
                key,
                url,
                expires_at: Some(timestamp(expires)),
            });
        }
        Ok(Response::new(pb::PresignDownloadUrlsResponse { urls }))
    }

    pub(super) async fn verify_upload_rpc(
        &self,
        req: Request<pb::VerifyUploadRequest>,
    ) -> Result<Response<pb::VerifyUploadResponse>, Status> {
        let r = req.into_inner();
        let mut v = Validator::new();
        let member = if r.member_id.is_empty() {
            None
        } else {
            v.id("member_id", &r.member_id)
        };
        let team = if r.team_id.is_empty() {
            None
        } else {
            v.id("team_id", &r.team_id)
        };
        let purpose = pb::UploadPurpose::try_from(r.purpose).ok();
        v.check(
            matches!(
                purpose,
                Some(pb::UploadPurpose::ProfileImage | pb::UploadPurpose::TeamImage)
            ),
            "purpose",
            "must be PROFILE_IMAGE or TEAM_IMAGE",
        );
        v.finish().map_err(MissionError::from)?;
        let scoped = match (purpose, member, team) {
            (Some(pb::UploadPurpose::ProfileImage), Some(m), _) => {
                r.key.starts_with(&format!("members/{m}/profile/"))
            }
            (Some(pb::UploadPurpose::TeamImage), _, Some(t)) => {
                r.key.starts_with(&format!("teams/{t}/image/"))
            }
            (Some(pb::UploadPurpose::TeamImage), Some(m), None) => {
                r.key.starts_with(&format!("members/{m}/team-images/"))
            }
            _ => false,
        };
        if !scoped || r.key.contains("..") {
            return Err(MissionError::UploadScope.into());
        }
        let object = self
            .storage
            .head(&r.key)
            .await?
            .ok_or(MissionError::UploadNotFound)?;
        if object.length > MAX_BYTES {
            return Err(MissionError::UploadTooLarge.into());
        }
        if !TYPES.iter().any(|(t, _)| *t == object.content_type) {
            return Err(MissionError::UploadType.into());
        }
        Ok(Response::new(pb::VerifyUploadResponse {
            content_type: object.content_type,
            content_length: object.length,
        }))
    }

    pub(super) async fn delete_uploads_rpc(
        &self,
        req: Request<pb::DeleteUploadsRequest>,
    ) -> Result<Response<pb::DeleteUploadsResponse>, Status> {
        let r = req.into_inner();
        let mut v = Validator::new();
        keys(&mut v, &r.keys);
        v.finish().map_err(MissionError::from)?;
        let mut deleted = 0;
        for key in &r.keys {
            if self.storage.delete(key).await.is_ok() {
                deleted += 1;
            }
        }
        Ok(Response::new(pb::DeleteUploadsResponse {
            deleted_count: deleted,
        }))
    }

    pub(super) async fn list_missions_due_between_rpc(
        &self,
        req: Request<pb::ListMissionsDueBetweenRequest>,
    ) -> Result<Response<pb::ListMissionsDueBetweenResponse>, Status> {
        let r = req.into_inner();
        let mut v = Validator::new();
        let from = r
            .deadline_from
            .as_ref()
            .and_then(moing_common::convert::from_timestamp);
        let to = r
            .deadline_to
            .as_ref()
            .and_then(moing_common::convert::from_timestamp);
        v.check(from.is_some(), "deadline_from", "is required");
        v.check(to.is_some(), "deadline_to", "is required");
        v.check(
            from.zip(to).is_none_or(|(f, t)| f <= t),
            "deadline_to",
            "must not be before deadline_from",
        );
        v.finish().map_err(MissionError::from)?;
        let (Some(from), Some(to)) = (from, to) else {
            return Err(MissionError::Invalid(vec![]).into());
        };
        let due = self.store.due_between(from, to).await?;
        let mut v = Validator::new();
        let (page, next) = v.page(&due, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let mut missions = Vec::with_capacity(page.len());
        for m in &page {
            let mut unproven = Vec::new();
            for (member, joined) in self.members.team_members(m.team_id).await? {
                let p = self.progress(m, member, Some(joined), now).await?;
                if !p.period_complete {
                    unproven.push(member.to_string());
                }
            }
            missions.push(pb::DueMission {
                team_id: m.team_id.to_string(),
                mission_id: m.id.to_string(),
                title: m.title.clone(),
                deadline: m.deadline.map(timestamp),
                unproven_member_ids: unproven,
            });
        }
        Ok(Response::new(pb::ListMissionsDueBetweenResponse {
            missions,
            next_page_token: next,
        }))
    }

    pub(super) async fn get_team_progress_rpc(
        &self,
        req: Request<pb::GetTeamProgressRequest>,
    ) -> Result<Response<pb::GetTeamProgressResponse>, Status> {
        Ok(Response::new(self.team_progress(req.into_inner()).await?))
    }

    pub(super) async fn list_unproven_members_rpc(
        &self,
        req: Request<pb::ListUnprovenMembersRequest>,
    ) -> Result<Response<pb::ListUnprovenMembersResponse>, Status> {
        let r = req.into_inner();
        let mut v = Validator::new();
        v.check(
            !r.team_ids.is_empty() && r.team_ids.len() <= 100,
            "team_ids",
            "give 1 to 100 teams",
        );
        let teams: Vec<Uuid> = v.ids("team_ids", &r.team_ids);
        v.finish().map_err(MissionError::from)?;
        let at =
            r.at.as_ref()
                .and_then(moing_common::convert::from_timestamp)
                .unwrap_or_else(moing_common::clock::now);
        let mut all = Vec::new();
        for team in teams {
            let members = self.members.team_members(team).await?;
            for m in self
                .store
                .missions(team, Some(false))
                .await?
                .into_iter()
                .filter(|m| m.open(at))
            {
                let mut unproven = Vec::new();
                for (member, joined) in &members {
                    let p = self.progress(&m, *member, Some(*joined), at).await?;
                    let proved_today = p.slot_status != pb::ProofSlotStatus::Open as i32;
                    if !p.period_complete && !proved_today {
                        unproven.push(pb::UnprovenMember {
                            member_id: member.to_string(),
                            done_count: p.done_count,
                            required_count: p.required_count,
                        });
                    }
                }
                if !unproven.is_empty() {
                    all.push(pb::UnprovenMission {
                        team_id: team.to_string(),
                        mission_id: m.id.to_string(),
                        title: m.title.clone(),
                        kind: pb::MissionKind::from(m.kind) as i32,
                        deadline: m.deadline.map(timestamp),
                        times_per_week: if m.kind == Kind::Repeat {
                            m.times_per_week.unwrap_or(0)
                        } else {
                            0
                        },
                        members: unproven,
                    });
                }
            }
        }
        let mut v = Validator::new();
        let (page, next) = v.page(&all, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        Ok(Response::new(pb::ListUnprovenMembersResponse {
            missions: page,
            next_page_token: next,
        }))
    }
}
