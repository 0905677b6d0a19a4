//! `moing.auth.v1.AuthService` and `AuthInternalService`: thin handlers —
//! validate, call the domain/store/session store, map errors.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Datelike, Utc};
use moing_common::{
    Validator,
    layer::principal,
    outbox::timestamp,
    token::{MemberState, access_claims},
};
use moing_proto::moing::{
    auth::v1::{
        self as pb, auth_internal_service_server::AuthInternalService,
        auth_service_server::AuthService, sign_in_request::Credential,
    },
    common::v1::ImageRef,
    events::v1::{SessionRevokeReason, SessionRevoked, event::Payload},
    moim::v1::{
        MemberLeadsActiveTeamRequest, team_internal_service_client::TeamInternalServiceClient,
    },
};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    config::{LimitSettings, Settings},
    domain::{self, Gender, Member, Provider, Status as MemberStatus},
    error::AuthError,
    keys::KeyRing,
    providers::{Identity, Kakao, Oidc},
    sessions::{Rotation, SessionStore},
    store::Store,
};

/// Asks whether a member leads an active team (withdrawal precondition).
#[tonic::async_trait]
pub trait LeadershipCheck: Send + Sync + 'static {
    async fn leads_active_team(&self, member: Uuid) -> Result<bool, AuthError>;
}

/// The production check: moim's internal API.
#[derive(Debug, Clone)]
pub struct MoimLeadership {
    pub client: TeamInternalServiceClient<moing_common::client::InternalChannel>,
}

#[tonic::async_trait]
impl LeadershipCheck for MoimLeadership {
    async fn leads_active_team(&self, member: Uuid) -> Result<bool, AuthError> {
        let resp = self
            .client
            .clone()
            .member_leads_active_team(MemberLeadsActiveTeamRequest {
                member_id: member.to_string(),
            })
            .await
            .map_err(|s| {
                tracing::warn!(code = ?s.code(), "moim leadership check failed");
                AuthError::DependencyUnavailable("the team service")
            })?;
        Ok(resp.into_inner().leads_active_team)
    }
}

/// Shared state of both services.
pub struct Auth {
    pub store: Store,
    pub sessions: SessionStore,
    pub keys: KeyRing,
    pub kakao: Kakao,
    pub google: Oidc,
    pub apple: Oidc,
    pub leadership: Arc<dyn LeadershipCheck>,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub dev_sign_in: bool,
    pub limits: LimitSettings,
    /// Callers holding it may state the client's address (the gateway).
    pub service_token: String,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth").finish_non_exhaustive()
    }
}

impl Auth {
    pub fn from_parts(
        settings: &Settings,
        store: Store,
        sessions: SessionStore,
        keys: KeyRing,
        http: reqwest::Client,
        leadership: Arc<dyn LeadershipCheck>,
    ) -> Self {
        Self {
            store,
            sessions,
            keys,
            kakao: Kakao::new(http.clone(), settings.kakao.clone()),
            google: Oidc::new("google", http.clone(), settings.google.clone()),
            apple: Oidc::new("apple", http, settings.apple.clone()),
            leadership,
            issuer: settings.base.auth.issuer.clone(),
            audience: settings.base.auth.audience.clone(),
            access_ttl: Duration::from_secs(settings.tokens.access_ttl_secs),
            dev_sign_in: settings.dev_sign_in_enabled(),
            limits: settings.limits.clone(),
            service_token: settings.base.auth.service_token.clone(),
        }
    }

