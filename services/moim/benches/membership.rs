//! Figures for the moim issue: the internal membership check under concurrency
//! (p50/p99 through the gRPC client, real MariaDB). Run:
//! `cargo bench -p moing-moim --bench membership` (infrastructure from scripts/test or scripts/up).

use std::time::{Duration, Instant};

use moing_common::{layer::AccessPolicy, token::MemberState};
use moing_moim::{config::Settings, startup};
use moing_proto::moing::moim::v1::{
    CheckMembershipRequest, CreateInviteRequest, CreateTeamRequest, JoinTeamRequest,
    team_internal_service_client::TeamInternalServiceClient,
    team_service_client::TeamServiceClient,
};
use moing_testkit::{TestDb, Tokens};
use tokio_util::sync::CancellationToken;
use tonic::{Request, transport::Channel};
use uuid::Uuid;

fn with<T>(msg: T, key: &'static str, value: &str) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut().insert(key, value.parse().expect("ascii"));
    r
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let db = TestDb::empty().await?;
    let tokens = Tokens::new();
    let mut settings = Settings::default();
    settings.base.database.url = db.url.clone();
    settings.base.database.max_connections = 16;
    settings.base.auth.service_token = tokens.service_token.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let stop = CancellationToken::new();
    tokio::spawn(startup::run_with(
        settings,
        listener,
        stop.clone(),
        tokens.auth_layer(AccessPolicy::default()),
    ));
    let channel = Channel::from_shared(endpoint)?.connect().await?;
    let mut public = TeamServiceClient::new(channel.clone());

    // A 20-member team.
    let leader = Uuid::now_v7();
    let bearer = |id: Uuid| format!("Bearer {}", tokens.access(id, MemberState::Active));
    let today = moing_common::clock::now().date_naive();
    let date = |d: chrono::NaiveDate| {
        use chrono::Datelike;
        Some(moing_proto::google::r#type::Date {
            year: d.year(),
            month: d.month() as i32,
            day: d.day() as i32,
        })
    };
    let team = public
        .create_team(with(
            CreateTeamRequest {
                name: "bench".into(),
                category: 1,
                start_date: date(today + chrono::Duration::days(1)),
                end_date: date(today + chrono::Duration::days(60)),
                ..Default::default()
            },
            "authorization",
            &bearer(leader),
        ))
        .await?
        .into_inner()
        .team
        .map(|t| t.team_id)
        .unwrap_or_default();
    let code = public
        .create_invite(with(
            CreateInviteRequest {
                team_id: team.clone(),
                ..Default::default()
            },
            "authorization",
            &bearer(leader),
        ))
        .await?
        .into_inner()
        .invite
        .map(|i| i.code)
        .unwrap_or_default();
    let mut members = vec![leader];
    for _ in 0..19 {
        let m = Uuid::now_v7();
        public
            .join_team(with(
                JoinTeamRequest { code: code.clone() },
                "authorization",
                &bearer(m),
            ))
            .await?;
        members.push(m);
    }

    let internal = TeamInternalServiceClient::new(channel);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..16 {
        let mut client = internal.clone();
        let team = team.clone();
        let token = tokens.service_token.clone();
        let members = members.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::with_capacity(1000);
            for i in 0..1000 {
                let member = members[(i + c) % members.len()].to_string();
                let t = Instant::now();
                client
                    .check_membership(with(
                        CheckMembershipRequest {
                            team_id: team.clone(),
                            member_id: member,
                        },
                        "x-moing-service-token",
                        &token,
                    ))
                    .await?;
                samples.push(t.elapsed());
            }
            Ok::<_, tonic::Status>(samples)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let wall = started.elapsed();
    all.sort();
    println!(
        "CheckMembership, 16 callers x 1000: {:.0} checks/s, p50={:?} p99={:?} max={:?}",
        all.len() as f64 / wall.as_secs_f64(),
        pct(&all, 0.5),
        pct(&all, 0.99),
        all[all.len() - 1]
    );
    let started = Instant::now();
    for m in &members {
        sqlx::query(
            "SELECT member_id, role FROM membership WHERE team_id = ? AND active_member = ?",
        )
        .bind(Uuid::parse_str(&team)?)
        .bind(m)
        .fetch_optional(&db.pool)
        .await?;
    }
    println!(
        "membership index lookup (SQL round trip incl. client): {:?} per query",
        started.elapsed() / members.len() as u32
    );
    stop.cancel();
    Ok(())
}
