use moing_proto::moing::auth::v1::{
    AppleCredential, CheckNicknameRequest, GetMyProfileRequest, GoogleCredential, KakaoCredential,
    MemberStatus, SignInRequest, SignUpRequest, sign_in_request::Credential,
};
use serde_json::json;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn dev_sign_in_creates_a_pending_member_who_can_only_sign_up() {
    let app = spawn_app().await;
    let signed_in = app.dev_sign_in("pending1").await;
    assert!(signed_in.sign_up_required);
    let member = signed_in.member.expect("member");
    assert_eq!(member.status, MemberStatus::Pending as i32);
    let access = signed_in.tokens.expect("tokens").access_token;

    assert_error(
        app.client
            .clone()
            .get_my_profile(bearer(GetMyProfileRequest {}, &access))
            .await,
        Code::PermissionDenied,
        "MEMBER_PENDING",
    );
    let available = app
        .client
        .clone()
        .check_nickname(bearer(
            CheckNicknameRequest {
                nickname: "모잉".into(),
            },
            &access,
        ))
        .await
        .expect("pending may check nicknames")
        .into_inner();
    assert!(available.available);

    let up = app
        .client
        .clone()
        .sign_up(bearer(
            SignUpRequest {
                nickname: " 모잉 ".into(),
                gender: 2,
                birth_date: Some(moing_proto::google::r#type::Date {
                    year: 1995,
                    month: 5,
                    day: 17,
                }),
            },
            &access,
        ))
        .await
        .expect("sign-up")
        .into_inner();
    let member = up.member.expect("member");
    assert_eq!(member.nickname, "모잉");
    assert_eq!(member.status, MemberStatus::Active as i32);
    let profile = app
        .client
        .clone()
        .get_my_profile(bearer(GetMyProfileRequest {}, &up.access_token))
        .await
        .expect("active member reads profile")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(profile.birth_date.map(|d| d.year), Some(1995));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox").await,
        1,
        "MemberSignedUp emitted"
    );

    // Signing in again finds the same member, now active.
    let again = app.dev_sign_in("PENDING1").await;
    assert!(!again.sign_up_required);
    assert_eq!(again.member.expect("member").member_id, member.member_id);
    assert_error(
        app.client
            .clone()
            .sign_up(bearer(
                SignUpRequest {
                    nickname: "다른이름".into(),
                    ..Default::default()
                },
                &up.access_token,
            ))
            .await,
        Code::FailedPrecondition,
        "ALREADY_SIGNED_UP",
    );
}

#[tokio::test]
async fn production_configuration_refuses_dev_sign_in() {
    let app = spawn_app_with(Options {
        production: true,
        dev_sign_in: true,
        ..Options::default()
    })
    .await;
    let result = app
        .client
        .clone()
        .sign_in(SignInRequest {
            credential: Some(Credential::Development(
                moing_proto::moing::auth::v1::DevelopmentCredential {
                    nickname: "hacker".into(),
                },
            )),
            device: device("pixel"),
        })
        .await;
    assert_error(result, Code::PermissionDenied, "DEV_SIGN_IN_DISABLED");
    assert_eq!(app.count("SELECT COUNT(*) FROM member").await, 0);
}

#[tokio::test]
async fn concurrent_sign_ups_with_one_nickname_give_one_success() {
    let app = spawn_app().await;
    let a = app
        .dev_sign_in("racer-a")
        .await
        .tokens
        .expect("tokens")
        .access_token;
    let b = app
        .dev_sign_in("racer-b")
        .await
        .tokens
        .expect("tokens")
        .access_token;
    let up = |token: String| {
        let mut client = app.client.clone();
        async move {
            client
                .sign_up(bearer(
                    SignUpRequest {
                        nickname: "같은이름".into(),
                        ..Default::default()
                    },
                    &token,
                ))
                .await
        }
    };
    let (ra, rb) = tokio::join!(up(a), up(b));
    let ok = [ra.is_ok(), rb.is_ok()].iter().filter(|x| **x).count();
    assert_eq!(ok, 1, "exactly one sign-up wins");
    let loser = if ra.is_ok() { rb } else { ra };
    assert_error(loser, Code::AlreadyExists, "NICKNAME_TAKEN");
}

