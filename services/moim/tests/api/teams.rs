use moing_proto::moing::moim::v1::{
    DisbandTeamRequest, GetMeetingScheduleRequest, GetTeamRequest, LeaveTeamRequest,
    ListMyTeamsRequest, ListTeamMembersRequest, MeetingSchedule, RemoveTeamMemberRequest, TeamRole,
    TeamStatus, TransferLeadershipRequest, UpdateMeetingScheduleRequest, UpdateTeamRequest,
    WeeklyMeetingSlot,
};
use prost_types::FieldMask;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn bad_team_input_is_rejected_with_fields_and_writes_nothing() {
    let app = spawn_app().await;
    let leader = app.member();
    let mut bad = TestApp::team_request("");
    bad.category = 42;
    bad.introduction = "가".repeat(301);
    bad.start_date = date(5);
    bad.end_date = date(1);
    bad.time_zone = "Mars/Olympus".into();
    assert_invalid(
        app.client
            .clone()
            .create_team(as_member(&leader, bad))
            .await,
        &["name", "category", "introduction", "end_date", "time_zone"],
    );
    let mut too_long = TestApp::team_request("ok");
    too_long.end_date = date(400);
    assert_invalid(
        app.client
            .clone()
            .create_team(as_member(&leader, too_long))
            .await,
        &["end_date"],
    );
    let mut past = TestApp::team_request("ok");
    past.start_date = date(-1);
    assert_invalid(
        app.client
            .clone()
            .create_team(as_member(&leader, past))
            .await,
        &["start_date"],
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM team").await, 0);
}

#[tokio::test]
async fn members_see_their_team_and_outsiders_learn_nothing() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "독서모임").await;
    assert_eq!(team.my_role, TeamRole::Leader as i32);
    assert_eq!(team.member_count, 1);
    assert_eq!(team.time_zone, "Asia/Seoul");
    assert_eq!(team.days_left, 30);

    let outsider = app.member();
    assert_error(
        app.client
            .clone()
            .get_team(as_member(
                &outsider,
                GetTeamRequest {
                    team_id: team.team_id.clone(),
                },
            ))
            .await,
        Code::NotFound,
        "TEAM_NOT_FOUND",
    );
    let code = app.invite(&leader, &team, 0).await;
    let member = app.member();
    app.join(&member, &code).await.expect("join");
    let update = UpdateTeamRequest {
        team_id: team.team_id.clone(),
        team: Some(moing_proto::moing::moim::v1::Team {
            name: "바뀐이름".into(),
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["name".into()],
        }),
    };
    assert_error(
        app.client
            .clone()
            .update_team(as_member(&member, update.clone()))
            .await,
        Code::PermissionDenied,
        "NOT_TEAM_LEADER",
    );
    let updated = app
        .client
        .clone()
        .update_team(as_member(&leader, update))
        .await
        .expect("leader updates")
        .into_inner()
        .team
        .expect("team");
    assert_eq!(updated.name, "바뀐이름");

    let members = app
        .client
        .clone()
        .list_team_members(as_member(
            &member,
            ListTeamMembersRequest {
                team_id: team.team_id.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("members")
        .into_inner()
        .members;
    assert_eq!(members.len(), 2);

    // The leader removes the member, who loses access at once.
    app.client
        .clone()
        .remove_team_member(as_member(
            &leader,
            RemoveTeamMemberRequest {
                team_id: team.team_id.clone(),
                member_id: member.id.to_string(),
            },
        ))
        .await
        .expect("remove");
    assert_error(
        app.client
            .clone()
            .get_team(as_member(
                &member,
                GetTeamRequest {
                    team_id: team.team_id.clone(),
                },
            ))
            .await,
        Code::NotFound,
        "TEAM_NOT_FOUND",
    );
}

#[tokio::test]
async fn leader_hands_over_before_leaving_and_disband_has_a_grace_period() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "러닝크루").await;
    let code = app.invite(&leader, &team, 0).await;
    let member = app.member();
    app.join(&member, &code).await.expect("join");
    let leave = |m: &Member| {
        let mut c = app.client.clone();
        let req = as_member(
            m,
            LeaveTeamRequest {
                team_id: team.team_id.clone(),
            },
        );
        async move { c.leave_team(req).await }
    };
    assert_error(
        leave(&leader).await,
        Code::FailedPrecondition,
        "LEADER_MUST_HAND_OVER",
    );
    app.client
        .clone()
        .transfer_leadership(as_member(
            &leader,
            TransferLeadershipRequest {
                team_id: team.team_id.clone(),
                new_leader_member_id: member.id.to_string(),
            },
        ))
        .await
        .expect("transfer");
    leave(&leader).await.expect("former leader leaves");

    let disbanded = app
        .client
        .clone()
        .disband_team(as_member(
            &member,
            DisbandTeamRequest {
                team_id: team.team_id.clone(),
            },
        ))
        .await
        .expect("disband")
        .into_inner()
        .team
        .expect("team");
    assert_eq!(disbanded.status, TeamStatus::Disbanded as i32);
    let update = UpdateTeamRequest {
        team_id: team.team_id.clone(),
        team: Some(moing_proto::moing::moim::v1::Team {
            name: "x".into(),
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["name".into()],
        }),
    };
    assert_error(
        app.client
            .clone()
            .update_team(as_member(&member, update))
            .await,
        Code::FailedPrecondition,
        "TEAM_READ_ONLY",
    );
    app.client
        .clone()
        .get_team(as_member(
            &member,
            GetTeamRequest {
                team_id: team.team_id.clone(),
            },
        ))
        .await
        .expect("readable in grace");

    sqlx::query("UPDATE team SET disbanded_at = disbanded_at - INTERVAL 4 DAY")
        .execute(&app.db.pool)
        .await
        .expect("age");
    assert_error(
        app.client
            .clone()
            .get_team(as_member(
                &member,
                GetTeamRequest {
                    team_id: team.team_id.clone(),
                },
            ))
            .await,
        Code::NotFound,
        "TEAM_NOT_FOUND",
    );
    let mine = app
        .client
        .clone()
        .list_my_teams(as_member(&member, ListMyTeamsRequest::default()))
        .await
        .expect("list")
        .into_inner();
    assert!(mine.teams.is_empty(), "gone from every list");
}

