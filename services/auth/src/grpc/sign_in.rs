//! Sign-in handlers: SignIn (a provider credential, or a nickname where
//! development sign-in is enabled), SignUp, CheckNickname; and the access
//! tokens they issue.

use chrono::{DateTime, Utc};
use moing_common::{
    Validator,
    layer::principal,
    outbox::timestamp,
    token::{MemberState, access_claims},
};
use moing_proto::moing::auth::v1 as pb;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{
    Auth,
    wire::{member_pb, tokens_pb},
};
use crate::{
    domain::{self, Member, Provider, SignIn, SignUp, Status as MemberStatus},
    error::AuthError,
    providers::Identity,
};

impl Auth {
    /// A signed access token for `member` in `session`, with its expiry.
    pub(super) fn access_token(
        &self,
        member: &Member,
        session: Uuid,
    ) -> Result<(String, DateTime<Utc>), AuthError> {
        let state = match member.status {
            MemberStatus::Pending => MemberState::Pending,
            MemberStatus::Active => MemberState::Active,
            MemberStatus::Withdrawn => return Err(AuthError::MemberWithdrawn),
        };
        let claims = access_claims(
            &self.issuer,
            &self.audience,
            member.id,
            session,
            state,
            self.access_ttl,
        );
        let expires = DateTime::from_timestamp(claims.exp, 0).unwrap_or_default();
        Ok((self.keys.current.sign(&claims)?, expires))
    }

    /// Who the credential says the caller is, asked of its provider.
    async fn identity(&self, provider: Provider, credential: &str) -> Result<Identity, AuthError> {
        match provider {
            Provider::Kakao => self.kakao.verify(credential).await,
            Provider::Google => self.google.verify(credential).await,
            Provider::Apple => self.apple.verify(credential).await,
            Provider::Development => {
                if !self.dev_sign_in {
                    return Err(AuthError::DevSignInDisabled);
                }
                Ok(Identity {
                    subject: credential.to_lowercase(),
                    email: None,
                })
            }
        }
    }
}

/// The calling address: the gateway's `x-forwarded-for` when the caller holds
/// the service credential (the gateway vouches for it), else the TCP peer; a
/// client talking to auth directly cannot choose its address.
pub(super) fn client_address<T>(req: &Request<T>, service_token: &str) -> String {
    let forwarded = moing_common::layer::holds_service_credential(req.metadata(), service_token)
        .then(|| {
            req.metadata()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next_back())
                .map(|v| v.trim().to_owned())
        })
        .flatten();
    forwarded
        .or_else(|| req.remote_addr().map(|a| a.ip().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

pub(super) async fn sign_in(
    auth: &Auth,
    req: Request<pb::SignInRequest>,
) -> Result<Response<pb::SignInResponse>, Status> {
    let address = client_address(&req, &auth.service_token);
    let input = SignIn::try_from(req.into_inner())?;
    auth.sessions
        .limit("sign-in", &address, auth.limits.sign_in_per_address)
        .await?;
    let identity = auth.identity(input.provider, &input.credential).await?;
    let (member, created) = auth.store.sign_in(input.provider, &identity).await?;
    let session = Uuid::now_v7();
    let refresh = auth
        .sessions
        .open(session, member.id, &input.device_name, input.platform)
        .await?;
    let access = auth.access_token(&member, session)?;
    tracing::info!(member_id = %member.id, provider = input.provider.as_str(), created, "signed in");
    Ok(Response::new(pb::SignInResponse {
        tokens: Some(tokens_pb(access, &refresh, session)),
        sign_up_required: member.status == MemberStatus::Pending,
        member: Some(member_pb(&member)),
    }))
}

pub(super) async fn sign_up(
    auth: &Auth,
    req: Request<pb::SignUpRequest>,
) -> Result<Response<pb::SignUpResponse>, Status> {
    let who = principal(&req)?;
    let input = SignUp::try_from(req.into_inner())?;
    let member = auth
        .store
        .sign_up(
            who.member_id,
            &input.nickname,
            input.gender,
            input.birth_date,
        )
        .await?;
    let (access, expires) = auth.access_token(&member, who.session_id)?;
    Ok(Response::new(pb::SignUpResponse {
        member: Some(member_pb(&member)),
        access_token: access,
        access_token_expires_at: Some(timestamp(expires)),
    }))
}

pub(super) async fn check_nickname(
    auth: &Auth,
    req: Request<pb::CheckNicknameRequest>,
) -> Result<Response<pb::CheckNicknameResponse>, Status> {
    let who = principal(&req)?;
    let address = client_address(&req, &auth.service_token);
    let mut v = Validator::new();
    let nickname = domain::nickname(&mut v, "nickname", &req.get_ref().nickname);
    v.finish().map_err(AuthError::from)?;
    auth.sessions
        .limit(
            "nick-m",
            &who.member_id.to_string(),
            auth.limits.nickname_checks_per_member,
        )
        .await?;
    auth.sessions
        .limit("nick-a", &address, auth.limits.nickname_checks_per_address)
        .await?;
    let available = auth.store.nickname_available(&nickname).await?;
    Ok(Response::new(pb::CheckNicknameResponse { available }))
}
