//! Comments on posts: create, list (oldest first; blocked members' comments
//! hidden from the blocker), delete by the author or the leader.

use moing_common::layer::principal;
use moing_proto::moing::board::v1 as pb;
use tonic::{Request, Response};
use uuid::Uuid;

use super::{
    Board, Reply,
    wire::{self, Names},
};
use crate::{
    access::Access,
    domain::{Comment, CommentQuery, CommentRef, ContentKind, NewComment, may_delete_comment},
    error::BoardError,
};

impl Board {
    /// A comment as `me` sees it (body withheld when hidden for me or under review).
    async fn comment_view(
        &self,
        c: &Comment,
        (me, access): (Uuid, &Access),
        names: &Names,
    ) -> Result<pb::PostComment, BoardError> {
        let reviewer = access.author_or_leader(c.author_id, me);
        let s = self
            .store
            .standing(ContentKind::Comment, c.id, me, reviewer)
            .await?;
        Ok(wire::comment_pb(c, (me, access), names, &s))
    }
}

pub async fn create_post_comment(
    b: &Board,
    req: Request<pb::CreatePostCommentRequest>,
) -> Reply<pb::CreatePostCommentResponse> {
    let me = principal(&req)?.member_id;
    let new = NewComment::try_from(req.into_inner())?;
    let comment = moing_common::transaction!("board.create_comment", Result<pb::PostComment, BoardError>, {
        let access = b.members.check(new.team, me).await?;
        access.require_writable()?;
        let p = b.store.post(new.team, new.post, me).await?;
        let c = b.store.create_comment(me, &new, &p, &access.team_name).await?;
        let names = b.names_for(&[me]).await;
        b.comment_view(&c, (me, &access), &names).await
    })?;
    Ok(Response::new(pb::CreatePostCommentResponse {
        comment: Some(comment),
    }))
}

pub async fn list_post_comments(
    b: &Board,
    req: Request<pb::ListPostCommentsRequest>,
) -> Reply<pb::ListPostCommentsResponse> {
    let me = principal(&req)?.member_id;
    let q = CommentQuery::try_from(req.into_inner())?;
    let access = b.members.check(q.team, me).await?;
    b.store.post(q.team, q.post, me).await?;
    let comments = b.store.comments(q.team, q.post).await?;
    let authors: Vec<Uuid> = comments.iter().map(|c| c.author_id).collect();
    let blocked = b.members.blocked_by(me, &authors).await?;
    let visible: Vec<Comment> = comments
        .into_iter()
        .filter(|c| !blocked.contains(&c.author_id))
        .collect();
    let (page, next) = wire::page(&visible, &q.page)?;
    let authors: Vec<Uuid> = page.iter().map(|c| c.author_id).collect();
    let names = b.names_for(&authors).await;
    let mut out = Vec::with_capacity(page.len());
    for c in &page {
        out.push(b.comment_view(c, (me, &access), &names).await?);
    }
    Ok(Response::new(pb::ListPostCommentsResponse {
        comments: out,
        next_page_token: next,
    }))
}

pub async fn delete_post_comment(
    b: &Board,
    req: Request<pb::DeletePostCommentRequest>,
) -> Reply<pb::DeletePostCommentResponse> {
    let me = principal(&req)?.member_id;
    let at = CommentRef::try_from(req.into_inner())?;
    moing_common::transaction!("board.delete_comment", Result<(), BoardError>, {
        let access = b.members.check(at.team, me).await?;
        access.require_writable()?;
        let author = b.store.comment_author(at).await?;
        may_delete_comment(author, me, &access)?;
        b.store.delete_comment(me, at, author).await
    })?;
    Ok(Response::new(pb::DeletePostCommentResponse {}))
}
