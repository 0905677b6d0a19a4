//! The withdrawal precondition, asked of moim: does the member lead an active
//! team? A trait, so tests and the gateway's tests can answer it themselves.

use moing_proto::moing::moim::v1::{
    MemberLeadsActiveTeamRequest, team_internal_service_client::TeamInternalServiceClient,
};
use uuid::Uuid;

use crate::error::AuthError;

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
