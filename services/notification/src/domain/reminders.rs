//! Reminder rules: which occurrences are due when (team time, windows ahead
//! and behind, the grace after which one is dropped), what a reminder row
//! carries, and the drafts each kind of reminder sends. The scheduler
//! (`reminders.rs`) asks the peers and writes through the store.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{DEFAULT_TIME_ZONE, Draft, Kind};

/// An occurrence later than this is dropped instead of sent (after an outage).
pub const GRACE: Duration = Duration::hours(1);
/// How far ahead the polled sources are asked (ticks must come more often).
pub const AHEAD: Duration = Duration::minutes(15);
/// How far back the polled windows reach (a tick that came late).
pub const BEHIND: Duration = Duration::minutes(5);

/// What a reminder row carries from planning to sending.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Payload {
    pub team_id: String,
    #[serde(default)]
    pub team_name: String,
    #[serde(default)]
    pub target_id: String,
    #[serde(default)]
    pub title: String,
    /// Deadline or closing instant (unix seconds) for due and vote reminders.
    #[serde(default)]
    pub at: i64,
    /// Local date (YYYY-MM-DD): meeting day, or the week start for summaries.
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub time: String,
}

/// One reminder occurrence to write (once per key).
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub kind: &'static str,
    pub key: String,
    pub team: Option<Uuid>,
    pub due: DateTime<Utc>,
    pub payload: Payload,
}

/// Drafts and their recipients (the body may differ per member).
pub type Groups = Vec<(Draft, Vec<Uuid>)>;

pub fn tz_of(name: &str) -> Tz {
    name.parse().unwrap_or(DEFAULT_TIME_ZONE)
}

/// `day` at `h:m` in `tz` as an instant (the earliest one around DST changes).
pub fn local_instant(tz: Tz, day: NaiveDate, h: u32, m: u32) -> Option<DateTime<Utc>> {
    let t = day.and_time(NaiveTime::from_hms_opt(h, m, 0)?);
    tz.from_local_datetime(&t)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Whether an occurrence due at `due` is planned at `now`.
fn in_window(due: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    due > now - GRACE && due <= now + AHEAD
}

/// Yesterday, today and tomorrow around `today`.
pub fn days_around(today: NaiveDate) -> [NaiveDate; 3] {
    [today - Duration::days(1), today, today + Duration::days(1)]
}

/// The team-time occurrences of an active team around `now`: unproven
/// missions at 20:00, the weekly summary on Mondays at 09:00.
pub fn team_time_occurrences(
    team: Uuid,
    name: &str,
    tz: Tz,
    now: DateTime<Utc>,
) -> Vec<Occurrence> {
    let mut out = vec![];
    for day in days_around(now.with_timezone(&tz).date_naive()) {
        let payload = Payload {
            team_id: team.to_string(),
            team_name: name.to_owned(),
            date: day.to_string(),
            ..Payload::default()
        };
        if let Some(due) = local_instant(tz, day, 20, 0)
            && in_window(due, now)
        {
            out.push(Occurrence {
                kind: "UNPROVEN",
                key: format!("unproven:{team}:{day}"),
                team: Some(team),
                due,
                payload: payload.clone(),
            });
        }
        if day.weekday() == Weekday::Mon
            && let Some(due) = local_instant(tz, day, 9, 0)
            && in_window(due, now)
        {
            let week_start = day - Duration::days(7);
            out.push(Occurrence {
                kind: "WEEKLY",
                key: format!("weekly:{team}:{day}"),
                team: Some(team),
                due,
                payload: Payload {
                    date: week_start.to_string(),
                    ..payload
                },
            });
        }
    }
    out
}

/// A team meeting on `day`: reminded at 09:00 team time. `time` is the first
/// meeting's start (`HH:MM`) or empty.
pub fn meeting_occurrence(
    team: Uuid,
    team_name: &str,
    tz: Tz,
    day: NaiveDate,
    time: String,
    now: DateTime<Utc>,
) -> Option<Occurrence> {
    let due = local_instant(tz, day, 9, 0)?;
    if !in_window(due, now) {
        return None;
    }
    Some(Occurrence {
        kind: "MEETING",
        key: format!("meeting:{team}:{day}"),
        team: Some(team),
        due,
        payload: Payload {
            team_id: team.to_string(),
            team_name: team_name.to_owned(),
            date: day.to_string(),
            time,
            ..Payload::default()
        },
    })
}

/// A team item with an instant (a mission deadline, a vote's close).
#[derive(Debug, Clone, Copy)]
pub struct Upcoming<'a> {
    pub team_id: &'a str,
    pub target_id: &'a str,
    pub title: &'a str,
    pub at: Option<DateTime<Utc>>,
}

/// A reminder `lead` before the item's instant; None for bad ids or no time.
pub fn occurrence_before(
    kind: &'static str,
    label: &str,
    item: Upcoming,
    lead: Duration,
) -> Option<Occurrence> {
    let (Ok(team), Some(at)) = (Uuid::parse_str(item.team_id), item.at) else {
        return None;
    };
    Some(Occurrence {
        kind,
        key: format!("{label}:{}:{}", item.target_id, at.timestamp()),
        team: Some(team),
        due: at - lead,
        payload: Payload {
            team_id: team.to_string(),
            target_id: item.target_id.to_owned(),
            title: item.title.to_owned(),
            at: at.timestamp(),
            ..Payload::default()
        },
    })
}

