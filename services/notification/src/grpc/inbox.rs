//! The inbox: pages newest first within retention, the unread count, read marks.

use moing_common::layer::principal;
use moing_proto::moing::notification::v1 as pb;
use tonic::{Request, Response};

use super::{Answer, Notifications, wire};
use crate::{
    domain::{Cursor, InboxPage},
    error::NotificationError,
};

pub async fn list(
    s: &Notifications,
    request: Request<pb::ListNotificationsRequest>,
) -> Answer<pb::ListNotificationsResponse> {
    let caller = principal(&request)?;
    let page = InboxPage::try_from(request.get_ref())?;
    let now = moing_common::clock::now();
    let oldest = s.oldest(now);
    let mut items = s
        .store
        .inbox_page(caller.member_id, page, now, oldest)
        .await
        .map_err(NotificationError::from)?;
    let size = page.size as usize;
    let next_page_token = if items.len() > size {
        items.truncate(size);
        items
            .last()
            .map(|i| {
                Cursor {
                    visible_at: i.visible_at,
                    id: i.id,
                }
                .encode()
            })
            .unwrap_or_default()
    } else {
        String::new()
    };
    let unread = s
        .store
        .unread_count(caller.member_id, now, oldest)
        .await
        .map_err(NotificationError::from)?;
    Ok(Response::new(pb::ListNotificationsResponse {
        notifications: items.into_iter().map(wire::notification).collect(),
        next_page_token,
        unread_count: wire::count(unread),
    }))
}

pub async fn unread_count(
    s: &Notifications,
    request: Request<pb::GetUnreadNotificationCountRequest>,
) -> Answer<pb::GetUnreadNotificationCountResponse> {
    let caller = principal(&request)?;
    let now = moing_common::clock::now();
    let unread = s
        .store
        .unread_count(caller.member_id, now, s.oldest(now))
        .await
        .map_err(NotificationError::from)?;
    Ok(Response::new(pb::GetUnreadNotificationCountResponse {
        unread_count: wire::count(unread),
    }))
}

pub async fn mark_read(
    s: &Notifications,
    request: Request<pb::MarkNotificationReadRequest>,
) -> Answer<pb::MarkNotificationReadResponse> {
    let caller = principal(&request)?;
    let id = wire::notification_id(request.get_ref())?;
    let now = moing_common::clock::now();
    let oldest = s.oldest(now);
    let found = s
        .store
        .mark_read(caller.member_id, id, now, oldest)
        .await
        .map_err(NotificationError::from)?;
    if !found {
        return Err(NotificationError::NotificationNotFound.into());
    }
    let unread = s
        .store
        .unread_count(caller.member_id, now, oldest)
        .await
        .map_err(NotificationError::from)?;
    Ok(Response::new(pb::MarkNotificationReadResponse {
        unread_count: wire::count(unread),
    }))
}

pub async fn mark_all_read(
    s: &Notifications,
    request: Request<pb::MarkAllNotificationsReadRequest>,
) -> Answer<pb::MarkAllNotificationsReadResponse> {
    let caller = principal(&request)?;
    let now = moing_common::clock::now();
    let up_to = wire::up_to(request.get_ref(), now)?;
    let marked = s
        .store
        .mark_all_read(caller.member_id, up_to, now)
        .await
        .map_err(NotificationError::from)?;
    let unread = s
        .store
        .unread_count(caller.member_id, now, s.oldest(now))
        .await
        .map_err(NotificationError::from)?;
    Ok(Response::new(pb::MarkAllNotificationsReadResponse {
        marked_count: i32::try_from(marked).unwrap_or(i32::MAX),
        unread_count: wire::count(unread),
    }))
}
