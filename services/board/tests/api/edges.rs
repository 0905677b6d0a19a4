//! Out-of-range input at the edge of every RPC is INVALID_ARGUMENT naming the
//! field, never INTERNAL or a panic.

use moing_proto::moing::board::v1::*;

use crate::helpers::*;

fn vote(team: &str, closes_at: prost_types::Timestamp) -> CreateVoteRequest {
    CreateVoteRequest {
        team_id: team.into(),
        title: "회식 메뉴".into(),
        memo: String::new(),
        options: vec!["고기".into(), "회".into()],
        multiple_choice: false,
        anonymous: false,
        closes_at: Some(closes_at),
    }
}

#[tokio::test]
async fn out_of_range_vote_deadlines_are_invalid_arguments() {
    let app = spawn_app().await;
    let leader = app.member();
    let (team, _) = app.team(&leader).await;
    let ts = |seconds| prost_types::Timestamp { seconds, nanos: 0 };
    for t in [
        ts(253_402_300_800), // 10000-01-01T00:00:00Z
        ts(-62_135_596_800), // 0001-01-01T00:00:00Z
        ts(i64::MAX),
        ts(i64::MIN),
    ] {
        assert_invalid(
            app.board
                .clone()
                .create_vote(as_member(&leader, vote(&team, t)))
                .await,
            &["closes_at"],
        );
    }
}

#[tokio::test]
async fn enum_filters_outside_the_proto_are_invalid_arguments() {
    let app = spawn_app().await;
    let leader = app.member();
    let (team, _) = app.team(&leader).await;
    for state in [i32::MIN, 99] {
        assert_invalid(
            app.board
                .clone()
                .list_votes(as_member(
                    &leader,
                    ListVotesRequest {
                        team_id: team.clone(),
                        state,
                        ..Default::default()
                    },
                ))
                .await,
            &["state"],
        );
        assert_invalid(
            app.board
                .clone()
                .list_votes(as_member(
                    &leader,
                    ListVotesRequest {
                        team_id: team.clone(),
                        page_token: "garbage".into(),
                        ..Default::default()
                    },
                ))
                .await,
            &["page_token"],
        );
    }
}
