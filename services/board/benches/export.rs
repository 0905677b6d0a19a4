//! Figures for the export issue: ExportTeamActivity for a 20-member team with
//! one year of history (the goal-board bench's seed: three REPEAT missions and
//! a ONCE mission a week), CSV and PDF, scope TEAM, through the gRPC client
//! with moim and mission in process on real MariaDB: p50 and max over 10 calls
//! each, the file sizes, and the process's peak resident set before and after
//! (VmHWM; every service and the client share the process, so the growth is
//! an upper bound on what an export holds).
//! Run: `cargo bench -p moing-board --bench export`.

#[path = "../tests/api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;
#[path = "support/history.rs"]
mod support;

use std::time::{Duration, Instant};

use helpers::{as_member, spawn_app};
use moing_proto::moing::board::v1::{ExportFormat, ExportScope, ExportTeamActivityRequest};

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = spawn_app().await;
    let (team, members, proofs) = support::seeded_team(&app, 365).await?;
    let leader = members
        .last()
        .ok_or_else(|| anyhow::anyhow!("no members"))?;
    let hwm_before = status_kib("VmHWM:");
    for (format, name) in [(ExportFormat::Csv, "CSV"), (ExportFormat::Pdf, "PDF")] {
        let mut took = Vec::new();
        let mut size = 0;
        for _ in 0..10 {
            let t = Instant::now();
            let out = app
                .board
                .clone()
                .export_team_activity(as_member(
                    leader,
                    ExportTeamActivityRequest {
                        team_id: team.clone(),
                        format: format as i32,
                        scope: ExportScope::Team as i32,
                        start_date: None,
                        end_date: None,
                    },
                ))
                .await?
                .into_inner();
            took.push(t.elapsed());
            size = out.content.len();
        }
        took.sort();
        println!(
            "{name}: 20 members, 1 year ({proofs} proofs): p50 {:.0} ms, max {:.0} ms over 10 exports; {} bytes",
            took[took.len() / 2].as_secs_f64() * 1e3,
            took.last().copied().unwrap_or(Duration::ZERO).as_secs_f64() * 1e3,
            size
        );
    }
    println!(
        "peak resident set of the process: {} MiB before the exports, {} MiB after",
        hwm_before / 1024,
        status_kib("VmHWM:") / 1024
    );
    Ok(())
}
