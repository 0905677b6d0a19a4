//! Figure for the push issue: the 20:00 reminder burst. `MOING_BENCH_TEAMS`
//! teams (1,000) of `MOING_BENCH_MEMBERS` members (20), every member with a
//! device and nobody having proven the team's daily mission; moim and mission
//! run in process on real MariaDB, moim's outbox relays TeamCreated to
//! notification (the team copy the planner reads), FCM is the stand-in. Two
//! schedulers (two replicas) tick at 20:00:30 Seoul time at once; the bench
//! prints how long until every inbox row is written and every push has reached
//! the stand-in, and checks that nobody got the reminder twice. Run:
//! `cargo bench -p moing-notification --bench reminders` (infrastructure from
//! scripts/test or scripts/up).

use std::{
    collections::{BTreeMap, HashMap},
    time::{Duration, Instant},
};

use chrono::{Datelike, TimeZone};
use chrono_tz::Asia::Seoul;
use futures::{StreamExt, stream};
use moing_common::{
    layer::AccessPolicy,
    token::{MemberState, access_claims},
};
use moing_proto::{
    google::r#type::Date,
    moing::{
        mission::v1::{CreateMissionRequest, mission_service_client::MissionServiceClient},
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

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn bearer<T>(msg: T, token: &str) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut()
        .insert("authorization", token.parse().expect("ascii"));
    r
}

fn date(d: chrono::NaiveDate) -> Option<Date> {
    Some(Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    })
}

struct Clients {
    teams: TeamServiceClient<Channel>,
    missions: MissionServiceClient<Channel>,
    devices: NotificationServiceClient<Channel>,
}

