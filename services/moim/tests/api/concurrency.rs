//! Lock conflicts under concurrency: every write transaction runs again on a
//! deadlock or lock wait timeout (`moing_common::transaction!`), so no call
//! answers INTERNAL and the caps still hold.

use futures::future::join_all;
use tonic::Code;

use crate::helpers::spawn_app;

fn reason(s: &tonic::Status) -> String {
    use tonic_types::StatusExt;
    s.get_error_details()
        .error_info()
        .map(|i| i.reason.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn one_member_joining_four_teams_at_once_ends_in_three_with_one_team_limit() {
    let app = spawn_app().await;
    for trial in 0..4 {
        let mut codes = Vec::new();
        for i in 0..4 {
            let leader = app.member();
            let team = app.team(&leader, &format!("동시{trial}-{i}")).await;
            codes.push(app.invite(&leader, &team, 0).await);
        }
        let member = app.member();
        let results = join_all(codes.iter().map(|c| app.join(&member, c))).await;
        let joined = results.iter().filter(|r| r.is_ok()).count();
        let refused: Vec<&tonic::Status> =
            results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(joined, 3, "trial {trial}: {results:?}");
        assert_eq!(refused.len(), 1, "trial {trial}: {results:?}");
        assert_eq!(
            refused[0].code(),
            Code::FailedPrecondition,
            "{:?}",
            refused[0]
        );
        assert_eq!(reason(refused[0]), "TEAM_LIMIT_REACHED");
        let rows = app
            .count(&format!(
                "SELECT COUNT(*) FROM membership WHERE member_id = UNHEX(REPLACE('{}', '-', '')) AND state = 'ACTIVE'",
                member.id
            ))
            .await;
        assert_eq!(rows, 3, "trial {trial}: three active memberships");
    }
}

#[tokio::test]
async fn many_members_joining_one_team_at_once_fill_it_without_internal_errors() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "붐비는팀").await;
    let code = app.invite(&leader, &team, 0).await;
    let members: Vec<_> = (0..16).map(|_| app.member()).collect();
    let results = join_all(members.iter().map(|m| app.join(m, &code))).await;
    for r in &results {
        if let Err(s) = r {
            assert_ne!(s.code(), Code::Internal, "{s:?}");
            assert_ne!(s.code(), Code::Unknown, "{s:?}");
            assert_eq!(reason(s), "TEAM_FULL", "{s:?}");
        }
    }
    let joined = results.iter().filter(|r| r.is_ok()).count() as i64;
    let count = app
        .count(&format!(
            "SELECT member_count FROM team WHERE id = UNHEX(REPLACE('{}', '-', ''))",
            team.team_id
        ))
        .await;
    let rows = app
        .count(&format!(
            "SELECT COUNT(*) FROM membership WHERE team_id = UNHEX(REPLACE('{}', '-', '')) AND state = 'ACTIVE'",
            team.team_id
        ))
        .await;
    assert_eq!(count, joined + 1, "member_count matches the joins");
    assert_eq!(rows, count, "one active membership per counted member");
}

/// Active leaders of a team, counted in the database.
async fn leaders(app: &crate::helpers::TestApp, team: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM membership WHERE team_id = UNHEX(REPLACE('{team}', '-', '')) AND state = 'ACTIVE' AND role = 'LEADER'"
    ))
    .await
}

#[tokio::test]
async fn racing_leadership_transfers_leave_exactly_one_leader() {
    use moing_proto::moing::moim::v1::{LeaveTeamRequest, TransferLeadershipRequest};

    use crate::helpers::as_member;

    let app = spawn_app().await;
    for trial in 0..5 {
        let leader = app.member();
        let team = app.team(&leader, "리더경쟁").await;
        let code = app.invite(&leader, &team, 0).await;
        let (b, c) = (app.member(), app.member());
        app.join(&b, &code).await.expect("join");
        app.join(&c, &code).await.expect("join");
        let transfer = |to: uuid::Uuid| {
            let mut client = app.client.clone();
            let req = as_member(
                &leader,
                TransferLeadershipRequest {
                    team_id: team.team_id.clone(),
                    new_leader_member_id: to.to_string(),
                },
            );
            async move { client.transfer_leadership(req).await.map(|_| ()) }
        };
        let results = join_all([transfer(b.id), transfer(c.id)]).await;
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "trial {trial}: {results:?}"
        );
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.code(), Code::PermissionDenied, "{r:?}");
            assert_eq!(reason(r), "NOT_TEAM_LEADER");
        }
        assert_eq!(leaders(&app, &team.team_id).await, 1, "trial {trial}");

        // A transfer racing the new leader's leave: still one leader.
        let next = if results[0].is_ok() { &b } else { &c };
        let other = if results[0].is_ok() { &c } else { &b };
        let mut client = app.client.clone();
        let give = as_member(
            next,
            TransferLeadershipRequest {
                team_id: team.team_id.clone(),
                new_leader_member_id: other.id.to_string(),
            },
        );
        let mut client2 = app.client.clone();
        let leave = as_member(
            other,
            LeaveTeamRequest {
                team_id: team.team_id.clone(),
            },
        );
        let (given, left) =
            tokio::join!(client.transfer_leadership(give), client2.leave_team(leave));
        assert!(given.is_ok() || left.is_ok(), "{given:?} {left:?}");
        assert_eq!(leaders(&app, &team.team_id).await, 1, "trial {trial}");
    }
}
