//! Reminders with moim and mission in process; board answers UNIMPLEMENTED
//! (it is being built), which must mean "no vote reminders this round".

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Asia::Seoul;
use moing_common::convert::{date, timestamp};
use moing_proto::{
    google::r#type::TimeOfDay,
    moing::{
        board::v1::{CastVoteRequest, CreateVoteRequest},
        events::v1::{TeamCreated, event::Payload},
        mission::v1::{CreateMissionRequest, SubmitProofRequest, submit_proof_request::Body},
        moim::v1::{MeetingSchedule, SingleMeeting, UpdateMeetingScheduleRequest},
        notification::v1::{NotificationSettings, UpdateNotificationSettingsRequest},
    },
};
use prost_types::FieldMask;

use crate::helpers::{Member, Options, TestApp, as_member, event, spawn_with};

async fn setup() -> (TestApp, uuid::Uuid, [Member; 3], [String; 3]) {
    setup_with(false).await
}

async fn setup_with(board: bool) -> (TestApp, uuid::Uuid, [Member; 3], [String; 3]) {
    let app = spawn_with(Options {
        mission: true,
        board,
        ..Options::default()
    })
    .await;
    let (a, b, c) = (app.member(), app.member(), app.member());
    let team = app.team(&a, &[&b, &c]).await;
    let tokens = [
        app.device(&a).await,
        app.device(&b).await,
        app.device(&c).await,
    ];
    // The team copy comes from moim's TeamCreated.
    app.deliver(vec![event(
        "moim",
        Some(team),
        Some(a.id),
        Payload::TeamCreated(TeamCreated {
            team_name: "새벽독서".into(),
            time_zone: "Asia/Seoul".into(),
            leader_member_id: a.id.to_string(),
            ..Default::default()
        }),
    )])
    .await;
    (app, team, [a, b, c], tokens)
}

/// A ONCE mission due at `deadline`, proven by `prover`.
async fn mission(
    app: &TestApp,
    team: uuid::Uuid,
    maker: &Member,
    deadline: DateTime<Utc>,
    prover: &Member,
) -> String {
    let mut missions = app.missions.clone().expect("mission");
    let m = missions
        .create_mission(as_member(
            maker,
            CreateMissionRequest {
                team_id: team.to_string(),
                title: "30페이지 읽기".into(),
                kind: 1,
                way: 1,
                deadline: Some(timestamp(deadline)),
                ..Default::default()
            },
        ))
        .await
        .expect("mission")
        .into_inner()
        .mission
        .expect("mission")
        .id;
    missions
        .submit_proof(as_member(
            prover,
            SubmitProofRequest {
                team_id: team.to_string(),
                mission_id: m.clone(),
                body: Some(Body::Text("다 읽었어요".into())),
                caption: String::new(),
            },
        ))
        .await
        .expect("proof");
    m
}

async fn of_type(app: &TestApp, kind: &str) -> Vec<uuid::Uuid> {
    sqlx::query_scalar("SELECT member_id FROM notification WHERE type = ? ORDER BY member_id")
        .bind(kind)
        .fetch_all(&app.db.pool)
        .await
        .expect("rows")
}

fn seoul(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    Seoul
        .with_ymd_and_hms(day.year(), day.month(), day.day(), h, m, 0)
        .single()
        .expect("time")
        .with_timezone(&Utc)
}

