use std::time::Duration;

use moing_proto::moing::notification::v1::{
    BroadcastMembers, BroadcastTeams, GetDeliveryStatsRequest, SendBroadcastRequest,
    send_broadcast_request::Audience,
};
use tonic::Code;

use crate::helpers::{Member, assert_invalid, assert_status, spawn_app};

fn to_members(key: &str, members: &[&Member], title: &str) -> SendBroadcastRequest {
    SendBroadcastRequest {
        idempotency_key: key.into(),
        audience: Some(Audience::Members(BroadcastMembers {
            member_ids: members.iter().map(|m| m.id.to_string()).collect(),
        })),
        title: title.into(),
        body: "새 버전에서 알림이 더 똑똑해졌어요".into(),
        path: "/settings".into(),
    }
}

#[tokio::test]
async fn a_500_member_broadcast_goes_out_in_bounded_batches_exactly_once() {
    let app = spawn_app().await;
    let members: Vec<Member> = (0..500).map(|_| app.member()).collect();
    for m in &members {
        app.device(m).await;
    }
    app.fcm.set_latency(Duration::from_millis(5));
    let refs: Vec<&Member> = members.iter().collect();
    let req = to_members("update-2026-03", &refs, "앱을 업데이트해 주세요");
    let mut client = app.internal.clone();
    let r = client
        .send_broadcast(app.internal_request(req.clone()))
        .await
        .expect("broadcast")
        .into_inner();
    assert_eq!(r.recipient_count, 500);
    assert_eq!(r.push_sent_count, 500);
    assert_eq!((r.push_failed_count, r.no_device_count), (0, 0));
    assert_eq!(app.fcm.messages().len(), 500);
    assert!(
        app.fcm.max_in_flight() <= 8,
        "in flight at once: {}",
        app.fcm.max_in_flight()
    );
    assert!(app.fcm.max_in_flight() > 1, "sends run concurrently");
    let m = &app.fcm.messages()[0];
    assert_eq!(m.data["type"], "BROADCAST");
    assert_eq!(m.data["broadcast_id"], r.broadcast_id);
    assert_eq!(m.data["path"], "/settings");
    // The same key and content: the first result, nothing sent again.
    let again = client
        .send_broadcast(app.internal_request(req))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(again.broadcast_id, r.broadcast_id);
    assert_eq!(again.push_sent_count, 500);
    assert_eq!(app.fcm.messages().len(), 500);
    assert_eq!(app.count("SELECT COUNT(*) FROM notification").await, 500);
    // The same key for something else is refused.
    let r2 = client
        .send_broadcast(app.internal_request(to_members("update-2026-03", &refs, "다른 제목")))
        .await;
    assert_status(r2, Code::AlreadyExists, "IDEMPOTENCY_KEY_CONFLICT");
    let stats = client
        .get_delivery_stats(app.internal_request(GetDeliveryStatsRequest {
            broadcast_id: r.broadcast_id.clone(),
            ..Default::default()
        }))
        .await
        .expect("stats")
        .into_inner();
    let total = stats.total.expect("total");
    assert_eq!((total.inbox_count, total.push_sent_count), (500, 500));
    assert_eq!(stats.by_type[0].r#type, 19);
}

#[tokio::test]
async fn a_team_broadcast_resolves_members_once_and_reports_unknown_teams() {
    let app = spawn_app().await;
    let (a, b, c) = (app.member(), app.member(), app.member());
    let t1 = app.team(&a, &[&b]).await;
    let t2 = app.team(&c, &[&b]).await;
    app.device(&b).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let r = app
        .internal
        .clone()
        .send_broadcast(app.internal_request(SendBroadcastRequest {
            idempotency_key: "teams-1".into(),
            audience: Some(Audience::Teams(BroadcastTeams {
                team_ids: vec![t1.to_string(), t2.to_string(), unknown.clone()],
            })),
            title: "점검 안내".into(),
            body: "오늘 밤 점검이 있어요".into(),
            path: String::new(),
        }))
        .await
        .expect("broadcast")
        .into_inner();
    assert_eq!(r.recipient_count, 3, "b is counted once");
    assert_eq!(r.unknown_ids, vec![unknown]);
    assert_eq!(r.no_device_count, 2);
    let b_inbox = app.inbox(&b).await;
    assert_eq!(b_inbox.len(), 1);
    assert_eq!(b_inbox[0].team_id, t1.to_string(), "the first listed team");
}

#[tokio::test]
async fn broadcasts_and_stats_are_validated() {
    let app = spawn_app().await;
    let mut client = app.internal.clone();
    let r = client
        .send_broadcast(app.internal_request(SendBroadcastRequest {
            idempotency_key: String::new(),
            audience: None,
            title: String::new(),
            body: "x".repeat(501),
            path: "no-slash".into(),
        }))
        .await;
    assert_invalid(r, &["idempotency_key", "audience", "title", "body", "path"]);
    let r = client
        .send_broadcast(app.internal_request(SendBroadcastRequest {
            idempotency_key: "k".into(),
            audience: Some(Audience::Members(BroadcastMembers {
                member_ids: vec!["nope".into()],
            })),
            title: "t".into(),
            body: "b".into(),
            path: String::new(),
        }))
        .await;
    assert_invalid(r, &["members.member_ids[0]"]);
    let r = client
        .get_delivery_stats(app.internal_request(GetDeliveryStatsRequest::default()))
        .await;
    assert_invalid(r, &["start_time", "end_time"]);
    let r = client
        .get_delivery_stats(app.internal_request(GetDeliveryStatsRequest {
            broadcast_id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        }))
        .await;
    assert_status(r, Code::NotFound, "BROADCAST_NOT_FOUND");
}
