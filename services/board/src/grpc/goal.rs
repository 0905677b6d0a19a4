//! The goal board (목표보드): one call for the team home screen. Fans out in
//! parallel to moim (team summary and members) and mission (GetTeamProgress:
//! totals, series, active missions, score), then auth (display data) — at most
//! one call to each, every one under the configured deadline — plus two local
//! queries (unread counts, open votes). The rate and ranking rules are in
//! `crate::domain`.

use std::{collections::HashMap, future::Future, sync::Arc, time::Duration};

use tokio::{
    sync::{mpsc, watch},
    time::Instant,
};
use tokio_stream::wrappers::ReceiverStream;

use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use moing_common::{
    convert::{date, from_date, timestamp},
    layer::principal,
};
use moing_proto::moing::{
    board::v1 as pb,
    mission::v1::{
        GetTeamProgressRequest, GetTeamProgressResponse, GetTeamVersionRequest, ProgressBucket,
        ProgressCounts, ProgressGranularity, ProgressSeries, ProgressSeriesSpec,
    },
    moim::v1::{GetTeamSummaryRequest, TeamSummary},
};
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{Board, Reply, wire};
use crate::{
    domain::{self, Counts, DAILY_DAYS, TeamRef, WEEKLY_WEEKS, ranking, team_rate},
    error::BoardError,
};

/// The stream of one watcher: boards (and heartbeats) or the error that ends it.
pub type WatchStream = std::pin::Pin<
    Box<dyn futures::Stream<Item = Result<pb::WatchGoalBoardResponse, Status>> + Send + 'static>,
>;

/// The current board at once, then each changed board (see the proto).
pub async fn watch_goal_board(
    b: &Board,
    req: Request<pb::WatchGoalBoardRequest>,
) -> Reply<WatchStream> {
    let me = principal(&req)?.member_id;
    let TeamRef { team } = TeamRef::try_from(req.into_inner())?;
    // Subscribed before the first build: a change during it is not missed.
    let changes = b.live.watch(team);
    let first = b.goal_board(me, team).await?;
    // One message in hand: a slow reader holds up only its own stream, and
    // then gets the latest board, not a backlog.
    let (tx, rx) = mpsc::channel(1);
    let watcher = Watcher {
        board: b.clone(),
        me,
        team,
        etag: first.etag.clone(),
        tx,
    };
    watcher
        .tx
        .try_send(Ok(update(
            pb::watch_goal_board_response::Update::GoalBoard(first),
        )))
        .map_err(|_| Status::unavailable("stream closed"))?;
    tokio::spawn(watcher.run(changes));
    Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
}

fn update(u: pb::watch_goal_board_response::Update) -> pb::WatchGoalBoardResponse {
    pb::WatchGoalBoardResponse { update: Some(u) }
}

/// One WatchGoalBoard stream.
struct Watcher {
    board: Board,
    me: Uuid,
    team: Uuid,
    /// The etag of the last board sent.
    etag: String,
    tx: mpsc::Sender<Result<pb::WatchGoalBoardResponse, Status>>,
}

