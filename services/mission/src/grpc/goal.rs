//! MissionInternalService.GetTeamProgress: everything the goal board needs of
//! the mission service in one call — per-member totals, day/week series, the
//! active missions with every member's status, and the team score.
//!
//! Cost per call does not grow with history: closed weeks are read from the
//! kept counts (`store/aggregates.rs`, sealed by `grpc/seal.rs` when a week
//! turns: per member totals, the asked weeks and days, per mission totals of
//! the active missions), the open week is counted from its own proof rows.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use moing_common::{
    Validator,
    convert::{date, from_date, timestamp},
};
use moing_proto::moing::mission::v1 as pb;
use uuid::Uuid;

use super::{
    Missions,
    wire::{counts_pb, mission_fields, progress_pb, score_pb, span_pb},
};
use crate::{
    access::spans,
    domain::{
        Kind, Mission,
        progress::{
            Counts, Ledger, MissionSpan, ProofRow, Span, View, buckets, kept_ranges, ledger_from,
            overlaps, standing,
        },
        tz, week_start,
    },
    error::MissionError,
    store::aggregates::Kept,
};

/// At most this many series per call, and buckets per series.
const MAX_SERIES: usize = 4;
const MAX_BUCKETS: i64 = 800;

struct Spec {
    week: bool,
    from: NaiveDate,
    to: NaiveDate,
}

/// A validated GetTeamProgress request (dates not yet clipped to today).
struct Asked {
    team: Uuid,
    viewer: Option<Uuid>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    /// (weekly, from, to) of each series.
    series: Vec<(bool, NaiveDate, NaiveDate)>,
}

fn asked_series(
    v: &mut Validator,
    r: &pb::GetTeamProgressRequest,
) -> Vec<(bool, NaiveDate, NaiveDate)> {
    let mut specs = Vec::new();
    for (i, s) in r.series.iter().enumerate() {
        let f = v.date(&format!("series[{i}].from"), s.from.as_ref());
        let t = v.date(&format!("series[{i}].to"), s.to.as_ref());
        let week = match pb::ProgressGranularity::try_from(s.granularity) {
            Ok(pb::ProgressGranularity::Day) => Some(false),
            Ok(pb::ProgressGranularity::Week) => Some(true),
            _ => None,
        };
        if week.is_none() {
            v.violation(&format!("series[{i}].granularity"), "must be DAY or WEEK");
        }
        match (f, t) {
            (Some(f), Some(t)) if f <= t => specs.push((week == Some(true), f, t)),
            (Some(_), Some(_)) => {
                v.violation(&format!("series[{i}].to"), "must not be before from")
            }
            _ => v.violation(&format!("series[{i}]"), "from and to are required"),
        }
    }
    specs
}

impl TryFrom<&pb::GetTeamProgressRequest> for Asked {
    type Error = MissionError;

    fn try_from(r: &pb::GetTeamProgressRequest) -> Result<Self, MissionError> {
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id);
        let viewer = (!r.viewer_member_id.is_empty())
            .then(|| v.id("viewer_member_id", &r.viewer_member_id))
            .flatten();
        let from = v.date("from", r.from.as_ref());
        let to = v.date("to", r.to.as_ref());
        let series = asked_series(&mut v, r);
        v.check(
            r.series.len() <= MAX_SERIES,
            "series",
            "at most 4 series per call",
        );
        v.check(
            from.zip(to).is_none_or(|(f, t)| f <= t),
            "to",
            "must not be before from",
        );
        v.finish()?;
        let team = team.ok_or(MissionError::Invalid(vec![]))?;
        Ok(Asked {
            team,
            viewer,
            from,
            to,
            series,
        })
    }
}

/// The series clipped to `today`, each within [`MAX_BUCKETS`].
fn clip_series(
    series: Vec<(bool, NaiveDate, NaiveDate)>,
    today: NaiveDate,
) -> Result<Vec<Spec>, MissionError> {
    let mut out = Vec::new();
    for (i, (week, f, t)) in series.into_iter().enumerate() {
        let t = t.min(today);
        let n = (t - f).num_days() / if week { 7 } else { 1 };
        if n > MAX_BUCKETS {
            let mut v = Validator::new();
            v.violation(
                &format!("series[{i}]"),
                format!("at most {MAX_BUCKETS} buckets per series"),
            );
            v.finish()?;
        }
        out.push(Spec {
            week,
            from: f,
            to: t,
        });
    }
    Ok(out)
}