#[tokio::test]
async fn two_schedulers_send_the_20_oclock_reminder_exactly_once() {
    let (app, team, [a, b, c], tokens) = setup().await;
    mission(
        &app,
        team,
        &a,
        moing_common::clock::now() + Duration::days(3),
        &c,
    )
    .await;
    // The next 20:00 in Seoul, a little after.
    let today = moing_common::clock::now()
        .with_timezone(&Seoul)
        .date_naive();
    let mut at = seoul(today, 20, 0);
    if at < moing_common::clock::now() {
        at = seoul(today + Duration::days(1), 20, 0);
    }
    let now = at + Duration::seconds(30);
    let (one, two) = (app.replica().scheduler(), app.replica().scheduler());
    let (r1, r2) = tokio::join!(one.tick(now), two.tick(now));
    let (r1, r2) = (r1.expect("tick 1"), r2.expect("tick 2"));
    assert_eq!(
        r1.sent + r2.sent,
        1,
        "one occurrence, sent by one replica: {r1:?} {r2:?}"
    );
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(
        of_type(&app, "REMINDER_UNPROVEN_MISSIONS").await,
        expected,
        "c proved"
    );
    assert_eq!(app.fcm.messages_to(&tokens[0]).len(), 1);
    assert_eq!(app.fcm.messages_to(&tokens[1]).len(), 1);
    assert!(app.fcm.messages_to(&tokens[2]).is_empty());
    let m = &app.fcm.messages_to(&tokens[1])[0];
    assert_eq!(m.data["type"], "REMINDER_UNPROVEN_MISSIONS");
    assert_eq!(
        m.body,
        "[새벽독서] '30페이지 읽기' 미션 인증을 모임원들이 기다리고 있어요!"
    );
    // Later ticks of both replicas send nothing more.
    let (r1, r2) = tokio::join!(
        one.tick(now + Duration::minutes(1)),
        two.tick(now + Duration::minutes(2))
    );
    assert_eq!(r1.expect("tick").sent + r2.expect("tick").sent, 0);
    assert_eq!(app.fcm.messages().len(), 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reminder WHERE kind = 'UNPROVEN' AND state = 'DONE'")
            .await,
        1
    );
}

#[tokio::test]
async fn once_deadlines_are_reminded_24_hours_and_1_hour_before() {
    let (app, team, [a, b, c], tokens) = setup().await;
    // Fixed in the team's day: 14:00 KST, so both reminders (14:00 and 13:00)
    // fall outside quiet hours whatever the hour the suite runs at.
    let today = moing_common::clock::today_in(&Seoul);
    let deadline = seoul(today + Duration::days(2), 14, 0);
    mission(&app, team, &a, deadline, &b).await;
    let scheduler = app.replica().scheduler();
    // A tick before the window plans nothing due yet.
    scheduler
        .tick(deadline - Duration::hours(25))
        .await
        .expect("tick");
    assert!(of_type(&app, "REMINDER_MISSION_DUE_24H").await.is_empty());
    scheduler
        .tick(deadline - Duration::hours(24) + Duration::seconds(10))
        .await
        .expect("tick");
    let mut unproven = vec![a.id, c.id];
    unproven.sort();
    assert_eq!(of_type(&app, "REMINDER_MISSION_DUE_24H").await, unproven);
    scheduler
        .tick(deadline - Duration::hours(1) + Duration::seconds(10))
        .await
        .expect("tick");
    assert_eq!(of_type(&app, "REMINDER_MISSION_DUE_1H").await, unproven);
    let to_c: Vec<String> = app
        .fcm
        .messages_to(&tokens[2])
        .iter()
        .map(|m| m.data["type"].clone())
        .filter(|t| t.starts_with("REMINDER_MISSION_DUE"))
        .collect();
    assert_eq!(
        to_c,
        vec!["REMINDER_MISSION_DUE_24H", "REMINDER_MISSION_DUE_1H"]
    );
    let one_hour = app
        .fcm
        .messages_to(&tokens[0])
        .into_iter()
        .find(|m| m.data["type"] == "REMINDER_MISSION_DUE_1H")
        .expect("1h");
    assert_eq!(one_hour.title, "⏰ 마감 1시간 전! 30페이지 읽기");
    assert!(
        app.fcm
            .messages_to(&tokens[1])
            .iter()
            .all(|m| !m.data["type"].starts_with("REMINDER_MISSION_DUE"))
    );
    // Board is not deployed: vote reminders are simply not due.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM reminder WHERE kind = 'VOTE_1H'")
            .await,
        0
    );
}

