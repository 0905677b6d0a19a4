//! The event-fed copy of teams (name, time zone, active) the reminders plan from.

use chrono::{DateTime, Utc};
use sqlx::MySqlConnection;
use uuid::Uuid;

use super::naive;
use crate::domain::DEFAULT_TIME_ZONE;

pub async fn upsert_team(
    conn: &mut MySqlConnection,
    team: Uuid,
    name: &str,
    time_zone: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let tz = if time_zone.parse::<chrono_tz::Tz>().is_ok() {
        time_zone
    } else {
        DEFAULT_TIME_ZONE.name()
    };
    sqlx::query(
        "INSERT INTO team (team_id, name, time_zone, active, updated_at) VALUES (?, ?, ?, TRUE, ?) \
         ON DUPLICATE KEY UPDATE name = VALUES(name), time_zone = VALUES(time_zone), updated_at = VALUES(updated_at)",
    )
    .bind(team)
    .bind(name)
    .bind(tz)
    .bind(naive(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn rename_team(
    conn: &mut MySqlConnection,
    team: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE team SET name = ?, updated_at = ? WHERE team_id = ?")
        .bind(name)
        .bind(naive(now))
        .bind(team)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn deactivate_team(
    conn: &mut MySqlConnection,
    team: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE team SET active = FALSE, updated_at = ? WHERE team_id = ?")
        .bind(naive(now))
        .bind(team)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The team's name in the copy (empty when unknown).
pub async fn team_name(conn: &mut MySqlConnection, team: Uuid) -> Result<String, sqlx::Error> {
    Ok(
        sqlx::query_scalar("SELECT name FROM team WHERE team_id = ?")
            .bind(team)
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or_default(),
    )
}
