use moing_common::token::MemberState;
use moing_proto::moing::{
    events::v1::{MemberWithdrawn, SessionRevoked, event::Payload},
    notification::v1::{
        GetNotificationSettingsRequest, RegisterDeviceRequest, UnregisterDeviceRequest,
    },
};
use tonic::{Code, Request};

use crate::helpers::{as_member, assert_invalid, assert_status, event, spawn_app};

#[tokio::test]
async fn register_device_keeps_one_token_per_session_and_moves_a_reused_token() {
    let app = spawn_app().await;
    let a = app.member();
    let mut client = app.notifications.clone();
    let first = client
        .register_device(as_member(
            &a,
            RegisterDeviceRequest {
                push_token: "tok-1".into(),
                platform: 1,
            },
        ))
        .await
        .expect("register")
        .into_inner()
        .device
        .expect("device");
    assert_eq!(first.session_id, a.session.to_string());
    assert_eq!(first.platform, 1);
    // A new token for the same session replaces the old one.
    client
        .register_device(as_member(
            &a,
            RegisterDeviceRequest {
                push_token: "tok-2".into(),
                platform: 2,
            },
        ))
        .await
        .expect("refresh");
    assert_eq!(app.count("SELECT COUNT(*) FROM device").await, 1);
    // The same token from another session (app reinstalled) moves there.
    let a2 = app.session_of(a.id, MemberState::Active);
    client
        .register_device(as_member(
            &a2,
            RegisterDeviceRequest {
                push_token: "tok-2".into(),
                platform: 2,
            },
        ))
        .await
        .expect("move");
    let sessions: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT session_id FROM device")
        .fetch_all(&app.db.pool)
        .await
        .expect("rows");
    assert_eq!(sessions, vec![a2.session]);
    // Unregister is idempotent and only touches the caller's session.
    client
        .unregister_device(as_member(&a, UnregisterDeviceRequest {}))
        .await
        .expect("noop");
    assert_eq!(app.count("SELECT COUNT(*) FROM device").await, 1);
    client
        .unregister_device(as_member(&a2, UnregisterDeviceRequest {}))
        .await
        .expect("unregister");
    assert_eq!(app.count("SELECT COUNT(*) FROM device").await, 0);
}

#[tokio::test]
async fn register_device_validates_every_field() {
    let app = spawn_app().await;
    let a = app.member();
    let r = app
        .notifications
        .clone()
        .register_device(as_member(
            &a,
            RegisterDeviceRequest {
                push_token: " ".into(),
                platform: 0,
            },
        ))
        .await;
    assert_invalid(r, &["push_token", "platform"]);
    let r = app
        .notifications
        .clone()
        .register_device(as_member(
            &a,
            RegisterDeviceRequest {
                push_token: "x".repeat(4097),
                platform: 9,
            },
        ))
        .await;
    assert_invalid(r, &["push_token", "platform"]);
}

#[tokio::test]
async fn calls_need_an_active_member() {
    let app = spawn_app().await;
    let r = app
        .notifications
        .clone()
        .get_notification_settings(Request::new(GetNotificationSettingsRequest {}))
        .await;
    assert_status(r, Code::Unauthenticated, "TOKEN_MISSING");
    let pending = app.member_in(MemberState::Pending);
    let r = app
        .notifications
        .clone()
        .get_notification_settings(as_member(&pending, GetNotificationSettingsRequest {}))
        .await;
    assert_status(r, Code::PermissionDenied, "MEMBER_PENDING");
    // Internal calls need the service credential.
    let r = app
        .internal
        .clone()
        .get_delivery_stats(Request::new(Default::default()))
        .await;
    assert_status(r, Code::Unauthenticated, "SERVICE_CREDENTIAL_REQUIRED");
}

#[tokio::test]
async fn sign_out_and_withdrawal_events_remove_devices() {
    let app = spawn_app().await;
    let a = app.member();
    let a_phone = app.session_of(a.id, MemberState::Active);
    let b = app.member();
    app.device(&a).await;
    app.device(&a_phone).await;
    app.device(&b).await;
    let revoked = event(
        "auth",
        None,
        Some(a.id),
        Payload::SessionRevoked(SessionRevoked {
            session_id: a.session.to_string(),
            reason: 1,
        }),
    );
    let r = app.deliver(vec![revoked.clone()]).await;
    assert_eq!((r.applied, r.duplicates), (1, 0));
    let left: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT session_id FROM device WHERE member_id = ?")
            .bind(a.id)
            .fetch_all(&app.db.pool)
            .await
            .expect("rows");
    assert_eq!(left, vec![a_phone.session]);
    // A redelivery is recognised.
    let r = app.deliver(vec![revoked]).await;
    assert_eq!((r.applied, r.duplicates), (0, 1));

    let withdrawn = event(
        "auth",
        None,
        Some(a.id),
        Payload::MemberWithdrawn(MemberWithdrawn {
            anonymised_nickname: "(탈퇴한 회원)".into(),
        }),
    );
    app.deliver(vec![withdrawn]).await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM device WHERE member_id = UNHEX('{}')",
            a.id.simple()
        ))
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM device").await,
        1,
        "b keeps its device"
    );
}