#[tokio::test]
async fn three_active_teams_at_most() {
    let app = spawn_app().await;
    let me = app.member();
    for i in 0..3 {
        app.team(&me, &format!("팀{i}")).await;
    }
    assert_error(
        app.client
            .clone()
            .create_team(as_member(&me, TestApp::team_request("넷째")))
            .await,
        Code::FailedPrecondition,
        "TEAM_LIMIT_REACHED",
    );
    let other = app.member();
    let team = app.team(&other, "초대").await;
    let code = app.invite(&other, &team, 0).await;
    assert_error(
        app.join(&me, &code).await,
        Code::FailedPrecondition,
        "TEAM_LIMIT_REACHED",
    );
    let mine = app
        .client
        .clone()
        .list_my_teams(as_member(&me, ListMyTeamsRequest::default()))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(
        (
            mine.teams.len(),
            mine.active_team_count,
            mine.active_team_limit
        ),
        (3, 3, 3)
    );
}

#[tokio::test]
async fn meeting_schedule_drives_the_next_meeting() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "스터디").await;
    let slots: Vec<WeeklyMeetingSlot> = (1..=7)
        .map(|d| WeeklyMeetingSlot {
            day_of_week: d,
            start_time: Some(moing_proto::google::r#type::TimeOfDay {
                hours: 23,
                minutes: 59,
                seconds: 0,
                nanos: 0,
            }),
            place: "온라인".into(),
            memo: String::new(),
        })
        .collect();
    let updated = app
        .client
        .clone()
        .update_meeting_schedule(as_member(
            &leader,
            UpdateMeetingScheduleRequest {
                team_id: team.team_id.clone(),
                meeting_schedule: Some(MeetingSchedule {
                    weekly_slots: slots,
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["weekly_slots".into()],
                }),
            },
        ))
        .await
        .expect("schedule")
        .into_inner();
    assert_eq!(
        updated
            .meeting_schedule
            .expect("schedule")
            .weekly_slots
            .len(),
        7
    );
    assert!(!updated.upcoming_meetings.is_empty());
    let team_view = app
        .client
        .clone()
        .get_team(as_member(
            &leader,
            GetTeamRequest {
                team_id: team.team_id.clone(),
            },
        ))
        .await
        .expect("team")
        .into_inner()
        .team
        .expect("team");
    assert!(
        team_view.next_meeting.is_some(),
        "a daily slot gives a next meeting"
    );
    let bad = UpdateMeetingScheduleRequest {
        team_id: team.team_id.clone(),
        meeting_schedule: Some(MeetingSchedule {
            weekly_slots: vec![WeeklyMeetingSlot {
                day_of_week: 9,
                start_time: None,
                place: String::new(),
                memo: String::new(),
            }],
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["weekly_slots".into()],
        }),
    };
    assert_invalid(
        app.client
            .clone()
            .update_meeting_schedule(as_member(&leader, bad))
            .await,
        &[
            "meeting_schedule.weekly_slots[0].day_of_week",
            "meeting_schedule.weekly_slots[0].start_time",
        ],
    );
    let schedule = app
        .client
        .clone()
        .get_meeting_schedule(as_member(
            &leader,
            GetMeetingScheduleRequest {
                team_id: team.team_id,
            },
        ))
        .await
        .expect("get")
        .into_inner();
    assert_eq!(
        schedule.meeting_schedule.expect("s").weekly_slots.len(),
        7,
        "failed update wrote nothing"
    );
}

