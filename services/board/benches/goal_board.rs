//! Figures for the board issue (flat cost): GetGoalBoard for a 20-member team
//! with 1 week and with 1 year of history, and a trivial authenticated RPC of
//! the same service (GetUnreadPostCount: token, membership, one count) through
//! the same gRPC client, all in one run: p50/p99 and calls/s under 16
//! concurrent callers, the ratios the issue asks for, and the SQL statements
//! all services run per board (MariaDB's global Com_select, sequential calls).
//!
//! Two configurations, each with moim and mission in process on real MariaDB:
//! as deployed (a team's shared board parts built once per change,
//! `board.team_cache_secs` 30) and with every board built afresh
//! (`team_cache_secs` 0: mission's kept weekly counts alone keep the cost flat).
//! Run: `cargo bench -p moing-board --bench goal_board` (`MOING_BENCH_CALLS`:
//! calls per caller, 50 by default).

#[path = "../tests/api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;
#[path = "support/history.rs"]
mod support;

use std::time::{Duration, Instant};

use helpers::{Member, Options, TestApp, as_member, spawn_with};
use moing_proto::moing::board::v1::{GetGoalBoardRequest, GetUnreadPostCountRequest};
use sqlx::Row;
use uuid::Uuid;

const CALLERS: usize = 16;

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

struct Figures {
    p50: Duration,
    p99: Duration,
    per_sec: f64,
}

/// `CALLERS` concurrent callers, `calls` each, through one client.
async fn load<F, Fut>(calls: usize, call: F) -> anyhow::Result<Figures>
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), tonic::Status>> + Send,
{
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CALLERS {
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::with_capacity(calls);
            for i in 0..calls {
                let t = Instant::now();
                call(c, i).await?;
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
    Ok(Figures {
        p50: pct(&all, 0.5),
        p99: pct(&all, 0.99),
        per_sec: all.len() as f64 / wall.as_secs_f64(),
    })
}

struct Row3 {
    label: String,
    board: Figures,
    trivial: Figures,
    per_call: f64,
    proofs: usize,
}

async fn run(app: &TestApp, days: i64, calls: usize) -> anyhow::Result<Row3> {
    let (team, members, proofs) = support::seeded_team(app, days).await?;
    let members: std::sync::Arc<Vec<(Uuid, String)>> =
        std::sync::Arc::new(members.iter().map(|m| (m.id, m.token.clone())).collect());
    let ask = |m: &(Uuid, String), team: &str| {
        as_member(
            &Member {
                id: m.0,
                token: m.1.clone(),
            },
            GetGoalBoardRequest {
                team_id: team.to_owned(),
            },
        )
    };
    // Warm: every member once (the first call also seals the closed weeks).
    for m in members.iter() {
        app.board.clone().get_goal_board(ask(m, &team)).await?;
    }
    let n_seq = 20;
    let before = selects(app).await?;
    for i in 0..n_seq {
        app.board
            .clone()
            .get_goal_board(ask(&members[i % 20], &team))
            .await?;
    }
    let per_call = (selects(app).await? - before - 1) as f64 / n_seq as f64;

    let (client, t, ms) = (app.board.clone(), team.clone(), members.clone());
    let board = load(calls, move |c, i| {
        let (mut client, team, ms) = (client.clone(), t.clone(), ms.clone());
        async move {
            client
                .get_goal_board(ask(&ms[(c + i) % 20], &team))
                .await
                .map(|_| ())
        }
    })
    .await?;
    let (client, t, ms) = (app.board.clone(), team.clone(), members.clone());
    let trivial = load(calls, move |c, i| {
        let (mut client, team, ms) = (client.clone(), t.clone(), ms.clone());
        async move {
            let m = &ms[(c + i) % 20];
            client
                .get_unread_post_count(as_member(
                    &Member {
                        id: m.0,
                        token: m.1.clone(),
                    },
                    GetUnreadPostCountRequest { team_id: team },
                ))
                .await
                .map(|_| ())
        }
    })
    .await?;
    Ok(Row3 {
        label: if days >= 365 { "1 year" } else { "1 week" }.into(),
        board,
        trivial,
        per_call,
        proofs,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn configuration(name: &str, cache_secs: u64, calls: usize) -> anyhow::Result<()> {
    let app = spawn_with(Options {
        team_cache_secs: Some(cache_secs),
        ..Options::default()
    })
    .await;
    let week = run(&app, 7, calls).await?;
    let year = run(&app, 365, calls).await?;
    println!(
        "\n{name} (board.team_cache_secs = {cache_secs}), {CALLERS} concurrent callers × {calls} calls, 20 members:"
    );
    for r in [&week, &year] {
        println!(
            "  {:7} ({:6} proofs): GetGoalBoard p50 {:6.2} ms, p99 {:6.2} ms, {:7.0} calls/s; GetUnreadPostCount p50 {:5.2} ms, {:7.0} calls/s; board/trivial {:5.1}%; {:.1} SELECTs per board",
            r.label,
            r.proofs,
            ms(r.board.p50),
            ms(r.board.p99),
            r.board.per_sec,
            ms(r.trivial.p50),
            r.trivial.per_sec,
            100.0 * r.board.per_sec / r.trivial.per_sec,
            r.per_call,
        );
    }
    println!(
        "  1 year ÷ 1 week: p50 {:.2}, calls/s {:.2} (week ÷ year)",
        ms(year.board.p50) / ms(week.board.p50),
        week.board.per_sec / year.board.per_sec,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let calls = std::env::var("MOING_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    configuration("as deployed", 30, calls).await?;
    configuration("every board built afresh", 0, calls).await?;
    Ok(())
}
