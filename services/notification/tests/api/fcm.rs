//! The FCM client against the stand-in: OAuth grant and caching, retries,
//! error classification, message shape.

use std::{collections::BTreeMap, time::Instant};

use moing_notification::{
    config::FcmSettings,
    fcm::{FcmClient, Outcome, Platform, Push},
};
use moing_testkit::{FcmFailure, FcmServer};

fn settings(fcm: &FcmServer) -> FcmSettings {
    FcmSettings {
        base_url: fcm.base_url(),
        credentials_json: fcm.service_account_json(),
        initial_backoff_ms: 50,
        max_backoff_ms: 3000,
        max_attempts: 3,
        ..FcmSettings::default()
    }
}

fn push(token: &str) -> Push {
    Push {
        token: token.into(),
        platform: Platform::Android,
        title: "제목".into(),
        body: "본문".into(),
        data: BTreeMap::from([
            ("type".to_owned(), "POKED".to_owned()),
            ("path".to_owned(), "/teams/x".to_owned()),
        ]),
        tag: "POKED".into(),
        collapse_id: format!("n-{token}"),
    }
}

#[tokio::test]
async fn the_access_token_is_granted_once_and_renewed_before_expiry() {
    let fcm = FcmServer::start().await.expect("fcm");
    let client = FcmClient::new(&settings(&fcm)).expect("client");
    assert!(matches!(client.send(&push("a")).await, Outcome::Sent(_)));
    assert!(matches!(client.send(&push("b")).await, Outcome::Sent(_)));
    assert_eq!(fcm.grants(), 1, "cached");
    // Tokens that live less than the renewal margin are renewed on every use.
    fcm.set_token_lifetime(120);
    let fresh = FcmClient::new(&settings(&fcm)).expect("client");
    fresh.send(&push("c")).await;
    fresh.send(&push("d")).await;
    assert_eq!(fcm.grants(), 3);
    let m = &fcm.messages_to("a")[0];
    assert_eq!(m.data["type"], "POKED");
    assert_eq!(m.message["android"]["priority"], "HIGH");
    assert_eq!(
        m.message["apns"]["payload"]["aps"]["alert"]["title"],
        "제목"
    );
}

#[tokio::test]
async fn an_assertion_signed_with_another_key_is_refused() {
    let fcm = FcmServer::start().await.expect("fcm");
    let mut s = settings(&fcm);
    let mut account: serde_json::Value = serde_json::from_str(&s.credentials_json).expect("json");
    account["private_key"] = include_str!("../../../../crates/testkit/keys/oidc-2.pem").into();
    s.credentials_json = account.to_string();
    let client = FcmClient::new(&s).expect("client");
    match client.send(&push("a")).await {
        Outcome::Failed(e) => assert!(e.contains("invalid_grant"), "{e}"),
        other => panic!("expected a refused grant, got {other:?}"),
    }
    assert_eq!(fcm.grants(), 0);
    assert!(fcm.messages().is_empty());
}

#[tokio::test]
async fn quota_and_unavailable_are_retried_honouring_retry_after() {
    let fcm = FcmServer::start().await.expect("fcm");
    let client = FcmClient::new(&settings(&fcm)).expect("client");
    fcm.fail(
        "q",
        FcmFailure::QuotaExceeded {
            retry_after_secs: 1,
            times: 1,
        },
    );
    let started = Instant::now();
    assert!(matches!(client.send(&push("q")).await, Outcome::Sent(_)));
    assert!(
        started.elapsed().as_millis() >= 1000,
        "waited for Retry-After"
    );
    fcm.fail("u", FcmFailure::Unavailable { times: 2 });
    assert!(matches!(client.send(&push("u")).await, Outcome::Sent(_)));
    assert_eq!(fcm.attempts(), 2 + 3);
    // More failures than attempts: failed, not dropped.
    fcm.fail("x", FcmFailure::Unavailable { times: 10 });
    assert!(matches!(client.send(&push("x")).await, Outcome::Failed(_)));
    fcm.fail("gone", FcmFailure::Unregistered);
    assert_eq!(
        client.send(&push("gone")).await,
        Outcome::TokenInvalid("UNREGISTERED".into())
    );
    fcm.fail("bad", FcmFailure::InvalidToken);
    assert_eq!(
        client.send(&push("bad")).await,
        Outcome::TokenInvalid("INVALID_ARGUMENT".into())
    );
}

#[tokio::test]
async fn without_credentials_pushes_are_skipped_and_the_inbox_still_fills() {
    let client = FcmClient::new(&FcmSettings::default()).expect("client");
    assert!(!client.enabled());
    assert_eq!(client.send(&push("a")).await, Outcome::Skipped);

    use crate::helpers::{Options, event, spawn_with};
    use moing_proto::moing::events::v1::{MissionCreated, event::Payload};
    let app = spawn_with(Options {
        no_fcm: true,
        ..Options::default()
    })
    .await;
    let (a, b) = (app.member(), app.member());
    let team = app.team(&a, &[&b]).await;
    app.device(&b).await;
    app.deliver(vec![event(
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
    )])
    .await;
    assert_eq!(app.inbox(&b).await.len(), 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM push WHERE state = 'SKIPPED'")
            .await,
        1
    );
    assert!(app.fcm.messages().is_empty());
}