impl Watcher {
    async fn run(mut self, mut changes: watch::Receiver<u64>) {
        let settings = &self.board.settings;
        let coalesce = Duration::from_millis(settings.watch_coalesce_ms);
        let heartbeat = Duration::from_secs(settings.watch_heartbeat_secs.max(1));
        let end = Instant::now() + Duration::from_secs(settings.watch_max_lifetime_secs.max(1));
        let mut last = Instant::now();
        loop {
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    // Coalesce: changes arriving until then are this one.
                    tokio::time::sleep_until(last + coalesce).await;
                    changes.borrow_and_update();
                    // Wait for room first, then build: the reader gets the latest board.
                    let Ok(permit) = self.tx.reserve().await else { return };
                    match self.board.goal_board(self.me, self.team).await {
                        Ok(board) if board.etag == self.etag => {}
                        Ok(board) => {
                            self.etag = board.etag.clone();
                            permit.send(Ok(update(
                                pb::watch_goal_board_response::Update::GoalBoard(board),
                            )));
                            last = Instant::now();
                        }
                        Err(BoardError::TeamNotFound) => {
                            permit.send(Err(BoardError::TeamNotFound.into()));
                            return;
                        }
                        Err(e) => {
                            // The next change (or heartbeat) tries again.
                            tracing::info!(team_id = %self.team, error = %e, "goal board rebuild skipped");
                        }
                    }
                }
                _ = tokio::time::sleep_until(last + heartbeat) => {
                    let beat = pb::GoalBoardHeartbeat {
                        sent_at: Some(timestamp(moing_common::clock::now())),
                        etag: self.etag.clone(),
                    };
                    // A reader too slow to take a heartbeat has one pending already.
                    let _ = self.tx.try_send(Ok(update(
                        pb::watch_goal_board_response::Update::Heartbeat(beat),
                    )));
                    last = Instant::now();
                }
                _ = tokio::time::sleep_until(end) => return,
                _ = self.tx.closed() => return,
            }
        }
    }
}

pub async fn get_goal_board(
    b: &Board,
    req: Request<pb::GetGoalBoardRequest>,
) -> Reply<pb::GetGoalBoardResponse> {
    let me = principal(&req)?.member_id;
    let TeamRef { team } = TeamRef::try_from(req.into_inner())?;
    let board = b.goal_board(me, team).await?;
    Ok(Response::new(pb::GetGoalBoardResponse {
        goal_board: Some(board),
    }))
}

/// done / required of mission's counts (a skip is not done).
fn rate(c: Option<&ProgressCounts>) -> Option<f64> {
    domain::rate(c.map(|c| Counts {
        done: c.done,
        required: c.required,
    }))
}

pub(super) async fn within<T, E>(
    deadline: Duration,
    what: &'static str,
    f: impl Future<Output = Result<T, E>>,
) -> Result<T, BoardError>
where
    E: Into<BoardError>,
{
    match tokio::time::timeout(deadline, f).await {
        Err(_) => Err(BoardError::DependencyTimeout(what)),
        Ok(r) => r.map_err(Into::into),
    }
}

pub(super) fn status_error(what: &'static str) -> impl Fn(tonic::Status) -> BoardError {
    move |s| match s.code() {
        tonic::Code::NotFound => BoardError::TeamNotFound,
        tonic::Code::DeadlineExceeded => BoardError::DependencyTimeout(what),
        _ => BoardError::Unavailable(what),
    }
}

/// The 14-day and weekly series need the team's dates; ask with a wide window
/// and let mission clamp (series `from` is the team start, see `progress_pb`).
fn progress_request(team: Uuid, now: DateTime<Utc>) -> GetTeamProgressRequest {
    // Today in Seoul is only a first guess; mission clamps to the team's today.
    let today = (now + Days::hours(14)).date_naive();
    let spec = |granularity: ProgressGranularity, days: i64| ProgressSeriesSpec {
        granularity: granularity as i32,
        from: Some(date(today - Days::days(days))),
        to: Some(date(today)),
    };
    GetTeamProgressRequest {
        team_id: team.to_string(),
        from: None,
        to: None,
        series: vec![
            spec(ProgressGranularity::Day, DAILY_DAYS),
            spec(ProgressGranularity::Week, 7 * WEEKLY_WEEKS),
        ],
        include_former_members: false,
        // Per viewer from the statuses (`missions_for`): shared by all.
        viewer_member_id: String::new(),
    }
}

/// "Today" is the team's date (mission's, else the team's zone), never UTC's.
fn team_today(
    progress: &GetTeamProgressResponse,
    summary: &TeamSummary,
    now: DateTime<Utc>,
) -> NaiveDate {
    progress
        .today
        .as_ref()
        .and_then(from_date)
        .unwrap_or_else(|| {
            let zone = summary
                .time_zone
                .parse::<chrono_tz::Tz>()
                .unwrap_or(chrono_tz::Asia::Seoul);
            now.with_timezone(&zone).date_naive()
        })
}

