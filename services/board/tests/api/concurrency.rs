//! Lock conflicts provoked through the public API: every member casting and
//! changing their choice in two votes from two clients at once, while they all
//! comment on one post. Write transactions run again on a deadlock or lock wait
//! timeout and, should one survive every attempt, answer ABORTED /
//! CONCURRENT_UPDATE, never INTERNAL. A client that gets ABORTED retries, as the
//! code asks it to; the tallies must then count every voter exactly once.

use std::{
    collections::{BTreeMap, BTreeSet},
    future::Future,
    sync::atomic::{AtomicUsize, Ordering},
};

use futures::future::join_all;
use moing_proto::moing::board::v1::*;
use tonic::Status;

use moing_testkit::concurrency::{retries, settle};

use crate::helpers::*;

const ROUNDS: usize = 3;
const VOTERS: usize = 8;

fn cast(team: &str, vote: &str, options: &[&String]) -> CastVoteRequest {
    CastVoteRequest {
        team_id: team.into(),
        vote_id: vote.into(),
        option_ids: options.iter().map(|o| (*o).clone()).collect(),
    }
}

/// The vote as `who` sees it.
async fn seen(app: &TestApp, who: &Member, team: &str, vote: &str) -> Vote {
    app.board
        .clone()
        .get_vote(as_member(
            who,
            GetVoteRequest {
                team_id: team.into(),
                vote_id: vote.into(),
            },
        ))
        .await
        .expect("get vote")
        .into_inner()
        .vote
        .expect("vote")
}

