//! Builds the gateway's HTTP service and serves it on a bound listener.

use axum::{Router, routing::get};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;

use crate::{config::Settings, proxy::GrpcProxy};

/// The whole edge as one axum router: health plus the gRPC / gRPC-web proxy.
pub fn router(settings: &Settings) -> anyhow::Result<Router> {
    let proxy = GrpcProxy::new(settings)?;
    let grpc = ServiceBuilder::new()
        .layer(tonic_web::GrpcWebLayer::new())
        .service(proxy);
    Ok(Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .fallback_service(grpc))
}

/// Serves HTTP/1.1 and HTTP/2 (prior knowledge) until `shutdown` is cancelled.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let app = router(&settings)?;
    tracing::info!(addr = %listener.local_addr()?, "gateway listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await?;
    Ok(())
}