/// One team: a leader and `members - 1` others, a device each, and a daily
/// REPEAT mission nobody has proven. Returns the device tokens.
async fn team(
    c: &Clients,
    tokens: &Tokens,
    members: usize,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    let people: Vec<(Uuid, String)> = (0..members)
        .map(|_| {
            let id = Uuid::now_v7();
            let claims = access_claims(
                "moing-auth",
                "moing",
                id,
                Uuid::now_v7(),
                MemberState::Active,
                Duration::from_secs(3600),
            );
            (
                id,
                format!("Bearer {}", tokens.key.sign(&claims).expect("sign")),
            )
        })
        .collect();
    let today = moing_common::clock::now()
        .with_timezone(&Seoul)
        .date_naive();
    let leader = &people[0].1;
    let team = c
        .teams
        .clone()
        .create_team(bearer(
            CreateTeamRequest {
                name: format!("팀{n}"),
                category: 1,
                start_date: date(today),
                end_date: date(today + chrono::Duration::days(60)),
                ..Default::default()
            },
            leader,
        ))
        .await?
        .into_inner()
        .team
        .map(|t| t.team_id)
        .unwrap_or_default();
    let code = c
        .teams
        .clone()
        .create_invite(bearer(
            CreateInviteRequest {
                team_id: team.clone(),
                ..Default::default()
            },
            leader,
        ))
        .await?
        .into_inner()
        .invite
        .map(|i| i.code)
        .unwrap_or_default();
    for (_, token) in &people[1..] {
        c.teams
            .clone()
            .join_team(bearer(JoinTeamRequest { code: code.clone() }, token))
            .await?;
    }
    c.missions
        .clone()
        .create_mission(bearer(
            CreateMissionRequest {
                team_id: team.clone(),
                title: "매일 운동".into(),
                kind: 2,
                way: 1,
                times_per_week: 7,
                ..Default::default()
            },
            leader,
        ))
        .await?;
    let mut pushes = Vec::with_capacity(members);
    for (id, token) in &people {
        let push = format!("r-{}", id.simple());
        c.devices
            .clone()
            .register_device(bearer(
                RegisterDeviceRequest {
                    push_token: push.clone(),
                    platform: 1,
                },
                token,
            ))
            .await?;
        pushes.push(push);
    }
    Ok(pushes)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    moing_testkit::init_logs();
    let teams = env("MOING_BENCH_TEAMS", 1000);
    let members = env("MOING_BENCH_MEMBERS", 20);
    let (db, moim_db, mission_db) = (
        TestDb::empty().await?,
        TestDb::empty().await?,
        TestDb::empty().await?,
    );
    let tokens = Tokens::new();
    let fcm = FcmServer::start().await?;
    let mut cluster = Cluster::bind(&["moim", "mission", "notification"]).await?;
    let mut moim = moing_moim::config::Settings::default();
    moim.base.database.url = moim_db.url.clone();
    moim.base.auth.service_token = tokens.service_token.clone();
    moim.base.subscribers =
        BTreeMap::from([("notification".into(), cluster.endpoint("notification"))]);
    let layer = tokens.auth_layer(AccessPolicy::default());
    cluster.spawn("moim", |l, stop| {
        moing_moim::startup::run_with(moim, l, stop, layer)
    })?;
    let mut mission = moing_mission::config::Settings::default();
    mission.base.database.url = mission_db.url.clone();
    mission.base.auth.service_token = tokens.service_token.clone();
    mission.base.services = BTreeMap::from([("moim".into(), cluster.endpoint("moim"))]);
    let layer = tokens.auth_layer(AccessPolicy::default());
    cluster.spawn("mission", |l, stop| {
        moing_mission::startup::run_with(mission, l, stop, layer)
    })?;
    let mut settings = moing_notification::config::Settings::default();
    settings.base.database.url = db.url.clone();
    settings.base.auth.service_token = tokens.service_token.clone();
    settings.base.services = BTreeMap::from([
        ("moim".to_owned(), cluster.endpoint("moim")),
        ("mission".to_owned(), cluster.endpoint("mission")),
        // No board here: it answers UNIMPLEMENTED ("no vote reminders").
        ("board".to_owned(), cluster.endpoint("moim")),
    ]);
    settings.fcm.base_url = fcm.base_url();
    settings.fcm.credentials_json = fcm.service_account_json();
    // The bench drives the scheduler itself.
    settings.jobs.reminders_enabled = false;
    let server = settings.clone();
    let layer = tokens.auth_layer(AccessPolicy::default());
    cluster.spawn("notification", |l, stop| {
        moing_notification::startup::run_with(server, l, stop, layer)
    })?;
    let channel = |name: &str| {
        Channel::from_shared(cluster.endpoint(name))
            .expect("uri")
            .connect_lazy()
    };
    let clients = Clients {
        teams: TeamServiceClient::new(channel("moim")),
        missions: MissionServiceClient::new(channel("mission")),
        devices: NotificationServiceClient::new(channel("notification")),
    };

    let started = Instant::now();
    let made: Vec<anyhow::Result<Vec<String>>> = stream::iter(0..teams)
        .map(|n| team(&clients, &tokens, members, n))
        .buffer_unordered(16)
        .collect()
        .await;
    let mut devices = Vec::new();
    for t in made {
        devices.extend(t?);
    }
    // The team copies arrive through moim's outbox.
    let copies = Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM team WHERE active = TRUE")
            .fetch_one(&db.pool)
            .await?;
        if n as usize >= teams || copies.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "set-up: {teams} teams x {members} members, {} devices, in {:.0}s",
        devices.len(),
        started.elapsed().as_secs_f64()
    );
    let before = fcm.received_count();

    // 20:00:30 in Seoul, today or tomorrow.
    let today = moing_common::clock::now()
        .with_timezone(&Seoul)
        .date_naive();
    let eight = |d: chrono::NaiveDate| {
        Seoul
            .with_ymd_and_hms(d.year(), d.month(), d.day(), 20, 0, 30)
            .single()
            .expect("time")
            .with_timezone(&chrono::Utc)
    };
    let mut at = eight(today);
    if at < moing_common::clock::now() {
        at = eight(today + chrono::Duration::days(1));
    }
    // Two more replicas, with the service's own pool settings.
    let pool = || moing_common::db::lazy_pool(&settings.base.database);
    let one = moing_notification::startup::Parts::new(&settings, pool()?)?.scheduler();
    let two = moing_notification::startup::Parts::new(&settings, pool()?)?.scheduler();
    let expected = devices.len();
    let t = Instant::now();
    // As the job runner does: a failed tick is logged and the next one goes
    // on (occurrences not done stay due); ticks until nothing is due.
    let (mut sent, mut failures) = ([0usize; 2], Vec::new());
    loop {
        let (r1, r2) = tokio::join!(one.tick(at), two.tick(at));
        for (i, r) in [r1, r2].into_iter().enumerate() {
            match r {
                Ok(tick) => sent[i] += tick.sent,
                Err(e) => failures.push(e.to_string()),
            }
        }
        // The pushes are due at 20:00:30, ahead of this process's clock: the
        // ticks' own drains send them (in production the push loop does too).
        let due: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM reminder WHERE state = 'PENDING') \
             + (SELECT COUNT(*) FROM push WHERE state IN ('PENDING', 'SENDING'))",
        )
        .fetch_one(&db.pool)
        .await?;
        if due == 0 || t.elapsed() > Duration::from_secs(300) {
            break;
        }
    }
    let ticked = t.elapsed();
    let rows: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM notification WHERE type = 'REMINDER_UNPROVEN_MISSIONS'",
    )
    .fetch_one(&db.pool)
    .await?;
    while fcm.received_count() - before < expected && t.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pushed = t.elapsed();
    let mut per_token: HashMap<String, usize> = HashMap::new();
    for m in fcm.messages_from(before) {
        if m.data.get("type").map(String::as_str) == Some("REMINDER_UNPROVEN_MISSIONS") {
            *per_token.entry(m.token.clone()).or_default() += 1;
        }
    }
    let twice = per_token.values().filter(|n| **n > 1).count();
    let missing = devices
        .iter()
        .filter(|d| !per_token.contains_key(*d))
        .count();
    println!(
        "20:00 burst: occurrences sent {} (replica 1 {}, replica 2 {}), inbox rows {rows} of {expected}, \
         written by {:.2}s; pushes {} of {expected} by {:.2}s ({:.0}/s); missing {missing}, twice {twice}; \
         failed ticks {} {:?}",
        sent[0] + sent[1],
        sent[0],
        sent[1],
        ticked.as_secs_f64(),
        per_token.values().sum::<usize>(),
        pushed.as_secs_f64(),
        expected as f64 / pushed.as_secs_f64(),
        failures.len(),
        failures.first(),
    );
    cluster.stop().await?;
    anyhow::ensure!(
        missing == 0 && twice == 0 && rows as usize == expected,
        "reminders lost or doubled"
    );
    Ok(())
}
