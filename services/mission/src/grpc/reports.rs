//! Reports (`reports.proto`) on proofs and proof comments, the list of
//! reported content (the leader sees all, others their own) and the leader's
//! review; and what each viewer sees of an item under moderation.

use moing_common::{Validator, layer::principal, outbox::timestamp};
use moing_proto::moing::{mission::v1 as pb, moderation::v1 as mpb};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Missions,
    wire::{self, View, reported_pb, review_filter, review_state},
};
use crate::{
    domain::{ContentKind, Mission},
    error::MissionError,
    store::reports::NewReport,
};

/// What is reported: the item, its author, and the report's reason and text.
struct Reported<'a> {
    kind: ContentKind,
    id: Uuid,
    author: Uuid,
    reason: i32,
    text: &'a str,
}

impl Missions {
    /// What `viewer` sees of an item written by `author`.
    pub(super) async fn view(
        &self,
        kind: ContentKind,
        id: Uuid,
        viewer: Uuid,
        author: Uuid,
        leader: bool,
    ) -> Result<View, MissionError> {
        let s = self
            .store
            .standing(kind, id, viewer, viewer == author || leader)
            .await?;
        Ok(View::from(s))
    }

    /// Files the report of `reporter` and answers what they now see of the item.
    async fn file_report(
        &self,
        m: &Mission,
        leader: bool,
        reporter: Uuid,
        item: Reported<'_>,
    ) -> Result<mpb::Moderation, MissionError> {
        let reason = wire::report_reason(item.reason)?;
        if item.author == reporter {
            return Err(MissionError::CannotReportOwn);
        }
        self.store
            .report(NewReport {
                kind: item.kind,
                id: item.id,
                team: m.team_id,
                mission: m.id,
                author: item.author,
                reporter,
                reason,
                text: item.text,
            })
            .await?;
        let view = self
            .view(item.kind, item.id, reporter, item.author, leader)
            .await?;
        Ok(view.moderation)
    }

    pub(super) async fn report_proof_rpc(
        &self,
        req: Request<pb::ReportProofRequest>,
    ) -> Result<Response<pb::ReportProofResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let text = v.text("text", &r.text, 0, 300);
        v.finish().map_err(MissionError::from)?;
        let (access, m, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        let item = Reported {
            kind: ContentKind::Proof,
            id: p.id,
            author: p.member_id,
            reason: r.reason,
            text: &text,
        };
        let moderation = self
            .file_report(&m, access.leader, who.member_id, item)
            .await?;
        Ok(Response::new(pb::ReportProofResponse {
            moderation: Some(moderation),
        }))
    }

    pub(super) async fn report_proof_comment_rpc(
        &self,
        req: Request<pb::ReportProofCommentRequest>,
    ) -> Result<Response<pb::ReportProofCommentResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let text = v.text("text", &r.text, 0, 300);
        let comment = v.id("comment_id", &r.comment_id).unwrap_or_default();
        v.finish().map_err(MissionError::from)?;
        let (access, m, p) = self
            .target(&r.team_id, &r.mission_id, &r.proof_id, who.member_id)
            .await?;
        let c = self
            .store
            .comments(p.id)
            .await?
            .into_iter()
            .find(|c| c.id == comment)
            .ok_or(MissionError::CommentNotFound)?;
        let item = Reported {
            kind: ContentKind::Comment,
            id: c.id,
            author: c.member_id,
            reason: r.reason,
            text: &text,
        };
        let moderation = self
            .file_report(&m, access.leader, who.member_id, item)
            .await?;
        Ok(Response::new(pb::ReportProofCommentResponse {
            moderation: Some(moderation),
        }))
    }

    pub(super) async fn list_reported_content_rpc(
        &self,
        req: Request<pb::ListReportedContentRequest>,
    ) -> Result<Response<pb::ListReportedContentResponse>, Status> {
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id).unwrap_or_default();
        let state = review_filter(&mut v, r.state);
        v.finish().map_err(MissionError::from)?;
        let access = self.access(team, who.member_id).await?;
        let mut items = Vec::new();
        for item in self.store.moderated(team, state).await? {
            // The leader reviews everything; others see reports on their own content.
            let row = self.store.reported_item(item.kind, item.id).await?;
            let (author, mission) = (row.map(|r| r.0), row.map(|r| r.1));
            if !access.leader && author != Some(who.member_id) {
                continue;
            }
            items.push(reported_pb(&item, mission));
        }
        let mut v = Validator::new();
        let (chunk, next) = v.page(&items, r.page_size, &r.page_token);
        v.finish().map_err(MissionError::from)?;
        Ok(Response::new(pb::ListReportedContentResponse {
            items: chunk,
            next_page_token: next,
        }))
    }

    pub(super) async fn review_reported_content_rpc(
        &self,
        req: Request<pb::ReviewReportedContentRequest>,
    ) -> Result<Response<pb::ReviewReportedContentResponse>, Status> {
        use pb::ReportedContentKind as K;
        let who = principal(&req)?;
        let r = req.into_inner();
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id).unwrap_or_default();
        let id = v.id("content_id", &r.content_id).unwrap_or_default();
        let kind = match K::try_from(r.kind) {
            Ok(K::Proof) => Some(ContentKind::Proof),
            Ok(K::ProofComment) => Some(ContentKind::Comment),
            _ => None,
        };
        v.check(kind.is_some(), "kind", "must be PROOF or PROOF_COMMENT");
        let remove = moing_moderation::wire::review_decision(&mut v, r.decision);
        v.finish().map_err(MissionError::from)?;
        let (Some(kind), Some(remove)) = (kind, remove) else {
            return Err(MissionError::Invalid(vec![]).into());
        };
        let access = self.access(team, who.member_id).await?;
        // Who wrote it: the proof's or the comment's author, within this team.
        let author = self
            .store
            .author_in_team(kind, id, team)
            .await?
            .ok_or(match kind {
                ContentKind::Proof => MissionError::ProofNotFound,
                ContentKind::Comment => MissionError::CommentNotFound,
            })?;
        // The author may ask for a review; the leader decides (PRODUCT.md §6).
        if !access.leader {
            return Err(MissionError::NotLeader.into());
        }
        if author == who.member_id {
            return Err(MissionError::CannotReviewOwn.into());
        }
        self.store
            .review(kind, id, team, who.member_id, remove)
            .await?;
        let view = self
            .view(kind, id, who.member_id, author, access.leader)
            .await?;
        Ok(Response::new(pb::ReviewReportedContentResponse {
            item: Some(pb::ReportedContent {
                kind: r.kind,
                content_id: id.to_string(),
                report_count: view.moderation.report_count,
                state: review_state(view.state.as_deref()) as i32,
                hidden_at: view.hidden_at.map(timestamp),
                reviewed_at: view.reviewed_at.map(timestamp),
                ..Default::default()
            }),
        }))
    }
}
