//! `moing.board.v1.BoardInternalService` (service credential only): what the
//! notification service's vote reminders need, and a member's data export.

use moing_common::convert::timestamp;
use moing_proto::moing::board::v1 as pb;
use tonic::{Request, Response};
use uuid::Uuid;

use super::{Board, Reply, wire};
use crate::domain::{ClosingQuery, MemberExport, MemberRef, NonVotersQuery, voter_rows};

pub async fn list_votes_closing_between(
    b: &Board,
    req: Request<pb::ListVotesClosingBetweenRequest>,
) -> Reply<pb::ListVotesClosingBetweenResponse> {
    let q = ClosingQuery::try_from(req.into_inner())?;
    let votes: Vec<pb::ClosingVote> = b
        .store
        .closing_between(q.from, q.to)
        .await?
        .iter()
        .map(wire::closing_vote_pb)
        .collect();
    let (page, next) = wire::page(&votes, &q.page)?;
    Ok(Response::new(pb::ListVotesClosingBetweenResponse {
        votes: page,
        next_page_token: next,
    }))
}

pub async fn list_vote_non_voters(
    b: &Board,
    req: Request<pb::ListVoteNonVotersRequest>,
) -> Reply<pb::ListVoteNonVotersResponse> {
    let q = NonVotersQuery::try_from(req.into_inner())?;
    let found = b.store.vote(q.team, q.vote).await?;
    // Voter rows are member ids in a named vote and keyed tags in an
    // anonymous one: each asked member's rows are computed and looked up
    // (a tag cannot be turned back into a member).
    let voted = b.store.voter_rows_of(q.vote).await?;
    let non: Vec<String> = q
        .members
        .iter()
        .filter(|m| {
            !voter_rows(&found, **m, &b.ballots.all(q.vote, **m))
                .iter()
                .any(|r| voted.contains(r))
        })
        .map(Uuid::to_string)
        .collect();
    let (page, next) = wire::page(&non, &q.page)?;
    Ok(Response::new(pb::ListVoteNonVotersResponse {
        non_voter_member_ids: page,
        state: wire::vote_state(found.open),
        closes_at: found.closes_at.map(timestamp),
        next_page_token: next,
    }))
}

pub async fn export_member_board_data(
    b: &Board,
    req: Request<pb::ExportMemberBoardDataRequest>,
) -> Reply<pb::ExportMemberBoardDataResponse> {
    let MemberRef { member } = MemberRef::try_from(req.into_inner())?;
    let data = MemberExport {
        posts: b.store.exported_posts(member).await?,
        comments: b.store.exported_comments(member).await?,
        // Named votes only: the database cannot tell which anonymous votes a
        // member took part in (their voter rows are keyed tags, see `ballot`).
        votes: b.store.exported_votes(member).await?,
    };
    Ok(Response::new(pb::ExportMemberBoardDataResponse {
        json: wire::export_json(member, &data)?,
        generated_at: Some(timestamp(moing_common::clock::now())),
    }))
}
