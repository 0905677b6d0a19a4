//! Settings and wiring every service shares: the base settings sections, the
//! auth layer backed by auth's JWKS, internal channels, outbox relays, and the
//! standard run loop (migrate → serve → watch the database → drain on shutdown).

use std::{sync::Arc, time::Duration};

use moing_proto::moing::auth::v1::{GetJwksRequest, auth_service_client::AuthServiceClient};
use serde::{Deserialize, Serialize};
use sqlx::{MySqlPool, migrate::Migrator};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;

use crate::{client::TracedChannel, observe::Traced};

use crate::{
    admin::{Admin, AdminSettings},
    client::{InternalChannel, internal_channel},
    config::{
        AuthSettings, ClientSettings, DEV_SERVICE_TOKENS, DatabaseSettings, Endpoints, Environment,
        GrpcSettings, InsecureSettings, LogSettings, Secret, require_secrets,
    },
    db,
    layer::{AccessPolicy, AuthConfig, AuthLayer},
    outbox::{Outbox, Relay, RelayOptions},
    server::{ServerBuilder, watch_dependency},
    token::{Jwk, JwksSource},
};

/// The sections every service's settings start with (flattened into them).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BaseSettings {
    pub env: Environment,
    pub grpc: GrpcSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    pub client: ClientSettings,
    /// gRPC endpoints of the services this one calls, by name.
    pub services: Endpoints,
    /// Event subscribers of this service's outbox: name → EventSink endpoint.
    pub subscribers: Endpoints,
    /// The admin HTTP port: `/healthz`, `/readyz`, `/metrics`.
    pub admin: AdminSettings,
}

impl BaseSettings {
    /// Development defaults for a service on `port` with its own schema.
    pub fn development(service: &str, port: u16) -> Self {
        Self {
            grpc: GrpcSettings::with_port(port),
            admin: AdminSettings::for_grpc_port(port),
            database: DatabaseSettings {
                url: format!(
                    "mysql://moing_{service}:dev_{service}@127.0.0.1:3306/moing_{service}"
                ),
                ..DatabaseSettings::default()
            },
            services: [
                ("auth", 50051),
                ("moim", 50052),
                ("mission", 50053),
                ("board", 50054),
                ("notification", 50055),
            ]
            .into_iter()
            .map(|(name, port)| (name.to_owned(), format!("http://127.0.0.1:{port}")))
            .collect(),
            ..Self::default()
        }
    }

    /// The secrets every service holds: the shared service credential and the
    /// password of its own database user.
    pub fn secrets(&self) -> [Secret<'_>; 3] {
        [
            Secret::new("auth.service_token", &self.auth.service_token)
                .dev_values(DEV_SERVICE_TOKENS),
            Secret::database_url("database.url", &self.database.url),
            // Not a secret, but production must not run without immediate revocation.
            Secret::new("auth.sessions_redis_url", &self.auth.sessions_redis_url),
        ]
    }

