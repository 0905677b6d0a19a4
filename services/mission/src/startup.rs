//! Builds the mission service from its settings and serves it on a bound listener.

use std::{sync::Arc, time::Duration};

use moing_common::{
    layer::{AccessPolicy, AuthLayer},
    server::ServerBuilder,
    service,
};
use moing_proto::moing::{
    mission::v1::mission_service_server::MissionServiceServer,
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
        Duration::from_secs(5),
    ));
    let missions = Missions {
        store: Store::new(pool.clone(), outbox),
        members,
    };
    let server = ServerBuilder::new().add_service(MissionServiceServer::new(missions));
    service::serve(server, listener, base, pool, auth, shutdown).await?;
    for relay in relays {
        let _ = relay.await;
    }
    Ok(())
}
