//! Reports and blocks on every read of proofs and proof comments (PRODUCT.md
//! §6): `GetProof` and `ListProofComments` included, captions included, and
//! the leader alone reviews.

use moing_proto::moing::{
    mission::v1::{
        CreateProofCommentRequest, GetProofRequest, ListProofCommentsRequest, Proof, ProofComment,
        ReportProofCommentRequest, ReportProofRequest, ReviewReportedContentRequest,
        SubmitProofRequest, submit_proof_request::Body,
    },
    moderation::v1::ContentVisibility,
    moim::v1::BlockMemberRequest,
};
use tonic::Code;

use crate::helpers::*;

struct Scene {
    app: TestApp,
    team: String,
    mission: String,
    proof: String,
}

impl Scene {
    async fn new(
        author: impl FnOnce(&TestApp) -> (Member, Vec<Member>),
    ) -> (Self, Member, Vec<Member>) {
        let app = spawn_app().await;
        let (leader, others) = author(&app);
        let refs: Vec<&Member> = others.iter().collect();
        let team = app.team(&leader, &refs).await;
        let m = app
            .mission(&leader, TestApp::once(&team, 1))
            .await
            .expect("mission");
        let proof = app
            .missions
            .clone()
            .submit_proof(as_member(
                &others[0],
                SubmitProofRequest {
                    team_id: team.clone(),
                    mission_id: m.id.clone(),
                    body: Some(Body::Text("진짜 했음".into())),
                    caption: "오늘도 완료".into(),
                },
            ))
            .await
            .expect("proof")
            .into_inner()
            .proof
            .expect("proof");
        (
            Self {
                app,
                team,
                mission: m.id,
                proof: proof.id,
            },
            leader,
            others,
        )
    }

    async fn get(&self, who: &Member) -> Proof {
        self.app
            .missions
            .clone()
            .get_proof(as_member(
                who,
                GetProofRequest {
                    team_id: self.team.clone(),
                    mission_id: self.mission.clone(),
                    proof_id: self.proof.clone(),
                },
            ))
            .await
            .expect("get proof")
            .into_inner()
            .proof
            .expect("proof")
    }

    async fn report_proof(&self, who: &Member) {
        self.app
            .missions
            .clone()
            .report_proof(as_member(
                who,
                ReportProofRequest {
                    team_id: self.team.clone(),
                    mission_id: self.mission.clone(),
                    proof_id: self.proof.clone(),
                    reason: 1,
                    text: String::new(),
                },
            ))
            .await
            .expect("report proof");
    }

    async fn review(
        &self,
        who: &Member,
        kind: i32,
        id: &str,
        decision: i32,
    ) -> Result<(), tonic::Status> {
        self.app
            .missions
            .clone()
            .review_reported_content(as_member(
                who,
                ReviewReportedContentRequest {
                    team_id: self.team.clone(),
                    kind,
                    content_id: id.into(),
                    decision,
                },
            ))
            .await
            .map(|_| ())
    }

    async fn comments(&self, who: &Member) -> Vec<ProofComment> {
        self.app
            .missions
            .clone()
            .list_proof_comments(as_member(
                who,
                ListProofCommentsRequest {
                    team_id: self.team.clone(),
                    mission_id: self.mission.clone(),
                    proof_id: self.proof.clone(),
                    ..Default::default()
                },
            ))
            .await
            .expect("list comments")
            .into_inner()
            .comments
    }

    async fn block(&self, blocker: &Member, blocked: &Member) {
        self.app
            .teams
            .clone()
            .block_member(as_member(
                blocker,
                BlockMemberRequest {
                    member_id: blocked.id.to_string(),
                },
            ))
            .await
            .expect("block");
    }
}

fn visibility(p: &Proof) -> Option<i32> {
    p.moderation.as_ref().map(|m| m.visibility)
}

fn withheld(p: &Proof) -> bool {
    p.body.is_none()
        && p.caption.is_empty()
        && p.moderation.as_ref().is_some_and(|m| m.content_withheld)
}

