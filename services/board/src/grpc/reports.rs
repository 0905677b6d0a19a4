//! Reports on posts and comments (`moing_moderation`): a report hides the
//! item for the reporter at once, enough reporters put it under the leader's
//! review; the leader sees the queue, authors see reports on their content.

use moing_common::layer::principal;
use moing_proto::moing::{board::v1 as pb, moderation::v1 as mpb};
use tonic::{Request, Response};
use uuid::Uuid;

use super::{Board, Reply, wire};
use crate::{
    domain::{ContentKind, NewReport, ReportQuery, ReportTarget, Review, sees_moderation},
    error::BoardError,
};

impl Board {
    /// Reports a post (no comment) or a comment; returns the reporter's view.
    async fn report(&self, me: Uuid, r: NewReport) -> Result<mpb::Moderation, BoardError> {
        moing_common::transaction!("board.report", Result<mpb::Moderation, BoardError>, {
            let access = self.members.check(r.team, me).await?;
            let p = self.store.post(r.team, r.post, me).await?;
            let target = match r.comment {
                None => ReportTarget {
                    kind: ContentKind::Post,
                    id: r.post,
                    post: r.post,
                    author: p.author_id,
                },
                Some(c) => ReportTarget {
                    kind: ContentKind::Comment,
                    id: c,
                    post: r.post,
                    author: self.store.comment_author_on(r.post, c).await?,
                },
            };
            target.check(me)?;
            self.store
                .file_report(me, &r, target, &p, &access.team_name)
                .await?;
            let s = self
                .store
                .standing(target.kind, target.id, me, access.leader)
                .await?;
            Ok(moing_moderation::wire::moderation_pb(&s))
        })
    }
}

pub async fn report_post(
    b: &Board,
    req: Request<pb::ReportPostRequest>,
) -> Reply<pb::ReportPostResponse> {
    let me = principal(&req)?.member_id;
    let moderation = b.report(me, NewReport::try_from(req.into_inner())?).await?;
    Ok(Response::new(pb::ReportPostResponse {
        moderation: Some(moderation),
    }))
}

pub async fn report_post_comment(
    b: &Board,
    req: Request<pb::ReportPostCommentRequest>,
) -> Reply<pb::ReportPostCommentResponse> {
    let me = principal(&req)?.member_id;
    let moderation = b.report(me, NewReport::try_from(req.into_inner())?).await?;
    Ok(Response::new(pb::ReportPostCommentResponse {
        moderation: Some(moderation),
    }))
}

pub async fn list_reported_content(
    b: &Board,
    req: Request<pb::ListReportedContentRequest>,
) -> Reply<pb::ListReportedContentResponse> {
    let me = principal(&req)?.member_id;
    let q = ReportQuery::try_from(req.into_inner())?;
    let access = b.members.check(q.team, me).await?;
    let mut items = Vec::new();
    for m in b.store.moderated(q.team, q.state).await? {
        let kind = ContentKind::from_stored(&m.kind);
        let Some(item) = b.store.reported_item(kind, m.content_id, q.team).await? else {
            continue;
        };
        if sees_moderation(&item, me, &access) {
            items.push(wire::reported_pb(&m, item));
        }
    }
    let (page, next) = wire::page(&items, &q.page)?;
    Ok(Response::new(pb::ListReportedContentResponse {
        items: page,
        next_page_token: next,
    }))
}

pub async fn review_reported_content(
    b: &Board,
    req: Request<pb::ReviewReportedContentRequest>,
) -> Reply<pb::ReviewReportedContentResponse> {
    let me = principal(&req)?.member_id;
    let r = Review::try_from(req.into_inner())?;
    let item = moing_common::transaction!("board.review", Result<pb::ReportedContent, BoardError>, {
        let access = b.members.check(r.team, me).await?;
        let item = b
            .store
            .reported_item(r.kind, r.id, r.team)
            .await?
            .ok_or(r.kind.not_found())?;
        r.check(&item, me, &access)?;
        b.store.review(me, &r, &item).await?;
        let s = b.store.standing(r.kind, r.id, me, true).await?;
        Ok(wire::reviewed_pb(&r, &item, &s))
    })?;
    Ok(Response::new(pb::ReviewReportedContentResponse {
        item: Some(item),
    }))
}
