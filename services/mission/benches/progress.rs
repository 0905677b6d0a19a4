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

use chrono::{Datelike, NaiveDate, Utc};
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

/// A small deterministic pseudo-random choice (no dependency needed).
fn chance(seed: u64, percent: u64) -> bool {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    x % 100 < percent
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
    let today = (Utc::now() + chrono::Duration::hours(9)).date_naive();
    let start = today - chrono::Duration::days(days);
    // Backdate the team and the memberships in moim's schema.
    sqlx::query("UPDATE team SET start_date = ? WHERE id = ?")
        .bind(start)
        .bind(team_id)
        .execute(&app.moim_db.pool)
        .await?;
    sqlx::query("UPDATE membership SET joined_at = ? WHERE team_id = ?")
        .bind((Utc::now() - chrono::Duration::days(days + 1)).naive_utc())
        .bind(team_id)
        .execute(&app.moim_db.pool)
        .await?;

    let created = (Utc::now() - chrono::Duration::days(days)).naive_utc();
    let mission = |kind: &str, n: Option<i32>| (Uuid::now_v7(), kind.to_owned(), n);
    let repeats = [
        mission("REPEAT", Some(7)),
        mission("REPEAT", Some(3)),
        mission("REPEAT", Some(5)),
    ];
    for (id, kind, n) in &repeats {
        sqlx::query("INSERT INTO mission (id, team_id, title, kind, way, times_per_week, state, maker_id, time_zone, created_at, updated_at) VALUES (?, ?, '매일 미션', ?, 'TEXT', ?, 'ACTIVE', ?, 'Asia/Seoul', ?, ?)")
            .bind(id).bind(team_id).bind(kind).bind(n).bind(leader.id).bind(created).bind(created)
            .execute(&app.db.pool).await?;
    }
    // One ONCE mission per week, ended at its deadline a week later.
    let mut onces = Vec::new();
    let mut w = 0;
    while w * 7 < days {
        let id = Uuid::now_v7();
        let at = Utc::now() - chrono::Duration::days(days - w * 7);
        let deadline = at + chrono::Duration::days(7);
        let ended = deadline < Utc::now();
        sqlx::query("INSERT INTO mission (id, team_id, title, kind, way, deadline, state, end_reason, ended_at, maker_id, time_zone, created_at, updated_at) VALUES (?, ?, '주간 미션', 'ONCE', 'TEXT', ?, ?, ?, ?, ?, 'Asia/Seoul', ?, ?)")
            .bind(id).bind(team_id).bind(deadline.naive_utc())
            .bind(if ended { "ENDED" } else { "ACTIVE" })
            .bind(ended.then_some("DEADLINE"))
            .bind(ended.then_some(deadline.naive_utc()))
            .bind(leader.id).bind(at.naive_utc()).bind(at.naive_utc())
            .execute(&app.db.pool).await?;
        onces.push((id, (at + chrono::Duration::hours(9)).date_naive()));
        w += 1;
    }

    // Proof rows: (mission, member, status, day, week slot, is_once).
    let mut rows: Vec<(Uuid, Uuid, &str, NaiveDate, i32, bool)> = Vec::new();
    let mut d = start;
    let mut seed_n = 0u64;
    while d < today {
        let dow = d.weekday().num_days_from_monday();
        for (mi, m) in members.iter().enumerate() {
            seed_n += 1;
            let slot = |n: u32| i32::try_from(n).unwrap_or(0);
            // 7 a week: every day, 5% skips.
            let status = if chance(seed_n, 5) { "SKIPPED" } else { "DONE" };
            rows.push((repeats[0].0, *m, status, d, slot(dow), false));
            // 3 a week: Mon/Wed/Fri, most members.
            if matches!(dow, 0 | 2 | 4) && chance(seed_n ^ 7, 85) {
                rows.push((repeats[1].0, *m, "DONE", d, slot(dow / 2), false));
            }
            // 5 a week: weekdays.
            if dow < 5 && chance(seed_n ^ 13, 75) {
                rows.push((repeats[2].0, *m, "DONE", d, slot(dow), false));
            }
            // This week's one-time mission, on its second day, by 80%.
            if let Some((id, first)) = onces
                .iter()
                .find(|(_, f)| *f + chrono::Duration::days(1) == d)
                && chance(seed_n ^ 29 ^ mi as u64, 80)
            {
                let _ = first;
                rows.push((*id, *m, "DONE", d, 0, true));
            }
        }
        d += chrono::Duration::days(1);
    }
    for chunk in rows.chunks(500) {
        let mut q = sqlx::QueryBuilder::<sqlx::MySql>::new(
            "INSERT INTO proof (id, team_id, mission_id, member_id, status, way, body_text, day, week_start, week_slot, is_once, created_at) ",
        );
        q.push_values(
            chunk,
            |mut b, (mission, member, status, day, slot, once)| {
                let week =
                    *day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()));
                b.push_bind(Uuid::now_v7())
                    .push_bind(team_id)
                    .push_bind(*mission)
                    .push_bind(*member)
                    .push_bind(*status)
                    .push_bind("TEXT")
                    .push_bind("완료")
                    .push_bind(*day)
                    .push_bind(week)
                    .push_bind(*slot)
                    .push_bind(*once)
                    .push_bind(day.and_hms_opt(12, 0, 0).unwrap_or_default());
            },
        );
        q.build().execute(&app.db.pool).await?;
    }
    sqlx::query("ANALYZE TABLE proof")
        .execute(&app.db.pool)
        .await?;
    Ok(Seeded {
        team,
        start,
        proofs: rows.len(),
        missions: repeats.len() + onces.len(),
    })
}

async fn measure(app: &TestApp, s: &Seeded, label: &str) -> anyhow::Result<()> {
    let today = (Utc::now() + chrono::Duration::hours(9)).date_naive();
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
    let plan = sqlx::query(
        "EXPLAIN SELECT id, mission_id, member_id, day, status, created_at FROM proof FORCE INDEX (ix_proof_progress) \
         WHERE team_id = ? AND day BETWEEN ? AND ? AND deleted_at IS NULL",
    )
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