/// Proofs are read from the earliest day anything asked can depend on: the
/// Monday of the earliest asked day (weekly targets see whole weeks), and the
/// start of any ONCE mission still open then (its proof may predate).
fn read_from(
    specs: &[Spec],
    from: NaiveDate,
    today: NaiveDate,
    missions: &[MissionSpan],
) -> NaiveDate {
    let asked_from = specs
        .iter()
        .map(|s| s.from)
        .chain([from])
        .min()
        .unwrap_or(from);
    let mut read_from = week_start(asked_from.min(week_start(today)));
    for m in missions {
        if m.kind == Kind::Once && m.closed_on.is_none_or(|c| c >= asked_from) {
            read_from = read_from.min(m.start);
        }
    }
    read_from
}

/// The members asked for (active ones, and former ones when included), in
/// id order, with their totals over [from, to].
fn members_pb(
    roster: &HashMap<Uuid, Vec<Span>>,
    view: &View<'_>,
    (from, to): (NaiveDate, NaiveDate),
    include_former: bool,
) -> Vec<pb::MemberProgress> {
    let mut members: Vec<pb::MemberProgress> = roster
        .iter()
        .filter(|(_, spans)| {
            let active = spans.iter().any(|s| s.to.is_none());
            (active || include_former) && overlaps(spans, from, to)
        })
        .map(|(id, spans)| pb::MemberProgress {
            member_id: id.to_string(),
            spans: spans
                .iter()
                .filter(|s| overlaps(std::slice::from_ref(s), from, to))
                .map(span_pb)
                .collect(),
            active: spans.iter().any(|s| s.to.is_none()),
            totals: Some(counts_pb(view.sum(id, from, to).0)),
        })
        .collect();
    members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    members
}

/// Each series' buckets with the counts of the listed members in them.
fn series_pb(
    specs: &[Spec],
    member_ids: &[Uuid],
    roster: &HashMap<Uuid, Vec<Span>>,
    view: &View<'_>,
) -> Vec<pb::ProgressSeries> {
    let bucket = |b0: NaiveDate, b1: NaiveDate| pb::ProgressBucket {
        start: Some(date(b0)),
        end: Some(date(b1)),
        members: member_ids
            .iter()
            .filter_map(|id| {
                let (counts, any) = view.sum(id, b0, b1);
                (any || roster.get(id).is_some_and(|spans| overlaps(spans, b0, b1))).then(|| {
                    pb::MemberCounts {
                        member_id: id.to_string(),
                        counts: Some(counts_pb(counts)),
                    }
                })
            })
            .collect(),
    };
    specs
        .iter()
        .map(|s| pb::ProgressSeries {
            granularity: if s.week {
                pb::ProgressGranularity::Week
            } else {
                pb::ProgressGranularity::Day
            } as i32,
            buckets: buckets(s.week, s.from, s.to)
                .into_iter()
                .map(|(b0, b1)| bucket(b0, b1))
                .collect(),
        })
        .collect()
}

/// The team's zone and today, and the asked period clipped to today (from
/// the team's start by default).
fn period(
    summary: &moing_proto::moing::moim::v1::TeamSummary,
    asked: &Asked,
    now: DateTime<Utc>,
) -> (chrono_tz::Tz, NaiveDate, NaiveDate, NaiveDate) {
    let zone = tz(&summary.time_zone);
    let today = now.with_timezone(&zone).date_naive();
    let start = summary
        .start_date
        .as_ref()
        .and_then(from_date)
        .unwrap_or(today);
    let from = asked.from.unwrap_or(start.min(today));
    let to = asked.to.unwrap_or(today).min(today);
    (zone, today, from, to)
}

/// The members' totals and the series, from the kept counts and the live ledger.
fn answer(
    roster: &HashMap<Uuid, Vec<Span>>,
    kept: Option<&Kept>,
    (live, live_from, origin): (&Ledger, NaiveDate, NaiveDate),
    specs: &[Spec],
    period: (NaiveDate, NaiveDate),
    include_former: bool,
) -> (Vec<pb::MemberProgress>, Vec<pb::ProgressSeries>) {
    let empty = Kept::default();
    let k = kept.unwrap_or(&empty);
    let view = View {
        until: live_from,
        origin,
        days: &k.days,
        weeks: &k.weeks,
        totals: &k.totals,
        live,
    };
    let members = members_pb(roster, &view, period, include_former);
    let member_ids: Vec<Uuid> = members
        .iter()
        .filter_map(|m| Uuid::parse_str(&m.member_id).ok())
        .collect();
    let series = series_pb(specs, &member_ids, roster, &view);
    (members, series)
}

