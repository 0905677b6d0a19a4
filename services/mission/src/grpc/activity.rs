//! MissionInternalService.GetTeamActivity: the goal board's counts split by
//! member, day and mission, behind the activity export (board's
//! ExportTeamActivity). The counting is `domain::progress::ledger`, mission by
//! mission, so a member's rows sum to the totals GetTeamProgress reports for
//! the same period.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use moing_common::{
    Validator,
    convert::{date, from_date},
};
use moing_proto::moing::mission::v1 as pb;
use uuid::Uuid;

use super::{
    Missions,
    wire::{counts_pb, span_pb},
};
use crate::{
    access::spans,
    domain::{
        Kind,
        progress::{Counts, MissionSpan, ProofRow, Span, ledger_from, overlaps, sum},
        tz, week_start,
    },
    error::MissionError,
};

/// A validated request.
struct Asked {
    team: Uuid,
    member: Option<Uuid>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl TryFrom<&pb::GetTeamActivityRequest> for Asked {
    type Error = MissionError;

    fn try_from(r: &pb::GetTeamActivityRequest) -> Result<Self, MissionError> {
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id);
        let member = (!r.member_id.is_empty())
            .then(|| v.id("member_id", &r.member_id))
            .flatten();
        let from = v.date("from", r.from.as_ref());
        let to = v.date("to", r.to.as_ref());
        v.check(
            from.zip(to).is_none_or(|(f, t)| f <= t),
            "to",
            "must not be before from",
        );
        v.finish()?;
        Ok(Asked {
            team: team.ok_or(MissionError::Invalid(vec![]))?,
            member,
            from,
            to,
        })
    }
}

/// Counts per (day, member, mission) over [from, to], mission by mission (the
/// ledger from the Monday of `from`), and each member's totals.
type ByDay = (
    BTreeMap<(NaiveDate, Uuid, Uuid), Counts>,
    HashMap<Uuid, Counts>,
);

fn by_day(
    missions: &[MissionSpan],
    roster: &HashMap<Uuid, Vec<Span>>,
    mut by_mission: HashMap<Uuid, Vec<ProofRow>>,
    today: NaiveDate,
    (from, to): (NaiveDate, NaiveDate),
) -> ByDay {
    let monday = week_start(from);
    let mut out: BTreeMap<(NaiveDate, Uuid, Uuid), Counts> = BTreeMap::new();
    let mut totals: HashMap<Uuid, Counts> = HashMap::new();
    for m in missions {
        let rows = by_mission.remove(&m.id).unwrap_or_default();
        let l = ledger_from(std::slice::from_ref(m), roster, &rows, today, monday);
        for (member, days) in l {
            for (day, c) in days.range(from..=to) {
                if *c != Counts::default() {
                    out.insert((*day, member, m.id), *c);
                }
            }
            totals
                .entry(member)
                .or_default()
                .add(&sum(Some(&days), from, to));
        }
    }
    (out, totals)
}

/// The members of the period with their spans and totals, in id order.
fn members_pb(
    roster: &HashMap<Uuid, Vec<Span>>,
    totals: &HashMap<Uuid, Counts>,
    (from, to): (NaiveDate, NaiveDate),
) -> Vec<pb::MemberProgress> {
    let mut members: Vec<pb::MemberProgress> = roster
        .iter()
        .filter(|(_, s)| overlaps(s, from, to))
        .map(|(id, s)| pb::MemberProgress {
            member_id: id.to_string(),
            spans: s
                .iter()
                .filter(|x| overlaps(std::slice::from_ref(x), from, to))
                .map(span_pb)
                .collect(),
            active: s.iter().any(|x| x.to.is_none()),
            totals: Some(counts_pb(totals.get(id).copied().unwrap_or_default())),
        })
        .collect();
    members.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    members
}

impl Missions {
    pub async fn team_activity(
        &self,
        r: pb::GetTeamActivityRequest,
    ) -> Result<pb::GetTeamActivityResponse, MissionError> {
        let asked = Asked::try_from(&r)?;
        let team = asked.team;
        let now = moing_common::clock::now();
        let summary = self.members.summary(team, true).await?;
        let zone = tz(&summary.time_zone);
        let today = now.with_timezone(&zone).date_naive();
        let start = summary
            .start_date
            .as_ref()
            .and_then(from_date)
            .unwrap_or(today);
        let to = asked.to.unwrap_or(today).min(today);
        let from = asked.from.unwrap_or(start.min(to)).min(to);

        let roster: HashMap<Uuid, Vec<Span>> = spans(&summary)
            .into_iter()
            .filter(|(id, _)| asked.member.is_none_or(|m| m == *id))
            .collect();
        let missions = self.store.missions(team, None).await?;
        let mission_spans: Vec<MissionSpan> = missions
            .iter()
            .map(|m| MissionSpan::of(m, now))
            .filter(|m| m.start <= to && m.closed_on.is_none_or(|c| c >= from))
            .collect();
        // Whole weeks from the Monday of `from`, and every proof of the ONCE
        // missions open then (an obligation met earlier is not owed again).
        let monday = week_start(from);
        let first = mission_spans
            .iter()
            .filter(|m| m.kind == Kind::Once)
            .map(|m| m.start)
            .chain([monday])
            .min()
            .unwrap_or(monday);
        let rows = self.store.team_rows(team, first, today).await?;
        let mut by_mission: HashMap<Uuid, Vec<ProofRow>> = HashMap::new();
        for p in rows {
            if roster.contains_key(&p.member) {
                by_mission.entry(p.mission).or_default().push(p);
            }
        }

        let (out, totals) = by_day(&mission_spans, &roster, by_mission, today, (from, to));
        let members = members_pb(&roster, &totals, (from, to));
        let named: std::collections::HashSet<Uuid> = out.keys().map(|k| k.2).collect();
        Ok(pb::GetTeamActivityResponse {
            team_id: team.to_string(),
            time_zone: zone.name().to_owned(),
            from: Some(date(from)),
            to: Some(date(to)),
            rows: out
                .into_iter()
                .map(|((day, member, mission), c)| pb::ActivityRow {
                    day: Some(date(day)),
                    member_id: member.to_string(),
                    mission_id: mission.to_string(),
                    counts: Some(counts_pb(c)),
                })
                .collect(),
            missions: missions
                .iter()
                .filter(|m| named.contains(&m.id))
                .map(|m| pb::ActivityMission {
                    mission_id: m.id.to_string(),
                    title: m.title.clone(),
                    kind: pb::MissionKind::from(m.kind) as i32,
                    way: pb::ProofWay::from(m.way) as i32,
                })
                .collect(),
            members,
        })
    }
}
