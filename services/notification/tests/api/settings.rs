use chrono::Timelike;
use moing_proto::{
    google::r#type::TimeOfDay,
    moing::{
        events::v1::{MemberPoked, MissionCreated, event::Payload},
        notification::v1::{
            BroadcastMembers, GetNotificationSettingsRequest, NotificationSettings,
            SendBroadcastRequest, UpdateNotificationSettingsRequest,
            send_broadcast_request::Audience,
        },
    },
};
use prost_types::FieldMask;

use crate::helpers::{Member, TestApp, as_member, assert_invalid, event, spawn_app};

fn tod(h: i32, m: i32) -> Option<TimeOfDay> {
    Some(TimeOfDay {
        hours: h,
        minutes: m,
        seconds: 0,
        nanos: 0,
    })
}

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

/// Quiet hours around the current UTC time, in UTC.
async fn quiet_now(app: &TestApp, m: &Member) {
    let now = moing_common::clock::now();
    let start = (now.hour() as i32 + 23) % 24;
    let end = (now.hour() as i32 + 2) % 24;
    app.notifications
        .clone()
        .update_notification_settings(as_member(
            m,
            UpdateNotificationSettingsRequest {
                settings: Some(NotificationSettings {
                    quiet_hours_enabled: true,
                    quiet_hours_start: tod(start, 0),
                    quiet_hours_end: tod(end, 0),
                    time_zone: "UTC".into(),
                    ..Default::default()
                }),
                update_mask: mask(&[
                    "quiet_hours_enabled",
                    "quiet_hours_start",
                    "quiet_hours_end",
                    "time_zone",
                ]),
            },
        ))
        .await
        .expect("quiet hours");
}

#[tokio::test]
async fn settings_default_then_change_by_mask() {
    let app = spawn_app().await;
    let a = app.member();
    let mut client = app.notifications.clone();
    let s = client
        .get_notification_settings(as_member(&a, GetNotificationSettingsRequest {}))
        .await
        .expect("get")
        .into_inner()
        .settings
        .expect("settings");
    assert!(s.new_content_enabled && s.comments_enabled && s.pokes_enabled && s.reminders_enabled);
    assert!(s.quiet_hours_enabled);
    assert_eq!(s.quiet_hours_start, tod(23, 0));
    assert_eq!(s.quiet_hours_end, tod(8, 0));
    assert_eq!(s.time_zone, "Asia/Seoul");
    assert!(s.updated_at.is_none());
    let s = client
        .update_notification_settings(as_member(
            &a,
            UpdateNotificationSettingsRequest {
                settings: Some(NotificationSettings {
                    pokes_enabled: false,
                    new_content_enabled: false,
                    quiet_hours_end: tod(7, 30),
                    ..Default::default()
                }),
                update_mask: mask(&["pokes_enabled", "quiet_hours_end"]),
            },
        ))
        .await
        .expect("update")
        .into_inner()
        .settings
        .expect("settings");
    assert!(!s.pokes_enabled);
    assert!(s.new_content_enabled, "not in the mask");
    assert_eq!(s.quiet_hours_end, tod(7, 30));
    assert!(s.updated_at.is_some());
    let again = client
        .get_notification_settings(as_member(&a, GetNotificationSettingsRequest {}))
        .await
        .expect("get")
        .into_inner()
        .settings
        .expect("settings");
    assert_eq!(again.quiet_hours_end, tod(7, 30));
    assert!(!again.pokes_enabled);
    // Another member still has the defaults.
    let b = app.member();
    let other = client
        .get_notification_settings(as_member(&b, GetNotificationSettingsRequest {}))
        .await
        .expect("get")
        .into_inner()
        .settings
        .expect("settings");
    assert!(other.pokes_enabled);
}

#[tokio::test]
async fn settings_updates_are_validated() {
    let app = spawn_app().await;
    let a = app.member();
    let mut client = app.notifications.clone();
    let r = client
        .update_notification_settings(as_member(
            &a,
            UpdateNotificationSettingsRequest {
                settings: Some(NotificationSettings {
                    quiet_hours_start: Some(TimeOfDay {
                        hours: 24,
                        minutes: 0,
                        seconds: 0,
                        nanos: 0,
                    }),
                    quiet_hours_end: Some(TimeOfDay {
                        hours: 7,
                        minutes: 0,
                        seconds: 30,
                        nanos: 0,
                    }),
                    time_zone: "Mars/Base".into(),
                    ..Default::default()
                }),
                update_mask: mask(&[
                    "quiet_hours_start",
                    "quiet_hours_end",
                    "time_zone",
                    "colour",
                ]),
            },
        ))
        .await;
    assert_invalid(
        r,
        &[
            "settings.quiet_hours_start",
            "settings.quiet_hours_end",
            "settings.time_zone",
            "update_mask",
        ],
    );
    let r = client
        .update_notification_settings(as_member(
            &a,
            UpdateNotificationSettingsRequest {
                settings: Some(NotificationSettings::default()),
                update_mask: None,
            },
        ))
        .await;
    assert_invalid(r, &["update_mask"]);
    let r = client
        .update_notification_settings(as_member(
            &a,
            UpdateNotificationSettingsRequest {
                settings: Some(NotificationSettings {
                    quiet_hours_end: tod(23, 0),
                    ..Default::default()
                }),
                update_mask: mask(&["quiet_hours_end"]),
            },
        ))
        .await;
    assert_invalid(r, &["settings.quiet_hours_end"]);
    let r = client
        .update_notification_settings(as_member(
            &a,
            UpdateNotificationSettingsRequest {
                settings: None,
                update_mask: mask(&["pokes_enabled"]),
            },
        ))
        .await;
    assert_invalid(r, &["settings"]);
}

