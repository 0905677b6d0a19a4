//! Lock conflicts provoked through the public API: one social identity signing
//! in for the first time from many clients at once, then signing up from all of
//! them at once, then updating its profile from several sessions while other
//! members race it for one nickname. Write transactions run again on a deadlock
//! or lock wait timeout and, should one survive every attempt, answer ABORTED /
//! CONCURRENT_UPDATE, never INTERNAL. A client that gets ABORTED retries, as the
//! code asks it to; each identity must end up as exactly one member.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::atomic::{AtomicUsize, Ordering},
};

use futures::future::join_all;
use moing_proto::moing::auth::v1::{
    DevelopmentCredential, GetMyProfileRequest, GoogleCredential, KakaoCredential, Member,
    MemberStatus, SignInRequest, SignUpRequest, UpdateMyProfileRequest,
    sign_in_request::Credential,
};
use prost_types::FieldMask;
use tonic::Status;

use moing_testkit::concurrency::{retries, settle};

use crate::helpers::*;

const ROUNDS: usize = 3;
/// Clients per identity.
const CLIENTS: usize = 8;

fn reason(r: &Result<impl std::fmt::Debug, Status>) -> Option<String> {
    r.as_ref()
        .err()
        .and_then(moing_common::error::status_reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_sign_ins_sign_ups_and_profile_edits_at_once_never_answer_internal() {
    let app = spawn_app().await;
    let before = retries();
    let aborted = &AtomicUsize::new(0);
    let client = &app.client;
    let mut signed_up = 0;
    let mut updated = 0;
    for round in 0..ROUNDS {
        // Three identities new to the service (Google, Kakao, development),
        // each signing in from CLIENTS clients at once.
        let kakao_token = format!("kakao-race-{round}");
        app.kakao.issue(
            &kakao_token,
            5000 + round as i64,
            KAKAO_APP_ID,
            Some("race@kakao.test"),
        );
        let credentials = [
            Credential::Google(GoogleCredential {
                id_token: app
                    .google
                    .id_token(&format!("g-race-{round}"), "race@gmail.test"),
            }),
            Credential::Kakao(KakaoCredential {
                access_token: kakao_token,
            }),
            Credential::Development(DevelopmentCredential {
                nickname: format!("dev-race-{round}"),
            }),
        ];
        let sign_ins = join_all(credentials.iter().flat_map(|c| {
            (0..CLIENTS).map(move |i| {
                let req = SignInRequest {
                    credential: Some(c.clone()),
                    device: device(&format!("phone-{i}")),
                };
                settle("SignIn", aborted, move || {
                    let mut c = client.clone();
                    let req = req.clone();
                    async move { c.sign_in(req).await }
                })
            })
        }))
        .await;
        // Per identity: every client in, all as one pending member.
        let mut sessions: Vec<Vec<String>> = Vec::new();
        let mut members = Vec::new();
        for (k, chunk) in sign_ins.chunks(CLIENTS).enumerate() {
            let mut ids = BTreeSet::new();
            let mut tokens = Vec::new();
            for r in chunk {
                let r = r.as_ref().expect("sign-in");
                assert!(r.sign_up_required, "{r:?}");
                ids.insert(r.member.as_ref().expect("member").member_id.clone());
                tokens.push(r.tokens.as_ref().expect("tokens").access_token.clone());
            }
            assert_eq!(ids.len(), 1, "round {round}, identity {k}: {ids:?}");
            members.push(ids.pop_first().expect("id"));
            sessions.push(tokens);
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM member").await,
            (3 * (round + 1)) as i64,
            "one member per identity"
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM social_identity").await,
            (3 * (round + 1)) as i64
        );

        // Sign-up from every session at once: the Google member with a
        // different nickname per session, the Kakao and development members
        // all with one shared nickname.
        let shared = format!("공유{round}");
        let ups = join_all(sessions.iter().enumerate().flat_map(|(k, tokens)| {
            let shared = shared.clone();
            tokens.iter().enumerate().map(move |(i, token)| {
                let nickname = if k == 0 {
                    format!("구글{round}_{i}")
                } else {
                    shared.clone()
                };
                settle("SignUp", aborted, move || {
                    let mut c = client.clone();
                    let req = bearer(
                        SignUpRequest {
                            nickname: nickname.clone(),
                            ..Default::default()
                        },
                        token,
                    );
                    async move { c.sign_up(req).await }
                })
            })
        }))
        .await;
        let per_member: Vec<&[Result<_, Status>]> = ups.chunks(CLIENTS).collect();
        let won = |k: usize| per_member[k].iter().filter(|r| r.is_ok()).count();
        assert_eq!(won(0), 1, "one sign-up per member: {:?}", per_member[0]);
        for r in per_member[0].iter().filter(|r| r.is_err()) {
            assert_eq!(reason(r).as_deref(), Some("ALREADY_SIGNED_UP"), "{r:?}");
        }
        // One of the two members got the shared nickname, once; the other's
        // sessions all heard NICKNAME_TAKEN.
        assert_eq!(won(1) + won(2), 1, "{:?}", &ups[CLIENTS..]);
        let (winner, loser) = if won(1) == 1 { (1, 2) } else { (2, 1) };
        for r in per_member[winner].iter().filter(|r| r.is_err()) {
            assert_eq!(reason(r).as_deref(), Some("ALREADY_SIGNED_UP"), "{r:?}");
        }
        for r in per_member[loser] {
            assert_eq!(reason(r).as_deref(), Some("NICKNAME_TAKEN"), "{r:?}");
        }
        signed_up += 2;
        let mut active: Vec<String> = Vec::new();
        for k in [0, winner] {
            let up = per_member[k]
                .iter()
                .find_map(|r| r.as_ref().ok())
                .expect("winner");
            assert_eq!(up.member.as_ref().expect("m").member_id, members[k]);
            active.push(up.access_token.clone());
        }
        let up = client
            .clone()
            .sign_up(bearer(
                SignUpRequest {
                    nickname: format!("늦은{round}"),
                    ..Default::default()
                },
                &sessions[loser][0],
            ))
            .await
            .expect("the loser takes another nickname")
            .into_inner();
        signed_up += 1;
        active.push(up.access_token);

        // Profile edits at once: each member's introduction from four sessions,
        // all three members for one nickname, while the identities sign in again.
        let wanted = format!("인기{round}");
        let intros = join_all(active.iter().enumerate().flat_map(|(k, token)| {
            (0..4).map(move |i| {
                settle("UpdateMyProfile", aborted, move || {
                    let mut c = client.clone();
                    let req = bearer(
                        UpdateMyProfileRequest {
                            member: Some(Member {
                                introduction: format!("{k}번 소개 {i}"),
                                ..Default::default()
                            }),
                            update_mask: Some(FieldMask {
                                paths: vec!["introduction".into()],
                            }),
                        },
                        token,
                    );
                    async move { c.update_my_profile(req).await }
                })
            })
        }));
        let renames = join_all(active.iter().map(|token| {
            let wanted = wanted.clone();
            settle("UpdateMyProfile", aborted, move || {
                let mut c = client.clone();
                let req = bearer(
                    UpdateMyProfileRequest {
                        member: Some(Member {
                            nickname: wanted.clone(),
                            ..Default::default()
                        }),
                        update_mask: Some(FieldMask {
                            paths: vec!["nickname".into()],
                        }),
                    },
                    token,
                );
                async move { c.update_my_profile(req).await }
            })
        }));
        let again = join_all(credentials.iter().map(|c| {
            let req = SignInRequest {
                credential: Some(c.clone()),
                device: device("tablet"),
            };
            settle("SignIn", aborted, move || {
                let mut c = client.clone();
                let req = req.clone();
                async move { c.sign_in(req).await }
            })
        }));
        let (intros, renames, again) = tokio::join!(intros, renames, again);
        for (k, r) in intros.chunks(4).enumerate() {
            for r in r {
                let m = r.as_ref().expect("introduction").member.clone().expect("m");
                assert_eq!(m.member_id, members[[0, winner, loser][k]]);
            }
        }
        updated += intros.len();
        assert_eq!(
            renames.iter().filter(|r| r.is_ok()).count(),
            1,
            "one member gets the nickname: {renames:?}"
        );
        for r in renames.iter().filter(|r| r.is_err()) {
            assert_eq!(reason(r).as_deref(), Some("NICKNAME_TAKEN"), "{r:?}");
        }
        updated += 1;
        for (k, r) in again.iter().enumerate() {
            let r = r.as_ref().expect("sign-in again");
            assert!(!r.sign_up_required);
            assert_eq!(r.member.as_ref().expect("m").member_id, members[k]);
        }

        // Each member's introduction is one of those sent, and the nickname is
        // held once.
        let mut nicknames = Vec::new();
        for (k, token) in active.iter().enumerate() {
            let me = client
                .clone()
                .get_my_profile(bearer(GetMyProfileRequest {}, token))
                .await
                .expect("profile")
                .into_inner()
                .member
                .expect("member");
            assert_eq!(me.status, MemberStatus::Active as i32);
            assert!(
                (0..4).any(|i| me.introduction == format!("{k}번 소개 {i}")),
                "{me:?}"
            );
            nicknames.push(me.nickname);
        }
        assert_eq!(
            nicknames.iter().filter(|n| **n == wanted).count(),
            1,
            "{nicknames:?}"
        );
    }

    assert_eq!(
        app.count("SELECT COUNT(*) FROM member").await,
        (3 * ROUNDS) as i64
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM member WHERE status = 'ACTIVE'")
            .await,
        (3 * ROUNDS) as i64
    );
    // MemberSignedUp and MemberProfileUpdated once per acknowledged change.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox").await,
        (signed_up + updated) as i64
    );

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
