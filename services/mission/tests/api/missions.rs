use moing_proto::moing::mission::v1::{
    CreateMissionRequest, EndMissionRequest, GetMissionRequest, ListMissionsRequest,
};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn missions_follow_the_team_rules() {
    let app = spawn_app().await;
    let leader = app.member();
    let member = app.member();
    let team = app.team(&leader, &[&member]).await;

    let once = app
        .mission(&member, TestApp::once(&team, 1))
        .await
        .expect("any member creates ONCE");
    assert!(once.can_manage);
    let repeat = || CreateMissionRequest {
        team_id: team.clone(),
        title: "주 3회 달리기".into(),
        kind: 2,
        way: 1,
        times_per_week: 3,
        ..Default::default()
    };
    assert_error(
        app.mission(&member, repeat()).await,
        Code::PermissionDenied,
        "REPEAT_NEEDS_LEADER",
    );
    for _ in 0..3 {
        app.mission(&leader, repeat())
            .await
            .expect("leader creates REPEAT");
    }
    assert_error(
        app.mission(&leader, repeat()).await,
        Code::FailedPrecondition,
        "REPEAT_MISSION_LIMIT",
    );

    let mut bad = TestApp::once(&team, 9);
    bad.title = "가".repeat(31);
    bad.deadline = None;
    bad.times_per_week = 2;
    assert_invalid(
        app.mission(&leader, bad).await,
        &["title", "way", "deadline", "times_per_week"],
    );

    let outsider = app.member();
    assert_error(
        app.mission(&outsider, TestApp::once(&team, 1)).await,
        Code::NotFound,
        "TEAM_NOT_FOUND",
    );
    assert_error(
        app.missions
            .clone()
            .get_mission(as_member(
                &outsider,
                GetMissionRequest {
                    team_id: team.clone(),
                    mission_id: once.id.clone(),
                },
            ))
            .await,
        Code::NotFound,
        "TEAM_NOT_FOUND",
    );

    let listed = app
        .missions
        .clone()
        .list_missions(as_member(
            &member,
            ListMissionsRequest {
                team_id: team.clone(),
                state: 1,
                ..Default::default()
            },
        ))
        .await
        .expect("list")
        .into_inner()
        .missions;
    assert_eq!(listed.len(), 4);
    assert!(listed.iter().all(|m| m.my_progress.is_some()));

    assert_error(
        app.missions
            .clone()
            .end_mission(as_member(
                &member,
                EndMissionRequest {
                    team_id: team.clone(),
                    mission_id: listed
                        .iter()
                        .find(|m| m.kind == 2)
                        .expect("repeat")
                        .id
                        .clone(),
                },
            ))
            .await,
        Code::PermissionDenied,
        "NOT_MISSION_MAKER_OR_LEADER",
    );
    let ended = app
        .missions
        .clone()
        .end_mission(as_member(
            &member,
            EndMissionRequest {
                team_id: team.clone(),
                mission_id: once.id.clone(),
            },
        ))
        .await
        .expect("maker ends")
        .into_inner()
        .mission
        .expect("m");
    assert_eq!(ended.state, 2);
    assert_error(
        app.missions
            .clone()
            .end_mission(as_member(
                &leader,
                EndMissionRequest {
                    team_id: team.clone(),
                    mission_id: once.id,
                },
            ))
            .await,
        Code::FailedPrecondition,
        "MISSION_ENDED",
    );
}

#[tokio::test]
async fn deadlines_end_once_missions_exactly_once_across_replicas() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, &[]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    sqlx::query("UPDATE mission SET deadline = ?")
        .bind((moing_common::clock::now() - chrono::Duration::minutes(1)).naive_utc())
        .execute(&app.db.pool)
        .await
        .expect("expire");
    let outbox = moing_common::outbox::Outbox::new("mission", vec![]);
    let now = moing_common::clock::now();
    let (a, b) = tokio::join!(
        moing_mission::jobs::end_due(&app.db.pool, &outbox, now, 10),
        moing_mission::jobs::end_due(&app.db.pool, &outbox, now, 10)
    );
    assert_eq!(a.expect("a") + b.expect("b"), 1, "one replica ends it");
    let ended = app
        .missions
        .clone()
        .get_mission(as_member(
            &leader,
            GetMissionRequest {
                team_id: team.clone(),
                mission_id: m.id,
            },
        ))
        .await
        .expect("get")
        .into_inner()
        .mission
        .expect("m");
    assert_eq!((ended.state, ended.end_reason), (2, 2), "ENDED by DEADLINE");
}

#[tokio::test]
async fn a_disbanded_team_ends_its_missions() {
    use moing_common::outbox::EventHandler;
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, &[]).await;
    let req = CreateMissionRequest {
        team_id: team.clone(),
        title: "매일".into(),
        kind: 2,
        way: 1,
        times_per_week: 2,
        ..Default::default()
    };
    let m = app.mission(&leader, req).await.expect("repeat");
    let handler = moing_mission::jobs::TeamEvents {
        outbox: moing_common::outbox::Outbox::new("mission", vec![]),
    };
    let event = moing_proto::moing::events::v1::Event {
        id: uuid::Uuid::now_v7().to_string(),
        producer: "moim".into(),
        team_id: team.clone(),
        payload: Some(
            moing_proto::moing::events::v1::event::Payload::TeamDisbanded(Default::default()),
        ),
        ..Default::default()
    };
    let mut conn = app.db.pool.acquire().await.expect("conn");
    handler.handle(&mut conn, &event).await.expect("handled");
    drop(conn);
    let ended = app
        .missions
        .clone()
        .get_mission(as_member(
            &leader,
            GetMissionRequest {
                team_id: team,
                mission_id: m.id,
            },
        ))
        .await;
    // The team is disbanded in this event only (moim still has it): the mission is ENDED by TEAM_ENDED.
    let ended = ended.expect("get").into_inner().mission.expect("m");
    assert_eq!((ended.state, ended.end_reason), (2, 3));
}

#[tokio::test]
async fn my_missions_span_my_teams() {
    let app = spawn_app().await;
    let me = app.member();
    let a = app.team(&me, &[]).await;
    let b = app.team(&me, &[]).await;
    app.mission(&me, TestApp::once(&a, 1)).await.expect("a");
    app.mission(&me, TestApp::once(&b, 3)).await.expect("b");
    let mine = app
        .missions
        .clone()
        .list_my_missions(as_member(
            &me,
            moing_proto::moing::mission::v1::ListMyMissionsRequest::default(),
        ))
        .await
        .expect("mine")
        .into_inner()
        .missions;
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|m| m.team_name == "미션팀"));
    let stranger = app.member();
    let none = app
        .missions
        .clone()
        .list_my_missions(as_member(
            &stranger,
            moing_proto::moing::mission::v1::ListMyMissionsRequest::default(),
        ))
        .await
        .expect("empty")
        .into_inner()
        .missions;
    assert!(none.is_empty());
}