/// The unproven-missions reminder: members grouped by the text they get.
pub fn unproven(team: Uuid, name: &str, per_member: BTreeMap<Uuid, Vec<String>>) -> Groups {
    let mut groups: BTreeMap<String, (usize, Vec<Uuid>)> = BTreeMap::new();
    for (member, titles) in per_member {
        let body = match titles.as_slice() {
            [one] => format!("[{name}] '{one}' 미션 인증을 모임원들이 기다리고 있어요!"),
            many => format!("[{name}] 아직 인증하지 않은 미션이 {}개 있어요", many.len()),
        };
        groups
            .entry(body)
            .or_insert((titles.len(), vec![]))
            .1
            .push(member);
    }
    groups
        .into_iter()
        .map(|(body, (count, members))| {
            (
                Draft::new(Kind::ReminderUnprovenMissions, Some(team), name, None)
                    .text("오늘의 미션, 잊지 않으셨죠? 👀", body)
                    .path(format!("/teams/{team}/missions"))
                    .with("mission_count", count.to_string()),
                members,
            )
        })
        .collect()
}

/// A deadline reminder (24 hours or 1 hour before) to the unproven members.
pub fn mission_due(
    team: Uuid,
    name: &str,
    day_before: bool,
    mission_id: &str,
    mission_title: &str,
    members: Vec<Uuid>,
) -> Groups {
    let (kind, title, body) = if day_before {
        (
            Kind::ReminderMissionDue24h,
            format!("[D-1] {mission_title}"),
            format!("[{name}] 마감까지 하루 남았어요! 인증하고 모잉불을 키워 봐요 🔥"),
        )
    } else {
        (
            Kind::ReminderMissionDue1h,
            format!("⏰ 마감 1시간 전! {mission_title}"),
            format!("[{name}] 아직 인증하지 않았어요. 서둘러 인증해 봐요 💨"),
        )
    };
    vec![(
        Draft::new(kind, Some(team), name, None)
            .text(title, body)
            .path(format!("/teams/{team}/missions/{mission_id}"))
            .with("mission_id", mission_id),
        members,
    )]
}

/// A vote closing in an hour, to those who have not voted.
pub fn vote_closing(team: Uuid, team_name: &str, p: &Payload, non_voters: Vec<Uuid>) -> Groups {
    vec![(
        Draft::new(Kind::ReminderVoteClosing, Some(team), team_name, None)
            .text(
                "🗳️ 투표 마감 1시간 전이에요",
                format!("[{team_name}] '{}' 투표에 아직 참여하지 않았어요", p.title),
            )
            .path(format!("/teams/{team}/votes/{}", p.target_id))
            .with("vote_id", &p.target_id),
        non_voters,
    )]
}

/// The meeting-day reminder to every member.
pub fn meeting_day(team: Uuid, name: &str, p: &Payload, members: Vec<Uuid>) -> Groups {
    let body = if p.time.is_empty() {
        "오늘 모임에서 만나요! 😊".to_owned()
    } else {
        format!("오늘 {}에 만나요! 😊", p.time)
    };
    let mut draft = Draft::new(Kind::ReminderMeetingDay, Some(team), name, None)
        .text(format!("오늘은 {name} 모임 날이에요 📅"), body)
        .path(format!("/teams/{team}"))
        .with("meeting_date", &p.date);
    if !p.time.is_empty() {
        draft = draft.with("meeting_time", &p.time);
    }
    vec![(draft, members)]
}

/// One member's totals of last week: missions done and required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub member: Uuid,
    pub done: i32,
    pub required: i32,
}

const WEEKLY_FALLBACK: &str = "지난 한 주 모임 기록을 확인해 보세요!";

/// The weekly summary: each member's rate and the team's average when
/// `progress` is known, otherwise one text for everyone.
pub fn weekly_summary(
    team: Uuid,
    name: &str,
    week_start: &str,
    members: &[Uuid],
    progress: Option<&[Totals]>,
) -> Groups {
    let title = format!("[{name}] 지난주 리포트가 도착했어요 📊");
    let base = Draft::new(Kind::ReminderWeeklySummary, Some(team), name, None)
        .path(format!("/teams/{team}"))
        .with("week_start", week_start);
    let Some(progress) = progress else {
        return vec![(base.text(&title, WEEKLY_FALLBACK), members.to_vec())];
    };
    let rate = |done: i32, required: i32| (required > 0).then(|| done * 100 / required);
    let rates: BTreeMap<Uuid, Option<i32>> = progress
        .iter()
        .map(|t| (t.member, rate(t.done, t.required)))
        .collect();
    let known: Vec<i32> = rates.values().flatten().copied().collect();
    let team_rate = (!known.is_empty()).then(|| known.iter().sum::<i32>() / known.len() as i32);
    let mut groups: BTreeMap<String, Vec<Uuid>> = BTreeMap::new();
    for m in members {
        let body = match (rates.get(m).copied().flatten(), team_rate) {
            (Some(mine), Some(avg)) => format!("지난주 나의 달성률 {mine}% · 팀 평균 {avg}%"),
            (None, Some(avg)) => format!("지난주 팀 평균 달성률은 {avg}%예요"),
            _ => WEEKLY_FALLBACK.to_owned(),
        };
        groups.entry(body).or_default().push(*m);
    }
    groups
        .into_iter()
        .map(|(body, members)| (base.clone().text(&title, body), members))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_become_instants() {
        let day: NaiveDate = "2026-03-02".parse().expect("date");
        let seoul = local_instant(chrono_tz::Asia::Seoul, day, 20, 0).expect("instant");
        assert_eq!(seoul.to_rfc3339(), "2026-03-02T11:00:00+00:00");
        assert_eq!(tz_of("nowhere"), DEFAULT_TIME_ZONE);
    }
}
