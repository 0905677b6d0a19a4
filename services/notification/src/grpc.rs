//! The public `NotificationService`: thin handlers that validate, act on the
//! caller named by the access token (a member only ever reaches their own
//! devices, inbox and settings), and map errors.

use chrono::{DateTime, Utc};
use moing_common::{
    Validator,
    convert::{from_timestamp, timestamp},
    error::FieldViolation,
    layer::principal,
};
use moing_proto::{
    google::r#type::TimeOfDay,
    moing::notification::v1::{
        Device as ProtoDevice, GetNotificationSettingsRequest, GetNotificationSettingsResponse,
        GetUnreadNotificationCountRequest, GetUnreadNotificationCountResponse,
        ListNotificationsRequest, ListNotificationsResponse, MarkAllNotificationsReadRequest,
        MarkAllNotificationsReadResponse, MarkNotificationReadRequest,
        MarkNotificationReadResponse, Notification, NotificationSettings, RegisterDeviceRequest,
        RegisterDeviceResponse, UnregisterDeviceRequest, UnregisterDeviceResponse,
        UpdateNotificationSettingsRequest, UpdateNotificationSettingsResponse,
        notification_service_server::NotificationService,
    },
};
use sqlx::MySqlPool;
use tonic::{Request, Response, Status};

use crate::{
    domain::MemberSettings,
    error::NotificationError,
    fcm::Platform,
    store::{self, Cursor, InboxItem},
};

/// The public API's state.
#[derive(Debug, Clone)]
pub struct Notifications {
    pub pool: MySqlPool,
    pub retention_days: i64,
}

type Result<T> = std::result::Result<Response<T>, Status>;

fn to_count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Notifications {
    fn oldest(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::days(self.retention_days)
    }
}

fn platform_number(p: Platform) -> i32 {
    match p {
        Platform::Android => 1,
        Platform::Ios => 2,
        Platform::Web => 3,
    }
}

fn item(i: InboxItem) -> Notification {
    Notification {
        notification_id: i.id.to_string(),
        category: i.category.number(),
        r#type: i.kind.number(),
        title: i.title,
        body: i.body,
        data: i.data.into_iter().collect(),
        path: i.path,
        team_id: i.team_id.map(|t| t.to_string()).unwrap_or_default(),
        team_name: i.team_name,
        actor_member_id: i.actor.map(|a| a.to_string()).unwrap_or_default(),
        created_at: Some(timestamp(i.visible_at)),
        read: i.read,
    }
}

fn time_of_day(minutes: u16) -> TimeOfDay {
    TimeOfDay {
        hours: i32::from(minutes / 60),
        minutes: i32::from(minutes % 60),
        seconds: 0,
        nanos: 0,
    }
}

pub fn settings_message(s: &MemberSettings) -> NotificationSettings {
    NotificationSettings {
        new_content_enabled: s.new_content,
        comments_enabled: s.comments,
        pokes_enabled: s.pokes,
        reminders_enabled: s.reminders,
        quiet_hours_enabled: s.quiet_enabled,
        quiet_hours_start: Some(time_of_day(s.quiet_start)),
        quiet_hours_end: Some(time_of_day(s.quiet_end)),
        time_zone: s.time_zone.name().to_owned(),
        updated_at: s.updated_at.map(timestamp),
    }
}

fn minute_of(v: &mut Validator, field: &str, t: Option<&TimeOfDay>) -> Option<u16> {
    match t {
        None => {
            v.violation(field, "is required");
            None
        }
        Some(t)
            if (0..24).contains(&t.hours)
                && (0..60).contains(&t.minutes)
                && t.seconds == 0
                && t.nanos == 0 =>
        {
            Some((t.hours * 60 + t.minutes) as u16)
        }
        Some(_) => {
            v.violation(
                field,
                "must be a time of day on a whole minute (00:00 to 23:59)",
            );
            None
        }
    }
}