fn point(b: &ProgressBucket, me: &str) -> pb::ProgressPoint {
    let member_rates: Vec<Option<f64>> =
        b.members.iter().map(|m| rate(m.counts.as_ref())).collect();
    pb::ProgressPoint {
        start_date: b.start,
        end_date: b.end,
        team_rate: team_rate(&member_rates),
        my_rate: b
            .members
            .iter()
            .find(|m| m.member_id == me)
            .and_then(|m| rate(m.counts.as_ref())),
    }
}

/// The points of the buckets `keep` keeps.
fn points(
    series: Option<&ProgressSeries>,
    me: &str,
    keep: impl Fn(&ProgressBucket) -> bool,
) -> Vec<pb::ProgressPoint> {
    series
        .map(|s| {
            s.buckets
                .iter()
                .filter(|b| keep(b))
                .map(|b| point(b, me))
                .collect()
        })
        .unwrap_or_default()
}

/// Rates, ranking, series (14 days, and the weeks since the team started),
/// active missions and score; the caller fills in the rest.
pub(super) fn progress_pb(
    progress: &GetTeamProgressResponse,
    me: Uuid,
    today: NaiveDate,
    start: NaiveDate,
) -> pb::GoalBoard {
    let me = me.to_string();
    let totals: HashMap<&str, &ProgressCounts> = progress
        .members
        .iter()
        .filter_map(|m| m.totals.as_ref().map(|t| (m.member_id.as_str(), t)))
        .collect();
    let rates: Vec<(String, Option<f64>)> = progress
        .members
        .iter()
        .filter(|m| m.active)
        .map(|m| (m.member_id.clone(), rate(m.totals.as_ref())))
        .collect();
    let ranks = ranking(&rates);
    let my_rank = ranks
        .iter()
        .find(|(id, _)| *id == me)
        .map_or(0, |(_, r)| *r);
    let mine = totals.get(me.as_str()).copied();
    let fourteen = today - Days::days(DAILY_DAYS - 1);
    let from = |d: &Option<_>| d.as_ref().and_then(from_date);
    let daily = points(progress.series.first(), &me, |b| {
        from(&b.start).is_some_and(|d| d >= fourteen)
    });
    let weekly = points(progress.series.get(1), &me, |b| {
        from(&b.end).is_some_and(|d| d >= start)
    });
    pb::GoalBoard {
        overall_rates: Some(pb::AchievementRates {
            start_date: Some(date(start.min(today))),
            end_date: Some(date(today)),
            team_rate: team_rate(&rates.iter().map(|(_, r)| *r).collect::<Vec<_>>()),
            my_rate: rate(mine),
            my_done_count: mine.map_or(0, |c| c.done),
            my_required_count: mine.map_or(0, |c| c.required),
            my_rank,
        }),
        this_week_rates: weekly.last().cloned().map(|p| pb::AchievementRates {
            start_date: p.start_date,
            end_date: p.end_date,
            team_rate: p.team_rate,
            my_rate: p.my_rate,
            ..Default::default()
        }),
        ranking: ranks
            .iter()
            .map(|(id, rank)| {
                let c = totals.get(id.as_str()).copied();
                pb::RankingEntry {
                    member_id: id.clone(),
                    rank: *rank,
                    rate: rate(c),
                    done_count: c.map_or(0, |c| c.done),
                    required_count: c.map_or(0, |c| c.required),
                }
            })
            .collect(),
        daily_progress: daily,
        weekly_progress: weekly,
        active_missions: Vec::new(),
        score: progress.score.clone(),
        ..Default::default()
    }
}

