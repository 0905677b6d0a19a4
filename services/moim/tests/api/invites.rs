use moing_proto::moing::moim::v1::{
    LeaveTeamRequest, ListInvitesRequest, PreviewInviteRequest, RemoveTeamMemberRequest,
    RevokeInviteRequest,
};
use tonic::Code;

use crate::helpers::*;

#[tokio::test]
async fn codes_fail_with_distinct_reasons() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "초대장").await;

    let once = app.invite(&leader, &team, 1).await;
    let preview = app
        .client
        .clone()
        .preview_invite(as_member(
            &app.member(),
            PreviewInviteRequest {
                code: once.to_lowercase(),
            },
        ))
        .await
        .expect("preview")
        .into_inner()
        .preview
        .expect("preview");
    assert_eq!(
        (
            preview.team_name.as_str(),
            preview.member_count,
            preview.member_cap
        ),
        ("초대장", 1, 20)
    );
    app.join(&app.member(), &once).await.expect("first use");
    assert_error(
        app.join(&app.member(), &once).await,
        Code::FailedPrecondition,
        "INVITE_USED_UP",
    );

    let revoked = app.invite(&leader, &team, 0).await;
    let invites = app
        .client
        .clone()
        .list_invites(as_member(
            &leader,
            ListInvitesRequest {
                team_id: team.team_id.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("list")
        .into_inner()
        .invites;
    let id = invites
        .iter()
        .find(|i| i.code == revoked)
        .expect("listed")
        .invite_id
        .clone();
    app.client
        .clone()
        .revoke_invite(as_member(
            &leader,
            RevokeInviteRequest {
                team_id: team.team_id.clone(),
                invite_id: id,
            },
        ))
        .await
        .expect("revoke");
    assert_error(
        app.join(&app.member(), &revoked).await,
        Code::FailedPrecondition,
        "INVITE_REVOKED",
    );

    let expired = app.invite(&leader, &team, 0).await;
    sqlx::query("UPDATE invite SET expires_at = ? WHERE code = ?")
        .bind((moing_common::clock::now() - chrono::Duration::minutes(1)).naive_utc())
        .bind(&expired)
        .execute(&app.db.pool)
        .await
        .expect("expire");
    assert_error(
        app.join(&app.member(), &expired).await,
        Code::FailedPrecondition,
        "INVITE_EXPIRED",
    );
    assert_error(
        app.join(&app.member(), "ZZZZZZZZZZZZZZZZ").await,
        Code::NotFound,
        "INVITE_NOT_FOUND",
    );
    assert_error(
        app.join(&app.member(), "nope").await,
        Code::NotFound,
        "INVITE_NOT_FOUND",
    );

    let joined = app.member();
    let fresh = app.invite(&leader, &team, 0).await;
    app.join(&joined, &fresh).await.expect("join");
    assert_error(
        app.join(&joined, &fresh).await,
        Code::AlreadyExists,
        "ALREADY_TEAM_MEMBER",
    );
    // A plain member cannot invite unless the leader allows it.
    assert_error(
        app.client
            .clone()
            .create_invite(as_member(
                &joined,
                moing_proto::moing::moim::v1::CreateInviteRequest {
                    team_id: team.team_id.clone(),
                    valid_for_hours: 0,
                    max_uses: 0,
                },
            ))
            .await,
        Code::PermissionDenied,
        "NOT_TEAM_LEADER",
    );
}

#[tokio::test]
async fn twenty_five_concurrent_joins_into_nineteen_members_admit_exactly_one() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "정원").await;
    let code = app.invite(&leader, &team, 0).await;
    for _ in 0..18 {
        app.join(&app.member(), &code).await.expect("fill to 19");
    }
    let joiners: Vec<Member> = (0..25).map(|_| app.member()).collect();
    let results = futures::future::join_all(joiners.iter().map(|m| app.join(m, &code))).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "exactly one seat was left");
    for r in results.into_iter().filter(|r| r.is_err()) {
        assert_error(r, Code::FailedPrecondition, "TEAM_FULL");
    }
    assert_eq!(app.count("SELECT member_count FROM team").await, 20);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM membership WHERE state = 'ACTIVE'")
            .await,
        20
    );
}

#[tokio::test]
async fn brute_forcing_codes_finds_nothing_and_trips_the_limit() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "금고").await;
    app.invite(&leader, &team, 0).await;
    let attacker = app.member();
    let mut found = 0;
    let mut limited = 0;
    for _ in 0..1000 {
        let guess: String = (0..16)
            .map(|_| {
                b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"[rand::random::<u8>() as usize % 32] as char
            })
            .collect();
        match app.join(&attacker, &guess).await {
            Ok(_) => found += 1,
            Err(s) if s.code() == Code::ResourceExhausted => limited += 1,
            Err(_) => {}
        }
    }
    assert_eq!(found, 0);
    assert!(
        limited >= 900,
        "the limit trips after 30 attempts a minute: {limited}"
    );
}

#[tokio::test]
async fn a_removed_member_needs_a_code_made_after_the_removal() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "재가입").await;
    let old = app.invite(&leader, &team, 0).await;
    let (removed, left) = (app.member(), app.member());
    app.join(&removed, &old).await.expect("join");
    app.join(&left, &old).await.expect("join");
    app.client
        .clone()
        .remove_team_member(as_member(
            &leader,
            RemoveTeamMemberRequest {
                team_id: team.team_id.clone(),
                member_id: removed.id.to_string(),
            },
        ))
        .await
        .expect("remove");
    app.client
        .clone()
        .leave_team(as_member(
            &left,
            LeaveTeamRequest {
                team_id: team.team_id.clone(),
            },
        ))
        .await
        .expect("leave");

    assert_error(
        app.join(&removed, &old).await,
        Code::FailedPrecondition,
        "INVITE_PREDATES_REMOVAL",
    );
    assert_error(
        app.client
            .clone()
            .preview_invite(as_member(
                &removed,
                PreviewInviteRequest { code: old.clone() },
            ))
            .await,
        Code::FailedPrecondition,
        "INVITE_PREDATES_REMOVAL",
    );
    // Leaving is not a removal: the old code still works.
    app.join(&left, &old)
        .await
        .expect("a member who left rejoins");
    let fresh = app.invite(&leader, &team, 0).await;
    app.join(&removed, &fresh)
        .await
        .expect("a removed member rejoins with a new code");
}

#[tokio::test]
async fn previews_are_rate_limited_like_joins() {
    let app = spawn_app().await;
    let leader = app.member();
    let team = app.team(&leader, "미리보기").await;
    let code = app.invite(&leader, &team, 0).await;
    let prober = app.member();
    let mut limited = 0;
    for _ in 0..100 {
        let r = app
            .client
            .clone()
            .preview_invite(as_member(
                &prober,
                PreviewInviteRequest { code: code.clone() },
            ))
            .await;
        if let Err(s) = r {
            assert_eq!(s.code(), Code::ResourceExhausted, "{s:?}");
            limited += 1;
        }
    }
    assert!(
        limited >= 40,
        "the limit trips after 30 lookups a minute: {limited}"
    );
}
