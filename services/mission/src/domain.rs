//! Missions' rules: kinds and ways, periods in the team's time zone (weeks run
//! Monday to Sunday), proof bodies. No tonic, no SQL.

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
    pub fn from_number(n: i32) -> Option<Self> {
        match n {
            1 => Some(Self::Once),
            2 => Some(Self::Repeat),
            _ => None,
        }
    }
    pub fn number(self) -> i32 {
        match self {
            Self::Once => 1,
            Self::Repeat => 2,
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
    pub fn from_number(n: i32) -> Option<Self> {
        match n {
            1 => Some(Self::Text),
            2 => Some(Self::Photo),
            3 => Some(Self::Link),
            _ => None,
        }
    }
    pub fn number(self) -> i32 {
        match self {
            Self::Text => 1,
            Self::Photo => 2,
            Self::Link => 3,
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
    pub end_reason: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    pub maker_id: Uuid,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
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
}
