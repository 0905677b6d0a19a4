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
        let refused: Vec<&tonic::Status> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(joined, 3, "trial {trial}: {results:?}");
        assert_eq!(refused.len(), 1, "trial {trial}: {results:?}");
        assert_eq!(refused[0].code(), Code::FailedPrecondition, "{:?}", refused[0]);
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
