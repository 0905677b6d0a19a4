//! SQL of the auth service. Returns domain types; sqlx errors become `AuthError` here.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use moing_common::{db::is_unique_violation, outbox::Outbox};
use moing_proto::moing::events::v1::{
    MemberProfileUpdated, MemberSignedUp, MemberWithdrawn, event::Payload,
};
use sqlx::{MySqlConnection, MySqlPool, Row, mysql::MySqlRow};
use uuid::Uuid;

use crate::{
    domain::{Gender, Member, Provider, Status, WITHDRAWN_NICKNAME},
    error::AuthError,
    providers::Identity,
};

const COLUMNS: &str = "id, status, nickname, introduction, image_key, gender, birth_date, email, \
                       provider, created_at, signed_up_at";

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

fn member(row: &MySqlRow) -> Result<Member, AuthError> {
    let status: String = row.try_get("status")?;
    let provider: String = row.try_get("provider")?;
    let gender: Option<String> = row.try_get("gender")?;
    let created: NaiveDateTime = row.try_get("created_at")?;
    let signed_up: Option<NaiveDateTime> = row.try_get("signed_up_at")?;
    Ok(Member {
        id: row.try_get("id")?,
        status: Status::parse(&status)
            .ok_or_else(|| anyhow::anyhow!("unknown member status {status}"))?,
        nickname: row.try_get("nickname")?,
        introduction: row.try_get("introduction")?,
        image_key: row.try_get("image_key")?,
        gender: gender.as_deref().and_then(Gender::parse),
        birth_date: row.try_get::<Option<NaiveDate>, _>("birth_date")?,
        email: row.try_get("email")?,
        provider: Provider::parse(&provider)
            .ok_or_else(|| anyhow::anyhow!("unknown provider {provider}"))?,
        created_at: utc(created),
        signed_up_at: signed_up.map(utc),
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

    async fn by_id(conn: &mut MySqlConnection, id: Uuid) -> Result<Option<Member>, AuthError> {
        let sql = format!("SELECT {COLUMNS} FROM member WHERE id = ?");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        row.as_ref().map(member).transpose()
    }

    pub async fn get(&self, id: Uuid) -> Result<Option<Member>, AuthError> {
        let mut conn = self.pool.acquire().await?;
        Self::by_id(&mut conn, id).await
    }

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

    pub async fn batch_get(&self, ids: &[Uuid]) -> Result<Vec<Member>, AuthError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; ids.len()].join(",");
        let sql = format!("SELECT {COLUMNS} FROM member WHERE id IN ({placeholders})");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id);
        }
        q.fetch_all(&self.pool).await?.iter().map(member).collect()
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

    /// Emits an event that has no row change of its own (session revocations).
    pub async fn emit(&self, actor: Uuid, payload: Payload) -> Result<(), AuthError> {
        moing_common::transaction!("auth.emit", Result<(), AuthError>, {
            let mut tx = self.pool.begin().await?;
            self.outbox
                .enqueue(&mut tx, None, Some(actor), payload.clone())
                .await?;
            tx.commit().await?;
            self.outbox.wake();
            Ok(())

        })
    }
}
