//! Generic gRPC forwarding: pick the upstream channel from the method path,
//! check the caller at the edge, and pass the HTTP/2 request through untouched
//! (headers, metadata, body, trailers). gRPC-web arrives here already
//! translated by `tonic_web::GrpcWebLayer`.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::Arc,
    task::{Context, Poll},
};

use axum::extract::ConnectInfo;
use futures_util::future::BoxFuture;
use http::{HeaderValue, Request, Response};
use http_body_util::BodyExt;
use tonic::{Status, body::Body};
use tower::{Service, ServiceExt};

use crate::{client_ip::TrustedProxies, state::Gateway};

#[derive(Debug, Clone)]
pub struct GrpcProxy {
    gateway: Arc<Gateway>,
}

impl GrpcProxy {
    pub fn new(gateway: Arc<Gateway>) -> Self {
        Self { gateway }
    }
}

/// The client address as the services should see it: the TCP peer, or, behind
/// a trusted proxy, the client it forwarded for (`client_ip`).
pub fn client_address<B>(req: &Request<B>, trusted: &TrustedProxies) -> String {
    let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return "unknown".into();
    };
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    trusted.client(peer, forwarded).to_string()
}

impl Service<Request<Body>> for GrpcProxy {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let gateway = self.gateway.clone();
        Box::pin(async move {
            // Read the (small, unary or server-streaming) request first: answering
            // before the body is consumed makes HTTP/1.1 clients fail with EPIPE.
            let (parts, body) = req.into_parts();
            let bytes = match http_body_util::Limited::new(body, gateway.body_limit)
                .collect()
                .await
            {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    return Ok(Status::resource_exhausted("request body is too large").into_http());
                }
            };
            let mut req = Request::from_parts(parts, Body::new(http_body_util::Full::new(bytes)));
            let path = req.uri().path().to_owned();
            let mut parts = path.trim_start_matches('/').splitn(2, '/');
            let service = parts.next().unwrap_or("").to_owned();
            let method = parts.next().unwrap_or("").to_owned();
            let Some(channel) = gateway.upstream(&service) else {
                return Ok(Status::unimplemented(format!(
                    "{service} is not served by the gateway"
                ))
                .into_http());
            };
            let authorization = req
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let full_name = format!("{service}.{method}");
            let principal = match gateway
                .edge
                .check(&full_name, authorization.as_deref())
                .await
            {
                Ok(p) => p,
                Err(status) => return Ok(status.into_http()),
            };
            if let Some(p) = &principal {
                moing_common::observe::record_member(&p.member_id);
            }
            let address = client_address(&req, &gateway.trusted);
            if let Err(status) = gateway.limiter.check(&address, principal.as_ref()) {
                return Ok(status.into_http());
            }
            if let Ok(v) = HeaderValue::from_str(&address) {
                req.headers_mut().insert("x-forwarded-for", v);
            }
            // Vouches for the address above (never a client's own header).
            match HeaderValue::from_str(&gateway.service_token) {
                Ok(v) => {
                    req.headers_mut()
                        .insert(moing_common::layer::SERVICE_TOKEN_HEADER, v);
                }
                Err(_) => {
                    req.headers_mut()
                        .remove(moing_common::layer::SERVICE_TOKEN_HEADER);
                }
            }
            match channel.oneshot(req).await {
                Ok(resp) => Ok(resp.map(Body::new)),
                Err(e) => {
                    tracing::warn!(error = %e, %service, "upstream unreachable");
                    Ok(Status::unavailable("upstream service is unavailable").into_http())
                }
            }
        })
    }
}
