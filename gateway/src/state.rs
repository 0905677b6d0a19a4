//! Everything a request needs, built once at start.

use std::{collections::HashMap, sync::Arc, time::Duration};

use moing_common::{
    client::{TracedChannel, lazy_channel, traced_channel},
    service::GrpcJwksClient,
};
use prost_reflect::DescriptorPool;

use crate::{
    config::Settings,
    edge::{EdgeAuth, RateLimiter},
    openapi,
    routes::{self, Route},
};

pub struct Gateway {
    pub pool: DescriptorPool,
    pub routes: Vec<Route>,
    /// Traced: each upstream call gets a client span and `traceparent`.
    pub upstreams: HashMap<String, TracedChannel>,
    pub edge: EdgeAuth,
    pub limiter: RateLimiter,
    pub openapi: bytes::Bytes,
    pub deadline: Duration,
    pub body_limit: usize,
    /// Whose `x-forwarded-for` to believe.
    pub trusted: crate::client_ip::TrustedProxies,
    /// Sent upstream with the client address: auth believes a forwarded
    /// address only from a caller holding the service credential.
    pub service_token: String,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    pub fn new(settings: &Settings) -> anyhow::Result<Arc<Self>> {
        let pool = DescriptorPool::decode(moing_proto::FILE_DESCRIPTOR_SET)?;
        let routes = routes::build(&pool);
        let mut upstreams = HashMap::new();
        for (name, endpoint) in &settings.services {
            upstreams.insert(name.clone(), traced_channel(endpoint, &settings.client)?);
        }
        let jwks_endpoint = settings
            .services
            .get("auth")
            .cloned()
            .unwrap_or_else(|| settings.auth.jwks_endpoint.clone());
        let verifier = settings
            .auth
            .verifier(Arc::new(GrpcJwksClient::new(lazy_channel(
                &jwks_endpoint,
                &settings.client,
            )?)));
        let openapi = serde_json::to_vec(&openapi::document(&pool, &routes))?.into();
        Ok(Arc::new(Self {
            pool,
            routes,
            upstreams,
            edge: EdgeAuth {
                verifier: Arc::new(verifier),
                anonymous: settings.anonymous_methods.iter().cloned().collect(),
            },
            limiter: RateLimiter::new(
                settings.rate_per_member_per_minute,
                settings.rate_per_address_per_minute,
            ),
            openapi,
            deadline: Duration::from_millis(settings.upstream_deadline_ms),
            body_limit: settings.body_limit_bytes,
            trusted: crate::client_ip::TrustedProxies::parse(&settings.trusted_proxies)?,
            service_token: settings.auth.service_token.clone(),
        }))
    }

    /// The upstream channel owning a service (`moing.<svc>.v1.X` → `<svc>`).
    pub fn upstream(&self, service_full_name: &str) -> Option<TracedChannel> {
        if !moing_proto::is_public_service(service_full_name) {
            return None;
        }
        let owner = service_full_name.split('.').nth(1)?;
        self.upstreams.get(owner).cloned()
    }
}
