//! Memberships: the caller's membership, a team's members, leaving,
//! removal and leadership hand-over.

use chrono::{DateTime, Utc};
use moing_proto::moing::events::v1::{LeaderChanged, MemberLeft, MemberRemoved, event::Payload};
use sqlx::MySqlConnection;
use uuid::Uuid;

use super::{Store, membership};
use crate::{
    domain::{Membership, Role, Team},
    error::MoimError,
};

impl Store {
    /// The caller's active membership in a team (the index on (team_id, active_member)).
    pub async fn active_membership(
        &self,
        team: Uuid,
        member: Uuid,
    ) -> Result<Option<Membership>, MoimError> {
        let mut conn = self.pool.acquire().await?;
        Self::active_membership_in(&mut conn, team, member).await
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

    pub async fn active_members(&self, team: Uuid) -> Result<Vec<Uuid>, MoimError> {
        let mut conn = self.pool.acquire().await?;
        Self::active_member_ids(&mut conn, team).await
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
            let team = Self::leader_acts_on(&mut tx, team_id, leader, target).await?;
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

    /// The team, locked, for a leader's action on another active member:
    /// leadership is checked again under the team's row lock (a racing transfer
    /// or leave may have changed it since the caller's check), and `target`
    /// must be an active member other than the leader.
    async fn leader_acts_on(
        tx: &mut sqlx::MySqlConnection,
        team_id: Uuid,
        leader: Uuid,
        target: Uuid,
    ) -> Result<Team, MoimError> {
        let team = Self::team_in(&mut *tx, team_id, true)
            .await?
            .ok_or(MoimError::TeamNotFound)?;
        Self::still_leader(&mut *tx, &team, leader).await?;
        if target == leader
            || Self::active_membership_in(&mut *tx, team_id, target)
                .await?
                .is_none()
        {
            return Err(MoimError::TeamMemberNotFound);
        }
        Ok(team)
    }

    pub async fn transfer(
        &self,
        team_id: Uuid,
        leader: Uuid,
        next: Uuid,
    ) -> Result<Team, MoimError> {
        moing_common::transaction!("moim.transfer", Result<Team, MoimError>, {
            let mut tx = self.pool.begin().await?;
            let team = Self::leader_acts_on(&mut tx, team_id, leader, next).await?;
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
}
