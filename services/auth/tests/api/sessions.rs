use moing_proto::moing::auth::v1::{
    GetMyProfileRequest, ListSessionsRequest, RefreshTokenRequest, RevokeSessionRequest,
    SignOutRequest,
};
use tonic::Code;

use crate::helpers::*;

async fn refresh(
    app: &TestApp,
    token: &str,
) -> Result<moing_proto::moing::auth::v1::AuthTokens, tonic::Status> {
    app.client
        .clone()
        .refresh_token(RefreshTokenRequest {
            refresh_token: token.into(),
        })
        .await
        .map(|r| r.into_inner().tokens.expect("tokens"))
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_revokes_the_session() {
    let app = spawn_app().await;
    let (_, refresh1, member_id) = app.active_member("rotator").await;
    let t2 = refresh(&app, &refresh1).await.expect("first rotation");
    assert_ne!(t2.refresh_token, refresh1);
    // The new access token works and names the member.
    let me = app
        .client
        .clone()
        .get_my_profile(bearer(GetMyProfileRequest {}, &t2.access_token))
        .await
        .expect("profile")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(me.member_id, member_id);

    // Replaying the rotated-out token: theft is assumed, the session dies.
    assert_error(
        refresh(&app, &refresh1).await,
        Code::Unauthenticated,
        "REFRESH_TOKEN_REUSED",
    );
    assert_error(
        refresh(&app, &t2.refresh_token).await,
        Code::Unauthenticated,
        "REFRESH_TOKEN_INVALID",
    );
    let revoked: i64 = app.count("SELECT COUNT(*) FROM outbox").await;
    assert_eq!(revoked, 2, "MemberSignedUp + SessionRevoked(reuse)");
}

#[tokio::test]
async fn first_product_holes_stay_closed() {
    let app = spawn_app().await;
    let (access, refresh_token, _) = app.active_member("holes").await;
    // A made-up token, an access token, and garbage are refused.
    assert_error(
        refresh(&app, "mrt_made-up-token").await,
        Code::Unauthenticated,
        "REFRESH_TOKEN_INVALID",
    );
    assert_error(
        refresh(&app, &access).await,
        Code::Unauthenticated,
        "REFRESH_TOKEN_INVALID",
    );
    assert_invalid(refresh(&app, "").await, "refresh_token");
    // A refresh token is not an access token.
    assert_error(
        app.client
            .clone()
            .get_my_profile(bearer(GetMyProfileRequest {}, &refresh_token))
            .await,
        Code::Unauthenticated,
        "TOKEN_INVALID",
    );
    // Someone else's refresh token gives their session, never a chosen member:
    // the request has no member id to forge.
    let other = app.active_member("victim").await;
    let t = refresh(&app, &other.1).await.expect("owner refreshes");
    let who = app
        .client
        .clone()
        .get_my_profile(bearer(GetMyProfileRequest {}, &t.access_token))
        .await
        .expect("profile")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(who.member_id, other.2);
}

#[tokio::test]
async fn devices_list_revoke_and_sign_out() {
    let app = spawn_app().await;
    let (access, _, _) = app.active_member("multi").await;
    let tablet = app
        .dev_sign_in_on("multi", "tablet")
        .await
        .tokens
        .expect("tokens");
    let sessions = app
        .client
        .clone()
        .list_sessions(bearer(ListSessionsRequest::default(), &access))
        .await
        .expect("list")
        .into_inner()
        .sessions;
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    assert!(sessions.iter().any(|s| s.device_name == "tablet"));

    let page = app
        .client
        .clone()
        .list_sessions(bearer(
            ListSessionsRequest {
                page_size: 1,
                page_token: String::new(),
            },
            &access,
        ))
        .await
        .expect("page")
        .into_inner();
    assert_eq!(page.sessions.len(), 1);
    assert_eq!(page.next_page_token, "1");

    app.client
        .clone()
        .revoke_session(bearer(
            RevokeSessionRequest {
                session_id: tablet.session_id.clone(),
            },
            &access,
        ))
        .await
        .expect("revoke tablet");
    assert_error(
        refresh(&app, &tablet.refresh_token).await,
        Code::Unauthenticated,
        "REFRESH_TOKEN_INVALID",
    );
    assert_error(
        app.client
            .clone()
            .revoke_session(bearer(
                RevokeSessionRequest {
                    session_id: tablet.session_id,
                },
                &access,
            ))
            .await,
        Code::NotFound,
        "SESSION_NOT_FOUND",
    );
    assert_invalid(
        app.client
            .clone()
            .revoke_session(bearer(
                RevokeSessionRequest {
                    session_id: "nope".into(),
                },
                &access,
            ))
            .await,
        "session_id",
    );

    // Another member cannot revoke my session.
    let (intruder, _, _) = app.active_member("intruder").await;
    let mine = app
        .client
        .clone()
        .list_sessions(bearer(ListSessionsRequest::default(), &access))
        .await
        .expect("list")
        .into_inner()
        .sessions;
    assert_error(
        app.client
            .clone()
            .revoke_session(bearer(
                RevokeSessionRequest {
                    session_id: mine[0].session_id.clone(),
                },
                &intruder,
            ))
            .await,
        Code::NotFound,
        "SESSION_NOT_FOUND",
    );

    app.client
        .clone()
        .sign_out(bearer(SignOutRequest {}, &access))
        .await
        .expect("sign out");
    let remaining = app
        .client
        .clone()
        .list_sessions(bearer(ListSessionsRequest::default(), &access))
        .await
        .expect("list")
        .into_inner()
        .sessions;
    assert!(remaining.is_empty());
    let events: Vec<Vec<u8>> = sqlx::query_scalar("SELECT payload FROM outbox ORDER BY seq")
        .fetch_all(&app.db.pool)
        .await
        .expect("outbox");
    let revoked = events
        .iter()
        .filter_map(|p| {
            <moing_proto::moing::events::v1::Event as prost::Message>::decode(p.as_slice()).ok()
        })
        .filter(|e| {
            matches!(
                e.payload,
                Some(moing_proto::moing::events::v1::event::Payload::SessionRevoked(_))
            )
        })
        .count();
    assert_eq!(revoked, 2, "revoke + sign-out each emit SessionRevoked");
}

#[tokio::test]
async fn redis_outage_fails_sessions_clearly_and_recovers() {
    let app = spawn_app().await;
    let (access, refresh_token, _) = app.active_member("outage").await;
    app.redis_outage.set_up(false);
    // Access tokens still verify: the JWKS does not live in Redis.
    app.client
        .clone()
        .get_my_profile(bearer(GetMyProfileRequest {}, &access))
        .await
        .expect("profile without redis");
    assert_error(
        refresh(&app, &refresh_token).await,
        Code::Unavailable,
        "DEPENDENCY_UNAVAILABLE",
    );
    let sign_in = app
        .client
        .clone()
        .sign_in(moing_proto::moing::auth::v1::SignInRequest {
            credential: Some(
                moing_proto::moing::auth::v1::sign_in_request::Credential::Development(
                    moing_proto::moing::auth::v1::DevelopmentCredential {
                        nickname: "outage".into(),
                    },
                ),
            ),
            device: device("pixel"),
        })
        .await;
    assert_error(sign_in, Code::Unavailable, "DEPENDENCY_UNAVAILABLE");

    app.redis_outage.set_up(true);
    let mut recovered = None;
    for _ in 0..50 {
        match refresh(&app, &refresh_token).await {
            Ok(t) => {
                recovered = Some(t);
                break;
            }
            Err(s) if s.code() == Code::Unavailable => tokio::task::yield_now().await,
            Err(s) => panic!("unexpected {s:?}"),
        }
    }
    assert!(recovered.is_some(), "refresh works again without a restart");
}
