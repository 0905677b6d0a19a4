//! Anonymous votes as the database sees them. After several members voted,
//! every board table is read alone (`SELECT *`, each column as hex): no row
//! holds a voter's member id together with an anonymous vote's choice (or even
//! its id), and the stored ballots and voter rows cannot be recomputed from the
//! ids without the ballot secret. And a rotation of that secret: votes cast
//! under the old key are still recognised and stay one per member.

use moing_board::ballot::{BallotKeys, mac};
use moing_common::{admin::AdminSettings, layer::AccessPolicy};
use moing_proto::moing::board::v1::{board_service_client::BoardServiceClient, *};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::helpers::*;

/// Every row of every table of the board's schema: (table, the row's columns
/// as upper-case hex joined by `|`).
async fn every_row(app: &TestApp) -> Vec<(String, String)> {
    let pool = &app.db.pool;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    assert!(tables.contains(&"vote_choice".to_owned()), "{tables:?}");
    let mut rows = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(column_name AS CHAR) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .expect("columns");
        let hex: Vec<String> = columns
            .iter()
            .map(|c| format!("IFNULL(HEX(`{c}`), '')"))
            .collect();
        let sql = format!(
            "SELECT CAST(CONCAT_WS('|', {}) AS CHAR) FROM `{table}`",
            hex.join(", ")
        );
        let found: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(pool)
            .await
            .expect("rows");
        rows.extend(found.into_iter().map(|r| (table.clone(), r)));
    }
    rows
}

/// Whether a hex-dumped row holds `id` in any form: 16 raw bytes, or text
/// (hyphenated or simple, either case) as in the outbox's protobuf payloads.
fn holds(row: &str, id: Uuid) -> bool {
    let text = [
        id.hyphenated().to_string(),
        id.simple().to_string(),
        id.hyphenated().to_string().to_uppercase(),
        id.simple().to_string().to_uppercase(),
    ];
    std::iter::once(hex::encode_upper(id.as_bytes()))
        .chain(text.iter().map(hex::encode_upper))
        .any(|needle| row.contains(&needle))
}

fn vote_request(team: &str, anonymous: bool) -> CreateVoteRequest {
    CreateVoteRequest {
        team_id: team.into(),
        title: if anonymous {
            "익명 투표"
        } else {
            "기명 투표"
        }
        .into(),
        memo: String::new(),
        options: vec!["고기".into(), "회".into(), "피자".into()],
        multiple_choice: false,
        anonymous,
        closes_at: None,
    }
}

async fn cast(
    board: &BoardServiceClient<Channel>,
    who: &Member,
    team: &str,
    vote: &str,
    option: &str,
) -> Vote {
    board
        .clone()
        .cast_vote(as_member(
            who,
            CastVoteRequest {
                team_id: team.into(),
                vote_id: vote.into(),
                option_ids: vec![option.into()],
            },
        ))
        .await
        .expect("cast")
        .into_inner()
        .vote
        .expect("vote")
}

