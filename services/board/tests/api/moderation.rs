//! Reviews of reported posts (PRODUCT.md §6): the leader decides, never on
//! their own content, and a restored post can be hidden again by new reporters.

use moing_proto::moing::{
    board::v1::*,
    moderation::v1::{ContentVisibility, ReportReason},
};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn the_leader_decides_and_a_restored_post_can_be_hidden_again() {
    let app = spawn_app().await;
    let leader = app.member();
    let members: Vec<Member> = (0..8).map(|_| app.member()).collect();
    let [author, r1, r2, r3, n1, n2, n3, watcher] = &members[..] else {
        panic!("eight members");
    };
    let (team, code) = app.team(&leader).await;
    for m in &members {
        app.join(&code, m).await;
    }
    let mut b = app.board.clone();
    let create = |who: &Member, title: &str| {
        as_member(
            who,
            CreatePostRequest {
                team_id: team.clone(),
                title: title.into(),
                content: "본문".into(),
                is_notice: false,
            },
        )
    };
    let post = b
        .create_post(create(author, "글"))
        .await
        .expect("post")
        .into_inner()
        .post
        .expect("post");
    let report = |who: &Member, post_id: &str| {
        let req = as_member(
            who,
            ReportPostRequest {
                team_id: team.clone(),
                post_id: post_id.into(),
                reason: ReportReason::Spam as i32,
                text: String::new(),
            },
        );
        let mut c = app.board.clone();
        async move { c.report_post(req).await.expect("report") }
    };
    let seen = |who: &Member, post_id: &str| {
        let req = as_member(
            who,
            GetPostRequest {
                team_id: team.clone(),
                post_id: post_id.into(),
            },
        );
        let mut c = app.board.clone();
        async move {
            let p = c
                .get_post(req)
                .await
                .expect("get")
                .into_inner()
                .post
                .expect("post");
            (
                p.content.clone(),
                p.moderation.map(|m| m.visibility).unwrap_or_default(),
            )
        }
    };
    let review = |who: &Member, post_id: &str, decision: i32| {
        let req = as_member(
            who,
            ReviewReportedContentRequest {
                team_id: team.clone(),
                kind: 1,
                content_id: post_id.into(),
                decision,
            },
        );
        let mut c = app.board.clone();
        async move { c.review_reported_content(req).await }
    };

    for r in [r1, r2, r3] {
        report(r, &post.post_id).await;
    }
    let pending = ContentVisibility::PendingReview as i32;
    assert_eq!(seen(watcher, &post.post_id).await, (String::new(), pending));
    assert_status(
        review(author, &post.post_id, 1).await,
        Code::PermissionDenied,
        "NOT_TEAM_LEADER",
    );
    review(&leader, &post.post_id, 1).await.expect("restore");
    let visible = ContentVisibility::Visible as i32;
    assert_eq!(seen(watcher, &post.post_id).await, ("본문".into(), visible));

    // Reports after the restore count anew.
    report(n1, &post.post_id).await;
    report(n2, &post.post_id).await;
    assert_eq!(seen(watcher, &post.post_id).await, ("본문".into(), visible));
    report(n3, &post.post_id).await;
    assert_eq!(seen(watcher, &post.post_id).await, (String::new(), pending));

    // The leader's own post stays under review: nobody reviews it.
    let own = b
        .create_post(create(&leader, "리더 글"))
        .await
        .expect("post")
        .into_inner()
        .post
        .expect("post");
    for r in [r1, r2, r3] {
        report(r, &own.post_id).await;
    }
    assert_status(
        review(&leader, &own.post_id, 1).await,
        Code::FailedPrecondition,
        "CANNOT_REVIEW_OWN",
    );
}
