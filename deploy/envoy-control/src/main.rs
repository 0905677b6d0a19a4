//! The `envoy-control` binary: settings → telemetry → bind → serve until a signal.

use moing_envoy_control::startup::{self, Settings};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings: Settings = moing_common::config::load()?;
    moing_common::telemetry::init("envoy-control", &settings.log);
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        moing_common::server::shutdown_signal().await;
        on_signal.cancel();
    });
    startup::run(settings, listener, shutdown).await
}
