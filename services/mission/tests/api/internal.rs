use chrono::Duration;
use moing_proto::moing::mission::v1::{
    BatchGetTeamScoresRequest, ListMissionsDueBetweenRequest, ListUnprovenMembersRequest,
    SubmitProofRequest, submit_proof_request::Body,
};
use tonic::{Code, Request};

use crate::helpers::*;

#[tokio::test]
async fn reminders_find_due_and_unproven_missions() {
    let app = spawn_app().await;
    let leader = app.member();
    let lazy = app.member();
    let team = app.team(&leader, &[&lazy]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    app.missions
        .clone()
        .submit_proof(as_member(
            &leader,
            SubmitProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                body: Some(Body::Text("끝".into())),
                caption: String::new(),
            },
        ))
        .await
        .expect("proof");

    let mut internal = app.internal.clone();
    let err = internal
        .list_missions_due_between(Request::new(ListMissionsDueBetweenRequest::default()))
        .await
        .expect_err("credential");
    assert_eq!(err.code(), Code::Unauthenticated);
    let due = internal
        .list_missions_due_between(app.internal_request(ListMissionsDueBetweenRequest {
            deadline_from: Some(moing_common::convert::timestamp(moing_common::clock::now())),
            deadline_to: Some(moing_common::convert::timestamp(
                moing_common::clock::now() + Duration::days(4),
            )),
            ..Default::default()
        }))
        .await
        .expect("due")
        .into_inner()
        .missions;
    assert_eq!(due.len(), 1);
    assert_eq!(
        due[0].unproven_member_ids.len(),
        1,
        "only the member who has not proven"
    );

    let unproven = internal
        .list_unproven_members(app.internal_request(ListUnprovenMembersRequest {
            team_ids: vec![team.clone()],
            ..Default::default()
        }))
        .await
        .expect("unproven")
        .into_inner()
        .missions;
    assert_eq!(unproven.len(), 1);
    assert_eq!(unproven[0].members.len(), 1);

    let scores = internal
        .batch_get_team_scores(app.internal_request(BatchGetTeamScoresRequest {
            team_ids: vec![team.clone()],
        }))
        .await
        .expect("scores")
        .into_inner()
        .scores;
    assert_eq!(scores[0].points, 10);
}
