//! Builds the moim service from its settings and serves it on a bound listener.

use std::sync::Arc;

use moing_common::{layer::AccessPolicy, server::ServerBuilder, service};
use moing_proto::moing::moim::v1::{
    team_internal_service_server::TeamInternalServiceServer, team_service_server::TeamServiceServer,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{MIGRATOR, config::Settings, grpc::Moim, store::Store};

/// Migrates the schema, starts the outbox relays, then serves until `shutdown`.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let base = &settings.base;
    let pool = service::open_database(&base.database, &MIGRATOR).await?;
    let auth = base.auth_layer(AccessPolicy::default())?;
    let outbox = base.outbox("moim");
    let relays = base.spawn_relays(&pool, &outbox, &shutdown)?;
    let moim = Arc::new(Moim {
        store: Store::new(pool.clone(), outbox),
    });
    let server = ServerBuilder::new()
        .add_service(TeamServiceServer::from_arc(moim.clone()))
        .add_service(TeamInternalServiceServer::from_arc(moim));
    service::serve(server, listener, base, pool, auth, shutdown).await?;
    for relay in relays {
        let _ = relay.await;
    }
    Ok(())
}
