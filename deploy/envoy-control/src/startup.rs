//! Settings and wiring of envoy-control.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_server::AggregatedDiscoveryServiceServer;
use moing_common::{config::LogSettings, server::ServerBuilder};
use moing_proto::moing::xds::v1::registry_internal_service_server::RegistryInternalServiceServer;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    ads::Ads,
    discovery::{self, Discovery},
    registry::Registry,
    resources::Edge,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub listen: SocketAddr,
    pub log: LogSettings,
    /// Clusters served to every node (service names).
    pub clusters: Vec<String>,
    /// Headless-service DNS names by cluster (`auth-headless.moing.svc.cluster.local:50051`).
    pub dns: BTreeMap<String, String>,
    pub dns_interval_secs: u64,
    /// JSON file `{"clusters": {"auth": ["10.0.0.5:50051"]}}`, reloaded when it changes.
    pub static_file: Option<PathBuf>,
    pub static_poll_ms: u64,
    /// Port of Envoy's edge listener and the cluster it forwards to.
    pub edge_port: u16,
    pub gateway_cluster: String,
    /// Service credential required by the registration RPC.
    pub service_token: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 18000)),
            log: LogSettings::default(),
            clusters: [
                "auth",
                "moim",
                "mission",
                "board",
                "notification",
                "gateway",
            ]
            .map(String::from)
            .to_vec(),
            dns: BTreeMap::new(),
            dns_interval_secs: 5,
            static_file: None,
            static_poll_ms: 500,
            edge_port: 8443,
            gateway_cluster: "gateway".into(),
            service_token: moing_common::config::AuthSettings::default().service_token,
        }
    }
}

/// Starts the discovery sources and serves ADS and registration until `shutdown`.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let discovery = Arc::new(Discovery::default());
    if !settings.dns.is_empty() {
        discovery::watch_dns(
            discovery.clone(),
            settings.dns.clone(),
            Duration::from_secs(settings.dns_interval_secs),
            shutdown.clone(),
        );
    }
    if let Some(path) = settings.static_file.clone() {
        discovery::watch_file(
            discovery.clone(),
            path,
            Duration::from_millis(settings.static_poll_ms),
            shutdown.clone(),
        );
    }
    discovery::expire_leases(discovery.clone(), shutdown.clone());
    let ads = Ads::new(
        discovery.clone(),
        settings.clusters.clone(),
        Edge {
            port: settings.edge_port,
            gateway_cluster: settings.gateway_cluster.clone(),
        },
    );
    let server = ServerBuilder::new()
        .add_service(AggregatedDiscoveryServiceServer::new(ads))
        .add_service(RegistryInternalServiceServer::new(Registry {
            discovery,
            service_token: settings.service_token.clone(),
        }));
    tracing::info!(addr = %listener.local_addr()?, "envoy-control listening");
    let grpc = moing_common::config::GrpcSettings {
        request_timeout_ms: 24 * 3600 * 1000,
        ..Default::default()
    };
    server
        .serve(
            listener,
            &grpc,
            None,
            async move { shutdown.cancelled().await },
        )
        .await?;
    Ok(())
}

impl moing_common::entry::Binary for Settings {
    const NAME: &'static str = "envoy-control";

    fn listen(&self) -> std::net::SocketAddr {
        self.listen
    }

    fn log(&self) -> &moing_common::config::LogSettings {
        &self.log
    }
}
