//! Proofs (`proofs.proto`): submit (text, link, or an uploaded photo checked in
//! S3), skip, delete today's, list and read — with blocks between members
//! hiding each other's proofs.

use std::collections::{BTreeSet, HashSet};

use moing_common::{Validator, layer::principal};
use moing_proto::moing::mission::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Missions,
    wire::{View, ids, proof_pb},
};
use crate::{
    domain::{Body, ContentKind, NewProof, Proof, Reactions, photo_prefix},
    error::MissionError,
    storage::{self, MAX_BYTES, SNIFF_BYTES, TYPES},
};

impl Missions {
    /// Among `authors` (any number, repeats allowed): those blocked in either
    /// direction with `me`, in one call to moim per request.
    pub(super) async fn blocked_authors(
        &self,
        me: Uuid,
        authors: impl IntoIterator<Item = Uuid>,
    ) -> Result<HashSet<Uuid>, MissionError> {
        let others: BTreeSet<Uuid> = authors.into_iter().filter(|a| *a != me).collect();
        let others: Vec<Uuid> = others.into_iter().collect();
        let mut blocked = HashSet::new();
        // moim takes at most 500 candidates a call; a team is far smaller.
        for chunk in others.chunks(500) {
            blocked.extend(self.members.blocked_either_way(me, chunk).await?);
        }
        Ok(blocked)
    }

    /// The photo at `key` must be `member`'s upload for this mission, exist,
    /// be an accepted image and within the limit.
    async fn check_photo(&self, p: &NewProof, member: Uuid, key: &str) -> Result<(), MissionError> {
        let prefix = photo_prefix(p.team, p.mission, member);
        if !key.starts_with(&prefix) || key.contains("..") {
            return Err(MissionError::UploadScope);
        }
        // One proof per upload (checked here for a clear answer; the
        // unique key uk_proof_photo settles races).
        if self.store.photo_in_use(key).await? {
            return Err(MissionError::UploadAlreadyUsed);
        }
        let object = self
            .storage
            .head(key)
            .await?
            .ok_or(MissionError::UploadNotFound)?;
        if object.length > MAX_BYTES {
            return Err(MissionError::UploadTooLarge);
        }
        if !TYPES.iter().any(|(t, _)| *t == object.content_type) {
            return Err(MissionError::UploadType);
        }
        // The declared type is the client's word: the first bytes must
        // be an accepted image's signature.
        let head = self
            .storage
            .prefix(key, SNIFF_BYTES)
            .await?
            .ok_or(MissionError::UploadNotFound)?;
        if storage::sniff(&head).is_none() {
            return Err(MissionError::UploadNotImage);
        }
        Ok(())
    }

    /// Records a proof or skip; answers it with the member's new progress.
    async fn record(
        &self,
        p: NewProof,
        member: Uuid,
    ) -> Result<(pb::Proof, pb::MissionProgress), MissionError> {
        let now = moing_common::clock::now();
        let (access, m) = self.mission_for(p.team, p.mission, member).await?;
        if !access.writable {
            return Err(MissionError::ReadOnly);
        }
        if !m.open(now) {
            return Err(MissionError::MissionEnded);
        }
        if !p.body.fits(m.way) {
            return Err(MissionError::WayMismatch(
                "the proof does not match the mission's way",
            ));
        }
        if let Body::Photo(key) = &p.body {
            self.check_photo(&p, member, key).await?;
        }
        let active = self.members.team_members(p.team).await?.len();
        let proof = self
            .store
            .submit(
                &m,
                &access.team_name,
                member,
                p.body,
                &p.caption,
                now,
                active,
            )
            .await?;
        let today = m.today(now);
        Ok((
            proof_pb(
                &proof,
                member,
                today,
                &Reactions::default(),
                &View::visible(),
            ),
            self.progress(&m, member, access.joined_on, now).await?,
        ))
    }

    pub(super) async fn submit_proof_rpc(
        &self,
        req: Request<pb::SubmitProofRequest>,
    ) -> Result<Response<pb::SubmitProofResponse>, Status> {
        let who = principal(&req)?;
        let new = NewProof::try_from(req.get_ref())?;
        let (proof, progress) = self.record(new, who.member_id).await?;
        Ok(Response::new(pb::SubmitProofResponse {
            proof: Some(proof),
            my_progress: Some(progress),
        }))
    }

    pub(super) async fn skip_mission_rpc(
        &self,
        req: Request<pb::SkipMissionRequest>,
    ) -> Result<Response<pb::SkipMissionResponse>, Status> {
        let who = principal(&req)?;
        let new = NewProof::try_from(req.get_ref())?;
        let (proof, progress) = self.record(new, who.member_id).await?;
        Ok(Response::new(pb::SkipMissionResponse {
            proof: Some(proof),
            my_progress: Some(progress),
        }))
    }

