//! `moing.auth.v1.AuthInternalService` handlers: members' display data for
//! other services.

use moing_common::Validator;
use moing_proto::moing::auth::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{Auth, wire::summary_pb};
use crate::error::AuthError;

pub(super) async fn batch_get_members(
    auth: &Auth,
    req: Request<pb::BatchGetMembersRequest>,
) -> Result<Response<pb::BatchGetMembersResponse>, Status> {
    let body = req.into_inner();
    let mut v = Validator::new();
    v.check(
        body.member_ids.len() <= 100,
        "member_ids",
        "at most 100 ids per call",
    );
    let ids: Vec<Uuid> = v.ids("member_ids", &body.member_ids);
    v.finish().map_err(AuthError::from)?;
    let found = auth.store.batch_get(&ids).await?;
    let missing = ids
        .iter()
        .filter(|id| !found.iter().any(|m| m.id == **id))
        .map(Uuid::to_string)
        .collect();
    Ok(Response::new(pb::BatchGetMembersResponse {
        members: found.iter().map(summary_pb).collect(),
        missing_member_ids: missing,
    }))
}

pub(super) async fn get_member(
    auth: &Auth,
    req: Request<pb::GetMemberRequest>,
) -> Result<Response<pb::GetMemberResponse>, Status> {
    let mut v = Validator::new();
    let id = v.id("member_id", &req.get_ref().member_id);
    v.finish().map_err(AuthError::from)?;
    let id = id.ok_or(AuthError::MemberNotFound)?;
    let member = auth.store.get(id).await?.ok_or(AuthError::MemberNotFound)?;
    Ok(Response::new(pb::GetMemberResponse {
        member: Some(summary_pb(&member)),
    }))
}
