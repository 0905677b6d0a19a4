//! Generic gRPC forwarding: pick the upstream channel from the method path and
//! pass the HTTP/2 request through untouched (headers, metadata, body, trailers).

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use futures_util::future::BoxFuture;
use http::{Request, Response};
use tonic::{Status, body::Body, transport::Channel};
use tower::{Service, ServiceExt};

use crate::config::Settings;

/// Upstream channels by service name, created lazily at start.
#[derive(Debug, Clone)]
pub struct GrpcProxy {
    upstreams: Arc<HashMap<String, Channel>>,
}

impl GrpcProxy {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let mut upstreams = HashMap::new();
        for (name, endpoint) in &settings.services {
            upstreams.insert(
                name.clone(),
                moing_common::client::lazy_channel(endpoint, &settings.client)?,
            );
        }
        Ok(Self {
            upstreams: Arc::new(upstreams),
        })
    }

    /// The upstream for a method path, if the method is public.
    fn route(&self, path: &str) -> Result<Channel, Status> {
        let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
        if !moing_proto::is_public_service(service) {
            return Err(Status::unimplemented(format!(
                "{service} is not served by the gateway"
            )));
        }
        let owner = service.split('.').nth(1).unwrap_or("");
        self.upstreams
            .get(owner)
            .cloned()
            .ok_or_else(|| Status::unimplemented(format!("no upstream for {service}")))
    }
}

impl Service<Request<Body>> for GrpcProxy {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let routed = self.route(req.uri().path());
        Box::pin(async move {
            let channel = match routed {
                Ok(c) => c,
                Err(status) => return Ok(status.into_http()),
            };
            match channel.oneshot(req).await {
                Ok(resp) => Ok(resp.map(Body::new)),
                Err(e) => {
                    tracing::warn!(error = %e, "upstream unreachable");
                    Ok(Status::unavailable("upstream service is unavailable").into_http())
                }
            }
        })
    }
}
