use std::sync::atomic::Ordering;

use moing_proto::moing::auth::v1::{
    BatchGetMembersRequest, KakaoCredential, RefreshTokenRequest, SignInRequest, SignUpRequest,
    WithdrawRequest, sign_in_request::Credential,
};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn withdrawal_needs_no_led_team_and_anonymises() {
    let app = spawn_app().await;
    app.kakao
        .issue("kakao-w", 555, KAKAO_APP_ID, Some("w@kakao.test"));
    let kakao_sign_in = || {
        let mut c = app.client.clone();
        async move {
            c.sign_in(SignInRequest {
                credential: Some(Credential::Kakao(KakaoCredential {
                    access_token: "kakao-w".into(),
                })),
                device: device("galaxy"),
            })
            .await
            .expect("kakao sign-in")
            .into_inner()
        }
    };
    let first = kakao_sign_in().await;
    let tokens = first.tokens.expect("tokens");
    let up = app
        .client
        .clone()
        .sign_up(bearer(
            SignUpRequest {
                nickname: "떠날사람".into(),
                ..Default::default()
            },
            &tokens.access_token,
        ))
        .await
        .expect("sign-up")
        .into_inner();
    let member_id = up.member.expect("member").member_id;

    app.leadership.0.store(true, Ordering::SeqCst);
    assert_error(
        app.client
            .clone()
            .withdraw(bearer(
                WithdrawRequest {
                    reason: String::new(),
                    provider_token: "kakao-w".into(),
                },
                &up.access_token,
            ))
            .await,
        Code::FailedPrecondition,
        "LEADS_ACTIVE_TEAM",
    );
    app.leadership.0.store(false, Ordering::SeqCst);
    app.client
        .clone()
        .withdraw(bearer(
            WithdrawRequest {
                reason: "바빠서".into(),
                provider_token: "kakao-w".into(),
            },
            &up.access_token,
        ))
        .await
        .expect("withdraw");

    assert_eq!(app.kakao.unlinked(), vec![555], "link revoked at Kakao");
    assert_error(
        app.client
            .clone()
            .refresh_token(RefreshTokenRequest {
                refresh_token: tokens.refresh_token,
            })
            .await,
        Code::Unauthenticated,
        "REFRESH_TOKEN_INVALID",
    );
    let shown = app
        .internal
        .clone()
        .batch_get_members(app.internal_request(BatchGetMembersRequest {
            member_ids: vec![member_id.clone()],
        }))
        .await
        .expect("batch")
        .into_inner()
        .members;
    assert_eq!(shown[0].nickname, "(탈퇴한 회원)");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM member WHERE email IS NOT NULL OR image_key <> ''")
            .await,
        0,
        "personal data erased"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM provider_unlink WHERE succeeded = 1")
            .await,
        1
    );
    // The nickname is free again, and the same Kakao account starts fresh.
    let again = kakao_sign_in().await;
    assert!(again.sign_up_required);
    assert_ne!(again.member.expect("member").member_id, member_id);
}
