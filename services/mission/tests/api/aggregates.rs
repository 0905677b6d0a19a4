//! The goal board's kept counts on real MariaDB: after a random history (late
//! joiners, leavers, REPEAT and ONCE missions, proofs and skips on past days)
//! and a random sequence of today's operations through the API (proofs, skips,
//! deletes, a review removing a past proof, a new weekly target, a mission
//! ended or created, a member leaving or joining) interleaved with reads, the
//! kept rows equal what the rebuild command recounts from the proof rows, and
//! so do the answers.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use moing_proto::moing::{
    mission::v1::{
        CreateMissionRequest, DeleteProofRequest, EndMissionRequest, GetTeamProgressRequest,
        GetTeamProgressResponse, Mission, ProgressGranularity, ProgressSeriesSpec,
        ReportedContentKind, ReviewReportedContentRequest, SkipMissionRequest, SubmitProofRequest,
        UpdateMissionRequest, submit_proof_request::Body,
    },
    moderation::v1::ReviewDecision,
    moim::v1::LeaveTeamRequest,
};
use proptest::{prelude::*, test_runner::TestRunner};
use sqlx::Row;
use uuid::Uuid;

use crate::helpers::*;

#[derive(Debug, Clone)]
enum Op {
    Proof(usize, usize),
    Skip(usize, usize),
    DeleteToday(usize),
    RemovePast(usize),
    NewTarget(usize, i32),
    End(usize),
    Create(bool, i32),
    Leave(usize),
    Join,
    Read,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..8usize, 0..8usize).prop_map(|(a, b)| Op::Proof(a, b)),
        2 => (0..8usize, 0..8usize).prop_map(|(a, b)| Op::Skip(a, b)),
        1 => (0..8usize).prop_map(Op::DeleteToday),
        2 => (0..1000usize).prop_map(Op::RemovePast),
        1 => (0..8usize, 1..=7i32).prop_map(|(a, n)| Op::NewTarget(a, n)),
        1 => (0..8usize).prop_map(Op::End),
        1 => (any::<bool>(), 1..=7i32).prop_map(|(o, n)| Op::Create(o, n)),
        1 => (1..5usize).prop_map(Op::Leave),
        1 => Just(Op::Join),
        3 => Just(Op::Read),
    ]
}

/// The past: per member (joined days ago, left days ago), per mission (ONCE?,
/// target, created days ago, ended days ago), proofs (mission, member, days
/// ago, done).
type Past = (
    Vec<(i64, Option<i64>)>,
    Vec<(bool, i32, i64, Option<i64>)>,
    Vec<(usize, usize, i64, bool)>,
);

fn past() -> impl Strategy<Value = Past> {
    (
        prop::collection::vec((10..60i64, prop::option::weighted(0.3, 1..9i64)), 5),
        prop::collection::vec(
            (
                any::<bool>(),
                1..=7i32,
                5..60i64,
                prop::option::weighted(0.3, 1..5i64),
            ),
            1..5,
        ),
        prop::collection::vec(
            (0..8usize, 0..5usize, 1..60i64, prop::bool::weighted(0.8)),
            0..150,
        ),
    )
}

fn seoul_today() -> NaiveDate {
    moing_testkit::seoul_today()
}

fn monday(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

struct Case<'a> {
    app: &'a TestApp,
    team: String,
    team_id: Uuid,
    members: Vec<Member>,
    active: Vec<bool>,
    missions: Vec<Mission>,
    leader: usize,
}

