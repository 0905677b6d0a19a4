//! BoardService.ExportTeamActivity (PRODUCT.md §7, the paid feature): the
//! team's or the caller's activity over a period as CSV (`domain::export`) or
//! as a one-page PDF report with the progress graph (`moing_report`). The
//! numbers are mission's: GetTeamActivity (per member, day and mission) for
//! the CSV, GetTeamProgress (totals, weekly series) for the PDF's rates and
//! ranking, the very feed of the goal board, so both equal the board's for
//! the same period. Members of active, finished and disbanded-in-grace teams
//! may export; anyone else gets NOT_FOUND, as for a made-up team.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use moing_common::{
    Validator,
    convert::{date, from_date, timestamp},
    layer::principal,
};
use moing_proto::moing::{
    auth::v1::{BatchGetMembersRequest, MemberStatus},
    board::v1 as pb,
    mission::v1::{
        GetTeamActivityRequest, GetTeamActivityResponse, GetTeamProgressRequest, ProgressCounts,
        ProgressGranularity, ProgressSeriesSpec, ProofWay,
    },
};
use sha2::{Digest, Sha256};
use tonic::{Request, Response};
use uuid::Uuid;

use super::{
    Board, Reply,
    goal::{progress_pb, status_error, within},
};
use crate::{
    domain::{ActivityCounts, ExportMember, ExportRow, csv, team_rate_of},
    error::BoardError,
};

/// What a withdrawn member is called (auth's own anonymised nickname).
const WITHDRAWN: &str = "(탈퇴한 회원)";
/// Exports take longer than a board: a year of a large team.
const EXPORT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Pdf,
}

/// A validated request.
struct Asked {
    team: Uuid,
    format: Format,
    only_me: bool,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl TryFrom<pb::ExportTeamActivityRequest> for Asked {
    type Error = BoardError;

    fn try_from(r: pb::ExportTeamActivityRequest) -> Result<Self, BoardError> {
        let mut v = Validator::new();
        let team = v.id("team_id", &r.team_id);
        let format = match pb::ExportFormat::try_from(r.format) {
            Ok(pb::ExportFormat::Csv) => Some(Format::Csv),
            Ok(pb::ExportFormat::Pdf) => Some(Format::Pdf),
            _ => None,
        };
        v.check(format.is_some(), "format", "must be CSV or PDF");
        let scope = pb::ExportScope::try_from(r.scope).ok();
        v.check(
            matches!(scope, Some(pb::ExportScope::Team | pb::ExportScope::Me)),
            "scope",
            "must be TEAM or ME",
        );
        let from = v.date("start_date", r.start_date.as_ref());
        let to = v.date("end_date", r.end_date.as_ref());
        v.check(
            from.zip(to).is_none_or(|(f, t)| f <= t),
            "end_date",
            "must not be before start_date",
        );
        v.finish()?;
        Ok(Asked {
            team: team.unwrap_or_default(),
            format: format.unwrap_or(Format::Csv),
            only_me: scope == Some(pb::ExportScope::Me),
            from,
            to,
        })
    }
}

pub async fn export_team_activity(
    b: &Board,
    req: Request<pb::ExportTeamActivityRequest>,
) -> Reply<pb::ExportTeamActivityResponse> {
    let me = principal(&req)?.member_id;
    let asked = Asked::try_from(req.into_inner())?;
    let access = b.members.check(asked.team, me).await?;
    let activity = b.activity(&asked, me).await?;
    let members = b.export_members(asked.team, &activity).await;
    let from = activity
        .from
        .as_ref()
        .and_then(from_date)
        .unwrap_or_default();
    let to = activity.to.as_ref().and_then(from_date).unwrap_or(from);
    let now = moing_common::clock::now();
    let (content, content_type, ext) = match asked.format {
        Format::Csv => {
            let rows = export_rows(&activity, &members);
            let list: Vec<ExportMember> = members.iter().map(|(_, m)| m.clone()).collect();
            let bytes = csv(&list, &rows, (from, to), team_rate_of(&list))
                .map_err(|e| BoardError::Internal(anyhow::anyhow!(e.to_string())))?;
            (bytes, "text/csv; charset=utf-8", "csv")
        }
        Format::Pdf => {
            let report = b
                .activity_report(&asked, me, &access.team_name, (from, to), &members, now)
                .await?;
            let bytes = moing_report::pdf(&report)
                .map_err(|e| BoardError::Internal(anyhow::anyhow!(e.to_string())))?;
            (bytes, "application/pdf", "pdf")
        }
    };
    Ok(Response::new(pb::ExportTeamActivityResponse {
        content,
        content_type: content_type.into(),
        file_name: format!(
            "moing-{}-{from}_{to}{}.{ext}",
            &asked.team.simple().to_string()[..8],
            if asked.only_me { "-me" } else { "" },
        ),
        generated_at: Some(timestamp(now)),
    }))
}

/// The rows of the CSV, in (day, member, mission) order.
fn export_rows(
    activity: &GetTeamActivityResponse,
    members: &[(Uuid, ExportMember)],
) -> Vec<ExportRow> {
    let index: HashMap<String, usize> = members
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.to_string(), i))
        .collect();
    let missions: HashMap<&str, (&str, &'static str)> = activity
        .missions
        .iter()
        .map(|m| {
            let way = match ProofWay::try_from(m.way) {
                Ok(ProofWay::Photo) => "PHOTO",
                Ok(ProofWay::Link) => "LINK",
                _ => "TEXT",
            };
            (m.mission_id.as_str(), (m.title.as_str(), way))
        })
        .collect();
    activity
        .rows
        .iter()
        .filter_map(|r| {
            let member = *index.get(&r.member_id)?;
            let (title, way) = missions
                .get(r.mission_id.as_str())
                .copied()
                .unwrap_or(("", "TEXT"));
            Some(ExportRow {
                day: r.day.as_ref().and_then(from_date)?,
                member,
                mission_id: r.mission_id.clone(),
                mission_title: title.to_owned(),
                way,
                counts: counts(r.counts.as_ref()),
            })
        })
        .collect()
}

