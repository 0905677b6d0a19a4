//! The `mission` binary: the shared entry (settings → secrets → telemetry → bind → serve),
//! or the `rebuild-progress` command (`startup::main`).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    moing_mission::startup::main().await
}
