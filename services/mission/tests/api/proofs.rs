use moing_proto::moing::mission::v1::{
    DeleteProofRequest, EndMissionRequest, ListProofsRequest, SkipMissionRequest,
    SubmitProofRequest, submit_proof_request::Body,
};
use tonic::Code;

use crate::helpers::*;

fn text(team: &str, mission: &str, t: &str) -> SubmitProofRequest {
    SubmitProofRequest {
        team_id: team.into(),
        mission_id: mission.into(),
        body: Some(Body::Text(t.into())),
        caption: String::new(),
    }
}

#[tokio::test]
async fn proofs_skips_and_the_first_product_faults() {
    let app = spawn_app().await;
    let leader = app.member();
    let member = app.member();
    let team = app.team(&leader, &[&member]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");

    // Way mismatch and bad links.
    let link = SubmitProofRequest {
        team_id: team.clone(),
        mission_id: m.id.clone(),
        body: Some(Body::LinkUrl("https://x.y/z".into())),
        caption: String::new(),
    };
    assert_error(
        app.missions
            .clone()
            .submit_proof(as_member(&member, link))
            .await,
        Code::InvalidArgument,
        "PROOF_WAY_MISMATCH",
    );
    let bad = SubmitProofRequest {
        team_id: team.clone(),
        mission_id: m.id.clone(),
        body: Some(Body::LinkUrl("javascript:1".into())),
        caption: String::new(),
    };
    assert_invalid(
        app.missions
            .clone()
            .submit_proof(as_member(&member, bad))
            .await,
        &["link_url"],
    );

    // Two concurrent submits: one proof, one clear error.
    let (mut c1, mut c2) = (app.missions.clone(), app.missions.clone());
    let (a, b) = tokio::join!(
        c1.submit_proof(as_member(&member, text(&team, &m.id, "다 읽음"))),
        c2.submit_proof(as_member(&member, text(&team, &m.id, "다 읽음!")))
    );
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|x| **x).count(),
        1,
        "{a:?} {b:?}"
    );
    let (ok, err) = if a.is_ok() { (a, b) } else { (b, a) };
    assert_error(err, Code::AlreadyExists, "PROOF_ALREADY_SUBMITTED");
    let done = ok.expect("proof").into_inner();
    assert_eq!(done.my_progress.expect("progress").done_count, 1);

    // Delete today's proof and redo it.
    app.missions
        .clone()
        .delete_proof(as_member(
            &member,
            DeleteProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: done.proof.expect("p").id,
            },
        ))
        .await
        .expect("delete today's");
    app.missions
        .clone()
        .submit_proof(as_member(&member, text(&team, &m.id, "다시")))
        .await
        .expect("redo");

    // A skip is recorded, visible, and not done.
    let skipped = app
        .missions
        .clone()
        .skip_mission(as_member(
            &leader,
            SkipMissionRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                reason: "아파서".into(),
            },
        ))
        .await
        .expect("skip")
        .into_inner();
    let progress = skipped.my_progress.expect("progress");
    assert_eq!(
        (progress.done_count, progress.skipped_count),
        (0, 1),
        "skips never count as done"
    );
    let proofs = app
        .missions
        .clone()
        .list_proofs(as_member(
            &member,
            ListProofsRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("list")
        .into_inner()
        .proofs;
    assert_eq!(proofs.len(), 2);

    // Nobody proves on an ended mission; outsiders cannot prove at all.
    app.missions
        .clone()
        .end_mission(as_member(
            &leader,
            EndMissionRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
            },
        ))
        .await
        .expect("end");
    assert_error(
        app.missions
            .clone()
            .submit_proof(as_member(&leader, text(&team, &m.id, "늦음")))
            .await,
        Code::FailedPrecondition,
        "MISSION_ENDED",
    );
    let outsider = app.member();
    assert_error(
        app.missions
            .clone()
            .submit_proof(as_member(&outsider, text(&team, &m.id, "몰래")))
            .await,
        Code::NotFound,
        "TEAM_NOT_FOUND",
    );
}

#[tokio::test]
async fn repeat_missions_take_one_proof_a_day() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, &[]).await;
    let req = moing_proto::moing::mission::v1::CreateMissionRequest {
        team_id: team.clone(),
        title: "매일".into(),
        kind: 2,
        way: 1,
        times_per_week: 3,
        ..Default::default()
    };
    let m = app.mission(&leader, req).await.expect("repeat");
    let first = app
        .missions
        .clone()
        .submit_proof(as_member(&leader, text(&team, &m.id, "1일차")))
        .await
        .expect("today")
        .into_inner();
    let progress = first.my_progress.expect("progress");
    assert_eq!(
        (
            progress.done_count,
            progress.required_count,
            progress.can_submit
        ),
        (1, 3.min(week_days_left()), false)
    );
    assert_error(
        app.missions
            .clone()
            .submit_proof(as_member(&leader, text(&team, &m.id, "또")))
            .await,
        Code::AlreadyExists,
        "PROOF_ALREADY_TODAY",
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM proof")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(n, 1);
}

