//! Gateway settings: where to listen, where each public service lives, and the
//! edge policies (token verification, limits, CORS).

use std::net::SocketAddr;

use moing_common::{
    admin::AdminSettings,
    config::{AuthSettings, ClientSettings, Endpoints, LogSettings},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub listen: SocketAddr,
    /// The admin HTTP port (`/healthz`, `/readyz`, `/metrics`); 9080 in development.
    pub admin: AdminSettings,
    pub log: LogSettings,
    pub client: ClientSettings,
    /// Issuer/audience of access tokens and the auth endpoint serving the JWKS.
    pub auth: AuthSettings,
    /// Upstream gRPC endpoint per service name (`auth`, `moim`, ...): the `<svc>`
    /// of proto package `moing.<svc>.v1`.
    pub services: Endpoints,
    /// Methods callable without an access token (full names).
    pub anonymous_methods: Vec<String>,
    /// Deadline the gateway gives each upstream call.
    pub upstream_deadline_ms: u64,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    pub rate_per_member_per_minute: u32,
    pub rate_per_address_per_minute: u32,
    /// Browser origins allowed by CORS (e.g. `https://app.moing.example`); empty: none.
    pub cors_origins: Vec<String>,
    /// Proxies (CIDRs) whose `x-forwarded-for` names the client (the chart's
    /// Envoy); from any other peer the header is ignored. Empty: none.
    pub trusted_proxies: Vec<String>,
    /// `/docs` tells how to get a development token (set where auth's
    /// development sign-in is on, as `scripts/up` does).
    pub dev_sign_in_note: bool,
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
            admin: AdminSettings {
                listen: Some(SocketAddr::from(([127, 0, 0, 1], 9080))),
            },
            log: LogSettings::default(),
            client: ClientSettings {
                connect_timeout_ms: 1_000,
                request_timeout_ms: 15_000,
            },
            auth: AuthSettings::default(),
            services,
            anonymous_methods: vec![
                "moing.auth.v1.AuthService.SignIn".into(),
                "moing.auth.v1.AuthService.RefreshToken".into(),
                "moing.auth.v1.AuthService.GetJwks".into(),
            ],
            upstream_deadline_ms: 10_000,
            body_limit_bytes: 1024 * 1024,
            rate_per_member_per_minute: 600,
            rate_per_address_per_minute: 1_200,
            cors_origins: vec!["http://localhost:3000".into()],
            trusted_proxies: Vec::new(),
            dev_sign_in_note: false,
        }
    }
}

impl moing_common::entry::Binary for Settings {
    const NAME: &'static str = "gateway";

    fn listen(&self) -> std::net::SocketAddr {
        self.listen
    }

    fn log(&self) -> &moing_common::config::LogSettings {
        &self.log
    }
}
