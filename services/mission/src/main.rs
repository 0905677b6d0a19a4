//! The `mission` binary: the shared entry (settings → secrets → telemetry → bind → serve).
//! `mission rebuild-progress [TEAM_ID]` instead recounts the goal board's kept
//! counts from the proof rows and exits.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("rebuild-progress") {
        let team = args.get(1).map(|t| t.parse::<uuid::Uuid>()).transpose()?;
        let settings: moing_mission::config::Settings = moing_common::config::load()?;
        let sealed = moing_mission::startup::rebuild_progress(settings, team).await?;
        println!("rebuild-progress: {sealed} team(s) counted again from the proof rows");
        return Ok(());
    }
    moing_common::entry::main(moing_mission::startup::run).await
}
