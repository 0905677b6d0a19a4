use moing_proto::moing::{
    auth::v1::{
        BatchGetMembersRequest, GetMemberRequest, GetMyProfileRequest, Member,
        UpdateMyProfileRequest,
    },
    common::v1::ImageRef,
};
use prost_types::FieldMask;
use tonic::{Code, Request};

use crate::helpers::*;

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

#[tokio::test]
async fn profile_updates_follow_the_mask_and_rules() {
    let app = spawn_app().await;
    let (access, _, member_id) = app.active_member("profiler").await;
    app.active_member("taken").await;
    let mut c = app.client.clone();
    let updated = c
        .update_my_profile(bearer(
            UpdateMyProfileRequest {
                member: Some(Member {
                    nickname: "ignored".into(),
                    introduction: "매일 30페이지".into(),
                    image: Some(ImageRef {
                        key: format!("members/{member_id}/profile/p1.jpg"),
                        url: String::new(),
                    }),
                    ..Default::default()
                }),
                update_mask: mask(&["introduction", "image"]),
            },
            &access,
        ))
        .await
        .expect("update")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(updated.nickname, "profiler", "fields outside the mask stay");
    assert_eq!(updated.introduction, "매일 30페이지");

    let update = |member: Member, paths: &[&str]| {
        let mut c = app.client.clone();
        let req = bearer(
            UpdateMyProfileRequest {
                member: Some(member),
                update_mask: mask(paths),
            },
            &access,
        );
        async move { c.update_my_profile(req).await }
    };
    assert_error(
        update(
            Member {
                nickname: "taken".into(),
                ..Default::default()
            },
            &["nickname"],
        )
        .await,
        Code::AlreadyExists,
        "NICKNAME_TAKEN",
    );
    assert_invalid(update(Member::default(), &[]).await, "update_mask");
    assert_invalid(update(Member::default(), &["email"]).await, "update_mask");
    assert_invalid(
        update(
            Member {
                introduction: "가".repeat(101),
                ..Default::default()
            },
            &["introduction"],
        )
        .await,
        "member.introduction",
    );
    assert_invalid(
        update(
            Member {
                image: Some(ImageRef {
                    key: "members/someone-else/profile/x.jpg".into(),
                    url: String::new(),
                }),
                ..Default::default()
            },
            &["image"],
        )
        .await,
        "member.image.key",
    );
    let me = c
        .get_my_profile(bearer(GetMyProfileRequest {}, &access))
        .await
        .expect("profile")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(
        me.introduction, "매일 30페이지",
        "failed updates wrote nothing"
    );
}

#[tokio::test]
async fn internal_batch_lookup_needs_the_service_credential() {
    let app = spawn_app().await;
    let (_, _, a) = app.active_member("batch-a").await;
    let (_, _, b) = app.active_member("batch-b").await;
    let missing = uuid::Uuid::now_v7().to_string();
    let mut internal = app.internal.clone();
    assert_error(
        internal
            .batch_get_members(Request::new(BatchGetMembersRequest {
                member_ids: vec![a.clone()],
            }))
            .await,
        Code::Unauthenticated,
        "SERVICE_CREDENTIAL_REQUIRED",
    );
    let resp = internal
        .batch_get_members(app.internal_request(BatchGetMembersRequest {
            member_ids: vec![a.clone(), b.clone(), missing.clone()],
        }))
        .await
        .expect("batch")
        .into_inner();
    assert_eq!(resp.members.len(), 2);
    assert_eq!(resp.missing_member_ids, vec![missing]);
    let too_many: Vec<String> = (0..101).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    assert_invalid(
        internal
            .batch_get_members(app.internal_request(BatchGetMembersRequest {
                member_ids: too_many,
            }))
            .await,
        "member_ids",
    );
    let one = internal
        .get_member(app.internal_request(GetMemberRequest {
            member_id: a.clone(),
        }))
        .await
        .expect("get")
        .into_inner()
        .member
        .expect("member");
    assert_eq!(one.nickname, "batch-a");
}