/// The seal's Monday and the kept totals per (mission, member).
type Sealed<'a> = (NaiveDate, &'a HashMap<(Uuid, Uuid), Counts>);

/// What the boards of the active missions are computed from.
struct Boards<'a> {
    /// Active members and their spans.
    active: Vec<(Uuid, &'a Vec<Span>)>,
    /// Proof rows by (mission, member).
    by_key: HashMap<(Uuid, Uuid), Vec<ProofRow>>,
    viewer: Option<Uuid>,
    leader: Option<Uuid>,
    today: NaiveDate,
    now: DateTime<Utc>,
    /// The seal's Monday and the kept totals per (mission, member), when kept.
    sealed: Option<Sealed<'a>>,
}

impl<'a> Boards<'a> {
    /// The active members, the rows by (mission, member), the viewer and the
    /// leader, today, and the kept totals when kept.
    fn new(
        roster: &'a HashMap<Uuid, Vec<Span>>,
        rows: &[ProofRow],
        (viewer, leader): (Option<Uuid>, Option<Uuid>),
        (today, now): (NaiveDate, DateTime<Utc>),
        sealed: Option<Sealed<'a>>,
    ) -> Self {
        let mut by_key: HashMap<(Uuid, Uuid), Vec<ProofRow>> = HashMap::new();
        for p in rows {
            by_key.entry((p.mission, p.member)).or_default().push(*p);
        }
        Boards {
            active: roster
                .iter()
                .filter(|(_, s)| s.iter().any(|s| s.to.is_none()))
                .map(|(id, s)| (*id, s))
                .collect(),
            by_key,
            viewer,
            leader,
            today,
            now,
            sealed,
        }
    }

    /// A mission with every active member's standing, and the viewer's.
    fn board(&self, m: &Mission) -> pb::MissionStatusBoard {
        let mut pbm = mission_fields(m);
        let mut statuses = Vec::with_capacity(self.active.len());
        let (mut done_members, mut done_today) = (0, 0);
        let this_week = week_start(self.today);
        for (member, spans) in &self.active {
            let rows = self
                .by_key
                .get(&(m.id, *member))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let sealed = self.sealed.map(|(until, kept)| {
                (
                    until,
                    kept.get(&(m.id, *member)).copied().unwrap_or_default(),
                )
            });
            let s = standing(m, spans, rows, self.now, sealed);
            let p = progress_pb(m, &s);
            if p.period_complete {
                done_members += 1;
            }
            if rows
                .iter()
                .any(|p| p.done && p.day == self.today && p.day >= this_week)
                || (m.kind == Kind::Once && p.period_complete)
            {
                done_today += 1;
            }
            if Some(*member) == self.viewer {
                pbm.my_progress = Some(p.clone());
                pbm.can_manage = self.leader == self.viewer || m.maker_id == *member;
            }
            statuses.push(pb::MemberMissionStatus {
                member_id: member.to_string(),
                progress: Some(p),
            });
        }
        statuses.sort_by(|a, b| a.member_id.cmp(&b.member_id));
        pbm.team_progress = Some(pb::TeamMissionProgress {
            member_count: self.active.len() as i32,
            done_member_count: done_members,
            done_today_member_count: done_today,
        });
        pb::MissionStatusBoard {
            mission: Some(pbm),
            members: statuses,
        }
    }
}

/// What an answer is counted from: the kept closed weeks (None: someone
/// unsealed meanwhile, so this answer counts everything from the rows), the
/// live rows, the day they count from, and the first day anything can count.
struct Counted {
    kept: Option<Kept>,
    rows: Vec<ProofRow>,
    live_from: NaiveDate,
    origin: NaiveDate,
}