/// What every member's board of a team shares (`crate::shared`): built once
/// per change, whoever asks.
#[derive(Debug)]
pub struct TeamBoard {
    summary: TeamSummary,
    progress: GetTeamProgressResponse,
    names: wire::Names,
    /// The team's date when it was built (a new day builds it again).
    today: NaiveDate,
    /// mission's and this service's versions of the team when it was built
    /// (their latest events): a read that finds either moved builds again,
    /// so a board read right after a write shows it.
    versions: (u64, u64),
    zone: chrono_tz::Tz,
    /// Each viewer's own parts, kept as long as the shared ones: the same
    /// events drop both (posts, notices, votes, reads and blocks included).
    viewers: std::sync::Mutex<HashMap<Uuid, Arc<Viewer>>>,
}

/// What only one member's board holds: whom they blocked, their unread
/// counts and the open votes as they see them.
#[derive(Debug)]
struct Viewer {
    blocked: std::collections::HashSet<Uuid>,
    unread: crate::domain::Unread,
    open_votes: Vec<pb::VoteSummary>,
}

impl TeamBoard {
    fn has_member(&self, me: Uuid) -> bool {
        let me = me.to_string();
        self.summary
            .memberships
            .iter()
            .any(|m| m.member_id == me && m.left_at.is_none())
    }

    fn current(&self, versions: (u64, u64)) -> bool {
        self.versions == versions
            && moing_common::clock::now()
                .with_timezone(&self.zone)
                .date_naive()
                == self.today
    }
}

/// The active missions as `me` sees them: my progress from the statuses of
/// every member, and whether I may manage each.
fn missions_for(
    progress: &GetTeamProgressResponse,
    leader: &str,
    me: &str,
) -> Vec<moing_proto::moing::mission::v1::Mission> {
    progress
        .active_missions
        .iter()
        .filter_map(|b| {
            let mut m = b.mission.clone()?;
            m.my_progress = b
                .members
                .iter()
                .find(|s| s.member_id == me)
                .and_then(|s| s.progress.clone());
            m.can_manage = leader == me || m.maker_member_id == me;
            Some(m)
        })
        .collect()
}

impl Board {
    async fn goal_board(&self, me: Uuid, team: Uuid) -> Result<pb::GoalBoard, BoardError> {
        let now = moing_common::clock::now();
        let versions = self.versions(team).await?;
        let fresh = |b: &TeamBoard| b.current(versions);
        let mut shared = self
            .shared
            .get(team, fresh, || self.team_board(team, now, versions))
            .await?;
        if !shared.has_member(me) {
            // A member who just joined may be ahead of the event that drops
            // the shared parts: ask again before saying no.
            self.shared.forget(Some(team));
            shared = self
                .shared
                .get(team, fresh, || self.team_board(team, now, versions))
                .await?;
            if !shared.has_member(me) {
                return Err(BoardError::TeamNotFound);
            }
        }
        let TeamBoard {
            summary,
            progress,
            names,
            today,
            ..
        } = &*shared;
        let member_ids: Vec<Uuid> = summary
            .memberships
            .iter()
            .filter_map(|m| Uuid::parse_str(&m.member_id).ok())
            .collect();
        let today = *today;
        let start = summary
            .start_date
            .as_ref()
            .and_then(from_date)
            .unwrap_or(today);
        let known = shared.viewers.lock().ok().and_then(|v| v.get(&me).cloned());
        let viewer = match known {
            Some(v) => v,
            None => {
                let (blocked, unread, open_votes) = tokio::join!(
                    self.members.blocked_by(me, &member_ids),
                    self.store.unread(team, me),
                    self.vote_summaries(team, me, Some(true)),
                );
                let v = Arc::new(Viewer {
                    blocked: blocked?,
                    unread: unread?,
                    open_votes: open_votes?,
                });
                if let Ok(mut viewers) = shared.viewers.lock() {
                    viewers.insert(me, v.clone());
                }
                v
            }
        };
        let mut board = pb::GoalBoard {
            team: Some(wire::team_pb(summary, me, today)),
            today: Some(date(today)),
            members: wire::members_pb(summary, names, &viewer.blocked),
            unread_notice_count: viewer.unread.notices,
            unread_post_count: viewer.unread.posts,
            open_vote_count: viewer.open_votes.len() as i32,
            open_votes: viewer.open_votes.clone(),
            generated_at: None,
            etag: String::new(),
            active_missions: missions_for(progress, &summary.leader_member_id, &me.to_string()),
            ..progress_pb(progress, me, today, start)
        };
        let digest = Sha256::digest(prost::Message::encode_to_vec(&board));
        board.etag = hex::encode(&digest[..12]);
        board.generated_at = Some(timestamp(now));
        Ok(board)
    }