#[tokio::test]
async fn finished_teams_are_announced_once_even_with_two_replicas() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "끝난팀").await;
    let clock_now = moing_common::clock::now();
    sqlx::query("UPDATE team SET end_date = ?, finishes_at = ?")
        .bind(clock_now.date_naive() - chrono::Duration::days(2))
        .bind((clock_now - chrono::Duration::days(1)).naive_utc())
        .execute(&app.db.pool)
        .await
        .expect("age the team");
    let store = moing_moim::store::Store::new(
        app.db.pool.clone(),
        moing_common::outbox::Outbox::new("moim", vec![]),
    );
    let now = moing_common::clock::now();
    let (a, b) = tokio::join!(
        store.announce_finished(now, 10),
        store.announce_finished(now, 10)
    );
    assert_eq!(a.expect("a") + b.expect("b"), 1, "one replica announces it");
    assert_eq!(store.announce_finished(now, 10).await.expect("again"), 0);
    let view = app
        .client
        .clone()
        .get_team(as_member(
            &leader,
            GetTeamRequest {
                team_id: team.team_id.clone(),
            },
        ))
        .await
        .expect("readable")
        .into_inner()
        .team
        .expect("team");
    assert_eq!(view.status, TeamStatus::Finished as i32);
    let update = UpdateTeamRequest {
        team_id: team.team_id,
        team: Some(moing_proto::moing::moim::v1::Team {
            name: "x".into(),
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["name".into()],
        }),
    };
    assert_error(
        app.client
            .clone()
            .update_team(as_member(&leader, update))
            .await,
        Code::FailedPrecondition,
        "TEAM_READ_ONLY",
    );
}

#[tokio::test]
async fn out_of_range_dates_and_enums_are_invalid_arguments() {
    let app = spawn_app().await;
    let leader = app.member();
    let create = |req: moing_proto::moing::moim::v1::CreateTeamRequest| {
        let mut c = app.client.clone();
        let req = as_member(&leader, req);
        async move { c.create_team(req).await }
    };
    let day = |year| moing_proto::google::r#type::Date {
        year,
        month: 1,
        day: 1,
    };
    let mut far = TestApp::team_request("만년팀");
    far.start_date = Some(day(10000));
    far.end_date = Some(moing_proto::google::r#type::Date {
        year: 10000,
        month: 6,
        day: 1,
    });
    assert_invalid(create(far).await, &["start_date", "end_date"]);
    let mut ancient = TestApp::team_request("고대팀");
    ancient.start_date = Some(day(1));
    ancient.end_date = Some(day(1));
    assert_invalid(create(ancient).await, &["start_date", "end_date"]);
    for category in [i32::MIN, 0, 99, i32::MAX] {
        let mut bad = TestApp::team_request("분류");
        bad.category = category;
        assert_invalid(create(bad).await, &["category"]);
    }
}
