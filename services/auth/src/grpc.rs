//! `moing.auth.v1.AuthService` and `AuthInternalService`: the service struct
//! and, for each service, its methods in proto order, each handed to its
//! group's handlers (`grpc/sign_in.rs`, `grpc/sessions.rs`, `grpc/profile.rs`,
//! `grpc/internal.rs`); proto ⇄ domain in `grpc/wire.rs`.

use std::{sync::Arc, time::Duration};

use moing_proto::moing::auth::v1::{
    self as pb, auth_internal_service_server::AuthInternalService, auth_service_server::AuthService,
};
use tonic::{Request, Response, Status};

use crate::{
    config::{LimitSettings, Settings},
    keys::KeyRing,
    providers::{Kakao, Oidc},
    sessions::SessionStore,
    store::Store,
};

mod export;
mod internal;
mod profile;
mod sessions;
mod sign_in;
pub mod wire;

pub use crate::leadership::{LeadershipCheck, MoimLeadership};

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
    /// moim, mission, board and notification, for ExportMyData.
    pub peers: Option<export::Peers>,
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
            peers: export::Peers::from_settings(&settings.base),
        }
    }
}

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl AuthService for Auth {
    async fn sign_in(&self, r: Request<pb::SignInRequest>) -> Answer<pb::SignInResponse> {
        sign_in::sign_in(self, r).await
    }

    async fn sign_up(&self, r: Request<pb::SignUpRequest>) -> Answer<pb::SignUpResponse> {
        sign_in::sign_up(self, r).await
    }

    async fn check_nickname(
        &self,
        r: Request<pb::CheckNicknameRequest>,
    ) -> Answer<pb::CheckNicknameResponse> {
        sign_in::check_nickname(self, r).await
    }

    async fn refresh_token(
        &self,
        r: Request<pb::RefreshTokenRequest>,
    ) -> Answer<pb::RefreshTokenResponse> {
        sessions::refresh_token(self, r).await
    }

    async fn sign_out(&self, r: Request<pb::SignOutRequest>) -> Answer<pb::SignOutResponse> {
        sessions::sign_out(self, r).await
    }

    async fn list_sessions(
        &self,
        r: Request<pb::ListSessionsRequest>,
    ) -> Answer<pb::ListSessionsResponse> {
        sessions::list_sessions(self, r).await
    }

    async fn revoke_session(
        &self,
        r: Request<pb::RevokeSessionRequest>,
    ) -> Answer<pb::RevokeSessionResponse> {
        sessions::revoke_session(self, r).await
    }

    async fn get_jwks(&self, r: Request<pb::GetJwksRequest>) -> Answer<pb::GetJwksResponse> {
        sessions::get_jwks(self, r).await
    }

    async fn get_my_profile(
        &self,
        r: Request<pb::GetMyProfileRequest>,
    ) -> Answer<pb::GetMyProfileResponse> {
        profile::get_my_profile(self, r).await
    }

    async fn update_my_profile(
        &self,
        r: Request<pb::UpdateMyProfileRequest>,
    ) -> Answer<pb::UpdateMyProfileResponse> {
        profile::update_my_profile(self, r).await
    }

    async fn withdraw(&self, r: Request<pb::WithdrawRequest>) -> Answer<pb::WithdrawResponse> {
        profile::withdraw(self, r).await
    }

    async fn export_my_data(
        &self,
        r: Request<pb::ExportMyDataRequest>,
    ) -> Answer<pb::ExportMyDataResponse> {
        export::export_my_data(self, r).await
    }
}

#[tonic::async_trait]
impl AuthInternalService for Auth {
    async fn batch_get_members(
        &self,
        r: Request<pb::BatchGetMembersRequest>,
    ) -> Answer<pb::BatchGetMembersResponse> {
        internal::batch_get_members(self, r).await
    }

    async fn get_member(&self, r: Request<pb::GetMemberRequest>) -> Answer<pb::GetMemberResponse> {
        internal::get_member(self, r).await
    }
}
