//! The `envoy-control` binary: the shared entry (settings → telemetry → bind → serve).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    moing_common::entry::main(moing_envoy_control::startup::run).await
}
