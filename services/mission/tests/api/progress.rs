//! GetTeamProgress, the goal board's feed: totals, series, member statuses.

use chrono::Duration;
use moing_proto::{
    google::r#type::Date,
    moing::mission::v1::{
        CreateMissionRequest, GetTeamProgressRequest, ProgressGranularity, ProgressSeriesSpec,
        SkipMissionRequest, SubmitProofRequest, submit_proof_request::Body,
    },
};
use tonic::{Code, Request};

use crate::helpers::*;

fn seoul_day(offset: i64) -> Date {
    moing_testkit::seoul_date(offset).expect("date")
}

#[tokio::test]
async fn team_progress_counts_done_skips_and_pending_per_member() {
    let app = spawn_app().await;
    let leader = app.member();
    let doer = app.member();
    let skipper = app.member();
    let team = app.team(&leader, &[&doer, &skipper]).await;
    let repeat = app
        .mission(
            &leader,
            CreateMissionRequest {
                team_id: team.clone(),
                title: "매일 운동".into(),
                kind: 2,
                way: 1,
                times_per_week: 3,
                ..Default::default()
            },
        )
        .await
        .expect("repeat");
    let once = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("once");
    for (who, mission) in [(&doer, &repeat), (&doer, &once), (&leader, &repeat)] {
        app.missions
            .clone()
            .submit_proof(as_member(
                who,
                SubmitProofRequest {
                    team_id: team.clone(),
                    mission_id: mission.id.clone(),
                    body: Some(Body::Text("완료".into())),
                    caption: String::new(),
                },
            ))
            .await
            .expect("proof");
    }
    app.missions
        .clone()
        .skip_mission(as_member(
            &skipper,
            SkipMissionRequest {
                team_id: team.clone(),
                mission_id: repeat.id.clone(),
                reason: "출장".into(),
            },
        ))
        .await
        .expect("skip");

    let ask = GetTeamProgressRequest {
        team_id: team.clone(),
        series: vec![
            ProgressSeriesSpec {
                granularity: ProgressGranularity::Day as i32,
                from: Some(seoul_day(-13)),
                to: Some(seoul_day(0)),
            },
            ProgressSeriesSpec {
                granularity: ProgressGranularity::Week as i32,
                from: Some(seoul_day(-20)),
                to: Some(seoul_day(0)),
            },
        ],
        viewer_member_id: String::new(),
        ..Default::default()
    };
    let err = app
        .internal
        .clone()
        .get_team_progress(Request::new(ask.clone()))
        .await
        .expect_err("service credential");
    assert_eq!(err.code(), Code::Unauthenticated);

    let left = week_days_left();
    let got = app
        .internal
        .clone()
        .get_team_progress(app.internal_request(ask.clone()))
        .await
        .expect("progress")
        .into_inner();
    assert_eq!(got.time_zone, "Asia/Seoul");
    assert_eq!(got.members.len(), 3);
    // The doer: both missions done today; the weekly target's rest is pending
    // (an open week never lowers a rate), the ONCE mission is met.
    let totals = |m: &Member| {
        let id = m.id.to_string();
        got.members
            .iter()
            .find(|p| p.member_id == id)
            .and_then(|p| p.totals)
            .expect("member totals")
    };
    let d = totals(&doer);
    assert_eq!((d.done, d.required, d.skipped), (2, 2, 0));
    assert_eq!(d.pending, 3.min(left) - 1);
    let s = totals(&skipper);
    assert_eq!(
        (s.done, s.required, s.skipped),
        (0, 0, 1),
        "a skip is not done"
    );
    assert_eq!(s.pending, 3.min(left) + 1);
    // Series: 14 day buckets and the weeks of the last 21 days; today's day
    // bucket carries today's counts and sums with the week bucket.
    assert_eq!(got.series.len(), 2);
    assert_eq!(got.series[0].buckets.len(), 14);
    let today_bucket = got.series[0].buckets.last().expect("today");
    let week_bucket = got.series[1].buckets.last().expect("this week");
    let done_in = |b: &moing_proto::moing::mission::v1::ProgressBucket| {
        b.members
            .iter()
            .map(|m| m.counts.map(|c| c.done).unwrap_or(0))
            .sum::<i32>()
    };
    assert_eq!(done_in(today_bucket), 3);
    assert_eq!(done_in(week_bucket), 3);
    // Active missions with every member's status for the current period.
    assert_eq!(got.active_missions.len(), 2);
    let board = got
        .active_missions
        .iter()
        .find(|b| b.mission.as_ref().is_some_and(|m| m.id == repeat.id))
        .expect("repeat board");
    assert_eq!(board.members.len(), 3);
    let team_progress = board
        .mission
        .as_ref()
        .and_then(|m| m.team_progress)
        .expect("team progress");
    assert_eq!(team_progress.member_count, 3);
    assert_eq!(team_progress.done_today_member_count, 2);
    assert!(got.score.is_some_and(|s| s.points >= 30));

    // The viewer's own status and can_manage.
    let mine = app
        .internal
        .clone()
        .get_team_progress(app.internal_request(GetTeamProgressRequest {
            viewer_member_id: leader.id.to_string(),
            ..ask.clone()
        }))
        .await
        .expect("progress")
        .into_inner();
    let m = mine.active_missions[0].mission.as_ref().expect("mission");
    assert!(m.can_manage);
    assert!(m.my_progress.is_some());

    // Validation and unknown teams.
    let bad = app
        .internal
        .clone()
        .get_team_progress(app.internal_request(GetTeamProgressRequest {
            series: vec![ProgressSeriesSpec {
                granularity: 0,
                from: Some(seoul_day(0)),
                to: Some(seoul_day(-3)),
            }],
            ..ask.clone()
        }))
        .await;
    assert_invalid(bad, &["series[0].granularity", "series[0].to"]);
    let unknown = app
        .internal
        .clone()
        .get_team_progress(app.internal_request(GetTeamProgressRequest {
            team_id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        }))
        .await;
    assert_eq!(unknown.expect_err("unknown").code(), Code::NotFound);
}

