//! Figure for the notification issue: events per second the consumer sustains
//! end to end for a 20-member team — an event in through `EventSink.Deliver`,
//! out as 19 inbox rows and 19 pushes accepted by the FCM stand-in (OAuth and
//! `messages:send` over HTTP), with moim answering the recipient and block
//! queries (real MariaDB for both). Run:
//! `cargo bench -p moing-notification --bench fanout` (infrastructure from
//! scripts/test or scripts/up; `MOING_BENCH_EVENTS` changes the count).

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use chrono::Datelike;
use moing_common::{
    convert::timestamp,
    layer::AccessPolicy,
    token::{MemberState, access_claims},
};
use moing_proto::{
    google::r#type::Date,
    moing::{
        events::v1::{
            DeliverRequest, Event, ProofSubmitted, event::Payload,
            event_sink_client::EventSinkClient,
        },
        moim::v1::{
            CreateInviteRequest, CreateTeamRequest, JoinTeamRequest,
            team_service_client::TeamServiceClient,
        },
        notification::v1::{
            RegisterDeviceRequest, notification_service_client::NotificationServiceClient,
        },
    },
};
use moing_testkit::{Cluster, FcmServer, TestDb, Tokens};
use tonic::{Request, transport::Channel};
use uuid::Uuid;

fn with<T>(msg: T, key: &'static str, value: &str) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut().insert(key, value.parse().expect("ascii"));
    r
}

fn date(d: chrono::NaiveDate) -> Option<Date> {
    Some(Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    })
}

