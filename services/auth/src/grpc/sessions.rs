//! Session handlers: refresh-token rotation (with reuse detection), sign-out,
//! the member's sessions and their revocation, and the JWKS.

use moing_common::{Validator, layer::principal};
use moing_proto::moing::{
    auth::v1 as pb,
    events::v1::{SessionRevokeReason, SessionRevoked, event::Payload},
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Auth,
    sign_in::client_address,
    wire::{jwk_pb, session_pb, token_field, tokens_pb},
};
use crate::{domain::Status as MemberStatus, error::AuthError, sessions::Rotation};

impl Auth {
    /// Records a SessionRevoked event.
    async fn revoked_event(
        &self,
        member: Uuid,
        session: Uuid,
        reason: SessionRevokeReason,
    ) -> Result<(), AuthError> {
        self.store
            .emit(
                member,
                Payload::SessionRevoked(SessionRevoked {
                    session_id: session.to_string(),
                    reason: reason as i32,
                }),
            )
            .await
    }
}

pub(super) async fn refresh_token(
    auth: &Auth,
    req: Request<pb::RefreshTokenRequest>,
) -> Result<Response<pb::RefreshTokenResponse>, Status> {
    let address = client_address(&req, &auth.service_token);
    let mut v = Validator::new();
    let token = token_field(&mut v, "refresh_token", &req.get_ref().refresh_token);
    v.finish().map_err(AuthError::from)?;
    auth.sessions
        .limit("refresh", &address, auth.limits.refresh_per_address)
        .await?;
    if let Some(family) = auth.sessions.family_of(&token).await? {
        auth.sessions
            .limit(
                "refresh-family",
                &family.to_string(),
                auth.limits.refresh_per_family,
            )
            .await?;
    }
    let (rotation, issued) = auth.sessions.rotate(&token).await?;
    let (session, member_id) = match rotation {
        Rotation::Reused {
            session_id,
            member_id,
        } => {
            tracing::warn!(member_id = %member_id, session_id = %session_id, "refresh token reuse: session revoked");
            auth.revoked_event(
                member_id,
                session_id,
                SessionRevokeReason::RefreshTokenReused,
            )
            .await?;
            return Err(AuthError::RefreshTokenReused.into());
        }
        Rotation::Rotated {
            session_id,
            member_id,
        } => (session_id, member_id),
    };
    let issued = issued.ok_or(AuthError::RefreshTokenInvalid)?;
    let member = match auth.store.get(member_id).await? {
        Some(m) if m.status != MemberStatus::Withdrawn => m,
        _ => {
            auth.sessions.revoke(member_id, session).await?;
            return Err(AuthError::RefreshTokenInvalid.into());
        }
    };
    let access = auth.access_token(&member, session)?;
    Ok(Response::new(pb::RefreshTokenResponse {
        tokens: Some(tokens_pb(access, &issued, session)),
    }))
}

pub(super) async fn sign_out(
    auth: &Auth,
    req: Request<pb::SignOutRequest>,
) -> Result<Response<pb::SignOutResponse>, Status> {
    let who = principal(&req)?;
    if auth.sessions.revoke(who.member_id, who.session_id).await? {
        auth.revoked_event(
            who.member_id,
            who.session_id,
            SessionRevokeReason::SignedOut,
        )
        .await?;
    }
    Ok(Response::new(pb::SignOutResponse {}))
}

pub(super) async fn list_sessions(
    auth: &Auth,
    req: Request<pb::ListSessionsRequest>,
) -> Result<Response<pb::ListSessionsResponse>, Status> {
    let who = principal(&req)?;
    let body = req.into_inner();
    let all = auth.sessions.list(who.member_id).await?;
    let mut v = Validator::new();
    let (page, next) = v.page(&all, body.page_size, &body.page_token);
    v.finish().map_err(AuthError::from)?;
    Ok(Response::new(pb::ListSessionsResponse {
        sessions: page.iter().map(|s| session_pb(s, who.session_id)).collect(),
        next_page_token: next,
    }))
}

pub(super) async fn revoke_session(
    auth: &Auth,
    req: Request<pb::RevokeSessionRequest>,
) -> Result<Response<pb::RevokeSessionResponse>, Status> {
    let who = principal(&req)?;
    let mut v = Validator::new();
    let session = v.id("session_id", &req.get_ref().session_id);
    v.finish().map_err(AuthError::from)?;
    let session = session.ok_or(AuthError::SessionNotFound)?;
    if !auth.sessions.revoke(who.member_id, session).await? {
        return Err(AuthError::SessionNotFound.into());
    }
    auth.revoked_event(who.member_id, session, SessionRevokeReason::Revoked)
        .await?;
    Ok(Response::new(pb::RevokeSessionResponse {}))
}

pub(super) async fn get_jwks(
    auth: &Auth,
    _req: Request<pb::GetJwksRequest>,
) -> Result<Response<pb::GetJwksResponse>, Status> {
    Ok(Response::new(pb::GetJwksResponse {
        keys: auth.keys.jwks().into_iter().map(jwk_pb).collect(),
    }))
}
