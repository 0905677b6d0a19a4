//! Proto ⇄ domain: requests become validated domain inputs (every wrong
//! field listed at once), domain values become `pb::` messages. Enum numbers
//! come from the generated enums: a stored name is the enum value's name
//! without its prefix.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use moing_common::{
    Validator,
    convert::{from_timestamp, timestamp},
    error::FieldViolation,
};
use moing_proto::{google::r#type::TimeOfDay, moing::notification::v1 as pb};
use pb::send_broadcast_request::Audience as PbAudience;
use uuid::Uuid;

use crate::{
    domain::{
        Category, Cursor, Device, InboxItem, InboxPage, Kind, MemberSettings, NewDevice, Platform,
        broadcasts::{Audience, Counts, NewBroadcast, Outcome, StatsFilter},
    },
    error::NotificationError,
};

impl Kind {
    /// `moing.notification.v1.NotificationType` number.
    pub fn number(self) -> i32 {
        pb::NotificationType::from_str_name(&format!("NOTIFICATION_TYPE_{}", self.as_str()))
            .unwrap_or(pb::NotificationType::Unspecified) as i32
    }

    pub fn from_number(n: i32) -> Option<Self> {
        let t = pb::NotificationType::try_from(n).ok()?;
        Self::parse(t.as_str_name().strip_prefix("NOTIFICATION_TYPE_")?)
    }
}

impl Category {
    /// `moing.notification.v1.NotificationCategory` number.
    pub fn number(self) -> i32 {
        pb::NotificationCategory::from_str_name(&format!("NOTIFICATION_CATEGORY_{}", self.as_str()))
            .unwrap_or(pb::NotificationCategory::Unspecified) as i32
    }
}

impl Platform {
    /// `moing.notification.v1.DevicePlatform` number.
    pub fn number(self) -> i32 {
        pb::DevicePlatform::from_str_name(&format!("DEVICE_PLATFORM_{}", self.as_str()))
            .unwrap_or(pb::DevicePlatform::Unspecified) as i32
    }

    pub fn from_number(n: i32) -> Option<Self> {
        let p = pb::DevicePlatform::try_from(n).ok()?;
        Self::parse(p.as_str_name().strip_prefix("DEVICE_PLATFORM_")?)
    }
}

/// A count on the wire (saturated).
pub fn count(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl TryFrom<&pb::RegisterDeviceRequest> for NewDevice {
    type Error = NotificationError;

    fn try_from(req: &pb::RegisterDeviceRequest) -> Result<Self, Self::Error> {
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
        let platform = Platform::from_number(req.platform);
        if platform.is_none() {
            v.violation("platform", "must be ANDROID, IOS or WEB");
        }
        v.finish()?;
        let Some(platform) = platform else {
            return Err(NotificationError::Internal(anyhow::anyhow!(
                "platform checked above"
            )));
        };
        Ok(NewDevice {
            token: token.to_owned(),
            platform,
        })
    }
}

pub fn device(d: &Device) -> pb::Device {
    pb::Device {
        session_id: d.session_id.to_string(),
        platform: d.platform.number(),
        registered_at: Some(timestamp(d.registered_at)),
        updated_at: Some(timestamp(d.updated_at)),
    }
}

impl TryFrom<&pb::ListNotificationsRequest> for InboxPage {
    type Error = NotificationError;

    fn try_from(req: &pb::ListNotificationsRequest) -> Result<Self, Self::Error> {
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
        v.finish()?;
        Ok(InboxPage { size, after })
    }
}

/// The id of the notification to mark read.
pub fn notification_id(req: &pb::MarkNotificationReadRequest) -> Result<Uuid, NotificationError> {
    let mut v = Validator::new();
    let id = v.id("notification_id", &req.notification_id);
    v.finish()?;
    id.ok_or(NotificationError::NotificationNotFound)
}

/// Up to when everything is marked read (default: now).
pub fn up_to(
    req: &pb::MarkAllNotificationsReadRequest,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, NotificationError> {
    match &req.up_to {
        None => Ok(now),
        Some(t) => match from_timestamp(t) {
            Some(t) => Ok(t),
            None => {
                let mut v = Validator::new();
                v.violation("up_to", "is not a valid timestamp");
                v.finish()?;
                Ok(now)
            }
        },
    }
}

pub fn notification(i: InboxItem) -> pb::Notification {
    pb::Notification {
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

pub fn settings_message(s: &MemberSettings) -> pb::NotificationSettings {
    pb::NotificationSettings {
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

/// Applies one masked field of `new` to `out`.
fn apply_path(
    v: &mut Validator,
    out: &mut MemberSettings,
    new: &pb::NotificationSettings,
    path: &str,
) {
    match path {
        "new_content_enabled" => out.new_content = new.new_content_enabled,
        "comments_enabled" => out.comments = new.comments_enabled,
        "pokes_enabled" => out.pokes = new.pokes_enabled,
        "reminders_enabled" => out.reminders = new.reminders_enabled,
        "quiet_hours_enabled" => out.quiet_enabled = new.quiet_hours_enabled,
        "quiet_hours_start" => {
            let field = "settings.quiet_hours_start";
            if let Some(m) = minute_of(v, field, new.quiet_hours_start.as_ref()) {
                out.quiet_start = m;
            }
        }
        "quiet_hours_end" => {
            let field = "settings.quiet_hours_end";
            if let Some(m) = minute_of(v, field, new.quiet_hours_end.as_ref()) {
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

/// Applies the masked fields of `new` to `current`, or lists what is wrong.
pub fn apply_settings(
    current: &MemberSettings,
    new: Option<&pb::NotificationSettings>,
    paths: &[String],
) -> Result<MemberSettings, NotificationError> {
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
        apply_path(&mut v, &mut out, new, path);
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

/// `path` of a broadcast: default `/notifications`.
fn broadcast_path(v: &mut Validator, path: &str) -> String {
    let path = path.trim();
    if path.is_empty() {
        return "/notifications".to_owned();
    }
    if !path.starts_with('/') || path.chars().count() > 300 {
        v.violation(
            "path",
            "must start with \"/\" and be at most 300 characters",
        );
    }
    path.to_owned()
}

/// The listed ids (each wrong one named by its index).
fn ids(v: &mut Validator, field: &str, list: &[String]) -> Vec<Uuid> {
    v.ids(field, list)
}

fn audience(v: &mut Validator, audience: Option<&PbAudience>) -> Audience {
    match audience {
        None => {
            v.violation("audience", "set members or teams");
            Audience::Members(vec![])
        }
        Some(PbAudience::Members(m)) => {
            if m.member_ids.is_empty() || m.member_ids.len() > 1000 {
                v.violation("members.member_ids", "must list 1 to 1000 members");
            }
            Audience::Members(ids(v, "members.member_ids", &m.member_ids))
        }
        Some(PbAudience::Teams(t)) => {
            if t.team_ids.is_empty() || t.team_ids.len() > 100 {
                v.violation("teams.team_ids", "must list 1 to 100 teams");
            }
            Audience::Teams(ids(v, "teams.team_ids", &t.team_ids))
        }
    }
}

impl TryFrom<&pb::SendBroadcastRequest> for NewBroadcast {
    type Error = NotificationError;

    fn try_from(req: &pb::SendBroadcastRequest) -> Result<Self, Self::Error> {
        let mut v = Validator::new();
        let key = v.text("idempotency_key", &req.idempotency_key, 1, 100);
        let title = v.text("title", &req.title, 1, 100);
        let body = v.text("body", &req.body, 1, 500);
        let path = broadcast_path(&mut v, &req.path);
        let audience = audience(&mut v, req.audience.as_ref());
        v.finish()?;
        Ok(NewBroadcast {
            key,
            audience,
            title,
            body,
            path,
        })
    }
}

pub fn broadcast_response(id: Uuid, o: Outcome) -> pb::SendBroadcastResponse {
    pb::SendBroadcastResponse {
        broadcast_id: id.to_string(),
        recipient_count: o.recipient_count,
        push_sent_count: o.push_sent_count,
        push_failed_count: o.push_failed_count,
        push_held_count: o.push_held_count,
        no_device_count: o.no_device_count,
        unknown_ids: o.unknown_ids,
    }
}

impl TryFrom<&pb::GetDeliveryStatsRequest> for StatsFilter {
    type Error = NotificationError;

    fn try_from(req: &pb::GetDeliveryStatsRequest) -> Result<Self, Self::Error> {
        let mut v = Validator::new();
        if !req.broadcast_id.trim().is_empty() {
            let id = v.id("broadcast_id", &req.broadcast_id);
            v.finish()?;
            return id
                .map(StatsFilter::Broadcast)
                .ok_or(NotificationError::BroadcastNotFound);
        }
        let start = req.start_time.as_ref().and_then(from_timestamp);
        let end = req.end_time.as_ref().and_then(from_timestamp);
        if start.is_none() {
            v.violation("start_time", "is required unless broadcast_id is set");
        }
        if end.is_none() {
            v.violation("end_time", "is required unless broadcast_id is set");
        }
        if let (Some(s), Some(e)) = (start, end) {
            if e <= s {
                v.violation("end_time", "must be after start_time");
            } else if e - s > chrono::Duration::days(31) {
                v.violation("end_time", "the window is at most 31 days");
            }
        }
        v.finish()?;
        match (start, end) {
            (Some(s), Some(e)) => Ok(StatsFilter::Window(s, e)),
            _ => Err(NotificationError::Internal(anyhow::anyhow!(
                "window checked above"
            ))),
        }
    }
}

fn delivery_stats(kind: Option<Kind>, c: &Counts) -> pb::DeliveryStats {
    pb::DeliveryStats {
        r#type: kind.map(Kind::number).unwrap_or(0),
        inbox_count: c.inbox,
        read_count: c.read,
        push_sent_count: c.push_sent,
        push_failed_count: c.push_failed,
        push_suppressed_count: c.push_suppressed,
        push_pending_count: c.push_pending,
        token_dropped_count: c.token_dropped,
    }
}

/// Statistics per type (in type-number order) and their total.
pub fn stats_response(by: BTreeMap<Option<Kind>, Counts>) -> pb::GetDeliveryStatsResponse {
    let mut total = Counts::default();
    for c in by.values() {
        total.add(c);
    }
    pb::GetDeliveryStatsResponse {
        by_type: by.iter().map(|(k, c)| delivery_stats(*k, c)).collect(),
        total: Some(delivery_stats(None, &total)),
    }
}
