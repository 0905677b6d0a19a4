//! Votes (투표): 2–10 options, single or multiple choice, anonymous or named,
//! optional deadline; cast or change until closed; close early by the author or
//! the leader (a deadline job closes the rest, `Store::close_due`).
//!
//! Anonymity: choices are stored under a ballot — an HMAC of (vote, member)
//! under the ballot secret, which lives in configuration only (`crate::ballot`)
//! — so neither an RPC nor a reader of the database can tell who chose what in
//! an anonymous vote, or even who voted; the service recomputes the caller's
//! own ballot to show them their choice.

use moing_common::layer::principal;
use moing_proto::moing::board::v1 as pb;
use tonic::{Request, Response};
use uuid::Uuid;

use super::{Board, Reply, wire};
use crate::{
    access::Access,
    domain::{Cast, NewVote, Vote, VoteQuery, VoteRef, voter_rows},
    error::BoardError,
};

impl Board {
    /// A vote with results as `me` sees it.
    async fn vote_view(&self, v: &Vote, me: Uuid, access: &Access) -> Result<pb::Vote, BoardError> {
        // My ballot under every recognised key (a rotation keeps it found).
        let ballots = self.ballots.all(v.id, me);
        let results = self.store.vote_results(v, me, &ballots).await?;
        let mut ids: Vec<Uuid> = results.named.iter().map(|(_, m)| *m).collect();
        ids.push(v.author_id);
        let names = self.names_for(&ids).await;
        Ok(wire::vote_pb(v, (me, access), &results, &names))
    }

    /// Summaries of a team's votes (optionally one state), newest first.
    pub(super) async fn vote_summaries(
        &self,
        team: Uuid,
        me: Uuid,
        open: Option<bool>,
    ) -> Result<Vec<pb::VoteSummary>, BoardError> {
        let votes = self.store.team_votes(team, open).await?;
        // Where I voted, in one query: my voter row of each vote is the member id
        // or, in an anonymous vote, a tag only this service can compute.
        let mut ids = Vec::new();
        let mut mine = Vec::new();
        for (v, _) in &votes {
            ids.push(v.id);
            mine.extend(voter_rows(v, me, &self.ballots.all(v.id, me)));
        }
        let voted_in = self.store.voted_in(&ids, &mine).await?;
        Ok(votes
            .iter()
            .map(|(v, voters)| wire::summary_pb(v, *voters, voted_in.contains(&v.id)))
            .collect())
    }

    /// Casts or changes (`chosen` non-empty) or retracts my choice.
    async fn cast(&self, me: Uuid, c: Cast) -> Result<pb::Vote, BoardError> {
        let access = self.members.check(c.team, me).await?;
        access.require_writable()?;
        let vote = self.store.vote(c.team, c.vote).await?;
        let valid = self.store.option_ids(c.vote).await?;
        vote.check_choice(&c.chosen, &valid)?;
        let ballots = self.ballots.all(c.vote, me);
        moing_common::transaction!("board.cast", Result<(), BoardError>, {
            self.store.cast(&vote, me, &ballots, &c.chosen, c.retract).await
        })?;
        let vote = self.store.vote(c.team, c.vote).await?;
        self.vote_view(&vote, me, &access).await
    }
}

pub async fn create_vote(
    b: &Board,
    req: Request<pb::CreateVoteRequest>,
) -> Reply<pb::CreateVoteResponse> {
    let me = principal(&req)?.member_id;
    let new = NewVote::try_from(req.into_inner())?;
    let vote = moing_common::transaction!("board.create_vote", Result<pb::Vote, BoardError>, {
        let access = b.members.check(new.team, me).await?;
        access.require_writable()?;
        let id = b.store.create_vote(me, &new, &access.team_name).await?;
        let v = b.store.vote(new.team, id).await?;
        b.vote_view(&v, me, &access).await
    })?;
    Ok(Response::new(pb::CreateVoteResponse { vote: Some(vote) }))
}

pub async fn list_votes(
    b: &Board,
    req: Request<pb::ListVotesRequest>,
) -> Reply<pb::ListVotesResponse> {
    let me = principal(&req)?.member_id;
    let q = VoteQuery::try_from(req.into_inner())?;
    b.members.check(q.team, me).await?;
    let all = b.vote_summaries(q.team, me, q.open).await?;
    let (votes, next) = wire::page(&all, &q.page)?;
    Ok(Response::new(pb::ListVotesResponse {
        votes,
        next_page_token: next,
    }))
}

pub async fn get_vote(b: &Board, req: Request<pb::GetVoteRequest>) -> Reply<pb::GetVoteResponse> {
    let me = principal(&req)?.member_id;
    let at = VoteRef::try_from(req.into_inner())?;
    let access = b.members.check(at.team, me).await?;
    let v = b.store.vote(at.team, at.vote).await?;
    let vote = b.vote_view(&v, me, &access).await?;
    Ok(Response::new(pb::GetVoteResponse { vote: Some(vote) }))
}

pub async fn cast_vote(
    b: &Board,
    req: Request<pb::CastVoteRequest>,
) -> Reply<pb::CastVoteResponse> {
    let me = principal(&req)?.member_id;
    let vote = b.cast(me, Cast::try_from(req.into_inner())?).await?;
    Ok(Response::new(pb::CastVoteResponse { vote: Some(vote) }))
}

pub async fn retract_vote(
    b: &Board,
    req: Request<pb::RetractVoteRequest>,
) -> Reply<pb::RetractVoteResponse> {
    let me = principal(&req)?.member_id;
    let vote = b.cast(me, Cast::try_from(req.into_inner())?).await?;
    Ok(Response::new(pb::RetractVoteResponse { vote: Some(vote) }))
}

pub async fn close_vote(
    b: &Board,
    req: Request<pb::CloseVoteRequest>,
) -> Reply<pb::CloseVoteResponse> {
    let me = principal(&req)?.member_id;
    let at = VoteRef::try_from(req.into_inner())?;
    let vote = moing_common::transaction!("board.close_vote", Result<pb::Vote, BoardError>, {
        let access = b.members.check(at.team, me).await?;
        access.require_writable()?;
        let v = b.store.vote(at.team, at.vote).await?;
        let reason = v.close_reason_for(me, &access)?;
        if !b.store.close_vote(&v, me, reason).await? {
            return Err(BoardError::VoteClosed);
        }
        let v = b.store.vote(at.team, at.vote).await?;
        b.vote_view(&v, me, &access).await
    })?;
    Ok(Response::new(pb::CloseVoteResponse { vote: Some(vote) }))
}
