//! The goal board (목표보드): one call for the team home screen. Fans out in
//! parallel to moim (team summary and members) and mission (GetTeamProgress:
//! totals, series, active missions, score), then auth (display data) — at most
//! one call to each, every one under the configured deadline — plus two local
//! queries (unread counts, open votes).

use std::{collections::HashMap, future::Future, time::Duration};

use chrono::{Duration as Days, NaiveDate};
use moing_common::{
    Validator,
    convert::{date, from_date, timestamp},
};
use moing_proto::moing::{
    board::v1 as pb,
    mission::v1::{
        GetTeamProgressRequest, GetTeamProgressResponse, ProgressCounts, ProgressGranularity,
        ProgressSeriesSpec,
    },
    moim::v1::{self as moim, GetTeamSummaryRequest, TeamSummary},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{error::BoardError, grpc::Board, posts::unread};

fn rate(c: Option<&ProgressCounts>) -> Option<f64> {
    c.filter(|c| c.required > 0)
        .map(|c| f64::from(c.done) / f64::from(c.required))
}

/// The team rate: the mean of the member rates that exist.
pub fn team_rate(rates: &[Option<f64>]) -> Option<f64> {
    let known: Vec<f64> = rates.iter().flatten().copied().collect();
    (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
}

/// Ranks by rate, highest first; equal rates share a rank (1, 2, 2, 4); members
/// with no rate yet come last, sharing the rank after everyone rated.
pub fn ranking(rates: &[(String, Option<f64>)]) -> Vec<(String, i32)> {
    let mut sorted: Vec<&(String, Option<f64>)> = rates.iter().collect();
    sorted.sort_by(|a, b| {
        b.1.unwrap_or(-1.0)
            .total_cmp(&a.1.unwrap_or(-1.0))
            .then(a.0.cmp(&b.0))
    });
    let mut out = Vec::with_capacity(sorted.len());
    let mut rank = 0;
    let mut last: Option<Option<f64>> = None;
    for (i, (id, r)) in sorted.iter().enumerate() {
        let same = last.is_some_and(|l| match (l, r) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-9,
            (None, None) => true,
            _ => false,
        });
        if !same {
            rank = i as i32 + 1;
        }
        last = Some(*r);
        out.push((id.clone(), rank));
    }
    out
}

async fn within<T, E>(
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

fn status_error(what: &'static str) -> impl Fn(tonic::Status) -> BoardError {
    move |s| match s.code() {
        tonic::Code::NotFound => BoardError::TeamNotFound,
        tonic::Code::DeadlineExceeded => BoardError::DependencyTimeout(what),
        _ => BoardError::Unavailable(what),
    }
}

fn team_pb(s: &TeamSummary, me: Uuid, today: NaiveDate) -> moim::Team {
    let start = s.start_date.as_ref().and_then(from_date);
    let end = s.end_date.as_ref().and_then(from_date);
    let mine = s
        .memberships
        .iter()
        .find(|m| m.member_id == me.to_string() && m.left_at.is_none());
    moim::Team {
        team_id: s.team_id.clone(),
        name: s.name.clone(),
        category: s.category,
        image: (!s.image_key.is_empty()).then(|| moing_proto::moing::common::v1::ImageRef {
            key: s.image_key.clone(),
            url: String::new(),
        }),
        start_date: s.start_date,
        end_date: s.end_date,
        time_zone: s.time_zone.clone(),
        member_cap: s.member_cap,
        status: s.status,
        leader_member_id: s.leader_member_id.clone(),
        member_count: s.member_count,
        days_left: end.map_or(0, |e| ((e - today).num_days() + 1).max(0) as i32),
        days_until_start: start.map_or(0, |st| (st - today).num_days().max(0) as i32),
        my_role: mine.map_or(0, |m| m.role),
        my_joined_at: mine.and_then(|m| m.joined_at),
        next_meeting: s.next_meeting.clone(),
        created_at: s.created_at,
        disbanded_at: s.disbanded_at,
        grace_ends_at: s.grace_ends_at,
        ..Default::default()
    }
}

impl Board {
    pub async fn goal_board(&self, me: Uuid, team: &str) -> Result<pb::GoalBoard, BoardError> {
        let mut v = Validator::new();
        let team = v.id("team_id", team).unwrap_or_default();
        v.finish()?;
        let deadline = Duration::from_millis(self.settings.goal_board_deadline_ms);
        let now = moing_common::clock::now();

        // moim first-hand: the summary also decides membership (no separate check).
        let summary_call = within(deadline, "moim", async {
            self.members
                .client
                .clone()
                .get_team_summary(GetTeamSummaryRequest {
                    team_id: team.to_string(),
                    include_past_members: false,
                    include_hidden: false,
                })
                .await
                .map(|r| r.into_inner().team.unwrap_or_default())
                .map_err(status_error("moim"))
        });
        // The 14-day and weekly series need the team's dates; ask with a wide
        // window and let mission clamp (series `from` is the team start below).
        let progress_call = within(deadline, "mission", async {
            // Today in Seoul is only a first guess; mission clamps to the team's today.
            let today = (now + Days::hours(14)).date_naive();
            self.mission
                .clone()
                .get_team_progress(GetTeamProgressRequest {
                    team_id: team.to_string(),
                    from: None,
                    to: None,
                    series: vec![
                        ProgressSeriesSpec {
                            granularity: ProgressGranularity::Day as i32,
                            from: Some(date(today - Days::days(14))),
                            to: Some(date(today)),
                        },
                        ProgressSeriesSpec {
                            granularity: ProgressGranularity::Week as i32,
                            from: Some(date(today - Days::days(7 * 104))),
                            to: Some(date(today)),
                        },
                    ],
                    include_former_members: false,
                    viewer_member_id: me.to_string(),
                })
                .await
                .map(tonic::Response::into_inner)
                .map_err(status_error("mission"))
        });
        let (summary, progress) = tokio::join!(summary_call, progress_call);
        let summary = summary?;
        let is_member = summary
            .memberships
            .iter()
            .any(|m| m.member_id == me.to_string() && m.left_at.is_none());
        if !is_member {
            return Err(BoardError::TeamNotFound);
        }
        let progress: GetTeamProgressResponse = progress?;

        let member_ids: Vec<Uuid> = summary
            .memberships
            .iter()
            .filter_map(|m| Uuid::parse_str(&m.member_id).ok())
            .collect();
        let names = within(deadline, "auth", async {
            Ok::<_, BoardError>(moing_common::display::names(&self.auth, &member_ids).await)
        })
        .await?;
        let blocked = self.members.blocked_by(me, &member_ids).await?;

        let today = progress
            .today
            .as_ref()
            .and_then(from_date)
            .unwrap_or_else(|| {
                // "Today" is the team's date, never UTC's.
                let zone = summary
                    .time_zone
                    .parse::<chrono_tz::Tz>()
                    .unwrap_or(chrono_tz::Asia::Seoul);
                now.with_timezone(&zone).date_naive()
            });
        let start = summary
            .start_date
            .as_ref()
            .and_then(from_date)
            .unwrap_or(today);
        let me_s = me.to_string();
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
            .find(|(id, _)| *id == me_s)
            .map_or(0, |(_, r)| *r);
        let mine = totals.get(me_s.as_str()).copied();

        // Series: 14 days, and the weeks since the team started.
        let point = |b: &moing_proto::moing::mission::v1::ProgressBucket| {
            let member_rates: Vec<Option<f64>> =
                b.members.iter().map(|m| rate(m.counts.as_ref())).collect();
            pb::ProgressPoint {
                start_date: b.start,
                end_date: b.end,
                team_rate: team_rate(&member_rates),
                my_rate: b
                    .members
                    .iter()
                    .find(|m| m.member_id == me_s)
                    .and_then(|m| rate(m.counts.as_ref())),
            }
        };
        let fourteen = today - Days::days(13);
        let daily: Vec<pb::ProgressPoint> = progress
            .series
            .first()
            .map(|s| {
                s.buckets
                    .iter()
                    .filter(|b| {
                        b.start
                            .as_ref()
                            .and_then(from_date)
                            .is_some_and(|d| d >= fourteen)
                    })
                    .map(point)
                    .collect()
            })
            .unwrap_or_default();
        let weekly: Vec<pb::ProgressPoint> = progress
            .series
            .get(1)
            .map(|s| {
                s.buckets
                    .iter()
                    .filter(|b| {
                        b.end
                            .as_ref()
                            .and_then(from_date)
                            .is_some_and(|d| d >= start)
                    })
                    .map(point)
                    .collect()
            })
            .unwrap_or_default();
        let week_point = weekly.last().cloned();

        let mut conn = self.pool.acquire().await?;
        let (notices, posts) = unread(&mut conn, team, me).await?;
        drop(conn);
        let open_votes = self.vote_summaries(team, me, Some(true)).await?;

        let members: Vec<moim::TeamMember> = summary
            .memberships
            .iter()
            .filter(|m| m.left_at.is_none())
            .map(|m| {
                let id = Uuid::parse_str(&m.member_id).unwrap_or_default();
                let (nickname, key) = names.get(&id).cloned().unwrap_or_default();
                moim::TeamMember {
                    member_id: m.member_id.clone(),
                    role: m.role,
                    joined_at: m.joined_at,
                    nickname,
                    profile_image: (!key.is_empty()).then(|| {
                        moing_proto::moing::common::v1::ImageRef {
                            key,
                            url: String::new(),
                        }
                    }),
                    blocked_by_me: blocked.contains(&id),
                }
            })
            .collect();
        let mut board = pb::GoalBoard {
            team: Some(team_pb(&summary, me, today)),
            today: Some(date(today)),
            members,
            overall_rates: Some(pb::AchievementRates {
                start_date: Some(date(start.min(today))),
                end_date: Some(date(today)),
                team_rate: team_rate(&rates.iter().map(|(_, r)| *r).collect::<Vec<_>>()),
                my_rate: rate(mine),
                my_done_count: mine.map_or(0, |c| c.done),
                my_required_count: mine.map_or(0, |c| c.required),
                my_rank,
            }),
            this_week_rates: week_point.map(|p| pb::AchievementRates {
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
            active_missions: progress
                .active_missions
                .into_iter()
                .filter_map(|b| b.mission)
                .collect(),
            score: progress.score,
            unread_notice_count: notices,
            unread_post_count: posts,
            open_vote_count: open_votes.len() as i32,
            open_votes,
            generated_at: None,
            etag: String::new(),
        };
        let digest = Sha256::digest(prost::Message::encode_to_vec(&board));
        board.etag = hex::encode(&digest[..12]);
        board.generated_at = Some(timestamp(now));
        Ok(board)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_a_rank_and_unrated_members_come_last() {
        let r = ranking(&[
            ("a".into(), Some(0.5)),
            ("b".into(), Some(1.0)),
            ("c".into(), Some(0.5)),
            ("d".into(), None),
            ("e".into(), Some(0.25)),
        ]);
        assert_eq!(
            r,
            vec![
                ("b".into(), 1),
                ("a".into(), 2),
                ("c".into(), 2),
                ("e".into(), 4),
                ("d".into(), 5),
            ]
        );
    }

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
