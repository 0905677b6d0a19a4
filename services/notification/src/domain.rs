//! Notification rules with no transport or storage in them: what each
//! notification type is (category, stored name), push settings and quiet
//! hours, the draft of a notification before it is fanned out, devices and
//! the inbox as the API shows it. The drafts of events (`events`), reminders
//! (`reminders`) and broadcasts (`broadcasts`) live in the submodules; wire
//! numbers come from the generated enums (`grpc/wire.rs`).

pub mod broadcasts;
pub mod events;
pub mod reminders;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

/// Settings group of a notification: decides whether and when it is pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    NewContent,
    Comments,
    Pokes,
    Reminders,
    Team,
    Service,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewContent => "NEW_CONTENT",
            Self::Comments => "COMMENTS",
            Self::Pokes => "POKES",
            Self::Reminders => "REMINDERS",
            Self::Team => "TEAM",
            Self::Service => "SERVICE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::NewContent,
            Self::Comments,
            Self::Pokes,
            Self::Reminders,
            Self::Team,
            Self::Service,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// Reminders and broadcasts wait for quiet hours to end; the rest go to
    /// the inbox without a push.
    pub fn held_in_quiet_hours(self) -> bool {
        matches!(self, Self::Reminders | Self::Service)
    }
}

macro_rules! kinds {
    ($($variant:ident, $name:literal, $cat:ident;)*) => {
        /// What a notification is about (`moing.notification.v1.NotificationType`;
        /// declared in the order of its numbers).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Kind { $($variant,)* }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The stored name and the `type` data key (the enum name without prefix).
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$variant => $name,)* }
            }

            pub fn category(self) -> Category {
                match self { $(Kind::$variant => Category::$cat,)* }
            }
        }
    };
}

kinds! {
    MissionCreated, "MISSION_CREATED", NewContent;
    ProofSubmitted, "PROOF_SUBMITTED", NewContent;
    NoticePosted, "NOTICE_POSTED", NewContent;
    VoteOpened, "VOTE_OPENED", NewContent;
    ProofCommented, "PROOF_COMMENTED", Comments;
    PostCommented, "POST_COMMENTED", Comments;
    ProofHearted, "PROOF_HEARTED", Comments;
    ProofStickered, "PROOF_STICKERED", Comments;
    Poked, "POKED", Pokes;
    MemberJoined, "MEMBER_JOINED", Team;
    LeadershipHandedOver, "LEADERSHIP_HANDED_OVER", Team;
    TeamDisbanded, "TEAM_DISBANDED", Team;
    ReminderUnprovenMissions, "REMINDER_UNPROVEN_MISSIONS", Reminders;
    ReminderMissionDue24h, "REMINDER_MISSION_DUE_24H", Reminders;
    ReminderMissionDue1h, "REMINDER_MISSION_DUE_1H", Reminders;
    ReminderVoteClosing, "REMINDER_VOTE_CLOSING", Reminders;
    ReminderMeetingDay, "REMINDER_MEETING_DAY", Reminders;
    ReminderWeeklySummary, "REMINDER_WEEKLY_SUMMARY", Reminders;
    Broadcast, "BROADCAST", Service;
}

impl Kind {
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// A member's push settings (defaults when never changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSettings {
    pub new_content: bool,
    pub comments: bool,
    pub pokes: bool,
    pub reminders: bool,
    pub quiet_enabled: bool,
    /// Minutes after local midnight.
    pub quiet_start: u16,
    pub quiet_end: u16,
    pub time_zone: Tz,
    pub updated_at: Option<DateTime<Utc>>,
}

pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Asia::Seoul;

impl Default for MemberSettings {
    fn default() -> Self {
        Self {
            new_content: true,
            comments: true,
            pokes: true,
            reminders: true,
            quiet_enabled: true,
            quiet_start: 23 * 60,
            quiet_end: 8 * 60,
            time_zone: DEFAULT_TIME_ZONE,
            updated_at: None,
        }
    }
}

/// What happens to the push of one notification for one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushPlan {
    /// Push now.
    Now,
    /// Inbox row and push both wait until this instant (end of quiet hours).
    HeldUntil(DateTime<Utc>),
    /// Inbox only: quiet hours.
    Quiet,
    /// Inbox only: the category is switched off.
    Off,
}

