//! Automatic reminders, exactly once across replicas.
//!
//! **Planning.** Every tick each replica writes the occurrences due soon as
//! `reminder` rows keyed by (kind, target, occurrence) with `INSERT IGNORE`,
//! so any number of planners write each occurrence once:
//! - unproven missions: every active team (event-fed copy) at 20:00 team time
//!   (team-time occurrences are written once they are within the window ahead);
//! - weekly summary: every active team on Monday 09:00 team time;
//! - meeting day: teams moim lists as meeting that day, 09:00 team time;
//! - ONCE deadlines 24 h and 1 h before: missions mission lists as due in the
//!   window ahead;
//! - votes closing in 1 h: votes board lists as closing in the window ahead.
//!
//! **Sending.** Due rows are claimed with `SKIP LOCKED`; the recipients are
//! asked of mission, board or moim at send time (a member who proved in the
//! meantime is not reminded), inbox and push rows are written and the row is
//! marked `DONE` in the same transaction. Pushes go out after the commit
//! through the dispatcher, which records each attempt first. Quiet hours hold
//! a member's reminder (inbox and push) until they end. A service that does
//! not answer (board not deployed yet: UNIMPLEMENTED or UNAVAILABLE) means
//! nothing is due from it this round, logged.

use std::{collections::BTreeMap, sync::Arc};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use moing_common::{
    convert::{date, timestamp},
    jobs::{DueQuery, claim_due},
};
use moing_proto::moing::{
    board::v1::{ListVoteNonVotersRequest, ListVotesClosingBetweenRequest},
    mission::v1::{
        GetTeamProgressRequest, ListMissionsDueBetweenRequest, ListUnprovenMembersRequest,
    },
    moim::v1::ListTeamsMeetingOnRequest,
};
use serde::{Deserialize, Serialize};
use sqlx::{MySqlConnection, MySqlPool, Row};
use uuid::Uuid;

use crate::{
    domain::{DEFAULT_TIME_ZONE, Draft, Kind},
    peers::{PeerError, Peers},
    push::Dispatcher,
    store::{self, naive, utc},
};

const DUE: DueQuery = DueQuery {
    table: "reminder",
    key: "reminder_key",
    due: "due_at",
    filter: "state = 'PENDING'",
};

/// An occurrence later than this is dropped instead of sent (after an outage).
const GRACE: Duration = Duration::hours(1);
/// How far ahead the polled sources are asked (ticks must come more often).
const AHEAD: Duration = Duration::minutes(15);
/// How far back the polled windows reach (a tick that came late).
const BEHIND: Duration = Duration::minutes(5);

/// What a reminder row carries from planning to sending.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
struct Payload {
    team_id: String,
    #[serde(default)]
    team_name: String,
    #[serde(default)]
    target_id: String,
    #[serde(default)]
    title: String,
    /// Deadline or closing instant (unix seconds) for due and vote reminders.
    #[serde(default)]
    at: i64,
    /// Local date (YYYY-MM-DD): meeting day, or the week start for summaries.
    #[serde(default)]
    date: String,
    #[serde(default)]
    time: String,
}

/// What a tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub planned: usize,
    pub sent: usize,
    pub recipients: usize,
    pub expired: usize,
}

#[derive(Debug, Clone)]
pub struct Scheduler {
    pool: MySqlPool,
    peers: Arc<Peers>,
    dispatcher: Dispatcher,
}

fn tz_of(name: &str) -> Tz {
    name.parse().unwrap_or(DEFAULT_TIME_ZONE)
}

