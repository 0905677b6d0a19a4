//! Notices and posts: create, list (notices first, newest first), get, edit and
//! delete by the author, delete by the leader, per-member read marks and unread
//! counts (a late joiner sees earlier notices as unread too). Blocked members'
//! posts are hidden from the blocker.

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
    domain::{ContentKind, NewPost, Post, PostEdit, PostQuery, PostRef, TeamRef},
    error::BoardError,
};

impl Board {
    /// Display data of members (nickname, image) from auth.
    pub(super) async fn names_for(&self, ids: &[Uuid]) -> Names {
        moing_common::display::names(&self.auth, ids).await
    }

    /// A post as `me` sees it (body withheld when hidden for me or under review).
    pub(super) async fn post_view(
        &self,
        p: &Post,
        (me, access): (Uuid, &Access),
        names: &Names,
        leader: Option<Uuid>,
    ) -> Result<pb::Post, BoardError> {
        let reviewer = access.author_or_leader(p.author_id, me);
        let s = self
            .store
            .standing(ContentKind::Post, p.id, me, reviewer)
            .await?;
        Ok(wire::post_pb(p, (me, access), names, leader, &s))
    }

    /// What `me` just wrote, as they see it.
    async fn own_post(
        &self,
        at: PostRef,
        me: Uuid,
        access: &Access,
    ) -> Result<pb::Post, BoardError> {
        let p = self.store.post(at.team, at.post, me).await?;
        let names = self.names_for(&[me]).await;
        self.post_view(&p, (me, access), &names, access.leader_of(me))
            .await
    }
}

pub async fn create_post(
    b: &Board,
    req: Request<pb::CreatePostRequest>,
) -> Reply<pb::CreatePostResponse> {
    let me = principal(&req)?.member_id;
    let new = NewPost::try_from(req.into_inner())?;
    let post = moing_common::transaction!("board.create_post", Result<pb::Post, BoardError>, {
        let access = b.members.check(new.team, me).await?;
        new.check(&access)?;
        let id = b.store.create_post(me, &new, &access.team_name).await?;
        let at = PostRef { team: new.team, post: id };
        b.own_post(at, me, &access).await
    })?;
    Ok(Response::new(pb::CreatePostResponse { post: Some(post) }))
}

pub async fn list_posts(
    b: &Board,
    req: Request<pb::ListPostsRequest>,
) -> Reply<pb::ListPostsResponse> {
    let me = principal(&req)?.member_id;
    let q = PostQuery::try_from(req.into_inner())?;
    let access = b.members.check(q.team, me).await?;
    let posts = b.store.posts(q.team, me, q.notices_only).await?;
    let authors: Vec<Uuid> = posts.iter().map(|p| p.author_id).collect();
    let blocked = b.members.blocked_by(me, &authors).await?;
    let visible: Vec<Post> = posts
        .into_iter()
        .filter(|p| !blocked.contains(&p.author_id))
        .collect();
    let (page, next) = wire::page(&visible, &q.page)?;
    let authors: Vec<Uuid> = page.iter().map(|p| p.author_id).collect();
    let names = b.names_for(&authors).await;
    let mut out = Vec::with_capacity(page.len());
    for p in &page {
        out.push(b.post_view(p, (me, &access), &names, None).await?);
    }
    Ok(Response::new(pb::ListPostsResponse {
        posts: out,
        next_page_token: next,
    }))
}

pub async fn get_post(b: &Board, req: Request<pb::GetPostRequest>) -> Reply<pb::GetPostResponse> {
    let me = principal(&req)?.member_id;
    let at = PostRef::try_from(req.into_inner())?;
    let access = b.members.check(at.team, me).await?;
    let p = b.store.post(at.team, at.post, me).await?;
    if !b.members.blocked_by(me, &[p.author_id]).await?.is_empty() {
        return Err(BoardError::PostNotFound.into());
    }
    let names = b.names_for(&[p.author_id]).await;
    let post = b.post_view(&p, (me, &access), &names, None).await?;
    Ok(Response::new(pb::GetPostResponse { post: Some(post) }))
}

pub async fn update_post(
    b: &Board,
    req: Request<pb::UpdatePostRequest>,
) -> Reply<pb::UpdatePostResponse> {
    let me = principal(&req)?.member_id;
    let edit = PostEdit::try_from(req.into_inner())?;
    let post = moing_common::transaction!("board.update_post", Result<pb::Post, BoardError>, {
        let access = b.members.check(edit.team, me).await?;
        access.require_writable()?;
        let before = b.store.post(edit.team, edit.post, me).await?;
        edit.check(&before, me, &access)?;
        b.store.update_post(me, &edit, &before, &access.team_name).await?;
        let at = PostRef { team: edit.team, post: edit.post };
        b.own_post(at, me, &access).await
    })?;
    Ok(Response::new(pb::UpdatePostResponse { post: Some(post) }))
}

pub async fn delete_post(
    b: &Board,
    req: Request<pb::DeletePostRequest>,
) -> Reply<pb::DeletePostResponse> {
    let me = principal(&req)?.member_id;
    let at = PostRef::try_from(req.into_inner())?;
    moing_common::transaction!("board.delete_post", Result<(), BoardError>, {
        let access = b.members.check(at.team, me).await?;
        access.require_writable()?;
        let p = b.store.post(at.team, at.post, me).await?;
        p.require_author_or_leader(me, &access)?;
        b.store.delete_post(me, at, &p).await
    })?;
    Ok(Response::new(pb::DeletePostResponse {}))
}

pub async fn mark_post_read(
    b: &Board,
    req: Request<pb::MarkPostReadRequest>,
) -> Reply<pb::MarkPostReadResponse> {
    let me = principal(&req)?.member_id;
    let at = PostRef::try_from(req.into_inner())?;
    b.members.check(at.team, me).await?;
    b.store.post(at.team, at.post, me).await?;
    let unread = b.store.mark_read(at, me).await?;
    // The reader's unread counts are part of their goal board.
    b.live.changed(&[at.team]).await;
    Ok(Response::new(pb::MarkPostReadResponse {
        unread_notice_count: unread.notices,
        unread_post_count: unread.posts,
    }))
}

pub async fn get_unread_post_count(
    b: &Board,
    req: Request<pb::GetUnreadPostCountRequest>,
) -> Reply<pb::GetUnreadPostCountResponse> {
    let me = principal(&req)?.member_id;
    let TeamRef { team } = TeamRef::try_from(req.into_inner())?;
    b.members.check(team, me).await?;
    let unread = b.store.unread(team, me).await?;
    Ok(Response::new(pb::GetUnreadPostCountResponse {
        unread_notice_count: unread.notices,
        unread_post_count: unread.posts,
    }))
}
