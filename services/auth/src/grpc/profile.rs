//! Profile handlers: the caller's profile, its changes, and withdrawal
//! (refused while the member leads an active team; unlinks the provider
//! account where a provider token is given).

use moing_common::{Validator, layer::principal};
use moing_proto::moing::auth::v1 as pb;
use tonic::{Request, Response, Status};

use super::{
    Auth,
    wire::{member_pb, profile_change},
};
use crate::{
    domain::{Member, Provider, Status as MemberStatus},
    error::AuthError,
};

impl Auth {
    /// The caller as a member who has not withdrawn.
    pub(super) async fn current_member(&self, id: uuid::Uuid) -> Result<Member, AuthError> {
        let member = self.store.get(id).await?.ok_or(AuthError::MemberNotFound)?;
        if member.status == MemberStatus::Withdrawn {
            return Err(AuthError::MemberWithdrawn);
        }
        Ok(member)
    }

    /// Unlinks (Kakao) or revokes (Google, Apple) the provider account; the
    /// outcome is recorded, a failure does not stop the withdrawal.
    async fn unlink(&self, member: &Member, provider_token: &str) -> Result<(), String> {
        if provider_token.is_empty() {
            return Err("no provider token supplied".to_owned());
        }
        match member.provider {
            Provider::Kakao => self.kakao.unlink(provider_token).await,
            Provider::Google => self.google.revoke(provider_token).await,
            Provider::Apple => self.apple.revoke(provider_token).await,
            Provider::Development => Ok(()),
        }
    }
}

pub(super) async fn get_my_profile(
    auth: &Auth,
    req: Request<pb::GetMyProfileRequest>,
) -> Result<Response<pb::GetMyProfileResponse>, Status> {
    let who = principal(&req)?;
    let member = auth.current_member(who.member_id).await?;
    Ok(Response::new(pb::GetMyProfileResponse {
        member: Some(member_pb(&member)),
    }))
}

pub(super) async fn update_my_profile(
    auth: &Auth,
    req: Request<pb::UpdateMyProfileRequest>,
) -> Result<Response<pb::UpdateMyProfileResponse>, Status> {
    let who = principal(&req)?;
    let change = profile_change(req.into_inner(), who.member_id)?;
    let member = auth
        .store
        .update_profile(
            who.member_id,
            change.nickname.as_deref(),
            change.introduction.as_deref(),
            change.image.as_deref(),
        )
        .await?;
    Ok(Response::new(pb::UpdateMyProfileResponse {
        member: Some(member_pb(&member)),
    }))
}

pub(super) async fn withdraw(
    auth: &Auth,
    req: Request<pb::WithdrawRequest>,
) -> Result<Response<pb::WithdrawResponse>, Status> {
    let who = principal(&req)?;
    let body = req.into_inner();
    let mut v = Validator::new();
    v.text("reason", &body.reason, 0, 300);
    let provider_token = body.provider_token.trim().to_owned();
    v.check(
        provider_token.len() <= 8192,
        "provider_token",
        "is too long",
    );
    v.finish().map_err(AuthError::from)?;
    let member = auth.current_member(who.member_id).await?;
    if auth.leadership.leads_active_team(member.id).await? {
        return Err(AuthError::LeadsActiveTeam.into());
    }
    let unlink = auth.unlink(&member, &provider_token).await;
    if let Err(e) = &unlink {
        tracing::info!(member_id = %member.id, error = %e, "provider unlink not completed");
    }
    auth.sessions.revoke_all(member.id).await?;
    auth.store
        .withdraw(member.id, member.provider, unlink)
        .await?;
    tracing::info!(member_id = %member.id, "member withdrew");
    Ok(Response::new(pb::WithdrawResponse {}))
}
