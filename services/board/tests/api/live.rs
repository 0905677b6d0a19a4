//! WatchGoalBoard: the live goal board, on two replicas sharing Redis, with the
//! events relayed from moim and mission as the chart wires them.

use std::time::{Duration, Instant};

use moing_proto::moing::{
    board::v1::{
        GoalBoard, WatchGoalBoardRequest, WatchGoalBoardResponse,
        board_service_client::BoardServiceClient, watch_goal_board_response::Update,
    },
    mission::v1::{CreateMissionRequest, SubmitProofRequest, submit_proof_request::Body},
    moim::v1::RemoveTeamMemberRequest,
};
use tonic::{Code, Status, Streaming, transport::Channel};

use crate::helpers::{Member, Options, TestApp, as_member, spawn_with};

async fn watch(
    client: &BoardServiceClient<Channel>,
    m: &Member,
    team: &str,
) -> Streaming<WatchGoalBoardResponse> {
    client
        .clone()
        .watch_goal_board(as_member(
            m,
            WatchGoalBoardRequest {
                team_id: team.into(),
            },
        ))
        .await
        .expect("watch")
        .into_inner()
}

/// The next goal board on the stream (heartbeats skipped), within `limit`.
async fn next_board(
    s: &mut Streaming<WatchGoalBoardResponse>,
    limit: Duration,
) -> Result<GoalBoard, Status> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, s.message()).await {
            Err(_) => return Err(Status::deadline_exceeded("no board in time")),
            Ok(Err(status)) => return Err(status),
            Ok(Ok(None)) => return Err(Status::aborted("stream ended")),
            Ok(Ok(Some(WatchGoalBoardResponse {
                update: Some(Update::GoalBoard(b)),
            }))) => return Ok(b),
            Ok(Ok(Some(_))) => continue,
        }
    }
}

fn my_done(b: &GoalBoard) -> i32 {
    b.overall_rates.as_ref().map_or(0, |r| r.my_done_count)
}