/// Distinct ballots with a choice, and voters recorded: equal when no choice
/// outlived its voter row and no voter lost their choices.
async fn ballots_and_voters(app: &TestApp, vote: &str) -> (i64, i64) {
    let id = uuid::Uuid::parse_str(vote).expect("id");
    let ballots: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT ballot) FROM vote_choice WHERE vote_id = ?")
            .bind(id)
            .fetch_one(&app.db.pool)
            .await
            .expect("ballots");
    let voters: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vote_voter WHERE vote_id = ?")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .expect("voters");
    (ballots, voters)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn votes_changed_and_comments_at_once_never_answer_internal() {
    let app = spawn_app().await;
    let before = retries();
    let aborted = &AtomicUsize::new(0);
    let leader = app.member();
    let (team, code) = app.team(&leader).await;
    let mut voters = vec![leader];
    for _ in 1..VOTERS {
        let m = app.member();
        app.join(&code, &m).await;
        voters.push(m);
    }
    let board = &app.board;
    let new_vote = |multiple_choice: bool, anonymous: bool| {
        let req = as_member(
            &voters[0],
            CreateVoteRequest {
                team_id: team.clone(),
                title: "회식 메뉴".into(),
                memo: String::new(),
                options: vec!["고기".into(), "회".into(), "피자".into()],
                multiple_choice,
                anonymous,
                closes_at: None,
            },
        );
        let mut b = board.clone();
        async move {
            b.create_vote(req)
                .await
                .expect("vote")
                .into_inner()
                .vote
                .expect("vote")
        }
    };
    // One single-choice named vote, one multiple-choice anonymous vote.
    let single = new_vote(false, false).await;
    let multi = new_vote(true, true).await;
    let s_opts: Vec<String> = single.options.iter().map(|o| o.option_id.clone()).collect();
    let m_opts: Vec<String> = multi.options.iter().map(|o| o.option_id.clone()).collect();
    let post = board
        .clone()
        .create_post(as_member(
            &voters[0],
            CreatePostRequest {
                team_id: team.clone(),
                title: "이번 주 회식".into(),
                content: "어디로 갈까요".into(),
                is_notice: false,
            },
        ))
        .await
        .expect("post")
        .into_inner()
        .post
        .expect("post");

    let mut comments = BTreeSet::new();
    for round in 0..ROUNDS {
        // Each voter sends two casts of each vote at once, from two clients: the
        // same choice twice in the first round (a double tap), two different
        // choices afterwards (a change racing itself); and a comment, and marks
        // the post read.
        let s_pairs: Vec<[&String; 2]> = (0..VOTERS)
            .map(|i| {
                let a = &s_opts[(i + round) % 3];
                let b = if round == 0 {
                    a
                } else {
                    &s_opts[(i + round + 1) % 3]
                };
                [a, b]
            })
            .collect();
        let m_pairs: [Vec<&String>; 2] = if round == 0 {
            [vec![&m_opts[0], &m_opts[1]], vec![&m_opts[0], &m_opts[1]]]
        } else {
            [vec![&m_opts[0], &m_opts[1]], vec![&m_opts[1], &m_opts[2]]]
        };
        // In the first and last rounds each voter also retracts the single
        // vote at the same time (in the first, before they ever voted).
        let retracting = round != 1;
        let casts = join_all(voters.iter().enumerate().flat_map(|(i, who)| {
            let single = s_pairs[i].map(|o| cast(&team, &single.vote_id, &[o]));
            let multi = m_pairs.clone().map(|os| cast(&team, &multi.vote_id, &os));
            single.into_iter().chain(multi).map(move |req| async move {
                settle("CastVote", aborted, || {
                    let mut b = board.clone();
                    let req = as_member(who, req.clone());
                    async move { b.cast_vote(req).await }
                })
                .await
                .map(drop)
            })
        }));
        let retracts = join_all(voters.iter().filter(|_| retracting).map(|who| {
            let req = RetractVoteRequest {
                team_id: team.clone(),
                vote_id: single.vote_id.clone(),
            };
            async move {
                settle("RetractVote", aborted, || {
                    let mut b = board.clone();
                    let req = as_member(who, req.clone());
                    async move { b.retract_vote(req).await }
                })
                .await
                .map(drop)
            }
        }));
        let said = join_all(voters.iter().enumerate().map(|(i, who)| {
            let req = CreatePostCommentRequest {
                team_id: team.clone(),
                post_id: post.post_id.clone(),
                content: format!("{round}회차 {i}번 의견"),
            };
            async move {
                settle("CreatePostComment", aborted, || {
                    let mut b = board.clone();
                    let req = as_member(who, req.clone());
                    async move { b.create_post_comment(req).await }
                })
                .await
            }
        }));
        let read = join_all(voters.iter().map(|who| {
            let req = MarkPostReadRequest {
                team_id: team.clone(),
                post_id: post.post_id.clone(),
            };
            async move {
                settle("MarkPostRead", aborted, || {
                    let mut b = board.clone();
                    let req = as_member(who, req.clone());
                    async move { b.mark_post_read(req).await }
                })
                .await
            }
        }));
        let (casts, retracts, said, read) = tokio::join!(casts, retracts, said, read);
        for c in casts {
            c.expect("cast");
        }
        for r in retracts {
            r.expect("retract");
        }
        for c in said {
            comments.insert(c.expect("comment").comment.expect("c").comment_id);
        }
        for r in read {
            r.expect("read");
        }

        // Every voter holds exactly one of the choices they sent, nothing more
        // (or nothing, when their retract came last).
        let mut s_voters = 0;
        let (mut s_total, mut s_count) = (0, 0);
        for (i, who) in voters.iter().enumerate() {
            let s = seen(&app, who, &team, &single.vote_id).await;
            match s.my_option_ids.as_slice() {
                [] if retracting => assert!(!s.voted_by_me, "round {round}, voter {i}: {s:?}"),
                [mine] => {
                    assert!(s.voted_by_me);
                    assert!(
                        s_pairs[i].contains(&mine),
                        "round {round}, voter {i}: {s:?}"
                    );
                    s_voters += 1;
                }
                _ => panic!("round {round}, voter {i}: {s:?}"),
            }
            s_total = s.options.iter().map(|o| o.vote_count).sum::<i32>();
            s_count = s.voter_count;
            let named: BTreeSet<String> = s
                .options
                .iter()
                .flat_map(|o| o.voters.iter().map(|a| a.member_id.clone()))
                .collect();
            assert_eq!(
                named.len() as i32,
                s.voter_count,
                "each voter named once: {s:?}"
            );
            let m = seen(&app, who, &team, &multi.vote_id).await;
            let mut mine = m.my_option_ids.clone();
            mine.sort();
            assert!(
                m_pairs.iter().any(|p| {
                    let mut p: Vec<String> = p.iter().map(|o| (*o).clone()).collect();
                    p.sort();
                    p == mine
                }),
                "round {round}, voter {i}: {m:?}"
            );
            assert_eq!(m.voter_count, VOTERS as i32, "round {round}");
            assert_eq!(
                m.options.iter().map(|o| o.vote_count).sum::<i32>(),
                2 * VOTERS as i32,
                "round {round}: two choices per voter: {m:?}"
            );
        }
        assert_eq!(
            (s_total, s_count),
            (s_voters, s_voters),
            "round {round}: one choice per voter"
        );
        if !retracting {
            assert_eq!(s_voters, VOTERS as i32, "round {round}");
        }
        assert_eq!(
            ballots_and_voters(&app, &single.vote_id).await,
            (i64::from(s_voters), i64::from(s_voters)),
            "round {round}: no choice without its voter, no voter without a choice"
        );
        assert_eq!(
            ballots_and_voters(&app, &multi.vote_id).await,
            (VOTERS as i64, VOTERS as i64)
        );
    }

    // Settle at once: even voters pick the first option, odd ones retract; in
    // the anonymous vote everyone picks the first and last options.
    let last = join_all(voters.iter().enumerate().flat_map(|(i, who)| {
        let s = (i % 2 == 0).then(|| cast(&team, &single.vote_id, &[&s_opts[0]]));
        let retract = RetractVoteRequest {
            team_id: team.clone(),
            vote_id: single.vote_id.clone(),
        };
        let m = cast(&team, &multi.vote_id, &[&m_opts[0], &m_opts[2]]);
        [
            Box::pin(async move {
                match s {
                    Some(s) => settle("CastVote", aborted, || {
                        let mut b = board.clone();
                        let req = as_member(who, s.clone());
                        async move { b.cast_vote(req).await }
                    })
                    .await
                    .map(drop),
                    None => settle("RetractVote", aborted, || {
                        let mut b = board.clone();
                        let req = as_member(who, retract.clone());
                        async move { b.retract_vote(req).await }
                    })
                    .await
                    .map(drop),
                }
            })
                as std::pin::Pin<Box<dyn Future<Output = Result<(), Status>> + Send + '_>>,
            Box::pin(async move {
                settle("CastVote", aborted, || {
                    let mut b = board.clone();
                    let req = as_member(who, m.clone());
                    async move { b.cast_vote(req).await }
                })
                .await
                .map(drop)
            }),
        ]
    }))
    .await;
    for r in last {
        r.expect("settle");
    }
    let s = seen(&app, &voters[0], &team, &single.vote_id).await;
    assert_eq!(
        s.options.iter().map(|o| o.vote_count).collect::<Vec<_>>(),
        vec![(VOTERS / 2) as i32, 0, 0]
    );
    assert_eq!(s.voter_count, (VOTERS / 2) as i32);
    let m = seen(&app, &voters[1], &team, &multi.vote_id).await;
    assert_eq!(
        m.options.iter().map(|o| o.vote_count).collect::<Vec<_>>(),
        vec![VOTERS as i32, 0, VOTERS as i32]
    );
    assert_eq!(m.voter_count, VOTERS as i32);
    assert!(m.options.iter().all(|o| o.voters.is_empty()), "anonymous");
    assert_eq!(
        ballots_and_voters(&app, &single.vote_id).await,
        ((VOTERS / 2) as i64, (VOTERS / 2) as i64)
    );
    assert_eq!(
        ballots_and_voters(&app, &multi.vote_id).await,
        (VOTERS as i64, VOTERS as i64)
    );

    // Every acknowledged comment is stored once, and the post counts them all.
    assert_eq!(comments.len(), ROUNDS * VOTERS);
    let p = board
        .clone()
        .get_post(as_member(
            &voters[1],
            GetPostRequest {
                team_id: team.clone(),
                post_id: post.post_id.clone(),
            },
        ))
        .await
        .expect("get post")
        .into_inner()
        .post
        .expect("post");
    assert_eq!(p.comment_count, (ROUNDS * VOTERS) as i32);
    let listed = board
        .clone()
        .list_post_comments(as_member(
            &voters[1],
            ListPostCommentsRequest {
                team_id: team.clone(),
                post_id: post.post_id.clone(),
                page_size: 100,
                ..Default::default()
            },
        ))
        .await
        .expect("comments")
        .into_inner()
        .comments;
    assert_eq!(
        listed
            .iter()
            .map(|c| c.comment_id.clone())
            .collect::<BTreeSet<_>>(),
        comments
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