#[tokio::test]
async fn quiet_hours_and_switches_stop_pushes_never_inbox_rows() {
    let app = spawn_app().await;
    let (a, quiet, off) = (app.member(), app.member(), app.member());
    let team = app.team(&a, &[&quiet, &off]).await;
    let (tq, to) = (app.device(&quiet).await, app.device(&off).await);
    quiet_now(&app, &quiet).await;
    app.notifications
        .clone()
        .update_notification_settings(as_member(
            &off,
            UpdateNotificationSettingsRequest {
                settings: Some(NotificationSettings {
                    new_content_enabled: false,
                    ..Default::default()
                }),
                update_mask: mask(&["new_content_enabled"]),
            },
        ))
        .await
        .expect("off");
    let poke = |target: &Member| {
        event(
            "mission",
            Some(team),
            Some(a.id),
            Payload::MemberPoked(MemberPoked {
                poke_id: uuid::Uuid::now_v7().to_string(),
                mission_id: uuid::Uuid::now_v7().to_string(),
                mission_title: "30페이지 읽기".into(),
                team_name: "새벽독서".into(),
                kind: 1,
                target_member_id: target.id.to_string(),
                message: String::new(),
            }),
        )
    };
    let mission = event(
        "mission",
        Some(team),
        Some(a.id),
        Payload::MissionCreated(MissionCreated {
            mission_id: uuid::Uuid::now_v7().to_string(),
            mission_title: "만보 걷기".into(),
            team_name: "새벽독서".into(),
            kind: 1,
            ..Default::default()
        }),
    );
    app.deliver(vec![poke(&quiet), poke(&off), mission]).await;
    // Quiet hours: poke and new content go to the inbox without a push.
    assert_eq!(app.inbox(&quiet).await.len(), 2);
    assert!(app.fcm.messages_to(&tq).is_empty());
    // New content switched off: the poke is pushed, the mission is not.
    assert_eq!(app.inbox(&off).await.len(), 2);
    let pushed = app.fcm.messages_to(&to);
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0].data["type"], "POKED");
    assert_eq!(pushed[0].title, "어라… 왜 이렇게 발등이 뜨겁지? 🤔");
}

#[tokio::test]
async fn held_notifications_wait_for_the_end_of_quiet_hours() {
    let app = spawn_app().await;
    let (quiet, awake) = (app.member(), app.member());
    let (tq, ta) = (app.device(&quiet).await, app.device(&awake).await);
    quiet_now(&app, &quiet).await;
    let r = app
        .internal
        .clone()
        .send_broadcast(app.internal_request(SendBroadcastRequest {
            idempotency_key: "held-1".into(),
            audience: Some(Audience::Members(BroadcastMembers {
                member_ids: vec![quiet.id.to_string(), awake.id.to_string()],
            })),
            title: "앱을 업데이트해 주세요".into(),
            body: "새 버전이 나왔어요".into(),
            path: String::new(),
        }))
        .await
        .expect("broadcast")
        .into_inner();
    assert_eq!(
        (r.recipient_count, r.push_sent_count, r.push_held_count),
        (2, 1, 1)
    );
    assert_eq!(app.fcm.messages_to(&ta).len(), 1);
    assert!(app.fcm.messages_to(&tq).is_empty());
    assert!(
        app.inbox(&quiet).await.is_empty(),
        "the held row appears once released"
    );
    assert_eq!(app.inbox(&awake).await[0].path, "/notifications");
    // When quiet hours end, the push job sends it.
    let replica = app.replica();
    let done = replica
        .dispatcher
        .round(moing_common::clock::now())
        .await
        .expect("round");
    assert_eq!(done.total(), 0, "not before the end");
    let end = moing_common::clock::now() + chrono::Duration::hours(3);
    let done = replica.dispatcher.round(end).await.expect("round");
    assert_eq!(done.sent, 1);
    assert_eq!(app.fcm.messages_to(&tq).len(), 1);
}