impl MemberSettings {
    /// Whether the category's switch lets a push through (TEAM and SERVICE have none).
    pub fn allows(&self, category: Category) -> bool {
        match category {
            Category::NewContent => self.new_content,
            Category::Comments => self.comments,
            Category::Pokes => self.pokes,
            Category::Reminders => self.reminders,
            Category::Team | Category::Service => true,
        }
    }

    /// The end of the quiet hours containing `now`, or None outside them.
    pub fn quiet_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.quiet_enabled || self.quiet_start == self.quiet_end {
            return None;
        }
        let local = now.with_timezone(&self.time_zone);
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let (start, end) = (self.quiet_start, self.quiet_end);
        let inside = if start < end {
            minute >= start && minute < end
        } else {
            minute >= start || minute < end
        };
        if !inside {
            return None;
        }
        // The end is today if it is still ahead, otherwise tomorrow.
        let mut day = local.date_naive();
        if minute >= end {
            day += Duration::days(1);
        }
        let end_time = NaiveTime::from_hms_opt(u32::from(end / 60), u32::from(end % 60), 0)?;
        let end_local = day.and_time(end_time);
        // A time skipped by a DST change: take the next valid instant an hour later.
        self.time_zone
            .from_local_datetime(&end_local)
            .earliest()
            .or_else(|| {
                self.time_zone
                    .from_local_datetime(&(end_local + Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
    }

    pub fn plan(&self, category: Category, now: DateTime<Utc>) -> PushPlan {
        match self.quiet_until(now) {
            Some(end) if category.held_in_quiet_hours() => PushPlan::HeldUntil(end),
            _ if !self.allows(category) => PushPlan::Off,
            Some(_) => PushPlan::Quiet,
            None => PushPlan::Now,
        }
    }
}

/// Where one recipient's notification lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// When the inbox row shows (the end of quiet hours for held ones).
    pub visible_at: DateTime<Utc>,
    /// The inbox row's `push_state`.
    pub push_state: &'static str,
    /// Whether push rows are written for the recipient's devices.
    pub push: bool,
    /// Held for quiet hours.
    pub held: bool,
}

impl PushPlan {
    /// The placement of this plan for a recipient with or without devices.
    pub fn placement(self, now: DateTime<Utc>, has_device: bool) -> Placement {
        let (visible_at, push_state, push, held) = match self {
            PushPlan::Now if !has_device => (now, "NO_DEVICE", false, false),
            PushPlan::Now => (now, "QUEUED", true, false),
            PushPlan::HeldUntil(end) if !has_device => (end, "NO_DEVICE", false, true),
            PushPlan::HeldUntil(end) => (end, "HELD", true, true),
            PushPlan::Quiet => (now, "QUIET", false, false),
            PushPlan::Off => (now, "OFF", false, false),
        };
        Placement {
            visible_at,
            push_state,
            push,
            held,
        }
    }
}

/// A notification before it is fanned out to its recipients.
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: Kind,
    pub team_id: Option<Uuid>,
    pub team_name: String,
    pub actor: Option<Uuid>,
    pub broadcast_id: Option<Uuid>,
    pub title: String,
    pub body: String,
    pub path: String,
    /// Ids the app routes on; `type`, `path` and `team_id` are added here,
    /// `notification_id` per recipient.
    pub data: BTreeMap<String, String>,
}

impl Draft {
    pub fn new(kind: Kind, team_id: Option<Uuid>, team_name: &str, actor: Option<Uuid>) -> Self {
        Self {
            kind,
            team_id,
            team_name: team_name.to_owned(),
            actor,
            broadcast_id: None,
            title: String::new(),
            body: String::new(),
            path: String::new(),
            data: BTreeMap::new(),
        }
    }

    pub fn text(mut self, title: impl Into<String>, body: impl Into<String>) -> Self {
        self.title = clip(&title.into(), 200);
        self.body = clip(&body.into(), 1000);
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.data.insert(key.to_owned(), value.into());
        self
    }

    /// The data map as stored (without the per-recipient `notification_id`).
    pub fn stored_data(&self) -> BTreeMap<String, String> {
        let mut data = self.data.clone();
        data.insert("type".into(), self.kind.as_str().into());
        data.insert("path".into(), self.path.clone());
        data.insert(
            "team_id".into(),
            self.team_id.map(|t| t.to_string()).unwrap_or_default(),
        );
        data
    }
}

/// At most `max` characters (not bytes), with an ellipsis when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Platform of a registered device (`moing.notification.v1.DevicePlatform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Android,
    Ios,
    Web,
}