    fn access_token(
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

/// The calling address: the gateway's `x-forwarded-for` when the caller holds
/// the service credential (the gateway vouches for it), else the TCP peer; a
/// client talking to auth directly cannot choose its address.
fn client_address<T>(req: &Request<T>, service_token: &str) -> String {
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

fn member_pb(m: &Member) -> pb::Member {
    pb::Member {
        member_id: m.id.to_string(),
        status: match m.status {
            MemberStatus::Pending => pb::MemberStatus::Pending,
            MemberStatus::Active => pb::MemberStatus::Active,
            MemberStatus::Withdrawn => pb::MemberStatus::Withdrawn,
        } as i32,
        nickname: m.nickname.clone().unwrap_or_default(),
        introduction: m.introduction.clone(),
        image: (!m.image_key.is_empty()).then(|| ImageRef {
            key: m.image_key.clone(),
            url: String::new(),
        }),
        gender: match m.gender {
            None => pb::Gender::Unspecified,
            Some(Gender::Male) => pb::Gender::Male,
            Some(Gender::Female) => pb::Gender::Female,
            Some(Gender::Other) => pb::Gender::Other,
        } as i32,
        birth_date: m.birth_date.map(|d| moing_proto::google::r#type::Date {
            year: d.year(),
            month: d.month() as i32,
            day: d.day() as i32,
        }),
        provider: match m.provider {
            Provider::Kakao => pb::SocialProvider::Kakao,
            Provider::Google => pb::SocialProvider::Google,
            Provider::Apple => pb::SocialProvider::Apple,
            Provider::Development => pb::SocialProvider::Development,
        } as i32,
        email: m.email.clone().unwrap_or_default(),
        created_at: Some(timestamp(m.created_at)),
        signed_up_at: m.signed_up_at.map(timestamp),
    }
}

fn summary_pb(m: &Member) -> pb::MemberSummary {
    let full = member_pb(m);
    pb::MemberSummary {
        member_id: full.member_id,
        nickname: full.nickname,
        image_key: m.image_key.clone(),
        status: full.status,
    }
}

fn tokens_pb(
    access: (String, DateTime<Utc>),
    refresh: &crate::sessions::Issued,
    session: Uuid,
) -> pb::AuthTokens {
    pb::AuthTokens {
        access_token: access.0,
        access_token_expires_at: Some(timestamp(access.1)),
        refresh_token: refresh.refresh_token.clone(),
        refresh_token_expires_at: Some(timestamp(refresh.expires_at)),
        session_id: session.to_string(),
    }
}

fn token_field(v: &mut Validator, field: &str, token: &str) -> String {
    let t = token.trim();
    if t.is_empty() {
        v.violation(field, "is required");
    } else if t.len() > 8192 {
        v.violation(field, "is too long");
    }
    t.to_owned()
}

#[tonic::async_trait]
impl AuthService for Auth {
    async fn sign_in(
        &self,
        req: Request<pb::SignInRequest>,
    ) -> Result<Response<pb::SignInResponse>, Status> {
        let address = client_address(&req, &self.service_token);
        let body = req.into_inner();
        let mut v = Validator::new();
        let credential = match body.credential {
            None => {
                v.violation(
                    "credential",
                    "one of kakao, google, apple or development is required",
                );
                None
            }
            Some(Credential::Kakao(c)) => Some((
                Provider::Kakao,
                token_field(&mut v, "kakao.access_token", &c.access_token),
            )),
            Some(Credential::Google(c)) => Some((
                Provider::Google,
                token_field(&mut v, "google.id_token", &c.id_token),
            )),
            Some(Credential::Apple(c)) => Some((
                Provider::Apple,
                token_field(&mut v, "apple.id_token", &c.id_token),
            )),
            Some(Credential::Development(c)) => Some((
                Provider::Development,
                domain::nickname(&mut v, "development.nickname", &c.nickname),
            )),
        };
        let (device_name, platform) = match body.device {
            None => {
                v.violation("device", "is required");
                (String::new(), 0)
            }
            Some(d) => {
                let name = v.text("device.name", &d.name, 1, 50);
                let platform_ok = matches!(
                    pb::DevicePlatform::try_from(d.platform),
                    Ok(pb::DevicePlatform::Android
                        | pb::DevicePlatform::Ios
                        | pb::DevicePlatform::Web)
                );
                v.check(
                    platform_ok,
                    "device.platform",
                    "must be ANDROID, IOS or WEB",
                );
                (name, d.platform)
            }
        };
        v.finish().map_err(AuthError::from)?;
        let Some((provider, credential)) = credential else {
            return Err(AuthError::Invalid(vec![]).into());
        };
        self.sessions
            .limit("sign-in", &address, self.limits.sign_in_per_address)
            .await?;
        let identity = match provider {
            Provider::Kakao => self.kakao.verify(&credential).await?,
            Provider::Google => self.google.verify(&credential).await?,
            Provider::Apple => self.apple.verify(&credential).await?,
            Provider::Development => {
                if !self.dev_sign_in {
                    return Err(AuthError::DevSignInDisabled.into());
                }
                Identity {
                    subject: credential.to_lowercase(),
                    email: None,
                }
            }
        };
        let (member, created) = self.store.sign_in(provider, &identity).await?;
        let session = Uuid::now_v7();
        let refresh = self
            .sessions
            .open(session, member.id, &device_name, platform)
            .await?;
        let access = self.access_token(&member, session)?;
        tracing::info!(member_id = %member.id, provider = provider.as_str(), created, "signed in");
        Ok(Response::new(pb::SignInResponse {
            tokens: Some(tokens_pb(access, &refresh, session)),
            sign_up_required: member.status == MemberStatus::Pending,
            member: Some(member_pb(&member)),
        }))
    }

    async fn sign_up(
        &self,
        req: Request<pb::SignUpRequest>,
    ) -> Result<Response<pb::SignUpResponse>, Status> {
        let who = principal(&req)?;
        let body = req.into_inner();
        let mut v = Validator::new();
        let nickname = domain::nickname(&mut v, "nickname", &body.nickname);
        let gender = match pb::Gender::try_from(body.gender) {
            Ok(pb::Gender::Unspecified) => None,
            Ok(pb::Gender::Male) => Some(Gender::Male),
            Ok(pb::Gender::Female) => Some(Gender::Female),
            Ok(pb::Gender::Other) => Some(Gender::Other),
            Err(_) => {
                v.violation("gender", "unknown value");
                None
            }
        };
        let birth = body
            .birth_date
            .and_then(|d| domain::birth_date(&mut v, "birth_date", d.year, d.month, d.day));
        v.finish().map_err(AuthError::from)?;
        let member = self
            .store
            .sign_up(who.member_id, &nickname, gender, birth)
            .await?;
        let (access, expires) = self.access_token(&member, who.session_id)?;
        Ok(Response::new(pb::SignUpResponse {
            member: Some(member_pb(&member)),
            access_token: access,
            access_token_expires_at: Some(timestamp(expires)),
        }))
    }

    async fn check_nickname(
        &self,
        req: Request<pb::CheckNicknameRequest>,
    ) -> Result<Response<pb::CheckNicknameResponse>, Status> {
        let who = principal(&req)?;
        let address = client_address(&req, &self.service_token);
        let mut v = Validator::new();
        let nickname = domain::nickname(&mut v, "nickname", &req.get_ref().nickname);
        v.finish().map_err(AuthError::from)?;
        self.sessions
            .limit(
                "nick-m",
                &who.member_id.to_string(),
                self.limits.nickname_checks_per_member,
            )
            .await?;
        self.sessions
            .limit("nick-a", &address, self.limits.nickname_checks_per_address)
            .await?;
        let available = self.store.nickname_available(&nickname).await?;
        Ok(Response::new(pb::CheckNicknameResponse { available }))
    }

    async fn refresh_token(
        &self,
        req: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::RefreshTokenResponse>, Status> {
        let address = client_address(&req, &self.service_token);
        let mut v = Validator::new();
        let token = token_field(&mut v, "refresh_token", &req.get_ref().refresh_token);
        v.finish().map_err(AuthError::from)?;
        self.sessions
            .limit("refresh", &address, self.limits.refresh_per_address)
            .await?;
        if let Some(family) = self.sessions.family_of(&token).await? {
            self.sessions
                .limit(
                    "refresh-family",
                    &family.to_string(),
                    self.limits.refresh_per_family,
                )
                .await?;
        }
        let (rotation, issued) = self.sessions.rotate(&token).await?;
        let (session, member_id) = match rotation {
            Rotation::Reused {
                session_id,
                member_id,
            } => {
                tracing::warn!(member_id = %member_id, session_id = %session_id, "refresh token reuse: session revoked");
                self.revoked_event(
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
        let member = match self.store.get(member_id).await? {
            Some(m) if m.status != MemberStatus::Withdrawn => m,
            _ => {
                self.sessions.revoke(member_id, session).await?;
                return Err(AuthError::RefreshTokenInvalid.into());
            }
        };
        let access = self.access_token(&member, session)?;
        Ok(Response::new(pb::RefreshTokenResponse {
            tokens: Some(tokens_pb(access, &issued, session)),
        }))
    }

    async fn sign_out(
        &self,
        req: Request<pb::SignOutRequest>,
    ) -> Result<Response<pb::SignOutResponse>, Status> {
        let who = principal(&req)?;
        if self.sessions.revoke(who.member_id, who.session_id).await? {
            self.revoked_event(
                who.member_id,
                who.session_id,
                SessionRevokeReason::SignedOut,
            )
            .await?;
        }
        Ok(Response::new(pb::SignOutResponse {}))
    }

    async fn list_sessions(
        &self,
        req: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let who = principal(&req)?;
        let body = req.into_inner();
        let all = self.sessions.list(who.member_id).await?;
        let mut v = Validator::new();
        let (page, next) = v.page(&all, body.page_size, &body.page_token);
        v.finish().map_err(AuthError::from)?;
        Ok(Response::new(pb::ListSessionsResponse {
            sessions: page
                .iter()
                .map(|s| pb::Session {
                    session_id: s.session_id.to_string(),
                    device_name: s.device_name.clone(),
                    platform: s.platform,
                    created_at: Some(timestamp(s.created_at)),
                    last_used_at: Some(timestamp(s.last_used_at)),
                    expires_at: Some(timestamp(s.expires_at)),
                    current: s.session_id == who.session_id,
                })
                .collect(),
            next_page_token: next,
        }))
    }

    async fn revoke_session(
        &self,
        req: Request<pb::RevokeSessionRequest>,
    ) -> Result<Response<pb::RevokeSessionResponse>, Status> {
        let who = principal(&req)?;
        let mut v = Validator::new();
        let session = v.id("session_id", &req.get_ref().session_id);
        v.finish().map_err(AuthError::from)?;
        let session = session.ok_or(AuthError::SessionNotFound)?;
        if !self.sessions.revoke(who.member_id, session).await? {
            return Err(AuthError::SessionNotFound.into());
        }
        self.revoked_event(who.member_id, session, SessionRevokeReason::Revoked)
            .await?;
        Ok(Response::new(pb::RevokeSessionResponse {}))
    }

    async fn get_jwks(
        &self,
        _req: Request<pb::GetJwksRequest>,
    ) -> Result<Response<pb::GetJwksResponse>, Status> {
        Ok(Response::new(pb::GetJwksResponse {
            keys: self
                .keys
                .jwks()
                .into_iter()
                .map(|k| pb::Jwk {
                    kty: k.kty,
                    crv: k.crv,
                    x: k.x,
                    y: String::new(),
                    kid: k.kid,
                    alg: k.alg,
                    r#use: k.use_,
                })
                .collect(),
        }))
    }

    async fn get_my_profile(
        &self,
        req: Request<pb::GetMyProfileRequest>,
    ) -> Result<Response<pb::GetMyProfileResponse>, Status> {
        let who = principal(&req)?;
        let member = self
            .store
            .get(who.member_id)
            .await?
            .ok_or(AuthError::MemberNotFound)?;
        if member.status == MemberStatus::Withdrawn {
            return Err(AuthError::MemberWithdrawn.into());
        }
        Ok(Response::new(pb::GetMyProfileResponse {
            member: Some(member_pb(&member)),
        }))
    }

    async fn update_my_profile(
        &self,
        req: Request<pb::UpdateMyProfileRequest>,
    ) -> Result<Response<pb::UpdateMyProfileResponse>, Status> {
        let who = principal(&req)?;
        let body = req.into_inner();
        let mut v = Validator::new();
        let paths = body.update_mask.map(|m| m.paths).unwrap_or_default();
        if paths.is_empty() {
            v.violation(
                "update_mask",
                "list at least one of nickname, introduction, image",
            );
        }
        let input = body.member.unwrap_or_default();
        let (mut nickname, mut intro, mut image) = (None, None, None);
        for path in &paths {
            match path.as_str() {
                "nickname" => {
                    nickname = Some(domain::nickname(&mut v, "member.nickname", &input.nickname))
                }
                "introduction" => {
                    intro = Some(v.text("member.introduction", &input.introduction, 0, 100))
                }
                "image" | "image.key" => {
                    let key = input.image.as_ref().map(|i| i.key.as_str()).unwrap_or("");
                    image = Some(domain::profile_image_key(
                        &mut v,
                        "member.image.key",
                        who.member_id,
                        key,
                    ));
                }
                other => v.violation(
                    "update_mask",
                    format!("unknown or read-only path {other:?}"),
                ),
            }
        }
        v.finish().map_err(AuthError::from)?;
        let member = self
            .store
            .update_profile(
                who.member_id,
                nickname.as_deref(),
                intro.as_deref(),
                image.as_deref(),
            )
            .await?;
        Ok(Response::new(pb::UpdateMyProfileResponse {
            member: Some(member_pb(&member)),
        }))
    }

    async fn withdraw(
        &self,
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
        let member = self
            .store
            .get(who.member_id)
            .await?
            .ok_or(AuthError::MemberNotFound)?;
        if member.status == MemberStatus::Withdrawn {
            return Err(AuthError::MemberWithdrawn.into());
        }
        if self.leadership.leads_active_team(member.id).await? {
            return Err(AuthError::LeadsActiveTeam.into());
        }
        let unlink = if provider_token.is_empty() {
            Err("no provider token supplied".to_owned())
        } else {
            match member.provider {
                Provider::Kakao => self.kakao.unlink(&provider_token).await,
                Provider::Google => self.google.revoke(&provider_token).await,
                Provider::Apple => self.apple.revoke(&provider_token).await,
                Provider::Development => Ok(()),
            }
        };
        if let Err(e) = &unlink {
            tracing::info!(member_id = %member.id, error = %e, "provider unlink not completed");
        }
        self.sessions.revoke_all(member.id).await?;
        self.store
            .withdraw(member.id, member.provider, unlink)
            .await?;
        tracing::info!(member_id = %member.id, "member withdrew");
        Ok(Response::new(pb::WithdrawResponse {}))
    }
}

#[tonic::async_trait]
impl AuthInternalService for Auth {
    async fn batch_get_members(
        &self,
        req: Request<pb::BatchGetMembersRequest>,
    ) -> Result<Response<pb::BatchGetMembersResponse>, Status> {
        let body = req.into_inner();
        let mut v = Validator::new();
        v.check(
            body.member_ids.len() <= 100,
            "member_ids",
            "at most 100 ids per call",
        );
        let ids: Vec<Uuid> = body
            .member_ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| v.id(&format!("member_ids[{i}]"), id))
            .collect();
        v.finish().map_err(AuthError::from)?;
        let found = self.store.batch_get(&ids).await?;
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

    async fn get_member(
        &self,
        req: Request<pb::GetMemberRequest>,
    ) -> Result<Response<pb::GetMemberResponse>, Status> {
        let mut v = Validator::new();
        let id = v.id("member_id", &req.get_ref().member_id);
        v.finish().map_err(AuthError::from)?;
        let id = id.ok_or(AuthError::MemberNotFound)?;
        let member = self.store.get(id).await?.ok_or(AuthError::MemberNotFound)?;
        Ok(Response::new(pb::GetMemberResponse {
            member: Some(summary_pb(&member)),
        }))
    }
}
