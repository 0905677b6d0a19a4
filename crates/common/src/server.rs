//! The gRPC server every service runs: its own services plus health, reflection
//! (v1 and v1alpha, with the health descriptors registered so grpcurl-style tools
//! can call health too), the standard layers (span + metrics per call from
//! [`crate::observe::RpcLayer`], request timeout, auth), and graceful shutdown.
//!
//! Like mini-redis, the server takes an already-bound listener and a shutdown
//! future, so tests bind port 0 and connect without sleeping.

use std::{convert::Infallible, future::Future, time::Duration};

use http::{Request, Response};
use tokio::net::TcpListener;
use tokio_stream::{StreamExt, wrappers::TcpListenerStream};
use tonic::{
    body::Body,
    server::NamedService,
    service::{Routes, RoutesBuilder},
    transport::Server,
};
use tonic_health::{ServingStatus, server::HealthReporter};
use tower_service::Service;

use crate::{config::GrpcSettings, layer::AuthLayer};

/// Collects a service's gRPC services, then serves them with the standard extras.
pub struct ServerBuilder {
    routes: RoutesBuilder,
    names: Vec<&'static str>,
    health: HealthReporter,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl Default for ServerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerBuilder {
    /// Starts with health registered; reflection (v1 and v1alpha) is added by `serve`.
    pub fn new() -> Self {
        let (health, health_service) = tonic_health::server::health_reporter();
        let mut routes = RoutesBuilder::default();
        // Reflection is added in `serve`, once every service name is known.
        routes.add_service(health_service);
        Self {
            routes,
            names: Vec::new(),
            health,
        }
    }

    /// Adds one generated `...Server`; its health status starts `SERVING`.
    pub fn add_service<S>(mut self, svc: S) -> Self
    where
        S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.names.push(S::NAME);
        self.routes.add_service(svc);
        self
    }

    /// The reporter, for services that flip to `NOT_SERVING` when a dependency fails.
    pub fn health(&self) -> HealthReporter {
        self.health.clone()
    }

    /// Names of the added services, in order.
    pub fn service_names(&self) -> Vec<&'static str> {
        self.names.clone()
    }

    /// Serves until `shutdown` resolves, then drains in-flight calls.
    pub async fn serve(
        self,
        listener: TcpListener,
        settings: &GrpcSettings,
        auth: Option<AuthLayer>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), tonic::transport::Error> {
        for name in &self.names {
            self.health
                .set_service_status(*name, ServingStatus::Serving)
                .await;
        }
        self.health
            .set_service_status("", ServingStatus::Serving)
            .await;
        // Liveness: serving as long as the process answers; dependency outages
        // flip readiness ("" and the service names), never this one.
        self.health
            .set_service_status("liveness", ServingStatus::Serving)
            .await;
        let mut routes = self.routes;
        // Reflection advertises exactly what this server serves.
        let names = self.names.clone();
        let reflection = || {
            let mut builder = tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(moing_proto::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
                .with_service_name("grpc.health.v1.Health");
            for name in &names {
                builder = builder.with_service_name(*name);
            }
            builder
        };
        match reflection().build_v1() {
            Ok(s) => {
                routes.add_service(s);
            }
            Err(e) => tracing::error!(error = %e, "reflection v1 unavailable"),
        }
        match reflection().build_v1alpha() {
            Ok(s) => {
                routes.add_service(s);
            }
            Err(e) => tracing::error!(error = %e, "reflection v1alpha unavailable"),
        }
        let routes: Routes = routes.routes();
        // Which replica answered: lets clients and operators see load balancing.
        let served_by = listener
            .local_addr()
            .ok()
            .and_then(|a| http::HeaderValue::from_str(&a.to_string()).ok())
            .unwrap_or_else(|| http::HeaderValue::from_static("unknown"));
        // Small gRPC frames must not wait for Nagle; tonic sets this only on
        // listeners it binds itself.
        let incoming = TcpListenerStream::new(listener).map(|conn| {
            conn.inspect(|stream| {
                let _ = stream.set_nodelay(true);
            })
        });
        let mut builder = Server::builder()
            .timeout(settings.request_timeout())
            .concurrency_limit_per_connection(settings.concurrency_limit_per_connection)
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            // Outermost: the span, request id and metrics cover auth refusals too.
            .layer(crate::observe::RpcLayer)
            .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
                http::HeaderName::from_static("x-served-by"),
                served_by,
            ))
            .layer(tower::util::option_layer(auth));
        builder
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, shutdown)
            .await
    }
}

/// Resolves on ctrl-c or SIGTERM: the service's `main` passes it to [`ServerBuilder::serve`].
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => futures::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = futures::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received, draining");
}

/// Keeps gRPC health in step with a dependency: `NOT_SERVING` while `probe`
/// fails, `SERVING` again when it recovers. Runs until `shutdown` fires.
pub fn watch_dependency<P, F>(
    health: HealthReporter,
    names: Vec<&'static str>,
    interval: Duration,
    probe: P,
    shutdown: tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<()>
where
    P: Fn() -> F + Send + 'static,
    F: Future<Output = bool> + Send,
{
    tokio::spawn(async move {
        let mut last = true;
        loop {
            let ok = probe().await;
            if ok != last {
                let status = if ok {
                    tracing::info!("dependency recovered, serving");
                    ServingStatus::Serving
                } else {
                    tracing::warn!("dependency unreachable, not serving");
                    ServingStatus::NotServing
                };
                health.set_service_status("", status).await;
                for name in &names {
                    health.set_service_status(*name, status).await;
                }
                last = ok;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(interval) => {}
            }
        }
    })
}
