//! The `moim` binary: load settings → init telemetry → bind → serve until a signal.

use moing_moim::{config::Settings, startup};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings: Settings = moing_common::config::load()?;
    // Before telemetry and before any port: a production pod on a development
    // secret exits at once, naming the variable to set.
    settings.require_secrets()?;
    moing_common::telemetry::init("moim", &settings.base.log);
    let listener = tokio::net::TcpListener::bind(settings.base.grpc.listen).await?;
    let shutdown = CancellationToken::new();
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        moing_common::server::shutdown_signal().await;
        on_signal.cancel();
    });
    startup::run(settings, listener, shutdown).await
}
