//! Builds the mission service from its settings and serves it on a bound listener.

use std::{sync::Arc, time::Duration};

use moing_common::{
    layer::{AccessPolicy, AuthLayer},
    server::ServerBuilder,
    service,
};
use moing_proto::moing::{
    mission::v1::{
        mission_internal_service_server::MissionInternalServiceServer,
        mission_service_server::MissionServiceServer,
    },
    moim::v1::team_internal_service_client::TeamInternalServiceClient,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{MIGRATOR, access::Memberships, config::Settings, grpc::Missions, store::Store};

/// Serves with access tokens verified against auth's JWKS.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let auth = settings.base.auth_layer(AccessPolicy::default())?;
    run_with(settings, listener, shutdown, auth).await
}

/// Migrates, wires (moim for membership checks) and serves until `shutdown`.
pub async fn run_with(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
    auth: AuthLayer,
) -> anyhow::Result<()> {
    let base = &settings.base;
    let pool = service::open_database(&base.database, &MIGRATOR).await?;
    let outbox = base.outbox("mission");
    let relays = base.spawn_relays(&pool, &outbox, &shutdown)?;
    let members = Arc::new(Memberships::new(
        TeamInternalServiceClient::new(base.internal_channel("moim")?),
        Duration::from_secs(settings.jobs.membership_cache_secs),
    ));
    // Deadlines, SKIP LOCKED across replicas.
    let (job_pool, job_outbox) = (pool.clone(), outbox.clone());
    let deadlines = moing_common::jobs::every(
        "mission deadlines",
        Duration::from_secs(settings.jobs.deadline_interval_secs.max(1)),
        shutdown.clone(),
        move || {
            let (pool, outbox) = (job_pool.clone(), job_outbox.clone());
            async move {
                crate::jobs::end_due(&pool, &outbox, moing_common::clock::now(), 100).await?;
                Ok(())
            }
        },
    );
    let team_events = Arc::new(crate::jobs::TeamEvents {
        outbox: outbox.clone(),
    });
    let missions = Arc::new(Missions {
        store: Store::new(pool.clone(), outbox),
        members,
        storage: crate::storage::Storage::new(&settings.s3),
    });
    let server = ServerBuilder::new()
        .add_service(moing_common::outbox::EventSinkService::server(
            pool.clone(),
            team_events,
        ))
        .add_service(MissionInternalServiceServer::from_arc(missions.clone()))
        .add_service(MissionServiceServer::from_arc(missions));
    service::serve(server, listener, base, pool, auth, shutdown).await?;
    let _ = deadlines.await;
    for relay in relays {
        let _ = relay.await;
    }
    Ok(())
}

/// The binary: `mission rebuild-progress [TEAM_ID]` recounts the goal board's
/// kept counts from the proof rows and exits; anything else serves.
pub async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("rebuild-progress") {
        let team = args
            .get(1)
            .map(|t| {
                t.parse::<uuid::Uuid>()
                    .map_err(|e| anyhow::anyhow!("rebuild-progress: {t:?} is not a team id ({e})"))
            })
            .transpose()?;
        let settings: Settings = moing_common::config::load()?;
        let sealed = rebuild_progress(settings, team).await?;
        println!("rebuild-progress: {sealed} team(s) counted again from the proof rows");
        return Ok(());
    }
    moing_common::entry::main(run).await
}

/// The rebuild command (`mission rebuild-progress [TEAM_ID]`): clears the
/// goal board's kept counts and seals every team (or one) again from the proof
/// rows, with moim for the rosters. Safe while replicas serve: a seal is stored
/// only if nobody sealed or unsealed meanwhile.
pub async fn rebuild_progress(
    settings: Settings,
    team: Option<uuid::Uuid>,
) -> anyhow::Result<usize> {
    let base = &settings.base;
    let pool = service::open_database(&base.database, &MIGRATOR).await?;
    let missions = Missions {
        store: Store::new(pool, base.outbox("mission")),
        members: Arc::new(Memberships::new(
            TeamInternalServiceClient::new(base.internal_channel("moim")?),
            Duration::from_secs(settings.jobs.membership_cache_secs),
        )),
        storage: crate::storage::Storage::new(&settings.s3),
    };
    Ok(missions.rebuild_progress(team).await?)
}
