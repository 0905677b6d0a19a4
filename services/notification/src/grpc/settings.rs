//! Push settings: read them, change the masked fields.

use moing_common::layer::principal;
use moing_proto::moing::notification::v1 as pb;
use tonic::{Request, Response};

use super::{Answer, Notifications, wire};
use crate::error::NotificationError;

pub async fn get(
    s: &Notifications,
    request: Request<pb::GetNotificationSettingsRequest>,
) -> Answer<pb::GetNotificationSettingsResponse> {
    let caller = principal(&request)?;
    let settings = s
        .store
        .settings(caller.member_id)
        .await
        .map_err(NotificationError::from)?;
    Ok(Response::new(pb::GetNotificationSettingsResponse {
        settings: Some(wire::settings_message(&settings)),
    }))
}

pub async fn update(
    s: &Notifications,
    request: Request<pb::UpdateNotificationSettingsRequest>,
) -> Answer<pb::UpdateNotificationSettingsResponse> {
    let caller = principal(&request)?;
    let req = request.into_inner();
    let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
    let current = s
        .store
        .settings(caller.member_id)
        .await
        .map_err(NotificationError::from)?;
    let mut updated = wire::apply_settings(&current, req.settings.as_ref(), &paths)?;
    let now = moing_common::clock::now();
    s.store
        .save_settings(caller.member_id, &updated, now)
        .await
        .map_err(NotificationError::from)?;
    updated.updated_at = Some(now);
    Ok(Response::new(pb::UpdateNotificationSettingsResponse {
        settings: Some(wire::settings_message(&updated)),
    }))
}
