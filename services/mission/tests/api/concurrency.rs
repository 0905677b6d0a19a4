//! Lock conflicts provoked through the public API: many members reacting to one
//! proof and proving one mission at the same instant. Every write transaction
//! runs inside `moing_common::transaction!`, so a deadlock or lock wait timeout
//! is run again and, should it survive every attempt, answers ABORTED /
//! CONCURRENT_UPDATE, never INTERNAL. A client that gets ABORTED retries, as the
//! code asks it to; the final state must then be exactly what was asked for.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::atomic::{AtomicUsize, Ordering},
};

use futures::future::join_all;
use moing_proto::moing::mission::v1::{
    AddHeartRequest, CreateProofCommentRequest, GetProofRequest, GetTeamScoreRequest,
    ListProofCommentsRequest, ListProofsRequest, SubmitProofRequest, submit_proof_request::Body,
};

use moing_testkit::concurrency::{retries, settle};

use crate::helpers::*;

const ROUNDS: usize = 3;
const FANS: usize = 8;

fn text(team: &str, mission: &str, t: &str) -> SubmitProofRequest {
    SubmitProofRequest {
        team_id: team.into(),
        mission_id: mission.into(),
        body: Some(Body::Text(t.into())),
        caption: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hearts_comments_and_proofs_at_once_never_answer_internal() {
    let app = spawn_app().await;
    let before = retries();
    let aborted = AtomicUsize::new(0);
    let leader = app.member();
    let fans: Vec<Member> = (0..FANS).map(|_| app.member()).collect();
    let team = app.team(&leader, &fans.iter().collect::<Vec<_>>()).await;
    let everyone: Vec<&Member> = std::iter::once(&leader).chain(fans.iter()).collect();

    // The leader's proof everyone reacts to (10 points; no bonus, 8 have not proved).
    let shown = app
        .mission(&leader, TestApp::once(&team, 1))
        .await
        .expect("mission");
    let proof = app
        .missions
        .clone()
        .submit_proof(as_member(&leader, text(&team, &shown.id, "완료")))
        .await
        .expect("proof")
        .into_inner()
        .proof
        .expect("p");

    let missions = &app.missions;
    let mut comments = BTreeSet::new();
    let mut rounds = Vec::new();
    for round in 0..ROUNDS {
        let m = app
            .mission(&leader, TestApp::once(&team, 1))
            .await
            .expect("mission");
        // Per fan: a heart (again every round: idempotent) and a comment; per
        // member of the team: two proofs of the round's mission at once.
        let hearts = join_all(fans.iter().map(|f| {
            let req = AddHeartRequest {
                team_id: team.clone(),
                mission_id: shown.id.clone(),
                proof_id: proof.id.clone(),
            };
            let aborted = &aborted;
            async move {
                settle("AddHeart", aborted, || {
                    let mut c = missions.clone();
                    let req = as_member(f, req.clone());
                    async move { c.add_heart(req).await }
                })
                .await
            }
        }));
        let said = join_all(fans.iter().enumerate().map(|(i, f)| {
            let req = CreateProofCommentRequest {
                team_id: team.clone(),
                mission_id: shown.id.clone(),
                proof_id: proof.id.clone(),
                content: format!("{round}회차 {i}번 응원"),
            };
            let aborted = &aborted;
            async move {
                settle("CreateProofComment", aborted, || {
                    let mut c = missions.clone();
                    let req = as_member(f, req.clone());
                    async move { c.create_proof_comment(req).await }
                })
                .await
            }
        }));
        let proved = join_all(
            everyone
                .iter()
                .flat_map(|who| [(who, 'a'), (who, 'b')])
                .map(|(who, copy)| {
                    let req = text(&team, &m.id, &format!("{round}회차 {copy}"));
                    let aborted = &aborted;
                    async move {
                        settle("SubmitProof", aborted, || {
                            let mut c = missions.clone();
                            let req = as_member(who, req.clone());
                            async move { c.submit_proof(req).await }
                        })
                        .await
                    }
                }),
        );
        let (hearts, said, proved) = tokio::join!(hearts, said, proved);

        for h in hearts {
            let h = h.expect("heart");
            assert!(h.hearted_by_me);
            assert!((1..=FANS as i32).contains(&h.heart_count), "{h:?}");
        }
        for c in said {
            comments.insert(c.expect("comment").comment.expect("c").id);
        }
        // Of each member's two submits exactly one is the proof; the other is refused.
        for pair in proved.chunks(2) {
            let ok = pair.iter().filter(|r| r.is_ok()).count();
            assert_eq!(ok, 1, "{pair:?}");
            let refused = pair.iter().find(|r| r.is_err()).expect("one refused");
            assert_eq!(
                moing_common::error::status_reason(refused.as_ref().expect_err("err")).as_deref(),
                Some("PROOF_ALREADY_SUBMITTED"),
                "{refused:?}"
            );
        }
        rounds.push(m.id);
    }

    // One heart per fan, every comment stored once.
    let seen = app
        .missions
        .clone()
        .get_proof(as_member(
            &leader,
            GetProofRequest {
                team_id: team.clone(),
                mission_id: shown.id.clone(),
                proof_id: proof.id.clone(),
            },
        ))
        .await
        .expect("get")
        .into_inner()
        .proof
        .expect("p");
    assert_eq!(seen.heart_count, FANS as i32, "one heart per fan");
    assert_eq!(comments.len(), ROUNDS * FANS);
    assert_eq!(seen.comment_count, (ROUNDS * FANS) as i32);
    let listed = app
        .missions
        .clone()
        .list_proof_comments(as_member(
            &leader,
            ListProofCommentsRequest {
                team_id: team.clone(),
                mission_id: shown.id.clone(),
                proof_id: proof.id.clone(),
                page_size: 100,
                ..Default::default()
            },
        ))
        .await
        .expect("comments")
        .into_inner()
        .comments;
    assert_eq!(
        listed.iter().map(|c| c.id.clone()).collect::<BTreeSet<_>>(),
        comments,
        "every acknowledged comment is stored, nothing else"
    );

    // Each member exactly one proof per round's mission.
    let ids: BTreeSet<String> = everyone.iter().map(|m| m.id.to_string()).collect();
    for m in &rounds {
        let proofs = app
            .missions
            .clone()
            .list_proofs(as_member(
                &leader,
                ListProofsRequest {
                    team_id: team.clone(),
                    mission_id: m.clone(),
                    page_size: 100,
                    ..Default::default()
                },
            ))
            .await
            .expect("proofs")
            .into_inner()
            .proofs;
        assert_eq!(proofs.len(), everyone.len(), "one proof per member");
        let authors: BTreeSet<String> = proofs
            .iter()
            .map(|p| p.author.as_ref().expect("author").member_id.clone())
            .collect();
        assert_eq!(authors, ids);
    }

    // The score was added to under contention: 10 per proof, and every round's
    // mission was completed by every member (+30 each), whoever proved last.
    let score = app
        .missions
        .clone()
        .get_team_score(as_member(
            &leader,
            GetTeamScoreRequest {
                team_id: team.clone(),
            },
        ))
        .await
        .expect("score")
        .into_inner()
        .score
        .expect("s");
    let members = everyone.len() as i64;
    assert_eq!(score.points, 10 + ROUNDS as i64 * (members * 10 + 30));

    let after = retries();
    let delta: BTreeMap<_, _> = after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect();
    eprintln!(
        "transaction retries: {delta:?}; ABORTED answers retried by the client: {}",
        aborted.load(Ordering::Relaxed)
    );
}
