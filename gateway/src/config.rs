//! Gateway settings: where to listen and where each public service lives.

use std::net::SocketAddr;

use moing_common::config::{ClientSettings, Endpoints, LogSettings};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub listen: SocketAddr,
    pub log: LogSettings,
    pub client: ClientSettings,
    /// Upstream gRPC endpoint per service name (`auth`, `moim`, ...): the `<svc>`
    /// of proto package `moing.<svc>.v1`.
    pub services: Endpoints,
}

impl Default for Settings {
    fn default() -> Self {
        let services = [
            ("auth", 50051),
            ("moim", 50052),
            ("mission", 50053),
            ("board", 50054),
            ("notification", 50055),
        ]
        .into_iter()
        .map(|(name, port)| (name.to_owned(), format!("http://127.0.0.1:{port}")))
        .collect();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log: LogSettings::default(),
            client: ClientSettings::default(),
            services,
        }
    }
}
