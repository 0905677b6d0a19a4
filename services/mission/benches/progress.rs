//! Figures for the mission issue: GetTeamProgress (the goal board's feed) for a
//! 20-member team with 1 week and with 1 year of history — daily proofs on a
//! 7-a-week mission, proofs on 3- and 5-a-week missions, a one-time mission
//! every week — through the gRPC client, real MariaDB, moim in process.
//! Run: `cargo bench -p moing-mission --bench progress` (MariaDB from
//! scripts/test or scripts/up; MOING_TEST_DATABASE_URL as scripts/test sets it).

#[path = "../tests/api/helpers.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use helpers::{Member, TestApp, spawn_app};
use moing_proto::{
    google::r#type::Date,
    moing::mission::v1::{GetTeamProgressRequest, ProgressGranularity, ProgressSeriesSpec},
};
use sqlx::Row;
use uuid::Uuid;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn date(d: NaiveDate) -> Option<Date> {
    Some(Date {
        year: d.year(),
        month: d.month() as i32,
        day: d.day() as i32,
    })
}

struct Seeded {
    team: String,
    start: NaiveDate,
    proofs: usize,
    missions: usize,
}

/// A 20-member team whose history goes back `days` days.
async fn seed(app: &TestApp, days: i64) -> anyhow::Result<Seeded> {
    let leader = app.member();
    let others: Vec<Member> = (0..19).map(|_| app.member()).collect();
    let refs: Vec<&Member> = others.iter().collect();
    let team = app.team(&leader, &refs).await;
    let team_id = Uuid::parse_str(&team)?;
    let members: Vec<Uuid> = std::iter::once(leader.id)
        .chain(others.iter().map(|m| m.id))
        .collect();
    let today = (moing_common::clock::now() + chrono::Duration::hours(9)).date_naive();
    let start = today - chrono::Duration::days(days);
    // Backdate the team and the memberships in moim's schema.
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
    let h = moing_mission::seed::seed_history(&app.db.pool, team_id, &members, days).await?;
    Ok(Seeded {
        team,
        start,
        proofs: h.proofs,
        missions: h.missions,
    })
}

async fn measure(app: &TestApp, s: &Seeded, label: &str) -> anyhow::Result<()> {
    let today = (moing_common::clock::now() + chrono::Duration::hours(9)).date_naive();
    // What the goal board asks: totals since the start, 14 days, weeks since the start.
    let ask = GetTeamProgressRequest {
        team_id: s.team.clone(),
        series: vec![
            ProgressSeriesSpec {
                granularity: ProgressGranularity::Day as i32,
                from: date(today - chrono::Duration::days(13)),
                to: date(today),
            },
            ProgressSeriesSpec {
                granularity: ProgressGranularity::Week as i32,
                from: date(s.start),
                to: date(today),
            },
        ],
        viewer_member_id: String::new(),
        ..Default::default()
    };
    let mut client = app.internal.clone();
    for _ in 0..10 {
        client
            .get_team_progress(app.internal_request(ask.clone()))
            .await?;
    }
    let n = 200;
    let mut took = Vec::with_capacity(n);
    let mut size = 0;
    for _ in 0..n {
        let t = Instant::now();
        let r = client
            .get_team_progress(app.internal_request(ask.clone()))
            .await?
            .into_inner();
        took.push(t.elapsed());
        size = prost::Message::encoded_len(&r);
    }
    took.sort();
    println!(
        "{label}: {} proofs, {} missions, 20 members → GetTeamProgress p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (n={n}, sequential, response {size} bytes)",
        s.proofs,
        s.missions,
        pct(&took, 0.5).as_secs_f64() * 1e3,
        pct(&took, 0.99).as_secs_f64() * 1e3,
        took.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    let team_id = Uuid::parse_str(&s.team)?;
    // The plan of the production text (Store::team_rows), not of a copy.
    let explain = format!("EXPLAIN {}", moing_mission::store::TEAM_ROWS_SQL);
    let plan = sqlx::query(sqlx::AssertSqlSafe(explain))
        .bind(team_id)
        .bind(s.start - chrono::Duration::days(7))
        .bind(today)
        .fetch_all(&app.db.pool)
        .await?;
    for r in &plan {
        println!(
            "  plan: type={:?} key={:?} rows={:?} extra={:?}",
            r.try_get::<Option<String>, _>("type")?,
            r.try_get::<Option<String>, _>("key")?,
            r.try_get::<Option<i64>, _>("rows").ok().flatten(),
            r.try_get::<Option<String>, _>("Extra")?,
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = spawn_app().await;
    let week = seed(&app, 7).await?;
    let year = seed(&app, 365).await?;
    measure(&app, &week, "1 week").await?;
    measure(&app, &year, "1 year").await?;
    Ok(())
}
