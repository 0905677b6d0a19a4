//! Builds the board service from its settings and serves it on a bound listener.

use std::{sync::Arc, time::Duration};

use moing_common::{
    layer::{AccessPolicy, AuthLayer},
    server::ServerBuilder,
    service,
};
use moing_proto::moing::{
    auth::v1::auth_internal_service_client::AuthInternalServiceClient,
    board::v1::{
        board_internal_service_server::BoardInternalServiceServer,
        board_service_server::BoardServiceServer,
    },
    events::v1::event_sink_server::EventSinkServer,
    mission::v1::mission_internal_service_client::MissionInternalServiceClient,
    moim::v1::team_internal_service_client::TeamInternalServiceClient,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    MIGRATOR, access::Members, ballot::BallotKeys, config::Settings, domain::CLOSE_DUE_BATCH,
    grpc::Board, live::Live, sink::BoardSink, store::Store,
};

/// Serves with access tokens verified against auth's JWKS.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let auth = settings.base.auth_layer(AccessPolicy::default())?;
    run_with(settings, listener, shutdown, auth).await
}

/// Migrates, wires (moim, mission, auth) and serves until `shutdown`.
pub async fn run_with(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
    auth: AuthLayer,
) -> anyhow::Result<()> {
    let base = &settings.base;
    let pool = service::open_database(&base.database, &MIGRATOR).await?;
    let outbox = base.outbox("board");
    let relays = base.spawn_relays(&pool, &outbox, &shutdown)?;
    let store = Store::new(pool.clone(), outbox);
    // Goal-board changes: from the events this replica applies and, through
    // Redis, from the other replicas.
    let live = Live::new(&settings.redis)?;
    let listener_task = live.listen(shutdown.clone());
    let shared = Arc::new(crate::shared::Shared::new(Duration::from_secs(
        settings.board.team_cache_secs,
    )));
    let forget = shared.clone();
    live.on_change(move |team| forget.forget(team));
    let board = Arc::new(Board {
        store: store.clone(),
        members: Arc::new(Members::new(
            TeamInternalServiceClient::new(base.internal_channel("moim")?),
            Duration::from_secs(settings.board.membership_cache_secs),
        )),
        auth: AuthInternalServiceClient::new(base.internal_channel("auth")?),
        mission: MissionInternalServiceClient::new(base.internal_channel("mission")?),
        settings: settings.board.clone(),
        ballots: BallotKeys::from_settings(&settings.board),
        live: live.clone(),
        shared,
    });
    tracing::info!(key_ids = ?board.ballots.key_ids(), "ballot keys (current first)");
    // Vote deadlines, SKIP LOCKED across replicas.
    let every = Duration::from_secs(settings.board.vote_job_interval_secs.max(1));
    let deadlines =
        moing_common::jobs::every("vote deadlines", every, shutdown.clone(), move || {
            let store = store.clone();
            async move {
                let now = moing_common::clock::now();
                store.close_due(now, CLOSE_DUE_BATCH).await?;
                Ok(())
            }
        });
    let server = ServerBuilder::new()
        .add_service(EventSinkServer::new(BoardSink { live }))
        .add_service(BoardInternalServiceServer::from_arc(board.clone()))
        .add_service(BoardServiceServer::from_arc(board));
    service::serve(server, listener, base, pool, auth, shutdown).await?;
    let _ = deadlines.await;
    let _ = listener_task.await;
    for relay in relays {
        let _ = relay.await;
    }
    Ok(())
}
