//! SQL of the moim service. Returns domain types; sqlx errors become `MoimError` here.
//! Caps are enforced in the database: `member_count < member_cap` guards the
//! team row, and a per-member lock row serialises one member's joins so the
//! 3-active-teams count cannot race.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use moing_common::{
    db::is_unique_violation,
    outbox::{Outbox, timestamp},
};
use moing_proto::moing::events::v1::{
    LeaderChanged, MemberBlocked, MemberJoined, MemberLeft, MemberRemoved, MemberUnblocked,
    TeamCreated, TeamDisbanded, TeamUpdated, event::Payload,
};
use sqlx::{MySqlConnection, MySqlPool, Row, mysql::MySqlRow};
use uuid::Uuid;

use crate::{
    domain::{ACTIVE_TEAM_LIMIT, Category, Role, SingleMeeting, Status, Team, WeeklySlot},
    error::MoimError,
};

const TEAM_COLUMNS: &str = "id, name, category, introduction, leader_promise, image_key, start_date, \
    end_date, time_zone, member_cap, member_count, allow_member_invites, leader_id, disbanded_at, \
    created_at, updated_at";

/// Calendar days on the wire (shared conversion).
pub use moing_common::convert::date as pb_date;

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

/// An active or past membership row.
#[derive(Debug, Clone)]
pub struct Membership {
    pub member_id: Uuid,
    pub role: Role,
    pub state: String,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
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

/// An invite row.
#[derive(Debug, Clone)]
pub struct Invite {
    pub id: Uuid,
    pub team_id: Uuid,
    pub code: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub max_uses: i32,
    pub use_count: i32,
    pub revoked_at: Option<DateTime<Utc>>,
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

/// Fields a new team starts with.
#[derive(Debug, Clone)]
pub struct NewTeam {
    pub name: String,
    pub category: Category,
    pub introduction: String,
    pub leader_promise: String,
    pub image_key: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub time_zone: String,
    pub allow_member_invites: bool,
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

