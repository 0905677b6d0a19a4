//! Missions' rules: kinds and ways, periods in the team's time zone (weeks run
//! Monday to Sunday), proofs and their bodies, reactions, the score rule and
//! the kinds of reported content. Nothing of the wire or the database here:
//! the wire forms are in `grpc/wire.rs`, the rows in `store/`.

pub mod progress;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Once,
    Repeat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Text,
    Photo,
    Link,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Once => "ONCE",
            Self::Repeat => "REPEAT",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "REPEAT" {
            Self::Repeat
        } else {
            Self::Once
        }
    }
}

impl Way {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "TEXT",
            Self::Photo => "PHOTO",
            Self::Link => "LINK",
        }
    }
    pub fn parse(s: &str) -> Self {
        match s {
            "PHOTO" => Self::Photo,
            "LINK" => Self::Link,
            _ => Self::Text,
        }
    }
}

/// Why a mission ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// By its maker or the leader.
    Manual,
    /// A ONCE mission's deadline passed.
    Deadline,
    /// The team finished or was disbanded.
    TeamEnded,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "MANUAL",
            Self::Deadline => "DEADLINE",
            Self::TeamEnded => "TEAM_ENDED",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MANUAL" => Some(Self::Manual),
            "DEADLINE" => Some(Self::Deadline),
            "TEAM_ENDED" => Some(Self::TeamEnded),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Mission {
    pub id: Uuid,
    pub team_id: Uuid,
    pub title: String,
    pub content: String,
    pub rule: String,
    pub kind: Kind,
    pub way: Way,
    pub deadline: Option<DateTime<Utc>>,
    pub times_per_week: Option<i32>,
    pub ended: bool,
    pub end_reason: Option<EndReason>,
    pub ended_at: Option<DateTime<Utc>>,
    pub maker_id: Uuid,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// REPEAT: earlier weekly targets, (Monday before which it held, target),
    /// in date order (store: `mission_target`); empty when never changed.
    pub targets: Vec<(NaiveDate, i32)>,
}

impl Mission {
    /// Accepts proofs: not ended by hand or job, and (ONCE) before its deadline.
    pub fn open(&self, now: DateTime<Utc>) -> bool {
        !self.ended && self.deadline.is_none_or(|d| now < d)
    }

    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&tz(&self.time_zone)).date_naive()
    }
}

pub fn tz(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Asia::Seoul)
}

/// Monday of the week containing `day`.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// An http(s) URL with a host, at most 2048 characters.
pub fn valid_link(url: &str) -> bool {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    url.len() <= 2048
        && rest.is_some_and(|r| {
            let host = r.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !host.contains(char::is_whitespace)
        })
        && !url.contains(char::is_whitespace)
}

/// A mission to create, validated (who makes it and the team's time zone
/// come from the caller's access).
#[derive(Debug, Clone)]
pub struct NewMission {
    pub team: Uuid,
    pub title: String,
    pub content: String,
    pub rule: String,
    pub kind: Kind,
    pub way: Way,
    pub deadline: Option<DateTime<Utc>>,
    /// REPEAT only (0 for ONCE).
    pub times_per_week: i32,
}

impl NewMission {
    /// The mission `maker` creates now in a team of `time_zone`.
    pub fn create(self, maker: Uuid, time_zone: String, now: DateTime<Utc>) -> Mission {
        Mission {
            id: Uuid::now_v7(),
            team_id: self.team,
            title: self.title,
            content: self.content,
            rule: self.rule,
            kind: self.kind,
            way: self.way,
            deadline: self.deadline,
            times_per_week: (self.kind == Kind::Repeat).then_some(self.times_per_week),
            ended: false,
            end_reason: None,
            ended_at: None,
            maker_id: maker,
            time_zone,
            created_at: now,
            updated_at: now,
            targets: Vec::new(),
        }
    }
}

/// A proof or skip to record on a mission, validated.
#[derive(Debug, Clone)]
pub struct NewProof {
    pub team: Uuid,
    pub mission: Uuid,
    pub body: Body,
    pub caption: String,
}

/// Where an upload goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadScope {
    /// A proof photo of a mission of a team.
    ProofPhoto { team: Uuid, mission: Uuid },
    /// The caller's profile image.
    ProfileImage,
    /// A team's image; None before the team exists (the creator's own upload).
    TeamImage(Option<Uuid>),
}

/// An upload to presign, validated.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub scope: UploadScope,
    pub content_type: String,
    pub content_length: i64,
    /// The key extension of the accepted content type.
    pub ext: &'static str,
}

