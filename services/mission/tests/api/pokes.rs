use moing_proto::moing::{
    mission::v1::{
        DeleteProofRequest, GetTeamScoreRequest, ListPokeTargetsRequest, PokeMemberRequest,
        SubmitProofRequest, submit_proof_request::Body,
    },
    moim::v1::BlockMemberRequest,
};
use tonic::Code;
use uuid::Uuid;

use crate::helpers::*;

fn text(team: &str, mission: &str) -> SubmitProofRequest {
    SubmitProofRequest {
        team_id: team.into(),
        mission_id: mission.into(),
        body: Some(Body::Text("done".into())),
        caption: String::new(),
    }
}

fn member_id(m: &Member) -> String {
    // The test tokens carry the member id as `sub`.
    let payload = m.token.split('.').nth(1).expect("jwt");
    let bytes = base64_decode(payload);
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("claims");
    v["sub"].as_str().expect("sub").to_owned()
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .expect("base64")
}

#[tokio::test]
async fn pokes_go_to_laggards_once_an_hour() {
    let app = spawn_app().await;
    let leader = app.member();
    let done = app.member();
    let lagging = app.member();
    let team = app.team(&leader, &[&done, &lagging]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    app.missions
        .clone()
        .submit_proof(as_member(&done, text(&team, &m.id)))
        .await
        .expect("proof");

    let targets = app
        .missions
        .clone()
        .list_poke_targets(as_member(
            &leader,
            ListPokeTargetsRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("targets")
        .into_inner()
        .targets;
    let ids: Vec<String> = targets
        .iter()
        .filter_map(|t| t.member.as_ref().map(|m| m.member_id.clone()))
        .collect();
    assert_eq!(
        ids,
        vec![member_id(&lagging)],
        "only members who have not proven, never myself"
    );
    assert!(targets[0].can_poke_now);

    let poke = |who: &Member, target: String, message: &str| {
        let req = as_member(
            who,
            PokeMemberRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                target_member_id: target,
                message: message.into(),
            },
        );
        let mut c = app.missions.clone();
        async move { c.poke_member(req).await }
    };
    poke(&leader, member_id(&lagging), "힘내!")
        .await
        .expect("poke");
    assert_error(
        poke(&leader, member_id(&lagging), "또").await,
        Code::ResourceExhausted,
        "POKE_TOO_SOON",
    );
    assert_error(
        poke(&leader, member_id(&done), "").await,
        Code::FailedPrecondition,
        "POKE_TARGET_DONE",
    );
    assert_error(
        poke(&leader, member_id(&leader), "").await,
        Code::InvalidArgument,
        "CANNOT_POKE_SELF",
    );
    assert_error(
        poke(&leader, Uuid::now_v7().to_string(), "").await,
        Code::NotFound,
        "POKE_TARGET_NOT_FOUND",
    );
    assert_invalid(
        poke(&done, member_id(&lagging), &"가".repeat(101)).await,
        &["message"],
    );
    // A block in either direction hides the target.
    app.teams
        .clone()
        .block_member(as_member(
            &lagging,
            BlockMemberRequest {
                member_id: member_id(&done),
            },
        ))
        .await
        .expect("block");
    assert_error(
        poke(&done, member_id(&lagging), "").await,
        Code::NotFound,
        "POKE_TARGET_NOT_FOUND",
    );
    let pokes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM poke")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(pokes, 1);
}

#[tokio::test]
async fn the_team_score_only_goes_up() {
    let app = spawn_app().await;
    let leader = app.member();
    let other = app.member();
    let team = app.team(&leader, &[&other]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    let score = || {
        let req = as_member(
            &leader,
            GetTeamScoreRequest {
                team_id: team.clone(),
            },
        );
        let mut c = app.missions.clone();
        async move {
            c.get_team_score(req)
                .await
                .expect("score")
                .into_inner()
                .score
                .expect("s")
        }
    };
    assert_eq!(score().await.points, 0);
    let first = app
        .missions
        .clone()
        .submit_proof(as_member(&other, text(&team, &m.id)))
        .await
        .expect("proof")
        .into_inner()
        .proof
        .expect("p");
    assert_eq!(score().await.points, 10);
    app.missions
        .clone()
        .submit_proof(as_member(&leader, text(&team, &m.id)))
        .await
        .expect("proof");
    let s = score().await;
    assert_eq!(s.points, 10 + 10 + 30, "every member completed: bonus");
    assert_eq!(
        (s.level, s.next_level_points, s.points_to_next_level),
        (1, 100, 50)
    );
    app.missions
        .clone()
        .delete_proof(as_member(
            &other,
            DeleteProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: first.id,
            },
        ))
        .await
        .expect("delete");
    app.missions
        .clone()
        .submit_proof(as_member(&other, text(&team, &m.id)))
        .await
        .expect("redo");
    assert_eq!(
        score().await.points,
        50,
        "a redone proof and a repeated completion score nothing more"
    );
}