fn proof_event(team: &str, actor: Uuid) -> Event {
    Event {
        id: Uuid::now_v7().to_string(),
        producer: "mission".into(),
        occurred_at: Some(timestamp(moing_common::clock::now())),
        team_id: team.into(),
        actor_member_id: actor.to_string(),
        trace_context: Default::default(),
        payload: Some(Payload::ProofSubmitted(ProofSubmitted {
            proof_id: Uuid::now_v7().to_string(),
            mission_id: Uuid::now_v7().to_string(),
            mission_title: "30페이지 읽기".into(),
            team_name: "bench".into(),
            kind: 2,
            ..Default::default()
        })),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let events: usize = std::env::var("MOING_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let db = TestDb::empty().await?;
    let moim_db = TestDb::empty().await?;
    let tokens = Tokens::new();
    let fcm = FcmServer::start().await?;
    let mut cluster = Cluster::bind(&["moim", "notification"]).await?;
    let mut moim = moing_moim::config::Settings::default();
    moim.base.database.url = moim_db.url.clone();
    moim.base.auth.service_token = tokens.service_token.clone();
    let layer = tokens.auth_layer(AccessPolicy::default());
    cluster.spawn("moim", |l, stop| {
        moing_moim::startup::run_with(moim, l, stop, layer)
    })?;
    let mut settings = moing_notification::config::Settings::default();
    settings.base.database.url = db.url.clone();
    settings.base.database.max_connections = 16;
    settings.base.auth.service_token = tokens.service_token.clone();
    settings.base.services = BTreeMap::from([("moim".to_owned(), cluster.endpoint("moim"))]);
    settings.fcm.base_url = fcm.base_url();
    settings.fcm.credentials_json = fcm.service_account_json();
    settings.jobs.reminders_enabled = false;
    settings.jobs.push_interval_secs = 3600;
    let layer = tokens.auth_layer(AccessPolicy::default());
    cluster.spawn("notification", |l, stop| {
        moing_notification::startup::run_with(settings, l, stop, layer)
    })?;
    let moim_channel = Channel::from_shared(cluster.endpoint("moim"))?.connect_lazy();
    let channel = Channel::from_shared(cluster.endpoint("notification"))?.connect_lazy();
    let mut teams = TeamServiceClient::new(moim_channel);
    let mut devices = NotificationServiceClient::new(channel.clone());
    let sink = EventSinkClient::new(channel);

    // A 20-member team, every member with a device.
    let bearer = |id: Uuid| {
        let claims = access_claims(
            "moing-auth",
            "moing",
            id,
            Uuid::now_v7(),
            MemberState::Active,
            Duration::from_secs(3600),
        );
        format!("Bearer {}", tokens.key.sign(&claims).expect("sign"))
    };
    let members: Vec<(Uuid, String)> = (0..20)
        .map(|_| {
            let id = Uuid::now_v7();
            (id, bearer(id))
        })
        .collect();
    let today = moing_common::clock::now().date_naive();
    let team = teams
        .create_team(with(
            CreateTeamRequest {
                name: "bench".into(),
                category: 1,
                start_date: date(today),
                end_date: date(today + chrono::Duration::days(60)),
                ..Default::default()
            },
            "authorization",
            &members[0].1,
        ))
        .await?
        .into_inner()
        .team
        .map(|t| t.team_id)
        .unwrap_or_default();
    let code = teams
        .create_invite(with(
            CreateInviteRequest {
                team_id: team.clone(),
                ..Default::default()
            },
            "authorization",
            &members[0].1,
        ))
        .await?
        .into_inner()
        .invite
        .map(|i| i.code)
        .unwrap_or_default();
    for (_, token) in &members[1..] {
        teams
            .join_team(with(
                JoinTeamRequest { code: code.clone() },
                "authorization",
                token,
            ))
            .await?;
    }
    for (id, token) in &members {
        devices
            .register_device(with(
                RegisterDeviceRequest {
                    push_token: format!("bench-{}", id.simple()),
                    platform: 1,
                },
                "authorization",
                token,
            ))
            .await?;
    }
    let deliver = |sink: EventSinkClient<Channel>, e: Vec<Event>| {
        let token = tokens.service_token.clone();
        async move {
            sink.clone()
                .deliver(with(
                    DeliverRequest { events: e },
                    "x-moing-service-token",
                    &token,
                ))
                .await
        }
    };
    // Warm-up (OAuth grant, connections).
    deliver(sink.clone(), vec![proof_event(&team, members[0].0)]).await?;
    let base_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notification")
        .fetch_one(&db.pool)
        .await?;
    let base_pushes = fcm.messages().len();

    // 1. One producer, one event per delivery (the relay's worst case).
    let started = Instant::now();
    for i in 0..events {
        deliver(sink.clone(), vec![proof_event(&team, members[i % 20].0)]).await?;
    }
    let serial = started.elapsed();

    // 2. Four producers delivering at once.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for p in 0..4 {
        let sink = sink.clone();
        let team = team.clone();
        let actors: Vec<Uuid> = members.iter().map(|m| m.0).collect();
        let token = tokens.service_token.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..events / 4 {
                sink.clone()
                    .deliver(with(
                        DeliverRequest {
                            events: vec![proof_event(&team, actors[(i + p) % 20])],
                        },
                        "x-moing-service-token",
                        &token,
                    ))
                    .await?;
            }
            Ok::<_, tonic::Status>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let parallel = started.elapsed();

    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notification")
        .fetch_one(&db.pool)
        .await?;
    let pushes = fcm.messages().len();
    let total_events = events + (events / 4) * 4;
    assert_eq!((rows - base_rows) as usize, total_events * 19, "inbox rows");
    assert_eq!(pushes - base_pushes, total_events * 19, "pushes");
    println!(
        "20-member team, 1 producer: {events} events in {serial:.2?} = {:.1} events/s ({:.0} inbox rows/s, {:.0} pushes/s)",
        events as f64 / serial.as_secs_f64(),
        (events * 19) as f64 / serial.as_secs_f64(),
        (events * 19) as f64 / serial.as_secs_f64(),
    );
    println!(
        "20-member team, 4 producers: {} events in {parallel:.2?} = {:.1} events/s ({:.0} pushes/s)",
        (events / 4) * 4,
        ((events / 4) * 4) as f64 / parallel.as_secs_f64(),
        ((events / 4) * 4 * 19) as f64 / parallel.as_secs_f64(),
    );
    cluster.stop().await?;
    Ok(())
}
