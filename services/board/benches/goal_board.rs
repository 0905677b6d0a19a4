//! Figures for the board issue: GetGoalBoard for a 20-member team with 1 week
//! and 1 year of history, through the gRPC client with moim and mission in
//! process (real MariaDB): p50/p99 under 16 concurrent callers, and the SQL
//! statements all services run per call (MariaDB's global Com_select, measured
//! over sequential calls). Run: `cargo bench -p moing-board --bench goal_board`.

#[path = "../tests/api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

use std::time::{Duration, Instant};

use helpers::{Member, TestApp, as_member, spawn_app};
use moing_proto::moing::board::v1::GetGoalBoardRequest;
use sqlx::Row;
use uuid::Uuid;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn selects(app: &TestApp) -> anyhow::Result<i64> {
    let row = sqlx::query("SHOW GLOBAL STATUS LIKE 'Com_select'")
        .fetch_one(&app.db.pool)
        .await?;
    let v: String = row.try_get(1)?;
    Ok(v.parse()?)
}

async fn run(app: &TestApp, days: i64) -> anyhow::Result<()> {
    let leader = app.member();
    let (team, code) = app.team(&leader).await;
    let mut members: Vec<Member> = vec![];
    for _ in 0..19 {
        let m = app.member();
        app.join(&code, &m).await;
        members.push(m);
    }
    let team_id = Uuid::parse_str(&team)?;
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
    members.push(leader);

    let ask = |m: &Member| {
        as_member(
            m,
            GetGoalBoardRequest {
                team_id: team.clone(),
            },
        )
    };
    for m in &members {
        app.board.clone().get_goal_board(ask(m)).await?;
    }
    // Statements per call, sequentially (nothing else runs meanwhile).
    let n_seq = 20;
    let before = selects(app).await?;
    for i in 0..n_seq {
        app.board
            .clone()
            .get_goal_board(ask(&members[i % 20]))
            .await?;
    }
    let per_call = (selects(app).await? - before - 1) as f64 / n_seq as f64;

    // 16 concurrent callers, 25 calls each.
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..16 {
        let mut client = app.board.clone();
        let reqs: Vec<_> = (0..25).map(|i| ask(&members[(c + i) % 20])).collect();
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::with_capacity(reqs.len());
            for r in reqs {
                let t = Instant::now();
                client.get_goal_board(r).await?;
                took.push(t.elapsed());
            }
            Ok::<_, tonic::Status>(took)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let wall = t0.elapsed();
    all.sort();
    println!(
        "{} of history ({} proofs, {} missions, 20 members): GetGoalBoard p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms under 16 concurrent callers ({} calls, {:.0} calls/s); {:.1} SELECTs per call across board + mission + moim",
        if days >= 365 { "1 year" } else { "1 week" },
        h.proofs,
        h.missions,
        pct(&all, 0.5).as_secs_f64() * 1e3,
        pct(&all, 0.99).as_secs_f64() * 1e3,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        all.len(),
        all.len() as f64 / wall.as_secs_f64(),
        per_call,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = spawn_app().await;
    run(&app, 7).await?;
    run(&app, 365).await?;
    Ok(())
}