#[tokio::test]
async fn meeting_days_and_the_weekly_summary_go_out_at_9() {
    let (app, team, [a, b, c], _) = setup().await;
    let today = moing_common::clock::now()
        .with_timezone(&Seoul)
        .date_naive();
    let mut monday = today + Duration::days(1);
    while monday.weekday() != Weekday::Mon {
        monday += Duration::days(1);
    }
    app.teams
        .clone()
        .update_meeting_schedule(as_member(
            &a,
            UpdateMeetingScheduleRequest {
                team_id: team.to_string(),
                meeting_schedule: Some(MeetingSchedule {
                    single_meetings: vec![SingleMeeting {
                        date: Some(date(monday)),
                        start_time: Some(TimeOfDay {
                            hours: 19,
                            minutes: 0,
                            seconds: 0,
                            nanos: 0,
                        }),
                        place: "강남역".into(),
                        memo: String::new(),
                    }],
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["single_meetings".into()],
                }),
            },
        ))
        .await
        .expect("schedule");
    let scheduler = app.replica().scheduler();
    scheduler
        .tick(seoul(monday, 9, 0) + Duration::seconds(5))
        .await
        .expect("tick");
    let mut all = vec![a.id, b.id, c.id];
    all.sort();
    assert_eq!(of_type(&app, "REMINDER_MEETING_DAY").await, all);
    assert_eq!(of_type(&app, "REMINDER_WEEKLY_SUMMARY").await, all);
    // Stored as listed once visible (the simulated morning is in the future).
    let row = |kind: &'static str| {
        let pool = app.db.pool.clone();
        let member = b.id;
        async move {
            let (title, data): (String, String) = sqlx::query_as(
                "SELECT title, data FROM notification WHERE member_id = ? AND type = ?",
            )
            .bind(member)
            .bind(kind)
            .fetch_one(&pool)
            .await
            .expect("row");
            let data: std::collections::BTreeMap<String, String> =
                serde_json::from_str(&data).expect("json");
            (title, data)
        }
    };
    let (title, data) = row("REMINDER_MEETING_DAY").await;
    assert_eq!(title, "오늘은 새벽독서 모임 날이에요 📅");
    assert_eq!(data["meeting_date"], monday.to_string());
    assert_eq!(data["meeting_time"], "19:00");
    let (_, data) = row("REMINDER_WEEKLY_SUMMARY").await;
    assert_eq!(data["week_start"], (monday - Duration::days(7)).to_string());
    assert_eq!(data["type"], "REMINDER_WEEKLY_SUMMARY");
    // A second tick the same morning sends neither again.
    scheduler.tick(seoul(monday, 9, 5)).await.expect("tick");
    assert_eq!(of_type(&app, "REMINDER_MEETING_DAY").await.len(), 3);
    assert_eq!(of_type(&app, "REMINDER_WEEKLY_SUMMARY").await.len(), 3);
}

#[tokio::test]
async fn a_closing_vote_reminds_only_those_who_have_not_voted() {
    let (app, team, [a, b, c], tokens) = setup_with(true).await;
    // Tomorrow 15:00 KST: the 1-hour reminder (14:00) is outside quiet hours.
    let closes = seoul(
        moing_common::clock::today_in(&Seoul) + Duration::days(1),
        15,
        0,
    );
    let mut votes = app.votes.clone().expect("board");
    let vote = votes
        .create_vote(as_member(
            &a,
            CreateVoteRequest {
                team_id: team.to_string(),
                title: "다음 모임 장소".into(),
                memo: String::new(),
                options: vec!["강남".into(), "홍대".into()],
                multiple_choice: false,
                anonymous: true,
                closes_at: Some(timestamp(closes)),
            },
        ))
        .await
        .expect("vote")
        .into_inner()
        .vote
        .expect("vote");
    votes
        .cast_vote(as_member(
            &b,
            CastVoteRequest {
                team_id: team.to_string(),
                vote_id: vote.vote_id.clone(),
                option_ids: vec![vote.options[0].option_id.clone()],
            },
        ))
        .await
        .expect("cast");
    let scheduler = app.replica().scheduler();
    scheduler
        .tick(closes - Duration::hours(1) + Duration::seconds(10))
        .await
        .expect("tick");
    let mut expected = vec![a.id, c.id];
    expected.sort();
    assert_eq!(
        of_type(&app, "REMINDER_VOTE_CLOSING").await,
        expected,
        "b voted"
    );
    let m = app
        .fcm
        .messages_to(&tokens[2])
        .into_iter()
        .find(|m| m.data["type"] == "REMINDER_VOTE_CLOSING")
        .expect("pushed");
    assert_eq!(
        m.body,
        "[새벽독서] '다음 모임 장소' 투표에 아직 참여하지 않았어요"
    );
    assert_eq!(m.data["vote_id"], vote.vote_id);
    assert!(
        app.fcm
            .messages_to(&tokens[1])
            .iter()
            .all(|m| m.data["type"] != "REMINDER_VOTE_CLOSING")
    );
    scheduler
        .tick(closes - Duration::hours(1) + Duration::minutes(1))
        .await
        .expect("tick");
    assert_eq!(
        of_type(&app, "REMINDER_VOTE_CLOSING").await.len(),
        2,
        "once"
    );
}

