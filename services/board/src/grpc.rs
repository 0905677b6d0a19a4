//! `moing.board.v1.BoardService` and `BoardInternalService`: the service struct
//! and, in proto order, where each RPC is handled (`grpc/<resource>.rs`). Every
//! BoardService RPC checks the caller's membership first (NOT_FOUND for
//! non-members).

mod comments;
mod export;
mod goal;
mod internal;
mod posts;
mod reports;
mod votes;
pub mod wire;

use std::sync::Arc;

use moing_common::client::InternalChannel;
use moing_proto::moing::{
    auth::v1::auth_internal_service_client::AuthInternalServiceClient,
    board::v1::{
        self as pb, board_internal_service_server::BoardInternalService,
        board_service_server::BoardService,
    },
    mission::v1::mission_internal_service_client::MissionInternalServiceClient,
};
use tonic::{Request, Response, Status};

use crate::{access::Members, ballot::BallotKeys, config::BoardSettings, live::Live, store::Store};

#[derive(Debug, Clone)]
pub struct Board {
    pub store: Store,
    pub members: Arc<Members>,
    pub auth: AuthInternalServiceClient<InternalChannel>,
    pub mission: MissionInternalServiceClient<InternalChannel>,
    pub settings: BoardSettings,
    /// The ballot keys from `settings` (current and previous).
    pub ballots: BallotKeys,
    /// Which teams' boards changed, for WatchGoalBoard.
    pub live: Arc<Live>,
    /// Each team's shared board parts, built once per change.
    pub shared: Arc<crate::shared::Shared<goal::TeamBoard>>,
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl BoardService for Board {
    async fn get_goal_board(
        &self,
        r: Request<pb::GetGoalBoardRequest>,
    ) -> Reply<pb::GetGoalBoardResponse> {
        goal::get_goal_board(self, r).await
    }

    async fn watch_goal_board(
        &self,
        r: Request<pb::WatchGoalBoardRequest>,
    ) -> Reply<goal::WatchStream> {
        goal::watch_goal_board(self, r).await
    }

    async fn export_team_activity(
        &self,
        r: Request<pb::ExportTeamActivityRequest>,
    ) -> Reply<pb::ExportTeamActivityResponse> {
        export::export_team_activity(self, r).await
    }

    async fn create_post(
        &self,
        r: Request<pb::CreatePostRequest>,
    ) -> Reply<pb::CreatePostResponse> {
        posts::create_post(self, r).await
    }

    async fn list_posts(&self, r: Request<pb::ListPostsRequest>) -> Reply<pb::ListPostsResponse> {
        posts::list_posts(self, r).await
    }

    async fn get_post(&self, r: Request<pb::GetPostRequest>) -> Reply<pb::GetPostResponse> {
        posts::get_post(self, r).await
    }

    async fn update_post(
        &self,
        r: Request<pb::UpdatePostRequest>,
    ) -> Reply<pb::UpdatePostResponse> {
        posts::update_post(self, r).await
    }

    async fn delete_post(
        &self,
        r: Request<pb::DeletePostRequest>,
    ) -> Reply<pb::DeletePostResponse> {
        posts::delete_post(self, r).await
    }

    async fn mark_post_read(
        &self,
        r: Request<pb::MarkPostReadRequest>,
    ) -> Reply<pb::MarkPostReadResponse> {
        posts::mark_post_read(self, r).await
    }

    async fn get_unread_post_count(
        &self,
        r: Request<pb::GetUnreadPostCountRequest>,
    ) -> Reply<pb::GetUnreadPostCountResponse> {
        posts::get_unread_post_count(self, r).await
    }

    async fn create_post_comment(
        &self,
        r: Request<pb::CreatePostCommentRequest>,
    ) -> Reply<pb::CreatePostCommentResponse> {
        comments::create_post_comment(self, r).await
    }

    async fn list_post_comments(
        &self,
        r: Request<pb::ListPostCommentsRequest>,
    ) -> Reply<pb::ListPostCommentsResponse> {
        comments::list_post_comments(self, r).await
    }

    async fn delete_post_comment(
        &self,
        r: Request<pb::DeletePostCommentRequest>,
    ) -> Reply<pb::DeletePostCommentResponse> {
        comments::delete_post_comment(self, r).await
    }

    async fn create_vote(
        &self,
        r: Request<pb::CreateVoteRequest>,
    ) -> Reply<pb::CreateVoteResponse> {
        votes::create_vote(self, r).await
    }

    async fn list_votes(&self, r: Request<pb::ListVotesRequest>) -> Reply<pb::ListVotesResponse> {
        votes::list_votes(self, r).await
    }

    async fn get_vote(&self, r: Request<pb::GetVoteRequest>) -> Reply<pb::GetVoteResponse> {
        votes::get_vote(self, r).await
    }

    async fn cast_vote(&self, r: Request<pb::CastVoteRequest>) -> Reply<pb::CastVoteResponse> {
        votes::cast_vote(self, r).await
    }

    async fn retract_vote(
        &self,
        r: Request<pb::RetractVoteRequest>,
    ) -> Reply<pb::RetractVoteResponse> {
        votes::retract_vote(self, r).await
    }

    async fn close_vote(&self, r: Request<pb::CloseVoteRequest>) -> Reply<pb::CloseVoteResponse> {
        votes::close_vote(self, r).await
    }

    async fn report_post(
        &self,
        r: Request<pb::ReportPostRequest>,
    ) -> Reply<pb::ReportPostResponse> {
        reports::report_post(self, r).await
    }

    async fn report_post_comment(
        &self,
        r: Request<pb::ReportPostCommentRequest>,
    ) -> Reply<pb::ReportPostCommentResponse> {
        reports::report_post_comment(self, r).await
    }

    async fn list_reported_content(
        &self,
        r: Request<pb::ListReportedContentRequest>,
    ) -> Reply<pb::ListReportedContentResponse> {
        reports::list_reported_content(self, r).await
    }

    async fn review_reported_content(
        &self,
        r: Request<pb::ReviewReportedContentRequest>,
    ) -> Reply<pb::ReviewReportedContentResponse> {
        reports::review_reported_content(self, r).await
    }
}

#[tonic::async_trait]
impl BoardInternalService for Board {
    async fn list_votes_closing_between(
        &self,
        r: Request<pb::ListVotesClosingBetweenRequest>,
    ) -> Reply<pb::ListVotesClosingBetweenResponse> {
        internal::list_votes_closing_between(self, r).await
    }

    async fn list_vote_non_voters(
        &self,
        r: Request<pb::ListVoteNonVotersRequest>,
    ) -> Reply<pb::ListVoteNonVotersResponse> {
        internal::list_vote_non_voters(self, r).await
    }

    async fn export_member_board_data(
        &self,
        r: Request<pb::ExportMemberBoardDataRequest>,
    ) -> Reply<pb::ExportMemberBoardDataResponse> {
        internal::export_member_board_data(self, r).await
    }
}