    /// Refuses a production start while a base secret or one of the service's
    /// own (`more`) is empty or still has its development value.
    pub fn require_secrets(&self, more: &[Secret<'_>]) -> Result<(), InsecureSettings> {
        let all: Vec<Secret<'_>> = self
            .secrets()
            .into_iter()
            .chain(more.iter().copied())
            .collect();
        require_secrets(self.env, &all)
    }

    /// The verification layer, fetching keys from auth's `GetJwks`.
    pub fn auth_layer(&self, policy: AccessPolicy) -> anyhow::Result<AuthLayer> {
        let channel = crate::client::traced_channel(&self.auth.jwks_endpoint, &self.client)?;
        let verifier = self.auth.verifier(Arc::new(GrpcJwks { channel }));
        Ok(AuthLayer::new(AuthConfig {
            verifier: Arc::new(verifier),
            service_token: self.auth.service_token.as_str().into(),
            policy: Arc::new(policy),
            sessions: self.auth.session_check()?,
        }))
    }

    /// A channel to another service's internal API, with the service credential.
    pub fn internal_channel(&self, service: &str) -> anyhow::Result<InternalChannel> {
        let endpoint = self
            .services
            .get(service)
            .ok_or_else(|| anyhow::anyhow!("no endpoint configured for service {service}"))?;
        internal_channel(endpoint, &self.client, &self.auth.service_token)
    }

    /// The producer side of this service's outbox.
    pub fn outbox(&self, producer: &str) -> Outbox {
        Outbox::new(producer, self.subscribers.keys().cloned().collect())
    }

    /// One relay task per configured subscriber.
    pub fn spawn_relays(
        &self,
        pool: &MySqlPool,
        outbox: &Outbox,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
        let mut tasks = Vec::new();
        for (name, endpoint) in &self.subscribers {
            let channel = internal_channel(endpoint, &self.client, &self.auth.service_token)?;
            let relay = Relay::new(pool.clone(), outbox, name, channel, RelayOptions::default());
            tasks.push(tokio::spawn(relay.run(shutdown.clone())));
        }
        Ok(tasks)
    }
}

/// JWKS from the auth service over gRPC.
#[derive(Debug, Clone)]
pub struct GrpcJwks {
    channel: TracedChannel,
}

/// The same source for callers that hold their own channel (the gateway).
pub type GrpcJwksClient = GrpcJwks;

impl GrpcJwks {
    pub fn new(channel: Channel) -> Self {
        Self {
            channel: Traced::new(channel),
        }
    }
}

#[tonic::async_trait]
impl JwksSource for GrpcJwks {
    async fn fetch(&self) -> anyhow::Result<Vec<Jwk>> {
        let keys = AuthServiceClient::new(self.channel.clone())
            .get_jwks(GetJwksRequest {})
            .await?
            .into_inner()
            .keys;
        Ok(keys
            .into_iter()
            .map(|k| Jwk {
                kty: k.kty,
                crv: k.crv,
                x: k.x,
                kid: k.kid,
                alg: k.alg,
                use_: k.r#use,
            })
            .collect())
    }
}

/// Opens the pool and applies the shared and the service's migrations.
pub async fn open_database(
    settings: &DatabaseSettings,
    migrator: &Migrator,
) -> anyhow::Result<MySqlPool> {
    let pool = db::lazy_pool(settings)?;
    db::migrate(&pool, migrator)
        .await
        .map_err(|e| anyhow::anyhow!("migrating the database failed: {e}"))?;
    Ok(pool)
}

/// `moing.<svc>.v1.X` among the served names → `<svc>` (for metric labels).
fn service_label(names: &[&'static str]) -> String {
    names
        .iter()
        .filter_map(|n| n.strip_prefix("moing."))
        .filter_map(|n| n.split('.').next())
        .find(|svc| *svc != "events")
        .unwrap_or("unknown")
        .to_owned()
}

/// Serves `server` until `shutdown`, with health following the database, and
/// the admin port (`/healthz`, `/readyz`, `/metrics`) when configured.
pub async fn serve(
    server: ServerBuilder,
    listener: TcpListener,
    base: &BaseSettings,
    pool: MySqlPool,
    auth: AuthLayer,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let pool_for_admin = pool.clone();
    let watcher = watch_dependency(
        server.health(),
        server.service_names(),
        Duration::from_secs(2),
        move || {
            let pool = pool.clone();
            async move { db::ping(&pool).await }
        },
        shutdown.clone(),
    );
    // Bound before gRPC serves: once a call succeeds, the admin port answers too.
    let admin = Admin::new(&service_label(&server.service_names()))
        .with_database(pool_for_admin, base.subscribers.keys().cloned().collect())
        .spawn(&base.admin, shutdown.clone())
        .await;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, services = ?server.service_names(), "serving grpc");
    let stop = shutdown.clone();
    server
        .serve(listener, &base.grpc, Some(auth), async move {
            stop.cancelled().await
        })
        .await?;
    shutdown.cancel();
    let _ = watcher.await;
    if let Some((_, task)) = admin {
        let _ = task.await;
    }
    tracing::info!("stopped");
    crate::telemetry::flush().await;
    Ok(())
}