fn counts(c: Option<&ProgressCounts>) -> ActivityCounts {
    c.map(|c| ActivityCounts {
        required: c.required,
        done: c.done,
        skipped: c.skipped,
        pending: c.pending,
    })
    .unwrap_or_default()
}

/// A withdrawn member's id in this team's exports: the same in every export,
/// and not their member id.
fn pseudonym(team: Uuid, member: Uuid) -> String {
    let digest = Sha256::digest([team.as_bytes().as_slice(), member.as_bytes()].concat());
    format!("withdrawn-{}", hex::encode(&digest[..6]))
}

impl Board {
    /// mission's per-day counts of the period (only mine with scope ME).
    async fn activity(
        &self,
        asked: &Asked,
        me: Uuid,
    ) -> Result<GetTeamActivityResponse, BoardError> {
        within(EXPORT_DEADLINE, "mission", async {
            self.mission
                .clone()
                .get_team_activity(GetTeamActivityRequest {
                    team_id: asked.team.to_string(),
                    from: asked.from.map(date),
                    to: asked.to.map(date),
                    member_id: if asked.only_me {
                        me.to_string()
                    } else {
                        String::new()
                    },
                })
                .await
                .map(tonic::Response::into_inner)
                .map_err(status_error("mission"))
        })
        .await
    }

