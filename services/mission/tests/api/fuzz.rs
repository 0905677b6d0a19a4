//! Property test over the whole request surface: generated requests to every
//! method of the public and internal mission services (real ids of the
//! caller's team mixed with junk) never give INTERNAL, UNKNOWN or a panic.

use moing_proto::moing::mission::v1::{SubmitProofRequest, submit_proof_request::Body};
use moing_testkit::fuzz::{self, Target};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_get_deliberate_answers() {
    let app = spawn_app().await;
    let leader = app.member();
    let other = app.member();
    let team = app.team(&leader, &[&other]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    let proof = app
        .missions
        .clone()
        .submit_proof(as_member(
            &other,
            SubmitProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                body: Some(Body::Text("다 읽음".into())),
                ..Default::default()
            },
        ))
        .await
        .expect("proof")
        .into_inner();
    let proof_id = proof.proof.map(|p| p.id).unwrap_or_default();
    let known = vec![
        team,
        m.id,
        proof_id,
        leader.id.to_string(),
        other.id.to_string(),
    ];
    let member = vec![("authorization", format!("Bearer {}", leader.token))];
    let service = vec![("x-moing-service-token", app.tokens.service_token.clone())];
    let report = fuzz::run(
        &[
            Target::new(
                app.channel.clone(),
                "moing.mission.v1.MissionService",
                member,
            ),
            Target::new(
                app.channel.clone(),
                "moing.mission.v1.MissionInternalService",
                service,
            ),
        ],
        &known,
        fuzz::cases(),
    )
    .await;
    eprintln!("mission fuzz: {report:?}");
    assert!(report.methods >= 20, "{report:?}");
}
