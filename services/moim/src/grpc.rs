//! `moing.moim.v1.TeamService` and `TeamInternalService`: the service struct
//! and, for each service, its methods in proto order, each handed to its
//! resource's handlers (`grpc/<resource>.rs`). A non-member gets
//! TEAM_NOT_FOUND for every team RPC (existence is not revealed); leader
//! actions need the leader; writes need an ACTIVE team.

use std::sync::Arc;

use moing_common::client::InternalChannel;
use moing_proto::moing::{
    auth::v1::auth_internal_service_client::AuthInternalServiceClient,
    moim::v1::{
        self as pb, team_internal_service_server::TeamInternalService,
        team_service_server::TeamService,
    },
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

mod blocks;
mod internal;
mod invites;
mod members;
mod schedule;
mod teams;
pub mod wire;

pub use invites::CODE_ATTEMPTS_PER_MINUTE;

#[derive(Debug)]
pub struct Moim {
    pub store: crate::store::Store,
    /// Display data (nickname, image) from auth; None where auth is not wired (tests).
    pub auth: Option<AuthInternalServiceClient<InternalChannel>>,
    /// Invite-code attempts per member per minute (brute-force guard).
    pub code_attempts: std::sync::Mutex<std::collections::HashMap<Uuid, (i64, u32)>>,
}

/// Shared handle for both services.
pub type Shared = Arc<Moim>;

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl TeamService for Moim {
    async fn create_team(
        &self,
        r: Request<pb::CreateTeamRequest>,
    ) -> Answer<pb::CreateTeamResponse> {
        teams::create_team(self, r).await
    }

    async fn get_team(&self, r: Request<pb::GetTeamRequest>) -> Answer<pb::GetTeamResponse> {
        teams::get_team(self, r).await
    }

    async fn list_my_teams(
        &self,
        r: Request<pb::ListMyTeamsRequest>,
    ) -> Answer<pb::ListMyTeamsResponse> {
        teams::list_my_teams(self, r).await
    }

    async fn update_team(
        &self,
        r: Request<pb::UpdateTeamRequest>,
    ) -> Answer<pb::UpdateTeamResponse> {
        teams::update_team(self, r).await
    }

    async fn extend_team_end_date(
        &self,
        r: Request<pb::ExtendTeamEndDateRequest>,
    ) -> Answer<pb::ExtendTeamEndDateResponse> {
        teams::extend_team_end_date(self, r).await
    }

    async fn disband_team(
        &self,
        r: Request<pb::DisbandTeamRequest>,
    ) -> Answer<pb::DisbandTeamResponse> {
        teams::disband_team(self, r).await
    }

    async fn create_invite(
        &self,
        r: Request<pb::CreateInviteRequest>,
    ) -> Answer<pb::CreateInviteResponse> {
        invites::create_invite(self, r).await
    }

    async fn list_invites(
        &self,
        r: Request<pb::ListInvitesRequest>,
    ) -> Answer<pb::ListInvitesResponse> {
        invites::list_invites(self, r).await
    }

    async fn revoke_invite(
        &self,
        r: Request<pb::RevokeInviteRequest>,
    ) -> Answer<pb::RevokeInviteResponse> {
        invites::revoke_invite(self, r).await
    }

    async fn preview_invite(
        &self,
        r: Request<pb::PreviewInviteRequest>,
    ) -> Answer<pb::PreviewInviteResponse> {
        invites::preview_invite(self, r).await
    }

    async fn join_team(&self, r: Request<pb::JoinTeamRequest>) -> Answer<pb::JoinTeamResponse> {
        invites::join_team(self, r).await
    }

    async fn list_team_members(
        &self,
        r: Request<pb::ListTeamMembersRequest>,
    ) -> Answer<pb::ListTeamMembersResponse> {
        members::list_team_members(self, r).await
    }

    async fn leave_team(&self, r: Request<pb::LeaveTeamRequest>) -> Answer<pb::LeaveTeamResponse> {
        members::leave_team(self, r).await
    }

    async fn remove_team_member(
        &self,
        r: Request<pb::RemoveTeamMemberRequest>,
    ) -> Answer<pb::RemoveTeamMemberResponse> {
        members::remove_team_member(self, r).await
    }

    async fn transfer_leadership(
        &self,
        r: Request<pb::TransferLeadershipRequest>,
    ) -> Answer<pb::TransferLeadershipResponse> {
        members::transfer_leadership(self, r).await
    }

    async fn get_meeting_schedule(
        &self,
        r: Request<pb::GetMeetingScheduleRequest>,
    ) -> Answer<pb::GetMeetingScheduleResponse> {
        schedule::get_meeting_schedule(self, r).await
    }

    async fn update_meeting_schedule(
        &self,
        r: Request<pb::UpdateMeetingScheduleRequest>,
    ) -> Answer<pb::UpdateMeetingScheduleResponse> {
        schedule::update_meeting_schedule(self, r).await
    }

    async fn block_member(
        &self,
        r: Request<pb::BlockMemberRequest>,
    ) -> Answer<pb::BlockMemberResponse> {
        blocks::block_member(self, r).await
    }

    async fn unblock_member(
        &self,
        r: Request<pb::UnblockMemberRequest>,
    ) -> Answer<pb::UnblockMemberResponse> {
        blocks::unblock_member(self, r).await
    }

    async fn list_blocked_members(
        &self,
        r: Request<pb::ListBlockedMembersRequest>,
    ) -> Answer<pb::ListBlockedMembersResponse> {
        blocks::list_blocked_members(self, r).await
    }
}

#[tonic::async_trait]
impl TeamInternalService for Moim {
    async fn export_member_team_data(
        &self,
        r: Request<pb::ExportMemberTeamDataRequest>,
    ) -> Answer<pb::ExportMemberTeamDataResponse> {
        internal::export_member_team_data(self, r).await
    }

    async fn check_membership(
        &self,
        r: Request<pb::CheckMembershipRequest>,
    ) -> Answer<pb::CheckMembershipResponse> {
        internal::check_membership(self, r).await
    }

    async fn batch_check_membership(
        &self,
        r: Request<pb::BatchCheckMembershipRequest>,
    ) -> Answer<pb::BatchCheckMembershipResponse> {
        internal::batch_check_membership(self, r).await
    }

    async fn get_team_summary(
        &self,
        r: Request<pb::GetTeamSummaryRequest>,
    ) -> Answer<pb::GetTeamSummaryResponse> {
        internal::get_team_summary(self, r).await
    }

    async fn list_member_teams(
        &self,
        r: Request<pb::ListMemberTeamsRequest>,
    ) -> Answer<pb::ListMemberTeamsResponse> {
        internal::list_member_teams(self, r).await
    }

    async fn filter_blocked_by(
        &self,
        r: Request<pb::FilterBlockedByRequest>,
    ) -> Answer<pb::FilterBlockedByResponse> {
        internal::filter_blocked_by(self, r).await
    }

    async fn member_leads_active_team(
        &self,
        r: Request<pb::MemberLeadsActiveTeamRequest>,
    ) -> Answer<pb::MemberLeadsActiveTeamResponse> {
        internal::member_leads_active_team(self, r).await
    }

    async fn list_teams_meeting_on(
        &self,
        r: Request<pb::ListTeamsMeetingOnRequest>,
    ) -> Answer<pb::ListTeamsMeetingOnResponse> {
        internal::list_teams_meeting_on(self, r).await
    }
}
