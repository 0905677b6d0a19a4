//! `moing.board.v1.BoardService`: the goal board, notices and posts, votes and
//! reports. Every RPC checks the caller's membership first (NOT_FOUND for
//! non-members) and delegates to `posts`, `votes` or `goal`.

use std::sync::Arc;

use moing_common::{client::InternalChannel, layer::principal, outbox::Outbox};
use moing_proto::moing::{
    auth::v1::auth_internal_service_client::AuthInternalServiceClient,
    board::v1::{self as pb, board_service_server::BoardService},
    mission::v1::mission_internal_service_client::MissionInternalServiceClient,
};
use sqlx::MySqlPool;
use tonic::{Request, Response, Status};

use crate::{access::Members, ballot::BallotKeys, config::BoardSettings};

#[derive(Debug)]
pub struct Board {
    pub pool: MySqlPool,
    pub outbox: Outbox,
    pub members: Arc<Members>,
    pub auth: AuthInternalServiceClient<InternalChannel>,
    pub mission: MissionInternalServiceClient<InternalChannel>,
    pub settings: BoardSettings,
    /// The ballot keys from `settings` (current and previous).
    pub ballots: BallotKeys,
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl BoardService for Board {
    async fn get_goal_board(
        &self,
        req: Request<pb::GetGoalBoardRequest>,
    ) -> Reply<pb::GetGoalBoardResponse> {
        let me = principal(&req)?.member_id;
        let board = self.goal_board(me, &req.get_ref().team_id).await?;
        Ok(Response::new(pb::GetGoalBoardResponse {
            goal_board: Some(board),
        }))
    }

    async fn create_post(
        &self,
        req: Request<pb::CreatePostRequest>,
    ) -> Reply<pb::CreatePostResponse> {
        let me = principal(&req)?.member_id;
        let post = Board::create_post(self, me, req.into_inner()).await?;
        Ok(Response::new(pb::CreatePostResponse { post: Some(post) }))
    }

    async fn list_posts(&self, req: Request<pb::ListPostsRequest>) -> Reply<pb::ListPostsResponse> {
        let me = principal(&req)?.member_id;
        Ok(Response::new(
            Board::list_posts(self, me, req.into_inner()).await?,
        ))
    }

    async fn get_post(&self, req: Request<pb::GetPostRequest>) -> Reply<pb::GetPostResponse> {
        let me = principal(&req)?.member_id;
        let r = req.into_inner();
        let post = Board::get_post(self, me, &r.team_id, &r.post_id).await?;
        Ok(Response::new(pb::GetPostResponse { post: Some(post) }))
    }

    async fn update_post(
        &self,
        req: Request<pb::UpdatePostRequest>,
    ) -> Reply<pb::UpdatePostResponse> {
        let me = principal(&req)?.member_id;
        let post = Board::update_post(self, me, req.into_inner()).await?;
        Ok(Response::new(pb::UpdatePostResponse { post: Some(post) }))
    }

    async fn delete_post(
        &self,
        req: Request<pb::DeletePostRequest>,
    ) -> Reply<pb::DeletePostResponse> {
        let me = principal(&req)?.member_id;
        let r = req.into_inner();
        Board::delete_post(self, me, &r.team_id, &r.post_id).await?;
        Ok(Response::new(pb::DeletePostResponse {}))
    }

    async fn mark_post_read(
        &self,
        req: Request<pb::MarkPostReadRequest>,
    ) -> Reply<pb::MarkPostReadResponse> {
        let me = principal(&req)?.member_id;
        let r = req.into_inner();
        let (notices, posts) = self.mark_read(me, &r.team_id, &r.post_id).await?;
        Ok(Response::new(pb::MarkPostReadResponse {
            unread_notice_count: notices,
            unread_post_count: posts,
        }))
    }

    async fn get_unread_post_count(
        &self,
        req: Request<pb::GetUnreadPostCountRequest>,
    ) -> Reply<pb::GetUnreadPostCountResponse> {
        let me = principal(&req)?.member_id;
        let (notices, posts) = self.unread_counts(me, &req.get_ref().team_id).await?;
        Ok(Response::new(pb::GetUnreadPostCountResponse {
            unread_notice_count: notices,
            unread_post_count: posts,
        }))
    }

    async fn create_post_comment(
        &self,
        req: Request<pb::CreatePostCommentRequest>,
    ) -> Reply<pb::CreatePostCommentResponse> {
        let me = principal(&req)?.member_id;
        let comment = self.create_comment(me, req.into_inner()).await?;
        Ok(Response::new(pb::CreatePostCommentResponse {
            comment: Some(comment),
        }))
    }

    async fn list_post_comments(
        &self,
        req: Request<pb::ListPostCommentsRequest>,
    ) -> Reply<pb::ListPostCommentsResponse> {
        let me = principal(&req)?.member_id;
        Ok(Response::new(
            self.list_comments(me, req.into_inner()).await?,
        ))
    }

    async fn delete_post_comment(
        &self,
        req: Request<pb::DeletePostCommentRequest>,
    ) -> Reply<pb::DeletePostCommentResponse> {
        let me = principal(&req)?.member_id;
        self.delete_comment(me, req.into_inner()).await?;
        Ok(Response::new(pb::DeletePostCommentResponse {}))
    }

    async fn create_vote(
        &self,
        req: Request<pb::CreateVoteRequest>,
    ) -> Reply<pb::CreateVoteResponse> {
        let me = principal(&req)?.member_id;
        let vote = Board::create_vote(self, me, req.into_inner()).await?;
        Ok(Response::new(pb::CreateVoteResponse { vote: Some(vote) }))
    }

    async fn list_votes(&self, req: Request<pb::ListVotesRequest>) -> Reply<pb::ListVotesResponse> {
        let me = principal(&req)?.member_id;
        let r = req.into_inner();
        let mut v = moing_common::Validator::new();
        let team = v.id("team_id", &r.team_id).unwrap_or_default();
        v.check(
            pb::VoteState::try_from(r.state).is_ok(),
            "state",
            "must be a VoteState (OPEN or CLOSED, or unset for all)",
        );
        v.finish().map_err(crate::error::BoardError::from)?;
        self.members.check(team, me).await?;
        let state = match pb::VoteState::try_from(r.state) {
            Ok(pb::VoteState::Open) => Some(true),
            Ok(pb::VoteState::Closed) => Some(false),
            _ => None,
        };
        let all = self.vote_summaries(team, me, state).await?;
        let mut v = moing_common::Validator::new();
        let (votes, next) = v.page(&all, r.page_size, &r.page_token);
        v.finish().map_err(crate::error::BoardError::from)?;
        Ok(Response::new(pb::ListVotesResponse {
            votes,
            next_page_token: next,
        }))
    }

    async fn get_vote(&self, req: Request<pb::GetVoteRequest>) -> Reply<pb::GetVoteResponse> {
        let me = principal(&req)?.member_id;
        let r = req.into_inner();
        let vote = Board::get_vote(self, me, &r.team_id, &r.vote_id).await?;
        Ok(Response::new(pb::GetVoteResponse { vote: Some(vote) }))
    }

    async fn cast_vote(&self, req: Request<pb::CastVoteRequest>) -> Reply<pb::CastVoteResponse> {
        let me = principal(&req)?.member_id;
        let r = req.into_inner();
        let vote = self
            .cast(me, &r.team_id, &r.vote_id, &r.option_ids, false)
            .await?;
        Ok(Response::new(pb::CastVoteResponse { vote: Some(vote) }))
    }

    async fn retract_vote(
        &self,
        req: Request<pb::RetractVoteRequest>,
    ) -> Reply<pb::RetractVoteResponse> {
        let me = principal(&req)?.member_id;
        let r = req.into_inner();
        let vote = self.cast(me, &r.team_id, &r.vote_id, &[], true).await?;
        Ok(Response::new(pb::RetractVoteResponse { vote: Some(vote) }))
    }

    async fn close_vote(&self, req: Request<pb::CloseVoteRequest>) -> Reply<pb::CloseVoteResponse> {
        let me = principal(&req)?.member_id;
        let r = req.into_inner();
        let vote = Board::close_vote(self, me, &r.team_id, &r.vote_id).await?;
        Ok(Response::new(pb::CloseVoteResponse { vote: Some(vote) }))
    }

    async fn report_post(
        &self,
        req: Request<pb::ReportPostRequest>,
    ) -> Reply<pb::ReportPostResponse> {
        let me = principal(&req)?.member_id;
        let r = req.into_inner();
        let moderation = self
            .report(me, &r.team_id, &r.post_id, None, r.reason, &r.text)
            .await?;
        Ok(Response::new(pb::ReportPostResponse {
            moderation: Some(moderation),
        }))
    }

    async fn report_post_comment(
        &self,
        req: Request<pb::ReportPostCommentRequest>,
    ) -> Reply<pb::ReportPostCommentResponse> {
        let me = principal(&req)?.member_id;
        let r = req.into_inner();
        let moderation = self
            .report(
                me,
                &r.team_id,
                &r.post_id,
                Some(&r.comment_id),
                r.reason,
                &r.text,
            )
            .await?;
        Ok(Response::new(pb::ReportPostCommentResponse {
            moderation: Some(moderation),
        }))
    }

    async fn list_reported_content(
        &self,
        req: Request<pb::ListReportedContentRequest>,
    ) -> Reply<pb::ListReportedContentResponse> {
        let me = principal(&req)?.member_id;
        Ok(Response::new(
            self.list_reported(me, req.into_inner()).await?,
        ))
    }

    async fn review_reported_content(
        &self,
        req: Request<pb::ReviewReportedContentRequest>,
    ) -> Reply<pb::ReviewReportedContentResponse> {
        let me = principal(&req)?.member_id;
        let item = self.review(me, req.into_inner()).await?;
        Ok(Response::new(pb::ReviewReportedContentResponse {
            item: Some(item),
        }))
    }
}
