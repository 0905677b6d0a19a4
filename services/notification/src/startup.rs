//! Builds the notification service from its settings and serves it on a bound listener.

use std::{sync::Arc, time::Duration};

use moing_common::{
    layer::{AccessPolicy, AuthLayer},
    server::ServerBuilder,
    service,
};
use moing_proto::moing::{
    events::v1::event_sink_server::EventSinkServer,
    notification::v1::{
        notification_internal_service_server::NotificationInternalServiceServer,
        notification_service_server::NotificationServiceServer,
    },
};
use sqlx::MySqlPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    MIGRATOR,
    config::Settings,
    events::Consumer,
    fcm::FcmClient,
    grpc::{Internal, Notifications},
    peers::Peers,
    push::Dispatcher,
    reminders::Scheduler,
    sink::NotificationSink,
    store::Store,
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

/// The parts every replica runs, shared by the server and its background jobs.
#[derive(Debug, Clone)]
pub struct Parts {
    pub pool: MySqlPool,
    pub peers: Arc<Peers>,
    pub dispatcher: Dispatcher,
}

impl Parts {
    /// Clients and the dispatcher over an already migrated pool.
    pub fn new(settings: &Settings, pool: MySqlPool) -> anyhow::Result<Self> {
        let fcm = Arc::new(FcmClient::new(&settings.fcm)?);
        Ok(Self {
            dispatcher: Dispatcher::new(pool.clone(), fcm),
            peers: Arc::new(Peers::from_settings(
                &settings.base,
                Duration::from_secs(settings.fanout.roster_cache_secs),
            )?),
            pool,
        })
    }

    pub fn scheduler(&self) -> Scheduler {
        Scheduler::new(
            self.pool.clone(),
            self.peers.clone(),
            self.dispatcher.clone(),
        )
    }
}

/// Migrates, wires and serves until `shutdown`.
pub async fn run_with(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
    auth: AuthLayer,
) -> anyhow::Result<()> {
    let base = &settings.base;
    let pool = service::open_database(&base.database, &MIGRATOR).await?;
    let parts = Parts::new(&settings, pool.clone())?;
    let jobs = &settings.jobs;
    let mut tasks = Vec::new();

    // The push loop: woken by the event sink's commits; held pushes (quiet
    // hours), retries and expired leases on every tick.
    tasks.push(parts.dispatcher.run(
        Duration::from_secs(jobs.push_interval_secs.max(1)),
        shutdown.clone(),
    ));
    if jobs.reminders_enabled {
        let scheduler = parts.scheduler();
        tasks.push(moing_common::jobs::every(
            "reminders",
            Duration::from_secs(jobs.reminder_interval_secs.max(1)),
            shutdown.clone(),
            move || {
                let s = scheduler.clone();
                async move {
                    s.tick(moing_common::clock::now()).await?;
                    Ok(())
                }
            },
        ));
    }
    let retention_pool = pool.clone();
    let (days, batch) = (jobs.retention_days, jobs.retention_batch);
    tasks.push(moing_common::jobs::every(
        "retention",
        Duration::from_secs(jobs.retention_interval_secs.max(1)),
        shutdown.clone(),
        move || {
            let pool = retention_pool.clone();
            async move {
                purge(&pool, days, batch).await?;
                Ok(())
            }
        },
    ));

    let consumer = Arc::new(Consumer {
        peers: parts.peers.clone(),
    });
    let sink = NotificationSink::new(
        pool.clone(),
        consumer,
        parts.dispatcher.clone(),
        settings.fanout.concurrency,
    );
    let store = Store::new(pool.clone());
    let server = ServerBuilder::new()
        .add_service(EventSinkServer::new(sink))
        .add_service(NotificationInternalServiceServer::new(Internal {
            store: store.clone(),
            peers: parts.peers.clone(),
            dispatcher: parts.dispatcher.clone(),
        }))
        .add_service(NotificationServiceServer::new(Notifications {
            store,
            retention_days: jobs.retention_days,
        }));
    service::serve(server, listener, base, pool, auth, shutdown).await?;
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}

/// Deletes inbox rows past retention, batch by batch; returns how many went.
pub async fn purge(pool: &MySqlPool, days: i64, batch: u32) -> anyhow::Result<u64> {
    Ok(Store::new(pool.clone()).purge_expired(days, batch).await?)
}
