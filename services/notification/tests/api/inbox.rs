use moing_common::convert::timestamp;
use moing_proto::moing::{
    events::v1::{DeliverRequest, MissionCreated, event::Payload},
    notification::v1::{
        GetDeliveryStatsRequest, GetUnreadNotificationCountRequest, ListNotificationsRequest,
        MarkAllNotificationsReadRequest, MarkNotificationReadRequest,
    },
};
use moing_testkit::FcmFailure;
use tonic::Code;

use crate::helpers::{as_member, assert_invalid, assert_status, event, spawn_app};

fn created(n: usize) -> Payload {
    Payload::MissionCreated(MissionCreated {
        mission_id: uuid::Uuid::now_v7().to_string(),
        mission_title: format!("미션 {n}"),
        team_name: "새벽독서".into(),
        kind: 1,
        ..Default::default()
    })
}

#[tokio::test]
async fn inbox_pages_newest_first_counts_unread_and_marks_read() {
    let app = spawn_app().await;
    let (a, b) = (app.member(), app.member());
    let team = app.team(&a, &[&b]).await;
    for n in 0..5 {
        app.deliver(vec![event("mission", Some(team), Some(a.id), created(n))])
            .await;
    }
    let mut client = app.notifications.clone();
    let page = client
        .list_notifications(as_member(
            &b,
            ListNotificationsRequest {
                page_size: 2,
                page_token: String::new(),
            },
        ))
        .await
        .expect("page")
        .into_inner();
    assert_eq!(page.unread_count, 5);
    let titles: Vec<&str> = page.notifications.iter().map(|n| n.body.as_str()).collect();
    assert_eq!(titles, vec!["미션 4", "미션 3"]);
    let mut seen = titles.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut token = page.next_page_token;
    while !token.is_empty() {
        let p = client
            .list_notifications(as_member(
                &b,
                ListNotificationsRequest {
                    page_size: 2,
                    page_token: token,
                },
            ))
            .await
            .expect("page")
            .into_inner();
        seen.extend(p.notifications.iter().map(|n| n.body.clone()));
        token = p.next_page_token;
    }
    assert_eq!(seen, vec!["미션 4", "미션 3", "미션 2", "미션 1", "미션 0"]);

    let inbox = app.inbox(&b).await;
    let r = client
        .mark_notification_read(as_member(
            &b,
            MarkNotificationReadRequest {
                notification_id: inbox[1].notification_id.clone(),
            },
        ))
        .await
        .expect("read")
        .into_inner();
    assert_eq!(r.unread_count, 4);
    // Idempotent.
    client
        .mark_notification_read(as_member(
            &b,
            MarkNotificationReadRequest {
                notification_id: inbox[1].notification_id.clone(),
            },
        ))
        .await
        .expect("again");
    assert!(app.inbox(&b).await[1].read);
    // Someone else's item does not exist for me.
    let r = client
        .mark_notification_read(as_member(
            &a,
            MarkNotificationReadRequest {
                notification_id: inbox[0].notification_id.clone(),
            },
        ))
        .await;
    assert_status(r, Code::NotFound, "NOTIFICATION_NOT_FOUND");
    let r = client
        .mark_notification_read(as_member(
            &b,
            MarkNotificationReadRequest {
                notification_id: "nope".into(),
            },
        ))
        .await;
    assert_invalid(r, &["notification_id"]);
    let r = client
        .list_notifications(as_member(
            &b,
            ListNotificationsRequest {
                page_size: 101,
                page_token: "junk".into(),
            },
        ))
        .await;
    assert_invalid(r, &["page_size", "page_token"]);

    // Mark all up to the third newest: the newest stays unread.
    let up_to = app.inbox(&b).await[2].created_at;
    let r = client
        .mark_all_notifications_read(as_member(&b, MarkAllNotificationsReadRequest { up_to }))
        .await
        .expect("all")
        .into_inner();
    assert_eq!(
        (r.marked_count, r.unread_count),
        (3, 1),
        "the two newest stay unread (one was read)"
    );
    let r = client
        .mark_all_notifications_read(as_member(
            &b,
            MarkAllNotificationsReadRequest { up_to: None },
        ))
        .await
        .expect("all")
        .into_inner();
    assert_eq!((r.marked_count, r.unread_count), (1, 0));
    let count = client
        .get_unread_notification_count(as_member(&b, GetUnreadNotificationCountRequest {}))
        .await
        .expect("count")
        .into_inner()
        .unread_count;
    assert_eq!(count, 0);
}

