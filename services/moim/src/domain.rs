//! Teams' rules: validation, statuses and dates in the team's time zone,
//! memberships, invite codes and their usability, meeting occurrences. No
//! wire types (those conversions are in `grpc/wire.rs`), no SQL.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use moing_common::Validator;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::MoimError;

pub const DEFAULT_TIME_ZONE: &str = "Asia/Seoul";
pub const DEFAULT_MEMBER_CAP: i32 = 20;
pub const ACTIVE_TEAM_LIMIT: i64 = 3;
pub const DISBAND_GRACE_DAYS: i64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Study,
    Sports,
    Habit,
    Test,
    Reading,
    Etc,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Self::Study,
        Self::Sports,
        Self::Habit,
        Self::Test,
        Self::Reading,
        Self::Etc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Study => "STUDY",
            Self::Sports => "SPORTS",
            Self::Habit => "HABIT",
            Self::Test => "TEST",
            Self::Reading => "READING",
            Self::Etc => "ETC",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// What the app sees of a team's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Finished,
    Disbanded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Leader,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Leader => "LEADER",
            Self::Member => "MEMBER",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "LEADER" {
            Self::Leader
        } else {
            Self::Member
        }
    }
}

/// A team row.
#[derive(Debug, Clone)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
    pub category: Category,
    pub introduction: String,
    pub leader_promise: String,
    pub image_key: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub time_zone: String,
    pub member_cap: i32,
    pub member_count: i32,
    pub allow_member_invites: bool,
    pub leader_id: Uuid,
    pub disbanded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn tz(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Asia::Seoul)
}

/// Today's date in a time zone.
pub fn today_in(zone: &str, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz(zone)).date_naive()
}

impl Team {
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        today_in(&self.time_zone, now)
    }

    pub fn status(&self, now: DateTime<Utc>) -> Status {
        if self.disbanded_at.is_some() {
            Status::Disbanded
        } else if self.today(now) > self.end_date {
            Status::Finished
        } else {
            Status::Active
        }
    }

    /// Disbanded teams vanish after the grace period: every lookup says NOT_FOUND.
    pub fn visible(&self, now: DateTime<Utc>) -> bool {
        self.disbanded_at
            .is_none_or(|at| now < at + Duration::days(DISBAND_GRACE_DAYS))
    }

    pub fn grace_ends_at(&self) -> Option<DateTime<Utc>> {
        self.disbanded_at
            .map(|at| at + Duration::days(DISBAND_GRACE_DAYS))
    }

    pub fn writable(&self, now: DateTime<Utc>) -> bool {
        self.status(now) == Status::Active
    }

    pub fn days_left(&self, now: DateTime<Utc>) -> i32 {
        (self.end_date - self.today(now)).num_days().max(0) as i32
    }

    pub fn days_until_start(&self, now: DateTime<Utc>) -> i32 {
        (self.start_date - self.today(now)).num_days().max(0) as i32
    }
}

/// An active or past membership row.
#[derive(Debug, Clone)]
pub struct Membership {
    pub member_id: Uuid,
    pub role: Role,
    pub state: String,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
}

/// Fields a new team starts with.
#[derive(Debug, Clone)]
pub struct NewTeam {
    pub name: String,
    pub category: Category,
    pub introduction: String,
    pub leader_promise: String,
    pub image_key: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub time_zone: String,
    pub allow_member_invites: bool,
}

/// An invite row.
#[derive(Debug, Clone)]
pub struct Invite {
    pub id: Uuid,
    pub team_id: Uuid,
    pub code: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub max_uses: i32,
    pub use_count: i32,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Whether an invite code can still be used, computed on read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteState {
    Active,
    Expired,
    Revoked,
    UsedUp,
}

impl Invite {
    pub fn state(&self, now: DateTime<Utc>) -> InviteState {
        if self.revoked_at.is_some() {
            InviteState::Revoked
        } else if self.expires_at <= now {
            InviteState::Expired
        } else if self.max_uses > 0 && self.use_count >= self.max_uses {
            InviteState::UsedUp
        } else {
            InviteState::Active
        }
    }

