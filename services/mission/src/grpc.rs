//! The mission service's gRPC surface: the service struct and, for
//! `moing.mission.v1.MissionService` and `MissionInternalService`, a table of
//! contents — every RPC in proto order, delegating to its handler in
//! `grpc/<resource>.rs` (named after `proto/moing/mission/v1/<resource>.proto`):
//! `missions`, `uploads`, `proofs`, `encouragement`, `pokes`, `reports`,
//! `internal` and `goal` (GetTeamProgress). `wire` turns requests into domain
//! inputs and domain values into messages.

mod activity;
mod encouragement;
mod goal;
mod internal;
mod missions;
mod pokes;
mod proofs;
mod reports;
mod seal;
mod uploads;
pub mod wire;

use std::sync::Arc;

use moing_proto::moing::mission::v1::{
    self as pb, mission_internal_service_server::MissionInternalService,
    mission_service_server::MissionService,
};
use tonic::{Request, Response, Status};

use crate::{access::Memberships, storage::Storage, store::Store};

#[derive(Debug)]
pub struct Missions {
    pub store: Store,
    pub members: Arc<Memberships>,
    pub storage: Storage,
}

#[tonic::async_trait]
impl MissionService for Missions {
    async fn create_mission(
        &self,
        r: Request<pb::CreateMissionRequest>,
    ) -> Result<Response<pb::CreateMissionResponse>, Status> {
        self.create_mission_rpc(r).await
    }
    async fn get_mission(
        &self,
        r: Request<pb::GetMissionRequest>,
    ) -> Result<Response<pb::GetMissionResponse>, Status> {
        self.get_mission_rpc(r).await
    }
    async fn list_missions(
        &self,
        r: Request<pb::ListMissionsRequest>,
    ) -> Result<Response<pb::ListMissionsResponse>, Status> {
        self.list_missions_rpc(r).await
    }
    async fn list_my_missions(
        &self,
        r: Request<pb::ListMyMissionsRequest>,
    ) -> Result<Response<pb::ListMyMissionsResponse>, Status> {
        self.list_my_missions_rpc(r).await
    }
    async fn update_mission(
        &self,
        r: Request<pb::UpdateMissionRequest>,
    ) -> Result<Response<pb::UpdateMissionResponse>, Status> {
        self.update_mission_rpc(r).await
    }
    async fn end_mission(
        &self,
        r: Request<pb::EndMissionRequest>,
    ) -> Result<Response<pb::EndMissionResponse>, Status> {
        self.end_mission_rpc(r).await
    }
    async fn create_upload(
        &self,
        r: Request<pb::CreateUploadRequest>,
    ) -> Result<Response<pb::CreateUploadResponse>, Status> {
        self.create_upload_rpc(r).await
    }
    async fn get_download_urls(
        &self,
        r: Request<pb::GetDownloadUrlsRequest>,
    ) -> Result<Response<pb::GetDownloadUrlsResponse>, Status> {
        self.get_download_urls_rpc(r).await
    }
    async fn submit_proof(
        &self,
        r: Request<pb::SubmitProofRequest>,
    ) -> Result<Response<pb::SubmitProofResponse>, Status> {
        self.submit_proof_rpc(r).await
    }
    async fn skip_mission(
        &self,
        r: Request<pb::SkipMissionRequest>,
    ) -> Result<Response<pb::SkipMissionResponse>, Status> {
        self.skip_mission_rpc(r).await
    }
    async fn delete_proof(
        &self,
        r: Request<pb::DeleteProofRequest>,
    ) -> Result<Response<pb::DeleteProofResponse>, Status> {
        self.delete_proof_rpc(r).await
    }
    async fn list_proofs(
        &self,
        r: Request<pb::ListProofsRequest>,
    ) -> Result<Response<pb::ListProofsResponse>, Status> {
        self.list_proofs_rpc(r).await
    }
    async fn get_proof(
        &self,
        r: Request<pb::GetProofRequest>,
    ) -> Result<Response<pb::GetProofResponse>, Status> {
        self.get_proof_rpc(r).await
    }
    async fn add_heart(
        &self,
        r: Request<pb::AddHeartRequest>,
    ) -> Result<Response<pb::AddHeartResponse>, Status> {
        self.add_heart_rpc(r).await
    }
    async fn remove_heart(
        &self,
        r: Request<pb::RemoveHeartRequest>,
    ) -> Result<Response<pb::RemoveHeartResponse>, Status> {
        self.remove_heart_rpc(r).await
    }
    async fn add_sticker(
        &self,
        r: Request<pb::AddStickerRequest>,
    ) -> Result<Response<pb::AddStickerResponse>, Status> {
        self.add_sticker_rpc(r).await
    }
    async fn remove_sticker(
        &self,
        r: Request<pb::RemoveStickerRequest>,
    ) -> Result<Response<pb::RemoveStickerResponse>, Status> {
        self.remove_sticker_rpc(r).await
    }
    async fn create_proof_comment(
        &self,
        r: Request<pb::CreateProofCommentRequest>,
    ) -> Result<Response<pb::CreateProofCommentResponse>, Status> {
        self.create_proof_comment_rpc(r).await
    }
    async fn list_proof_comments(
        &self,
        r: Request<pb::ListProofCommentsRequest>,
    ) -> Result<Response<pb::ListProofCommentsResponse>, Status> {
        self.list_proof_comments_rpc(r).await
    }
    async fn delete_proof_comment(
        &self,
        r: Request<pb::DeleteProofCommentRequest>,
    ) -> Result<Response<pb::DeleteProofCommentResponse>, Status> {
        self.delete_proof_comment_rpc(r).await
    }
    async fn list_poke_targets(
        &self,
        r: Request<pb::ListPokeTargetsRequest>,
    ) -> Result<Response<pb::ListPokeTargetsResponse>, Status> {
        self.list_poke_targets_rpc(r).await
    }
    async fn poke_member(
        &self,
        r: Request<pb::PokeMemberRequest>,
    ) -> Result<Response<pb::PokeMemberResponse>, Status> {
        self.poke_member_rpc(r).await
    }
    async fn get_team_score(
        &self,
        r: Request<pb::GetTeamScoreRequest>,
    ) -> Result<Response<pb::GetTeamScoreResponse>, Status> {
        self.get_team_score_rpc(r).await
    }
    async fn report_proof(
        &self,
        r: Request<pb::ReportProofRequest>,
    ) -> Result<Response<pb::ReportProofResponse>, Status> {
        self.report_proof_rpc(r).await
    }
    async fn report_proof_comment(
        &self,
        r: Request<pb::ReportProofCommentRequest>,
    ) -> Result<Response<pb::ReportProofCommentResponse>, Status> {
        self.report_proof_comment_rpc(r).await
    }
    async fn list_reported_content(
        &self,
        r: Request<pb::ListReportedContentRequest>,
    ) -> Result<Response<pb::ListReportedContentResponse>, Status> {
        self.list_reported_content_rpc(r).await
    }
    async fn review_reported_content(
        &self,
        r: Request<pb::ReviewReportedContentRequest>,
    ) -> Result<Response<pb::ReviewReportedContentResponse>, Status> {
        self.review_reported_content_rpc(r).await
    }
}