#[tokio::test]
async fn hearts_stickers_and_comments() {
    use moing_proto::moing::mission::v1::{
        AddHeartRequest, AddStickerRequest, CreateProofCommentRequest, DeleteProofCommentRequest,
        GetProofRequest, ListProofCommentsRequest, RemoveHeartRequest,
    };
    let app = spawn_app().await;
    let leader = app.member();
    let author = app.member();
    let fan = app.member();
    let team = app.team(&leader, &[&author, &fan]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    let proof = app
        .missions
        .clone()
        .submit_proof(as_member(&author, text(&team, &m.id, "완료")))
        .await
        .expect("proof")
        .into_inner()
        .proof
        .expect("p");
    let heart = |who: &Member| {
        as_member(
            who,
            AddHeartRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: proof.id.clone(),
            },
        )
    };

    assert_error(
        app.missions.clone().add_heart(heart(&author)).await,
        Code::FailedPrecondition,
        "CANNOT_REACT_OWN_PROOF",
    );
    let h = app
        .missions
        .clone()
        .add_heart(heart(&fan))
        .await
        .expect("heart")
        .into_inner();
    assert_eq!((h.heart_count, h.hearted_by_me), (1, true));
    let again = app
        .missions
        .clone()
        .add_heart(heart(&fan))
        .await
        .expect("idempotent")
        .into_inner();
    assert_eq!(again.heart_count, 1, "one heart per member per proof");
    app.missions
        .clone()
        .add_sticker(as_member(
            &fan,
            AddStickerRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: proof.id.clone(),
                kind: 2,
            },
        ))
        .await
        .expect("fire");
    app.missions
        .clone()
        .add_sticker(as_member(
            &leader,
            AddStickerRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: proof.id.clone(),
                kind: 2,
            },
        ))
        .await
        .expect("fire");
    assert_invalid(
        app.missions
            .clone()
            .add_sticker(as_member(
                &fan,
                AddStickerRequest {
                    team_id: team.clone(),
                    mission_id: m.id.clone(),
                    proof_id: proof.id.clone(),
                    kind: 9,
                },
            ))
            .await,
        &["kind"],
    );

    let comment = app
        .missions
        .clone()
        .create_proof_comment(as_member(
            &fan,
            CreateProofCommentRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: proof.id.clone(),
                content: "최고!".into(),
            },
        ))
        .await
        .expect("comment")
        .into_inner()
        .comment
        .expect("c");
    assert_invalid(
        app.missions
            .clone()
            .create_proof_comment(as_member(
                &fan,
                CreateProofCommentRequest {
                    team_id: team.clone(),
                    mission_id: m.id.clone(),
                    proof_id: proof.id.clone(),
                    content: "가".repeat(301),
                },
            ))
            .await,
        &["content"],
    );
    let seen = app
        .missions
        .clone()
        .get_proof(as_member(
            &author,
            GetProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: proof.id.clone(),
            },
        ))
        .await
        .expect("get")
        .into_inner()
        .proof
        .expect("p");
    assert_eq!((seen.heart_count, seen.comment_count), (1, 1));
    assert_eq!(
        seen.stickers
            .iter()
            .map(|s| (s.kind, s.count))
            .collect::<Vec<_>>(),
        vec![(2, 2)]
    );

    let delete = |who: &Member| {
        as_member(
            who,
            DeleteProofCommentRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: proof.id.clone(),
                comment_id: comment.id.clone(),
            },
        )
    };
    assert_error(
        app.missions
            .clone()
            .delete_proof_comment(delete(&author))
            .await,
        Code::PermissionDenied,
        "NOT_COMMENT_AUTHOR_OR_LEADER",
    );
    let left = app
        .missions
        .clone()
        .delete_proof_comment(delete(&leader))
        .await
        .expect("leader moderates")
        .into_inner();
    assert_eq!(left.comment_count, 0);
    let comments = app
        .missions
        .clone()
        .list_proof_comments(as_member(
            &fan,
            ListProofCommentsRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: proof.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("list")
        .into_inner()
        .comments;
    assert!(comments.is_empty());
    app.missions
        .clone()
        .remove_heart(as_member(
            &fan,
            RemoveHeartRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                proof_id: proof.id.clone(),
            },
        ))
        .await
        .expect("unheart");
    // HeartAdded, StickerAdded x2 and ProofCommentCreated reached the outbox for the author.
    let reactions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(
        reactions,
        2 + 4,
        "MissionCreated, ProofSubmitted + 4 reactions"
    );
}

#[tokio::test]
async fn blocked_members_proofs_disappear_for_the_blocker() {
    let app = spawn_app().await;
    let leader = app.member();
    let annoying = app.member();
    let team = app.team(&leader, &[&annoying]).await;
    let m = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    app.missions
        .clone()
        .submit_proof(as_member(&annoying, text(&team, &m.id, "보세요")))
        .await
        .expect("proof");
    let list = |who: &Member| {
        let req = as_member(
            who,
            ListProofsRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                ..Default::default()
            },
        );
        let mut c = app.missions.clone();
        async move {
            c.list_proofs(req)
                .await
                .expect("list")
                .into_inner()
                .proofs
                .len()
        }
    };
    assert_eq!(list(&leader).await, 1);
    let target = {
        let payload = annoying.token.split('.').nth(1).expect("jwt");
        use base64::Engine;
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .expect("b64"),
        )
        .expect("json");
        claims["sub"].as_str().expect("sub").to_owned()
    };
    app.teams
        .clone()
        .block_member(as_member(
            &leader,
            moing_proto::moing::moim::v1::BlockMemberRequest { member_id: target },
        ))
        .await
        .expect("block");
    assert_eq!(list(&leader).await, 0);
    assert_eq!(
        list(&annoying).await,
        1,
        "the author still sees their own proof"
    );
}