#[tokio::test]
async fn get_proof_withholds_body_and_caption_from_a_reporter_and_across_a_block() {
    let (s, leader, others) =
        Scene::new(|app| (app.member(), (0..7).map(|_| app.member()).collect())).await;
    let [
        author,
        reporter,
        blocker,
        blocked_viewer,
        second,
        third,
        watcher,
    ] = &others[..]
    else {
        panic!("seven members");
    };
    assert_eq!(s.get(watcher).await.caption, "오늘도 완료");

    s.report_proof(reporter).await;
    let seen = s.get(reporter).await;
    assert_eq!(
        visibility(&seen),
        Some(ContentVisibility::HiddenForMe as i32)
    );
    assert!(
        withheld(&seen),
        "the reporter sees neither body nor caption"
    );

    // A block hides the proof from the blocker, and from the member the author blocked.
    s.block(blocker, author).await;
    s.block(author, blocked_viewer).await;
    for who in [blocker, blocked_viewer] {
        let seen = s.get(who).await;
        assert_eq!(
            visibility(&seen),
            Some(ContentVisibility::HiddenForMe as i32)
        );
        assert!(withheld(&seen), "a block withholds body and caption");
    }
    assert!(
        !withheld(&s.get(author).await),
        "the author still sees their proof"
    );
    assert_eq!(s.get(watcher).await.caption, "오늘도 완료");

    // Three reporters: pending review, withheld (caption included) from the team.
    s.report_proof(second).await;
    s.report_proof(third).await;
    let pending = s.get(watcher).await;
    assert_eq!(
        visibility(&pending),
        Some(ContentVisibility::PendingReview as i32)
    );
    assert!(withheld(&pending));
    assert!(
        !withheld(&s.get(&leader).await),
        "the leader reviews the content"
    );

    // Removed on review: still withheld, caption included.
    s.review(&leader, 1, &s.proof, 2).await.expect("remove");
    let removed = s.get(watcher).await;
    assert_eq!(
        visibility(&removed),
        Some(ContentVisibility::Removed as i32)
    );
    assert!(withheld(&removed));
}

#[tokio::test]
async fn list_proof_comments_applies_reports_and_blocks() {
    let (s, leader, others) =
        Scene::new(|app| (app.member(), (0..6).map(|_| app.member()).collect())).await;
    let [_, commenter, a, b, c, watcher] = &others[..] else {
        panic!("six members");
    };
    let comment = s
        .app
        .missions
        .clone()
        .create_proof_comment(as_member(
            commenter,
            CreateProofCommentRequest {
                team_id: s.team.clone(),
                mission_id: s.mission.clone(),
                proof_id: s.proof.clone(),
                content: "멋져요".into(),
            },
        ))
        .await
        .expect("comment")
        .into_inner()
        .comment
        .expect("comment");
    let report = |who: &Member| {
        let req = as_member(
            who,
            ReportProofCommentRequest {
                team_id: s.team.clone(),
                mission_id: s.mission.clone(),
                proof_id: s.proof.clone(),
                comment_id: comment.id.clone(),
                reason: 4,
                text: String::new(),
            },
        );
        let mut client = s.app.missions.clone();
        async move {
            client
                .report_proof_comment(req)
                .await
                .expect("report comment")
        }
    };
    let one = |list: Vec<ProofComment>| {
        assert_eq!(list.len(), 1, "{list:?}");
        let c = list.into_iter().next().expect("one comment");
        (c.content.clone(), c.moderation.map(|m| m.visibility))
    };

    report(a).await;
    assert_eq!(
        one(s.comments(a).await),
        (String::new(), Some(ContentVisibility::HiddenForMe as i32)),
        "hidden for the reporter at once"
    );
    assert_eq!(
        one(s.comments(watcher).await),
        ("멋져요".into(), Some(ContentVisibility::Visible as i32))
    );

    report(b).await;
    report(c).await;
    assert_eq!(
        one(s.comments(watcher).await),
        (String::new(), Some(ContentVisibility::PendingReview as i32)),
        "hidden for the team at three reporters"
    );
    assert_eq!(
        one(s.comments(commenter).await).0,
        "멋져요",
        "the author still sees it"
    );
    assert_eq!(
        one(s.comments(&leader).await).0,
        "멋져요",
        "the leader reviews it"
    );

    // A block removes the blocked member's comments from the blocker's list.
    s.block(watcher, commenter).await;
    assert!(s.comments(watcher).await.is_empty());
}

