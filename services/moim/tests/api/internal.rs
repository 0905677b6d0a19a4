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

#[tokio::test]
async fn teams_meeting_on_a_day_are_listed_for_reminders() {
    use moing_proto::moing::moim::v1::{
        ListTeamsMeetingOnRequest, MeetingSchedule, SingleMeeting, UpdateMeetingScheduleRequest,
    };
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "모임날").await;
    let quiet = app.team(&app.member(), "조용").await;
    app.client
        .clone()
        .update_meeting_schedule(as_member(
            &leader,
            UpdateMeetingScheduleRequest {
                team_id: team.team_id.clone(),
                meeting_schedule: Some(MeetingSchedule {
                    single_meetings: vec![SingleMeeting {
                        date: date(2),
                        start_time: Some(moing_proto::google::r#type::TimeOfDay {
                            hours: 19,
                            minutes: 30,
                            seconds: 0,
                            nanos: 0,
                        }),
                        place: "카페".into(),
                        memo: String::new(),
                    }],
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["single_meetings".into()],
                }),
            },
        ))
        .await
        .expect("schedule");
    let days = app
        .internal
        .clone()
        .list_teams_meeting_on(app.internal_request(ListTeamsMeetingOnRequest {
            date: date(2),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .teams;
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].team_id, team.team_id);
    assert_ne!(days[0].team_id, quiet.team_id);
    assert_eq!(days[0].member_ids, vec![leader.id.to_string()]);
    let none = app
        .internal
        .clone()
        .list_teams_meeting_on(app.internal_request(ListTeamsMeetingOnRequest {
            date: date(3),
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .teams;
    assert!(none.is_empty());
}
