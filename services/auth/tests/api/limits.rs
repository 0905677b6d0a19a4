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
    let mut last = None;
    for i in 0..6 {
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
        last = Some(r);
    }
    let status = last.expect("six calls").expect_err("sixth call is limited");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(status_reason(&status).as_deref(), Some("RATE_LIMITED"));
    let retry = status
        .get_details_error_info()
        .and_then(|i| i.metadata.get("retry_after_seconds").cloned())
        .and_then(|s| s.parse::<u64>().ok())
        .expect("retry information");
    assert!((1..=60).contains(&retry));
}