#[tonic::async_trait]
impl MissionInternalService for Missions {
    async fn get_team_progress(
        &self,
        r: Request<pb::GetTeamProgressRequest>,
    ) -> Result<Response<pb::GetTeamProgressResponse>, Status> {
        self.get_team_progress_rpc(r).await
    }
    async fn list_unproven_members(
        &self,
        r: Request<pb::ListUnprovenMembersRequest>,
    ) -> Result<Response<pb::ListUnprovenMembersResponse>, Status> {
        self.list_unproven_members_rpc(r).await
    }
    async fn list_missions_due_between(
        &self,
        r: Request<pb::ListMissionsDueBetweenRequest>,
    ) -> Result<Response<pb::ListMissionsDueBetweenResponse>, Status> {
        self.list_missions_due_between_rpc(r).await
    }
    async fn batch_get_team_scores(
        &self,
        r: Request<pb::BatchGetTeamScoresRequest>,
    ) -> Result<Response<pb::BatchGetTeamScoresResponse>, Status> {
        self.batch_get_team_scores_rpc(r).await
    }
    async fn presign_download_urls(
        &self,
        r: Request<pb::PresignDownloadUrlsRequest>,
    ) -> Result<Response<pb::PresignDownloadUrlsResponse>, Status> {
        self.presign_download_urls_rpc(r).await
    }
    async fn verify_upload(
        &self,
        r: Request<pb::VerifyUploadRequest>,
    ) -> Result<Response<pb::VerifyUploadResponse>, Status> {
        self.verify_upload_rpc(r).await
    }
    async fn delete_uploads(
        &self,
        r: Request<pb::DeleteUploadsRequest>,
    ) -> Result<Response<pb::DeleteUploadsResponse>, Status> {
        self.delete_uploads_rpc(r).await
    }
    async fn get_team_activity(
        &self,
        r: Request<pb::GetTeamActivityRequest>,
    ) -> Result<Response<pb::GetTeamActivityResponse>, Status> {
        Ok(Response::new(self.team_activity(r.into_inner()).await?))
    }
    async fn export_member_mission_data(
        &self,
        r: Request<pb::ExportMemberMissionDataRequest>,
    ) -> Result<Response<pb::ExportMemberMissionDataResponse>, Status> {
        let mut v = moing_common::Validator::new();
        let member = v.id("member_id", &r.into_inner().member_id);
        v.finish().map_err(crate::error::MissionError::from)?;
        let member = member.ok_or(crate::error::MissionError::Invalid(vec![]))?;
        Ok(Response::new(pb::ExportMemberMissionDataResponse {
            json: self.store.export_member(member).await?,
            generated_at: Some(moing_common::convert::timestamp(moing_common::clock::now())),
        }))
    }
    async fn get_team_version(
        &self,
        r: Request<pb::GetTeamVersionRequest>,
    ) -> Result<Response<pb::GetTeamVersionResponse>, Status> {
        let mut v = moing_common::Validator::new();
        let team = v.id("team_id", &r.into_inner().team_id);
        v.finish().map_err(crate::error::MissionError::from)?;
        let team = team.ok_or(crate::error::MissionError::Invalid(vec![]))?;
        Ok(Response::new(pb::GetTeamVersionResponse {
            version: self.store.team_version(team).await?,
        }))
    }
}