async fn once_mission(app: &TestApp, m: &Member, team: &str, title: &str) -> String {
    app.missions
        .clone()
        .create_mission(as_member(
            m,
            CreateMissionRequest {
                team_id: team.into(),
                title: title.into(),
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
        .expect("mission")
        .id
}

async fn prove(app: &TestApp, m: &Member, team: &str, mission: &str) {
    app.missions
        .clone()
        .submit_proof(as_member(
            m,
            SubmitProofRequest {
                team_id: team.into(),
                mission_id: mission.into(),
                body: Some(Body::Text("했어요".into())),
                caption: String::new(),
            },
        ))
        .await
        .expect("proof");
}

#[tokio::test]
async fn another_members_proof_reaches_watchers_on_both_replicas_within_a_second() {
    let app = spawn_with(Options {
        second_replica: true,
        ..Options::default()
    })
    .await;
    let (a, b) = (app.member(), app.member());
    let (team, code) = app.team(&a).await;
    app.join(&code, &b).await;
    let mission = once_mission(&app, &a, &team, "책 읽기").await;
    let second = app.board2.clone().expect("second replica");
    let mut on_first = watch(&app.board, &a, &team).await;
    let mut on_second = watch(&second, &a, &team).await;
    let first = next_board(&mut on_first, Duration::from_secs(3))
        .await
        .expect("first board");
    assert_eq!(first.members.len(), 2);
    let before = next_board(&mut on_second, Duration::from_secs(3))
        .await
        .expect("first board");
    assert_eq!(
        before.etag, first.etag,
        "both replicas build the same board"
    );
    // The mission's own event has long been relayed; then b proves.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let sent = Instant::now();
    prove(&app, &b, &team, &mission).await;
    let wanted = |board: &GoalBoard| {
        board
            .ranking
            .iter()
            .any(|r| r.member_id == b.id.to_string() && r.rate == Some(1.0))
    };
    for (name, stream) in [("first", &mut on_first), ("second", &mut on_second)] {
        loop {
            let board = next_board(
                stream,
                Duration::from_secs(1).saturating_sub(sent.elapsed()),
            )
            .await
            .unwrap_or_else(|e| panic!("{name} replica: no board with the proof within 1 s: {e}"));
            if wanted(&board) {
                break;
            }
        }
    }
    assert!(
        sent.elapsed() <= Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );
}

#[tokio::test]
async fn removal_ends_the_stream_with_not_found_within_a_second() {
    let app = spawn_with(Options::default()).await;
    let (a, b) = (app.member(), app.member());
    let (team, code) = app.team(&a).await;
    app.join(&code, &b).await;
    let mut stream = watch(&app.board, &b, &team).await;
    next_board(&mut stream, Duration::from_secs(3))
        .await
        .expect("first board");
    let removed = Instant::now();
    app.teams
        .clone()
        .remove_team_member(as_member(
            &a,
            RemoveTeamMemberRequest {
                team_id: team.clone(),
                member_id: b.id.to_string(),
            },
        ))
        .await
        .expect("remove");
    let end = loop {
        match next_board(&mut stream, Duration::from_secs(2)).await {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    assert_eq!(end.code(), Code::NotFound, "{end:?}");
    assert!(
        removed.elapsed() <= Duration::from_secs(1),
        "{:?}",
        removed.elapsed()
    );
    // A non-member cannot open one either, exactly as for a made-up team.
    let refused = app
        .board
        .clone()
        .watch_goal_board(as_member(
            &b,
            WatchGoalBoardRequest {
                team_id: team.clone(),
            },
        ))
        .await
        .expect_err("not a member");
    assert_eq!(refused.code(), Code::NotFound);
}

#[tokio::test]
async fn bursts_are_coalesced_a_slow_reader_gets_the_latest_and_heartbeats_keep_it_open() {
    let app = spawn_with(Options {
        heartbeat_secs: Some(1),
        ..Options::default()
    })
    .await;
    let a = app.member();
    let others: Vec<Member> = (0..6).map(|_| app.member()).collect();
    let (team, code) = app.team(&a).await;
    for m in &others {
        app.join(&code, m).await;
    }
    let mission = once_mission(&app, &a, &team, "운동").await;
    let mut fast = watch(&app.board, &a, &team).await;
    // A reader that really falls behind: its HTTP/2 windows hold about one
    // board, so unread boards back up to the server at once.
    let narrow = Channel::from_shared(app.board_endpoint.clone())
        .expect("uri")
        .initial_stream_window_size(Some(1024))
        .initial_connection_window_size(Some(1024))
        .connect()
        .await
        .expect("connect");
    let mut slow = watch(&BoardServiceClient::new(narrow), &a, &team).await;
    next_board(&mut fast, Duration::from_secs(3))
        .await
        .expect("first");
    // The slow reader takes its first board only after the burst.
    let started = Instant::now();
    for m in &others {
        prove(&app, m, &team, &mission).await;
    }
    // The fast reader: boards built at least 250 ms apart (as the server
    // dated them), until all six are in.
    let mut built = vec![];
    loop {
        let board = next_board(&mut fast, Duration::from_secs(3))
            .await
            .expect("board");
        let at = board.generated_at.as_ref().expect("generated_at");
        built.push(chrono::DateTime::from_timestamp(at.seconds, at.nanos as u32).expect("time"));
        if board.ranking.iter().filter(|r| r.rate == Some(1.0)).count() == 6 {
            break;
        }
    }
    for pair in built.windows(2) {
        assert!(
            pair[1] - pair[0] >= chrono::Duration::milliseconds(249),
            "{:?}",
            pair[1] - pair[0]
        );
    }
    assert!(
        built.len() <= 2 + started.elapsed().as_millis() as usize / 250,
        "{} boards in {:?}",
        built.len(),
        started.elapsed()
    );
    // The slow reader: its first board, at most one held back, then the latest.
    let mut got = vec![];
    while let Ok(Ok(Some(msg))) =
        tokio::time::timeout(Duration::from_millis(1500), slow.message()).await
    {
        match msg.update {
            Some(Update::GoalBoard(b)) => got.push(b),
            Some(Update::Heartbeat(h)) => {
                assert_eq!(
                    h.etag,
                    got.last().map(|b| b.etag.clone()).unwrap_or_default()
                );
                break;
            }
            None => {}
        }
    }
    let seen: Vec<(usize, String)> = got
        .iter()
        .map(|b| {
            (
                b.ranking.iter().filter(|r| r.rate == Some(1.0)).count(),
                b.etag.clone(),
            )
        })
        .collect();
    // What the transport held, what the watcher held, then the latest.
    assert!(got.len() <= 4, "a slow reader gets no backlog: {seen:?}");
    let last = got.last().expect("boards");
    assert_eq!(
        last.ranking.iter().filter(|r| r.rate == Some(1.0)).count(),
        6,
        "the latest board"
    );
    assert_eq!(my_done(last), 0, "a did not prove");
}
