//! `moing.board.v1.BoardInternalService` (service credential only): what the
//! notification service's vote reminders need, and a member's data export.

use chrono::NaiveDateTime;
use moing_common::{Validator, convert::timestamp};
use moing_proto::moing::board::v1::{
    self as pb, board_internal_service_server::BoardInternalService,
};
use sqlx::Row;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{error::BoardError, grpc::Board, votes::voter_rows};

fn utc(t: NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_naive_utc_and_offset(t, chrono::Utc)
}

#[tonic::async_trait]
impl BoardInternalService for Board {
    async fn list_votes_closing_between(
        &self,
        req: Request<pb::ListVotesClosingBetweenRequest>,
    ) -> Result<Response<pb::ListVotesClosingBetweenResponse>, Status> {
        let r = req.into_inner();
        let mut v = Validator::new();
        let from = r
            .closes_from
            .as_ref()
            .and_then(moing_common::convert::from_timestamp);
        let to = r
            .closes_to
            .as_ref()
            .and_then(moing_common::convert::from_timestamp);
        v.check(from.is_some(), "closes_from", "is required");
        v.check(to.is_some(), "closes_to", "is required");
        v.check(
            from.zip(to).is_none_or(|(f, t)| f <= t),
            "closes_to",
            "must not be before closes_from",
        );
        v.finish().map_err(BoardError::from)?;
        let (Some(from), Some(to)) = (from, to) else {
            return Err(BoardError::Invalid(vec![]).into());
        };
        let rows = sqlx::query("SELECT id, team_id, title, closes_at, anonymous FROM vote WHERE state = 'OPEN' AND closes_at BETWEEN ? AND ? ORDER BY closes_at, id")
            .bind(from.naive_utc())
            .bind(to.naive_utc())
            .fetch_all(&self.pool)
            .await
            .map_err(BoardError::from)?;
        let mut votes = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: Uuid = row.try_get("id").map_err(BoardError::from)?;
            let team: Uuid = row.try_get("team_id").map_err(BoardError::from)?;
            let closes: NaiveDateTime = row.try_get("closes_at").map_err(BoardError::from)?;
            votes.push(pb::ClosingVote {
                vote_id: id.to_string(),
                team_id: team.to_string(),
                title: row.try_get("title").map_err(BoardError::from)?,
                closes_at: Some(timestamp(utc(closes))),
                anonymous: row.try_get("anonymous").map_err(BoardError::from)?,
            });
        }
        let mut v = Validator::new();
        let (page, next) = v.page(&votes, r.page_size, &r.page_token);
        v.finish().map_err(BoardError::from)?;
        Ok(Response::new(pb::ListVotesClosingBetweenResponse {
            votes: page,
            next_page_token: next,
        }))
    }

    async fn list_vote_non_voters(
        &self,
        req: Request<pb::ListVoteNonVotersRequest>,
    ) -> Result<Response<pb::ListVoteNonVotersResponse>, Status> {
        let r = req.into_inner();
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id).unwrap_or_default();
        let vote = v.id("vote_id", &r.vote_id).unwrap_or_default();
        v.check(
            !r.member_ids.is_empty() && r.member_ids.len() <= 100,
            "member_ids",
            "give 1 to 100 members",
        );
        let members: Vec<Uuid> = r
            .member_ids
            .iter()
            .enumerate()
            .filter_map(|(i, m)| v.id(&format!("member_ids[{i}]"), m))
            .collect();
        v.finish().map_err(BoardError::from)?;
        let found = self.vote(team, vote).await?;
        // Voter rows are member ids in a named vote and keyed tags in an
        // anonymous one: each asked member's rows are computed and looked up
        // (a tag cannot be turned back into a member).
        let voted: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT voter FROM vote_voter WHERE vote_id = ?")
                .bind(vote)
                .fetch_all(&self.pool)
                .await
                .map_err(BoardError::from)?;
        let non: Vec<String> = members
            .iter()
            .filter(|m| {
                !voter_rows(&found, **m, &self.ballots.all(vote, **m))
                    .iter()
                    .any(|r| voted.contains(r))
            })
            .map(Uuid::to_string)
            .collect();
        let mut v = Validator::new();
        let (page, next) = v.page(&non, r.page_size, &r.page_token);
        v.finish().map_err(BoardError::from)?;
        Ok(Response::new(pb::ListVoteNonVotersResponse {
            non_voter_member_ids: page,
            state: if found.open {
                pb::VoteState::Open
            } else {
                pb::VoteState::Closed
            } as i32,
            closes_at: found.closes_at.map(timestamp),
            next_page_token: next,
        }))
    }

    async fn export_member_board_data(
        &self,
        req: Request<pb::ExportMemberBoardDataRequest>,
    ) -> Result<Response<pb::ExportMemberBoardDataResponse>, Status> {
        let r = req.into_inner();
        let mut v = Validator::new();
        let member = v.id("member_id", &r.member_id).unwrap_or_default();
        v.finish().map_err(BoardError::from)?;
        let posts = sqlx::query("SELECT id, team_id, title, content, is_notice, created_at FROM post WHERE author_id = ? AND deleted_at IS NULL ORDER BY created_at")
            .bind(member)
            .fetch_all(&self.pool)
            .await
            .map_err(BoardError::from)?;
        let comments = sqlx::query("SELECT id, team_id, post_id, content, created_at FROM post_comment WHERE author_id = ? AND deleted_at IS NULL ORDER BY created_at")
            .bind(member)
            .fetch_all(&self.pool)
            .await
            .map_err(BoardError::from)?;
        // Named votes only: the database cannot tell which anonymous votes a
        // member took part in (their voter rows are keyed tags, see `ballot`).
        let voted = sqlx::query("SELECT x.vote_id, v.title, v.anonymous, x.voted_at FROM vote_voter x JOIN vote v ON v.id = x.vote_id WHERE x.voter = ? AND v.anonymous = 0 ORDER BY x.voted_at")
            .bind(member)
            .fetch_all(&self.pool)
            .await
            .map_err(BoardError::from)?;
        let text =
            |r: &sqlx::mysql::MySqlRow, c: &str| r.try_get::<String, _>(c).unwrap_or_default();
        let id = |r: &sqlx::mysql::MySqlRow, c: &str| {
            r.try_get::<Uuid, _>(c)
                .map(|u| u.to_string())
                .unwrap_or_default()
        };
        let at = |r: &sqlx::mysql::MySqlRow, c: &str| {
            r.try_get::<NaiveDateTime, _>(c)
                .map(|t| utc(t).to_rfc3339())
                .unwrap_or_default()
        };
        let json = serde_json::json!({
            "member_id": member.to_string(),
            "posts": posts.iter().map(|r| serde_json::json!({"post_id": id(r, "id"), "team_id": id(r, "team_id"), "title": text(r, "title"), "content": text(r, "content"), "is_notice": r.try_get::<bool, _>("is_notice").unwrap_or(false), "created_at": at(r, "created_at")})).collect::<Vec<_>>(),
            "comments": comments.iter().map(|r| serde_json::json!({"comment_id": id(r, "id"), "team_id": id(r, "team_id"), "post_id": id(r, "post_id"), "content": text(r, "content"), "created_at": at(r, "created_at")})).collect::<Vec<_>>(),
            "votes": voted.iter().map(|r| serde_json::json!({"vote_id": id(r, "vote_id"), "title": text(r, "title"), "anonymous": r.try_get::<bool, _>("anonymous").unwrap_or(false), "voted_at": at(r, "voted_at")})).collect::<Vec<_>>(),
        });
        Ok(Response::new(pb::ExportMemberBoardDataResponse {
            json: serde_json::to_vec(&json).map_err(|e| BoardError::Internal(e.into()))?,
            generated_at: Some(timestamp(moing_common::clock::now())),
        }))
    }
}