    /// The members of the period with their names (withdrawn ones
    /// anonymised) and totals, in member id order.
    async fn export_members(
        &self,
        team: Uuid,
        activity: &GetTeamActivityResponse,
    ) -> Vec<(Uuid, ExportMember)> {
        let ids: Vec<Uuid> = activity
            .members
            .iter()
            .filter_map(|m| Uuid::parse_str(&m.member_id).ok())
            .collect();
        let mut found: HashMap<Uuid, (String, bool)> = HashMap::new();
        for chunk in ids.chunks(100) {
            let req = BatchGetMembersRequest {
                member_ids: chunk.iter().map(Uuid::to_string).collect(),
            };
            match self.auth.clone().batch_get_members(req).await {
                Ok(resp) => {
                    for m in resp.into_inner().members {
                        if let Ok(id) = Uuid::parse_str(&m.member_id) {
                            let gone = m.status == MemberStatus::Withdrawn as i32;
                            found.insert(id, (m.nickname, gone));
                        }
                    }
                }
                Err(e) => tracing::warn!(code = ?e.code(), "display data unavailable"),
            }
        }
        activity
            .members
            .iter()
            .filter_map(|m| {
                let id = Uuid::parse_str(&m.member_id).ok()?;
                let (nickname, gone) = found.get(&id).cloned().unwrap_or_default();
                Some((
                    id,
                    ExportMember {
                        id: if gone {
                            pseudonym(team, id)
                        } else {
                            id.to_string()
                        },
                        nickname: if gone { WITHDRAWN.into() } else { nickname },
                        active: m.active && !gone,
                        totals: counts(m.totals.as_ref()),
                    },
                ))
            })
            .collect()
    }

    /// mission's progress for the period: totals, the last 14 days and the
    /// weeks, as the goal board asks it.
    async fn period_progress(
        &self,
        team: Uuid,
        (from, to): (NaiveDate, NaiveDate),
    ) -> Result<moing_proto::moing::mission::v1::GetTeamProgressResponse, BoardError> {
        let spec = |granularity: ProgressGranularity, f: NaiveDate| ProgressSeriesSpec {
            granularity: granularity as i32,
            from: Some(date(f)),
            to: Some(date(to)),
        };
        let fortnight = (to - chrono::Duration::days(13)).max(from);
        within(EXPORT_DEADLINE, "mission", async {
            self.mission
                .clone()
                .get_team_progress(GetTeamProgressRequest {
                    team_id: team.to_string(),
                    from: Some(date(from)),
                    to: Some(date(to)),
                    series: vec![
                        spec(ProgressGranularity::Day, fortnight),
                        spec(ProgressGranularity::Week, from),
                    ],
                    include_former_members: false,
                    viewer_member_id: String::new(),
                })
                .await
                .map(tonic::Response::into_inner)
                .map_err(status_error("mission"))
        })
        .await
    }

    /// The PDF's content: the goal board's rates, ranking and weekly series
    /// for the period.
    async fn activity_report(
        &self,
        asked: &Asked,
        me: Uuid,
        team_name: &str,
        (from, to): (NaiveDate, NaiveDate),
        members: &[(Uuid, ExportMember)],
        now: DateTime<Utc>,
    ) -> Result<moing_report::Report, BoardError> {
        let progress = self.period_progress(asked.team, (from, to)).await?;
        let board = progress_pb(&progress, me, to, from);
        let names: HashMap<String, &ExportMember> =
            members.iter().map(|(id, m)| (id.to_string(), m)).collect();
        let name_of = |id: &str| {
            names
                .get(id)
                .map(|m| m.nickname.clone())
                .unwrap_or_else(|| WITHDRAWN.into())
        };
        let overall = board.overall_rates.unwrap_or_default();
        let me_str = me.to_string();
        let mut ranking: Vec<moing_report::RankRow> = board
            .ranking
            .iter()
            .map(|r| moing_report::RankRow {
                rank: r.rank,
                name: name_of(&r.member_id),
                rate: r.rate,
                done: r.done_count,
                required: r.required_count,
                me: r.member_id == me_str,
            })
            .collect();
        if asked.only_me {
            ranking.retain(|r| r.me);
        }
        Ok(moing_report::Report {
            team_name: team_name.to_owned(),
            period: (from, to),
            days: (to - from).num_days() + 1,
            member_count: members.iter().filter(|(_, m)| m.active).count(),
            team_rate: overall.team_rate,
            my_rate: overall.my_rate,
            average_rate: overall.team_rate,
            my_name: name_of(&me_str),
            ranking,
            weekly: board
                .weekly_progress
                .iter()
                .filter_map(|p| {
                    Some(moing_report::WeekPoint {
                        start: p.start_date.as_ref().and_then(from_date)?,
                        team_rate: p.team_rate,
                        my_rate: p.my_rate,
                    })
                })
                .collect(),
            generated_at: now,
        })
    }
}