impl Case<'_> {
    async fn seed<'a>(app: &'a TestApp, past: &Past) -> anyhow::Result<Case<'a>> {
        let (spans, missions, proofs) = past;
        let members: Vec<Member> = (0..5).map(|_| app.member()).collect();
        let refs: Vec<&Member> = members[1..].iter().collect();
        let team = app.team(&members[0], &refs).await;
        let team_id = Uuid::parse_str(&team)?;
        let today = seoul_today();
        let now = moing_common::clock::now();
        let oldest = spans.iter().map(|s| s.0).max().unwrap_or(10);
        sqlx::query("UPDATE team SET start_date = ? WHERE id = ?")
            .bind(today - Duration::days(oldest + 1))
            .bind(team_id)
            .execute(&app.moim_db.pool)
            .await?;
        let mut active = vec![true; 5];
        for (i, (joined, left)) in spans.iter().enumerate() {
            // The leader stays; others may have left, after joining.
            let left = left.filter(|l| i > 0 && *l < *joined);
            sqlx::query("UPDATE membership SET joined_at = ?, state = ?, left_at = ? WHERE team_id = ? AND member_id = ?")
                .bind((now - Duration::days(*joined)).naive_utc())
                .bind(if left.is_some() { "LEFT" } else { "ACTIVE" })
                .bind(left.map(|l| (now - Duration::days(l)).naive_utc()))
                .bind(team_id)
                .bind(members[i].id)
                .execute(&app.moim_db.pool)
                .await?;
            active[i] = left.is_none();
        }
        let mut made = Vec::new();
        for (once, n, created, ended) in missions {
            let id = Uuid::now_v7();
            let at = now - Duration::days(*created);
            let ended = ended
                .filter(|e| e < created)
                .map(|e| now - Duration::days(e));
            let deadline = once.then(|| ended.unwrap_or(now + Duration::days(5)));
            sqlx::query("INSERT INTO mission (id, team_id, title, kind, way, times_per_week, deadline, state, end_reason, ended_at, maker_id, time_zone, created_at, updated_at) VALUES (?, ?, '미션', ?, 'TEXT', ?, ?, ?, ?, ?, ?, 'Asia/Seoul', ?, ?)")
                .bind(id)
                .bind(team_id)
                .bind(if *once { "ONCE" } else { "REPEAT" })
                .bind((!once).then_some(*n))
                .bind(deadline.map(|d| d.naive_utc()))
                .bind(if ended.is_some() { "ENDED" } else { "ACTIVE" })
                .bind(ended.map(|_| "LEADER"))
                .bind(ended.map(|e| e.naive_utc()))
                .bind(members[0].id)
                .bind(at.naive_utc())
                .bind(at.naive_utc())
                .execute(&app.db.pool)
                .await?;
            made.push((id, *once, *n, at, ended));
        }
        // Past proofs the product would have taken.
        let local = |t: chrono::DateTime<chrono::Utc>| (t + Duration::hours(9)).date_naive();
        let mut taken: BTreeMap<(Uuid, Uuid, NaiveDate), u32> = BTreeMap::new();
        for (mi, who, ago, done) in proofs {
            let (mission, once, n, at, ended) = made[mi % made.len()];
            let (joined, left) = spans[*who];
            let left = left.filter(|l| *who > 0 && *l < joined);
            let day = today - Duration::days(*ago);
            let open = day >= local(at)
                && ended.is_none_or(|e| day <= local(e))
                && day >= today - Duration::days(joined)
                && left.is_none_or(|l| day <= today - Duration::days(l) - Duration::days(1));
            let member = members[*who].id;
            let week = monday(day);
            let in_week = taken
                .range((mission, member, week)..=(mission, member, week + Duration::days(6)))
                .count() as u32;
            let any = taken
                .range((mission, member, NaiveDate::MIN)..=(mission, member, NaiveDate::MAX))
                .count();
            let free = if once {
                any == 0
            } else {
                !taken.contains_key(&(mission, member, day)) && in_week < n as u32
            };
            if !open || !free || day >= today {
                continue;
            }
            taken.insert((mission, member, day), in_week);
            sqlx::query("INSERT INTO proof (id, team_id, mission_id, member_id, status, way, body_text, day, week_start, week_slot, is_once, created_at) VALUES (?, ?, ?, ?, ?, 'TEXT', '완료', ?, ?, ?, ?, ?)")
                .bind(Uuid::now_v7())
                .bind(team_id)
                .bind(mission)
                .bind(member)
                .bind(if *done { "DONE" } else { "SKIPPED" })
                .bind(day)
                .bind(week)
                .bind(if once { 0 } else { in_week as i32 })
                .bind(once)
                .bind((now - Duration::days(*ago)).naive_utc())
                .execute(&app.db.pool)
                .await?;
        }
        let mut case = Case {
            app,
            team,
            team_id,
            members,
            active,
            missions: vec![],
            leader: 0,
        };
        case.refresh().await?;
        Ok(case)
    }

    async fn refresh(&mut self) -> anyhow::Result<()> {
        let rows = sqlx::query(
            "SELECT id FROM mission WHERE team_id = ? AND state = 'ACTIVE' ORDER BY created_at",
        )
        .bind(self.team_id)
        .fetch_all(&self.app.db.pool)
        .await?;
        self.missions = rows
            .iter()
            .map(|r| {
                let id: Uuid = r.try_get("id")?;
                Ok(Mission {
                    id: id.to_string(),
                    ..Default::default()
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(())
    }

    fn who(&self, i: usize) -> Option<&Member> {
        let active: Vec<&Member> = self
            .members
            .iter()
            .zip(&self.active)
            .filter(|(_, a)| **a)
            .map(|(m, _)| m)
            .collect();
        (!active.is_empty()).then(|| active[i % active.len()])
    }

    fn mission(&self, i: usize) -> Option<String> {
        (!self.missions.is_empty()).then(|| self.missions[i % self.missions.len()].id.clone())
    }

    async fn read(&self) -> anyhow::Result<GetTeamProgressResponse> {
        let today = seoul_today();
        let date = |d: NaiveDate| moing_common::convert::date(d);
        let ask = GetTeamProgressRequest {
            team_id: self.team.clone(),
            series: vec![
                ProgressSeriesSpec {
                    granularity: ProgressGranularity::Day as i32,
                    from: Some(date(today - Duration::days(20))),
                    to: Some(date(today)),
                },
                ProgressSeriesSpec {
                    granularity: ProgressGranularity::Week as i32,
                    from: Some(date(today - Duration::days(70))),
                    to: Some(date(today)),
                },
            ],
            include_former_members: true,
            viewer_member_id: self.members[self.leader].id.to_string(),
            ..Default::default()
        };
        let mut got = self
            .app
            .internal
            .clone()
            .get_team_progress(self.app.internal_request(ask))
            .await?
            .into_inner();
        got.as_of = None;
        Ok(got)
    }

    /// Today's operations; refusals (a full week, a ONCE already met, …) are
    /// part of the game, so only their success matters here.
    async fn apply(&mut self, op: &Op) -> anyhow::Result<()> {
        let app = self.app;
        let team = self.team.clone();
        match op {
            Op::Proof(who, m) | Op::Skip(who, m) => {
                let (Some(who), Some(mission_id)) = (self.who(*who), self.mission(*m)) else {
                    return Ok(());
                };
                let _ = if matches!(op, Op::Proof(..)) {
                    app.missions
                        .clone()
                        .submit_proof(as_member(
                            who,
                            SubmitProofRequest {
                                team_id: team,
                                mission_id,
                                body: Some(Body::Text("완료".into())),
                                caption: String::new(),
                            },
                        ))
                        .await
                        .map(|_| ())
                } else {
                    app.missions
                        .clone()
                        .skip_mission(as_member(
                            who,
                            SkipMissionRequest {
                                team_id: team,
                                mission_id,
                                reason: "사정".into(),
                            },
                        ))
                        .await
                        .map(|_| ())
                };
            }
            Op::DeleteToday(i) => {
                let row = sqlx::query("SELECT id, mission_id, member_id FROM proof WHERE team_id = ? AND day = ? AND deleted_at IS NULL ORDER BY id LIMIT 1 OFFSET ?")
                    .bind(self.team_id)
                    .bind(seoul_today())
                    .bind((*i % 3) as i64)
                    .fetch_optional(&app.db.pool)
                    .await?;
                if let Some(r) = row {
                    let (id, mission, member): (Uuid, Uuid, Uuid) =
                        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                    if let Some(m) = self.members.iter().find(|m| m.id == member) {
                        let _ = app
                            .missions
                            .clone()
                            .delete_proof(as_member(
                                m,
                                DeleteProofRequest {
                                    team_id: team,
                                    mission_id: mission.to_string(),
                                    proof_id: id.to_string(),
                                },
                            ))
                            .await;
                    }
                }
            }
            Op::RemovePast(i) => {
                let rows = sqlx::query("SELECT id FROM proof WHERE team_id = ? AND day < ? AND deleted_at IS NULL AND status = 'DONE' ORDER BY id")
                    .bind(self.team_id)
                    .bind(seoul_today())
                    .fetch_all(&app.db.pool)
                    .await?;
                if rows.is_empty() {
                    return Ok(());
                }
                let id: Uuid = rows[i % rows.len()].try_get(0)?;
                // Hidden by reports (as three reports would), then removed by
                // the leader's review.
                sqlx::query("INSERT IGNORE INTO content_moderation (kind, content_id, team_id, state, hidden_at) VALUES ('PROOF', ?, ?, 'PENDING', ?)")
                    .bind(id)
                    .bind(self.team_id)
                    .bind(moing_common::clock::now().naive_utc())
                    .execute(&app.db.pool)
                    .await?;
                let _ = app
                    .missions
                    .clone()
                    .review_reported_content(as_member(
                        &self.members[self.leader],
                        ReviewReportedContentRequest {
                            team_id: team,
                            kind: ReportedContentKind::Proof as i32,
                            content_id: id.to_string(),
                            decision: ReviewDecision::Remove as i32,
                        },
                    ))
                    .await;
            }
            Op::NewTarget(m, n) => {
                if let Some(mission_id) = self.mission(*m) {
                    let _ = app
                        .missions
                        .clone()
                        .update_mission(as_member(
                            &self.members[self.leader],
                            UpdateMissionRequest {
                                team_id: team,
                                mission_id,
                                mission: Some(Mission {
                                    times_per_week: *n,
                                    ..Default::default()
                                }),
                                update_mask: Some(prost_types::FieldMask {
                                    paths: vec!["times_per_week".into()],
                                }),
                            },
                        ))
                        .await;
                }
            }
            Op::End(m) => {
                if let Some(mission_id) = self.mission(*m) {
                    let _ = app
                        .missions
                        .clone()
                        .end_mission(as_member(
                            &self.members[self.leader],
                            EndMissionRequest {
                                team_id: team,
                                mission_id,
                            },
                        ))
                        .await;
                    self.refresh().await?;
                }
            }
            Op::Create(once, n) => {
                let req = if *once {
                    TestApp::once(&team, 1)
                } else {
                    CreateMissionRequest {
                        team_id: team,
                        title: "새 미션".into(),
                        kind: 2,
                        way: 1,
                        times_per_week: *n,
                        ..Default::default()
                    }
                };
                // Refused when the team already runs 3 repeating missions.
                let _ = app.mission(&self.members[self.leader], req).await;
                self.refresh().await?;
            }
            Op::Leave(i) => {
                let i = *i % self.members.len();
                if i != self.leader && self.active[i] {
                    let left = app
                        .teams
                        .clone()
                        .leave_team(as_member(
                            &self.members[i],
                            LeaveTeamRequest { team_id: team },
                        ))
                        .await;
                    if left.is_ok() {
                        self.active[i] = false;
                    }
                }
            }
            Op::Join => {
                let m = app.member();
                let code: String = sqlx::query_scalar(
                    "SELECT code FROM invite WHERE team_id = ? ORDER BY created_at DESC LIMIT 1",
                )
                .bind(self.team_id)
                .fetch_one(&app.moim_db.pool)
                .await?;
                // Refused when the team is full.
                let joined = app
                    .teams
                    .clone()
                    .join_team(as_member(
                        &m,
                        moing_proto::moing::moim::v1::JoinTeamRequest { code },
                    ))
                    .await;
                if joined.is_ok() {
                    self.members.push(m);
                    self.active.push(true);
                }
            }
            Op::Read => {
                self.read().await?;
            }
        }
        Ok(())
    }

    /// Every kept row of the team, in key order.
    async fn kept(&self) -> anyhow::Result<Vec<String>> {
        let mut out = Vec::new();
        for (table, key, cols) in [
            ("progress_day", "day, member_id", "day, HEX(member_id)"),
            ("progress_week", "week, member_id", "week, HEX(member_id)"),
            ("progress_member", "member_id", "HEX(member_id)"),
            (
                "progress_mission",
                "mission_id, member_id",
                "HEX(mission_id), HEX(member_id)",
            ),
        ] {
            let sql = format!(
                "SELECT CONVERT(CONCAT('{table} ', CONCAT_WS('/', {cols}), ' ', done, '/', required, '/', skipped) USING utf8mb4) FROM {table} WHERE team_id = ? ORDER BY {key}"
            );
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(self.team_id)
                .fetch_all(&self.app.db.pool)
                .await?;
            out.extend(rows);
        }
        Ok(out)
    }
}

async fn run_case(app: &TestApp, past: Past, ops: Vec<Op>) -> anyhow::Result<()> {
    let mut case = Case::seed(app, &past).await?;
    for op in &ops {
        case.apply(op).await?;
    }
    let answer = case.read().await?;
    let kept = case.kept().await?;
    let sealed: Option<NaiveDate> =
        sqlx::query_scalar("SELECT sealed_until FROM progress_seal WHERE team_id = ?")
            .bind(case.team_id)
            .fetch_one(&app.db.pool)
            .await?;
    anyhow::ensure!(sealed == Some(monday(seoul_today())), "sealed to this week");
    // And reads are served from the kept rows (not recounted every time).
    let store = moing_mission::store::Store::new(
        app.db.pool.clone(),
        moing_common::outbox::Outbox::new("mission", vec![]),
    );
    let read = store
        .kept(case.team_id, monday(seoul_today()), &[], &[], &[])
        .await?;
    anyhow::ensure!(read.is_some(), "the kept rows are read");

    // The rebuild command: clear and recount from the proof rows.
    let sealed_teams =
        moing_mission::startup::rebuild_progress(app.settings.clone(), Some(case.team_id)).await?;
    anyhow::ensure!(sealed_teams == 1);
    let rebuilt = case.kept().await?;
    anyhow::ensure!(
        kept == rebuilt,
        "kept rows differ from a rebuild after {ops:?}:\nkept    {kept:#?}\nrebuilt {rebuilt:#?}"
    );
    let again = case.read().await?;
    anyhow::ensure!(
        answer == again,
        "answers differ after {ops:?}:\n{answer:#?}\n{again:#?}"
    );
    Ok(())
}

#[test]
fn kept_counts_equal_a_rebuild_after_random_operations() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let app = rt.block_on(spawn_app());
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (past(), prop::collection::vec(op(), 5..30));
    let result = runner.run(&strategy, |(past, ops)| {
        rt.block_on(run_case(&app, past, ops))
            .map_err(|e| TestCaseError::fail(format!("{e:#}")))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// UpdateMission's contract: a new weekly target applies from the current
/// week; the weeks before keep theirs, kept or recounted.
#[tokio::test]
async fn a_new_weekly_target_leaves_past_weeks_alone() -> anyhow::Result<()> {
    let app = spawn_app().await;
    let past: Past = (
        vec![(30, None); 5],
        vec![(false, 3, 20, None)],
        // Nobody proved anything: each closed week owes min(3, its days).
        vec![],
    );
    let mut case = Case::seed(&app, &past).await?;
    let before = case.read().await?;
    case.apply(&Op::NewTarget(0, 7)).await?;
    let after = case.read().await?;
    let last_week = |r: &GetTeamProgressResponse| {
        r.series[1]
            .buckets
            .iter()
            .rev()
            .nth(1)
            .and_then(|b| b.members.first())
            .and_then(|m| m.counts)
            .map(|c| c.required)
    };
    anyhow::ensure!(last_week(&before) == Some(3), "{:?}", last_week(&before));
    anyhow::ensure!(last_week(&after) == Some(3), "last week keeps 3 a week");
    moing_mission::startup::rebuild_progress(app.settings.clone(), Some(case.team_id)).await?;
    let rebuilt = case.read().await?;
    anyhow::ensure!(last_week(&rebuilt) == Some(3), "and so does a recount");
    let mission: i32 = sqlx::query_scalar("SELECT times_per_week FROM mission WHERE team_id = ?")
        .bind(case.team_id)
        .fetch_one(&app.db.pool)
        .await?;
    anyhow::ensure!(mission == 7);
    Ok(())
}
