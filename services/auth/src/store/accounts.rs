//! Accounts: first and later sign-ins (the member and its social identity),
//! sign-up, withdrawal.

use chrono::NaiveDate;
use moing_common::db::is_unique_violation;
use moing_proto::moing::events::v1::{MemberSignedUp, MemberWithdrawn, event::Payload};
use uuid::Uuid;

use super::Store;
use crate::{
    domain::{Gender, Member, Provider, Status, WITHDRAWN_NICKNAME},
    error::AuthError,
    providers::Identity,
};

impl Store {
    /// The member of a social identity, created `PENDING` on first sign-in.
    /// Returns the member and whether it was created now.
    pub async fn sign_in(
        &self,
        provider: Provider,
        identity: &Identity,
    ) -> Result<(Member, bool), AuthError> {
        moing_common::transaction!("auth.sign_in", Result<(Member, bool), AuthError>, {
            // Two first sign-ins racing: the loser's identity insert conflicts, and
            // the retry finds the winner's member.
            for _ in 0..3 {
                let mut tx = self.pool.begin().await?;
                let existing: Option<Uuid> = sqlx::query_scalar(
                    "SELECT member_id FROM social_identity WHERE provider = ? AND subject = ?",
                )
                .bind(provider.as_str())
                .bind(&identity.subject)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(id) = existing {
                    let m = Self::by_id(&mut tx, id)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("identity without member {id}"))?;
                    tx.commit().await?;
                    return Ok((m, false));
                }
                let id = Uuid::now_v7();
                let now = moing_common::clock::now().naive_utc();
                sqlx::query(
                    "INSERT INTO member (id, status, email, provider, created_at, updated_at) \
                     VALUES (?, 'PENDING', ?, ?, ?, ?)",
                )
                .bind(id)
                .bind(&identity.email)
                .bind(provider.as_str())
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let linked = sqlx::query(
                    "INSERT INTO social_identity (provider, subject, member_id, created_at) VALUES (?, ?, ?, ?)",
                )
                .bind(provider.as_str())
                .bind(&identity.subject)
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await;
                match linked {
                    Ok(_) => {
                        let m = Self::by_id(&mut tx, id)
                            .await?
                            .ok_or_else(|| anyhow::anyhow!("member {id} vanished"))?;
                        tx.commit().await?;
                        return Ok((m, true));
                    }
                    Err(e) if is_unique_violation(&e) => {
                        tx.rollback().await?;
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(AuthError::Internal(anyhow::anyhow!(
                "sign-in kept conflicting"
            )))

        })
    }

    /// Completes sign-up; the unique index decides concurrent races for a nickname.
    pub async fn sign_up(
        &self,
        id: Uuid,
        nickname: &str,
        gender: Option<Gender>,
        birth_date: Option<NaiveDate>,
    ) -> Result<Member, AuthError> {
        moing_common::transaction!("auth.sign_up", Result<Member, AuthError>, {
            let mut tx = self.pool.begin().await?;
            let now = moing_common::clock::now().naive_utc();
            let updated = sqlx::query(
                "UPDATE member SET status = 'ACTIVE', nickname = ?, gender = ?, birth_date = ?, \
                 signed_up_at = ?, updated_at = ? WHERE id = ? AND status = 'PENDING'",
            )
            .bind(nickname)
            .bind(gender.map(Gender::as_str))
            .bind(birth_date)
            .bind(now)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await;
            match updated {
                Err(e) if is_unique_violation(&e) => return Err(AuthError::NicknameTaken),
                Err(e) => return Err(e.into()),
                Ok(done) if done.rows_affected() == 0 => {
                    let m = Self::by_id(&mut tx, id).await?;
                    return Err(match m.map(|m| m.status) {
                        Some(Status::Active) => AuthError::AlreadySignedUp,
                        Some(Status::Withdrawn) => AuthError::MemberWithdrawn,
                        _ => AuthError::MemberNotFound,
                    });
                }
                Ok(_) => {}
            }
            self.outbox
                .enqueue(
                    &mut tx,
                    None,
                    Some(id),
                    Payload::MemberSignedUp(MemberSignedUp {
                        nickname: nickname.to_owned(),
                    }),
                )
                .await?;
            let m = Self::by_id(&mut tx, id)
                .await?
                .ok_or(AuthError::MemberNotFound)?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(m)

        })
    }

    /// Anonymises the member, forgets the social link (a later sign-in starts
    /// fresh), records the provider unlink attempt and emits `MemberWithdrawn`.
    pub async fn withdraw(
        &self,
        id: Uuid,
        provider: Provider,
        unlink: Result<(), String>,
    ) -> Result<(), AuthError> {
        moing_common::transaction!("auth.withdraw", Result<(), AuthError>, {
            let mut tx = self.pool.begin().await?;
            let now = moing_common::clock::now().naive_utc();
            sqlx::query(
                "UPDATE member SET status = 'WITHDRAWN', nickname = ?, introduction = '', image_key = '', \
                 email = NULL, gender = NULL, birth_date = NULL, withdrawn_at = ?, updated_at = ? \
                 WHERE id = ? AND status <> 'WITHDRAWN'",
            )
            .bind(WITHDRAWN_NICKNAME)
            .bind(now)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM social_identity WHERE member_id = ?")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let (succeeded, detail) = match unlink.clone() {
                Ok(()) => (true, "revoked".to_owned()),
                Err(e) => (false, e.chars().take(300).collect()),
            };
            sqlx::query(
                "INSERT INTO provider_unlink (id, member_id, provider, succeeded, detail, attempted_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(provider.as_str())
            .bind(succeeded)
            .bind(detail)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            self.outbox
                .enqueue(
                    &mut tx,
                    None,
                    Some(id),
                    Payload::MemberWithdrawn(MemberWithdrawn {
                        anonymised_nickname: WITHDRAWN_NICKNAME.to_owned(),
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(())

        })
    }
}