    /// The shared parts: moim's team summary and mission's progress in
    /// parallel, then auth's display names; each under the deadline.
    /// mission's version of the team and this service's, in parallel.
    async fn versions(&self, team: Uuid) -> Result<(u64, u64), BoardError> {
        let deadline = Duration::from_millis(self.settings.goal_board_deadline_ms);
        let mission = within(deadline, "mission", async {
            self.mission
                .clone()
                .get_team_version(GetTeamVersionRequest {
                    team_id: team.to_string(),
                })
                .await
                .map(|r| r.into_inner().version)
                .map_err(status_error("mission"))
        });
        let (mission, own) = tokio::join!(mission, self.store.team_version(team));
        Ok((mission?, own?))
    }

    async fn team_board(
        &self,
        team: Uuid,
        now: DateTime<Utc>,
        versions: (u64, u64),
    ) -> Result<TeamBoard, BoardError> {
        let deadline = Duration::from_millis(self.settings.goal_board_deadline_ms);
        let (summary, progress) = self.team_and_progress(team, deadline, now).await?;
        let member_ids: Vec<Uuid> = summary
            .memberships
            .iter()
            .filter_map(|m| Uuid::parse_str(&m.member_id).ok())
            .collect();
        let names = within(deadline, "auth", async {
            Ok::<_, BoardError>(self.names_for(&member_ids).await)
        })
        .await?;
        let today = team_today(&progress, &summary, now);
        let zone = summary
            .time_zone
            .parse::<chrono_tz::Tz>()
            .unwrap_or(chrono_tz::Asia::Seoul);
        Ok(TeamBoard {
            summary,
            progress,
            names,
            today,
            versions,
            zone,
            viewers: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// moim's team summary (which also decides membership: no separate check)
    /// and mission's progress, in parallel.
    async fn team_and_progress(
        &self,
        team: Uuid,
        deadline: Duration,
        now: DateTime<Utc>,
    ) -> Result<(TeamSummary, GetTeamProgressResponse), BoardError> {
        let summary_call = within(deadline, "moim", async {
            let ask = GetTeamSummaryRequest {
                team_id: team.to_string(),
                include_past_members: false,
                include_hidden: false,
            };
            let mut moim = self.members.client.clone();
            moim.get_team_summary(ask)
                .await
                .map(|r| r.into_inner().team.unwrap_or_default())
                .map_err(status_error("moim"))
        });
        let progress_call = within(deadline, "mission", async {
            self.mission
                .clone()
                .get_team_progress(progress_request(team, now))
                .await
                .map(tonic::Response::into_inner)
                .map_err(status_error("mission"))
        });
        let (summary, progress) = tokio::join!(summary_call, progress_call);
        Ok((summary?, progress?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_team_rate_is_the_mean_of_member_rates() {
        // 3/4 and 1/2 → 0.625, not 4/6; a member with nothing required is left out.
        assert_eq!(team_rate(&[Some(0.75), Some(0.5), None]), Some(0.625));
        assert_eq!(team_rate(&[None]), None);
        let c = ProgressCounts {
            done: 2,
            required: 3,
            skipped: 1,
            pending: 0,
        };
        assert_eq!(rate(Some(&c)), Some(2.0 / 3.0), "a skip is not done");
    }
}