#[tokio::test]
async fn the_leader_decides_and_a_restored_proof_can_be_hidden_again() {
    let (s, leader, others) =
        Scene::new(|app| (app.member(), (0..8).map(|_| app.member()).collect())).await;
    let [author, r1, r2, r3, n1, n2, n3, watcher] = &others[..] else {
        panic!("eight members");
    };
    for r in [r1, r2, r3] {
        s.report_proof(r).await;
    }
    assert_eq!(
        visibility(&s.get(watcher).await),
        Some(ContentVisibility::PendingReview as i32)
    );
    // The author may not restore their own proof; other members may not review.
    assert_error(
        s.review(author, 1, &s.proof, 1).await,
        Code::PermissionDenied,
        "NOT_TEAM_LEADER",
    );
    assert_error(
        s.review(watcher, 1, &s.proof, 1).await,
        Code::PermissionDenied,
        "NOT_TEAM_LEADER",
    );
    s.review(&leader, 1, &s.proof, 1).await.expect("restore");
    let restored = s.get(watcher).await;
    assert_eq!(
        visibility(&restored),
        Some(ContentVisibility::Visible as i32)
    );
    assert_eq!(restored.caption, "오늘도 완료");
    assert!(
        withheld(&s.get(r1).await),
        "a reporter's own report still hides it for them"
    );

    // New reporters count anew: two are not enough, the third hides it again.
    s.report_proof(n1).await;
    s.report_proof(n2).await;
    assert_eq!(
        visibility(&s.get(watcher).await),
        Some(ContentVisibility::Visible as i32)
    );
    s.report_proof(n3).await;
    let again = s.get(watcher).await;
    assert_eq!(
        visibility(&again),
        Some(ContentVisibility::PendingReview as i32)
    );
    assert!(withheld(&again));
    s.review(&leader, 1, &s.proof, 2)
        .await
        .expect("the leader decides again");
    assert_eq!(
        visibility(&s.get(watcher).await),
        Some(ContentVisibility::Removed as i32)
    );
}

#[tokio::test]
async fn a_leader_cannot_review_their_own_proof() {
    let app = spawn_app().await;
    let leader = app.member();
    let others: Vec<Member> = (0..3).map(|_| app.member()).collect();
    let refs: Vec<&Member> = others.iter().collect();
    let team = app.team(&leader, &refs).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    let proof = app
        .missions
        .clone()
        .submit_proof(as_member(
            &leader,
            SubmitProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                body: Some(Body::Text("리더 인증".into())),
                caption: String::new(),
            },
        ))
        .await
        .expect("proof")
        .into_inner()
        .proof
        .expect("proof");
    let s = Scene {
        app,
        team,
        mission: m.id,
        proof: proof.id,
    };
    for r in &others {
        s.report_proof(r).await;
    }
    assert_error(
        s.review(&leader, 1, &s.proof, 1).await,
        Code::FailedPrecondition,
        "CANNOT_REVIEW_OWN",
    );
}

#[tokio::test]
async fn reporters_at_once_all_succeed_and_hide_the_proof_once() {
    let (s, _leader, others) =
        Scene::new(|app| (app.member(), (0..9).map(|_| app.member()).collect())).await;
    let (author, reporters) = others.split_first().expect("an author");
    // Each report panics unless it succeeds: lock conflicts are retried, never INTERNAL.
    futures::future::join_all(reporters.iter().map(|r| s.report_proof(r))).await;
    let seen = s.get(author).await;
    assert_eq!(
        visibility(&seen),
        Some(ContentVisibility::PendingReview as i32)
    );
    assert_eq!(seen.moderation.map(|m| m.report_count), Some(8));
    let rows: Vec<(String, i32)> = sqlx::query_as("SELECT state, round FROM content_moderation")
        .fetch_all(&s.app.db.pool)
        .await
        .expect("moderation rows");
    assert_eq!(rows, vec![("PENDING".to_string(), 0)]);
}