#[tokio::test]
async fn a_failed_push_never_loses_the_inbox_row_and_dead_tokens_are_dropped() {
    let app = spawn_app().await;
    let (a, b, c, d) = (app.member(), app.member(), app.member(), app.member());
    let team = app.team(&a, &[&b, &c, &d]).await;
    let (tb, tc, td) = (
        app.device(&b).await,
        app.device(&c).await,
        app.device(&d).await,
    );
    app.fcm.fail(&tb, FcmFailure::Unavailable { times: 100 });
    app.fcm.fail(&tc, FcmFailure::Unregistered);
    app.fcm.fail(&td, FcmFailure::InvalidToken);
    let started = moing_common::clock::now();
    let r = app
        .deliver(vec![event("mission", Some(team), Some(a.id), created(1))])
        .await;
    assert_eq!(r.applied, 1);
    for m in [&b, &c, &d] {
        assert_eq!(app.inbox(m).await.len(), 1, "the inbox row stays");
    }
    assert!(app.fcm.messages().is_empty());
    // 503 was retried (3 attempts); dead tokens were not.
    assert_eq!(app.fcm.attempts(), 3 + 1 + 1);
    let devices: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT member_id FROM device")
        .fetch_all(&app.db.pool)
        .await
        .expect("devices");
    assert_eq!(
        devices,
        vec![b.id],
        "UNREGISTERED and INVALID_ARGUMENT tokens are deleted"
    );
    let stats = app
        .internal
        .clone()
        .get_delivery_stats(app.internal_request(GetDeliveryStatsRequest {
            start_time: Some(timestamp(started - chrono::Duration::minutes(1))),
            end_time: Some(timestamp(
                moing_common::clock::now() + chrono::Duration::minutes(1),
            )),
            broadcast_id: String::new(),
        }))
        .await
        .expect("stats")
        .into_inner();
    let total = stats.total.expect("total");
    assert_eq!(total.inbox_count, 3);
    assert_eq!(total.push_failed_count, 1);
    assert_eq!(total.token_dropped_count, 2);
    assert_eq!(stats.by_type.len(), 1);
    assert_eq!(stats.by_type[0].r#type, 1);
}

#[tokio::test]
async fn a_push_whose_lease_ran_out_is_sent_again_with_the_same_collapse_id() {
    let app = spawn_app().await;
    let (a, b) = (app.member(), app.member());
    let team = app.team(&a, &[&b]).await;
    let tb = app.device(&b).await;
    let e = event("mission", Some(team), Some(a.id), created(1));
    app.deliver(vec![e.clone()]).await;
    let first = app.fcm.messages_to(&tb);
    assert_eq!(first.len(), 1);
    // A replica claimed it and died mid-send: SENDING under a lease that
    // another replica still holds.
    sqlx::query(
        "UPDATE push SET state = 'SENDING', finished_at = NULL, lease_owner = 'gone/1', \
         lease_until = ? ",
    )
    .bind((moing_common::clock::now() + chrono::Duration::seconds(30)).naive_utc())
    .execute(&app.db.pool)
    .await
    .expect("claimed elsewhere");
    // The relay retries the event (the ack was lost): nothing is applied again.
    let r = app.deliver(vec![e]).await;
    assert_eq!((r.applied, r.duplicates), (0, 1));
    let replica = app.replica();
    let done = replica.dispatcher.drain(10).await.expect("drain");
    assert_eq!(done.total(), 0, "a live lease is not taken");
    assert_eq!(app.fcm.messages_to(&tb).len(), 1);
    // The lease runs out: any replica sends it again, as the same notification.
    sqlx::query("UPDATE push SET lease_until = lease_until - INTERVAL 1 MINUTE")
        .execute(&app.db.pool)
        .await
        .expect("expire");
    let done = replica.dispatcher.drain(10).await.expect("drain");
    assert_eq!(done.sent, 1);
    let both = app.fcm.messages_to(&tb);
    assert_eq!(both.len(), 2);
    for m in &both {
        assert_eq!(m.data["notification_id"], first[0].data["notification_id"]);
        assert_eq!(
            m.message["android"]["notification"]["tag"], first[0].data["notification_id"],
            "a re-send replaces the shown notification"
        );
        assert_eq!(
            m.message["apns"]["headers"]["apns-collapse-id"],
            first[0].data["notification_id"]
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM push WHERE state = 'SENT' AND attempts = 2 AND lease_owner IS NULL")
            .await,
        1
    );
    // A row whose claims keep running out is given up, not retried for ever.
    sqlx::query(
        "UPDATE push SET state = 'SENDING', attempts = 5, lease_owner = 'gone/2', \
         lease_until = ? - INTERVAL 1 SECOND",
    )
    .bind(moing_common::clock::now().naive_utc())
    .execute(&app.db.pool)
    .await
    .expect("exhausted");
    assert_eq!(
        replica.dispatcher.drain(10).await.expect("drain").total(),
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM push WHERE state = 'UNKNOWN'")
            .await,
        1
    );
    assert_eq!(app.fcm.messages_to(&tb).len(), 2);
}

#[tokio::test]
async fn a_replica_claims_only_what_it_sends_at_once() {
    let app = spawn_app().await;
    let a = app.member();
    let others: Vec<_> = (0..12).map(|_| app.member()).collect();
    let refs: Vec<_> = others.iter().collect();
    let team = app.team(&a, &refs).await;
    for m in &others {
        app.device(m).await;
    }
    // Slow sends: while the first round is in flight, count the claims.
    app.fcm.set_latency(std::time::Duration::from_millis(400));
    let e = event("mission", Some(team), Some(a.id), created(1));
    let request = app.internal_request(DeliverRequest { events: vec![e] });
    app.sink.clone().deliver(request).await.expect("deliver");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let sending = app
        .count("SELECT COUNT(*) FROM push WHERE state = 'SENDING'")
        .await;
    assert!(
        (1..=8).contains(&sending),
        "at most fcm.concurrency (8) rows claimed at once, {sending} were"
    );
    app.settle_pushes().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM push WHERE state = 'SENT'")
            .await,
        12
    );
}

#[tokio::test]
async fn retention_purges_rows_older_than_30_days_in_batches() {
    let app = spawn_app().await;
    let (a, b) = (app.member(), app.member());
    let team = app.team(&a, &[&b]).await;
    app.device(&b).await;
    for n in 0..5 {
        app.deliver(vec![event("mission", Some(team), Some(a.id), created(n))])
            .await;
    }
    // Age three of them past retention.
    sqlx::query(
        "UPDATE notification SET created_at = created_at - INTERVAL 31 DAY, visible_at = visible_at - INTERVAL 31 DAY \
         ORDER BY created_at LIMIT 3",
    )
    .execute(&app.db.pool)
    .await
    .expect("age");
    assert_eq!(
        app.inbox(&b).await.len(),
        2,
        "expired rows are not listed even before the purge"
    );
    let deleted = moing_notification::startup::purge(&app.db.pool, 30, 2)
        .await
        .expect("purge");
    assert_eq!(deleted, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM notification").await, 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM push").await,
        2,
        "their push rows went too"
    );
}