#[tokio::test]
async fn a_held_reminder_is_not_pushed_once_reminders_are_switched_off() {
    let (app, team, [a, b, c], tokens) = setup().await;
    mission(
        &app,
        team,
        &a,
        moing_common::clock::now() + Duration::days(3),
        &c,
    )
    .await;
    // The next 20:00 in Seoul.
    let mut day = moing_common::clock::today_in(&Seoul);
    if seoul(day, 20, 0) < moing_common::clock::now() {
        day += Duration::days(1);
    }
    let settings = |s: NotificationSettings, paths: &[&str]| {
        let mut client = app.notifications.clone();
        let req = as_member(
            &b,
            UpdateNotificationSettingsRequest {
                settings: Some(s),
                update_mask: Some(FieldMask {
                    paths: paths.iter().map(|p| p.to_string()).collect(),
                }),
            },
        );
        async move {
            client
                .update_notification_settings(req)
                .await
                .expect("settings")
        }
    };
    // b's quiet hours cover 20:00: the reminder is held until 21:00.
    let hour = |h| {
        Some(TimeOfDay {
            hours: h,
            ..Default::default()
        })
    };
    settings(
        NotificationSettings {
            quiet_hours_enabled: true,
            quiet_hours_start: hour(19),
            quiet_hours_end: hour(21),
            time_zone: "Asia/Seoul".into(),
            ..Default::default()
        },
        &[
            "quiet_hours_enabled",
            "quiet_hours_start",
            "quiet_hours_end",
            "time_zone",
        ],
    )
    .await;
    let tick = app
        .replica()
        .scheduler()
        .tick(seoul(day, 20, 0) + Duration::seconds(30))
        .await
        .expect("tick");
    assert_eq!(tick.recipients, 2, "a and b have not proved");
    assert_eq!(app.fcm.messages_to(&tokens[0]).len(), 1);
    assert!(app.fcm.messages_to(&tokens[1]).is_empty(), "held");
    // Before quiet hours end, b switches reminders off.
    settings(
        NotificationSettings {
            reminders_enabled: false,
            ..Default::default()
        },
        &["reminders_enabled"],
    )
    .await;
    let end = seoul(day, 21, 0);
    let released = app
        .replica()
        .dispatcher
        .round(end + Duration::seconds(1))
        .await
        .expect("round");
    assert_eq!((released.sent, released.cancelled), (0, 1));
    assert!(app.fcm.messages_to(&tokens[1]).is_empty(), "switched off");
    // The inbox row is kept: it appears when quiet hours end, without a push.
    let held: Vec<(chrono::NaiveDateTime, String)> = sqlx::query_as(
        "SELECT n.visible_at, p.state FROM notification n JOIN push p ON p.notification_id = n.id \
         WHERE n.member_id = ? AND n.type = 'REMINDER_UNPROVEN_MISSIONS'",
    )
    .bind(b.id)
    .fetch_all(&app.db.pool)
    .await
    .expect("rows");
    assert_eq!(held, [(end.naive_utc(), "CANCELLED".to_owned())]);
}
