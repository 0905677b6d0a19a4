//! Team set-up through moim's public API, shared by the API tests of every
//! service that needs a real team (mission, board, notification).

use chrono::{Datelike, Duration};
use moing_proto::{
    google::r#type::Date,
    moing::moim::v1::{
        CreateInviteRequest, CreateTeamRequest, JoinTeamRequest,
        team_service_client::TeamServiceClient,
    },
};
use tonic::{Request, transport::Channel};

/// `msg` with `authorization: Bearer <token>`.
pub fn bearer<T>(token: &str, msg: T) -> Request<T> {
    let mut req = Request::new(msg);
    req.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    req
}

/// Today in Seoul (the default team zone, UTC+9 all year) by the process clock.
pub fn seoul_today() -> chrono::NaiveDate {
    let kst = chrono::FixedOffset::east_opt(9 * 3600).expect("UTC+9 is a valid offset");
    moing_common::clock::today_in(&kst)
}

/// Today in Seoul plus `offset` days.
pub fn seoul_date(offset: i64) -> Option<Date> {
    let d = seoul_today() + Duration::days(offset);
    Some(Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    })
}

/// A 30-day team named `name` led by the owner of `leader_token`, starting
/// today; returns (team id, invite code).
pub async fn create_team(
    teams: &TeamServiceClient<Channel>,
    leader_token: &str,
    name: &str,
) -> (String, String) {
    let team = teams
        .clone()
        .create_team(bearer(
            leader_token,
            CreateTeamRequest {
                name: name.into(),
                category: 1,
                start_date: seoul_date(0),
                end_date: seoul_date(30),
                ..Default::default()
            },
        ))
        .await
        .expect("team")
        .into_inner()
        .team
        .expect("team")
        .team_id;
    let code = teams
        .clone()
        .create_invite(bearer(
            leader_token,
            CreateInviteRequest {
                team_id: team.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("invite")
        .into_inner()
        .invite
        .expect("invite")
        .code;
    (team, code)
}

/// Joins the team of `code` as the owner of `token`.
pub async fn join_team(teams: &TeamServiceClient<Channel>, token: &str, code: &str) {
    teams
        .clone()
        .join_team(bearer(token, JoinTeamRequest { code: code.into() }))
        .await
        .expect("join");
}
