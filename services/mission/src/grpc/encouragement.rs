//! Encouragement (`encouragement.proto`): hearts, stickers and comments on
//! proofs. Never on one's own proof; comments of blocked members disappear.

use moing_common::{Validator, layer::principal};
use moing_proto::moing::mission::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Missions,
    wire::{self, View, Viewer, comment_pb, ids, stickers_pb},
};
use crate::{
    access::Access,
    domain::{ContentKind, Mission, Proof},
    error::MissionError,
};

impl Missions {
    /// The proof an encouragement (or a report) targets, with the caller's
    /// team access.
    pub(super) async fn target(
        &self,
        team: &str,
        mission: &str,
        proof: &str,
        me: Uuid,
    ) -> Result<(Access, Mission, Proof), MissionError> {
        let mut v = Validator::new();
        let (team, mission) = ids(&mut v, team, mission);
        let proof = v.id("proof_id", proof).unwrap_or_default();
        v.finish()?;
        let (access, m) = self.mission_for(team, mission, me).await?;
        let p = self
            .store
            .proof(mission, proof)
            .await?
            .ok_or(MissionError::ProofNotFound)?;
        Ok((access, m, p))
    }

    /// The target of a reaction by `me`: someone else's proof, in a team
    /// that still takes writes.
    async fn reaction_target(
        &self,
        team: &str,
        mission: &str,
        proof: &str,
        me: Uuid,
    ) -> Result<(Access, Mission, Proof), MissionError> {
        let (access, m, p) = self.target(team, mission, proof, me).await?;
        if p.member_id == me {
            return Err(MissionError::OwnProof);
        }
        if !access.writable {
            return Err(MissionError::ReadOnly);
        }
        Ok((access, m, p))
    }

    pub(super) async fn add_heart_rpc(
        &self,
        req: Request<pb::AddHeartRequest>,
    ) -> Result<Response<pb::AddHeartResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let (access, m, p) = self
            .reaction_target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        self.store
            .heart(&m, &access.team_name, &p, who.member_id)
            .await?;
        let r = self.store.reactions(p.id, who.member_id).await?;
        Ok(Response::new(pb::AddHeartResponse {
            heart_count: r.hearts,
            hearted_by_me: r.hearted_by_me,
        }))
    }

    pub(super) async fn remove_heart_rpc(
        &self,
        req: Request<pb::RemoveHeartRequest>,
    ) -> Result<Response<pb::RemoveHeartResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let (_, _, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        self.store.unheart(&p, who.member_id).await?;
        let r = self.store.reactions(p.id, who.member_id).await?;
        Ok(Response::new(pb::RemoveHeartResponse {
            heart_count: r.hearts,
            hearted_by_me: r.hearted_by_me,
        }))
    }

    pub(super) async fn add_sticker_rpc(
        &self,
        req: Request<pb::AddStickerRequest>,
    ) -> Result<Response<pb::AddStickerResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let sticker = wire::sticker(r.kind)?;
        let (access, m, p) = self
            .reaction_target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        self.store
            .sticker(&m, &access.team_name, &p, who.member_id, sticker)
            .await?;
        let reactions = self.store.reactions(p.id, who.member_id).await?;
        Ok(Response::new(pb::AddStickerResponse {
            stickers: stickers_pb(&reactions),
        }))
    }

    pub(super) async fn remove_sticker_rpc(
        &self,
        req: Request<pb::RemoveStickerRequest>,
    ) -> Result<Response<pb::RemoveStickerResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let sticker = wire::sticker(r.kind)?;
        let (_, _, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        self.store.unsticker(&p, who.member_id, sticker).await?;
        let reactions = self.store.reactions(p.id, who.member_id).await?;
        Ok(Response::new(pb::RemoveStickerResponse {
            stickers: stickers_pb(&reactions),
        }))
    }

    pub(super) async fn create_proof_comment_rpc(
        &self,
        req: Request<pb::CreateProofCommentRequest>,
    ) -> Result<Response<pb::CreateProofCommentResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let content = v.text("content", &r.content, 1, 300);
        v.finish().map_err(MissionError::from)?;
        let (access, m, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        let c = self
            .store
            .comment(&m, &access.team_name, &p, who.member_id, &content)
            .await?;
        let viewer = Viewer {
            me: who.member_id,
            leader: access.leader,
        };
        Ok(Response::new(pb::CreateProofCommentResponse {
            comment: Some(comment_pb(&c, &m, viewer, access.leader, &View::visible())),
        }))
    }

    pub(super) async fn list_proof_comments_rpc(
        &self,
        req: Request<pb::ListProofCommentsRequest>,
    ) -> Result<Response<pb::ListProofCommentsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let (access, m, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        let all = self.store.comments(p.id).await?;
        // Comments of members blocked in either direction disappear, as their proofs do.
        let blocked = self
            .blocked_authors(who.member_id, all.iter().map(|c| c.member_id))
            .await?;
        let all: Vec<_> = all
            .into_iter()
            .filter(|c| !blocked.contains(&c.member_id))
            .collect();
        let mut v = Validator::new();
        let (chunk, next) = v.page(&all, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        let viewer = Viewer {
            me: who.member_id,
            leader: access.leader,
        };
        let mut comments = Vec::with_capacity(chunk.len());
        for c in &chunk {
            let view = self
                .view(
                    ContentKind::Comment,
                    c.id,
                    who.member_id,
                    c.member_id,
                    access.leader,
                )
                .await?;
            comments.push(comment_pb(c, &m, viewer, false, &view));
        }
        Ok(Response::new(pb::ListProofCommentsResponse {
            comments,
            next_page_token: next,
        }))
    }

    pub(super) async fn delete_proof_comment_rpc(
        &self,
        req: Request<pb::DeleteProofCommentRequest>,
    ) -> Result<Response<pb::DeleteProofCommentResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let comment = v.id("comment_id", &r.comment_id).unwrap_or_default();
        v.finish().map_err(MissionError::from)?;
        let (access, _, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        let c = self
            .store
            .comments(p.id)
            .await?
            .into_iter()
            .find(|c| c.id == comment)
            .ok_or(MissionError::CommentNotFound)?;
        if c.member_id != who.member_id && !access.leader {
            return Err(MissionError::NotCommentAuthorOrLeader.into());
        }
        let comment_count = self.store.delete_comment(p.id, c.id).await?;
        Ok(Response::new(pb::DeleteProofCommentResponse {
            comment_count,
        }))
    }
}
