use moing_proto::moing::{
    board::v1::*,
    moderation::v1::{ContentVisibility, ReportReason},
};
use tonic::Code;

use crate::helpers::*;

fn post(team: &str, title: &str, notice: bool) -> CreatePostRequest {
    CreatePostRequest {
        team_id: team.into(),
        title: title.into(),
        content: "내용".into(),
        is_notice: notice,
    }
}

#[tokio::test]
async fn posts_notices_read_marks_and_authority() {
    let app = spawn_app().await;
    let leader = app.member();
    let writer = app.member();
    let outsider = app.member();
    let (team, code) = app.team(&leader).await;
    app.join(&code, &writer).await;
    let mut b = app.board.clone();

    // Only the leader marks notices; validation is field by field.
    assert_status(
        b.create_post(as_member(&writer, post(&team, "공지", true)))
            .await,
        Code::PermissionDenied,
        "NOTICE_NEEDS_LEADER",
    );
    assert_invalid(
        b.create_post(as_member(
            &writer,
            CreatePostRequest {
                team_id: team.clone(),
                title: "x".repeat(31),
                content: String::new(),
                is_notice: false,
            },
        ))
        .await,
        &["title", "content"],
    );
    let notice = b
        .create_post(as_member(&leader, post(&team, "첫 공지", true)))
        .await
        .expect("notice")
        .into_inner()
        .post
        .expect("post");
    let mine = b
        .create_post(as_member(&writer, post(&team, "글", false)))
        .await
        .expect("post")
        .into_inner()
        .post
        .expect("post");

    // Non-members see nothing.
    assert_status(
        b.list_posts(as_member(
            &outsider,
            ListPostsRequest {
                team_id: team.clone(),
                ..Default::default()
            },
        ))
        .await,
        Code::NotFound,
        "TEAM_NOT_FOUND",
    );
    // Notices first, then newest first.
    let list = b
        .list_posts(as_member(
            &writer,
            ListPostsRequest {
                team_id: team.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("list")
        .into_inner()
        .posts;
    assert_eq!(list[0].post_id, notice.post_id);
    assert_eq!(list[1].post_id, mine.post_id);

    // A member who joins later still has the earlier notice unread.
    let late = app.member();
    app.join(&code, &late).await;
    let counts = b
        .get_unread_post_count(as_member(
            &late,
            GetUnreadPostCountRequest {
                team_id: team.clone(),
            },
        ))
        .await
        .expect("unread")
        .into_inner();
    assert_eq!(
        (counts.unread_notice_count, counts.unread_post_count),
        (1, 2)
    );
    let after = b
        .mark_post_read(as_member(
            &late,
            MarkPostReadRequest {
                team_id: team.clone(),
                post_id: notice.post_id.clone(),
            },
        ))
        .await
        .expect("read")
        .into_inner();
    assert_eq!((after.unread_notice_count, after.unread_post_count), (0, 1));

    // Only the author edits; the leader may delete anything.
    let edit = |who: &Member| {
        as_member(
            who,
            UpdatePostRequest {
                team_id: team.clone(),
                post_id: mine.post_id.clone(),
                post: Some(Post {
                    title: "고친 글".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["title".into()],
                }),
            },
        )
    };
    assert_status(
        b.update_post(edit(&leader)).await,
        Code::PermissionDenied,
        "NOT_AUTHOR",
    );
    let edited = b
        .update_post(edit(&writer))
        .await
        .expect("edit")
        .into_inner()
        .post
        .expect("post");
    assert_eq!(edited.title, "고친 글");
    assert!(edited.edited_at.is_some());
    assert_status(
        b.delete_post(as_member(
            &late,
            DeletePostRequest {
                team_id: team.clone(),
                post_id: mine.post_id.clone(),
            },
        ))
        .await,
        Code::PermissionDenied,
        "NOT_AUTHOR_OR_LEADER",
    );

    // Comments: ≤ 300, author deletes, leader moderates.
    let comment = b
        .create_post_comment(as_member(
            &late,
            CreatePostCommentRequest {
                team_id: team.clone(),
                post_id: mine.post_id.clone(),
                content: "좋아요".into(),
            },
        ))
        .await
        .expect("comment")
        .into_inner()
        .comment
        .expect("comment");
    assert_invalid(
        b.create_post_comment(as_member(
            &late,
            CreatePostCommentRequest {
                team_id: team.clone(),
                post_id: mine.post_id.clone(),
                content: "가".repeat(301),
            },
        ))
        .await,
        &["content"],
    );
    b.delete_post_comment(as_member(
        &leader,
        DeletePostCommentRequest {
            team_id: team.clone(),
            post_id: mine.post_id.clone(),
            comment_id: comment.comment_id.clone(),
        },
    ))
    .await
    .expect("leader moderates");
    b.delete_post(as_member(
        &leader,
        DeletePostRequest {
            team_id: team.clone(),
            post_id: mine.post_id.clone(),
        },
    ))
    .await
    .expect("leader deletes");

    // Reports: hidden for the reporter at once; content never overwritten.
    let report = b
        .report_post(as_member(
            &late,
            ReportPostRequest {
                team_id: team.clone(),
                post_id: notice.post_id.clone(),
                reason: ReportReason::Spam as i32,
                text: String::new(),
            },
        ))
        .await
        .expect("report")
        .into_inner()
        .moderation
        .expect("moderation");
    assert_eq!(report.visibility, ContentVisibility::HiddenForMe as i32);
    assert_status(
        b.report_post(as_member(
            &leader,
            ReportPostRequest {
                team_id: team.clone(),
                post_id: notice.post_id.clone(),
                reason: ReportReason::Spam as i32,
                text: String::new(),
            },
        ))
        .await,
        Code::FailedPrecondition,
        "CANNOT_REPORT_OWN",
    );
    let content: String = sqlx::query_scalar("SELECT content FROM post WHERE title = '첫 공지'")
        .fetch_one(&app.db.pool)
        .await
        .expect("content");
    assert_eq!(content, "내용");
}

#[tokio::test]
async fn twenty_members_vote_at_once_and_anonymous_votes_name_nobody() {
    let app = spawn_app().await;
    let leader = app.member();
    let (team, code) = app.team(&leader).await;
    let mut members = vec![];
    for _ in 0..19 {
        let m = app.member();
        app.join(&code, &m).await;
        members.push(m);
    }
    members.push(leader);
    let mut b = app.board.clone();
    for anonymous in [false, true] {
        let vote = b
            .create_vote(as_member(
                &members[19],
                CreateVoteRequest {
                    team_id: team.clone(),
                    title: "회식 메뉴".into(),
                    memo: String::new(),
                    options: vec!["고기".into(), "회".into(), "피자".into()],
                    multiple_choice: true,
                    anonymous,
                    closes_at: None,
                },
            ))
            .await
            .expect("vote")
            .into_inner()
            .vote
            .expect("vote");
        let options: Vec<String> = vote.options.iter().map(|o| o.option_id.clone()).collect();
        // Everyone picks options 0 and 1, at once.
        let casts = members.iter().map(|m| {
            let mut b = app.board.clone();
            let req = as_member(
                m,
                CastVoteRequest {
                    team_id: team.clone(),
                    vote_id: vote.vote_id.clone(),
                    option_ids: vec![options[0].clone(), options[1].clone()],
                },
            );
            async move { b.cast_vote(req).await }
        });
        for r in futures::future::join_all(casts).await {
            r.expect("cast");
        }
        let got = b
            .get_vote(as_member(
                &members[0],
                GetVoteRequest {
                    team_id: team.clone(),
                    vote_id: vote.vote_id.clone(),
                },
            ))
            .await
            .expect("get")
            .into_inner()
            .vote
            .expect("vote");
        let counts: Vec<i32> = got.options.iter().map(|o| o.vote_count).collect();
        assert_eq!(counts, vec![20, 20, 0], "no choice lost or doubled");
        assert_eq!(got.voter_count, 20);
        assert!(got.voted_by_me);
        assert_eq!(got.my_option_ids.len(), 2);
        if anonymous {
            assert!(got.options.iter().all(|o| o.voters.is_empty()));
            let linked: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM vote_choice c JOIN vote v ON v.id = c.vote_id WHERE v.anonymous = 1 AND c.member_id IS NOT NULL",
            )
            .fetch_one(&app.db.pool)
            .await
            .expect("count");
            assert_eq!(linked, 0, "anonymous choices carry no member id");
        } else {
            assert_eq!(got.options[0].voters.len(), 20);
        }
        // Single-choice rules and closing.
        assert_status(
            b.close_vote(as_member(
                &members[0],
                CloseVoteRequest {
                    team_id: team.clone(),
                    vote_id: vote.vote_id.clone(),
                },
            ))
            .await,
            Code::PermissionDenied,
            "NOT_AUTHOR_OR_LEADER",
        );
        b.close_vote(as_member(
            &members[19],
            CloseVoteRequest {
                team_id: team.clone(),
                vote_id: vote.vote_id.clone(),
            },
        ))
        .await
        .expect("close");
        assert_status(
            b.cast_vote(as_member(
                &members[0],
                CastVoteRequest {
                    team_id: team.clone(),
                    vote_id: vote.vote_id.clone(),
                    option_ids: vec![options[2].clone()],
                },
            ))
            .await,
            Code::FailedPrecondition,
            "VOTE_CLOSED",
        );
    }
    let single = b
        .create_vote(as_member(
            &members[0],
            CreateVoteRequest {
                team_id: team.clone(),
                title: "하나만".into(),
                options: vec!["a".into(), "b".into()],
                ..Default::default()
            },
        ))
        .await
        .expect("vote")
        .into_inner()
        .vote
        .expect("vote");
    let ids: Vec<String> = single.options.iter().map(|o| o.option_id.clone()).collect();
    assert_status(
        b.cast_vote(as_member(
            &members[1],
            CastVoteRequest {
                team_id: team.clone(),
                vote_id: single.vote_id.clone(),
                option_ids: ids.clone(),
            },
        ))
        .await,
        Code::InvalidArgument,
        "VOTE_SINGLE_CHOICE",
    );
    assert_invalid(
        b.create_vote(as_member(
            &members[0],
            CreateVoteRequest {
                team_id: team.clone(),
                title: String::new(),
                options: vec!["only".into()],
                ..Default::default()
            },
        ))
        .await,
        &["title", "options"],
    );
}

#[tokio::test]
async fn the_goal_board_brings_the_team_home_screen_in_one_call() {
    use moing_proto::moing::mission::v1::{
        CreateMissionRequest, SubmitProofRequest, submit_proof_request::Body,
    };
    let app = spawn_app().await;
    let leader = app.member();
    let other = app.member();
    let outsider = app.member();
    let (team, code) = app.team(&leader).await;
    app.join(&code, &other).await;
    let m = app
        .missions
        .clone()
        .create_mission(as_member(
            &leader,
            CreateMissionRequest {
                team_id: team.clone(),
                title: "책 읽기".into(),
                kind: 1,
                way: 1,
                deadline: Some(prost_types::Timestamp {
                    seconds: (moing_common::clock::now() + chrono::Duration::days(3)).timestamp(),
                    nanos: 0,
                }),
                ..Default::default()
            },
        ))
        .await
        .expect("mission")
        .into_inner()
        .mission
        .expect("mission");
    app.missions
        .clone()
        .submit_proof(as_member(
            &leader,
            SubmitProofRequest {
                team_id: team.clone(),
                mission_id: m.id.clone(),
                body: Some(Body::Text("다 읽음".into())),
                caption: String::new(),
            },
        ))
        .await
        .expect("proof");
    let mut b = app.board.clone();
    b.create_post(as_member(&leader, post(&team, "공지", true)))
        .await
        .expect("notice");
    b.create_vote(as_member(
        &leader,
        CreateVoteRequest {
            team_id: team.clone(),
            title: "모임 날짜".into(),
            options: vec!["토".into(), "일".into()],
            ..Default::default()
        },
    ))
    .await
    .expect("vote");

    assert_status(
        b.get_goal_board(as_member(
            &outsider,
            GetGoalBoardRequest {
                team_id: team.clone(),
            },
        ))
        .await,
        Code::NotFound,
        "TEAM_NOT_FOUND",
    );
    let board = b
        .get_goal_board(as_member(
            &other,
            GetGoalBoardRequest {
                team_id: team.clone(),
            },
        ))
        .await
        .expect("board")
        .into_inner()
        .goal_board
        .expect("board");
    assert_eq!(board.team.as_ref().map(|t| t.name.as_str()), Some("보드팀"));
    assert_eq!(board.members.len(), 2);
    assert_eq!(board.active_missions.len(), 1);
    assert!(board.active_missions[0].my_progress.is_some());
    assert_eq!(board.unread_notice_count, 1);
    assert_eq!(board.open_vote_count, 1);
    assert_eq!(board.daily_progress.len(), 14);
    assert!(!board.weekly_progress.is_empty());
    // The leader proved the ONCE mission; the other member's is still open, so
    // the leader ranks first with 100% and the other has no rate yet.
    assert_eq!(board.ranking[0].member_id, leader.id.to_string());
    assert_eq!(board.ranking[0].rank, 1);
    assert_eq!(board.ranking[0].rate, Some(1.0));
    assert_eq!(board.ranking[1].rate, None);
    let overall = board.overall_rates.expect("rates");
    assert_eq!(overall.team_rate, Some(1.0));
    assert_eq!(overall.my_rate, None);
    assert!(!board.etag.is_empty());
    assert!(board.score.is_some_and(|s| s.points >= 10));
}

#[tokio::test]
async fn a_dependency_that_never_answers_gives_a_clear_timeout_not_a_hang() {
    // A listener that accepts connections (kernel backlog) but never answers.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", hole.local_addr().expect("addr"));
    let app = spawn_app_with(Some(endpoint)).await;
    let leader = app.member();
    let (team, _) = app.team(&leader).await;
    let started = std::time::Instant::now();
    let err = assert_status(
        app.board
            .clone()
            .get_goal_board(as_member(
                &leader,
                GetGoalBoardRequest {
                    team_id: team.clone(),
                },
            ))
            .await,
        Code::DeadlineExceeded,
        "GOAL_BOARD_DEPENDENCY_TIMEOUT",
    );
    assert!(err.message().contains("mission"), "{err:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "answered after {:?}",
        started.elapsed()
    );
    // The rest of the board still works without mission.
    app.board
        .clone()
        .create_post(as_member(&leader, post(&team, "공지", true)))
        .await
        .expect("posts do not need mission");
    drop(hole);
}

/// Read-your-writes: the board a member opens right after a change counts it,
/// although the team's shared board parts are kept between changes.
#[tokio::test]
async fn the_board_read_right_after_a_change_shows_it() {
    use moing_proto::moing::mission::v1::{
        CreateMissionRequest, SubmitProofRequest, submit_proof_request::Body,
    };
    let app = spawn_app().await;
    let leader = app.member();
    let (team, code) = app.team(&leader).await;
    let mut members = vec![];
    for _ in 0..12 {
        let m = app.member();
        app.join(&code, &m).await;
        members.push(m);
    }
    let m = app
        .missions
        .clone()
        .create_mission(as_member(
            &leader,
            CreateMissionRequest {
                team_id: team.clone(),
                title: "매일 걷기".into(),
                kind: 2,
                way: 1,
                times_per_week: 7,
                ..Default::default()
            },
        ))
        .await
        .expect("mission")
        .into_inner()
        .mission
        .expect("mission");
    let mut b = app.board.clone();
    let done = |board: &GoalBoard| board.ranking.iter().map(|r| r.done_count).sum::<i32>();
    let read = |who: &Member| {
        as_member(
            who,
            GetGoalBoardRequest {
                team_id: team.clone(),
            },
        )
    };
    for (i, who) in members.iter().enumerate() {
        let before = b
            .get_goal_board(read(who))
            .await
            .expect("board")
            .into_inner()
            .goal_board
            .expect("board");
        assert_eq!(done(&before), i as i32);
        app.missions
            .clone()
            .submit_proof(as_member(
                who,
                SubmitProofRequest {
                    team_id: team.clone(),
                    mission_id: m.id.clone(),
                    body: Some(Body::Text("걸었다".into())),
                    caption: String::new(),
                },
            ))
            .await
            .expect("proof");
        let after = b
            .get_goal_board(read(who))
            .await
            .expect("board")
            .into_inner()
            .goal_board
            .expect("board");
        assert_eq!(done(&after), i as i32 + 1, "proof {i} shows at once");
        // A notice too (the board's own write).
        b.create_post(as_member(&leader, post(&team, &format!("공지 {i}"), true)))
            .await
            .expect("notice");
        let after = b
            .get_goal_board(read(who))
            .await
            .expect("board")
            .into_inner()
            .goal_board
            .expect("board");
        assert_eq!(
            after.unread_notice_count,
            i as i32 + 1,
            "notice {i} shows at once"
        );
    }
}