    pub(super) async fn delete_proof_rpc(
        &self,
        req: Request<pb::DeleteProofRequest>,
    ) -> Result<Response<pb::DeleteProofResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        let proof_id = v.id("proof_id", &r.proof_id).unwrap_or_default();
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        let p = self
            .store
            .proof(id, proof_id)
            .await?
            .ok_or(MissionError::ProofNotFound)?;
        if p.member_id != who.member_id {
            return Err(MissionError::NotProofAuthor.into());
        }
        if !access.writable {
            return Err(MissionError::ReadOnly.into());
        }
        if p.day != m.today(now) {
            return Err(MissionError::ProofNotToday.into());
        }
        self.store.delete_proof(&p, now).await?;
        // A deleted photo proof takes its object with it (after the commit; a
        // failure leaves an orphan object, logged, never a broken proof).
        if let Some(key) = &p.photo_key
            && let Err(e) = self.storage.delete(key).await
        {
            tracing::warn!(error = %e, "photo of a deleted proof not removed");
        }
        Ok(Response::new(pb::DeleteProofResponse {
            my_progress: Some(
                self.progress(&m, who.member_id, access.joined_on, now)
                    .await?,
            ),
        }))
    }

    /// The proofs a ListProofs asks for, minus those of blocked members.
    async fn listed_proofs(
        &self,
        r: &pb::ListProofsRequest,
        mission: Uuid,
        me: Uuid,
    ) -> Result<Vec<Proof>, MissionError> {
        use pb::ProofAuthorFilter as F;
        let filter = match F::try_from(r.author) {
            Ok(F::Mine) => Some((me, true)),
            Ok(F::Others) => Some((me, false)),
            _ => None,
        };
        let author = if r.author_member_id.is_empty() {
            None
        } else {
            Uuid::parse_str(&r.author_member_id).ok()
        };
        let (any, skipped) = (
            pb::ProofStatus::Unspecified as i32,
            pb::ProofStatus::Skipped as i32,
        );
        let all: Vec<Proof> = self
            .store
            .proofs(mission, filter)
            .await?
            .into_iter()
            .filter(|p| author.is_none_or(|a| p.member_id == a))
            .filter(|p| r.status == any || (r.status == skipped) == p.skipped)
            .collect();
        // Blocked members' proofs disappear for the blocker (and the reverse).
        let blocked = self
            .blocked_authors(me, all.iter().map(|p| p.member_id))
            .await?;
        Ok(all
            .into_iter()
            .filter(|p| !blocked.contains(&p.member_id))
            .collect())
    }

    pub(super) async fn list_proofs_rpc(
        &self,
        req: Request<pb::ListProofsRequest>,
    ) -> Result<Response<pb::ListProofsResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        v.check(
            pb::ProofAuthorFilter::try_from(r.author).is_ok(),
            "author",
            "must be ALL, MINE or OTHERS",
        );
        v.check(
            pb::ProofStatus::try_from(r.status).is_ok(),
            "status",
            "must be DONE or SKIPPED",
        );
        v.finish().map_err(MissionError::from)?;
        let now = moing_common::clock::now();
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        let all = self.listed_proofs(&r, id, who.member_id).await?;
        let mut v = Validator::new();
        let (chunk, next) = v.page(&all, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        let today = m.today(now);
        let mut proofs = Vec::with_capacity(chunk.len());
        for p in &chunk {
            let reactions = self.store.reactions(p.id, who.member_id).await?;
            let view = self
                .view(
                    ContentKind::Proof,
                    p.id,
                    who.member_id,
                    p.member_id,
                    access.leader,
                )
                .await?;
            proofs.push(proof_pb(p, who.member_id, today, &reactions, &view));
        }
        Ok(Response::new(pb::ListProofsResponse {
            proofs,
            next_page_token: next,
        }))
    }

    pub(super) async fn get_proof_rpc(
        &self,
        req: Request<pb::GetProofRequest>,
    ) -> Result<Response<pb::GetProofResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let (team, id) = ids(&mut v, &r.team_id, &r.mission_id);
        let proof_id = v.id("proof_id", &r.proof_id).unwrap_or_default();
        v.finish().map_err(MissionError::from)?;
        let (access, m) = self.mission_for(team, id, who.member_id).await?;
        let p = self
            .store
            .proof(id, proof_id)
            .await?
            .ok_or(MissionError::ProofNotFound)?;
        let reactions = self.store.reactions(p.id, who.member_id).await?;
        let mut view = self
            .view(
                ContentKind::Proof,
                p.id,
                who.member_id,
                p.member_id,
                access.leader,
            )
            .await?;
        // A block in either direction withholds the proof as a report would.
        if !self
            .blocked_authors(who.member_id, [p.member_id])
            .await?
            .is_empty()
        {
            view.hide_for_me();
        }
        Ok(Response::new(pb::GetProofResponse {
            proof: Some(proof_pb(
                &p,
                who.member_id,
                m.today(moing_common::clock::now()),
                &reactions,
                &view,
            )),
        }))
    }
}