/// `day` at `h:m` in `tz` as an instant (the earliest one around DST changes).
fn local_instant(tz: Tz, day: NaiveDate, h: u32, m: u32) -> Option<DateTime<Utc>> {
    let t = day.and_time(NaiveTime::from_hms_opt(h, m, 0)?);
    tz.from_local_datetime(&t)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

fn absent(what: &str, e: &PeerError) {
    tracing::info!(source = what, error = %e, "reminder source not available: nothing due from it this round");
}

impl Scheduler {
    pub fn new(pool: MySqlPool, peers: Arc<Peers>, dispatcher: Dispatcher) -> Self {
        Self {
            pool,
            peers,
            dispatcher,
        }
    }

    /// Plans, sends what is due, and pushes.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Tick, sqlx::Error> {
        let planned = self.plan(now).await?;
        let mut tick = self.run_due(now).await?;
        tick.planned = planned;
        if let Err(e) = self
            .dispatcher
            .drain_at(Some(now.max(moing_common::clock::now())), 100)
            .await
        {
            tracing::warn!(error = %e, "reminder pushes left to the push job");
        }
        Ok(tick)
    }

    /// Plans a reminder `lead` before the instant `at` of a team's item
    /// (a mission deadline, a vote's close); skips items with bad ids or no time.
    #[allow(clippy::too_many_arguments)]
    async fn plan_before(
        &self,
        kind: &str,
        label: &str,
        team_id: &str,
        target_id: &str,
        title: &str,
        at: Option<&prost_types::Timestamp>,
        lead: Duration,
    ) -> Result<usize, sqlx::Error> {
        let (Ok(team), Some(at)) = (
            Uuid::parse_str(team_id),
            at.and_then(moing_common::convert::from_timestamp),
        ) else {
            return Ok(0);
        };
        let payload = Payload {
            team_id: team.to_string(),
            target_id: target_id.to_owned(),
            title: title.to_owned(),
            at: at.timestamp(),
            ..Payload::default()
        };
        let key = format!("{label}:{target_id}:{}", at.timestamp());
        self.insert(kind, key, Some(team), at - lead, &payload)
            .await
    }

    async fn insert(
        &self,
        kind: &str,
        key: String,
        team: Option<Uuid>,
        due: DateTime<Utc>,
        payload: &Payload,
    ) -> Result<usize, sqlx::Error> {
        let done = sqlx::query(
            "INSERT IGNORE INTO reminder (reminder_key, kind, team_id, payload, state, due_at) \
             VALUES (?, ?, ?, ?, 'PENDING', ?)",
        )
        .bind(key)
        .bind(kind)
        .bind(team)
        .bind(serde_json::to_string(payload).unwrap_or_else(|_| "{}".into()))
        .bind(naive(due))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() as usize)
    }

    /// Writes the occurrences due between `now - GRACE` and the horizon.
    pub async fn plan(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let mut planned = 0;
        planned += self.plan_team_times(now).await?;
        planned += self.plan_meetings(now).await?;
        planned += self.plan_due_missions(now).await?;
        planned += self.plan_closing_votes(now).await?;
        Ok(planned)
    }

    async fn plan_team_times(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let teams = sqlx::query("SELECT team_id, name, time_zone FROM team WHERE active = TRUE")
            .fetch_all(&self.pool)
            .await?;
        let mut planned = 0;
        for row in teams {
            let team: Uuid = row.try_get("team_id")?;
            let name: String = row.try_get("name")?;
            let tz = tz_of(&row.try_get::<String, _>("time_zone")?);
            let today = now.with_timezone(&tz).date_naive();
            for day in [today - Duration::days(1), today, today + Duration::days(1)] {
                let payload = Payload {
                    team_id: team.to_string(),
                    team_name: name.clone(),
                    date: day.to_string(),
                    ..Payload::default()
                };
                if let Some(due) = local_instant(tz, day, 20, 0)
                    && due > now - GRACE
                    && due <= now + AHEAD
                {
                    planned += self
                        .insert(
                            "UNPROVEN",
                            format!("unproven:{team}:{day}"),
                            Some(team),
                            due,
                            &payload,
                        )
                        .await?;
                }
                if day.weekday() == Weekday::Mon
                    && let Some(due) = local_instant(tz, day, 9, 0)
                    && due > now - GRACE
                    && due <= now + AHEAD
                {
                    let week_start = day - Duration::days(7);
                    let payload = Payload {
                        date: week_start.to_string(),
                        ..payload.clone()
                    };
                    planned += self
                        .insert(
                            "WEEKLY",
                            format!("weekly:{team}:{day}"),
                            Some(team),
                            due,
                            &payload,
                        )
                        .await?;
                }
            }
        }
        Ok(planned)
    }

    async fn plan_meetings(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let mut planned = 0;
        let today = now.date_naive();
        for day in [today - Duration::days(1), today, today + Duration::days(1)] {
            let mut token = String::new();
            loop {
                let r = self
                    .peers
                    .moim
                    .clone()
                    .list_teams_meeting_on(ListTeamsMeetingOnRequest {
                        date: Some(date(day)),
                        time_zone: String::new(),
                        page_size: 100,
                        page_token: token.clone(),
                    })
                    .await;
                let page = match r {
                    Ok(r) => r.into_inner(),
                    Err(s) => {
                        absent("moim meeting days", &PeerError::from_status("moim", s));
                        return Ok(planned);
                    }
                };
                for t in page.teams {
                    let Ok(team) = Uuid::parse_str(&t.team_id) else {
                        continue;
                    };
                    let tz = tz_of(&t.time_zone);
                    let Some(due) = local_instant(tz, day, 9, 0) else {
                        continue;
                    };
                    if due <= now - GRACE || due > now + AHEAD {
                        continue;
                    }
                    let time = t
                        .meetings
                        .first()
                        .and_then(|m| m.start_time.as_ref())
                        .map(|s| format!("{:02}:{:02}", s.hours, s.minutes))
                        .unwrap_or_default();
                    let payload = Payload {
                        team_id: team.to_string(),
                        team_name: t.team_name.clone(),
                        date: day.to_string(),
                        time,
                        ..Payload::default()
                    };
                    planned += self
                        .insert(
                            "MEETING",
                            format!("meeting:{team}:{day}"),
                            Some(team),
                            due,
                            &payload,
                        )
                        .await?;
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
        }
        Ok(planned)
    }

    async fn plan_due_missions(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let Some(mission) = &self.peers.mission else {
            return Ok(0);
        };
        let mut planned = 0;
        for (lead, kind, label) in [
            (Duration::hours(24), "DUE_24H", "due24h"),
            (Duration::hours(1), "DUE_1H", "due1h"),
        ] {
            let (from, to) = (now + lead - BEHIND, now + lead + AHEAD);
            let mut token = String::new();
            loop {
                let r = mission
                    .clone()
                    .list_missions_due_between(ListMissionsDueBetweenRequest {
                        deadline_from: Some(timestamp(from)),
                        deadline_to: Some(timestamp(to)),
                        page_size: 100,
                        page_token: token.clone(),
                    })
                    .await;
                let page = match r {
                    Ok(r) => r.into_inner(),
                    Err(s) => {
                        absent("mission deadlines", &PeerError::from_status("mission", s));
                        return Ok(planned);
                    }
                };
                for m in page.missions {
                    planned += self
                        .plan_before(
                            kind,
                            label,
                            &m.team_id,
                            &m.mission_id,
                            &m.title,
                            m.deadline.as_ref(),
                            lead,
                        )
                        .await?;
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
        }
        Ok(planned)
    }

    async fn plan_closing_votes(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let Some(board) = &self.peers.board else {
            return Ok(0);
        };
        let lead = Duration::hours(1);
        let (from, to) = (now + lead - BEHIND, now + lead + AHEAD);
        let mut planned = 0;
        let mut token = String::new();
        loop {
            let r = board
                .clone()
                .list_votes_closing_between(ListVotesClosingBetweenRequest {
                    closes_from: Some(timestamp(from)),
                    closes_to: Some(timestamp(to)),
                    page_size: 100,
                    page_token: token.clone(),
                })
                .await;
            let page = match r {
                Ok(r) => r.into_inner(),
                Err(s) => {
                    absent("board votes", &PeerError::from_status("board", s));
                    return Ok(planned);
                }
            };
            for v in page.votes {
                planned += self
                    .plan_before(
                        "VOTE_1H",
                        "vote1h",
                        &v.team_id,
                        &v.vote_id,
                        &v.title,
                        v.closes_at.as_ref(),
                        lead,
                    )
                    .await?;
            }
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        Ok(planned)
    }

    /// Claims due occurrences and sends them; returns what it did.
    pub async fn run_due(&self, now: DateTime<Utc>) -> Result<Tick, sqlx::Error> {
        let mut tick = Tick::default();
        loop {
            let mut tx = self.pool.begin().await?;
            let keys: Vec<String> = claim_due(&mut tx, DUE, now, 20).await?;
            if keys.is_empty() {
                tx.commit().await?;
                return Ok(tick);
            }
            let mut progressed = false;
            for key in keys {
                let row = sqlx::query(
                    "SELECT kind, payload, due_at FROM reminder WHERE reminder_key = ?",
                )
                .bind(&key)
                .fetch_one(&mut *tx)
                .await?;
                let kind: String = row.try_get("kind")?;
                let payload: String = row.try_get("payload")?;
                let due = utc(row.try_get("due_at")?);
                let payload: Payload = serde_json::from_str(&payload).unwrap_or_default();
                let (state, count) = if now - due > GRACE {
                    tick.expired += 1;
                    ("EXPIRED", 0)
                } else {
                    match self.send(&mut tx, &key, &kind, &payload, now).await {
                        Ok(n) => {
                            // Reminder lag (due → sent), for /metrics.
                            moing_common::metrics::reminder_lag(
                                (now - due).num_milliseconds().max(0) as f64 / 1000.0,
                            );
                            tick.sent += 1;
                            tick.recipients += n;
                            ("DONE", n)
                        }
                        Err(SendError::Database(e)) => return Err(e),
                        Err(SendError::Peer(e)) => {
                            // Stays PENDING: retried next tick while within grace.
                            tracing::warn!(reminder = %key, error = %e, "reminder not sent yet");
                            continue;
                        }
                    }
                };
                progressed = true;
                sqlx::query(
                    "UPDATE reminder SET state = ?, done_at = ?, recipient_count = ? WHERE reminder_key = ?",
                )
                .bind(state)
                .bind(naive(now))
                .bind(count as i64)
                .bind(&key)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            if !progressed {
                return Ok(tick);
            }
        }
    }

    async fn team_name(
        &self,
        conn: &mut MySqlConnection,
        team: Uuid,
    ) -> Result<String, sqlx::Error> {
        Ok(
            sqlx::query_scalar("SELECT name FROM team WHERE team_id = ?")
                .bind(team)
                .fetch_optional(&mut *conn)
                .await?
                .unwrap_or_default(),
        )
    }

    async fn send(
        &self,
        conn: &mut MySqlConnection,
        key: &str,
        kind: &str,
        p: &Payload,
        now: DateTime<Utc>,
    ) -> Result<usize, SendError> {
        let Ok(team) = Uuid::parse_str(&p.team_id) else {
            return Ok(0);
        };
        let source = format!("reminder:{key}");
        // (draft, recipients) groups: the body may differ per member.
        let groups: Vec<(Draft, Vec<Uuid>)> = match kind {
            "UNPROVEN" => self.unproven(team, &p.team_name, now).await?,
            "DUE_24H" | "DUE_1H" => {
                let name = self.team_name(conn, team).await?;
                self.due(team, &name, kind == "DUE_24H", p).await?
            }
            "VOTE_1H" => {
                let name = self.team_name(conn, team).await?;
                self.vote(team, &name, p).await?
            }
            "MEETING" => self.meeting(team, p).await?,
            "WEEKLY" => self.weekly(team, p).await?,
            other => {
                tracing::warn!(kind = other, "unknown reminder kind");
                vec![]
            }
        };
        let mut n = 0;
        for (draft, members) in groups {
            n += store::fan_out(conn, &source, &draft, &members, now)
                .await?
                .inbox;
        }
        Ok(n)
    }

    async fn unproven(
        &self,
        team: Uuid,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Draft, Vec<Uuid>)>, SendError> {
        let Some(mission) = &self.peers.mission else {
            return Ok(vec![]);
        };
        let mut per_member: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
        let mut token = String::new();
        loop {
            let page = match mission
                .clone()
                .list_unproven_members(ListUnprovenMembersRequest {
                    team_ids: vec![team.to_string()],
                    at: Some(timestamp(now)),
                    page_size: 100,
                    page_token: token.clone(),
                })
                .await
            {
                Ok(r) => r.into_inner(),
                Err(s) => return Err(SendError::Peer(PeerError::from_status("mission", s))),
            };
            for m in page.missions {
                for u in m.members {
                    if let Ok(id) = Uuid::parse_str(&u.member_id) {
                        per_member.entry(id).or_default().push(m.title.clone());
                    }
                }
            }
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
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
        Ok(groups
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
            .collect())
    }

    async fn due(
        &self,
        team: Uuid,
        name: &str,
        day_before: bool,
        p: &Payload,
    ) -> Result<Vec<(Draft, Vec<Uuid>)>, SendError> {
        let Some(mission) = &self.peers.mission else {
            return Ok(vec![]);
        };
        let Some(deadline) = DateTime::from_timestamp(p.at, 0) else {
            return Ok(vec![]);
        };
        // The mission as it is now: still due at that deadline, and who is still unproven.
        let page = mission
            .clone()
            .list_missions_due_between(ListMissionsDueBetweenRequest {
                deadline_from: Some(timestamp(deadline)),
                deadline_to: Some(timestamp(deadline + Duration::seconds(1))),
                page_size: 100,
                page_token: String::new(),
            })
            .await
            .map_err(|s| SendError::Peer(PeerError::from_status("mission", s)))?
            .into_inner();
        let Some(m) = page
            .missions
            .into_iter()
            .find(|m| m.mission_id == p.target_id)
        else {
            return Ok(vec![]);
        };
        let members: Vec<Uuid> = m
            .unproven_member_ids
            .iter()
            .filter_map(|s| Uuid::parse_str(s).ok())
            .collect();
        let (kind, title, body) = if day_before {
            (
                Kind::ReminderMissionDue24h,
                format!("[D-1] {}", m.title),
                format!("[{name}] 마감까지 하루 남았어요! 인증하고 모잉불을 키워 봐요 🔥"),
            )
        } else {
            (
                Kind::ReminderMissionDue1h,
                format!("⏰ 마감 1시간 전! {}", m.title),
                format!("[{name}] 아직 인증하지 않았어요. 서둘러 인증해 봐요 💨"),
            )
        };
        Ok(vec![(
            Draft::new(kind, Some(team), name, None)
                .text(title, body)
                .path(format!("/teams/{team}/missions/{}", m.mission_id))
                .with("mission_id", &m.mission_id),
            members,
        )])
    }

    async fn vote(
        &self,
        team: Uuid,
        name: &str,
        p: &Payload,
    ) -> Result<Vec<(Draft, Vec<Uuid>)>, SendError> {
        let Some(board) = &self.peers.board else {
            return Ok(vec![]);
        };
        let Some(info) = self.peers.team(team).await.map_err(SendError::Peer)? else {
            return Ok(vec![]);
        };
        let mut non_voters = Vec::new();
        let mut token = String::new();
        loop {
            let r = board
                .clone()
                .list_vote_non_voters(ListVoteNonVotersRequest {
                    team_id: team.to_string(),
                    vote_id: p.target_id.clone(),
                    member_ids: info.members.iter().map(Uuid::to_string).collect(),
                    page_size: 100,
                    page_token: token.clone(),
                })
                .await;
            let page = match r {
                Ok(r) => r.into_inner(),
                Err(s) => {
                    let e = PeerError::from_status("board", s);
                    if e.is_absent() || e.code == tonic::Code::NotFound {
                        absent("board non-voters", &e);
                        return Ok(vec![]);
                    }
                    return Err(SendError::Peer(e));
                }
            };
            // Closed, or the deadline moved (a new occurrence is planned for it).
            let closes = page.closes_at.as_ref().map(|t| t.seconds);
            if page.state != 1 || closes != Some(p.at) {
                return Ok(vec![]);
            }
            non_voters.extend(
                page.non_voter_member_ids
                    .iter()
                    .filter_map(|s| Uuid::parse_str(s).ok()),
            );
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let team_name = if name.is_empty() { &info.name } else { name };
        Ok(vec![(
            Draft::new(Kind::ReminderVoteClosing, Some(team), team_name, None)
                .text(
                    "🗳️ 투표 마감 1시간 전이에요",
                    format!("[{team_name}] '{}' 투표에 아직 참여하지 않았어요", p.title),
                )
                .path(format!("/teams/{team}/votes/{}", p.target_id))
                .with("vote_id", &p.target_id),
            non_voters,
        )])
    }

    async fn meeting(&self, team: Uuid, p: &Payload) -> Result<Vec<(Draft, Vec<Uuid>)>, SendError> {
        let Some(info) = self.peers.team(team).await.map_err(SendError::Peer)? else {
            return Ok(vec![]);
        };
        let name = if p.team_name.is_empty() {
            &info.name
        } else {
            &p.team_name
        };
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
        Ok(vec![(draft, info.members)])
    }

    async fn weekly(&self, team: Uuid, p: &Payload) -> Result<Vec<(Draft, Vec<Uuid>)>, SendError> {
        let Some(info) = self.peers.team(team).await.map_err(SendError::Peer)? else {
            return Ok(vec![]);
        };
        let name = if p.team_name.is_empty() {
            info.name.clone()
        } else {
            p.team_name.clone()
        };
        let title = format!("[{name}] 지난주 리포트가 도착했어요 📊");
        let base = Draft::new(Kind::ReminderWeeklySummary, Some(team), &name, None)
            .path(format!("/teams/{team}"))
            .with("week_start", &p.date);
        let fallback = vec![(
            base.clone()
                .text(&title, "지난 한 주 모임 기록을 확인해 보세요!"),
            info.members.clone(),
        )];
        let (Some(mission), Ok(start)) = (&self.peers.mission, p.date.parse::<NaiveDate>()) else {
            return Ok(fallback);
        };
        let progress = mission
            .clone()
            .get_team_progress(GetTeamProgressRequest {
                team_id: team.to_string(),
                from: Some(date(start)),
                to: Some(date(start + Duration::days(6))),
                ..Default::default()
            })
            .await;
        let progress = match progress {
            Ok(r) => r.into_inner(),
            Err(s) => {
                absent("mission progress", &PeerError::from_status("mission", s));
                return Ok(fallback);
            }
        };
        let rate = |done: i32, required: i32| (required > 0).then(|| done * 100 / required);
        let rates: BTreeMap<Uuid, Option<i32>> = progress
            .members
            .iter()
            .filter_map(|m| {
                let id = Uuid::parse_str(&m.member_id).ok()?;
                let t = m.totals.as_ref()?;
                Some((id, rate(t.done, t.required)))
            })
            .collect();
        let known: Vec<i32> = rates.values().flatten().copied().collect();
        let team_rate = (!known.is_empty()).then(|| known.iter().sum::<i32>() / known.len() as i32);
        let mut groups: BTreeMap<String, Vec<Uuid>> = BTreeMap::new();
        for m in &info.members {
            let body = match (rates.get(m).copied().flatten(), team_rate) {
                (Some(mine), Some(avg)) => format!("지난주 나의 달성률 {mine}% · 팀 평균 {avg}%"),
                (None, Some(avg)) => format!("지난주 팀 평균 달성률은 {avg}%예요"),
                _ => "지난 한 주 모임 기록을 확인해 보세요!".to_owned(),
            };
            groups.entry(body).or_default().push(*m);
        }
        Ok(groups
            .into_iter()
            .map(|(body, members)| (base.clone().text(&title, body), members))
            .collect())
    }
}

#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Peer(PeerError),
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