#[tokio::test]
async fn malformed_and_out_of_range_inputs_are_invalid_arguments() {
    let app = spawn_app().await;
    let a = app.member();
    let id = uuid::Uuid::now_v7().simple();
    for token in [
        "garbage".to_owned(),
        format!("{}.{id}", i64::MAX),
        format!("{}.{id}", i64::MIN),
        // 10000-01-01T00:00:00Z and 0001-01-01T00:00:00Z in microseconds.
        format!("253402300800000000.{id}"),
        format!("-62135596800000000.{id}"),
        "1700000000000000.not-an-id".to_owned(),
    ] {
        assert_invalid(
            app.notifications
                .clone()
                .list_notifications(as_member(
                    &a,
                    ListNotificationsRequest {
                        page_size: 10,
                        page_token: token,
                    },
                ))
                .await,
            &["page_token"],
        );
    }
    for seconds in [253_402_300_800, -62_135_596_800, i64::MAX, i64::MIN] {
        assert_invalid(
            app.notifications
                .clone()
                .mark_all_notifications_read(as_member(
                    &a,
                    MarkAllNotificationsReadRequest {
                        up_to: Some(prost_types::Timestamp { seconds, nanos: 0 }),
                    },
                ))
                .await,
            &["up_to"],
        );
    }
}