#[tokio::test]
async fn the_progress_query_reads_one_covering_index_range() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, &[]).await;
    app.mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    let team_id = uuid::Uuid::parse_str(&team).expect("uuid");
    let today = moing_testkit::seoul_today();
    // Enough rows that the optimizer's choice is not a toss-up.
    for i in 0..200 {
        sqlx::query("INSERT INTO proof (id, team_id, mission_id, member_id, status, way, day, week_start, week_slot, is_once, created_at) VALUES (?, ?, ?, ?, 'DONE', 'TEXT', ?, ?, 0, 0, NOW(6))")
            .bind(uuid::Uuid::now_v7())
            .bind(if i % 2 == 0 { team_id } else { uuid::Uuid::now_v7() })
            .bind(uuid::Uuid::now_v7())
            .bind(uuid::Uuid::now_v7())
            .bind(today - Duration::days(i))
            .bind(today - Duration::days(i))
            .execute(&app.db.pool)
            .await
            .expect("seed");
    }
    // The production text itself (Store::team_rows runs TEAM_ROWS_SQL), not a copy.
    let explain = format!("EXPLAIN {}", moing_mission::store::TEAM_ROWS_SQL);
    let plan: Vec<(Option<String>, Option<String>, Option<String>)> =
        sqlx::query(sqlx::AssertSqlSafe(explain))
            .bind(team_id)
            .bind(today - Duration::days(30))
            .bind(today)
            .fetch_all(&app.db.pool)
            .await
            .map(|rows: Vec<sqlx::mysql::MySqlRow>| {
                use sqlx::Row;
                rows.iter()
                    .map(|r| {
                        (
                            r.try_get::<Option<String>, _>("type").expect("type"),
                            r.try_get::<Option<String>, _>("key").expect("key"),
                            r.try_get::<Option<String>, _>("Extra").expect("Extra"),
                        )
                    })
                    .collect()
            })
            .expect("explain");
    assert_eq!(plan.len(), 1, "{plan:?}");
    let (kind, key, extra) = &plan[0];
    assert_eq!(kind.as_deref(), Some("range"), "{plan:?}");
    assert_eq!(key.as_deref(), Some("ix_proof_progress"), "{plan:?}");
    assert!(
        extra.as_deref().is_some_and(|e| e.contains("Using index")),
        "index-only read expected: {plan:?}"
    );
}
