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

use chrono::{DateTime, Duration, NaiveDate, Utc};
use moing_common::convert::{date, from_timestamp, timestamp};
use moing_proto::moing::{
    board::v1::{ListVoteNonVotersRequest, ListVotesClosingBetweenRequest, VoteState},
    mission::v1::{
        GetTeamProgressRequest, ListMissionsDueBetweenRequest, ListUnprovenMembersRequest,
    },
    moim::v1::ListTeamsMeetingOnRequest,
};
use sqlx::{MySqlConnection, MySqlPool};
use uuid::Uuid;

use crate::{
    domain::reminders::{
        self as rules, AHEAD, BEHIND, GRACE, Groups, Occurrence, Payload, Totals, Upcoming,
    },
    peers::{PeerError, Peers},
    push::Dispatcher,
    store::{
        self, Store,
        reminders::{Due, claim_reminders, finish_reminder},
        teams::team_name,
    },
};

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
    store: Store,
    peers: Arc<Peers>,
    dispatcher: Dispatcher,
}

fn absent(what: &str, e: &PeerError) {
    tracing::info!(source = what, error = %e, "reminder source not available: nothing due from it this round");
}

#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Peer(PeerError),
}

impl Scheduler {
    pub fn new(pool: MySqlPool, peers: Arc<Peers>, dispatcher: Dispatcher) -> Self {
        Self {
            store: Store::new(pool),
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

    /// Writes the occurrences due between `now - GRACE` and the horizon.
    pub async fn plan(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let mut planned = 0;
        planned += self.plan_team_times(now).await?;
        planned += self.plan_meetings(now).await?;
        planned += self.plan_due_missions(now).await?;
        planned += self.plan_closing_votes(now).await?;
        Ok(planned)
    }

    async fn write(&self, occurrences: &[Occurrence]) -> Result<usize, sqlx::Error> {
        let mut planned = 0;
        for o in occurrences {
            planned += moing_common::transaction!(
                "notification.plan_reminder",
                Result<usize, sqlx::Error>,
                { self.store.plan_reminder(o).await }
            )?;
        }
        Ok(planned)
    }

    async fn plan_team_times(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let mut planned = 0;
        for (team, name, tz) in self.store.active_teams().await? {
            let occurrences = rules::team_time_occurrences(team, &name, rules::tz_of(&tz), now);
            planned += self.write(&occurrences).await?;
        }
        Ok(planned)
    }

    async fn plan_meetings(&self, now: DateTime<Utc>) -> Result<usize, sqlx::Error> {
        let mut planned = 0;
        for day in rules::days_around(now.date_naive()) {
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
                let occurrences: Vec<Occurrence> = page
                    .teams
                    .iter()
                    .filter_map(|t| {
                        let team = Uuid::parse_str(&t.team_id).ok()?;
                        let time = t
                            .meetings
                            .first()
                            .and_then(|m| m.start_time.as_ref())
                            .map(|s| format!("{:02}:{:02}", s.hours, s.minutes))
                            .unwrap_or_default();
                        let tz = rules::tz_of(&t.time_zone);
                        rules::meeting_occurrence(team, &t.team_name, tz, day, time, now)
                    })
                    .collect();
                planned += self.write(&occurrences).await?;
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
                let occurrences: Vec<Occurrence> = page
                    .missions
                    .iter()
                    .filter_map(|m| {
                        let item = Upcoming {
                            team_id: &m.team_id,
                            target_id: &m.mission_id,
                            title: &m.title,
                            at: m.deadline.as_ref().and_then(from_timestamp),
                        };
                        rules::occurrence_before(kind, label, item, lead)
                    })
                    .collect();
                planned += self.write(&occurrences).await?;
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
            let occurrences: Vec<Occurrence> = page
                .votes
                .iter()
                .filter_map(|v| {
                    let item = Upcoming {
                        team_id: &v.team_id,
                        target_id: &v.vote_id,
                        title: &v.title,
                        at: v.closes_at.as_ref().and_then(from_timestamp),
                    };
                    rules::occurrence_before("VOTE_1H", "vote1h", item, lead)
                })
                .collect();
            planned += self.write(&occurrences).await?;
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        Ok(planned)
    }

    /// Claims due occurrences and sends them; returns what it did. Each
    /// occurrence is one short transaction (claim, recipients, inbox and push
    /// rows, done), run again whole after a lock conflict: replicas claim and
    /// write at once, and long batches of them deadlocked each other.
    pub async fn run_due(&self, now: DateTime<Utc>) -> Result<Tick, sqlx::Error> {
        let mut tick = Tick::default();
        loop {
            let (batch, claimed, progressed) = moing_common::transaction!(
                "notification.run_reminders",
                Result<(Tick, bool, bool), sqlx::Error>,
                {
                    let mut batch = Tick::default();
                    let mut tx = self.store.begin().await?;
                    let claimed = claim_reminders(&mut tx, now, 1).await?;
                    let mut progressed = false;
                    for due in &claimed {
                        progressed |= self.run_one(&mut tx, due, now, &mut batch).await?;
                    }
                    tx.commit().await?;
                    Ok((batch, !claimed.is_empty(), progressed))
                }
            )?;
            tick.sent += batch.sent;
            tick.recipients += batch.recipients;
            tick.expired += batch.expired;
            if !claimed || !progressed {
                return Ok(tick);
            }
            // These pushes go out now, while the next occurrences are written.
            self.dispatcher.wake();
        }
    }

    /// Sends (or expires) one claimed occurrence; false when it stays
    /// PENDING because a peer did not answer (retried next tick while within grace).
    async fn run_one(
        &self,
        conn: &mut MySqlConnection,
        due: &Due,
        now: DateTime<Utc>,
        tick: &mut Tick,
    ) -> Result<bool, sqlx::Error> {
        let (state, count) = if now - due.due > GRACE {
            tick.expired += 1;
            ("EXPIRED", 0)
        } else {
            match self.send(conn, due, now).await {
                Ok(n) => {
                    // Reminder lag (due → sent), for /metrics.
                    moing_common::metrics::reminder_lag(
                        (now - due.due).num_milliseconds().max(0) as f64 / 1000.0,
                    );
                    tick.sent += 1;
                    tick.recipients += n;
                    ("DONE", n)
                }
                Err(SendError::Database(e)) => return Err(e),
                Err(SendError::Peer(e)) => {
                    tracing::warn!(reminder = %due.key, error = %e, "reminder not sent yet");
                    return Ok(false);
                }
            }
        };
        finish_reminder(conn, &due.key, state, count, now).await?;
        Ok(true)
    }

    async fn send(
        &self,
        conn: &mut MySqlConnection,
        due: &Due,
        now: DateTime<Utc>,
    ) -> Result<usize, SendError> {
        let p = &due.payload;
        let Ok(team) = Uuid::parse_str(&p.team_id) else {
            return Ok(0);
        };
        let source = format!("reminder:{}", due.key);
        let groups = match due.kind.as_str() {
            "UNPROVEN" => self.unproven(team, &p.team_name, now).await?,
            kind @ ("DUE_24H" | "DUE_1H") => {
                let name = team_name(conn, team).await?;
                self.due(team, &name, kind == "DUE_24H", p).await?
            }
            "VOTE_1H" => {
                let name = team_name(conn, team).await?;
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
    ) -> Result<Groups, SendError> {
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
        Ok(rules::unproven(team, name, per_member))
    }

    async fn due(
        &self,
        team: Uuid,
        name: &str,
        day_before: bool,
        p: &Payload,
    ) -> Result<Groups, SendError> {
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
        Ok(rules::mission_due(
            team,
            name,
            day_before,
            &m.mission_id,
            &m.title,
            members,
        ))
    }

    async fn vote(&self, team: Uuid, name: &str, p: &Payload) -> Result<Groups, SendError> {
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
            if page.state != VoteState::Open as i32 || closes != Some(p.at) {
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
        Ok(rules::vote_closing(team, team_name, p, non_voters))
    }

    async fn meeting(&self, team: Uuid, p: &Payload) -> Result<Groups, SendError> {
        let Some(info) = self.peers.team(team).await.map_err(SendError::Peer)? else {
            return Ok(vec![]);
        };
        let name = if p.team_name.is_empty() {
            &info.name
        } else {
            &p.team_name
        };
        Ok(rules::meeting_day(team, name, p, info.members.clone()))
    }

    async fn weekly(&self, team: Uuid, p: &Payload) -> Result<Groups, SendError> {
        let Some(info) = self.peers.team(team).await.map_err(SendError::Peer)? else {
            return Ok(vec![]);
        };
        let name = if p.team_name.is_empty() {
            info.name.clone()
        } else {
            p.team_name.clone()
        };
        let progress = self.last_week(team, &p.date).await;
        Ok(rules::weekly_summary(
            team,
            &name,
            &p.date,
            &info.members,
            progress.as_deref(),
        ))
    }

    /// Each member's totals of the week starting `week_start`; None when
    /// mission is not configured or does not answer.
    async fn last_week(&self, team: Uuid, week_start: &str) -> Option<Vec<Totals>> {
        let (Some(mission), Ok(start)) = (&self.peers.mission, week_start.parse::<NaiveDate>())
        else {
            return None;
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
                return None;
            }
        };
        Some(
            progress
                .members
                .iter()
                .filter_map(|m| {
                    let t = m.totals.as_ref()?;
                    Some(Totals {
                        member: Uuid::parse_str(&m.member_id).ok()?,
                        done: t.done,
                        required: t.required,
                    })
                })
                .collect(),
        )
    }
}