impl Missions {
    /// Closed weeks come kept (sealed first if the week turned); the open
    /// week is counted from its own rows, with the earlier proofs of ONCE
    /// missions still open or not yet ended.
    async fn counted(
        &self,
        team: Uuid,
        (missions, mission_spans): (&[Mission], &[MissionSpan]),
        roster: &HashMap<Uuid, Vec<Span>>,
        specs: &[Spec],
        (from, to, today): (NaiveDate, NaiveDate, NaiveDate),
        now: DateTime<Utc>,
    ) -> Result<Counted, MissionError> {
        let until = week_start(today);
        let origin = mission_spans.iter().map(|m| m.start).min().unwrap_or(until);
        let mut ranges: Vec<(NaiveDate, NaiveDate)> = vec![(from, to)];
        ranges.extend(specs.iter().flat_map(|s| buckets(s.week, s.from, s.to)));
        let (day_ranges, week_ranges) = kept_ranges(&ranges, origin, until);
        let active: Vec<Uuid> = missions.iter().filter(|m| !m.ended).map(|m| m.id).collect();
        let mut kept = self
            .store
            .kept(team, until, &day_ranges, &week_ranges, &active)
            .await?;
        if kept.is_none() {
            self.reseal(team, mission_spans, roster, today, now).await?;
            kept = self
                .store
                .kept(team, until, &day_ranges, &week_ranges, &active)
                .await?;
        }
        let Some(kept) = kept else {
            let first = read_from(specs, from, today, mission_spans);
            return Ok(Counted {
                kept: None,
                rows: self.store.team_rows(team, first, today).await?,
                live_from: NaiveDate::MIN,
                origin,
            });
        };
        let mut rows = self.store.team_rows(team, until, today).await?;
        let once: Vec<Uuid> = missions
            .iter()
            .zip(mission_spans)
            .filter(|(m, s)| {
                s.kind == Kind::Once
                    && s.start < until
                    && (!m.ended || s.closed_on.is_none_or(|c| c >= until))
            })
            .map(|(m, _)| m.id)
            .collect();
        rows.extend(self.store.rows_before(team, &once, until).await?);
        Ok(Counted {
            kept: Some(kept),
            rows,
            live_from: until,
            origin,
        })
    }

    pub async fn team_progress(
        &self,
        r: pb::GetTeamProgressRequest,
    ) -> Result<pb::GetTeamProgressResponse, MissionError> {
        let asked = Asked::try_from(&r)?;
        let team = asked.team;
        let now = moing_common::clock::now();
        let summary = self.members.summary(team, true).await?;
        let (zone, today, from, to) = period(&summary, &asked, now);
        let specs = clip_series(asked.series, today)?;

        // Membership spans; everyone who was ever in the team is counted so
        // leavers keep their history, and filtered for the answer below.
        let roster: HashMap<Uuid, Vec<Span>> = spans(&summary).into_iter().collect();
        let missions = self.store.missions(team, None).await?;
        let mission_spans: Vec<MissionSpan> =
            missions.iter().map(|m| MissionSpan::of(m, now)).collect();

        let Counted {
            kept,
            rows,
            live_from,
            origin,
        } = self
            .counted(
                team,
                (&missions, &mission_spans),
                &roster,
                &specs,
                (from, to, today),
                now,
            )
            .await?;
        let (points, updated) = self.store.team_score(team).await?;

        let live: Ledger = ledger_from(&mission_spans, &roster, &rows, today, live_from);
        let (members, series) = answer(
            &roster,
            kept.as_ref(),
            (&live, live_from, origin),
            &specs,
            (from, to),
            r.include_former_members,
        );

        // Active missions, newest first, with every active member's standing.
        let boards = Boards::new(
            &roster,
            &rows,
            (
                asked.viewer,
                Uuid::parse_str(&summary.leader_member_id).ok(),
            ),
            (today, now),
            kept.as_ref().map(|k| (live_from, &k.missions)),
        );
        let active_missions = missions
            .iter()
            .filter(|m| !m.ended)
            .map(|m| boards.board(m))
            .collect();

        Ok(pb::GetTeamProgressResponse {
            team_id: team.to_string(),
            time_zone: zone.name().to_owned(),
            today: Some(date(today)),
            as_of: Some(timestamp(now)),
            from: Some(date(from)),
            to: Some(date(to)),
            members,
            series,
            active_missions,
            score: Some(score_pb(team, points, updated, false)),
        })
    }
}
