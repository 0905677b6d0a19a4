use moing_proto::moing::moim::v1::{
    BatchCheckMembershipRequest, BlockMemberRequest, CheckMembershipRequest,
    FilterBlockedByRequest, GetTeamSummaryRequest, MemberLeadsActiveTeamRequest, MembershipKey,
};
use tonic::{Code, Request};

use crate::helpers::*;

#[tokio::test]
async fn membership_checks_summaries_and_blocks() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "내부").await;
    let code = app.invite(&leader, &team, 0).await;
    let member = app.member();
    app.join(&member, &code).await.expect("join");
    let stranger = app.member();
    let mut internal = app.internal.clone();

    assert_error(
        internal
            .check_membership(Request::new(CheckMembershipRequest {
                team_id: team.team_id.clone(),
                member_id: member.id.to_string(),
            }))
            .await,
        Code::Unauthenticated,
        "SERVICE_CREDENTIAL_REQUIRED",
    );
    let check = internal
        .check_membership(app.internal_request(CheckMembershipRequest {
            team_id: team.team_id.clone(),
            member_id: member.id.to_string(),
        }))
        .await
        .expect("check")
        .into_inner()
        .membership
        .expect("m");
    assert!(check.team_found && check.is_active_member && !check.is_leader);
    let batch = internal
        .batch_check_membership(app.internal_request(BatchCheckMembershipRequest {
            keys: vec![
                MembershipKey {
                    team_id: team.team_id.clone(),
                    member_id: leader.id.to_string(),
                },
                MembershipKey {
                    team_id: team.team_id.clone(),
                    member_id: stranger.id.to_string(),
                },
            ],
        }))
        .await
        .expect("batch")
        .into_inner()
        .memberships;
    assert!(batch[0].is_leader && !batch[1].is_active_member);

    let summary = internal
        .get_team_summary(app.internal_request(GetTeamSummaryRequest {
            team_id: team.team_id.clone(),
            include_past_members: true,
            include_hidden: false,
        }))
        .await
        .expect("summary")
        .into_inner()
        .team
        .expect("team");
    assert_eq!(summary.memberships.len(), 2);

    let leads = internal
        .member_leads_active_team(app.internal_request(MemberLeadsActiveTeamRequest {
            member_id: leader.id.to_string(),
        }))
        .await
        .expect("leads")
        .into_inner();
    assert!(leads.leads_active_team);
    assert_eq!(leads.team_ids, vec![team.team_id.clone()]);

    app.client
        .clone()
        .block_member(as_member(
            &member,
            BlockMemberRequest {
                member_id: leader.id.to_string(),
            },
        ))
        .await
        .expect("block");
    assert_invalid(
        app.client
            .clone()
            .block_member(as_member(
                &member,
                BlockMemberRequest {
                    member_id: member.id.to_string(),
                },
            ))
            .await,
        &["member_id"],
    );
    let filtered = internal
        .filter_blocked_by(app.internal_request(FilterBlockedByRequest {
            actor_member_id: leader.id.to_string(),
            candidate_member_ids: vec![member.id.to_string(), stranger.id.to_string()],
        }))
        .await
        .expect("filter")
        .into_inner();
    assert_eq!(filtered.blocker_member_ids, vec![member.id.to_string()]);
    assert!(filtered.blocked_member_ids.is_empty());
}
