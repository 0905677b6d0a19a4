use chrono::Duration;
use moing_common::convert::timestamp;
use moing_proto::moing::{
    events::v1::{
        HeartAdded, LeaderChanged, MemberJoined, MemberPoked, MissionCreated, PostCreated,
        ProofCommentCreated, ProofSubmitted, StickerAdded, TeamDisbanded, event::Payload,
    },
    mission::v1::{
        AddHeartRequest, CreateMissionRequest, SubmitProofRequest, submit_proof_request::Body,
    },
    moim::v1::BlockMemberRequest,
    notification::v1::{NotificationSettings, UpdateNotificationSettingsRequest},
};
use prost_types::FieldMask;

use crate::helpers::{Member, Options, TestApp, as_member, event, spawn_app, spawn_with};

fn proof(team_name: &str) -> Payload {
    Payload::ProofSubmitted(ProofSubmitted {
        proof_id: uuid::Uuid::now_v7().to_string(),
        mission_id: uuid::Uuid::now_v7().to_string(),
        mission_title: "30페이지 읽기".into(),
        team_name: team_name.into(),
        kind: 1,
        ..Default::default()
    })
}

async fn crew(app: &TestApp, n: usize) -> (uuid::Uuid, Vec<Member>, Vec<String>) {
    let members: Vec<Member> = (0..n).map(|_| app.member()).collect();
    let others: Vec<&Member> = members[1..].iter().collect();
    let team = app.team(&members[0], &others).await;
    let mut tokens = Vec::new();
    for m in &members {
        tokens.push(app.device(m).await);
    }
    (team, members, tokens)
}

