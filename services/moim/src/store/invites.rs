//! Invites: create (a unique random code), read, list, revoke, and joins
//! with a code under every cap, atomically.

use chrono::{DateTime, Utc};
use moing_common::db::is_unique_violation;
use moing_proto::moing::events::v1::{MemberJoined, event::Payload};
use sqlx::MySqlConnection;
use uuid::Uuid;

use super::{Store, invite};
use crate::{
    domain::{ACTIVE_TEAM_LIMIT, Invite, Team},
    error::MoimError,
};

impl Store {
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
            let (inv, team) = Self::usable_invite(&mut tx, code, member, now).await?;
            if active >= ACTIVE_TEAM_LIMIT {
                return Err(MoimError::TeamLimitReached);
            }
            let rejoined = Self::take_seat(&mut tx, &team, &inv, member, now).await?;
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
                        rejoined,
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(joined)
        })
    }

    /// The invite behind `code` (locked) and its team, when `member` may join
    /// with it: the code usable, the team visible and writable, the member
    /// neither removed since the code was made nor already in the team.
    async fn usable_invite(
        conn: &mut MySqlConnection,
        code: &str,
        member: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(Invite, Team), MoimError> {
        let row = sqlx::query("SELECT * FROM invite WHERE code = ? FOR UPDATE")
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?;
        let inv = row
            .as_ref()
            .map(invite)
            .transpose()?
            .ok_or(MoimError::InviteNotFound)?;
        let team = Self::team_in(conn, inv.team_id, false)
            .await?
            .filter(|t| t.visible(now))
            .ok_or(MoimError::InviteNotFound)?;
        inv.check_usable(now)?;
        if !team.writable(now) {
            return Err(MoimError::ReadOnly);
        }
        if Self::removed_after(conn, team.id, member, inv.created_at).await? {
            return Err(MoimError::InvitePredatesRemoval);
        }
        if Self::active_membership_in(conn, team.id, member)
            .await?
            .is_some()
        {
            return Err(MoimError::AlreadyMember);
        }
        Ok((inv, team))
    }

    /// Takes a seat (TEAM_FULL when none is left), counts the invite's use and
    /// adds the membership; returns whether the member had been in the team before.
    async fn take_seat(
        conn: &mut MySqlConnection,
        team: &Team,
        inv: &Invite,
        member: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, MoimError> {
        let seat = sqlx::query("UPDATE team SET member_count = member_count + 1 WHERE id = ? AND member_count < member_cap AND disbanded_at IS NULL")
            .bind(team.id)
            .execute(&mut *conn)
            .await?;
        if seat.rows_affected() == 0 {
            return Err(MoimError::TeamFull);
        }
        sqlx::query("UPDATE invite SET use_count = use_count + 1 WHERE id = ?")
            .bind(inv.id)
            .execute(&mut *conn)
            .await?;
        let rejoined: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM membership WHERE team_id = ? AND member_id = ? LIMIT 1",
        )
        .bind(team.id)
        .bind(member)
        .fetch_optional(&mut *conn)
        .await?;
        sqlx::query("INSERT INTO membership (team_id, member_id, joined_at, role, state) VALUES (?, ?, ?, 'MEMBER', 'ACTIVE')")
            .bind(team.id)
            .bind(member)
            .bind(now.naive_utc())
            .execute(&mut *conn)
            .await?;
        Ok(rejoined.is_some())
    }
}
