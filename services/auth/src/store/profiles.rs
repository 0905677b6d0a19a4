//! Profiles: nickname availability and profile changes.

use moing_common::db::is_unique_violation;
use moing_proto::moing::events::v1::{MemberProfileUpdated, event::Payload};
use uuid::Uuid;

use super::Store;
use crate::{
    domain::{Member, Status},
    error::AuthError,
};

impl Store {
    pub async fn nickname_available(&self, nickname: &str) -> Result<bool, AuthError> {
        let taken: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM member WHERE active_nickname = ?")
                .bind(nickname)
                .fetch_optional(&self.pool)
                .await?;
        Ok(taken.is_none())
    }

    /// Applies the masked profile fields and emits `MemberProfileUpdated`.
    pub async fn update_profile(
        &self,
        id: Uuid,
        nickname: Option<&str>,
        introduction: Option<&str>,
        image_key: Option<&str>,
    ) -> Result<Member, AuthError> {
        moing_common::transaction!("auth.update_profile", Result<Member, AuthError>, {
            let mut tx = self.pool.begin().await?;
            let result = sqlx::query(
                "UPDATE member SET nickname = COALESCE(?, nickname), \
                 introduction = COALESCE(?, introduction), image_key = COALESCE(?, image_key), \
                 updated_at = ? WHERE id = ? AND status = 'ACTIVE'",
            )
            .bind(nickname)
            .bind(introduction)
            .bind(image_key)
            .bind(moing_common::clock::now().naive_utc())
            .bind(id)
            .execute(&mut *tx)
            .await;
            match result {
                Err(e) if is_unique_violation(&e) => return Err(AuthError::NicknameTaken),
                Err(e) => return Err(e.into()),
                Ok(_) => {}
            }
            let m = Self::by_id(&mut tx, id)
                .await?
                .ok_or(AuthError::MemberNotFound)?;
            if m.status != Status::Active {
                return Err(AuthError::MemberWithdrawn);
            }
            self.outbox
                .enqueue(
                    &mut tx,
                    None,
                    Some(id),
                    Payload::MemberProfileUpdated(MemberProfileUpdated {
                        nickname: m.nickname.clone().unwrap_or_default(),
                        image_key: m.image_key.clone(),
                    }),
                )
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(m)

        })
    }
}
