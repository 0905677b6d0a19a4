//! Out-of-range input at the edge of every RPC is INVALID_ARGUMENT naming the
//! field, never INTERNAL or a panic.

use moing_proto::moing::mission::v1::{
    Mission, ReportProofRequest, SubmitProofRequest, UpdateMissionRequest,
    submit_proof_request::Body,
};

use crate::helpers::*;

/// Far-future, far-past and overflowing instants.
fn bad_instants() -> Vec<prost_types::Timestamp> {
    let ts = |seconds| prost_types::Timestamp { seconds, nanos: 0 };
    vec![
        ts(253_402_300_800), // 10000-01-01T00:00:00Z
        ts(-62_135_596_800), // 0001-01-01T00:00:00Z
        ts(i64::MAX),
        ts(i64::MIN),
        prost_types::Timestamp {
            seconds: 0,
            nanos: i32::MIN,
        },
    ]
}

#[tokio::test]
async fn out_of_range_deadlines_are_invalid_arguments() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, &[]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    for t in bad_instants() {
        let mut create = TestApp::once(&team, 1);
        create.deadline = Some(t);
        assert_invalid(app.mission(&leader, create).await, &["deadline"]);

        let update = UpdateMissionRequest {
            team_id: team.clone(),
            mission_id: m.id.clone(),
            mission: Some(Mission {
                deadline: Some(t),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["deadline".into()],
            }),
        };
        assert_invalid(
            app.missions
                .clone()
                .update_mission(as_member(&leader, update))
                .await,
            &["mission.deadline"],
        );
    }
}

#[tokio::test]
async fn enum_values_outside_the_proto_are_invalid_arguments() {
    let app = spawn_app().await;
    let leader = app.member();
    let author = app.member();
    let team = app.team(&leader, &[&author]).await;
    let mut create = TestApp::once(&team, i32::MIN);
    create.kind = i32::MIN;
    assert_invalid(app.mission(&leader, create).await, &["kind", "way"]);

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
                body: Some(Body::Text("했음".into())),
                caption: String::new(),
            },
        ))
        .await
        .expect("proof")
        .into_inner()
        .proof
        .expect("p");
    for reason in [i32::MIN, 0, 99, i32::MAX] {
        assert_invalid(
            app.missions
                .clone()
                .report_proof(as_member(
                    &leader,
                    ReportProofRequest {
                        team_id: team.clone(),
                        mission_id: m.id.clone(),
                        proof_id: proof.id.clone(),
                        reason,
                        text: String::new(),
                    },
                ))
                .await,
            &["reason"],
        );
    }
}