    /// The error a join (or its preview) meets with this code, if any:
    /// revoked, then expired, then used up.
    pub fn check_usable(&self, now: DateTime<Utc>) -> Result<(), MoimError> {
        match self.state(now) {
            InviteState::Active => Ok(()),
            InviteState::Revoked => Err(MoimError::InviteRevoked),
            InviteState::Expired => Err(MoimError::InviteExpired),
            InviteState::UsedUp => Err(MoimError::InviteUsedUp),
        }
    }
}

/// The instant a team with this end date finishes: the end of that day in its zone.
pub fn finishes_at(end_date: NaiveDate, zone: &str) -> DateTime<Utc> {
    let next = end_date + Duration::days(1);
    tz(zone)
        .from_local_datetime(&next.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| next.and_time(NaiveTime::MIN).and_utc())
}

/// Start today or later; end on or after start and at most one year after it.
pub fn check_period(
    v: &mut Validator,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    today: NaiveDate,
) {
    if let Some(start) = start
        && start < today
    {
        v.violation("start_date", "must be today or later");
    }
    if let (Some(start), Some(end)) = (start, end) {
        if end < start {
            v.violation("end_date", "must not be before start_date");
        } else if start
            .checked_add_months(chrono::Months::new(12))
            .is_some_and(|limit| end > limit)
        {
            v.violation("end_date", "must be at most one year after start_date");
        }
    }
}

/// A later end date for a running team: after the current one and at most
/// one year after the start.
pub fn check_extension(v: &mut Validator, team: &Team, end: NaiveDate) {
    v.check(
        end > team.end_date,
        "new_end_date",
        "must be after the current end date",
    );
    let limit = team.start_date.checked_add_months(chrono::Months::new(12));
    v.check(
        limit.is_none_or(|l| end <= l),
        "new_end_date",
        "must be at most one year after start_date",
    );
}

pub fn time_zone(v: &mut Validator, field: &str, raw: &str) -> String {
    let raw = raw.trim();
    if raw.is_empty() {
        return DEFAULT_TIME_ZONE.to_owned();
    }
    if raw.parse::<Tz>().is_err() {
        v.violation(field, "must be an IANA time zone such as Asia/Seoul");
    }
    raw.to_owned()
}

/// A team image key: one of the caller's uploads or the team's own images.
pub fn image_key(
    v: &mut Validator,
    field: &str,
    member: Uuid,
    team: Option<Uuid>,
    raw: &str,
) -> String {
    let key = raw.trim();
    if key.is_empty() {
        return String::new();
    }
    let scoped = key.starts_with(&format!("members/{member}/"))
        || team.is_some_and(|t| key.starts_with(&format!("teams/{t}/")));
    let shape = key.len() <= 300
        && !key.contains("..")
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_-.".contains(c))
        && key
            .rsplit_once('.')
            .is_some_and(|(_, ext)| matches!(ext, "jpg" | "jpeg" | "png" | "webp" | "heic"));
    if !(scoped && shape) {
        v.violation(
            field,
            "must be an uploaded image key of yours or of this team",
        );
    }
    key.to_owned()
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A random 16-character invite code: 80 bits of entropy (Crockford base32).
pub fn new_invite_code() -> String {
    let bytes: [u8; 10] = rand::random();
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    (0..16)
        .rev()
        .map(|i| CROCKFORD[((bits >> (i * 5)) & 31) as usize] as char)
        .collect()
}

/// Normalises a typed code (case, confusable letters); None when malformed.
pub fn normalize_code(raw: &str) -> Option<String> {
    let code: String = raw
        .trim()
        .to_ascii_uppercase()
        .chars()
        .filter(|c| *c != '-')
        .map(|c| match c {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    (code.len() == 16 && code.bytes().all(|b| CROCKFORD.contains(&b))).then_some(code)
}

/// A weekly slot or single meeting, as stored (JSON) and validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklySlot {
    /// ISO weekday, Monday = 1.
    pub weekday: u32,
    pub time: NaiveTime,
    pub place: String,
    pub memo: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SingleMeeting {
    pub date: NaiveDate,
    pub time: NaiveTime,
    pub place: String,
    pub memo: String,
}

/// A schedule update: the lists named by the mask (None = unchanged).
#[derive(Debug, Clone)]
pub struct ScheduleChange {
    pub team_id: Uuid,
    pub weekly: Option<Vec<WeeklySlot>>,
    pub singles: Option<Vec<SingleMeeting>>,
}

/// The next meeting at or after `now`, in the team's zone, within the team's period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextMeeting {
    pub date: NaiveDate,
    pub time: NaiveTime,
    pub starts_at: DateTime<Utc>,
    pub place: String,
    pub memo: String,
    pub weekly: bool,
}

/// The next `limit` meetings at or after `now` (weekly slots over the next five
/// weeks plus single dates), inside the team's period, earliest first.
pub fn upcoming_meetings(
    team: &Team,
    weekly: &[WeeklySlot],
    singles: &[SingleMeeting],
    now: DateTime<Utc>,
    limit: usize,
) -> Vec<NextMeeting> {
    let zone = tz(&team.time_zone);
    let to_utc = |d: NaiveDate, t: NaiveTime| {
        zone.from_local_datetime(&d.and_time(t))
            .earliest()
            .map(|x| x.with_timezone(&Utc))
    };
    let mut out = Vec::new();
    let mut consider = |date: NaiveDate, time: NaiveTime, place: &str, memo: &str, weekly: bool| {
        if date < team.start_date || date > team.end_date {
            return;
        }
        if let Some(at) = to_utc(date, time).filter(|at| *at >= now) {
            out.push(NextMeeting {
                date,
                time,
                starts_at: at,
                place: place.into(),
                memo: memo.into(),
                weekly,
            });
        }
    };
    let today = team.today(now);
    for slot in weekly {
        for offset in 0..36 {
            let d = today + Duration::days(offset);
            if d.weekday().number_from_monday() == slot.weekday {
                consider(d, slot.time, &slot.place, &slot.memo, true);
            }
        }
    }
    for m in singles {
        consider(m.date, m.time, &m.place, &m.memo, false);
    }
    out.sort_by_key(|m| m.starts_at);
    out.truncate(limit);
    out
}

/// The next meeting at or after `now`, if any.
pub fn next_meeting(
    team: &Team,
    weekly: &[WeeklySlot],
    singles: &[SingleMeeting],
    now: DateTime<Utc>,
) -> Option<NextMeeting> {
    upcoming_meetings(team, weekly, singles, now, 1)
        .into_iter()
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(start: &str, end: &str) -> Team {
        let now = moing_common::clock::now();
        Team {
            id: Uuid::now_v7(),
            name: "t".into(),
            category: Category::Study,
            introduction: String::new(),
            leader_promise: String::new(),
            image_key: String::new(),
            start_date: start.parse().expect("date"),
            end_date: end.parse().expect("date"),
            time_zone: DEFAULT_TIME_ZONE.into(),
            member_cap: 20,
            member_count: 1,
            allow_member_invites: false,
            leader_id: Uuid::now_v7(),
            disbanded_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn status_follows_the_team_time_zone() {
        let t = team("2026-01-01", "2026-01-31");
        // 2026-01-31 15:30 UTC is already 2026-02-01 00:30 in Seoul.
        let late = Utc
            .with_ymd_and_hms(2026, 1, 31, 15, 30, 0)
            .single()
            .expect("time");
        assert_eq!(t.status(late), Status::Finished);
        let earlier = Utc
            .with_ymd_and_hms(2026, 1, 31, 14, 30, 0)
            .single()
            .expect("time");
        assert_eq!(t.status(earlier), Status::Active);
        assert_eq!(t.days_left(earlier), 0);
    }

    #[test]
    fn periods_are_checked() {
        let today: NaiveDate = "2026-11-24".parse().expect("date");
        let d = |s: &str| Some(s.parse::<NaiveDate>().expect("date"));
        let mut v = Validator::new();
        check_period(&mut v, d("2026-11-24"), d("2027-11-24"), today);
        assert!(v.is_empty());
        check_period(&mut v, d("2026-11-23"), d("2026-12-01"), today);
        check_period(&mut v, d("2026-12-02"), d("2026-12-01"), today);
        check_period(&mut v, d("2026-11-24"), d("2027-11-25"), today);
        assert_eq!(v.finish().expect_err("bad").violations.len(), 3);
    }

    #[test]
    fn invite_codes_have_80_bits_and_normalise() {
        let a = new_invite_code();
        assert_eq!(a.len(), 16);
        assert_ne!(a, new_invite_code());
        assert_eq!(normalize_code(&a.to_lowercase()), Some(a.clone()));
        assert_eq!(normalize_code("short"), None);
        assert_eq!(
            normalize_code("UUUUUUUUUUUUUUUU"),
            None,
            "U is not Crockford"
        );
    }

    #[test]
    fn next_meeting_picks_the_earliest_future_occurrence() {
        let t = team("2026-01-01", "2026-12-31");
        // Tuesday 2026-11-24 10:00 KST = 01:00 UTC.
        let now = Utc
            .with_ymd_and_hms(2026, 11, 24, 1, 0, 0)
            .single()
            .expect("time");
        let weekly = vec![WeeklySlot {
            weekday: 2,
            time: NaiveTime::from_hms_opt(20, 0, 0).expect("t"),
            place: "카페".into(),
            memo: String::new(),
        }];
        let singles = vec![SingleMeeting {
            date: "2026-11-24".parse().expect("d"),
            time: NaiveTime::from_hms_opt(9, 0, 0).expect("t"),
            place: String::new(),
            memo: String::new(),
        }];
        let next = next_meeting(&t, &weekly, &singles, now).expect("a meeting");
        assert_eq!(next.date.to_string(), "2026-11-24");
        assert!(
            next.weekly,
            "09:00 already passed; tonight's weekly slot is next"
        );
        assert_eq!(
            next.starts_at,
            Utc.with_ymd_and_hms(2026, 11, 24, 11, 0, 0)
                .single()
                .expect("time")
        );
    }
}
