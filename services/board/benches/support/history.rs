//! A 20-member team with `days` of history for the board's benches: the team
//! and memberships backdated in moim's schema, missions and proofs seeded by
//! `moing_mission::seed` in mission's.

use uuid::Uuid;

use super::helpers::{Member, TestApp};

/// (team id, the 20 members with the leader last, proofs seeded).
pub async fn seeded_team(app: &TestApp, days: i64) -> anyhow::Result<(String, Vec<Member>, usize)> {
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
    Ok((team, members, h.proofs))
}
