//! The `moim` binary: the shared entry (settings → secrets → telemetry → bind → serve).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    moing_common::entry::main(moing_moim::startup::run).await
}
