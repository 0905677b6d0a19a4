use moing_proto::moing::mission::v1::{
    GetProofRequest, ReportProofRequest, ReviewReportedContentRequest, SubmitProofRequest,
    submit_proof_request::Body,
};
use moing_proto::moing::moderation::v1::ContentVisibility;
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn reports_hide_for_the_reporter_then_for_the_team_until_reviewed() {
    let app = spawn_app().await;
    let leader = app.member();
    let author = app.member();
    let (b, c, d) = (app.member(), app.member(), app.member());
    let team = app.team(&leader, &[&author, &b, &c, &d]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    let proof = app
        .missions
        .clone()
        .submit_proof(as_member(
            &author,
            SubmitProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                body: Some(Body::Text("진짜 했음".into())),
                caption: String::new(),
            },
        ))
        .await
        .expect("proof")
        .into_inner()
        .proof
        .expect("p");
    let report = |who: &Member| {
        let req = as_member(
            who,
            ReportProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: proof.id.clone(),
                reason: 2,
                text: String::new(),
            },
        );
        let mut c = app.missions.clone();
        async move { c.report_proof(req).await }
    };
    let seen = |who: &Member| {
        let req = as_member(
            who,
            GetProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: proof.id.clone(),
            },
        );
        let mut c = app.missions.clone();
        async move {
            c.get_proof(req)
                .await
                .expect("get")
                .into_inner()
                .proof
                .expect("p")
        }
    };
    assert_error(
        report(&author).await,
        Code::FailedPrecondition,
        "CANNOT_REPORT_OWN",
    );
    report(&b).await.expect("first report");
    assert_error(report(&b).await, Code::AlreadyExists, "ALREADY_REPORTED");
    let for_b = seen(&b).await;
    assert_eq!(
        for_b.moderation.as_ref().map(|m| m.visibility),
        Some(ContentVisibility::HiddenForMe as i32)
    );
    assert!(for_b.body.is_none(), "hidden for the reporter at once");
    assert!(seen(&c).await.body.is_some(), "others still see it");

    report(&c).await.expect("second");
    report(&d).await.expect("third: under review");
    let for_leader = seen(&leader).await;
    assert_eq!(
        for_leader.moderation.as_ref().map(|m| m.visibility),
        Some(ContentVisibility::PendingReview as i32)
    );
    assert!(
        for_leader.body.is_some(),
        "the leader reviews what was reported"
    );
    assert!(seen(&b).await.body.is_none());

    let review = |who: &Member, decision: i32| {
        let req = as_member(
            who,
            ReviewReportedContentRequest {
                team_id: team.clone(),
                kind: 1,
                content_id: proof.id.clone(),
                decision,
            },
        );
        let mut c = app.missions.clone();
        async move { c.review_reported_content(req).await }
    };
    assert_error(
        review(&b, 1).await,
        Code::PermissionDenied,
        "NOT_TEAM_LEADER",
    );
    review(&leader, 1).await.expect("restore");
    assert_error(
        review(&leader, 2).await,
        Code::FailedPrecondition,
        "REVIEW_NOT_PENDING",
    );
    let restored = seen(&leader).await;
    assert_eq!(
        restored.moderation.as_ref().map(|m| m.visibility),
        Some(ContentVisibility::Visible as i32)
    );
    // Reporting never overwrites content.
    let text: Option<String> = sqlx::query_scalar("SELECT body_text FROM proof")
        .fetch_one(&app.db.pool)
        .await
        .expect("row");
    assert_eq!(text.as_deref(), Some("진짜 했음"));
}