/// A stored proof (or skip).
#[derive(Debug, Clone)]
pub struct Proof {
    pub id: Uuid,
    pub team_id: Uuid,
    pub mission_id: Uuid,
    pub member_id: Uuid,
    pub skipped: bool,
    pub way: Way,
    pub text: Option<String>,
    pub link_url: Option<String>,
    pub photo_key: Option<String>,
    pub skip_reason: Option<String>,
    pub caption: String,
    pub day: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// What a new proof carries.
#[derive(Debug, Clone)]
pub enum Body {
    Text(String),
    Link(String),
    Photo(String),
    Skip(String),
}

impl Body {
    /// Whether the body fits a mission proved in `way` (a skip fits any).
    pub fn fits(&self, way: Way) -> bool {
        matches!(
            (self, way),
            (Body::Skip(_), _)
                | (Body::Text(_), Way::Text)
                | (Body::Link(_), Way::Link)
                | (Body::Photo(_), Way::Photo)
        )
    }
}

/// The key prefix of `member`'s proof photos for a mission.
pub fn photo_prefix(team: Uuid, mission: Uuid, member: Uuid) -> String {
    format!("teams/{team}/missions/{mission}/{member}/")
}

/// A sticker on a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sticker {
    Clap,
    Fire,
    Muscle,
    Party,
    Love,
}

impl Sticker {
    /// Every sticker, in the order counts are shown.
    pub const ALL: [Sticker; 5] = [
        Sticker::Clap,
        Sticker::Fire,
        Sticker::Muscle,
        Sticker::Party,
        Sticker::Love,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clap => "CLAP",
            Self::Fire => "FIRE",
            Self::Muscle => "MUSCLE",
            Self::Party => "PARTY",
            Self::Love => "LOVE",
        }
    }
}

/// Reaction counts of one proof as seen by one member.
#[derive(Debug, Clone, Default)]
pub struct Reactions {
    pub hearts: i32,
    pub hearted_by_me: bool,
    /// (sticker, count, mine), stickers with a count only.
    pub stickers: Vec<(Sticker, i32, bool)>,
    pub comments: i32,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: Uuid,
    pub proof_id: Uuid,
    pub member_id: Uuid,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Proof,
    Comment,
}

impl ContentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proof => "PROOF",
            Self::Comment => "COMMENT",
        }
    }
}

/// The team score (모잉불). Rule (documented in ScoreRule): +10 for the first
/// done proof of a slot (mission, member, day — a deleted and redone proof
/// does not score twice), +30 when every active member completed a ONCE
/// mission, +50 when every active member met a REPEAT mission's weekly
/// target; level L starts at 100·L(L−1)/2 points (level 1 at 0, 2 at 100, 3 at
/// 300, ...). Points only go up and are added with `points = points + ?` in
/// SQL, never read-modify-write.
pub mod score {
    pub const POINTS_PER_PROOF: i64 = 10;
    pub const ONCE_BONUS: i64 = 30;
    pub const WEEKLY_BONUS: i64 = 50;
    pub const LEVEL_STEP: i64 = 100;
    pub const DESCRIPTION: &str = "+10 per first done proof of a day, +30 when every member completes a one-time mission, +50 when every member meets a weekly target; level L starts at 100·L(L−1)/2 points";

    /// (level, level start points, next level points) for `points`.
    pub fn level(points: i64) -> (i32, i64, i64) {
        let start = |l: i64| LEVEL_STEP * l * (l - 1) / 2;
        let mut l = 1;
        while start(l + 1) <= points {
            l += 1;
        }
        (l as i32, start(l), start(l + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let sunday: NaiveDate = "2026-11-29".parse().expect("date");
        let monday: NaiveDate = "2026-11-23".parse().expect("date");
        assert_eq!(week_start(sunday), monday);
        assert_eq!(week_start(monday), monday);
    }

    #[test]
    fn links_must_be_http() {
        assert!(valid_link("https://blog.example.com/post/1"));
        assert!(valid_link("http://a.b"));
        assert!(!valid_link("javascript:alert(1)"));
        assert!(!valid_link("https://"));
        assert!(!valid_link("ftp://x.y"));
        assert!(!valid_link("https://a b.c"));
    }

    #[test]
    fn levels_rise_on_triangular_thresholds() {
        use score::level;
        assert_eq!(level(0), (1, 0, 100));
        assert_eq!(level(99), (1, 0, 100));
        assert_eq!(level(100), (2, 100, 300));
        assert_eq!(level(300), (3, 300, 600));
        assert_eq!(level(1000), (5, 1000, 1500));
    }
}