/// Applies the masked fields of `new` to `current`, or lists what is wrong.
pub fn apply_settings(
    current: &MemberSettings,
    new: Option<&NotificationSettings>,
    paths: &[String],
) -> std::result::Result<MemberSettings, NotificationError> {
    let mut v = Validator::new();
    let mut out = current.clone();
    let Some(new) = new else {
        return Err(NotificationError::Invalid(vec![FieldViolation {
            field: "settings".into(),
            description: "is required".into(),
        }]));
    };
    if paths.is_empty() {
        v.violation("update_mask", "must name at least one field");
    }
    for path in paths {
        match path.as_str() {
            "new_content_enabled" => out.new_content = new.new_content_enabled,
            "comments_enabled" => out.comments = new.comments_enabled,
            "pokes_enabled" => out.pokes = new.pokes_enabled,
            "reminders_enabled" => out.reminders = new.reminders_enabled,
            "quiet_hours_enabled" => out.quiet_enabled = new.quiet_hours_enabled,
            "quiet_hours_start" => {
                if let Some(m) = minute_of(
                    &mut v,
                    "settings.quiet_hours_start",
                    new.quiet_hours_start.as_ref(),
                ) {
                    out.quiet_start = m;
                }
            }
            "quiet_hours_end" => {
                if let Some(m) = minute_of(
                    &mut v,
                    "settings.quiet_hours_end",
                    new.quiet_hours_end.as_ref(),
                ) {
                    out.quiet_end = m;
                }
            }
            "time_zone" => match new.time_zone.trim().parse::<chrono_tz::Tz>() {
                Ok(tz) => out.time_zone = tz,
                Err(_) => v.violation("settings.time_zone", "must be an IANA time zone name"),
            },
            other => v.violation(
                "update_mask",
                format!(
                    "unknown path {:?}",
                    other.chars().take(50).collect::<String>()
                ),
            ),
        }
    }
    if v.is_empty() && out.quiet_start == out.quiet_end {
        let field = if paths.iter().any(|p| p == "quiet_hours_end") {
            "settings.quiet_hours_end"
        } else {
            "settings.quiet_hours_start"
        };
        v.violation(field, "quiet hours must not start and end at the same time");
    }
    v.finish()?;
    Ok(out)
}