    pub async fn team(&self, id: Uuid) -> Result<Option<Team>, MoimError> {
        let mut conn = self.pool.acquire().await?;
        Self::team_in(&mut conn, id, false).await
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

    /// The caller's active membership in a team (the index on (team_id, active_member)).
    pub async fn active_membership(
        &self,
        team: Uuid,
        member: Uuid,
    ) -> Result<Option<Membership>, MoimError> {
        let mut conn = self.pool.acquire().await?;
        Self::active_membership_in(&mut conn, team, member).await
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
            TEAM_COLUMNS
                .split(", ")
                .map(|c| format!("t.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
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

    pub async fn create_team(
        &self,
        leader: Uuid,
        new: NewTeam,
        now: DateTime<Utc>,
    ) -> Result<Team, MoimError> {
        moing_common::transaction!("moim.create_team", Result<Team, MoimError>, {
            let mut tx = self.pool.begin().await?;
            if Self::lock_member_and_count(&mut tx, leader, now).await? >= ACTIVE_TEAM_LIMIT {
                return Err(MoimError::TeamLimitReached);
            }
            let id = Uuid::now_v7();
            let at = now.naive_utc();
            sqlx::query(
                "INSERT INTO team (id, name, category, introduction, leader_promise, image_key, start_date, \
                 end_date, time_zone, member_cap, member_count, allow_member_invites, leader_id, created_at, updated_at, finishes_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(&new.name)
            .bind(new.category.as_str())
            .bind(&new.introduction)
            .bind(&new.leader_promise)
            .bind(&new.image_key)
            .bind(new.start_date)
            .bind(new.end_date)
            .bind(&new.time_zone)
            .bind(crate::domain::DEFAULT_MEMBER_CAP)
            .bind(new.allow_member_invites)
            .bind(leader)
            .bind(at)
            .bind(at)
            .bind(crate::domain::finishes_at(new.end_date, &new.time_zone).naive_utc())
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO membership (team_id, member_id, joined_at, role, state) VALUES (?, ?, ?, 'LEADER', 'ACTIVE')")
                .bind(id)
                .bind(leader)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO meeting_schedule (team_id, weekly_slots, single_meetings, updated_at) VALUES (?, '[]', '[]', ?)")
                .bind(id)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(id),
                    Some(leader),
                    Payload::TeamCreated(TeamCreated {
                        team_name: new.name.clone(),
                        category: new.category.number(),
                        leader_member_id: leader.to_string(),
                        start_date: Some(pb_date(new.start_date)),
                        end_date: Some(pb_date(new.end_date)),
                        time_zone: new.time_zone.clone(),
                        member_cap: crate::domain::DEFAULT_MEMBER_CAP,
                    }),
                )
                .await?;
            let created = Self::team_in(&mut tx, id, false)
                .await?
                .ok_or(MoimError::TeamNotFound)?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(created)

        })
    }

    /// The member's active memberships with their teams (finished and in-grace included).
    pub async fn my_teams(&self, member: Uuid) -> Result<Vec<(Team, Membership)>, MoimError> {
        let sql = format!(
            "SELECT {}, m.member_id, m.role, m.state, m.joined_at, m.left_at FROM membership m \
             JOIN team t ON t.id = m.team_id WHERE m.active_member = ? ORDER BY m.joined_at DESC",
            TEAM_COLUMNS
                .split(", ")
                .map(|c| format!("t.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(member)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((team(r)?, membership(r)?)))
            .collect()
    }

    /// Applies changed fields (None = unchanged) and emits TeamUpdated.
    pub async fn update_team(
        &self,
        team: &Team,
        actor: Uuid,
        changed: Vec<String>,
    ) -> Result<Team, MoimError> {
        moing_common::transaction!("moim.update_team", Result<Team, MoimError>, {
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "UPDATE team SET name = ?, category = ?, introduction = ?, leader_promise = ?, image_key = ?, \
                 end_date = ?, allow_member_invites = ?, updated_at = ?, finishes_at = ? WHERE id = ? AND disbanded_at IS NULL",
            )
            .bind(&team.name)
            .bind(team.category.as_str())
            .bind(&team.introduction)
            .bind(&team.leader_promise)
            .bind(&team.image_key)
            .bind(team.end_date)
            .bind(team.allow_member_invites)
            .bind(moing_common::clock::now().naive_utc())
            .bind(crate::domain::finishes_at(team.end_date, &team.time_zone).naive_utc())
            .bind(team.id)
            .execute(&mut *tx)
            .await?;
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team.id),
                    Some(actor),
                    Payload::TeamUpdated(TeamUpdated {
                        changed_fields: changed.clone(),
                        team_name: team.name.clone(),
                        category: team.category.number(),
                        image_key: team.image_key.clone(),
                        start_date: Some(pb_date(team.start_date)),
                        end_date: Some(pb_date(team.end_date)),
                        allow_member_invites: team.allow_member_invites,
                    }),
                )
                .await?;
            let updated = Self::team_in(&mut tx, team.id, false)
                .await?
                .ok_or(MoimError::TeamNotFound)?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(updated)

        })
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

    async fn disband_in(
        &self,
        conn: &mut MySqlConnection,
        team: &Team,
        actor: Uuid,
        now: DateTime<Utc>,
        last_member_left: bool,
    ) -> Result<(), MoimError> {
        sqlx::query("UPDATE team SET disbanded_at = ?, updated_at = ? WHERE id = ? AND disbanded_at IS NULL")
            .bind(now.naive_utc())
            .bind(now.naive_utc())
            .bind(team.id)
            .execute(&mut *conn)
            .await?;
        let members = Self::active_member_ids(conn, team.id).await?;
        self.outbox
            .enqueue(
                conn,
                Some(team.id),
                Some(actor),
                Payload::TeamDisbanded(TeamDisbanded {
                    team_name: team.name.clone(),
                    member_ids: members.iter().map(Uuid::to_string).collect(),
                    grace_ends_at: Some(timestamp(
                        now + Duration::days(crate::domain::DISBAND_GRACE_DAYS),
                    )),
                    last_member_left,
                }),
            )
            .await?;
        Ok(())
    }

    pub async fn disband(
        &self,
        team: &Team,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Team, MoimError> {
        moing_common::transaction!("moim.disband", Result<Team, MoimError>, {
            let mut tx = self.pool.begin().await?;
            self.disband_in(&mut tx, team, actor, now, false).await?;
            let t = Self::team_in(&mut tx, team.id, false)
                .await?
                .ok_or(MoimError::TeamNotFound)?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(t)

        })
    }

    pub async fn create_invite(
        &self,
        team: Uuid,
        creator: Uuid,
        expires_at: DateTime<Utc>,
        max_uses: i32,
    ) -> Result<Invite, MoimError> {
        for _ in 0..5 {
            let id = Uuid::now_v7();
            let code = crate::domain::new_invite_code();
            let done = sqlx::query(
                "INSERT INTO invite (id, team_id, code, created_by, created_at, expires_at, max_uses) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(team)
            .bind(&code)
            .bind(creator)
            .bind(moing_common::clock::now().naive_utc())
            .bind(expires_at.naive_utc())
            .bind(max_uses)
            .execute(&self.pool)
            .await;
            match done {
                Ok(_) => {
                    return self
                        .invite_by_id(team, id)
                        .await?
                        .ok_or(MoimError::InviteNotFound);
                }
                Err(e) if is_unique_violation(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(MoimError::Internal(anyhow::anyhow!(
            "could not draw a unique invite code"
        )))
    }

    pub async fn invite_by_id(&self, team: Uuid, id: Uuid) -> Result<Option<Invite>, MoimError> {
        let row = sqlx::query("SELECT * FROM invite WHERE team_id = ? AND id = ?")
            .bind(team)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(invite).transpose()
    }

    pub async fn invite_by_code(&self, code: &str) -> Result<Option<Invite>, MoimError> {
        let row = sqlx::query("SELECT * FROM invite WHERE code = ?")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(invite).transpose()
    }

    pub async fn invites(&self, team: Uuid) -> Result<Vec<Invite>, MoimError> {
        let rows = sqlx::query("SELECT * FROM invite WHERE team_id = ? ORDER BY created_at DESC")
            .bind(team)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(invite).collect()
    }

    pub async fn revoke_invite(&self, team: Uuid, id: Uuid) -> Result<Option<Invite>, MoimError> {
        sqlx::query(
            "UPDATE invite SET revoked_at = COALESCE(revoked_at, ?) WHERE team_id = ? AND id = ?",
        )
        .bind(moing_common::clock::now().naive_utc())
        .bind(team)
        .bind(id)
        .execute(&self.pool)
        .await?;
        self.invite_by_id(team, id).await
    }

    /// Whether the leader removed `member` from `team` at or after `since` (an
    /// invite's creation): a removed member needs a code made after the removal.
    async fn removed_after(
        conn: &mut MySqlConnection,
        team: Uuid,
        member: Uuid,
        since: DateTime<Utc>,
    ) -> Result<bool, MoimError> {
        let removed: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM membership WHERE team_id = ? AND member_id = ? AND state = 'REMOVED' AND left_at >= ? LIMIT 1",
        )
        .bind(team)
        .bind(member)
        .bind(since.naive_utc())
        .fetch_optional(&mut *conn)
        .await?;
        Ok(removed.is_some())
    }

    /// [`Self::removed_after`] outside a transaction (PreviewInvite).
    pub async fn removed_since(
        &self,
        team: Uuid,
        member: Uuid,
        since: DateTime<Utc>,
    ) -> Result<bool, MoimError> {
        let mut conn = self.pool.acquire().await?;
        Self::removed_after(&mut conn, team, member, since).await
    }

    /// Joins with a code: every cap checked atomically in one transaction.
    pub async fn join(
        &self,
        code: &str,
        member: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Team, MoimError> {
        moing_common::transaction!("moim.join", Result<Team, MoimError>, {
            let mut tx = self.pool.begin().await?;
            let active = Self::lock_member_and_count(&mut tx, member, now).await?;
            let row = sqlx::query("SELECT * FROM invite WHERE code = ? FOR UPDATE")
                .bind(code)
                .fetch_optional(&mut *tx)
                .await?;
            let inv = row
                .as_ref()
                .map(invite)
                .transpose()?
                .ok_or(MoimError::InviteNotFound)?;
            let team = Self::team_in(&mut tx, inv.team_id, false)
                .await?
                .filter(|t| t.visible(now))
                .ok_or(MoimError::InviteNotFound)?;
            if inv.revoked_at.is_some() {
                return Err(MoimError::InviteRevoked);
            }
            if inv.expires_at <= now {
                return Err(MoimError::InviteExpired);
            }
            if inv.max_uses > 0 && inv.use_count >= inv.max_uses {
                return Err(MoimError::InviteUsedUp);
            }
            if !team.writable(now) {
                return Err(MoimError::ReadOnly);
            }
            if Self::removed_after(&mut tx, team.id, member, inv.created_at).await? {
                return Err(MoimError::InvitePredatesRemoval);
            }
            if Self::active_membership_in(&mut tx, team.id, member)
                .await?
                .is_some()
            {
                return Err(MoimError::AlreadyMember);
            }
            if active >= ACTIVE_TEAM_LIMIT {
                return Err(MoimError::TeamLimitReached);
            }
            let seat = sqlx::query("UPDATE team SET member_count = member_count + 1 WHERE id = ? AND member_count < member_cap AND disbanded_at IS NULL")
                .bind(team.id)
                .execute(&mut *tx)
                .await?;
            if seat.rows_affected() == 0 {
                return Err(MoimError::TeamFull);
            }
            sqlx::query("UPDATE invite SET use_count = use_count + 1 WHERE id = ?")
                .bind(inv.id)
                .execute(&mut *tx)
                .await?;
            let rejoined: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM membership WHERE team_id = ? AND member_id = ? LIMIT 1",
            )
            .bind(team.id)
            .bind(member)
            .fetch_optional(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO membership (team_id, member_id, joined_at, role, state) VALUES (?, ?, ?, 'MEMBER', 'ACTIVE')")
                .bind(team.id)
                .bind(member)
                .bind(now.naive_utc())
                .execute(&mut *tx)
                .await?;
            let joined = Self::team_in(&mut tx, team.id, false)
                .await?
                .ok_or(MoimError::TeamNotFound)?;
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team.id),
                    Some(member),
                    Payload::MemberJoined(MemberJoined {
                        member_id: member.to_string(),
                        team_name: joined.name.clone(),
                        invite_id: inv.id.to_string(),
                        member_count: joined.member_count,
                        rejoined: rejoined.is_some(),
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(joined)

        })
    }

    /// Leaves; a leader must hand over unless last. Returns whether the team was disbanded.
    pub async fn leave(
        &self,
        team_id: Uuid,
        member: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, MoimError> {
        moing_common::transaction!("moim.leave", Result<bool, MoimError>, {
            let mut tx = self.pool.begin().await?;
            let team = Self::team_in(&mut tx, team_id, true)
                .await?
                .ok_or(MoimError::TeamNotFound)?;
            let m = Self::active_membership_in(&mut tx, team_id, member)
                .await?
                .ok_or(MoimError::TeamNotFound)?;
            if m.role == Role::Leader && team.member_count > 1 {
                return Err(MoimError::LeaderMustHandOver);
            }
            self.end_membership(&mut tx, &team, member, "LEFT", now)
                .await?;
            let last = team.member_count <= 1;
            if last && team.disbanded_at.is_none() {
                self.disband_in(&mut tx, &team, member, now, true).await?;
            }
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team_id),
                    Some(member),
                    Payload::MemberLeft(MemberLeft {
                        member_id: member.to_string(),
                        team_name: team.name.clone(),
                        member_count: (team.member_count - 1).max(0),
                        account_withdrawn: false,
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(last)

        })
    }

    async fn end_membership(
        &self,
        conn: &mut MySqlConnection,
        team: &Team,
        member: Uuid,
        state: &str,
        now: DateTime<Utc>,
    ) -> Result<(), MoimError> {
        sqlx::query(
            "UPDATE membership SET state = ?, left_at = ? WHERE team_id = ? AND active_member = ?",
        )
        .bind(state)
        .bind(now.naive_utc())
        .bind(team.id)
        .bind(member)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE team SET member_count = member_count - 1 WHERE id = ? AND member_count > 0",
        )
        .bind(team.id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// NOT_TEAM_LEADER unless `leader` leads `team` (read under its row lock).
    async fn still_leader(
        conn: &mut MySqlConnection,
        team: &Team,
        leader: Uuid,
    ) -> Result<(), MoimError> {
        let m = Self::active_membership_in(conn, team.id, leader).await?;
        if team.leader_id != leader || m.is_none_or(|m| m.role != Role::Leader) {
            return Err(MoimError::NotLeader);
        }
        Ok(())
    }

    /// Removes a member; returns the new member count.
    pub async fn remove(
        &self,
        team_id: Uuid,
        leader: Uuid,
        target: Uuid,
        now: DateTime<Utc>,
    ) -> Result<i32, MoimError> {
        moing_common::transaction!("moim.remove", Result<i32, MoimError>, {
            let mut tx = self.pool.begin().await?;
            let team = Self::team_in(&mut tx, team_id, true)
                .await?
                .ok_or(MoimError::TeamNotFound)?;
            Self::still_leader(&mut tx, &team, leader).await?;
            if target == leader
                || Self::active_membership_in(&mut tx, team_id, target)
                    .await?
                    .is_none()
            {
                return Err(MoimError::TeamMemberNotFound);
            }
            self.end_membership(&mut tx, &team, target, "REMOVED", now)
                .await?;
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team_id),
                    Some(leader),
                    Payload::MemberRemoved(MemberRemoved {
                        member_id: target.to_string(),
                        team_name: team.name.clone(),
                        member_count: team.member_count - 1,
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(team.member_count - 1)

        })
    }

    pub async fn transfer(
        &self,
        team_id: Uuid,
        leader: Uuid,
        next: Uuid,
    ) -> Result<Team, MoimError> {
        moing_common::transaction!("moim.transfer", Result<Team, MoimError>, {
            let mut tx = self.pool.begin().await?;
            let team = Self::team_in(&mut tx, team_id, true)
                .await?
                .ok_or(MoimError::TeamNotFound)?;
            // Leadership is checked again under the team's row lock: a racing
            // transfer (or a leave) may have changed it since the caller's check.
            Self::still_leader(&mut tx, &team, leader).await?;
            if next == leader
                || Self::active_membership_in(&mut tx, team_id, next)
                    .await?
                    .is_none()
            {
                return Err(MoimError::TeamMemberNotFound);
            }
            sqlx::query(
                "UPDATE membership SET role = 'MEMBER' WHERE team_id = ? AND active_member = ?",
            )
            .bind(team_id)
            .bind(leader)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE membership SET role = 'LEADER' WHERE team_id = ? AND active_member = ?",
            )
            .bind(team_id)
            .bind(next)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE team SET leader_id = ?, updated_at = ? WHERE id = ?")
                .bind(next)
                .bind(moing_common::clock::now().naive_utc())
                .bind(team_id)
                .execute(&mut *tx)
                .await?;
            self.outbox
                .enqueue(
                    &mut tx,
                    Some(team_id),
                    Some(leader),
                    Payload::LeaderChanged(LeaderChanged {
                        previous_leader_member_id: leader.to_string(),
                        new_leader_member_id: next.to_string(),
                        team_name: team.name.clone(),
                    }),
                )
                .await?;
            let updated = Self::team_in(&mut tx, team_id, false)
                .await?
                .ok_or(MoimError::TeamNotFound)?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(updated)

        })
    }

    /// Memberships of a team: active ones, or every stint when `past` is set.
    pub async fn memberships(&self, team: Uuid, past: bool) -> Result<Vec<Membership>, MoimError> {
        let sql = if past {
            "SELECT member_id, role, state, joined_at, left_at FROM membership WHERE team_id = ? ORDER BY joined_at"
        } else {
            "SELECT member_id, role, state, joined_at, left_at FROM membership WHERE team_id = ? AND state = 'ACTIVE' ORDER BY joined_at"
        };
        let rows = sqlx::query(sql).bind(team).fetch_all(&self.pool).await?;
        rows.iter().map(membership).collect()
    }

    pub async fn schedule(
        &self,
        team: Uuid,
    ) -> Result<(Vec<WeeklySlot>, Vec<SingleMeeting>, Option<DateTime<Utc>>), MoimError> {
        let row = sqlx::query("SELECT weekly_slots, single_meetings, updated_at FROM meeting_schedule WHERE team_id = ?")
            .bind(team)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok((Vec::new(), Vec::new(), None));
        };
        let weekly: String = row.try_get("weekly_slots")?;
        let singles: String = row.try_get("single_meetings")?;
        let updated: NaiveDateTime = row.try_get("updated_at")?;
        Ok((
            serde_json::from_str(&weekly).map_err(anyhow::Error::from)?,
            serde_json::from_str(&singles).map_err(anyhow::Error::from)?,
            Some(utc(updated)),
        ))
    }

    pub async fn set_schedule(
        &self,
        team: &Team,
        actor: Uuid,
        weekly: &[WeeklySlot],
        singles: &[SingleMeeting],
        event: Payload,
    ) -> Result<(), MoimError> {
        moing_common::transaction!("moim.set_schedule", Result<(), MoimError>, {
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO meeting_schedule (team_id, weekly_slots, single_meetings, updated_at) VALUES (?, ?, ?, ?) \
                 ON DUPLICATE KEY UPDATE weekly_slots = VALUES(weekly_slots), single_meetings = VALUES(single_meetings), updated_at = VALUES(updated_at)",
            )
            .bind(team.id)
            .bind(serde_json::to_string(weekly).map_err(anyhow::Error::from)?)
            .bind(serde_json::to_string(singles).map_err(anyhow::Error::from)?)
            .bind(moing_common::clock::now().naive_utc())
            .execute(&mut *tx)
            .await?;
            self.outbox
                .enqueue(&mut tx, Some(team.id), Some(actor), event.clone())
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(())

        })
    }

    pub async fn block(&self, blocker: Uuid, blocked: Uuid) -> Result<DateTime<Utc>, MoimError> {
        moing_common::transaction!("moim.block", Result<DateTime<Utc>, MoimError>, {
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query(
                "INSERT IGNORE INTO member_block (blocker_id, blocked_id, created_at) VALUES (?, ?, ?)",
            )
            .bind(blocker)
            .bind(blocked)
            .bind(moing_common::clock::now().naive_utc())
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 1 {
                self.outbox
                    .enqueue(
                        &mut tx,
                        None,
                        Some(blocker),
                        Payload::MemberBlocked(MemberBlocked {
                            blocker_member_id: blocker.to_string(),
                            blocked_member_id: blocked.to_string(),
                        }),
                    )
                    .await?;
            }
            let at: NaiveDateTime = sqlx::query_scalar(
                "SELECT created_at FROM member_block WHERE blocker_id = ? AND blocked_id = ?",
            )
            .bind(blocker)
            .bind(blocked)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(utc(at))
        })
    }

    pub async fn unblock(&self, blocker: Uuid, blocked: Uuid) -> Result<bool, MoimError> {
        moing_common::transaction!("moim.unblock", Result<bool, MoimError>, {
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query("DELETE FROM member_block WHERE blocker_id = ? AND blocked_id = ?")
                .bind(blocker)
                .bind(blocked)
                .execute(&mut *tx)
                .await?;
            let was = done.rows_affected() == 1;
            if was {
                self.outbox
                    .enqueue(
                        &mut tx,
                        None,
                        Some(blocker),
                        Payload::MemberUnblocked(MemberUnblocked {
                            blocker_member_id: blocker.to_string(),
                            blocked_member_id: blocked.to_string(),
                        }),
                    )
                    .await?;
            }
            tx.commit().await?;
            self.outbox.wake();
            Ok(was)

        })
    }

    pub async fn blocks_of(&self, blocker: Uuid) -> Result<Vec<(Uuid, DateTime<Utc>)>, MoimError> {
        let rows = sqlx::query("SELECT blocked_id, created_at FROM member_block WHERE blocker_id = ? ORDER BY created_at DESC")
            .bind(blocker)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("blocked_id")?, utc(r.try_get("created_at")?))))
            .collect()
    }

    /// Among `candidates`: who blocked `actor`, and whom `actor` blocked.
    pub async fn filter_blocked(
        &self,
        actor: Uuid,
        candidates: &[Uuid],
    ) -> Result<(Vec<Uuid>, Vec<Uuid>), MoimError> {
        if candidates.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let marks = vec!["?"; candidates.len()].join(",");
        let sql_a = format!(
            "SELECT blocker_id FROM member_block WHERE blocked_id = ? AND blocker_id IN ({marks})"
        );
        let sql_b = format!(
            "SELECT blocked_id FROM member_block WHERE blocker_id = ? AND blocked_id IN ({marks})"
        );
        let mut qa = sqlx::query_scalar(sqlx::AssertSqlSafe(sql_a)).bind(actor);
        let mut qb = sqlx::query_scalar(sqlx::AssertSqlSafe(sql_b)).bind(actor);
        for c in candidates {
            qa = qa.bind(c);
            qb = qb.bind(c);
        }
        Ok((
            qa.fetch_all(&self.pool).await?,
            qb.fetch_all(&self.pool).await?,
        ))
    }
}

/// Teams whose end date has passed, not yet announced: claimed with SKIP LOCKED.
const FINISHING: moing_common::jobs::DueQuery = moing_common::jobs::DueQuery {
    table: "team",
    key: "id",
    due: "finishes_at",
    filter: "finished_notified_at IS NULL AND disbanded_at IS NULL",
};

impl Store {
    /// Emits TeamFinished once for each team past its end date; safe with
    /// several replicas (claimed rows are skipped, not waited for).
    pub async fn announce_finished(
        &self,
        now: DateTime<Utc>,
        batch: u32,
    ) -> Result<usize, MoimError> {
        moing_common::transaction!("moim.announce_finished", Result<usize, MoimError>, {
            let mut tx = self.pool.begin().await?;
            let ids: Vec<Uuid> = moing_common::jobs::claim_due(&mut tx, FINISHING, now, batch).await?;
            for id in &ids {
                let Some(team) = Self::team_in(&mut tx, *id, false).await? else {
                    continue;
                };
                let members = Self::active_member_ids(&mut tx, *id).await?;
                self.outbox
                    .enqueue(
                        &mut tx,
                        Some(*id),
                        None,
                        Payload::TeamFinished(moing_proto::moing::events::v1::TeamFinished {
                            team_name: team.name.clone(),
                            end_date: Some(pb_date(team.end_date)),
                            member_ids: members.iter().map(Uuid::to_string).collect(),
                        }),
                    )
                    .await?;
                sqlx::query("UPDATE team SET finished_notified_at = ? WHERE id = ?")
                    .bind(now.naive_utc())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            if !ids.is_empty() {
                self.outbox.wake();
            }
            Ok(ids.len())

        })
    }
}

impl Store {
    /// Active (not disbanded) teams whose period contains `date`, with their schedules,
    /// ordered by id, starting after `after` (keyset pagination).
    pub async fn teams_with_schedules(
        &self,
        date: NaiveDate,
        zone: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<(Team, Vec<WeeklySlot>, Vec<SingleMeeting>)>, MoimError> {
        let sql = format!(
            "SELECT {}, s.weekly_slots, s.single_meetings FROM team t JOIN meeting_schedule s ON s.team_id = t.id \
             WHERE t.disbanded_at IS NULL AND t.start_date <= ? AND t.end_date >= ? \
             AND (? IS NULL OR t.time_zone = ?) AND (? IS NULL OR t.id > ?) ORDER BY t.id LIMIT ?",
            TEAM_COLUMNS
                .split(", ")
                .map(|c| format!("t.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(date)
            .bind(date)
            .bind(zone)
            .bind(zone)
            .bind(after)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let weekly: String = r.try_get("weekly_slots")?;
                let singles: String = r.try_get("single_meetings")?;
                Ok((
                    team(r)?,
                    serde_json::from_str(&weekly).map_err(anyhow::Error::from)?,
                    serde_json::from_str(&singles).map_err(anyhow::Error::from)?,
                ))
            })
            .collect()
    }

    pub async fn active_members(&self, team: Uuid) -> Result<Vec<Uuid>, MoimError> {
        let mut conn = self.pool.acquire().await?;
        Self::active_member_ids(&mut conn, team).await
    }
}
