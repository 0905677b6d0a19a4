//! The `gateway` binary: the shared entry (settings → telemetry → bind → serve).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    moing_common::entry::main(moing_gateway::startup::run).await
}
