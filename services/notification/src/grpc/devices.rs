//! Devices: the caller's session registers or drops its push token.

use moing_common::layer::principal;
use moing_proto::moing::notification::v1 as pb;
use tonic::{Request, Response};

use super::{Answer, Notifications, wire};
use crate::{domain::NewDevice, error::NotificationError};

pub async fn register(
    s: &Notifications,
    request: Request<pb::RegisterDeviceRequest>,
) -> Answer<pb::RegisterDeviceResponse> {
    let caller = principal(&request)?;
    let new = NewDevice::try_from(request.get_ref())?;
    let device = s
        .store
        .upsert_device(
            caller.member_id,
            caller.session_id,
            &new,
            moing_common::clock::now(),
        )
        .await
        .map_err(NotificationError::from)?;
    Ok(Response::new(pb::RegisterDeviceResponse {
        device: Some(wire::device(&device)),
    }))
}

pub async fn unregister(
    s: &Notifications,
    request: Request<pb::UnregisterDeviceRequest>,
) -> Answer<pb::UnregisterDeviceResponse> {
    let caller = principal(&request)?;
    s.store
        .unregister_device(caller.member_id, caller.session_id)
        .await
        .map_err(NotificationError::from)?;
    Ok(Response::new(pb::UnregisterDeviceResponse {}))
}
