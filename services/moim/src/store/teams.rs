//! Teams: create, read, list a member's teams, edit, disband, and the
//! once-only TeamFinished announcements.

use chrono::{DateTime, Duration, Utc};
use moing_common::{convert::date as date_pb, outbox::timestamp};
use moing_proto::moing::{
    events::v1::{TeamCreated, TeamDisbanded, TeamFinished, TeamUpdated, event::Payload},
    moim::v1 as pb,
};
use sqlx::MySqlConnection;
use uuid::Uuid;

use super::{Store, joined_team_columns, membership, team};
use crate::{
    domain::{ACTIVE_TEAM_LIMIT, Membership, NewTeam, Team},
    error::MoimError,
};

impl Store {
    pub async fn team(&self, id: Uuid) -> Result<Option<Team>, MoimError> {
        let mut conn = self.pool.acquire().await?;
        Self::team_in(&mut conn, id, false).await
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
                        category: pb::TeamCategory::from(new.category) as i32,
                        leader_member_id: leader.to_string(),
                        start_date: Some(date_pb(new.start_date)),
                        end_date: Some(date_pb(new.end_date)),
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
            joined_team_columns()
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
                        category: pb::TeamCategory::from(team.category) as i32,
                        image_key: team.image_key.clone(),
                        start_date: Some(date_pb(team.start_date)),
                        end_date: Some(date_pb(team.end_date)),
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

    pub(super) async fn disband_in(
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
                        Payload::TeamFinished(TeamFinished {
                            team_name: team.name.clone(),
                            end_date: Some(date_pb(team.end_date)),
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
