//! Block handlers: block and unblock a member, list whom the caller blocked.

use moing_common::{Validator, layer::principal};
use moing_proto::moing::moim::v1 as pb;
use tonic::{Request, Response, Status};

use super::{
    Moim,
    wire::{blocked_pb, id_of},
};
use crate::error::MoimError;

pub(super) async fn block_member(
    moim: &Moim,
    req: Request<pb::BlockMemberRequest>,
) -> Result<Response<pb::BlockMemberResponse>, Status> {
    let who = principal(&req)?;
    let mut v = Validator::new();
    let target = id_of(&mut v, "member_id", &req.get_ref().member_id);
    v.check(
        target != who.member_id,
        "member_id",
        "you cannot block yourself",
    );
    v.finish().map_err(MoimError::from)?;
    let at = moim.store.block(who.member_id, target).await?;
    Ok(Response::new(pb::BlockMemberResponse {
        blocked_member: Some(blocked_pb(target, at)),
    }))
}

pub(super) async fn unblock_member(
    moim: &Moim,
    req: Request<pb::UnblockMemberRequest>,
) -> Result<Response<pb::UnblockMemberResponse>, Status> {
    let who = principal(&req)?;
    let mut v = Validator::new();
    let target = id_of(&mut v, "member_id", &req.get_ref().member_id);
    v.finish().map_err(MoimError::from)?;
    let was = moim.store.unblock(who.member_id, target).await?;
    Ok(Response::new(pb::UnblockMemberResponse {
        was_blocked: was,
    }))
}

pub(super) async fn list_blocked_members(
    moim: &Moim,
    req: Request<pb::ListBlockedMembersRequest>,
) -> Result<Response<pb::ListBlockedMembersResponse>, Status> {
    let who = principal(&req)?;
    let r = req.into_inner();
    let blocks = moim.store.blocks_of(who.member_id).await?;
    let mut v = Validator::new();
    let (chunk, next) = v.page(&blocks, r.page_size, &r.page_token);
    v.finish().map_err(MoimError::from)?;
    Ok(Response::new(pb::ListBlockedMembersResponse {
        blocked_members: chunk.iter().map(|(id, at)| blocked_pb(*id, *at)).collect(),
        next_page_token: next,
    }))
}