#[tonic::async_trait]
impl NotificationService for Notifications {
    async fn register_device(
        &self,
        request: Request<RegisterDeviceRequest>,
    ) -> Result<RegisterDeviceResponse> {
        let caller = principal(&request)?;
        let req = request.into_inner();
        let mut v = Validator::new();
        let token = req.push_token.trim();
        let n = token.chars().count();
        if n == 0 {
            v.violation("push_token", "must not be empty");
        } else if n > 4096 {
            v.violation("push_token", "must be at most 4096 characters");
        } else if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            v.violation(
                "push_token",
                "must not contain spaces or control characters",
            );
        }
        let platform = match req.platform {
            1 => Some(Platform::Android),
            2 => Some(Platform::Ios),
            3 => Some(Platform::Web),
            _ => {
                v.violation("platform", "must be ANDROID, IOS or WEB");
                None
            }
        };
        v.finish().map_err(NotificationError::from)?;
        let Some(platform) = platform else {
            return Err(
                NotificationError::Internal(anyhow::anyhow!("platform checked above")).into(),
            );
        };
        let device = store::upsert_device(
            &self.pool,
            caller.member_id,
            caller.session_id,
            platform,
            token,
            moing_common::clock::now(),
        )
        .await
        .map_err(NotificationError::from)?;
        Ok(Response::new(RegisterDeviceResponse {
            device: Some(ProtoDevice {
                session_id: device.session_id.to_string(),
                platform: platform_number(device.platform),
                registered_at: Some(timestamp(device.registered_at)),
                updated_at: Some(timestamp(device.updated_at)),
            }),
        }))
    }

    async fn unregister_device(
        &self,
        request: Request<UnregisterDeviceRequest>,
    ) -> Result<UnregisterDeviceResponse> {
        let caller = principal(&request)?;
        let mut conn = self.pool.acquire().await.map_err(NotificationError::from)?;
        store::delete_session_device(&mut conn, Some(caller.member_id), caller.session_id)
            .await
            .map_err(NotificationError::from)?;
        Ok(Response::new(UnregisterDeviceResponse {}))
    }

    async fn list_notifications(
        &self,
        request: Request<ListNotificationsRequest>,
    ) -> Result<ListNotificationsResponse> {
        let caller = principal(&request)?;
        let req = request.into_inner();
        let mut v = Validator::new();
        let size = v.page_size("page_size", req.page_size, 20, 100);
        let after = if req.page_token.is_empty() {
            None
        } else {
            let c = Cursor::decode(&req.page_token);
            if c.is_none() {
                v.violation("page_token", "is not a token from a previous response");
            }
            c
        };
        v.finish().map_err(NotificationError::from)?;
        let now = moing_common::clock::now();
        let oldest = self.oldest(now);
        let mut items =
            store::inbox_page(&self.pool, caller.member_id, after, size + 1, now, oldest)
                .await
                .map_err(NotificationError::from)?;
        let next_page_token = if items.len() > size as usize {
            items.truncate(size as usize);
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
        let unread = store::unread_count(&self.pool, caller.member_id, now, oldest)
            .await
            .map_err(NotificationError::from)?;
        Ok(Response::new(ListNotificationsResponse {
            notifications: items.into_iter().map(item).collect(),
            next_page_token,
            unread_count: to_count(unread),
        }))
    }

    async fn get_unread_notification_count(
        &self,
        request: Request<GetUnreadNotificationCountRequest>,
    ) -> Result<GetUnreadNotificationCountResponse> {
        let caller = principal(&request)?;
        let now = moing_common::clock::now();
        let unread = store::unread_count(&self.pool, caller.member_id, now, self.oldest(now))
            .await
            .map_err(NotificationError::from)?;
        Ok(Response::new(GetUnreadNotificationCountResponse {
            unread_count: to_count(unread),
        }))
    }

    async fn mark_notification_read(
        &self,
        request: Request<MarkNotificationReadRequest>,
    ) -> Result<MarkNotificationReadResponse> {
        let caller = principal(&request)?;
        let req = request.into_inner();
        let mut v = Validator::new();
        let id = v.id("notification_id", &req.notification_id);
        v.finish().map_err(NotificationError::from)?;
        let Some(id) = id else {
            return Err(NotificationError::NotificationNotFound.into());
        };
        let now = moing_common::clock::now();
        let oldest = self.oldest(now);
        let found = store::mark_read(&self.pool, caller.member_id, id, now, oldest)
            .await
            .map_err(NotificationError::from)?;
        if !found {
            return Err(NotificationError::NotificationNotFound.into());
        }
        let unread = store::unread_count(&self.pool, caller.member_id, now, oldest)
            .await
            .map_err(NotificationError::from)?;
        Ok(Response::new(MarkNotificationReadResponse {
            unread_count: to_count(unread),
        }))
    }

    async fn mark_all_notifications_read(
        &self,
        request: Request<MarkAllNotificationsReadRequest>,
    ) -> Result<MarkAllNotificationsReadResponse> {
        let caller = principal(&request)?;
        let req = request.into_inner();
        let now = moing_common::clock::now();
        let up_to = match &req.up_to {
            None => now,
            Some(t) => match from_timestamp(t) {
                Some(t) => t,
                None => {
                    let mut v = Validator::new();
                    v.violation("up_to", "is not a valid timestamp");
                    v.finish().map_err(NotificationError::from)?;
                    now
                }
            },
        };
        let marked = store::mark_all_read(&self.pool, caller.member_id, up_to, now)
            .await
            .map_err(NotificationError::from)?;
        let unread = store::unread_count(&self.pool, caller.member_id, now, self.oldest(now))
            .await
            .map_err(NotificationError::from)?;
        Ok(Response::new(MarkAllNotificationsReadResponse {
            marked_count: i32::try_from(marked).unwrap_or(i32::MAX),
            unread_count: to_count(unread),
        }))
    }

    async fn get_notification_settings(
        &self,
        request: Request<GetNotificationSettingsRequest>,
    ) -> Result<GetNotificationSettingsResponse> {
        let caller = principal(&request)?;
        let s = store::settings(&self.pool, caller.member_id)
            .await
            .map_err(NotificationError::from)?;
        Ok(Response::new(GetNotificationSettingsResponse {
            settings: Some(settings_message(&s)),
        }))
    }

    async fn update_notification_settings(
        &self,
        request: Request<UpdateNotificationSettingsRequest>,
    ) -> Result<UpdateNotificationSettingsResponse> {
        let caller = principal(&request)?;
        let req = request.into_inner();
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        let current = store::settings(&self.pool, caller.member_id)
            .await
            .map_err(NotificationError::from)?;
        let mut updated = apply_settings(&current, req.settings.as_ref(), &paths)?;
        let now = moing_common::clock::now();
        store::save_settings(&self.pool, caller.member_id, &updated, now)
            .await
            .map_err(NotificationError::from)?;
        updated.updated_at = Some(now);
        Ok(Response::new(UpdateNotificationSettingsResponse {
            settings: Some(settings_message(&updated)),
        }))
    }
}
