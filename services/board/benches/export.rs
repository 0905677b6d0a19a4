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

use std::time::{Duration, Instant};

use helpers::{Member, as_member, spawn_app};
use moing_proto::moing::board::v1::{ExportFormat, ExportScope, ExportTeamActivityRequest};
use uuid::Uuid;

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
    let leader = app.member();
    let (team, code) = app.team(&leader).await;
    let mut members: Vec<Member> = vec![];
    for _ in 0..19 {
        let m = app.member();
        app.join(&code, &m).await;
        members.push(m);
    }
    let team_id = Uuid::parse_str(&team)?;
    let days = 365;
    let start = (moing_common::clock::now() + chrono::Duration::hours(9)).date_naive()
        - chrono::Duration::days(days);
    sqlx::query("UPDATE team SET start_date = ? WHERE id = ?")
        .bind(start)
        .bind(team_id)
        .execute(&app.moim_db.pool)
        .await?;
    sqlx::query("UPDATE membership SET joined_at = ? WHERE team_id = ?")
        .bind((moing_common::clock::now() - chrono::Duration::days(days + 1)).naive_utc())
        .bind(team_id)
        .execute(&app.moim_db.pool)
        .await?;
    let ids: Vec<Uuid> = std::iter::once(leader.id)
        .chain(members.iter().map(|m| m.id))
        .collect();
    let h = moing_mission::seed::seed_history(&app.mission_db.pool, team_id, &ids, days).await?;
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
                    &leader,
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
            "{name}: 20 members, 1 year ({} proofs, {} missions): p50 {:.0} ms, max {:.0} ms over 10 exports; {} bytes",
            h.proofs,
            h.missions,
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
