//! The two gRPC services as tables of contents: each method delegates, in
//! proto order, to its handler in `grpc/<resource>.rs`. The public
//! `NotificationService` acts on the caller named by the access token (a
//! member only ever reaches their own devices, inbox and settings); the
//! `NotificationInternalService` sends operator broadcasts and statistics.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use moing_proto::moing::notification::v1::{
    self as pb, notification_internal_service_server::NotificationInternalService,
    notification_service_server::NotificationService,
};
use tonic::{Request, Response, Status};

use crate::{peers::Peers, push::Dispatcher, store::Store};

mod devices;
mod inbox;
mod internal;
mod settings;
pub mod wire;

pub use wire::{apply_settings, settings_message};

/// The public API's state.
#[derive(Debug, Clone)]
pub struct Notifications {
    pub store: Store,
    pub retention_days: i64,
}

impl Notifications {
    /// The oldest instant still in the inbox.
    fn oldest(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::days(self.retention_days)
    }
}

/// The internal API's state.
#[derive(Debug, Clone)]
pub struct Internal {
    pub store: Store,
    pub peers: Arc<Peers>,
    pub dispatcher: Dispatcher,
}

type Answer<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl NotificationService for Notifications {
    async fn register_device(
        &self,
        r: Request<pb::RegisterDeviceRequest>,
    ) -> Answer<pb::RegisterDeviceResponse> {
        devices::register(self, r).await
    }

    async fn unregister_device(
        &self,
        r: Request<pb::UnregisterDeviceRequest>,
    ) -> Answer<pb::UnregisterDeviceResponse> {
        devices::unregister(self, r).await
    }

    async fn list_notifications(
        &self,
        r: Request<pb::ListNotificationsRequest>,
    ) -> Answer<pb::ListNotificationsResponse> {
        inbox::list(self, r).await
    }

    async fn get_unread_notification_count(
        &self,
        r: Request<pb::GetUnreadNotificationCountRequest>,
    ) -> Answer<pb::GetUnreadNotificationCountResponse> {
        inbox::unread_count(self, r).await
    }

    async fn mark_notification_read(
        &self,
        r: Request<pb::MarkNotificationReadRequest>,
    ) -> Answer<pb::MarkNotificationReadResponse> {
        inbox::mark_read(self, r).await
    }

    async fn mark_all_notifications_read(
        &self,
        r: Request<pb::MarkAllNotificationsReadRequest>,
    ) -> Answer<pb::MarkAllNotificationsReadResponse> {
        inbox::mark_all_read(self, r).await
    }

    async fn get_notification_settings(
        &self,
        r: Request<pb::GetNotificationSettingsRequest>,
    ) -> Answer<pb::GetNotificationSettingsResponse> {
        settings::get(self, r).await
    }

    async fn update_notification_settings(
        &self,
        r: Request<pb::UpdateNotificationSettingsRequest>,
    ) -> Answer<pb::UpdateNotificationSettingsResponse> {
        settings::update(self, r).await
    }
}

#[tonic::async_trait]
impl NotificationInternalService for Internal {
    async fn export_member_notification_data(
        &self,
        r: Request<pb::ExportMemberNotificationDataRequest>,
    ) -> Answer<pb::ExportMemberNotificationDataResponse> {
        internal::export_member(self, r).await
    }

    async fn send_broadcast(
        &self,
        r: Request<pb::SendBroadcastRequest>,
    ) -> Answer<pb::SendBroadcastResponse> {
        internal::send_broadcast(self, r).await
    }

    async fn get_delivery_stats(
        &self,
        r: Request<pb::GetDeliveryStatsRequest>,
    ) -> Answer<pb::GetDeliveryStatsResponse> {
        internal::delivery_stats(self, r).await
    }
}
