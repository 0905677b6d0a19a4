//! SQL of the moim service: one `Store` (the pool and the outbox) with its
//! methods per resource in `store/<resource>.rs`. Returns domain types; sqlx
//! errors become `MoimError` here. Event payloads are built here because they
//! are written in the same transaction. Caps are enforced in the database:
//! `member_count < member_cap` guards the team row, and a per-member lock row
//! serialises one member's joins so the 3-active-teams count cannot race.

use chrono::{DateTime, NaiveDateTime, Utc};
use moing_common::outbox::Outbox;
use sqlx::{MySqlConnection, MySqlPool, Row, mysql::MySqlRow};
use uuid::Uuid;

use crate::{
    domain::{Category, Invite, Membership, Role, Status, Team},
    error::MoimError,
};

mod blocks;
mod export;
mod invites;
mod members;
mod schedule;
mod teams;

const TEAM_COLUMNS: &str = "id, name, category, introduction, leader_promise, image_key, start_date, \
    end_date, time_zone, member_cap, member_count, allow_member_invites, leader_id, disbanded_at, \
    created_at, updated_at";

/// The team columns qualified with `t.` (for joins).
fn joined_team_columns() -> String {
    TEAM_COLUMNS
        .split(", ")
        .map(|c| format!("t.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

fn team(row: &MySqlRow) -> Result<Team, MoimError> {
    let category: String = row.try_get("category")?;
    let disbanded: Option<NaiveDateTime> = row.try_get("disbanded_at")?;
    Ok(Team {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        category: Category::parse(&category)
            .ok_or_else(|| anyhow::anyhow!("unknown category {category}"))?,
        introduction: row.try_get("introduction")?,
        leader_promise: row.try_get("leader_promise")?,
        image_key: row.try_get("image_key")?,
        start_date: row.try_get("start_date")?,
        end_date: row.try_get("end_date")?,
        time_zone: row.try_get("time_zone")?,
        member_cap: row.try_get("member_cap")?,
        member_count: row.try_get("member_count")?,
        allow_member_invites: row.try_get("allow_member_invites")?,
        leader_id: row.try_get("leader_id")?,
        disbanded_at: disbanded.map(utc),
        created_at: utc(row.try_get("created_at")?),
        updated_at: utc(row.try_get("updated_at")?),
    })
}

fn membership(row: &MySqlRow) -> Result<Membership, MoimError> {
    let role: String = row.try_get("role")?;
    let left: Option<NaiveDateTime> = row.try_get("left_at")?;
    Ok(Membership {
        member_id: row.try_get("member_id")?,
        role: Role::parse(&role),
        state: row.try_get("state")?,
        joined_at: utc(row.try_get("joined_at")?),
        left_at: left.map(utc),
    })
}

fn invite(row: &MySqlRow) -> Result<Invite, MoimError> {
    let revoked: Option<NaiveDateTime> = row.try_get("revoked_at")?;
    Ok(Invite {
        id: row.try_get("id")?,
        team_id: row.try_get("team_id")?,
        code: row.try_get("code")?,
        created_by: row.try_get("created_by")?,
        created_at: utc(row.try_get("created_at")?),
        expires_at: utc(row.try_get("expires_at")?),
        max_uses: row.try_get("max_uses")?,
        use_count: row.try_get("use_count")?,
        revoked_at: revoked.map(utc),
    })
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: MySqlPool,
    outbox: Outbox,
}

impl Store {
    pub fn new(pool: MySqlPool, outbox: Outbox) -> Self {
        Self { pool, outbox }
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    async fn team_in(
        conn: &mut MySqlConnection,
        id: Uuid,
        lock: bool,
    ) -> Result<Option<Team>, MoimError> {
        let sql = format!(
            "SELECT {TEAM_COLUMNS} FROM team WHERE id = ?{}",
            if lock { " FOR UPDATE" } else { "" }
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(team).transpose()
    }

    async fn active_membership_in(
        conn: &mut MySqlConnection,
        team: Uuid,
        member: Uuid,
    ) -> Result<Option<Membership>, MoimError> {
        let row = sqlx::query(
            "SELECT member_id, role, state, joined_at, left_at FROM membership \
             WHERE team_id = ? AND active_member = ?",
        )
        .bind(team)
        .bind(member)
        .fetch_optional(&mut *conn)
        .await?;
        row.as_ref().map(membership).transpose()
    }

    async fn active_member_ids(
        conn: &mut MySqlConnection,
        team: Uuid,
    ) -> Result<Vec<Uuid>, MoimError> {
        Ok(sqlx::query_scalar(
            "SELECT member_id FROM membership WHERE team_id = ? AND state = 'ACTIVE'",
        )
        .bind(team)
        .fetch_all(&mut *conn)
        .await?)
    }

    /// Locks one member's row so their joins and creations run one at a time,
    /// then counts their active teams.
    async fn lock_member_and_count(
        conn: &mut MySqlConnection,
        member: Uuid,
        now: DateTime<Utc>,
    ) -> Result<i64, MoimError> {
        sqlx::query("INSERT IGNORE INTO member_lock (member_id) VALUES (?)")
            .bind(member)
            .execute(&mut *conn)
            .await?;
        sqlx::query("SELECT member_id FROM member_lock WHERE member_id = ? FOR UPDATE")
            .bind(member)
            .execute(&mut *conn)
            .await?;
        let sql = format!(
            "SELECT {} FROM team t JOIN membership m ON m.team_id = t.id \
             WHERE m.active_member = ? AND t.disbanded_at IS NULL",
            joined_team_columns()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(member)
            .fetch_all(&mut *conn)
            .await?;
        let mut active = 0;
        for row in &rows {
            if team(row)?.status(now) == Status::Active {
                active += 1;
            }
        }
        Ok(active)
    }
}