async fn seen(board: &BoardServiceClient<Channel>, who: &Member, team: &str, vote: &str) -> Vote {
    board
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

fn options(v: &Vote) -> Vec<String> {
    v.options.iter().map(|o| o.option_id.clone()).collect()
}

fn id(s: &str) -> Uuid {
    Uuid::parse_str(s).expect("uuid")
}

#[tokio::test]
async fn anonymous_votes_leave_no_voter_next_to_a_choice_in_any_board_table() {
    let app = spawn_app().await;
    let leader = app.member();
    let (team, code) = app.team(&leader).await;
    let mut voters = Vec::new();
    for _ in 0..5 {
        let m = app.member();
        app.join(&code, &m).await;
        voters.push(m);
    }
    let mut b = app.board.clone();
    let new_vote = |anonymous| {
        let mut b = b.clone();
        let req = as_member(&leader, vote_request(&team, anonymous));
        async move {
            b.create_vote(req)
                .await
                .expect("vote")
                .into_inner()
                .vote
                .expect("vote")
        }
    };
    let anon = new_vote(true).await;
    let named = new_vote(false).await;
    let (anon_opts, named_opts) = (options(&anon), options(&named));

    // Voter i picks option i % 3 in both votes; voter 0 changes their mind in
    // the anonymous one, voter 1 retracts and votes again.
    for (i, m) in voters.iter().enumerate() {
        cast(&b, m, &team, &anon.vote_id, &anon_opts[i % 3]).await;
        cast(&b, m, &team, &named.vote_id, &named_opts[i % 3]).await;
    }
    cast(&b, &voters[0], &team, &anon.vote_id, &anon_opts[2]).await;
    b.retract_vote(as_member(
        &voters[1],
        RetractVoteRequest {
            team_id: team.clone(),
            vote_id: anon.vote_id.clone(),
        },
    ))
    .await
    .expect("retract");
    cast(&b, &voters[1], &team, &anon.vote_id, &anon_opts[1]).await;
    let picked = [2, 1, 2, 0, 1];

    // The service still shows each voter their own choice and counts everyone.
    for (i, m) in voters.iter().enumerate() {
        let v = seen(&b, m, &team, &anon.vote_id).await;
        assert!(v.voted_by_me);
        assert_eq!(
            v.my_option_ids,
            vec![anon_opts[picked[i]].clone()],
            "voter {i}"
        );
        assert_eq!(v.voter_count, 5);
        assert!(v.options.iter().all(|o| o.voters.is_empty()));
        assert_eq!(
            v.options.iter().map(|o| o.vote_count).collect::<Vec<_>>(),
            vec![1, 2, 2]
        );
    }
    let leader_view = seen(&b, &leader, &team, &anon.vote_id).await;
    assert!(!leader_view.voted_by_me && leader_view.my_option_ids.is_empty());
    // The list finds my voter rows too (computed per vote, in one query).
    for (who, voted) in [(&voters[2], true), (&leader, false)] {
        let listed = b
            .list_votes(as_member(
                who,
                ListVotesRequest {
                    team_id: team.clone(),
                    ..Default::default()
                },
            ))
            .await
            .expect("list")
            .into_inner()
            .votes;
        assert_eq!(listed.len(), 2);
        for v in &listed {
            assert_eq!(v.voted_by_me, voted, "{v:?}");
            assert_eq!(v.voter_count, 5, "{v:?}");
        }
    }

    // The database alone.
    let rows = every_row(&app).await;
    let anon_id = id(&anon.vote_id);
    let anon_choices: Vec<Uuid> = anon_opts.iter().map(|o| id(o)).collect();
    let named_choices: Vec<Uuid> = named_opts.iter().map(|o| id(o)).collect();
    let names_a_voter = |row: &str| voters.iter().any(|m| holds(row, m.id));
    let linked: Vec<&(String, String)> = rows
        .iter()
        .filter(|(_, row)| names_a_voter(row))
        .filter(|(_, row)| holds(row, anon_id) || anon_choices.iter().any(|c| holds(row, *c)))
        .collect();
    assert!(
        linked.is_empty(),
        "rows naming a voter next to the anonymous vote or its choices: {linked:#?}"
    );
    // The same reading does see who chose what in the named vote (so it can
    // fail), and does see the anonymous choices themselves.
    let named_rows = rows
        .iter()
        .filter(|(t, row)| {
            t == "vote_choice" && names_a_voter(row) && named_choices.iter().any(|c| holds(row, *c))
        })
        .count();
    assert_eq!(named_rows, 5, "the named vote's choices name their voters");
    let anon_rows = rows
        .iter()
        .filter(|(t, row)| t == "vote_choice" && holds(row, anon_id))
        .count();
    assert_eq!(anon_rows, 5, "one anonymous choice per voter is stored");

    // What the anonymous vote stores: ballots with choices, voter rows with no
    // time; neither recomputable from the ids without the secret.
    let ballots: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT ballot FROM vote_choice WHERE vote_id = ?")
            .bind(anon_id)
            .fetch_all(&app.db.pool)
            .await
            .expect("ballots");
    let voter_rows: Vec<(Vec<u8>, Option<chrono::NaiveDateTime>)> =
        sqlx::query_as("SELECT voter, voted_at FROM vote_voter WHERE vote_id = ?")
            .bind(anon_id)
            .fetch_all(&app.db.pool)
            .await
            .expect("voters");
    assert_eq!(voter_rows.len(), 5);
    assert!(
        voter_rows.iter().all(|(_, at)| at.is_none()),
        "no time on an anonymous voted mark"
    );
    let stored: Vec<&[u8]> = ballots
        .iter()
        .map(Vec::as_slice)
        .chain(voter_rows.iter().map(|(v, _)| v.as_slice()))
        .collect();
    let vote = anon_id.as_bytes();
    let dev = moing_board::config::DEV_BALLOT_SECRET.as_bytes();
    let labels: [&[u8]; 3] = [b"moing.board.ballot.v1\0", b"moing.board.voter.v1\0", b""];
    for m in &voters {
        let member = m.id.as_bytes();
        let mut guesses: Vec<[u8; 32]> = vec![
            Sha256::new()
                .chain_update(vote)
                .chain_update(member)
                .finalize()
                .into(),
            Sha256::new()
                .chain_update(member)
                .chain_update(vote)
                .finalize()
                .into(),
            // The earlier scheme (SHA-256 of secret ‖ 0 ‖ vote ‖ member) with the
            // development secret and with none.
            Sha256::new()
                .chain_update(dev)
                .chain_update([0])
                .chain_update(vote)
                .chain_update(member)
                .finalize()
                .into(),
            Sha256::new()
                .chain_update([0])
                .chain_update(vote)
                .chain_update(member)
                .finalize()
                .into(),
        ];
        for key in [&b""[..], dev] {
            for label in labels {
                guesses.push(mac(key, label, anon_id, m.id));
            }
        }
        for g in &guesses {
            assert!(
                !stored.iter().any(|s| *s == &g[..] || *s == &g[..16]),
                "a ballot or voter row was recomputed without the secret"
            );
        }
        assert!(
            !stored.iter().any(|s| *s == member),
            "an anonymous voter row is a member id"
        );
        // With the secret it does match: the guesses above were the right shape.
        let real =
            BallotKeys::new(&app.board_settings.board.ballot_secret, &[]).current(anon_id, m.id);
        assert!(ballots.contains(&real.ballot.to_vec()));
        assert!(voter_rows.iter().any(|(v, _)| v[..] == real.voter[..]));
    }
}

#[tokio::test]
async fn rotating_the_ballot_secret_keeps_votes_recognised_and_one_per_member() {
    let app = spawn_app().await;
    let leader = app.member();
    let (team, code) = app.team(&leader).await;
    let (a, b) = (app.member(), app.member());
    app.join(&code, &a).await;
    app.join(&code, &b).await;
    let vote = app
        .board
        .clone()
        .create_vote(as_member(&leader, vote_request(&team, true)))
        .await
        .expect("vote")
        .into_inner()
        .vote
        .expect("vote");
    let opts = options(&vote);
    cast(&app.board, &a, &team, &vote.vote_id, &opts[0]).await;
    let old = app.board_settings.board.ballot_secret.clone();
    let key_ids = |secret: &str| BallotKeys::new(secret, &[]).key_ids()[0].clone();
    let stored_keys = || async {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(LOWER(HEX(key_id)) AS CHAR) FROM vote_choice WHERE vote_id = ? ORDER BY 1",
        )
        .bind(id(&vote.vote_id))
        .fetch_all(&app.db.pool)
        .await
        .expect("key ids");
        ids
    };
    assert_eq!(stored_keys().await, vec![key_ids(&old)]);

    // The operator rotates: a new current secret, the old one kept as previous.
    // Another board on the same database stands for the redeployed replicas.
    let new = format!("rotated-ballot-secret-{}", Uuid::new_v4().simple());
    let mut settings = app.board_settings.clone();
    settings.board.ballot_secret = new.clone();
    settings.board.ballot_previous_secrets = vec![old.clone()];
    settings.base.admin = AdminSettings { listen: None };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let stop = CancellationToken::new();
    let layer = app.tokens.auth_layer(AccessPolicy::default());
    let server = tokio::spawn(moing_board::startup::run_with(
        settings,
        listener,
        stop.clone(),
        layer,
    ));
    let rotated = BoardServiceClient::new(
        Channel::from_shared(endpoint)
            .expect("uri")
            .connect()
            .await
            .expect("connect"),
    );

    // A's ballot under the old key is still theirs ...
    let v = seen(&rotated, &a, &team, &vote.vote_id).await;
    assert!(v.voted_by_me);
    assert_eq!(v.my_option_ids, vec![opts[0].clone()]);
    // ... a new cast replaces it under the new key (never a second ballot) ...
    let v = cast(&rotated, &a, &team, &vote.vote_id, &opts[1]).await;
    assert_eq!(v.my_option_ids, vec![opts[1].clone()]);
    assert_eq!(v.voter_count, 1);
    assert_eq!(
        v.options.iter().map(|o| o.vote_count).collect::<Vec<_>>(),
        vec![0, 1, 0]
    );
    cast(&rotated, &b, &team, &vote.vote_id, &opts[2]).await;
    assert_eq!(stored_keys().await, vec![key_ids(&new); 2]);
    let voters: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vote_voter WHERE vote_id = ?")
        .bind(id(&vote.vote_id))
        .fetch_one(&app.db.pool)
        .await
        .expect("voters");
    assert_eq!(voters, 2, "one voter row per member after the re-key");
    // ... and the board still on the old key alone no longer knows B's ballot:
    // why a previous secret stays configured until its votes close.
    let v = seen(&app.board, &b, &team, &vote.vote_id).await;
    assert!(!v.voted_by_me && v.my_option_ids.is_empty());
    assert_eq!(v.voter_count, 2);
    stop.cancel();
    server
        .await
        .expect("join")
        .expect("rotated board stopped cleanly");
}
