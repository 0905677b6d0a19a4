use moing_common::error::status_reason;
use moing_proto::moing::auth::v1::{
    DevelopmentCredential, SignInRequest, sign_in_request::Credential,
};
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::*;

#[tokio::test]
async fn sign_in_is_rate_limited_per_address() {
    let app = spawn_app_with(Options {
        sign_in_limit: 5,
        ..Options::default()
    })
    .await;
    // The window is a fixed minute: a run straddling a minute boundary may need
    // up to twice the limit before the refusal shows, never more.
    let mut refused = None;
    for i in 0..=10 {
        let r = app
            .client
            .clone()
            .sign_in(SignInRequest {
                credential: Some(Credential::Development(DevelopmentCredential {
                    nickname: format!("rl{i}"),
                })),
                device: device("pixel"),
            })
            .await;
        if let Err(status) = r {
            assert!(i >= 5, "limited after only {i} sign-ins: {status:?}");
            refused = Some(status);
            break;
        }
    }
    let status = refused.expect("the limit of 5 a minute is enforced within 11 calls");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(status_reason(&status).as_deref(), Some("RATE_LIMITED"));
    let retry = status
        .get_details_error_info()
        .and_then(|i| i.metadata.get("retry_after_seconds").cloned())
        .and_then(|s| s.parse::<u64>().ok())
        .expect("retry information");
    assert!((1..=60).contains(&retry));
}

/// Refreshes of one token family (one session) are limited whoever presents
/// them: spreading a leaked token over many addresses does not help. The
/// gateway states each client's address (with the service credential).
#[tokio::test]
async fn refresh_is_limited_per_token_family_across_addresses() {
    use moing_proto::moing::auth::v1::RefreshTokenRequest;
    let app = spawn_app().await;
    let signed_in = app.dev_sign_in("family").await;
    let mut refresh = signed_in.tokens.expect("tokens").refresh_token;
    // 20 a minute per family; a fixed window may straddle a minute once.
    for n in 0..=40 {
        let mut req = tonic::Request::new(RefreshTokenRequest {
            refresh_token: refresh.clone(),
        });
        req.metadata_mut().insert(
            "x-moing-service-token",
            app.service_token.parse().expect("header"),
        );
        req.metadata_mut().insert(
            "x-forwarded-for",
            format!("198.51.100.{n}").parse().expect("header"),
        );
        match app.client.clone().refresh_token(req).await {
            Ok(r) => refresh = r.into_inner().tokens.expect("tokens").refresh_token,
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                assert_eq!(status_reason(&status).as_deref(), Some("RATE_LIMITED"));
                assert!(n >= 20, "limited after {n} refreshes");
                return;
            }
        }
    }
    panic!("41 refreshes of one family from 41 addresses were all accepted");
}
