//! AuthService.ExportMyData (PRODUCT.md §7, data rights): everything MOING
//! holds about the caller, as one JSON document. auth adds the account,
//! profile and sessions; moim, mission, board and notification each answer
//! their `ExportMember…Data` internal RPC (service credential) with their own
//! document (`moing_common::export`). moim goes first, since the board looks
//! for anonymous votes in the member's teams; the other three in parallel. A
//! service that cannot be asked fails the whole download with UNAVAILABLE:
//! a partial "all my data" would mislead.

use moing_common::{convert::timestamp, layer::principal};
use moing_proto::moing::{
    auth::v1 as pb, board::v1::ExportMemberBoardDataRequest,
    mission::v1::ExportMemberMissionDataRequest, moim::v1::ExportMemberTeamDataRequest,
    notification::v1::ExportMemberNotificationDataRequest,
};
use serde_json::{Value, json};
use tonic::{Request, Response, Status};

use moing_common::client::InternalChannel;
use moing_proto::moing::{
    board::v1::board_internal_service_client::BoardInternalServiceClient,
    mission::v1::mission_internal_service_client::MissionInternalServiceClient,
    moim::v1::team_internal_service_client::TeamInternalServiceClient,
    notification::v1::notification_internal_service_client::NotificationInternalServiceClient,
};

use super::Auth;
use crate::{domain::Member, error::AuthError};

/// The services a data download gathers from.
#[derive(Debug, Clone)]
pub struct Peers {
    moim: TeamInternalServiceClient<InternalChannel>,
    mission: MissionInternalServiceClient<InternalChannel>,
    board: BoardInternalServiceClient<InternalChannel>,
    notification: NotificationInternalServiceClient<InternalChannel>,
}

impl Peers {
    /// Lazy channels to the four services of `settings.services`; None (the
    /// download answers UNAVAILABLE) when one is not configured.
    pub fn from_settings(base: &moing_common::service::BaseSettings) -> Option<Self> {
        let channel = |name: &str| match base.internal_channel(name) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(service = name, error = %e, "data export: no channel");
                None
            }
        };
        Some(Self {
            moim: TeamInternalServiceClient::new(channel("moim")?),
            mission: MissionInternalServiceClient::new(channel("mission")?),
            board: BoardInternalServiceClient::new(channel("board")?),
            notification: NotificationInternalServiceClient::new(channel("notification")?),
        })
    }
}

/// A service's document, or UNAVAILABLE naming it.
fn document(what: &'static str, answer: Result<Vec<u8>, Status>) -> Result<Value, AuthError> {
    let bytes = answer.map_err(|s| {
        tracing::warn!(service = what, code = ?s.code(), "data export: a service could not be asked");
        AuthError::DependencyUnavailable(what)
    })?;
    let mut v: Value =
        serde_json::from_slice(&bytes).map_err(|_| AuthError::DependencyUnavailable(what))?;
    if let Some(obj) = v.as_object_mut() {
        obj.remove("member_id");
    }
    Ok(v)
}

fn account(m: &Member) -> Value {
    json!({
        "member_id": m.id.to_string(),
        "status": m.status.as_str(),
        "nickname": m.nickname,
        "introduction": m.introduction,
        "image_key": m.image_key,
        "gender": m.gender.map(|g| g.as_str()),
        "birth_date": m.birth_date.map(|d| d.to_string()),
        "email": m.email,
        "sign_in_provider": m.provider.as_str(),
        "created_at": m.created_at.to_rfc3339(),
        "signed_up_at": m.signed_up_at.map(|t| t.to_rfc3339()),
    })
}

pub(super) async fn export_my_data(
    auth: &Auth,
    req: Request<pb::ExportMyDataRequest>,
) -> Result<Response<pb::ExportMyDataResponse>, Status> {
    let who = principal(&req)?;
    let member = auth.current_member(who.member_id).await?;
    let sessions = auth.sessions.list(member.id).await?;
    let peers = auth
        .peers
        .as_ref()
        .ok_or(AuthError::DependencyUnavailable("the other services"))?;
    let id = member.id.to_string();
    let teams = document(
        "moim",
        peers
            .moim
            .clone()
            .export_member_team_data(ExportMemberTeamDataRequest {
                member_id: id.clone(),
            })
            .await
            .map(|r| r.into_inner().json),
    )?;
    let team_ids: Vec<String> = teams["memberships"]
        .as_array()
        .map(|ms| {
            let mut ids: Vec<String> = ms
                .iter()
                .filter_map(|m| m["team_id"].as_str().map(str::to_owned))
                .collect();
            ids.sort();
            ids.dedup();
            ids.truncate(500);
            ids
        })
        .unwrap_or_default();
    let (mut mission_c, mut board_c, mut notification_c) = (
        peers.mission.clone(),
        peers.board.clone(),
        peers.notification.clone(),
    );
    let (mission, board, notification) = tokio::join!(
        mission_c.export_member_mission_data(ExportMemberMissionDataRequest {
            member_id: id.clone(),
        }),
        board_c.export_member_board_data(ExportMemberBoardDataRequest {
            member_id: id.clone(),
            team_ids,
        }),
        notification_c.export_member_notification_data(ExportMemberNotificationDataRequest {
            member_id: id.clone(),
        }),
    );
    let now = moing_common::clock::now();
    let doc = json!({
        "format": "moing-my-data/1",
        "generated_at": now.to_rfc3339(),
        "account": account(&member),
        "sessions": sessions.iter().map(|s| json!({
            "session_id": s.session_id.to_string(),
            "device_name": s.device_name,
            "platform": pb::DevicePlatform::try_from(s.platform).map(|p| p.as_str_name()).unwrap_or("DEVICE_PLATFORM_UNSPECIFIED"),
            "created_at": s.created_at.to_rfc3339(),
            "last_used_at": s.last_used_at.to_rfc3339(),
            "expires_at": s.expires_at.to_rfc3339(),
        })).collect::<Vec<_>>(),
        "teams": teams,
        "missions": document("mission", mission.map(|r| r.into_inner().json))?,
        "board": document("board", board.map(|r| r.into_inner().json))?,
        "notifications": document("notification", notification.map(|r| r.into_inner().json))?,
    });
    let content = serde_json::to_vec_pretty(&doc)
        .map_err(|_| AuthError::DependencyUnavailable("the data export"))?;
    Ok(Response::new(pb::ExportMyDataResponse {
        content,
        content_type: "application/json".into(),
        file_name: format!("moing-my-data-{}.json", now.date_naive()),
        generated_at: Some(timestamp(now)),
    }))
}