impl Platform {
    /// The stored name (the enum value's name without its prefix).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Android => "ANDROID",
            Self::Ios => "IOS",
            Self::Web => "WEB",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ANDROID" => Some(Self::Android),
            "IOS" => Some(Self::Ios),
            "WEB" => Some(Self::Web),
            _ => None,
        }
    }
}

/// A push token to register for the caller's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    /// Trimmed, 1 to 4096 characters, no spaces or control characters.
    pub token: String,
    pub platform: Platform,
}

/// A stored device registration.
#[derive(Debug, Clone)]
pub struct Device {
    pub session_id: Uuid,
    pub platform: Platform,
    pub registered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One inbox row as the API shows it.
#[derive(Debug, Clone)]
pub struct InboxItem {
    pub id: Uuid,
    pub category: Category,
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub data: BTreeMap<String, String>,
    pub path: String,
    pub team_id: Option<Uuid>,
    pub team_name: String,
    pub actor: Option<Uuid>,
    pub visible_at: DateTime<Utc>,
    pub read: bool,
}

/// Keyset position in the inbox (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub visible_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!(
            "{}.{}",
            self.visible_at.timestamp_micros(),
            self.id.simple()
        )
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (micros, id) = s.split_once('.')?;
        Some(Self {
            visible_at: moing_common::convert::from_micros(micros.parse().ok()?)?,
            id: Uuid::parse_str(id).ok()?,
        })
    }
}

/// One page of a member's inbox: at most `size` items after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxPage {
    pub size: u32,
    pub after: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn default_quiet_hours_span_midnight_in_seoul() {
        let s = MemberSettings::default();
        // 23:30 KST = 14:30 UTC: quiet until 08:00 KST next day (23:00 UTC).
        assert_eq!(
            s.quiet_until(at("2026-03-02T14:30:00Z")),
            Some(at("2026-03-02T23:00:00Z"))
        );
        // 07:59 KST = 22:59 UTC the day before: still quiet, same end.
        assert_eq!(
            s.quiet_until(at("2026-03-02T22:59:00Z")),
            Some(at("2026-03-02T23:00:00Z"))
        );
        // 08:00 KST: not quiet.
        assert_eq!(s.quiet_until(at("2026-03-02T23:00:00Z")), None);
        // 20:00 KST: not quiet.
        assert_eq!(s.quiet_until(at("2026-03-02T11:00:00Z")), None);
    }

    #[test]
    fn plans_follow_category_rules() {
        let s = MemberSettings::default();
        let night = at("2026-03-02T15:00:00Z"); // 00:00 KST
        let end = at("2026-03-02T23:00:00Z");
        assert_eq!(s.plan(Category::Reminders, night), PushPlan::HeldUntil(end));
        assert_eq!(s.plan(Category::Service, night), PushPlan::HeldUntil(end));
        assert_eq!(s.plan(Category::Pokes, night), PushPlan::Quiet);
        assert_eq!(s.plan(Category::Comments, night), PushPlan::Quiet);
        let day = at("2026-03-02T03:00:00Z");
        assert_eq!(s.plan(Category::Pokes, day), PushPlan::Now);
        let off = MemberSettings {
            pokes: false,
            ..MemberSettings::default()
        };
        assert_eq!(off.plan(Category::Pokes, day), PushPlan::Off);
        assert_eq!(off.plan(Category::Team, day), PushPlan::Now);
    }

    #[test]
    fn same_day_window_and_disabled() {
        let s = MemberSettings {
            quiet_start: 13 * 60,
            quiet_end: 14 * 60,
            time_zone: chrono_tz::UTC,
            ..MemberSettings::default()
        };
        assert_eq!(
            s.quiet_until(at("2026-03-02T13:10:00Z")),
            Some(at("2026-03-02T14:00:00Z"))
        );
        assert_eq!(s.quiet_until(at("2026-03-02T14:10:00Z")), None);
        let off = MemberSettings {
            quiet_enabled: false,
            ..s
        };
        assert_eq!(off.quiet_until(at("2026-03-02T13:10:00Z")), None);
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(*k));
            assert_eq!(Kind::from_number(k.number()), Some(*k));
        }
        assert_eq!(Kind::ALL.len(), 19);
        assert_eq!(clip("가나다라", 3), "가나…");
    }

    #[test]
    fn cursor_round_trips_and_rejects_junk() {
        let c = Cursor {
            visible_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("t"),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("nope"), None);
        assert_eq!(Cursor::decode("12.zz"), None);
    }
}