#[tokio::test]
async fn a_20_member_team_is_notified_in_one_delivery_except_actor_and_blockers() {
    let app = spawn_app().await;
    let (team, members, tokens) = crew(&app, 20).await;
    let actor = &members[3];
    // Member 7 blocked the actor: no notification for them.
    app.teams
        .clone()
        .block_member(as_member(
            &members[7],
            BlockMemberRequest {
                member_id: actor.id.to_string(),
            },
        ))
        .await
        .expect("block");
    let e = event("mission", Some(team), Some(actor.id), proof("새벽독서"));
    let r = app.deliver(vec![e]).await;
    assert_eq!(r.applied, 1);
    // Inbox rows and pushes are complete when the delivery answers.
    assert_eq!(app.count("SELECT COUNT(*) FROM notification").await, 18);
    let messages = app.fcm.messages();
    assert_eq!(messages.len(), 18);
    assert!(
        app.fcm.messages_to(&tokens[3]).is_empty(),
        "never the actor"
    );
    assert!(
        app.fcm.messages_to(&tokens[7]).is_empty(),
        "never a blocker"
    );
    let m = &app.fcm.messages_to(&tokens[0])[0];
    assert_eq!(m.title, "팀원이 미션을 인증했어요! 📸");
    assert_eq!(m.body, "[새벽독서] 30페이지 읽기");
    assert_eq!(m.data["type"], "PROOF_SUBMITTED");
    assert_eq!(m.data["team_id"], team.to_string());
    assert!(m.data["path"].starts_with(&format!("/teams/{team}/missions/")));
    assert!(m.data.contains_key("proof_id") && m.data.contains_key("mission_id"));
    assert_eq!(
        m.message["android"]["notification"]["title"],
        m.title.as_str()
    );
    assert_eq!(
        m.message["apns"]["payload"]["aps"]["alert"]["body"],
        m.body.as_str()
    );
    let inbox = app.inbox(&members[0]).await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(m.data["notification_id"], inbox[0].notification_id);
    // The collapse identity is the notification's, on Android and APNs alike.
    let id = inbox[0].notification_id.as_str();
    assert_eq!(m.message["android"]["notification"]["tag"], id);
    assert_eq!(m.message["apns"]["headers"]["apns-collapse-id"], id);
    assert_eq!(inbox[0].actor_member_id, actor.id.to_string());
    assert_eq!(inbox[0].r#type, 2);
    assert_eq!(inbox[0].category, 1);
    assert!(app.inbox(actor).await.is_empty());
    assert!(app.inbox(&members[7]).await.is_empty());
}

#[tokio::test]
async fn an_event_delivered_twice_gives_one_inbox_row_and_one_push() {
    let app = spawn_app().await;
    let (team, members, tokens) = crew(&app, 3).await;
    let e = event(
        "mission",
        Some(team),
        Some(members[0].id),
        Payload::MissionCreated(MissionCreated {
            mission_id: uuid::Uuid::now_v7().to_string(),
            mission_title: "매일 만보 걷기".into(),
            team_name: "새벽독서".into(),
            kind: 2,
            ..Default::default()
        }),
    );
    let first = app.deliver(vec![e.clone()]).await;
    let second = app.deliver(vec![e.clone(), e]).await;
    assert_eq!((first.applied, first.duplicates), (1, 0));
    assert_eq!((second.applied, second.duplicates), (0, 2));
    assert_eq!(app.count("SELECT COUNT(*) FROM notification").await, 2);
    assert_eq!(app.fcm.messages_to(&tokens[1]).len(), 1);
    assert_eq!(app.fcm.messages_to(&tokens[2]).len(), 1);
    assert_eq!(app.fcm.messages().len(), 2);
    assert_eq!(
        app.inbox(&members[1]).await[0].title,
        "새벽독서에 새로운 미션이 등장했어요! 🔥"
    );
}

#[tokio::test]
async fn personal_events_reach_only_their_target() {
    let app = spawn_app().await;
    let (team, members, tokens) = crew(&app, 4).await;
    let (a, b) = (&members[1], &members[2]);
    let ids = || uuid::Uuid::now_v7().to_string();
    let events = vec![
        event(
            "mission",
            Some(team),
            Some(a.id),
            Payload::MemberPoked(MemberPoked {
                poke_id: ids(),
                mission_id: ids(),
                mission_title: "30페이지 읽기".into(),
                team_name: "새벽독서".into(),
                kind: 1,
                target_member_id: b.id.to_string(),
                message: "얼른 인증해!".into(),
            }),
        ),
        event(
            "mission",
            Some(team),
            Some(a.id),
            Payload::ProofCommentCreated(ProofCommentCreated {
                comment_id: ids(),
                proof_id: ids(),
                mission_id: ids(),
                mission_title: "30페이지 읽기".into(),
                team_name: "새벽독서".into(),
                kind: 1,
                proof_author_member_id: b.id.to_string(),
                content: "멋져요".into(),
            }),
        ),
        event(
            "mission",
            Some(team),
            Some(a.id),
            Payload::HeartAdded(HeartAdded {
                proof_id: ids(),
                mission_id: ids(),
                mission_title: "30페이지 읽기".into(),
                team_name: "새벽독서".into(),
                kind: 1,
                proof_author_member_id: b.id.to_string(),
            }),
        ),
        event(
            "mission",
            Some(team),
            Some(a.id),
            Payload::StickerAdded(StickerAdded {
                proof_id: ids(),
                mission_id: ids(),
                mission_title: "30페이지 읽기".into(),
                team_name: "새벽독서".into(),
                kind: 1,
                proof_author_member_id: b.id.to_string(),
                sticker: 2,
            }),
        ),
        // A comment on one's own proof notifies nobody.
        event(
            "mission",
            Some(team),
            Some(a.id),
            Payload::ProofCommentCreated(ProofCommentCreated {
                comment_id: ids(),
                proof_id: ids(),
                mission_id: ids(),
                proof_author_member_id: a.id.to_string(),
                content: "셀프".into(),
                ..Default::default()
            }),
        ),
        // An ordinary post is not a notice.
        event(
            "board",
            Some(team),
            Some(a.id),
            Payload::PostCreated(PostCreated {
                post_id: ids(),
                team_name: "새벽독서".into(),
                post_title: "잡담".into(),
                is_notice: false,
            }),
        ),
    ];
    let r = app.deliver(events).await;
    assert_eq!(r.applied, 6);
    let inbox = app.inbox(b).await;
    let types: Vec<i32> = inbox.iter().rev().map(|n| n.r#type).collect();
    assert_eq!(types, vec![9, 5, 7, 8]);
    assert_eq!(inbox[3].title, "팀원이 불을 던졌어요! 🔥");
    assert_eq!(inbox[3].body, "얼른 인증해!");
    assert_eq!(inbox[0].data["sticker"], "FIRE");
    assert_eq!(app.fcm.messages_to(&tokens[2]).len(), 4);
    assert_eq!(app.count("SELECT COUNT(*) FROM notification").await, 4);
}

#[tokio::test]
async fn team_changes_notify_the_team() {
    let app = spawn_app().await;
    let (team, members, _) = crew(&app, 3).await;
    let (leader, a, b) = (&members[0], &members[1], &members[2]);
    app.deliver(vec![
        event(
            "moim",
            Some(team),
            Some(b.id),
            Payload::MemberJoined(MemberJoined {
                member_id: b.id.to_string(),
                team_name: "새벽독서".into(),
                member_count: 3,
                ..Default::default()
            }),
        ),
        event(
            "moim",
            Some(team),
            Some(leader.id),
            Payload::LeaderChanged(LeaderChanged {
                previous_leader_member_id: leader.id.to_string(),
                new_leader_member_id: a.id.to_string(),
                team_name: "새벽독서".into(),
            }),
        ),
    ])
    .await;
    let a_inbox = app.inbox(a).await;
    assert_eq!(a_inbox.len(), 2);
    assert_eq!(a_inbox[0].title, "새벽독서의 새 리더가 되었어요 👑");
    assert_eq!(a_inbox[1].title, "새벽독서에 새 멤버가 들어왔어요! 👋");
    let b_inbox = app.inbox(b).await;
    assert_eq!(b_inbox.len(), 1, "the newcomer is the actor of the join");
    assert_eq!(b_inbox[0].title, "새벽독서의 리더가 바뀌었어요");
    assert_eq!(b_inbox[0].data["new_leader_member_id"], a.id.to_string());
    assert_eq!(app.inbox(leader).await.len(), 1, "join only");

    // Disbanding: the event's member list, since the team may be gone.
    app.deliver(vec![event(
        "moim",
        Some(team),
        Some(a.id),
        Payload::TeamDisbanded(TeamDisbanded {
            team_name: "새벽독서".into(),
            member_ids: members.iter().map(|m| m.id.to_string()).collect(),
            grace_ends_at: None,
            last_member_left: false,
        }),
    )])
    .await;
    assert_eq!(app.inbox(b).await[0].title, "새벽독서 모임이 해산되었어요");
    assert_eq!(app.inbox(a).await.len(), 2, "not the one who disbanded");
}

#[tokio::test]
async fn a_cached_roster_is_dropped_when_moims_events_say_it_changed() {
    let app = spawn_with(Options {
        moim_events: true,
        roster_cache: true,
        ..Options::default()
    })
    .await;
    let (a, b, c) = (app.member(), app.member(), app.member());
    let (team, code) = moing_testkit::create_team(&app.teams, &a.token, "새벽독서").await;
    let team = uuid::Uuid::parse_str(&team).expect("team id");
    moing_testkit::join_team(&app.teams, &b.token, &code).await;
    let joins = |n: usize| {
        let app = &app;
        let a = &a;
        async move {
            for _ in 0..100 {
                if app.inbox(a).await.len() >= n {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("moim's MemberJoined did not reach notification");
        }
    };
    joins(1).await;
    // The roster is now cached (a, b): a's proof reaches b.
    app.deliver(vec![event(
        "mission",
        Some(team),
        Some(a.id),
        proof("새벽독서"),
    )])
    .await;
    assert_eq!(app.inbox(&b).await.len(), 1);
    // c joins; moim's event drops the cached roster, so the next event
    // reaches c although the cache would have lasted a minute.
    moing_testkit::join_team(&app.teams, &c.token, &code).await;
    joins(2).await;
    app.deliver(vec![event(
        "mission",
        Some(team),
        Some(a.id),
        proof("새벽독서"),
    )])
    .await;
    assert_eq!(app.inbox(&c).await.len(), 1, "the newcomer hears of it");
    assert_eq!(app.inbox(&b).await.len(), 3, "two proofs and c's join");
}

#[tokio::test]
async fn moims_outbox_relay_feeds_notification_end_to_end() {
    let app = spawn_with(Options {
        moim_events: true,
        ..Options::default()
    })
    .await;
    let (a, b) = (app.member(), app.member());
    let token = app.device(&a).await;
    let team = app.team(&a, &[&b]).await;
    // The relay delivers asynchronously: wait for its effect, bounded.
    let mut inbox = vec![];
    for _ in 0..100 {
        inbox = app.inbox(&a).await;
        if !inbox.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(inbox.len(), 1, "the leader hears of the join");
    assert_eq!(inbox[0].r#type, 10);
    assert_eq!(inbox[0].team_id, team.to_string());
    assert_eq!(inbox[0].team_name, "새벽독서");
    // The push goes out just after the inbox row: wait for it too, bounded.
    assert_eq!(app.pushes_to(&token, 1).await.len(), 1);
    assert!(app.inbox(&b).await.is_empty(), "not the newcomer");
    // TeamCreated filled the team copy the reminders plan from.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM team WHERE active = TRUE")
            .await,
        1
    );
}

#[tokio::test]
async fn missions_own_events_carry_the_team_name_into_push_texts() {
    let app = spawn_with(Options {
        mission: true,
        mission_events: true,
        ..Options::default()
    })
    .await;
    let (a, b) = (app.member(), app.member());
    let team = app.team(&a, &[&b]).await;
    let (ta, tb) = (app.device(&a).await, app.device(&b).await);
    // Pushed whatever the hour the suite runs at.
    for m in [&a, &b] {
        app.notifications
            .clone()
            .update_notification_settings(as_member(
                m,
                UpdateNotificationSettingsRequest {
                    settings: Some(NotificationSettings::default()),
                    update_mask: Some(FieldMask {
                        paths: vec!["quiet_hours_enabled".into()],
                    }),
                },
            ))
            .await
            .expect("quiet hours off");
    }
    let mut missions = app.missions.clone().expect("mission");
    let mission = missions
        .create_mission(as_member(
            &a,
            CreateMissionRequest {
                team_id: team.to_string(),
                title: "30페이지 읽기".into(),
                kind: 1,
                way: 1,
                deadline: Some(timestamp(moing_common::clock::now() + Duration::days(3))),
                ..Default::default()
            },
        ))
        .await
        .expect("mission")
        .into_inner()
        .mission
        .expect("mission")
        .id;
    let proof = missions
        .submit_proof(as_member(
            &b,
            SubmitProofRequest {
                team_id: team.to_string(),
                mission_id: mission.clone(),
                body: Some(Body::Text("다 읽었어요".into())),
                caption: String::new(),
            },
        ))
        .await
        .expect("proof")
        .into_inner()
        .proof
        .expect("proof")
        .id;
    missions
        .add_heart(as_member(
            &a,
            AddHeartRequest {
                team_id: team.to_string(),
                mission_id: mission,
                proof_id: proof,
            },
        ))
        .await
        .expect("heart");
    // mission's outbox relay delivers the events; notification renders them.
    let to_a = app.pushes_to(&ta, 1).await;
    assert_eq!(to_a.len(), 1, "b's proof");
    assert_eq!(to_a[0].data["type"], "PROOF_SUBMITTED");
    assert_eq!(to_a[0].body, "[새벽독서] 30페이지 읽기");
    let to_b = app.pushes_to(&tb, 2).await;
    let texts = |kind: &str| {
        to_b.iter()
            .filter(|m| m.data["type"] == kind)
            .map(|m| (m.title.as_str(), m.body.as_str()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        texts("MISSION_CREATED"),
        [("새벽독서에 새로운 미션이 등장했어요! 🔥", "30페이지 읽기")]
    );
    assert_eq!(
        texts("PROOF_HEARTED"),
        [(
            "팀원이 내 인증에 하트를 보냈어요 ❤️",
            "[새벽독서] 30페이지 읽기"
        )]
    );
}
