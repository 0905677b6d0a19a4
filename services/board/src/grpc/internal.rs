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
    let r = req.into_inner();
    let mut v = moing_common::Validator::new();
    v.check(r.team_ids.len() <= 500, "team_ids", "at most 500 teams");
    let teams = v.ids("team_ids", &r.team_ids);
    v.finish()?;
    let MemberRef { member } = MemberRef::try_from(pb::ExportMemberBoardDataRequest {
        member_id: r.member_id,
        team_ids: vec![],
    })?;
    let data = MemberExport {
        posts: b.store.exported_posts(member).await?,
        comments: b.store.exported_comments(member).await?,
        votes: b.store.exported_votes(member).await?,
    };
    // Anonymous votes of the member's teams that hold one of their keyed
    // voter tags: that they voted, and when the vote was, never what.
    let mut anonymous = Vec::new();
    for team in teams {
        let votes = b.store.team_votes(team, None).await?;
        let (mut ids, mut mine) = (Vec::new(), Vec::new());
        for (vote, _) in votes.iter().filter(|(v, _)| v.anonymous) {
            ids.push(vote.id);
            mine.extend(voter_rows(vote, member, &b.ballots.all(vote.id, member)));
        }
        let voted = b.store.voted_in(&ids, &mine).await?;
        anonymous.extend(
            votes
                .iter()
                .filter(|(v, _)| voted.contains(&v.id))
                .map(|(v, _)| (v.id, v.team_id, v.title.clone(), v.created_at)),
        );
    }
    let parts = b.store.export_parts(member).await?;
    Ok(Response::new(pb::ExportMemberBoardDataResponse {
        json: wire::export_json(member, &data, &anonymous, &parts)?,
        generated_at: Some(timestamp(moing_common::clock::now())),
    }))
}
