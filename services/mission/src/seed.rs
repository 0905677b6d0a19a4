//! Seeding of long histories for benchmarks (mission's and board's): one year
//! of missions and proofs for a team, written straight into the mission schema.
//! Not used by the service itself.

use chrono::{Datelike, NaiveDate};
use sqlx::MySqlPool;
use uuid::Uuid;

/// A small deterministic pseudo-random choice (no dependency needed).
fn chance(seed: u64, percent: u64) -> bool {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    x % 100 < percent
}

/// What was seeded.
#[derive(Debug, Clone)]
pub struct History {
    pub proofs: usize,
    pub missions: usize,
}

/// A seeded mission: id, kind and weekly target.
type Seeded = (Uuid, String, Option<i32>);

/// Three REPEAT missions (7, 3 and 5 a week), created `days` ago.
async fn seed_repeats(
    pool: &MySqlPool,
    team_id: Uuid,
    leader: Uuid,
    days: i64,
) -> anyhow::Result<[Seeded; 3]> {
    let created = (moing_common::clock::now() - chrono::Duration::days(days)).naive_utc();
    let mission = |kind: &str, n: Option<i32>| (Uuid::now_v7(), kind.to_owned(), n);
    let repeats = [
        mission("REPEAT", Some(7)),
        mission("REPEAT", Some(3)),
        mission("REPEAT", Some(5)),
    ];
    for (id, kind, n) in &repeats {
        sqlx::query("INSERT INTO mission (id, team_id, title, kind, way, times_per_week, state, maker_id, time_zone, created_at, updated_at) VALUES (?, ?, '매일 미션', ?, 'TEXT', ?, 'ACTIVE', ?, 'Asia/Seoul', ?, ?)")
            .bind(id).bind(team_id).bind(kind).bind(n).bind(leader).bind(created).bind(created)
            .execute(pool).await?;
    }
    Ok(repeats)
}

/// One ONCE mission per week, ended at its deadline a week later: (id, first
/// team-local day).
async fn seed_onces(
    pool: &MySqlPool,
    team_id: Uuid,
    leader: Uuid,
    days: i64,
) -> anyhow::Result<Vec<(Uuid, NaiveDate)>> {
    let mut onces = Vec::new();
    let mut w = 0;
    while w * 7 < days {
        let id = Uuid::now_v7();
        let at = moing_common::clock::now() - chrono::Duration::days(days - w * 7);
        let deadline = at + chrono::Duration::days(7);
        let ended = deadline < moing_common::clock::now();
        sqlx::query("INSERT INTO mission (id, team_id, title, kind, way, deadline, state, end_reason, ended_at, maker_id, time_zone, created_at, updated_at) VALUES (?, ?, '주간 미션', 'ONCE', 'TEXT', ?, ?, ?, ?, ?, 'Asia/Seoul', ?, ?)")
            .bind(id).bind(team_id).bind(deadline.naive_utc())
            .bind(if ended { "ENDED" } else { "ACTIVE" })
            .bind(ended.then_some("DEADLINE"))
            .bind(ended.then_some(deadline.naive_utc()))
            .bind(leader).bind(at.naive_utc()).bind(at.naive_utc())
            .execute(pool).await?;
        onces.push((id, (at + chrono::Duration::hours(9)).date_naive()));
        w += 1;
    }
    Ok(onces)
}

/// Proof rows: (mission, member, status, day, week slot, is_once).
type SeedRow = (Uuid, Uuid, &'static str, NaiveDate, i32, bool);

/// Daily proofs from `start` to before `today`, some skips and misses.
fn proof_rows(
    repeats: &[Seeded; 3],
    onces: &[(Uuid, NaiveDate)],
    members: &[Uuid],
    start: NaiveDate,
    today: NaiveDate,
) -> Vec<SeedRow> {
    let mut rows: Vec<SeedRow> = Vec::new();
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
            if let Some((id, _)) = onces
                .iter()
                .find(|(_, f)| *f + chrono::Duration::days(1) == d)
                && chance(seed_n ^ 29 ^ mi as u64, 80)
            {
                rows.push((*id, *m, "DONE", d, 0, true));
            }
        }
        d += chrono::Duration::days(1);
    }
    rows
}

async fn insert_proofs(pool: &MySqlPool, team_id: Uuid, rows: &[SeedRow]) -> anyhow::Result<()> {
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
        q.build().execute(pool).await?;
    }
    Ok(())
}

/// `days` of history for `members` (the first is the leader) of `team`: three
/// REPEAT missions (7, 3 and 5 a week) and one ONCE mission a week, with daily
/// proofs, some skips and misses. Team-local days are Asia/Seoul.
pub async fn seed_history(
    pool: &MySqlPool,
    team_id: Uuid,
    members: &[Uuid],
    days: i64,
) -> anyhow::Result<History> {
    let leader = members.first().copied().unwrap_or_default();
    let today = (moing_common::clock::now() + chrono::Duration::hours(9)).date_naive();
    let start = today - chrono::Duration::days(days);
    let repeats = seed_repeats(pool, team_id, leader, days).await?;
    let onces = seed_onces(pool, team_id, leader, days).await?;
    let rows = proof_rows(&repeats, &onces, members, start, today);
    insert_proofs(pool, team_id, &rows).await?;
    sqlx::query("ANALYZE TABLE proof").execute(pool).await?;
    Ok(History {
        proofs: rows.len(),
        missions: repeats.len() + onces.len(),
    })
}
