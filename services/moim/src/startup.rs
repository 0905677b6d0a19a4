//! Builds the moim service from its settings and serves it on a bound listener.

use std::sync::Arc;

use moing_common::{
    layer::{AccessPolicy, AuthLayer},
    server::ServerBuilder,
    service,
};
use moing_proto::moing::moim::v1::{
    team_internal_service_server::TeamInternalServiceServer, team_service_server::TeamServiceServer,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{MIGRATOR, config::Settings, grpc::Moim, store::Store};

/// Serves with access tokens verified against auth's JWKS.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let auth = settings.base.auth_layer(AccessPolicy::default())?;
    run_with(settings, listener, shutdown, auth).await
}

/// Migrates the schema, starts the outbox relays, then serves until `shutdown`;
/// tests pass an auth layer that trusts their own signing key.
pub async fn run_with(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
    auth: AuthLayer,
) -> anyhow::Result<()> {
    let base = &settings.base;
    let pool = service::open_database(&base.database, &MIGRATOR).await?;
    let outbox = base.outbox("moim");
    let relays = base.spawn_relays(&pool, &outbox, &shutdown)?;
    let moim = Arc::new(Moim {
        store: Store::new(pool.clone(), outbox),
        code_attempts: Default::default(),
        auth: base
            .internal_channel("auth")
            .ok()
            .map(moing_proto::moing::auth::v1::auth_internal_service_client::AuthInternalServiceClient::new),
    });
    // TeamFinished announcements, SKIP LOCKED across replicas.
    let job_store = moim.store.clone();
    let finisher = moing_common::jobs::every(
        "finished teams",
        std::time::Duration::from_secs(settings.jobs.finish_interval_secs.max(1)),
        shutdown.clone(),
        move || {
            let store = job_store.clone();
            async move {
                store
                    .announce_finished(moing_common::clock::now(), 100)
                    .await?;
                Ok(())
            }
        },
    );
    let consumer = Arc::new(crate::events::Consumer {
        outbox: moim.store.outbox().clone(),
    });
    let server = ServerBuilder::new()
        .add_service(moing_common::outbox::EventSinkService::server(
            pool.clone(),
            consumer,
        ))
        .add_service(TeamServiceServer::from_arc(moim.clone()))
        .add_service(TeamInternalServiceServer::from_arc(moim));
    service::serve(server, listener, base, pool, auth, shutdown).await?;
    let _ = finisher.await;
    for relay in relays {
        let _ = relay.await;
    }
    Ok(())
}
