//! Outbound gRPC channels: lazy connect, connect and request deadlines, the
//! service credential on every call to an internal service, and tracing
//! (a client span and W3C `traceparent` per call, see [`crate::observe`]).

use std::time::Duration;

use tonic::{
    Request, Status,
    metadata::AsciiMetadataValue,
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};

use crate::{config::ClientSettings, layer::SERVICE_TOKEN_HEADER, observe::Traced};

/// A channel that connects on first use, so services start in any order.
pub fn lazy_channel(endpoint: &str, settings: &ClientSettings) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(endpoint.to_owned())?
        .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
        .timeout(Duration::from_millis(settings.request_timeout_ms))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    Ok(endpoint.connect_lazy())
}

/// Adds `x-moing-service-token` to each request.
#[derive(Debug, Clone)]
pub struct ServiceCredential {
    token: AsciiMetadataValue,
}

impl ServiceCredential {
    pub fn new(token: &str) -> anyhow::Result<Self> {
        Ok(Self {
            token: token.parse()?,
        })
    }
}

impl Interceptor for ServiceCredential {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        req.metadata_mut()
            .insert(SERVICE_TOKEN_HEADER, self.token.clone());
        Ok(req)
    }
}

/// A channel to an internal service, carrying the service credential; each
/// call gets a client span and `traceparent` ([`Traced`]).
pub type InternalChannel = Traced<InterceptedService<Channel, ServiceCredential>>;

pub fn internal_channel(
    endpoint: &str,
    settings: &ClientSettings,
    service_token: &str,
) -> anyhow::Result<InternalChannel> {
    Ok(Traced::new(InterceptedService::new(
        lazy_channel(endpoint, settings)?,
        ServiceCredential::new(service_token)?,
    )))
}

/// A [`lazy_channel`] whose calls are traced and propagate `traceparent`.
pub type TracedChannel = Traced<Channel>;

pub fn traced_channel(endpoint: &str, settings: &ClientSettings) -> anyhow::Result<TracedChannel> {
    Ok(Traced::new(lazy_channel(endpoint, settings)?))
}