#[tokio::test]
async fn kakao_sign_in_checks_token_info_and_app_id() {
    let app = spawn_app().await;
    app.kakao
        .issue("kakao-good", 1001, KAKAO_APP_ID, Some("a@kakao.test"));
    app.kakao.issue("kakao-other-app", 1002, 7, None);
    let sign_in = |token: &str| {
        let mut client = app.client.clone();
        let req = SignInRequest {
            credential: Some(Credential::Kakao(KakaoCredential {
                access_token: token.into(),
            })),
            device: device("galaxy"),
        };
        async move { client.sign_in(req).await }
    };
    let ok = sign_in("kakao-good")
        .await
        .expect("kakao sign-in")
        .into_inner();
    assert!(ok.sign_up_required);
    assert_eq!(ok.member.expect("member").email, "a@kakao.test");
    assert_error(
        sign_in("kakao-other-app").await,
        Code::Unauthenticated,
        "PROVIDER_TOKEN_INVALID",
    );
    assert_error(
        sign_in("made-up").await,
        Code::Unauthenticated,
        "PROVIDER_TOKEN_INVALID",
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM member").await, 1);
}

#[tokio::test]
async fn google_and_apple_id_tokens_are_verified_against_their_jwks() {
    let app = spawn_app().await;
    let google = |token: String| {
        let mut client = app.client.clone();
        let req = SignInRequest {
            credential: Some(Credential::Google(GoogleCredential { id_token: token })),
            device: device("pixel"),
        };
        async move { client.sign_in(req).await }
    };
    let first = google(app.google.id_token("g-1", "g@example.test"))
        .await
        .expect("google")
        .into_inner();
    let again = google(app.google.id_token("g-1", "g@example.test"))
        .await
        .expect("google")
        .into_inner();
    assert_eq!(
        first.member.expect("m").member_id,
        again.member.expect("m").member_id
    );

    let now = chrono::Utc::now().timestamp();
    let bad = [
        json!({"iss": "https://evil.test", "aud": "google-client", "sub": "x", "iat": now, "exp": now + 600}),
        json!({"iss": "https://accounts.google.com", "aud": "someone-else", "sub": "x", "iat": now, "exp": now + 600}),
        json!({"iss": "https://accounts.google.com", "aud": "google-client", "sub": "x", "iat": now - 7200, "exp": now - 3600}),
    ];
    for claims in bad {
        assert_error(
            google(app.google.sign(&claims)).await,
            Code::Unauthenticated,
            "PROVIDER_TOKEN_INVALID",
        );
    }
    // A token from Apple's key set is not a Google token.
    assert_error(
        google(app.apple.id_token("a-1", "")).await,
        Code::Unauthenticated,
        "PROVIDER_TOKEN_INVALID",
    );

    let apple = app
        .client
        .clone()
        .sign_in(SignInRequest {
            credential: Some(Credential::Apple(AppleCredential {
                id_token: app.apple.id_token("a-1", ""),
            })),
            device: device("iphone"),
        })
        .await
        .expect("apple")
        .into_inner();
    assert!(apple.sign_up_required);
}

#[tokio::test]
async fn provider_key_rotation_refetches_the_jwks_at_most_once_a_minute() {
    let app = spawn_app().await;
    let google = |token: String| {
        let mut client = app.client.clone();
        let req = SignInRequest {
            credential: Some(Credential::Google(GoogleCredential { id_token: token })),
            device: device("pixel"),
        };
        async move { client.sign_in(req).await }
    };
    google(app.google.id_token("rot", ""))
        .await
        .expect("first key");
    assert_eq!(app.google.jwks_fetches(), 1);
    google(app.google.id_token("rot", ""))
        .await
        .expect("cached key");
    assert_eq!(app.google.jwks_fetches(), 1, "known kid: no fetch");
    app.google.rotate();
    // The last fetch was less than a minute ago, so the rotated kid is not fetched yet.
    assert_error(
        google(app.google.id_token("rot", "")).await,
        Code::Unauthenticated,
        "PROVIDER_TOKEN_INVALID",
    );
    assert_error(
        google(app.google.id_token("rot", "")).await,
        Code::Unauthenticated,
        "PROVIDER_TOKEN_INVALID",
    );
    assert_eq!(
        app.google.jwks_fetches(),
        1,
        "unknown kids do not hammer the provider"
    );
}

#[tokio::test]
async fn bad_input_is_invalid_argument_with_fields() {
    let app = spawn_app().await;
    let mut c = app.client.clone();
    assert_invalid(
        c.sign_in(SignInRequest {
            credential: None,
            device: device("x"),
        })
        .await,
        "credential",
    );
    assert_invalid(
        c.sign_in(SignInRequest {
            credential: Some(Credential::Kakao(KakaoCredential {
                access_token: " ".into(),
            })),
            device: device("x"),
        })
        .await,
        "kakao.access_token",
    );
    assert_invalid(
        c.sign_in(SignInRequest {
            credential: Some(Credential::Kakao(KakaoCredential {
                access_token: "t".into(),
            })),
            device: None,
        })
        .await,
        "device",
    );
    assert_invalid(
        c.sign_in(SignInRequest {
            credential: Some(Credential::Kakao(KakaoCredential {
                access_token: "t".into(),
            })),
            device: Some(moing_proto::moing::auth::v1::DeviceInfo {
                name: "x".into(),
                platform: 99,
            }),
        })
        .await,
        "device.platform",
    );
    let pending = app
        .dev_sign_in("badinput")
        .await
        .tokens
        .expect("tokens")
        .access_token;
    assert_invalid(
        c.sign_up(bearer(
            SignUpRequest {
                nickname: "열한글자가넘는닉네임이다".into(),
                ..Default::default()
            },
            &pending,
        ))
        .await,
        "nickname",
    );
    assert_invalid(
        c.sign_up(bearer(
            SignUpRequest {
                nickname: "ok".into(),
                gender: 42,
                birth_date: None,
            },
            &pending,
        ))
        .await,
        "gender",
    );
    assert_invalid(
        c.sign_up(bearer(
            SignUpRequest {
                nickname: "ok".into(),
                gender: 0,
                birth_date: Some(moing_proto::google::r#type::Date {
                    year: 2001,
                    month: 2,
                    day: 30,
                }),
            },
            &pending,
        ))
        .await,
        "birth_date",
    );
    assert_invalid(
        c.check_nickname(bearer(
            CheckNicknameRequest {
                nickname: "".into(),
            },
            &pending,
        ))
        .await,
        "nickname",
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM member WHERE status = 'ACTIVE'")
            .await,
        0,
        "nothing written"
    );
}

#[tokio::test]
async fn an_unknown_kid_after_the_interval_refetches_and_verifies() {
    let app = spawn_app_with(Options {
        jwks_refetch_interval_secs: 0,
        ..Options::default()
    })
    .await;
    let google = |token: String| {
        let mut client = app.client.clone();
        let req = SignInRequest {
            credential: Some(Credential::Google(GoogleCredential { id_token: token })),
            device: device("pixel"),
        };
        async move { client.sign_in(req).await }
    };
    google(app.google.id_token("rot2", ""))
        .await
        .expect("first key");
    app.google.rotate();
    google(app.google.id_token("rot2", ""))
        .await
        .expect("rotated key is fetched");
    assert_eq!(app.google.jwks_fetches(), 2);
    google(app.google.id_token("rot2", ""))
        .await
        .expect("now cached");
    assert_eq!(app.google.jwks_fetches(), 2);
}
